/* Newton's direction and the saddle-free Newton direction (background.md section 6),
 * with products only: MINRES on the shell operator (H may be indefinite), and
 * -|H|^-1 g restricted to the Krylov space K_m(H, g) built by Lanczos. */
#include <hessa/analysis.h>
#include <petscksp.h>
#include <petscblaslapack.h>
#include <math.h>

static double AngleDeg(double dot, double na, double nb)
{
  double c;
  if (na == 0 || nb == 0) return 0;
  c = PetscMax(-1.0, PetscMin(1.0, dot / (na * nb)));
  return acos(c) * 180.0 / PETSC_PI;
}

/* Saddle-free Newton in K_m(H, g): Lanczos with full reorthogonalization gives Q_m and
 * T_m = Q^T H Q = S diag(theta) S^T; the step is -Q S |theta|^-1 S^T Q^T g with |theta|
 * floored at zero_tol (directions of zero curvature would send the step to infinity).
 * Q^T g = |g| e_1 because the space starts from g. */
static PetscErrorCode SaddleFreeNewton(HessaOperator op, Vec g, double gnorm, double loss, PetscInt m_max, double zero_tol, HessaNewton *nt)
{
  Vec         *Q, w, d;
  double      *alpha, *beta, *T, *theta, *work, dn, gd, floor_tol = PetscMax(zero_tol, 1e-300);
  PetscBLASInt n_blas, lwork, info;
  PetscInt     m = 0;

  PetscFunctionBegin;
  m_max = PetscMin(m_max, op->n_op);
  PetscCall(VecDuplicateVecs(g, m_max, &Q));
  PetscCall(VecDuplicate(g, &w));
  PetscCall(VecDuplicate(g, &d));
  PetscCall(PetscCalloc5(m_max, &alpha, m_max, &beta, m_max * m_max, &T, m_max, &theta, 3 * m_max + 1, &work));
  PetscCall(VecAXPBY(Q[0], 1.0 / gnorm, 0.0, g));
  for (m = 1; m <= m_max; m++) {
    PetscInt k = m - 1;
    PetscCall(HessaOperatorApply(op, Q[k], w));
    PetscCall(VecDot(w, Q[k], &alpha[k]));
    for (int pass = 0; pass < 2; pass++) /* full reorthogonalization, twice is enough */
      for (PetscInt j = 0; j <= k; j++) {
        double c;
        PetscCall(VecDot(w, Q[j], &c));
        PetscCall(VecAXPY(w, -c, Q[j]));
      }
    PetscCall(VecNorm(w, NORM_2, &beta[k]));
    if (m == m_max || beta[k] <= 1e-12 * PetscMax(fabs(alpha[k]), 1.0)) break; /* invariant subspace */
    PetscCall(VecAXPBY(Q[m], 1.0 / beta[k], 0.0, w));
  }
  m = PetscMin(m, m_max);
  for (PetscInt i = 0; i < m; i++) {
    T[i * m + i] = alpha[i];
    if (i + 1 < m) T[i * m + i + 1] = T[(i + 1) * m + i] = beta[i];
  }
  PetscCall(PetscBLASIntCast(m, &n_blas));
  PetscCall(PetscBLASIntCast(3 * m_max + 1, &lwork));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &n_blas, T, &n_blas, theta, work, &lwork, &info));
  PetscCheck(info == 0, op->comm, PETSC_ERR_LIB, "LAPACK dsyev failed on the %" PetscInt_FMT "x%" PetscInt_FMT " Lanczos matrix (info %d)", m, m, (int)info);
  /* coefficients in the Lanczos basis: c = -S |theta|^-1 S^T (|g| e_1); column i of S is T[i*m ..] */
  PetscCall(VecSet(d, 0.0));
  for (PetscInt j = 0; j < m; j++) {
    double c = 0;
    for (PetscInt i = 0; i < m; i++) c += T[i * m + j] * T[i * m + 0] * gnorm / PetscMax(fabs(theta[i]), floor_tol);
    PetscCall(VecAXPY(d, -c, Q[j]));
  }
  PetscCall(VecNorm(d, NORM_2, &dn));
  PetscCall(VecDot(d, g, &gd));
  nt->sf_dimension = m;
  nt->sf_step_norm = dn;
  nt->sf_angle_deg = AngleDeg(-gd, dn, gnorm);
  PetscCall(HessaOperatorLossAlong(op, d, 1.0, &nt->sf_loss_after));
  PetscCall(PetscFree5(alpha, beta, T, theta, work));
  PetscCall(VecDestroyVecs(m_max, &Q));
  PetscCall(VecDestroy(&w));
  PetscCall(VecDestroy(&d));
  (void)loss;
  PetscFunctionReturn(0);
}

/* Progress of the Newton solve. */
typedef struct {
  HessaProgress progress;
  HessaOperator op;
  double        r0;
} NewtonProgress;

/* KSP monitor, called by every rank at each iteration: a progress line (collective) whose
 * fraction done is the larger of the iterations used and the residual's way down to rtol
 * on a log scale. */
