/* Plots of the report, drawn with PLplot into PNG (pngcairo) and SVG (svg) files.
 *
 *   density      eigenvalue density from SLQ (optionally log y, floored at 1e-6 of the peak)
 *   eigenvalues  extreme eigenvalues as points (open "x" when not converged); the sorted
 *                full spectrum as a curve when present
 *   escape       true loss change at +alpha and -alpha along the escape direction against
 *                the quadratic prediction
 *   newton       loss along the Newton line theta + t d
 *
 * PLplot ends the process on a fatal error (plexit calls exit). Data are validated first
 * (present, finite, at least one point) so that never happens; as a last guard an exit
 * handler jumps back here, the plot is reported as failed, and no further plot is tried
 * in this process because PLplot's state is then unknown.
 */
#include "report_impl.h"
#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jmp_buf   plot_jump;
static char      plot_fatal[160];
static PetscBool plot_broken = PETSC_FALSE;

static int PlotExitHandler(const char *message)
{
  snprintf(plot_fatal, sizeof plot_fatal, "%s", message ? message : "unknown PLplot error");
  longjmp(plot_jump, 1);
  return 1;
}

/* A series: points (x[i], y[i]) drawn as a line, as symbols, or both. */
typedef struct {
  const double *x, *y;
  int           n;
  int           color;  /* cmap0 index, see SetPalette */
  const char   *symbol; /* UTF-8 glyph drawn at each point (MARK_*), NULL: none */
  int           line;   /* 0: none, 1: solid, 2: dashed */
  const char   *label;  /* legend text, NULL: not in the legend */
} Series;

#define MAX_SERIES 6
typedef struct {
  const char           *title, *xlabel, *ylabel;
  Series                series[MAX_SERIES];
  int                   n_series;
  PetscBool             log_y;           /* y values are already log10; axes labelled as powers of ten */
  PetscBool             zero_x;          /* draw the vertical line x = 0 when in range */
  PetscBool             zero_y;          /* draw the horizontal line y = 0 when in range */
  double                mark_x;          /* an extra vertical dashed line when finite (e.g. t = 1) */
  PLINT                 legend_position; /* PL_POSITION_* flags: where the data leave room; 0: top right */
  const struct Contour *contour;         /* a filled contour plot instead of the series */
} Figure;

/* A filled contour plot: z[i * ny + j] at (x[i], y[j]), all finite. */
typedef struct Contour {
  int           nx, ny;
  const double *x, *y, *z;
  const char   *zlabel;
  PetscBool     mark_origin; /* a cross at (0, 0) when inside */
} Contour;

#define MARK_CIRCLE "\u25CB" /* converged / measured */
#define MARK_CROSS "\u00D7"  /* not converged / the other sign */

enum { COLOR_WHITE = 0, COLOR_BLACK = 1, COLOR_BLUE = 2, COLOR_ORANGE = 3, COLOR_GREEN = 4, COLOR_RED = 5, COLOR_PURPLE = 6, COLOR_GREY = 7 };

/* White background, black frame and text, a colour-blind-friendly set for data. */
static void SetPalette(void)
{
  static const int rgb[8][3] = {{255, 255, 255}, {0, 0, 0}, {0, 114, 178}, {230, 159, 0}, {0, 158, 115}, {213, 94, 0}, {204, 121, 167}, {150, 150, 150}};
  plscmap0n(16);
  for (int i = 0; i < 8; i++) plscol0(i, rgb[i][0], rgb[i][1], rgb[i][2]);
}

