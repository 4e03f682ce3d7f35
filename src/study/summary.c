/* A study's results: one summary line per point (results.jsonl), and the study report
 * made from them (study.json, study.md, plots). Rank 0 only; nothing here is collective.
 *
 * Plots (PNG + SVG):
 *   ratio_vs_loss        minimum ratio against loss, one point per analysed point,
 *                        critical points and the others in two colours (background.md 4)
 *   trajectory_lambda_max, trajectory_gradient_norm
 *                        lambda_max and |g| against the training step, one line per series
 *   verdicts             how many points got each verdict (bars)
 */
#include <hessa/study.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *Get(const cJSON *o, const char *path)
{
  char        key[64];
  const char *dot;
  while (o && (dot = strchr(path, '.'))) {
    snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
    o    = cJSON_GetObjectItemCaseSensitive(o, key);
    path = dot + 1;
  }
  return o ? cJSON_GetObjectItemCaseSensitive(o, path) : NULL;
}

/* Copy doc's value at path into line under key (null when absent). */
static void Copy(cJSON *line, const char key[], const cJSON *doc, const char path[])
{
  const cJSON *v = Get(doc, path);
  cJSON_AddItemToObject(line, key, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
}

cJSON *HessaStudySummary(const HessaStudyPoint *pt, const cJSON *doc, double seconds, int group)
{
  cJSON *line = cJSON_CreateObject();

  cJSON_AddStringToObject(line, "name", pt->name);
  cJSON_AddStringToObject(line, "status", "ok");
  cJSON_AddStringToObject(line, "weights", pt->weights);
  cJSON_AddStringToObject(line, "series", pt->series);
  if (pt->step >= 0)
    cJSON_AddNumberToObject(line, "step", (double)pt->step);
  else
    cJSON_AddNullToObject(line, "step");
  Copy(line, "loss", doc, "results.loss");
  Copy(line, "gradient_norm", doc, "results.gradient_norm");
  Copy(line, "critical", doc, "verdict.critical");
  Copy(line, "verdict", doc, "verdict.type");
  Copy(line, "basis", doc, "verdict.basis");
  Copy(line, "minimum_ratio", doc, "verdict.minimum_ratio");
  Copy(line, "negative_fraction", doc, "verdict.negative_fraction");
  Copy(line, "lambda_min", doc, "verdict.lambda_min");
  Copy(line, "lambda_max", doc, "verdict.lambda_max");
  Copy(line, "zero_tolerance", doc, "verdict.zero_tolerance");
  Copy(line, "n", doc, "verdict.counts.n");
  Copy(line, "negative", doc, "verdict.counts.negative");
  Copy(line, "zero", doc, "verdict.counts.zero");
  Copy(line, "positive", doc, "verdict.counts.positive");
  Copy(line, "products", doc, "cost.products");
  cJSON_AddNumberToObject(line, "seconds", seconds);
  cJSON_AddNumberToObject(line, "group", group);
  {
    char report[PETSC_MAX_PATH_LEN];
    snprintf(report, sizeof report, "points/%s", pt->name);
    cJSON_AddStringToObject(line, "report", report);
  }
  return line;
}

static const char *const verdict_names[] = {"local_minimum", "local_maximum", "saddle", "degenerate", "not_critical", "failed"};
#define N_VERDICTS 6

static PetscBool Number(const cJSON *line, const char key[], double *x)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(line, key);
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return PETSC_FALSE;
  *x = v->valuedouble;
  return PETSC_TRUE;
}

static const char *String(const cJSON *line, const char key[])
{
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, key));
  return s ? s : "";
}

/* The result line of point name (the newest), or NULL when it has none. */
static const cJSON *LineOf(const cJSON *results, const char name[])
{
  const cJSON *line, *found = NULL;
  cJSON_ArrayForEach(line, results) if (!strcmp(String(line, "name"), name)) found = line;
  return found;
}

static void Fmt(char out[], size_t len, const cJSON *line, const char key[], const char fmt[])
{
  double x;
  if (Number(line, key, &x))
    snprintf(out, len, fmt, x);
  else
    snprintf(out, len, "-");
}

