/* libFuzzer harness: HessaReadIDX on arbitrary bytes. The reader detects gzip by its
 * magic, so one harness reaches both the raw and the gzip paths (seeds hold both). */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  FuzzInit();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *path = FuzzWrite("input.idx", data, size);
  HessaArray  a    = {0};
  HessaStatus st   = {0};

  /* all rows */
  HessaReadIDX(path, 0, -1, &a, &st);
  FuzzCheckArray(&a, &st, 0, -1);
  /* the header only */
  memset(&st, 0, sizeof st);
  HessaReadIDX(path, 0, 0, &a, &st);
  FUZZ_CHECK(a.values == NULL, "count 0 allocated values");
  FuzzCheckArray(&a, &st, 0, 0);
  /* a row range, as a rank of a sharded load reads it */
  memset(&st, 0, sizeof st);
  HessaReadIDX(path, 1, 2, &a, &st);
  FuzzCheckArray(&a, &st, 1, 2);
  return 0;
}
