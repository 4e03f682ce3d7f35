/* The ONNX executor: runs a loaded HessaOnnxGraph (onnx_impl.h) over chunks of samples
 * and builds the "onnx" objective (loss, gradient, Hessian and Gauss-Newton blocks).
 *
 * Passes at a point theta
 *   parameter phase  nodes with no batched input and no batched output (phase 0; a node
 *                    that expands a parameter to the batch is in the sample phase) run
 *                    once per theta with m = 1:
 *                    values (forward), tangents (jvp, all b directions at once) and, after
 *                    every chunk, their backward and sot with the adjoints summed over the
 *                    shard;
 *   per chunk        forward (every batched runtime value), the loss at the output and its
 *                    adjoint, backward (first-order adjoints of the batched values; the
 *                    adjoints of non-batched values are summed over the chunks);
 *   per direction    jvp (tangent rows m*bg, bg <= 8 directions at a time), the loss Hessian
 *   group            times the output tangent (R-loss), R-backward (backward with nb = bg)
 *                    plus, for the Hessian, every node's sot with the first-order adjoint.
 *   Parameter adjoints land in [b][size] accumulators per non-batched differentiable value
 *   and are copied into HV [b][n] at each PARAM value's offset.
 *
 * The point (what is kept while theta does not change): theta itself, the parameter-phase
 * values, the loss, the first-order adjoints of non-batched values summed over the shard
 * (the gradient among them), and the state (values, adjoints, aux) of the first chunks
 * that fit in cache_mb. A product at the point recomputes only the chunks not cached.
 * Forward-only passes (a loss at another theta, HessaOnnxExecForward) use their own
 * parameter-phase buffers, so they do not disturb the point.
 *
 * Memory (doubles), with S = sum of per-sample sizes of batched runtime values, D = that of
 * the differentiable ones, X = aux per sample, Q = sizes of non-batched differentiable values
 * (theta and parameter-phase values), rows = chunk:
 *   chunk state    rows (S + D + X), once as scratch and once per cached chunk;
 *   tangents       2 T D, T = 8 rows (sample, direction) rows (tangents and R-adjoints of a
 *                  direction group), or fewer within -hessa_onnx_tangent_mb (256 MB): the R
 *                  passes then run over T / 8 samples of the chunk at a time;
 *   directions     3 b Q (tangents, R-adjoints, and the summed first-order adjoints) + 2 Q;
 *   scratch slots  what the kernels ask for (im2col, packs), grown on first use.
 * Everything is allocated at create or on the first product with a larger block.
 */
#include "onnx_impl.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HESSA_ONNX_R_DIRS 8        /* directions per jvp / R-backward pass: tangents hold rows * 8 rows */
#define HESSA_ONNX_TANGENT_MB 256  /* default cap of the tangent and R-adjoint buffers (-hessa_onnx_tangent_mb) */
#define HESSA_ONNX_SCRATCH_SLOTS 8 /* independent scratch buffers a kernel may hold at once */

typedef struct {
  PetscInt m;    /* samples */
  double   loss; /* sum of the chunk's per-sample losses */
  double **val;  /* [n_values] batched runtime values [m][size] (the input points into the data) */
  double **adj;  /* [n_values] batched differentiable values: first-order adjoints [m][size] */
  double **aux;  /* [n_nodes] sample-phase nodes: [m * aux_per_sample] */
  double  *mem;
} ChunkState;

typedef struct {
  double **val; /* [n_values] non-batched values: PARAM -> theta, CONST -> its data, phase-0 runtime -> own [size] */
  double **aux; /* [n_nodes] phase-0 nodes: [aux_per_sample] */
  double  *mem;
} ParamState;

typedef struct {
  void  *p;
  size_t bytes;
} ScratchSlot;

struct _p_HessaOnnxExec {
  const HessaOnnxGraph *g;
  PetscInt              rows;     /* samples per chunk */
  PetscReal             cache_mb; /* budget of the forward cache */
  PetscInt              n;        /* parameters */
  int                  *phase;    /* [n_nodes] 0: parameter phase, 1: sample phase */
  PetscLogEvent        *event;    /* [n_nodes] the log event of the node's op type */
  size_t                state_per_sample;

  ParamState pt, fo; /* parameter phase at the point; for forward-only passes */
  double   **adj1;   /* [n_values] non-batched differentiable: first-order adjoint summed over the shard [size] */
  double    *adj1_mem;

  PetscInt   bcap; /* directions ptan/padj hold */
  double   **ptan; /* [n_values] non-batched differentiable: tangents [bcap][size] */
  double   **padj; /* [n_values] non-batched differentiable: R-adjoints [bcap][size] */
  double    *bmem;
  double   **tan;  /* [n_values] batched differentiable: tangents [rows*8][size] */
  double   **radj; /* [n_values] batched differentiable: R-adjoints [rows*8][size] */
  double    *rmem;
  PetscInt   trows; /* (sample, direction) rows the tangent buffers hold: rows * 8, or fewer within HESSA_ONNX_TANGENT_MB */
  ChunkState view;  /* rows [s0, s0 + r) of a chunk state (pointers only) for the R passes */

  ChunkState  scratch; /* chunks that are not cached, forward-only passes */
  PetscInt    n_local, n_chunks, n_cached;
  ChunkState *cache; /* [n_cached], allocated on first use */
  double     *theta; /* [n] the point */
  PetscBool   point_valid;
  double      point_loss;
  double      cache_bytes;

  ScratchSlot slots[HESSA_ONNX_SCRATCH_SLOTS];

  /* kernel argument arrays (max inputs / outputs of a node) */
  const double **kx, **ktx, **kdy;
  double       **ky, **kty, **kdx;
};

static PetscErrorCode RegisterEvents(HessaOnnxExec ex);

/* ---- scratch ------------------------------------------------------------------------------- */

/* HessaOnnxScratch - scratch memory of at least `bytes` for a kernel, from slot `slot` of the
 * executor (scratch_owner of the kernel call). Not collective. The contents are not kept when
 * the slot grows; valid until the next call with the same owner and slot. NULL when the
 * memory is not available or the slot does not exist. */
void *HessaOnnxScratch(void *scratch_owner, size_t bytes, int slot)
{
  HessaOnnxExec ex = (HessaOnnxExec)scratch_owner;
  ScratchSlot  *s;

  if (!ex || slot < 0 || slot >= HESSA_ONNX_SCRATCH_SLOTS) return NULL;
  s = &ex->slots[slot];
  if (bytes > s->bytes || !s->p) {
    free(s->p);
    s->bytes = bytes > 64 ? bytes : 64;
    s->p     = malloc(s->bytes);
    if (!s->p) s->bytes = 0;
  }
  return s->p;
}

/* ---- set-up -------------------------------------------------------------------------------- */

static int IsBatchedDiff(const HessaOnnxValue *v)
{
  return v->batched && v->differentiable;
}
static int IsParamDiff(const HessaOnnxValue *v)
{
  return !v->batched && v->differentiable;
}

/* Point the fields of a chunk state for m samples into one allocation. */
static PetscErrorCode StateAllocate(HessaOnnxExec ex, PetscInt m, ChunkState *st)
{
  const HessaOnnxGraph *g = ex->g;
  double               *p;

  PetscFunctionBegin;
  st->m = m;
  PetscCall(PetscCalloc1(g->n_values, &st->val));
  PetscCall(PetscCalloc1(g->n_values, &st->adj));
  PetscCall(PetscCalloc1(g->n_nodes, &st->aux));
  PetscCall(PetscMalloc1((size_t)m * ex->state_per_sample + 1, &st->mem));
  p = st->mem;
  for (int v = 0; v < g->n_values; v++) {
    const HessaOnnxValue *val = &g->values[v];
    if (!val->batched || val->kind != HESSA_ONNX_RUNTIME) continue;
    st->val[v] = p, p += (size_t)m * val->size;
    if (val->differentiable) st->adj[v] = p, p += (size_t)m * val->size;
  }
  for (int k = 0; k < g->n_nodes; k++)
    if (ex->phase[k] == 1 && g->nodes[k].aux_per_sample) st->aux[k] = p, p += (size_t)m * g->nodes[k].aux_per_sample;
  PetscFunctionReturn(0);
}

