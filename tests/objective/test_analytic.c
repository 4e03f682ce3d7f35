/* Analytic objectives against their closed forms.
 * 1. Quadratic, n = 50, 7 reflections, spectrum from HessaSpectrumGenerate:
 *    - the spectrum generator gives the documented values (1e-15);
 *    - Q formed column by column from unit vectors is orthogonal (|Q^T Q - I| <= 1e-12)
 *      and equals the product of the Householder matrices built here, independently,
 *      from the documented stream indices (1e-12); ApplyQ(transpose) is Q^T (1e-12);
 *    - H v (block of 3) equals the dense Q diag(lambda) Q^T v (1e-12 relative), the loss
 *      is 1/2 x^T H x and the gradient H x (1e-12), Q e_k is an eigenvector (1e-12), the
 *      GGN equals the Hessian, and a rank without the sample returns zeros (exactly).
 * 2. Linear toy, x^2 + y^4, x^2 - y^4, Rosenbrock (n = 6), monkey saddle at several
 *    points: loss, gradient and the Hessian assembled from a block of unit vectors equal
 *    the closed forms written below (1e-12 relative); the worked examples of background.md
 *    (toy at (0,0): H = [[0,-2],[-2,0]]; on w1 w2 = 1: g = 0, H = 2[[w2^2,1],[1,w1^2]];
 *    x^2 +- y^4 at 0: H = diag(2,0)); gradient and Hessian also agree with central finite
 *    differences (1e-6 relative). The toy's GGN is 2 J^T J; the others have none (error).
 */
#include "objective_test.h"
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

/* Dense C = A B, all n x n row-major */
static void MatMul(PetscInt n, const double *A, const double *B, double *C)
{
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++) {
      double s = 0;
      for (PetscInt k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
      C[i * n + j] = s;
    }
}

static PetscErrorCode TestSpectrum(void)
{
  double lambda[12];

  PetscFunctionBegin;
  PetscCall(HessaSpectrumGenerate(12, 1.0, 2.0, 2, 10.0, 3, -3.0, -1.0, lambda));
  /* negatives -3, -2, -1; 7 bulk values 1, 1 + 1/6, ..., 2; outliers 2 + 8 k / 2 = 6, 10 */
  for (int i = 0; i < 3; i++) CHECK(fabs(lambda[i] - (-3.0 + i)) < 1e-15, "negative eigenvalue %d is %g", i, lambda[i]);
  for (int i = 0; i < 7; i++) CHECK(fabs(lambda[3 + i] - (1.0 + i / 6.0)) < 1e-15, "bulk eigenvalue %d is %g", i, lambda[3 + i]);
  CHECK(fabs(lambda[10] - 6.0) < 1e-15 && fabs(lambda[11] - 10.0) < 1e-15, "outliers are %g %g", lambda[10], lambda[11]);
  PetscFunctionReturn(0);
}

