/* The spectrum layer against a quadratic with a prescribed spectrum (n = 2000: 100 negative
 * eigenvalues in [-1, -0.1], a bulk in [0.1, 1], 10 outliers up to 50; eigenvectors are
 * Householder products, not the axes). Same answers at every rank count:
 * 1. extremes, k = 5 at each end: eigenvalues equal the prescribed ones to 1e-8 relative,
 *    explicit residuals <= 1e-8 |H|, all flagged converged, residual products counted;
 * 2. full spectrum: the sorted prescribed eigenvalues to 1e-10 |H|, asymmetry <= 1e-13,
 *    counts 100 / 0 / 1900, exactly n products;
 * 3. SLQ m = 80, n_v = 10: Wasserstein-1 distance to the uniform measure on the prescribed
 *    eigenvalues <= 0.005 (lambda_max - lambda_min); negative fraction within 0.03 of 0.05;
 *    block mode equals probe-at-a-time to 1e-10; both equal a reference computed on
 *    PETSC_COMM_SELF (every rank holds the whole quadratic) to 1e-10;
 * 4. Lanczos breakdown: a quadratic (n = 60) with 4 distinct eigenvalues stops every probe
 *    after 4 steps (of 20 requested); the Gauss nodes are those eigenvalues (1e-10), each
 *    probe's weights sum to 1, block mode equals probe-at-a-time;
 * 5. Hutchinson (200 probes) and Hutch++ (300 products): within 3 standard errors of the
 *    exact trace (sum of eigenvalues); products as budgeted.
 */
#include "spectrum_test.h"
#include <math.h>
#include <stdlib.h>

#define N 2000
#define N_NEG 100
#define N_OUT 10

static PetscBool verbose = PETSC_FALSE; /* -verbose: print the measured errors */

static int CompareDouble(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  double x, w;
} Atom;

static int CompareAtom(const void *a, const void *b)
{
  return CompareDouble(&((const Atom *)a)->x, &((const Atom *)b)->x);
}

/* W1 between the measure (1/scale) sum_k w_k delta(x_k) and the uniform measure on
 * lambda[0..n) (ascending): the integral of |F1 - F2| over the real line. */
static double Wasserstein1(PetscInt count, const double *x, const double *w, double scale, PetscInt n, const double *lambda)
{
  Atom    *atoms = (Atom *)malloc(sizeof(Atom) * (size_t)count);
  double   dist = 0, f1 = 0, f2 = 0, prev;
  PetscInt i1 = 0, i2 = 0;

  for (PetscInt k = 0; k < count; k++) {
    atoms[k].x = x[k];
    atoms[k].w = w[k] / scale;
  }
  qsort(atoms, (size_t)count, sizeof(Atom), CompareAtom);
  prev = PetscMin(atoms[0].x, lambda[0]);
  while (i1 < count || i2 < n) {
    PetscBool first = (i2 >= n || (i1 < count && atoms[i1].x <= lambda[i2])) ? PETSC_TRUE : PETSC_FALSE;
    double    next  = first ? atoms[i1].x : lambda[i2];
    dist += fabs(f1 - f2) * (next - prev);
    prev = next;
    if (first)
      f1 += atoms[i1++].w;
    else {
      f2 += 1.0 / (double)n;
      i2++;
    }
  }
  free(atoms);
  return dist;
}

static PetscErrorCode TestExtremes(HessaOperator op, const double *lambda)
{
  const double norm = lambda[N - 1];

  PetscFunctionBegin;
  for (int end = 0; end < 2; end++) {
    HessaExtremes e;
    PetscCall(HessaSpectrumExtremes(op, end ? HESSA_WHICH_SMALLEST : HESSA_WHICH_LARGEST, 5, 1e-11, PETSC_FALSE, &e));
    PetscCheck(e.nconv == 5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "extremes: %" PetscInt_FMT " of 5 converged", e.nconv);
    PetscCheck(e.products >= 5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "extremes: %" PetscInt64_FMT " products counted", e.products);
    for (PetscInt i = 0; i < 5; i++) {
      double truth = end ? lambda[i] : lambda[N - 1 - i], rel = fabs(e.values[i] - truth) / fabs(truth);
      PetscCheck(rel <= 1e-8, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "extremes %s %" PetscInt_FMT ": %.15g vs prescribed %.15g (rel %.2e)", end ? "smallest" : "largest", i, e.values[i], truth, rel);
      PetscCheck(e.residuals[i] <= 1e-8 * norm, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "extremes residual %.2e > 1e-8 |H|", e.residuals[i]);
      PetscCheck(e.converged[i], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "extremes pair %" PetscInt_FMT " not flagged converged", i);
    }
    if (verbose) {
      double worst = 0, worst_res = 0;
      for (PetscInt i = 0; i < 5; i++) {
        double truth = end ? lambda[i] : lambda[N - 1 - i];
        worst        = PetscMax(worst, fabs(e.values[i] - truth) / fabs(truth));
        worst_res    = PetscMax(worst_res, e.residuals[i] / norm);
      }
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "extremes %s: max rel error %.2e, max residual/|H| %.2e, %" PetscInt64_FMT " products (%s)\n", end ? "smallest" : "largest", worst, worst_res, e.products, e.eps_type));
    }
    PetscCall(HessaExtremesDestroy(&e));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode TestFull(HessaOperator op, const double *lambda)
{
  HessaFullSpectrum f;
  double            err = 0;

  PetscFunctionBegin;
  PetscCall(HessaSpectrumFull(op, -1, &f));
  for (PetscInt i = 0; i < N; i++) err = PetscMax(err, fabs(f.values[i] - lambda[i]));
  PetscCheck(err <= 1e-10 * lambda[N - 1], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "full spectrum: max error %.2e > 1e-10 |H|", err);
  PetscCheck(f.asymmetry <= 1e-13, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "full spectrum: asymmetry %.2e", f.asymmetry);
  PetscCheck(f.n_negative == N_NEG && f.n_zero == 0 && f.n_positive == N - N_NEG, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "full spectrum counts %" PetscInt_FMT "/%" PetscInt_FMT "/%" PetscInt_FMT, f.n_negative, f.n_zero, f.n_positive);
  PetscCheck(f.products == N, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "full spectrum: %" PetscInt64_FMT " products, expected %d", f.products, N);
  if (verbose) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "full: max error/|H| %.2e, asymmetry %.2e, zero_tol %.2e, %.2f s\n", err / lambda[N - 1], f.asymmetry, f.zero_tol, f.seconds));
  PetscCall(HessaFullSpectrumDestroy(&f));
  PetscFunctionReturn(0);
}

