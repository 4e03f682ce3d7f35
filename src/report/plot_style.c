/* hessa's plotting style: the figure engine behind every plot (see plot_style.h).
 *
 * Coordinates: each axis maps data values v to drawn values t(v) (linear: v, or the
 * relative change (v - ref)/|ref| when the data vary below 1e-5 of their value; log:
 * log10 v; symlog: sign(v) log10(1 + |v|/c)). The PLplot window is set in drawn values
 * and every tick is placed and labelled here, so no axis ever shows PLplot's "x10^k"
 * offset label.
 *
 * PLplot ends the process on a fatal error (plexit calls exit). Callers validate their data
 * first so that never happens; as a last guard an exit handler jumps back here, the plot is
 * reported as failed, and no further plot is tried in this process.
 */
#include "plot_style.h"
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

#define CHAR_SCALE 1.0      /* text size relative to PLplot's default */
#define RELATIVE_BELOW 1e-5 /* a linear axis whose data vary less than this (relative) shows the relative change */
#define LEGEND_GAP 0.015    /* page fraction between the axes and a legend */
#define CONTOUR_SHADES 21   /* level edges: 20 bands */
#define PAGE_W 900
#define PAGE_H 600
#define CHAR_W 0.78  /* mean width of a character of text in character heights (cairo, sans) */
#define DIGIT_W 0.86 /* width of a digit in character heights */

/* ---- geometry record (the HESSA_PLOT_GEOMETRY test hook) --------------------------- */
#define GEO_TICKS 40
typedef struct {
  double    box[4]; /* axes: x0, x1, y0, y1 in page coordinates */
  double   *pts;    /* 2 * n_pts page coordinates */
  int       n_pts, cap;
  double    legend[2][4];
  int       n_legend;
  char      tick[2][GEO_TICKS][32]; /* labels drawn on the x (0) and y (1) axis */
  int       n_tick[2];
  PetscBool integer[2];
} GeoPanel;

static struct {
  PetscBool on, failed;
  GeoPanel  panel[2];
  int       n_panels;
} geo;

static void GeoReset(void)
{
  for (int p = 0; p < 2; p++) free(geo.panel[p].pts);
  memset(&geo.panel, 0, sizeof geo.panel);
  geo.n_panels = 0;
  geo.failed   = PETSC_FALSE;
}

/* Page coordinates of the drawn point (wx, wy) in the current viewport and window. */
static void ToPage(double wx, double wy, double *px, double *py)
{
  PLFLT vx0, vx1, vy0, vy1, wx0, wx1, wy0, wy1;
  plgvpd(&vx0, &vx1, &vy0, &vy1);
  plgvpw(&wx0, &wx1, &wy0, &wy1);
  *px = vx0 + (wx - wx0) / (wx1 - wx0) * (vx1 - vx0);
  *py = vy0 + (wy - wy0) / (wy1 - wy0) * (vy1 - vy0);
}

static void GeoPoint(double wx, double wy)
{
  GeoPanel *g;
  if (!geo.on || geo.n_panels == 0) return;
  g = &geo.panel[geo.n_panels - 1];
  if (g->n_pts == g->cap) {
    int     cap = g->cap ? 2 * g->cap : 256;
    double *p   = realloc(g->pts, 2 * (size_t)cap * sizeof(double));
    if (!p) {
      geo.failed = PETSC_TRUE;
      return;
    }
    g->pts = p, g->cap = cap;
  }
  ToPage(wx, wy, &g->pts[2 * g->n_pts], &g->pts[2 * g->n_pts + 1]);
  g->n_pts++;
}

static void GeoLegend(double x0, double x1, double y0, double y1)
{
  GeoPanel *g;
  if (!geo.on || geo.n_panels == 0) return;
  g = &geo.panel[geo.n_panels - 1];
  if (g->n_legend == 2) return;
  g->legend[g->n_legend][0] = x0, g->legend[g->n_legend][1] = x1, g->legend[g->n_legend][2] = y0, g->legend[g->n_legend][3] = y1;
  g->n_legend++;
}

/* A tick label drawn on axis `which` (0: x, 1: y) of the current panel. */
static void GeoTick(int which, const char label[])
{
  GeoPanel *g;
  if (!geo.on || geo.n_panels == 0) return;
  g = &geo.panel[geo.n_panels - 1];
  if (g->n_tick[which] < GEO_TICKS) snprintf(g->tick[which][g->n_tick[which]++], sizeof g->tick[0][0], "%s", label);
}

static void GeoWrite(const char folder[], const char name[], HessaStatus *st)
{
  char   path[PETSC_MAX_PATH_LEN], *text;
  cJSON *doc = cJSON_CreateObject(), *panels = cJSON_AddArrayToObject(doc, "panels");

  cJSON_AddStringToObject(doc, "plot", name);
  cJSON_AddStringToObject(doc, "coordinates", "page: x right, y up, [0,1] x [0,1]");
  for (int p = 0; p < geo.n_panels; p++) {
    const GeoPanel *g = &geo.panel[p];
    cJSON          *o = cJSON_CreateObject(), *pts = cJSON_AddArrayToObject(o, "points"), *leg = cJSON_AddArrayToObject(o, "legends");
    cJSON_AddItemToObject(o, "axes", cJSON_CreateDoubleArray(g->box, 4));
    for (int i = 0; i < g->n_pts; i++) cJSON_AddItemToArray(pts, cJSON_CreateDoubleArray(g->pts + 2 * i, 2));
    for (int l = 0; l < g->n_legend; l++) cJSON_AddItemToArray(leg, cJSON_CreateDoubleArray(g->legend[l], 4));
    for (int a = 0; a < 2; a++) {
      cJSON *ticks = cJSON_AddArrayToObject(o, a ? "y_ticks" : "x_ticks");
      for (int k = 0; k < g->n_tick[a]; k++) cJSON_AddItemToArray(ticks, cJSON_CreateString(g->tick[a][k]));
      cJSON_AddBoolToObject(o, a ? "y_integer" : "x_integer", g->integer[a]);
    }
    cJSON_AddItemToArray(panels, o);
  }
  snprintf(path, sizeof path, "%s/%s.geometry.json", folder, name);
  text = geo.failed ? NULL : cJSON_PrintUnformatted(doc);
  if (text)
    (void)HessaWriteFileAtomic(path, text, st);
  else
    HessaStatusSet(st, PETSC_ERR_MEM, "plot geometry '%s': out of memory", path);
  free(text);
  cJSON_Delete(doc);
}

