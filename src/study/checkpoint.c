/* hessa study: training checkpoints. A checkpoint of step s is the weight folder
 * step-NNNNNN (docs/weights.md) and step-NNNNNN.state.npy (the optimiser's first and
 * second moments, 2 x n), both written atomically, the state first, so a checkpoint with
 * both parts is complete. Rank 0 reads and writes; every rank gets the result.
 */
#include "train_impl.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Not collective: the two paths of the checkpoint of step. */
PetscErrorCode HessaTrainCheckpointPaths(HessaTrainer tr, PetscInt step, char weights[], char state[])
{
  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(weights, PETSC_MAX_PATH_LEN, "%s/step-%06" PetscInt_FMT, tr->output, step));
  PetscCall(PetscSNPrintf(state, PETSC_MAX_PATH_LEN, "%s/step-%06" PetscInt_FMT ".state.npy", tr->output, step));
  PetscFunctionReturn(0);
}

/* Not collective. */
PetscBool HessaTrainFileExists(const char path[])
{
  struct stat sb;
  return stat(path, &sb) == 0 ? PETSC_TRUE : PETSC_FALSE;
}

/* Not collective (rank 0): ascending steps of the complete checkpoints in the output folder
 * (a weight folder with model.json and its state file; the state is written first). */
PetscErrorCode HessaTrainListCheckpoints(HessaTrainer tr, PetscInt steps[], PetscInt *count)
{
  DIR           *dir = opendir(tr->output);
  struct dirent *e;

  PetscFunctionBegin;
  *count = 0;
  if (!dir) PetscFunctionReturn(0);
  while ((e = readdir(dir)) && *count < HESSA_TRAIN_MAX_CHECKPOINTS) {
    int  step, used = 0;
    char weights[PETSC_MAX_PATH_LEN], state[PETSC_MAX_PATH_LEN], model_json[PETSC_MAX_PATH_LEN + 16];
    if (sscanf(e->d_name, "step-%d%n", &step, &used) != 1 || e->d_name[used] != '\0' || step < 0) continue;
    PetscCall(HessaTrainCheckpointPaths(tr, step, weights, state));
    PetscCall(PetscSNPrintf(model_json, sizeof model_json, "%s/model.json", weights));
    if (HessaTrainFileExists(model_json) && HessaTrainFileExists(state)) steps[(*count)++] = step;
  }
  closedir(dir);
  PetscCall(PetscSortInt(*count, steps));
  PetscFunctionReturn(0);
}

/* Collective: the newest complete checkpoint's step (-1: none) and how many there are. */
PetscErrorCode HessaTrainNewestCheckpoint(HessaTrainer tr, PetscInt *newest, PetscInt *count)
{
  PetscMPIInt rank;
  PetscInt    found[2] = {-1, 0}, *steps;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
  if (rank == 0) {
    PetscCall(PetscMalloc1(HESSA_TRAIN_MAX_CHECKPOINTS, &steps));
    PetscCall(HessaTrainListCheckpoints(tr, steps, &found[1]));
    if (found[1] > 0) found[0] = steps[found[1] - 1];
    PetscCall(PetscFree(steps));
  }
  PetscCallMPI(MPI_Bcast(found, 2, MPIU_INT, 0, tr->comm));
  *newest = found[0];
  *count  = found[1];
  PetscFunctionReturn(0);
}

/* Collective: write the checkpoint of the current step (state file first, then the weight
 * folder, both atomically), unless it exists already. */
PetscErrorCode HessaTrainSaveCheckpoint(HessaTrainer tr, PetscInt *last_saved)
{
  PetscMPIInt rank;
  PetscInt    n = tr->model->obj->n;
  char        weights[PETSC_MAX_PATH_LEN], state[PETSC_MAX_PATH_LEN];
  double     *both = NULL;
  HessaStatus st   = {0};

  PetscFunctionBegin;
  if (*last_saved == tr->step) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
  PetscCall(HessaTrainCheckpointPaths(tr, tr->step, weights, state));
  if (rank == 0) PetscCall(PetscMalloc1(2 * (size_t)n, &both));
  PetscCall(HessaVecGatherToZero(tr->first_moment, both));
  PetscCall(HessaVecGatherToZero(tr->second_moment, rank == 0 ? both + n : NULL));
  if (rank == 0) {
    const int64_t shape[2] = {2, n};
    /* a failed write is recorded as this rank's status, so every rank raises it */
    if (HessaWriteNPY(state, 2, shape, both, 0)) {
      char msg[512];
      HessaErrorTake(msg, sizeof msg);
      HessaStatusSet(&st, HESSA_ERR_INPUT, "checkpoint state '%s': %s", state, msg);
    }
  }
  PetscCall(PetscFree(both));
  PetscCall(HessaSyncError(tr->comm, &st));
  PetscCall(HessaModelSave(tr->model, tr->theta, weights));
  *last_saved = tr->step;
  PetscFunctionReturn(0);
}

