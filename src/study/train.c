/* hessa study: the training loop. Gradient descent, SGD with momentum, Adam, Newton-MINRES
 * and Levenberg-Marquardt on the loss or on 1/2 |grad L|^2, and a graceful stop that a later
 * -resume continues bitwise (docs/training.md). Checkpoints live in checkpoint.c, the
 * training log, train.json and the plot in train_log.c.
 */
#include "train_impl.h"
#include <petscksp.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const method_names[]    = {"gd", "sgd", "adam", "newton", "lm", NULL};
static const char *const objective_names[] = {"loss", "gradnorm", NULL};

const char *HessaTrainMethodName(HessaTrainMethod method)
{
  return method_names[method];
}

/* Not collective: "loss" or "gradnorm". */
const char *HessaTrainObjectiveName(HessaTrainObjective objective)
{
  return objective_names[objective];
}

PetscErrorCode HessaTrainerCreate(MPI_Comm comm, HessaTrainer *tr)
{
  HessaTrainer t;

  PetscFunctionBegin;
  PetscCall(PetscNew(&t));
  t->comm             = comm;
  t->method           = HESSA_TRAIN_GD;
  t->damping          = 1e-2;
  t->objective        = HESSA_TRAIN_LOSS;
  t->lr               = 0.1;
  t->momentum         = 0.9;
  t->beta1            = 0.9;
  t->beta2            = 0.999;
  t->eps              = 1e-8;
  t->gtol             = 0;
  t->steps            = 100;
  t->batch            = 64;
  t->seed             = 1;
  t->checkpoint_every = 100;
  t->lambda_every     = 0;
  t->loss             = NAN;
  t->gradient_norm    = NAN;
  PetscCall(PetscStrncpy(t->output, "hessa-train", sizeof t->output));
  *tr = t;
  PetscFunctionReturn(0);
}

/* Index of name in a NULL-terminated table, -1 if absent. */
static PetscInt NameIndex(const char *const table[], const char name[])
{
  for (PetscInt i = 0; table[i]; i++)
    if (!strcmp(table[i], name)) return i;
  return -1;
}

