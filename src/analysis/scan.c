/* Loss landscapes: the loss along a line or over a plane through parameter space
 * (background.md section 7; docs/landscape.md).
 *
 * The grid points are independent loss evaluations, so they are shared among groups of
 * ranks: each group sets up its own data shard, model and operator on a sub-communicator
 * and evaluates a contiguous share of the points. Every group builds the same directions
 * (random ones from the rank-independent stream, eigenvectors broadcast from the first
 * group), so the values depend on the grouping only through the order of the sums.
 */
#include <hessa/analysis.h>
#include <math.h>
#include <string.h>

const char *const HessaScanDirectionNames[] = {"checkpoints", "random", "eigenvector"};

/* HessaFilterNormalize - not collective: see analysis.h. */
PetscErrorCode HessaFilterNormalize(HessaObjective obj, const double *theta, double *d)
{
  PetscBool has_filters = PETSC_FALSE;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < obj->n_blocks; k++)
    if (obj->blocks[k].ndim >= 2) has_filters = PETSC_TRUE;
  if (!has_filters) {
    /* no filter structure: the whole vector is one filter (unit norm at theta = 0) */
    double nt = 0, nd = 0;
    for (PetscInt i = 0; i < obj->n; i++) nt += theta[i] * theta[i], nd += d[i] * d[i];
    nt = nt > 0 ? sqrt(nt) : 1.0;
    for (PetscInt i = 0; i < obj->n; i++) d[i] = nd > 0 ? d[i] * (nt / sqrt(nd)) : 0.0;
    PetscFunctionReturn(0);
  }
  for (PetscInt k = 0; k < obj->n_blocks; k++) {
    const HessaParamBlock *b = &obj->blocks[k];
    PetscInt               cols;
    if (b->ndim < 2) {
      /* biases: zero, as in Li et al.'s code (ignore='biasbn') */
      for (PetscInt i = 0; i < b->count; i++) d[b->offset + i] = 0.0;
      continue;
    }
    /* a filter is one output unit: a row of a dense weight, one output channel of a
       convolution kernel [out][in][kh][kw] */
    cols = b->count / b->shape[0];
    for (PetscInt r = 0; r < b->shape[0]; r++) {
      const double *t   = theta + b->offset + r * cols;
      double       *row = d + b->offset + r * cols;
      double        nt = 0, nd = 0;
      for (PetscInt c = 0; c < cols; c++) nt += t[c] * t[c], nd += row[c] * row[c];
      for (PetscInt c = 0; c < cols; c++) row[c] = nd > 0 ? row[c] * (sqrt(nt) / sqrt(nd)) : 0.0;
    }
  }
  PetscFunctionReturn(0);
}

/* Rank 0 reads both checkpoints' model.json; they must describe the same model. The
 * model kind is returned on every rank. */
static PetscErrorCode CheckCheckpoints(MPI_Comm comm, const HessaScanSpec *spec, char kind[64])
{
  PetscMPIInt  rank;
  HessaStatus  st = {0};
  HessaMLPArch a = {0}, b = {0};
  char         kind_b[64] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    HessaWeightsReadArch(spec->from, kind, &a, &st);
    if (!st.code) HessaWeightsReadArch(spec->to, kind_b, &b, &st);
    if (!st.code) {
      PetscBool same = (!strcmp(kind, kind_b) && a.n_layers == b.n_layers && a.activation == b.activation && a.loss == b.loss) ? PETSC_TRUE : PETSC_FALSE;
      char      desc[2][256];
      for (PetscInt i = 0; same && i <= a.n_layers; i++)
        if (a.widths[i] != b.widths[i]) same = PETSC_FALSE;
      for (int c = 0; !same && c < 2; c++) {
        const char         *k = c ? kind_b : kind;
        const HessaMLPArch *x = c ? &b : &a;
        size_t              len;
        snprintf(desc[c], sizeof desc[c], "%s", k);
        if (strcmp(k, "mlp")) continue;
        for (PetscInt i = 0; i <= x->n_layers; i++) {
          len = strlen(desc[c]);
          snprintf(desc[c] + len, sizeof desc[c] - len, "%s%" PetscInt_FMT, i ? "-" : " ", x->widths[i]);
        }
        len = strlen(desc[c]);
        snprintf(desc[c] + len, sizeof desc[c] - len, " %s %s", HessaActivationName(x->activation), HessaLossName(x->loss));
      }
      if (!same) HessaStatusSet(&st, HESSA_ERR_INPUT, "checkpoints '%s' and '%s' have different architectures: expected the same model, found %s and %s", spec->from, spec->to, desc[0], desc[1]);
    }
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscCallMPI(MPI_Bcast(kind, 64, MPI_CHAR, 0, comm));
  PetscFunctionReturn(0);
}

