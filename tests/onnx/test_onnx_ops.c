/* The ONNX pointwise and shape kernels called directly through HessaOnnxKernel on
 * hand-built one-node graphs (no loader, no executor):
 *  - forward against closed forms computed here independently (other formulas for the
 *    pointwise functions, tabulated erf values, explicit index formulas and hand-written
 *    arrays for Transpose, Pad and Concat): |error| <= 1e-13 (relative to max(1, |y|)); a NaN
 *    input gives a NaN output (Relu does not turn it into 0);
 *  - jvp against central differences of the forward (h = 1e-5): relative <= 1e-7;
 *  - backward by the adjoint identity <J tx, dy> = <tx, J^T dy> for random tx, dy
 *    (nb = b rows per sample): |difference| <= 1e-13 |J tx| |dy|; the backward adds to
 *    what dx held;
 *  - sot against central differences of the backward (nb = 1): relative <= 1e-7;
 * at b = nb = 1 and 3, with batched inputs (m = 4 samples) and non-batched ones (the
 * parameter phase, m = 1; a shared Concat input in the sample phase, summed over
 * samples); PyTorch's derivatives at the kinks (relu'(0) = 0, leaky_relu'(0) = elu'(0) =
 * alpha); and every refusal (merging, moving or padding the batch, unsupported modes,
 * training-mode Dropout) with its message. */
#include "../../src/objective/onnx_impl.h"
#include <math.h>
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)
#define B HESSA_ONNX_BATCH
#define MAXV 12

static const double h = 1e-5, tol_fd = 1e-7, tol_adj = 1e-13, tol_fwd = 1e-13;

/* the worst errors seen, printed with -view */
static double worst_fwd, worst_jvp, worst_adj, worst_sot;

/* ---- a one-node graph -------------------------------------------------------------- */

typedef struct {
  HessaOnnxGraph g;
  HessaOnnxValue v[MAXV];
  HessaOnnxNode  node;
  int            in[8], out[2];
  HessaOnnxAttr  attr[4];
  int64_t        ints[MAXV][16]; /* storage of constant integers and INTS attributes */
  double         floats[MAXV][4];
  char           names[MAXV][16];
} Case;

static void CaseInit(Case *c, const char *op_type)
{
  memset(c, 0, sizeof *c);
  strcpy(c->g.path, "test.onnx");
  c->g.opset      = 17;
  c->g.values     = c->v;
  c->g.nodes      = &c->node;
  c->g.n_nodes    = 1;
  c->g.input      = -1;
  c->g.output     = -1;
  c->node.name    = (char *)"n0";
  c->node.op_type = (char *)op_type;
  c->node.in      = c->in;
  c->node.out     = c->out;
  c->node.attr    = c->attr;
}

/* A value of the given full shape (dims[0] ignored when batched). PARAM and RUNTIME
 * values are differentiable, INPUT and CONST are not. */
static int AddValue(Case *c, HessaOnnxValueKind kind, int batched, int ndim, const int64_t *dims)
{
  int             i = c->g.n_values++;
  HessaOnnxValue *v = &c->v[i];

  snprintf(c->names[i], sizeof c->names[i], "v%d", i);
  v->name           = c->names[i];
  v->kind           = kind;
  v->elem_type      = 11;
  v->ndim           = ndim;
  v->batched        = batched;
  v->differentiable = kind == HESSA_ONNX_PARAM || kind == HESSA_ONNX_RUNTIME;
  v->size           = 1;
  v->offset         = -1;
  v->producer       = -1;
  for (int d = 0; d < ndim; d++) {
    v->dims[d] = batched && d == 0 ? B : dims[d];
    if (!(batched && d == 0)) v->size *= dims[d];
  }
  return i;
}

static int AddConstInts(Case *c, int n, const int64_t *vals)
{
  int64_t d = n;
  int     i = AddValue(c, HESSA_ONNX_CONST, 0, 1, &d);

  c->v[i].is_int    = 1;
  c->v[i].elem_type = 7;
  memcpy(c->ints[i], vals, sizeof(int64_t) * (size_t)n);
  c->v[i].ivalue = c->ints[i];
  return i;
}

static int AddConstScalar(Case *c, double value, int is_int)
{
  int i = AddValue(c, HESSA_ONNX_CONST, 0, 0, NULL);

  if (is_int) {
    c->v[i].is_int = 1, c->v[i].elem_type = 9;
    c->ints[i][0]  = (int64_t)value;
    c->v[i].ivalue = c->ints[i];
  } else {
    c->floats[i][0] = value;
    c->v[i].value   = c->floats[i];
  }
  return i;
}

static void In(Case *c, int v)
{
  c->in[c->node.n_in++] = v;
}

static int Out(Case *c)
{
  int i = AddValue(c, HESSA_ONNX_RUNTIME, 0, 0, NULL);

  c->v[i].producer        = 0;
  c->out[c->node.n_out++] = i;
  return i;
}

static HessaOnnxAttr *Attr(Case *c, const char *name, HessaOnnxAttrType type)
{
  HessaOnnxAttr *a = &c->attr[c->node.n_attr++];

  a->name = (char *)name;
  a->type = type;
  return a;
}

static void AttrInts(Case *c, const char *name, int n, const int64_t *vals)
{
  HessaOnnxAttr *a = Attr(c, name, HESSA_ONNX_ATTR_INTS);

  a->n    = n;
  a->ints = c->ints[MAXV - c->node.n_attr]; /* rows no value uses */
  memcpy(a->ints, vals, sizeof(int64_t) * (size_t)n);
}

static const HessaOnnxOp *FindOp(const char *op_type)
{
  for (int i = 0; i < HessaOnnxOpsPointwiseCount; i++)
    if (!strcmp(HessaOnnxOpsPointwise[i].op_type, op_type)) return &HessaOnnxOpsPointwise[i];
  for (int i = 0; i < HessaOnnxOpsShapeCount; i++)
    if (!strcmp(HessaOnnxOpsShape[i].op_type, op_type)) return &HessaOnnxOpsShape[i];
  return NULL;
}

