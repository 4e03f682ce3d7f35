/* IDX reader (the MNIST / Fashion-MNIST format), gzip-compressed or raw.
 *
 * Layout: bytes 00 00 <dtype> <ndim>, then ndim big-endian uint32 dimensions, then
 * the elements, big-endian, C order. Both kinds of file are read through zlib
 * (gzread reads raw files as they are); the gzip magic only decides how the
 * header's claim is checked against the file before anything is allocated:
 * exactly for a raw file, and against deflate's best ratio (1032:1) for gzip. A
 * truncated gzip stream is found when the rows are read. */
#include "data_impl.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define HESSA_DEFLATE_MAX_RATIO 1032
#define HESSA_READ_CHUNK (1u << 20)

static int IDXDType(unsigned char code, HessaDType *t)
{
  t->big_endian = 1;
  switch (code) {
  case 0x08:
    t->kind = 'u';
    t->size = 1;
    return 1;
  case 0x09:
    t->kind = 'i';
    t->size = 1;
    return 1;
  case 0x0B:
    t->kind = 'i';
    t->size = 2;
    return 1;
  case 0x0C:
    t->kind = 'i';
    t->size = 4;
    return 1;
  case 0x0D:
    t->kind = 'f';
    t->size = 4;
    return 1;
  case 0x0E:
    t->kind = 'f';
    t->size = 8;
    return 1;
  default:
    return 0;
  }
}

/* Decompressed bytes in the whole file (used only to word an error message). */
static uint64_t GzipStreamLength(const char *path)
{
  gzFile        f = gzopen(path, "rb");
  unsigned char buf[1 << 16];
  uint64_t      total = 0;
  int           n;

  if (!f) return 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) total += (uint64_t)n;
  gzclose(f);
  return total;
}

static int FileIsGzip(const char *path)
{
  unsigned char magic[2] = {0, 0};
  FILE         *f        = fopen(path, "rb");
  size_t        n;

  if (!f) return 0;
  n = fread(magic, 1, 2, f);
  fclose(f);
  return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

/* Read the header into out and check it against the file; returns the header size. */
static int64_t ReadHeader(const char *path, gzFile f, int is_gzip, uint64_t file_size, HessaArray *out, HessaDType *t, HessaStatus *st)
{
  unsigned char head[4], dims[16];
  uint64_t      shape[4], elements = 1, data_bytes, header_bytes;
  char          desc[128], shape_str[128];
  int           n, ndim;

  n = gzread(f, head, 4);
  if (n < 4) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': too short for an IDX header: expected at least 4 bytes, found %d%s", path, n < 0 ? 0 : n, is_gzip ? " after decompression" : "");
    return -1;
  }
  if (head[0] != 0 || head[1] != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': not an IDX file: expected magic bytes 00 00 <type> <ndim>, found %02x %02x %02x %02x", path, head[0], head[1], head[2], head[3]);
    return -1;
  }
  if (!IDXDType(head[2], t)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': unsupported IDX data type 0x%02x (expected 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32 or 0x0e float64)", path, head[2]);
    return -1;
  }
  ndim = head[3];
  if (ndim < 1 || ndim > 4) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': IDX header says %d dimensions; hessa reads 1 to 4", path, ndim);
    return -1;
  }
  n = gzread(f, dims, (unsigned)(4 * ndim));
  if (n < 4 * ndim) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': truncated header: %d dimensions need %d bytes, found %d", path, ndim, 4 + 4 * ndim, 4 + (n < 0 ? 0 : n));
    return -1;
  }
  for (int d = 0; d < ndim; d++) shape[d] = ((uint64_t)dims[4 * d] << 24) | ((uint64_t)dims[4 * d + 1] << 16) | ((uint64_t)dims[4 * d + 2] << 8) | dims[4 * d + 3];
  for (int d = 0; d < ndim; d++) {
    if (!HessaSizeMul(elements, shape[d], &elements)) elements = UINT64_MAX;
  }
  if (elements == UINT64_MAX || !HessaSizeMul(elements, (uint64_t)t->size, &data_bytes)) {
    HessaShapeString(ndim, shape, shape_str, sizeof shape_str);
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': header claims shape %s of %s, more than 2^62 bytes: corrupt header", path, shape_str, HessaDTypeName(t));
    return -1;
  }
  if ((out->row_length = HessaRowLength(ndim, shape, t->size)) < 0) {
    HessaShapeString(ndim, shape, shape_str, sizeof shape_str);
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': header claims shape %s of %s, a row of more than 2^62 bytes: corrupt header", path, shape_str, HessaDTypeName(t));
    return -1;
  }
  out->ndim = ndim;
  for (int d = 0; d < ndim; d++) out->shape[d] = (int64_t)shape[d];
  out->rows       = (int64_t)shape[0];
  out->is_integer = t->kind != 'f';
  snprintf(out->dtype, sizeof out->dtype, "%s", HessaDTypeName(t));
  header_bytes = 4 + 4 * (uint64_t)ndim;
  HessaArrayDescribe(out, desc, sizeof desc);
  if (!is_gzip && file_size - header_bytes != data_bytes) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s: header says %s (%llu bytes of data) but the file has %llu bytes of data", path, file_size - header_bytes < data_bytes ? "truncated" : "size mismatch", desc, (unsigned long long)data_bytes,
                   (unsigned long long)(file_size - header_bytes));
    return -1;
  }
  if (is_gzip && data_bytes / HESSA_DEFLATE_MAX_RATIO > file_size) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': header says %s (%llu bytes of data) but a gzip file of %llu bytes holds at most about %llu bytes (deflate compresses at most %d:1): truncated file or corrupt header", path, desc,
                   (unsigned long long)data_bytes, (unsigned long long)file_size, (unsigned long long)file_size * HESSA_DEFLATE_MAX_RATIO, HESSA_DEFLATE_MAX_RATIO);
    return -1;
  }
  return (int64_t)header_bytes;
}

