/* hessa spectrum: extremes, full spectrum, density and trace of the curvature operator at
 * the model's point, printed for a person (rank 0, stdout) and optionally as CSV files. */
#include "cli.h"
#include <hessa/spectrum.h>
#include <hessa/data.h>
#include <hessa/report.h>
#include <stdio.h>

/* The phases to run and their settings, from the options. */
typedef struct {
  PetscInt             extremes; /* k at each end, 0: none */
  PetscBool            full, density, trace;
  double               tol;      /* extremes: relative tolerance */
  double               zero_tol; /* full: < 0 default */
  HessaDensitySettings slq;
  PetscInt             trace_samples, trace_seed;
  PetscInt             trace_method; /* 0 hutchinson, 1 hutchpp, 2 both */
  char                 csv[PETSC_MAX_PATH_LEN];
  char                 output[PETSC_MAX_PATH_LEN]; /* report, results and the resumable state */
  PetscBool            resume;
} SpectrumPlan;

static PetscErrorCode PlanFromOptions(SpectrumPlan *plan)
{
  const char *methods[] = {"hutchinson", "hutchpp", "both", "HessaTraceChoice", "HESSA_TRACE_CHOICE_", NULL};
  PetscEnum   method    = (PetscEnum)2;
  PetscBool   set_e = PETSC_FALSE, set_f = PETSC_FALSE, set_d = PETSC_FALSE, set_t = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(plan, sizeof *plan));
  plan->extremes      = 5;
  plan->tol           = 1e-8;
  plan->zero_tol      = -1;
  plan->trace_samples = 99;
  plan->trace_seed    = 1;
  PetscCall(HessaDensitySettingsDefault(&plan->slq));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "hessa spectrum options (with none of extremes/full/density/trace given: extremes 5, density and trace)", NULL);
  PetscCall(PetscOptionsInt("-hessa_spectrum_extremes", "k largest and k smallest eigenpairs (0: none)", "HessaSpectrumExtremes", plan->extremes, &plan->extremes, &set_e));
  PetscCall(PetscOptionsBool("-hessa_spectrum_full", "assemble the operator and compute every eigenvalue (ScaLAPACK)", "HessaSpectrumFull", plan->full, &plan->full, &set_f));
  PetscCall(PetscOptionsBool("-hessa_spectrum_density", "eigenvalue density by stochastic Lanczos quadrature", "HessaSpectrumDensity", plan->density, &plan->density, &set_d));
  PetscCall(PetscOptionsBool("-hessa_spectrum_trace", "trace estimate (Hutchinson / Hutch++)", "HessaSpectrumTrace", plan->trace, &plan->trace, &set_t));
  PetscCall(PetscOptionsReal("-hessa_spectrum_tol", "extremes: relative residual tolerance", "HessaSpectrumExtremes", plan->tol, &plan->tol, NULL));
  PetscCall(PetscOptionsReal("-hessa_full_zero_tol", "full: |lambda| <= tol counts as zero (< 0: max(1e-10 max|lambda|, 10 |H - H^T|_F))", "HessaSpectrumFull", plan->zero_tol, &plan->zero_tol, NULL));
  PetscCall(PetscOptionsInt("-hessa_trace_samples", "trace: products to spend (Hutch++ uses a third for each part)", "HessaSpectrumTrace", plan->trace_samples, &plan->trace_samples, NULL));
  PetscCall(PetscOptionsInt("-hessa_trace_seed", "trace: seed of the probe vectors", "HessaSpectrumTrace", plan->trace_seed, &plan->trace_seed, NULL));
  PetscCall(PetscOptionsEnum("-hessa_trace_method", "trace estimator", "HessaSpectrumTrace", methods, method, &method, NULL));
  PetscCall(PetscOptionsString("-hessa_spectrum_csv", "write PREFIX_eigenvalues.csv, PREFIX_density.csv, PREFIX_density_nodes.csv (rank 0)", "", plan->csv, plan->csv, sizeof plan->csv, NULL));
  PetscCall(
      PetscOptionsString("-hessa_spectrum_output",
                         "folder for the report set of hessa analyze for what was computed (report.md, report.json, eigenvalues.csv, density.csv, density_nodes.csv, plots), trace.csv and, after a graceful stop, the resumable state spectrum.state",
                         "", plan->output, plan->output, sizeof plan->output, NULL));
  PetscCall(PetscOptionsBool("-resume", "continue the stopped run whose state is in the -hessa_spectrum_output folder (same options)", "", plan->resume, &plan->resume, NULL));
  PetscOptionsEnd();
  PetscCheck(!plan->resume || plan->output[0], PETSC_COMM_WORLD, HESSA_ERR_ARG, "-resume needs -hessa_spectrum_output FOLDER: the folder holding the state of the stopped run");
  PetscCall(HessaDensitySettingsSetFromOptions(PETSC_COMM_WORLD, &plan->slq));
  if (!set_e && !set_f && !set_d && !set_t) {
    plan->density = plan->trace = PETSC_TRUE;
  } else if (!set_e)
    plan->extremes = 0;
  plan->trace_method = (PetscInt)method;
  PetscCheck(plan->extremes >= 0, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_spectrum_extremes %" PetscInt_FMT ": must be >= 0", plan->extremes);
  PetscCheck(plan->trace_seed >= 0, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_trace_seed %" PetscInt_FMT ": must be >= 0", plan->trace_seed);
  PetscCall(HessaExtremesTypeCheck(PETSC_COMM_WORLD, NULL)); /* a refused eigensolver before any product */
  PetscFunctionReturn(0);
}

static PetscErrorCode PrintExtremes(const HessaExtremes *e, const char *end)
{
  PetscFunctionBegin;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s eigenvalues (%s, tol %.1e): %" PetscInt_FMT " of %" PetscInt_FMT " returned, %" PetscInt64_FMT " products, %.2f s\n", end, e->eps_type, e->tol, e->nconv, e->nev, e->products, e->seconds));
  for (PetscInt i = 0; i < e->nconv; i++) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %3" PetscInt_FMT "  % .12e  residual %.2e  %s\n", i, e->values[i], e->residuals[i], e->converged[i] ? "converged" : "NOT converged"));
  if (e->nconv < e->nev) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  (%" PetscInt_FMT " requested eigenpairs did not converge: raise -hessa_eps_max_it or -hessa_eps_ncv)\n", e->nev - e->nconv));
  PetscFunctionReturn(0);
}

/* What a resumed run must share with the stopped one (SLQ groups as density.c forms them). */
static PetscErrorCode SpectrumKeyFill(const SpectrumPlan *plan, HessaOperator op, const char *model, HessaSpectrumKey *key)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(key, sizeof *key));
  PetscCall(PetscStrncpy(key->model, model, sizeof key->model));
  key->n_op          = op->n_op;
  key->density       = plan->density;
  key->trace         = plan->trace;
  key->probes        = plan->slq.probes;
  key->steps         = plan->slq.steps;
  key->group         = !plan->slq.block ? 1 : plan->slq.block_size > 0 ? PetscMin(plan->slq.block_size, plan->slq.probes) : plan->slq.probes;
  key->seed          = (PetscInt)plan->slq.seed;
  key->trace_method  = plan->trace_method;
  key->trace_samples = plan->trace_samples;
  key->trace_seed    = plan->trace_seed;
  PetscFunctionReturn(0);
}

