/* hessa report: turns the analysis layer's report document (one cJSON tree, layout in
 * docs/report-schema.md) into files for a program and for a person:
 *
 *   report.json         the document itself (validated by docs/report.schema.json)
 *   report.md           the verdict first, then the numbers that justify it
 *   eigenvalues.csv     kind,index,value,residual,converged
 *   density.csv         grid,density            (when a density is present)
 *   density_nodes.csv   probe,node,weight       (when a density is present)
 *   *.png / *.svg       density, eigenvalues, escape, newton plots (PLplot)
 *
 * The report layer never recomputes anything. Only rank 0 writes; every file is
 * written to NAME.tmp and renamed, so a reader never sees half a file.
 */
#ifndef HESSA_REPORT_H
#define HESSA_REPORT_H

#include <hessa/analysis.h>
#include <cJSON.h>

/* Collective on comm: check that `folder` exists or can be created and is writable
 * (rank 0 tries creating it and writing a probe file), so a run fails BEFORE
 * computing anything; on failure every rank raises
 * "output folder '<folder>': cannot create|not writable: <strerror>". */
PetscErrorCode HessaReportCheckFolder(MPI_Comm comm, const char folder[]);

/* Collective on comm: rank 0 writes report.json, report.md, eigenvalues.csv,
 * density.csv and density_nodes.csv (when present), and plots density.png/.svg,
 * eigenvalues.png/.svg, spectrum_histogram.png/.svg (full spectrum), escape.png/.svg,
 * newton.png/.svg (those whose data are present). Options read: -hessa_report_plots (default true),
 * -hessa_report_density_log (log scale for the density plot, default true;
 * false: linear).
 * Any write failure on rank 0 becomes an error on every rank (HessaStatus +
 * HessaSyncError). doc is not modified; only rank 0 reads it (other ranks may pass NULL). */
PetscErrorCode HessaReportWrite(MPI_Comm comm, const cJSON *doc, const char folder[]);
/* Collective on comm: read the options of HessaReportWrite and nothing else (with -help,
 * PETSc prints them: `hessa analyze -help`). */
PetscErrorCode HessaReportOptionsHelp(MPI_Comm comm);

/* Not collective: the report document of an analysis (docs/report-schema.md; the caller
 * deletes it). A stopped analysis (a->stopped) gives a partial document: "partial": true,
 * "stopped_before": the phase not run, verdict type "stopped" when it came before the
 * classification, and only the parts computed. */
cJSON *HessaReportAnalysisDocument(const HessaAnalysis *a);
/* Collective on comm: rank 0 builds the document of a and writes it into folder with
 * HessaReportWrite. doc_out (may be NULL): rank 0 gets the document (caller deletes it),
 * the other ranks NULL. */
PetscErrorCode HessaReportAnalysis(MPI_Comm comm, const HessaAnalysis *a, const char folder[], cJSON **doc_out);

/* ---- CSV tables: one writer per table, used by every command, in one format (docs/reports.md):
 * a header row, numbers %.17g (17 significant digits), a non-finite number an empty field,
 * indices from 1, booleans true/false, text quoted (RFC 4180). Not collective: they append
 * to t (call on the rank that writes). ---- */
/* One field: a number (empty when not finite), a boolean (empty when b < 0), quoted text, or
 * a JSON value (number, boolean or string; anything else, null included, is empty). */
void HessaCSVNumber(HessaText *t, double x);
void HessaCSVBool(HessaText *t, int b);
void HessaCSVString(HessaText *t, const char *s);
void HessaCSVJSONValue(HessaText *t, const cJSON *v);
/* landscape: alpha,loss over n grid points; plane alpha,beta,loss with loss[i * n + j] at
 * (grid[i], grid[j]). */
void HessaCSVLine(HessaText *t, PetscInt n, const double grid[], const double loss[]);
void HessaCSVPlane(HessaText *t, PetscInt n, const double grid[], const double loss[]);
/* train_log.csv: step,loss,gradient_norm,lambda_max (lambda_max NaN: not measured, empty). */
void HessaCSVTrainLogHeader(HessaText *t);
void HessaCSVTrainLogRow(HessaText *t, PetscInt step, double loss, double gradient_norm, double lambda_max);
/* eigenvalues: kind,index,value,residual,converged. index counts from 1 (largest: 1 is the
 * largest; smallest: 1 is the smallest; full: ascending); converged true/false, or empty
 * (converged < 0, and always for full rows, which have no residual). */