static PetscErrorCode TestQuadratic(void)
{
  const PetscInt n = 50, r = 7;
  const uint64_t seed = 11;
  HessaObjective obj, other;
  double        *lambda, *Q, *Qt, *Qh, *Hk, *tmp, *H, *x, *V, *HV, *Hd, *e, *col, loss, scaleH = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(n, &lambda));
  PetscCall(PetscMalloc5(n * n, &Q, n * n, &Qt, n * n, &Qh, n * n, &Hk, n * n, &tmp));
  PetscCall(PetscMalloc5(n * n, &H, n, &x, 3 * n, &V, 3 * n, &HV, 3 * n, &Hd));
  PetscCall(PetscMalloc2(n, &e, n, &col));
  PetscCall(HessaSpectrumGenerate(n, 0.1, 1.0, 3, 20.0, 4, -2.0, -0.5, lambda));
  PetscCall(HessaQuadraticCreate(n, lambda, r, seed, PETSC_TRUE, &obj));

  /* Q [i][k] = (Q e_k)_i, and Q^T the same way */
  for (PetscInt k = 0; k < n; k++) {
    PetscCall(PetscArrayzero(e, n));
    e[k] = 1;
    PetscCall(HessaQuadraticApplyQ(obj, PETSC_FALSE, e, col));
    for (PetscInt i = 0; i < n; i++) Q[i * n + k] = col[i];
    PetscCall(HessaQuadraticApplyQ(obj, PETSC_TRUE, e, col));
    for (PetscInt i = 0; i < n; i++) Qt[i * n + k] = col[i];
  }
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++) {
      double s = 0;
      for (PetscInt k = 0; k < n; k++) s += Q[k * n + i] * Q[k * n + j];
      CHECK(fabs(s - (i == j ? 1.0 : 0.0)) < 1e-12, "Q is not orthogonal: (Q^T Q)[%d][%d] = %g", (int)i, (int)j, s);
      CHECK(fabs(Qt[i * n + j] - Q[j * n + i]) < 1e-12, "ApplyQ(transpose) is not Q^T at [%d][%d]", (int)i, (int)j);
    }
  /* independent: Q = H_0 H_1 ... H_{r-1} with H_k = I - 2 u u^T, u from the documented indices */
  for (PetscInt i = 0; i < n * n; i++) Qh[i] = (i % (n + 1) == 0) ? 1.0 : 0.0;
  for (PetscInt k = 0; k < r; k++) {
    double u[50], nu = 0;
    for (PetscInt i = 0; i < n; i++) {
      u[i] = HessaRandomNormal(seed, HESSA_STREAM_QUADRATIC, (uint64_t)(k * n + i));
      nu += u[i] * u[i];
    }
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt j = 0; j < n; j++) Hk[i * n + j] = (i == j ? 1.0 : 0.0) - 2.0 * u[i] * u[j] / nu;
    MatMul(n, Qh, Hk, tmp);
    PetscCall(PetscArraycpy(Qh, tmp, n * n));
  }
  CHECK(TestMaxDiff(n * n, Q, Qh) < 1e-12, "Q differs from the product of Householder matrices by %g", TestMaxDiff(n * n, Q, Qh));
  /* dense H = Q diag(lambda) Q^T */
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++) {
      double s = 0;
      for (PetscInt k = 0; k < n; k++) s += Q[i * n + k] * lambda[k] * Q[j * n + k];
      H[i * n + j] = s;
      scaleH       = PetscMax(scaleH, fabs(s));
    }
  HessaRandomFill(HESSA_RANDOM_NORMAL, 3, 4, 0, 3 * n, V);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 3, 5, 0, n, x);
  PetscCall(HessaObjectiveHessianBlock(obj, x, 3, V, HV));
  for (PetscInt j = 0; j < 3; j++)
    for (PetscInt i = 0; i < n; i++) Hd[j * n + i] = TestDot(n, H + i * n, V + j * n);
  CHECK(TestRelErr(3 * n, HV, Hd) < 1e-12, "quadratic Hv differs from dense by %g", TestRelErr(3 * n, HV, Hd));
  PetscCall(HessaObjectiveGGNBlock(obj, x, 3, V, HV));
  CHECK(TestRelErr(3 * n, HV, Hd) < 1e-12, "quadratic GGN differs from H");
  PetscCall(HessaObjectiveGradient(obj, x, &loss, HV));
  for (PetscInt i = 0; i < n; i++) Hd[i] = TestDot(n, H + i * n, x);
  CHECK(TestRelErr(n, HV, Hd) < 1e-12, "quadratic gradient differs from H x");
  CHECK(fabs(loss - 0.5 * TestDot(n, x, Hd)) < 1e-12 * fabs(loss), "quadratic loss %g differs from 1/2 x^T H x = %g", loss, 0.5 * TestDot(n, x, Hd));
  for (PetscInt k = 0; k < n; k += 7) {
    for (PetscInt i = 0; i < n; i++) col[i] = Q[i * n + k];
    PetscCall(HessaObjectiveHessianBlock(obj, x, 1, col, HV));
    for (PetscInt i = 0; i < n; i++) CHECK(fabs(HV[i] - lambda[k] * col[i]) < 1e-12 * scaleH, "Q e_%d is not an eigenvector for %g", (int)k, lambda[k]);
  }
  /* a rank that does not own the sample */
  PetscCall(HessaQuadraticCreate(n, lambda, r, seed, PETSC_FALSE, &other));
  PetscCall(HessaObjectiveGradient(other, x, &loss, HV));
  CHECK(loss == 0 && TestNorm(n, HV) == 0, "non-owner returned a nonzero loss or gradient");
  PetscCall(HessaObjectiveHessianBlock(other, x, 3, V, HV));
  CHECK(TestNorm(3 * n, HV) == 0, "non-owner returned a nonzero Hv");
  PetscCall(HessaObjectiveDestroy(&other));
  CHECK(!other, "destroy did not null the handle");
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(PetscFree(lambda));
  PetscCall(PetscFree5(Q, Qt, Qh, Hk, tmp));
  PetscCall(PetscFree5(H, x, V, HV, Hd));
  PetscCall(PetscFree2(e, col));
  PetscFunctionReturn(0);
}

