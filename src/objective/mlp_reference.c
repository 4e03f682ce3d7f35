/* Naive reference kernels for the MLP: one sample and one direction at a time, plain
 * loops over column vectors, no BLAS, no chunks, no cache (as llm.c keeps a naive kernel
 * beside the fast one). Only for tests (HessaMLPUseReference); slow by design.
 *
 * Per sample, with a_0 = x, z_l = W_l a_{l-1} + b_l, a_l = f(z_l):
 *   dz_L = dloss/dz_L, da_{l-1} = W_l^T dz_l, dz_{l-1} = f'(z_{l-1}) da_{l-1},
 *   gW_l += dz_l a_{l-1}^T, gb_l += dz_l;
 *   Rz_l = W_l Ra_{l-1} + V_W a_{l-1} + V_b, Ra_l = f'(z_l) Rz_l, Rdz_L = H_loss Rz_L,
 *   Rda_{l-1} = W_l^T Rdz_l + V_W^T dz_l, Rdz_{l-1} = f' Rda_{l-1} + f'' da_{l-1} Rz_{l-1},
 *   RgW_l += Rdz_l a_{l-1}^T + dz_l Ra_{l-1}^T, Rgb_l += Rdz_l
 * (Gauss-Newton: the same without the dz terms in the R-backward.)
 */
#include "mlp_impl.h"
#include <math.h>

typedef enum { REF_LOSS, REF_GRADIENT, REF_HESSIAN, REF_GGN } RefMode;

typedef struct {
  double *z, *a, *d1, *d2, *dz, *da, *Rz, *Ra, *Rdz, *Rda; /* each [w_l] */
} RefLayer;

