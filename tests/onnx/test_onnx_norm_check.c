/* The normalisation-family kernels (onnx_ops_norm.c) and the elementwise ones they are used
 * with (onnx_ops_pointwise.c) inside hand-built graphs, run by the executor and judged by the
 * derivative checker (onnx_check.h): gradient and Hv against
 * central differences (h = 1e-5, relative 1e-6), symmetry of H and of the GGN (1e-12), the
 * GGN semi-definite, blocks of 11 directions equal to single products (1e-13); 20 samples
 * in chunks of 7. Every case is x [N,3,4] -> MatMul W [4,5] -> y [N,3,5] -> (case) ->
 * MatMul W2 -> out with the MSE loss: Exp, Log, Neg, Reciprocal, Sqrt, Pow (float, integer
 * and broadcast exponents), ReduceMean and ReduceSum (attribute and input axes, keepdims
 * 0 and 1), LayerNormalization (last axis with Scale and B, two axes without B, a constant
 * Scale), Softmax and LogSoftmax on the middle and the last axis, the opset-13 decomposed
 * layer norm, and a parameter-phase chain (LayerNormalization, Exp and Softmax of a
 * parameter). Every case runs twice: default tangent buffers, and buffers so small that
 * the R passes go over one sample at a time. Then the refusals, each one clear message:
 * a non-constant exponent, a reduction and a softmax over the batch, a Scale of the wrong
 * shape, a used Mean output, duplicate axes, an attribute of the wrong type. */
#include "onnx_check.h"
#include "objective_test.h"
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)
#define NS 20 /* samples */
#define NCASES 22

/* out = MatMul(a, W2 [k, 2]) */
static int Head(HessaOnnxGraph *g, int a, int64_t k)
{
  return OnnxTestBinary(g, "MatMul", a, OnnxTestParam(g, "W2", 2, (int64_t[]){k, 2}), "out");
}

