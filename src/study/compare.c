/* hessa compare: several studies of the same checkpoints (the whole Hessian and blocks of
 * it chosen by -hessa_operator_subset, or the same points under other options) joined into
 * one table and one set of plots, with more losses per checkpoint (a held-out set) from
 * hessa info's info.json.
 *
 * Inputs are validated before anything is written: each results.csv in hessa's CSV format
 * (docs/reports.md: a header of known columns, RFC 4180 quoting, numbers or empty fields),
 * the same checkpoints (name and step) in every study, one finite loss per checkpoint from
 * each loss source. Rank 0 reads and writes; a fault is raised on every rank.
 *
 * Files (folder -hessa_compare_output):
 *   compare.csv                 name,step, then per study NAME_lambda_max, NAME_lambda_min,
 *                               NAME_negative_fraction, NAME_loss, then per loss source NAME_loss
 *   compare.md                  the same as a table, and the plots
 *   compare_lambda_max          lambda_max of each study against the step (log when positive
 *                               across a decade or more)
 *   compare_negative_fraction   the fraction of negative eigenvalues of each study
 *   compare_loss                the loss of the studies (once when they agree) and of each
 *                               loss source
 */
#include <hessa/study.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FIELDS 64
#define MAX_FIELD_LEN 4096

/* One checkpoint of one study (values NAN when empty in results.csv or the point failed). */
typedef struct {
  char      name[128];
  PetscInt  step; /* -1: none */
  PetscBool ok;
  double    lambda_max, lambda_min, negative_fraction, loss;
} Checkpoint;

typedef struct {
  const HessaCompareSource *src;
  char                      path[PETSC_MAX_PATH_LEN + 16];
  int                       n;
  Checkpoint               *pt;
  int                      *of_row; /* of_row[r]: this study's checkpoint for row r of compare.csv */
} Study;

typedef struct {
  int     n_studies, n_losses, n_rows;
  Study   study[HESSA_COMPARE_MAX_SOURCES];
  int    *row;                             /* row r of compare.csv: checkpoint row[r] of study 0 */
  double *loss[HESSA_COMPARE_MAX_SOURCES]; /* loss source k at row r */
  /* studies of one function share their loss: study k leads a group (shared[k] != NULL:
   * the group's loss at row r, from whichever member has it) or belongs to an earlier one */
  double *shared[HESSA_COMPARE_MAX_SOURCES];
  char    label[HESSA_COMPARE_MAX_SOURCES][256]; /* a leader's members: "all, attention" */
} Comparison;

/* ---- options ---------------------------------------------------------------------------- */

