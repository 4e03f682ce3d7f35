/* ONNX kernels of the linear family: Gemm, MatMul (a GEMM against a non-batched 2-D right
 * operand; the batched MatMul is in onnx_ops_attention.c) and the broadcasting binary ops Add, Sub, Mul, Div.
 *
 * Layouts (onnx_impl.h): a batched value is [m][size]; its tangents (b directions) and
 * R-adjoints are [m*b][size] with row i*b + j for sample i, direction j; a non-batched
 * value is [size], its tangents [b][size] and its adjoints [nb][size] summed over the
 * samples.
 *
 * GEMM ops. A holds P rows of K per sample (Gemm: P = 1; MatMul: the product of A's
 * middle dims), B' = op(B) is [K][M] (Gemm's transB), Y = alpha A B' (+ beta C) holds P
 * rows of M per sample. In the parameter phase A is not batched and m = 1, so the same
 * code covers a [P][K] x [K][M] product of parameters. Stacked as [m*P][K] (values) or
 * [m*b*P][K] (tangents), every pass is one or a few dgemm calls over the whole chunk:
 *   forward  Y   = alpha A B' + beta C
 *   jvp      tY  = alpha (tA B' + A tB') + beta tC     (A tB' for all b directions in one
 *                  GEMM against the directions packed side by side, [K][b*M])
 *   backward dA += alpha dY B'^T, dB += alpha A^T dY (summed over samples), dC += beta dY
 *   sot      dA += alpha dY1 tB'^T, dB += alpha tA^T dY1 (the bilinear term A x B)
 *
 * Binary ops broadcast by an offset table built at load: for output element k of a
 * sample, off[k] is the element of the input it reads (NULL: k itself). Adjoints of a
 * broadcast input add the output elements that read it. */
#include "onnx_impl.h"
#include "onnx_attention.h"
#include <cblas.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---------------------------------------------------------------------------- */

static inline int64_t Ix(const int64_t *off, int64_t k)
{
  return off ? off[k] : k;
}

/* C [M][N] (+)= alpha op(A) op(B), row-major; nothing to do for an empty product. */
static void Gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, double alpha, const double *A, int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc)
{
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (beta != 1.0)
      for (int64_t r = 0; r < M; r++)
        for (int64_t c = 0; c < N; c++) C[r * ldc + c] *= beta;
    return;
  }
  cblas_dgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

/* ---- broadcasting ----------------------------------------------------------------------- */

typedef struct {
  int64_t  size_out; /* elements of the output per sample (or in all when not batched) */
  int64_t  size_in;  /* elements of the input per sample (or in all) */
  int      batched;  /* the input is batched */
  int64_t *off;      /* [size_out]: input element read by output element k; NULL: k */
} Bcast;

/* Output shape of ONNX multidirectional broadcasting of n values, the batch (dims[0] of a
 * batched value) kept as a symbol that broadcasts only against 1 and only in place 0. */
static void BroadcastShape(const HessaOnnxGraph *g, const HessaOnnxNode *node, int n, const HessaOnnxValue *const *v, int *ndim, int64_t *dims, int *batched, HessaStatus *st)
{
  char lab[256], s1[128], s2[128];
  int  R = 0;

  *batched = 0;
  for (int k = 0; k < n; k++)
    if (v[k]) R = v[k]->ndim > R ? v[k]->ndim : R;
  for (int p = 0; p < R; p++) dims[p] = 1;
  for (int k = 0; k < n; k++) {
    if (!v[k]) continue;
    for (int q = 0; q < v[k]->ndim; q++) {
      const int     p = R - v[k]->ndim + q;
      const int64_t d = v[k]->dims[q];
      if (d == HESSA_ONNX_BATCH) {
        if (p != 0) {
          HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: the batched input '%s' %s has a lower rank than the output (rank %d), so broadcasting would move the batch; hessa needs the batch in the first dimension of both", g->path,
                         HessaOnnxNodeLabel(node, lab, sizeof lab), v[k]->name, HessaOnnxDimsString(v[k]->ndim, v[k]->dims, s1, sizeof s1), R);
          return;
        }
        if (dims[p] != 1 && dims[p] != HESSA_ONNX_BATCH) goto mismatch;
        dims[p] = d, *batched = 1;
      } else if (d != 1) {
        if (dims[p] == HESSA_ONNX_BATCH || (dims[p] != 1 && dims[p] != d)) goto mismatch;
        dims[p] = d;
      }
    }
  }
  *ndim = R;
  return;
mismatch:
  if (n >= 2 && v[0] && v[1])
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input shapes %s ('%s') and %s ('%s') do not broadcast (each dimension must be equal or 1; a non-batched input must have 1 where the other has the batch)", g->path,
                   HessaOnnxNodeLabel(node, lab, sizeof lab), HessaOnnxDimsString(v[0]->ndim, v[0]->dims, s1, sizeof s1), v[0]->name, HessaOnnxDimsString(v[1]->ndim, v[1]->dims, s2, sizeof s2), v[1]->name);
  else
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input shapes do not broadcast", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab));
}

