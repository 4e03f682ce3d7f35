/* hessa landscape (being built). */
#include "cli.h"

PetscErrorCode HessaCliLandscape(void)
{
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_SUP, "hessa landscape: not built yet");
}
