/* hessa core: start-up, options, logging, collective errors, random streams, timers.
 *
 * Every other layer includes this header. It is the only place that decides how
 * an error ends a run: a fault detected on one rank must end every rank with one
 * clear message and a non-zero exit, never a hang (see HessaSyncError and main()).
 */
#ifndef HESSA_CORE_H
#define HESSA_CORE_H

#include <petscsys.h>
#include <stdint.h>
#include <stdio.h>

#define HESSA_VERSION "0.1.0"

/* Error codes of hessa's own checks (PETSc codes stay as they are). */
#define HESSA_ERR_INPUT PETSC_ERR_FILE_UNEXPECTED /* bad or unreadable input file */
#define HESSA_ERR_ARG PETSC_ERR_ARG_WRONG         /* bad option value */
/* Not a fault: a stop request unwinding out of a library call that takes no stopping test
 * (an ARPACK solve, through the operator's product); expected with HessaErrorExpect, caught
 * by the caller, never reported. Outside PETSc's range of codes. */
#define HESSA_ERR_STOPPED 175

/* The git commit hessa was built from ("unknown" outside a checkout). */
const char *HessaCommit(void);

/* ---- start-up and shutdown -------------------------------------------------- */
/* Collective on MPI_COMM_WORLD. Initializes MPI/PETSc, installs hessa's error
 * handler (which records the first message instead of printing a traceback on
 * every rank), reads -quiet. */
PetscErrorCode HessaInitialize(int *argc, char ***argv, const char help[]);
/* Ends the run. When err != 0 the ranks first agree (with a timeout) whether every
 * rank failed: if so rank 0 prints the one message and all exit 1; if not, the
 * failing rank prints its message and aborts the whole job (no hang). Returns the
 * process exit status. */
int HessaFinalize(PetscErrorCode err);

/* ---- collective errors ------------------------------------------------------- */
/* A local status that a reader fills instead of raising at once, so that all
 * ranks can learn about a fault on one of them. */
typedef struct {
  PetscErrorCode code; /* 0: fine */
  char           msg[1024];
} HessaStatus;

/* Not collective: record a formatted message in st (the first one wins). */
void HessaStatusSet(HessaStatus *st, PetscErrorCode code, const char fmt[], ...) PETSC_ATTRIBUTE_FORMAT(3, 4);
/* Collective on comm: if any rank has a non-zero status, every rank raises the
 * same error (the message of the lowest failing rank). Returns 0 otherwise. */
PetscErrorCode HessaSyncError(MPI_Comm comm, const HessaStatus *st);

/* Raise a hessa input error from inside a function (not collective: use where all
 * ranks see the same data, e.g. option values, or before a HessaSyncError). */
#define HESSA_ERR(comm, code, ...) SETERRQ(comm, code, __VA_ARGS__)

/* Not collective: the message recorded by hessa's error handler for the last error
 * raised on this rank, copied into msg (empty if none); the record is cleared so a
 * later error is recorded afresh. Used by loops that survive a failed item (study). */
void HessaErrorTake(char msg[], size_t len);

/* Not collective: while code is expected (non-zero), errors raised with exactly that code
 * pass hessa's error handler silently (not recorded, no traceback): a controlled unwinding
 * such as HESSA_ERR_STOPPED out of an ARPACK solve. HessaErrorExpect(0) ends it; set it
 * around the one call whose return code the caller checks. */
void HessaErrorExpect(PetscErrorCode code);

/* ---- graceful stop ------------------------------------------------------------ */
/* SIGTERM, SIGUSR1 and SIGINT only set a flag (HessaInitialize installs the handler).
 * Long computations call HessaStopAgree at safe points; when it says stop, they write
 * their resumable state and a partial report, call HessaStopMarkStopped, and return
 * normally: the process then exits with HESSA_EXIT_STOPPED (docs/jobs.md). */
