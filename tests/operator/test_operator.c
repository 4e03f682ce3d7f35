/* The parameter-sharded operator against closed forms and against an unsharded
 * computation, at any rank count.
 * 1. Quadratic with a prescribed spectrum (n = 60, eigenvectors not the axes): the
 *    sharded Hv equals Q diag(lambda) Q^T v computed on one rank with the objective's Q
 *    (to 1e-12 relative); the gradient at theta equals H theta; loss equals theta^T H theta / 2.
 * 2. Block products equal single products to 1e-14.
 * 3. A subset operator (entries of one parameter block) equals the principal submatrix of
 *    the assembled full Hessian: H_SS v_S (to 1e-12).
 * 4. MLP on 301 Fashion-MNIST samples with weight decay: loss, gradient and Hv on P ranks
 *    equal those of an unsharded objective on all samples (every rank loads all the data
 *    on MPI_COMM_SELF), to 1e-12 relative. GGN products too.
 * 5. The point written as a weight folder (HessaModelSave) and read back by a new model
 *    (-hessa_model_weights) is the same vector, bitwise, with the same architecture.
 */
#include <hessa/operator.h>
#include <math.h>

/* Gather a sharded Vec to a full-length array on every rank. */
static PetscErrorCode ToFull(Vec v, double *full)
{
  VecScatter    sc;
  Vec           all;
  const double *a;
  PetscInt      n;

  PetscFunctionBegin;
  PetscCall(VecGetSize(v, &n));
  PetscCall(VecScatterCreateToAll(v, &sc, &all));
  PetscCall(VecScatterBegin(sc, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(all, &a));
  PetscCall(PetscArraycpy(full, a, n));
  PetscCall(VecRestoreArrayRead(all, &a));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&all));
  PetscFunctionReturn(0);
}

static double RelDiff(PetscInt n, const double *a, const double *b)
{
  double num = 0, den = 0;
  for (PetscInt i = 0; i < n; i++) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return sqrt(num) / PetscMax(sqrt(den), 1e-300);
}

