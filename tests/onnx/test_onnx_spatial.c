/* The spatial ONNX kernels (Conv, BatchNormalization, MaxPool, AveragePool,
 * GlobalAveragePool) called directly through HessaOnnxKernel on hand-built nodes, m = 2
 * samples, b = 3 directions, for each case:
 *  - forward vs a naive reference (plain loops, below) to 1e-13 and, for every case,
 *    vs PyTorch float64 (torch.nn.functional, run once by spatial_reference.py) to 1e-12;
 *  - backward (nb = 1) vs central differences of <dy, f> for every input component
 *    (h = 1e-4; the ops are linear or bilinear, so the difference is exact up to
 *    rounding): relative error <= 1e-8; the kernel adds to dx (checked);
 *  - backward with nb = 3 equals three nb = 1 calls, relative <= 1e-13;
 *  - jvp (b = 3) vs central differences along each direction: relative <= 1e-8;
 *  - sot (b = 3) vs central differences of the backward along each direction: <= 1e-8
 *    (and for the ops without sot, those differences vanish: linear ops);
 *  - the same with constant weights and a data input that is not differentiable;
 *  - Conv with the scratch budget lowered so the samples go in sub-blocks of one: equal
 *    to 1e-13;
 *  - MaxPool ties go to the first maximum (closed form on a constant input);
 *  - bad nodes (group not dividing, kernel_shape against W, training_mode, Indices
 *    output, windows in the padding only) refused with a message naming the node.
 * Cases: strides 2, asymmetric pads, dilation 2, groups 2, depthwise, auto_pad
 * SAME_UPPER / SAME_LOWER / VALID, ceil_mode, count_include_pad. */
#include "onnx_impl.h"
#include <hessa/core.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

/* The kernels' scratch budget (onnx_ops_spatial.c): lowered to exercise sub-blocks. */
extern size_t HessaOnnxSpatialScratchBytes;

/* ---- scratch: the kernels' contract, served here without an executor ----
 * This definition takes the place of the executor's (onnx_exec.c) in this program: the
 * kernels are called with a TestScratch as scratch_owner, and nothing here runs the
 * executor. */
typedef struct {
  void  *p[8];
  size_t n[8];
} TestScratch;

void *HessaOnnxScratch(void *owner, size_t bytes, int slot)
{
  TestScratch *s = (TestScratch *)owner;
  if (slot < 0 || slot >= 8) return NULL;
  if (s->n[slot] < bytes) {
    free(s->p[slot]);
    s->p[slot] = malloc(bytes);
    s->n[slot] = s->p[slot] ? bytes : 0;
  }
  return s->p[slot];
}

/* ---- a hand-built one-node graph ---- */
#define MAXV 6
typedef struct {
  HessaOnnxGraph g;
  HessaOnnxValue v[MAXV];
  HessaOnnxNode  node;
  HessaOnnxAttr  attr[8];
  int64_t        ints[8][4];
  int            in[5], out[1];
  int            n_in;
  char           name[64];
  /* per test-case data */
  double     *x[5]; /* inputs: batched [m][size], else [size] */
  TestScratch scratch;
} Case;

static const PetscInt M_SAMPLES = 2, B_DIRS = 3;

static void CaseInit(Case *c, const char op[], const char name[])
{
  memset(c, 0, sizeof(*c));
  snprintf(c->name, sizeof(c->name), "%s", name);
  snprintf(c->g.path, sizeof(c->g.path), "test.onnx");
  c->g.values     = c->v;
  c->g.n_values   = 0;
  c->g.nodes      = &c->node;
  c->g.n_nodes    = 1;
  c->node.name    = c->name;
  c->node.op_type = (char *)op;
  for (int k = 0; k < HessaOnnxOpsSpatialCount; k++)
    if (!strcmp(HessaOnnxOpsSpatial[k].op_type, op)) c->node.op = &HessaOnnxOpsSpatial[k];
  c->node.attr  = c->attr;
  c->node.in    = c->in;
  c->node.out   = c->out;
  c->node.phase = 1;
}

/* Add input value: kind, shape (batched: dims[0] ignored), differentiable */
static void CaseInput(Case *c, HessaOnnxValueKind kind, int ndim, const int64_t *dims, int differentiable)
{
  HessaOnnxValue *v = &c->v[c->g.n_values];
  char            nm[16];

  snprintf(nm, sizeof(nm), "in%d", c->n_in);
  v->name           = strdup(nm);
  v->kind           = kind;
  v->elem_type      = 11;
  v->offset         = -1;
  v->producer       = -1;
  v->differentiable = differentiable;
  HessaOnnxValueSetShape(v, ndim, dims, kind == HESSA_ONNX_INPUT);
  c->in[c->n_in++] = c->g.n_values++;
  c->node.n_in     = c->n_in;
}

static void CaseAbsent(Case *c)
{
  c->in[c->n_in++] = -1;
  c->node.n_in     = c->n_in;
}

static void AttrI(Case *c, const char name[], int64_t i)
{
  HessaOnnxAttr *a = &c->attr[c->node.n_attr++];
  a->name          = (char *)name;
  a->type          = HESSA_ONNX_ATTR_INT;
  a->i             = i;
}

static void AttrIs(Case *c, const char name[], int n, int64_t a0, int64_t a1, int64_t a2, int64_t a3)
{
  int            k = c->node.n_attr;
  HessaOnnxAttr *a = &c->attr[c->node.n_attr++];
  c->ints[k][0] = a0, c->ints[k][1] = a1, c->ints[k][2] = a2, c->ints[k][3] = a3;
  a->name = (char *)name;
  a->type = HESSA_ONNX_ATTR_INTS;
  a->n    = n;
  a->ints = c->ints[k];
}

static void AttrS(Case *c, const char name[], const char s[])
{
  HessaOnnxAttr *a = &c->attr[c->node.n_attr++];
  a->name          = (char *)name;
  a->type          = HESSA_ONNX_ATTR_STRING;
  a->s             = (char *)s;
}

