/* ONNX kernels of the attention family: the batched MatMul (both operands per sample, Q K^T
 * and attn V), Where with a constant condition (causal masks: masked_fill), and the runtime
 * index ops Slice, Split, Squeeze, Unsqueeze and Expand. The contract is in onnx_impl.h.
 *
 * Batched MatMul. Y[..., M, N] = A[..., M, K] B[..., K, N] with numpy broadcasting of the
 * leading dims. A batched operand has the batch as its first leading dim and the output's
 * rank (so the batch stays the output's first axis); the other operand broadcasts against
 * it (a leading dim of 1 there) or is batched too. Per sample there are L slices; slice l
 * reads A at aoff[l] and B at boff[l] of their per-sample storage (a table built at load),
 * and every pass is a dgemm per (sample, direction, slice):
 *   forward  Y_l  = A_l B_l
 *   jvp      tY_l = tA_l B_l + A_l tB_l
 *   backward dA_l += dY_l B_l^T,  dB_l += A_l^T dY_l   (broadcast slices add up)
 *   sot      dA_l += dY1_l tB_l^T, dB_l += tA_l^T dY1_l (the bilinear term)
 *
 * Where(cond, X, Y). The condition must be a constant (known at load): the kernel is a
 * selection, linear in X and Y, so it has no sot. X or Y may be a constant -inf (what
 * masked_fill(mask, float('-inf')) exports); its tangent and adjoint are zero.
 *
 * Index ops. Slice, Split, Squeeze, Unsqueeze and Expand are "output element k of a sample
 * reads input element off[k]" (off NULL: k itself) on the per-sample storage; the batch axis
 * is never sliced, split, squeezed or expanded (refused at load). Forward and jvp gather,
 * the backward scatter-adds; linear, no sot.
 *
 * Rows: a batched value has m rows (forward), m*b (tangents) or m*nb (adjoints) of its
 * per-sample size; a value that is not batched has 1, b or nb rows (adjoints summed over the
 * samples). */
#include "onnx_impl.h"
#include "onnx_attention.h"
#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------------------------- */

/* Offset of row (sample i, direction j of nb) of a value: batched [m*nb][size], else [nb][size]. */
static inline size_t Row(int batched, int64_t size, PetscInt i, PetscInt j, PetscInt nb)
{
  return (size_t)(batched ? i * nb + j : j) * (size_t)size;
}

/* The integers of a constant integer input (scalar or 1-D), or NULL with st set. */
static const int64_t *ConstInts(const HessaOnnxGraph *g, int v, const char *what, const char *label, int64_t *n, HessaStatus *st)
{
  const HessaOnnxValue *c = &g->values[v];

  if (c->kind != HESSA_ONNX_CONST || !c->is_int || !c->ivalue || c->ndim > 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected %s '%s' to be a constant integer vector, found %s%s of rank %d", label, what, c->name, c->kind == HESSA_ONNX_CONST ? "a constant" : "a value computed at run time or a parameter",
                   c->is_int ? "" : " of floating-point type", c->ndim);
    return NULL;
  }
  *n = c->size;
  return c->ivalue;
}

/* "file 'net.onnx': node 'attn/MatMul' (MatMul)" for messages (the loader keeps a message that
 * names the file as it is). */
static const char *Label(const HessaOnnxGraph *g, const HessaOnnxNode *node, char *buf, size_t len)
{
  char   node_label[200];
  size_t n;

  HessaOnnxNodeLabel(node, node_label, sizeof node_label);
  /* the path cut to what fits, the node label whole */
  n = strlen(g->path);
  if (n > len / 2) n = len / 2;
  snprintf(buf, len, "file '%.*s': %s", (int)n, g->path, node_label);
  return buf;
}

/* The node has n_in in [min_in, max_in] inputs (the first min_in present), n_out in
 * [min_out, max_out] outputs, and a float input 0. */
static int CheckNode(const HessaOnnxGraph *g, const HessaOnnxNode *node, int min_in, int max_in, int min_out, int max_out, char *label, size_t len, HessaStatus *st)
{
  Label(g, node, label, len);
  if (node->n_in < min_in || node->n_in > max_in || node->n_out < min_out || node->n_out > max_out) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected %d to %d inputs and %d to %d outputs, found %d inputs and %d outputs", label, min_in, max_in, min_out, max_out, node->n_in, node->n_out);
    return 0;
  }
  for (int i = 0; i < min_in; i++)
    if (node->in[i] < 0) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input %d is required but absent", label, i);
      return 0;
    }
  for (int o = 0; o < node->n_out; o++)
    if (node->out[o] < 0) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: output %d is not used; hessa needs every output of this op named", label, o);
      return 0;
    }
  if (g->values[node->in[0]].is_int) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a floating-point data input, found '%s' of integer type %d (integer arithmetic must be on constants so that it folds at load)", label, g->values[node->in[0]].name,
                   g->values[node->in[0]].elem_type);
    return 0;
  }
  return 1;
}

static void SetOutputShape(HessaOnnxGraph *g, int out, int ndim, const int64_t *dims, int batched, int differentiable)
{
  HessaOnnxValue *y = &g->values[out];

  HessaOnnxValueSetShape(y, ndim, dims, batched);
  y->elem_type      = 11; /* double */
  y->is_int         = 0;
  y->differentiable = differentiable;
}

/* Element strides of v's per-sample storage, aligned to its own axes; the batch axis (size
 * 1 per sample) has stride 0, as has every axis of size 1 (so that it broadcasts). */
static void SampleStrides(const HessaOnnxValue *v, int64_t *stride)
{
  int64_t s = 1;
  for (int q = v->ndim - 1; q >= 0; q--) {
    int64_t d = (v->batched && q == 0) ? 1 : v->dims[q];
    stride[q] = d == 1 ? 0 : s;
    s *= d;
  }
}

/* ---- batched MatMul ---------------------------------------------------------------------------- */

typedef struct {
  int      tag;                    /* HESSA_ONNX_MATMUL_BATCHED */
  int      a_batched, b_batched;   /* else shared by every sample */
  int64_t  M, K, N;                /* A_l [M][K], B_l [K][N], Y_l [M][N] */
  int64_t  a_size, b_size, y_size; /* per sample (or in all) */
  int64_t  L;                      /* slices per sample */
  int64_t *aoff, *boff;            /* [L] */
} BatchedMatMul;

