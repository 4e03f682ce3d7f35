/* report.md: the report for a person. The verdict comes first (heading, summary,
 * gradient norm against its tolerance, the zero tolerance and why), then the numbers
 * that justify it, each with its residual or standard error, then inputs, cost and
 * provenance, and links to the CSV and plot files. Nothing is recomputed: every
 * number is read from the report document; "n/a" marks an absent or null field.
 */
#include "report_impl.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Formatted numbers live in a small ring of buffers, enough for one line of output. */
static const char *Fmt(const char fmt[], double v)
{
  static char ring[24][48];
  static int  next = 0;
  char       *b    = ring[next];
  next             = (next + 1) % 24;
  snprintf(b, sizeof ring[0], fmt, v);
  return b;
}

/* o[key] formatted as fmt ("%.6g", "%.3e", "%.0f"), or "n/a" when absent or null. */
static const char *N(const cJSON *o, const char key[], const char fmt[])
{
  double v;
  return HessaJNumber(o, key, &v) ? Fmt(fmt, v) : "n/a";
}

static const char *S(const cJSON *o, const char key[])
{
  const char *s = HessaJString(o, key);
  return s ? s : "n/a";
}

static const char *B(const cJSON *o, const char key[], const char yes[], const char no[])
{
  PetscBool b;
  return HessaJBool(o, key, &b) ? (b ? yes : no) : "n/a";
}

/* A string inside a table cell: '|' and line breaks would break the table. */
static void Cell(HessaText *md, const char *s)
{
  for (; s && *s; s++) {
    if (*s == '|')
      HessaTextPrintf(md, "\\|");
    else if (*s == '\n' || *s == '\r')
      HessaTextPrintf(md, " ");
    else
      HessaTextPrintf(md, "%c", *s);
  }
}

static const char *Plural(double count, const char one[], const char many[])
{
  return count == 1 ? one : many;
}

/* What the loss does along a probed direction, as a phrase ("rises", "falls", "mixed",
 * "flat" in the document). */
static const char *Behaviour(const char *b)
{
  if (!b) return "n/a";
  if (!strcmp(b, "rises")) return "rises both ways";
  if (!strcmp(b, "falls")) return "falls both ways";
  if (!strcmp(b, "mixed")) return "rises one way and falls the other";
  if (!strcmp(b, "flat")) return "stays flat within round-off";
  return b;
}

static void Heading(HessaText *md, const cJSON *verdict)
{
  const char  *type   = S(verdict, "type");
  const cJSON *counts = HessaJObject(verdict, "counts");
  double       neg, zero, pos, n, lmin, lmax, g, gtol, frac;
  PetscBool    has_n = HessaJNumber(counts, "n", &n), has_lmin = HessaJNumber(verdict, "lambda_min", &lmin), has_lmax = HessaJNumber(verdict, "lambda_max", &lmax);

  if (!strcmp(type, "saddle")) {
    if (HessaJNumber(counts, "negative", &neg) && has_n)
      HessaTextPrintf(md, "# Saddle point (index %.0f of %.0f: %.0f negative %s)\n\n", neg, n, neg, Plural(neg, "eigenvalue", "eigenvalues"));
    else if (HessaJNumber(verdict, "negative_fraction", &frac) && HessaJString(verdict, "fraction_source") && !strcmp(HessaJString(verdict, "fraction_source"), "lower_bound"))
      HessaTextPrintf(md, "# Saddle point (index not known exactly; at least %.6g of the eigenvalues are negative)\n\n", frac);
    else if (HessaJNumber(verdict, "negative_fraction", &frac))
      HessaTextPrintf(md, "# Saddle point (index not known exactly; SLQ estimate of the fraction of eigenvalues below -w: %.6g, standard error %s)\n\n", frac, N(verdict, "negative_fraction_se", "%.2g"));
    else
      HessaTextPrintf(md, "# Saddle point (negative and positive eigenvalues)\n\n");
  } else if (!strcmp(type, "local_minimum")) {
    if (HessaJNumber(counts, "positive", &pos) && has_n)
      HessaTextPrintf(md, "# Local minimum (all %.0f of %.0f eigenvalues positive)\n\n", pos, n);
    else if (has_lmin)
      HessaTextPrintf(md, "# Local minimum (smallest eigenvalue %.6g > 0)\n\n", lmin);
    else
      HessaTextPrintf(md, "# Local minimum\n\n");
  } else if (!strcmp(type, "local_maximum")) {
    if (HessaJNumber(counts, "negative", &neg) && has_n)
      HessaTextPrintf(md, "# Local maximum (all %.0f of %.0f eigenvalues negative)\n\n", neg, n);
    else if (has_lmax)
      HessaTextPrintf(md, "# Local maximum (largest eigenvalue %.6g < 0)\n\n", lmax);
    else
      HessaTextPrintf(md, "# Local maximum\n\n");
  } else if (!strcmp(type, "degenerate")) {
    const char *kind = HessaJString(verdict, "degenerate_kind");
    if (kind && !strcmp(kind, "degenerate_saddle"))
      HessaTextPrintf(md, "# Degenerate saddle: the probes along zero-curvature directions show the loss falling one way and rising another\n\n");
    else if (HessaJNumber(counts, "zero", &zero) && has_n)
      HessaTextPrintf(md, "# Degenerate critical point: second-order test inconclusive (%.0f zero %s of %.0f)\n\n", zero, Plural(zero, "eigenvalue", "eigenvalues"), n);
    else
      HessaTextPrintf(md, "# Degenerate critical point: second-order test inconclusive\n\n");
  } else if (!strcmp(type, "not_critical")) {
    if (HessaJNumber(verdict, "gradient_norm", &g) && HessaJNumber(verdict, "gradient_tolerance", &gtol))
      HessaTextPrintf(md, "# Not a critical point (gradient norm %.3e > tolerance %.3e)\n\n", g, gtol);
    else
      HessaTextPrintf(md, "# Not a critical point\n\n");
  } else {
    HessaTextPrintf(md, "# Verdict: %s\n\n", type);
  }
}

