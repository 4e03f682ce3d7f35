/* The resumable state of the spectrum computations (docs/jobs.md): finished SLQ probes,
 * trace samples and converged extreme eigenpairs of a stopped run, like training's
 * checkpoints in src/study. Numbers in the state are C99 hex floats (%a): they read back bit
 * for bit, which a resumed run needs to end with exactly the numbers of an uninterrupted
 * one. Only rank 0 touches files (atomically, HessaWriteFileAtomic); faults travel through
 * HessaStatus + HessaSyncError so every rank ends with the same message. The report and
 * CSV files of `hessa spectrum` are the report layer's (HessaReportSpectrum). */
#include <hessa/spectrum.h>
#include <hessa/data.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

static const char *trace_names[2] = {"hutchinson", "hutchpp"};

/* Is trace method i (0 Hutchinson, 1 Hutch++) part of the run? */
static PetscBool TraceOn(const HessaSpectrumKey *key, int i)
{
  return key->trace && (key->trace_method == 2 || key->trace_method == i) ? PETSC_TRUE : PETSC_FALSE;
}

static void PutReals(FILE *f, const char *key, PetscInt n, const double *x)
{
  fprintf(f, "%s", key);
  for (PetscInt i = 0; i < n; i++) fprintf(f, " %a", x[i]);
  fprintf(f, "\n");
}

/* Rank 0: the state as text (free with free()). */
static char *StateText(const HessaSpectrumKey *key, const HessaDensity *d, const HessaTrace t[2])
{
  char    *buf  = NULL;
  size_t   len  = 0;
  FILE    *f    = open_memstream(&buf, &len);
  PetscInt done = key->density ? d->probes_done : 0;

  if (!f) return NULL;
  fprintf(f, "hessa-spectrum-state 1\nmodel %s\nn_op %" PetscInt_FMT "\n", key->model, key->n_op);
  fprintf(f, "density %d probes %" PetscInt_FMT " steps %" PetscInt_FMT " group %" PetscInt_FMT " seed %" PetscInt_FMT "\n", (int)key->density, key->probes, key->steps, key->group, key->seed);
  fprintf(f, "trace %d method %" PetscInt_FMT " samples %" PetscInt_FMT " seed %" PetscInt_FMT "\n", (int)key->trace, key->trace_method, key->trace_samples, key->trace_seed);
  fprintf(f, "probes_done %" PetscInt_FMT "\nprobe_steps", done);
  for (PetscInt p = 0; p < done; p++) fprintf(f, " %" PetscInt_FMT, d->probe_steps[p]);
  fprintf(f, "\n");
  PutReals(f, "alpha", done * key->steps, done ? d->alpha : NULL);
  PutReals(f, "beta", done * key->steps, done ? d->beta : NULL);
  for (int i = 0; i < 2; i++) {
    PetscBool on = TraceOn(key, i);
    fprintf(f, "%s_done %" PetscInt_FMT " low_rank_done %d low_rank %a\n", trace_names[i], on ? t[i].done : 0, on ? (int)t[i].low_rank_done : 0, on ? t[i].low_rank : 0.0);
    PutReals(f, "q", on ? t[i].done : 0, on ? t[i].q : NULL);
  }
  fprintf(f, "end\n");
  fclose(f);
  return buf;
}

PetscErrorCode HessaSpectrumStateWrite(MPI_Comm comm, const char folder[], const HessaSpectrumKey *key, const HessaDensity *d, const HessaTrace t[2])
{
  PetscMPIInt rank;
  HessaStatus st = {0, ""};
  char        path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    char *text = StateText(key, d, t);
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", folder, HESSA_SPECTRUM_STATE_FILE));
    if (!text)
      HessaStatusSet(&st, PETSC_ERR_MEM, "resume state '%s': out of memory", path);
    else
      PetscCall(HessaWriteFileAtomic(path, text, &st));
    free(text);
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}

/* ---- reading: a cursor over the text; the first fault is recorded in st ---- */
typedef struct {
  char        *p;
  const char  *path;
  HessaStatus *st;
} Parser;

