/* The layout layer (src/objective/onnx_layout.c) on hand-built graphs: values whose ONNX
 * tensor holds the batch at another axis, or merged with other axes, run by the executor and
 * judged by the derivative checker (onnx_check.h): gradient and Hv against central differences
 * (h = 1e-5, relative 1e-6), symmetry of H and G (1e-12), G semi-definite, blocks of 11
 * directions equal to single products (1e-13); 20 samples in chunks of 7. Cases:
 *   0 a Transpose that moves the batch to axis 1 ([N,3,4] -> [3,N,4]), a MatMul and an Add of a
 *     parameter [3,1,5] (1 at the batch axis: per sample [3,5]), Tanh, and a Transpose back;
 *   1 nn.MultiheadAttention's math path by hand: the batch moved, merged OUTER with the heads
 *     by Reshape to [3, 2N, 2] (c*N shape entries), q k^T and attn v as batched MatMuls on
 *     merged layouts ([2N,3,2] x [2N,2,3]), Softmax, merged INNER with the sequence by Reshape
 *     to [3N, 4], a Gemm on those rows, a Reshape to [3, N, 4] and a Transpose back;
 *   2 LayerNormalization, Slice of the sequence and ReduceMean over it (keepdims 0) on a value
 *     whose batch is at axis 1;
 *   3 Split and Concat along the features of a value whose batch is at axis 1.
 * Then the forward of case 1 against the same attention computed by plain loops, and the
 * refusals: a Softmax over the axis the batch is merged into, a Reshape that splits the batch
 * from itself, a Reshape that moves it across the sequence, a MatMul that contracts a moved
 * batch, a Flatten of a moved batch, a Reshape target without the batch, a Slice of the
 * merged axis, a Concat along the batch axis. */
#include "onnx_check.h"
#include "objective_test.h"
#include <math.h>
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)
#define NS 20 /* samples */
#define NCASES 4

static int Perm(HessaOnnxGraph *g, int x, int n, const int64_t *perm, const char *out)
{
  HessaOnnxAttr a = OnnxTestAttrInts("perm", n, perm);
  return OnnxTestNode(g, "Transpose", 1, &x, 1, &a, out);
}

/* x [N,3,4] -> Transpose [3,N,4]; the attention block of case 1 on it; back to [N,3,4] */
static int Attention(HessaOnnxGraph *g, int xt)
{
  HessaOnnxAttr tb = OnnxTestAttrInt("transB", 1), last = OnnxTestAttrInt("axis", -1);
  int64_t       heads[3] = {3, HessaOnnxBatchEntry(2), 2}, rows[2] = {HessaOnnxBatchEntry(3), 4}, back[3] = {3, HESSA_ONNX_BATCH, 4};
  int           hs = OnnxTestInts(g, "heads", 3, heads), q, k, v, s, o, y;

  q = Perm(g, OnnxTestBinary(g, "Reshape", OnnxTestBinary(g, "MatMul", xt, OnnxTestParam(g, "Wq", 2, (int64_t[]){4, 4}), "q0"), hs, "q1"), 3, (int64_t[]){1, 0, 2}, "q");  /* [2N,3,2] */
  k = Perm(g, OnnxTestBinary(g, "Reshape", OnnxTestBinary(g, "MatMul", xt, OnnxTestParam(g, "Wk", 2, (int64_t[]){4, 4}), "k0"), hs, "k1"), 3, (int64_t[]){1, 2, 0}, "kT"); /* [2N,2,3] */
  v = Perm(g, OnnxTestBinary(g, "Reshape", OnnxTestBinary(g, "MatMul", xt, OnnxTestParam(g, "Wv", 2, (int64_t[]){4, 4}), "v0"), hs, "v1"), 3, (int64_t[]){1, 0, 2}, "v");  /* [2N,3,2] */
  s = OnnxTestNode(g, "Softmax", 1, (int[]){OnnxTestBinary(g, "MatMul", q, k, "s0")}, 1, &last, "s");                                                                      /* [2N,3,3] */
  o = Perm(g, OnnxTestBinary(g, "MatMul", s, v, "o0"), 3, (int64_t[]){1, 0, 2}, "o");                                                                                      /* [3,2N,2] */
  o = OnnxTestBinary(g, "Reshape", o, OnnxTestInts(g, "rows", 2, rows), "o1");                                                                                             /* [3N,4] */
  y = OnnxTestNode(g, "Gemm", 3, (int[]){o, OnnxTestParam(g, "Wo", 2, (int64_t[]){4, 4}), OnnxTestParam(g, "bo", 1, (int64_t[]){4})}, 1, &tb, "y0");                       /* [3N,4] */
  y = OnnxTestBinary(g, "Reshape", y, OnnxTestInts(g, "back", 3, back), "y1");                                                                                             /* [3,N,4] */
  return Perm(g, y, 3, (int64_t[]){1, 0, 2}, "y");                                                                                                                         /* [N,3,4] */
}

