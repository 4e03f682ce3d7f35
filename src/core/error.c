/* Start-up, shutdown and collective error handling.
 *
 * PETSc's default handler prints a traceback on every rank that fails. hessa wants
 * one clear message per run, so HessaInitialize pushes a handler that records the
 * first (innermost) message and prints nothing; HessaFinalize decides who prints:
 *   - every rank failed (the usual case: errors found by HessaSyncError, or by a
 *     collective PETSc call): rank 0 prints its message, everybody exits 1;
 *   - only some ranks failed: they cannot finish collectives with the others, so
 *     the failing rank prints its message and MPI_Abort ends the whole job.
 * The agreement uses a non-blocking reduction on a private communicator with a
 * timeout, so it never waits on a rank that is stuck elsewhere.
 */
#include <hessa/core.h>
#include <slepcsys.h> /* SlepcInitialize: the spectrum layer uses EPS and BV */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

static char           hessa_first_msg[2048];
static char           hessa_first_where[512];
static PetscBool      hessa_have_msg      = PETSC_FALSE;
static PetscBool      hessa_traceback     = PETSC_FALSE;
static MPI_Comm       hessa_error_comm    = MPI_COMM_NULL;
PetscBool             hessa_quiet         = PETSC_FALSE;
static PetscBool      hessa_began_mpi     = PETSC_FALSE; /* MPI_Init was ours: so is MPI_Finalize */
static PetscErrorCode hessa_expected_code = 0;           /* HessaErrorExpect: a code that is not a fault */

/* A YAML options file parses, and its top level is a mapping (what PETSc accepts). */
static void HessaYAMLCheck(FILE *f, const char *path, HessaStatus *st)
{
  yaml_parser_t   parser;
  yaml_document_t doc;
  yaml_node_t    *root;

  if (!yaml_parser_initialize(&parser)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "options file '%s': cannot start the YAML parser", path);
    return;
  }
  yaml_parser_set_input_file(&parser, f);
  if (!yaml_parser_load(&parser, &doc)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "options file '%s': not valid YAML: %s at line %lu, column %lu", path, parser.problem ? parser.problem : "syntax error", (unsigned long)parser.problem_mark.line + 1,
                   (unsigned long)parser.problem_mark.column + 1);
    yaml_parser_delete(&parser);
    return;
  }
  root = yaml_document_get_root_node(&doc);
  if (root && root->type != YAML_MAPPING_NODE) HessaStatusSet(st, HESSA_ERR_INPUT, "options file '%s': expected a YAML mapping of option names to values (name: value), found a %s", path, root->type == YAML_SEQUENCE_NODE ? "list" : "single value");
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
}

/* Options files named on the command line (-options_file F, -options_file_yaml F) are
 * checked before PETSc reads them: a regular file, readable, and YAML that parses to a
 * mapping. Collective on MPI_COMM_WORLD (rank 0 checks, every rank learns the result);
 * returns non-zero with one line in msg. */
static int HessaCheckOptionsFiles(int argc, char **argv, char msg[], size_t len)
{
  int  rank, bad = 0;
  char text[2048] = "";

  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    for (int i = 1; i < argc && !bad; i++) {
      int         yaml = !strcmp(argv[i], "-options_file_yaml");
      HessaStatus st   = {0};
      FILE       *f;
      if (!yaml && strcmp(argv[i], "-options_file")) continue;
      if (i + 1 >= argc) {
        snprintf(text, sizeof text, "%s: expected a file name after it", argv[i]);
        bad = 1;
        break;
      }
      f = HessaOpenRegularFile(argv[i + 1], "options file", yaml ? "a YAML file of options" : "a text file of options", &st);
      if (f && yaml) HessaYAMLCheck(f, argv[i + 1], &st);
      if (f) fclose(f);
      if (st.code) {
        snprintf(text, sizeof text, "%s", st.msg);
        bad = 1;
      }
    }
  }
  MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Bcast(text, sizeof text, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (bad) snprintf(msg, len, "%s", text);
  return bad;
}

