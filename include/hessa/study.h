/* hessa study: families of points. Training (optimisers, checkpoints, the training
 * log) and the task farm that analyses many points over sub-communicators with a
 * collector rank (results.jsonl / results.csv, reruns skip finished points).
 *
 * Collective on the communicator given to each call unless a comment says otherwise.
 */
#ifndef HESSA_STUDY_H
#define HESSA_STUDY_H

#include <hessa/analysis.h>
#include <hessa/report.h>

/* ---- training ---- */
/* An optimiser loop on the operator's model (docs/training.md). Life cycle:
 * HessaTrainerCreate -> HessaTrainerSetFromOptions (also checks the output folder, so it
 * can run before the data are loaded) -> HessaTrainerSetModel -> HessaTrainerSetUp (with
 * -resume: loads the newest checkpoint and its optimiser state) -> HessaTrainerRun ->
 * HessaTrainerDestroy. Only rank 0 writes files. */
typedef enum { HESSA_TRAIN_GD, HESSA_TRAIN_SGD, HESSA_TRAIN_ADAM } HessaTrainMethod;
/* What is minimised: the loss L, or 1/2 |grad L|^2 (gradient H g: finds critical points). */
typedef enum { HESSA_TRAIN_LOSS, HESSA_TRAIN_GRADNORM } HessaTrainObjective;

/* Mini-batch stream ("trbatch"): step t draws its batch from entries t*N .. t*N + B - 1. */
#define HESSA_STREAM_TRAIN_BATCH UINT64_C(0x7472626174636800)

typedef struct _p_HessaTrainer *HessaTrainer;
struct _p_HessaTrainer {
  MPI_Comm            comm;
  HessaModel          model; /* not owned: the objective and the architecture */
  HessaOperator       op;    /* not owned: full-data operator, its point is moved */
  HessaTrainMethod    method;
  HessaTrainObjective objective;
  PetscReal           lr, momentum, beta1, beta2, eps, gtol;
  PetscInt            steps, batch, seed, checkpoint_every, lambda_every, max_steps_per_run;
  PetscBool           resume;
  char                output[PETSC_MAX_PATH_LEN];

  /* state */
  Vec       theta;          /* the point being trained (sharded, length n) */
  Vec       first_moment;   /* sgd: velocity; adam: m (sharded) */
  Vec       second_moment;  /* adam: v (sharded) */
  PetscInt  step;           /* updates done so far (over all runs) */
  PetscInt  start_step;     /* step this run started from */
  double    loss, gradient_norm; /* at theta (full data), after the last evaluation */
  PetscBool converged, stopped;
};

PetscErrorCode HessaTrainerCreate(MPI_Comm comm, HessaTrainer *tr);
/* Options (prefix -hessa_train_): method, objective, lr, momentum, beta1, beta2, eps, batch,
 * steps, gtol, seed, output, checkpoint_every, lambda_every, max_steps_per_run; and -resume. */
PetscErrorCode HessaTrainerSetFromOptions(HessaTrainer tr);
/* Not collective: the model (its objective, data and architecture) and an operator on it
 * (its point is moved; gradnorm needs it on all parameters). Neither is owned. */
PetscErrorCode HessaTrainerSetModel(HessaTrainer tr, HessaModel model, HessaOperator op);
PetscErrorCode HessaTrainerSetUp(HessaTrainer tr);
/* Train until -hessa_train_steps updates are done, |g| <= gtol, or a stop request (then
 * the current step is checkpointed with the optimiser state and HessaStopMarkStopped is
 * called). Writes train_log.csv as it goes, checkpoints, train.json and the plot. */
PetscErrorCode HessaTrainerRun(HessaTrainer tr);
PetscErrorCode HessaTrainerDestroy(HessaTrainer *tr);
const char    *HessaTrainMethodName(HessaTrainMethod method);

/* ---- study (task farm) ---- */

#endif
