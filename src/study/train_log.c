/* hessa study: the training log (train_log.csv, one row per step, appended whole as the
 * run goes), the run summary train.json and the loss/gradient plot, all written by rank 0
 * through the core's atomic files.
 */
#include "train_impl.h"
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_NAME "train_log.csv"
#define SUMMARY_NAME "train.json"

/* Collective: a fresh log (header only), or on resume the log cut to the steps before the
 * checkpoint, so that every step appears once even after a kill between checkpoints. */
PetscErrorCode HessaTrainLogStart(HessaTrainer tr)
{
  PetscMPIInt rank;
  HessaStatus st = {0};
  char        path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", tr->output, LOG_NAME));
  if (rank == 0) {
    char     *text, line[512];
    HessaText header = {0};
    size_t    len, cap = 1 << 16;
    FILE     *f = tr->resume ? fopen(path, "r") : NULL;
    HessaCSVTrainLogHeader(&header); /* the table's format is the report layer's */
    PetscCheck(!header.failed, PETSC_COMM_SELF, PETSC_ERR_MEM, "train_log.csv: out of memory");
    len = header.len;
    PetscCall(PetscMalloc1(cap, &text));
    PetscCall(PetscStrcpy(text, header.data));
    HessaTextFree(&header);
    while (f && fgets(line, sizeof line, f)) {
      long   step;
      size_t l = strlen(line);
      if (sscanf(line, "%ld,", &step) != 1 || step >= tr->step) continue; /* the header, or a step to redo */
      if (len + l + 1 > cap) {
        char *bigger;
        PetscCall(PetscMalloc1(2 * cap, &bigger));
        PetscCall(PetscArraycpy(bigger, text, len + 1));
        PetscCall(PetscFree(text));
        text = bigger, cap *= 2;
      }
      PetscCall(PetscArraycpy(text + len, line, l + 1));
      len += l;
    }
    if (f) fclose(f);
    PetscCall(HessaWriteFileAtomic(path, text, &st));
    PetscCall(PetscFree(text));
  }
  PetscCall(HessaSyncError(tr->comm, &st));
  PetscFunctionReturn(0);
}

/* Collective: append one row (rank 0), whole and fsync'd, so a killed run keeps it. */
PetscErrorCode HessaTrainLogAppend(HessaTrainer tr, double lambda_max)
{
  PetscMPIInt rank;
  HessaStatus st = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
  if (rank == 0) {
    char      path[PETSC_MAX_PATH_LEN];
    HessaText row = {0};
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", tr->output, LOG_NAME));
    HessaCSVTrainLogRow(&row, tr->step, tr->loss, tr->gradient_norm, lambda_max);
    if (row.failed)
      HessaStatusSet(&st, PETSC_ERR_MEM, "%s: out of memory", path);
    else
      PetscCall(HessaFileAppend(path, row.data, &st));
    HessaTextFree(&row);
  }
  PetscCall(HessaSyncError(tr->comm, &st));
  PetscFunctionReturn(0);
}

/* Not collective (rank 0): loss, |g| and (when recorded) lambda_max against step from the
 * whole log, on a log axis when all are positive, else a symmetric-log axis. */
static PetscErrorCode HessaTrainLogPlot(HessaTrainer tr, HessaStatus *st)
{
  char      path[PETSC_MAX_PATH_LEN], line[512], note[256] = "";
  FILE     *f;
  double   *x, *loss, *gnorm, *lx, *lambda;
  int       n = 0, n_lambda = 0, cap = 1024;
  PetscBool positive = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", tr->output, LOG_NAME));
  f = fopen(path, "r");
  if (!f) PetscFunctionReturn(0);
  PetscCall(PetscMalloc5(cap, &x, cap, &loss, cap, &gnorm, cap, &lx, cap, &lambda));
  while (fgets(line, sizeof line, f)) {
    double s, l, g, lam;
    int    k;
    if (sscanf(line, "%lf,%lf,%lf%n", &s, &l, &g, &k) != 3) continue;
    if (n == cap) {
      double *x2, *l2, *g2, *lx2, *lam2;
      PetscCall(PetscMalloc5(2 * cap, &x2, 2 * cap, &l2, 2 * cap, &g2, 2 * cap, &lx2, 2 * cap, &lam2));
      PetscCall(PetscArraycpy(x2, x, n));
      PetscCall(PetscArraycpy(l2, loss, n));
      PetscCall(PetscArraycpy(g2, gnorm, n));
      PetscCall(PetscArraycpy(lx2, lx, n_lambda));
      PetscCall(PetscArraycpy(lam2, lambda, n_lambda));
      PetscCall(PetscFree5(x, loss, gnorm, lx, lambda));
      x = x2, loss = l2, gnorm = g2, lx = lx2, lambda = lam2, cap *= 2;
    }
    x[n] = s, loss[n] = l, gnorm[n] = g;
    if (!(l > 0) || !(g > 0)) positive = PETSC_FALSE;
    n++;
    /* the lambda_max column is empty on steps where it was not computed */
    if (sscanf(line + k, ",%lf", &lam) == 1 && isfinite(lam)) {
      lx[n_lambda] = s, lambda[n_lambda++] = lam;
      if (!(lam > 0)) positive = PETSC_FALSE;
    }
  }
  fclose(f);
  {
    HessaPlotSeries series[3] = {
        {x, loss, n, "loss", PETSC_FALSE, PETSC_TRUE},
        {x, gnorm, n, "|gradient|", PETSC_FALSE, PETSC_TRUE},
        {lx, lambda, n_lambda, "#gl#dmax#u (Hessian)", PETSC_TRUE, PETSC_TRUE},
    };
    HessaPlotColor color[3] = {HESSA_PLOT_COLOR_BLUE, HESSA_PLOT_COLOR_ORANGE, HESSA_PLOT_COLOR_RED};
    HessaPlotXYScaled(tr->output, "train_log", n_lambda ? "Training: loss, gradient norm and largest Hessian eigenvalue" : "Training: loss and gradient norm", "step", n_lambda ? "loss, |gradient|, #gl#dmax#u" : "loss, |gradient|",
                      HESSA_PLOT_AXIS_LINEAR, positive ? HESSA_PLOT_AXIS_LOG : HESSA_PLOT_AXIS_SYMLOG, n_lambda ? 3 : 2, series, color, note, sizeof note, st);
  }
  PetscCall(PetscFree5(x, loss, gnorm, lx, lambda));
  PetscFunctionReturn(0);
}

