/* hessa data: data set readers, synthetic generators, sharding.
 *
 * A HessaData holds only this rank's shard of the samples: samples are split in
 * contiguous blocks over the ranks of the communicator (HessaSplitRange), so a
 * rank never reads more than its share. An empty shard is legal.
 *
 * Life cycle: HessaDataCreate -> HessaDataSetFromOptions -> HessaDataLoad ->
 * (use) -> HessaDataDestroy.
 */
#ifndef HESSA_DATA_H
#define HESSA_DATA_H

#include <hessa/core.h>

typedef enum { HESSA_TASK_CLASSIFICATION, HESSA_TASK_REGRESSION } HessaTask;

typedef enum {
  HESSA_DATA_FASHION_MNIST, /* Debian's dataset-fashion-mnist (gzip IDX) */
  HESSA_DATA_IDX,           /* IDX files, gzip or raw: -hessa_data_features / -hessa_data_labels */
  HESSA_DATA_NPY,           /* NPY files */
  HESSA_DATA_HDF5,          /* one HDF5 file with a features and a labels data set */
  HESSA_DATA_BLOBS,         /* synthetic Gaussian blobs (classification) */
  HESSA_DATA_GAUSSIAN,      /* synthetic N(0,1) inputs with zero targets; used for teacher-student */
  HESSA_DATA_TOKENS,        /* integer token sequences (NPY [N, T]), next-token or class targets */
  HESSA_DATA_NONE           /* no samples: analytic objectives */
} HessaDataSource;

/* What a token sequence is asked to predict: every next token (language modelling: the
 * cross-entropy of each predicted position, averaged over all predicted positions) or one
 * class per sequence (labels file, as classification). */
typedef enum { HESSA_SEQ_NEXT_TOKEN, HESSA_SEQ_CLASS } HessaSeqTarget;

typedef enum { HESSA_SCALE_NONE, HESSA_SCALE_UNIT, HESSA_SCALE_STANDARDIZE } HessaDataScale;

typedef struct _p_HessaData *HessaData;
struct _p_HessaData {
  MPI_Comm        comm;
  HessaDataSource source;
  HessaTask       task;
  char            features_path[PETSC_MAX_PATH_LEN];
  char            labels_path[PETSC_MAX_PATH_LEN];
  char            hdf5_features[256], hdf5_labels[256]; /* data set names inside the HDF5 file */
  PetscBool       test_split;                           /* fashion-mnist: t10k instead of train */
  PetscInt        limit;                                /* take the first `limit` samples (-1: all) */
  HessaDataScale  scale;
  PetscInt        seed; /* synthetic generators */
  PetscInt        synth_samples, synth_features, synth_classes;
  PetscReal       synth_spread;                  /* blobs: std of each blob around its centre */
  PetscInt        synth_targets;                 /* gaussian: length of one (zero) target */
  PetscInt        pool;                          /* average-pool square images k x k (1: off) */
  HessaSeqTarget  seq_target;                    /* tokens: what is predicted */
  char            mask_path[PETSC_MAX_PATH_LEN]; /* tokens: optional padding mask [N, T] (0: padding) */
  PetscInt        vocab;                         /* tokens: ids must lie in [0, vocab); PETSC_DECIDE: max id + 1 */

  /* results of HessaDataLoad */
  PetscInt n_global;   /* samples over all ranks */
  PetscInt first;      /* global index of this rank's first sample */
  PetscInt n_local;    /* samples on this rank (may be 0) */
  PetscInt n_features; /* length of one sample */
  PetscInt n_classes;  /* classification: number of classes (labels in [0, n_classes)) */
  PetscInt n_targets;  /* regression: length of one target (0 for classification) */
  double  *x;          /* [n_local][n_features], row-major; NULL when n_local == 0 */
  int     *labels;     /* [n_local] (classification), else NULL */
  double  *y;          /* [n_local][n_targets] (regression), else NULL */
  /* tokens: x holds the ids as doubles [n_local][T] (exact: ids < 2^31), n_features = T */
  PetscInt seq_length;  /* tokens: T, the tokens per sequence; 0 for other sources */
  int     *targets;     /* next-token: [n_local][T] the token position t predicts (the id at t+1),
                           -1 where nothing counts (the last position, masked targets); else NULL */
  PetscInt n_predicted; /* next-token: predicted positions over all ranks (the loss is their mean) */
  /* x, labels, y and targets are malloc'd (readers hand over their buffers without a copy) */
  char description[512];
};

