/* The ONNX loader: a .onnx file (protobuf, parsed by protobuf-c code generated from
 * Debian's onnx.proto) into the graph of onnx_impl.h.
 *
 * Steps: read (regular files only, bounded size) and unpack; check the opset; make a
 * value of every initializer (raw_data, typed fields or external data), graph input,
 * Constant node and node output; resolve node inputs; order the nodes topologically
 * (lowest file position first among the ready ones, so an already sorted file keeps its
 * order; a cycle is an error); drop nodes the output does not need; choose the
 * parameters (float initializers in a slot the op does not flag as constant, numbered
 * by first use); fold shape computations on constants (Shape, Gather, Unsqueeze,
 * Squeeze, Concat, Slice, Cast, ConstantOfShape, Identity, Add/Sub/Mul/Div), keeping the
 * batch entry opaque; run each remaining op's infer in order; fold the nodes of runtime
 * ops whose inputs are all constants by running their kernel's forward once (m = 1).
 *
 * Every fault fills the HessaStatus with one message that names the file and what was
 * found, and the partial graph is freed. Nothing here calls MPI. */
#include "onnx_impl.h"
#include "onnx.pb-c.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HESSA_ONNX_MAX_FILE_BYTES ((int64_t)2147483647) /* protobuf's own limit on one message */
#define HESSA_ONNX_MAX_CONST_ELEMS ((int64_t)1 << 26)   /* a folded constant: 512 MB of doubles */
#define HESSA_ONNX_OPSET_MIN 13
#define HESSA_ONNX_OPSET_MAX 18 /* 18: Split's num_outputs; ReduceMean's axes and Pad's axes inputs are read already */

/* ---- element types --------------------------------------------------------------- */
static const char *ElemTypeName(int t)
{
  static const char *names[] = {"undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64", "string", "bool", "float16", "float64", "uint32", "uint64", "complex64", "complex128", "bfloat16"};
  if (t >= 0 && t < (int)(sizeof names / sizeof names[0])) return names[t];
  return "unknown";
}

static int ElemIsFloat(int t)
{
  return t == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || t == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
}

static int ElemIsInt(int t)
{
  return t == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || t == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 || t == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
}

/* Bytes of one element in raw_data, 0 for the types hessa does not read. */
static size_t ElemBytes(int t)
{
  switch (t) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    return 4;
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    return 8;
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
    return 1;
  default:
    return 0;
  }
}

/* The product of dims into *n; 0 on a negative dimension or an overflow of int64. */
static int DimsProduct(size_t ndim, const int64_t *dims, int64_t *n)
{
  int64_t p = 1;
  for (size_t d = 0; d < ndim; d++) {
    if (dims[d] < 0) return 0;
    if (__builtin_mul_overflow(p, dims[d], &p)) return 0;
  }
  *n = p;
  return 1;
}

static char *StrDup(const char *s)
{
  size_t n = s ? strlen(s) : 0;
  char  *c = malloc(n + 1);
  if (c) {
    if (n) memcpy(c, s, n);
    c[n] = 0;
  }
  return c;
}

/* "[N,3,28,28]" for messages (N: the batch). */
static const char *ShapeString(const HessaOnnxValue *v, char *buf, size_t len)
{
  size_t k = 0;
  k += (size_t)snprintf(buf + k, len - k, "[");
  for (int d = 0; d < v->ndim && k < len; d++) {
    if (v->dims[d] == HESSA_ONNX_BATCH)
      k += (size_t)snprintf(buf + k, len - k, "%sN", d ? "," : "");
    else if (HessaOnnxIsBatchEntry(v->dims[d]))
      k += (size_t)snprintf(buf + k, len - k, "%s%lldN", d ? "," : "", (long long)HessaOnnxBatchFactor(v->dims[d]));
    else
      k += (size_t)snprintf(buf + k, len - k, "%s%lld", d ? "," : "", (long long)v->dims[d]);
  }
  if (k < len) snprintf(buf + k, len - k, "]");
  return buf;
}

/* ---- reading files ------------------------------------------------------------------ */
/* The whole of a regular file of at most max_bytes into *buf (malloc'd, *len bytes).
 * Opened by HessaOpenRegularFd, so a directory, a FIFO or a device is refused before any
 * read, by what it is: "<what> '<path>': is a FIFO (named pipe), expected <expected>". */
static void ReadRegularFile(const char path[], const char what[], const char expected[], int64_t max_bytes, uint8_t **buf, size_t *len, HessaStatus *st)
{
  struct stat sb;
  int         fd;
  size_t      done = 0;

  *buf = NULL;
  *len = 0;
  if ((fd = HessaOpenRegularFd(path, what, expected, st)) < 0) return;
  if (fstat(fd, &sb) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': cannot open: %s", what, path, strerror(errno));
    close(fd);
    return;
  }
  if ((int64_t)sb.st_size > max_bytes) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': %lld bytes, more than the %lld bytes hessa reads", what, path, (long long)sb.st_size, (long long)max_bytes);
    close(fd);
    return;
  }
  *buf = malloc((size_t)sb.st_size + 1);
  if (!*buf) {
    HessaStatusSet(st, PETSC_ERR_MEM, "%s '%s': out of memory for %lld bytes", what, path, (long long)sb.st_size);
    close(fd);
    return;
  }
  while (done < (size_t)sb.st_size) {
    ssize_t r = read(fd, *buf + done, (size_t)sb.st_size - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': read failed after %zu of %lld bytes: %s", what, path, done, (long long)sb.st_size, r < 0 ? strerror(errno) : "unexpected end of file");
      free(*buf);
      *buf = NULL;
      close(fd);
      return;
    }
    done += (size_t)r;
  }
  close(fd);
  *len = done;
}

/* ---- tensors ------------------------------------------------------------------------- */
/* A non-negative decimal integer (external data offset/length); -1 when malformed. */
static int64_t ParseCount(const char *s)
{
  int64_t v = 0;
  if (!s || !*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v)) return -1;
  }
  return v;
}

/* The bytes of a tensor stored outside the model (data_location EXTERNAL): `location`
 * relative to the model's folder (no absolute path, no ".."), `offset` and `length`
 * checked against the file's size; exactly `expect` bytes. */
static void ReadExternal(const char model[], const char dir[], const Onnx__TensorProto *t, const char what[], size_t expect, uint8_t **bytes, HessaStatus *st)
{
  const char *location = NULL, *soff = NULL, *slen = NULL;
  char        full[PATH_MAX];
  int64_t     off = 0, len = -1;
  struct stat sb;
  FILE       *f;

  *bytes = NULL;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const char *k = t->external_data[i]->key, *v = t->external_data[i]->value;
    if (!k || !v) continue;
    if (!strcmp(k, "location"))
      location = v;
    else if (!strcmp(k, "offset"))
      soff = v;
    else if (!strcmp(k, "length"))
      slen = v;
  }
  if (!location || !*location) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has external data without a location", model, what);
    return;
  }
  if (location[0] == '/' || !strcmp(location, "..") || !strncmp(location, "../", 3) || strstr(location, "/../") || (strlen(location) >= 3 && !strcmp(location + strlen(location) - 3, "/.."))) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has external data at '%s'; hessa reads external data only from files inside the model's folder (no absolute path, no '..')", model, what, location);
    return;
  }
  if (soff && (off = ParseCount(soff)) < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has external data offset '%s', expected a non-negative integer", model, what, soff);
    return;
  }
  if (slen && (len = ParseCount(slen)) < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has external data length '%s', expected a non-negative integer", model, what, slen);
    return;
  }
  if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, location) >= sizeof full) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s: external data path '%s' is too long", model, what, location);
    return;
  }
  {
    /* opened as every input is: a missing file, a directory or a FIFO is named as such */
    char where[PETSC_MAX_PATH_LEN + 600];
    snprintf(where, sizeof where, "file '%s': %s: external data", model, what);
    if (!(f = HessaOpenRegularFile(full, where, "a regular file of tensor data", st))) return;
  }
  if (fstat(fileno(f), &sb) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s: cannot open external data '%s': %s", model, what, full, strerror(errno));
    goto done;
  }
  {
    /* a symbolic link must not lead outside the folder either */
    char   real_dir[PATH_MAX], real_full[PATH_MAX];
    size_t n;
    if (!realpath(dir, real_dir) || !realpath(full, real_full)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s: cannot resolve the external data path '%s': %s", model, what, full, strerror(errno));
      goto done;
    }
    n = strlen(real_dir);
    if (strncmp(real_full, real_dir, n) || (real_full[n] != '/' && strcmp(real_dir, "/"))) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has external data at '%s', which resolves to '%s' outside the model's folder", model, what, location, real_full);
      goto done;
    }
  }
  if (len < 0) len = (int64_t)expect;
  if (off > (int64_t)sb.st_size || len > (int64_t)sb.st_size - off) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has external data at bytes [%lld, %lld) of '%s', beyond its %lld bytes", model, what, (long long)off, (long long)off + (long long)len, full, (long long)sb.st_size);
    goto done;
  }
  if ((uint64_t)len != (uint64_t)expect) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has %lld bytes of external data, expected %zu (its dims times the element size)", model, what, (long long)len, expect);
    goto done;
  }
  *bytes = malloc(expect ? expect : 1);
  if (!*bytes || fseeko(f, (off_t)off, SEEK_SET) != 0 || fread(*bytes, 1, expect, f) != expect) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s: cannot read %zu bytes at offset %lld of '%s'", model, what, expect, (long long)off, full);
    free(*bytes);
    *bytes = NULL;
  }
done:
  fclose(f);
}

/* Decode a TensorProto into v (CONST: name, elem_type, dims, size, value or ivalue).
 * model/dir: the model file (messages) and its folder (external data; NULL refuses
 * external data). `what` names the tensor in messages ("initializer 'fc.weight'"). */
static void DecodeTensor(const char model[], const char dir[], const Onnx__TensorProto *t, const char what[], int allow_inf, HessaOnnxValue *v, HessaStatus *st)
{
  int            type = t->has_data_type ? t->data_type : 0;
  size_t         es   = ElemBytes(type);
  int64_t        n;
  uint8_t       *ext  = NULL;
  const uint8_t *raw  = NULL;
  size_t         nsrc = 0;

  memset(v, 0, sizeof *v);
  v->kind     = HESSA_ONNX_CONST;
  v->offset   = -1;
  v->producer = -1;
  v->name     = StrDup(t->name ? t->name : "");
  if (!es) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has element type %s (%d); hessa reads float32, float64, int64, int32 and bool tensors", model, what, ElemTypeName(type), type);
    return;
  }
  if (t->n_dims > HESSA_ONNX_MAX_DIMS) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has %zu dimensions; hessa reads at most %d", model, what, t->n_dims, HESSA_ONNX_MAX_DIMS);
    return;
  }
  if (!DimsProduct(t->n_dims, t->dims, &n) || (uint64_t)n > SIZE_MAX / 8) {
    char   buf[256];
    size_t k = 0;
    for (size_t d = 0; d < t->n_dims && k < sizeof buf; d++) k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%lld", d ? "," : "", (long long)t->dims[d]);
    if (!t->n_dims) buf[0] = 0;
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has dims [%s]: a negative dimension or a product that overflows 64-bit integers", model, what, buf);
    return;
  }
  v->elem_type = type;
  v->is_int    = ElemIsInt(type);
  v->ndim      = (int)t->n_dims;
  for (size_t d = 0; d < t->n_dims; d++) v->dims[d] = t->dims[d];
  v->size = n;

  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    if (!dir) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has external data, which is not allowed here", model, what);
      return;
    }
    ReadExternal(model, dir, t, what, (size_t)n * es, &ext, st);
    if (st->code) return;
    raw = ext;
  } else if (t->has_raw_data) {
    if ((uint64_t)t->raw_data.len != (uint64_t)n * es) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has %zu bytes of raw_data, expected %lld (%lld elements of %s, %zu bytes each)", model, what, t->raw_data.len, (long long)((uint64_t)n * es), (long long)n, ElemTypeName(type), es);
      return;
    }
    raw = t->raw_data.data;
  } else {
    const char *field;
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
      nsrc  = t->n_float_data;
      field = "float_data";
      break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
      nsrc  = t->n_double_data;
      field = "double_data";
      break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
      nsrc  = t->n_int64_data;
      field = "int64_data";
      break;
    default:
      nsrc  = t->n_int32_data;
      field = "int32_data";
      break;
    }
    if ((uint64_t)nsrc != (uint64_t)n) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has %zu values in %s, expected %lld (the product of its dims)", model, what, nsrc, field, (long long)n);
      return;
    }
  }

  if (v->is_int)
    v->ivalue = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
  else
    v->value = malloc((size_t)(n ? n : 1) * sizeof(double));
  if (!v->ivalue && !v->value) {
    HessaStatusSet(st, PETSC_ERR_MEM, "file '%s': %s: out of memory for %lld elements", model, what, (long long)n);
    free(ext);
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
      float f;
      if (raw)
        memcpy(&f, raw + 4 * i, 4);
      else
        f = t->float_data[i];
      v->value[i] = (double)f;
    } break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
      if (raw)
        memcpy(&v->value[i], raw + 8 * i, 8);
      else
        v->value[i] = t->double_data[i];
      break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
      if (raw)
        memcpy(&v->ivalue[i], raw + 8 * i, 8);
      else
        v->ivalue[i] = t->int64_data[i];
      break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
      int32_t k;
      if (raw)
        memcpy(&k, raw + 4 * i, 4);
      else
        k = t->int32_data[i];
      v->ivalue[i] = k;
    } break;
    default: /* bool */
      v->ivalue[i] = raw ? (raw[i] != 0) : (t->int32_data[i] != 0);
      break;
    }
    if (!v->is_int && !isfinite(v->value[i]) && !(allow_inf && isinf(v->value[i]))) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s has %s at element %lld; hessa needs finite numbers", model, what, isnan(v->value[i]) ? "NaN" : "Inf", (long long)i);
      break;
    }
  }
  free(ext);
}

