/* A data set loaded on P ranks matches the independent reference of make_test_data.py.
 *   usage: test_data_checksum -case NAME -reference reference_checksums.txt
 * The reference line of the case gives the hessa options (inserted into the options
 * database) and the expected numbers, computed with numpy from the files it wrote
 * (or from Fashion-MNIST read with gzip + numpy). Asserted, at every rank count:
 *  1. n_global, n_features, n_classes, n_targets equal the reference exactly;
 *  2. the shards are HessaSplitRange's blocks: contiguous, in rank order, sum of
 *     n_local = n_global (also 5 samples and 2 samples on 3 ranks: an empty shard);
 *     an empty shard may have x == NULL, a non-empty one has x and labels or y;
 *  3. feature_sum and label_sum of HessaDataChecksum, and the sample-order-sensitive
 *     weighted_sum = sum_i (i+1) sum_j (j+1) x_ij, equal the reference to
 *     |hessa - ref| <= max(1e-9 |ref|, 1e-12 abs), abs = the same sum of absolute
 *     values: 1e-9 relative where terms do not cancel; where they do (standardized
 *     features sum to ~0) the bound is round-off of the absolute sum instead. */
#include <hessa/data.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  PetscInt n_global, n_features, n_classes, n_targets;
  double   sums[6]; /* feature, feature_abs, label, label_abs, weighted, weighted_abs */
  char     options[4096];
} Reference;

static PetscErrorCode ReadReference(const char *path, const char *name, Reference *ref)
{
  FILE     *f = fopen(path, "r");
  char      line[8192];
  PetscBool found = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCheck(f, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot open reference file '%s' (made by make_test_data.py)", path);
  while (!found && fgets(line, sizeof line, f)) {
    char *field[12], *save = NULL, *tok = strtok_r(line, "|\n", &save);
    int   n = 0;
    while (tok && n < 12) {
      field[n++] = tok;
      tok        = strtok_r(NULL, n == 11 ? "\n" : "|\n", &save);
    }
    if (n < 11 || strcmp(field[0], name)) continue;
    ref->n_global   = atoi(field[1]);
    ref->n_features = atoi(field[2]);
    ref->n_classes  = atoi(field[3]);
    ref->n_targets  = atoi(field[4]);
    for (int k = 0; k < 6; k++) ref->sums[k] = strtod(field[5 + k], NULL);
    PetscCall(PetscStrncpy(ref->options, n == 12 ? field[11] : "", sizeof ref->options));
    found = PETSC_TRUE;
  }
  fclose(f);
  PetscCheck(found, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "no case '%s' in '%s'", name, path);
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckSum(const char *what, double got, double ref, double abs_ref)
{
  const double tol = PetscMax(1e-9 * fabs(ref), 1e-12 * abs_ref);

  PetscFunctionBeginUser;
  PetscCheck(fabs(got - ref) <= tol, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s = %.17g but the reference is %.17g (difference %.3g, tolerance %.3g)", what, got, ref, fabs(got - ref), tol);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  char        name[256] = "", path[PETSC_MAX_PATH_LEN] = "";
  Reference   ref;
  HessaData   data;
  PetscMPIInt size, rank;
  double      fsum, lsum, wlocal = 0, wsum;
  PetscInt    mine[2], *all;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-case", name, sizeof name, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-reference", path, sizeof path, NULL));
  PetscCall(ReadReference(path, name, &ref));
  PetscCall(PetscOptionsInsertString(NULL, ref.options));

  PetscCall(HessaDataCreate(PETSC_COMM_WORLD, &data));
  PetscCall(HessaDataSetFromOptions(data));
  PetscCall(HessaDataLoad(data));

  /* 1. sizes */
  PetscCheck(data->n_global == ref.n_global && data->n_features == ref.n_features && data->n_classes == ref.n_classes && data->n_targets == ref.n_targets, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "%s: loaded %" PetscInt_FMT " x %" PetscInt_FMT " with %" PetscInt_FMT " classes and %" PetscInt_FMT " targets, reference %" PetscInt_FMT " x %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT, name, data->n_global, data->n_features,
             data->n_classes, data->n_targets, ref.n_global, ref.n_features, ref.n_classes, ref.n_targets);

  /* 2. shards: contiguous, in rank order, covering [0, n_global) once */
  mine[0] = data->first;
  mine[1] = data->n_local;
  PetscCall(PetscMalloc1(2 * (size_t)size, &all));
  PetscCallMPI(MPI_Allgather(mine, 2, MPIU_INT, all, 2, MPIU_INT, PETSC_COMM_WORLD));
  for (PetscMPIInt r = 0, next = 0; r < size; r++) {
    PetscCheck(all[2 * r] == next && all[2 * r + 1] >= 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: rank %d starts at %" PetscInt_FMT ", expected %d", name, (int)r, all[2 * r], (int)next);
    next += (PetscMPIInt)all[2 * r + 1];
    if (r == size - 1) PetscCheck(next == ref.n_global, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: shards cover %d samples, expected %" PetscInt_FMT, name, (int)next, ref.n_global);
  }
  PetscCall(PetscFree(all));
  if (data->n_local > 0 && data->n_features > 0) {
    PetscCheck(data->x, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: rank %d has %" PetscInt_FMT " samples but x is NULL", name, (int)rank, data->n_local);
    PetscCheck(data->n_targets ? data->y != NULL : data->labels != NULL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: rank %d has samples but no labels/targets", name, (int)rank);
  }

  /* 3. checksums */
  PetscCall(HessaDataChecksum(data, &fsum, &lsum));
  for (PetscInt i = 0; i < data->n_local; i++) {
    double s = 0;
    for (PetscInt j = 0; j < data->n_features; j++) s += (double)(j + 1) * data->x[(size_t)i * (size_t)data->n_features + (size_t)j];
    wlocal += (double)(data->first + i + 1) * s;
  }
  PetscCallMPI(MPI_Allreduce(&wlocal, &wsum, 1, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
  PetscCall(CheckSum("feature_sum", fsum, ref.sums[0], ref.sums[1]));
  PetscCall(CheckSum("label_sum", lsum, ref.sums[2], ref.sums[3]));
  PetscCall(CheckSum("weighted_sum", wsum, ref.sums[4], ref.sums[5]));
  PetscCall(HessaDataDestroy(&data));
  PetscCheck(data == NULL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "HessaDataDestroy must set the handle to NULL");
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
