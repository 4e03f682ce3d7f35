/* Honest error bars: over many seeds, Hutchinson's trace and SLQ's negative fraction lie
 * within 1 and 3 standard errors of the exact answer about as often as they should.
 *
 * The operator is the quadratic of -hessa_model quadratic (HessaQuadraticCreateDense: dense,
 * generic eigenvectors), n = 240, spectrum from HessaSpectrumGenerate: 24 negatives in
 * [-1, -0.1], a bulk in [0.1, 1], 10 outliers up to 30. Closed forms: tr H = sum lambda,
 * negative fraction 24 / 240 = 0.1.
 *   - Hutchinson, 20 samples, seeds 1..120: |estimate - tr| <= 3 se in at least 93 % of the
 *     seeds (Student t with 19 degrees of freedom: 99.3 %), and <= 1 se in 50 % to 85 %
 *     (t: 67 %): too small error bars fail the first, too large ones the second;
 *   - SLQ, 8 probes x 24 Lanczos steps, seeds 1..60: the same two bounds for the negative
 *     fraction (t with 7 degrees of freedom: 98.1 % and 65 %).
 * The bounds leave about 3 binomial standard deviations of room for the number of seeds.
 * Coverage alone cannot see a quadratic whose eigenvectors are near e_i (the old basis of 4
 * Householder reflections): its error bars are honest for that matrix but about 14 x
 * smaller than a network's with the same spectrum, because z^T H z hardly varies. So the
 * pooled variance of one Hutchinson sample, mean(se^2) x 20, must also be within [0.7, 1.4]
 * of its value for a generic (Haar) basis, 2 (n sum lambda^2 - (sum lambda)^2) / (n + 2)
 * (from E q_k^4 = 3 / (n (n + 2)) and E q_k^2 q_l^2 = 1 / (n (n + 2)) for a uniform unit
 * row q of Q). Measured: 1.02 here, 0.079 with the old basis (standard errors 3.6 x too small).
 */
#include <hessa/spectrum.h>
#include <hessa/core.h>

#define N 240

static PetscErrorCode CheckCoverage(const char what[], PetscInt seeds, const double *estimate, const double *se, double exact)
{
  PetscInt within1 = 0, within3 = 0;
  double   f1, f3;

  PetscFunctionBegin;
  for (PetscInt s = 0; s < seeds; s++) {
    double err = fabs(estimate[s] - exact);
    PetscCheck(se[s] > 0 && isfinite(se[s]), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s, seed %" PetscInt_FMT ": standard error %g", what, s + 1, se[s]);
    within1 += err <= se[s];
    within3 += err <= 3 * se[s];
  }
  f1 = (double)within1 / (double)seeds, f3 = (double)within3 / (double)seeds;
  PetscCheck(f3 >= 0.93, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: only %.1f %% of %" PetscInt_FMT " estimates lie within 3 standard errors of the exact %.10g (expected about 99 %%, at least 93 %%): the error bars are too small", what, 100 * f3, seeds,
             exact);
  PetscCheck(f1 >= 0.50 && f1 <= 0.85, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: %.1f %% of %" PetscInt_FMT " estimates lie within 1 standard error of the exact %.10g (expected about 67 %%, between 50 %% and 85 %%)", what, 100 * f1, seeds, exact);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  const PetscInt trace_seeds = 120, slq_seeds = 60;
  PetscMPIInt    rank;
  double         lambda[N], trace = 0, *est, *se;
  PetscInt       negatives = 0;
  HessaObjective obj;
  HessaOperator  op;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(HessaSpectrumGenerate(N, 0.1, 1.0, 10, 30.0, 24, -1.0, -0.1, lambda));
  for (PetscInt i = 0; i < N; i++) trace += lambda[i], negatives += lambda[i] < 0;
  PetscCall(HessaQuadraticCreateDense(N, lambda, 5, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &obj));
  PetscCall(HessaOperatorCreate(PETSC_COMM_WORLD, obj, &op));
  PetscCall(HessaOperatorSetUp(op));
  PetscCall(PetscMalloc2(trace_seeds, &est, trace_seeds, &se));
  for (PetscInt s = 0; s < trace_seeds; s++) {
    HessaTrace t;
    PetscCall(HessaSpectrumTrace(op, HESSA_TRACE_HUTCHINSON, 20, (uint64_t)(s + 1), &t));
    est[s] = t.estimate, se[s] = t.standard_error;
    PetscCall(HessaTraceDestroy(&t));
  }
  PetscCall(CheckCoverage("Hutchinson trace", trace_seeds, est, se, trace));
  {
    double sum_sq = 0, pooled = 0, generic;
    for (PetscInt i = 0; i < N; i++) sum_sq += lambda[i] * lambda[i];
    for (PetscInt s = 0; s < trace_seeds; s++) pooled += se[s] * se[s] * 20 / trace_seeds;
    generic = 2 * (N * sum_sq - trace * trace) / (N + 2);
    PetscCheck(pooled >= 0.7 * generic && pooled <= 1.4 * generic, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "Hutchinson: the variance of one sample is %.6g, %.3g times its value %.6g for generic eigenvectors (expected 0.7 to 1.4): the quadratic's basis is not generic", pooled, pooled / generic, generic);
  }
  for (PetscInt s = 0; s < slq_seeds; s++) {
    HessaDensity d;
    PetscCall(HessaSpectrumDensity(op, 8, 24, (uint64_t)(s + 1), &d));
    est[s] = d.negative_fraction, se[s] = d.negative_fraction_se;
    PetscCall(HessaDensityDestroy(&d));
  }
  PetscCall(CheckCoverage("SLQ negative fraction", slq_seeds, est, se, (double)negatives / N));
  PetscCall(PetscFree2(est, se));
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