/* ---- palette and text ---------------------------------------------------------------- */
/* White background, black frame and text, Okabe-Ito colours for data (HessaPlotColor). */
static void SetPalette(void)
{
  static const int rgb[9][3] = {{255, 255, 255}, {0, 0, 0}, {0, 114, 178}, {230, 159, 0}, {0, 158, 115}, {213, 94, 0}, {204, 121, 167}, {150, 150, 150}, {86, 180, 233}};
  plscmap0n(16);
  for (int i = 0; i < 9; i++) plscol0(i, rgb[i][0], rgb[i][1], rgb[i][2]);
  plscol0(15, 225, 225, 225); /* grid lines */
}
#define COLOR_WHITE 0
#define COLOR_GRID 15

HessaPlotColor HessaPlotVerdictColor(const char verdict[])
{
  static const struct {
    const char    *name;
    HessaPlotColor color;
  } table[] = {
      {"local_minimum", HESSA_PLOT_COLOR_GREEN}, {"local_maximum", HESSA_PLOT_COLOR_RED}, {"saddle", HESSA_PLOT_COLOR_BLUE}, {"degenerate", HESSA_PLOT_COLOR_PURPLE}, {"not_critical", HESSA_PLOT_COLOR_GREY}, {"failed", HESSA_PLOT_COLOR_BLACK},
  };
  for (size_t i = 0; verdict && i < sizeof table / sizeof table[0]; i++)
    if (!strcmp(verdict, table[i].name)) return table[i].color;
  return HESSA_PLOT_COLOR_BLACK;
}

/* Visible characters of a PLplot string (escapes: #u #d #fn #fi... take no room, #g? is one glyph). */
static int VisibleChars(const char s[])
{
  int n = 0;
  for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
    if (*c == '#' && c[1]) {
      if (c[1] == 'g')
        n++, c += c[2] ? 2 : 1;
      else if (c[1] == 'f')
        c += c[2] ? 2 : 1;
      else
        c++;
      continue;
    }
    if ((*c & 0xC0) != 0x80) n++; /* one per UTF-8 character */
  }
  return n;
}

/* Character height as a fraction of the page height and of the page width (current scale). */
static void CharSize(double *fh, double *fw)
{
  PLFLT def, ht, xmin, xmax, ymin, ymax;
  plgchr(&def, &ht);
  plgspa(&xmin, &xmax, &ymin, &ymax); /* subpage in mm */
  *fh = ht / (ymax - ymin);
  *fw = ht / (xmax - xmin);
}

/* Approximate width of s as a fraction of the page width at the current text size
 * (measured on the cairo devices: a character is about 0.86 of the character height wide). */
static double TextWidth(const char s[])
{
  double fh, fw;
  CharSize(&fh, &fw);
  return CHAR_W * fw * VisibleChars(s);
}

/* Draws a title above the current viewport, scaled down so that it fits the page. */
static void Title(const char title[])
{
  PLFLT  vx0, vx1, vy0, vy1;
  double w;
  if (!title || !title[0]) return;
  plgvpd(&vx0, &vx1, &vy0, &vy1);
  w = TextWidth(title);
  plschr(0.0, CHAR_SCALE * PetscMin(1.1, 0.96 / PetscMax(w, 1e-9)));
  /* centred on the axes when it fits above them, else on the page */
  plmtex("t", 1.2, w * PetscMin(1.1, 0.96 / PetscMax(w, 1e-9)) < vx1 - vx0 ? 0.5 : (0.5 - vx0) / (vx1 - vx0), 0.5, title);
  plschr(0.0, CHAR_SCALE);
}

/* ---- axes ------------------------------------------------------------------------------ */
typedef struct {
  const HessaPlotAxis *axis;
  HessaPlotAxisScale   scale;
  double               c;        /* symlog threshold */
  PetscBool            relative; /* linear axis drawn as (v - ref)/|ref| */
  double               ref;
  double               lo, hi;  /* window in drawn coordinates */
  PetscBool            integer; /* a linear integer axis: whole-number ticks without decimals */
} AxisState;

double HessaPlotSymlog(double v, double c)
{
  return v < 0 ? -log10(1.0 - v / c) : log10(1.0 + v / c);
}

double HessaPlotSymlogInverse(double t, double c)
{
  return t < 0 ? -c * (pow(10.0, -t) - 1.0) : c * (pow(10.0, t) - 1.0);
}

double HessaPlotSymlogThreshold(int n, const double v[])
{
  double small = INFINITY, big = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(v[i]) && v[i] != 0) small = PetscMin(small, fabs(v[i])), big = PetscMax(big, fabs(v[i]));
  if (!(big > 0)) return 1.0;
  return PetscMax(small, 1e-9 * big);
}