/* HessaOnnxValueClear - free what a value owns (name, value, ivalue) and zero it. */
void HessaOnnxValueClear(HessaOnnxValue *v)
{
  if (!v) return;
  free(v->name);
  free(v->value);
  free(v->ivalue);
  memset(v, 0, sizeof *v);
  v->offset   = -1;
  v->producer = -1;
}

/* HessaOnnxReadTensorFile - read a serialized TensorProto (the ONNX node tests'
 * input_0.pb, output_0.pb) into out: a CONST value, not batched, with float data in
 * out->value or integer data in out->ivalue (free with HessaOnnxValueClear). Not
 * collective. On a fault st names the file and out owns nothing. */
void HessaOnnxReadTensorFile(const char path[], HessaOnnxValue *out, HessaStatus *st)
{
  uint8_t           *buf;
  size_t             len;
  Onnx__TensorProto *t;
  char               what[64];

  memset(out, 0, sizeof *out);
  ReadRegularFile(path, "ONNX tensor file", "a TensorProto file", HESSA_ONNX_MAX_FILE_BYTES, &buf, &len, st);
  if (st->code) return;
  t = onnx__tensor_proto__unpack(NULL, len, buf);
  free(buf);
  if (!t) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': not a valid ONNX TensorProto (truncated or corrupt protobuf)", path);
    return;
  }
  snprintf(what, sizeof what, "tensor");
  DecodeTensor(path, NULL, t, what, 0, out, st);
  onnx__tensor_proto__free_unpacked(t, NULL);
  if (st->code) HessaOnnxValueClear(out);
}

/* ---- the loader's state ---------------------------------------------------------------- */
typedef struct {
  HessaOnnxGraph *g;
  HessaStatus    *st;
  const char     *path;
  char            dir[PATH_MAX];
  int             cap_values;
  int            *hash; /* open addressing over value names: value index + 1, 0 empty */
  int             hcap;
  char           *init;  /* per value: an initializer */
  char           *pcand; /* per value: a float initializer, a parameter if some op differentiates it */
} Loader;