/* Read count rows starting at the stream's current position into out->values. */
static void ReadRows(const char *path, gzFile f, int is_gzip, int64_t header_bytes, const HessaDType *t, HessaArray *out, HessaStatus *st)
{
  const uint64_t row_bytes = (uint64_t)out->row_length * (uint64_t)t->size;
  uint64_t       total, done = 0, n_values, alloc_bytes;
  unsigned char *buf;
  const size_t   chunk = HESSA_READ_CHUNK - HESSA_READ_CHUNK % (size_t)t->size;

  /* sizes are below 2^62 bytes: checked against the header */
  total    = (uint64_t)out->count * row_bytes;
  n_values = (uint64_t)out->count * (uint64_t)out->row_length;
  if (!HessaSizeMul(n_values, sizeof(double), &alloc_bytes) || !(out->values = malloc(alloc_bytes ? alloc_bytes : 1))) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot allocate %llu bytes for rows [%lld, %lld)", path, (unsigned long long)alloc_bytes, (long long)out->first, (long long)(out->first + out->count));
    return;
  }
  if (!(buf = malloc(chunk))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "file '%s': cannot allocate a read buffer", path);
    HessaArrayFree(out);
    return;
  }
  while (done < total) {
    size_t want = total - done < chunk ? (size_t)(total - done) : chunk;
    int    got  = gzread(f, buf, (unsigned)want);
    if (got < (int)want) {
      int         errnum = Z_OK;
      const char *zmsg   = gzerror(f, &errnum);
      char        desc[128];
      HessaArrayDescribe(out, desc, sizeof desc);
      if (errnum == Z_DATA_ERROR || errnum == Z_ERRNO || errnum == Z_MEM_ERROR)
        HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s data is corrupt or unreadable after %llu bytes of data (zlib: %s)", path, is_gzip ? "gzip" : "IDX", (unsigned long long)(out->first * row_bytes + done + (got > 0 ? (uint64_t)got : 0)),
                       errnum == Z_ERRNO ? strerror(errno) : zmsg);
      else {
        uint64_t have = is_gzip ? GzipStreamLength(path) : 0;
        HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': truncated: header says %s (%llu bytes of data) but the %s holds %llu bytes of data", path, desc, (unsigned long long)((uint64_t)out->rows * row_bytes), is_gzip ? "gzip stream" : "file",
                       (unsigned long long)(have > (uint64_t)header_bytes ? have - (uint64_t)header_bytes : 0));
      }
      free(buf);
      HessaArrayFree(out);
      return;
    }
    HessaConvertToDouble(buf, want / (size_t)t->size, t, out->values + done / (uint64_t)t->size);
    done += want;
  }
  free(buf);
}

/* HessaReadIDX - not collective. Reads rows [first, first+count) (count < 0: to the
 * end; count == 0: header only) of a gzip or raw IDX file into out, converted to
 * double. On a fault fills st and returns with nothing allocated. */
void HessaReadIDX(const char *path, int64_t first, int64_t count, HessaArray *out, HessaStatus *st)
{
  struct stat sb;
  gzFile      f;
  HessaDType  t;
  int         is_gzip;
  int64_t     header_bytes;

  memset(out, 0, sizeof *out);
  /* a regular file only: a FIFO or a device could block the read forever */
  if (!HessaCheckRegularFile(path, "file", "an IDX file", st)) return;
  if (stat(path, &sb) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot open: %s", path, strerror(errno));
    return;
  }
  if (sb.st_size == 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': empty file (0 bytes), expected an IDX file (gzip or raw)", path);
    return;
  }
  is_gzip = FileIsGzip(path);
  if (!(f = gzopen(path, "rb"))) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot open: %s", path, errno ? strerror(errno) : "zlib could not open it");
    return;
  }
  gzbuffer(f, 1u << 17);
  header_bytes = ReadHeader(path, f, is_gzip, (uint64_t)sb.st_size, out, &t, st);
  if (header_bytes >= 0) HessaArraySetRange(path, out, first, count, st);
  if (st->code || out->count == 0) {
    gzclose(f);
    if (st->code) HessaArrayFree(out);
    return;
  }
  /* gzseek on a gzip stream decompresses and discards up to the offset */
  if (out->first > 0 && gzseek(f, (z_off_t)(header_bytes + out->first * out->row_length * t.size), SEEK_SET) < 0) {
    int errnum;
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot seek to row %lld (zlib: %s)", path, (long long)out->first, gzerror(f, &errnum));
    gzclose(f);
    HessaArrayFree(out);
    return;
  }
  ReadRows(path, f, is_gzip, header_bytes, &t, out, st);
  gzclose(f);
  if (!st->code) HessaArrayCheckFinite(path, out, st);
}
