/* NPY reader and writer (numpy's .npy format, versions 1.0, 2.0 and 3.0).
 *
 * Layout: "\x93NUMPY", major, minor, header length (uint16 LE for 1.0, uint32 LE for
 * 2.0/3.0), a Python dict literal {'descr': '<f8', 'fortran_order': False,
 * 'shape': (n, d), } padded with spaces and a newline, then the data. The dict is
 * parsed as a small Python literal (either quote style, any key order, any
 * spacing, trailing commas, unknown keys with simple values skipped). */
#include "data_impl.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define HESSA_NPY_MAX_HEADER (1u << 20) /* numpy itself refuses headers above 10000 bytes by default */
#define HESSA_READ_CHUNK (1u << 20)

/* ---- header dict parsing --------------------------------------------------------- */
typedef struct {
  const char *p, *begin, *end;
  char        why[160]; /* what the parser expected, for the message */
} Cursor;

static void SkipSpace(Cursor *c)
{
  while (c->p < c->end && isspace((unsigned char)*c->p)) c->p++;
}

static int Expect(Cursor *c, char ch)
{
  SkipSpace(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  snprintf(c->why, sizeof c->why, "expected '%c' at offset %d", ch, (int)(c->p - c->begin));
  return 0;
}

static int ParseString(Cursor *c, char *buf, size_t len)
{
  char   quote;
  size_t n = 0;

  SkipSpace(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) {
    snprintf(c->why, sizeof c->why, "expected a quoted string at offset %d", (int)(c->p - c->begin));
    return 0;
  }
  quote = *c->p++;
  while (c->p < c->end && *c->p != quote) {
    if (n + 1 < len) buf[n++] = *c->p;
    c->p++;
  }
  buf[n] = 0;
  if (c->p >= c->end) {
    snprintf(c->why, sizeof c->why, "unterminated string");
    return 0;
  }
  c->p++;
  return 1;
}

static int ParseBool(Cursor *c, int *value)
{
  SkipSpace(c);
  if (c->end - c->p >= 4 && !strncmp(c->p, "True", 4)) {
    *value = 1;
    c->p += 4;
    return 1;
  }
  if (c->end - c->p >= 5 && !strncmp(c->p, "False", 5)) {
    *value = 0;
    c->p += 5;
    return 1;
  }
  snprintf(c->why, sizeof c->why, "expected True or False at offset %d", (int)(c->p - c->begin));
  return 0;
}

/* A tuple of non-negative integers: "()", "(5,)", "(3, 4)", "(3L, 4L)". */
static int ParseShape(Cursor *c, uint64_t shape[], int max_dims, int *ndim)
{
  *ndim = 0;
  if (!Expect(c, '(')) return 0;
  for (;;) {
    SkipSpace(c);
    if (c->p < c->end && *c->p == ')') {
      c->p++;
      return 1;
    }
    if (c->p >= c->end || !isdigit((unsigned char)*c->p)) {
      snprintf(c->why, sizeof c->why, "expected a dimension at offset %d", (int)(c->p - c->begin));
      return 0;
    }
    {
      uint64_t v = 0;
      while (c->p < c->end && isdigit((unsigned char)*c->p)) {
        unsigned digit = (unsigned)(*c->p++ - '0');
        if (v > (UINT64_MAX - digit) / 10) {
          snprintf(c->why, sizeof c->why, "dimension %d does not fit in 64 bits", *ndim);
          return 0;
        }
        v = v * 10 + digit;
      }
      if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) c->p++;
      if (*ndim >= max_dims) {
        snprintf(c->why, sizeof c->why, "more than %d dimensions", max_dims);
        return 0;
      }
      shape[(*ndim)++] = v;
    }
    SkipSpace(c);
    if (c->p < c->end && *c->p == ',')
      c->p++;
    else if (!(c->p < c->end && *c->p == ')')) {
      snprintf(c->why, sizeof c->why, "expected ',' or ')' in the shape at offset %d", (int)(c->p - c->begin));
      return 0;
    }
  }
}

/* Skip a value of a key we do not use: a string, a word, a number or a tuple. */
static int SkipValue(Cursor *c)
{
  int depth = 0;
  SkipSpace(c);
  if (c->p < c->end && (*c->p == '\'' || *c->p == '"')) {
    char tmp[8];
    return ParseString(c, tmp, sizeof tmp);
  }
  while (c->p < c->end && (depth > 0 || (*c->p != ',' && *c->p != '}'))) {
    if (*c->p == '(' || *c->p == '[') depth++;
    if (*c->p == ')' || *c->p == ']') depth--;
    c->p++;
  }
  return c->p < c->end;
}

