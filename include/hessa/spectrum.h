/* hessa spectrum: eigenvalue distributions of a curvature operator (Hessian or GGN,
 * optionally restricted to a parameter subset), computed on parameter-sharded vectors.
 *
 *   extremes  k largest / k smallest eigenpairs with residuals (SLEPc EPS on the MatShell)
 *   full      every eigenvalue of the assembled matrix (ELPA or ScaLAPACK) when it fits in memory
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
  PetscInt   nev;       /* eigenpairs requested */
  PetscInt   nconv;     /* eigenpairs returned (converged ones first) */
  double    *values;    /* [nconv] sorted: descending for LARGEST, ascending for SMALLEST */
  double    *residuals; /* [nconv] |Hv - lambda v| with |v| = 1 */
  PetscBool *converged; /* [nconv] residual <= tol max(|lambda_i|, max_j |lambda_j|) */
  Vec       *vectors;   /* [nconv] unit eigenvectors (length n_op, sharded), or NULL */
  PetscInt64 products;  /* operator products spent */
  double     seconds;
  char       eps_type[64]; /* the solver actually used */
  double     tol;          /* the requested relative tolerance */
  PetscBool  stopped;      /* a stop request ended the solve early: values holds the pairs
                              converged so far (HessaSpectrumExtremesContinue resumes) */
} HessaExtremes;

/* How an extreme-eigenvalue solve judges convergence and how large its search space is.
 * The rule every command uses is HessaExtremesSettingsForEnd. */
typedef struct {
  double tol;   /* relative tolerance (<= 0: SLEPc's default, 1e-8) */
  double scale; /* > 0: a known spectral scale max|lambda| (e.g. |lambda_max| from the other
                   end): residuals are judged against tol * scale (absolute test), or
                   eigenvalues near zero never converge; 0: relative test */
  PetscInt ncv; /* > 0: search-space size (-hessa_eps_ncv still wins); 0: SLEPc's default */
} HessaExtremesSettings;

/* Not collective: the settings of one end, the same for `hessa spectrum`, `hessa analyze`
 * and study points. The largest end: tol alone. The smallest end, once the largest is known
 * (largest != NULL with a converged pair): residuals judged against |lambda_max|, and a search
 * space of at least 80 vectors, because near a critical point the low end of a network's
 * Hessian is a dense cluster near zero where 80 vectors need several times fewer products
 * (embedded default: 13826 products with SLEPc's default, 2511 with 80). */
void HessaExtremesSettingsForEnd(HessaWhich which, PetscInt k, double tol, const HessaExtremes *largest, HessaExtremesSettings *s);

/* Collective. k eigenpairs at one end of the spectrum (1 <= k <= n_op). Every -eps_* option
 * applies with the prefix "hessa_" (e.g. -hessa_eps_type lanczos, -hessa_eps_ncv 40).
 * tol <= 0: SLEPc's default. Each residual is computed explicitly with one more product per
 * pair (counted in products); converged[i] means residual <= tol * max(|lambda_i|, s) where
 * s is the largest |lambda| returned (so eigenvalues near zero are judged against the scale of
 * the spectrum seen). keep_vectors: return eigenvectors. The same as
 * HessaSpectrumExtremesWithSettings with {tol, 0, 0}. */
PetscErrorCode HessaSpectrumExtremes(HessaOperator op, HessaWhich which, PetscInt k, double tol, PetscBool keep_vectors, HessaExtremes *out);
/* Collective: the same with explicit settings (s->scale also enters s in the converged test). */
PetscErrorCode HessaSpectrumExtremesWithSettings(HessaOperator op, HessaWhich which, PetscInt k, const HessaExtremesSettings *s, PetscBool keep_vectors, HessaExtremes *out);
/* Collective. The same, stoppable and resumable: with stoppable, the solver asks
 * HessaStopAgree at every restart and, on a stop, returns the pairs converged so far with
 * out->stopped set (vectors always kept). prev (may be NULL) holds the converged pairs of a
 * stopped solve with their vectors: they become SLEPc's deflation space, only the
 * k - prev->nconv missing pairs are computed, and out holds all k, merged and sorted. The
 * resumed pairs equal an uninterrupted solve's to the tolerance, not bitwise. */