/* The dense quadratic (HessaQuadraticCreateDense), n = 37 (odd: one index rests in each
 * layer): Q from ApplyQ is orthogonal and ApplyQ(transpose) is Q^T (1e-12); Q equals the
 * product R_0 ... R_{L-1} rebuilt here from the documented streams (1e-12); L = 4 ceil(log2 n)
 * = 24; H v equals the dense Q diag(lambda) Q^T v (1e-12 relative); Q e_k is an eigenvector
 * (1e-12); and Q is generic: the mean over columns of (n / 3) sum_i Q_ik^4 is within [0.8, 1.3]
 * (1 for a Haar matrix; a few reflections give about n / 3). */
static PetscErrorCode TestQuadraticDense(void)
{
  const PetscInt n = 37, layers = 24;
  const uint64_t seed = 13;
  HessaObjective obj;
  double        *lambda, *Q, *R, *e, *col, *x, *hv, kurt = 0;

  PetscFunctionBegin;
  CHECK(HessaQuadraticDenseLayers(n) == layers, "dense layers %d, expected %d", (int)HessaQuadraticDenseLayers(n), (int)layers);
  PetscCall(PetscMalloc6(n, &lambda, n * n, &Q, n * n, &R, n, &e, n, &col, n, &x));
  PetscCall(PetscMalloc1(n, &hv));
  PetscCall(HessaSpectrumGenerate(n, 0.1, 1.0, 3, 20.0, 4, -2.0, -0.5, lambda));
  PetscCall(PetscArrayzero(x, n)); /* the point: the Hessian of a quadratic does not depend on it */
  PetscCall(HessaQuadraticCreateDense(n, lambda, seed, PETSC_TRUE, &obj));
  for (PetscInt k = 0; k < n; k++) {
    PetscCall(PetscArrayzero(e, n));
    e[k] = 1;
    PetscCall(HessaQuadraticApplyQ(obj, PETSC_FALSE, e, col));
    for (PetscInt i = 0; i < n; i++) Q[i * n + k] = col[i];
  }
  /* independent: R = I, then for l = 0..L-1, R <- R R_l (columns a, b of R turn together) */
  for (PetscInt i = 0; i < n * n; i++) R[i] = (i % (n + 1) == 0) ? 1.0 : 0.0;
  for (PetscInt l = 0; l < layers; l++) {
    PetscInt order[37];
    for (PetscInt i = 0; i < n; i++) order[i] = i;
    for (PetscInt i = n - 1; i > 0; i--) {
      PetscInt j = (PetscInt)(HessaRandomUniform(seed, HESSA_STREAM_ROTATIONS, (uint64_t)(l * n + i)) * (double)(i + 1)), t;
      j          = PetscMin(j, i);
      t = order[i], order[i] = order[j], order[j] = t;
    }
    for (PetscInt p = 0; p < n / 2; p++) {
      PetscInt a = order[2 * p], b = order[2 * p + 1];
      double   th = 2 * PETSC_PI * HessaRandomUniform(seed, HESSA_STREAM_ROTATIONS + 1, (uint64_t)(l * (n / 2) + p)), c = cos(th), sn = sin(th);
      for (PetscInt i = 0; i < n; i++) { /* (R R_l)[i][a] = c R_ia + s R_ib, [i][b] = -s R_ia + c R_ib */
        double ra = R[i * n + a], rb = R[i * n + b];
        R[i * n + a] = c * ra + sn * rb;
        R[i * n + b] = -sn * ra + c * rb;
      }
    }
  }
  CHECK(TestMaxDiff(n * n, Q, R) < 1e-12, "dense Q differs from the product of rotation layers by %g", TestMaxDiff(n * n, Q, R));
  for (PetscInt k = 0; k < n; k++) {
    double s4 = 0;
    for (PetscInt i = 0; i < n; i++) s4 += pow(Q[i * n + k], 4);
    kurt += s4 * n / 3.0 / n;
    for (PetscInt j = 0; j < n; j++) {
      double s = 0;
      for (PetscInt i = 0; i < n; i++) s += Q[i * n + k] * Q[i * n + j];
      CHECK(fabs(s - (k == j ? 1.0 : 0.0)) < 1e-12, "dense Q is not orthogonal: (Q^T Q)[%d][%d] = %g", (int)k, (int)j, s);
    }
    for (PetscInt i = 0; i < n; i++) e[i] = Q[i * n + k];
    PetscCall(HessaQuadraticApplyQ(obj, PETSC_TRUE, e, col)); /* Q^T q_k = e_k */
    for (PetscInt i = 0; i < n; i++) CHECK(fabs(col[i] - (i == k ? 1.0 : 0.0)) < 1e-12, "dense ApplyQ(transpose) is not Q^T at column %d", (int)k);
    PetscCall(HessaObjectiveHessianBlock(obj, x, 1, e, hv));
    for (PetscInt i = 0; i < n; i++) CHECK(fabs(hv[i] - lambda[k] * e[i]) < 1e-12 * 20, "dense Q e_%d is not an eigenvector for %g", (int)k, lambda[k]);
  }
  CHECK(kurt >= 0.8 && kurt <= 1.3, "dense Q is not generic: mean (n/3) sum Q_ik^4 = %g, expected about 1", kurt);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 3, 6, 0, n, e);
  PetscCall(HessaObjectiveHessianBlock(obj, x, 1, e, hv));
  for (PetscInt i = 0; i < n; i++) {
    double s = 0;
    for (PetscInt k = 0; k < n; k++)
      for (PetscInt j = 0; j < n; j++) s += Q[i * n + k] * lambda[k] * Q[j * n + k] * e[j];
    col[i] = s;
  }
  CHECK(TestRelErr(n, hv, col) < 1e-12, "dense quadratic Hv differs from Q diag(lambda) Q^T v by %g", TestRelErr(n, hv, col));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(PetscFree6(lambda, Q, R, e, col, x));
  PetscCall(PetscFree(hv));
  PetscFunctionReturn(0);
}