/* Minimum ratio against loss, one colour per verdict (the colours of every hessa plot). */
static void PlotRatioVsLoss(const char folder[], const HessaManifest *m, const cJSON *results, char note[], size_t len, HessaStatus *st)
{
  double         *buf                   = malloc(2 * (N_VERDICTS - 1) * (size_t)PetscMax(m->n_points, 1) * sizeof(double));
  int             count[N_VERDICTS - 1] = {0}, n = 0;
  HessaPlotSeries series[N_VERDICTS - 1];
  HessaPlotColor  color[N_VERDICTS - 1];

  if (!buf) {
    HessaStatusSet(st, PETSC_ERR_MEM, "study: out of memory");
    return;
  }
  for (PetscInt i = 0; i < m->n_points; i++) {
    const cJSON *line = LineOf(results, m->points[i].name);
    double       loss, ratio;
    if (!line || strcmp(String(line, "status"), "ok") || !Number(line, "loss", &loss) || !Number(line, "minimum_ratio", &ratio)) continue;
    for (int v = 0; v < N_VERDICTS - 1; v++)
      if (!strcmp(String(line, "verdict"), verdict_names[v])) {
        buf[2 * v * m->n_points + count[v]]       = loss;
        buf[(2 * v + 1) * m->n_points + count[v]] = ratio;
        count[v]++;
      }
  }
  for (int v = 0; v < N_VERDICTS - 1; v++)
    if (count[v]) {
      series[n] = (HessaPlotSeries){buf + 2 * v * m->n_points, buf + (2 * v + 1) * m->n_points, count[v], verdict_names[v], PETSC_TRUE, PETSC_FALSE};
      color[n]  = HessaPlotVerdictColor(verdict_names[v]);
      n++;
    }
  if (n == 0)
    snprintf(note, len, "ratio_vs_loss plot skipped: no point analysed yet");
  else
    HessaPlotXYScaled(folder, "ratio_vs_loss", "Minimum ratio (fraction of positive eigenvalues) against loss", "loss", "minimum ratio", HESSA_PLOT_AXIS_LINEAR, HESSA_PLOT_AXIS_LINEAR, n, series, color, note, len, st);
  free(buf);
}

/* lambda_max or |g| against step, one line per series (at most 6). */
static void PlotTrajectory(const char folder[], const HessaManifest *m, const cJSON *results, const char key[], const char name[], const char title[], const char ylabel[], PetscBool log_y, char note[], size_t len, HessaStatus *st)
{
  const char     *names[6];
  int             n_series = 0, count[6] = {0};
  double         *buf = malloc(12 * (size_t)PetscMax(m->n_points, 1) * sizeof(double));
  HessaPlotSeries series[6];

  if (!buf) {
    HessaStatusSet(st, PETSC_ERR_MEM, "study: out of memory");
    return;
  }
  for (PetscInt i = 0; i < m->n_points; i++) {
    const cJSON *line = LineOf(results, m->points[i].name);
    double       y;
    int          s;
    if (m->points[i].step < 0 || !line || !Number(line, key, &y)) continue;
    for (s = 0; s < n_series; s++)
      if (!strcmp(names[s], m->points[i].series)) break;
    if (s == n_series) {
      if (n_series == 6) continue; /* the plot shows the first six series */
      names[n_series++] = m->points[i].series;
    }
    buf[(2 * s) * m->n_points + count[s]]     = (double)m->points[i].step;
    buf[(2 * s + 1) * m->n_points + count[s]] = y;
    count[s]++;
  }
  for (int s = 0; s < n_series; s++) {
    /* points of a series arrive in manifest order; sort them by step for the line */
    double *x = buf + 2 * s * m->n_points, *y = buf + (2 * s + 1) * m->n_points;
    for (int a = 1; a < count[s]; a++)
      for (int b = a; b > 0 && x[b - 1] > x[b]; b--) {
        double t = x[b];
        x[b] = x[b - 1], x[b - 1] = t;
        t = y[b], y[b] = y[b - 1], y[b - 1] = t;
      }
    series[s] = (HessaPlotSeries){x, y, count[s], names[s][0] ? names[s] : NULL, PETSC_TRUE, PETSC_TRUE};
  }
  if (n_series == 0)
    snprintf(note, len, "%s plot skipped: no point has a training step", name);
  else
    HessaPlotXY(folder, name, title, "training step", ylabel, log_y, n_series, series, note, len, st);
  free(buf);
}

