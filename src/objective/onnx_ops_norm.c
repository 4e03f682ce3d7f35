/* ONNX kernels of the normalisation family: LayerNormalization (opset 17), the reductions
 * ReduceMean and ReduceSum, Softmax and LogSoftmax on any axis. The elementwise ops that
 * decomposed layer norms use (Pow, Sqrt, Exp, Log, Neg, Reciprocal) are rows of the
 * pointwise table (onnx_ops_pointwise.c). The contract is in onnx_impl.h.
 *
 * Layouts. A batched value is [m][size] (one row per sample), its tangents and R-adjoints
 * [m*b][size] (row i*b + j: sample i, direction j). An op whose input is not batched runs
 * in the parameter phase (or at load, folding constants) with m = 1, where the same
 * indexing holds. Scale and B of LayerNormalization are never batched: their tangents are
 * [b][D] and their adjoints [nb][D], summed over the samples.
 *
 * Math (per normalised row of D elements; sums over the row):
 *   LayerNorm  mu = mean x, s = 1/sqrt(mean (x - mu)^2 + eps), xh = (x - mu) s,
 *              y = g xh + B;  with a = dy g:  dx = s (a - mean a - xh mean(a xh)),
 *              jvp txh = s (tx - mean tx - xh tau), tau = mean(xh tx),
 *              sot dx += -s^2 tau (a - mean a - xh c) - s c txh - s xh mean(a txh),
 *              c = mean(a xh), plus the g-x cross terms (dg += dy txh, dx += J^T(dy tg)).
 *   Softmax    dx = y (dy - <dy, y>); ty = y (tx - <tx, y>); sot dx += ty (a - <a, y>) - y <a, ty>.
 *   LogSoftmax p = exp y: dx = dy - p sum dy; ty = tx - <p, tx>; sot dx += -(sum a) p (tx - <p, tx>).
 *   Reductions are linear (an index map from input to output element, and a scale).
 * All computed in float64 whatever LayerNormalization's stash_type says (PyTorch's float64
 * reference computes in float64 too). Softmax opset 13 normalises along one axis; below
 * opset 13 (node conformance cases only) along the flattened axes [axis, rank).
 * Aux: LayerNormalization keeps (mu, s) per normalised row; the others keep nothing. */
#include "onnx_impl.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- load-time helpers --------------------------------------------------------------------- */

/* An INT attribute (dflt when absent); one of another type is an error (st set), never
 * silently the default. */
static int64_t AttrIntChecked(const HessaOnnxNode *node, const char name[], int64_t dflt, HessaStatus *st)
{
  const HessaOnnxAttr *a = HessaOnnxAttrGet(node, name);
  char                 at[256];

  if (!a) return dflt;
  if (a->type != HESSA_ONNX_ATTR_INT) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected the attribute %s as an integer, found another type", HessaOnnxNodeLabel(node, at, sizeof at), name);
    return dflt;
  }
  return a->i;
}

/* Input 0: present, float, with known non-zero sizes per sample. */
static const HessaOnnxValue *DataInput(HessaOnnxGraph *g, const HessaOnnxNode *node, int n_in_min, int n_in_max, HessaStatus *st)
{
  char                  at[512];
  const HessaOnnxValue *x;

  if (node->n_in < n_in_min || node->n_in > n_in_max || node->in[0] < 0 || node->n_out < 1 || node->out[0] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected %d to %d inputs and an output, found %d inputs and %d outputs", HessaOnnxNodeLabel(node, at, sizeof at), n_in_min, n_in_max, node->n_in, node->n_out);
    return NULL;
  }
  x = &g->values[node->in[0]];
  if (x->is_int) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a floating-point input, found '%s' of integer type %d", HessaOnnxNodeLabel(node, at, sizeof at), x->name, x->elem_type);
    return NULL;
  }
  for (int d = x->batched ? 1 : 0; d < x->ndim; d++) {
    if (x->dims[d] < 1) {
      char s1[160];
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input '%s' of shape %s needs a known, non-zero size along axis %d", HessaOnnxNodeLabel(node, at, sizeof at), x->name, HessaOnnxDimsString(x->ndim, x->dims, s1, sizeof s1), d);
      return NULL;
    }
  }
  return x;
}