/* Closed forms written out here: f, g [n], H [n][n]. */
static void ClosedForm(HessaAnalyticKind kind, PetscInt n, const double *x, double *f, double *g, double *H)
{
  for (PetscInt i = 0; i < n * n; i++) H[i] = 0;
  switch (kind) {
  case HESSA_ANALYTIC_LINEAR_TOY: {
    double w1 = x[0], w2 = x[1];
    *f   = (1 - w1 * w2) * (1 - w1 * w2);
    g[0] = -2 * w2 * (1 - w1 * w2), g[1] = -2 * w1 * (1 - w1 * w2);
    H[0] = 2 * w2 * w2, H[1] = H[2] = -2 + 4 * w1 * w2, H[3] = 2 * w1 * w1;
  } break;
  case HESSA_ANALYTIC_X2_PLUS_Y4:
  case HESSA_ANALYTIC_X2_MINUS_Y4: {
    double s = kind == HESSA_ANALYTIC_X2_PLUS_Y4 ? 1 : -1;
    *f       = x[0] * x[0] + s * pow(x[1], 4);
    g[0] = 2 * x[0], g[1] = 4 * s * pow(x[1], 3);
    H[0] = 2, H[3] = 12 * s * x[1] * x[1];
  } break;
  case HESSA_ANALYTIC_ROSENBROCK:
    *f = 0;
    for (PetscInt i = 0; i < n; i++) g[i] = 0;
    for (PetscInt i = 0; i + 1 < n; i++) {
      double a = x[i], bb = x[i + 1];
      *f += 100 * pow(bb - a * a, 2) + pow(1 - a, 2);
      g[i] += -400 * a * (bb - a * a) - 2 * (1 - a);
      g[i + 1] += 200 * (bb - a * a);
      H[i * n + i] += 1200 * a * a - 400 * bb + 2;
      H[(i + 1) * n + i + 1] += 200;
      H[i * n + i + 1] += -400 * a;
      H[(i + 1) * n + i] += -400 * a;
    }
    break;
  case HESSA_ANALYTIC_MONKEY_SADDLE:
    *f   = pow(x[0], 3) - 3 * x[0] * x[1] * x[1];
    g[0] = 3 * x[0] * x[0] - 3 * x[1] * x[1], g[1] = -6 * x[0] * x[1];
    H[0] = 6 * x[0], H[1] = H[2] = -6 * x[1], H[3] = -6 * x[0];
    break;
  case HESSA_ANALYTIC_QUADRATIC:
    break;
  }
}

