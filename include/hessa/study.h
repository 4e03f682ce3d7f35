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
typedef enum { HESSA_TRAIN_GD, HESSA_TRAIN_SGD, HESSA_TRAIN_ADAM, HESSA_TRAIN_NEWTON, HESSA_TRAIN_LM } HessaTrainMethod;
/* What is minimised: the loss L, or 1/2 |grad L|^2 (gradient H g: finds critical points). */
typedef enum { HESSA_TRAIN_LOSS, HESSA_TRAIN_GRADNORM } HessaTrainObjective;

typedef struct _p_HessaTrainer *HessaTrainer;
struct _p_HessaTrainer {
  MPI_Comm            comm;
  HessaModel          model; /* not owned: the objective and the architecture */
  HessaOperator       op;    /* not owned: full-data operator, its point is moved */
  HessaTrainMethod    method;
  HessaTrainObjective objective;
  PetscReal           lr, momentum, beta1, beta2, eps, gtol;
  PetscReal           damping; /* lm: the current mu of (H^2 + mu I) d = H g */
  PetscInt            steps, batch, seed, checkpoint_every, lambda_every, max_steps_per_run;
  PetscBool           resume;
  char                output[PETSC_MAX_PATH_LEN];

  /* state */
  Vec       theta;               /* the point being trained (sharded, length n) */
  Vec       first_moment;        /* sgd: velocity; adam: m (sharded) */
  Vec       second_moment;       /* adam: v (sharded) */
  PetscInt  step;                /* updates done so far (over all runs) */
  PetscInt  start_step;          /* step this run started from */
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
/* One point of a study: a name (unique in the study: it names the point's report
 * folder and its line in results.jsonl), the weight folder, the options that apply to
 * this point only, and where it lies along a trajectory (step; -1: not on one). */
typedef struct {
  char     name[128];
  char     weights[PETSC_MAX_PATH_LEN];
  char     options[2048]; /* "-key value ..." added to the study's options for this point */
  PetscInt step;
  char     series[128]; /* the trajectory it belongs to ("" = none), for the plots */
} HessaStudyPoint;

/* The manifest: options for every point plus the list of points. */
typedef struct {
  char             path[PETSC_MAX_PATH_LEN];
  char             options[4096]; /* "-key value ..." for every point */
  PetscInt         n_points;
  HessaStudyPoint *points;
} HessaManifest;

/* Not collective: read a manifest. `path` is a YAML file (docs/study.md), a folder of
 * weight folders (one point per sub-folder holding model.json, in name order) or a
 * training folder (one point per checkpoint listed in its train.json, or per
 * step-NNNNNN sub-folder). Relative weight paths in a YAML file are relative to the
 * file's folder. A fault is recorded in st (file, what was expected, what was found);
 * the manifest is then empty. Free with HessaManifestFree. */
PetscErrorCode HessaManifestRead(const char path[], HessaManifest *m, HessaStatus *st);
/* Not collective: the same from YAML text in memory (base: folder for relative paths;
 * label: the name used in messages). */
PetscErrorCode HessaManifestParse(const char *text, size_t len, const char base[], const char label[], HessaManifest *m, HessaStatus *st);
void           HessaManifestFree(HessaManifest *m);

/* Analyse one point on the group communicator `group` (options already pushed):
 * write its report into `folder` and, on group rank 0, return its report document
 * (the caller deletes it). A non-zero return marks the point failed; the message is
 * taken from hessa's error record. */
typedef PetscErrorCode (*HessaStudyWorker)(MPI_Comm group, const HessaStudyPoint *point, const char folder[], void *ctx, cJSON **doc);

typedef struct _p_HessaStudy *HessaStudy;
/* Collective on comm. */
PetscErrorCode HessaStudyCreate(MPI_Comm comm, HessaStudy *study);
/* Options: -hessa_study_manifest, -hessa_study_output, -hessa_study_group_size,
 * -hessa_study_max_points (a budget per run: stop gracefully after that many points
 * were handed out, as if signalled; 0 = none). */
PetscErrorCode HessaStudySetFromOptions(HessaStudy study);
/* Collective: reads the manifest (rank 0), checks the output folder, reads the
 * results of an earlier run in the same folder (finished points are skipped), splits
 * the communicator (rank 0 collects; the others form groups). */
PetscErrorCode HessaStudySetUp(HessaStudy study);
/* Collective: hands the points out, appends each result to results.jsonl and
 * results.csv as it arrives, writes the study report at the end (partial when
 * stopped by a signal: then the run exits with HESSA_EXIT_STOPPED). */
PetscErrorCode HessaStudyRun(HessaStudy study, HessaStudyWorker worker, void *ctx);
/* Collective: counts of the points (rank 0's view, broadcast). */
PetscErrorCode HessaStudyGetCounts(HessaStudy study, PetscInt *total, PetscInt *done, PetscInt *failed, PetscInt *skipped);
PetscErrorCode HessaStudyDestroy(HessaStudy *study);

/* Not collective: the summary of one analysed point (a results.jsonl line) from its
 * report document. */
cJSON *HessaStudySummary(const HessaStudyPoint *point, const cJSON *doc, double seconds, int group);
/* Not collective (rank 0): write study.json, study.md and the plots (ratio vs loss,
 * trajectory, verdict counts) from the result lines. collector (may be NULL: taken
 * over) holds the collector's costs for study.json. */
PetscErrorCode HessaStudyWriteReport(const char folder[], const HessaManifest *m, cJSON *results, PetscBool partial, cJSON *collector, HessaStatus *st);

#endif
