/* Spectrum of a real MLP Hessian against PyTorch: a network small enough to assemble
 * (the model and data come from the options, e.g. blobs in 20 dimensions and a
 * 20-24-16-4 tanh network, n = 972), at its initial weights.
 * 1. SLEPc extremes (k = 5 at each end, tol 1e-12) equal the ScaLAPACK full spectrum's
 *    ends to 1e-8 |H|;
 * 2. the full spectrum (ELPA, the default, and each ScaLAPACK fallback: pdsyevd, pdsyevr,
 *    pdsyev) equals numpy.linalg.eigvalsh of the Hessian PyTorch computes for the same
 *    weights and samples (float64, torch_hessian.py) to 1e-10 |H|; the extremes to 1e-8 |H|.
 * The weights go through HessaModelSave (the weight folder format), the samples through
 * HessaWriteNPY (rank 0 loads them all on PETSC_COMM_SELF). Same answers at every rank
 * count. Usage: test_spectrum_mlp -script torch_hessian.py [data/model options]. */
#include <hessa/spectrum.h>
#include <hessa/data.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Rank 0: every sample as x.npy (float64) and labels.npy (int64) in folder. */
static PetscErrorCode WriteSamples(const char *folder)
{
  HessaData all;
  double   *labels;
  int64_t   shape[2];
  char      path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(HessaDataCreate(PETSC_COMM_SELF, &all));
  PetscCall(HessaDataSetFromOptions(all));
  PetscCall(HessaDataLoad(all));
  PetscCheck(all->labels, PETSC_COMM_SELF, PETSC_ERR_SUP, "test_spectrum_mlp needs a classification data set");
  shape[0] = all->n_local;
  shape[1] = all->n_features;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/x.npy", folder));
  PetscCall(HessaWriteNPY(path, 2, shape, all->x, 0));
  PetscCall(PetscMalloc1(all->n_local, &labels));
  for (PetscInt i = 0; i < all->n_local; i++) labels[i] = all->labels[i];
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/labels.npy", folder));
  PetscCall(HessaWriteNPY(path, 1, shape, labels, 1));
  PetscCall(PetscFree(labels));
  PetscCall(HessaDataDestroy(&all));
  PetscFunctionReturn(0);
}

