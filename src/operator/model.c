/* HessaModel: which objective, at which point, from the options database.
 *
 * The point theta is a sharded Vec. It comes from a weight folder (docs/weights.md;
 * rank 0 reads it and broadcasts, so a cluster file system sees one reader), from an
 * initialisation scheme on the rank-independent stream, or (analytic objectives)
 * from -hessa_model_point.
 */
#include <hessa/operator.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const model_kinds[] = {"mlp", "onnx", "quadratic", "linear-toy", "x2+y4", "x2-y4", "rosenbrock", "monkey-saddle", "plugin", NULL};

/* HessaModelCreate - collective. data may be NULL (analytic objectives). */
PetscErrorCode HessaModelCreate(MPI_Comm comm, HessaData data, HessaModel *model)
{
  HessaModel m;

  PetscFunctionBegin;
  PetscCall(PetscNew(&m));
  m->comm = comm;
  m->data = data;
  PetscCall(PetscStrncpy(m->kind, "mlp", sizeof m->kind));
  PetscCall(PetscStrncpy(m->init, "glorot", sizeof m->init));
  m->arch.n_layers   = 2;
  m->arch.widths[1]  = 32; /* one hidden layer of 32 by default; input/output from the data */
  m->arch.activation = HESSA_ACT_TANH;
  m->arch.loss       = HESSA_LOSS_CROSS_ENTROPY;
  m->arch.chunk      = 1000;
  m->arch.cache_mb   = 512;
  m->analytic_n      = 2;
  m->onnx.loss       = HESSA_LOSS_CROSS_ENTROPY;
  m->onnx.chunk      = 256;
  m->onnx.cache_mb   = 512;
  *model             = m;
  PetscFunctionReturn(0);
}

