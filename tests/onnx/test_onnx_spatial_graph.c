/* The spatial ONNX kernels inside the executor: a small CNN built by hand, run as an
 * objective (20 samples in chunks of 7) and checked by the derivative checker
 * (onnx_check.h): gradient and Hv against central differences (h = 1e-5, relative 1e-6),
 * symmetry of H and G (1e-12), G semi-definite, blocks of 11 directions equal to single
 * products (1e-13). The graph:
 *   x [N,1,6,6] -> Conv 3x3 pads 1 (2 channels, bias) -> BatchNormalization (running
 *   statistics constant) -> Tanh -> MaxPool 2x2 stride 2 -> Conv group 2 (2 -> 4, 2x2,
 *   pads 1, no bias) -> AveragePool 3x3 stride 2 ceil_mode (a window past the edge) -> Tanh
 *   -> GlobalAveragePool -> Flatten -> Gemm (4 -> 3) -> cross-entropy,
 * and the same with MSE; a second graph feeds the data into a depthwise Conv with
 * auto_pad SAME_UPPER and stride 2, then AveragePool counting the pads. Tanh keeps the
 * network smooth, so central differences see no kink away from MaxPool ties. */
#include "onnx_check.h"
#include "objective_test.h"
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)
#define NS 20

static double *Rand(PetscInt count, uint64_t stream, double shift, double scale)
{
  static double buf[1024];
  HessaRandomFill(HESSA_RANDOM_NORMAL, 23, stream, 0, count, buf);
  for (PetscInt k = 0; k < count; k++) buf[k] = shift + scale * buf[k];
  return buf;
}

static PetscErrorCode Value(HessaOnnxGraph *g, const char *name, HessaOnnxValueKind kind, int ndim, const int64_t *dims, double shift, double scale, int *v)
{
  static uint64_t stream = 1;
  PetscInt        size   = 1;

  PetscFunctionBegin;
  for (int d = 0; d < ndim; d++) size *= dims[d];
  PetscCall(OnnxTestAddValue(g, name, kind, ndim, dims, 0, Rand(size, stream++, shift, scale), v));
  PetscFunctionReturn(0);
}

static PetscErrorCode Node(HessaOnnxGraph *g, const char *op, const HessaOnnxOp *impl, int n_in, const int *in, const char *out, int n_attr, const HessaOnnxAttr *attr, int *y)
{
  PetscFunctionBegin;
  PetscCall(OnnxTestAddNode(g, op, impl, n_in, in, 1, (const char *[]){out}, n_attr, attr, y, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode BuildCNN(HessaOnnxGraph **gp)
{
  HessaOnnxGraph *g;
  int             x, W1, B1, s, b, mu, var, W2, Wf, Bf, y;

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("cnn.onnx", gp));
  g = *gp;
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 4, (int64_t[]){0, 1, 6, 6}, 1, NULL, &x));
  PetscCall(Value(g, "conv1.weight", HESSA_ONNX_PARAM, 4, (int64_t[]){2, 1, 3, 3}, 0, 0.5, &W1));
  PetscCall(Value(g, "conv1.bias", HESSA_ONNX_PARAM, 1, (int64_t[]){2}, 0, 0.2, &B1));
  PetscCall(Node(g, "Conv", NULL, 3, (int[]){x, W1, B1}, "c1", 2, (HessaOnnxAttr[]){OnnxTestAttrInts("kernel_shape", 2, (int64_t[]){3, 3}), OnnxTestAttrInts("pads", 4, (int64_t[]){1, 1, 1, 1})}, &y));
  PetscCall(Value(g, "bn.weight", HESSA_ONNX_PARAM, 1, (int64_t[]){2}, 1.0, 0.2, &s));
  PetscCall(Value(g, "bn.bias", HESSA_ONNX_PARAM, 1, (int64_t[]){2}, 0, 0.2, &b));
  PetscCall(Value(g, "bn.running_mean", HESSA_ONNX_CONST, 1, (int64_t[]){2}, 0, 0.1, &mu));
  PetscCall(Value(g, "bn.running_var", HESSA_ONNX_CONST, 1, (int64_t[]){2}, 1.0, 0.2, &var));
  PetscCall(Node(g, "BatchNormalization", NULL, 5, (int[]){y, s, b, mu, var}, "bn", 1, (HessaOnnxAttr[]){OnnxTestAttrFloat("epsilon", 1e-3)}, &y));
  PetscCall(Node(g, "Tanh", NULL, 1, (int[]){y}, "t1", 0, NULL, &y));
  PetscCall(Node(g, "MaxPool", NULL, 1, (int[]){y}, "mp", 2, (HessaOnnxAttr[]){OnnxTestAttrInts("kernel_shape", 2, (int64_t[]){2, 2}), OnnxTestAttrInts("strides", 2, (int64_t[]){2, 2})}, &y));
  PetscCall(Value(g, "conv2.weight", HESSA_ONNX_PARAM, 4, (int64_t[]){4, 1, 2, 2}, 0, 0.6, &W2));
  PetscCall(Node(g, "Conv", NULL, 2, (int[]){y, W2}, "c2", 2, (HessaOnnxAttr[]){OnnxTestAttrInt("group", 2), OnnxTestAttrInts("pads", 4, (int64_t[]){1, 1, 1, 1})}, &y));
  PetscCall(Node(g, "AveragePool", NULL, 1, (int[]){y}, "ap", 3, (HessaOnnxAttr[]){OnnxTestAttrInts("kernel_shape", 2, (int64_t[]){3, 3}), OnnxTestAttrInts("strides", 2, (int64_t[]){2, 2}), OnnxTestAttrInt("ceil_mode", 1)}, &y));
  PetscCall(Node(g, "Tanh", NULL, 1, (int[]){y}, "t2", 0, NULL, &y));
  PetscCall(Node(g, "GlobalAveragePool", NULL, 1, (int[]){y}, "gap", 0, NULL, &y));
  PetscCall(Node(g, "Flatten", NULL, 1, (int[]){y}, "flat", 0, NULL, &y));
  PetscCall(Value(g, "fc.weight", HESSA_ONNX_PARAM, 2, (int64_t[]){3, 4}, 0, 0.8, &Wf));
  PetscCall(Value(g, "fc.bias", HESSA_ONNX_PARAM, 1, (int64_t[]){3}, 0, 0.2, &Bf));
  PetscCall(Node(g, "Gemm", NULL, 3, (int[]){y, Wf, Bf}, "logits", 1, (HessaOnnxAttr[]){OnnxTestAttrInt("transB", 1)}, &y));
  PetscCall(OnnxTestGraphFinish(g, x, y));
  PetscFunctionReturn(0);
}