static PetscErrorCode PrintTrace(const HessaTrace *t)
{
  PetscFunctionBegin;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "trace (%s): %.10g +- %.3g (standard error), %" PetscInt64_FMT " products, %.2f s\n", t->method == HESSA_TRACE_HUTCHPP ? "Hutch++" : "Hutchinson", t->estimate, t->standard_error, t->products, t->seconds));
  PetscFunctionReturn(0);
}

/* One run of the command: what it set up, computed and resumed. */
typedef struct {
  SpectrumPlan      plan;
  HessaData         data;
  HessaModel        model;
  HessaOperator     op;
  HessaSpectrumKey  key;
  HessaExtremes     ex[2], ex_prev[2]; /* largest, smallest; ex_prev: of a stopped run (-resume) */
  PetscBool         ex_done[2], ex_found, stopped;
  HessaFullSpectrum full;
  HessaDensity      dens;
  HessaTrace        tr[2]; /* Hutchinson, Hutch++ */
  double            t0;
  double            loss, gradient_norm; /* at the point, for the report */
} SpectrumRun;

/* Collective: the model and operator, the defaults shrunk to fit, the allocations of every
   resumable phase and, with -resume, the finished parts of the stopped run. */
static PetscErrorCode RunSetUp(SpectrumRun *r)
{
  SpectrumPlan *plan = &r->plan;
  PetscBool     k_given, m_given;

  PetscFunctionBegin;
  /* a folder that cannot be written fails the run before anything is computed */
  if (plan->output[0]) PetscCall(HessaReportCheckFolder(PETSC_COMM_WORLD, plan->output));
  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &r->data, &r->model, &r->op));
  {
    /* the loss and |g| at the point: one gradient, for the report (as in hessa analyze) */
    Vec g;
    PetscCall(HessaOperatorCreateParameterVec(r->op, &g));
    PetscCall(HessaOperatorGradient(r->op, &r->loss, g));
    PetscCall(VecNorm(g, NORM_2, &r->gradient_norm));
    PetscCall(VecDestroy(&g));
  }
  /* defaults (not explicit values) shrink to fit a small operator */
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_spectrum_extremes", &k_given));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_slq_steps", &m_given));
  if (!k_given) plan->extremes = PetscMin(plan->extremes, r->op->n_op);
  if (!m_given) plan->slq.steps = PetscMin(plan->slq.steps, r->op->n_op);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "spectrum of the %s of %s: operator size n = %" PetscInt_FMT " (of %" PetscInt_FMT " parameters)\n", r->op->curvature == HESSA_CURVATURE_GGN ? "Gauss-Newton matrix" : "Hessian", r->model->obj->description,
                        r->op->n_op, r->op->n));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  loss %.12g, |gradient| %.6e\n", r->loss, r->gradient_norm));
  /* every phase is resumable: extremes keep the pairs converged so far, density and trace
     the finished probes; each checks for a stop at its safe points */
  PetscCall(SpectrumKeyFill(plan, r->op, r->model->obj->description, &r->key));
  if (plan->density) PetscCall(HessaDensityAllocate(PETSC_COMM_WORLD, &plan->slq, r->op->n_op, &r->dens));
  for (int i = 0; i < 2; i++)
    if (plan->trace && (plan->trace_method == 2 || plan->trace_method == i)) PetscCall(HessaTraceAllocate(PETSC_COMM_WORLD, (HessaTraceMethod)i, plan->trace_samples, (uint64_t)plan->trace_seed, &r->tr[i]));
  if (!plan->resume) PetscFunctionReturn(0);
  PetscCall(HessaSpectrumStateRead(PETSC_COMM_WORLD, plan->output, &r->key, &r->dens, r->tr));
  if (plan->extremes > 0) PetscCall(HessaSpectrumExtremesStateRead(PETSC_COMM_WORLD, plan->output, plan->extremes, plan->tol, r->op, r->ex_prev, r->ex_done, &r->ex_found));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "resumed from %s/%s: %" PetscInt_FMT " of %" PetscInt_FMT " SLQ probes, %" PetscInt_FMT " + %" PetscInt_FMT " trace probes finished\n", plan->output, HESSA_SPECTRUM_STATE_FILE, r->dens.probes_done,
                        r->dens.probes, r->tr[0].done, r->tr[1].done));
  if (r->ex_found)
    PetscCall(
        PetscPrintf(PETSC_COMM_WORLD, "  extremes: largest %s (%" PetscInt_FMT " pairs), smallest %s (%" PetscInt_FMT " pairs)\n", r->ex_done[0] ? "done" : "resumed", r->ex_prev[0].nconv, r->ex_done[1] ? "done" : "resumed", r->ex_prev[1].nconv));
  PetscFunctionReturn(0);
}

