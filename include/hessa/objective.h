/* hessa objective: the seam users plug into.
 *
 * An objective has n parameters and, for a full-length theta and the rank's local
 * data shard, computes LOCAL SUMS over its samples of the per-sample loss, its
 * gradient, Hessian-vector products and Gauss-Newton-vector products. It never
 * calls MPI: the operator layer reduces the sums over ranks and divides by the
 * global sample count once, then adds the L2 term (weight_decay/2)|theta|^2.
 *
 * Vectors are full-length double arrays indexed by the parameter table (layer-major,
 * PyTorch nn.Linear order: weight out x in row-major, then bias). A block of b
 * directions is b contiguous vectors: V[j*n + i] is entry i of direction j.
 *
 * Analytic objectives (no data) behave as a data set of one sample: the rank that
 * owns sample 0 returns the value, the others return zeros.
 */
#ifndef HESSA_OBJECTIVE_H
#define HESSA_OBJECTIVE_H

#include <hessa/data.h>

typedef struct _p_HessaObjective *HessaObjective;

/* The operations an objective implements. Each returns 0 on success or a PETSc error
 * code; none may call MPI. theta is full length. Outputs are overwritten. */
typedef struct {
  /* local sum of per-sample losses */
  PetscErrorCode (*loss)(HessaObjective, const double *theta, double *loss);
  /* local sums of loss and gradient */
  PetscErrorCode (*gradient)(HessaObjective, const double *theta, double *loss, double *grad);
  /* local sums of H v_j for b directions (V: b*n, HV: b*n) */
  PetscErrorCode (*hessian_block)(HessaObjective, const double *theta, PetscInt b, const double *V, double *HV);
  /* local sums of G v_j (generalized Gauss-Newton); NULL if the objective has no GGN */
  PetscErrorCode (*ggn_block)(HessaObjective, const double *theta, PetscInt b, const double *V, double *GV);
  /* optional: release the implementation's context */
  PetscErrorCode (*destroy)(HessaObjective);
} HessaObjectiveOps;

/* One row of the parameter table. */
#define HESSA_PARAM_MAX_DIMS 8
typedef struct {
  char     name[128]; /* e.g. "layers.0.weight", or an ONNX initializer's name */
  int      ndim;      /* 1 .. HESSA_PARAM_MAX_DIMS (0 for a scalar) */
  PetscInt shape[HESSA_PARAM_MAX_DIMS];
  PetscInt offset; /* index of the first entry in the flat vector */
  PetscInt count;
} HessaParamBlock;

/* "(3, 1, 5, 5)" or "(10,)" or "()" into buf (not collective). */
void HessaParamBlockShapeString(const HessaParamBlock *b, char *buf, size_t len);

struct _p_HessaObjective {
  char              type[64]; /* "quadratic", "mlp", ... */
  char              description[512];
  PetscInt          n;            /* number of parameters */
  PetscInt          n_samples;    /* global sample count the local sums are divided by */
  PetscReal         weight_decay; /* L2 coefficient added by the operator layer */
  PetscInt          n_blocks;     /* parameter table */
  HessaParamBlock  *blocks;
  HessaObjectiveOps ops;
  void             *impl; /* implementation context */
  HessaData         data; /* the local shard (not owned), NULL for analytic objectives */
};

/* ---- generic calls (not collective; local sums) ---- */
PetscErrorCode HessaObjectiveLoss(HessaObjective, const double *theta, double *loss);
PetscErrorCode HessaObjectiveGradient(HessaObjective, const double *theta, double *loss, double *grad);
PetscErrorCode HessaObjectiveHessianBlock(HessaObjective, const double *theta, PetscInt b, const double *V, double *HV);
PetscErrorCode HessaObjectiveGGNBlock(HessaObjective, const double *theta, PetscInt b, const double *V, double *GV);
PetscErrorCode HessaObjectiveDestroy(HessaObjective *obj);
/* Allocate an objective with n parameters and a one-row parameter table "theta". */
PetscErrorCode HessaObjectiveCreateEmpty(const char type[], PetscInt n, HessaObjective *obj);

/* ---- analytic objectives (closed-form gradient and Hessian) ---- */
typedef enum {
  HESSA_ANALYTIC_QUADRATIC,    /* 1/2 x^T Q diag(lambda) Q^T x (x0 = 0: the critical point is the origin) */
  HESSA_ANALYTIC_LINEAR_TOY,   /* (1 - w1 w2)^2 */
  HESSA_ANALYTIC_X2_PLUS_Y4,   /* x^2 + y^4 */
  HESSA_ANALYTIC_X2_MINUS_Y4,  /* x^2 - y^4 */
  HESSA_ANALYTIC_ROSENBROCK,   /* sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 */
  HESSA_ANALYTIC_MONKEY_SADDLE /* x^3 - 3 x y^2 */
} HessaAnalyticKind;