/* axis in [-rank, rank) as a non-negative axis, or -1 (st set) */
static int NormAxis(HessaOnnxGraph *g, const HessaOnnxNode *node, const HessaOnnxValue *x, int64_t axis, HessaStatus *st)
{
  char at[512], s1[160];

  if (axis < -x->ndim || axis >= x->ndim) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axis %" PRId64 " is out of range for the input '%s' of rank %d %s (expected -%d to %d)", HessaOnnxNodeLabel(node, at, sizeof at), axis, x->name, x->ndim,
                   HessaOnnxDimsString(x->ndim, x->dims, s1, sizeof s1), x->ndim, x->ndim - 1);
    return -1;
  }
  axis = axis < 0 ? axis + x->ndim : axis;
  if (x->batched && axis == 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axis 0 of '%s' is the batch (the data samples); hessa cannot normalise or reduce across samples (the loss is a sum over samples)", HessaOnnxNodeLabel(node, at, sizeof at), x->name);
    return -1;
  }
  return (int)axis;
}

/* Output 0 with X's float type, the given shape, batched as X, differentiable when any input is. */
static void SetOutput(HessaOnnxGraph *g, HessaOnnxNode *node, const HessaOnnxValue *x, int ndim, const int64_t *dims)
{
  HessaOnnxValue *y    = &g->values[node->out[0]];
  int             diff = 0;

  for (int i = 0; i < node->n_in; i++)
    if (node->in[i] >= 0) diff |= g->values[node->in[i]].differentiable;
  HessaOnnxValueSetShape(y, ndim, dims, x->batched);
  y->differentiable = diff;
  y->is_int         = 0;
  y->elem_type      = x->elem_type;
}

static void *OpData(HessaOnnxGraph *g, HessaOnnxNode *node, size_t bytes, HessaStatus *st)
{
  char  at[512];
  void *p = calloc(1, bytes ? bytes : 1);
  if (!p) {
    HessaStatusSet(st, PETSC_ERR_MEM, "%s: out of memory", HessaOnnxNodeLabel(node, at, sizeof at));
    return NULL;
  }
  free(node->op_data);
  node->op_data        = p;
  node->aux_per_sample = 0;
  return p;
}

/* rows of input 0: m samples when batched, one row otherwise (m is 1 then) */
static inline int64_t Rows(const HessaOnnxKernel *K)
{
  return K->g->values[K->node->in[0]].batched ? (int64_t)K->m : 1;
}

/* ---- ReduceMean, ReduceSum ------------------------------------------------------------------- */

typedef struct {
  int64_t  size_in, size_out; /* elements per row */
  double   scale;             /* 1 / (elements reduced into one) for the mean, 1 for the sum */
  int64_t *map;               /* [size_in] output element of each input element (in this block); NULL: identity */
} ReduceData;

/* The axes to reduce: the INTS attribute `axes` (ReduceMean before opset 18) or the constant
 * integer input 1 (ReduceSum from opset 13). n = -1: none given. */
static const int64_t *ReduceAxes(HessaOnnxGraph *g, HessaOnnxNode *node, int64_t *n, HessaStatus *st)
{
  char                 at[512];
  const HessaOnnxAttr *a = HessaOnnxAttrGet(node, "axes");

  *n = -1;
  if (node->n_in > 1 && node->in[1] >= 0) {
    const HessaOnnxValue *v = &g->values[node->in[1]];
    if (a) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axes are given both as an attribute and as input 1 ('%s'); expected one of them", HessaOnnxNodeLabel(node, at, sizeof at), v->name);
      return NULL;
    }
    if (v->kind != HESSA_ONNX_CONST || !v->is_int || !v->ivalue || v->ndim > 1) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected the axes (input 1) as a constant integer vector, found '%s'%s", HessaOnnxNodeLabel(node, at, sizeof at), v->name,
                     v->kind != HESSA_ONNX_CONST ? " computed at run time"
                     : !v->is_int                ? " of floating-point type"
                                                 : " that is not a vector");
      return NULL;
    }
    *n = v->size;
    return v->ivalue;
  }
  if (a) {
    if (a->type != HESSA_ONNX_ATTR_INTS) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected the attribute axes as a list of integers", HessaOnnxNodeLabel(node, at, sizeof at));
      return NULL;
    }
    *n = a->n;
    return a->ints;
  }
  return NULL;
}

