/* Collective error handling.
 * mode "sync" (default): rank size-1 sets a status; HessaSyncError must raise the same
 *   error on every rank; we catch it (PetscPushErrorHandler(PetscReturnErrorHandler)) and
 *   check the code and that every rank got the failing rank's message.
 * The end-to-end behaviour (one message, non-zero exit on every rank, no hang) of the
 * hessa executable is tested by tests/bad-input. */
#include <hessa/core.h>
#include <string.h>

static PetscErrorCode Run(void)
{
  PetscMPIInt    rank, size;
  HessaStatus    st = {0};
  PetscErrorCode code;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  /* no status anywhere: no error */
  PetscCall(HessaSyncError(PETSC_COMM_WORLD, &st));
  if (rank == size - 1) HessaStatusSet(&st, HESSA_ERR_INPUT, "file 'x.npy': expected %d, found %d", 1, 2);
  HessaStatusSet(&st, HESSA_ERR_INPUT, "second message must not replace the first");
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  code = HessaSyncError(PETSC_COMM_WORLD, &st);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(code == HESSA_ERR_INPUT, PETSC_COMM_SELF, PETSC_ERR_PLIB, "rank %d: expected error code %d, got %d", rank, HESSA_ERR_INPUT, (int)code);
  if (rank == size - 1) PetscCheck(strstr(st.msg, "expected 1, found 2") != NULL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "first message was replaced: %s", st.msg);
  /* split ranges cover everything exactly once, including more ranks than items */
  for (PetscInt count = 0; count < 7; count++) {
    PetscInt next = 0;
    for (PetscMPIInt r = 0; r < 5; r++) {
      PetscInt first, local;
      HessaSplitRange(count, 5, r, &first, &local);
      PetscCheck(first == next && local >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "split of %" PetscInt_FMT " is not contiguous", count);
      next += local;
    }
    PetscCheck(next == count, PETSC_COMM_SELF, PETSC_ERR_PLIB, "split of %" PetscInt_FMT " covers %" PetscInt_FMT, count, next);
  }
  {
    uint64_t out;
    PetscCheck(!HessaSizeMul((uint64_t)1 << 40, (uint64_t)1 << 30, &out), PETSC_COMM_SELF, PETSC_ERR_PLIB, "2^70 must overflow");
    PetscCheck(HessaSizeMul(60000, 784, &out) && out == 47040000, PETSC_COMM_SELF, PETSC_ERR_PLIB, "60000*784 wrong");
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
