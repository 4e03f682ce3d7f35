/* libFuzzer harness: HessaReadHDF5 on MPI_COMM_SELF (the serial path) on arbitrary
 * bytes, for data set names of the seed files. Besides the array invariants, every
 * HDF5 handle the reader opened must be closed again (HDF5 keeps unclosed handles
 * reachable in its id tables, so LeakSanitizer would not see them). */
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
    FUZZ_CHECK(H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL) == 0, "%ld HDF5 handles left open reading '%s'", (long)H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL), sets[k]);
  }
  memset(&st, 0, sizeof st);
  HessaReadHDF5(MPI_COMM_SELF, path, "features", 1, 2, &a, &st);
  FuzzCheckArray(&a, &st, 1, 2);
  return 0;
}
