/* Every -hessa_eps_type hessa accepts computes both ends right; every other one is refused.
 *
 * Two quadratics (n = 90, dense eigenvectors), solved with the settings every command uses
 * (HessaExtremesSettingsForEnd: tol 1e-8, the smallest end judged against |lambda_max|):
 *   - indefinite: 6 negatives in [-2, -0.2], a bulk in [0.01, 1], 4 outliers up to 40;
 *   - positive with a cluster at zero: bulk in [1e-4, 0.5], 3 outliers up to 20 (the low end
 *     of a network's Hessian near a minimum).
 * For krylovschur and arpack: k = 3 pairs at each end, all returned and converged, each equal
 * to the ScaLAPACK full spectrum's value to 2 tol |lambda_max| (|lambda - theta| <= |r| for a
 * Ritz pair, and |r| <= tol |lambda_max| is the convergence test). The full spectrum itself
 * equals the prescribed values to 1e-12 |lambda_max|.
 * Refused types (lanczos, arnoldi, power, subspace, lobpcg, gd, jd, rqcg, lapack, scalapack
 * and one hessa does not know, ciss): HessaExtremesTypeCheck fails with PETSC_ERR_ARG_WRONG
 * and a message naming the type and the accepted ones.
 */
#include <hessa/spectrum.h>
#include <hessa/core.h>
#include <string.h>

#define N 90
#define K 3
#define TOL 1e-8

static PetscErrorCode CheckType(const char type[], const double *lambda)
{
  PetscMPIInt       rank;
  HessaObjective    obj;
  HessaOperator     op;
  HessaFullSpectrum full;
  HessaExtremes     ex[2];
  double            scale;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(HessaQuadraticCreate(N, lambda, N, 31, rank == 0 ? PETSC_TRUE : PETSC_FALSE, &obj));
  PetscCall(HessaOperatorCreate(PETSC_COMM_WORLD, obj, &op));
  PetscCall(HessaOperatorSetUp(op));
  PetscCall(HessaSpectrumFull(op, -1, &full));
  scale = PetscMax(fabs(full.values[0]), fabs(full.values[N - 1]));
  for (PetscInt i = 0; i < N; i++) PetscCheck(fabs(full.values[i] - lambda[i]) <= 1e-12 * scale, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "full spectrum %" PetscInt_FMT ": %.17g, prescribed %.17g", i, full.values[i], lambda[i]);
  PetscCall(PetscOptionsSetValue(NULL, "-hessa_eps_type", type));
  for (int end = 0; end < 2; end++) {
    HessaWhich            which = end ? HESSA_WHICH_SMALLEST : HESSA_WHICH_LARGEST;
    HessaExtremesSettings s;
    HessaExtremesSettingsForEnd(which, K, TOL, end ? &ex[0] : NULL, &s);
    PetscCall(HessaSpectrumExtremesWithSettings(op, which, K, &s, PETSC_FALSE, &ex[end]));
    PetscCheck(!strcmp(ex[end].eps_type, type), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: the solver used was %s", type, ex[end].eps_type);
    PetscCheck(ex[end].nconv == K, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s %s end: %" PetscInt_FMT " of %d pairs returned", type, end ? "smallest" : "largest", ex[end].nconv, K);
    for (PetscInt i = 0; i < K; i++) {
      double want = end ? full.values[i] : full.values[N - 1 - i];
      PetscCheck(ex[end].converged[i], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s %s %" PetscInt_FMT ": residual %.3e not converged", type, end ? "smallest" : "largest", i, ex[end].residuals[i]);
      PetscCheck(fabs(ex[end].values[i] - want) <= 2 * TOL * scale, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s %s %" PetscInt_FMT ": %.17g, the full spectrum says %.17g (difference %.3e > %.3e)", type, end ? "smallest" : "largest", i, ex[end].values[i],
                 want, fabs(ex[end].values[i] - want), 2 * TOL * scale);
    }
  }
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_eps_type"));
  PetscCall(HessaExtremesDestroy(&ex[0]));
  PetscCall(HessaExtremesDestroy(&ex[1]));
  PetscCall(HessaFullSpectrumDestroy(&full));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaObjectiveDestroy(&obj));
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckRefused(void)
{
  const char *refused[] = {"lanczos", "arnoldi", "power", "subspace", "lobpcg", "gd", "jd", "rqcg", "lapack", "scalapack", "ciss"};

  PetscFunctionBegin;
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    PetscErrorCode code;
    const char    *text;
    char          *message = NULL, want[64];
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    code = HessaExtremesTypeCheck(PETSC_COMM_WORLD, refused[i]);
    PetscCall(PetscPopErrorHandler());
    PetscCheck(code == PETSC_ERR_ARG_WRONG, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "eps type %s: error code %d, expected PETSC_ERR_ARG_WRONG", refused[i], (int)code);
    PetscCall(PetscErrorMessage(code, &text, &message));
    PetscCall(PetscSNPrintf(want, sizeof want, "-hessa_eps_type %s is refused: ", refused[i]));
    PetscCheck(message && strstr(message, want) && strstr(message, "Use krylovschur (the default) or arpack"), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "eps type %s: the message '%s' does not refuse it by name and name the accepted ones", refused[i],
               message ? message : "(none)");
  }
  PetscCall(HessaExtremesTypeCheck(PETSC_COMM_WORLD, "krylovschur"));
  PetscCall(HessaExtremesTypeCheck(PETSC_COMM_WORLD, "arpack"));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  const char *accepted[] = {"krylovschur", "arpack"};
  double      indefinite[N], clustered[N];

  PetscFunctionBegin;
  PetscCall(HessaSpectrumGenerate(N, 0.01, 1.0, 4, 40.0, 6, -2.0, -0.2, indefinite));
  PetscCall(HessaSpectrumGenerate(N, 1e-4, 0.5, 3, 20.0, 0, 0, 0, clustered));
  for (int t = 0; t < 2; t++) {
    PetscCall(CheckType(accepted[t], indefinite));
    PetscCall(CheckType(accepted[t], clustered));
  }
  PetscCall(CheckRefused());
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
