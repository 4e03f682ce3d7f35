/* The verdict's error bounds, counts and fractions in report.json and report.md, with one
 * definition each (docs/analysis.md):
 *   counts      signs at each eigenvalue's own error bound; exact or null
 *   fractions   exact (counts / n), or the SLQ estimate with its standard error and the
 *               near-zero half-width w in eigenvalue units, or a lower bound; the source is
 *               stated next to every number
 *   near zero   the SLQ band |lambda| <= w: a width, not a sign, so it can hold positive
 *               eigenvalues that the counts call positive, and the report says so
 * Rank 0 only; nothing is recomputed from the spectrum. */
#include "report_impl.h"
#include <math.h>
#include <string.h>

static cJSON *Num(double x)
{
  return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

/* HessaReportVerdictJSON - rank 0, not collective: the verdict's bounds, signs, fraction
 * source, refinement and probe summary, added to the verdict object v. */
void HessaReportVerdictJSON(const HessaAnalysis *a, cJSON *v)
{
  const HessaVerdict *vd       = &a->verdict;
  const char         *ends[2]  = {"smallest", "largest"};
  const char         *signs[3] = {"negative", "zero", "positive"};
  cJSON              *s, *r;

  cJSON_AddItemToObject(v, "roundoff", Num(vd->roundoff));
  cJSON_AddItemToObject(v, "gradient_band", Num(vd->gradient_band));
  cJSON_AddBoolToObject(v, "counts_exact", vd->counts_exact);
  cJSON_AddStringToObject(v, "fraction_source", HessaFractionSourceNames[vd->fraction_source]);
  if (vd->fraction_source == HESSA_FRACTION_SLQ) cJSON_AddItemToObject(v, "near_zero_width", Num(vd->near_zero_width));
  s = cJSON_AddObjectToObject(v, "eigenvalue_signs");
  for (int e = 0; e < 2; e++) {
    const HessaExtremes *x   = e ? &a->largest : &a->smallest;
    cJSON               *arr = cJSON_AddArrayToObject(s, ends[e]);
    for (PetscInt i = 0; i < vd->n_pairs[e] && i < x->nconv; i++) {
      cJSON *p = cJSON_CreateObject();
      cJSON_AddItemToObject(p, "value", Num(x->values[i]));
      cJSON_AddItemToObject(p, "residual", Num(x->residuals[i]));
      cJSON_AddItemToObject(p, "error_bound", Num(vd->bound[e][i]));
      cJSON_AddStringToObject(p, "sign", signs[vd->sign[e][i] + 1]);
      cJSON_AddItemToArray(arr, p);
    }
  }
  r = cJSON_AddObjectToObject(v, "refinement");
  cJSON_AddNumberToObject(r, "budget_products", (double)vd->refinement.budget);
  cJSON_AddNumberToObject(r, "missed_pairs_added", (double)(vd->refinement.missed[0] + vd->refinement.missed[1]));
  for (int e = 0; e < 2; e++) {
    cJSON *o;
    if (!vd->refinement.attempted[e]) continue;
    o = cJSON_AddObjectToObject(r, ends[e]);
    cJSON_AddNumberToObject(o, "rounds", (double)vd->refinement.rounds[e]);
    cJSON_AddItemToObject(o, "tolerance_start", Num(vd->refinement.tol_start[e]));
    cJSON_AddItemToObject(o, "tolerance_final", Num(vd->refinement.tol_final[e]));
    cJSON_AddNumberToObject(o, "products", (double)vd->refinement.products[e]);
    cJSON_AddBoolToObject(o, "budget_exhausted", vd->refinement.budget_exhausted[e]);
    cJSON_AddBoolToObject(o, "floor_reached", vd->refinement.floor_reached[e]);
  }
  if (vd->type == HESSA_VERDICT_DEGENERATE) {
    cJSON_AddStringToObject(v, "degenerate_kind", HessaDegenerateKindNames[vd->degenerate_kind]);
    cJSON_AddNumberToObject(v, "probes_along_zero_curvature", (double)vd->n_probed);
    cJSON_AddNumberToObject(v, "probes_rising", (double)vd->n_probes_rising);
    cJSON_AddNumberToObject(v, "probes_falling", (double)vd->n_probes_falling);
  }
}

static const char *Fmt(char *buf, size_t len, const char fmt[], const cJSON *o, const char key[])
{
  double x;
  if (HessaJNumber(o, key, &x))
    snprintf(buf, len, fmt, x);
  else
    snprintf(buf, len, "n/a");
  return buf;
}

/* HessaReportVerdictMarkdown - rank 0: the sign rule, counts and fractions of the verdict
 * section of report.md, each number with its definition. */
void HessaReportVerdictMarkdown(HessaText *md, const cJSON *verdict)
{
  const cJSON *counts = HessaJObject(verdict, "counts"), *signs = HessaJObject(verdict, "eigenvalue_signs"), *ref = HessaJObject(verdict, "refinement");
  const char  *source  = HessaJString(verdict, "fraction_source");
  const char  *ends[2] = {"smallest", "largest"};
  char         b[8][48];
  PetscBool    exact = PETSC_FALSE;
  double       missed;

  HessaJBool(verdict, "counts_exact", &exact);
  HessaTextPrintf(md,
                  "- **Signs**: an eigenvalue is negative or positive only beyond its own error bound (Ritz pairs: min(r, r^2/gap) + round-off; the full spectrum: round-off); within it, it is zero. Round-off n eps max|lambda| = %s; zero band at "
                  "least %s (%s).\n",
                  Fmt(b[0], sizeof b[0], "%.3e", verdict, "roundoff"), Fmt(b[1], sizeof b[1], "%.3e", verdict, "zero_tolerance"), HessaJString(verdict, "zero_tolerance_reason") ? HessaJString(verdict, "zero_tolerance_reason") : "n/a");
  HessaTextPrintf(md, "- **Extreme eigenvalues** lambda_min = %s, lambda_max = %s.\n", Fmt(b[0], sizeof b[0], "%.6g", verdict, "lambda_min"), Fmt(b[1], sizeof b[1], "%.6g", verdict, "lambda_max"));
  HessaTextPrintf(md, "- **Counts** (n = %s, %s): negative %s, zero within error bounds %s, positive %s.\n", Fmt(b[0], sizeof b[0], "%.0f", counts, "n"), exact ? "exact" : "not known exactly", Fmt(b[1], sizeof b[1], "%.0f", counts, "negative"),
                  Fmt(b[2], sizeof b[2], "%.0f", counts, "zero"), Fmt(b[3], sizeof b[3], "%.0f", counts, "positive"));
  if (source && !strcmp(source, "slq"))
    HessaTextPrintf(md, "- **Negative fraction** %s (SLQ estimate, standard error %s: the density's weight below -w, w = %s); **minimum ratio** %s (SLQ estimate, standard error %s: weight above +w).\n",
                    Fmt(b[0], sizeof b[0], "%.6g", verdict, "negative_fraction"), Fmt(b[1], sizeof b[1], "%.2g", verdict, "negative_fraction_se"), Fmt(b[2], sizeof b[2], "%.3e", verdict, "near_zero_width"),
                    Fmt(b[3], sizeof b[3], "%.6g", verdict, "minimum_ratio"), Fmt(b[4], sizeof b[4], "%.2g", verdict, "minimum_ratio_se"));
  else if (source && !strcmp(source, "lower_bound"))
    HessaTextPrintf(md, "- **Negative fraction** at least %s; **minimum ratio** at least %s (lower bounds: resolved eigenvalues among the computed extremes / n; no density).\n", Fmt(b[0], sizeof b[0], "%.6g", verdict, "negative_fraction"),
                    Fmt(b[1], sizeof b[1], "%.6g", verdict, "minimum_ratio"));
  else
    HessaTextPrintf(md, "- **Negative fraction** %s; **minimum ratio** %s (exact: counts / n).\n", Fmt(b[0], sizeof b[0], "%.6g", verdict, "negative_fraction"), Fmt(b[1], sizeof b[1], "%.6g", verdict, "minimum_ratio"));
  for (int e = 0; e < 2 && ref; e++) {
    const cJSON *o      = HessaJObject(ref, ends[e]);
    PetscBool    budget = PETSC_FALSE, floor_reached = PETSC_FALSE;
    if (!o) continue;
    HessaJBool(o, "budget_exhausted", &budget);
    HessaJBool(o, "floor_reached", &floor_reached);
    HessaTextPrintf(md, "- **Refined** the %s end (a sign was unresolved at tolerance %s): %s solves down to tolerance %s, %s products of the budget %s%s.\n", ends[e], Fmt(b[0], sizeof b[0], "%.1e", o, "tolerance_start"),
                    Fmt(b[1], sizeof b[1], "%.0f", o, "rounds"), Fmt(b[2], sizeof b[2], "%.1e", o, "tolerance_final"), Fmt(b[3], sizeof b[3], "%.0f", o, "products"), Fmt(b[4], sizeof b[4], "%.0f", ref, "budget_products"),
                    budget          ? " (budget reached: what is still unresolved is called zero)"
                    : floor_reached ? " (round-off floor reached)"
                                    : "");
  }
  if (HessaJNumber(ref, "missed_pairs_added", &missed) && missed > 0)
    HessaTextPrintf(md, "- **Completed**: a deflated solve found %.0f eigenvalues (copies of repeated ones) that the first solve had missed before the first eigenvalue of the other sign; they are counted.\n", missed);
  if (signs) {
    HessaTextPrintf(md, "\n| end | k | eigenvalue | residual | error bound | sign |\n|---|---:|---:|---:|---:|---|\n");
    for (int e = 0; e < 2; e++) {
      const cJSON *p;
      int          k = 0;
      cJSON_ArrayForEach(p, HessaJArray(signs, ends[e]))
      {
        const char *sg = HessaJString(p, "sign");
        HessaTextPrintf(md, "| %s | %d | %s | %s | %s | %s |\n", ends[e], ++k, Fmt(b[0], sizeof b[0], "%.10g", p, "value"), Fmt(b[1], sizeof b[1], "%.3e", p, "residual"), Fmt(b[2], sizeof b[2], "%.3e", p, "error_bound"), sg ? sg : "n/a");
      }
    }
  }
}

/* HessaReportDensityNote - rank 0: under the SLQ table, how its rows relate to the verdict. */
void HessaReportDensityNote(HessaText *md, const cJSON *verdict, const cJSON *density)
{
  const char *source = HessaJString(verdict, "fraction_source");
  char        w[48];

  Fmt(w, sizeof w, "%.3e", density, "near_zero_width");
  if (source && !strcmp(source, "slq"))
    HessaTextPrintf(md, "The verdict's negative fraction and minimum ratio are the rows below -w and above +w of this table (w = %s).\n\n", w);
  else if (source && !strcmp(source, "exact"))
    HessaTextPrintf(md,
                    "The verdict's counts and fractions above are exact (signs at each eigenvalue's error bound); this table is the smoothed SLQ estimate with a near-zero band of half-width w = %s in eigenvalue units, so its rows can differ: "
                    "a positive eigenvalue below w counts as positive above and as near zero here.\n\n",
                    w);
}
