/* libFuzzer harness: arbitrary bytes as a command line. The bytes are split into argv
 * words at NUL bytes and whitespace, inserted into a fresh options database and checked
 * by HessaOptionsCheck (known names, closest spelling, numeric ranges, list items).
 * Every input must end in "accepted" or one error with a message; nothing may crash,
 * leak or read out of bounds. Words that make PETSc open files (-options_file...) or
 * change its prefix stack are dropped: they test PETSc, not hessa. */
#include "fuzz_common.h"
#include <hessa/core.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  FuzzInit();
  /* a fault must come back as an error code, quietly */
  if (PetscPushErrorHandler(PetscReturnErrorHandler, NULL)) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  PetscOptions opts;
  char        *text, *line;
  size_t       used = 0;

  if (size > 4096) return 0;
  text = malloc(size + 1);
  line = malloc(size + 2);
  if (!text || !line) abort();
  memcpy(text, data, size);
  text[size] = 0;
  /* argv words: NUL and whitespace separate; quotes are PETSc's business and dropped */
  for (char *w = strtok(text, " \t\r\n\v\f\"'"); w; w = strtok(NULL, " \t\r\n\v\f\"'")) {
    if (strstr(w, "options_file") || strstr(w, "prefix_p") || strstr(w, "-help") || strstr(w, "options_monitor")) continue;
    used += (size_t)snprintf(line + used, size + 2 - used, "%s ", w);
  }
  line[used] = 0;
  if (PetscOptionsCreate(&opts)) abort();
  if (!PetscOptionsInsertString(opts, line)) {
    PetscErrorCode code = HessaOptionsCheck(PETSC_COMM_SELF, opts);
    (void)code; /* an error is a fine answer; a crash or a leak is not */
  }
  if (PetscOptionsDestroy(&opts)) abort();
  free(text);
  free(line);
  return 0;
}