static char *Token(Parser *ps)
{
  char *s;
  while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r') ps->p++;
  if (!*ps->p) return NULL;
  s = ps->p;
  while (*ps->p && *ps->p != ' ' && *ps->p != '\n' && *ps->p != '\t' && *ps->p != '\r') ps->p++;
  if (*ps->p) *ps->p++ = 0;
  return s;
}

static void Key(Parser *ps, const char *key)
{
  char *tok;
  if (ps->st->code) return;
  tok = Token(ps);
  if (!tok || strcmp(tok, key)) HessaStatusSet(ps->st, HESSA_ERR_INPUT, "resume state '%s': corrupt: expected '%s', found '%.40s'", ps->path, key, tok ? tok : "end of file");
}

static void Int(Parser *ps, const char *what, PetscInt lo, PetscInt hi, PetscInt *v)
{
  char *tok, *end;
  long  x;
  if (ps->st->code) return;
  tok = Token(ps);
  x   = tok ? strtol(tok, &end, 10) : 0;
  if (!tok || *end || x < lo || x > hi)
    HessaStatusSet(ps->st, HESSA_ERR_INPUT, "resume state '%s': corrupt: expected %s, an integer in [%" PetscInt_FMT ", %" PetscInt_FMT "], found '%.40s'", ps->path, what, lo, hi, tok ? tok : "end of file");
  else
    *v = (PetscInt)x;
}

static void Reals(Parser *ps, const char *what, PetscInt n, double *x)
{
  Key(ps, what);
  for (PetscInt i = 0; i < n && !ps->st->code; i++) {
    char *tok = Token(ps), *end = NULL;
    x[i] = tok ? strtod(tok, &end) : 0;
    if (!tok || *end || PetscIsInfOrNanReal(x[i]))
      HessaStatusSet(ps->st, HESSA_ERR_INPUT, "resume state '%s': corrupt: expected %" PetscInt_FMT " finite numbers after '%s', found '%.40s' at %" PetscInt_FMT, ps->path, n, what, tok ? tok : "end of file", i);
  }
}

/* key value, where value must equal this run's: a different run cannot be resumed */
static void Match(Parser *ps, const char *key, PetscInt expected, const char *option)
{
  PetscInt found = -1;
  Key(ps, key);
  Int(ps, key, PETSC_MIN_INT, PETSC_MAX_INT, &found);
  if (!ps->st->code && found != expected)
    HessaStatusSet(ps->st, HESSA_ERR_ARG, "resume state '%s': the stopped run had %s %" PetscInt_FMT ", this run has %" PetscInt_FMT " (%s): resume with the options of the stopped run, or start afresh without -resume", ps->path, key, found, expected,
                   option);
}

