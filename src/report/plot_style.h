/* hessa's plotting style: one figure engine for every plot hessa writes (report, train,
 * landscape, study), so that every plot follows the same rules:
 *
 *   - white background, black frame and text, a colour-blind-friendly palette (Okabe-Ito);
 *   - legends and colour bars outside the axes, to the right: never over data;
 *   - ticks placed and labelled here (not by PLplot's automatic labels, which hide the
 *     variation behind a "x10^k" offset): as many digits as the tick step needs, and a
 *     relative-change axis when the data vary by less than 1e-5 of their value;
 *   - log and symmetric-log axes with labelled powers of ten;
 *   - titles scaled down to fit the page.
 *
 * With the environment variable HESSA_PLOT_GEOMETRY set (a test hook), rendering also
 * writes NAME.geometry.json beside the PNG: each panel's axes box, its data points and
 * every legend box, all in page coordinates ([0,1] x [0,1], y up), and the tick labels
 * drawn on each axis (x_ticks, y_ticks, as PLplot text) with whether the axis is an integer
 * axis (x_integer, y_integer), so a test can check that the data lie inside the axes, no
 * legend covers a data point, and an integer axis reads 1, 2, 3 (not 1.0, 1.5, 2.0).
 */
#ifndef HESSA_PLOT_STYLE_H
#define HESSA_PLOT_STYLE_H

#include "report_impl.h"

#define HESSA_MARK_CIRCLE "\u25CB" /* converged / measured */
#define HESSA_MARK_CROSS "\u00D7"  /* not converged / the other sign */
#define HESSA_MARK_DOT "\u25CF"    /* filled */

typedef struct {
  HessaPlotAxisScale scale;
  const char        *label;
  double             linthresh;    /* symlog: c in sign(v) log10(1 + |v|/c); 0: from the data */
  PetscBool          zero;         /* include 0 in the range and draw the line v = 0 (not on log axes) */
  double             mark;         /* NAN, or a value marked by a dashed line */
  const char *const *categories;   /* ticks at 0, 1, ... labelled with these names */
  int                n_categories; /* 0: a numeric axis */
  PetscBool          integer;      /* an index, a count, a step (linear axes): ticks at whole numbers only, labelled without decimals */
} HessaPlotAxis;

typedef struct {
  const double  *x, *y; /* data coordinates */
  int            n;
  HessaPlotColor color;
  const char    *symbol;    /* HESSA_MARK_* drawn at each point, NULL: none */
  int            line;      /* 0: none, 1: solid, 2: dashed */
  double         bar_width; /* > 0: a filled bar at each point, this wide in the drawn x coordinate
                               (after the axis transform), from 0 (or the bottom of a log axis) to y */
  const char *label;        /* legend text, NULL: not in the legend */
} HessaPlotLine;

typedef struct {
  int           nx, ny;
  const double *x, *y, *z; /* z[i * ny + j] at (x[i], y[j]), all finite, x and y increasing */
  const char   *zlabel;
  PetscBool     mark_origin; /* a cross at (0, 0) when inside */
} HessaPlotContourData;

#define HESSA_PLOT_MAX_LINES 8
typedef struct {
  const char                 *title;
  HessaPlotAxis               x, y;
  HessaPlotLine               line[HESSA_PLOT_MAX_LINES];
  int                         n_lines;
  const HessaPlotContourData *contour; /* a filled contour plot (the lines are drawn over it) */
} HessaPlotPanel;

/* One or two panels stacked vertically (panel 0 on top). */
typedef struct {
  HessaPlotPanel panel[2];
  int            n_panels;
} HessaPlotFigure;

/* Axis defaults: linear, no mark. */
void HessaPlotAxisInit(HessaPlotAxis *axis, const char label[]);

/* Rank 0, not collective: draws fig into folder/name.png and folder/name.svg (atomically);
 * result says whether it was written or why not (skip_reason, or a PLplot failure); a file
 * that cannot be written is an error recorded in st. */
void HessaPlotRender(const HessaPlotFigure *fig, const char folder[], const char name[], const char skip_reason[], HessaPlotResult *result, HessaStatus *st);

/* Not collective: the symmetric-log threshold for values v[n]: the smallest non-zero |v|,
 * at least 1e-9 of the largest (1 when all are zero). */
double HessaPlotSymlogThreshold(int n, const double v[]);
/* Not collective: sign(v) log10(1 + |v|/c) and its inverse. */
double HessaPlotSymlog(double v, double c);
double HessaPlotSymlogInverse(double t, double c);

#endif
