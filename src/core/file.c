/* Core: files written whole or not at all, and the growing text buffer.
 *
 * Every writer of hessa goes through HessaFileBegin/Commit (or HessaWriteFileAtomic,
 * HessaFileAppend): data go to path.tmp, are flushed and fsync'd, and only then is the
 * temporary file renamed to its final name, so a full disk, a killed job or a failed
 * plot never leaves half a file under a final name. The fault-injection hook
 * (HessaFileSetFailHook, HESSA_TEST_FAIL_WRITE) lets tests prove that for every writer.
 */
#include <hessa/core.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _n_HessaFile {
  char  path[PETSC_MAX_PATH_LEN];
  char  tmp[PETSC_MAX_PATH_LEN + 8];
  FILE *f; /* NULL once handed over by HessaFileTempPath */
};

/* ---- fault injection ------------------------------------------------------------- */
static PetscBool fail_hook_set = PETSC_FALSE; /* PETSC_FALSE: not yet read from the environment */
static char      fail_hook[PETSC_MAX_PATH_LEN];
static long      fail_from = 1, fail_seen = 0; /* "pattern@k": the k-th match and later ones fail */

/* HessaFileSetFailHook - not collective. See core.h. */
void HessaFileSetFailHook(const char pattern[])
{
  char *at;

  fail_hook_set = PETSC_TRUE;
  fail_from     = 1;
  fail_seen     = 0;
  snprintf(fail_hook, sizeof fail_hook, "%s", pattern ? pattern : "");
  at = strrchr(fail_hook, '@');
  if (at) {
    char *end;
    long  k = strtol(at + 1, &end, 10);
    if (end != at + 1 && !*end && k >= 1) {
      fail_from = k;
      *at       = 0;
    }
  }
}

/* Should the write of path fail on purpose? Compares the file name without its folder. */
static PetscBool FailInjected(const char path[])
{
  const char *base = strrchr(path, '/');

  if (!fail_hook_set) HessaFileSetFailHook(getenv("HESSA_TEST_FAIL_WRITE"));
  if (!fail_hook[0] || fnmatch(fail_hook, base ? base + 1 : path, 0) != 0) return PETSC_FALSE;
  return ++fail_seen >= fail_from ? PETSC_TRUE : PETSC_FALSE;
}

/* fsync that tolerates file systems without it (EINVAL: pipes, some FUSE mounts). */
static int SyncFd(int fd)
{
  return fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
}

