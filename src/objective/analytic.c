/* Analytic objectives with closed-form gradients and Hessians; they anchor the tests.
 *
 * Each behaves as a data set of ONE sample (n_samples = 1): the rank that owns the
 * sample (owns_sample) returns the values, every other rank returns zeros, so the
 * operator layer's sum over ranks divided by n_samples is the function itself.
 *
 * The quadratic 1/2 x^T Q diag(lambda) Q^T x (x0 = 0) applies Q without forming it:
 * Q = H_0 ... H_{r-1} R_0 ... R_{L-1}, r Householder reflections (O(n r)) and L layers of
 * random plane rotations (O(n L)). A layer R_l shuffles the indices (Fisher-Yates) and
 * rotates each consecutive pair of the shuffled order by a random angle; L = 4 ceil(log2 n)
 * layers make Q dense and generic (sum_j Q_ij^4 within a few % of a Haar matrix's 3/n),
 * which honest Hutchinson / SLQ error bars need: a few reflections leave Q close to the
 * identity, where z^T H z hardly varies over Rademacher z and the standard errors come out
 * many times too small.
 */
#include <hessa/objective.h>
#include <math.h>
#include <string.h>

typedef struct {
  HessaAnalyticKind kind;
  PetscBool         owns_sample;
  /* quadratic only */
  PetscInt  reflections;
  double   *lambda;  /* [n] */
  double   *normals; /* [reflections][n], unit vectors */
  double   *work;    /* [n] */
  PetscInt  layers;  /* rotation layers L */
  PetscInt *pairs;   /* [layers][2 (n/2)]: layer l rotates (pairs[2p], pairs[2p+1]) */
  double   *cs;      /* [layers][n/2][2]: cos and sin of each pair's angle */
} Analytic;

/* y <- R_l y (sign +1) or R_l^T y (sign -1): the plane rotations of layer l */
static void RotationLayer(const Analytic *a, PetscInt n, PetscInt l, double sign, double *y)
{
  const PetscInt *pr = a->pairs + (size_t)l * 2 * (n / 2);
  const double   *cs = a->cs + (size_t)l * 2 * (n / 2);

  for (PetscInt p = 0; p < n / 2; p++) {
    PetscInt i = pr[2 * p], j = pr[2 * p + 1];
    double   c = cs[2 * p], s = sign * cs[2 * p + 1], yi = y[i], yj = y[j];
    y[i] = c * yi - s * yj;
    y[j] = s * yi + c * yj;
  }
}

/* ---- the quadratic --------------------------------------------------------------- */

/* y = Q x (transpose false) or Q^T x; y may equal x. Q = H_0 H_1 ... H_{r-1} R_0 ... R_{L-1}. */
static void QuadraticApply(const Analytic *a, PetscInt n, PetscBool transpose, const double *x, double *y)
{
  if (y != x) memcpy(y, x, (size_t)n * sizeof(double));
  if (!transpose) /* Q x applies R_{L-1} first */
    for (PetscInt l = a->layers - 1; l >= 0; l--) RotationLayer(a, n, l, 1.0, y);
  for (PetscInt t = 0; t < a->reflections; t++) {
    /* Q x applies H_{r-1} first; Q^T x applies H_0 first */
    PetscInt      k = transpose ? t : a->reflections - 1 - t;
    const double *u = a->normals + (size_t)k * n;
    double        d = 0;
    for (PetscInt i = 0; i < n; i++) d += u[i] * y[i];
    for (PetscInt i = 0; i < n; i++) y[i] -= 2.0 * d * u[i];
  }
  if (transpose) /* Q^T x applies R_0^T after the reflections */
    for (PetscInt l = 0; l < a->layers; l++) RotationLayer(a, n, l, -1.0, y);
}

/* out = Q diag(lambda) Q^T x */
static void QuadraticHessianApply(const Analytic *a, PetscInt n, const double *x, double *out)
{
  QuadraticApply(a, n, PETSC_TRUE, x, out);
  for (PetscInt i = 0; i < n; i++) out[i] *= a->lambda[i];
  QuadraticApply(a, n, PETSC_FALSE, out, out);
}

