/* Benchmark program for `bench/run hv`: times Hessian-vector products of the model given
 * by the options (the reference MLP by default in bench/hv), single and in blocks, and
 * dgemm on this machine, and prints one JSON line with the figures.
 *
 * Options: -bench_reps (products timed, median reported), -bench_block (block size),
 * -bench_dgemm_n (size of the square dgemm, 0 skips), -bench_save FOLDER (write the point
 * so a reference implementation can load the same weights), -bench_direction FILE
 * (write a fixed direction v and Hv as NPY for a cross-check).
 */
#include <hessa/operator.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include "bench_common.h"

/* GEMM flops of one Hv for the MLP (forward pass cached): layer 1 has two GEMMs
 * (R-forward X V_W^T and R-backward R(dZ)^T X); every later layer six. */
static double MLPHvFlops(const HessaMLPArch *arch, double samples)
{
  double flops = 0;
  for (PetscInt l = 0; l < arch->n_layers; l++) flops += (l == 0 ? 2 : 6) * 2.0 * samples * (double)arch->widths[l] * (double)arch->widths[l + 1];
  return flops;
}

static PetscErrorCode DgemmRate(PetscInt n, double *gflops)
{
  double *a, *b, *c, t[3];

  PetscFunctionBegin;
  *gflops = 0;
  if (n <= 0) PetscFunctionReturn(0);
  PetscCall(PetscMalloc3((size_t)n * n, &a, (size_t)n * n, &b, (size_t)n * n, &c));
  HessaRandomFill(HESSA_RANDOM_UNIFORM, 1, 1, 0, n * n, a);
  HessaRandomFill(HESSA_RANDOM_UNIFORM, 1, 2, 0, n * n, b);
  for (int r = 0; r < 3; r++) {
    double t0 = MPI_Wtime();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    t[r] = MPI_Wtime() - t0;
  }
  *gflops = 2.0 * n * n * (double)n / BenchMedian(t, 3) / 1e9;
  PetscCall(PetscFree3(a, b, c));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  HessaData     data;
  HessaModel    model;
  HessaOperator op;
  PetscInt      reps = 9, block = 8, dgemm_n = 2048;
  char          save[PETSC_MAX_PATH_LEN] = "", direction[PETSC_MAX_PATH_LEN] = "";
  Vec          *X, *Y;
  double       *t1, *tb, hv_s, blk_s, gflops_dgemm = 0, flops = 0;
  PetscMPIInt   rank, size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_reps", &reps, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_block", &block, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_dgemm_n", &dgemm_n, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_save", save, sizeof save, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_direction", direction, sizeof direction, NULL));

  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
  if (save[0]) PetscCall(HessaModelSave(model, model->theta, save));

  PetscCall(VecDuplicateVecs(op->op_template, block, &X));
  PetscCall(VecDuplicateVecs(op->op_template, block, &Y));
  for (PetscInt j = 0; j < block; j++) PetscCall(HessaVecSetRandom(X[j], HESSA_RANDOM_NORMAL, 11, (uint64_t)j));
  PetscCall(PetscMalloc2(reps, &t1, reps, &tb));
  PetscCall(HessaOperatorApply(op, X[0], Y[0])); /* warm-up: builds the forward cache */
  if (direction[0]) {
    /* v and Hv of the first direction, for a cross-check against the reference */
    VecScatter sc;
    Vec        all;
    char       path[PETSC_MAX_PATH_LEN + 16];
    for (int which = 0; which < 2; which++) {
      PetscCall(VecScatterCreateToZero(which ? Y[0] : X[0], &sc, &all));
      PetscCall(VecScatterBegin(sc, which ? Y[0] : X[0], all, INSERT_VALUES, SCATTER_FORWARD));
      PetscCall(VecScatterEnd(sc, which ? Y[0] : X[0], all, INSERT_VALUES, SCATTER_FORWARD));
      if (!rank) {
        const double *a;
        int64_t       shape[1] = {op->n_op};
        PetscCall(VecGetArrayRead(all, &a));
        PetscCall(PetscSNPrintf(path, sizeof path, "%s.%s.npy", direction, which ? "hv" : "v"));
        PetscCall(HessaWriteNPY(path, 1, shape, a, 0));
        PetscCall(VecRestoreArrayRead(all, &a));
      }
      PetscCall(VecScatterDestroy(&sc));
      PetscCall(VecDestroy(&all));
    }
  }
  for (PetscInt r = 0; r < reps; r++) {
    double t0;
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    t0 = MPI_Wtime();
    PetscCall(HessaOperatorApply(op, X[r % block], Y[r % block]));
    t1[r] = MPI_Wtime() - t0;
  }
  for (PetscInt r = 0; r < reps; r++) {
    double t0;
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    t0 = MPI_Wtime();
    PetscCall(HessaOperatorApplyBlock(op, block, X, Y));
    tb[r] = (MPI_Wtime() - t0) / (double)block;
  }
  hv_s  = BenchMedian(t1, reps);
  blk_s = BenchMedian(tb, reps);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &hv_s, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &blk_s, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  if (!strcmp(model->kind, "mlp")) {
    HessaMLPArch arch;
    PetscCall(HessaMLPGetArch(model->obj, &arch));
    flops = MLPHvFlops(&arch, (double)data->n_global);
  }
  if (!rank) PetscCall(DgemmRate(dgemm_n, &gflops_dgemm));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "{\"ranks\": %d, \"n\": %" PetscInt_FMT ", \"samples\": %" PetscInt_FMT ", \"hv_seconds\": %.6e, \"block\": %" PetscInt_FMT
                        ", \"block_seconds_per_product\": %.6e, \"hv_gemm_flops\": %.6e, \"hv_gflops\": %.4f, \"dgemm_gflops\": %.4f, \"comm_fraction\": %.4f}\n",
                        size, op->n, data->n_global, hv_s, block, blk_s, flops, flops / hv_s / 1e9, gflops_dgemm, op->comm_seconds / op->product_seconds));
  PetscCall(PetscFree2(t1, tb));
  PetscCall(VecDestroyVecs(block, &X));
  PetscCall(VecDestroyVecs(block, &Y));
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
