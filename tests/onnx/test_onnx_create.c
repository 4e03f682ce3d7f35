/* HessaONNXCreate on a file: make_mlp_onnx.py writes the MLP 5-7-3 with tanh as PyTorch
 * exports it (Gemm transB, Tanh, Gemm) with float64 weights.
 *  - the objective: type "onnx", the description names the file, the parameter table has the
 *    ONNX names and shapes in the MLP's order, HessaONNXGetArch gives the defaults (chunk 256,
 *    cache 512 MB), theta0 holds the initializers;
 *  - at theta0, loss, gradient, H V and G V (3 directions) equal HessaMLPCreate's with the
 *    same theta, relative <= 1e-12, for cross-entropy (40 samples) and MSE; HessaONNXForward
 *    equals HessaMLPForward (1e-13);
 *  - refusals (st set, *obj NULL, the message names the file): output width against the
 *    classes, input width against the features, MSE on a classification set, a missing file.
 *  - a CNN through every op family (make_mlp_onnx.py's second model) passes the derivative
 *    checker (onnx_check.h) in chunks, with a partial cache and R passes of 2 samples.
 * Usage: test_onnx_create make_mlp_onnx.py mlp.onnx cnn.onnx. Runs /usr/bin/python3. */
#include "onnx_check.h"
#include "objective_test.h"
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static PetscErrorCode AgainstMLP(const char path[], HessaLossKind loss)
{
  const PetscInt N = 40, b = 3;
  HessaData      data  = NULL;
  HessaONNXArch  arch  = {0}, got;
  HessaMLPArch   march = {0};
  HessaStatus    st    = {0};
  HessaObjective onnx, mlp;
  double        *theta0 = NULL, *V, *A, *B, la, lb, *za, *zb;
  PetscInt       n;
  const char    *names[4] = {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"};

  PetscFunctionBegin;
  PetscCall(TestDataCreate(loss == HESSA_LOSS_MSE ? HESSA_TASK_REGRESSION : HESSA_TASK_CLASSIFICATION, N, 5, 3, 9, &data));
  PetscCall(PetscStrncpy(arch.path, path, sizeof arch.path));
  arch.loss     = loss;
  arch.chunk    = 0;
  arch.cache_mb = -1;
  PetscCall(HessaONNXCreate(&arch, data, &onnx, &theta0, &st));
  CHECK(!st.code && onnx && theta0, "HessaONNXCreate: %s", st.msg);
  PetscCall(HessaONNXGetArch(onnx, &got));
  CHECK(got.chunk == 256 && got.cache_mb == 512 && !strcmp(got.path, path) && got.loss == loss, "HessaONNXGetArch: chunk %" PetscInt_FMT ", cache %g, path %s", got.chunk, (double)got.cache_mb, got.path);
  CHECK(!strcmp(onnx->type, "onnx") && strstr(onnx->description, path), "type %s, description %s", onnx->type, onnx->description);
  n = onnx->n;
  CHECK(n == 7 * 5 + 7 + 3 * 7 + 3 && onnx->n_blocks == 4, "n = %" PetscInt_FMT ", %" PetscInt_FMT " blocks", n, onnx->n_blocks);
  for (int k = 0; k < 4; k++) CHECK(!strcmp(onnx->blocks[k].name, names[k]), "block %d is '%s', expected '%s'", k, onnx->blocks[k].name, names[k]);
  CHECK(onnx->blocks[0].ndim == 2 && onnx->blocks[0].shape[0] == 7 && onnx->blocks[0].shape[1] == 5 && onnx->blocks[3].ndim == 1 && onnx->blocks[3].shape[0] == 3 && onnx->blocks[2].offset == 42, "parameter shapes or offsets differ");

  march.n_layers  = 2;
  march.widths[0] = 5, march.widths[1] = 7, march.widths[2] = 3;
  march.activation = HESSA_ACT_TANH;
  march.loss       = loss;
  march.chunk      = 1000;
  march.cache_mb   = 0;
  PetscCall(HessaMLPCreate(&march, data, &mlp));
  PetscCall(PetscMalloc5((size_t)b * n, &V, (size_t)b * n, &A, (size_t)b * n, &B, (size_t)N * 3, &za, (size_t)N * 3, &zb));
  HessaRandomFill(HESSA_RANDOM_NORMAL, 4, 1, 0, (PetscInt)b * n, V);
  PetscCall(HessaObjectiveGradient(onnx, theta0, &la, A));
  PetscCall(HessaObjectiveGradient(mlp, theta0, &lb, B));
  CHECK(fabs(la - lb) <= 1e-12 * fabs(lb) && OnnxCheckRelErr(n, A, B) <= 1e-12, "%s: loss %.17g vs %.17g, gradient differs by %.3e", HessaLossName(loss), la, lb, OnnxCheckRelErr(n, A, B));
  PetscCall(HessaObjectiveHessianBlock(onnx, theta0, b, V, A));
  PetscCall(HessaObjectiveHessianBlock(mlp, theta0, b, V, B));
  CHECK(OnnxCheckRelErr(b * n, A, B) <= 1e-12, "%s: H V differs from the MLP's by %.3e", HessaLossName(loss), OnnxCheckRelErr(b * n, A, B));
  PetscCall(HessaObjectiveGGNBlock(onnx, theta0, b, V, A));
  PetscCall(HessaObjectiveGGNBlock(mlp, theta0, b, V, B));
  CHECK(OnnxCheckRelErr(b * n, A, B) <= 1e-12, "%s: G V differs from the MLP's by %.3e", HessaLossName(loss), OnnxCheckRelErr(b * n, A, B));
  PetscCall(HessaONNXForward(onnx, theta0, N, data->x, za));
  PetscCall(HessaMLPForward(mlp, theta0, N, data->x, zb));
  CHECK(OnnxCheckRelErr(N * 3, za, zb) <= 1e-13, "forward differs from the MLP's by %.3e", OnnxCheckRelErr(N * 3, za, zb));
  PetscCall(PetscFree5(V, A, B, za, zb));
  free(theta0);
  PetscCall(HessaObjectiveDestroy(&onnx));
  PetscCall(HessaObjectiveDestroy(&mlp));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

/* The CNN through every op family (Conv, BatchNormalization, Tanh, a batched Add broadcast over
 * channels, Mul, Flatten, Gemm, Div) by the derivative checker, in chunks of 7 with a cache of
 * one chunk and R passes of 2 samples. */
static PetscErrorCode CNNDerivatives(const char path[])
{
  HessaData        data = NULL;
  HessaONNXArch    arch = {0};
  HessaStatus      st   = {0};
  HessaObjective   obj;
  double          *theta0 = NULL;
  OnnxCheckOptions opt;

  PetscFunctionBegin;
  PetscCall(TestDataCreate(HESSA_TASK_CLASSIFICATION, 20, 25, 3, 12, &data));
  PetscCall(PetscStrncpy(arch.path, path, sizeof arch.path));
  arch.loss     = HESSA_LOSS_CROSS_ENTROPY;
  arch.chunk    = 7;
  arch.cache_mb = 0.05; /* 612 doubles a sample: one chunk of 7 */
  PetscCall(PetscOptionsSetValue(NULL, "-hessa_onnx_tangent_mb", "0.08"));
  PetscCall(HessaONNXCreate(&arch, data, &obj, &theta0, &st));
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_onnx_tangent_mb"));
  CHECK(!st.code && obj, "HessaONNXCreate: %s", st.msg);
  CHECK(obj->n == 18 + 2 + 2 + 2 + 2 + 150 + 3 + 1, "the CNN has %" PetscInt_FMT " parameters, expected 180 (%s)", obj->n, obj->description);
  CHECK(strstr(obj->description, "forward cache 1/3 chunks") && strstr(obj->description, "2 samples x 8 directions"), "cache or R pass not as planned: %s", obj->description);
  OnnxCheckOptionsDefault(&opt);
  PetscCall(OnnxCheckDerivatives(obj, theta0, &opt, NULL));
  free(theta0);
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

/* HessaONNXCreate must refuse: st set, no objective, the message has the file and `want`. */
static PetscErrorCode Refused(const char path[], HessaTask task, PetscInt features, PetscInt outputs, HessaLossKind loss, const char want[])
{
  HessaData      data   = NULL;
  HessaONNXArch  arch   = {0};
  HessaStatus    st     = {0};
  HessaObjective obj    = NULL;
  double        *theta0 = NULL;

  PetscFunctionBegin;
  PetscCall(TestDataCreate(task, 10, features, outputs, 2, &data));
  PetscCall(PetscStrncpy(arch.path, path, sizeof arch.path));
  arch.loss = loss;
  PetscCall(HessaONNXCreate(&arch, data, &obj, &theta0, &st));
  CHECK(st.code && !obj && !theta0 && strstr(st.msg, path) && strstr(st.msg, want), "expected a refusal with '%s', got code %d '%s'", want, (int)st.code, st.msg);
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(int argc, char **argv)
{
  char cmd[4096], missing[4200];

  PetscFunctionBegin;
  CHECK(argc == 4, "usage: test_onnx_create make_mlp_onnx.py mlp.onnx cnn.onnx");
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s", argv[1], argv[2], argv[3]);
  CHECK(system(cmd) == 0, "the model script failed: %s", cmd);
  PetscCall(AgainstMLP(argv[2], HESSA_LOSS_CROSS_ENTROPY));
  PetscCall(AgainstMLP(argv[2], HESSA_LOSS_MSE));
  PetscCall(CNNDerivatives(argv[3]));
  PetscCall(Refused(argv[2], HESSA_TASK_CLASSIFICATION, 5, 4, HESSA_LOSS_CROSS_ENTROPY, "the data has 4 classes"));
  PetscCall(Refused(argv[2], HESSA_TASK_REGRESSION, 5, 2, HESSA_LOSS_MSE, "the data has 2 targets"));
  PetscCall(Refused(argv[2], HESSA_TASK_CLASSIFICATION, 5, 3, HESSA_LOSS_MSE, "mse needs a regression data set"));
  PetscCall(Refused(argv[2], HESSA_TASK_CLASSIFICATION, 6, 3, HESSA_LOSS_CROSS_ENTROPY, "but the data has 6 features"));
  snprintf(missing, sizeof missing, "%s.missing", argv[2]);
  PetscCall(Refused(missing, HESSA_TASK_CLASSIFICATION, 5, 3, HESSA_LOSS_CROSS_ENTROPY, "cannot"));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run(argc, argv);
  return HessaFinalize(ierr);
}