static void AttrF(Case *c, const char name[], double f)
{
  HessaOnnxAttr *a = &c->attr[c->node.n_attr++];
  a->name          = (char *)name;
  a->type          = HESSA_ONNX_ATTR_FLOAT;
  a->f             = f;
}

static HessaOnnxValue *In(Case *c, int i)
{
  return c->in[i] < 0 ? NULL : &c->v[c->in[i]];
}
static HessaOnnxValue *Out(Case *c)
{
  return &c->v[c->out[0]];
}
static int64_t InLen(Case *c, int i, PetscInt rows)
{
  HessaOnnxValue *v = In(c, i);
  return v->batched ? rows * v->size : v->size;
}

/* Add the output, run infer; the input data: uniform in [-1, 1] (CONST > 0: variances) */
static PetscErrorCode CaseInfer(Case *c, uint64_t seed, HessaStatus *st)
{
  PetscFunctionBegin;
  c->out[0]              = c->g.n_values++;
  c->v[c->out[0]].name   = strdup("y");
  c->v[c->out[0]].kind   = HESSA_ONNX_RUNTIME;
  c->v[c->out[0]].offset = -1;
  c->node.n_out          = 1;
  for (int i = 0; i < c->n_in; i++) {
    HessaOnnxValue *v = In(c, i);
    if (!v) continue;
    if (v->kind == HESSA_ONNX_CONST) {
      PetscCall(PetscMalloc1(v->size, &v->value));
      for (int64_t e = 0; e < v->size; e++) v->value[e] = 0.5 + HessaRandomUniform(seed, 100 + i, (uint64_t)e);
    }
  }
  memset(st, 0, sizeof(*st));
  c->node.op->infer(&c->g, &c->node, st);
  for (int i = 0; i < c->n_in; i++) {
    HessaOnnxValue *v = In(c, i);
    int64_t         n;
    if (!v) continue;
    n = InLen(c, i, M_SAMPLES);
    PetscCall(PetscMalloc1(n, &c->x[i]));
    for (int64_t e = 0; e < n; e++) c->x[i][e] = v->value ? v->value[e] : 2.0 * HessaRandomUniform(seed, 200 + i, (uint64_t)e) - 1.0;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode CaseDestroy(Case *c)
{
  PetscFunctionBegin;
  for (int i = 0; i < c->g.n_values; i++) {
    free(c->v[i].name);
    PetscCall(PetscFree(c->v[i].value));
  }
  for (int i = 0; i < 5; i++) PetscCall(PetscFree(c->x[i]));
  for (int s = 0; s < 8; s++) free(c->scratch.p[s]);
  free(c->node.op_data);
  PetscFunctionReturn(0);
}

/* ---- passes ---- */
static void KernelInit(Case *c, HessaOnnxKernel *K, PetscInt m, PetscInt nb, const double **x, double **y, const double **tx, double **ty, const double **dy, double **dx, double *aux)
{
  memset(K, 0, sizeof(*K));
  K->g = &c->g, K->node = &c->node, K->m = m, K->nb = nb, K->x = x, K->y = y, K->tx = tx, K->ty = ty, K->dy = dy, K->dx = dx, K->aux = aux;
  K->scratch_owner = &c->scratch;
}

/* y = f(x); aux (m * aux_per_sample) kept for the other passes */
static PetscErrorCode Forward(Case *c, double **x, double *y, double *aux)
{
  HessaOnnxKernel K;
  const double   *xs[5] = {x[0], x[1], x[2], x[3], x[4]};
  double         *ys[1] = {y};

  PetscFunctionBegin;
  KernelInit(c, &K, M_SAMPLES, 1, xs, ys, NULL, NULL, NULL, NULL, aux);
  PetscCall(c->node.op->forward(&K));
  PetscFunctionReturn(0);
}

static size_t AuxLen(Case *c)
{
  return M_SAMPLES * c->node.aux_per_sample + 1;
}

/* dx += J^T dy at x (forward first, for aux) */
static PetscErrorCode Backward(Case *c, double **x, PetscInt nb, const double *dy, double **dx)
{
  HessaOnnxKernel K;
  const double   *xs[5] = {x[0], x[1], x[2], x[3], x[4]}, *dys[1] = {dy};
  double         *y, *aux;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(M_SAMPLES * Out(c)->size, &y, AuxLen(c), &aux));
  PetscCall(Forward(c, x, y, aux));
  KernelInit(c, &K, M_SAMPLES, nb, xs, NULL, NULL, NULL, dys, dx, aux);
  K.y = &y;
  PetscCall(c->node.op->backward(&K));
  PetscCall(PetscFree2(y, aux));
  PetscFunctionReturn(0);
}

/* relative error: max |a - b| / max(max |b|, floor) */
static double RelErr(int64_t n, const double *a, const double *b)
{
  double e = 0, s = 1e-300;
  for (int64_t i = 0; i < n; i++) e = PetscMax(e, fabs(a[i] - b[i])), s = PetscMax(s, fabs(b[i]));
  return e / s;
}

/* The row of direction j of a tangent/adjoint block of input i: batched rows i*b+j (sample
 * i), else [b][size]; copies direction j into t (the layout of x). */
static void DirectionOf(Case *c, int i, PetscInt b, PetscInt j, const double *block, double *t)
{
  HessaOnnxValue *v = In(c, i);
  if (v->batched)
    for (PetscInt s = 0; s < M_SAMPLES; s++) memcpy(t + s * v->size, block + (s * b + j) * v->size, (size_t)v->size * sizeof(double));
  else
    memcpy(t, block + j * v->size, (size_t)v->size * sizeof(double));
}

/* Every derivative check of one case; diff[i]: input i is differentiable (else its tangent
 * is NULL and its adjoint not wanted). */
static PetscErrorCode CheckDerivatives(Case *c, const int diff[5])
{
  const PetscInt  m = M_SAMPLES, b = B_DIRS, ny = Out(c)->size;
  const double    h = 1e-5;
  double         *y, *yp, *ym, *aux, *dy, *dyb, *ty, *fd, *xp[5] = {0}, *xm[5] = {0}, *dx[5] = {0}, *dxb[5] = {0}, *tx[5] = {0}, *t1, *t2;
  HessaOnnxKernel K;
  const char     *nm = c->name;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4(m * ny, &y, m * ny, &yp, m * ny, &ym, AuxLen(c), &aux));
  int64_t big = m * b * ny;
  for (int i = 0; i < c->n_in; i++)
    if (In(c, i)) big = PetscMax(big, b * InLen(c, i, m));
  PetscCall(PetscMalloc4(m * b * ny, &dy, m * b * ny, &dyb, m * b * ny, &ty, big, &fd));
  for (int i = 0; i < c->n_in; i++) {
    int64_t n;
    if (!In(c, i)) continue;
    n = InLen(c, i, m);
    PetscCall(PetscMalloc2(n, &xp[i], n, &xm[i]));
    PetscCall(PetscArraycpy(xp[i], c->x[i], n));
    PetscCall(PetscArraycpy(xm[i], c->x[i], n));
    if (diff[i]) {
      int64_t nbk = In(c, i)->batched ? n * b : In(c, i)->size * b;
      PetscCall(PetscMalloc3(nbk, &dx[i], nbk, &dxb[i], nbk, &tx[i]));
      HessaRandomFill(HESSA_RANDOM_NORMAL, 7, 300 + i, 0, nbk, tx[i]);
    }
  }
  PetscCall(PetscMalloc2(big, &t1, big, &t2));
  HessaRandomFill(HESSA_RANDOM_NORMAL, 7, 400, 0, m * b * ny, dy);

  /* backward nb = 1 vs central differences of <dy, f>; dx starts at 1 (adds) */
  for (int i = 0; i < c->n_in; i++) {
    int64_t n;
    if (!diff[i]) continue;
    n = InLen(c, i, m);
    for (int64_t e = 0; e < n; e++) dx[i][e] = 1.0;
  }
  PetscCall(Backward(c, c->x, 1, dy, dx));
  for (int i = 0; i < c->n_in; i++) {
    int64_t n;
    if (!diff[i]) continue;
    n = InLen(c, i, m);
    for (int64_t e = 0; e < n; e++) {
      double lp = 0, lm = 0;
      xp[i][e] = c->x[i][e] + h, xm[i][e] = c->x[i][e] - h;
      PetscCall(Forward(c, xp, yp, aux));
      PetscCall(Forward(c, xm, ym, aux));
      xp[i][e] = xm[i][e] = c->x[i][e];
      for (int64_t k = 0; k < m * ny; k++) lp += dy[k] * yp[k], lm += dy[k] * ym[k];
      fd[e] = (lp - lm) / (2 * h);
      dx[i][e] -= 1.0;
    }
    CHECK(RelErr(n, dx[i], fd) <= 1e-8, "%s: backward of input %d vs central differences: relative error %g", nm, i, RelErr(n, dx[i], fd));
  }

  /* backward nb = 3 equals three nb = 1 passes: dy rows i*3+j */
  for (int i = 0; i < c->n_in; i++)
    if (diff[i]) PetscCall(PetscArrayzero(dxb[i], In(c, i)->batched ? InLen(c, i, m) * b : In(c, i)->size * b));
  PetscCall(Backward(c, c->x, b, dy, dxb));
  for (PetscInt j = 0; j < b; j++) {
    double *dxj[5] = {0};
    for (PetscInt s = 0; s < m; s++) PetscCall(PetscArraycpy(dyb + s * ny, dy + (s * b + j) * ny, ny));
    for (int i = 0; i < c->n_in; i++)
      if (diff[i]) {
        dxj[i] = dx[i];
        PetscCall(PetscArrayzero(dx[i], InLen(c, i, m)));
      }
    PetscCall(Backward(c, c->x, 1, dyb, dxj));
    for (int i = 0; i < c->n_in; i++) {
      if (!diff[i]) continue;
      DirectionOf(c, i, b, j, dxb[i], t1);
      CHECK(RelErr(InLen(c, i, m), t1, dx[i]) <= 1e-13, "%s: backward nb = 3, direction %d, input %d differs from nb = 1: %g", nm, (int)j, i, RelErr(InLen(c, i, m), t1, dx[i]));
    }
  }

  /* jvp vs central differences along each direction */
  {
    const double *xs[5] = {c->x[0], c->x[1], c->x[2], c->x[3], c->x[4]}, *txs[5] = {tx[0], tx[1], tx[2], tx[3], tx[4]};
    double       *ys[1] = {y}, *tys[1] = {ty};
    PetscCall(Forward(c, c->x, y, aux));
    KernelInit(c, &K, m, b, xs, ys, txs, tys, NULL, NULL, aux);
    PetscCall(c->node.op->jvp(&K));
  }
  for (PetscInt j = 0; j < b; j++) {
    for (int i = 0; i < c->n_in; i++) {
      if (!diff[i]) continue;
      DirectionOf(c, i, b, j, tx[i], t1);
      for (int64_t e = 0; e < InLen(c, i, m); e++) xp[i][e] = c->x[i][e] + h * t1[e], xm[i][e] = c->x[i][e] - h * t1[e];
    }
    PetscCall(Forward(c, xp, yp, aux));
    PetscCall(Forward(c, xm, ym, aux));
    for (PetscInt s = 0; s < m; s++)
      for (int64_t k = 0; k < ny; k++) {
        fd[s * ny + k] = (yp[s * ny + k] - ym[s * ny + k]) / (2 * h);
        t2[s * ny + k] = ty[(s * b + j) * ny + k];
      }
    CHECK(RelErr(m * ny, t2, fd) <= 1e-8, "%s: jvp direction %d vs central differences: relative error %g", nm, (int)j, RelErr(m * ny, t2, fd));
  }
  for (int i = 0; i < c->n_in; i++) {
    if (!xp[i]) continue;
    PetscCall(PetscArraycpy(xp[i], c->x[i], InLen(c, i, m)));
    PetscCall(PetscArraycpy(xm[i], c->x[i], InLen(c, i, m)));
  }

  /* sot vs central differences of the backward (first-order adjoint dy, m rows) */
  for (int i = 0; i < c->n_in; i++)
    if (diff[i]) PetscCall(PetscArrayzero(dxb[i], In(c, i)->batched ? InLen(c, i, m) * b : In(c, i)->size * b));
  if (c->node.op->sot) {
    const double *xs[5] = {c->x[0], c->x[1], c->x[2], c->x[3], c->x[4]}, *txs[5] = {tx[0], tx[1], tx[2], tx[3], tx[4]}, *dys[1] = {dy};
    double       *ys[1] = {y};
    PetscCall(Forward(c, c->x, y, aux));
    KernelInit(c, &K, m, b, xs, ys, txs, NULL, dys, dxb, aux);
    PetscCall(c->node.op->sot(&K));
  }
  for (PetscInt j = 0; j < b; j++) {
    double *dxp[5] = {0}, *dxm[5] = {0};
    for (int i = 0; i < c->n_in; i++) {
      if (!diff[i]) continue;
      DirectionOf(c, i, b, j, tx[i], t1);
      for (int64_t e = 0; e < InLen(c, i, m); e++) xp[i][e] = c->x[i][e] + h * t1[e], xm[i][e] = c->x[i][e] - h * t1[e];
      PetscCall(PetscCalloc2(InLen(c, i, m), &dxp[i], InLen(c, i, m), &dxm[i]));
    }
    PetscCall(Backward(c, xp, 1, dy, dxp));
    PetscCall(Backward(c, xm, 1, dy, dxm));
    for (int i = 0; i < c->n_in; i++) {
      int64_t n;
      double  scale = 1e-300;
      if (!diff[i]) continue;
      n = InLen(c, i, m);
      for (int64_t e = 0; e < n; e++) fd[e] = (dxp[i][e] - dxm[i][e]) / (2 * h);
      DirectionOf(c, i, b, j, dxb[i], t1);
      for (int64_t e = 0; e < n; e++) scale = PetscMax(scale, fabs(dx[i][e]));
      /* relative to the first-order adjoint's size: the term may vanish (linear ops) */
      for (int64_t e = 0; e < n; e++) CHECK(fabs(t1[e] - fd[e]) <= 1e-8 * PetscMax(scale, fabs(fd[e])), "%s: sot direction %d input %d entry %d: %g, central differences %g", nm, (int)j, i, (int)e, t1[e], fd[e]);
      PetscCall(PetscFree2(dxp[i], dxm[i]));
    }
  }

  for (int i = 0; i < c->n_in; i++) {
    PetscCall(PetscFree2(xp[i], xm[i]));
    PetscCall(PetscFree3(dx[i], dxb[i], tx[i]));
  }
  PetscCall(PetscFree2(t1, t2));
  PetscCall(PetscFree4(y, yp, ym, aux));
  PetscCall(PetscFree4(dy, dyb, ty, fd));
  PetscFunctionReturn(0);
}

