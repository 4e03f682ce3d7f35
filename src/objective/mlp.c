/* The MLP objective: set-up, buffers, the forward cache and the objective operations.
 * The arithmetic is in mlp_kernels.c (fast, chunked, BLAS) and mlp_reference.c (naive).
 *
 * Memory (doubles, per rank), with S = sum of hidden widths, K = wmax (largest width
 * after the input), rows = chunk:
 *   forward scratch  rows (2K + w_L)
 *   chunk state      rows (S (2 + [act'' != 0]) + S + w_L (1 + [cross-entropy]))  per chunk,
 *                    once for the scratch and once per cached chunk (within cache_mb)
 *   R passes         min(rows, 8 rows / b) b (2 S + 2 K)   (at most 8 rows (2S + 2K))
 *   packs and sums   about 4 b n
 * All of it is allocated once (create, or the first product with a larger block).
 */
#include <stdio.h>
#include "mlp_impl.h"
#include <limits.h>
#include <math.h>
#include <string.h>

/* doubles of one chunk state per sample */
static size_t StatePerSample(const MLP *mlp)
{
  size_t per = 0;
  for (PetscInt l = 1; l < mlp->L; l++) per += (size_t)mlp->w[l] * (mlp->has_d2 ? 4 : 3); /* A, D1, (E), dZ */
  per += (size_t)mlp->w[mlp->L] * (mlp->arch.loss == HESSA_LOSS_CROSS_ENTROPY ? 2 : 1);   /* dZ_L, P */
  return per;
}

/* Allocate a state for m samples and point its fields into one block. */
static PetscErrorCode StateAllocate(MLP *mlp, PetscInt m, MLPState *st)
{
  double *p;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(st, sizeof *st));
  st->m = m;
  PetscCall(PetscMalloc1((size_t)m * StatePerSample(mlp) + 1, &st->mem));
  p = st->mem;
  for (PetscInt l = 1; l <= mlp->L; l++) {
    const size_t count = (size_t)m * mlp->w[l];
    if (l < mlp->L) {
      st->A[l]  = p, p += count;
      st->D1[l] = p, p += count;
      if (mlp->has_d2) st->E[l] = p, p += count;
    }
    st->dZ[l] = p, p += count;
  }
  if (mlp->arch.loss == HESSA_LOSS_CROSS_ENTROPY) st->P = p;
  PetscFunctionReturn(0);
}

/* Samples in chunk c, and its first sample. */
static void ChunkRange(const MLP *mlp, PetscInt c, PetscInt *c0, PetscInt *m)
{
  *c0 = c * mlp->rows;
  *m  = PetscMin(mlp->rows, mlp->data->n_local - *c0);
}

/* Decide whether the cached chunks hold the state at theta (*reuse), allocating the cache
 * on first use; if not, record theta as the point the cache is being rebuilt for. */
static PetscErrorCode CachePrepare(MLP *mlp, const double *theta, PetscBool *reuse)
{
  PetscFunctionBegin;
  *reuse = PETSC_FALSE;
  if (mlp->n_cached == 0) PetscFunctionReturn(0);
  if (!mlp->cache) {
    PetscCall(PetscCalloc1(mlp->n_cached, &mlp->cache));
    for (PetscInt c = 0; c < mlp->n_cached; c++) {
      PetscInt c0, m;
      ChunkRange(mlp, c, &c0, &m);
      PetscCall(StateAllocate(mlp, m, &mlp->cache[c]));
    }
    PetscCall(PetscMalloc1(mlp->n, &mlp->cache_theta));
  }
  if (mlp->cache_valid && !memcmp(theta, mlp->cache_theta, (size_t)mlp->n * sizeof(double)))
    *reuse = PETSC_TRUE;
  else {
    mlp->cache_valid = PETSC_FALSE; /* stays false if a pass fails half-way */
    PetscCall(PetscArraycpy(mlp->cache_theta, theta, mlp->n));
  }
  PetscFunctionReturn(0);
}

