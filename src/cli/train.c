/* hessa train: the model from the options, trained by the study layer's optimiser loop
 * (gd, sgd, adam; on the loss or on 1/2 |grad L|^2), with checkpoints, a training log and
 * graceful stop / -resume. See docs/training.md. */
#include "cli.h"
#include <hessa/study.h>

PetscErrorCode HessaCliTrain(void)
{
  HessaData     data;
  HessaModel    model;
  HessaOperator op;
  HessaTrainer  trainer;
  PetscBool     help;

  PetscFunctionBegin;
  /* the training options and the output folder first: a mistake there costs no data load */
  PetscCall(HessaTrainerCreate(PETSC_COMM_WORLD, &trainer));
  PetscCall(HessaTrainerSetFromOptions(trainer));
  PetscCall(HessaCliHelpRequested(&help));
  if (help) {
    PetscCall(HessaTrainerDestroy(&trainer));
    PetscCall(HessaCliSetUpOptionsHelp());
    PetscFunctionReturn(0);
  }
  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
  PetscCall(HessaTrainerSetModel(trainer, model, op));
  PetscCall(HessaTrainerSetUp(trainer));
  PetscCall(HessaTrainerRun(trainer));
  PetscCall(HessaTrainerDestroy(&trainer));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}