/* Case k: x [N,3,4] -> (case) -> out [N, ...], MSE. */
static PetscErrorCode BuildCase(int k, HessaOnnxGraph **gp, const char **name)
{
  HessaOnnxGraph *g;
  int             x, xt, out = -1;

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("layout.onnx", gp));
  g = *gp;
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 3, 4}, 1, NULL, &x));
  xt = Perm(g, x, 3, (int64_t[]){1, 0, 2}, "xt"); /* [3,N,4]: the batch at axis 1 */
  switch (k) {
  case 0: {
    int h = OnnxTestUnary(g, "Tanh", OnnxTestBinary(g, "Add", OnnxTestBinary(g, "MatMul", xt, OnnxTestParam(g, "W", 2, (int64_t[]){4, 5}), "h0"), OnnxTestParam(g, "b", 3, (int64_t[]){3, 1, 5}), "h1"), "h"); /* [3,N,5] */
    *name = "Transpose moving the batch to axis 1, MatMul, Add of a parameter [3,1,5], Tanh, Transpose back";
    out   = OnnxTestBinary(g, "MatMul", Perm(g, h, 3, (int64_t[]){1, 0, 2}, "hb"), OnnxTestParam(g, "W2", 2, (int64_t[]){5, 2}), "out");
  } break;
  case 1:
    *name = "attention: batch merged outer with the heads, batched MatMuls, Softmax, merged inner, Gemm";
    out   = OnnxTestBinary(g, "MatMul", OnnxTestUnary(g, "Tanh", Attention(g, xt), "t"), OnnxTestParam(g, "W2", 2, (int64_t[]){4, 2}), "out");
    break;
  case 2: {
    HessaOnnxAttr last = OnnxTestAttrInt("axis", -1), red[2] = {OnnxTestAttrInts("axes", 1, (int64_t[]){0}), OnnxTestAttrInt("keepdims", 0)};
    int           ln = OnnxTestNode(g, "LayerNormalization", 3, (int[]){xt, OnnxTestParam(g, "gamma", 1, (int64_t[]){4}), OnnxTestParam(g, "beta", 1, (int64_t[]){4})}, 1, &last, "ln");                                            /* [3,N,4] */
    int sl = OnnxTestNode(g, "Slice", 4, (int[]){OnnxTestUnary(g, "Tanh", ln, "tl"), OnnxTestInts(g, "st", 1, (int64_t[]){1}), OnnxTestInts(g, "en", 1, (int64_t[]){3}), OnnxTestInts(g, "ax", 1, (int64_t[]){0})}, 0, NULL, "sl"); /* [2,N,4] */
    int m  = OnnxTestNode(g, "ReduceMean", 1, (int[]){OnnxTestBinary(g, "Mul", sl, sl, "sq")}, 2, red, "m");                                                                                                                        /* [N,4] */
    *name  = "LayerNormalization, Slice and ReduceMean over the sequence with the batch at axis 1";
    out    = OnnxTestBinary(g, "MatMul", m, OnnxTestParam(g, "W2", 2, (int64_t[]){4, 2}), "out");
  } break;
  case 3: {
    /* Split(Tanh(xt) [3,N,4], axis 2, [1,3]) -> a, b; Concat(b * b, a, axis 2) [3,N,4]; back to [N,3,4] */
    HessaOnnxAttr axis = OnnxTestAttrInt("axis", 2);
    int           t = OnnxTestUnary(g, "Tanh", xt, "t"), parts[2] = {-1, -1}, cat;
    PetscCall(OnnxTestAddNode(g, "Split", NULL, 2, (int[]){t, OnnxTestInts(g, "split", 2, (int64_t[]){1, 3})}, 2, (const char *[]){"pa", "pb"}, 1, &axis, parts, NULL));
    cat   = OnnxTestNode(g, "Concat", 2, (int[]){OnnxTestBinary(g, "Mul", parts[1], parts[1], "bb"), parts[0]}, 1, &axis, "cat");
    *name = "Split and Concat along the features with the batch at axis 1";
    out   = OnnxTestBinary(g, "MatMul", Perm(g, cat, 3, (int64_t[]){1, 0, 2}, "cb"), OnnxTestParam(g, "W2", 2, (int64_t[]){4, 2}), "out");
  } break;
  }
  PetscCheck(out >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: building the graph failed", k);
  CHECK(!HessaOnnxLayoutMoved(&g->values[out]), "case %d: the output holds a moved batch", k);
  for (int v = 0; v < g->n_values; v++) /* the shared operand seen as [3,5] by the Add's infer keeps its shape */
    CHECK(strcmp(g->values[v].name, "b") || (g->values[v].ndim == 3 && g->values[v].dims[1] == 1), "case %d: parameter 'b' lost its shape [3,1,5]", k);
  PetscCall(OnnxTestGraphFinish(g, x, out));
  PetscFunctionReturn(0);
}

