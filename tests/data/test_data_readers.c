/* The single-file readers and the NPY writer, on files with known contents.
 *   usage: test_data_readers -dir DATA_FILES   (made by make_test_data.py)
 * Each rank reads its own row range, so different ranks exercise different seeks.
 *  1. NPY tiny_x.npy holds x_ij = 3i + j + 0.5 (5 x 3 float64): rows [r, r+2) read
 *     exactly; count == 0 reads the header only (rows 5, row_length 3, nothing
 *     allocated); count < 0 reads to the end;
 *  2. IDX: the raw and the gzip copy of Fashion-MNIST t10k give bitwise the same rows
 *     [1000 r + 17, +5) (gzseek in a gzip stream vs a plain seek);
 *  3. HDF5 test.h5 (make_hdf5.c): rows [10 r + 3, +7) of 'features' equal
 *     ((7i + 13j) mod 29) / 4 - 3 exactly, and of the big-endian int32 'labels32' equal 3i mod 4;
 *  4. faults fill the status and allocate nothing: a missing file, rows past the end;
 *  5. HessaWriteNPY (float64 and int64) reads back exactly; the files are left as
 *     hessa_written_{f8,i8}_npP.npy (P = ranks) for check_written_npy.py, which
 *     loads them with numpy. */
#include <hessa/data.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static PetscErrorCode Run(void)
{
  char        dir[PETSC_MAX_PATH_LEN] = ".", path[PETSC_MAX_PATH_LEN + 64], path2[PETSC_MAX_PATH_LEN + 64];
  PetscMPIInt rank, size;
  HessaArray  a, b;
  HessaStatus st = {0};

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-dir", dir, sizeof dir, NULL));

  /* 1. NPY */
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/tiny_x.npy", dir));
  HessaReadNPY(path, rank % 4, 2, &a, &st);
  CHECK(!st.code, "%s", st.msg);
  CHECK(a.rows == 5 && a.row_length == 3 && a.first == rank % 4 && a.count == 2 && !a.is_integer && !strcmp(a.dtype, "float64"), "tiny_x.npy header read wrong");
  for (int64_t i = 0; i < 2; i++)
    for (int64_t j = 0; j < 3; j++) CHECK(a.values[i * 3 + j] == 3.0 * (double)(a.first + i) + (double)j + 0.5, "tiny_x.npy[%lld][%lld] = %g", (long long)(a.first + i), (long long)j, a.values[i * 3 + j]);
  HessaArrayFree(&a);
  HessaReadNPY(path, 0, 0, &a, &st);
  CHECK(!st.code && a.rows == 5 && a.row_length == 3 && a.count == 0 && a.values == NULL, "header-only read of tiny_x.npy");
  HessaReadNPY(path, 3, -1, &a, &st);
  CHECK(!st.code && a.count == 2 && a.values[5] == 14.5, "read to the end of tiny_x.npy");
  HessaArrayFree(&a);

  /* 2. IDX raw vs gzip */
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/t10k-images-raw.idx", dir));
  PetscCall(PetscSNPrintf(path2, sizeof path2, "%s/t10k-images-idx3-ubyte.gz", HESSA_FASHION_MNIST_DIR));
  HessaReadIDX(path, 1000 * rank + 17, 5, &a, &st);
  HessaReadIDX(path2, 1000 * rank + 17, 5, &b, &st);
  CHECK(!st.code, "%s", st.msg);
  CHECK(a.rows == 10000 && a.row_length == 784 && a.ndim == 3 && a.shape[1] == 28 && a.is_integer && !strcmp(a.dtype, "uint8"), "t10k IDX header read wrong");
  CHECK(!memcmp(a.values, b.values, 5 * 784 * sizeof(double)), "raw and gzip IDX rows differ");
  HessaArrayFree(&a);
  HessaArrayFree(&b);

  /* 3. HDF5, collective on PETSC_COMM_WORLD */
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/test.h5", dir));
  HessaReadHDF5(PETSC_COMM_WORLD, path, "features", 10 * rank + 3, 7, &a, &st);
  HessaReadHDF5(PETSC_COMM_WORLD, path, "labels32", 10 * rank + 3, 7, &b, &st);
  CHECK(!st.code, "%s", st.msg);
  CHECK(a.rows == 53 && a.row_length == 6 && !strcmp(a.dtype, "float64") && b.is_integer && !strcmp(b.dtype, "int32"), "test.h5 header read wrong");
  for (int64_t i = a.first; i < a.first + 7; i++) {
    CHECK(b.values[i - a.first] == (double)((3 * i) % 4), "labels32[%lld] = %g", (long long)i, b.values[i - a.first]);
    for (int64_t j = 0; j < 6; j++) CHECK(a.values[(i - a.first) * 6 + j] == ((7 * i + 13 * j) % 29) / 4.0 - 3.0, "features[%lld][%lld] = %g", (long long)i, (long long)j, a.values[(i - a.first) * 6 + j]);
  }
  HessaArrayFree(&a);
  HessaArrayFree(&b);

  /* 4. faults */
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/does-not-exist.npy", dir));
  HessaReadNPY(path, 0, -1, &a, &st);
  CHECK(st.code == HESSA_ERR_INPUT && strstr(st.msg, "cannot open") && a.values == NULL, "missing file: %s", st.msg);
  memset(&st, 0, sizeof st);
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/tiny_x.npy", dir));
  HessaReadNPY(path, 4, 2, &a, &st);
  CHECK(st.code && strstr(st.msg, "asked for rows [4, 6) but the file has 5 rows") && a.values == NULL, "rows past the end: %s", st.msg);
  memset(&st, 0, sizeof st);

  /* 5. writer round trip (rank 0 only; one file per rank count, as the tests may run at once) */
  if (rank == 0) {
    const int64_t shape2[2] = {3, 4}, shape1[1] = {5};
    double        v[12], w[5]                   = {-3, 0, 7, 1e15, -2};
    for (int k = 0; k < 12; k++) v[k] = 1.0 / (k + 1) - 0.25;
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/hessa_written_f8_np%d.npy", dir, (int)size));
    PetscCall(HessaWriteNPY(path, 2, shape2, v, 0));
    HessaReadNPY(path, 0, -1, &a, &st);
    CHECK(!st.code && a.ndim == 2 && a.rows == 3 && a.row_length == 4 && !memcmp(a.values, v, sizeof v), "float64 NPY round trip: %s", st.msg);
    HessaArrayFree(&a);
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/hessa_written_i8_np%d.npy", dir, (int)size));
    PetscCall(HessaWriteNPY(path, 1, shape1, w, 1));
    HessaReadNPY(path, 0, -1, &a, &st);
    CHECK(!st.code && a.ndim == 1 && a.rows == 5 && a.is_integer && !strcmp(a.dtype, "int64") && !memcmp(a.values, w, sizeof w), "int64 NPY round trip: %s", st.msg);
    HessaArrayFree(&a);
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
