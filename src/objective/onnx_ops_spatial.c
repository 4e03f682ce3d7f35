/* ONNX spatial kernels: Conv (2-D, by im2col + dgemm), BatchNormalization (inference
 * form), MaxPool, AveragePool, GlobalAveragePool. The contract of every pass is in
 * onnx_impl.h; this file adds the layouts:
 *
 *   X  [rows][C][H][W]        a batched NCHW input, one row per sample (or per tangent /
 *                             adjoint row)
 *   W  [M][C/G][kh][kw]       Conv weights: group g owns output channels g*Mg .. g*Mg+Mg-1
 *                             and input channels g*Cg .. g*Cg+Cg-1 (Mg = M/G, Cg = C/G)
 *   Y  [rows][M][OH][OW]      Conv output, P = OH*OW pixels per channel
 *   cols [K][s*P]             im2col of s samples for one group, K = Cg*kh*kw rows,
 *                             sample i's pixels in columns i*P .. i*P+P-1
 *
 * Conv is bilinear in (X, W) and linear in B: Y_g = W_g cols(X) + B. A chunk's samples
 * are stacked into the columns so that one dgemm per group covers a whole sub-block of
 * samples; sub-blocks keep the scratch under HessaOnnxSpatialScratchBytes. Directions of a
 * block are stacked into the rows (weights of every direction on top of each other) for
 * the same reason. Everything else here is memory-bound and done with plain loops.
 */
#include "onnx_impl.h"
#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scratch budget of one Conv call: tens of MB keep the dgemms large without paging.
 * Not static: the kernel test lowers it to exercise the sub-blocks. */
size_t HessaOnnxSpatialScratchBytes = (size_t)32 << 20;

/* GEMM flops issued by these kernels since the start (benchmarks read and reset it). */
double HessaOnnxSpatialGemmFlops = 0;

/* Row-major C = A op(B) + beta C; sizes are bounded by the scratch budget, so int fits. */
static inline void Gemm(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, const double *A, int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc)
{
  if (M <= 0 || N <= 0 || K <= 0) return;
  HessaOnnxSpatialGemmFlops += 2.0 * (double)M * (double)N * (double)K;
  cblas_dgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

/* ---- geometry --------------------------------------------------------------------- */
/* The window geometry shared by Conv and the pools (pools: M = C, G = C, Cg = Mg = 1). */
typedef struct {
  int64_t C, H, W;           /* input channels and image size */
  int64_t M, G, Cg, Mg;      /* output channels, groups, channels per group */
  int64_t kh, kw;            /* kernel */
  int64_t sh, sw;            /* strides */
  int64_t dh, dw;            /* dilations */
  int64_t pt, pl, pb, pr;    /* pads: top, left, bottom, right */
  int64_t OH, OW, P, K;      /* output size, P = OH*OW, K = Cg*kh*kw */
  int     count_include_pad; /* AveragePool */
} SpatialGeom;

typedef enum { POOL_MAX, POOL_AVERAGE } PoolKind;

typedef struct {
  SpatialGeom geom;
  PoolKind    kind;
} PoolData;

typedef struct {
  int64_t C, S; /* channels, elements per channel (the product of the spatial dims) */
  double  eps;
} BatchNormData;

typedef struct {
  int64_t C, S; /* channels and the spatial elements averaged */
} GlobalPoolData;

/* An attribute's list of ints (NULL, 0 when absent); a non-INTS attribute is an error. */
static const int64_t *AttrInts(HessaOnnxGraph *g, const HessaOnnxNode *node, const char name[], int64_t *n, HessaStatus *st)
{
  const HessaOnnxAttr *a = HessaOnnxAttrGet(node, name);
  char                 label[256];

  *n = 0;
  if (!a) return NULL;
  if (a->type != HESSA_ONNX_ATTR_INTS) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: attribute '%s' must be a list of ints", g->path, HessaOnnxNodeLabel(node, label, sizeof(label)), name);
    return NULL;
  }
  *n = a->n;
  return a->ints;
}

/* Read a 2-entry spatial attribute (kernel_shape, strides, dilations) with a default,
 * checking count and minimum. */
static void Attr2(HessaOnnxGraph *g, const HessaOnnxNode *node, const char name[], int64_t dflt, int64_t minimum, int64_t out[2], HessaStatus *st)
{
  int64_t        n;
  const int64_t *v = AttrInts(g, node, name, &n, st);
  char           label[256];

  out[0] = out[1] = dflt;
  if (st->code || !v) return;
  if (n != 2) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: attribute '%s' must have 2 entries (2-D only), found %" PRId64, g->path, HessaOnnxNodeLabel(node, label, sizeof(label)), name, n);
    return;
  }
  for (int i = 0; i < 2; i++) {
    if (v[i] < minimum) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: attribute '%s' entries must be >= %" PRId64 ", found %" PRId64, g->path, HessaOnnxNodeLabel(node, label, sizeof(label)), name, minimum, v[i]);
      return;
    }
    out[i] = v[i];
  }
}

/* Output size of one axis; ceil_mode as PyTorch (and onnxruntime): the last window must
 * start inside the input or its leading padding. */
static int64_t OutSize(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t k, int64_t s, int64_t d, int ceil_mode)
{
  int64_t span = in + pad_begin + pad_end - ((k - 1) * d + 1);
  int64_t out;

  if (span < 0) return 0;
  out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + pad_begin) out--;
  return out;
}

/* Fill the window geometry of a Conv or pool node from its attributes, the input shape
 * [N, C, H, W] and the kernel (kh, kw). Sets OH, OW, P, K. */
