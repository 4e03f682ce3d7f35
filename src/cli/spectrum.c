/* hessa spectrum: extremes, full spectrum, density and trace of the curvature operator at
 * the model's point, printed for a person (rank 0, stdout) and optionally as CSV files. */
#include "cli.h"
#include "spectrum_state.h"
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
  PetscCall(PetscOptionsString("-hessa_spectrum_csv", "write PREFIX_eigenvalues.csv, PREFIX_density.csv, PREFIX_slq_nodes.csv (rank 0)", "", plan->csv, plan->csv, sizeof plan->csv, NULL));
  PetscCall(PetscOptionsString("-hessa_spectrum_output", "folder for report.json, density.csv, slq_nodes.csv, trace.csv and, after a graceful stop, the resumable state spectrum.state", "", plan->output, plan->output, sizeof plan->output, NULL));
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

/* Rank 0: write a file through a temporary name, then rename (never half a file). */
static PetscErrorCode OpenTemp(const char *path, char *tmp, size_t len, FILE **fp)
{
  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(tmp, len, "%s.tmp", path));
  *fp = fopen(tmp, "w");
  PetscCheck(*fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", tmp);
  PetscFunctionReturn(0);
}

static PetscErrorCode CloseTemp(const char *path, const char *tmp, FILE *fp)
{
  PetscFunctionBegin;
  PetscCheck(fclose(fp) == 0 && rename(tmp, path) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s", path);
  PetscFunctionReturn(0);
}

/* Collective (rank 0 writes; a write failure ends every rank). */
static PetscErrorCode WriteCSV(const char *prefix, const HessaExtremes *ex, const HessaFullSpectrum *full, const HessaDensity *d)
{
  PetscMPIInt rank;
  HessaStatus st = {0, ""};
  char        path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8];
  FILE       *fp;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (rank == 0) {
    PetscErrorCode ierr;
    PetscCall(PetscSNPrintf(path, sizeof path, "%s_eigenvalues.csv", prefix));
    fp = fopen(path, "a"); /* probe that the folder is writable before the real write */
    if (!fp)
      HessaStatusSet(&st, PETSC_ERR_FILE_OPEN, "-hessa_spectrum_csv: cannot write %s", path);
    else {
      fclose(fp);
      ierr = OpenTemp(path, tmp, sizeof tmp, &fp);
      if (!ierr) {
        fprintf(fp, "kind,index,value,residual,converged\n");
        for (int end = 0; end < 2; end++)
          for (PetscInt i = 0; i < ex[end].nconv; i++) fprintf(fp, "%s,%" PetscInt_FMT ",%.17g,%.6e,%d\n", end ? "smallest" : "largest", i, ex[end].values[i], ex[end].residuals[i], (int)ex[end].converged[i]);
        if (full)
          for (PetscInt i = 0; i < full->n; i++) fprintf(fp, "full,%" PetscInt_FMT ",%.17g,,\n", i, full->values[i]);
        ierr = CloseTemp(path, tmp, fp);
      }
      if (!ierr && d) {
        PetscCall(PetscSNPrintf(path, sizeof path, "%s_density.csv", prefix));
        ierr = OpenTemp(path, tmp, sizeof tmp, &fp);
        if (!ierr) {
          fprintf(fp, "lambda,density\n");
          for (PetscInt g = 0; g < d->n_grid; g++) fprintf(fp, "%.10e,%.10e\n", d->grid[g], d->density[g]);
          ierr = CloseTemp(path, tmp, fp);
        }
        PetscCall(PetscSNPrintf(path, sizeof path, "%s_slq_nodes.csv", prefix));
        if (!ierr) ierr = OpenTemp(path, tmp, sizeof tmp, &fp);
        if (!ierr) {
          fprintf(fp, "probe,node,weight\n");
          for (PetscInt p = 0; p < d->probes; p++)
            for (PetscInt i = 0; i < d->probe_steps[p]; i++) fprintf(fp, "%" PetscInt_FMT ",%.17g,%.17g\n", p, d->nodes[(size_t)p * d->steps + i], d->weights[(size_t)p * d->steps + i]);
          ierr = CloseTemp(path, tmp, fp);
        }
      }
      if (ierr) HessaStatusSet(&st, ierr, "-hessa_spectrum_csv: cannot write the files with prefix %s", prefix);
    }
  }
  PetscCall(HessaSyncError(PETSC_COMM_WORLD, &st));
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

/* HessaCliSpectrum - hessa spectrum. Collective on PETSC_COMM_WORLD.
 * Options: -hessa_spectrum_extremes k, -hessa_spectrum_full, -hessa_spectrum_density,
 * -hessa_spectrum_trace, -hessa_spectrum_tol, -hessa_spectrum_csv PREFIX, -hessa_full_*,
 * -hessa_slq_*, -hessa_trace_samples, -hessa_trace_seed, -hessa_trace_method, -hessa_eps_*,
 * -hessa_spectrum_output FOLDER, -resume, and everything HessaSetUpFromOptions reads.
 * A stop signal during the density or trace ends the run at the next product boundary with
 * the state and a partial report in the output folder and exit status 75 (docs/jobs.md). */
PetscErrorCode HessaCliSpectrum(void)
{
  HessaData         data;
  HessaModel        model;
  HessaOperator     op;
  SpectrumPlan      plan;
  HessaExtremes     ex[2];
  HessaFullSpectrum full;
  HessaDensity      dens;
  HessaTrace        tr[2]; /* Hutchinson, Hutch++ */
  HessaSpectrumKey  key;
  HessaExtremes     ex_prev[2];            /* extremes of a stopped run (-resume) */
  PetscBool         ex_done[2] = {PETSC_FALSE, PETSC_FALSE}, ex_found = PETSC_FALSE;
  PetscBool         stopped = PETSC_FALSE;
  double            t0      = MPI_Wtime();

  PetscFunctionBegin;
  PetscCall(PetscMemzero(tr, sizeof tr));
  PetscCall(PetscMemzero(ex, sizeof ex));
  PetscCall(PetscMemzero(ex_prev, sizeof ex_prev));
  PetscCall(PetscMemzero(&full, sizeof full));
  PetscCall(PetscMemzero(&dens, sizeof dens));
  PetscCall(PlanFromOptions(&plan));
  /* a folder that cannot be written fails the run before anything is computed */
  if (plan.output[0]) PetscCall(HessaReportCheckFolder(PETSC_COMM_WORLD, plan.output));
  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
  {
    /* defaults (not explicit values) shrink to fit a small operator */
    PetscBool k_given, m_given;
    PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_spectrum_extremes", &k_given));
    PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_slq_steps", &m_given));
    if (!k_given) plan.extremes = PetscMin(plan.extremes, op->n_op);
    if (!m_given) plan.slq.steps = PetscMin(plan.slq.steps, op->n_op);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "spectrum of the %s of %s: operator size n = %" PetscInt_FMT " (of %" PetscInt_FMT " parameters)\n", op->curvature == HESSA_CURVATURE_GGN ? "Gauss-Newton matrix" : "Hessian", model->obj->description,
                        op->n_op, op->n));
  /* every phase is resumable: extremes keep the pairs converged so far, density and trace
     the finished probes; each checks for a stop at its safe points */
  PetscCall(SpectrumKeyFill(&plan, op, model->obj->description, &key));
  if (plan.density) PetscCall(HessaDensityAllocate(PETSC_COMM_WORLD, &plan.slq, op->n_op, &dens));
  for (int i = 0; i < 2; i++)
    if (plan.trace && (plan.trace_method == 2 || plan.trace_method == i)) PetscCall(HessaTraceAllocate(PETSC_COMM_WORLD, (HessaTraceMethod)i, plan.trace_samples, (uint64_t)plan.trace_seed, &tr[i]));
  if (plan.resume) {
    PetscCall(HessaSpectrumStateRead(PETSC_COMM_WORLD, plan.output, &key, &dens, tr));
    if (plan.extremes > 0) PetscCall(HessaSpectrumExtremesStateRead(PETSC_COMM_WORLD, plan.output, plan.extremes, plan.tol, op, ex_prev, ex_done, &ex_found));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "resumed from %s/%s: %" PetscInt_FMT " of %" PetscInt_FMT " SLQ probes, %" PetscInt_FMT " + %" PetscInt_FMT " trace probes finished\n", plan.output, HESSA_SPECTRUM_STATE_FILE, dens.probes_done, dens.probes, tr[0].done, tr[1].done));
    if (ex_found) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  extremes: largest %s (%" PetscInt_FMT " pairs), smallest %s (%" PetscInt_FMT " pairs)\n", ex_done[0] ? "done" : "resumed", ex_prev[0].nconv, ex_done[1] ? "done" : "resumed", ex_prev[1].nconv));
  }
  if (plan.extremes > 0) {
    PetscCall(HessaTimerStart("extremes"));
    PetscCall(HessaLog(PETSC_COMM_WORLD, "extremes: %" PetscInt_FMT " largest and smallest eigenpairs", plan.extremes));
    for (int e = 0; e < 2 && !stopped; e++) {
      if (ex_found && ex_done[e]) { /* finished before the stop: taken as it was */
        ex[e]       = ex_prev[e];
        ex_prev[e]  = (HessaExtremes){0};
        ex_done[e]  = PETSC_TRUE;
      } else {
        HessaWhich            which = e ? HESSA_WHICH_SMALLEST : HESSA_WHICH_LARGEST;
        HessaExtremesSettings es;
        HessaExtremesSettingsForEnd(which, plan.extremes, plan.tol, e ? &ex[0] : NULL, &es);
        PetscCall(HessaSpectrumExtremesContinue(op, which, plan.extremes, &es, PETSC_TRUE, ex_found && ex_prev[e].nconv ? &ex_prev[e] : NULL, &ex[e]));
        stopped    = ex[e].stopped;
        ex_done[e] = !stopped;
      }
      if (!stopped) PetscCall(PrintExtremes(&ex[e], e ? "smallest" : "largest"));
    }
    PetscCall(HessaTimerStop("extremes"));
  }
  if (plan.full && !stopped) {
    PetscCall(HessaTimerStart("full"));
    PetscCall(HessaSpectrumFull(op, plan.zero_tol, &full));
    PetscCall(HessaTimerStop("full"));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "full spectrum (ScaLAPACK, n = %" PetscInt_FMT "): min % .12e, max % .12e; %" PetscInt64_FMT " products, %.2f s\n", full.n, full.values[0], full.values[full.n - 1], full.products, full.seconds));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  asymmetry |H - H^T|_F / |H|_F = %.2e (symmetrized before the eigensolve)\n", full.asymmetry));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  negative %" PetscInt_FMT ", zero %" PetscInt_FMT ", positive %" PetscInt_FMT " (zero: |lambda| <= %.2e)\n", full.n_negative, full.n_zero, full.n_positive, full.zero_tol));
  }
  if (plan.density && !stopped) {
    PetscCall(HessaTimerStart("density"));
    PetscCall(HessaSpectrumDensityContinue(op, &plan.slq, PETSC_TRUE, &dens));
    PetscCall(HessaTimerStop("density"));
    stopped = dens.stopped;
  }
  if (plan.density && !stopped) {
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "density (SLQ, %" PetscInt_FMT " probes x %" PetscInt_FMT " Lanczos steps, seed %" PetscInt64_FMT ", %s): %" PetscInt64_FMT " products, %.2f s\n", dens.probes, dens.steps, (PetscInt64)dens.seed,
                          plan.slq.block ? "block" : "probe at a time", dens.products, dens.seconds));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  negative fraction   %.4f +- %.4f\n", dens.negative_fraction, dens.negative_fraction_se));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  positive fraction   %.4f +- %.4f (minimum ratio)\n", dens.positive_fraction, dens.positive_fraction_se));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  near zero fraction  %.4f +- %.4f (|lambda| <= %.2e)\n", dens.near_zero_fraction, dens.near_zero_fraction_se, dens.near_zero_width));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  smoothing sigma %.3e on %" PetscInt_FMT " grid points [%.4e, %.4e]\n", dens.sigma, dens.n_grid, dens.grid[0], dens.grid[dens.n_grid - 1]));
    for (PetscInt p = 0; p < dens.probes; p++)
      if (dens.probe_steps[p] < dens.steps) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  probe %" PetscInt_FMT ": Lanczos breakdown after %" PetscInt_FMT " steps (invariant subspace found)\n", p, dens.probe_steps[p]));
  }
  for (int i = 0; i < 2 && !stopped; i++) {
    if (!tr[i].q) continue;
    PetscCall(HessaTimerStart("trace"));
    PetscCall(HessaSpectrumTraceContinue(op, PETSC_TRUE, &tr[i]));
    PetscCall(HessaTimerStop("trace"));
    stopped = tr[i].stopped;
    if (!stopped) PetscCall(PrintTrace(&tr[i]));
  }
  if (stopped) {
    if (plan.output[0]) {
      PetscCall(HessaSpectrumStateWrite(PETSC_COMM_WORLD, plan.output, &key, &dens, tr));
      if (plan.extremes > 0) PetscCall(HessaSpectrumExtremesStateWrite(PETSC_COMM_WORLD, plan.output, plan.extremes, plan.tol, op->n_op, ex, ex_done));
      PetscCall(HessaSpectrumWriteOutput(PETSC_COMM_WORLD, plan.output, &key, &dens, tr, PETSC_TRUE, op->n_products));
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "stopped on request (signal %d) after %" PetscInt64_FMT " products: %" PetscInt_FMT " of %" PetscInt_FMT " SLQ probes finished; state in %s/%s, partial report in %s/report.json; rerun with -resume to continue\n", HessaStopSignal(), op->n_products, dens.probes_done, dens.probes, plan.output, HESSA_SPECTRUM_STATE_FILE, plan.output));
    } else PetscCall(PetscPrintf(PETSC_COMM_WORLD, "stopped on request (signal %d) after %" PetscInt64_FMT " products; nothing saved: give -hessa_spectrum_output FOLDER to keep the finished probes and resume\n", HessaStopSignal(), op->n_products));
    HessaStopMarkStopped();
  } else if (plan.output[0]) {
    PetscCall(HessaSpectrumWriteOutput(PETSC_COMM_WORLD, plan.output, &key, &dens, tr, PETSC_FALSE, op->n_products));
    PetscCall(HessaSpectrumStateRemove(PETSC_COMM_WORLD, plan.output));
    PetscCall(HessaSpectrumExtremesStateRemove(PETSC_COMM_WORLD, plan.output));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "total: %" PetscInt64_FMT " products (%.2f s in products, %.2f s of it communication), %.2f s\n", op->n_products, op->product_seconds, op->comm_seconds, MPI_Wtime() - t0));
  if (plan.csv[0] && !stopped) PetscCall(WriteCSV(plan.csv, ex, plan.full ? &full : NULL, plan.density ? &dens : NULL));
  for (int e = 0; e < 2; e++) {
    PetscCall(HessaExtremesDestroy(&ex[e]));
    PetscCall(HessaExtremesDestroy(&ex_prev[e]));
  }
  PetscCall(HessaFullSpectrumDestroy(&full));
  PetscCall(HessaDensityDestroy(&dens));
  PetscCall(HessaTraceDestroy(&tr[0]));
  PetscCall(HessaTraceDestroy(&tr[1]));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}