static void ReduceInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st, int mean)
{
  char                  at[512], s1[160];
  const HessaOnnxValue *x = DataInput(g, node, 1, 2, st);
  const int64_t        *axes;
  int64_t               n_axes, dims[HESSA_ONNX_MAX_DIMS], count = 1;
  int                   reduce[HESSA_ONNX_MAX_DIMS] = {0}, keepdims, ndim = 0, noop;
  ReduceData           *d;

  if (!x) return;
  if (node->n_out != 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected 1 output, found %d", HessaOnnxNodeLabel(node, at, sizeof at), node->n_out);
    return;
  }
  keepdims = AttrIntChecked(node, "keepdims", 1, st) != 0;
  noop     = AttrIntChecked(node, "noop_with_empty_axes", 0, st) != 0;
  if (st->code) return;
  axes = ReduceAxes(g, node, &n_axes, st);
  if (st->code) return;
  if (n_axes <= 0 && noop) { /* no axes and noop_with_empty_axes: the identity */
    if (!(d = (ReduceData *)OpData(g, node, sizeof *d, st))) return;
    d->size_in = d->size_out = x->size;
    d->scale                 = 1.0;
    SetOutput(g, node, x, x->ndim, x->dims);
    return;
  }
  if (n_axes <= 0) { /* every axis */
    if (x->batched) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: no axes given, so every axis of '%s' is reduced, the batch (the data samples) included; hessa cannot reduce across samples (give the axes)", HessaOnnxNodeLabel(node, at, sizeof at), x->name);
      return;
    }
    for (int p = 0; p < x->ndim; p++) reduce[p] = 1;
  }
  for (int64_t k = 0; k < n_axes; k++) {
    int p = NormAxis(g, node, x, axes[k], st);
    if (p < 0) return;
    if (reduce[p]) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axis %" PRId64 " is given twice in the axes of the input '%s' %s", HessaOnnxNodeLabel(node, at, sizeof at), axes[k], x->name, HessaOnnxDimsString(x->ndim, x->dims, s1, sizeof s1));
      return;
    }
    reduce[p] = 1;
  }
  for (int p = 0; p < x->ndim; p++) {
    if (reduce[p]) count *= x->dims[p];
    if (!reduce[p])
      dims[ndim++] = x->dims[p];
    else if (keepdims)
      dims[ndim++] = 1;
  }
  if (!(d = (ReduceData *)OpData(g, node, sizeof *d + (size_t)x->size * sizeof(int64_t), st))) return;
  d->map     = (int64_t *)(d + 1);
  d->size_in = x->size;
  d->scale   = mean ? 1.0 / (double)count : 1.0;
  SetOutput(g, node, x, ndim, dims);
  d->size_out = g->values[node->out[0]].size;
  {
    const int first                    = x->batched ? 1 : 0;
    int64_t   idx[HESSA_ONNX_MAX_DIMS] = {0}, ostride[HESSA_ONNX_MAX_DIMS], s = 1;
    for (int p = x->ndim - 1; p >= first; p--) {
      ostride[p] = reduce[p] ? 0 : s;
      if (!reduce[p]) s *= x->dims[p];
    }
    for (int64_t k = 0; k < x->size; k++) {
      int64_t o = 0;
      for (int p = first; p < x->ndim; p++) o += idx[p] * ostride[p];
      d->map[k] = o;
      for (int p = x->ndim - 1; p >= first; p--) {
        if (++idx[p] < x->dims[p]) break;
        idx[p] = 0;
      }
    }
  }
}

static void ReduceMeanInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  ReduceInfer(g, node, st, 1);
}
static void ReduceSumInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  ReduceInfer(g, node, st, 0);
}

/* out [R][size_out] = scale * sum of in [R][size_in] by the map (a linear map: every pass) */
static void ReduceRows(const ReduceData *d, int64_t R, const double *in, double *out)
{
  if (!d->map) {
    memcpy(out, in, (size_t)(R * d->size_in) * sizeof(double));
    return;
  }
  memset(out, 0, (size_t)(R * d->size_out) * sizeof(double));
  for (int64_t r = 0; r < R; r++) {
    const double *a = in + r * d->size_in;
    double       *y = out + r * d->size_out;
    for (int64_t k = 0; k < d->size_in; k++) y[d->map[k]] += a[k];
    if (d->scale != 1.0)
      for (int64_t k = 0; k < d->size_out; k++) y[k] *= d->scale;
  }
}

static PetscErrorCode ReduceForward(HessaOnnxKernel *K)
{
  PetscFunctionBegin;
  ReduceRows((const ReduceData *)K->node->op_data, Rows(K), K->x[0], K->y[0]);
  PetscFunctionReturn(0);
}

static PetscErrorCode ReduceJvp(HessaOnnxKernel *K)
{
  const ReduceData *d = (const ReduceData *)K->node->op_data;
  const int64_t     R = Rows(K) * K->nb;

  PetscFunctionBegin;
  if (K->tx[0])
    ReduceRows(d, R, K->tx[0], K->ty[0]);
  else
    PetscCall(PetscArrayzero(K->ty[0], (size_t)(R * d->size_out)));
  PetscFunctionReturn(0);
}