static PetscErrorCode RefRun(HessaObjective obj, const double *theta, RefMode mode, PetscInt b, const double *V, double *loss, double *out)
{
  MLP           *mlp = (MLP *)obj->impl;
  const PetscInt L = mlp->L, *w = mlp->w, n = obj->n, d = w[L];
  HessaData      data = mlp->data;
  RefLayer       lay[HESSA_MLP_MAX_LAYERS + 1];
  double        *mem, *p;
  size_t         total = 0;

  PetscFunctionBegin;
  for (PetscInt l = 0; l <= L; l++) total += 10 * (size_t)w[l];
  PetscCall(PetscMalloc1(total, &mem));
  p = mem;
  for (PetscInt l = 0; l <= L; l++) {
    double **f[] = {&lay[l].z, &lay[l].a, &lay[l].d1, &lay[l].d2, &lay[l].dz, &lay[l].da, &lay[l].Rz, &lay[l].Ra, &lay[l].Rdz, &lay[l].Rda};
    for (int k = 0; k < 10; k++) *f[k] = p, p += w[l];
  }
  if (loss) *loss = 0;
  if (out) PetscCall(PetscArrayzero(out, (size_t)(mode == REF_GRADIENT ? 1 : b) * n));
  for (PetscInt s = 0; s < data->n_local; s++) {
    /* forward */
    for (PetscInt i = 0; i < w[0]; i++) lay[0].a[i] = data->x[(size_t)s * w[0] + i];
    for (PetscInt l = 1; l <= L; l++) {
      const double *W = theta + mlp->offW[l], *bias = theta + mlp->offb[l];
      for (PetscInt o = 0; o < w[l]; o++) {
        double z = bias[o];
        for (PetscInt i = 0; i < w[l - 1]; i++) z += W[o * w[l - 1] + i] * lay[l - 1].a[i];
        lay[l].z[o] = z;
        if (l < L) HessaMLPActivateScalar(mlp->arch.activation, z, &lay[l].a[o], &lay[l].d1[o], &lay[l].d2[o]);
      }
    }
    /* loss, dloss/dz_L; for cross-entropy a_L holds the softmax */
    {
      const double *z = lay[L].z;
      if (mlp->arch.loss == HESSA_LOSS_CROSS_ENTROPY) {
        int    y  = data->labels[s];
        double mx = z[0], se = 0;
        for (PetscInt k = 1; k < d; k++) mx = PetscMax(mx, z[k]);
        for (PetscInt k = 0; k < d; k++) se += exp(z[k] - mx);
        if (loss) *loss += mx + log(se) - z[y];
        for (PetscInt k = 0; k < d; k++) {
          lay[L].a[k]  = exp(z[k] - mx) / se;
          lay[L].dz[k] = lay[L].a[k] - (k == y ? 1.0 : 0.0);
        }
      } else {
        const double *t = data->y + (size_t)s * d;
        for (PetscInt k = 0; k < d; k++) {
          if (loss) *loss += (z[k] - t[k]) * (z[k] - t[k]) / (double)d;
          lay[L].dz[k] = 2.0 * (z[k] - t[k]) / (double)d;
        }
      }
    }
    if (mode == REF_LOSS) continue;
    /* backward */
    for (PetscInt l = L; l >= 1; l--) {
      const double *W = theta + mlp->offW[l];
      if (mode == REF_GRADIENT) {
        for (PetscInt o = 0; o < w[l]; o++) {
          for (PetscInt i = 0; i < w[l - 1]; i++) out[mlp->offW[l] + o * w[l - 1] + i] += lay[l].dz[o] * lay[l - 1].a[i];
          out[mlp->offb[l] + o] += lay[l].dz[o];
        }
      }
      if (l == 1) break;
      for (PetscInt i = 0; i < w[l - 1]; i++) {
        double da = 0;
        for (PetscInt o = 0; o < w[l]; o++) da += W[o * w[l - 1] + i] * lay[l].dz[o];
        lay[l - 1].da[i] = da;
        lay[l - 1].dz[i] = lay[l - 1].d1[i] * da;
      }
    }
    if (mode == REF_GRADIENT) continue;
    /* one R pass per direction */
    for (PetscInt j = 0; j < b; j++) {
      const double *v    = V + (size_t)j * n;
      double       *hv   = out + (size_t)j * n;
      PetscBool     full = mode == REF_HESSIAN ? PETSC_TRUE : PETSC_FALSE;
      for (PetscInt i = 0; i < w[0]; i++) lay[0].Ra[i] = 0; /* inputs do not depend on theta */
      for (PetscInt l = 1; l <= L; l++) {
        const double *W = theta + mlp->offW[l], *VW = v + mlp->offW[l], *Vb = v + mlp->offb[l];
        for (PetscInt o = 0; o < w[l]; o++) {
          double rz = Vb[o];
          for (PetscInt i = 0; i < w[l - 1]; i++) rz += W[o * w[l - 1] + i] * lay[l - 1].Ra[i] + VW[o * w[l - 1] + i] * lay[l - 1].a[i];
          lay[l].Rz[o] = rz;
          lay[l].Ra[o] = l < L ? lay[l].d1[o] * rz : 0;
        }
      }
      if (mlp->arch.loss == HESSA_LOSS_CROSS_ENTROPY) {
        double pr = 0;
        for (PetscInt k = 0; k < d; k++) pr += lay[L].a[k] * lay[L].Rz[k];
        for (PetscInt k = 0; k < d; k++) lay[L].Rdz[k] = lay[L].a[k] * lay[L].Rz[k] - lay[L].a[k] * pr;
      } else
        for (PetscInt k = 0; k < d; k++) lay[L].Rdz[k] = 2.0 / (double)d * lay[L].Rz[k];
      for (PetscInt l = L; l >= 1; l--) {
        const double *W = theta + mlp->offW[l], *VW = v + mlp->offW[l];
        for (PetscInt o = 0; o < w[l]; o++) {
          for (PetscInt i = 0; i < w[l - 1]; i++) hv[mlp->offW[l] + o * w[l - 1] + i] += lay[l].Rdz[o] * lay[l - 1].a[i] + (full ? lay[l].dz[o] * lay[l - 1].Ra[i] : 0.0);
          hv[mlp->offb[l] + o] += lay[l].Rdz[o];
        }
        if (l == 1) break;
        for (PetscInt i = 0; i < w[l - 1]; i++) {
          double rda = 0;
          for (PetscInt o = 0; o < w[l]; o++) rda += W[o * w[l - 1] + i] * lay[l].Rdz[o] + (full ? VW[o * w[l - 1] + i] * lay[l].dz[o] : 0.0);
          lay[l - 1].Rdz[i] = lay[l - 1].d1[i] * rda + (full ? lay[l - 1].d2[i] * lay[l - 1].da[i] * lay[l - 1].Rz[i] : 0.0);
        }
      }
    }
  }
  PetscCall(PetscFree(mem));
  PetscFunctionReturn(0);
}

/* HessaMLPReferenceLoss - naive local loss sum. Not collective. */
PetscErrorCode HessaMLPReferenceLoss(HessaObjective obj, const double *theta, double *loss)
{
  PetscFunctionBegin;
  PetscCall(RefRun(obj, theta, REF_LOSS, 0, NULL, loss, NULL));
  PetscFunctionReturn(0);
}

/* HessaMLPReferenceGradient - naive local loss and gradient sums. Not collective. */
PetscErrorCode HessaMLPReferenceGradient(HessaObjective obj, const double *theta, double *loss, double *grad)
{
  PetscFunctionBegin;
  PetscCall(RefRun(obj, theta, REF_GRADIENT, 1, NULL, loss, grad));
  PetscFunctionReturn(0);
}

/* HessaMLPReferenceHessianBlock - naive local sums of H v_j. Not collective. */
PetscErrorCode HessaMLPReferenceHessianBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *HV)
{
  PetscFunctionBegin;
  PetscCall(RefRun(obj, theta, REF_HESSIAN, b, V, NULL, HV));
  PetscFunctionReturn(0);
}

/* HessaMLPReferenceGGNBlock - naive local sums of G v_j. Not collective. */
PetscErrorCode HessaMLPReferenceGGNBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *GV)
{
  PetscFunctionBegin;
  PetscCall(RefRun(obj, theta, REF_GGN, b, V, NULL, GV));
  PetscFunctionReturn(0);
}