static PetscBool NameOk(const char *s, size_t len)
{
  if (len == 0 || len > 63) return PETSC_FALSE;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-')) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* NAME=FOLDER,... of option into src (n items). Every rank parses the same text. */
static PetscErrorCode ParseSources(MPI_Comm comm, const char option[], const char text[], PetscInt max, HessaCompareSource src[], PetscInt *n)
{
  const char *item = text;
  int         k    = 0;

  PetscFunctionBegin;
  *n = 0;
  PetscCheck(text[0], comm, HESSA_ERR_ARG, "%s: expected a comma-separated list NAME=FOLDER,..., found no value", option);
  for (;;) {
    const char *comma = strchr(item, ','), *eq;
    size_t      len   = comma ? (size_t)(comma - item) : strlen(item);
    k++;
    PetscCheck(len > 0, comm, HESSA_ERR_ARG, "%s %s: item %d is empty (expected NAME=FOLDER,...)", option, text, k);
    eq = memchr(item, '=', len);
    PetscCheck(eq, comm, HESSA_ERR_ARG, "%s: item %d '%.*s' has no '=' (expected NAME=FOLDER)", option, k, (int)len, item);
    PetscCheck(NameOk(item, (size_t)(eq - item)), comm, HESSA_ERR_ARG, "%s: item %d '%.*s': the name must be 1 to 63 letters, digits, '_' or '-' (it names columns of compare.csv)", option, k, (int)len, item);
    PetscCheck(eq + 1 < item + len, comm, HESSA_ERR_ARG, "%s: item %d '%.*s' has no folder after '='", option, k, (int)len, item);
    PetscCheck(len - (size_t)(eq + 1 - item) < sizeof src[0].folder, comm, HESSA_ERR_ARG, "%s: item %d: the folder name is too long", option, k);
    PetscCheck(*n < max, comm, HESSA_ERR_ARG, "%s: item %d: too many sources (at most %d studies and loss sources together: one plot line each)", option, k, HESSA_COMPARE_MAX_SOURCES);
    snprintf(src[*n].name, sizeof src[*n].name, "%.*s", (int)(eq - item), item);
    snprintf(src[*n].folder, sizeof src[*n].folder, "%.*s", (int)(item + len - eq - 1), eq + 1);
    (*n)++;
    if (!comma) break;
    item = comma + 1;
  }
  PetscFunctionReturn(0);
}

/* HessaCompareOptionsSetFromOptions - collective on comm; see hessa/study.h. */
PetscErrorCode HessaCompareOptionsSetFromOptions(MPI_Comm comm, HessaCompareOptions *o)
{
  char      studies[8192] = "", losses[8192] = "";
  PetscBool set_studies = PETSC_FALSE, set_losses = PETSC_FALSE, help;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  PetscCall(PetscStrncpy(o->output, "hessa-compare", sizeof o->output));
  PetscOptionsBegin(comm, NULL, "hessa compare options", NULL);
  PetscCall(PetscOptionsString("-hessa_compare_studies", "studies of the same checkpoints: NAME=FOLDER,... (each FOLDER a hessa study output folder with results.csv; NAME labels its columns and plot lines)", "HessaCompareRun", studies, studies,
                               sizeof studies, &set_studies));
  PetscCall(
      PetscOptionsString("-hessa_compare_loss", "more losses per checkpoint: NAME=FOLDER,... (FOLDER/CHECKPOINT/info.json, written by hessa info -hessa_info_output FOLDER/CHECKPOINT)", "HessaCompareRun", losses, losses, sizeof losses, &set_losses));
  PetscCall(PetscOptionsString("-hessa_compare_output", "folder for compare.csv, compare.md and the plots", "HessaCompareRun", o->output, o->output, sizeof o->output, NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) PetscFunctionReturn(0);
  PetscCheck(set_studies, comm, HESSA_ERR_ARG, "hessa compare needs -hessa_compare_studies NAME=FOLDER,... (hessa study output folders of the same checkpoints)");
  PetscCall(ParseSources(comm, "-hessa_compare_studies", studies, HESSA_COMPARE_MAX_SOURCES, o->studies, &o->n_studies));
  if (set_losses) PetscCall(ParseSources(comm, "-hessa_compare_loss", losses, HESSA_COMPARE_MAX_SOURCES - o->n_studies, o->losses, &o->n_losses));
  PetscCheck(o->output[0], comm, HESSA_ERR_ARG, "-hessa_compare_output: expected a folder name, found no value");
  /* a name is a column prefix: two sources of one name would write the same columns */
  for (PetscInt a = 0; a < o->n_studies + o->n_losses; a++)
    for (PetscInt b = 0; b < a; b++) {
      const HessaCompareSource *A = a < o->n_studies ? &o->studies[a] : &o->losses[a - o->n_studies];
      const HessaCompareSource *B = b < o->n_studies ? &o->studies[b] : &o->losses[b - o->n_studies];
      PetscCheck(strcmp(A->name, B->name), comm, HESSA_ERR_ARG, "the name '%s' is given twice (%s=%s and %s=%s): each name labels its own columns of compare.csv", A->name, B->name, B->folder, A->name, A->folder);
    }
  PetscFunctionReturn(0);
}

/* ---- reading results.csv ---------------------------------------------------------------- */

typedef struct {
  char *f[MAX_FIELDS];
  int   n;
} Record;

static void RecordFree(Record *r)
{
  for (int i = 0; i < r->n; i++) free(r->f[i]);
  r->n = 0;
}

/* The next record of an RFC 4180 text from *pos: 1 a record, 0 the end of the text, -1 an
 * error (why says what). A record must end with a line break (hessa appends whole lines). */
static int ReadRecord(const char *s, size_t len, size_t *pos, Record *r, const char **why)
{
  static char buf[MAX_FIELD_LEN];
  size_t      i = *pos;

  r->n = 0;
  if (i >= len) return 0;
  for (;;) {
    size_t k = 0;
    if (i < len && s[i] == '"') {
      i++;
      for (;;) {
        char c;
        if (i >= len) {
          *why = "a quoted field is not closed";
          return -1;
        }
        if (s[i] == '"') {
          if (i + 1 < len && s[i + 1] == '"')
            c = '"', i += 2;
          else {
            i++;
            break;
          }
        } else
          c = s[i++];
        if (k + 1 >= sizeof buf) {
          *why = "a field is longer than 4096 bytes";
          return -1;
        }
        buf[k++] = c;
      }
      if (i < len && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
        *why = "text after the closing quote of a field";
        return -1;
      }
    } else {
      while (i < len && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
        if (s[i] == '"') {
          *why = "a quote inside a field that does not start with one";
          return -1;
        }
        if (k + 1 >= sizeof buf) {
          *why = "a field is longer than 4096 bytes";
          return -1;
        }
        buf[k++] = s[i++];
      }
    }
    buf[k] = 0;
    if (r->n == MAX_FIELDS) {
      *why = "more than 64 fields";
      return -1;
    }
    if (!(r->f[r->n] = strdup(buf))) {
      *why = "out of memory";
      return -1;
    }
    r->n++;
    if (i < len && s[i] == ',') {
      i++;
      continue;
    }
    if (i < len && s[i] == '\r') i++;
    if (!(i < len && s[i] == '\n')) {
      *why = "the last line does not end with a line break (cut short?)";
      return -1;
    }
    *pos = i + 1;
    return 1;
  }
}

/* A number field: empty is NAN (hessa writes an absent or non-finite number so). */
static PetscBool NumberField(const char *s, double *x)
{
  char *end;
  if (!s[0]) {
    *x = NAN;
    return PETSC_TRUE;
  }
  errno = 0;
  *x    = strtod(s, &end);
  if (*end || end == s || (errno == ERANGE && fabs(*x) > 1) || !isfinite(*x)) return PETSC_FALSE;
  return PETSC_TRUE;
}

static PetscBool StepField(const char *s, PetscInt *step)
{
  char     *end;
  long long v;
  if (!s[0]) {
    *step = -1;
    return PETSC_TRUE;
  }
  errno = 0;
  v     = strtoll(s, &end, 10);
  if (*end || end == s || errno || v < 0 || v > 2147483647LL) return PETSC_FALSE;
  *step = (PetscInt)v;
  return PETSC_TRUE;
}

enum { COL_NAME, COL_STATUS, COL_STEP, COL_LOSS, COL_NEGATIVE_FRACTION, COL_LAMBDA_MIN, COL_LAMBDA_MAX, N_REQUIRED };
static const char *const required_columns[N_REQUIRED] = {"name", "status", "step", "loss", "negative_fraction", "lambda_min", "lambda_max"};

/* Study s->src: its results.csv into s->pt, validated; st says what is wrong. */
static void ReadStudy(Study *s, HessaStatus *st)
{
  const char *name = s->src->name, *why = NULL;
  char       *text;
  size_t      len = 0, pos          = 0;
  int         col[N_REQUIRED], line = 1, rc, cap = 0;
  Record      head = {0}, r = {0};
  struct stat sb;

  snprintf(s->path, sizeof s->path, "%s/results.csv", s->src->folder);
  if (stat(s->src->folder, &sb) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s': folder '%s': %s (expected a hessa study output folder)", name, s->src->folder, strerror(errno));
    return;
  }
  if (!S_ISDIR(sb.st_mode)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s': '%s' is not a folder (expected a hessa study output folder)", name, s->src->folder);
    return;
  }
  if (!(text = HessaReadRegularFile(s->path, "study results", "the results.csv of a hessa study", SIZE_MAX, &len, st))) return;
  rc = ReadRecord(text, len, &pos, &head, &why);
  if (rc <= 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): %s", name, s->path, rc == 0 ? "the file is empty (expected a header row and one row per checkpoint)" : why);
    goto done;
  }
  /* the header: known columns only, each once, the required ones present */
  for (int c = 0; c < head.n; c++) {
    PetscBool known = PETSC_FALSE;
    for (int k = 0; HessaStudyResultColumns[k]; k++) known = known || !strcmp(head.f[c], HessaStudyResultColumns[k]);
    if (!known) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): unknown column '%s' in the header (column %d; a study's results.csv has the columns of docs/reports.md)", name, s->path, head.f[c], c + 1);
      goto done;
    }
    for (int d = 0; d < c; d++)
      if (!strcmp(head.f[c], head.f[d])) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): column '%s' appears twice in the header (columns %d and %d)", name, s->path, head.f[c], d + 1, c + 1);
        goto done;
      }
  }
  for (int k = 0; k < N_REQUIRED; k++) {
    col[k] = -1;
    for (int c = 0; c < head.n; c++)
      if (!strcmp(head.f[c], required_columns[k])) col[k] = c;
    if (col[k] < 0) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): no column '%s' in the header (expected name, status, step, loss, negative_fraction, lambda_min, lambda_max)", name, s->path, required_columns[k]);
      goto done;
    }
  }
  while ((rc = ReadRecord(text, len, &pos, &r, &why)) == 1) {
    Checkpoint *p;
    const char *bad = NULL;
    line++;
    if (r.n != head.n) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): line %d has %d field%s, the header %d", name, s->path, line, r.n, r.n == 1 ? "" : "s", head.n);
      goto done;
    }
    if (s->n == cap) {
      Checkpoint *grown = realloc(s->pt, (size_t)(2 * cap + 16) * sizeof *grown);
      if (!grown) {
        HessaStatusSet(st, PETSC_ERR_MEM, "study '%s' (%s): out of memory", name, s->path);
        goto done;
      }
      s->pt = grown, cap = 2 * cap + 16;
    }
    p = &s->pt[s->n];
    memset(p, 0, sizeof *p);
    if (!r.f[col[COL_NAME]][0] || strlen(r.f[col[COL_NAME]]) >= sizeof p->name) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): line %d: the checkpoint name must be 1 to 127 characters, found '%.40s'", name, s->path, line, r.f[col[COL_NAME]]);
      goto done;
    }
    snprintf(p->name, sizeof p->name, "%s", r.f[col[COL_NAME]]);
    for (int j = 0; j < s->n; j++)
      if (!strcmp(s->pt[j].name, p->name)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): checkpoint '%s' appears twice (lines %d and %d)", name, s->path, p->name, j + 2, line);
        goto done;
      }
    if (!strcmp(r.f[col[COL_STATUS]], "ok"))
      p->ok = PETSC_TRUE;
    else if (strcmp(r.f[col[COL_STATUS]], "failed")) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): line %d (checkpoint '%s'): status: expected ok or failed, found '%.40s'", name, s->path, line, p->name, r.f[col[COL_STATUS]]);
      goto done;
    }
    if (!StepField(r.f[col[COL_STEP]], &p->step))
      bad = "step";
    else if (!NumberField(r.f[col[COL_LAMBDA_MAX]], &p->lambda_max))
      bad = "lambda_max";
    else if (!NumberField(r.f[col[COL_LAMBDA_MIN]], &p->lambda_min))
      bad = "lambda_min";
    else if (!NumberField(r.f[col[COL_NEGATIVE_FRACTION]], &p->negative_fraction) || p->negative_fraction < 0 || p->negative_fraction > 1)
      bad = "negative_fraction";
    else if (!NumberField(r.f[col[COL_LOSS]], &p->loss))
      bad = "loss";
    if (bad) {
      int c = 0;
      while (strcmp(head.f[c], bad)) c++;
      HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): line %d (checkpoint '%s'): %s: expected %s, found '%.40s'", name, s->path, line, p->name, bad,
                     !strcmp(bad, "step")                ? "a non-negative integer or nothing"
                     : !strcmp(bad, "negative_fraction") ? "a number in [0, 1] or nothing"
                                                         : "a finite number or nothing",
                     r.f[c]);
      goto done;
    }
    if (!p->ok) p->lambda_max = p->lambda_min = p->negative_fraction = p->loss = NAN;
    s->n++;
    RecordFree(&r);
  }
  if (rc < 0)
    HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): line %d: %s", name, s->path, line + 1, why);
  else if (s->n == 0)
    HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s): no checkpoint (a header and no rows)", name, s->path);
