/* Advisory lock files: one run at a time on an output folder.
 *
 * The lock is FOLDER/.hessa.lock, created with O_EXCL (atomic, also on NFS v3+), holding
 * "host=H pid=P start=T" (T: the process start time from /proc, so a recycled PID is not
 * mistaken for the holder). A lock whose holder is on this host and no longer running is
 * stale: it is replaced. A lock held from another host cannot be checked from here: the
 * message says which host and PID hold it and which file to remove if that run is gone. */
#include <hessa/core.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), 0 if unknown. */
static unsigned long long StartTime(long pid)
{
  char               path[64], buf[1024], *p;
  unsigned long long t = 0;
  FILE              *f;
  size_t             n;

  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (!(f = fopen(path, "r"))) return 0;
  n      = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  if (!(p = strrchr(buf, ')'))) return 0; /* the command name may hold spaces */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &t) != 1) return 0;
  return t;
}

/* The holder is running on this host: the PID exists and started when the lock says. */
static PetscBool HolderAlive(long pid, unsigned long long start)
{
  unsigned long long now;
  if (pid <= 0) return PETSC_FALSE;
  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return PETSC_FALSE;
  now = StartTime(pid);
  return !start || !now || now == start ? PETSC_TRUE : PETSC_FALSE;
}

/* HessaLockAcquire - not collective (call on one rank). Takes FOLDER/.hessa.lock for
 * this process; path receives the lock file's name (for HessaLockRelease). A live
 * holder is an error in st naming the folder, the holder's host and PID and the file. */
void HessaLockAcquire(const char folder[], const char what[], char path[], size_t len, HessaStatus *st)
{
  char host[256] = "";

  gethostname(host, sizeof host - 1);
  snprintf(path, len, "%s/.hessa.lock", folder);
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      char text[512];
      int  n = snprintf(text, sizeof text, "host=%s pid=%ld start=%llu\n", host, (long)getpid(), StartTime((long)getpid()));
      if (write(fd, text, (size_t)n) != n || close(fd) != 0) {
        HessaStatusSet(st, PETSC_ERR_FILE_WRITE, "%s '%s': cannot write the lock file %s: %s", what, folder, path, strerror(errno));
        unlink(path);
      }
      return;
    }
    if (errno != EEXIST) {
      HessaStatusSet(st, PETSC_ERR_FILE_WRITE, "%s '%s': cannot create the lock file %s: %s", what, folder, path, strerror(errno));
      return;
    }
    {
      char               holder[256] = "?", text[512] = "";
      long               pid   = 0;
      unsigned long long start = 0;
      HessaStatus        rst   = {0};
      FILE              *f     = HessaOpenRegularFile(path, "lock file", "a hessa lock file", &rst);
      if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n]  = 0;
        fclose(f);
      }
      if (sscanf(text, "host=%255s pid=%ld start=%llu", holder, &pid, &start) < 2) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s' is locked by %s, which does not say which run holds it; if no other hessa run uses this folder, remove %s", what, folder, path, path);
        return;
      }
      if (!strcmp(holder, host) && !HolderAlive(pid, start) && attempt == 0) {
        unlink(path); /* stale: its run has ended without removing it */
        continue;
      }
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s '%s' is in use by another hessa run (host %s, PID %ld%s); wait for it to finish, use another folder, or, if that run is gone, remove %s", what, folder, holder, pid,
                     strcmp(holder, host) ? ", on another host" : "", path);
      return;
    }
  }
}

/* HessaLockRelease - not collective: remove the lock file taken by HessaLockAcquire. */
void HessaLockRelease(const char path[])
{
  if (path && path[0]) unlink(path);
}