/* dx [R][size_in] += scale * dy [R][size_out] read back through the map */
static PetscErrorCode ReduceBackward(HessaOnnxKernel *K)
{
  const ReduceData *d = (const ReduceData *)K->node->op_data;
  const int64_t     R = Rows(K) * K->nb;

  PetscFunctionBegin;
  if (!K->dx[0]) PetscFunctionReturn(0);
  for (int64_t r = 0; r < R; r++) {
    const double *dy = K->dy[0] + r * d->size_out;
    double       *dx = K->dx[0] + r * d->size_in;
    if (d->map)
      for (int64_t k = 0; k < d->size_in; k++) dx[k] += d->scale * dy[d->map[k]];
    else
      for (int64_t k = 0; k < d->size_in; k++) dx[k] += dy[k];
  }
  PetscFunctionReturn(0);
}

/* ---- LayerNormalization ---------------------------------------------------------------------- */

typedef struct {
  int64_t R;   /* normalised rows per sample (the product of the axes before `axis`) */
  int64_t D;   /* elements per normalised row (the product of the axes from `axis` on) */
  double  eps; /* added to the variance */
} LayerNormData;

/* Scale (i = 1) or B (i = 2): not batched, float, D elements whose shape is the normalised
 * shape x.dims[axis:] (leading ones allowed or dropped). */
static int LayerNormWeight(HessaOnnxGraph *g, HessaOnnxNode *node, const HessaOnnxValue *x, int axis, int i, HessaStatus *st)
{
  char                  at[512], s1[160], s2[160];
  const char           *what = i == 1 ? "Scale" : "B";
  const HessaOnnxValue *w;
  int                   ok;

  if (node->n_in <= i || node->in[i] < 0) {
    if (i == 2) return 0; /* B is optional */
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the input Scale (input 1) is missing", HessaOnnxNodeLabel(node, at, sizeof at));
    return 0;
  }
  w = &g->values[node->in[i]];
  if (w->batched || w->is_int) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input %s '%s' must be a float tensor that does not depend on the sample (a parameter or a constant)", HessaOnnxNodeLabel(node, at, sizeof at), what, w->name);
    return 0;
  }
  /* compare trailing dims; any extra leading dims of either must be 1 */
  ok = 1;
  for (int q = 0; q < (w->ndim > x->ndim - axis ? w->ndim : x->ndim - axis); q++) {
    const int     pw = w->ndim - 1 - q, px = x->ndim - 1 - q;
    const int64_t dw = pw >= 0 ? w->dims[pw] : 1, dx = px >= axis ? x->dims[px] : 1;
    if (dw != dx) ok = 0;
  }
  if (!ok) {
    int64_t nd = x->ndim - axis;
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input %s '%s' has shape %s; expected the normalised shape %s of the input '%s' (axis %d)", HessaOnnxNodeLabel(node, at, sizeof at), what, w->name, HessaOnnxDimsString(w->ndim, w->dims, s1, sizeof s1),
                   HessaOnnxDimsString((int)nd, x->dims + axis, s2, sizeof s2), x->name, axis);
    return 0;
  }
  return 1;
}