/* ---- closed forms of the small functions ------------------------------------------ */

static double AnalyticValue(const Analytic *a, PetscInt n, const double *x)
{
  switch (a->kind) {
  case HESSA_ANALYTIC_LINEAR_TOY: {
    double r = 1.0 - x[0] * x[1];
    return r * r;
  }
  case HESSA_ANALYTIC_X2_PLUS_Y4:
    return x[0] * x[0] + x[1] * x[1] * x[1] * x[1];
  case HESSA_ANALYTIC_X2_MINUS_Y4:
    return x[0] * x[0] - x[1] * x[1] * x[1] * x[1];
  case HESSA_ANALYTIC_ROSENBROCK: {
    double f = 0;
    for (PetscInt i = 0; i + 1 < n; i++) {
      double s = x[i + 1] - x[i] * x[i], t = 1.0 - x[i];
      f += 100.0 * s * s + t * t;
    }
    return f;
  }
  case HESSA_ANALYTIC_MONKEY_SADDLE:
    return x[0] * x[0] * x[0] - 3.0 * x[0] * x[1] * x[1];
  case HESSA_ANALYTIC_QUADRATIC:
    break;
  }
  return 0;
}

static void AnalyticGradient(const Analytic *a, PetscInt n, const double *x, double *g)
{
  switch (a->kind) {
  case HESSA_ANALYTIC_LINEAR_TOY: {
    double r = 1.0 - x[0] * x[1];
    g[0]     = -2.0 * x[1] * r;
    g[1]     = -2.0 * x[0] * r;
  } break;
  case HESSA_ANALYTIC_X2_PLUS_Y4:
    g[0] = 2.0 * x[0];
    g[1] = 4.0 * x[1] * x[1] * x[1];
    break;
  case HESSA_ANALYTIC_X2_MINUS_Y4:
    g[0] = 2.0 * x[0];
    g[1] = -4.0 * x[1] * x[1] * x[1];
    break;
  case HESSA_ANALYTIC_ROSENBROCK:
    for (PetscInt i = 0; i < n; i++) g[i] = 0;
    for (PetscInt i = 0; i + 1 < n; i++) {
      double s = x[i + 1] - x[i] * x[i];
      g[i] += -400.0 * x[i] * s - 2.0 * (1.0 - x[i]);
      g[i + 1] += 200.0 * s;
    }
    break;
  case HESSA_ANALYTIC_MONKEY_SADDLE:
    g[0] = 3.0 * x[0] * x[0] - 3.0 * x[1] * x[1];
    g[1] = -6.0 * x[0] * x[1];
    break;
  case HESSA_ANALYTIC_QUADRATIC:
    break;
  }
}

/* hv = H(x) v for one direction */
static void AnalyticHessianApply(const Analytic *a, PetscInt n, const double *x, const double *v, double *hv)
{
  switch (a->kind) {
  case HESSA_ANALYTIC_LINEAR_TOY: {
    /* H = [[2 w2^2, 4 w1 w2 - 2], [4 w1 w2 - 2, 2 w1^2]] */
    double off = 4.0 * x[0] * x[1] - 2.0;
    hv[0]      = 2.0 * x[1] * x[1] * v[0] + off * v[1];
    hv[1]      = off * v[0] + 2.0 * x[0] * x[0] * v[1];
  } break;
  case HESSA_ANALYTIC_X2_PLUS_Y4:
    hv[0] = 2.0 * v[0];
    hv[1] = 12.0 * x[1] * x[1] * v[1];
    break;
  case HESSA_ANALYTIC_X2_MINUS_Y4:
    hv[0] = 2.0 * v[0];
    hv[1] = -12.0 * x[1] * x[1] * v[1];
    break;
  case HESSA_ANALYTIC_ROSENBROCK:
    /* tridiagonal: H_ii = 1200 x_i^2 - 400 x_{i+1} + 2 (i < n-1) + 200 (i > 0), H_i,i+1 = -400 x_i */
    for (PetscInt i = 0; i < n; i++) hv[i] = 0;
    for (PetscInt i = 0; i + 1 < n; i++) {
      double dii = 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0, off = -400.0 * x[i];
      hv[i] += dii * v[i] + off * v[i + 1];
      hv[i + 1] += off * v[i] + 200.0 * v[i + 1];
    }
    break;
  case HESSA_ANALYTIC_MONKEY_SADDLE:
    hv[0] = 6.0 * x[0] * v[0] - 6.0 * x[1] * v[1];
    hv[1] = -6.0 * x[1] * v[0] - 6.0 * x[0] * v[1];
    break;
  case HESSA_ANALYTIC_QUADRATIC:
    break;
  }
}

