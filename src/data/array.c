/* HessaArray helpers shared by the readers: element types and their conversion to
 * double, row-range validation, NaN/Inf checks, shape strings for messages, and
 * agreement on a status before collective I/O. */
#include "data_impl.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* HessaArrayFree - not collective. Frees the values and resets the array. */
void HessaArrayFree(HessaArray *a)
{
  if (!a) return;
  free(a->values);
  memset(a, 0, sizeof *a);
}

/* HessaDTypeName - not collective: "float32", "int64", "uint8", ... */
const char *HessaDTypeName(const HessaDType *t)
{
  switch (t->kind) {
  case 'f':
    return t->size == 4 ? "float32" : t->size == 8 ? "float64" : "float?";
  case 'i':
    return t->size == 1 ? "int8" : t->size == 2 ? "int16" : t->size == 4 ? "int32" : t->size == 8 ? "int64" : "int?";
  case 'u':
    return t->size == 1 ? "uint8" : t->size == 2 ? "uint16" : t->size == 4 ? "uint32" : t->size == 8 ? "uint64" : "uint?";
  default:
    return "unknown";
  }
}

/* Assemble a size-byte unsigned integer from bytes in the file's order. */
static inline uint64_t LoadBits(const unsigned char *p, int size, int big_endian)
{
  uint64_t v = 0;
  if (big_endian)
    for (int b = 0; b < size; b++) v = (v << 8) | p[b];
  else
    for (int b = size - 1; b >= 0; b--) v = (v << 8) | p[b];
  return v;
}

/* HessaConvertToDouble - not collective. Byte order is handled by assembling each
 * element from its bytes, so the code does not depend on the host's order. */
void HessaConvertToDouble(const unsigned char *src, size_t n, const HessaDType *t, double *dst)
{
  const int size = t->size;

  if (t->kind == 'u' && size == 1) { /* the common case: image pixels */
    for (size_t k = 0; k < n; k++) dst[k] = (double)src[k];
    return;
  }
  for (size_t k = 0; k < n; k++) {
    uint64_t bits = LoadBits(src + k * (size_t)size, size, t->big_endian);
    if (t->kind == 'f') {
      if (size == 4) {
        uint32_t b32 = (uint32_t)bits;
        float    f;
        memcpy(&f, &b32, sizeof f);
        dst[k] = (double)f;
      } else {
        double d;
        memcpy(&d, &bits, sizeof d);
        dst[k] = d;
      }
    } else if (t->kind == 'i') {
      /* sign-extend from size bytes */
      int shift = 64 - 8 * size;
      dst[k]    = (double)((int64_t)(bits << shift) >> shift);
    } else {
      dst[k] = (double)bits;
    }
  }
}

/* HessaArraySetRange - not collective. Checks [first, first+count) against a->rows
 * (count < 0: to the end) and stores the range in a; fills st if it does not fit. */
void HessaArraySetRange(const char *path, HessaArray *a, int64_t first, int64_t count, HessaStatus *st)
{
  if (first < 0 || first > a->rows) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': asked for rows from %lld but the file has %lld rows", path, (long long)first, (long long)a->rows);
    return;
  }
  if (count < 0) count = a->rows - first;
  if (count > a->rows - first) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': asked for rows [%lld, %lld) but the file has %lld rows", path, (long long)first, (long long)(first + count), (long long)a->rows);
    return;
  }
  a->first = first;
  a->count = count;
}

/* HessaArrayCheckFinite - not collective. A float array must hold only finite
 * values: the first NaN/Inf fills st with the file, sample and position, and the
 * array is freed. Integer arrays are finite by construction. */
void HessaArrayCheckFinite(const char *path, HessaArray *a, HessaStatus *st)
{
  /* rows of length 0 hold nothing to check (and there may be 2^31 of them) */
  if (a->is_integer || !a->values || a->row_length == 0) return;
  for (int64_t r = 0; r < a->count; r++) {
    const double *row = a->values + r * a->row_length;
    for (int64_t j = 0; j < a->row_length; j++) {
      if (!isfinite(row[j])) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': row %lld has %s at position %lld (of %lld values per row); hessa needs finite numbers", path, (long long)(a->first + r), isnan(row[j]) ? "NaN" : "Inf", (long long)j, (long long)a->row_length);
        HessaArrayFree(a);
        return;
      }
    }
  }
}

/* HessaRowLength - not collective. See data_impl.h. */
int64_t HessaRowLength(int ndim, const uint64_t shape[], int item_size)
{
  const uint64_t limit = (uint64_t)1 << 62;
  uint64_t       row   = 1, bytes;

  for (int d = 0; d < ndim; d++)
    if (shape[d] > limit || (d > 0 && !HessaSizeMul(row, shape[d], &row))) return -1;
  return HessaSizeMul(row, (uint64_t)item_size, &bytes) ? (int64_t)row : -1;
}

/* HessaShapeString - not collective: numpy's notation, "(60000, 28, 28)" or "(5,)". */
void HessaShapeString(int ndim, const uint64_t shape[], char *buf, size_t len)
{
  size_t used = 0;
  used += (size_t)snprintf(buf, len, "(");
  for (int d = 0; d < ndim && used < len; d++) used += (size_t)snprintf(buf + used, len - used, "%s%llu", d ? ", " : "", (unsigned long long)shape[d]);
  if (used < len) snprintf(buf + used, len - used, ndim == 1 ? ",)" : ")");
}

/* HessaArrayDescribe - not collective: "60000 rows of 784 uint8" or "100 int64 values". */
void HessaArrayDescribe(const HessaArray *a, char *buf, size_t len)
{
  if (a->ndim <= 1)
    snprintf(buf, len, "%lld %s values", (long long)a->rows, a->dtype);
  else
    snprintf(buf, len, "%lld rows of %lld %s", (long long)a->rows, (long long)a->row_length, a->dtype);
}

/* HessaStatusAgree - collective on comm. Like HessaSyncError, but leaves the agreed
 * status in st instead of raising, so a reader can return it. */
void HessaStatusAgree(MPI_Comm comm, HessaStatus *st)
{
  int rank, mine, lowest, code;

  MPI_Comm_rank(comm, &rank);
  mine = st->code ? rank : PETSC_MPI_INT_MAX;
  MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, comm);
  if (lowest == PETSC_MPI_INT_MAX) return;
  code = (int)st->code;
  MPI_Bcast(st->msg, (int)sizeof st->msg, MPI_CHAR, lowest, comm);
  MPI_Bcast(&code, 1, MPI_INT, lowest, comm);
  st->msg[sizeof st->msg - 1] = 0;
  st->code                    = (PetscErrorCode)code;
}
