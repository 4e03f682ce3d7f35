/* Subcommand dispatch. */
#include "cli.h"
#include <hessa/report.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const struct {
  const char *name;
  PetscErrorCode (*run)(void);
} hessa_commands[] = {
    {"analyze", HessaCliAnalyze},     {"spectrum", HessaCliSpectrum}, {"check", HessaCliCheck}, {"info", HessaCliInfo},       {"train", HessaCliTrain},
    {"landscape", HessaCliLandscape}, {"study", HessaCliStudy},       {"hvp", HessaCliHvp},     {"compare", HessaCliCompare},
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
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "unknown command '%s' (expected one of: analyze, spectrum, check, info, train, landscape, study, hvp, compare; see hessa -help)", command);
}

/* Rank 0: FOLDER/info.json, the loss and gradient norm at the point for programs (hessa
 * compare -hessa_compare_loss reads it). Numbers are written with 17 significant digits,
 * so they read back to the same doubles; a non-finite one is null. */
static void WriteInfo(const char folder[], const HessaModel model, PetscInt n, PetscMPIInt size, double loss, double gnorm, HessaStatus *st)
{
  cJSON       *doc = cJSON_CreateObject();
  char         path[PETSC_MAX_PATH_LEN + 16], num[2][40], weights[PETSC_MAX_PATH_LEN] = "";
  char        *text;
  PetscBool    set;
  const double x[2] = {loss, gnorm};

  for (int k = 0; k < 2; k++) {
    if (isfinite(x[k]))
      snprintf(num[k], sizeof num[k], "%.17g", x[k]);
    else
      snprintf(num[k], sizeof num[k], "null");
  }
  (void)PetscOptionsGetString(NULL, NULL, "-hessa_model_weights", weights, sizeof weights, &set);
  cJSON_AddStringToObject(doc, "schema", "hessa-info");
  cJSON_AddNumberToObject(doc, "version", 1);
  cJSON_AddStringToObject(doc, "model", model->obj->description);
  cJSON_AddStringToObject(doc, "weights", weights);
  cJSON_AddNumberToObject(doc, "parameters", (double)n);
  cJSON_AddNumberToObject(doc, "samples", (double)model->obj->n_samples);
  cJSON_AddNumberToObject(doc, "ranks", (double)size);
  cJSON_AddRawToObject(doc, "loss", num[0]);
  cJSON_AddRawToObject(doc, "gradient_norm", num[1]);
  text = cJSON_Print(doc);
  snprintf(path, sizeof path, "%s/info.json", folder);
  if (text)
    (void)HessaWriteFileAtomic(path, text, st);
  else
    HessaStatusSet(st, PETSC_ERR_MEM, "info '%s': out of memory", path);
  free(text);
  cJSON_Delete(doc);
}

/* hessa info: load the data and the model, report them and their sharding, and the
 * loss and gradient norm at the point; with -hessa_info_output FOLDER also FOLDER/info.json
 * (schema hessa-info: loss, gradient_norm, parameters, samples, model, weights). Collective. */
PetscErrorCode HessaCliInfo(void)
{
  HessaData     data;
  HessaModel    model;
  HessaOperator op;
  Vec           grad;
  double        loss, gnorm;
  PetscMPIInt   size;
  PetscInt      lo, hi, *ranges;
  PetscBool     help, write = PETSC_FALSE;
  char          output[PETSC_MAX_PATH_LEN] = "";
  PetscMPIInt   rank;
  HessaStatus   st = {0};

  PetscFunctionBegin;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "hessa info options", NULL);
  PetscCall(PetscOptionsString("-hessa_info_output", "folder for info.json: the loss and gradient norm at the point, for programs (hessa compare -hessa_compare_loss)", "HessaCliInfo", output, output, sizeof output, &write));
  PetscOptionsEnd();
  PetscCall(HessaCliHelpRequested(&help));
  if (help) PetscCall(HessaCliSetUpOptionsHelp());
  if (help) PetscFunctionReturn(0);
  PetscCheck(!write || output[0], PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_info_output: expected a folder name, found no value");
  /* before any work: a folder that cannot be written fails the run at once */
  if (write) PetscCall(HessaReportCheckFolder(PETSC_COMM_WORLD, output));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
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
  if (write && rank == 0) WriteInfo(output, model, op->n, size, loss, gnorm, &st);
  PetscCall(HessaSyncError(PETSC_COMM_WORLD, &st));
  PetscCall(VecDestroy(&grad));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}
