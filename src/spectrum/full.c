/* The whole spectrum of a small operator: assembly from block products of unit vectors
 * into a distributed dense matrix, then ScaLAPACK.
 *
 * Column c of H is H e_c. A block of b unit vectors costs one block product (one forward
 * pass). Each rank keeps the rows it owns of every column, which is exactly the row
 * distribution of a PETSc MATMPIDENSE with the operator's layout, so assembly moves no
 * data. The matrix goes to the 2-D block-cyclic MATSCALAPACK layout by MatConvert, where
 * the transpose, the asymmetry and the symmetrization are cheap PBLAS calls (a
 * MATMPIDENSE transpose costs more than the eigensolve at n = 2048 on 2 ranks).
 * Memory: n^2/P doubles for the dense matrix, twice that during symmetrization and again
 * in the ScaLAPACK copy.
 */
#include "spectrum_impl.h"
#include <slepceps.h>
#include <slepc/private/slepcscalapack.h>
#include <math.h>

/* Collective: the dense matrix A with A[:, c] = H e_c, in blocks of `block` columns. */
static PetscErrorCode Assemble(HessaOperator op, PetscInt block, Mat *A)
{
  PetscInt      n = op->n_op, lo, hi, lda;
  Vec          *E, *Y;
  double       *a;
  HessaProgress prog;

  PetscFunctionBegin;
  PetscCall(VecGetOwnershipRange(op->op_template, &lo, &hi));
  PetscCall(MatCreateDense(op->comm, hi - lo, PETSC_DECIDE, n, n, NULL, A));
  PetscCall(MatDenseGetLDA(*A, &lda));
  PetscCall(VecDuplicateVecs(op->op_template, block, &E));
  PetscCall(VecDuplicateVecs(op->op_template, block, &Y));
  for (PetscInt j = 0; j < block; j++) PetscCall(VecSet(E[j], 0.0));
  HessaProgressStart(&prog, "full spectrum: assembly", op);
  for (PetscInt c0 = 0; c0 < n; c0 += block) {
    PetscInt b = PetscMin(block, n - c0);
    char     what[64];
    for (PetscInt j = 0; j < b; j++) {
      PetscInt c = c0 + j;
      if (c >= lo && c < hi) PetscCall(VecSetValue(E[j], c, 1.0, INSERT_VALUES));
      PetscCall(VecAssemblyBegin(E[j]));
      PetscCall(VecAssemblyEnd(E[j]));
    }
    PetscCall(HessaOperatorApplyBlock(op, b, E, Y));
    PetscCall(MatDenseGetArray(*A, &a));
    for (PetscInt j = 0; j < b; j++) {
      const double *y;
      PetscInt      c = c0 + j;
      PetscCall(VecGetArrayRead(Y[j], &y));
      PetscCall(PetscArraycpy(a + (size_t)c * lda, y, hi - lo));
      PetscCall(VecRestoreArrayRead(Y[j], &y));
      if (c >= lo && c < hi) PetscCall(VecSetValue(E[j], c, 0.0, INSERT_VALUES));
      PetscCall(VecAssemblyBegin(E[j]));
      PetscCall(VecAssemblyEnd(E[j]));
    }
    PetscCall(MatDenseRestoreArray(*A, &a));
    PetscCall(PetscSNPrintf(what, sizeof what, "column %" PetscInt_FMT "/%" PetscInt_FMT, c0 + b, n));
    PetscCall(HessaProgressUpdate(&prog, op, (double)(c0 + b) / n, what));
  }
  PetscCall(MatAssemblyBegin(*A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(*A, MAT_FINAL_ASSEMBLY));
  PetscCall(VecDestroyVecs(block, &E));
  PetscCall(VecDestroyVecs(block, &Y));
  PetscFunctionReturn(0);
}

/* Collective: all eigenvalues (ascending, on every rank) of the symmetric MATSCALAPACK S
 * with ScaLAPACK pdsyev, eigenvalues only. S is overwritten. */
static PetscErrorCode EigenvaluesSyev(Mat S, double *w)
{
  Mat_ScaLAPACK *a   = (Mat_ScaLAPACK *)S->data;
  PetscBLASInt   one = 1, lwork = -1, info = 0;
  double         query[3], *work;

  PetscFunctionBegin;
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  (void)SCALAPACKsyev_("N", "L", &a->N, a->loc, &one, &one, a->desc, w, NULL, &one, &one, a->desc, query, &lwork, &info);
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "ScaLAPACK pdsyev workspace query failed: info %d", (int)info);
  /* the query for JOBZ = N is known to be tight on some builds: add room */
  PetscCall(PetscBLASIntCast((PetscInt)query[0] + 10 * a->N + 1000, &lwork));
  PetscCall(PetscMalloc1(lwork, &work));
  (void)SCALAPACKsyev_("N", "L", &a->N, a->loc, &one, &one, a->desc, w, NULL, &one, &one, a->desc, work, &lwork, &info);
  PetscCall(PetscFPTrapPop());
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "ScaLAPACK pdsyev failed: info %d", (int)info);
  PetscCall(PetscFree(work));
  PetscFunctionReturn(0);
}

