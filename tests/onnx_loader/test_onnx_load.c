/* The ONNX loader (src/objective/onnx_load.c) on small models that make_models.py writes
 * with onnx.helper at test time, with a mock op table (shape inference only), so the
 * loader is tested apart from the kernels:
 *   - cnn.onnx (nodes stored in reverse, symbolic batch) and cnn_fixed.onnx (batch 2):
 *     the nodes that run and their order, the parameters (names, order of first use,
 *     offsets, shapes, values), BN running statistics and the folded Reshape shape
 *     (Shape -> Gather -> Unsqueeze -> Concat = [batch, -1]) as constants, a dead node
 *     dropped, the graph input's per-sample size;
 *   - mlp_<encoding>.onnx: float32/float64, raw_data/typed fields/external data all give
 *     exactly the doubles k/8 the script wrote;
 *   - fold.onnx: Slice, Gather, Mul, Div, Sub, Add, Unsqueeze, ConstantOfShape, Squeeze,
 *     Cast, Identity and Concat folded into a Reshape target that keeps the batch;
 *   - fold_runtime.onnx: runtime ops over constants folded by their kernels' forward;
 *   - cnn.onnx again through the real op table, and its forward pass (executor) against
 *     numpy loops written by make_models.py;
 *   - HessaOnnxGraphWrite: theta back in (float32 kept), external data brought inside,
 *     no file left behind on a failure;
 *   - bad inputs: each gives exactly its one message.
 * Usage: test_onnx_load make_models.py folder. Runs /usr/bin/python3. */
#define _XOPEN_SOURCE 700 /* realpath, mkfifo */
#include "../../src/objective/onnx_impl.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

/* ---- a mock op table: shapes only ---- */
static void SetOut(HessaOnnxGraph *g, HessaOnnxNode *node, int ndim, const int64_t *dims, int batched)
{
  HessaOnnxValueSetShape(&g->values[node->out[0]], ndim, dims, batched);
}

static HessaOnnxValue *Input(HessaOnnxGraph *g, HessaOnnxNode *node, int i)
{
  return &g->values[node->in[i]];
}

static void InferSame(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  HessaOnnxValue *x = Input(g, node, 0);
  SetOut(g, node, x->ndim, x->dims, x->batched);
}

static void InferConv(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  HessaOnnxValue *x = Input(g, node, 0), *w = Input(g, node, 1);
  int64_t         d[4] = {0, w->dims[0], x->dims[2] - w->dims[2] + 1, x->dims[3] - w->dims[3] + 1};
  SetOut(g, node, 4, d, 1);
}

static void InferGemm(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  HessaOnnxValue *w    = Input(g, node, 1);
  int64_t         d[2] = {0, w->dims[0]};
  SetOut(g, node, 2, d, 1);
}

static void InferReshape(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  HessaOnnxValue *x = Input(g, node, 0), *s     = Input(g, node, 1);
  int64_t         d[HESSA_ONNX_MAX_DIMS], known = 1;
  int             minus = -1;
  if (s->kind != HESSA_ONNX_CONST || !s->is_int || s->ndim != 1 || s->size < 1 || s->ivalue[0] != HESSA_ONNX_BATCH) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "mock Reshape: the shape is not a constant starting with the batch");
    return;
  }
  for (int k = 1; k < s->size; k++) {
    d[k] = s->ivalue[k];
    if (d[k] == -1)
      minus = k;
    else
      known *= d[k];
  }
  if (minus > 0) d[minus] = x->size / known;
  SetOut(g, node, (int)s->size, d, 1);
}

static const HessaOnnxOp mock_ops[] = {
    {"Conv", InferConv, NULL, NULL, NULL, NULL, 0}, {"BatchNormalization", InferSame, NULL, NULL, NULL, NULL, (1u << 3) | (1u << 4)},
    {"Relu", InferSame, NULL, NULL, NULL, NULL, 0}, {"Sigmoid", InferSame, NULL, NULL, NULL, NULL, 0},
    {"Add", InferSame, NULL, NULL, NULL, NULL, 0},  {"Reshape", InferReshape, NULL, NULL, NULL, NULL, 1u << 1},
    {"Gemm", InferGemm, NULL, NULL, NULL, NULL, 0},
};

