/* Synthetic data sets. Every number is a pure function of (seed, stream, global
 * index) through hessa's counter-based streams, so each rank generates exactly its
 * own samples and the data set is the same for any number of ranks. */
#include "data_impl.h"
#include <stdlib.h>

/* Centres are drawn N(0, BLOBS_CENTRE_SCALE^2 I): with the default spread 0.5 the
 * blobs are well apart in any dimension, but not trivially far. */
#define BLOBS_CENTRE_SCALE 2.0

static PetscErrorCode AllocateShard(HessaData data, size_t per_sample, double **x)
{
  uint64_t bytes;

  PetscFunctionBegin;
  *x = NULL;
  if (data->n_local == 0 || per_sample == 0) PetscFunctionReturn(0);
  PetscCheck(HessaSizeMul((uint64_t)data->n_local * per_sample, sizeof(double), &bytes), PETSC_COMM_SELF, HESSA_ERR_ARG, "synthetic data set too large: %" PetscInt_FMT " samples of %zu values", data->n_local, per_sample);
  *x = calloc(bytes / sizeof(double), sizeof(double));
  PetscCheck(*x, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot allocate %llu bytes for %" PetscInt_FMT " synthetic samples", (unsigned long long)bytes, data->n_local);
  PetscFunctionReturn(0);
}

/* HessaDataGenerateBlobs - not collective (n_global, first, n_local must be set).
 * Sample i (global index) belongs to class i mod n_classes and is
 *   x_ij = c_{class,j} + spread * z_ij,
 *   c_kj = 2 * Normal(seed, HESSA_STREAM_DATA_CENTRES, k * dim + j),
 *   z_ij = Normal(seed, HESSA_STREAM_DATA_INPUTS, i * dim + j). */
PetscErrorCode HessaDataGenerateBlobs(HessaData data)
{
  const PetscInt dim = data->n_features, n_classes = data->n_classes;
  const uint64_t seed = (uint64_t)data->seed;
  double        *centres;

  PetscFunctionBegin;
  PetscCall(AllocateShard(data, (size_t)dim, &data->x));
  if (data->n_local > 0) {
    data->labels = malloc((size_t)data->n_local * sizeof(int));
    PetscCheck(data->labels, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot allocate blob labels");
  }
  PetscCall(PetscMalloc1((size_t)n_classes * (size_t)dim, &centres));
  for (PetscInt k = 0; k < n_classes; k++)
    for (PetscInt j = 0; j < dim; j++) centres[k * dim + j] = BLOBS_CENTRE_SCALE * HessaRandomNormal(seed, HESSA_STREAM_DATA_CENTRES, (uint64_t)k * (uint64_t)dim + (uint64_t)j);
  for (PetscInt i = 0; i < data->n_local; i++) {
    const uint64_t g     = (uint64_t)(data->first + i);
    const PetscInt label = (PetscInt)(g % (uint64_t)n_classes);
    double        *row   = data->x + (size_t)i * (size_t)dim;
    data->labels[i]      = (int)label;
    for (PetscInt j = 0; j < dim; j++) row[j] = centres[label * dim + j] + data->synth_spread * HessaRandomNormal(seed, HESSA_STREAM_DATA_INPUTS, g * (uint64_t)dim + (uint64_t)j);
  }
  PetscCall(PetscFree(centres));
  PetscFunctionReturn(0);
}

/* HessaDataGenerateGaussian - not collective (n_global, first, n_local, n_targets must
 * be set). x_ij = Normal(seed, HESSA_STREAM_DATA_INPUTS, i * dim + j); y = 0 (the
 * objective layer fills the targets, e.g. from a teacher network). */
PetscErrorCode HessaDataGenerateGaussian(HessaData data)
{
  const PetscInt dim  = data->n_features;
  const uint64_t seed = (uint64_t)data->seed;

  PetscFunctionBegin;
  PetscCall(AllocateShard(data, (size_t)dim, &data->x));
  PetscCall(AllocateShard(data, (size_t)data->n_targets, &data->y)); /* zeroed */
  for (PetscInt i = 0; i < data->n_local; i++) {
    const uint64_t g   = (uint64_t)(data->first + i);
    double        *row = data->x + (size_t)i * (size_t)dim;
    /* not HessaRandomFill: its PetscInt index would overflow for large sets */
    for (PetscInt j = 0; j < dim; j++) row[j] = HessaRandomNormal(seed, HESSA_STREAM_DATA_INPUTS, g * (uint64_t)dim + (uint64_t)j);
  }
  PetscFunctionReturn(0);
}