typedef struct {
  char     descr[64];
  int      fortran_order, have_descr, have_order, have_shape, ndim;
  uint64_t shape[8];
} NPYHeader;

static int ParseHeader(Cursor *c, NPYHeader *h)
{
  memset(h, 0, sizeof *h);
  if (!Expect(c, '{')) return 0;
  for (;;) {
    char key[64];
    SkipSpace(c);
    if (c->p < c->end && *c->p == '}') break;
    if (!ParseString(c, key, sizeof key) || !Expect(c, ':')) return 0;
    if (!strcmp(key, "descr")) {
      SkipSpace(c);
      if (c->p < c->end && *c->p == '[') {
        snprintf(c->why, sizeof c->why, "structured dtype (a list of fields) is not supported");
        return 0;
      }
      if (!ParseString(c, h->descr, sizeof h->descr)) return 0;
      h->have_descr = 1;
    } else if (!strcmp(key, "fortran_order")) {
      if (!ParseBool(c, &h->fortran_order)) return 0;
      h->have_order = 1;
    } else if (!strcmp(key, "shape")) {
      if (!ParseShape(c, h->shape, 8, &h->ndim)) return 0;
      h->have_shape = 1;
    } else if (!SkipValue(c)) {
      snprintf(c->why, sizeof c->why, "cannot parse the value of key '%s'", key);
      return 0;
    }
    SkipSpace(c);
    if (c->p < c->end && *c->p == ',')
      c->p++;
    else if (!(c->p < c->end && *c->p == '}')) {
      snprintf(c->why, sizeof c->why, "expected ',' or '}' at offset %d", (int)(c->p - c->begin));
      return 0;
    }
  }
  if (!h->have_descr || !h->have_order || !h->have_shape) {
    snprintf(c->why, sizeof c->why, "missing key '%s'", !h->have_descr ? "descr" : !h->have_order ? "fortran_order" : "shape");
    return 0;
  }
  return 1;
}

/* '<f8', '>i4', '|u1', '=f4', ... -> t. */
static int NPYDType(const char *descr, HessaDType *t)
{
  char     order = descr[0], *endp;
  long     size;
  uint16_t probe = 1;
  int      host_big;

  if (!order || !strchr("<>|=", order) || !strchr("fiub", descr[1])) return 0;
  errno = 0;
  size  = strtol(descr + 2, &endp, 10);
  if (errno || *endp || endp == descr + 2) return 0;
  if (descr[1] == 'b' && size != 1) return 0;
  t->kind = descr[1] == 'b' ? 'u' : descr[1]; /* numpy's bool: one byte 0 or 1, read as uint8 */
  t->size = (int)size;
  if (t->kind == 'f' && size != 4 && size != 8) return 0;
  if (t->kind != 'f' && size != 1 && size != 2 && size != 4 && size != 8) return 0;
  if (order == '|' && size != 1) return 0;
  host_big      = *(unsigned char *)&probe == 0;
  t->big_endian = order == '>' || (order == '=' && host_big);
  return 1;
}

