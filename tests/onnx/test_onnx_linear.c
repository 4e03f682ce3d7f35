/* The linear ONNX kernels (Gemm, MatMul, Add, Sub, Mul, Div) on hand-built graphs, by the
 * derivative checker (onnx_check.h): gradient and Hv against central differences (h = 1e-5,
 * relative 1e-6), symmetry of H and G (1e-12), G semi-definite, blocks of 11 directions (two
 * groups) equal to single products (1e-13); 20 samples in chunks of 7 with a forward cache
 * that holds one chunk. Cases: ONNX broadcasting of a batched value [N,3,5] against
 * parameters [5], [1,3,5], [3,1] (either side) and a constant [3,1]; two batched operands of one
 * shape (Mul, Div with a differentiable denominator); batched MatMul [N,3,4] x [4,5]; Gemm
 * with alpha, beta, transB = 0 and 1, C [1,6] and a scalar C, each with a differentiable A
 * (Tanh before it); a batched MatMul whose both factors are differentiable; parameter-phase nodes (Mul and
 * Div of parameters, a Gemm and a MatMul of two parameters) feeding the sample phase.
 * Models linear in theta (MatMul + Add, MSE and cross-entropy): G = H to 1e-12.
 * A denominator at 0: loss, gradient and Hv end in an error naming the file ("not finite").
 * Load-time refusals name the node and the shapes: a batched x batched MatMul that does not fit, shapes that
 * do not broadcast, a batched operand of lower rank, Gemm's transA. */
#include "onnx_check.h"
#include "objective_test.h"
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)
#define NS 20 /* samples */

/* random parameter values: N(0, 0.5^2) (shift 0) or shift + N(0, 0.1^2) (denominators) */
static double *Rand(PetscInt count, uint64_t stream, double shift)
{
  static double buf[4096];
  HessaRandomFill(HESSA_RANDOM_NORMAL, 17, stream, 0, count, buf);
  for (PetscInt k = 0; k < count; k++) buf[k] = shift == 0 ? 0.5 * buf[k] : shift + 0.1 * buf[k];
  return buf;
}

static int Param(HessaOnnxGraph *g, const char *name, int ndim, const int64_t *dims, double shift)
{
  static uint64_t stream = 1;
  int             v;
  PetscInt        size = 1;
  for (int d = 0; d < ndim; d++) size *= dims[d];
  if (OnnxTestAddValue(g, name, HESSA_ONNX_PARAM, ndim, dims, 0, Rand(size, stream++, shift), &v)) return -1;
  return v;
}

static int Node(HessaOnnxGraph *g, const char *op, int a, int b, const char *out)
{
  int y = -1;
  if (OnnxTestAddNode(g, op, NULL, 2, (int[]){a, b}, 1, (const char *[]){out}, 0, NULL, &y, NULL)) return -1;
  return y;
}