static PetscErrorCode HessaErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  if (hessa_expected_code && n == hessa_expected_code) return n; /* a controlled unwinding, not a fault */
  if (!hessa_have_msg) {
    const char *m = mess ? mess : "";
    if (!m[0]) {
      const char *text = NULL;
      PetscErrorMessage(n, &text, NULL);
      m = text ? text : "unknown error";
    }
    snprintf(hessa_first_msg, sizeof hessa_first_msg, "%s", m);
    snprintf(hessa_first_where, sizeof hessa_first_where, "%s() at %s:%d", fun ? fun : "?", file ? file : "?", line);
    hessa_have_msg = PETSC_TRUE;
  }
  if (hessa_traceback) return PetscTraceBackErrorHandler(comm, line, fun, file, n, p, mess, ctx);
  return n;
}

/* HessaErrorExpect - not collective; see core.h. */
void HessaErrorExpect(PetscErrorCode code)
{
  hessa_expected_code = code;
}

/* HessaInitialize - see core.h. Collective on MPI_COMM_WORLD.
 * Options read: -quiet, -hessa_traceback (print PETSc's traceback on every rank too). */
PetscErrorCode HessaInitialize(int *argc, char ***argv, const char help[])
{
  int mpi_ready = 0;

  /* MPI first, so a bad options file is one line from rank 0 instead of PETSc's
   * start-up error text on every rank */
  MPI_Initialized(&mpi_ready);
  if (!mpi_ready) {
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return PETSC_ERR_LIB;
    hessa_began_mpi = PETSC_TRUE;
  }
  if (HessaCheckOptionsFiles(*argc, *argv, hessa_first_msg, sizeof hessa_first_msg)) {
    hessa_have_msg = PETSC_TRUE;
    return HESSA_ERR_INPUT;
  }
  PetscCall(SlepcInitialize(argc, argv, NULL, help));
  PetscCallMPI(MPI_Comm_dup(PETSC_COMM_WORLD, &hessa_error_comm));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "hessa general options", NULL);
  PetscCall(PetscOptionsBool("-quiet", "no progress log on stderr", "HessaLog", hessa_quiet, &hessa_quiet, NULL));
  PetscCall(PetscOptionsBool("-hessa_traceback", "on an error, also print PETSc's traceback on every rank", "HessaFinalize", hessa_traceback, &hessa_traceback, NULL));
  PetscOptionsEnd();
  PetscCall(PetscPushErrorHandler(HessaErrorHandler, NULL));
  PetscCall(HessaStopInstall());
  /* every -hessa_* option is one hessa knows, every number in its range */
  PetscCall(HessaOptionsCheck(PETSC_COMM_WORLD, NULL));
  PetscFunctionReturn(0);
}

