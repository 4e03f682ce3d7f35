/* The files of `hessa landscape` (docs/landscape.md): line.csv or plane.csv, landscape.json
 * (partial after a graceful stop), the directions as NPY files and the line or contour plot.
 * World rank 0 writes, each file atomically; a fault ends every rank with one message. */
#include "report_impl.h"
#include <hessa/data.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* What the writers need: the spec the scan ran, the folder and the axis choice. */
typedef struct {
  HessaScanSpec spec;
  const char   *output;
  PetscBool     distance; /* axes as distances alpha |d| instead of coefficients */
} LandscapeOut;

static cJSON *Num(double x)
{
  return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}
static cJSON *NumArray(const double *x, PetscInt n)
{
  cJSON *a = cJSON_CreateArray();
  for (PetscInt i = 0; i < n; i++) cJSON_AddItemToArray(a, Num(x[i]));
  return a;
}

static void DirectionFile(PetscInt k, char name[], size_t len)
{
  snprintf(name, len, "direction_%d.npy", (int)k + 1);
}

static void WriteCSV(const LandscapeOut *o, const HessaScan *s, HessaStatus *st)
{
  char      path[PETSC_MAX_PATH_LEN + 16];
  HessaText t = {0};

  if (s->n_dirs == 1)
    HessaCSVLine(&t, s->points, s->grid, s->loss);
  else
    HessaCSVPlane(&t, s->points, s->grid, s->loss);
  snprintf(path, sizeof path, "%s/%s", o->output, s->n_dirs == 1 ? "line.csv" : "plane.csv");
  if (t.failed)
    HessaStatusSet(st, PETSC_ERR_MEM, "landscape: out of memory for the CSV file");
  else if (HessaWriteFileAtomic(path, t.data ? t.data : "", st))
    HessaStatusSet(st, PETSC_ERR_LIB, "landscape: cannot write '%s'", path);
  HessaTextFree(&t);
}

