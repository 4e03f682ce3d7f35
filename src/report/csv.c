/* CSV files of the report: one row per number, full precision (%.17g), so a program
 * reading them gets exactly the values of report.json.
 *
 *   eigenvalues.csv    kind,index,value,residual,converged
 *                      kind largest: index 1 is the largest; smallest: index 1 is the
 *                      smallest; full: index 1..n ascending, residual and converged empty
 *   density.csv        grid,density
 *   density_nodes.csv  probe,node,weight   (probe numbered from 1, probe-major)
 */
#include "report_impl.h"
#include <math.h>

/* A number, or an empty field when absent or not finite. */
static void PrintNumberField(HessaText *t, const cJSON *o, const char key[])
{
  double v;
  if (HessaJNumber(o, key, &v) && isfinite(v)) HessaTextPrintf(t, "%.17g", v);
}

static void PrintExtremes(HessaText *t, const cJSON *extremes, const char kind[])
{
  const cJSON *pair;
  int          index = 0;

  cJSON_ArrayForEach(pair, HessaJArray(extremes, kind))
  {
    PetscBool converged;
    HessaTextPrintf(t, "%s,%d,", kind, ++index);
    PrintNumberField(t, pair, "value");
    HessaTextPrintf(t, ",");
    PrintNumberField(t, pair, "residual");
    HessaTextPrintf(t, ",%s\n", HessaJBool(pair, "converged", &converged) ? (converged ? "true" : "false") : "");
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
  HessaTextPrintf(&t, "kind,index,value,residual,converged\n");
  PrintExtremes(&t, extremes, "largest");
  PrintExtremes(&t, extremes, "smallest");
  cJSON_ArrayForEach(item, HessaJArray(full, "values"))
  {
    HessaTextPrintf(&t, "full,%d,", ++index);
    if (cJSON_IsNumber(item) && isfinite(item->valuedouble)) HessaTextPrintf(&t, "%.17g", item->valuedouble);
    HessaTextPrintf(&t, ",,\n");
  }
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
    HessaTextPrintf(&t, "grid,density\n");
    for (int i = 0; i < n_grid; i++) {
      const cJSON *x = cJSON_GetArrayItem(grid, i), *y = cJSON_GetArrayItem(values, i);
      if (cJSON_IsNumber(x)) HessaTextPrintf(&t, "%.17g", x->valuedouble);
      HessaTextPrintf(&t, ",");
      if (cJSON_IsNumber(y)) HessaTextPrintf(&t, "%.17g", y->valuedouble);
      HessaTextPrintf(&t, "\n");
    }
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
    HessaTextPrintf(&t, "probe,node,weight\n");
    for (int p = 0; p < probes; p++) {
      const cJSON *x = cJSON_GetArrayItem(nodes, p), *w = cJSON_GetArrayItem(weights, p);
      int          m = cJSON_IsArray(x) ? cJSON_GetArraySize(x) : 0;
      if (m != (cJSON_IsArray(w) ? cJSON_GetArraySize(w) : 0)) {
        HessaStatusSet(st, HESSA_ERR_ARG, "report document: results.density probe %d has %d nodes but a different number of weights", p + 1, m);
        HessaTextFree(&t);
        return;
      }
      for (int j = 0; j < m; j++) {
        const cJSON *xj = cJSON_GetArrayItem(x, j), *wj = cJSON_GetArrayItem(w, j);
        HessaTextPrintf(&t, "%d,", p + 1);
        if (cJSON_IsNumber(xj)) HessaTextPrintf(&t, "%.17g", xj->valuedouble);
        HessaTextPrintf(&t, ",");
        if (cJSON_IsNumber(wj)) HessaTextPrintf(&t, "%.17g", wj->valuedouble);
        HessaTextPrintf(&t, "\n");
      }
    }
    HessaReportWriteText(folder, "density_nodes.csv", &t, st);
    HessaTextFree(&t);
  }
  if (!st->code) *wrote_density = PETSC_TRUE;
}
