/* The arithmetic of the progress lines (HessaProgressPercent, HessaProgressETA) on known
 * inputs, with the answers worked out by hand:
 *   - the percentage is rounded down and reads 100 only at the end: 4 of 5 pairs -> 80,
 *     0.996 (the old log-scale guess for a pair still converging) -> 99, 1 -> 100; nothing
 *     done, NaN and negative -> 0;
 *   - the ETA comes from the rate measured since the first update, not since the start:
 *     an assembly whose first block of columns took 10 s of set-up (done 1% at t = 10 s)
 *     and then 1 s per 1% reads at t = 20 s (done 11%) 89 s left, exactly what remains
 *     (the old elapsed x (1 - done) / done said 161.8 s);
 *   - a resumed run that starts at 50% and does 1% per s reads 40 s left at 60% (the old
 *     formula, which credited this run with the stopped run's half, said 6.7 s);
 *   - no progress since the first update, or no time: unknown (-1); done: 0.
 * Exact to 1e-12 relative. Silent on success; one rank (no communication).
 */
#include <hessa/spectrum.h>
#include <math.h>

static PetscErrorCode CheckPercent(double done, int want)
{
  PetscFunctionBegin;
  PetscCheck(HessaProgressPercent(done) == want, PETSC_COMM_SELF, PETSC_ERR_PLIB, "HessaProgressPercent(%.17g) = %d, expected %d", done, HessaProgressPercent(done), want);
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckETA(double t_first, double done_first, double now, double done, double want)
{
  double got = HessaProgressETA(t_first, done_first, now, done);

  PetscFunctionBegin;
  PetscCheck(fabs(got - want) <= 1e-12 * PetscMax(1.0, fabs(want)), PETSC_COMM_SELF, PETSC_ERR_PLIB, "HessaProgressETA(first %g s at %g, now %g s at %g) = %.17g s, expected %.17g s", t_first, done_first, now, done, got, want);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBegin;
  /* extremes: pairs converged of pairs wanted */
  PetscCall(CheckPercent(0.0 / 5, 0));
  PetscCall(CheckPercent(4.0 / 5, 80));
  PetscCall(CheckPercent(2.0 / 3, 66));
  PetscCall(CheckPercent(0.996, 99));
  PetscCall(CheckPercent(0.99999999, 99));
  PetscCall(CheckPercent(1.0, 100));
  PetscCall(CheckPercent(1.5, 100));
  PetscCall(CheckPercent(-0.25, 0));
  PetscCall(CheckPercent(NAN, 0));
  /* assembly: 10 s of set-up in the first block, then 1 s per 1% */
  PetscCall(CheckETA(10, 0.01, 20, 0.11, 89));
  PetscCall(CheckETA(10, 0.01, 109, 1.0, 0));
  /* a resumed run: starts at 50%, 1% per s */
  PetscCall(CheckETA(3, 0.5, 13, 0.6, 40));
  /* no rate yet */
  PetscCall(CheckETA(10, 0.2, 30, 0.2, -1));
  PetscCall(CheckETA(10, 0.0, 10, 0.3, -1));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