static void Verdict(HessaText *md, const cJSON *verdict)
{
  const cJSON *probe;
  const char  *basis = S(verdict, "basis");
  double       g, gtol;
  PetscBool    critical;

  Heading(md, verdict);
  if (HessaJString(verdict, "summary")) HessaTextPrintf(md, "%s\n\n", HessaJString(verdict, "summary"));
  if (HessaJNumber(verdict, "gradient_norm", &g) && HessaJNumber(verdict, "gradient_tolerance", &gtol) && HessaJBool(verdict, "critical", &critical))
    HessaTextPrintf(md, "- **Gradient norm** %.3e against the tolerance %.3e: %s.\n", g, gtol, critical ? "a critical point" : "**not** a critical point");
  else
    HessaTextPrintf(md, "- **Gradient norm** %s (tolerance %s, critical: %s).\n", N(verdict, "gradient_norm", "%.3e"), N(verdict, "gradient_tolerance", "%.3e"), B(verdict, "critical", "yes", "no"));
  HessaTextPrintf(md, "- **Basis**: %s.\n",
                  !strcmp(basis, "full_spectrum")          ? "the full spectrum (counts are exact)"
                  : !strcmp(basis, "extremes_and_density") ? "extreme eigenvalues and the SLQ density (counts exact when an end reaches a resolved eigenvalue of the other sign, else the fractions are SLQ estimates with standard errors)"
                  : !strcmp(basis, "extremes")             ? "extreme eigenvalues only (no counts)"
                                                           : basis);
  HessaReportVerdictMarkdown(md, verdict);
  if (HessaJArray(verdict, "higher_order")) {
    HessaTextPrintf(md, "\nHigher-order probes along zero-curvature directions:\n\n| eigenvalue | loss along the direction |\n|---:|---|\n");
    cJSON_ArrayForEach(probe, HessaJArray(verdict, "higher_order")) HessaTextPrintf(md, "| %s | %s |\n", N(probe, "eigenvalue", "%.3e"), Behaviour(HessaJString(probe, "behaviour")));
  }
  HessaTextPrintf(md, "\n");
}