static void GeomFromAttrs(HessaOnnxGraph *g, const HessaOnnxNode *node, const HessaOnnxValue *X, int64_t kh, int64_t kw, int ceil_mode, SpatialGeom *gm, HessaStatus *st)
{
  int64_t              strides[2], dil[2], npads;
  const int64_t       *pads;
  const HessaOnnxAttr *ap       = HessaOnnxAttrGet(node, "auto_pad");
  const char          *auto_pad = ap && ap->type == HESSA_ONNX_ATTR_STRING && ap->s ? ap->s : "NOTSET";
  char                 label[256];

  HessaOnnxNodeLabel(node, label, sizeof(label));
  gm->C = X->dims[1], gm->H = X->dims[2], gm->W = X->dims[3];
  gm->kh = kh, gm->kw = kw;
  Attr2(g, node, "strides", 1, 1, strides, st);
  Attr2(g, node, "dilations", 1, 1, dil, st);
  if (st->code) return;
  gm->sh = strides[0], gm->sw = strides[1], gm->dh = dil[0], gm->dw = dil[1];
  pads = AttrInts(g, node, "pads", &npads, st);
  if (st->code) return;
  gm->pt = gm->pl = gm->pb = gm->pr = 0;
  if (!strcmp(auto_pad, "NOTSET")) {
    if (pads) {
      if (npads != 4) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: attribute 'pads' must have 4 entries (2-D), found %" PRId64, g->path, label, npads);
        return;
      }
      for (int i = 0; i < 4; i++) {
        if (pads[i] < 0) {
          HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: attribute 'pads' entries must be >= 0, found %" PRId64, g->path, label, pads[i]);
          return;
        }
      }
      gm->pt = pads[0], gm->pl = pads[1], gm->pb = pads[2], gm->pr = pads[3];
    }
  } else if (!strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER")) {
    /* output = ceil(input / stride); the odd pad goes to the end (UPPER) or the start (LOWER) */
    int64_t in[2] = {gm->H, gm->W}, k[2] = {kh, kw}, s[2] = {gm->sh, gm->sw}, d[2] = {gm->dh, gm->dw}, begin[2], end[2];
    for (int i = 0; i < 2; i++) {
      int64_t out   = (in[i] + s[i] - 1) / s[i];
      int64_t total = (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i];
      if (total < 0) total = 0;
      begin[i] = !strcmp(auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
      end[i]   = total - begin[i];
    }
    gm->pt = begin[0], gm->pl = begin[1], gm->pb = end[0], gm->pr = end[1];
  } else if (strcmp(auto_pad, "VALID")) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: attribute 'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, found '%s'", g->path, label, auto_pad);
    return;
  }
  gm->OH = OutSize(gm->H, gm->pt, gm->pb, kh, gm->sh, gm->dh, ceil_mode);
  gm->OW = OutSize(gm->W, gm->pl, gm->pr, kw, gm->sw, gm->dw, ceil_mode);
  if (gm->OH < 1 || gm->OW < 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: the window (%" PRId64 "x%" PRId64 ", dilations %" PRId64 ",%" PRId64 ") does not fit the padded input %" PRId64 "x%" PRId64, g->path, label, kh, kw, gm->dh, gm->dw, gm->H + gm->pt + gm->pb,
                   gm->W + gm->pl + gm->pr);
    return;
  }
  gm->P = gm->OH * gm->OW;
}

/* The data input: batched, [N, C, H, W], float. */
static const HessaOnnxValue *SpatialInput(HessaOnnxGraph *g, const HessaOnnxNode *node, int ndim_min, int ndim_max, HessaStatus *st)
{
  const HessaOnnxValue *X;
  char                  label[256];

  HessaOnnxNodeLabel(node, label, sizeof(label));
  if (node->n_in < 1 || node->in[0] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: the input X is missing", g->path, label);
    return NULL;
  }
  X = &g->values[node->in[0]];
  if (!X->batched || X->is_int || X->ndim < ndim_min || X->ndim > ndim_max) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input X '%s' must be a float tensor [batch, C, ...] of rank %d..%d that depends on the sample, found rank %d%s%s", g->path, label, X->name, ndim_min, ndim_max, X->ndim,
                   X->batched ? "" : ", not batched", X->is_int ? ", integer" : "");
    return NULL;
  }
  for (int d = 1; d < X->ndim; d++) {
    if (X->dims[d] < 1) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input X '%s' needs a known size along axis %d, found %" PRId64, g->path, label, X->name, d, X->dims[d]);
      return NULL;
    }
  }
  return X;
}

/* A per-sample parameter-like input (W, B, scale, mean, var): not batched, float, of the
 * given size (and, when dims != NULL, shape). */
static const HessaOnnxValue *SpatialWeight(HessaOnnxGraph *g, const HessaOnnxNode *node, int i, const char what[], int ndim, const int64_t *dims, int64_t size, HessaStatus *st)
{
  const HessaOnnxValue *v;
  char                  label[256];

  HessaOnnxNodeLabel(node, label, sizeof(label));
  if (node->n_in <= i || node->in[i] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input %s is missing", g->path, label, what);
    return NULL;
  }
  v = &g->values[node->in[i]];
  if (v->batched || v->is_int) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input %s '%s' must be a float tensor that does not depend on the sample (a parameter or a constant)", g->path, label, what, v->name);
    return NULL;
  }
  if (dims) {
    int same = v->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = v->dims[d] == dims[d];
    if (!same) {
      char exp[128] = "", got[128] = "";
      for (int d = 0; d < ndim; d++) snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), "%s%" PRId64, d ? "," : "", dims[d]);
      for (int d = 0; d < v->ndim; d++) snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%" PRId64, d ? "," : "", v->dims[d]);
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input %s '%s' must have shape [%s], found [%s]", g->path, label, what, v->name, exp, got);
      return NULL;
    }
  } else if (v->size != size) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input %s '%s' must have %" PRId64 " elements, found %" PRId64, g->path, label, what, v->name, size, v->size);
    return NULL;
  }
  return v;
}

/* Exactly n_out outputs. */
static void CheckOutputs(HessaOnnxGraph *g, const HessaOnnxNode *node, int n_out, const char why[], HessaStatus *st)
{
  char label[256];
  if (node->n_out != n_out) HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: expected %d output%s, found %d%s", g->path, HessaOnnxNodeLabel(node, label, sizeof(label)), n_out, n_out > 1 ? "s" : "", node->n_out, why);
}

/* Set output 0: batched, float64 like X, differentiable when any input is. */
static void SetOutput(HessaOnnxGraph *g, HessaOnnxNode *node, int ndim, const int64_t *dims)
{
  HessaOnnxValue *Y    = &g->values[node->out[0]];
  int             diff = 0;

  for (int i = 0; i < node->n_in; i++)
    if (node->in[i] >= 0) diff |= g->values[node->in[i]].differentiable;
  HessaOnnxValueSetShape(Y, ndim, dims, 1);
  Y->differentiable = diff;
  Y->is_int         = 0;
  Y->elem_type      = g->values[node->in[0]].elem_type;
}

static void *OpData(HessaOnnxGraph *g, const HessaOnnxNode *node, size_t bytes, HessaStatus *st)
{
  void *p = calloc(1, bytes);
  char  label[256];
  if (!p) HessaStatusSet(st, PETSC_ERR_MEM, "%s: %s: out of memory", g->path, HessaOnnxNodeLabel(node, label, sizeof(label)));
  return p;
}

static PetscErrorCode Scratch(HessaOnnxKernel *K, size_t count, int slot, double **p)
{
  PetscFunctionBegin;
  *p = (double *)HessaOnnxScratch(K->scratch_owner, count * sizeof(double) + 1, slot);
  PetscCheck(*p, PETSC_COMM_SELF, PETSC_ERR_MEM, "ONNX spatial kernel: no scratch memory for %zu doubles", count);
  PetscFunctionReturn(0);
}

/* Samples per sub-block so that per_sample doubles of scratch each stay in budget. */
static int64_t SubBlock(int64_t m, int64_t per_sample)
{
  int64_t s = (int64_t)(HessaOnnxSpatialScratchBytes / sizeof(double)) / (per_sample > 0 ? per_sample : 1);
  if (s < 1) s = 1;
  return s < m ? s : m;
}

/* ---- im2col / col2im ------------------------------------------------------------------ */
/* The output columns [lo, hi) whose input column ow*sw - pl + j*dw lies inside [0, W). */
static inline void ValidRange(int64_t out, int64_t in, int64_t s, int64_t off, int64_t *lo, int64_t *hi)
{
  /* in-range: 0 <= o*s + off < in */
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t h = in - off <= 0 ? 0 : (in - off - 1) / s + 1;
  *lo       = l < out ? l : out;
  *hi       = h < out ? h : out;
  if (*hi < *lo) *hi = *lo;
}