/* HessaOnnxMatMulIsBatched - whether MatMul needs the batched kernel. Not collective. */
int HessaOnnxMatMulIsBatched(const HessaOnnxGraph *g, const HessaOnnxNode *node)
{
  if (node->n_in != 2 || node->in[0] < 0 || node->in[1] < 0) return 0;
  return g->values[node->in[1]].batched || g->values[node->in[1]].ndim != 2;
}

/* HessaOnnxBatchedMatMulInfer - shapes and slice tables of a MatMul whose right operand is
 * batched or of rank != 2. Not collective. */
void HessaOnnxBatchedMatMulInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[600], s1[128], s2[128];
  const HessaOnnxValue *A, *B, *X[2];
  int                   R, batched = 0;
  int64_t               dims[HESSA_ONNX_MAX_DIMS], sa[HESSA_ONNX_MAX_DIMS], sb[HESSA_ONNX_MAX_DIMS], idx[HESSA_ONNX_MAX_DIMS] = {0}, L = 1;
  BatchedMatMul        *p;

  if (!CheckNode(g, node, 2, 2, 1, 1, label, sizeof label, st)) return;
  A = X[0] = &g->values[node->in[0]];
  B = X[1] = &g->values[node->in[1]];
  if (B->is_int) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input '%s' holds integers; hessa runs MatMul on floating-point tensors only", label, B->name);
    return;
  }
  if (A->ndim < 2 || B->ndim < 2) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: a batched MatMul needs operands of rank >= 2, found %s ('%s') x %s ('%s')", label, HessaOnnxDimsString(A->ndim, A->dims, s1, sizeof s1), A->name, HessaOnnxDimsString(B->ndim, B->dims, s2, sizeof s2),
                   B->name);
    return;
  }
  R = A->ndim > B->ndim ? A->ndim : B->ndim;
  for (int k = 0; k < 2; k++) {
    if (!X[k]->batched) continue;
    batched = 1;
    if (X[k]->ndim < 3 || X[k]->ndim != R) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s ('%s') x %s ('%s'): the batch of '%s' would %s; hessa needs every batched operand of a MatMul to have the output's rank (>= 3), the batch as its first dim", label,
                     HessaOnnxDimsString(A->ndim, A->dims, s1, sizeof s1), A->name, HessaOnnxDimsString(B->ndim, B->dims, s2, sizeof s2), B->name, X[k]->name,
                     X[k]->ndim < 3 ? "be a matrix axis (contracted or a row of the product)" : "move to another axis of the output");
      return;
    }
  }
  /* leading dims: numpy broadcasting, the batch only against 1 or the batch */
  for (int p = 0; p < R - 2; p++) {
    int64_t da = p - (R - A->ndim) >= 0 ? A->dims[p - (R - A->ndim)] : 1, db = p - (R - B->ndim) >= 0 ? B->dims[p - (R - B->ndim)] : 1;
    if (da == db || db == 1)
      dims[p] = da;
    else if (da == 1)
      dims[p] = db;
    else {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the leading dims of %s ('%s') and %s ('%s') do not broadcast (dim %d: %s against %s; an operand without the batch needs 1 there)", label, HessaOnnxDimsString(A->ndim, A->dims, s1, sizeof s1), A->name,
                     HessaOnnxDimsString(B->ndim, B->dims, s2, sizeof s2), B->name, p, da == HESSA_ONNX_BATCH ? "the batch" : "a size", db == HESSA_ONNX_BATCH ? "the batch" : "another size");
      return;
    }
    if (!(batched && p == 0)) L *= dims[p];
  }
  if (A->dims[A->ndim - 1] != B->dims[B->ndim - 2]) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: inner dimensions differ: %s ('%s') x %s ('%s')", label, HessaOnnxDimsString(A->ndim, A->dims, s1, sizeof s1), A->name, HessaOnnxDimsString(B->ndim, B->dims, s2, sizeof s2), B->name);
    return;
  }
  dims[R - 2] = A->dims[A->ndim - 2];
  dims[R - 1] = B->dims[B->ndim - 1];
  if (!(p = (BatchedMatMul *)calloc(1, sizeof *p + 2 * (size_t)(L > 0 ? L : 1) * sizeof(int64_t)))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "%s: out of memory", label);
    return;
  }
  p->tag       = HESSA_ONNX_MATMUL_BATCHED;
  p->a_batched = A->batched;
  p->b_batched = B->batched;
  p->M         = dims[R - 2];
  p->K         = A->dims[A->ndim - 1];
  p->N         = dims[R - 1];
  p->a_size    = A->size;
  p->b_size    = B->size;
  p->L         = L;
  p->y_size    = L * p->M * p->N;
  p->aoff      = (int64_t *)(p + 1);
  p->boff      = p->aoff + L;
  SampleStrides(A, sa);
  SampleStrides(B, sb);
  /* slice l: the output's leading index (the batch excluded) read in A and B */
  for (int64_t l = 0; l < L; l++) {
    int64_t oa = 0, ob = 0;
    for (int q = 0; q < R - 2; q++) {
      int qa = q - (R - A->ndim), qb = q - (R - B->ndim);
      if (qa >= 0) oa += idx[q] * sa[qa];
      if (qb >= 0) ob += idx[q] * sb[qb];
    }
    p->aoff[l] = oa;
    p->boff[l] = ob;
    for (int q = R - 3; q >= (batched ? 1 : 0); q--) {
      if (++idx[q] < dims[q]) break;
      idx[q] = 0;
    }
  }
  free(node->op_data);
  node->op_data        = p;
  node->aux_per_sample = 0;
  SetOutputShape(g, node->out[0], R, dims, batched, A->differentiable || B->differentiable);
}

static void Dgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, const double *A, int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc)
{
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t r = 0; r < M; r++)
      for (int64_t c = 0; c < N; c++) C[r * ldc + c] *= beta;
    return;
  }
  cblas_dgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

/* HessaOnnxBatchedMatMulForward - Y_l = A_l B_l per sample and slice. Not collective. */
PetscErrorCode HessaOnnxBatchedMatMulForward(HessaOnnxKernel *K)
{
  const BatchedMatMul *p = (const BatchedMatMul *)K->node->op_data;
  const PetscInt       m = (p->a_batched || p->b_batched) ? K->m : 1;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < m; i++)
    for (int64_t l = 0; l < p->L; l++) {
      const double *a = K->x[0] + Row(p->a_batched, p->a_size, i, 0, 1) + p->aoff[l], *b = K->x[1] + Row(p->b_batched, p->b_size, i, 0, 1) + p->boff[l];
      Dgemm(CblasNoTrans, CblasNoTrans, p->M, p->N, p->K, a, p->K, b, p->N, 0.0, K->y[0] + (size_t)i * p->y_size + l * p->M * p->N, p->N);
    }
  PetscFunctionReturn(0);
}

