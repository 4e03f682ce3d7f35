/* Strict-input helpers of the core layer, each against a known answer:
 *  - HessaOpenRegularFile refuses a FIFO (without blocking), a directory and /dev/null,
 *    and opens a regular file;
 *  - HessaClosestName finds the spelling one or two edits away and nothing for a
 *    name far from every known one;
 *  - HessaLockAcquire: a second run on a locked folder is refused (naming host and
 *    PID), a lock whose process has ended is stale and taken over, a lock from
 *    another host is refused, release removes the file.
 * Each rank works in its own folder; silent on success. */
#include <hessa/core.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPECT(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static PetscErrorCode Run(void)
{
  PetscMPIInt rank;
  char        dir[256], path[1024], lock[600], host[256] = "";
  HessaStatus st = {0};
  FILE       *f;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  snprintf(dir, sizeof dir, "/tmp/hessa-test-strict-%d-%d", (int)getpid(), (int)rank);
  EXPECT(mkdir(dir, 0755) == 0, "cannot create %s", dir);

  /* only regular files are opened */
  snprintf(path, sizeof path, "%s/pipe", dir);
  EXPECT(mkfifo(path, 0644) == 0, "mkfifo failed");
  EXPECT(!HessaOpenRegularFile(path, "file", "an NPY file", &st) && strstr(st.msg, "is a FIFO (named pipe), expected an NPY file"), "FIFO: %s", st.msg);
  unlink(path);
  memset(&st, 0, sizeof st);
  EXPECT(!HessaOpenRegularFile(dir, "file", "an NPY file", &st) && strstr(st.msg, "is a directory"), "directory: %s", st.msg);
  memset(&st, 0, sizeof st);
  EXPECT(!HessaCheckRegularFile("/dev/null", "file", "x", &st) && strstr(st.msg, "is a character device"), "device: %s", st.msg);
  memset(&st, 0, sizeof st);
  snprintf(path, sizeof path, "%s/plain", dir);
  f = fopen(path, "w");
  EXPECT(f && fputs("12", f) >= 0 && fclose(f) == 0, "cannot write %s", path);
  f = HessaOpenRegularFile(path, "file", "x", &st);
  EXPECT(f && fgetc(f) == '1', "regular file not opened: %s", st.msg);
  fclose(f);
  unlink(path);

  /* closest spelling */
  {
    static const char *const known[] = {"-hessa_data_limit", "-hessa_data_seed", "-hessa_model_seed", "activation", NULL};
    const char              *near;
    EXPECT((near = HessaClosestName("-hessa_data_limt", known)) && !strcmp(near, "-hessa_data_limit"), "limt");
    EXPECT((near = HessaClosestName("activaton", known)) && !strcmp(near, "activation"), "activaton");
    EXPECT((near = HessaClosestName("-hessa_modle_seed", known)) && !strcmp(near, "-hessa_model_seed"), "transposition");
    EXPECT(!HessaClosestName("-hessa_frobnicate", known), "far name matched");
  }

  /* locks */
  HessaLockAcquire(dir, "study folder", lock, sizeof lock, &st);
  EXPECT(!st.code, "first lock refused: %s", st.msg);
  {
    char other[600];
    HessaLockAcquire(dir, "study folder", other, sizeof other, &st);
    gethostname(host, sizeof host - 1);
    snprintf(path, sizeof path, "study folder '%s' is in use by another hessa run (host %s, PID %d)", dir, host, (int)getpid());
    EXPECT(st.code && strstr(st.msg, path), "second lock: expected '%s', got '%s'", path, st.msg);
    memset(&st, 0, sizeof st);
  }
  HessaLockRelease(lock);
  EXPECT(access(lock, F_OK) != 0, "release left %s", lock);
  {
    /* a lock of a process that has ended on this host is stale */
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);
    f = fopen(lock, "w");
    EXPECT(f && fprintf(f, "host=%s pid=%d start=1\n", host, (int)child) > 0 && fclose(f) == 0, "cannot write the stale lock");
    HessaLockAcquire(dir, "study folder", lock, sizeof lock, &st);
    EXPECT(!st.code, "stale lock not taken over: %s", st.msg);
    HessaLockRelease(lock);
  }
  f = fopen(lock, "w");
  EXPECT(f && fprintf(f, "host=elsewhere.example pid=1 start=1\n") > 0 && fclose(f) == 0, "cannot write the remote lock");
  HessaLockAcquire(dir, "study folder", lock, sizeof lock, &st);
  EXPECT(st.code && strstr(st.msg, "(host elsewhere.example, PID 1, on another host)"), "remote lock: %s", st.msg);
  unlink(lock);
  rmdir(dir);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
