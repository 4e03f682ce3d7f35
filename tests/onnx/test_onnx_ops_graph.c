/* The pointwise and shape ops inside real ONNX graphs, through the loader and the
 * executor (HessaONNXCreate): the models of ops_models.py (PyTorch exports with hessa's
 * recipe: an MLP with every activation, a shape-op network, a CNN with concatenated
 * convolution branches; and a hand-written graph with Dropout, Identity, Reshape/Pad by
 * initializers and parameter-phase Concat/Transpose/Tanh), 6 samples each in chunks of 4:
 *  - outputs against PyTorch's (numpy's for the hand-written graph) float64 outputs:
 *    relative <= 1e-12;
 *  - gradient: <g, v> against central differences of the loss (h = 1e-5) for 3 random unit v:
 *    relative <= 1e-7;
 *  - H v against central differences of the gradient for a block of 3 directions:
 *    relative <= 1e-6 (each direction);
 *  - symmetry |u^T H v - v^T H u| <= 1e-12 |u| |H v|, and the same for the Gauss-Newton G;
 *  - the loader made parameters exactly of the float weights (not of Dropout's ratio or
 *    Pad's constant_value: constant inputs of those ops).
 * usage: test_onnx_ops_graph DIR (written by ops_models.py); -view prints the worst errors. */
#include <hessa/objective.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static double worst_fwd, worst_grad, worst_hv, worst_sym;