/* HessaOnnxBatchedMatMulJvp - tY_l = tA_l B_l + A_l tB_l for every direction. Not collective. */
PetscErrorCode HessaOnnxBatchedMatMulJvp(HessaOnnxKernel *K)
{
  const BatchedMatMul *p = (const BatchedMatMul *)K->node->op_data;
  const PetscInt       m = (p->a_batched || p->b_batched) ? K->m : 1, b = K->nb;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < m; i++)
    for (PetscInt j = 0; j < b; j++)
      for (int64_t l = 0; l < p->L; l++) {
        const double *A = K->x[0] + Row(p->a_batched, p->a_size, i, 0, 1) + p->aoff[l], *B = K->x[1] + Row(p->b_batched, p->b_size, i, 0, 1) + p->boff[l];
        double       *ty   = K->ty[0] + ((size_t)i * b + j) * p->y_size + l * p->M * p->N;
        double        beta = 0.0;
        if (K->tx[0]) {
          Dgemm(CblasNoTrans, CblasNoTrans, p->M, p->N, p->K, K->tx[0] + Row(p->a_batched, p->a_size, i, j, b) + p->aoff[l], p->K, B, p->N, 0.0, ty, p->N);
          beta = 1.0;
        }
        if (K->tx[1]) {
          Dgemm(CblasNoTrans, CblasNoTrans, p->M, p->N, p->K, A, p->K, K->tx[1] + Row(p->b_batched, p->b_size, i, j, b) + p->boff[l], p->N, beta, ty, p->N);
          beta = 1.0;
        }
        if (beta == 0.0) memset(ty, 0, (size_t)(p->M * p->N) * sizeof(double));
      }
  PetscFunctionReturn(0);
}

/* HessaOnnxBatchedMatMulBackward - dA_l += dY_l B_l^T, dB_l += A_l^T dY_l. Not collective. */
PetscErrorCode HessaOnnxBatchedMatMulBackward(HessaOnnxKernel *K)
{
  const BatchedMatMul *p = (const BatchedMatMul *)K->node->op_data;
  const PetscInt       m = (p->a_batched || p->b_batched) ? K->m : 1, nb = K->nb;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < m; i++)
    for (PetscInt j = 0; j < nb; j++)
      for (int64_t l = 0; l < p->L; l++) {
        const double *A = K->x[0] + Row(p->a_batched, p->a_size, i, 0, 1) + p->aoff[l], *B = K->x[1] + Row(p->b_batched, p->b_size, i, 0, 1) + p->boff[l];
        const double *dy = K->dy[0] + ((size_t)i * nb + j) * p->y_size + l * p->M * p->N;
        if (K->dx[0]) Dgemm(CblasNoTrans, CblasTrans, p->M, p->K, p->N, dy, p->N, B, p->N, 1.0, K->dx[0] + Row(p->a_batched, p->a_size, i, j, nb) + p->aoff[l], p->K);
        if (K->dx[1]) Dgemm(CblasTrans, CblasNoTrans, p->K, p->N, p->M, A, p->K, dy, p->N, 1.0, K->dx[1] + Row(p->b_batched, p->b_size, i, j, nb) + p->boff[l], p->N);
      }
  PetscFunctionReturn(0);
}

/* HessaOnnxBatchedMatMulSot - dA_l += dY1_l tB_l^T, dB_l += tA_l^T dY1_l. Not collective. */
PetscErrorCode HessaOnnxBatchedMatMulSot(HessaOnnxKernel *K)
{
  const BatchedMatMul *p = (const BatchedMatMul *)K->node->op_data;
  const PetscInt       m = (p->a_batched || p->b_batched) ? K->m : 1, b = K->nb;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < m; i++)
    for (PetscInt j = 0; j < b; j++)
      for (int64_t l = 0; l < p->L; l++) {
        const double *dy1 = K->dy[0] + (size_t)i * p->y_size + l * p->M * p->N;
        if (K->dx[0] && K->tx[1]) Dgemm(CblasNoTrans, CblasTrans, p->M, p->K, p->N, dy1, p->N, K->tx[1] + Row(p->b_batched, p->b_size, i, j, b) + p->boff[l], p->N, 1.0, K->dx[0] + Row(p->a_batched, p->a_size, i, j, b) + p->aoff[l], p->K);
        if (K->dx[1] && K->tx[0]) Dgemm(CblasTrans, CblasNoTrans, p->K, p->N, p->M, K->tx[0] + Row(p->a_batched, p->a_size, i, j, b) + p->aoff[l], p->K, dy1, p->N, 1.0, K->dx[1] + Row(p->b_batched, p->b_size, i, j, b) + p->boff[l], p->N);
      }
  PetscFunctionReturn(0);
}

/* ---- broadcasting (Where, Expand) ---------------------------------------------------------------- */

/* The broadcast shape of n values (ONNX multidirectional rules) with the batch (dims[0] of a
 * batched value) allowed only in the first output dim, against 1 or the batch. */
static int BroadcastDims(int n, const HessaOnnxValue *const *v, int *ndim, int64_t *dims, int *batched, const char *label, HessaStatus *st)
{
  char s1[128];
  int  R = 0;

  *batched = 0;
  for (int k = 0; k < n; k++) R = v[k]->ndim > R ? v[k]->ndim : R;
  for (int q = 0; q < R; q++) dims[q] = 1;
  for (int k = 0; k < n; k++)
    for (int q = 0; q < v[k]->ndim; q++) {
      const int     p = R - v[k]->ndim + q;
      const int64_t d = v[k]->dims[q];
      if (d == HESSA_ONNX_BATCH && p != 0) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the batched input '%s' %s has a lower rank than the output (rank %d), so broadcasting would move the batch; hessa needs the batch in the first dimension", label, v[k]->name,
                       HessaOnnxDimsString(v[k]->ndim, v[k]->dims, s1, sizeof s1), R);
        return 0;
      }
      if (d == 1) continue;
      if (dims[p] != 1 && dims[p] != d) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input '%s' %s does not broadcast against the other inputs at dim %d (each dimension must be equal or 1; an input without the batch must have 1 where another has the batch)", label, v[k]->name,
                       HessaOnnxDimsString(v[k]->ndim, v[k]->dims, s1, sizeof s1), p);
        return 0;
      }
      dims[p] = d;
      if (d == HESSA_ONNX_BATCH) *batched = 1;
    }
  *ndim = R;
  return 1;
}