static void LoadError(Loader *L, const char fmt[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
static void LoadError(Loader *L, const char fmt[], ...)
{
  char    msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  HessaStatusSet(L->st, HESSA_ERR_INPUT, "file '%s': %s", L->path, msg);
}

static uint64_t HashName(const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The value named `name`, or -1. */
static int FindValue(const Loader *L, const char *name)
{
  if (!L->hcap) return -1;
  for (uint64_t h = HashName(name) & (uint64_t)(L->hcap - 1);; h = (h + 1) & (uint64_t)(L->hcap - 1)) {
    int k = L->hash[h];
    if (!k) return -1;
    if (!strcmp(L->g->values[k - 1].name, name)) return k - 1;
  }
}

static int HashInsert(Loader *L, int index)
{
  if (2 * (L->g->n_values + 1) > L->hcap) {
    int  ncap = L->hcap ? 2 * L->hcap : 256;
    int *nh   = calloc((size_t)ncap, sizeof *nh);
    if (!nh) return 0;
    for (int i = 0; i < L->hcap; i++)
      if (L->hash[i]) {
        uint64_t h = HashName(L->g->values[L->hash[i] - 1].name) & (uint64_t)(ncap - 1);
        while (nh[h]) h = (h + 1) & (uint64_t)(ncap - 1);
        nh[h] = L->hash[i];
      }
    free(L->hash);
    L->hash = nh;
    L->hcap = ncap;
  }
  uint64_t h = HashName(L->g->values[index].name) & (uint64_t)(L->hcap - 1);
  while (L->hash[h]) h = (h + 1) & (uint64_t)(L->hcap - 1);
  L->hash[h] = index + 1;
  return 1;
}

/* A new value slot (zeroed, offset -1, producer -1); -1 when out of memory. The values
 * array may move: take pointers into it only after the last NewValue. */
static int NewValue(Loader *L)
{
  HessaOnnxGraph *g = L->g;
  if (g->n_values == L->cap_values) {
    int             ncap = L->cap_values ? 2 * L->cap_values : 64;
    HessaOnnxValue *nv   = realloc(g->values, (size_t)ncap * sizeof *nv);
    char           *ni   = realloc(L->init, (size_t)ncap);
    if (ni) L->init = ni;
    char *np = realloc(L->pcand, (size_t)ncap);
    if (np) L->pcand = np;
    if (!nv || !ni || !np) {
      if (nv) g->values = nv;
      HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory for %d values", L->path, ncap);
      return -1;
    }
    g->values     = nv;
    L->cap_values = ncap;
  }
  memset(&g->values[g->n_values], 0, sizeof g->values[0]);
  g->values[g->n_values].offset   = -1;
  g->values[g->n_values].producer = -1;
  L->init[g->n_values]            = 0;
  L->pcand[g->n_values]           = 0;
  return g->n_values++;
}

/* Add a named value (refusing a second value of the same name); -1 on a fault. */
static int AddNamedValue(Loader *L, const char *name, const char *what)
{
  int k;
  if (!name || !*name) {
    LoadError(L, "%s has no name", what);
    return -1;
  }
  if ((k = FindValue(L, name)) >= 0) {
    LoadError(L, "the name '%s' is defined twice (%s, and %s)", name, L->init[k] ? "an initializer" : L->g->values[k].kind == HESSA_ONNX_INPUT ? "a graph input" : "a node output", what);
    return -1;
  }
  if ((k = NewValue(L)) < 0) return -1;
  if (!(L->g->values[k].name = StrDup(name)) || !HashInsert(L, k)) {
    HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
    return -1;
  }
  return k;
}

/* Allocate a CONST value's data for the shape it has (checked against the bound of
 * folded constants). */
static int AllocConst(Loader *L, HessaOnnxValue *v, const char *who)
{
  int64_t n;
  if (!DimsProduct((size_t)v->ndim, v->dims, &n) || n > HESSA_ONNX_MAX_CONST_ELEMS) {
    LoadError(L, "%s: a constant of more than %lld elements (or an overflowing shape)", who, (long long)HESSA_ONNX_MAX_CONST_ELEMS);
    return 0;
  }
  v->kind    = HESSA_ONNX_CONST;
  v->size    = n;
  v->batched = 0;
  free(v->value);
  free(v->ivalue);
  v->value  = NULL;
  v->ivalue = NULL;
  if (v->is_int)
    v->ivalue = calloc((size_t)(n ? n : 1), sizeof(int64_t));
  else
    v->value = calloc((size_t)(n ? n : 1), sizeof(double));
  if (!v->value && !v->ivalue) {
    HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': %s: out of memory", L->path, who);
    return 0;
  }
  return 1;
}

/* Copy src's data, type and shape into dst (a CONST; dst keeps its name). */
static int CopyConst(Loader *L, HessaOnnxValue *dst, const HessaOnnxValue *src, const char *who)
{
  dst->ndim      = src->ndim;
  dst->is_int    = src->is_int;
  dst->elem_type = src->elem_type;
  memcpy(dst->dims, src->dims, sizeof dst->dims);
  if (!AllocConst(L, dst, who)) return 0;
  if (src->is_int)
    memcpy(dst->ivalue, src->ivalue, (size_t)src->size * sizeof(int64_t));
  else
    memcpy(dst->value, src->value, (size_t)src->size * sizeof(double));
  return 1;
}

/* ---- attributes ---------------------------------------------------------------------- */
static void ConvertAttributes(Loader *L, const Onnx__NodeProto *np, HessaOnnxNode *node)
{
  char label[300];
  HessaOnnxNodeLabel(node, label, sizeof label);
  node->attr = calloc(np->n_attribute ? np->n_attribute : 1, sizeof *node->attr);
  if (!node->attr) {
    HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
    return;
  }
  for (size_t a = 0; a < np->n_attribute; a++) {
    const Onnx__AttributeProto *ap = np->attribute[a];
    HessaOnnxAttr              *at = &node->attr[node->n_attr++];
    at->name                       = StrDup(ap->name ? ap->name : "");
    at->tensor                     = -1;
    switch (ap->has_type ? ap->type : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
      at->type = HESSA_ONNX_ATTR_FLOAT;
      at->f    = ap->f;
      if (!isfinite(at->f)) LoadError(L, "%s: attribute '%s' is %s", label, at->name, isnan(at->f) ? "NaN" : "Inf");
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
      at->type = HESSA_ONNX_ATTR_INT;
      at->i    = ap->i;
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
      at->type = HESSA_ONNX_ATTR_STRING;
      at->s    = malloc(ap->s.len + 1);
      if (at->s) {
        if (ap->s.len) memcpy(at->s, ap->s.data, ap->s.len);
        at->s[ap->s.len] = 0;
        if (strlen(at->s) != ap->s.len) LoadError(L, "%s: attribute '%s' holds a NUL byte", label, at->name);
      }
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
      at->type   = HESSA_ONNX_ATTR_FLOATS;
      at->n      = (int64_t)ap->n_floats;
      at->floats = malloc((ap->n_floats ? ap->n_floats : 1) * sizeof(double));
      for (size_t k = 0; at->floats && k < ap->n_floats; k++) {
        at->floats[k] = ap->floats[k];
        if (!isfinite(at->floats[k])) {
          LoadError(L, "%s: attribute '%s' has %s at entry %zu", label, at->name, isnan(at->floats[k]) ? "NaN" : "Inf", k);
          break;
        }
      }
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
      at->type = HESSA_ONNX_ATTR_INTS;
      at->n    = (int64_t)ap->n_ints;
      at->ints = malloc((ap->n_ints ? ap->n_ints : 1) * sizeof(int64_t));
      if (at->ints && ap->n_ints) memcpy(at->ints, ap->ints, ap->n_ints * sizeof(int64_t));
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
      char what[400];
      int  k;
      at->type = HESSA_ONNX_ATTR_TENSOR;
      if (!ap->t) {
        LoadError(L, "%s: attribute '%s' is a tensor without data", label, at->name);
        break;
      }
      snprintf(what, sizeof what, "attribute '%s' of %s", at->name, label);
      if ((k = NewValue(L)) < 0) break;
      /* an infinite constant is kept here (masked_fill(mask, -inf) exports a Constant -inf) and
         refused at load unless Where's X or Y reads it (NonFiniteInput) */
      DecodeTensor(L->path, L->dir, ap->t, what, 1, &L->g->values[k], L->st);
      free(L->g->values[k].name);
      L->g->values[k].name = StrDup(what); /* not in the name table: only the attribute refers to it */
      at->tensor           = k;
    } break;
    default:
      at->type = HESSA_ONNX_ATTR_OTHER;
      break;
    }
    if ((at->type == HESSA_ONNX_ATTR_FLOATS && !at->floats) || (at->type == HESSA_ONNX_ATTR_INTS && !at->ints) || (at->type == HESSA_ONNX_ATTR_STRING && !at->s) || !at->name) HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
    if (L->st->code) return;
  }
}

/* ---- folding of shape computations on constants ---------------------------------------- */
static const char *FoldOps[] = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast", "ConstantOfShape", "Identity", "Add", "Sub", "Mul", "Div"};
/* Elementwise ops folded when their inputs are constants (FoldElementwise): the comparisons
 * and logic of causal masks (mask == 0, ~mask) and the scale arithmetic of attention
 * (Pow, Sqrt, Reciprocal of a head size). Pow and Sqrt may also run (onnx_ops_*.c). */
static const char *FoldElementwiseOps[] = {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "Pow", "Sqrt", "Reciprocal", "Neg"};

static int IsFoldElementwiseOp(const char *op)
{
  for (size_t i = 0; i < sizeof FoldElementwiseOps / sizeof FoldElementwiseOps[0]; i++)
    if (!strcmp(op, FoldElementwiseOps[i])) return 1;
  return 0;
}

static int IsFoldOp(const char *op)
{
  if (IsFoldElementwiseOp(op) || !strcmp(op, "Reshape") || !strcmp(op, "Where")) return 1; /* the last two also run (on values) */
  for (size_t i = 0; i < sizeof FoldOps / sizeof FoldOps[0]; i++)
    if (!strcmp(op, FoldOps[i])) return 1;
  return 0;
}

/* Ops that exist in hessa only as load-time folding (never at run time). */
static int IsFoldOnlyOp(const char *op)
{
  return IsFoldOp(op) && strcmp(op, "Pow") && strcmp(op, "Sqrt") && strcmp(op, "Reshape") && strcmp(op, "Where") && strcmp(op, "Concat") && strcmp(op, "Identity") && strcmp(op, "Add") && strcmp(op, "Sub") && strcmp(op, "Mul") && strcmp(op, "Div");
}

static HessaOnnxValue *In(Loader *L, const HessaOnnxNode *node, int i)
{
  return i < node->n_in && node->in[i] >= 0 ? &L->g->values[node->in[i]] : NULL;
}

/* A CONST integer vector input (scalar or 1-D), e.g. axes; NULL (st set) otherwise. */
static const int64_t *IntsInput(Loader *L, const HessaOnnxNode *node, int i, const char *role, int64_t *n, const char *label)
{
  const HessaOnnxValue *v = In(L, node, i);
  if (!v || v->kind != HESSA_ONNX_CONST || !v->is_int || v->ndim > 1) {
    LoadError(L, "%s: input %d (%s) must be a constant integer vector", label, i, role);
    return NULL;
  }
  *n = v->size;
  return v->ivalue;
}

static int NormAxis(Loader *L, int64_t axis, int rank, const char *label, int *out)
{
  if (axis < -rank || axis >= rank) {
    LoadError(L, "%s: axis %lld is out of range for rank %d", label, (long long)axis, rank);
    return 0;
  }
  *out = (int)(axis < 0 ? axis + rank : axis);
  return 1;
}

/* Element copy between CONST values of the same kind (int or float). */
static inline void CopyElem(HessaOnnxValue *dst, int64_t di, const HessaOnnxValue *src, int64_t si)
{
  if (dst->is_int)
    dst->ivalue[di] = src->ivalue[si];
  else
    dst->value[di] = src->value[si];
}

/* Row-major strides of v's dims. */
static void Strides(const HessaOnnxValue *v, int64_t *s)
{
  int64_t acc = 1;
  for (int d = v->ndim - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= v->dims[d];
  }
}

/* Advance a multi-index over dims; 0 when it wraps. */
static int NextIndex(int ndim, const int64_t *dims, int64_t *idx)
{
  for (int d = ndim - 1; d >= 0; d--) {
    if (++idx[d] < dims[d]) return 1;
    idx[d] = 0;
  }
  return 0;
}

static int ContainsBatch(const HessaOnnxValue *v)
{
  if (!v->is_int) return 0;
  for (int64_t i = 0; i < v->size; i++)
    if (HessaOnnxIsBatchEntry(v->ivalue[i])) return 1;
  return 0;
}

/* A walk over the elements of a constant folded from n inputs with numpy broadcasting:
 * at each output element, off[k] is the element of input k that lands there. */
typedef struct {
  int     n, r;                                                /* inputs, the output's rank */
  int64_t stride[3][HESSA_ONNX_MAX_DIMS];                      /* input k's step along each output axis (0 where it broadcasts) */
  int64_t idx[HESSA_ONNX_MAX_DIMS], dims[HESSA_ONNX_MAX_DIMS]; /* the output's multi-index and dims */
  int64_t off[3];                                              /* input k's element at idx */
} Broadcast;

/* Broadcast n <= 3 constants: y's rank and dims, and the walk at y's first element; 0
 * (error set) when a dimension differs and is 1 in neither. */
static int BroadcastBegin(Loader *L, int n, const HessaOnnxValue *const *v, HessaOnnxValue *y, Broadcast *bc, const char *label)
{
  int64_t s[HESSA_ONNX_MAX_DIMS];

  memset(bc, 0, sizeof *bc);
  bc->n = n;
  for (int k = 0; k < n; k++) bc->r = v[k]->ndim > bc->r ? v[k]->ndim : bc->r;
  for (int d = 0; d < bc->r; d++) y->dims[d] = 1;
  for (int k = 0; k < n; k++) {
    Strides(v[k], s);
    for (int d = 0; d < bc->r; d++) {
      int     q = d - (bc->r - v[k]->ndim);
      int64_t e = q >= 0 ? v[k]->dims[q] : 1;
      if (e != 1 && y->dims[d] != 1 && y->dims[d] != e) {
        LoadError(L, "%s: shapes cannot be broadcast (dimension %d: %lld and %lld)", label, d, (long long)y->dims[d], (long long)e);
        return 0;
      }
      if (e != 1) y->dims[d] = e;
      bc->stride[k][d] = (q >= 0 && e != 1) ? s[q] : 0;
    }
  }
  y->ndim = bc->r;
  memcpy(bc->dims, y->dims, sizeof bc->dims);
  return 1;
}

/* On to the next output element. */
static void BroadcastNext(Broadcast *bc)
{
  if (!bc->r) return;
  NextIndex(bc->r, bc->dims, bc->idx);
  for (int k = 0; k < bc->n; k++) {
    bc->off[k] = 0;
    for (int d = 0; d < bc->r; d++) bc->off[k] += bc->idx[d] * bc->stride[k][d];
  }
}

static int FoldShape(Loader *L, HessaOnnxNode *node, const char *label)
{
  const HessaOnnxValue *x = In(L, node, 0);
  HessaOnnxValue       *y = &L->g->values[node->out[0]];
  int64_t               xd[HESSA_ONNX_MAX_DIMS];
  int                   r     = HessaOnnxLayoutOnnxDims(x, xd); /* the ONNX view: the batch entry where the ONNX tensor has it */
  int64_t               start = HessaOnnxAttrInt(node, "start", 0), end = HessaOnnxAttrInt(node, "end", r);

  if (start < 0) start += r;
  if (end < 0) end += r;
  start        = start < 0 ? 0 : start > r ? r : start;
  end          = end < 0 ? 0 : end > r ? r : end;
  y->is_int    = 1;
  y->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  y->ndim      = 1;
  y->dims[0]   = end > start ? end - start : 0;
  if (!AllocConst(L, y, label)) return 0;
  for (int64_t d = start; d < end; d++) y->ivalue[d - start] = xd[d];
  return 1;
}

static int FoldGather(Loader *L, HessaOnnxNode *node, const char *label)
{
  const HessaOnnxValue *x = In(L, node, 0), *ix = In(L, node, 1);
  HessaOnnxValue       *y = &L->g->values[node->out[0]];
  int                   axis, r = x->ndim, q;
  int64_t               outer = 1, inner = 1, dim;

  if (!ix || !ix->is_int) {
    LoadError(L, "%s: indices must be integers", label);
    return 0;
  }
  if (r < 1 || !NormAxis(L, HessaOnnxAttrInt(node, "axis", 0), r, label, &axis)) {
    if (r < 1) LoadError(L, "%s: Gather of a scalar", label);
    return 0;
  }
  q = ix->ndim;
  if (r - 1 + q > HESSA_ONNX_MAX_DIMS) {
    LoadError(L, "%s: the result would have more than %d dimensions", label, HESSA_ONNX_MAX_DIMS);
    return 0;
  }
  y->is_int    = x->is_int;
  y->elem_type = x->elem_type;
  y->ndim      = r - 1 + q;
  for (int d = 0; d < axis; d++) y->dims[d] = x->dims[d], outer *= x->dims[d];
  for (int d = 0; d < q; d++) y->dims[axis + d] = ix->dims[d];
  for (int d = axis + 1; d < r; d++) y->dims[q + d - 1] = x->dims[d], inner *= x->dims[d];
  dim = x->dims[axis];
  if (!AllocConst(L, y, label)) return 0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < ix->size; k++) {
      int64_t i = ix->ivalue[k];
      if (i < -dim || i >= dim) {
        LoadError(L, "%s: index %lld is out of range for a dimension of %lld", label, (long long)i, (long long)dim);
        return 0;
      }
      if (i < 0) i += dim;
      for (int64_t n = 0; n < inner; n++) CopyElem(y, (o * ix->size + k) * inner + n, x, (o * dim + i) * inner + n);
    }
  return 1;
}

static int FoldUnsqueezeSqueeze(Loader *L, HessaOnnxNode *node, int squeeze, const char *label)
{
  const HessaOnnxValue *x                             = In(L, node, 0);
  HessaOnnxValue       *y                             = &L->g->values[node->out[0]];
  const int64_t        *axes                          = NULL;
  int64_t               na                            = 0;
  char                  mark[HESSA_ONNX_MAX_DIMS + 8] = {0};
  int                   r                             = x->ndim, ry;

  if (In(L, node, 1) && !(axes = IntsInput(L, node, 1, "axes", &na, label))) return 0;
  if (!In(L, node, 1) && !squeeze) {
    LoadError(L, "%s: Unsqueeze without axes", label);
    return 0;
  }
  ry = squeeze ? r : r + (int)(na > HESSA_ONNX_MAX_DIMS ? HESSA_ONNX_MAX_DIMS + 1 : na);
  if (ry > HESSA_ONNX_MAX_DIMS) {
    LoadError(L, "%s: the result would have more than %d dimensions", label, HESSA_ONNX_MAX_DIMS);
    return 0;
  }
  for (int64_t k = 0; k < na; k++) {
    int a;
    if (!NormAxis(L, axes[k], ry, label, &a)) return 0;
    if (mark[a]) {
      LoadError(L, "%s: axis %lld is repeated", label, (long long)axes[k]);
      return 0;
    }
    mark[a] = 1;
  }
  y->is_int    = x->is_int;
  y->elem_type = x->elem_type;
  if (squeeze) {
    y->ndim = 0;
    for (int d = 0; d < r; d++) {
      int drop = axes ? mark[d] : x->dims[d] == 1;
      if (drop && x->dims[d] != 1) {
        LoadError(L, "%s: cannot squeeze axis %d of size %lld", label, d, (long long)x->dims[d]);
        return 0;
      }
      if (!drop) y->dims[y->ndim++] = x->dims[d];
    }
  } else {
    int j   = 0;
    y->ndim = ry;
    for (int d = 0; d < ry; d++) y->dims[d] = mark[d] ? 1 : x->dims[j++];
  }
  if (!AllocConst(L, y, label)) return 0;
  for (int64_t i = 0; i < x->size; i++) CopyElem(y, i, x, i);
  return 1;
}

static int FoldConcat(Loader *L, HessaOnnxNode *node, const char *label)
{
  const HessaOnnxValue *x0 = In(L, node, 0);
  HessaOnnxValue       *y  = &L->g->values[node->out[0]];
  int                   axis;
  int64_t               outer = 1, inner = 1, total = 0, at = 0;

  if (!x0 || x0->ndim < 1 || !NormAxis(L, HessaOnnxAttrInt(node, "axis", 0), x0 ? x0->ndim : 0, label, &axis)) {
    if (!x0 || x0->ndim < 1) LoadError(L, "%s: Concat needs inputs of rank >= 1", label);
    return 0;
  }
  for (int i = 0; i < node->n_in; i++) {
    const HessaOnnxValue *x = In(L, node, i);
    if (!x || x->ndim != x0->ndim || x->is_int != x0->is_int) {
      LoadError(L, "%s: inputs differ in rank or element type", label);
      return 0;
    }
    for (int d = 0; d < x->ndim; d++)
      if (d != axis && x->dims[d] != x0->dims[d]) {
        LoadError(L, "%s: inputs differ in dimension %d", label, d);
        return 0;
      }
    total += x->dims[axis];
  }
  for (int d = 0; d < axis; d++) outer *= x0->dims[d];
  for (int d = axis + 1; d < x0->ndim; d++) inner *= x0->dims[d];
  y->is_int    = x0->is_int;
  y->elem_type = x0->elem_type;
  y->ndim      = x0->ndim;
  memcpy(y->dims, x0->dims, sizeof y->dims);
  y->dims[axis] = total;
  if (!AllocConst(L, y, label)) return 0;
  for (int i = 0; i < node->n_in; i++) {
    const HessaOnnxValue *x = In(L, node, i);
    int64_t               w = x->dims[axis] * inner;
    for (int64_t o = 0; o < outer; o++)
      for (int64_t k = 0; k < w; k++) CopyElem(y, o * total * inner + at + k, x, o * w + k);
    at += w;
  }
  return 1;
}

static int FoldSlice(Loader *L, HessaOnnxNode *node, const char *label)
{
  const HessaOnnxValue *x = In(L, node, 0);
  HessaOnnxValue       *y = &L->g->values[node->out[0]];
  const int64_t        *starts, *ends, *axes = NULL, *steps = NULL;
  int64_t               ns, ne, na, nst, start[HESSA_ONNX_MAX_DIMS], step[HESSA_ONNX_MAX_DIMS], xs[HESSA_ONNX_MAX_DIMS], idx[HESSA_ONNX_MAX_DIMS] = {0};
  char                  seen[HESSA_ONNX_MAX_DIMS] = {0};
  int                   r                         = x->ndim;

  if (!(starts = IntsInput(L, node, 1, "starts", &ns, label)) || !(ends = IntsInput(L, node, 2, "ends", &ne, label))) return 0;
  na  = ns;
  nst = ns;
  if (In(L, node, 3) && !(axes = IntsInput(L, node, 3, "axes", &na, label))) return 0;
  if (In(L, node, 4) && !(steps = IntsInput(L, node, 4, "steps", &nst, label))) return 0;
  if (ne != ns || na != ns || nst != ns) {
    LoadError(L, "%s: starts, ends, axes and steps differ in length", label);
    return 0;
  }
  for (int d = 0; d < r; d++) start[d] = 0, step[d] = 1;
  y->is_int    = x->is_int;
  y->elem_type = x->elem_type;
  y->ndim      = r;
  memcpy(y->dims, x->dims, sizeof y->dims);
  for (int64_t k = 0; k < ns; k++) {
    int     a;
    int64_t dim, s = starts[k], e = ends[k], t = steps ? steps[k] : 1;
    if (!NormAxis(L, axes ? axes[k] : k, r, label, &a)) return 0;
    if (seen[a]++) {
      LoadError(L, "%s: axis %d is sliced twice", label, a);
      return 0;
    }
    if (t == 0) {
      LoadError(L, "%s: step 0", label);
      return 0;
    }
    if (HessaOnnxIsBatchEntry(s) || HessaOnnxIsBatchEntry(e)) {
      LoadError(L, "%s: slice bounds use the batch size", label);
      return 0;
    }
    dim = x->dims[a];
    if (s < 0) s = s < -dim ? 0 : s + dim;
    if (e < 0) e = e < -dim ? -1 : e + dim;
    if (t > 0) {
      s          = s > dim ? dim : s;
      e          = e > dim ? dim : e < 0 ? 0 : e;
      y->dims[a] = e > s ? (e - s + t - 1) / t : 0;
    } else {
      s          = s > dim - 1 ? dim - 1 : s;
      e          = e > dim - 1 ? dim - 1 : e;
      y->dims[a] = s > e ? (s - e + (-t) - 1) / (-t) : 0;
    }
    start[a] = s;
    step[a]  = t;
  }
  if (!AllocConst(L, y, label)) return 0;
  Strides(x, xs);
  if (y->size == 0) return 1;
  for (int64_t i = 0; i < y->size; i++) {
    int64_t si = 0;
    for (int d = 0; d < r; d++) si += (start[d] + idx[d] * step[d]) * xs[d];
    CopyElem(y, i, x, si);
    NextIndex(r, y->dims, idx);
  }
  return 1;
}

static int FoldCast(Loader *L, HessaOnnxNode *node, const char *label)
{
  const HessaOnnxValue *x  = In(L, node, 0);
  HessaOnnxValue       *y  = &L->g->values[node->out[0]];
  int64_t               to = HessaOnnxAttrInt(node, "to", 0);
  int                   to_int;

  if (!ElemIsFloat((int)to) && !(ElemIsInt((int)to) || to == 2 || to == 3 || to == 4 || to == 5 || to == 12 || to == 13)) {
    LoadError(L, "%s: Cast to %s (%lld) is not supported", label, ElemTypeName((int)to), (long long)to);
    return 0;
  }
  to_int       = !ElemIsFloat((int)to);
  y->is_int    = to_int;
  y->elem_type = (int)to;
  y->ndim      = x->ndim;
  memcpy(y->dims, x->dims, sizeof y->dims);
  if (!AllocConst(L, y, label)) return 0;
  for (int64_t i = 0; i < x->size; i++) {
    if (x->is_int && to_int)
      y->ivalue[i] = to == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL ? x->ivalue[i] != 0 : x->ivalue[i];
    else if (x->is_int) {
      if (HessaOnnxIsBatchEntry(x->ivalue[i])) {
        LoadError(L, "%s: casts the batch size to a float", label);
        return 0;
      }
      y->value[i] = to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? (double)(float)x->ivalue[i] : (double)x->ivalue[i];
    } else if (to_int) {
      if (!(fabs(x->value[i]) < 9.2e18)) {
        LoadError(L, "%s: casts %g to an integer", label, x->value[i]);
        return 0;
      }
      y->ivalue[i] = to == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL ? x->value[i] != 0 : (int64_t)x->value[i];
    } else
      y->value[i] = to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? (double)(float)x->value[i] : x->value[i];
  }
  return 1;
}

static int FoldConstantOfShape(Loader *L, HessaOnnxNode *node, const char *label)
{
  HessaOnnxValue       *y    = &L->g->values[node->out[0]];
  const HessaOnnxAttr  *a    = HessaOnnxAttrGet(node, "value");
  const HessaOnnxValue *fill = NULL;
  const int64_t        *shape;
  int64_t               n;

  if (!(shape = IntsInput(L, node, 0, "shape", &n, label))) return 0;
  if (n > HESSA_ONNX_MAX_DIMS) {
    LoadError(L, "%s: a shape of %lld dimensions", label, (long long)n);
    return 0;
  }
  if (a) {
    if (a->type != HESSA_ONNX_ATTR_TENSOR || a->tensor < 0 || L->g->values[a->tensor].size != 1) {
      LoadError(L, "%s: attribute 'value' must be a tensor of one element", label);
      return 0;
    }
    fill = &L->g->values[a->tensor];
  }
  y->is_int    = fill ? fill->is_int : 0;
  y->elem_type = fill ? fill->elem_type : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  y->ndim      = (int)n;
  for (int64_t d = 0; d < n; d++) {
    if (shape[d] < 0) {
      LoadError(L, "%s: shape entry %lld is %s", label, (long long)d, HessaOnnxIsBatchEntry(shape[d]) ? "the batch size (a batched constant is not supported)" : "negative");
      return 0;
    }
    y->dims[d] = shape[d];
  }
  if (!AllocConst(L, y, label)) return 0;
  for (int64_t i = 0; i < y->size; i++) {
    if (y->is_int)
      y->ivalue[i] = fill ? fill->ivalue[0] : 0;
    else
      y->value[i] = fill ? fill->value[0] : 0.0;
  }
  return 1;
}

/* Integer arithmetic on a shape entry c*N (onnx_impl.h): multiplying by a positive constant
 * k gives (c k) N, dividing by a k that divides c gives (c / k) N; anything else (adding to
 * the batch, N * N, a division that does not come out whole) is refused by name. 0 with
 * the error set when refused. */
static int FoldBatchArith(Loader *L, char op, int64_t u, int64_t v, int64_t *z, const char *label)
{
  int     bu = HessaOnnxIsBatchEntry(u), bv = HessaOnnxIsBatchEntry(v);
  int64_t c, k, ck;
  char    su[40], sv[40];

  HessaOnnxDimsString(1, &u, su, sizeof su); /* "[N]", "[4N]", "[3]" */
  HessaOnnxDimsString(1, &v, sv, sizeof sv);
  if (bu && bv) {
    LoadError(L, "%s: %s of the batch size by the batch size (%s and %s): hessa supports shape arithmetic that keeps the batch size N a whole multiple cN", label, op == 'M' ? "multiplication" : op == 'D' ? "division" : "arithmetic", su, sv);
    return 0;
  }
  c = bu ? HessaOnnxBatchFactor(u) : HessaOnnxBatchFactor(v);
  k = bu ? v : u;
  if (op == 'M' && k > 0 && !__builtin_mul_overflow(c, k, &ck) && ck < HESSA_ONNX_BATCH_MAX_FACTOR - 1) {
    *z = HessaOnnxBatchEntry(ck);
    return 1;
  }
  if (op == 'D' && bu && k > 0 && c % k == 0) {
    *z = HessaOnnxBatchEntry(c / k);
    return 1;
  }
  LoadError(L, "%s: %s %s and %s, where %s is a multiple of the batch size N: hessa supports only multiplying it by a positive integer and dividing it by a divisor of its factor", label,
            op == 'A'   ? "adds"
            : op == 'S' ? "subtracts"
            : op == 'M' ? "multiplies"
                        : "divides",
            su, sv, bu ? su : sv);
  return 0;
}

/* Add, Sub, Mul, Div with numpy broadcasting; integer arithmetic on the batch entry is
 * FoldBatchArith's. */
static int FoldArith(Loader *L, HessaOnnxNode *node, const char *label)
{
  const HessaOnnxValue *a = In(L, node, 0), *b = In(L, node, 1);
  HessaOnnxValue       *y  = &L->g->values[node->out[0]];
  char                  op = node->op_type[0];
  Broadcast             bc;

  if (!a || !b || a->is_int != b->is_int) {
    LoadError(L, "%s: needs two inputs of the same kind (integer or float)", label);
    return 0;
  }
  if ((ContainsBatch(a) || ContainsBatch(b)) && !a->is_int) {
    LoadError(L, "%s: arithmetic on the batch size (a shape entry of the batch dimension) is not supported", label);
    return 0;
  }
  if (!BroadcastBegin(L, 2, (const HessaOnnxValue *[]){a, b}, y, &bc, label)) return 0;
  y->is_int    = a->is_int;
  y->elem_type = a->elem_type;
  if (!AllocConst(L, y, label)) return 0;
  for (int64_t i = 0; i < y->size; i++, BroadcastNext(&bc)) {
    const int64_t ia = bc.off[0], ib = bc.off[1];
    if (y->is_int) {
      int64_t u = a->ivalue[ia], v = b->ivalue[ib], z = 0;
      int     bad = 0;
      if (HessaOnnxIsBatchEntry(u) || HessaOnnxIsBatchEntry(v)) {
        if (!FoldBatchArith(L, op, u, v, &z, label)) return 0;
        y->ivalue[i] = z;
        continue;
      }
      switch (op) {
      case 'A':
        bad = __builtin_add_overflow(u, v, &z);
        break;
      case 'S':
        bad = __builtin_sub_overflow(u, v, &z);
        break;
      case 'M':
        bad = __builtin_mul_overflow(u, v, &z);
        break;
      default:
        if (v == 0 || (u == INT64_MIN && v == -1))
          bad = 1;
        else
          z = u / v;
        break;
      }
      if (bad || HessaOnnxIsBatchEntry(z)) {
        LoadError(L, "%s: integer %s of %lld and %lld", label, op == 'D' ? "division (by zero or overflowing)" : "overflow", (long long)u, (long long)v);
        return 0;
      }
      y->ivalue[i] = z;
    } else {
      double u = a->value[ia], v = b->value[ib];
      double z = op == 'A' ? u + v : op == 'S' ? u - v : op == 'M' ? u * v : u / v;
      /* an infinite mask entry may pass through (PyTorch's baddbmm scales the float
       * attn_mask by beta = 1): -inf * 1 stays -inf; a new infinity or a NaN is an error */
      if (isnan(z) || (!isfinite(z) && isfinite(u) && isfinite(v))) {
        LoadError(L, "%s: the result %g is not finite", label, z);
        return 0;
      }
      if (y->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) z = (double)(float)z;
      y->value[i] = z;
    }
  }
  return 1;
}

/* The elementwise ops of FoldElementwiseOps on constants, numpy broadcasting: comparisons
 * give bool (0/1 integers), logic reads nonzero as true, arithmetic is float. The batch
 * entry of a shape is refused (it stays opaque). */
static int FoldElementwise(Loader *L, HessaOnnxNode *node, const char *label)
{
  const char           *op    = node->op_type;
  const int             unary = !strcmp(op, "Not") || !strcmp(op, "Sqrt") || !strcmp(op, "Reciprocal") || !strcmp(op, "Neg");
  const int             cmp = !strcmp(op, "Equal") || !strncmp(op, "Less", 4) || !strncmp(op, "Greater", 7), logic = !strcmp(op, "Not") || !strcmp(op, "And") || !strcmp(op, "Or") || !strcmp(op, "Xor");
  const HessaOnnxValue *a = In(L, node, 0), *b = unary ? a : In(L, node, 1);
  HessaOnnxValue       *y = &L->g->values[node->out[0]];
  Broadcast             bc;

  if (!a || !b) {
    LoadError(L, "%s: needs %d inputs", label, unary ? 1 : 2);
    return 0;
  }
  if ((ContainsBatch(a) || ContainsBatch(b)) && strcmp(op, "Equal")) {
    LoadError(L, "%s: %s of the batch size (a shape entry of the batch dimension) is not supported", label, op);
    return 0;
  }
  if (!BroadcastBegin(L, 2, (const HessaOnnxValue *[]){a, b}, y, &bc, label)) return 0;
  y->is_int    = cmp || logic || (a->is_int && (!strcmp(op, "Neg")));
  y->elem_type = (cmp || logic) ? ONNX__TENSOR_PROTO__DATA_TYPE__BOOL : y->is_int ? a->elem_type : (a->is_int ? ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE : a->elem_type);
  if (!AllocConst(L, y, label)) return 0;
  for (int64_t i = 0; i < y->size; i++, BroadcastNext(&bc)) {
    const int64_t ia = bc.off[0], ib = bc.off[1];
    double        u, v, z;
    u = a->is_int ? (double)a->ivalue[ia] : a->value[ia];
    v = b->is_int ? (double)b->ivalue[ib] : b->value[ib];
    if (cmp && a->is_int && b->is_int && HessaOnnxIsBatchEntry(a->ivalue[ia]) != HessaOnnxIsBatchEntry(b->ivalue[ib])) {
      /* the batch size is some count >= 1: equal to no number below 1 (Expand's -1 test) */
      int64_t other = HessaOnnxIsBatchEntry(a->ivalue[ia]) ? b->ivalue[ib] : a->ivalue[ia];
      if (other >= 1) {
        LoadError(L, "%s: compares the batch size with %lld, which hessa cannot decide at load", label, (long long)other);
        return 0;
      }
      z = 0;
    } else if (cmp && a->is_int && b->is_int) { /* exact on 64-bit integers */
      int64_t p = a->ivalue[ia], q = b->ivalue[ib];
      z = !strcmp(op, "Equal") ? p == q : !strcmp(op, "Less") ? p < q : !strcmp(op, "LessOrEqual") ? p <= q : !strcmp(op, "Greater") ? p > q : p >= q;
    } else if (cmp)
      z = !strcmp(op, "Equal") ? u == v : !strcmp(op, "Less") ? u < v : !strcmp(op, "LessOrEqual") ? u <= v : !strcmp(op, "Greater") ? u > v : u >= v;
    else if (logic)
      z = !strcmp(op, "Not") ? u == 0 : !strcmp(op, "And") ? (u != 0 && v != 0) : !strcmp(op, "Or") ? (u != 0 || v != 0) : ((u != 0) != (v != 0));
    else if (y->is_int) { /* Neg of an integer */
      if (a->ivalue[ia] == INT64_MIN) {
        LoadError(L, "%s: integer overflow", label);
        return 0;
      }
      y->ivalue[i] = -a->ivalue[ia];
      continue;
    } else {
      z = !strcmp(op, "Pow") ? pow(u, v) : !strcmp(op, "Sqrt") ? sqrt(u) : !strcmp(op, "Reciprocal") ? 1.0 / u : -u;
      if (!isfinite(z)) {
        LoadError(L, "%s: the result %g of %s(%g%s) is not finite", label, z, op, u, unary ? "" : ", ...");
        return 0;
      }
      if (y->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) z = (double)(float)z;
    }
    if (y->is_int)
      y->ivalue[i] = (int64_t)z;
    else
      y->value[i] = z;
  }
  return 1;
}

/* Reshape of a constant (shape arithmetic: Expand's target shape is exported as a Reshape
 * of a Concat): 0 copies the input's dim (allowzero = 0), one -1 is inferred. */
static int FoldReshape(Loader *L, HessaOnnxNode *node, const char *label)
{
  const HessaOnnxValue *x = In(L, node, 0);
  HessaOnnxValue       *y = &L->g->values[node->out[0]];
  const int64_t        *t;
  int64_t               nt, prod = 1, neg = -1;

  if (!(t = IntsInput(L, node, 1, "shape", &nt, label))) return 0;
  if (nt > HESSA_ONNX_MAX_DIMS) {
    LoadError(L, "%s: a target shape of %lld dims", label, (long long)nt);
    return 0;
  }
  for (int64_t d = 0; d < nt; d++) {
    int64_t e = t[d];
    if (e == 0 && !HessaOnnxAttrInt(node, "allowzero", 0)) {
      if (d >= x->ndim) {
        LoadError(L, "%s: entry %lld copies a dim the input lacks", label, (long long)d);
        return 0;
      }
      e = x->dims[d];
    }
    if (e == -1 && neg < 0) {
      neg = d;
      continue;
    }
    if (e < 0) {
      LoadError(L, "%s: target shape entry %lld is %lld", label, (long long)d, (long long)e);
      return 0;
    }
    y->dims[d] = e;
    prod *= e;
  }
  if (neg >= 0) y->dims[neg] = prod ? x->size / prod : 0;
  if (neg >= 0 && prod) prod *= y->dims[neg];
  if (prod != x->size) {
    LoadError(L, "%s: the target shape does not fit the constant's %lld elements", label, (long long)x->size);
    return 0;
  }
  y->ndim      = (int)nt;
  y->is_int    = x->is_int;
  y->elem_type = x->elem_type;
  if (!AllocConst(L, y, label)) return 0;
  for (int64_t i = 0; i < x->size; i++) CopyElem(y, i, x, i);
  return 1;
}

/* Where of constants (Expand's shape: Where(shape == -1, 1, shape)); the batch entry passes. */
static int FoldWhere(Loader *L, HessaOnnxNode *node, const char *label)
{
  const HessaOnnxValue *c = In(L, node, 0), *a = In(L, node, 1), *b = In(L, node, 2);
  HessaOnnxValue       *y = &L->g->values[node->out[0]];
  Broadcast             bc;

  if (!c || !a || !b || a->is_int != b->is_int) {
    LoadError(L, "%s: needs a condition and two inputs of the same kind", label);
    return 0;
  }
  if (!BroadcastBegin(L, 3, (const HessaOnnxValue *[]){c, a, b}, y, &bc, label)) return 0;
  y->is_int    = a->is_int;
  y->elem_type = a->elem_type;
  if (!AllocConst(L, y, label)) return 0;
  for (int64_t i = 0; i < y->size; i++, BroadcastNext(&bc)) {
    int take = c->is_int ? c->ivalue[bc.off[0]] != 0 : c->value[bc.off[0]] != 0.0;
    CopyElem(y, i, take ? a : b, take ? bc.off[1] : bc.off[2]);
  }
  return 1;
}

/* The layout layer's new constants (HessaOnnxLayoutHooks): per-sample axes of a node, named
 * after the ONNX value they replace. */
static int LayoutNewInts(void *ctx, const char *name, int64_t n, const int64_t *ints)
{
  Loader *L = (Loader *)ctx;
  char    nm[400];
  int     v;

  for (int k = 0;; k++) {
    snprintf(nm, sizeof nm, "%s:per_sample_%d", name, k);
    if (FindValue(L, nm) < 0) break;
  }
  if ((v = AddNamedValue(L, nm, "per-sample axes")) < 0) return -1;
  L->g->values[v].is_int    = 1;
  L->g->values[v].elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  L->g->values[v].ndim      = 1;
  L->g->values[v].dims[0]   = n;
  if (!AllocConst(L, &L->g->values[v], nm)) return -1;
  memcpy(L->g->values[v].ivalue, ints, (size_t)n * sizeof *ints);
  return v;
}

/* Fold one node of FoldOps whose inputs are constants (Shape: whose input's shape is known). */
static int FoldNode(Loader *L, HessaOnnxNode *node)
{
  const char *op = node->op_type;
  char        label[300];

  HessaOnnxNodeLabel(node, label, sizeof label);
  if (node->n_out < 1 || node->out[0] < 0) {
    LoadError(L, "%s: has no output", label);
    return 0;
  }
  for (int i = 1; i < node->n_out; i++)
    if (node->out[i] >= 0) {
      LoadError(L, "%s: has %d outputs, expected 1", label, node->n_out);
      return 0;
    }
  if (!In(L, node, 0)) {
    LoadError(L, "%s: input 0 is missing", label);
    return 0;
  }
  if (!strcmp(op, "Shape")) return FoldShape(L, node, label);
  if (!strcmp(op, "Gather")) return FoldGather(L, node, label);
  if (!strcmp(op, "Unsqueeze")) return FoldUnsqueezeSqueeze(L, node, 0, label);
  if (!strcmp(op, "Squeeze")) return FoldUnsqueezeSqueeze(L, node, 1, label);
  if (!strcmp(op, "Concat")) return FoldConcat(L, node, label);
  if (!strcmp(op, "Slice")) return FoldSlice(L, node, label);
  if (!strcmp(op, "Cast")) return FoldCast(L, node, label);
  if (!strcmp(op, "ConstantOfShape")) return FoldConstantOfShape(L, node, label);
  if (!strcmp(op, "Identity")) return CopyConst(L, &L->g->values[node->out[0]], In(L, node, 0), label);
  if (IsFoldElementwiseOp(op)) return FoldElementwise(L, node, label);
  if (!strcmp(op, "Reshape")) return FoldReshape(L, node, label);
  if (!strcmp(op, "Where")) return FoldWhere(L, node, label);
  return FoldArith(L, node, label);
}

/* A Constant node's output from its attribute. */
static int FoldConstant(Loader *L, HessaOnnxNode *node)
{
  char            label[300];
  HessaOnnxValue *y;

  HessaOnnxNodeLabel(node, label, sizeof label);
  if (node->n_out != 1 || node->out[0] < 0 || node->n_in != 0 || node->n_attr != 1) {
    LoadError(L, "%s: a Constant node needs no input, one output and one attribute", label);
    return 0;
  }
  y                      = &L->g->values[node->out[0]];
  const HessaOnnxAttr *a = &node->attr[0];
  y->ndim                = 0;
  if (!strcmp(a->name, "value") && a->type == HESSA_ONNX_ATTR_TENSOR && a->tensor >= 0) return CopyConst(L, y, &L->g->values[a->tensor], label);
  if (!strcmp(a->name, "value_float") && a->type == HESSA_ONNX_ATTR_FLOAT) {
    y->is_int    = 0;
    y->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (!AllocConst(L, y, label)) return 0;
    y->value[0] = a->f;
    return 1;
  }
  if (!strcmp(a->name, "value_int") && a->type == HESSA_ONNX_ATTR_INT) {
    y->is_int    = 1;
    y->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    if (!AllocConst(L, y, label)) return 0;
    y->ivalue[0] = a->i;
    return 1;
  }
  if ((!strcmp(a->name, "value_floats") && a->type == HESSA_ONNX_ATTR_FLOATS) || (!strcmp(a->name, "value_ints") && a->type == HESSA_ONNX_ATTR_INTS)) {
    y->is_int    = a->type == HESSA_ONNX_ATTR_INTS;
    y->elem_type = y->is_int ? ONNX__TENSOR_PROTO__DATA_TYPE__INT64 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    y->ndim      = 1;
    y->dims[0]   = a->n;
    if (!AllocConst(L, y, label)) return 0;
    for (int64_t i = 0; i < a->n; i++) {
      if (y->is_int)
        y->ivalue[i] = a->ints[i];
      else
        y->value[i] = a->floats[i];
    }
    return 1;
  }
  LoadError(L, "%s: attribute '%s' is not supported (hessa reads value, value_float(s), value_int(s))", label, a->name);
  return 0;
}

/* ---- the graph ------------------------------------------------------------------------- */

/* Free what a node owns (names, inputs, outputs, attributes, op_data); not the node. */
/* Ops whose outputs carry no derivative (booleans, shapes, integer casts): nothing flows back
 * through them to their inputs. */
static int IsNonDifferentiableOp(const HessaOnnxNode *node)
{
  static const char *ops[] = {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "Shape", "Size", "ConstantOfShape"};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (!strcmp(node->op_type, ops[i])) return 1;
  if (!strcmp(node->op_type, "Cast")) {
    int64_t to = HessaOnnxAttrInt(node, "to", 0);
    return to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && to != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE && to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 && to != ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
  }
  return 0;
}

/* A float initializer that reaches the graph output only through inputs that are never
 * differentiated is a constant, not a parameter: a causal mask buffer that is sliced and
 * compared (mask[:, :, :T, :T] == 0 feeds Where's condition). Walk back from the output
 * through the differentiable input slots (an op's constant_inputs and the ops of
 * IsNonDifferentiableOp stop the walk) and clear pcand of the initializers not reached. */
static void MaskedFloatInitializers(Loader *L, const int *order, const char *needed, const HessaOnnxOp *(*find)(const char[]))
{
  HessaOnnxGraph *g     = L->g;
  char           *reach = calloc((size_t)g->n_values + 1, 1);

  if (!reach) return; /* keep every candidate: the old rule */
  reach[g->output] = 1;
  for (int t = g->n_nodes - 1; t >= 0; t--) {
    const HessaOnnxNode *node = &g->nodes[order[t]];
    const HessaOnnxOp   *op;
    int                  any = 0;
    if (!needed[order[t]] || IsNonDifferentiableOp(node)) continue;
    for (int o = 0; o < node->n_out; o++)
      if (node->out[o] >= 0 && reach[node->out[o]]) any = 1;
    if (!any) continue;
    op = find(node->op_type);
    for (int i = 0; i < node->n_in; i++)
      if (node->in[i] >= 0 && !(op && i < 32 && (op->constant_inputs >> i) & 1u)) reach[node->in[i]] = 1;
  }
  for (int v = 0; v < g->n_values; v++)
    if (L->pcand[v] && !reach[v]) L->pcand[v] = 0;
  free(reach);
}

/* The first input of a node that runs which is a constant with an infinite entry, or -1.
 * Only Where's X and Y (masked_fill) and an operand of Add or Sub (an additive mask) may be
 * infinite: a constant there has no tangent or adjoint, and the -inf it puts in the scores
 * becomes 0 in a softmax. Anywhere else an Inf would flow into the loss or its derivatives
 * (an infinite loss or derivative is an error of the executor either way). */
static int NonFiniteInput(const HessaOnnxGraph *g, const HessaOnnxNode *node)
{
  for (int i = 0; i < node->n_in; i++) {
    const HessaOnnxValue *v = node->in[i] >= 0 ? &g->values[node->in[i]] : NULL;
    if (!v || v->kind != HESSA_ONNX_CONST || v->is_int || !v->value || (!strcmp(node->op_type, "Where") && (i == 1 || i == 2)) || !strcmp(node->op_type, "Add") || !strcmp(node->op_type, "Sub")) continue;
    for (int64_t e = 0; e < v->size; e++)
      if (!isfinite(v->value[e])) return i;
  }
  return -1;
}

static void NodeClear(HessaOnnxNode *n)
{
  free(n->name);
  free(n->op_type);
  free(n->in);
  free(n->out);
  for (int a = 0; a < n->n_attr; a++) {
    free(n->attr[a].name);
    free(n->attr[a].s);
    free(n->attr[a].floats);
    free(n->attr[a].ints);
  }
  free(n->attr);
  free(n->op_data);
}

/* HessaOnnxGraphDestroy - free a graph and everything it owns; *g becomes NULL. */
void HessaOnnxGraphDestroy(HessaOnnxGraph **gp)
{
  HessaOnnxGraph *g = gp ? *gp : NULL;
  if (!g) return;
  for (int i = 0; i < g->n_values; i++) HessaOnnxValueClear(&g->values[i]);
  for (int i = 0; i < g->n_nodes; i++) {
    NodeClear(&g->nodes[i]);
  }
  free(g->values);
  free(g->nodes);
  free(g->param_values);
  free(g);
  *gp = NULL;
}

/* A graph input's shape: the batch is the one symbolic dimension, or else dims[0] (symbolic
 * or fixed); the others are fixed. */
static void InputShape(Loader *L, const Onnx__ValueInfoProto *vi, HessaOnnxValue *v)
{
  const Onnx__TypeProto__Tensor *tt                        = vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ? vi->type->tensor_type : NULL;
  int64_t                        dims[HESSA_ONNX_MAX_DIMS] = {0};
  int                            et, batch_axis = 0;

  if (!tt || !tt->shape) {
    LoadError(L, "graph input '%s' has no tensor type with a shape", vi->name);
    return;
  }
  et = tt->has_elem_type ? tt->elem_type : 0;
  /* integer inputs are token ids (-hessa_data_source tokens): stored as doubles holding integers */
  if (!ElemIsFloat(et) && et != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && et != ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
    LoadError(L, "graph input '%s' has element type %s; the data input must be float32 or float64 (features) or int64 or int32 (token ids)", vi->name, ElemTypeName(et));
    return;
  }
  if (tt->shape->n_dim < 1 || tt->shape->n_dim > HESSA_ONNX_MAX_DIMS) {
    LoadError(L, "graph input '%s' has %zu dimensions; the data input needs 1 to %d (the batch first)", vi->name, tt->shape->n_dim, HESSA_ONNX_MAX_DIMS);
    return;
  }
  /* the batch axis: the one symbolic dimension (dynamic_axes) when exactly one is and it is
   * not the first (a seq-first model's x [T, N, E]); else the first */
  {
    int n_sym = 0, sym = 0;
    for (size_t d = 0; d < tt->shape->n_dim; d++)
      if (tt->shape->dim[d]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) n_sym++, sym = (int)d;
    if (n_sym == 1) batch_axis = sym;
  }
  for (size_t d = 0, k = 1; d < tt->shape->n_dim; d++) {
    const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
    if ((int)d == batch_axis) continue;
    if (dim->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || dim->dim_value <= 0) {
      LoadError(L, "graph input '%s': dimension %zu is %s%s%s; hessa needs fixed positive per-sample dimensions (only the batch may be symbolic)", vi->name, d,
                dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? "symbolic ('" : "not a positive number", dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? dim->dim_param : "",
                dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? "')" : "");
      return;
    }
    dims[k++] = dim->dim_value;
  }
  v->kind      = HESSA_ONNX_INPUT;
  v->lay_axis  = batch_axis; /* the rows of the data are the ONNX input's samples x[:, n] */
  v->elem_type = et;
  v->is_int    = !ElemIsFloat(et);
  HessaOnnxValueSetShape(v, (int)tt->shape->n_dim, dims, 1);
  if (v->size > HESSA_ONNX_MAX_CONST_ELEMS) LoadError(L, "graph input '%s' has %lld values per sample, more than hessa handles", vi->name, (long long)v->size);
}

/* Min-heap of node indices: the ready node earliest in the file goes first. */
static void HeapPush(int *h, int *n, int x)
{
  int i = (*n)++;
  h[i]  = x;
  while (i && h[(i - 1) / 2] > h[i]) {
    int p = (i - 1) / 2, t = h[p];
    h[p] = h[i];
    h[i] = t;
    i    = p;
  }
}

static int HeapPop(int *h, int *n)
{
  int top = h[0], i = 0;
  h[0] = h[--(*n)];
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i, t;
    if (l < *n && h[l] < h[m]) m = l;
    if (r < *n && h[r] < h[m]) m = r;
    if (m == i) break;
    t    = h[m];
    h[m] = h[i];
    h[i] = t;
    i    = m;
  }
  return top;
}