/* HessaModelSetFromOptions - collective. See operator.h for the options. */
PetscErrorCode HessaModelSetFromOptions(HessaModel m)
{
  PetscInt  hidden[14], n_hidden = 14, kind = 0;
  char      act[32], loss[32], onnx_loss[32];
  PetscBool set, found;

  PetscFunctionBegin;
  for (PetscInt i = 0; model_kinds[i]; i++)
    if (!strcmp(model_kinds[i], m->kind)) kind = i;
  PetscCall(PetscStrncpy(act, HessaActivationName(m->arch.activation), sizeof act));
  PetscCall(PetscStrncpy(loss, HessaLossName(m->arch.loss), sizeof loss));
  PetscCall(PetscStrncpy(onnx_loss, HessaLossName(m->onnx.loss), sizeof onnx_loss));
  PetscOptionsBegin(m->comm, NULL, "hessa model options", NULL);
  PetscCall(PetscOptionsEList("-hessa_model", "objective", "HessaModelSetFromOptions", model_kinds, (PetscInt)(sizeof model_kinds / sizeof *model_kinds) - 1, model_kinds[kind], &kind, &m->kind_set));
  PetscCall(PetscOptionsString("-hessa_model_weights", "weight folder to load (docs/weights.md); empty: initialise", "HessaModelSetFromOptions", m->weights, m->weights, sizeof m->weights, NULL));
  PetscCall(PetscOptionsString("-hessa_model_init", "initialisation when no weights are given: glorot, he, or teacher (the teacher network's weights)", "HessaModelSetFromOptions", m->init, m->init, sizeof m->init, NULL));
  PetscCall(PetscOptionsInt("-hessa_model_seed", "seed of the initial weights", "HessaModelSetFromOptions", m->seed, &m->seed, NULL));
  m->n_point = 16;
  PetscCall(PetscOptionsRealArray("-hessa_model_point", "analytic objectives: the point x1,x2,...", "HessaModelSetFromOptions", m->point, &m->n_point, &set));
  if (!set) m->n_point = 0;
  PetscCall(PetscOptionsInt("-hessa_model_dim", "analytic objectives: dimension of rosenbrock and quadratic", "HessaModelSetFromOptions", m->analytic_n, &m->analytic_n, NULL));
  PetscCall(PetscOptionsString("-hessa_model_spectrum", "quadratic: text file of eigenvalues (empty: generated bulk, outliers, negatives)", "HessaModelSetFromOptions", m->spectrum, m->spectrum, sizeof m->spectrum, NULL));
  for (PetscInt i = 1; i < m->arch.n_layers; i++) hidden[i - 1] = m->arch.widths[i];
  n_hidden = 14;
  PetscCall(PetscOptionsIntArray("-hessa_mlp_hidden", "MLP hidden widths, e.g. 128,64 (input and output widths come from the data)", "HessaModelSetFromOptions", hidden, &n_hidden, &set));
  m->hidden_set = set;
  if (set) {
    m->arch.n_layers = n_hidden + 1;
    for (PetscInt i = 0; i < n_hidden; i++) m->arch.widths[i + 1] = hidden[i];
  }
  PetscCall(PetscOptionsString("-hessa_mlp_activation", "hidden activation: identity, tanh, sigmoid, relu, softplus, gelu", "HessaModelSetFromOptions", act, act, sizeof act, &m->activation_set));
  PetscCall(PetscOptionsString("-hessa_mlp_loss", "loss: cross-entropy or mse", "HessaModelSetFromOptions", loss, loss, sizeof loss, &m->loss_set));
  PetscCall(PetscOptionsReal("-hessa_mlp_weight_decay", "L2 coefficient: adds (wd/2)|theta|^2", "HessaModelSetFromOptions", m->arch.weight_decay, &m->arch.weight_decay, NULL));
  PetscCall(PetscOptionsInt("-hessa_mlp_chunk", "samples per chunk (bounds memory)", "HessaModelSetFromOptions", m->arch.chunk, &m->arch.chunk, NULL));
  PetscCall(PetscOptionsString("-hessa_plugin_file", "plugin: the shared library implementing hessa/plugin.h", "HessaPluginCreate", m->plugin_file, m->plugin_file, sizeof m->plugin_file, NULL));
  PetscCall(PetscOptionsString("-hessa_plugin_options", "plugin: text handed to the plugin's create", "HessaPluginCreate", m->plugin_options, m->plugin_options, sizeof m->plugin_options, NULL));
  PetscCall(PetscOptionsReal("-hessa_mlp_cache_mb", "memory budget (MB per rank) for caching the forward pass at a fixed point; 0 disables", "HessaModelSetFromOptions", m->arch.cache_mb, &m->arch.cache_mb, NULL));
  PetscCall(PetscOptionsString("-hessa_model_file", "onnx: the ONNX graph (exported with tools/onnx_export.py, docs/onnx.md); default with -hessa_model_weights: the folder's model.onnx", "HessaModelSetFromOptions", m->onnx.path, m->onnx.path,
                               sizeof m->onnx.path, NULL));
  PetscCall(PetscOptionsString("-hessa_onnx_loss", "onnx: loss at the graph output, cross-entropy or mse (default: cross-entropy for classification data, mse for regression)", "HessaModelSetFromOptions", onnx_loss, onnx_loss, sizeof onnx_loss,
                               &m->onnx_loss_set));
  PetscCall(PetscOptionsReal("-hessa_onnx_weight_decay", "onnx: L2 coefficient: adds (wd/2)|theta|^2", "HessaModelSetFromOptions", m->onnx.weight_decay, &m->onnx.weight_decay, NULL));
  PetscCall(PetscOptionsInt("-hessa_onnx_chunk", "onnx: samples per chunk (bounds memory)", "HessaModelSetFromOptions", m->onnx.chunk, &m->onnx.chunk, NULL));
  PetscCall(PetscOptionsReal("-hessa_onnx_cache_mb", "onnx: memory budget (MB per rank) for caching the forward pass at a fixed point; 0 disables", "HessaModelSetFromOptions", m->onnx.cache_mb, &m->onnx.cache_mb, NULL));
  PetscOptionsEnd();
  PetscCall(PetscStrncpy(m->kind, model_kinds[kind], sizeof m->kind));
  PetscCall(HessaActivationFromName(act, &m->arch.activation, &found));
  PetscCheck(found, m->comm, PETSC_ERR_ARG_WRONG, "-hessa_mlp_activation: unknown activation '%s' (expected identity, tanh, sigmoid, relu, softplus or gelu)", act);
  PetscCall(HessaLossFromName(loss, &m->arch.loss, &found));
  PetscCheck(found, m->comm, PETSC_ERR_ARG_WRONG, "-hessa_mlp_loss: unknown loss '%s' (expected cross-entropy or mse)", loss);
  PetscCall(HessaLossFromName(onnx_loss, &m->onnx.loss, &found));
  PetscCheck(found, m->comm, PETSC_ERR_ARG_WRONG, "-hessa_onnx_loss: unknown loss '%s' (expected cross-entropy or mse)", onnx_loss);
  PetscCheck(m->onnx.chunk > 0, m->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_onnx_chunk must be positive, found %" PetscInt_FMT, m->onnx.chunk);
  PetscCheck(m->onnx.weight_decay >= 0, m->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_onnx_weight_decay must be >= 0, found %g", (double)m->onnx.weight_decay);
  PetscCheck(m->arch.chunk > 0, m->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_mlp_chunk must be positive, found %" PetscInt_FMT, m->arch.chunk);
  for (PetscInt i = 1; i < m->arch.n_layers; i++) PetscCheck(m->arch.widths[i] > 0, m->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_mlp_hidden: widths must be positive, found %" PetscInt_FMT, m->arch.widths[i]);
  PetscFunctionReturn(0);
}

/* Generated spectrum of the quadratic: a bulk in [0.1, 1], 10 outliers up to 50, and 10% negatives in [-1, -0.1]. */
static PetscErrorCode QuadraticSpectrum(HessaModel m, double *lambda)
{
  PetscFunctionBegin;
  if (!m->spectrum[0]) {
    PetscInt n = m->analytic_n, n_out = PetscMin(10, n / 10), n_neg = n / 10;
    PetscCall(HessaSpectrumGenerate(n, 0.1, 1.0, n_out, 50.0, n_neg, -1.0, -0.1, lambda));
    PetscFunctionReturn(0);
  }
  {
    HessaStatus st    = {0};
    FILE       *f     = HessaOpenRegularFile(m->spectrum, "spectrum file", "a text file of eigenvalues", &st);
    PetscInt    count = 0;
    if (f) {
      while (count < m->analytic_n && fscanf(f, "%lf", &lambda[count]) == 1) {
        if (!isfinite(lambda[count])) {
          HessaStatusSet(&st, HESSA_ERR_INPUT, "spectrum file '%s': eigenvalue %" PetscInt_FMT " is %g, expected a finite number", m->spectrum, count, lambda[count]);
          break;
        }
        count++;
      }
      fclose(f);
      if (!st.code && count != m->analytic_n) HessaStatusSet(&st, HESSA_ERR_INPUT, "spectrum file '%s': expected %" PetscInt_FMT " eigenvalues (-hessa_model_dim), found %" PetscInt_FMT, m->spectrum, m->analytic_n, count);
    }
    PetscCall(HessaSyncError(m->comm, &st));
  }
  PetscFunctionReturn(0);
}

/* A weight folder names its architecture: rank 0 reads it, every rank gets it. The
 * chunk size, cache budget and weight decay stay as the options set them. */
static PetscErrorCode ReadArchitecture(HessaModel m)
{
  PetscMPIInt  rank;
  HessaStatus  st   = {0};
  HessaMLPArch arch = m->arch;
  char         kind[64];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(m->comm, &rank));
  PetscCall(PetscStrncpy(kind, m->kind, sizeof kind));
  if (rank == 0) HessaWeightsReadArch(m->weights, kind, &arch, &st);
  PetscCall(HessaSyncError(m->comm, &st));
  PetscCallMPI(MPI_Bcast(kind, sizeof kind, MPI_CHAR, 0, m->comm));
  PetscCallMPI(MPI_Bcast(&arch, sizeof arch, MPI_BYTE, 0, m->comm));
  /* options that say something else than the folder: an error naming both, never one silently winning */
  PetscCheck(!m->kind_set || !strcmp(kind, m->kind), m->comm, HESSA_ERR_ARG, "-hessa_model %s conflicts with weights file '%s/model.json', whose \"model\" is \"%s\"", m->kind, m->weights, kind);
  if (!strcmp(kind, "mlp")) {
    PetscBool same = arch.n_layers == m->arch.n_layers ? PETSC_TRUE : PETSC_FALSE;
    for (PetscInt i = 1; same && i < arch.n_layers; i++) same = arch.widths[i] == m->arch.widths[i] ? PETSC_TRUE : PETSC_FALSE;
    if (m->hidden_set && !same) {
      char file[256] = "", opt[256] = "";
      for (PetscInt i = 1; i < arch.n_layers; i++) PetscCall(PetscSNPrintf(file + strlen(file), sizeof file - strlen(file), "%s%" PetscInt_FMT, i > 1 ? "," : "", arch.widths[i]));
      for (PetscInt i = 1; i < m->arch.n_layers; i++) PetscCall(PetscSNPrintf(opt + strlen(opt), sizeof opt - strlen(opt), "%s%" PetscInt_FMT, i > 1 ? "," : "", m->arch.widths[i]));
      SETERRQ(m->comm, HESSA_ERR_ARG, "-hessa_mlp_hidden %s conflicts with weights file '%s/model.json', whose hidden widths are %s", opt, m->weights, file[0] ? file : "none");
    }
    PetscCheck(!m->activation_set || arch.activation == m->arch.activation, m->comm, HESSA_ERR_ARG, "-hessa_mlp_activation %s conflicts with weights file '%s/model.json', whose \"activation\" is \"%s\"", HessaActivationName(m->arch.activation),
               m->weights, HessaActivationName(arch.activation));
    PetscCheck(!m->loss_set || arch.loss == m->arch.loss, m->comm, HESSA_ERR_ARG, "-hessa_mlp_loss %s conflicts with weights file '%s/model.json', whose \"loss\" is \"%s\"", HessaLossName(m->arch.loss), m->weights, HessaLossName(arch.loss));
  }
  m->arch.n_layers   = arch.n_layers;
  m->arch.activation = arch.activation;
  m->arch.loss       = arch.loss;
  for (PetscInt i = 0; i <= arch.n_layers; i++) m->arch.widths[i] = arch.widths[i];
  PetscCall(PetscStrncpy(m->kind, kind, sizeof m->kind));
  /* an ONNX checkpoint is also the graph: its model.onnx (docs/onnx.md) unless a file is given */
  if (!strcmp(kind, "onnx") && !m->onnx.path[0]) PetscCall(PetscSNPrintf(m->onnx.path, sizeof m->onnx.path, "%s/model.onnx", m->weights));
  PetscFunctionReturn(0);
}

/* Every rank reads the ONNX file (its shard needs the whole graph); a fault on any rank is
 * one error on every rank. theta starts at the graph's initializers unless weights follow. */
static PetscErrorCode CreateONNX(HessaModel m)
{
  HessaData   d  = m->data;
  HessaStatus st = {0};

  PetscFunctionBegin;
  PetscCheck(m->onnx.path[0], m->comm, HESSA_ERR_ARG, "-hessa_model onnx needs -hessa_model_file NET.onnx (export one with tools/onnx_export.py, docs/onnx.md)");
  PetscCheck(d && d->source != HESSA_DATA_NONE, m->comm, PETSC_ERR_ARG_WRONG, "the onnx model needs data (-hessa_data_source)");
  if (!m->onnx_loss_set) m->onnx.loss = d->task == HESSA_TASK_REGRESSION ? HESSA_LOSS_MSE : HESSA_LOSS_CROSS_ENTROPY;
  PetscCall(HessaONNXCreate(&m->onnx, d, &m->obj, m->weights[0] ? NULL : &m->theta0, &st));
  PetscCall(HessaSyncError(m->comm, &st));
  PetscFunctionReturn(0);
}

/* The parameter count in 64 bits, and the memory it takes, checked before anything of
 * that size is allocated: an over-large model is one message with the bytes, not a
 * failure deep inside an allocation. Per rank hessa holds about 8 full-length copies
 * (the point, a direction, products, gradient, work; docs/design.md), the quadratic
 * 6 more (eigenvalues, reflection normals). */
static PetscErrorCode CheckModelSize(HessaModel m)
{
  uint64_t  n = 0, copies = 8, bytes, term;
  PetscBool over = PETSC_FALSE;
  char      what[160];

  PetscFunctionBegin;
  if (!strcmp(m->kind, "mlp")) {
    for (PetscInt l = 1; l <= m->arch.n_layers && !over; l++) {
      over = !HessaSizeMul((uint64_t)m->arch.widths[l], (uint64_t)m->arch.widths[l - 1] + 1, &term) ? PETSC_TRUE : PETSC_FALSE;
      n += term;
    }
  } else {
    n = (uint64_t)m->analytic_n;
    if (!strcmp(m->kind, "quadratic")) copies += 6 + (3 * (uint64_t)HessaQuadraticDenseLayers(m->analytic_n) + 1) / 2; /* + rotation layers: an int and a double per index */
  }
  PetscCheck(!over && n <= (uint64_t)PETSC_MAX_INT, m->comm, PETSC_ERR_ARG_OUTOFRANGE, "the %s model has %s%llu parameters: more than %d, the largest vector length of this PETSc (32-bit indices)", m->kind, over ? "more than " : "",
             over ? (unsigned long long)1 << 62 : (unsigned long long)n, (int)PETSC_MAX_INT);
  PetscCall(PetscSNPrintf(what, sizeof what, "the %s model (%llu parameters)", m->kind, (unsigned long long)n));
  over = !HessaSizeMul(n, copies * sizeof(double), &bytes) ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(HessaMemoryCheck(m->comm, what, bytes, over));
  PetscFunctionReturn(0);
}

static PetscErrorCode CreateObjective(HessaModel m)
{
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(m->comm, &rank));
  if (m->weights[0]) PetscCall(ReadArchitecture(m));
  if (!strcmp(m->kind, "mlp")) {
    HessaData d = m->data;
    PetscCheck(d && d->source != HESSA_DATA_NONE, m->comm, PETSC_ERR_ARG_WRONG, "the mlp model needs data (-hessa_data_source)");
    PetscCheck(!(d->source == HESSA_DATA_TOKENS && d->seq_target == HESSA_SEQ_NEXT_TOKEN), m->comm, HESSA_ERR_ARG, "the mlp model predicts one class per sample; next-token targets need a sequence model (-hessa_model onnx)");
    PetscInt outputs = d->task == HESSA_TASK_CLASSIFICATION ? d->n_classes : d->n_targets;
    if (m->weights[0]) {
      /* the weights' architecture must fit the data */
      PetscCheck(m->arch.widths[0] == d->n_features, m->comm, HESSA_ERR_INPUT, "weights '%s': the network takes %" PetscInt_FMT " inputs but the data has %" PetscInt_FMT " features", m->weights, m->arch.widths[0], d->n_features);
      PetscCheck(m->arch.widths[m->arch.n_layers] == outputs, m->comm, HESSA_ERR_INPUT, "weights '%s': the network has %" PetscInt_FMT " outputs but the data has %" PetscInt_FMT " %s", m->weights, m->arch.widths[m->arch.n_layers], outputs,
                 d->task == HESSA_TASK_CLASSIFICATION ? "classes" : "targets");
    }
    m->arch.widths[0]                = d->n_features;
    m->arch.widths[m->arch.n_layers] = outputs;
    if (d->task == HESSA_TASK_REGRESSION && m->arch.loss == HESSA_LOSS_CROSS_ENTROPY) m->arch.loss = HESSA_LOSS_MSE;
    PetscCall(CheckModelSize(m));
    PetscCall(HessaMLPCreate(&m->arch, d, &m->obj));
  } else if (!strcmp(m->kind, "onnx")) {
    PetscCall(CreateONNX(m));
  } else if (!strcmp(m->kind, "plugin")) {
    /* a user's shared library (hessa/plugin.h); every rank loads it, its starting point is kept for SetUp */
    HessaStatus st = {0};
    PetscCall(HessaPluginCreate(m->plugin_file, m->plugin_options, m->data, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &m->obj, &m->plugin_theta0, &st));
    PetscCall(HessaSyncError(m->comm, &st));
  } else if (!strcmp(m->kind, "quadratic")) {
    double *lambda;
    PetscCheck(m->analytic_n > 0, m->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_model_dim must be positive");
    PetscCall(CheckModelSize(m));
    PetscCall(PetscMalloc1(m->analytic_n, &lambda));
    PetscCall(QuadraticSpectrum(m, lambda));
    PetscCall(HessaQuadraticCreateDense(m->analytic_n, lambda, (uint64_t)m->seed, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &m->obj));
    PetscCall(PetscFree(lambda));
  } else {
    /* one name table for -hessa_model and for weight folders (which store obj->type) */
    HessaAnalyticKind k;
    PetscBool         found;
    PetscCall(HessaAnalyticFromName(m->kind, &k, &found));
    PetscCheck(found, m->comm, HESSA_ERR_INPUT, "model '%s' is not known (weights '%s'): expected mlp, onnx, quadratic, linear-toy, x2+y4, x2-y4, rosenbrock, monkey-saddle or plugin", m->kind, m->weights);
    PetscCall(HessaAnalyticCreate(k, m->analytic_n, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &m->obj));
  }
  PetscFunctionReturn(0);
}

/* Rank 0 reads the weight folder; every rank gets theta (full length) by broadcast. */
static PetscErrorCode LoadWeights(HessaModel m)
{
  PetscMPIInt rank;
  HessaStatus st   = {0};
  double     *full = NULL;
  PetscInt    n    = m->obj->n;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(m->comm, &rank));
  PetscCall(PetscMalloc1(n, &full));
  if (rank == 0) PetscCall(HessaWeightsRead(m->weights, m->obj, full, &st));
  PetscCall(HessaSyncError(m->comm, &st));
  PetscCallMPI(MPI_Bcast(full, (PetscMPIInt)n, MPI_DOUBLE, 0, m->comm));
  PetscCall(HessaVecSetFromFull(m->theta, full));
  PetscCall(PetscFree(full));
  PetscFunctionReturn(0);
}

/* HessaModelSetUp - collective: the objective and the point. */
PetscErrorCode HessaModelSetUp(HessaModel m)
{
  PetscInt lo, hi;
  double  *a;

  PetscFunctionBegin;
  PetscCall(CreateObjective(m));
  PetscCall(VecCreateMPI(m->comm, PETSC_DECIDE, m->obj->n, &m->theta));
  if (m->weights[0]) {
    PetscCall(LoadWeights(m));
  } else if (!strcmp(m->kind, "onnx")) {
    /* every rank holds the same initializers: no communication */
    PetscCall(HessaVecSetFromFull(m->theta, m->theta0));
  } else if (!strcmp(m->kind, "mlp")) {
    PetscBool teacher = !strcmp(m->init, "teacher") ? PETSC_TRUE : PETSC_FALSE;
    PetscCheck(teacher || !strcmp(m->init, "glorot") || !strcmp(m->init, "he"), m->comm, PETSC_ERR_ARG_WRONG, "-hessa_model_init: unknown scheme '%s' (expected glorot, he or teacher)", m->init);
    PetscCall(VecGetOwnershipRange(m->theta, &lo, &hi));
    PetscCall(VecGetArray(m->theta, &a));
    PetscCall(HessaMLPInitialize(m->obj, teacher ? "glorot" : m->init, (uint64_t)m->seed, lo, hi - lo, a));
    PetscCall(VecRestoreArray(m->theta, &a));
    if (teacher) {
      /* teacher-student: the targets are this network's outputs, so theta is an exact global minimum */
      double *full;
      PetscCheck(m->data->task == HESSA_TASK_REGRESSION, m->comm, PETSC_ERR_ARG_WRONG, "-hessa_model_init teacher needs regression data (-hessa_data_source gaussian)");
      PetscCall(PetscMalloc1(m->obj->n, &full));
      PetscCall(HessaMLPInitialize(m->obj, "glorot", (uint64_t)m->seed, 0, m->obj->n, full));
      PetscCall(HessaMLPTeacherTargets(m->obj, full, m->data));
      PetscCall(PetscFree(full));
    }
  } else if (!strcmp(m->kind, "plugin") && m->n_point == 0) {
    PetscCall(HessaVecSetFromFull(m->theta, m->plugin_theta0)); /* the plugin's initial_point */
  } else {
    PetscInt n = m->obj->n;
    PetscCheck(m->n_point == 0 || m->n_point == n, m->comm, PETSC_ERR_ARG_SIZ, "-hessa_model_point: the %s objective has %" PetscInt_FMT " parameters, found %" PetscInt_FMT " values", m->kind, n, m->n_point);
    PetscCall(VecGetOwnershipRange(m->theta, &lo, &hi));
    PetscCall(VecGetArray(m->theta, &a));
    for (PetscInt i = lo; i < hi; i++) a[i - lo] = m->n_point ? m->point[i] : 0.0;
    PetscCall(VecRestoreArray(m->theta, &a));
  }
  PetscFunctionReturn(0);
}

/* HessaModelSave - collective: gather theta to rank 0, which writes the folder. */
PetscErrorCode HessaModelSave(HessaModel m, Vec theta, const char folder[])
{
  PetscMPIInt rank;
  VecScatter  sc;
  Vec         all;
  HessaStatus st = {0};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(m->comm, &rank));
  PetscCall(VecScatterCreateToZero(theta, &sc, &all));
  PetscCall(VecScatterBegin(sc, theta, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, theta, all, INSERT_VALUES, SCATTER_FORWARD));
  if (rank == 0) {
    const double *a;
    PetscCall(VecGetArrayRead(all, &a));
    PetscCall(HessaWeightsWrite(folder, m->obj, a, &st));
    PetscCall(VecRestoreArrayRead(all, &a));
  }
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&all));
  PetscCall(HessaSyncError(m->comm, &st));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaModelDestroy(HessaModel *model)
{
  PetscFunctionBegin;
  if (!*model) PetscFunctionReturn(0);
  PetscCall(VecDestroy(&(*model)->theta));
  free((*model)->theta0); /* malloc'd by HessaONNXCreate */
  PetscCall(HessaObjectiveDestroy(&(*model)->obj));
  PetscCall(PetscFree((*model)->plugin_theta0));
  PetscCall(PetscFree(*model));
  PetscFunctionReturn(0);
}