PetscErrorCode HessaSpectrumExtremesContinue(HessaOperator op, HessaWhich which, PetscInt k, const HessaExtremesSettings *s, PetscBool stoppable, const HessaExtremes *prev, HessaExtremes *out);
PetscErrorCode HessaExtremesDestroy(HessaExtremes *e);
/* Not collective (reads the options database, the same on every rank): an error on comm
 * when -hessa_eps_type (or type, if not NULL) is not one hessa accepts: krylovschur
 * (default) and arpack, checked against the full spectrum at both ends; the message names
 * them and says why the given one is refused. Commands call it before any product. */
PetscErrorCode HessaExtremesTypeCheck(MPI_Comm comm, const char type[]);

/* ---- full spectrum (assembly + ELPA / ScaLAPACK) ------------------------------------ */
/* The dense symmetric eigensolver: ELPA's two-stage solver (default), ScaLAPACK pdsyevd
 * (divide and conquer), pdsyevr (MRRR), pdsyev (QR, the old path), or SLEPc's scalapack EPS. */
typedef enum { HESSA_FULL_ELPA, HESSA_FULL_PDSYEVD, HESSA_FULL_PDSYEVR, HESSA_FULL_PDSYEV, HESSA_FULL_EPS } HessaFullSolver;
extern const char *const HessaFullSolverNames[]; /* "elpa", "pdsyevd", ... as in -hessa_full_solver */

typedef struct {
  HessaFullSolver solver;    /* -hessa_full_solver (elpa) */
  PetscInt        block;     /* -hessa_full_block: unit vectors per block product (16) */
  PetscInt        nb;        /* -hessa_full_nb: block-cyclic block size of the dense matrix (64) */
  PetscBool       vectors;   /* -hessa_full_vectors: also the eigenvectors (false) */
  PetscInt        max_n;     /* -hessa_full_max_n: refuse n above it (default: no limit, memory decides) */
  double          memory_mb; /* -hessa_full_memory_mb: cap of the per-rank budget in MiB (< 0: none) */
} HessaFullSettings;

/* Not collective: the defaults above. */
void HessaFullSettingsDefault(HessaFullSettings *s);
/* Collective: the defaults, then the options -hessa_full_solver, -hessa_full_block,
 * -hessa_full_nb, -hessa_full_vectors, -hessa_full_max_n, -hessa_full_memory_mb. */
PetscErrorCode HessaFullSettingsSetFromOptions(MPI_Comm comm, HessaFullSettings *s);

/* What the full spectrum of an operator of size n needs per rank (docs/spectrum.md, cost model):
 * the dense matrix and its block-cyclic copy during assembly, then the matrix, the solver's
 * work space and (vectors) the eigenvector matrix during the eigensolve. */
typedef struct {
  uint64_t  need;      /* estimated peak bytes per rank (the larger phase) */
  uint64_t  available; /* bytes each rank may allocate (node memory / ranks on it; 0: unknown) */
  uint64_t  budget;    /* min(available, -hessa_full_memory_mb) (0: unknown, no cap) */
  PetscBool fits;      /* need <= budget (or no budget known); max_n is not part of it: it is
                          a hard limit that HessaSpectrumFull refuses with an error */
} HessaFullMemory;

/* Collective: the estimate for this operator and settings on op->comm. */
PetscErrorCode HessaFullSpectrumMemory(HessaOperator op, const HessaFullSettings *s, HessaFullMemory *m);
/* Collective: does the full spectrum of op fit the memory budget (HessaFullSpectrumMemory with
 * the options of HessaFullSettingsSetFromOptions)? Logs the estimate and the decision. The
 * basis choice of `hessa analyze`: the exact spectrum whenever it fits, not a fixed n. */
PetscErrorCode HessaFullSpectrumFits(HessaOperator op, PetscBool *fits);

typedef struct {
  PetscInt   n;         /* matrix size (n_op) */
  double    *values;    /* [n] ascending, on every rank */
  double     asymmetry; /* |H - H^T|_F / |H|_F of the assembled matrix, before symmetrizing */
  double     zero_tol;  /* |lambda| <= zero_tol counts as zero */
  PetscInt   n_negative, n_zero, n_positive;
  PetscInt64 products;
  double     seconds;
  /* how it was computed */
  HessaFullSolver solver;             /* the solver that ran */
  double          seconds_assembly;   /* products and copies into the dense matrix */
  double          seconds_eigensolve; /* the dense eigensolve alone */
  uint64_t        memory_estimate;    /* HessaFullMemory.need, bytes per rank */
  Mat             vectors;            /* settings.vectors: MATSCALAPACK n x n, column i the unit
                                         eigenvector of values[i] (in the operator's index order); else NULL */
} HessaFullSpectrum;

