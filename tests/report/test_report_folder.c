/* Output-folder errors reach every rank with one clear message.
 * - HessaReportCheckFolder on "<regular file>/sub" fails on every rank with
 *   "output folder '...': cannot create: Not a directory";
 * - HessaReportWrite into the same place fails on every rank too (rank 0's fault);
 * - HessaReportWrite of a document that is not a hessa report fails on every rank;
 * - HessaWriteFileAtomic reports a missing folder in its status, naming the file;
 * - a nested folder that does not exist yet is created, and the probe file is gone.
 * Errors are caught with a handler that records the first message (PETSc's return
 * handler would lose it). */
#include <hessa/report.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

static char first_message[1024];

static PetscErrorCode RecordError(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  if (!first_message[0] && mess) snprintf(first_message, sizeof first_message, "%s", mess);
  return n;
}

static PetscErrorCode Run(void)
{
  PetscMPIInt    rank, size;
  PetscErrorCode code;
  char           file[64], bad[96], good[96], expect[256];
  cJSON         *doc = cJSON_CreateObject(), *verdict;
  DIR           *d;
  int            entries = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  snprintf(file, sizeof file, "folder_test_file_np%d", size);
  snprintf(bad, sizeof bad, "%s/sub", file);
  snprintf(good, sizeof good, "folder_test_ok_np%d/a/b", size);
  if (rank == 0) {
    FILE *f = fopen(file, "w");
    CHECK(f && fputs("not a folder\n", f) >= 0 && fclose(f) == 0, "cannot create %s", file);
    remove(good);
  }
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));

  snprintf(expect, sizeof expect, "output folder '%s': cannot create: Not a directory", bad);
  first_message[0] = 0;
  PetscCall(PetscPushErrorHandler(RecordError, NULL));
  code = HessaReportCheckFolder(PETSC_COMM_WORLD, bad);
  PetscCall(PetscPopErrorHandler());
  CHECK(code != 0, "rank %d: HessaReportCheckFolder accepted '%s'", rank, bad);
  CHECK(!strcmp(first_message, expect), "rank %d: message \"%s\", expected \"%s\"", rank, first_message, expect);

  cJSON_AddStringToObject(doc, "schema", "hessa-report");
  cJSON_AddNumberToObject(doc, "version", 1);
  verdict = cJSON_AddObjectToObject(doc, "verdict");
  cJSON_AddStringToObject(verdict, "type", "saddle");
  first_message[0] = 0;
  PetscCall(PetscPushErrorHandler(RecordError, NULL));
  code = HessaReportWrite(PETSC_COMM_WORLD, doc, bad);
  PetscCall(PetscPopErrorHandler());
  CHECK(code != 0, "rank %d: HessaReportWrite wrote into '%s'", rank, bad);
  CHECK(!strcmp(first_message, expect), "rank %d: message \"%s\", expected \"%s\"", rank, first_message, expect);

  /* a document that is not a hessa report: refused on every rank, nothing written */
  cJSON_ReplaceItemInObject(doc, "schema", cJSON_CreateString("something-else"));
  first_message[0] = 0;
  PetscCall(PetscPushErrorHandler(RecordError, NULL));
  code = HessaReportWrite(PETSC_COMM_WORLD, doc, good);
  PetscCall(PetscPopErrorHandler());
  CHECK(code != 0 && strstr(first_message, "\"schema\" must be \"hessa-report\""), "rank %d: a foreign document gave code %d, message \"%s\"", rank, (int)code, first_message);

  /* HessaWriteFileAtomic into a missing folder: a status naming the file, no error */
  if (rank == 0) {
    HessaStatus st = {0};
    char        path[128];
    snprintf(path, sizeof path, "%s/missing/x.txt", good);
    PetscCall(HessaWriteFileAtomic(path, "text", &st));
    CHECK(st.code != 0 && strstr(st.msg, path) && strstr(st.msg, "No such file or directory"), "atomic write into a missing folder: \"%s\"", st.msg);
  }

  PetscCall(HessaReportCheckFolder(PETSC_COMM_WORLD, good));
  CHECK((d = opendir(good)) != NULL, "'%s' was not created", good);
  for (struct dirent *e; (e = readdir(d));) entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  closedir(d);
  CHECK(entries == 0, "'%s' holds %d files after the check, expected none", good, entries);
  cJSON_Delete(doc);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