/* Run the op's infer; it must succeed. */
static PetscErrorCode Infer(Case *c)
{
  HessaStatus st = {0};

  PetscFunctionBegin;
  c->node.op = FindOp(c->node.op_type);
  CHECK(c->node.op, "%s: not in the tables", c->node.op_type);
  c->node.op->infer(&c->g, &c->node, &st);
  CHECK(!st.code, "%s: infer refused a valid node: %s", c->node.op_type, st.msg);
  PetscFunctionReturn(0);
}

/* Run the op's infer; it must refuse with a message containing `expect`. */
static PetscErrorCode Refused(Case *c, const char *expect)
{
  HessaStatus st = {0};

  PetscFunctionBegin;
  c->node.op = FindOp(c->node.op_type);
  CHECK(c->node.op, "%s: not in the tables", c->node.op_type);
  c->node.op->infer(&c->g, &c->node, &st);
  CHECK(st.code, "%s: infer accepted a node it must refuse (%s)", c->node.op_type, expect);
  CHECK(strstr(st.msg, expect) && strstr(st.msg, "node 'n0'"), "%s: message '%s' lacks '%s' or the node", c->node.op_type, st.msg, expect);
  free(c->node.op_data);
  c->node.op_data = NULL;
  PetscFunctionReturn(0);
}

static void CaseFree(Case *c)
{
  free(c->node.op_data);
  c->node.op_data = NULL;
}

/* ---- vectors ------------------------------------------------------------------------- */

static double Dot(size_t n, const double *a, const double *b)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static double RelErr(size_t n, const double *a, const double *b)
{
  double d = 0, nb = sqrt(Dot(n, b, b));
  for (size_t i = 0; i < n; i++) d += (a[i] - b[i]) * (a[i] - b[i]);
  return nb > 0 ? sqrt(d) / nb : sqrt(d);
}

static uint64_t stream = 1;

/* normals; away from 0 by at least 0.05 when `off_kink` (the kinks of Relu and co.) */
static void Random(size_t n, double scale, int off_kink, double *x)
{
  HessaRandomFill(HESSA_RANDOM_NORMAL, 2027, stream++, 0, (PetscInt)n, x);
  for (size_t i = 0; i < n; i++) {
    x[i] *= scale;
    if (off_kink && fabs(x[i]) < 0.05) x[i] = x[i] < 0 ? -0.3 : 0.3;
  }
}

/* ---- the derivative checks ----------------------------------------------------------- */

typedef struct {
  const double *x[8];
  double       *xbuf[8], *tx[8], *dx[8], *dx0[8], *gp[8], *gm[8], *sot[8];
  size_t        rows[8], size[8];
  double       *y[2], *yp, *ym, *ty, *fd, *dy, *dy1;
  size_t        orows, osize;
} Bufs;

/* rows of value v: m when batched, 1 otherwise */
static size_t Rows(const Case *c, int v, PetscInt m)
{
  return c->v[v].batched ? (size_t)m : 1;
}

static PetscErrorCode Forward(Case *c, Bufs *w, PetscInt m, double *y)
{
  HessaOnnxKernel K     = {0};
  double         *ys[2] = {y, NULL};

  PetscFunctionBegin;
  K.g = &c->g, K.node = &c->node, K.m = m, K.nb = 1, K.x = w->x, K.y = ys;
  PetscCall(c->node.op->forward(&K));
  PetscFunctionReturn(0);
}

/* dx[k] += J^T dy with nb rows per sample, at the x of the last forward (into y) */
static PetscErrorCode Backward(Case *c, Bufs *w, PetscInt m, PetscInt nb, double *y, const double *dy, double **dx)
{
  HessaOnnxKernel K      = {0};
  double         *ys[2]  = {y, NULL};
  const double   *dys[2] = {dy, NULL};

  PetscFunctionBegin;
  K.g = &c->g, K.node = &c->node, K.m = m, K.nb = nb, K.x = w->x, K.y = ys, K.dy = dys, K.dx = dx;
  PetscCall(c->node.op->backward(&K));
  PetscFunctionReturn(0);
}

/* x[k] +- h tx[k] for direction j (a batched input: rows i*b + j; else row j) */
static void Perturb(Case *c, Bufs *w, PetscInt m, PetscInt b, PetscInt j, double step, double **x0)
{
  for (int k = 0; k < c->node.n_in; k++) {
    if (!w->tx[k]) continue;
    for (size_t i = 0; i < w->rows[k]; i++)
      for (size_t e = 0; e < w->size[k]; e++) w->xbuf[k][i * w->size[k] + e] = x0[k][i * w->size[k] + e] + step * w->tx[k][(i * (size_t)b + (size_t)j) * w->size[k] + e];
  }
}

