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

/* What the probes along zero-curvature directions say about a degenerate point. */
typedef enum {
  HESSA_DEGENERATE_UNPROBED,    /* not degenerate, or no zero-curvature direction was probed */
  HESSA_DEGENERATE_SADDLE,      /* the loss falls along a zero-curvature direction (with positive curvature
                                   elsewhere), or rises along one with negative curvature elsewhere */
  HESSA_DEGENERATE_RISES,       /* the loss rises along every probed direction */
  HESSA_DEGENERATE_FALLS,       /* the loss falls along every probed direction */
  HESSA_DEGENERATE_INCONCLUSIVE /* flat or mixed within the probed steps */
} HessaDegenerateKind;
extern const char *const HessaDegenerateKindNames[]; /* "unprobed", "degenerate_saddle", ... (report.json) */

/* Where the fractions of the verdict come from (one definition each, docs/analysis.md). */
typedef enum {
  HESSA_FRACTION_EXACT,      /* exact counts: full spectrum, or the extremes reach a resolved eigenvalue of the other sign */
  HESSA_FRACTION_SLQ,        /* the SLQ estimate: weight below -w / above +w, w = near_zero_width, +- standard error */
  HESSA_FRACTION_LOWER_BOUND /* extremes only: resolved eigenvalues found / n */
} HessaFractionSource;
extern const char *const HessaFractionSourceNames[]; /* "exact", "slq", "lower_bound" */

/* Refinement of an end whose small eigenvalues had an unresolved sign: tighter tolerances
 * within a product budget (-hessa_analyze_refine_products). Index 0: smallest end, 1: largest. */
typedef struct {
  PetscInt64 budget;       /* products allowed for refinement (both ends together) */
  PetscBool  attempted[2]; /* an unresolved pair asked for it */
  PetscInt   rounds[2];    /* solves run (each 100 x tighter) */
  double     tol_start[2], tol_final[2];
  PetscInt64 products[2];         /* products spent by the rounds */
  PetscBool  budget_exhausted[2]; /* stopped because the next round would not fit */
  PetscBool  floor_reached[2];    /* stopped at the floor 100 n eps */
  PetscInt   missed[2];           /* pairs a deflated solve found before the cutoff (copies of repeated eigenvalues) */
} HessaRefinement;

typedef struct {
  HessaVerdictType    type;
  HessaVerdictBasis   basis;
  PetscBool           critical;
  double              gradient_norm, gradient_tol;
  double              zero_tol; /* the floor below which no sign is resolved: max(round-off, -hessa_analyze_zero_tol, gradient_band) */
  char                zero_tol_reason[256];
  double              gradient_band; /* at a critical point, |g|: eigenvalues within it count as zero (the point is critical only to within it) */
  double              roundoff;      /* operator round-off n eps max|lambda| (full spectrum: + asymmetry sqrt(n) max|lambda|) */
  PetscInt            n;
  PetscInt            n_negative, n_zero, n_positive; /* -1 when not known exactly */
  PetscBool           counts_exact;
  double              negative_fraction, negative_fraction_se; /* se < 0: exact (or a bound) */
  double              minimum_ratio, minimum_ratio_se;
  HessaFractionSource fraction_source;
  double              near_zero_width; /* SLQ fractions: the half-width w of the near-zero band (eigenvalue units) */
  double              lambda_min, lambda_max;
  /* each computed extreme pair: its error bound and the sign it resolves ([0] smallest, [1] largest) */
  PetscInt            n_pairs[2];
  double             *bound[2]; /* min(r, r^2/gap) + roundoff */
  PetscInt           *sign[2];  /* -1, 0 (not resolved: zero within its bound), +1 */
  HessaDegenerateKind degenerate_kind;
  PetscInt            n_probed, n_probes_falling, n_probes_rising;
  HessaRefinement     refinement;
  char                summary[768];
} HessaVerdict;

/* What the classification is given: the gradient norm, the loss, and the spectrum
 * information that was computed (any of full / density / refinement may be NULL). */
typedef struct {
  PetscInt                 n; /* operator size */
  double                   loss, gradient_norm;
  double                   gradient_tol; /* < 0: default 1e-6 max(1, |loss|) */
  double                   zero_tol;     /* < 0: each eigenvalue's own error bound decides; >= 0: also |lambda| <= zero_tol is zero */
  const HessaExtremes     *largest, *smallest;
  const HessaFullSpectrum *full;
  const HessaDensity      *density;
  const HessaRefinement   *refinement;
} HessaClassifyInput;