/* One filled bar per verdict, named and coloured as in every hessa plot. */
static void PlotVerdicts(const char folder[], const PetscInt counts[], char note[], size_t len, HessaStatus *st)
{
  double         value[N_VERDICTS];
  HessaPlotColor color[N_VERDICTS];
  PetscInt       total = 0;

  for (int v = 0; v < N_VERDICTS; v++) value[v] = (double)counts[v], color[v] = HessaPlotVerdictColor(verdict_names[v]), total += counts[v];
  if (total == 0)
    snprintf(note, len, "verdicts plot skipped: no result yet");
  else
    HessaPlotBars(folder, "verdicts", "Verdicts of the study's points", "points", N_VERDICTS, verdict_names, value, color, note, len, st);
}

PetscErrorCode HessaStudyWriteReport(const char folder[], const HessaManifest *m, cJSON *results, PetscBool partial, cJSON *collector, HessaStatus *st)
{
  PetscInt  counts[N_VERDICTS] = {0}, analysed = 0, critical = 0, minima_critical = 0;
  cJSON    *doc = cJSON_CreateObject(), *c, *pts, *plots;
  char     *json, notes[4][256] = {{0}}, path[PETSC_MAX_PATH_LEN + 32];
  HessaText md = {0};

  PetscFunctionBegin;

  pts = cJSON_CreateArray();
  for (PetscInt i = 0; i < m->n_points; i++) {
    const cJSON *line = LineOf(results, m->points[i].name);
    if (!line) continue;
    cJSON_AddItemToArray(pts, cJSON_Duplicate(line, 1));
    analysed++;
    if (strcmp(String(line, "status"), "ok"))
      counts[N_VERDICTS - 1]++;
    else
      for (int v = 0; v < N_VERDICTS - 1; v++)
        if (!strcmp(String(line, "verdict"), verdict_names[v])) counts[v]++;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "critical"))) {
      critical++;
      if (!strcmp(String(line, "verdict"), "local_minimum")) minima_critical++;
    }
  }
  PlotRatioVsLoss(folder, m, results, notes[0], sizeof notes[0], st);
  PlotTrajectory(folder, m, results, "lambda_max", "trajectory_lambda_max", "Largest Hessian eigenvalue along training", "lambda_max", PETSC_FALSE, notes[1], sizeof notes[1], st);
  PlotTrajectory(folder, m, results, "gradient_norm", "trajectory_gradient_norm", "Gradient norm along training", "|g| (log scale)", PETSC_TRUE, notes[2], sizeof notes[2], st);
  PlotVerdicts(folder, counts, notes[3], sizeof notes[3], st);

  cJSON_AddStringToObject(doc, "schema", "hessa-study");
  cJSON_AddNumberToObject(doc, "version", 1);
  cJSON_AddBoolToObject(doc, "partial", partial);
  cJSON_AddStringToObject(doc, "manifest", m->path);
  c = cJSON_AddObjectToObject(doc, "counts");
  cJSON_AddNumberToObject(c, "points", (double)m->n_points);
  cJSON_AddNumberToObject(c, "analysed", (double)analysed);
  cJSON_AddNumberToObject(c, "pending", (double)(m->n_points - analysed));
  cJSON_AddNumberToObject(c, "critical", (double)critical);
  for (int v = 0; v < N_VERDICTS; v++) cJSON_AddNumberToObject(c, verdict_names[v], (double)counts[v]);
  plots = cJSON_AddObjectToObject(doc, "plot_notes");
  {
    const char *pn[4] = {"ratio_vs_loss", "trajectory_lambda_max", "trajectory_gradient_norm", "verdicts"};
    for (int k = 0; k < 4; k++) cJSON_AddStringToObject(plots, pn[k], notes[k]);
  }
  cJSON_AddItemToObject(doc, "points", pts);
  if (collector) cJSON_AddItemToObject(doc, "collector", collector);

  HessaTextPrintf(&md, "# hessa study%s\n\n", partial ? " (PARTIAL: stopped before every point was analysed)" : "");
  HessaTextPrintf(&md, "Manifest: `%s`. %" PetscInt_FMT " point%s, %" PetscInt_FMT " analysed.\n\n", m->path, m->n_points, m->n_points == 1 ? "" : "s", analysed - counts[N_VERDICTS - 1]);
  if (counts[N_VERDICTS - 1]) HessaTextPrintf(&md, "%" PetscInt_FMT " point%s failed (reasons below).\n\n", counts[N_VERDICTS - 1], counts[N_VERDICTS - 1] > 1 ? "s" : "");
  if (partial) HessaTextPrintf(&md, "%" PetscInt_FMT " point%s not analysed yet: rerun the same command with the same output folder to finish; finished points are kept.\n\n", m->n_points - analysed, m->n_points - analysed > 1 ? "s" : "");
  HessaTextPrintf(&md, "Of the %" PetscInt_FMT " critical point%s (|g| within the tolerance of each report), %" PetscInt_FMT " %s local minim%s. ", critical, critical == 1 ? "" : "s", minima_critical, minima_critical == 1 ? "is a" : "are",
                  minima_critical == 1 ? "um" : "a");
  HessaTextPrintf(&md, "A point that is not critical has no minimum/saddle verdict: its minimum ratio still describes the curvature there.\n\n");
  HessaTextPrintf(&md, "| verdict | points |\n|---|---|\n");
  for (int v = 0; v < N_VERDICTS; v++) HessaTextPrintf(&md, "| %s | %" PetscInt_FMT " |\n", verdict_names[v], counts[v]);
  HessaTextPrintf(&md, "\n");
  HessaTextPrintf(&md, "| point | step | loss | abs(g) | verdict | minimum ratio | lambda_min | lambda_max | n | seconds |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (PetscInt i = 0; i < m->n_points; i++) {
    const cJSON *line = LineOf(results, m->points[i].name);
    char         step[32], loss[32], g[32], ratio[32], lmin[32], lmax[32], n[32], sec[32];
    if (!line) {
      HessaTextPrintf(&md, "| %s | | | | pending | | | | | |\n", m->points[i].name);
      continue;
    }
    Fmt(step, sizeof step, line, "step", "%.0f");
    Fmt(loss, sizeof loss, line, "loss", "%.6g");
    Fmt(g, sizeof g, line, "gradient_norm", "%.2e");
    Fmt(ratio, sizeof ratio, line, "minimum_ratio", "%.4f");
    Fmt(lmin, sizeof lmin, line, "lambda_min", "%.4g");
    Fmt(lmax, sizeof lmax, line, "lambda_max", "%.4g");
    Fmt(n, sizeof n, line, "n", "%.0f");
    Fmt(sec, sizeof sec, line, "seconds", "%.1f");
    HessaTextPrintf(&md, "| [%s](points/%s/report.md) | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", m->points[i].name, m->points[i].name, step, loss, g, strcmp(String(line, "status"), "ok") ? "**failed**" : String(line, "verdict"), ratio, lmin,
                    lmax, n, sec);
  }
  if (counts[N_VERDICTS - 1]) {
    HessaTextPrintf(&md, "\n## Failed points\n\n");
    for (PetscInt i = 0; i < m->n_points; i++) {
      const cJSON *line = LineOf(results, m->points[i].name);
      if (line && strcmp(String(line, "status"), "ok")) HessaTextPrintf(&md, "- `%s`: %s\n", m->points[i].name, String(line, "error"));
    }
  }
  HessaTextPrintf(&md, "\n## Plots\n\n");
  {
    const char *pn[4] = {"ratio_vs_loss", "trajectory_lambda_max", "trajectory_gradient_norm", "verdicts"};
    /* each drawn plot once; why one was not drawn is in study.json (plot_notes) */
    for (int k = 0; k < 4; k++)
      if (!notes[k][0]) HessaTextPrintf(&md, "![%s](%s.png)\n\n", pn[k], pn[k]);
  }
  HessaTextPrintf(&md, "\nFiles: results.jsonl (one line per point, written as each point finished), results.csv (the same as a table), study.json (this report for programs), points/NAME/ (each point's full report).\n");

  json = cJSON_Print(doc);
  snprintf(path, sizeof path, "%s/study.json", folder);
  if (json)
    PetscCall(HessaWriteFileAtomic(path, json, st));
  else
    HessaStatusSet(st, PETSC_ERR_MEM, "study: out of memory");
  snprintf(path, sizeof path, "%s/study.md", folder);
  if (md.failed || !md.data)
    HessaStatusSet(st, PETSC_ERR_MEM, "study: out of memory");
  else
    PetscCall(HessaWriteFileAtomic(path, md.data, st));
  free(json);
  HessaTextFree(&md);
  cJSON_Delete(doc);
  PetscFunctionReturn(0);
}
