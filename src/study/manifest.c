/* Study manifests: which points a study analyses.
 *
 * A manifest is a YAML file (docs/study.md):
 *
 *   options:                      # analyze options for every point ('-' optional)
 *     hessa_data: fashion-mnist
 *   points:
 *     - name: w2-seed1            # unique; names the report folder
 *       weights: runs/w2/final    # relative to the manifest's folder
 *       step: 400                 # optional: position along a trajectory
 *       series: w2-seed1          # optional: the trajectory it belongs to
 *       options: {hessa_mlp_weight_decay: 0}
 *     - checkpoints: runs/w3      # a training folder: one point per checkpoint
 *       name: w3                  # prefix of the points' names
 *
 * or directly a folder of weight folders, or a training folder. libyaml parses the text
 * into a node tree; everything else is checked here, with the file and the point in
 * every message, before a single point is analysed.
 */
#include <hessa/study.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define MANIFEST_MAX_POINTS 100000

static PetscBool IsDir(const char path[])
{
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? PETSC_TRUE : PETSC_FALSE;
}

static PetscBool IsWeightFolder(const char path[])
{
  char        f[PETSC_MAX_PATH_LEN + 16];
  struct stat sb;
  snprintf(f, sizeof f, "%s/model.json", path);
  return stat(f, &sb) == 0 && S_ISREG(sb.st_mode) ? PETSC_TRUE : PETSC_FALSE;
}

/* A printable copy of untrusted text: bytes outside printable ASCII as \xNN. */
static void Printable(const char *s, size_t len, char out[], size_t out_len)
{
  size_t o = 0;
  for (size_t i = 0; i < len && o + 5 < out_len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 32 && c < 127)
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, out_len - o, "\\x%02x", c);
  }
  out[o] = 0;
}

/* Point names become folder names: letters, digits, '.', '_', '-', not starting with '.'. */
static PetscBool ValidName(const char *s, size_t len)
{
  if (len == 0 || len >= 128 || s[0] == '.') return PETSC_FALSE;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(isalnum(c) || c == '.' || c == '_' || c == '-')) return PETSC_FALSE;
  }
  return PETSC_TRUE;
}

static PetscBool HasSpace(const char *s)
{
  for (; *s; s++)
    if (isspace((unsigned char)*s)) return PETSC_TRUE;
  return PETSC_FALSE;
}

typedef struct {
  yaml_document_t *doc;
  const char      *label;
  const char      *base;
  HessaManifest   *m;
  HessaStatus     *st;
  PetscInt         cap;
} Parse;

static const char *Scalar(yaml_node_t *n, size_t *len)
{
  if (!n || n->type != YAML_SCALAR_NODE) return NULL;
  if (len) *len = n->data.scalar.length;
  return (const char *)n->data.scalar.value;
}

static PetscBool Key(yaml_node_t *k, const char name[])
{
  size_t      len;
  const char *s = Scalar(k, &len);
  return s && len == strlen(name) && !memcmp(s, name, len) ? PETSC_TRUE : PETSC_FALSE;
}

/* Append "-key value" pairs of a mapping of options to out. */
static void AppendOptions(Parse *p, yaml_node_t *map, const char where[], char out[], size_t out_len)
{
  if (!map || map->type != YAML_MAPPING_NODE) {
    HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: 'options' must be a mapping of option names to values", p->label, where);
    return;
  }
  for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top && !p->st->code; pair++) {
    yaml_node_t *k = yaml_document_get_node(p->doc, pair->key), *v = yaml_document_get_node(p->doc, pair->value);
    size_t       kl = 0, vl = 0;
    const char  *ks = Scalar(k, &kl), *vs = Scalar(v, &vl);
    char         key[128], val[PETSC_MAX_PATH_LEN], shown[512];
    size_t       used = strlen(out);

    if (!ks || !vs || kl == 0 || kl >= sizeof key - 2 || vl >= sizeof val) {
      HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: each option must be a name with a single value (a scalar), found %s", p->label, where, !ks ? "a non-scalar name" : !vs ? "a list or mapping as value" : "an over-long name or value");
      return;
    }
    snprintf(key, sizeof key, "%s%.*s", ks[0] == '-' ? "" : "-", (int)kl, ks);
    snprintf(val, sizeof val, "%.*s", (int)vl, vs);
    if (HasSpace(key) || HasSpace(val) || strlen(key) != kl + (ks[0] == '-' ? 0 : 1) || strlen(val) != vl) {
      Printable(ks, kl, shown, sizeof shown);
      HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: option '%s': names and values may not contain spaces or NUL bytes", p->label, where, shown);
      return;
    }
    if (used + strlen(key) + strlen(val) + 3 >= out_len) {
      HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: options longer than %zu characters", p->label, where, out_len - 1);
      return;
    }
    /* the length is checked above; copied by hand, since snprintf here draws a
       -Wformat-truncation warning from GCC's -O3 (Release) that the check makes moot */
    if (used) out[used++] = ' ';
    memcpy(out + used, key, strlen(key));
    used += strlen(key);
    out[used++] = ' ';
    memcpy(out + used, val, strlen(val) + 1);
  }
}