static const HessaOnnxOp *MockFind(const char op_type[])
{
  for (size_t i = 0; i < sizeof mock_ops / sizeof mock_ops[0]; i++)
    if (!strcmp(mock_ops[i].op_type, op_type)) return &mock_ops[i];
  return NULL;
}

static int use_real_ops; /* 1: the real op table instead of the mock */

static PetscErrorCode Load(const char *path, int64_t row_length, HessaOnnxGraph **g, HessaStatus *st)
{
  HessaOnnxLoadOptions opt = {0};

  PetscFunctionBegin;
  opt.input_row_length = row_length;
  opt.find_op          = use_real_ops ? NULL : MockFind;
  memset(st, 0, sizeof *st);
  HessaOnnxGraphLoadWithOptions(path, &opt, g, st);
  PetscFunctionReturn(0);
}

/* The value k/8 the script wrote at flat index i of a tensor made with vals(shape, start). */
static double Val(int64_t i, int start)
{
  return (double)(i % 17 + start - 8) / 8.0;
}

static int FindNamed(const HessaOnnxGraph *g, const char *name)
{
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v].name && !strcmp(g->values[v].name, name)) return v;
  return -1;
}

static PetscErrorCode CheckCNN(const char *dir, const char *file)
{
  char            path[PETSC_MAX_PATH_LEN];
  HessaOnnxGraph *g;
  HessaStatus     st;
  const char     *names[6]   = {"conv.weight", "conv.bias", "bn.weight", "bn.bias", "fc.weight", "fc.bias"};
  const int       starts[6]  = {1, 2, 3, 4, 6, 7};
  const PetscInt  offsets[6] = {0, 18, 20, 22, 24, 48};
  const int       ndims[6]   = {4, 1, 1, 1, 2, 1};
  const int64_t   dims[6][4] = {{2, 1, 3, 3}, {2}, {2}, {2}, {3, 8}, {3}};
  const char     *ops[5]     = {"Conv", "BatchNormalization", "Relu", "Reshape", "Gemm"};

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  PetscCall(Load(path, 16, &g, &st));
  CHECK(!st.code && g, "%s: %s", file, st.msg);
  CHECK(g->opset == 17, "%s: opset %lld", file, (long long)g->opset);
  CHECK(g->n_nodes == 5, "%s: %d nodes run, expected 5 (Shape/Gather/Unsqueeze/Constant/Concat folded, Sigmoid dropped)", file, g->n_nodes);
  for (int k = 0; k < 5; k++) {
    CHECK(!strcmp(g->nodes[k].op_type, ops[k]), "%s: node %d is %s, expected %s", file, k, g->nodes[k].op_type, ops[k]);
    CHECK(g->nodes[k].op == (use_real_ops ? HessaOnnxOpFind(ops[k]) : MockFind(ops[k])) && g->nodes[k].phase == 1, "%s: node %d has the wrong op or phase", file, k);
    for (int o = 0; o < g->nodes[k].n_out; o++) CHECK(g->values[g->nodes[k].out[o]].producer == k, "%s: producer of node %d's output", file, k);
  }
  CHECK(g->n_param_values == 6 && g->n_params == 51, "%s: %d parameter tensors, %d parameters; expected 6 and 51", file, g->n_param_values, (int)g->n_params);
  for (int k = 0; k < 6; k++) {
    const HessaOnnxValue *p = &g->values[g->param_values[k]];
    CHECK(!strcmp(p->name, names[k]) && p->kind == HESSA_ONNX_PARAM && p->differentiable && !p->batched, "%s: parameter %d is '%s', expected '%s'", file, k, p->name, names[k]);
    CHECK(p->offset == offsets[k] && p->ndim == ndims[k] && p->elem_type == 1, "%s: parameter '%s' at %d of rank %d", file, p->name, (int)p->offset, p->ndim);
    for (int d = 0; d < ndims[k]; d++) CHECK(p->dims[d] == dims[k][d], "%s: parameter '%s' dimension %d", file, p->name, d);
    for (int64_t i = 0; i < p->size; i++) CHECK(p->value[i] == Val(i, starts[k]), "%s: parameter '%s'[%lld] = %g, expected %g", file, p->name, (long long)i, p->value[i], Val(i, starts[k]));
  }
  for (int k = 0; k < 2; k++) {
    int v = FindNamed(g, k ? "bn.running_var" : "bn.running_mean");
    CHECK(v >= 0 && g->values[v].kind == HESSA_ONNX_CONST && !g->values[v].differentiable && g->values[v].value, "%s: BN running statistics must be constants", file);
  }
  CHECK(g->values[FindNamed(g, "bn.running_var")].value[1] == 2.0, "%s: running_var", file);
  {
    const HessaOnnxValue *s = &g->values[g->nodes[3].in[1]];
    CHECK(s->kind == HESSA_ONNX_CONST && s->is_int && s->ndim == 1 && s->size == 2 && s->ivalue[0] == HESSA_ONNX_BATCH && s->ivalue[1] == -1, "%s: the folded Reshape shape is not [batch, -1]", file);
  }
  {
    const HessaOnnxValue *x = &g->values[g->input], *y = &g->values[g->output];
    CHECK(x->kind == HESSA_ONNX_INPUT && x->batched && x->size == 16 && x->ndim == 4 && x->dims[0] == HESSA_ONNX_BATCH, "%s: graph input", file);
    CHECK(y->batched && y->ndim == 2 && y->dims[1] == 3 && y->size == 3 && y->producer == 4, "%s: graph output", file);
    CHECK(g->values[g->nodes[3].out[0]].size == 8, "%s: Reshape output size", file);
  }
  {
    char lab[64];
    CHECK(!strcmp(HessaOnnxNodeLabel(&g->nodes[0], lab, sizeof lab), "node 'conv' (Conv)"), "%s: label '%s'", file, lab);
  }
  HessaOnnxGraphDestroy(&g);
  CHECK(!g, "destroy must null the pointer");
  PetscFunctionReturn(0);
}