static PetscErrorCode TestQuadratic(void)
{
  const PetscInt n = 60;
  double         lambda[60], *v, *hv_ref, *tmp, *hv, *g, *Hfull, loss, theta_h_theta = 0;
  HessaObjective obj;
  HessaOperator  op;
  Vec            theta, x, y, *X, *Y;
  PetscMPIInt    rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(HessaSpectrumGenerate(n, 0.5, 2.0, 3, 20.0, 6, -3.0, -0.5, lambda));
  PetscCall(HessaQuadraticCreate(n, lambda, 4, 99, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &obj));
  PetscCall(HessaOperatorCreate(PETSC_COMM_WORLD, obj, &op));
  PetscCall(HessaOperatorSetUp(op));
  PetscCall(HessaOperatorCreateParameterVec(op, &theta));
  PetscCall(HessaVecSetRandom(theta, HESSA_RANDOM_NORMAL, 5, 1));
  PetscCall(HessaOperatorSetPoint(op, theta));
  PetscCall(PetscMalloc6(n, &v, n, &hv_ref, n, &tmp, n, &hv, n, &g, n * n, &Hfull));

  /* closed form on every rank: H v = Q diag(lambda) Q^T v */
  PetscCall(HessaOperatorCreateVec(op, &x));
  PetscCall(VecDuplicate(x, &y));
  PetscCall(HessaVecSetRandom(x, HESSA_RANDOM_NORMAL, 5, 2));
  PetscCall(ToFull(x, v));
  PetscCall(HessaQuadraticApplyQ(obj, PETSC_TRUE, v, tmp));
  for (PetscInt i = 0; i < n; i++) tmp[i] *= lambda[i];
  PetscCall(HessaQuadraticApplyQ(obj, PETSC_FALSE, tmp, hv_ref));
  PetscCall(HessaOperatorApply(op, x, y));
  PetscCall(ToFull(y, hv));
  PetscCheck(RelDiff(n, hv, hv_ref) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "quadratic Hv differs from Q diag(lambda) Q^T v: %g", RelDiff(n, hv, hv_ref));

  /* gradient = H theta (the minimiser is 0), loss = theta^T H theta / 2 */
  PetscCall(HessaOperatorGradient(op, &loss, x));
  PetscCall(ToFull(x, g));
  PetscCall(ToFull(theta, v));
  PetscCall(HessaQuadraticApplyQ(obj, PETSC_TRUE, v, tmp));
  for (PetscInt i = 0; i < n; i++) {
    theta_h_theta += lambda[i] * tmp[i] * tmp[i];
    tmp[i] *= lambda[i];
  }
  PetscCall(HessaQuadraticApplyQ(obj, PETSC_FALSE, tmp, hv_ref));
  PetscCheck(RelDiff(n, g, hv_ref) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "quadratic gradient differs from H theta: %g", RelDiff(n, g, hv_ref));
  PetscCheck(fabs(loss - 0.5 * theta_h_theta) <= 1e-12 * fabs(theta_h_theta), PETSC_COMM_SELF, PETSC_ERR_PLIB, "quadratic loss %.17g, expected %.17g", loss, 0.5 * theta_h_theta);

  /* block products equal single products */
  PetscCall(VecDuplicateVecs(x, 3, &X));
  PetscCall(VecDuplicateVecs(x, 3, &Y));
  for (int j = 0; j < 3; j++) PetscCall(HessaVecSetRandom(X[j], HESSA_RANDOM_NORMAL, 6, (uint64_t)j));
  PetscCall(HessaOperatorApplyBlock(op, 3, X, Y));
  for (int j = 0; j < 3; j++) {
    double d, nrm;
    PetscCall(HessaOperatorApply(op, X[j], y));
    PetscCall(VecAXPY(y, -1.0, Y[j]));
    PetscCall(VecNorm(y, NORM_2, &d));
    PetscCall(VecNorm(Y[j], NORM_2, &nrm));
    PetscCheck(d <= 1e-14 * nrm, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "block product %d differs from the single product: %g", j, d / nrm);
  }
  PetscCall(VecDestroyVecs(3, &X));
  PetscCall(VecDestroyVecs(3, &Y));

  /* assemble the full H column by column (closed form), then check a subset operator */
  for (PetscInt c = 0; c < n; c++) {
    PetscCall(PetscArrayzero(v, n));
    v[c] = 1;
    PetscCall(HessaQuadraticApplyQ(obj, PETSC_TRUE, v, tmp));
    for (PetscInt i = 0; i < n; i++) tmp[i] *= lambda[i];
    PetscCall(HessaQuadraticApplyQ(obj, PETSC_FALSE, tmp, Hfull + c * n));
  }
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(HessaOperatorDestroy(&op));
  {
    /* the quadratic has one parameter block "theta": a subset of it is all of it; use
       a two-block table to exercise a real subset: entries [10, 35) */
    HessaParamBlock *blocks;
    PetscInt         m = 25, first = 10;
    double          *vs, *hs;
    PetscCall(PetscMalloc1(3, &blocks));
    PetscCall(PetscArraycpy(blocks, obj->blocks, 1));
    blocks[0].count = first, blocks[0].shape[0] = first;
    PetscCall(PetscStrncpy(blocks[0].name, "head", sizeof blocks[0].name));
    blocks[1] = blocks[0], blocks[1].offset = first, blocks[1].count = blocks[1].shape[0] = m;
    PetscCall(PetscStrncpy(blocks[1].name, "middle", sizeof blocks[1].name));
    blocks[2] = blocks[0], blocks[2].offset = first + m, blocks[2].count = blocks[2].shape[0] = n - first - m;
    PetscCall(PetscStrncpy(blocks[2].name, "tail", sizeof blocks[2].name));
    PetscCall(PetscFree(obj->blocks));
    obj->blocks   = blocks;
    obj->n_blocks = 3;
    PetscCall(HessaOperatorCreate(PETSC_COMM_WORLD, obj, &op));
    PetscCall(HessaOperatorSetSubset(op, "middle"));
    PetscCall(HessaOperatorSetUp(op));
    PetscCheck(op->n_op == m, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "subset size %" PetscInt_FMT ", expected %" PetscInt_FMT, op->n_op, m);
    PetscCall(HessaOperatorSetPoint(op, theta));
    PetscCall(HessaOperatorCreateVec(op, &x));
    PetscCall(VecDuplicate(x, &y));
    PetscCall(HessaVecSetRandom(x, HESSA_RANDOM_NORMAL, 8, 1));
    PetscCall(HessaOperatorApply(op, x, y));
    PetscCall(PetscMalloc2(m, &vs, m, &hs));
    PetscCall(ToFull(x, vs));
    PetscCall(ToFull(y, hs));
    for (PetscInt i = 0; i < m; i++) {
      double s = 0;
      for (PetscInt j = 0; j < m; j++) s += Hfull[(first + j) * n + first + i] * vs[j];
      hv_ref[i] = s;
    }
    PetscCheck(RelDiff(m, hs, hv_ref) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "subset product differs from the submatrix product: %g", RelDiff(m, hs, hv_ref));
    PetscCall(PetscFree2(vs, hs));
    PetscCall(VecDestroy(&x));
    PetscCall(VecDestroy(&y));
    PetscCall(HessaOperatorDestroy(&op));
  }
  PetscCall(VecDestroy(&theta));
  PetscCall(PetscFree6(v, hv_ref, tmp, hv, g, Hfull));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscFunctionReturn(0);
}