/* Collective: both ends, the smallest judged by the rule of HessaExtremesSettingsForEnd
   (the same as hessa analyze), each resumed from a stopped run where it stopped. */
static PetscErrorCode RunExtremes(SpectrumRun *r)
{
  PetscInt k = r->plan.extremes;

  PetscFunctionBegin;
  if (k <= 0) PetscFunctionReturn(0);
  PetscCall(HessaTimerStart("extremes"));
  PetscCall(HessaLog(PETSC_COMM_WORLD, "extremes: %" PetscInt_FMT " largest and smallest eigenpairs", k));
  for (int e = 0; e < 2 && !r->stopped; e++) {
    if (r->ex_found && r->ex_done[e]) { /* finished before the stop: taken as it was */
      r->ex[e]      = r->ex_prev[e];
      r->ex_prev[e] = (HessaExtremes){0};
    } else {
      HessaWhich            which = e ? HESSA_WHICH_SMALLEST : HESSA_WHICH_LARGEST;
      HessaExtremesSettings es;
      HessaExtremesSettingsForEnd(which, k, r->plan.tol, e ? &r->ex[0] : NULL, &es);
      PetscCall(HessaSpectrumExtremesContinue(r->op, which, k, &es, PETSC_TRUE, r->ex_found && r->ex_prev[e].nconv ? &r->ex_prev[e] : NULL, &r->ex[e]));
      r->stopped    = r->ex[e].stopped;
      r->ex_done[e] = !r->stopped;
    }
    if (!r->stopped) PetscCall(PrintExtremes(&r->ex[e], e ? "smallest" : "largest"));
  }
  PetscCall(HessaTimerStop("extremes"));
  PetscFunctionReturn(0);
}