void HessaCSVEigenvaluesHeader(HessaText *t);
void HessaCSVEigenvalueRow(HessaText *t, const char kind[], PetscInt index, double value, double residual, int converged);
/* The whole table: the pairs of largest and smallest (either may be NULL), then full[n_full]. */
void HessaCSVEigenvalues(HessaText *t, const HessaExtremes *largest, const HessaExtremes *smallest, PetscInt n_full, const double full[]);
/* density: grid,density (the smoothed SLQ density). */
void HessaCSVDensityHeader(HessaText *t);
void HessaCSVDensityRow(HessaText *t, double grid, double density);
void HessaCSVDensity(HessaText *t, const HessaDensity *d);
/* SLQ nodes: probe,node,weight (probe counts from 1, probe-major). */
void HessaCSVDensityNodesHeader(HessaText *t);
void HessaCSVDensityNodeRow(HessaText *t, PetscInt probe, double node, double weight);
void HessaCSVDensityNodes(HessaText *t, const HessaDensity *d);
/* trace: method,samples,estimate,standard_error, one row per estimate. */
void HessaCSVTrace(HessaText *t, PetscInt n, const HessaTrace trace[]);

/* ---- `hessa spectrum -hessa_spectrum_output FOLDER` (docs/spectrum.md) ---- */
/* What one run of `hessa spectrum` computed (pointers not owned; only rank 0 reads them). */
typedef struct {
  const HessaSpectrumKey  *key;     /* which parts were asked for */
  const HessaExtremes     *ex;      /* ex[0] largest, ex[1] smallest; NULL: none */
  const HessaFullSpectrum *full;    /* NULL: not computed */
  const HessaDensity      *density; /* allocated when key->density */
  const HessaTrace        *trace;   /* trace[0] Hutchinson, trace[1] Hutch++ */
  double                   loss, gradient_norm;
  const char              *operator_name; /* "hessian" or "ggn" */
  const char              *subset;        /* "" for all parameters */
  PetscInt                 n_params;      /* parameters of the model (n_op of the operator in key) */
  PetscMPIInt              ranks;
  PetscInt64               products;
  PetscBool                partial; /* stopped on request: report.json says what is missing */
} HessaSpectrumReport;
/* Collective on comm: rank 0 writes folder/report.json ("schema": "hessa-spectrum-report",
 * version 1; "partial" and "missing": what a stopped run has not computed; "results": loss,
 * gradient norm, extremes, full spectrum, density and trace in the layout of hessa analyze's
 * report, docs/report-schema.md) and, when complete, the same report set as hessa analyze
 * for what was computed: report.md, eigenvalues.csv, density.csv, density_nodes.csv, the
 * plots (HessaReportWrite), and trace.csv. */
PetscErrorCode HessaReportSpectrum(MPI_Comm comm, const char folder[], const HessaSpectrumReport *r);
/* Collective on comm (-hessa_spectrum_csv PREFIX): rank 0 writes PREFIX_eigenvalues.csv (ex[0]
 * largest, ex[1] smallest, then full when not NULL) and, when d is not NULL,
 * PREFIX_density.csv and PREFIX_slq_nodes.csv, each atomically with the tables above. */
PetscErrorCode HessaReportSpectrumCSV(MPI_Comm comm, const char prefix[], const HessaExtremes ex[2], const HessaFullSpectrum *full, const HessaDensity *d);

/* ---- `hessa landscape` (docs/landscape.md) ---- */
/* Collective on comm: rank 0 writes folder/landscape.json ("partial" after a graceful stop:
 * losses null where not done) and, for a complete scan, line.csv or plane.csv and the line or
 * contour plot; the directions as direction_<k>.npy always. distance: plot the axes as
 * distances alpha |d| instead of coefficients. */
PetscErrorCode HessaReportLandscape(MPI_Comm comm, const char folder[], const HessaScanSpec *spec, PetscBool distance, const HessaScan *scan);

/* Atomic files (HessaFileBegin/Commit, HessaWriteFileAtomic) and the text buffer
 * (HessaText) live in hessa/core.h. */

/* ---- plots for other commands (train, landscape, study) ---- */
/* Every plot is drawn by one style (src/report/plot_style.c): white background, a
 * colour-blind-friendly palette, the legend outside the axes (never over data), tick labels
 * with the digits the data need (no hidden offset; a relative-change axis when the data vary
 * below 1e-5 of their value). With the environment variable HESSA_PLOT_GEOMETRY set, each
 * plot also writes NAME.geometry.json: its axes, data points and legend boxes in page
 * coordinates (a test hook, docs/plots.md). */