done:
  RecordFree(&head);
  RecordFree(&r);
  free(text);
}

static int FindCheckpoint(const Study *s, const char name[])
{
  for (int j = 0; j < s->n; j++)
    if (!strcmp(s->pt[j].name, name)) return j;
  return -1;
}

static void StepText(PetscInt step, char out[], size_t len)
{
  if (step < 0)
    snprintf(out, len, "none");
  else
    snprintf(out, len, "%" PetscInt_FMT, step);
}

/* Every study holds the checkpoints of study 0, with the same steps, and no other. */
static void SameCheckpoints(Comparison *c, HessaStatus *st)
{
  const Study *ref = &c->study[0];
  for (int k = 1; k < c->n_studies && !st->code; k++) {
    Study *s = &c->study[k];
    for (int j = 0; j < s->n && !st->code; j++) {
      int  i = FindCheckpoint(ref, s->pt[j].name);
      char a[32], b[32];
      if (i < 0)
        HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s) has checkpoint '%s', which study '%s' (%s) does not have: the studies must analyse the same checkpoints", s->src->name, s->path, s->pt[j].name, ref->src->name, ref->path);
      else if (ref->pt[i].step != s->pt[j].step) {
        StepText(ref->pt[i].step, a, sizeof a), StepText(s->pt[j].step, b, sizeof b);
        HessaStatusSet(st, HESSA_ERR_INPUT, "checkpoint '%s' has step %s in study '%s' (%s) but step %s in study '%s' (%s): the studies must analyse the same checkpoints", s->pt[j].name, a, ref->src->name, ref->path, b, s->src->name, s->path);
      }
    }
    for (int i = 0; i < ref->n && !st->code; i++)
      if (FindCheckpoint(s, ref->pt[i].name) < 0)
        HessaStatusSet(st, HESSA_ERR_INPUT, "study '%s' (%s) has no checkpoint '%s', which study '%s' (%s) has: the studies must analyse the same checkpoints", s->src->name, s->path, ref->pt[i].name, ref->src->name, ref->path);
  }
}

