/* ONNX node conformance (Debian's libonnx-testdata): for every case
 * node/test_* / model.onnx with test_data_set_0 whose single node's op hessa supports,
 * load the model with the inputs of input_*.pb (the first input batched, the others
 * constants), run the forward pass (HessaOnnxExecForward) and compare with output_0.pb
 * at float32 tolerance (any opset up to 18: a case declares the opset of its op's schema): |hessa - onnx| <= 1e-5 + 1e-4 |onnx| elementwise.
 * Prints one line per case ("ran" or "skipped: reason") and a summary; fails if any case
 * that ran disagrees or fails to run. Where a batched first input cannot work (the op
 * would move, merge or reduce the batch axis, or a constant does not broadcast against
 * the batch), every input is a constant and the loader folds the node by its kernel's
 * forward; the folded output is compared. A node with several outputs (Split) runs once per
 * output, on a copy of the model whose graph keeps that output alone (hessa runs graphs of
 * one output); a node whose first input is an integer or bool tensor (Where's condition) runs
 * with every input a constant. LayerNormalization's cases list Mean and InvStdDev as outputs
 * too: only its first output (Y) runs and is compared.
 * Usage: test_onnx_nodes [node-folder] [list-file] [required-ops]; required-ops (comma-separated)
 * replaces the ops that must run (for a folder of cases of a few ops: make_split18_cases.py). */
#define _POSIX_C_SOURCE 200809L
#include "../../src/objective/onnx_impl.h"
#include "onnx.pb-c.h"
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)
#define RTOL 1e-4
#define ATOL 1e-5
#define MAX_IO 16

static int CompareNames(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The model's single node: op type, node count, opset, output count; 0 when unreadable. */
static int ReadModelInfo(const char *path, char *op, size_t len, int *n_nodes, int64_t *opset, int *n_outputs, int *training)
{
  FILE             *f = fopen(path, "rb");
  long              size;
  uint8_t          *buf;
  Onnx__ModelProto *m;

  if (!f) return 0;
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    fclose(f);
    return 0;
  }
  fclose(f);
  m = onnx__model_proto__unpack(NULL, (size_t)size, buf);
  free(buf);
  if (!m || !m->graph) {
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return 0;
  }
  *n_nodes   = (int)m->graph->n_node;
  *n_outputs = (int)m->graph->n_output;
  *opset     = -1;
  *training  = 0;
  for (size_t i = 0; i < m->n_opset_import; i++)
    if (!m->opset_import[i]->domain || !*m->opset_import[i]->domain || !strcmp(m->opset_import[i]->domain, "ai.onnx")) *opset = m->opset_import[i]->version;
  snprintf(op, len, "%s", m->graph->n_node ? m->graph->node[0]->op_type : "");
  if (m->graph->n_node) {
    const Onnx__NodeProto *n = m->graph->node[0];
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx")) snprintf(op, len, "%s:%s", n->domain, n->op_type);
    for (size_t a = 0; a < n->n_attribute; a++)
      if (!strcmp(n->attribute[a]->name, "training_mode") && n->attribute[a]->i) *training = 1;
  }
  onnx__model_proto__free_unpacked(m, NULL);
  return 1;
}

/* A copy of the model at src whose graph keeps only output k, written to dst (a temporary
 * file); 0 when it cannot be made. */
static int WriteSingleOutputModel(const char *src, int k, const char *dst)
{
  FILE             *f = fopen(src, "rb");
  long              size;
  uint8_t          *buf, *out;
  size_t            len;
  Onnx__ModelProto *m;
  int               ok = 0;

  if (!f) return 0;
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    fclose(f);
    return 0;
  }
  fclose(f);
  m = onnx__model_proto__unpack(NULL, (size_t)size, buf);
  free(buf);
  if (!m || !m->graph || k >= (int)m->graph->n_output) {
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return 0;
  }
  {
    Onnx__ValueInfoProto *keep = m->graph->output[k];
    size_t                n    = m->graph->n_output;
    m->graph->output[k]        = m->graph->output[0];
    m->graph->output[0]        = keep;
    m->graph->n_output         = 1;
    len                        = onnx__model_proto__get_packed_size(m);
    if ((out = malloc(len + 1))) {
      onnx__model_proto__pack(m, out);
      if ((f = fopen(dst, "wb"))) {
        ok = fwrite(out, 1, len, f) == len;
        ok = (fclose(f) == 0) && ok;
      }
      free(out);
    }
    m->graph->n_output  = n; /* free what was unpacked */
    m->graph->output[0] = m->graph->output[k];
    m->graph->output[k] = keep;
  }
  onnx__model_proto__free_unpacked(m, NULL);
  return ok;
}