static PetscErrorCode RunFull(SpectrumRun *r)
{
  const HessaFullSpectrum *f = &r->full;

  PetscFunctionBegin;
  if (!r->plan.full || r->stopped) PetscFunctionReturn(0);
  PetscCall(HessaTimerStart("full"));
  PetscCall(HessaSpectrumFull(r->op, r->plan.zero_tol, &r->full));
  PetscCall(HessaTimerStop("full"));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "full spectrum (ScaLAPACK, n = %" PetscInt_FMT "): min % .12e, max % .12e; %" PetscInt64_FMT " products, %.2f s\n", f->n, f->values[0], f->values[f->n - 1], f->products, f->seconds));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  asymmetry |H - H^T|_F / |H|_F = %.2e (symmetrized before the eigensolve)\n", f->asymmetry));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  negative %" PetscInt_FMT ", zero %" PetscInt_FMT ", positive %" PetscInt_FMT " (zero: |lambda| <= %.2e)\n", f->n_negative, f->n_zero, f->n_positive, f->zero_tol));
  {
    HessaTrace exact; /* every eigenvalue is known: the trace is their sum */
    PetscCall(HessaTraceFromFullSpectrum(f, &exact));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  trace (exact: the sum of the eigenvalues) %.12g\n", exact.estimate));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode RunDensity(SpectrumRun *r)
{
  const HessaDensity *d = &r->dens;

  PetscFunctionBegin;
  if (!r->plan.density || r->stopped) PetscFunctionReturn(0);
  PetscCall(HessaTimerStart("density"));
  PetscCall(HessaSpectrumDensityContinue(r->op, &r->plan.slq, PETSC_TRUE, &r->dens));
  PetscCall(HessaTimerStop("density"));
  r->stopped = d->stopped;
  if (r->stopped) PetscFunctionReturn(0);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "density (SLQ, %" PetscInt_FMT " probes x %" PetscInt_FMT " Lanczos steps, seed %" PetscInt64_FMT ", %s): %" PetscInt64_FMT " products, %.2f s\n", d->probes, d->steps, (PetscInt64)d->seed,
                        r->plan.slq.block ? "block" : "probe at a time", d->products, d->seconds));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  negative fraction   %.4f +- %.4f\n", d->negative_fraction, d->negative_fraction_se));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  positive fraction   %.4f +- %.4f (minimum ratio)\n", d->positive_fraction, d->positive_fraction_se));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  near zero fraction  %.4f +- %.4f (|lambda| <= %.2e)\n", d->near_zero_fraction, d->near_zero_fraction_se, d->near_zero_width));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  smoothing sigma %.3e on %" PetscInt_FMT " grid points [%.4e, %.4e]\n", d->sigma, d->n_grid, d->grid[0], d->grid[d->n_grid - 1]));
  for (PetscInt p = 0; p < d->probes; p++)
    if (d->probe_steps[p] < d->steps) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  probe %" PetscInt_FMT ": Lanczos breakdown after %" PetscInt_FMT " steps (invariant subspace found)\n", p, d->probe_steps[p]));
  PetscFunctionReturn(0);
}