static const Checkpoint *sort_ref;
/* rows by step (checkpoints without one last), then by name */
static int RowOrder(const void *pa, const void *pb)
{
  const Checkpoint *a = &sort_ref[*(const int *)pa], *b = &sort_ref[*(const int *)pb];
  if ((a->step < 0) != (b->step < 0)) return a->step < 0 ? 1 : -1;
  if (a->step != b->step) return a->step < b->step ? -1 : 1;
  return strcmp(a->name, b->name);
}

/* The loss at every checkpoint from FOLDER/CHECKPOINT/info.json (hessa info -hessa_info_output). */
static void ReadLosses(const HessaCompareSource *src, const Comparison *c, double loss[], HessaStatus *st)
{
  const Study *ref = &c->study[0];
  struct stat  sb;

  if (stat(src->folder, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "loss '%s': folder '%s': %s (expected a folder with CHECKPOINT/info.json from hessa info -hessa_info_output)", src->name, src->folder, stat(src->folder, &sb) != 0 ? strerror(errno) : "not a folder");
    return;
  }
  for (int r = 0; r < c->n_rows && !st->code; r++) {
    const char  *cp = ref->pt[c->row[r]].name;
    char         path[PETSC_MAX_PATH_LEN + 160], what[256];
    size_t       len;
    char        *text;
    cJSON       *doc;
    const cJSON *v;

    snprintf(path, sizeof path, "%s/%s/info.json", src->folder, cp);
    snprintf(what, sizeof what, "loss '%s', checkpoint '%s'", src->name, cp);
    if (!(text = HessaReadRegularFile(path, what, "hessa info's info.json (hessa info -hessa_info_output FOLDER/CHECKPOINT)", SIZE_MAX, &len, st))) return;
    doc = cJSON_ParseWithLength(text, len);
    free(text);
    v = doc ? cJSON_GetObjectItemCaseSensitive(doc, "loss") : NULL;
    if (!doc)
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': not valid JSON", what, path);
    else if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "schema")) ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "schema")) : "", "hessa-info"))
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': expected \"schema\": \"hessa-info\" (written by hessa info -hessa_info_output)", what, path);
    else if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': \"loss\": expected a finite number", what, path);
    else
      loss[r] = v->valuedouble;
    cJSON_Delete(doc);
  }
}