/* Quadratic with a prescribed spectrum lambda[0..n): Q is a product of `reflections`
 * Householder reflections with random unit normals u_k from (seed, HESSA_STREAM_QUADRATIC),
 * entry i of u_k drawn at index k*n + i; Q = H_0 H_1 ... H_{r-1}, H_k = I - 2 u_k u_k^T,
 * so column k of Q is an eigenvector for lambda[k]. The GGN equals the Hessian. */
PetscErrorCode HessaQuadraticCreate(PetscInt n, const double *lambda, PetscInt reflections, uint64_t seed, PetscBool owns_sample, HessaObjective *obj);
/* The same quadratic with dense, generic eigenvectors (what -hessa_model quadratic uses):
 * Q = R_0 ... R_{L-1}, L = HessaQuadraticDenseLayers(n) = 4 ceil(log2 n) layers of random
 * plane rotations over shuffled index pairs, from (seed, HESSA_STREAM_ROTATIONS + 0/1);
 * O(n L) per product, O(n L) memory. Stochastic trace and density estimates need such a Q:
 * with Q near the identity z^T H z hardly varies and their standard errors are too small. */
PetscErrorCode HessaQuadraticCreateDense(PetscInt n, const double *lambda, uint64_t seed, PetscBool owns_sample, HessaObjective *obj);
PetscInt       HessaQuadraticDenseLayers(PetscInt n);
/* Spectrum generator: a bulk spread over [bulk_lo, bulk_hi], n_out outliers spread up to
 * outlier_max, and n_neg negative eigenvalues spread over [neg_lo, neg_hi]. Evenly spaced,
 * written in ascending order: negatives, bulk (n - n_out - n_neg values), outliers
 * (bulk_hi + (outlier_max - bulk_hi) k / n_out, k = 1..n_out). */
PetscErrorCode HessaSpectrumGenerate(PetscInt n, double bulk_lo, double bulk_hi, PetscInt n_out, double outlier_max, PetscInt n_neg, double neg_lo, double neg_hi, double *lambda);
/* Apply Q or Q^T of a quadratic objective (for tests that need the eigenvectors). */
PetscErrorCode HessaQuadraticApplyQ(HessaObjective obj, PetscBool transpose, const double *x, double *y);
/* The other analytic objectives; n is only used by Rosenbrock. */
PetscErrorCode HessaAnalyticCreate(HessaAnalyticKind kind, PetscInt n, PetscBool owns_sample, HessaObjective *obj);
/* Names: "quadratic", "linear_toy", "x2_plus_y4", "x2_minus_y4", "rosenbrock", "monkey_saddle". */
PetscErrorCode HessaAnalyticFromName(const char name[], HessaAnalyticKind *kind, PetscBool *found);
const char    *HessaAnalyticName(HessaAnalyticKind kind);

/* ---- the MLP objective ---- */
typedef enum { HESSA_ACT_IDENTITY, HESSA_ACT_TANH, HESSA_ACT_SIGMOID, HESSA_ACT_RELU, HESSA_ACT_SOFTPLUS, HESSA_ACT_GELU } HessaActivation;
typedef enum { HESSA_LOSS_CROSS_ENTROPY, HESSA_LOSS_MSE } HessaLossKind;

typedef struct {
  PetscInt        n_layers;   /* dense layers */
  PetscInt        widths[16]; /* widths[0] = inputs, widths[n_layers] = outputs */
  HessaActivation activation; /* hidden layers; the output layer is linear */
  HessaLossKind   loss;       /* cross-entropy: mean over samples of -log softmax(z)_y;
                                 mse: mean over samples and outputs of (z - y)^2 (torch's mse_loss) */
  PetscReal weight_decay;     /* adds (weight_decay/2)|theta|^2 */
  PetscInt  chunk;            /* samples per chunk (bounds memory); <= 0: 1000 */
  PetscReal cache_mb;         /* budget (MB) for caching the forward pass at a fixed theta;
                                 < 0 (e.g. PETSC_DEFAULT): 512; 0 disables the cache */
} HessaMLPArch;

PetscErrorCode HessaActivationFromName(const char name[], HessaActivation *act, PetscBool *found);
const char    *HessaActivationName(HessaActivation act);
PetscErrorCode HessaLossFromName(const char name[], HessaLossKind *loss, PetscBool *found);
const char    *HessaLossName(HessaLossKind loss);

/* Not collective. data may have an empty shard. Checks that the architecture matches the
 * data (input width = features; outputs = classes or targets). */
