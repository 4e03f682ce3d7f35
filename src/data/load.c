/* HessaDataLoad: pick this rank's shard, read or generate it, convert the labels and
 * scale the features.
 *
 * File sources go in three steps, each ended by HessaSyncError so that a fault on
 * any rank ends every rank with the same message: (1) read both headers and check
 * that they agree, (2) read this rank's rows of features and labels, (3) check the
 * labels (integers, in range) and agree on the number of classes. */
#include "data_impl.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Readers start their messages with "file '...'"; name the file's role in front. */
static void PrefixRole(HessaStatus *st, const char *role)
{
  size_t len = strlen(role);
  if (!st->code || strncmp(st->msg, "file '", 6) != 0) return;
  /* shift the message right (dropping its tail if it no longer fits) */
  memmove(st->msg + len + 1, st->msg, sizeof st->msg - len - 1);
  memcpy(st->msg, role, len);
  st->msg[len]                = ' ';
  st->msg[sizeof st->msg - 1] = 0;
}

/* Read rows [first, first+count) of the features (is_labels = 0) or labels file,
 * then agree over all ranks: collective on data->comm. */
static PetscErrorCode ReadPart(HessaData data, int is_labels, int64_t first, int64_t count, HessaArray *a)
{
  HessaStatus st   = {0};
  const char *path = is_labels ? data->labels_path : data->features_path;

  PetscFunctionBegin;
  switch (data->source) {
  case HESSA_DATA_NPY:
  case HESSA_DATA_TOKENS:
    HessaReadNPY(path, first, count, a, &st);
    break;
  case HESSA_DATA_HDF5:
    HessaReadHDF5(data->comm, data->features_path, is_labels ? data->hdf5_labels : data->hdf5_features, first, count, a, &st);
    break;
  default:
    HessaReadIDX(path, first, count, a, &st);
    break;
  }
  PrefixRole(&st, is_labels ? "labels" : data->source == HESSA_DATA_TOKENS ? "tokens" : "features");
  PetscCall(HessaSyncError(data->comm, &st));
  PetscFunctionReturn(0);
}

/* Which files to read; collective (every rank sees the same options). */
static PetscErrorCode ResolvePaths(HessaData data)
{
  const char *split = data->test_split ? "t10k" : "train";

  PetscFunctionBegin;
  if (data->source == HESSA_DATA_FASHION_MNIST) {
    if (!data->features_path[0]) PetscCall(PetscSNPrintf(data->features_path, sizeof data->features_path, "%s/%s-images-idx3-ubyte.gz", HESSA_FASHION_MNIST_DIR, split));
    if (!data->labels_path[0]) PetscCall(PetscSNPrintf(data->labels_path, sizeof data->labels_path, "%s/%s-labels-idx1-ubyte.gz", HESSA_FASHION_MNIST_DIR, split));
  }
  if (data->source == HESSA_DATA_HDF5) {
    PetscCheck(data->features_path[0], data->comm, HESSA_ERR_ARG, "-hessa_data_source hdf5 needs -hessa_data_features FILE.h5 (with data sets '%s' and '%s')", data->hdf5_features, data->hdf5_labels);
    PetscCall(PetscStrncpy(data->labels_path, data->features_path, sizeof data->labels_path));
  }
  PetscCheck(data->features_path[0] && data->labels_path[0], data->comm, HESSA_ERR_ARG, "-hessa_data_source %s needs -hessa_data_features FILE and -hessa_data_labels FILE", data->source == HESSA_DATA_NPY ? "npy" : "idx");
  PetscFunctionReturn(0);
}

/* Turn this rank's label values into int class labels; collective (agrees on faults
 * and on the number of classes). */
