/* The layout layer of the ONNX loader: where each batched value's ONNX tensor holds the
 * batch, and the translation of every node that sees a moved batch into per-sample terms
 * (the contract is in onnx_impl.h, "Layouts").
 *
 * A plain torch.onnx.export of nn.MultiheadAttention's math path moves the batch of
 * x [N, T, E] to axis 1 (Transpose), merges it with the heads ([T, N*H, D]) and with the
 * sequence ([T*N, E]), and moves it back. The executor keeps every batched value
 * sample-major, so none of that needs data movement across samples: the per-sample data of
 * each of those tensors is one sample's slice in ONNX order. What changes is how ONNX axes
 * map onto per-sample axes; this file rewrites the axis attributes and inputs of each node
 * before its infer, so that kernels stay as they are, and refuses by name what has no
 * per-sample meaning (a softmax over the merged batch axis, a reshape that splits the batch
 * from itself, a MatMul contracting over it).
 */
#include "onnx_impl.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ONNX view of a value: rank R, batch axis p (-1: not batched), merged with ka*kb. */
typedef struct {
  int     R, p, merged;
  int64_t ka, kb;
} View;

static void GetView(const HessaOnnxValue *v, View *w)
{
  w->merged = v->batched && v->lay_ka > 0;
  w->p      = v->batched ? v->lay_axis : -1;
  w->ka     = w->merged ? v->lay_ka : 1;
  w->kb     = w->merged ? v->lay_kb : 1;
  w->R      = v->ndim - (w->merged ? 1 : 0);
}

/* The per-sample (kernel) axis of ONNX axis a of a value seen as w: 0 for a pure batch
 * axis, the merged axis for a merged one. */
static int Canon(const View *w, int a)
{
  if (w->p < 0) return a;
  if (w->merged) return a + 1;
  if (a == w->p) return 0;
  return a < w->p ? a + 1 : a;
}

/* HessaOnnxLayoutMoved - whether v is batched with its batch anywhere but alone at ONNX
 * axis 0. Not collective. */
int HessaOnnxLayoutMoved(const HessaOnnxValue *v)
{
  return v->batched && (v->lay_axis != 0 || v->lay_ka > 0);
}

/* HessaOnnxLayoutOnnxDims - v's ONNX rank (returned) and dims, the batch entry written as
 * HessaOnnxBatchEntry(ka * kb). Not collective. */
int HessaOnnxLayoutOnnxDims(const HessaOnnxValue *v, int64_t *dims)
{
  View w;

  GetView(v, &w);
  if (!v->batched) {
    for (int a = 0; a < v->ndim; a++) dims[a] = v->dims[a];
    return v->ndim;
  }
  for (int a = 0; a < w.R; a++) dims[a] = a == w.p ? HessaOnnxBatchEntry(w.ka * w.kb) : v->dims[Canon(&w, a)];
  return w.R;
}

/* "'name' [5, N, 16]" (the ONNX view) for messages */
static const char *Describe(const HessaOnnxValue *v, char *buf, size_t len)
{
  int64_t d[HESSA_ONNX_MAX_DIMS];
  char    s[200];
  int     r = HessaOnnxLayoutOnnxDims(v, d);

  snprintf(buf, len, "'%s' of shape %s", v->name, HessaOnnxDimsString(r, d, s, sizeof s));
  return buf;
}

static int SameLayout(const HessaOnnxValue *a, const HessaOnnxValue *b)
{
  View u, w;
  GetView(a, &u), GetView(b, &w);
  return u.R == w.R && u.p == w.p && u.merged == w.merged && u.ka == w.ka && u.kb == w.kb;
}

static void PlanFrom(HessaOnnxLayoutPlan *plan, const View *w, int axis)
{
  plan->set  = 1;
  plan->axis = axis;
  plan->ka   = w->merged ? w->ka : 0;
  plan->kb   = w->merged ? w->kb : 0;
}

/* ---- rewriting attributes ---------------------------------------------------------------- */