/* cols[k][p] (leading dimension ld) = x[g*Cg + c][oh*sh - pt + i*dh][ow*sw - pl + j*dw]
 * with k = (c*kh + i)*kw + j, p = oh*OW + ow; zero in the padding. x: one sample [C][H][W]. */
static void Im2col(const SpatialGeom *gm, const double *x, int64_t g, double *cols, int64_t ld)
{
  for (int64_t c = 0; c < gm->Cg; c++) {
    const double *xc = x + (g * gm->Cg + c) * gm->H * gm->W;
    for (int64_t i = 0; i < gm->kh; i++) {
      for (int64_t j = 0; j < gm->kw; j++) {
        double       *row = cols + ((c * gm->kh + i) * gm->kw + j) * ld;
        const int64_t off = j * gm->dw - gm->pl;
        int64_t       lo, hi;
        ValidRange(gm->OW, gm->W, gm->sw, off, &lo, &hi);
        for (int64_t oh = 0; oh < gm->OH; oh++) {
          int64_t ih = oh * gm->sh - gm->pt + i * gm->dh;
          double *r  = row + oh * gm->OW;
          if (ih < 0 || ih >= gm->H) {
            memset(r, 0, (size_t)gm->OW * sizeof(double));
            continue;
          }
          const double *xr = xc + ih * gm->W;
          for (int64_t ow = 0; ow < lo; ow++) r[ow] = 0.0;
          if (gm->sw == 1)
            memcpy(r + lo, xr + lo + off, (size_t)(hi - lo) * sizeof(double));
          else
            for (int64_t ow = lo; ow < hi; ow++) r[ow] = xr[ow * gm->sw + off];
          for (int64_t ow = hi; ow < gm->OW; ow++) r[ow] = 0.0;
        }
      }
    }
  }
}

/* The adjoint of Im2col: dx[g*Cg + c][...] += cols[k][p]. */
static void Col2im(const SpatialGeom *gm, const double *cols, int64_t ld, int64_t g, double *dx)
{
  for (int64_t c = 0; c < gm->Cg; c++) {
    double *dxc = dx + (g * gm->Cg + c) * gm->H * gm->W;
    for (int64_t i = 0; i < gm->kh; i++) {
      for (int64_t j = 0; j < gm->kw; j++) {
        const double *row = cols + ((c * gm->kh + i) * gm->kw + j) * ld;
        const int64_t off = j * gm->dw - gm->pl;
        int64_t       lo, hi;
        ValidRange(gm->OW, gm->W, gm->sw, off, &lo, &hi);
        for (int64_t oh = 0; oh < gm->OH; oh++) {
          int64_t ih = oh * gm->sh - gm->pt + i * gm->dh;
          if (ih < 0 || ih >= gm->H) continue;
          const double *r  = row + oh * gm->OW;
          double       *dr = dxc + ih * gm->W;
          if (gm->sw == 1)
            for (int64_t ow = lo; ow < hi; ow++) dr[ow + off] += r[ow];
          else
            for (int64_t ow = lo; ow < hi; ow++) dr[ow * gm->sw + off] += r[ow];
        }
      }
    }
  }
}

/* ---- Conv ----------------------------------------------------------------------------- */
static void ConvInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  const HessaOnnxValue *X, *Wv;
  SpatialGeom          *gm;
  int64_t               ks[2], nks, group = HessaOnnxAttrInt(node, "group", 1);
  const int64_t        *kshape;
  char                  label[256];

  HessaOnnxNodeLabel(node, label, sizeof(label));
  CheckOutputs(g, node, 1, "", st);
  if (st->code) return;
  if (node->n_in < 2 || node->n_in > 3) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: expected inputs X, W and optionally B, found %d inputs", g->path, label, node->n_in);
    return;
  }
  if (!(X = SpatialInput(g, node, 4, 4, st))) return;
  if (node->in[1] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: the weight W is missing", g->path, label);
    return;
  }
  Wv = &g->values[node->in[1]];
  if (Wv->ndim != 4 || Wv->dims[2] < 1 || Wv->dims[3] < 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: only 2-D convolution is supported: weight W '%s' must have rank 4 [M, C/group, kh, kw] with kh, kw >= 1, found rank %d", g->path, label, Wv->name, Wv->ndim);
    return;
  }
  if (group < 1 || X->dims[1] % group || Wv->dims[0] % group || Wv->dims[0] < 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: group = %" PRId64 " must be >= 1 and divide the input channels (%" PRId64 ") and the output channels (%" PRId64 ")", g->path, label, group, X->dims[1], Wv->dims[0]);
    return;
  }
  {
    int64_t wd[4] = {Wv->dims[0], X->dims[1] / group, Wv->dims[2], Wv->dims[3]};
    if (!SpatialWeight(g, node, 1, "W", 4, wd, 0, st)) return;
  }
  kshape = AttrInts(g, node, "kernel_shape", &nks, st);
  if (st->code) return;
  if (kshape && (nks != 2 || kshape[0] != Wv->dims[2] || kshape[1] != Wv->dims[3])) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: attribute kernel_shape must equal the weight's spatial shape [%" PRId64 ",%" PRId64 "]", g->path, label, Wv->dims[2], Wv->dims[3]);
    return;
  }
  if (node->n_in == 3 && node->in[2] >= 0) {
    int64_t bd[1] = {Wv->dims[0]};
    if (!SpatialWeight(g, node, 2, "B", 1, bd, 0, st)) return;
  }
  ks[0] = Wv->dims[2], ks[1] = Wv->dims[3];
  if (!(gm = (SpatialGeom *)OpData(g, node, sizeof(*gm), st))) return;
  GeomFromAttrs(g, node, X, ks[0], ks[1], 0, gm, st);
  if (st->code) {
    free(gm);
    return;
  }
  gm->M = Wv->dims[0], gm->G = group, gm->Cg = gm->C / group, gm->Mg = gm->M / group;
  gm->K = gm->Cg * gm->kh * gm->kw;
  if (gm->K > INT32_MAX / 64 || gm->P > INT32_MAX / 64 || gm->Mg > INT32_MAX / 64) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: the convolution is too large for this kernel (K = %" PRId64 ", pixels = %" PRId64 ")", g->path, label, gm->K, gm->P);
    free(gm);
    return;
  }
  free(node->op_data);
  node->op_data        = gm;
  node->aux_per_sample = 0;
  {
    int64_t yd[4] = {HESSA_ONNX_BATCH, gm->M, gm->OH, gm->OW};
    SetOutput(g, node, 4, yd);
  }
}

/* y[r] (= or +=) conv(x[r], W) for R rows, no bias. Stacks s rows into the columns of one
 * dgemm per group; out is scattered into y's [M][P] layout. */
