/* ONNX shape ops: Flatten, Reshape, Transpose, Pad (constant mode) and Concat. The
 * contract is in onnx_impl.h.
 *
 * All five are linear in their data inputs, so they have no sot: the jvp is the forward
 * applied to the tangents (with a zero padding value), and the backward is the adjoint
 * map (a copy back, the inverse permutation, the crop of the padding, the split of the
 * concatenation). The batch axis never moves: every op works on one sample's row at a
 * time and refuses at load what would merge, move or pad the batch.
 *
 * Rows: a batched value has m rows (forward), m*b (tangents) or m*nb (adjoints) of its
 * per-sample size; a value that is not batched has 1, b or nb rows. A non-batched Concat
 * input inside a batched Concat is shared by every sample: its tangent row for block row
 * r is r % b and its adjoint row r % nb, summed over the samples.
 */
#include "onnx_impl.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* what to do about the usual source of a batch that moves or merges with the heads */
#define ATTENTION_HINT " (docs/onnx.md section 2.2 says which layouts of the batch load)"

/* ---- load-time helpers ----------------------------------------------------------------- */

/* The per-sample shape of v: dims after the batch when batched, all dims otherwise. */
static int PerSampleDims(const HessaOnnxValue *v, int64_t *d)
{
  int q = v->batched ? v->ndim - 1 : v->ndim;
  for (int k = 0; k < q; k++) d[k] = v->dims[k + (v->batched ? 1 : 0)];
  return q;
}

/* Check the node's counts and that input 0 is a float tensor; the label for messages. */
static int CheckArity(HessaOnnxGraph *g, HessaOnnxNode *node, int min_in, int max_in, char *label, size_t len, HessaStatus *st)
{
  HessaOnnxNodeLabel(node, label, len);
  if (node->n_in < min_in || node->n_in > max_in || node->n_out != 1 || node->out[0] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected %d to %d inputs and 1 output, found %d inputs and %d outputs", label, min_in, max_in, node->n_in, node->n_out);
    return 0;
  }
  for (int i = 0; i < min_in; i++) {
    if (node->in[i] < 0) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input %d is required but absent", label, i);
      return 0;
    }
  }
  if (g->values[node->in[0]].is_int) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a floating-point data input, found '%s' of integer type %d (integer shape arithmetic must be constant so that it folds at load)", label, g->values[node->in[0]].name,
                   g->values[node->in[0]].elem_type);
    return 0;
  }
  return 1;
}

/* The integers of a constant input (a 1-D int64 tensor), or NULL with st set. */
static const int64_t *ConstInts(HessaOnnxGraph *g, int v, const char *what, const char *label, int64_t *n, HessaStatus *st)
{
  const HessaOnnxValue *c = &g->values[v];

  if (c->kind != HESSA_ONNX_CONST || !c->is_int || !c->ivalue || c->ndim != 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected %s '%s' to be a constant 1-D integer tensor, found %s%s of rank %d", label, what, c->name, c->kind == HESSA_ONNX_CONST ? "a constant" : "a value computed at run time or a parameter",
                   c->is_int ? "" : " of floating-point type", c->ndim);
    return NULL;
  }
  *n = c->size;
  return c->ivalue;
}

/* Set y from x's element type and differentiability and the given shape. */
static void SetOutput(HessaOnnxGraph *g, HessaOnnxNode *node, int ndim, const int64_t *dims, int batched, int differentiable)
{
  HessaOnnxValue *y = &g->values[node->out[0]];

  HessaOnnxValueSetShape(y, ndim, dims, batched);
  y->elem_type         = g->values[node->in[0]].elem_type;
  y->is_int            = 0;
  y->differentiable    = differentiable;
  node->aux_per_sample = 0;
}

static int SetOpData(HessaOnnxGraph *g, HessaOnnxNode *node, void *data, const char *label, HessaStatus *st)
{
  if (!data) {
    HessaStatusSet(st, PETSC_ERR_MEM, "%s: out of memory", label);
    return 0;
  }
  free(node->op_data);
  node->op_data = data;
  return 1;
}

/* rows of input 0: m samples when batched, one row otherwise */
static inline size_t InputRows(const HessaOnnxKernel *K)
{
  return K->g->values[K->node->in[0]].batched ? (size_t)K->m : 1;
}

/* ---- copies: Flatten and Reshape keep the row-major data as it is ---------------------- */

static PetscErrorCode CopyForward(HessaOnnxKernel *K)
{
  size_t n = InputRows(K) * (size_t)K->g->values[K->node->in[0]].size;

  PetscFunctionBegin;
  if (K->y[0] != K->x[0]) memcpy(K->y[0], K->x[0], n * sizeof(double));
  PetscFunctionReturn(0);
}