/* Best effort: make the rename itself durable by syncing the folder that holds path. */
static void SyncFolderOf(const char path[])
{
  char        folder[PETSC_MAX_PATH_LEN];
  const char *slash = strrchr(path, '/');
  int         fd;

  if (!slash)
    snprintf(folder, sizeof folder, ".");
  else if (slash == path)
    snprintf(folder, sizeof folder, "/");
  else
    snprintf(folder, sizeof folder, "%.*s", (int)(slash - path), path);
  fd = open(folder, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  (void)fsync(fd);
  close(fd);
}

/* ---- atomic files ------------------------------------------------------------------ */
/* HessaFileBegin - not collective. Opens path.tmp for writing.
 * Input: path, the final name. Output: *file (NULL on failure, which st records). */
PetscErrorCode HessaFileBegin(const char path[], HessaFile *file, HessaStatus *st)
{
  HessaFile fl;

  PetscFunctionBegin;
  *file = NULL;
  if (st->code) PetscFunctionReturn(0);
  if (!path || !path[0] || strlen(path) >= sizeof fl->path) {
    HessaStatusSet(st, HESSA_ERR_ARG, "cannot write '%s': %s", path ? path : "", path && path[0] ? "path too long" : "empty file name");
    PetscFunctionReturn(0);
  }
  fl = calloc(1, sizeof *fl);
  if (!fl) {
    HessaStatusSet(st, PETSC_ERR_MEM, "cannot write '%s': out of memory", path);
    PetscFunctionReturn(0);
  }
  snprintf(fl->path, sizeof fl->path, "%s", path);
  snprintf(fl->tmp, sizeof fl->tmp, "%s.tmp", path);
  fl->f = fopen(fl->tmp, "wb");
  if (!fl->f) {
    HessaStatusSet(st, PETSC_ERR_FILE_OPEN, "cannot write '%s': %s", path, strerror(errno));
    free(fl);
    PetscFunctionReturn(0);
  }
  *file = fl;
  PetscFunctionReturn(0);
}

/* HessaFileStream - not collective. See core.h. */
FILE *HessaFileStream(HessaFile file)
{
  return file ? file->f : NULL;
}

/* HessaFileTempPath - not collective. Closes hessa's stream (its data, if any, are
 * flushed) and returns the temporary name for a library that writes by name. */
const char *HessaFileTempPath(HessaFile file)
{
  if (!file) return NULL;
  if (file->f) {
    fclose(file->f);
    file->f = NULL;
  }
  return file->tmp;
}

/* HessaFileCommit - not collective. Flush, fsync, close, rename to the final name.
 * Output: st records "cannot write '<path>': <reason>" on failure; *file = NULL. */
PetscErrorCode HessaFileCommit(HessaFile *file, HessaStatus *st)
{
  HessaFile fl  = *file;
  int       err = 0;

  PetscFunctionBegin;
  if (!fl) PetscFunctionReturn(0);
  *file = NULL;
  if (fl->f) {
    /* the stream's error flag catches a failed fprintf/fwrite the caller did not check */
    if (fflush(fl->f) != 0 || ferror(fl->f)) err = errno ? errno : EIO;
    if (!err && SyncFd(fileno(fl->f)) != 0) err = errno;
    if (fclose(fl->f) != 0 && !err) err = errno;
  } else {
    /* written by name (PLplot): reopen to sync what the library wrote */
    int fd = open(fl->tmp, O_RDONLY);
    if (fd < 0)
      err = errno;
    else {
      if (SyncFd(fd) != 0) err = errno;
      close(fd);
    }
  }
  if (!err && FailInjected(fl->path)) err = ENOSPC;
  if (!err && rename(fl->tmp, fl->path) != 0) err = errno;
  if (err) {
    remove(fl->tmp);
    if (!st->code) HessaStatusSet(st, PETSC_ERR_FILE_WRITE, "cannot write '%s': %s", fl->path, strerror(err));
  } else
    SyncFolderOf(fl->path);
  free(fl);
  PetscFunctionReturn(0);
}

/* HessaFileAbort - not collective. Close and remove the temporary file. */
PetscErrorCode HessaFileAbort(HessaFile *file)
{
  HessaFile fl = *file;

  PetscFunctionBegin;
  if (!fl) PetscFunctionReturn(0);
  *file = NULL;
  if (fl->f) fclose(fl->f);
  remove(fl->tmp);
  free(fl);
  PetscFunctionReturn(0);
}

/* HessaWriteFileAtomic - not collective. Writes text (NULL: nothing) to path through
 * HessaFileBegin/Commit. Output: st records a fault. */
PetscErrorCode HessaWriteFileAtomic(const char path[], const char *text, HessaStatus *st)
{
  HessaFile file;
  size_t    len = text ? strlen(text) : 0;

  PetscFunctionBegin;
  PetscCall(HessaFileBegin(path, &file, st));
  if (!file) PetscFunctionReturn(0);
  if (len && fwrite(text, 1, len, HessaFileStream(file)) != len) {
    int err = errno;
    PetscCall(HessaFileAbort(&file));
    HessaStatusSet(st, PETSC_ERR_FILE_WRITE, "cannot write '%s': %s", path, strerror(err));
    PetscFunctionReturn(0);
  }
  PetscCall(HessaFileCommit(&file, st));
  PetscFunctionReturn(0);
}

/* HessaFileAppend - not collective. Appends text to path (created if missing) with
 * one write sequence and an fsync; on a fault the file is cut back to its previous
 * length (or removed if this call created it), so it never ends in half a record.
 * Output: st records a fault. */
PetscErrorCode HessaFileAppend(const char path[], const char *text, HessaStatus *st)
{
  struct stat sb;
  size_t      len = text ? strlen(text) : 0, done = 0;
  int         fd, err                             = 0;
  PetscBool   created = PETSC_FALSE;

  PetscFunctionBegin;
  if (st->code) PetscFunctionReturn(0);
  fd = open(path, O_WRONLY | O_APPEND);
  if (fd < 0 && errno == ENOENT) {
    fd      = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0666);
    created = fd >= 0 ? PETSC_TRUE : PETSC_FALSE;
  }
  if (fd < 0 || fstat(fd, &sb) != 0) {
    HessaStatusSet(st, PETSC_ERR_FILE_OPEN, "cannot append to '%s': %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    PetscFunctionReturn(0);
  }
  while (!err && done < len) {
    ssize_t w = write(fd, text + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      err = w < 0 ? errno : EIO;
    else
      done += (size_t)w;
  }
  if (!err && SyncFd(fd) != 0) err = errno;
  if (!err && FailInjected(path)) err = ENOSPC;
  if (err) {
    /* cut the partial record off again (and sync the cut); a file this call created goes */
    if (created)
      (void)unlink(path);
    else if (ftruncate(fd, sb.st_size) == 0)
      (void)SyncFd(fd);
    HessaStatusSet(st, PETSC_ERR_FILE_WRITE, "cannot append to '%s': %s", path, strerror(err));
  }
  if (close(fd) != 0 && !err) HessaStatusSet(st, PETSC_ERR_FILE_WRITE, "cannot append to '%s': %s", path, strerror(errno));
  PetscFunctionReturn(0);
}

/* ---- text buffer ------------------------------------------------------------------- */
/* HessaTextPrintf - not collective. Appends formatted text; on out of memory sets
 * t->failed and keeps the text as it was. */
void HessaTextPrintf(HessaText *t, const char fmt[], ...)
{
  va_list ap;
  int     need;

  if (t->failed) return;
  va_start(ap, fmt);
  need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (need < 0) {
    t->failed = 1;
    return;
  }
  if (t->len + (size_t)need + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 4096;
    char  *data;
    while (t->len + (size_t)need + 1 > cap) cap *= 2;
    data = realloc(t->data, cap);
    if (!data) {
      t->failed = 1;
      return;
    }
    t->data = data;
    t->cap  = cap;
  }
  va_start(ap, fmt);
  vsnprintf(t->data + t->len, (size_t)need + 1, fmt, ap);
  va_end(ap);
  t->len += (size_t)need;
}

/* HessaTextFree - not collective. Frees the text and zeroes the buffer for reuse. */
void HessaTextFree(HessaText *t)
{
  free(t->data);
  memset(t, 0, sizeof *t);
}

/* HessaTextString - not collective. The text, "" while empty. */
const char *HessaTextString(const HessaText *t)
{
  return t->data ? t->data : "";
}
