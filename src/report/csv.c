/* CSV tables, one writer per table for every command (analyze's report, `hessa spectrum`'s
 * output folder and -hessa_spectrum_csv files, landscape, train, study), in one format
 * (docs/reports.md): a header row; numbers with 17 significant digits (%.17g), so a program
 * reading them gets exactly the computed doubles (report.json, through cJSON, may keep only
 * 15 when they read back within its epsilon); a non-finite or absent number is an empty
 * field; indices count from 1; booleans are true/false; text is quoted (RFC 4180).
 *
 *   eigenvalues.csv    kind,index,value,residual,converged
 *                      kind largest: index 1 is the largest; smallest: index 1 is the
 *                      smallest; full: index 1..n ascending, residual and converged empty
 *   density.csv        grid,density
 *   density_nodes.csv  probe,node,weight   (probe numbered from 1, probe-major)
 *   trace.csv          method,samples,estimate,standard_error (`hessa spectrum`)
 *   line.csv           alpha,loss; plane.csv alpha,beta,loss (`hessa landscape`)
 *   train_log.csv      step,loss,gradient_norm,lambda_max (`hessa train`)
 *   results.csv        one row per study point (`hessa study`, HessaCSVJSONValue per field)
 */
#include "report_impl.h"
#include <math.h>

/* ---- the format: one function per kind of field ---- */

/* HessaCSVNumber - not collective; see report.h. */
void HessaCSVNumber(HessaText *t, double x)
{
  if (isfinite(x)) HessaTextPrintf(t, "%.17g", x);
}

/* HessaCSVBool - not collective; see report.h. */
void HessaCSVBool(HessaText *t, int b)
{
  if (b >= 0) HessaTextPrintf(t, "%s", b ? "true" : "false");
}

/* HessaCSVString - not collective; see report.h. */
void HessaCSVString(HessaText *t, const char *s)
{
  HessaTextPrintf(t, "\"");
  for (const char *c = s ? s : ""; *c; c++) {
    if (*c == '"') HessaTextPrintf(t, "\"");                       /* a quote is doubled */
    HessaTextPrintf(t, "%c", *c == '\n' || *c == '\r' ? ' ' : *c); /* a line break would split the row */
  }
  HessaTextPrintf(t, "\"");
}

/* HessaCSVJSONValue - not collective; see report.h. */
void HessaCSVJSONValue(HessaText *t, const cJSON *v)
{
  if (cJSON_IsNumber(v))
    HessaCSVNumber(t, v->valuedouble);
  else if (cJSON_IsBool(v))
    HessaCSVBool(t, cJSON_IsTrue(v) ? 1 : 0);
  else if (cJSON_IsString(v))
    HessaCSVString(t, v->valuestring);
}

static void Field(HessaText *t, double x)
{
  HessaCSVNumber(t, x);
}

/* ---- the tables: one writer each, used by every command ---- */

/* HessaCSVEigenvaluesHeader, HessaCSVEigenvalueRow - not collective; see report.h. */
void HessaCSVEigenvaluesHeader(HessaText *t)
{
  HessaTextPrintf(t, "kind,index,value,residual,converged\n");
}

void HessaCSVEigenvalueRow(HessaText *t, const char kind[], PetscInt index, double value, double residual, int converged)
{
  HessaTextPrintf(t, "%s,%" PetscInt_FMT ",", kind, index);
  Field(t, value);
  HessaTextPrintf(t, ",");
  Field(t, residual);
  HessaTextPrintf(t, ",");
  HessaCSVBool(t, converged);
  HessaTextPrintf(t, "\n");
}

/* HessaCSVEigenvalues - not collective; see report.h. */
void HessaCSVEigenvalues(HessaText *t, const HessaExtremes *largest, const HessaExtremes *smallest, PetscInt n_full, const double full[])
{
  const HessaExtremes *ends[2]  = {largest, smallest};
  const char          *kinds[2] = {"largest", "smallest"};

  HessaCSVEigenvaluesHeader(t);
  for (int e = 0; e < 2; e++)
    for (PetscInt i = 0; ends[e] && i < ends[e]->nconv; i++) HessaCSVEigenvalueRow(t, kinds[e], i + 1, ends[e]->values[i], ends[e]->residuals[i], ends[e]->converged[i] ? 1 : 0);
  for (PetscInt i = 0; i < n_full; i++) HessaCSVEigenvalueRow(t, "full", i + 1, full[i], NAN, -1);
}

