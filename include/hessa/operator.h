/* hessa operator: the model at a point, as PETSc objects on parameter-sharded vectors.
 *
 * theta and every direction live in PETSc Vecs split by parameter index. Each rank
 * also keeps one full-length replica of theta and of the direction it applies the
 * curvature to, because the objective works on full-length vectors over its shard
 * of the samples. One product is
 *     Hv = ReduceScatter( local_Hv( Allgather(v) ) ) / N  (+ weight_decay * v)
 * where both collectives are the same VecScatter (to all ranks, then in reverse with
 * ADD_VALUES into the owned slice). This layer owns all communication of
 * parameter-length vectors; objectives never call MPI.
 *
 * A parameter subset restricts the operator to a block of parameters (one layer,
 * several layers, weights only): vectors then have the subset's length, and the
 * product is the block H_SS of the full curvature.
 *
 * Life cycle: HessaOperatorCreate -> HessaOperatorSetFromOptions -> HessaOperatorSetUp
 * -> HessaOperatorSetPoint -> products -> HessaOperatorDestroy.
 */
#ifndef HESSA_OPERATOR_H
#define HESSA_OPERATOR_H

#include <hessa/objective.h>
#include <petscmat.h>

typedef enum { HESSA_CURVATURE_HESSIAN, HESSA_CURVATURE_GGN } HessaCurvature;

typedef struct _p_HessaOperator *HessaOperator;
struct _p_HessaOperator {
  MPI_Comm       comm;
  HessaObjective obj; /* not owned */
  HessaCurvature curvature;
  char           subset_spec[256]; /* "" = all, else e.g. "layers.0.weight,layers.1" or "weights" */
  PetscInt       n;                /* full parameter count */
  PetscInt       n_op;             /* operator size (subset size, or n) */
  PetscInt      *subset;           /* [n_op] global parameter indices of the subset, NULL for all */

  Vec        theta;       /* [n] sharded: the point */
  double    *theta_all;   /* [n] full replica of theta on every rank */
  Vec        full_seq;    /* [n] sequential work vector, the target of the Allgather */
  VecScatter full_to_all; /* sharded [n] -> full_seq on every rank */
  VecScatter op_to_all;   /* sharded [n_op] -> full_seq (subset positions) on every rank */
  Vec        op_template; /* [n_op] sharded, for VecDuplicate */

  double  *block_in, *block_out; /* [capacity][n] full-length direction and product buffers */
  PetscInt block_capacity;
  Vec     *seq_in, *seq_out; /* [capacity] sequential Vecs wrapping the rows of block_in/out */

  Mat H; /* MatShell of size n_op applying the curvature */

  /* cost, kept for reports */
  PetscInt64 n_products;          /* curvature-vector products (a block of b counts b) */
  PetscInt64 stop_after_products; /* > 0: a stop request (as from a signal) once n_products reaches it */
  PetscInt64 n_gradients;         /* loss+gradient evaluations */
  double     product_seconds, comm_seconds;
};

/* Collective. The objective must stay alive as long as the operator. */
PetscErrorCode HessaOperatorCreate(MPI_Comm comm, HessaObjective obj, HessaOperator *op);
/* Collective. Options: -hessa_operator hessian|ggn, -hessa_operator_subset LIST
 * (comma-separated parameter-table names or prefixes, or "weights" / "biases"),
 * -hessa_stop_after_products N (test hook: behave as if SIGUSR1 arrived once N products
 * of this operator are done, so a graceful stop happens at a deterministic place). */
PetscErrorCode HessaOperatorSetFromOptions(HessaOperator op);
PetscErrorCode HessaOperatorSetCurvature(HessaOperator op, HessaCurvature c);
PetscErrorCode HessaOperatorSetSubset(HessaOperator op, const char spec[]);
/* Collective: builds the scatters and the MatShell. */
PetscErrorCode HessaOperatorSetUp(HessaOperator op);
/* Collective: sets the point from a sharded Vec of length n (copied). */
PetscErrorCode HessaOperatorSetPoint(HessaOperator op, Vec theta);
/* Collective: a new sharded Vec of length n (parameters) or n_op (operator size). */
PetscErrorCode HessaOperatorCreateParameterVec(HessaOperator op, Vec *v);
PetscErrorCode HessaOperatorCreateVec(HessaOperator op, Vec *v);

/* Collective: mean loss over all samples plus the L2 term. */
PetscErrorCode HessaOperatorLoss(HessaOperator op, Vec theta, double *loss);
/* Collective: loss and gradient (length n, sharded) at the operator's point. */
PetscErrorCode HessaOperatorGradient(HessaOperator op, double *loss, Vec grad);
/* Collective: y = C x for the curvature C (length n_op vectors). */
PetscErrorCode HessaOperatorApply(HessaOperator op, Vec x, Vec y);
/* Collective: Y[j] = C X[j], j < b, sharing one forward pass. */
PetscErrorCode HessaOperatorApplyBlock(HessaOperator op, PetscInt b, Vec X[], Vec Y[]);
/* Collective: mean loss (+ L2) at a full-length theta held identically on every rank. */
PetscErrorCode HessaOperatorLossAt(HessaOperator op, const double *theta, double *loss);
/* Collective: L(theta + t * d) for a direction d in operator space (zero outside a subset). */
PetscErrorCode HessaOperatorLossAlong(HessaOperator op, Vec d, double t, double *loss);
/* Collective: full-length embedding of an operator-space Vec on every rank (zeros outside a subset). */
PetscErrorCode HessaOperatorEmbed(HessaOperator op, Vec x, double *full);
/* Collective: the entries of a parameter-length Vec that belong to the operator (length n_op). */
PetscErrorCode HessaOperatorRestrict(HessaOperator op, Vec full, Vec sub);
/* Not collective: fill the owned slice of a sharded Vec from a full-length array held on
 * this rank (every rank holds the same array). */
