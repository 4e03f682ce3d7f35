/* Every kind of plot hessa draws, checked from the geometry the plotting style records
 * (HESSA_PLOT_GEOMETRY: NAME.geometry.json, page coordinates): every data point lies inside
 * its axes, no legend box (or colour bar) covers a data point, legends lie inside the page
 * (not clipped), and the drawn positions agree with the data:
 *   - the report of a point like the embedded default (lambda_max 13.5 and an outlier at 10
 *     at k = 1, where the old legend sat; the smallest eigenvalue 5e-5 next to 1e-4) and of a
 *     saddle with a full spectrum: density (two panels), eigenvalues (symmetric log: 5e-5
 *     and 1e-4 at least 2% of the page apart), spectrum_histogram (bar counts add up to n),
 *     escape (log alpha: equal spacing of 1e-3, 1e-2, 1e-1, 1), newton (a loss flat to 1e-9
 *     relative spans most of the axes height: a relative-change axis);
 *   - x-y plots with data in every corner, a log axis, three series with legend;
 *   - bars: heights proportional to the values (closed form, 1e-9);
 *   - a contour plot: every grid point drawn, the colour bar beside the axes;
 *   - integer axes (an index, a count, a step) labelled with whole numbers: the eigenvalue
 *     plot's k axis reads exactly 1, 2, 3 (it read 1.0, 1.5, 2.0, ...), the sorted full
 *     spectrum's position axis, x-y plots whose x values are whole (training steps), bar
 *     counts 0, 1, 2, 3; a fractional axis (the Newton line's t) keeps its decimals.
 * Silent on success; one rank draws (plots are written by rank 0).
 */
#include <hessa/report.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static cJSON *Numbers(const double *x, int n)
{
  return cJSON_CreateDoubleArray(x, n);
}

static cJSON *Pair(double value, double residual)
{
  cJSON *p = cJSON_CreateObject();
  cJSON_AddNumberToObject(p, "value", value);
  cJSON_AddNumberToObject(p, "residual", residual);
  cJSON_AddBoolToObject(p, "converged", 1);
  return p;
}