/* Not collective: the error bound and resolved sign of each pair of x (an end of the
 * spectrum, sorted from the end inwards). |lambda - theta| <= |r| for a symmetric operator;
 * tighter |r|^2 / gap when the gap to the rest of the spectrum is known (the computed
 * neighbours at this end; the innermost pair has an unknown neighbour and keeps |r|); plus
 * roundoff. bound[] and sign[] have x->nconv entries. */
void HessaEigenvalueBounds(const HessaExtremes *x, double roundoff, double zero_tol, double bound[], PetscInt sign[]);
/* Not collective: the operator round-off n eps max|lambda| of an operator of size n. */
double HessaRoundoff(PetscInt n, double scale);
/* Frees the per-pair arrays of v (not collective). */
PetscErrorCode HessaVerdictDestroy(HessaVerdict *v);
/* Not collective: after the zero-curvature probes, the degenerate verdict says what they
 * found ("degenerate saddle" when the loss falls along a zero-curvature direction). */
PetscErrorCode HessaVerdictApplyProbes(HessaVerdict *v, PetscInt n_probes, const char *const behaviour[], const double eigenvalue[]);
/* Not collective: the full spectrum's own counts and zero tolerance made the verdict's, so
 * report.json says one number for each count. */
void HessaVerdictSyncFull(const HessaVerdict *v, HessaFullSpectrum *full);

/* Not collective (pure function of its input, the same on every rank). */
PetscErrorCode HessaClassify(const HessaClassifyInput *in, HessaVerdict *v);

/* The true loss along theta + alpha d for both signs of alpha. */
typedef struct {
  PetscInt n_alpha;
  double   alpha[8];
  double   predicted[8];                    /* the quadratic model's change, +alpha */
  double   predicted_minus[8];              /* and at -alpha (differs when g.d != 0) */
  double   change_plus[8], change_minus[8]; /* L(theta +- alpha d) - L(theta) */
  double   noise;                           /* changes below this are round-off */
} HessaLineProbe;

/* Collective: probe the loss along the unit vector d (length n_op) of eigenvalue lambda;
 * predicted = 1/2 lambda alpha^2 + (g.d) alpha. g may be NULL (treated as 0). */
PetscErrorCode HessaProbeDirection(HessaOperator op, Vec d, double lambda, Vec g_op, double loss, PetscInt n_alpha, const double alpha[], HessaLineProbe *probe);
/* "rises", "falls", "flat" or "mixed" for a zero-curvature probe, from the largest alpha
 * whose changes are above the noise. */
const char *HessaProbeBehaviour(const HessaLineProbe *probe);

typedef struct {
  double    curvature; /* g^T H g / g^T g */
  PetscBool has_best_step;
  double    best_step, predicted_decrease, true_decrease; /* at theta - best_step g */
  double    stability_limit;                              /* 2 / lambda_max (lambda_max > 0) */
  PetscInt  top_k;
  double    top_k_share;      /* |P_k g| / |g| onto the top-k eigenvectors */
  double    condition_number; /* lambda_max / lambda_min when lambda_min > 0, else -1 */
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
  PetscInt sf_dimension;
  double   sf_step_norm, sf_loss_after, sf_angle_deg;
  /* skipped: not computed (the gradient is below its tolerance); note: one plain line when
     MINRES did not converge (empty otherwise); reason: why it was skipped */
  PetscBool skipped;
  char      reason[256], note[256];
} HessaNewton;

/* Collective: Newton d = -H^-1 g with MINRES (options prefix hessa_newton_, e.g.
 * -hessa_newton_ksp_max_it), and saddle-free Newton in a Lanczos space of dimension
 * sf_dim (|theta_i| floored at zero_tol). */
PetscErrorCode HessaNewtonCompute(HessaOperator op, Vec g_op, double loss, PetscInt sf_dim, double zero_tol, HessaNewton *nt);
/* Collective: HessaNewtonCompute, or, when gradient_norm <= gradient_tol (a critical point,
 * where -H^-1 g is a step of round-off and its relative residual measures noise), nothing
 * but nt->skipped with the reason. */
PetscErrorCode HessaNewtonAtPoint(HessaOperator op, Vec g_op, double loss, double gradient_norm, double gradient_tol, PetscInt sf_dim, double zero_tol, HessaNewton *nt);

