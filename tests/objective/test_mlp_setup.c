/* MLP set-up and helpers:
 *  - the parameter table of 5-7-3 (names, shapes, offsets, counts; torch nn.Linear order),
 *    n_samples = n_global, weight_decay stored, defaults chunk 1000 / cache 512 MB;
 *  - architecture checks: a wrong input width, output width (classes, targets), task, or
 *    label give an error whose message names both numbers;
 *  - HessaMLPForward equals a hand-written forward pass (1e-14), and the loss equals the
 *    sum of per-sample losses computed here from those outputs (cross-entropy by
 *    log-sum-exp, MSE as the mean over outputs) to 1e-13;
 *  - an empty shard (n_local = 0) gives zeros and n_samples = n_global;
 *  - HessaMLPInitialize: slices equal the whole vector bitwise, biases are 0, Glorot
 *    weights lie within +-sqrt(6/(in+out)) with variance bound^2/3 (5 %), He weights have
 *    variance 2/fan_in (5 %); an unknown scheme is an error;
 *  - teacher-student: at the teacher's weights the student's loss is 0, the gradient 0
 *    (1e-14) and H equals the GGN (1e-12; dZ = 0 there). */
#include "objective_test.h"
#include <stdio.h>
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static char captured[1024];

/* records the innermost message of an expected error */
static PetscErrorCode Capture(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  if (p == PETSC_ERROR_INITIAL) snprintf(captured, sizeof captured, "%s", mess ? mess : "");
  return n;
}