static void ExtremesTable(HessaText *md, const cJSON *extremes)
{
  const char *kinds[2]    = {"smallest", "largest"};
  int         unconverged = 0;

  if (!extremes) return;
  HessaTextPrintf(md, "## Extreme eigenvalues\n\nSolver %s, relative tolerance %s, %s operator products. Residual: |Hv - lambda v| with |v| = 1.\n\n", S(extremes, "eps_type"), N(extremes, "tolerance", "%.1e"), N(extremes, "products", "%.0f"));
  HessaTextPrintf(md, "| end | k | eigenvalue | residual | converged |\n|---|---:|---:|---:|---|\n");
  for (int e = 0; e < 2; e++) {
    const cJSON *pair;
    int          k = 0;
    cJSON_ArrayForEach(pair, HessaJArray(extremes, kinds[e]))
    {
      PetscBool converged = PETSC_FALSE;
      HessaJBool(pair, "converged", &converged);
      unconverged += !converged;
      HessaTextPrintf(md, "| %s | %d | %s | %s | %s |\n", kinds[e], ++k, N(pair, "value", "%.10g"), N(pair, "residual", "%.3e"), converged ? "yes" : "**NO**");
    }
  }
  if (unconverged)
    HessaTextPrintf(md, "\n**%d %s did not converge**: %s, with the residual shown.\n", unconverged, unconverged == 1 ? "eigenpair" : "eigenpairs", unconverged == 1 ? "its value is only an estimate" : "their values are only estimates");
  else
    HessaTextPrintf(md, "\nEvery eigenpair converged.\n");
  HessaTextPrintf(md, "\n");
}

static void CountsAndFractions(HessaText *md, const cJSON *results, const cJSON *verdict)
{
  const cJSON *full = HessaJObject(results, "full_spectrum"), *density = HessaJObject(results, "density"), *trace = HessaJObject(results, "trace");

  if (full) {
    HessaTextPrintf(md, "## Full spectrum\n\nAll %s eigenvalues of the assembled matrix (%s operator products; asymmetry |H - H^T|_F / |H|_F = %s before symmetrizing).\n\n", N(full, "n", "%.0f"), N(full, "products", "%.0f"),
                    N(full, "asymmetry", "%.3e"));
    HessaTextPrintf(md, "| negative | zero (\\|lambda\\| <= %s) | positive |\n|---:|---:|---:|\n| %s | %s | %s |\n\n", N(full, "zero_tolerance", "%.3e"), N(full, "negative", "%.0f"), N(full, "zero", "%.0f"), N(full, "positive", "%.0f"));
  }
  if (density) {
    HessaTextPrintf(md, "## Eigenvalue density (stochastic Lanczos quadrature)\n\n%s probes x %s Lanczos steps, smoothing width %s, %s operator products.\n\n", N(density, "probes", "%.0f"), N(density, "steps", "%.0f"), N(density, "sigma", "%.3g"),
                    N(density, "products", "%.0f"));
    HessaTextPrintf(md, "| fraction of eigenvalues (SLQ estimate, w = %s) | estimate | standard error |\n|---|---:|---:|\n", N(density, "near_zero_width", "%.3e"));
    HessaTextPrintf(md, "| below -w | %s | %s |\n", N(density, "negative_fraction", "%.6g"), N(density, "negative_fraction_se", "%.2g"));
    HessaTextPrintf(md, "| near zero (\\|lambda\\| <= w) | %s | %s |\n", N(density, "near_zero_fraction", "%.6g"), N(density, "near_zero_fraction_se", "%.2g"));
    HessaTextPrintf(md, "| above +w | %s | %s |\n\n", N(density, "positive_fraction", "%.6g"), N(density, "positive_fraction_se", "%.2g"));
    HessaReportDensityNote(md, verdict, density);
  }
  if (trace && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(trace, "exact")))
    HessaTextPrintf(md, "## Trace\n\ntrace = %s, exact: the sum of the %s eigenvalues of the full spectrum (no estimate, no standard error).\n\n", N(trace, "estimate", "%.10g"), N(full, "n", "%.0f"));
  else if (trace)
    HessaTextPrintf(md, "## Trace\n\n%s with %s samples: trace = %s, standard error %s.\n\n", S(trace, "method"), N(trace, "samples", "%.0f"), N(trace, "estimate", "%.6g"), N(trace, "standard_error", "%.2g"));
}