static HessaStudyPoint *NewPoint(Parse *p)
{
  HessaManifest *m = p->m;
  if (m->n_points >= MANIFEST_MAX_POINTS) {
    HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': more than %d points", p->label, MANIFEST_MAX_POINTS);
    return NULL;
  }
  if (m->n_points == p->cap) {
    PetscInt         cap = p->cap ? 2 * p->cap : 16;
    HessaStudyPoint *pts = realloc(m->points, (size_t)cap * sizeof *pts);
    if (!pts) {
      HessaStatusSet(p->st, PETSC_ERR_MEM, "manifest '%s': out of memory", p->label);
      return NULL;
    }
    m->points = pts, p->cap = cap;
  }
  memset(&m->points[m->n_points], 0, sizeof m->points[0]);
  m->points[m->n_points].step = -1;
  return &m->points[m->n_points++];
}

static void JoinPath(const char base[], const char rel[], char out[], size_t len)
{
  if (rel[0] == '/' || !base[0])
    snprintf(out, len, "%s", rel);
  else
    snprintf(out, len, "%s/%s", base, rel);
}

static int CompareNames(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Step of a checkpoint folder named like step-000100 (-1 otherwise). */
static PetscInt StepOf(const char name[])
{
  const char *d = strstr(name, "step");
  char       *end;
  long        v;
  if (!d) return -1;
  d += 4;
  while (*d == '-' || *d == '_') d++;
  if (!isdigit((unsigned char)*d)) return -1;
  v = strtol(d, &end, 10);
  return *end == 0 && v >= 0 ? (PetscInt)v : -1;
}

/* One point per weight folder inside `folder` (sorted by name), or the folder itself. */
static void ExpandFolder(Parse *p, const char folder[], const char prefix[], const char series[], const char options[], const char where[])
{
  DIR           *dir;
  struct dirent *e;
  char         **names = NULL;
  size_t         n = 0, cap = 0;

  if (IsWeightFolder(folder)) {
    HessaStudyPoint *pt    = NewPoint(p);
    const char      *slash = strrchr(folder, '/');
    if (!pt) return;
    snprintf(pt->name, sizeof pt->name, "%s", prefix[0] ? prefix : (slash ? slash + 1 : folder));
    snprintf(pt->weights, sizeof pt->weights, "%s", folder);
    snprintf(pt->options, sizeof pt->options, "%s", options);
    snprintf(pt->series, sizeof pt->series, "%s", series);
    pt->step = StepOf(pt->name);
    return;
  }
  dir = opendir(folder);
  if (!dir) {
    HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: checkpoint folder '%s': cannot open: %s", p->label, where, folder, strerror(errno));
    return;
  }
  while ((e = readdir(dir))) {
    char sub[PETSC_MAX_PATH_LEN];
    if (e->d_name[0] == '.') continue;
    snprintf(sub, sizeof sub, "%s/%s", folder, e->d_name);
    if (!IsWeightFolder(sub)) continue;
    if (n == cap) {
      char **nn = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
      if (!nn) {
        HessaStatusSet(p->st, PETSC_ERR_MEM, "manifest '%s': out of memory listing '%s'", p->label, folder);
        break;
      }
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name))) {
      HessaStatusSet(p->st, PETSC_ERR_MEM, "manifest '%s': out of memory listing '%s'", p->label, folder);
      break;
    }
    n++;
  }
  closedir(dir);
  if (n == 0 && !p->st->code) HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: folder '%s' holds no weight folder (expected sub-folders with a model.json)", p->label, where, folder);
  if (n > 1) qsort(names, n, sizeof *names, CompareNames);
  for (size_t i = 0; i < n && !p->st->code; i++) {
    HessaStudyPoint *pt = NewPoint(p);
    char             shown[256];
    if (!pt) break;
    if (!ValidName(names[i], strlen(names[i]))) {
      Printable(names[i], strlen(names[i]), shown, sizeof shown);
      HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: checkpoint '%s' in '%s': folder names of points may hold only letters, digits, '.', '_' and '-'", p->label, where, shown, folder);
      break;
    }
    if (prefix[0])
      snprintf(pt->name, sizeof pt->name, "%.60s-%.60s", prefix, names[i]);
    else
      snprintf(pt->name, sizeof pt->name, "%s", names[i]);
    snprintf(pt->weights, sizeof pt->weights, "%s/%s", folder, names[i]);
    snprintf(pt->options, sizeof pt->options, "%s", options);
    snprintf(pt->series, sizeof pt->series, "%s", series);
    pt->step = StepOf(names[i]);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

static void ParsePoint(Parse *p, yaml_node_t *node, PetscInt index)
{
  char             where[64], weights[PETSC_MAX_PATH_LEN] = "", name[128] = "", series[128] = "", options[2048] = "", folder[PETSC_MAX_PATH_LEN] = "", shown[512];
  PetscInt         step         = -1;
  PetscBool        have_weights = PETSC_FALSE, have_folder = PETSC_FALSE;
  HessaStudyPoint *pt;

  snprintf(where, sizeof where, "point %" PetscInt_FMT, index + 1);
  if (node->type != YAML_MAPPING_NODE) {
    HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: expected a mapping (name, weights, ...), found %s", p->label, where, node->type == YAML_SCALAR_NODE ? "a scalar" : "a list");
    return;
  }
  for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top && !p->st->code; pair++) {
    yaml_node_t *k = yaml_document_get_node(p->doc, pair->key), *v = yaml_document_get_node(p->doc, pair->value);
    size_t       vl = 0;
    const char  *vs = Scalar(v, &vl);
    if (Key(k, "options")) {
      AppendOptions(p, v, where, options, sizeof options);
      continue;
    }
    if (!vs && !Key(k, "options")) {
      size_t      kl = 0;
      const char *ks = Scalar(k, &kl);
      Printable(ks ? ks : "?", ks ? kl : 1, shown, sizeof shown);
      HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: '%s' must be a single value", p->label, where, shown);
      return;
    }
    if (vl >= PETSC_MAX_PATH_LEN - 1 || strlen(vs) != vl) {
      HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: a value is too long or holds a NUL byte", p->label, where);
      return;
    }
    if (Key(k, "name")) {
      Printable(vs, vl, shown, sizeof shown);
      if (!ValidName(vs, vl)) {
        HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: name '%s': expected 1 to 127 letters, digits, '.', '_' or '-' (not starting with '.')", p->label, where, shown);
        return;
      }
      snprintf(name, sizeof name, "%s", vs);
    } else if (Key(k, "weights") || Key(k, "checkpoints")) {
      char *dst = Key(k, "weights") ? weights : folder;
      if (vl == 0 || HasSpace(vs)) {
        Printable(vs, vl, shown, sizeof shown);
        HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: path '%s': expected a non-empty path without spaces", p->label, where, shown);
        return;
      }
      JoinPath(p->base, vs, dst, PETSC_MAX_PATH_LEN);
      if (dst == weights)
        have_weights = PETSC_TRUE;
      else
        have_folder = PETSC_TRUE;
    } else if (Key(k, "step")) {
      char *end;
      long  s = strtol(vs, &end, 10);
      if (vl == 0 || *end || s < 0 || s > 1000000000L) {
        Printable(vs, vl, shown, sizeof shown);
        HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: step: expected a non-negative integer, found '%s'", p->label, where, shown);
        return;
      }
      step = (PetscInt)s;
    } else if (Key(k, "series")) {
      if (!ValidName(vs, vl)) {
        Printable(vs, vl, shown, sizeof shown);
        HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: series '%s': expected letters, digits, '.', '_' or '-'", p->label, where, shown);
        return;
      }
      snprintf(series, sizeof series, "%s", vs);
    } else {
      size_t      kl = 0;
      const char *ks = Scalar(k, &kl);
      Printable(ks ? ks : "?", ks ? kl : 1, shown, sizeof shown);
      HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: unknown key '%s' (expected name, weights, checkpoints, step, series, options)", p->label, where, shown);
      return;
    }
  }
  if (p->st->code) return;
  if (have_weights == have_folder) {
    HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: expected exactly one of 'weights' (one weight folder) or 'checkpoints' (a folder of them), found %s", p->label, where, have_weights ? "both" : "neither");
    return;
  }
  if (have_folder) {
    ExpandFolder(p, folder, name, series[0] ? series : name, options, where);
    return;
  }
  if (!name[0]) {
    HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': %s: 'name' is missing (it names the point's report folder)", p->label, where);
    return;
  }
  if (!(pt = NewPoint(p))) return;
  snprintf(pt->name, sizeof pt->name, "%s", name);
  snprintf(pt->weights, sizeof pt->weights, "%s", weights);
  snprintf(pt->options, sizeof pt->options, "%s", options);
  snprintf(pt->series, sizeof pt->series, "%s", series);
  pt->step = step;
}

