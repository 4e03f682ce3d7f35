/* Private to src/objective: the MLP context and its kernels.
 *
 * Notation: layers l = 1..L (parameters "layers.(l-1).*"), widths w[0..L], one chunk of
 * m samples. Row-major, samples in rows:
 *   A_0 = X [m][w0] (the data, never copied), Z_l = A_{l-1} W_l^T + b_l [m][w_l],
 *   A_l = act(Z_l) for hidden layers, Z_L is the output (linear).
 * R quantities (directional derivatives along b directions) are stored sample-major,
 * direction-minor: RZ_l [m][b][w_l] (= [m*b][w_l] = [m][b*w_l]), so that both
 * A_{l-1} V_W^T (one GEMM [m][w_{l-1}] x [w_{l-1}][b*w_l]) and RA_{l-1} W^T (one GEMM
 * [m*b][w_{l-1}] x [w_{l-1}][w_l]) are single level-3 calls with large dimensions.
 */
#ifndef HESSA_MLP_IMPL_H
#define HESSA_MLP_IMPL_H

#include <hessa/objective.h>

#define HESSA_MLP_MAX_LAYERS 15 /* widths[16] holds L + 1 widths */
#define HESSA_MLP_R_DIRS 8      /* an R pass holds at most chunk * 8 (sample, direction) rows */

/* What the backward passes need about one chunk at a fixed theta (the forward cache). */
typedef struct {
  PetscInt m;                            /* samples in the chunk */
  double   loss;                         /* sum of the chunk's per-sample losses */
  double  *A[HESSA_MLP_MAX_LAYERS + 1];  /* A[l]  [m][w_l], l = 1..L-1 (A_0 is the data) */
  double  *D1[HESSA_MLP_MAX_LAYERS + 1]; /* D1[l] [m][w_l] act'(Z_l), l = 1..L-1 */
  double  *E[HESSA_MLP_MAX_LAYERS + 1];  /* E[l]  [m][w_l] dA_l * act''(Z_l), l = 1..L-1; NULL when act'' = 0 */
  double  *dZ[HESSA_MLP_MAX_LAYERS + 1]; /* dZ[l] [m][w_l] d(sum of losses)/dZ_l, l = 1..L */
  double  *P;                            /* [m][w_L] softmax(Z_L) (cross-entropy), else NULL */
  double  *mem;                          /* the one allocation all the above point into */
} MLPState;

typedef struct {
  HessaMLPArch arch; /* with defaults applied */
  PetscInt     L;    /* number of layers */
  PetscInt     n;    /* number of parameters */
  PetscInt     w[HESSA_MLP_MAX_LAYERS + 1];
  PetscInt     offW[HESSA_MLP_MAX_LAYERS + 1], offb[HESSA_MLP_MAX_LAYERS + 1]; /* flat offsets of layer l */
  PetscInt     wmax;                                                           /* max over l >= 1 of w_l (the input width is never buffered) */
  PetscBool    has_d2;                                                         /* act'' is not identically 0 */
  PetscBool    use_reference;
  HessaData    data;
  PetscInt     rows;     /* samples per chunk */
  PetscInt     n_chunks; /* chunks of the local shard */

  /* forward-only and scratch work, allocated at create */
  double  *fwd[2];  /* [rows][wmax] ping-pong for forward-only passes */
  double  *zout;    /* [rows][w_L] outputs of a forward-only pass */
  MLPState scratch; /* state of a chunk that is not cached */

  /* forward cache: chunks 0..n_cached-1 keep their state while theta does not change */
  PetscInt  n_cached;
  MLPState *cache; /* [n_cached], allocated on first use */
  PetscBool cache_valid;
  double   *cache_theta; /* [n] the theta the cache was built for */

  /* R-pass work, sized for the largest block seen */
  PetscInt rcap;                         /* capacity in (sample, direction) rows */
  PetscInt bcap;                         /* directions the pack and accumulators hold */
  double  *RZ[HESSA_MLP_MAX_LAYERS + 1]; /* [rcap][w_l] l = 1..L-1 */
  double  *RA[HESSA_MLP_MAX_LAYERS + 1]; /* [rcap][w_l] l = 1..L-1 */
  double  *Rbuf[2];                      /* [rcap][wmax] R(dZ) / R(dA) ping-pong */
  double  *rmem;
  double  *VWstack[HESSA_MLP_MAX_LAYERS + 1]; /* [b][w_l][w_{l-1}] directions' weight blocks */
  double  *VWcat[HESSA_MLP_MAX_LAYERS + 1];   /* [w_l][b][w_{l-1}] the same, interleaved (l >= 2) */
  double  *acc1[HESSA_MLP_MAX_LAYERS + 1];    /* [b][w_l][w_{l-1}] sum R(dZ)^T A_{l-1} */
  double  *acc2[HESSA_MLP_MAX_LAYERS + 1];    /* [w_l][b][w_{l-1}] sum dZ^T R(A_{l-1}) (l >= 2) */
  double  *accb[HESSA_MLP_MAX_LAYERS + 1];    /* [b][w_l] sum R(dZ) over samples */
  double  *bmem;
} MLP;

/* ---- kernels (mlp_kernels.c): no MPI, no allocation ---- */
/* za [count]: in Z, out act(Z); d1, d2 [count] (either may be NULL) get act', act''. */
void HessaMLPActivate(HessaActivation act, size_t count, double *za, double *d1, double *d2);
/* Scalar version for the reference kernels. */
void HessaMLPActivateScalar(HessaActivation act, double z, double *f, double *d1, double *d2);
/* Outputs of m samples X [m][w0] into out [m][w_L] (forward only, uses mlp->fwd). */
PetscErrorCode HessaMLPForwardChunk(MLP *mlp, const double *theta, PetscInt m, const double *X, double *out);
/* Sum of losses of m samples with outputs Z [m][w_L]; sample i is the shard's c0 + i. */
double HessaMLPChunkLoss(const MLP *mlp, PetscInt c0, PetscInt m, const double *Z);
/* Forward and backward pass of the chunk starting at c0 into st (all of st's fields). */
PetscErrorCode HessaMLPComputeState(MLP *mlp, const double *theta, PetscInt c0, MLPState *st);
/* grad += gradient of the chunk's loss sum (from st). */
PetscErrorCode HessaMLPAccumulateGradient(MLP *mlp, PetscInt c0, const MLPState *st, double *grad);
/* Pack the b directions V [b][n] into VWstack / VWcat (VWcat only if hessian). */
void HessaMLPPackDirections(MLP *mlp, PetscInt b, const double *V, PetscBool hessian);
/* Accumulate the R-passes of rows [s0, s0+r) of the chunk at c0 into acc1/acc2/accb. */
PetscErrorCode HessaMLPRPass(MLP *mlp, const double *theta, PetscInt c0, const MLPState *st, PetscInt s0, PetscInt r, PetscInt b, const double *V, PetscBool hessian);
/* HV [b][n] = accumulators (zeroes first). */
void HessaMLPScatterAccumulators(MLP *mlp, PetscInt b, PetscBool hessian, double *HV);

/* ---- naive per-sample reference kernels (mlp_reference.c) ---- */
PetscErrorCode HessaMLPReferenceLoss(HessaObjective obj, const double *theta, double *loss);
PetscErrorCode HessaMLPReferenceGradient(HessaObjective obj, const double *theta, double *loss, double *grad);
PetscErrorCode HessaMLPReferenceHessianBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *HV);
PetscErrorCode HessaMLPReferenceGGNBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *GV);

#endif