static PetscErrorCode RunTrace(SpectrumRun *r)
{
  PetscFunctionBegin;
  for (int i = 0; i < 2 && !r->stopped; i++) {
    if (!r->tr[i].q) continue;
    PetscCall(HessaTimerStart("trace"));
    PetscCall(HessaSpectrumTraceContinue(r->op, PETSC_TRUE, &r->tr[i]));
    PetscCall(HessaTimerStop("trace"));
    r->stopped = r->tr[i].stopped;
    if (!r->stopped) PetscCall(PrintTrace(&r->tr[i]));
  }
  PetscFunctionReturn(0);
}

/* What the report layer needs of the run. */
static void ReportOf(const SpectrumRun *r, PetscBool partial, HessaSpectrumReport *rep)
{
  PetscMPIInt size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  *rep               = (HessaSpectrumReport){0};
  rep->key           = &r->key;
  rep->ex            = r->plan.extremes > 0 ? r->ex : NULL;
  rep->full          = r->plan.full ? &r->full : NULL;
  rep->density       = &r->dens;
  rep->trace         = r->tr;
  rep->loss          = r->loss;
  rep->gradient_norm = r->gradient_norm;
  rep->operator_name = r->op->curvature == HESSA_CURVATURE_GGN ? "ggn" : "hessian";
  rep->subset        = r->op->subset_spec;
  rep->n_params      = r->op->n;
  rep->ranks         = size;
  rep->products      = r->op->n_products;
  rep->partial       = partial;
}

/* Collective: after a stop, the resumable state and a partial report; after a complete run,
   the report and CSV files (the state of an earlier stop is removed). */