static PetscErrorCode BuildCase(int k, HessaOnnxGraph **gp, const char **name)
{
  HessaOnnxGraph *g;
  int             x, y, out = -1;
  HessaOnnxAttr   a[3];

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("norm.onnx", gp));
  g = *gp;
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 3, 4}, 1, NULL, &x));
  y = OnnxTestBinary(g, "MatMul", x, OnnxTestParam(g, "W", 2, (int64_t[]){4, 5}), "y");
  switch (k) {
  case 0:
    *name = "Exp";
    out   = Head(g, OnnxTestUnary(g, "Exp", y, "e"), 5);
    break;
  case 1:
    *name = "Log(Softplus)";
    out   = Head(g, OnnxTestUnary(g, "Log", OnnxTestUnary(g, "Softplus", y, "sp"), "l"), 5);
    break;
  case 2:
    *name = "Tanh(Neg)";
    out   = Head(g, OnnxTestUnary(g, "Tanh", OnnxTestUnary(g, "Neg", y, "n"), "t"), 5);
    break;
  case 3:
    *name = "Reciprocal(Softplus + 1)";
    out   = Head(g, OnnxTestUnary(g, "Reciprocal", OnnxTestBinary(g, "Add", OnnxTestUnary(g, "Softplus", y, "sp"), OnnxTestConst(g, "one", 0, NULL, (double[]){1.0}), "s1"), "r"), 5);
    break;
  case 4:
    *name = "Sqrt(Softplus)";
    out   = Head(g, OnnxTestUnary(g, "Sqrt", OnnxTestUnary(g, "Softplus", y, "sp"), "s"), 5);
    break;
  case 5:
    *name = "Pow(y, 2.0)";
    out   = Head(g, OnnxTestBinary(g, "Pow", y, OnnxTestConst(g, "two", 0, NULL, (double[]){2.0}), "p"), 5);
    break;
  case 6:
    *name = "Pow(y, int64 3)";
    out   = Head(g, OnnxTestBinary(g, "Pow", y, OnnxTestInts(g, "three", 1, (int64_t[]){3}), "p"), 5);
    break;
  case 7:
    *name = "Pow(Softplus(y), [0.5 1.5 2 2.5 3]) broadcast";
    out   = Head(g, OnnxTestBinary(g, "Pow", OnnxTestUnary(g, "Softplus", y, "sp"), OnnxTestConst(g, "ex", 1, (int64_t[]){5}, (double[]){0.5, 1.5, 2, 2.5, 3}), "p"), 5);
    break;
  case 8:
    *name = "ReduceMean(Tanh(y), axes [2], keepdims 1)";
    a[0]  = OnnxTestAttrInts("axes", 1, (int64_t[]){2});
    a[1]  = OnnxTestAttrInt("keepdims", 1);
    {
      int t = OnnxTestUnary(g, "Tanh", y, "t");
      out   = Head(g, OnnxTestNode(g, "ReduceMean", 1, &t, 2, a, "r"), 1);
    }
    break;
  case 9:
    *name = "ReduceMean(Tanh(y), axes [-2], keepdims 0)";
    a[0]  = OnnxTestAttrInts("axes", 1, (int64_t[]){-2});
    a[1]  = OnnxTestAttrInt("keepdims", 0);
    {
      int t = OnnxTestUnary(g, "Tanh", y, "t");
      out   = Head(g, OnnxTestNode(g, "ReduceMean", 1, &t, 2, a, "r"), 5);
    }
    break;
  case 10:
    *name = "ReduceSum(Tanh(y), axes input [-1], keepdims 0)";
    a[0]  = OnnxTestAttrInt("keepdims", 0);
    out   = Head(g, OnnxTestNode(g, "ReduceSum", 2, (int[]){OnnxTestUnary(g, "Tanh", y, "t"), OnnxTestInts(g, "axes", 1, (int64_t[]){-1})}, 1, a, "r"), 3);
    break;
  case 11:
    *name = "ReduceSum(Tanh(y), axes input [1, 2])";
    out   = Head(g, OnnxTestNode(g, "ReduceSum", 2, (int[]){OnnxTestUnary(g, "Tanh", y, "t"), OnnxTestInts(g, "axes", 2, (int64_t[]){1, 2})}, 0, NULL, "r"), 1);
    break;
  case 12:
    *name = "LayerNormalization(y, Scale [5], B [5], axis -1)";
    out   = Head(g, OnnxTestNode(g, "LayerNormalization", 3, (int[]){y, OnnxTestParam(g, "ln.weight", 1, (int64_t[]){5}), OnnxTestParam(g, "ln.bias", 1, (int64_t[]){5})}, 0, NULL, "ln"), 5);
    break;
  case 13:
    *name = "LayerNormalization(y, Scale [3,5], axis 1, epsilon 1e-3, no B)";
    a[0]  = OnnxTestAttrInt("axis", 1);
    a[1]  = OnnxTestAttrFloat("epsilon", 1e-3);
    out   = Head(g, OnnxTestNode(g, "LayerNormalization", 2, (int[]){y, OnnxTestParam(g, "ln.weight", 2, (int64_t[]){3, 5})}, 2, a, "ln"), 5);
    break;
  case 14:
    *name = "LayerNormalization(Tanh(y), constant Scale, B)";
    out   = Head(g, OnnxTestNode(g, "LayerNormalization", 3, (int[]){OnnxTestUnary(g, "Tanh", y, "t"), OnnxTestConst(g, "scale", 1, (int64_t[]){5}, (double[]){0.5, 1, 1.5, 2, -1}), OnnxTestParam(g, "ln.bias", 1, (int64_t[]){5})}, 0, NULL, "ln"), 5);
    break;
  case 15:
    *name = "Softmax(y, axis 1)";
    a[0]  = OnnxTestAttrInt("axis", 1);
    out   = Head(g, OnnxTestNode(g, "Softmax", 1, &y, 1, a, "s"), 5);
    break;
  case 16:
    *name = "Softmax(y) (axis -1)";
    out   = Head(g, OnnxTestNode(g, "Softmax", 1, &y, 0, NULL, "s"), 5);
    break;
  case 17:
    *name = "LogSoftmax(y, axis -1)";
    a[0]  = OnnxTestAttrInt("axis", -1);
    out   = Head(g, OnnxTestNode(g, "LogSoftmax", 1, &y, 1, a, "s"), 5);
    break;
  case 18:
    *name = "LogSoftmax(y, axis -2)";
    a[0]  = OnnxTestAttrInt("axis", -2);
    out   = Head(g, OnnxTestNode(g, "LogSoftmax", 1, &y, 1, a, "s"), 5);
    break;
  case 19: {
    /* the opset-13 export of nn.LayerNorm(5) */
    int m, c, v, s;
    *name = "decomposed layer norm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add)";
    a[0]  = OnnxTestAttrInts("axes", 1, (int64_t[]){-1});
    m     = OnnxTestNode(g, "ReduceMean", 1, &y, 1, a, "mean");
    c     = OnnxTestBinary(g, "Sub", y, m, "c");
    v     = OnnxTestBinary(g, "Pow", c, OnnxTestConst(g, "two", 0, NULL, (double[]){2.0}), "c2");
    v     = OnnxTestNode(g, "ReduceMean", 1, &v, 1, a, "var");
    s     = OnnxTestUnary(g, "Sqrt", OnnxTestBinary(g, "Add", v, OnnxTestConst(g, "eps", 0, NULL, (double[]){1e-5}), "ve"), "sd");
    out   = Head(g, OnnxTestBinary(g, "Add", OnnxTestBinary(g, "Mul", OnnxTestBinary(g, "Div", c, s, "xh"), OnnxTestParam(g, "ln.weight", 1, (int64_t[]){5}), "gx"), OnnxTestParam(g, "ln.bias", 1, (int64_t[]){5}), "ln"), 5);
  } break;
  case 20: {
    /* parameter phase: Q = Softmax(Exp(LayerNormalization(P [5,2], S [5,2], axis 0)), axis 0); out = MatMul(Tanh(y), Q) */
    int q;
    *name = "parameter phase: Softmax(Exp(LayerNormalization(P, axis 0)), axis 0)";
    a[0]  = OnnxTestAttrInt("axis", 0);
    q     = OnnxTestUnary(g, "Exp", OnnxTestNode(g, "LayerNormalization", 2, (int[]){OnnxTestParam(g, "P", 2, (int64_t[]){5, 2}), OnnxTestParam(g, "S", 2, (int64_t[]){5, 2})}, 1, a, "q1"), "q2");
    out   = OnnxTestBinary(g, "MatMul", OnnxTestUnary(g, "Tanh", y, "t"), OnnxTestNode(g, "Softmax", 1, &q, 1, a, "q"), "out");
  } break;
  case 21: {
    /* attention-style pooling: w = Softmax(Tanh(y) over axis 1), pooled = ReduceSum(w * y, axis 1), LogSoftmax head */
    int w, p;
    *name = "Softmax pooling over axis 1, ReduceSum, LogSoftmax head";
    a[0]  = OnnxTestAttrInt("axis", 1);
    a[1]  = OnnxTestAttrInt("keepdims", 0);
    w     = OnnxTestUnary(g, "Tanh", y, "t");
    w     = OnnxTestNode(g, "Softmax", 1, &w, 1, a, "w");
    p     = OnnxTestNode(g, "ReduceSum", 2, (int[]){OnnxTestBinary(g, "Mul", w, y, "wy"), OnnxTestInts(g, "axes", 1, (int64_t[]){1})}, 1, a + 1, "pooled");
    p     = Head(g, p, 5);
    a[2]  = OnnxTestAttrInt("axis", -1);
    out   = p < 0 ? -1 : OnnxTestNode(g, "LogSoftmax", 1, &p, 1, a + 2, "logp");
  } break;
  }
  PetscCheck(out >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: building the graph failed", k);
  PetscCall(OnnxTestGraphFinish(g, x, out));
  PetscFunctionReturn(0);
}

