/* Plots of the report, drawn by hessa's plotting style (plot_style.c) into PNG and SVG:
 *
 *   density            eigenvalue density from SLQ on a log scale (linear with
 *                      -hessa_report_density_log false), the smoothing width in the title, and
 *                      a second panel with every probe's Ritz values and weights, which
 *                      resolves the outliers the smoothing blurs
 *   eigenvalues        extreme eigenvalues (open "x" when not converged) and the sorted full
 *                      spectrum when present, on a symmetric-log axis
 *   spectrum_histogram the full spectrum's histogram (when it is known): bins equally wide on
 *                      a symmetric-log axis, counts on a log axis
 *   escape             true loss change at +alpha and -alpha along the escape direction
 *                      against the quadratic prediction, log alpha axis, symmetric-log changes
 *   newton             loss along the Newton line theta + t d
 *
 * Data are validated first (present, finite, at least one point); what cannot be drawn is
 * reported in plots->plot[].note.
 */
#include "plot_style.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void Plot(const HessaPlotFigure *fig, const char folder[], const char name[], HessaPlots *plots, const char skip_reason[], HessaStatus *st)
{
  HessaPlotRender(fig, folder, name, skip_reason, &plots->plot[plots->count++], st);
}

static HessaPlotLine Line(const double *x, const double *y, int n, HessaPlotColor color, const char *symbol, int line, const char *label)
{
  HessaPlotLine L = {x, y, n, color, symbol, line, 0.0, label};
  return L;
}

/* Collects key from each object of array a into a new buffer; false if any is missing or not finite. */
static PetscBool Column(const cJSON *a, const char key[], double **x, int *n)
{
  const cJSON *item;
  int          count = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;

  *x = NULL;
  *n = 0;
  if (count == 0) return PETSC_FALSE;
  *x = malloc((size_t)count * sizeof(double));
  if (!*x) return PETSC_FALSE;
  cJSON_ArrayForEach(item, a)
  {
    double v;
    if (!HessaJNumber(item, key, &v) || !isfinite(v)) {
      free(*x);
      *x = NULL;
      return PETSC_FALSE;
    }
    (*x)[(*n)++] = v;
  }
  return PETSC_TRUE;
}