/* Data range with a 5% margin; a single value gets a range around it. */
static void Range(const Figure *fig, int axis, double *lo, double *hi)
{
  double a = INFINITY, b = -INFINITY, pad;
  for (int s = 0; s < fig->n_series; s++)
    for (int i = 0; i < fig->series[s].n; i++) {
      double v = axis == 0 ? fig->series[s].x[i] : fig->series[s].y[i];
      a        = PetscMin(a, v);
      b        = PetscMax(b, v);
    }
  if (axis == 0 && fig->zero_x) a = PetscMin(a, 0.0), b = PetscMax(b, 0.0);
  if (axis == 1 && fig->zero_y && !fig->log_y) a = PetscMin(a, 0.0), b = PetscMax(b, 0.0);
  /* a range that is empty or lost in round-off (a loss flat to 1e-16 along a line) gets a
     width PLplot can label: it loops on tick spacings at the resolution of a double */
  if (!(b - a > 1e-9 * PetscMax(fabs(a), fabs(b)))) {
    double mid = 0.5 * (a + b);
    pad        = fabs(mid) > 0 ? 1e-6 * fabs(mid) : 1.0;
    a          = mid - pad;
    b          = mid + pad;
  }
  pad = 0.05 * (b - a);
  *lo = a - pad;
  *hi = b + pad;
}

static void Draw(const Figure *fig)
{
  double      xmin, xmax, ymin, ymax;
  PLINT       opt[MAX_SERIES], text_colors[MAX_SERIES], line_colors[MAX_SERIES], line_styles[MAX_SERIES], symbol_colors[MAX_SERIES], symbol_numbers[MAX_SERIES];
  PLFLT       line_widths[MAX_SERIES], symbol_scales[MAX_SERIES], legend_w, legend_h;
  const char *text[MAX_SERIES], *symbols[MAX_SERIES];
  int         n_legend = 0;

  Range(fig, 0, &xmin, &xmax);
  Range(fig, 1, &ymin, &ymax);
  plcol0(COLOR_BLACK);
  plschr(0.0, 1.1);
  plenv(xmin, xmax, ymin, ymax, 0, -2); /* viewport and window only: grid and frame below */
  plcol0(COLOR_GREY);
  plwidth(0.5);
  plbox("g", 0.0, 0, "g", 0.0, 0);
  plwidth(1.0);
  plcol0(COLOR_BLACK);
  plbox("bcnst", 0.0, 0, fig->log_y ? "bcnstlv" : "bcnstv", 0.0, 0);
  pllab(fig->xlabel, fig->ylabel, fig->title);
  pllsty(2);
  plcol0(COLOR_GREY);
  if (fig->zero_x && xmin < 0 && xmax > 0) pljoin(0.0, ymin, 0.0, ymax);
  if (fig->zero_y && !fig->log_y && ymin < 0 && ymax > 0) pljoin(xmin, 0.0, xmax, 0.0);
  if (isfinite(fig->mark_x) && xmin < fig->mark_x && fig->mark_x < xmax) pljoin(fig->mark_x, ymin, fig->mark_x, ymax);
  for (int s = 0; s < fig->n_series; s++) {
    const Series *S = &fig->series[s];
    plcol0(S->color);
    if (S->line && S->n > 1) {
      pllsty(S->line);
      plwidth(2.0);
      plline(S->n, S->x, S->y);
      plwidth(1.0);
    }
    if (S->symbol) {
      plschr(0.0, 1.4);
      plstring(S->n, S->x, S->y, S->symbol);
      plschr(0.0, 1.1);
    }
    if (S->label) {
      opt[n_legend]            = (S->line ? PL_LEGEND_LINE : 0) | (S->symbol ? PL_LEGEND_SYMBOL : 0);
      text_colors[n_legend]    = COLOR_BLACK;
      line_colors[n_legend]    = S->color;
      line_styles[n_legend]    = S->line ? S->line : 1;
      line_widths[n_legend]    = 2.0;
      symbol_colors[n_legend]  = S->color;
      symbol_scales[n_legend]  = 1.0;
      symbol_numbers[n_legend] = 3;
      symbols[n_legend]        = S->symbol ? S->symbol : "";
      text[n_legend]           = S->label;
      n_legend++;
    }
  }
  pllsty(1);
  if (n_legend) {
    plcol0(COLOR_BLACK);
    pllegend(&legend_w, &legend_h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, (fig->legend_position ? fig->legend_position : PL_POSITION_TOP | PL_POSITION_RIGHT) | PL_POSITION_INSIDE, 0.02, 0.02, 0.08, COLOR_WHITE, COLOR_BLACK, 1, 0, 0, n_legend,
             opt, 1.0, 0.9, 2.0, 1.0, text_colors, text, NULL, NULL, NULL, NULL, line_colors, line_styles, line_widths, symbol_colors, symbol_scales, symbol_numbers, symbols);
  }
}