static void ParseState(Parser *ps, const HessaSpectrumKey *key, HessaDensity *d, HessaTrace t[2])
{
  PetscInt m = key->steps, done = 0, version = 0;
  char    *line;

  Key(ps, "hessa-spectrum-state");
  Int(ps, "the format version", 1, 1, &version);
  Key(ps, "model");
  if (ps->st->code) return;
  line  = ps->p + (*ps->p == ' ');
  ps->p = strchr(line, '\n');
  if (!ps->p) {
    HessaStatusSet(ps->st, HESSA_ERR_INPUT, "resume state '%s': corrupt: the model line has no end", ps->path);
    return;
  }
  *ps->p++ = 0;
  if (strcmp(line, key->model)) {
    HessaStatusSet(ps->st, HESSA_ERR_ARG, "resume state '%s': the stopped run had the model '%.200s', this run has '%.200s': resume with the same model options", ps->path, line, key->model);
    return;
  }
  Match(ps, "n_op", key->n_op, "operator size");
  Match(ps, "density", key->density, "-hessa_spectrum_density");
  Match(ps, "probes", key->probes, "-hessa_slq_probes");
  Match(ps, "steps", key->steps, "-hessa_slq_steps");
  Match(ps, "group", key->group, "-hessa_slq_block / -hessa_slq_block_size");
  Match(ps, "seed", key->seed, "-hessa_slq_seed");
  Match(ps, "trace", key->trace, "-hessa_spectrum_trace");
  Match(ps, "method", key->trace_method, "-hessa_trace_method");
  Match(ps, "samples", key->trace_samples, "-hessa_trace_samples");
  Match(ps, "seed", key->trace_seed, "-hessa_trace_seed");
  Key(ps, "probes_done");
  Int(ps, "the number of finished probes", 0, key->density ? key->probes : 0, &done);
  if (!ps->st->code && done % key->group && done != key->probes) HessaStatusSet(ps->st, HESSA_ERR_INPUT, "resume state '%s': corrupt: %" PetscInt_FMT " finished probes is not a whole number of groups of %" PetscInt_FMT, ps->path, done, key->group);
  Key(ps, "probe_steps");
  for (PetscInt p = 0; p < done; p++) Int(ps, "the steps of a finished probe", 1, m, &d->probe_steps[p]);
  Reals(ps, "alpha", done * m, done ? d->alpha : NULL);
  Reals(ps, "beta", done * m, done ? d->beta : NULL);
  if (key->density) d->probes_done = done;
  for (int i = 0; i < 2; i++) {
    char     name[32];
    PetscInt n = 0, lr = 0, nq = TraceOn(key, i) ? t[i].n_q : 0;
    double   low_rank = 0;
    snprintf(name, sizeof name, "%s_done", trace_names[i]);
    Key(ps, name);
    Int(ps, name, 0, nq, &n);
    Key(ps, "low_rank_done");
    Int(ps, "low_rank_done (0 or 1)", 0, nq ? 1 : 0, &lr);
    Key(ps, "low_rank");
    if (!ps->st->code) {
      char *tok = Token(ps), *end = NULL;
      low_rank = tok ? strtod(tok, &end) : 0;
      if (!tok || *end || PetscIsInfOrNanReal(low_rank)) HessaStatusSet(ps->st, HESSA_ERR_INPUT, "resume state '%s': corrupt: expected a number after low_rank, found '%.40s'", ps->path, tok ? tok : "end of file");
    }
    Reals(ps, "q", n, n ? t[i].q : NULL);
    if (nq) {
      t[i].done          = n;
      t[i].low_rank_done = lr ? PETSC_TRUE : PETSC_FALSE;
      t[i].low_rank      = low_rank;
    }
  }
  Key(ps, "end");
}

