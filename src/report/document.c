/* The report document of one analysis (docs/report-schema.md): HessaAnalysis -> cJSON.
 * Non-finite numbers become null. Only rank 0 builds it; nothing here is recomputed. */
#include "report_impl.h"
#include <slepcsys.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static cJSON *Num(double x)
{
  return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}
static void AddNum(cJSON *o, const char *k, double x)
{
  cJSON_AddItemToObject(o, k, Num(x));
}
static cJSON *NumArray(const double *x, PetscInt n)
{
  cJSON *a = cJSON_CreateArray();
  for (PetscInt i = 0; i < n; i++) cJSON_AddItemToArray(a, Num(x[i]));
  return a;
}
static cJSON *Count(PetscInt n)
{
  return n >= 0 ? cJSON_CreateNumber((double)n) : cJSON_CreateNull();
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

/* The options database as {"-key": "value"} (flags map to ""). */
cJSON *HessaReportOptionsJSON(void)
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

cJSON *HessaReportProvenanceJSON(void)
{
  cJSON *p = cJSON_CreateObject();
  char   v[256], host[256] = "", date[64];
  int    len;
  time_t now = time(NULL);

  cJSON_AddStringToObject(p, "hessa_version", HESSA_VERSION);
  cJSON_AddStringToObject(p, "commit", HessaCommit());
  {
    /* the numbers only: the version strings repeat the library's name and add a date */
    PetscInt major = 0, minor = 0, sub = 0, release = 0;
    PetscGetVersionNumber(&major, &minor, &sub, &release);
    snprintf(v, sizeof v, "%d.%d.%d", (int)major, (int)minor, (int)sub);
    cJSON_AddStringToObject(p, "petsc", v);
    SlepcGetVersionNumber(&major, &minor, &sub, &release);
    snprintf(v, sizeof v, "%d.%d.%d", (int)major, (int)minor, (int)sub);
    cJSON_AddStringToObject(p, "slepc", v);
  }
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

static cJSON *VerdictJSON(const HessaAnalysis *a)
{
  const HessaVerdict *vd = &a->verdict;
  cJSON              *v  = cJSON_CreateObject(), *c;

  if (a->stopped && a->stopped_at <= HESSA_PHASE_CLASSIFY) {
    char summary[160];
    snprintf(summary, sizeof summary, "Stopped on request before the %s phase: no classification (partial report).", HessaAnalysisPhaseNames[a->stopped_at]);
    cJSON_AddStringToObject(v, "type", "stopped");
    cJSON_AddStringToObject(v, "summary", summary);
    return v;
  }
  cJSON_AddStringToObject(v, "type", HessaVerdictTypeNames[vd->type]);
  cJSON_AddStringToObject(v, "summary", vd->summary);
  cJSON_AddStringToObject(v, "basis", HessaVerdictBasisNames[vd->basis]);
  AddNum(v, "gradient_norm", vd->gradient_norm);
  AddNum(v, "gradient_tolerance", vd->gradient_tol);
  cJSON_AddBoolToObject(v, "critical", vd->critical);
  AddNum(v, "zero_tolerance", vd->zero_tol);
  cJSON_AddStringToObject(v, "zero_tolerance_reason", vd->zero_tol_reason);
  c = cJSON_AddObjectToObject(v, "counts");
  cJSON_AddItemToObject(c, "negative", Count(vd->n_negative));
  cJSON_AddItemToObject(c, "zero", Count(vd->n_zero));
  cJSON_AddItemToObject(c, "positive", Count(vd->n_positive));
  cJSON_AddNumberToObject(c, "n", (double)vd->n);
  AddNum(v, "negative_fraction", vd->negative_fraction);
  cJSON_AddItemToObject(v, "negative_fraction_se", vd->negative_fraction_se >= 0 ? Num(vd->negative_fraction_se) : cJSON_CreateNull());
  AddNum(v, "minimum_ratio", vd->minimum_ratio);
  cJSON_AddItemToObject(v, "minimum_ratio_se", vd->minimum_ratio_se >= 0 ? Num(vd->minimum_ratio_se) : cJSON_CreateNull());
  AddNum(v, "lambda_min", vd->lambda_min);
  AddNum(v, "lambda_max", vd->lambda_max);
  HessaReportVerdictJSON(a, v);
  if (a->n_degenerate > 0) {
    cJSON *h = cJSON_AddArrayToObject(v, "higher_order");
    for (PetscInt i = 0; i < a->n_degenerate; i++) {
      cJSON *o = cJSON_CreateObject();
      AddNum(o, "eigenvalue", a->degenerate[i].eigenvalue);
      cJSON_AddStringToObject(o, "behaviour", HessaProbeBehaviour(&a->degenerate[i].probe));
      cJSON_AddItemToArray(h, o);
    }
  }
  return v;
}

static void SpectrumJSON(const HessaAnalysis *a, cJSON *results)
{
  if (a->stopped_at > HESSA_PHASE_EXTREMES) {
    cJSON *e = cJSON_AddObjectToObject(results, "extremes");
    cJSON_AddStringToObject(e, "eps_type", a->largest.eps_type);
    AddNum(e, "tolerance", a->largest.tol);
    cJSON_AddNumberToObject(e, "products", (double)(a->largest.products + a->smallest.products));
    cJSON_AddItemToObject(e, "largest", ExtremesJSON(&a->largest));
    cJSON_AddItemToObject(e, "smallest", ExtremesJSON(&a->smallest));
  }
  if (a->have_full) {
    const HessaFullSpectrum *full = &a->full;
    cJSON                   *f    = cJSON_AddObjectToObject(results, "full_spectrum");
    cJSON_AddNumberToObject(f, "n", (double)full->n);
    cJSON_AddItemToObject(f, "values", NumArray(full->values, full->n));
    AddNum(f, "asymmetry", full->asymmetry);
    AddNum(f, "zero_tolerance", full->zero_tol);
    cJSON_AddNumberToObject(f, "negative", (double)full->n_negative);
    cJSON_AddNumberToObject(f, "zero", (double)full->n_zero);
    cJSON_AddNumberToObject(f, "positive", (double)full->n_positive);
    cJSON_AddNumberToObject(f, "products", (double)full->products);
  }
  if (a->have_density) {
    const HessaDensity *density = &a->density;
    cJSON              *d = cJSON_AddObjectToObject(results, "density"), *nodes = cJSON_CreateArray(), *weights = cJSON_CreateArray();
    cJSON_AddNumberToObject(d, "probes", (double)density->probes);
    cJSON_AddNumberToObject(d, "steps", (double)density->steps);
    AddNum(d, "sigma", density->sigma);
    cJSON_AddItemToObject(d, "grid", NumArray(density->grid, density->n_grid));
    cJSON_AddItemToObject(d, "density", NumArray(density->density, density->n_grid));
    for (PetscInt p = 0; p < density->probes; p++) {
      cJSON_AddItemToArray(nodes, NumArray(density->nodes + p * density->steps, density->probe_steps[p]));
      cJSON_AddItemToArray(weights, NumArray(density->weights + p * density->steps, density->probe_steps[p]));
    }
    cJSON_AddItemToObject(d, "nodes", nodes);
    cJSON_AddItemToObject(d, "weights", weights);
    AddNum(d, "negative_fraction", density->negative_fraction);
    AddNum(d, "negative_fraction_se", density->negative_fraction_se);
    AddNum(d, "positive_fraction", density->positive_fraction);
    AddNum(d, "positive_fraction_se", density->positive_fraction_se);
    AddNum(d, "near_zero_fraction", density->near_zero_fraction);
    AddNum(d, "near_zero_fraction_se", density->near_zero_fraction_se);
    AddNum(d, "near_zero_width", density->near_zero_width);
    cJSON_AddNumberToObject(d, "products", (double)density->products);
  }
  if (a->have_trace) {
    cJSON *t = cJSON_AddObjectToObject(results, "trace");
    cJSON_AddStringToObject(t, "method", a->trace.exact ? "exact" : a->trace.method == HESSA_TRACE_HUTCHPP ? "hutch++" : "hutchinson");
    cJSON_AddBoolToObject(t, "exact", a->trace.exact);
    cJSON_AddNumberToObject(t, "samples", (double)a->trace.samples);
    AddNum(t, "estimate", a->trace.estimate);
    AddNum(t, "standard_error", a->trace.standard_error);
  }
}

static void ProbesAndGeometryJSON(const HessaAnalysis *a, cJSON *results)
{
  const HessaGradientGeometry *geo   = &a->geometry;
  double                       gnorm = a->gradient_norm;

  if (a->have_escape) {
    cJSON *e = cJSON_AddObjectToObject(results, "escape");
    AddNum(e, "lambda_min", a->escape_lambda);
    AddNum(e, "gradient_dot_direction", a->escape_gradient_dot);
    cJSON_AddBoolToObject(e, "descent_confirmed", a->escape_descent);
    cJSON_AddItemToObject(e, "probes", ProbesJSON(&a->escape, PETSC_TRUE));
    if (a->escape_direction) cJSON_AddItemToObject(e, "direction", NumArray(a->escape_direction, a->n_escape_direction));
  }
  if (a->n_degenerate > 0) {
    cJSON *probes = cJSON_AddArrayToObject(results, "degenerate_probes");
    for (PetscInt i = 0; i < a->n_degenerate; i++) {
      cJSON *o = cJSON_CreateObject();
      AddNum(o, "eigenvalue", a->degenerate[i].eigenvalue);
      cJSON_AddStringToObject(o, "behaviour", HessaProbeBehaviour(&a->degenerate[i].probe));
      cJSON_AddItemToObject(o, "probes", ProbesJSON(&a->degenerate[i].probe, PETSC_FALSE));
      cJSON_AddItemToArray(probes, o);
    }
  }
  if (a->stopped_at > HESSA_PHASE_GEOMETRY) {
    cJSON *ge = cJSON_AddObjectToObject(results, "gradient_geometry");
    cJSON_AddItemToObject(ge, "curvature_along_gradient", gnorm > 0 ? Num(geo->curvature) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "best_step", geo->has_best_step ? Num(geo->best_step) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "predicted_decrease", geo->has_best_step ? Num(geo->predicted_decrease) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "true_decrease", geo->has_best_step ? Num(geo->true_decrease) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "stability_limit", geo->stability_limit > 0 ? Num(geo->stability_limit) : cJSON_CreateNull());
    cJSON_AddNumberToObject(ge, "top_k", (double)geo->top_k);
    cJSON_AddItemToObject(ge, "top_k_gradient_share", gnorm > 0 ? Num(geo->top_k_share) : cJSON_CreateNull());
    cJSON_AddItemToObject(ge, "condition_number", geo->condition_number > 0 ? Num(geo->condition_number) : cJSON_CreateNull());
  }
}

static void NewtonJSON(const HessaNewton *newton, cJSON *results)
{
  cJSON *nt = cJSON_AddObjectToObject(results, "newton"), *line;

  if (newton->skipped) { /* a critical point: nothing computed, the reason instead */
    cJSON_AddBoolToObject(nt, "skipped", 1);
    cJSON_AddStringToObject(nt, "reason", newton->reason);
    return;
  }
  line = cJSON_CreateArray();
  if (newton->note[0]) cJSON_AddStringToObject(nt, "note", newton->note);
  cJSON_AddStringToObject(nt, "solver", newton->solver);
  cJSON_AddNumberToObject(nt, "iterations", (double)newton->iterations);
  cJSON_AddBoolToObject(nt, "converged", newton->converged);
  AddNum(nt, "relative_residual", newton->relative_residual);
  AddNum(nt, "step_norm", newton->step_norm);
  AddNum(nt, "angle_to_negative_gradient_deg", newton->angle_deg);
  AddNum(nt, "loss_after_step", newton->loss_after);
  for (PetscInt i = 0; i < newton->n_line; i++) {
    cJSON *p = cJSON_CreateObject();
    AddNum(p, "t", newton->line_t[i]);
    AddNum(p, "loss", newton->line_loss[i]);
    cJSON_AddItemToArray(line, p);
  }
  cJSON_AddItemToObject(nt, "line", line);
  if (newton->sf_dimension > 0) {
    cJSON *sf = cJSON_AddObjectToObject(nt, "saddle_free");
    cJSON_AddNumberToObject(sf, "subspace_dimension", (double)newton->sf_dimension);
    AddNum(sf, "step_norm", newton->sf_step_norm);
    AddNum(sf, "loss_after_step", newton->sf_loss_after);
    AddNum(sf, "angle_to_negative_gradient_deg", newton->sf_angle_deg);
  }
}

static cJSON *InputsJSON(const HessaAnalysis *a)
{
  cJSON *inputs = cJSON_CreateObject(), *m, *d, *args;
  int    argc;
  char **argv;

  cJSON_AddStringToObject(inputs, "command", "analyze");
  args = cJSON_AddArrayToObject(inputs, "argv");
  if (!PetscGetArgs(&argc, &argv))
    for (int i = 0; i < argc; i++) cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
  m = cJSON_AddObjectToObject(inputs, "model");
  d = cJSON_AddObjectToObject(inputs, "data");
  cJSON_AddStringToObject(m, "kind", a->model_kind);
  cJSON_AddStringToObject(m, "description", a->model_description);
  cJSON_AddNumberToObject(m, "n", (double)a->n);
  cJSON_AddStringToObject(d, "description", a->data_description);
  cJSON_AddNumberToObject(d, "samples", (double)a->samples);
  cJSON_AddNumberToObject(d, "features", (double)a->features);
  cJSON_AddStringToObject(inputs, "operator", a->curvature == HESSA_CURVATURE_GGN ? "ggn" : "hessian");
  cJSON_AddStringToObject(inputs, "subset", a->subset);
  cJSON_AddNumberToObject(inputs, "ranks", (double)a->ranks);
  cJSON_AddNumberToObject(inputs, "seed", (double)a->seed);
  cJSON_AddItemToObject(inputs, "options", HessaReportOptionsJSON());
  return inputs;
}

static cJSON *CostJSON(const HessaAnalysis *a)
{
  cJSON *cost = cJSON_CreateObject(), *secs;

  cJSON_AddNumberToObject(cost, "products", (double)a->products);
  cJSON_AddNumberToObject(cost, "gradient_evaluations", (double)a->gradients);
  secs = cJSON_AddObjectToObject(cost, "seconds");
  for (PetscInt i = 0; i < a->n_timers; i++) AddNum(secs, a->timer_name[i], a->timer_seconds[i]);
  cJSON_AddItemToObject(cost, "peak_memory_mb", NumArray(a->peak_memory_mb, a->peak_memory_mb ? a->ranks : 0));
  return cost;
}

/* HessaReportAnalysisDocument - not collective: the report document of an analysis (caller
 * frees it with cJSON_Delete). A stopped analysis gives a partial document: "partial": true,
 * "stopped_before" the phase it did not run, and only the parts computed before it. */
cJSON *HessaReportAnalysisDocument(const HessaAnalysis *a)
{
  cJSON *doc = cJSON_CreateObject(), *results;

  cJSON_AddStringToObject(doc, "schema", "hessa-report");
  cJSON_AddNumberToObject(doc, "version", 1);
  cJSON_AddItemToObject(doc, "verdict", VerdictJSON(a));
  if (a->stopped) {
    cJSON_AddBoolToObject(doc, "partial", 1);
    cJSON_AddStringToObject(doc, "stopped_before", HessaAnalysisPhaseNames[a->stopped_at]);
  }
  cJSON_AddItemToObject(doc, "inputs", InputsJSON(a));
  results = cJSON_AddObjectToObject(doc, "results");
  AddNum(results, "loss", a->loss);
  AddNum(results, "gradient_norm", a->gradient_norm);
  SpectrumJSON(a, results);
  ProbesAndGeometryJSON(a, results);
  if (a->have_newton) NewtonJSON(&a->newton, results);
  cJSON_AddItemToObject(doc, "cost", CostJSON(a));
  cJSON_AddItemToObject(doc, "provenance", HessaReportProvenanceJSON());
  return doc;
}

/* HessaReportAnalysis - collective on comm: rank 0 builds the document of a and writes
 * report.json, report.md, CSV files and plots into folder (HessaReportWrite). When doc_out is
 * not NULL, rank 0 gets the document (caller deletes it), other ranks NULL. */
PetscErrorCode HessaReportAnalysis(MPI_Comm comm, const HessaAnalysis *a, const char folder[], cJSON **doc_out)
{
  PetscMPIInt    rank;
  cJSON         *doc = NULL;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  if (doc_out) *doc_out = NULL;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) doc = HessaReportAnalysisDocument(a);
  ierr = HessaReportWrite(comm, doc, folder);
  if (doc_out && !ierr)
    *doc_out = doc;
  else
    cJSON_Delete(doc);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