/* ---- writing ------------------------------------------------------------------------------- */

static double Value(const Checkpoint *p, int which)
{
  switch (which) {
  case 0:
    return p->lambda_max;
  case 1:
    return p->lambda_min;
  case 2:
    return p->negative_fraction;
  default:
    return p->loss;
  }
}

static void WriteCSV(const Comparison *c, HessaText *t)
{
  static const char *const what[4] = {"lambda_max", "lambda_min", "negative_fraction", "loss"};
  HessaTextPrintf(t, "name,step");
  for (int k = 0; k < c->n_studies; k++)
    for (int w = 0; w < 4; w++) HessaTextPrintf(t, ",%s_%s", c->study[k].src->name, what[w]);
  for (int k = 0; k < c->n_losses; k++) HessaTextPrintf(t, ",%s_loss", c->study[c->n_studies + k].src->name);
  HessaTextPrintf(t, "\n");
  for (int r = 0; r < c->n_rows; r++) {
    const Checkpoint *p0 = &c->study[0].pt[c->row[r]];
    HessaCSVString(t, p0->name);
    HessaTextPrintf(t, ",");
    if (p0->step >= 0) HessaTextPrintf(t, "%" PetscInt_FMT, p0->step);
    for (int k = 0; k < c->n_studies; k++)
      for (int w = 0; w < 4; w++) {
        HessaTextPrintf(t, ",");
        HessaCSVNumber(t, Value(&c->study[k].pt[c->study[k].of_row[r]], w));
      }
    for (int k = 0; k < c->n_losses; k++) {
      HessaTextPrintf(t, ",");
      HessaCSVNumber(t, c->loss[k][r]);
    }
    HessaTextPrintf(t, "\n");
  }
}

/* The study colours: study k has the same colour in every plot, loss sources follow. */
static const HessaPlotColor source_color[HESSA_COMPARE_MAX_SOURCES] = {HESSA_PLOT_COLOR_BLACK,  HESSA_PLOT_COLOR_BLUE, HESSA_PLOT_COLOR_ORANGE, HESSA_PLOT_COLOR_GREEN,
                                                                       HESSA_PLOT_COLOR_PURPLE, HESSA_PLOT_COLOR_SKY,  HESSA_PLOT_COLOR_RED,    HESSA_PLOT_COLOR_GREY};

/* Log when every value is positive and they span a decade or more; symmetric log when
 * both signs occur over two decades or more of |value|; linear otherwise. */
static HessaPlotAxisScale ScaleOf(int n_series, const HessaPlotSeries series[])
{
  double    lo = INFINITY, hi = 0;
  PetscBool positive = PETSC_TRUE;
  int       count    = 0;
  for (int s = 0; s < n_series; s++)
    for (int i = 0; i < series[s].n; i++) {
      double v = series[s].y[i];
      if (!isfinite(v)) continue;
      count++;
      if (!(v > 0)) positive = PETSC_FALSE;
      if (v != 0) lo = PetscMin(lo, fabs(v)), hi = PetscMax(hi, fabs(v));
    }
  if (!count || !(hi > 0)) return HESSA_PLOT_AXIS_LINEAR;
  if (positive && hi >= 10 * lo) return HESSA_PLOT_AXIS_LOG;
  if (!positive && hi >= 100 * lo) return HESSA_PLOT_AXIS_SYMLOG;
  return HESSA_PLOT_AXIS_LINEAR;
}

