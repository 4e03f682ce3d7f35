/* Test helpers for ONNX graphs: hand-built graphs and the derivative checker (onnx_check.h). */
#include "onnx_check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

/* ---- graphs by hand --------------------------------------------------------------------------- */

PetscErrorCode OnnxTestGraphCreate(const char path[], HessaOnnxGraph **g)
{
  HessaOnnxGraph *G;

  PetscFunctionBegin;
  G = (HessaOnnxGraph *)calloc(1, sizeof *G);
  PetscCheck(G, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory");
  snprintf(G->path, sizeof G->path, "%s", path);
  G->opset  = 17;
  G->input  = -1;
  G->output = -1;
  *g        = G;
  PetscFunctionReturn(0);
}

PetscErrorCode OnnxTestAddValue(HessaOnnxGraph *g, const char name[], HessaOnnxValueKind kind, int ndim, const int64_t dims[], int batched, const double *data, int *v)
{
  HessaOnnxValue *val;
  int64_t         size = 1;

  PetscFunctionBegin;
  PetscCheck(ndim >= 0 && ndim <= HESSA_ONNX_MAX_DIMS, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "rank %d", ndim);
  g->values = (HessaOnnxValue *)realloc(g->values, (size_t)(g->n_values + 1) * sizeof *g->values);
  PetscCheck(g->values, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory");
  val = &g->values[g->n_values];
  memset(val, 0, sizeof *val);
  val->name      = strdup(name);
  val->kind      = kind;
  val->elem_type = 11;
  val->ndim      = ndim;
  val->batched   = batched;
  val->offset    = -1;
  val->producer  = -1;
  for (int d = 0; d < ndim; d++) {
    val->dims[d] = (batched && d == 0) ? HESSA_ONNX_BATCH : dims[d];
    if (!(batched && d == 0)) size *= dims[d];
  }
  val->size = size;
  if (kind == HESSA_ONNX_PARAM || kind == HESSA_ONNX_CONST) {
    PetscCheck(!batched, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "'%s': parameters and constants are not batched", name);
    val->value = (double *)calloc((size_t)size + 1, sizeof(double));
    if (data) memcpy(val->value, data, (size_t)size * sizeof(double));
  }
  if (kind == HESSA_ONNX_PARAM) {
    val->differentiable = 1;
    val->offset         = g->n_params;
    g->n_params += (PetscInt)size;
    g->param_values                      = (int *)realloc(g->param_values, (size_t)(g->n_param_values + 1) * sizeof(int));
    g->param_values[g->n_param_values++] = g->n_values;
  }
  *v = g->n_values++;
  PetscFunctionReturn(0);
}

static char *Dup(const char *s)
{
  return s ? strdup(s) : NULL;
}

int OnnxTestInts(HessaOnnxGraph *g, const char *name, int n, const int64_t *ints);
int OnnxTestIntConst(HessaOnnxGraph *g, const char *name, int ndim, const int64_t *dims, const int64_t *ints, int elem_type);
int OnnxTestConst(HessaOnnxGraph *g, const char *name, int ndim, const int64_t *dims, const double *data);

/* the layout layer's new constants (HessaOnnxLayoutHooks) */
static int LayoutNewInts(void *ctx, const char *name, int64_t n, const int64_t *ints)
{
  char nm[300];
  snprintf(nm, sizeof nm, "%s:per_sample", name);
  return OnnxTestInts((HessaOnnxGraph *)ctx, nm, (int)n, ints);
}

PetscErrorCode OnnxTestAddNode(HessaOnnxGraph *g, const char op_type[], const HessaOnnxOp *op, int n_in, const int in[], int n_out, const char *const out_names[], int n_attr, const HessaOnnxAttr attr[], int out[], HessaStatus *st)
{
  HessaOnnxNode *nd;
  HessaStatus    local = {0};
  int            idx;

  PetscFunctionBegin;
  if (!op) op = HessaOnnxOpFind(op_type);
  PetscCheck(op, PETSC_COMM_SELF, PETSC_ERR_SUP, "op %s is not in the op table (supported: %s)", op_type, HessaOnnxSupportedOps());
  for (int o = 0; o < n_out; o++) {
    int v;
    PetscCall(OnnxTestAddValue(g, out_names[o], HESSA_ONNX_RUNTIME, 0, NULL, 0, NULL, &v));
    g->values[v].producer = g->n_nodes;
    if (out) out[o] = v;
  }
  g->nodes = (HessaOnnxNode *)realloc(g->nodes, (size_t)(g->n_nodes + 1) * sizeof *g->nodes);
  PetscCheck(g->nodes, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory");
  idx = g->n_nodes++;
  nd  = &g->nodes[idx];
  memset(nd, 0, sizeof *nd);
  nd->name = (char *)malloc(32);
  snprintf(nd->name, 32, "%s_%d", op_type, idx);
  nd->op_type    = strdup(op_type);
  nd->op         = op;
  nd->file_index = idx;
  nd->n_in       = n_in;
  nd->n_out      = n_out;
  nd->in         = (int *)malloc((size_t)(n_in + 1) * sizeof(int));
  nd->out        = (int *)malloc((size_t)(n_out + 1) * sizeof(int));
  for (int i = 0; i < n_in; i++) {
    nd->in[i] = in[i];
    if (in[i] >= 0 && g->values[in[i]].batched) nd->phase = 1;
  }
  for (int o = 0; o < n_out; o++) nd->out[o] = g->n_values - n_out + o;
  nd->n_attr = n_attr;
  nd->attr   = (HessaOnnxAttr *)calloc((size_t)n_attr + 1, sizeof(HessaOnnxAttr));
  for (int a = 0; a < n_attr; a++) {
    nd->attr[a]      = attr[a];
    nd->attr[a].name = Dup(attr[a].name);
    nd->attr[a].s    = Dup(attr[a].s);
    if (attr[a].ints) {
      nd->attr[a].ints = (int64_t *)malloc((size_t)attr[a].n * sizeof(int64_t) + 1);
      memcpy(nd->attr[a].ints, attr[a].ints, (size_t)attr[a].n * sizeof(int64_t));
    }
    if (attr[a].floats) {
      nd->attr[a].floats = (double *)malloc((size_t)attr[a].n * sizeof(double) + 1);
      memcpy(nd->attr[a].floats, attr[a].floats, (size_t)attr[a].n * sizeof(double));
    }
  }
  { /* as the loader does: the layout layer around infer (a batch moved by Transpose or merged by Reshape) */
    HessaOnnxLayoutHooks hooks = {LayoutNewInts, g};
    HessaOnnxLayoutPlan  plan;
    HessaStatus         *s = st ? st : &local;
    HessaOnnxLayoutBefore(g, &g->nodes[idx], &hooks, &plan, s);
    if (!s->code) op->infer(g, &g->nodes[idx], s);
    HessaOnnxLayoutAfter(g, &g->nodes[idx], &plan, s);
  }
  PetscCheck(st || !local.code, PETSC_COMM_SELF, local.code, "%s", local.msg);
  PetscFunctionReturn(0);
}

HessaOnnxAttr OnnxTestAttrInt(const char name[], int64_t i)
{
  HessaOnnxAttr a = {0};
  a.name = (char *)name, a.type = HESSA_ONNX_ATTR_INT, a.i = i;
  return a;
}

HessaOnnxAttr OnnxTestAttrFloat(const char name[], double f)
{
  HessaOnnxAttr a = {0};
  a.name = (char *)name, a.type = HESSA_ONNX_ATTR_FLOAT, a.f = f;
  return a;
}

HessaOnnxAttr OnnxTestAttrInts(const char name[], int64_t n, const int64_t *ints)
{
  HessaOnnxAttr a = {0};
  a.name = (char *)name, a.type = HESSA_ONNX_ATTR_INTS, a.n = n, a.ints = (int64_t *)ints;
  return a;
}

HessaOnnxAttr OnnxTestAttrString(const char name[], const char *s)
{
  HessaOnnxAttr a = {0};
  a.name = (char *)name, a.type = HESSA_ONNX_ATTR_STRING, a.s = (char *)s;
  return a;
}

PetscErrorCode OnnxTestGraphFinish(HessaOnnxGraph *g, int input, int output)
{
  PetscFunctionBegin;
  PetscCheck(input >= 0 && input < g->n_values && output >= 0 && output < g->n_values, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "input or output out of range");
  g->input  = input;
  g->output = output;
  PetscFunctionReturn(0);
}

PetscErrorCode OnnxTestGraphDestroy(HessaOnnxGraph **g)
{
  HessaOnnxGraph *G;

  PetscFunctionBegin;
  if (!g || !*g) PetscFunctionReturn(0);
  G = *g;
  for (int v = 0; v < G->n_values; v++) {
    free(G->values[v].name);
    free(G->values[v].value);
    free(G->values[v].ivalue);
  }
  for (int k = 0; k < G->n_nodes; k++) {
    HessaOnnxNode *nd = &G->nodes[k];
    for (int a = 0; a < nd->n_attr; a++) {
      free(nd->attr[a].name);
      free(nd->attr[a].s);
      free(nd->attr[a].ints);
      free(nd->attr[a].floats);
    }
    free(nd->attr);
    free(nd->name);
    free(nd->op_type);
    free(nd->in);
    free(nd->out);
    free(nd->op_data);
  }
  free(G->values);
  free(G->nodes);
  free(G->param_values);
  free(G);
  *g = NULL;
  PetscFunctionReturn(0);
}

/* ---- short builders ------------------------------------------------------------------------ */

static uint64_t param_seed   = 29;
static uint64_t param_stream = 1;

void OnnxTestParamSeed(uint64_t seed)
{
  param_seed = seed;
}

int OnnxTestParam(HessaOnnxGraph *g, const char *name, int ndim, const int64_t *dims)
{
  static double buf[4096];
  int           v;
  PetscInt      size = 1;

  for (int d = 0; d < ndim; d++) size *= dims[d];
  if (size > 4096) return -1;
  HessaRandomFill(HESSA_RANDOM_NORMAL, param_seed, param_stream++, 0, size, buf);
  for (PetscInt k = 0; k < size; k++) buf[k] *= 0.5;
  if (OnnxTestAddValue(g, name, HESSA_ONNX_PARAM, ndim, dims, 0, buf, &v)) return -1;
  return v;
}

int OnnxTestConst(HessaOnnxGraph *g, const char *name, int ndim, const int64_t *dims, const double *data)
{
  int v;

  if (OnnxTestAddValue(g, name, HESSA_ONNX_CONST, ndim, dims, 0, data, &v)) return -1;
  return v;
}

int OnnxTestIntConst(HessaOnnxGraph *g, const char *name, int ndim, const int64_t *dims, const int64_t *ints, int elem_type)
{
  int v;

  if (OnnxTestAddValue(g, name, HESSA_ONNX_CONST, ndim, dims, 0, NULL, &v)) return -1;
  g->values[v].is_int    = 1;
  g->values[v].elem_type = elem_type;
  free(g->values[v].value);
  g->values[v].value  = NULL;
  g->values[v].ivalue = (int64_t *)malloc(sizeof(int64_t) * (size_t)g->values[v].size);
  if (!g->values[v].ivalue) return -1;
  memcpy(g->values[v].ivalue, ints, sizeof(int64_t) * (size_t)g->values[v].size);
  return v;
}

int OnnxTestInts(HessaOnnxGraph *g, const char *name, int n, const int64_t *ints)
{
  return OnnxTestIntConst(g, name, 1, (int64_t[]){n}, ints, 7);
}

int OnnxTestNode(HessaOnnxGraph *g, const char *op, int n, const int *in, int n_attr, const HessaOnnxAttr *attr, const char *out)
{
  int y = -1;

  for (int i = 0; i < n; i++)
    if (in[i] < -1) return -2; /* an input that failed to build */
  if (OnnxTestAddNode(g, op, NULL, n, in, 1, (const char *[]){out}, n_attr, attr, &y, NULL)) return -1;
  return y;
}

int OnnxTestUnary(HessaOnnxGraph *g, const char *op, int x, const char *out)
{
  return x < 0 ? -2 : OnnxTestNode(g, op, 1, &x, 0, NULL, out);
}

int OnnxTestBinary(HessaOnnxGraph *g, const char *op, int a, int b, const char *out)
{
  return a < 0 || b < 0 ? -2 : OnnxTestNode(g, op, 2, (int[]){a, b}, 0, NULL, out);
}

/* ---- Tanh (tests only) ----------------------------------------------------------------------- */

static void TanhInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  const HessaOnnxValue *x = &g->values[node->in[0]];
  HessaOnnxValue       *y = &g->values[node->out[0]];

  if (node->n_in != 1 || node->n_out != 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: Tanh needs 1 input and 1 output", g->path);
    return;
  }
  y->ndim    = x->ndim;
  y->batched = x->batched;
  y->size    = x->size;
  memcpy(y->dims, x->dims, sizeof y->dims);
  y->differentiable    = x->differentiable;
  node->aux_per_sample = (size_t)x->size; /* 1 - y^2, kept so the executor's handling of aux is tested */
}

static PetscErrorCode TanhForward(HessaOnnxKernel *K)
{
  const int64_t n = K->m * K->g->values[K->node->out[0]].size;
  PetscFunctionBegin;
  for (int64_t k = 0; k < n; k++) K->y[0][k] = tanh(K->x[0][k]), K->aux[k] = 1 - K->y[0][k] * K->y[0][k];
  PetscFunctionReturn(0);
}

/* rows (sample i, direction j) of tangents/adjoints read row i of the values */
static PetscErrorCode TanhJvp(HessaOnnxKernel *K)
{
  const int64_t s = K->g->values[K->node->out[0]].size;
  PetscFunctionBegin;
  for (PetscInt i = 0; i < K->m; i++)
    for (PetscInt j = 0; j < K->nb; j++) {
      const double *d1 = K->aux + i * s, *t = K->tx[0] + (i * K->nb + j) * s;
      double       *ty = K->ty[0] + (i * K->nb + j) * s;
      for (int64_t k = 0; k < s; k++) ty[k] = d1[k] * t[k];
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode TanhBackward(HessaOnnxKernel *K)
{
  const int64_t s = K->g->values[K->node->out[0]].size;
  PetscFunctionBegin;
  for (PetscInt i = 0; i < K->m; i++)
    for (PetscInt j = 0; j < K->nb; j++) {
      const double *d1 = K->aux + i * s, *dy = K->dy[0] + (i * K->nb + j) * s;
      double       *dx = K->dx[0] + (i * K->nb + j) * s;
      for (int64_t k = 0; k < s; k++) dx[k] += d1[k] * dy[k];
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode TanhSot(HessaOnnxKernel *K)
{
  const int64_t s = K->g->values[K->node->out[0]].size;
  PetscFunctionBegin;
  for (PetscInt i = 0; i < K->m; i++)
    for (PetscInt j = 0; j < K->nb; j++) {
      const double *y = K->y[0] + i * s, *dy = K->dy[0] + i * s, *t = K->tx[0] + (i * K->nb + j) * s;
      double       *dx = K->dx[0] + (i * K->nb + j) * s;
      const double *d1 = K->aux + i * s;
      for (int64_t k = 0; k < s; k++) dx[k] += dy[k] * (-2 * y[k] * d1[k]) * t[k];
    }
  PetscFunctionReturn(0);
}

const HessaOnnxOp OnnxTestTanh = {"Tanh", TanhInfer, TanhForward, TanhBackward, TanhJvp, TanhSot, 0};

/* ---- the derivative checker ------------------------------------------------------------------ */

double OnnxCheckRelErr(PetscInt n, const double *a, const double *b)
{
  double num = 0, den = 0;
  for (PetscInt i = 0; i < n; i++) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

static double Dot(PetscInt n, const double *a, const double *b)
{
  double s = 0;
  for (PetscInt i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

void OnnxCheckOptionsDefault(OnnxCheckOptions *opt)
{
  opt->h         = 1e-5;
  opt->tol_grad  = 1e-6;
  opt->tol_hv    = 1e-6;
  opt->tol_sym   = 1e-12;
  opt->tol_block = 1e-13;
  opt->n_dirs    = 2;
  opt->block     = 11;
  opt->seed      = 7;
  opt->check_ggn = PETSC_TRUE;
}

/* unit random direction k */
static void Direction(uint64_t seed, PetscInt k, PetscInt n, double *v)
{
  double nv;
  HessaRandomFill(HESSA_RANDOM_NORMAL, seed, 100 + (uint64_t)k, 0, n, v);
  nv = sqrt(Dot(n, v, v));
  for (PetscInt i = 0; i < n; i++) v[i] /= nv;
}

/* the largest error of b block products against b single products */
static PetscErrorCode BlockVsSingles(HessaObjective obj, const double *theta, PetscInt b, const double *V, PetscBool hessian, double *err)
{
  const PetscInt n = obj->n;
  double        *HB, *h1;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2((size_t)b * n, &HB, n, &h1));
  if (hessian)
    PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, HB));
  else
    PetscCall(HessaObjectiveGGNBlock(obj, theta, b, V, HB));
  *err = 0;
  for (PetscInt j = 0; j < b; j++) {
    if (hessian)
      PetscCall(HessaObjectiveHessianBlock(obj, theta, 1, V + (size_t)j * n, h1));
    else
      PetscCall(HessaObjectiveGGNBlock(obj, theta, 1, V + (size_t)j * n, h1));
    *err = PetscMax(*err, OnnxCheckRelErr(n, HB + (size_t)j * n, h1));
  }
  PetscCall(PetscFree2(HB, h1));
  PetscFunctionReturn(0);
}

PetscErrorCode OnnxCheckDerivatives(HessaObjective obj, const double *theta, const OnnxCheckOptions *opt, OnnxCheckErrors *err)
{
  const PetscInt  n = obj->n, b = PetscMax(opt->block, 2);
  double         *th, *g0, *gfd, *gp, *gm, *V, *HV, *GV, loss, lp, lm;
  OnnxCheckErrors e = {0};

  PetscFunctionBegin;
  PetscCall(PetscMalloc7(n, &th, n, &g0, n, &gfd, n, &gp, n, &gm, (size_t)b * n, &V, (size_t)b * n, &HV));
  PetscCall(PetscMalloc1((size_t)b * n, &GV));
  for (PetscInt j = 0; j < b; j++) Direction(opt->seed, j, n, V + (size_t)j * n);

  /* gradient against central differences of the loss, one coordinate at a time */
  PetscCall(HessaObjectiveGradient(obj, theta, &loss, g0));
  PetscCall(HessaObjectiveLoss(obj, theta, &lp));
  CHECK(fabs(lp - loss) <= 1e-14 * PetscMax(1.0, fabs(loss)), "loss alone %.17g differs from the loss with the gradient %.17g", lp, loss);
  PetscCall(PetscArraycpy(th, theta, n));
  for (PetscInt i = 0; i < n; i++) {
    th[i] = theta[i] + opt->h;
    PetscCall(HessaObjectiveLoss(obj, th, &lp));
    th[i] = theta[i] - opt->h;
    PetscCall(HessaObjectiveLoss(obj, th, &lm));
    th[i]  = theta[i];
    gfd[i] = (lp - lm) / (2 * opt->h);
  }
  e.grad = OnnxCheckRelErr(n, g0, gfd);
  CHECK(e.grad <= opt->tol_grad, "gradient vs central differences of the loss: relative error %.3e > %.1e", e.grad, opt->tol_grad);

  /* Hv against central differences of the gradient */
  PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, HV));
  for (PetscInt k = 0; k < PetscMin(opt->n_dirs, b); k++) {
    const double *v = V + (size_t)k * n;
    double        ek;
    for (PetscInt i = 0; i < n; i++) th[i] = theta[i] + opt->h * v[i];
    PetscCall(HessaObjectiveGradient(obj, th, &lp, gp));
    for (PetscInt i = 0; i < n; i++) th[i] = theta[i] - opt->h * v[i];
    PetscCall(HessaObjectiveGradient(obj, th, &lm, gm));
    for (PetscInt i = 0; i < n; i++) gfd[i] = (gp[i] - gm[i]) / (2 * opt->h);
    ek   = OnnxCheckRelErr(n, HV + (size_t)k * n, gfd);
    e.hv = PetscMax(e.hv, ek);
  }
  CHECK(e.hv <= opt->tol_hv, "Hv vs central differences of the gradient: relative error %.3e > %.1e", e.hv, opt->tol_hv);
  /* the products after the gradients at other points: recomputed at theta, the same */
  PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, GV));
  CHECK(OnnxCheckRelErr((size_t)b * n, GV, HV) <= opt->tol_block, "Hv block at theta after gradients elsewhere differs: %.3e", OnnxCheckRelErr((size_t)b * n, GV, HV));

  /* symmetry u^T H v = v^T H u over pairs of the block */
  for (PetscInt j = 0; j + 1 < b; j++) {
    const double *u = V + (size_t)j * n, *v = V + (size_t)(j + 1) * n, *Hu = HV + (size_t)j * n, *Hv = HV + (size_t)(j + 1) * n;
    const double  s = fabs(Dot(n, u, Hv) - Dot(n, v, Hu)) / PetscMax(sqrt(Dot(n, Hv, Hv)), 1e-300);
    e.hsym          = PetscMax(e.hsym, s);
  }
  CHECK(e.hsym <= opt->tol_sym, "Hessian symmetry |u^T H v - v^T H u| / |H v| = %.3e > %.1e", e.hsym, opt->tol_sym);
  PetscCall(BlockVsSingles(obj, theta, b, V, PETSC_TRUE, &e.hblock));
  CHECK(e.hblock <= opt->tol_block, "Hessian block of %" PetscInt_FMT " vs single products: relative error %.3e > %.1e", b, e.hblock, opt->tol_block);

  if (opt->check_ggn) {
    double gnorm = 0;
    PetscCall(HessaObjectiveGGNBlock(obj, theta, b, V, GV));
    for (PetscInt j = 0; j < b; j++) gnorm = PetscMax(gnorm, sqrt(Dot(n, GV + (size_t)j * n, GV + (size_t)j * n)));
    for (PetscInt j = 0; j < b; j++) {
      const double *u = V + (size_t)j * n, *Gu = GV + (size_t)j * n;
      if (j + 1 < b) {
        const double *v = V + (size_t)(j + 1) * n, *Gv = GV + (size_t)(j + 1) * n;
        e.gsym = PetscMax(e.gsym, fabs(Dot(n, u, Gv) - Dot(n, v, Gu)) / PetscMax(sqrt(Dot(n, Gv, Gv)), 1e-300));
      }
      e.gpsd = PetscMax(e.gpsd, -Dot(n, u, Gu) / PetscMax(gnorm, 1e-300));
    }
    CHECK(e.gsym <= opt->tol_sym, "GGN symmetry |u^T G v - v^T G u| / |G v| = %.3e > %.1e", e.gsym, opt->tol_sym);
    CHECK(e.gpsd <= 1e-12, "GGN not positive semi-definite: v^T G v / |G| = %.3e", -e.gpsd);
    PetscCall(BlockVsSingles(obj, theta, b, V, PETSC_FALSE, &e.gblock));
    CHECK(e.gblock <= opt->tol_block, "GGN block of %" PetscInt_FMT " vs single products: relative error %.3e > %.1e", b, e.gblock, opt->tol_block);
  }
  if (err) *err = e;
  PetscCall(PetscFree7(th, g0, gfd, gp, gm, V, HV));
  PetscCall(PetscFree(GV));
  PetscFunctionReturn(0);
}

PetscErrorCode OnnxCheckGGNEqualsHessian(HessaObjective obj, const double *theta, PetscInt dirs, uint64_t seed, double *err)
{
  const PetscInt n = obj->n;
  double        *V, *HV, *GV;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3((size_t)dirs * n, &V, (size_t)dirs * n, &HV, (size_t)dirs * n, &GV));
  for (PetscInt j = 0; j < dirs; j++) Direction(seed, j, n, V + (size_t)j * n);
  PetscCall(HessaObjectiveHessianBlock(obj, theta, dirs, V, HV));
  PetscCall(HessaObjectiveGGNBlock(obj, theta, dirs, V, GV));
  *err = 0;
  for (PetscInt j = 0; j < dirs; j++) *err = PetscMax(*err, OnnxCheckRelErr(n, GV + (size_t)j * n, HV + (size_t)j * n));
  PetscCall(PetscFree3(V, HV, GV));
  PetscFunctionReturn(0);
}