static PetscErrorCode CopyBackward(HessaOnnxKernel *K)
{
  size_t n = InputRows(K) * (size_t)K->nb * (size_t)K->g->values[K->node->in[0]].size;

  PetscFunctionBegin;
  if (!K->dx[0]) PetscFunctionReturn(0);
  for (size_t k = 0; k < n; k++) K->dx[0][k] += K->dy[0][k];
  PetscFunctionReturn(0);
}

static PetscErrorCode CopyJvp(HessaOnnxKernel *K)
{
  size_t n = InputRows(K) * (size_t)K->nb * (size_t)K->g->values[K->node->in[0]].size;

  PetscFunctionBegin;
  if (!K->tx[0])
    memset(K->ty[0], 0, n * sizeof(double));
  else
    memcpy(K->ty[0], K->tx[0], n * sizeof(double));
  PetscFunctionReturn(0);
}

/* ---- Flatten ---------------------------------------------------------------------------- */

/* [d0, ..., dr-1] -> [d0 ... d(axis-1), d(axis) ... d(r-1)]; for a batched input only
 * axis >= 1 with d1 ... d(axis-1) all 1 keeps the batch as the first axis. */
static void FlattenInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[256], buf[256];
  const HessaOnnxValue *x;
  int64_t               axis, r, odims[2] = {1, 1};

  if (!CheckArity(g, node, 1, 1, label, sizeof label, st)) return;
  x    = &g->values[node->in[0]];
  r    = x->ndim;
  axis = HessaOnnxAttrInt(node, "axis", 1);
  if (axis < -r || axis > r) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected axis in [%" PRId64 ", %" PRId64 "] for input '%s' of shape %s, found %" PRId64, label, -r, r, x->name, HessaOnnxDimsTuple(x->ndim, x->dims, buf, sizeof buf), axis);
    return;
  }
  if (axis < 0) axis += r;
  for (int64_t k = 0; k < r; k++)
    if (!(x->batched && k == 0)) odims[k < axis ? 0 : 1] *= x->dims[k];
  if (x->batched) {
    if (axis == 0 || odims[0] != 1) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axis %" PRId64 " of input '%s' of shape %s merges the batch with other axes; expected axis 1 (or the axes between the batch and axis all of size 1)", label, axis, x->name,
                     HessaOnnxDimsTuple(x->ndim, x->dims, buf, sizeof buf));
      return;
    }
    odims[0] = HESSA_ONNX_BATCH;
  }
  SetOutput(g, node, 2, odims, x->batched, x->differentiable);
}

/* ---- Reshape ---------------------------------------------------------------------------- */

/* The target shape comes from a constant input (opset >= 5) or the "shape" attribute.
 * Entries: 0 copies the input's dim (allowzero = 0), -1 is inferred. For a batched input
 * the first entry must keep the batch: HESSA_ONNX_BATCH (from Shape), 0, -1 with the
 * other entries giving exactly one sample's size, or a positive number with the others
 * giving one sample's size (then it is the batch the graph was exported with). */