/* x (steps) and y of the rows with a step into buf; returns the count. */
static int Series(const Comparison *c, const Study *s, const double *values, int which, double *x, double *y)
{
  int m = 0;
  for (int r = 0; r < c->n_rows; r++) {
    const Checkpoint *p = &s->pt[s->of_row[r]];
    if (p->step < 0) continue;
    x[m] = (double)p->step;
    y[m] = values ? values[r] : Value(p, which);
    m++;
  }
  return m;
}

static void Plots(const Comparison *c, const char folder[], char notes[3][256], HessaStatus *st)
{
  HessaPlotSeries series[HESSA_COMPARE_MAX_SOURCES];
  HessaPlotColor  color[HESSA_COMPARE_MAX_SOURCES];
  char            legend[HESSA_COMPARE_MAX_SOURCES][300];
  double         *buf = malloc(2 * HESSA_COMPARE_MAX_SOURCES * (size_t)PetscMax(c->n_rows, 1) * sizeof(double));
  int             n   = 0;

  if (!buf) {
    HessaStatusSet(st, PETSC_ERR_MEM, "compare: out of memory");
    return;
  }
#define X(k) (buf + (2 * (size_t)(k)) * (size_t)PetscMax(c->n_rows, 1))
#define Y(k) (buf + (2 * (size_t)(k) + 1) * (size_t)PetscMax(c->n_rows, 1))
  /* lambda_max and the negative fraction: one line per study */
  for (int which = 0; which < 3; which += 2) {
    for (int k = 0; k < c->n_studies; k++) {
      int m     = Series(c, &c->study[k], NULL, which, X(k), Y(k));
      series[k] = (HessaPlotSeries){X(k), Y(k), m, c->study[k].src->name, PETSC_TRUE, PETSC_TRUE};
      color[k]  = source_color[k];
    }
    if (which == 0)
      HessaPlotXYScaled(folder, "compare_lambda_max", "Largest Hessian eigenvalue of each study along training", "training step", "#gl#dmax#u", HESSA_PLOT_AXIS_LINEAR, ScaleOf(c->n_studies, series), c->n_studies, series, color, notes[0],
                        sizeof notes[0], st);
    else
      HessaPlotXYScaled(folder, "compare_negative_fraction", "Fraction of negative Hessian eigenvalues of each study along training", "training step", "negative fraction", HESSA_PLOT_AXIS_LINEAR, HESSA_PLOT_AXIS_LINEAR, c->n_studies, series, color,
                        notes[1], sizeof notes[1], st);
  }
  /* the loss: each group of studies with one loss once ("analysed": the function whose
   * Hessian the studies computed), then each loss source */
  for (int k = 0; k < c->n_studies; k++) {
    int members = 1;
    if (!c->shared[k]) continue;
    for (const char *p = c->label[k]; *p; p++) members += *p == ',';
    if (members == c->n_studies && members > 1)
      snprintf(legend[k], sizeof legend[k], "analysed objective");
    else
      snprintf(legend[k], sizeof legend[k], "analysed objective (%s)", c->label[k]);
    series[n] = (HessaPlotSeries){X(k), Y(k), Series(c, &c->study[0], c->shared[k], 3, X(k), Y(k)), legend[k], PETSC_TRUE, PETSC_TRUE};
    color[n]  = source_color[k];
    n++;
  }
  for (int k = 0; k < c->n_losses; k++) {
    int j = c->n_studies + k;
    snprintf(legend[j], sizeof legend[j], "%s loss", c->study[j].src->name);
    series[n] = (HessaPlotSeries){X(j), Y(j), Series(c, &c->study[0], c->loss[k], 3, X(j), Y(j)), legend[j], PETSC_TRUE, PETSC_TRUE};
    color[n]  = source_color[j];
    n++;
  }
  HessaPlotXYScaled(folder, "compare_loss", "Loss along training", "training step", "loss", HESSA_PLOT_AXIS_LINEAR, ScaleOf(n, series), n, series, color, notes[2], sizeof notes[2], st);
#undef X
#undef Y
  free(buf);
}

static void Fmt(char out[], size_t len, double x)
{
  if (isfinite(x))
    snprintf(out, len, "%.4g", x);
  else
    snprintf(out, len, "-");
}

