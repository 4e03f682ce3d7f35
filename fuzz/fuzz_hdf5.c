/* libFuzzer harness: HessaReadHDF5 on MPI_COMM_SELF (the serial path) on arbitrary
 * bytes, for the data set names the test file of tests/data/make_hdf5.c uses. */
#include "fuzz_common.h"
#include <hdf5.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  FuzzInit();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* as the reader does: no error printing */
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *sets[] = {"features", "labels", "features32", "pixels"};
  const char        *path   = FuzzWrite("input.h5", data, size);
  HessaArray         a      = {0};
  HessaStatus        st     = {0};

  /* every data set of the seed file, so each type and rank is reached */
  for (int k = 0; k < 4; k++) {
    memset(&st, 0, sizeof st);
    HessaReadHDF5(MPI_COMM_SELF, path, sets[k], 0, -1, &a, &st);
    FuzzCheckArray(&a, &st, 0, -1);
  }
  memset(&st, 0, sizeof st);
  HessaReadHDF5(MPI_COMM_SELF, path, "features", 1, 2, &a, &st);
  FuzzCheckArray(&a, &st, 1, 2);
  return 0;
}