/* The offset table of input v read as the output shape (ndim, dims, batched). */
static void BcastBuild(int ndim, const int64_t *dims, int out_batched, const HessaOnnxValue *v, Bcast *bc, HessaStatus *st)
{
  int64_t stride[HESSA_ONNX_MAX_DIMS], idx[HESSA_ONNX_MAX_DIMS] = {0}, s = 1;
  int     first = out_batched ? 1 : 0, identity = 1;

  bc->batched  = v->batched;
  bc->size_in  = v->size;
  bc->off      = NULL;
  bc->size_out = 1;
  for (int p = first; p < ndim; p++) bc->size_out *= dims[p];
  /* strides of v aligned to the output's dims (0 where v broadcasts) */
  for (int p = ndim - 1; p >= 0; p--) {
    const int q = p - (ndim - v->ndim);
    stride[p]   = 0;
    if (q < 0 || (v->batched && q == 0)) continue;
    if (v->dims[q] != 1) stride[p] = s;
    s *= v->dims[q];
  }
  if (v->size == bc->size_out) {
    for (int p = first; p < ndim; p++)
      if (dims[p] != 1 && stride[p] == 0) identity = 0;
    if (identity) return;
  }
  bc->off = (int64_t *)malloc((size_t)(bc->size_out > 0 ? bc->size_out : 1) * sizeof(int64_t));
  if (!bc->off) {
    HessaStatusSet(st, PETSC_ERR_MEM, "out of memory for a broadcast table of %lld entries", (long long)bc->size_out);
    return;
  }
  for (int64_t k = 0; k < bc->size_out; k++) {
    int64_t o = 0;
    for (int p = first; p < ndim; p++) o += idx[p] * stride[p];
    bc->off[k] = o;
    for (int p = ndim - 1; p >= first; p--) {
      if (++idx[p] < dims[p]) break;
      idx[p] = 0;
    }
  }
}

static int InputIsInt(const HessaOnnxGraph *g, const HessaOnnxNode *node, int nin, HessaStatus *st)
{
  char lab[256];
  for (int k = 0; k < nin; k++) {
    const HessaOnnxValue *v = node->in[k] >= 0 ? &g->values[node->in[k]] : NULL;
    if (v && v->is_int) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: input '%s' holds integers; hessa runs this op on floating-point tensors only", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab), v->name);
      return 1;
    }
  }
  return 0;
}

/* ---- Add, Sub, Mul, Div ----------------------------------------------------------------- */

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } BinKind;

typedef struct {
  BinKind kind;
  Bcast   in[2];
} BinData;

static void BinFree(void *p)
{
  BinData *d = (BinData *)p;
  if (!d) return;
  free(d->in[0].off);
  free(d->in[1].off);
}

static void BinaryInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st, BinKind kind)
{
  char                  lab[256];
  const HessaOnnxValue *v[2];
  HessaOnnxValue       *out;
  int                   ndim = 0, batched = 0;
  int64_t               dims[HESSA_ONNX_MAX_DIMS];
  BinData              *d;

  if (node->n_in != 2 || node->n_out != 1 || node->in[0] < 0 || node->in[1] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: expected 2 inputs and 1 output, found %d and %d", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab), node->n_in, node->n_out);
    return;
  }
  if (InputIsInt(g, node, 2, st)) return;
  v[0] = &g->values[node->in[0]];
  v[1] = &g->values[node->in[1]];
  BroadcastShape(g, node, 2, v, &ndim, dims, &batched, st);
  if (st->code) return;
  out = &g->values[node->out[0]];
  HessaOnnxValueSetShape(out, ndim, dims, batched);
  out->differentiable = v[0]->differentiable || v[1]->differentiable;
  out->is_int         = 0;
  out->elem_type      = 11;
  d                   = (BinData *)calloc(1, sizeof *d);
  if (!d) {
    HessaStatusSet(st, PETSC_ERR_MEM, "out of memory");
    return;
  }
  d->kind = kind;
  free(node->op_data);
  node->op_data        = d;
  node->aux_per_sample = 0;
  for (int k = 0; k < 2; k++) BcastBuild(ndim, dims, batched, v[k], &d->in[k], st);
  /* the tables live in op_data, which the graph frees with free(): keep them inside one block */
  if (!st->code && (d->in[0].off || d->in[1].off)) {
    const size_t n0 = d->in[0].off ? (size_t)d->in[0].size_out : 0, n1 = d->in[1].off ? (size_t)d->in[1].size_out : 0;
    BinData     *e = (BinData *)malloc(sizeof *e + (n0 + n1) * sizeof(int64_t));
    if (!e) {
      HessaStatusSet(st, PETSC_ERR_MEM, "out of memory");
      BinFree(d);
      return;
    }
    *e = *d;
    if (n0) e->in[0].off = (int64_t *)(e + 1), memcpy(e->in[0].off, d->in[0].off, n0 * sizeof(int64_t));
    if (n1) e->in[1].off = (int64_t *)(e + 1) + n0, memcpy(e->in[1].off, d->in[1].off, n1 * sizeof(int64_t));
    BinFree(d);
    free(d);
    node->op_data = e;
  }
}