static void WriteMarkdown(const Comparison *c, const char notes[3][256], HessaText *md)
{
  static const char *const plot_names[3] = {"compare_lambda_max", "compare_negative_fraction", "compare_loss"};
  char                     a[32], b[32], d[32], e[32];

  HessaTextPrintf(md, "# hessa compare\n\n%d checkpoint%s, %d stud%s", c->n_rows, c->n_rows == 1 ? "" : "s", c->n_studies, c->n_studies == 1 ? "y" : "ies");
  if (c->n_losses) HessaTextPrintf(md, ", %d loss source%s", c->n_losses, c->n_losses == 1 ? "" : "s");
  HessaTextPrintf(md, ".\n\n| name | source | folder |\n|---|---|---|\n");
  for (int k = 0; k < c->n_studies + c->n_losses; k++) HessaTextPrintf(md, "| %s | %s | `%s` |\n", c->study[k].src->name, k < c->n_studies ? "study (results.csv)" : "loss (CHECKPOINT/info.json)", c->study[k].src->folder);
  HessaTextPrintf(md, "\nlambda_max and lambda_min are the extreme eigenvalues of each study's operator (a block is the principal submatrix of its parameters); the negative fraction is the share of negative eigenvalues (from the full spectrum or "
                      "the SLQ density). A dash: not computed, or the point failed (see that study's study.md).\n\n");
  HessaTextPrintf(md, "| checkpoint | step |");
  for (int k = 0; k < c->n_studies; k++) HessaTextPrintf(md, " %s lambda_max | %s lambda_min | %s neg. fraction |", c->study[k].src->name, c->study[k].src->name, c->study[k].src->name);
  for (int k = 0; k < c->n_studies; k++)
    if (c->shared[k]) HessaTextPrintf(md, " loss (%s) |", c->label[k]);
  for (int k = 0; k < c->n_losses; k++) HessaTextPrintf(md, " %s loss |", c->study[c->n_studies + k].src->name);
  HessaTextPrintf(md, "\n|---|---|");
  for (int k = 0; k < 3 * c->n_studies; k++) HessaTextPrintf(md, "---|");
  for (int k = 0; k < c->n_studies; k++)
    if (c->shared[k]) HessaTextPrintf(md, "---|");
  for (int k = 0; k < c->n_losses; k++) HessaTextPrintf(md, "---|");
  HessaTextPrintf(md, "\n");
  for (int r = 0; r < c->n_rows; r++) {
    const Checkpoint *p0 = &c->study[0].pt[c->row[r]];
    StepText(p0->step, a, sizeof a);
    HessaTextPrintf(md, "| %s | %s |", p0->name, p0->step >= 0 ? a : "");
    for (int k = 0; k < c->n_studies; k++) {
      const Checkpoint *p = &c->study[k].pt[c->study[k].of_row[r]];
      Fmt(b, sizeof b, p->lambda_max), Fmt(d, sizeof d, p->lambda_min), Fmt(e, sizeof e, p->negative_fraction);
      HessaTextPrintf(md, " %s | %s | %s |", b, d, e);
    }
    for (int k = 0; k < c->n_studies; k++)
      if (c->shared[k]) {
        Fmt(b, sizeof b, c->shared[k][r]);
        HessaTextPrintf(md, " %s |", b);
      }
    for (int k = 0; k < c->n_losses; k++) {
      Fmt(b, sizeof b, c->loss[k][r]);
      HessaTextPrintf(md, " %s |", b);
    }
    HessaTextPrintf(md, "\n");
  }
  HessaTextPrintf(md, "\n## Plots\n\nCheckpoints without a training step are in the table only.\n\n");
  for (int k = 0; k < 3; k++) {
    if (notes[k][0])
      HessaTextPrintf(md, "- %s: %s\n\n", plot_names[k], notes[k]);
    else
      HessaTextPrintf(md, "![%s](%s.png)\n\n", plot_names[k], plot_names[k]);
  }
  HessaTextPrintf(md, "Files: compare.csv (the table with every digit: %%.17g, empty where not computed), the plots as PNG and SVG.\n");
}

/* Studies whose losses agree wherever both have one (a failed point has none) are studies
 * of one function (blocks of one Hessian): their loss is shown once, named by all of them. */
static void GroupLosses(Comparison *c, HessaStatus *st)
{
  for (int k = 0; k < c->n_studies; k++) {
    const Study *s    = &c->study[k];
    int          lead = -1;
    for (int j = 0; j < k && lead < 0; j++) {
      PetscBool agree = PETSC_TRUE;
      if (!c->shared[j]) continue;
      for (int r = 0; r < c->n_rows && agree; r++) {
        double a = c->shared[j][r], b = s->pt[s->of_row[r]].loss;
        agree = !(isfinite(a) && isfinite(b) && a != b);
      }
      if (agree) lead = j;
    }
    if (lead < 0) {
      if (!(c->shared[k] = malloc((size_t)PetscMax(c->n_rows, 1) * sizeof(double)))) {
        HessaStatusSet(st, PETSC_ERR_MEM, "compare: out of memory");
        return;
      }
      for (int r = 0; r < c->n_rows; r++) c->shared[k][r] = s->pt[s->of_row[r]].loss;
      snprintf(c->label[k], sizeof c->label[k], "%s", s->src->name);
    } else {
      size_t used = strlen(c->label[lead]);
      for (int r = 0; r < c->n_rows; r++)
        if (!isfinite(c->shared[lead][r])) c->shared[lead][r] = s->pt[s->of_row[r]].loss;
      snprintf(c->label[lead] + used, sizeof c->label[lead] - used, ", %s", s->src->name);
    }
  }
}

