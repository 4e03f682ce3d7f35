/* Internals of the report layer, shared by report.c, markdown.c, csv.c and plots.c.
 *
 * Everything here runs on rank 0 only. Faults are recorded in a HessaStatus instead of
 * being raised, so that HessaReportWrite can hand them to every rank (HessaSyncError).
 */
#ifndef HESSA_REPORT_IMPL_H
#define HESSA_REPORT_IMPL_H

#include <hessa/report.h>
#include <stdarg.h>

/* ---- reading the document (NULL or false when absent, null or of the wrong type) ---- */
const cJSON *HessaJObject(const cJSON *o, const char key[]);
const cJSON *HessaJArray(const cJSON *o, const char key[]);
const char  *HessaJString(const cJSON *o, const char key[]);
PetscBool    HessaJNumber(const cJSON *o, const char key[], double *v);
PetscBool    HessaJBool(const cJSON *o, const char key[], PetscBool *v);
/* Not collective: the numbers of array a, all finite, into a new buffer (*x freed by caller). */
PetscBool HessaJNumbers(const cJSON *a, double **x, int *count);

/* ---- one plot per figure; what was drawn and what was skipped, for report.md ---- */
#define HESSA_REPORT_MAX_PLOTS 6
typedef struct {
  const char *name; /* "density": files density.png and density.svg */
  PetscBool   written;
  char        note[256]; /* why it was skipped (empty when written or when there is no data) */
} HessaPlotResult;

typedef struct {
  int             count;
  HessaPlotResult plot[HESSA_REPORT_MAX_PLOTS];
  PetscBool       enabled;     /* -hessa_report_plots */
  PetscBool       density_log; /* -hessa_report_density_log */
} HessaPlots;

/* Rank 0. Each writes its files into folder atomically; faults go to st. */
void HessaReportWriteCSV(const cJSON *doc, const char folder[], PetscBool *wrote_density, HessaStatus *st);
void HessaReportWritePlots(const cJSON *doc, const char folder[], HessaPlots *plots, HessaStatus *st);
void HessaReportMarkdown(const cJSON *doc, const HessaPlots *plots, PetscBool wrote_density, HessaText *md);

/* Rank 0, not collective (document.c): the provenance object (versions, commit, date, host)
 * and the options database as {"-key": "value"}, for every report document. */
cJSON *HessaReportProvenanceJSON(void);
cJSON *HessaReportOptionsJSON(void);
/* Rank 0, not collective (src/report/verdict.c): the verdict's error bounds, signs, fraction
 * source and refinement in report.json, and their definitions in report.md. */
void HessaReportVerdictJSON(const HessaAnalysis *a, cJSON *v);
void HessaReportVerdictMarkdown(HessaText *md, const cJSON *verdict);
void HessaReportDensityNote(HessaText *md, const cJSON *verdict, const cJSON *density);

/* Rank 0, not collective: write text (or t) to folder/name atomically, fault into st. */
void HessaReportWriteText(const char folder[], const char name[], const HessaText *t, HessaStatus *st);

#endif