static void ReshapeInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[256], b1[256], b2[256];
  const HessaOnnxValue *x;
  const HessaOnnxAttr  *attr;
  const int64_t        *t  = NULL;
  int64_t               nt = 0, allowzero, target, prod = 1, out[HESSA_ONNX_MAX_DIMS];
  int                   start = 0, neg = -1, fixed_first = 0;

  if (!CheckArity(g, node, 1, 2, label, sizeof label, st)) return;
  x         = &g->values[node->in[0]];
  allowzero = HessaOnnxAttrInt(node, "allowzero", 0);
  if (node->n_in == 2 && node->in[1] >= 0) {
    if (!(t = ConstInts(g, node->in[1], "the shape input", label, &nt, st))) return;
  } else if ((attr = HessaOnnxAttrGet(node, "shape")) && attr->type == HESSA_ONNX_ATTR_INTS) {
    t  = attr->ints;
    nt = attr->n;
  } else {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a shape input (or a shape attribute before opset 5), found neither", label);
    return;
  }
  if (nt > HESSA_ONNX_MAX_DIMS || (x->batched && nt < 1)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a target shape of %d to %d dimensions, found %" PRId64, label, x->batched ? 1 : 0, HESSA_ONNX_MAX_DIMS, nt);
    return;
  }
  target = x->size;
  if (x->batched) {
    int64_t t0 = t[0];

    if (t0 == -1 || t0 > 0)
      fixed_first = 1;
    else if (!(t0 == HESSA_ONNX_BATCH || (t0 == 0 && !allowzero))) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s of batched input '%s' of shape %s does not keep the batch as its first axis%s", label, HessaOnnxDimsTuple((int)nt, t, b1, sizeof b1), x->name,
                     HessaOnnxDimsTuple(x->ndim, x->dims, b2, sizeof b2), ATTENTION_HINT);
      return;
    }
    out[0] = HESSA_ONNX_BATCH;
    start  = 1;
  }
  for (int i = start; i < nt; i++) {
    int64_t ti = t[i];

    if (HessaOnnxIsBatchEntry(ti)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s puts the batch at axis %d; %s", label, HessaOnnxDimsTuple((int)nt, t, b1, sizeof b1), i, x->batched ? "the batch must stay the first axis" : "the input does not depend on the batch");
      return;
    }
    if (ti == 0 && !allowzero) {
      if (i >= x->ndim) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s copies dimension %d of input '%s' of shape %s, which has only %d", label, HessaOnnxDimsTuple((int)nt, t, b1, sizeof b1), i, x->name, HessaOnnxDimsTuple(x->ndim, x->dims, b2, sizeof b2),
                       x->ndim);
        return;
      }
      out[i] = x->dims[i];
    } else if (ti == -1) {
      if (neg >= 0 || (x->batched && t[0] == -1)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s has more than one -1", label, HessaOnnxDimsTuple((int)nt, t, b1, sizeof b1));
        return;
      }
      neg = i;
      continue;
    } else if (ti < 1) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected positive entries, 0 or -1 in target shape %s, found %" PRId64 " at %d%s", label, HessaOnnxDimsTuple((int)nt, t, b1, sizeof b1), ti, i,
                     ti == 0 ? " (allowzero = 1: empty tensors are not supported)" : "");
      return;
    } else
      out[i] = ti;
    if (out[i] > target || (prod *= out[i]) > target) break; /* a mismatch, reported below; no overflow */
  }
  if (neg >= 0 && fixed_first) {
    HessaStatusSet(st, HESSA_ERR_INPUT,
                   "%s: target shape %s of batched input '%s' of shape %s: cannot tell whether a first entry %" PRId64
                   " with a -1 at axis %d keeps the batch; export the model so that the first entry comes from the input's shape (x.view(x.size(0), -1)) or use Flatten",
                   label, HessaOnnxDimsTuple((int)nt, t, b1, sizeof b1), x->name, HessaOnnxDimsTuple(x->ndim, x->dims, b2, sizeof b2), t[0], neg);
    return;
  }
  if (neg >= 0 && prod <= target && target % prod == 0) {
    out[neg] = target / prod;
    prod     = target;
  }
  if (prod != target) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: target shape %s does not fit input '%s' of shape %s (%" PRId64 " elements%s)%s", label, HessaOnnxDimsTuple((int)nt, t, b1, sizeof b1), x->name, HessaOnnxDimsTuple(x->ndim, x->dims, b2, sizeof b2), target,
                   x->batched ? " per sample" : "", fixed_first ? ": it merges or splits the batch" : "");
    return;
  }
  SetOutput(g, node, (int)nt, out, x->batched, x->differentiable);
}

/* ---- Transpose ---------------------------------------------------------------------------- */

typedef struct {
  int     q;                              /* per-sample rank */
  int64_t size;                           /* per-sample elements */
  int64_t odims[HESSA_ONNX_MAX_DIMS];     /* per-sample output dims */
  int64_t in_stride[HESSA_ONNX_MAX_DIMS]; /* input stride of output axis k */
} Transpose;