static void LayerNormInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  at[512];
  const HessaOnnxValue *x = DataInput(g, node, 2, 3, st);
  LayerNormData        *d;
  double                eps;
  int                   axis;
  int64_t               axis_attr;

  if (!x) return;
  if (node->n_out > 3) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected at most 3 outputs (Y, Mean, InvStdDev), found %d", HessaOnnxNodeLabel(node, at, sizeof at), node->n_out);
    return;
  }
  for (int o = 1; o < node->n_out; o++) {
    if (HessaOnnxValueIsRead(g, node->out[o])) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: its output %s '%s' is used; hessa computes Y only (the training-time statistics outputs are not supported)", HessaOnnxNodeLabel(node, at, sizeof at), o == 1 ? "Mean" : "InvStdDev",
                     g->values[node->out[o]].name);
      return;
    }
  }
  if (x->ndim < 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the input '%s' is a scalar; expected a tensor of rank >= 1", HessaOnnxNodeLabel(node, at, sizeof at), x->name);
    return;
  }
  axis_attr = AttrIntChecked(node, "axis", -1, st);
  if (st->code || (axis = NormAxis(g, node, x, axis_attr, st)) < 0) return;
  if (!LayerNormWeight(g, node, x, axis, 1, st)) return;
  LayerNormWeight(g, node, x, axis, 2, st);
  if (st->code) return;
  eps = HessaOnnxAttrDecimal(node, "epsilon", 1e-5);
  if (HessaOnnxAttrGet(node, "epsilon") && HessaOnnxAttrGet(node, "epsilon")->type != HESSA_ONNX_ATTR_FLOAT && HessaOnnxAttrGet(node, "epsilon")->type != HESSA_ONNX_ATTR_INT) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected the attribute epsilon as a number, found another type", HessaOnnxNodeLabel(node, at, sizeof at));
    return;
  }
  if (!isfinite(eps) || eps < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a finite epsilon >= 0, found %g", HessaOnnxNodeLabel(node, at, sizeof at), eps);
    return;
  }
  if (!(d = (LayerNormData *)OpData(g, node, sizeof *d, st))) return;
  d->D = 1;
  for (int p = axis; p < x->ndim; p++) d->D *= x->dims[p];
  d->R                 = x->size / d->D;
  d->eps               = eps;
  node->aux_per_sample = (size_t)(2 * d->R);
  SetOutput(g, node, x, x->ndim, x->dims);
  /* unread Mean and InvStdDev: shapes only (never computed) */
  for (int o = 1; o < node->n_out; o++) {
    HessaOnnxValue *v = node->out[o] >= 0 ? &g->values[node->out[o]] : NULL;
    int64_t         sd[HESSA_ONNX_MAX_DIMS];
    if (!v) continue;
    for (int p = 0; p < x->ndim; p++) sd[p] = p < axis ? x->dims[p] : 1;
    HessaOnnxValueSetShape(v, x->ndim, sd, x->batched);
    v->differentiable = 0;
    v->is_int         = 0;
    v->elem_type      = x->elem_type;
  }
}

/* mean and 1/sqrt(var + eps) of a row */
static inline void RowStats(const double *x, int64_t D, double eps, double *mu, double *s)
{
  double m = 0, v = 0;
  for (int64_t k = 0; k < D; k++) m += x[k];
  m /= (double)D;
  for (int64_t k = 0; k < D; k++) v += (x[k] - m) * (x[k] - m);
  *mu = m;
  *s  = 1.0 / sqrt(v / (double)D + eps);
}

static PetscErrorCode LayerNormForward(HessaOnnxKernel *K)
{
  const LayerNormData *d    = (const LayerNormData *)K->node->op_data;
  const int64_t        rows = Rows(K) * d->R, D = d->D;
  const double        *G = K->x[1], *B = K->node->n_in > 2 ? K->x[2] : NULL;

  PetscFunctionBegin;
  for (int64_t r = 0; r < rows; r++) {
    const double *x = K->x[0] + r * D;
    double       *y = K->y[0] + r * D, mu, s;
    RowStats(x, D, d->eps, &mu, &s);
    K->aux[2 * r] = mu, K->aux[2 * r + 1] = s;
    for (int64_t k = 0; k < D; k++) y[k] = G[k] * (x[k] - mu) * s + (B ? B[k] : 0.0);
  }
  PetscFunctionReturn(0);
}

/* dx += s (a - mean a - xh mean(a xh)) for a = w * v (w = NULL: a = v) on one row */
static inline void LayerNormPullback(const double *x, double mu, double s, const double *w, const double *v, int64_t D, double *dx)
{
  double abar = 0, c = 0;
  for (int64_t k = 0; k < D; k++) {
    const double a = w ? w[k] * v[k] : v[k];
    abar += a, c += a * (x[k] - mu) * s;
  }
  abar /= (double)D, c /= (double)D;
  for (int64_t k = 0; k < D; k++) dx[k] += s * ((w ? w[k] * v[k] : v[k]) - abar - (x[k] - mu) * s * c);
}

/* dx (rows i*nb + j) += J_x^T dy; dScale_j, dB_j += their adjoints, summed over samples */
static PetscErrorCode LayerNormBackward(HessaOnnxKernel *K)
{
  const LayerNormData *d  = (const LayerNormData *)K->node->op_data;
  const int64_t        nb = K->nb, R = d->R, D = d->D;
  const double        *G  = K->x[1];
  double              *dX = K->dx[0], *dG = K->dx[1], *dB = K->node->n_in > 2 ? K->dx[2] : NULL;

  PetscFunctionBegin;
  for (int64_t i = 0; i < Rows(K); i++)
    for (int64_t j = 0; j < nb; j++)
      for (int64_t o = 0; o < R; o++) {
        const double *x = K->x[0] + (i * R + o) * D, *dy = K->dy[0] + ((i * nb + j) * R + o) * D;
        const double  mu = K->aux[2 * (i * R + o)], s = K->aux[2 * (i * R + o) + 1];
        if (dX) LayerNormPullback(x, mu, s, G, dy, D, dX + ((i * nb + j) * R + o) * D);
        if (dG)
          for (int64_t k = 0; k < D; k++) dG[j * D + k] += dy[k] * (x[k] - mu) * s;
        if (dB)
          for (int64_t k = 0; k < D; k++) dB[j * D + k] += dy[k];
      }
  PetscFunctionReturn(0);
}

