/* The analysis pipeline of one point (hessa analyze, study points), as one library call:
 *
 *   load -> gradient -> extreme eigenpairs -> full spectrum (small n) or SLQ density
 *        -> trace -> classification -> escape / zero-curvature probes
 *        -> gradient geometry -> Newton
 *
 * The result holds numbers only; the report layer writes it (HessaReportAnalysis). Every
 * PETSc object lives in an AnalyzeWork that one cleanup path frees, on success and on error.
 */
#include <hessa/analysis.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>

const char *const HessaAnalysisPhaseNames[] = {"gradient", "extremes", "spectrum", "trace", "classify", "probes", "geometry", "newton", "done"};

/* What the pipeline sets up and frees again. */
typedef struct {
  HessaData     data;
  HessaModel    model;
  HessaOperator op;
  Vec           g, g_op; /* the gradient: full length, and restricted to the operator */
  Vec          *largest_vectors, *smallest_vectors;
  PetscInt      n_largest, n_smallest;
} AnalyzeWork;

/* HessaAnalyzeOptionsSetFromOptions - collective on comm; see analysis.h. */
PetscErrorCode HessaAnalyzeOptionsSetFromOptions(MPI_Comm comm, HessaAnalyzeOptions *o)
{
  PetscBool   weights, hidden, set;
  PetscInt    n_given = 8;
  PetscReal   given[8];
  const char *trace_methods[] = {"hutchinson", "hutchpp", "both", "HessaTraceChoice", "HESSA_TRACE_CHOICE_", NULL};
  PetscEnum   trace_method    = (PetscEnum)0;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  PetscCall(PetscStrncpy(o->output, "hessa-report", sizeof o->output));
  o->k = 5, o->full_max = PETSC_MAX_INT, o->trace_samples = 30, o->sf_dim = 20, o->seed = 1, o->probes = 10, o->steps = 80;
  o->full = o->density = o->newton = PETSC_TRUE;
  o->gradient_tol = -1, o->zero_tol = -1, o->eps_tol = 1e-8, o->refine_products = -1;
  o->n_alpha = 4, o->alphas[0] = 1e-3, o->alphas[1] = 1e-2, o->alphas[2] = 1e-1, o->alphas[3] = 1;
  PetscOptionsBegin(comm, NULL, "hessa analyze options", NULL);
  PetscCall(PetscOptionsString("-hessa_analyze_output", "folder for report.json, report.md, CSV files and plots", "HessaReportWrite", o->output, o->output, sizeof o->output, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_k", "extreme eigenpairs at each end", "HessaSpectrumExtremes", o->k, &o->k, NULL));
  PetscCall(PetscOptionsReal("-hessa_analyze_eps_tol", "relative tolerance of the extreme eigenpairs", "HessaSpectrumExtremes", o->eps_tol, &o->eps_tol, NULL));
  PetscCall(PetscOptionsBool("-hessa_analyze_full", "compute the whole spectrum when it fits the memory budget (-hessa_full_memory_mb) and n is at most -hessa_analyze_full_max", "HessaSpectrumFull", o->full, &o->full, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_full_max", "largest operator size for the full spectrum (default: no limit, memory decides)", "HessaSpectrumFull", o->full_max, &o->full_max, NULL));
  PetscCall(PetscOptionsBool("-hessa_analyze_density", "estimate the eigenvalue density (SLQ) when the full spectrum is not computed", "HessaSpectrumDensity", o->density, &o->density, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_probes", "SLQ probe vectors", "HessaSpectrumDensity", o->probes, &o->probes, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_steps", "SLQ Lanczos steps per probe", "HessaSpectrumDensity", o->steps, &o->steps, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_seed", "seed of the SLQ and trace probes", "HessaSpectrumDensity", o->seed, &o->seed, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_trace", "Hutchinson trace samples (0: no trace)", "HessaSpectrumTrace", o->trace_samples, &o->trace_samples, NULL));
  PetscCall(PetscOptionsReal("-hessa_analyze_gradient_tol", "critical if |g| is at most this (negative: 1e-6 max(1, |loss|))", "HessaClassify", o->gradient_tol, &o->gradient_tol, NULL));
  PetscCall(PetscOptionsReal("-hessa_analyze_zero_tol", "|lambda| at most this counts as zero (negative: from residuals and round-off)", "HessaClassify", o->zero_tol, &o->zero_tol, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_refine_products", "product budget to refine an end whose small eigenvalues have an unresolved sign (-1: max(1000, 4 x the first solves), 0: none)", "HessaExtremesRefine", o->refine_products,
                            &o->refine_products, NULL));
  PetscCall(PetscOptionsRealArray("-hessa_analyze_alphas", "steps of the line probes (escape, zero curvature)", "HessaProbeDirection", given, &n_given, &set));
  if (set) {
    o->n_alpha = n_given;
    for (PetscInt i = 0; i < n_given; i++) o->alphas[i] = given[i];
  }
  PetscCall(PetscOptionsBool("-hessa_analyze_newton", "Newton (MINRES) and saddle-free Newton directions", "HessaNewtonCompute", o->newton, &o->newton, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_sf_dim", "Krylov dimension of saddle-free Newton", "HessaNewtonCompute", o->sf_dim, &o->sf_dim, NULL));
  PetscCall(PetscOptionsEnum("-hessa_trace_method", "trace estimator when the full spectrum is not computed (with it the trace is exact)", "HessaSpectrumTrace", trace_methods, trace_method, &trace_method, NULL));
  PetscOptionsEnd();
  /* the option hessa spectrum reads; analyze reports one estimate, so not `both` */
  PetscCheck(trace_method != (PetscEnum)2, comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_trace_method both: hessa analyze reports one trace estimate; use hutchinson or hutchpp");
  o->trace_method = trace_method == (PetscEnum)1 ? HESSA_TRACE_HUTCHPP : HESSA_TRACE_HUTCHINSON;
  PetscCall(HessaExtremesTypeCheck(comm, NULL)); /* a refused eigensolver before any product */
  PetscCheck(o->k >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_analyze_k must be at least 1, found %" PetscInt_FMT, o->k);
  PetscCheck(o->n_alpha >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_analyze_alphas needs 1 to 8 positive steps");
  for (PetscInt i = 0; i < o->n_alpha; i++) PetscCheck(o->alphas[i] > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_analyze_alphas: steps must be positive, found %g", (double)o->alphas[i]);
  /* the architecture comes from the weight folder: a second one on the command line conflicts */
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_model_weights", &weights));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_mlp_hidden", &hidden));
  PetscCheck(!(weights && hidden), comm, PETSC_ERR_ARG_INCOMP, "conflicting options: -hessa_model_weights takes the architecture from the weight folder's model.json, so -hessa_mlp_hidden cannot be given too");
  PetscFunctionReturn(0);
}

/* Collective: a safe point between phases; sets res->stopped when every rank agrees to stop. */
static PetscErrorCode SafePoint(MPI_Comm comm, const HessaAnalyzeOptions *o, HessaAnalysisPhase next, HessaAnalysis *res)
{
  PetscBool stop;

  PetscFunctionBegin;
  if (!o->stoppable) PetscFunctionReturn(0);
  PetscCall(HessaStopAgree(comm, &stop));
  if (!stop) PetscFunctionReturn(0);
  res->stopped    = PETSC_TRUE;
  res->stopped_at = next;
  PetscFunctionReturn(0);
}

/* What was analysed: copied out of the model, data and operator, which do not outlive the call. */
static PetscErrorCode RecordInputs(MPI_Comm comm, const HessaAnalyzeOptions *o, const AnalyzeWork *w, HessaAnalysis *res)
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(res->model_kind, w->model->kind, sizeof res->model_kind));
  PetscCall(PetscStrncpy(res->model_description, w->model->obj->description, sizeof res->model_description));
  res->has_data = w->data->source != HESSA_DATA_NONE ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscStrncpy(res->data_description, res->has_data ? w->data->description : "none (analytic objective)", sizeof res->data_description));
  res->n         = w->model->obj->n;
  res->n_op      = w->op->n_op;
  res->samples   = w->model->obj->n_samples;
  res->features  = w->data->n_features;
  res->curvature = w->op->curvature;
  res->seed      = o->seed;
  PetscCall(PetscStrncpy(res->subset, w->op->subset_spec, sizeof res->subset));
  PetscCallMPI(MPI_Comm_size(comm, &res->ranks));
  PetscFunctionReturn(0);
}

/* Collective: the gradient, restricted to the operator's parameters. */
static PetscErrorCode GradientPhase(MPI_Comm comm, AnalyzeWork *w, HessaAnalysis *res)
{
  PetscFunctionBegin;
  PetscCall(HessaTimerStart("gradient"));
  PetscCall(HessaOperatorCreateParameterVec(w->op, &w->g));
  PetscCall(HessaOperatorCreateVec(w->op, &w->g_op));
  PetscCall(HessaOperatorGradient(w->op, &res->loss, w->g));
  PetscCall(HessaOperatorRestrict(w->op, w->g, w->g_op));
  PetscCall(VecNorm(w->g_op, NORM_2, &res->gradient_norm));
  PetscCall(HessaTimerStop("gradient"));
  PetscCall(HessaLog(comm, "analyze: loss %.10g, |g| %.3e, n = %" PetscInt_FMT, res->loss, res->gradient_norm, w->op->n_op));
  PetscFunctionReturn(0);
}

/* Collective: k eigenpairs at each end with vectors (for the probes and the geometry); the
   smallest end follows the rule of HessaExtremesSettingsForEnd, like `hessa spectrum`. */
static PetscErrorCode ExtremesPhase(const HessaAnalyzeOptions *o, AnalyzeWork *w, HessaAnalysis *res)
{
  HessaExtremesSettings s;
  PetscInt              k = PetscMax(1, PetscMin(o->k, w->op->n_op / 2));

  PetscFunctionBegin;
  PetscCall(HessaTimerStart("extremes"));
  HessaExtremesSettingsForEnd(HESSA_WHICH_LARGEST, k, o->eps_tol, NULL, &s);
  PetscCall(HessaSpectrumExtremesWithSettings(w->op, HESSA_WHICH_LARGEST, k, &s, PETSC_TRUE, &res->largest));
  HessaExtremesSettingsForEnd(HESSA_WHICH_SMALLEST, k, o->eps_tol, &res->largest, &s);
  PetscCall(HessaSpectrumExtremesWithSettings(w->op, HESSA_WHICH_SMALLEST, k, &s, PETSC_TRUE, &res->smallest));
  /* an end with an unresolved sign is solved again, tighter, before anything is called zero */
  PetscCall(HessaExtremesRefine(w->op, k, o->eps_tol, o->refine_products, &res->largest, &res->smallest, &res->refinement));
  /* the vectors belong to the work: the result keeps numbers only */
  w->largest_vectors = res->largest.vectors, w->n_largest = res->largest.nconv, res->largest.vectors = NULL;
  w->smallest_vectors = res->smallest.vectors, w->n_smallest = res->smallest.nconv, res->smallest.vectors = NULL;
  PetscCall(HessaTimerStop("extremes"));
  PetscFunctionReturn(0);
}

/* Collective: the whole spectrum when it is small enough, else the density. */
static PetscErrorCode SpectrumPhase(const HessaAnalyzeOptions *o, AnalyzeWork *w, HessaAnalysis *res)
{
  PetscBool fits = PETSC_FALSE;

  PetscFunctionBegin;
  if (o->full && w->op->n_op <= o->full_max) PetscCall(HessaFullSpectrumFits(w->op, &fits));
  if (fits) {
    PetscCall(HessaTimerStart("full spectrum"));
    PetscCall(HessaSpectrumFull(w->op, o->zero_tol, &res->full));
    PetscCall(HessaTimerStop("full spectrum"));
    res->have_full = PETSC_TRUE;
  } else if (o->density && w->op->n_op > 1) {
    PetscCall(HessaTimerStart("density"));
    PetscCall(HessaSpectrumDensity(w->op, o->probes, PetscMin(o->steps, w->op->n_op), (uint64_t)o->seed, &res->density));
    PetscCall(HessaTimerStop("density"));
    res->have_density = PETSC_TRUE;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode TracePhase(const HessaAnalyzeOptions *o, AnalyzeWork *w, HessaAnalysis *res)
{
  PetscFunctionBegin;
  if (res->have_full) { /* every eigenvalue is known: the trace is their sum, exactly */
    PetscCall(HessaTraceFromFullSpectrum(&res->full, &res->trace));
    res->have_trace = PETSC_TRUE;
    PetscFunctionReturn(0);
  }
  if (o->trace_samples <= 0) PetscFunctionReturn(0);
  PetscCall(HessaTimerStart("trace"));
  PetscCall(HessaSpectrumTrace(w->op, o->trace_method, o->trace_samples, (uint64_t)o->seed, &res->trace));
  PetscCall(HessaTimerStop("trace"));
  res->have_trace = PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscErrorCode ClassifyPhase(const HessaAnalyzeOptions *o, HessaAnalysis *res)
{
  HessaClassifyInput cin = {0};

  PetscFunctionBegin;
  cin.n             = res->n_op;
  cin.loss          = res->loss;
  cin.gradient_norm = res->gradient_norm;
  cin.gradient_tol  = o->gradient_tol;
  cin.zero_tol      = o->zero_tol;
  cin.largest       = &res->largest;
  cin.smallest      = &res->smallest;
  cin.full          = res->have_full ? &res->full : NULL;
  cin.density       = res->have_density ? &res->density : NULL;
  cin.refinement    = &res->refinement;
  PetscCall(HessaClassify(&cin, &res->verdict));
  if (res->have_full) HessaVerdictSyncFull(&res->verdict, &res->full); /* one count for each quantity in the report */
  PetscFunctionReturn(0);
}

/* Collective: escape along the most negative curvature (background.md section 3). */
static PetscErrorCode EscapeProbe(const HessaAnalyzeOptions *o, AnalyzeWork *w, HessaAnalysis *res)
{
  Vec    d;
  double best = 0;

  PetscFunctionBegin;
  if (!(res->verdict.lambda_min < -res->verdict.zero_tol && w->smallest_vectors)) PetscFunctionReturn(0);
  d = w->smallest_vectors[0];
  PetscCall(HessaProbeDirection(w->op, d, res->smallest.values[0], w->g_op, res->loss, o->n_alpha, o->alphas, &res->escape));
  PetscCall(VecDot(w->g_op, d, &res->escape_gradient_dot));
  for (PetscInt i = 0; i < res->escape.n_alpha; i++) best = PetscMin(best, PetscMin(res->escape.change_plus[i], res->escape.change_minus[i]));
  res->escape_lambda  = res->smallest.values[0];
  res->escape_descent = best < -res->escape.noise ? PETSC_TRUE : PETSC_FALSE;
  res->have_escape    = PETSC_TRUE;
  if (w->op->n_op <= 1000) { /* small problems: the direction itself */
    VecScatter    sc;
    Vec           all;
    const double *a;
    PetscCall(VecScatterCreateToAll(d, &sc, &all));
    PetscCall(VecScatterBegin(sc, d, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, d, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(PetscMalloc1(w->op->n_op, &res->escape_direction));
    res->n_escape_direction = w->op->n_op;
    PetscCall(VecGetArrayRead(all, &a));
    PetscCall(PetscArraycpy(res->escape_direction, a, w->op->n_op));
    PetscCall(VecRestoreArrayRead(all, &a));
    PetscCall(VecScatterDestroy(&sc));
    PetscCall(VecDestroy(&all));
  }
  PetscFunctionReturn(0);
}

/* Collective: beyond the second-order test, the loss along distinct zero-curvature
   eigenvectors (up to 4); a degenerate verdict then says what they found. */
static PetscErrorCode DegenerateProbes(const HessaAnalyzeOptions *o, AnalyzeWork *w, HessaAnalysis *res)
{
  const char *behaviour[4];
  double      eigenvalue[4];

  PetscFunctionBegin;
  PetscCall(HessaZeroCurvatureProbes(w->op, &res->verdict, &res->smallest, w->smallest_vectors, &res->largest, w->largest_vectors, w->g_op, res->loss, o->n_alpha, o->alphas, 4, &res->n_degenerate, res->degenerate));
  for (PetscInt i = 0; i < res->n_degenerate; i++) behaviour[i] = HessaProbeBehaviour(&res->degenerate[i].probe), eigenvalue[i] = res->degenerate[i].eigenvalue;
  PetscCall(HessaVerdictApplyProbes(&res->verdict, res->n_degenerate, behaviour, eigenvalue));
  PetscFunctionReturn(0);
}

/* Collective: the gradient's relation to the curvature; at g = 0 only the spectral parts
   (stability limit, condition number) are defined. */
static PetscErrorCode GeometryPhase(AnalyzeWork *w, HessaAnalysis *res)
{
  HessaExtremes largest = res->largest;

  PetscFunctionBegin;
  largest.vectors = w->largest_vectors;
  PetscCall(HessaTimerStart("geometry"));
  PetscCall(HessaGradientGeometryCompute(w->op, w->g_op, res->loss, &largest, res->verdict.lambda_min, &res->geometry));
  PetscCall(HessaTimerStop("geometry"));
  PetscFunctionReturn(0);
}

static PetscErrorCode NewtonPhase(const HessaAnalyzeOptions *o, AnalyzeWork *w, HessaAnalysis *res)
{
  PetscFunctionBegin;
  if (!o->newton) PetscFunctionReturn(0);
  PetscCall(HessaTimerStart("newton"));
  PetscCall(HessaNewtonAtPoint(w->op, w->g_op, res->loss, res->gradient_norm, res->verdict.gradient_tol, o->sf_dim, res->verdict.zero_tol, &res->newton));
  PetscCall(HessaTimerStop("newton"));
  if (res->newton.skipped || res->newton.note[0]) PetscCall(HessaLog(w->op->comm, "analyze: Newton %s", res->newton.skipped ? res->newton.reason : res->newton.note));
  res->have_newton = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* Collective: products, timers (max over ranks) and peak resident memory of every rank. */
static PetscErrorCode RecordCost(MPI_Comm comm, const AnalyzeWork *w, HessaAnalysis *res)
{
  struct rusage ru;
  double        mine;

  PetscFunctionBegin;
  if (w->op) res->products = w->op->n_products, res->gradients = w->op->n_gradients;
  res->n_timers = PetscMin(HessaTimerCount(), HESSA_ANALYSIS_MAX_TIMERS);
  for (PetscInt i = 0; i < res->n_timers; i++) {
    const char *name;
    PetscCall(HessaTimerEntry(i, &name, &res->timer_seconds[i]));
    PetscCall(PetscStrncpy(res->timer_name[i], name, sizeof res->timer_name[i]));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, res->timer_seconds, (int)res->n_timers, MPI_DOUBLE, MPI_MAX, comm));
  getrusage(RUSAGE_SELF, &ru);
  mine = (double)ru.ru_maxrss / 1024.0;
  PetscCall(PetscMalloc1(res->ranks, &res->peak_memory_mb));
  PetscCallMPI(MPI_Allgather(&mine, 1, MPI_DOUBLE, res->peak_memory_mb, 1, MPI_DOUBLE, comm));
  PetscFunctionReturn(0);
}

/* The phases in order, with a safe point before each one that costs products. */
static PetscErrorCode AnalyzeSteps(MPI_Comm comm, const HessaAnalyzeOptions *o, AnalyzeWork *w, HessaAnalysis *res)
{
  PetscFunctionBegin;
  PetscCall(HessaSetUpFromOptions(comm, &w->data, &w->model, &w->op));
  PetscCall(RecordInputs(comm, o, w, res));
  PetscCall(GradientPhase(comm, w, res));
  PetscCall(SafePoint(comm, o, HESSA_PHASE_EXTREMES, res));
  if (!res->stopped) PetscCall(ExtremesPhase(o, w, res));
  if (!res->stopped) PetscCall(SafePoint(comm, o, HESSA_PHASE_SPECTRUM, res));
  if (!res->stopped) PetscCall(SpectrumPhase(o, w, res));
  if (!res->stopped) PetscCall(SafePoint(comm, o, HESSA_PHASE_TRACE, res));
  if (!res->stopped) PetscCall(TracePhase(o, w, res));
  if (!res->stopped) PetscCall(ClassifyPhase(o, res));
  if (!res->stopped) PetscCall(SafePoint(comm, o, HESSA_PHASE_PROBES, res));
  if (!res->stopped) {
    PetscCall(HessaTimerStart("probes"));
    PetscCall(EscapeProbe(o, w, res));
    PetscCall(DegenerateProbes(o, w, res));
    PetscCall(HessaTimerStop("probes"));
  }
  if (!res->stopped) PetscCall(SafePoint(comm, o, HESSA_PHASE_GEOMETRY, res));
  if (!res->stopped) PetscCall(GeometryPhase(w, res));
  if (!res->stopped) PetscCall(SafePoint(comm, o, HESSA_PHASE_NEWTON, res));
  if (!res->stopped) PetscCall(NewtonPhase(o, w, res));
  if (!res->stopped) res->stopped_at = HESSA_PHASE_DONE;
  PetscCall(RecordCost(comm, w, res));
  PetscFunctionReturn(0);
}

/* HessaAnalyzePoint - collective on comm; see analysis.h. */
PetscErrorCode HessaAnalyzePoint(MPI_Comm comm, const HessaAnalyzeOptions *o, HessaAnalysis *res)
{
  AnalyzeWork    w;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(res, sizeof *res));
  PetscCall(PetscMemzero(&w, sizeof w));
  ierr = AnalyzeSteps(comm, o, &w, res);
  /* the one cleanup path: whatever was set up goes, whether the steps finished or not */
  if (w.largest_vectors) PetscCall(VecDestroyVecs(w.n_largest, &w.largest_vectors));
  if (w.smallest_vectors) PetscCall(VecDestroyVecs(w.n_smallest, &w.smallest_vectors));
  PetscCall(VecDestroy(&w.g));
  PetscCall(VecDestroy(&w.g_op));
  PetscCall(HessaOperatorDestroy(&w.op));
  PetscCall(HessaModelDestroy(&w.model));
  PetscCall(HessaDataDestroy(&w.data));
  if (ierr) PetscCall(HessaAnalysisDestroy(res));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* HessaAnalysisDestroy - not collective; see analysis.h. */
PetscErrorCode HessaAnalysisDestroy(HessaAnalysis *res)
{
  PetscFunctionBegin;
  PetscCall(HessaExtremesDestroy(&res->largest));
  PetscCall(HessaExtremesDestroy(&res->smallest));
  PetscCall(HessaFullSpectrumDestroy(&res->full));
  PetscCall(HessaDensityDestroy(&res->density));
  PetscCall(HessaTraceDestroy(&res->trace));
  PetscCall(HessaVerdictDestroy(&res->verdict));
  PetscCall(PetscFree(res->escape_direction));
  PetscCall(PetscFree(res->peak_memory_mb));
  PetscCall(PetscMemzero(res, sizeof *res));
  PetscFunctionReturn(0);
}