static PetscErrorCode ConvertLabels(HessaData data, HessaArray *la)
{
  HessaStatus st        = {0};
  double      local_max = -1, global_max;
  const char *given     = data->synth_classes == PETSC_DECIDE ? NULL : "-hessa_data_classes";

  PetscFunctionBegin;
  if (data->n_local > 0 && !(data->labels = malloc((size_t)data->n_local * sizeof(int)))) HessaStatusSet(&st, PETSC_ERR_MEM, "cannot allocate %" PetscInt_FMT " labels", data->n_local);
  for (PetscInt i = 0; i < data->n_local && !st.code; i++) {
    const double  v = la->values[i];
    const int64_t g = (int64_t)data->first + i;
    if (v != floor(v))
      HessaStatusSet(&st, HESSA_ERR_INPUT, "labels file '%s': sample %lld has label %g, not an integer class (use -hessa_data_task regression for real-valued targets)", data->labels_path, (long long)g, v);
    else if (v < 0)
      HessaStatusSet(&st, HESSA_ERR_INPUT, "labels file '%s': sample %lld has label %.0f; class labels must be in [0, number of classes)", data->labels_path, (long long)g, v);
    else if (given && v >= (double)data->synth_classes)
      HessaStatusSet(&st, HESSA_ERR_INPUT, "labels file '%s': sample %lld has label %.0f, outside [0, %" PetscInt_FMT ") set by -hessa_data_classes %" PetscInt_FMT, data->labels_path, (long long)g, v, data->synth_classes, data->synth_classes);
    else if (v >= (double)PETSC_MAX_INT)
      HessaStatusSet(&st, HESSA_ERR_INPUT, "labels file '%s': sample %lld has label %.0f, too large for a class index", data->labels_path, (long long)g, v);
    else {
      data->labels[i] = (int)v;
      local_max       = PetscMax(local_max, v);
    }
  }
  PetscCall(HessaSyncError(data->comm, &st));
  PetscCallMPI(MPI_Allreduce(&local_max, &global_max, 1, MPI_DOUBLE, MPI_MAX, data->comm));
  data->n_classes = given ? data->synth_classes : (PetscInt)global_max + 1;
  PetscFunctionReturn(0);
}

