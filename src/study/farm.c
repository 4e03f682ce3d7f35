/* The study task farm: many points, analysed by groups of ranks, collected by rank 0.
 *
 *   rank 0            collector: hands out point indices on request, appends each
 *                     result to results.jsonl and results.csv the moment it arrives
 *                     (fsync'd, one line per point), writes the study report at the end
 *   ranks 1 .. P-1    split into groups of -hessa_study_group_size ranks; each group
 *                     analyses one point at a time on its own communicator, its rank 0
 *                     sends the result and asks for the next point
 *
 * Points are handed out dynamically, so fast groups take more points. A rerun with the
 * same output folder keeps the finished ("ok") lines of results.jsonl and analyses the
 * rest; a line cut short by a killed run is dropped and its point redone. A stop signal
 * (SIGTERM/SIGUSR1) makes the collector hand out nothing more; points in flight are
 * finished and recorded, a partial report is written, and the run exits with
 * HESSA_EXIT_STOPPED. With a single rank, rank 0 does both jobs in turn.
 *
 * The collector waits with MPI_Iprobe and short sleeps rather than a blocking receive:
 * Open MPI busy-polls in MPI_Recv, which would take a core away from the workers.
 */
#include <hessa/study.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TAG_REQUEST 7101 /* leader -> collector: the finished point's result line ("" at first) */
#define TAG_ASSIGN 7102  /* collector -> leader: a point index, or -1 = no more work */

struct _p_HessaStudy {
  MPI_Comm      comm;
  char          manifest_path[PETSC_MAX_PATH_LEN];
  char          output[PETSC_MAX_PATH_LEN];
  PetscInt      group_size, max_points;
  HessaManifest m;
  char         *finished; /* rank 0: per point, 1 if results.jsonl already has it */
  cJSON        *lines;    /* rank 0: every kept or new result line */
  PetscInt      n_skipped, n_ok, n_failed, n_stopped_pending;
  double        record_seconds, wall_seconds; /* rank 0: time spent writing results; the whole run */
  MPI_Comm      group;                        /* a worker's group, MPI_COMM_NULL on the collector */
  int           group_index, n_groups;
  PetscBool     setup;
  char          lock[PETSC_MAX_PATH_LEN + 16]; /* rank 0: the output folder's lock file ("" = none held) */
};

const char *const HessaStudyResultColumns[] = {"name",       "status",     "series", "step",     "loss", "gradient_norm", "critical", "verdict", "minimum_ratio", "negative_fraction",
                                               "lambda_min", "lambda_max", "n",      "negative", "zero", "positive",      "seconds",  "group",   "error",         NULL};

PetscErrorCode HessaStudyCreate(MPI_Comm comm, HessaStudy *study)
{
  HessaStudy s;

  PetscFunctionBegin;
  PetscCall(PetscNew(&s));
  PetscCallMPI(MPI_Comm_dup(comm, &s->comm));
  PetscCall(PetscStrncpy(s->output, "hessa-study", sizeof s->output));
  s->group_size = 1;
  s->group      = MPI_COMM_NULL;
  *study        = s;
  PetscFunctionReturn(0);
}