/* off[k] for the per-sample output elements k of (ndim, dims, batched): the element of v's
 * per-sample storage that broadcasting reads. Returns 1 when off is the identity. */
static int BroadcastOffsets(int ndim, const int64_t *dims, int batched, const HessaOnnxValue *v, int64_t *off)
{
  int64_t stride[HESSA_ONNX_MAX_DIMS], idx[HESSA_ONNX_MAX_DIMS] = {0}, vs[HESSA_ONNX_MAX_DIMS], n = 1;
  int     identity = 1;

  SampleStrides(v, vs);
  for (int p = 0; p < ndim; p++) {
    int q     = p - (ndim - v->ndim);
    stride[p] = q >= 0 ? vs[q] : 0;
    if (!(batched && p == 0)) n *= dims[p];
  }
  for (int64_t k = 0; k < n; k++) {
    int64_t o = 0;
    for (int p = batched ? 1 : 0; p < ndim; p++) o += idx[p] * stride[p];
    off[k] = o;
    if (o != k) identity = 0;
    for (int p = ndim - 1; p >= (batched ? 1 : 0); p--) {
      if (++idx[p] < dims[p]) break;
      idx[p] = 0;
    }
  }
  return identity && v->size == n;
}

/* ---- Where -------------------------------------------------------------------------------------- */

typedef struct {
  int            batched;  /* the output */
  int64_t        size;     /* output elements per sample */
  int            xb[2];    /* X, Y batched */
  int64_t        xsize[2]; /* X, Y per-sample sizes */
  int64_t       *off[2];   /* [size] X, Y elements read */
  unsigned char *take_x;   /* [size] the condition, broadcast */
} Where;

static void WhereInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[600];
  const HessaOnnxValue *v[3];
  int                   ndim, batched;
  int64_t               dims[HESSA_ONNX_MAX_DIMS], n = 1, *coff;
  Where                *w;

  Label(g, node, label, sizeof label);
  if (node->n_in != 3 || node->n_out != 1 || node->in[0] < 0 || node->in[1] < 0 || node->in[2] < 0 || node->out[0] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected 3 inputs (condition, X, Y) and 1 output, found %d inputs and %d outputs", label, node->n_in, node->n_out);
    return;
  }
  for (int k = 0; k < 3; k++) v[k] = &g->values[node->in[k]];
  if (v[0]->kind != HESSA_ONNX_CONST || v[0]->batched || !(v[0]->is_int ? v[0]->ivalue != NULL : v[0]->value != NULL)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the condition '%s' is %s; hessa needs a constant condition (a mask known at load, such as a causal mask)", label, v[0]->name,
                   v[0]->batched ? "computed from the data" : "computed at run time or a parameter");
    return;
  }
  for (int k = 1; k < 3; k++)
    if (v[k]->is_int) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input '%s' holds integers; hessa runs Where on floating-point X and Y only", label, v[k]->name);
      return;
    }
  if (!BroadcastDims(3, v, &ndim, dims, &batched, label, st)) return;
  for (int p = batched ? 1 : 0; p < ndim; p++) n *= dims[p];
  if (!(w = (Where *)calloc(1, sizeof *w + 3 * (size_t)(n ? n : 1) * sizeof(int64_t) + (size_t)(n ? n : 1)))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "%s: out of memory", label);
    return;
  }
  w->batched = batched;
  w->size    = n;
  w->off[0]  = (int64_t *)(w + 1);
  w->off[1]  = w->off[0] + n;
  coff       = w->off[1] + n;
  w->take_x  = (unsigned char *)(coff + n);
  BroadcastOffsets(ndim, dims, batched, v[0], coff);
  for (int64_t k = 0; k < n; k++) w->take_x[k] = v[0]->is_int ? v[0]->ivalue[coff[k]] != 0 : v[0]->value[coff[k]] != 0.0;
  for (int k = 0; k < 2; k++) {
    w->xb[k]    = v[k + 1]->batched;
    w->xsize[k] = v[k + 1]->size;
    BroadcastOffsets(ndim, dims, batched, v[k + 1], w->off[k]);
  }
  free(node->op_data);
  node->op_data        = w;
  node->aux_per_sample = 0;
  SetOutputShape(g, node->out[0], ndim, dims, batched, v[1]->differentiable || v[2]->differentiable);
}

/* rows rows of out = select(in X, in Y) (per = rows per sample of a shared input: 1, b or nb;
 * a NULL input reads zeros) */
static void WhereRows(const Where *w, PetscInt m, PetscInt per, const double *x, const double *y, double *out)
{
  for (PetscInt i = 0; i < m; i++)
    for (PetscInt j = 0; j < per; j++) {
      const double *src[2] = {x ? x + Row(w->xb[0], w->xsize[0], i, j, per) : NULL, y ? y + Row(w->xb[1], w->xsize[1], i, j, per) : NULL};
      double       *o      = out + ((size_t)i * per + j) * (size_t)w->size;
      for (int64_t k = 0; k < w->size; k++) {
        const int     s = w->take_x[k] ? 0 : 1;
        const double *v = src[s];
        o[k]            = v ? v[w->off[s][k]] : 0.0;
      }
    }
}

static PetscErrorCode WhereForward(HessaOnnxKernel *K)
{
  const Where *w = (const Where *)K->node->op_data;

  PetscFunctionBegin;
  WhereRows(w, w->batched ? K->m : 1, 1, K->x[1], K->x[2], K->y[0]);
  PetscFunctionReturn(0);
}

static PetscErrorCode WhereJvp(HessaOnnxKernel *K)
{
  const Where *w = (const Where *)K->node->op_data;

  PetscFunctionBegin;
  WhereRows(w, w->batched ? K->m : 1, K->nb, K->tx[1], K->tx[2], K->ty[0]);
  PetscFunctionReturn(0);
}

static PetscErrorCode WhereBackward(HessaOnnxKernel *K)
{
  const Where   *w = (const Where *)K->node->op_data;
  const PetscInt m = w->batched ? K->m : 1, nb = K->nb;
  double        *dx[2] = {K->dx[1], K->dx[2]};

  PetscFunctionBegin;
  for (PetscInt i = 0; i < m; i++)
    for (PetscInt j = 0; j < nb; j++) {
      const double *dy = K->dy[0] + ((size_t)i * nb + j) * (size_t)w->size;
      double       *d[2];
      for (int s = 0; s < 2; s++) d[s] = dx[s] ? dx[s] + Row(w->xb[s], w->xsize[s], i, j, nb) : NULL;
      for (int64_t k = 0; k < w->size; k++) {
        const int s = w->take_x[k] ? 0 : 1;
        if (d[s]) d[s][w->off[s][k]] += dy[k];
      }
    }
  PetscFunctionReturn(0);
}