static HessaOnnxAttr *AttrAdd(HessaOnnxNode *node, const char *name, HessaStatus *st)
{
  HessaOnnxAttr *a = (HessaOnnxAttr *)HessaOnnxAttrGet(node, name), *na;
  char          *nm;

  if (a) return a;
  na = realloc(node->attr, ((size_t)node->n_attr + 1) * sizeof *na);
  nm = malloc(strlen(name) + 1);
  if (!na || !nm) {
    if (na) node->attr = na;
    free(nm);
    HessaStatusSet(st, PETSC_ERR_MEM, "out of memory");
    return NULL;
  }
  node->attr = na;
  strcpy(nm, name);
  a = &node->attr[node->n_attr++];
  memset(a, 0, sizeof *a);
  a->name   = nm;
  a->tensor = -1;
  return a;
}

static void SetIntAttr(HessaOnnxNode *node, const char *name, int64_t v, HessaStatus *st)
{
  HessaOnnxAttr *a = AttrAdd(node, name, st);
  if (!a) return;
  a->type = HESSA_ONNX_ATTR_INT;
  a->i    = v;
}

static void SetIntsAttr(HessaOnnxNode *node, const char *name, int64_t n, const int64_t *v, HessaStatus *st)
{
  HessaOnnxAttr *a = AttrAdd(node, name, st);
  int64_t       *ints;
  if (!a) return;
  if (!(ints = malloc((size_t)(n ? n : 1) * sizeof *ints))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "out of memory");
    return;
  }
  memcpy(ints, v, (size_t)n * sizeof *ints);
  free(a->ints);
  free(a->floats);
  a->floats = NULL;
  a->ints   = ints;
  a->n      = n;
  a->type   = HESSA_ONNX_ATTR_INTS;
}

/* Point input i of node at a new constant holding ints (growing the input list). */
static void SetIntsInput(HessaOnnxNode *node, int i, const HessaOnnxLayoutHooks *hooks, const char *name, int64_t n, const int64_t *ints, HessaStatus *st)
{
  int v;

  if (i >= node->n_in) {
    int *in = realloc(node->in, (size_t)(i + 1) * sizeof *in);
    if (!in) {
      HessaStatusSet(st, PETSC_ERR_MEM, "out of memory");
      return;
    }
    for (int k = node->n_in; k <= i; k++) in[k] = -1;
    node->in   = in;
    node->n_in = i + 1;
  }
  if ((v = hooks->new_ints(hooks->ctx, name, n, ints)) < 0) {
    HessaStatusSet(st, PETSC_ERR_MEM, "could not add the per-sample axes of '%s'", name);
    return;
  }
  node->in[i] = v;
}

/* The integers of a constant integer vector input, or NULL (st set). */
static const int64_t *IntsOf(HessaOnnxGraph *g, HessaOnnxNode *node, int i, const char *what, const char *label, int64_t *n, HessaStatus *st)
{
  const HessaOnnxValue *c = &g->values[node->in[i]];
  if (c->kind != HESSA_ONNX_CONST || !c->is_int || !c->ivalue || c->ndim > 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected %s '%s' to be a constant integer vector", label, what, c->name);
    return NULL;
  }
  *n = c->size;
  return c->ivalue;
}

/* Normalise ONNX axis a of rank R; -1 (st set) when out of range. */
static int NormAxis(int64_t a, int R, const char *label, const char *what, HessaStatus *st)
{
  if (a < -R || a >= R) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s %" PRId64 " is out of range for rank %d", label, what, a, R);
    return -1;
  }
  return (int)(a < 0 ? a + R : a);
}

/* The refusal of an axis that is the batch or holds it. */
static void RefuseBatchAxis(const HessaOnnxValue *x, const View *w, int a, const char *label, const char *doing, HessaStatus *st)
{
  char d[300];
  HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s ONNX axis %d of %s, which %s; hessa keeps the samples apart and cannot mix them", label, doing, a, Describe(x, d, sizeof d), w->merged ? "merges the batch with other axes" : "is the batch axis");
}

/* ---- Transpose -------------------------------------------------------------------------- */