/* A report document with every plotted part: a strict minimum like the embedded default. */
static cJSON *Document(PetscBool saddle)
{
  cJSON *doc = cJSON_CreateObject(), *v, *res, *x, *a, *nodes, *weights;
  double grid[161], dens[161], alpha[4] = {1e-3, 1e-2, 1e-1, 1}, t[9], loss[9], full[50];

  cJSON_AddStringToObject(doc, "schema", "hessa-report");
  cJSON_AddNumberToObject(doc, "version", 1);
  v = cJSON_AddObjectToObject(doc, "verdict");
  cJSON_AddStringToObject(v, "type", saddle ? "saddle" : "local_minimum");
  res = cJSON_AddObjectToObject(doc, "results");
  x   = cJSON_AddObjectToObject(res, "extremes");
  a   = cJSON_AddArrayToObject(x, "largest");
  cJSON_AddItemToArray(a, Pair(13.5, 1e-9));
  cJSON_AddItemToArray(a, Pair(10.0, 1e-9));
  cJSON_AddItemToArray(a, Pair(2.25, 1e-9));
  a = cJSON_AddArrayToObject(x, "smallest");
  cJSON_AddItemToArray(a, Pair(saddle ? -1.5 : 5e-5, 1e-9));
  cJSON_AddItemToArray(a, Pair(1e-4, 1e-9));
  cJSON_AddItemToArray(a, Pair(3e-4, 1e-9));
  if (saddle) {
    for (int i = 0; i < 50; i++) full[i] = i == 0 ? -1.5 : i == 49 ? 13.5 : i == 48 ? 10.0 : 1e-4 * pow(1.2, i);
    x = cJSON_AddObjectToObject(res, "full_spectrum");
    cJSON_AddItemToObject(x, "values", Numbers(full, 50));
  } else {
    /* a bulk near 0 and two outliers, smoothed with sigma = 0.1 */
    x = cJSON_AddObjectToObject(res, "density");
    for (int i = 0; i < 161; i++) {
      grid[i] = -1 + 0.1 * i;
      dens[i] = 0.98 * exp(-grid[i] * grid[i] / 0.02) / sqrt(0.02 * M_PI) + 0.01 * (exp(-pow(grid[i] - 10, 2) / 0.02) + exp(-pow(grid[i] - 13.5, 2) / 0.02)) / sqrt(0.02 * M_PI);
    }
    cJSON_AddNumberToObject(x, "probes", 2);
    cJSON_AddNumberToObject(x, "steps", 4);
    cJSON_AddNumberToObject(x, "sigma", 0.1);
    cJSON_AddItemToObject(x, "grid", Numbers(grid, 161));
    cJSON_AddItemToObject(x, "density", Numbers(dens, 161));
    nodes   = cJSON_AddArrayToObject(x, "nodes");
    weights = cJSON_AddArrayToObject(x, "weights");
    for (int p = 0; p < 2; p++) {
      double u[4] = {5e-5, 0.02, 10.0, 13.5}, w[4] = {0.6, 0.38, 0.01, 0.01};
      cJSON_AddItemToArray(nodes, Numbers(u, 4));
      cJSON_AddItemToArray(weights, Numbers(w, 4));
    }
  }
  x = cJSON_AddObjectToObject(res, "escape");
  cJSON_AddNumberToObject(x, "lambda_min", saddle ? -1.5 : 5e-5);
  a = cJSON_AddArrayToObject(x, "probes");
  for (int i = 0; i < 4; i++) {
    cJSON *p   = cJSON_CreateObject();
    double lam = saddle ? -1.5 : 5e-5, d = lam * alpha[i] * alpha[i] / 2;
    cJSON_AddNumberToObject(p, "alpha", alpha[i]);
    cJSON_AddNumberToObject(p, "predicted_change", d);
    cJSON_AddNumberToObject(p, "change_plus", d * 1.01);
    cJSON_AddNumberToObject(p, "change_minus", d * 0.99);
    cJSON_AddItemToArray(a, p);
  }
  /* the loss along the Newton line varies by 1e-9 of its value: below what %.6g shows */
  x = cJSON_AddObjectToObject(res, "newton");
  a = cJSON_AddArrayToObject(x, "line");
  for (int i = 0; i < 9; i++) {
    cJSON *p = cJSON_CreateObject();
    t[i]     = -0.5 + 0.25 * i;
    loss[i]  = 0.1051 * (1 + 1e-9 * (t[i] - 1) * (t[i] - 1));
    cJSON_AddNumberToObject(p, "t", t[i]);
    cJSON_AddNumberToObject(p, "loss", loss[i]);
    cJSON_AddItemToArray(a, p);
  }
  return doc;
}

typedef struct {
  double    axes[4], legend[4][4], *pts;
  int       n_pts, n_legend;
  char      tick[2][40][32]; /* tick labels of the x (0) and y (1) axis */
  int       n_tick[2];
  PetscBool integer[2];
} Panel;

