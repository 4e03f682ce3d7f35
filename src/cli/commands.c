/* Subcommand dispatch. */
#include "cli.h"

static const struct {
  const char *name;
  PetscErrorCode (*run)(void);
} hessa_commands[] = {
    {"analyze", HessaCliAnalyze}, {"spectrum", HessaCliSpectrum}, {"check", HessaCliCheck}, {"info", HessaCliInfo}, {"train", HessaCliTrain}, {"landscape", HessaCliLandscape}, {"study", HessaCliStudy}, {"hvp", HessaCliHvp},
};

/* HessaCliRun - collective: run one subcommand, then log the phase timers. */
PetscErrorCode HessaCliRun(const char command[])
{
  PetscFunctionBegin;
  for (size_t i = 0; i < sizeof hessa_commands / sizeof hessa_commands[0]; i++) {
    PetscBool match;
    PetscCall(PetscStrcmp(command, hessa_commands[i].name, &match));
    if (!match) continue;
    PetscCall(hessa_commands[i].run());
    PetscCall(HessaTimerLogAll(PETSC_COMM_WORLD));
    {
      /* an option no part of the run read is an error, not a silent default (a run
       * stopped on request may not have reached the phase that reads it: not checked) */
      PetscBool help;
      PetscCall(PetscOptionsHasHelp(NULL, &help));
      if (!help && !HessaStopWasStopped()) PetscCall(HessaOptionsCheckUnused(PETSC_COMM_WORLD, command));
    }
    PetscFunctionReturn(0);
  }
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "unknown command '%s' (expected one of: analyze, spectrum, check, info, train, landscape, study, hvp; see hessa -help)", command);
}

/* hessa info: load the data and the model, report them and their sharding, and the
 * loss and gradient norm at the point. Collective. */
PetscErrorCode HessaCliInfo(void)
{
  HessaData     data;
  HessaModel    model;
  HessaOperator op;
  Vec           grad;
  double        loss, gnorm;
  PetscMPIInt   size;
  PetscInt      lo, hi, *ranges;
  PetscBool     help;

  PetscFunctionBegin;
  PetscCall(HessaCliHelpRequested(&help));
  if (help) PetscCall(HessaCliSetUpOptionsHelp());
  if (help) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
  if (data->source != HESSA_DATA_NONE) PetscCall(HessaDataView(data));
  PetscCall(HessaLog(PETSC_COMM_WORLD, "model: %s", model->obj->description));
  for (PetscInt k = 0; k < model->obj->n_blocks; k++) {
    const HessaParamBlock *b = &model->obj->blocks[k];
    char                   shape[160];
    HessaParamBlockShapeString(b, shape, sizeof shape);
    PetscCall(HessaLog(PETSC_COMM_WORLD, "model:   %-20s %-16s offset %" PetscInt_FMT, b->name, shape, b->offset));
  }
  PetscCall(VecGetOwnershipRange(model->theta, &lo, &hi));
  PetscCall(PetscMalloc1(2 * size, &ranges));
  {
    PetscInt mine[2] = {lo, hi};
    PetscCallMPI(MPI_Gather(mine, 2, MPIU_INT, ranges, 2, MPIU_INT, 0, PETSC_COMM_WORLD));
  }
  PetscCall(HessaLog(PETSC_COMM_WORLD, "parameters: %" PetscInt_FMT " sharded over %d rank%s (operator size %" PetscInt_FMT ")", op->n, (int)size, size > 1 ? "s" : "", op->n_op));
  for (PetscMPIInt r = 0; r < size && r < 16; r++) PetscCall(HessaLog(PETSC_COMM_WORLD, "parameters:   rank %d: [%" PetscInt_FMT ", %" PetscInt_FMT ")", (int)r, ranges[2 * r], ranges[2 * r + 1]));
  PetscCall(PetscFree(ranges));
  PetscCall(HessaOperatorCreateParameterVec(op, &grad));
  PetscCall(HessaOperatorGradient(op, &loss, grad));
  PetscCall(VecNorm(grad, NORM_2, &gnorm));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s\n  n = %" PetscInt_FMT " parameters, %" PetscInt_FMT " samples, %d ranks\n  loss %.12g, |gradient| %.12g\n", model->obj->description, op->n, model->obj->n_samples, (int)size, loss, gnorm));
  PetscCall(VecDestroy(&grad));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}
