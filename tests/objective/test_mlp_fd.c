/* MLP derivatives, for every activation and both losses, on a 4-6-5-3 network (two
 * hidden layers) with 50 random samples and a random theta:
 *  - gradient vs central differences of the loss (h = 1e-5): relative error <= 1e-6;
 *  - H v vs central differences of the gradient, 2 directions: relative error <= 1e-6;
 *  - symmetry: |u^T(Hv) - v^T(Hu)| <= 1e-12 |u| |Hv|; the same for the GGN;
 *  - a block of b = 5 equals 5 single products: relative <= 1e-13 (H and G); so does a
 *    block of 20, which the kernels split into R passes over fewer samples;
 *  - chunk = 7 (8 chunks, the last of 1 sample) equals one chunk: loss, gradient, H and G
 *    relative <= 1e-13;
 *  - forward cache: cached (repeated products at one theta, then a new theta, then a
 *    gradient) equals uncached, relative <= 1e-14; the same with a budget that holds
 *    only 3 of the 8 chunks;
 *  - the loss alone equals the loss returned with the gradient (1e-14);
 *  - the fast kernels equal the naive reference kernels: relative <= 1e-12;
 *  - GGN positive semi-definite: v^T G v >= -1e-12 |v|^2 for 5 random v;
 * and on a linear model (one layer, identity) with MSE, G == H to 1e-12. */
#include "objective_test.h"
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static PetscErrorCode Create(HessaActivation act, HessaLossKind loss, PetscInt L, const PetscInt *widths, PetscInt chunk, PetscReal cache_mb, HessaData data, HessaObjective *obj)
{
  HessaMLPArch arch = {0};

  PetscFunctionBegin;
  arch.n_layers = L;
  for (PetscInt l = 0; l <= L; l++) arch.widths[l] = widths[l];
  arch.activation = act;
  arch.loss       = loss;
  arch.chunk      = chunk;
  arch.cache_mb   = cache_mb;
  PetscCall(HessaMLPCreate(&arch, data, obj));
  PetscFunctionReturn(0);
}

/* relative error of two blocks of b vectors, the worst direction */
static double BlockRelErr(PetscInt b, PetscInt n, const double *A, const double *B)
{
  double e = 0;
  for (PetscInt j = 0; j < b; j++) e = PetscMax(e, TestRelErr(n, A + j * n, B + j * n));
  return e;
}

