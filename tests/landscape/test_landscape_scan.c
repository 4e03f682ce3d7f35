/* HessaScanRun against independent answers, the same at every rank count:
 * 1. checkpoints: two 784-16-10 tanh MLPs (glorot, seeds 1 and 2) saved with HessaModelSave
 *    on 200 Fashion-MNIST samples; on the grid -0.5..1.5 (41 points) alpha = 0 and 1 are
 *    grid points exactly and their losses equal HessaOperatorLoss at A and B to 1e-12
 *    relative;
 * 2. group-size independence: groups of 1 rank and of all ranks give the same line and the
 *    same random plane to 1e-12 relative;
 * 3. filter normalisation: every row of a weight matrix of each random direction has the norm
 *    of theta's row (1e-12 relative), every bias entry is 0;
 * 4. quadratic (n = 40, theta = 0): along the top-2 unit eigenvectors
 *    L(a, b) = (lambda_n a^2 + lambda_{n-1} b^2) / 2, and along random directions
 *    L = (x^T Q diag(lambda) Q^T x) / 2 with x = a d1 + b d2 (HessaQuadraticApplyQ), both to
 *    1e-10 max(1, |L|); the random directions have unit norm (no filters, theta = 0).
 * -verbose prints the measured errors.
 */
#include <hessa/analysis.h>
#include <math.h>

static PetscBool verbose = PETSC_FALSE;

static double Rel(double a, double b)
{
  return fabs(a - b) / PetscMax(fabs(b), 1e-300);
}

static PetscErrorCode SaveCheckpoint(PetscInt seed, const char folder[], double *loss)
{
  HessaData     data;
  HessaModel    model;
  HessaOperator op;
  char          s[16];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(s, sizeof s, "%" PetscInt_FMT, seed));
  PetscCall(PetscOptionsSetValue(NULL, "-hessa_model_seed", s));
  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
  PetscCall(HessaOperatorLoss(op, model->theta, loss));
  PetscCall(HessaModelSave(model, model->theta, folder));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}

/* The worst relative difference of two scans' losses. */
static double WorstRel(const HessaScan *a, const HessaScan *b)
{
  PetscInt total = a->n_dirs == 2 ? a->points * a->points : a->points;
  double   worst = 0;
  for (PetscInt p = 0; p < total; p++) worst = PetscMax(worst, Rel(a->loss[p], b->loss[p]));
  return worst;
}

static PetscErrorCode CheckFilters(const HessaScan *s)
{
  double worst = 0, bias = 0;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < s->n_dirs; k++)
    for (PetscInt b = 0; b < s->n_blocks; b++) {
      const HessaParamBlock *blk = &s->blocks[b];
      if (blk->ndim != 2) {
        for (PetscInt i = 0; i < blk->count; i++) bias = PetscMax(bias, fabs(s->dirs[k][blk->offset + i]));
        continue;
      }
      for (PetscInt r = 0; r < blk->shape[0]; r++) {
        double nt = 0, nd = 0;
        for (PetscInt c = 0; c < blk->shape[1]; c++) {
          double t = s->theta[blk->offset + r * blk->shape[1] + c], d = s->dirs[k][blk->offset + r * blk->shape[1] + c];
          nt += t * t, nd += d * d;
        }
        worst = PetscMax(worst, Rel(sqrt(nd), sqrt(nt)));
      }
    }
  if (verbose) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "filter norms: worst relative error %.3e, largest bias entry %.3e\n", worst, bias));
  PetscCheck(worst <= 1e-12 && bias == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "filter normalisation: row norms off by %.3e relative, bias entry %.3e", worst, bias);
  PetscFunctionReturn(0);
}

