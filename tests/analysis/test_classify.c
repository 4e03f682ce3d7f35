/* HessaClassify on hand-made spectra whose verdicts follow from the table of
 * background.md section 2 (no solver involved):
 *  1. k smallest = -3, -2, -1, 0.5, 0.7 (extremes only): saddle of index exactly 3;
 *  2. k smallest all negative, with an SLQ measure of 10 % mass below 0 over 4 probes:
 *     index unknown (-1), negative fraction 0.1 +- 0.0 from the nodes and weights;
 *  3. smallest 1e-14 with residuals 1e-12 (zero tolerance 1e-11): degenerate;
 *  4. smallest 0.3 > 0: strict local minimum, exact counts 0/0/n, minimum ratio 1;
 *  5. largest -0.2 < 0: strict local maximum, counts n/0/0;
 *  6. |g| = 1e-3 above the tolerance 1e-6: not critical whatever the spectrum;
 *  7. the full spectrum with a given zero tolerance is recounted with it;
 *  8. a saddle whose only negative eigenvalue is 1e-7 of the largest, resolved by its own
 *     residual 1e-12 although the top pair's residual is 1e-6: saddle of index exactly 1;
 *  9. smallest 3e-9 with residual 1e-8 but gap 0.5 to the next: r^2/gap = 2e-16 resolves it:
 *     strict local minimum; 10. the same with a neighbour at 4e-9 (no usable gap): degenerate;
 * 11. degenerate + a falling probe: degenerate saddle; + only rising probes: says so. */
#include <hessa/analysis.h>
#include <float.h>
#include <math.h>
#include <string.h>

static HessaExtremes Make(const double *values, PetscInt k, double residual)
{
  static double    vals[2][8], res[2][8];
  static PetscBool conv[2][8];
  static int       slot = 0;
  HessaExtremes    e    = {0};
  slot                  = 1 - slot;
  for (PetscInt i = 0; i < k; i++) vals[slot][i] = values[i], res[slot][i] = residual, conv[slot][i] = PETSC_TRUE;
  e.nev = e.nconv = k;
  e.values = vals[slot], e.residuals = res[slot], e.converged = conv[slot];
  return e;
}

