/* What the verdict needs from the operator beyond the first eigensolves:
 *
 *   refinement  an end whose computed pairs have an unresolved sign (|theta| within its own
 *               error bound, and that bound above the round-off floor) is solved again with a
 *               tolerance 100 x tighter per round, within a stated product budget, before the
 *               eigenvalue is called zero;
 *   probes      the loss along zero-curvature eigenvectors, chosen as distinct directions
 *               (by the eigenvectors' overlap, not by their eigenvalues, which coincide in
 *               a degenerate eigenspace).
 */
#include <hessa/analysis.h>
#include <float.h>
#include <math.h>

/* Does the end x have a pair whose sign a tighter tolerance could still resolve? */
static PetscErrorCode NeedsRefinement(const HessaExtremes *x, double roundoff, PetscBool *needs)
{
  double   *bound;
  PetscInt *sign;

  PetscFunctionBegin;
  *needs = PETSC_FALSE;
  if (x->nconv <= 0) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2(x->nconv, &bound, x->nconv, &sign));
  HessaEigenvalueBounds(x, roundoff, 0, bound, sign);
  for (PetscInt i = 0; i < x->nconv; i++)
    if (sign[i] == 0 && bound[i] > 2 * roundoff) *needs = PETSC_TRUE;
  PetscCall(PetscFree2(bound, sign));
  PetscFunctionReturn(0);
}

/* Collective: counts are exact only if the pairs up to the first resolved eigenvalue of the
 * other sign are every eigenvalue on that side. A single-vector Krylov method can miss a
 * copy of a repeated eigenvalue, so a few more pairs are computed orthogonally to those found
 * (SLEPc's deflation space); while some lie before that cutoff they were missed, and join x. */
static PetscErrorCode CompleteEnd(HessaOperator op, HessaWhich which, HessaExtremes *x, double scale, PetscInt *missed)
{
  const PetscInt more     = 4;
  double         roundoff = HessaRoundoff(op->n_op, scale), *bound;
  PetscInt      *sign, cut;

  PetscFunctionBegin;
  *missed = 0;
  for (;;) {
    /* the check asks only whether a pair lies before the cutoff: a moderate tolerance will do */
    HessaExtremesSettings s = {PetscMax(x->tol, 1e-8), scale, 0};
    HessaExtremes         y;
    PetscInt              before = 0;
    if (x->nconv <= 0 || x->nconv + more > op->n_op || !x->vectors) break;
    PetscCall(PetscMalloc2(x->nconv, &bound, x->nconv, &sign));
    HessaEigenvalueBounds(x, roundoff, 0, bound, sign);
    for (cut = 0; cut < x->nconv; cut++)
      if (which == HESSA_WHICH_SMALLEST ? sign[cut] > 0 : sign[cut] < 0) break;
    PetscCall(PetscFree2(bound, sign));
    /* no cutoff: the counts are not claimed exact anyway; cutoff at the first pair (every
       eigenvalue of one sign): a missed copy of it would change no count */
    if (cut == x->nconv || cut == 0) break;
    PetscCall(HessaSpectrumExtremesContinue(op, which, x->nconv + more, &s, PETSC_FALSE, x, &y));
    for (PetscInt i = 0; i < y.nconv; i++) before += which == HESSA_WHICH_SMALLEST ? y.values[i] < x->values[cut] : y.values[i] > x->values[cut];
    if (before <= cut) {
      PetscCall(HessaExtremesDestroy(&y));
      break;
    }
    PetscCall(HessaLog(op->comm, "analyze: the %s end had missed %" PetscInt_FMT " eigenvalue(s) (copies of a repeated one); added", which == HESSA_WHICH_SMALLEST ? "smallest" : "largest", before - cut));
    y.products += x->products;
    *missed += before - cut;
    PetscCall(HessaExtremesDestroy(x));
    *x = y;
  }
  PetscFunctionReturn(0);
}