/* Topological order of the nodes into order[]; a cycle is an error naming its nodes. */
static void TopoSort(Loader *L, int *order)
{
  HessaOnnxGraph *g  = L->g;
  int             nn = g->n_nodes, done = 0, nh = 0;
  int            *deg = calloc((size_t)nn + 1, sizeof(int)), *heap = malloc(((size_t)nn + 1) * sizeof(int));
  int            *cstart = calloc((size_t)g->n_values + 1, sizeof(int)), *cons = NULL, total = 0;

  if (!deg || !heap || !cstart) goto oom;
  for (int k = 0; k < nn; k++)
    for (int i = 0; i < g->nodes[k].n_in; i++) {
      int v = g->nodes[k].in[i];
      if (v >= 0 && g->values[v].producer >= 0) deg[k]++, cstart[v + 1]++, total++;
    }
  for (int v = 0; v < g->n_values; v++) cstart[v + 1] += cstart[v];
  if (!(cons = malloc(((size_t)total + 1) * sizeof(int)))) goto oom;
  {
    int *fill = calloc((size_t)g->n_values + 1, sizeof(int));
    if (!fill) goto oom;
    for (int k = 0; k < nn; k++)
      for (int i = 0; i < g->nodes[k].n_in; i++) {
        int v = g->nodes[k].in[i];
        if (v >= 0 && g->values[v].producer >= 0) cons[cstart[v] + fill[v]++] = k;
      }
    free(fill);
  }
  for (int k = 0; k < nn; k++)
    if (!deg[k]) HeapPush(heap, &nh, k);
  while (nh) {
    int k         = HeapPop(heap, &nh);
    order[done++] = k;
    for (int o = 0; o < g->nodes[k].n_out; o++) {
      int v = g->nodes[k].out[o];
      if (v < 0) continue;
      for (int c = cstart[v]; c < cstart[v + 1]; c++)
        if (--deg[cons[c]] == 0) HeapPush(heap, &nh, cons[c]);
    }
  }
  if (done < nn) {
    /* walk back from a blocked node through blocked producers until a node repeats */
    char   msg[700] = "";
    size_t len      = 0;
    int    k        = -1, start;
    for (int j = 0; j < nn && k < 0; j++)
      if (deg[j]) k = j;
    for (int steps = 0; steps < nn; steps++) {
      int next = -1;
      for (int i = 0; i < g->nodes[k].n_in && next < 0; i++) {
        int v = g->nodes[k].in[i];
        if (v >= 0 && g->values[v].producer >= 0 && deg[g->values[v].producer]) next = g->values[v].producer;
      }
      k = next;
    }
    start = k;
    do {
      char lab[300];
      int  next = -1;
      if (len < sizeof msg) len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s", len ? " <- " : "", HessaOnnxNodeLabel(&g->nodes[k], lab, sizeof lab));
      for (int i = 0; i < g->nodes[k].n_in && next < 0; i++) {
        int v = g->nodes[k].in[i];
        if (v >= 0 && g->values[v].producer >= 0 && deg[g->values[v].producer]) next = g->values[v].producer;
      }
      k = next;
    } while (k != start && k >= 0);
    LoadError(L, "the graph has a cycle: %s", msg);
  }
  free(deg);
  free(heap);
  free(cstart);
  free(cons);
  return;
oom:
  HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
  free(deg);
  free(heap);
  free(cstart);
  free(cons);
}