/* Build case k; *loss and *outputs say how to make the data. Returns the graph. */
static PetscErrorCode BuildCase(int k, HessaOnnxGraph **gp, HessaLossKind *loss, const char **name)
{
  HessaOnnxGraph *g;
  int             x, y = -1, W, out = -1;

  PetscFunctionBegin;
  *loss = HESSA_LOSS_MSE;
  PetscCall(OnnxTestGraphCreate("linear.onnx", gp));
  g = *gp;
  if (k <= 9 || k == 11) {
    /* x [N,3,4] -> MatMul W [4,5] -> y [N,3,5] -> (case) -> out [N,3,5] (15 targets) */
    PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 3, 4}, 1, NULL, &x));
    W = Param(g, "W", 2, (int64_t[]){4, 5}, 0);
    y = Node(g, "MatMul", x, W, "y");
    switch (k) {
    case 0:
      *name = "Add [N,3,5] + [5]", out = Node(g, "Add", y, Param(g, "p", 1, (int64_t[]){5}, 0), "out");
      break;
    case 1:
      *name = "Add [1,3,5] + [N,3,5]", out = Node(g, "Add", Param(g, "p", 3, (int64_t[]){1, 3, 5}, 0), y, "out");
      break;
    case 2:
      *name = "Mul [N,3,5] * [3,1]", out = Node(g, "Mul", y, Param(g, "p", 2, (int64_t[]){3, 1}, 0), "out");
      break;
    case 3:
      *name = "Sub [3,1] - [N,3,5]", out = Node(g, "Sub", Param(g, "p", 2, (int64_t[]){3, 1}, 0), y, "out");
      break;
    case 4: {
      int W2 = Param(g, "W2", 2, (int64_t[]){4, 5}, 0), y2 = Node(g, "MatMul", x, W2, "y2");
      *name = "Mul [N,3,5] * [N,3,5]", out = Node(g, "Mul", y, y2, "out");
    } break;
    case 5:
      *name = "Div [N,3,5] / [5] (parameter)", out = Node(g, "Div", y, Param(g, "p", 1, (int64_t[]){5}, 1.5), "out");
      break;
    case 6: {
      int W2 = Param(g, "W2", 2, (int64_t[]){4, 5}, 0), y2 = Node(g, "MatMul", x, W2, "y2"), one, den;
      PetscCall(OnnxTestAddValue(g, "one", HESSA_ONNX_CONST, 1, (int64_t[]){1}, 0, (double[]){1.0}, &one));
      den   = Node(g, "Add", Node(g, "Mul", y2, y2, "sq"), one, "den");
      *name = "Div [N,3,5] / (y2^2 + 1) [N,3,5]", out = Node(g, "Div", y, den, "out");
    } break;
    case 7: {
      int c;
      PetscCall(OnnxTestAddValue(g, "c", HESSA_ONNX_CONST, 2, (int64_t[]){3, 1}, 0, (double[]){2.0, -4.0, 0.5}, &c));
      *name = "Div [N,3,5] / [3,1] (constant), Mul by itself", out = Node(g, "Mul", Node(g, "Div", y, c, "q"), Node(g, "Div", y, c, "q2"), "out");
    } break;
    case 8: {
      /* parameter phase: Q = P1 * P2 / P3 [4,5] and G = Gemm(P4 [3,4], P5 [5,4], transB) [3,5] */
      int           Q, G5, P4, P5, gout[1];
      HessaOnnxAttr tb = OnnxTestAttrInt("transB", 1);
      Q                = Node(g, "Div", Node(g, "Mul", Param(g, "P1", 2, (int64_t[]){4, 5}, 0), Param(g, "P2", 2, (int64_t[]){4, 1}, 0), "P12"), Param(g, "P3", 1, (int64_t[]){5}, 1.5), "Q");
      P4               = Param(g, "P4", 2, (int64_t[]){3, 4}, 0);
      P5               = Param(g, "P5", 2, (int64_t[]){5, 4}, 0);
      PetscCall(OnnxTestAddNode(g, "Gemm", NULL, 2, (int[]){P4, P5}, 1, (const char *[]){"G"}, 1, &tb, gout, NULL));
      G5    = gout[0];
      *name = "parameter phase: MatMul(x, P1 P2 / P3) * Gemm(P4, P5^T)", out = Node(g, "Mul", Node(g, "MatMul", x, Q, "xq"), G5, "out");
    } break;
    case 9: {
      int M2 = Node(g, "MatMul", Param(g, "P1", 2, (int64_t[]){3, 4}, 0), Param(g, "P2", 2, (int64_t[]){4, 5}, 0), "M2");
      *name = "parameter phase: y + y * MatMul(P1 [3,4], P2 [4,5])", out = Node(g, "Add", y, Node(g, "Mul", y, M2, "ym"), "out");
    } break;
    case 11: {
      /* both factors move in the sample phase, 3 rows a sample */
      int t[1];
      PetscCall(OnnxTestAddNode(g, "Tanh", &OnnxTestTanh, 1, (int[]){y}, 1, (const char *[]){"t"}, 0, NULL, t, NULL));
      *name = "MatMul(Tanh(MatMul(x, W)) [N,3,5], W2 [5,5])", out = Node(g, "MatMul", t[0], Param(g, "W2", 2, (int64_t[]){5, 5}, 0), "out");
    } break;
    }
  } else {
    /* x [N,4] -> Gemm(B [4,6], C [1,6], alpha .7, beta 1.3) -> Tanh -> Gemm(B2 [3,6] transB, C scalar) -> [N,3], cross-entropy */
    HessaOnnxAttr a1[2] = {OnnxTestAttrFloat("alpha", 0.7), OnnxTestAttrFloat("beta", 1.3)}, a2[2] = {OnnxTestAttrInt("transB", 1), OnnxTestAttrFloat("alpha", -1.1)};
    int           h[1], t[1], z[1], B = 0, C = 0, B2 = 0, C2 = 0;
    *loss = HESSA_LOSS_CROSS_ENTROPY;
    *name = k == 10 ? "Gemm alpha beta C [1,6], Tanh, Gemm transB scalar C" : "Gemm transB C [1,6], Tanh, Gemm alpha transB = 0 scalar C";
    if (k == 12) a1[0] = OnnxTestAttrInt("transB", 1), a1[1] = OnnxTestAttrFloat("beta", 1.0), a2[0] = OnnxTestAttrInt("transB", 0);
    PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 2, (int64_t[]){0, 4}, 1, NULL, &x));
    B  = Param(g, "B", 2, k == 10 ? (int64_t[]){4, 6} : (int64_t[]){6, 4}, 0);
    C  = Param(g, "C", 2, (int64_t[]){1, 6}, 0);
    B2 = Param(g, "B2", 2, k == 10 ? (int64_t[]){3, 6} : (int64_t[]){6, 3}, 0);
    C2 = Param(g, "C2", 0, NULL, 0);
    PetscCall(OnnxTestAddNode(g, "Gemm", NULL, 3, (int[]){x, B, C}, 1, (const char *[]){"h"}, 2, a1, h, NULL));
    PetscCall(OnnxTestAddNode(g, "Tanh", &OnnxTestTanh, 1, h, 1, (const char *[]){"t"}, 0, NULL, t, NULL));
    PetscCall(OnnxTestAddNode(g, "Gemm", NULL, 3, (int[]){t[0], B2, C2}, 1, (const char *[]){"z"}, 2, a2, z, NULL));
    out = z[0];
  }
  PetscCheck(out >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: building the graph failed", k);
  PetscCall(OnnxTestGraphFinish(g, x, out));
  PetscFunctionReturn(0);
}