static PetscErrorCode Checkpoints(void)
{
  HessaScanSpec spec = {0};
  HessaScan     s1, sall;
  double        la, lb, e0, e1, eg;
  PetscMPIInt   size;
  char          a[PETSC_MAX_PATH_LEN], b[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscSNPrintf(a, sizeof a, "scan_checkpoints_np%d_A", (int)size));
  PetscCall(PetscSNPrintf(b, sizeof b, "scan_checkpoints_np%d_B", (int)size));
  PetscCall(PetscOptionsInsertString(NULL, "-hessa_data_source fashion-mnist -hessa_data_limit 200 -hessa_mlp_hidden 16 -hessa_model_init glorot"));
  PetscCall(SaveCheckpoint(1, a, &la));
  PetscCall(SaveCheckpoint(2, b, &lb));
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_mlp_hidden"));
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_model_seed"));

  spec.direction = HESSA_SCAN_CHECKPOINTS;
  PetscCall(PetscStrncpy(spec.from, a, sizeof spec.from));
  PetscCall(PetscStrncpy(spec.to, b, sizeof spec.to));
  spec.lo = -0.5, spec.hi = 1.5, spec.points = 41, spec.group_size = 1;
  PetscCall(HessaScanRun(PETSC_COMM_WORLD, &spec, &s1));
  spec.group_size = size;
  PetscCall(HessaScanRun(PETSC_COMM_WORLD, &spec, &sall));
  PetscCheck(s1.grid[10] == 0.0 && s1.grid[30] == 1.0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "grid: alpha = 0 and 1 are not grid points 10 and 30 exactly (%.17g, %.17g)", s1.grid[10], s1.grid[30]);
  e0 = PetscMax(Rel(s1.loss[10], la), Rel(sall.loss[10], la));
  e1 = PetscMax(Rel(s1.loss[30], lb), Rel(sall.loss[30], lb));
  eg = WorstRel(&s1, &sall);
  if (verbose) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "checkpoints: L(A) %.17g rel err %.3e, L(B) %.17g rel err %.3e; groups of 1 vs %d: %.3e\n", la, e0, lb, e1, (int)size, eg));
  PetscCheck(e0 <= 1e-12 && e1 <= 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "checkpoint losses not reproduced: %.3e, %.3e relative", e0, e1);
  PetscCheck(eg <= 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "line: groups of 1 and %d differ by %.3e relative", (int)size, eg);
  PetscCall(HessaScanDestroy(&s1));
  PetscCall(HessaScanDestroy(&sall));

  /* a random plane at A, grouped two ways */
  PetscCall(PetscOptionsSetValue(NULL, "-hessa_model_weights", a));
  PetscCall(PetscMemzero(&spec, sizeof spec));
  spec.direction = HESSA_SCAN_RANDOM, spec.plane = PETSC_TRUE, spec.seed = 7;
  spec.lo = -1, spec.hi = 1, spec.points = 5, spec.group_size = 1;
  PetscCall(HessaScanRun(PETSC_COMM_WORLD, &spec, &s1));
  spec.group_size = size;
  PetscCall(HessaScanRun(PETSC_COMM_WORLD, &spec, &sall));
  eg = WorstRel(&s1, &sall);
  if (verbose) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "random plane: groups of 1 vs %d: %.3e; L(theta) %.17g vs %.17g\n", (int)size, eg, s1.loss[12], la));
  PetscCheck(eg <= 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "plane: groups of 1 and %d differ by %.3e relative", (int)size, eg);
  PetscCheck(Rel(s1.loss[12], la) <= 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "plane: the centre is not theta (%.17g vs %.17g)", s1.loss[12], la);
  PetscCall(CheckFilters(&s1));
  PetscCall(HessaScanDestroy(&s1));
  PetscCall(HessaScanDestroy(&sall));
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_model_weights"));
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_data_source"));
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_data_limit"));
  PetscCall(PetscOptionsClearValue(NULL, "-hessa_model_init"));
  PetscFunctionReturn(0);
}

static PetscErrorCode Quadratic(void)
{
  HessaScanSpec  spec = {0};
  HessaScan      eig, rnd;
  HessaData      data;
  HessaModel     model;
  HessaOperator  op;
  double         lambda[40], worst_eig = 0, worst_rnd = 0, *x, *y;
  const PetscInt n = 40;

  PetscFunctionBegin;
  PetscCall(PetscOptionsInsertString(NULL, "-hessa_model quadratic -hessa_model_dim 40"));
  /* the generated spectrum of HessaModel: 4 outliers up to 50, 4 negatives */
  PetscCall(HessaSpectrumGenerate(n, 0.1, 1.0, 4, 50.0, 4, -1.0, -0.1, lambda));
  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));

  spec.direction = HESSA_SCAN_EIGENVECTOR, spec.plane = PETSC_TRUE, spec.which = HESSA_WHICH_LARGEST, spec.eps_tol = 1e-12;
  spec.lo = -1, spec.hi = 2, spec.points = 7;
  PetscCall(HessaScanRun(PETSC_COMM_WORLD, &spec, &eig));
  spec.direction = HESSA_SCAN_RANDOM, spec.seed = 3;
  PetscCall(HessaScanRun(PETSC_COMM_WORLD, &spec, &rnd));
  PetscCall(PetscMalloc2(n, &x, n, &y));
  for (PetscInt i = 0; i < spec.points; i++)
    for (PetscInt j = 0; j < spec.points; j++) {
      double a = eig.grid[i], b = eig.grid[j], exact = 0.5 * (lambda[n - 1] * a * a + lambda[n - 2] * b * b);
      worst_eig = PetscMax(worst_eig, fabs(eig.loss[i * spec.points + j] - exact) / PetscMax(1.0, fabs(exact)));
      for (PetscInt k = 0; k < n; k++) x[k] = a * rnd.dirs[0][k] + b * rnd.dirs[1][k];
      PetscCall(HessaQuadraticApplyQ(model->obj, PETSC_TRUE, x, y));
      exact = 0;
      for (PetscInt k = 0; k < n; k++) exact += 0.5 * lambda[k] * y[k] * y[k];
      worst_rnd = PetscMax(worst_rnd, fabs(rnd.loss[i * spec.points + j] - exact) / PetscMax(1.0, fabs(exact)));
    }
  if (verbose) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "quadratic: eigenvector plane %.3e (eigenvalues %.15g %.15g), random plane %.3e, |d| %.15g %.15g\n", worst_eig, eig.eigenvalues[0], eig.eigenvalues[1], worst_rnd, rnd.norms[0], rnd.norms[1]));
  PetscCheck(worst_eig <= 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "quadratic: eigenvector plane off the closed form by %.3e", worst_eig);
  PetscCheck(worst_rnd <= 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "quadratic: random plane off the closed form by %.3e", worst_rnd);
  PetscCheck(fabs(rnd.norms[0] - 1) <= 1e-12 && fabs(rnd.norms[1] - 1) <= 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "quadratic at theta = 0: random directions should have unit norm, found %.17g, %.17g", rnd.norms[0], rnd.norms[1]);
  PetscCall(PetscFree2(x, y));
  PetscCall(HessaScanDestroy(&eig));
  PetscCall(HessaScanDestroy(&rnd));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBegin;
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-verbose", &verbose, NULL));
  PetscCall(Checkpoints());
  PetscCall(Quadratic());
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