/* ---- naive references (plain loops, the ONNX/PyTorch definitions) ---- */
typedef struct {
  int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group, ceil_mode, count_include_pad;
} Geo;

static int64_t RefOut(int64_t in, int64_t p0, int64_t p1, int64_t k, int64_t s, int64_t d, int64_t ceil_mode)
{
  int64_t eff = d * (k - 1) + 1, out;
  if (!ceil_mode) return (in + p0 + p1 - eff) / s + 1;
  out = (in + p0 + p1 - eff + s - 1) / s + 1;
  if ((out - 1) * s >= in + p0) out--;
  return out;
}

static void RefConv(const Geo *q, int64_t N, int64_t C, int64_t H, int64_t W, const double *x, int64_t M, const double *w, const double *bias, double *y)
{
  int64_t OH = RefOut(H, q->pt, q->pb, q->kh, q->sh, q->dh, 0), OW = RefOut(W, q->pl, q->pr, q->kw, q->sw, q->dw, 0), Cg = C / q->group, Mg = M / q->group;
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < M; o++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          double s = bias ? bias[o] : 0.0;
          for (int64_t c = 0; c < Cg; c++)
            for (int64_t i = 0; i < q->kh; i++)
              for (int64_t j = 0; j < q->kw; j++) {
                int64_t ih = oh * q->sh - q->pt + i * q->dh, iw = ow * q->sw - q->pl + j * q->dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += w[((o * Cg + c) * q->kh + i) * q->kw + j] * x[((n * C + (o / Mg) * Cg + c) * H + ih) * W + iw];
              }
          y[((n * M + o) * OH + oh) * OW + ow] = s;
        }
}

