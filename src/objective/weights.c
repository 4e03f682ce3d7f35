/* Weight folders: model.json (architecture + tensor list) and one NPY file per tensor,
 * in parameter-table order. PyTorch users write one in a few lines (docs/weights.md).
 * Reading is not collective: the operator layer lets rank 0 read and broadcasts.
 * Every fault is reported through a HessaStatus naming the file, what was expected
 * and what was found. */
#include <hessa/objective.h>
#include "onnx_impl.h"
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEIGHTS_MAX_JSON (16 << 20)
#define WEIGHTS_NAME_LEN ((int)sizeof(((HessaParamBlock *)0)->name))

/* Read model.json of a weight folder into a cJSON tree (NULL and st set on a fault).
 * The file must be a regular file (a FIFO would block the read forever) and the tree
 * must follow the schema (HessaWeightsValidateManifest). */
static cJSON *ReadManifest(const char folder[], char path[], size_t path_len, HessaStatus *st)
{
  struct stat sb;
  size_t      size;
  char       *text;
  cJSON      *root;

  snprintf(path, path_len, "%s/model.json", folder);
  if (stat(path, &sb) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights '%s': cannot open %s: %s", folder, path, strerror(errno));
    return NULL;
  }
  if (!(text = HessaReadRegularFile(path, "weights file", "a JSON manifest of 1 byte to 16 MiB (docs/weights.md)", WEIGHTS_MAX_JSON, &size, st))) return NULL;
  if (size == 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected a JSON manifest of 1 byte to 16 MiB, found 0 bytes", path);
    free(text);
    return NULL;
  }
  root = cJSON_ParseWithLength(text, size);
  if (!root) HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': not valid JSON (near byte %ld)", path, (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : 0));
  free(text);
  if (root && HessaWeightsValidateManifest(root, path, st)) {
    cJSON_Delete(root);
    root = NULL;
  }
  return root;
}

/* ---- the manifest schema (docs/weights.schema.json states the same rules) ---------- */
static const char *const manifest_keys[] = {"format", "version", "model", "widths", "activation", "loss", "graph", "tensors", NULL};
static const char *const tensor_keys[]   = {"name", "file", "shape", NULL};

/* An unknown key: one message with the closest known spelling and the known keys. */
static int CheckKeys(const cJSON *obj, const char *const known[], const char *where, const char path[], HessaStatus *st)
{
  for (const cJSON *item = obj->child; item; item = item->next) {
    const char *key = item->string ? item->string : "";
    const char *near;
    char        list[256] = "";
    PetscBool   ok        = PETSC_FALSE;
    for (int i = 0; known[i] && !ok; i++) ok = !strcmp(key, known[i]) ? PETSC_TRUE : PETSC_FALSE;
    if (ok) continue;
    near = HessaClosestName(key, known);
    for (int i = 0; known[i]; i++) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", known[i]);
    if (near)
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': unknown key \"%s\" in %s (did you mean \"%s\"? known keys: %s)", path, key, where, near, list);
    else
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': unknown key \"%s\" in %s (known keys: %s)", path, key, where, list);
    return 1;
  }
  return 0;
}

/* A JSON number that is an integer in [lo, hi]. */
static int IsIntegerIn(const cJSON *v, double lo, double hi)
{
  return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= lo && v->valuedouble <= hi && v->valuedouble == floor(v->valuedouble);
}

/* HessaWeightsValidateManifest - not collective. Checks a parsed model.json against the
 * schema of docs/weights.md (docs/weights.schema.json): known keys only; "format"
 * "hessa-weights"; "version" 1; "model" a non-empty name; for "mlp" the "widths" (2 to
 * 16 integers in [1, 1e8]), "activation" and "loss" (known names); for "onnx" a "graph"
 * file inside the folder; "widths", "activation", "loss" only for "mlp" and "graph" only
 * for "onnx"; "tensors" a list of objects with a non-empty "name", a "file" inside the
 * folder and a "shape" of 0 to 8 non-negative integers, no name or file twice.
 * Returns non-zero and fills st (naming path) on the first violation. */