/* Density (top panel) and the SLQ nodes and weights of every probe (bottom panel). */
static void PlotDensity(const cJSON *density, const char folder[], HessaPlots *plots, HessaStatus *st)
{
  HessaPlotFigure fig = {0};
  HessaPlotPanel *top = &fig.panel[0], *bottom = &fig.panel[1];
  double         *x = NULL, *y = NULL, *nodes = NULL, *weights = NULL, sigma = NAN, probes = 0, steps = 0, peak = 0;
  int             nx = 0, ny = 0, n_nodes = 0;
  const char     *skip = NULL;
  char            title[200];
  const cJSON    *np = HessaJArray(density, "nodes"), *wp = HessaJArray(density, "weights");

  if (!HessaJNumbers(HessaJArray(density, "grid"), &x, &nx) || !HessaJNumbers(HessaJArray(density, "density"), &y, &ny) || nx < 2 || nx != ny)
    skip = "density plot skipped: grid and density must be lists of the same length, at least two finite numbers";
  for (int i = 0; !skip && i < ny; i++) peak = PetscMax(peak, y[i]);
  if (!skip && plots->density_log && !(peak > 0)) skip = "density plot skipped: no positive density value for a log scale";
  /* the floor keeps empty stretches of the grid (density 0) on the log plot */
  for (int i = 0; !skip && plots->density_log && i < ny; i++) y[i] = PetscMax(y[i], 1e-6 * peak);
  HessaJNumber(density, "sigma", &sigma);
  HessaJNumber(density, "probes", &probes);
  HessaJNumber(density, "steps", &steps);
  /* the Ritz values and weights of all probes: nodes[p][k] with weights[p][k] */
  if (!skip && cJSON_IsArray(np) && cJSON_IsArray(wp) && cJSON_GetArraySize(np) == cJSON_GetArraySize(wp)) {
    const cJSON *a, *b = wp->child;
    int          total = 0;
    cJSON_ArrayForEach(a, np) total += cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
    nodes   = malloc(2 * (size_t)PetscMax(total, 1) * sizeof(double));
    weights = nodes ? nodes + PetscMax(total, 1) : NULL;
    cJSON_ArrayForEach(a, np)
    {
      double *u = NULL, *w = NULL;
      int     nu = 0, nw = 0;
      if (nodes && HessaJNumbers(a, &u, &nu) && HessaJNumbers(b, &w, &nw) && nu == nw)
        for (int k = 0; k < nu; k++)
          if (w[k] > 0) nodes[n_nodes] = u[k], weights[n_nodes++] = w[k];
      free(u);
      free(w);
      b = b ? b->next : NULL;
    }
  }
  snprintf(title, sizeof title, "Eigenvalue density (SLQ: %.0f probes \u00D7 %.0f steps; Gaussian smoothing width #gs = %.3g%s)", probes, steps, sigma, plots->density_log ? "; floor 1e-6 of the peak" : "");
  top->title = title;
  HessaPlotAxisInit(&top->x, "eigenvalue #gl");
  HessaPlotAxisInit(&top->y, plots->density_log ? "density (log)" : "density");
  top->x.zero  = PETSC_TRUE;
  top->y.scale = plots->density_log ? HESSA_PLOT_AXIS_LOG : HESSA_PLOT_AXIS_LINEAR;
  fig.n_panels = 1;
  if (!skip) top->line[top->n_lines++] = Line(x, y, nx, HESSA_PLOT_COLOR_BLUE, NULL, 1, NULL);
  if (!skip && n_nodes) {
    fig.n_panels  = 2;
    bottom->title = "Ritz values of every probe with their weights (unsmoothed: each outlier is a separate point)";
    HessaPlotAxisInit(&bottom->x, "Ritz value #gl");
    HessaPlotAxisInit(&bottom->y, "weight");
    bottom->x.zero                  = PETSC_TRUE;
    bottom->y.scale                 = HESSA_PLOT_AXIS_LOG;
    bottom->line[bottom->n_lines++] = Line(nodes, weights, n_nodes, HESSA_PLOT_COLOR_RED, HESSA_MARK_CIRCLE, 0, NULL);
  }
  Plot(&fig, folder, "density", plots, skip, st);
  free(x);
  free(y);
  free(nodes);
}

/* One end of the spectrum split by convergence, placed at positions in the sorted spectrum. */
static PetscBool ExtremeSeries(const cJSON *pairs, PetscBool largest, int n, double *xc, double *yc, int *nc, double *xu, double *yu, int *nu)
{
  const cJSON *pair;
  int          k = 0;

  *nc = *nu = 0;
  cJSON_ArrayForEach(pair, pairs)
  {
    double    value;
    PetscBool converged = PETSC_FALSE;
    if (!HessaJNumber(pair, "value", &value) || !isfinite(value)) return PETSC_FALSE;
    HessaJBool(pair, "converged", &converged);
    k++;
    double position = n > 0 ? (largest ? n - k + 1 : k) : k;
    if (converged)
      xc[*nc] = position, yc[(*nc)++] = value;
    else
      xu[*nu] = position, yu[(*nu)++] = value;
  }
  return PETSC_TRUE;
}

