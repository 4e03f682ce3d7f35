/* hessa spectrum: eigenvalue distributions of a curvature operator (Hessian or GGN,
 * optionally restricted to a parameter subset), computed on parameter-sharded vectors.
 *
 *   extremes  k largest / k smallest eigenpairs with residuals (SLEPc EPS on the MatShell)
 *   full      every eigenvalue of the assembled matrix (ScaLAPACK), small n only
 *   density   stochastic Lanczos quadrature (SLQ), optionally the kernel polynomial method
 *   trace     Hutchinson and Hutch++ with a standard error
 *
 * Each is a library call the analysis layer reuses, and `hessa spectrum` runs them.
 * Every number comes with its residual or standard error; unconverged is said.
 */
#ifndef HESSA_SPECTRUM_H
#define HESSA_SPECTRUM_H

#include <hessa/operator.h>

/* ---- extremes (SLEPc EPS) ---------------------------------------------------- */
typedef enum { HESSA_WHICH_LARGEST, HESSA_WHICH_SMALLEST } HessaWhich;

typedef struct {
  PetscInt   nev;            /* eigenpairs requested */
  PetscInt   nconv;          /* eigenpairs returned (converged ones first) */
  double    *values;         /* [nconv] sorted: descending for LARGEST, ascending for SMALLEST */
  double    *residuals;      /* [nconv] |Hv - lambda v| with |v| = 1 */
  PetscBool *converged;      /* [nconv] residual below the requested tolerance */
  Vec       *vectors;        /* [nconv] unit eigenvectors (length n_op, sharded), or NULL */
  PetscInt64 products;       /* operator products spent */
  double     seconds;
  char       eps_type[64];   /* the solver actually used */
  double     tol;            /* the requested relative tolerance */
} HessaExtremes;

/* Collective. k eigenpairs at one end of the spectrum. Every -eps_* option applies
 * (prefix "hessa_"), e.g. -hessa_eps_type lanczos. keep_vectors: return eigenvectors. */
PetscErrorCode HessaSpectrumExtremes(HessaOperator op, HessaWhich which, PetscInt k, double tol, PetscBool keep_vectors, HessaExtremes *out);
PetscErrorCode HessaExtremesDestroy(HessaExtremes *e);

/* ---- full spectrum (assembly + ScaLAPACK) ------------------------------------- */
typedef struct {
  PetscInt   n;             /* matrix size (n_op) */
  double    *values;        /* [n] ascending, on every rank */
  double     asymmetry;     /* |H - H^T|_F / |H|_F of the assembled matrix, before symmetrizing */
  double     zero_tol;      /* |lambda| <= zero_tol counts as zero */
  PetscInt   n_negative, n_zero, n_positive;
  PetscInt64 products;
  double     seconds;
} HessaFullSpectrum;

/* Collective. Assembles H (n_op columns from block products of unit vectors) into a
 * distributed dense matrix and computes all eigenvalues. Fails with a clear message if
 * n_op exceeds -hessa_full_max_n (default from memory). */
PetscErrorCode HessaSpectrumFull(HessaOperator op, double zero_tol, HessaFullSpectrum *out);
PetscErrorCode HessaFullSpectrumDestroy(HessaFullSpectrum *f);

/* ---- density (SLQ) --------------------------------------------------------------- */
typedef struct {
  PetscInt   probes, steps;     /* n_v probe vectors, m Lanczos steps each */
  uint64_t   seed;
  double    *nodes, *weights;   /* [probes * steps] Gauss nodes and weights, probe-major; each probe's weights sum to 1 */
  PetscInt   n_grid;
  double    *grid, *density;    /* [n_grid] Gaussian-smoothed density on the grid */
  double     sigma;             /* smoothing width used */
  double     negative_fraction, negative_fraction_se;
  double     positive_fraction, positive_fraction_se; /* the minimum ratio estimate */
  double     near_zero_fraction, near_zero_fraction_se, near_zero_width;
  PetscInt64 products;
  double     seconds;
} HessaDensity;

/* Collective. Options: -hessa_slq_probes, -hessa_slq_steps, -hessa_slq_seed,
 * -hessa_slq_sigma, -hessa_slq_grid, -hessa_slq_block (advance all probes together). */
PetscErrorCode HessaSpectrumDensity(HessaOperator op, PetscInt probes, PetscInt steps, uint64_t seed, HessaDensity *out);
PetscErrorCode HessaDensityDestroy(HessaDensity *d);

/* ---- trace -------------------------------------------------------------------------- */
typedef enum { HESSA_TRACE_HUTCHINSON, HESSA_TRACE_HUTCHPP } HessaTraceMethod;
typedef struct {
  HessaTraceMethod method;
  PetscInt         samples;
  double           estimate, standard_error;
  PetscInt64       products;
} HessaTrace;

/* Collective: Hutchinson (Rademacher probes) or Hutch++ with `samples` products. */
PetscErrorCode HessaSpectrumTrace(HessaOperator op, HessaTraceMethod method, PetscInt samples, uint64_t seed, HessaTrace *out);

#endif
