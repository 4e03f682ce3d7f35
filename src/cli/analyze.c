/* hessa analyze: everything a researcher needs to know about one point.
 *
 *   load -> gradient -> extreme eigenpairs -> full spectrum (small n) or SLQ density
 *        -> trace -> classification -> escape / zero-curvature probes
 *        -> gradient geometry -> Newton -> report (rank 0 writes)
 *
 * With no model or data options it analyses the embedded default: a 784-16-10 tanh MLP
 * trained to a small gradient norm on the first 1000 Fashion-MNIST training samples
 * (share/default-point, made by tools/make_default_point.py).
 */
#include "cli.h"
#include <hessa/analysis.h>
#include <hessa/report.h>
#include <slepcsys.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  char      output[PETSC_MAX_PATH_LEN];
  PetscInt  k, full_max, trace_samples, sf_dim, seed, probes, steps, n_alpha;
  PetscBool full, density, newton;
  PetscReal gradient_tol, zero_tol, eps_tol, alphas[8];
} AnalyzeOptions;

/* The embedded default, used when no option names a model or data. */
static PetscErrorCode InsertDefaults(void)
{
  const char *prefixes[] = {"-hessa_model", "-hessa_data", "-hessa_mlp", NULL};
  char       *all;
  PetscBool   any = PETSC_FALSE;
  char        defaults[PETSC_MAX_PATH_LEN + 256];

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  for (int i = 0; prefixes[i]; i++)
    if (strstr(all, prefixes[i])) any = PETSC_TRUE;
  PetscCall(PetscFree(all));
  if (any) PetscFunctionReturn(0);
  PetscCall(PetscSNPrintf(defaults, sizeof defaults, "-hessa_model_weights %s/default-point -hessa_data_limit 1000 -hessa_mlp_weight_decay 1e-3", HESSA_SHARE_DIR));
  PetscCall(PetscOptionsInsertString(NULL, defaults));
  PetscCall(HessaLog(PETSC_COMM_WORLD, "analyze: the embedded default (%s)", defaults));
  PetscFunctionReturn(0);
}