/* Collective: rank 0 writes train.json (atomically) and, at the end of a run, the plot. */
PetscErrorCode HessaTrainWriteSummary(HessaTrainer tr, PetscBool plot)
{
  PetscMPIInt rank;
  HessaStatus st = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
  if (rank == 0) {
    cJSON   *doc = cJSON_CreateObject(), *opt = cJSON_CreateObject(), *list = cJSON_CreateArray();
    char     path[PETSC_MAX_PATH_LEN], final_json[PETSC_MAX_PATH_LEN + 16], *text;
    PetscInt count, *steps;

    cJSON_AddStringToObject(doc, "format", "hessa-train");
    cJSON_AddNumberToObject(doc, "version", 1);
    cJSON_AddStringToObject(doc, "method", HessaTrainMethodName(tr->method));
    cJSON_AddStringToObject(doc, "objective", HessaTrainObjectiveName(tr->objective));
    cJSON_AddStringToObject(doc, "model", tr->model->obj->description);
    cJSON_AddNumberToObject(opt, "lr", tr->lr);
    if (tr->method == HESSA_TRAIN_SGD) cJSON_AddNumberToObject(opt, "momentum", tr->momentum);
    if (tr->method == HESSA_TRAIN_ADAM) {
      cJSON_AddNumberToObject(opt, "beta1", tr->beta1);
      cJSON_AddNumberToObject(opt, "beta2", tr->beta2);
      cJSON_AddNumberToObject(opt, "eps", tr->eps);
    }
    if (tr->method == HESSA_TRAIN_GD || tr->method == HESSA_TRAIN_SGD || tr->method == HESSA_TRAIN_ADAM) cJSON_AddNumberToObject(opt, "weight_decay", tr->weight_decay);
    if (tr->method == HESSA_TRAIN_SGD || tr->method == HESSA_TRAIN_ADAM) cJSON_AddNumberToObject(opt, "batch", (double)tr->batch);
    cJSON_AddNumberToObject(opt, "steps", (double)tr->steps);
    cJSON_AddNumberToObject(opt, "gtol", tr->gtol);
    cJSON_AddNumberToObject(opt, "seed", (double)tr->seed);
    cJSON_AddNumberToObject(opt, "checkpoint_every", (double)tr->checkpoint_every);
    cJSON_AddNumberToObject(opt, "lambda_every", (double)tr->lambda_every);
    cJSON_AddNumberToObject(opt, "max_steps_per_run", (double)tr->max_steps_per_run);
    cJSON_AddItemToObject(doc, "options", opt);
    cJSON_AddNumberToObject(doc, "steps_done", (double)tr->step);
    cJSON_AddNumberToObject(doc, "run_started_at_step", (double)tr->start_step);
    /* loss and |g| of the last logged step (a stopped run has not evaluated the current one) */
    if (isfinite(tr->loss))
      cJSON_AddNumberToObject(doc, "final_loss", tr->loss);
    else
      cJSON_AddNullToObject(doc, "final_loss");
    if (isfinite(tr->gradient_norm))
      cJSON_AddNumberToObject(doc, "final_gradient_norm", tr->gradient_norm);
    else
      cJSON_AddNullToObject(doc, "final_gradient_norm");
    cJSON_AddBoolToObject(doc, "converged", tr->converged);
    cJSON_AddBoolToObject(doc, "stopped", tr->stopped);
    PetscCall(PetscMalloc1(HESSA_TRAIN_MAX_CHECKPOINTS, &steps));
    PetscCall(HessaTrainListCheckpoints(tr, steps, &count));
    for (PetscInt i = 0; i < count; i++) {
      char name[32];
      PetscCall(PetscSNPrintf(name, sizeof name, "step-%06" PetscInt_FMT, steps[i]));
      cJSON_AddItemToArray(list, cJSON_CreateString(name));
    }
    PetscCall(PetscFree(steps));
    PetscCall(PetscSNPrintf(final_json, sizeof final_json, "%s/final/model.json", tr->output));
    if (HessaTrainFileExists(final_json)) cJSON_AddItemToArray(list, cJSON_CreateString("final"));
    cJSON_AddItemToObject(doc, "checkpoints", list);
    text = cJSON_Print(doc);
    cJSON_Delete(doc);
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", tr->output, SUMMARY_NAME));
    if (!text)
      HessaStatusSet(&st, PETSC_ERR_MEM, "%s: out of memory", path);
    else
      PetscCall(HessaWriteFileAtomic(path, text, &st));
    free(text);
    if (plot && !st.code) PetscCall(HessaTrainLogPlot(tr, &st));
  }
  PetscCall(HessaSyncError(tr->comm, &st));
  PetscFunctionReturn(0);
}