int HessaFinalize(PetscErrorCode err)
{
  int         rank = 0, failed = err ? 1 : 0, n_failed = 0, done = 0;
  MPI_Request req;
  double      t0;

  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (hessa_error_comm == MPI_COMM_NULL) { /* PetscInitialize itself failed */
    if (err && rank == 0) fprintf(stderr, "hessa: error: %s\n", hessa_have_msg ? hessa_first_msg : "start-up failed");
    if (hessa_began_mpi) MPI_Finalize();
    return err ? 1 : 0;
  }
  /* Agree on how many ranks failed, without blocking on ranks that never arrive. */
  MPI_Iallreduce(&failed, &n_failed, 1, MPI_INT, MPI_SUM, hessa_error_comm, &req);
  t0 = MPI_Wtime();
  while (!done && MPI_Wtime() - t0 < 10.0) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (!done) {
      struct timespec ts = {0, 2000000};
      nanosleep(&ts, NULL);
    }
  }
  if (!done) {
    /* Some rank never arrived: it is stuck in a collective with no partner. */
    fprintf(stderr, "hessa: error (rank %d): %s\n", rank, hessa_have_msg ? hessa_first_msg : "unknown error");
    if (hessa_traceback) fprintf(stderr, "hessa:   raised in %s\n", hessa_first_where);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  }
  if (n_failed > 0) {
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (n_failed < size) {
      /* The other ranks are fine and have finished: still, the run failed. */
      if (failed) fprintf(stderr, "hessa: error (rank %d): %s\n", rank, hessa_have_msg ? hessa_first_msg : "unknown error");
    } else if (rank == 0) {
      fprintf(stderr, "hessa: error: %s\n", hessa_have_msg ? hessa_first_msg : "unknown error");
      if (hessa_traceback) fprintf(stderr, "hessa:   raised in %s\n", hessa_first_where);
    }
    fflush(stderr);
  }
  MPI_Comm_free(&hessa_error_comm);
  PetscPopErrorHandler();
  SlepcFinalize();
  if (hessa_began_mpi) MPI_Finalize();
  return n_failed > 0 ? 1 : (HessaStopWasStopped() ? HESSA_EXIT_STOPPED : 0);
}

void HessaErrorTake(char msg[], size_t len)
{
  if (len) snprintf(msg, len, "%s", hessa_have_msg ? hessa_first_msg : "");
  hessa_have_msg     = PETSC_FALSE;
  hessa_first_msg[0] = 0;
}

void HessaStatusSet(HessaStatus *st, PetscErrorCode code, const char fmt[], ...)
{
  va_list ap;
  if (!st || st->code) return;
  st->code = code ? code : PETSC_ERR_LIB;
  va_start(ap, fmt);
  vsnprintf(st->msg, sizeof st->msg, fmt, ap);
  va_end(ap);
}

/* HessaSyncError - collective on comm. If any rank's status is set, every rank raises
 * the message of the lowest failing rank with that rank's code. */
PetscErrorCode HessaSyncError(MPI_Comm comm, const HessaStatus *st)
{
  PetscMPIInt rank, mine, lowest;
  char        msg[sizeof(st->msg)];
  int         code;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  mine = (st && st->code) ? rank : PETSC_MPI_INT_MAX;
  PetscCallMPI(MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, comm));
  if (lowest == PETSC_MPI_INT_MAX) PetscFunctionReturn(0);
  if (rank == lowest) {
    memcpy(msg, st->msg, sizeof msg);
    code = (int)st->code;
  }
  PetscCallMPI(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, lowest, comm));
  PetscCallMPI(MPI_Bcast(&code, 1, MPI_INT, lowest, comm));
  msg[sizeof msg - 1] = 0;
  SETERRQ(comm, (PetscErrorCode)code, "%s", msg);
}

PetscBool HessaIsQuiet(void)
{
  return hessa_quiet;
}

const char *HessaCommit(void)
{
  return HESSA_COMMIT;
}

PetscErrorCode HessaLog(MPI_Comm comm, const char fmt[], ...)
{
  PetscMPIInt rank;
  va_list     ap;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0 && !hessa_quiet) {
    va_start(ap, fmt);
    fputs("hessa: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    va_end(ap);
  }
  PetscFunctionReturn(0);
}

void HessaSplitRange(PetscInt count, PetscMPIInt size, PetscMPIInt rank, PetscInt *first, PetscInt *local)
{
  PetscInt base = count / size, extra = count % size;
  *local = base + (rank < extra ? 1 : 0);
  *first = rank * base + (rank < extra ? rank : extra);
}

PetscBool HessaSizeMul(uint64_t a, uint64_t b, uint64_t *out)
{
  const uint64_t limit = (uint64_t)1 << 62;
  if (a != 0 && b > limit / a) return PETSC_FALSE;
  *out = a * b;
  return *out <= limit ? PETSC_TRUE : PETSC_FALSE;
}
