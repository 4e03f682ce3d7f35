/* Benchmark program for `bench/run eigs`: products SLEPc needs for extreme eigenvalues of
 * the model given by the options (the reference MLP in bench/eigs.py), and one JSON line.
 *
 * Runs: the largest eigenvalue, the 5 largest, the smallest (most negative), each with
 * Krylov-Schur (or -hessa_eps_type ...) to -bench_tol relative residual. Products are
 * reported without the one explicit residual product per pair that hessa adds.
 * Options: -bench_tol (default 1e-8), -bench_save FOLDER (write the point for the
 * reference implementations).
 */
#include <hessa/spectrum.h>
#include <hessa/data.h>
#include <stdio.h>

static PetscErrorCode RunOne(HessaOperator op, HessaWhich which, PetscInt k, double tol, const char *name, PetscBool last)
{
  HessaExtremes e;
  double        worst = 0;

  PetscFunctionBegin;
  PetscCall(HessaSpectrumExtremes(op, which, k, tol, PETSC_FALSE, &e));
  for (PetscInt i = 0; i < e.nconv; i++) worst = PetscMax(worst, e.residuals[i] / PetscAbsReal(e.values[i]));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\"%s\": {\"k\": %" PetscInt_FMT ", \"nconv\": %" PetscInt_FMT ", \"products\": %" PetscInt64_FMT ", \"seconds\": %.4f, \"worst_relative_residual\": %.3e, \"values\": [", name, k, e.nconv,
                        e.products - e.nconv, e.seconds, worst));
  for (PetscInt i = 0; i < e.nconv; i++) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s%.15e", i ? ", " : "", e.values[i]));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "]}%s", last ? "" : ", "));
  PetscCall(HessaExtremesDestroy(&e));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  HessaData     data;
  HessaModel    model;
  HessaOperator op;
  PetscReal     tol                      = 1e-8;
  char          save[PETSC_MAX_PATH_LEN] = "";
  PetscMPIInt   size;
  Vec           x, y;
  double        t0, hv_seconds;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-bench_tol", &tol, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_save", save, sizeof save, NULL));
  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
  if (save[0]) PetscCall(HessaModelSave(model, model->theta, save));
  /* one warm-up product (builds the forward cache), then one timed */
  PetscCall(HessaOperatorCreateVec(op, &x));
  PetscCall(VecDuplicate(x, &y));
  PetscCall(HessaVecSetRandom(x, HESSA_RANDOM_NORMAL, 1, 1));
  PetscCall(HessaOperatorApply(op, x, y));
  t0 = MPI_Wtime();
  PetscCall(HessaOperatorApply(op, x, y));
  hv_seconds = MPI_Wtime() - t0;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "{\"ranks\": %d, \"n\": %" PetscInt_FMT ", \"tol\": %g, \"hv_seconds\": %.5f, ", (int)size, op->n_op, (double)tol, hv_seconds));
  PetscCall(RunOne(op, HESSA_WHICH_LARGEST, 1, tol, "top1", PETSC_FALSE));
  PetscCall(RunOne(op, HESSA_WHICH_LARGEST, 5, tol, "top5", PETSC_FALSE));
  PetscCall(RunOne(op, HESSA_WHICH_SMALLEST, 1, tol, "smallest", PETSC_TRUE));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "}\n"));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