/* Collective. Assembles H (n_op columns from block products of unit vectors, each rank
 * keeping the rows it owns) into a distributed dense matrix, symmetrizes it and computes all
 * eigenvalues (and with s->vectors the eigenvectors) with the solver of s. zero_tol < 0
 * selects the default
 *     zero_tol = max(1e-10 max|lambda|, 10 |H - H^T|_F)
 * (round-off of the products, measured by the asymmetry, bounds how well a zero is resolved).
 * Prints the memory estimate before the assembly; an operator that does not fit the budget
 * (HessaFullSpectrumMemory) or exceeds s->max_n is one error on every rank with the bytes. */
PetscErrorCode HessaSpectrumFullWithSettings(HessaOperator op, const HessaFullSettings *s, double zero_tol, HessaFullSpectrum *out);
/* Collective: the same with HessaFullSettingsSetFromOptions. */
PetscErrorCode HessaSpectrumFull(HessaOperator op, double zero_tol, HessaFullSpectrum *out);
/* Collective when out->vectors is set (it is destroyed), else not collective. */
PetscErrorCode HessaFullSpectrumDestroy(HessaFullSpectrum *f);

/* ---- density (SLQ) --------------------------------------------------------------- */
typedef enum { HESSA_SMOOTHING_RELATIVE, HESSA_SMOOTHING_PYHESSIAN } HessaSmoothing;

/* How to run SLQ. HessaDensitySettingsDefault fills the defaults below;
 * HessaDensitySettingsSetFromOptions reads the -hessa_slq_* options over them. */
typedef struct {
  PetscInt  probes;          /* n_v Rademacher probe vectors (default 10) */
  PetscInt  steps;           /* m Lanczos steps per probe, m <= n (default 80) */
  uint64_t  seed;            /* probe p is stream HESSA_STREAM_SLQ + p of this seed (default 1) */
  PetscBool block;           /* advance probes together: one block product per step */
  PetscInt  block_size;      /* block mode: probes per group, groups run one after another (0: all);
                                a group is the unit a graceful stop keeps or discards */
  PetscInt       n_grid;     /* grid points of the smoothed density (default 1000) */
  HessaSmoothing smoothing;  /* relative: sigma = sigma_rel * range; pyhessian: variance 1e-5 max(1, range) */
  double         sigma;      /* > 0: absolute Gaussian width, overrides smoothing */
  double         sigma_rel;  /* relative width (default 0.01 of the node range) */
  double         zero_width; /* > 0: |lambda| <= zero_width counts as near zero; <= 0: 1e-3 max|node| */
} HessaDensitySettings;

typedef struct {
  PetscInt  probes, steps; /* n_v probe vectors, m Lanczos steps each */
  uint64_t  seed;
  PetscInt *probe_steps;     /* [probes] steps actually taken (< steps after a breakdown) */
  double   *alpha, *beta;    /* [probes * steps] the tridiagonal of each probe, probe-major */
  double   *nodes, *weights; /* [probes * steps] Gauss nodes and weights, probe-major; each probe's weights sum to 1;
                                entries past probe_steps[p] have weight 0 */
  PetscInt   n_grid;
  double    *grid, *density; /* [n_grid] Gaussian-smoothed density on the grid (integrates to 1) */
  double     sigma;          /* smoothing width used */
  double     negative_fraction, negative_fraction_se;
  double     positive_fraction, positive_fraction_se; /* the minimum ratio estimate */
  double     near_zero_fraction, near_zero_fraction_se, near_zero_width;
  PetscInt64 products;
  double     seconds;
  PetscInt   probes_done; /* probes [0, probes_done) are finished (all of them unless stopped) */
  PetscBool  stopped;     /* a graceful stop ended the run early: only the finished probes are
                             filled, and no fractions or smoothed density were computed */
} HessaDensity;

/* Not collective: the defaults. */
PetscErrorCode HessaDensitySettingsDefault(HessaDensitySettings *s);
/* Collective. Options: -hessa_slq_probes, -hessa_slq_steps, -hessa_slq_seed, -hessa_slq_block,
 * -hessa_slq_grid, -hessa_slq_smoothing relative|pyhessian, -hessa_slq_sigma, -hessa_slq_sigma_rel,
 * -hessa_slq_zero_width. */
