/* The parameter-sharded curvature operator (see include/hessa/operator.h).
 *
 * Communication per product: one Allgather of the direction (forward VecScatter to
 * every rank) and one Reduce_scatter of the product (the same scatter in reverse
 * with ADD_VALUES). Everything else is local work of the objective on this rank's
 * samples. Work buffers are allocated once and grown only when a larger block comes.
 */
#include <hessa/operator.h>
#include <fnmatch.h>
#include <string.h>

static PetscLogEvent HESSA_EVENT_PRODUCT, HESSA_EVENT_COMM;

static PetscErrorCode RegisterEvents(void)
{
  static PetscBool done = PETSC_FALSE;
  PetscClassId     classid;

  PetscFunctionBegin;
  if (done) PetscFunctionReturn(0);
  PetscCall(PetscClassIdRegister("hessa", &classid));
  PetscCall(PetscLogEventRegister("HessaProduct", classid, &HESSA_EVENT_PRODUCT));
  PetscCall(PetscLogEventRegister("HessaComm", classid, &HESSA_EVENT_COMM));
  done = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* HessaOperatorCreate - collective. Defaults: the Hessian, all parameters. */
PetscErrorCode HessaOperatorCreate(MPI_Comm comm, HessaObjective obj, HessaOperator *op)
{
  HessaOperator o;

  PetscFunctionBegin;
  PetscCall(RegisterEvents());
  PetscCall(PetscNew(&o));
  o->comm      = comm;
  o->obj       = obj;
  o->n         = obj->n;
  o->curvature = HESSA_CURVATURE_HESSIAN;
  *op          = o;
  PetscFunctionReturn(0);
}

PetscErrorCode HessaOperatorSetCurvature(HessaOperator op, HessaCurvature c)
{
  PetscFunctionBegin;
  PetscCheck(c != HESSA_CURVATURE_GGN || op->obj->ops.ggn_block, op->comm, PETSC_ERR_SUP, "objective '%s' has no Gauss-Newton products (-hessa_operator ggn)", op->obj->type);
  op->curvature = c;
  PetscFunctionReturn(0);
}

PetscErrorCode HessaOperatorSetSubset(HessaOperator op, const char spec[])
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(op->subset_spec, spec ? spec : "", sizeof op->subset_spec));
  PetscFunctionReturn(0);
}

/* HessaOperatorSetFromOptions - collective.
 * Options: -hessa_operator hessian|ggn, -hessa_operator_subset LIST, -hessa_stop_after_products N. */
PetscErrorCode HessaOperatorSetFromOptions(HessaOperator op)
{
  const char *names[] = {"hessian", "ggn", "HessaCurvature", "HESSA_CURVATURE_", NULL};
  PetscEnum   c       = (PetscEnum)op->curvature;
  char        subset[256];
  PetscInt    stop_after = (PetscInt)op->stop_after_products;

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(subset, op->subset_spec, sizeof subset));
  PetscOptionsBegin(op->comm, NULL, "hessa curvature operator options", NULL);
  PetscCall(PetscOptionsEnum("-hessa_operator", "curvature: the Hessian or the generalized Gauss-Newton matrix", "HessaOperatorSetCurvature", names, c, &c, NULL));
  PetscCall(PetscOptionsString("-hessa_operator_subset", "restrict to parameters: comma-separated names, prefixes or shell patterns (*attn*) from the parameter table, or 'weights' / 'biases' (empty: all)", "HessaOperatorSetSubset", subset, subset,
                               sizeof subset, NULL));
  PetscCall(PetscOptionsInt("-hessa_stop_after_products", "test hook: request a graceful stop (as SIGUSR1 would) once this many products are done (0: never)", "HessaStopRequest", stop_after, &stop_after, NULL));
  PetscOptionsEnd();
  PetscCheck(stop_after >= 0, op->comm, HESSA_ERR_ARG, "-hessa_stop_after_products %" PetscInt_FMT ": must be >= 0", stop_after);
  op->stop_after_products = stop_after;
  PetscCall(HessaOperatorSetCurvature(op, (HessaCurvature)c));
  PetscCall(HessaOperatorSetSubset(op, subset));
  PetscFunctionReturn(0);
}

