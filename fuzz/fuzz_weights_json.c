/* libFuzzer harness: arbitrary bytes as model.json of a weight folder whose tensor
 * files are valid for a 3-4-2 MLP. HessaWeightsValidateManifest checks the schema
 * (whatever it accepts must read); HessaWeightsReadArch parses the architecture;
 * HessaWeightsRead then walks the fuzzed "tensors" list against the objective. */
#include "fuzz_weights.h"
#include <cJSON.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  FuzzWeightsInit();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  HessaMLPArch arch     = {0};
  HessaStatus  st       = {0};
  char         kind[64] = "";

  FuzzWrite("model.json", data, size);
  {
    /* the schema check alone: whatever it accepts, the architecture reader must accept */
    cJSON      *root = cJSON_ParseWithLength((const char *)data, size);
    HessaStatus vst  = {0};
    int         bad  = root ? HessaWeightsValidateManifest(root, "model.json", &vst) : 1;
    FUZZ_CHECK(!bad || !root || vst.msg[0], "schema fault without a message");
    cJSON_Delete(root);
    HessaWeightsReadArch(fuzz_dir, kind, &arch, &st);
    FUZZ_CHECK(bad || !st.code, "schema accepted but reading failed: %s", st.msg);
  }
  if (!st.code && !strcmp(kind, "mlp")) {
    FUZZ_CHECK(arch.n_layers >= 1 && arch.n_layers <= 15, "n_layers %d", (int)arch.n_layers);
    for (PetscInt i = 0; i <= arch.n_layers; i++) FUZZ_CHECK(arch.widths[i] >= 1, "widths[%d] = %d", (int)i, (int)arch.widths[i]);
  }
  FUZZ_CHECK(!st.code || st.msg[0], "fault without a message");

  memset(&st, 0, sizeof st);
  if (HessaWeightsRead(fuzz_dir, fuzz_obj, fuzz_theta, &st)) abort(); /* faults go to st */
  FUZZ_CHECK(!st.code || st.msg[0], "fault without a message");
  return 0;
}
