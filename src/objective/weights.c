/* Weight folders: model.json (architecture + tensor list) and one NPY file per tensor,
 * in parameter-table order. PyTorch users write one in a few lines (docs/weights.md).
 * Reading is not collective: the operator layer lets rank 0 read and broadcasts.
 * Every fault is reported through a HessaStatus naming the file, what was expected
 * and what was found. */
#include <hessa/objective.h>
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

/* Read model.json of a weight folder into a cJSON tree (NULL and st set on a fault). */
static cJSON *ReadManifest(const char folder[], char path[], size_t path_len, HessaStatus *st)
{
  FILE  *f;
  long   size;
  char  *text;
  cJSON *root;

  snprintf(path, path_len, "%s/model.json", folder);
  f = fopen(path, "rb");
  if (!f) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights '%s': cannot open %s: %s", folder, path, strerror(errno));
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size <= 0 || size > WEIGHTS_MAX_JSON) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected a JSON manifest of 1 byte to 16 MiB, found %ld bytes", path, size);
    fclose(f);
    return NULL;
  }
  text = malloc((size_t)size + 1);
  if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': read failed", path);
    free(text);
    fclose(f);
    return NULL;
  }
  fclose(f);
  text[size] = 0;
  root       = cJSON_Parse(text);
  if (!root) HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': not valid JSON (near byte %ld)", path, (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : 0));
  free(text);
  return root;
}

static const char *JsonString(const cJSON *obj, const char *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* HessaWeightsReadArch - not collective. Reads the model kind and, for an mlp, the
 * widths, activation and loss from model.json; other fields of arch are left as they are. */
void HessaWeightsReadArch(const char folder[], char kind[64], HessaMLPArch *arch, HessaStatus *st)
{
  char         path[PETSC_MAX_PATH_LEN];
  cJSON       *root = ReadManifest(folder, path, sizeof path, st);
  const cJSON *widths;
  const char  *s;

  if (!root) return;
  if (!(s = JsonString(root, "format")) || strcmp(s, "hessa-weights")) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"format\": \"hessa-weights\", found %s", path, s ? s : "no format field");
    goto done;
  }
  if (!(s = JsonString(root, "model"))) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': missing \"model\" (e.g. \"mlp\")", path);
    goto done;
  }
  snprintf(kind, 64, "%s", s);
  if (strcmp(kind, "mlp")) goto done;
  widths = cJSON_GetObjectItemCaseSensitive(root, "widths");
  if (!cJSON_IsArray(widths) || cJSON_GetArraySize(widths) < 2 || cJSON_GetArraySize(widths) > 16) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"widths\" as an array of 2 to 16 layer widths", path);
    goto done;
  }
  arch->n_layers = cJSON_GetArraySize(widths) - 1;
  for (PetscInt i = 0; i <= arch->n_layers; i++) {
    const cJSON *w = cJSON_GetArrayItem(widths, (int)i);
    if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 1e8 || w->valuedouble != floor(w->valuedouble)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': widths[%d] must be a positive integer", path, (int)i);
      goto done;
    }
    arch->widths[i] = (PetscInt)w->valuedouble;
  }
  if ((s = JsonString(root, "activation"))) {
    PetscBool found = PETSC_FALSE;
    if (HessaActivationFromName(s, &arch->activation, &found) || !found) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': unknown activation '%s' (expected identity, tanh, sigmoid, relu, softplus or gelu)", path, s);
      goto done;
    }
  }
  if ((s = JsonString(root, "loss"))) {
    PetscBool found = PETSC_FALSE;
    if (HessaLossFromName(s, &arch->loss, &found) || !found) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': unknown loss '%s' (expected cross-entropy or mse)", path, s);
      goto done;
    }
  }
done:
  cJSON_Delete(root);
}

/* HessaWeightsRead - not collective. Reads every tensor of the folder into theta[0..n),
 * checking names, shapes against the objective's parameter table, and finiteness. */
PetscErrorCode HessaWeightsRead(const char folder[], HessaObjective obj, double *theta, HessaStatus *st)
{
  char         path[PETSC_MAX_PATH_LEN];
  cJSON       *root = ReadManifest(folder, path, sizeof path, st);
  const cJSON *tensors;

  PetscFunctionBegin;
  if (!root) PetscFunctionReturn(0);
  tensors = cJSON_GetObjectItemCaseSensitive(root, "tensors");
  if (!cJSON_IsArray(tensors) || cJSON_GetArraySize(tensors) != obj->n_blocks) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': expected \"tensors\" listing %" PetscInt_FMT " tensors of the %s model, found %d", path, obj->n_blocks, obj->type,
                   cJSON_IsArray(tensors) ? cJSON_GetArraySize(tensors) : 0);
    goto done;
  }
  for (PetscInt k = 0; k < obj->n_blocks; k++) {
    const HessaParamBlock *b    = &obj->blocks[k];
    const cJSON           *t    = cJSON_GetArrayItem(tensors, (int)k);
    const char            *file = JsonString(t, "file");
    char                   npy[PETSC_MAX_PATH_LEN + 256];
    HessaArray             a = {0};
    int64_t                count;

    if (!file || strchr(file, '/')) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %d (%s) needs a \"file\" name inside the folder", path, (int)k, b->name);
      goto done;
    }
    snprintf(npy, sizeof npy, "%s/%s", folder, file);
    HessaReadNPY(npy, 0, -1, &a, st);
    if (st->code) goto done;
    count = a.rows * a.row_length;
    {
      int same = a.ndim == b->ndim;
      for (int d = 0; same && d < b->ndim; d++) same = a.shape[d] == b->shape[d];
      if (!same) {
        HessaParamBlock got = {.ndim = a.ndim};
        char            want[160], found[160];
        for (int d = 0; d < a.ndim && d < HESSA_PARAM_MAX_DIMS; d++) got.shape[d] = (PetscInt)a.shape[d];
        HessaParamBlockShapeString(b, want, sizeof want);
        HessaParamBlockShapeString(&got, found, sizeof found);
        HessaStatusSet(st, HESSA_ERR_INPUT, "weights file '%s': tensor %s: expected shape %s for the architecture, found %s", npy, b->name, want, found);
        HessaArrayFree(&a);
        goto done;
      }
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
  tensors = cJSON_AddArrayToObject(root, "tensors");
  for (PetscInt k = 0; k < obj->n_blocks && !st->code; k++) {
    const HessaParamBlock *b = &obj->blocks[k];
    cJSON                 *t = cJSON_CreateObject(), *shape = cJSON_AddArrayToObject(t, "shape");
    int64_t                dims[HESSA_PARAM_MAX_DIMS];
    char                   file[160];
    for (int d = 0; d < b->ndim; d++) dims[d] = b->shape[d];
    snprintf(file, sizeof file, "%s.npy", b->name);
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
    if (!text || json.failed) HessaStatusSet(st, PETSC_ERR_MEM, "weights file '%s': out of memory", path);
    else PetscCall(HessaWriteFileAtomic(path, json.data, st));
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
  } else if (rename(tmp, folder)) HessaStatusSet(st, HESSA_ERR_INPUT, "weights folder '%s': cannot rename %s into place: %s", folder, tmp, strerror(errno));
  PetscFunctionReturn(0);
}