/* ---- index ops: Slice, Split, Squeeze, Unsqueeze, Expand ------------------------------------------ */

typedef struct {
  int64_t  size; /* elements per sample (or in all) */
  int64_t *off;  /* [size] input element read by output element k; NULL: k itself */
} IndexOut;

typedef struct {
  int      in_batched;  /* the input is stored per sample */
  int      out_batched; /* the outputs are (also when the input is not: Expand of a parameter to the batch) */
  int64_t  in_size;
  int      n_out;
  IndexOut out[];
} IndexMap;

/* The per-sample shape of v (the batch axis dropped) into d; its rank. */
static int SampleDims(const HessaOnnxValue *v, int64_t *d)
{
  int q = 0;
  for (int k = v->batched ? 1 : 0; k < v->ndim; k++) d[q++] = v->dims[k];
  return q;
}

/* off[k] = sum_a (start[a] + idx[a] step[a]) in_stride[a] over the per-sample output index idx
 * of dims odims (rank q). */
static void StridedOffsets(int q, const int64_t *odims, const int64_t *start, const int64_t *step, const int64_t *in_stride, int64_t n, int64_t *off)
{
  int64_t idx[HESSA_ONNX_MAX_DIMS] = {0};
  for (int64_t k = 0; k < n; k++) {
    int64_t o = 0;
    for (int a = 0; a < q; a++) o += (start[a] + idx[a] * step[a]) * in_stride[a];
    off[k] = o;
    for (int a = q - 1; a >= 0; a--) {
      if (++idx[a] < odims[a]) break;
      idx[a] = 0;
    }
  }
}

/* Allocate the node's IndexMap for n_out outputs with tables of sizes[o] entries
 * (tables[o] = 0: identity, no table). */
static IndexMap *IndexMapNew(HessaOnnxNode *node, const HessaOnnxValue *x, int n_out, const int64_t *sizes, const int *tables, const char *label, HessaStatus *st)
{
  size_t    total = 0;
  IndexMap *p;
  int64_t  *at;

  for (int o = 0; o < n_out; o++)
    if (tables[o]) total += (size_t)(sizes[o] > 0 ? sizes[o] : 1);
  if (!(p = (IndexMap *)calloc(1, sizeof *p + (size_t)n_out * sizeof p->out[0] + total * sizeof(int64_t)))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "%s: out of memory", label);
    return NULL;
  }
  p->in_batched  = x->batched;
  p->out_batched = x->batched; /* Expand to the batch sets it */
  p->in_size     = x->size;
  p->n_out       = n_out;
  at             = (int64_t *)(p->out + n_out);
  for (int o = 0; o < n_out; o++) {
    p->out[o].size = sizes[o];
    if (tables[o]) p->out[o].off = at, at += sizes[o] > 0 ? sizes[o] : 1;
  }
  free(node->op_data);
  node->op_data        = p;
  node->aux_per_sample = 0;
  return p;
}

static void StridesOf(int q, const int64_t *d, int64_t *s)
{
  for (int64_t a = q - 1, t = 1; a >= 0; a--) s[a] = t, t *= d[a];
}

/* Slice (opset >= 10: starts, ends, axes, steps inputs; before: attributes), never on the batch
 * axis (a full range there is accepted). */
static void SliceInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[600], buf[256];
  const HessaOnnxValue *x;
  const int64_t        *starts, *ends, *axes = NULL, *steps = NULL;
  int64_t               ns, ne, na, nst, start[HESSA_ONNX_MAX_DIMS], step[HESSA_ONNX_MAX_DIMS], odims[HESSA_ONNX_MAX_DIMS], sdims[HESSA_ONNX_MAX_DIMS], sstart[HESSA_ONNX_MAX_DIMS], sstep[HESSA_ONNX_MAX_DIMS], in_stride[HESSA_ONNX_MAX_DIMS], n = 1;
  char                  seen[HESSA_ONNX_MAX_DIMS] = {0};
  int                   r, q, off, table = 1;
  IndexMap             *p;

  if (!CheckNode(g, node, 1, 5, 1, 1, label, sizeof label, st)) return;
  x = &g->values[node->in[0]];
  r = x->ndim;
  if (node->n_in >= 3 && node->in[1] >= 0 && node->in[2] >= 0) {
    if (!(starts = ConstInts(g, node->in[1], "the starts input", label, &ns, st)) || !(ends = ConstInts(g, node->in[2], "the ends input", label, &ne, st))) return;
    na = nst = ns;
    if (node->n_in >= 4 && node->in[3] >= 0 && !(axes = ConstInts(g, node->in[3], "the axes input", label, &na, st))) return;
    if (node->n_in >= 5 && node->in[4] >= 0 && !(steps = ConstInts(g, node->in[4], "the steps input", label, &nst, st))) return;
  } else {
    const HessaOnnxAttr *as = HessaOnnxAttrGet(node, "starts"), *ae = HessaOnnxAttrGet(node, "ends"), *aa = HessaOnnxAttrGet(node, "axes");
    if (!as || !ae || as->type != HESSA_ONNX_ATTR_INTS || ae->type != HESSA_ONNX_ATTR_INTS) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected starts and ends inputs (or attributes before opset 10), found neither", label);
      return;
    }
    starts = as->ints, ns = as->n, ends = ae->ints, ne = ae->n, na = nst = ns;
    if (aa && aa->type == HESSA_ONNX_ATTR_INTS) axes = aa->ints, na = aa->n;
  }
  if (ne != ns || na != ns || nst != ns || ns > r) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: starts, ends, axes and steps must have one entry per sliced axis (at most %d), found %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64, label, r, ns, ne, na, nst);
    return;
  }
  for (int d = 0; d < r; d++) start[d] = 0, step[d] = 1, odims[d] = x->dims[d];
  for (int64_t k = 0; k < ns; k++) {
    int64_t a = axes ? axes[k] : k, dim, s = starts[k], e = ends[k], t = steps ? steps[k] : 1;
    if (a < 0) a += r;
    if (a < 0 || a >= r || seen[a]++) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axis %" PRId64 " is out of range or repeated for input '%s' of rank %d", label, axes ? axes[k] : k, x->name, r);
      return;
    }
    if (t == 0 || HessaOnnxIsBatchEntry(s)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s on axis %" PRId64, label, t == 0 ? "step 0" : "a start that is the batch size", a);
      return;
    }
    if (x->batched && a == 0) {
      if (s == 0 && t == 1 && (e == HESSA_ONNX_BATCH || e >= INT32_MAX)) continue; /* the whole batch */
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: slices the batch axis of input '%s' %s (start %" PRId64 ", end %" PRId64 ", step %" PRId64 "); hessa keeps every sample", label, x->name, HessaOnnxDimsString(r, x->dims, buf, sizeof buf), s, e, t);
      return;
    }
    if (HessaOnnxIsBatchEntry(e)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the end on axis %" PRId64 " is the batch size", label, a);
      return;
    }
    dim = x->dims[a];
    if (s < 0) s = s < -dim ? 0 : s + dim;
    if (e < 0) e = e < -dim ? -1 : e + dim;
    if (t > 0) {
      s        = s > dim ? dim : s;
      e        = e > dim ? dim : e < 0 ? 0 : e;
      odims[a] = e > s ? (e - s + t - 1) / t : 0;
    } else {
      s        = s > dim - 1 ? dim - 1 : s;
      e        = e > dim - 1 ? dim - 1 : e;
      odims[a] = s > e ? (s - e + (-t) - 1) / (-t) : 0;
    }
    start[a] = s;
    step[a]  = t;
  }
  off = x->batched ? 1 : 0;
  q   = SampleDims(x, sdims);
  StridesOf(q, sdims, in_stride);
  for (int a = 0; a < q; a++) sstart[a] = start[a + off], sstep[a] = step[a + off], n *= odims[a + off];
  if (!(p = IndexMapNew(node, x, 1, &n, &table, label, st))) return;
  StridedOffsets(q, odims + off, sstart, sstep, in_stride, n, p->out[0].off);
  SetOutputShape(g, node->out[0], r, odims, x->batched, x->differentiable);
}