static PetscErrorCode LoadFiles(HessaData data, char *features_dtype, size_t dtype_len)
{
  HessaArray  fh, lh, fa, la; /* headers, then this rank's rows */
  PetscMPIInt size, rank;
  const char *source = data->source == HESSA_DATA_NPY ? "npy" : data->source == HESSA_DATA_HDF5 ? "hdf5" : data->source == HESSA_DATA_IDX ? "idx" : data->test_split ? "fashion-mnist t10k" : "fashion-mnist train";
  char        fdesc[128], limited[64] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(data->comm, &size));
  PetscCallMPI(MPI_Comm_rank(data->comm, &rank));
  PetscCall(ResolvePaths(data));
  /* (1) headers: every rank reads them (they are small) and reaches the same verdict */
  PetscCall(ReadPart(data, 0, 0, 0, &fh));
  PetscCall(ReadPart(data, 1, 0, 0, &lh));
  if (data->source == HESSA_DATA_HDF5)
    PetscCheck(fh.rows == lh.rows, data->comm, HESSA_ERR_INPUT, "file '%s': features data set '%s' has %lld samples but labels data set '%s' has %lld", data->features_path, data->hdf5_features, (long long)fh.rows, data->hdf5_labels,
               (long long)lh.rows);
  PetscCheck(fh.rows == lh.rows, data->comm, HESSA_ERR_INPUT, "features file '%s' has %lld samples but labels file '%s' has %lld", data->features_path, (long long)fh.rows, data->labels_path, (long long)lh.rows);
  PetscCheck(fh.rows > 0, data->comm, HESSA_ERR_INPUT, "features file '%s' has no samples", data->features_path);
  PetscCheck(fh.rows <= PETSC_MAX_INT && fh.row_length <= PETSC_MAX_INT, data->comm, HESSA_ERR_INPUT, "features file '%s' has %lld samples of %lld values; this PETSc build counts with 32-bit integers (at most %d)", data->features_path,
             (long long)fh.rows, (long long)fh.row_length, (int)PETSC_MAX_INT);
  if (data->task == HESSA_TASK_CLASSIFICATION)
    PetscCheck(lh.row_length == 1, data->comm, HESSA_ERR_INPUT, "labels file '%s' has %lld values per sample; classification needs one class label per sample (use -hessa_data_task regression for vector targets)", data->labels_path,
               (long long)lh.row_length);
  else
    PetscCheck(lh.ndim <= 2, data->comm, HESSA_ERR_INPUT, "labels file '%s' has %d dimensions; regression targets must be 1-D (one per sample) or 2-D (samples x targets)", data->labels_path, lh.ndim);

  /* (2) this rank's rows only */
  data->n_global = data->limit > 0 ? PetscMin((PetscInt)fh.rows, data->limit) : (PetscInt)fh.rows;
  HessaSplitRange(data->n_global, size, rank, &data->first, &data->n_local);
  data->n_features = (PetscInt)fh.row_length;
  PetscCall(ReadPart(data, 0, data->first, data->n_local, &fa));
  data->x = fa.values; /* hand over the buffer: no copy of the largest array */
  PetscCall(ReadPart(data, 1, data->first, data->n_local, &la));
  if (data->task == HESSA_TASK_REGRESSION) {
    data->n_targets = (PetscInt)lh.row_length;
    data->y         = la.values;
    la.values       = NULL;
  } else {
    PetscErrorCode ierr = ConvertLabels(data, &la);
    HessaArrayFree(&la);
    PetscCall(ierr);
  }

  /* (3) what was loaded, for HessaDataView */
  PetscCall(PetscSNPrintf(features_dtype, dtype_len, "%s", fh.dtype));
  HessaArrayDescribe(&fh, fdesc, sizeof fdesc);
  if (data->n_global < (PetscInt)fh.rows) PetscCall(PetscSNPrintf(limited, sizeof limited, ", using the first %" PetscInt_FMT, data->n_global));
  if (data->source == HESSA_DATA_HDF5)
    PetscCall(PetscSNPrintf(data->description, sizeof data->description, "hdf5 '%s': data set '%s' (%s%s), labels data set '%s' (%s)", data->features_path, data->hdf5_features, fdesc, limited, data->hdf5_labels, lh.dtype));
  else
    PetscCall(PetscSNPrintf(data->description, sizeof data->description, "%s: features '%s' (%s%s), labels '%s' (%s)", source, data->features_path, fdesc, limited, data->labels_path, lh.dtype));
  PetscFunctionReturn(0);
}

/* Per-feature mean 0 and standard deviation 1 over the samples of all ranks
 * (population std); a constant feature (std below 1e-12 max(1, |mean|)) becomes 0. */
/* Average-pool each sample, read as a square side x side image, over k x k blocks
 * (after the unit scaling, before standardization). Not collective: the feature count is
 * the same on every rank, so every rank raises the same error. */
