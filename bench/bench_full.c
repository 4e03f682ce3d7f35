/* Benchmark program for `bench/run full`, one JSON line.
 *
 * The whole spectrum (HessaSpectrumFull: assembly from block products, then the dense
 * eigensolver of -hessa_full_solver, ELPA by default) of
 *   -bench_full_n N > 0: a quadratic with a prescribed spectrum of size N (bench_slq's) and
 *     generic dense eigenvectors (HessaQuadraticCreateDense, what -hessa_model quadratic uses),
 *     or with -bench_full_reflections the product of 4 Householder reflections as eigenvectors
 *     (identity plus a rank-8 change: the divide and conquer step deflates nearly everything,
 *     which flatters ELPA against LAPACK's dsterf), or
 *   otherwise the model and data of the options (e.g. the embedded default's),
 * -bench_reps times (medians of the assembly and eigensolve seconds: timings on shared
 * machines vary by +-30 %). -bench_dump PREFIX: rank 0 also writes the assembled matrix
 * (PREFIX_matrix.npy, row c = H e_c, before symmetrizing; n more products) and the
 * eigenvalues (PREFIX_values.npy), so LAPACK can run on the same matrix.
 */
#include <hessa/spectrum.h>
#include <hessa/data.h>
#include <math.h>
#include <stdlib.h>
#include <sys/resource.h>
#include "bench_common.h"

