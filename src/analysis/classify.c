/* Classification of a point (background.md section 2): the second-order test, each
 * eigenvalue's sign decided from its OWN error bound, never from another pair's residual.
 *
 *   full spectrum   every eigenvalue of the assembled matrix: bound = round-off
 *                   n eps max|lambda| + asymmetry sqrt(n) max|lambda| (backward-stable solver)
 *   extremes        each Ritz pair (theta, v) of the symmetric operator with residual
 *                   r = |Hv - theta v|: |lambda - theta| <= r, and <= r^2 / gap when the gap
 *                   to the rest of the spectrum is known; plus the round-off n eps max|lambda|
 *
 * An eigenvalue is negative when theta + bound < 0, positive when theta - bound > 0, else
 * zero within its bound. Counts are exact with the full spectrum, and from the extremes when
 * an end reaches a resolved eigenvalue of the other sign (every eigenvalue beyond it was
 * found); otherwise the fractions are the SLQ density's estimates (one definition: the
 * density's weight below -w and above +w) with their standard errors. */
#include <hessa/analysis.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const HessaVerdictTypeNames[]    = {"local_minimum", "local_maximum", "saddle", "degenerate", "not_critical"};
const char *const HessaVerdictBasisNames[]   = {"full_spectrum", "extremes_and_density", "extremes"};
const char *const HessaDegenerateKindNames[] = {"unprobed", "degenerate_saddle", "rises_along_every_probe", "falls_along_every_probe", "inconclusive"};
const char *const HessaFractionSourceNames[] = {"exact", "slq", "lower_bound"};

/* HessaRoundoff - not collective: n eps max|lambda|, what the products and a backward-stable
 * eigensolver can resolve. */
double HessaRoundoff(PetscInt n, double scale)
{
  return (double)PetscMax(n, 1) * DBL_EPSILON * scale;
}

/* HessaEigenvalueBounds - not collective; see analysis.h. */
void HessaEigenvalueBounds(const HessaExtremes *x, double roundoff, double zero_tol, double bound[], PetscInt sign[])
{
  for (PetscInt i = 0; i < x->nconv; i++) {
    double r = x->residuals[i], theta = x->values[i], b = r, gap = PETSC_MAX_REAL, band;
    /* the gap to the other computed pairs at this end, each widened by its own residual;
       the innermost pair has an uncomputed neighbour, so no gap is known for it */
    if (i + 1 < x->nconv) {
      for (PetscInt j = 0; j < x->nconv; j++)
        if (j != i) gap = PetscMin(gap, fabs(theta - x->values[j]) - x->residuals[j]);
      if (gap > r) b = PetscMin(r, r * r / gap);
    }
    bound[i] = b + roundoff;
    band     = PetscMax(bound[i], zero_tol);
    sign[i]  = theta < -band ? -1 : theta > band ? 1 : 0;
  }
}

/* HessaVerdictDestroy - not collective; see analysis.h. */
PetscErrorCode HessaVerdictDestroy(HessaVerdict *v)
{
  PetscFunctionBegin;
  for (int e = 0; e < 2; e++) {
    PetscCall(PetscFree2(v->bound[e], v->sign[e]));
    v->n_pairs[e] = 0;
  }
  PetscFunctionReturn(0);
}

/* HessaVerdictSyncFull - not collective; see analysis.h. */
void HessaVerdictSyncFull(const HessaVerdict *v, HessaFullSpectrum *full)
{
  if (v->basis != HESSA_BASIS_FULL_SPECTRUM) return;
  full->zero_tol   = v->zero_tol;
  full->n_negative = v->n_negative;
  full->n_zero     = v->n_zero;
  full->n_positive = v->n_positive;
}

/* Counts from the full spectrum: one bound (round-off) for every eigenvalue. */
static void FullCounts(const HessaFullSpectrum *full, HessaVerdict *v)
{
  double band   = v->zero_tol;
  v->n_negative = v->n_zero = v->n_positive = 0;
  for (PetscInt i = 0; i < full->n; i++) {
    if (full->values[i] < -band)
      v->n_negative++;
    else if (full->values[i] > band)
      v->n_positive++;
    else
      v->n_zero++;
  }
  v->counts_exact = PETSC_TRUE;
}