/* The state of chunk c at theta: the cached one, or computed into its cache slot or the scratch. */
static PetscErrorCode ChunkState(MLP *mlp, const double *theta, PetscInt c, PetscBool reuse, MLPState **st)
{
  PetscInt c0, m;

  PetscFunctionBegin;
  ChunkRange(mlp, c, &c0, &m);
  *st = c < mlp->n_cached ? &mlp->cache[c] : &mlp->scratch;
  if (reuse && c < mlp->n_cached) PetscFunctionReturn(0);
  (*st)->m = m;
  PetscCall(HessaMLPComputeState(mlp, theta, c0, *st));
  PetscFunctionReturn(0);
}

/* R-pass rows per sub-chunk for b directions, bounding the R buffers by rows * R_DIRS. */
static PetscInt RRows(const MLP *mlp, PetscInt b)
{
  return PetscMax(1, PetscMin(mlp->rows, (mlp->rows * HESSA_MLP_R_DIRS) / b));
}

/* Size the R buffers, packs and accumulators for b directions (grow only). */
static PetscErrorCode EnsureRWork(MLP *mlp, PetscInt b)
{
  const PetscInt *w = mlp->w, L = mlp->L;
  const PetscInt  need = RRows(mlp, b) * b;

  PetscFunctionBegin;
  /* BLAS dimensions are int: (sample, direction) rows and b * width columns */
  PetscCheck((double)need * mlp->wmax < INT_MAX && (double)b * PetscMax(mlp->wmax, w[0]) < INT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP, "MLP: block of %" PetscInt_FMT " directions is too large for 32-bit BLAS", b);
  if (need > mlp->rcap) {
    size_t  per = 2 * (size_t)mlp->wmax;
    double *p;
    for (PetscInt l = 1; l < L; l++) per += 2 * (size_t)w[l];
    PetscCall(PetscFree(mlp->rmem));
    PetscCall(PetscMalloc1((size_t)need * per, &mlp->rmem));
    mlp->rcap = need;
    p         = mlp->rmem;
    for (PetscInt l = 1; l < L; l++) {
      mlp->RZ[l] = p, p += (size_t)need * w[l];
      mlp->RA[l] = p, p += (size_t)need * w[l];
    }
    mlp->Rbuf[0] = p, p += (size_t)need * mlp->wmax;
    mlp->Rbuf[1] = p;
  }
  if (b > mlp->bcap) {
    size_t  total = 0;
    double *p;
    for (PetscInt l = 1; l <= L; l++) total += (size_t)b * w[l] * w[l - 1] * (l > 1 ? 4 : 2) + (size_t)b * w[l];
    PetscCall(PetscFree(mlp->bmem));
    PetscCall(PetscMalloc1(total, &mlp->bmem));
    mlp->bcap = b;
    p         = mlp->bmem;
    for (PetscInt l = 1; l <= L; l++) {
      const size_t block = (size_t)b * w[l] * w[l - 1];
      mlp->VWstack[l]    = p, p += block;
      mlp->VWcat[l]      = NULL;
      if (l > 1) mlp->VWcat[l] = p, p += block;
    }
    /* accumulators last: acc1 [b][w_l][w_{l-1}], acc2 [w_l][b][w_{l-1}], accb [b][w_l] */
    for (PetscInt l = 1; l <= L; l++) {
      const size_t block = (size_t)b * w[l] * w[l - 1];
      mlp->acc1[l]       = p, p += block;
      mlp->acc2[l]       = NULL;
      if (l > 1) mlp->acc2[l] = p, p += block;
      mlp->accb[l] = p, p += (size_t)b * w[l];
    }
  }
  PetscFunctionReturn(0);
}

/* ---- operations ---------------------------------------------------------------------- */