/* Drawn coordinate of the data value v (NAN when it cannot be drawn: log of v <= 0). */
static double Forward(const AxisState *a, double v)
{
  if (!isfinite(v)) return NAN;
  switch (a->scale) {
  case HESSA_PLOT_AXIS_LOG:
    return v > 0 ? log10(v) : NAN;
  case HESSA_PLOT_AXIS_SYMLOG:
    return HessaPlotSymlog(v, a->c);
  default:
    return a->relative ? (v - a->ref) / fabs(a->ref) : v;
  }
}

void HessaPlotAxisInit(HessaPlotAxis *axis, const char label[])
{
  memset(axis, 0, sizeof *axis);
  axis->label = label;
  axis->mark  = NAN;
}

/* Gathers the data values of one axis (0: x, 1: y) of a panel into a new buffer. */
static double *AxisValues(const HessaPlotPanel *p, int which, int *n)
{
  int     total = 0, m = 0;
  double *v;
  for (int s = 0; s < p->n_lines; s++) total += p->line[s].n;
  if (p->contour) total += which == 0 ? p->contour->nx : p->contour->ny;
  v = malloc((size_t)PetscMax(total, 1) * sizeof(double));
  if (!v) return NULL;
  for (int s = 0; s < p->n_lines; s++)
    for (int i = 0; i < p->line[s].n; i++) v[m++] = which == 0 ? p->line[s].x[i] : p->line[s].y[i];
  if (p->contour)
    for (int i = 0; i < (which == 0 ? p->contour->nx : p->contour->ny); i++) v[m++] = which == 0 ? p->contour->x[i] : p->contour->y[i];
  *n = m;
  return v;
}

/* Sets the transform and the window of one axis from the panel's data. */
static PetscBool AxisSetUp(const HessaPlotPanel *p, int which, AxisState *a)
{
  const HessaPlotAxis *ax = which == 0 ? &p->x : &p->y;
  int                  n;
  double              *v = AxisValues(p, which, &n), lo = INFINITY, hi = -INFINITY, pad;
  PetscBool            bars = PETSC_FALSE;

  if (!v) return PETSC_FALSE;
  memset(a, 0, sizeof *a);
  a->axis  = ax;
  a->scale = ax->n_categories ? HESSA_PLOT_AXIS_LINEAR : ax->scale;
  /* an index, a count or a step: no relative-change axis, whole-number ticks */
  a->integer = ax->integer && !ax->n_categories && a->scale == HESSA_PLOT_AXIS_LINEAR ? PETSC_TRUE : PETSC_FALSE;
  if (a->scale == HESSA_PLOT_AXIS_SYMLOG) a->c = ax->linthresh > 0 ? ax->linthresh : HessaPlotSymlogThreshold(n, v);
  if (a->scale == HESSA_PLOT_AXIS_LINEAR && !ax->n_categories && !a->integer) {
    double dlo = INFINITY, dhi = -INFINITY;
    for (int i = 0; i < n; i++)
      if (isfinite(v[i])) dlo = PetscMin(dlo, v[i]), dhi = PetscMax(dhi, v[i]);
    if (ax->zero) dlo = PetscMin(dlo, 0.0), dhi = PetscMax(dhi, 0.0);
    /* a variation that ticks could show only with 7 or more digits is shown as a relative change */
    if (dhi >= dlo && dhi - dlo < RELATIVE_BELOW * PetscMax(fabs(dlo), fabs(dhi))) a->relative = PETSC_TRUE, a->ref = dlo;
  }
  for (int i = 0; i < n; i++) {
    double t = Forward(a, v[i]);
    if (isfinite(t)) lo = PetscMin(lo, t), hi = PetscMax(hi, t);
  }
  free(v);
  for (int s = 0; s < p->n_lines; s++)
    if (p->line[s].bar_width > 0) bars = PETSC_TRUE;
  if (which == 0 && bars)
    for (int s = 0; s < p->n_lines; s++)
      for (int i = 0; i < p->line[s].n && p->line[s].bar_width > 0; i++) {
        double t = Forward(a, p->line[s].x[i]);
        if (isfinite(t)) lo = PetscMin(lo, t - p->line[s].bar_width / 2), hi = PetscMax(hi, t + p->line[s].bar_width / 2);
      }
  if ((ax->zero || (which == 1 && bars)) && a->scale != HESSA_PLOT_AXIS_LOG) {
    double t0 = Forward(a, 0.0);
    if (isfinite(t0)) lo = PetscMin(lo, t0), hi = PetscMax(hi, t0);
  }
  if (ax->n_categories) lo = PetscMin(lo, -0.5), hi = PetscMax(hi, ax->n_categories - 0.5);
  if (!(lo <= hi)) lo = 0, hi = 1; /* nothing drawable on this axis: a unit window */
  /* an empty range gets a width ticks can label */
  if (!(hi - lo > 1e-12 * PetscMax(fabs(lo), fabs(hi)))) {
    double mid = 0.5 * (lo + hi), half = fabs(mid) > 0 ? 1e-6 * fabs(mid) : 1.0;
    if (a->relative || a->integer || a->scale != HESSA_PLOT_AXIS_LINEAR) half = PetscMax(half, 0.5);
    lo = mid - half, hi = mid + half;
  }
  pad   = ax->n_categories || p->contour ? 0 : 0.05 * (hi - lo); /* a contour fills its axes */
  a->lo = lo - pad;
  a->hi = hi + pad;
  /* bars on a linear y axis stand on the frame when all are non-negative */
  if (which == 1 && bars && a->scale == HESSA_PLOT_AXIS_LINEAR && !a->relative && lo >= 0) a->lo = 0;
  if (which == 1 && bars && a->scale == HESSA_PLOT_AXIS_LOG) a->lo = floor(lo) - 0.05;
  return PETSC_TRUE;
}

