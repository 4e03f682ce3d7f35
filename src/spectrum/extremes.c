/* Extreme eigenpairs of the curvature operator with SLEPc EPS on the MatShell.
 *
 * The solver sees only products with op->H. Every -hessa_eps_* option reaches it through
 * the options prefix, so the Krylov-Schur default can be swapped for lanczos, lobpcg,
 * arpack, ... from the command line. Residuals are not taken from the solver's estimate:
 * each returned pair is checked with one more (block) product.
 */
#include <hessa/spectrum.h>
#include <slepceps.h>
#include <math.h>

/* Collective: out->residuals[i] = |H v_i - lambda_i v_i| / |v_i| with one block product. */
static PetscErrorCode ExplicitResiduals(HessaOperator op, PetscInt nconv, Vec *V, HessaExtremes *out)
{
  Vec *HV;

  PetscFunctionBegin;
  if (nconv == 0) PetscFunctionReturn(0);
  PetscCall(VecDuplicateVecs(V[0], nconv, &HV));
  PetscCall(HessaOperatorApplyBlock(op, nconv, V, HV));
  for (PetscInt i = 0; i < nconv; i++) {
    double vnorm, rnorm;
    PetscCall(VecNorm(V[i], NORM_2, &vnorm));
    PetscCall(VecAXPY(HV[i], -out->values[i], V[i]));
    PetscCall(VecNorm(HV[i], NORM_2, &rnorm));
    out->residuals[i] = rnorm / PetscMax(vnorm, 1e-300);
  }
  PetscCall(VecDestroyVecs(nconv, &HV));
  PetscFunctionReturn(0);
}

/* The eigensolvers hessa accepts for -hessa_eps_type: each is tested against the full
 * spectrum at both ends (tests/spectrum/test_eps_types.c). Every other SLEPc type is refused
 * before any product, with the reason below when hessa knows one (docs/spectrum.md). */
static const char *const AcceptedTypes[] = {EPSKRYLOVSCHUR, EPSARPACK, NULL};

typedef struct {
  const char *type, *why;
} RefusedType;

static const RefusedType RefusedTypes[] = {
    {EPSLANCZOS, "its explicit restart locks whichever pairs converge first, not the extreme ones: on the embedded default it returned 0.0973 as the smallest eigenvalue (the smallest is 5.4e-05), marked converged; krylovschur is Lanczos with thick "
                 "restart and keeps the extreme end"},
    {EPSARNOLDI, "explicit restart like lanczos, whose converged pairs were not the extreme ones; hessa has not checked it against the full spectrum"},
    {EPSPOWER, "power iteration finds the eigenvalue of largest magnitude only, not both ends"},
    {EPSSUBSPACE, "subspace iteration finds the eigenvalues of largest magnitude only, not both ends"},
    {EPSLOBPCG, "without a preconditioner (the shell operator has no diagonal) it is a slow block method: 1490 and 1839 products for 3 pairs at the two ends of the n = 200 quadratic, where krylovschur needs 21 and 83"},
    {EPSGD, "without a preconditioner its smallest end of the embedded default did not finish in 200 s on 2 ranks, where krylovschur needs 998 products"},
    {EPSJD, "without a preconditioner it needed 78,000 products for the smallest end of the n = 400 quadratic"},
    {EPSRQCG, "it computes the smallest end only"},
    {EPSLAPACK, "it needs an assembled matrix; the whole spectrum of a small operator is -hessa_spectrum_full"},
    {EPSSCALAPACK, "it needs an assembled matrix; the whole spectrum of a small operator is -hessa_spectrum_full"},
    {NULL, NULL},
};

/* HessaExtremesTypeCheck - not collective (every rank reads the same options database):
 * an error naming the accepted types when -hessa_eps_type (or `type`, when not NULL) is one
 * hessa refuses. Input: comm for the error, type (NULL: the option's value). Options:
 * -hessa_eps_type. */
