/* Internal helpers of the data layer (not installed, not part of the public API).
 *
 * Conventions shared by the readers:
 *  - every message a reader puts in a HessaStatus starts with "file '<path>': ",
 *    so HessaDataLoad can prefix the role ("features file '...': ...");
 *  - count == 0 reads the header only (rows, shape, dtype) and allocates nothing;
 *  - sizes from a file are checked with HessaSizeMul and against the file size
 *    before anything is allocated. */
#ifndef HESSA_DATA_IMPL_H
#define HESSA_DATA_IMPL_H

#include <hessa/data.h>
#include <stddef.h>

/* An element type of a file: kind 'f' (IEEE float), 'i' (signed) or 'u' (unsigned). */
typedef struct {
  char kind;
  int  size;       /* bytes per element: 1, 2, 4 or 8 */
  int  big_endian; /* byte order in the file */
} HessaDType;

/* "float32", "int64", "uint8", ... (a static string). */
const char *HessaDTypeName(const HessaDType *t);
/* Not collective: convert n elements of type t at src to doubles at dst. */
void HessaConvertToDouble(const unsigned char *src, size_t n, const HessaDType *t, double *dst);

/* Not collective: check that the array's rows hold no NaN or Inf; on a fault fill st
 * (naming the file and the sample index) and free the array. */
void HessaArrayCheckFinite(const char *path, HessaArray *a, HessaStatus *st);

/* Not collective: validate the requested rows [first, first+count) against a.rows
 * (count < 0 means "to the end") and store them in a; fills st on a fault. */
void HessaArraySetRange(const char *path, HessaArray *a, int64_t first, int64_t count, HessaStatus *st);

/* Not collective: "60000 rows of 784 uint8" or "100 int64 values", for messages. */
void HessaArrayDescribe(const HessaArray *a, char *buf, size_t len);
/* Not collective: the row length (product of shape[1..]) when every dimension and the
 * bytes of one row stay within 2^62, else -1. Needed besides the whole-array size
 * check: a zero dimension makes the array empty and would hide the others' overflow. */
int64_t HessaRowLength(int ndim, const uint64_t shape[], int item_size);
/* Not collective: "(60000, 28, 28)", for messages. */
void HessaShapeString(int ndim, const uint64_t shape[], char *buf, size_t len);

/* Collective on comm: every rank ends with the status of the lowest failing rank
 * (or all remain fine). Used before collective I/O, so no rank enters it alone. */
void HessaStatusAgree(MPI_Comm comm, HessaStatus *st);

/* Synthetic generators (synthetic.c). Not collective: fill this rank's shard. */
PetscErrorCode HessaDataGenerateBlobs(HessaData data);
PetscErrorCode HessaDataGenerateGaussian(HessaData data);

#endif
