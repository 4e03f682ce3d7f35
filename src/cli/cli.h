/* Subcommands of the hessa executable. Each is collective on PETSC_COMM_WORLD. */
#ifndef HESSA_CLI_H
#define HESSA_CLI_H
#include <hessa/core.h>

PetscErrorCode HessaCliRun(const char command[]);
PetscErrorCode HessaCliInfo(void);
#endif