/* Read and check the header; leaves f at the first data byte and returns its offset. */
static int64_t ReadHeader(const char *path, FILE *f, uint64_t file_size, HessaArray *out, HessaDType *t, HessaStatus *st)
{
  unsigned char pre[12];
  uint64_t      hlen, prefix, data_bytes, elements = 1;
  char         *text;
  Cursor        c;
  NPYHeader     h;
  char          desc[128], shape_str[160];

  if (file_size < 10 || fread(pre, 1, 10, f) != 10) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': too short for an NPY header: expected at least 10 bytes, found %llu", path, (unsigned long long)file_size);
    return -1;
  }
  if (memcmp(pre, "\x93NUMPY", 6) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': not an NPY file: expected magic bytes 93 4e 55 4d 50 59 (\\x93NUMPY), found %02x %02x %02x %02x %02x %02x", path, pre[0], pre[1], pre[2], pre[3], pre[4], pre[5]);
    return -1;
  }
  if (pre[6] == 1) {
    hlen   = (uint64_t)pre[8] | ((uint64_t)pre[9] << 8);
    prefix = 10;
  } else if (pre[6] == 2 || pre[6] == 3) {
    if (fread(pre + 10, 1, 2, f) != 2) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': truncated NPY header", path);
      return -1;
    }
    hlen   = (uint64_t)pre[8] | ((uint64_t)pre[9] << 8) | ((uint64_t)pre[10] << 16) | ((uint64_t)pre[11] << 24);
    prefix = 12;
  } else {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': unsupported NPY format version %d.%d (hessa reads 1.0, 2.0 and 3.0)", path, pre[6], pre[7]);
    return -1;
  }
  if (hlen > HESSA_NPY_MAX_HEADER || prefix + hlen > file_size) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': NPY header length %llu is %s (file size %llu bytes)", path, (unsigned long long)hlen, hlen > HESSA_NPY_MAX_HEADER ? "implausible" : "beyond the end of the file", (unsigned long long)file_size);
    return -1;
  }
  if (!(text = malloc(hlen + 1)) || fread(text, 1, hlen, f) != hlen) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot read the %llu-byte NPY header", path, (unsigned long long)hlen);
    free(text);
    return -1;
  }
  text[hlen] = 0;
  c.p = c.begin = text;
  c.end         = text + hlen;
  c.why[0]      = 0;
  if (!ParseHeader(&c, &h)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': malformed NPY header (%s): %.200s", path, c.why, text);
    free(text);
    return -1;
  }
  free(text);
  if (!NPYDType(h.descr, t)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': unsupported dtype '%s' (hessa reads '<f4', '<f8', signed '<i1'..'<i8' unsigned '|u1'..'<u8' and bool '|b1', either byte order)", path, h.descr);
    return -1;
  }
  if (h.fortran_order) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': array is stored in Fortran order (fortran_order: True); hessa reads C-order arrays: save np.ascontiguousarray(a)", path);
    return -1;
  }
  HessaShapeString(h.ndim, h.shape, shape_str, sizeof shape_str);
  if (h.ndim < 1 || h.ndim > 4) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': array has shape %s; hessa reads arrays of 1 to 4 dimensions", path, shape_str);
    return -1;
  }
  for (int d = 0; d < h.ndim; d++)
    if (!HessaSizeMul(elements, h.shape[d], &elements)) elements = UINT64_MAX;
  if (elements == UINT64_MAX || !HessaSizeMul(elements, (uint64_t)t->size, &data_bytes)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': header claims shape %s of %s, more than 2^62 bytes: corrupt header", path, shape_str, HessaDTypeName(t));
    return -1;
  }
  if ((out->row_length = HessaRowLength(h.ndim, h.shape, t->size)) < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': header claims shape %s of %s, a row of more than 2^62 bytes: corrupt header", path, shape_str, HessaDTypeName(t));
    return -1;
  }
  out->ndim = h.ndim;
  for (int d = 0; d < h.ndim; d++) out->shape[d] = (int64_t)h.shape[d];
  out->rows       = (int64_t)h.shape[0];
  out->is_integer = t->kind != 'f';
  snprintf(out->dtype, sizeof out->dtype, "%s", HessaDTypeName(t));
  if (file_size - prefix - hlen != data_bytes) {
    HessaArrayDescribe(out, desc, sizeof desc);
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s: header says %s (%llu bytes of data) but the file has %llu bytes of data", path, file_size - prefix - hlen < data_bytes ? "truncated" : "size mismatch", desc, (unsigned long long)data_bytes,
                   (unsigned long long)(file_size - prefix - hlen));
    return -1;
  }
  return (int64_t)(prefix + hlen);
}

/* HessaReadNPY - not collective. Reads rows [first, first+count) (count < 0: to the
 * end; count == 0: header only) of an NPY file into out, converted to double, by
 * seeking to the first row. On a fault fills st and returns with nothing allocated. */