/* Viridis at a few stops: perceptually uniform, readable in grey and by colour-blind readers. */
static void SetContourPalette(void)
{
  static const PLFLT pos[5] = {0.0, 0.25, 0.5, 0.75, 1.0};
  static const PLFLT r[5]   = {68 / 255.0, 59 / 255.0, 33 / 255.0, 94 / 255.0, 253 / 255.0};
  static const PLFLT g[5]   = {1 / 255.0, 82 / 255.0, 145 / 255.0, 201 / 255.0, 231 / 255.0};
  static const PLFLT b[5]   = {84 / 255.0, 139 / 255.0, 140 / 255.0, 98 / 255.0, 37 / 255.0};
  plscmap1n(256);
  plscmap1l(1, 5, pos, r, g, b, NULL);
}

#define CONTOUR_SHADES 21 /* level edges: 20 bands */
static void DrawContour(const Figure *fig)
{
  const Contour *c = fig->contour;
  PLFLT         *rows[c->nx], levels[CONTOUR_SHADES], lines[10], bar_w, bar_h;
  PLcGrid        grid = {(PLFLT *)c->x, (PLFLT *)c->y, NULL, c->nx, c->ny, 0};
  double         zmin = INFINITY, zmax = -INFINITY;
  const char    *axis_opts[1] = {"bcvtm"};
  PLFLT          ticks[1]     = {0.0};
  PLINT          sub_ticks[1] = {0}, n_values[1] = {CONTOUR_SHADES};
  const PLFLT   *values[1] = {levels};
  const char    *labels[1];
  PLINT          label_opts[1] = {PL_COLORBAR_LABEL_RIGHT};

  for (int i = 0; i < c->nx; i++) rows[i] = (PLFLT *)c->z + (size_t)i * c->ny;
  for (int i = 0; i < c->nx * c->ny; i++) zmin = PetscMin(zmin, c->z[i]), zmax = PetscMax(zmax, c->z[i]);
  if (!(zmax > zmin)) zmax = zmin + (fabs(zmin) > 0 ? 1e-6 * fabs(zmin) : 1.0);
  for (int k = 0; k < CONTOUR_SHADES; k++) levels[k] = zmin + (zmax - zmin) * k / (CONTOUR_SHADES - 1);
  for (int k = 0; k < 10; k++) lines[k] = zmin + (zmax - zmin) * (k + 0.5) / 10;
  SetContourPalette();
  plcol0(COLOR_BLACK);
  plschr(0.0, 1.1);
  pladv(0);
  plvpor(0.10, 0.80, 0.12, 0.90); /* room on the right for the colour bar */
  plwind(c->x[0], c->x[c->nx - 1], c->y[0], c->y[c->ny - 1]);
  plshades((PLFLT_MATRIX)rows, c->nx, c->ny, NULL, c->x[0], c->x[c->nx - 1], c->y[0], c->y[c->ny - 1], levels, CONTOUR_SHADES, 1.0, 0, 0.0, plfill, 1, pltr1, &grid);
  plcol0(COLOR_BLACK);
  plwidth(0.7);
  plcont((PLFLT_MATRIX)rows, c->nx, c->ny, 1, c->nx, 1, c->ny, lines, 10, pltr1, &grid);
  plwidth(1.0);
  if (c->mark_origin && c->x[0] < 0 && 0 < c->x[c->nx - 1] && c->y[0] < 0 && 0 < c->y[c->ny - 1]) {
    PLFLT zero = 0.0;
    plcol0(COLOR_RED);
    plschr(0.0, 1.6);
    plstring(1, &zero, &zero, MARK_CROSS);
    plschr(0.0, 1.1);
  }
  plcol0(COLOR_BLACK);
  plbox("bcnst", 0.0, 0, "bcnstv", 0.0, 0);
  pllab(fig->xlabel, fig->ylabel, fig->title);
  labels[0] = c->zlabel;
  plcolorbar(&bar_w, &bar_h, PL_COLORBAR_SHADE | PL_COLORBAR_SHADE_LABEL, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT, 0.03, 0.0, 0.04, 0.78, COLOR_WHITE, COLOR_BLACK, 1, 0.0, 0.0, 0, 0.0, 1, label_opts, labels, 1, axis_opts,
             ticks, sub_ticks, n_values, values);
}