static void TransposeInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[256], buf[256];
  const HessaOnnxValue *x;
  const HessaOnnxAttr  *attr;
  Transpose            *p;
  int64_t               perm[HESSA_ONNX_MAX_DIMS] = {0}, odims[HESSA_ONNX_MAX_DIMS], idims[HESSA_ONNX_MAX_DIMS], stride[HESSA_ONNX_MAX_DIMS];
  int                   r, seen[HESSA_ONNX_MAX_DIMS] = {0}, off;

  if (!CheckArity(g, node, 1, 1, label, sizeof label, st)) return;
  x = &g->values[node->in[0]];
  r = x->ndim;
  if ((attr = HessaOnnxAttrGet(node, "perm"))) {
    if (attr->type != HESSA_ONNX_ATTR_INTS || attr->n != r) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected perm of %d integers for input '%s' of shape %s, found %" PRId64 " entries", label, r, x->name, HessaOnnxDimsTuple(r, x->dims, buf, sizeof buf), attr->type == HESSA_ONNX_ATTR_INTS ? attr->n : 0);
      return;
    }
    for (int k = 0; k < r; k++) {
      int64_t pk = attr->ints[k];
      if (pk < 0 || pk >= r || seen[pk]) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: perm is not a permutation of 0 .. %d (entry %d is %" PRId64 ")", label, r - 1, k, pk);
        return;
      }
      seen[pk] = 1;
      perm[k]  = pk;
    }
  } else
    for (int k = 0; k < r; k++) perm[k] = r - 1 - k;
  if (x->batched && perm[0] != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the permutation moves the batch axis of input '%s' of shape %s (perm[0] = %" PRId64 "); expected the batch to stay first%s", label, x->name, HessaOnnxDimsTuple(r, x->dims, buf, sizeof buf), perm[0],
                   ATTENTION_HINT);
    return;
  }
  for (int k = 0; k < r; k++) odims[k] = x->dims[perm[k]];
  if (!SetOpData(g, node, p = (Transpose *)calloc(1, sizeof *p), label, st)) return;
  /* per sample: drop the batch axis from the permutation */
  off  = x->batched ? 1 : 0;
  p->q = PerSampleDims(x, idims);
  for (int64_t k = p->q - 1, s = 1; k >= 0; k--) stride[k] = s, s *= idims[k];
  for (int k = 0; k < p->q; k++) {
    p->odims[k]     = idims[perm[k + off] - off];
    p->in_stride[k] = stride[perm[k + off] - off];
  }
  p->size = x->size;
  SetOutput(g, node, r, odims, x->batched, x->differentiable);
}

/* One sample: out [size] = the permutation of in [size]. */
static void TransposeRow(const Transpose *p, const double *in, double *out)
{
  int64_t idx[HESSA_ONNX_MAX_DIMS] = {0}, off = 0;

  if (p->q == 0) {
    out[0] = in[0];
    return;
  }
  for (int64_t e = 0; e < p->size; e++) {
    out[e] = in[off];
    for (int k = p->q - 1; k >= 0; k--) { /* odometer over the output index */
      off += p->in_stride[k];
      if (++idx[k] < p->odims[k]) break;
      off -= p->in_stride[k] * p->odims[k];
      idx[k] = 0;
    }
  }
}

/* The adjoint: din [size] += the inverse permutation of dout [size]. */
static void TransposeRowAdjoint(const Transpose *p, const double *dout, double *din)
{
  int64_t idx[HESSA_ONNX_MAX_DIMS] = {0}, off = 0;

  if (p->q == 0) {
    din[0] += dout[0];
    return;
  }
  for (int64_t e = 0; e < p->size; e++) {
    din[off] += dout[e];
    for (int k = p->q - 1; k >= 0; k--) {
      off += p->in_stride[k];
      if (++idx[k] < p->odims[k]) break;
      off -= p->in_stride[k] * p->odims[k];
      idx[k] = 0;
    }
  }
}

static PetscErrorCode TransposeForward(HessaOnnxKernel *K)
{
  const Transpose *p = (const Transpose *)K->node->op_data;

  PetscFunctionBegin;
  for (size_t r = 0; r < InputRows(K); r++) TransposeRow(p, K->x[0] + r * p->size, K->y[0] + r * p->size);
  PetscFunctionReturn(0);
}

static PetscErrorCode TransposeBackward(HessaOnnxKernel *K)
{
  const Transpose *p = (const Transpose *)K->node->op_data;

  PetscFunctionBegin;
  if (!K->dx[0]) PetscFunctionReturn(0);
  for (size_t r = 0; r < InputRows(K) * (size_t)K->nb; r++) TransposeRowAdjoint(p, K->dy[0] + r * p->size, K->dx[0] + r * p->size);
  PetscFunctionReturn(0);
}

static PetscErrorCode TransposeJvp(HessaOnnxKernel *K)
{
  const Transpose *p    = (const Transpose *)K->node->op_data;
  size_t           rows = InputRows(K) * (size_t)K->nb;

  PetscFunctionBegin;
  if (!K->tx[0])
    memset(K->ty[0], 0, rows * p->size * sizeof(double));
  else
    for (size_t r = 0; r < rows; r++) TransposeRow(p, K->tx[0] + r * p->size, K->ty[0] + r * p->size);
  PetscFunctionReturn(0);
}

/* ---- Pad ---------------------------------------------------------------------------------- */