static void Escape(HessaText *md, const cJSON *results)
{
  const cJSON *escape = HessaJObject(results, "escape"), *degenerate = HessaJArray(results, "degenerate_probes"), *item, *probe;

  if (escape) {
    HessaTextPrintf(md, "## Escape check along the lowest eigenvector\n\nlambda_min = %s, gradient . direction = %s; descent confirmed: **%s**.\n", N(escape, "lambda_min", "%.6g"), N(escape, "gradient_dot_direction", "%.3e"),
                    B(escape, "descent_confirmed", "yes", "no"));
    HessaTextPrintf(md, "Predicted change: the quadratic model; true change: the loss evaluated at theta +- alpha v.\n\n");
    HessaTextPrintf(md, "| alpha | predicted change | true change at +alpha | true change at -alpha | loss decreases both ways |\n|---:|---:|---:|---:|---|\n");
    cJSON_ArrayForEach(probe, HessaJArray(escape, "probes"))
    {
      double    plus, minus;
      PetscBool both = HessaJNumber(probe, "change_plus", &plus) && HessaJNumber(probe, "change_minus", &minus);
      HessaTextPrintf(md, "| %s | %s | %s | %s | %s |\n", N(probe, "alpha", "%.3g"), N(probe, "predicted_change", "%.6g"), N(probe, "change_plus", "%.6g"), N(probe, "change_minus", "%.6g"), !both ? "n/a" : (plus < 0 && minus < 0) ? "yes" : "no");
    }
    HessaTextPrintf(md, "\n");
  }
  if (degenerate) {
    HessaTextPrintf(md, "## Probes along zero-curvature directions\n\nWhere the second-order test is silent, the loss along the direction decides.\n\n");
    cJSON_ArrayForEach(item, degenerate)
    {
      HessaTextPrintf(md, "Eigenvalue %s: along its eigenvector the loss **%s**.\n\n| alpha | change at +alpha | change at -alpha |\n|---:|---:|---:|\n", N(item, "eigenvalue", "%.3e"), Behaviour(HessaJString(item, "behaviour")));
      cJSON_ArrayForEach(probe, HessaJArray(item, "probes")) HessaTextPrintf(md, "| %s | %s | %s |\n", N(probe, "alpha", "%.3g"), N(probe, "change_plus", "%.6g"), N(probe, "change_minus", "%.6g"));
      HessaTextPrintf(md, "\n");
    }
  }
}

/* The share of the gradient in the top eigenvectors, or why there is none. */
static void GradientShare(HessaText *md, const cJSON *geometry, const cJSON *results)
{
  double k = 0, share, g = -1;

  if (HessaJNumber(geometry, "top_k", &k) && k >= 1 && HessaJNumber(geometry, "top_k_gradient_share", &share))
    HessaTextPrintf(md, "- Share of the gradient in the top %.0f %s: %.4g\n", k, Plural(k, "eigenvector", "eigenvectors"), share);
  else
    HessaTextPrintf(md, "- Share of the gradient in the top eigenvectors: not computed (%s)\n", (HessaJNumber(results, "gradient_norm", &g) && g == 0) ? "the gradient is zero" : "no eigenvector of the largest eigenvalues was kept");
}