/* Does parameter-table row `b` match one item of the subset list? */
static PetscBool SubsetMatches(const HessaParamBlock *b, const char *item)
{
  size_t len = strlen(item);
  if (!strcmp(item, "weights")) return b->ndim == 2 ? PETSC_TRUE : PETSC_FALSE;
  if (!strcmp(item, "biases")) return b->ndim == 1 ? PETSC_TRUE : PETSC_FALSE;
  if (!strcmp(b->name, item)) return PETSC_TRUE;
  /* a shell pattern such as "*attn*" (every attention parameter of a transformer) */
  if (strpbrk(item, "*?[")) return fnmatch(item, b->name, 0) == 0 ? PETSC_TRUE : PETSC_FALSE;
  /* a prefix such as "layers.0" matches "layers.0.weight" and "layers.0.bias" */
  return (!strncmp(b->name, item, len) && b->name[len] == '.') ? PETSC_TRUE : PETSC_FALSE;
}

static PetscErrorCode BuildSubset(HessaOperator op)
{
  HessaObjective obj = op->obj;
  char           spec[256], *item, *save = NULL;
  PetscBool     *chosen;
  PetscInt       count = 0;

  PetscFunctionBegin;
  op->n_op = op->n;
  if (!op->subset_spec[0]) PetscFunctionReturn(0);
  PetscCall(PetscCalloc1(obj->n_blocks, &chosen));
  PetscCall(PetscStrncpy(spec, op->subset_spec, sizeof spec));
  for (item = strtok_r(spec, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    PetscBool any = PETSC_FALSE;
    for (PetscInt k = 0; k < obj->n_blocks; k++)
      if (SubsetMatches(&obj->blocks[k], item)) chosen[k] = any = PETSC_TRUE;
    if (!any) {
      char known[1024] = "";
      for (PetscInt k = 0; k < obj->n_blocks; k++) {
        PetscCall(PetscStrlcat(known, k ? ", " : "", sizeof known));
        PetscCall(PetscStrlcat(known, obj->blocks[k].name, sizeof known));
      }
      PetscCall(PetscFree(chosen));
      SETERRQ(op->comm, PETSC_ERR_ARG_WRONG, "-hessa_operator_subset: '%s' matches no parameter of the %s model (parameters: %s; or 'weights', 'biases')", item, obj->type, known);
    }
  }
  for (PetscInt k = 0; k < obj->n_blocks; k++)
    if (chosen[k]) count += obj->blocks[k].count;
  op->n_op = count;
  PetscCall(PetscMalloc1(count, &op->subset));
  count = 0;
  for (PetscInt k = 0; k < obj->n_blocks; k++)
    if (chosen[k])
      for (PetscInt i = 0; i < obj->blocks[k].count; i++) op->subset[count++] = obj->blocks[k].offset + i;
  PetscCall(PetscFree(chosen));
  PetscFunctionReturn(0);
}

static PetscErrorCode ShellMult(Mat H, Vec x, Vec y)
{
  HessaOperator op;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(H, &op));
  PetscCall(HessaOperatorApplyBlock(op, 1, &x, &y));
  PetscFunctionReturn(0);
}

/* Grow the full-length block buffers to hold b directions (allocated once, reused). */
static PetscErrorCode EnsureBlockCapacity(HessaOperator op, PetscInt b)
{
  PetscFunctionBegin;
  if (b <= op->block_capacity) PetscFunctionReturn(0);
  for (PetscInt j = 0; j < op->block_capacity; j++) {
    PetscCall(VecDestroy(&op->seq_in[j]));
    PetscCall(VecDestroy(&op->seq_out[j]));
  }
  PetscCall(PetscFree2(op->seq_in, op->seq_out));
  PetscCall(PetscFree2(op->block_in, op->block_out));
  PetscCall(PetscCalloc2((size_t)b * op->n, &op->block_in, (size_t)b * op->n, &op->block_out));
  PetscCall(PetscMalloc2(b, &op->seq_in, b, &op->seq_out));
  for (PetscInt j = 0; j < b; j++) {
    PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, op->n, op->block_in + (size_t)j * op->n, &op->seq_in[j]));
    PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, op->n, op->block_out + (size_t)j * op->n, &op->seq_out[j]));
  }
  op->block_capacity = b;
  PetscFunctionReturn(0);
}