/* Data colours (the palette's indices); AUTO picks the next colour of the palette. */
typedef enum {
  HESSA_PLOT_COLOR_AUTO   = 0,
  HESSA_PLOT_COLOR_BLACK  = 1,
  HESSA_PLOT_COLOR_BLUE   = 2,
  HESSA_PLOT_COLOR_ORANGE = 3,
  HESSA_PLOT_COLOR_GREEN  = 4,
  HESSA_PLOT_COLOR_RED    = 5,
  HESSA_PLOT_COLOR_PURPLE = 6,
  HESSA_PLOT_COLOR_GREY   = 7,
  HESSA_PLOT_COLOR_SKY    = 8
} HessaPlotColor;

/* Axis scales: linear; log (values must be positive, others are dropped); symmetric log
 * (sign(v) log10(1 + |v|/c): both signs, small and large values readable at once). */
typedef enum { HESSA_PLOT_AXIS_LINEAR = 0, HESSA_PLOT_AXIS_LOG = 1, HESSA_PLOT_AXIS_SYMLOG = 2 } HessaPlotAxisScale;

/* Not collective: the colour of a verdict name (local_minimum, local_maximum, saddle,
 * degenerate, not_critical, failed; anything else black), the same in every plot. */
HessaPlotColor HessaPlotVerdictColor(const char verdict[]);

/* One series of an x-y plot. */
typedef struct {
  const double *x, *y;
  int           n;
  const char   *label;  /* legend text, NULL: not in the legend */
  PetscBool     points; /* draw a symbol at each point */
  PetscBool     line;   /* join the points */
} HessaPlotSeries;

/* Not collective (call on the rank that writes): as HessaPlotXY, with a scale for each axis
 * and a colour for each series (color may be NULL: the palette in order). A linear x axis
 * whose values are all whole numbers (training steps, indices) is an integer axis: ticks at
 * whole numbers, labelled 1, 2, 3 (the same holds for HessaPlotXY). */
void HessaPlotXYScaled(const char folder[], const char name[], const char title[], const char xlabel[], const char ylabel[], HessaPlotAxisScale x_scale, HessaPlotAxisScale y_scale, int n_series, const HessaPlotSeries series[],
                       const HessaPlotColor color[], char note[], size_t note_len, HessaStatus *st);

/* Not collective (call on the rank that writes): a bar chart into folder/name.png and .svg,
 * one filled bar per category (value[i] >= 0, named name_of[i] on the x axis, coloured
 * color[i]; color may be NULL). note and st as for HessaPlotXY. Whole-number values (counts)
 * get an integer y axis. */
void HessaPlotBars(const char folder[], const char name[], const char title[], const char ylabel[], int n, const char *const name_of[], const double value[], const HessaPlotColor color[], char note[], size_t note_len, HessaStatus *st);

/* Not collective (call on the rank that writes): draw up to 6 series into
 * folder/name.png and folder/name.svg (atomically). With log_y the y values must be
 * positive; they are plotted as log10 on a labelled power-of-ten axis. Non-finite
 * points are dropped. When nothing can be drawn (no finite point, or PLplot failed)
 * the files are not written and note says why (note may be NULL); a file that cannot
 * be written is an error recorded in st. */
void HessaPlotXY(const char folder[], const char name[], const char title[], const char xlabel[], const char ylabel[], PetscBool log_y, int n_series, const HessaPlotSeries series[], char note[], size_t note_len, HessaStatus *st);

/* Not collective (call on the rank that writes): a filled contour plot of z over a grid,
 * z[i * ny + j] at (x[i], y[j]) with x and y increasing, into folder/name.png and .svg
 * (atomically): 20 viridis shades with levels log-spaced above the smallest value (so a
 * basin is resolved as well as its walls), 10 black contour lines, a colour bar labelled
 * zlabel, white background; with mark_origin a cross at (0, 0).
 * Non-finite values are drawn at the top of the scale. When nothing can be drawn (a grid
 * smaller than 2 x 2, not increasing, no finite value, or PLplot failed) the files are not
 * written and note says why (note may be NULL); a file that cannot be written is an error
 * recorded in st. */
void HessaPlotContour(const char folder[], const char name[], const char title[], const char xlabel[], const char ylabel[], const char zlabel[], int nx, int ny, const double x[], const double y[], const double z[], PetscBool mark_origin, char note[],
                      size_t note_len, HessaStatus *st);

#endif
