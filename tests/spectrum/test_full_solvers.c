/* Every dense eigensolver of the full spectrum (ELPA two-stage, ScaLAPACK pdsyevd, pdsyevr,
 * pdsyev) on quadratics with prescribed spectra (closed form: the eigenvalues are given, the
 * eigenvectors are Householder products, not the axes). Same answers at every rank count.
 * 1. n = 601 (at 3 ranks the operator's row split differs from ScaLAPACK's: the assembly
 *    shifts rows): 60 negative eigenvalues, a bulk with a cluster of 40 equal eigenvalues
 *    (0.5), outliers up to 50. Each solver, eigenvalues only: sorted values equal the
 *    prescribed ones to 1e-10 max|lambda|, counts 60 / 0 / 541, exactly n products.
 * 2. The same with eigenvectors: for 6 pairs (both ends and the cluster) the residual
 *    |H v - lambda v| <= 1e-10 max|lambda| by operator products, |v| = 1 to 1e-12.
 * 3. n = 5 (block size lowered to fit the grid; ELPA runs with one-column blocks at 3
 *    ranks): each solver equals the prescribed values to 1e-12 max|lambda|.
 * 4. HessaFullSpectrumMemory: the estimate grows like n^2 / P, a 1 MiB cap does not fit and
 *    HessaSpectrumFullWithSettings refuses it.
 * Options: -verbose prints the measured errors. */
#include "spectrum_test.h"
#include <math.h>

static PetscBool verbose = PETSC_FALSE;

/* Residual |H v - lambda v| and |v| of column j of the eigenvector matrix. */
static PetscErrorCode PairResidual(HessaOperator op, Mat V, PetscInt j, double lambda, double *res, double *norm)
{
  Mat           D;
  Vec           col, v, Hv;
  const double *c;
  double       *x;
  PetscInt      lo, hi, dlo, dhi;
  PetscBool     same;

  PetscFunctionBegin;
  PetscCall(MatConvert(V, MATDENSE, MAT_INITIAL_MATRIX, &D));
  PetscCall(HessaOperatorCreateVec(op, &v));
  PetscCall(VecDuplicate(v, &Hv));
  PetscCall(VecGetOwnershipRange(v, &lo, &hi));
  PetscCall(MatGetOwnershipRange(D, &dlo, &dhi));
  PetscCall(MatDenseGetColumnVecRead(D, j, &col));
  same = lo == dlo && hi == dhi ? PETSC_TRUE : PETSC_FALSE;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPIU_BOOL, MPI_LAND, PETSC_COMM_WORLD));
  if (same) {
    PetscCall(VecGetArrayRead(col, &c));
    PetscCall(VecGetArray(v, &x));
    PetscCall(PetscArraycpy(x, c, hi - lo));
    PetscCall(VecRestoreArray(v, &x));
    PetscCall(VecRestoreArrayRead(col, &c));
  } else { /* different row splits: move the column through the global indices */
    IS         is;
    VecScatter sc;
    PetscCall(ISCreateStride(PETSC_COMM_SELF, dhi - dlo, dlo, 1, &is));
    PetscCall(VecScatterCreate(col, is, v, is, &sc));
    PetscCall(VecScatterBegin(sc, col, v, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, col, v, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterDestroy(&sc));
    PetscCall(ISDestroy(&is));
  }
  PetscCall(MatDenseRestoreColumnVecRead(D, j, &col));
  PetscCall(HessaOperatorApply(op, v, Hv));
  PetscCall(VecNorm(v, NORM_2, norm));
  PetscCall(VecAXPY(Hv, -lambda, v));
  PetscCall(VecNorm(Hv, NORM_2, res));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&Hv));
  PetscCall(MatDestroy(&D));
  PetscFunctionReturn(0);
}