/* Create must fail with a message containing both a and b. */
static PetscErrorCode ExpectCreateError(const HessaMLPArch *arch, HessaData data, const char *a, const char *b)
{
  HessaObjective obj = NULL;
  PetscErrorCode code;

  PetscFunctionBegin;
  captured[0] = 0;
  PetscCall(PetscPushErrorHandler(Capture, NULL));
  code = HessaMLPCreate(arch, data, &obj);
  PetscCall(PetscPopErrorHandler());
  CHECK(code != 0, "HessaMLPCreate accepted a bad architecture (expected a message with %s and %s)", a, b);
  CHECK(strstr(captured, a) && strstr(captured, b), "message '%s' does not name %s and %s", captured, a, b);
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestTableAndChecks(void)
{
  HessaData      cls = NULL, reg = NULL;
  HessaObjective obj;
  HessaMLPArch   arch = {0}, got;

  PetscFunctionBegin;
  PetscCall(TestDataCreate(HESSA_TASK_CLASSIFICATION, 12, 5, 3, 1, &cls));
  PetscCall(TestDataCreate(HESSA_TASK_REGRESSION, 12, 5, 2, 1, &reg));
  cls->n_global  = 30; /* as if other ranks held more */
  arch.n_layers  = 2;
  arch.widths[0] = 5, arch.widths[1] = 7, arch.widths[2] = 3;
  arch.activation   = HESSA_ACT_TANH;
  arch.loss         = HESSA_LOSS_CROSS_ENTROPY;
  arch.weight_decay = 0.01;
  arch.cache_mb     = -1;
  PetscCall(HessaMLPCreate(&arch, cls, &obj));
  {
    const char    *names[4]    = {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"};
    const PetscInt shape[4][2] = {{7, 5}, {7, 1}, {3, 7}, {3, 1}}, offset[4] = {0, 35, 42, 63}, count[4] = {35, 7, 21, 3};
    CHECK(obj->n == 66 && obj->n_blocks == 4, "n = %d, %d blocks", (int)obj->n, (int)obj->n_blocks);
    for (int k = 0; k < 4; k++) {
      const HessaParamBlock *bl = &obj->blocks[k];
      CHECK(!strcmp(bl->name, names[k]) && bl->ndim == (k % 2 ? 1 : 2) && bl->shape[0] == shape[k][0] && (k % 2 || bl->shape[1] == shape[k][1]) && bl->offset == offset[k] && bl->count == count[k], "parameter table row %d is wrong (%s)", k, bl->name);
    }
    CHECK(obj->n_samples == 30 && obj->weight_decay == 0.01 && obj->data == cls, "n_samples %d, weight_decay %g", (int)obj->n_samples, (double)obj->weight_decay);
    PetscCall(HessaMLPGetArch(obj, &got));
    CHECK(got.chunk == 1000 && got.cache_mb == 512, "defaults: chunk %d, cache %g MB", (int)got.chunk, (double)got.cache_mb);
  }
  PetscCall(HessaObjectiveDestroy(&obj));
  arch.widths[0] = 6;
  PetscCall(ExpectCreateError(&arch, cls, "6", "5 features"));
  arch.widths[0] = 5, arch.widths[2] = 4;
  PetscCall(ExpectCreateError(&arch, cls, "4", "3 classes"));
  arch.loss = HESSA_LOSS_MSE;
  PetscCall(ExpectCreateError(&arch, reg, "4", "2 targets"));
  arch.widths[2] = 3;
  PetscCall(ExpectCreateError(&arch, cls, "mse", "classification"));
  arch.loss      = HESSA_LOSS_CROSS_ENTROPY;
  cls->labels[4] = 3;
  PetscCall(ExpectCreateError(&arch, cls, "label 3", "[0, 3)"));
  PetscCall(TestDataDestroy(&cls));
  PetscCall(TestDataDestroy(&reg));
  PetscFunctionReturn(0);
}

/* Forward and loss against a hand-written network. */
static PetscErrorCode TestForwardAndLoss(HessaLossKind lk)
{
  const PetscInt N = 9, in = 4, hid = 5, out = 3, n = hid * in + hid + out * hid + out;
  HessaData      data = NULL;
  HessaObjective obj;
  HessaMLPArch   arch = {0};
  double         theta[48], z[27], zr[27], loss, expect = 0;

  PetscFunctionBegin;
  PetscCall(TestDataCreate(lk == HESSA_LOSS_MSE ? HESSA_TASK_REGRESSION : HESSA_TASK_CLASSIFICATION, N, in, out, 3, &data));
  arch.n_layers  = 2;
  arch.widths[0] = in, arch.widths[1] = hid, arch.widths[2] = out;
  arch.activation = HESSA_ACT_SIGMOID;
  arch.loss       = lk;
  arch.chunk      = 4; /* forward in chunks of 4 */
  PetscCall(HessaMLPCreate(&arch, data, &obj));
  CHECK(obj->n == n, "n = %d", (int)obj->n);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 3, 9, 0, n, theta);
  PetscCall(HessaMLPForward(obj, theta, N, data->x, z));
  for (PetscInt s = 0; s < N; s++) {
    const double *x = data->x + s * in, *W1 = theta, *b1 = theta + 20, *W2 = theta + 25, *b2 = theta + 40;
    double        a[5];
    for (PetscInt o = 0; o < hid; o++) {
      double t = b1[o];
      for (PetscInt i = 0; i < in; i++) t += W1[o * in + i] * x[i];
      a[o] = 1.0 / (1.0 + exp(-t));
    }
    for (PetscInt o = 0; o < out; o++) {
      double t = b2[o];
      for (PetscInt i = 0; i < hid; i++) t += W2[o * hid + i] * a[i];
      zr[s * out + o] = t;
    }
    if (lk == HESSA_LOSS_MSE) {
      for (PetscInt o = 0; o < out; o++) expect += pow(zr[s * out + o] - data->y[s * out + o], 2) / out;
    } else {
      double se = 0;
      for (PetscInt o = 0; o < out; o++) se += exp(zr[s * out + o]);
      expect += log(se) - zr[s * out + data->labels[s]];
    }
  }
  CHECK(TestMaxDiff(N * out, z, zr) <= 1e-14 * PetscMax(1.0, TestNorm(N * out, zr)), "forward differs by %g", TestMaxDiff(N * out, z, zr));
  PetscCall(HessaObjectiveLoss(obj, theta, &loss));
  CHECK(fabs(loss - expect) <= 1e-13 * fabs(expect), "%s loss %.17g, expected %.17g", HessaLossName(lk), loss, expect);
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestEmptyShard(void)
{
  HessaData      data = NULL;
  HessaObjective obj;
  HessaMLPArch   arch = {0};
  double         theta[26], g[26], V[52], HV[52], loss;

  PetscFunctionBegin;
  PetscCall(TestDataCreate(HESSA_TASK_CLASSIFICATION, 0, 3, 2, 1, &data));
  data->n_global = 10;
  arch.n_layers  = 2;
  arch.widths[0] = 3, arch.widths[1] = 4, arch.widths[2] = 2;
  arch.activation = HESSA_ACT_GELU;
  arch.loss       = HESSA_LOSS_CROSS_ENTROPY;
  PetscCall(HessaMLPCreate(&arch, data, &obj));
  CHECK(obj->n == 26, "n = %d", (int)obj->n);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 1, 1, 0, 26, theta);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 1, 2, 0, 52, V);
  for (int i = 0; i < 52; i++) HV[i] = 1;
  PetscCall(HessaObjectiveGradient(obj, theta, &loss, g));
  CHECK(loss == 0 && TestNorm(26, g) == 0, "empty shard: nonzero loss or gradient");
  PetscCall(HessaObjectiveHessianBlock(obj, theta, 2, V, HV));
  CHECK(TestNorm(52, HV) == 0, "empty shard: nonzero Hv");
  CHECK(obj->n_samples == 10, "empty shard: n_samples = %d", (int)obj->n_samples);
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestInitialize(void)
{
  HessaData      data = NULL;
  HessaObjective obj;
  HessaMLPArch   arch = {0};
  double        *whole, *pieces, var;
  PetscInt       n, cuts[4];
  PetscErrorCode code;

  PetscFunctionBegin;
  PetscCall(TestDataCreate(HESSA_TASK_CLASSIFICATION, 1, 200, 10, 1, &data));
  arch.n_layers  = 2;
  arch.widths[0] = 200, arch.widths[1] = 100, arch.widths[2] = 10;
  arch.activation = HESSA_ACT_RELU;
  arch.loss       = HESSA_LOSS_CROSS_ENTROPY;
  PetscCall(HessaMLPCreate(&arch, data, &obj));
  n = obj->n;
  PetscCall(PetscMalloc2(n, &whole, n, &pieces));
  for (int scheme = 0; scheme < 2; scheme++) {
    const char *name = scheme ? "he" : "glorot";
    PetscCall(HessaMLPInitialize(obj, name, 77, 0, n, whole));
    cuts[0] = 0, cuts[1] = 1234, cuts[2] = 20050, cuts[3] = n; /* slices as three ranks would own */
    for (int r = 0; r < 3; r++) PetscCall(HessaMLPInitialize(obj, name, 77, cuts[r], cuts[r + 1] - cuts[r], pieces + cuts[r]));
    CHECK(!memcmp(whole, pieces, (size_t)n * sizeof(double)), "%s: slices differ from the whole vector", name);
    for (PetscInt i = 20000; i < 20100; i++) CHECK(whole[i] == 0, "%s: bias %d is not 0", name, (int)(i - 20000));
    var = 0;
    for (PetscInt i = 0; i < 20000; i++) var += whole[i] * whole[i];
    var /= 20000;
    if (scheme == 0) {
      double bound = sqrt(6.0 / 300.0);
      for (PetscInt i = 0; i < 20000; i++) CHECK(fabs(whole[i]) <= bound, "glorot weight %g beyond %g", whole[i], bound);
      CHECK(fabs(var / (bound * bound / 3) - 1) < 0.05, "glorot variance %g, expected %g", var, bound * bound / 3);
    } else
      CHECK(fabs(var / (2.0 / 200) - 1) < 0.05, "he variance %g, expected %g", var, 2.0 / 200);
  }
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  code = HessaMLPInitialize(obj, "lecun", 1, 0, n, whole);
  PetscCall(PetscPopErrorHandler());
  CHECK(code == HESSA_ERR_ARG, "unknown scheme accepted");
  PetscCall(PetscFree2(whole, pieces));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestTeacher(void)
{
  HessaData      data = NULL;
  HessaObjective teacher, student;
  HessaMLPArch   arch = {0};
  double        *theta, *g, *V, *HV, *GV, loss;
  PetscInt       n;

  PetscFunctionBegin;
  PetscCall(TestDataCreate(HESSA_TASK_REGRESSION, 40, 3, 2, 6, &data));
  arch.n_layers  = 2;
  arch.widths[0] = 3, arch.widths[1] = 8, arch.widths[2] = 2;
  arch.activation = HESSA_ACT_TANH;
  arch.loss       = HESSA_LOSS_MSE;
  PetscCall(HessaMLPCreate(&arch, data, &teacher));
  n = teacher->n;
  PetscCall(PetscMalloc5(n, &theta, n, &g, 3 * n, &V, 3 * n, &HV, 3 * n, &GV));
  PetscCall(HessaMLPInitialize(teacher, "glorot", 5, 0, n, theta));
  for (PetscInt i = 24; i < 32; i++) theta[i] = 0.1 * (double)(i - 28); /* nonzero biases too */
  PetscCall(HessaMLPTeacherTargets(teacher, theta, data));
  PetscCall(HessaMLPCreate(&arch, data, &student));
  PetscCall(HessaObjectiveGradient(student, theta, &loss, g));
  CHECK(loss < 1e-28 && TestNorm(n, g) < 1e-14, "teacher weights: loss %g, |g| %g", loss, TestNorm(n, g));
  HessaRandomFill(HESSA_RANDOM_NORMAL, 6, 7, 0, 3 * n, V);
  PetscCall(HessaObjectiveHessianBlock(student, theta, 3, V, HV));
  PetscCall(HessaObjectiveGGNBlock(student, theta, 3, V, GV));
  for (int j = 0; j < 3; j++) CHECK(TestRelErr(n, HV + j * n, GV + j * n) < 1e-12, "at the teacher's weights H differs from G by %g", TestRelErr(n, HV + j * n, GV + j * n));
  PetscCall(PetscFree5(theta, g, V, HV, GV));
  PetscCall(HessaObjectiveDestroy(&teacher));
  PetscCall(HessaObjectiveDestroy(&student));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(TestTableAndChecks());
  PetscCall(TestForwardAndLoss(HESSA_LOSS_CROSS_ENTROPY));
  PetscCall(TestForwardAndLoss(HESSA_LOSS_MSE));
  PetscCall(TestEmptyShard());
  PetscCall(TestInitialize());
  PetscCall(TestTeacher());
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