PetscErrorCode HessaStudySetFromOptions(HessaStudy s)
{
  PetscBool set, help;

  PetscFunctionBegin;
  PetscOptionsBegin(s->comm, NULL, "hessa study options", NULL);
  PetscCall(PetscOptionsString("-hessa_study_manifest", "the points: a YAML manifest, a folder of weight folders, or a training folder", "HessaManifestRead", s->manifest_path, s->manifest_path, sizeof s->manifest_path, &set));
  PetscCall(PetscOptionsString("-hessa_study_output", "folder for results.jsonl, results.csv, the study report and one report folder per point", "HessaStudyRun", s->output, s->output, sizeof s->output, NULL));
  PetscCall(PetscOptionsInt("-hessa_study_group_size", "ranks per analysis group (rank 0 collects; the other ranks form the groups)", "HessaStudySetUp", s->group_size, &s->group_size, NULL));
  PetscCall(PetscOptionsInt("-hessa_study_max_points", "stop gracefully after handing out this many points in this run (0: no limit)", "HessaStudyRun", s->max_points, &s->max_points, NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  PetscCheck(s->manifest_path[0] || help, s->comm, HESSA_ERR_ARG, "hessa study needs -hessa_study_manifest (a YAML manifest, a folder of weight folders, or a training folder)");
  PetscCheck(s->group_size >= 1, s->comm, HESSA_ERR_ARG, "-hessa_study_group_size must be at least 1, found %" PetscInt_FMT, s->group_size);
  PetscCheck(s->max_points >= 0, s->comm, HESSA_ERR_ARG, "-hessa_study_max_points must be 0 (no limit) or positive, found %" PetscInt_FMT, s->max_points);
  PetscFunctionReturn(0);
}

/* ---- results.jsonl / results.csv (rank 0) ---- */

/* one field in the CSV format of every table (report layer, docs/reports.md) */
static void CsvRow(HessaText *t, const cJSON *line)
{
  for (int c = 0; HessaStudyResultColumns[c]; c++) {
    if (c) HessaTextPrintf(t, ",");
    HessaCSVJSONValue(t, cJSON_GetObjectItemCaseSensitive(line, HessaStudyResultColumns[c]));
  }
  HessaTextPrintf(t, "\n");
}

static void CsvHeader(HessaText *t)
{
  for (int c = 0; HessaStudyResultColumns[c]; c++) HessaTextPrintf(t, "%s%s", c ? "," : "", HessaStudyResultColumns[c]);
  HessaTextPrintf(t, "\n");
}

/* Append one result: a JSON line and a CSV row, each appended whole (or not at all)
 * and fsync'd before the next point (core HessaFileAppend). */
static void AppendResult(HessaStudy s, const cJSON *line, HessaStatus *st)
{
  char        path[PETSC_MAX_PATH_LEN + 32], *text = cJSON_PrintUnformatted(line);
  HessaText   json = {0}, csv = {0};
  struct stat sb;

  if (!text) {
    HessaStatusSet(st, PETSC_ERR_MEM, "study: out of memory");
    return;
  }
  HessaTextPrintf(&json, "%s\n", text);
  free(text);
  snprintf(path, sizeof path, "%s/results.jsonl", s->output);
  if (json.failed)
    HessaStatusSet(st, PETSC_ERR_MEM, "study file '%s': out of memory", path);
  else if (HessaFileAppend(path, json.data, st))
    HessaStatusSet(st, PETSC_ERR_LIB, "study file '%s': internal error", path);
  snprintf(path, sizeof path, "%s/results.csv", s->output);
  if (stat(path, &sb) != 0 || sb.st_size == 0) CsvHeader(&csv);
  CsvRow(&csv, line);
  if (csv.failed)
    HessaStatusSet(st, PETSC_ERR_MEM, "study file '%s': out of memory", path);
  else if (HessaFileAppend(path, csv.data, st))
    HessaStatusSet(st, PETSC_ERR_LIB, "study file '%s': internal error", path);
  HessaTextFree(&json);
  HessaTextFree(&csv);
}

static PetscInt PointIndex(const HessaManifest *m, const char name[])
{
  for (PetscInt i = 0; i < m->n_points; i++)
    if (!strcmp(m->points[i].name, name)) return i;
  return -1;
}

/* Rank 0: keep the finished lines of an earlier run. Lines of failed points, repeated
 * lines and a last line cut short by a kill are dropped; both files are rewritten
 * (atomically) with what is kept, so nothing is duplicated when the rest is appended. */
static void LoadEarlierResults(HessaStudy s, HessaStatus *st)
{
  char     path[PETSC_MAX_PATH_LEN + 32], *buf = NULL;
  size_t   cap = 0;
  ssize_t  len;
  FILE    *f;
  PetscInt dropped = 0, foreign = 0;

  s->lines = cJSON_CreateArray();
  snprintf(path, sizeof path, "%s/results.jsonl", s->output);
  f = fopen(path, "r");
  if (!f) return; /* a new study */
  while ((len = getline(&buf, &cap, f)) > 0) {
    cJSON      *line;
    const char *name, *status;
    PetscInt    i;
    if (buf[len - 1] != '\n') { /* cut short */
      dropped++;
      break;
    }
    line   = cJSON_Parse(buf);
    name   = line ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "name")) : NULL;
    status = line ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "status")) : NULL;
    i      = name ? PointIndex(&s->m, name) : -1;
    if (!name || !status || strcmp(status, "ok") || (i >= 0 && s->finished[i])) {
      dropped += (line && status && !strcmp(status, "failed")) ? 0 : 1;
      cJSON_Delete(line);
      continue;
    }
    if (i >= 0)
      s->finished[i] = 1, s->n_skipped++;
    else
      foreign++;
    cJSON_AddItemToArray(s->lines, line);
  }
  free(buf);
  fclose(f);
  if (dropped) fprintf(stderr, "hessa: study: %" PetscInt_FMT " unreadable or repeated line%s of %s dropped (their points are analysed again)\n", dropped, dropped > 1 ? "s" : "", path);
  if (foreign) fprintf(stderr, "hessa: study: %" PetscInt_FMT " finished point%s in %s %s not in the manifest; kept in results.jsonl, left out of the report\n", foreign, foreign > 1 ? "s" : "", path, foreign > 1 ? "are" : "is");
  for (int which = 0; which < 2 && !st->code; which++) {
    const cJSON *line;
    HessaText    t = {0};
    snprintf(path, sizeof path, "%s/%s", s->output, which ? "results.csv" : "results.jsonl");
    if (which) CsvHeader(&t);
    cJSON_ArrayForEach(line, s->lines)
    {
      if (which)
        CsvRow(&t, line);
      else {
        char *text = cJSON_PrintUnformatted(line);
        if (text)
          HessaTextPrintf(&t, "%s\n", text);
        else
          t.failed = 1;
        free(text);
      }
    }
    if (t.failed)
      HessaStatusSet(st, PETSC_ERR_MEM, "study file '%s': out of memory", path);
    else if (HessaWriteFileAtomic(path, HessaTextString(&t), st))
      HessaStatusSet(st, PETSC_ERR_LIB, "study file '%s': internal error", path);
    HessaTextFree(&t);
  }
}

