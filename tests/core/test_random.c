/* The random stream is rank-independent and matches an independent implementation.
 * 1. entries 0, 1, 2, 999 of (seed 42, stream 7) equal the values printed by
 *    random_reference.py (Python re-implementation), to 1e-15;
 * 2. a distributed Vec of length 1001 filled slice-by-slice on P ranks equals the
 *    same vector filled on one rank, bitwise, for every entry;
 * 3. moments: mean of 1e5 normals within 5/sqrt(n) of 0, variance within 0.02 of 1;
 *    Rademacher mean within 5/sqrt(n). */
#include <hessa/core.h>
#include <petscvec.h>
#include <math.h>

static const double reference[4][4] = {
    {0, 0.43740352952864786, -1.2142718391113712, -1.0},
    {1, 0.5534074123378485, -0.3850563059638893, 1.0},
    {2, 0.5250340600301067, -2.1590525575702757, 1.0},
    {999, 0.3031056404731522, 0.5016962487284665, -1.0},
};

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  for (int r = 0; r < 4; r++) {
    uint64_t i = (uint64_t)reference[r][0];
    PetscCheck(fabs(HessaRandomUniform(42, 7, i) - reference[r][1]) < 1e-15, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "uniform[%d] differs from reference", (int)i);
    PetscCheck(fabs(HessaRandomNormal(42, 7, i) - reference[r][2]) < 1e-14, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "normal[%d] differs from reference", (int)i);
    PetscCheck(HessaRandomRademacher(42, 7, i) == reference[r][3], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "rademacher[%d] differs", (int)i);
  }
  for (int kind = 0; kind < 3; kind++) {
    const PetscInt n = 1001;
    Vec            x, all;
    VecScatter     sc;
    PetscInt       lo, hi;
    double        *xa, serial[1001];
    const double  *aa;
    PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, n, &x));
    PetscCall(VecGetOwnershipRange(x, &lo, &hi));
    PetscCall(VecGetArray(x, &xa));
    HessaRandomFill((HessaRandomKind)kind, 5, 3, lo, hi - lo, xa);
    PetscCall(VecRestoreArray(x, &xa));
    PetscCall(VecScatterCreateToAll(x, &sc, &all));
    PetscCall(VecScatterBegin(sc, x, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, x, all, INSERT_VALUES, SCATTER_FORWARD));
    HessaRandomFill((HessaRandomKind)kind, 5, 3, 0, n, serial);
    PetscCall(VecGetArrayRead(all, &aa));
    for (PetscInt i = 0; i < n; i++) PetscCheck(aa[i] == serial[i], PETSC_COMM_SELF, PETSC_ERR_PLIB, "kind %d entry %" PetscInt_FMT " depends on the rank count", kind, i);
    PetscCall(VecRestoreArrayRead(all, &aa));
    PetscCall(VecScatterDestroy(&sc));
    PetscCall(VecDestroy(&all));
    PetscCall(VecDestroy(&x));
  }
  {
    const PetscInt m = 100000;
    double         s = 0, s2 = 0, r = 0;
    for (PetscInt i = 0; i < m; i++) {
      double z = HessaRandomNormal(1, 2, (uint64_t)i);
      s += z;
      s2 += z * z;
      r += HessaRandomRademacher(1, 2, (uint64_t)i);
    }
    PetscCheck(fabs(s / m) < 5.0 / sqrt((double)m), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "normal mean %g too far from 0", s / m);
    PetscCheck(fabs(s2 / m - 1.0) < 0.02, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "normal variance %g too far from 1", s2 / m);
    PetscCheck(fabs(r / m) < 5.0 / sqrt((double)m), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "rademacher mean %g too far from 0", r / m);
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