static void RefPool(const Geo *q, int is_max, int64_t N, int64_t C, int64_t H, int64_t W, const double *x, double *y)
{
  int64_t OH = RefOut(H, q->pt, q->pb, q->kh, q->sh, q->dh, q->ceil_mode), OW = RefOut(W, q->pl, q->pr, q->kw, q->sw, q->dw, q->ceil_mode);
  for (int64_t nc = 0; nc < N * C; nc++)
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++) {
        double  best = -INFINITY, sum = 0;
        int64_t count = 0, padded = 0;
        for (int64_t i = 0; i < q->kh; i++)
          for (int64_t j = 0; j < q->kw; j++) {
            int64_t ih = oh * q->sh - q->pt + i * q->dh, iw = ow * q->sw - q->pl + j * q->dw;
            if (ih < H + q->pb && iw < W + q->pr) padded++; /* inside the padded input */
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            best = PetscMax(best, x[(nc * H + ih) * W + iw]);
            sum += x[(nc * H + ih) * W + iw];
            count++;
          }
        y[(nc * OH + oh) * OW + ow] = is_max ? best : sum / (double)(q->count_include_pad ? padded : count);
      }
}

/* ---- the PyTorch reference: every case's forward in one python run ---- */
#define MAX_CASES 32
typedef struct {
  char    line[4096];
  double *out;
  int64_t n_out;
} TorchCase;
static TorchCase torch_cases[MAX_CASES];
static int       n_torch;

