/* MLP numerical kernels: forward, backward, and the R-operator passes for a block of
 * directions. Plain C + CBLAS; no MPI, no allocation (all buffers live in the MLP
 * context). Layout and notation: see mlp_impl.h.
 *
 * Hessian-vector products by forward-over-reverse (Pearlmutter's R-operator), for each
 * direction v = (V_W, V_b):
 *   R-forward   R(Z_l) = R(A_{l-1}) W_l^T + A_{l-1} V_W^T + V_b,   R(A_l) = act'(Z_l) R(Z_l)
 *   output      R(dZ_L) = H_loss(Z_L) R(Z_L)
 *   R-backward  R(gW_l) = R(dZ_l)^T A_{l-1} + dZ_l^T R(A_{l-1}),  R(gb_l) = colsum R(dZ_l)
 *               R(dA_{l-1}) = R(dZ_l) W_l + dZ_l V_W
 *               R(dZ_{l-1}) = R(dA_{l-1}) act'(Z_{l-1}) + dA_{l-1} act''(Z_{l-1}) R(Z_{l-1})
 * The Gauss-Newton product J^T H_loss J v is the same pass without the dZ terms.
 */
#include "mlp_impl.h"
#include <cblas.h>
#include <math.h>
#include <string.h>

/* Row-major C = A op B with beta; dimensions were checked to fit in int at set-up. */
static inline void Gemm(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, PetscInt M, PetscInt N, PetscInt K, const double *A, PetscInt lda, const double *B, PetscInt ldb, double beta, double *C, PetscInt ldc)
{
  if (M <= 0 || N <= 0 || K <= 0) return;
  cblas_dgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

/* ---- activations --------------------------------------------------------------------- */
#define SOFTPLUS_THRESHOLD 20.0 /* PyTorch's default: softplus(z) = z above it */

static inline double Sigmoid(double z)
{
  return 1.0 / (1.0 + exp(-z));
}

/* HessaMLPActivateScalar - f = act(z), d1 = act'(z), d2 = act''(z). Not collective. */
void HessaMLPActivateScalar(HessaActivation act, double z, double *f, double *d1, double *d2)
{
  switch (act) {
  case HESSA_ACT_IDENTITY:
    *f = z, *d1 = 1.0, *d2 = 0.0;
    break;
  case HESSA_ACT_TANH: {
    double t = tanh(z);
    *f = t, *d1 = 1.0 - t * t, *d2 = -2.0 * t * (1.0 - t * t);
  } break;
  case HESSA_ACT_SIGMOID: {
    double s = Sigmoid(z);
    *f = s, *d1 = s * (1.0 - s), *d2 = s * (1.0 - s) * (1.0 - 2.0 * s);
  } break;
  case HESSA_ACT_RELU:
    *f = z > 0 ? z : 0.0, *d1 = z > 0 ? 1.0 : 0.0, *d2 = 0.0;
    break;
  case HESSA_ACT_SOFTPLUS:
    if (z > SOFTPLUS_THRESHOLD)
      *f = z, *d1 = 1.0, *d2 = 0.0;
    else {
      double s = Sigmoid(z);
      *f = log1p(exp(z)), *d1 = s, *d2 = s * (1.0 - s);
    }
    break;
  case HESSA_ACT_GELU: {
    /* exact GELU z Phi(z) (PyTorch's default, approximate='none') */
    double cdf = 0.5 * (1.0 + erf(z * M_SQRT1_2)), pdf = exp(-0.5 * z * z) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
    *f = z * cdf, *d1 = cdf + z * pdf, *d2 = pdf * (2.0 - z * z);
  } break;
  }
}

/* HessaMLPActivate - za [count]: in Z, out act(Z); d1, d2 (either may be NULL) get
 * act'(Z), act''(Z). The switch is outside the loops so they vectorise. */
void HessaMLPActivate(HessaActivation act, size_t count, double *za, double *d1, double *d2)
{
  switch (act) {
  case HESSA_ACT_IDENTITY:
    if (d1)
      for (size_t k = 0; k < count; k++) d1[k] = 1.0;
    if (d2) memset(d2, 0, count * sizeof(double));
    break;
  case HESSA_ACT_TANH:
    for (size_t k = 0; k < count; k++) {
      double t = tanh(za[k]), dt = 1.0 - t * t;
      za[k] = t;
      if (d1) d1[k] = dt;
      if (d2) d2[k] = -2.0 * t * dt;
    }
    break;
  case HESSA_ACT_RELU:
    for (size_t k = 0; k < count; k++) {
      double z = za[k];
      za[k]    = z > 0 ? z : 0.0;
      if (d1) d1[k] = z > 0 ? 1.0 : 0.0;
      if (d2) d2[k] = 0.0;
    }
    break;
  default: /* sigmoid, softplus, gelu */
    for (size_t k = 0; k < count; k++) {
      double f, a1, a2;
      HessaMLPActivateScalar(act, za[k], &f, &a1, &a2);
      za[k] = f;
      if (d1) d1[k] = a1;
      if (d2) d2[k] = a2;
    }
    break;
  }
}

/* ---- forward ---------------------------------------------------------------------------- */

/* Z [m][wout] = Ain [m][win] W^T + bias, W [wout][win] */
static void Dense(PetscInt m, PetscInt win, PetscInt wout, const double *Ain, const double *W, const double *bias, double *Z)
{
  for (PetscInt i = 0; i < m; i++) memcpy(Z + (size_t)i * wout, bias, (size_t)wout * sizeof(double));
  Gemm(CblasNoTrans, CblasTrans, m, wout, win, Ain, win, W, win, 1.0, Z, wout);
}

/* HessaMLPForwardChunk - see mlp_impl.h. out [m][w_L] may not alias mlp->fwd. */
PetscErrorCode HessaMLPForwardChunk(MLP *mlp, const double *theta, PetscInt m, const double *X, double *out)
{
  const double *in = X;

  PetscFunctionBegin;
  for (PetscInt l = 1; l <= mlp->L; l++) {
    double *Z = l == mlp->L ? out : mlp->fwd[l % 2]; /* [m][w_l] */
    Dense(m, mlp->w[l - 1], mlp->w[l], in, theta + mlp->offW[l], theta + mlp->offb[l], Z);
    if (l < mlp->L) HessaMLPActivate(mlp->arch.activation, (size_t)m * mlp->w[l], Z, NULL, NULL);
    in = Z;
  }
  PetscFunctionReturn(0);
}

/* Sum of per-sample losses of outputs Z [m][d] of samples c0..c0+m; when dZ is not NULL
 * also dZ [m][d] = d loss / dZ (may alias Z) and, for cross-entropy, P [m][d] = softmax. */
static double OutputLoss(const MLP *mlp, PetscInt c0, PetscInt m, const double *Z, double *P, double *dZ)
{
  const PetscInt d   = mlp->w[mlp->L];
  double         sum = 0;

  if (mlp->arch.loss == HESSA_LOSS_CROSS_ENTROPY) {
    const int *labels = mlp->data->labels + c0;
    for (PetscInt i = 0; i < m; i++) {
      const double *z  = Z + (size_t)i * d;
      double        mx = z[0], se = 0;
      for (PetscInt k = 1; k < d; k++) mx = z[k] > mx ? z[k] : mx;
      for (PetscInt k = 0; k < d; k++) se += exp(z[k] - mx);
      sum += mx + log(se) - z[labels[i]]; /* stable log-sum-exp */
      if (dZ) {
        double *p = P + (size_t)i * d, *g = dZ + (size_t)i * d;
        for (PetscInt k = 0; k < d; k++) {
          p[k] = exp(z[k] - mx) / se;
          g[k] = p[k] - (k == labels[i] ? 1.0 : 0.0);
        }
      }
    }
  } else {
    const double *y = mlp->data->y + (size_t)c0 * d;
    for (PetscInt i = 0; i < m; i++) {
      const double *z = Z + (size_t)i * d, *t = y + (size_t)i * d;
      double       *g = dZ ? dZ + (size_t)i * d : NULL, s = 0;
      for (PetscInt k = 0; k < d; k++) {
        double r = z[k] - t[k];
        s += r * r;
        if (g) g[k] = 2.0 * r / (double)d;
      }
      sum += s / (double)d;
    }
  }
  return sum;
}

/* HessaMLPChunkLoss - see mlp_impl.h. */
double HessaMLPChunkLoss(const MLP *mlp, PetscInt c0, PetscInt m, const double *Z)
{
  return OutputLoss(mlp, c0, m, Z, NULL, NULL);
}

/* HessaMLPComputeState - forward pass (A, act', act''), loss and backward pass (dZ, and
 * E = dA act'') of the st->m samples starting at c0. */
PetscErrorCode HessaMLPComputeState(MLP *mlp, const double *theta, PetscInt c0, MLPState *st)
{
  const PetscInt L = mlp->L, m = st->m, *w = mlp->w;
  const double  *in = mlp->data->x + (size_t)c0 * w[0]; /* [m][w0] */

  PetscFunctionBegin;
  st->loss = 0;
  if (m == 0) PetscFunctionReturn(0);
  for (PetscInt l = 1; l < L; l++) {
    Dense(m, w[l - 1], w[l], in, theta + mlp->offW[l], theta + mlp->offb[l], st->A[l]);
    /* E[l] holds act'' until the backward pass multiplies it by dA */
    HessaMLPActivate(mlp->arch.activation, (size_t)m * w[l], st->A[l], st->D1[l], st->E[l]);
    in = st->A[l];
  }
  Dense(m, w[L - 1], w[L], in, theta + mlp->offW[L], theta + mlp->offb[L], st->dZ[L]);
  st->loss = OutputLoss(mlp, c0, m, st->dZ[L], st->P, st->dZ[L]);
  for (PetscInt l = L; l >= 2; l--) {
    double       *dA    = st->dZ[l - 1]; /* [m][w_{l-1}]: dA first, dZ after the loop below */
    const double *D1    = st->D1[l - 1];
    double       *E     = st->E[l - 1];
    const size_t  count = (size_t)m * w[l - 1];
    Gemm(CblasNoTrans, CblasNoTrans, m, w[l - 1], w[l], st->dZ[l], w[l], theta + mlp->offW[l], w[l - 1], 0.0, dA, w[l - 1]);
    if (E)
      for (size_t k = 0; k < count; k++) E[k] *= dA[k];
    for (size_t k = 0; k < count; k++) dA[k] *= D1[k];
  }
  PetscFunctionReturn(0);
}

/* HessaMLPAccumulateGradient - grad += sum over the chunk of the per-sample gradients:
 * gW_l += dZ_l^T A_{l-1}, gb_l += colsum dZ_l. */
PetscErrorCode HessaMLPAccumulateGradient(MLP *mlp, PetscInt c0, const MLPState *st, double *grad)
{
  const PetscInt *w = mlp->w, m = st->m;

  PetscFunctionBegin;
  for (PetscInt l = 1; l <= mlp->L; l++) {
    const double *Aprev = l == 1 ? mlp->data->x + (size_t)c0 * w[0] : st->A[l - 1]; /* [m][w_{l-1}] */
    double       *gb    = grad + mlp->offb[l];
    Gemm(CblasTrans, CblasNoTrans, w[l], w[l - 1], m, st->dZ[l], w[l], Aprev, w[l - 1], 1.0, grad + mlp->offW[l], w[l - 1]);
    for (PetscInt i = 0; i < m; i++) {
      const double *dz = st->dZ[l] + (size_t)i * w[l];
      for (PetscInt o = 0; o < w[l]; o++) gb[o] += dz[o];
    }
  }
  PetscFunctionReturn(0);
}

/* ---- R passes -------------------------------------------------------------------------- */

/* HessaMLPPackDirections - copy the weight blocks of V [b][n] into VWstack[l]
 * [b][w_l][w_{l-1}] (R-forward) and, for the Hessian, VWcat[l] [w_l][b][w_{l-1}]
 * (dZ_l V_W for all directions in one GEMM). O(b n), small next to the GEMMs. */
void HessaMLPPackDirections(MLP *mlp, PetscInt b, const double *V, PetscBool hessian)
{
  const PetscInt *w = mlp->w, n = mlp->n;

  for (PetscInt l = 1; l <= mlp->L; l++) {
    const size_t block = (size_t)w[l] * w[l - 1];
    for (PetscInt j = 0; j < b; j++) memcpy(mlp->VWstack[l] + j * block, V + (size_t)j * n + mlp->offW[l], block * sizeof(double));
    if (!hessian || l < 2) continue;
    for (PetscInt o = 0; o < w[l]; o++)
      for (PetscInt j = 0; j < b; j++) memcpy(mlp->VWcat[l] + ((size_t)o * b + j) * w[l - 1], V + (size_t)j * n + mlp->offW[l] + (size_t)o * w[l - 1], (size_t)w[l - 1] * sizeof(double));
  }
}

/* R-forward of rows [s0, s0+r) for b directions: RZ[l], RA[l] (hidden), Rbuf[0] = R(Z_L). */
static void RForward(MLP *mlp, const double *theta, PetscInt c0, const MLPState *st, PetscInt s0, PetscInt r, PetscInt b, const double *V)
{
  const PetscInt *w = mlp->w, L = mlp->L, n = mlp->n;

  for (PetscInt l = 1; l <= L; l++) {
    const double *Aprev = l == 1 ? mlp->data->x + (size_t)(c0 + s0) * w[0] : st->A[l - 1] + (size_t)s0 * w[l - 1]; /* [r][w_{l-1}] */
    double       *RZ    = l < L ? mlp->RZ[l] : mlp->Rbuf[0];                                                       /* [r][b][w_l] */
    /* A_{l-1} V_W^T for all directions: [r][w_{l-1}] x [w_{l-1}][b*w_l] */
    Gemm(CblasNoTrans, CblasTrans, r, b * w[l], w[l - 1], Aprev, w[l - 1], mlp->VWstack[l], w[l - 1], 0.0, RZ, b * w[l]);
    /* R(A_{l-1}) W^T: [r*b][w_{l-1}] x [w_{l-1}][w_l] (R(A_0) = 0: the inputs do not depend on theta) */
    if (l > 1) Gemm(CblasNoTrans, CblasTrans, r * b, w[l], w[l - 1], mlp->RA[l - 1], w[l - 1], theta + mlp->offW[l], w[l - 1], 1.0, RZ, w[l]);
    for (PetscInt s = 0; s < r; s++)
      for (PetscInt j = 0; j < b; j++) {
        const double *vb  = V + (size_t)j * n + mlp->offb[l];
        double       *row = RZ + ((size_t)s * b + j) * w[l];
        for (PetscInt o = 0; o < w[l]; o++) row[o] += vb[o];
      }
    if (l < L) {
      const double *D1 = st->D1[l] + (size_t)s0 * w[l]; /* [r][w_l] */
      for (PetscInt s = 0; s < r; s++)
        for (PetscInt j = 0; j < b; j++) {
          const double *rz = RZ + ((size_t)s * b + j) * w[l], *d1 = D1 + (size_t)s * w[l];
          double       *ra = mlp->RA[l] + ((size_t)s * b + j) * w[l];
          for (PetscInt o = 0; o < w[l]; o++) ra[o] = d1[o] * rz[o];
        }
    }
  }
}

/* Rbuf[0] [r][b][w_L]: R(Z_L) -> R(dZ_L) = H_loss R(Z_L), per sample and direction. */
static void LossHessian(MLP *mlp, const MLPState *st, PetscInt s0, PetscInt r, PetscInt b)
{
  const PetscInt d  = mlp->w[mlp->L];
  double        *RZ = mlp->Rbuf[0];

  if (mlp->arch.loss == HESSA_LOSS_CROSS_ENTROPY) {
    /* H = diag(p) - p p^T */
    for (PetscInt s = 0; s < r; s++) {
      const double *p = st->P + (size_t)(s0 + s) * d;
      for (PetscInt j = 0; j < b; j++) {
        double *row = RZ + ((size_t)s * b + j) * d, pr = 0;
        for (PetscInt k = 0; k < d; k++) pr += p[k] * row[k];
        for (PetscInt k = 0; k < d; k++) row[k] = p[k] * (row[k] - pr);
      }
    }
  } else {
    const double scale = 2.0 / (double)d; /* H = (2/d) I */
    const size_t count = (size_t)r * b * d;
    for (size_t k = 0; k < count; k++) RZ[k] *= scale;
  }
}

/* HessaMLPRPass - R-forward, loss Hessian and R-backward of rows [s0, s0+r) of the chunk
 * at c0 (state st) for b directions; adds into acc1, acc2 (Hessian only) and accb. */
PetscErrorCode HessaMLPRPass(MLP *mlp, const double *theta, PetscInt c0, const MLPState *st, PetscInt s0, PetscInt r, PetscInt b, const double *V, PetscBool hessian)
{
  const PetscInt *w = mlp->w, L = mlp->L;
  double         *cur = mlp->Rbuf[0], *other = mlp->Rbuf[1]; /* R(dZ_l) [r][b][w_l], R(dA_{l-1}) [r][b][w_{l-1}] */

  PetscFunctionBegin;
  if (r == 0) PetscFunctionReturn(0);
  RForward(mlp, theta, c0, st, s0, r, b, V);
  LossHessian(mlp, st, s0, r, b);
  for (PetscInt l = L; l >= 1; l--) {
    const double *Aprev = l == 1 ? mlp->data->x + (size_t)(c0 + s0) * w[0] : st->A[l - 1] + (size_t)s0 * w[l - 1]; /* [r][w_{l-1}] */
    const double *dZ    = st->dZ[l] + (size_t)s0 * w[l];                                                           /* [r][w_l] */
    /* R(dZ_l)^T A_{l-1} for all directions: [b*w_l][r] x [r][w_{l-1}] -> acc1 [b][w_l][w_{l-1}] */
    Gemm(CblasTrans, CblasNoTrans, b * w[l], w[l - 1], r, cur, b * w[l], Aprev, w[l - 1], 1.0, mlp->acc1[l], w[l - 1]);
    /* dZ_l^T R(A_{l-1}): [w_l][r] x [r][b*w_{l-1}] -> acc2 [w_l][b][w_{l-1}] */
    if (hessian && l > 1) Gemm(CblasTrans, CblasNoTrans, w[l], b * w[l - 1], r, dZ, w[l], mlp->RA[l - 1], b * w[l - 1], 1.0, mlp->acc2[l], b * w[l - 1]);
    for (PetscInt s = 0; s < r; s++) {
      const double *row = cur + (size_t)s * b * w[l];
      for (PetscInt k = 0; k < b * w[l]; k++) mlp->accb[l][k] += row[k];
    }
    if (l == 1) break; /* no dA_0: the inputs are not parameters */
    /* R(dA_{l-1}) = R(dZ_l) W_l (+ dZ_l V_W for the Hessian) */
    Gemm(CblasNoTrans, CblasNoTrans, r * b, w[l - 1], w[l], cur, w[l], theta + mlp->offW[l], w[l - 1], 0.0, other, w[l - 1]);
    if (hessian) Gemm(CblasNoTrans, CblasNoTrans, r, b * w[l - 1], w[l], dZ, w[l], mlp->VWcat[l], b * w[l - 1], 1.0, other, b * w[l - 1]);
    {
      const PetscInt wp = w[l - 1];
      const double  *D1 = st->D1[l - 1] + (size_t)s0 * wp;                                 /* [r][wp] */
      const double  *E  = hessian && st->E[l - 1] ? st->E[l - 1] + (size_t)s0 * wp : NULL; /* [r][wp] */
      const double  *RZ = mlp->RZ[l - 1];                                                  /* [r][b][wp] */
      double        *tmp;
      for (PetscInt s = 0; s < r; s++)
        for (PetscInt j = 0; j < b; j++) {
          double       *ra = other + ((size_t)s * b + j) * wp;
          const double *d1 = D1 + (size_t)s * wp;
          if (E) {
            const double *e = E + (size_t)s * wp, *rz = RZ + ((size_t)s * b + j) * wp;
            for (PetscInt i = 0; i < wp; i++) ra[i] = ra[i] * d1[i] + e[i] * rz[i];
          } else
            for (PetscInt i = 0; i < wp; i++) ra[i] *= d1[i];
        }
      tmp = cur, cur = other, other = tmp; /* other now holds R(dZ_{l-1}) */
    }
  }
  PetscFunctionReturn(0);
}

/* HessaMLPScatterAccumulators - HV [b][n] from acc1 (+ acc2 reordered) and accb. */
void HessaMLPScatterAccumulators(MLP *mlp, PetscInt b, PetscBool hessian, double *HV)
{
  const PetscInt *w = mlp->w, n = mlp->n;

  for (PetscInt j = 0; j < b; j++)
    for (PetscInt l = 1; l <= mlp->L; l++) {
      const PetscInt wp  = w[l - 1];
      double        *dst = HV + (size_t)j * n + mlp->offW[l];
      const double  *a1  = mlp->acc1[l] + (size_t)j * w[l] * wp;
      if (hessian && l > 1) {
        for (PetscInt o = 0; o < w[l]; o++) {
          const double *a2 = mlp->acc2[l] + ((size_t)o * b + j) * wp;
          for (PetscInt i = 0; i < wp; i++) dst[(size_t)o * wp + i] = a1[(size_t)o * wp + i] + a2[i];
        }
      } else
        memcpy(dst, a1, (size_t)w[l] * wp * sizeof(double));
      memcpy(HV + (size_t)j * n + mlp->offb[l], mlp->accb[l] + (size_t)j * w[l], (size_t)w[l] * sizeof(double));
    }
}