/* fold.onnx: every folded op; one node (Reshape) is left, its target [batch, 6, 4]. */
static PetscErrorCode CheckFold(const char *dir)
{
  char            path[PETSC_MAX_PATH_LEN];
  HessaOnnxGraph *g;
  HessaStatus     st;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/fold.onnx", dir);
  PetscCall(Load(path, 24, &g, &st));
  CHECK(!st.code, "%s", st.msg);
  CHECK(g->n_nodes == 1 && !strcmp(g->nodes[0].op_type, "Reshape") && g->n_params == 0, "fold.onnx: %d nodes left, expected the Reshape alone", g->n_nodes);
  {
    const HessaOnnxValue *t = &g->values[g->nodes[0].in[1]], *y = &g->values[g->output];
    CHECK(t->kind == HESSA_ONNX_CONST && t->is_int && t->size == 3 && t->ivalue[0] == HESSA_ONNX_BATCH && t->ivalue[1] == 6 && t->ivalue[2] == 4, "fold.onnx: the folded target is not [batch, 6, 4]");
    CHECK(y->batched && y->ndim == 3 && y->dims[1] == 6 && y->dims[2] == 4, "fold.onnx: output shape");
  }
  HessaOnnxGraphDestroy(&g);
  PetscFunctionReturn(0);
}

/* fold_runtime.onnx (real op table): Relu(Transpose(Constant)) folded by the kernels'
 * forward into the constant [[1,0],[0,5],[3,0]]; the Add alone is left. */
static PetscErrorCode CheckFoldRuntime(const char *dir)
{
  char            path[PETSC_MAX_PATH_LEN];
  HessaOnnxGraph *g;
  HessaStatus     st;
  const double    expect[6] = {1, 0, 0, 5, 3, 0};

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/fold_runtime.onnx", dir);
  PetscCall(Load(path, 6, &g, &st));
  CHECK(!st.code, "%s", st.msg);
  CHECK(g->n_nodes == 1 && !strcmp(g->nodes[0].op_type, "Add") && g->values[g->output].producer == 0, "fold_runtime.onnx: %d nodes left, expected the Add alone", g->n_nodes);
  {
    const HessaOnnxValue *r = &g->values[g->nodes[0].in[1]];
    CHECK(r->kind == HESSA_ONNX_CONST && !r->is_int && r->size == 6 && r->ndim == 2 && r->dims[0] == 3 && r->dims[1] == 2 && r->value, "fold_runtime.onnx: Relu's output is not a [3,2] constant");
    for (int i = 0; i < 6; i++) CHECK(r->value[i] == expect[i], "fold_runtime.onnx: folded value %d is %g, expected %g", i, r->value[i], expect[i]);
  }
  HessaOnnxGraphDestroy(&g);
  PetscFunctionReturn(0);
}