/* Rank 0: the weight decay is an option, not part of the state, so a resumed run given
 * another value would silently train a different trajectory: compare it with the
 * "weight_decay" train.json recorded (no file or no key: nothing to compare). */
static void CheckResumedWeightDecay(HessaTrainer tr, HessaStatus *st)
{
  char   path[PETSC_MAX_PATH_LEN + 16], *text;
  FILE  *f;
  long   len;
  cJSON *doc, *wd;

  snprintf(path, sizeof path, "%s/train.json", tr->output);
  if (!(f = fopen(path, "rb"))) return;
  if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) || !(text = malloc((size_t)len + 1))) {
    fclose(f);
    HessaStatusSet(st, HESSA_ERR_INPUT, "-resume: cannot read '%s' (the training's summary)", path);
    return;
  }
  if (fread(text, 1, (size_t)len, f) != (size_t)len) len = 0;
  fclose(f);
  text[len] = 0;
  doc       = cJSON_Parse(text);
  free(text);
  wd = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "options"), "weight_decay");
  if (cJSON_IsNumber(wd) && wd->valuedouble != (double)tr->weight_decay)
    HessaStatusSet(st, HESSA_ERR_ARG, "-resume: the training in '%s' ran with -hessa_train_weight_decay %.17g (%s), this run has %.17g: pass the same value to continue it, or start a new -hessa_train_output", tr->output, wd->valuedouble, path,
                   (double)tr->weight_decay);
  cJSON_Delete(doc);
}

/* Collective: theta and the optimiser state from checkpoint `step` (rank 0 reads, all get). */
PetscErrorCode HessaTrainLoadCheckpoint(HessaTrainer tr, PetscInt step)
{
  PetscMPIInt rank;
  PetscInt    n = tr->model->obj->n;
  char        weights[PETSC_MAX_PATH_LEN], state[PETSC_MAX_PATH_LEN];
  double     *full;
  HessaStatus st = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
  PetscCall(HessaTrainCheckpointPaths(tr, step, weights, state));
  PetscCall(PetscMalloc1(3 * (size_t)n, &full));
  if (rank == 0) {
    HessaArray arr = {0};
    CheckResumedWeightDecay(tr, &st);
    if (!st.code) PetscCall(HessaWeightsRead(weights, tr->model->obj, full, &st));
    if (!st.code) HessaReadNPY(state, 0, -1, &arr, &st);
    if (!st.code && (arr.ndim != 2 || arr.shape[0] != 2 || arr.shape[1] != n))
      HessaStatusSet(&st, HESSA_ERR_INPUT, "checkpoint state '%s': expected a 2 x %" PetscInt_FMT " array (first and second moments), found %d dimensions of shape %lld x %lld", state, n, arr.ndim, (long long)arr.shape[0],
                     (long long)(arr.ndim > 1 ? arr.shape[1] : 0));
    if (!st.code) PetscCall(PetscArraycpy(full + n, arr.values, 2 * (size_t)n));
    HessaArrayFree(&arr);
  }
  PetscCall(HessaSyncError(tr->comm, &st));
  PetscCallMPI(MPI_Bcast(full, (PetscMPIInt)(3 * n), MPI_DOUBLE, 0, tr->comm));
  PetscCall(HessaVecSetFromFull(tr->theta, full));
  PetscCall(HessaVecSetFromFull(tr->first_moment, full + n));
  PetscCall(HessaVecSetFromFull(tr->second_moment, full + 2 * n));
  PetscCall(PetscFree(full));
  tr->step = step;
  PetscFunctionReturn(0);
}