/* The parameter named `name` of g (its initial value). */
static const double *Param(const HessaOnnxGraph *g, const char *name)
{
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v].kind == HESSA_ONNX_PARAM && !strcmp(g->values[v].name, name)) return g->values[v].value;
  return NULL;
}

/* The forward of case 1 by loops on one sample x [3][4] into out [3][2]. */
static void AttentionByLoops(const HessaOnnxGraph *g, const double *x, double *out)
{
  const double *Wq = Param(g, "Wq"), *Wk = Param(g, "Wk"), *Wv = Param(g, "Wv"), *Wo = Param(g, "Wo"), *bo = Param(g, "bo"), *W2 = Param(g, "W2");
  double        q[3][4] = {{0}}, k[3][4] = {{0}}, v[3][4] = {{0}}, o[3][4] = {{0}};

  for (int t = 0; t < 3; t++)
    for (int j = 0; j < 4; j++)
      for (int i = 0; i < 4; i++) q[t][j] += x[4 * t + i] * Wq[4 * i + j], k[t][j] += x[4 * t + i] * Wk[4 * i + j], v[t][j] += x[4 * t + i] * Wv[4 * i + j];
  for (int h = 0; h < 2; h++) /* head h: columns 2h, 2h+1 */
    for (int t = 0; t < 3; t++) {
      double s[3], mx = -INFINITY, z = 0;
      for (int u = 0; u < 3; u++) s[u] = q[t][2 * h] * k[u][2 * h] + q[t][2 * h + 1] * k[u][2 * h + 1], mx = fmax(mx, s[u]);
      for (int u = 0; u < 3; u++) s[u] = exp(s[u] - mx), z += s[u];
      for (int u = 0; u < 3; u++)
        for (int d = 0; d < 2; d++) o[t][2 * h + d] += s[u] / z * v[u][2 * h + d];
    }
  for (int t = 0; t < 3; t++) {
    double y[4];
    for (int j = 0; j < 4; j++) {
      y[j] = bo[j];
      for (int i = 0; i < 4; i++) y[j] += o[t][i] * Wo[4 * j + i]; /* transB: Wo [out][in] */
      y[j] = tanh(y[j]);
    }
    for (int c = 0; c < 2; c++) {
      out[2 * t + c] = 0;
      for (int j = 0; j < 4; j++) out[2 * t + c] += y[j] * W2[2 * j + c];
    }
  }
}