static PetscErrorCode CheckConfig(HessaActivation act, HessaLossKind lk)
{
  const PetscInt widths[4] = {4, 6, 5, 3}, N = 50, b = 5;
  const char    *name = HessaActivationName(act), *lname = HessaLossName(lk);
  HessaData      data = NULL;
  HessaObjective obj, chunked, uncached, partial, partial_ref;
  PetscInt       n;
  double        *theta, *theta2, *tp, *g, *g2, *gp, *gm, *fd, *V, *HV, *HV2, *GV, *GV2, loss, loss2, lp, lm;
  const double   h = 1e-5;

  PetscFunctionBegin;
  PetscCall(TestDataCreate(lk == HESSA_LOSS_CROSS_ENTROPY ? HESSA_TASK_CLASSIFICATION : HESSA_TASK_REGRESSION, N, widths[0], widths[3], 5, &data));
  PetscCall(Create(act, lk, 3, widths, 0, -1, data, &obj));
  n = obj->n;
  CHECK(n == 4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3, "wrong parameter count %d", (int)n);
  PetscCall(PetscMalloc6(n, &theta, n, &theta2, n, &tp, n, &g, n, &g2, n, &gp));
  PetscCall(PetscMalloc6(n, &gm, n, &fd, b * n, &V, b * n, &HV, b * n, &HV2, b * n, &GV));
  PetscCall(PetscMalloc1(b * n, &GV2));
  HessaRandomFill(HESSA_RANDOM_NORMAL, 21, 1, 0, n, theta);
  for (PetscInt i = 0; i < n; i++) theta[i] *= 0.6;
  HessaRandomFill(HESSA_RANDOM_NORMAL, 21, 2, 0, n, theta2);
  for (PetscInt i = 0; i < n; i++) theta2[i] = theta[i] + 0.1 * theta2[i];
  HessaRandomFill(HESSA_RANDOM_NORMAL, 21, 3, 0, b * n, V);

  /* gradient vs finite differences of the loss */
  PetscCall(HessaObjectiveGradient(obj, theta, &loss, g));
  for (PetscInt k = 0; k < n; k++) {
    PetscCall(PetscArraycpy(tp, theta, n));
    tp[k] = theta[k] + h;
    PetscCall(HessaObjectiveLoss(obj, tp, &lp));
    tp[k] = theta[k] - h;
    PetscCall(HessaObjectiveLoss(obj, tp, &lm));
    fd[k] = (lp - lm) / (2 * h);
  }
  CHECK(TestRelErr(n, g, fd) <= 1e-6, "%s/%s: gradient vs finite differences: relative error %g", name, lname, TestRelErr(n, g, fd));
  PetscCall(HessaObjectiveLoss(obj, theta, &loss2));
  CHECK(fabs(loss - loss2) <= 1e-14 * fabs(loss), "%s/%s: Loss %.17g differs from Gradient's loss %.17g", name, lname, loss2, loss);

  /* H v vs finite differences of the gradient, two directions */
  PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, HV));
  for (PetscInt j = 0; j < 2; j++) {
    for (PetscInt i = 0; i < n; i++) tp[i] = theta[i] + h * V[j * n + i];
    PetscCall(HessaObjectiveGradient(obj, tp, &lp, gp));
    for (PetscInt i = 0; i < n; i++) tp[i] = theta[i] - h * V[j * n + i];
    PetscCall(HessaObjectiveGradient(obj, tp, &lm, gm));
    for (PetscInt i = 0; i < n; i++) fd[i] = (gp[i] - gm[i]) / (2 * h);
    CHECK(TestRelErr(n, HV + j * n, fd) <= 1e-6, "%s/%s: Hv vs finite differences: relative error %g", name, lname, TestRelErr(n, HV + j * n, fd));
  }
  /* symmetry of H and G */
  PetscCall(HessaObjectiveGGNBlock(obj, theta, b, V, GV));
  {
    double a = TestDot(n, V, HV + n), c = TestDot(n, V + n, HV), s = TestNorm(n, V) * TestNorm(n, HV + n);
    CHECK(fabs(a - c) <= 1e-12 * s, "%s/%s: H not symmetric: %g vs %g", name, lname, a, c);
    a = TestDot(n, V, GV + n), c = TestDot(n, V + n, GV), s = TestNorm(n, V) * TestNorm(n, GV + n);
    CHECK(fabs(a - c) <= 1e-12 * s, "%s/%s: G not symmetric: %g vs %g", name, lname, a, c);
  }
  /* GGN positive semi-definite */
  for (PetscInt j = 0; j < b; j++) {
    double q = TestDot(n, V + j * n, GV + j * n), vv = TestDot(n, V + j * n, V + j * n);
    CHECK(q >= -1e-12 * vv, "%s/%s: v^T G v = %g < 0", name, lname, q);
  }
  /* block of 5 == 5 singles */
  for (PetscInt j = 0; j < b; j++) {
    PetscCall(HessaObjectiveHessianBlock(obj, theta, 1, V + j * n, HV2 + j * n));
    PetscCall(HessaObjectiveGGNBlock(obj, theta, 1, V + j * n, GV2 + j * n));
  }
  CHECK(BlockRelErr(b, n, HV, HV2) <= 1e-13, "%s/%s: block Hv differs from single products by %g", name, lname, BlockRelErr(b, n, HV, HV2));
  CHECK(BlockRelErr(b, n, GV, GV2) <= 1e-13, "%s/%s: block Gv differs from single products by %g", name, lname, BlockRelErr(b, n, GV, GV2));

  /* a block of 20 > HESSA_MLP_R_DIRS directions is split into R passes of 20, 20 and 10
   * samples; it equals 20 single products */
  {
    const PetscInt bb = 20;
    double        *W, *WH, *WS;
    PetscCall(PetscMalloc3(bb * n, &W, bb * n, &WH, bb * n, &WS));
    HessaRandomFill(HESSA_RANDOM_NORMAL, 21, 4, 0, bb * n, W);
    PetscCall(HessaObjectiveHessianBlock(obj, theta, bb, W, WH));
    for (PetscInt j = 0; j < bb; j++) PetscCall(HessaObjectiveHessianBlock(obj, theta, 1, W + j * n, WS + j * n));
    CHECK(BlockRelErr(bb, n, WH, WS) <= 1e-13, "%s/%s: block of 20 differs from single products by %g", name, lname, BlockRelErr(bb, n, WH, WS));
    PetscCall(HessaObjectiveGGNBlock(obj, theta, bb, W, WH));
    for (PetscInt j = 0; j < bb; j++) PetscCall(HessaObjectiveGGNBlock(obj, theta, 1, W + j * n, WS + j * n));
    CHECK(BlockRelErr(bb, n, WH, WS) <= 1e-13, "%s/%s: GGN block of 20 differs from single products by %g", name, lname, BlockRelErr(bb, n, WH, WS));
    PetscCall(PetscFree3(W, WH, WS));
  }

  /* chunk = 7 equals one chunk */
  PetscCall(Create(act, lk, 3, widths, 7, -1, data, &chunked));
  PetscCall(HessaObjectiveGradient(chunked, theta, &loss2, g2));
  CHECK(fabs(loss - loss2) <= 1e-13 * fabs(loss) && TestRelErr(n, g2, g) <= 1e-13, "%s/%s: chunked loss/gradient differ", name, lname);
  PetscCall(HessaObjectiveHessianBlock(chunked, theta, b, V, HV2));
  CHECK(BlockRelErr(b, n, HV2, HV) <= 1e-13, "%s/%s: chunked Hv differs by %g", name, lname, BlockRelErr(b, n, HV2, HV));
  PetscCall(HessaObjectiveGGNBlock(chunked, theta, b, V, GV2));
  CHECK(BlockRelErr(b, n, GV2, GV) <= 1e-13, "%s/%s: chunked Gv differs by %g", name, lname, BlockRelErr(b, n, GV2, GV));

  /* cached vs uncached: repeated products at theta, a new theta, then a gradient */
  PetscCall(Create(act, lk, 3, widths, 0, 0, data, &uncached));
  for (int rep = 0; rep < 2; rep++) {
    PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, HV));
    PetscCall(HessaObjectiveHessianBlock(uncached, theta, b, V, HV2));
    CHECK(BlockRelErr(b, n, HV, HV2) <= 1e-14, "%s/%s: cached Hv differs by %g", name, lname, BlockRelErr(b, n, HV, HV2));
  }
  PetscCall(HessaObjectiveHessianBlock(obj, theta2, 2, V, HV));
  PetscCall(HessaObjectiveHessianBlock(uncached, theta2, 2, V, HV2));
  CHECK(BlockRelErr(2, n, HV, HV2) <= 1e-14, "%s/%s: cached Hv at a new theta differs by %g", name, lname, BlockRelErr(2, n, HV, HV2));
  PetscCall(HessaObjectiveGradient(obj, theta2, &loss, g));
  PetscCall(HessaObjectiveGradient(uncached, theta2, &loss2, g2));
  CHECK(fabs(loss - loss2) <= 1e-14 * fabs(loss2) && TestRelErr(n, g, g2) <= 1e-14, "%s/%s: cached gradient differs", name, lname);
  PetscCall(HessaObjectiveLoss(obj, theta2, &loss));
  CHECK(fabs(loss - loss2) <= 1e-14 * fabs(loss2), "%s/%s: cached loss differs", name, lname);
  PetscCall(HessaObjectiveGGNBlock(obj, theta2, b, V, GV));
  PetscCall(HessaObjectiveGGNBlock(uncached, theta2, b, V, GV2));
  CHECK(BlockRelErr(b, n, GV, GV2) <= 1e-14, "%s/%s: cached Gv differs by %g", name, lname, BlockRelErr(b, n, GV, GV2));
  /* a budget for 3.5 of the 8 chunks of 7 samples: the state holds A, act', (dA act''), dZ per
   * hidden unit and dZ (, softmax) per output */
  {
    const PetscBool d2  = act == HESSA_ACT_IDENTITY || act == HESSA_ACT_RELU ? PETSC_FALSE : PETSC_TRUE;
    const double    per = 11 * (d2 ? 4 : 3) + 3 * (lk == HESSA_LOSS_CROSS_ENTROPY ? 2 : 1);
    PetscCall(Create(act, lk, 3, widths, 7, 3.5 * 7 * per * 8 / 1048576.0, data, &partial));
  }
  PetscCall(Create(act, lk, 3, widths, 7, 0, data, &partial_ref));
  for (int rep = 0; rep < 2; rep++) {
    PetscCall(HessaObjectiveHessianBlock(partial, theta, b, V, HV));
    PetscCall(HessaObjectiveHessianBlock(partial_ref, theta, b, V, HV2));
    CHECK(BlockRelErr(b, n, HV, HV2) <= 1e-14, "%s/%s: partly cached Hv differs by %g", name, lname, BlockRelErr(b, n, HV, HV2));
  }
  CHECK(strstr(partial->description, "forward cache 3/8 chunks") != NULL, "%s/%s: expected 3 of 8 chunks cached: %s", name, lname, partial->description);

  /* fast vs naive reference */
  PetscCall(HessaObjectiveGradient(obj, theta, &loss, g));
  PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, HV));
  PetscCall(HessaObjectiveGGNBlock(obj, theta, b, V, GV));
  PetscCall(HessaMLPUseReference(obj, PETSC_TRUE));
  PetscCall(HessaObjectiveGradient(obj, theta, &loss2, g2));
  PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, HV2));
  PetscCall(HessaObjectiveGGNBlock(obj, theta, b, V, GV2));
  CHECK(fabs(loss - loss2) <= 1e-12 * fabs(loss2), "%s/%s: loss differs from reference", name, lname);
  CHECK(TestRelErr(n, g, g2) <= 1e-12, "%s/%s: gradient differs from reference by %g", name, lname, TestRelErr(n, g, g2));
  CHECK(BlockRelErr(b, n, HV, HV2) <= 1e-12, "%s/%s: Hv differs from reference by %g", name, lname, BlockRelErr(b, n, HV, HV2));
  CHECK(BlockRelErr(b, n, GV, GV2) <= 1e-12, "%s/%s: Gv differs from reference by %g", name, lname, BlockRelErr(b, n, GV, GV2));

  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(HessaObjectiveDestroy(&chunked));
  PetscCall(HessaObjectiveDestroy(&uncached));
  PetscCall(HessaObjectiveDestroy(&partial));
  PetscCall(HessaObjectiveDestroy(&partial_ref));
  PetscCall(TestDataDestroy(&data));
  PetscCall(PetscFree6(theta, theta2, tp, g, g2, gp));
  PetscCall(PetscFree6(gm, fd, V, HV, HV2, GV));
  PetscCall(PetscFree(GV2));
  PetscFunctionReturn(0);
}