/* The body of HessaOnnxGraphLoadWithOptions on an unpacked model. */
static void BuildGraph(Loader *L, const Onnx__ModelProto *model, const HessaOnnxLoadOptions *opt)
{
  HessaOnnxGraph         *g                = L->g;
  const Onnx__GraphProto *gp               = model->graph;
  const HessaOnnxOp *(*find)(const char[]) = opt->find_op ? opt->find_op : HessaOnnxOpFind;
  int  *order = NULL, n_data = 0, *folded = NULL, n_kept = 0;
  char *needed     = NULL;
  int   have_opset = 0;

  /* the opset of the default domain; ops of other domains are refused below */
  for (size_t i = 0; i < model->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = model->opset_import[i];
    if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx")) {
      g->opset   = o->has_version ? o->version : 0;
      have_opset = 1;
    }
  }
  if (!have_opset) {
    LoadError(L, "the model imports no opset of the default ONNX domain");
    return;
  }
  if (g->opset < (opt->opset_min > 0 ? opt->opset_min : HESSA_ONNX_OPSET_MIN) || g->opset > HESSA_ONNX_OPSET_MAX) {
    LoadError(L, "the model uses opset %lld of the default domain; hessa reads opsets %d to %d (export with opset_version=17)", (long long)g->opset, (int)(opt->opset_min > 0 ? opt->opset_min : HESSA_ONNX_OPSET_MIN), HESSA_ONNX_OPSET_MAX);
    return;
  }
  if (!gp) {
    LoadError(L, "the model has no graph");
    return;
  }
  if (gp->n_sparse_initializer) {
    LoadError(L, "the graph has sparse initializers, which hessa does not read");
    return;
  }

  /* initializers */
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *t = gp->initializer[i];
    char                     what[400];
    HessaOnnxValue           tmp;
    int                      k;
    snprintf(what, sizeof what, "initializer '%s'", t->name ? t->name : "");
    if ((k = AddNamedValue(L, t->name, "an initializer")) < 0) return;
    /* infinite entries are kept (an additive attention mask buffer of -inf above the
       diagonal) but make the tensor a constant, never a parameter; NonFiniteInput says which
       ops may read it */
    DecodeTensor(L->path, L->dir, t, what, 1, &tmp, L->st);
    free(tmp.name);
    tmp.name     = g->values[k].name;
    g->values[k] = tmp;
    L->init[k]   = 1;
    L->pcand[k]  = !tmp.is_int;
    for (int64_t e = 0; !tmp.is_int && tmp.value && e < tmp.size && L->pcand[k]; e++)
      if (!isfinite(tmp.value[e])) L->pcand[k] = 0;
    if (L->st->code) return;
  }

  /* graph inputs that are not initializers: the data input (and, for tests, fed constants) */
  g->input = -1;
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    int                         k  = vi->name ? FindValue(L, vi->name) : -1;
    if (k >= 0 && L->init[k]) continue; /* an initializer listed as an input too */
    if (opt->n_feeds > 0 && !(opt->first_input_batched && n_data == 0)) {
      if (n_data >= opt->n_feeds) {
        LoadError(L, "graph input '%s' is not given a value (%d given)", vi->name ? vi->name : "", opt->n_feeds);
        return;
      }
      if ((k = AddNamedValue(L, vi->name, "a graph input")) < 0) return;
      char *name        = g->values[k].name;
      g->values[k].name = NULL;
      if (!CopyConst(L, &g->values[k], &opt->feeds[n_data], name)) {
        g->values[k].name = name;
        return;
      }
      g->values[k].name = name;
      n_data++;
      continue;
    }
    if ((k = AddNamedValue(L, vi->name, "a graph input")) < 0) return;
    n_data++;
    if (g->input >= 0) {
      LoadError(L, "the graph has more than one data input ('%s' and '%s'); hessa needs exactly one", g->values[g->input].name, vi->name);
      return;
    }
    g->input = k;
    InputShape(L, vi, &g->values[k]);
    if (L->st->code) return;
  }
  if (opt->n_feeds > 0 && n_data != opt->n_feeds) {
    LoadError(L, "the graph has %d inputs besides its initializers, but %d were given", n_data, opt->n_feeds);
    return;
  }
  if (g->input < 0 && !(opt->n_feeds > 0 && !opt->first_input_batched)) {
    LoadError(L, "the graph has no data input (every graph input is an initializer)");
    return;
  }

  /* nodes, their attributes and their outputs */
  if (!(g->nodes = calloc(gp->n_node ? gp->n_node : 1, sizeof *g->nodes))) {
    HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
    return;
  }
  for (size_t j = 0; j < gp->n_node; j++) {
    const Onnx__NodeProto *np   = gp->node[j];
    HessaOnnxNode         *node = &g->nodes[g->n_nodes++];
    char                   label[300];
    node->file_index = (int)j;
    node->name       = StrDup(np->name ? np->name : "");
    node->op_type    = StrDup(np->op_type ? np->op_type : "");
    node->in         = malloc((np->n_input ? np->n_input : 1) * sizeof(int));
    node->out        = malloc((np->n_output ? np->n_output : 1) * sizeof(int));
    if (!node->name || !node->op_type || !node->in || !node->out) {
      HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
      return;
    }
    HessaOnnxNodeLabel(node, label, sizeof label);
    if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx")) {
      LoadError(L, "%s is of domain '%s'; hessa runs ops of the default ONNX domain only", label, np->domain);
      return;
    }
    if (np->n_input > 64 || np->n_output > 16) {
      LoadError(L, "%s has %zu inputs and %zu outputs, more than any supported op", label, np->n_input, np->n_output);
      return;
    }
    node->n_in  = (int)np->n_input;
    node->n_out = (int)np->n_output;
    for (int i = 0; i < node->n_in; i++) node->in[i] = -1;
    for (size_t o = 0; o < np->n_output; o++) {
      char what[400];
      int  k;
      node->out[o] = -1;
      if (!np->output[o] || !*np->output[o]) continue; /* an optional output not wanted */
      snprintf(what, sizeof what, "an output of %s", label);
      if ((k = AddNamedValue(L, np->output[o], what)) < 0) return;
      g->values[k].kind     = HESSA_ONNX_RUNTIME;
      g->values[k].producer = (int)j;
      node->out[o]          = k;
    }
    ConvertAttributes(L, np, node);
    if (L->st->code) return;
  }
  /* node inputs, now that every name exists */
  for (int j = 0; j < g->n_nodes; j++) {
    const Onnx__NodeProto *np = gp->node[j];
    for (int i = 0; i < g->nodes[j].n_in; i++) {
      char label[300];
      if (!np->input[i] || !*np->input[i]) continue; /* an absent optional input */
      if ((g->nodes[j].in[i] = FindValue(L, np->input[i])) < 0) {
        LoadError(L, "%s: input '%s' is produced by no node, initializer or graph input", HessaOnnxNodeLabel(&g->nodes[j], label, sizeof label), np->input[i]);
        return;
      }
    }
  }
  if (gp->n_output != 1) {
    LoadError(L, "the graph has %zu outputs; hessa needs exactly one (the logits or predictions)", gp->n_output);
    return;
  }
  if (!gp->output[0]->name || (g->output = FindValue(L, gp->output[0]->name)) < 0) {
    LoadError(L, "the graph output '%s' is produced by no node", gp->output[0]->name ? gp->output[0]->name : "");
    return;
  }

  /* order, then keep what the output needs */
  order  = malloc(((size_t)g->n_nodes + 1) * sizeof(int));
  needed = calloc((size_t)g->n_nodes + 1, 1);
  folded = calloc((size_t)g->n_nodes + 1, sizeof(int));
  if (!order || !needed || !folded) {
    HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
    goto done;
  }
  TopoSort(L, order);
  if (L->st->code) goto done;
  {
    char *vneed = calloc((size_t)g->n_values + 1, 1);
    if (!vneed) {
      HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
      goto done;
    }
    vneed[g->output] = 1;
    for (int t = g->n_nodes - 1; t >= 0; t--) {
      HessaOnnxNode *node = &g->nodes[order[t]];
      for (int o = 0; o < node->n_out; o++)
        if (node->out[o] >= 0 && vneed[node->out[o]]) needed[order[t]] = 1;
      if (needed[order[t]])
        for (int i = 0; i < node->n_in; i++)
          if (node->in[i] >= 0) vneed[node->in[i]] = 1;
    }
    if (g->input >= 0 && !vneed[g->input]) {
      free(vneed);
      LoadError(L, "the graph output '%s' does not depend on the data input '%s'", g->values[g->output].name, g->values[g->input].name);
      goto done;
    }
    free(vneed);
  }

  /* choose: fold (Constant, shape computations on constants) or run (the op table);
   * float initializers in a slot the op differentiates become parameters, by first use */
  {
    char *constish = calloc((size_t)g->n_values + 1, 1); /* known at load: folded or integer/constant */
    if (!constish) {
      HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
      goto done;
    }
    MaskedFloatInitializers(L, order, needed, find);
    for (int v = 0; v < g->n_values; v++) constish[v] = g->values[v].kind == HESSA_ONNX_CONST && !L->pcand[v] && g->values[v].producer < 0;
    for (int t = 0; t < g->n_nodes && !L->st->code; t++) {
      int            j    = order[t];
      HessaOnnxNode *node = &g->nodes[j];
      char           label[300];
      int            all_const = 1;
      if (!needed[j]) continue;
      HessaOnnxNodeLabel(node, label, sizeof label);
      for (int i = 0; i < node->n_in; i++)
        if (node->in[i] >= 0 && !constish[node->in[i]]) all_const = 0;
      if (!strcmp(node->op_type, "Constant") || (IsFoldOp(node->op_type) && (all_const || !strcmp(node->op_type, "Shape")))) {
        folded[j] = 1;
        for (int o = 0; o < node->n_out; o++)
          if (node->out[o] >= 0) constish[node->out[o]] = 1;
        continue;
      }
      if (!(node->op = find(node->op_type))) {
        int runtime_in = -1;
        for (int i = 0; i < node->n_in && runtime_in < 0; i++)
          if (node->in[i] >= 0 && !constish[node->in[i]]) runtime_in = node->in[i];
        if (IsFoldOnlyOp(node->op_type) && runtime_in >= 0)
          LoadError(L, "%s: hessa runs %s only on constants (shape computations folded at load), but its input '%s' is %s", label, node->op_type, g->values[runtime_in].name,
                    L->pcand[runtime_in] ? "a float initializer (a parameter)" : "computed at run time");
        else
          LoadError(L, "%s: op '%s' is not supported; hessa supports %s", label, node->op_type, HessaOnnxSupportedOps());
        break;
      }
      /* torch.onnx.export (eval mode) replaces an initializer equal to an earlier one by
         Identity(earlier): two PyTorch parameters would become one tied parameter here and
         the Hessian would be that of another model, so refuse rather than analyse it */
      if (!strcmp(node->op_type, "Identity") && node->n_in > 0 && node->in[0] >= 0 && (L->pcand[node->in[0]] || g->values[node->in[0]].kind == HESSA_ONNX_PARAM)) {
        LoadError(
            L,
            "%s: the float initializer '%s' is passed on through Identity as '%s', which ties two parameters into one (torch.onnx.export merges initializers with equal values); export with tools/onnx_export.py, which keeps them apart (docs/onnx.md)",
            label, g->values[node->in[0]].name, node->out[0] >= 0 ? g->values[node->out[0]].name : "?");
        break;
      }
      for (int i = 0; i < node->n_in; i++) {
        int v = node->in[i];
        if (v < 0 || !L->pcand[v] || (i < 32 && (node->op->constant_inputs >> i) & 1u)) continue;
        HessaOnnxValue *p = &g->values[v];
        L->pcand[v]       = 0;
        p->kind           = HESSA_ONNX_PARAM;
        p->differentiable = 1;
        p->offset         = g->n_params;
        if ((int64_t)g->n_params + p->size > (int64_t)PETSC_MAX_INT) {
          LoadError(L, "the parameters outgrow PetscInt at initializer '%s'", p->name);
          break;
        }
        g->n_params += (PetscInt)p->size;
        int *pv = realloc(g->param_values, ((size_t)g->n_param_values + 1) * sizeof(int));
        if (!pv) {
          HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
          break;
        }
        g->param_values                      = pv;
        g->param_values[g->n_param_values++] = v;
      }
    }
    free(constish);
    if (L->st->code) goto done;
  }

  /* fold and infer in order */
  if (g->input >= 0) g->values[g->input].batched = 1;
  for (int t = 0; t < g->n_nodes && !L->st->code; t++) {
    int            j    = order[t];
    HessaOnnxNode *node = &g->nodes[j];
    if (!needed[j]) continue;
    if (folded[j]) {
      if (!strcmp(node->op_type, "Constant"))
        FoldConstant(L, node);
      else
        FoldNode(L, node);
      continue;
    }
    /* defaults the op's infer may change: batched/differentiable if any input is */
    int batched = 0, diff = 0, et = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, is_int = 0, seen = 0;
    for (int i = 0; i < node->n_in; i++) {
      const HessaOnnxValue *x = In(L, node, i);
      if (!x) continue;
      batched |= x->batched;
      diff |= x->differentiable;
      if (!seen++) et = x->elem_type, is_int = x->is_int;
    }
    for (int o = 0; o < node->n_out; o++) {
      if (node->out[o] < 0) continue;
      HessaOnnxValue *y = &g->values[node->out[o]];
      y->kind           = HESSA_ONNX_RUNTIME;
      y->batched        = batched;
      y->differentiable = diff;
      y->elem_type      = et;
      y->is_int         = is_int;
      y->ndim           = -1; /* infer must set it */
    }
    node->phase = batched;
    {
      int  bad = NonFiniteInput(g, node);
      char label[300];
      if (bad >= 0) {
        LoadError(L, "%s: input %d '%s' is a constant with an infinite entry; hessa accepts -inf/inf only as X or Y of Where (masked_fill) or an operand of Add/Sub (an additive mask)", HessaOnnxNodeLabel(node, label, sizeof label), bad,
                  g->values[node->in[bad]].name);
        break;
      }
    }
    HessaStatus          ist   = {0};
    HessaOnnxLayoutPlan  plan  = {0};
    HessaOnnxLayoutHooks hooks = {LayoutNewInts, L};
    HessaOnnxLayoutBefore(g, node, &hooks, &plan, &ist);
    if (!ist.code) node->op->infer(g, node, &ist);
    HessaOnnxLayoutAfter(g, node, &plan, &ist);
    if (ist.code) {
      /* the op's message may name the file already */
      if (strstr(ist.msg, L->path))
        HessaStatusSet(L->st, ist.code, "%s", ist.msg);
      else
        LoadError(L, "%s", ist.msg);
      break;
    }
    for (int o = 0; o < node->n_out; o++) {
      char            label[300], sh[200];
      HessaOnnxValue *y = node->out[o] >= 0 ? &g->values[node->out[o]] : NULL;
      if (!y) continue;
      if (y->ndim < 0 || y->ndim > HESSA_ONNX_MAX_DIMS || y->size < 0 || (y->batched && (y->ndim < 1 || y->dims[0] != HESSA_ONNX_BATCH))) {
        LoadError(L, "%s: output '%s' has no valid shape after inference (%s)", HessaOnnxNodeLabel(node, label, sizeof label), y->name, y->ndim >= 0 && y->ndim <= HESSA_ONNX_MAX_DIMS ? ShapeString(y, sh, sizeof sh) : "none");
        break;
      }
    }
  }
  if (L->st->code) goto done;

  /* the output: float, batched (depends on the data) unless every input was fed */
  {
    const HessaOnnxValue *y = &g->values[g->output];
    if (y->is_int) {
      LoadError(L, "the graph output '%s' is an integer tensor; hessa needs float logits or predictions", y->name);
      goto done;
    }
    if (g->input >= 0 && !y->batched) {
      LoadError(L, "the graph output '%s' does not depend on the data input '%s'", y->name, g->values[g->input].name);
      goto done;
    }
    if (HessaOnnxLayoutMoved(y) && y->lay_ka > 0) {
      int64_t d[HESSA_ONNX_MAX_DIMS];
      char    sh[200];
      int     r = HessaOnnxLayoutOnnxDims(y, d);
      LoadError(L, "the graph output '%s' of shape %s holds the batch at axis %d merged with other axes; hessa reads one row per sample: keep the batch an axis of its own (e.g. out.view(T, N, V) in the model, or batch_first=True)", y->name,
                HessaOnnxDimsString(r, d, sh, sizeof sh), y->lay_axis);
      goto done;
    }
  }
  if (g->input >= 0 && opt->input_row_length >= 0 && g->values[g->input].size != opt->input_row_length) {
    char sh[200];
    LoadError(L, "graph input '%s' has shape %s (%lld values per sample), but the data has %lld features per sample", g->values[g->input].name, ShapeString(&g->values[g->input], sh, sizeof sh), (long long)g->values[g->input].size,
              (long long)opt->input_row_length);
    goto done;
  }

  /* keep the nodes that run, in order; folded and unneeded nodes go */
  {
    HessaOnnxNode *kept = calloc((size_t)g->n_nodes + 1, sizeof *kept);
    int           *newi = malloc(((size_t)g->n_nodes + 1) * sizeof(int));
    if (!kept || !newi) {
      free(kept);
      free(newi);
      HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
      goto done;
    }
    for (int j = 0; j < g->n_nodes; j++) newi[j] = -1;
    for (int t = 0; t < g->n_nodes; t++) {
      int j = order[t];
      if (needed[j] && !folded[j]) {
        newi[j]        = n_kept;
        kept[n_kept++] = g->nodes[j];
        memset(&g->nodes[j], 0, sizeof g->nodes[j]);
      }
    }
    for (int v = 0; v < g->n_values; v++) {
      HessaOnnxValue *x = &g->values[v];
      if (x->producer >= 0) x->producer = newi[x->producer];
      if (x->producer < 0 && x->kind == HESSA_ONNX_RUNTIME) x->kind = HESSA_ONNX_CONST; /* folded (or never computed) */
    }
    /* free what the dropped nodes own */
    HessaOnnxGraph tmp = {0};
    tmp.nodes          = g->nodes;
    tmp.n_nodes        = g->n_nodes;
    HessaOnnxGraph *tp = malloc(sizeof *tp);
    if (tp) {
      *tp = tmp;
      HessaOnnxGraphDestroy(&tp);
    } else
      free(g->nodes);
    g->nodes   = kept;
    g->n_nodes = n_kept;
    free(newi);
  }