/* All checks of one configured node at m samples and b directions. */
static PetscErrorCode CheckPasses(Case *c, PetscInt m, PetscInt b, double scale, int off_kink, const char *what)
{
  const HessaOnnxOp    *op  = c->node.op;
  const HessaOnnxValue *out = &c->v[c->out[0]];
  int                   n   = c->node.n_in;
  Bufs                  w;
  memset(&w, 0, sizeof w);
  double         *x0[8] = {0};
  double          lhs, rhs, nty, ndy, err;
  HessaOnnxKernel K = {0};
  double         *ys[2];
  const double   *dys[2];

  PetscFunctionBegin;
  w.orows = Rows(c, c->out[0], m), w.osize = (size_t)out->size;
  for (int k = 0; k < n; k++) {
    const HessaOnnxValue *v;

    if (c->in[k] < 0) continue;
    v         = &c->v[c->in[k]];
    w.rows[k] = Rows(c, c->in[k], m), w.size[k] = (size_t)v->size;
    if (v->kind == HESSA_ONNX_CONST) {
      w.x[k] = v->value; /* NULL for integers: no kernel reads them */
      continue;
    }
    PetscCall(PetscCalloc1(w.rows[k] * w.size[k], &w.xbuf[k]));
    Random(w.rows[k] * w.size[k], scale, off_kink, w.xbuf[k]);
    w.x[k] = w.xbuf[k];
    PetscCall(PetscMalloc1(w.rows[k] * w.size[k], &x0[k]));
    memcpy(x0[k], w.xbuf[k], w.rows[k] * w.size[k] * sizeof(double));
    if (!v->differentiable) continue;
    PetscCall(PetscMalloc6(w.rows[k] * w.size[k] * b, &w.tx[k], w.rows[k] * w.size[k] * b, &w.dx[k], w.rows[k] * w.size[k] * b, &w.dx0[k], w.rows[k] * w.size[k], &w.gp[k], w.rows[k] * w.size[k], &w.gm[k], w.rows[k] * w.size[k] * b, &w.sot[k]));
    Random(w.rows[k] * w.size[k] * b, 1.0, 0, w.tx[k]);
  }
  PetscCall(PetscMalloc6(w.orows * w.osize, &w.y[0], w.orows * w.osize, &w.yp, w.orows * w.osize, &w.ym, w.orows * w.osize * b, &w.ty, w.orows * w.osize * b, &w.fd, w.orows * w.osize * b, &w.dy));
  PetscCall(PetscMalloc1(w.orows * w.osize, &w.dy1));

  /* jvp against central differences of the forward */
  PetscCall(Forward(c, &w, m, w.y[0]));
  ys[0] = w.y[0], ys[1] = NULL;
  K.g = &c->g, K.node = &c->node, K.m = m, K.nb = b, K.x = w.x, K.y = ys, K.tx = (const double **)w.tx;
  K.ty = (double *[]){w.ty, NULL};
  PetscCall(op->jvp(&K));
  for (PetscInt j = 0; j < b; j++) {
    Perturb(c, &w, m, b, j, h, x0);
    PetscCall(Forward(c, &w, m, w.yp));
    Perturb(c, &w, m, b, j, -h, x0);
    PetscCall(Forward(c, &w, m, w.ym));
    for (size_t i = 0; i < w.orows; i++)
      for (size_t e = 0; e < w.osize; e++) w.fd[(i * (size_t)b + (size_t)j) * w.osize + e] = (w.yp[i * w.osize + e] - w.ym[i * w.osize + e]) / (2 * h);
  }
  Perturb(c, &w, m, b, 0, 0.0, x0);
  err       = RelErr(w.orows * w.osize * b, w.ty, w.fd);
  worst_jvp = PetscMax(worst_jvp, err);
  CHECK(err <= tol_fd, "%s, m = %d, b = %d: jvp vs central differences: relative error %.3e > %.0e", what, (int)m, (int)b, err, tol_fd);

  /* backward (nb = b) by the adjoint identity; it adds to dx */
  PetscCall(Forward(c, &w, m, w.y[0]));
  Random(w.orows * w.osize * b, 1.0, 0, w.dy);
  for (int k = 0; k < n; k++)
    if (w.dx[k]) {
      Random(w.rows[k] * w.size[k] * b, 1.0, 0, w.dx0[k]);
      memcpy(w.dx[k], w.dx0[k], w.rows[k] * w.size[k] * b * sizeof(double));
    }
  PetscCall(Backward(c, &w, m, b, w.y[0], w.dy, w.dx));
  lhs = Dot(w.orows * w.osize * b, w.ty, w.dy), rhs = 0;
  for (int k = 0; k < n; k++)
    if (w.dx[k]) {
      size_t len = w.rows[k] * w.size[k] * b;
      for (size_t e = 0; e < len; e++) w.dx[k][e] -= w.dx0[k][e];
      rhs += Dot(len, w.tx[k], w.dx[k]);
    }
  nty = sqrt(Dot(w.orows * w.osize * b, w.ty, w.ty)), ndy = sqrt(Dot(w.orows * w.osize * b, w.dy, w.dy));
  if (nty * ndy > 0) worst_adj = PetscMax(worst_adj, fabs(lhs - rhs) / (nty * ndy));
  CHECK(fabs(lhs - rhs) <= tol_adj * nty * ndy, "%s, m = %d, nb = %d: <J tx, dy> = %.17g but <tx, J^T dy> = %.17g (difference %.3e > %.0e |J tx| |dy|)", what, (int)m, (int)b, lhs, rhs, fabs(lhs - rhs), tol_adj);

  /* sot against central differences of the backward at nb = 1 */
  if (op->sot) {
    Random(w.orows * w.osize, 1.0, 0, w.dy1);
    for (int k = 0; k < n; k++)
      if (w.sot[k]) memset(w.sot[k], 0, w.rows[k] * w.size[k] * b * sizeof(double));
    PetscCall(Forward(c, &w, m, w.y[0]));
    dys[0] = w.dy1, dys[1] = NULL;
    K.dy = dys, K.dx = w.sot, K.nb = b;
    PetscCall(op->sot(&K));
    for (PetscInt j = 0; j < b; j++) {
      Perturb(c, &w, m, b, j, h, x0);
      for (int k = 0; k < n; k++)
        if (w.gp[k]) memset(w.gp[k], 0, w.rows[k] * w.size[k] * sizeof(double));
      PetscCall(Forward(c, &w, m, w.yp));
      PetscCall(Backward(c, &w, m, 1, w.yp, w.dy1, w.gp));
      Perturb(c, &w, m, b, j, -h, x0);
      for (int k = 0; k < n; k++)
        if (w.gm[k]) memset(w.gm[k], 0, w.rows[k] * w.size[k] * sizeof(double));
      PetscCall(Forward(c, &w, m, w.ym));
      PetscCall(Backward(c, &w, m, 1, w.ym, w.dy1, w.gm));
      for (int k = 0; k < n; k++)
        if (w.gp[k])
          for (size_t i = 0; i < w.rows[k]; i++)
            for (size_t e = 0; e < w.size[k]; e++) w.dx0[k][(i * (size_t)b + (size_t)j) * w.size[k] + e] = (w.gp[k][i * w.size[k] + e] - w.gm[k][i * w.size[k] + e]) / (2 * h);
    }
    Perturb(c, &w, m, b, 0, 0.0, x0);
    for (int k = 0; k < n; k++)
      if (w.sot[k]) {
        err       = RelErr(w.rows[k] * w.size[k] * b, w.sot[k], w.dx0[k]);
        worst_sot = PetscMax(worst_sot, err);
        CHECK(err <= tol_fd, "%s, m = %d, b = %d: sot of input %d vs central differences of the backward: relative error %.3e > %.0e", what, (int)m, (int)b, k, err, tol_fd);
      }
  }

  for (int k = 0; k < n; k++) {
    PetscCall(PetscFree(x0[k]));
    PetscCall(PetscFree(w.xbuf[k]));
    if (w.tx[k]) PetscCall(PetscFree6(w.tx[k], w.dx[k], w.dx0[k], w.gp[k], w.gm[k], w.sot[k]));
  }
  PetscCall(PetscFree6(w.y[0], w.yp, w.ym, w.ty, w.fd, w.dy));
  PetscCall(PetscFree(w.dy1));
  PetscFunctionReturn(0);
}