static void AddInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  BinaryInfer(g, node, st, BIN_ADD);
}
static void SubInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  BinaryInfer(g, node, st, BIN_SUB);
}
static void MulInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  BinaryInfer(g, node, st, BIN_MUL);
}
static void DivInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  BinaryInfer(g, node, st, BIN_DIV);
}

/* first derivatives of y = f(a, b) */
static inline void BinGrad(BinKind kind, double a, double b, double *ga, double *gb)
{
  *ga = 1.0, *gb = 1.0;
  switch (kind) {
  case BIN_ADD:
    break;
  case BIN_SUB:
    *ga = 1.0, *gb = -1.0;
    break;
  case BIN_MUL:
    *ga = b, *gb = a;
    break;
  case BIN_DIV:
    *ga = 1.0 / b, *gb = -a / (b * b);
    break;
  }
}

static PetscErrorCode BinaryForward(HessaOnnxKernel *K)
{
  const BinData *d  = (const BinData *)K->node->op_data;
  const int64_t  so = d->in[0].size_out;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < K->m; i++) {
    const double  *a = K->x[0] + (d->in[0].batched ? i * d->in[0].size_in : 0), *b = K->x[1] + (d->in[1].batched ? i * d->in[1].size_in : 0);
    const int64_t *oa = d->in[0].off, *ob = d->in[1].off;
    double        *y = K->y[0] + (size_t)i * so;
    switch (d->kind) {
    case BIN_ADD:
      for (int64_t k = 0; k < so; k++) y[k] = a[Ix(oa, k)] + b[Ix(ob, k)];
      break;
    case BIN_SUB:
      for (int64_t k = 0; k < so; k++) y[k] = a[Ix(oa, k)] - b[Ix(ob, k)];
      break;
    case BIN_MUL:
      for (int64_t k = 0; k < so; k++) y[k] = a[Ix(oa, k)] * b[Ix(ob, k)];
      break;
    case BIN_DIV:
      for (int64_t k = 0; k < so; k++) y[k] = a[Ix(oa, k)] / b[Ix(ob, k)];
      break;
    }
  }
  PetscFunctionReturn(0);
}

/* row r of input k's tangent/adjoint for sample i, direction j (rows per sample: nb) */
static inline size_t BRow(const Bcast *bc, PetscInt i, PetscInt j, PetscInt nb)
{
  return (size_t)(bc->batched ? i * nb + j : j) * (size_t)bc->size_in;
}