static PetscErrorCode BuildDepthwise(HessaOnnxGraph **gp)
{
  HessaOnnxGraph *g;
  int             x, W1, B1, Wf, y;

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("depthwise.onnx", gp));
  g = *gp;
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 4, (int64_t[]){0, 2, 5, 5}, 1, NULL, &x));
  PetscCall(Value(g, "dw.weight", HESSA_ONNX_PARAM, 4, (int64_t[]){4, 1, 3, 3}, 0, 0.5, &W1));
  PetscCall(Value(g, "dw.bias", HESSA_ONNX_PARAM, 1, (int64_t[]){4}, 0, 0.2, &B1));
  PetscCall(Node(g, "Conv", NULL, 3, (int[]){x, W1, B1}, "c1", 3, (HessaOnnxAttr[]){OnnxTestAttrInt("group", 2), OnnxTestAttrString("auto_pad", "SAME_UPPER"), OnnxTestAttrInts("strides", 2, (int64_t[]){2, 2})}, &y));
  PetscCall(Node(g, "Tanh", NULL, 1, (int[]){y}, "t1", 0, NULL, &y));
  PetscCall(Node(g, "AveragePool", NULL, 1, (int[]){y}, "ap", 3, (HessaOnnxAttr[]){OnnxTestAttrInts("kernel_shape", 2, (int64_t[]){2, 2}), OnnxTestAttrInts("pads", 4, (int64_t[]){1, 1, 1, 1}), OnnxTestAttrInt("count_include_pad", 1)}, &y));
  PetscCall(Node(g, "Flatten", NULL, 1, (int[]){y}, "flat", 0, NULL, &y));
  PetscCall(Value(g, "fc.weight", HESSA_ONNX_PARAM, 2, (int64_t[]){64, 3}, 0, 0.3, &Wf));
  PetscCall(Node(g, "MatMul", NULL, 2, (int[]){y, Wf}, "logits", 0, NULL, &y));
  PetscCall(OnnxTestGraphFinish(g, x, y));
  PetscFunctionReturn(0);
}

static PetscErrorCode Check(int k, HessaLossKind loss)
{
  HessaOnnxGraph  *g;
  HessaData        data = NULL;
  HessaObjective   obj;
  HessaONNXArch    arch;
  HessaStatus      st = {0};
  double          *theta;
  OnnxCheckOptions opt;
  PetscErrorCode   ierr;

  PetscFunctionBegin;
  PetscCall(k == 0 ? BuildCNN(&g) : BuildDepthwise(&g));
  PetscCall(TestDataCreate(loss == HESSA_LOSS_MSE ? HESSA_TASK_REGRESSION : HESSA_TASK_CLASSIFICATION, NS, g->values[g->input].size, g->values[g->output].size, 40 + (uint64_t)k, &data));
  PetscCall(PetscMemzero(&arch, sizeof arch));
  PetscCall(PetscStrncpy(arch.path, g->path, sizeof arch.path));
  arch.loss     = loss;
  arch.chunk    = 7;
  arch.cache_mb = -1;
  PetscCall(HessaOnnxObjectiveCreate(&arch, g, PETSC_FALSE, data, &obj, &theta, &st));
  CHECK(!st.code && obj, "graph %d: objective: %s", k, st.msg);
  OnnxCheckOptionsDefault(&opt);
  ierr = OnnxCheckDerivatives(obj, theta, &opt, NULL);
  CHECK(!ierr, "graph %d (%s) failed the derivative checks (%s)", k, HessaLossName(loss), obj->description);
  PetscCall(HessaObjectiveDestroy(&obj));
  free(theta);
  PetscCall(OnnxTestGraphDestroy(&g));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBegin;
  PetscCall(Check(0, HESSA_LOSS_CROSS_ENTROPY));
  PetscCall(Check(0, HESSA_LOSS_MSE));
  PetscCall(Check(1, HESSA_LOSS_CROSS_ENTROPY));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