PetscErrorCode HessaDensitySettingsSetFromOptions(MPI_Comm comm, HessaDensitySettings *s);
/* Collective: SLQ with the given settings (no options read). Never stops early. */
PetscErrorCode HessaSpectrumDensityWithSettings(HessaOperator op, const HessaDensitySettings *s, HessaDensity *out);
/* Collective: defaults, then the options, then probes/steps/seed as given. */
PetscErrorCode HessaSpectrumDensity(HessaOperator op, PetscInt probes, PetscInt steps, uint64_t seed, HessaDensity *out);
PetscErrorCode HessaDensityDestroy(HessaDensity *d);
/* Resumable SLQ (graceful stop, docs/jobs.md). HessaDensityAllocate checks s and allocates
 * out with probes_done = 0 (a caller resuming fills alpha, beta, probe_steps of probes
 * [0, probes_done) from its saved state, on every rank). HessaSpectrumDensityContinue,
 * collective, runs the remaining probes; with stoppable it asks HessaStopAgree after every
 * product step and on a stop discards the unfinished group, sets out->stopped and returns
 * with probes [0, probes_done) finished (their nodes and weights filled). Probe p's vector
 * depends only on (seed, p) and full reorthogonalization makes probes independent, so a
 * resumed run gives bitwise the numbers of an uninterrupted one (same ranks, same groups). */
PetscErrorCode HessaDensityAllocate(MPI_Comm comm, const HessaDensitySettings *s, PetscInt n_op, HessaDensity *out);
PetscErrorCode HessaSpectrumDensityContinue(HessaOperator op, const HessaDensitySettings *s, PetscBool stoppable, HessaDensity *out);
/* Not collective: smooth nodes/weights (averaged over probes) onto a grid; fills
 * d->grid, d->density, d->sigma, d->n_grid from d->nodes/weights and the settings. */
PetscErrorCode HessaDensitySmooth(HessaDensity *d, const HessaDensitySettings *s);

/* ---- trace -------------------------------------------------------------------------- */
typedef enum { HESSA_TRACE_HUTCHINSON, HESSA_TRACE_HUTCHPP } HessaTraceMethod;
typedef struct {
  HessaTraceMethod method;
  PetscInt         samples; /* products budget: Hutchinson uses `samples` probes; Hutch++ k = samples/3 each
                               for the sketch, the low-rank part and the residual probes
                               (the low-rank part uses fewer when H S has rank < k, e.g. k > n) */
  double     estimate, standard_error;
  PetscInt64 products;
  double     seconds;
  /* resumable progress (graceful stop) */
  uint64_t  seed;
  PetscInt  n_q; /* quadratic forms of the Hutchinson part: samples, or k for Hutch++ */
  double   *q;   /* [n_q] z_i^T H z_i (deflated for Hutch++); [0, done) are finished */
  PetscInt  done;
  PetscBool low_rank_done; /* Hutch++: low_rank = tr(Q^T H Q) is final */
  double    low_rank;
  PetscBool stopped; /* a graceful stop ended the run early (estimate not set) */
  PetscBool exact;   /* the sum of every eigenvalue (HessaTraceFromFullSpectrum): no samples,
                        standard_error 0 */
} HessaTrace;

/* Collective: Hutchinson (Rademacher probes) or Hutch++ with `samples` products.
 * Probes come from streams HESSA_STREAM_TRACE + i of the seed (rank independent). Never stops early. */
PetscErrorCode HessaSpectrumTrace(HessaOperator op, HessaTraceMethod method, PetscInt samples, uint64_t seed, HessaTrace *out);
/* Resumable trace. HessaTraceAllocate (collective: checks samples) sets up out with nothing done;
 * a caller resuming fills q[0, done), low_rank_done, low_rank on every rank.
 * HessaSpectrumTraceContinue (collective) computes the rest; with stoppable it asks
 * HessaStopAgree between blocks of probes (and between Hutch++ sketch products) and on a
 * stop sets out->stopped and keeps what is finished. Hutch++ recomputes its sketch on
 * resume (k products; the same arithmetic, so the same Q). HessaTraceDestroy frees q. */
PetscErrorCode HessaTraceAllocate(MPI_Comm comm, HessaTraceMethod method, PetscInt samples, uint64_t seed, HessaTrace *out);
PetscErrorCode HessaSpectrumTraceContinue(HessaOperator op, PetscBool stoppable, HessaTrace *out);
PetscErrorCode HessaTraceDestroy(HessaTrace *t);
/* Not collective: the exact trace, the sum of the eigenvalues of a full spectrum (every rank
 * holds them), with out->exact set, standard_error 0, no samples and no products. */
PetscErrorCode HessaTraceFromFullSpectrum(const HessaFullSpectrum *full, HessaTrace *out);