static PetscErrorCode BinaryJvp(HessaOnnxKernel *K)
{
  const BinData *d  = (const BinData *)K->node->op_data;
  const int64_t  so = d->in[0].size_out, *oa = d->in[0].off, *ob = d->in[1].off;
  const PetscInt b = K->nb;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < K->m; i++) {
    const double *a = K->x[0] + (d->in[0].batched ? i * d->in[0].size_in : 0), *bv = K->x[1] + (d->in[1].batched ? i * d->in[1].size_in : 0);
    for (PetscInt j = 0; j < b; j++) {
      const double *ta = K->tx[0] ? K->tx[0] + BRow(&d->in[0], i, j, b) : NULL, *tb = K->tx[1] ? K->tx[1] + BRow(&d->in[1], i, j, b) : NULL;
      double       *ty = K->ty[0] + ((size_t)i * b + j) * so;
      if (d->kind == BIN_ADD || d->kind == BIN_SUB) {
        const double sb = d->kind == BIN_ADD ? 1.0 : -1.0;
        if (ta && tb && !oa && !ob)
          for (int64_t k = 0; k < so; k++) ty[k] = ta[k] + sb * tb[k];
        else
          for (int64_t k = 0; k < so; k++) ty[k] = (ta ? ta[Ix(oa, k)] : 0.0) + (tb ? sb * tb[Ix(ob, k)] : 0.0);
      } else {
        for (int64_t k = 0; k < so; k++) {
          double ga, gb;
          BinGrad(d->kind, a[Ix(oa, k)], bv[Ix(ob, k)], &ga, &gb);
          ty[k] = (ta ? ga * ta[Ix(oa, k)] : 0.0) + (tb ? gb * tb[Ix(ob, k)] : 0.0);
        }
      }
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode BinaryBackward(HessaOnnxKernel *K)
{
  const BinData *d  = (const BinData *)K->node->op_data;
  const int64_t  so = d->in[0].size_out, *oa = d->in[0].off, *ob = d->in[1].off;
  const PetscInt nb = K->nb;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < K->m; i++) {
    const double *a = K->x[0] + (d->in[0].batched ? i * d->in[0].size_in : 0), *bv = K->x[1] + (d->in[1].batched ? i * d->in[1].size_in : 0);
    for (PetscInt j = 0; j < nb; j++) {
      const double *dy = K->dy[0] + ((size_t)i * nb + j) * so;
      double       *da = K->dx[0] ? K->dx[0] + BRow(&d->in[0], i, j, nb) : NULL, *db = K->dx[1] ? K->dx[1] + BRow(&d->in[1], i, j, nb) : NULL;
      if (d->kind == BIN_ADD || d->kind == BIN_SUB) { /* constant local derivatives: no per-element switch */
        const double sb = d->kind == BIN_ADD ? 1.0 : -1.0;
        if (da && !oa)
          for (int64_t k = 0; k < so; k++) da[k] += dy[k];
        else if (da)
          for (int64_t k = 0; k < so; k++) da[oa[k]] += dy[k];
        if (db && !ob)
          for (int64_t k = 0; k < so; k++) db[k] += sb * dy[k];
        else if (db)
          for (int64_t k = 0; k < so; k++) db[ob[k]] += sb * dy[k];
        continue;
      }
      for (int64_t k = 0; k < so; k++) {
        double ga, gb;
        BinGrad(d->kind, a[Ix(oa, k)], bv[Ix(ob, k)], &ga, &gb);
        if (da) da[Ix(oa, k)] += ga * dy[k];
        if (db) db[Ix(ob, k)] += gb * dy[k];
      }
    }
  }
  PetscFunctionReturn(0);
}

/* dx += (d^2 y / d(a,b)^2)[dy1, t] for Mul (h_ab = 1) and Div (h_ab = -1/b^2, h_bb = 2a/b^3) */
static PetscErrorCode BinarySot(HessaOnnxKernel *K)
{
  const BinData *d  = (const BinData *)K->node->op_data;
  const int64_t  so = d->in[0].size_out, *oa = d->in[0].off, *ob = d->in[1].off;
  const PetscInt b = K->nb;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < K->m; i++) {
    const double *a = K->x[0] + (d->in[0].batched ? i * d->in[0].size_in : 0), *bv = K->x[1] + (d->in[1].batched ? i * d->in[1].size_in : 0);
    const double *dy = K->dy[0] + (size_t)i * so;
    for (PetscInt j = 0; j < b; j++) {
      const double *ta = K->tx[0] ? K->tx[0] + BRow(&d->in[0], i, j, b) : NULL, *tb = K->tx[1] ? K->tx[1] + BRow(&d->in[1], i, j, b) : NULL;
      double       *da = K->dx[0] ? K->dx[0] + BRow(&d->in[0], i, j, b) : NULL, *db = K->dx[1] ? K->dx[1] + BRow(&d->in[1], i, j, b) : NULL;
      for (int64_t k = 0; k < so; k++) {
        const double A = a[Ix(oa, k)], B = bv[Ix(ob, k)], tak = ta ? ta[Ix(oa, k)] : 0.0, tbk = tb ? tb[Ix(ob, k)] : 0.0;
        double       hab, hbb;
        if (d->kind == BIN_MUL)
          hab = 1.0, hbb = 0.0;
        else
          hab = -1.0 / (B * B), hbb = 2.0 * A / (B * B * B);
        if (da) da[Ix(oa, k)] += dy[k] * hab * tbk;
        if (db) db[Ix(ob, k)] += dy[k] * (hab * tak + hbb * tbk);
      }
    }
  }
  PetscFunctionReturn(0);
}

/* ---- Gemm and MatMul ---------------------------------------------------------------------- */

typedef struct {
  int     tag; /* HESSA_ONNX_MATMUL_GEMM (MatMul's kernels dispatch on it) */
  double  alpha, beta;
  int     transB;
  int64_t P, K, M; /* A: P rows of K per sample; Y: P rows of M per sample */
  int     a_batched;
  int     has_c;
  Bcast   c; /* C read as Y */
} LinData;

/* Shared by Gemm and MatMul after their shapes are known. */
static void LinearFinish(HessaOnnxGraph *g, HessaOnnxNode *node, LinData *ld, int out_ndim, const int64_t *out_dims, const HessaOnnxValue *C, HessaStatus *st)
{
  HessaOnnxValue *out = &g->values[node->out[0]];
  LinData        *e;

  HessaOnnxValueSetShape(out, out_ndim, out_dims, ld->a_batched);
  out->differentiable = 0;
  for (int k = 0; k < node->n_in; k++)
    if (node->in[k] >= 0 && g->values[node->in[k]].differentiable) out->differentiable = 1;
  out->is_int    = 0;
  out->elem_type = 11;
  if (C) {
    BcastBuild(out_ndim, out->dims, ld->a_batched, C, &ld->c, st);
    if (st->code) return;
  }
  e = (LinData *)malloc(sizeof *e + (ld->c.off ? (size_t)ld->c.size_out * sizeof(int64_t) : 0));
  if (!e) {
    free(ld->c.off);
    HessaStatusSet(st, PETSC_ERR_MEM, "out of memory");
    return;
  }
  *e = *ld;
  if (ld->c.off) {
    e->c.off = (int64_t *)(e + 1);
    memcpy(e->c.off, ld->c.off, (size_t)ld->c.size_out * sizeof(int64_t));
    free(ld->c.off);
  }
  free(node->op_data);
  node->op_data        = e;
  node->aux_per_sample = 0;
}