/* Collective: the model kind a weight folder names (its model.json), so that an analytic
 * checkpoint given without -hessa_model loads no data set. A folder that cannot be read
 * leaves kind as it is: the model's own read of the folder reports the fault. */
static PetscErrorCode WeightsKind(MPI_Comm comm, const char weights[], char kind[64])
{
  PetscMPIInt  rank;
  HessaStatus  st = {0};
  HessaMLPArch arch;
  char         found[64] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMemzero(&arch, sizeof arch));
  if (rank == 0) {
    HessaWeightsReadArch(weights, found, &arch, &st);
    if (st.code) found[0] = 0;
  }
  PetscCallMPI(MPI_Bcast(found, sizeof found, MPI_CHAR, 0, comm));
  if (found[0]) PetscCall(PetscStrncpy(kind, found, 64));
  PetscFunctionReturn(0);
}

/* The body of HessaSetUpFromOptions, which cleans up after it on an error. */
static PetscErrorCode SetUpFromOptions(MPI_Comm comm, HessaData *data, HessaModel *model, HessaOperator *op)
{
  char      kind[64] = "mlp", weights[PETSC_MAX_PATH_LEN] = "";
  PetscBool analytic, data_given, kind_given, weights_given;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-hessa_model", kind, sizeof kind, &kind_given));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-hessa_model_weights", weights, sizeof weights, &weights_given));
  if (!kind_given && weights_given && weights[0]) PetscCall(WeightsKind(comm, weights, kind));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_data_source", &data_given));
  /* a plugin uses data only when it is asked for */
  analytic = strcmp(kind, "mlp") && strcmp(kind, "onnx") && !(!strcmp(kind, "plugin") && data_given) ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(HessaDataCreate(comm, data));
  if (analytic) (*data)->source = HESSA_DATA_NONE;
  PetscCall(HessaDataSetFromOptions(*data));
  PetscCall(HessaTimerStart("load"));
  PetscCall(HessaDataLoad(*data));
  PetscCall(HessaModelCreate(comm, *data, model));
  PetscCall(HessaModelSetFromOptions(*model));
  PetscCall(HessaModelSetUp(*model));
  PetscCall(HessaTimerStop("load"));
  PetscCall(HessaOperatorCreate(comm, (*model)->obj, op));
  PetscCall(HessaOperatorSetFromOptions(*op));
  PetscCall(HessaOperatorSetUp(*op));
  PetscCall(HessaOperatorSetPoint(*op, (*model)->theta));
  PetscFunctionReturn(0);
}

/* HessaSetUpFromOptions - collective: data, model and operator from the options database,
 * the operator at the model's point. Analytic models (-hessa_model other than mlp and onnx)
 * use no data. Destroy in reverse: HessaOperatorDestroy, HessaModelDestroy, HessaDataDestroy.
 * On an error (a missing data file, a bad option) whatever was created is destroyed
 * again and the three handles are NULL. */
PetscErrorCode HessaSetUpFromOptions(MPI_Comm comm, HessaData *data, HessaModel *model, HessaOperator *op)
{
  PetscErrorCode ierr;

  PetscFunctionBegin;
  *data  = NULL;
  *model = NULL;
  *op    = NULL;
  ierr   = SetUpFromOptions(comm, data, model, op);
  if (ierr) {
    PetscCall(HessaOperatorDestroy(op));
    PetscCall(HessaModelDestroy(model));
    PetscCall(HessaDataDestroy(data));
  }
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