/* HessaCSVDensityHeader, HessaCSVDensityRow, HessaCSVDensity - not collective; see report.h. */
void HessaCSVDensityHeader(HessaText *t)
{
  HessaTextPrintf(t, "grid,density\n");
}

void HessaCSVDensityRow(HessaText *t, double grid, double density)
{
  Field(t, grid);
  HessaTextPrintf(t, ",");
  Field(t, density);
  HessaTextPrintf(t, "\n");
}

void HessaCSVDensity(HessaText *t, const HessaDensity *d)
{
  HessaCSVDensityHeader(t);
  for (PetscInt g = 0; g < d->n_grid; g++) HessaCSVDensityRow(t, d->grid[g], d->density[g]);
}

/* HessaCSVDensityNodesHeader, HessaCSVDensityNodeRow, HessaCSVDensityNodes - not collective. */
void HessaCSVDensityNodesHeader(HessaText *t)
{
  HessaTextPrintf(t, "probe,node,weight\n");
}

void HessaCSVDensityNodeRow(HessaText *t, PetscInt probe, double node, double weight)
{
  HessaTextPrintf(t, "%" PetscInt_FMT ",", probe);
  Field(t, node);
  HessaTextPrintf(t, ",");
  Field(t, weight);
  HessaTextPrintf(t, "\n");
}

void HessaCSVDensityNodes(HessaText *t, const HessaDensity *d)
{
  HessaCSVDensityNodesHeader(t);
  for (PetscInt p = 0; p < d->probes; p++)
    for (PetscInt i = 0; i < d->probe_steps[p]; i++) HessaCSVDensityNodeRow(t, p + 1, d->nodes[(size_t)p * d->steps + i], d->weights[(size_t)p * d->steps + i]);
}

/* HessaCSVTrace - not collective; see report.h. */
void HessaCSVTrace(HessaText *t, PetscInt n, const HessaTrace trace[])
{
  HessaTextPrintf(t, "method,samples,estimate,standard_error\n");
  for (PetscInt i = 0; i < n; i++) {
    HessaTextPrintf(t, "%s,%" PetscInt_FMT ",", trace[i].method == HESSA_TRACE_HUTCHPP ? "hutchpp" : "hutchinson", trace[i].samples);
    Field(t, trace[i].estimate);
    HessaTextPrintf(t, ",");
    Field(t, trace[i].standard_error);
    HessaTextPrintf(t, "\n");
  }
}

/* HessaCSVLine, HessaCSVPlane - not collective; see report.h. */
void HessaCSVLine(HessaText *t, PetscInt n, const double grid[], const double loss[])
{
  HessaTextPrintf(t, "alpha,loss\n");
  for (PetscInt i = 0; i < n; i++) {
    Field(t, grid[i]);
    HessaTextPrintf(t, ",");
    Field(t, loss[i]);
    HessaTextPrintf(t, "\n");
  }
}

void HessaCSVPlane(HessaText *t, PetscInt n, const double grid[], const double loss[])
{
  HessaTextPrintf(t, "alpha,beta,loss\n");
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++) {
      Field(t, grid[i]);
      HessaTextPrintf(t, ",");
      Field(t, grid[j]);
      HessaTextPrintf(t, ",");
      Field(t, loss[i * n + j]);
      HessaTextPrintf(t, "\n");
    }
}

/* HessaCSVTrainLogHeader, HessaCSVTrainLogRow - not collective; see report.h. */
void HessaCSVTrainLogHeader(HessaText *t)
{
  HessaTextPrintf(t, "step,loss,gradient_norm,lambda_max\n");
}

void HessaCSVTrainLogRow(HessaText *t, PetscInt step, double loss, double gradient_norm, double lambda_max)
{
  HessaTextPrintf(t, "%" PetscInt_FMT ",", step);
  Field(t, loss);
  HessaTextPrintf(t, ",");
  Field(t, gradient_norm);
  HessaTextPrintf(t, ",");
  Field(t, lambda_max);
  HessaTextPrintf(t, "\n");
}

/* ---- the same tables from a report document ---- */