static void PlotEigenvalues(const cJSON *results, const char folder[], HessaPlots *plots, HessaStatus *st)
{
  const cJSON    *extremes = HessaJObject(results, "extremes"), *full = HessaJObject(results, "full_spectrum");
  const cJSON    *largest = HessaJArray(extremes, "largest"), *smallest = HessaJArray(extremes, "smallest");
  int             n_large = largest ? cJSON_GetArraySize(largest) : 0, n_small = smallest ? cJSON_GetArraySize(smallest) : 0, n_full = 0, m;
  double         *full_y = NULL, *full_x = NULL, *buf;
  HessaPlotFigure fig   = {0};
  HessaPlotPanel *p     = &fig.panel[0];
  const char     *skip  = NULL;
  int             nc[2] = {0, 0}, nu[2] = {0, 0};

  fig.n_panels = 1;
  m            = PetscMax(n_large, n_small);
  buf          = calloc((size_t)(8 * m + 1), sizeof(double));
  if (!buf) {
    HessaStatusSet(st, PETSC_ERR_MEM, "eigenvalue plot: out of memory");
    return;
  }
  if (full && (!HessaJNumbers(HessaJArray(full, "values"), &full_y, &n_full) || n_full == 0)) skip = "eigenvalue plot skipped: results.full_spectrum.values must be a non-empty list of finite numbers";
  if (full_y) {
    full_x = malloc((size_t)n_full * sizeof(double));
    if (!full_x) skip = "eigenvalue plot skipped: out of memory";
    for (int i = 0; full_x && i < n_full; i++) full_x[i] = i + 1;
    p->line[p->n_lines++] = Line(full_x, full_y, full_x ? n_full : 0, HESSA_PLOT_COLOR_GREY, NULL, 1, "full spectrum (sorted)");
  }
  if (!ExtremeSeries(smallest, PETSC_FALSE, n_full, buf, buf + m, &nc[0], buf + 2 * m, buf + 3 * m, &nu[0]) || !ExtremeSeries(largest, PETSC_TRUE, n_full, buf + 4 * m, buf + 5 * m, &nc[1], buf + 6 * m, buf + 7 * m, &nu[1]))
    skip = "eigenvalue plot skipped: an extreme eigenvalue is missing or not finite";
  if (!skip && n_full == 0 && n_large + n_small == 0) skip = "eigenvalue plot skipped: no eigenvalues";
  if (nc[0]) p->line[p->n_lines++] = Line(buf, buf + m, nc[0], HESSA_PLOT_COLOR_BLUE, HESSA_MARK_CIRCLE, 0, "smallest (converged)");
  if (nu[0]) p->line[p->n_lines++] = Line(buf + 2 * m, buf + 3 * m, nu[0], HESSA_PLOT_COLOR_BLUE, HESSA_MARK_CROSS, 0, "smallest (NOT converged)");
  if (nc[1]) p->line[p->n_lines++] = Line(buf + 4 * m, buf + 5 * m, nc[1], HESSA_PLOT_COLOR_RED, HESSA_MARK_CIRCLE, 0, "largest (converged)");
  if (nu[1]) p->line[p->n_lines++] = Line(buf + 6 * m, buf + 7 * m, nu[1], HESSA_PLOT_COLOR_RED, HESSA_MARK_CROSS, 0, "largest (NOT converged)");
  p->title = n_full ? "Eigenvalues: the whole spectrum and the extremes" : "Extreme eigenvalues";
  HessaPlotAxisInit(&p->x, n_full ? "position in the sorted spectrum" : "k (k-th smallest / k-th largest)");
  HessaPlotAxisInit(&p->y, "eigenvalue #gl");
  p->x.integer = PETSC_TRUE; /* an index: 1, 2, 3 */
  /* both ends and the bulk near zero are readable at once */
  p->y.scale = HESSA_PLOT_AXIS_SYMLOG;
  p->y.zero  = PETSC_TRUE;
  Plot(&fig, folder, "eigenvalues", plots, skip, st);
  free(buf);
  free(full_x);
  free(full_y);
}

/* The histogram of the full spectrum: bins of equal width in the symmetric-log coordinate,
 * so the bulk near zero and the outliers each get their own bins. */