/* ---- ops ------------------------------------------------------------------------- */

static PetscErrorCode AnalyticLoss(HessaObjective obj, const double *theta, double *loss)
{
  Analytic *a = (Analytic *)obj->impl;

  PetscFunctionBegin;
  *loss = 0;
  if (!a->owns_sample) PetscFunctionReturn(0);
  if (a->kind == HESSA_ANALYTIC_QUADRATIC) {
    QuadraticApply(a, obj->n, PETSC_TRUE, theta, a->work);
    for (PetscInt i = 0; i < obj->n; i++) *loss += 0.5 * a->lambda[i] * a->work[i] * a->work[i];
  } else
    *loss = AnalyticValue(a, obj->n, theta);
  PetscFunctionReturn(0);
}

static PetscErrorCode AnalyticGradientOp(HessaObjective obj, const double *theta, double *loss, double *grad)
{
  Analytic *a = (Analytic *)obj->impl;

  PetscFunctionBegin;
  PetscCall(AnalyticLoss(obj, theta, loss));
  if (!a->owns_sample) {
    PetscCall(PetscArrayzero(grad, obj->n));
    PetscFunctionReturn(0);
  }
  if (a->kind == HESSA_ANALYTIC_QUADRATIC)
    QuadraticHessianApply(a, obj->n, theta, grad);
  else
    AnalyticGradient(a, obj->n, theta, grad);
  PetscFunctionReturn(0);
}

static PetscErrorCode AnalyticHessianBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *HV)
{
  Analytic *a = (Analytic *)obj->impl;
  PetscInt  n = obj->n;

  PetscFunctionBegin;
  if (!a->owns_sample) {
    PetscCall(PetscArrayzero(HV, (size_t)b * n));
    PetscFunctionReturn(0);
  }
  for (PetscInt j = 0; j < b; j++) {
    if (a->kind == HESSA_ANALYTIC_QUADRATIC)
      QuadraticHessianApply(a, n, V + (size_t)j * n, HV + (size_t)j * n);
    else
      AnalyticHessianApply(a, n, theta, V + (size_t)j * n, HV + (size_t)j * n);
  }
  PetscFunctionReturn(0);
}

/* The linear toy is a least-squares fit of the model w1 w2 to 1 with loss (1 - m)^2:
 * G = J^T 2 J with J = (w2, w1). */