PetscErrorCode HessaVecSetFromFull(Vec v, const double *full);
/* Collective: the whole Vec on rank 0 in full (length = global size; other ranks may pass NULL). */
PetscErrorCode HessaVecGatherToZero(Vec v, double *full);
/* The MatShell (not a new reference). */
PetscErrorCode HessaOperatorGetMat(HessaOperator op, Mat *H);
/* Collective: a random sharded vector of length len (n or n_op) that does not depend on
 * the number of ranks. */
PetscErrorCode HessaVecSetRandom(Vec v, HessaRandomKind kind, uint64_t seed, uint64_t stream);
PetscErrorCode HessaOperatorDestroy(HessaOperator *op);

/* ---- the model: objective + point, from options ---- */
typedef struct _p_HessaModel *HessaModel;
struct _p_HessaModel {
  MPI_Comm       comm;
  char           kind[64];                    /* mlp, onnx, quadratic, linear-toy, x2+y4, x2-y4, rosenbrock, monkey-saddle, plugin */
  char           weights[PETSC_MAX_PATH_LEN]; /* weight folder to load, "" = initialise */
  char           init[32];                    /* glorot | he | point */
  PetscInt       seed;
  HessaMLPArch   arch;
  HessaONNXArch  onnx;          /* onnx: the graph file (from -hessa_model_file, or the weight folder's model.onnx) and its options */
  PetscBool      onnx_loss_set; /* -hessa_onnx_loss given (else: from the data's task) */
  double        *theta0;        /* onnx: the graph's initializers (full length, every rank; malloc'd), NULL otherwise */
  PetscInt       analytic_n;    /* dimension of rosenbrock / quadratic */
  PetscReal      point[16];     /* analytic objectives: the point, when given */
  PetscInt       n_point;
  char           spectrum[PETSC_MAX_PATH_LEN];                   /* quadratic: file of eigenvalues, "" = generated */
  char           plugin_file[PETSC_MAX_PATH_LEN];                /* plugin: the shared library (hessa/plugin.h) */
  char           plugin_options[PETSC_MAX_PATH_LEN];             /* plugin: text for its create */
  double        *plugin_theta0;                                  /* plugin: its starting point (full length) */
  PetscBool      kind_set, hidden_set, activation_set, loss_set; /* given as options: a weight folder must agree */
  HessaData      data;                                           /* not owned */
  HessaObjective obj;
  Vec            theta; /* sharded point */
};

/* Collective. data may be NULL for analytic objectives. */
PetscErrorCode HessaModelCreate(MPI_Comm comm, HessaData data, HessaModel *model);
/* Collective. Options: -hessa_model, -hessa_model_weights, -hessa_model_init, -hessa_model_seed,
 * -hessa_model_point, -hessa_model_dim, -hessa_model_spectrum, -hessa_mlp_hidden,
 * -hessa_mlp_activation, -hessa_mlp_loss, -hessa_mlp_weight_decay, -hessa_mlp_chunk,
 * -hessa_mlp_cache_mb, -hessa_plugin_file, -hessa_plugin_options;
 * for -hessa_model onnx (docs/onnx.md): -hessa_model_file NET.onnx,
 * -hessa_onnx_loss (cross-entropy | mse; default from the data's task),
 * -hessa_onnx_weight_decay, -hessa_onnx_chunk, -hessa_onnx_cache_mb. */
PetscErrorCode HessaModelSetFromOptions(HessaModel model);
/* Collective: builds the objective and the point (loads weights or initialises; an onnx
 * model without weights starts at the graph's initializers). Every rank reads an ONNX file;
 * a bad file is one error on every rank. */
PetscErrorCode HessaModelSetUp(HessaModel model);
/* Collective: rank 0 writes the point in the weight format (see docs/weights.md). */
PetscErrorCode HessaModelSave(HessaModel model, Vec theta, const char folder[]);
PetscErrorCode HessaModelDestroy(HessaModel *model);

/* Collective: data (from options), model (from options) and operator (from options) at the
 * model's point: what every command and benchmark starts with. On an error nothing is
 * left allocated and the three handles are NULL. */
PetscErrorCode HessaSetUpFromOptions(MPI_Comm comm, HessaData *data, HessaModel *model, HessaOperator *op);

/* ---- checks ---- */
typedef struct {
  double   grad_fd_rel;  /* |g.u - FD(L, u)| / max(|g.u|, scale) over random u, worst */
  double   hv_fd_rel;    /* |Hv - FD(g, v)| / |Hv|, worst over random v */
  double   symmetry_rel; /* |u.Hv - v.Hu| / (|u||Hv| + |v||Hu|), worst */
  PetscInt trials;
} HessaCheckResult;
/* Collective: gradient vs central differences of the loss, Hv vs central differences of
 * the gradient, symmetry, over `trials` random directions. Options: -hessa_check_trials,
 * -hessa_check_step. */
PetscErrorCode HessaOperatorCheck(HessaOperator op, PetscInt trials, double step, uint64_t seed, HessaCheckResult *res);

#endif