/* Loss, gradient and Hessian (block of unit vectors) of obj at x against ClosedForm and
 * finite differences; optional expected H (worked example). */
static PetscErrorCode CheckPoint(HessaObjective obj, HessaAnalyticKind kind, const double *x, const double *Hexpect)
{
  const PetscInt n = obj->n;
  double         f, fc, g[6], gc[6], H[36], Hc[36], E[36], gfd[6], Hfd[36], xp[6], xm[6], gp[6], gm[6], fp, fm, scale = 1;
  const double   h = 1e-5;

  PetscFunctionBegin;
  ClosedForm(kind, n, x, &fc, gc, Hc);
  PetscCall(HessaObjectiveGradient(obj, x, &f, g));
  for (PetscInt i = 0; i < n * n; i++) E[i] = (i % (n + 1) == 0) ? 1.0 : 0.0;
  PetscCall(HessaObjectiveHessianBlock(obj, x, n, E, H)); /* row j = H e_j = column j */
  for (PetscInt i = 0; i < n * n; i++) scale = PetscMax(scale, fabs(Hc[i]));
  CHECK(fabs(f - fc) <= 1e-12 * PetscMax(1.0, fabs(fc)), "%s: loss %.17g, closed form %.17g", obj->type, f, fc);
  CHECK(TestMaxDiff(n, g, gc) <= 1e-12 * PetscMax(1.0, TestNorm(n, gc)), "%s: gradient differs from the closed form by %g", obj->type, TestMaxDiff(n, g, gc));
  CHECK(TestMaxDiff(n * n, H, Hc) <= 1e-12 * scale, "%s: Hessian differs from the closed form by %g", obj->type, TestMaxDiff(n * n, H, Hc));
  if (Hexpect) CHECK(TestMaxDiff(n * n, H, Hexpect) <= 1e-12 * scale, "%s: Hessian differs from the worked example", obj->type);
  /* central differences */
  for (PetscInt k = 0; k < n; k++) {
    PetscCall(PetscArraycpy(xp, x, n));
    PetscCall(PetscArraycpy(xm, x, n));
    xp[k] += h, xm[k] -= h;
    PetscCall(HessaObjectiveGradient(obj, xp, &fp, gp));
    PetscCall(HessaObjectiveGradient(obj, xm, &fm, gm));
    gfd[k] = (fp - fm) / (2 * h);
    for (PetscInt i = 0; i < n; i++) Hfd[k * n + i] = (gp[i] - gm[i]) / (2 * h);
  }
  CHECK(TestMaxDiff(n, g, gfd) <= 1e-6 * PetscMax(1.0, TestNorm(n, g)), "%s: gradient differs from finite differences by %g", obj->type, TestMaxDiff(n, g, gfd));
  CHECK(TestMaxDiff(n * n, H, Hfd) <= 1e-6 * scale, "%s: Hessian differs from finite differences by %g", obj->type, TestMaxDiff(n * n, H, Hfd));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestSmall(void)
{
  const double   pts[5][2] = {{0, 0}, {0.3, -0.7}, {2, 0.5}, {-1.5, 2.2}, {1, 1}};
  HessaObjective obj;
  double         x[6], g[6], f, GV[4], E[4] = {1, 0, 0, 1};
  PetscErrorCode code;

  PetscFunctionBegin;
  for (int kind = HESSA_ANALYTIC_LINEAR_TOY; kind <= HESSA_ANALYTIC_MONKEY_SADDLE; kind++) {
    if (kind == HESSA_ANALYTIC_ROSENBROCK) continue;
    PetscCall(HessaAnalyticCreate((HessaAnalyticKind)kind, 0, PETSC_TRUE, &obj));
    CHECK(obj->n == 2 && obj->n_samples == 1, "%s: n = %d, n_samples = %d", obj->type, (int)obj->n, (int)obj->n_samples);
    for (int p = 0; p < 5; p++) PetscCall(CheckPoint(obj, (HessaAnalyticKind)kind, pts[p], NULL));
    PetscCall(HessaObjectiveDestroy(&obj));
  }
  /* worked examples */
  PetscCall(HessaAnalyticCreate(HESSA_ANALYTIC_LINEAR_TOY, 0, PETSC_TRUE, &obj));
  {
    const double origin[2] = {0, 0}, H0[4] = {0, -2, -2, 0};
    const double valley[3][2] = {{1, 1}, {2, 0.5}, {-0.25, -4}};
    PetscCall(CheckPoint(obj, HESSA_ANALYTIC_LINEAR_TOY, origin, H0));
    for (int p = 0; p < 3; p++) {
      double w1 = valley[p][0], w2 = valley[p][1], Hv[4] = {2 * w2 * w2, 2, 2, 2 * w1 * w1};
      PetscCall(CheckPoint(obj, HESSA_ANALYTIC_LINEAR_TOY, valley[p], Hv));
      PetscCall(HessaObjectiveGradient(obj, valley[p], &f, g));
      CHECK(f == 0 && TestNorm(2, g) < 1e-15, "toy: not a minimum on w1 w2 = 1");
      /* GGN = 2 J^T J, J = (w2, w1) */
      PetscCall(HessaObjectiveGGNBlock(obj, valley[p], 2, E, GV));
      CHECK(fabs(GV[0] - 2 * w2 * w2) < 1e-12 && fabs(GV[1] - 2 * w1 * w2) < 1e-12 && fabs(GV[2] - 2 * w1 * w2) < 1e-12 && fabs(GV[3] - 2 * w1 * w1) < 1e-12, "toy GGN is not 2 J^T J");
    }
  }
  PetscCall(HessaObjectiveDestroy(&obj));
  for (int s = 0; s < 2; s++) {
    const double origin[2] = {0, 0}, H0[4] = {2, 0, 0, 0};
    PetscCall(HessaAnalyticCreate(s ? HESSA_ANALYTIC_X2_MINUS_Y4 : HESSA_ANALYTIC_X2_PLUS_Y4, 0, PETSC_TRUE, &obj));
    PetscCall(CheckPoint(obj, s ? HESSA_ANALYTIC_X2_MINUS_Y4 : HESSA_ANALYTIC_X2_PLUS_Y4, origin, H0));
    /* no GGN: a clear error, not a crash */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    code = HessaObjectiveGGNBlock(obj, origin, 2, E, GV);
    PetscCall(PetscPopErrorHandler());
    CHECK(code == PETSC_ERR_SUP, "%s: GGN gave code %d, expected PETSC_ERR_SUP", obj->type, (int)code);
    PetscCall(HessaObjectiveDestroy(&obj));
  }
  /* Rosenbrock, n = 6: minimum at ones with the known tridiagonal Hessian */
  PetscCall(HessaAnalyticCreate(HESSA_ANALYTIC_ROSENBROCK, 6, PETSC_TRUE, &obj));
  {
    double Hmin[36] = {0};
    for (PetscInt i = 0; i < 6; i++) {
      x[i]            = 1;
      Hmin[i * 6 + i] = (i < 5 ? 802.0 : 0.0) + (i > 0 ? 200.0 : 0.0);
      if (i < 5) Hmin[i * 6 + i + 1] = Hmin[(i + 1) * 6 + i] = -400;
    }
    PetscCall(CheckPoint(obj, HESSA_ANALYTIC_ROSENBROCK, x, Hmin));
    PetscCall(HessaObjectiveGradient(obj, x, &f, g));
    CHECK(f == 0 && TestNorm(6, g) == 0, "Rosenbrock: ones is not the minimum");
    for (int p = 0; p < 3; p++) {
      HessaRandomFill(HESSA_RANDOM_NORMAL, 8, (uint64_t)p, 0, 6, x);
      PetscCall(CheckPoint(obj, HESSA_ANALYTIC_ROSENBROCK, x, NULL));
    }
  }
  PetscCall(HessaObjectiveDestroy(&obj));
  /* monkey saddle at the origin: g = 0, H = 0 (degenerate) */
  PetscCall(HessaAnalyticCreate(HESSA_ANALYTIC_MONKEY_SADDLE, 0, PETSC_TRUE, &obj));
  {
    const double origin[2] = {0, 0}, Z[4] = {0, 0, 0, 0};
    PetscCall(CheckPoint(obj, HESSA_ANALYTIC_MONKEY_SADDLE, origin, Z));
  }
  PetscCall(HessaObjectiveDestroy(&obj));
  /* non-owners return zeros */
  PetscCall(HessaAnalyticCreate(HESSA_ANALYTIC_LINEAR_TOY, 0, PETSC_FALSE, &obj));
  {
    const double p[2] = {0.3, 2};
    PetscCall(HessaObjectiveGradient(obj, p, &f, g));
    PetscCall(HessaObjectiveHessianBlock(obj, p, 2, E, GV));
    CHECK(f == 0 && TestNorm(2, g) == 0 && TestNorm(4, GV) == 0, "non-owner returned nonzeros");
  }
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestNames(void)
{
  HessaActivation   act;
  HessaLossKind     loss;
  HessaAnalyticKind kind;
  PetscBool         found;

  PetscFunctionBegin;
  for (int a = HESSA_ACT_IDENTITY; a <= HESSA_ACT_GELU; a++) {
    PetscCall(HessaActivationFromName(HessaActivationName((HessaActivation)a), &act, &found));
    CHECK(found && (int)act == a, "activation name table does not round-trip for %d", a);
  }
  PetscCall(HessaActivationFromName("TANH", &act, &found));
  CHECK(found && act == HESSA_ACT_TANH, "names are not case-insensitive");
  PetscCall(HessaActivationFromName("swish", &act, &found));
  CHECK(!found, "unknown activation found");
  for (int l = HESSA_LOSS_CROSS_ENTROPY; l <= HESSA_LOSS_MSE; l++) {
    PetscCall(HessaLossFromName(HessaLossName((HessaLossKind)l), &loss, &found));
    CHECK(found && (int)loss == l, "loss name table does not round-trip for %d", l);
  }
  for (int k = HESSA_ANALYTIC_QUADRATIC; k <= HESSA_ANALYTIC_MONKEY_SADDLE; k++) {
    PetscCall(HessaAnalyticFromName(HessaAnalyticName((HessaAnalyticKind)k), &kind, &found));
    CHECK(found && (int)kind == k, "analytic name table does not round-trip for %d", k);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(TestSpectrum());
  PetscCall(TestQuadratic());
  PetscCall(TestQuadraticDense());
  PetscCall(TestSmall());
  PetscCall(TestNames());
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