/* Split along a non-batch axis: sizes from the split input (opset >= 13), the split attribute
 * (before), or equal parts. Equal parts: before opset 18 the axis must divide by the number of
 * outputs; opset 18's num_outputs attribute (which must equal the outputs) takes parts of
 * ceil(dim / num_outputs) with a smaller last one, as the ONNX spec says; a last part that
 * would be empty or negative (dim 5 in 4 parts: 2, 2, 2, -1) is refused. */
static void SplitInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[600], buf[256];
  const HessaOnnxValue *x;
  const HessaOnnxAttr  *attr;
  const int64_t        *split  = NULL;
  int64_t               nsplit = 0, axis, sizes[64], parts[64], sdims[HESSA_ONNX_MAX_DIMS], odims[HESSA_ONNX_MAX_DIMS], start[HESSA_ONNX_MAX_DIMS] = {0}, step[HESSA_ONNX_MAX_DIMS], in_stride[HESSA_ONNX_MAX_DIMS], at = 0;
  int                   r, q, a, tables[64], uneven = 0;
  IndexMap             *p;

  if (!CheckNode(g, node, 1, 2, 1, 64, label, sizeof label, st)) return;
  x    = &g->values[node->in[0]];
  r    = x->ndim;
  axis = HessaOnnxAttrInt(node, "axis", 0);
  if (axis < -r || axis >= r) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axis %" PRId64 " is out of range for input '%s' of rank %d", label, axis, x->name, r);
    return;
  }
  if (axis < 0) axis += r;
  if (x->batched && axis == 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: splits the batch axis of input '%s' %s; hessa keeps every sample together", label, x->name, HessaOnnxDimsString(r, x->dims, buf, sizeof buf));
    return;
  }
  if (node->n_in == 2 && node->in[1] >= 0) {
    if (!(split = ConstInts(g, node->in[1], "the split input", label, &nsplit, st))) return;
  } else if ((attr = HessaOnnxAttrGet(node, "split")) && attr->type == HESSA_ONNX_ATTR_INTS)
    split = attr->ints, nsplit = attr->n;
  if (split && nsplit != node->n_out) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %" PRId64 " split sizes for %d outputs", label, nsplit, node->n_out);
    return;
  }
  if ((attr = HessaOnnxAttrGet(node, "num_outputs"))) {
    if (attr->type != HESSA_ONNX_ATTR_INT || attr->i != node->n_out) {
      if (attr->type != HESSA_ONNX_ATTR_INT)
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected the attribute num_outputs as an integer", label);
      else
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: num_outputs is %" PRId64 " but the node has %d outputs (they must be equal)", label, attr->i, node->n_out);
      return;
    }
    if (split) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: both the split sizes and num_outputs are given; the ONNX spec allows one of them", label);
      return;
    }
    if (g->opset > 0 && g->opset < 18) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the attribute num_outputs came with opset 18, but the model declares opset %" PRId64, label, g->opset);
      return;
    }
    uneven = 1;
  } else if (!split && g->opset >= 18) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: at opset %" PRId64 " Split needs either the split input or the attribute num_outputs, found neither", label, g->opset);
    return;
  }
  if (!split && !uneven && x->dims[axis] % node->n_out) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axis %" PRId64 " of input '%s' %s has %" PRId64 " elements, which do not split into %d equal parts (unequal parts need the split input, or num_outputs at opset 18)", label, axis, x->name,
                   HessaOnnxDimsString(r, x->dims, buf, sizeof buf), x->dims[axis], node->n_out);
    return;
  }
  for (int o = 0; o < node->n_out; o++) {
    const int64_t chunk = (x->dims[axis] + node->n_out - 1) / node->n_out; /* equal parts: ceil(dim / outputs), the last what is left */
    parts[o]            = split ? split[o] : (o < node->n_out - 1 ? chunk : x->dims[axis] - at);
    if (parts[o] < 0 || (!split && parts[o] == 0 && x->dims[axis] > 0)) {
      if (split)
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: split size %" PRId64 " of output %d is negative", label, parts[o], o);
      else
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: num_outputs %d does not split axis %" PRId64 " of input '%s' %s (%" PRId64 " elements): parts of %" PRId64 " leave %" PRId64 " for the last one (ONNX: the last part is smaller, not empty)", label,
                       node->n_out, axis, x->name, HessaOnnxDimsString(r, x->dims, buf, sizeof buf), x->dims[axis], chunk, parts[o]);
      return;
    }
    at += parts[o];
  }
  if (at != x->dims[axis]) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the split sizes add up to %" PRId64 ", but axis %" PRId64 " of input '%s' %s has %" PRId64, label, at, axis, x->name, HessaOnnxDimsString(r, x->dims, buf, sizeof buf), x->dims[axis]);
    return;
  }
  q = SampleDims(x, sdims);
  a = (int)axis - (x->batched ? 1 : 0);
  StridesOf(q, sdims, in_stride);
  for (int o = 0; o < node->n_out; o++) {
    sizes[o] = x->size / (sdims[a] ? sdims[a] : 1) * parts[o];
    if (!sdims[a]) sizes[o] = 0;
    tables[o] = 1;
  }
  if (!(p = IndexMapNew(node, x, node->n_out, sizes, tables, label, st))) return;
  for (int k = 0; k < q; k++) step[k] = 1;
  at = 0;
  for (int o = 0; o < node->n_out; o++) {
    memcpy(odims, x->dims, sizeof odims);
    odims[axis] = parts[o];
    start[a]    = at;
    StridedOffsets(q, odims + (x->batched ? 1 : 0), start, step, in_stride, sizes[o], p->out[o].off);
    at += parts[o];
    SetOutputShape(g, node->out[o], r, odims, x->batched, x->differentiable);
  }
}