/* Counts from the extremes: exact when one end reaches a resolved eigenvalue of the other
 * sign (the pairs before it are every eigenvalue on that side). */
static void ExtremesCounts(HessaVerdict *v)
{
  PetscInt lo = -1, hi = -1, neg = 0, zero = 0, pos = 0;
  for (PetscInt i = 0; i < v->n_pairs[0] && lo < 0; i++)
    if (v->sign[0][i] > 0) lo = i;
  for (PetscInt i = 0; i < v->n_pairs[1] && hi < 0; i++)
    if (v->sign[1][i] < 0) hi = i;
  v->n_negative = v->n_zero = v->n_positive = -1;
  v->counts_exact                           = PETSC_FALSE;
  if (lo >= 0) {
    for (PetscInt i = 0; i < lo; i++) v->sign[0][i] < 0 ? neg++ : zero++;
    v->n_negative = neg, v->n_zero = zero, v->n_positive = v->n - neg - zero;
    v->counts_exact = PETSC_TRUE;
  } else if (hi >= 0) {
    for (PetscInt i = 0; i < hi; i++) v->sign[1][i] > 0 ? pos++ : zero++;
    v->n_positive = pos, v->n_zero = zero, v->n_negative = v->n - pos - zero;
    v->counts_exact = PETSC_TRUE;
  }
}

/* The fractions: exact from exact counts, else the SLQ density's own estimates (the same
 * numbers the density section shows), else lower bounds from the resolved pairs found. */
static void Fractions(const HessaClassifyInput *in, HessaVerdict *v)
{
  v->negative_fraction_se = v->minimum_ratio_se = -1;
  if (v->counts_exact) {
    v->fraction_source   = HESSA_FRACTION_EXACT;
    v->negative_fraction = (double)v->n_negative / (double)v->n;
    v->minimum_ratio     = (double)v->n_positive / (double)v->n;
  } else if (in->density) {
    v->fraction_source      = HESSA_FRACTION_SLQ;
    v->negative_fraction    = in->density->negative_fraction;
    v->negative_fraction_se = in->density->negative_fraction_se;
    v->minimum_ratio        = in->density->positive_fraction;
    v->minimum_ratio_se     = in->density->positive_fraction_se;
    v->near_zero_width      = in->density->near_zero_width;
  } else {
    PetscInt neg = 0, pos = 0;
    v->fraction_source = HESSA_FRACTION_LOWER_BOUND;
    for (int e = 0; e < 2; e++)
      for (PetscInt i = 0; i < v->n_pairs[e]; i++) neg += v->sign[e][i]<0, pos += v->sign[e][i]> 0;
    v->negative_fraction = (double)neg / (double)v->n;
    v->minimum_ratio     = (double)pos / (double)v->n;
  }
}

/* " (the smallest end was refined ...)" when a refinement ran, else "". */
static void RefinementText(const HessaRefinement *ref, char *out, size_t len)
{
  const char *ends[2] = {"smallest", "largest"};
  out[0]              = 0;
  for (int e = 0; e < 2; e++) {
    size_t used = strlen(out);
    if (ref->missed[e]) snprintf(out + used, len - used, " A deflated solve found %" PetscInt_FMT " copies of repeated eigenvalues at the %s end that the first solve had missed; they are counted.", ref->missed[e], ends[e]);
    used = strlen(out);
    if (!ref->attempted[e]) continue;
    snprintf(out + used, len - used, " The %s end had an unresolved sign at tolerance %.1e and was refined: %" PetscInt_FMT " %s to %.1e (%lld products%s).", ends[e], ref->tol_start[e], ref->rounds[e], ref->rounds[e] == 1 ? "solve" : "solves",
             ref->tol_final[e], (long long)ref->products[e],
             ref->budget_exhausted[e] ? ", budget -hessa_analyze_refine_products reached"
             : ref->floor_reached[e]  ? ", round-off floor reached"
                                      : "");
  }
}