static PetscErrorCode StateFree(ChunkState *st)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(st->val));
  PetscCall(PetscFree(st->adj));
  PetscCall(PetscFree(st->aux));
  PetscCall(PetscFree(st->mem));
  PetscFunctionReturn(0);
}

static PetscErrorCode ParamStateAllocate(HessaOnnxExec ex, ParamState *ps)
{
  const HessaOnnxGraph *g     = ex->g;
  size_t                total = 1;
  double               *p;

  PetscFunctionBegin;
  PetscCall(PetscCalloc1(g->n_values, &ps->val));
  PetscCall(PetscCalloc1(g->n_nodes, &ps->aux));
  for (int v = 0; v < g->n_values; v++)
    if (!g->values[v].batched && g->values[v].kind == HESSA_ONNX_RUNTIME) total += (size_t)g->values[v].size;
  for (int k = 0; k < g->n_nodes; k++)
    if (ex->phase[k] == 0) total += g->nodes[k].aux_per_sample;
  PetscCall(PetscMalloc1(total, &ps->mem));
  p = ps->mem;
  for (int v = 0; v < g->n_values; v++) {
    const HessaOnnxValue *val = &g->values[v];
    if (val->batched) continue;
    if (val->kind == HESSA_ONNX_RUNTIME)
      ps->val[v] = p, p += (size_t)val->size;
    else if (val->kind == HESSA_ONNX_CONST)
      ps->val[v] = val->value; /* integer constants: NULL (kernels read ivalue) */
  }
  for (int k = 0; k < g->n_nodes; k++)
    if (ex->phase[k] == 0 && g->nodes[k].aux_per_sample) ps->aux[k] = p, p += g->nodes[k].aux_per_sample;
  PetscFunctionReturn(0);
}

static PetscErrorCode ParamStateFree(ParamState *ps)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(ps->val));
  PetscCall(PetscFree(ps->aux));
  PetscCall(PetscFree(ps->mem));
  PetscFunctionReturn(0);
}