static void CheckUnique(Parse *p)
{
  for (PetscInt i = 0; i < p->m->n_points && !p->st->code; i++)
    for (PetscInt j = 0; j < i; j++)
      if (!strcmp(p->m->points[i].name, p->m->points[j].name)) {
        HessaStatusSet(p->st, HESSA_ERR_INPUT, "manifest '%s': point name '%s' appears twice (points %" PetscInt_FMT " and %" PetscInt_FMT "); names must be unique", p->label, p->m->points[i].name, j + 1, i + 1);
        break;
      }
}

void HessaManifestFree(HessaManifest *m)
{
  free(m->points);
  memset(m, 0, sizeof *m);
}

PetscErrorCode HessaManifestParse(const char *text, size_t len, const char base[], const char label[], HessaManifest *m, HessaStatus *st)
{
  yaml_parser_t   parser;
  yaml_document_t doc;
  yaml_node_t    *root;
  Parse           p = {&doc, label, base, m, st, 0};

  PetscFunctionBegin;
  memset(m, 0, sizeof *m);
  snprintf(m->path, sizeof m->path, "%s", label);
  if (!yaml_parser_initialize(&parser)) {
    HessaStatusSet(st, PETSC_ERR_MEM, "manifest '%s': cannot initialise the YAML parser", label);
    PetscFunctionReturn(0);
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "manifest '%s': not valid YAML: %s at line %zu, column %zu", label, parser.problem ? parser.problem : "parse error", parser.problem_mark.line + 1, parser.problem_mark.column + 1);
    yaml_parser_delete(&parser);
    PetscFunctionReturn(0);
  }
  root = yaml_document_get_root_node(&doc);
  if (!root || root->type != YAML_MAPPING_NODE) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "manifest '%s': expected a YAML mapping with 'points' (and optionally 'options'), found %s", label, !root ? "an empty document" : root->type == YAML_SCALAR_NODE ? "a scalar" : "a list");
  } else {
    yaml_node_t *points = NULL;
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top && !st->code; pair++) {
      yaml_node_t *k = yaml_document_get_node(&doc, pair->key), *v = yaml_document_get_node(&doc, pair->value);
      if (Key(k, "options"))
        AppendOptions(&p, v, "top level", m->options, sizeof m->options);
      else if (Key(k, "points"))
        points = v;
      else {
        size_t      kl = 0;
        const char *ks = Scalar(k, &kl);
        char        shown[256];
        Printable(ks ? ks : "?", ks ? kl : 1, shown, sizeof shown);
        HessaStatusSet(st, HESSA_ERR_INPUT, "manifest '%s': unknown top-level key '%s' (expected options, points)", label, shown);
      }
    }
    if (!st->code && (!points || points->type != YAML_SEQUENCE_NODE)) HessaStatusSet(st, HESSA_ERR_INPUT, "manifest '%s': expected 'points' to be a list of points, found %s", label, !points ? "no 'points' key" : "something else");
    if (!st->code) {
      PetscInt i = 0;
      for (yaml_node_item_t *it = points->data.sequence.items.start; it < points->data.sequence.items.top && !st->code; it++, i++) ParsePoint(&p, yaml_document_get_node(&doc, *it), i);
      if (!st->code && m->n_points == 0) HessaStatusSet(st, HESSA_ERR_INPUT, "manifest '%s': the list of points is empty", label);
    }
    if (!st->code) CheckUnique(&p);
  }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (st->code) HessaManifestFree(m);
  PetscFunctionReturn(0);
}