int HessaWeightsValidateManifest(const cJSON *root, const char path[], HessaStatus *st)
{
  const cJSON *v, *tensors;
  const char  *model;
  int          n_tensors, is_mlp, is_onnx;

  if (!cJSON_IsObject(root)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected a JSON object, found %s", path, cJSON_IsArray(root) ? "an array" : "a single value");
    return 1;
  }
  if (CheckKeys(root, manifest_keys, "the manifest", path, st)) return 1;
  v = cJSON_GetObjectItemCaseSensitive(root, "format");
  if (!cJSON_IsString(v) || strcmp(v->valuestring, "hessa-weights")) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"format\": \"hessa-weights\", found %s", path, cJSON_IsString(v) ? v->valuestring : v ? "a value that is not a string" : "no format field");
    return 1;
  }
  v = cJSON_GetObjectItemCaseSensitive(root, "version");
  if (!v || !cJSON_IsNumber(v) || v->valuedouble != 1) {
    if (cJSON_IsNumber(v))
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': unsupported \"version\": %g (this hessa reads version 1)", path, v->valuedouble);
    else
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"version\": 1, found %s", path, v ? "a value that is not a number" : "no version field");
    return 1;
  }
  v = cJSON_GetObjectItemCaseSensitive(root, "model");
  if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= 64) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"model\" naming the model (e.g. \"mlp\"), found %s", path, cJSON_IsString(v) ? "an empty or over-long name" : v ? "a value that is not a string" : "no model field");
    return 1;
  }
  model   = v->valuestring;
  is_mlp  = !strcmp(model, "mlp");
  is_onnx = !strcmp(model, "onnx");
  for (int i = 0; i < 4; i++) {
    static const char *const mlp_only[] = {"widths", "activation", "loss", "graph"};
    int                      allowed    = i < 3 ? is_mlp : is_onnx;
    if (!allowed && cJSON_GetObjectItemCaseSensitive(root, mlp_only[i])) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': key \"%s\" is for %s models, but \"model\" is \"%s\"", path, mlp_only[i], i < 3 ? "\"mlp\"" : "\"onnx\"", model);
      return 1;
    }
  }
  if (is_mlp) {
    const char *s;
    PetscBool   found = PETSC_FALSE;
    v                 = cJSON_GetObjectItemCaseSensitive(root, "widths");
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 2 || cJSON_GetArraySize(v) > 16) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"widths\" as an array of 2 to 16 layer widths", path);
      return 1;
    }
    for (int i = 0; i < cJSON_GetArraySize(v); i++)
      if (!IsIntegerIn(cJSON_GetArrayItem(v, i), 1, 1e8)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': widths[%d] must be an integer in [1, 100000000]", path, i);
        return 1;
      }
    s = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "activation")) ? cJSON_GetObjectItemCaseSensitive(root, "activation")->valuestring : NULL;
    if (!s) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"activation\" (identity, tanh, sigmoid, relu, softplus or gelu) for an mlp", path);
      return 1;
    }
    {
      HessaActivation a;
      if (HessaActivationFromName(s, &a, &found) || !found) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': unknown activation '%s' (expected identity, tanh, sigmoid, relu, softplus or gelu)", path, s);
        return 1;
      }
    }
    s = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "loss")) ? cJSON_GetObjectItemCaseSensitive(root, "loss")->valuestring : NULL;
    if (!s) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"loss\" (cross-entropy or mse) for an mlp", path);
      return 1;
    }
    {
      HessaLossKind l;
      if (HessaLossFromName(s, &l, &found) || !found) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': unknown loss '%s' (expected cross-entropy or mse)", path, s);
        return 1;
      }
    }
  }
  if (is_onnx) {
    v = cJSON_GetObjectItemCaseSensitive(root, "graph");
    if (!cJSON_IsString(v) || !v->valuestring[0] || strchr(v->valuestring, '/') || !strcmp(v->valuestring, ".") || !strcmp(v->valuestring, "..")) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': an onnx model needs \"graph\" naming its .onnx file inside the folder", path);
      return 1;
    }
  }
  tensors = cJSON_GetObjectItemCaseSensitive(root, "tensors");
  if (!cJSON_IsArray(tensors)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"tensors\" as a list of {\"name\", \"file\", \"shape\"}", path);
    return 1;
  }
  n_tensors = cJSON_GetArraySize(tensors);
  for (int k = 0; k < n_tensors; k++) {
    const cJSON *t = cJSON_GetArrayItem(tensors, k), *name, *file, *shape;
    char         where[64];
    if (!cJSON_IsObject(t)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensors[%d] must be an object {\"name\", \"file\", \"shape\"}", path, k);
      return 1;
    }
    snprintf(where, sizeof where, "tensors[%d]", k);
    if (CheckKeys(t, tensor_keys, where, path, st)) return 1;
    name  = cJSON_GetObjectItemCaseSensitive(t, "name");
    file  = cJSON_GetObjectItemCaseSensitive(t, "file");
    shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
    if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) >= WEIGHTS_NAME_LEN) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensors[%d] needs a \"name\" of 1 to %d characters", path, k, WEIGHTS_NAME_LEN - 1);
      return 1;
    }
    if (!cJSON_IsString(file) || !file->valuestring[0] || strchr(file->valuestring, '/') || !strcmp(file->valuestring, ".") || !strcmp(file->valuestring, "..")) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %d (%s) needs a \"file\" name inside the folder", path, k, name->valuestring);
      return 1;
    }
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > HESSA_PARAM_MAX_DIMS) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %d (%s) needs a \"shape\": a list of 0 to %d dimensions", path, k, name->valuestring, HESSA_PARAM_MAX_DIMS);
      return 1;
    }
    for (int d = 0; d < cJSON_GetArraySize(shape); d++)
      if (!IsIntegerIn(cJSON_GetArrayItem(shape, d), 0, 4611686018427387904.0)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %d (%s): shape[%d] must be a non-negative integer", path, k, name->valuestring, d);
        return 1;
      }
    for (int j = 0; j < k; j++) {
      const cJSON *u = cJSON_GetArrayItem(tensors, j);
      if (!strcmp(cJSON_GetObjectItemCaseSensitive(u, "name")->valuestring, name->valuestring)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor name '%s' is listed twice (tensors %d and %d)", path, name->valuestring, j, k);
        return 1;
      }
      if (!strcmp(cJSON_GetObjectItemCaseSensitive(u, "file")->valuestring, file->valuestring)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': file '%s' is listed twice (tensors %d and %d)", path, file->valuestring, j, k);
        return 1;
      }
    }
  }
  /* a file named after another tensor is that tensor's file: a swap would load silently */
  for (int k = 0; k < n_tensors; k++) {
    const cJSON *t    = cJSON_GetArrayItem(tensors, k);
    const char  *name = cJSON_GetObjectItemCaseSensitive(t, "name")->valuestring;
    const char  *file = cJSON_GetObjectItemCaseSensitive(t, "file")->valuestring;
    for (int j = 0; j < n_tensors; j++) {
      const char *other = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(tensors, j), "name")->valuestring;
      size_t      len   = strlen(other);
      if (j != k && strlen(file) == len + 4 && !strncmp(file, other, len) && !strcmp(file + len, ".npy")) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %s points at '%s', the file of tensor %s", path, name, file, other);
        return 1;
      }
    }
  }
  return 0;
}