/* The model kind the options (or the checkpoint) describe, on every rank. */
static PetscErrorCode ModelKind(MPI_Comm comm, const HessaScanSpec *spec, char kind[64])
{
  char        weights[PETSC_MAX_PATH_LEN] = "";
  PetscMPIInt rank;
  HessaStatus st = {0};

  PetscFunctionBegin;
  if (spec->direction == HESSA_SCAN_CHECKPOINTS) {
    PetscCall(CheckCheckpoints(comm, spec, kind));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscStrncpy(kind, "mlp", 64));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-hessa_model", kind, 64, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-hessa_model_weights", weights, sizeof weights, NULL));
  if (!weights[0]) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    HessaMLPArch arch = {0};
    HessaWeightsReadArch(weights, kind, &arch, &st);
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscCallMPI(MPI_Bcast(kind, 64, MPI_CHAR, 0, comm));
  PetscFunctionReturn(0);
}

/* HessaScanDefaultGroupSize - collective: see analysis.h. */
PetscErrorCode HessaScanDefaultGroupSize(MPI_Comm comm, const HessaScanSpec *spec, PetscInt *group_size)
{
  char        kind[64];
  PetscMPIInt size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(ModelKind(comm, spec, kind));
  *group_size = strcmp(kind, "mlp") && strcmp(kind, "onnx") ? 1 : size;
  PetscFunctionReturn(0);
}

/* The largest-magnitude entry of an eigenvector is made positive, so runs agree on the sign. */
static void FixSign(PetscInt n, double *v)
{
  PetscInt imax = 0;
  for (PetscInt i = 1; i < n; i++)
    if (fabs(v[i]) > fabs(v[imax])) imax = i;
  if (n > 0 && v[imax] < 0)
    for (PetscInt i = 0; i < n; i++) v[i] = -v[i];
}

/* Directions on every rank of the group: random ones need no communication; eigenvectors
 * come from the group's operator (every group computes them, the world takes the first
 * group's, so a solver failure is raised by every group alike). */