/* Reads folder/name.geometry.json; checks the rules every plot must follow. */
static PetscErrorCode Geometry(const char folder[], const char name[], int *n_panels, Panel panel[2])
{
  char   path[PETSC_MAX_PATH_LEN], *text;
  FILE  *f;
  long   size;
  cJSON *doc, *p;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/%s.geometry.json", folder, name);
  f = fopen(path, "rb");
  CHECK(f, "%s: not written (HESSA_PLOT_GEOMETRY set)", path);
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  text = calloc((size_t)size + 1, 1);
  CHECK(text && fread(text, 1, (size_t)size, f) == (size_t)size, "%s: cannot read", path);
  fclose(f);
  doc = cJSON_Parse(text);
  free(text);
  CHECK(doc, "%s: not JSON", path);
  *n_panels = 0;
  cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "panels"))
  {
    Panel *P = &panel[*n_panels];
    cJSON *q;
    int    k = 0;
    CHECK(*n_panels < 2, "%s: more than two panels", path);
    memset(P, 0, sizeof *P);
    cJSON_ArrayForEach(q, cJSON_GetObjectItem(p, "axes")) P->axes[k++] = q->valuedouble;
    P->n_pts                                                           = cJSON_GetArraySize(cJSON_GetObjectItem(p, "points"));
    P->pts                                                             = malloc(2 * (size_t)(P->n_pts + 1) * sizeof(double));
    k                                                                  = 0;
    cJSON_ArrayForEach(q, cJSON_GetObjectItem(p, "points"))
    {
      P->pts[2 * k]     = cJSON_GetArrayItem(q, 0)->valuedouble;
      P->pts[2 * k + 1] = cJSON_GetArrayItem(q, 1)->valuedouble;
      k++;
    }
    cJSON_ArrayForEach(q, cJSON_GetObjectItem(p, "legends"))
    {
      for (int c = 0; c < 4 && P->n_legend < 4; c++) P->legend[P->n_legend][c] = cJSON_GetArrayItem(q, c)->valuedouble;
      P->n_legend++;
    }
    for (int a = 0; a < 2; a++) {
      P->integer[a] = cJSON_IsTrue(cJSON_GetObjectItem(p, a ? "y_integer" : "x_integer")) ? PETSC_TRUE : PETSC_FALSE;
      cJSON_ArrayForEach(q, cJSON_GetObjectItem(p, a ? "y_ticks" : "x_ticks"))
      {
        CHECK(cJSON_IsString(q) && P->n_tick[a] < 40, "%s: %s tick labels: not strings, or more than 40", path, a ? "y" : "x");
        snprintf(P->tick[a][P->n_tick[a]++], sizeof P->tick[0][0], "%s", q->valuestring);
      }
    }
    (*n_panels)++;
  }
  cJSON_Delete(doc);
  CHECK(*n_panels >= 1, "%s: no panel", path);
  for (int a = 0; a < *n_panels; a++) {
    const Panel *P = &panel[a];
    CHECK(0 <= P->axes[0] && P->axes[0] < P->axes[1] && P->axes[1] <= 1 && 0 <= P->axes[2] && P->axes[2] < P->axes[3] && P->axes[3] <= 1, "%s: panel %d axes not inside the page", path, a);
    for (int i = 0; i < P->n_pts; i++) {
      double x = P->pts[2 * i], y = P->pts[2 * i + 1];
      CHECK(x >= P->axes[0] - 1e-9 && x <= P->axes[1] + 1e-9 && y >= P->axes[2] - 1e-9 && y <= P->axes[3] + 1e-9, "%s: panel %d point %d (%g, %g) outside the axes [%g, %g] x [%g, %g]", path, a, i, x, y, P->axes[0], P->axes[1], P->axes[2],
            P->axes[3]);
      for (int b = 0; b < *n_panels; b++)
        for (int l = 0; l < panel[b].n_legend; l++) {
          const double *L = panel[b].legend[l];
          CHECK(!(L[0] < x && x < L[1] && L[2] < y && y < L[3]), "%s: the legend box [%g, %g] x [%g, %g] covers data point (%g, %g)", path, L[0], L[1], L[2], L[3], x, y);
        }
    }
    for (int l = 0; l < P->n_legend; l++) {
      const double *L = P->legend[l];
      CHECK(0 <= L[0] && L[0] < L[1] && L[1] <= 1 && 0 <= L[2] && L[2] < L[3] && L[3] <= 1, "%s: legend box [%g, %g] x [%g, %g] not inside the page (clipped)", path, L[0], L[1], L[2], L[3]);
    }
  }
  PetscFunctionReturn(0);
}

