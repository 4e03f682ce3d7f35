#include "cli.h"
#include <hessa/data.h>

PetscErrorCode HessaCliRun(const char command[])
{
  PetscBool match;

  PetscFunctionBegin;
  PetscCall(PetscStrcmp(command, "info", &match));
  if (match) {
    PetscCall(HessaCliInfo());
    PetscFunctionReturn(0);
  }
  PetscCall(PetscStrcmp(command, "check", &match));
  if (match) {
    PetscCall(HessaCliCheck());
    PetscFunctionReturn(0);
  }
  PetscCall(PetscStrcmp(command, "spectrum", &match));
  if (match) {
    PetscCall(HessaCliSpectrum());
    PetscFunctionReturn(0);
  }
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "unknown command '%s' (expected one of: info, check, spectrum, analyze; see hessa -help)", command);
}

/* hessa info: load the data, report it and its sharding. */
PetscErrorCode HessaCliInfo(void)
{
  HessaData data;

  PetscFunctionBegin;
  PetscCall(HessaDataCreate(PETSC_COMM_WORLD, &data));
  PetscCall(HessaDataSetFromOptions(data));
  PetscCall(HessaDataLoad(data));
  PetscCall(HessaDataView(data));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}
