/* Shared by the libFuzzer harnesses: PETSc start-up, a per-process scratch folder
 * for the fuzzed bytes (the readers take paths), and the HessaArray invariants.
 * Header-only: each harness is one executable. */
#ifndef HESSA_FUZZ_COMMON_H
#define HESSA_FUZZ_COMMON_H

#include <hessa/data.h>
#include <sanitizer/lsan_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir[64]; /* /tmp/hessa-fuzz-<pid>: per process, so -jobs/-workers do not collide */

/* Crash on purpose so libFuzzer records the input. */
#define FUZZ_CHECK(cond, ...)                                                                                                                                                                                                                            \
  do {                                                                                                                                                                                                                                                   \
    if (!(cond)) {                                                                                                                                                                                                                                       \
      fprintf(stderr, "fuzz invariant violated (%s): ", #cond);                                                                                                                                                                                          \
      fprintf(stderr, __VA_ARGS__);                                                                                                                                                                                                                      \
      fputc('\n', stderr);                                                                                                                                                                                                                               \
      abort();                                                                                                                                                                                                                                           \
    }                                                                                                                                                                                                                                                    \
  } while (0)

static inline void FuzzCleanup(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", fuzz_dir);
  if (fuzz_dir[0] && system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

/* PETSc (and with it MPI) once per process; PETSc's signal handler would hide
 * crashes from the sanitizers, so it is switched off. Open MPI keeps what its
 * start-up allocates until exit (and the process never finalizes): allocations made
 * during this start-up are not leaks of the code under test, so LeakSanitizer
 * ignores them; everything a harness input allocates is still checked. */
static inline void FuzzInit(void)
{
  __lsan_disable();
  if (PetscOptionsSetValue(NULL, "-no_signal_handler", NULL) || PetscInitializeNoArguments()) abort();
  __lsan_enable();
  snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/hessa-fuzz-%ld", (long)getpid());
  if (mkdir(fuzz_dir, 0700) && access(fuzz_dir, W_OK)) abort();
  atexit(FuzzCleanup);
}

/* Write bytes to fuzz_dir/name; returns the path in a static buffer. */
static inline const char *FuzzWrite(const char *name, const uint8_t *data, size_t size)
{
  static char path[128];
  FILE       *f;
  snprintf(path, sizeof path, "%s/%s", fuzz_dir, name);
  f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) abort();
  return path;
}

/* After a reader call: on success the array must be consistent (then it is freed);
 * on a fault a message must be set and nothing may be allocated. */
static inline void FuzzCheckArray(HessaArray *a, const HessaStatus *st, int64_t first, int64_t count)
{
  if (st->code) {
    FUZZ_CHECK(a->values == NULL, "fault '%s' but values allocated", st->msg);
    FUZZ_CHECK(st->msg[0] != 0, "fault code %d without a message", (int)st->code);
    return;
  }
  int64_t prod = 1;
  FUZZ_CHECK(a->ndim >= 1 && a->ndim <= 4, "ndim %d", a->ndim);
  FUZZ_CHECK(a->rows == a->shape[0], "rows %lld != shape[0] %lld", (long long)a->rows, (long long)a->shape[0]);
  for (int d = 0; d < a->ndim; d++) FUZZ_CHECK(a->shape[d] >= 0, "negative dimension %d", d);
  for (int d = 0; d < a->ndim; d++) /* a zero dimension makes the product 0 whatever the others */
    if (a->shape[d] == 0) prod = 0;
  for (int d = 0; d < a->ndim && prod; d++) FUZZ_CHECK(!__builtin_mul_overflow(prod, a->shape[d], &prod), "shape product overflows");
  FUZZ_CHECK(prod == a->rows * a->row_length, "shape product %lld != rows*row_length", (long long)prod);
  FUZZ_CHECK(a->first == first, "first %lld, asked %lld", (long long)a->first, (long long)first);
  FUZZ_CHECK(count < 0 ? a->count == a->rows - first : a->count == count, "count %lld", (long long)a->count);
  if (a->count > 0 && a->row_length > 0) {
    FUZZ_CHECK(a->values != NULL, "count %lld but values NULL", (long long)a->count);
    /* touch every value: ASan catches a buffer shorter than count*row_length */
    volatile double sum = 0;
    for (int64_t k = 0; k < a->count * a->row_length; k++) sum += a->values[k];
    (void)sum;
  }
  HessaArrayFree(a);
}

#endif