static PetscErrorCode CreateObjective(HessaOnnxGraph *g, HessaLossKind loss, HessaData data, PetscInt chunk, PetscReal cache_mb, HessaObjective *obj, double **theta)
{
  HessaONNXArch arch = {0};
  HessaStatus   st   = {0};

  PetscFunctionBegin;
  arch.loss     = loss;
  arch.chunk    = chunk;
  arch.cache_mb = cache_mb;
  PetscCall(HessaOnnxObjectiveCreate(&arch, g, PETSC_FALSE, data, obj, theta, &st));
  CHECK(!st.code && *obj, "HessaOnnxObjectiveCreate: %s", st.msg);
  PetscFunctionReturn(0);
}

static PetscErrorCode DerivativeCases(void)
{
  PetscFunctionBegin;
  for (int k = 0; k <= 12; k++) {
    HessaOnnxGraph  *g;
    HessaLossKind    loss;
    const char      *name = "";
    HessaData        data = NULL;
    HessaObjective   obj;
    double          *theta;
    OnnxCheckOptions opt;
    PetscErrorCode   ierr;

    PetscCall(BuildCase(k, &g, &loss, &name));
    PetscCall(TestDataCreate(loss == HESSA_LOSS_MSE ? HESSA_TASK_REGRESSION : HESSA_TASK_CLASSIFICATION, NS, g->values[g->input].size, g->values[g->output].size, 30 + (uint64_t)k, &data));
    /* a cache that holds one chunk of 7 samples (the state of a batched runtime value: its
       values and, when differentiable, its adjoints); the other two chunks are recomputed */
    {
      double per = 0;
      for (int v = 0; v < g->n_values; v++)
        if (g->values[v].batched && g->values[v].kind == HESSA_ONNX_RUNTIME) per += (double)g->values[v].size * (g->values[v].differentiable ? 2 : 1);
      PetscCall(CreateObjective(g, loss, data, 7, 1.5 * 7 * per * sizeof(double) / 1048576.0, &obj, &theta));
      CHECK(strstr(obj->description, "forward cache 1/3 chunks"), "case %d: expected a cache of 1 of 3 chunks: %s", k, obj->description);
    }
    OnnxCheckOptionsDefault(&opt);
    ierr = OnnxCheckDerivatives(obj, theta, &opt, NULL);
    CHECK(!ierr, "case %d (%s) failed the derivative checks (%s)", k, name, obj->description);
    PetscCall(HessaObjectiveDestroy(&obj));
    free(theta);
    PetscCall(OnnxTestGraphDestroy(&g));
    PetscCall(TestDataDestroy(&data));
  }
  PetscFunctionReturn(0);
}

/* Models linear in theta: the GGN is the Hessian. */
static PetscErrorCode LinearModels(void)
{
  PetscFunctionBegin;
  for (int l = 0; l < 2; l++) {
    const HessaLossKind loss = l ? HESSA_LOSS_CROSS_ENTROPY : HESSA_LOSS_MSE;
    HessaOnnxGraph     *g;
    HessaData           data = NULL;
    HessaObjective      obj;
    double             *theta, err;
    int                 x, out;

    PetscCall(OnnxTestGraphCreate("linear-model.onnx", &g));
    PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 2, (int64_t[]){0, 6}, 1, NULL, &x));
    out = Node(g, "Add", Node(g, "MatMul", x, Param(g, "W", 2, (int64_t[]){6, 4}, 0), "xw"), Param(g, "b", 1, (int64_t[]){4}, 0), "out");
    PetscCall(OnnxTestGraphFinish(g, x, out));
    PetscCall(TestDataCreate(l ? HESSA_TASK_CLASSIFICATION : HESSA_TASK_REGRESSION, NS, 6, 4, 77, &data));
    PetscCall(CreateObjective(g, loss, data, 7, 512, &obj, &theta));
    PetscCall(OnnxCheckGGNEqualsHessian(obj, theta, 9, 3, &err));
    CHECK(err <= 1e-12, "linear model (%s): |G v - H v| / |H v| = %.3e > 1e-12", HessaLossName(loss), err);
    PetscCall(HessaObjectiveDestroy(&obj));
    free(theta);
    PetscCall(OnnxTestGraphDestroy(&g));
    PetscCall(TestDataDestroy(&data));
  }
  PetscFunctionReturn(0);
}