PetscErrorCode HessaMLPCreate(const HessaMLPArch *arch, HessaData data, HessaObjective *obj);
/* Evaluate the network's outputs for count samples x (rows) into z (count x outputs). */
PetscErrorCode HessaMLPForward(HessaObjective obj, const double *theta, PetscInt count, const double *x, double *z);
/* The architecture the objective was created with (chunk and cache_mb with defaults applied). */
PetscErrorCode HessaMLPGetArch(HessaObjective obj, HessaMLPArch *arch);
/* Teacher-student: overwrite data->y (regression, n_targets = the teacher's outputs) with
 * the teacher's outputs at theta, so that theta is an exact global minimum of an MSE
 * student with the same architecture. Not collective (each rank fills its shard). */
PetscErrorCode HessaMLPTeacherTargets(HessaObjective teacher, const double *theta, HessaData data);
/* Fill entries [first, first+count) of the flat parameter vector from the rank-independent
 * stream (seed, HESSA_STREAM_MLP_INIT, global index): weights uniform Glorot
 * (+-sqrt(6/(fan_in+fan_out))) or normal He (std sqrt(2/fan_in)), biases 0. */
PetscErrorCode HessaMLPInitialize(HessaObjective obj, const char scheme[], uint64_t seed, PetscInt first, PetscInt count, double *theta_slice);
/* Forget the cached forward pass (call after changing the data the objective points to). */
PetscErrorCode HessaMLPResetCache(HessaObjective obj);
/* Switch between the fast kernels (default) and the naive per-sample reference kernels
 * (loops, no BLAS, no chunks, no cache), kept for testing. */
PetscErrorCode HessaMLPUseReference(HessaObjective obj, PetscBool use_reference);

/* ---- ONNX models (docs/onnx.md): the user's own network ---- */
typedef struct {
  char          path[PETSC_MAX_PATH_LEN]; /* the .onnx file */
  HessaLossKind loss;                     /* applied to the graph's output, as for the MLP */
  PetscReal     weight_decay;             /* adds (weight_decay/2)|theta|^2 */
  PetscInt      chunk;                    /* samples per chunk (bounds memory); <= 0: 256 */
  PetscReal     cache_mb;                 /* forward-pass cache budget (MB); < 0: 512; 0 disables */
} HessaONNXArch;

/* Not collective (every rank reads the file). Loads the graph, checks it against the data
 * (the input's per-sample shape holds n_features values; outputs = classes or targets),
 * and builds the objective; theta's initial values (the model's initializers) into
 * *theta0 (malloc'd, length obj->n; may be NULL when not wanted). On a bad file st is set
 * (a message naming the file) and *obj is NULL. */
PetscErrorCode HessaONNXCreate(const HessaONNXArch *arch, HessaData data, HessaObjective *obj, double **theta0, HessaStatus *st);
/* The graph's outputs for count samples x (rows of n_features) into z (count x outputs). */
PetscErrorCode HessaONNXForward(HessaObjective obj, const double *theta, PetscInt count, const double *x, double *z);
PetscErrorCode HessaONNXGetArch(HessaObjective obj, HessaONNXArch *arch);

/* ---- plugins (hessa/plugin.h): a user's shared library ---- */
/* Not collective (every rank loads the library). Loads the plugin at path and builds its
 * objective on the local shard; without data (NULL or no source) the plugin is one sample,
 * owned by the rank with owns_sample. options goes to the plugin's create. The plugin's
 * starting point (zeros without initial_point) into *theta0 (PetscMalloc'd, length n) when
 * theta0 is not NULL. On a fault (file, symbol, API version, create) st names the plugin
 * and the reason, and *obj is NULL. */
PetscErrorCode HessaPluginCreate(const char path[], const char options[], HessaData data, PetscBool owns_sample, HessaObjective *obj, double **theta0, HessaStatus *st);

/* ---- weight folders (docs/weights.md): model.json + one NPY file per tensor ---- */
/* Not collective. The model kind and, for an mlp, widths/activation/loss from model.json. */
/* Not collective: check a parsed model.json against the weight-folder schema
 * (docs/weights.md, docs/weights.schema.json). Non-zero and st set (naming path) on the
 * first violation. Every reader of weight folders calls it. */
struct cJSON;
int  HessaWeightsValidateManifest(const struct cJSON *root, const char path[], HessaStatus *st);
void HessaWeightsReadArch(const char folder[], char kind[64], HessaMLPArch *arch, HessaStatus *st);
/* Not collective. All tensors into theta[0..n), shapes checked against obj's parameter table. */
PetscErrorCode HessaWeightsRead(const char folder[], HessaObjective obj, double *theta, HessaStatus *st);
/* Not collective (one rank): write folder atomically (folder.tmp, then rename). */
PetscErrorCode HessaWeightsWrite(const char folder[], HessaObjective obj, const double *theta, HessaStatus *st);

#endif