static double MaxDiff(PetscInt n, const double *a, const double *b)
{
  double d = 0;
  for (PetscInt i = 0; i < n; i++) d = PetscMax(d, fabs(a[i] - b[i]));
  return d;
}

static PetscErrorCode TestDensity(HessaOperator op, const double *lambda)
{
  HessaDensitySettings s;
  HessaDensity         block, single, ref;
  HessaObjective       self_obj;
  HessaOperator        self_op;
  double               w1, range = lambda[N - 1] - lambda[0], norm = lambda[N - 1];
  PetscInt             total;

  PetscFunctionBegin;
  PetscCall(HessaDensitySettingsDefault(&s));
  s.probes = 10;
  s.steps  = 80;
  s.seed   = 11;
  s.block  = PETSC_TRUE;
  PetscCall(HessaSpectrumDensityWithSettings(op, &s, &block));
  s.block = PETSC_FALSE;
  PetscCall(HessaSpectrumDensityWithSettings(op, &s, &single));
  total = s.probes * s.steps;
  for (PetscInt p = 0; p < s.probes; p++) PetscCheck(block.probe_steps[p] == s.steps, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "SLQ probe %" PetscInt_FMT " stopped after %" PetscInt_FMT " steps", p, block.probe_steps[p]);
  PetscCheck(block.products == total && single.products == total, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "SLQ products %" PetscInt64_FMT " / %" PetscInt64_FMT ", expected %" PetscInt_FMT, block.products, single.products, total);
  w1 = Wasserstein1(total, block.nodes, block.weights, (double)s.probes, N, lambda);
  PetscCheck(w1 <= 0.005 * range, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "SLQ: W1 %.4g > 0.005 (lambda_max - lambda_min) = %.4g", w1, 0.005 * range);
  PetscCheck(fabs(block.negative_fraction - (double)N_NEG / N) <= 0.03, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "SLQ negative fraction %.4f, truth %.4f", block.negative_fraction, (double)N_NEG / N);
  PetscCheck(MaxDiff(total, block.nodes, single.nodes) <= 1e-10 * norm && MaxDiff(total, block.weights, single.weights) <= 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "SLQ block vs probe-at-a-time: nodes %.2e, weights %.2e",
             MaxDiff(total, block.nodes, single.nodes), MaxDiff(total, block.weights, single.weights));

  /* the same computation on one rank's own communicator */
  PetscCall(TestQuadraticOperatorCreate(PETSC_COMM_SELF, N, lambda, 2024, 3, &self_obj, &self_op));
  PetscCall(HessaSpectrumDensityWithSettings(self_op, &s, &ref));
  PetscCheck(MaxDiff(total, block.nodes, ref.nodes) <= 1e-10 * norm && MaxDiff(total, block.weights, ref.weights) <= 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "SLQ at P ranks vs PETSC_COMM_SELF: nodes %.2e, weights %.2e",
             MaxDiff(total, block.nodes, ref.nodes), MaxDiff(total, block.weights, ref.weights));
  if (verbose)
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "slq: W1/range %.2e, negative fraction %.4f +- %.4f (truth %.4f), block vs single nodes %.2e weights %.2e, vs COMM_SELF nodes %.2e weights %.2e\n", w1 / range, block.negative_fraction,
                          block.negative_fraction_se, (double)N_NEG / N, MaxDiff(total, block.nodes, single.nodes), MaxDiff(total, block.weights, single.weights), MaxDiff(total, block.nodes, ref.nodes), MaxDiff(total, block.weights, ref.weights)));
  PetscCall(HessaDensityDestroy(&ref));
  PetscCall(HessaOperatorDestroy(&self_op));
  PetscCall(HessaObjectiveDestroy(&self_obj));
  PetscCall(HessaDensityDestroy(&block));
  PetscCall(HessaDensityDestroy(&single));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestBreakdown(void)
{
  const double         distinct[4] = {-2.0, 0.5, 1.0, 3.0};
  double               lambda[60];
  HessaObjective       obj;
  HessaOperator        op;
  HessaDensitySettings s;
  HessaDensity         d[2];
  PetscMPIInt          rank;
  Vec                  theta;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  for (PetscInt i = 0; i < 60; i++) lambda[i] = distinct[i % 4];
  PetscCall(HessaQuadraticCreate(60, lambda, 3, 77, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &obj));
  PetscCall(HessaOperatorCreate(PETSC_COMM_WORLD, obj, &op));
  PetscCall(HessaOperatorSetUp(op));
  PetscCall(HessaOperatorCreateParameterVec(op, &theta));
  PetscCall(VecSet(theta, 0.0));
  PetscCall(HessaOperatorSetPoint(op, theta));
  PetscCall(HessaDensitySettingsDefault(&s));
  s.probes = 3;
  s.steps  = 20;
  for (int mode = 0; mode < 2; mode++) {
    s.block = mode ? PETSC_FALSE : PETSC_TRUE;
    PetscCall(HessaSpectrumDensityWithSettings(op, &s, &d[mode]));
    for (PetscInt p = 0; p < s.probes; p++) {
      double sum = 0;
      PetscCheck(d[mode].probe_steps[p] == 4, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "breakdown: probe %" PetscInt_FMT " took %" PetscInt_FMT " steps, expected 4", p, d[mode].probe_steps[p]);
      for (PetscInt i = 0; i < 4; i++) {
        double x = d[mode].nodes[p * s.steps + i];
        PetscCheck(fabs(x - distinct[i]) <= 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "breakdown: node %" PetscInt_FMT " = %.15g, expected %g", i, x, distinct[i]);
      }
      for (PetscInt i = 0; i < s.steps; i++) sum += d[mode].weights[p * s.steps + i];
      PetscCheck(fabs(sum - 1) <= 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "breakdown: weights sum to %.15g", sum);
    }
  }
  PetscCheck(MaxDiff(s.probes * s.steps, d[0].nodes, d[1].nodes) <= 1e-12 && MaxDiff(s.probes * s.steps, d[0].weights, d[1].weights) <= 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "breakdown: block and probe-at-a-time differ");
  PetscCheck(d[0].products == 12 && d[1].products == 12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "breakdown: %" PetscInt64_FMT " / %" PetscInt64_FMT " products, expected 12", d[0].products, d[1].products);
  PetscCall(HessaDensityDestroy(&d[0]));
  PetscCall(HessaDensityDestroy(&d[1]));
  PetscCall(VecDestroy(&theta));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestTrace(HessaOperator op, const double *lambda)
{
  double     exact = 0;
  HessaTrace t;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < N; i++) exact += lambda[i];
  PetscCall(HessaSpectrumTrace(op, HESSA_TRACE_HUTCHINSON, 200, 5, &t));
  PetscCheck(fabs(t.estimate - exact) <= 3 * t.standard_error && t.standard_error > 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "Hutchinson %.6g +- %.3g, exact %.6g", t.estimate, t.standard_error, exact);
  if (verbose) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "Hutchinson %.6g +- %.3g, exact %.6g (%.2f SE)\n", t.estimate, t.standard_error, exact, fabs(t.estimate - exact) / t.standard_error));
  PetscCheck(t.products == 200, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "Hutchinson products %" PetscInt64_FMT, t.products);
  PetscCall(HessaSpectrumTrace(op, HESSA_TRACE_HUTCHPP, 300, 5, &t));
  PetscCheck(fabs(t.estimate - exact) <= 3 * t.standard_error && t.standard_error > 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "Hutch++ %.6g +- %.3g, exact %.6g", t.estimate, t.standard_error, exact);
  if (verbose) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "Hutch++ %.6g +- %.3g, exact %.6g (%.2f SE)\n", t.estimate, t.standard_error, exact, fabs(t.estimate - exact) / t.standard_error));
  PetscCheck(t.products == 300, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "Hutch++ products %" PetscInt64_FMT, t.products);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  double         lambda[N];
  HessaObjective obj;
  HessaOperator  op;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-verbose", &verbose, NULL));
  PetscCall(HessaSpectrumGenerate(N, 0.1, 1.0, N_OUT, 50.0, N_NEG, -1.0, -0.1, lambda));
  qsort(lambda, N, sizeof lambda[0], CompareDouble);
  PetscCall(TestQuadraticOperatorCreate(PETSC_COMM_WORLD, N, lambda, 2024, 3, &obj, &op));
  PetscCall(TestExtremes(op, lambda));
  PetscCall(TestFull(op, lambda));
  PetscCall(TestDensity(op, lambda));
  PetscCall(TestTrace(op, lambda));
  PetscCall(TestBreakdown());
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
