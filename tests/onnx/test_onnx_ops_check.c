/* The pointwise and shape kernels inside hand-built graphs, run by the executor and judged
 * by the derivative checker (onnx_check.h): gradient and Hv against central differences
 * (h = 1e-5, relative 1e-6), symmetry of H and G (1e-12), G semi-definite, blocks of 11
 * directions (two groups of the executor) equal to single products (1e-13); 20 samples in
 * chunks of 7 with a forward cache that holds one chunk. Cases: every pointwise op between
 * two MatMuls; a chain of the ops with a second-order term on a parameter (parameter
 * phase); Flatten; Reshape and Transpose; Pad with cropping and a constant; Concat of
 * batched values and a parameter shared by every sample; Concat, Reshape, Transpose and Pad
 * of parameters (parameter phase) feeding the sample phase. Every case runs twice: with
 * the executor's default tangent buffers and with -hessa_onnx_tangent_mb so small that the
 * R passes go over one sample at a time. */
#include "onnx_check.h"
#include "objective_test.h"
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)
#define NS 20 /* samples */

static const char *pointwise[] = {"Relu", "LeakyRelu", "Tanh", "Sigmoid", "Softplus", "Erf", "Elu", "Identity", "Dropout", "Clip", "HardSigmoid", "HardSwish"};
#define NPOINTWISE ((int)(sizeof pointwise / sizeof pointwise[0]))
#define NCASES (NPOINTWISE + 6)