static void TransposeLayout(HessaOnnxGraph *g, HessaOnnxNode *node, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *x = &g->values[node->in[0]];
  const HessaOnnxAttr  *attr;
  View                  w, o;
  int64_t               perm[HESSA_ONNX_MAX_DIMS], q[HESSA_ONNX_MAX_DIMS];
  int                   seen[HESSA_ONNX_MAX_DIMS] = {0}, pout = -1;
  char                  d[300];

  GetView(x, &w);
  if ((attr = HessaOnnxAttrGet(node, "perm"))) {
    if (attr->type != HESSA_ONNX_ATTR_INTS || attr->n != w.R) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected perm of %d integers for %s", label, w.R, Describe(x, d, sizeof d));
      return;
    }
    for (int k = 0; k < w.R; k++) perm[k] = attr->ints[k];
  } else
    for (int k = 0; k < w.R; k++) perm[k] = w.R - 1 - k;
  for (int k = 0; k < w.R; k++) {
    if (perm[k] < 0 || perm[k] >= w.R || seen[perm[k]]++) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: perm is not a permutation of 0 .. %d (entry %d is %" PRId64 ")", label, w.R - 1, k, perm[k]);
      return;
    }
    if (perm[k] == w.p) pout = k;
  }
  o   = w;
  o.p = pout;
  /* per-sample permutation: output axis k takes input axis perm[k] */
  q[0] = 0;
  for (int k = 0; k < w.R; k++) {
    if (!o.merged && k == pout) continue;
    q[Canon(&o, k)] = Canon(&w, (int)perm[k]);
  }
  SetIntsAttr(node, "perm", x->ndim, q, st);
  PlanFrom(plan, &o, pout);
}

/* ---- Reshape ------------------------------------------------------------------------------ */

static const char *ShapeText(int n, const int64_t *t, char *buf, size_t len)
{
  return HessaOnnxDimsString(n, t, buf, len);
}

/* Whether a Reshape of x to target t needs the layout layer: x's batch moved, or t places
 * the batch elsewhere than alone at its first entry. */
static int ReshapeNeedsLayout(const HessaOnnxValue *x, int64_t nt, const int64_t *t)
{
  if (HessaOnnxLayoutMoved(x)) return 1;
  for (int64_t i = 0; i < nt; i++)
    if (HessaOnnxIsBatchEntry(t[i]) && (i != 0 || t[i] != HESSA_ONNX_BATCH)) return 1;
  return 0;
}

