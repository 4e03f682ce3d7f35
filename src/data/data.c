/* HessaData: creation, options, checksums, viewing, destruction.
 * Loading (readers, sharding, labels, scaling) is in load.c. */
#include "data_impl.h"
#include <stdlib.h>

static const char *const HessaDataSources[] = {"fashion-mnist", "idx", "npy", "hdf5", "blobs", "gaussian", "tokens", "none", "HessaDataSource", "HESSA_DATA_", NULL};
static const char *const HessaDataScales[]  = {"none", "unit", "standardize", "HessaDataScale", "HESSA_SCALE_", NULL};
static const char *const HessaTasks[]       = {"classification", "regression", "HessaTask", "HESSA_TASK_", NULL};
static const char *const HessaSeqTargets[]  = {"next-token", "class", "HessaSeqTarget", "HESSA_SEQ_", NULL};

/* HessaDataCreate - collective on comm (no communication). Creates an empty data
 * object with the defaults: Fashion-MNIST training set, pixels scaled to [0, 1],
 * all samples; synthetic sets of 1000 samples in 10 dimensions, seed 1.
 * The object keeps comm (not a duplicate): comm must outlive it. */
PetscErrorCode HessaDataCreate(MPI_Comm comm, HessaData *data)
{
  HessaData d;

  PetscFunctionBegin;
  PetscCall(PetscNew(&d));
  d->comm           = comm;
  d->source         = HESSA_DATA_FASHION_MNIST;
  d->task           = HESSA_TASK_CLASSIFICATION;
  d->limit          = -1;
  d->scale          = HESSA_SCALE_UNIT;
  d->pool           = 1;
  d->seed           = 1;
  d->synth_samples  = 1000;
  d->synth_features = 10;
  d->synth_classes  = PETSC_DECIDE;
  d->synth_spread   = 0.5;
  d->synth_targets  = 1;
  d->seq_target     = HESSA_SEQ_NEXT_TOKEN;
  d->vocab          = PETSC_DECIDE;
  PetscCall(PetscStrncpy(d->hdf5_features, "features", sizeof d->hdf5_features));
  PetscCall(PetscStrncpy(d->hdf5_labels, "labels", sizeof d->hdf5_labels));
  PetscCall(PetscStrncpy(d->description, "(not loaded)", sizeof d->description));
  *data = d;
  PetscFunctionReturn(0);
}

/* HessaDataSetFromOptions - collective on data->comm. Reads the options below (each
 * with its current value as default; -help lists them). The scale defaults to unit
 * for fashion-mnist and to none for every other source. */
