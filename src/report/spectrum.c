/* The output folder of `hessa spectrum -hessa_spectrum_output FOLDER` (docs/spectrum.md):
 * report.json (schema "hessa-spectrum-report", version 1; partial after a graceful stop,
 * with what is missing) and, for a complete run, the report set of hessa analyze for what
 * was computed (report.md, eigenvalues.csv, density.csv, density_nodes.csv, plots) plus
 * trace.csv, through the report layer's writers. Rank 0 writes, atomically; a fault ends
 * every rank with one message. */
#include "report_impl.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *trace_names[2]  = {"hutchinson", "hutchpp"}; /* the option values, trace.csv, the top-level "trace" */
static const char *result_names[2] = {"hutchinson", "hutch++"}; /* results.trace.method, as in analyze's report */

/* Is trace method i (0 Hutchinson, 1 Hutch++) part of the run? */
static PetscBool TraceOn(const HessaSpectrumKey *key, int i)
{
  return key->trace && (key->trace_method == 2 || key->trace_method == i) ? PETSC_TRUE : PETSC_FALSE;
}

static cJSON *Num(double x)
{
  return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

static cJSON *NumArray(const double *x, PetscInt n)
{
  cJSON *a = cJSON_CreateArray();
  for (PetscInt i = 0; i < n; i++) cJSON_AddItemToArray(a, Num(x[i]));
  return a;
}

static cJSON *Pairs(const HessaExtremes *e)
{
  cJSON *a = cJSON_CreateArray();
  for (PetscInt i = 0; i < e->nconv; i++) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "value", Num(e->values[i]));
    cJSON_AddItemToObject(p, "residual", Num(e->residuals[i]));
    cJSON_AddBoolToObject(p, "converged", e->converged[i]);
    cJSON_AddItemToArray(a, p);
  }
  return a;
}

/* Rank 0: "results" in the layout of hessa analyze's report (docs/report-schema.md), so the
 * report layer's CSV, plot and Markdown writers read both; only what this run computed. */
static cJSON *Results(const HessaSpectrumReport *r)
{
  const HessaSpectrumKey *key     = r->key;
  cJSON                  *results = cJSON_CreateObject();

  cJSON_AddItemToObject(results, "loss", Num(r->loss));
  cJSON_AddItemToObject(results, "gradient_norm", Num(r->gradient_norm));
  if (r->ex && (r->ex[0].nev > 0 || r->ex[1].nev > 0)) {
    cJSON *e = cJSON_AddObjectToObject(results, "extremes");
    cJSON_AddStringToObject(e, "eps_type", r->ex[0].nev > 0 ? r->ex[0].eps_type : r->ex[1].eps_type);
    cJSON_AddItemToObject(e, "tolerance", Num(r->ex[0].nev > 0 ? r->ex[0].tol : r->ex[1].tol));
    cJSON_AddNumberToObject(e, "products", (double)(r->ex[0].products + r->ex[1].products));
    cJSON_AddItemToObject(e, "largest", Pairs(&r->ex[0]));
    cJSON_AddItemToObject(e, "smallest", Pairs(&r->ex[1]));
  }
  if (r->full && r->full->n > 0) {
    const HessaFullSpectrum *full = r->full;
    cJSON                   *f    = cJSON_AddObjectToObject(results, "full_spectrum");
    cJSON_AddNumberToObject(f, "n", (double)full->n);
    cJSON_AddItemToObject(f, "values", NumArray(full->values, full->n));
    cJSON_AddItemToObject(f, "asymmetry", Num(full->asymmetry));
    cJSON_AddItemToObject(f, "zero_tolerance", Num(full->zero_tol));
    cJSON_AddNumberToObject(f, "negative", (double)full->n_negative);
    cJSON_AddNumberToObject(f, "zero", (double)full->n_zero);
    cJSON_AddNumberToObject(f, "positive", (double)full->n_positive);
    cJSON_AddNumberToObject(f, "products", (double)full->products);
  }
  if (key->density && r->density->density && r->density->probes_done == r->density->probes) {
    const HessaDensity *d = r->density;
    cJSON              *o = cJSON_AddObjectToObject(results, "density"), *nodes = cJSON_CreateArray(), *weights = cJSON_CreateArray();
    cJSON_AddNumberToObject(o, "probes", (double)d->probes);
    cJSON_AddNumberToObject(o, "steps", (double)d->steps);
    cJSON_AddItemToObject(o, "sigma", Num(d->sigma));
    cJSON_AddItemToObject(o, "grid", NumArray(d->grid, d->n_grid));
    cJSON_AddItemToObject(o, "density", NumArray(d->density, d->n_grid));
    for (PetscInt p = 0; p < d->probes; p++) {
      cJSON_AddItemToArray(nodes, NumArray(d->nodes + p * d->steps, d->probe_steps[p]));
      cJSON_AddItemToArray(weights, NumArray(d->weights + p * d->steps, d->probe_steps[p]));
    }
    cJSON_AddItemToObject(o, "nodes", nodes);
    cJSON_AddItemToObject(o, "weights", weights);
    cJSON_AddItemToObject(o, "negative_fraction", Num(d->negative_fraction));
    cJSON_AddItemToObject(o, "negative_fraction_se", Num(d->negative_fraction_se));
    cJSON_AddItemToObject(o, "positive_fraction", Num(d->positive_fraction));
    cJSON_AddItemToObject(o, "positive_fraction_se", Num(d->positive_fraction_se));
    cJSON_AddItemToObject(o, "near_zero_fraction", Num(d->near_zero_fraction));
    cJSON_AddItemToObject(o, "near_zero_fraction_se", Num(d->near_zero_fraction_se));
    cJSON_AddNumberToObject(o, "products", (double)d->products);
  }
  for (int i = 0; i < 2; i++) { /* analyze's report has one trace: Hutchinson's when both ran */
    const HessaTrace *t = &r->trace[i];
    cJSON            *o;
    if (!TraceOn(key, i) || r->partial || t->done != t->n_q) continue;
    o = cJSON_AddObjectToObject(results, "trace");
    cJSON_AddStringToObject(o, "method", result_names[i]);
    cJSON_AddNumberToObject(o, "samples", (double)t->samples);
    cJSON_AddItemToObject(o, "estimate", Num(t->estimate));
    cJSON_AddItemToObject(o, "standard_error", Num(t->standard_error));
    break;
  }
  return results;
}