/* A round tick step (1, 2 or 5 times a power of ten) giving about `target` ticks over span. */
static double NiceStep(double span, int target)
{
  double raw = span / target, e = pow(10.0, floor(log10(raw))), m = raw / e;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * e;
}

/* m 10^e as PLplot text: plain digits from 0.01 to 1000, else a power of ten. */
static void PowerLabel(int sign, int m, int e, char out[], size_t len)
{
  const char *minus = sign < 0 ? "-" : "";
  if (e >= -2 && e <= 3)
    snprintf(out, len, "%s%.*f", minus, e < 0 ? -e : 0, m * pow(10.0, e));
  else if (m == 1)
    snprintf(out, len, "%s10#u%d#d", minus, e);
  else
    snprintf(out, len, "%s%d\u00D710#u%d#d", minus, m, e);
}

/* v as PLplot text with the decimals the tick step needs: 0.105123, 2.5, 1.5x10^-7. */
static void FormatTick(double v, double step, char out[], size_t len)
{
  double big = fabs(v);
  int    decimals;
  if (fabs(v) < 1e-9 * step) {
    snprintf(out, len, "0");
    return;
  }
  if (big != 0 && (big < 1e-3 || big >= 1e5 || step < 1e-4)) {
    int    e        = (int)floor(log10(big));
    double mant     = v / pow(10.0, e);
    int    mdecimal = PetscMax(0, (int)ceil(e - log10(step) - 1e-9));
    if (mdecimal > 12) mdecimal = 12;
    if (fabs(fabs(mant) - 1.0) < 1e-12 && mdecimal == 0)
      snprintf(out, len, "%s10#u%d#d", mant < 0 ? "-" : "", e);
    else
      snprintf(out, len, "%.*f\u00D710#u%d#d", mdecimal, mant, e);
    return;
  }
  decimals = PetscMax(0, (int)ceil(-log10(step) - 1e-9));
  /* a 2.5 step needs one decimal more than its power of ten */
  if (fabs(step / pow(10.0, floor(log10(step))) - 2.5) < 1e-9) decimals++;
  snprintf(out, len, "%.*f", PetscMin(decimals, 15), v);
}

/* The tick step of a linear axis: about 6 round steps over the window; at least 1 on an
 * integer axis, so its ticks fall on whole numbers (1, 2, 5 times a power of ten >= 1). */
static double AxisStep(const AxisState *a)
{
  double step = NiceStep(a->hi - a->lo, 6);
  return a->integer ? PetscMax(step, 1.0) : step;
}

/* The label of tick v of a linear axis: an integer axis prints whole numbers ("2", not "2.0"
 * or 2x10^0) up to 10^15, where doubles still hold every integer; other axes as FormatTick. */
static void AxisTickLabel(const AxisState *a, double v, double step, char out[], size_t len)
{
  if (a->integer && step >= 1 && fabs(v) < 1e15) {
    double r = round(v);
    snprintf(out, len, "%.0f", r == 0 ? 0.0 : r); /* never "-0" */
    return;
  }
  FormatTick(v, step, out, len);
}

/* A tick at drawn position t (longer when major) with label text (NULL: none). */
static void Tick(int which, const AxisState *xa, const AxisState *ya, double t, const char label[], PetscBool major)
{
  const AxisState *a    = which == 0 ? xa : ya;
  double           frac = (t - a->lo) / (a->hi - a->lo), len;
  if (frac < -1e-9 || frac > 1 + 1e-9) return;
  if (which == 0) {
    len = (ya->hi - ya->lo) * (major ? 0.018 : 0.009);
    plcol0(HESSA_PLOT_COLOR_BLACK);
    pljoin(t, ya->lo, t, ya->lo + len);
    pljoin(t, ya->hi, t, ya->hi - len);
    if (label) plmtex("b", 1.6, frac, 0.5, label);
  } else {
    len = (xa->hi - xa->lo) * (major ? 0.012 : 0.006);
    plcol0(HESSA_PLOT_COLOR_BLACK);
    pljoin(xa->lo, t, xa->lo + len, t);
    pljoin(xa->hi, t, xa->hi - len, t);
    if (label) plmtex("lv", 0.6, frac, 1.0, label);
  }
}

/* One tick of Ticks: its grid line (grid_only, major ticks) or the tick and its label. */
typedef struct {
  double at[64];
  int    n;
} Labelled; /* positions (fractions of the axis) of the labels drawn so far */

static void TickAt(int which, const AxisState *xa, const AxisState *ya, PetscBool grid_only, int *widest, double t, const char *label, PetscBool major)
{
  static Labelled  done;
  const AxisState *a = which == 0 ? xa : ya;
  double           f = (t - a->lo) / (a->hi - a->lo);
  if (!widest) { /* a new axis */
    done.n = 0;
    return;
  }
  /* a label closer than 4% (y) or 8% (x) of the page to one already drawn would overlap it: tick only */
  if (label && !a->axis->n_categories) {
    PLFLT  vx0, vx1, vy0, vy1;
    double gap;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    gap = which == 0 ? 0.08 / (vx1 - vx0) : 0.04 / (vy1 - vy0);
    for (int k = 0; label && k < done.n; k++)
      if (fabs(done.at[k] - f) < gap) label = NULL;
  }
  if (label && !grid_only && done.n < 64) done.at[done.n++] = f;
  if (label && !grid_only && f >= -1e-9 && f <= 1 + 1e-9) GeoTick(which, label);
  if (grid_only) {
    if (major && f >= 0 && f <= 1) {
      plcol0(COLOR_GRID);
      if (which == 0)
        pljoin(t, ya->lo, t, ya->hi);
      else
        pljoin(xa->lo, t, xa->hi, t);
    }
    return;
  }
  Tick(which, xa, ya, t, label, major);
  if (label && f >= -1e-9 && f <= 1 + 1e-9) *widest = PetscMax(*widest, VisibleChars(label));
}