/* Collective. Defaults: Fashion-MNIST training set, pixels scaled to [0,1], all samples. */
PetscErrorCode HessaDataCreate(MPI_Comm comm, HessaData *data);
/* Collective. Options: -hessa_data_source, -hessa_data_features, -hessa_data_labels,
 * -hessa_data_hdf5_features, -hessa_data_hdf5_labels, -hessa_data_test, -hessa_data_limit,
 * -hessa_data_scale, -hessa_data_seed, -hessa_data_samples, -hessa_data_dim,
 * -hessa_data_classes, -hessa_data_spread, -hessa_data_targets, -hessa_data_task,
 * -hessa_data_target (tokens: next-token or class), -hessa_data_mask, -hessa_data_vocab.
 * The scale defaults to unit for fashion-mnist and to none for every other source. */
PetscErrorCode HessaDataSetFromOptions(HessaData data);
/* Collective. Reads (or generates) this rank's shard; any fault on any rank ends
 * every rank with one message naming the file, what was expected and what was found. */
PetscErrorCode HessaDataLoad(HessaData data);
/* Collective: global checksums (sum over all samples of sum_j (j+1) * x_ij, and
 * sum of (i+1) * label_i, or of (i+1) * sum_t y_it for regression, i the global
 * sample index), independent of the number of ranks up to round-off. */
PetscErrorCode HessaDataChecksum(HessaData data, double *feature_sum, double *label_sum);
/* Collective: rank 0 logs what was loaded and how it is sharded. */
PetscErrorCode HessaDataView(HessaData data);
PetscErrorCode HessaDataDestroy(HessaData *data);
/* Not collective: the number of terms the loss is the mean of (predicted positions for
 * next-token targets, else samples), over all ranks. */
PetscInt HessaDataLossTerms(HessaData data);

/* Single-file readers, used by HessaDataLoad and by the fuzz harnesses. They read
 * rows [first, first+count) of the file (count < 0: all; count == 0: the header
 * only, values stay NULL) and are not collective: on a fault they fill st (a
 * message starting "file '<path>': ") and return with nothing allocated. Sizes in a
 * header are checked for overflow and against the file before any allocation;
 * NaN or Inf in a float file is a fault naming the sample.
 * HessaArray is a dense array of up to 4 dimensions converted to double. */
typedef struct {
  int     ndim;
  int64_t shape[4];
  int64_t rows;         /* shape[0]: rows in the file */
  int64_t row_length;   /* product of shape[1..] */
  int64_t first, count; /* the rows that were read */
  double *values;       /* count * row_length doubles (malloc'd; free with free()) */
  int     is_integer;   /* the file's dtype was an integer type */
  char    dtype[16];    /* the file's element type: "uint8", "float32", "int64", ... */
} HessaArray;

void HessaArrayFree(HessaArray *a);
void HessaReadIDX(const char *path, int64_t first, int64_t count, HessaArray *out, HessaStatus *st);
void HessaReadNPY(const char *path, int64_t first, int64_t count, HessaArray *out, HessaStatus *st);
/* HDF5 reading is collective when comm is not MPI_COMM_SELF (parallel hyperslab read). */
void HessaReadHDF5(MPI_Comm comm, const char *path, const char *dataset, int64_t first, int64_t count, HessaArray *out, HessaStatus *st);
/* Write a float64 (or int64 when is_integer) NPY file (version 1 header). */
PetscErrorCode HessaWriteNPY(const char *path, int ndim, const int64_t shape[], const double *values, int as_int64);

#endif