static PetscErrorCode RunChecks(void)
{
  PetscBool view = PETSC_FALSE;

  PetscFunctionBegin;
  OnnxTestParamSeed(29); /* the parameters of every case: streams 1, 2, ... of this seed */
  PetscCall(PetscOptionsHasName(NULL, NULL, "-view", &view));
  for (int pass = 0; pass < 2; pass++) {
    /* pass 1: tangent buffers of one sample (-hessa_onnx_tangent_mb tiny): R passes over part of a chunk */
    if (pass) PetscCall(PetscOptionsSetValue(NULL, "-hessa_onnx_tangent_mb", "1e-6"));
    for (int k = 0; k < NCASES; k++) {
      HessaOnnxGraph  *g;
      const char      *name = "";
      HessaData        data = NULL;
      HessaObjective   obj;
      HessaONNXArch    arch = {0};
      HessaStatus      st   = {0};
      double          *theta;
      OnnxCheckOptions opt;
      OnnxCheckErrors  err;
      PetscErrorCode   ierr;

      PetscCall(BuildCase(k, &g, &name));
      PetscCall(TestDataCreate(HESSA_TASK_REGRESSION, NS, g->values[g->input].size, g->values[g->output].size, 60 + (uint64_t)k, &data));
      arch.loss  = HESSA_LOSS_MSE;
      arch.chunk = 7;
      PetscCall(HessaOnnxObjectiveCreate(&arch, g, PETSC_FALSE, data, &obj, &theta, &st));
      CHECK(!st.code && obj, "case %d (%s): %s", k, name, st.msg);
      OnnxCheckOptionsDefault(&opt);
      ierr = OnnxCheckDerivatives(obj, theta, &opt, &err);
      CHECK(!ierr, "case %d (%s)%s failed the derivative checks", k, name, pass ? " with R passes over single samples" : "");
      if (view) PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-70s grad %.1e hv %.1e hsym %.1e gsym %.1e hblock %.1e gblock %.1e gpsd %.1e\n", name, err.grad, err.hv, err.hsym, err.gsym, err.hblock, err.gblock, err.gpsd));
      PetscCall(HessaObjectiveDestroy(&obj));
      free(theta);
      PetscCall(OnnxTestGraphDestroy(&g));
      PetscCall(TestDataDestroy(&data));
    }
  }
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_onnx_tangent_mb"));
  PetscFunctionReturn(0);
}

