/* Test helper (not a test): writes an HDF5 file with the serial HDF5 API, whose
 * contents are given by closed formulas that make_test_data.py re-evaluates with
 * numpy to produce the reference checksums. Every value is exact in its type.
 *   usage: make_hdf5 OUT.h5
 * Data sets (N = 53 samples):
 *   features     float64 (N, 6)      ((7i + 13j) mod 29) / 4 - 3
 *   labels       int64   (N,)        (5i + 3) mod 7
 *   features32   float32 (N, 2, 3)   ((11i + 5(3a + b)) mod 17) / 8 - 1, chunked + deflate
 *   labels32     int32   (N,)        3i mod 4
 *   pixels       uint8   (N, 8)      (37i + 101j) mod 256
 *   targets      float64 (N, 2)      (i - 26) / 8 + t
 *   labels_short int64   (N - 1,)    0            (bad input: count mismatch)
 *   features_nan float64 (N, 6)      as features, but NaN at sample 7, position 2 (bad input) */
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 53

static int Write(hid_t file, const char *name, hid_t file_type, hid_t mem_type, int ndim, const hsize_t *dims, const void *buf, int chunked)
{
  hid_t space = H5Screate_simple(ndim, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), dset;
  int   ok;
  if (chunked) {
    hsize_t chunk[4] = {8, 1, 1, 1};
    for (int d = 1; d < ndim; d++) chunk[d] = dims[d];
    H5Pset_chunk(dcpl, ndim, chunk);
    H5Pset_deflate(dcpl, 4);
  }
  dset = H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ok   = dset >= 0 && H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
  if (dset >= 0) H5Dclose(dset);
  H5Pclose(dcpl);
  H5Sclose(space);
  if (!ok) fprintf(stderr, "make_hdf5: cannot write data set '%s'\n", name);
  return ok;
}

int main(int argc, char **argv)
{
  static double  features[N][6], features_nan[N][6], targets[N][2];
  static float   features32[N][2][3];
  static int64_t labels[N], labels_short[N - 1];
  static int32_t labels32[N];
  static uint8_t pixels[N][8];
  hid_t          file;
  int            ok = 1;

  if (argc != 2) {
    fprintf(stderr, "usage: make_hdf5 OUT.h5\n");
    return 2;
  }
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < 6; j++) features[i][j] = features_nan[i][j] = ((7 * i + 13 * j) % 29) / 4.0 - 3.0;
    labels[i]   = (5 * i + 3) % 7;
    labels32[i] = (3 * i) % 4;
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 3; b++) features32[i][a][b] = (float)(((11 * i + 5 * (3 * a + b)) % 17) / 8.0 - 1.0);
    for (int j = 0; j < 8; j++) pixels[i][j] = (uint8_t)((37 * i + 101 * j) % 256);
    for (int t = 0; t < 2; t++) targets[i][t] = (i - 26) / 8.0 + t;
    if (i < N - 1) labels_short[i] = 0;
  }
  features_nan[7][2] = NAN;
  file               = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) {
    fprintf(stderr, "make_hdf5: cannot create '%s'\n", argv[1]);
    return 1;
  }
  {
    hsize_t d2[2] = {N, 6}, d1[1] = {N}, d3[3] = {N, 2, 3}, dp[2] = {N, 8}, dt[2] = {N, 2}, ds[1] = {N - 1};
    ok = ok && Write(file, "features", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, features, 0);
    ok = ok && Write(file, "labels", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, d1, labels, 0);
    ok = ok && Write(file, "features32", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d3, features32, 1);
    ok = ok && Write(file, "labels32", H5T_STD_I32BE, H5T_NATIVE_INT32, 1, d1, labels32, 0);
    ok = ok && Write(file, "pixels", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, dp, pixels, 0);
    ok = ok && Write(file, "targets", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dt, targets, 0);
    ok = ok && Write(file, "labels_short", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, ds, labels_short, 0);
    ok = ok && Write(file, "features_nan", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, features_nan, 0);
  }
  if (H5Fclose(file) < 0) ok = 0;
  return ok ? 0 : 1;
}