void HessaReadNPY(const char *path, int64_t first, int64_t count, HessaArray *out, HessaStatus *st)
{
  struct stat    sb;
  FILE          *f;
  HessaDType     t;
  int64_t        data_start;
  uint64_t       row_bytes, total, done = 0, alloc_bytes;
  unsigned char *buf = NULL;
  size_t         chunk;

  memset(out, 0, sizeof *out);
  /* a regular file only: a FIFO or a device could block the read forever */
  if (!(f = HessaOpenRegularFile(path, "file", "an NPY file", st))) return;
  if (fstat(fileno(f), &sb) != 0 || sb.st_size == 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': empty file (0 bytes), expected an NPY file", path);
    fclose(f);
    return;
  }
  data_start = ReadHeader(path, f, (uint64_t)sb.st_size, out, &t, st);
  if (data_start >= 0) HessaArraySetRange(path, out, first, count, st);
  if (st->code || out->count == 0) goto done;

  row_bytes = (uint64_t)out->row_length * (uint64_t)t.size;
  total     = (uint64_t)out->count * row_bytes; /* below the file size: checked above */
  chunk     = HESSA_READ_CHUNK - HESSA_READ_CHUNK % (size_t)t.size;
  if (!HessaSizeMul((uint64_t)out->count * (uint64_t)out->row_length, sizeof(double), &alloc_bytes) || !(out->values = malloc(alloc_bytes ? alloc_bytes : 1)) || !(buf = malloc(chunk))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "file '%s': cannot allocate %llu bytes for rows [%lld, %lld)", path, (unsigned long long)alloc_bytes, (long long)out->first, (long long)(out->first + out->count));
    goto done;
  }
  if (fseeko(f, (off_t)data_start + (off_t)(out->first * row_bytes), SEEK_SET) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot seek to row %lld: %s", path, (long long)out->first, strerror(errno));
    goto done;
  }
  while (done < total) {
    size_t want = total - done < chunk ? (size_t)(total - done) : chunk;
    if (fread(buf, 1, want, f) != want) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': read failed at row %lld: %s", path, (long long)(out->first + (int64_t)(done / row_bytes)), ferror(f) ? strerror(errno) : "unexpected end of file");
      goto done;
    }
    HessaConvertToDouble(buf, want / (size_t)t.size, &t, out->values + done / (uint64_t)t.size);
    done += want;
  }
done:
  free(buf);
  fclose(f);
  if (st->code)
    HessaArrayFree(out);
  else
    HessaArrayCheckFinite(path, out, st);
}

static void PutLE64(unsigned char *p, uint64_t v)
{
  for (int b = 0; b < 8; b++) p[b] = (unsigned char)(v >> (8 * b));
}

/* HessaWriteNPY - not collective. Writes a C-order float64 array (int64 when as_int64,
 * values rounded) of the given shape as an NPY 1.0 file; the file appears under its
 * name only when complete (core atomic file: path.tmp, fsync, rename). */
PetscErrorCode HessaWriteNPY(const char *path, int ndim, const int64_t shape[], const double *values, int as_int64)
{
  char          header[512], shape_str[200];
  size_t        used     = 0, len, pad;
  uint64_t      elements = 1;
  HessaFile     file;
  HessaStatus   st = {0};
  unsigned char buf[8 * 512];

  PetscFunctionBegin;
  PetscCheck(ndim >= 1 && ndim <= 4, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "HessaWriteNPY: ndim %d not in [1, 4]", ndim);
  for (int d = 0; d < ndim; d++) {
    PetscCheck(shape[d] >= 0 && HessaSizeMul(elements, (uint64_t)shape[d], &elements), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "HessaWriteNPY: bad shape");
    used += (size_t)snprintf(shape_str + used, sizeof shape_str - used, "%lld%s", (long long)shape[d], ndim == 1 ? "," : d + 1 < ndim ? ", " : "");
  }
  len = (size_t)snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", as_int64 ? "<i8" : "<f8", shape_str);
  pad = 64 - (10 + len + 1) % 64; /* numpy aligns the data to 64 bytes */
  if (pad == 64) pad = 0;
  memset(header + len, ' ', pad);
  header[len + pad] = '\n';
  len += pad + 1;
  PetscCall(HessaFileBegin(path, &file, &st));
  PetscCheck(file, PETSC_COMM_SELF, st.code, "%s", st.msg);
  {
    FILE         *f       = HessaFileStream(file);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(len & 0xff), (unsigned char)(len >> 8)};
    int           ok      = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, len, f) == len;
    for (uint64_t k = 0; ok && k < elements; k += 512) {
      size_t n = elements - k < 512 ? (size_t)(elements - k) : 512;
      for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        if (as_int64) {
          int64_t iv = (int64_t)llround(values[k + i]);
          memcpy(&bits, &iv, sizeof bits);
        } else
          memcpy(&bits, &values[k + i], sizeof bits);
        PutLE64(buf + 8 * i, bits);
      }
      ok = fwrite(buf, 8, n, f) == n;
    }
    if (!ok) {
      int err = errno;
      PetscCall(HessaFileAbort(&file));
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write '%s': %s", path, strerror(err));
    }
  }
  PetscCall(HessaFileCommit(&file, &st));
  PetscCheck(!st.code, PETSC_COMM_SELF, st.code, "%s", st.msg);
  PetscFunctionReturn(0);
}
