/* hessa hvp: the loss, the gradient and the curvature-vector products H v and G v at the
 * model's point for one direction v, written as NPY files (docs/onnx.md). Works for every
 * model kind (mlp, onnx, analytic): it only goes through HessaSetUpFromOptions and the
 * operator, so the numbers are the ones every other command uses, and a user can compare
 * them against their own framework (the PyTorch tests do exactly that).
 */
#include "cli.h"
#include <hessa/report.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char     direction[PETSC_MAX_PATH_LEN]; /* "" = Rademacher from (seed, HESSA_STREAM_HVP) */
  char     output[PETSC_MAX_PATH_LEN];
  PetscInt seed;
} HvpOptions;

static PetscErrorCode ReadOptions(HvpOptions *o)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  PetscCall(PetscStrncpy(o->output, "hvp-output", sizeof o->output));
  o->seed = 1;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "hessa hvp options", NULL);
  PetscCall(PetscOptionsString("-hessa_hvp_direction", "NPY file of the direction v (float64 or float32, length n, parameter order); default: a Rademacher vector", "HessaCliHvp", o->direction, o->direction, sizeof o->direction, NULL));
  PetscCall(PetscOptionsInt("-hessa_hvp_seed", "seed of the default Rademacher direction (stream HESSA_STREAM_HVP, the same at every rank count)", "HessaCliHvp", o->seed, &o->seed, NULL));
  PetscCall(PetscOptionsString("-hessa_hvp_output", "folder for summary.json, gradient.npy, hv.npy, gv.npy, direction.npy, params.json", "HessaCliHvp", o->output, o->output, sizeof o->output, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

/* Collective: v from the NPY file (rank 0 reads and checks it: length n, finite; every
 * rank raises the same error) or the rank-independent Rademacher stream. */
static PetscErrorCode ReadDirection(MPI_Comm comm, const HvpOptions *o, PetscInt n, Vec v)
{
  PetscMPIInt rank;
  HessaStatus st   = {0};
  double     *full = NULL;

  PetscFunctionBegin;
  if (!o->direction[0]) {
    PetscCall(HessaVecSetRandom(v, HESSA_RANDOM_RADEMACHER, (uint64_t)o->seed, HESSA_STREAM_HVP));
    PetscFunctionReturn(0);
  }
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMalloc1(n, &full));
  if (rank == 0) {
    HessaArray a = {0};
    HessaReadNPY(o->direction, 0, -1, &a, &st);
    if (!st.code) {
      int64_t count = a.rows * a.row_length;
      if (a.is_integer)
        HessaStatusSet(&st, HESSA_ERR_INPUT, "direction file '%s': expected float64 or float32 values, found dtype %s", o->direction, a.dtype);
      else if (a.ndim != 1 || count != n) {
        char shape[160] = "";
        for (int d = 0; d < a.ndim; d++) {
          size_t len = strlen(shape);
          snprintf(shape + len, sizeof shape - len, "%s%lld", d ? ", " : "", (long long)a.shape[d]);
        }
        HessaStatusSet(&st, HESSA_ERR_INPUT, "direction file '%s': expected a vector of shape (%" PetscInt_FMT ",) (the model's parameter count, parameter order), found shape (%s%s)", o->direction, n, shape, a.ndim == 1 ? "," : "");
      }
      for (int64_t i = 0; !st.code && i < count; i++) {
        if (!isfinite(a.values[i]))
          HessaStatusSet(&st, HESSA_ERR_INPUT, "direction file '%s': entry %lld is %s (expected finite numbers)", o->direction, (long long)i, isnan(a.values[i]) ? "NaN" : "Inf");
        else
          full[i] = a.values[i];
      }
    }
    HessaArrayFree(&a);
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscCallMPI(MPI_Bcast(full, (PetscMPIInt)n, MPI_DOUBLE, 0, comm));
  PetscCall(HessaVecSetFromFull(v, full));
  PetscCall(PetscFree(full));
  PetscFunctionReturn(0);
}

/* Rank 0: one NPY vector of length n into folder/name. */
static void WriteVector(const char folder[], const char name[], PetscInt n, const double *x, HessaStatus *st)
{
  char    path[PETSC_MAX_PATH_LEN + 64];
  int64_t shape[1] = {n};

  if (st->code) return;
  snprintf(path, sizeof path, "%s/%s", folder, name);
  if (HessaWriteNPY(path, 1, shape, x, 0)) HessaStatusSet(st, PETSC_ERR_FILE_WRITE, "hvp output '%s': write failed", path);
}

static cJSON *Num(double x)
{
  return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

/* Rank 0: params.json, the parameter table, so a user can cut the vectors into tensors. */
static void WriteParams(const char folder[], HessaObjective obj, HessaStatus *st)
{
  char   path[PETSC_MAX_PATH_LEN + 64], *text;
  cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "params");

  cJSON_AddStringToObject(root, "model", obj->type);
  cJSON_AddNumberToObject(root, "n", (double)obj->n);
  for (PetscInt k = 0; k < obj->n_blocks; k++) {
    const HessaParamBlock *b = &obj->blocks[k];
    cJSON                 *t = cJSON_CreateObject(), *shape;
    cJSON_AddStringToObject(t, "name", b->name);
    shape = cJSON_AddArrayToObject(t, "shape");
    for (int d = 0; d < b->ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)b->shape[d]));
    cJSON_AddNumberToObject(t, "offset", (double)b->offset);
    cJSON_AddNumberToObject(t, "count", (double)b->count);
    cJSON_AddItemToArray(list, t);
  }
  text = cJSON_Print(root);
  cJSON_Delete(root);
  snprintf(path, sizeof path, "%s/params.json", folder);
  if (!st->code && HessaWriteFileAtomic(path, text, st)) HessaStatusSet(st, PETSC_ERR_LIB, "hvp output '%s': internal error", path);
  free(text);
}

