/* The resumable state of a stopped loss-landscape scan (folder/landscape.state,
 * docs/jobs.md): what a resumed run must share with the stopped one, then one line per
 * finished grid point with its loss as a C99 hex float (%a), which reads back bit for bit.
 *
 *   hessa-landscape-state 1
 *   direction D plane P points N lo LO hi HI seed S which W index I
 *   from PATH
 *   to PATH
 *   total T done K
 *   point P LOSS            (K lines)
 *   end
 *
 * Only rank 0 touches the file; faults travel through HessaStatus + HessaSyncError. */
#include <hessa/analysis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

static PetscErrorCode StatePath(const char folder[], char path[], size_t len)
{
  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(path, len, "%s/%s", folder, HESSA_SCAN_STATE_FILE));
  PetscFunctionReturn(0);
}

/* HessaScanStateWrite - collective on comm; see analysis.h. */
PetscErrorCode HessaScanStateWrite(MPI_Comm comm, const char folder[], const HessaScanSpec *spec, const HessaScan *scan)
{
  PetscMPIInt rank;
  HessaStatus st    = {0, ""};
  PetscInt    total = scan->n_dirs == 2 ? scan->points * scan->points : scan->points;
  char        path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(StatePath(folder, path, sizeof path));
  if (rank == 0) {
    HessaText t = {0};
    HessaTextPrintf(&t, "hessa-landscape-state 1\n");
    HessaTextPrintf(&t, "direction %d plane %d points %" PetscInt_FMT " lo %a hi %a seed %llu which %d index %" PetscInt_FMT "\n", (int)spec->direction, (int)spec->plane, spec->points, spec->lo, spec->hi, (unsigned long long)spec->seed,
                    (int)spec->which, spec->index);
    HessaTextPrintf(&t, "from %s\nto %s\n", spec->from, spec->to);
    HessaTextPrintf(&t, "total %" PetscInt_FMT " done %" PetscInt_FMT "\n", total, scan->n_done);
    for (PetscInt p = 0; p < total; p++)
      if (scan->done[p]) HessaTextPrintf(&t, "point %" PetscInt_FMT " %a\n", p, scan->loss[p]);
    HessaTextPrintf(&t, "end\n");
    if (t.failed)
      HessaStatusSet(&st, PETSC_ERR_MEM, "resume state '%s': out of memory", path);
    else
      PetscCall(HessaWriteFileAtomic(path, t.data, &st));
    HessaTextFree(&t);
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}

/* Rank 0: one line of the file, without its newline, or NULL at the end. */
static char *NextLine(char **cursor)
{
  char *line = *cursor, *nl;

  if (!line || !*line) return NULL;
  nl = strchr(line, '\n');
  if (nl)
    *nl = 0, *cursor = nl + 1;
  else
    *cursor = line + strlen(line);
  return line;
}

/* Rank 0: parse text into loss/done, checking it against spec; the first fault into st. */
static void ParseState(char *text, const char path[], const HessaScanSpec *spec, PetscInt total, double loss[], PetscBool done[], HessaStatus *st)
{
  char              *cursor  = text, *line, expect[PETSC_MAX_PATH_LEN + 512];
  PetscInt           n_total = -1, n_done = -1, seen = 0;
  unsigned long long seed = (unsigned long long)spec->seed;

  line = NextLine(&cursor);
  if (!line || strcmp(line, "hessa-landscape-state 1")) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': expected the header 'hessa-landscape-state 1', found '%.60s'", path, line ? line : "(empty file)");
    return;
  }
  /* the key lines are compared as text: a resumed run writes them from its own options */
  snprintf(expect, sizeof expect, "direction %d plane %d points %" PetscInt_FMT " lo %a hi %a seed %llu which %d index %" PetscInt_FMT, (int)spec->direction, (int)spec->plane, spec->points, spec->lo, spec->hi, seed, (int)spec->which, spec->index);
  line = NextLine(&cursor);
  if (!line || strcmp(line, expect)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': the stopped scan had '%.200s' but this run has '%.200s' (resume with the same -hessa_landscape_* options)", path, line ? line : "(nothing)", expect);
    return;
  }
  snprintf(expect, sizeof expect, "from %s", spec->from);
  line = NextLine(&cursor);
  if (line && !strcmp(line, expect)) {
    snprintf(expect, sizeof expect, "to %s", spec->to);
    line = NextLine(&cursor);
  }
  if (!line || strcmp(line, expect)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': expected '%.300s', found '%.300s' (resume with the same checkpoints)", path, expect, line ? line : "(nothing)");
    return;
  }
  line = NextLine(&cursor);
  if (!line || sscanf(line, "total %" PetscInt_FMT " done %" PetscInt_FMT, &n_total, &n_done) != 2 || n_total != total || n_done < 0 || n_done > total) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': expected 'total %" PetscInt_FMT " done K' with 0 <= K <= %" PetscInt_FMT ", found '%.80s'", path, total, total, line ? line : "(nothing)");
    return;
  }
  for (PetscInt i = 0; i < n_done; i++) {
    PetscInt p;
    double   x;
    line = NextLine(&cursor);
    if (!line || sscanf(line, "point %" PetscInt_FMT " %la", &p, &x) != 2 || p < 0 || p >= total || done[p]) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': point line %" PetscInt_FMT " of %" PetscInt_FMT ": expected 'point P LOSS' with a new P in [0, %" PetscInt_FMT "), found '%.80s'", path, i + 1, n_done, total, line ? line : "(nothing)");
      return;
    }
    loss[p] = x, done[p] = PETSC_TRUE, seen++;
  }
  line = NextLine(&cursor);
  if (!line || strcmp(line, "end")) HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': expected 'end' after %" PetscInt_FMT " points, found '%.80s' (a cut-short file)", path, seen, line ? line : "(nothing)");
}

