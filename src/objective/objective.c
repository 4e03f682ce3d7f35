/* The generic objective calls: argument checks and dispatch through obj->ops, the
 * empty objective every implementation starts from, and the name tables.
 * Nothing here calls MPI: objectives compute local sums over the local shard. */
#include <hessa/objective.h>
#include <string.h>

/* Raise a clear error when an operation is missing (e.g. an objective without a GGN). */
#define HessaCheckOp(obj, op, what) PetscCheck((obj)->ops.op, PETSC_COMM_SELF, PETSC_ERR_SUP, "objective '%s' does not implement %s", (obj)->type, what)

/* HessaObjectiveLoss - local sum of per-sample losses at theta. Not collective.
 * Input: theta (n). Output: *loss. */
PetscErrorCode HessaObjectiveLoss(HessaObjective obj, const double *theta, double *loss)
{
  PetscFunctionBegin;
  PetscCheck(obj, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "objective is NULL");
  HessaCheckOp(obj, loss, "the loss");
  PetscCall(obj->ops.loss(obj, theta, loss));
  PetscFunctionReturn(0);
}

/* HessaObjectiveGradient - local sums of loss and gradient at theta. Not collective.
 * Input: theta (n). Outputs: *loss (may be NULL), grad (n, overwritten). */
PetscErrorCode HessaObjectiveGradient(HessaObjective obj, const double *theta, double *loss, double *grad)
{
  double dummy;

  PetscFunctionBegin;
  PetscCheck(obj, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "objective is NULL");
  HessaCheckOp(obj, gradient, "the gradient");
  PetscCall(obj->ops.gradient(obj, theta, loss ? loss : &dummy, grad));
  PetscFunctionReturn(0);
}

/* HessaObjectiveHessianBlock - local sums of H v_j for b directions. Not collective.
 * Inputs: theta (n), V [b][n]. Output: HV [b][n] (overwritten). */
PetscErrorCode HessaObjectiveHessianBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *HV)
{
  PetscFunctionBegin;
  PetscCheck(obj, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "objective is NULL");
  PetscCheck(b >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "block size %" PetscInt_FMT " is negative", b);
  HessaCheckOp(obj, hessian_block, "Hessian-vector products");
  if (b == 0) PetscFunctionReturn(0);
  PetscCall(obj->ops.hessian_block(obj, theta, b, V, HV));
  PetscFunctionReturn(0);
}

/* HessaObjectiveGGNBlock - local sums of G v_j (generalized Gauss-Newton). Not collective.
 * Inputs: theta (n), V [b][n]. Output: GV [b][n]. Raises PETSC_ERR_SUP without a GGN. */
PetscErrorCode HessaObjectiveGGNBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *GV)
{
  PetscFunctionBegin;
  PetscCheck(obj, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "objective is NULL");
  PetscCheck(b >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "block size %" PetscInt_FMT " is negative", b);
  HessaCheckOp(obj, ggn_block, "Gauss-Newton products (it has no GGN)");
  if (b == 0) PetscFunctionReturn(0);
  PetscCall(obj->ops.ggn_block(obj, theta, b, V, GV));
  PetscFunctionReturn(0);
}

/* HessaObjectiveDestroy - release the implementation (ops.destroy), the parameter table
 * and the object; sets *obj to NULL. Not collective. The data is not owned. */
PetscErrorCode HessaObjectiveDestroy(HessaObjective *obj)
{
  PetscFunctionBegin;
  if (!obj || !*obj) PetscFunctionReturn(0);
  if ((*obj)->ops.destroy) PetscCall((*obj)->ops.destroy(*obj));
  PetscCall(PetscFree((*obj)->blocks));
  PetscCall(PetscFree(*obj));
  *obj = NULL;
  PetscFunctionReturn(0);
}

/* HessaObjectiveCreateEmpty - an objective of the given type with n parameters, no
 * operations, n_samples = 1, and a one-row parameter table "theta" of shape [n].
 * Not collective. Implementations fill ops, impl and (if they like) a finer table. */
PetscErrorCode HessaObjectiveCreateEmpty(const char type[], PetscInt n, HessaObjective *obj)
{
  HessaObjective o;

  PetscFunctionBegin;
  PetscCheck(obj, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "output pointer is NULL");
  PetscCheck(n > 0, PETSC_COMM_SELF, HESSA_ERR_ARG, "an objective needs at least one parameter, got n = %" PetscInt_FMT, n);
  PetscCall(PetscNew(&o));
  PetscCall(PetscStrncpy(o->type, type ? type : "unknown", sizeof o->type));
  o->n         = n;
  o->n_samples = 1;
  o->n_blocks  = 1;
  PetscCall(PetscCalloc1(1, &o->blocks));
  PetscCall(PetscStrncpy(o->blocks[0].name, "theta", sizeof o->blocks[0].name));
  o->blocks[0].ndim     = 1;
  o->blocks[0].shape[0] = n;
  o->blocks[0].shape[1] = 1;
  o->blocks[0].offset   = 0;
  o->blocks[0].count    = n;
  *obj                  = o;
  PetscFunctionReturn(0);
}

/* ---- name tables ---------------------------------------------------------------- */
typedef struct {
  const char *name;
  int         value;
} HessaNameEntry;