/* The checks at b = 1 and 3. */
static PetscErrorCode CheckAll(Case *c, PetscInt m, double scale, int off_kink, const char *what)
{
  PetscFunctionBegin;
  PetscCall(CheckPasses(c, m, 1, scale, off_kink, what));
  PetscCall(CheckPasses(c, m, 3, scale, off_kink, what));
  PetscFunctionReturn(0);
}

/* ---- pointwise ------------------------------------------------------------------------ */

/* y = f(x) by formulas other than the kernels' */
static double Reference(const char *op, double alpha, double x)
{
  if (!strcmp(op, "Relu")) return fmax(x, 0.0);
  if (!strcmp(op, "LeakyRelu")) return x >= 0 ? x : alpha * x;
  if (!strcmp(op, "Tanh")) return fabs(x) < 20 ? (exp(2 * x) - 1) / (exp(2 * x) + 1) : copysign(1.0, x);
  if (!strcmp(op, "Sigmoid")) return 0.5 * (1 + tanh(0.5 * x));
  if (!strcmp(op, "Softplus")) return fabs(x) < 30 ? log(1 + exp(x)) : (x > 0 ? x + exp(-x) : exp(x));
  if (!strcmp(op, "Elu")) return x >= 0 ? x : alpha * (exp(x) - 1);
  if (!strcmp(op, "HardSigmoid")) return fmax(0.0, fmin(1.0, alpha * x + 0.5));
  if (!strcmp(op, "HardSwish")) return x * fmin(fmax(x + 3, 0.0), 6.0) / 6; /* torch's formula */
  return x;                                                                 /* Identity, Dropout; Erf is checked against a table */
}

static PetscErrorCode PointwiseForwardCheck(const char *op, double alpha)
{
  static const double xs[]      = {-800, -40, -3.5, -1, -0.25, 0, 1e-8, 0.5, 1, 2.75, 40, 800};
  static const double erfs[][2] = {{0.5, 0.5204998778130465}, {1.0, 0.8427007929497149}, {-2.0, -0.9953222650189527}, {0.1, 0.1124629160182849}};
  const int           n = (int)(sizeof xs / sizeof xs[0]), ne = (int)(sizeof erfs / sizeof erfs[0]);
  int64_t             d = strcmp(op, "Erf") ? n : ne;
  double              x[16], y[16];
  Case                c;
  Bufs                w;
  memset(&w, 0, sizeof w);

  PetscFunctionBegin;
  CaseInit(&c, op);
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 1, &d));
  Out(&c);
  if (alpha != 0) Attr(&c, "alpha", HESSA_ONNX_ATTR_FLOAT)->f = alpha;
  PetscCall(Infer(&c));
  for (int i = 0; i < d; i++) x[i] = strcmp(op, "Erf") ? xs[i] : erfs[i][0];
  w.x[0] = x;
  PetscCall(Forward(&c, &w, 1, y));
  for (int i = 0; i < d; i++) {
    double ref = strcmp(op, "Erf") ? Reference(op, alpha, x[i]) : erfs[i][1];
    worst_fwd  = PetscMax(worst_fwd, fabs(y[i] - ref) / fmax(1.0, fabs(ref)));
    CHECK(isfinite(y[i]) && fabs(y[i] - ref) <= tol_fwd * fmax(1.0, fabs(ref)), "%s(%g) = %.17g, expected %.17g", op, x[i], y[i], ref);
  }
  /* a NaN stays a NaN (never a silent 0) */
  x[0] = NAN;
  PetscCall(Forward(&c, &w, 1, y));
  CHECK(isnan(y[0]), "%s(NaN) = %g, expected NaN", op, y[0]);
  CaseFree(&c);
  PetscFunctionReturn(0);
}

/* f'(0) by the backward at x = 0 */
static PetscErrorCode KinkCheck(const char *op, double alpha, double expect)
{
  int64_t d = 1;
  double  x = 0, y, dy = 1, dx = 0, *dxs[1] = {&dx};
  Case    c;
  Bufs    w;
  memset(&w, 0, sizeof w);

  PetscFunctionBegin;
  CaseInit(&c, op);
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 1, &d));
  Out(&c);
  if (alpha != 0) Attr(&c, "alpha", HESSA_ONNX_ATTR_FLOAT)->f = (double)(float)alpha; /* float32, as in ONNX files */
  PetscCall(Infer(&c));
  w.x[0] = &x;
  PetscCall(Forward(&c, &w, 1, &y));
  PetscCall(Backward(&c, &w, 1, 1, &y, &dy, dxs));
  CHECK(dx == expect, "%s'(0) = %.17g, expected PyTorch's %.17g (the decimal alpha, not its float32 rounding)", op, dx, expect);
  CaseFree(&c);
  PetscFunctionReturn(0);
}