/* Count the files prefix_<k>.pb in dir. */
static int CountPB(const char *dir, const char *prefix)
{
  char        path[PETSC_MAX_PATH_LEN];
  struct stat sb;
  int         n = 0;
  for (;; n++) {
    snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, n);
    if (stat(path, &sb) != 0) return n;
  }
}

typedef enum { CASE_RAN, CASE_SKIPPED, CASE_FAILED } Outcome;

/* hessa's output against ONNX's, elementwise at float32 tolerance. */
static Outcome Compare(const char *op, const char *mode, const double *out, const HessaOnnxValue *expect, char *why, size_t len)
{
  int64_t worst_i = 0;
  double  worst   = 0;
  for (int64_t i = 0; i < expect->size; i++) {
    double err = fabs(out[i] - expect->value[i]) / (ATOL + RTOL * fabs(expect->value[i]));
    if (!(err <= worst)) worst = err, worst_i = i;
  }
  if (worst > 1 || !isfinite(worst)) {
    snprintf(why, len, "%s (%s): element %lld is %.9g, ONNX says %.9g", op, mode, (long long)worst_i, out[worst_i], expect->value[worst_i]);
    return CASE_FAILED;
  }
  snprintf(why, len, "%s (%s), %lld values, largest error %.2g of the tolerance", op, mode, (long long)expect->size, worst);
  return CASE_RAN;
}

static Outcome RunOutput(const char *casedir, const char *model, int k_out, char *why, size_t len);

/* Ops whose extra outputs hessa does not compute: only the first output runs. */
static int FirstOutputOnlyOp(const char *op)
{
  return !strcmp(op, "LayerNormalization");
}

/* One case: the outcome, with a reason (skipped / failed) or a summary (ran) in why; its op
 * type in op. A node with several outputs runs once per output; the worst outcome counts. */
static Outcome RunCase(const char *casedir, char *why, size_t len, char op[256])
{
  char    path[PETSC_MAX_PATH_LEN], data[PETSC_MAX_PATH_LEN], tmp[] = "/tmp/hessa_node_XXXXXX";
  int     n_nodes, n_outputs, training, fd;
  int64_t opset;
  Outcome res = CASE_RAN;

  snprintf(path, sizeof path, "%s/model.onnx", casedir);
  snprintf(data, sizeof data, "%s/test_data_set_0", casedir);
  op[0] = 0;
  if (!ReadModelInfo(path, op, 256, &n_nodes, &opset, &n_outputs, &training) || n_outputs <= 1 || n_nodes != 1 || !HessaOnnxOpFind(op) || CountPB(data, "output") != n_outputs) return RunOutput(casedir, path, 0, why, len);
  if (FirstOutputOnlyOp(op)) n_outputs = 1;
  if ((fd = mkstemp(tmp)) < 0) {
    snprintf(why, len, "%s with %d outputs: no temporary file for a single-output copy", op, n_outputs);
    return CASE_SKIPPED;
  }
  close(fd);
  for (int k = 0; k < n_outputs && res == CASE_RAN; k++) {
    if (!WriteSingleOutputModel(path, k, tmp)) {
      snprintf(why, len, "%s: cannot write a copy of the model with output %d alone", op, k);
      res = CASE_SKIPPED;
      break;
    }
    res = RunOutput(casedir, tmp, k, why, len);
  }
  if (res == CASE_RAN && n_outputs > 1) {
    size_t used = strlen(why);
    snprintf(why + used, len - used, "; each of %d outputs", n_outputs);
  }
  if (res == CASE_RAN && n_outputs == 1) {
    size_t used = strlen(why);
    snprintf(why + used, len - used, "; the first output only");
  }
  remove(tmp);
  return res;
}