done:
  free(order);
  free(needed);
  free(folded);
}

/* Fold the nodes of runtime ops whose inputs are all constants (a Transpose or Relu of a
 * Constant, ...): run the op's forward once with m = 1 and make the outputs constants.
 * The kernels take their scratch from an executor; the one lent here runs a one-node
 * graph (data -> Identity) of its own, so it does not depend on the graph being folded
 * (which may have no data input: every graph input fed as a constant). */
static void FoldConstantNodes(Loader *L)
{
  HessaOnnxGraph *g        = L->g;
  HessaOnnxExec   ex       = NULL;
  int             n_folded = 0, kept = 0;
  char           *gone;
  HessaOnnxValue  tiny_values[2];
  HessaOnnxNode   tiny_node;
  HessaOnnxGraph  tiny;
  int             tiny_in = 0, tiny_out = 1;
  const int64_t   tiny_dims[2] = {0, 1};
  char            tiny_x[] = "x", tiny_y[] = "y", tiny_op[] = "Identity";

  for (int k = 0; k < g->n_nodes && !n_folded; k++) {
    int all_const = 1;
    for (int i = 0; i < g->nodes[k].n_in; i++)
      if (g->nodes[k].in[i] >= 0 && g->values[g->nodes[k].in[i]].kind != HESSA_ONNX_CONST) all_const = 0;
    n_folded = all_const;
  }
  if (!n_folded) return; /* nothing to fold: no executor needed */
  if (!(gone = calloc((size_t)g->n_nodes, 1))) {
    HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
    return;
  }
  memset(tiny_values, 0, sizeof tiny_values);
  memset(&tiny_node, 0, sizeof tiny_node);
  memset(&tiny, 0, sizeof tiny);
  for (int v = 0; v < 2; v++) {
    tiny_values[v].name      = v ? tiny_y : tiny_x;
    tiny_values[v].kind      = v ? HESSA_ONNX_RUNTIME : HESSA_ONNX_INPUT;
    tiny_values[v].elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    tiny_values[v].offset    = -1;
    tiny_values[v].producer  = v ? 0 : -1;
    HessaOnnxValueSetShape(&tiny_values[v], 2, tiny_dims, 1);
  }
  tiny_node.name    = tiny_x;
  tiny_node.op_type = tiny_op;
  tiny_node.op      = HessaOnnxOpFind("Identity");
  tiny_node.n_in    = 1;
  tiny_node.n_out   = 1;
  tiny_node.in      = &tiny_in;
  tiny_node.out     = &tiny_out;
  tiny_node.phase   = 1;
  snprintf(tiny.path, sizeof tiny.path, "%s", L->path);
  tiny.n_values = 2;
  tiny.n_nodes  = 1;
  tiny.values   = tiny_values;
  tiny.nodes    = &tiny_node;
  tiny.input    = 0;
  tiny.output   = 1;
  if (!tiny_node.op || HessaOnnxExecCreate(&tiny, 1, 0, &ex)) {
    char msg[600];
    HessaErrorTake(msg, sizeof msg);
    LoadError(L, "cannot set up the folding of constant nodes: %s", msg);
    free(gone);
    return;
  }
  for (int k = 0; k < g->n_nodes && !L->st->code; k++) {
    HessaOnnxNode  *node = &g->nodes[k];
    HessaOnnxKernel K    = {0};
    const double   *x[64];
    double         *y[16] = {NULL}, *aux = NULL;
    int             all_const = 1;
    char            label[300];

    for (int i = 0; i < node->n_in; i++) {
      const HessaOnnxValue *v = node->in[i] >= 0 ? &g->values[node->in[i]] : NULL;
      if (v && v->kind != HESSA_ONNX_CONST) all_const = 0;
      x[i] = v ? v->value : NULL; /* integer constants: NULL, kernels read ivalue */
    }
    if (!all_const) continue;
    HessaOnnxNodeLabel(node, label, sizeof label);
    for (int o = 0; o < node->n_out; o++)
      if (node->out[o] >= 0 && !(y[o] = calloc((size_t)(g->values[node->out[o]].size ? g->values[node->out[o]].size : 1), sizeof(double)))) HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
    if (node->aux_per_sample && !(aux = calloc(node->aux_per_sample, sizeof(double)))) HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
    K.g             = g;
    K.node          = node;
    K.m             = 1;
    K.nb            = 1;
    K.x             = x;
    K.y             = y;
    K.aux           = aux;
    K.scratch_owner = ex;
    if (!L->st->code && node->op->forward(&K)) {
      char msg[600];
      HessaErrorTake(msg, sizeof msg);
      LoadError(L, "%s: folding it (its inputs are constants) failed: %s", label, msg);
    }
    for (int o = 0; o < node->n_out && !L->st->code; o++) {
      HessaOnnxValue *v = node->out[o] >= 0 ? &g->values[node->out[o]] : NULL;
      if (!v) continue;
      for (int64_t e = 0; e < v->size; e++)
        if (!isfinite(y[o][e])) {
          LoadError(L, "%s: folding it (its inputs are constants) gives %s at element %lld of '%s'", label, isnan(y[o][e]) ? "NaN" : "Inf", (long long)e, v->name);
          break;
        }
      if (L->st->code) break;
      v->kind     = HESSA_ONNX_CONST;
      v->value    = y[o];
      v->producer = -1;
      y[o]        = NULL;
    }
    for (int o = 0; o < node->n_out; o++) free(y[o]);
    free(aux);
    gone[k] = 1;
  }
  HessaOnnxExecDestroy(&ex);
  if (!L->st->code) {
    /* drop the folded nodes; renumber the producers */
    int *newi = malloc(((size_t)g->n_nodes + 1) * sizeof(int));
    if (!newi) {
      HessaStatusSet(L->st, PETSC_ERR_MEM, "file '%s': out of memory", L->path);
      free(gone);
      return;
    }
    for (int k = 0; k < g->n_nodes; k++) {
      HessaOnnxNode *n = &g->nodes[k];
      newi[k]          = gone[k] ? -1 : kept;
      if (!gone[k]) {
        g->nodes[kept++] = *n;
        continue;
      }
      NodeClear(n);
    }
    for (int v = 0; v < g->n_values; v++)
      if (g->values[v].producer >= 0) g->values[v].producer = newi[g->values[v].producer];
    g->n_nodes = kept;
    free(newi);
  }
  free(gone);
}