/* ---- the whole analysis of one point (hessa analyze, study points) -----------------
 *   load -> gradient -> extreme eigenpairs -> full spectrum (small n) or SLQ density
 *        -> trace -> classification -> escape / zero-curvature probes
 *        -> gradient geometry -> Newton
 * The report layer turns the result into report.json / report.md (HessaReportAnalysis). */
typedef struct {
  char             output[PETSC_MAX_PATH_LEN]; /* report folder (-hessa_analyze_output) */
  PetscInt         k;                          /* extreme eigenpairs at each end */
  PetscInt         full_max;                   /* largest operator size for the full spectrum */
  PetscInt         trace_samples;              /* Hutchinson samples, 0: no trace */
  PetscInt         sf_dim;                     /* Krylov dimension of saddle-free Newton */
  PetscInt         seed;                       /* SLQ and trace probes */
  PetscInt         probes, steps;              /* SLQ probe vectors and Lanczos steps */
  PetscInt         n_alpha;                    /* steps of the line probes, 1..8 */
  PetscBool        full, density, newton;
  PetscReal        gradient_tol, zero_tol, eps_tol, alphas[8];
  HessaTraceMethod trace_method;    /* -hessa_trace_method hutchinson | hutchpp (as hessa spectrum) */
  PetscInt         refine_products; /* product budget to refine an end with unresolved signs (-1: automatic, 0: none) */
  PetscBool        stoppable;       /* ask HessaStopAgree at the safe points between phases */
} HessaAnalyzeOptions;

/* One zero-curvature eigenvector probed beyond the second-order test. */
typedef struct {
  double         eigenvalue;
  HessaLineProbe probe;
} HessaDegenerateProbe;

/* Collective: refinement of the ends whose computed pairs have an unresolved sign
 * (HessaEigenvalueBounds), each end re-solved with a 100 x tighter tolerance per round down
 * to the floor 100 n eps, while the products spent plus 1.5 x the last solve's fit in
 * the budget (budget < 0: max(1000, 4 x the products of the first solves of both ends); 0: none).
 * largest and smallest (with vectors) are replaced by the refined solves. Then each end with a
 * resolved eigenvalue of the other sign is completed: one more pair orthogonal to those found
 * (a Krylov method can miss a copy of a repeated eigenvalue) joins while it lies before it. */
PetscErrorCode HessaExtremesRefine(HessaOperator op, PetscInt k, double tol, PetscInt budget, HessaExtremes *largest, HessaExtremes *smallest, HessaRefinement *ref);
/* Collective: the loss along up to max_probes zero-curvature eigenvectors (sign 0 in v),
 * chosen as distinct eigenvectors: a candidate is kept when at least half of its norm lies
 * outside the span of those kept before (not when its eigenvalue differs), smallest end first.
 * Vs, Vl: the eigenvectors of smallest and largest. */
PetscErrorCode HessaZeroCurvatureProbes(HessaOperator op, const HessaVerdict *v, const HessaExtremes *smallest, Vec Vs[], const HessaExtremes *largest, Vec Vl[], Vec g_op, double loss, PetscInt n_alpha, const double alpha[], PetscInt max_probes,
                                        PetscInt *n, HessaDegenerateProbe probes[]);

/* Phases of the pipeline, in order; a stopped analysis finished those before `stopped_at`. */
typedef enum { HESSA_PHASE_GRADIENT, HESSA_PHASE_EXTREMES, HESSA_PHASE_SPECTRUM, HESSA_PHASE_TRACE, HESSA_PHASE_CLASSIFY, HESSA_PHASE_PROBES, HESSA_PHASE_GEOMETRY, HESSA_PHASE_NEWTON, HESSA_PHASE_DONE } HessaAnalysisPhase;
extern const char *const HessaAnalysisPhaseNames[]; /* "gradient", ..., "done" */

#define HESSA_ANALYSIS_MAX_TIMERS 16
/* Everything one analysis computed, on every rank of the communicator (no PETSc objects:
 * the data, model and operator are gone when HessaAnalyzePoint returns). */