static PetscErrorCode Pool(HessaData data)
{
  PetscInt k = data->pool, side = (PetscInt)llround(sqrt((double)data->n_features)), out, n_out;
  double  *x;

  PetscFunctionBegin;
  PetscCheck(side * side == data->n_features && side % k == 0, data->comm, HESSA_ERR_ARG, "-hessa_data_pool %" PetscInt_FMT ": expected square images whose side is a multiple of %" PetscInt_FMT ", found %" PetscInt_FMT " features per sample", k, k,
             data->n_features);
  out   = side / k;
  n_out = out * out;
  x     = malloc((size_t)PetscMax(data->n_local, 1) * (size_t)n_out * sizeof(double)); /* readers hand over malloc'd buffers: keep x malloc'd */
  PetscCheck(x, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory pooling the features (%" PetscInt_FMT " samples x %" PetscInt_FMT ")", data->n_local, n_out);
  for (PetscInt i = 0; i < data->n_local; i++) {
    const double *img = data->x + (size_t)i * (size_t)data->n_features;
    for (PetscInt r = 0; r < out; r++)
      for (PetscInt c = 0; c < out; c++) {
        double sum = 0;
        for (PetscInt a = 0; a < k; a++)
          for (PetscInt b = 0; b < k; b++) sum += img[(r * k + a) * side + c * k + b];
        x[(size_t)i * (size_t)n_out + (size_t)(r * out + c)] = sum / (double)(k * k);
      }
  }
  free(data->x);
  data->x = data->n_local ? x : NULL;
  if (!data->n_local) free(x);
  data->n_features = n_out;
  PetscFunctionReturn(0);
}

static PetscErrorCode Standardize(HessaData data)
{
  const PetscInt d = data->n_features;
  double        *sum, *mean, *sq, *var;

  PetscFunctionBegin;
  if (data->n_global == 0 || d == 0) PetscFunctionReturn(0);
  PetscCall(PetscCalloc4(d, &sum, d, &mean, d, &sq, d, &var));
  for (PetscInt i = 0; i < data->n_local; i++)
    for (PetscInt j = 0; j < d; j++) sum[j] += data->x[(size_t)i * (size_t)d + (size_t)j];
  PetscCallMPI(MPI_Allreduce(sum, mean, (PetscMPIInt)d, MPI_DOUBLE, MPI_SUM, data->comm));
  for (PetscInt j = 0; j < d; j++) mean[j] /= (double)data->n_global;
  /* two passes: no cancellation for features with a large mean */
  for (PetscInt i = 0; i < data->n_local; i++)
    for (PetscInt j = 0; j < d; j++) {
      double r = data->x[(size_t)i * (size_t)d + (size_t)j] - mean[j];
      sq[j] += r * r;
    }
  PetscCallMPI(MPI_Allreduce(sq, var, (PetscMPIInt)d, MPI_DOUBLE, MPI_SUM, data->comm));
  for (PetscInt j = 0; j < d; j++) {
    double sd = sqrt(var[j] / (double)data->n_global);
    var[j]    = sd <= 1e-12 * PetscMax(1.0, fabs(mean[j])) ? 0.0 : 1.0 / sd; /* now: the factor */
  }
  for (PetscInt i = 0; i < data->n_local; i++)
    for (PetscInt j = 0; j < d; j++) {
      double *v = &data->x[(size_t)i * (size_t)d + (size_t)j];
      *v        = var[j] == 0.0 ? 0.0 : (*v - mean[j]) * var[j];
    }
  PetscCall(PetscFree4(sum, mean, sq, var));
  PetscFunctionReturn(0);
}

/* Token sequences: the tokens file [N, T] of integer ids, the optional mask [N, T] and, for
 * class targets, the labels file [N]. Collective; every fault ends every rank with one
 * message naming the file, the sequence and the position. */
static PetscErrorCode LoadTokens(HessaData data)
{
  HessaArray  th, mh, ta, ma = {0};
  HessaStatus st = {0};
  PetscMPIInt size, rank;
  PetscInt    T, local_count = 0;
  double      local_max = -1, global_max;
  char        sh[64], limited[64] = "";
  const char *tokens = data->features_path;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(data->comm, &size));
  PetscCallMPI(MPI_Comm_rank(data->comm, &rank));
  PetscCheck(tokens[0], data->comm, HESSA_ERR_ARG, "-hessa_data_source tokens needs -hessa_data_features TOKENS.npy (integer token ids, shape (N, T))");
  if (data->seq_target == HESSA_SEQ_CLASS)
    PetscCheck(data->labels_path[0], data->comm, HESSA_ERR_ARG, "-hessa_data_target class needs -hessa_data_labels LABELS.npy (one class per sequence)");
  else
    PetscCheck(!data->labels_path[0], data->comm, HESSA_ERR_ARG, "-hessa_data_labels '%s': next-token targets come from the tokens themselves; labels are for -hessa_data_target class", data->labels_path);

  /* (1) headers */
  PetscCall(ReadPart(data, 0, 0, 0, &th));
  PetscCheck(th.is_integer && th.ndim == 2, data->comm, HESSA_ERR_INPUT, "tokens file '%s': expected integer token ids (int32 or int64) of shape (sequences, tokens), found %s of %d dimension%s", tokens, th.dtype, th.ndim, th.ndim == 1 ? "" : "s");
  PetscCheck(th.rows > 0 && th.shape[1] > 0, data->comm, HESSA_ERR_INPUT, "tokens file '%s' holds no tokens (shape (%lld, %lld))", tokens, (long long)th.rows, (long long)th.shape[1]);
  PetscCheck(th.rows <= PETSC_MAX_INT && th.shape[1] <= PETSC_MAX_INT, data->comm, HESSA_ERR_INPUT, "tokens file '%s' has %lld sequences of %lld tokens; this PETSc build counts with 32-bit integers", tokens, (long long)th.rows,
             (long long)th.shape[1]);
  T = (PetscInt)th.shape[1];
  PetscCall(PetscSNPrintf(sh, sizeof sh, "(%lld, %lld)", (long long)th.rows, (long long)T));
  if (data->mask_path[0]) {
    HessaReadNPY(data->mask_path, 0, 0, &mh, &st);
    PrefixRole(&st, "mask");
    PetscCall(HessaSyncError(data->comm, &st));
    PetscCheck(mh.ndim == 2 && mh.rows == th.rows && mh.shape[1] == T, data->comm, HESSA_ERR_INPUT, "mask file '%s': expected shape %s as the tokens file '%s', found %s of %d dimension%s (shape[0] %lld, row length %lld)", data->mask_path, sh, tokens,
               mh.dtype, mh.ndim, mh.ndim == 1 ? "" : "s", (long long)mh.rows, (long long)mh.row_length);
    PetscCheck(mh.is_integer, data->comm, HESSA_ERR_INPUT, "mask file '%s': expected bool or integer 0/1 values, found %s", data->mask_path, mh.dtype);
  }
  if (data->seq_target == HESSA_SEQ_CLASS) {
    HessaArray lh;
    PetscCall(ReadPart(data, 1, 0, 0, &lh));
    PetscCheck(lh.rows == th.rows && lh.row_length == 1, data->comm, HESSA_ERR_INPUT, "labels file '%s': expected one class per sequence (%lld values) as the tokens file '%s' has %lld sequences, found %lld rows of %lld", data->labels_path,
               (long long)th.rows, tokens, (long long)th.rows, (long long)lh.rows, (long long)lh.row_length);
  }

  /* (2) this rank's whole sequences */
  data->n_global = data->limit > 0 ? PetscMin((PetscInt)th.rows, data->limit) : (PetscInt)th.rows;
  HessaSplitRange(data->n_global, size, rank, &data->first, &data->n_local);
  data->n_features = data->seq_length = T;
  PetscCall(ReadPart(data, 0, data->first, data->n_local, &ta));
  data->x = ta.values; /* ids as doubles, exact */
  if (data->mask_path[0]) {
    HessaReadNPY(data->mask_path, data->first, data->n_local, &ma, &st);
    PrefixRole(&st, "mask");
    PetscCall(HessaSyncError(data->comm, &st));
  }

  /* (3) ids in range, mask 0/1 */
  for (PetscInt i = 0; i < data->n_local && !st.code; i++)
    for (PetscInt t = 0; t < T && !st.code; t++) {
      const double  v = data->x[(size_t)i * (size_t)T + (size_t)t];
      const int64_t g = (int64_t)data->first + i;
      if (v < 0 || (data->vocab != PETSC_DECIDE && v >= (double)data->vocab) || v >= (double)PETSC_MAX_INT)
        HessaStatusSet(&st, HESSA_ERR_INPUT, "tokens file '%s': sequence %lld, position %" PetscInt_FMT ": token id %.0f is outside the vocabulary [0, %" PetscInt_FMT ")%s", tokens, (long long)g, t, v,
                       data->vocab != PETSC_DECIDE ? data->vocab : (PetscInt)PETSC_MAX_INT, data->vocab != PETSC_DECIDE ? " (-hessa_data_vocab)" : "");
      else if (ma.values && ma.values[(size_t)i * (size_t)T + (size_t)t] != 0 && ma.values[(size_t)i * (size_t)T + (size_t)t] != 1)
        HessaStatusSet(&st, HESSA_ERR_INPUT, "mask file '%s': sequence %lld, position %" PetscInt_FMT ": value %g; expected 0 (padding) or 1 (counts)", data->mask_path, (long long)g, t, ma.values[(size_t)i * (size_t)T + (size_t)t]);
      else
        local_max = PetscMax(local_max, v);
    }
  if (!st.code && data->seq_target == HESSA_SEQ_NEXT_TOKEN && data->n_local > 0 && !(data->targets = malloc((size_t)data->n_local * (size_t)T * sizeof(int))))
    HessaStatusSet(&st, PETSC_ERR_MEM, "cannot allocate the targets of %" PetscInt_FMT " sequences of %" PetscInt_FMT " tokens", data->n_local, T);
  if (!st.code && data->targets)
    for (PetscInt i = 0; i < data->n_local; i++)
      for (PetscInt t = 0; t < T; t++) {
        const size_t next       = (size_t)i * (size_t)T + (size_t)t + 1;
        const int    use        = t + 1 < T && (!ma.values || ma.values[next] != 0);
        data->targets[next - 1] = use ? (int)data->x[next] : -1;
        local_count += use;
      }
  HessaArrayFree(&ma);
  PetscCall(HessaSyncError(data->comm, &st));
  PetscCallMPI(MPI_Allreduce(&local_max, &global_max, 1, MPI_DOUBLE, MPI_MAX, data->comm));
  data->n_classes = data->vocab != PETSC_DECIDE ? data->vocab : (PetscInt)global_max + 1;
  if (data->seq_target == HESSA_SEQ_NEXT_TOKEN) {
    PetscCallMPI(MPI_Allreduce(&local_count, &data->n_predicted, 1, MPIU_INT, MPI_SUM, data->comm));
    PetscCheck(data->n_predicted > 0, data->comm, HESSA_ERR_INPUT, "tokens file '%s'%s%s: no position has a next token to predict (sequences of %" PetscInt_FMT " tokens%s)", tokens, data->mask_path[0] ? " with mask file " : "", data->mask_path, T,
               data->mask_path[0] ? ", every target masked" : "");
  } else {
    HessaArray     la;
    PetscErrorCode ierr;
    PetscCall(ReadPart(data, 1, data->first, data->n_local, &la));
    ierr = ConvertLabels(data, &la); /* sets n_classes from the labels */
    HessaArrayFree(&la);
    PetscCall(ierr);
  }
  if (data->n_global < (PetscInt)th.rows) PetscCall(PetscSNPrintf(limited, sizeof limited, ", using the first %" PetscInt_FMT, data->n_global));
  {
    char mask[PETSC_MAX_PATH_LEN + 16] = "", labels[PETSC_MAX_PATH_LEN + 16] = "";
    if (data->mask_path[0]) PetscCall(PetscSNPrintf(mask, sizeof mask, ", mask '%s'", data->mask_path));
    if (data->seq_target == HESSA_SEQ_CLASS) PetscCall(PetscSNPrintf(labels, sizeof labels, " in '%s'", data->labels_path));
    PetscCall(PetscSNPrintf(data->description, sizeof data->description, "tokens: '%s' (%s %s%s)%s, %s targets%s", tokens, sh, th.dtype, limited, mask, data->seq_target == HESSA_SEQ_NEXT_TOKEN ? "next-token" : "class", labels));
  }
  PetscFunctionReturn(0);
}