static void Summary(const HessaClassifyInput *in, PetscBool has_neg, HessaVerdict *v)
{
  char extra[400] = "";
  if (in->refinement) RefinementText(in->refinement, extra, sizeof extra);
  switch (v->type) {
  case HESSA_VERDICT_NOT_CRITICAL:
    snprintf(v->summary, sizeof v->summary, "Not a critical point: the gradient norm %.3e is above the tolerance %.3e (the curvature below describes the point all the same; eigenvalues from %.6g to %.6g).", v->gradient_norm, v->gradient_tol,
             v->lambda_min, v->lambda_max);
    break;
  case HESSA_VERDICT_SADDLE:
    if (v->n_negative >= 0)
      snprintf(v->summary, sizeof v->summary,
               "Saddle point of index %" PetscInt_FMT " (%" PetscInt_FMT " of %" PetscInt_FMT " eigenvalues negative beyond their error bounds; most negative %.6g, largest %.6g): the loss falls along negative curvature.", v->n_negative,
               v->n_negative, v->n, v->lambda_min, v->lambda_max);
    else
      snprintf(v->summary, sizeof v->summary,
               "Saddle point: negative and positive eigenvalues beyond their error bounds (most negative %.6g, largest %.6g; index not known exactly: %s fraction below %s %.4g%%): the loss falls along negative curvature.", v->lambda_min,
               v->lambda_max, v->fraction_source == HESSA_FRACTION_SLQ ? "SLQ estimate of the" : "at least the", v->fraction_source == HESSA_FRACTION_SLQ ? "-w" : "0", 100 * v->negative_fraction);
    break;
  case HESSA_VERDICT_LOCAL_MINIMUM:
    snprintf(v->summary, sizeof v->summary, "Strict local minimum: the gradient norm %.3e is below %.3e and every eigenvalue is positive (smallest %.6g, above its error bound %.3e; condition number %.4g).", v->gradient_norm, v->gradient_tol,
             v->lambda_min, v->n_pairs[0] ? v->bound[0][0] : v->zero_tol, v->lambda_max / v->lambda_min);
    break;
  case HESSA_VERDICT_LOCAL_MAXIMUM:
    snprintf(v->summary, sizeof v->summary, "Strict local maximum: the gradient norm %.3e is below %.3e and every eigenvalue is negative (largest %.6g, below minus its error bound %.3e).", v->gradient_norm, v->gradient_tol, v->lambda_max,
             v->n_pairs[1] ? v->bound[1][0] : v->zero_tol);
    break;
  case HESSA_VERDICT_DEGENERATE:
    snprintf(v->summary, sizeof v->summary,
             "Degenerate critical point: no eigenvalue is %s beyond its error bound but some are zero within theirs (eigenvalues from %.6g to %.6g), so the second-order test is inconclusive; see the probes along the zero-curvature directions.",
             has_neg ? "positive" : "negative", v->lambda_min, v->lambda_max);
    break;
  }
  if (extra[0] && strlen(v->summary) + strlen(extra) < sizeof v->summary) strcat(v->summary, extra);
}