static PetscErrorCode CheckAttentionForward(void)
{
  HessaOnnxGraph *g;
  HessaOnnxExec   ex;
  const char     *name;
  double          x[5 * 12], out[5 * 6], want[6], *theta, err = 0;

  PetscFunctionBegin;
  PetscCall(BuildCase(1, &g, &name));
  CHECK(g->n_params == 76, "case 1: %d parameters, expected 76", (int)g->n_params);
  theta = (double *)malloc(sizeof(double) * 76);
  for (int p = 0; p < g->n_param_values; p++) {
    const HessaOnnxValue *v = &g->values[g->param_values[p]];
    memcpy(theta + v->offset, v->value, (size_t)v->size * sizeof(double));
  }
  for (int i = 0; i < 5 * 12; i++) x[i] = sin(1.0 + 0.7 * i);
  PetscCall(HessaOnnxExecCreate(g, 5, 1.0, &ex));
  PetscCall(HessaOnnxExecForward(ex, theta, 5, x, out));
  for (int n = 0; n < 5; n++) {
    AttentionByLoops(g, x + 12 * n, want);
    for (int i = 0; i < 6; i++) err = fmax(err, fabs(out[6 * n + i] - want[i]) / (1 + fabs(want[i])));
  }
  CHECK(err <= 1e-13, "case 1: the forward differs from the attention by loops by %.3e", err);
  PetscCall(HessaOnnxExecDestroy(&ex));
  free(theta);
  PetscCall(OnnxTestGraphDestroy(&g));
  PetscFunctionReturn(0);
}