static void GemmInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  lab[256], s1[128], s2[128];
  const HessaOnnxValue *A, *B, *C = NULL;
  LinData               ld = {0};
  int64_t               dims[3], Kb;
  int                   rows;

  if (node->n_in < 2 || node->n_in > 3 || node->n_out != 1 || node->in[0] < 0 || node->in[1] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: expected 2 or 3 inputs and 1 output, found %d and %d", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab), node->n_in, node->n_out);
    return;
  }
  if (InputIsInt(g, node, node->n_in, st)) return;
  A = &g->values[node->in[0]], B = &g->values[node->in[1]];
  if (node->n_in == 3 && node->in[2] >= 0) C = &g->values[node->in[2]];
  ld.alpha  = HessaOnnxAttrFloat(node, "alpha", 1.0);
  ld.beta   = HessaOnnxAttrFloat(node, "beta", 1.0);
  ld.transB = HessaOnnxAttrInt(node, "transB", 0) != 0;
  if (HessaOnnxAttrInt(node, "transA", 0) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: transA = 1 is not supported (the batch must stay the first dimension of A)", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab));
    return;
  }
  /* the layout layer (onnx_layout.c) hands a Gemm whose batch is merged into the rows of A,
   * ONNX A [T*N, K], as per-sample matrices [N, T, K]: the same GEMM with T rows a sample */
  rows = A->batched && A->lay_ka > 0 && A->lay_axis == 0 && A->ndim == 3;
  if ((A->ndim != 2 && !rows) || B->ndim != 2 || (C && C->ndim > 2)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: Gemm needs 2-D A and B (and C of rank <= 2), found A %s, B %s", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab), HessaOnnxDimsString(A->ndim, A->dims, s1, sizeof s1),
                   HessaOnnxDimsString(B->ndim, B->dims, s2, sizeof s2));
    return;
  }
  if (B->batched || (C && C->batched && !A->batched)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: the right operand '%s' depends on the data sample; hessa supports Gemm with a batched A and a parameter or constant B only", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab),
                   B->batched ? B->name : C->name);
    return;
  }
  ld.a_batched = A->batched;
  ld.P         = rows ? A->dims[1] : A->batched ? 1 : A->dims[0];
  ld.K         = A->dims[A->ndim - 1];
  ld.M         = ld.transB ? B->dims[0] : B->dims[1];
  Kb           = ld.transB ? B->dims[1] : B->dims[0];
  if (Kb != ld.K) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: inner dimensions differ: A %s ('%s') has %lld columns, B %s ('%s', transB = %d) has %lld rows", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab), HessaOnnxDimsString(A->ndim, A->dims, s1, sizeof s1),
                   A->name, (long long)ld.K, HessaOnnxDimsString(B->ndim, B->dims, s2, sizeof s2), B->name, ld.transB, (long long)Kb);
    return;
  }
  dims[0] = A->dims[0], dims[1] = rows ? A->dims[1] : ld.M, dims[2] = ld.M;
  if (C && rows && C->ndim == 2 && C->dims[0] != 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: C %s ('%s') has a row per batch row; hessa supports C of shape [M] or [1, M] when the batch is merged into the rows of A", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab),
                   HessaOnnxDimsString(C->ndim, C->dims, s1, sizeof s1), C->name);
    return;
  }
  if (C && rows) { /* [M] or [1, M] against the per-sample [T, M] */
    if (C->dims[C->ndim - 1] != ld.M && C->dims[C->ndim - 1] != 1) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: C %s ('%s') does not broadcast to the output's %lld columns", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab), HessaOnnxDimsString(C->ndim, C->dims, s1, sizeof s1), C->name, (long long)ld.M);
      return;
    }
    ld.has_c = 1;
  } else if (C) {
    const HessaOnnxValue *v[2] = {NULL, C};
    HessaOnnxValue        y    = {.name = (char *)"the output"};
    int                   nd, bt;
    int64_t               bd[HESSA_ONNX_MAX_DIMS];
    HessaOnnxValueSetShape(&y, 2, dims, A->batched);
    v[0] = &y;
    BroadcastShape(g, node, 2, v, &nd, bd, &bt, st);
    if (st->code) return;
    if (nd != 2 || bd[0] != y.dims[0] || bd[1] != y.dims[1]) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: C %s ('%s') does not broadcast to the output %s", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab), HessaOnnxDimsString(C->ndim, C->dims, s1, sizeof s1), C->name,
                     HessaOnnxDimsString(2, y.dims, s2, sizeof s2));
      return;
    }
    ld.has_c = 1;
  }
  LinearFinish(g, node, &ld, rows ? 3 : 2, dims, C, st);
}

