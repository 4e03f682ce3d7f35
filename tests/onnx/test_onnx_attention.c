/* The attention kernels (onnx_ops_attention.c) inside hand-built graphs, run by the executor
 * and judged by the derivative checker (onnx_check.h): gradient and Hv against central
 * differences (h = 1e-5, relative 1e-6), symmetry of H and G (1e-12), G semi-definite, blocks
 * of 11 directions equal to single products (1e-13); 20 samples in chunks of 7 with a forward
 * cache that holds one chunk. Cases:
 *   0 self-attention: heads by Reshape/Transpose, Q K^T and attn V as batched 4-D MatMuls
 *     (both operands per sample: the bilinear second-order term), Tanh for the softmax;
 *   1 broadcasting MatMuls: a batched [N,1,3,4] times a parameter [2,4,5], then a parameter
 *     [3,3] times the batched [N,2,3,5];
 *   2 Where with a constant causal mask: fill -inf (Tanh maps it to -1, zero derivatives), then
 *     a parameter as X against a batched Y (its adjoint summed over the samples);
 *   3 Split into unequal parts, Slice with a negative step and a clamped end, Concat back;
 *   4 Unsqueeze, Expand of a batched value along a new axis, Squeeze; Expand of a parameter;
 *   5 the parameter phase: a batched MatMul of two parameters [2,3,4] x [2,4,5], Where, Slice;
 *   6 Expand of parameters to the batch (a ViT's class token [1,1,6] -> [N,1,6], a parameter-phase
 *     value, a vector [6] -> [N,2,6]) concatenated with batched tokens: gradient and R-terms summed
 *     over the samples;
 *   7 opset 18 Split by num_outputs: 7 columns into 3, 3, 1 (the last part smaller) on batched
 *     values, and a parameter [7,2] into [4,2], [3,2] in the parameter phase.
 * Also the refusals: a MatMul whose batch would be contracted, Where with a runtime condition,
 * Slice and Split of the batch axis, Unsqueeze at axis 0 of a batched value, Expand to a higher
 * rank of a batched value, of a constant to the batch, with the batch at axis 1, to a shape that
 * does not match; Split with num_outputs not equal to the outputs, with an empty last part, at
 * opset 17, and unequal equal parts at opset 17. Every case runs twice: with the executor's
 * default tangent buffers and with R passes over single samples. */
#include "onnx_check.h"
#include "objective_test.h"
#include <math.h>
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)
#define NS 20 /* samples */
#define NCASES 8

static int Perm(HessaOnnxGraph *g, int x, int n, const int64_t *perm, const char *out)
{
  HessaOnnxAttr a = OnnxTestAttrInts("perm", n, perm);
  return OnnxTestNode(g, "Transpose", 1, &x, 1, &a, out);
}

/* the lower-triangular causal mask [3,3] as bool: 1 where the position may be seen */
static int CausalMask(HessaOnnxGraph *g, const char *name, int keep)
{
  int64_t m[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) m[3 * i + j] = keep ? (j <= i) : (j > i);
  return OnnxTestIntConst(g, name, 2, (int64_t[]){3, 3}, m, 9);
}