/* What hvp computed, for summary.json and the printed lines. */
typedef struct {
  double    loss, gnorm, vnorm, vhv, vgv;
  PetscBool has_gv;
} HvpResult;

/* Rank 0: summary.json (loss, |g|, v.Hv, v.Gv, n, samples, ranks, where v came from). */
static void WriteSummary(const HvpOptions *o, HessaObjective obj, PetscInt n, int size, const HvpResult *r, HessaStatus *st)
{
  char   path[PETSC_MAX_PATH_LEN + 64], *text;
  cJSON *root = cJSON_CreateObject();

  cJSON_AddStringToObject(root, "command", "hvp");
  cJSON_AddStringToObject(root, "model", obj->type);
  cJSON_AddStringToObject(root, "description", obj->description);
  cJSON_AddNumberToObject(root, "n", (double)n);
  cJSON_AddNumberToObject(root, "samples", (double)obj->n_samples);
  cJSON_AddNumberToObject(root, "ranks", (double)size);
  cJSON_AddItemToObject(root, "loss", Num(r->loss));
  cJSON_AddItemToObject(root, "weight_decay", Num(obj->weight_decay));
  cJSON_AddItemToObject(root, "gradient_norm", Num(r->gnorm));
  if (o->direction[0])
    cJSON_AddStringToObject(root, "direction", o->direction);
  else {
    char what[96];
    snprintf(what, sizeof what, "rademacher (seed %" PetscInt_FMT ")", o->seed);
    cJSON_AddStringToObject(root, "direction", what);
  }
  cJSON_AddItemToObject(root, "direction_norm", Num(r->vnorm));
  cJSON_AddItemToObject(root, "v_hv", Num(r->vhv));
  if (r->has_gv)
    cJSON_AddItemToObject(root, "v_gv", Num(r->vgv));
  else
    cJSON_AddStringToObject(root, "gv_note", "no gv.npy: this objective has no Gauss-Newton products");
  text = cJSON_Print(root);
  cJSON_Delete(root);
  snprintf(path, sizeof path, "%s/summary.json", o->output);
  if (!st->code && HessaWriteFileAtomic(path, text, st)) HessaStatusSet(st, PETSC_ERR_LIB, "hvp output '%s': internal error", path);
  free(text);
}

/* Collective: g, H v and (when the objective has one, gv != NULL) G v at the operator's point. */
static PetscErrorCode ComputeProducts(HessaOperator op, Vec v, Vec g, Vec hv, Vec gv, HvpResult *r)
{
  PetscFunctionBegin;
  PetscCall(HessaTimerStart("hvp"));
  PetscCall(HessaOperatorGradient(op, &r->loss, g));
  PetscCall(HessaOperatorSetCurvature(op, HESSA_CURVATURE_HESSIAN));
  PetscCall(HessaOperatorApply(op, v, hv));
  r->has_gv = gv ? PETSC_TRUE : PETSC_FALSE;
  r->vgv    = 0;
  if (gv) {
    PetscCall(HessaOperatorSetCurvature(op, HESSA_CURVATURE_GGN));
    PetscCall(HessaOperatorApply(op, v, gv));
    PetscCall(HessaOperatorSetCurvature(op, HESSA_CURVATURE_HESSIAN));
    PetscCall(VecDot(v, gv, &r->vgv));
  }
  PetscCall(HessaTimerStop("hvp"));
  PetscCall(VecNorm(g, NORM_2, &r->gnorm));
  PetscCall(VecNorm(v, NORM_2, &r->vnorm));
  PetscCall(VecDot(v, hv, &r->vhv));
  PetscFunctionReturn(0);
}