/* ---- resumable state of a stopped run (src/spectrum/state.c, docs/jobs.md) ---------- */
#define HESSA_SPECTRUM_STATE_FILE "spectrum.state"

/* What a resumed run must share with the stopped one (the SLQ group as density.c forms
 * them: 1 probe at a time, or block_size / all probes per block product group). */
typedef struct {
  char      model[512];
  PetscInt  n_op;
  PetscBool density, trace;
  PetscInt  probes, steps, group, seed; /* SLQ (group: probes per block product group) */
  PetscInt  trace_method;               /* 0 hutchinson, 1 hutchpp, 2 both */
  PetscInt  trace_samples, trace_seed;
} HessaSpectrumKey;

/* Collective: rank 0 writes folder/spectrum.state (atomically) with the finished probes'
 * tridiagonals and the finished trace samples; t[0] is Hutchinson, t[1] Hutch++. */
PetscErrorCode HessaSpectrumStateWrite(MPI_Comm comm, const char folder[], const HessaSpectrumKey *key, const HessaDensity *d, const HessaTrace t[2]);
/* Collective: rank 0 reads folder/spectrum.state and checks it against key; on any
 * mismatch, a missing or a corrupt file every rank raises one error naming the file,
 * what was expected and what was found. Fills the finished parts of d and t on every rank
 * (d and t allocated for the key's sizes). */
PetscErrorCode HessaSpectrumStateRead(MPI_Comm comm, const char folder[], const HessaSpectrumKey *key, HessaDensity *d, HessaTrace t[2]);
/* Collective: rank 0 removes folder/spectrum.state (the run is complete). */
PetscErrorCode HessaSpectrumStateRemove(MPI_Comm comm, const char folder[]);
/* Extremes of a stopped run: rank 0 writes folder/extremes.state (values, residuals and
 * flags of both ends; done[e]: that end finished) and, for an end stopped mid-solve, its
 * converged eigenvectors as folder/extremes_<end>.npy. Collective. */
PetscErrorCode HessaSpectrumExtremesStateWrite(MPI_Comm comm, const char folder[], PetscInt k, double tol, PetscInt n_op, const HessaExtremes ex[2], const PetscBool done[2]);
/* Collective: *found tells whether folder/extremes.state exists; when it does, it is checked
 * against k, tol and the operator's size (one clear error otherwise) and read into ex (with
 * the vectors of a stopped end) and done. */
PetscErrorCode HessaSpectrumExtremesStateRead(MPI_Comm comm, const char folder[], PetscInt k, double tol, HessaOperator op, HessaExtremes ex[2], PetscBool done[2], PetscBool *found);
PetscErrorCode HessaSpectrumExtremesStateRemove(MPI_Comm comm, const char folder[]);

/* Throttled progress lines on stderr (rank 0, silent with -quiet): at most one line every
 * `every` seconds (5), with the phase, the fraction done, the products spent, a short
 * estimate and an ETA. Used by every phase that can take more than a few seconds (extremes,
 * full spectrum, SLQ, trace, Newton).
 * Honest numbers: the percentage is rounded down and never reads 100% before the fraction
 * done is 1; the ETA comes from the rate measured since the first update (the first unit
 * of work carries the set-up: buffers, caches, the first restart; after -resume the work of
 * the stopped run is not this run's), and reads "ETA unknown" until that rate exists. */
typedef struct {
  const char *phase;
  double      t0, last, every;
  double      t_first, done_first; /* clock and fraction done at the first update */
  PetscBool   have_first;
  PetscInt64  products0;
} HessaProgress;

void HessaProgressStart(HessaProgress *p, const char phase[], HessaOperator op);
/* Not collective: the whole percentage to print for the fraction done (clamped to [0, 1]):
 * rounded down, so 99.7% reads 99 and only done >= 1 reads 100. */
int HessaProgressPercent(double done);
/* Not collective: the seconds left at fraction done and clock now, from the rate measured
 * between the first update (t_first, done_first) and now: (1 - done) (now - t_first) /
 * (done - done_first). -1 when no rate is known yet (no progress since the first update, or
 * no time elapsed); 0 when done >= 1. */
double HessaProgressETA(double t_first, double done_first, double now, double done);
/* Collective on op->comm (the decision to print is taken from the largest time since the last
 * line over the ranks, so every rank calls HessaLog, which prints on rank 0 only). done in
 * [0,1]; what: a short estimate. */
PetscErrorCode HessaProgressUpdate(HessaProgress *p, HessaOperator op, double done, const char what[]);

#endif