static PetscErrorCode BuildDirections(MPI_Comm world, HessaOperator op, HessaModel model, const HessaScanSpec *spec, HessaScan *scan)
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < 2; k++) scan->eigenvalues[k] = scan->residuals[k] = NAN;
  if (spec->direction == HESSA_SCAN_RANDOM) {
    for (PetscInt k = 0; k < scan->n_dirs; k++) {
      HessaRandomFill(HESSA_RANDOM_NORMAL, spec->seed, HESSA_STREAM_LANDSCAPE + (uint64_t)k, 0, scan->n, scan->dirs[k]);
      PetscCall(HessaFilterNormalize(model->obj, scan->theta, scan->dirs[k]));
    }
  } else if (spec->direction == HESSA_SCAN_EIGENVECTOR) {
    HessaExtremes ext;
    PetscInt      first = scan->n_dirs == 2 ? 0 : spec->index, need = first + scan->n_dirs;
    PetscCheck(need <= op->n_op, op->comm, PETSC_ERR_ARG_OUTOFRANGE, "eigenvector %" PetscInt_FMT " requested but the operator has only %" PetscInt_FMT " eigenvalues", need - 1, op->n_op);
    PetscCall(HessaSpectrumExtremes(op, spec->which, need, spec->eps_tol, PETSC_TRUE, &ext));
    PetscCheck(ext.nconv >= need, op->comm, PETSC_ERR_NOT_CONVERGED, "the eigensolver returned %" PetscInt_FMT " of the %" PetscInt_FMT " eigenvectors needed for the scan", ext.nconv, need);
    for (PetscInt k = 0; k < scan->n_dirs; k++) {
      PetscCall(HessaOperatorEmbed(op, ext.vectors[first + k], scan->dirs[k]));
      FixSign(scan->n, scan->dirs[k]);
      scan->eigenvalues[k] = ext.values[first + k];
      scan->residuals[k]   = ext.residuals[first + k];
    }
    PetscCall(HessaExtremesDestroy(&ext));
    for (PetscInt k = 0; k < scan->n_dirs; k++) PetscCallMPI(MPI_Bcast(scan->dirs[k], (PetscMPIInt)scan->n, MPI_DOUBLE, 0, world));
    PetscCallMPI(MPI_Bcast(scan->eigenvalues, 2, MPI_DOUBLE, 0, world));
    PetscCallMPI(MPI_Bcast(scan->residuals, 2, MPI_DOUBLE, 0, world));
  } else {
    for (PetscInt i = 0; i < scan->n; i++) scan->dirs[0][i] = scan->target[i] - scan->theta[i];
  }
  for (PetscInt k = 0; k < scan->n_dirs; k++) {
    double s = 0;
    for (PetscInt i = 0; i < scan->n; i++) s += scan->dirs[k][i] * scan->dirs[k][i];
    scan->norms[k] = sqrt(s);
  }
  PetscFunctionReturn(0);
}

/* The parameters at grid point p. Checkpoints use (1 - a) A + a B so that a = 0 and a = 1
 * reproduce A and B exactly. */
static void PointAt(const HessaScan *scan, PetscInt p, double *x)
{
  if (scan->target) {
    double a = scan->grid[p];
    for (PetscInt i = 0; i < scan->n; i++) x[i] = (1.0 - a) * scan->theta[i] + a * scan->target[i];
  } else if (scan->n_dirs == 1) {
    double a = scan->grid[p];
    for (PetscInt i = 0; i < scan->n; i++) x[i] = scan->theta[i] + a * scan->dirs[0][i];
  } else {
    double a = scan->grid[p / scan->points], b = scan->grid[p % scan->points];
    for (PetscInt i = 0; i < scan->n; i++) x[i] = scan->theta[i] + a * scan->dirs[0][i] + b * scan->dirs[1][i];
  }
}