static PetscErrorCode ReadOptions(MPI_Comm comm, AnalyzeOptions *o)
{
  PetscBool weights, hidden;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  PetscCall(PetscStrncpy(o->output, "hessa-report", sizeof o->output));
  o->k = 5, o->full_max = 3000, o->trace_samples = 30, o->sf_dim = 20, o->seed = 1, o->probes = 10, o->steps = 80;
  o->full = o->density = o->newton = PETSC_TRUE;
  o->gradient_tol = -1, o->zero_tol = -1, o->eps_tol = 1e-8;
  o->n_alpha = 4, o->alphas[0] = 1e-3, o->alphas[1] = 1e-2, o->alphas[2] = 1e-1, o->alphas[3] = 1;
  PetscOptionsBegin(comm, NULL, "hessa analyze options", NULL);
  PetscCall(PetscOptionsString("-hessa_analyze_output", "folder for report.json, report.md, CSV files and plots", "HessaReportWrite", o->output, o->output, sizeof o->output, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_k", "extreme eigenpairs at each end", "HessaSpectrumExtremes", o->k, &o->k, NULL));
  PetscCall(PetscOptionsReal("-hessa_analyze_eps_tol", "relative tolerance of the extreme eigenpairs", "HessaSpectrumExtremes", o->eps_tol, &o->eps_tol, NULL));
  PetscCall(PetscOptionsBool("-hessa_analyze_full", "compute the whole spectrum when the operator size is at most -hessa_analyze_full_max", "HessaSpectrumFull", o->full, &o->full, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_full_max", "largest operator size for the full spectrum", "HessaSpectrumFull", o->full_max, &o->full_max, NULL));
  PetscCall(PetscOptionsBool("-hessa_analyze_density", "estimate the eigenvalue density (SLQ) when the full spectrum is not computed", "HessaSpectrumDensity", o->density, &o->density, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_probes", "SLQ probe vectors", "HessaSpectrumDensity", o->probes, &o->probes, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_steps", "SLQ Lanczos steps per probe", "HessaSpectrumDensity", o->steps, &o->steps, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_seed", "seed of the SLQ and trace probes", "HessaSpectrumDensity", o->seed, &o->seed, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_trace", "Hutchinson trace samples (0: no trace)", "HessaSpectrumTrace", o->trace_samples, &o->trace_samples, NULL));
  PetscCall(PetscOptionsReal("-hessa_analyze_gradient_tol", "critical if |g| is at most this (negative: 1e-6 max(1, |loss|))", "HessaClassify", o->gradient_tol, &o->gradient_tol, NULL));
  PetscCall(PetscOptionsReal("-hessa_analyze_zero_tol", "|lambda| at most this counts as zero (negative: from residuals and round-off)", "HessaClassify", o->zero_tol, &o->zero_tol, NULL));
  {
    PetscInt  n_given = 8;
    PetscReal given[8];
    PetscBool set;
    PetscCall(PetscOptionsRealArray("-hessa_analyze_alphas", "steps of the line probes (escape, zero curvature)", "HessaProbeDirection", given, &n_given, &set));
    if (set) {
      o->n_alpha = n_given;
      for (PetscInt i = 0; i < n_given; i++) o->alphas[i] = given[i];
    }
  }
  PetscCall(PetscOptionsBool("-hessa_analyze_newton", "Newton (MINRES) and saddle-free Newton directions", "HessaNewtonCompute", o->newton, &o->newton, NULL));
  PetscCall(PetscOptionsInt("-hessa_analyze_sf_dim", "Krylov dimension of saddle-free Newton", "HessaNewtonCompute", o->sf_dim, &o->sf_dim, NULL));
  PetscOptionsEnd();
  PetscCheck(o->k >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_analyze_k must be at least 1, found %" PetscInt_FMT, o->k);
  PetscCheck(o->n_alpha >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_analyze_alphas needs 1 to 8 positive steps");
  for (PetscInt i = 0; i < o->n_alpha; i++) PetscCheck(o->alphas[i] > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_analyze_alphas: steps must be positive, found %g", (double)o->alphas[i]);
  /* the architecture comes from the weight folder: a second one on the command line conflicts */
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_model_weights", &weights));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_mlp_hidden", &hidden));
  PetscCheck(!(weights && hidden), comm, PETSC_ERR_ARG_INCOMP, "conflicting options: -hessa_model_weights takes the architecture from the weight folder's model.json, so -hessa_mlp_hidden cannot be given too");
  PetscFunctionReturn(0);
}

/* ---- JSON helpers: non-finite numbers become null ---- */
static cJSON *Num(double x) { return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull(); }
static void   AddNum(cJSON *o, const char *k, double x) { cJSON_AddItemToObject(o, k, Num(x)); }
static cJSON *NumArray(const double *x, PetscInt n)
{
  cJSON *a = cJSON_CreateArray();
  for (PetscInt i = 0; i < n; i++) cJSON_AddItemToArray(a, Num(x[i]));
  return a;
}

static cJSON *ExtremesJSON(const HessaExtremes *e)
{
  cJSON *a = cJSON_CreateArray();
  for (PetscInt i = 0; i < e->nconv; i++) {
    cJSON *p = cJSON_CreateObject();
    AddNum(p, "value", e->values[i]);
    AddNum(p, "residual", e->residuals[i]);
    cJSON_AddBoolToObject(p, "converged", e->converged[i]);
    cJSON_AddItemToArray(a, p);
  }
  return a;
}

static cJSON *ProbesJSON(const HessaLineProbe *p, PetscBool predicted)
{
  cJSON *a = cJSON_CreateArray();
  for (PetscInt k = 0; k < p->n_alpha; k++) {
    cJSON *o = cJSON_CreateObject();
    AddNum(o, "alpha", p->alpha[k]);
    if (predicted) AddNum(o, "predicted_change", p->predicted[k]);
    if (predicted) AddNum(o, "predicted_change_minus", p->predicted_minus[k]);
    AddNum(o, "change_plus", p->change_plus[k]);
    AddNum(o, "change_minus", p->change_minus[k]);
    cJSON_AddItemToArray(a, o);
  }
  return a;
}

static cJSON *OptionsJSON(void)
{
  cJSON *o = cJSON_CreateObject();
  char  *all, *tok, *save = NULL, *key = NULL;

  if (PetscOptionsGetAll(NULL, &all)) return o;
  for (tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    if (tok[0] == '-' && !(tok[1] >= '0' && tok[1] <= '9') && tok[1] != '.') {
      if (key) cJSON_AddStringToObject(o, key, "");
      key = tok;
    } else if (key) {
      cJSON_AddStringToObject(o, key, tok);
      key = NULL;
    }
  }
  if (key) cJSON_AddStringToObject(o, key, "");
  PetscFree(all);
  return o;
}

static cJSON *Provenance(void)
{
  cJSON *p = cJSON_CreateObject();
  char   v[256], host[256] = "", date[64];
  int    len;
  time_t now = time(NULL);

  cJSON_AddStringToObject(p, "hessa_version", HESSA_VERSION);
  cJSON_AddStringToObject(p, "commit", HessaCommit());
  PetscGetVersion(v, sizeof v);
  cJSON_AddStringToObject(p, "petsc", v);
  SlepcGetVersion(v, sizeof v);
  cJSON_AddStringToObject(p, "slepc", v);
  {
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    MPI_Get_library_version(mpi, &len);
    mpi[strcspn(mpi, ",\n")] = 0;
    cJSON_AddStringToObject(p, "mpi", mpi);
  }
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  cJSON_AddStringToObject(p, "date", date);
  gethostname(host, sizeof host - 1);
  cJSON_AddStringToObject(p, "hostname", host);
  return p;
}

/* Collective: peak resident memory of every rank, in MB (on every rank). */
static PetscErrorCode PeakMemory(MPI_Comm comm, cJSON *cost)
{
  struct rusage ru;
  double        mine, *all;
  PetscMPIInt   size;

  PetscFunctionBegin;
  getrusage(RUSAGE_SELF, &ru);
  mine = (double)ru.ru_maxrss / 1024.0;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc1(size, &all));
  PetscCallMPI(MPI_Allgather(&mine, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, comm));
  cJSON_AddItemToObject(cost, "peak_memory_mb", NumArray(all, size));
  PetscCall(PetscFree(all));
  PetscFunctionReturn(0);
}

/* HessaCliAnalyzeOn - collective on comm: analyse the point the options database
 * describes (model, data, -hessa_analyze_*), write the report into
 * -hessa_analyze_output, and print the verdict when print is set. When doc is not
 * NULL, rank 0 of comm gets the report document (caller frees it with cJSON_Delete;
 * other ranks get NULL). Study mode calls this once per point on each group. */
PetscErrorCode HessaCliAnalyzeOn(MPI_Comm comm, PetscBool print, cJSON **doc_out)
{
  AnalyzeOptions        o;
  HessaData             data;
  HessaModel            model;
  HessaOperator         op;
  HessaExtremes         largest = {0}, smallest = {0};
  HessaFullSpectrum     full = {0};
  HessaDensity          density = {0};
  HessaTrace            trace = {0};
  HessaVerdict          verdict;
  HessaClassifyInput    cin = {0};
  HessaGradientGeometry geo;
  HessaNewton           newton;
  HessaLineProbe        escape;
  PetscBool             have_full = PETSC_FALSE, have_density = PETSC_FALSE, have_escape = PETSC_FALSE;
  Vec                   g, g_op;
  double                loss, gnorm;
  PetscInt              k;
  cJSON                *doc, *results, *v, *inputs, *cost, *probes;
  PetscMPIInt           size;

  PetscFunctionBegin;
  if (doc_out) *doc_out = NULL;
  PetscCall(ReadOptions(comm, &o));
  PetscCall(HessaReportCheckFolder(comm, o.output));
  PetscCall(HessaSetUpFromOptions(comm, &data, &model, &op));
  PetscCallMPI(MPI_Comm_size(comm, &size));

  /* gradient, restricted to the operator's parameters */
  PetscCall(HessaTimerStart("gradient"));
  PetscCall(HessaOperatorCreateParameterVec(op, &g));
  PetscCall(HessaOperatorCreateVec(op, &g_op));
  PetscCall(HessaOperatorGradient(op, &loss, g));
  PetscCall(HessaOperatorRestrict(op, g, g_op));
  PetscCall(VecNorm(g_op, NORM_2, &gnorm));
  PetscCall(HessaTimerStop("gradient"));
  PetscCall(HessaLog(comm, "analyze: loss %.10g, |g| %.3e, n = %" PetscInt_FMT, loss, gnorm, op->n_op));

  /* spectrum: the extremes always (with vectors, for the probes), then the whole
     spectrum when it is small enough, else the density */
  k = PetscMax(1, PetscMin(o.k, op->n_op / 2));
  PetscCall(HessaTimerStart("extremes"));
  PetscCall(HessaSpectrumExtremes(op, HESSA_WHICH_LARGEST, k, o.eps_tol, PETSC_TRUE, &largest));
  /* the smallest eigenvalues are judged against the scale of the spectrum; near a
     critical point the low end of a network's Hessian is a dense cluster near zero,
     where a search space of 80 vectors needs several times fewer products (embedded
     default: 13826 products with SLEPc's default, 2511 with 80) */
  if (largest.nconv > 0) op->spectral_scale = fabs(largest.values[0]);
  op->eps_ncv = 2 * k + 1 < 80 ? 80 : 0;
  PetscCall(HessaSpectrumExtremes(op, HESSA_WHICH_SMALLEST, k, o.eps_tol, PETSC_TRUE, &smallest));
  op->eps_ncv = 0;
  PetscCall(HessaTimerStop("extremes"));
  if (o.full && op->n_op <= o.full_max) {
    PetscCall(HessaTimerStart("full spectrum"));
    PetscCall(HessaSpectrumFull(op, o.zero_tol, &full));
    PetscCall(HessaTimerStop("full spectrum"));
    have_full = PETSC_TRUE;
  } else if (o.density && op->n_op > 1) {
    PetscCall(HessaTimerStart("density"));
    PetscCall(HessaSpectrumDensity(op, o.probes, PetscMin(o.steps, op->n_op), (uint64_t)o.seed, &density));
    PetscCall(HessaTimerStop("density"));
    have_density = PETSC_TRUE;
  }
  if (o.trace_samples > 0) {
    PetscCall(HessaTimerStart("trace"));
    PetscCall(HessaSpectrumTrace(op, HESSA_TRACE_HUTCHINSON, o.trace_samples, (uint64_t)o.seed, &trace));
    PetscCall(HessaTimerStop("trace"));
  }

  /* classification */
  cin.n             = op->n_op;
  cin.loss          = loss;
  cin.gradient_norm = gnorm;
  cin.gradient_tol  = o.gradient_tol;
  cin.zero_tol      = o.zero_tol;
  cin.largest       = &largest;
  cin.smallest      = &smallest;
  cin.full          = have_full ? &full : NULL;
  cin.density       = have_density ? &density : NULL;
  PetscCall(HessaClassify(&cin, &verdict));

  doc     = cJSON_CreateObject();
  results = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "schema", "hessa-report");
  cJSON_AddNumberToObject(doc, "version", 1);
  v = cJSON_AddObjectToObject(doc, "verdict");
  cJSON_AddStringToObject(v, "type", HessaVerdictTypeNames[verdict.type]);
  cJSON_AddStringToObject(v, "summary", verdict.summary);
  cJSON_AddStringToObject(v, "basis", HessaVerdictBasisNames[verdict.basis]);
  AddNum(v, "gradient_norm", verdict.gradient_norm);
  AddNum(v, "gradient_tolerance", verdict.gradient_tol);
  cJSON_AddBoolToObject(v, "critical", verdict.critical);
  AddNum(v, "zero_tolerance", verdict.zero_tol);
  cJSON_AddStringToObject(v, "zero_tolerance_reason", verdict.zero_tol_reason);
  {
    cJSON *c = cJSON_AddObjectToObject(v, "counts");
    cJSON_AddItemToObject(c, "negative", verdict.n_negative >= 0 ? cJSON_CreateNumber((double)verdict.n_negative) : cJSON_CreateNull());
    cJSON_AddItemToObject(c, "zero", verdict.n_zero >= 0 ? cJSON_CreateNumber((double)verdict.n_zero) : cJSON_CreateNull());
    cJSON_AddItemToObject(c, "positive", verdict.n_positive >= 0 ? cJSON_CreateNumber((double)verdict.n_positive) : cJSON_CreateNull());
    cJSON_AddNumberToObject(c, "n", (double)verdict.n);
  }
  AddNum(v, "negative_fraction", verdict.negative_fraction);
  cJSON_AddItemToObject(v, "negative_fraction_se", verdict.negative_fraction_se >= 0 ? Num(verdict.negative_fraction_se) : cJSON_CreateNull());
  AddNum(v, "minimum_ratio", verdict.minimum_ratio);
  cJSON_AddItemToObject(v, "minimum_ratio_se", verdict.minimum_ratio_se >= 0 ? Num(verdict.minimum_ratio_se) : cJSON_CreateNull());
  AddNum(v, "lambda_min", verdict.lambda_min);
  AddNum(v, "lambda_max", verdict.lambda_max);

  /* results */
  AddNum(results, "loss", loss);
  AddNum(results, "gradient_norm", gnorm);
  {
    cJSON *e = cJSON_AddObjectToObject(results, "extremes");
    cJSON_AddStringToObject(e, "eps_type", largest.eps_type);
    AddNum(e, "tolerance", largest.tol);
    cJSON_AddNumberToObject(e, "products", (double)(largest.products + smallest.products));
    cJSON_AddItemToObject(e, "largest", ExtremesJSON(&largest));
    cJSON_AddItemToObject(e, "smallest", ExtremesJSON(&smallest));
  }
  if (have_full) {
    cJSON *f = cJSON_AddObjectToObject(results, "full_spectrum");
    cJSON_AddNumberToObject(f, "n", (double)full.n);
    cJSON_AddItemToObject(f, "values", NumArray(full.values, full.n));
    AddNum(f, "asymmetry", full.asymmetry);
    AddNum(f, "zero_tolerance", full.zero_tol);
    cJSON_AddNumberToObject(f, "negative", (double)full.n_negative);
    cJSON_AddNumberToObject(f, "zero", (double)full.n_zero);
    cJSON_AddNumberToObject(f, "positive", (double)full.n_positive);
    cJSON_AddNumberToObject(f, "products", (double)full.products);
  }
  if (have_density) {
    cJSON *d = cJSON_AddObjectToObject(results, "density"), *nodes = cJSON_CreateArray(), *weights = cJSON_CreateArray();
    cJSON_AddNumberToObject(d, "probes", (double)density.probes);
    cJSON_AddNumberToObject(d, "steps", (double)density.steps);
    AddNum(d, "sigma", density.sigma);
    cJSON_AddItemToObject(d, "grid", NumArray(density.grid, density.n_grid));
    cJSON_AddItemToObject(d, "density", NumArray(density.density, density.n_grid));
    for (PetscInt p = 0; p < density.probes; p++) {
      cJSON_AddItemToArray(nodes, NumArray(density.nodes + p * density.steps, density.probe_steps[p]));
      cJSON_AddItemToArray(weights, NumArray(density.weights + p * density.steps, density.probe_steps[p]));
    }
    cJSON_AddItemToObject(d, "nodes", nodes);
    cJSON_AddItemToObject(d, "weights", weights);
    AddNum(d, "negative_fraction", density.negative_fraction);
    AddNum(d, "negative_fraction_se", density.negative_fraction_se);
    AddNum(d, "positive_fraction", density.positive_fraction);
    AddNum(d, "positive_fraction_se", density.positive_fraction_se);
    AddNum(d, "near_zero_fraction", density.near_zero_fraction);
    AddNum(d, "near_zero_fraction_se", density.near_zero_fraction_se);
    cJSON_AddNumberToObject(d, "products", (double)density.products);
  }
  if (o.trace_samples > 0) {
    cJSON *t = cJSON_AddObjectToObject(results, "trace");
    cJSON_AddStringToObject(t, "method", "hutchinson");
    cJSON_AddNumberToObject(t, "samples", (double)trace.samples);
    AddNum(t, "estimate", trace.estimate);
    AddNum(t, "standard_error", trace.standard_error);
  }

  /* escape along the most negative curvature (background.md section 3) */
  PetscCall(HessaTimerStart("probes"));
  if (verdict.lambda_min < -verdict.zero_tol && smallest.vectors) {
    cJSON *e = cJSON_AddObjectToObject(results, "escape");
    double gd, best = 0;
    PetscCall(HessaProbeDirection(op, smallest.vectors[0], smallest.values[0], g_op, loss, o.n_alpha, o.alphas, &escape));
    PetscCall(VecDot(g_op, smallest.vectors[0], &gd));
    for (PetscInt i = 0; i < escape.n_alpha; i++) best = PetscMin(best, PetscMin(escape.change_plus[i], escape.change_minus[i]));
    AddNum(e, "lambda_min", smallest.values[0]);
    AddNum(e, "gradient_dot_direction", gd);
    cJSON_AddBoolToObject(e, "descent_confirmed", best < -escape.noise);
    cJSON_AddItemToObject(e, "probes", ProbesJSON(&escape, PETSC_TRUE));
    if (op->n_op <= 1000) { /* small problems: the direction itself */
      VecScatter    sc;
      Vec           all;
      const double *a;
      PetscCall(VecScatterCreateToAll(smallest.vectors[0], &sc, &all));
      PetscCall(VecScatterBegin(sc, smallest.vectors[0], all, INSERT_VALUES, SCATTER_FORWARD));
      PetscCall(VecScatterEnd(sc, smallest.vectors[0], all, INSERT_VALUES, SCATTER_FORWARD));
      PetscCall(VecGetArrayRead(all, &a));
      cJSON_AddItemToObject(e, "direction", NumArray(a, op->n_op));
      PetscCall(VecRestoreArrayRead(all, &a));
      PetscCall(VecScatterDestroy(&sc));
      PetscCall(VecDestroy(&all));
    }
    have_escape = PETSC_TRUE;
  }
  /* beyond the second-order test: the loss along zero-curvature eigenvectors */
  probes = NULL;
  for (int end = 0; end < 2; end++) {
    const HessaExtremes *x = end ? &largest : &smallest;
    for (PetscInt i = 0; x->vectors && i < x->nconv; i++) {
      HessaLineProbe p;
      cJSON         *o1;
      if (fabs(x->values[i]) > verdict.zero_tol) continue;
      if (end && smallest.nconv && fabs(smallest.values[0] - x->values[i]) == 0) continue; /* same pair seen from both ends */
      if (!probes) probes = cJSON_AddArrayToObject(results, "degenerate_probes");
      if (cJSON_GetArraySize(probes) >= 4) break;
      PetscCall(HessaProbeDirection(op, x->vectors[i], x->values[i], g_op, loss, o.n_alpha, o.alphas, &p));
      o1 = cJSON_CreateObject();
      AddNum(o1, "eigenvalue", x->values[i]);
      cJSON_AddStringToObject(o1, "behaviour", HessaProbeBehaviour(&p));
      cJSON_AddItemToObject(o1, "probes", ProbesJSON(&p, PETSC_FALSE));
      cJSON_AddItemToArray(probes, o1);
    }
  }
  if (probes) {
    cJSON *h = cJSON_AddArrayToObject(v, "higher_order"), *it;
    cJSON_ArrayForEach(it, probes)
    {
      cJSON *o1 = cJSON_CreateObject();
      cJSON_AddItemToObject(o1, "eigenvalue", cJSON_Duplicate(cJSON_GetObjectItem(it, "eigenvalue"), 1));
      cJSON_AddItemToObject(o1, "behaviour", cJSON_Duplicate(cJSON_GetObjectItem(it, "behaviour"), 1));
      cJSON_AddItemToArray(h, o1);
    }
  }
  PetscCall(HessaTimerStop("probes"));

  /* the gradient's relation to the curvature, and Newton */
  {
    /* at g = 0 only the spectral parts (stability limit, condition number) are defined */
    cJSON *ge = cJSON_AddObjectToObject(results, "gradient_geometry");
    PetscCall(HessaTimerStart("geometry"));
    PetscCall(HessaGradientGeometryCompute(op, g_op, loss, &largest, verdict.lambda_min, &geo));
    PetscCall(HessaTimerStop("geometry"));
    cJSON_AddItemToObject(ge, "curvature_along_gradient", gnorm > 0 ? Num(geo.curvature) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "best_step", geo.has_best_step ? Num(geo.best_step) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "predicted_decrease", geo.has_best_step ? Num(geo.predicted_decrease) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "true_decrease", geo.has_best_step ? Num(geo.true_decrease) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "stability_limit", geo.stability_limit > 0 ? Num(geo.stability_limit) : cJSON_CreateNull());
    cJSON_AddNumberToObject(ge, "top_k", (double)geo.top_k);
    cJSON_AddItemToObject(ge, "top_k_gradient_share", gnorm > 0 ? Num(geo.top_k_share) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "condition_number", geo.condition_number > 0 ? Num(geo.condition_number) : cJSON_CreateNull());
  }
  if (o.newton && gnorm > 0) {
    cJSON *nt = cJSON_AddObjectToObject(results, "newton"), *line = cJSON_CreateArray();
    PetscCall(HessaTimerStart("newton"));
    PetscCall(HessaNewtonCompute(op, g_op, loss, o.sf_dim, verdict.zero_tol, &newton));
    PetscCall(HessaTimerStop("newton"));
    cJSON_AddStringToObject(nt, "solver", newton.solver);
    cJSON_AddNumberToObject(nt, "iterations", (double)newton.iterations);
    cJSON_AddBoolToObject(nt, "converged", newton.converged);
    AddNum(nt, "relative_residual", newton.relative_residual);
    AddNum(nt, "step_norm", newton.step_norm);
    AddNum(nt, "angle_to_negative_gradient_deg", newton.angle_deg);
    AddNum(nt, "loss_after_step", newton.loss_after);
    for (PetscInt i = 0; i < newton.n_line; i++) {
      cJSON *p = cJSON_CreateObject();
      AddNum(p, "t", newton.line_t[i]);
      AddNum(p, "loss", newton.line_loss[i]);
      cJSON_AddItemToArray(line, p);
    }
    cJSON_AddItemToObject(nt, "line", line);
    if (newton.sf_dimension > 0) {
      cJSON *sf = cJSON_AddObjectToObject(nt, "saddle_free");
      cJSON_AddNumberToObject(sf, "subspace_dimension", (double)newton.sf_dimension);
      AddNum(sf, "step_norm", newton.sf_step_norm);
      AddNum(sf, "loss_after_step", newton.sf_loss_after);
      AddNum(sf, "angle_to_negative_gradient_deg", newton.sf_angle_deg);
    }
  }

  /* inputs, cost, provenance */
  inputs = cJSON_CreateObject();
  cJSON_AddStringToObject(inputs, "command", "analyze");
  {
    int    argc;
    char **argv;
    cJSON *a = cJSON_AddArrayToObject(inputs, "argv");
    PetscCall(PetscGetArgs(&argc, &argv));
    for (int i = 0; i < argc; i++) cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
  }
  {
    cJSON *m = cJSON_AddObjectToObject(inputs, "model"), *d = cJSON_AddObjectToObject(inputs, "data");
    cJSON_AddStringToObject(m, "kind", model->kind);
    cJSON_AddStringToObject(m, "description", model->obj->description);
    cJSON_AddNumberToObject(m, "n", (double)model->obj->n);
    cJSON_AddStringToObject(d, "description", data->source == HESSA_DATA_NONE ? "none (analytic objective)" : data->description);
    cJSON_AddNumberToObject(d, "samples", (double)model->obj->n_samples);
    cJSON_AddNumberToObject(d, "features", (double)data->n_features);
  }
  cJSON_AddStringToObject(inputs, "operator", op->curvature == HESSA_CURVATURE_GGN ? "ggn" : "hessian");
  cJSON_AddStringToObject(inputs, "subset", op->subset_spec);
  cJSON_AddNumberToObject(inputs, "ranks", (double)size);
  cJSON_AddNumberToObject(inputs, "seed", (double)o.seed);
  cJSON_AddItemToObject(inputs, "options", OptionsJSON());
  cJSON_AddItemToObject(doc, "inputs", inputs);
  cJSON_AddItemToObject(doc, "results", results);
  cost = cJSON_AddObjectToObject(doc, "cost");
  cJSON_AddNumberToObject(cost, "products", (double)op->n_products);
  cJSON_AddNumberToObject(cost, "gradient_evaluations", (double)op->n_gradients);
  {
    cJSON *secs = cJSON_AddObjectToObject(cost, "seconds");
    for (PetscInt i = 0; i < HessaTimerCount(); i++) {
      const char *name;
      double      s;
      PetscCall(HessaTimerEntry(i, &name, &s));
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &s, 1, MPI_DOUBLE, MPI_MAX, comm));
      AddNum(secs, name, s);
    }
  }
  PetscCall(PeakMemory(comm, cost));
  cJSON_AddItemToObject(doc, "provenance", Provenance());

  PetscCall(HessaReportWrite(comm, doc, o.output));
  if (print) PetscCall(PetscPrintf(comm, "verdict: %s\n%s\n", HessaVerdictTypeNames[verdict.type], verdict.summary));
  if (print && have_escape) PetscCall(PetscPrintf(comm, "escape: along the eigenvector of %.6g the loss changes by %.3e / %.3e at alpha = +-%g (predicted %.3e)\n", smallest.values[0], escape.change_plus[escape.n_alpha - 1], escape.change_minus[escape.n_alpha - 1], escape.alpha[escape.n_alpha - 1], escape.predicted[escape.n_alpha - 1]));
  if (print) PetscCall(PetscPrintf(comm, "report: %s/report.md (and report.json, CSV, plots); %" PetscInt64_FMT " Hessian-vector products\n", o.output, op->n_products));
  {
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    if (doc_out && rank == 0) *doc_out = doc;
    else cJSON_Delete(doc);
  }

  PetscCall(HessaExtremesDestroy(&largest));
  PetscCall(HessaExtremesDestroy(&smallest));
  if (have_full) PetscCall(HessaFullSpectrumDestroy(&full));
  if (have_density) PetscCall(HessaDensityDestroy(&density));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&g_op));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaCliAnalyze(void)
{
  PetscFunctionBegin;
  PetscCall(InsertDefaults());
  PetscCall(HessaCliAnalyzeOn(PETSC_COMM_WORLD, PETSC_TRUE, NULL));
  PetscFunctionReturn(0);
}
