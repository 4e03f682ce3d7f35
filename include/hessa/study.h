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
  PetscReal           weight_decay; /* gd, sgd, adam: decoupled, theta <- theta - lr wd theta (AdamW) */
  PetscReal           damping;      /* lm: the current mu of (H^2 + mu I) d = H g */
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
/* Options (prefix -hessa_train_): method, objective, lr, momentum, beta1, beta2, eps, weight_decay, batch,
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

/* The columns of a study's results.csv, in order (NULL-terminated): the table format of
 * docs/reports.md, written by the study's collector and read back by hessa compare. */
extern const char *const HessaStudyResultColumns[];

/* ---- comparing studies of the same checkpoints (hessa compare, docs/study.md) ---- */
/* Studies and loss sources together: one plot line each. */
#define HESSA_COMPARE_MAX_SOURCES 8

/* One input of hessa compare: NAME=FOLDER. NAME (1-63 letters, digits, '_' or '-')
 * prefixes its columns in compare.csv and labels its plot lines. */
typedef struct {
  char name[64];
  char folder[PETSC_MAX_PATH_LEN];
} HessaCompareSource;

typedef struct {
  PetscInt           n_studies, n_losses;
  HessaCompareSource studies[HESSA_COMPARE_MAX_SOURCES]; /* hessa study output folders (results.csv) */
  HessaCompareSource losses[HESSA_COMPARE_MAX_SOURCES];  /* folders of CHECKPOINT/info.json (hessa info) */
  char               output[PETSC_MAX_PATH_LEN];
} HessaCompareOptions;

/* Collective on comm (every rank reads the same options): read and check the options of
 * hessa compare. Options: -hessa_compare_studies NAME=FOLDER,... (required),
 * -hessa_compare_loss NAME=FOLDER,... (FOLDER/CHECKPOINT/info.json from hessa info
 * -hessa_info_output), -hessa_compare_output (default hessa-compare). An empty list or
 * item, an item without '=', a bad or repeated NAME, more than HESSA_COMPARE_MAX_SOURCES
 * sources: one error naming the option and the item. With -help only the options are
 * printed (o is then not checked). */
PetscErrorCode HessaCompareOptionsSetFromOptions(MPI_Comm comm, HessaCompareOptions *o);
/* Collective on comm: rank 0 reads every study's results.csv (hessa's CSV format, known
 * columns only; name, status, step, loss, negative_fraction, lambda_min, lambda_max
 * required), checks that every study holds the same checkpoints (by name, with the same
 * step), reads the loss of each checkpoint from every loss source, then writes into
 * o->output: compare.csv (one row per checkpoint, by step: name, step, then per study
 * NAME_lambda_max, NAME_lambda_min, NAME_negative_fraction, NAME_loss, then per loss
 * source NAME_loss), compare.md (a table and the plots) and the plots compare_lambda_max,
 * compare_negative_fraction and compare_loss (PNG and SVG, one line per study). A bad
 * input is one error on every rank naming the file, the study and the checkpoint. */
PetscErrorCode HessaCompareRun(MPI_Comm comm, const HessaCompareOptions *o);

#endif