/* node op on inputs in[] must be refused with a message containing `want` */
static PetscErrorCode ExpectRefusal(HessaOnnxGraph *g, const char *op, int n, const int *in, int n_out, int n_attr, const HessaOnnxAttr *attr, const char *want)
{
  HessaStatus st       = {0};
  const char *names[3] = {"r0", "r1", "r2"};

  PetscFunctionBegin;
  PetscCall(OnnxTestAddNode(g, op, NULL, n, in, n_out, names, n_attr, attr, NULL, &st));
  CHECK(st.code && strstr(st.msg, want), "%s: expected a refusal saying '%s', got code %d: %s", op, want, (int)st.code, st.msg);
  PetscFunctionReturn(0);
}

static PetscErrorCode RunRefusals(void)
{
  HessaOnnxGraph *g;
  int             x, y, w, r;
  HessaOnnxAttr   a[2];

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("bad.onnx", &g));
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 3, 4}, 1, NULL, &x));
  y = OnnxTestBinary(g, "MatMul", x, OnnxTestParam(g, "W", 2, (int64_t[]){4, 5}), "y");
  w = OnnxTestParam(g, "w", 1, (int64_t[]){4});
  CHECK(y >= 0 && w >= 0, "building the refusal graph failed");
  /* Pow with an exponent that is computed at run time, or a parameter */
  PetscCall(ExpectRefusal(g, "Pow", 2, (int[]){y, y}, 1, 0, NULL, "expected a constant exponent (input 1), found 'y' that is computed at run time"));
  PetscCall(ExpectRefusal(g, "Pow", 2, (int[]){y, w}, 1, 0, NULL, "found 'w' that is a parameter"));
  /* an exponent that varies along the batch or widens the output */
  r = OnnxTestConst(g, "e4", 1, (int64_t[]){4}, NULL);
  PetscCall(ExpectRefusal(g, "Pow", 2, (int[]){y, r}, 1, 0, NULL, "the exponent 'e4' of shape [4] does not broadcast to the base 'y' of shape [N, 3, 5]"));
  r = OnnxTestConst(g, "e7", 3, (int64_t[]){7, 1, 1}, NULL);
  PetscCall(ExpectRefusal(g, "Pow", 2, (int[]){y, r}, 1, 0, NULL, "does not vary along the batch"));
  /* reductions and softmax over the batch */
  a[0] = OnnxTestAttrInts("axes", 2, (int64_t[]){0, 2});
  PetscCall(ExpectRefusal(g, "ReduceMean", 1, &y, 1, 1, a, "axis 0 of 'y' is the batch"));
  PetscCall(ExpectRefusal(g, "ReduceSum", 1, &y, 1, 0, NULL, "every axis of 'y' is reduced, the batch (the data samples) included"));
  a[0] = OnnxTestAttrInt("axis", -3);
  PetscCall(ExpectRefusal(g, "Softmax", 1, &y, 1, 1, a, "axis 0 of 'y' is the batch"));
  a[0] = OnnxTestAttrInt("axis", 3);
  PetscCall(ExpectRefusal(g, "LogSoftmax", 1, &y, 1, 1, a, "axis 3 is out of range for the input 'y' of rank 3"));
  a[0] = OnnxTestAttrFloat("axis", 1.0);
  PetscCall(ExpectRefusal(g, "Softmax", 1, &y, 1, 1, a, "expected the attribute axis as an integer, found another type"));
  a[0] = OnnxTestAttrString("keepdims", "yes");
  PetscCall(ExpectRefusal(g, "ReduceMean", 1, &y, 1, 1, a, "expected the attribute keepdims as an integer"));
  a[0] = OnnxTestAttrInts("axes", 2, (int64_t[]){2, -1});
  PetscCall(ExpectRefusal(g, "ReduceMean", 1, &y, 1, 1, a, "axis -1 is given twice"));
  /* LayerNormalization: Scale of the wrong shape; a used Mean output */
  PetscCall(ExpectRefusal(g, "LayerNormalization", 2, (int[]){y, w}, 1, 0, NULL, "input Scale 'w' has shape [4]; expected the normalised shape [5] of the input 'y' (axis 2)"));
  {
    HessaStatus st = {0};
    int         s = OnnxTestParam(g, "s", 1, (int64_t[]){5}), outs[3] = {-1, -1, -1}, ln;
    PetscCall(OnnxTestAddNode(g, "LayerNormalization", NULL, 2, (int[]){y, s}, 3, (const char *[]){"ln", "ln_mean", "ln_istd"}, 0, NULL, outs, &st));
    CHECK(!st.code, "LayerNormalization with unread Mean and InvStdDev outputs: %s", st.msg);
    CHECK(g->values[outs[1]].ndim == 3 && g->values[outs[1]].dims[2] == 1, "LayerNormalization: the Mean output has no shape");
    /* a node that reads Mean: LayerNormalization's infer (run again, as the loader runs it
       once every node is known) refuses the graph */
    ln = g->n_nodes - 1;
    CHECK(OnnxTestUnary(g, "Tanh", outs[1], "reads_mean") >= 0, "Tanh of Mean failed to build");
    memset(&st, 0, sizeof st);
    g->nodes[ln].op->infer(g, &g->nodes[ln], &st);
    CHECK(st.code && strstr(st.msg, "its output Mean 'ln_mean' is used; hessa computes Y only"), "LayerNormalization with a used Mean: %s", st.msg);
  }
  PetscCall(OnnxTestGraphDestroy(&g));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = RunChecks();
  if (!ierr) ierr = RunRefusals();
  return HessaFinalize(ierr);
}