PetscErrorCode HessaSpectrumStateRead(MPI_Comm comm, const char folder[], const HessaSpectrumKey *key, HessaDensity *d, HessaTrace t[2])
{
  PetscMPIInt rank;
  HessaStatus st = {0, ""};
  char        path[PETSC_MAX_PATH_LEN];
  int         ints[5] = {0, 0, 0, 0, 0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", folder, HESSA_SPECTRUM_STATE_FILE));
  if (rank == 0) {
    char  *text = NULL;
    size_t len  = 0;
    if (access(path, F_OK) != 0)
      HessaStatusSet(&st, HESSA_ERR_INPUT, "-resume: cannot open the resume state '%s': %s (expected the state a stopped hessa spectrum wrote into its -hessa_spectrum_output folder; without a state, run without -resume)", path, strerror(errno));
    else if ((text = HessaReadRegularFile(path, "resume state", "the state a stopped hessa spectrum wrote into its -hessa_spectrum_output folder", SIZE_MAX, &len, &st))) {
      if (len == 0)
        HessaStatusSet(&st, HESSA_ERR_INPUT, "resume state '%s': corrupt: expected the state text, found an empty or unreadable file", path);
      else {
        Parser ps = {text, path, &st};
        ParseState(&ps, key, d, t);
      }
    }
    free(text);
  }
  PetscCall(HessaSyncError(comm, &st));
  /* every rank continues from rank 0's copy */
  if (key->density) {
    PetscCallMPI(MPI_Bcast(&d->probes_done, 1, MPIU_INT, 0, comm));
    PetscCallMPI(MPI_Bcast(d->probe_steps, (int)key->probes, MPIU_INT, 0, comm));
    PetscCallMPI(MPI_Bcast(d->alpha, (int)(key->probes * key->steps), MPI_DOUBLE, 0, comm));
    PetscCallMPI(MPI_Bcast(d->beta, (int)(key->probes * key->steps), MPI_DOUBLE, 0, comm));
  }
  for (int i = 0; i < 2; i++) {
    if (!TraceOn(key, i)) continue;
    ints[0] = (int)t[i].done;
    ints[1] = (int)t[i].low_rank_done;
    PetscCallMPI(MPI_Bcast(ints, 2, MPI_INT, 0, comm));
    t[i].done          = ints[0];
    t[i].low_rank_done = ints[1] ? PETSC_TRUE : PETSC_FALSE;
    PetscCallMPI(MPI_Bcast(&t[i].low_rank, 1, MPI_DOUBLE, 0, comm));
    PetscCallMPI(MPI_Bcast(t[i].q, (int)t[i].n_q, MPI_DOUBLE, 0, comm));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode HessaSpectrumStateRemove(MPI_Comm comm, const char folder[])
{
  PetscMPIInt rank;
  HessaStatus st = {0, ""};
  char        path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", folder, HESSA_SPECTRUM_STATE_FILE));
  /* a leftover state would let a later -resume skip work of a different, finished run */
  if (rank == 0 && remove(path) != 0 && errno != ENOENT) HessaStatusSet(&st, PETSC_ERR_FILE_WRITE, "resume state '%s': cannot remove it after the run completed: %s", path, strerror(errno));
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}

/* ---- output files ---- */
/* ---- extremes: extremes.state (values, residuals, flags as hex floats) and, for an end
 *      stopped mid-solve, its converged vectors in extremes_<end>.npy (nconv x n_op) ---- */
static const char *end_names[2] = {"largest", "smallest"};

/* Collective: gather the vectors of e to rank 0 as rows of one array (rank 0 frees). */
static PetscErrorCode GatherVectors(const HessaExtremes *e, PetscInt n, double **rows)
{
  PetscMPIInt rank;

  PetscFunctionBegin;
  *rows = NULL;
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject)e->vectors[0]), &rank));
  if (rank == 0) PetscCall(PetscMalloc1((size_t)e->nconv * (size_t)n, rows));
  for (PetscInt i = 0; i < e->nconv; i++) PetscCall(HessaVecGatherToZero(e->vectors[i], rank == 0 ? *rows + (size_t)i * (size_t)n : NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaSpectrumExtremesStateWrite(MPI_Comm comm, const char folder[], PetscInt k, double tol, PetscInt n_op, const HessaExtremes ex[2], const PetscBool done[2])
{
  PetscMPIInt rank;
  HessaStatus st      = {0, ""};
  double     *rows[2] = {NULL, NULL};
  char        path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  for (int e = 0; e < 2; e++)
    if (!done[e] && ex[e].nconv > 0) PetscCall(GatherVectors(&ex[e], n_op, &rows[e]));
  if (rank == 0) {
    char  *buf = NULL;
    size_t len = 0;
    FILE  *f   = open_memstream(&buf, &len);
    if (f) {
      fprintf(f, "hessa-extremes-state 1\nk %" PetscInt_FMT " tol %a n_op %" PetscInt_FMT "\n", k, tol, n_op);
      for (int e = 0; e < 2; e++) {
        fprintf(f, "%s %s %" PetscInt_FMT "\n", end_names[e], done[e] ? "done" : "partial", ex[e].nconv);
        PutReals(f, "values", ex[e].nconv, ex[e].values);
        PutReals(f, "residuals", ex[e].nconv, ex[e].residuals);
        fprintf(f, "converged");
        for (PetscInt i = 0; i < ex[e].nconv; i++) fprintf(f, " %d", (int)ex[e].converged[i]);
        fprintf(f, "\n");
        if (rows[e]) {
          char    npy[PETSC_MAX_PATH_LEN];
          int64_t shape[2] = {ex[e].nconv, n_op};
          PetscCall(PetscSNPrintf(npy, sizeof npy, "%s/extremes_%s.npy", folder, end_names[e]));
          PetscCall(HessaWriteNPY(npy, 2, shape, rows[e], 0));
        }
      }
      fprintf(f, "end\n");
      fclose(f);
    }
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/extremes.state", folder));
    if (!buf)
      HessaStatusSet(&st, PETSC_ERR_MEM, "resume state '%s': out of memory", path);
    else
      PetscCall(HessaWriteFileAtomic(path, buf, &st));
    free(buf);
    PetscCall(PetscFree(rows[0]));
    PetscCall(PetscFree(rows[1]));
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}

/* Rank 0: parse extremes.state into ex (values etc.), done flags; faults into st. */
static void ParseExtremes(char *text, const char path[], PetscInt k, double tol, PetscInt n_op, HessaExtremes ex[2], PetscBool done[2], HessaStatus *st)
{
  char    *save = NULL, *tok;
  PetscInt fk = -1, fn = -1;
  double   ftol = 0;

#define NEXT() (tok = strtok_r(NULL, " \n", &save))
  tok = strtok_r(text, " \n", &save);
  if (!tok || strcmp(tok, "hessa-extremes-state") || !NEXT() || strcmp(tok, "1")) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': not a hessa extremes state (expected 'hessa-extremes-state 1' first)", path);
    return;
  }
  if (!NEXT() || strcmp(tok, "k") || !NEXT() || sscanf(tok, "%" PetscInt_FMT, &fk) != 1 || !NEXT() || strcmp(tok, "tol") || !NEXT() || sscanf(tok, "%la", &ftol) != 1 || !NEXT() || strcmp(tok, "n_op") || !NEXT() ||
      sscanf(tok, "%" PetscInt_FMT, &fn) != 1) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': corrupt: expected 'k K tol T n_op N' on line 2", path);
    return;
  }
  if (fk != k || fn != n_op || ftol != tol) {
    HessaStatusSet(st, HESSA_ERR_INPUT,
                   "resume state '%s': the stopped run had k = %" PetscInt_FMT ", tol %g, n = %" PetscInt_FMT "; this run has k = %" PetscInt_FMT ", tol %g, n = %" PetscInt_FMT " (-hessa_spectrum_extremes, -hessa_spectrum_tol, the model)", path, fk,
                   ftol, fn, k, tol, n_op);
    return;
  }
  for (int e = 0; e < 2 && !st->code; e++) {
    PetscInt m = -1;
    if (!NEXT() || strcmp(tok, end_names[e]) || !NEXT() || (strcmp(tok, "done") && strcmp(tok, "partial"))) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': corrupt: expected '%s done|partial COUNT'", path, end_names[e]);
      return;
    }
    done[e] = !strcmp(tok, "done") ? PETSC_TRUE : PETSC_FALSE;
    if (!NEXT() || sscanf(tok, "%" PetscInt_FMT, &m) != 1 || m < 0 || m > k || (!done[e] && m == k)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': corrupt: %s: expected a count of 0 to %" PetscInt_FMT " pairs", path, end_names[e], k);
      return;
    }
    ex[e].nconv = m, ex[e].nev = k, ex[e].tol = tol;
    snprintf(ex[e].eps_type, sizeof ex[e].eps_type, "resume state");
    if (PetscCalloc3(PetscMax(m, 1), &ex[e].values, PetscMax(m, 1), &ex[e].residuals, PetscMax(m, 1), &ex[e].converged)) {
      HessaStatusSet(st, PETSC_ERR_MEM, "resume state '%s': out of memory", path);
      return;
    }
    for (int field = 0; field < 3 && !st->code; field++) {
      const char *want = field == 0 ? "values" : field == 1 ? "residuals" : "converged";
      if (!NEXT() || strcmp(tok, want)) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': corrupt: expected '%s' for the %s end", path, want, end_names[e]);
        return;
      }
      for (PetscInt i = 0; i < m; i++) {
        double v;
        int    c;
        if (!NEXT() || (field < 2 ? sscanf(tok, "%la", &v) != 1 || !isfinite(v) : sscanf(tok, "%d", &c) != 1)) {
          HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': corrupt: expected %" PetscInt_FMT " numbers after '%s' (%s end)", path, m, want, end_names[e]);
          return;
        }
        if (field == 0)
          ex[e].values[i] = v;
        else if (field == 1)
          ex[e].residuals[i] = v;
        else
          ex[e].converged[i] = c ? PETSC_TRUE : PETSC_FALSE;
      }
    }
  }
  if (!st->code && (!NEXT() || strcmp(tok, "end"))) HessaStatusSet(st, HESSA_ERR_INPUT, "resume state '%s': corrupt: no 'end' line (cut short?)", path);