/* Rank 0: the report document; "missing" lists what a partial run has not computed. */
static cJSON *ReportDoc(const HessaSpectrumReport *r)
{
  const HessaSpectrumKey *key = r->key;
  const HessaDensity     *d   = r->density;
  const HessaTrace       *t   = r->trace;
  cJSON                  *doc = cJSON_CreateObject(), *missing = cJSON_CreateArray(), *traces = cJSON_CreateArray(), *inputs, *cost;
  char                    msg[160];
  int                     argc;
  char                  **argv;

  cJSON_AddStringToObject(doc, "schema", "hessa-spectrum-report");
  cJSON_AddNumberToObject(doc, "version", 1);
  cJSON_AddStringToObject(doc, "command", "spectrum");
  cJSON_AddStringToObject(doc, "hessa_version", HESSA_VERSION);
  cJSON_AddBoolToObject(doc, "partial", r->partial);
  cJSON_AddStringToObject(doc, "model", key->model);
  cJSON_AddNumberToObject(doc, "n", (double)key->n_op);
  cJSON_AddNumberToObject(doc, "products", (double)r->products);
  if (key->density) {
    cJSON *o = cJSON_AddObjectToObject(doc, "density");
    cJSON_AddNumberToObject(o, "probes", (double)d->probes);
    cJSON_AddNumberToObject(o, "probes_done", (double)d->probes_done);
    cJSON_AddNumberToObject(o, "steps", (double)d->steps);
    cJSON_AddNumberToObject(o, "seed", (double)d->seed);
    if (d->probes_done == d->probes && d->density) {
      cJSON_AddNumberToObject(o, "negative_fraction", d->negative_fraction);
      cJSON_AddNumberToObject(o, "positive_fraction", d->positive_fraction);
      cJSON_AddNumberToObject(o, "near_zero_fraction", d->near_zero_fraction);
      cJSON_AddNumberToObject(o, "sigma", d->sigma);
      cJSON_AddStringToObject(o, "grid_file", "density.csv");
    } else {
      snprintf(msg, sizeof msg, "density: probes %d-%d of %d", (int)d->probes_done + 1, (int)d->probes, (int)d->probes);
      cJSON_AddItemToArray(missing, cJSON_CreateString(msg));
    }
  }
  for (int i = 0; i < 2; i++) {
    cJSON *o;
    if (!TraceOn(key, i)) continue;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "method", trace_names[i]);
    cJSON_AddNumberToObject(o, "samples", (double)t[i].samples);
    cJSON_AddNumberToObject(o, "probes_done", (double)t[i].done);
    if (t[i].done == t[i].n_q && (i == 0 || t[i].low_rank_done) && !r->partial) {
      cJSON_AddNumberToObject(o, "estimate", t[i].estimate);
      cJSON_AddNumberToObject(o, "standard_error", t[i].standard_error);
    } else {
      snprintf(msg, sizeof msg, "trace (%s): %d of %d probes%s", trace_names[i], (int)t[i].done, (int)t[i].n_q, i == 1 && !t[i].low_rank_done ? ", low-rank part" : "");
      cJSON_AddItemToArray(missing, cJSON_CreateString(msg));
    }
    cJSON_AddItemToArray(traces, o);
  }
  cJSON_AddItemToObject(doc, "trace", traces);
  cJSON_AddItemToObject(doc, "missing", missing);
  cJSON_AddItemToObject(doc, "results", Results(r));
  inputs = cJSON_AddObjectToObject(doc, "inputs");
  cJSON_AddStringToObject(inputs, "command", "spectrum");
  {
    cJSON *args = cJSON_AddArrayToObject(inputs, "argv"), *model = cJSON_AddObjectToObject(inputs, "model");
    if (!PetscGetArgs(&argc, &argv))
      for (int i = 0; i < argc; i++) cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
    cJSON_AddStringToObject(model, "description", key->model);
    cJSON_AddNumberToObject(model, "n", (double)r->n_params);
  }
  cJSON_AddStringToObject(inputs, "operator", r->operator_name ? r->operator_name : "hessian");
  cJSON_AddStringToObject(inputs, "subset", r->subset ? r->subset : "");
  cJSON_AddNumberToObject(inputs, "ranks", (double)r->ranks);
  cJSON_AddItemToObject(inputs, "options", HessaReportOptionsJSON());
  cost = cJSON_AddObjectToObject(doc, "cost");
  cJSON_AddNumberToObject(cost, "products", (double)r->products);
  cJSON_AddItemToObject(doc, "provenance", HessaReportProvenanceJSON());
  return doc;
}