#define HESSA_EXIT_STOPPED 75 /* EX_TEMPFAIL: stopped on request, rerun with -resume */
PetscErrorCode HessaStopInstall(void);
/* Not collective: the signal received on this rank (0: none). */
int HessaStopSignal(void);
/* Not collective: behave as if a stop signal had arrived (tests, time budgets). */
void HessaStopRequest(void);
/* Collective on comm: PETSC_TRUE on every rank if any rank has received a signal. */
PetscErrorCode HessaStopAgree(MPI_Comm comm, PetscBool *stop);
void           HessaStopMarkStopped(void);
PetscBool      HessaStopWasStopped(void);

/* ---- logging ------------------------------------------------------------------ */
/* Collective on comm (only rank 0 prints): a line to stderr prefixed "hessa: ",
 * unless -quiet was given. */
PetscErrorCode HessaLog(MPI_Comm comm, const char fmt[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
PetscBool      HessaIsQuiet(void);

/* ---- deterministic random streams ---------------------------------------------- */
/* Counter-based: the value for (seed, stream, index) is a pure function, so any
 * rank can produce any entry of a random vector and the vector does not depend
 * on the number of ranks. Streams separate independent uses (probe vectors,
 * initial weights, mini-batches, ...). */
uint64_t HessaRandomBits(uint64_t seed, uint64_t stream, uint64_t index);
double   HessaRandomUniform(uint64_t seed, uint64_t stream, uint64_t index);    /* in (0,1) */
double   HessaRandomNormal(uint64_t seed, uint64_t stream, uint64_t index);     /* N(0,1) */
double   HessaRandomRademacher(uint64_t seed, uint64_t stream, uint64_t index); /* +-1 */

typedef enum { HESSA_RANDOM_UNIFORM, HESSA_RANDOM_NORMAL, HESSA_RANDOM_RADEMACHER } HessaRandomKind;
/* Not collective: fill x[0..count) with entries first..first+count of the stream. */
void HessaRandomFill(HessaRandomKind kind, uint64_t seed, uint64_t stream, PetscInt first, PetscInt count, double *x);

/* ---- the registry of random stream numbers ---------------------------------------------
 * Every user of the generators takes its stream numbers from here, so no two users
 * share one (a shared stream would make, e.g., derivative-check directions equal to
 * the synthetic inputs). A family uses base + k for 0 <= k < span; the large bases are
 * the family name in ASCII. A new user adds a line here and to HessaRandomStreamTable
 * (src/core/random.c); tests/core/test_random.c checks that no two ranges overlap. */
#define HESSA_STREAM_DATA_CENTRES UINT64_C(1001)              /* blobs: class centres, index class * dim + feature */
#define HESSA_STREAM_DATA_INPUTS UINT64_C(1002)               /* blobs/gaussian: inputs, index sample * dim + feature */
#define HESSA_STREAM_QUADRATIC UINT64_C(0x7175616472617469)   /* "quadrati": Householder normals */
#define HESSA_STREAM_ROTATIONS UINT64_C(0x717561646d697800)   /* "quadmix": quadratic's rotation layers, + 0 shuffles, + 1 angles */
#define HESSA_STREAM_MLP_INIT UINT64_C(0x6d6c70696e697400)    /* "mlpinit": initial weights */
#define HESSA_STREAM_CHECK UINT64_C(0x636865636b000000)       /* "check": derivative-check trial t uses stream + t */
#define HESSA_STREAM_SLQ UINT64_C(0x736c710000000000)         /* "slq": SLQ probe p uses stream + p */
#define HESSA_STREAM_TRACE UINT64_C(0x7472616365000000)       /* "trace": Hutchinson probe i uses stream + i */
#define HESSA_STREAM_LANDSCAPE UINT64_C(0x6c616e6473636170)   /* "landscap": random direction k uses stream + k */
#define HESSA_STREAM_TRAIN_BATCH UINT64_C(0x7472626174636800) /* "trbatch": step t's batch, entries t*N .. t*N + B - 1 */

/* One registered family: streams [base, base + span). */
typedef struct {
  const char *name; /* the macro's name */
  uint64_t    base, span;
} HessaRandomStream;
/* Not collective: the registry (count entries), for tests and documentation. */
const HessaRandomStream *HessaRandomStreamTable(int *count);

/* ---- timers ------------------------------------------------------------------- */
/* Wall-clock seconds per named phase, accumulated over the run (not collective). */
PetscErrorCode HessaTimerStart(const char phase[]);
PetscErrorCode HessaTimerStop(const char phase[]);
PetscErrorCode HessaTimerGet(const char phase[], double *seconds);
/* Not collective: number of phases and the name/seconds of phase i. */
PetscInt       HessaTimerCount(void);
PetscErrorCode HessaTimerEntry(PetscInt i, const char **name, double *seconds);
/* Not collective: forget every phase (study mode times each point on its own). */
void HessaTimerReset(void);
/* Collective: rank 0 logs every phase with the max over ranks. */
PetscErrorCode HessaTimerLogAll(MPI_Comm comm);

/* ---- files written whole or not at all --------------------------------------------- */
/* Every file hessa writes goes through these calls (reports, CSV, plots, NPY, weights,
 * checkpoints, logs), so a reader sees either the previous file or the whole new one,
 * never half a file, even when the disk fills up or the job is killed:
 *
 *   HessaFileBegin(path)    opens path.tmp for writing
 *   ... fprintf(HessaFileStream(file), ...) or a library writes HessaFileTempPath(file)
 *   HessaFileCommit(&file)  flush, fsync, close, rename path.tmp -> path, fsync the folder
 *   HessaFileAbort(&file)   close and remove path.tmp (path keeps its old content)
 *
 * File-system faults are not raised: they are recorded in a HessaStatus (the first one
 * wins; a call with st->code already set does nothing) so that the writing rank can
 * share them with every rank through HessaSyncError. The PetscErrorCode return is for
 * PETSc errors only. None of these calls is collective. */
typedef struct _n_HessaFile *HessaFile;

/* Open path.tmp for writing. On failure st says "cannot write '<path>': <reason>" and
 * *file is NULL. */
PetscErrorCode HessaFileBegin(const char path[], HessaFile *file, HessaStatus *st);
/* The stream to write to (NULL for a NULL file or after HessaFileTempPath). */
FILE *HessaFileStream(HessaFile file);
/* For a library that opens files by name (PLplot): closes hessa's stream and returns
 * the temporary name, which the caller fills before HessaFileCommit. */
const char *HessaFileTempPath(HessaFile file);
/* Flush, fsync, close and rename the file to its final name; on any fault the
 * temporary file is removed, the final name is untouched, and st records why.
 * *file is NULL afterwards. A NULL *file does nothing. */
PetscErrorCode HessaFileCommit(HessaFile *file, HessaStatus *st);
/* Close and remove the temporary file; the final name is untouched. *file is NULL
 * afterwards; a NULL *file does nothing. */
PetscErrorCode HessaFileAbort(HessaFile *file);
/* Write text (NULL: empty) to path through Begin/Commit. */
PetscErrorCode HessaWriteFileAtomic(const char path[], const char *text, HessaStatus *st);
/* Append one record (text) to path (created if missing) and fsync it: the file ends up
 * with the whole record or, on a fault, is cut back to its previous length (removed if
 * the append created it). For logs
 * that grow as a run goes (train_log.csv, results.jsonl). */
PetscErrorCode HessaFileAppend(const char path[], const char *text, HessaStatus *st);
/* Tests: make every later commit or append whose final file name (without folder)
 * matches the fnmatch(3) pattern fail as if the disk were full (ENOSPC), after its
 * data were written to the temporary file; "pattern@k" lets the first k-1 matching
 * writes succeed. NULL clears the hook. Until it is called, the pattern is taken from
 * the environment variable HESSA_TEST_FAIL_WRITE, so that the same fault can be
 * injected into the hessa command. */
void HessaFileSetFailHook(const char pattern[]);

/* ---- text buffer -------------------------------------------------------------------- */
/* A growing text buffer (report.md, CSV files, logs): printf appends; on out of memory
 * `failed` is set and the text stays incomplete (check before writing it). Zero-
 * initialise it ({0}), free it with HessaTextFree. Not collective. */
typedef struct {
  char  *data; /* NUL-terminated text (NULL while empty) */
  size_t len, cap;
  int    failed;
} HessaText;

void HessaTextPrintf(HessaText *t, const char fmt[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
void HessaTextFree(HessaText *t);
/* The text, "" while empty. */
const char *HessaTextString(const HessaText *t);
/* ---- input files ----------------------------------------------------------------- */
/* Not collective. Inputs are read only from regular files: a FIFO, a device, a socket
 * or a directory is refused before any read, since reading one could block forever.
 * Opened read-only without blocking, checked with fstat on the descriptor itself.
 * On a fault: NULL / -1 / PETSC_FALSE and st holds
 *   "<what> '<path>': cannot open: <reason>" or
 *   "<what> '<path>': is a FIFO (named pipe), expected <expected>". */
FILE     *HessaOpenRegularFile(const char *path, const char *what, const char *expected, HessaStatus *st);
int       HessaOpenRegularFd(const char *path, const char *what, const char *expected, HessaStatus *st);
PetscBool HessaCheckRegularFile(const char *path, const char *what, const char *expected, HessaStatus *st);
/* The whole of a regular file, at most max bytes: NUL-terminated text the caller frees,
 * its length in *len. NULL with st set on a fault: the messages above, or
 *   "<what> '<path>': more than <max> bytes, expected <expected>",
 *   "<what> '<path>': read error: <reason>", "<what> '<path>': out of memory". */
char       *HessaReadRegularFile(const char *path, const char *what, const char *expected, size_t max, size_t *len, HessaStatus *st);
const char *HessaFileKindName(unsigned mode);
/* Collective on comm: an error with the bytes when an allocation of about `bytes` per
 * rank (overflow: the size computation itself overflowed) would not fit in the memory
 * available on the node (MemAvailable, cgroup limit) for the ranks that share it.
 * Called before large allocations whose size comes from options. */
PetscErrorCode HessaMemoryCheck(MPI_Comm comm, const char what[], uint64_t bytes, PetscBool overflow);
/* Collective on comm: the bytes each rank may allocate (the node's available memory shared
 * by the ranks of comm on it, the smallest over comm); 0 when unknown. */
PetscErrorCode HessaMemoryPerRank(MPI_Comm comm, uint64_t *bytes);

/* ---- output folder locks ---------------------------------------------------------- */
/* Not collective (one rank): take FOLDER/.hessa.lock (host, PID, process start time);
 * a live holder is an error in st ("<what> '<folder>' is in use by another hessa run
 * (host H, PID P) ..."), a holder that has ended on this host is stale and replaced.
 * path (len bytes) receives the lock file for HessaLockRelease. */
void HessaLockAcquire(const char folder[], const char what[], char path[], size_t len, HessaStatus *st);
void HessaLockRelease(const char path[]);

/* ---- names and options ----------------------------------------------------------- */
/* Not collective: the entry of the NULL-terminated list known closest to name (edit
 * distance, at most 1/3 of the name's length and at least 2 edits allowed), or NULL. */
const char *HessaClosestName(const char *name, const char *const known[]);
/* Collective on comm: every -hessa_* option of opts (NULL: global) not read yet has a
 * name hessa knows (else an error with the closest spelling) and, if numeric, a value
 * in its documented range (docs/options.md). HessaInitialize calls it. */
PetscErrorCode HessaOptionsCheck(MPI_Comm comm, PetscOptions opts);
/* Not collective: mark options of the global database read when opts (a pushed copy) read them. */
PetscErrorCode HessaOptionsMarkUsed(PetscOptions opts);
/* Collective on comm: an error naming a -hessa_* option that no rank read (end of a command). */
PetscErrorCode HessaOptionsCheckUnused(MPI_Comm comm, const char command[]);

/* ---- small helpers ------------------------------------------------------------- */
/* Split count items over size ranks in contiguous blocks: rank gets [*first, *first + *local). */
void HessaSplitRange(PetscInt count, PetscMPIInt size, PetscMPIInt rank, PetscInt *first, PetscInt *local);
/* Overflow-checked product of sizes; returns PETSC_FALSE on overflow of 2^62. */
PetscBool HessaSizeMul(uint64_t a, uint64_t b, uint64_t *out);

#endif