static PetscErrorCode PointwiseChecks(void)
{
  static const struct {
    const char *op;
    double      alpha;
    int         kink;
    int         sot;
  } ops[] = {
      {"Relu", 0, 1, 0}, {"LeakyRelu", 0.2, 1, 0}, {"Tanh", 0, 0, 1}, {"Sigmoid", 0, 0, 1}, {"Softplus", 0, 0, 1}, {"Erf", 0, 0, 1}, {"Elu", 0.7, 1, 1}, {"Identity", 0, 0, 0}, {"Dropout", 0, 0, 0}, {"HardSigmoid", 0.25, 0, 0}, {"HardSwish", 0, 0, 1},
  };
  const int64_t dims[4] = {B, 2, 3, 2}, pdims[2] = {5, 3};
  char          what[128];

  PetscFunctionBegin;
  for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
    Case c;

    CHECK((FindOp(ops[o].op)->sot != NULL) == ops[o].sot, "%s: sot %s", ops[o].op, ops[o].sot ? "missing" : "present for a piecewise-linear op");
    PetscCall(PointwiseForwardCheck(ops[o].op, ops[o].alpha));
    /* batched: a hidden activation of 4 samples */
    CaseInit(&c, ops[o].op);
    In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, dims));
    Out(&c);
    if (ops[o].alpha != 0) Attr(&c, "alpha", HESSA_ONNX_ATTR_FLOAT)->f = ops[o].alpha;
    PetscCall(Infer(&c));
    CHECK(c.v[c.out[0]].batched && c.v[c.out[0]].size == 12 && c.v[c.out[0]].ndim == 4 && c.v[c.out[0]].dims[0] == B && c.v[c.out[0]].differentiable, "%s: wrong output shape", ops[o].op);
    snprintf(what, sizeof what, "%s batched", ops[o].op);
    PetscCall(CheckAll(&c, 4, 1.5, ops[o].kink, what));
    CaseFree(&c);
    /* not batched: a function of a parameter (parameter phase) */
    CaseInit(&c, ops[o].op);
    In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 2, pdims));
    Out(&c);
    if (ops[o].alpha != 0) Attr(&c, "alpha", HESSA_ONNX_ATTR_FLOAT)->f = ops[o].alpha;
    PetscCall(Infer(&c));
    CHECK(!c.v[c.out[0]].batched && c.v[c.out[0]].size == 15, "%s: wrong output shape", ops[o].op);
    snprintf(what, sizeof what, "%s of a parameter", ops[o].op);
    PetscCall(CheckAll(&c, 1, 1.5, ops[o].kink, what));
    CaseFree(&c);
  }
  PetscCall(KinkCheck("Relu", 0, 0.0));
  PetscCall(KinkCheck("LeakyRelu", 0.2, 0.2));
  PetscCall(KinkCheck("Elu", 0.7, 0.7));
  PetscCall(KinkCheck("HardSigmoid", 1.0 / 6.0, 1.0 / 6.0)); /* nn.Hardsigmoid: alpha 1/6 exactly, from its float32 */
  PetscFunctionReturn(0);
}

/* Clip with constant bounds (relu6 style), without bounds, and refusals */
static PetscErrorCode ClipChecks(void)
{
  const int64_t dims[3] = {B, 3, 4};
  const double  xs[6]   = {-2, -0.5, 0.1, 0.8, 0.81, 5};
  double        y[6];
  Case          c;
  Bufs          w;

  PetscFunctionBegin;
  memset(&w, 0, sizeof w);
  CaseInit(&c, "Clip");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, dims));
  In(&c, AddConstScalar(&c, -0.5, 0));
  In(&c, AddConstScalar(&c, 0.8, 0));
  Out(&c);
  PetscCall(Infer(&c));
  PetscCall(CheckAll(&c, 4, 1.0, 0, "Clip [-0.5, 0.8]"));
  c.v[c.in[0]].size = 6; /* forward on six hand-picked values */
  w.x[0]            = xs;
  PetscCall(Forward(&c, &w, 1, y));
  for (int i = 0; i < 6; i++) CHECK(y[i] == fmin(fmax(xs[i], -0.5), 0.8), "Clip(%g) = %g", xs[i], y[i]);
  /* hardtanh's derivative: 0 on the bounds */
  {
    double dy[6] = {1, 1, 1, 1, 1, 1}, dx[6] = {0}, *dxs[1] = {dx}, e[6] = {0, 0, 1, 0, 0, 0};
    PetscCall(Backward(&c, &w, 1, 1, y, dy, dxs));
    for (int i = 0; i < 6; i++) CHECK(dx[i] == e[i], "Clip'(%g) = %g, expected torch's hardtanh %g", xs[i], dx[i], e[i]);
  }
  CaseFree(&c);
  /* no bounds: the identity */
  CaseInit(&c, "Clip");
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 2, dims + 1));
  Out(&c);
  PetscCall(Infer(&c));
  PetscCall(CheckAll(&c, 1, 1.0, 0, "Clip without bounds"));
  CaseFree(&c);
  /* refusals: min > max, a bound that is a parameter */
  CaseInit(&c, "Clip");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, dims));
  In(&c, AddConstScalar(&c, 1, 0));
  In(&c, AddConstScalar(&c, 0, 0));
  Out(&c);
  PetscCall(Refused(&c, "expected min <= max"));
  CaseInit(&c, "Clip");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, dims));
  In(&c, -1);
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 0, NULL));
  Out(&c);
  PetscCall(Refused(&c, "expected a constant scalar max"));
  PetscFunctionReturn(0);
}

static PetscErrorCode DropoutChecks(void)
{
  const int64_t dims[2] = {B, 3};
  Case          c;

  PetscFunctionBegin;
  /* ratio and training_mode = false: the identity */
  CaseInit(&c, "Dropout");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 2, dims));
  In(&c, AddConstScalar(&c, 0.5, 0));
  In(&c, AddConstScalar(&c, 0, 1));
  Out(&c);
  Out(&c); /* a mask nobody reads */
  PetscCall(Infer(&c));
  PetscCall(CheckAll(&c, 4, 1.0, 0, "Dropout (inference)"));
  CaseFree(&c);
  /* an absent mask (the loader's -1 for an empty output name): the node keeps one output */
  CaseInit(&c, "Dropout");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 2, dims));
  Out(&c);
  c.out[c.node.n_out++] = -1;
  PetscCall(Infer(&c));
  CHECK(c.node.n_out == 1, "Dropout with an absent mask: %d outputs, expected 1", c.node.n_out);
  CaseFree(&c);
  /* training_mode = true */
  CaseInit(&c, "Dropout");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 2, dims));
  In(&c, AddConstScalar(&c, 0.5, 0));
  In(&c, AddConstScalar(&c, 1, 1));
  Out(&c);
  PetscCall(Refused(&c, "training_mode is true"));
  /* the mask is the graph's output */
  CaseInit(&c, "Dropout");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 2, dims));
  Out(&c);
  c.g.output = Out(&c);
  PetscCall(Refused(&c, "mask output"));
  /* an integer input */
  CaseInit(&c, "Relu");
  In(&c, AddConstInts(&c, 2, dims));
  Out(&c);
  PetscCall(Refused(&c, "expected a floating-point input"));
  PetscFunctionReturn(0);
}