/* Data from the options database with a fixed limit, on the given communicator. */
static PetscErrorCode LoadFashion(MPI_Comm comm, HessaData *data)
{
  PetscFunctionBegin;
  PetscCall(HessaDataCreate(comm, data));
  (*data)->limit = 301;
  PetscCall(HessaDataLoad(*data));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestMLPAcrossRanks(void)
{
  HessaData      data, all;
  HessaModel     model;
  HessaObjective serial;
  HessaOperator  op;
  HessaMLPArch   arch;
  Vec            x, y, g;
  double         loss, loss_ref, *full, *v, *ref, *got;
  PetscInt       n;

  PetscFunctionBegin;
  PetscCall(LoadFashion(PETSC_COMM_WORLD, &data));
  PetscCall(LoadFashion(PETSC_COMM_SELF, &all));
  PetscCall(HessaModelCreate(PETSC_COMM_WORLD, data, &model));
  model->arch.n_layers     = 3;
  model->arch.widths[1]    = 16;
  model->arch.widths[2]    = 12;
  model->arch.weight_decay = 1e-3;
  model->seed              = 4;
  PetscCall(HessaModelSetUp(model));
  PetscCall(HessaMLPGetArch(model->obj, &arch));
  PetscCall(HessaMLPCreate(&arch, all, &serial));
  n = serial->n;
  PetscCall(HessaOperatorCreate(PETSC_COMM_WORLD, model->obj, &op));
  PetscCall(HessaOperatorSetUp(op));
  PetscCall(HessaOperatorSetPoint(op, model->theta));
  PetscCall(PetscMalloc4(n, &full, n, &v, n, &ref, n, &got));
  PetscCall(ToFull(model->theta, full));

  /* loss and gradient */
  PetscCall(HessaOperatorCreateVec(op, &g));
  PetscCall(HessaOperatorGradient(op, &loss, g));
  PetscCall(ToFull(g, got));
  PetscCall(HessaObjectiveGradient(serial, full, &loss_ref, ref));
  {
    double nrm2 = 0;
    for (PetscInt i = 0; i < n; i++) nrm2 += full[i] * full[i];
    loss_ref = loss_ref / 301 + 0.5e-3 * nrm2;
    for (PetscInt i = 0; i < n; i++) ref[i] = ref[i] / 301 + 1e-3 * full[i];
  }
  PetscCheck(fabs(loss - loss_ref) <= 1e-12 * fabs(loss_ref), PETSC_COMM_SELF, PETSC_ERR_PLIB, "MLP loss %.17g differs from the unsharded %.17g", loss, loss_ref);
  PetscCheck(RelDiff(n, got, ref) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "MLP gradient differs from the unsharded one: %g", RelDiff(n, got, ref));

  /* Hessian and Gauss-Newton products */
  PetscCall(VecDuplicate(g, &x));
  PetscCall(VecDuplicate(g, &y));
  PetscCall(HessaVecSetRandom(x, HESSA_RANDOM_NORMAL, 9, 1));
  PetscCall(ToFull(x, v));
  for (int which = 0; which < 2; which++) {
    PetscCall(HessaOperatorSetCurvature(op, which ? HESSA_CURVATURE_GGN : HESSA_CURVATURE_HESSIAN));
    PetscCall(HessaOperatorApply(op, x, y));
    PetscCall(ToFull(y, got));
    if (which)
      PetscCall(HessaObjectiveGGNBlock(serial, full, 1, v, ref));
    else
      PetscCall(HessaObjectiveHessianBlock(serial, full, 1, v, ref));
    for (PetscInt i = 0; i < n; i++) ref[i] = ref[i] / 301 + 1e-3 * v[i];
    PetscCheck(RelDiff(n, got, ref) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "MLP %s product differs from the unsharded one: %g", which ? "GGN" : "Hessian", RelDiff(n, got, ref));
  }
  PetscCheck(op->n_products == 2, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "product count %" PetscInt64_FMT ", expected 2", op->n_products);

  /* weight folder round trip */
  {
    HessaModel   back;
    HessaMLPArch arch_back;
    PetscBool    same;
    char         folder[PETSC_MAX_PATH_LEN];
    PetscMPIInt  size;
    PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
    PetscCall(PetscSNPrintf(folder, sizeof folder, "weights_roundtrip_np%d", (int)size));
    PetscCall(HessaModelSave(model, model->theta, folder));
    PetscCall(HessaModelCreate(PETSC_COMM_WORLD, data, &back));
    PetscCall(PetscStrncpy(back->weights, folder, sizeof back->weights));
    back->arch.n_layers = 1; /* must be replaced by the folder's architecture */
    PetscCall(HessaModelSetUp(back));
    PetscCall(HessaMLPGetArch(back->obj, &arch_back));
    PetscCheck(arch_back.n_layers == 3 && arch_back.widths[1] == 16 && arch_back.widths[2] == 12 && arch_back.activation == arch.activation, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "architecture not restored from the weight folder");
    PetscCall(VecEqual(back->theta, model->theta, &same));
    PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "weights read back differ from the weights written");
    PetscCall(HessaModelDestroy(&back));
  }
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&g));
  PetscCall(PetscFree4(full, v, ref, got));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaObjectiveDestroy(&serial));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&all));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(TestQuadratic());
  PetscCall(TestMLPAcrossRanks());
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