PetscErrorCode HessaExtremesTypeCheck(MPI_Comm comm, const char type[])
{
  char      given[64] = "";
  PetscBool set       = PETSC_FALSE, match;

  PetscFunctionBegin;
  if (type) {
    PetscCall(PetscStrncpy(given, type, sizeof given));
    set = PETSC_TRUE;
  } else
    PetscCall(PetscOptionsGetString(NULL, "hessa_", "-eps_type", given, sizeof given, &set));
  if (!set) PetscFunctionReturn(0);
  for (int i = 0; AcceptedTypes[i]; i++) {
    PetscCall(PetscStrcmp(given, AcceptedTypes[i], &match));
    if (match) PetscFunctionReturn(0);
  }
  for (int i = 0; RefusedTypes[i].type; i++) {
    PetscCall(PetscStrcmp(given, RefusedTypes[i].type, &match));
    if (match) SETERRQ(comm, PETSC_ERR_ARG_WRONG, "-hessa_eps_type %s is refused: %s. Use krylovschur (the default) or arpack", given, RefusedTypes[i].why);
  }
  SETERRQ(comm, PETSC_ERR_ARG_WRONG, "-hessa_eps_type %s is refused: hessa has not checked it against the full spectrum at both ends of a shell operator. Use krylovschur (the default) or arpack", given);
}

/* ARPACK takes neither a user stopping test nor SLEPc's convergence tests: it judges a Ritz
 * value theta by |r| <= tol |theta|. Where hessa asks for an absolute test (residuals against
 * the spectral scale s, for eigenvalues near zero), the smallest end is solved on H + 2 s I,
 * whose eigenvalues lie in [s, 3 s]: ARPACK's relative test with tol / 3 is then at least as
 * tight as tol * s. Returns the relative tolerance to report. */
static PetscErrorCode ArpackSettings(EPS eps, HessaWhich which, double spectral_scale, PetscReal *report_tol)
{
  EPSConv   conv;
  PetscReal tol;
  PetscInt  max_it;

  PetscFunctionBegin;
  PetscCall(EPSGetConvergenceTest(eps, &conv));
  PetscCall(EPSGetTolerances(eps, &tol, &max_it));
  if (conv == EPS_CONV_ABS && spectral_scale > 0) tol /= spectral_scale;
  *report_tol = tol;
  PetscCall(EPSSetConvergenceTest(eps, EPS_CONV_REL));
  if (which == HESSA_WHICH_SMALLEST && spectral_scale > 0) {
    ST st;
    PetscCall(EPSGetST(eps, &st));
    PetscCall(STSetType(st, STSHIFT));
    PetscCall(STSetShift(st, -2.0 * spectral_scale));
    tol /= 3.0;
  }
  PetscCall(EPSSetTolerances(eps, tol, max_it));
  PetscFunctionReturn(0);
}

/* SLEPc's stopping test plus a collective stop check at every restart (all ranks run it). */
static PetscErrorCode StopTest(EPS eps, PetscInt its, PetscInt max_it, PetscInt nconv, PetscInt nev, EPSConvergedReason *reason, void *ctx)
{
  HessaOperator op = (HessaOperator)ctx;
  PetscBool     stop;

  PetscFunctionBegin;
  PetscCall(EPSStoppingBasic(eps, its, max_it, nconv, nev, reason, NULL));
  if (*reason != EPS_CONVERGED_ITERATING) PetscFunctionReturn(0);
  PetscCall(HessaStopAgree(op->comm, &stop));
  if (stop) *reason = EPS_CONVERGED_USER;
  PetscFunctionReturn(0);
}

/* ARPACK takes no stopping test, but it asks for every product through the operator: for a
 * stoppable ARPACK solve the EPS sees this shell around op->H, which asks HessaStopAgree
 * before each product (every rank reaches the same product of the reverse-communication
 * loop, so they agree) and, on a stop, raises HESSA_ERR_STOPPED instead of computing it. The
 * error unwinds out of ARPACK's loop and EPSSolve, silently (HessaErrorExpect), and the
 * caller reports the end as stopped. ARPACK keeps no partial pairs (its Ritz vectors are
 * formed only at the end): the stopped end is solved afresh on -resume. Cost: one integer
 * Allreduce per product. */