/* Squeeze and Unsqueeze: the data as it is, a new shape; never at the batch axis. Axes from
 * the input (opset >= 13) or the attribute (before); Squeeze without axes drops every 1. */
static void SqueezeInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st, int squeeze)
{
  char                  label[600], buf[256];
  const HessaOnnxValue *x;
  const HessaOnnxAttr  *attr;
  const int64_t        *axes                          = NULL;
  int64_t               na                            = 0, odims[HESSA_ONNX_MAX_DIMS], size;
  char                  mark[HESSA_ONNX_MAX_DIMS + 1] = {0};
  int                   r, ry, table = 0;

  if (!CheckNode(g, node, 1, 2, 1, 1, label, sizeof label, st)) return;
  x = &g->values[node->in[0]];
  r = x->ndim;
  if (node->n_in == 2 && node->in[1] >= 0) {
    if (!(axes = ConstInts(g, node->in[1], "the axes input", label, &na, st))) return;
  } else if ((attr = HessaOnnxAttrGet(node, "axes")) && attr->type == HESSA_ONNX_ATTR_INTS)
    axes = attr->ints, na = attr->n;
  if (!squeeze && !axes) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: Unsqueeze without axes", label);
    return;
  }
  ry = squeeze ? r : r + (int)na;
  if (na > HESSA_ONNX_MAX_DIMS || ry > HESSA_ONNX_MAX_DIMS) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the result would have more than %d dimensions", label, HESSA_ONNX_MAX_DIMS);
    return;
  }
  for (int64_t k = 0; k < na; k++) {
    int64_t a = axes[k] < 0 ? axes[k] + ry : axes[k];
    if (a < 0 || a >= ry || mark[a]) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axis %" PRId64 " is out of range or repeated (rank %d)", label, axes[k], ry);
      return;
    }
    if (x->batched && a == 0) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: %s axis 0 of the batched input '%s' %s would move the batch; hessa keeps the batch as the first axis", label, squeeze ? "squeezing" : "inserting", x->name,
                     HessaOnnxDimsString(r, x->dims, buf, sizeof buf));
      return;
    }
    mark[a] = 1;
  }
  if (squeeze) {
    ry = 0;
    for (int d = 0; d < r; d++) {
      int drop = axes ? mark[d] : (x->dims[d] == 1 && !(x->batched && d == 0));
      if (drop && x->dims[d] != 1) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: cannot squeeze axis %d of size %" PRId64 " of input '%s' %s", label, d, x->dims[d], x->name, HessaOnnxDimsString(r, x->dims, buf, sizeof buf));
        return;
      }
      if (!drop) odims[ry++] = x->dims[d];
    }
  } else
    for (int d = 0, j = 0; d < ry; d++) odims[d] = mark[d] ? 1 : x->dims[j++];
  size = x->size;
  if (!IndexMapNew(node, x, 1, &size, &table, label, st)) return;
  SetOutputShape(g, node->out[0], ry, odims, x->batched, x->differentiable);
}

static void SqueezeOpInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  SqueezeInfer(g, node, st, 1);
}

static void UnsqueezeOpInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  SqueezeInfer(g, node, st, 0);
}

/* Expand(x, shape): x broadcast to the shape. The shape's entry at the batch axis of a batched
 * x must be 1 or the batch; a shape of higher rank than a batched x would move the batch. A
 * value that is not batched (a parameter or a parameter-phase value) may be expanded to the
 * batch at axis 0 (a ViT's class token, cls.expand(B, -1, -1)): the output is batched, the
 * node runs in the sample phase, and the parameter's gradient and R-terms sum over the samples.
 * A constant is never expanded to the batch (it would be folded into a per-sample constant). */