/* Case k: x [N,3,4] -> MatMul W [4,5] -> y [N,3,5] -> (case) -> out, MSE. */
static PetscErrorCode BuildCase(int k, HessaOnnxGraph **gp, const char **name)
{
  HessaOnnxGraph *g;
  int             x, y, out = -1;

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("ops.onnx", gp));
  g = *gp;
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 3, 4}, 1, NULL, &x));
  y = OnnxTestBinary(g, "MatMul", x, OnnxTestParam(g, "W", 2, (int64_t[]){4, 5}), "y");
  if (k < NPOINTWISE) {
    /* op(y) [N,3,5] -> MatMul W2 [5,2] */
    const char   *op    = pointwise[k];
    HessaOnnxAttr alpha = OnnxTestAttrFloat("alpha", 0.3);
    int           a     = OnnxTestNode(g, op, 1, &y, !strcmp(op, "LeakyRelu") || !strcmp(op, "Elu"), &alpha, "a");
    *name               = op;
    out                 = OnnxTestBinary(g, "MatMul", a, OnnxTestParam(g, "W2", 2, (int64_t[]){5, 2}), "out");
  } else
    switch (k - NPOINTWISE) {
    case 0: {
      /* parameter phase: Q = Sigmoid(Elu(Softplus(Erf(Tanh(P))))) [5,2]; out = MatMul(Tanh(y), Q) */
      HessaOnnxAttr alpha = OnnxTestAttrFloat("alpha", 0.5);
      int           q     = OnnxTestUnary(g, "Erf", OnnxTestUnary(g, "Tanh", OnnxTestParam(g, "P", 2, (int64_t[]){5, 2}), "q1"), "q2");
      q                   = OnnxTestUnary(g, "Softplus", q, "q3");
      q                   = OnnxTestNode(g, "Elu", 1, &q, 1, &alpha, "q4");
      q                   = OnnxTestUnary(g, "Sigmoid", OnnxTestBinary(g, "Sub", q, OnnxTestParam(g, "c", 1, (int64_t[]){2}), "q5"), "q6");
      *name               = "parameter phase: Sigmoid(Elu(Softplus(Erf(Tanh(P)))) - c)";
      out                 = OnnxTestBinary(g, "MatMul", OnnxTestUnary(g, "Tanh", y, "t"), q, "out");
    } break;
    case 1: {
      /* Flatten(Tanh(y)) [N,15] -> MatMul W2 [15,3] */
      HessaOnnxAttr axis = OnnxTestAttrInt("axis", 1);
      int           t    = OnnxTestUnary(g, "Tanh", y, "t");
      *name              = "Flatten";
      out                = OnnxTestBinary(g, "MatMul", OnnxTestNode(g, "Flatten", 1, &t, 1, &axis, "f"), OnnxTestParam(g, "W2", 2, (int64_t[]){15, 3}), "out");
    } break;
    case 2: {
      /* Transpose(Tanh(Reshape(y, [0, 5, 3])), perm 0 2 1) [N,3,5] -> Sigmoid -> MatMul W2 [5,2] */
      HessaOnnxAttr perm = OnnxTestAttrInts("perm", 3, (int64_t[]){0, 2, 1});
      int           r    = OnnxTestUnary(g, "Tanh", OnnxTestBinary(g, "Reshape", y, OnnxTestInts(g, "shape", 3, (int64_t[]){0, 5, 3}), "r"), "t");
      *name              = "Reshape, Transpose";
      out                = OnnxTestBinary(g, "MatMul", OnnxTestUnary(g, "Sigmoid", OnnxTestNode(g, "Transpose", 1, &r, 1, &perm, "tr"), "s"), OnnxTestParam(g, "W2", 2, (int64_t[]){5, 2}), "out");
    } break;
    case 3: {
      /* Pad(Tanh(y), [0,1,-1, 0,0,2], 0.3) [N,4,6] -> Sigmoid -> MatMul W2 [6,2] */
      int c, t = OnnxTestUnary(g, "Tanh", y, "t");
      PetscCall(OnnxTestAddValue(g, "value", HESSA_ONNX_CONST, 0, NULL, 0, (double[]){0.3}, &c));
      *name = "Pad (cropping, constant 0.3)";
      out   = OnnxTestBinary(g, "MatMul", OnnxTestUnary(g, "Sigmoid", OnnxTestNode(g, "Pad", 3, (int[]){t, OnnxTestInts(g, "pads", 6, (int64_t[]){0, 1, -1, 0, 0, 2}), c}, 0, NULL, "p"), "s"), OnnxTestParam(g, "W2", 2, (int64_t[]){6, 2}), "out");
    } break;
    case 4: {
      /* Concat(Tanh(y) [N,3,5], P [1,2,5] shared, Sigmoid(MatMul(x, W3)) [N,3,5], axis 1) [N,8,5] -> Tanh -> MatMul W2 [5,2] */
      HessaOnnxAttr axis = OnnxTestAttrInt("axis", 1);
      int           y3   = OnnxTestUnary(g, "Sigmoid", OnnxTestBinary(g, "MatMul", x, OnnxTestParam(g, "W3", 2, (int64_t[]){4, 5}), "y3"), "s3");
      int           c    = OnnxTestNode(g, "Concat", 3, (int[]){OnnxTestUnary(g, "Tanh", y, "t"), OnnxTestParam(g, "P", 3, (int64_t[]){1, 2, 5}), y3}, 1, &axis, "cat");
      *name              = "Concat of batched values and a shared parameter";
      out                = OnnxTestBinary(g, "MatMul", OnnxTestUnary(g, "Tanh", c, "tc"), OnnxTestParam(g, "W2", 2, (int64_t[]){5, 2}), "out");
    } break;
    case 5: {
      /* parameter phase: Q = Pad(Transpose(Reshape(Concat(Pa [2,5], Pb [2,5]), [5,4])), [0,0,0,1]) [4,6];
         out = MatMul(Tanh(MatMul(x, Q)) [N,3,6], W2 [6,2]) */
      HessaOnnxAttr axis = OnnxTestAttrInt("axis", 0);
      int           q    = OnnxTestNode(g, "Concat", 2, (int[]){OnnxTestParam(g, "Pa", 2, (int64_t[]){2, 5}), OnnxTestParam(g, "Pb", 2, (int64_t[]){2, 5})}, 1, &axis, "q1");
      q                  = OnnxTestUnary(g, "Transpose", OnnxTestBinary(g, "Reshape", q, OnnxTestInts(g, "shape", 2, (int64_t[]){5, 4}), "q2"), "q3");
      q                  = OnnxTestBinary(g, "Pad", q, OnnxTestInts(g, "pads", 4, (int64_t[]){0, 0, 0, 1}), "q4");
      *name              = "parameter phase: Pad(Transpose(Reshape(Concat(Pa, Pb))))";
      out                = OnnxTestBinary(g, "MatMul", OnnxTestUnary(g, "Tanh", OnnxTestBinary(g, "MatMul", x, q, "xq"), "t"), OnnxTestParam(g, "W2", 2, (int64_t[]){6, 2}), "out");
    } break;
    }
  PetscCheck(out >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: building the graph failed", k);
  PetscCall(OnnxTestGraphFinish(g, x, out));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscBool view = PETSC_FALSE;

  PetscFunctionBegin;
  OnnxTestParamSeed(23); /* the parameters of every case: streams 1, 2, ... of this seed */
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
      double          *theta, per = 0;
      OnnxCheckOptions opt;
      OnnxCheckErrors  err;
      PetscErrorCode   ierr;

      PetscCall(BuildCase(k, &g, &name));
      PetscCall(TestDataCreate(HESSA_TASK_REGRESSION, NS, g->values[g->input].size, g->values[g->output].size, 40 + (uint64_t)k, &data));
      /* a cache that holds one of the three chunks of 7 samples */
      for (int v = 0; v < g->n_values; v++)
        if (g->values[v].batched && g->values[v].kind == HESSA_ONNX_RUNTIME) per += (double)g->values[v].size * (g->values[v].differentiable ? 2 : 1);
      arch.loss     = HESSA_LOSS_MSE;
      arch.chunk    = 7;
      arch.cache_mb = 1.5 * 7 * per * sizeof(double) / 1048576.0;
      PetscCall(HessaOnnxObjectiveCreate(&arch, g, PETSC_FALSE, data, &obj, &theta, &st));
      CHECK(!st.code && obj, "case %d (%s): %s", k, name, st.msg);
      CHECK(strstr(obj->description, "forward cache 1/3 chunks"), "case %d: expected a cache of 1 of 3 chunks: %s", k, obj->description);
      OnnxCheckOptionsDefault(&opt);
      ierr = OnnxCheckDerivatives(obj, theta, &opt, &err);
      CHECK(!ierr, "case %d (%s)%s failed the derivative checks", k, name, pass ? " with R passes over single samples" : "");
      if (view) PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-60s grad %.1e hv %.1e hsym %.1e gsym %.1e hblock %.1e gblock %.1e gpsd %.1e\n", name, err.grad, err.hv, err.hsym, err.gsym, err.hblock, err.gblock, err.gpsd));
      PetscCall(HessaObjectiveDestroy(&obj));
      free(theta);
      PetscCall(OnnxTestGraphDestroy(&g));
      PetscCall(TestDataDestroy(&data));
    }
  }
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_onnx_tangent_mb"));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