static void PlotSpectrumHistogram(const cJSON *full, const char folder[], HessaPlots *plots, HessaStatus *st)
{
#define N_BINS 40
  HessaPlotFigure fig = {0};
  HessaPlotPanel *p   = &fig.panel[0];
  double         *v = NULL, c, tlo = INFINITY, thi = -INFINITY, width, centre[N_BINS], count[N_BINS] = {0};
  int             n = 0, used = 0;
  const char     *skip = NULL;
  char            title[160];

  fig.n_panels = 1;
  if (!HessaJNumbers(HessaJArray(full, "values"), &v, &n) || n == 0) skip = "spectrum_histogram plot skipped: results.full_spectrum.values must be a non-empty list of finite numbers";
  c = skip ? 1.0 : HessaPlotSymlogThreshold(n, v);
  for (int i = 0; i < n; i++) {
    double t = HessaPlotSymlog(v[i], c);
    tlo = PetscMin(tlo, t), thi = PetscMax(thi, t);
  }
  if (!(thi > tlo)) tlo -= 0.5, thi += 0.5;
  width = (thi - tlo) / N_BINS;
  for (int i = 0; i < n; i++) count[PetscMin(N_BINS - 1, (int)((HessaPlotSymlog(v[i], c) - tlo) / width))]++;
  /* empty bins are not drawn (log counts) */
  for (int b = 0; b < N_BINS; b++)
    if (count[b] > 0) centre[used] = HessaPlotSymlogInverse(tlo + (b + 0.5) * width, c), count[used++] = count[b];
  snprintf(title, sizeof title, "Histogram of the whole spectrum (n = %d, %d bins equally wide on the symmetric-log axis)", n, N_BINS);
  p->title = title;
  HessaPlotAxisInit(&p->x, "eigenvalue #gl");
  HessaPlotAxisInit(&p->y, "eigenvalues per bin");
  p->x.scale     = HESSA_PLOT_AXIS_SYMLOG;
  p->x.linthresh = c;
  p->x.zero      = PETSC_TRUE;
  p->y.scale     = HESSA_PLOT_AXIS_LOG;
  if (!skip) {
    p->line[p->n_lines]             = Line(centre, count, used, HESSA_PLOT_COLOR_BLUE, NULL, 0, NULL);
    p->line[p->n_lines++].bar_width = 0.92 * width;
  }
  Plot(&fig, folder, "spectrum_histogram", plots, skip, st);
  free(v);
#undef N_BINS
}