static void AppendArray(const char key[], int64_t n, const double *a, FILE *f)
{
  fprintf(f, "\"%s\": [", key);
  for (int64_t e = 0; e < n; e++) fprintf(f, "%s%.17g", e ? "," : "", a[e]);
  fprintf(f, "], ");
}

/* ---- the cases ---- */
static PetscErrorCode RunCase(Case *c, const double *ref, const int diff[5], const char *torch_spec, FILE *tf)
{
  const PetscInt ny = Out(c)->size;
  double        *y, *aux;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(M_SAMPLES * ny, &y, AuxLen(c), &aux));
  PetscCall(Forward(c, c->x, y, aux));
  if (ref) CHECK(RelErr(M_SAMPLES * ny, y, ref) <= 1e-13, "%s: forward vs the naive reference: relative error %g", c->name, RelErr(M_SAMPLES * ny, y, ref));
  for (int64_t e = 0; e < M_SAMPLES * ny; e++) CHECK(isfinite(y[e]), "%s: forward value %d not finite", c->name, (int)e);
  if (torch_spec && tf) {
    /* one JSON line: the spec, the inputs and hessa's output (compared after the run) */
    TorchCase *t = &torch_cases[n_torch++];
    CHECK(n_torch <= MAX_CASES, "too many cases");
    fprintf(tf, "{\"name\": \"%s\", %s, ", c->name, torch_spec);
    for (int i = 0; i < c->n_in; i++) {
      char key[16];
      if (!In(c, i)) continue;
      snprintf(key, sizeof(key), "x%d", i);
      AppendArray(key, InLen(c, i, M_SAMPLES), c->x[i], tf);
    }
    fprintf(tf, "\"shape0\": [%d", (int)M_SAMPLES);
    for (int d = 1; d < In(c, 0)->ndim; d++) fprintf(tf, ",%d", (int)In(c, 0)->dims[d]);
    fprintf(tf, "]");
    if (In(c, 1)) {
      fprintf(tf, ", \"shape1\": [");
      for (int d = 0; d < In(c, 1)->ndim; d++) fprintf(tf, "%s%d", d ? "," : "", (int)In(c, 1)->dims[d]);
      fprintf(tf, "]");
    }
    fprintf(tf, "}\n");
    t->n_out = M_SAMPLES * ny;
    PetscCall(PetscMalloc1(t->n_out, &t->out));
    PetscCall(PetscArraycpy(t->out, y, t->n_out));
    snprintf(t->line, sizeof(t->line), "%s", c->name);
  }
  PetscCall(CheckDerivatives(c, diff));
  PetscCall(PetscFree2(y, aux));
  PetscFunctionReturn(0);
}

/* Conv: X [2, C, H, W], W [M, C/group, kh, kw], B [M] (bias optional); variant 0: all
 * differentiable; 1: X not differentiable (the data), B constant; 2: W constant.
 * bias: 1 with B, 0 without, -1 with an absent B input. */