PetscErrorCode HessaDataSetFromOptions(HessaData data)
{
  PetscBool set;

  PetscFunctionBegin;
  PetscOptionsBegin(data->comm, NULL, "hessa data options", NULL);
  PetscCall(PetscOptionsEnum("-hessa_data_source",
                             "where the samples come from: fashion-mnist (Debian's dataset-fashion-mnist), idx, npy, hdf5 (files named below), blobs, gaussian (synthetic), tokens (NPY integer sequences [N, T] in -hessa_data_features), none",
                             "HessaDataSetFromOptions", HessaDataSources, (PetscEnum)data->source, (PetscEnum *)&data->source, NULL));
  if (data->source != HESSA_DATA_FASHION_MNIST && data->scale == HESSA_SCALE_UNIT) data->scale = HESSA_SCALE_NONE;
  PetscCall(PetscOptionsString("-hessa_data_features", "features file (idx, npy, hdf5; fashion-mnist: default " HESSA_FASHION_MNIST_DIR "/<split>-images-idx3-ubyte.gz)", "HessaDataSetFromOptions", data->features_path, data->features_path,
                               sizeof data->features_path, NULL));
  PetscCall(PetscOptionsString("-hessa_data_labels", "labels file (idx, npy; hdf5 keeps both in the features file)", "HessaDataSetFromOptions", data->labels_path, data->labels_path, sizeof data->labels_path, NULL));
  PetscCall(PetscOptionsString("-hessa_data_hdf5_features", "name of the features data set in the HDF5 file", "HessaDataSetFromOptions", data->hdf5_features, data->hdf5_features, sizeof data->hdf5_features, NULL));
  PetscCall(PetscOptionsString("-hessa_data_hdf5_labels", "name of the labels data set in the HDF5 file", "HessaDataSetFromOptions", data->hdf5_labels, data->hdf5_labels, sizeof data->hdf5_labels, NULL));
  PetscCall(PetscOptionsBool("-hessa_data_test", "fashion-mnist: use the t10k (test) split instead of train", "HessaDataSetFromOptions", data->test_split, &data->test_split, NULL));
  PetscCall(PetscOptionsInt("-hessa_data_limit", "use only the first N samples (-1: all)", "HessaDataSetFromOptions", data->limit, &data->limit, NULL));
  PetscCall(PetscOptionsEnum("-hessa_data_scale", "feature scaling: none, unit (uint8 pixels / 255), standardize (per-feature mean 0, std 1 over all ranks' samples)", "HessaDataSetFromOptions", HessaDataScales, (PetscEnum)data->scale,
                             (PetscEnum *)&data->scale, NULL));
  PetscCall(
      PetscOptionsEnum("-hessa_data_task", "what the labels are: classification (integer classes) or regression (real targets, 1-D or 2-D labels file)", "HessaDataSetFromOptions", HessaTasks, (PetscEnum)data->task, (PetscEnum *)&data->task, &set));
  PetscCall(PetscOptionsInt("-hessa_data_seed", "seed of the synthetic generators", "HessaDataSetFromOptions", data->seed, &data->seed, NULL));
  PetscCall(PetscOptionsInt("-hessa_data_samples", "synthetic: number of samples", "HessaDataSetFromOptions", data->synth_samples, &data->synth_samples, NULL));
  PetscCall(PetscOptionsInt("-hessa_data_dim", "synthetic: number of features", "HessaDataSetFromOptions", data->synth_features, &data->synth_features, NULL));
  PetscCall(PetscOptionsInt("-hessa_data_classes", "number of classes (blobs: default 3; files: default max label + 1, else labels are checked against it)", "HessaDataSetFromOptions", data->synth_classes, &data->synth_classes, NULL));
  PetscCall(PetscOptionsReal("-hessa_data_spread", "blobs: standard deviation of each blob around its centre", "HessaDataSetFromOptions", data->synth_spread, &data->synth_spread, NULL));
  PetscCall(PetscOptionsInt("-hessa_data_pool", "average-pool square images over k x k blocks (Fashion-MNIST with 4: 7 x 7 = 49 features); 1: off", "HessaDataLoad", data->pool, &data->pool, NULL));
  PetscCall(PetscOptionsInt("-hessa_data_targets", "gaussian: length of each (zero) target", "HessaDataSetFromOptions", data->synth_targets, &data->synth_targets, NULL));
  PetscCall(PetscOptionsEnum("-hessa_data_target", "tokens: what is predicted: next-token (every position predicts the next token; cross-entropy averaged over the predicted positions) or class (one label per sequence in -hessa_data_labels)",
                             "HessaDataSetFromOptions", HessaSeqTargets, (PetscEnum)data->seq_target, (PetscEnum *)&data->seq_target, NULL));
  PetscCall(PetscOptionsString("-hessa_data_mask", "tokens, next-token: NPY [N, T] bool or 0/1 padding mask; the prediction of token t counts only where mask[t] is 1", "HessaDataSetFromOptions", data->mask_path, data->mask_path,
                               sizeof data->mask_path, NULL));
  PetscCall(PetscOptionsInt("-hessa_data_vocab", "tokens: vocabulary size; ids outside [0, V) are an error (default: the largest id + 1)", "HessaDataSetFromOptions", data->vocab, &data->vocab, NULL));
  PetscOptionsEnd();

  PetscCheck(data->limit == -1 || data->limit >= 1, data->comm, HESSA_ERR_ARG, "-hessa_data_limit %" PetscInt_FMT ": expected a positive number of samples or -1 (all)", data->limit);
  PetscCheck(data->seed >= 0, data->comm, HESSA_ERR_ARG, "-hessa_data_seed %" PetscInt_FMT ": expected a non-negative seed", data->seed);
  PetscCheck(data->synth_samples >= 1, data->comm, HESSA_ERR_ARG, "-hessa_data_samples %" PetscInt_FMT ": expected at least 1", data->synth_samples);
  PetscCheck(data->synth_features >= 1, data->comm, HESSA_ERR_ARG, "-hessa_data_dim %" PetscInt_FMT ": expected at least 1", data->synth_features);
  PetscCheck(data->synth_classes == PETSC_DECIDE || data->synth_classes >= 1, data->comm, HESSA_ERR_ARG, "-hessa_data_classes %" PetscInt_FMT ": expected at least 1", data->synth_classes);
  PetscCheck(data->synth_spread >= 0, data->comm, HESSA_ERR_ARG, "-hessa_data_spread %g: expected a non-negative standard deviation", (double)data->synth_spread);
  PetscCheck(data->pool >= 1, data->comm, HESSA_ERR_ARG, "-hessa_data_pool %" PetscInt_FMT ": expected a block size of at least 1 (1: no pooling)", data->pool);
  PetscCheck(data->synth_targets >= 1, data->comm, HESSA_ERR_ARG, "-hessa_data_targets %" PetscInt_FMT ": expected at least 1", data->synth_targets);
  PetscCheck(data->vocab == PETSC_DECIDE || data->vocab >= 1, data->comm, HESSA_ERR_ARG, "-hessa_data_vocab %" PetscInt_FMT ": expected at least 1 token", data->vocab);
  if (data->source == HESSA_DATA_TOKENS) {
    PetscCheck(!set || data->task == HESSA_TASK_CLASSIFICATION, data->comm, HESSA_ERR_ARG, "-hessa_data_source tokens predicts tokens or classes; drop -hessa_data_task regression");
    PetscCheck(!data->mask_path[0] || data->seq_target == HESSA_SEQ_NEXT_TOKEN, data->comm, HESSA_ERR_ARG,
               "-hessa_data_mask applies to -hessa_data_target next-token (masked positions are left out of the loss); with class targets the loss has one term per sequence");
    PetscCheck(data->scale == HESSA_SCALE_NONE && data->pool == 1, data->comm, HESSA_ERR_ARG, "-hessa_data_source tokens: token ids are not scaled or pooled; drop -hessa_data_scale and -hessa_data_pool");
    data->task = HESSA_TASK_CLASSIFICATION;
  }
  if (data->source == HESSA_DATA_BLOBS) {
    PetscCheck(!set || data->task == HESSA_TASK_CLASSIFICATION, data->comm, HESSA_ERR_ARG, "-hessa_data_source blobs is a classification data set; drop -hessa_data_task regression");
    data->task = HESSA_TASK_CLASSIFICATION;
  }
  if (data->source == HESSA_DATA_GAUSSIAN) {
    PetscCheck(!set || data->task == HESSA_TASK_REGRESSION, data->comm, HESSA_ERR_ARG, "-hessa_data_source gaussian is a regression data set; drop -hessa_data_task classification");
    data->task = HESSA_TASK_REGRESSION;
  }
  PetscFunctionReturn(0);
}