/* HessaClassify - not collective; see analysis.h. */
PetscErrorCode HessaClassify(const HessaClassifyInput *in, HessaVerdict *v)
{
  double    scale, given = in->zero_tol >= 0 ? in->zero_tol : 0;
  PetscBool has_neg = PETSC_FALSE, has_pos = PETSC_FALSE, min_pos, max_neg;

  PetscFunctionBegin;
  PetscCheck(in->full || (in->largest && in->smallest && in->largest->nconv > 0 && in->smallest->nconv > 0), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "classification needs the full spectrum or converged extreme eigenvalues at both ends");
  PetscCall(PetscMemzero(v, sizeof *v));
  v->gradient_norm = in->gradient_norm;
  v->gradient_tol  = in->gradient_tol >= 0 ? in->gradient_tol : 1e-6 * PetscMax(1.0, fabs(in->loss));
  v->critical      = in->gradient_norm <= v->gradient_tol ? PETSC_TRUE : PETSC_FALSE;
  /* A point critical only to within |g| lies about |g_k|/|lambda_k| from the true critical
     point along each eigenvector, so an eigenvalue of the order of |g| is not determined by
     the point: on the valley of (1 - w1 w2)^2, a point with |g| = 5e-14 has a resolved
     lambda_small = 3.5e-14 where the valley's own is 0. Such eigenvalues count as zero. */
  v->gradient_band = v->critical && in->gradient_norm > given ? in->gradient_norm : 0;
  if (v->gradient_band > 0) given = v->gradient_band;
  if (in->refinement) v->refinement = *in->refinement;
  if (in->full) {
    v->n          = in->full->n;
    v->lambda_min = in->full->values[0];
    v->lambda_max = in->full->values[in->full->n - 1];
    v->basis      = HESSA_BASIS_FULL_SPECTRUM;
  } else {
    v->n          = in->n;
    v->lambda_min = in->smallest->values[0];
    v->lambda_max = in->largest->values[0];
    v->basis      = in->density ? HESSA_BASIS_EXTREMES_AND_DENSITY : HESSA_BASIS_EXTREMES;
  }
  scale       = PetscMax(fabs(v->lambda_min), fabs(v->lambda_max));
  v->roundoff = HessaRoundoff(v->n, scale);
  if (in->full) v->roundoff += in->full->asymmetry * sqrt((double)v->n) * scale; /* |E|_2 <= |E|_F of the products' error */
  v->zero_tol = PetscMax(v->roundoff, given);
  if (in->zero_tol >= 0)
    snprintf(v->zero_tol_reason, sizeof v->zero_tol_reason, "given (-hessa_analyze_zero_tol %.3e), never below an eigenvalue's own error bound", in->zero_tol);
  else if (in->full)
    snprintf(v->zero_tol_reason, sizeof v->zero_tol_reason, "round-off of the assembled matrix: n eps max|lambda| + asymmetry sqrt(n) max|lambda| = %.3e", v->roundoff);
  else
    snprintf(v->zero_tol_reason, sizeof v->zero_tol_reason, "round-off floor n eps max|lambda| = %.3e; each eigenvalue adds its own residual bound min(r, r^2/gap)", v->roundoff);
  if (v->gradient_band > 0 && v->gradient_band >= v->roundoff) {
    size_t used = strlen(v->zero_tol_reason);
    snprintf(v->zero_tol_reason + used, sizeof v->zero_tol_reason - used, "; at least the gradient norm %.3e (the point is critical only to within it)", v->gradient_band);
  }

  /* every computed extreme pair gets its bound and sign (also with the full spectrum, for the report) */
  for (int e = 0; e < 2; e++) {
    const HessaExtremes *x = e ? in->largest : in->smallest;
    if (!x || x->nconv <= 0) continue;
    v->n_pairs[e] = x->nconv;
    PetscCall(PetscMalloc2(x->nconv, &v->bound[e], x->nconv, &v->sign[e]));
    HessaEigenvalueBounds(x, v->roundoff, given, v->bound[e], v->sign[e]);
  }

  if (in->full) {
    FullCounts(in->full, v);
    has_neg = v->n_negative > 0, has_pos = v->n_positive > 0;
    min_pos = v->n_positive == v->n, max_neg = v->n_negative == v->n;
  } else {
    for (int e = 0; e < 2; e++)
      for (PetscInt i = 0; i < v->n_pairs[e]; i++) has_neg |= v->sign[e][i]<0, has_pos |= v->sign[e][i]> 0;
    min_pos = v->sign[0][0] > 0, max_neg = v->sign[1][0] < 0;
    ExtremesCounts(v);
  }
  Fractions(in, v);

  if (!v->critical)
    v->type = HESSA_VERDICT_NOT_CRITICAL;
  else if (has_neg && has_pos)
    v->type = HESSA_VERDICT_SADDLE;
  else if (min_pos)
    v->type = HESSA_VERDICT_LOCAL_MINIMUM; /* the smallest eigenvalue is positive beyond its bound */
  else if (max_neg)
    v->type = HESSA_VERDICT_LOCAL_MAXIMUM;
  else
    v->type = HESSA_VERDICT_DEGENERATE;
  Summary(in, has_neg, v);
  PetscFunctionReturn(0);
}