/* HessaDataLoad - collective on data->comm. Reads (or generates) this rank's
 * contiguous block of samples (HessaSplitRange of the first -hessa_data_limit
 * samples), converts the labels, and applies the scaling. Any fault on any rank
 * ends every rank with one message naming the file, what was expected and what was
 * found. May be called again: the previous shard is freed. */
PetscErrorCode HessaDataLoad(HessaData data)
{
  PetscMPIInt size, rank;
  char        dtype[16] = "";

  PetscFunctionBegin;
  free(data->x);
  free(data->labels);
  free(data->y);
  free(data->targets);
  data->targets    = NULL;
  data->seq_length = data->n_predicted = 0;
  data->x                              = NULL;
  data->y                              = NULL;
  data->labels                         = NULL;
  data->n_global = data->first = data->n_local = data->n_features = data->n_classes = data->n_targets = 0;
  PetscCallMPI(MPI_Comm_size(data->comm, &size));
  PetscCallMPI(MPI_Comm_rank(data->comm, &rank));
  switch (data->source) {
  case HESSA_DATA_NONE:
    PetscCall(PetscStrncpy(data->description, "none (no samples: analytic objective)", sizeof data->description));
    break;
  case HESSA_DATA_BLOBS:
  case HESSA_DATA_GAUSSIAN:
    data->n_global   = data->limit > 0 ? PetscMin(data->synth_samples, data->limit) : data->synth_samples;
    data->n_features = data->synth_features;
    HessaSplitRange(data->n_global, size, rank, &data->first, &data->n_local);
    if (data->source == HESSA_DATA_BLOBS) {
      data->n_classes = data->synth_classes == PETSC_DECIDE ? 3 : data->synth_classes;
      PetscCall(HessaDataGenerateBlobs(data));
      PetscCall(PetscSNPrintf(data->description, sizeof data->description, "blobs: %" PetscInt_FMT " Gaussian blobs in %" PetscInt_FMT " dimensions, spread %g, seed %" PetscInt_FMT, data->n_classes, data->n_features, (double)data->synth_spread,
                              data->seed));
    } else {
      data->n_targets = data->synth_targets;
      PetscCall(HessaDataGenerateGaussian(data));
      PetscCall(PetscSNPrintf(data->description, sizeof data->description, "gaussian: N(0,1) inputs in %" PetscInt_FMT " dimensions, %" PetscInt_FMT " zero target%s (filled by the objective), seed %" PetscInt_FMT, data->n_features, data->n_targets,
                              data->n_targets > 1 ? "s" : "", data->seed));
    }
    break;
  case HESSA_DATA_TOKENS:
    PetscCall(LoadTokens(data));
    break;
  default:
    PetscCall(LoadFiles(data, dtype, sizeof dtype));
  }
  if (data->scale == HESSA_SCALE_UNIT && data->source != HESSA_DATA_NONE) {
    if (dtype[0])
      PetscCheck(!strcmp(dtype, "uint8"), data->comm, HESSA_ERR_ARG, "-hessa_data_scale unit divides uint8 pixel values by 255, but the features in '%s' are %s; use -hessa_data_scale none or standardize", data->features_path, dtype);
    else
      SETERRQ(data->comm, HESSA_ERR_ARG, "-hessa_data_scale unit divides uint8 pixel values by 255, but this source generates floating-point features; use -hessa_data_scale none or standardize");
    for (size_t k = 0; k < (size_t)data->n_local * (size_t)data->n_features; k++) data->x[k] /= 255.0;
  }
  if (data->pool > 1 && data->source != HESSA_DATA_NONE) {
    size_t len = strlen(data->description);
    PetscCall(Pool(data));
    PetscCall(PetscSNPrintf(data->description + len, sizeof data->description - len, ", pooled %" PetscInt_FMT "x%" PetscInt_FMT " to %" PetscInt_FMT " features", data->pool, data->pool, data->n_features));
  }
  if (data->scale == HESSA_SCALE_STANDARDIZE) PetscCall(Standardize(data));
  PetscFunctionReturn(0);
}
