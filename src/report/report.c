/* Report layer: the collective entry points and small helpers for reading the report
 * document (files are written through the core's atomic files, hessa/core.h).
 *
 * Only rank 0 touches the file system. It records the first fault in a HessaStatus
 * and carries on with nothing else; HessaSyncError then raises that fault on every
 * rank, so a full disk on rank 0 ends the whole run with one message, never a hang.
 */
#include "report_impl.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- document access -------------------------------------------------------------- */
const cJSON *HessaJObject(const cJSON *o, const char key[])
{
  const cJSON *item = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  return cJSON_IsObject(item) ? item : NULL;
}

const cJSON *HessaJArray(const cJSON *o, const char key[])
{
  const cJSON *item = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  return cJSON_IsArray(item) ? item : NULL;
}

const char *HessaJString(const cJSON *o, const char key[])
{
  const cJSON *item = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  return cJSON_IsString(item) ? item->valuestring : NULL;
}

PetscBool HessaJNumber(const cJSON *o, const char key[], double *v)
{
  const cJSON *item = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  if (!cJSON_IsNumber(item)) return PETSC_FALSE;
  *v = item->valuedouble;
  return PETSC_TRUE;
}

PetscBool HessaJBool(const cJSON *o, const char key[], PetscBool *v)
{
  const cJSON *item = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  if (!cJSON_IsBool(item)) return PETSC_FALSE;
  *v = cJSON_IsTrue(item) ? PETSC_TRUE : PETSC_FALSE;
  return PETSC_TRUE;
}

PetscBool HessaJNumbers(const cJSON *a, double **x, int *count)
{
  const cJSON *item;
  int          n = 0;

  *x     = NULL;
  *count = 0;
  if (!cJSON_IsArray(a)) return PETSC_FALSE;
  n = cJSON_GetArraySize(a);
  if (n == 0) return PETSC_TRUE;
  *x = malloc((size_t)n * sizeof(double));
  if (!*x) return PETSC_FALSE;
  n = 0;
  cJSON_ArrayForEach(item, a)
  {
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
      free(*x);
      *x = NULL;
      return PETSC_FALSE;
    }
    (*x)[n++] = item->valuedouble;
  }
  *count = n;
  return PETSC_TRUE;
}

/* ---- files -------------------------------------------------------------------------- */
/* HessaReportWriteText - not collective. Writes t to folder/name through the core's
 * atomic file (HessaWriteFileAtomic). Output: st records a fault. */
void HessaReportWriteText(const char folder[], const char name[], const HessaText *t, HessaStatus *st)
{
  char path[PETSC_MAX_PATH_LEN];

  if (st->code) return;
  if (t->failed) {
    HessaStatusSet(st, PETSC_ERR_MEM, "report file '%s/%s': out of memory while building it", folder, name);
    return;
  }
  if (snprintf(path, sizeof path, "%s/%s", folder, name) >= (int)sizeof path) {
    HessaStatusSet(st, HESSA_ERR_ARG, "report file '%s/%s': path too long", folder, name);
    return;
  }
  if (HessaWriteFileAtomic(path, t->data ? t->data : "", st)) HessaStatusSet(st, PETSC_ERR_LIB, "report file '%s': internal error", path);
}

/* Rank 0: create folder and its parents (like mkdir -p), then write and remove a probe file. */
static void CheckFolderLocal(const char folder[], HessaStatus *st)
{
  char        path[PETSC_MAX_PATH_LEN];
  struct stat sb;
  size_t      len = strlen(folder);
  FILE       *f;

  if (len == 0 || len >= sizeof path - 32) {
    HessaStatusSet(st, HESSA_ERR_ARG, "output folder '%s': cannot create: %s", folder, len ? "path too long" : "empty name");
    return;
  }
  memcpy(path, folder, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (path[i] != '/' && path[i] != 0) continue;
    char saved = path[i];
    path[i]    = 0;
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
      HessaStatusSet(st, PETSC_ERR_FILE_OPEN, "output folder '%s': cannot create: %s", folder, strerror(errno));
      return;
    }
    path[i] = saved;
  }
  if (stat(folder, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    HessaStatusSet(st, PETSC_ERR_FILE_OPEN, "output folder '%s': cannot create: %s", folder, strerror(stat(folder, &sb) != 0 ? errno : ENOTDIR));
    return;
  }
  /* access() is not enough (root, read-only mounts): really write a file. */
  snprintf(path, sizeof path, "%s/.hessa-write-probe.%ld", folder, (long)getpid());
  f = fopen(path, "wb");
  if (!f || fputs("probe\n", f) < 0 || fclose(f) != 0) {
    HessaStatusSet(st, PETSC_ERR_FILE_OPEN, "output folder '%s': not writable: %s", folder, strerror(errno));
    if (f) remove(path);
    return;
  }
  if (remove(path) != 0) HessaStatusSet(st, PETSC_ERR_FILE_OPEN, "output folder '%s': not writable: %s", folder, strerror(errno));
}

/* HessaReportCheckFolder - collective on comm. See report.h. */
PetscErrorCode HessaReportCheckFolder(MPI_Comm comm, const char folder[])
{
  PetscMPIInt rank;
  HessaStatus st = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) CheckFolderLocal(folder ? folder : "", &st);
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}

/* Files this layer may write; a file of a previous run that this run does not write
 * again is removed, so the folder never mixes two runs. */