/* HessaVerdictApplyProbes - not collective; see analysis.h. behaviour[i] is
 * HessaProbeBehaviour of probe i ("rises", "falls", "flat", "mixed"). */
PetscErrorCode HessaVerdictApplyProbes(HessaVerdict *v, PetscInt n_probes, const char *const behaviour[], const double eigenvalue[])
{
  PetscInt  rising = 0, falling = 0;
  PetscBool neg = v->n_negative > 0 || (v->n_pairs[0] && v->sign[0][0] < 0);
  char      text[400];
  double    fall_at = 0;

  PetscFunctionBegin;
  if (v->type != HESSA_VERDICT_DEGENERATE) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < n_probes; i++) {
    if (!strcmp(behaviour[i], "rises")) rising++;
    if (!strcmp(behaviour[i], "falls")) {
      if (!falling) fall_at = eigenvalue[i];
      falling++;
    }
  }
  v->n_probed = n_probes, v->n_probes_rising = rising, v->n_probes_falling = falling;
  if (!n_probes) {
    v->degenerate_kind = HESSA_DEGENERATE_UNPROBED;
    PetscFunctionReturn(0);
  }
  if ((falling && !neg) || (rising && neg)) {
    /* the loss goes down along one direction and up along another: not an extremum */
    v->degenerate_kind = HESSA_DEGENERATE_SADDLE;
    if (falling && !neg)
      snprintf(text, sizeof text,
               "Degenerate saddle: the loss falls along a zero-curvature direction (eigenvalue %.3e, zero within its error bound; %" PetscInt_FMT " of %" PetscInt_FMT
               " probed directions fall) while no eigenvalue is negative, so the point is not a minimum.",
               fall_at, falling, n_probes);
    else
      snprintf(text, sizeof text, "Degenerate saddle: the loss rises along %" PetscInt_FMT " of %" PetscInt_FMT " probed zero-curvature directions while the curvature is negative elsewhere, so the point is not a maximum.", rising, n_probes);
  } else if (rising == n_probes) {
    v->degenerate_kind = HESSA_DEGENERATE_RISES;
    snprintf(text, sizeof text, "The loss rises along every probed zero-curvature direction (%" PetscInt_FMT " of %" PetscInt_FMT "): consistent with a minimum of higher order along them, which the probes cannot prove for the directions not probed.",
             rising, n_probes);
  } else if (falling == n_probes) {
    v->degenerate_kind = HESSA_DEGENERATE_FALLS;
    snprintf(text, sizeof text, "The loss falls along every probed zero-curvature direction (%" PetscInt_FMT " of %" PetscInt_FMT "): consistent with a maximum of higher order along them, not a proof.", falling, n_probes);
  } else {
    v->degenerate_kind = HESSA_DEGENERATE_INCONCLUSIVE;
    snprintf(text, sizeof text, "The probes are inconclusive: of %" PetscInt_FMT " zero-curvature directions the loss rises along %" PetscInt_FMT " and falls along %" PetscInt_FMT "; the rest are flat or mixed within the probed steps.", n_probes,
             rising, falling);
  }
  {
    /* the probe's finding leads: it is the answer the second-order test could not give */
    size_t lt = strlen(text), ls = strlen(v->summary);
    if (lt + 1 + ls < sizeof v->summary) {
      memmove(v->summary + lt + 1, v->summary, ls + 1);
      memcpy(v->summary, text, lt);
      v->summary[lt] = ' ';
    }
  }
  PetscFunctionReturn(0);
}
