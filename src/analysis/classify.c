/* Classification of a point (background.md section 2): the second-order test with
 * stated tolerances, on the exact full spectrum when it was computed, else on the
 * extreme eigenpairs (and the SLQ density for the index of a large saddle). */
#include <hessa/analysis.h>
#include <math.h>
#include <stdio.h>

const char *const HessaVerdictTypeNames[]  = {"local_minimum", "local_maximum", "saddle", "degenerate", "not_critical"};
const char *const HessaVerdictBasisNames[] = {"full_spectrum", "extremes_and_density", "extremes"};

/* The zero tolerance: an eigenvalue whose magnitude is below it cannot be told from 0.
 * A computed eigenvalue with residual r lies within r of a true one (symmetric H), and
 * products carry round-off of about 1e-10 of the spectral scale. */
static void DefaultZeroTolerance(const HessaClassifyInput *in, double scale, HessaVerdict *v)
{
  double rmax = 0;
  if (in->full) {
    v->zero_tol = in->full->zero_tol;
    snprintf(v->zero_tol_reason, sizeof v->zero_tol_reason, "full spectrum: max(1e-10 max|lambda|, 10 |H - H^T|_F of the assembled matrix) = %.3e", v->zero_tol);
    return;
  }
  for (int e = 0; e < 2; e++) {
    const HessaExtremes *x = e ? in->smallest : in->largest;
    if (!x) continue;
    for (PetscInt i = 0; i < x->nconv; i++) rmax = PetscMax(rmax, x->residuals[i]);
  }
  v->zero_tol = 10.0 * PetscMax(rmax, 1e-10 * scale);
  snprintf(v->zero_tol_reason, sizeof v->zero_tol_reason, "10 x max(largest eigenpair residual %.3e, 1e-10 x spectral scale %.3e): an eigenvalue is known only to within its residual", rmax, scale);
}

/* Fractions of the spectral measure below -zt and above zt, from the SLQ nodes and
 * weights: the mean over probes and its standard error across probes. */
static void DensityFractions(const HessaDensity *d, double zt, double *neg, double *neg_se, double *pos, double *pos_se)
{
  double sn = 0, sn2 = 0, sp = 0, sp2 = 0, np = (double)d->probes;
  for (PetscInt p = 0; p < d->probes; p++) {
    double fn = 0, fp = 0;
    for (PetscInt i = 0; i < d->probe_steps[p]; i++) {
      double node = d->nodes[p * d->steps + i], w = d->weights[p * d->steps + i];
      if (node < -zt)
        fn += w;
      else if (node > zt)
        fp += w;
    }
    sn += fn, sn2 += fn * fn, sp += fp, sp2 += fp * fp;
  }
  *neg    = sn / np;
  *pos    = sp / np;
  *neg_se = d->probes > 1 ? sqrt(PetscMax(0.0, (sn2 - np * *neg * *neg) / (np - 1)) / np) : -1;
  *pos_se = d->probes > 1 ? sqrt(PetscMax(0.0, (sp2 - np * *pos * *pos) / (np - 1)) / np) : -1;
}