/* HessaExtremesRefine - collective on op->comm; see analysis.h. */
PetscErrorCode HessaExtremesRefine(HessaOperator op, PetscInt k, double tol, PetscInt budget, HessaExtremes *largest, HessaExtremes *smallest, HessaRefinement *ref)
{
  /* below 100 n eps a residual test may never pass (the products' own round-off) */
  double     scale, roundoff, floor_tol = 100.0 * (double)PetscMax(op->n_op, 1) * DBL_EPSILON;
  PetscInt64 spent = 0;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(ref, sizeof *ref));
  if (largest->nconv <= 0 || smallest->nconv <= 0) PetscFunctionReturn(0);
  ref->budget = budget >= 0 ? budget : PetscMax(1000, 4 * (largest->products + smallest->products));
  for (int e = 0; e < 2; e++) {
    HessaExtremes *x    = e ? largest : smallest;
    HessaWhich     w    = e ? HESSA_WHICH_LARGEST : HESSA_WHICH_SMALLEST;
    double         t    = tol > 0 ? tol : 1e-8;
    PetscInt64     last = x->products;
    PetscBool      needs;

    scale    = PetscMax(fabs(largest->values[0]), fabs(smallest->values[0]));
    roundoff = HessaRoundoff(op->n_op, scale);
    PetscCall(NeedsRefinement(x, roundoff, &needs));
    if (!needs) continue;
    ref->attempted[e] = PETSC_TRUE;
    ref->tol_start[e] = ref->tol_final[e] = t;
    while (needs) {
      HessaExtremesSettings s;
      HessaExtremes         y;
      if (t <= floor_tol) {
        ref->floor_reached[e] = PETSC_TRUE;
        break;
      }
      if ((double)spent + 1.5 * (double)last > (double)ref->budget) {
        ref->budget_exhausted[e] = PETSC_TRUE;
        break;
      }
      t = PetscMax(t / 100, floor_tol);
      HessaExtremesSettingsForEnd(w, k, t, e ? NULL : largest, &s);
      /* both ends are judged against the spectral scale seen (absolute test), or a small
         eigenvalue at the top would be asked for a tolerance relative to itself */
      s.scale = scale;
      if (s.ncv == 0 && 2 * k + 1 < 80) s.ncv = 80;
      PetscCall(HessaLog(op->comm, "analyze: refining the %s end: a sign is unresolved; tolerance %.1e", e ? "largest" : "smallest", t));
      PetscCall(HessaSpectrumExtremesWithSettings(op, w, k, &s, PETSC_TRUE, &y));
      last = y.products;
      spent += y.products;
      ref->rounds[e]++;
      ref->products[e] += y.products;
      ref->tol_final[e] = t;
      if (y.nconv < x->nconv) { /* a tighter solve that converged fewer pairs does not replace the first */
        PetscCall(HessaExtremesDestroy(&y));
        break;
      }
      PetscCall(HessaExtremesDestroy(x));
      *x       = y;
      scale    = PetscMax(fabs(largest->values[0]), fabs(smallest->values[0]));
      roundoff = HessaRoundoff(op->n_op, scale);
      PetscCall(NeedsRefinement(x, roundoff, &needs));
    }
  }
  for (int e = 0; e < 2; e++) PetscCall(CompleteEnd(op, e ? HESSA_WHICH_LARGEST : HESSA_WHICH_SMALLEST, e ? largest : smallest, PetscMax(fabs(largest->values[0]), fabs(smallest->values[0])), &ref->missed[e]));
  PetscFunctionReturn(0);
}

/* HessaZeroCurvatureProbes - collective on op->comm; see analysis.h. */
PetscErrorCode HessaZeroCurvatureProbes(HessaOperator op, const HessaVerdict *v, const HessaExtremes *smallest, Vec Vs[], const HessaExtremes *largest, Vec Vl[], Vec g_op, double loss, PetscInt n_alpha, const double alpha[], PetscInt max_probes,
                                        PetscInt *n, HessaDegenerateProbe probes[])
{
  Vec *kept, r;

  PetscFunctionBegin;
  *n = 0;
  if (max_probes <= 0) PetscFunctionReturn(0);
  PetscCall(HessaOperatorCreateVec(op, &r));
  PetscCall(VecDuplicateVecs(r, max_probes, &kept));
  for (int e = 0; e < 2; e++) {
    const HessaExtremes *x = e ? largest : smallest;
    Vec                 *V = e ? Vl : Vs;
    for (PetscInt i = 0; V && i < x->nconv && i < v->n_pairs[e] && *n < max_probes; i++) {
      double norm;
      /* zero within its own bound, or within the full spectrum's round-off */
      if (v->sign[e][i] != 0 && !(v->basis == HESSA_BASIS_FULL_SPECTRUM && fabs(x->values[i]) <= v->zero_tol)) continue;
      /* distinct: the part outside the span of the directions kept so far */
      PetscCall(VecCopy(V[i], r));
      for (PetscInt j = 0; j < *n; j++) {
        PetscScalar c;
        PetscCall(VecDot(r, kept[j], &c));
        PetscCall(VecAXPY(r, -c, kept[j]));
      }
      PetscCall(VecNorm(r, NORM_2, &norm));
      if (norm < 0.5) continue;
      PetscCall(VecCopy(r, kept[*n]));
      PetscCall(VecScale(kept[*n], 1.0 / norm));
      probes[*n].eigenvalue = x->values[i];
      PetscCall(HessaProbeDirection(op, V[i], x->values[i], g_op, loss, n_alpha, alpha, &probes[*n].probe));
      (*n)++;
    }
  }
  PetscCall(VecDestroyVecs(max_probes, &kept));
  PetscCall(VecDestroy(&r));
  PetscFunctionReturn(0);
}