static void ReshapeLayout(HessaOnnxGraph *g, HessaOnnxNode *node, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *x = &g->values[node->in[0]];
  const HessaOnnxAttr  *attr;
  const int64_t        *t  = NULL;
  int64_t               nt = 0, D[HESSA_ONNX_MAX_DIMS], out[HESSA_ONNX_MAX_DIMS], canon[HESSA_ONNX_MAX_DIMS], A = 1, B = 1, c = 0, fixed = 1, P1 = 1, P2 = 1, ka, kb;
  int                   R, q = -1, neg = -1, allowzero, nc = 0;
  View                  w;
  char                  d[300], s1[200], s2[200];

  if (node->n_in >= 2 && node->in[1] >= 0) {
    if (!(t = IntsOf(g, node, 1, "the shape input", label, &nt, st))) return;
  } else if ((attr = HessaOnnxAttrGet(node, "shape")) && attr->type == HESSA_ONNX_ATTR_INTS)
    t = attr->ints, nt = attr->n;
  else
    return; /* Reshape's infer reports it */
  if (!ReshapeNeedsLayout(x, nt, t)) return;
  GetView(x, &w);
  R         = HessaOnnxLayoutOnnxDims(x, D);
  allowzero = HessaOnnxAttrInt(node, "allowzero", 0) != 0;
  if (nt < 1 || nt > HESSA_ONNX_MAX_DIMS) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a target shape of 1 to %d dimensions for %s, found %" PRId64, label, HESSA_ONNX_MAX_DIMS, Describe(x, d, sizeof d), nt);
    return;
  }
  for (int a = 0; a < R; a++)
    if (a < w.p)
      A *= D[a];
    else if (a > w.p)
      B *= D[a];
  A *= w.ka, B *= w.kb;
  for (int i = 0; i < nt; i++) {
    int64_t ti = t[i];
    if (ti == 0 && !allowzero) {
      if (i >= R) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s copies dimension %d of %s, which has only %d", label, ShapeText((int)nt, t, s1, sizeof s1), i, Describe(x, d, sizeof d), R);
        return;
      }
      ti = D[i];
    }
    out[i] = ti;
    if (HessaOnnxIsBatchEntry(ti)) {
      if (q >= 0) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s of %s holds the batch size at two axes (%d and %d)", label, ShapeText((int)nt, t, s1, sizeof s1), Describe(x, d, sizeof d), q, i);
        return;
      }
      q = i, c = HessaOnnxBatchFactor(ti);
    } else if (ti == -1) {
      if (neg >= 0) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s has more than one -1", label, ShapeText((int)nt, t, s1, sizeof s1));
        return;
      }
      neg = i;
    } else if (ti < 1) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected positive entries, 0 or -1 in target shape %s, found %" PRId64 " at %d", label, ShapeText((int)nt, t, s1, sizeof s1), ti, i);
      return;
    } else if (__builtin_mul_overflow(fixed, ti, &fixed) || fixed > INT64_C(1) << 40) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s does not fit %s", label, ShapeText((int)nt, t, s1, sizeof s1), Describe(x, d, sizeof d));
      return;
    }
  }
  if (q < 0 && neg < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT,
                   "%s: target shape %s of %s has no entry that holds the batch (a fixed batch size cannot be told apart from other sizes); export with dynamic_axes naming the batch axis of the input so that the target comes from "
                   "Shape",
                   label, ShapeText((int)nt, t, s1, sizeof s1), Describe(x, d, sizeof d));
    return;
  }
  if (fixed > A * B || c > A * B) goto nofit; /* (and no overflow below) */
  if (q < 0) {                                /* the -1 takes the batch: c = A*B / fixed */
    if ((A * B) % fixed) goto nofit;
    q = neg, c = A * B / fixed, neg = -1;
  } else if (neg >= 0) {
    if ((A * B) % (fixed * c)) goto nofit;
    out[neg] = A * B / (fixed * c);
    fixed *= out[neg];
  }
  if (fixed * c != A * B) goto nofit;
  out[q] = HessaOnnxBatchEntry(c);
  for (int i = 0; i < q; i++) P1 *= out[i];
  for (int i = q + 1; i < nt; i++) P2 *= out[i];
  /* flat order [A, N, B] in and out: the batch entry at q must take the A before it */
  if (A % P1 || c % (A / P1) || (c / (A / P1)) * P2 != B) {
    HessaStatusSet(st, HESSA_ERR_INPUT,
                   "%s: target shape %s of %s would split the batch from itself or move it across other axes (the input is [%" PRId64 ", N, %" PRId64 "] around its batch; the target holds %s at axis %d between %" PRId64 " and %" PRId64
                   " elements); hessa keeps samples apart and refuses it",
                   label, ShapeText((int)nt, out, s1, sizeof s1), Describe(x, d, sizeof d), A, B, HessaOnnxDimsString(1, &out[q], s2, sizeof s2), q, P1, P2);
    return;
  }
  ka       = A / P1;
  kb       = c / ka;
  canon[0] = HESSA_ONNX_BATCH;
  nc       = 1;
  for (int i = 0; i < nt; i++) {
    if (i == q) {
      if (ka * kb > 1) canon[nc++] = ka * kb;
      continue;
    }
    canon[nc++] = out[i];
  }
  SetIntsAttr(node, "shape", nc, canon, st);
  if (st->code) return;
  if (node->n_in >= 2) node->in[1] = -1;
  plan->set  = 1;
  plan->axis = q;
  plan->ka   = ka * kb > 1 ? ka : 0;
  plan->kb   = ka * kb > 1 ? kb : 0;
  return;
nofit:
  HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s does not fit %s (%" PRId64 " x N elements)", label, ShapeText((int)nt, t, s1, sizeof s1), Describe(x, d, sizeof d), A * B);
}

/* ---- elementwise ops ------------------------------------------------------------------------ */