typedef struct {
  HessaOperator op;
  PetscBool     stopped; /* this shell raised the stop */
} StopShell;

static PetscErrorCode StopShellMult(Mat W, Vec x, Vec y)
{
  StopShell *s;
  PetscBool  stop;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(W, &s));
  PetscCall(HessaStopAgree(s->op->comm, &stop));
  if (stop) {
    s->stopped = PETSC_TRUE;
    SETERRQ(PETSC_COMM_SELF, HESSA_ERR_STOPPED, "stop requested: the ARPACK solve ends before this product");
  }
  PetscCall(MatMult(s->op->H, x, y));
  PetscFunctionReturn(0);
}

/* Collective: EPSSolve of an ARPACK solve through a StopShell (which must outlive the EPS:
 * the EPS keeps the shell matrix); *stopped says whether a stop request ended it (then the
 * EPS holds no result). Any other error is raised as usual. */
static PetscErrorCode SolveStoppableArpack(EPS eps, StopShell *shell, PetscBool *stopped)
{
  HessaOperator  op = shell->op;
  Mat            W;
  PetscInt       m, N;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(MatGetLocalSize(op->H, &m, NULL));
  PetscCall(MatGetSize(op->H, &N, NULL));
  PetscCall(MatCreateShell(op->comm, m, m, N, N, shell, &W));
  PetscCall(MatShellSetOperation(W, MATOP_MULT, (void (*)(void))StopShellMult));
  PetscCall(MatSetOption(W, MAT_SYMMETRIC, PETSC_TRUE));
  PetscCall(MatSetOption(W, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
  PetscCall(EPSSetOperators(eps, W, NULL)); /* the spectral transformation set so far stays */
  HessaErrorExpect(HESSA_ERR_STOPPED);
  ierr = EPSSolve(eps); /* not PetscCall: a stop comes back as HESSA_ERR_STOPPED */
  HessaErrorExpect(0);
  *stopped = ierr == HESSA_ERR_STOPPED && shell->stopped ? PETSC_TRUE : PETSC_FALSE;
  if (!*stopped) PetscCall(ierr);
  PetscCall(MatDestroy(&W));
  PetscFunctionReturn(0);
}

/* Progress of one end: the pairs converged so far and the error estimate of the next one. */
typedef struct {
  HessaProgress progress;
  HessaOperator op;
  PetscInt      nev, n_prev;
  const char   *end;
} ExtremesProgress;

/* EPS monitor, called by every rank after each restart: a progress line (HessaProgressUpdate,
 * collective) whose fraction done is the pairs converged of the pairs wanted, kept pairs of a
 * resumed run included: 100% only when every pair has converged. How far the next pair has
 * come is said in words (its error estimate against the tolerance), not folded into the
 * percentage, where a log-scale guess read 100% while that pair was still converging. */
static PetscErrorCode ExtremesMonitor(EPS eps, PetscInt its, PetscInt nconv, PetscScalar *eigr, PetscScalar *eigi, PetscReal *errest, PetscInt nest, void *ctx)
{
  ExtremesProgress *p = (ExtremesProgress *)ctx;
  PetscReal         tol;
  PetscInt          max_it, k = p->nev - p->n_prev, have = PetscMin(nconv, k) + p->n_prev;
  char              what[160];

  PetscFunctionBegin;
  (void)eigi;
  PetscCall(EPSGetTolerances(eps, &tol, &max_it));
  if (nconv < nest && nconv < k)
    PetscCall(PetscSNPrintf(what, sizeof what, "%s: %" PetscInt_FMT " of %" PetscInt_FMT " pairs converged, next lambda ~ %.6g (error estimate %.1e, tolerance %.1e), restart %" PetscInt_FMT, p->end, have, p->nev, (double)PetscRealPart(eigr[nconv]),
                            (double)errest[nconv], (double)tol, its));
  else
    PetscCall(PetscSNPrintf(what, sizeof what, "%s: %" PetscInt_FMT " of %" PetscInt_FMT " pairs converged, restart %" PetscInt_FMT, p->end, have, p->nev, its));
  PetscCall(HessaProgressUpdate(&p->progress, p->op, (double)have / (double)p->nev, what));
  PetscFunctionReturn(0);
}

/* HessaSpectrumExtremes - k eigenpairs at one end of the spectrum of op->H.
 * Collective on op->comm.
 * Input: which (largest / smallest algebraic), k (1..n_op), tol (<= 0: SLEPc default),
 * keep_vectors. Output: out (free with HessaExtremesDestroy).
 * Options: every -hessa_eps_* option of SLEPc (type, tol, ncv, mpd, max_it, ...) and
 * -hessa_st_* (the preconditioner defaults to none: the shell has no diagonal;
 * -hessa_eps_type lanczos defaults to full reorthogonalization). */
PetscErrorCode HessaSpectrumExtremes(HessaOperator op, HessaWhich which, PetscInt k, double tol, PetscBool keep_vectors, HessaExtremes *out)
{
  HessaExtremesSettings s = {tol, 0, 0};

  PetscFunctionBegin;
  PetscCall(HessaSpectrumExtremesWithSettings(op, which, k, &s, keep_vectors, out));
  PetscFunctionReturn(0);
}

/* HessaSpectrumExtremesWithSettings - HessaSpectrumExtremes with explicit settings (tolerance,
 * spectral scale, search-space size). Collective on op->comm. */
PetscErrorCode HessaSpectrumExtremesWithSettings(HessaOperator op, HessaWhich which, PetscInt k, const HessaExtremesSettings *s, PetscBool keep_vectors, HessaExtremes *out)
{
  PetscFunctionBegin;
  PetscCall(HessaSpectrumExtremesContinue(op, which, k, s, PETSC_FALSE, NULL, out));
  if (!keep_vectors && out->vectors) PetscCall(VecDestroyVecs(out->nconv, &out->vectors));
  PetscFunctionReturn(0);
}

/* HessaExtremesSettingsForEnd - not collective: the one rule for the settings of each end
 * (see spectrum.h). Input: which, k, tol, largest (the largest end's result, or NULL).
 * Output: s. */
void HessaExtremesSettingsForEnd(HessaWhich which, PetscInt k, double tol, const HessaExtremes *largest, HessaExtremesSettings *s)
{
  s->tol   = tol;
  s->scale = 0;
  s->ncv   = 0;
  if (which != HESSA_WHICH_SMALLEST) return;
  if (largest && largest->nconv > 0) s->scale = PetscAbsReal(largest->values[0]);
  s->ncv = 2 * k + 1 < 80 ? 80 : 0;
}

/* HessaSpectrumExtremesContinue - collective on op->comm; see spectrum.h. */
PetscErrorCode HessaSpectrumExtremesContinue(HessaOperator op, HessaWhich which, PetscInt k, const HessaExtremesSettings *s, PetscBool stoppable, const HessaExtremes *prev, HessaExtremes *out)
{
  const double       tol = s->tol, spectral_scale = s->scale;
  EPS                eps;
  EPSType            type;
  EPSConvergedReason reason;
  PetscInt           nconv, max_it, n_prev = prev ? prev->nconv : 0, k_new;
  PetscReal          used_tol, report_tol;
  PetscBool          is_arpack, interrupted = PETSC_FALSE;
  StopShell          stop_shell = {op, PETSC_FALSE}; /* lives as long as the EPS */
  PetscInt64         products0  = op->n_products;
  double             t0 = MPI_Wtime(), scale = 0;
  Vec               *V;
  ExtremesProgress   progress;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(out, sizeof *out));
  PetscCheck(k >= 1, op->comm, HESSA_ERR_ARG, "extremes: k = %" PetscInt_FMT " eigenpairs requested; need k >= 1", k);
  PetscCheck(k <= op->n_op, op->comm, HESSA_ERR_ARG, "extremes: k = %" PetscInt_FMT " eigenpairs requested but the operator has only n = %" PetscInt_FMT " (k must be <= n)", k, op->n_op);
  PetscCheck(n_prev < k, op->comm, HESSA_ERR_ARG, "extremes: %" PetscInt_FMT " pairs already converged, %" PetscInt_FMT " requested: nothing to resume", n_prev, k);
  PetscCheck(!n_prev || prev->vectors, op->comm, PETSC_ERR_ARG_NULL, "extremes: resuming needs the converged vectors");
  k_new = k - n_prev;
  PetscCall(EPSCreate(op->comm, &eps));
  PetscCall(EPSSetOperators(eps, op->H, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, which == HESSA_WHICH_LARGEST ? EPS_LARGEST_REAL : EPS_SMALLEST_REAL));
  /* s->ncv: a search-space size chosen by the caller (-hessa_eps_ncv still wins) */
  if (s->ncv > k_new && op->n_op > 2 * k_new)
    PetscCall(EPSSetDimensions(eps, k_new, PetscMin(op->n_op - n_prev, s->ncv), PETSC_DEFAULT));
  else
    PetscCall(EPSSetDimensions(eps, k_new, PETSC_DEFAULT, PETSC_DEFAULT));
  /* pairs of a stopped solve: the search continues orthogonally to them */
  if (n_prev) PetscCall(EPSSetDeflationSpace(eps, n_prev, prev->vectors));
  if (tol > 0) PetscCall(EPSSetTolerances(eps, tol, PETSC_DEFAULT));
  if (spectral_scale > 0) {
    /* a known spectral scale (e.g. |lambda_max| from the other end): judge residuals
       against it, not against |lambda|, or eigenvalues near zero never converge */
    PetscCall(EPSSetConvergenceTest(eps, EPS_CONV_ABS));
    PetscCall(EPSSetTolerances(eps, (tol > 0 ? tol : 1e-8) * spectral_scale, PETSC_DEFAULT));
  }
  PetscCall(EPSSetOptionsPrefix(eps, "hessa_"));
  progress = (ExtremesProgress){.op = op, .nev = k, .n_prev = n_prev, .end = which == HESSA_WHICH_LARGEST ? "largest" : "smallest"};
  /* one progress phase per end: 100% of the largest end is not the end of the extremes */
  HessaProgressStart(&progress.progress, which == HESSA_WHICH_LARGEST ? "extremes (largest end)" : "extremes (smallest end)", op);
  PetscCall(EPSMonitorSet(eps, ExtremesMonitor, &progress, NULL));
  {
    /* the shell has no diagonal: preconditioned solvers (lobpcg, gd, jd) default to no
       preconditioner instead of failing in PCSetUp; -hessa_st_pc_type still overrides */
    ST  st;
    KSP ksp;
    PC  pc;
    PetscCall(EPSGetST(eps, &st));
    PetscCall(STGetKSP(st, &ksp));
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PCSetType(pc, PCNONE));
  }
  PetscCall(EPSSetFromOptions(eps));
  PetscCall(EPSGetType(eps, &type));
  PetscCall(HessaExtremesTypeCheck(op->comm, type));
  PetscCall(PetscStrcmp(type, EPSARPACK, &is_arpack));
  report_tol = -1;
  if (is_arpack) PetscCall(ArpackSettings(eps, which, spectral_scale, &report_tol));
  /* ARPACK takes no stopping test: a stoppable solve is interrupted through its products */
  else if (stoppable)
    PetscCall(EPSSetStoppingTestFunction(eps, StopTest, op, NULL));
  {
    /* plain Lanczos insists on an explicit reorthogonalization: full unless told otherwise */
    PetscBool is_lanczos, given;
    PetscCall(PetscObjectTypeCompare((PetscObject)eps, EPSLANCZOS, &is_lanczos));
    PetscCall(PetscOptionsHasName(NULL, "hessa_", "-eps_lanczos_reorthog", &given));
    if (is_lanczos && !given) PetscCall(EPSLanczosSetReorthog(eps, EPS_LANCZOS_REORTHOG_FULL));
  }
  if (is_arpack && stoppable)
    PetscCall(SolveStoppableArpack(eps, &stop_shell, &interrupted));
  else
    PetscCall(EPSSolve(eps));
  if (interrupted) { /* no pair of this solve: the kept ones only */
    reason = EPS_CONVERGED_USER;
    nconv  = 0;
  } else {
    PetscCall(EPSGetConvergedReason(eps, &reason));
    PetscCall(EPSGetConverged(eps, &nconv));
  }
  out->stopped = reason == EPS_CONVERGED_USER ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(EPSGetTolerances(eps, &used_tol, &max_it));
  if (spectral_scale > 0) {
    EPSConv conv;
    PetscCall(EPSGetConvergenceTest(eps, &conv));
    if (conv == EPS_CONV_ABS) used_tol /= spectral_scale; /* report the relative tolerance */
    scale = spectral_scale;
  }
  if (report_tol > 0) used_tol = report_tol;
  PetscCall(PetscStrncpy(out->eps_type, type, sizeof out->eps_type));
  nconv      = PetscMin(nconv, k_new) + n_prev;
  out->nev   = k;
  out->tol   = used_tol;
  out->nconv = nconv;
  PetscCall(PetscCalloc3(PetscMax(nconv, 1), &out->values, PetscMax(nconv, 1), &out->residuals, PetscMax(nconv, 1), &out->converged));
  if (nconv > 0) {
    Vec tmpl;
    PetscCall(HessaOperatorCreateVec(op, &tmpl));
    PetscCall(VecDuplicateVecs(tmpl, nconv, &V));
    PetscCall(VecDestroy(&tmpl));
    for (PetscInt i = 0; i < n_prev; i++) {
      PetscCall(VecCopy(prev->vectors[i], V[i]));
      out->values[i] = prev->values[i];
    }
    for (PetscInt i = n_prev; i < nconv; i++) {
      PetscScalar lr;
      PetscCall(EPSGetEigenpair(eps, i - n_prev, &lr, NULL, V[i], NULL));
      out->values[i] = PetscRealPart(lr);
    }
    /* merge the resumed pairs with the new ones in the order of `which` (insertion sort: k is small) */
    for (PetscInt i = 1; i < nconv; i++)
      for (PetscInt j = i; j > 0; j--) {
        PetscBool swap = which == HESSA_WHICH_LARGEST ? out->values[j] > out->values[j - 1] : out->values[j] < out->values[j - 1];
        double    t;
        if (!swap) break;
        t = out->values[j], out->values[j] = out->values[j - 1], out->values[j - 1] = t;
        PetscCall(VecSwap(V[j], V[j - 1]));
      }
    for (PetscInt i = 0; i < nconv; i++) scale = PetscMax(scale, PetscAbsReal(out->values[i]));
    PetscCall(ExplicitResiduals(op, nconv, V, out));
    for (PetscInt i = 0; i < nconv; i++) out->converged[i] = out->residuals[i] <= used_tol * PetscMax(PetscAbsReal(out->values[i]), scale) ? PETSC_TRUE : PETSC_FALSE;
    out->vectors = V;
  }
  PetscCall(EPSDestroy(&eps));
  out->products = op->n_products - products0;
  out->seconds  = MPI_Wtime() - t0;
  PetscFunctionReturn(0);
}

/* HessaExtremesDestroy - frees the arrays and vectors of e (not collective unless vectors
 * were kept: then collective on their communicator). */
PetscErrorCode HessaExtremesDestroy(HessaExtremes *e)
{
  PetscFunctionBegin;
  if (e->vectors) PetscCall(VecDestroyVecs(e->nconv, &e->vectors));
  PetscCall(PetscFree3(e->values, e->residuals, e->converged));
  e->nconv = 0;
  PetscFunctionReturn(0);
}
