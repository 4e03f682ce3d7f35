/* hessa study (being built). */
#include "cli.h"

PetscErrorCode HessaCliStudy(void)
{
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_SUP, "hessa study: not built yet");
}