static void GeometryAndNewton(HessaText *md, const cJSON *results)
{
  const cJSON *geometry = HessaJObject(results, "gradient_geometry"), *newton = HessaJObject(results, "newton");
  const cJSON *sfn = HessaJObject(newton, "saddle_free");

  if (geometry) {
    HessaTextPrintf(md, "## Gradient geometry\n\n");
    HessaTextPrintf(md, "- Curvature along the gradient g^T H g / g^T g: %s\n", N(geometry, "curvature_along_gradient", "%.6g"));
    HessaTextPrintf(md, "- Best step along -g: %s (predicted decrease %s, true decrease %s)\n", N(geometry, "best_step", "%.6g"), N(geometry, "predicted_decrease", "%.6g"), N(geometry, "true_decrease", "%.6g"));
    HessaTextPrintf(md, "- Stability limit 2 / lambda_max: %s\n", N(geometry, "stability_limit", "%.6g"));
    GradientShare(md, geometry, results);
    HessaTextPrintf(md, "- Condition number lambda_max / lambda_min: %s\n\n", N(geometry, "condition_number", "%.6g"));
  }
  if (newton && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(newton, "skipped")))
    HessaTextPrintf(md, "## Newton step\n\nNewton and saddle-free Newton %s.\n\n", S(newton, "reason"));
  else if (newton) {
    HessaTextPrintf(md, "## Newton step\n\n");
    if (HessaJString(newton, "note")) HessaTextPrintf(md, "**%s.**\n\n", S(newton, "note"));
    HessaTextPrintf(md, "- Solver %s: %s iterations, converged: %s, relative residual %s\n", S(newton, "solver"), N(newton, "iterations", "%.0f"), B(newton, "converged", "yes", "**NO**"), N(newton, "relative_residual", "%.3e"));
    HessaTextPrintf(md, "- Step norm %s, angle to -g %s degrees, loss after the step %s\n", N(newton, "step_norm", "%.6g"), N(newton, "angle_to_negative_gradient_deg", "%.4g"), N(newton, "loss_after_step", "%.10g"));
    if (sfn)
      HessaTextPrintf(md, "- Saddle-free Newton (-|H|^-1 g in a %s-dimensional subspace): step norm %s, angle to -g %s degrees, loss after the step %s\n", N(sfn, "subspace_dimension", "%.0f"), N(sfn, "step_norm", "%.6g"),
                      N(sfn, "angle_to_negative_gradient_deg", "%.4g"), N(sfn, "loss_after_step", "%.10g"));
    HessaTextPrintf(md, "\n");
  }
}

static void Files(HessaText *md, const HessaPlots *plots, PetscBool wrote_density)
{
  HessaTextPrintf(md, "## Files\n\n- [report.json](report.json): every number of this report\n- [eigenvalues.csv](eigenvalues.csv): kind, index, value, residual, converged\n");
  if (wrote_density) HessaTextPrintf(md, "- [density.csv](density.csv): grid, density; [density_nodes.csv](density_nodes.csv): probe, node, weight\n");
  if (!plots->enabled) HessaTextPrintf(md, "- Plots: not drawn (-hessa_report_plots false)\n");
  for (int i = 0; i < plots->count; i++) {
    const HessaPlotResult *p = &plots->plot[i];
    if (p->written)
      HessaTextPrintf(md, "- [%s.png](%s.png), [%s.svg](%s.svg)\n", p->name, p->name, p->name, p->name);
    else
      HessaTextPrintf(md, "- %s\n", p->note);
  }
  HessaTextPrintf(md, "\n");
  for (int i = 0; i < plots->count; i++)
    if (plots->plot[i].written) HessaTextPrintf(md, "![%s](%s.png)\n\n", plots->plot[i].name, plots->plot[i].name);
}