/* The tick labels of axis `which` (0: x, 1: y) of panel P joined by spaces. */
static const char *TickText(const Panel *P, int which)
{
  static char text[1400];
  text[0] = 0;
  for (int k = 0; k < P->n_tick[which]; k++) snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", k ? " " : "", P->tick[which][k]);
  return text;
}

/* An integer axis whose labels read exactly `want` (space-separated), or, with want NULL,
 * are all whole numbers. */
static PetscErrorCode IntegerAxis(const char name[], const Panel *P, int which, const char want[])
{
  PetscFunctionBegin;
  CHECK(P->integer[which], "%s: the %s axis is not an integer axis", name, which ? "y" : "x");
  CHECK(P->n_tick[which] > 0, "%s: no %s tick label", name, which ? "y" : "x");
  if (want) CHECK(!strcmp(TickText(P, which), want), "%s: %s tick labels '%s', expected '%s'", name, which ? "y" : "x", TickText(P, which), want);
  for (int k = 0; k < P->n_tick[which]; k++) {
    const char *t = P->tick[which][k] + (P->tick[which][k][0] == '-');
    CHECK(t[0] && strspn(t, "0123456789") == strlen(t), "%s: %s tick label '%s' is not a whole number (all: '%s')", name, which ? "y" : "x", P->tick[which][k], TickText(P, which));
  }
  PetscFunctionReturn(0);
}

static void FreePanels(int n, Panel p[])
{
  for (int i = 0; i < n; i++) free(p[i].pts);
}