/* HessaDataChecksum - collective on data->comm. Outputs (the same on every rank):
 *   feature_sum = sum_i sum_j (j+1) x_ij,
 *   label_sum   = sum_i (i+1) label_i (classification) or sum_i (i+1) sum_t y_it
 *                 (regression), with i the global sample index.
 * Independent of the number of ranks up to round-off. */
PetscErrorCode HessaDataChecksum(HessaData data, double *feature_sum, double *label_sum)
{
  double local[2] = {0, 0}, global[2];

  PetscFunctionBegin;
  for (PetscInt i = 0; i < data->n_local; i++) {
    const double *row    = data->x + (size_t)i * (size_t)data->n_features;
    const double  weight = (double)(data->first + i + 1);
    double        s      = 0;
    for (PetscInt j = 0; j < data->n_features; j++) s += (double)(j + 1) * row[j];
    local[0] += s;
    if (data->targets) {
      double t = 0;
      for (PetscInt k = 0; k < data->seq_length; k++) t += (double)(k + 1) * data->targets[(size_t)i * (size_t)data->seq_length + (size_t)k];
      local[1] += weight * t;
    } else if (data->labels)
      local[1] += weight * data->labels[i];
    else if (data->y) {
      double t = 0;
      for (PetscInt k = 0; k < data->n_targets; k++) t += data->y[(size_t)i * (size_t)data->n_targets + (size_t)k];
      local[1] += weight * t;
    }
  }
  PetscCallMPI(MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_SUM, data->comm));
  *feature_sum = global[0];
  *label_sum   = global[1];
  PetscFunctionReturn(0);
}