static const char *JsonString(const cJSON *obj, const char *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* HessaWeightsReadArch - not collective. Reads the model kind and, for an mlp, the
 * widths, activation and loss from model.json (validated against the schema first:
 * HessaWeightsValidateManifest); other fields of arch are left as they are. */
void HessaWeightsReadArch(const char folder[], char kind[64], HessaMLPArch *arch, HessaStatus *st)
{
  char         path[PETSC_MAX_PATH_LEN];
  cJSON       *root = ReadManifest(folder, path, sizeof path, st);
  const cJSON *widths;
  PetscBool    found;

  if (!root) return;
  snprintf(kind, 64, "%s", JsonString(root, "model"));
  if (!strcmp(kind, "mlp")) {
    widths         = cJSON_GetObjectItemCaseSensitive(root, "widths");
    arch->n_layers = cJSON_GetArraySize(widths) - 1;
    for (PetscInt i = 0; i <= arch->n_layers; i++) arch->widths[i] = (PetscInt)cJSON_GetArrayItem(widths, (int)i)->valuedouble;
    /* names checked by the schema */
    if (HessaActivationFromName(JsonString(root, "activation"), &arch->activation, &found) || !found || HessaLossFromName(JsonString(root, "loss"), &arch->loss, &found) || !found)
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': unknown activation or loss", path);
  }
  cJSON_Delete(root);
}

/* "(3, 4)" for a JSON shape list (already validated). */
static void JsonShapeString(const cJSON *shape, char *out, size_t len)
{
  size_t used = (size_t)snprintf(out, len, "(");
  int    n    = cJSON_GetArraySize(shape);
  for (int d = 0; d < n && used < len; d++) used += (size_t)snprintf(out + used, len - used, "%s%.0f", d ? ", " : "", cJSON_GetArrayItem(shape, d)->valuedouble);
  if (used < len) snprintf(out + used, len - used, "%s)", n == 1 ? "," : "");
}

/* HessaWeightsRead - not collective. Reads every tensor of the folder into theta[0..n).
 * The manifest follows the schema; tensor k must be named like block k of the
 * objective's parameter table (the order is the meaning: a reordered or renamed list is
 * refused, never loaded into the wrong block); its declared shape, the NPY file's shape
 * and the block's shape must agree; the NPY must hold float32 or float64, all finite. */
PetscErrorCode HessaWeightsRead(const char folder[], HessaObjective obj, double *theta, HessaStatus *st)
{
  char         path[PETSC_MAX_PATH_LEN];
  cJSON       *root = ReadManifest(folder, path, sizeof path, st);
  const cJSON *tensors;

  PetscFunctionBegin;
  if (!root) PetscFunctionReturn(0);
  tensors = cJSON_GetObjectItemCaseSensitive(root, "tensors");
  if (cJSON_GetArraySize(tensors) != obj->n_blocks) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"tensors\" listing %" PetscInt_FMT " tensors of the %s model, found %d", path, obj->n_blocks, obj->type, cJSON_GetArraySize(tensors));
    goto done;
  }
  for (PetscInt k = 0; k < obj->n_blocks; k++) {
    const HessaParamBlock *b     = &obj->blocks[k];
    const cJSON           *t     = cJSON_GetArrayItem(tensors, (int)k);
    const char            *name  = JsonString(t, "name");
    const char            *file  = JsonString(t, "file");
    const cJSON           *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
    char                   npy[PETSC_MAX_PATH_LEN + 256], want[160], found[160];
    HessaArray             a = {0};
    int64_t                count;
    int                    same;

    if (strcmp(name, b->name)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %d is named '%s', expected '%s' (model.json lists the tensors in the parameter order of the %s model)", path, (int)k, name, b->name, obj->type);
      goto done;
    }
    same = cJSON_GetArraySize(shape) == b->ndim;
    for (int d = 0; same && d < b->ndim; d++) same = cJSON_GetArrayItem(shape, d)->valuedouble == (double)b->shape[d];
    if (!same) {
      HessaParamBlockShapeString(b, want, sizeof want);
      JsonShapeString(shape, found, sizeof found);
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %s: expected shape %s for the architecture, the manifest declares %s", path, b->name, want, found);
      goto done;
    }
    snprintf(npy, sizeof npy, "%s/%s", folder, file);
    HessaReadNPY(npy, 0, -1, &a, st);
    if (st->code) goto done;
    if (a.is_integer || strncmp(a.dtype, "float", 5)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %s: dtype %s, expected float32 or float64", npy, b->name, a.dtype);
      HessaArrayFree(&a);
      goto done;
    }
    count = a.rows * a.row_length;
    same  = a.ndim == b->ndim;
    for (int d = 0; same && d < b->ndim; d++) same = a.shape[d] == b->shape[d];
    if (!same) {
      HessaParamBlock got = {.ndim = a.ndim};
      for (int d = 0; d < a.ndim && d < HESSA_PARAM_MAX_DIMS; d++) got.shape[d] = (PetscInt)a.shape[d];
      HessaParamBlockShapeString(b, want, sizeof want);
      HessaParamBlockShapeString(&got, found, sizeof found);
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %s: shape %s declared in model.json, found %s in the NPY file", npy, b->name, want, found);
      HessaArrayFree(&a);
      goto done;
    }
    for (int64_t i = 0; i < count; i++) {
      if (!isfinite(a.values[i])) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %s: entry %lld is %s", npy, b->name, (long long)i, isnan(a.values[i]) ? "NaN" : "Inf");
        HessaArrayFree(&a);
        goto done;
      }
      theta[b->offset + i] = a.values[i];
    }
    HessaArrayFree(&a);
  }