/* Collective: all eigenvalues of S with SLEPc's scalapack EPS (computes eigenvectors too). */
static PetscErrorCode EigenvaluesEPS(Mat S, PetscInt n, double *w)
{
  EPS      eps;
  PetscInt nconv;

  PetscFunctionBegin;
  PetscCall(EPSCreate(PetscObjectComm((PetscObject)S), &eps));
  PetscCall(EPSSetOperators(eps, S, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSSCALAPACK));
  PetscCall(EPSSetDimensions(eps, n, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_SMALLEST_REAL));
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, &nconv));
  PetscCheck(nconv >= n, PetscObjectComm((PetscObject)S), PETSC_ERR_NOT_CONVERGED, "ScaLAPACK EPS returned %" PetscInt_FMT " of %" PetscInt_FMT " eigenvalues", nconv, n);
  for (PetscInt i = 0; i < n; i++) {
    PetscScalar kr;
    PetscCall(EPSGetEigenvalue(eps, i, &kr, NULL));
    w[i] = PetscRealPart(kr);
  }
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(0);
}

/* HessaSpectrumFull - every eigenvalue of the assembled operator. Collective on op->comm.
 * Input: zero_tol (< 0: the default of spectrum.h). Output: out (free with
 * HessaFullSpectrumDestroy). Options: -hessa_full_max_n, -hessa_full_block, -hessa_full_solver. */
PetscErrorCode HessaSpectrumFull(HessaOperator op, double zero_tol, HessaFullSpectrum *out)
{
  PetscInt    n = op->n_op, max_n = 8000, block = 16;
  PetscInt64  products0 = op->n_products;
  double      t0 = MPI_Wtime(), norm, anorm, maxabs = 0;
  const char *solvers[] = {"syev", "eps", "HessaFullSolver", "HESSA_FULL_", NULL};
  PetscEnum   solver    = (PetscEnum)0;
  Mat         A, At;
  PetscMPIInt size;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(out, sizeof *out));
  PetscOptionsBegin(op->comm, NULL, "hessa full spectrum options", NULL);
  PetscCall(PetscOptionsInt("-hessa_full_max_n", "largest operator size to assemble (memory n^2/P doubles per rank, times 3)", "HessaSpectrumFull", max_n, &max_n, NULL));
  PetscCall(PetscOptionsInt("-hessa_full_block", "unit vectors per block product during assembly", "HessaSpectrumFull", block, &block, NULL));
  PetscCall(PetscOptionsEnum("-hessa_full_solver", "ScaLAPACK eigenvalues only (syev) or SLEPc's scalapack EPS", "HessaSpectrumFull", solvers, solver, &solver, NULL));
  PetscOptionsEnd();
  PetscCallMPI(MPI_Comm_size(op->comm, &size));
  PetscCheck(n <= max_n, op->comm, HESSA_ERR_ARG,
             "full spectrum: the operator has n = %" PetscInt_FMT " > -hessa_full_max_n %" PetscInt_FMT
             "; assembling needs about %.1f GB per rank at this rank count. Restrict it (-hessa_operator_subset), raise -hessa_full_max_n, or use -hessa_spectrum_extremes / -hessa_spectrum_density",
             n, max_n, 3.0 * 8.0 * (double)n * (double)n / 1e9 / (double)size);
  PetscCheck(block >= 1, op->comm, HESSA_ERR_ARG, "-hessa_full_block %" PetscInt_FMT ": need at least 1", block);
  block  = PetscMin(block, n);
  out->n = n;
  PetscCall(Assemble(op, block, &A));
  /* asymmetry of the products, then the symmetric part (A + A^T) / 2 */
  PetscCall(MatConvert(A, MATSCALAPACK, MAT_INPLACE_MATRIX, &A));
  PetscCall(MatNorm(A, NORM_FROBENIUS, &norm));
  PetscCall(MatTranspose(A, MAT_INITIAL_MATRIX, &At));
  PetscCall(MatAXPY(At, -1.0, A, SAME_NONZERO_PATTERN));
  PetscCall(MatNorm(At, NORM_FROBENIUS, &anorm));
  out->asymmetry = norm > 0 ? anorm / norm : 0;
  PetscCall(MatAXPY(At, 2.0, A, SAME_NONZERO_PATTERN));
  PetscCall(MatScale(At, 0.5));
  PetscCall(MatDestroy(&A));
  PetscCall(PetscMalloc1(n, &out->values));
  PetscCall(HessaLog(op->comm, "full spectrum: %" PetscInt_FMT " columns assembled in %.1f s; eigenvalues with %s", n, MPI_Wtime() - t0, solver == 0 ? "ScaLAPACK pdsyev" : "SLEPc's scalapack EPS"));
  if (solver == 0)
    PetscCall(EigenvaluesSyev(At, out->values));
  else
    PetscCall(EigenvaluesEPS(At, n, out->values));
  PetscCall(MatDestroy(&At));
  /* all ranks hold the eigenvalues; make them bitwise equal (rank 0's) */
  PetscCallMPI(MPI_Bcast(out->values, (int)n, MPI_DOUBLE, 0, op->comm));
  for (PetscInt i = 0; i < n; i++) maxabs = PetscMax(maxabs, PetscAbsReal(out->values[i]));
  out->zero_tol = zero_tol >= 0 ? zero_tol : PetscMax(1e-10 * maxabs, 10 * anorm);
  for (PetscInt i = 0; i < n; i++) {
    if (out->values[i] < -out->zero_tol)
      out->n_negative++;
    else if (out->values[i] > out->zero_tol)
      out->n_positive++;
    else
      out->n_zero++;
  }
  out->products = op->n_products - products0;
  out->seconds  = MPI_Wtime() - t0;
  PetscFunctionReturn(0);
}

/* HessaFullSpectrumDestroy - not collective. */
PetscErrorCode HessaFullSpectrumDestroy(HessaFullSpectrum *f)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(f->values));
  PetscFunctionReturn(0);
}