/* HessaOnnxGraphLoadWithOptions - HessaOnnxGraphLoad with the choices of
 * HessaOnnxLoadOptions (fed graph inputs, another op table). Not collective. */
void HessaOnnxGraphLoadWithOptions(const char path[], const HessaOnnxLoadOptions *opt, HessaOnnxGraph **gout, HessaStatus *st)
{
  Loader            L = {0};
  uint8_t          *buf;
  size_t            len;
  Onnx__ModelProto *model;
  char             *slash;

  *gout = NULL;
  if (strlen(path) >= PETSC_MAX_PATH_LEN) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX file name of %zu characters is too long", strlen(path));
    return;
  }
  ReadRegularFile(path, "ONNX file", "an ONNX model file", HESSA_ONNX_MAX_FILE_BYTES, &buf, &len, st);
  if (st->code) return;
  model = onnx__model_proto__unpack(NULL, len, buf);
  free(buf);
  if (!model) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': not a valid ONNX model (the protobuf is truncated or corrupt; %zu bytes)", path, len);
    return;
  }
  L.st   = st;
  L.path = path;
  snprintf(L.dir, sizeof L.dir, "%s", path);
  if ((slash = strrchr(L.dir, '/')))
    *(slash == L.dir ? slash + 1 : slash) = 0;
  else
    snprintf(L.dir, sizeof L.dir, ".");
  if (!(L.g = calloc(1, sizeof *L.g))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "file '%s': out of memory", path);
    onnx__model_proto__free_unpacked(model, NULL);
    return;
  }
  snprintf(L.g->path, sizeof L.g->path, "%s", path);
  L.g->input  = -1;
  L.g->output = -1;
  BuildGraph(&L, model, opt);
  if (!st->code) FoldConstantNodes(&L);
  onnx__model_proto__free_unpacked(model, NULL);
  free(L.hash);
  free(L.init);
  free(L.pcand);
  if (st->code) HessaOnnxGraphDestroy(&L.g);
  *gout = L.g;
}