/* Collective: gather each vector to rank 0 in turn, which writes it (and summary.json,
 * params.json); every rank raises the same error on a failed write. */
static PetscErrorCode WriteOutputs(const HvpOptions *o, HessaObjective obj, PetscInt n, Vec v, Vec g, Vec hv, Vec gv, const HvpResult *r)
{
  MPI_Comm    comm = PETSC_COMM_WORLD;
  PetscMPIInt rank, size;
  HessaStatus st  = {0};
  double     *all = NULL;
  const struct {
    Vec         x;
    const char *file;
  } out[] = {
      {v, "direction.npy"},
      {g, "gradient.npy"},
      {hv, "hv.npy"},
      {gv, "gv.npy"},
  };

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (rank == 0) PetscCall(PetscMalloc1(n, &all));
  for (size_t k = 0; k < sizeof out / sizeof out[0]; k++) {
    if (!out[k].x) continue;
    PetscCall(HessaVecGatherToZero(out[k].x, all));
    if (rank == 0) WriteVector(o->output, out[k].file, n, all, &st);
  }
  if (rank == 0) {
    WriteSummary(o, obj, n, (int)size, r, &st);
    WriteParams(o->output, obj, &st);
  }
  PetscCall(PetscFree(all));
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}

/* HessaCliHvp - collective on PETSC_COMM_WORLD. hessa hvp: at the model's point, the loss
 * (mean over all samples + L2), the gradient g, H v and, when the objective has one, the
 * Gauss-Newton product G v, for one direction v over all n parameters.
 * Options: -hessa_hvp_direction FILE.npy, -hessa_hvp_seed S, -hessa_hvp_output DIR (default
 * hvp-output), and everything HessaSetUpFromOptions reads (data, model, operator).
 * Output (rank 0, each file atomically): summary.json (loss, |g|, v.Hv, v.Gv, n, samples,
 * ranks), gradient.npy, hv.npy, gv.npy (absent, with a note in summary.json, when the
 * objective has no Gauss-Newton products), direction.npy, params.json. */
PetscErrorCode HessaCliHvp(void)
{
  MPI_Comm      comm = PETSC_COMM_WORLD;
  HvpOptions    o;
  HessaData     data;
  HessaModel    model;
  HessaOperator op;
  Vec           v, g, hv, gv = NULL;
  HvpResult     r;
  PetscMPIInt   size;
  PetscInt      n;
  PetscBool     help;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(ReadOptions(&o));
  PetscCall(HessaCliHelpRequested(&help));
  if (help) PetscCall(HessaCliSetUpOptionsHelp());
  if (help) PetscFunctionReturn(0);
  PetscCall(HessaReportCheckFolder(comm, o.output));
  PetscCall(HessaSetUpFromOptions(comm, &data, &model, &op));
  n = op->n;
  PetscCheck(op->n_op == n, comm, PETSC_ERR_ARG_INCOMP, "hessa hvp works on all %" PetscInt_FMT " parameters; drop -hessa_operator_subset (or cut the output with params.json)", n);
  PetscCall(HessaOperatorCreateParameterVec(op, &v));
  PetscCall(VecDuplicate(v, &g));
  PetscCall(VecDuplicate(v, &hv));
  if (model->obj->ops.ggn_block) PetscCall(VecDuplicate(v, &gv));
  PetscCall(ReadDirection(comm, &o, n, v));
  PetscCall(ComputeProducts(op, v, g, hv, gv, &r));
  PetscCall(WriteOutputs(&o, model->obj, n, v, g, hv, gv, &r));
  PetscCall(PetscPrintf(comm, "hvp %s\n  n = %" PetscInt_FMT " parameters, %" PetscInt_FMT " samples, %d ranks\n  loss %.12g, |gradient| %.12g, v'Hv %.12g%s", model->obj->description, n, model->obj->n_samples, (int)size, r.loss, r.gnorm, r.vhv,
                        gv ? "" : "\n"));
  if (gv)
    PetscCall(PetscPrintf(comm, ", v'Gv %.12g\n", r.vgv));
  else
    PetscCall(PetscPrintf(comm, "  (no Gauss-Newton products for this objective: gv.npy not written)\n"));
  PetscCall(PetscPrintf(comm, "  written to %s/\n", o.output));
  PetscCall(VecDestroy(&gv));
  PetscCall(VecDestroy(&hv));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&v));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}