PetscErrorCode HessaTrainerSetFromOptions(HessaTrainer tr)
{
  char      method[32], objective[32];
  PetscInt  im, io;
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(method, method_names[tr->method], sizeof method));
  PetscCall(PetscStrncpy(objective, objective_names[tr->objective], sizeof objective));
  PetscOptionsBegin(tr->comm, NULL, "hessa train options", NULL);
  PetscCall(PetscOptionsString("-hessa_train_method",
                               "optimiser: gd (full batch), sgd (momentum, mini-batches), adam (mini-batches), newton (Newton-MINRES steps -H^-1 g with backtracking on |g|) or lm (Levenberg-Marquardt on 1/2 |g|^2: (H^2 + mu I) d = H g); newton and "
                               "lm find critical points, saddles included",
                               "HessaTrainerRun", method, method, sizeof method, NULL));
  PetscCall(PetscOptionsString("-hessa_train_objective", "what is minimised: loss, or gradnorm (1/2 |grad L|^2, finds critical points)", "HessaTrainerRun", objective, objective, sizeof objective, NULL));
  PetscCall(PetscOptionsReal("-hessa_train_lr", "learning rate", "HessaTrainerRun", tr->lr, &tr->lr, NULL));
  PetscCall(PetscOptionsReal("-hessa_train_momentum", "sgd: momentum mu (v <- mu v + g)", "HessaTrainerRun", tr->momentum, &tr->momentum, NULL));
  PetscCall(PetscOptionsReal("-hessa_train_beta1", "adam: decay of the first moment", "HessaTrainerRun", tr->beta1, &tr->beta1, NULL));
  PetscCall(PetscOptionsReal("-hessa_train_beta2", "adam: decay of the second moment", "HessaTrainerRun", tr->beta2, &tr->beta2, NULL));
  PetscCall(PetscOptionsReal("-hessa_train_weight_decay", "gd, sgd and adam: decoupled weight decay W, theta <- theta - lr W theta before each update (adam: AdamW); the trained objective stays the loss (an L2 term in it is -hessa_onnx_weight_decay)",
                             "HessaTrainerRun", tr->weight_decay, &tr->weight_decay, NULL));
  PetscCall(PetscOptionsReal("-hessa_train_eps", "adam: added to sqrt(second moment)", "HessaTrainerRun", tr->eps, &tr->eps, NULL));
  PetscCall(PetscOptionsInt("-hessa_train_batch", "sgd and adam: samples per mini-batch (>= the sample count: full batch)", "HessaTrainerRun", tr->batch, &tr->batch, NULL));
  PetscCall(PetscOptionsInt("-hessa_train_steps", "number of updates (over all runs of a resumed training)", "HessaTrainerRun", tr->steps, &tr->steps, NULL));
  PetscCall(PetscOptionsReal("-hessa_train_gtol", "stop when the full-data |grad L| is at most this", "HessaTrainerRun", tr->gtol, &tr->gtol, NULL));
  PetscCall(PetscOptionsInt("-hessa_train_seed", "seed of the mini-batch stream", "HessaTrainerRun", tr->seed, &tr->seed, NULL));
  PetscCall(PetscOptionsString("-hessa_train_output", "output folder: checkpoints, train_log.csv, train.json, plots", "HessaTrainerRun", tr->output, tr->output, sizeof tr->output, NULL));
  PetscCall(PetscOptionsInt("-hessa_train_checkpoint_every", "write a checkpoint every k steps (0: only on stop and at the end)", "HessaTrainerRun", tr->checkpoint_every, &tr->checkpoint_every, NULL));
  PetscCall(PetscOptionsInt("-hessa_train_lambda_every", "log the largest Hessian eigenvalue every k steps (0: never)", "HessaTrainerRun", tr->lambda_every, &tr->lambda_every, NULL));
  PetscCall(PetscOptionsInt("-hessa_train_max_steps_per_run", "stop gracefully after this many updates of this run, as if signalled (0: no limit)", "HessaTrainerRun", tr->max_steps_per_run, &tr->max_steps_per_run, NULL));
  PetscCall(PetscOptionsBool("-resume", "continue from the newest checkpoint in the output folder, with its optimiser state", "HessaTrainerSetUp", tr->resume, &tr->resume, NULL));
  PetscOptionsEnd();
  im = NameIndex(method_names, method);
  io = NameIndex(objective_names, objective);
  PetscCheck(im >= 0, tr->comm, HESSA_ERR_ARG, "-hessa_train_method: unknown method '%s' (expected gd, sgd, adam, newton or lm)", method);
  PetscCheck(io >= 0, tr->comm, HESSA_ERR_ARG, "-hessa_train_objective: unknown objective '%s' (expected loss or gradnorm)", objective);
  tr->method    = (HessaTrainMethod)im;
  tr->objective = (HessaTrainObjective)io;
  PetscCheck(tr->lr > 0 && isfinite(tr->lr), tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_lr must be positive, found %g", (double)tr->lr);
  PetscCheck(tr->momentum >= 0 && tr->momentum < 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_momentum must be in [0, 1), found %g", (double)tr->momentum);
  PetscCheck(tr->beta1 >= 0 && tr->beta1 < 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_beta1 must be in [0, 1), found %g", (double)tr->beta1);
  PetscCheck(tr->beta2 >= 0 && tr->beta2 < 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_beta2 must be in [0, 1), found %g", (double)tr->beta2);
  PetscCheck(tr->weight_decay >= 0 && isfinite(tr->weight_decay), tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_weight_decay must be finite and >= 0, found %g", (double)tr->weight_decay);
  PetscCheck(tr->lr * tr->weight_decay < 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_weight_decay %g with -hessa_train_lr %g: lr x weight decay must be below 1 (each step multiplies theta by 1 - lr x weight decay), found %g",
             (double)tr->weight_decay, (double)tr->lr, (double)(tr->lr * tr->weight_decay));
  PetscCheck(tr->weight_decay == 0 || tr->method == HESSA_TRAIN_GD || tr->method == HESSA_TRAIN_SGD || tr->method == HESSA_TRAIN_ADAM, tr->comm, PETSC_ERR_ARG_INCOMP,
             "-hessa_train_weight_decay applies to the methods gd, sgd and adam, not to %s (which look for critical points of the loss itself)", method_names[tr->method]);
  PetscCheck(tr->eps > 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_eps must be positive, found %g", (double)tr->eps);
  PetscCheck(tr->batch >= 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_batch must be at least 1, found %" PetscInt_FMT, tr->batch);
  PetscCheck(tr->steps >= 0 && tr->steps < 1000000, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_steps must be in [0, 999999], found %" PetscInt_FMT, tr->steps);
  PetscCheck(tr->gtol >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_gtol must be >= 0, found %g", (double)tr->gtol);
  PetscCheck(tr->checkpoint_every >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_checkpoint_every must be >= 0, found %" PetscInt_FMT, tr->checkpoint_every);
  PetscCheck(tr->lambda_every >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_lambda_every must be >= 0, found %" PetscInt_FMT, tr->lambda_every);
  PetscCheck(tr->max_steps_per_run >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_train_max_steps_per_run must be >= 0, found %" PetscInt_FMT, tr->max_steps_per_run);
  /* here rather than in SetUp, so that a bad folder fails before any data are loaded;
     -help prints the options and writes nothing */
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (!help) PetscCall(HessaReportCheckFolder(tr->comm, tr->output));
  PetscFunctionReturn(0);
}

/* HessaTrainerSetModel - not collective: the model and the operator to train (not owned). */
PetscErrorCode HessaTrainerSetModel(HessaTrainer tr, HessaModel model, HessaOperator op)
{
  PetscFunctionBegin;
  tr->model = model;
  tr->op    = op;
  PetscFunctionReturn(0);
}

/* HessaTrainerSetUp - collective: start afresh (refusing an output folder that holds
 * checkpoints already) or resume from its newest checkpoint. */
PetscErrorCode HessaTrainerSetUp(HessaTrainer tr)
{
  PetscInt newest, count;

  PetscFunctionBegin;
  PetscCheck((tr->objective != HESSA_TRAIN_GRADNORM && tr->method != HESSA_TRAIN_NEWTON && tr->method != HESSA_TRAIN_LM) || (tr->op->n_op == tr->op->n && tr->op->curvature == HESSA_CURVATURE_HESSIAN), tr->comm, PETSC_ERR_ARG_INCOMP,
             "-hessa_train_objective gradnorm and -hessa_train_method newton/lm need the Hessian on all parameters (H g, H^-1 g): drop -hessa_operator_subset and -hessa_operator ggn");
  PetscCheck(tr->model && tr->op, tr->comm, PETSC_ERR_ORDER, "HessaTrainerSetModel must come before HessaTrainerSetUp");
  PetscCall(VecDuplicate(tr->model->theta, &tr->theta));
  PetscCall(VecCopy(tr->model->theta, tr->theta));
  PetscCall(VecDuplicate(tr->theta, &tr->first_moment));
  PetscCall(VecDuplicate(tr->theta, &tr->second_moment));
  PetscCall(VecZeroEntries(tr->first_moment));
  PetscCall(VecZeroEntries(tr->second_moment));
  PetscCall(HessaTrainNewestCheckpoint(tr, &newest, &count));
  if (tr->resume) {
    PetscCheck(newest >= 0, tr->comm, HESSA_ERR_INPUT, "-resume: no checkpoint in output folder '%s' (expected a folder step-NNNNNN with model.json and its step-NNNNNN.state.npy); run without -resume to start training", tr->output);
    PetscCall(HessaTrainLoadCheckpoint(tr, newest));
    PetscCall(HessaLog(tr->comm, "train: resuming from %s/step-%06" PetscInt_FMT, tr->output, newest));
  } else {
    PetscCheck(count == 0, tr->comm, HESSA_ERR_ARG, "output folder '%s' already holds %" PetscInt_FMT " checkpoint%s (newest step-%06" PetscInt_FMT "): pass -resume to continue that training, or choose another -hessa_train_output", tr->output, count,
               count > 1 ? "s" : "", newest);
  }
  tr->start_step = tr->step;
  PetscCall(HessaTrainLogStart(tr));
  PetscFunctionReturn(0);
}

/* ---- one step ---- */

/* Not collective: the B distinct global sample indices of step `step`, ascending. A partial
 * Fisher-Yates shuffle of 0..N-1 driven by entries step*N + j of the batch stream: every rank
 * draws the same batch whatever the rank count. work holds N entries. */
static PetscErrorCode BatchIndices(HessaTrainer tr, PetscInt N, PetscInt B, PetscInt *work)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < N; i++) work[i] = i;
  for (PetscInt j = 0; j < B; j++) {
    double   u = HessaRandomUniform((uint64_t)tr->seed, HESSA_STREAM_TRAIN_BATCH, (uint64_t)tr->step * (uint64_t)N + (uint64_t)j);
    PetscInt r = j + (PetscInt)(u * (double)(N - j)), swap;
    if (r >= N) r = N - 1;
    swap = work[j], work[j] = work[r], work[r] = swap;
  }
  PetscCall(PetscSortInt(B, work));
  PetscFunctionReturn(0);
}

/* Not collective: a shard holding copies of this rank's samples of the batch, with
 * n_global = B, so an MLP objective on it sums over them and the operator divides by B. */
static PetscErrorCode BatchShard(HessaData full, PetscInt B, const PetscInt *batch, HessaData *shard)
{
  HessaData s;
  PetscInt  lo = full->first, hi = full->first + full->n_local, k = 0, f = full->n_features, t = full->n_targets;

  PetscFunctionBegin;
  PetscCall(PetscNew(&s));
  *s   = *full;                                                                      /* description, task, sizes; the buffers are replaced below */
  s->x = NULL, s->labels = NULL, s->y = NULL, s->targets = NULL, s->n_predicted = 0; /* next-token: summed over ranks by the caller */
  for (PetscInt j = 0; j < B; j++)
    if (batch[j] >= lo && batch[j] < hi) k++;
  s->n_global = B;
  s->n_local  = k;
  if (k > 0) {
    /* malloc'd, as HessaDataDestroy frees them with free() */
    s->x = malloc((size_t)k * f * sizeof(double));
    if (full->labels) s->labels = malloc((size_t)k * sizeof(int));
    if (full->y) s->y = malloc((size_t)k * t * sizeof(double));
    if (full->targets) s->targets = malloc((size_t)k * f * sizeof(int));
    PetscCheck(s->x && (!full->labels || s->labels) && (!full->y || s->y) && (!full->targets || s->targets), PETSC_COMM_SELF, PETSC_ERR_MEM, "mini-batch of %" PetscInt_FMT " samples: out of memory", k);
    k = 0;
    for (PetscInt j = 0; j < B; j++) {
      PetscInt i = batch[j] - lo;
      if (batch[j] < lo || batch[j] >= hi) continue;
      PetscCall(PetscArraycpy(s->x + (size_t)k * f, full->x + (size_t)i * f, f));
      if (s->labels) s->labels[k] = full->labels[i];
      if (s->y) PetscCall(PetscArraycpy(s->y + (size_t)k * t, full->y + (size_t)i * t, t));
      if (s->targets)
        for (PetscInt p = 0; p < f; p++) s->n_predicted += (s->targets[(size_t)k * f + p] = full->targets[(size_t)i * f + p]) >= 0;
      k++;
    }
  }
  *shard = s;
  PetscFunctionReturn(0);
}

/* Collective: loss and gradient g at theta on the given operator (whose point is set here),
 * and the gradient of the minimised objective in dir: g, or H g for gradnorm. */
static PetscErrorCode ObjectiveGradient(HessaTrainer tr, HessaOperator op, double *loss, Vec grad, Vec dir)
{
  PetscFunctionBegin;
  PetscCall(HessaOperatorSetPoint(op, tr->theta));
  PetscCall(HessaOperatorGradient(op, loss, grad));
  if (tr->objective == HESSA_TRAIN_GRADNORM)
    PetscCall(HessaOperatorApply(op, grad, dir));
  else
    PetscCall(VecCopy(grad, dir));
  PetscFunctionReturn(0);
}

/* Collective: the direction of a stochastic step from the mini-batch of this step: an MLP
 * or ONNX objective and an operator on a shard of the batch's samples (built per step,
 * because the batch's local sample count changes; an ONNX graph is read again, which costs
 * little next to the step for the small graphs hessa analyses). */
static PetscErrorCode BatchDirection(HessaTrainer tr, Vec dir)
{
  HessaData      full = tr->model->data, shard;
  HessaObjective obj;
  HessaOperator  op;
  PetscInt      *work;
  Vec            grad;
  double         batch_loss;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(full->n_global, &work));
  PetscCall(BatchIndices(tr, full->n_global, tr->batch, work));
  PetscCall(BatchShard(full, tr->batch, work, &shard));
  PetscCall(PetscFree(work));
  if (full->targets || full->n_predicted) {
    PetscInt local = shard->n_predicted;
    PetscCallMPI(MPI_Allreduce(&local, &shard->n_predicted, 1, MPIU_INT, MPI_SUM, tr->comm));
    PetscCheck(shard->n_predicted > 0, tr->comm, HESSA_ERR_INPUT, "mini-batch of step %" PetscInt_FMT ": its %" PetscInt_FMT " sequences have no predicted position (every target masked); use a larger -hessa_train_batch", tr->step, tr->batch);
  }
  if (!strcmp(tr->model->obj->type, "onnx")) {
    HessaONNXArch arch;
    HessaStatus   st = {0};
    PetscCall(HessaONNXGetArch(tr->model->obj, &arch));
    PetscCall(HessaONNXCreate(&arch, shard, &obj, NULL, &st));
    PetscCall(HessaSyncError(tr->comm, &st));
  } else {
    HessaMLPArch arch;
    PetscCall(HessaMLPGetArch(tr->model->obj, &arch));
    PetscCall(HessaMLPCreate(&arch, shard, &obj));
  }
  PetscCall(HessaOperatorCreate(tr->comm, obj, &op));
  PetscCall(HessaOperatorSetUp(op));
  PetscCall(VecDuplicate(dir, &grad));
  PetscCall(ObjectiveGradient(tr, op, &batch_loss, grad, dir));
  PetscCall(VecDestroy(&grad));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscCall(HessaDataDestroy(&shard));
  PetscFunctionReturn(0);
}

/* Not collective: one optimiser update of the owned slice with direction d (PyTorch's
 * formulas: SGD v <- mu v + d, theta <- theta - lr v; Adam with bias correction). A weight
 * decay W shrinks theta by lr W first, as torch.optim.AdamW does (decoupled: the moments
 * see only d; for gd it equals an L2 term W/2 |theta|^2 in the objective). */
static PetscErrorCode Update(HessaTrainer tr, Vec dir)
{
  PetscInt      len;
  double       *x, *m, *v;
  const double *d;
  double        lr = tr->lr;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(tr->theta, &len));
  PetscCall(VecGetArray(tr->theta, &x));
  PetscCall(VecGetArray(tr->first_moment, &m));
  PetscCall(VecGetArray(tr->second_moment, &v));
  PetscCall(VecGetArrayRead(dir, &d));
  if (tr->weight_decay > 0 && (tr->method == HESSA_TRAIN_GD || tr->method == HESSA_TRAIN_SGD || tr->method == HESSA_TRAIN_ADAM)) {
    double shrink = 1.0 - lr * tr->weight_decay;
    for (PetscInt i = 0; i < len; i++) x[i] *= shrink;
  }
  switch (tr->method) {
  case HESSA_TRAIN_GD:
    for (PetscInt i = 0; i < len; i++) x[i] -= lr * d[i];
    break;
  case HESSA_TRAIN_SGD:
    for (PetscInt i = 0; i < len; i++) {
      m[i] = tr->momentum * m[i] + d[i];
      x[i] -= lr * m[i];
    }
    break;
  case HESSA_TRAIN_ADAM: {
    double t = (double)(tr->step + 1), b1 = tr->beta1, b2 = tr->beta2;
    double step_size = lr / (1.0 - pow(b1, t)), correction2 = sqrt(1.0 - pow(b2, t));
    for (PetscInt i = 0; i < len; i++) {
      m[i] = b1 * m[i] + (1.0 - b1) * d[i];
      v[i] = b2 * v[i] + (1.0 - b2) * d[i] * d[i];
      x[i] -= step_size * m[i] / (sqrt(v[i]) / correction2 + tr->eps);
    }
  } break;
  case HESSA_TRAIN_NEWTON: /* NewtonStep and LMStep move theta themselves */
  case HESSA_TRAIN_LM:
    break;
  }
  PetscCall(VecRestoreArrayRead(dir, &d));
  PetscCall(VecRestoreArray(tr->second_moment, &v));
  PetscCall(VecRestoreArray(tr->first_moment, &m));
  PetscCall(VecRestoreArray(tr->theta, &x));
  PetscFunctionReturn(0);
}

/* Collective: a damped Newton step for g = 0 (either objective): d solves H d = g by MINRES
 * (H is indefinite near saddles; -hessa_train_newton_ksp_* options), then theta - t d with
 * the largest t in 1, 1/2, ..., 2^-30 that lowers |g|. Newton is attracted to every
 * critical point (background.md 6), which is what finding saddles needs. Sets *stalled
 * when no t lowers |g| (theta is then unchanged). The operator's point must be theta. */
static PetscErrorCode NewtonStep(HessaTrainer tr, Vec grad, Vec dir, PetscBool *stalled)
{
  KSP      ksp;
  PC       pc;
  Mat      H;
  Vec      trial, trial_grad;
  PetscInt n_max;
  double   t = 1.0, loss;

  PetscFunctionBegin;
  *stalled = PETSC_TRUE;
  PetscCall(HessaOperatorGetMat(tr->op, &H));
  PetscCall(VecGetSize(grad, &n_max));
  PetscCall(KSPCreate(tr->comm, &ksp));
  PetscCall(KSPSetOptionsPrefix(ksp, "hessa_train_newton_"));
  PetscCall(KSPSetOperators(ksp, H, H));
  PetscCall(KSPSetType(ksp, KSPMINRES));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCNONE));
  PetscCall(KSPSetTolerances(ksp, 1e-10, 0.0, PETSC_DEFAULT, PetscMin(n_max, 2000)));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(KSPSolve(ksp, grad, dir));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(VecDuplicate(tr->theta, &trial));
  PetscCall(VecDuplicate(grad, &trial_grad));
  for (int k = 0; k <= 30; k++, t *= 0.5) {
    double norm;
    PetscCall(VecWAXPY(trial, -t, dir, tr->theta));
    PetscCall(HessaOperatorSetPoint(tr->op, trial));
    PetscCall(HessaOperatorGradient(tr->op, &loss, trial_grad));
    PetscCall(VecNorm(trial_grad, NORM_2, &norm));
    if (norm < tr->gradient_norm) {
      PetscCall(VecCopy(trial, tr->theta));
      *stalled = PETSC_FALSE;
      break;
    }
  }
  PetscCall(HessaOperatorSetPoint(tr->op, tr->theta));
  PetscCall(VecDestroy(&trial));
  PetscCall(VecDestroy(&trial_grad));
  PetscFunctionReturn(0);
}

/* (H^2 + mu I) x for the Levenberg-Marquardt solve. */
typedef struct {
  HessaOperator op;
  Vec           t;
  double        mu;
} LMShell;

static PetscErrorCode LMMult(Mat A, Vec x, Vec y)
{
  LMShell *c;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(HessaOperatorApply(c->op, x, c->t));
  PetscCall(HessaOperatorApply(c->op, c->t, y));
  PetscCall(VecAXPY(y, c->mu, x));
  PetscFunctionReturn(0);
}

/* Collective: one Levenberg-Marquardt step on 1/2 |g|^2 (its Jacobian is H): d solves
 * (H^2 + mu I) d = H g by CG; theta - d is taken when it lowers |g| (then mu /= 3), else
 * mu *= 4 and the solve is repeated (up to 30 times). Large mu: a short step along -H g
 * (gradient descent on 1/2 |g|^2); small mu: the Newton step. *stalled when nothing
 * lowers |g|. The operator's point must be theta. */
static PetscErrorCode LMStep(HessaTrainer tr, Vec grad, PetscBool *stalled)
{
  LMShell  c = {tr->op, NULL, tr->damping};
  Mat      A;
  KSP      ksp;
  PC       pc;
  Vec      d, trial, trial_grad, hg;
  PetscInt nlocal, n;
  double   loss;

  PetscFunctionBegin;
  *stalled = PETSC_TRUE;
  PetscCall(VecGetLocalSize(grad, &nlocal));
  PetscCall(VecGetSize(grad, &n));
  PetscCall(VecDuplicate(grad, &c.t));
  PetscCall(VecDuplicate(grad, &d));
  PetscCall(VecDuplicate(grad, &hg));
  PetscCall(VecDuplicate(tr->theta, &trial));
  PetscCall(VecDuplicate(grad, &trial_grad));
  PetscCall(HessaOperatorApply(tr->op, grad, hg));
  PetscCall(MatCreateShell(tr->comm, nlocal, nlocal, n, n, &c, &A));
  PetscCall(MatShellSetOperation(A, MATOP_MULT, (void (*)(void))LMMult));
  PetscCall(KSPCreate(tr->comm, &ksp));
  PetscCall(KSPSetOptionsPrefix(ksp, "hessa_train_lm_"));
  PetscCall(KSPSetOperators(ksp, A, A));
  PetscCall(KSPSetType(ksp, KSPCG));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCNONE));
  PetscCall(KSPSetTolerances(ksp, 1e-10, 0.0, PETSC_DEFAULT, PetscMin(2 * n, 4000)));
  PetscCall(KSPSetFromOptions(ksp));
  for (int k = 0; k < 30; k++) {
    double norm;
    PetscCall(KSPSolve(ksp, hg, d));
    PetscCall(VecWAXPY(trial, -1.0, d, tr->theta));
    PetscCall(HessaOperatorSetPoint(tr->op, trial));
    PetscCall(HessaOperatorGradient(tr->op, &loss, trial_grad));
    PetscCall(VecNorm(trial_grad, NORM_2, &norm));
    if (norm < tr->gradient_norm) {
      PetscCall(VecCopy(trial, tr->theta));
      c.mu     = PetscMax(c.mu / 3.0, 1e-14);
      *stalled = PETSC_FALSE;
      break;
    }
    c.mu *= 4.0;
    PetscCall(HessaOperatorSetPoint(tr->op, tr->theta));
  }
  tr->damping = c.mu;
  PetscCall(HessaOperatorSetPoint(tr->op, tr->theta));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(MatDestroy(&A));
  PetscCall(VecDestroy(&c.t));
  PetscCall(VecDestroy(&d));
  PetscCall(VecDestroy(&hg));
  PetscCall(VecDestroy(&trial));
  PetscCall(VecDestroy(&trial_grad));
  PetscFunctionReturn(0);
}

/* Collective: loss, |g| on all data at theta, the full-batch direction in dir, and
 * lambda_max when due (NaN otherwise). */
static PetscErrorCode Evaluate(HessaTrainer tr, Vec grad, Vec dir, double *lambda_max)
{
  PetscFunctionBegin;
  *lambda_max = NAN;
  PetscCall(ObjectiveGradient(tr, tr->op, &tr->loss, grad, dir));
  PetscCall(VecNorm(grad, NORM_2, &tr->gradient_norm));
  if (tr->lambda_every > 0 && tr->step % tr->lambda_every == 0) {
    HessaExtremes e;
    PetscCall(HessaSpectrumExtremes(tr->op, HESSA_WHICH_LARGEST, 1, 1e-8, PETSC_FALSE, &e));
    if (e.nconv > 0 && e.converged[0]) *lambda_max = e.values[0];
    PetscCall(HessaExtremesDestroy(&e));
  }
  PetscFunctionReturn(0);
}

/* HessaTrainerRun - collective. See study.h. */
PetscErrorCode HessaTrainerRun(HessaTrainer tr)
{
  Vec       grad, dir;
  PetscInt  last_saved = tr->resume ? tr->step : -1, report_every = PetscMax(1, tr->steps / 10);
  PetscBool stochastic;
  char      final[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  /* analytic objectives are one sample, and a batch of all samples is the full gradient */
  stochastic = (tr->method == HESSA_TRAIN_SGD || tr->method == HESSA_TRAIN_ADAM) && tr->model->data && tr->model->data->source != HESSA_DATA_NONE && (!strcmp(tr->model->obj->type, "mlp") || !strcmp(tr->model->obj->type, "onnx")) &&
                       tr->batch < tr->model->data->n_global
                   ? PETSC_TRUE
                   : PETSC_FALSE;
  PetscCall(HessaLog(tr->comm, "train: %s on the %s, lr %g, weight decay %g, %" PetscInt_FMT " steps from step %" PetscInt_FMT "%s", method_names[tr->method], objective_names[tr->objective], (double)tr->lr, (double)tr->weight_decay, tr->steps,
                     tr->step, stochastic ? ", mini-batches" : ""));
  PetscCall(HessaOperatorCreateParameterVec(tr->op, &grad));
  PetscCall(VecDuplicate(grad, &dir));
  PetscCall(HessaTimerStart("train"));
  for (;;) {
    PetscBool stop;
    double    lambda_max;

    if (tr->max_steps_per_run > 0 && tr->step - tr->start_step >= tr->max_steps_per_run) HessaStopRequest();
    PetscCall(HessaStopAgree(tr->comm, &stop));
    if (stop) {
      tr->stopped = PETSC_TRUE;
      break;
    }
    PetscCall(Evaluate(tr, grad, dir, &lambda_max));
    PetscCall(HessaTrainLogAppend(tr, lambda_max));
    if (tr->step % report_every == 0) PetscCall(HessaLog(tr->comm, "train: step %" PetscInt_FMT " loss %.10g |g| %.6g", tr->step, tr->loss, tr->gradient_norm));
    if (tr->gradient_norm <= tr->gtol) {
      tr->converged = PETSC_TRUE;
      break;
    }
    if (tr->step >= tr->steps) break;
    if (tr->method == HESSA_TRAIN_NEWTON || tr->method == HESSA_TRAIN_LM) {
      PetscBool stalled;
      if (tr->method == HESSA_TRAIN_NEWTON)
        PetscCall(NewtonStep(tr, grad, dir, &stalled));
      else
        PetscCall(LMStep(tr, grad, &stalled));
      if (stalled) {
        PetscCall(HessaLog(tr->comm, "train: %s: no step lowers |g| (%.3e) at step %" PetscInt_FMT "; stopping", method_names[tr->method], tr->gradient_norm, tr->step));
        break;
      }
    } else {
      if (stochastic) PetscCall(BatchDirection(tr, dir));
      PetscCall(Update(tr, dir));
    }
    tr->step++;
    if (tr->checkpoint_every > 0 && tr->step % tr->checkpoint_every == 0) {
      PetscCall(HessaTrainSaveCheckpoint(tr, &last_saved));
      PetscCall(HessaTrainWriteSummary(tr, PETSC_FALSE));
    }
  }
  PetscCall(HessaTimerStop("train"));
  if (tr->stopped) {
    PetscCall(HessaTrainSaveCheckpoint(tr, &last_saved));
    PetscCall(HessaLog(tr->comm, "train: stopped at step %" PetscInt_FMT "; checkpoint %s/step-%06" PetscInt_FMT " (rerun with -resume)", tr->step, tr->output, tr->step));
  } else {
    PetscCall(PetscSNPrintf(final, sizeof final, "%s/final", tr->output));
    PetscCall(HessaModelSave(tr->model, tr->theta, final));
    PetscCall(HessaLog(tr->comm, "train: %s at step %" PetscInt_FMT ": loss %.12g, |g| %.6g", tr->converged ? "converged" : "done", tr->step, tr->loss, tr->gradient_norm));
  }
  PetscCall(HessaTrainWriteSummary(tr, PETSC_TRUE));
  PetscCall(PetscPrintf(tr->comm, "train: %s, step %" PetscInt_FMT ", loss %.12g, |g| %.6g\n", tr->stopped ? "stopped" : (tr->converged ? "converged" : "done"), tr->step, tr->loss, tr->gradient_norm));
  if (tr->stopped) HessaStopMarkStopped();
  PetscCall(VecDestroy(&grad));
  PetscCall(VecDestroy(&dir));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaTrainerDestroy(HessaTrainer *tr)
{
  PetscFunctionBegin;
  if (!*tr) PetscFunctionReturn(0);
  PetscCall(VecDestroy(&(*tr)->theta));
  PetscCall(VecDestroy(&(*tr)->first_moment));
  PetscCall(VecDestroy(&(*tr)->second_moment));
  PetscCall(PetscFree(*tr));
  PetscFunctionReturn(0);
}