/* Does the file end as a complete PNG (the IEND chunk) or SVG ("</svg>") does? */
static PetscBool PlotFileComplete(const char path[], const char ext[])
{
  static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  unsigned char              tail[64];
  size_t                     n;
  long                       size;
  FILE                      *f = fopen(path, "rb");

  if (!f) return PETSC_FALSE;
  if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 12 || fseek(f, size > (long)sizeof tail ? size - (long)sizeof tail : 0, SEEK_SET) != 0) {
    fclose(f);
    return PETSC_FALSE;
  }
  n = fread(tail, 1, sizeof tail, f);
  fclose(f);
  if (!strcmp(ext, "png")) return n >= 12 && !memcmp(tail + n - 12, iend, 12) ? PETSC_TRUE : PETSC_FALSE;
  while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == ' ' || tail[n - 1] == '\r')) n--;
  return n >= 6 && !memcmp(tail + n - 6, "</svg>", 6) ? PETSC_TRUE : PETSC_FALSE;
}

/* Draws fig into folder/name.ext through the PLplot device: PLplot renders into the
 * core's temporary file by name, and the commit renames it into place. */
static void Render(const Figure *fig, const char folder[], const char name[], const char device[], const char ext[], HessaPlotResult *result, HessaStatus *st)
{
  char      path[PETSC_MAX_PATH_LEN];
  HessaFile file; /* not changed after setjmp, so still valid after the longjmp */
  PLINT     stream;

  snprintf(path, sizeof path, "%s/%s.%s", folder, name, ext);
  /* PLplot exits on a file it cannot open: create the temporary file first, with a proper message. */
  if (HessaFileBegin(path, &file, st) || !file) return;
  if (setjmp(plot_jump)) {
    plsexit(NULL); /* plot_jump is dead once this function returns */
    plot_broken = PETSC_TRUE;
    (void)HessaFileAbort(&file);
    snprintf(result->note, sizeof result->note, "%s plot not drawn: PLplot failed (%s); no further plots were tried", name, plot_fatal);
    return;
  }
  plsexit(PlotExitHandler);
  plmkstrm(&stream);
  plsdev(device);
  plsfnam(HessaFileTempPath(file));
  plsetopt("geometry", "900x600");
  plsfam(0, -1, -1);
  SetPalette();
  plinit();
  if (fig->contour)
    DrawContour(fig);
  else
    Draw(fig);
  plend1();
  plsexit(NULL);
  /* PLplot (cairo) does not report failed writes: a full disk would give a truncated
   * plot under its final name, so the file's ending is checked before the commit. */
  if (!PlotFileComplete(HessaFileTempPath(file), ext)) {
    (void)HessaFileAbort(&file);
    HessaStatusSet(st, PETSC_ERR_FILE_WRITE, "cannot write '%s': the plotting library wrote an incomplete file (disk full?)", path);
    return;
  }
  if (HessaFileCommit(&file, st)) HessaStatusSet(st, PETSC_ERR_LIB, "report file '%s': internal error", path);
}