static PetscErrorCode Run(void)
{
  HessaClassifyInput in;
  HessaVerdict       v;
  const double       top[5] = {7, 5, 4, 3, 2};

  PetscFunctionBeginUser;
  { /* 1 */
    const double  low[5] = {-3, -2, -1, 0.5, 0.7};
    HessaExtremes l = Make(top, 5, 1e-9), s = Make(low, 5, 1e-9);
    in = (HessaClassifyInput){.n = 1000, .loss = 1, .gradient_norm = 0, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_SADDLE && v.n_negative == 3 && fabs(v.negative_fraction - 0.003) < 1e-15 && v.negative_fraction_se < 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 1: type %d index %" PetscInt_FMT, (int)v.type, v.n_negative);
    PetscCheck(v.basis == HESSA_BASIS_EXTREMES && fabs(v.zero_tol - 1000 * DBL_EPSILON * 7) < 1e-20, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 1: basis %d zero tol %g (expected the round-off n eps max|lambda|)", (int)v.basis, v.zero_tol);
    PetscCheck(v.counts_exact && v.fraction_source == HESSA_FRACTION_EXACT && v.sign[0][2] == -1 && v.sign[0][3] == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 1: signs");
    PetscCall(HessaVerdictDestroy(&v));
  }
  { /* 2: 4 probes of 2 nodes; the weight below 0 is 0.05, 0.15, 0.1, 0.1 -> 0.1, se = sd/2 */
    const double  low[5] = {-5, -4, -3, -2, -1};
    HessaExtremes l = Make(top, 5, 1e-9), s = Make(low, 5, 1e-9);
    double        nodes[8] = {-1, 2, -1, 2, -1, 2, -1, 2}, weights[8] = {0.05, 0.95, 0.15, 0.85, 0.1, 0.9, 0.1, 0.9};
    PetscInt      steps[4] = {2, 2, 2, 2};
    HessaDensity  d        = {0};
    double        sd       = sqrt((0.0025 + 0.0025 + 0 + 0) / 3);
    d.probes = 4, d.steps = 2, d.probe_steps = steps, d.nodes = nodes, d.weights = weights;
    /* the density's own estimates (density.c computes them from the nodes): the verdict uses these, not a second count */
    d.negative_fraction = 0.1, d.negative_fraction_se = sd / 2, d.positive_fraction = 0.9, d.positive_fraction_se = sd / 2, d.near_zero_width = 1e-3;
    in = (HessaClassifyInput){.n = 1000, .loss = 1, .gradient_norm = 0, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s, .density = &d};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_SADDLE && v.n_negative == -1 && v.basis == HESSA_BASIS_EXTREMES_AND_DENSITY, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 2: type %d index %" PetscInt_FMT, (int)v.type, v.n_negative);
    PetscCheck(fabs(v.negative_fraction - 0.1) < 1e-15 && fabs(v.negative_fraction_se - sd / 2) < 1e-15, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 2: fraction %g +- %g, expected 0.1 +- %g", v.negative_fraction, v.negative_fraction_se, sd / 2);
    PetscCheck(fabs(v.minimum_ratio - 0.9) < 1e-15 && v.fraction_source == HESSA_FRACTION_SLQ && v.near_zero_width == 1e-3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 2: minimum ratio %g, expected 0.9", v.minimum_ratio);
    PetscCall(HessaVerdictDestroy(&v));
  }
  { /* 3 */
    const double  low[5] = {1e-14, 0.2, 0.3, 0.4, 0.5};
    HessaExtremes l = Make(top, 5, 1e-12), s = Make(low, 5, 1e-12);
    in = (HessaClassifyInput){.n = 50, .loss = 1, .gradient_norm = 1e-9, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_DEGENERATE, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 3: type %d", (int)v.type);
    PetscCall(HessaVerdictDestroy(&v));
  }
  { /* 4 */
    const double  low[5] = {0.3, 0.4, 0.5, 0.6, 0.7};
    HessaExtremes l = Make(top, 5, 1e-12), s = Make(low, 5, 1e-12);
    in = (HessaClassifyInput){.n = 50, .loss = 1, .gradient_norm = 1e-9, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_LOCAL_MINIMUM && v.n_negative == 0 && v.n_zero == 0 && v.n_positive == 50 && v.minimum_ratio == 1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 4: type %d", (int)v.type);
    PetscCall(HessaVerdictDestroy(&v));
  }
  { /* 5 */
    const double  high[5] = {-0.2, -0.3, -0.4, -0.5, -0.6}, low[5] = {-9, -8, -7, -6, -5};
    HessaExtremes l = Make(high, 5, 1e-12), s = Make(low, 5, 1e-12);
    in = (HessaClassifyInput){.n = 50, .loss = 1, .gradient_norm = 0, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_LOCAL_MAXIMUM && v.n_negative == 50 && v.minimum_ratio == 0.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 5: type %d", (int)v.type);
    PetscCall(HessaVerdictDestroy(&v));
  }
  { /* 6 */
    const double  low[5] = {-3, -2, -1, 0.5, 0.7};
    HessaExtremes l = Make(top, 5, 1e-9), s = Make(low, 5, 1e-9);
    in = (HessaClassifyInput){.n = 1000, .loss = 0.5, .gradient_norm = 1e-3, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_NOT_CRITICAL && v.gradient_tol == 1e-6 && !v.critical, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 6: type %d tol %g", (int)v.type, v.gradient_tol);
    PetscCall(HessaVerdictDestroy(&v));
  }
  { /* 7 */
    double            values[4] = {-1e-7, 1e-9, 0.5, 2};
    HessaFullSpectrum f         = {0};
    f.n = 4, f.values = values, f.zero_tol = 1e-10, f.n_negative = 1, f.n_zero = 1, f.n_positive = 2;
    in = (HessaClassifyInput){.n = 4, .loss = 1, .gradient_norm = 0, .gradient_tol = -1, .zero_tol = 1e-6, .full = &f};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_DEGENERATE && v.n_negative == 0 && v.n_zero == 2 && v.n_positive == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 7: type %d counts %" PetscInt_FMT "/%" PetscInt_FMT "/%" PetscInt_FMT, (int)v.type, v.n_negative,
               v.n_zero, v.n_positive);
    PetscCall(HessaVerdictDestroy(&v));
  }
  { /* 8 */
    const double  low[5] = {-1e-7, 0.01, 0.02, 0.03, 0.04}, high[5] = {1, 0.9, 0.8, 0.7, 0.6};
    HessaExtremes l = Make(high, 5, 1e-6), s = Make(low, 5, 1e-12);
    in = (HessaClassifyInput){.n = 4000, .loss = 1, .gradient_norm = 0, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_SADDLE && v.n_negative == 1 && v.n_zero == 0 && v.n_positive == 3999, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 8: type %d index %" PetscInt_FMT, (int)v.type, v.n_negative);
    PetscCall(HessaVerdictDestroy(&v));
  }
  { /* 9, 10 */
    const double  low9[5] = {3e-9, 0.5, 0.6, 0.7, 0.8}, low10[5] = {3e-9, 4e-9, 0.6, 0.7, 0.8};
    HessaExtremes l = Make(top, 5, 1e-8), s = Make(low9, 5, 1e-8);
    in = (HessaClassifyInput){.n = 100, .loss = 1, .gradient_norm = 0, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_LOCAL_MINIMUM && fabs(v.bound[0][0] - (1e-16 / (0.5 - 3e-9 - 1e-8) + 100 * DBL_EPSILON * 7)) < 1e-20, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 9: type %d bound %g", (int)v.type, v.bound[0][0]);
    PetscCall(HessaVerdictDestroy(&v));
    s = Make(low10, 5, 1e-8);
    l = Make(top, 5, 1e-8);
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_DEGENERATE && v.sign[0][0] == 0 && v.sign[0][1] == 0 && v.n_zero == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 10: type %d", (int)v.type);
    { /* 11 */
      const char  *falls[2] = {"rises", "falls"}, *rises[2] = {"rises", "rises"};
      const double ev[2] = {3e-9, 4e-9};
      PetscCall(HessaVerdictApplyProbes(&v, 2, falls, ev));
      PetscCheck(v.degenerate_kind == HESSA_DEGENERATE_SADDLE && strstr(v.summary, "Degenerate saddle"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 11: kind %d: %s", (int)v.degenerate_kind, v.summary);
      PetscCall(HessaVerdictDestroy(&v));
      PetscCall(HessaClassify(&in, &v));
      PetscCall(HessaVerdictApplyProbes(&v, 2, rises, ev));
      PetscCheck(v.degenerate_kind == HESSA_DEGENERATE_RISES && v.n_probes_rising == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 11: kind %d", (int)v.degenerate_kind);
      PetscCall(HessaVerdictDestroy(&v));
    }
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
