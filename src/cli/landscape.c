/* hessa landscape: the loss along a line or over a plane through parameter space
 * (docs/landscape.md). The scan is HessaScanRun (analysis layer); this file reads the
 * options and writes line.csv / plane.csv, landscape.json, the directions as NPY files
 * and the plots (world rank 0 only, each file atomically).
 */
#include "cli.h"
#include <hessa/analysis.h>
#include <hessa/data.h>
#include <hessa/report.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  HessaScanSpec spec;
  char          output[PETSC_MAX_PATH_LEN];
  PetscBool     distance;
} LandscapeOptions;

static PetscErrorCode ReadOptions(LandscapeOptions *o)
{
  const char *directions[] = {"random", "eigenvector"}, *ends[] = {"largest", "smallest"};
  PetscInt    direction = 0, end = 0, seed = 1, n_range = 2;
  PetscReal   range[2];
  PetscBool   from_set, to_set, range_set, points_set, weights;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  PetscCall(PetscStrncpy(o->output, "hessa-landscape", sizeof o->output));
  o->spec.eps_tol = 1e-10;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "hessa landscape options", NULL);
  PetscCall(PetscOptionsString("-hessa_landscape_output", "folder for line.csv or plane.csv, landscape.json, directions and plots", "HessaScanRun", o->output, o->output, sizeof o->output, NULL));
  PetscCall(PetscOptionsString("-hessa_landscape_from", "weight folder A: scan theta(alpha) = (1 - alpha) A + alpha B", "HessaScanRun", o->spec.from, o->spec.from, sizeof o->spec.from, &from_set));
  PetscCall(PetscOptionsString("-hessa_landscape_to", "weight folder B (same architecture as A)", "HessaScanRun", o->spec.to, o->spec.to, sizeof o->spec.to, &to_set));
  PetscCall(PetscOptionsEList("-hessa_landscape_direction", "direction(s) at the model's point: filter-normalised random, or Hessian eigenvector(s)", "HessaScanRun", directions, 2, directions[0], &direction, NULL));
  PetscCall(PetscOptionsEList("-hessa_landscape_which", "eigenvector directions: which end of the spectrum", "HessaSpectrumExtremes", ends, 2, ends[0], &end, NULL));
  PetscCall(PetscOptionsInt("-hessa_landscape_index", "eigenvector line: 0-based index from that end (a plane uses 0 and 1)", "HessaScanRun", o->spec.index, &o->spec.index, NULL));
  PetscCall(PetscOptionsReal("-hessa_landscape_eps_tol", "eigenvector directions: relative tolerance of the eigenpairs", "HessaSpectrumExtremes", o->spec.eps_tol, &o->spec.eps_tol, NULL));
  PetscCall(PetscOptionsInt("-hessa_landscape_seed", "random directions: seed (direction k uses stream HESSA_STREAM_LANDSCAPE + k)", "HessaScanRun", seed, &seed, NULL));
  PetscCall(PetscOptionsBool("-hessa_landscape_plane", "scan a plane theta + alpha d1 + beta d2 instead of a line", "HessaScanRun", o->spec.plane, &o->spec.plane, NULL));
  PetscCall(PetscOptionsRealArray("-hessa_landscape_range", "lo,hi: range of alpha (and beta); default -0.5,1.5 between checkpoints, -1,1 otherwise", "HessaScanRun", range, &n_range, &range_set));
  PetscCall(PetscOptionsInt("-hessa_landscape_points", "grid points per axis (default 41 on a line, 21 on a plane)", "HessaScanRun", o->spec.points, &o->spec.points, &points_set));
  PetscCall(PetscOptionsInt("-hessa_landscape_group_size", "ranks per group that evaluates a share of the grid (0: the whole world for an MLP or ONNX model, 1 for analytic objectives)", "HessaScanRun", o->spec.group_size, &o->spec.group_size, NULL));
  PetscCall(PetscOptionsBool("-hessa_landscape_distance", "plot the axes as distances alpha |d| in parameter space instead of coefficients", "HessaScanRun", o->distance, &o->distance, NULL));
  PetscOptionsEnd();

  PetscCheck(from_set == to_set, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_from and -hessa_landscape_to go together: a line between two checkpoints needs both");
  o->spec.direction = from_set ? HESSA_SCAN_CHECKPOINTS : direction ? HESSA_SCAN_EIGENVECTOR : HESSA_SCAN_RANDOM;
  o->spec.which     = end ? HESSA_WHICH_SMALLEST : HESSA_WHICH_LARGEST;
  o->spec.seed      = (uint64_t)seed;
  PetscCheck(!(from_set && o->spec.plane), PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP, "conflicting options: -hessa_landscape_from/-hessa_landscape_to scan a line, -hessa_landscape_plane a plane at the model's point");
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_model_weights", &weights));
  PetscCheck(!(from_set && weights), PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP, "conflicting options: -hessa_landscape_from gives the starting weights, so -hessa_model_weights cannot be given too");
  PetscCheck(!range_set || n_range == 2, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_range: expected two numbers lo,hi, found %" PetscInt_FMT, n_range);
  o->spec.lo = range_set ? range[0] : from_set ? -0.5 : -1.0;
  o->spec.hi = range_set ? range[1] : from_set ? 1.5 : 1.0;
  PetscCheck(o->spec.lo < o->spec.hi, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_range: expected lo < hi, found %g,%g", o->spec.lo, o->spec.hi);
  if (!points_set) o->spec.points = o->spec.plane ? 21 : 41;
  PetscCheck(o->spec.points >= 2, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_points: expected at least 2 grid points per axis, found %" PetscInt_FMT, o->spec.points);
  PetscCheck(o->spec.index >= 0, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_index: expected a non-negative index, found %" PetscInt_FMT, o->spec.index);
  PetscCheck(o->spec.group_size >= 0, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_group_size: expected a positive number of ranks (or 0 for the default), found %" PetscInt_FMT, o->spec.group_size);
  PetscFunctionReturn(0);
}

/* ---- rank 0: the files ---- */
static cJSON *Num(double x) { return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull(); }
static cJSON *NumArray(const double *x, PetscInt n)
{
  cJSON *a = cJSON_CreateArray();
  for (PetscInt i = 0; i < n; i++) cJSON_AddItemToArray(a, Num(x[i]));
  return a;
}

static void DirectionFile(PetscInt k, char name[], size_t len) { snprintf(name, len, "direction_%d.npy", (int)k + 1); }

static void WriteCSV(const LandscapeOptions *o, const HessaScan *s, HessaStatus *st)
{
  char   path[PETSC_MAX_PATH_LEN + 16], *text;
  size_t cap = 128 + (size_t)(s->n_dirs == 2 ? s->points * s->points : s->points) * 80, len = 0;

  text = malloc(cap);
  if (!text) {
    HessaStatusSet(st, PETSC_ERR_MEM, "landscape: out of memory for the CSV file");
    return;
  }
  if (s->n_dirs == 1) {
    len += (size_t)snprintf(text + len, cap - len, "alpha,loss\n");
    for (PetscInt i = 0; i < s->points; i++) len += (size_t)snprintf(text + len, cap - len, "%.17g,%.17g\n", s->grid[i], s->loss[i]);
  } else {
    len += (size_t)snprintf(text + len, cap - len, "alpha,beta,loss\n");
    for (PetscInt i = 0; i < s->points; i++)
      for (PetscInt j = 0; j < s->points; j++) len += (size_t)snprintf(text + len, cap - len, "%.17g,%.17g,%.17g\n", s->grid[i], s->grid[j], s->loss[i * s->points + j]);
  }
  snprintf(path, sizeof path, "%s/%s", o->output, s->n_dirs == 1 ? "line.csv" : "plane.csv");
  if (HessaWriteFileAtomic(path, text, st)) HessaStatusSet(st, PETSC_ERR_LIB, "landscape: cannot write '%s'", path);
  free(text);
}

/* The directions as flat NPY vectors in parameter-table order (docs/weights.md). */
static void WriteDirections(const LandscapeOptions *o, const HessaScan *s, HessaStatus *st)
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

static void AxisLabel(const LandscapeOptions *o, const HessaScan *s, PetscInt k, char label[], size_t len)
{
  const char *coef = k ? "beta" : "alpha";
  if (o->distance) snprintf(label, len, "distance %s |d%d| from the start", coef, (int)k + 1);
  else if (s->target) snprintf(label, len, "alpha (0: from, 1: to)");
  else snprintf(label, len, "%s (along d%d)", coef, (int)k + 1);
}

static void WritePlots(const LandscapeOptions *o, const HessaScan *s, cJSON *doc, HessaStatus *st)
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
    if (s->target) snprintf(title, sizeof title, "loss between two checkpoints");
    else snprintf(title, sizeof title, "loss along a %s direction", HessaScanDirectionNames[o->spec.direction]);
    HessaPlotXY(o->output, "line", title, xlabel, "loss", PETSC_FALSE, 2, series, note, sizeof note, st);
  } else {
    snprintf(title, sizeof title, "loss over a plane of %s directions", HessaScanDirectionNames[o->spec.direction]);
    HessaPlotContour(o->output, "plane", title, xlabel, ylabel, "loss", (int)s->points, (int)s->points, x, y, s->loss, PETSC_TRUE, note, sizeof note, st);
  }
  if (note[0]) cJSON_AddStringToObject(doc, "plot_note", note);
  free(x);
}

static cJSON *Document(const LandscapeOptions *o, const HessaScan *s)
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
    } else cJSON_AddStringToObject(d, "definition", "B - A");
    cJSON_AddItemToArray(dirs, d);
  }
  grid = cJSON_AddObjectToObject(doc, "grid");
  cJSON_AddNumberToObject(grid, "lo", o->spec.lo);
  cJSON_AddNumberToObject(grid, "hi", o->spec.hi);
  cJSON_AddNumberToObject(grid, "points", (double)s->points);
  cJSON_AddItemToObject(grid, "values", NumArray(s->grid, s->points));
  if (s->n_dirs == 1) cJSON_AddItemToObject(doc, "losses", NumArray(s->loss, s->points));
  else {
    cJSON *rows = cJSON_AddArrayToObject(doc, "losses"); /* rows: alpha, columns: beta */
    for (PetscInt i = 0; i < s->points; i++) cJSON_AddItemToArray(rows, NumArray(s->loss + i * s->points, s->points));
  }
  cJSON_AddItemToObject(doc, "loss_at_theta", Num(s->loss_at_theta));
  if (s->target) cJSON_AddItemToObject(doc, "loss_at_target", Num(s->loss_at_target));
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

static PetscErrorCode WriteOutputs(const LandscapeOptions *o, const HessaScan *s)
{
  PetscMPIInt rank;
  HessaStatus st = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (rank == 0) {
    cJSON *doc = Document(o, s);
    char  *text, path[PETSC_MAX_PATH_LEN + 16];
    WriteCSV(o, s, &st);
    if (!st.code) WriteDirections(o, s, &st);
    if (!st.code) WritePlots(o, s, doc, &st);
    text = cJSON_Print(doc);
    snprintf(path, sizeof path, "%s/landscape.json", o->output);
    if (!st.code && text && HessaWriteFileAtomic(path, text, &st)) HessaStatusSet(&st, PETSC_ERR_LIB, "landscape: cannot write '%s'", path);
    cJSON_free(text);
    cJSON_Delete(doc);
  }
  PetscCall(HessaSyncError(PETSC_COMM_WORLD, &st));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaCliLandscape(void)
{
  LandscapeOptions o;
  HessaScan        scan;

  PetscFunctionBegin;
  PetscCall(ReadOptions(&o));
  PetscCall(HessaReportCheckFolder(PETSC_COMM_WORLD, o.output));
  PetscCall(HessaScanRun(PETSC_COMM_WORLD, &o.spec, &scan));
  PetscCall(WriteOutputs(&o, &scan));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "landscape: %s of %" PetscInt_FMT " points (%s), loss at the start %.17g; %" PetscInt_FMT " group%s of %" PetscInt_FMT " rank%s\n", scan.n_dirs == 1 ? "line" : "plane", scan.n_dirs == 2 ? scan.points * scan.points : scan.points,
                        HessaScanDirectionNames[o.spec.direction], scan.loss_at_theta, scan.n_groups, scan.n_groups > 1 ? "s" : "", scan.group_size, scan.group_size > 1 ? "s" : ""));
  if (scan.target) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "landscape: loss at the end %.17g\n", scan.loss_at_target));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "landscape: %s/%s, landscape.json, direction NPY files and plots\n", o.output, scan.n_dirs == 1 ? "line.csv" : "plane.csv"));
  PetscCall(HessaScanDestroy(&scan));
  PetscFunctionReturn(0);
}