static PetscErrorCode MLPLoss(HessaObjective obj, const double *theta, double *loss)
{
  MLP      *mlp = (MLP *)obj->impl;
  PetscBool cached;

  PetscFunctionBegin;
  *loss = 0;
  /* use the cache if it holds theta, but never rebuild it for a loss alone */
  cached = mlp->n_cached > 0 && mlp->cache_valid && !memcmp(theta, mlp->cache_theta, (size_t)mlp->n * sizeof(double));
  for (PetscInt c = 0; c < mlp->n_chunks; c++) {
    PetscInt c0, m;
    ChunkRange(mlp, c, &c0, &m);
    if (cached && c < mlp->n_cached)
      *loss += mlp->cache[c].loss;
    else {
      PetscCall(HessaMLPForwardChunk(mlp, theta, m, mlp->data->x + (size_t)c0 * mlp->w[0], mlp->zout));
      *loss += HessaMLPChunkLoss(mlp, c0, m, mlp->zout);
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode MLPGradient(HessaObjective obj, const double *theta, double *loss, double *grad)
{
  MLP      *mlp = (MLP *)obj->impl;
  PetscBool reuse;

  PetscFunctionBegin;
  *loss = 0;
  PetscCall(PetscArrayzero(grad, obj->n));
  if (mlp->n_chunks == 0) PetscFunctionReturn(0);
  PetscCall(CachePrepare(mlp, theta, &reuse));
  for (PetscInt c = 0; c < mlp->n_chunks; c++) {
    MLPState *st;
    PetscCall(ChunkState(mlp, theta, c, reuse, &st));
    *loss += st->loss;
    PetscCall(HessaMLPAccumulateGradient(mlp, c * mlp->rows, st, grad));
  }
  if (mlp->n_cached) mlp->cache_valid = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* Hessian (hessian = true) or Gauss-Newton block product. */
static PetscErrorCode MLPCurvatureBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *HV, PetscBool hessian)
{
  MLP      *mlp = (MLP *)obj->impl;
  PetscBool reuse;
  PetscInt  r_rows;
  size_t    acc_count;

  PetscFunctionBegin;
  if (mlp->n_chunks == 0) {
    PetscCall(PetscArrayzero(HV, (size_t)b * obj->n));
    PetscFunctionReturn(0);
  }
  PetscCall(EnsureRWork(mlp, b));
  HessaMLPPackDirections(mlp, b, V, hessian);
  /* clear only the first b directions of each accumulator (a block smaller than the
     capacity must not pay for clearing the capacity) */
  for (PetscInt l = 1; l <= mlp->L; l++) {
    acc_count = (size_t)b * mlp->w[l] * mlp->w[l - 1];
    PetscCall(PetscArrayzero(mlp->acc1[l], acc_count));
    if (mlp->acc2[l]) PetscCall(PetscArrayzero(mlp->acc2[l], acc_count));
    PetscCall(PetscArrayzero(mlp->accb[l], (size_t)b * mlp->w[l]));
  }
  PetscCall(CachePrepare(mlp, theta, &reuse));
  r_rows = RRows(mlp, b);
  for (PetscInt c = 0; c < mlp->n_chunks; c++) {
    MLPState *st;
    PetscCall(ChunkState(mlp, theta, c, reuse, &st));
    for (PetscInt s0 = 0; s0 < st->m; s0 += r_rows) PetscCall(HessaMLPRPass(mlp, theta, c * mlp->rows, st, s0, PetscMin(r_rows, st->m - s0), b, V, hessian));
  }
  if (mlp->n_cached) mlp->cache_valid = PETSC_TRUE;
  HessaMLPScatterAccumulators(mlp, b, hessian, HV);
  PetscFunctionReturn(0);
}

static PetscErrorCode MLPHessianBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *HV)
{
  PetscFunctionBegin;
  PetscCall(MLPCurvatureBlock(obj, theta, b, V, HV, PETSC_TRUE));
  PetscFunctionReturn(0);
}

static PetscErrorCode MLPGGNBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *GV)
{
  PetscFunctionBegin;
  PetscCall(MLPCurvatureBlock(obj, theta, b, V, GV, PETSC_FALSE));
  PetscFunctionReturn(0);
}

static PetscErrorCode MLPDestroy(HessaObjective obj)
{
  MLP *mlp = (MLP *)obj->impl;

  PetscFunctionBegin;
  if (!mlp) PetscFunctionReturn(0);
  if (mlp->cache)
    for (PetscInt c = 0; c < mlp->n_cached; c++) PetscCall(PetscFree(mlp->cache[c].mem));
  PetscCall(PetscFree(mlp->cache));
  PetscCall(PetscFree(mlp->cache_theta));
  PetscCall(PetscFree(mlp->scratch.mem));
  PetscCall(PetscFree(mlp->fwd[0]));
  PetscCall(PetscFree(mlp->rmem));
  PetscCall(PetscFree(mlp->bmem));
  PetscCall(PetscFree(obj->impl));
  PetscFunctionReturn(0);
}

/* ---- creation and helpers ------------------------------------------------------------- */

/* The MLP context of obj, with a clear error for other objectives. */
static PetscErrorCode GetMLP(HessaObjective obj, const char caller[], MLP **mlp)
{
  PetscBool is_mlp;

  PetscFunctionBegin;
  *mlp = NULL; /* set on every path, so callers never read an uninitialised pointer */
  PetscCheck(obj, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "%s: objective is NULL", caller);
  PetscCall(PetscStrcmp(obj->type, "mlp", &is_mlp));
  PetscCheck(is_mlp, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s needs an MLP objective, got '%s'", caller, obj->type);
  *mlp = (MLP *)obj->impl;
  PetscFunctionReturn(0);
}

/* Check that the architecture fits the data; names both numbers on a mismatch. */
static PetscErrorCode CheckArchitecture(const HessaMLPArch *arch, HessaData data)
{
  const PetscInt L = arch->n_layers;

  PetscFunctionBegin;
  PetscCheck(L >= 1 && L <= HESSA_MLP_MAX_LAYERS, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP: n_layers must be in [1, %d], got %" PetscInt_FMT, HESSA_MLP_MAX_LAYERS, L);
  for (PetscInt l = 0; l <= L; l++) PetscCheck(arch->widths[l] > 0, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP: width %" PetscInt_FMT " is %" PetscInt_FMT ", must be positive", l, arch->widths[l]);
  PetscCheck((int)arch->activation >= HESSA_ACT_IDENTITY && arch->activation <= HESSA_ACT_GELU, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP: unknown activation %d", (int)arch->activation);
  PetscCheck(arch->weight_decay >= 0, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP: weight_decay must be >= 0, got %g", (double)arch->weight_decay);
  PetscCheck(arch->widths[0] == data->n_features, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP input width %" PetscInt_FMT " does not match the data's %" PetscInt_FMT " features", arch->widths[0], data->n_features);
  if (arch->loss == HESSA_LOSS_CROSS_ENTROPY) {
    PetscCheck(data->task == HESSA_TASK_CLASSIFICATION, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP: cross-entropy needs a classification data set (labels), this one is regression");
    PetscCheck(arch->widths[L] == data->n_classes, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP output width %" PetscInt_FMT " does not match the data's %" PetscInt_FMT " classes (cross-entropy)", arch->widths[L], data->n_classes);
  } else if (arch->loss == HESSA_LOSS_MSE) {
    PetscCheck(data->task == HESSA_TASK_REGRESSION, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP: mse needs a regression data set (targets y), this one is classification");
    PetscCheck(arch->widths[L] == data->n_targets, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP output width %" PetscInt_FMT " does not match the data's %" PetscInt_FMT " targets (mse)", arch->widths[L], data->n_targets);
  } else
    SETERRQ(PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP: unknown loss %d", (int)arch->loss);
  PetscCheck(data->n_local >= 0 && data->n_global >= data->n_local && data->n_global > 0, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP: the data has %" PetscInt_FMT " samples in all, %" PetscInt_FMT " here", data->n_global, data->n_local);
  if (data->n_local > 0) {
    PetscCheck(data->x, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "MLP: the data has %" PetscInt_FMT " local samples but no features", data->n_local);
    if (arch->loss == HESSA_LOSS_CROSS_ENTROPY) {
      PetscCheck(data->labels, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "MLP: the data has no labels");
      for (PetscInt i = 0; i < data->n_local; i++)
        PetscCheck(data->labels[i] >= 0 && data->labels[i] < data->n_classes, PETSC_COMM_SELF, HESSA_ERR_INPUT, "MLP: label %d of sample %" PetscInt_FMT " is outside [0, %" PetscInt_FMT ")", data->labels[i], data->first + i, data->n_classes);
    } else
      PetscCheck(data->y, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "MLP: the data has no targets");
  }
  PetscFunctionReturn(0);
}

/* HessaMLPCreate - see objective.h. Not collective. Inputs: arch (copied; chunk <= 0 means
 * 1000 samples, cache_mb < 0 means 512 MB, cache_mb = 0 disables the cache), data (the
 * local shard, not owned; may be empty). Output: *obj of type "mlp" with the parameter
 * table "layers.K.weight" [out][in], "layers.K.bias" [out], n_samples = data->n_global. */
PetscErrorCode HessaMLPCreate(const HessaMLPArch *arch, HessaData data, HessaObjective *obj)
{
  MLP     *mlp;
  int64_t  n = 0;
  PetscInt L;
  size_t   budget, used = 0;
  char     widths[256] = "";

  PetscFunctionBegin;
  PetscCheck(arch && data && obj, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "HessaMLPCreate: NULL argument");
  PetscCall(CheckArchitecture(arch, data));
  L = arch->n_layers;
  for (PetscInt l = 1; l <= L; l++) n += (int64_t)arch->widths[l] * (arch->widths[l - 1] + 1);
  PetscCheck(n < PETSC_MAX_INT, PETSC_COMM_SELF, PETSC_ERR_SUP, "MLP: %lld parameters need 64-bit PetscInt", (long long)n);
  PetscCall(HessaObjectiveCreateEmpty("mlp", (PetscInt)n, obj));
  PetscCall(PetscNew(&mlp));
  (*obj)->impl         = mlp;
  (*obj)->ops.destroy  = MLPDestroy;
  (*obj)->data         = data;
  (*obj)->n_samples    = data->n_global;
  (*obj)->weight_decay = arch->weight_decay; /* added by the operator layer, not here */

  mlp->arch = *arch;
  if (mlp->arch.chunk <= 0) mlp->arch.chunk = 1000;
  if (mlp->arch.cache_mb < 0) mlp->arch.cache_mb = 512;
  mlp->L      = L;
  mlp->n      = (PetscInt)n;
  mlp->data   = data;
  mlp->has_d2 = (arch->activation == HESSA_ACT_IDENTITY || arch->activation == HESSA_ACT_RELU) ? PETSC_FALSE : PETSC_TRUE;
  if (L == 1) mlp->has_d2 = PETSC_FALSE; /* no hidden layer */

  /* parameter table, layer-major, torch nn.Linear order */
  PetscCall(PetscFree((*obj)->blocks));
  PetscCall(PetscCalloc1(2 * L, &(*obj)->blocks));
  (*obj)->n_blocks = 2 * L;
  n                = 0;
  for (PetscInt l = 1; l <= L; l++) {
    HessaParamBlock *bw = &(*obj)->blocks[2 * (l - 1)], *bb = bw + 1;
    mlp->w[l - 1] = arch->widths[l - 1];
    mlp->w[l]     = arch->widths[l];
    mlp->wmax     = PetscMax(mlp->wmax, arch->widths[l]);
    PetscCall(PetscSNPrintf(bw->name, sizeof bw->name, "layers.%" PetscInt_FMT ".weight", l - 1));
    bw->ndim = 2, bw->shape[0] = arch->widths[l], bw->shape[1] = arch->widths[l - 1];
    bw->offset = mlp->offW[l] = (PetscInt)n, bw->count = arch->widths[l] * arch->widths[l - 1];
    n += bw->count;
    PetscCall(PetscSNPrintf(bb->name, sizeof bb->name, "layers.%" PetscInt_FMT ".bias", l - 1));
    bb->ndim = 1, bb->shape[0] = arch->widths[l], bb->shape[1] = 1;
    bb->offset = mlp->offb[l] = (PetscInt)n, bb->count = arch->widths[l];
    n += bb->count;
  }

  /* chunks, forward scratch, and how many chunks the cache budget holds */
  mlp->rows     = PetscMax(1, PetscMin(mlp->arch.chunk, data->n_local));
  mlp->n_chunks = (data->n_local + mlp->rows - 1) / mlp->rows;
  PetscCheck((double)mlp->rows * HESSA_MLP_R_DIRS * mlp->wmax < INT_MAX && (double)mlp->rows * arch->widths[0] < INT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP, "MLP: chunk of %" PetscInt_FMT " samples is too large for 32-bit BLAS", mlp->rows);
  PetscCall(PetscMalloc1((size_t)mlp->rows * (2 * mlp->wmax + mlp->w[L]), &mlp->fwd[0]));
  mlp->fwd[1] = mlp->fwd[0] + (size_t)mlp->rows * mlp->wmax;
  mlp->zout   = mlp->fwd[1] + (size_t)mlp->rows * mlp->wmax;
  budget      = (size_t)(mlp->arch.cache_mb * 1048576.0);
  for (PetscInt c = 0; c < mlp->n_chunks; c++) {
    PetscInt c0, m;
    size_t   bytes;
    ChunkRange(mlp, c, &c0, &m);
    bytes = (size_t)m * StatePerSample(mlp) * sizeof(double);
    if (used + bytes > budget) break;
    used += bytes;
    mlp->n_cached++;
  }
  if (mlp->n_cached < mlp->n_chunks) PetscCall(StateAllocate(mlp, mlp->rows, &mlp->scratch));

  (*obj)->ops.loss          = MLPLoss;
  (*obj)->ops.gradient      = MLPGradient;
  (*obj)->ops.hessian_block = MLPHessianBlock;
  (*obj)->ops.ggn_block     = MLPGGNBlock;
  for (PetscInt l = 0; l <= L; l++) {
    size_t len = strlen(widths);
    PetscCall(PetscSNPrintf(widths + len, sizeof widths - len, "%s%" PetscInt_FMT, l ? "-" : "", arch->widths[l]));
  }
  /* snprintf, not PetscSNPrintf: PETSc's %g prints 0 as "0." */
  snprintf((*obj)->description, sizeof((*obj)->description), "mlp %s, %s, %s, n = %" PetscInt_FMT ", weight decay %g, chunk %" PetscInt_FMT ", forward cache %" PetscInt_FMT "/%" PetscInt_FMT " chunks (%.0f MB)", widths,
           HessaActivationName(arch->activation), HessaLossName(arch->loss), mlp->n, (double)arch->weight_decay, mlp->rows, mlp->n_cached, mlp->n_chunks, (double)used / 1048576.0);
  PetscFunctionReturn(0);
}

/* HessaMLPForward - z [count][w_L] = outputs of the network at theta for x [count][w_0].
 * Not collective; processes count samples in chunks; does not touch the cache. */
PetscErrorCode HessaMLPForward(HessaObjective obj, const double *theta, PetscInt count, const double *x, double *z)
{
  MLP *mlp = NULL;

  PetscFunctionBegin;
  PetscCall(GetMLP(obj, "HessaMLPForward", &mlp));
  for (PetscInt c0 = 0; c0 < count; c0 += mlp->rows) {
    PetscInt m = PetscMin(mlp->rows, count - c0);
    PetscCall(HessaMLPForwardChunk(mlp, theta, m, x + (size_t)c0 * mlp->w[0], z + (size_t)c0 * mlp->w[mlp->L]));
  }
  PetscFunctionReturn(0);
}

/* HessaMLPGetArch - the architecture with defaults applied. Not collective. */
PetscErrorCode HessaMLPGetArch(HessaObjective obj, HessaMLPArch *arch)
{
  MLP *mlp = NULL;

  PetscFunctionBegin;
  PetscCall(GetMLP(obj, "HessaMLPGetArch", &mlp));
  *arch = mlp->arch;
  PetscFunctionReturn(0);
}

/* HessaMLPTeacherTargets - see objective.h. Not collective: overwrites this rank's
 * data->y [n_local][n_targets] with the teacher's outputs at theta. Objectives already
 * built on data must call HessaMLPResetCache afterwards (the teacher's own is reset). */
PetscErrorCode HessaMLPTeacherTargets(HessaObjective teacher, const double *theta, HessaData data)
{
  MLP *mlp = NULL;

  PetscFunctionBegin;
  PetscCall(GetMLP(teacher, "HessaMLPTeacherTargets", &mlp));
  PetscCheck(data, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "HessaMLPTeacherTargets: data is NULL");
  PetscCheck(data->task == HESSA_TASK_REGRESSION, PETSC_COMM_SELF, HESSA_ERR_ARG, "teacher-student needs a regression data set (targets y)");
  PetscCheck(data->n_features == mlp->w[0], PETSC_COMM_SELF, HESSA_ERR_ARG, "teacher input width %" PetscInt_FMT " does not match the data's %" PetscInt_FMT " features", mlp->w[0], data->n_features);
  PetscCheck(data->n_targets == mlp->w[mlp->L], PETSC_COMM_SELF, HESSA_ERR_ARG, "teacher output width %" PetscInt_FMT " does not match the data's %" PetscInt_FMT " targets", mlp->w[mlp->L], data->n_targets);
  if (data->n_local == 0) PetscFunctionReturn(0);
  PetscCheck(data->x && data->y, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "teacher-student: the data has no feature or target buffer");
  PetscCall(HessaMLPForward(teacher, theta, data->n_local, data->x, data->y));
  if (mlp->data == data) mlp->cache_valid = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* HessaMLPInitialize - see objective.h. Not collective: entry i of the flat vector is a
 * function of (seed, i) only, so any rank fills any slice with the same numbers.
 * Inputs: scheme "glorot" or "he", seed, [first, first+count) within [0, n).
 * Output: theta_slice [count]. */
PetscErrorCode HessaMLPInitialize(HessaObjective obj, const char scheme[], uint64_t seed, PetscInt first, PetscInt count, double *theta_slice)
{
  MLP      *mlp;
  PetscBool glorot, he;

  PetscFunctionBegin;
  PetscCall(GetMLP(obj, "HessaMLPInitialize", &mlp));
  PetscCall(PetscStrcasecmp(scheme ? scheme : "", "glorot", &glorot));
  PetscCall(PetscStrcasecmp(scheme ? scheme : "", "he", &he));
  PetscCheck(glorot || he, PETSC_COMM_SELF, HESSA_ERR_ARG, "MLP initialisation: unknown scheme '%s' (use glorot or he)", scheme ? scheme : "(null)");
  PetscCheck(first >= 0 && count >= 0 && first + count <= obj->n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "MLP initialisation: slice [%" PetscInt_FMT ", %" PetscInt_FMT ") outside [0, %" PetscInt_FMT ")", first, first + count, obj->n);
  for (PetscInt l = 1; l <= mlp->L; l++) {
    const PetscInt fan_in = mlp->w[l - 1], fan_out = mlp->w[l];
    const PetscInt wlo = PetscMax(first, mlp->offW[l]), whi = PetscMin(first + count, mlp->offb[l]);
    const PetscInt blo = PetscMax(first, mlp->offb[l]), bhi = PetscMin(first + count, mlp->offb[l] + fan_out);
    const double   bound = sqrt(6.0 / (double)(fan_in + fan_out)), std = sqrt(2.0 / (double)fan_in);
    for (PetscInt i = wlo; i < whi; i++) theta_slice[i - first] = glorot ? bound * (2.0 * HessaRandomUniform(seed, HESSA_STREAM_MLP_INIT, (uint64_t)i) - 1.0) : std * HessaRandomNormal(seed, HESSA_STREAM_MLP_INIT, (uint64_t)i);
    for (PetscInt i = blo; i < bhi; i++) theta_slice[i - first] = 0.0;
  }
  PetscFunctionReturn(0);
}

/* HessaMLPResetCache - forget the cached forward pass. Not collective. */
PetscErrorCode HessaMLPResetCache(HessaObjective obj)
{
  MLP *mlp = NULL;

  PetscFunctionBegin;
  PetscCall(GetMLP(obj, "HessaMLPResetCache", &mlp));
  mlp->cache_valid = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* HessaMLPUseReference - switch obj's operations to the naive reference kernels or back. */
PetscErrorCode HessaMLPUseReference(HessaObjective obj, PetscBool use_reference)
{
  MLP *mlp = NULL;

  PetscFunctionBegin;
  PetscCall(GetMLP(obj, "HessaMLPUseReference", &mlp));
  mlp->use_reference     = use_reference;
  obj->ops.loss          = use_reference ? HessaMLPReferenceLoss : MLPLoss;
  obj->ops.gradient      = use_reference ? HessaMLPReferenceGradient : MLPGradient;
  obj->ops.hessian_block = use_reference ? HessaMLPReferenceHessianBlock : MLPHessianBlock;
  obj->ops.ggn_block     = use_reference ? HessaMLPReferenceGGNBlock : MLPGGNBlock;
  PetscFunctionReturn(0);
}
