/* The core's atomic files and text buffer (core.h), against what the file system holds:
 * 1. HessaWriteFileAtomic writes the text exactly; no path.tmp remains;
 * 2. a commit that fails (hook "name") keeps the previous content of path, removes
 *    path.tmp and records "cannot write '<path>'"; so does HessaFileAbort;
 * 3. "name@2" lets the first write succeed and fails the second;
 * 4. HessaFileAppend appends whole records; a failing append leaves the file as it was
 *    (a file it would have created does not appear);
 * 5. HessaTextPrintf builds 10000 lines of text equal to the expected string.
 * Rank 0 only works on files (a folder named after the rank count). */
#include <hessa/core.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(c, ...) PetscCheck(c, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static PetscErrorCode Read(const char path[], char *buf, size_t cap)
{
  FILE  *f = fopen(path, "rb");
  size_t n;

  PetscFunctionBeginUser;
  CHECK(f, "cannot read %s", path);
  n      = fread(buf, 1, cap - 1, f);
  buf[n] = 0;
  fclose(f);
  PetscFunctionReturn(0);
}

static PetscBool Exists(const char path[])
{
  struct stat sb;
  return stat(path, &sb) == 0 ? PETSC_TRUE : PETSC_FALSE;
}

static PetscErrorCode Run(void)
{
  char        dir[64], path[128], tmp[136], buf[256];
  HessaStatus st = {0};
  HessaFile   file;
  PetscMPIInt rank, size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  if (rank) PetscFunctionReturn(0);
  snprintf(dir, sizeof dir, "test_files_np%d", size);
  mkdir(dir, 0777);
  snprintf(path, sizeof path, "%s/a.txt", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  remove(path);

  /* 1 */
  HessaFileSetFailHook(NULL);
  PetscCall(HessaWriteFileAtomic(path, "old\n", &st));
  CHECK(!st.code, "write failed: %s", st.msg);
  PetscCall(Read(path, buf, sizeof buf));
  CHECK(!strcmp(buf, "old\n") && !Exists(tmp), "content '%s' or a temporary file left", buf);

  /* 2: a failing commit and an abort keep the old file */
  HessaFileSetFailHook("a.txt");
  PetscCall(HessaWriteFileAtomic(path, "new\n", &st));
  CHECK(st.code && strstr(st.msg, "cannot write 'test_files_np") && strstr(st.msg, "No space left"), "expected a write error, found '%s'", st.msg);
  PetscCall(Read(path, buf, sizeof buf));
  CHECK(!strcmp(buf, "old\n") && !Exists(tmp), "a failed commit changed the file ('%s') or left a temporary", buf);
  memset(&st, 0, sizeof st);
  HessaFileSetFailHook(NULL);
  PetscCall(HessaFileBegin(path, &file, &st));
  CHECK(file && !st.code, "begin failed: %s", st.msg);
  fprintf(HessaFileStream(file), "half");
  PetscCall(HessaFileAbort(&file));
  CHECK(!file, "abort did not null the handle");
  PetscCall(Read(path, buf, sizeof buf));
  CHECK(!strcmp(buf, "old\n") && !Exists(tmp), "an abort changed the file ('%s') or left a temporary", buf);

  /* 3: the second matching write fails */
  HessaFileSetFailHook("a.*@2");
  PetscCall(HessaWriteFileAtomic(path, "one\n", &st));
  CHECK(!st.code, "the first write should pass: %s", st.msg);
  PetscCall(HessaWriteFileAtomic(path, "two\n", &st));
  CHECK(st.code, "the second write should fail");
  PetscCall(Read(path, buf, sizeof buf));
  CHECK(!strcmp(buf, "one\n"), "content '%s', expected 'one'", buf);
  memset(&st, 0, sizeof st);

  /* 4: appends */
  HessaFileSetFailHook("a.txt@2");
  PetscCall(HessaFileAppend(path, "r1\n", &st));
  PetscCall(HessaFileAppend(path, "r2 a longer record\n", &st));
  CHECK(st.code, "the append should fail");
  PetscCall(Read(path, buf, sizeof buf));
  CHECK(!strcmp(buf, "one\nr1\n"), "after a failed append: '%s'", buf);
  memset(&st, 0, sizeof st);
  remove(path);
  HessaFileSetFailHook("a.txt");
  PetscCall(HessaFileAppend(path, "r0\n", &st));
  CHECK(st.code && !Exists(path), "a failed append to a new file left it behind");
  memset(&st, 0, sizeof st);
  HessaFileSetFailHook(NULL);

  /* 5 */
  {
    HessaText t = {0};
    char      line[32];
    size_t    expect = 0;
    for (int i = 0; i < 10000; i++) {
      HessaTextPrintf(&t, "line %d\n", i);
      expect += (size_t)snprintf(line, sizeof line, "line %d\n", i);
    }
    CHECK(!t.failed && t.len == expect && strlen(HessaTextString(&t)) == expect && !strcmp(t.data + t.len - 10, "line 9999\n"), "text buffer length %zu, expected %zu", t.len, expect);
    HessaTextFree(&t);
    CHECK(!strcmp(HessaTextString(&t), "") && !t.data, "free did not reset the buffer");
  }
  rmdir(dir);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
