/* Writes the small HDF5 seed of the fuzz_hdf5 corpus: the data set names the harness
 * reads (features float64 (3, 2) contiguous, labels int64 (3,), features32 float32
 * (3, 2, 1) chunked + deflate, pixels uint8 (3, 2); labels big-endian on purpose).
 * Usage: make_seed_hdf5 OUT.h5 */
#include <hdf5.h>
#include <stdio.h>

static int Write(hid_t file, const char *name, hid_t file_type, hid_t mem_type, int ndim, const hsize_t *dims, const void *buf, int chunked)
{
  hid_t space = H5Screate_simple(ndim, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), dset;
  int   ok;
  if (chunked) { /* exercises HDF5's filter pipeline in the reader */
    H5Pset_chunk(dcpl, ndim, dims);
    H5Pset_deflate(dcpl, 1);
  }
  dset = H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ok   = dset >= 0 && H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
  H5Dclose(dset);
  H5Pclose(dcpl);
  H5Sclose(space);
  return ok;
}

int main(int argc, char **argv)
{
  const double        features[6]   = {0.5, -1, 2, 0.25, 3, -4};
  const long long     labels[3]     = {0, 2, 1};
  const float         features32[6] = {1, 2, 3, 4, 5, 6};
  const unsigned char pixels[6]     = {0, 255, 7, 8, 9, 10};
  const hsize_t       d2[2] = {3, 2}, d1[1] = {3}, d3[3] = {3, 2, 1};
  hid_t               file;
  int                 ok;

  if (argc != 2) {
    fprintf(stderr, "usage: make_seed_hdf5 OUT.h5\n");
    return 2;
  }
  file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ok   = file >= 0 && Write(file, "features", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, features, 0) && Write(file, "labels", H5T_STD_I64BE, H5T_NATIVE_LLONG, 1, d1, labels, 0) &&
       Write(file, "features32", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d3, features32, 1) && Write(file, "pixels", H5T_STD_U8LE, H5T_NATIVE_UCHAR, 2, d2, pixels, 0);
  if (file >= 0) H5Fclose(file);
  return ok ? 0 : 1;
}