/* Case k: x [N,3,4] -> MatMul W [4,6] -> y [N,3,6] -> (case) -> out, MSE. */
static PetscErrorCode BuildCase(int k, HessaOnnxGraph **gp, const char **name)
{
  HessaOnnxGraph *g;
  int             x, y, out = -1;

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("attention.onnx", gp));
  g = *gp;
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 3, 4}, 1, NULL, &x));
  y = OnnxTestBinary(g, "MatMul", x, OnnxTestParam(g, "W", 2, (int64_t[]){4, 6}), "y");
  switch (k) {
  case 0: {
    /* q, v = heads of y: Reshape [0,3,2,3], Transpose (0,2,1,3) -> [N,2,3,3]; k from x by W3 */
    int shape = OnnxTestInts(g, "shape", 4, (int64_t[]){0, 3, 2, 3});
    int q     = Perm(g, OnnxTestBinary(g, "Reshape", y, shape, "qr"), 4, (int64_t[]){0, 2, 1, 3}, "q");
    int kk    = Perm(g, OnnxTestBinary(g, "Reshape", OnnxTestBinary(g, "MatMul", x, OnnxTestParam(g, "W3", 2, (int64_t[]){4, 6}), "ky"), shape, "kr"), 4, (int64_t[]){0, 2, 3, 1}, "kT"); /* [N,2,3,3] transposed */
    int att   = OnnxTestUnary(g, "Tanh", OnnxTestBinary(g, "MatMul", q, kk, "s"), "att");
    int o     = Perm(g, OnnxTestBinary(g, "MatMul", att, q, "o"), 4, (int64_t[]){0, 2, 1, 3}, "ot"); /* [N,3,2,3] */
    o         = OnnxTestBinary(g, "Reshape", o, OnnxTestInts(g, "shape2", 3, (int64_t[]){0, 3, 6}), "om");
    *name     = "self-attention: Reshape, Transpose, MatMul of batched 4-D operands";
    out       = OnnxTestBinary(g, "MatMul", o, OnnxTestParam(g, "W2", 2, (int64_t[]){6, 2}), "out");
  } break;
  case 1: {
    /* [N,1,3,4] x P [2,4,5] -> [N,2,3,5]; then Q [3,3] x that -> [N,2,3,5] -> Tanh -> W2 [5,2] */
    int a = OnnxTestBinary(g, "Reshape", x, OnnxTestInts(g, "shape", 4, (int64_t[]){0, 1, 3, 4}), "a");
    int b = OnnxTestUnary(g, "Tanh", OnnxTestBinary(g, "MatMul", a, OnnxTestParam(g, "P", 3, (int64_t[]){2, 4, 5}), "ab"), "t");
    int c = OnnxTestUnary(g, "Tanh", OnnxTestBinary(g, "MatMul", OnnxTestParam(g, "Q", 2, (int64_t[]){3, 3}), b, "qb"), "t2");
    *name = "broadcasting MatMuls: batched x parameter [2,4,5], parameter [3,3] x batched";
    out   = OnnxTestBinary(g, "MatMul", c, OnnxTestParam(g, "W2", 2, (int64_t[]){5, 2}), "out");
  } break;
  case 2: {
    /* s = Tanh(y [N,3,6] @ R [6,3]) [N,3,3]; u = Tanh(Where(~causal, -inf, s)); w = Where(causal, P [3,3], u * s) */
    int s = OnnxTestUnary(g, "Tanh", OnnxTestBinary(g, "MatMul", y, OnnxTestParam(g, "R", 2, (int64_t[]){6, 3}), "sr"), "s"), fill, u, w;
    PetscCall(OnnxTestAddValue(g, "fill", HESSA_ONNX_CONST, 0, NULL, 0, (double[]){-INFINITY}, &fill));
    u     = OnnxTestUnary(g, "Tanh", OnnxTestNode(g, "Where", 3, (int[]){CausalMask(g, "future", 0), fill, s}, 0, NULL, "masked"), "u");
    w     = OnnxTestNode(g, "Where", 3, (int[]){CausalMask(g, "past", 1), OnnxTestParam(g, "P", 2, (int64_t[]){3, 3}), OnnxTestBinary(g, "Mul", u, s, "us")}, 0, NULL, "w");
    *name = "Where: a causal mask filled with -inf, a parameter against a batched value";
    out   = OnnxTestBinary(g, "MatMul", OnnxTestUnary(g, "Tanh", w, "tw"), OnnxTestParam(g, "W2", 2, (int64_t[]){3, 2}), "out");
  } break;
  case 3: {
    /* Split(Tanh(y) [N,3,6], axis 2, [1,3,2]) -> a, b, c; Slice(b, axis 2 from 2 down by -2, end clamped) [N,3,2]; Slice(y, rows 1: ) [N,2,6];
       Concat(c, a, sliced b, axis 2) [N,3,5] -> Mul -> MatMul W2 */
    HessaOnnxAttr axis = OnnxTestAttrInt("axis", 2), axis1 = OnnxTestAttrInt("axis", 1);
    int           t = OnnxTestUnary(g, "Tanh", y, "t"), parts[3] = {-1, -1, -1}, sb, rows, cat;
    PetscCall(OnnxTestAddNode(g, "Split", NULL, 2, (int[]){t, OnnxTestInts(g, "split", 3, (int64_t[]){1, 3, 2})}, 3, (const char *[]){"pa", "pb", "pc"}, 1, &axis, parts, NULL));
    sb   = OnnxTestNode(g, "Slice", 5, (int[]){parts[1], OnnxTestInts(g, "starts", 1, (int64_t[]){2}), OnnxTestInts(g, "ends", 1, (int64_t[]){-100}), OnnxTestInts(g, "axes", 1, (int64_t[]){-1}), OnnxTestInts(g, "steps", 1, (int64_t[]){-2})}, 0, NULL,
                        "sb");
    rows = OnnxTestNode(g, "Slice", 4, (int[]){y, OnnxTestInts(g, "starts2", 2, (int64_t[]){1, 0}), OnnxTestInts(g, "ends2", 2, (int64_t[]){INT64_MAX, 4}), OnnxTestInts(g, "axes2", 2, (int64_t[]){1, 2})}, 0, NULL, "rows"); /* [N,2,4] */
    cat  = OnnxTestNode(g, "Concat", 3, (int[]){parts[2], parts[0], sb}, 1, &axis, "cat");                                                                                                                                     /* [N,3,5] */
    cat  = OnnxTestNode(g, "Concat", 2, (int[]){OnnxTestBinary(g, "Mul", cat, cat, "sq"), OnnxTestBinary(g, "MatMul", rows, OnnxTestParam(g, "V", 2, (int64_t[]){4, 5}), "rv")}, 1, &axis1, "cat2");                           /* [N,5,5] */
    *name = "Split, Slice (negative step, clamped end, two axes), Concat";
    out   = OnnxTestBinary(g, "MatMul", cat, OnnxTestParam(g, "W2", 2, (int64_t[]){5, 2}), "out");
  } break;
  case 4: {
    /* Unsqueeze(Tanh(y), 2) [N,3,1,6] -> Expand [N,3,2,6] (shape with the batch entry) * Expand(P [2,1], [2,6]) -> Squeeze(Unsqueeze(.., 4), 4)
       -> Reshape [N,6,6] -> MatMul W2 */
    int64_t shape_e[4] = {HESSA_ONNX_BATCH, 3, 2, 6};
    int     t          = OnnxTestUnary(g, "Tanh", y, "t"), u, e, p;
    u                  = OnnxTestBinary(g, "Unsqueeze", t, OnnxTestInts(g, "axes", 1, (int64_t[]){2}), "u");
    e                  = OnnxTestBinary(g, "Expand", u, OnnxTestInts(g, "shape_e", 4, shape_e), "e");
    p                  = OnnxTestBinary(g, "Expand", OnnxTestUnary(g, "Tanh", OnnxTestParam(g, "P", 2, (int64_t[]){2, 1}), "tp"), OnnxTestInts(g, "shape_p", 2, (int64_t[]){2, 6}), "ep");
    e                  = OnnxTestBinary(g, "Mul", e, p, "ee");
    e                  = OnnxTestBinary(g, "Squeeze", OnnxTestBinary(g, "Unsqueeze", e, OnnxTestInts(g, "axes4", 1, (int64_t[]){-1}), "e5"), OnnxTestInts(g, "axes4b", 1, (int64_t[]){4}), "e4");
    *name              = "Unsqueeze, Expand (batched, and a parameter), Squeeze";
    out                = OnnxTestBinary(g, "MatMul", OnnxTestBinary(g, "Reshape", OnnxTestBinary(g, "Mul", e, e, "e2"), OnnxTestInts(g, "shape", 3, (int64_t[]){0, 6, 6}), "r"), OnnxTestParam(g, "W2", 2, (int64_t[]){6, 2}), "out");
  } break;
  case 5: {
    /* parameter phase: M = A [2,3,4] @ B [2,4,5] [2,3,5]; M2 = Where(mask [3,1], M, Tanh(M)); Q = Slice(M2, axis 0 from 1) [1,3,5];
       out = MatMul(Tanh(MatMul(Tanh(y) [N,3,6], C [6,3])), Reshape(Q, [3,5])) */
    int m = OnnxTestBinary(g, "MatMul", OnnxTestParam(g, "A", 3, (int64_t[]){2, 3, 4}), OnnxTestParam(g, "B", 3, (int64_t[]){2, 4, 5}), "m");
    int w = OnnxTestNode(g, "Where", 3, (int[]){OnnxTestIntConst(g, "rowmask", 2, (int64_t[]){3, 1}, (int64_t[]){1, 0, 1}, 9), m, OnnxTestUnary(g, "Tanh", m, "tm")}, 0, NULL, "w");
    int q = OnnxTestNode(g, "Slice", 3, (int[]){w, OnnxTestInts(g, "starts", 1, (int64_t[]){1}), OnnxTestInts(g, "ends", 1, (int64_t[]){2})}, 0, NULL, "q");
    int h = OnnxTestUnary(g, "Tanh", OnnxTestBinary(g, "MatMul", OnnxTestUnary(g, "Tanh", y, "t"), OnnxTestParam(g, "C", 2, (int64_t[]){6, 3}), "h0"), "h");
    *name = "parameter phase: MatMul of two 3-D parameters, Where, Slice";
    out   = OnnxTestBinary(g, "MatMul", h, OnnxTestBinary(g, "Reshape", q, OnnxTestInts(g, "shape", 2, (int64_t[]){3, 5}), "qr"), "out");
  } break;
  case 6: {
    /* c1 = Expand(Tanh(cls [1,1,6]), [N,1,1]) [N,1,6]; c2 = Expand(Q [6], [N,2,6]); z = Concat(c1, Tanh(y), c2, axis 1) [N,6,6];
       out = MatMul(z * z, W2 [6,2]) */
    HessaOnnxAttr axis1 = OnnxTestAttrInt("axis", 1);
    int64_t       s1[3] = {HESSA_ONNX_BATCH, 1, 1}, s2[3] = {HESSA_ONNX_BATCH, 2, 6};
    int           c1 = OnnxTestBinary(g, "Expand", OnnxTestUnary(g, "Tanh", OnnxTestParam(g, "cls", 3, (int64_t[]){1, 1, 6}), "tcls"), OnnxTestInts(g, "shape_cls", 3, s1), "c1");
    int           c2 = OnnxTestBinary(g, "Expand", OnnxTestParam(g, "Q", 1, (int64_t[]){6}), OnnxTestInts(g, "shape_q", 3, s2), "c2");
    int           z  = OnnxTestNode(g, "Concat", 3, (int[]){c1, OnnxTestUnary(g, "Tanh", y, "t"), c2}, 1, &axis1, "z");
    *name            = "Expand of parameters to the batch (class token), Concat with batched tokens";
    out              = OnnxTestBinary(g, "MatMul", OnnxTestBinary(g, "Mul", z, z, "zz"), OnnxTestParam(g, "W2", 2, (int64_t[]){6, 2}), "out");
  } break;
  case 7: {
    /* opset 18: Split(Tanh(x @ W7 [4,7]) [N,3,7], axis 2, num_outputs 3) -> [3, 3, 1]; S1, S2 = Split(P [7,2], axis 0, num_outputs 2) -> [4,2], [3,2];
       out = MatMul(Concat(a * b, c, axis 2) [N,3,4], S1) + MatMul(a, S2) */
    HessaOnnxAttr n3[2] = {OnnxTestAttrInt("axis", 2), OnnxTestAttrInt("num_outputs", 3)}, n2[2] = {OnnxTestAttrInt("axis", 0), OnnxTestAttrInt("num_outputs", 2)}, axis2 = OnnxTestAttrInt("axis", 2);
    int           parts[3] = {-1, -1, -1}, sp[2] = {-1, -1}, t, cat;
    g->opset = 18;
    t        = OnnxTestUnary(g, "Tanh", OnnxTestBinary(g, "MatMul", x, OnnxTestParam(g, "W7", 2, (int64_t[]){4, 7}), "x7"), "t");
    PetscCall(OnnxTestAddNode(g, "Split", NULL, 1, &t, 3, (const char *[]){"pa", "pb", "pc"}, 2, n3, parts, NULL));
    PetscCall(OnnxTestAddNode(g, "Split", NULL, 1, (int[]){OnnxTestParam(g, "P", 2, (int64_t[]){7, 2})}, 2, (const char *[]){"s1", "s2"}, 2, n2, sp, NULL));
    CHECK(g->values[parts[0]].dims[2] == 3 && g->values[parts[1]].dims[2] == 3 && g->values[parts[2]].dims[2] == 1 && g->values[sp[0]].dims[0] == 4 && g->values[sp[1]].dims[0] == 3,
          "case 7: Split by num_outputs: parts %d, %d, %d and %d, %d, expected 3, 3, 1 and 4, 3", (int)g->values[parts[0]].dims[2], (int)g->values[parts[1]].dims[2], (int)g->values[parts[2]].dims[2], (int)g->values[sp[0]].dims[0],
          (int)g->values[sp[1]].dims[0]);
    cat   = OnnxTestNode(g, "Concat", 2, (int[]){OnnxTestBinary(g, "Mul", parts[0], parts[1], "ab"), parts[2]}, 1, &axis2, "cat");
    *name = "opset 18 Split by num_outputs: 7 into 3, 3, 1 (batched), 7 into 4, 3 (a parameter)";
    out   = OnnxTestBinary(g, "Add", OnnxTestBinary(g, "MatMul", cat, sp[0], "o1"), OnnxTestBinary(g, "MatMul", parts[0], sp[1], "o2"), "out");
  } break;
  }
  PetscCheck(out >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: building the graph failed", k);
  PetscCall(OnnxTestGraphFinish(g, x, out));
  PetscFunctionReturn(0);
}