/* Output k_out of one case, from the model file `model` (the case's, or a copy with that
 * output alone). */
static Outcome RunOutput(const char *casedir, const char *model, int k_out, char *why, size_t len)
{
  char                 path[PETSC_MAX_PATH_LEN], data[PETSC_MAX_PATH_LEN], op[256];
  int                  n_nodes, n_outputs, n_in, n_out, training;
  int64_t              opset;
  HessaOnnxValue       feeds[MAX_IO], expect;
  HessaOnnxLoadOptions opt    = {0};
  HessaOnnxGraph      *g      = NULL;
  HessaOnnxExec        ex     = NULL;
  HessaStatus          st     = {0};
  Outcome              res    = CASE_SKIPPED;
  double              *out    = NULL;
  int                  n_read = 0;

  memset(feeds, 0, sizeof feeds);
  memset(&expect, 0, sizeof expect);
  snprintf(path, sizeof path, "%s", model);
  snprintf(data, sizeof data, "%s/test_data_set_0", casedir);
  if (!ReadModelInfo(path, op, sizeof op, &n_nodes, &opset, &n_outputs, &training)) {
    snprintf(why, len, "unreadable model.onnx");
    return CASE_SKIPPED;
  }
  if (n_nodes != 1) {
    snprintf(why, len, "%d nodes (a single-node case is expected)", n_nodes);
    return CASE_SKIPPED;
  }
  if (!HessaOnnxOpFind(op)) {
    snprintf(why, len, "unsupported op %s", op);
    return CASE_SKIPPED;
  }
  if (opset > 18) {
    snprintf(why, len, "%s at opset %lld (hessa reads up to 18)", op, (long long)opset);
    return CASE_SKIPPED;
  }
  if (training) {
    snprintf(why, len, "%s in training mode", op);
    return CASE_SKIPPED;
  }
  n_in  = CountPB(data, "input");
  n_out = CountPB(data, "output");
  if (n_outputs != 1 || n_out <= k_out) {
    snprintf(why, len, "%s with %d outputs (hessa runs one)", op, n_outputs);
    return CASE_SKIPPED;
  }
  if (n_in < 1 || n_in > MAX_IO) {
    snprintf(why, len, "%s with %d inputs", op, n_in);
    return CASE_SKIPPED;
  }
  for (; n_read < n_in; n_read++) {
    snprintf(path, sizeof path, "%s/input_%d.pb", data, n_read);
    HessaOnnxReadTensorFile(path, &feeds[n_read], &st);
    if (st.code) {
      const char *type = strstr(st.msg, "element type ");
      if (type)
        snprintf(why, len, "%s with an input of %.*s (non-float)", op, (int)strcspn(type, ";"), type);
      else
        snprintf(why, len, "%s: input %d unreadable: %s", op, n_read, st.msg);
      goto done;
    }
  }
  snprintf(path, sizeof path, "%s/output_%d.pb", data, k_out);
  HessaOnnxReadTensorFile(path, &expect, &st);
  if (st.code) {
    snprintf(why, len, "%s: output unreadable: %s", op, st.msg);
    goto done;
  }
  if (expect.is_int) {
    snprintf(why, len, "%s with a non-float output", op);
    goto done;
  }
  if (!feeds[0].is_int && (feeds[0].ndim < 1 || feeds[0].dims[0] < 1)) {
    snprintf(why, len, "%s with a scalar or empty first input (no batch axis)", op);
    goto done;
  }
  /* the first input batched, the others constants (an integer first input: every input constant) */
  snprintf(path, sizeof path, "%s", model);
  opt.input_row_length    = feeds[0].is_int ? -1 : feeds[0].size / feeds[0].dims[0];
  opt.n_feeds             = n_in;
  opt.feeds               = feeds;
  opt.first_input_batched = 1;
  opt.opset_min           = 1; /* the case's opset is that of its op's current schema */
  if (feeds[0].is_int)
    HessaStatusSet(&st, HESSA_ERR_INPUT, "': the first input holds integers (no data rows)");
  else
    HessaOnnxGraphLoadWithOptions(path, &opt, &g, &st);
  if (st.code) {
    /* where a batched first input cannot work: every input a constant, the node folded */
    char        first[1024];
    const char *msg = strstr(st.msg, "': ");
    snprintf(first, sizeof first, "%s", msg ? msg + 3 : st.msg);
    memset(&st, 0, sizeof st);
    opt.input_row_length    = -1;
    opt.first_input_batched = 0;
    HessaOnnxGraphLoadWithOptions(path, &opt, &g, &st);
    if (st.code || g->values[g->output].kind != HESSA_ONNX_CONST || !g->values[g->output].value) {
      msg = strstr(st.msg, "': ");
      snprintf(why, len, "%s refused with a batched first input (%s) and with constant inputs (%s)", op, first, st.code ? (msg ? msg + 3 : st.msg) : "not folded");
      goto done;
    }
    const HessaOnnxValue *y = &g->values[g->output];
    if (y->size != expect.size) {
      res = CASE_FAILED;
      snprintf(why, len, "%s (constant inputs): hessa's output has %lld values, ONNX's %lld", op, (long long)y->size, (long long)expect.size);
      goto done;
    }
    res = Compare(op, "constant inputs", y->value, &expect, why, len);
    goto done;
  }
  {
    const HessaOnnxValue *y = &g->values[g->output];
    PetscInt              m = (PetscInt)feeds[0].dims[0];
    char                  msg[512];
    double                theta[1] = {0}; /* node cases have no initializers: no parameters */
    if (HessaOnnxLayoutMoved(y) && y->lay_ka == 0 && expect.value && y->lay_axis < expect.ndim && expect.dims[y->lay_axis] == m) {
      /* the layout layer moved the batch to ONNX axis p of the output (a Transpose of the
       * batched input): hessa's sample n is ONNX's out[..., n, ...] */
      int     p = y->lay_axis, r = expect.ndim;
      int64_t inner = 1, outer = 1;
      double *re = malloc((size_t)expect.size * sizeof(double) + 1);
      for (int a = 0; a < p; a++) outer *= expect.dims[a];
      for (int a = p + 1; a < r; a++) inner *= expect.dims[a];
      for (int64_t n = 0; n < m; n++)
        for (int64_t o = 0; o < outer; o++)
          for (int64_t i = 0; i < inner; i++) re[(n * outer + o) * inner + i] = expect.value[(o * m + n) * inner + i];
      free(expect.value);
      expect.value = re;
      for (int a = p; a > 0; a--) expect.dims[a] = expect.dims[a - 1];
      expect.dims[0] = m;
    }
    if (expect.ndim < 1 || expect.dims[0] != m || expect.size != (int64_t)m * y->size) {
      res = CASE_FAILED;
      snprintf(why, len, "%s: hessa's output has %lld values per sample, ONNX's %lld values for %lld samples", op, (long long)y->size, (long long)expect.size, (long long)m);
      goto done;
    }
    out = calloc((size_t)expect.size + 1, sizeof(double));
    if (HessaOnnxExecCreate(g, m, 0, &ex) || HessaOnnxExecForward(ex, theta, m, feeds[0].value, out)) {
      HessaErrorTake(msg, sizeof msg);
      res = CASE_FAILED;
      snprintf(why, len, "%s: the forward pass failed: %s", op, msg);
      goto done;
    }
    res = Compare(op, "batched first input", out, &expect, why, len);
  }
done:
  if (ex) HessaOnnxExecDestroy(&ex);
  HessaOnnxGraphDestroy(&g);
  for (int k = 0; k < n_read; k++) HessaOnnxValueClear(&feeds[k]);
  HessaOnnxValueClear(&expect);
  free(out);
  return res;
}