/* ---- shape ops ------------------------------------------------------------------------ */

/* output shape equals (n, dims...) */
static PetscErrorCode CheckShape(const Case *c, int ndim, const int64_t *dims, const char *what)
{
  const HessaOnnxValue *y = &c->v[c->out[0]];

  PetscFunctionBegin;
  CHECK(y->ndim == ndim, "%s: output rank %d, expected %d", what, y->ndim, ndim);
  for (int d = 0; d < ndim; d++) CHECK(y->dims[d] == dims[d], "%s: output dim %d is %lld, expected %lld", what, d, (long long)y->dims[d], (long long)dims[d]);
  PetscFunctionReturn(0);
}

static PetscErrorCode ReshapeChecks(void)
{
  const int64_t x4[4] = {B, 2, 3, 4};
  const struct {
    int     n;
    int64_t t[4];
    int     nd;
    int64_t expect[4];
  } ok[] = {
      {3, {0, -1, 4}, 3, {B, 6, 4}},       {2, {B, 24}, 2, {B, 24}}, {2, {-1, 24}, 2, {B, 24}}, {3, {7, 4, 6}, 3, {B, 4, 6}}, /* 7: the batch the graph was exported with */
      {4, {B, 0, 0, -1}, 4, {B, 2, 3, 4}}, {2, {0, -1}, 2, {B, 24}},
  };
  const struct {
    int         n;
    int64_t     t[4];
    const char *msg;
  } bad[] = {
      {2, {-1, 12}, "merges or splits the batch"},
      {2, {7, -1}, "cannot tell whether a first entry 7"},
      {1, {-1}, "merges or splits the batch"},
      {2, {-2, 24}, "does not keep the batch"},
      {3, {0, B, 24}, "puts the batch at axis 1"},
      {3, {0, -1, -1}, "more than one -1"},
      {2, {-1, -1}, "more than one -1"},
      {3, {0, 5, -1}, "does not fit"},
      {3, {0, 0, 5}, "does not fit"},
  };
  Case c;
  char what[128];

  PetscFunctionBegin;
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    CaseInit(&c, "Reshape");
    In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
    In(&c, AddConstInts(&c, ok[i].n, ok[i].t));
    Out(&c);
    PetscCall(Infer(&c));
    snprintf(what, sizeof what, "Reshape case %d", (int)i);
    PetscCall(CheckShape(&c, ok[i].nd, ok[i].expect, what));
    PetscCall(CheckAll(&c, 4, 1.0, 0, what));
    CaseFree(&c);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CaseInit(&c, "Reshape");
    In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
    In(&c, AddConstInts(&c, bad[i].n, bad[i].t));
    Out(&c);
    PetscCall(Refused(&c, bad[i].msg));
  }
  /* not batched: a parameter reshaped, with 0 and -1 */
  {
    const int64_t p[3] = {4, 3, 2}, t[2] = {0, -1}, e[2] = {4, 6};
    CaseInit(&c, "Reshape");
    In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 3, p));
    In(&c, AddConstInts(&c, 2, t));
    Out(&c);
    PetscCall(Infer(&c));
    PetscCall(CheckShape(&c, 2, e, "Reshape of a parameter"));
    PetscCall(CheckAll(&c, 1, 1.0, 0, "Reshape of a parameter"));
    CaseFree(&c);
    /* the batch in the shape of a parameter */
    CaseInit(&c, "Reshape");
    In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 3, p));
    In(&c, AddConstInts(&c, 2, (const int64_t[]){B, 24}));
    Out(&c);
    PetscCall(Refused(&c, "does not depend on the batch"));
    /* the shape a parameter (not a constant) */
    CaseInit(&c, "Reshape");
    In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 3, p));
    In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 1, (const int64_t[]){2}));
    Out(&c);
    PetscCall(Refused(&c, "constant 1-D integer tensor"));
  }
  CHECK(FindOp("Reshape")->constant_inputs == 2u, "Reshape: the shape must be a constant input");
  PetscFunctionReturn(0);
}

static PetscErrorCode FlattenChecks(void)
{
  const int64_t x4[4] = {B, 2, 3, 4}, x1[4] = {B, 1, 3, 4}, p3[3] = {2, 3, 4};
  Case          c;

  PetscFunctionBegin;
  CaseInit(&c, "Flatten");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  Out(&c);
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 2, (const int64_t[]){B, 24}, "Flatten"));
  PetscCall(CheckAll(&c, 4, 1.0, 0, "Flatten"));
  CaseFree(&c);
  /* axis 2 after a dim of 1 keeps the batch; axis -1 does not */
  CaseInit(&c, "Flatten");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x1));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = 2;
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 2, (const int64_t[]){B, 12}, "Flatten axis 2"));
  CaseFree(&c);
  CaseInit(&c, "Flatten");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = -1;
  PetscCall(Refused(&c, "merges the batch"));
  CaseInit(&c, "Flatten");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = 0;
  PetscCall(Refused(&c, "merges the batch"));
  CaseInit(&c, "Flatten");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = 5;
  PetscCall(Refused(&c, "expected axis in [-4, 4]"));
  /* a parameter: axis 0 is fine */
  CaseInit(&c, "Flatten");
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 3, p3));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = 0;
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 2, (const int64_t[]){1, 24}, "Flatten axis 0 of a parameter"));
  PetscCall(CheckAll(&c, 1, 1.0, 0, "Flatten of a parameter"));
  CaseFree(&c);
  PetscFunctionReturn(0);
}

