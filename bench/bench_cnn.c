/* Benchmark program for `bench/run cnn`: Hessian-vector products of an ONNX network (a
 * ResNet-style CNN that bench/cnn.py exports) on this rank's Fashion-MNIST samples, through
 * HessaONNXCreate and HessaObjectiveHessianBlock, the local sums added over the ranks with
 * one MPI_Allreduce (the operator layer's reduce-scatter would move less). Prints one JSON
 * line with the figures.
 *
 * Options: -bench_model FILE.onnx, -bench_reps (products timed, median reported),
 * -bench_chunk (samples per chunk), -bench_dgemm_n (size of the square dgemm that
 * measures this machine's rate, 0 skips), -bench_direction PREFIX (rank 0 writes v, Hv
 * (of the mean loss) as PREFIX.v.npy / PREFIX.hv.npy and the parameter table as
 * PREFIX.params.json for a cross-check), and the data options (-hessa_data ...).
 */
#include <hessa/objective.h>
#include <hessa/data.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "bench_common.h"

/* GEMM flops the spatial kernels issue (onnx_ops_spatial.c counts them for benchmarks). */
extern double HessaOnnxSpatialGemmFlops;

/* This process's CPU seconds: on a shared machine wall time depends on the other jobs. */
static double CPUSeconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* dgemm rate of an n^3 product, by wall time and by CPU time (medians of 3) */
static PetscErrorCode DgemmRate(PetscInt n, double *gflops, double *gflops_cpu)
{
  double *a, *b, *c, t[3], tc[3];

  PetscFunctionBegin;
  *gflops = *gflops_cpu = 0;
  if (n <= 0) PetscFunctionReturn(0);
  PetscCall(PetscMalloc3((size_t)n * n, &a, (size_t)n * n, &b, (size_t)n * n, &c));
  HessaRandomFill(HESSA_RANDOM_UNIFORM, 1, 1, 0, n * n, a);
  HessaRandomFill(HESSA_RANDOM_UNIFORM, 1, 2, 0, n * n, b);
  for (int r = 0; r < 3; r++) {
    double t0 = MPI_Wtime(), c0 = CPUSeconds();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    t[r]  = MPI_Wtime() - t0;
    tc[r] = CPUSeconds() - c0;
  }
  *gflops     = 2.0 * n * n * (double)n / BenchMedian(t, 3) / 1e9;
  *gflops_cpu = 2.0 * n * n * (double)n / BenchMedian(tc, 3) / 1e9;
  PetscCall(PetscFree3(a, b, c));
  PetscFunctionReturn(0);
}

/* rank 0: v, Hv and the parameter table (name, offset, count) for bench/cnn.py */
static PetscErrorCode WriteDirection(const char prefix[], HessaObjective obj, const double *v, const double *hv)
{
  char    path[PETSC_MAX_PATH_LEN + 32];
  int64_t shape[1] = {obj->n};
  FILE   *f;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s.v.npy", prefix));
  PetscCall(HessaWriteNPY(path, 1, shape, v, 0));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s.hv.npy", prefix));
  PetscCall(HessaWriteNPY(path, 1, shape, hv, 0));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s.params.json", prefix));
  f = fopen(path, "w");
  PetscCheck(f, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", path);
  fprintf(f, "[");
  for (PetscInt k = 0; k < obj->n_blocks; k++) fprintf(f, "%s{\"name\": \"%s\", \"offset\": %" PetscInt_FMT ", \"count\": %" PetscInt_FMT "}", k ? ", " : "", obj->blocks[k].name, obj->blocks[k].offset, obj->blocks[k].count);
  fprintf(f, "]\n");
  fclose(f);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  HessaData      data;
  HessaObjective obj = NULL;
  HessaONNXArch  arch;
  HessaStatus    st   = {0};
  PetscInt       reps = 5, dgemm_n = 2048, chunk = 256;
  char           direction[PETSC_MAX_PATH_LEN] = "";
  double        *theta, *v, *hv, *t, *tc, hv_s, cpu_s, flops, gflops_dgemm = 0, gflops_dgemm_cpu = 0;
  PetscMPIInt    rank, size;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&arch, sizeof arch));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_model", arch.path, sizeof arch.path, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_reps", &reps, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_chunk", &chunk, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_dgemm_n", &dgemm_n, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_direction", direction, sizeof direction, NULL));
  PetscCheck(arch.path[0] && reps > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "bench_cnn needs -bench_model FILE.onnx and -bench_reps > 0");

  PetscCall(HessaDataCreate(PETSC_COMM_WORLD, &data));
  PetscCall(HessaDataSetFromOptions(data));
  PetscCall(HessaDataLoad(data));
  arch.loss     = HESSA_LOSS_CROSS_ENTROPY;
  arch.chunk    = chunk;
  arch.cache_mb = -1;
  PetscCall(HessaONNXCreate(&arch, data, &obj, &theta, &st));
  PetscCall(HessaSyncError(PETSC_COMM_WORLD, &st));

  PetscCall(PetscMalloc4(obj->n, &v, obj->n, &hv, reps, &t, reps, &tc));
  HessaRandomFill(HESSA_RANDOM_NORMAL, 11, 0, 0, obj->n, v);
  PetscCall(HessaObjectiveHessianBlock(obj, theta, 1, v, hv)); /* warm-up: builds the forward cache */
  HessaOnnxSpatialGemmFlops = 0;
  for (PetscInt r = 0; r < reps; r++) {
    double t0, c0;
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    t0 = MPI_Wtime();
    c0 = CPUSeconds();
    PetscCall(HessaObjectiveHessianBlock(obj, theta, 1, v, hv));
    tc[r] = CPUSeconds() - c0; /* the local product, without the wait in the reduction */
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, hv, (int)obj->n, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
    t[r] = MPI_Wtime() - t0;
  }
  hv_s  = BenchMedian(t, reps);
  cpu_s = BenchMedian(tc, reps);
  flops = HessaOnnxSpatialGemmFlops / (double)reps; /* this rank's */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &hv_s, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &cpu_s, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  if (!rank && direction[0]) {
    for (PetscInt i = 0; i < obj->n; i++) hv[i] /= (double)HessaDataLossTerms(data); /* the mean loss (over predicted positions for next-token data) */
    PetscCall(WriteDirection(direction, obj, v, hv));
  }
  if (!rank) PetscCall(DgemmRate(dgemm_n, &gflops_dgemm, &gflops_dgemm_cpu));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "{\"ranks\": %d, \"n\": %" PetscInt_FMT ", \"samples\": %" PetscInt_FMT
                        ", \"hv_seconds\": %.6e, \"hv_cpu_seconds\": %.6e, \"hv_gemm_flops_rank0\": %.6e, \"hv_gflops\": %.4f, \"dgemm_gflops\": %.4f, \"hv_gflops_cpu\": %.4f, \"dgemm_gflops_cpu\": %.4f}\n",
                        size, obj->n, data->n_global, hv_s, cpu_s, flops, flops / hv_s / 1e9, gflops_dgemm, flops / cpu_s / 1e9, gflops_dgemm_cpu));
  free(theta);
  PetscCall(PetscFree4(v, hv, t, tc));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