static void Plot(const Figure *fig, const char folder[], const char name[], HessaPlots *plots, const char skip_reason[], HessaStatus *st)
{
  HessaPlotResult *result = &plots->plot[plots->count++];

  result->name = name;
  if (skip_reason) {
    snprintf(result->note, sizeof result->note, "%s", skip_reason);
    return;
  }
  if (plot_broken) {
    snprintf(result->note, sizeof result->note, "%s plot not drawn: an earlier PLplot failure in this process", name);
    return;
  }
  Render(fig, folder, name, "pngcairo", "png", result, st);
  if (!st->code && !result->note[0]) Render(fig, folder, name, "svg", "svg", result, st);
  result->written = !st->code && !result->note[0];
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

static void PlotDensity(const cJSON *density, const char folder[], HessaPlots *plots, HessaStatus *st)
{
  Figure      fig = {0};
  double     *x = NULL, *y = NULL, sigma = 0, probes = 0, steps = 0;
  int         nx = 0, ny = 0;
  const char *skip = NULL;
  char        title[160];

  fig.mark_x = NAN;
  if (!HessaJNumbers(HessaJArray(density, "grid"), &x, &nx) || !HessaJNumbers(HessaJArray(density, "density"), &y, &ny) || nx < 2 || nx != ny) {
    skip = "density plot skipped: grid and density must be lists of the same length, at least two finite numbers";
  } else if (plots->density_log) {
    double peak = 0;
    for (int i = 0; i < ny; i++) peak = PetscMax(peak, y[i]);
    if (!(peak > 0)) skip = "density plot skipped: no positive density value for a log scale";
    /* the floor keeps empty stretches of the grid (density 0) on the plot */
    for (int i = 0; i < ny && !skip; i++) y[i] = log10(PetscMax(y[i], 1e-6 * peak));
  }
  HessaJNumber(density, "sigma", &sigma);
  HessaJNumber(density, "probes", &probes);
  HessaJNumber(density, "steps", &steps);
  snprintf(title, sizeof title, "Eigenvalue density (SLQ: %.0f probes x %.0f steps, smoothing #gs = %.3g)", probes, steps, sigma);
  fig.title                  = title;
  fig.xlabel                 = "eigenvalue #gl";
  fig.ylabel                 = plots->density_log ? "density (log scale, floor 1e-6 of peak)" : "density";
  fig.log_y                  = plots->density_log;
  fig.zero_x                 = PETSC_TRUE;
  fig.series[fig.n_series++] = (Series){x, y, nx, COLOR_BLUE, NULL, 1, NULL};
  Plot(&fig, folder, "density", plots, skip, st);
  free(x);
  free(y);
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
  const cJSON *extremes = HessaJObject(results, "extremes"), *full = HessaJObject(results, "full_spectrum");
  const cJSON *largest = HessaJArray(extremes, "largest"), *smallest = HessaJArray(extremes, "smallest");
  int          n_large = largest ? cJSON_GetArraySize(largest) : 0, n_small = smallest ? cJSON_GetArraySize(smallest) : 0, n_full = 0, m;
  double      *full_y = NULL, *full_x = NULL, *buf;
  Figure       fig   = {0};
  const char  *skip  = NULL;
  int          nc[2] = {0, 0}, nu[2] = {0, 0};

  fig.mark_x = NAN;
  m          = PetscMax(n_large, n_small);
  buf        = calloc((size_t)(8 * m + 1), sizeof(double));
  if (!buf) {
    HessaStatusSet(st, PETSC_ERR_MEM, "eigenvalue plot: out of memory");
    return;
  }
  if (full && (!HessaJNumbers(HessaJArray(full, "values"), &full_y, &n_full) || n_full == 0)) skip = "eigenvalue plot skipped: results.full_spectrum.values must be a non-empty list of finite numbers";
  if (full_y) {
    full_x = malloc((size_t)n_full * sizeof(double));
    if (!full_x) skip = "eigenvalue plot skipped: out of memory";
    for (int i = 0; full_x && i < n_full; i++) full_x[i] = i + 1;
    fig.series[fig.n_series++] = (Series){full_x, full_y, full_x ? n_full : 0, COLOR_GREY, NULL, 1, "full spectrum (sorted)"};
  }
  if (!ExtremeSeries(smallest, PETSC_FALSE, n_full, buf, buf + m, &nc[0], buf + 2 * m, buf + 3 * m, &nu[0]) || !ExtremeSeries(largest, PETSC_TRUE, n_full, buf + 4 * m, buf + 5 * m, &nc[1], buf + 6 * m, buf + 7 * m, &nu[1]))
    skip = "eigenvalue plot skipped: an extreme eigenvalue is missing or not finite";
  if (!skip && n_full == 0 && n_large + n_small == 0) skip = "eigenvalue plot skipped: no eigenvalues";
  if (nc[0]) fig.series[fig.n_series++] = (Series){buf, buf + m, nc[0], COLOR_BLUE, MARK_CIRCLE, 0, "smallest (converged)"};
  if (nu[0]) fig.series[fig.n_series++] = (Series){buf + 2 * m, buf + 3 * m, nu[0], COLOR_BLUE, MARK_CROSS, 0, "smallest (NOT converged)"};
  if (nc[1]) fig.series[fig.n_series++] = (Series){buf + 4 * m, buf + 5 * m, nc[1], COLOR_RED, MARK_CIRCLE, 0, "largest (converged)"};
  if (nu[1]) fig.series[fig.n_series++] = (Series){buf + 6 * m, buf + 7 * m, nu[1], COLOR_RED, MARK_CROSS, 0, "largest (NOT converged)"};
  fig.title           = n_full ? "Eigenvalues: the whole spectrum and the extremes" : "Extreme eigenvalues";
  fig.xlabel          = n_full ? "position in the sorted spectrum" : "k (k-th smallest / k-th largest)";
  fig.ylabel          = "eigenvalue #gl";
  fig.zero_y          = PETSC_TRUE;
  fig.legend_position = PL_POSITION_TOP | PL_POSITION_LEFT; /* sorted values rise to the right */
  Plot(&fig, folder, "eigenvalues", plots, skip, st);
  free(buf);
  free(full_x);
  free(full_y);
}

static void PlotEscape(const cJSON *escape, const char folder[], HessaPlots *plots, HessaStatus *st)
{
  const cJSON *probes = HessaJArray(escape, "probes");
  double      *alpha = NULL, *predicted = NULL, *plus = NULL, *minus = NULL, *predicted_minus = NULL, lambda = NAN;
  int          n[4], n_minus = 0;
  Figure       fig  = {0};
  const char  *skip = NULL;
  char         title[128];

  fig.mark_x = NAN;
  if (!Column(probes, "alpha", &alpha, &n[0]) || !Column(probes, "predicted_change", &predicted, &n[1]) || !Column(probes, "change_plus", &plus, &n[2]) || !Column(probes, "change_minus", &minus, &n[3]))
    skip = "escape plot skipped: results.escape.probes must be a non-empty list with finite alpha, predicted_change, change_plus and change_minus";
  HessaJNumber(escape, "lambda_min", &lambda);
  snprintf(title, sizeof title, "Escape along the lowest eigenvector (#gl#dmin#u = %.4g)", lambda);
  fig.title           = title;
  fig.xlabel          = "step #ga along the eigenvector";
  fig.ylabel          = "loss change";
  fig.zero_y          = PETSC_TRUE;
  fig.legend_position = PL_POSITION_BOTTOM | PL_POSITION_LEFT; /* the loss falls to the right */
  if (!skip) {
    fig.series[fig.n_series++] = (Series){alpha, predicted, n[0], COLOR_BLACK, NULL, 2, "predicted (#gl#ga#u2#d/2 + g#u#fiT#fn#dv #ga)"};
    fig.series[fig.n_series++] = (Series){alpha, plus, n[0], COLOR_BLUE, MARK_CIRCLE, 1, "true, step +#ga"};
    fig.series[fig.n_series++] = (Series){alpha, minus, n[0], COLOR_ORANGE, MARK_CROSS, 1, "true, step -#ga"};
    /* away from a critical point the model differs by 2 (g.v) alpha between the signs */
    if (Column(probes, "predicted_change_minus", &predicted_minus, &n_minus) && n_minus == n[0]) {
      PetscBool differs = PETSC_FALSE;
      for (int i = 0; i < n_minus; i++)
        if (predicted_minus[i] != predicted[i]) differs = PETSC_TRUE;
      if (differs) fig.series[fig.n_series++] = (Series){alpha, predicted_minus, n[0], COLOR_GREY, NULL, 2, "predicted, step -#ga"};
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
  const cJSON *line = HessaJArray(newton, "line");
  double      *t = NULL, *loss = NULL;
  int          nt = 0, nl = 0;
  Figure       fig  = {0};
  const char  *skip = NULL;

  if (!Column(line, "t", &t, &nt) || !Column(line, "loss", &loss, &nl) || nt < 2) skip = "Newton plot skipped: results.newton.line must hold at least two points with finite t and loss";
  fig.title  = "Loss along the Newton direction (#fit#fn = 1: the full Newton step)";
  fig.xlabel = "#fit#fn (loss at #gh + t d)";
  fig.ylabel = "loss";
  fig.mark_x = 1.0;
  fig.zero_x = PETSC_TRUE;
  if (!skip) fig.series[fig.n_series++] = (Series){t, loss, nt, COLOR_BLUE, MARK_CIRCLE, 1, NULL};
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
  if (!st->code && HessaJObject(results, "escape")) PlotEscape(HessaJObject(results, "escape"), folder, plots, st);
  if (!st->code && HessaJObject(results, "newton") && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(HessaJObject(results, "newton"), "skipped"))) PlotNewton(HessaJObject(results, "newton"), folder, plots, st);
}

void HessaPlotXY(const char folder[], const char name[], const char title[], const char xlabel[], const char ylabel[], PetscBool log_y, int n_series, const HessaPlotSeries series[], char note[], size_t note_len, HessaStatus *st)
{
  static const int colors[MAX_SERIES] = {COLOR_BLUE, COLOR_ORANGE, COLOR_GREEN, COLOR_RED, COLOR_PURPLE, COLOR_BLACK};
  Figure           fig                = {0};
  HessaPlots       plots              = {0};
  double          *buf[MAX_SERIES]    = {NULL};
  int              total              = 0;

  if (note && note_len) note[0] = 0;
  fig.title  = title;
  fig.xlabel = xlabel;
  fig.ylabel = ylabel;
  fig.log_y  = log_y;
  fig.mark_x = NAN;
  for (int s = 0; s < n_series && s < MAX_SERIES; s++) {
    const HessaPlotSeries *S = &series[s];
    int                    m = 0;
    buf[s]                   = malloc(2 * (size_t)PetscMax(S->n, 1) * sizeof(double));
    if (!buf[s]) {
      HessaStatusSet(st, PETSC_ERR_MEM, "plot '%s': out of memory", name);
      goto done;
    }
    for (int i = 0; i < S->n; i++) {
      double y = S->y[i];
      if (log_y) y = y > 0 ? log10(y) : NAN;
      if (!isfinite(S->x[i]) || !isfinite(y)) continue;
      buf[s][m]        = S->x[i];
      buf[s][S->n + m] = y;
      m++;
    }
    fig.series[fig.n_series++] = (Series){buf[s], buf[s] + S->n, m, colors[s], S->points ? MARK_CIRCLE : NULL, S->line ? 1 : 0, S->label};
    total += m;
  }
  Plot(&fig, folder, name, &plots, total ? NULL : "plot skipped: no finite point to draw", st);
  if (note && note_len) snprintf(note, note_len, "%s", plots.plot[0].note);
done:
  for (int s = 0; s < MAX_SERIES; s++) free(buf[s]);
}

void HessaPlotContour(const char folder[], const char name[], const char title[], const char xlabel[], const char ylabel[], const char zlabel[], int nx, int ny, const double x[], const double y[], const double z[], PetscBool mark_origin, char note[],
                      size_t note_len, HessaStatus *st)
{
  Figure      fig   = {0};
  HessaPlots  plots = {0};
  Contour     c     = {nx, ny, x, y, NULL, zlabel, mark_origin};
  double     *zz = NULL, zmax = -INFINITY;
  const char *skip   = NULL;
  int         finite = 0;

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
  c.z         = zz;
  fig.title   = title;
  fig.xlabel  = xlabel;
  fig.ylabel  = ylabel;
  fig.mark_x  = NAN;
  fig.contour = &c;
  Plot(&fig, folder, name, &plots, skip, st);
  if (note && note_len) snprintf(note, note_len, "%s", plots.plot[0].note);
  free(zz);
}