/* Rank 0 runs the PyTorch reference; every rank gets its n eigenvalues (ascending). */
static PetscErrorCode TorchEigenvalues(const char *script, const char *folder, PetscInt n, double *ref)
{
  PetscMPIInt rank;
  HessaStatus st = {0, ""};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (rank == 0) {
    char       cmd[4 * PETSC_MAX_PATH_LEN], out[PETSC_MAX_PATH_LEN];
    HessaArray a;
    PetscCall(WriteSamples(folder));
    PetscCall(PetscSNPrintf(out, sizeof out, "%s/eigvalsh.npy", folder));
    PetscCall(PetscSNPrintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s/weights %s/x.npy %s/labels.npy %s", script, folder, folder, folder, out));
    if (system(cmd) != 0)
      HessaStatusSet(&st, PETSC_ERR_LIB, "the PyTorch reference failed: %s", cmd);
    else {
      HessaReadNPY(out, 0, -1, &a, &st);
      if (!st.code && a.count * a.row_length != n) HessaStatusSet(&st, PETSC_ERR_PLIB, "PyTorch gave %d eigenvalues, expected %d", (int)(a.count * a.row_length), (int)n);
      if (!st.code) PetscCall(PetscArraycpy(ref, a.values, n));
      if (!st.code) HessaArrayFree(&a);
    }
  }
  PetscCall(HessaSyncError(PETSC_COMM_WORLD, &st));
  PetscCallMPI(MPI_Bcast(ref, (int)n, MPI_DOUBLE, 0, PETSC_COMM_WORLD));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  HessaData         data;
  HessaModel        model;
  HessaOperator     op;
  HessaExtremes     ex[2];
  HessaFullSpectrum full;
  char              script[PETSC_MAX_PATH_LEN] = "", folder[64], weights[96];
  double           *ref, norm = 0, err_full = 0, err_ext = 0, err_ext_torch = 0;
  PetscMPIInt       size;
  PetscInt          n, k = 5;
  PetscBool         verbose = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-script", script, sizeof script, NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-verbose", &verbose, NULL));
  PetscCheck(script[0], PETSC_COMM_WORLD, PETSC_ERR_USER, "usage: test_spectrum_mlp -script torch_hessian.py [options]");
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscSNPrintf(folder, sizeof folder, "spectrum_mlp_np%d", (int)size));
  PetscCall(PetscSNPrintf(weights, sizeof weights, "%s/weights", folder));
  {
    /* one rank creates the folder: two ranks racing to create it fail */
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
    if (!rank) PetscCall(PetscMkdir(folder));
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  }

  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
  PetscCall(HessaModelSave(model, model->theta, weights));
  n = op->n_op;

  PetscCall(HessaSpectrumFull(op, -1, &full));
  PetscCall(HessaSpectrumExtremes(op, HESSA_WHICH_LARGEST, k, 1e-12, PETSC_FALSE, &ex[0]));
  PetscCall(HessaSpectrumExtremes(op, HESSA_WHICH_SMALLEST, k, 1e-12, PETSC_FALSE, &ex[1]));
  PetscCall(PetscMalloc1(n, &ref));
  PetscCall(TorchEigenvalues(script, folder, n, ref));

  for (PetscInt i = 0; i < n; i++) norm = PetscMax(norm, fabs(ref[i]));
  for (PetscInt i = 0; i < n; i++) err_full = PetscMax(err_full, fabs(full.values[i] - ref[i]));
  for (int end = 0; end < 2; end++) {
    PetscCheck(ex[end].nconv == k, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "extremes: %" PetscInt_FMT " of %" PetscInt_FMT " converged", ex[end].nconv, k);
    for (PetscInt i = 0; i < k; i++) {
      PetscInt j    = end ? i : n - 1 - i;
      err_ext       = PetscMax(err_ext, fabs(ex[end].values[i] - full.values[j]));
      err_ext_torch = PetscMax(err_ext_torch, fabs(ex[end].values[i] - ref[j]));
    }
  }
  if (verbose)
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "n = %" PetscInt_FMT ", |H| = %.4g, lambda_min %.6g; full vs torch %.2e |H|, extremes vs full %.2e |H|, extremes vs torch %.2e |H|, asymmetry %.2e, counts %" PetscInt_FMT "/%" PetscInt_FMT "/%" PetscInt_FMT "\n", n, norm,
                          ref[0], err_full / norm, err_ext / norm, err_ext_torch / norm, full.asymmetry, full.n_negative, full.n_zero, full.n_positive));
  PetscCheck(full.solver == HESSA_FULL_ELPA, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "full spectrum: the default solver ran %s, expected elpa", HessaFullSolverNames[full.solver]);
  PetscCheck(err_full <= 1e-10 * norm, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "full spectrum (elpa) vs PyTorch eigvalsh: max error %.2e |H|", err_full / norm);
  /* the ScaLAPACK fallbacks give the same spectrum */
  for (int k = HESSA_FULL_PDSYEVD; k <= HESSA_FULL_PDSYEV; k++) {
    HessaFullSettings s;
    HessaFullSpectrum other;
    double            err = 0;
    HessaFullSettingsDefault(&s);
    s.solver = (HessaFullSolver)k;
    PetscCall(HessaSpectrumFullWithSettings(op, &s, -1, &other));
    for (PetscInt i = 0; i < n; i++) err = PetscMax(err, fabs(other.values[i] - ref[i]));
    if (verbose) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s vs torch %.2e |H|, eigensolve %.3f s\n", HessaFullSolverNames[k], err / norm, other.seconds_eigensolve));
    PetscCheck(err <= 1e-10 * norm, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "full spectrum (%s) vs PyTorch eigvalsh: max error %.2e |H|", HessaFullSolverNames[k], err / norm);
    PetscCall(HessaFullSpectrumDestroy(&other));
  }
  PetscCheck(err_ext <= 1e-8 * norm, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "extremes vs full spectrum: max error %.2e |H|", err_ext / norm);
  PetscCheck(err_ext_torch <= 1e-8 * norm, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "extremes vs PyTorch eigvalsh: max error %.2e |H|", err_ext_torch / norm);

  PetscCall(PetscFree(ref));
  PetscCall(HessaExtremesDestroy(&ex[0]));
  PetscCall(HessaExtremesDestroy(&ex[1]));
  PetscCall(HessaFullSpectrumDestroy(&full));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