PetscErrorCode HessaStudySetUp(HessaStudy s)
{
  PetscMPIInt rank, size;
  HessaStatus st = {0};
  PetscInt    n;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(s->comm, &rank));
  PetscCallMPI(MPI_Comm_size(s->comm, &size));
  if (rank == 0) PetscCall(HessaManifestRead(s->manifest_path, &s->m, &st));
  PetscCall(HessaSyncError(s->comm, &st));
  /* every rank needs the points (the groups analyse them); they are plain structs */
  n = s->m.n_points;
  PetscCallMPI(MPI_Bcast(&n, 1, MPIU_INT, 0, s->comm));
  PetscCallMPI(MPI_Bcast(s->m.options, sizeof s->m.options, MPI_CHAR, 0, s->comm));
  if (rank > 0) {
    s->m.n_points = n;
    s->m.points   = calloc((size_t)n, sizeof *s->m.points);
    PetscCheck(s->m.points, PETSC_COMM_SELF, PETSC_ERR_MEM, "study: out of memory for %" PetscInt_FMT " points", n);
    PetscCall(PetscStrncpy(s->m.path, s->manifest_path, sizeof s->m.path));
  }
  PetscCallMPI(MPI_Bcast(s->m.points, (int)(n * (PetscInt)sizeof *s->m.points), MPI_BYTE, 0, s->comm));

  PetscCall(HessaReportCheckFolder(s->comm, s->output));
  if (rank == 0) {
    char points[PETSC_MAX_PATH_LEN + 16];
    snprintf(points, sizeof points, "%s/points", s->output);
    /* one run per folder: a second one would write every point twice */
    HessaLockAcquire(s->output, "study folder", s->lock, sizeof s->lock, &st);
    if (st.code) s->lock[0] = 0;
    if (!st.code && mkdir(points, 0777) != 0 && errno != EEXIST) HessaStatusSet(&st, PETSC_ERR_FILE_WRITE, "study folder '%s': cannot create: %s", points, strerror(errno));
    s->finished = calloc((size_t)n, 1);
    if (!s->finished) HessaStatusSet(&st, PETSC_ERR_MEM, "study: out of memory");
    if (!st.code) LoadEarlierResults(s, &st);
  }
  PetscCall(HessaSyncError(s->comm, &st));

  /* groups: world rank 0 collects; ranks 1.. form groups of group_size (the last may be smaller) */
  if (size > 1) {
    int color = rank == 0 ? MPI_UNDEFINED : (int)((rank - 1) / s->group_size);
    PetscCallMPI(MPI_Comm_split(s->comm, color, rank, &s->group));
    s->group_index = rank == 0 ? -1 : color;
    s->n_groups    = (int)((size - 1 + s->group_size - 1) / s->group_size);
  } else {
    PetscCallMPI(MPI_Comm_dup(PETSC_COMM_SELF, &s->group));
    s->group_index = 0;
    s->n_groups    = 1;
  }
  PetscCall(HessaLog(s->comm, "study: %" PetscInt_FMT " points from %s, %" PetscInt_FMT " finished earlier; %d group%s of %s%" PetscInt_FMT " rank%s%s", n, s->manifest_path, s->n_skipped, s->n_groups, s->n_groups > 1 ? "s" : "",
                     size > 1 && (size - 1) % s->group_size ? "up to " : "", size > 1 ? PetscMin(s->group_size, (PetscInt)size - 1) : 1, s->group_size > 1 ? "s" : "", size > 1 ? ", rank 0 collects" : ""));
  s->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* ---- one point on one group ---- */