typedef struct {
  /* inputs */
  char           model_kind[64], model_description[512], data_description[512];
  PetscBool      has_data;
  PetscInt       n, n_op, samples, features;
  PetscMPIInt    ranks;
  HessaCurvature curvature;
  char           subset[256];
  PetscInt       seed;
  /* results (have_* says which parts were computed) */
  double                loss, gradient_norm;
  HessaExtremes         largest, smallest; /* without vectors */
  PetscBool             have_full, have_density, have_trace, have_escape, have_newton;
  HessaFullSpectrum     full;
  HessaDensity          density;
  HessaTrace            trace;
  HessaRefinement       refinement; /* of the extremes before classification */
  HessaVerdict          verdict;
  HessaLineProbe        escape; /* along the most negative curvature */
  double                escape_lambda, escape_gradient_dot;
  PetscBool             escape_descent; /* the loss fell by more than the noise */
  PetscInt              n_escape_direction;
  double               *escape_direction; /* [n_escape_direction] the direction (n_op <= 1000), or NULL */
  PetscInt              n_degenerate;
  HessaDegenerateProbe  degenerate[4];
  HessaGradientGeometry geometry;
  HessaNewton           newton;
  /* cost: products, gradients, seconds per phase (max over ranks), peak memory per rank */
  PetscInt64 products, gradients;
  PetscInt   n_timers;
  char       timer_name[HESSA_ANALYSIS_MAX_TIMERS][64];
  double     timer_seconds[HESSA_ANALYSIS_MAX_TIMERS];
  double    *peak_memory_mb; /* [ranks] */
  /* a graceful stop (options->stoppable) ended the analysis before stopped_at */
  PetscBool          stopped;
  HessaAnalysisPhase stopped_at;
} HessaAnalysis;

/* Collective on comm: the defaults, then the -hessa_analyze_* options (checked: k >= 1,
 * 1 to 8 positive alphas; -hessa_model_weights and -hessa_mlp_hidden together are an error).
 * Options: -hessa_analyze_output, _k, _eps_tol, _full, _full_max, _density, _probes, _steps,
 * _seed, _trace, _gradient_tol, _zero_tol, _alphas, _newton, _sf_dim; -hessa_trace_method
 * (hutchinson, hutchpp: the estimator when the full spectrum is not computed; with it the
 * trace is exact); -hessa_eps_type is checked (HessaExtremesTypeCheck) before any product. */
PetscErrorCode HessaAnalyzeOptionsSetFromOptions(MPI_Comm comm, HessaAnalyzeOptions *o);
/* Collective on comm: sets up data, model and operator from the options database, runs the
 * pipeline and fills res on every rank. One cleanup path: on success and on any error
 * everything set up here is freed (on an error res is empty too), so a study can go on after
 * a failing point without leaking it. With o->stoppable, a stop request (signal) agreed at a
 * safe point between phases ends the run with res->stopped and the phases before
 * res->stopped_at filled. Free res with HessaAnalysisDestroy. */
PetscErrorCode HessaAnalyzePoint(MPI_Comm comm, const HessaAnalyzeOptions *o, HessaAnalysis *res);
/* Not collective: frees what res holds (safe on a zeroed or already destroyed res). */
PetscErrorCode HessaAnalysisDestroy(HessaAnalysis *res);

/* ---- loss landscapes (background.md section 7) ---------------------------------
 * The loss on a grid of points along a line or over a plane through parameter space:
 *   checkpoints  theta(alpha) = (1 - alpha) A + alpha B between two weight folders
 *                (Goodfellow et al. 2015); alpha = 0 and 1 give A and B bit for bit
 *   direction    theta + alpha d1                       (line)
 *   plane        theta + alpha d1 + beta d2             (plane)
 * with d a filter-normalised random direction (Li et al. 2018, HessaFilterNormalize) or
 * a unit Hessian eigenvector (HessaSpectrumExtremes, sign fixed so that its entry of
 * largest magnitude is positive).
 *
 * The grid points are shared among groups of group_size ranks (MPI_Comm_split); each
 * group sets the model and data up from the options database with its samples sharded
 * over the group and evaluates its contiguous share of the points. One grid point costs
 * one loss evaluation. */

typedef enum { HESSA_SCAN_CHECKPOINTS, HESSA_SCAN_RANDOM, HESSA_SCAN_EIGENVECTOR } HessaScanDirection;
extern const char *const HessaScanDirectionNames[]; /* "checkpoints", "random", "eigenvector" */