/* A node that must be refused at load, with the message containing `expect`. */
static PetscErrorCode ExpectRefusal(int k, const char *expect)
{
  HessaOnnxGraph *g;
  HessaStatus     st = {0};
  int             x, xt, m, out = -1;
  int64_t         heads[3] = {3, HessaOnnxBatchEntry(2), 2};

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("refused.onnx", &g));
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 3, 4}, 1, NULL, &x));
  xt = Perm(g, x, 3, (int64_t[]){1, 0, 2}, "xt");                                                                        /* [3,N,4] */
  m  = Perm(g, OnnxTestBinary(g, "Reshape", xt, OnnxTestInts(g, "heads", 3, heads), "r"), 3, (int64_t[]){1, 0, 2}, "m"); /* [2N,3,2] */
  switch (k) {
  case 0: { /* Softmax over the axis the batch is merged into */
    HessaOnnxAttr a = OnnxTestAttrInt("axis", 0);
    OnnxTestAddNode(g, "Softmax", NULL, 1, &m, 1, (const char *[]){"out"}, 1, &a, &out, &st);
  } break;
  case 1: /* [2N,3,2] -> [2, N, 6]: the heads merged inside the batch would come out before it */
    OnnxTestAddNode(g, "Reshape", NULL, 2, (int[]){m, OnnxTestInts(g, "t", 3, (int64_t[]){2, HESSA_ONNX_BATCH, 6})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 2: /* [3,N,4] -> [N, 12]: the batch moved across the sequence */
    OnnxTestAddNode(g, "Reshape", NULL, 2, (int[]){xt, OnnxTestInts(g, "t", 2, (int64_t[]){HESSA_ONNX_BATCH, 12})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 3: /* [3,N,4] transposed to [3,4,N] times W [N?]: the moved batch in the contracted axis */
    OnnxTestAddNode(g, "MatMul", NULL, 2, (int[]){Perm(g, xt, 3, (int64_t[]){0, 2, 1}, "xtt"), OnnxTestParam(g, "W", 2, (int64_t[]){5, 2})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 4: /* an op the layout layer does not translate */
    OnnxTestAddNode(g, "Flatten", NULL, 1, (int[]){xt}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 7: { /* Concat along the batch axis */
    HessaOnnxAttr a = OnnxTestAttrInt("axis", 1);
    OnnxTestAddNode(g, "Concat", NULL, 2, (int[]){xt, xt}, 1, (const char *[]){"out"}, 1, &a, &out, &st);
  } break;
  case 5: /* a target with no batch entry (a fixed batch size) */
    OnnxTestAddNode(g, "Reshape", NULL, 2, (int[]){xt, OnnxTestInts(g, "t", 3, (int64_t[]){3, 2, 2})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 6: /* Slice of the merged batch axis */
    OnnxTestAddNode(g, "Slice", NULL, 4, (int[]){m, OnnxTestInts(g, "s", 1, (int64_t[]){0}), OnnxTestInts(g, "e", 1, (int64_t[]){1}), OnnxTestInts(g, "a", 1, (int64_t[]){0})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  }
  CHECK(st.code && strstr(st.msg, expect), "refusal %d: expected an error containing \"%s\", found %s", k, expect, st.code ? st.msg : "no error");
  PetscCall(OnnxTestGraphDestroy(&g));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscBool   view      = PETSC_FALSE;
  const char *refusal[] = {"node 'Softmax_3' (Softmax): normalises over ONNX axis 0 of 'm' of shape [2N, 3, 2], which merges the batch with other axes",
                           "node 'Reshape_3' (Reshape): target shape [2, N, 6] of 'm' of shape [2N, 3, 2] would split the batch from itself or move it across other axes",
                           "node 'Reshape_3' (Reshape): target shape [N, 12] of 'xt' of shape [3, N, 4] would split the batch from itself or move it across other axes",
                           "the batch of the left operand is in the contracted axis",
                           "node 'Flatten_3' (Flatten): input 'xt' of shape [3, N, 4] holds the batch at another place than alone in axis 0",
                           "target shape [3, 2, 2] of 'xt' of shape [3, N, 4] has no entry that holds the batch",
                           "slices ONNX axis 0 of 'm' of shape [2N, 3, 2], which merges the batch with other axes",
                           "node 'Concat_3' (Concat): concatenates along ONNX axis 1 of 'xt' of shape [3, N, 4], which is the batch axis"};

  PetscFunctionBegin;
  OnnxTestParamSeed(31);
  PetscCall(PetscOptionsHasName(NULL, NULL, "-view", &view));
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
    PetscCall(TestDataCreate(HESSA_TASK_REGRESSION, NS, g->values[g->input].size, g->values[g->output].size, 80 + (uint64_t)k, &data));
    arch.loss  = HESSA_LOSS_MSE;
    arch.chunk = 7;
    PetscCall(HessaOnnxObjectiveCreate(&arch, g, PETSC_FALSE, data, &obj, &theta, &st));
    CHECK(!st.code && obj, "case %d (%s): %s", k, name, st.msg);
    OnnxCheckOptionsDefault(&opt);
    ierr = OnnxCheckDerivatives(obj, theta, &opt, &err);
    CHECK(!ierr, "case %d (%s) failed the derivative checks", k, name);
    if (view) PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-90s grad %.1e hv %.1e hsym %.1e gsym %.1e hblock %.1e gblock %.1e gpsd %.1e\n", name, err.grad, err.hv, err.hsym, err.gsym, err.hblock, err.gblock, err.gpsd));
    PetscCall(HessaObjectiveDestroy(&obj));
    free(theta);
    PetscCall(OnnxTestGraphDestroy(&g));
    PetscCall(TestDataDestroy(&data));
  }
  PetscCall(CheckAttentionForward());
  for (int k = 0; k < (int)(sizeof refusal / sizeof refusal[0]); k++) PetscCall(ExpectRefusal(k, refusal[k]));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(Run());
  PetscCall(PetscFinalize());
  return 0;
}