static PetscErrorCode ConvRows(HessaOnnxKernel *K, const SpatialGeom *gm, int64_t R, const double *x, const double *W, double *y)
{
  const int64_t xs = gm->C * gm->H * gm->W, ys = gm->M * gm->P, P = gm->P;
  const int64_t s = SubBlock(R, (gm->K + gm->Mg) * P);
  double       *cols, *out;

  PetscFunctionBegin;
  PetscCall(Scratch(K, (size_t)(gm->K * s * P), 0, &cols));
  PetscCall(Scratch(K, (size_t)(gm->Mg * s * P), 1, &out));
  for (int64_t r0 = 0; r0 < R; r0 += s) {
    int64_t sr = R - r0 < s ? R - r0 : s;
    for (int64_t g = 0; g < gm->G; g++) {
      for (int64_t i = 0; i < sr; i++) Im2col(gm, x + (r0 + i) * xs, g, cols + i * P, sr * P);
      /* out [Mg][sr*P] = W_g [Mg][K] cols [K][sr*P] */
      Gemm(CblasNoTrans, CblasNoTrans, gm->Mg, sr * P, gm->K, W + g * gm->Mg * gm->K, gm->K, cols, sr * P, 0.0, out, sr * P);
      for (int64_t i = 0; i < sr; i++)
        for (int64_t o = 0; o < gm->Mg; o++) memcpy(y + (r0 + i) * ys + (g * gm->Mg + o) * P, out + o * sr * P + i * P, (size_t)P * sizeof(double));
    }
  }
  PetscFunctionReturn(0);
}

static void AddBias(const SpatialGeom *gm, int64_t R, int64_t nb, const double *B, int64_t Bstride, double *y)
{
  /* row r gets bias B + (r % nb) * Bstride */
  for (int64_t r = 0; r < R; r++) {
    const double *b = B + (r % nb) * Bstride;
    for (int64_t o = 0; o < gm->M; o++) {
      double *yo = y + (r * gm->M + o) * gm->P;
      for (int64_t p = 0; p < gm->P; p++) yo[p] += b[o];
    }
  }
}

static PetscErrorCode ConvForward(HessaOnnxKernel *K)
{
  const SpatialGeom *gm = (const SpatialGeom *)K->node->op_data;
  const double      *B  = K->node->n_in > 2 ? K->x[2] : NULL;

  PetscFunctionBegin;
  PetscCall(ConvRows(K, gm, K->m, K->x[0], K->x[1], K->y[0]));
  if (B) AddBias(gm, K->m, 1, B, 0, K->y[0]);
  PetscFunctionReturn(0);
}

/* dX[r] += conv^T(dY[r], W); dW_{r%nb} += dY[r] cols(X[r/nb])^T; dB_{r%nb} += sum dY[r]. */
static PetscErrorCode ConvBackward(HessaOnnxKernel *K)
{
  const SpatialGeom *gm = (const SpatialGeom *)K->node->op_data;
  const int64_t      xs = gm->C * gm->H * gm->W, ys = gm->M * gm->P, P = gm->P, nb = K->nb, Kc = gm->K, Mg = gm->Mg;
  const double      *X = K->x[0], *W = K->x[1], *dy = K->dy[0];
  double            *dX = K->dx[0], *dW = K->dx[1], *dB = K->node->n_in > 2 ? K->dx[2] : NULL;
  const int64_t      sizeW = gm->M * Kc;
  int64_t            s;
  double            *cols = NULL, *dyst, *dcols = NULL, *out = NULL;

  PetscFunctionBegin;
  if (dB) {
    for (int64_t r = 0; r < K->m * nb; r++) {
      double *db = dB + (r % nb) * gm->M;
      for (int64_t o = 0; o < gm->M; o++) {
        const double *d   = dy + r * ys + o * P;
        double        sum = 0.0;
        for (int64_t p = 0; p < P; p++) sum += d[p];
        db[o] += sum;
      }
    }
  }
  if (!dX && !dW) PetscFunctionReturn(0);
  /* per sample: dyst nb*Mg*P, dcols K*P (dX), cols K*P (dW) */
  s = SubBlock(K->m, nb * Mg * P + (dX ? Kc * P : 0) + (dW ? Kc * P : 0));
  PetscCall(Scratch(K, (size_t)(nb * Mg * s * P), 1, &dyst));
  if (dX) PetscCall(Scratch(K, (size_t)(Kc * s * P), 2, &dcols));
  if (dW) PetscCall(Scratch(K, (size_t)(Kc * s * P), 0, &cols));
  if (dW) PetscCall(Scratch(K, (size_t)(nb * Mg * Kc), 3, &out));
  for (int64_t i0 = 0; i0 < K->m; i0 += s) {
    int64_t si = K->m - i0 < s ? K->m - i0 : s, ld = si * P;
    for (int64_t g = 0; g < gm->G; g++) {
      /* dyst [nb][Mg][si*P]: direction j's adjoint of group g for the sub-block's samples */
      for (int64_t i = 0; i < si; i++)
        for (int64_t j = 0; j < nb; j++)
          for (int64_t o = 0; o < Mg; o++) memcpy(dyst + (j * Mg + o) * ld + i * P, dy + ((i0 + i) * nb + j) * ys + (g * Mg + o) * P, (size_t)P * sizeof(double));
      if (dX) {
        for (int64_t j = 0; j < nb; j++) {
          /* dcols [K][si*P] = W_g^T [K][Mg] dyst_j [Mg][si*P] */
          Gemm(CblasTrans, CblasNoTrans, Kc, ld, Mg, W + g * Mg * Kc, Kc, dyst + j * Mg * ld, ld, 0.0, dcols, ld);
          for (int64_t i = 0; i < si; i++) Col2im(gm, dcols + i * P, ld, g, dX + ((i0 + i) * nb + j) * xs);
        }
      }
      if (dW) {
        for (int64_t i = 0; i < si; i++) Im2col(gm, X + (i0 + i) * xs, g, cols + i * P, ld);
        /* out [nb*Mg][K] = dyst [nb*Mg][si*P] cols^T */
        Gemm(CblasNoTrans, CblasTrans, nb * Mg, Kc, ld, dyst, ld, cols, ld, 0.0, out, Kc);
        for (int64_t j = 0; j < nb; j++) {
          double       *dw = dW + j * sizeW + g * Mg * Kc;
          const double *o  = out + j * Mg * Kc;
          for (int64_t e = 0; e < Mg * Kc; e++) dw[e] += o[e];
        }
      }
    }
  }
  PetscFunctionReturn(0);
}