/* A node that must be refused at load, with the message containing `expect`. */
static PetscErrorCode ExpectRefusal(int k, const char *expect)
{
  HessaOnnxGraph *g;
  HessaStatus     st = {0};
  int             x, y, out = -1, r = 1;

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("refused.onnx", &g));
  PetscCall(OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 3, 4}, 1, NULL, &x));
  y = OnnxTestUnary(g, "Tanh", x, "y");
  switch (k) {
  case 0: /* y [N,3,4] x Flatten(y) [N,12]: the batch of the right operand would be contracted */
    r = OnnxTestAddNode(g, "MatMul", NULL, 2, (int[]){y, OnnxTestUnary(g, "Flatten", y, "f")}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 1: /* a condition computed from the data */
    r = OnnxTestAddNode(g, "Where", NULL, 3, (int[]){y, y, y}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 2: /* Slice of the batch axis */
    r = OnnxTestAddNode(g, "Slice", NULL, 4, (int[]){y, OnnxTestInts(g, "s", 1, (int64_t[]){1}), OnnxTestInts(g, "e", 1, (int64_t[]){3}), OnnxTestInts(g, "a", 1, (int64_t[]){0})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 3: { /* Split of the batch axis */
    HessaOnnxAttr axis = OnnxTestAttrInt("axis", 0);
    int           o2[2];
    r = OnnxTestAddNode(g, "Split", NULL, 1, (int[]){y}, 2, (const char *[]){"o1", "o2"}, 1, &axis, o2, &st);
  } break;
  case 4: /* Unsqueeze at axis 0 of a batched value */
    r = OnnxTestAddNode(g, "Unsqueeze", NULL, 2, (int[]){y, OnnxTestInts(g, "axes", 1, (int64_t[]){0})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 5: /* Expand to a higher rank: the batch would move */
    r = OnnxTestAddNode(g, "Expand", NULL, 2, (int[]){y, OnnxTestInts(g, "shape", 4, (int64_t[]){2, 1, 3, 4})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 6: { /* Expand of a constant to the batch */
    int c;
    PetscCall(OnnxTestAddValue(g, "c", HESSA_ONNX_CONST, 3, (int64_t[]){1, 1, 4}, 0, NULL, &c));
    r = OnnxTestAddNode(g, "Expand", NULL, 2, (int[]){c, OnnxTestInts(g, "shape", 3, (int64_t[]){HESSA_ONNX_BATCH, 1, 1})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
  } break;
  case 7: /* Expand of a parameter with the batch at axis 1 */
    r = OnnxTestAddNode(g, "Expand", NULL, 2, (int[]){OnnxTestParam(g, "P", 2, (int64_t[]){1, 4}), OnnxTestInts(g, "shape", 3, (int64_t[]){3, HESSA_ONNX_BATCH, 4})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 8: /* Expand of a parameter [1,1,4] to a shape that does not match */
    r = OnnxTestAddNode(g, "Expand", NULL, 2, (int[]){OnnxTestParam(g, "P", 3, (int64_t[]){1, 1, 4}), OnnxTestInts(g, "shape", 3, (int64_t[]){HESSA_ONNX_BATCH, 1, 5})}, 1, (const char *[]){"out"}, 0, NULL, &out, &st);
    break;
  case 9:  /* num_outputs 3 for 2 outputs */
  case 10: /* 4 columns in 3 parts of 2: an empty last part */
  case 11: /* num_outputs at opset 17 */
  case 12: /* 4 columns in 3 equal parts at opset 17 */
  {
    HessaOnnxAttr a[2] = {OnnxTestAttrInt("axis", 2), OnnxTestAttrInt("num_outputs", 3)};
    int           o3[3];
    g->opset = k == 11 || k == 12 ? 17 : 18;
    r        = OnnxTestAddNode(g, "Split", NULL, 1, (int[]){y}, k == 9 ? 2 : 3, (const char *[]){"o1", "o2", "o3"}, k == 12 ? 1 : 2, a, o3, &st);
  } break;
  }
  (void)r;
  CHECK(st.code && strstr(st.msg, expect), "refusal %d: expected an error containing \"%s\", found %s", k, expect, st.code ? st.msg : "no error");
  PetscCall(OnnxTestGraphDestroy(&g));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscBool   view      = PETSC_FALSE;
  const char *refusal[] = {"would be a matrix axis",
                           "hessa needs a constant condition",
                           "slices the batch axis",
                           "splits the batch axis",
                           "would move the batch",
                           "would move the batch",
                           "expands the constant 'c' [1, 1, 4] to the batch",
                           "puts the batch at axis 1 of input 'P' [1, 4]",
                           "input 'P' [1, 1, 4] cannot be expanded to the shape [N, 1, 5]: axis 2 of the result is 4 in the input and 5 in the shape",
                           "num_outputs is 3 but the node has 2 outputs",
                           "parts of 2 leave 0 for the last one",
                           "the attribute num_outputs came with opset 18, but the model declares opset 17",
                           "has 4 elements, which do not split into 3 equal parts"};

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
      double          *theta, per = 0;
      OnnxCheckOptions opt;
      OnnxCheckErrors  err;
      PetscErrorCode   ierr;

      PetscCall(BuildCase(k, &g, &name));
      PetscCall(TestDataCreate(HESSA_TASK_REGRESSION, NS, g->values[g->input].size, g->values[g->output].size, 60 + (uint64_t)k, &data));
      /* a cache that holds one of the three chunks of 7 samples */
      for (int v = 0; v < g->n_values; v++)
        if (g->values[v].batched && g->values[v].kind == HESSA_ONNX_RUNTIME) per += (double)g->values[v].size * (g->values[v].differentiable ? 2 : 1);
      arch.loss     = HESSA_LOSS_MSE;
      arch.chunk    = 7;
      arch.cache_mb = 1.5 * 7 * per * sizeof(double) / 1048576.0;
      PetscCall(HessaOnnxObjectiveCreate(&arch, g, PETSC_FALSE, data, &obj, &theta, &st));
      CHECK(!st.code && obj, "case %d (%s): %s", k, name, st.msg);
      OnnxCheckOptionsDefault(&opt);
      ierr = OnnxCheckDerivatives(obj, theta, &opt, &err);
      CHECK(!ierr, "case %d (%s)%s failed the derivative checks", k, name, pass ? " with R passes over single samples" : "");
      if (view) PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-80s grad %.1e hv %.1e hsym %.1e gsym %.1e hblock %.1e gblock %.1e gpsd %.1e\n", name, err.grad, err.hv, err.hsym, err.gsym, err.hblock, err.gblock, err.gpsd));
      PetscCall(HessaObjectiveDestroy(&obj));
      free(theta);
      PetscCall(OnnxTestGraphDestroy(&g));
      PetscCall(TestDataDestroy(&data));
    }
  }
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_onnx_tangent_mb"));
  for (int k = 0; k < (int)(sizeof refusal / sizeof refusal[0]); k++) PetscCall(ExpectRefusal(k, refusal[k]));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