#undef NEXT
}

PetscErrorCode HessaSpectrumExtremesStateRead(MPI_Comm comm, const char folder[], PetscInt k, double tol, HessaOperator op, HessaExtremes ex[2], PetscBool done[2], PetscBool *found)
{
  PetscMPIInt rank;
  HessaStatus st = {0, ""};
  char        path[PETSC_MAX_PATH_LEN];
  PetscInt    counts[4];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/extremes.state", folder));
  *found = PETSC_FALSE;
  if (rank == 0) {
    FILE *f = fopen(path, "r");
    if (f) {
      char  *text = NULL;
      size_t cap  = 0;
      if (getdelim(&text, &cap, '\0', f) < 0)
        HessaStatusSet(&st, HESSA_ERR_INPUT, "resume state '%s': cannot read: %s", path, strerror(errno));
      else
        ParseExtremes(text, path, k, tol, op->n_op, ex, done, &st);
      free(text);
      fclose(f);
      *found = PETSC_TRUE;
    }
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscCallMPI(MPI_Bcast(found, 1, MPIU_BOOL, 0, comm));
  if (!*found) PetscFunctionReturn(0);
  counts[0] = ex[0].nconv, counts[1] = ex[1].nconv, counts[2] = done[0], counts[3] = done[1];
  PetscCallMPI(MPI_Bcast(counts, 4, MPIU_INT, 0, comm));
  for (int e = 0; e < 2; e++) {
    PetscInt m = counts[e];
    done[e]    = counts[2 + e] ? PETSC_TRUE : PETSC_FALSE;
    if (rank != 0) {
      ex[e].nconv = m, ex[e].nev = k, ex[e].tol = tol;
      snprintf(ex[e].eps_type, sizeof ex[e].eps_type, "resume state");
      PetscCall(PetscCalloc3(PetscMax(m, 1), &ex[e].values, PetscMax(m, 1), &ex[e].residuals, PetscMax(m, 1), &ex[e].converged));
    }
    PetscCallMPI(MPI_Bcast(ex[e].values, (int)PetscMax(m, 1), MPI_DOUBLE, 0, comm));
    PetscCallMPI(MPI_Bcast(ex[e].residuals, (int)PetscMax(m, 1), MPI_DOUBLE, 0, comm));
    PetscCallMPI(MPI_Bcast(ex[e].converged, (int)PetscMax(m, 1), MPIU_BOOL, 0, comm));
    if (!done[e] && m > 0) {
      /* the converged vectors of a stopped end: every rank reads the file and keeps its slice */
      char        npy[PETSC_MAX_PATH_LEN];
      HessaArray  a   = {0};
      HessaStatus vst = {0, ""};
      Vec         tmpl;
      PetscCall(PetscSNPrintf(npy, sizeof npy, "%s/extremes_%s.npy", folder, end_names[e]));
      HessaReadNPY(npy, 0, m, &a, &vst);
      if (!vst.code && (a.ndim != 2 || a.shape[0] != m || a.shape[1] != op->n_op)) HessaStatusSet(&vst, HESSA_ERR_INPUT, "resume state '%s': expected %" PetscInt_FMT " x %" PetscInt_FMT " eigenvectors", npy, m, op->n_op);
      PetscCall(HessaSyncError(comm, &vst));
      PetscCall(HessaOperatorCreateVec(op, &tmpl));
      PetscCall(VecDuplicateVecs(tmpl, m, &ex[e].vectors));
      PetscCall(VecDestroy(&tmpl));
      for (PetscInt i = 0; i < m; i++) PetscCall(HessaVecSetFromFull(ex[e].vectors[i], a.values + (size_t)i * (size_t)op->n_op));
      HessaArrayFree(&a);
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode HessaSpectrumExtremesStateRemove(MPI_Comm comm, const char folder[])
{
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    char path[PETSC_MAX_PATH_LEN];
    for (int e = 0; e < 3; e++) {
      if (e < 2)
        PetscCall(PetscSNPrintf(path, sizeof path, "%s/extremes_%s.npy", folder, end_names[e]));
      else
        PetscCall(PetscSNPrintf(path, sizeof path, "%s/extremes.state", folder));
      (void)remove(path);
    }
  }
  PetscFunctionReturn(0);
}