static void MatMulInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  lab[256], s1[128], s2[128];
  const HessaOnnxValue *A, *B;
  LinData               ld = {0};
  int64_t               dims[HESSA_ONNX_MAX_DIMS];

  if (node->n_in != 2 || node->n_out != 1 || node->in[0] < 0 || node->in[1] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: expected 2 inputs and 1 output, found %d and %d", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab), node->n_in, node->n_out);
    return;
  }
  if (InputIsInt(g, node, 2, st)) return;
  A = &g->values[node->in[0]], B = &g->values[node->in[1]];
  if (HessaOnnxMatMulIsBatched(g, node)) { /* both operands per sample, or a B of rank != 2: onnx_ops_attention.c */
    HessaOnnxBatchedMatMulInfer(g, node, st);
    return;
  }
  if (B->ndim != 2 || A->ndim < 1 || (A->batched && A->ndim < 2)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: MatMul needs a 2-D right operand and a left operand of rank >= 1 (>= 2 with the batch), found %s ('%s') x %s ('%s')", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab),
                   HessaOnnxDimsString(A->ndim, A->dims, s1, sizeof s1), A->name, HessaOnnxDimsString(B->ndim, B->dims, s2, sizeof s2), B->name);
    return;
  }
  ld.alpha = 1.0, ld.beta = 0.0, ld.transB = 0, ld.a_batched = A->batched;
  ld.K = A->dims[A->ndim - 1], ld.M = B->dims[1], ld.P = 1;
  for (int d = A->batched ? 1 : 0; d < A->ndim - 1; d++) ld.P *= A->dims[d];
  if (B->dims[0] != ld.K) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s: inner dimensions differ: %s ('%s') x %s ('%s')", g->path, HessaOnnxNodeLabel(node, lab, sizeof lab), HessaOnnxDimsString(A->ndim, A->dims, s1, sizeof s1), A->name,
                   HessaOnnxDimsString(B->ndim, B->dims, s2, sizeof s2), B->name);
    return;
  }
  for (int d = 0; d < A->ndim - 1; d++) dims[d] = A->dims[d];
  dims[A->ndim - 1] = ld.M;
  LinearFinish(g, node, &ld, A->ndim, dims, NULL, st);
}

/* scratch slots of the linear kernels */
#define SLOT_PACK 0
#define SLOT_PROD 1

/* dst (i, j, p, c) += src (i, p, j, c): per sample, P rows of C columns for each of nb directions */
static void AddPermutedToDirMajor(PetscInt m, PetscInt nb, int64_t P, int64_t C, const double *src, double *dst)
{
  for (PetscInt i = 0; i < m; i++)
    for (PetscInt j = 0; j < nb; j++)
      for (int64_t p = 0; p < P; p++) {
        const double *s = src + (((size_t)i * P + p) * nb + j) * C;
        double       *t = dst + (((size_t)i * nb + j) * P + p) * C;
        for (int64_t c = 0; c < C; c++) t[c] += s[c];
      }
}

/* dst (i, p, j, c) = src (i, j, p, c) */
static void PermuteToRowMajor(PetscInt m, PetscInt nb, int64_t P, int64_t C, const double *src, double *dst)
{
  for (PetscInt i = 0; i < m; i++)
    for (PetscInt j = 0; j < nb; j++)
      for (int64_t p = 0; p < P; p++) memcpy(dst + (((size_t)i * P + p) * nb + j) * C, src + (((size_t)i * nb + j) * P + p) * C, (size_t)C * sizeof(double));
}

static PetscErrorCode LinearForward(HessaOnnxKernel *K)
{
  const LinData *d    = (const LinData *)K->node->op_data;
  const int64_t  rows = K->m * d->P, ldb = d->transB ? d->K : d->M;
  double        *Y = K->y[0];

  PetscFunctionBegin;
  if (d->has_c) {
    const int64_t so = d->c.size_out;
    for (PetscInt i = 0; i < K->m; i++) {
      const double *c = K->x[2] + (d->c.batched ? i * d->c.size_in : 0);
      double       *y = Y + (size_t)i * so;
      for (int64_t k = 0; k < so; k++) y[k] = d->beta * c[Ix(d->c.off, k)];
    }
  }
  Gemm(CblasNoTrans, d->transB ? CblasTrans : CblasNoTrans, rows, d->M, d->K, d->alpha, K->x[0], d->K, K->x[1], ldb, d->has_c ? 1.0 : 0.0, Y, d->M);
  PetscFunctionReturn(0);
}

/* Pack the b tangents of B, tB [b][B], as [K][b*M] (Bcat[k][j*M + o] = op(tB_j)[k][o]). */
static void PackBcat(const LinData *d, PetscInt b, const double *tB, double *Bcat)
{
  const int64_t K = d->K, M = d->M;
  for (PetscInt j = 0; j < b; j++) {
    const double *t = tB + (size_t)j * K * M;
    for (int64_t k = 0; k < K; k++)
      for (int64_t o = 0; o < M; o++) Bcat[(size_t)k * b * M + j * M + o] = d->transB ? t[o * K + k] : t[k * M + o];
  }
}

/* Pack the b tangents of B as [M][b*K] (Q[o][j*K + k] = op(tB_j)[k][o]). */
static void PackQ(const LinData *d, PetscInt b, const double *tB, double *Q)
{
  const int64_t K = d->K, M = d->M;
  for (PetscInt j = 0; j < b; j++) {
    const double *t = tB + (size_t)j * K * M;
    for (int64_t o = 0; o < M; o++)
      for (int64_t k = 0; k < K; k++) Q[(size_t)o * b * K + j * K + k] = d->transB ? t[o * K + k] : t[k * M + o];
  }
}