static void InputsCostProvenance(HessaText *md, const cJSON *doc)
{
  const cJSON *inputs = HessaJObject(doc, "inputs"), *model = HessaJObject(inputs, "model"), *data = HessaJObject(inputs, "data");
  const cJSON *cost = HessaJObject(doc, "cost"), *prov = HessaJObject(doc, "provenance"), *item;

  if (inputs) {
    HessaTextPrintf(md, "## Inputs\n\n- Command: `hessa %s`", S(inputs, "command"));
    {
      int i = 0; /* argv[0] is the program's path, shown as `hessa` */
      cJSON_ArrayForEach(item, HessaJArray(inputs, "argv")) if (i++ > 0 && cJSON_IsString(item)) HessaTextPrintf(md, " `%s`", item->valuestring);
    }
    HessaTextPrintf(md, "\n- Model: %s (%s), n = %s parameters\n", S(model, "kind"), S(model, "description"), N(model, "n", "%.0f"));
    HessaTextPrintf(md, "- Data: %s, %s samples x %s features\n", S(data, "description"), N(data, "samples", "%.0f"), N(data, "features", "%.0f"));
    {
      const char *subset = HessaJString(inputs, "subset");
      PetscBool   some   = subset && subset[0] && strcmp(subset, "all") ? PETSC_TRUE : PETSC_FALSE;
      double      ranks  = 0;
      HessaJNumber(inputs, "ranks", &ranks);
      HessaTextPrintf(md, "- Operator: %s on %s%s; %s %s; seed %s\n", S(inputs, "operator"), some ? "the parameter subset " : "all parameters", some ? subset : "", N(inputs, "ranks", "%.0f"), Plural(ranks, "rank", "ranks"),
                      N(inputs, "seed", "%.0f"));
    }
    if (HessaJObject(inputs, "options") && cJSON_GetArraySize(HessaJObject(inputs, "options")) > 0) {
      HessaTextPrintf(md, "\n| option | value |\n|---|---|\n");
      cJSON_ArrayForEach(item, HessaJObject(inputs, "options"))
      {
        HessaTextPrintf(md, "| ");
        Cell(md, item->string);
        HessaTextPrintf(md, " | ");
        Cell(md, cJSON_IsString(item) ? item->valuestring : "");
        HessaTextPrintf(md, " |\n");
      }
    }
    HessaTextPrintf(md, "\n");
  }
  if (cost) {
    double peak = 0;
    HessaTextPrintf(md, "## Cost\n\n%s operator products, %s gradient evaluations.\n\n", N(cost, "products", "%.0f"), N(cost, "gradient_evaluations", "%.0f"));
    if (HessaJObject(cost, "seconds")) {
      HessaTextPrintf(md, "| phase | seconds |\n|---|---:|\n");
      cJSON_ArrayForEach(item, HessaJObject(cost, "seconds"))
      {
        HessaTextPrintf(md, "| ");
        Cell(md, item->string);
        HessaTextPrintf(md, " | %s |\n", cJSON_IsNumber(item) ? Fmt("%.4g", item->valuedouble) : "n/a");
      }
    }
    cJSON_ArrayForEach(item, HessaJArray(cost, "peak_memory_mb")) if (cJSON_IsNumber(item)) peak = PetscMax(peak, item->valuedouble);
    HessaTextPrintf(md, "\nPeak memory: %.1f MB on the busiest of %d ranks.\n\n", peak, HessaJArray(cost, "peak_memory_mb") ? cJSON_GetArraySize(HessaJArray(cost, "peak_memory_mb")) : 0);
  }
  if (prov) {
    HessaTextPrintf(md, "## Provenance\n\nhessa %s (commit %s), PETSc %s, SLEPc %s, MPI %s; %s on %s.\n", S(prov, "hessa_version"), S(prov, "commit"), S(prov, "petsc"), S(prov, "slepc"), S(prov, "mpi"), S(prov, "date"), S(prov, "hostname"));
  }
}

/* The heading of `hessa spectrum`'s report, which has no verdict. */
static void SpectrumHeading(HessaText *md, const cJSON *doc)
{
  const cJSON *inputs = HessaJObject(doc, "inputs");

  HessaTextPrintf(md, "# Spectrum of the %s of %s\n\n", !strcmp(S(inputs, "operator"), "ggn") ? "Gauss-Newton matrix" : "Hessian", S(doc, "model"));
  HessaTextPrintf(md, "Operator size n = %s. `hessa spectrum` does not classify the point: `hessa analyze` does.\n\n", N(doc, "n", "%.0f"));
}

/* HessaReportMarkdown - rank 0, not collective. Builds report.md from the document;
 * plots and wrote_density say which files exist, for the links. Output: md. */
void HessaReportMarkdown(const cJSON *doc, const HessaPlots *plots, PetscBool wrote_density, HessaText *md)
{
  const cJSON *results = HessaJObject(doc, "results");
  PetscBool    partial = PETSC_FALSE;

  /* a run stopped by a signal says so before anything else */
  if (HessaJBool(doc, "partial", &partial) && partial)
    HessaTextPrintf(md, "**PARTIAL report**: the run was stopped on request before the %s phase; only the parts before it are below.\n\n", HessaJString(doc, "stopped_before") ? HessaJString(doc, "stopped_before") : "next");
  if (HessaJObject(doc, "verdict"))
    Verdict(md, HessaJObject(doc, "verdict"));
  else
    SpectrumHeading(md, doc);
  HessaTextPrintf(md, "Loss %s, gradient norm %s.\n\n", N(results, "loss", "%.10g"), N(results, "gradient_norm", "%.3e"));
  ExtremesTable(md, HessaJObject(results, "extremes"));
  CountsAndFractions(md, results, HessaJObject(doc, "verdict"));
  Escape(md, results);
  GeometryAndNewton(md, results);
  Files(md, plots, wrote_density);
  InputsCostProvenance(md, doc);
}