/* HessaOperatorSetUp - collective. Builds the sharded vectors, the scatters and the MatShell. */
PetscErrorCode HessaOperatorSetUp(HessaOperator op)
{
  PetscInt lo, hi;

  PetscFunctionBegin;
  PetscCall(BuildSubset(op));
  PetscCall(VecCreateMPI(op->comm, PETSC_DECIDE, op->n, &op->theta));
  PetscCall(PetscCalloc1(op->n, &op->theta_all));
  PetscCall(VecScatterCreateToAll(op->theta, &op->full_to_all, &op->full_seq));
  PetscCall(VecCreateMPI(op->comm, PETSC_DECIDE, op->n_op, &op->op_template));
  if (!op->subset) {
    PetscCall(PetscObjectReference((PetscObject)op->full_to_all));
    op->op_to_all = op->full_to_all;
  } else {
    IS from, to;
    /* every rank receives all n_op entries, placed at their parameter indices */
    PetscCall(ISCreateStride(PETSC_COMM_SELF, op->n_op, 0, 1, &from));
    PetscCall(ISCreateGeneral(PETSC_COMM_SELF, op->n_op, op->subset, PETSC_USE_POINTER, &to));
    PetscCall(VecScatterCreate(op->op_template, from, op->full_seq, to, &op->op_to_all));
    PetscCall(ISDestroy(&from));
    PetscCall(ISDestroy(&to));
  }
  PetscCall(EnsureBlockCapacity(op, 1));
  PetscCall(VecGetOwnershipRange(op->op_template, &lo, &hi));
  PetscCall(MatCreateShell(op->comm, hi - lo, hi - lo, op->n_op, op->n_op, op, &op->H));
  PetscCall(MatShellSetOperation(op->H, MATOP_MULT, (void (*)(void))ShellMult));
  PetscCall(MatSetOption(op->H, MAT_SYMMETRIC, PETSC_TRUE));
  PetscCall(MatSetOption(op->H, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
  PetscFunctionReturn(0);
}

/* Allgather a sharded Vec of length n into a full-length array on every rank. */
static PetscErrorCode GatherFull(HessaOperator op, Vec x, double *full)
{
  const double *a;

  PetscFunctionBegin;
  PetscCall(VecScatterBegin(op->full_to_all, x, op->full_seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(op->full_to_all, x, op->full_seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(op->full_seq, &a));
  PetscCall(PetscArraycpy(full, a, op->n));
  PetscCall(VecRestoreArrayRead(op->full_seq, &a));
  PetscFunctionReturn(0);
}

/* HessaOperatorSetPoint - collective: copy theta (sharded, length n) and its full replica. */
PetscErrorCode HessaOperatorSetPoint(HessaOperator op, Vec theta)
{
  PetscFunctionBegin;
  PetscCall(VecCopy(theta, op->theta));
  PetscCall(GatherFull(op, op->theta, op->theta_all));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaOperatorCreateParameterVec(HessaOperator op, Vec *v)
{
  PetscFunctionBegin;
  PetscCall(VecDuplicate(op->theta, v));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaOperatorCreateVec(HessaOperator op, Vec *v)
{
  PetscFunctionBegin;
  PetscCall(VecDuplicate(op->op_template, v));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaOperatorGetMat(HessaOperator op, Mat *H)
{
  PetscFunctionBegin;
  *H = op->H;
  PetscFunctionReturn(0);
}

/* HessaOperatorLoss - collective: L(theta) = sum of local losses / N + wd/2 |theta|^2.
 * theta is a sharded Vec of length n (need not be the operator's point). */
PetscErrorCode HessaOperatorLoss(HessaOperator op, Vec theta, double *loss)
{
  double  local, global, nrm2 = 0;
  double *full;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(op->n, &full));
  PetscCall(GatherFull(op, theta, full));
  PetscCall(HessaObjectiveLoss(op->obj, full, &local));
  PetscCall(PetscFree(full));
  PetscCallMPI(MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, op->comm));
  if (op->obj->weight_decay != 0) PetscCall(VecDot(theta, theta, &nrm2));
  *loss = global / (double)op->obj->n_samples + 0.5 * op->obj->weight_decay * nrm2;
  PetscFunctionReturn(0);
}

/* HessaOperatorGradient - collective: loss and gradient (sharded, length n) at the point. */
PetscErrorCode HessaOperatorGradient(HessaOperator op, double *loss, Vec grad)
{
  double  local, global, nrm2 = 0;
  double *g = op->block_out; /* [n] local sums of the gradient */

  PetscFunctionBegin;
  PetscCall(HessaObjectiveGradient(op->obj, op->theta_all, &local, g));
  PetscCallMPI(MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, op->comm));
  PetscCall(VecSet(grad, 0.0));
  PetscCall(VecScatterBegin(op->full_to_all, op->seq_out[0], grad, ADD_VALUES, SCATTER_REVERSE));
  PetscCall(VecScatterEnd(op->full_to_all, op->seq_out[0], grad, ADD_VALUES, SCATTER_REVERSE));
  PetscCall(VecScale(grad, 1.0 / (double)op->obj->n_samples));
  if (op->obj->weight_decay != 0) {
    PetscCall(VecAXPY(grad, op->obj->weight_decay, op->theta));
    PetscCall(VecDot(op->theta, op->theta, &nrm2));
  }
  if (loss) *loss = global / (double)op->obj->n_samples + 0.5 * op->obj->weight_decay * nrm2;
  op->n_gradients++;
  PetscFunctionReturn(0);
}

/* HessaOperatorApplyBlock - collective: Y[j] = C X[j] for j < b (vectors of length n_op).
 * One Allgather per direction, ONE call of the objective for the whole block (it shares
 * the forward pass), one Reduce_scatter per product. */
PetscErrorCode HessaOperatorApplyBlock(HessaOperator op, PetscInt b, Vec X[], Vec Y[])
{
  double t0 = MPI_Wtime(), tc = 0, t1;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(HESSA_EVENT_PRODUCT, 0, 0, 0, 0));
  PetscCall(EnsureBlockCapacity(op, b));
  PetscCall(PetscLogEventBegin(HESSA_EVENT_COMM, 0, 0, 0, 0));
  for (PetscInt j = 0; j < b; j++) {
    /* positions outside a subset stay zero: the buffers are zeroed at allocation and
       only subset positions are ever written */
    PetscCall(VecScatterBegin(op->op_to_all, X[j], op->seq_in[j], INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(op->op_to_all, X[j], op->seq_in[j], INSERT_VALUES, SCATTER_FORWARD));
  }
  PetscCall(PetscLogEventEnd(HESSA_EVENT_COMM, 0, 0, 0, 0));
  tc += MPI_Wtime() - t0;
  if (op->curvature == HESSA_CURVATURE_GGN)
    PetscCall(HessaObjectiveGGNBlock(op->obj, op->theta_all, b, op->block_in, op->block_out));
  else
    PetscCall(HessaObjectiveHessianBlock(op->obj, op->theta_all, b, op->block_in, op->block_out));
  t1 = MPI_Wtime();
  PetscCall(PetscLogEventBegin(HESSA_EVENT_COMM, 0, 0, 0, 0));
  for (PetscInt j = 0; j < b; j++) {
    PetscCall(VecSet(Y[j], 0.0));
    PetscCall(VecScatterBegin(op->op_to_all, op->seq_out[j], Y[j], ADD_VALUES, SCATTER_REVERSE));
    PetscCall(VecScatterEnd(op->op_to_all, op->seq_out[j], Y[j], ADD_VALUES, SCATTER_REVERSE));
  }
  PetscCall(PetscLogEventEnd(HESSA_EVENT_COMM, 0, 0, 0, 0));
  tc += MPI_Wtime() - t1;
  for (PetscInt j = 0; j < b; j++) {
    PetscCall(VecScale(Y[j], 1.0 / (double)op->obj->n_samples));
    if (op->obj->weight_decay != 0) PetscCall(VecAXPY(Y[j], op->obj->weight_decay, X[j]));
  }
  PetscCall(PetscLogEventEnd(HESSA_EVENT_PRODUCT, 0, 0, 0, 0));
  op->n_products += b;
  /* every rank counts the same products, so the hook stops all ranks at the same safe point */
  if (op->stop_after_products > 0 && op->n_products >= op->stop_after_products) HessaStopRequest();
  op->comm_seconds += tc;
  op->product_seconds += MPI_Wtime() - t0;
  PetscFunctionReturn(0);
}

PetscErrorCode HessaOperatorApply(HessaOperator op, Vec x, Vec y)
{
  PetscFunctionBegin;
  PetscCall(HessaOperatorApplyBlock(op, 1, &x, &y));
  PetscFunctionReturn(0);
}

/* HessaOperatorLossAt - collective: mean loss over all samples (+ L2) at a full-length
 * theta held (identically) on every rank. */
PetscErrorCode HessaOperatorLossAt(HessaOperator op, const double *theta, double *loss)
{
  double local, global, nrm2 = 0;

  PetscFunctionBegin;
  PetscCall(HessaObjectiveLoss(op->obj, theta, &local));
  PetscCallMPI(MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, op->comm));
  for (PetscInt i = 0; i < op->n; i++) nrm2 += theta[i] * theta[i];
  *loss = global / (double)op->obj->n_samples + 0.5 * op->obj->weight_decay * nrm2;
  PetscFunctionReturn(0);
}

/* HessaOperatorEmbed - collective: full-length embedding of an operator-space Vec (zeros outside the subset), on every rank. */
PetscErrorCode HessaOperatorEmbed(HessaOperator op, Vec x, double *full)
{
  const double *a;

  PetscFunctionBegin;
  PetscCall(VecSet(op->full_seq, 0.0));
  PetscCall(VecScatterBegin(op->op_to_all, x, op->full_seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(op->op_to_all, x, op->full_seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(op->full_seq, &a));
  PetscCall(PetscArraycpy(full, a, op->n));
  PetscCall(VecRestoreArrayRead(op->full_seq, &a));
  PetscFunctionReturn(0);
}

/* HessaOperatorRestrict - collective: the entries of a parameter-length Vec (length n)
 * that belong to the operator (length n_op), e.g. the gradient on a subset. */
PetscErrorCode HessaOperatorRestrict(HessaOperator op, Vec full, Vec sub)
{
  IS         from, to;
  VecScatter sc;
  PetscInt   lo, hi;

  PetscFunctionBegin;
  if (!op->subset) {
    PetscCall(VecCopy(full, sub));
    PetscFunctionReturn(0);
  }
  PetscCall(VecGetOwnershipRange(sub, &lo, &hi));
  PetscCall(ISCreateGeneral(PETSC_COMM_SELF, hi - lo, op->subset + lo, PETSC_USE_POINTER, &from));
  PetscCall(ISCreateStride(PETSC_COMM_SELF, hi - lo, lo, 1, &to));
  PetscCall(VecScatterCreate(full, from, sub, to, &sc));
  PetscCall(VecScatterBegin(sc, full, sub, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, full, sub, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(ISDestroy(&from));
  PetscCall(ISDestroy(&to));
  PetscFunctionReturn(0);
}

/* HessaOperatorLossAlong - collective: L(theta + t * embed(d)) for d in operator space. */
PetscErrorCode HessaOperatorLossAlong(HessaOperator op, Vec d, double t, double *loss)
{
  double *full;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(op->n, &full));
  PetscCall(HessaOperatorEmbed(op, d, full));
  for (PetscInt i = 0; i < op->n; i++) full[i] = op->theta_all[i] + t * full[i];
  PetscCall(HessaOperatorLossAt(op, full, loss));
  PetscCall(PetscFree(full));
  PetscFunctionReturn(0);
}

/* HessaVecSetRandom - collective: entries from the rank-independent stream by global index. */
PetscErrorCode HessaVecSetRandom(Vec v, HessaRandomKind kind, uint64_t seed, uint64_t stream)
{
  PetscInt lo, hi;
  double  *a;

  PetscFunctionBegin;
  PetscCall(VecGetOwnershipRange(v, &lo, &hi));
  PetscCall(VecGetArray(v, &a));
  HessaRandomFill(kind, seed, stream, lo, hi - lo, a);
  PetscCall(VecRestoreArray(v, &a));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaOperatorDestroy(HessaOperator *op)
{
  HessaOperator o = *op;

  PetscFunctionBegin;
  if (!o) PetscFunctionReturn(0);
  for (PetscInt j = 0; j < o->block_capacity; j++) {
    PetscCall(VecDestroy(&o->seq_in[j]));
    PetscCall(VecDestroy(&o->seq_out[j]));
  }
  PetscCall(PetscFree2(o->seq_in, o->seq_out));
  PetscCall(PetscFree2(o->block_in, o->block_out));
  PetscCall(MatDestroy(&o->H));
  PetscCall(VecScatterDestroy(&o->op_to_all));
  PetscCall(VecScatterDestroy(&o->full_to_all));
  PetscCall(VecDestroy(&o->full_seq));
  PetscCall(VecDestroy(&o->op_template));
  PetscCall(VecDestroy(&o->theta));
  PetscCall(PetscFree(o->theta_all));
  PetscCall(PetscFree(o->subset));
  PetscCall(PetscFree(o));
  *op = NULL;
  PetscFunctionReturn(0);
}

PetscErrorCode HessaVecSetFromFull(Vec v, const double *full)
{
  PetscInt lo, hi;
  double  *a;

  PetscFunctionBegin;
  PetscCall(VecGetOwnershipRange(v, &lo, &hi));
  PetscCall(VecGetArray(v, &a));
  PetscCall(PetscArraycpy(a, full + lo, hi - lo));
  PetscCall(VecRestoreArray(v, &a));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaVecGatherToZero(Vec v, double *full)
{
  PetscMPIInt rank;
  VecScatter  sc;
  Vec         all;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject)v), &rank));
  PetscCall(VecScatterCreateToZero(v, &sc, &all));
  PetscCall(VecScatterBegin(sc, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, v, all, INSERT_VALUES, SCATTER_FORWARD));
  if (rank == 0) {
    const double *a;
    PetscInt      len;
    PetscCall(VecGetLocalSize(all, &len));
    PetscCall(VecGetArrayRead(all, &a));
    PetscCall(PetscArraycpy(full, a, len));
    PetscCall(VecRestoreArrayRead(all, &a));
  }
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&all));
  PetscFunctionReturn(0);
}