static PetscErrorCode LinearJvp(HessaOnnxKernel *K)
{
  const LinData *d = (const LinData *)K->node->op_data;
  const PetscInt b = K->nb, m = K->m;
  const int64_t  P = d->P, Kd = d->K, M = d->M, ldb = d->transB ? Kd : M;
  double        *tY = K->ty[0];

  PetscFunctionBegin;
  /* tA B' over all (sample, direction) rows at once */
  if (K->tx[0])
    Gemm(CblasNoTrans, d->transB ? CblasTrans : CblasNoTrans, (int64_t)m * b * P, M, Kd, d->alpha, K->tx[0], Kd, K->x[1], ldb, 0.0, tY, M);
  else
    PetscCall(PetscArrayzero(tY, (size_t)m * b * P * M));
  /* A tB' for all directions. One sample row (Gemm): one GEMM per direction straight into the
     rows (i, j) of tY, no packing; P rows a sample (MatMul): the directions packed side by
     side, [m*P][K] x [K][b*M], then permuted to direction-major rows. */
  if (K->tx[1] && P == 1 && d->transB) /* the tangents [b][M][K] are B'^T stacked: one GEMM into [m][b*M] */
    Gemm(CblasNoTrans, CblasTrans, m, b * M, Kd, d->alpha, K->x[0], Kd, K->tx[1], Kd, 1.0, tY, b * M);
  else if (K->tx[1] && P == 1)
    for (PetscInt j = 0; j < b; j++) Gemm(CblasNoTrans, d->transB ? CblasTrans : CblasNoTrans, m, M, Kd, d->alpha, K->x[0], Kd, K->tx[1] + (size_t)j * Kd * M, ldb, 1.0, tY + j * M, b * M);
  else if (K->tx[1]) {
    double *Bcat = (double *)HessaOnnxScratch(K->scratch_owner, (size_t)Kd * b * M * sizeof(double), SLOT_PACK);
    double *S    = (double *)HessaOnnxScratch(K->scratch_owner, (size_t)m * P * b * M * sizeof(double), SLOT_PROD);
    PetscCheck(Bcat && S, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory for MatMul scratch");
    PackBcat(d, b, K->tx[1], Bcat);
    Gemm(CblasNoTrans, CblasNoTrans, m * P, b * M, Kd, d->alpha, K->x[0], Kd, Bcat, b * M, 0.0, S, b * M);
    AddPermutedToDirMajor(m, b, P, M, S, tY);
  }
  if (d->has_c && K->tx[2]) {
    const int64_t so = d->c.size_out;
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < b; j++) {
        const double *tc = K->tx[2] + BRow(&d->c, i, j, b);
        double       *ty = tY + ((size_t)i * b + j) * so;
        for (int64_t k = 0; k < so; k++) ty[k] += d->beta * tc[Ix(d->c.off, k)];
      }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode LinearBackward(HessaOnnxKernel *K)
{
  const LinData *d  = (const LinData *)K->node->op_data;
  const PetscInt nb = K->nb, m = K->m;
  const int64_t  P = d->P, Kd = d->K, M = d->M, ldb = d->transB ? Kd : M;
  const double  *dY = K->dy[0];

  PetscFunctionBegin;
  /* dA += alpha dY B'^T: [m*nb*P][M] x [M][K] */
  if (K->dx[0]) Gemm(CblasNoTrans, d->transB ? CblasNoTrans : CblasTrans, (int64_t)m * nb * P, Kd, M, d->alpha, dY, M, K->x[1], ldb, 1.0, K->dx[0], Kd);
  /* dB_j += alpha A^T dY_j, summed over the samples: D = dY as [m*P][nb*M] */
  if (K->dx[1]) {
    const double *D = dY;
    if (P > 1 && nb > 1) {
      double *S = (double *)HessaOnnxScratch(K->scratch_owner, (size_t)m * P * nb * M * sizeof(double), SLOT_PROD);
      PetscCheck(S, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory for MatMul scratch");
      PermuteToRowMajor(m, nb, P, M, dY, S);
      D = S;
    }
    if (d->transB)
      Gemm(CblasTrans, CblasNoTrans, nb * M, Kd, m * P, d->alpha, D, nb * M, K->x[0], Kd, 1.0, K->dx[1], Kd); /* [nb][M][K] */
    else
      for (PetscInt j = 0; j < nb; j++) Gemm(CblasTrans, CblasNoTrans, Kd, M, m * P, d->alpha, K->x[0], Kd, D + j * M, nb * M, 1.0, K->dx[1] + (size_t)j * Kd * M, M);
  }
  if (d->has_c && K->dx[2]) {
    const int64_t so = d->c.size_out;
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < nb; j++) {
        const double *dy = dY + ((size_t)i * nb + j) * so;
        double       *dc = K->dx[2] + BRow(&d->c, i, j, nb);
        for (int64_t k = 0; k < so; k++) dc[Ix(d->c.off, k)] += d->beta * dy[k];
      }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode LinearSot(HessaOnnxKernel *K)
{
  const LinData *d = (const LinData *)K->node->op_data;
  const PetscInt b = K->nb, m = K->m;
  const int64_t  P = d->P, Kd = d->K, M = d->M;
  const double  *dY1 = K->dy[0]; /* [m*P][M] */

  PetscFunctionBegin;
  if (!K->tx[0] || !K->tx[1]) PetscFunctionReturn(0); /* linear unless both factors move */
  /* dA (i, j, p) += alpha dY1 (i, p) op(tB_j)^T: per direction for Gemm (P = 1), else one GEMM
     against the directions packed as Q [M][b*K] and a permutation */
  if (K->dx[0] && P == 1 && !d->transB) /* the tangents [b][K][M] are Q^T: one GEMM into [m][b*K] */
    Gemm(CblasNoTrans, CblasTrans, m, b * Kd, M, d->alpha, dY1, M, K->tx[1], M, 1.0, K->dx[0], b * Kd);
  else if (K->dx[0] && P == 1)
    for (PetscInt j = 0; j < b; j++) Gemm(CblasNoTrans, d->transB ? CblasNoTrans : CblasTrans, m, Kd, M, d->alpha, dY1, M, K->tx[1] + (size_t)j * Kd * M, d->transB ? Kd : M, 1.0, K->dx[0] + j * Kd, b * Kd);
  else if (K->dx[0]) {
    double *Q = (double *)HessaOnnxScratch(K->scratch_owner, (size_t)M * b * Kd * sizeof(double), SLOT_PACK);
    double *S = (double *)HessaOnnxScratch(K->scratch_owner, (size_t)m * P * b * Kd * sizeof(double), SLOT_PROD);
    PetscCheck(Q && S, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory for MatMul scratch");
    PackQ(d, b, K->tx[1], Q);
    Gemm(CblasNoTrans, CblasNoTrans, m * P, b * Kd, M, d->alpha, dY1, M, Q, b * Kd, 0.0, S, b * Kd);
    AddPermutedToDirMajor(m, b, P, Kd, S, K->dx[0]);
  }
  /* dB_j += alpha op^-1(tA_j^T dY1): T = tA as [m*P][b*K] */
  if (K->dx[1]) {
    const double *T = K->tx[0];
    if (P > 1 && b > 1) {
      double *S = (double *)HessaOnnxScratch(K->scratch_owner, (size_t)m * P * b * Kd * sizeof(double), SLOT_PROD);
      PetscCheck(S, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory for MatMul scratch");
      PermuteToRowMajor(m, b, P, Kd, K->tx[0], S);
      T = S;
    }
    for (PetscInt j = 0; j < b; j++) {
      double *dB = K->dx[1] + (size_t)j * Kd * M;
      if (d->transB)
        Gemm(CblasTrans, CblasNoTrans, M, Kd, m * P, d->alpha, dY1, M, T + j * Kd, b * Kd, 1.0, dB, Kd);
      else
        Gemm(CblasTrans, CblasNoTrans, Kd, M, m * P, d->alpha, T + j * Kd, b * Kd, dY1, M, 1.0, dB, M);
    }
  }
  PetscFunctionReturn(0);
}

/* MatMul: the GEMM kernels or the batched ones (onnx_ops_attention.c), as its infer chose */
static inline int MatMulBatched(const HessaOnnxKernel *K)
{
  return *(const int *)K->node->op_data == HESSA_ONNX_MATMUL_BATCHED;
}

static PetscErrorCode MatMulForward(HessaOnnxKernel *K)
{
  return MatMulBatched(K) ? HessaOnnxBatchedMatMulForward(K) : LinearForward(K);
}

static PetscErrorCode MatMulBackward(HessaOnnxKernel *K)
{
  return MatMulBatched(K) ? HessaOnnxBatchedMatMulBackward(K) : LinearBackward(K);
}

static PetscErrorCode MatMulJvp(HessaOnnxKernel *K)
{
  return MatMulBatched(K) ? HessaOnnxBatchedMatMulJvp(K) : LinearJvp(K);
}

static PetscErrorCode MatMulSot(HessaOnnxKernel *K)
{
  return MatMulBatched(K) ? HessaOnnxBatchedMatMulSot(K) : LinearSot(K);
}

/* ---- the table ------------------------------------------------------------------------------ */

const HessaOnnxOp HessaOnnxOpsLinear[] = {
    {"Gemm", GemmInfer, LinearForward, LinearBackward, LinearJvp, LinearSot, 0}, {"MatMul", MatMulInfer, MatMulForward, MatMulBackward, MatMulJvp, MatMulSot, 0}, {"Add", AddInfer, BinaryForward, BinaryBackward, BinaryJvp, NULL, 0},
    {"Sub", SubInfer, BinaryForward, BinaryBackward, BinaryJvp, NULL, 0},        {"Mul", MulInfer, BinaryForward, BinaryBackward, BinaryJvp, BinarySot, 0},       {"Div", DivInfer, BinaryForward, BinaryBackward, BinaryJvp, BinarySot, 0},
};
const int HessaOnnxOpsLinearCount = (int)(sizeof HessaOnnxOpsLinear / sizeof HessaOnnxOpsLinear[0]);