static int IsElementwise(const char *op)
{
  static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Where", "Clip", "Relu", "LeakyRelu", "Tanh", "Sigmoid", "Softplus", "Erf", "Elu", "Identity", "Dropout", "HardSigmoid", "HardSwish", "Exp", "Log", "Neg", "Reciprocal", "Sqrt"};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (!strcmp(op, ops[k])) return 1;
  return 0;
}

static void ElementwiseLayout(HessaOnnxGraph *g, HessaOnnxNode *node, int ref, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *r = &g->values[node->in[ref]];
  View                  w;
  char                  d1[300], d2[300];

  GetView(r, &w);
  for (int i = 0; i < node->n_in; i++) {
    const HessaOnnxValue *v;
    if (node->in[i] < 0) continue;
    v = &g->values[node->in[i]];
    for (int k = 0; k < plan->n_swap; k++)
      if (plan->swap[k] == node->in[i]) v = NULL; /* the same operand twice: seen already */
    if (!v) continue;
    /* a shared operand [T, 1, E] against [T, N, E] (the PyTorch tutorial's positional
     * encoding of a seq-first model): per sample it is [T, E]; infer sees it so */
    if (!v->batched && !w.merged && v->ndim <= w.R && v->ndim >= w.R - w.p && v->dims[v->ndim - (w.R - w.p)] == 1 && plan->n_swap < 4) {
      int             drop = v->ndim - (w.R - w.p), k = plan->n_swap++;
      HessaOnnxValue *u  = &g->values[node->in[i]];
      plan->swap[k]      = node->in[i];
      plan->swap_ndim[k] = u->ndim;
      memcpy(plan->swap_dims[k], u->dims, sizeof plan->swap_dims[k]);
      for (int a = drop; a + 1 < u->ndim; a++) u->dims[a] = u->dims[a + 1]; /* restored by HessaOnnxLayoutAfter */
      u->dims[--u->ndim] = 0;
      continue;
    }
    if (v->batched) {
      if (!SameLayout(v, r)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: inputs %s and %s hold the batch at different places; hessa needs the same layout for both", label, Describe(r, d1, sizeof d1), Describe(v, d2, sizeof d2));
        return;
      }
      continue;
    }
    /* a shared operand: right-aligned against the ONNX shape, it must not reach a pure
     * batch axis, and must have 1 at a merged one */
    if (v->ndim > w.R || (v->ndim >= w.R - w.p && (!w.merged || v->dims[v->ndim - (w.R - w.p)] != 1))) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input %s broadcasts against %s across the axis that holds the batch; hessa supports shared operands that reach only the axes after it, or have 1 there", label, Describe(v, d1, sizeof d1),
                     Describe(r, d2, sizeof d2));
      return;
    }
  }
  PlanFrom(plan, &w, w.p);
}

/* ---- MatMul and Gemm ----------------------------------------------------------------------- */

static void MatMulLayout(HessaOnnxGraph *g, HessaOnnxNode *node, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *A = &g->values[node->in[0]], *B = &g->values[node->in[1]];
  View                  wa, wb;
  char                  d1[300], d2[300];

  GetView(A, &wa), GetView(B, &wb);
  if (A->batched && B->batched) {
    if (!SameLayout(A, B) || wa.p >= wa.R - 2) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s x %s: hessa needs both operands to hold the batch at the same leading (matrix-batch) axis", label, Describe(A, d1, sizeof d1), Describe(B, d2, sizeof d2));
      return;
    }
    PlanFrom(plan, &wa, wa.p);
    return;
  }
  if (A->batched && HessaOnnxLayoutMoved(A)) {
    if (B->ndim != 2 || wa.p == wa.R - 1) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s x %s: the batch of the left operand is %s; hessa supports a moved batch there only in the rows or leading axes, against a 2-D right operand", label, Describe(A, d1, sizeof d1),
                     Describe(B, d2, sizeof d2), wa.p == wa.R - 1 ? "in the contracted axis" : "moved");
      return;
    }
    PlanFrom(plan, &wa, wa.p);
    return;
  }
  if (wb.p >= wb.R - 2) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s x %s: the batch of the right operand is in one of its matrix axes; hessa needs it in a leading axis", label, Describe(A, d1, sizeof d1), Describe(B, d2, sizeof d2));
    return;
  }
  PlanFrom(plan, &wb, wb.p);
}