/* A number of the document, NaN (an empty field) when absent, null or not a number. */
static double DocNumber(const cJSON *o, const char key[])
{
  double v;
  return HessaJNumber(o, key, &v) ? v : NAN;
}

static double ItemNumber(const cJSON *x)
{
  return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static void PrintExtremes(HessaText *t, const cJSON *extremes, const char kind[])
{
  const cJSON *pair;
  int          index = 0;

  cJSON_ArrayForEach(pair, HessaJArray(extremes, kind))
  {
    PetscBool converged;
    int       flag = HessaJBool(pair, "converged", &converged) ? (converged ? 1 : 0) : -1;
    HessaCSVEigenvalueRow(t, kind, ++index, DocNumber(pair, "value"), DocNumber(pair, "residual"), flag);
  }
}

/* HessaReportWriteCSV - rank 0, not collective. Writes eigenvalues.csv always (a
 * header only when there are no eigenvalues), density.csv and density_nodes.csv when
 * results.density is present. Output: *wrote_density; faults in st. */
void HessaReportWriteCSV(const cJSON *doc, const char folder[], PetscBool *wrote_density, HessaStatus *st)
{
  const cJSON *results  = HessaJObject(doc, "results");
  const cJSON *extremes = HessaJObject(results, "extremes"), *full = HessaJObject(results, "full_spectrum");
  const cJSON *density = HessaJObject(results, "density"), *item;
  HessaText    t       = {0};
  int          index   = 0;

  *wrote_density = PETSC_FALSE;
  HessaCSVEigenvaluesHeader(&t);
  PrintExtremes(&t, extremes, "largest");
  PrintExtremes(&t, extremes, "smallest");
  cJSON_ArrayForEach(item, HessaJArray(full, "values")) HessaCSVEigenvalueRow(&t, "full", ++index, ItemNumber(item), NAN, -1);
  HessaReportWriteText(folder, "eigenvalues.csv", &t, st);
  HessaTextFree(&t);
  if (!density || st->code) return;
  {
    const cJSON *grid = HessaJArray(density, "grid"), *values = HessaJArray(density, "density");
    int          n_grid = grid ? cJSON_GetArraySize(grid) : 0, n_values = values ? cJSON_GetArraySize(values) : 0;

    if (n_grid != n_values) {
      HessaStatusSet(st, HESSA_ERR_ARG, "report document: results.density has %d grid points but %d density values", n_grid, n_values);
      return;
    }
    HessaCSVDensityHeader(&t);
    for (int i = 0; i < n_grid; i++) HessaCSVDensityRow(&t, ItemNumber(cJSON_GetArrayItem(grid, i)), ItemNumber(cJSON_GetArrayItem(values, i)));
    HessaReportWriteText(folder, "density.csv", &t, st);
    HessaTextFree(&t);
  }
  {
    const cJSON *nodes = HessaJArray(density, "nodes"), *weights = HessaJArray(density, "weights");
    int          probes = nodes ? cJSON_GetArraySize(nodes) : 0;

    if (probes != (weights ? cJSON_GetArraySize(weights) : 0)) {
      HessaStatusSet(st, HESSA_ERR_ARG, "report document: results.density has nodes for %d probes but weights for %d", probes, weights ? cJSON_GetArraySize(weights) : 0);
      return;
    }
    HessaCSVDensityNodesHeader(&t);
    for (int p = 0; p < probes; p++) {
      const cJSON *x = cJSON_GetArrayItem(nodes, p), *w = cJSON_GetArrayItem(weights, p);
      int          m = cJSON_IsArray(x) ? cJSON_GetArraySize(x) : 0;
      if (m != (cJSON_IsArray(w) ? cJSON_GetArraySize(w) : 0)) {
        HessaStatusSet(st, HESSA_ERR_ARG, "report document: results.density probe %d has %d nodes but a different number of weights", p + 1, m);
        HessaTextFree(&t);
        return;
      }
      for (int j = 0; j < m; j++) HessaCSVDensityNodeRow(&t, p + 1, ItemNumber(cJSON_GetArrayItem(x, j)), ItemNumber(cJSON_GetArrayItem(w, j)));
    }
    HessaReportWriteText(folder, "density_nodes.csv", &t, st);
    HessaTextFree(&t);
  }
  if (!st->code) *wrote_density = PETSC_TRUE;
}
