/* hessa train (being built). */
#include "cli.h"

PetscErrorCode HessaCliTrain(void)
{
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_SUP, "hessa train: not built yet");
}