/* cnn.onnx through the real op table and the executor against make_models.py's numpy
 * loops (cnn_x.bin: 3 samples, cnn_y.bin: their outputs), to 1e-12 relative. */
static PetscErrorCode CheckCNNForward(const char *dir)
{
  char            path[PETSC_MAX_PATH_LEN];
  HessaOnnxGraph *g;
  HessaOnnxExec   ex;
  HessaStatus     st;
  double          x[48], y[9], out[9], theta[51], num = 0, den = 0;
  FILE           *f;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/cnn_x.bin", dir);
  CHECK((f = fopen(path, "rb")) && fread(x, sizeof(double), 48, f) == 48 && !fclose(f), "cannot read %s", path);
  snprintf(path, sizeof path, "%s/cnn_y.bin", dir);
  CHECK((f = fopen(path, "rb")) && fread(y, sizeof(double), 9, f) == 9 && !fclose(f), "cannot read %s", path);
  snprintf(path, sizeof path, "%s/cnn.onnx", dir);
  PetscCall(Load(path, 16, &g, &st));
  CHECK(!st.code, "%s", st.msg);
  CHECK(g->n_params == 51, "real ops: %d parameters", (int)g->n_params);
  for (int k = 0; k < g->n_param_values; k++) {
    const HessaOnnxValue *p = &g->values[g->param_values[k]];
    for (int64_t i = 0; i < p->size; i++) theta[p->offset + i] = p->value[i];
  }
  PetscCall(HessaOnnxExecCreate(g, 2, 0, &ex)); /* chunks of 2: the 3 samples take two chunks */
  PetscCall(HessaOnnxExecForward(ex, theta, 3, x, out));
  for (int i = 0; i < 9; i++) num += (out[i] - y[i]) * (out[i] - y[i]), den += y[i] * y[i];
  CHECK(sqrt(num) <= 1e-12 * sqrt(den), "cnn.onnx forward differs from numpy: relative error %g", sqrt(num / den));
  PetscCall(HessaOnnxExecDestroy(&ex));
  HessaOnnxGraphDestroy(&g);
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckEncodings(const char *dir)
{
  const char *enc[5] = {"f32raw", "f32typed", "f64raw", "f64typed", "f32ext"};

  PetscFunctionBegin;
  for (int e = 0; e < 5; e++) {
    char            path[PETSC_MAX_PATH_LEN];
    HessaOnnxGraph *g;
    HessaStatus     st;
    snprintf(path, sizeof path, "%s/mlp_%s.onnx", dir, enc[e]);
    PetscCall(Load(path, 4, &g, &st));
    CHECK(!st.code && g, "%s: %s", path, st.msg);
    CHECK(g->n_params == 15 && g->n_param_values == 2, "%s: %d parameters", path, (int)g->n_params);
    for (int k = 0; k < 2; k++) {
      const HessaOnnxValue *p = &g->values[g->param_values[k]];
      CHECK(!strcmp(p->name, k ? "b" : "W") && p->elem_type == (enc[e][1] == '3' ? 1 : 11), "%s: parameter %d '%s' of type %d", path, k, p->name, p->elem_type);
      for (int64_t i = 0; i < p->size; i++) CHECK(p->value[i] == Val(i, k + 1), "%s: %s[%lld] = %.17g, expected %.17g", path, p->name, (long long)i, p->value[i], Val(i, k + 1));
    }
    HessaOnnxGraphDestroy(&g);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckWrite(const char *dir)
{
  const char *src[2] = {"mlp_f32raw", "mlp_f32ext"};
  double      theta[15];
  struct stat sb;

  PetscFunctionBegin;
  for (int i = 0; i < 15; i++) theta[i] = 0.25 - 0.125 * i;
  for (int e = 0; e < 2; e++) {
    char            in[PETSC_MAX_PATH_LEN], out[PETSC_MAX_PATH_LEN];
    HessaOnnxGraph *g, *h;
    HessaStatus     st = {0};
    snprintf(in, sizeof in, "%s/%s.onnx", dir, src[e]);
    snprintf(out, sizeof out, "%s/written_%s.onnx", dir, src[e]);
    PetscCall(Load(in, 4, &g, &st));
    CHECK(!st.code, "%s", st.msg);
    HessaOnnxGraphWrite(g, in, theta, out, &st);
    CHECK(!st.code, "write: %s", st.msg);
    {
      mode_t mask = umask(0);
      umask(mask);
      CHECK(stat(out, &sb) == 0 && (sb.st_mode & 0777) == (0666 & ~mask), "%s: mode %o, expected %o", out, (unsigned)sb.st_mode & 0777, (unsigned)(0666 & ~mask));
    }
    PetscCall(Load(out, 4, &h, &st));
    CHECK(!st.code, "%s", st.msg);
    CHECK(h->n_params == 15, "rewritten: %d parameters", (int)h->n_params);
    for (int k = 0; k < 2; k++) {
      const HessaOnnxValue *p = &h->values[h->param_values[k]];
      CHECK(p->elem_type == 1, "rewritten '%s' is no longer float32", p->name);
      for (int64_t i = 0; i < p->size; i++) CHECK(p->value[i] == theta[p->offset + i], "rewritten %s[%lld] = %g, expected %g", p->name, (long long)i, p->value[i], theta[p->offset + i]);
    }
    HessaOnnxGraphDestroy(&h);
    /* a folder that does not exist: an error, and nothing written */
    snprintf(out, sizeof out, "%s/no_such_folder/x.onnx", dir);
    HessaOnnxGraphWrite(g, in, theta, out, &st);
    CHECK(st.code && stat(out, &sb) != 0, "writing into a missing folder must fail");
    HessaOnnxGraphDestroy(&g);
  }
  PetscFunctionReturn(0);
}

static char outside[PETSC_MAX_PATH_LEN]; /* make_models.py's file beside the models' folder */

/* expect with @P, @D, @S, @O replaced */
static void Expand(const char *t, const char *path, const char *dir, char *out, size_t len)
{
  size_t k = 0;
  for (; *t && k + 1 < len; t++) {
    const char *r = NULL;
    if (t[0] == '@' && (t[1] == 'P' || t[1] == 'D' || t[1] == 'S' || t[1] == 'O')) r = t[1] == 'P' ? path : t[1] == 'D' ? dir : t[1] == 'O' ? outside : HessaOnnxSupportedOps();
    if (r) {
      k += (size_t)snprintf(out + k, len - k, "%s", r);
      if (k >= len) k = len - 1;
      t++;
    } else
      out[k++] = *t;
  }
  out[k] = 0;
}

typedef struct {
  const char *file;
  int64_t     row_length;
  const char *expect; /* @P: the model's path, @D: the folder, @S: the supported ops */
} BadCase;

static PetscErrorCode CheckBad(const char *dir)
{
  char          path[PETSC_MAX_PATH_LEN], expect[3 * PETSC_MAX_PATH_LEN], fifo[PETSC_MAX_PATH_LEN];
  struct stat   sb;
  const BadCase cases[] = {
      {"bad_op.onnx", -1, "file '@P': node 'foo1' (Foo): op 'Foo' is not supported; hessa supports @S"},
      {"bad_bytes.onnx", -1, "file '@P': initializer 'W' has 44 bytes of raw_data, expected 48 (12 elements of float32, 4 bytes each)"},
      {"bad_overflow.onnx", -1, "file '@P': initializer 'W' has dims [1099511627776,1099511627776]: a negative dimension or a product that overflows 64-bit integers"},
      {"bad_ext.onnx", -1, "file '@P': initializer 'W' has external data at bytes [0, 48) of '@D/bad_ext.bin', beyond its 20 bytes"},
      {"bad_ext_parent.onnx", -1, "file '@P': initializer 'W' has external data at '../mlp_f32ext.bin'; hessa reads external data only from files inside the model's folder (no absolute path, no '..')"},
      {"bad_ext_symlink.onnx", -1, "file '@P': initializer 'W' has external data at 'escape.bin', which resolves to '@O' outside the model's folder"},
      {"bad_ext_missing.onnx", -1, "file '@P': initializer 'W': external data '@D/no_such.bin': cannot open: No such file or directory"},
      {"bad_ext_dir.onnx", -1, "file '@P': initializer 'W': external data '@D/ext_dir': is a directory, expected a regular file of tensor data"},
      {"bad_f16.onnx", -1, "file '@P': initializer 'W' has element type float16 (10); hessa reads float32, float64, int64, int32 and bool tensors"},
      {"bad_nan.onnx", -1, "file '@P': initializer 'W' has NaN at element 3; hessa needs finite numbers"},
      {"cnn.onnx", 17, "file '@P': graph input 'x' has shape [N,1,4,4] (16 values per sample), but the data has 17 features per sample"},
      {"bad_cycle.onnx", -1, "file '@P': the graph has a cycle: node 'A' (Relu) <- node 'B' (Add)"},
      {"bad_missing.onnx", -1, "file '@P': node 'add' (Add): input 'ghost' is produced by no node, initializer or graph input"},
      {"bad_opset.onnx", -1, "file '@P': the model uses opset 11 of the default domain; hessa reads opsets 13 to 18 (export with opset_version=17)"},
      {"bad_two_inputs.onnx", -1, "file '@P': the graph has more than one data input ('x' and 'x2'); hessa needs exactly one"},
      {"bad_batch_arith.onnx", -1, "file '@P': node 'arith' (Mul): multiplication of the batch size by the batch size ([N] and [N]): hessa supports shape arithmetic that keeps the batch size N a whole multiple cN"},
      {"bad_batch_add.onnx", -1, "file '@P': node 'arith' (Add): adds [N] and [2], where [N] is a multiple of the batch size N: hessa supports only multiplying it by a positive integer and dividing it by a divisor of its factor"},
      {"bad_gather_param.onnx", -1, "file '@P': node 'embed' (Gather): hessa runs Gather only on constants (shape computations folded at load), but its input 'E' is a float initializer (a parameter)"},
      {"no_such.onnx", -1, "ONNX file '@P': cannot open: No such file or directory"},
      {"fifo.onnx", -1, "ONNX file '@P': is a FIFO (named pipe), expected an ONNX model file"},
      {".", -1, "ONNX file '@P': is a directory, expected an ONNX model file"},
      {"bad_truncated.onnx", -1, NULL},
  };

  PetscFunctionBegin;
  {
    char parent[PETSC_MAX_PATH_LEN];
    snprintf(parent, sizeof parent, "%s/..", dir);
    CHECK(realpath(parent, outside), "realpath %s", parent);
    strncat(outside, "/onnx_load_outside.bin", sizeof outside - strlen(outside) - 1);
  }
  snprintf(fifo, sizeof fifo, "%s/fifo.onnx", dir);
  unlink(fifo);
  CHECK(mkfifo(fifo, 0600) == 0, "mkfifo %s", fifo);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    HessaOnnxGraph *g;
    HessaStatus     st;
    snprintf(path, sizeof path, "%s/%s", dir, cases[c].file);
    if (cases[c].expect)
      Expand(cases[c].expect, path, dir, expect, sizeof expect);
    else {
      CHECK(stat(path, &sb) == 0, "%s", path);
      snprintf(expect, sizeof expect, "file '%s': not a valid ONNX model (the protobuf is truncated or corrupt; %lld bytes)", path, (long long)sb.st_size);
    }
    PetscCall(Load(path, cases[c].row_length, &g, &st));
    CHECK(st.code && !g, "%s: loaded, expected the error: %s", cases[c].file, expect);
    CHECK(!strcmp(st.msg, expect), "%s:\n  message  %s\n  expected %s", cases[c].file, st.msg, expect);
  }
  unlink(fifo);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(int argc, char **argv)
{
  char cmd[2 * PETSC_MAX_PATH_LEN + 64];

  PetscFunctionBegin;
  CHECK(argc == 3, "usage: test_onnx_load make_models.py folder");
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", argv[1], argv[2]);
  CHECK(system(cmd) == 0, "the model script failed: %s", cmd);
  PetscCall(CheckCNN(argv[2], "cnn.onnx"));
  PetscCall(CheckCNN(argv[2], "cnn_fixed.onnx"));
  PetscCall(CheckFold(argv[2]));
  /* the same with hessa's kernels: their infer and constant inputs give the same graph */
  use_real_ops = 1;
  PetscCall(CheckCNN(argv[2], "cnn.onnx"));
  PetscCall(CheckCNNForward(argv[2]));
  PetscCall(CheckFoldRuntime(argv[2]));
  use_real_ops = 0;
  PetscCall(CheckEncodings(argv[2]));
  PetscCall(CheckWrite(argv[2]));
  PetscCall(CheckBad(argv[2]));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run(argc, argv);
  return HessaFinalize(ierr);
}