/* Ticks of one axis: grid lines now (grid_only) or ticks and labels over the data. Returns
 * the widest label in characters, for the axis title's distance. */
static int Ticks(int which, const AxisState *xa, const AxisState *ya, PetscBool grid_only)
{
  const AxisState *a = which == 0 ? xa : ya;
  char             text[64];
  int              widest = 0;

  TickAt(which, xa, ya, grid_only, NULL, 0, NULL, PETSC_FALSE);

  if (a->axis->n_categories) {
    /* names shrink until the widest fits its slot */
    PLFLT  vx0, vx1, vy0, vy1;
    double wide = 0, scale = 1;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    for (int k = 0; k < a->axis->n_categories; k++) wide = PetscMax(wide, TextWidth(a->axis->categories[k]));
    if (which == 0 && wide > 0) scale = PetscMin(1.0, 0.92 * (vx1 - vx0) / (a->hi - a->lo) / wide);
    plschr(0.0, scale * CHAR_SCALE);
    for (int k = 0; k < a->axis->n_categories; k++) TickAt(which, xa, ya, grid_only, &widest, (double)k, a->axis->categories[k], PETSC_FALSE);
    plschr(0.0, CHAR_SCALE);
  } else if (a->scale == HESSA_PLOT_AXIS_LOG) {
    int e0 = (int)floor(a->lo), e1 = (int)ceil(a->hi), every = PetscMax(1, (e1 - e0 + 7) / 8);
    for (int e = e0; e <= e1; e++) {
      if ((e - e0) % every == 0) {
        PowerLabel(1, 1, e, text, sizeof text);
        TickAt(which, xa, ya, grid_only, &widest, (double)e, text, PETSC_TRUE);
      }
      for (int m = 2; m < 10 && e1 - e0 <= 6; m++) {
        /* under two decades the 2 and 5 multiples are labelled too */
        if (e1 - e0 <= 2 && (m == 2 || m == 5)) {
          PowerLabel(1, m, e, text, sizeof text);
          TickAt(which, xa, ya, grid_only, &widest, e + log10((double)m), text, PETSC_TRUE);
        } else
          TickAt(which, xa, ya, grid_only, &widest, e + log10((double)m), (const char *)NULL, PETSC_FALSE);
      }
    }
  } else if (a->scale == HESSA_PLOT_AXIS_SYMLOG) {
    double vlo = HessaPlotSymlogInverse(a->lo, a->c), vhi = HessaPlotSymlogInverse(a->hi, a->c), big = PetscMax(fabs(vlo), fabs(vhi));
    int    e0 = (int)floor(log10(a->c) + 1e-9), e1 = (int)floor(log10(big) + 1e-9), every = PetscMax(1, (e1 - e0 + 1 + 4) / 5);
    TickAt(which, xa, ya, grid_only, &widest, 0.0, "0", PETSC_TRUE);
    for (int e = e1; e >= e0; e--) {
      for (int m = 1; m < 10; m++) {
        /* powers of ten (every few when there are many); 2 and 5 times them across few decades */
        PetscBool labelled = (m == 1 && (e1 - e) % every == 0) || (e1 - e0 <= 1 && (m == 2 || m == 5));
        for (int sign = -1; sign <= 1; sign += 2) {
          double v = sign * m * pow(10.0, e);
          if (v < vlo || v > vhi) continue;
          PowerLabel(sign, m, e, text, sizeof text);
          TickAt(which, xa, ya, grid_only, &widest, HessaPlotSymlog(v, a->c), labelled ? text : NULL, labelled);
        }
      }
    }
  } else {
    double step = AxisStep(a), first = ceil(a->lo / step - 1e-9) * step;
    for (int k = 0; k < 40; k++) {
      double t = first + k * step;
      if (t > a->hi + 1e-9 * step) break;
      AxisTickLabel(a, t, step, text, sizeof text);
      TickAt(which, xa, ya, grid_only, &widest, t, text, PETSC_TRUE);
    }
  }
  return widest;
}

/* The axis title, with what the transform means. */
static void AxisTitle(int which, const AxisState *a, int widest)
{
  char text[256];
  if (a->relative)
    snprintf(text, sizeof text, "%s: relative change from %.10g", a->axis->label ? a->axis->label : "", a->ref);
  else if (a->scale == HESSA_PLOT_AXIS_SYMLOG)
    snprintf(text, sizeof text, "%s (symmetric log, linear within \u00B1%.2g)", a->axis->label ? a->axis->label : "", a->c);
  else
    snprintf(text, sizeof text, "%s", a->axis->label ? a->axis->label : "");
  if (!text[0]) return;
  if (which == 0)
    plmtex("b", 3.2, 0.5, 0.5, text);
  else
    plmtex("l", 1.4 + DIGIT_W * widest, 0.5, 0.5, text);
}

/* ---- one panel ----------------------------------------------------------------------- */
/* Legend entries of a panel; returns their count. */
static int LegendEntries(const HessaPlotPanel *p, const char *text[], double *width)
{
  int n  = 0;
  *width = 0;
  for (int s = 0; s < p->n_lines; s++)
    if (p->line[s].label) {
      text[n++] = p->line[s].label;
      *width    = PetscMax(*width, TextWidth(p->line[s].label));
    }
  return n;
}