static void GemmLayout(HessaOnnxGraph *g, HessaOnnxNode *node, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *A = &g->values[node->in[0]];
  View                  w;
  char                  d1[300];

  GetView(A, &w);
  for (int i = 1; i < node->n_in; i++)
    if (node->in[i] >= 0 && HessaOnnxLayoutMoved(&g->values[node->in[i]])) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input %s holds a moved batch; hessa supports Gemm only with a batched A", label, Describe(&g->values[node->in[i]], d1, sizeof d1));
      return;
    }
  if (!A->batched || w.R != 2 || w.p != 0 || !w.merged || HessaOnnxAttrInt(node, "transA", 0)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: A %s: hessa supports Gemm on a moved batch only when the batch is merged into the rows of A (transA = 0)", label, Describe(A, d1, sizeof d1));
    return;
  }
  PlanFrom(plan, &w, 0);
}

/* ---- axis ops ------------------------------------------------------------------------------ */

static void SoftmaxLayout(HessaOnnxGraph *g, HessaOnnxNode *node, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *x = &g->values[node->in[0]];
  View                  w;
  int                   a;
  char                  d[300];

  GetView(x, &w);
  if (g->opset < 13) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s holds a moved batch; before opset 13 %s flattens from its axis, which hessa does not translate: export with opset >= 13", label, Describe(x, d, sizeof d), node->op_type);
    return;
  }
  if ((a = NormAxis(HessaOnnxAttrInt(node, "axis", -1), w.R, label, "axis", st)) < 0) return;
  if (a == w.p) {
    RefuseBatchAxis(x, &w, a, label, "normalises over", st);
    return;
  }
  SetIntAttr(node, "axis", Canon(&w, a), st);
  PlanFrom(plan, &w, w.p);
}

static void LayerNormLayout(HessaOnnxGraph *g, HessaOnnxNode *node, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *x = &g->values[node->in[0]];
  View                  w;
  int                   a;

  GetView(x, &w);
  if ((a = NormAxis(HessaOnnxAttrInt(node, "axis", -1), w.R, label, "axis", st)) < 0) return;
  if (a <= w.p) {
    RefuseBatchAxis(x, &w, w.p, label, "normalises over", st);
    return;
  }
  SetIntAttr(node, "axis", Canon(&w, a), st);
  PlanFrom(plan, &w, w.p);
}

static void ReduceLayout(HessaOnnxGraph *g, HessaOnnxNode *node, const HessaOnnxLayoutHooks *hooks, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *x    = &g->values[node->in[0]];
  const HessaOnnxAttr  *attr = HessaOnnxAttrGet(node, "axes");
  const int64_t        *axes = NULL;
  int64_t               n    = 0, canon[HESSA_ONNX_MAX_DIMS];
  int                   keep = HessaOnnxAttrInt(node, "keepdims", 1) != 0, noop = HessaOnnxAttrInt(node, "noop_with_empty_axes", 0) != 0, before = 0, from_input = 0;
  View                  w;
  char                  d[300], name[300];

  GetView(x, &w);
  if (node->n_in > 1 && node->in[1] >= 0) {
    if (!(axes = IntsOf(g, node, 1, "the axes input", label, &n, st))) return;
    from_input = 1;
  } else if (attr && attr->type == HESSA_ONNX_ATTR_INTS)
    axes = attr->ints, n = attr->n;
  if (n <= 0) {
    if (noop) {
      PlanFrom(plan, &w, w.p);
      return;
    }
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: reduces every axis of %s, the batch included; hessa keeps samples apart", label, Describe(x, d, sizeof d));
    return;
  }
  if (n > HESSA_ONNX_MAX_DIMS) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %" PRId64 " axes for rank %d", label, n, w.R);
    return;
  }
  for (int64_t k = 0; k < n; k++) {
    int a = NormAxis(axes[k], w.R, label, "axis", st);
    if (a < 0) return;
    if (a == w.p) {
      RefuseBatchAxis(x, &w, a, label, "reduces over", st);
      return;
    }
    if (a < w.p) before++;
    canon[k] = Canon(&w, a);
  }
  if (from_input) {
    snprintf(name, sizeof name, "%s", g->values[node->in[1]].name);
    SetIntsInput(node, 1, hooks, name, n, canon, st);
  } else
    SetIntsAttr(node, "axes", n, canon, st);
  PlanFrom(plan, &w, keep ? w.p : w.p - before);
}