/* HessaClassify - not collective; see analysis.h. */
PetscErrorCode HessaClassify(const HessaClassifyInput *in, HessaVerdict *v)
{
  double    scale = 0, zt;
  PetscBool has_neg, has_pos, zero_at_bottom, zero_at_top;

  PetscFunctionBegin;
  PetscCheck(in->full || (in->largest && in->smallest && in->largest->nconv > 0 && in->smallest->nconv > 0), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "classification needs the full spectrum or converged extreme eigenvalues at both ends");
  PetscCall(PetscMemzero(v, sizeof *v));
  v->gradient_norm = in->gradient_norm;
  v->gradient_tol  = in->gradient_tol >= 0 ? in->gradient_tol : 1e-6 * PetscMax(1.0, fabs(in->loss));
  v->critical      = in->gradient_norm <= v->gradient_tol ? PETSC_TRUE : PETSC_FALSE;
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
  scale = PetscMax(fabs(v->lambda_min), fabs(v->lambda_max));
  if (in->zero_tol >= 0) {
    v->zero_tol = in->zero_tol;
    snprintf(v->zero_tol_reason, sizeof v->zero_tol_reason, "given (-hessa_analyze_zero_tol)");
  } else
    DefaultZeroTolerance(in, scale, v);
  zt             = v->zero_tol;
  has_neg        = v->lambda_min < -zt ? PETSC_TRUE : PETSC_FALSE;
  has_pos        = v->lambda_max > zt ? PETSC_TRUE : PETSC_FALSE;
  zero_at_bottom = fabs(v->lambda_min) <= zt ? PETSC_TRUE : PETSC_FALSE;
  zero_at_top    = fabs(v->lambda_max) <= zt ? PETSC_TRUE : PETSC_FALSE;

  /* counts and fractions */
  v->negative_fraction_se = v->minimum_ratio_se = -1; /* exact unless estimated below */
  if (in->full) {
    v->n_negative = in->full->n_negative, v->n_zero = in->full->n_zero, v->n_positive = in->full->n_positive;
    /* the full spectrum's own counts use its zero tolerance; recount if a different one was given */
    if (in->zero_tol >= 0) {
      v->n_negative = v->n_zero = v->n_positive = 0;
      for (PetscInt i = 0; i < v->n; i++) {
        double l = in->full->values[i];
        if (l < -zt)
          v->n_negative++;
        else if (l > zt)
          v->n_positive++;
        else
          v->n_zero++;
      }
    }
    v->negative_fraction = (double)v->n_negative / (double)v->n;
    v->minimum_ratio     = (double)v->n_positive / (double)v->n;
  } else {
    PetscInt  found        = 0;
    PetscBool all_negative = PETSC_TRUE;
    for (PetscInt i = 0; i < in->smallest->nconv; i++) {
      if (in->smallest->values[i] < -zt)
        found++;
      else
        all_negative = PETSC_FALSE;
    }
    v->n_zero = v->n_positive = -1;
    if (!all_negative) {
      /* the k smallest reach a non-negative eigenvalue: every negative one was found */
      v->n_negative        = found;
      v->negative_fraction = (double)found / (double)v->n;
    } else {
      v->n_negative = -1;
      if (in->density) {
        double pos, pos_se;
        DensityFractions(in->density, zt, &v->negative_fraction, &v->negative_fraction_se, &pos, &pos_se);
      } else
        v->negative_fraction = (double)found / (double)v->n; /* a lower bound */
    }
    if (!has_neg && !zero_at_bottom) { /* lambda_min > zt: every eigenvalue is positive */
      v->minimum_ratio = 1.0;
      v->n_positive = v->n, v->n_zero = 0, v->n_negative = 0;
    } else if (!has_pos && !zero_at_top) { /* lambda_max < -zt: every eigenvalue is negative */
      v->minimum_ratio = 0.0, v->negative_fraction = 1.0, v->negative_fraction_se = -1;
      v->n_positive = 0, v->n_zero = 0, v->n_negative = v->n;
    } else if (in->density) {
      double neg, neg_se;
      DensityFractions(in->density, zt, &neg, &neg_se, &v->minimum_ratio, &v->minimum_ratio_se);
    } else
      v->minimum_ratio = 1.0 - v->negative_fraction;
  }

  if (!v->critical)
    v->type = HESSA_VERDICT_NOT_CRITICAL;
  else if (has_neg && has_pos)
    v->type = HESSA_VERDICT_SADDLE;
  else if (!has_neg && !zero_at_bottom)
    v->type = HESSA_VERDICT_LOCAL_MINIMUM; /* every eigenvalue > zt */
  else if (!has_pos && !zero_at_top)
    v->type = HESSA_VERDICT_LOCAL_MAXIMUM; /* every eigenvalue < -zt */
  else
    v->type = HESSA_VERDICT_DEGENERATE;

  switch (v->type) {
  case HESSA_VERDICT_NOT_CRITICAL:
    snprintf(v->summary, sizeof v->summary, "Not a critical point: the gradient norm %.3e is above the tolerance %.3e (the curvature below describes the point all the same; eigenvalues from %.6g to %.6g).", v->gradient_norm, v->gradient_tol,
             v->lambda_min, v->lambda_max);
    break;
  case HESSA_VERDICT_SADDLE:
    if (v->n_negative >= 0)
      snprintf(v->summary, sizeof v->summary, "Saddle point of index %" PetscInt_FMT " (%" PetscInt_FMT " of %" PetscInt_FMT " eigenvalues negative; most negative %.6g, largest %.6g): the loss falls along negative curvature.", v->n_negative,
               v->n_negative, v->n, v->lambda_min, v->lambda_max);
    else
      snprintf(v->summary, sizeof v->summary, "Saddle point: an estimated %.4g%% of the %" PetscInt_FMT " eigenvalues are negative (most negative %.6g, largest %.6g): the loss falls along negative curvature.", 100 * v->negative_fraction, v->n,
               v->lambda_min, v->lambda_max);
    break;
  case HESSA_VERDICT_LOCAL_MINIMUM:
    snprintf(v->summary, sizeof v->summary, "Strict local minimum: the gradient norm %.3e is below %.3e and every eigenvalue is positive (smallest %.6g above the zero tolerance %.3e; condition number %.4g).", v->gradient_norm, v->gradient_tol,
             v->lambda_min, zt, v->lambda_max / v->lambda_min);
    break;
  case HESSA_VERDICT_LOCAL_MAXIMUM:
    snprintf(v->summary, sizeof v->summary, "Strict local maximum: the gradient norm %.3e is below %.3e and every eigenvalue is negative (largest %.6g below -%.3e).", v->gradient_norm, v->gradient_tol, v->lambda_max, zt);
    break;
  case HESSA_VERDICT_DEGENERATE:
    snprintf(v->summary, sizeof v->summary,
             "Degenerate critical point: no eigenvalue is %s but some are zero within the tolerance %.3e (eigenvalues from %.6g to %.6g), so the second-order test is inconclusive; see the probes along the zero-curvature directions.",
             has_neg ? "positive" : "negative", zt, v->lambda_min, v->lambda_max);
    break;
  }
  PetscFunctionReturn(0);
}