/* Collective: rank 0 writes the n x n matrix whose row c is H e_c. */
static PetscErrorCode DumpMatrix(HessaOperator op, const char path[])
{
  PetscInt    n = op->n_op, block = 16, lo, hi;
  PetscMPIInt rank;
  Vec        *E, *Y, all;
  VecScatter  sc;
  double     *m = NULL;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(op->comm, &rank));
  if (!rank) PetscCall(PetscMalloc1((size_t)n * n, &m));
  PetscCall(VecGetOwnershipRange(op->op_template, &lo, &hi));
  PetscCall(VecDuplicateVecs(op->op_template, block, &E));
  PetscCall(VecDuplicateVecs(op->op_template, block, &Y));
  PetscCall(VecScatterCreateToZero(Y[0], &sc, &all));
  for (PetscInt c0 = 0; c0 < n; c0 += block) {
    PetscInt b = PetscMin(block, n - c0);
    for (PetscInt j = 0; j < b; j++) {
      PetscCall(VecSet(E[j], 0.0));
      if (c0 + j >= lo && c0 + j < hi) PetscCall(VecSetValue(E[j], c0 + j, 1.0, INSERT_VALUES));
      PetscCall(VecAssemblyBegin(E[j]));
      PetscCall(VecAssemblyEnd(E[j]));
    }
    PetscCall(HessaOperatorApplyBlock(op, b, E, Y));
    for (PetscInt j = 0; j < b; j++) {
      PetscCall(VecScatterBegin(sc, Y[j], all, INSERT_VALUES, SCATTER_FORWARD));
      PetscCall(VecScatterEnd(sc, Y[j], all, INSERT_VALUES, SCATTER_FORWARD));
      if (!rank) {
        const double *a;
        PetscCall(VecGetArrayRead(all, &a));
        PetscCall(PetscArraycpy(m + (size_t)(c0 + j) * n, a, n));
        PetscCall(VecRestoreArrayRead(all, &a));
      }
    }
  }
  if (!rank) {
    int64_t shape[2] = {n, n};
    PetscCall(HessaWriteNPY(path, 2, shape, m, 0));
    PetscCall(PetscFree(m));
  }
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&all));
  PetscCall(VecDestroyVecs(block, &E));
  PetscCall(VecDestroyVecs(block, &Y));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscInt          n = 0, reps = 1;
  PetscBool         reflections = PETSC_FALSE;
  double           *lambda = NULL, err = -1, assembly[16], eigensolve[16];
  char              dump[PETSC_MAX_PATH_LEN] = "";
  HessaData         data                     = NULL;
  HessaModel        model                    = NULL;
  HessaObjective    obj                      = NULL;
  HessaOperator     op;
  HessaFullSpectrum f;
  PetscMPIInt       rank, size;
  struct rusage     ru;
  double            rss;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_full_n", &n, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_reps", &reps, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_dump", dump, sizeof dump, NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-bench_full_reflections", &reflections, NULL));
  reps = PetscMax(1, PetscMin(reps, 16));
  if (n > 0) {
    Vec theta;
    PetscCall(PetscMalloc1(n, &lambda));
    PetscCall(HessaSpectrumGenerate(n, 0.1, 1.0, 10, 50.0, n / 20, -1.0, -0.1, lambda));
    if (reflections)
      PetscCall(HessaQuadraticCreate(n, lambda, 4, 7, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &obj));
    else
      PetscCall(HessaQuadraticCreateDense(n, lambda, 7, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &obj));
    PetscCall(HessaOperatorCreate(PETSC_COMM_WORLD, obj, &op));
    PetscCall(HessaOperatorSetUp(op));
    PetscCall(HessaOperatorCreateParameterVec(op, &theta));
    PetscCall(VecSet(theta, 0.0));
    PetscCall(HessaOperatorSetPoint(op, theta));
    PetscCall(VecDestroy(&theta));
  } else {
    PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
    n = op->n_op;
  }
  for (PetscInt r = 0; r < reps; r++) {
    if (r) PetscCall(HessaFullSpectrumDestroy(&f));
    PetscCall(HessaSpectrumFull(op, -1, &f));
    assembly[r]   = f.seconds_assembly;
    eigensolve[r] = f.seconds_eigensolve;
  }
  if (lambda) {
    err = 0;
    for (PetscInt i = 0; i < n; i++) err = PetscMax(err, fabs(f.values[i] - lambda[i]));
  }
  getrusage(RUSAGE_SELF, &ru);
  rss = (double)ru.ru_maxrss / 1024.0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &rss, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  if (dump[0]) {
    char path[PETSC_MAX_PATH_LEN + 16];
    PetscCall(PetscSNPrintf(path, sizeof path, "%s_matrix.npy", dump));
    PetscCall(DumpMatrix(op, path));
    if (!rank) {
      int64_t shape[1] = {n};
      PetscCall(PetscSNPrintf(path, sizeof path, "%s_values.npy", dump));
      PetscCall(HessaWriteNPY(path, 1, shape, f.values, 0));
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "{\"ranks\": %d, \"n\": %" PetscInt_FMT ", \"solver\": \"%s\", \"reps\": %" PetscInt_FMT ", \"assembly_seconds\": %.4f, \"eigensolve_seconds\": %.4f, \"eigensolve_seconds_min\": %.4f, \"products\": %" PetscInt64_FMT
                        ", \"memory_estimate_bytes\": %llu, \"peak_rss_mb_max_rank\": %.1f, \"asymmetry\": %.3e, \"max_error_vs_prescribed\": %.3e, \"negative\": %" PetscInt_FMT ", \"zero\": %" PetscInt_FMT ", \"positive\": %" PetscInt_FMT "}\n",
                        (int)size, n, HessaFullSolverNames[f.solver], reps, BenchMedian(assembly, reps), BenchMedian(eigensolve, reps), BenchMin(eigensolve, reps), f.products, (unsigned long long)f.memory_estimate, rss, f.asymmetry, err,
                        f.n_negative, f.n_zero, f.n_positive));
  PetscCall(HessaFullSpectrumDestroy(&f));
  PetscCall(HessaOperatorDestroy(&op));
  if (obj) PetscCall(HessaObjectiveDestroy(&obj));
  if (model) PetscCall(HessaModelDestroy(&model));
  if (data) PetscCall(HessaDataDestroy(&data));
  PetscCall(PetscFree(lambda));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