static PetscErrorCode TransposeChecks(void)
{
  const int64_t x4[4] = {B, 2, 3, 4}, p3[3] = {2, 3, 4};
  double        x[2 * 24], y[2 * 24];
  Case          c;
  Bufs          w;
  memset(&w, 0, sizeof w);

  PetscFunctionBegin;
  /* NCHW -> NWCH: y[n][d][a][b] = x[n][a][b][d] */
  CaseInit(&c, "Transpose");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  Out(&c);
  AttrInts(&c, "perm", 4, (const int64_t[]){0, 3, 1, 2});
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 4, (const int64_t[]){B, 4, 2, 3}, "Transpose"));
  for (int i = 0; i < 48; i++) x[i] = i;
  w.x[0] = x;
  PetscCall(Forward(&c, &w, 2, y));
  for (int n = 0; n < 2; n++)
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 3; b++)
        for (int d = 0; d < 4; d++) CHECK(y[n * 24 + d * 6 + a * 3 + b] == x[n * 24 + a * 12 + b * 4 + d], "Transpose: wrong entry (%d, %d, %d, %d)", n, d, a, b);
  PetscCall(CheckAll(&c, 4, 1.0, 0, "Transpose batched"));
  CaseFree(&c);
  /* a parameter, default perm (reversed): y[d][b][a] = x[a][b][d] */
  CaseInit(&c, "Transpose");
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 3, p3));
  Out(&c);
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 3, (const int64_t[]){4, 3, 2}, "Transpose reversed"));
  PetscCall(Forward(&c, &w, 1, y));
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 3; b++)
      for (int d = 0; d < 4; d++) CHECK(y[d * 6 + b * 2 + a] == x[a * 12 + b * 4 + d], "Transpose reversed: wrong entry (%d, %d, %d)", d, b, a);
  PetscCall(CheckAll(&c, 1, 1.0, 0, "Transpose of a parameter"));
  CaseFree(&c);
  /* moving the batch; not a permutation */
  CaseInit(&c, "Transpose");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  Out(&c);
  AttrInts(&c, "perm", 4, (const int64_t[]){1, 0, 2, 3});
  PetscCall(Refused(&c, "moves the batch axis"));
  CaseInit(&c, "Transpose");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  Out(&c);
  PetscCall(Refused(&c, "moves the batch axis"));
  CaseInit(&c, "Transpose");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  Out(&c);
  AttrInts(&c, "perm", 4, (const int64_t[]){0, 1, 1, 3});
  PetscCall(Refused(&c, "not a permutation"));
  PetscFunctionReturn(0);
}

static PetscErrorCode PadChecks(void)
{
  const int64_t x4[4] = {B, 2, 3, 4};
  double        x[2 * 24], y[2 * 72];
  Case          c;
  Bufs          w;
  memset(&w, 0, sizeof w);

  PetscFunctionBegin;
  /* pads: axis 2 one before and two after, axis 3 cropped by one before and padded by
   * one after, axis 1 one after: (N, 2, 3, 4) -> (N, 3, 6, 4) with 2.5 outside */
  CaseInit(&c, "Pad");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  In(&c, AddConstInts(&c, 8, (const int64_t[]){0, 0, 1, -1, 0, 1, 2, 1}));
  In(&c, AddConstScalar(&c, 2.5, 0));
  Out(&c);
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 4, (const int64_t[]){B, 3, 6, 4}, "Pad"));
  for (int i = 0; i < 48; i++) x[i] = i + 1;
  w.x[0] = x;
  PetscCall(Forward(&c, &w, 2, y));
  for (int n = 0; n < 2; n++)
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 6; b++)
        for (int d = 0; d < 4; d++) {
          int    ia = a, ib = b - 1, id = d + 1;
          double e = ia < 2 && ib >= 0 && ib < 3 && id < 4 ? x[n * 24 + ia * 12 + ib * 4 + id] : 2.5;
          CHECK(y[n * 72 + a * 24 + b * 4 + d] == e, "Pad: entry (%d, %d, %d, %d) is %g, expected %g", n, a, b, d, y[n * 72 + a * 24 + b * 4 + d], e);
        }
  PetscCall(CheckAll(&c, 4, 1.0, 0, "Pad batched"));
  CaseFree(&c);
  /* a hand-written case: [[1, 2], [3, 4]] with one row before and one column after, 9 */
  {
    const double x2[4] = {1, 2, 3, 4}, e[9] = {9, 9, 9, 1, 2, 9, 3, 4, 9};
    CaseInit(&c, "Pad");
    In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 2, (const int64_t[]){2, 2}));
    In(&c, AddConstInts(&c, 4, (const int64_t[]){1, 0, 0, 1}));
    In(&c, AddConstScalar(&c, 9, 0));
    Out(&c);
    PetscCall(Infer(&c));
    w.x[0] = x2;
    PetscCall(Forward(&c, &w, 1, y));
    for (int i = 0; i < 9; i++) CHECK(y[i] == e[i], "Pad 2x2: entry %d is %g, expected %g", i, y[i], e[i]);
    PetscCall(CheckAll(&c, 1, 1.0, 0, "Pad of a parameter"));
    CaseFree(&c);
  }
  /* axes (opset 18) and no constant: pad the last axis by (1, 2) with zeros */
  CaseInit(&c, "Pad");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  In(&c, AddConstInts(&c, 2, (const int64_t[]){1, 2}));
  In(&c, -1);
  In(&c, AddConstInts(&c, 1, (const int64_t[]){-1}));
  Out(&c);
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 4, (const int64_t[]){B, 2, 3, 7}, "Pad with axes"));
  PetscCall(CheckAll(&c, 3, 1.0, 0, "Pad with axes"));
  CaseFree(&c);
  /* refusals */
  CaseInit(&c, "Pad");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  In(&c, AddConstInts(&c, 8, (const int64_t[]){1, 0, 0, 0, 0, 0, 0, 0}));
  Out(&c);
  PetscCall(Refused(&c, "pads the batch axis"));
  CaseInit(&c, "Pad");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  In(&c, AddConstInts(&c, 8, (const int64_t[]){0, 0, 1, 1, 0, 0, 1, 1}));
  Out(&c);
  Attr(&c, "mode", HESSA_ONNX_ATTR_STRING)->s = (char *)"reflect";
  PetscCall(Refused(&c, "expected mode 'constant', found 'reflect'"));
  CaseInit(&c, "Pad");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  In(&c, AddConstInts(&c, 6, (const int64_t[]){0, 0, 1, 0, 0, 1}));
  Out(&c);
  PetscCall(Refused(&c, "expected 8 pads"));
  CaseInit(&c, "Pad");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  In(&c, AddConstInts(&c, 8, (const int64_t[]){0, 0, 0, -3, 0, 0, 0, -1}));
  Out(&c);
  PetscCall(Refused(&c, "leave no element"));
  CaseInit(&c, "Pad");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 4, x4));
  In(&c, AddConstInts(&c, 8, (const int64_t[]){0, 0, 0, 1, 0, 0, 0, 1}));
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 0, NULL));
  Out(&c);
  PetscCall(Refused(&c, "constant scalar constant_value"));
  CHECK(FindOp("Pad")->constant_inputs == 14u, "Pad: pads, constant_value and axes must be constant inputs");
  PetscFunctionReturn(0);
}