static PetscErrorCode ConvCase(const char name[], int64_t C, int64_t H, int64_t W, int64_t M, Geo q, int bias, const char auto_pad[], int set_pads, FILE *tf)
{
  PetscFunctionBegin;
  for (int variant = 0; variant < 3; variant++) {
    Case        c;
    HessaStatus st;
    int64_t     xd[4] = {0, C, H, W}, wd[4] = {M, C / q.group, q.kh, q.kw}, bd[1] = {M};
    int         diff[5] = {variant != 1, variant != 2, bias > 0 && variant != 1, 0, 0};
    double     *ref     = NULL;
    char        spec[512], label[80];

    snprintf(label, sizeof(label), "%s%s", name, variant == 1 ? " (X data, B constant)" : variant == 2 ? " (W constant)" : "");
    CaseInit(&c, "Conv", label);
    CaseInput(&c, HESSA_ONNX_INPUT, 4, xd, diff[0]);
    CaseInput(&c, diff[1] ? HESSA_ONNX_PARAM : HESSA_ONNX_CONST, 4, wd, diff[1]);
    if (bias > 0) CaseInput(&c, diff[2] ? HESSA_ONNX_PARAM : HESSA_ONNX_CONST, 1, bd, diff[2]);
    if (bias < 0) CaseAbsent(&c); /* B named as absent ("") */
    AttrIs(&c, "kernel_shape", 2, q.kh, q.kw, 0, 0);
    if (q.sh != 1 || q.sw != 1) AttrIs(&c, "strides", 2, q.sh, q.sw, 0, 0);
    if (q.dh != 1 || q.dw != 1) AttrIs(&c, "dilations", 2, q.dh, q.dw, 0, 0);
    if (q.group != 1) AttrI(&c, "group", q.group);
    if (auto_pad) AttrS(&c, "auto_pad", auto_pad);
    if (set_pads) AttrIs(&c, "pads", 4, q.pt, q.pl, q.pb, q.pr);
    PetscCall(CaseInfer(&c, 11 + (uint64_t)variant, &st));
    CHECK(!st.code, "%s: infer failed: %s", label, st.msg);
    CHECK(Out(&c)->ndim == 4 && Out(&c)->batched && Out(&c)->dims[1] == M && Out(&c)->dims[2] == RefOut(H, q.pt, q.pb, q.kh, q.sh, q.dh, 0) && Out(&c)->dims[3] == RefOut(W, q.pl, q.pr, q.kw, q.sw, q.dw, 0), "%s: output shape [%d,%d,%d]", label,
          (int)Out(&c)->dims[1], (int)Out(&c)->dims[2], (int)Out(&c)->dims[3]);
    PetscCall(PetscMalloc1(M_SAMPLES * Out(&c)->size, &ref));
    RefConv(&q, M_SAMPLES, C, H, W, c.x[0], M, c.x[1], bias > 0 ? c.x[2] : NULL, ref);
    snprintf(spec, sizeof(spec), "\"op\": \"conv\", \"stride\": [%d,%d], \"dilation\": [%d,%d], \"pads\": [%d,%d,%d,%d], \"group\": %d, \"bias\": %d", (int)q.sh, (int)q.sw, (int)q.dh, (int)q.dw, (int)q.pt, (int)q.pl, (int)q.pb, (int)q.pr,
             (int)q.group, bias > 0);
    PetscCall(RunCase(&c, ref, diff, variant == 0 ? spec : NULL, tf));
    if (variant == 0) {
      /* sub-blocks of one sample give the same passes */
      double *y1, *y2;
      size_t  saved = HessaOnnxSpatialScratchBytes;
      PetscCall(PetscMalloc2(M_SAMPLES * Out(&c)->size, &y1, M_SAMPLES * Out(&c)->size, &y2));
      PetscCall(Forward(&c, c.x, y1, NULL));
      HessaOnnxSpatialScratchBytes = 1;
      PetscCall(Forward(&c, c.x, y2, NULL));
      CHECK(RelErr(M_SAMPLES * Out(&c)->size, y2, y1) <= 1e-13, "%s: forward in sub-blocks differs", label);
      PetscCall(CheckDerivatives(&c, diff));
      HessaOnnxSpatialScratchBytes = saved;
      PetscCall(PetscFree2(y1, y2));
    }
    PetscCall(PetscFree(ref));
    PetscCall(CaseDestroy(&c));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode PoolCase(const char name[], const char op[], int64_t C, int64_t H, int64_t W, Geo q, FILE *tf)
{
  Case        c;
  HessaStatus st;
  int64_t     xd[4]   = {0, C, H, W};
  int         diff[5] = {1, 0, 0, 0, 0}, is_max = !strcmp(op, "MaxPool");
  double     *ref;
  char        spec[512];

  PetscFunctionBegin;
  CaseInit(&c, op, name);
  CaseInput(&c, HESSA_ONNX_INPUT, 4, xd, 1);
  AttrIs(&c, "kernel_shape", 2, q.kh, q.kw, 0, 0);
  AttrIs(&c, "strides", 2, q.sh, q.sw, 0, 0);
  if (q.dh != 1 || q.dw != 1) AttrIs(&c, "dilations", 2, q.dh, q.dw, 0, 0);
  AttrIs(&c, "pads", 4, q.pt, q.pl, q.pb, q.pr);
  AttrI(&c, "ceil_mode", q.ceil_mode);
  if (!is_max) AttrI(&c, "count_include_pad", q.count_include_pad);
  PetscCall(CaseInfer(&c, 21, &st));
  CHECK(!st.code, "%s: infer failed: %s", name, st.msg);
  CHECK(Out(&c)->dims[2] == RefOut(H, q.pt, q.pb, q.kh, q.sh, q.dh, q.ceil_mode) && Out(&c)->dims[3] == RefOut(W, q.pl, q.pr, q.kw, q.sw, q.dw, q.ceil_mode), "%s: output shape", name);
  PetscCall(PetscMalloc1(M_SAMPLES * Out(&c)->size, &ref));
  RefPool(&q, is_max, M_SAMPLES, C, H, W, c.x[0], ref);
  snprintf(spec, sizeof(spec), "\"op\": \"%s\", \"kernel\": [%d,%d], \"stride\": [%d,%d], \"dilation\": [%d,%d], \"pads\": [%d,%d], \"ceil_mode\": %d, \"count_include_pad\": %d", is_max ? "maxpool" : "avgpool", (int)q.kh, (int)q.kw, (int)q.sh,
           (int)q.sw, (int)q.dh, (int)q.dw, (int)q.pt, (int)q.pl, (int)q.ceil_mode, (int)q.count_include_pad);
  PetscCall(RunCase(&c, ref, diff, spec, tf));
  PetscCall(PetscFree(ref));
  PetscCall(CaseDestroy(&c));
  PetscFunctionReturn(0);
}

static PetscErrorCode BatchNormCase(const char name[], int ndim, const int64_t *xd, int params_const, FILE *tf)
{
  Case         c;
  HessaStatus  st;
  int64_t      cd[1]   = {xd[1]};
  int          diff[5] = {1, !params_const, !params_const, 0, 0};
  const double eps     = 1e-3;
  double      *ref;

  PetscFunctionBegin;
  CaseInit(&c, "BatchNormalization", name);
  CaseInput(&c, HESSA_ONNX_INPUT, ndim, xd, 1);
  CaseInput(&c, params_const ? HESSA_ONNX_CONST : HESSA_ONNX_PARAM, 1, cd, !params_const);
  CaseInput(&c, params_const ? HESSA_ONNX_CONST : HESSA_ONNX_PARAM, 1, cd, !params_const);
  CaseInput(&c, HESSA_ONNX_CONST, 1, cd, 0);
  CaseInput(&c, HESSA_ONNX_CONST, 1, cd, 0);
  AttrF(&c, "epsilon", eps);
  PetscCall(CaseInfer(&c, 31, &st));
  CHECK(!st.code, "%s: infer failed: %s", name, st.msg);
  PetscCall(PetscMalloc1(M_SAMPLES * Out(&c)->size, &ref));
  {
    int64_t C = xd[1], S = In(&c, 0)->size / C;
    for (int64_t n = 0; n < M_SAMPLES; n++)
      for (int64_t ch = 0; ch < C; ch++)
        for (int64_t e = 0; e < S; e++) {
          int64_t k = (n * C + ch) * S + e;
          ref[k]    = c.x[1][ch] * (c.x[0][k] - c.x[3][ch]) / sqrt(c.x[4][ch] + eps) + c.x[2][ch];
        }
  }
  PetscCall(RunCase(&c, ref, diff, params_const ? NULL : "\"op\": \"batchnorm\", \"eps\": 1e-3", tf));
  PetscCall(PetscFree(ref));
  PetscCall(CaseDestroy(&c));
  PetscFunctionReturn(0);
}

static PetscErrorCode GlobalAveragePoolCase(FILE *tf)
{
  Case        c;
  HessaStatus st;
  int64_t     xd[4]   = {0, 3, 4, 5};
  int         diff[5] = {1, 0, 0, 0, 0};
  double      ref[6];

  PetscFunctionBegin;
  CaseInit(&c, "GlobalAveragePool", "GlobalAveragePool");
  CaseInput(&c, HESSA_ONNX_INPUT, 4, xd, 1);
  PetscCall(CaseInfer(&c, 41, &st));
  CHECK(!st.code, "GlobalAveragePool: infer failed: %s", st.msg);
  CHECK(Out(&c)->ndim == 4 && Out(&c)->size == 3 && Out(&c)->dims[2] == 1 && Out(&c)->dims[3] == 1, "GlobalAveragePool: output shape");
  for (int k = 0; k < 6; k++) {
    ref[k] = 0;
    for (int e = 0; e < 20; e++) ref[k] += c.x[0][k * 20 + e] / 20.0;
  }
  PetscCall(RunCase(&c, ref, diff, "\"op\": \"gap\"", tf));
  PetscCall(CaseDestroy(&c));
  PetscFunctionReturn(0);
}

/* A node that infer must refuse, with `expect` in the message. */
static PetscErrorCode BadCase(const char op[], int which, const char expect[])
{
  Case        c;
  HessaStatus st;
  int64_t     xd[4] = {0, 4, 6, 6}, wd[4] = {6, 4, 3, 3}, cd[1] = {4};

  PetscFunctionBegin;
  CaseInit(&c, op, "bad");
  CaseInput(&c, HESSA_ONNX_INPUT, 4, xd, 1);
  if (!strcmp(op, "Conv")) {
    if (which == 0) wd[1] = 2, AttrI(&c, "group", 3);          /* 3 does not divide 4 */
    if (which == 1) AttrIs(&c, "kernel_shape", 2, 3, 2, 0, 0); /* W is 3x3 */
    if (which == 2) wd[1] = 3;                                 /* C/group = 4 */
    if (which == 3) AttrS(&c, "auto_pad", "SAME");
    CaseInput(&c, HESSA_ONNX_PARAM, 4, wd, 1);
  } else if (!strcmp(op, "BatchNormalization")) {
    for (int i = 0; i < 4; i++) CaseInput(&c, i < 2 ? HESSA_ONNX_PARAM : HESSA_ONNX_CONST, 1, cd, i < 2);
    AttrI(&c, "training_mode", 1);
  } else {
    AttrIs(&c, "kernel_shape", 2, 2, 2, 0, 0);
    if (which == 1) AttrIs(&c, "pads", 4, 3, 0, 0, 0), AttrIs(&c, "strides", 2, 1, 1, 0, 0); /* first row window in the padding */
  }
  PetscCall(CaseInfer(&c, 51, &st));
  CHECK(st.code, "%s bad case %d: infer accepted it", op, which);
  CHECK(strstr(st.msg, expect) && strstr(st.msg, "test.onnx") && strstr(st.msg, "node 'bad'"), "%s bad case %d: message '%s' lacks '%s'", op, which, st.msg, expect);
  PetscCall(CaseDestroy(&c));
  PetscFunctionReturn(0);
}

static PetscErrorCode MaxPoolIndicesRefused(void)
{
  Case        c;
  HessaStatus st;
  int64_t     xd[4] = {0, 2, 4, 4};

  PetscFunctionBegin;
  CaseInit(&c, "MaxPool", "bad");
  CaseInput(&c, HESSA_ONNX_INPUT, 4, xd, 1);
  AttrIs(&c, "kernel_shape", 2, 2, 2, 0, 0);
  c.out[0]           = c.g.n_values++;
  c.v[c.out[0]].name = strdup("y");
  c.node.n_out       = 2; /* Y and Indices */
  memset(&st, 0, sizeof(st));
  c.node.op->infer(&c.g, &c.node, &st);
  CHECK(st.code && strstr(st.msg, "Indices"), "MaxPool with Indices: '%s'", st.msg);
  PetscCall(CaseDestroy(&c));
  PetscFunctionReturn(0);
}

/* MaxPool ties: a constant input routes every window's adjoint to its first element
 * (row-major), as PyTorch does; closed form dx = 1 at (2 oh, 2 ow), 0 elsewhere. */
static PetscErrorCode MaxPoolTies(void)
{
  Case            c;
  HessaStatus     st;
  int64_t         xd[4] = {0, 1, 4, 4};
  double          y[8], aux[8], dy[8], dx[32] = {0};
  const double   *xs[1], *dys[1] = {dy};
  double         *ys[1] = {y}, *dxs[1] = {dx};
  HessaOnnxKernel K;

  PetscFunctionBegin;
  CaseInit(&c, "MaxPool", "MaxPool ties");
  CaseInput(&c, HESSA_ONNX_INPUT, 4, xd, 1);
  AttrIs(&c, "kernel_shape", 2, 2, 2, 0, 0);
  AttrIs(&c, "strides", 2, 2, 2, 0, 0);
  PetscCall(CaseInfer(&c, 61, &st));
  CHECK(!st.code && c.node.aux_per_sample == 4, "MaxPool ties: infer: %s", st.msg);
  for (int e = 0; e < 32; e++) c.x[0][e] = 1.0;
  for (int e = 0; e < 8; e++) dy[e] = 1.0;
  xs[0] = c.x[0];
  KernelInit(&c, &K, M_SAMPLES, 1, xs, ys, NULL, NULL, dys, dxs, aux);
  PetscCall(c.node.op->forward(&K));
  PetscCall(c.node.op->backward(&K));
  for (int e = 0; e < 32; e++) {
    int h = (e / 4) % 4, w = e % 4;
    CHECK(dx[e] == ((h % 2 == 0 && w % 2 == 0) ? 1.0 : 0.0), "MaxPool ties: adjoint %g at (%d,%d)", dx[e], h, w);
  }
  PetscCall(CaseDestroy(&c));
  PetscFunctionReturn(0);
}

static PetscErrorCode CompareTorch(const char in_path[], const char out_path[])
{
  char        cmd[2 * PETSC_MAX_PATH_LEN + 128];
  FILE       *f;
  const char *src = getenv("HESSA_SOURCE");

  PetscFunctionBegin;
  snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/onnx/spatial_reference.py %s %s", src ? src : ".", in_path, out_path);
  CHECK(system(cmd) == 0, "spatial_reference.py failed: %s", cmd);
  f = fopen(out_path, "r");
  CHECK(f, "cannot read %s", out_path);
  for (int t = 0; t < n_torch; t++) {
    int64_t n;
    double  e = 0, s = 1e-300;
    CHECK(fscanf(f, "%" SCNd64, &n) == 1 && n == torch_cases[t].n_out, "%s: PyTorch gave %d values, hessa %d", torch_cases[t].line, (int)n, (int)torch_cases[t].n_out);
    for (int64_t k = 0; k < n; k++) {
      double v;
      CHECK(fscanf(f, "%lf", &v) == 1, "%s: PyTorch output truncated", torch_cases[t].line);
      e = PetscMax(e, fabs(v - torch_cases[t].out[k])), s = PetscMax(s, fabs(v));
    }
    CHECK(e / s <= 1e-12, "%s: forward vs PyTorch: relative error %g", torch_cases[t].line, e / s);
    PetscCall(PetscFree(torch_cases[t].out));
  }
  fclose(f);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  char        in_path[64], out_path[64];
  PetscMPIInt rank;
  FILE       *tf;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  snprintf(in_path, sizeof(in_path), "spatial_cases_%d.jsonl", rank);
  snprintf(out_path, sizeof(out_path), "spatial_torch_%d.txt", rank);
  tf = fopen(in_path, "w");
  CHECK(tf, "cannot write %s", in_path);
  {
    /*               kh kw sh sw dh dw pt pl pb pr group ceil cip */
    Geo basic   = {3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0};
    Geo strided = {3, 2, 2, 2, 1, 1, 1, 0, 2, 1, 1, 0, 0};
    Geo dilated = {3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, 0};
    Geo grouped = {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 0, 0};
    Geo depth   = {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 0, 0};
    Geo depth2  = {3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 3, 0, 0};
    Geo upper   = {3, 2, 2, 2, 1, 1, 1, 0, 1, 0, 1, 0, 0}; /* SAME_UPPER on 5x6, k 3x2, s 2: pads (1,0,1,0) */
    Geo lower   = {2, 2, 2, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0}; /* SAME_LOWER on 5x6, k 2x2, s (2,1): pads (1,1,0,0) */
    Geo valid   = {2, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0};
    PetscCall(ConvCase("Conv 3x3", 2, 5, 6, 3, basic, 1, NULL, 0, tf));
    PetscCall(ConvCase("Conv stride 2, asymmetric pads", 2, 6, 5, 4, strided, 0, NULL, 1, tf));
    PetscCall(ConvCase("Conv dilation 2", 2, 6, 7, 3, dilated, 1, NULL, 1, tf));
    PetscCall(ConvCase("Conv group 2, stride 2", 4, 7, 6, 6, grouped, 1, NULL, 1, tf));
    PetscCall(ConvCase("Conv depthwise", 3, 5, 5, 3, depth, 1, NULL, 1, tf));
    PetscCall(ConvCase("Conv depthwise x2, strides (2,1), B absent", 3, 6, 5, 6, depth2, -1, NULL, 1, tf));
    PetscCall(ConvCase("Conv SAME_UPPER", 2, 5, 6, 3, upper, 1, "SAME_UPPER", 0, tf));
    PetscCall(ConvCase("Conv SAME_LOWER", 2, 5, 6, 3, lower, 1, "SAME_LOWER", 0, tf));
    PetscCall(ConvCase("Conv VALID", 2, 5, 7, 2, valid, 1, "VALID", 0, tf));
  }
  {
    Geo mp  = {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0}; /* ceil_mode, pads 1 */
    Geo mp2 = {2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0};
    Geo mpd = {2, 3, 1, 2, 2, 2, 1, 1, 1, 1, 1, 0, 0}; /* dilation 2 */
    Geo ap0 = {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0}; /* ceil_mode, pads excluded */
    Geo ap1 = {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1}; /* ceil_mode, pads counted */
    Geo ap2 = {2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0};
    PetscCall(PoolCase("MaxPool 3x3 s2 pads 1 ceil", "MaxPool", 2, 6, 7, mp, tf));
    PetscCall(PoolCase("MaxPool 2x2 s2", "MaxPool", 3, 6, 6, mp2, tf));
    PetscCall(PoolCase("MaxPool dilation 2", "MaxPool", 2, 6, 7, mpd, tf));
    PetscCall(PoolCase("AveragePool ceil, pads excluded", "AveragePool", 2, 6, 7, ap0, tf));
    PetscCall(PoolCase("AveragePool ceil, pads counted", "AveragePool", 2, 6, 7, ap1, tf));
    PetscCall(PoolCase("AveragePool 2x2 s2", "AveragePool", 3, 6, 6, ap2, tf));
  }
  {
    int64_t x4[4] = {0, 3, 2, 3}, x2[2] = {0, 4};
    PetscCall(BatchNormCase("BatchNormalization NCHW", 4, x4, 0, tf));
    PetscCall(BatchNormCase("BatchNormalization NC", 2, x2, 0, tf));
    PetscCall(BatchNormCase("BatchNormalization constant scale", 4, x4, 1, tf));
  }
  PetscCall(GlobalAveragePoolCase(tf));
  fclose(tf);
  PetscCall(CompareTorch(in_path, out_path));
  remove(in_path);
  remove(out_path);

  PetscCall(BadCase("Conv", 0, "group = 3"));
  PetscCall(BadCase("Conv", 1, "kernel_shape"));
  PetscCall(BadCase("Conv", 2, "must have shape [6,4,3,3]"));
  PetscCall(BadCase("Conv", 3, "auto_pad"));
  PetscCall(BadCase("BatchNormalization", 0, "training_mode"));
  PetscCall(BadCase("MaxPool", 1, "padding"));
  PetscCall(MaxPoolIndicesRefused());
  PetscCall(MaxPoolTies());
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