/* A linear model with MSE is linear in theta: its Hessian is exactly its GGN. */
static PetscErrorCode CheckLinearModel(void)
{
  const PetscInt widths[2] = {6, 4}, b = 4;
  HessaData      data = NULL;
  HessaObjective obj;
  double         theta[28], V[4 * 28], HV[4 * 28], GV[4 * 28];

  PetscFunctionBegin;
  PetscCall(TestDataCreate(HESSA_TASK_REGRESSION, 30, 6, 4, 9, &data));
  PetscCall(Create(HESSA_ACT_IDENTITY, HESSA_LOSS_MSE, 1, widths, 0, -1, data, &obj));
  CHECK(obj->n == 28, "linear model has %d parameters", (int)obj->n);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 4, 1, 0, 28, theta);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 4, 2, 0, b * 28, V);
  PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, HV));
  PetscCall(HessaObjectiveGGNBlock(obj, theta, b, V, GV));
  CHECK(BlockRelErr(b, 28, HV, GV) <= 1e-12, "linear model: G differs from H by %g", BlockRelErr(b, 28, HV, GV));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  for (int a = HESSA_ACT_IDENTITY; a <= HESSA_ACT_GELU; a++)
    for (int l = HESSA_LOSS_CROSS_ENTROPY; l <= HESSA_LOSS_MSE; l++) PetscCall(CheckConfig((HessaActivation)a, (HessaLossKind)l));
  PetscCall(CheckLinearModel());
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