static PetscErrorCode ConcatChecks(void)
{
  const int64_t xa[3] = {B, 2, 3}, sp[3] = {1, 1, 3}, xb[3] = {B, 4, 3};
  double        a[2 * 6], s[3], bb[2 * 12], y[2 * 21];
  Case          c;
  Bufs          w;
  memset(&w, 0, sizeof w);

  PetscFunctionBegin;
  /* batched (N, 2, 3), a shared parameter (1, 1, 3), batched (N, 4, 3) along axis 1 */
  CaseInit(&c, "Concat");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, xa));
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 3, sp));
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, xb));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = -2;
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 3, (const int64_t[]){B, 7, 3}, "Concat"));
  CHECK(c.v[c.out[0]].batched && c.v[c.out[0]].differentiable && c.v[c.out[0]].size == 21, "Concat: wrong output");
  for (int i = 0; i < 12; i++) a[i] = i;
  for (int i = 0; i < 3; i++) s[i] = 100 + i;
  for (int i = 0; i < 24; i++) bb[i] = 200 + i;
  w.x[0] = a, w.x[1] = s, w.x[2] = bb;
  PetscCall(Forward(&c, &w, 2, y));
  for (int n = 0; n < 2; n++)
    for (int r = 0; r < 7; r++)
      for (int k = 0; k < 3; k++) {
        double e = r < 2 ? a[n * 6 + r * 3 + k] : r == 2 ? s[k] : bb[n * 12 + (r - 3) * 3 + k];
        CHECK(y[n * 21 + r * 3 + k] == e, "Concat: entry (%d, %d, %d) is %g, expected %g", n, r, k, y[n * 21 + r * 3 + k], e);
      }
  PetscCall(CheckAll(&c, 4, 1.0, 0, "Concat batched with a shared parameter"));
  CaseFree(&c);
  /* along the last axis, the data input (not differentiable) with a hidden value */
  CaseInit(&c, "Concat");
  In(&c, AddValue(&c, HESSA_ONNX_INPUT, 1, 3, xa));
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, (const int64_t[]){B, 2, 5}));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = 2;
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 3, (const int64_t[]){B, 2, 8}, "Concat axis 2"));
  PetscCall(CheckAll(&c, 3, 1.0, 0, "Concat along the last axis"));
  CaseFree(&c);
  /* parameters only, axis 0 (parameter phase) */
  CaseInit(&c, "Concat");
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 2, (const int64_t[]){2, 3}));
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 2, (const int64_t[]){1, 3}));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = 0;
  PetscCall(Infer(&c));
  PetscCall(CheckShape(&c, 2, (const int64_t[]){3, 3}, "Concat of parameters"));
  PetscCall(CheckAll(&c, 1, 1.0, 0, "Concat of parameters"));
  CaseFree(&c);
  /* refusals */
  CaseInit(&c, "Concat");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, xa));
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, xa));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = 0;
  PetscCall(Refused(&c, "along the batch axis"));
  CaseInit(&c, "Concat");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, xa));
  In(&c, AddValue(&c, HESSA_ONNX_PARAM, 0, 3, (const int64_t[]){2, 1, 3}));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = 1;
  PetscCall(Refused(&c, "first dimension of 1"));
  CaseInit(&c, "Concat");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, xa));
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, (const int64_t[]){B, 2, 4}));
  Out(&c);
  Attr(&c, "axis", HESSA_ONNX_ATTR_INT)->i = 1;
  PetscCall(Refused(&c, "outside axis 1"));
  CaseInit(&c, "Concat");
  In(&c, AddValue(&c, HESSA_ONNX_RUNTIME, 1, 3, xa));
  Out(&c);
  PetscCall(Refused(&c, "axis attribute is required"));
  PetscFunctionReturn(0);
}

/* -view: print the worst errors */
static PetscErrorCode Run(void)
{
  PetscBool view = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PointwiseChecks());
  PetscCall(DropoutChecks());
  PetscCall(ClipChecks());
  PetscCall(ReshapeChecks());
  PetscCall(FlattenChecks());
  PetscCall(TransposeChecks());
  PetscCall(PadChecks());
  PetscCall(ConcatChecks());
  PetscCall(PetscOptionsHasName(NULL, NULL, "-view", &view));
  if (view)
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "worst errors: forward %.2e (tolerance %.0e), jvp vs differences %.2e (%.0e), adjoint identity %.2e (%.0e), sot vs differences %.2e (%.0e)\n", worst_fwd, tol_fwd, worst_jvp, tol_fd, worst_adj, tol_adj,
                          worst_sot, tol_fd));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