/* Everything after the group's set-up: point, directions, this group's share of the grid. */
static PetscErrorCode ScanInGroup(MPI_Comm world, MPI_Comm group, PetscInt color, HessaModel model, HessaOperator op, const HessaScanSpec *spec, HessaScan *scan)
{
  PetscMPIInt wrank, grank;
  PetscInt    total, first, local, rounds;
  double     *x, *mine, at[2] = {NAN, NAN}, t0, t_last;
  int        *done;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(world, &wrank));
  PetscCallMPI(MPI_Comm_rank(group, &grank));
  scan->n = op->n;
  PetscCall(PetscStrncpy(scan->model, model->kind, sizeof scan->model));
  PetscCall(PetscStrncpy(scan->description, model->obj->description, sizeof scan->description));
  scan->n_blocks = model->obj->n_blocks;
  PetscCall(PetscMalloc1(scan->n_blocks, &scan->blocks));
  PetscCall(PetscArraycpy(scan->blocks, model->obj->blocks, scan->n_blocks));
  PetscCall(PetscMalloc3(scan->n, &scan->theta, scan->n, &scan->dirs[0], scan->n, &scan->dirs[1]));
  PetscCall(PetscMalloc1(scan->n, &x));
  PetscCall(PetscArraycpy(scan->theta, op->theta_all, scan->n));
  if (spec->direction == HESSA_SCAN_CHECKPOINTS) {
    HessaStatus st = {0};
    PetscCall(PetscMalloc1(scan->n, &scan->target));
    if (wrank == 0) PetscCall(HessaWeightsRead(spec->to, model->obj, scan->target, &st));
    PetscCall(HessaSyncError(world, &st));
    PetscCallMPI(MPI_Bcast(scan->target, (PetscMPIInt)scan->n, MPI_DOUBLE, 0, world));
  }
  PetscCall(BuildDirections(world, op, model, spec, scan));

  PetscCall(HessaTimerStart("scan"));
  PetscCall(HessaOperatorLossAt(op, scan->theta, &at[0]));
  if (scan->target) PetscCall(HessaOperatorLossAt(op, scan->target, &at[1]));
  PetscCallMPI(MPI_Bcast(at, 2, MPI_DOUBLE, 0, world));
  scan->loss_at_theta  = at[0];
  scan->loss_at_target = at[1];

  total = scan->n_dirs == 2 ? scan->points * scan->points : scan->points;
  HessaSplitRange(total, (PetscMPIInt)scan->n_groups, (PetscMPIInt)color, &first, &local);
  PetscCall(PetscCalloc2(total, &mine, total, &done));
  /* points of a stopped run come from world rank 0, the rest from the group that owns them */
  for (PetscInt p = 0; spec->resume_done && wrank == 0 && p < total; p++)
    if (spec->resume_done[p]) mine[p] = spec->resume_loss[p], done[p] = 1;
  /* rounds of one point per group, the same count on every rank, so that every rank can
     agree on a stop before each round */
  PetscCallMPI(MPI_Allreduce(&local, &rounds, 1, MPIU_INT, MPI_MAX, world));
  PetscCall(HessaLog(world, "landscape: %" PetscInt_FMT " grid points, %" PetscInt_FMT " groups", total, scan->n_groups));
  t0 = t_last = MPI_Wtime();
  for (PetscInt r = 0; r < rounds; r++) {
    PetscInt p = first + r;
    double   loss, now = MPI_Wtime();
    /* a progress line every 5 s from world rank 0, whose group has the largest share */
    if (wrank == 0 && r > 0 && now - t_last >= 5.0) {
      double done_frac = (double)r / (double)rounds, elapsed = now - t0;
      t_last = now;
      PetscCall(HessaLog(PETSC_COMM_SELF, "landscape: %.0f%% done, %" PetscInt_FMT " of %" PetscInt_FMT " rounds of one grid point per group (%" PetscInt_FMT " groups), %.1f s elapsed, ETA %.0f s", 100 * done_frac, r, rounds, scan->n_groups, elapsed,
                         elapsed * (1 - done_frac) / done_frac));
    }
    if (spec->stoppable) {
      PetscBool stop;
      PetscCall(HessaStopAgree(world, &stop));
      if (stop) {
        scan->stopped = PETSC_TRUE;
        break;
      }
    }
    if (r >= local || (spec->resume_done && spec->resume_done[p])) continue;
    PointAt(scan, p, x);
    PetscCall(HessaOperatorLossAt(op, x, &loss));
    if (grank == 0) mine[p] = loss, done[p] = 1;
  }
  /* one non-zero contribution per entry, so the sum is exact */
  PetscCall(PetscMalloc1(total, &scan->loss));
  PetscCall(PetscMalloc1(total, &scan->done));
  PetscCallMPI(MPI_Allreduce(mine, scan->loss, (PetscMPIInt)total, MPI_DOUBLE, MPI_SUM, world));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, done, (PetscMPIInt)total, MPI_INT, MPI_MAX, world));
  for (PetscInt p = 0; p < total; p++) {
    scan->done[p] = done[p] ? PETSC_TRUE : PETSC_FALSE;
    scan->n_done += done[p] ? 1 : 0;
    if (!done[p]) scan->loss[p] = NAN;
  }
  PetscCall(HessaTimerStop("scan"));
  PetscCall(PetscFree2(mine, done));
  PetscCall(PetscFree(x));
  PetscFunctionReturn(0);
}