/* ty[i*b+j] = conv(tX[i*b+j], W) + conv(X[i], tW_j) + tB_j. */
static PetscErrorCode ConvJvp(HessaOnnxKernel *K)
{
  const SpatialGeom *gm = (const SpatialGeom *)K->node->op_data;
  const int64_t      xs = gm->C * gm->H * gm->W, ys = gm->M * gm->P, P = gm->P, b = K->nb, Kc = gm->K, Mg = gm->Mg, sizeW = gm->M * Kc;
  const double      *tX = K->tx[0], *tW = K->tx[1], *tB = K->node->n_in > 2 ? K->tx[2] : NULL;
  double            *ty = K->ty[0];

  PetscFunctionBegin;
  if (tX)
    PetscCall(ConvRows(K, gm, K->m * b, tX, K->x[1], ty));
  else
    memset(ty, 0, (size_t)(K->m * b * ys) * sizeof(double));
  if (tW) {
    const int64_t s = SubBlock(K->m, (Kc + b * Mg) * P);
    double       *cols, *out, *wst;

    PetscCall(Scratch(K, (size_t)(Kc * s * P), 0, &cols));
    PetscCall(Scratch(K, (size_t)(b * Mg * s * P), 1, &out));
    PetscCall(Scratch(K, (size_t)(b * Mg * Kc), 3, &wst));
    for (int64_t g = 0; g < gm->G; g++) {
      /* wst [b*Mg][K]: every direction's weights of group g on top of each other */
      for (int64_t j = 0; j < b; j++) memcpy(wst + j * Mg * Kc, tW + j * sizeW + g * Mg * Kc, (size_t)(Mg * Kc) * sizeof(double));
      for (int64_t i0 = 0; i0 < K->m; i0 += s) {
        int64_t si = K->m - i0 < s ? K->m - i0 : s, ld = si * P;
        for (int64_t i = 0; i < si; i++) Im2col(gm, K->x[0] + (i0 + i) * xs, g, cols + i * P, ld);
        Gemm(CblasNoTrans, CblasNoTrans, b * Mg, ld, Kc, wst, Kc, cols, ld, 0.0, out, ld);
        for (int64_t i = 0; i < si; i++)
          for (int64_t j = 0; j < b; j++)
            for (int64_t o = 0; o < Mg; o++) {
              double       *t = ty + ((i0 + i) * b + j) * ys + (g * Mg + o) * P;
              const double *u = out + (j * Mg + o) * ld + i * P;
              for (int64_t p = 0; p < P; p++) t[p] += u[p];
            }
      }
    }
  }
  if (tB) AddBias(gm, K->m * b, b, tB, gm->M, ty);
  PetscFunctionReturn(0);
}

/* The bilinear cross terms: dX[i*b+j] += conv^T(dY[i], tW_j); dW_j += dY[i] cols(tX[i*b+j])^T. */
static PetscErrorCode ConvSot(HessaOnnxKernel *K)
{
  const SpatialGeom *gm = (const SpatialGeom *)K->node->op_data;
  const int64_t      xs = gm->C * gm->H * gm->W, ys = gm->M * gm->P, P = gm->P, b = K->nb, Kc = gm->K, Mg = gm->Mg, sizeW = gm->M * Kc;
  const double      *tX = K->tx[0], *tW = K->tx[1], *dy = K->dy[0];
  double            *dX = K->dx[0], *dW = K->dx[1];
  const int          doX = dX && tW, doW = dW && tX;
  int64_t            s;
  double            *dyg, *big, *wst = NULL, *out = NULL;

  PetscFunctionBegin;
  if (!doX && !doW) PetscFunctionReturn(0);
  /* per sample: dyg Mg*P, big b*K*P (the directions' columns, either pass) */
  s = SubBlock(K->m, Mg * P + b * Kc * P);
  PetscCall(Scratch(K, (size_t)(Mg * s * P), 1, &dyg));
  PetscCall(Scratch(K, (size_t)(b * Kc * s * P), 0, &big));
  if (doX) PetscCall(Scratch(K, (size_t)(b * Kc * Mg), 3, &wst));
  if (doW) PetscCall(Scratch(K, (size_t)(Mg * b * Kc), 2, &out));
  for (int64_t g = 0; g < gm->G; g++) {
    if (doX) {
      /* wst [b*K][Mg]: wst[j*K + k][o] = tW_j[g*Mg + o][k] */
      for (int64_t j = 0; j < b; j++)
        for (int64_t o = 0; o < Mg; o++) {
          const double *w = tW + j * sizeW + (g * Mg + o) * Kc;
          for (int64_t k = 0; k < Kc; k++) wst[(j * Kc + k) * Mg + o] = w[k];
        }
    }
    for (int64_t i0 = 0; i0 < K->m; i0 += s) {
      int64_t si = K->m - i0 < s ? K->m - i0 : s, ld = si * P;
      for (int64_t i = 0; i < si; i++)
        for (int64_t o = 0; o < Mg; o++) memcpy(dyg + o * ld + i * P, dy + (i0 + i) * ys + (g * Mg + o) * P, (size_t)P * sizeof(double));
      if (doX) {
        /* big [b*K][si*P] = wst [b*K][Mg] dyg [Mg][si*P]; direction j's columns go to rows i*b+j */
        Gemm(CblasNoTrans, CblasNoTrans, b * Kc, ld, Mg, wst, Mg, dyg, ld, 0.0, big, ld);
        for (int64_t j = 0; j < b; j++)
          for (int64_t i = 0; i < si; i++) Col2im(gm, big + j * Kc * ld + i * P, ld, g, dX + ((i0 + i) * b + j) * xs);
      }
      if (doW) {
        /* big [b*K][si*P]: cols of tX[i*b+j]; out [Mg][b*K] = dyg big^T */
        for (int64_t j = 0; j < b; j++)
          for (int64_t i = 0; i < si; i++) Im2col(gm, tX + ((i0 + i) * b + j) * xs, g, big + j * Kc * ld + i * P, ld);
        Gemm(CblasNoTrans, CblasTrans, Mg, b * Kc, ld, dyg, ld, big, ld, 0.0, out, b * Kc);
        for (int64_t j = 0; j < b; j++)
          for (int64_t o = 0; o < Mg; o++) {
            double       *dw = dW + j * sizeW + (g * Mg + o) * Kc;
            const double *u  = out + o * b * Kc + j * Kc;
            for (int64_t k = 0; k < Kc; k++) dw[k] += u[k];
          }
      }
    }
  }
  PetscFunctionReturn(0);
}

/* ---- BatchNormalization (inference form) --------------------------------------------- */
/* y = scale * xhat + B, xhat = (x - mean) / sqrt(var + eps), per channel c of [C][S]. */
static void BatchNormInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  const HessaOnnxValue *X;
  BatchNormData        *bn;
  const char           *names[5] = {"X", "scale", "B", "input_mean", "input_var"};
  char                  label[256];

  HessaOnnxNodeLabel(node, label, sizeof(label));
  CheckOutputs(g, node, 1, " (only the inference form is supported: export the model in eval mode)", st);
  if (st->code) return;
  if (HessaOnnxAttrInt(node, "training_mode", 0) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: training_mode = 1 is not supported (export the model in eval mode)", g->path, label);
    return;
  }
  if (node->n_in != 5) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: expected 5 inputs (X, scale, B, input_mean, input_var), found %d", g->path, label, node->n_in);
    return;
  }
  if (!(X = SpatialInput(g, node, 2, HESSA_ONNX_MAX_DIMS, st))) return;
  for (int i = 1; i < 5; i++) {
    int64_t               cd[1] = {X->dims[1]};
    const HessaOnnxValue *v     = SpatialWeight(g, node, i, names[i], 1, cd, 0, st);
    if (!v) return;
    if (i >= 3 && (v->differentiable || v->kind != HESSA_ONNX_CONST || !v->value)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input %s '%s' must be a constant (the running statistics)", g->path, label, names[i], v->name);
      return;
    }
  }
  {
    double        eps = HessaOnnxAttrFloat(node, "epsilon", 1e-5);
    const double *var = g->values[node->in[4]].value;
    if (!(eps >= 0.0) || !isfinite(eps)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: epsilon must be finite and >= 0, found %g", g->path, label, eps);
      return;
    }
    for (int64_t c = 0; c < X->dims[1]; c++) {
      if (!(var[c] + eps > 0.0) || !isfinite(var[c])) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input_var[%" PRId64 "] + epsilon must be finite and > 0, found %g + %g", g->path, label, c, var[c], eps);
        return;
      }
    }
    if (!(bn = (BatchNormData *)OpData(g, node, sizeof(*bn), st))) return;
    bn->C   = X->dims[1];
    bn->S   = X->size / bn->C;
    bn->eps = eps;
  }
  free(node->op_data);
  node->op_data        = bn;
  node->aux_per_sample = 0;
  SetOutput(g, node, X->ndim, X->dims);
}