typedef struct {
  HessaScanDirection direction;
  PetscBool          plane;                                            /* two directions (not with checkpoints) */
  char               from[PETSC_MAX_PATH_LEN], to[PETSC_MAX_PATH_LEN]; /* checkpoints */
  HessaWhich         which;                                            /* eigenvector: which end of the spectrum */
  PetscInt           index;                                            /* eigenvector line: 0-based index from that end (a plane uses 0 and 1) */
  double             eps_tol;                                          /* eigenvector: relative tolerance (<= 0: SLEPc's default) */
  uint64_t           seed;                                             /* random: direction k is stream HESSA_STREAM_LANDSCAPE + k */
  double             lo, hi;                                           /* coefficient range of each axis, lo < hi */
  PetscInt           points;                                           /* grid points per axis, >= 2 (a plane has points^2) */
  PetscInt           group_size;                                       /* ranks per group; <= 0: HessaScanDefaultGroupSize */
  PetscBool          stoppable;                                        /* ask HessaStopAgree (whole communicator) before each round of
                                                                          grid points (one point per group) and stop when agreed */
  const double    *resume_loss;                                        /* [total points] losses of a stopped scan (HessaScanStateRead), or NULL */
  const PetscBool *resume_done;                                        /* [total points] which of them were finished: not evaluated again */
} HessaScanSpec;

typedef struct {
  PetscInt         n;              /* parameters */
  PetscInt         n_dirs;         /* 1 (line) or 2 (plane) */
  double          *theta;          /* [n] the point (checkpoints: A) */
  double          *target;         /* [n] checkpoints: B; NULL otherwise */
  double          *dirs[2];        /* [n] d1, d2 (checkpoints: B - A) */
  double           norms[2];       /* |d1|, |d2| */
  double           eigenvalues[2]; /* eigenvector directions: their eigenvalues; NaN otherwise */
  double           residuals[2];   /* eigenvector directions: |Hv - lambda v|; NaN otherwise */
  PetscInt         points;
  double          *grid;           /* [points] the coefficients of each axis */
  double          *loss;           /* [points] line, [points * points] plane: loss[i * points + j] at (grid[i], grid[j]) */
  double           loss_at_theta;  /* L(theta) (checkpoints: L(A)) */
  double           loss_at_target; /* checkpoints: L(B); NaN otherwise */
  PetscInt         group_size, n_groups;
  char             model[64]; /* model kind */
  char             description[512];
  PetscInt         n_blocks; /* parameter table (for saving directions per tensor) */
  HessaParamBlock *blocks;
  PetscBool       *done; /* [points or points^2] finished grid points (all unless stopped) */
  PetscInt         n_done;
  PetscBool        stopped; /* a graceful stop ended the scan early: loss is NaN where not done */
} HessaScan;

/* Collective on comm: the default group size. The whole communicator for an MLP (one
 * loss evaluation splits evenly over the sample shards and costs one scalar reduction,
 * while the data are held once per group, not once per rank); 1 for analytic objectives
 * (their one sample lives on one rank, so only separate groups give parallelism). */
PetscErrorCode HessaScanDefaultGroupSize(MPI_Comm comm, const HessaScanSpec *spec, PetscInt *group_size);
/* Collective on comm: run the scan; every rank gets the whole result. Errors (missing or
 * mismatched checkpoints, bad grid, a group size out of range) are raised on every rank. */
PetscErrorCode HessaScanRun(MPI_Comm comm, const HessaScanSpec *spec, HessaScan *scan);
PetscErrorCode HessaScanDestroy(HessaScan *scan);
/* Resumable state of a stopped scan (folder/landscape.state, src/analysis/scan_state.c,
 * docs/jobs.md): the finished points' losses as hex floats, and what a resumed run must
 * share with the stopped one (direction kind, plane, points, range, seed, end, index,
 * checkpoints). Collective on comm; rank 0 touches the file; a missing, corrupt or
 * mismatched state is one error on every rank naming the file, what was expected and what
 * was found. Read fills loss[total] and done[total] on every rank. */
#define HESSA_SCAN_STATE_FILE "landscape.state"
PetscErrorCode HessaScanStateWrite(MPI_Comm comm, const char folder[], const HessaScanSpec *spec, const HessaScan *scan);
PetscErrorCode HessaScanStateRead(MPI_Comm comm, const char folder[], const HessaScanSpec *spec, PetscInt total, double loss[], PetscBool done[]);
PetscErrorCode HessaScanStateRemove(MPI_Comm comm, const char folder[]);
/* Not collective. Filter normalisation (Li et al. 2018) of d in place against theta: each
 * row of a 2-D block (one output unit's incoming weights) is scaled to the norm of theta's
 * row (a zero row of theta gives a zero row); 1-D blocks (MLP biases) are set to zero. An
 * objective without 2-D blocks (analytic objectives) has no filters: d is scaled to
 * |theta|, or to unit norm when theta = 0. */
PetscErrorCode HessaFilterNormalize(HessaObjective obj, const double *theta, double *d);

#endif
