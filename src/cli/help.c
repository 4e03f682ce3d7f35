/* hessa -help and hessa COMMAND -help: the manual, with nothing computed and nothing
 * written. Each command reads its own options and then, in help mode, only the option
 * blocks of the objects it would set up (data, model, operator, eigensolver), each object
 * created and destroyed without loading data or touching the file system; PETSc prints
 * every option it is asked for, with its default. */
#include "cli.h"

/* HessaCliHelpRequested - not collective: is -help (or -h) in the options database? */
PetscErrorCode HessaCliHelpRequested(PetscBool *help)
{
  PetscFunctionBegin;
  PetscCall(PetscOptionsHasHelp(NULL, help));
  PetscFunctionReturn(0);
}

/* HessaCliSetUpOptionsHelp - collective on PETSC_COMM_WORLD: print the options of
 * HessaSetUpFromOptions (data, model, curvature operator) without loading anything.
 * Call only in help mode. */
PetscErrorCode HessaCliSetUpOptionsHelp(void)
{
  HessaData      data  = NULL;
  HessaModel     model = NULL;
  HessaObjective obj   = NULL;
  HessaOperator  op    = NULL;

  PetscFunctionBegin;
  PetscCall(HessaDataCreate(PETSC_COMM_WORLD, &data));
  PetscCall(HessaDataSetFromOptions(data));
  PetscCall(HessaModelCreate(PETSC_COMM_WORLD, data, &model));
  PetscCall(HessaModelSetFromOptions(model));
  /* an objective of one parameter stands in for the model: the operator reads only options */
  PetscCall(HessaObjectiveCreateEmpty("help", 1, &obj));
  PetscCall(HessaOperatorCreate(PETSC_COMM_WORLD, obj, &op));
  PetscCall(HessaOperatorSetFromOptions(op));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\nEigensolver options: -hessa_eps_* (any SLEPc -eps_* option with this prefix); Newton: -hessa_newton_ksp_*.\n"));
  PetscFunctionReturn(0);
}