/* HessaScanStateRead - collective on comm; see analysis.h. */
PetscErrorCode HessaScanStateRead(MPI_Comm comm, const char folder[], const HessaScanSpec *spec, PetscInt total, double loss[], PetscBool done[])
{
  PetscMPIInt rank;
  HessaStatus st = {0, ""};
  char        path[PETSC_MAX_PATH_LEN];
  int        *flags;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(StatePath(folder, path, sizeof path));
  for (PetscInt p = 0; p < total; p++) loss[p] = 0, done[p] = PETSC_FALSE;
  if (rank == 0) {
    char  *text = NULL;
    size_t len;
    if (access(path, F_OK) != 0)
      HessaStatusSet(&st, HESSA_ERR_INPUT, "cannot open the resume state '%s' (expected the state of a stopped hessa landscape run in -hessa_landscape_output)", path);
    else if ((text = HessaReadRegularFile(path, "resume state", "the state of a stopped hessa landscape run", SIZE_MAX, &len, &st)))
      ParseState(text, path, spec, total, loss, done, &st);
    free(text);
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscCall(PetscMalloc1(total, &flags));
  for (PetscInt p = 0; p < total; p++) flags[p] = done[p] ? 1 : 0;
  PetscCallMPI(MPI_Bcast(loss, (PetscMPIInt)total, MPI_DOUBLE, 0, comm));
  PetscCallMPI(MPI_Bcast(flags, (PetscMPIInt)total, MPI_INT, 0, comm));
  for (PetscInt p = 0; p < total; p++) done[p] = flags[p] ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscFree(flags));
  PetscFunctionReturn(0);
}

/* HessaScanStateRemove - collective on comm: rank 0 removes the state (the scan is complete). */
PetscErrorCode HessaScanStateRemove(MPI_Comm comm, const char folder[])
{
  PetscMPIInt rank;
  char        path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(StatePath(folder, path, sizeof path));
  if (rank == 0) (void)remove(path);
  PetscFunctionReturn(0);
}