static void PlotEscape(const cJSON *escape, const char folder[], HessaPlots *plots, HessaStatus *st)
{
  const cJSON    *probes = HessaJArray(escape, "probes");
  double         *alpha = NULL, *predicted = NULL, *plus = NULL, *minus = NULL, *predicted_minus = NULL, lambda = NAN;
  int             n[4], n_minus = 0;
  HessaPlotFigure fig  = {0};
  HessaPlotPanel *p    = &fig.panel[0];
  const char     *skip = NULL;
  char            title[128];

  fig.n_panels = 1;
  if (!Column(probes, "alpha", &alpha, &n[0]) || !Column(probes, "predicted_change", &predicted, &n[1]) || !Column(probes, "change_plus", &plus, &n[2]) || !Column(probes, "change_minus", &minus, &n[3]))
    skip = "escape plot skipped: results.escape.probes must be a non-empty list with finite alpha, predicted_change, change_plus and change_minus";
  for (int i = 0; !skip && i < n[0]; i++)
    if (!(alpha[i] > 0)) skip = "escape plot skipped: results.escape.probes[].alpha must be positive (a log axis)";
  HessaJNumber(escape, "lambda_min", &lambda);
  snprintf(title, sizeof title, "Escape along the lowest eigenvector (#gl#dmin#u = %.4g)", lambda);
  p->title = title;
  HessaPlotAxisInit(&p->x, "step #ga along the eigenvector (log scale)");
  HessaPlotAxisInit(&p->y, "loss change");
  /* alpha spans decades and the change grows as alpha^2: log alpha, symmetric-log change */
  p->x.scale = HESSA_PLOT_AXIS_LOG;
  p->y.scale = HESSA_PLOT_AXIS_SYMLOG;
  p->y.zero  = PETSC_TRUE;
  if (!skip) {
    p->line[p->n_lines++] = Line(alpha, predicted, n[0], HESSA_PLOT_COLOR_BLACK, NULL, 2, "predicted (#gl#ga#u2#d/2 + g#u#fiT#fn#dv #ga)");
    p->line[p->n_lines++] = Line(alpha, plus, n[0], HESSA_PLOT_COLOR_BLUE, HESSA_MARK_CIRCLE, 1, "true, step +#ga");
    p->line[p->n_lines++] = Line(alpha, minus, n[0], HESSA_PLOT_COLOR_ORANGE, HESSA_MARK_CROSS, 1, "true, step -#ga");
    /* away from a critical point the model differs by 2 (g.v) alpha between the signs */
    if (Column(probes, "predicted_change_minus", &predicted_minus, &n_minus) && n_minus == n[0]) {
      PetscBool differs = PETSC_FALSE;
      for (int i = 0; i < n_minus; i++)
        if (predicted_minus[i] != predicted[i]) differs = PETSC_TRUE;
      if (differs) p->line[p->n_lines++] = Line(alpha, predicted_minus, n[0], HESSA_PLOT_COLOR_GREY, NULL, 2, "predicted, step -#ga");
    }
  }
  Plot(&fig, folder, "escape", plots, skip, st);
  free(alpha);
  free(predicted);
  free(predicted_minus);
  free(plus);
  free(minus);
}

static void PlotNewton(const cJSON *newton, const char folder[], HessaPlots *plots, HessaStatus *st)
{
  const cJSON    *line = HessaJArray(newton, "line");
  double         *t = NULL, *loss = NULL;
  int             nt = 0, nl = 0;
  HessaPlotFigure fig  = {0};
  HessaPlotPanel *p    = &fig.panel[0];
  const char     *skip = NULL;

  fig.n_panels = 1;
  if (!Column(line, "t", &t, &nt) || !Column(line, "loss", &loss, &nl) || nt < 2) skip = "Newton plot skipped: results.newton.line must hold at least two points with finite t and loss";
  p->title = "Loss along the Newton direction (#fit#fn = 1: the full Newton step)";
  HessaPlotAxisInit(&p->x, "#fit#fn (loss at #gh + t d)");
  HessaPlotAxisInit(&p->y, "loss");
  p->x.mark = 1.0;
  p->x.zero = PETSC_TRUE;
  if (!skip) p->line[p->n_lines++] = Line(t, loss, nt, HESSA_PLOT_COLOR_BLUE, HESSA_MARK_CIRCLE, 1, NULL);
  Plot(&fig, folder, "newton", plots, skip, st);
  free(t);
  free(loss);
}

/* HessaReportWritePlots - rank 0, not collective. One PNG and one SVG per figure whose
 * data are present; plots->plot[] says which were drawn and why others were skipped. */
void HessaReportWritePlots(const cJSON *doc, const char folder[], HessaPlots *plots, HessaStatus *st)
{
  const cJSON *results  = HessaJObject(doc, "results");
  const cJSON *extremes = HessaJObject(results, "extremes"), *full = HessaJObject(results, "full_spectrum");

  plots->count = 0;
  if (!plots->enabled) return;
  if (!st->code && HessaJObject(results, "density")) PlotDensity(HessaJObject(results, "density"), folder, plots, st);
  if (!st->code && (extremes || full)) PlotEigenvalues(results, folder, plots, st);
  if (!st->code && full) PlotSpectrumHistogram(full, folder, plots, st);
  if (!st->code && HessaJObject(results, "escape")) PlotEscape(HessaJObject(results, "escape"), folder, plots, st);
  if (!st->code && HessaJObject(results, "newton") && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(HessaJObject(results, "newton"), "skipped"))) PlotNewton(HessaJObject(results, "newton"), folder, plots, st);
}