static PetscErrorCode NewtonMonitor(KSP ksp, PetscInt it, PetscReal rnorm, void *ctx)
{
  NewtonProgress *p = (NewtonProgress *)ctx;
  PetscReal       rtol, abstol, dtol;
  PetscInt        max_it;
  double          done = 0;
  char            what[128];

  PetscFunctionBegin;
  PetscCall(KSPGetTolerances(ksp, &rtol, &abstol, &dtol, &max_it));
  if (it == 0) p->r0 = rnorm;
  if (p->r0 > 0 && rnorm > 0 && rtol > 0 && rtol < 1) done = PetscMin(1.0, PetscMax(0.0, log(rnorm / p->r0) / log(rtol)));
  if (max_it > 0) done = PetscMax(done, (double)it / (double)max_it);
  PetscCall(PetscSNPrintf(what, sizeof what, "iteration %" PetscInt_FMT " of at most %" PetscInt_FMT ", relative residual %.2e (target %.1e)", it, max_it, p->r0 > 0 ? rnorm / p->r0 : 0.0, (double)rtol));
  PetscCall(HessaProgressUpdate(&p->progress, p->op, done, what));
  PetscFunctionReturn(0);
}

/* HessaNewtonCompute - collective; see analysis.h. Options prefix hessa_newton_ (KSP):
 * defaults MINRES, no preconditioner, rtol 1e-8, at most 200 iterations. */
PetscErrorCode HessaNewtonCompute(HessaOperator op, Vec g_op, double loss, PetscInt sf_dim, double zero_tol, HessaNewton *nt)
{
  KSP                ksp;
  PC                 pc;
  Vec                rhs, d, r;
  double             gnorm, dn, gd, rn;
  KSPConvergedReason reason;
  KSPType            type;
  const double       ts[9]    = {-0.5, -0.25, 0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5};
  NewtonProgress     progress = {.op = op};

  PetscFunctionBegin;
  PetscCall(PetscMemzero(nt, sizeof *nt));
  PetscCall(VecNorm(g_op, NORM_2, &gnorm));
  PetscCall(PetscStrncpy(nt->solver, "minres", sizeof nt->solver));
  nt->loss_after = loss;
  if (gnorm == 0) { /* at an exact critical point Newton's step is 0 */
    nt->converged = PETSC_TRUE;
    PetscFunctionReturn(0);
  }
  PetscCall(VecDuplicate(g_op, &rhs));
  PetscCall(VecDuplicate(g_op, &d));
  PetscCall(VecDuplicate(g_op, &r));
  PetscCall(VecAXPBY(rhs, -1.0, 0.0, g_op));
  PetscCall(KSPCreate(op->comm, &ksp));
  PetscCall(KSPSetOptionsPrefix(ksp, "hessa_newton_"));
  PetscCall(KSPSetOperators(ksp, op->H, op->H));
  PetscCall(KSPSetType(ksp, KSPMINRES));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCNONE));
  PetscCall(KSPSetTolerances(ksp, 1e-8, PETSC_DEFAULT, PETSC_DEFAULT, 200));
  HessaProgressStart(&progress.progress, "newton", op);
  PetscCall(KSPMonitorSet(ksp, NewtonMonitor, &progress, NULL));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(KSPSolve(ksp, rhs, d));
  PetscCall(KSPGetIterationNumber(ksp, &nt->iterations));
  PetscCall(KSPGetConvergedReason(ksp, &reason));
  PetscCall(KSPGetType(ksp, &type));
  PetscCall(PetscStrncpy(nt->solver, type, sizeof nt->solver));
  nt->converged = reason > 0 ? PETSC_TRUE : PETSC_FALSE;
  /* the true residual |H d + g| / |g|, with one more product */
  PetscCall(HessaOperatorApply(op, d, r));
  PetscCall(VecAXPY(r, 1.0, g_op));
  PetscCall(VecNorm(r, NORM_2, &rn));
  nt->relative_residual = rn / gnorm;
  if (!nt->converged)
    PetscCall(PetscSNPrintf(nt->note, sizeof nt->note, "%s did not converge (%s after %" PetscInt_FMT " iterations, relative residual %.3e): the step reported is not Newton's step", type, KSPConvergedReasons[reason], nt->iterations,
                            nt->relative_residual));
  PetscCall(VecNorm(d, NORM_2, &dn));
  PetscCall(VecDot(d, g_op, &gd));
  nt->step_norm = dn;
  nt->angle_deg = AngleDeg(-gd, dn, gnorm);
  nt->n_line    = 9;
  for (int k = 0; k < 9; k++) {
    nt->line_t[k] = ts[k];
    PetscCall(HessaOperatorLossAlong(op, d, ts[k], &nt->line_loss[k]));
  }
  nt->loss_after = nt->line_loss[6];
  if (sf_dim > 0) PetscCall(SaddleFreeNewton(op, g_op, gnorm, loss, sf_dim, zero_tol, nt));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(VecDestroy(&rhs));
  PetscCall(VecDestroy(&d));
  PetscCall(VecDestroy(&r));
  PetscFunctionReturn(0);
}

/* HessaNewtonAtPoint - collective; see analysis.h. Input: gradient_norm (|g_op|) and its
 * tolerance from the verdict. Output: nt (computed, or skipped with the reason). */
PetscErrorCode HessaNewtonAtPoint(HessaOperator op, Vec g_op, double loss, double gradient_norm, double gradient_tol, PetscInt sf_dim, double zero_tol, HessaNewton *nt)
{
  PetscFunctionBegin;
  if (gradient_norm > gradient_tol) {
    PetscCall(HessaNewtonCompute(op, g_op, loss, sf_dim, zero_tol, nt));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMemzero(nt, sizeof *nt));
  nt->skipped    = PETSC_TRUE;
  nt->loss_after = loss;
  PetscCall(PetscSNPrintf(nt->reason, sizeof nt->reason, "skipped: the gradient norm %.3e is at most the tolerance %.3e (a critical point), so -H^-1 g is a step of round-off and its residual would measure noise", gradient_norm, gradient_tol));
  PetscFunctionReturn(0);
}