/* A node the kernels refuse: the message names the node and contains `want`. */
static PetscErrorCode ExpectRefusal(int k, const char *want)
{
  HessaOnnxGraph *g;
  HessaStatus     st = {0};
  int             x, x2, y, a, b;
  int             in[2];
  const char     *op = "MatMul";
  HessaOnnxAttr   ta = OnnxTestAttrInt("transA", 1);

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("bad.onnx", &g));
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 3, 4}, 1, NULL, &x));
  PetscCall(OnnxTestAddValue(g, "x2", HESSA_ONNX_INPUT, 2, (int64_t[]){0, 4}, 1, NULL, &x2));
  PetscCall(OnnxTestAddValue(g, "a", HESSA_ONNX_PARAM, 2, (int64_t[]){4, 5}, 0, NULL, &a));
  PetscCall(OnnxTestAddValue(g, "b", HESSA_ONNX_PARAM, 2, (int64_t[]){2, 4}, 0, NULL, &b));
  switch (k) {
  case 0:
    in[0] = x, in[1] = x;
    break; /* batched x batched MatMul */
  case 1:
    op = "Add", in[0] = x, in[1] = b;
    break; /* [N,3,4] + [2,4] */
  case 2:
    op = "Add", in[0] = x2, in[1] = x;
    break; /* [N,4] + [N,3,4]: the batch would move */
  case 3:
    op = "Gemm", in[0] = x2, in[1] = a;
    break;
  default:
    in[0] = x, in[1] = b;
    break; /* [N,3,4] x [2,4]: inner dimensions */
  }
  PetscCall(OnnxTestAddNode(g, op, NULL, 2, in, 1, (const char *[]){"y"}, k == 3 ? 1 : 0, &ta, &y, &st));
  CHECK(st.code && strstr(st.msg, want) && strstr(st.msg, "bad.onnx") && strstr(st.msg, "node '"), "refusal %d: expected a message with '%s', got code %d '%s'", k, want, (int)st.code, st.msg);
  PetscCall(OnnxTestGraphDestroy(&g));
  PetscFunctionReturn(0);
}

/* A denominator at 0: the loss, the gradient and a product end in an error, not a number. */
static PetscErrorCode NonFinite(void)
{
  HessaOnnxGraph *g;
  HessaLossKind   loss;
  const char     *name;
  HessaData       data = NULL;
  HessaObjective  obj;
  double         *theta, *grad, l;
  char            msg[1024];
  PetscErrorCode  ierr;

  PetscFunctionBegin;
  PetscCall(BuildCase(5, &g, &loss, &name));
  PetscCall(TestDataCreate(HESSA_TASK_REGRESSION, NS, 12, 15, 5, &data));
  PetscCall(CreateObjective(g, loss, data, 7, 512, &obj, &theta));
  PetscCall(PetscCalloc1(obj->n, &grad));
  for (PetscInt i = obj->n - 5; i < obj->n; i++) theta[i] = 0; /* p, the denominator */
  for (int op = 0; op < 3; op++) {
    ierr = op == 0 ? HessaObjectiveLoss(obj, theta, &l) : op == 1 ? HessaObjectiveGradient(obj, theta, &l, grad) : HessaObjectiveHessianBlock(obj, theta, 1, grad, grad);
    HessaErrorTake(msg, sizeof msg);
    CHECK(ierr && strstr(msg, "not finite") && strstr(msg, "linear.onnx"), "division by 0 (operation %d): error %d, message '%s'", op, (int)ierr, msg);
  }
  PetscCall(PetscFree(grad));
  free(theta);
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(OnnxTestGraphDestroy(&g));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBegin;
  PetscCall(NonFinite());
  PetscCall(DerivativeCases());
  PetscCall(LinearModels());
  PetscCall(ExpectRefusal(0, "inner dimensions differ")); /* batched x batched is supported (onnx_ops_attention.c): x x x does not fit */
  PetscCall(ExpectRefusal(1, "[N, 3, 4] ('x') and [2, 4] ('b') do not broadcast"));
  PetscCall(ExpectRefusal(2, "would move the batch"));
  PetscCall(ExpectRefusal(3, "transA = 1 is not supported"));
  PetscCall(ExpectRefusal(4, "inner dimensions differ"));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