typedef struct {
  int     q;            /* per-sample rank (at least 1) */
  int64_t isize, osize; /* per-sample elements */
  int64_t idims[HESSA_ONNX_MAX_DIMS], odims[HESSA_ONNX_MAX_DIMS];
  int64_t begin[HESSA_ONNX_MAX_DIMS]; /* pads before each axis (< 0: crop) */
  int64_t in_stride[HESSA_ONNX_MAX_DIMS];
  double  value; /* the constant outside the input */
} Pad;

/* Pads come from input 1 (opset >= 11; with input 2 the constant and input 3 the axes) or
 * from the "pads" and "value" attributes (older opsets). Layout [b_1 .. b_k, e_1 .. e_k]. */
static void PadInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[256], buf[256];
  const HessaOnnxValue *x;
  const HessaOnnxAttr  *mode, *attr;
  const int64_t        *pads = NULL, *axes_in = NULL;
  int64_t               npads = 0, naxes, begin[HESSA_ONNX_MAX_DIMS] = {0}, end[HESSA_ONNX_MAX_DIMS] = {0}, odims[HESSA_ONNX_MAX_DIMS], idims[HESSA_ONNX_MAX_DIMS];
  int                   r, axes[HESSA_ONNX_MAX_DIMS], seen[HESSA_ONNX_MAX_DIMS] = {0}, off;
  double                value = 0.0;
  Pad                  *p;

  if (!CheckArity(g, node, 1, 4, label, sizeof label, st)) return;
  x = &g->values[node->in[0]];
  r = x->ndim;
  if ((mode = HessaOnnxAttrGet(node, "mode")) && (mode->type != HESSA_ONNX_ATTR_STRING || strcmp(mode->s, "constant"))) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected mode 'constant', found '%s' (reflect, edge and wrap padding are not supported)", label, mode->type == HESSA_ONNX_ATTR_STRING ? mode->s : "?");
    return;
  }
  naxes = r;
  for (int k = 0; k < r; k++) axes[k] = k;
  if (node->n_in >= 2 && node->in[1] >= 0) {
    if (!(pads = ConstInts(g, node->in[1], "the pads input", label, &npads, st))) return;
    if (node->n_in >= 3 && node->in[2] >= 0) {
      const HessaOnnxValue *c = &g->values[node->in[2]];

      if (c->kind != HESSA_ONNX_CONST || c->size != 1 || (c->is_int ? !c->ivalue : !c->value)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a constant scalar constant_value (input 2), found '%s' that is not one", label, c->name);
        return;
      }
      value = c->is_int ? (double)c->ivalue[0] : c->value[0];
    }
    if (node->n_in >= 4 && node->in[3] >= 0) {
      if (!(axes_in = ConstInts(g, node->in[3], "the axes input", label, &naxes, st))) return;
      if (naxes > r) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected at most %d axes, found %" PRId64, label, r, naxes);
        return;
      }
      for (int64_t i = 0; i < naxes; i++) {
        int64_t a = axes_in[i] < 0 ? axes_in[i] + r : axes_in[i];
        if (a < 0 || a >= r || seen[a]) {
          HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axes entry %" PRId64 " is out of range or repeated for input '%s' of rank %d", label, axes_in[i], x->name, r);
          return;
        }
        seen[a] = 1;
        axes[i] = (int)a;
      }
    }
  } else if ((attr = HessaOnnxAttrGet(node, "pads")) && attr->type == HESSA_ONNX_ATTR_INTS) {
    pads  = attr->ints;
    npads = attr->n;
    value = HessaOnnxAttrFloat(node, "value", 0.0);
  } else {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a pads input (or a pads attribute before opset 11), found neither", label);
    return;
  }
  if (npads != 2 * naxes) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected %" PRId64 " pads (begin and end of %" PRId64 " axes), found %" PRId64, label, 2 * naxes, naxes, npads);
    return;
  }
  if (!isfinite(value)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a finite padding value, found %g", label, value);
    return;
  }
  for (int64_t i = 0; i < naxes; i++) begin[axes[i]] = pads[i], end[axes[i]] = pads[i + naxes];
  if (x->batched && (begin[0] || end[0])) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: pads the batch axis of input '%s' (by %" PRId64 " before and %" PRId64 " after); expected 0", label, x->name, begin[0], end[0]);
    return;
  }
  for (int k = 0; k < r; k++) {
    if (x->batched && k == 0) {
      odims[0] = HESSA_ONNX_BATCH;
      continue;
    }
    if (begin[k] < -x->dims[k] || end[k] < -x->dims[k] || begin[k] > INT32_MAX || end[k] > INT32_MAX || (odims[k] = x->dims[k] + begin[k] + end[k]) < 1) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: pads %" PRId64 ", %" PRId64 " on axis %d of input '%s' of shape %s leave no element or are out of range", label, begin[k], end[k], k, x->name, HessaOnnxDimsTuple(r, x->dims, buf, sizeof buf));
      return;
    }
  }
  if (!SetOpData(g, node, p = (Pad *)calloc(1, sizeof *p), label, st)) return;
  off  = x->batched ? 1 : 0;
  p->q = PerSampleDims(x, idims);
  for (int k = 0; k < p->q; k++) p->idims[k] = idims[k], p->odims[k] = odims[k + off], p->begin[k] = begin[k + off];
  if (p->q == 0) p->q = 1, p->idims[0] = p->odims[0] = 1, p->begin[0] = 0; /* a scalar per sample */
  p->isize = p->osize = 1;
  for (int k = p->q - 1; k >= 0; k--) p->in_stride[k] = p->isize, p->isize *= p->idims[k], p->osize *= p->odims[k];
  p->value = value;
  SetOutput(g, node, r, odims, x->batched, x->differentiable);
}