static PetscErrorCode RunFinish(SpectrumRun *r)
{
  const SpectrumPlan *plan = &r->plan;
  HessaOperator       op   = r->op;

  PetscFunctionBegin;
  if (r->stopped && plan->output[0]) {
    PetscCall(HessaSpectrumStateWrite(PETSC_COMM_WORLD, plan->output, &r->key, &r->dens, r->tr));
    if (plan->extremes > 0) PetscCall(HessaSpectrumExtremesStateWrite(PETSC_COMM_WORLD, plan->output, plan->extremes, plan->tol, op->n_op, r->ex, r->ex_done));
    HessaSpectrumReport rep;
    ReportOf(r, PETSC_TRUE, &rep);
    PetscCall(HessaReportSpectrum(PETSC_COMM_WORLD, plan->output, &rep));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "stopped on request (signal %d) after %" PetscInt64_FMT " products: %" PetscInt_FMT " of %" PetscInt_FMT " SLQ probes finished; state in %s/%s, partial report in %s/report.json; rerun with -resume to continue\n",
                          HessaStopSignal(), op->n_products, r->dens.probes_done, r->dens.probes, plan->output, HESSA_SPECTRUM_STATE_FILE, plan->output));
  } else if (r->stopped) {
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "stopped on request (signal %d) after %" PetscInt64_FMT " products; nothing saved: give -hessa_spectrum_output FOLDER to keep the finished probes and resume\n", HessaStopSignal(), op->n_products));
  } else if (plan->output[0]) {
    HessaSpectrumReport rep;
    ReportOf(r, PETSC_FALSE, &rep);
    PetscCall(HessaReportSpectrum(PETSC_COMM_WORLD, plan->output, &rep));
    PetscCall(HessaSpectrumStateRemove(PETSC_COMM_WORLD, plan->output));
    PetscCall(HessaSpectrumExtremesStateRemove(PETSC_COMM_WORLD, plan->output));
  }
  if (r->stopped) HessaStopMarkStopped();
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "total: %" PetscInt64_FMT " products (%.2f s in products, %.2f s of it communication), %.2f s\n", op->n_products, op->product_seconds, op->comm_seconds, MPI_Wtime() - r->t0));
  if (plan->csv[0] && !r->stopped) PetscCall(HessaReportSpectrumCSV(PETSC_COMM_WORLD, plan->csv, r->ex, plan->full ? &r->full : NULL, plan->density ? &r->dens : NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode RunDestroy(SpectrumRun *r)
{
  PetscFunctionBegin;
  for (int e = 0; e < 2; e++) {
    PetscCall(HessaExtremesDestroy(&r->ex[e]));
    PetscCall(HessaExtremesDestroy(&r->ex_prev[e]));
    PetscCall(HessaTraceDestroy(&r->tr[e]));
  }
  PetscCall(HessaFullSpectrumDestroy(&r->full));
  PetscCall(HessaDensityDestroy(&r->dens));
  PetscCall(HessaOperatorDestroy(&r->op));
  PetscCall(HessaModelDestroy(&r->model));
  PetscCall(HessaDataDestroy(&r->data));
  PetscFunctionReturn(0);
}

static PetscErrorCode RunSteps(SpectrumRun *r)
{
  PetscFunctionBegin;
  PetscCall(RunSetUp(r));
  PetscCall(RunExtremes(r));
  PetscCall(RunFull(r));
  PetscCall(RunDensity(r));
  PetscCall(RunTrace(r));
  PetscCall(RunFinish(r));
  PetscFunctionReturn(0);
}

/* HessaCliSpectrum - hessa spectrum. Collective on PETSC_COMM_WORLD.
 * Options: -hessa_spectrum_extremes k, -hessa_spectrum_full, -hessa_spectrum_density,
 * -hessa_spectrum_trace, -hessa_spectrum_tol, -hessa_spectrum_csv PREFIX, -hessa_full_*,
 * -hessa_slq_*, -hessa_trace_samples, -hessa_trace_seed, -hessa_trace_method, -hessa_eps_*,
 * -hessa_spectrum_output FOLDER, -resume, and everything HessaSetUpFromOptions reads.
 * A stop signal during the extremes, density or trace ends the run at the next safe point with
 * the state and a partial report in the output folder and exit status 75 (docs/jobs.md). */
PetscErrorCode HessaCliSpectrum(void)
{
  SpectrumRun   *r;
  PetscBool      help = PETSC_FALSE;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscNew(&r));
  r->t0 = MPI_Wtime();
  ierr  = PlanFromOptions(&r->plan);
  if (!ierr) ierr = HessaCliHelpRequested(&help);
  if (!ierr && help) ierr = HessaReportOptionsHelp(PETSC_COMM_WORLD);
  if (!ierr && help)
    ierr = HessaCliSetUpOptionsHelp();
  else if (!ierr)
    ierr = RunSteps(r);
  PetscCall(RunDestroy(r));
  PetscCall(PetscFree(r));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
