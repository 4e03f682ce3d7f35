/* hessa analyze: everything a researcher needs to know about one point.
 *
 *   load -> gradient -> extreme eigenpairs -> full spectrum (small n) or SLQ density
 *        -> trace -> classification -> escape / zero-curvature probes
 *        -> gradient geometry -> Newton -> report (rank 0 writes)
 *
 * The pipeline is HessaAnalyzePoint (analysis layer), the report HessaReportAnalysis (report
 * layer); this file reads the options, calls them and prints.
 *
 * With no model or data options it analyses the embedded default: a 784-16-10 tanh MLP
 * trained to a small gradient norm on the first 1000 Fashion-MNIST training samples
 * (share/default-point, made by tools/make_default_point.py).
 */
#include "cli.h"
#include <hessa/report.h>
#include <stdio.h>
#include <string.h>

/* The embedded default, used when no option names a model or data. */
static PetscErrorCode InsertDefaults(void)
{
  const char *prefixes[] = {"-hessa_model", "-hessa_data", "-hessa_mlp", NULL};
  char       *all;
  PetscBool   any = PETSC_FALSE;
  char        defaults[PETSC_MAX_PATH_LEN + 256];

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  for (int i = 0; prefixes[i]; i++)
    if (strstr(all, prefixes[i])) any = PETSC_TRUE;
  PetscCall(PetscFree(all));
  if (any) PetscFunctionReturn(0);
  PetscCall(PetscSNPrintf(defaults, sizeof defaults, "-hessa_model_weights %s/default-point -hessa_data_limit 1000 -hessa_mlp_weight_decay 1e-3", HESSA_SHARE_DIR));
  PetscCall(PetscOptionsInsertString(NULL, defaults));
  PetscCall(HessaLog(PETSC_COMM_WORLD, "analyze: the embedded default (%s)", defaults));
  PetscFunctionReturn(0);
}

static PetscErrorCode PrintOutcome(MPI_Comm comm, const HessaAnalyzeOptions *o, const HessaAnalysis *a)
{
  const HessaLineProbe *e = &a->escape;

  PetscFunctionBegin;
  if (a->stopped) {
    PetscCall(PetscPrintf(comm, "stopped on request (signal %d) before the %s phase after %" PetscInt64_FMT " products; partial report in %s/report.json; a rerun starts the analysis again\n", HessaStopSignal(), HessaAnalysisPhaseNames[a->stopped_at],
                          a->products, o->output));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscPrintf(comm, "verdict: %s\n%s\n", HessaVerdictTypeNames[a->verdict.type], a->verdict.summary));
  if (a->have_escape) {
    char alpha[32]; /* by the C library: PetscPrintf's %g writes 1 as "1." */
    snprintf(alpha, sizeof alpha, "%g", e->alpha[e->n_alpha - 1]);
    PetscCall(PetscPrintf(comm, "escape: along the eigenvector of %.6g the loss changes by %.3e / %.3e at alpha = +-%s (predicted %.3e)\n", a->escape_lambda, e->change_plus[e->n_alpha - 1], e->change_minus[e->n_alpha - 1], alpha,
                          e->predicted[e->n_alpha - 1]));
  }
  PetscCall(PetscPrintf(comm, "report: %s/report.md (and report.json, CSV, plots); %" PetscInt64_FMT " Hessian-vector products\n", o->output, a->products));
  PetscFunctionReturn(0);
}

/* HessaCliAnalyze - hessa analyze. Collective on PETSC_COMM_WORLD. Options: the
 * -hessa_analyze_* options (HessaAnalyzeOptionsSetFromOptions) and everything
 * HessaSetUpFromOptions reads. A stop signal ends the run at the next safe point between
 * phases with a partial report and exit status 75 (docs/jobs.md). */
PetscErrorCode HessaCliAnalyze(void)
{
  HessaAnalyzeOptions o;
  HessaAnalysis       a;
  PetscBool           help;

  PetscFunctionBegin;
  PetscCall(InsertDefaults());
  PetscCall(HessaAnalyzeOptionsSetFromOptions(PETSC_COMM_WORLD, &o));
  PetscCall(HessaCliHelpRequested(&help));
  if (help) PetscCall(HessaReportOptionsHelp(PETSC_COMM_WORLD));
  if (help) PetscCall(HessaCliSetUpOptionsHelp());
  if (help) PetscFunctionReturn(0);
  o.stoppable = PETSC_TRUE;
  PetscCall(HessaReportCheckFolder(PETSC_COMM_WORLD, o.output));
  PetscCall(HessaAnalyzePoint(PETSC_COMM_WORLD, &o, &a));
  PetscCall(HessaReportAnalysis(PETSC_COMM_WORLD, &a, o.output, NULL));
  PetscCall(PrintOutcome(PETSC_COMM_WORLD, &o, &a));
  if (a.stopped) HessaStopMarkStopped();
  PetscCall(HessaAnalysisDestroy(&a));
  PetscFunctionReturn(0);
}