/* HessaDataView - collective on data->comm. Rank 0 logs the source, the sizes, the
 * classes or targets, the scaling and every rank's range of samples (the first
 * and last 8 ranks when there are more than 16). */
PetscErrorCode HessaDataView(HessaData data)
{
  PetscMPIInt size, rank;
  PetscInt    mine[2] = {data->first, data->n_local}, *all = NULL;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(data->comm, &size));
  PetscCallMPI(MPI_Comm_rank(data->comm, &rank));
  if (rank == 0) PetscCall(PetscMalloc1(2 * (size_t)size, &all));
  PetscCallMPI(MPI_Gather(mine, 2, MPIU_INT, all, 2, MPIU_INT, 0, data->comm));
  PetscCall(HessaLog(data->comm, "data: %s", data->description));
  if (data->source == HESSA_DATA_TOKENS && data->seq_target == HESSA_SEQ_NEXT_TOKEN)
    PetscCall(HessaLog(data->comm, "data: %" PetscInt_FMT " sequences of %" PetscInt_FMT " tokens, vocabulary %" PetscInt_FMT ", next-token targets: %" PetscInt_FMT " predicted positions", data->n_global, data->seq_length, data->n_classes,
                       data->n_predicted));
  else if (data->source == HESSA_DATA_TOKENS)
    PetscCall(HessaLog(data->comm, "data: %" PetscInt_FMT " sequences of %" PetscInt_FMT " tokens, one of %" PetscInt_FMT " classes per sequence", data->n_global, data->seq_length, data->n_classes));
  else if (data->task == HESSA_TASK_CLASSIFICATION)
    PetscCall(HessaLog(data->comm, "data: %" PetscInt_FMT " samples x %" PetscInt_FMT " features, classification with %" PetscInt_FMT " classes, scale %s", data->n_global, data->n_features, data->n_classes, HessaDataScales[data->scale]));
  else
    PetscCall(HessaLog(data->comm, "data: %" PetscInt_FMT " samples x %" PetscInt_FMT " features, regression with %" PetscInt_FMT " targets, scale %s", data->n_global, data->n_features, data->n_targets, HessaDataScales[data->scale]));
  PetscCall(HessaLog(data->comm, "data: sharded over %d rank%s", (int)size, size > 1 ? "s" : ""));
  for (PetscMPIInt r = 0; r < size; r++) {
    if (size > 16 && r == 8) PetscCall(HessaLog(data->comm, "data:   ... (%d more ranks)", (int)size - 16));
    if (size > 16 && r >= 8 && r < size - 8) continue;
    if (rank == 0) PetscCall(HessaLog(data->comm, "data:   rank %d: samples [%" PetscInt_FMT ", %" PetscInt_FMT ") (%" PetscInt_FMT ")", (int)r, all[2 * r], all[2 * r] + all[2 * r + 1], all[2 * r + 1]));
  }
  PetscCall(PetscFree(all));
  PetscFunctionReturn(0);
}

/* HessaDataDestroy - collective on data->comm (no communication). Frees the shard and
 * the object; sets *data to NULL. */
PetscErrorCode HessaDataDestroy(HessaData *data)
{
  PetscFunctionBegin;
  if (!data || !*data) PetscFunctionReturn(0);
  free((*data)->x); /* the arrays are malloc'd: the readers hand over their buffers */
  free((*data)->labels);
  free((*data)->y);
  free((*data)->targets);
  PetscCall(PetscFree(*data));
  PetscFunctionReturn(0);
}

/* HessaDataLossTerms - not collective. The number of terms the loss is the mean of: the
 * predicted positions over all ranks for next-token targets, else the global sample count. */
PetscInt HessaDataLossTerms(HessaData data)
{
  return data->source == HESSA_DATA_TOKENS && data->seq_target == HESSA_SEQ_NEXT_TOKEN ? data->n_predicted : data->n_global;
}
