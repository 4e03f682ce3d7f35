/* Benchmark: one Hessian-vector product of the MLP objective (not a test).
 *
 * A 784-128-64-10 tanh cross-entropy MLP on N random samples (default 10000), one rank:
 * median seconds of the gradient, of one Hv with the forward cache (repeated products at
 * one theta: only the R passes), of one Hv without it (cache_mb = 0: forward, backward
 * and R passes), and per direction of a block of 8, and their ratio to the gradient.
 * Options: -n N, -reps R, -chunk C. Run with OPENBLAS_NUM_THREADS=1 to measure one core. */
#include <hessa/objective.h>
#include <petsctime.h>
#include <stdio.h>
#include <stdlib.h>

static int Compare(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef enum { OP_GRADIENT, OP_HV, OP_HV_BLOCK } Op;

/* median over reps of one operation's seconds (after one warm-up call) */
static PetscErrorCode Time(HessaObjective obj, Op op, const double *theta, PetscInt b, const double *V, double *out, PetscInt reps, double *median)
{
  double t[64], t0, t1, loss;

  PetscFunctionBegin;
  for (PetscInt r = -1; r < reps; r++) {
    PetscCall(PetscTime(&t0));
    if (op == OP_GRADIENT)
      PetscCall(HessaObjectiveGradient(obj, theta, &loss, out));
    else
      PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, out));
    PetscCall(PetscTime(&t1));
    if (r >= 0) t[r] = t1 - t0;
  }
  qsort(t, (size_t)reps, sizeof(double), Compare);
  *median = t[reps / 2];
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscInt       N = 10000, reps = 7, chunk = 1000, n;
  HessaMLPArch   arch = {0};
  HessaData      data;
  HessaObjective cached, uncached;
  double        *theta, *V, *out, tg, th_c, th_u, tb_c, tb_u;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-n", &N, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-reps", &reps, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-chunk", &chunk, NULL));
  reps = PetscMax(1, PetscMin(reps, 64));
  PetscCall(PetscNew(&data));
  data->comm = PETSC_COMM_SELF, data->task = HESSA_TASK_CLASSIFICATION;
  data->n_global = data->n_local = N, data->n_features = 784, data->n_classes = 10;
  PetscCall(PetscMalloc2((size_t)N * 784, &data->x, N, &data->labels));
  HessaRandomFill(HESSA_RANDOM_UNIFORM, 1, 1, 0, N * 784, data->x);
  for (PetscInt i = 0; i < N; i++) data->labels[i] = (int)(HessaRandomUniform(1, 2, (uint64_t)i) * 10);
  arch.n_layers  = 3;
  arch.widths[0] = 784, arch.widths[1] = 128, arch.widths[2] = 64, arch.widths[3] = 10;
  arch.activation = HESSA_ACT_TANH;
  arch.loss       = HESSA_LOSS_CROSS_ENTROPY;
  arch.chunk      = chunk;
  arch.cache_mb   = -1;
  PetscCall(HessaMLPCreate(&arch, data, &cached));
  arch.cache_mb = 0;
  PetscCall(HessaMLPCreate(&arch, data, &uncached));
  n = cached->n;
  PetscCall(PetscMalloc3(n, &theta, 8 * (size_t)n, &V, 8 * (size_t)n, &out));
  PetscCall(HessaMLPInitialize(cached, "glorot", 3, 0, n, theta));
  HessaRandomFill(HESSA_RANDOM_NORMAL, 3, 4, 0, 8 * n, V);

  PetscCall(Time(uncached, OP_GRADIENT, theta, 1, V, out, reps, &tg));
  PetscCall(Time(cached, OP_HV, theta, 1, V, out, reps, &th_c));
  PetscCall(Time(uncached, OP_HV, theta, 1, V, out, reps, &th_u));
  PetscCall(Time(cached, OP_HV_BLOCK, theta, 8, V, out, reps, &tb_c));
  PetscCall(Time(uncached, OP_HV_BLOCK, theta, 8, V, out, reps, &tb_u));
  printf("%s\n", cached->description);
  printf("samples %d, n = %d, median of %d, OPENBLAS_NUM_THREADS=%s\n", (int)N, (int)n, (int)reps, getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "(unset)");
  printf("gradient                 %8.4f s\n", tg);
  printf("Hv, forward cache        %8.4f s  (%.2f gradients)\n", th_c, th_c / tg);
  printf("Hv, no cache             %8.4f s  (%.2f gradients)\n", th_u, th_u / tg);
  printf("block of 8, cache        %8.4f s per direction  (%.2f gradients)\n", tb_c / 8, tb_c / 8 / tg);
  printf("block of 8, no cache     %8.4f s per direction  (%.2f gradients)\n", tb_u / 8, tb_u / 8 / tg);
  PetscCall(PetscFree3(theta, V, out));
  PetscCall(HessaObjectiveDestroy(&cached));
  PetscCall(HessaObjectiveDestroy(&uncached));
  PetscCall(PetscFree2(data->x, data->labels));
  PetscCall(PetscFree(data));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