static void SliceLayout(HessaOnnxGraph *g, HessaOnnxNode *node, const HessaOnnxLayoutHooks *hooks, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *x    = &g->values[node->in[0]];
  const int64_t        *axes = NULL, *starts;
  int64_t               ns, na, canon[HESSA_ONNX_MAX_DIMS];
  View                  w;
  char                  name[300];

  GetView(x, &w);
  if (node->n_in < 3 || node->in[1] < 0 || node->in[2] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: a Slice with attributes (before opset 10) on a moved batch is not supported", label);
    return;
  }
  if (!(starts = IntsOf(g, node, 1, "the starts input", label, &ns, st))) return;
  na = ns;
  if (node->n_in >= 4 && node->in[3] >= 0 && !(axes = IntsOf(g, node, 3, "the axes input", label, &na, st))) return;
  if (na != ns || ns > HESSA_ONNX_MAX_DIMS) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: starts and axes differ in length (%" PRId64 " and %" PRId64 ")", label, ns, na);
    return;
  }
  for (int64_t k = 0; k < ns; k++) {
    int a = NormAxis(axes ? axes[k] : k, w.R, label, "axis", st);
    if (a < 0) return;
    if (a == w.p) {
      RefuseBatchAxis(x, &w, a, label, "slices", st);
      return;
    }
    canon[k] = Canon(&w, a);
  }
  snprintf(name, sizeof name, "%s", node->n_in >= 4 && node->in[3] >= 0 ? g->values[node->in[3]].name : g->values[node->out[0]].name);
  SetIntsInput(node, 3, hooks, name, ns, canon, st);
  PlanFrom(plan, &w, w.p);
}

/* Concat and Split along an axis that is not the batch: every batched input in the same
 * layout (a shared input cannot have the batch's size at that axis), the outputs too. */
static void ConcatSplitLayout(HessaOnnxGraph *g, HessaOnnxNode *node, int moved, const char *label, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const HessaOnnxValue *x    = &g->values[node->in[moved]];
  int                   dflt = !strcmp(node->op_type, "Split") ? 0 : -(1 << 30), a;
  View                  w;
  char                  d1[300], d2[300];

  GetView(x, &w);
  for (int i = 0; i < node->n_in; i++) {
    const HessaOnnxValue *v = node->in[i] >= 0 ? &g->values[node->in[i]] : NULL;
    if (!v || (i > 0 && !strcmp(node->op_type, "Split"))) continue; /* Split's sizes */
    if (!v->batched || !SameLayout(v, x)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: inputs %s and %s hold the batch at different places (or one has none); hessa needs the same layout for all", label, Describe(x, d1, sizeof d1), Describe(v, d2, sizeof d2));
      return;
    }
  }
  if (!HessaOnnxAttrGet(node, "axis") && dflt < -1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: Concat without an axis attribute", label);
    return;
  }
  if ((a = NormAxis(HessaOnnxAttrInt(node, "axis", dflt), w.R, label, "axis", st)) < 0) return;
  if (a == w.p) {
    RefuseBatchAxis(x, &w, a, label, !strcmp(node->op_type, "Split") ? "splits" : "concatenates along", st);
    return;
  }
  SetIntAttr(node, "axis", Canon(&w, a), st);
  PlanFrom(plan, &w, w.p);
}