/* inv[c] = 1 / sqrt(var + eps), the per-channel factor; shift[c] = mean */
#define BN_INV(bn, var, c) (1.0 / sqrt((var)[c] + (bn)->eps))

static PetscErrorCode BatchNormForward(HessaOnnxKernel *K)
{
  const BatchNormData *bn = (const BatchNormData *)K->node->op_data;
  const double        *X = K->x[0], *scale = K->x[1], *B = K->x[2], *mean = K->x[3], *var = K->x[4];

  PetscFunctionBegin;
  for (int64_t c = 0; c < bn->C; c++) {
    double a = scale[c] * BN_INV(bn, var, c);
    for (int64_t i = 0; i < K->m; i++) {
      const double *x = X + (i * bn->C + c) * bn->S;
      double       *y = K->y[0] + (i * bn->C + c) * bn->S;
      for (int64_t e = 0; e < bn->S; e++) y[e] = a * (x[e] - mean[c]) + B[c];
    }
  }
  PetscFunctionReturn(0);
}

/* dX[r] += scale*inv*dY[r]; dscale_{r%nb} += sum dY[r]*xhat[r/nb]; dB_{r%nb} += sum dY[r]. */
static PetscErrorCode BatchNormBackward(HessaOnnxKernel *K)
{
  const BatchNormData *bn = (const BatchNormData *)K->node->op_data;
  const double        *X = K->x[0], *scale = K->x[1], *mean = K->x[3], *var = K->x[4], *dy = K->dy[0];
  double              *dX = K->dx[0], *ds = K->dx[1], *dB = K->dx[2];
  const int64_t        nb = K->nb;

  PetscFunctionBegin;
  for (int64_t r = 0; r < K->m * nb; r++) {
    const int64_t i = r / nb, j = r % nb;
    for (int64_t c = 0; c < bn->C; c++) {
      const double  inv = BN_INV(bn, var, c), a = scale[c] * inv;
      const double *d = dy + (r * bn->C + c) * bn->S, *x = X + (i * bn->C + c) * bn->S;
      double        sd = 0.0, sdx = 0.0;
      if (dX) {
        double *dx = dX + (r * bn->C + c) * bn->S;
        for (int64_t e = 0; e < bn->S; e++) dx[e] += a * d[e];
      }
      for (int64_t e = 0; e < bn->S; e++) sd += d[e], sdx += d[e] * (x[e] - mean[c]);
      if (ds) ds[j * bn->C + c] += sdx * inv;
      if (dB) dB[j * bn->C + c] += sd;
    }
  }
  PetscFunctionReturn(0);
}

/* ty[i*b+j] = scale*inv*tX[i*b+j] + tscale_j*xhat[i] + tB_j. */
static PetscErrorCode BatchNormJvp(HessaOnnxKernel *K)
{
  const BatchNormData *bn = (const BatchNormData *)K->node->op_data;
  const double        *X = K->x[0], *scale = K->x[1], *mean = K->x[3], *var = K->x[4];
  const double        *tX = K->tx[0], *ts = K->tx[1], *tB = K->tx[2];
  const int64_t        b = K->nb;

  PetscFunctionBegin;
  for (int64_t r = 0; r < K->m * b; r++) {
    const int64_t i = r / b, j = r % b;
    for (int64_t c = 0; c < bn->C; c++) {
      const double  inv = BN_INV(bn, var, c), a = scale[c] * inv;
      const double  sj = ts ? ts[j * bn->C + c] * inv : 0.0, bj = tB ? tB[j * bn->C + c] : 0.0;
      const double *x = X + (i * bn->C + c) * bn->S, *tx = tX ? tX + (r * bn->C + c) * bn->S : NULL;
      double       *ty = K->ty[0] + (r * bn->C + c) * bn->S;
      for (int64_t e = 0; e < bn->S; e++) ty[e] = (tx ? a * tx[e] : 0.0) + sj * (x[e] - mean[c]) + bj;
    }
  }
  PetscFunctionReturn(0);
}

/* The cross terms of scale*x: dX[i*b+j] += tscale_j*inv*dY[i]; dscale_j += sum dY[i]*tX[i*b+j]*inv. */
static PetscErrorCode BatchNormSot(HessaOnnxKernel *K)
{
  const BatchNormData *bn  = (const BatchNormData *)K->node->op_data;
  const double        *var = K->x[4], *tX = K->tx[0], *ts = K->tx[1], *dy = K->dy[0];
  double              *dX = K->dx[0], *ds = K->dx[1];
  const int64_t        b = K->nb;

  PetscFunctionBegin;
  for (int64_t r = 0; r < K->m * b; r++) {
    const int64_t i = r / b, j = r % b;
    for (int64_t c = 0; c < bn->C; c++) {
      const double  inv = BN_INV(bn, var, c);
      const double *d   = dy + (i * bn->C + c) * bn->S;
      if (dX && ts) {
        double *dx = dX + (r * bn->C + c) * bn->S;
        double  a  = ts[j * bn->C + c] * inv;
        for (int64_t e = 0; e < bn->S; e++) dx[e] += a * d[e];
      }
      if (ds && tX) {
        const double *tx  = tX + (r * bn->C + c) * bn->S;
        double        sum = 0.0;
        for (int64_t e = 0; e < bn->S; e++) sum += d[e] * tx[e];
        ds[j * bn->C + c] += sum * inv;
      }
    }
  }
  PetscFunctionReturn(0);
}