/* Are the finite values of v[n] all whole numbers (and is there one)? Then the axis is an
 * index, a count or a step, and its ticks are whole numbers. */
static PetscBool AllWhole(const double v[], int n, PetscBool *any)
{
  for (int i = 0; i < n; i++) {
    if (!isfinite(v[i])) continue;
    if (!(fabs(v[i]) < 1e15 && v[i] == floor(v[i]))) return PETSC_FALSE;
    *any = PETSC_TRUE;
  }
  return PETSC_TRUE;
}

/* HessaPlotXYScaled - not collective (call on the rank that writes); see hessa/report.h. */
void HessaPlotXYScaled(const char folder[], const char name[], const char title[], const char xlabel[], const char ylabel[], HessaPlotAxisScale x_scale, HessaPlotAxisScale y_scale, int n_series, const HessaPlotSeries series[],
                       const HessaPlotColor color[], char note[], size_t note_len, HessaStatus *st)
{
  HessaPlotFigure fig   = {0};
  HessaPlotPanel *p     = &fig.panel[0];
  HessaPlots      plots = {0};
  int             total = 0;

  if (note && note_len) note[0] = 0;
  fig.n_panels = 1;
  p->title     = title;
  HessaPlotAxisInit(&p->x, xlabel);
  HessaPlotAxisInit(&p->y, ylabel);
  p->x.scale = x_scale;
  p->y.scale = y_scale;
  {
    /* x values that are all whole numbers (training steps, indices): an integer axis */
    PetscBool whole = PETSC_TRUE, any = PETSC_FALSE;
    for (int s = 0; s < n_series && s < HESSA_PLOT_MAX_LINES; s++)
      if (!AllWhole(series[s].x, series[s].n, &any)) whole = PETSC_FALSE;
    p->x.integer = whole && any ? PETSC_TRUE : PETSC_FALSE;
  }
  for (int s = 0; s < n_series && s < HESSA_PLOT_MAX_LINES; s++) {
    const HessaPlotSeries *S = &series[s];
    /* points the axes cannot show (non-finite, or not positive on a log axis) are dropped by the engine */
    for (int i = 0; i < S->n; i++)
      if (isfinite(S->x[i]) && isfinite(S->y[i]) && (x_scale != HESSA_PLOT_AXIS_LOG || S->x[i] > 0) && (y_scale != HESSA_PLOT_AXIS_LOG || S->y[i] > 0)) total++;
    p->line[p->n_lines++] = Line(S->x, S->y, S->n, color ? color[s] : HESSA_PLOT_COLOR_AUTO, S->points ? HESSA_MARK_CIRCLE : NULL, S->line ? 1 : 0, S->label);
  }
  Plot(&fig, folder, name, &plots, total ? NULL : "plot skipped: no finite point to draw", st);
  if (note && note_len) snprintf(note, note_len, "%s", plots.plot[0].note);
}

/* HessaPlotXY - not collective (call on the rank that writes); see hessa/report.h. */
void HessaPlotXY(const char folder[], const char name[], const char title[], const char xlabel[], const char ylabel[], PetscBool log_y, int n_series, const HessaPlotSeries series[], char note[], size_t note_len, HessaStatus *st)
{
  HessaPlotXYScaled(folder, name, title, xlabel, ylabel, HESSA_PLOT_AXIS_LINEAR, log_y ? HESSA_PLOT_AXIS_LOG : HESSA_PLOT_AXIS_LINEAR, n_series, series, NULL, note, note_len, st);
}