/* the tangent of xh along tx on one row: txh = s (tx - mean tx - xh tau); returns tau = mean(xh tx) */
static inline double LayerNormTangentMoments(const double *x, double mu, double s, const double *tx, int64_t D, double *tm)
{
  double m = 0, tau = 0;
  for (int64_t k = 0; k < D; k++) m += tx[k], tau += (x[k] - mu) * s * tx[k];
  *tm = m / (double)D;
  return tau / (double)D;
}

static PetscErrorCode LayerNormJvp(HessaOnnxKernel *K)
{
  const LayerNormData *d = (const LayerNormData *)K->node->op_data;
  const int64_t        b = K->nb, R = d->R, D = d->D;
  const double        *G = K->x[1], *tX = K->tx[0], *tG = K->tx[1], *tB = K->node->n_in > 2 ? K->tx[2] : NULL;

  PetscFunctionBegin;
  for (int64_t i = 0; i < Rows(K); i++)
    for (int64_t j = 0; j < b; j++)
      for (int64_t o = 0; o < R; o++) {
        const double *x  = K->x[0] + (i * R + o) * D;
        const double  mu = K->aux[2 * (i * R + o)], s = K->aux[2 * (i * R + o) + 1];
        double       *ty = K->ty[0] + ((i * b + j) * R + o) * D;
        if (tX) {
          const double *tx = tX + ((i * b + j) * R + o) * D;
          double        tm, tau = LayerNormTangentMoments(x, mu, s, tx, D, &tm);
          for (int64_t k = 0; k < D; k++) ty[k] = G[k] * s * (tx[k] - tm - (x[k] - mu) * s * tau);
        } else
          memset(ty, 0, (size_t)D * sizeof(double));
        if (tG)
          for (int64_t k = 0; k < D; k++) ty[k] += tG[j * D + k] * (x[k] - mu) * s;
        if (tB)
          for (int64_t k = 0; k < D; k++) ty[k] += tB[j * D + k];
      }
  PetscFunctionReturn(0);
}

/* The second-order terms with the first-order adjoint dy (a = Scale dy on xh):
 * x-x:      dx += -s^2 tau (a - mean a - xh c) - s c txh - s xh mean(a txh), c = mean(a xh);
 * x-Scale:  dx += J_xh^T (dy tScale), dScale += dy txh.  (B enters linearly.) */
static PetscErrorCode LayerNormSot(HessaOnnxKernel *K)
{
  const LayerNormData *d = (const LayerNormData *)K->node->op_data;
  const int64_t        b = K->nb, R = d->R, D = d->D;
  const double        *G = K->x[1], *tX = K->tx[0], *tG = K->tx[1];
  double              *dX = K->dx[0], *dG = K->dx[1];

  PetscFunctionBegin;
  for (int64_t i = 0; i < Rows(K); i++)
    for (int64_t j = 0; j < b; j++)
      for (int64_t o = 0; o < R; o++) {
        const double *x = K->x[0] + (i * R + o) * D, *dy = K->dy[0] + (i * R + o) * D;
        const double  mu = K->aux[2 * (i * R + o)], s = K->aux[2 * (i * R + o) + 1];
        double       *dx = dX ? dX + ((i * b + j) * R + o) * D : NULL;
        if (tX && (dx || dG)) {
          const double *tx = tX + ((i * b + j) * R + o) * D;
          double        tm, tau = LayerNormTangentMoments(x, mu, s, tx, D, &tm), abar = 0, c = 0, e = 0;
          for (int64_t k = 0; k < D; k++) {
            const double a = G[k] * dy[k], xh = (x[k] - mu) * s, txh = s * (tx[k] - tm - xh * tau);
            abar += a, c += a * xh, e += a * txh;
            if (dG) dG[j * D + k] += dy[k] * txh;
          }
          abar /= (double)D, c /= (double)D, e /= (double)D;
          if (dx)
            for (int64_t k = 0; k < D; k++) {
              const double a = G[k] * dy[k], xh = (x[k] - mu) * s, txh = s * (tx[k] - tm - xh * tau);
              dx[k] += -s * s * tau * (a - abar - xh * c) - s * c * txh - s * xh * e;
            }
        }
        if (tG && dx) LayerNormPullback(x, mu, s, tG + j * D, dy, D, dx);
      }
  PetscFunctionReturn(0);
}