/* HessaScanRun - collective on comm: see analysis.h. */
PetscErrorCode HessaScanRun(MPI_Comm comm, const HessaScanSpec *spec, HessaScan *scan)
{
  PetscMPIInt    size, rank;
  PetscInt       group_size = spec->group_size, color;
  MPI_Comm       group;
  HessaData      data  = NULL;
  HessaModel     model = NULL;
  HessaOperator  op    = NULL;
  PetscBool      had_weights;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(scan, sizeof *scan));
  PetscCheck(spec->points >= 2, comm, PETSC_ERR_ARG_OUTOFRANGE, "a scan needs at least 2 grid points per axis, found %" PetscInt_FMT, spec->points);
  PetscCheck(spec->lo < spec->hi, comm, PETSC_ERR_ARG_OUTOFRANGE, "a scan range needs lo < hi, found %g, %g", spec->lo, spec->hi);
  PetscCheck(!(spec->plane && spec->direction == HESSA_SCAN_CHECKPOINTS), comm, PETSC_ERR_ARG_INCOMP, "a scan between two checkpoints is a line, not a plane");
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (group_size <= 0)
    PetscCall(HessaScanDefaultGroupSize(comm, spec, &group_size));
  else if (spec->direction == HESSA_SCAN_CHECKPOINTS) {
    char kind[64];
    PetscCall(CheckCheckpoints(comm, spec, kind));
  }
  PetscCheck(group_size >= 1 && group_size <= size, comm, PETSC_ERR_ARG_OUTOFRANGE, "the group size must be between 1 and the number of ranks (%d), found %" PetscInt_FMT, (int)size, group_size);

  {
    /* the grid size in 64 bits, and its memory (losses twice, about 80 bytes of CSV and
     * JSON text per point on rank 0) checked before anything is allocated */
    uint64_t  total = (uint64_t)spec->points, bytes = 0;
    PetscBool over;
    if (spec->plane)
      PetscCheck(HessaSizeMul(total, total, &total) && total <= (uint64_t)PETSC_MAX_INT, comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_landscape_points %" PetscInt_FMT ": a plane of %" PetscInt_FMT " x %" PetscInt_FMT " grid points is more than %d points",
                 spec->points, spec->points, spec->points, (int)PETSC_MAX_INT);
    over = HessaSizeMul(total, 2 * sizeof(double) + 120, &bytes) ? PETSC_FALSE : PETSC_TRUE;
    PetscCall(HessaMemoryCheck(comm, "the landscape grid", bytes, over));
  }
  scan->n_dirs     = spec->plane ? 2 : 1;
  scan->points     = spec->points;
  scan->group_size = group_size;
  scan->n_groups   = (size + group_size - 1) / group_size;
  PetscCall(PetscMalloc1(scan->points, &scan->grid));
  /* weights of lo and hi, so that a grid point equal to 0 or 1 is exact */
  for (PetscInt i = 0; i < scan->points; i++) scan->grid[i] = ((double)(scan->points - 1 - i) * spec->lo + (double)i * spec->hi) / (double)(scan->points - 1);

  color = rank / group_size;
  PetscCallMPI(MPI_Comm_split(comm, (int)color, rank, &group));
  /* a checkpoint scan starts at A: the model loads it like -hessa_model_weights */
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_model_weights", &had_weights));
  if (spec->direction == HESSA_SCAN_CHECKPOINTS) PetscCall(PetscOptionsSetValue(NULL, "-hessa_model_weights", spec->from));
  ierr = HessaSetUpFromOptions(group, &data, &model, &op);
  if (spec->direction == HESSA_SCAN_CHECKPOINTS && !had_weights) PetscCall(PetscOptionsClearValue(NULL, "-hessa_model_weights"));
  if (!ierr) ierr = ScanInGroup(comm, group, color, model, op, spec, scan);
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscCallMPI(MPI_Comm_free(&group));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode HessaScanDestroy(HessaScan *scan)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(scan->theta, scan->dirs[0], scan->dirs[1]));
  PetscCall(PetscFree(scan->target));
  PetscCall(PetscFree(scan->grid));
  PetscCall(PetscFree(scan->loss));
  PetscCall(PetscFree(scan->done));
  PetscCall(PetscFree(scan->blocks));
  PetscCall(PetscMemzero(scan, sizeof *scan));
  PetscFunctionReturn(0);
}
