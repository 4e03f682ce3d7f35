/* Opening input files safely: only regular files are read.
 *
 * fopen() of a FIFO blocks until some process opens it for writing, and a device
 * (/dev/zero, a terminal) never ends: either would hang every rank. So inputs are
 * opened with O_NONBLOCK (which makes opening a FIFO return at once), checked with
 * fstat on the very descriptor that will be read (no race between a check and the
 * open), and refused unless they are regular files. */
#include <hessa/core.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* HessaFileKindName - not collective: a word for what a stat mode is. */
const char *HessaFileKindName(unsigned mode)
{
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

/* HessaOpenRegularFd - not collective. Opens path read-only if it is a regular file
 * and returns the descriptor (blocking mode), or -1 with st set:
 *   "<what> '<path>': cannot open: <reason>"  or
 *   "<what> '<path>': is a FIFO (named pipe), expected <expected>". */
int HessaOpenRegularFd(const char *path, const char *what, const char *expected, HessaStatus *st)
{
  struct stat sb;
  int         fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), flags;

  if (fd < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': cannot open: %s", what, path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &sb) != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': cannot open: %s", what, path, strerror(errno));
    close(fd);
    return -1;
  }
  if (!S_ISREG(sb.st_mode)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': is %s, expected %s", what, path, HessaFileKindName((unsigned)sb.st_mode), expected);
    close(fd);
    return -1;
  }
  flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': cannot open: %s", what, path, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

/* HessaOpenRegularFile - not collective. HessaOpenRegularFd as a stdio stream ("rb"). */
FILE *HessaOpenRegularFile(const char *path, const char *what, const char *expected, HessaStatus *st)
{
  int   fd = HessaOpenRegularFd(path, what, expected, st);
  FILE *f;

  if (fd < 0) return NULL;
  if (!(f = fdopen(fd, "rb"))) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': cannot open: %s", what, path, strerror(errno));
    close(fd);
  }
  return f;
}

/* HessaReadRegularFile - not collective. HessaOpenRegularFd, then read(2) to the end in
 * a buffer that doubles (the size of a file may change while it is read: no fstat size
 * is trusted); a file of more than max bytes is refused before it is all in memory. */
char *HessaReadRegularFile(const char *path, const char *what, const char *expected, size_t max, size_t *len, HessaStatus *st)
{
  int     fd   = HessaOpenRegularFd(path, what, expected, st);
  char   *text = NULL, *grown;
  size_t  cap = 0, n = 0;
  ssize_t got;

  *len = 0;
  if (fd < 0) return NULL;
  for (;;) {
    if (n + 1 >= cap) {
      cap   = cap ? 2 * cap : 8192;
      grown = realloc(text, cap);
      if (!grown) {
        HessaStatusSet(st, PETSC_ERR_MEM, "%s '%s': out of memory", what, path);
        break;
      }
      text = grown;
    }
    got = read(fd, text + n, cap - 1 - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': read error: %s", what, path, strerror(errno));
      break;
    }
    if (got == 0) {
      close(fd);
      text[n] = 0;
      *len    = n;
      return text;
    }
    n += (size_t)got;
    if (n > max) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s': more than %zu bytes, expected %s", what, path, max, expected);
      break;
    }
  }
  free(text);
  close(fd);
  return NULL;
}

/* HessaCheckRegularFile - not collective. PETSC_TRUE if path names a regular file
 * (following symbolic links); otherwise st says what it is. Used before handing a
 * path to a library that opens it itself (HDF5, PETSc's options files). */
PetscBool HessaCheckRegularFile(const char *path, const char *what, const char *expected, HessaStatus *st)
{
  int fd = HessaOpenRegularFd(path, what, expected, st);
  if (fd < 0) return PETSC_FALSE;
  close(fd);
  return PETSC_TRUE;
}

/* Bytes this process may still allocate: MemAvailable of /proc/meminfo, lowered by a
 * cgroup (v2) memory limit when one is set. 0 when neither can be read. */
static uint64_t MemoryAvailable(void)
{
  uint64_t avail = 0, max = 0, cur = 0;
  char     line[256];
  FILE    *f = fopen("/proc/meminfo", "r");
  if (f) {
    unsigned long long kb;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail = (uint64_t)kb * 1024;
    fclose(f);
  }
  if ((f = fopen("/sys/fs/cgroup/memory.max", "r"))) {
    unsigned long long v;
    if (fscanf(f, "%llu", &v) == 1) max = v;
    fclose(f);
  }
  if (max && (f = fopen("/sys/fs/cgroup/memory.current", "r"))) {
    unsigned long long v;
    if (fscanf(f, "%llu", &v) == 1) cur = v;
    fclose(f);
    if (max > cur && (!avail || max - cur < avail)) avail = max - cur;
  }
  return avail;
}

/* HessaMemoryPerRank - collective on comm. The bytes each rank of comm may allocate: the
 * memory available on its node (MemAvailable, cgroup limit) divided by the ranks of comm
 * on that node, the smallest over comm; 0 when no node reports its memory. */
PetscErrorCode HessaMemoryPerRank(MPI_Comm comm, uint64_t *bytes)
{
  MPI_Comm           node;
  PetscMPIInt        on_node;
  unsigned long long mine, all;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_size(node, &on_node));
  PetscCallMPI(MPI_Comm_free(&node));
  mine = MemoryAvailable() / (uint64_t)on_node;
  if (!mine) mine = ~0ULL; /* unknown here: another node decides */
  PetscCallMPI(MPI_Allreduce(&mine, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm));
  *bytes = all == ~0ULL ? 0 : (uint64_t)all;
  PetscFunctionReturn(0);
}

/* HessaMemoryCheck - collective on comm. An error when the estimated bytes per rank
 * (overflow = PETSC_TRUE: the estimate itself overflowed 64 bits), times the ranks of
 * comm that share this node, exceed the memory available on the node:
 *   "<what> needs about B bytes (G GiB) per rank, R ranks on this node: more than the
 *    A bytes (G GiB) available". Unknown availability (no /proc) passes. */
PetscErrorCode HessaMemoryCheck(MPI_Comm comm, const char what[], uint64_t bytes, PetscBool overflow)
{
  MPI_Comm    node;
  PetscMPIInt on_node;
  uint64_t    avail = MemoryAvailable(), need;
  HessaStatus st    = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_size(node, &on_node));
  PetscCallMPI(MPI_Comm_free(&node));
  if (overflow || !HessaSizeMul(bytes, (uint64_t)on_node, &need))
    HessaStatusSet(&st, PETSC_ERR_MEM, "%s needs more than 2^62 bytes: too large", what);
  else if (avail && need > avail)
    HessaStatusSet(&st, PETSC_ERR_MEM, "%s needs about %llu bytes (%.1f GiB) per rank, %d rank%s on this node: more than the %llu bytes (%.1f GiB) available", what, (unsigned long long)bytes, (double)bytes / 1073741824.0, (int)on_node,
                   on_node > 1 ? "s" : "", (unsigned long long)avail, (double)avail / 1073741824.0);
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}