/* Collective on the group: analyse point i with its options pushed on top of the
 * study's; on rank 0 of the group return the result line (JSON text, caller frees). */
static PetscErrorCode RunPoint(HessaStudy s, PetscInt i, HessaStudyWorker worker, void *ctx, char **line_text)
{
  const HessaStudyPoint *pt = &s->m.points[i];
  PetscOptions           opts;
  char                   folder[PETSC_MAX_PATH_LEN + 160], *all, extra[PETSC_MAX_PATH_LEN * 2 + 256], msg[1024] = "";
  cJSON                 *doc = NULL, *line;
  PetscErrorCode         ierr;
  int                    failed, any_failed;
  PetscMPIInt            grank;
  double                 t0 = MPI_Wtime(), seconds;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(s->group, &grank));
  snprintf(folder, sizeof folder, "%s/points/%s", s->output, pt->name);
  /* the point's options: the manifest's, then the command line's, then the point's own */
  PetscCall(PetscOptionsCreate(&opts));
  PetscCall(PetscOptionsInsertString(opts, s->m.options));
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(PetscOptionsInsertString(opts, all));
  PetscCall(PetscFree(all));
  PetscCall(PetscOptionsInsertString(opts, pt->options));
  snprintf(extra, sizeof extra, "-hessa_model_weights %s -hessa_analyze_output %s", pt->weights, folder);
  PetscCall(PetscOptionsInsertString(opts, extra));
  PetscCall(PetscOptionsPush(opts));
  HessaTimerReset();
  HessaErrorTake(NULL, 0);
  ierr = HessaOptionsCheck(s->group, opts); /* the point's own options: known names, ranges */
  if (!ierr) ierr = worker(s->group, pt, folder, ctx, &doc);
  if (ierr) HessaErrorTake(msg, sizeof msg);
  PetscCall(PetscOptionsPop());
  PetscCall(HessaOptionsMarkUsed(opts)); /* the run's options read for this point count as read */
  PetscCall(PetscOptionsDestroy(&opts));
  HessaTimerReset();
  /* a point fails for the whole group (errors are collective on the group's communicator) */
  failed = ierr ? 1 : 0;
  PetscCallMPI(MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, s->group));
  seconds = MPI_Wtime() - t0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, s->group));
  *line_text = NULL;
  if (grank == 0) {
    if (any_failed) {
      line = cJSON_CreateObject();
      cJSON_AddStringToObject(line, "name", pt->name);
      cJSON_AddStringToObject(line, "status", "failed");
      cJSON_AddStringToObject(line, "weights", pt->weights);
      cJSON_AddStringToObject(line, "error", msg[0] ? msg : "failed on another rank of the group");
      cJSON_AddNumberToObject(line, "seconds", seconds);
      cJSON_AddNumberToObject(line, "group", s->group_index);
    } else
      line = HessaStudySummary(pt, doc, seconds, s->group_index);
    *line_text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    PetscCheck(*line_text, PETSC_COMM_SELF, PETSC_ERR_MEM, "study: out of memory");
  }
  cJSON_Delete(doc);
  PetscFunctionReturn(0);
}