/* Where line `line` of the output (its last axis) reads the input: returns 0 when it lies
 * wholly in the padding, else 1 with *off the input offset of output position 0 of the
 * line (positions lo .. hi-1 are read). idx: the line's index over the other axes. */
static int PadLine(const Pad *p, const int64_t *idx, int64_t *off)
{
  *off = -p->begin[p->q - 1];
  for (int k = 0; k < p->q - 1; k++) {
    int64_t i = idx[k] - p->begin[k];
    if (i < 0 || i >= p->idims[k]) return 0;
    *off += i * p->in_stride[k];
  }
  return 1;
}

static void PadNextLine(const Pad *p, int64_t *idx)
{
  for (int k = p->q - 2; k >= 0; k--) {
    if (++idx[k] < p->odims[k]) break;
    idx[k] = 0;
  }
}

/* The output span [lo, hi) of the last axis that is read from the input (may be empty). */
static void PadSpan(const Pad *p, int64_t *lo, int64_t *hi)
{
  const int64_t L = p->odims[p->q - 1], b = p->begin[p->q - 1], n = p->idims[p->q - 1];

  *lo = b > 0 ? b : 0;
  *hi = b + n < L ? b + n : L;
  if (*hi < *lo) *hi = *lo;
}

/* One sample: out [osize] = pad(in [isize]) with `fill` outside the input. */
static void PadRow(const Pad *p, const double *in, double *out, double fill)
{
  const int64_t L = p->odims[p->q - 1], lines = p->osize / L;
  int64_t       idx[HESSA_ONNX_MAX_DIMS] = {0}, lo, hi, off;

  PadSpan(p, &lo, &hi);
  for (int64_t line = 0; line < lines; line++, PadNextLine(p, idx)) {
    double *o      = out + line * L;
    int     inside = PadLine(p, idx, &off) && hi > lo;

    for (int64_t j = 0; j < (inside ? lo : L); j++) o[j] = fill;
    if (!inside) continue;
    memcpy(o + lo, in + off + lo, (size_t)(hi - lo) * sizeof(double));
    for (int64_t j = hi; j < L; j++) o[j] = fill;
  }
}

/* The adjoint: din [isize] += the part of dout [osize] that the input filled (a crop). */
static void PadRowAdjoint(const Pad *p, const double *dout, double *din)
{
  const int64_t L = p->odims[p->q - 1], lines = p->osize / L;
  int64_t       idx[HESSA_ONNX_MAX_DIMS] = {0}, lo, hi, off;

  PadSpan(p, &lo, &hi);
  for (int64_t line = 0; line < lines; line++, PadNextLine(p, idx)) {
    const double *o = dout + line * L;

    if (!PadLine(p, idx, &off)) continue;
    for (int64_t j = lo; j < hi; j++) din[off + j] += o[j];
  }
}

static PetscErrorCode PadForward(HessaOnnxKernel *K)
{
  const Pad *p = (const Pad *)K->node->op_data;

  PetscFunctionBegin;
  for (size_t r = 0; r < InputRows(K); r++) PadRow(p, K->x[0] + r * p->isize, K->y[0] + r * p->osize, p->value);
  PetscFunctionReturn(0);
}