/* ---- Softmax, LogSoftmax ---------------------------------------------------------------------- */

typedef struct {
  int     log;   /* LogSoftmax */
  int64_t outer; /* per sample: [outer][A][inner], normalised along A */
  int64_t A, inner;
} SoftmaxData;

static void SoftmaxInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st, int log)
{
  char                  at[512];
  const HessaOnnxValue *x = DataInput(g, node, 1, 1, st);
  SoftmaxData          *d;
  int                   axis, old = g->opset > 0 && g->opset < 13, first;
  int64_t               axis_attr;

  if (!x) return;
  if (node->n_out != 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected 1 output, found %d", HessaOnnxNodeLabel(node, at, sizeof at), node->n_out);
    return;
  }
  if (x->ndim < 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the input '%s' is a scalar; expected a tensor of rank >= 1", HessaOnnxNodeLabel(node, at, sizeof at), x->name);
    return;
  }
  axis_attr = AttrIntChecked(node, "axis", old ? 1 : -1, st);
  if (st->code || (axis = NormAxis(g, node, x, axis_attr, st)) < 0) return;
  if (!(d = (SoftmaxData *)OpData(g, node, sizeof *d, st))) return;
  first    = x->batched ? 1 : 0;
  d->log   = log;
  d->outer = 1, d->A = 1, d->inner = 1;
  for (int p = first; p < x->ndim; p++) {
    if (p < axis)
      d->outer *= x->dims[p];
    else if (p == axis || old) /* before opset 13: the axes from `axis` on, flattened */
      d->A *= x->dims[p];
    else
      d->inner *= x->dims[p];
  }
  SetOutput(g, node, x, x->ndim, x->dims);
}

static void SoftmaxOpInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  SoftmaxInfer(g, node, st, 0);
}
static void LogSoftmaxInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  SoftmaxInfer(g, node, st, 1);
}

/* Every pass walks the lines (sample or tangent row r, outer o, inner k) along A with stride inner. */
#define SM_LINE(d, r, o, k) ((r) * (d)->outer * (d)->A * (d)->inner + (o) * (d)->A * (d)->inner + (k))

static PetscErrorCode SoftmaxForward(HessaOnnxKernel *K)
{
  const SoftmaxData *d = (const SoftmaxData *)K->node->op_data;
  const int64_t      A = d->A, n = d->inner;

  PetscFunctionBegin;
  for (int64_t r = 0; r < Rows(K); r++)
    for (int64_t o = 0; o < d->outer; o++)
      for (int64_t k = 0; k < n; k++) {
        const double *x  = K->x[0] + SM_LINE(d, r, o, k);
        double       *y  = K->y[0] + SM_LINE(d, r, o, k);
        double        mx = x[0], se = 0;
        for (int64_t c = 1; c < A; c++) mx = x[c * n] > mx ? x[c * n] : mx;
        for (int64_t c = 0; c < A; c++) se += exp(x[c * n] - mx);
        if (d->log) {
          const double lse = mx + log(se);
          for (int64_t c = 0; c < A; c++) y[c * n] = x[c * n] - lse;
        } else
          for (int64_t c = 0; c < A; c++) y[c * n] = exp(x[c * n] - mx) / se;
      }
  PetscFunctionReturn(0);
}

static PetscErrorCode SoftmaxBackward(HessaOnnxKernel *K)
{
  const SoftmaxData *d = (const SoftmaxData *)K->node->op_data;
  const int64_t      A = d->A, n = d->inner, nb = K->nb;

  PetscFunctionBegin;
  if (!K->dx[0]) PetscFunctionReturn(0);
  for (int64_t r = 0; r < Rows(K) * nb; r++)
    for (int64_t o = 0; o < d->outer; o++)
      for (int64_t k = 0; k < n; k++) {
        const double *y = K->y[0] + SM_LINE(d, r / nb, o, k), *dy = K->dy[0] + SM_LINE(d, r, o, k);
        double       *dx = K->dx[0] + SM_LINE(d, r, o, k), s = 0;
        if (d->log) {
          for (int64_t c = 0; c < A; c++) s += dy[c * n];
          for (int64_t c = 0; c < A; c++) dx[c * n] += dy[c * n] - exp(y[c * n]) * s;
        } else {
          for (int64_t c = 0; c < A; c++) s += dy[c * n] * y[c * n];
          for (int64_t c = 0; c < A; c++) dx[c * n] += y[c * n] * (dy[c * n] - s);
        }
      }
  PetscFunctionReturn(0);
}