static const char *const ReportFiles[] = {"report.json", "report.md", "eigenvalues.csv", "density.csv", "density_nodes.csv", "density.png", "density.svg", "eigenvalues.png", "eigenvalues.svg", "escape.png", "escape.svg", "newton.png", "newton.svg",
                                          "spectrum_histogram.png", "spectrum_histogram.svg",
                                          /* the HESSA_PLOT_GEOMETRY test hook's sidecars */
                                          "density.geometry.json", "eigenvalues.geometry.json", "spectrum_histogram.geometry.json", "escape.geometry.json", "newton.geometry.json"};

static void RemoveStaleFiles(const char folder[], HessaStatus *st)
{
  char path[PETSC_MAX_PATH_LEN];

  for (size_t i = 0; i < sizeof ReportFiles / sizeof ReportFiles[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", folder, ReportFiles[i]);
    if (remove(path) != 0 && errno != ENOENT) {
      HessaStatusSet(st, PETSC_ERR_FILE_WRITE, "report file '%s': cannot remove the previous run's file: %s", path, strerror(errno));
      return;
    }
  }
}

/* Rank 0: the document must at least say what it is and give a verdict (an analysis) or be
 * the report of `hessa spectrum`, which classifies nothing. */
static void CheckDocument(const cJSON *doc, HessaStatus *st)
{
  const char *schema = HessaJString(doc, "schema"), *type = HessaJString(HessaJObject(doc, "verdict"), "type");
  double      version;

  if (cJSON_IsObject(doc) && schema && !strcmp(schema, "hessa-spectrum-report") && HessaJNumber(doc, "version", &version) && version == 1) return;
  if (!cJSON_IsObject(doc) || !schema || strcmp(schema, "hessa-report") != 0)
    HessaStatusSet(st, HESSA_ERR_ARG, "report document: \"schema\" must be \"hessa-report\" (or \"hessa-spectrum-report\")");
  else if (!HessaJNumber(doc, "version", &version) || version != 1)
    HessaStatusSet(st, HESSA_ERR_ARG, "report document: this writer knows version 1 only");
  else if (!type)
    HessaStatusSet(st, HESSA_ERR_ARG, "report document: \"verdict\".\"type\" is missing");
}

/* Rank 0: every file, in an order where report.json comes last, so that a complete
 * report.json means a complete report. */
static PetscErrorCode WriteAllLocal(const cJSON *doc, const char folder[], HessaPlots *plots, HessaStatus *st)
{
  HessaText md = {0}, json = {0};
  PetscBool wrote_density = PETSC_FALSE;

  PetscFunctionBegin;
  CheckDocument(doc, st);
  if (!st->code) CheckFolderLocal(folder, st);
  if (!st->code) RemoveStaleFiles(folder, st);
  if (!st->code) HessaReportWriteCSV(doc, folder, &wrote_density, st);
  if (!st->code) HessaReportWritePlots(doc, folder, plots, st);
  if (!st->code) {
    HessaReportMarkdown(doc, plots, wrote_density, &md);
    HessaReportWriteText(folder, "report.md", &md, st);
  }
  if (!st->code) {
    json.data   = cJSON_Print(doc);
    json.failed = json.data == NULL;
    if (json.data) {
      json.len = strlen(json.data);
      HessaTextPrintf(&json, "\n");
    }
    HessaReportWriteText(folder, "report.json", &json, st);
  }
  HessaTextFree(&md);
  HessaTextFree(&json);
  PetscFunctionReturn(0);
}

/* The report options (collective on comm): into plots, which starts zeroed. */
static PetscErrorCode ReportOptions(MPI_Comm comm, HessaPlots *plots)
{
  PetscFunctionBegin;
  memset(plots, 0, sizeof *plots);
  plots->enabled     = PETSC_TRUE;
  plots->density_log = PETSC_TRUE; /* as the field plots it: the outliers and the tails are visible */
  PetscOptionsBegin(comm, NULL, "hessa report options", NULL);
  PetscCall(PetscOptionsBool("-hessa_report_plots", "draw the PNG/SVG plots", "HessaReportWrite", plots->enabled, &plots->enabled, NULL));
  PetscCall(PetscOptionsBool("-hessa_report_density_log", "log scale for the density plot (false: linear)", "HessaReportWrite", plots->density_log, &plots->density_log, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

/* HessaReportOptionsHelp - collective on comm; see report.h. */
PetscErrorCode HessaReportOptionsHelp(MPI_Comm comm)
{
  HessaPlots plots;

  PetscFunctionBegin;
  PetscCall(ReportOptions(comm, &plots));
  PetscFunctionReturn(0);
}

/* HessaReportWrite - collective on comm. See report.h.
 * Options read: -hessa_report_plots, -hessa_report_density_log. */
PetscErrorCode HessaReportWrite(MPI_Comm comm, const cJSON *doc, const char folder[])
{
  PetscMPIInt rank;
  HessaStatus st = {0};
  HessaPlots  plots;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(ReportOptions(comm, &plots));
  if (rank == 0) {
    /* Not PetscCall: a PETSc error here must reach the other ranks, not leave them waiting. */
    PetscErrorCode ierr = WriteAllLocal(doc, folder ? folder : "", &plots, &st);
    if (ierr) HessaStatusSet(&st, ierr, "report folder '%s': internal error %d while writing", folder ? folder : "", (int)ierr);
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}