static PetscErrorCode PadBackward(HessaOnnxKernel *K)
{
  const Pad *p = (const Pad *)K->node->op_data;

  PetscFunctionBegin;
  if (!K->dx[0]) PetscFunctionReturn(0);
  for (size_t r = 0; r < InputRows(K) * (size_t)K->nb; r++) PadRowAdjoint(p, K->dy[0] + r * p->osize, K->dx[0] + r * p->isize);
  PetscFunctionReturn(0);
}

/* the padding value is a constant: the tangent is zero outside the input */
static PetscErrorCode PadJvp(HessaOnnxKernel *K)
{
  const Pad *p    = (const Pad *)K->node->op_data;
  size_t     rows = InputRows(K) * (size_t)K->nb;

  PetscFunctionBegin;
  if (!K->tx[0])
    memset(K->ty[0], 0, rows * p->osize * sizeof(double));
  else
    for (size_t r = 0; r < rows; r++) PadRow(p, K->tx[0] + r * p->isize, K->ty[0] + r * p->osize, 0.0);
  PetscFunctionReturn(0);
}

/* ---- Concat ------------------------------------------------------------------------------- */

typedef struct {
  int     n;         /* inputs */
  int     batched;   /* the output is */
  int64_t outer;     /* product of the per-sample dims before the axis */
  int64_t out_inner; /* output elements per outer index */
  struct {
    int64_t inner;   /* elements per outer index */
    int     batched; /* else shared by every sample */
  } part[];
} Concat;

/* Inputs of equal rank and equal dims except on the axis. In a batched Concat an input
 * that is not batched must have a first dim of 1 (a graph exported with batch 1): every
 * sample gets the same copy of it. */
static void ConcatInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[256], b1[256], b2[256];
  const HessaOnnxValue *x0;
  const HessaOnnxAttr  *attr;
  int64_t               axis, ref[HESSA_ONNX_MAX_DIMS], d[HESSA_ONNX_MAX_DIMS], odims[HESSA_ONNX_MAX_DIMS + 1];
  int                   r, q, a, batched = 0, differentiable = 0, off;
  Concat               *c;

  HessaOnnxNodeLabel(node, label, sizeof label);
  if (node->n_in < 1 || node->n_out != 1 || node->out[0] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected at least 1 input and 1 output, found %d inputs and %d outputs", label, node->n_in, node->n_out);
    return;
  }
  for (int k = 0; k < node->n_in; k++) {
    const HessaOnnxValue *v;
    if (node->in[k] < 0) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input %d is absent", label, k);
      return;
    }
    v = &g->values[node->in[k]];
    if (v->is_int) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected floating-point inputs, found '%s' of integer type %d (integer shape arithmetic must be constant so that it folds at load)", label, v->name, v->elem_type);
      return;
    }
    batched |= v->batched;
    differentiable |= v->differentiable;
  }
  x0 = &g->values[node->in[0]];
  r  = x0->ndim;
  if (!(attr = HessaOnnxAttrGet(node, "axis")) && g->opset >= 4) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the axis attribute is required", label);
    return;
  }
  axis = HessaOnnxAttrInt(node, "axis", 1);
  if (r < 1 || axis < -r || axis >= r) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected axis in [%d, %d] for inputs of rank %d, found %" PRId64, label, -r, r - 1, r, axis);
    return;
  }
  if (axis < 0) axis += r;
  if (batched && axis == 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: concatenates along the batch axis; expected another axis", label);
    return;
  }
  /* per-sample shapes: drop the batch (or the leading 1 of a shared input) */
  off = batched ? 1 : 0;
  q   = r - off;
  a   = (int)axis - off;
  for (int k = 0; k < node->n_in; k++) {
    const HessaOnnxValue *v = &g->values[node->in[k]];

    if (v->ndim != r || (batched && !v->batched && v->dims[0] != 1)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input %d '%s' of shape %s does not fit input 0 '%s' of shape %s%s", label, k, v->name, HessaOnnxDimsTuple(v->ndim, v->dims, b1, sizeof b1), x0->name, HessaOnnxDimsTuple(r, x0->dims, b2, sizeof b2),
                     v->ndim == r ? " (an input without the batch must have a first dimension of 1 to be shared by every sample)" : "");
      return;
    }
    for (int j = 0; j < q; j++) d[j] = v->dims[j + off];
    if (k == 0)
      memcpy(ref, d, sizeof(int64_t) * (size_t)q);
    else {
      for (int j = 0; j < q; j++)
        if (j != a && d[j] != ref[j]) {
          HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input %d '%s' of shape %s does not fit input 0 '%s' of shape %s outside axis %" PRId64, label, k, v->name, HessaOnnxDimsTuple(v->ndim, v->dims, b1, sizeof b1), x0->name,
                         HessaOnnxDimsTuple(r, x0->dims, b2, sizeof b2), axis);
          return;
        }
      ref[a] += d[a];
    }
  }
  if (!SetOpData(g, node, c = (Concat *)calloc(1, sizeof *c + (size_t)node->n_in * sizeof c->part[0]), label, st)) return;
  c->n       = node->n_in;
  c->batched = batched;
  c->outer   = 1;
  for (int j = 0; j < a; j++) c->outer *= ref[j];
  for (int k = 0; k < node->n_in; k++) {
    const HessaOnnxValue *v = &g->values[node->in[k]];

    c->part[k].inner = 1;
    for (int j = a; j < q; j++) c->part[k].inner *= v->dims[j + off];
    c->part[k].batched = v->batched;
    c->out_inner += c->part[k].inner;
  }
  if (batched) odims[0] = HESSA_ONNX_BATCH;
  memcpy(odims + off, ref, sizeof(int64_t) * (size_t)q);
  SetOutput(g, node, r, odims, batched, differentiable);
}