/* Rank 0: remove the plots of an earlier run (a plot skipped now must not stay behind). */
static void RemoveOldPlots(const char folder[])
{
  static const char *const names[] = {"compare_lambda_max", "compare_negative_fraction", "compare_loss"};
  static const char *const ext[]   = {"png", "svg", "geometry.json"};
  char                     path[PETSC_MAX_PATH_LEN + 64];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      snprintf(path, sizeof path, "%s/%s.%s", folder, names[i], ext[j]);
      (void)unlink(path);
    }
}

static void ComparisonFree(Comparison *c)
{
  for (int k = 0; k < HESSA_COMPARE_MAX_SOURCES; k++) {
    free(c->study[k].pt);
    free(c->study[k].of_row);
    free(c->loss[k]);
    free(c->shared[k]);
  }
  free(c->row);
  memset(c, 0, sizeof *c);
}

/* Rank 0: read and validate every input. */
static void ReadAll(const HessaCompareOptions *o, Comparison *c, HessaStatus *st)
{
  c->n_studies = (int)o->n_studies;
  c->n_losses  = (int)o->n_losses;
  for (int k = 0; k < c->n_studies + c->n_losses; k++) c->study[k].src = k < c->n_studies ? &o->studies[k] : &o->losses[k - c->n_studies];
  for (int k = 0; k < c->n_studies && !st->code; k++) ReadStudy(&c->study[k], st);
  if (!st->code) SameCheckpoints(c, st);
  if (st->code) return;
  c->n_rows = c->study[0].n;
  c->row    = malloc((size_t)c->n_rows * sizeof(int));
  for (int k = 0; k < c->n_studies + c->n_losses; k++) c->study[k].of_row = malloc((size_t)c->n_rows * sizeof(int));
  for (int k = 0; k < c->n_losses; k++) c->loss[k] = malloc((size_t)c->n_rows * sizeof(double));
  for (int k = 0; k < c->n_studies + c->n_losses; k++)
    if (!c->row || !c->study[k].of_row || (k < c->n_losses && !c->loss[k])) {
      HessaStatusSet(st, PETSC_ERR_MEM, "compare: out of memory");
      return;
    }
  for (int r = 0; r < c->n_rows; r++) c->row[r] = r;
  sort_ref = c->study[0].pt;
  qsort(c->row, (size_t)c->n_rows, sizeof(int), RowOrder);
  for (int k = 0; k < c->n_studies; k++)
    for (int r = 0; r < c->n_rows; r++) c->study[k].of_row[r] = FindCheckpoint(&c->study[k], c->study[0].pt[c->row[r]].name);
  GroupLosses(c, st);
  if (st->code) return;
  /* a loss source plots against the steps of study 0 */
  for (int k = 0; k < c->n_losses; k++) {
    ReadLosses(c->study[c->n_studies + k].src, c, c->loss[k], st);
    if (st->code) return;
  }
}

/* HessaCompareRun - collective on comm; see hessa/study.h. */
PetscErrorCode HessaCompareRun(MPI_Comm comm, const HessaCompareOptions *o)
{
  PetscMPIInt rank;
  HessaStatus st  = {0};
  Comparison  cmp = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) ReadAll(o, &cmp, &st);
  if (st.code) ComparisonFree(&cmp);
  PetscCall(HessaSyncError(comm, &st));
  /* inputs are fine: only now the output folder is created */
  PetscCall(HessaReportCheckFolder(comm, o->output));
  if (rank == 0) {
    char      notes[3][256] = {{0}}, path[PETSC_MAX_PATH_LEN + 32];
    HessaText csv = {0}, md = {0};

    RemoveOldPlots(o->output);
    Plots(&cmp, o->output, notes, &st);
    WriteCSV(&cmp, &csv);
    WriteMarkdown(&cmp, (const char(*)[256])notes, &md);
    snprintf(path, sizeof path, "%s/compare.csv", o->output);
    if (csv.failed || !csv.data)
      HessaStatusSet(&st, PETSC_ERR_MEM, "compare: out of memory");
    else if (!st.code)
      (void)HessaWriteFileAtomic(path, csv.data, &st);
    snprintf(path, sizeof path, "%s/compare.md", o->output);
    if (md.failed || !md.data)
      HessaStatusSet(&st, PETSC_ERR_MEM, "compare: out of memory");
    else if (!st.code)
      (void)HessaWriteFileAtomic(path, md.data, &st);
    HessaTextFree(&csv);
    HessaTextFree(&md);
    if (!st.code) printf("compare: %d checkpoints of %d stud%s: %s/compare.md (compare.csv, plots)\n", cmp.n_rows, cmp.n_studies, cmp.n_studies == 1 ? "y" : "ies", o->output);
    ComparisonFree(&cmp);
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}
