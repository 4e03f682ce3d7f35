/* The output folder of `hessa spectrum -hessa_spectrum_output FOLDER` (docs/spectrum.md):
 * report.json (schema "hessa-spectrum-report", version 1; partial after a graceful stop,
 * with what is missing), and for a complete run density.csv, slq_nodes.csv and trace.csv
 * through the report layer's table writers. Rank 0 writes, atomically; a fault ends every
 * rank with one message. */
#include "report_impl.h"
#include <stdio.h>

static const char *trace_names[2] = {"hutchinson", "hutchpp"};

/* Is trace method i (0 Hutchinson, 1 Hutch++) part of the run? */
static PetscBool TraceOn(const HessaSpectrumKey *key, int i)
{
  return key->trace && (key->trace_method == 2 || key->trace_method == i) ? PETSC_TRUE : PETSC_FALSE;
}

/* Rank 0: the report document; "missing" lists what a partial run has not computed. */
static cJSON *ReportDoc(const HessaSpectrumKey *key, const HessaDensity *d, const HessaTrace t[2], PetscBool partial, PetscInt64 products)
{
  cJSON *doc = cJSON_CreateObject(), *missing = cJSON_CreateArray(), *traces = cJSON_CreateArray();
  char   msg[160];

  cJSON_AddStringToObject(doc, "schema", "hessa-spectrum-report");
  cJSON_AddNumberToObject(doc, "version", 1);
  cJSON_AddStringToObject(doc, "command", "spectrum");
  cJSON_AddStringToObject(doc, "hessa_version", HESSA_VERSION);
  cJSON_AddBoolToObject(doc, "partial", partial);
  cJSON_AddStringToObject(doc, "model", key->model);
  cJSON_AddNumberToObject(doc, "n", (double)key->n_op);
  cJSON_AddNumberToObject(doc, "products", (double)products);
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
    if (t[i].done == t[i].n_q && (i == 0 || t[i].low_rank_done) && !partial) {
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
  return doc;
}

/* Rank 0: one table into folder/name. */
static void WriteTable(const char folder[], const char name[], HessaText *t, HessaStatus *st)
{
  if (!st->code) HessaReportWriteText(folder, name, t, st);
  HessaTextFree(t);
}

/* HessaReportSpectrum - collective on comm; see report.h. */
PetscErrorCode HessaReportSpectrum(MPI_Comm comm, const char folder[], const HessaSpectrumKey *key, const HessaDensity *d, const HessaTrace t[2], PetscBool partial, PetscInt64 products)
{
  PetscMPIInt rank;
  HessaStatus st = {0, ""};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    cJSON    *doc  = ReportDoc(key, d, t, partial, products);
    HessaText json = {0}, table = {0};
    json.data   = cJSON_Print(doc);
    json.failed = json.data == NULL;
    if (json.data) json.len = json.cap = strlen(json.data);
    cJSON_Delete(doc);
    WriteTable(folder, "report.json", &json, &st);
    if (!partial && key->density) {
      HessaCSVDensity(&table, d);
      WriteTable(folder, "density.csv", &table, &st);
      HessaCSVDensityNodes(&table, d);
      WriteTable(folder, "slq_nodes.csv", &table, &st);
    }
    if (!partial && key->trace) {
      HessaTrace on[2];
      PetscInt   n = 0;
      for (int i = 0; i < 2; i++)
        if (TraceOn(key, i)) on[n++] = t[i];
      HessaCSVTrace(&table, n, on);
      WriteTable(folder, "trace.csv", &table, &st);
    }
  }
  PetscCall(HessaSyncError(comm, &st));
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
    const char *names[3] = {"eigenvalues", "density", "slq_nodes"};
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