static HessaPlotColor LineColor(const HessaPlotPanel *p, int s)
{
  static const HessaPlotColor cycle[] = {HESSA_PLOT_COLOR_BLUE, HESSA_PLOT_COLOR_ORANGE, HESSA_PLOT_COLOR_GREEN, HESSA_PLOT_COLOR_RED, HESSA_PLOT_COLOR_PURPLE, HESSA_PLOT_COLOR_SKY, HESSA_PLOT_COLOR_BLACK, HESSA_PLOT_COLOR_GREY};
  int                         k       = 0;
  if (p->line[s].color != HESSA_PLOT_COLOR_AUTO) return p->line[s].color;
  for (int i = 0; i < s; i++)
    if (p->line[i].color == HESSA_PLOT_COLOR_AUTO) k++;
  return cycle[k % 8];
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

/* Level edges log-spaced above the minimum: a basin (loss - min ~ r^2) gets as many bands
 * as its walls. Falls back to linear spacing when the range is empty. */
static void ContourLevels(const HessaPlotContourData *c, double levels[CONTOUR_SHADES])
{
  double zmin = INFINITY, zmax = -INFINITY, dlo = INFINITY, span;
  for (int i = 0; i < c->nx * c->ny; i++) zmin = PetscMin(zmin, c->z[i]), zmax = PetscMax(zmax, c->z[i]);
  span = zmax - zmin;
  if (!(span > 1e-12 * PetscMax(fabs(zmin), 1e-300))) {
    double half = fabs(zmin) > 0 ? 1e-6 * fabs(zmin) : 1.0;
    for (int k = 0; k < CONTOUR_SHADES; k++) levels[k] = zmin - half + 2 * half * k / (CONTOUR_SHADES - 1);
    return;
  }
  for (int i = 0; i < c->nx * c->ny; i++)
    if (c->z[i] > zmin) dlo = PetscMin(dlo, c->z[i] - zmin);
  dlo       = PetscMax(dlo, 1e-4 * span);
  levels[0] = zmin;
  for (int k = 1; k < CONTOUR_SHADES; k++) levels[k] = zmin + dlo * pow(span / dlo, (k - 1.0) / (CONTOUR_SHADES - 2));
  levels[CONTOUR_SHADES - 1] = zmax;
  /* the lowest band starts a hair below the minimum so the minimum itself is shaded */
  levels[0] = zmin - 1e-9 * PetscMax(span, fabs(zmin));
}

static void DrawContour(const HessaPlotContourData *c, double bar_x0, double bar_x1, double vy0, double vy1)
{
  PLFLT  *rows[c->nx], levels[CONTOUR_SHADES], lines[10];
  PLcGrid grid = {(PLFLT *)c->x, (PLFLT *)c->y, NULL, c->nx, c->ny, 0};
  char    text[64];
  PLFLT   wx0, wx1, wy0, wy1, vx0, vx1, dvy0, dvy1;

  for (int i = 0; i < c->nx; i++) rows[i] = (PLFLT *)c->z + (size_t)i * c->ny;
  ContourLevels(c, levels);
  for (int k = 0; k < 10; k++) lines[k] = levels[2 * k + 1];
  SetContourPalette();
  plshades((PLFLT_MATRIX)rows, c->nx, c->ny, NULL, c->x[0], c->x[c->nx - 1], c->y[0], c->y[c->ny - 1], levels, CONTOUR_SHADES, 1.0, 0, 0.0, plfill, 1, pltr1, &grid);
  plcol0(HESSA_PLOT_COLOR_BLACK);
  plwidth(0.7);
  plcont((PLFLT_MATRIX)rows, c->nx, c->ny, 1, c->nx, 1, c->ny, lines, 10, pltr1, &grid);
  plwidth(1.0);
  for (int i = 0; i < c->nx; i++)
    for (int j = 0; j < c->ny; j++) GeoPoint(c->x[i], c->y[j]);
  if (c->mark_origin && c->x[0] < 0 && 0 < c->x[c->nx - 1] && c->y[0] < 0 && 0 < c->y[c->ny - 1]) {
    PLFLT zero = 0.0;
    plcol0(HESSA_PLOT_COLOR_RED);
    plschr(0.0, 1.6 * CHAR_SCALE);
    plstring(1, &zero, &zero, HESSA_MARK_CROSS);
    plschr(0.0, CHAR_SCALE);
  }
  /* the colour bar: one band per level interval, equal heights (the levels are not evenly
   * spaced), labelled with the level values */
  plgvpw(&wx0, &wx1, &wy0, &wy1);
  plgvpd(&vx0, &vx1, &dvy0, &dvy1);
  GeoLegend(bar_x0, bar_x1, vy0, vy1);
  plvpor(bar_x0, bar_x1, vy0, vy1);
  plwind(0, 1, 0, CONTOUR_SHADES - 1);
  for (int k = 0; k < CONTOUR_SHADES - 1; k++) {
    PLFLT bx[4] = {0, 1, 1, 0}, by[4] = {k, k, k + 1, k + 1};
    plcol1((k + 0.5) / (CONTOUR_SHADES - 1));
    plfill(4, bx, by);
  }
  plcol0(HESSA_PLOT_COLOR_BLACK);
  plbox("bc", 0, 0, "bc", 0, 0);
  plschr(0.0, 0.8 * CHAR_SCALE);
  for (int k = 0; k < CONTOUR_SHADES; k += 4) {
    double gap  = k + 4 < CONTOUR_SHADES ? levels[k + 4] - levels[k] : levels[k] - levels[k - 4];
    double step = pow(10.0, floor(log10(PetscMax(fabs(gap), 1e-300)))) / 10;
    FormatTick(k == 0 ? levels[0] + 1e-9 * fabs(levels[CONTOUR_SHADES - 1] - levels[0]) : levels[k], step, text, sizeof text);
    plmtex("rv", 0.5, (double)k / (CONTOUR_SHADES - 1), 0.0, text);
  }
  plschr(0.0, CHAR_SCALE);
  if (c->zlabel) plmtex("t", 1.5, 0.5, 0.5, c->zlabel);
  plvpor(vx0, vx1, dvy0, dvy1);
  plwind(wx0, wx1, wy0, wy1);
}

/* Draws one panel into the page rectangle [x0, x1] x [y0, y1] (axes, titles and legend inside it). */
static void DrawPanel(const HessaPlotPanel *p, double x0, double x1, double y0, double y1, double right_room)
{
  AxisState   xa, ya;
  double      fh, fw, left, bottom, right, top, legend_w;
  const char *text[HESSA_PLOT_MAX_LINES];
  int         n_legend, widest;
  PLINT opt[HESSA_PLOT_MAX_LINES], text_colors[HESSA_PLOT_MAX_LINES], line_colors[HESSA_PLOT_MAX_LINES], line_styles[HESSA_PLOT_MAX_LINES], symbol_colors[HESSA_PLOT_MAX_LINES], symbol_numbers[HESSA_PLOT_MAX_LINES], box_colors[HESSA_PLOT_MAX_LINES],
      box_patterns[HESSA_PLOT_MAX_LINES];
  PLFLT       line_widths[HESSA_PLOT_MAX_LINES], symbol_scales[HESSA_PLOT_MAX_LINES], box_scales[HESSA_PLOT_MAX_LINES], box_widths[HESSA_PLOT_MAX_LINES], lw, lh;
  const char *symbols[HESSA_PLOT_MAX_LINES];

  if (!AxisSetUp(p, 0, &xa) || !AxisSetUp(p, 1, &ya)) return;
  plschr(0.0, CHAR_SCALE);
  CharSize(&fh, &fw);
  n_legend = LegendEntries(p, text, &legend_w);
  /* the left margin holds the widest y tick label and the y title */
  {
    char   probe[64];
    int    w    = 6;
    double step = AxisStep(&ya);
    if (ya.scale == HESSA_PLOT_AXIS_LINEAR && !ya.axis->n_categories) {
      AxisTickLabel(&ya, ya.lo, step, probe, sizeof probe), w = PetscMax(w, VisibleChars(probe));
      AxisTickLabel(&ya, ya.hi, step, probe, sizeof probe), w = PetscMax(w, VisibleChars(probe));
    }
    for (int k = 0; k < ya.axis->n_categories; k++) w = PetscMax(w, VisibleChars(ya.axis->categories[k]));
    left = x0 + fw * (DIGIT_W * w + 2.6);
  }
  right  = x1 - right_room;
  bottom = y0 + fh * 4.6;
  top    = y1 - fh * 3.0;
  plvpor(left, right, bottom, top);
  plwind(xa.lo, xa.hi, ya.lo, ya.hi);
  if (geo.on && geo.n_panels < 2) {
    GeoPanel *g = &geo.panel[geo.n_panels++];
    g->box[0] = left, g->box[1] = right, g->box[2] = bottom, g->box[3] = top;
    g->integer[0] = xa.integer, g->integer[1] = ya.integer;
  }
  /* grid, then data, then ticks and frame on top */
  if (!p->contour) {
    Ticks(0, &xa, &ya, PETSC_TRUE);
    Ticks(1, &xa, &ya, PETSC_TRUE);
  }
  pllsty(2);
  plcol0(HESSA_PLOT_COLOR_GREY);
  if (p->x.zero) {
    double t = Forward(&xa, 0.0);
    if (t > xa.lo && t < xa.hi) pljoin(t, ya.lo, t, ya.hi);
  }
  if (p->y.zero) {
    double t = Forward(&ya, 0.0);
    if (t > ya.lo && t < ya.hi) pljoin(xa.lo, t, xa.hi, t);
  }
  if (isfinite(p->x.mark)) {
    double t = Forward(&xa, p->x.mark);
    if (t > xa.lo && t < xa.hi) pljoin(t, ya.lo, t, ya.hi);
  }
  pllsty(1);
  if (p->contour) DrawContour(p->contour, right + LEGEND_GAP, right + LEGEND_GAP + 0.03, bottom, top);
  n_legend = 0;
  for (int s = 0; s < p->n_lines; s++) {
    const HessaPlotLine *L     = &p->line[s];
    HessaPlotColor       color = LineColor(p, s);
    double              *tx    = malloc(2 * (size_t)PetscMax(L->n, 1) * sizeof(double)), *ty;
    int                  m     = 0;
    if (!tx) continue;
    ty = tx + PetscMax(L->n, 1);
    for (int i = 0; i < L->n; i++) {
      double a = Forward(&xa, L->x[i]), b = Forward(&ya, L->y[i]);
      if (!isfinite(a) || !isfinite(b)) continue;
      tx[m] = a, ty[m] = b, m++;
    }
    plcol0(color);
    if (L->bar_width > 0) {
      double base = ya.scale == HESSA_PLOT_AXIS_LOG ? ya.lo : Forward(&ya, 0.0);
      for (int i = 0; i < m; i++) {
        PLFLT bx[4] = {tx[i] - L->bar_width / 2, tx[i] + L->bar_width / 2, tx[i] + L->bar_width / 2, tx[i] - L->bar_width / 2}, by[4] = {base, base, ty[i], ty[i]};
        plcol0(color);
        plfill(4, bx, by);
        plcol0(HESSA_PLOT_COLOR_BLACK);
        plline(4, bx, by);
        GeoPoint(bx[0], ty[i]), GeoPoint(bx[1], ty[i]), GeoPoint(tx[i], base);
      }
      plcol0(color);
    }
    if (L->line && m > 1) {
      pllsty(L->line);
      plwidth(2.0);
      plline(m, tx, ty);
      plwidth(1.0);
      pllsty(1);
    }
    if (L->symbol) {
      plschr(0.0, (m > 60 ? 0.8 : 1.3) * CHAR_SCALE); /* many points: smaller symbols */
      plstring(m, tx, ty, L->symbol);
      plschr(0.0, CHAR_SCALE);
    }
    for (int i = 0; i < m && L->bar_width <= 0; i++) GeoPoint(tx[i], ty[i]);
    free(tx);
    if (L->label) {
      opt[n_legend]            = L->bar_width > 0 ? PL_LEGEND_COLOR_BOX : (L->line ? PL_LEGEND_LINE : 0) | (L->symbol ? PL_LEGEND_SYMBOL : 0);
      text_colors[n_legend]    = HESSA_PLOT_COLOR_BLACK;
      line_colors[n_legend]    = color;
      line_styles[n_legend]    = L->line ? L->line : 1;
      line_widths[n_legend]    = 2.0;
      symbol_colors[n_legend]  = color;
      symbol_scales[n_legend]  = 1.0;
      symbol_numbers[n_legend] = 3;
      symbols[n_legend]        = L->symbol ? L->symbol : "";
      box_colors[n_legend]     = color;
      box_patterns[n_legend]   = 0;
      box_scales[n_legend]     = 0.8;
      box_widths[n_legend]     = 1.0;
      text[n_legend]           = L->label;
      n_legend++;
    }
  }
  plcol0(HESSA_PLOT_COLOR_BLACK);
  plbox("bc", 0.0, 0, "bc", 0.0, 0);
  AxisTitle(0, &xa, 0);
  Ticks(0, &xa, &ya, PETSC_FALSE);
  widest = Ticks(1, &xa, &ya, PETSC_FALSE);
  AxisTitle(1, &ya, widest);
  Title(p->title);
  if (n_legend) {
    /* outside the axes on the right, vertically centred: never over data */
    double vpw = right - left, vph = top - bottom, xoff = LEGEND_GAP / vpw;
    plschr(0.0, CHAR_SCALE);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT, xoff, 0.0, 0.05 * 0.75 / vpw, COLOR_WHITE, HESSA_PLOT_COLOR_BLACK, 1, 0, 0, n_legend, opt, 0.8, 0.9, 2.0, 0.0,
             text_colors, text, box_colors, box_patterns, box_scales, box_widths, line_colors, line_styles, line_widths, symbol_colors, symbol_scales, symbol_numbers, symbols);
    GeoLegend(right + xoff * vpw, right + (xoff + lw) * vpw, bottom + (0.5 - lh / 2) * vph, bottom + (0.5 + lh / 2) * vph);
  }
}