/* HessaReportSpectrum - collective on comm; see report.h. A partial run writes report.json
 * only; a complete one trace.csv, then the report set through HessaReportWrite (report.json
 * last, so a complete report.json means a complete folder). */
PetscErrorCode HessaReportSpectrum(MPI_Comm comm, const char folder[], const HessaSpectrumReport *r)
{
  PetscMPIInt rank;
  HessaStatus st  = {0, ""};
  cJSON      *doc = NULL;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    doc = ReportDoc(r);
    if (r->partial) {
      HessaText json = {0};
      json.data      = cJSON_Print(doc);
      json.failed    = json.data == NULL;
      if (json.data) json.len = json.cap = strlen(json.data);
      HessaReportWriteText(folder, "report.json", &json, &st);
      HessaTextFree(&json);
    } else if (r->key->trace) {
      HessaText  table = {0};
      HessaTrace on[2];
      PetscInt   n = 0;
      for (int i = 0; i < 2; i++)
        if (TraceOn(r->key, i)) on[n++] = r->trace[i];
      HessaCSVTrace(&table, n, on);
      HessaReportWriteText(folder, "trace.csv", &table, &st);
      HessaTextFree(&table);
    } else {
      char path[PETSC_MAX_PATH_LEN];
      snprintf(path, sizeof path, "%s/trace.csv", folder);
      if (remove(path) != 0 && errno != ENOENT) HessaStatusSet(&st, PETSC_ERR_FILE_WRITE, "report file '%s': cannot remove the previous run's file: %s", path, strerror(errno));
    }
  }
  PetscCall(HessaSyncError(comm, &st));
  if (!r->partial) {
    PetscErrorCode ierr = HessaReportWrite(comm, doc, folder);
    cJSON_Delete(doc);
    PetscCall(ierr);
  } else
    cJSON_Delete(doc);
  PetscFunctionReturn(0);
}

/* HessaReportSpectrumCSV - collective on comm; see report.h. */
PetscErrorCode HessaReportSpectrumCSV(MPI_Comm comm, const char prefix[], const HessaExtremes ex[2], const HessaFullSpectrum *full, const HessaDensity *d)
{
  PetscMPIInt rank;
  HessaStatus st = {0, ""};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    const char *names[3] = {"eigenvalues", "density", "density_nodes"};
    for (int k = 0; k < 3 && !st.code; k++) {
      HessaText t = {0};
      char      path[PETSC_MAX_PATH_LEN];
      if (k > 0 && !d) break;
      if (k == 0)
        HessaCSVEigenvalues(&t, &ex[0], &ex[1], full ? full->n : 0, full ? full->values : NULL);
      else if (k == 1)
        HessaCSVDensity(&t, d);
      else
        HessaCSVDensityNodes(&t, d);
      if (snprintf(path, sizeof path, "%s_%s.csv", prefix, names[k]) >= (int)sizeof path)
        HessaStatusSet(&st, HESSA_ERR_ARG, "-hessa_spectrum_csv %s: path too long", prefix);
      else if (t.failed)
        HessaStatusSet(&st, PETSC_ERR_MEM, "-hessa_spectrum_csv: out of memory while building %s", path);
      else
        PetscCall(HessaWriteFileAtomic(path, t.data ? t.data : "", &st));
      HessaTextFree(&t);
    }
  }
  PetscCall(HessaSyncError(comm, &st));
  PetscFunctionReturn(0);
}
