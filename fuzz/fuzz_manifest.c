/* libFuzzer harness: arbitrary bytes as a study manifest (YAML). HessaManifestParse
 * must either fill a consistent list of points or record a message and leave nothing
 * allocated. Points may name folders under the scratch folder ("checkpoints: ..."),
 * so the folder expansion is reached too: the harness prepares one training folder
 * with two checkpoints and one folder without any. */
#include "fuzz_common.h"
#include <hessa/study.h>
#include <ctype.h>

static void MakeCheckpoint(const char *sub)
{
  char path[256];
  snprintf(path, sizeof path, "%s/%s", fuzz_dir, sub);
  if (mkdir(path, 0700) && access(path, W_OK)) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  FuzzInit();
  MakeCheckpoint("run");
  MakeCheckpoint("run/step-000010");
  MakeCheckpoint("run/step-000020");
  MakeCheckpoint("empty");
  FuzzWrite("run/step-000010/model.json", (const uint8_t *)"{}", 2);
  FuzzWrite("run/step-000020/model.json", (const uint8_t *)"{}", 2);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  HessaManifest m  = {0};
  HessaStatus   st = {0};

  if (HessaManifestParse((const char *)data, size, fuzz_dir, "fuzz.yaml", &m, &st)) abort(); /* faults go to st */
  if (st.code) {
    FUZZ_CHECK(st.msg[0] != 0, "fault without a message");
    FUZZ_CHECK(m.points == NULL && m.n_points == 0, "fault '%s' but points kept", st.msg);
    return 0;
  }
  FUZZ_CHECK(m.n_points >= 1 && m.points, "no points without a fault");
  for (PetscInt i = 0; i < m.n_points; i++) {
    const HessaStudyPoint *p   = &m.points[i];
    size_t                 len = strnlen(p->name, sizeof p->name);
    FUZZ_CHECK(len > 0 && len < sizeof p->name && p->name[0] != '.', "point %d: name", (int)i);
    for (size_t k = 0; k < len; k++) FUZZ_CHECK(isalnum((unsigned char)p->name[k]) || strchr("._-", p->name[k]), "point %d: name byte %d", (int)i, (int)(unsigned char)p->name[k]);
    FUZZ_CHECK(strnlen(p->weights, sizeof p->weights) > 0, "point %d: no weights", (int)i);
    FUZZ_CHECK(p->step >= -1, "point %d: step %d", (int)i, (int)p->step);
    for (PetscInt j = 0; j < i; j++) FUZZ_CHECK(strcmp(p->name, m.points[j].name), "points %d and %d share a name", (int)j, (int)i);
  }
  HessaManifestFree(&m);
  return 0;
}