PetscErrorCode HessaManifestRead(const char path[], HessaManifest *m, HessaStatus *st)
{
  char  *text = NULL, base[PETSC_MAX_PATH_LEN];
  size_t size = 0;

  PetscFunctionBegin;
  memset(m, 0, sizeof *m);
  if (IsDir(path)) {
    Parse p = {NULL, path, "", m, st, 0};
    snprintf(m->path, sizeof m->path, "%s", path);
    ExpandFolder(&p, path, "", "", "", "folder");
    if (!st->code) CheckUnique(&p);
    if (st->code) HessaManifestFree(m);
    PetscFunctionReturn(0);
  }
  /* a regular file only: a FIFO or a device could block the read forever */
  text = HessaReadRegularFile(path, "manifest", "a YAML study manifest (at most 16 MiB) or a folder of checkpoints", (size_t)16 << 20, &size, st);
  if (!text) PetscFunctionReturn(0);
  if (!st->code) {
    const char *slash = strrchr(path, '/');
    if (slash)
      snprintf(base, sizeof base, "%.*s", (int)(slash - path), path);
    else
      base[0] = 0;
    if (slash == path) snprintf(base, sizeof base, "/");
    PetscCall(HessaManifestParse(text, size, base, path, m, st));
  }
  free(text);
  PetscFunctionReturn(0);
}