/* Rank 0: record one result line that arrived. */
static void Record(HessaStudy s, const char *text, HessaStatus *st)
{
  cJSON      *line = cJSON_Parse(text);
  const char *name = line ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "name")) : NULL;
  const char *status, *verdict;
  PetscInt    done;

  if (!name) {
    HessaStatusSet(st, PETSC_ERR_PLIB, "study: a worker sent an unreadable result");
    cJSON_Delete(line);
    return;
  }
  AppendResult(s, line, st);
  status  = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "status"));
  verdict = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "verdict"));
  if (status && !strcmp(status, "ok"))
    s->n_ok++;
  else
    s->n_failed++;
  done = s->n_skipped + s->n_ok + s->n_failed;
  if (!HessaIsQuiet()) {
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(line, "seconds");
    if (status && !strcmp(status, "ok"))
      fprintf(stderr, "hessa: study: %" PetscInt_FMT "/%" PetscInt_FMT " %s: %s (%.1f s)\n", done, s->m.n_points, name, verdict ? verdict : "?", cJSON_IsNumber(sec) ? sec->valuedouble : 0.0);
    else
      fprintf(stderr, "hessa: study: %" PetscInt_FMT "/%" PetscInt_FMT " %s: FAILED: %s\n", done, s->m.n_points, name, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "error")));
    fflush(stderr);
  }
  cJSON_AddItemToArray(s->lines, line);
}

/* Rank 0: the next point to hand out, or -1. */
static PetscInt NextPoint(HessaStudy s, PetscInt *cursor, PetscInt *handed, PetscBool stopping)
{
  if (stopping) return -1;
  if (s->max_points > 0 && *handed >= s->max_points) return -1;
  while (*cursor < s->m.n_points && s->finished[*cursor]) (*cursor)++;
  if (*cursor >= s->m.n_points) return -1;
  (*handed)++;
  return (*cursor)++;
}

static void Nap(void)
{
  struct timespec ts = {0, 2000000}; /* 2 ms */
  nanosleep(&ts, NULL);
}

static PetscErrorCode Collect(HessaStudy s, HessaStatus *st)
{
  PetscInt  cursor = 0, handed = 0;
  int       active   = s->n_groups;
  PetscBool stopping = PETSC_FALSE;

  PetscFunctionBegin;
  while (active > 0) {
    MPI_Status status;
    int        flag = 0, count;
    char      *text;
    PetscInt   next;

    PetscCallMPI(MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQUEST, s->comm, &flag, &status));
    if (!flag) {
      if (!stopping && HessaStopSignal()) {
        stopping = PETSC_TRUE;
        fprintf(stderr, "hessa: study: signal %d: no new points; finishing the %d in flight\n", HessaStopSignal(), active);
      }
      Nap();
      continue;
    }
    PetscCallMPI(MPI_Get_count(&status, MPI_CHAR, &count));
    PetscCall(PetscMalloc1(count + 1, &text));
    PetscCallMPI(MPI_Recv(text, count, MPI_CHAR, status.MPI_SOURCE, TAG_REQUEST, s->comm, MPI_STATUS_IGNORE));
    text[count] = 0;
    if (count > 0 && !st->code) {
      double t0 = MPI_Wtime();
      Record(s, text, st);
      s->record_seconds += MPI_Wtime() - t0;
    }
    PetscCall(PetscFree(text));
    if (!stopping && HessaStopSignal()) stopping = PETSC_TRUE;
    next = NextPoint(s, &cursor, &handed, stopping || st->code);
    PetscCallMPI(MPI_Send(&next, 1, MPIU_INT, status.MPI_SOURCE, TAG_ASSIGN, s->comm));
    if (next < 0) active--;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode Work(HessaStudy s, HessaStudyWorker worker, void *ctx)
{
  PetscMPIInt grank;
  char       *text = NULL;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(s->group, &grank));
  for (;;) {
    PetscInt next = -1;
    if (grank == 0) {
      MPI_Request req;
      int         done = 0;
      PetscCallMPI(MPI_Send(text ? text : "", text ? (int)strlen(text) : 0, MPI_CHAR, 0, TAG_REQUEST, s->comm));
      free(text);
      text = NULL;
      /* wait without spinning: the collector may take a while to answer */
      PetscCallMPI(MPI_Irecv(&next, 1, MPIU_INT, 0, TAG_ASSIGN, s->comm, &req));
      for (;;) {
        PetscCallMPI(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
        if (done) break;
        Nap();
      }
    }
    PetscCallMPI(MPI_Bcast(&next, 1, MPIU_INT, 0, s->group));
    if (next < 0) break;
    PetscCall(RunPoint(s, next, worker, ctx, &text));
  }
  PetscFunctionReturn(0);
}

/* One rank: analyse the pending points in turn, recording each at once. */
static PetscErrorCode RunAlone(HessaStudy s, HessaStudyWorker worker, void *ctx, HessaStatus *st)
{
  PetscInt cursor = 0, handed = 0, next;

  PetscFunctionBegin;
  while (!st->code && (next = NextPoint(s, &cursor, &handed, HessaStopSignal() ? PETSC_TRUE : PETSC_FALSE)) >= 0) {
    char *text;
    PetscCall(RunPoint(s, next, worker, ctx, &text));
    Record(s, text, st);
    free(text);
  }
  PetscFunctionReturn(0);
}

/* Rank 0: what the collector cost (for study.json and bench/run study). */
static cJSON *Collector(HessaStudy s, PetscMPIInt size)
{
  cJSON        *c = cJSON_CreateObject();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  cJSON_AddNumberToObject(c, "ranks", size);
  cJSON_AddNumberToObject(c, "groups", s->n_groups);
  cJSON_AddNumberToObject(c, "group_size", (double)s->group_size);
  cJSON_AddBoolToObject(c, "dedicated", size > 1);
  cJSON_AddNumberToObject(c, "wall_seconds", MPI_Wtime() - s->wall_seconds);
  cJSON_AddNumberToObject(c, "record_seconds", s->record_seconds);
  cJSON_AddNumberToObject(c, "process_cpu_seconds", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec));
  cJSON_AddNumberToObject(c, "points_this_run", (double)(s->n_ok + s->n_failed));
  return c;
}