static PetscErrorCode SoftmaxJvp(HessaOnnxKernel *K)
{
  const SoftmaxData *d = (const SoftmaxData *)K->node->op_data;
  const int64_t      A = d->A, n = d->inner, b = K->nb;

  PetscFunctionBegin;
  if (!K->tx[0]) {
    PetscCall(PetscArrayzero(K->ty[0], (size_t)(Rows(K) * b * d->outer * A * n)));
    PetscFunctionReturn(0);
  }
  for (int64_t r = 0; r < Rows(K) * b; r++)
    for (int64_t o = 0; o < d->outer; o++)
      for (int64_t k = 0; k < n; k++) {
        const double *y = K->y[0] + SM_LINE(d, r / b, o, k), *tx = K->tx[0] + SM_LINE(d, r, o, k);
        double       *ty = K->ty[0] + SM_LINE(d, r, o, k), s = 0;
        if (d->log) {
          for (int64_t c = 0; c < A; c++) s += exp(y[c * n]) * tx[c * n];
          for (int64_t c = 0; c < A; c++) ty[c * n] = tx[c * n] - s;
        } else {
          for (int64_t c = 0; c < A; c++) s += y[c * n] * tx[c * n];
          for (int64_t c = 0; c < A; c++) ty[c * n] = y[c * n] * (tx[c * n] - s);
        }
      }
  PetscFunctionReturn(0);
}

/* dy holds the first-order adjoint a of the sample (rows r / b) */
static PetscErrorCode SoftmaxSot(HessaOnnxKernel *K)
{
  const SoftmaxData *d = (const SoftmaxData *)K->node->op_data;
  const int64_t      A = d->A, n = d->inner, b = K->nb;

  PetscFunctionBegin;
  if (!K->dx[0] || !K->tx[0]) PetscFunctionReturn(0);
  for (int64_t r = 0; r < Rows(K) * b; r++)
    for (int64_t o = 0; o < d->outer; o++)
      for (int64_t k = 0; k < n; k++) {
        const double *y = K->y[0] + SM_LINE(d, r / b, o, k), *a = K->dy[0] + SM_LINE(d, r / b, o, k), *tx = K->tx[0] + SM_LINE(d, r, o, k);
        double       *dx = K->dx[0] + SM_LINE(d, r, o, k);
        if (d->log) { /* dx += -(sum a) p (tx - <p, tx>) */
          double sa = 0, pt = 0;
          for (int64_t c = 0; c < A; c++) sa += a[c * n], pt += exp(y[c * n]) * tx[c * n];
          for (int64_t c = 0; c < A; c++) dx[c * n] -= sa * exp(y[c * n]) * (tx[c * n] - pt);
        } else { /* ty = y (tx - <y, tx>); dx += ty (a - <a, y>) - y <a, ty> */
          double yt = 0, ay = 0, aty = 0;
          for (int64_t c = 0; c < A; c++) yt += y[c * n] * tx[c * n], ay += a[c * n] * y[c * n];
          for (int64_t c = 0; c < A; c++) aty += a[c * n] * y[c * n] * (tx[c * n] - yt);
          for (int64_t c = 0; c < A; c++) dx[c * n] += y[c * n] * (tx[c * n] - yt) * (a[c * n] - ay) - y[c * n] * aty;
        }
      }
  PetscFunctionReturn(0);
}

/* ---- the table ------------------------------------------------------------------------------- */

/* ReduceSum's axes are never parameters; the reductions are linear (no sot). */
const HessaOnnxOp HessaOnnxOpsNorm[] = {
    {"LayerNormalization", LayerNormInfer, LayerNormForward, LayerNormBackward, LayerNormJvp, LayerNormSot, 0},
    {"ReduceMean", ReduceMeanInfer, ReduceForward, ReduceBackward, ReduceJvp, NULL, 1u << 1},
    {"ReduceSum", ReduceSumInfer, ReduceForward, ReduceBackward, ReduceJvp, NULL, 1u << 1},
    {"Softmax", SoftmaxOpInfer, SoftmaxForward, SoftmaxBackward, SoftmaxJvp, SoftmaxSot, 0},
    {"LogSoftmax", LogSoftmaxInfer, SoftmaxForward, SoftmaxBackward, SoftmaxJvp, SoftmaxSot, 0},
};
const int HessaOnnxOpsNormCount = (int)(sizeof HessaOnnxOpsNorm / sizeof HessaOnnxOpsNorm[0]);