static const HessaNameEntry activation_names[] = {
    {"identity", HESSA_ACT_IDENTITY}, {"tanh", HESSA_ACT_TANH}, {"sigmoid", HESSA_ACT_SIGMOID}, {"relu", HESSA_ACT_RELU}, {"softplus", HESSA_ACT_SOFTPLUS}, {"gelu", HESSA_ACT_GELU}, {"linear", HESSA_ACT_IDENTITY}, /* alias */
};
static const HessaNameEntry loss_names[] = {
    {"cross-entropy", HESSA_LOSS_CROSS_ENTROPY}, /* the name the options and docs/weights.md use */
    {"mse", HESSA_LOSS_MSE},
    {"ce", HESSA_LOSS_CROSS_ENTROPY}, /* aliases */
    {"cross_entropy", HESSA_LOSS_CROSS_ENTROPY},
};
static const HessaNameEntry analytic_names[] = {
    {"quadratic", HESSA_ANALYTIC_QUADRATIC},
    {"linear_toy", HESSA_ANALYTIC_LINEAR_TOY},
    {"x2_plus_y4", HESSA_ANALYTIC_X2_PLUS_Y4},
    {"x2_minus_y4", HESSA_ANALYTIC_X2_MINUS_Y4},
    {"rosenbrock", HESSA_ANALYTIC_ROSENBROCK},
    {"monkey_saddle", HESSA_ANALYTIC_MONKEY_SADDLE},
    /* the spellings of -hessa_model */
    {"linear-toy", HESSA_ANALYTIC_LINEAR_TOY},
    {"x2+y4", HESSA_ANALYTIC_X2_PLUS_Y4},
    {"x2-y4", HESSA_ANALYTIC_X2_MINUS_Y4},
    {"monkey-saddle", HESSA_ANALYTIC_MONKEY_SADDLE},
};

/* Case-insensitive lookup; *found says whether name is in the table. */
static PetscErrorCode LookUp(const HessaNameEntry *table, size_t count, const char name[], int *value, PetscBool *found)
{
  PetscFunctionBegin;
  *found = PETSC_FALSE;
  if (!name) PetscFunctionReturn(0);
  for (size_t i = 0; i < count; i++) {
    PetscBool same;
    PetscCall(PetscStrcasecmp(name, table[i].name, &same));
    if (same) {
      *value = table[i].value;
      *found = PETSC_TRUE;
      break;
    }
  }
  PetscFunctionReturn(0);
}

/* The canonical (first) name of a value, or "unknown". */
static const char *NameOf(const HessaNameEntry *table, size_t count, int value)
{
  for (size_t i = 0; i < count; i++)
    if (table[i].value == value) return table[i].name;
  return "unknown";
}

#define HESSA_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* HessaActivationFromName - activation by name (identity|linear, tanh, sigmoid, relu,
 * softplus, gelu; case-insensitive). Not collective. *found is false for unknown names. */
PetscErrorCode HessaActivationFromName(const char name[], HessaActivation *act, PetscBool *found)
{
  int v = 0;
  PetscFunctionBegin;
  PetscCall(LookUp(activation_names, HESSA_COUNT(activation_names), name, &v, found));
  if (*found) *act = (HessaActivation)v;
  PetscFunctionReturn(0);
}

/* HessaActivationName - canonical name of an activation. */
const char *HessaActivationName(HessaActivation act)
{
  return NameOf(activation_names, HESSA_COUNT(activation_names), (int)act);
}

/* HessaLossFromName - loss by name (cross-entropy|ce|cross_entropy, mse). Not collective. */
PetscErrorCode HessaLossFromName(const char name[], HessaLossKind *loss, PetscBool *found)
{
  int v = 0;
  PetscFunctionBegin;
  PetscCall(LookUp(loss_names, HESSA_COUNT(loss_names), name, &v, found));
  if (*found) *loss = (HessaLossKind)v;
  PetscFunctionReturn(0);
}

/* HessaLossName - canonical name of a loss. */
const char *HessaLossName(HessaLossKind loss)
{
  return NameOf(loss_names, HESSA_COUNT(loss_names), (int)loss);
}

/* HessaAnalyticFromName - analytic objective by name. Not collective. */
PetscErrorCode HessaAnalyticFromName(const char name[], HessaAnalyticKind *kind, PetscBool *found)
{
  int v = 0;
  PetscFunctionBegin;
  PetscCall(LookUp(analytic_names, HESSA_COUNT(analytic_names), name, &v, found));
  if (*found) *kind = (HessaAnalyticKind)v;
  PetscFunctionReturn(0);
}

/* HessaAnalyticName - canonical name of an analytic objective. */
const char *HessaAnalyticName(HessaAnalyticKind kind)
{
  return NameOf(analytic_names, HESSA_COUNT(analytic_names), (int)kind);
}

/* HessaParamBlockShapeString - numpy-style shape of a parameter block ("(3, 1, 5, 5)",
 * "(10,)", "()"). Not collective. */
void HessaParamBlockShapeString(const HessaParamBlock *b, char *buf, size_t len)
{
  size_t used = 0;

  if (!len) return;
  used += (size_t)snprintf(buf, len, "(");
  for (int d = 0; d < b->ndim && used < len; d++) used += (size_t)snprintf(buf + used, len - used, d ? ", %" PetscInt_FMT : "%" PetscInt_FMT, b->shape[d]);
  if (used < len) snprintf(buf + used, len - used, b->ndim == 1 ? ",)" : ")");
}