/* Ops whose node cases must run (not all be skipped): a change that makes the loader
 * refuse them shows here. */
static const char *default_required_ops[] = {"LayerNormalization", "ReduceMean", "ReduceSum", "Softmax", "LogSoftmax", "Pow", "Sqrt", "Exp", "Log", "Neg", "Reciprocal", "MatMul", "Where", "Slice", "Split", "Squeeze", "Unsqueeze", "Expand", "Gather"};
#define NREQUIRED_MAX 64

static PetscErrorCode Run(int argc, char **argv)
{
  int            required_ran[NREQUIRED_MAX] = {0}, n_required = 0;
  const char    *required_ops[NREQUIRED_MAX];
  char           op[256], required_list[1024];
  const char    *root  = argc > 1 ? argv[1] : "/usr/include/onnx/backend/test/data/node";
  const char    *list  = argc > 2 ? argv[2] : NULL;
  DIR           *d     = opendir(root);
  char         **names = NULL, why[1200];
  int            n = 0, cap = 0, counts[3] = {0, 0, 0};
  FILE          *lf = NULL;
  struct dirent *e;

  PetscFunctionBegin;
  if (argc > 3) { /* the ops of this folder's cases, comma-separated */
    snprintf(required_list, sizeof required_list, "%s", argv[3]);
    for (char *save = NULL, *tok = strtok_r(required_list, ",", &save); tok && n_required < NREQUIRED_MAX; tok = strtok_r(NULL, ",", &save)) required_ops[n_required++] = tok;
  } else
    for (size_t r = 0; r < sizeof default_required_ops / sizeof default_required_ops[0]; r++) required_ops[n_required++] = default_required_ops[r];
  CHECK(d, "cannot open the ONNX node test folder %s (package libonnx-testdata)", root);
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "test_", 5)) continue;
    if (n == cap) {
      cap   = cap ? 2 * cap : 1024;
      names = realloc(names, (size_t)cap * sizeof *names);
      CHECK(names, "out of memory");
    }
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  CHECK(n > 0, "no test_* case in %s", root);
  qsort(names, (size_t)n, sizeof *names, CompareNames);
  if (list) CHECK(lf = fopen(list, "w"), "cannot write %s", list);
  for (int k = 0; k < n; k++) {
    char    dir[PETSC_MAX_PATH_LEN];
    Outcome o;
    snprintf(dir, sizeof dir, "%s/%s", root, names[k]);
    o = RunCase(dir, why, sizeof why, op);
    counts[o]++;
    for (int r = 0; r < n_required; r++)
      if (o == CASE_RAN && !strcmp(op, required_ops[r])) required_ran[r]++;
    /* the listing: every case, ran or skipped with the reason (ctest shows it with -V) */
    printf("%s: %s: %s\n", names[k], o == CASE_RAN ? "ran" : o == CASE_FAILED ? "FAILED" : "skipped", why);
    if (lf) fprintf(lf, "%s: %s: %s\n", names[k], o == CASE_RAN ? "ran" : o == CASE_FAILED ? "FAILED" : "skipped", why);
    free(names[k]);
  }
  free(names);
  if (lf) fclose(lf);
  printf("onnx node conformance: %d cases ran and agree, %d failed, %d skipped%s%s\n", counts[CASE_RAN], counts[CASE_FAILED], counts[CASE_SKIPPED], list ? "; every case with its reason in " : "", list ? list : "");
  CHECK(counts[CASE_FAILED] == 0, "%d ONNX node cases disagree or fail (listed above)", counts[CASE_FAILED]);
  CHECK(counts[CASE_RAN] > 0, "no ONNX node case ran");
  for (int r = 0; r < n_required; r++) CHECK(required_ran[r] > 0, "no ONNX node case of %s ran (each is listed above with the reason it was skipped)", required_ops[r]);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run(argc, argv);
  return HessaFinalize(ierr);
}
