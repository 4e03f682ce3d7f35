/* hessa analysis: what the spectrum says about the point (background.md sections 2-7).
 *
 *   classification   minimum / maximum / saddle / degenerate / not critical, with the
 *                    gradient and zero tolerances it used and why
 *   probes           the true loss along directions: escape along negative curvature,
 *                    higher-order behaviour along zero-curvature directions
 *   gradient geometry curvature along g, best step, stability limit, top-k share, condition
 *   Newton           MINRES on the shell operator, and saddle-free Newton in a Krylov space
 *
 * Everything here is collective on the operator's communicator and works on sharded Vecs.
 */
#ifndef HESSA_ANALYSIS_H
#define HESSA_ANALYSIS_H

#include <hessa/spectrum.h>

typedef enum { HESSA_VERDICT_LOCAL_MINIMUM, HESSA_VERDICT_LOCAL_MAXIMUM, HESSA_VERDICT_SADDLE, HESSA_VERDICT_DEGENERATE, HESSA_VERDICT_NOT_CRITICAL } HessaVerdictType;
typedef enum { HESSA_BASIS_FULL_SPECTRUM, HESSA_BASIS_EXTREMES_AND_DENSITY, HESSA_BASIS_EXTREMES } HessaVerdictBasis;

extern const char *const HessaVerdictTypeNames[];  /* "local_minimum", ... (report.json) */
extern const char *const HessaVerdictBasisNames[]; /* "full_spectrum", ... */

typedef struct {
  HessaVerdictType  type;
  HessaVerdictBasis basis;
  PetscBool         critical;
  double            gradient_norm, gradient_tol;
  double            zero_tol;
  char              zero_tol_reason[256];
  PetscInt          n;
  PetscInt          n_negative, n_zero, n_positive; /* -1 when not known exactly */
  double            negative_fraction, negative_fraction_se; /* se < 0: exact */
  double            minimum_ratio, minimum_ratio_se;
  double            lambda_min, lambda_max;
  char              summary[512];
} HessaVerdict;

/* What the classification is given: the gradient norm, the loss, and the spectrum
 * information that was computed (any of full / density may be NULL). */
typedef struct {
  PetscInt                 n;             /* operator size */
  double                   loss, gradient_norm;
  double                   gradient_tol;  /* < 0: default 1e-6 max(1, |loss|) */
  double                   zero_tol;      /* < 0: derived from residuals and round-off */
  const HessaExtremes     *largest, *smallest;
  const HessaFullSpectrum *full;
  const HessaDensity      *density;
} HessaClassifyInput;

/* Not collective (pure function of its input, the same on every rank). */
PetscErrorCode HessaClassify(const HessaClassifyInput *in, HessaVerdict *v);

/* The true loss along theta + alpha d for both signs of alpha. */
typedef struct {
  PetscInt n_alpha;
  double   alpha[8];
  double   predicted[8];        /* the quadratic model's change, +alpha */
  double   predicted_minus[8];  /* and at -alpha (differs when g.d != 0) */
  double   change_plus[8], change_minus[8]; /* L(theta +- alpha d) - L(theta) */
  double   noise;               /* changes below this are round-off */
} HessaLineProbe;

/* Collective: probe the loss along the unit vector d (length n_op) of eigenvalue lambda;
 * predicted = 1/2 lambda alpha^2 + (g.d) alpha. g may be NULL (treated as 0). */
PetscErrorCode HessaProbeDirection(HessaOperator op, Vec d, double lambda, Vec g_op, double loss, PetscInt n_alpha, const double alpha[], HessaLineProbe *probe);
/* "rises", "falls", "flat" or "mixed" for a zero-curvature probe, from the largest alpha
 * whose changes are above the noise. */
const char *HessaProbeBehaviour(const HessaLineProbe *probe);

typedef struct {
  double   curvature;          /* g^T H g / g^T g */
  PetscBool has_best_step;
  double   best_step, predicted_decrease, true_decrease; /* at theta - best_step g */
  double   stability_limit;    /* 2 / lambda_max (lambda_max > 0) */
  PetscInt top_k;
  double   top_k_share;        /* |P_k g| / |g| onto the top-k eigenvectors */
  double   condition_number;   /* lambda_max / lambda_min when lambda_min > 0, else -1 */
} HessaGradientGeometry;

/* Collective. g: the gradient restricted to the operator (length n_op). largest: the
 * top-k eigenpairs with vectors (may be NULL). */
PetscErrorCode HessaGradientGeometryCompute(HessaOperator op, Vec g_op, double loss, const HessaExtremes *largest, double lambda_min, HessaGradientGeometry *geo);

typedef struct {
  char      solver[32];
  PetscInt  iterations;
  PetscBool converged;
  double    relative_residual, step_norm, angle_deg, loss_after;
  PetscInt  n_line;
  double    line_t[9], line_loss[9]; /* L(theta + t d) */
  /* saddle-free Newton -|H|^-1 g in the Krylov space of (H, g) */
  PetscInt  sf_dimension;
  double    sf_step_norm, sf_loss_after, sf_angle_deg;
} HessaNewton;

/* Collective: Newton d = -H^-1 g with MINRES (options prefix hessa_newton_, e.g.
 * -hessa_newton_ksp_max_it), and saddle-free Newton in a Lanczos space of dimension
 * sf_dim (|theta_i| floored at zero_tol). */
PetscErrorCode HessaNewtonCompute(HessaOperator op, Vec g_op, double loss, PetscInt sf_dim, double zero_tol, HessaNewton *nt);


#endif
