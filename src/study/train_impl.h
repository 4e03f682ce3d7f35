/* Private to the training files of the study layer (train.c: the loop; checkpoint.c:
 * checkpoints; train_log.c: train_log.csv, train.json and the plot). */
#ifndef HESSA_TRAIN_IMPL_H
#define HESSA_TRAIN_IMPL_H

#include <hessa/study.h>

#define HESSA_TRAIN_MAX_CHECKPOINTS 100000 /* checkpoints listed in one output folder */

/* Not collective: "loss" or "gradnorm". */
const char *HessaTrainObjectiveName(HessaTrainObjective objective);

/* ---- checkpoint.c ---- */
/* Not collective: weights = OUTPUT/step-NNNNNN, state = OUTPUT/step-NNNNNN.state.npy
 * (both PETSC_MAX_PATH_LEN long). */
PetscErrorCode HessaTrainCheckpointPaths(HessaTrainer tr, PetscInt step, char weights[], char state[]);
PetscBool      HessaTrainFileExists(const char path[]);
/* Not collective (rank 0): ascending steps of the complete checkpoints (steps has room
 * for HESSA_TRAIN_MAX_CHECKPOINTS). */
PetscErrorCode HessaTrainListCheckpoints(HessaTrainer tr, PetscInt steps[], PetscInt *count);
/* Collective: the newest complete checkpoint's step (-1: none) and how many there are. */
PetscErrorCode HessaTrainNewestCheckpoint(HessaTrainer tr, PetscInt *newest, PetscInt *count);
/* Collective: write the current step's checkpoint unless *last_saved is that step. */
PetscErrorCode HessaTrainSaveCheckpoint(HessaTrainer tr, PetscInt *last_saved);
/* Collective: theta, the optimiser state and tr->step from the checkpoint of step. */
PetscErrorCode HessaTrainLoadCheckpoint(HessaTrainer tr, PetscInt step);

/* ---- train_log.c ---- */
/* Collective: a fresh log, or on resume the log cut to the steps before the checkpoint. */
PetscErrorCode HessaTrainLogStart(HessaTrainer tr);
/* Collective: append the current step's row (lambda_max NaN: empty column). */
PetscErrorCode HessaTrainLogAppend(HessaTrainer tr, double lambda_max);
/* Collective: rank 0 writes train.json and, with plot, the train_log plot. */
PetscErrorCode HessaTrainWriteSummary(HessaTrainer tr, PetscBool plot);

#endif
