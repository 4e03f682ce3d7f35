/* libFuzzer harness: a valid model.json for a 3-4-2 MLP with arbitrary bytes as the
 * NPY file of its first tensor (layers.0.weight, shape (4, 3)) -> HessaWeightsRead. */
#include "fuzz_weights.h"
#include <math.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  FuzzWeightsInit();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  HessaStatus st = {0};

  FuzzWrite("layers.0.weight.npy", data, size);
  for (PetscInt i = 0; i < fuzz_obj->n; i++) fuzz_theta[i] = NAN;
  if (HessaWeightsRead(fuzz_dir, fuzz_obj, fuzz_theta, &st)) abort(); /* faults go to st */
  FUZZ_CHECK(!st.code || st.msg[0], "fault without a message");
  /* accepted weights are finite and fill every parameter */
  if (!st.code)
    for (PetscInt i = 0; i < fuzz_obj->n; i++) FUZZ_CHECK(isfinite(fuzz_theta[i]), "theta[%d] not set or not finite", (int)i);
  return 0;
}
