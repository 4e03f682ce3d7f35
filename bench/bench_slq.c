/* Benchmark program for `bench/run slq`, one JSON line.
 *
 * -bench_mode slq (default): SLQ on the model given by the options, block mode and
 *   probe-at-a-time with the same seed: seconds per probe, seconds inside products, and
 *   the largest node/weight difference between the two modes.
 * -bench_mode full: the whole spectrum of a quadratic with a prescribed spectrum of size
 *   -bench_full_n (assembly from block products + ScaLAPACK pdsyev), seconds split into
 *   products and the rest, and the largest eigenvalue error.
 * Options: -bench_probes, -bench_steps, -bench_reps (SLQ: the modes alternate, medians are
 * reported, since timings on shared machines vary by +-30 %), -bench_full_n.
 */
#include <hessa/spectrum.h>
#include <hessa/data.h>
#include <math.h>
#include <stdlib.h>
#include "bench_common.h"

static PetscErrorCode RunSLQ(void)
{
  HessaData            data;
  HessaModel           model;
  HessaOperator        op;
  HessaDensitySettings s;
  HessaDensity         d[2];
  double               secs[2][16], prod[2][16], seconds[2], product_seconds[2], dn = 0, dw = 0;
  PetscInt             probes = 8, steps = 30, reps = 3;
  PetscMPIInt          size;
  Vec                  x, y;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_probes", &probes, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_steps", &steps, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_reps", &reps, NULL));
  reps = PetscMax(1, PetscMin(reps, 16));
  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
  PetscCall(HessaOperatorCreateVec(op, &x));
  PetscCall(VecDuplicate(x, &y));
  PetscCall(HessaVecSetRandom(x, HESSA_RANDOM_NORMAL, 1, 1));
  PetscCall(HessaOperatorApply(op, x, y)); /* warm-up: builds the forward cache */
  PetscCall(HessaDensitySettingsDefault(&s));
  s.probes = probes;
  s.steps  = steps;
  s.seed   = 5;
  for (PetscInt r = 0; r < reps; r++)
    for (int mode = 0; mode < 2; mode++) {
      double p0 = op->product_seconds;
      if (r > 0) PetscCall(HessaDensityDestroy(&d[mode]));
      s.block = mode == 0 ? PETSC_TRUE : PETSC_FALSE;
      PetscCall(HessaSpectrumDensityWithSettings(op, &s, &d[mode]));
      prod[mode][r] = op->product_seconds - p0;
      secs[mode][r] = d[mode].seconds;
    }
  for (int mode = 0; mode < 2; mode++) {
    seconds[mode]         = BenchMedian(secs[mode], reps);
    product_seconds[mode] = BenchMedian(prod[mode], reps);
  }
  for (PetscInt k = 0; k < probes * steps; k++) {
    dn = PetscMax(dn, fabs(d[0].nodes[k] - d[1].nodes[k]));
    dw = PetscMax(dw, fabs(d[0].weights[k] - d[1].weights[k]));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "{\"ranks\": %d, \"n\": %" PetscInt_FMT ", \"probes\": %" PetscInt_FMT ", \"steps\": %" PetscInt_FMT
                        ", \"block_seconds\": %.4f, \"block_product_seconds\": %.4f, \"single_seconds\": %.4f, \"single_product_seconds\": %.4f, \"products\": %" PetscInt64_FMT
                        ", \"max_node_difference\": %.3e, \"max_weight_difference\": %.3e, \"negative_fraction\": %.5f, \"negative_fraction_se\": %.5f}\n",
                        (int)size, op->n_op, probes, steps, seconds[0], product_seconds[0], seconds[1], product_seconds[1], d[0].products, dn, dw, d[0].negative_fraction, d[0].negative_fraction_se));
  PetscCall(HessaDensityDestroy(&d[0]));
  PetscCall(HessaDensityDestroy(&d[1]));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode RunFull(void)
{
  PetscInt          n = 4096;
  double           *lambda, err = 0, p0;
  HessaObjective    obj;
  HessaOperator     op;
  HessaFullSpectrum f;
  PetscMPIInt       rank, size;
  Vec               theta;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_full_n", &n, NULL));
  PetscCall(PetscMalloc1(n, &lambda));
  PetscCall(HessaSpectrumGenerate(n, 0.1, 1.0, 10, 50.0, n / 20, -1.0, -0.1, lambda));
  PetscCall(HessaQuadraticCreate(n, lambda, 4, 7, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &obj));
  PetscCall(HessaOperatorCreate(PETSC_COMM_WORLD, obj, &op));
  PetscCall(HessaOperatorSetUp(op));
  PetscCall(HessaOperatorCreateParameterVec(op, &theta));
  PetscCall(VecSet(theta, 0.0));
  PetscCall(HessaOperatorSetPoint(op, theta));
  p0 = op->product_seconds;
  PetscCall(HessaSpectrumFull(op, -1, &f));
  for (PetscInt i = 0; i < n; i++) err = PetscMax(err, fabs(f.values[i] - lambda[i]));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "{\"ranks\": %d, \"n\": %" PetscInt_FMT ", \"full_seconds\": %.4f, \"full_product_seconds\": %.4f, \"max_eigenvalue_error\": %.3e, \"asymmetry\": %.3e}\n", (int)size, n, f.seconds, op->product_seconds - p0,
                        err, f.asymmetry));
  PetscCall(HessaFullSpectrumDestroy(&f));
  PetscCall(VecDestroy(&theta));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(PetscFree(lambda));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr     = HessaInitialize(&argc, &argv, NULL);
  char           mode[16] = "slq";
  PetscBool      full     = PETSC_FALSE;

  if (!ierr) ierr = PetscOptionsGetString(NULL, NULL, "-bench_mode", mode, sizeof mode, NULL);
  if (!ierr) ierr = PetscStrcmp(mode, "full", &full);
  if (!ierr) ierr = full ? RunFull() : RunSLQ();
  return HessaFinalize(ierr);
}