/* rows output rows; the input row of output row r is r for a batched input, r % per
 * (per = 1 forward, b jvp, nb backward) for a shared one. in[k] NULL: zeros. */
static void ConcatRows(const Concat *c, size_t rows, size_t per, const double *const *in, double *out)
{
  for (size_t r = 0; r < rows; r++) {
    double *o = out + r * (size_t)(c->outer * c->out_inner);

    for (int64_t i = 0; i < c->outer; i++)
      for (int k = 0; k < c->n; k++) {
        size_t inner = (size_t)c->part[k].inner, row = c->part[k].batched ? r : r % per;

        if (in[k])
          memcpy(o, in[k] + (row * (size_t)c->outer + (size_t)i) * inner, inner * sizeof(double));
        else
          memset(o, 0, inner * sizeof(double));
        o += inner;
      }
  }
}

static inline size_t OutputRows(const HessaOnnxKernel *K)
{
  return ((const Concat *)K->node->op_data)->batched ? (size_t)K->m : 1;
}

static PetscErrorCode ConcatForward(HessaOnnxKernel *K)
{
  PetscFunctionBegin;
  ConcatRows((const Concat *)K->node->op_data, OutputRows(K), 1, K->x, K->y[0]);
  PetscFunctionReturn(0);
}

static PetscErrorCode ConcatJvp(HessaOnnxKernel *K)
{
  PetscFunctionBegin;
  ConcatRows((const Concat *)K->node->op_data, OutputRows(K) * (size_t)K->nb, (size_t)K->nb, K->tx, K->ty[0]);
  PetscFunctionReturn(0);
}

/* dx_k [row] += its block of dy [r]; shared inputs sum over the samples */
static PetscErrorCode ConcatBackward(HessaOnnxKernel *K)
{
  const Concat *c  = (const Concat *)K->node->op_data;
  size_t        nb = (size_t)K->nb, rows = OutputRows(K) * nb;

  PetscFunctionBegin;
  for (size_t r = 0; r < rows; r++) {
    const double *o = K->dy[0] + r * (size_t)(c->outer * c->out_inner);

    for (int64_t i = 0; i < c->outer; i++)
      for (int k = 0; k < c->n; k++) {
        size_t inner = (size_t)c->part[k].inner, row = c->part[k].batched ? r : r % nb;

        if (K->dx[k]) {
          double *d = K->dx[k] + (row * (size_t)c->outer + (size_t)i) * inner;
          for (size_t j = 0; j < inner; j++) d[j] += o[j];
        }
        o += inner;
      }
  }
  PetscFunctionReturn(0);
}

/* The table. Reshape's shape, Pad's pads, constant_value and axes are never parameters. */
const HessaOnnxOp HessaOnnxOpsShape[] = {
    {"Flatten", FlattenInfer, CopyForward, CopyBackward, CopyJvp, NULL, 0},
    {"Reshape", ReshapeInfer, CopyForward, CopyBackward, CopyJvp, NULL, 1u << 1},
    {"Transpose", TransposeInfer, TransposeForward, TransposeBackward, TransposeJvp, NULL, 0},
    {"Pad", PadInfer, PadForward, PadBackward, PadJvp, NULL, (1u << 1) | (1u << 2) | (1u << 3)},
    {"Concat", ConcatInfer, ConcatForward, ConcatBackward, ConcatJvp, NULL, 0},
};
const int HessaOnnxOpsShapeCount = (int)(sizeof HessaOnnxOpsShape / sizeof HessaOnnxOpsShape[0]);