static PetscErrorCode LinearToyGGNBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *GV)
{
  Analytic *a = (Analytic *)obj->impl;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < b; j++) {
    const double *v  = V + 2 * j;
    double       *gv = GV + 2 * j;
    double        jv = theta[1] * v[0] + theta[0] * v[1];
    gv[0]            = a->owns_sample ? 2.0 * theta[1] * jv : 0.0;
    gv[1]            = a->owns_sample ? 2.0 * theta[0] * jv : 0.0;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode AnalyticDestroy(HessaObjective obj)
{
  Analytic *a = (Analytic *)obj->impl;

  PetscFunctionBegin;
  if (!a) PetscFunctionReturn(0);
  PetscCall(PetscFree(a->lambda));
  PetscCall(PetscFree(a->normals));
  PetscCall(PetscFree(a->work));
  PetscCall(PetscFree(a->pairs));
  PetscCall(PetscFree(a->cs));
  PetscCall(PetscFree(obj->impl));
  PetscFunctionReturn(0);
}

/* ---- constructors ------------------------------------------------------------------ */

/* HessaQuadraticCreate - see objective.h. Not collective: every rank builds the same Q
 * from the rank-independent stream. Inputs: n, lambda [n] (copied), reflections >= 0,
 * seed, owns_sample. Output: *obj (type "quadratic", GGN = Hessian). */
PetscErrorCode HessaQuadraticCreate(PetscInt n, const double *lambda, PetscInt reflections, uint64_t seed, PetscBool owns_sample, HessaObjective *obj)
{
  Analytic *a;

  PetscFunctionBegin;
  PetscCheck(n > 0, PETSC_COMM_SELF, HESSA_ERR_ARG, "quadratic: n must be positive, got %" PetscInt_FMT, n);
  PetscCheck(reflections >= 0, PETSC_COMM_SELF, HESSA_ERR_ARG, "quadratic: reflections must be >= 0, got %" PetscInt_FMT, reflections);
  PetscCheck(lambda, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "quadratic: lambda is NULL");
  PetscCall(HessaObjectiveCreateEmpty("quadratic", n, obj));
  PetscCall(PetscNew(&a));
  a->kind        = HESSA_ANALYTIC_QUADRATIC;
  a->owns_sample = owns_sample;
  a->reflections = reflections;
  PetscCall(PetscMalloc1(n, &a->lambda));
  PetscCall(PetscArraycpy(a->lambda, lambda, n));
  PetscCall(PetscMalloc1(n, &a->work));
  PetscCall(PetscMalloc1((size_t)n * (reflections > 0 ? reflections : 1), &a->normals));
  for (PetscInt k = 0; k < reflections; k++) {
    double *u = a->normals + (size_t)k * n, norm = 0;
    for (PetscInt i = 0; i < n; i++) {
      u[i] = HessaRandomNormal(seed, HESSA_STREAM_QUADRATIC, (uint64_t)k * (uint64_t)n + (uint64_t)i);
      norm += u[i] * u[i];
    }
    norm = sqrt(norm);
    PetscCheck(norm > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "quadratic: zero Householder normal");
    for (PetscInt i = 0; i < n; i++) u[i] /= norm;
  }
  (*obj)->impl              = a;
  (*obj)->ops.loss          = AnalyticLoss;
  (*obj)->ops.gradient      = AnalyticGradientOp;
  (*obj)->ops.hessian_block = AnalyticHessianBlock;
  (*obj)->ops.ggn_block     = AnalyticHessianBlock; /* a quadratic is its own Gauss-Newton model */
  (*obj)->ops.destroy       = AnalyticDestroy;
  PetscCall(PetscSNPrintf((*obj)->description, sizeof((*obj)->description), "quadratic 1/2 x^T Q diag(lambda) Q^T x, n = %" PetscInt_FMT ", %" PetscInt_FMT " Householder reflections, seed %llu", n, reflections, (unsigned long long)seed));
  PetscFunctionReturn(0);
}

/* Not collective: L layers of random rotations from (seed, HESSA_STREAM_ROTATIONS):
 * layer l's order is a Fisher-Yates shuffle, for i = n-1 down to 1 swap i with
 * j = floor(u (i + 1)), u = uniform of stream + 0 at index l n + i; pair p of the shuffled
 * order turns by 2 pi u, u = uniform of stream + 1 at index l (n/2) + p. */
static PetscErrorCode QuadraticRotationsCreate(Analytic *a, PetscInt n, PetscInt layers, uint64_t seed)
{
  PetscInt     half   = n / 2, *order;
  const double two_pi = 2.0 * PETSC_PI;

  PetscFunctionBegin;
  a->layers = layers;
  PetscCall(PetscMalloc1((size_t)PetscMax(1, layers) * 2 * (size_t)PetscMax(1, half), &a->pairs));
  PetscCall(PetscMalloc1((size_t)PetscMax(1, layers) * 2 * (size_t)PetscMax(1, half), &a->cs));
  PetscCall(PetscMalloc1(n, &order));
  for (PetscInt l = 0; l < layers; l++) {
    for (PetscInt i = 0; i < n; i++) order[i] = i;
    for (PetscInt i = n - 1; i > 0; i--) {
      PetscInt j = (PetscInt)(HessaRandomUniform(seed, HESSA_STREAM_ROTATIONS, (uint64_t)l * (uint64_t)n + (uint64_t)i) * (double)(i + 1)), t;
      j          = PetscMin(j, i);
      t          = order[i];
      order[i]   = order[j];
      order[j]   = t;
    }
    for (PetscInt p = 0; p < half; p++) {
      double angle                               = two_pi * HessaRandomUniform(seed, HESSA_STREAM_ROTATIONS + 1, (uint64_t)l * (uint64_t)half + (uint64_t)p);
      a->pairs[(size_t)l * 2 * half + 2 * p]     = order[2 * p];
      a->pairs[(size_t)l * 2 * half + 2 * p + 1] = order[2 * p + 1];
      a->cs[(size_t)l * 2 * half + 2 * p]        = cos(angle);
      a->cs[(size_t)l * 2 * half + 2 * p + 1]    = sin(angle);
    }
  }
  PetscCall(PetscFree(order));
  PetscFunctionReturn(0);
}

/* HessaQuadraticCreateDense - see objective.h. Not collective: every rank builds the same Q.
 * Inputs: n, lambda [n] (copied), seed, owns_sample. Output: *obj, the quadratic with
 * Q = R_0 ... R_{L-1}, L = HessaQuadraticDenseLayers(n) rotation layers (no reflections). */
PetscErrorCode HessaQuadraticCreateDense(PetscInt n, const double *lambda, uint64_t seed, PetscBool owns_sample, HessaObjective *obj)
{
  Analytic *a;
  PetscInt  layers = HessaQuadraticDenseLayers(n);

  PetscFunctionBegin;
  PetscCall(HessaQuadraticCreate(n, lambda, 0, seed, owns_sample, obj));
  a = (Analytic *)(*obj)->impl;
  PetscCall(PetscFree(a->pairs));
  PetscCall(PetscFree(a->cs));
  PetscCall(QuadraticRotationsCreate(a, n, layers, seed));
  PetscCall(PetscSNPrintf((*obj)->description, sizeof((*obj)->description), "quadratic 1/2 x^T Q diag(lambda) Q^T x, n = %" PetscInt_FMT ", Q dense: %" PetscInt_FMT " layers of random rotations, seed %llu", n, layers, (unsigned long long)seed));
  PetscFunctionReturn(0);
}

/* HessaQuadraticDenseLayers - not collective: 4 ceil(log2 n) rotation layers (0 for n = 1). */
PetscInt HessaQuadraticDenseLayers(PetscInt n)
{
  PetscInt bits = 0;
  while (((PetscInt)1 << bits) < n) bits++;
  return 4 * bits;
}

/* HessaQuadraticApplyQ - y = Q x, or Q^T x when transpose. Not collective.
 * x and y have length n and may be the same array. */
PetscErrorCode HessaQuadraticApplyQ(HessaObjective obj, PetscBool transpose, const double *x, double *y)
{
  PetscBool is_quadratic;

  PetscFunctionBegin;
  PetscCheck(obj, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "objective is NULL");
  PetscCall(PetscStrcmp(obj->type, "quadratic", &is_quadratic));
  PetscCheck(is_quadratic, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "HessaQuadraticApplyQ needs a quadratic objective, got '%s'", obj->type);
  QuadraticApply((const Analytic *)obj->impl, obj->n, transpose, x, y);
  PetscFunctionReturn(0);
}

/* HessaSpectrumGenerate - see objective.h. Not collective. Output: lambda [n], ascending. */
PetscErrorCode HessaSpectrumGenerate(PetscInt n, double bulk_lo, double bulk_hi, PetscInt n_out, double outlier_max, PetscInt n_neg, double neg_lo, double neg_hi, double *lambda)
{
  PetscInt n_bulk = n - n_out - n_neg, k = 0;

  PetscFunctionBegin;
  PetscCheck(n_out >= 0 && n_neg >= 0 && n_bulk >= 0, PETSC_COMM_SELF, HESSA_ERR_ARG, "spectrum: %" PetscInt_FMT " outliers and %" PetscInt_FMT " negative eigenvalues do not fit in n = %" PetscInt_FMT, n_out, n_neg, n);
  PetscCheck(bulk_lo <= bulk_hi, PETSC_COMM_SELF, HESSA_ERR_ARG, "spectrum: bulk range [%g, %g] is empty", bulk_lo, bulk_hi);
  PetscCheck(n_out == 0 || outlier_max > bulk_hi, PETSC_COMM_SELF, HESSA_ERR_ARG, "spectrum: outlier_max %g must exceed bulk_hi %g", outlier_max, bulk_hi);
  PetscCheck(n_neg == 0 || (neg_lo <= neg_hi && neg_hi < 0), PETSC_COMM_SELF, HESSA_ERR_ARG, "spectrum: negative range [%g, %g] must satisfy neg_lo <= neg_hi < 0", neg_lo, neg_hi);
  for (PetscInt i = 0; i < n_neg; i++) lambda[k++] = n_neg == 1 ? neg_lo : neg_lo + (neg_hi - neg_lo) * (double)i / (double)(n_neg - 1);
  for (PetscInt i = 0; i < n_bulk; i++) lambda[k++] = n_bulk == 1 ? bulk_lo : bulk_lo + (bulk_hi - bulk_lo) * (double)i / (double)(n_bulk - 1);
  for (PetscInt i = 1; i <= n_out; i++) lambda[k++] = bulk_hi + (outlier_max - bulk_hi) * (double)i / (double)n_out;
  PetscFunctionReturn(0);
}

/* HessaAnalyticCreate - one of the small analytic functions (not the quadratic, which
 * needs a spectrum: HessaQuadraticCreate). n is used by Rosenbrock only (n >= 2); the
 * others have n = 2. Not collective. The linear toy also has a GGN. */
PetscErrorCode HessaAnalyticCreate(HessaAnalyticKind kind, PetscInt n, PetscBool owns_sample, HessaObjective *obj)
{
  Analytic   *a;
  PetscInt    dim = 2;
  const char *formula;

  PetscFunctionBegin;
  switch (kind) {
  case HESSA_ANALYTIC_QUADRATIC:
    SETERRQ(PETSC_COMM_SELF, HESSA_ERR_ARG, "the quadratic needs a spectrum: use HessaQuadraticCreate");
  case HESSA_ANALYTIC_LINEAR_TOY:
    formula = "(1 - w1 w2)^2";
    break;
  case HESSA_ANALYTIC_X2_PLUS_Y4:
    formula = "x^2 + y^4";
    break;
  case HESSA_ANALYTIC_X2_MINUS_Y4:
    formula = "x^2 - y^4";
    break;
  case HESSA_ANALYTIC_ROSENBROCK:
    PetscCheck(n >= 2, PETSC_COMM_SELF, HESSA_ERR_ARG, "Rosenbrock needs n >= 2, got %" PetscInt_FMT, n);
    dim     = n;
    formula = "sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2";
    break;
  case HESSA_ANALYTIC_MONKEY_SADDLE:
    formula = "x^3 - 3 x y^2";
    break;
  default:
    SETERRQ(PETSC_COMM_SELF, HESSA_ERR_ARG, "unknown analytic objective %d", (int)kind);
  }
  PetscCall(HessaObjectiveCreateEmpty(HessaAnalyticName(kind), dim, obj));
  PetscCall(PetscNew(&a));
  a->kind                   = kind;
  a->owns_sample            = owns_sample;
  (*obj)->impl              = a;
  (*obj)->ops.loss          = AnalyticLoss;
  (*obj)->ops.gradient      = AnalyticGradientOp;
  (*obj)->ops.hessian_block = AnalyticHessianBlock;
  (*obj)->ops.ggn_block     = kind == HESSA_ANALYTIC_LINEAR_TOY ? LinearToyGGNBlock : NULL;
  (*obj)->ops.destroy       = AnalyticDestroy;
  PetscCall(PetscSNPrintf((*obj)->description, sizeof((*obj)->description), "%s: %s, n = %" PetscInt_FMT, HessaAnalyticName(kind), formula, dim));
  PetscFunctionReturn(0);
}