static PetscErrorCode Run(void)
{
  const char  *folder = "plots_check";
  Panel        p[2];
  int          np;
  HessaStatus  st = {0};
  char         note[256];
  PetscMPIInt  rank;
  cJSON       *doc;
  const double x[4] = {0, 1, 2, 3}, y[4] = {1, 3, 2, 4}, y2[4] = {4, 0.5, 3, 1}, ylog[4] = {1e-6, 1e-3, 1, 1e3};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  setenv("HESSA_PLOT_GEOMETRY", "1", 1);
  doc = rank == 0 ? Document(PETSC_FALSE) : NULL;
  PetscCall(HessaReportWrite(PETSC_COMM_WORLD, doc, "plots_check_minimum"));
  cJSON_Delete(doc);
  doc = rank == 0 ? Document(PETSC_TRUE) : NULL;
  PetscCall(HessaReportWrite(PETSC_COMM_WORLD, doc, "plots_check_saddle"));
  cJSON_Delete(doc);
  if (rank == 0) {
    mkdir(folder, 0755);
    /* density: the smoothed density and the Ritz panel (8 nodes) */
    PetscCall(Geometry("plots_check_minimum", "density", &np, p));
    CHECK(np == 2 && p[0].n_pts == 161 && p[1].n_pts == 8, "density: %d panels, %d and %d points, expected 2, 161 and 8", np, p[0].n_pts, np > 1 ? p[1].n_pts : -1);
    FreePanels(np, p);
    /* eigenvalues on a symmetric-log axis: 5e-5 and 1e-4 apart, 13.5 above 10 */
    PetscCall(Geometry("plots_check_minimum", "eigenvalues", &np, p));
    CHECK(np == 1 && p[0].n_pts == 6 && p[0].n_legend == 1, "eigenvalues: %d points, %d legends, expected 6 and 1", p[0].n_pts, p[0].n_legend);
    /* points: smallest 5e-5, 1e-4, 3e-4 at k = 1, 2, 3, then largest 13.5, 10, 2.25 */
    CHECK(p[0].pts[3] - p[0].pts[1] > 0.02 && p[0].pts[5] - p[0].pts[3] > 0.02, "eigenvalues: 5e-5, 1e-4, 3e-4 drawn at %g, %g, %g: not resolved", p[0].pts[1], p[0].pts[3], p[0].pts[5]);
    {
      /* symmetric log with c = 5e-5 (the smallest |lambda|): drawn distances follow log10(1 + v/c) */
      double T[3] = {log10(1 + 13.5 / 5e-5), log10(1 + 10 / 5e-5), log10(1 + 2.25 / 5e-5)}, r = (p[0].pts[7] - p[0].pts[9]) / (p[0].pts[9] - p[0].pts[11]);
      CHECK(fabs(r - (T[0] - T[1]) / (T[1] - T[2])) < 1e-6, "eigenvalues: drawn distance ratio %g, the symmetric log gives %g", r, (T[0] - T[1]) / (T[1] - T[2]));
    }
    /* k = 1, 2, 3: an index axis labelled with the indices, no decimals */
    PetscCall(IntegerAxis("eigenvalues", &p[0], 0, "1 2 3"));
    FreePanels(np, p);
    /* escape: log alpha, so the four probes are equally spaced in x */
    PetscCall(Geometry("plots_check_minimum", "escape", &np, p));
    CHECK(p[0].n_pts == 12, "escape: %d points, expected 12", p[0].n_pts);
    for (int i = 1; i < 3; i++) {
      double d0 = p[0].pts[2] - p[0].pts[0], di = p[0].pts[2 * i + 2] - p[0].pts[2 * i];
      CHECK(fabs(di - d0) < 1e-9 && d0 > 0.1, "escape: alpha 1e-3, 1e-2, 1e-1, 1 not equally spaced on the log axis (%g vs %g)", di, d0);
    }
    FreePanels(np, p);
    /* newton: a 1e-9 relative variation spans most of the axes height */
    PetscCall(Geometry("plots_check_minimum", "newton", &np, p));
    {
      double lo = 1, hi = 0;
      for (int i = 0; i < p[0].n_pts; i++) lo = PetscMin(lo, p[0].pts[2 * i + 1]), hi = PetscMax(hi, p[0].pts[2 * i + 1]);
      CHECK(hi - lo > 0.6 * (p[0].axes[3] - p[0].axes[2]), "newton: a loss varying by 1e-9 relative spans %g of the axes height, expected most of it", (hi - lo) / (p[0].axes[3] - p[0].axes[2]));
    }
    /* t from -0.5 to 1.5 in quarters: not an integer axis, its labels keep their decimals */
    CHECK(!p[0].integer[0] && strstr(TickText(&p[0], 0), "0.5"), "newton: t axis %s labelled '%s', expected a fractional axis with 0.5", p[0].integer[0] ? "an integer axis" : "", TickText(&p[0], 0));
    FreePanels(np, p);
    /* saddle: eigenvalues with the full spectrum, and its histogram (bars add up to n = 50) */
    PetscCall(Geometry("plots_check_saddle", "eigenvalues", &np, p));
    CHECK(p[0].n_pts == 56, "saddle eigenvalues: %d points, expected 50 + 6", p[0].n_pts);
    PetscCall(IntegerAxis("saddle eigenvalues", &p[0], 0, NULL)); /* positions 1..50 */
    FreePanels(np, p);
    PetscCall(Geometry("plots_check_saddle", "spectrum_histogram", &np, p));
    /* each bar records its two top corners and the middle of its base; every bar drawn holds at least one eigenvalue */
    CHECK(p[0].n_pts % 3 == 0 && p[0].n_pts >= 9, "spectrum_histogram: %d points, expected 3 per bar", p[0].n_pts);
    for (int b = 0; b < p[0].n_pts / 3; b++) CHECK(p[0].pts[6 * b + 1] > p[0].pts[6 * b + 5], "spectrum_histogram: bar %d has no height", b);
    FreePanels(np, p);
    PetscCall(Geometry("plots_check_saddle", "escape", &np, p));
    FreePanels(np, p);

    /* x-y: data in every corner (the top right too, where a legend used to go), three series */
    {
      HessaPlotSeries s[3] = {
          {x, y, 4, "rising series with a long legend entry", PETSC_TRUE, PETSC_TRUE},
          {x, y2, 4, "falling", PETSC_TRUE, PETSC_FALSE},
          {x, y, 4, NULL, PETSC_FALSE, PETSC_TRUE},
      };
      HessaPlotColor color[3] = {HESSA_PLOT_COLOR_GREEN, HESSA_PLOT_COLOR_RED, HESSA_PLOT_COLOR_AUTO};
      HessaPlotXY(folder, "xy", "corners", "x", "y", PETSC_FALSE, 3, s, note, sizeof note, &st);
      CHECK(!st.code && !note[0], "xy: %s %s", st.msg, note);
      PetscCall(Geometry(folder, "xy", &np, p));
      CHECK(p[0].n_pts == 12 && p[0].n_legend == 1, "xy: %d points, %d legends", p[0].n_pts, p[0].n_legend);
      PetscCall(IntegerAxis("xy", &p[0], 0, "0 1 2 3")); /* x = 0, 1, 2, 3: steps */
      FreePanels(np, p);
      s[0].y = ylog;
      HessaPlotXYScaled(folder, "xy_log", "log y", "x", "y", HESSA_PLOT_AXIS_LINEAR, HESSA_PLOT_AXIS_LOG, 1, s, color, note, sizeof note, &st);
      CHECK(!st.code && !note[0], "xy_log: %s %s", st.msg, note);
      PetscCall(Geometry(folder, "xy_log", &np, p));
      /* 1e-6, 1e-3, 1, 1e3: equal steps on the log axis */
      CHECK(fabs((p[0].pts[3] - p[0].pts[1]) - (p[0].pts[7] - p[0].pts[5])) < 1e-9, "xy_log: decades not equally spaced");
      FreePanels(np, p);
    }
    /* bars: heights proportional to the values */
    {
      const char *const names[6] = {"local_minimum", "local_maximum", "saddle", "degenerate", "not_critical", "failed"};
      const double      v[6]     = {3, 0, 1, 2, 0, 2};
      HessaPlotColor    c[6];
      for (int k = 0; k < 6; k++) c[k] = HessaPlotVerdictColor(names[k]);
      HessaPlotBars(folder, "bars", "Verdicts", "points", 6, names, v, c, note, sizeof note, &st);
      CHECK(!st.code && !note[0], "bars: %s %s", st.msg, note);
      PetscCall(Geometry(folder, "bars", &np, p));
      CHECK(p[0].n_pts == 18, "bars: %d points, expected 3 per bar", p[0].n_pts);
      for (int b = 0; b < 6; b++) {
        double h = p[0].pts[6 * b + 1] - p[0].pts[6 * b + 5], h0 = p[0].pts[1] - p[0].pts[5];
        CHECK(fabs(h / h0 - v[b] / v[0]) < 1e-9, "bars: bar %d height ratio %g, expected %g", b, h / h0, v[b] / v[0]);
      }
      PetscCall(IntegerAxis("bars", &p[0], 1, "0 1 2 3")); /* counts of points */
      FreePanels(np, p);
    }
    /* contour: a quadratic basin, every grid point drawn, the colour bar beside the axes */
    {
      double gx[11], z[121];
      for (int i = 0; i < 11; i++) gx[i] = -1 + 0.2 * i;
      for (int i = 0; i < 11; i++)
        for (int j = 0; j < 11; j++) z[i * 11 + j] = 0.5 + gx[i] * gx[i] + 3 * gx[j] * gx[j];
      HessaPlotContour(folder, "contour", "basin", "a", "b", "loss", 11, 11, gx, gx, z, PETSC_TRUE, note, sizeof note, &st);
      CHECK(!st.code && !note[0], "contour: %s %s", st.msg, note);
      PetscCall(Geometry(folder, "contour", &np, p));
      CHECK(p[0].n_pts == 121 && p[0].n_legend == 1 && p[0].legend[0][0] > p[0].axes[1], "contour: %d points, %d colour bars", p[0].n_pts, p[0].n_legend);
      FreePanels(np, p);
    }
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