/* Check what the executor relies on (the loader guarantees it; hand-built graphs in tests may not). */
static PetscErrorCode CheckGraph(const HessaOnnxGraph *g, PetscInt rows)
{
  PetscInt covered = 0;

  PetscFunctionBegin;
  PetscCheck(g->input >= 0 && g->input < g->n_values && g->values[g->input].kind == HESSA_ONNX_INPUT && g->values[g->input].batched, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: the graph has no batched data input", g->path);
  PetscCheck(g->output >= 0 && g->output < g->n_values && g->values[g->output].kind == HESSA_ONNX_RUNTIME && g->values[g->output].batched, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "%s: the graph's output must be computed from the data input (one row per sample)", g->path);
  for (int v = 0; v < g->n_values; v++) {
    const HessaOnnxValue *val = &g->values[v];
    PetscCheck(val->size >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: value '%s' has a negative size", g->path, val->name);
    PetscCheck((double)rows * HESSA_ONNX_R_DIRS * (double)val->size < INT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP,
               "%s: value '%s' holds %lld doubles per sample: a chunk of %" PetscInt_FMT " samples with %d directions exceeds 32-bit BLAS; use a smaller -hessa_model_chunk", g->path, val->name, (long long)val->size, rows, HESSA_ONNX_R_DIRS);
    PetscCheck(!(val->kind == HESSA_ONNX_CONST && !val->batched && !val->is_int && val->size > 0 && !val->value), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: constant '%s' has no data", g->path, val->name);
  }
  for (int k = 0; k < g->n_param_values; k++) {
    const HessaOnnxValue *val = &g->values[g->param_values[k]];
    PetscCheck(val->kind == HESSA_ONNX_PARAM && !val->batched && val->differentiable && val->offset == covered, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: parameter '%s' is not stored at offset %" PetscInt_FMT " of theta", g->path, val->name,
               covered);
    covered += (PetscInt)val->size;
  }
  PetscCheck(covered == g->n_params, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: the parameters hold %" PetscInt_FMT " values, theta has %" PetscInt_FMT, g->path, covered, g->n_params);
  for (int k = 0; k < g->n_nodes; k++) {
    const HessaOnnxNode *nd      = &g->nodes[k];
    int                  batched = 0;
    PetscCheck(nd->op && nd->op->forward && nd->op->backward && nd->op->jvp, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: node #%d (%s) has no kernels", g->path, k, nd->op_type);
    for (int i = 0; i < nd->n_in; i++) {
      PetscCheck(nd->in[i] < g->n_values, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: node #%d (%s): input %d out of range", g->path, k, nd->op_type, i);
      if (nd->in[i] >= 0 && g->values[nd->in[i]].batched) batched = 1;
    }
    for (int o = 0; o < nd->n_out; o++) {
      PetscCheck(nd->out[o] >= 0 && nd->out[o] < g->n_values && g->values[nd->out[o]].kind == HESSA_ONNX_RUNTIME, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: node #%d (%s): output %d is not a runtime value", g->path, k, nd->op_type, o);
      /* a node with batched inputs has batched outputs; one without may expand to the batch
         (Expand of a parameter), then every output is batched */
      PetscCheck(g->values[nd->out[o]].batched == (batched || g->values[nd->out[0]].batched), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: node #%d (%s): output '%s' is %sbatched but the node has %sbatched inputs", g->path, k, nd->op_type,
                 g->values[nd->out[o]].name, batched ? "not " : "", batched ? "" : "no ");
    }
  }
  PetscFunctionReturn(0);
}

/* HessaOnnxExecCreate - see onnx_impl.h. Not collective. Inputs: g (checked, not owned; must
 * outlive the executor), chunk (samples per chunk, >= 1), cache_mb (forward-cache budget; 0:
 * none). Option: -hessa_onnx_tangent_mb (256): cap of the tangent buffers of the products.
 * Output: *ex with its chunk buffers. The number of local samples (for the cache) is
 * set by the objective; HessaOnnxExecForward needs none. */
PetscErrorCode HessaOnnxExecCreate(const HessaOnnxGraph *g, PetscInt chunk, PetscReal cache_mb, HessaOnnxExec *ex)
{
  HessaOnnxExec e;
  int           max_in = 1, max_out = 1;
  size_t        per = 0, dsz = 0, qsz = 0;
  double       *p;
  PetscReal     tangent_mb = HESSA_ONNX_TANGENT_MB;

  PetscFunctionBegin;
  PetscCheck(g && ex, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "HessaOnnxExecCreate: NULL argument");
  PetscCheck(chunk >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "HessaOnnxExecCreate: chunk must be >= 1, got %" PetscInt_FMT, chunk);
  PetscCall(CheckGraph(g, chunk));
  PetscCall(PetscNew(&e));
  e->g        = g;
  e->rows     = chunk;
  e->cache_mb = cache_mb < 0 ? 0 : cache_mb;
  e->n        = g->n_params;
  PetscCall(PetscMalloc1(g->n_nodes + 1, &e->phase));
  PetscCall(PetscMalloc1(g->n_nodes + 1, &e->event));
  for (int k = 0; k < g->n_nodes; k++) {
    const HessaOnnxNode *nd = &g->nodes[k];
    /* the sample phase: a batched input, or a batched output of no batched input (Expand of a
       parameter to the batch: it reads the parameter and adds every sample's adjoint into its own) */
    e->phase[k] = nd->n_out > 0 && g->values[nd->out[0]].batched;
    for (int i = 0; i < nd->n_in; i++)
      if (nd->in[i] >= 0 && g->values[nd->in[i]].batched) e->phase[k] = 1;
    if (e->phase[k] == 1) per += nd->aux_per_sample;
    max_in  = PetscMax(max_in, nd->n_in);
    max_out = PetscMax(max_out, nd->n_out);
  }
  for (int v = 0; v < g->n_values; v++) {
    const HessaOnnxValue *val = &g->values[v];
    if (val->batched && val->kind == HESSA_ONNX_RUNTIME) per += (size_t)val->size * (val->differentiable ? 2 : 1);
    if (IsBatchedDiff(val)) dsz += (size_t)val->size;
    if (IsParamDiff(val)) qsz += (size_t)val->size;
  }
  e->state_per_sample = per;
  PetscCall(ParamStateAllocate(e, &e->pt));
  PetscCall(ParamStateAllocate(e, &e->fo));
  PetscCall(StateAllocate(e, chunk, &e->scratch));
  PetscCall(PetscCalloc1(g->n_values, &e->adj1));
  PetscCall(PetscMalloc1(qsz + 1, &e->adj1_mem));
  p = e->adj1_mem;
  for (int v = 0; v < g->n_values; v++)
    if (IsParamDiff(&g->values[v])) e->adj1[v] = p, p += g->values[v].size;
  PetscCall(PetscCalloc1(g->n_values, &e->ptan));
  PetscCall(PetscCalloc1(g->n_values, &e->padj));
  PetscCall(PetscCalloc1(g->n_values, &e->tan));
  PetscCall(PetscCalloc1(g->n_values, &e->radj));
  /* tangents and R-adjoints of a direction group: rows * 8 (sample, direction) rows, or fewer
     within the cap (the R passes then take fewer samples at a time; a CNN's activations
     would otherwise need gigabytes at the default chunk) */
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-hessa_onnx_tangent_mb", &tangent_mb, NULL));
  e->trows = chunk * HESSA_ONNX_R_DIRS;
  if (2.0 * (double)e->trows * (double)dsz * sizeof(double) > tangent_mb * 1048576.0) e->trows = PetscMax(HESSA_ONNX_R_DIRS, (PetscInt)(tangent_mb * 1048576.0 / (2.0 * (double)dsz * sizeof(double))));
  PetscCall(PetscMalloc1(2 * (size_t)e->trows * dsz + 1, &e->rmem));
  PetscCall(PetscCalloc1(g->n_values, &e->view.val));
  PetscCall(PetscCalloc1(g->n_values, &e->view.adj));
  PetscCall(PetscCalloc1(g->n_nodes, &e->view.aux));
  p = e->rmem;
  for (int v = 0; v < g->n_values; v++) {
    if (!IsBatchedDiff(&g->values[v])) continue;
    e->tan[v]  = p, p += (size_t)e->trows * g->values[v].size;
    e->radj[v] = p, p += (size_t)e->trows * g->values[v].size;
  }
  PetscCall(PetscMalloc1(g->n_params + 1, &e->theta));
  PetscCall(PetscCalloc1(max_in, &e->kx));
  PetscCall(PetscCalloc1(max_in, &e->ktx));
  PetscCall(PetscCalloc1(max_in, &e->kdx));
  PetscCall(PetscCalloc1(max_out, &e->ky));
  PetscCall(PetscCalloc1(max_out, &e->kty));
  PetscCall(PetscCalloc1(max_out, &e->kdy));
  PetscCall(RegisterEvents(e));
  *ex = e;
  PetscFunctionReturn(0);
}

/* The local shard has n_local samples: chunks and how many of them the cache holds. */
static PetscErrorCode ExecSetSamples(HessaOnnxExec ex, PetscInt n_local)
{
  const double budget = ex->cache_mb * 1048576.0;

  PetscFunctionBegin;
  PetscCheck(!ex->cache, PETSC_COMM_SELF, PETSC_ERR_ORDER, "ExecSetSamples: the cache is already in use");
  ex->n_local     = n_local;
  ex->n_chunks    = (n_local + ex->rows - 1) / ex->rows;
  ex->n_cached    = 0;
  ex->cache_bytes = 0;
  for (PetscInt c = 0; c < ex->n_chunks; c++) {
    const PetscInt m     = PetscMin(ex->rows, n_local - c * ex->rows);
    const double   bytes = (double)m * (double)ex->state_per_sample * sizeof(double);
    if (ex->cache_bytes + bytes > budget) break;
    ex->cache_bytes += bytes;
    ex->n_cached++;
  }
  ex->point_valid = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* HessaOnnxExecDestroy - free the executor (not the graph). Not collective. */
PetscErrorCode HessaOnnxExecDestroy(HessaOnnxExec *ex)
{
  HessaOnnxExec e;

  PetscFunctionBegin;
  if (!ex || !*ex) PetscFunctionReturn(0);
  e = *ex;
  if (e->cache)
    for (PetscInt c = 0; c < e->n_cached; c++) PetscCall(StateFree(&e->cache[c]));
  PetscCall(PetscFree(e->cache));
  PetscCall(StateFree(&e->scratch));
  PetscCall(ParamStateFree(&e->pt));
  PetscCall(ParamStateFree(&e->fo));
  PetscCall(PetscFree(e->adj1));
  PetscCall(PetscFree(e->adj1_mem));
  PetscCall(PetscFree(e->ptan));
  PetscCall(PetscFree(e->padj));
  PetscCall(PetscFree(e->bmem));
  PetscCall(PetscFree(e->tan));
  PetscCall(PetscFree(e->radj));
  PetscCall(PetscFree(e->rmem));
  PetscCall(StateFree(&e->view));
  PetscCall(PetscFree(e->theta));
  PetscCall(PetscFree(e->phase));
  PetscCall(PetscFree(e->event));
  for (int s = 0; s < HESSA_ONNX_SCRATCH_SLOTS; s++) free(e->slots[s].p);
  PetscCall(PetscFree(e->kx));
  PetscCall(PetscFree(e->ktx));
  PetscCall(PetscFree(e->kdx));
  PetscCall(PetscFree(e->ky));
  PetscCall(PetscFree(e->kty));
  PetscCall(PetscFree(e->kdy));
  PetscCall(PetscFree(*ex));
  PetscFunctionReturn(0);
}

/* Grow the direction accumulators to b directions. */
static PetscErrorCode EnsureBlock(HessaOnnxExec ex, PetscInt b)
{
  const HessaOnnxGraph *g = ex->g;
  size_t                q = 0;
  double               *p;

  PetscFunctionBegin;
  if (b <= ex->bcap) PetscFunctionReturn(0);
  for (int v = 0; v < g->n_values; v++)
    if (IsParamDiff(&g->values[v])) q += (size_t)g->values[v].size;
  PetscCall(PetscFree(ex->bmem));
  PetscCall(PetscMalloc1(2 * (size_t)b * q + 1, &ex->bmem));
  ex->bcap = b;
  p        = ex->bmem;
  for (int v = 0; v < g->n_values; v++) {
    if (!IsParamDiff(&g->values[v])) continue;
    ex->ptan[v] = p, p += (size_t)b * g->values[v].size;
    ex->padj[v] = p, p += (size_t)b * g->values[v].size;
  }
  PetscFunctionReturn(0);
}

/* ---- kernel calls --------------------------------------------------------------------------- */

/* PETSc log events (-log_view): one per pass and one per op type ("Onnx" + op type), so the
 * time of every kernel family shows next to hessa's product and communication events. */
typedef enum { PASS_FORWARD, PASS_BACKWARD, PASS_JVP, PASS_SOT, PASS_COUNT } OnnxPass;
static PetscLogEvent pass_events[PASS_COUNT];
#define MAX_OP_EVENTS 64
static struct {
  char          op_type[32];
  PetscLogEvent event;
} op_events[MAX_OP_EVENTS];
static int n_op_events = -1; /* -1: nothing registered yet */

static PetscErrorCode RegisterEvents(HessaOnnxExec ex)
{
  static PetscClassId classid;
  const char         *names[PASS_COUNT] = {"OnnxForward", "OnnxBackward", "OnnxJvp", "OnnxSot"};

  PetscFunctionBegin;
  if (n_op_events < 0) {
    PetscCall(PetscClassIdRegister("hessa onnx", &classid));
    for (int p = 0; p < PASS_COUNT; p++) PetscCall(PetscLogEventRegister(names[p], classid, &pass_events[p]));
    n_op_events = 0;
  }
  for (int k = 0; k < ex->g->n_nodes; k++) {
    const char *t = ex->g->nodes[k].op_type ? ex->g->nodes[k].op_type : "?";
    int         e = 0;
    while (e < n_op_events && strcmp(op_events[e].op_type, t)) e++;
    if (e == n_op_events && n_op_events < MAX_OP_EVENTS) {
      char name[64];
      snprintf(op_events[e].op_type, sizeof op_events[e].op_type, "%s", t);
      snprintf(name, sizeof name, "Onnx%.40s", t);
      PetscCall(PetscLogEventRegister(name, classid, &op_events[e].event));
      n_op_events++;
    }
    ex->event[k] = e < n_op_events ? op_events[e].event : pass_events[PASS_FORWARD];
  }
  PetscFunctionReturn(0);
}

/* Run one pass of a kernel, inside its log events. */
static PetscErrorCode KernelRun(HessaOnnxExec ex, OnnxPass pass, HessaOnnxKernel *K)
{
  const HessaOnnxOp *op                   = K->node->op;
  const int          k                    = (int)(K->node - ex->g->nodes);
  PetscErrorCode (*fn)(HessaOnnxKernel *) = pass == PASS_FORWARD ? op->forward : pass == PASS_BACKWARD ? op->backward : pass == PASS_JVP ? op->jvp : op->sot;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(pass_events[pass], 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(ex->event[k], 0, 0, 0, 0));
  PetscCall(fn(K));
  PetscCall(PetscLogEventEnd(ex->event[k], 0, 0, 0, 0));
  PetscCall(PetscLogEventEnd(pass_events[pass], 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* A kernel call on node k with m samples: values from ps (non-batched) and st (batched). */
static void KernelBegin(HessaOnnxExec ex, int k, const ParamState *ps, const ChunkState *st, PetscInt m, PetscInt nb, HessaOnnxKernel *K)
{
  const HessaOnnxGraph *g  = ex->g;
  const HessaOnnxNode  *nd = &g->nodes[k];

  memset(K, 0, sizeof *K);
  K->g             = g;
  K->node          = nd;
  K->m             = m;
  K->nb            = nb;
  K->x             = ex->kx;
  K->y             = ex->ky;
  K->tx            = ex->ktx;
  K->ty            = ex->kty;
  K->dy            = ex->kdy;
  K->dx            = ex->kdx;
  K->scratch_owner = ex;
  K->aux           = ex->phase[k] ? st->aux[k] : ps->aux[k];
  for (int i = 0; i < nd->n_in; i++) {
    const int v = nd->in[i];
    ex->kx[i]   = v < 0 ? NULL : (g->values[v].batched ? st->val[v] : ps->val[v]);
    ex->ktx[i]  = NULL;
    ex->kdx[i]  = NULL;
  }
  for (int o = 0; o < nd->n_out; o++) {
    const int v = nd->out[o];
    ex->ky[o]   = g->values[v].batched ? st->val[v] : ps->val[v];
    ex->kty[o]  = NULL;
    ex->kdy[o]  = NULL;
  }
}

/* Forward of the parameter phase at theta into ps. */
static PetscErrorCode ParamForward(HessaOnnxExec ex, const double *theta, ParamState *ps)
{
  const HessaOnnxGraph *g = ex->g;
  HessaOnnxKernel       K;

  PetscFunctionBegin;
  for (int k = 0; k < g->n_param_values; k++) {
    const int v = g->param_values[k];
    ps->val[v]  = (double *)theta + g->values[v].offset; /* read only */
  }
  for (int k = 0; k < g->n_nodes; k++) {
    if (ex->phase[k]) continue;
    KernelBegin(ex, k, ps, NULL, 1, 1, &K);
    PetscCall(KernelRun(ex, PASS_FORWARD, &K));
  }
  PetscFunctionReturn(0);
}

/* Forward of the sample phase for m samples x [m][input size] into st. */
static PetscErrorCode ChunkForward(HessaOnnxExec ex, const ParamState *ps, ChunkState *st, PetscInt m, const double *x)
{
  const HessaOnnxGraph *g = ex->g;
  HessaOnnxKernel       K;

  PetscFunctionBegin;
  st->m             = m;
  st->val[g->input] = (double *)x; /* read only */
  for (int k = 0; k < g->n_nodes; k++) {
    if (!ex->phase[k]) continue;
    KernelBegin(ex, k, ps, st, m, 1, &K);
    PetscCall(KernelRun(ex, PASS_FORWARD, &K));
  }
  PetscFunctionReturn(0);
}

/* How the loss reads the output: P positions of V logits per sample, each with a target.
 * Classification: P = 1, V = d, the sample's label. Next-token (token data): the output is
 * [N, T, V], P = T, the target of position p is data->targets[i][p] (-1: not counted). */
typedef struct {
  HessaLossKind kind;
  PetscInt      P, V;
  const int    *labels;  /* classification: [n_local] */
  const int    *targets; /* next-token: [n_local][P] */
} LossShape;

/* The target of position p of sample i (index in the shard), or -1 when it does not count. */
static inline int TargetAt(const LossShape *ls, PetscInt i, PetscInt p)
{
  return ls->targets ? ls->targets[(size_t)i * (size_t)ls->P + (size_t)p] : ls->labels[i];
}

/* Sum of the per-term losses of outputs Z [m][d] (samples first .. first+m of the shard);
 * dZ [m][d] (may be NULL) gets d loss / dZ. As the MLP: cross-entropy -log softmax(z)_y
 * per counted position (masked positions: no term, zero adjoint); MSE sum_k (z_k - y_k)^2 / d. */
static double ChunkLoss(const LossShape *ls, HessaData data, PetscInt first, PetscInt m, PetscInt d, const double *Z, double *dZ)
{
  double sum = 0;

  if (ls->kind == HESSA_LOSS_CROSS_ENTROPY) {
    const PetscInt V = ls->V;
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt p = 0; p < ls->P; p++) {
        const double *z   = Z + (size_t)i * d + (size_t)p * V;
        const int     lab = TargetAt(ls, first + i, p);
        double        mx, se = 0;
        if (lab < 0) {
          if (dZ) memset(dZ + (size_t)i * d + (size_t)p * V, 0, (size_t)V * sizeof(double));
          continue;
        }
        mx = z[0];
        for (PetscInt k = 1; k < V; k++) mx = z[k] > mx ? z[k] : mx;
        for (PetscInt k = 0; k < V; k++) se += exp(z[k] - mx);
        sum += mx + log(se) - z[lab];
        if (dZ) {
          double *gz = dZ + (size_t)i * d + (size_t)p * V;
          for (PetscInt k = 0; k < V; k++) gz[k] = exp(z[k] - mx) / se - (k == lab ? 1.0 : 0.0);
        }
      }
  } else {
    const double *y = data->y + (size_t)first * d;
    for (PetscInt i = 0; i < m; i++) {
      const double *z = Z + (size_t)i * d, *t = y + (size_t)i * d;
      double        s = 0;
      for (PetscInt k = 0; k < d; k++) {
        const double r = z[k] - t[k];
        s += r * r;
        if (dZ) dZ[(size_t)i * d + k] = 2.0 * r / (double)d;
      }
      sum += s / (double)d;
    }
  }
  return sum;
}

/* tan [m*bg][d] (output tangents) -> R-adjoints [m*bg][d] = H_loss tan per sample (first: the
 * shard index of the first sample): cross-entropy diag(p) - p p^T with p = softmax(z) per
 * counted position (zero at masked ones), MSE (2/d) I. */
static PetscErrorCode LossHessian(HessaOnnxExec ex, const LossShape *ls, PetscInt first, PetscInt m, PetscInt bg, PetscInt d, const double *Z, const double *tan, double *radj)
{
  PetscFunctionBegin;
  if (ls->kind == HESSA_LOSS_CROSS_ENTROPY) {
    const PetscInt V  = ls->V;
    double        *pp = (double *)HessaOnnxScratch(ex, (size_t)V * sizeof(double), 0); /* no kernel is running */
    PetscCheck(pp, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory for %" PetscInt_FMT " softmax probabilities", V);
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt p = 0; p < ls->P; p++) {
        const double *z  = Z + (size_t)i * d + (size_t)p * V;
        double        mx = z[0], se = 0;
        if (TargetAt(ls, first + i, p) < 0) {
          for (PetscInt j = 0; j < bg; j++) memset(radj + ((size_t)i * bg + j) * d + (size_t)p * V, 0, (size_t)V * sizeof(double));
          continue;
        }
        for (PetscInt k = 1; k < V; k++) mx = z[k] > mx ? z[k] : mx;
        for (PetscInt k = 0; k < V; k++) se += (pp[k] = exp(z[k] - mx));
        for (PetscInt k = 0; k < V; k++) pp[k] /= se;
        for (PetscInt j = 0; j < bg; j++) {
          const double *t = tan + ((size_t)i * bg + j) * d + (size_t)p * V;
          double       *r = radj + ((size_t)i * bg + j) * d + (size_t)p * V, pt = 0;
          for (PetscInt k = 0; k < V; k++) pt += pp[k] * t[k];
          for (PetscInt k = 0; k < V; k++) r[k] = pp[k] * (t[k] - pt);
        }
      }
  } else {
    const double scale = 2.0 / (double)d;
    const size_t count = (size_t)m * bg * d;
    for (size_t k = 0; k < count; k++) radj[k] = scale * tan[k];
  }
  PetscFunctionReturn(0);
}

/* Backward of the sample phase (nb = 1) from st->adj[output]: first-order adjoints of every
 * batched value; with sum_params the adjoints of non-batched values are added into ex->adj1. */
static PetscErrorCode ChunkBackward(HessaOnnxExec ex, const ParamState *ps, ChunkState *st, PetscBool sum_params)
{
  const HessaOnnxGraph *g = ex->g;
  HessaOnnxKernel       K;

  PetscFunctionBegin;
  for (int v = 0; v < g->n_values; v++)
    if (st->adj[v] && v != g->output) PetscCall(PetscArrayzero(st->adj[v], (size_t)st->m * g->values[v].size));
  for (int k = g->n_nodes - 1; k >= 0; k--) {
    const HessaOnnxNode *nd   = &g->nodes[k];
    int                  want = 0;
    if (!ex->phase[k]) continue;
    KernelBegin(ex, k, ps, st, st->m, 1, &K);
    for (int o = 0; o < nd->n_out; o++) ex->kdy[o] = st->adj[nd->out[o]];
    for (int i = 0; i < nd->n_in; i++) {
      const int v = nd->in[i];
      if (v < 0 || !g->values[v].differentiable) continue;
      ex->kdx[i] = g->values[v].batched ? st->adj[v] : (sum_params ? ex->adj1[v] : NULL);
      if (ex->kdx[i]) want = 1;
    }
    if (want) PetscCall(KernelRun(ex, PASS_BACKWARD, &K));
  }
  PetscFunctionReturn(0);
}

/* Tangent of input i of node k for directions j0 .. j0+bg (NULL: constant). */
static const double *InputTangent(HessaOnnxExec ex, const HessaOnnxNode *nd, int i, PetscInt j0)
{
  const int             v   = nd->in[i];
  const HessaOnnxValue *val = v < 0 ? NULL : &ex->g->values[v];
  if (!val || !val->differentiable) return NULL;
  return val->batched ? ex->tan[v] : ex->ptan[v] + (size_t)j0 * val->size;
}

/* R-adjoint accumulator of input i of node k for directions j0 .. (NULL: constant). */
static double *InputRAdjoint(HessaOnnxExec ex, const HessaOnnxNode *nd, int i, PetscInt j0)
{
  const int             v   = nd->in[i];
  const HessaOnnxValue *val = v < 0 ? NULL : &ex->g->values[v];
  if (!val || !val->differentiable) return NULL;
  return val->batched ? ex->radj[v] : ex->padj[v] + (size_t)j0 * val->size;
}

/* The product passes of one chunk for directions j0 .. j0+bg: jvp, R-loss, R-backward
 * (+ sot when hessian), adding the parameter-side R-adjoints into ex->padj. first: the shard
 * index of sample s0 (the loss's targets). */
static PetscErrorCode ChunkProduct(HessaOnnxExec ex, const ParamState *ps, const ChunkState *chunk, PetscInt s0, PetscInt m, const LossShape *loss, PetscInt first, PetscInt j0, PetscInt bg, PetscBool hessian)
{
  const HessaOnnxGraph *g  = ex->g;
  ChunkState           *st = &ex->view;
  HessaOnnxKernel       K;

  PetscFunctionBegin;
  /* the samples [s0, s0 + m) of the chunk: values, adjoints and aux are sample-major */
  st->m = m;
  for (int v = 0; v < g->n_values; v++) {
    st->val[v] = chunk->val[v] ? chunk->val[v] + (size_t)s0 * g->values[v].size : NULL;
    st->adj[v] = chunk->adj[v] ? chunk->adj[v] + (size_t)s0 * g->values[v].size : NULL;
  }
  for (int k = 0; k < g->n_nodes; k++) st->aux[k] = chunk->aux[k] ? chunk->aux[k] + (size_t)s0 * g->nodes[k].aux_per_sample : NULL;
  for (int k = 0; k < g->n_nodes; k++) {
    const HessaOnnxNode *nd = &g->nodes[k];
    if (!ex->phase[k] || !g->values[nd->out[0]].differentiable) continue;
    KernelBegin(ex, k, ps, st, m, bg, &K);
    for (int i = 0; i < nd->n_in; i++) ex->ktx[i] = InputTangent(ex, nd, i, j0);
    for (int o = 0; o < nd->n_out; o++) ex->kty[o] = ex->tan[nd->out[o]];
    PetscCall(KernelRun(ex, PASS_JVP, &K));
  }
  PetscCall(LossHessian(ex, loss, first, m, bg, g->values[g->output].size, st->val[g->output], ex->tan[g->output], ex->radj[g->output]));
  for (int v = 0; v < g->n_values; v++)
    if (ex->radj[v] && v != g->output) PetscCall(PetscArrayzero(ex->radj[v], (size_t)m * bg * g->values[v].size));
  for (int k = g->n_nodes - 1; k >= 0; k--) {
    const HessaOnnxNode *nd   = &g->nodes[k];
    int                  want = 0;
    if (!ex->phase[k] || !g->values[nd->out[0]].differentiable) continue;
    KernelBegin(ex, k, ps, st, m, bg, &K);
    for (int i = 0; i < nd->n_in; i++)
      if ((ex->kdx[i] = InputRAdjoint(ex, nd, i, j0))) want = 1;
    if (!want) continue;
    for (int o = 0; o < nd->n_out; o++) ex->kdy[o] = ex->radj[nd->out[o]];
    PetscCall(KernelRun(ex, PASS_BACKWARD, &K));
    if (hessian && nd->op->sot) {
      for (int i = 0; i < nd->n_in; i++) ex->ktx[i] = InputTangent(ex, nd, i, j0);
      for (int o = 0; o < nd->n_out; o++) ex->kdy[o] = st->adj[nd->out[o]];
      PetscCall(KernelRun(ex, PASS_SOT, &K));
    }
  }
  PetscFunctionReturn(0);
}

/* ---- the point and the objective passes ------------------------------------------------------- */

typedef struct {
  HessaONNXArch   arch; /* with defaults applied */
  HessaOnnxGraph *g;
  PetscBool       own_graph;
  HessaOnnxExec   ex;
  HessaData       data;
  LossShape       ls; /* how the loss reads the output */
} OnnxObjective;

/* A product or gradient with an Inf or NaN is an error, never a number handed on. */
static PetscErrorCode CheckFinite(const HessaOnnxGraph *g, const double *x, size_t n, const char what[])
{
  PetscFunctionBegin;
  for (size_t i = 0; i < n; i++) PetscCheck(isfinite(x[i]), PETSC_COMM_SELF, PETSC_ERR_FP, "%s: the %s has a non-finite entry (%g at index %zu) at this theta: the model overflows", g->path, what, x[i], i);
  PetscFunctionReturn(0);
}

/* Is the point at theta (loss, gradient, parameter-phase values, cache)? */
static PetscBool AtPoint(HessaOnnxExec ex, const double *theta)
{
  return ex->point_valid && !memcmp(theta, ex->theta, (size_t)ex->n * sizeof(double));
}

/* One pass over the shard at theta: the point (loss and first-order sums) when theta is new,
 * and with b > 0 the curvature block HV [b][n] of V [b][n] (Hessian or GGN). */
static PetscErrorCode ExecPass(OnnxObjective *oo, const double *theta, PetscInt b, const double *V, double *HV, PetscBool hessian)
{
  HessaOnnxExec         ex   = oo->ex;
  const HessaOnnxGraph *g    = oo->g;
  HessaData             data = oo->data;
  const PetscInt        d = g->values[g->output].size, nin = g->values[g->input].size;
  const PetscBool       reuse = AtPoint(ex, theta);
  HessaOnnxKernel       K;

  PetscFunctionBegin;
  if (ex->n_cached && !ex->cache) {
    PetscCall(PetscCalloc1(ex->n_cached, &ex->cache));
    for (PetscInt c = 0; c < ex->n_cached; c++) PetscCall(StateAllocate(ex, PetscMin(ex->rows, ex->n_local - c * ex->rows), &ex->cache[c]));
  }
  if (!reuse) {
    ex->point_valid = PETSC_FALSE; /* stays false if the pass fails half-way */
    PetscCall(PetscArraycpy(ex->theta, theta, ex->n));
    PetscCall(ParamForward(ex, ex->theta, &ex->pt));
    for (int v = 0; v < g->n_values; v++)
      if (ex->adj1[v]) PetscCall(PetscArrayzero(ex->adj1[v], g->values[v].size));
    ex->point_loss = 0;
  }
  if (b > 0) {
    /* tangents of the parameters and of the parameter phase, all b directions at once */
    PetscCall(EnsureBlock(ex, b));
    for (int v = 0; v < g->n_values; v++)
      if (ex->padj[v]) PetscCall(PetscArrayzero(ex->padj[v], (size_t)b * g->values[v].size));
    for (int k = 0; k < g->n_param_values; k++) {
      const HessaOnnxValue *val = &g->values[g->param_values[k]];
      for (PetscInt j = 0; j < b; j++) PetscCall(PetscArraycpy(ex->ptan[g->param_values[k]] + (size_t)j * val->size, V + (size_t)j * ex->n + val->offset, val->size));
    }
    for (int k = 0; k < g->n_nodes; k++) {
      const HessaOnnxNode *nd = &g->nodes[k];
      if (ex->phase[k] || !g->values[nd->out[0]].differentiable) continue;
      KernelBegin(ex, k, &ex->pt, NULL, 1, b, &K);
      for (int i = 0; i < nd->n_in; i++) ex->ktx[i] = InputTangent(ex, nd, i, 0);
      for (int o = 0; o < nd->n_out; o++) ex->kty[o] = ex->ptan[nd->out[o]];
      PetscCall(KernelRun(ex, PASS_JVP, &K));
    }
  }
  for (PetscInt c = 0; c < ex->n_chunks; c++) {
    const PetscInt c0 = c * ex->rows, m = PetscMin(ex->rows, ex->n_local - c0);
    ChunkState    *st = c < ex->n_cached ? &ex->cache[c] : &ex->scratch;
    if (!(reuse && c < ex->n_cached)) {
      PetscCall(ChunkForward(ex, &ex->pt, st, m, data->x + (size_t)c0 * nin));
      st->loss = ChunkLoss(&oo->ls, data, c0, m, d, st->val[g->output], st->adj[g->output]);
      PetscCheck(isfinite(st->loss), PETSC_COMM_SELF, PETSC_ERR_FP, "%s: the loss of samples %" PetscInt_FMT "..%" PetscInt_FMT " of this rank is not finite at this theta (the model's outputs overflow or are NaN)", g->path, c0, c0 + m - 1);
      PetscCall(ChunkBackward(ex, &ex->pt, st, reuse ? PETSC_FALSE : PETSC_TRUE));
      if (!reuse) ex->point_loss += st->loss;
    }
    for (PetscInt j0 = 0; j0 < b; j0 += HESSA_ONNX_R_DIRS) {
      const PetscInt bg = PetscMin(HESSA_ONNX_R_DIRS, b - j0), r = PetscMax(1, ex->trows / bg);
      for (PetscInt s0 = 0; s0 < m; s0 += r) PetscCall(ChunkProduct(ex, &ex->pt, st, s0, PetscMin(r, m - s0), &oo->ls, c0 + s0, j0, bg, hessian));
    }
  }
  if (!reuse) {
    /* first-order backward of the parameter phase, from the sums over the shard */
    for (int k = g->n_nodes - 1; k >= 0; k--) {
      const HessaOnnxNode *nd   = &g->nodes[k];
      int                  want = 0;
      if (ex->phase[k] || !g->values[nd->out[0]].differentiable) continue;
      KernelBegin(ex, k, &ex->pt, NULL, 1, 1, &K);
      for (int o = 0; o < nd->n_out; o++) ex->kdy[o] = ex->adj1[nd->out[o]];
      for (int i = 0; i < nd->n_in; i++)
        if (nd->in[i] >= 0 && (ex->kdx[i] = ex->adj1[nd->in[i]])) want = 1;
      if (want) PetscCall(KernelRun(ex, PASS_BACKWARD, &K));
    }
    ex->point_valid = PETSC_TRUE;
  }
  if (b > 0) {
    /* R-backward (+ sot) of the parameter phase with all b directions */
    for (int k = g->n_nodes - 1; k >= 0; k--) {
      const HessaOnnxNode *nd   = &g->nodes[k];
      int                  want = 0;
      if (ex->phase[k] || !g->values[nd->out[0]].differentiable) continue;
      KernelBegin(ex, k, &ex->pt, NULL, 1, b, &K);
      for (int i = 0; i < nd->n_in; i++)
        if ((ex->kdx[i] = InputRAdjoint(ex, nd, i, 0))) want = 1;
      if (!want) continue;
      for (int o = 0; o < nd->n_out; o++) ex->kdy[o] = ex->padj[nd->out[o]];
      PetscCall(KernelRun(ex, PASS_BACKWARD, &K));
      if (hessian && nd->op->sot) {
        for (int i = 0; i < nd->n_in; i++) ex->ktx[i] = InputTangent(ex, nd, i, 0);
        for (int o = 0; o < nd->n_out; o++) ex->kdy[o] = ex->adj1[nd->out[o]];
        PetscCall(KernelRun(ex, PASS_SOT, &K));
      }
    }
    for (int k = 0; k < g->n_param_values; k++) {
      const HessaOnnxValue *val = &g->values[g->param_values[k]];
      for (PetscInt j = 0; j < b; j++) PetscCall(PetscArraycpy(HV + (size_t)j * ex->n + val->offset, ex->padj[g->param_values[k]] + (size_t)j * val->size, val->size));
    }
    PetscCall(CheckFinite(g, HV, (size_t)b * ex->n, hessian ? "Hessian-vector product" : "Gauss-Newton product"));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode ONNXLoss(HessaObjective obj, const double *theta, double *loss)
{
  OnnxObjective        *oo = (OnnxObjective *)obj->impl;
  HessaOnnxExec         ex = oo->ex;
  const HessaOnnxGraph *g  = oo->g;

  PetscFunctionBegin;
  if (AtPoint(ex, theta)) {
    *loss = ex->point_loss;
    PetscFunctionReturn(0);
  }
  /* a forward pass only: never rebuild the point for a loss alone */
  *loss = 0;
  PetscCall(ParamForward(ex, theta, &ex->fo));
  for (PetscInt c0 = 0; c0 < ex->n_local; c0 += ex->rows) {
    const PetscInt m = PetscMin(ex->rows, ex->n_local - c0);
    double         l;
    PetscCall(ChunkForward(ex, &ex->fo, &ex->scratch, m, oo->data->x + (size_t)c0 * g->values[g->input].size));
    l = ChunkLoss(&oo->ls, oo->data, c0, m, g->values[g->output].size, ex->scratch.val[g->output], NULL);
    PetscCheck(isfinite(l), PETSC_COMM_SELF, PETSC_ERR_FP, "%s: the loss of samples %" PetscInt_FMT "..%" PetscInt_FMT " of this rank is not finite at this theta (the model's outputs overflow or are NaN)", g->path, c0, c0 + m - 1);
    *loss += l;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode ONNXGradient(HessaObjective obj, const double *theta, double *loss, double *grad)
{
  OnnxObjective        *oo = (OnnxObjective *)obj->impl;
  const HessaOnnxGraph *g  = oo->g;

  PetscFunctionBegin;
  PetscCall(ExecPass(oo, theta, 0, NULL, NULL, PETSC_FALSE));
  *loss = oo->ex->point_loss;
  for (int k = 0; k < g->n_param_values; k++) {
    const HessaOnnxValue *val = &g->values[g->param_values[k]];
    PetscCall(PetscArraycpy(grad + val->offset, oo->ex->adj1[g->param_values[k]], val->size));
  }
  PetscCall(CheckFinite(g, grad, (size_t)obj->n, "gradient"));
  PetscFunctionReturn(0);
}

static PetscErrorCode ONNXHessianBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *HV)
{
  PetscFunctionBegin;
  PetscCall(ExecPass((OnnxObjective *)obj->impl, theta, b, V, HV, PETSC_TRUE));
  PetscFunctionReturn(0);
}

static PetscErrorCode ONNXGGNBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *GV)
{
  PetscFunctionBegin;
  PetscCall(ExecPass((OnnxObjective *)obj->impl, theta, b, V, GV, PETSC_FALSE));
  PetscFunctionReturn(0);
}

static PetscErrorCode ONNXDestroy(HessaObjective obj)
{
  OnnxObjective *oo = (OnnxObjective *)obj->impl;

  PetscFunctionBegin;
  if (!oo) PetscFunctionReturn(0);
  PetscCall(HessaOnnxExecDestroy(&oo->ex));
  if (oo->own_graph) HessaOnnxGraphDestroy(&oo->g);
  PetscCall(PetscFree(obj->impl));
  PetscFunctionReturn(0);
}

/* HessaOnnxExecForward - see onnx_impl.h. Not collective. Inputs: theta (n), m samples x
 * [m][input size]. Output: out [m][output size]. Uses the forward-only buffers: the point
 * and its cache are untouched. */
PetscErrorCode HessaOnnxExecForward(HessaOnnxExec ex, const double *theta, PetscInt m, const double *x, double *out)
{
  const HessaOnnxGraph *g = ex->g;
  const int64_t         d = g->values[g->output].size, nin = g->values[g->input].size;

  PetscFunctionBegin;
  PetscCall(ParamForward(ex, theta, &ex->fo));
  for (PetscInt c0 = 0; c0 < m; c0 += ex->rows) {
    const PetscInt mm = PetscMin(ex->rows, m - c0);
    PetscCall(ChunkForward(ex, &ex->fo, &ex->scratch, mm, x + (size_t)c0 * nin));
    PetscCall(PetscArraycpy(out + (size_t)c0 * d, ex->scratch.val[g->output], (size_t)mm * d));
  }
  PetscFunctionReturn(0);
}

/* ---- creation -------------------------------------------------------------------------------- */

/* Check the graph against the data and the options; a mismatch goes into st. */
/* Token data with next-token targets: the loss reads [N, T, V] logits (the same on every rank,
 * also on one without samples, where targets is NULL). */
static int NextToken(HessaData data)
{
  return data->source == HESSA_DATA_TOKENS && data->seq_target == HESSA_SEQ_NEXT_TOKEN;
}

static void CheckAgainstData(const HessaONNXArch *arch, const HessaOnnxGraph *g, HessaData data, HessaStatus *st)
{
  const HessaOnnxValue *in = &g->values[g->input], *out = &g->values[g->output];

  if (arch->loss != HESSA_LOSS_CROSS_ENTROPY && arch->loss != HESSA_LOSS_MSE)
    HessaStatusSet(st, HESSA_ERR_ARG, "ONNX model %s: unknown loss %d", g->path, (int)arch->loss);
  else if (!(arch->weight_decay >= 0))
    HessaStatusSet(st, HESSA_ERR_ARG, "ONNX model %s: weight_decay must be >= 0, got %g", g->path, (double)arch->weight_decay);
  else if (g->n_params <= 0)
    HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: the model has no parameters (no float initializer feeds a differentiable input)", g->path);
  else if (data->source == HESSA_DATA_TOKENS && in->size != data->seq_length)
    HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: the input '%s' takes sequences of %lld tokens (its context length), the data's sequences in '%s' have %" PetscInt_FMT " tokens", g->path, in->name, (long long)in->size, data->features_path,
                   data->seq_length);
  else if (in->size != data->n_features)
    HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: the input '%s' takes %lld values per sample, the data has %" PetscInt_FMT " features", g->path, in->name, (long long)in->size, data->n_features);
  else if (in->is_int && data->source != HESSA_DATA_TOKENS)
    HessaStatusSet(st, HESSA_ERR_ARG, "ONNX model %s: the input '%s' takes integer token ids; give them with -hessa_data_source tokens", g->path, in->name);
  else if (data->source == HESSA_DATA_TOKENS)
    HessaOnnxGatherCheckIds(g, data->x, data->n_local, data->first, st); /* first: its message names the id, the position and the table */
  if (st->code) return;
  if (NextToken(data) && !(out->ndim == 3 && out->dims[1] == data->seq_length))
    HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: next-token targets need logits of shape (N, %" PetscInt_FMT ", vocabulary) from the output '%s', which has %d dimensions (%lld values per sample)", g->path, data->seq_length, out->name,
                   out->ndim, (long long)out->size);

  else if (!out->differentiable)
    HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: the output '%s' does not depend on the parameters", g->path, out->name);
  else if (arch->loss == HESSA_LOSS_CROSS_ENTROPY && data->task != HESSA_TASK_CLASSIFICATION)
    HessaStatusSet(st, HESSA_ERR_ARG, "ONNX model %s: cross-entropy needs a classification data set (labels), this one is regression", g->path);
  else if (arch->loss == HESSA_LOSS_MSE && data->task != HESSA_TASK_REGRESSION)
    HessaStatusSet(st, HESSA_ERR_ARG, "ONNX model %s: mse needs a regression data set (targets y), this one is classification", g->path);
  else if (arch->loss == HESSA_LOSS_CROSS_ENTROPY && !NextToken(data) && out->size != data->n_classes)
    HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: the output '%s' has %lld values per sample, the data has %" PetscInt_FMT " classes (cross-entropy)", g->path, out->name, (long long)out->size, data->n_classes);
  else if (arch->loss == HESSA_LOSS_MSE && out->size != data->n_targets)
    HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: the output '%s' has %lld values per sample, the data has %" PetscInt_FMT " targets (mse)", g->path, out->name, (long long)out->size, data->n_targets);
  else if (data->n_local > 0 && !data->x)
    HessaStatusSet(st, PETSC_ERR_ARG_NULL, "ONNX model %s: the data has %" PetscInt_FMT " local samples but no features", g->path, data->n_local);
  else if (data->n_local > 0 && arch->loss == HESSA_LOSS_CROSS_ENTROPY && !data->labels && !NextToken(data))
    HessaStatusSet(st, PETSC_ERR_ARG_NULL, "ONNX model %s: the data has no labels", g->path);
  else if (data->n_local > 0 && arch->loss == HESSA_LOSS_MSE && !data->y)
    HessaStatusSet(st, PETSC_ERR_ARG_NULL, "ONNX model %s: the data has no targets", g->path);
  /* every local target has a logit (the local ids, not the global vocabulary: a rank whose ids
     are fine must not report anything else than the rank holding a bad one) */
  if (!st->code && NextToken(data) && data->targets)
    for (PetscInt i = 0; i < data->n_local && !st->code; i++)
      for (PetscInt t = 0; t < data->seq_length; t++) {
        const int id = data->targets[(size_t)i * (size_t)data->seq_length + (size_t)t];
        if (id < out->dims[2]) continue;
        HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: token id %d at sequence %" PetscInt_FMT ", position %" PetscInt_FMT " has no logit: the output '%s' scores %lld tokens", g->path, id, data->first + i, t + 1, out->name,
                       (long long)out->dims[2]);
        break;
      }
  if (!st->code && arch->loss == HESSA_LOSS_CROSS_ENTROPY && !NextToken(data))
    for (PetscInt i = 0; i < data->n_local; i++)
      if (data->labels[i] < 0 || data->labels[i] >= data->n_classes) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: label %d of sample %" PetscInt_FMT " is outside [0, %" PetscInt_FMT ")", g->path, data->labels[i], data->first + i, data->n_classes);
        break;
      }
}

/* HessaOnnxObjectiveCreate - see onnx_impl.h. Not collective. Inputs: arch (copied; chunk
 * <= 0: 256, cache_mb < 0: 512), g (a checked graph; owned by the objective when own_graph,
 * and then destroyed on failure too), data (the local shard, not owned). Outputs: *obj of type
 * "onnx" (NULL when st is set), *theta0 (malloc'd copy of the initializers; may be NULL). */
PetscErrorCode HessaOnnxObjectiveCreate(const HessaONNXArch *arch, HessaOnnxGraph *g, PetscBool own_graph, HessaData data, HessaObjective *obj, double **theta0, HessaStatus *st)
{
  OnnxObjective *oo;
  HessaObjective o;
  PetscInt       n_nodes_sample = 0;

  PetscFunctionBegin;
  PetscCheck(arch && g && data && obj && st, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "HessaOnnxObjectiveCreate: NULL argument");
  *obj = NULL;
  if (theta0) *theta0 = NULL;
  if (g->input >= 0 && g->input < g->n_values && g->output >= 0 && g->output < g->n_values)
    CheckAgainstData(arch, g, data, st);
  else
    HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: the graph has no input or no output", g->path);
  for (int k = 0; !st->code && k < g->n_param_values; k++) {
    const HessaOnnxValue *val = &g->values[g->param_values[k]];
    if (strlen(val->name) >= sizeof(((HessaParamBlock *)0)->name) || val->ndim > HESSA_PARAM_MAX_DIMS)
      HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: parameter '%s' has a name of more than %d characters or more than %d dimensions", g->path, val->name, (int)sizeof(((HessaParamBlock *)0)->name) - 1, HESSA_PARAM_MAX_DIMS);
  }
  if (st->code) {
    if (own_graph) HessaOnnxGraphDestroy(&g);
    PetscFunctionReturn(0);
  }
  PetscCall(HessaObjectiveCreateEmpty("onnx", g->n_params, &o));
  PetscCall(PetscNew(&oo));
  o->impl        = oo;
  o->ops.destroy = ONNXDestroy;
  oo->g          = g;
  oo->own_graph  = own_graph;
  oo->data       = data;
  oo->arch       = *arch;
  if (oo->arch.chunk <= 0) oo->arch.chunk = 256;
  if (oo->arch.cache_mb < 0) oo->arch.cache_mb = 512;
  PetscCall(PetscStrncpy(oo->arch.path, g->path, sizeof oo->arch.path));
  o->data         = data;
  o->n_samples    = HessaDataLossTerms(data); /* next-token: the predicted positions */
  oo->ls.kind     = arch->loss;
  oo->ls.labels   = data->labels;
  oo->ls.targets  = data->targets;
  oo->ls.P        = NextToken(data) ? data->seq_length : 1;
  oo->ls.V        = (PetscInt)(g->values[g->output].size / oo->ls.P);
  o->weight_decay = arch->weight_decay;
  PetscCall(HessaOnnxExecCreate(g, PetscMax(1, PetscMin(oo->arch.chunk, data->n_local)), oo->arch.cache_mb, &oo->ex));
  PetscCall(ExecSetSamples(oo->ex, data->n_local));

  /* the parameter table: ONNX names and full shapes, in theta's order */
  PetscCall(PetscFree(o->blocks));
  PetscCall(PetscCalloc1(g->n_param_values + 1, &o->blocks));
  o->n_blocks = g->n_param_values;
  for (int k = 0; k < g->n_param_values; k++) {
    const HessaOnnxValue *val = &g->values[g->param_values[k]];
    HessaParamBlock      *blk = &o->blocks[k];
    PetscCall(PetscStrncpy(blk->name, val->name, sizeof blk->name));
    blk->ndim = val->ndim;
    for (int dd = 0; dd < val->ndim; dd++) blk->shape[dd] = (PetscInt)val->dims[dd];
    blk->offset = val->offset;
    blk->count  = (PetscInt)val->size;
  }
  o->ops.loss          = ONNXLoss;
  o->ops.gradient      = ONNXGradient;
  o->ops.hessian_block = ONNXHessianBlock;
  o->ops.ggn_block     = ONNXGGNBlock;
  for (int k = 0; k < g->n_nodes; k++) n_nodes_sample += oo->ex->phase[k];
  snprintf(o->description, sizeof o->description,
           "onnx %.300s, %s, n = %" PetscInt_FMT ", %d nodes (%d per sample), weight decay %g, chunk %" PetscInt_FMT ", forward cache %" PetscInt_FMT "/%" PetscInt_FMT " chunks (%.0f MB), %" PetscInt_FMT " samples x 8 directions per R pass", g->path,
           HessaLossName(arch->loss), g->n_params, g->n_nodes, (int)n_nodes_sample, (double)arch->weight_decay, oo->ex->rows, oo->ex->n_cached, oo->ex->n_chunks, oo->ex->cache_bytes / 1048576.0, PetscMax(1, oo->ex->trows / HESSA_ONNX_R_DIRS));
  if (theta0) {
    double *t = (double *)malloc((size_t)(g->n_params > 0 ? g->n_params : 1) * sizeof(double));
    PetscCheck(t, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory for theta0 (%" PetscInt_FMT " parameters)", g->n_params);
    for (int k = 0; k < g->n_param_values; k++) {
      const HessaOnnxValue *val = &g->values[g->param_values[k]];
      if (val->value)
        memcpy(t + val->offset, val->value, (size_t)val->size * sizeof(double));
      else
        memset(t + val->offset, 0, (size_t)val->size * sizeof(double));
    }
    *theta0 = t;
  }
  *obj = o;
  PetscFunctionReturn(0);
}

/* HessaONNXCreate - see objective.h. Not collective (every rank reads the file; callers sync
 * st with HessaSyncError). Input: arch->path, loss, weight decay, chunk (<= 0: 256), cache_mb
 * (< 0: 512; 0: no cache); data: the local shard (not owned). Outputs: *obj (NULL and st set
 * on a bad file or a mismatch with the data), *theta0 (malloc'd initializers; may be NULL). */
PetscErrorCode HessaONNXCreate(const HessaONNXArch *arch, HessaData data, HessaObjective *obj, double **theta0, HessaStatus *st)
{
  HessaOnnxGraph *g = NULL;

  PetscFunctionBegin;
  PetscCheck(arch && data && obj && st, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "HessaONNXCreate: NULL argument");
  *obj = NULL;
  if (theta0) *theta0 = NULL;
  HessaOnnxGraphLoad(arch->path, data->source == HESSA_DATA_TOKENS ? -1 : data->n_features, &g, st); /* tokens: a sequence length message of its own */
  if (st->code || !g) {
    if (!st->code) HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: could not be loaded", arch->path);
    PetscFunctionReturn(0);
  }
  PetscCall(HessaOnnxObjectiveCreate(arch, g, PETSC_TRUE, data, obj, theta0, st));
  PetscFunctionReturn(0);
}

/* The ONNX context of obj, with a clear error for other objectives. */
static PetscErrorCode GetONNX(HessaObjective obj, const char caller[], OnnxObjective **oo)
{
  PetscBool is_onnx;

  PetscFunctionBegin;
  *oo = NULL;
  PetscCheck(obj, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "%s: objective is NULL", caller);
  PetscCall(PetscStrcmp(obj->type, "onnx", &is_onnx));
  PetscCheck(is_onnx, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s needs an ONNX objective, got '%s'", caller, obj->type);
  *oo = (OnnxObjective *)obj->impl;
  PetscFunctionReturn(0);
}

/* HessaONNXForward - z [count][outputs] = the graph's outputs at theta for x [count][n_features].
 * Not collective; in chunks; does not touch the forward cache. */
PetscErrorCode HessaONNXForward(HessaObjective obj, const double *theta, PetscInt count, const double *x, double *z)
{
  OnnxObjective *oo;

  PetscFunctionBegin;
  PetscCall(GetONNX(obj, "HessaONNXForward", &oo));
  PetscCall(HessaOnnxExecForward(oo->ex, theta, count, x, z));
  PetscFunctionReturn(0);
}

/* HessaONNXGetArch - the options the objective was created with, defaults applied. Not collective. */
PetscErrorCode HessaONNXGetArch(HessaObjective obj, HessaONNXArch *arch)
{
  OnnxObjective *oo;

  PetscFunctionBegin;
  PetscCall(GetONNX(obj, "HessaONNXGetArch", &oo));
  *arch = oo->arch;
  PetscFunctionReturn(0);
}
