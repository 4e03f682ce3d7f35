/* The geometry around a point: the true loss along chosen directions (escape along
 * negative curvature, higher-order behaviour along zero curvature), and the gradient's
 * relation to the curvature (background.md sections 3 and 5). */
#include <hessa/analysis.h>
#include <math.h>
#include <string.h>

/* HessaProbeDirection - collective. d: unit vector in operator space; g_op: gradient in
 * operator space or NULL. Evaluates L(theta +- alpha d) - L(theta) for each alpha. */
PetscErrorCode HessaProbeDirection(HessaOperator op, Vec d, double lambda, Vec g_op, double loss, PetscInt n_alpha, const double alpha[], HessaLineProbe *probe)
{
  double gd = 0;

  PetscFunctionBegin;
  PetscCheck(n_alpha > 0 && n_alpha <= 8, op->comm, PETSC_ERR_ARG_OUTOFRANGE, "between 1 and 8 probe steps, found %" PetscInt_FMT, n_alpha);
  if (g_op) PetscCall(VecDot(g_op, d, &gd));
  probe->n_alpha = n_alpha;
  /* differences of losses near |L| carry round-off of a few eps |L| per evaluation */
  probe->noise = 1e3 * PETSC_MACHINE_EPSILON * PetscMax(1.0, fabs(loss));
  for (PetscInt k = 0; k < n_alpha; k++) {
    double lp, lm, a = alpha[k];
    PetscCall(HessaOperatorLossAlong(op, d, a, &lp));
    PetscCall(HessaOperatorLossAlong(op, d, -a, &lm));
    probe->alpha[k]           = a;
    probe->predicted[k]       = 0.5 * lambda * a * a + gd * a;
    probe->predicted_minus[k] = 0.5 * lambda * a * a - gd * a;
    probe->change_plus[k]     = lp - loss;
    probe->change_minus[k]    = lm - loss;
  }
  PetscFunctionReturn(0);
}

/* HessaProbeBehaviour - not collective: what the loss does along a probed direction, read
 * at the largest step whose changes stand out of the round-off. */
const char *HessaProbeBehaviour(const HessaLineProbe *p)
{
  for (PetscInt k = p->n_alpha - 1; k >= 0; k--) {
    double cp = p->change_plus[k], cm = p->change_minus[k];
    if (fabs(cp) <= p->noise && fabs(cm) <= p->noise) continue;
    if (cp > p->noise && cm > p->noise) return "rises";
    if (cp < -p->noise && cm < -p->noise) return "falls";
    return "mixed";
  }
  return "flat";
}

/* HessaGradientGeometryCompute - collective; see analysis.h. One product (H g) and one
 * loss evaluation. */
PetscErrorCode HessaGradientGeometryCompute(HessaOperator op, Vec g_op, double loss, const HessaExtremes *largest, double lambda_min, HessaGradientGeometry *geo)
{
  Vec    hg;
  double gg, ghg;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(geo, sizeof *geo));
  PetscCall(VecDot(g_op, g_op, &gg));
  geo->condition_number = -1;
  if (largest && largest->nconv > 0) {
    double lmax          = largest->values[0];
    geo->stability_limit = lmax > 0 ? 2.0 / lmax : -1;
    if (lambda_min > 0) geo->condition_number = lmax / lambda_min;
  }
  if (gg == 0) PetscFunctionReturn(0);
  PetscCall(VecDuplicate(g_op, &hg));
  PetscCall(HessaOperatorApply(op, g_op, hg));
  PetscCall(VecDot(g_op, hg, &ghg));
  geo->curvature = ghg / gg;
  if (ghg > 0) {
    double l_after;
    geo->has_best_step      = PETSC_TRUE;
    geo->best_step          = gg / ghg;
    geo->predicted_decrease = 0.5 * gg * gg / ghg;
    PetscCall(HessaOperatorLossAlong(op, g_op, -geo->best_step, &l_after));
    geo->true_decrease = loss - l_after;
  }
  if (largest && largest->vectors) {
    double s = 0;
    for (PetscInt i = 0; i < largest->nconv; i++) {
      double c;
      PetscCall(VecDot(largest->vectors[i], g_op, &c));
      s += c * c;
    }
    geo->top_k       = largest->nconv;
    geo->top_k_share = sqrt(s / gg);
  }
  PetscCall(VecDestroy(&hg));
  PetscFunctionReturn(0);
}