/* Room on the right of the axes for the widest legend or colour bar of the figure. */
static double RightRoom(const HessaPlotFigure *fig)
{
  double room = 0.03;
  plschr(0.0, CHAR_SCALE);
  for (int k = 0; k < fig->n_panels; k++) {
    const char *text[HESSA_PLOT_MAX_LINES];
    double      w;
    double      fh, fw;
    CharSize(&fh, &fw);
    /* text at 0.9; symbols, the text offset and the box margins take about 0.08 of the page
     * (measured: legends of three-letter and of ten-letter labels were clipped at 0.065 and 0.08) */
    if (LegendEntries(&fig->panel[k], text, &w)) room = PetscMax(room, LEGEND_GAP + 0.9 * w + 0.085);
    if (fig->panel[k].contour) room = PetscMax(room, LEGEND_GAP + 0.03 + 0.8 * DIGIT_W * fw * 11 + 0.03);
  }
  return PetscMin(room, 0.55);
}

static void Draw(const HessaPlotFigure *fig)
{
  double room;
  pladv(0); /* first: the subpage sizes the text */
  room = RightRoom(fig);
  if (fig->n_panels == 1)
    DrawPanel(&fig->panel[0], 0.0, 1.0, 0.0, 1.0, room);
  else {
    DrawPanel(&fig->panel[0], 0.0, 1.0, 0.46, 1.0, room);
    DrawPanel(&fig->panel[1], 0.0, 1.0, 0.0, 0.44, room);
  }
}