static double Dot(PetscInt n, const double *a, const double *b)
{
  double s = 0;
  for (PetscInt i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static double RelErr(PetscInt n, const double *a, const double *b)
{
  double d = 0, nb = sqrt(Dot(n, b, b));
  for (PetscInt i = 0; i < n; i++) d += (a[i] - b[i]) * (a[i] - b[i]);
  return nb > 0 ? sqrt(d) / nb : sqrt(d);
}

static PetscErrorCode ReadDoubles(const char *path, size_t count, double *x)
{
  FILE  *f = fopen(path, "rb");
  size_t got;

  PetscFunctionBegin;
  CHECK(f, "cannot open %s (run ops_models.py first)", path);
  got = fread(x, sizeof(double), count, f);
  fclose(f);
  CHECK(got == count, "%s: expected %zu doubles, found %zu", path, count, got);
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckModel(const char *dir, const char *name, PetscInt features, PetscInt classes, PetscInt count, const char *const *expect_params)
{
  struct _p_HessaData data;
  HessaONNXArch       arch = {0};
  HessaObjective      obj  = NULL;
  HessaStatus         st   = {0};
  char                path[PETSC_MAX_PATH_LEN];
  double             *theta0 = NULL, *z, *zref, *t, *g, *gp, *gm, *V, *HV, *U, *HU, *fd, lp, lm, loss, e;
  const double        h      = 1e-5;
  const PetscInt      b      = 3;
  PetscInt            n;

  PetscFunctionBegin;
  memset(&data, 0, sizeof data);
  data.comm       = PETSC_COMM_SELF;
  data.task       = HESSA_TASK_CLASSIFICATION;
  data.n_global   = count;
  data.n_local    = count;
  data.n_features = features;
  data.n_classes  = classes;
  PetscCall(PetscMalloc1((size_t)count * features, &data.x));
  PetscCall(PetscMalloc1(count, &data.labels));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s_x.bin", dir, name));
  PetscCall(ReadDoubles(path, (size_t)count * features, data.x));
  for (PetscInt i = 0; i < count; i++) data.labels[i] = (int)(i % classes);

  PetscCall(PetscSNPrintf(arch.path, sizeof arch.path, "%s/%s.onnx", dir, name));
  arch.loss     = HESSA_LOSS_CROSS_ENTROPY;
  arch.chunk    = 4;
  arch.cache_mb = -1;
  PetscCall(HessaONNXCreate(&arch, &data, &obj, &theta0, &st));
  CHECK(!st.code && obj, "%s: %s", name, st.msg);
  n = obj->n;
  if (expect_params) {
    PetscInt k = 0;
    for (; expect_params[k]; k++) CHECK(k < obj->n_blocks && !strcmp(obj->blocks[k].name, expect_params[k]), "%s: parameter %d is '%s', expected '%s'", name, (int)k, k < obj->n_blocks ? obj->blocks[k].name : "(none)", expect_params[k]);
    CHECK(k == obj->n_blocks, "%s: %d parameter tensors, expected %d", name, (int)obj->n_blocks, (int)k);
  }

  /* outputs */
  PetscCall(PetscMalloc2((size_t)count * classes, &z, (size_t)count * classes, &zref));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s_z.bin", dir, name));
  PetscCall(ReadDoubles(path, (size_t)count * classes, zref));
  PetscCall(HessaONNXForward(obj, theta0, count, data.x, z));
  e         = RelErr(count * classes, z, zref);
  worst_fwd = PetscMax(worst_fwd, e);
  CHECK(e <= 1e-12, "%s: outputs differ from the reference: relative %.3e > 1e-12", name, e);

  /* gradient along random directions */
  PetscCall(PetscMalloc6(n, &t, n, &g, n, &gp, n, &gm, (size_t)b * n, &V, (size_t)b * n, &HV));
  PetscCall(PetscMalloc3((size_t)b * n, &U, (size_t)b * n, &HU, (size_t)b * n, &fd));
  HessaRandomFill(HESSA_RANDOM_NORMAL, 11, 1, 0, b * n, V);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 11, 2, 0, b * n, U);
  for (PetscInt j = 0; j < b; j++) { /* unit directions: the steps are h long (kinks of ReLU and max pooling stay far) */
    double nv = sqrt(Dot(n, V + j * n, V + j * n));
    for (PetscInt i = 0; i < n; i++) V[j * n + i] /= nv;
  }
  PetscCall(HessaObjectiveGradient(obj, theta0, &loss, g));
  for (PetscInt j = 0; j < b; j++) {
    const double *v = V + j * n;
    double        dd;
    for (PetscInt i = 0; i < n; i++) t[i] = theta0[i] + h * v[i];
    PetscCall(HessaObjectiveLoss(obj, t, &lp));
    for (PetscInt i = 0; i < n; i++) t[i] = theta0[i] - h * v[i];
    PetscCall(HessaObjectiveLoss(obj, t, &lm));
    dd         = (lp - lm) / (2 * h);
    e          = fabs(Dot(n, g, v) - dd) / fabs(dd);
    worst_grad = PetscMax(worst_grad, e);
    CHECK(e <= 1e-7, "%s: <g, v%d> = %.15g, central difference %.15g: relative %.3e > 1e-7", name, (int)j, Dot(n, g, v), dd, e);
  }

  /* H V against differences of the gradient */
  PetscCall(HessaObjectiveHessianBlock(obj, theta0, b, V, HV));
  for (PetscInt j = 0; j < b; j++) {
    const double *v = V + j * n;
    for (PetscInt i = 0; i < n; i++) t[i] = theta0[i] + h * v[i];
    PetscCall(HessaObjectiveGradient(obj, t, &lp, gp));
    for (PetscInt i = 0; i < n; i++) t[i] = theta0[i] - h * v[i];
    PetscCall(HessaObjectiveGradient(obj, t, &lm, gm));
    for (PetscInt i = 0; i < n; i++) fd[j * n + i] = (gp[i] - gm[i]) / (2 * h);
    e        = RelErr(n, HV + j * n, fd + j * n);
    worst_hv = PetscMax(worst_hv, e);
    CHECK(e <= 1e-6, "%s: H v%d against central differences of the gradient: relative %.3e > 1e-6", name, (int)j, e);
  }

  /* symmetry of H and G */
  PetscCall(HessaObjectiveHessianBlock(obj, theta0, b, U, HU));
  for (int ggn = 0; ggn < 2; ggn++) {
    if (ggn) {
      PetscCall(HessaObjectiveGGNBlock(obj, theta0, b, V, HV));
      PetscCall(HessaObjectiveGGNBlock(obj, theta0, b, U, HU));
    }
    for (PetscInt j = 0; j < b; j++) {
      double a = Dot(n, U + j * n, HV + j * n), c = Dot(n, V + j * n, HU + j * n), s = sqrt(Dot(n, U + j * n, U + j * n) * Dot(n, HV + j * n, HV + j * n));
      e         = fabs(a - c) / s;
      worst_sym = PetscMax(worst_sym, e);
      CHECK(e <= 1e-12, "%s: %s not symmetric: u^T M v = %.15g, v^T M u = %.15g (relative %.3e > 1e-12)", name, ggn ? "G" : "H", a, c, e);
    }
  }

  PetscCall(PetscFree6(t, g, gp, gm, V, HV));
  PetscCall(PetscFree3(U, HU, fd));
  PetscCall(PetscFree2(z, zref));
  free(theta0);
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(PetscFree(data.x));
  PetscCall(PetscFree(data.labels));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(int argc, char **argv)
{
  static const char *const handmade[] = {"W1", "b1", "Wa", "Wb", "b2", NULL};
  char                     path[PETSC_MAX_PATH_LEN], name[64];
  long                     features, classes, count;
  int                      models = 0;
  FILE                    *f;
  PetscBool                view = PETSC_FALSE;

  PetscFunctionBegin;
  CHECK(argc >= 2, "usage: test_onnx_ops_graph DIR");
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/ops_models.txt", argv[1]));
  f = fopen(path, "r");
  CHECK(f, "cannot open %s (run ops_models.py first)", path);
  while (fscanf(f, "%63s %ld %ld %ld", name, &features, &classes, &count) == 4) {
    PetscCall(CheckModel(argv[1], name, features, classes, count, strcmp(name, "handmade") ? NULL : handmade));
    models++;
  }
  fclose(f);
  CHECK(models == 4, "%s: expected 4 models, found %d", path, models);
  PetscCall(PetscOptionsHasName(NULL, NULL, "-view", &view));
  if (view) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "worst errors: outputs %.2e (1e-12), gradient %.2e (1e-7), Hv %.2e (1e-6), symmetry %.2e (1e-12)\n", worst_fwd, worst_grad, worst_hv, worst_sym));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run(argc, argv);
  return HessaFinalize(ierr);
}