static void ExpandInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[600], b1[256], b2[256];
  const HessaOnnxValue *x, *v[2];
  const int64_t        *shape;
  int64_t               ns, odims[HESSA_ONNX_MAX_DIMS], n = 1;
  HessaOnnxValue        target = {.name = (char *)"the shape"};
  int                   ndim, batched, table = 1, to_batch = 0;
  IndexMap             *p;

  if (!CheckNode(g, node, 2, 2, 1, 1, label, sizeof label, st)) return;
  x = &g->values[node->in[0]];
  if (!(shape = ConstInts(g, node->in[1], "the shape input", label, &ns, st))) return;
  if (ns > HESSA_ONNX_MAX_DIMS) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: a shape of %" PRId64 " dims (at most %d)", label, ns, HESSA_ONNX_MAX_DIMS);
    return;
  }
  target.ndim = (int)ns;
  for (int64_t k = 0; k < ns; k++) {
    if (shape[k] == HESSA_ONNX_BATCH) {
      if (x->batched && k == ns - x->ndim) {
        /* the batch where x has it */
      } else if (!x->batched && k == 0 && ns >= x->ndim && (ns > x->ndim || x->dims[0] == 1)) {
        if (!x->differentiable) {
          HessaStatusSet(st, HESSA_ERR_INPUT,
                         "%s: expands the constant '%s' %s to the batch (shape %s); hessa expands only parameters (or values computed from them) to the batch: make it a parameter, or let broadcasting against the batched operand do the expansion",
                         label, x->name, HessaOnnxDimsString(x->ndim, x->dims, b2, sizeof b2), HessaOnnxDimsString((int)ns, shape, b1, sizeof b1));
          return;
        }
        to_batch = 1;
      } else {
        HessaStatusSet(st, HESSA_ERR_INPUT,
                       "%s: the shape %s puts the batch at axis %" PRId64 " of input '%s' %s; hessa keeps the batch at axis 0: a batched value keeps it where it is, a parameter may be expanded to it at axis 0 (where it has size 1 or no axis)", label,
                       HessaOnnxDimsString((int)ns, shape, b1, sizeof b1), k, x->name, HessaOnnxDimsString(x->ndim, x->dims, b2, sizeof b2));
        return;
      }
    } else if (HessaOnnxIsBatchEntry(shape[k])) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the shape %s holds a multiple of the batch size at axis %" PRId64 "; hessa expands only to the batch itself", label, HessaOnnxDimsString((int)ns, shape, b1, sizeof b1), k);
      return;
    } else if (shape[k] < 0) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: negative entry %" PRId64 " in shape %s", label, shape[k], HessaOnnxDimsString((int)ns, shape, b1, sizeof b1));
      return;
    }
    target.dims[k] = shape[k] == HESSA_ONNX_BATCH ? 1 : shape[k];
  }
  /* a shape that does not match: name the dim (BroadcastDims's message speaks of inputs) */
  for (int q = 0; q < x->ndim && q < ns; q++) {
    const int64_t d = x->dims[x->ndim - 1 - q], t = target.dims[ns - 1 - q];
    if (d != HESSA_ONNX_BATCH && d != t && d != 1 && t != 1) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input '%s' %s cannot be expanded to the shape %s: axis %" PRId64 " of the result is %" PRId64 " in the input and %" PRId64 " in the shape (each axis must be equal or 1 in one of them)", label, x->name,
                     HessaOnnxDimsString(x->ndim, x->dims, b2, sizeof b2), HessaOnnxDimsString((int)ns, shape, b1, sizeof b1), (ns > x->ndim ? ns : x->ndim) - 1 - q, d, t);
      return;
    }
  }
  v[0] = x, v[1] = &target;
  if (!BroadcastDims(2, v, &ndim, odims, &batched, label, st)) return;
  if (to_batch) odims[0] = HESSA_ONNX_BATCH, batched = 1; /* odims[0] is 1 here: checked above */
  for (int d = batched ? 1 : 0; d < ndim; d++) n *= odims[d];
  if (!(p = IndexMapNew(node, x, 1, &n, &table, label, st))) return;
  BroadcastOffsets(ndim, odims, batched, x, p->out[0].off);
  p->out_batched = batched;
  if (to_batch) node->phase = 1; /* no batched input, a batched output: the sample phase */
  SetOutputShape(g, node->out[0], ndim, odims, batched, x->differentiable);
}

/* The direction of IndexCopy: forward and jvp gather, the backward scatter-adds. */
typedef enum { INDEX_GATHER, INDEX_SCATTER_ADD } IndexDirection;

/* The strided copy of every index op over the rows of a pass: output rows m*nb when the outputs
 * are batched (row i*nb + j: sample i, direction j), else nb. Output row r reads input row r
 * when the input is batched, else row r % nb (direction j of a parameter), so a parameter
 * expanded to the batch gathers its one row for every sample and scatter-adds every sample's
 * adjoint into it (the sum over the samples the contract asks for).
 *   INDEX_GATHER       out[o][r][k]       = in[r'][off[k]]  (in NULL: zeros)
 *   INDEX_SCATTER_ADD  in[r'][off[k]]    += out[o][r][k]    (out[o] NULL: skipped)
 * (off NULL: k itself) */
static void IndexCopy(const IndexMap *p, PetscInt m, PetscInt nb, IndexDirection dir, double *in, double *const *out)
{
  const size_t rows = (p->out_batched ? (size_t)m : 1) * (size_t)nb;

  for (int o = 0; o < p->n_out; o++) {
    const IndexOut *io = &p->out[o];
    if (dir == INDEX_SCATTER_ADD && !out[o]) continue;
    for (size_t r = 0; r < rows; r++) {
      double       *x = in ? in + (p->in_batched ? r : r % (size_t)nb) * (size_t)p->in_size : NULL;
      double       *y = out[o] + r * (size_t)io->size;
      const int64_t n = io->size;
      if (dir == INDEX_GATHER) {
        if (!x)
          memset(y, 0, (size_t)n * sizeof(double));
        else if (!io->off)
          memcpy(y, x, (size_t)n * sizeof(double));
        else
          for (int64_t k = 0; k < n; k++) y[k] = x[io->off[k]];
      } else if (!io->off)
        for (int64_t k = 0; k < n; k++) x[k] += y[k];
      else
        for (int64_t k = 0; k < n; k++) x[io->off[k]] += y[k];
    }
  }
}

static PetscErrorCode IndexForward(HessaOnnxKernel *K)
{
  PetscFunctionBegin;
  IndexCopy((const IndexMap *)K->node->op_data, K->m, 1, INDEX_GATHER, (double *)K->x[0], K->y);
  PetscFunctionReturn(0);
}

static PetscErrorCode IndexJvp(HessaOnnxKernel *K)
{
  PetscFunctionBegin;
  IndexCopy((const IndexMap *)K->node->op_data, K->m, K->nb, INDEX_GATHER, (double *)K->tx[0], K->ty);
  PetscFunctionReturn(0);
}

static PetscErrorCode IndexBackward(HessaOnnxKernel *K)
{
  PetscFunctionBegin;
  if (K->dx[0]) IndexCopy((const IndexMap *)K->node->op_data, K->m, K->nb, INDEX_SCATTER_ADD, K->dx[0], (double *const *)K->dy);
  PetscFunctionReturn(0);
}

/* The table. Where's condition, Slice's starts/ends/axes/steps, Split's split, the axes of
 * Squeeze/Unsqueeze and Expand's shape are never parameters. */
const HessaOnnxOp HessaOnnxOpsAttention[] = {
    {"Where", WhereInfer, WhereForward, WhereBackward, WhereJvp, NULL, 1u << 0},           {"Slice", SliceInfer, IndexForward, IndexBackward, IndexJvp, NULL, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4)},
    {"Split", SplitInfer, IndexForward, IndexBackward, IndexJvp, NULL, 1u << 1},           {"Squeeze", SqueezeOpInfer, IndexForward, IndexBackward, IndexJvp, NULL, 1u << 1},
    {"Unsqueeze", UnsqueezeOpInfer, IndexForward, IndexBackward, IndexJvp, NULL, 1u << 1}, {"Expand", ExpandInfer, IndexForward, IndexBackward, IndexJvp, NULL, 1u << 1},
};
const int HessaOnnxOpsAttentionCount = (int)(sizeof HessaOnnxOpsAttention / sizeof HessaOnnxOpsAttention[0]);