/* ---- MaxPool and AveragePool ------------------------------------------------------------ */
static void PoolInfer(HessaOnnxGraph *g, HessaOnnxNode *node, PoolKind kind, HessaStatus *st)
{
  const HessaOnnxValue *X;
  PoolData             *pd;
  int64_t               ks[2], n;
  const int64_t        *kshape;
  int64_t               ceil_mode = HessaOnnxAttrInt(node, "ceil_mode", 0);
  char                  label[256];

  HessaOnnxNodeLabel(node, label, sizeof(label));
  CheckOutputs(g, node, 1, kind == POOL_MAX ? " (the Indices output is not supported)" : "", st);
  if (st->code) return;
  if (node->n_in != 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: expected 1 input, found %d", g->path, label, node->n_in);
    return;
  }
  if (!(X = SpatialInput(g, node, 4, 4, st))) return;
  kshape = AttrInts(g, node, "kernel_shape", &n, st);
  if (st->code) return;
  if (!kshape || n != 2 || kshape[0] < 1 || kshape[1] < 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: attribute kernel_shape must be 2 positive ints (2-D pooling)", g->path, label);
    return;
  }
  if (ceil_mode != 0 && ceil_mode != 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: ceil_mode must be 0 or 1, found %" PRId64, g->path, label, ceil_mode);
    return;
  }
  if (kind == POOL_MAX && HessaOnnxAttrInt(node, "storage_order", 0) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: storage_order = 1 is not supported", g->path, label);
    return;
  }
  ks[0] = kshape[0], ks[1] = kshape[1];
  if (!(pd = (PoolData *)OpData(g, node, sizeof(*pd), st))) return;
  pd->kind = kind;
  GeomFromAttrs(g, node, X, ks[0], ks[1], (int)ceil_mode, &pd->geom, st);
  if (!st->code && kind == POOL_AVERAGE && (pd->geom.dh != 1 || pd->geom.dw != 1)) HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: AveragePool with dilations is not supported", g->path, label);
  if (!st->code) {
    /* every window must see at least one input element (else MaxPool has no maximum) */
    const SpatialGeom *gm    = &pd->geom;
    int                empty = 0;
    for (int64_t oh = 0; oh < gm->OH; oh++) {
      int hit = 0;
      for (int64_t i = 0; i < gm->kh; i++) hit |= oh * gm->sh - gm->pt + i * gm->dh >= 0 && oh * gm->sh - gm->pt + i * gm->dh < gm->H;
      empty |= !hit;
    }
    for (int64_t ow = 0; ow < gm->OW; ow++) {
      int hit = 0;
      for (int64_t j = 0; j < gm->kw; j++) hit |= ow * gm->sw - gm->pl + j * gm->dw >= 0 && ow * gm->sw - gm->pl + j * gm->dw < gm->W;
      empty |= !hit;
    }
    if (empty) HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: with these pads some pooling windows lie entirely in the padding", g->path, label);
  }
  if (st->code) {
    free(pd);
    return;
  }
  pd->geom.M = pd->geom.G = pd->geom.C, pd->geom.Cg = pd->geom.Mg = 1;
  pd->geom.K                 = pd->geom.kh * pd->geom.kw;
  pd->geom.count_include_pad = (int)HessaOnnxAttrInt(node, "count_include_pad", 0);
  free(node->op_data);
  node->op_data        = pd;
  node->aux_per_sample = kind == POOL_MAX ? (size_t)(pd->geom.C * pd->geom.P) : 0;
  {
    int64_t yd[4] = {HESSA_ONNX_BATCH, pd->geom.C, pd->geom.OH, pd->geom.OW};
    SetOutput(g, node, 4, yd);
  }
}

static void MaxPoolInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PoolInfer(g, node, POOL_MAX, st);
}

static void AveragePoolInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PoolInfer(g, node, POOL_AVERAGE, st);
}

/* MaxPool: y = the window's maximum (the first one on ties, as PyTorch); aux keeps the
 * index h*W + w of it in the channel, for the other passes. */
static PetscErrorCode MaxPoolForward(HessaOnnxKernel *K)
{
  const SpatialGeom *gm = &((const PoolData *)K->node->op_data)->geom;

  PetscFunctionBegin;
  for (int64_t rc = 0; rc < K->m * gm->C; rc++) {
    const double *x   = K->x[0] + rc * gm->H * gm->W;
    double       *y   = K->y[0] + rc * gm->P;
    double       *arg = K->aux + rc * gm->P;
    for (int64_t oh = 0; oh < gm->OH; oh++)
      for (int64_t ow = 0; ow < gm->OW; ow++) {
        double  best = -INFINITY;
        int64_t at   = -1;
        for (int64_t i = 0; i < gm->kh; i++) {
          int64_t ih = oh * gm->sh - gm->pt + i * gm->dh;
          if (ih < 0 || ih >= gm->H) continue;
          for (int64_t j = 0; j < gm->kw; j++) {
            int64_t iw = ow * gm->sw - gm->pl + j * gm->dw;
            if (iw < 0 || iw >= gm->W) continue;
            double v = x[ih * gm->W + iw];
            /* strict >: the first maximum wins; a NaN propagates */
            if (at < 0 || v > best || (isnan(v) && !isnan(best))) best = v, at = ih * gm->W + iw;
          }
        }
        y[oh * gm->OW + ow]   = best;
        arg[oh * gm->OW + ow] = (double)at;
      }
  }
  PetscFunctionReturn(0);
}

/* dX[r][argmax[r/nb]] += dY[r] */
static PetscErrorCode MaxPoolBackward(HessaOnnxKernel *K)
{
  const SpatialGeom *gm = &((const PoolData *)K->node->op_data)->geom;
  const int64_t      nb = K->nb;

  PetscFunctionBegin;
  if (!K->dx[0]) PetscFunctionReturn(0);
  for (int64_t r = 0; r < K->m * nb; r++)
    for (int64_t c = 0; c < gm->C; c++) {
      const double *arg = K->aux + ((r / nb) * gm->C + c) * gm->P, *dy = K->dy[0] + (r * gm->C + c) * gm->P;
      double       *dx = K->dx[0] + (r * gm->C + c) * gm->H * gm->W;
      for (int64_t p = 0; p < gm->P; p++) dx[(int64_t)arg[p]] += dy[p];
    }
  PetscFunctionReturn(0);
}

/* ty[r] = tX[r][argmax[r/b]] */
static PetscErrorCode MaxPoolJvp(HessaOnnxKernel *K)
{
  const SpatialGeom *gm = &((const PoolData *)K->node->op_data)->geom;
  const int64_t      b  = K->nb;

  PetscFunctionBegin;
  for (int64_t r = 0; r < K->m * b; r++)
    for (int64_t c = 0; c < gm->C; c++) {
      const double *arg = K->aux + ((r / b) * gm->C + c) * gm->P;
      double       *ty  = K->ty[0] + (r * gm->C + c) * gm->P;
      if (!K->tx[0]) {
        memset(ty, 0, (size_t)gm->P * sizeof(double));
        continue;
      }
      const double *tx = K->tx[0] + (r * gm->C + c) * gm->H * gm->W;
      for (int64_t p = 0; p < gm->P; p++) ty[p] = tx[(int64_t)arg[p]];
    }
  PetscFunctionReturn(0);
}

/* AveragePool window of output (oh, ow): rows [h0, h1), columns [w0, w1) of the input
 * and the divisor (PyTorch's: with count_include_pad the window clipped to the padded
 * input, else the elements inside the input). */
static void AverageWindow(const SpatialGeom *gm, int64_t oh, int64_t ow, int64_t *h0, int64_t *h1, int64_t *w0, int64_t *w1, double *div)
{
  int64_t hs = oh * gm->sh - gm->pt, ws = ow * gm->sw - gm->pl;
  int64_t he = hs + gm->kh, we = ws + gm->kw;
  int64_t pool = ((he < gm->H + gm->pb ? he : gm->H + gm->pb) - hs) * ((we < gm->W + gm->pr ? we : gm->W + gm->pr) - ws);

  *h0 = hs < 0 ? 0 : hs, *h1 = he > gm->H ? gm->H : he;
  *w0 = ws < 0 ? 0 : ws, *w1 = we > gm->W ? gm->W : we;
  *div = gm->count_include_pad ? (double)pool : (double)((*h1 - *h0) * (*w1 - *w0));
}