/* HessaOnnxLayoutBefore - see onnx_impl.h. */
void HessaOnnxLayoutBefore(HessaOnnxGraph *g, HessaOnnxNode *node, const HessaOnnxLayoutHooks *hooks, HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  const char *op    = node->op_type;
  int         first = -1, moved = -1;
  char        label[300], d[300];

  memset(plan, 0, sizeof *plan);
  for (int i = 0; i < node->n_in; i++) {
    const HessaOnnxValue *v = node->in[i] >= 0 ? &g->values[node->in[i]] : NULL;
    if (!v || !v->batched) continue;
    if (first < 0) first = i;
    if (moved < 0 && HessaOnnxLayoutMoved(v)) moved = i;
  }
  if (first < 0 || !op) return;
  HessaOnnxNodeLabel(node, label, sizeof label);
  if (!strcmp(op, "Transpose") && first == 0 && node->n_in == 1)
    TransposeLayout(g, node, label, plan, st);
  else if (!strcmp(op, "Reshape") && first == 0)
    ReshapeLayout(g, node, label, plan, st);
  else if (moved < 0)
    return;
  else if (IsElementwise(op))
    ElementwiseLayout(g, node, moved, label, plan, st);
  else if (!strcmp(op, "Gather") && moved == 1 && node->n_in == 2 && !g->values[node->in[0]].batched && HessaOnnxAttrInt(node, "axis", 0) == 0) {
    View w; /* an embedding of token ids whose batch is at axis p: the output's batch is at p too */
    GetView(&g->values[node->in[1]], &w);
    PlanFrom(plan, &w, w.p);
  } else if (!strcmp(op, "MatMul") && node->n_in == 2)
    MatMulLayout(g, node, label, plan, st);
  else if (!strcmp(op, "Gemm"))
    GemmLayout(g, node, label, plan, st);
  else if ((!strcmp(op, "Softmax") || !strcmp(op, "LogSoftmax")) && moved == 0)
    SoftmaxLayout(g, node, label, plan, st);
  else if (!strcmp(op, "LayerNormalization") && moved == 0)
    LayerNormLayout(g, node, label, plan, st);
  else if ((!strcmp(op, "ReduceMean") || !strcmp(op, "ReduceSum")) && moved == 0)
    ReduceLayout(g, node, hooks, label, plan, st);
  else if (!strcmp(op, "Concat") || (!strcmp(op, "Split") && moved == 0))
    ConcatSplitLayout(g, node, moved, label, plan, st);
  else if (!strcmp(op, "Slice") && moved == 0)
    SliceLayout(g, node, hooks, label, plan, st);
  else
    HessaStatusSet(st, HESSA_ERR_INPUT,
                   "%s: input %s holds the batch at another place than alone in axis 0 (a Transpose or Reshape moved or merged it); hessa translates only Transpose, Reshape, MatMul, Gemm, Softmax, LogSoftmax, LayerNormalization, "
                   "ReduceMean, ReduceSum, Slice, Concat, Split, elementwise ops and an embedding Gather on such a value",
                   label, Describe(&g->values[node->in[moved]], d, sizeof d));
}

/* HessaOnnxLayoutAfter - see onnx_impl.h. */
void HessaOnnxLayoutAfter(HessaOnnxGraph *g, HessaOnnxNode *node, const HessaOnnxLayoutPlan *plan, HessaStatus *st)
{
  char label[300], s[200];

  for (int k = 0; k < plan->n_swap; k++) { /* the shared operands as they are */
    HessaOnnxValue *v = &g->values[plan->swap[k]];
    v->ndim           = plan->swap_ndim[k];
    memcpy(v->dims, plan->swap_dims[k], sizeof v->dims);
  }
  if (!plan->set || st->code) return;
  for (int o = 0; o < node->n_out; o++) {
    HessaOnnxValue *y = node->out[o] >= 0 ? &g->values[node->out[o]] : NULL;
    int             R;
    if (!y || !y->batched) continue;
    y->lay_axis = plan->axis;
    y->lay_ka   = plan->ka;
    y->lay_kb   = plan->kb;
    R           = y->ndim - (plan->ka > 0 ? 1 : 0);
    /* what infer made must be the per-sample form of the planned ONNX shape */
    if (plan->axis < 0 || plan->axis >= R || (plan->ka > 0 && y->dims[plan->axis + 1] != plan->ka * plan->kb)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: output '%s' of per-sample shape %s does not match the batch at ONNX axis %d (an internal inconsistency of the layout layer)", HessaOnnxNodeLabel(node, label, sizeof label), y->name,
                     HessaOnnxDimsString(y->ndim, y->dims, s, sizeof s), plan->axis);
      return;
    }
  }
}
