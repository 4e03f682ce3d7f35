/* The registry of random stream numbers (core.h) hands out disjoint ranges:
 * 1. every family [base, base + span) is non-empty and does not wrap around 2^64;
 * 2. no two families overlap (the derivative check used to share 1001 and 1002 with
 *    the synthetic data);
 * 3. the table lists every HESSA_STREAM_* macro with its value (names and bases match). */
#include <hessa/core.h>
#include <string.h>

static PetscErrorCode Run(void)
{
  int                      count;
  const HessaRandomStream *t = HessaRandomStreamTable(&count);
  const struct {
    const char *name;
    uint64_t    base;
  } macros[] = {
      {"HESSA_STREAM_DATA_CENTRES", HESSA_STREAM_DATA_CENTRES},
      {"HESSA_STREAM_DATA_INPUTS", HESSA_STREAM_DATA_INPUTS},
      {"HESSA_STREAM_QUADRATIC", HESSA_STREAM_QUADRATIC},
      {"HESSA_STREAM_ROTATIONS", HESSA_STREAM_ROTATIONS},
      {"HESSA_STREAM_MLP_INIT", HESSA_STREAM_MLP_INIT},
      {"HESSA_STREAM_CHECK", HESSA_STREAM_CHECK},
      {"HESSA_STREAM_SLQ", HESSA_STREAM_SLQ},
      {"HESSA_STREAM_TRACE", HESSA_STREAM_TRACE},
      {"HESSA_STREAM_LANDSCAPE", HESSA_STREAM_LANDSCAPE},
      {"HESSA_STREAM_TRAIN_BATCH", HESSA_STREAM_TRAIN_BATCH},
  };
  const int n_macros = (int)(sizeof macros / sizeof macros[0]);

  PetscFunctionBeginUser;
  PetscCheck(count == n_macros, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "registry has %d families, core.h defines %d", count, n_macros);
  for (int i = 0; i < count; i++) {
    PetscCheck(t[i].span >= 1 && t[i].base + t[i].span > t[i].base, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: empty or wrapping range", t[i].name);
    PetscCheck(!strcmp(t[i].name, macros[i].name) && t[i].base == macros[i].base, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "registry entry %d (%s) does not match %s", i, t[i].name, macros[i].name);
    for (int j = 0; j < i; j++) {
      PetscBool disjoint = t[i].base + t[i].span <= t[j].base || t[j].base + t[j].span <= t[i].base;
      PetscCheck(disjoint, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "stream ranges of %s and %s overlap", t[i].name, t[j].name);
    }
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