/* y[r] = avgpool(x[r]) for R rows (forward and jvp: the op is linear) */
static void AveragePoolRows(const SpatialGeom *gm, int64_t R, const double *X, double *Y)
{
  for (int64_t rc = 0; rc < R * gm->C; rc++) {
    const double *x = X + rc * gm->H * gm->W;
    double       *y = Y + rc * gm->P;
    for (int64_t oh = 0; oh < gm->OH; oh++)
      for (int64_t ow = 0; ow < gm->OW; ow++) {
        int64_t h0, h1, w0, w1;
        double  div, sum = 0.0;
        AverageWindow(gm, oh, ow, &h0, &h1, &w0, &w1, &div);
        for (int64_t h = h0; h < h1; h++)
          for (int64_t w = w0; w < w1; w++) sum += x[h * gm->W + w];
        y[oh * gm->OW + ow] = sum / div;
      }
  }
}

static PetscErrorCode AveragePoolForward(HessaOnnxKernel *K)
{
  PetscFunctionBegin;
  AveragePoolRows(&((const PoolData *)K->node->op_data)->geom, K->m, K->x[0], K->y[0]);
  PetscFunctionReturn(0);
}

static PetscErrorCode AveragePoolJvp(HessaOnnxKernel *K)
{
  const SpatialGeom *gm = &((const PoolData *)K->node->op_data)->geom;

  PetscFunctionBegin;
  if (K->tx[0])
    AveragePoolRows(gm, K->m * K->nb, K->tx[0], K->ty[0]);
  else
    memset(K->ty[0], 0, (size_t)(K->m * K->nb * gm->C * gm->P) * sizeof(double));
  PetscFunctionReturn(0);
}

static PetscErrorCode AveragePoolBackward(HessaOnnxKernel *K)
{
  const SpatialGeom *gm = &((const PoolData *)K->node->op_data)->geom;

  PetscFunctionBegin;
  if (!K->dx[0]) PetscFunctionReturn(0);
  for (int64_t rc = 0; rc < K->m * K->nb * gm->C; rc++) {
    const double *dy = K->dy[0] + rc * gm->P;
    double       *dx = K->dx[0] + rc * gm->H * gm->W;
    for (int64_t oh = 0; oh < gm->OH; oh++)
      for (int64_t ow = 0; ow < gm->OW; ow++) {
        int64_t h0, h1, w0, w1;
        double  div, d;
        AverageWindow(gm, oh, ow, &h0, &h1, &w0, &w1, &div);
        d = dy[oh * gm->OW + ow] / div;
        for (int64_t h = h0; h < h1; h++)
          for (int64_t w = w0; w < w1; w++) dx[h * gm->W + w] += d;
      }
  }
  PetscFunctionReturn(0);
}

/* ---- GlobalAveragePool ------------------------------------------------------------------ */
static void GlobalAveragePoolInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  const HessaOnnxValue *X;
  GlobalPoolData       *gp;
  int64_t               yd[HESSA_ONNX_MAX_DIMS];
  char                  label[256];

  HessaOnnxNodeLabel(node, label, sizeof(label));
  CheckOutputs(g, node, 1, "", st);
  if (st->code) return;
  if (node->n_in != 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: expected 1 input, found %d", g->path, label, node->n_in);
    return;
  }
  if (!(X = SpatialInput(g, node, 3, HESSA_ONNX_MAX_DIMS, st))) return;
  if (!(gp = (GlobalPoolData *)OpData(g, node, sizeof(*gp), st))) return;
  gp->C = X->dims[1];
  gp->S = X->size / gp->C;
  free(node->op_data);
  node->op_data        = gp;
  node->aux_per_sample = 0;
  yd[0] = HESSA_ONNX_BATCH, yd[1] = gp->C;
  for (int d = 2; d < X->ndim; d++) yd[d] = 1;
  SetOutput(g, node, X->ndim, yd);
}

static void GlobalAverageRows(const GlobalPoolData *gp, int64_t R, const double *X, double *Y)
{
  for (int64_t rc = 0; rc < R * gp->C; rc++) {
    const double *x   = X + rc * gp->S;
    double        sum = 0.0;
    for (int64_t e = 0; e < gp->S; e++) sum += x[e];
    Y[rc] = sum / (double)gp->S;
  }
}

static PetscErrorCode GlobalAveragePoolForward(HessaOnnxKernel *K)
{
  PetscFunctionBegin;
  GlobalAverageRows((const GlobalPoolData *)K->node->op_data, K->m, K->x[0], K->y[0]);
  PetscFunctionReturn(0);
}

static PetscErrorCode GlobalAveragePoolJvp(HessaOnnxKernel *K)
{
  const GlobalPoolData *gp = (const GlobalPoolData *)K->node->op_data;

  PetscFunctionBegin;
  if (K->tx[0])
    GlobalAverageRows(gp, K->m * K->nb, K->tx[0], K->ty[0]);
  else
    memset(K->ty[0], 0, (size_t)(K->m * K->nb * gp->C) * sizeof(double));
  PetscFunctionReturn(0);
}

static PetscErrorCode GlobalAveragePoolBackward(HessaOnnxKernel *K)
{
  const GlobalPoolData *gp = (const GlobalPoolData *)K->node->op_data;

  PetscFunctionBegin;
  if (!K->dx[0]) PetscFunctionReturn(0);
  for (int64_t rc = 0; rc < K->m * K->nb * gp->C; rc++) {
    double  d  = K->dy[0][rc] / (double)gp->S;
    double *dx = K->dx[0] + rc * gp->S;
    for (int64_t e = 0; e < gp->S; e++) dx[e] += d;
  }
  PetscFunctionReturn(0);
}

/* ---- the table ------------------------------------------------------------------------- */
const HessaOnnxOp HessaOnnxOpsSpatial[] = {
    {"Conv", ConvInfer, ConvForward, ConvBackward, ConvJvp, ConvSot, 0},
    {"BatchNormalization", BatchNormInfer, BatchNormForward, BatchNormBackward, BatchNormJvp, BatchNormSot, (1u << 3) | (1u << 4)},
    {"MaxPool", MaxPoolInfer, MaxPoolForward, MaxPoolBackward, MaxPoolJvp, NULL, 0},
    {"AveragePool", AveragePoolInfer, AveragePoolForward, AveragePoolBackward, AveragePoolJvp, NULL, 0},
    {"GlobalAveragePool", GlobalAveragePoolInfer, GlobalAveragePoolForward, GlobalAveragePoolBackward, GlobalAveragePoolJvp, NULL, 0},
};
const int HessaOnnxOpsSpatialCount = (int)(sizeof(HessaOnnxOpsSpatial) / sizeof(HessaOnnxOpsSpatial[0]));