/* ---- files ------------------------------------------------------------------------------- */
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
static void RenderDevice(const HessaPlotFigure *fig, const char folder[], const char name[], const char device[], const char ext[], HessaPlotResult *result, HessaStatus *st)
{
  char      path[PETSC_MAX_PATH_LEN], geometry[32];
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
  snprintf(geometry, sizeof geometry, "%dx%d", PAGE_W, PAGE_H);
  plsetopt("geometry", geometry);
  plsfam(0, -1, -1);
  SetPalette();
  plinit();
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

/* HessaPlotRender - rank 0, not collective. One PNG and one SVG of fig (and, with the
 * HESSA_PLOT_GEOMETRY environment variable, NAME.geometry.json). */
void HessaPlotRender(const HessaPlotFigure *fig, const char folder[], const char name[], const char skip_reason[], HessaPlotResult *result, HessaStatus *st)
{
  result->name = name;
  if (skip_reason) {
    snprintf(result->note, sizeof result->note, "%s", skip_reason);
    return;
  }
  if (plot_broken) {
    snprintf(result->note, sizeof result->note, "%s plot not drawn: an earlier PLplot failure in this process", name);
    return;
  }
  geo.on = getenv("HESSA_PLOT_GEOMETRY") ? PETSC_TRUE : PETSC_FALSE;
  GeoReset();
  RenderDevice(fig, folder, name, "pngcairo", "png", result, st);
  if (geo.on && !st->code && !result->note[0]) GeoWrite(folder, name, st);
  geo.on = PETSC_FALSE;
  GeoReset();
  if (!st->code && !result->note[0]) RenderDevice(fig, folder, name, "svg", "svg", result, st);
  result->written = !st->code && !result->note[0];
}
