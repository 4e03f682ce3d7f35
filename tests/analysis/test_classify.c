/* HessaClassify on hand-made spectra whose verdicts follow from the table of
 * background.md section 2 (no solver involved):
 *  1. k smallest = -3, -2, -1, 0.5, 0.7 (extremes only): saddle of index exactly 3;
 *  2. k smallest all negative, with an SLQ measure of 10 % mass below 0 over 4 probes:
 *     index unknown (-1), negative fraction 0.1 +- 0.0 from the nodes and weights;
 *  3. smallest 1e-14 with residuals 1e-12 (zero tolerance 1e-11): degenerate;
 *  4. smallest 0.3 > 0: strict local minimum, exact counts 0/0/n, minimum ratio 1;
 *  5. largest -0.2 < 0: strict local maximum, counts n/0/0;
 *  6. |g| = 1e-3 above the tolerance 1e-6: not critical whatever the spectrum;
 *  7. the full spectrum with a given zero tolerance is recounted with it. */
#include <hessa/analysis.h>
#include <math.h>

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
    PetscCheck(v.basis == HESSA_BASIS_EXTREMES && fabs(v.zero_tol - 1e-8) < 1e-20, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 1: basis %d zero tol %g (expected 10 x residual)", (int)v.basis, v.zero_tol);
  }
  { /* 2: 4 probes of 2 nodes; the weight below 0 is 0.05, 0.15, 0.1, 0.1 -> 0.1, se = sd/2 */
    const double  low[5] = {-5, -4, -3, -2, -1};
    HessaExtremes l = Make(top, 5, 1e-9), s = Make(low, 5, 1e-9);
    double        nodes[8] = {-1, 2, -1, 2, -1, 2, -1, 2}, weights[8] = {0.05, 0.95, 0.15, 0.85, 0.1, 0.9, 0.1, 0.9};
    PetscInt      steps[4] = {2, 2, 2, 2};
    HessaDensity  d        = {0};
    double        sd       = sqrt((0.0025 + 0.0025 + 0 + 0) / 3);
    d.probes = 4, d.steps = 2, d.probe_steps = steps, d.nodes = nodes, d.weights = weights;
    in = (HessaClassifyInput){.n = 1000, .loss = 1, .gradient_norm = 0, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s, .density = &d};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_SADDLE && v.n_negative == -1 && v.basis == HESSA_BASIS_EXTREMES_AND_DENSITY, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 2: type %d index %" PetscInt_FMT, (int)v.type, v.n_negative);
    PetscCheck(fabs(v.negative_fraction - 0.1) < 1e-15 && fabs(v.negative_fraction_se - sd / 2) < 1e-15, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 2: fraction %g +- %g, expected 0.1 +- %g", v.negative_fraction, v.negative_fraction_se, sd / 2);
    PetscCheck(fabs(v.minimum_ratio - 0.9) < 1e-15, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 2: minimum ratio %g, expected 0.9", v.minimum_ratio);
  }
  { /* 3 */
    const double  low[5] = {1e-14, 0.2, 0.3, 0.4, 0.5};
    HessaExtremes l = Make(top, 5, 1e-12), s = Make(low, 5, 1e-12);
    in = (HessaClassifyInput){.n = 50, .loss = 1, .gradient_norm = 1e-9, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_DEGENERATE, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 3: type %d", (int)v.type);
  }
  { /* 4 */
    const double  low[5] = {0.3, 0.4, 0.5, 0.6, 0.7};
    HessaExtremes l = Make(top, 5, 1e-12), s = Make(low, 5, 1e-12);
    in = (HessaClassifyInput){.n = 50, .loss = 1, .gradient_norm = 1e-9, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_LOCAL_MINIMUM && v.n_negative == 0 && v.n_zero == 0 && v.n_positive == 50 && v.minimum_ratio == 1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 4: type %d", (int)v.type);
  }
  { /* 5 */
    const double  high[5] = {-0.2, -0.3, -0.4, -0.5, -0.6}, low[5] = {-9, -8, -7, -6, -5};
    HessaExtremes l = Make(high, 5, 1e-12), s = Make(low, 5, 1e-12);
    in = (HessaClassifyInput){.n = 50, .loss = 1, .gradient_norm = 0, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_LOCAL_MAXIMUM && v.n_negative == 50 && v.minimum_ratio == 0.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 5: type %d", (int)v.type);
  }
  { /* 6 */
    const double  low[5] = {-3, -2, -1, 0.5, 0.7};
    HessaExtremes l = Make(top, 5, 1e-9), s = Make(low, 5, 1e-9);
    in = (HessaClassifyInput){.n = 1000, .loss = 0.5, .gradient_norm = 1e-3, .gradient_tol = -1, .zero_tol = -1, .largest = &l, .smallest = &s};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_NOT_CRITICAL && v.gradient_tol == 1e-6 && !v.critical, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 6: type %d tol %g", (int)v.type, v.gradient_tol);
  }
  { /* 7 */
    double            values[4] = {-1e-7, 1e-9, 0.5, 2};
    HessaFullSpectrum f         = {0};
    f.n = 4, f.values = values, f.zero_tol = 1e-10, f.n_negative = 1, f.n_zero = 1, f.n_positive = 2;
    in = (HessaClassifyInput){.n = 4, .loss = 1, .gradient_norm = 0, .gradient_tol = -1, .zero_tol = 1e-6, .full = &f};
    PetscCall(HessaClassify(&in, &v));
    PetscCheck(v.type == HESSA_VERDICT_DEGENERATE && v.n_negative == 0 && v.n_zero == 2 && v.n_positive == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case 7: type %d counts %" PetscInt_FMT "/%" PetscInt_FMT "/%" PetscInt_FMT, (int)v.type, v.n_negative,
               v.n_zero, v.n_positive);
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