/* HessaOnnxGraphLoad - read and check an ONNX model (see onnx_impl.h). Not collective.
 * input_row_length: the data's features per sample (< 0: not checked). */
void HessaOnnxGraphLoad(const char path[], int64_t input_row_length, HessaOnnxGraph **g, HessaStatus *st)
{
  HessaOnnxLoadOptions opt = {0};
  opt.input_row_length     = input_row_length;
  HessaOnnxGraphLoadWithOptions(path, &opt, g, st);
}

/* ---- writing ----------------------------------------------------------------------------- */
/* HessaOnnxGraphWrite - write the model of source_path with theta in place of the
 * parameters' initializers (each keeps its element type, float32 or float64, stored as
 * raw_data; external data of the other initializers is brought inside the file) to path,
 * atomically: a temporary file in the same folder, fsync, rename; on a fault nothing is
 * left under path or the temporary name. Not collective (call on one rank). */
void HessaOnnxGraphWrite(const HessaOnnxGraph *g, const char source_path[], const double *theta, const char path[], HessaStatus *st)
{
  uint8_t          *buf = NULL, *out = NULL;
  size_t            len, olen;
  Onnx__ModelProto *model;
  char              dir[PATH_MAX], tmp[PATH_MAX + 32], *slash;
  int               n_init, fd = -1;
  uint8_t         **saved_data = NULL;
  size_t           *saved_len  = NULL;
  int              *saved_has = NULL, *saved_loc = NULL, *touched = NULL;
  size_t           *saved_nf = NULL, *saved_nd = NULL, *saved_next = NULL;

  ReadRegularFile(source_path, "ONNX file", "an ONNX model file", HESSA_ONNX_MAX_FILE_BYTES, &buf, &len, st);
  if (st->code) return;
  model = onnx__model_proto__unpack(NULL, len, buf);
  free(buf);
  if (!model || !model->graph) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': not a valid ONNX model (the protobuf is truncated or corrupt)", source_path);
    if (model) onnx__model_proto__free_unpacked(model, NULL);
    return;
  }
  snprintf(dir, sizeof dir, "%s", source_path);
  if ((slash = strrchr(dir, '/')))
    *(slash == dir ? slash + 1 : slash) = 0;
  else
    snprintf(dir, sizeof dir, ".");

  /* swap in the new data; the unpacked message's own pointers are restored before it is freed */
  n_init     = (int)model->graph->n_initializer;
  saved_data = calloc((size_t)n_init + 1, sizeof *saved_data);
  saved_len  = calloc((size_t)n_init + 1, sizeof *saved_len);
  saved_has  = calloc((size_t)n_init + 1, sizeof *saved_has);
  saved_loc  = calloc((size_t)n_init + 1, sizeof *saved_loc);
  saved_nf   = calloc((size_t)n_init + 1, sizeof *saved_nf);
  saved_nd   = calloc((size_t)n_init + 1, sizeof *saved_nd);
  saved_next = calloc((size_t)n_init + 1, sizeof *saved_next);
  touched    = calloc((size_t)n_init + 1, sizeof *touched);
  if (!saved_data || !saved_len || !saved_has || !saved_loc || !saved_nf || !saved_nd || !saved_next || !touched) {
    HessaStatusSet(st, PETSC_ERR_MEM, "file '%s': out of memory", path);
    goto done;
  }
  for (int i = 0; i < n_init && !st->code; i++) {
    Onnx__TensorProto    *t        = model->graph->initializer[i];
    const HessaOnnxValue *p        = NULL;
    int                   external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    uint8_t              *data     = NULL;
    size_t                nbytes   = 0;
    for (int k = 0; k < g->n_param_values && !p; k++)
      if (t->name && !strcmp(g->values[g->param_values[k]].name, t->name)) p = &g->values[g->param_values[k]];
    if (!p && !external) continue;
    if (p) {
      int f32 = p->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
      nbytes  = (size_t)p->size * (f32 ? 4 : 8);
      data    = malloc(nbytes ? nbytes : 1);
      if (!data) {
        HessaStatusSet(st, PETSC_ERR_MEM, "file '%s': out of memory", path);
        break;
      }
      for (int64_t e = 0; e < p->size; e++) {
        double x = theta[p->offset + e];
        if (!isfinite(x)) {
          HessaStatusSet(st, HESSA_ERR_ARG, "file '%s': parameter '%s' has %s at element %lld; refusing to write it", path, p->name, isnan(x) ? "NaN" : "Inf", (long long)e);
          break;
        }
        if (f32) {
          float f = (float)x;
          memcpy(data + 4 * e, &f, 4);
        } else
          memcpy(data + 8 * e, &x, 8);
      }
      if (st->code) {
        free(data);
        break;
      }
    } else {
      char what[300];
      snprintf(what, sizeof what, "initializer '%s'", t->name ? t->name : "");
      int64_t n;
      size_t  es = ElemBytes(t->has_data_type ? t->data_type : 0);
      if (!es || !DimsProduct(t->n_dims, t->dims, &n)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': %s: unreadable external data", source_path, what);
        break;
      }
      nbytes = (size_t)n * es;
      ReadExternal(source_path, dir, t, what, nbytes, &data, st);
      if (st->code) break;
    }
    touched[i]           = 1;
    saved_data[i]        = t->raw_data.data;
    saved_len[i]         = t->raw_data.len;
    saved_has[i]         = t->has_raw_data;
    saved_loc[i]         = t->has_data_location;
    saved_nf[i]          = t->n_float_data;
    saved_nd[i]          = t->n_double_data;
    saved_next[i]        = t->n_external_data;
    t->raw_data.data     = data;
    t->raw_data.len      = nbytes;
    t->has_raw_data      = 1;
    t->has_data_location = 0;
    t->n_float_data      = 0;
    t->n_double_data     = 0;
    t->n_external_data   = 0;
  }
  if (st->code) goto restore;

  olen = onnx__model_proto__get_packed_size(model);
  if (!(out = malloc(olen ? olen : 1))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "file '%s': out of memory for %zu bytes", path, olen);
    goto restore;
  }
  onnx__model_proto__pack(model, out);
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp || (fd = mkstemp(tmp)) < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot create a temporary file beside it: %s", path, strerror(errno));
    goto restore;
  }
  {
    size_t done = 0;
    while (done < olen) {
      ssize_t w = write(fd, out + done, olen - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += (size_t)w;
    }
    if (done != olen || fsync(fd) != 0) HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': write failed: %s", tmp, strerror(errno));
  }
  if (close(fd) != 0 && !st->code) HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': close failed: %s", tmp, strerror(errno));
  if (!st->code) {
    mode_t mask = umask(0); /* mkstemp makes 0600: give the file the usual permissions */
    umask(mask);
    if (chmod(tmp, 0666 & ~mask) != 0) HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': chmod failed: %s", tmp, strerror(errno));
  }
  if (!st->code && rename(tmp, path) != 0) HessaStatusSet(st, HESSA_ERR_INPUT, "file '%s': cannot rename '%s' to it: %s", path, tmp, strerror(errno));
  if (st->code) unlink(tmp);

restore:
  for (int i = 0; i < n_init; i++) {
    Onnx__TensorProto *t;
    if (!touched || !touched[i]) continue;
    t = model->graph->initializer[i];
    free(t->raw_data.data);
    t->raw_data.data     = saved_data[i];
    t->raw_data.len      = saved_len[i];
    t->has_raw_data      = saved_has[i];
    t->has_data_location = saved_loc[i];
    t->n_float_data      = saved_nf[i];
    t->n_double_data     = saved_nd[i];
    t->n_external_data   = saved_next[i];
  }
done:
  onnx__model_proto__free_unpacked(model, NULL);
  free(out);
  free(saved_data);
  free(saved_len);
  free(saved_has);
  free(saved_loc);
  free(saved_nf);
  free(saved_nd);
  free(saved_next);
  free(touched);
}