done:
  cJSON_Delete(root);
  PetscFunctionReturn(0);
}

/* Remove a weight folder we replaced: its plain files, then the folder itself. */
static int RemoveFolder(const char folder[])
{
  DIR           *d = opendir(folder);
  struct dirent *e;
  char           path[2 * PETSC_MAX_PATH_LEN];
  int            bad = 0;
  if (!d) return -1;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
    bad |= unlink(path);
  }
  closedir(d);
  return bad | rmdir(folder);
}

/* HessaWeightsWrite - not collective (call on one rank). Writes into folder.tmp, then
 * renames it to folder, so a reader never sees half a checkpoint. An existing folder
 * is replaced. */
PetscErrorCode HessaWeightsWrite(const char folder[], HessaObjective obj, const double *theta, HessaStatus *st)
{
  char   tmp[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN + 256], old[PETSC_MAX_PATH_LEN + 16];
  cJSON *root, *tensors;
  char  *text;

  PetscFunctionBegin;
  snprintf(tmp, sizeof tmp, "%s.tmp", folder);
  if (mkdir(tmp, 0755) && errno != EEXIST) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights folder '%s': cannot create: %s", tmp, strerror(errno));
    PetscFunctionReturn(0);
  }
  root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "format", "hessa-weights");
  cJSON_AddNumberToObject(root, "version", 1);
  cJSON_AddStringToObject(root, "model", obj->type);
  if (!strcmp(obj->type, "mlp")) {
    HessaMLPArch        arch_copy;
    const HessaMLPArch *arch = &arch_copy;
    cJSON              *w    = cJSON_AddArrayToObject(root, "widths");
    PetscCall(HessaMLPGetArch(obj, &arch_copy));
    for (PetscInt i = 0; i <= arch->n_layers; i++) cJSON_AddItemToArray(w, cJSON_CreateNumber((double)arch->widths[i]));
    cJSON_AddStringToObject(root, "activation", HessaActivationName(arch->activation));
    cJSON_AddStringToObject(root, "loss", HessaLossName(arch->loss));
  }
  if (!strcmp(obj->type, "onnx")) {
    /* the folder is also a loadable ONNX model: the source graph with theta as its
       parameters' initializers (docs/onnx.md) */
    HessaONNXArch   arch;
    HessaOnnxGraph *g = NULL;
    PetscCall(HessaONNXGetArch(obj, &arch));
    cJSON_AddStringToObject(root, "graph", "model.onnx");
    snprintf(path, sizeof path, "%s/model.onnx", tmp);
    HessaOnnxGraphLoad(arch.path, -1, &g, st);
    if (!st->code) HessaOnnxGraphWrite(g, arch.path, theta, path, st);
    HessaOnnxGraphDestroy(&g);
  }
  tensors = cJSON_AddArrayToObject(root, "tensors");
  for (PetscInt k = 0; k < obj->n_blocks && !st->code; k++) {
    const HessaParamBlock *b = &obj->blocks[k];
    cJSON                 *t = cJSON_CreateObject(), *shape = cJSON_AddArrayToObject(t, "shape");
    int64_t                dims[HESSA_PARAM_MAX_DIMS];
    char                   file[160];
    for (int d = 0; d < b->ndim; d++) dims[d] = b->shape[d];
    snprintf(file, sizeof file, "%s.npy", b->name);
    for (char *c = file; *c; c++) /* ONNX names may hold '/' or ':': keep the file inside the folder */
      if (*c == '/' || *c == ':' || *c == '\\') *c = '_';
    cJSON_AddStringToObject(t, "name", b->name);
    cJSON_AddStringToObject(t, "file", file);
    for (int d = 0; d < b->ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)dims[d]));
    cJSON_AddItemToArray(tensors, t);
    snprintf(path, sizeof path, "%s/%s", tmp, file);
    if (HessaWriteNPY(path, b->ndim, dims, theta + b->offset, 0)) HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': write failed", path);
  }
  text = cJSON_Print(root);
  cJSON_Delete(root);
  snprintf(path, sizeof path, "%s/model.json", tmp);
  if (!st->code) {
    HessaText json = {0};
    HessaTextPrintf(&json, "%s\n", text ? text : "");
    if (!text || json.failed)
      HessaStatusSet(st, PETSC_ERR_MEM, "weights file '%s': out of memory", path);
    else
      PetscCall(HessaWriteFileAtomic(path, json.data, st));
    HessaTextFree(&json);
  }
  free(text);
  if (st->code) {
    (void)RemoveFolder(tmp); /* a failed checkpoint leaves nothing behind */
    PetscFunctionReturn(0);
  }
  /* replace an existing folder: move it aside, rename the new one in, remove the old */
  snprintf(old, sizeof old, "%s.old", folder);
  if (rename(folder, old) == 0) {
    if (rename(tmp, folder)) HessaStatusSet(st, HESSA_ERR_INPUT, "weights folder '%s': cannot rename %s into place: %s", folder, tmp, strerror(errno));
    if (!st->code && RemoveFolder(old)) HessaStatusSet(st, HESSA_ERR_INPUT, "weights folder '%s': cannot remove %s", folder, old);
  } else if (rename(tmp, folder))
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights folder '%s': cannot rename %s into place: %s", folder, tmp, strerror(errno));
  PetscFunctionReturn(0);
}