/* The directions as flat NPY vectors in parameter-table order (docs/weights.md). */
static void WriteDirections(const LandscapeOut *o, const HessaScan *s, HessaStatus *st)
{
  for (PetscInt k = 0; k < s->n_dirs && !st->code; k++) {
    char    name[32], path[PETSC_MAX_PATH_LEN + 40];
    int64_t shape[1] = {(int64_t)s->n};
    DirectionFile(k, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", o->output, name);
    if (HessaWriteNPY(path, 1, shape, s->dirs[k], 0)) {
      char msg[512];
      HessaErrorTake(msg, sizeof msg);
      HessaStatusSet(st, HESSA_ERR_INPUT, "landscape: %s", msg);
    }
  }
}

static void AxisLabel(const LandscapeOut *o, const HessaScan *s, PetscInt k, char label[], size_t len)
{
  const char *coef = k ? "beta" : "alpha";
  if (o->distance)
    snprintf(label, len, "distance %s |d%d| from the start", coef, (int)k + 1);
  else if (s->target)
    snprintf(label, len, "alpha (0: from, 1: to)");
  else
    snprintf(label, len, "%s (along d%d)", coef, (int)k + 1);
}

static void WritePlots(const LandscapeOut *o, const HessaScan *s, cJSON *doc, HessaStatus *st)
{
  char    xlabel[96], ylabel[96], title[160], note[256] = "";
  double *x, *y;

  x = malloc(2 * (size_t)s->points * sizeof(double));
  if (!x) {
    HessaStatusSet(st, PETSC_ERR_MEM, "landscape: out of memory for the plots");
    return;
  }
  y = x + s->points;
  for (PetscInt i = 0; i < s->points; i++) {
    x[i] = o->distance ? s->grid[i] * s->norms[0] : s->grid[i];
    y[i] = o->distance && s->n_dirs == 2 ? s->grid[i] * s->norms[1] : s->grid[i];
  }
  AxisLabel(o, s, 0, xlabel, sizeof xlabel);
  AxisLabel(o, s, 1, ylabel, sizeof ylabel);
  if (s->n_dirs == 1) {
    double          cx[2] = {0.0, o->distance ? s->norms[0] : 1.0}, cy[2] = {s->loss_at_theta, s->loss_at_target};
    HessaPlotSeries series[2] = {
        {x, s->loss, (int)s->points, "loss", PETSC_FALSE, PETSC_TRUE},
        {cx, cy, s->target ? 2 : 1, s->target ? "checkpoints A, B" : "theta", PETSC_TRUE, PETSC_FALSE},
    };
    if (s->target)
      snprintf(title, sizeof title, "loss between two checkpoints");
    else
      snprintf(title, sizeof title, "loss along a %s direction", HessaScanDirectionNames[o->spec.direction]);
    HessaPlotXY(o->output, "line", title, xlabel, "loss", PETSC_FALSE, 2, series, note, sizeof note, st);
  } else {
    snprintf(title, sizeof title, "loss over a plane of %s directions", HessaScanDirectionNames[o->spec.direction]);
    HessaPlotContour(o->output, "plane", title, xlabel, ylabel, "loss", (int)s->points, (int)s->points, x, y, s->loss, PETSC_TRUE, note, sizeof note, st);
  }
  if (note[0]) cJSON_AddStringToObject(doc, "plot_note", note);
  free(x);
}

static cJSON *Document(const LandscapeOut *o, const HessaScan *s)
{
  cJSON *doc = cJSON_CreateObject(), *dirs, *grid, *inputs, *a;
  int    argc;
  char **argv;

  cJSON_AddStringToObject(doc, "schema", "hessa-landscape");
  cJSON_AddNumberToObject(doc, "version", 1);
  cJSON_AddStringToObject(doc, "kind", s->n_dirs == 1 ? "line" : "plane");
  cJSON_AddStringToObject(doc, "directions_kind", HessaScanDirectionNames[o->spec.direction]);
  dirs = cJSON_AddArrayToObject(doc, "directions");
  for (PetscInt k = 0; k < s->n_dirs; k++) {
    cJSON *d = cJSON_CreateObject();
    char   name[32];
    DirectionFile(k, name, sizeof name);
    cJSON_AddStringToObject(d, "file", name);
    cJSON_AddItemToObject(d, "norm", Num(s->norms[k]));
    if (o->spec.direction == HESSA_SCAN_RANDOM) {
      cJSON_AddStringToObject(d, "normalisation", "filter (Li et al. 2018); biases zero");
      cJSON_AddNumberToObject(d, "seed", (double)o->spec.seed);
      cJSON_AddNumberToObject(d, "stream_offset", (double)k);
    } else if (o->spec.direction == HESSA_SCAN_EIGENVECTOR) {
      cJSON_AddStringToObject(d, "end", o->spec.which == HESSA_WHICH_LARGEST ? "largest" : "smallest");
      cJSON_AddNumberToObject(d, "index", (double)(s->n_dirs == 2 ? k : o->spec.index));
      cJSON_AddItemToObject(d, "eigenvalue", Num(s->eigenvalues[k]));
      cJSON_AddItemToObject(d, "residual", Num(s->residuals[k]));
    } else
      cJSON_AddStringToObject(d, "definition", "B - A");
    cJSON_AddItemToArray(dirs, d);
  }
  grid = cJSON_AddObjectToObject(doc, "grid");
  cJSON_AddNumberToObject(grid, "lo", o->spec.lo);
  cJSON_AddNumberToObject(grid, "hi", o->spec.hi);
  cJSON_AddNumberToObject(grid, "points", (double)s->points);
  cJSON_AddItemToObject(grid, "values", NumArray(s->grid, s->points));
  if (s->n_dirs == 1)
    cJSON_AddItemToObject(doc, "losses", NumArray(s->loss, s->points));
  else {
    cJSON *rows = cJSON_AddArrayToObject(doc, "losses"); /* rows: alpha, columns: beta */
    for (PetscInt i = 0; i < s->points; i++) cJSON_AddItemToArray(rows, NumArray(s->loss + i * s->points, s->points));
  }
  cJSON_AddItemToObject(doc, "loss_at_theta", Num(s->loss_at_theta));
  if (s->target) cJSON_AddItemToObject(doc, "loss_at_target", Num(s->loss_at_target));
  cJSON_AddBoolToObject(doc, "partial", s->stopped);
  if (s->stopped) cJSON_AddNumberToObject(doc, "points_done", (double)s->n_done);
  inputs = cJSON_AddObjectToObject(doc, "inputs");
  cJSON_AddStringToObject(inputs, "command", "landscape");
  a = cJSON_AddArrayToObject(inputs, "argv");
  if (!PetscGetArgs(&argc, &argv))
    for (int i = 0; i < argc; i++) cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
  if (s->target) {
    cJSON_AddStringToObject(inputs, "from", o->spec.from);
    cJSON_AddStringToObject(inputs, "to", o->spec.to);
  }
  cJSON_AddStringToObject(inputs, "model", s->model);
  cJSON_AddStringToObject(inputs, "description", s->description);
  cJSON_AddNumberToObject(inputs, "parameters", (double)s->n);
  cJSON_AddNumberToObject(inputs, "group_size", (double)s->group_size);
  cJSON_AddNumberToObject(inputs, "groups", (double)s->n_groups);
  cJSON_AddStringToObject(inputs, "hessa_version", HESSA_VERSION);
  cJSON_AddStringToObject(inputs, "commit", HessaCommit());
  cJSON_AddNumberToObject(doc, "loss_evaluations", (double)(s->n_dirs == 2 ? s->points * s->points : s->points));
  return doc;
}

/* HessaReportLandscape - collective on comm; see report.h. */
PetscErrorCode HessaReportLandscape(MPI_Comm comm, const char folder[], const HessaScanSpec *spec, PetscBool distance, const HessaScan *s)
{
  const LandscapeOut out = {*spec, folder, distance}, *o = &out;
  PetscMPIInt        rank;
  HessaStatus        st = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    cJSON *doc = Document(o, s);
    char  *text, path[PETSC_MAX_PATH_LEN + 16];
    /* a stopped scan: landscape.json alone (losses null where not done) beside its state */
    if (!s->stopped) WriteCSV(o, s, &st);
    if (!st.code) WriteDirections(o, s, &st);
    if (!st.code && !s->stopped) WritePlots(o, s, doc, &st);
    text = cJSON_Print(doc);
    snprintf(path, sizeof path, "%s/landscape.json", o->output);
    if (!st.code && text && HessaWriteFileAtomic(path, text, &st)) HessaStatusSet(&st, PETSC_ERR_LIB, "landscape: cannot write '%s'", path);
    cJSON_free(text);
    cJSON_Delete(doc);
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}