/* HessaPlotBars - not collective (call on the rank that writes); see hessa/report.h. */
void HessaPlotBars(const char folder[], const char name[], const char title[], const char ylabel[], int n, const char *const name_of[], const double value[], const HessaPlotColor color[], char note[], size_t note_len, HessaStatus *st)
{
  HessaPlotFigure fig   = {0};
  HessaPlotPanel *p     = &fig.panel[0];
  HessaPlots      plots = {0};
  double          x[HESSA_PLOT_MAX_LINES];
  const char     *skip = NULL;

  if (note && note_len) note[0] = 0;
  if (n < 1 || n > HESSA_PLOT_MAX_LINES) skip = "plot skipped: a bar chart needs 1 to 8 bars";
  for (int i = 0; !skip && i < n; i++)
    if (!(isfinite(value[i]) && value[i] >= 0)) skip = "plot skipped: bar values must be finite and non-negative";
  fig.n_panels = 1;
  p->title     = title;
  HessaPlotAxisInit(&p->x, NULL);
  HessaPlotAxisInit(&p->y, ylabel);
  p->x.categories   = name_of;
  p->x.n_categories = skip ? 0 : n;
  {
    /* whole-number bars (counts of points): an integer axis */
    PetscBool any = PETSC_FALSE;
    p->y.integer  = !skip && AllWhole(value, n, &any) && any ? PETSC_TRUE : PETSC_FALSE;
  }
  for (int i = 0; !skip && i < n; i++) {
    x[i]                            = i;
    p->line[p->n_lines]             = Line(&x[i], &value[i], 1, color ? color[i] : HESSA_PLOT_COLOR_AUTO, NULL, 0, NULL);
    p->line[p->n_lines++].bar_width = 0.7;
  }
  Plot(&fig, folder, name, &plots, skip, st);
  if (note && note_len) snprintf(note, note_len, "%s", plots.plot[0].note);
}

void HessaPlotContour(const char folder[], const char name[], const char title[], const char xlabel[], const char ylabel[], const char zlabel[], int nx, int ny, const double x[], const double y[], const double z[], PetscBool mark_origin, char note[],
                      size_t note_len, HessaStatus *st)
{
  HessaPlotFigure      fig   = {0};
  HessaPlotPanel      *p     = &fig.panel[0];
  HessaPlots           plots = {0};
  HessaPlotContourData c     = {nx, ny, x, y, NULL, zlabel, mark_origin};
  double              *zz = NULL, zmax = -INFINITY;
  const char          *skip   = NULL;
  int                  finite = 0;

  if (note && note_len) note[0] = 0;
  if (nx < 2 || ny < 2) skip = "plot skipped: a contour plot needs at least 2 x 2 grid points";
  for (int i = 1; !skip && i < nx; i++)
    if (!(x[i] > x[i - 1])) skip = "plot skipped: the x grid is not increasing";
  for (int j = 1; !skip && j < ny; j++)
    if (!(y[j] > y[j - 1])) skip = "plot skipped: the y grid is not increasing";
  if (!skip) {
    zz = malloc((size_t)nx * ny * sizeof(double));
    if (!zz) {
      HessaStatusSet(st, PETSC_ERR_MEM, "plot '%s': out of memory", name);
      return;
    }
    for (int i = 0; i < nx * ny; i++)
      if (isfinite(z[i])) finite++, zmax = PetscMax(zmax, z[i]);
    /* a non-finite loss (overflow far from theta) is drawn at the top of the scale */
    for (int i = 0; i < nx * ny; i++) zz[i] = isfinite(z[i]) ? z[i] : zmax;
    if (!finite) skip = "plot skipped: no finite value to draw";
  }
  c.z          = zz;
  fig.n_panels = 1;
  p->title     = title;
  HessaPlotAxisInit(&p->x, xlabel);
  HessaPlotAxisInit(&p->y, ylabel);
  p->contour = skip ? NULL : &c;
  Plot(&fig, folder, name, &plots, skip, st);
  if (note && note_len) snprintf(note, note_len, "%s", plots.plot[0].note);
  free(zz);
}
