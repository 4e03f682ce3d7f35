/* Subcommands of the hessa executable. Each is collective on PETSC_COMM_WORLD. */
#ifndef HESSA_CLI_H
#define HESSA_CLI_H
#include <hessa/operator.h>
#include <cJSON.h>

PetscErrorCode HessaCliRun(const char command[]);
PetscErrorCode HessaCliInfo(void);
PetscErrorCode HessaCliCheck(void);
PetscErrorCode HessaCliAnalyze(void);
PetscErrorCode HessaCliSpectrum(void);
PetscErrorCode HessaCliTrain(void);
PetscErrorCode HessaCliLandscape(void);
PetscErrorCode HessaCliStudy(void);
PetscErrorCode HessaCliHvp(void);
PetscErrorCode HessaCliCompare(void);

/* help.c: -help prints the options of a command without computing or writing anything */
PetscErrorCode HessaCliHelpRequested(PetscBool *help);
PetscErrorCode HessaCliSetUpOptionsHelp(void);

/* Random stream of hessa hvp's default direction ("hvp" in ASCII). */
#define HESSA_STREAM_HVP UINT64_C(0x6876700000000000)

#endif