/* One solver on one operator: values against lambda (and vectors when asked). */
static PetscErrorCode CheckSolver(HessaOperator op, PetscInt n, const double *lambda, HessaFullSolver solver, PetscBool vectors, double tol, PetscInt n_neg)
{
  HessaFullSettings s;
  HessaFullSpectrum f;
  double            scale = 0, err = 0;

  PetscFunctionBegin;
  HessaFullSettingsDefault(&s);
  s.solver  = solver;
  s.vectors = vectors;
  PetscCall(HessaSpectrumFullWithSettings(op, &s, -1, &f));
  for (PetscInt i = 0; i < n; i++) scale = PetscMax(scale, fabs(lambda[i]));
  for (PetscInt i = 0; i < n; i++) err = PetscMax(err, fabs(f.values[i] - lambda[i]));
  PetscCheck(f.solver == solver || n < 8, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: ran %s instead", HessaFullSolverNames[solver], HessaFullSolverNames[f.solver]);
  PetscCheck(err <= tol * scale, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s (n = %" PetscInt_FMT "%s): max eigenvalue error %.2e max|lambda| > %.0e", HessaFullSolverNames[solver], n, vectors ? ", vectors" : "", err / scale, tol);
  PetscCheck(f.products == n, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: %" PetscInt64_FMT " products, expected %" PetscInt_FMT, HessaFullSolverNames[solver], f.products, n);
  PetscCheck(f.n_negative == n_neg && f.n_zero == 0 && f.n_positive == n - n_neg, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: counts %" PetscInt_FMT "/%" PetscInt_FMT "/%" PetscInt_FMT, HessaFullSolverNames[solver], f.n_negative, f.n_zero, f.n_positive);
  PetscCheck(vectors == (f.vectors != NULL), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: vectors %s", HessaFullSolverNames[solver], f.vectors ? "returned but not asked for" : "asked for but not returned");
  if (vectors) {
    const PetscInt pick[6] = {0, 1, n_neg + 100, n_neg + 120, n - 2, n - 1};
    double         worst   = 0;
    for (int k = 0; k < 6; k++) {
      double res, norm;
      PetscCall(PairResidual(op, f.vectors, pick[k], f.values[pick[k]], &res, &norm));
      PetscCheck(fabs(norm - 1) <= 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: eigenvector %" PetscInt_FMT " has norm %.15g", HessaFullSolverNames[solver], pick[k], norm);
      PetscCheck(res <= 1e-10 * scale, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: eigenpair %" PetscInt_FMT " residual %.2e max|lambda|", HessaFullSolverNames[solver], pick[k], res / scale);
      worst = PetscMax(worst, res / scale);
    }
    if (verbose) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-8s vectors: max residual %.2e max|lambda|\n", HessaFullSolverNames[solver], worst));
  }
  if (verbose)
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-8s n = %4" PetscInt_FMT "%s: max error %.2e max|lambda|, assembly %.3f s, eigensolve %.3f s\n", HessaFullSolverNames[solver], n, vectors ? " (+vectors)" : "", err / scale, f.seconds_assembly,
                          f.seconds_eigensolve));
  PetscCall(HessaFullSpectrumDestroy(&f));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  const HessaFullSolver solvers[] = {HESSA_FULL_ELPA, HESSA_FULL_PDSYEVD, HESSA_FULL_PDSYEVR, HESSA_FULL_PDSYEV};
  const PetscInt        n = 601, n_neg       = 60;
  double                lambda[601], tiny[5] = {-3, -1e-3, 0.25, 2, 7};
  HessaObjective        obj;
  HessaOperator         op;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-verbose", &verbose, NULL));
  /* negatives, bulk (with an exact cluster of 40 at 0.5 in the middle), outliers */
  PetscCall(HessaSpectrumGenerate(n, 0.1, 1, 10, 50, n_neg, -1, -0.1, lambda));
  for (PetscInt i = 0; i < 40; i++) lambda[n_neg + 100 + i] = 0.5;
  PetscCall(PetscSortReal(n, lambda));
  PetscCall(TestQuadraticOperatorCreate(PETSC_COMM_WORLD, n, lambda, 77, 5, &obj, &op));
  for (size_t k = 0; k < sizeof solvers / sizeof solvers[0]; k++) {
    PetscCall(CheckSolver(op, n, lambda, solvers[k], PETSC_FALSE, 1e-10, n_neg));
    PetscCall(CheckSolver(op, n, lambda, solvers[k], PETSC_TRUE, 1e-10, n_neg));
  }
  { /* the memory estimate and the refusal */
    HessaFullSettings s;
    HessaFullMemory   m;
    HessaFullSpectrum f;
    PetscErrorCode    ierr;
    PetscMPIInt       size;
    HessaFullSettingsDefault(&s);
    PetscCall(HessaFullSpectrumMemory(op, &s, &m));
    PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
    PetscCheck(m.need >= 2 * 8 * (uint64_t)n * n / size && m.need <= 5 * 8 * (uint64_t)n * n / size + 64 * 1048576, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "memory estimate %llu bytes for n = %" PetscInt_FMT " on %d ranks", (unsigned long long)m.need, n,
               (int)size);
    s.memory_mb = 1;
    PetscCall(HessaFullSpectrumMemory(op, &s, &m));
    PetscCheck(!m.fits && m.budget == 1048576, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a 1 MiB cap: fits %d, budget %llu", (int)m.fits, (unsigned long long)m.budget);
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = HessaSpectrumFullWithSettings(op, &s, -1, &f);
    PetscCall(PetscPopErrorHandler());
    PetscCheck(ierr == PETSC_ERR_MEM, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a full spectrum over the budget returned %d, expected PETSC_ERR_MEM", (int)ierr);
    PetscCall(HessaFullSpectrumDestroy(&f));
  }
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaObjectiveDestroy(&obj));

  PetscCall(TestQuadraticOperatorCreate(PETSC_COMM_WORLD, 5, tiny, 77, 5, &obj, &op));
  for (size_t k = 0; k < sizeof solvers / sizeof solvers[0]; k++) PetscCall(CheckSolver(op, 5, tiny, solvers[k], PETSC_FALSE, 1e-12, 2));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