PetscErrorCode HessaStudyRun(HessaStudy s, HessaStudyWorker worker, void *ctx)
{
  PetscMPIInt rank, size;
  HessaStatus st      = {0};
  PetscInt    pending = 0, counts[3];

  PetscFunctionBegin;
  PetscCheck(s->setup, s->comm, PETSC_ERR_ORDER, "HessaStudySetUp must be called before HessaStudyRun");
  PetscCallMPI(MPI_Comm_rank(s->comm, &rank));
  PetscCallMPI(MPI_Comm_size(s->comm, &size));
  s->wall_seconds = MPI_Wtime();
  if (size == 1)
    PetscCall(RunAlone(s, worker, ctx, &st));
  else if (rank == 0)
    PetscCall(Collect(s, &st));
  else
    PetscCall(Work(s, worker, ctx));

  if (rank == 0 && !st.code) {
    for (PetscInt i = 0; i < s->m.n_points; i++) pending += s->finished[i] ? 0 : 1;
    pending -= s->n_ok + s->n_failed;
    PetscCall(HessaStudyWriteReport(s->output, &s->m, s->lines, pending > 0, Collector(s, size), &st));
  }
  PetscCall(HessaSyncError(s->comm, &st));
  counts[0] = s->n_ok, counts[1] = s->n_failed, counts[2] = pending;
  PetscCallMPI(MPI_Bcast(counts, 3, MPIU_INT, 0, s->comm));
  s->n_ok = counts[0], s->n_failed = counts[1], s->n_stopped_pending = counts[2];
  if (s->n_stopped_pending > 0) {
    HessaStopMarkStopped();
    PetscCall(HessaLog(s->comm, "study: stopped with %" PetscInt_FMT " point%s left; rerun the same command to finish (finished points are kept)", s->n_stopped_pending, s->n_stopped_pending > 1 ? "s" : ""));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode HessaStudyGetCounts(HessaStudy s, PetscInt *total, PetscInt *done, PetscInt *failed, PetscInt *skipped)
{
  PetscInt c[4] = {s->m.n_points, s->n_ok, s->n_failed, s->n_skipped};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Bcast(c, 4, MPIU_INT, 0, s->comm));
  if (total) *total = c[0];
  if (done) *done = c[1];
  if (failed) *failed = c[2];
  if (skipped) *skipped = c[3];
  PetscFunctionReturn(0);
}

PetscErrorCode HessaStudyDestroy(HessaStudy *study)
{
  HessaStudy s = *study;

  PetscFunctionBegin;
  if (!s) PetscFunctionReturn(0);
  HessaLockRelease(s->lock);
  HessaManifestFree(&s->m);
  free(s->finished);
  cJSON_Delete(s->lines);
  if (s->group != MPI_COMM_NULL) PetscCallMPI(MPI_Comm_free(&s->group));
  PetscCallMPI(MPI_Comm_free(&s->comm));
  PetscCall(PetscFree(s));
  *study = NULL;
  PetscFunctionReturn(0);
}
