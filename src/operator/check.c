/* Derivative checks: the exact gradient and curvature products against finite
 * differences, and the symmetry of the curvature.
 *
 * The checks run on full-length replicas reduced with MPI_Allreduce, a communication
 * path independent of the operator's scatters, so a fault in the sharding shows up as
 * a failed check. Differences use the 4-point central stencil
 *     f'(0) ~ (f(-2h) - 8 f(-h) + 8 f(h) - f(2h)) / (12 h),
 * whose error is O(h^4): with h = 1e-3 the truncation error is far below the 1e-6
 * tolerance while round-off stays near eps / h.
 */
#include <hessa/operator.h>
#include <math.h>

/* Full-length mean gradient (+ L2) at a full-length theta, on every rank. */
static PetscErrorCode FullGradient(HessaOperator op, const double *theta, double *grad)
{
  double loss;

  PetscFunctionBegin;
  PetscCall(HessaObjectiveGradient(op->obj, theta, &loss, grad));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, grad, (PetscMPIInt)op->n, MPI_DOUBLE, MPI_SUM, op->comm));
  for (PetscInt i = 0; i < op->n; i++) grad[i] = grad[i] / (double)op->obj->n_samples + op->obj->weight_decay * theta[i];
  PetscFunctionReturn(0);
}

/* HessaOperatorCheck - collective. See operator.h. The operator's point must be set.
 * For the Gauss-Newton operator the finite-difference check of products is skipped
 * (G is not the derivative of the gradient) and hv_fd_rel is returned as -1. */
PetscErrorCode HessaOperatorCheck(HessaOperator op, PetscInt trials, double step, uint64_t seed, HessaCheckResult *res)
{
  const PetscInt n    = op->n;
  const double   w[4] = {1.0 / 12, -8.0 / 12, 8.0 / 12, -1.0 / 12}, s[4] = {-2, -1, 1, 2};
  double        *theta = op->theta_all, *g0, *u, *hv, *pert, *gp, *fd, loss0;
  Vec            x, y, hx, hy;

  PetscFunctionBegin;
  PetscCheck(trials > 0, op->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_check_trials must be positive, found %" PetscInt_FMT, trials);
  PetscCheck(step > 0, op->comm, PETSC_ERR_ARG_OUTOFRANGE, "-hessa_check_step must be positive, found %g", step);
  res->trials       = trials;
  res->grad_fd_rel  = 0;
  res->hv_fd_rel    = op->curvature == HESSA_CURVATURE_HESSIAN ? 0 : -1;
  res->symmetry_rel = 0;
  PetscCall(PetscMalloc6(n, &g0, n, &u, n, &hv, n, &pert, n, &gp, n, &fd));
  PetscCall(HessaOperatorLossAt(op, theta, &loss0));
  PetscCall(FullGradient(op, theta, g0));
  PetscCall(HessaOperatorCreateVec(op, &x));
  PetscCall(VecDuplicate(x, &y));
  PetscCall(VecDuplicate(x, &hx));
  PetscCall(VecDuplicate(x, &hy));
  for (PetscInt t = 0; t < trials; t++) {
    double gnorm = 0, gu = 0, dfd = 0, unorm = 0, err = 0, hnorm = 0, xhy, yhx, xn, yn, hxn, hyn;

    /* gradient: directional derivative along a random unit u over all parameters */
    HessaRandomFill(HESSA_RANDOM_NORMAL, seed, HESSA_STREAM_CHECK + (uint64_t)t, 0, n, u);
    for (PetscInt i = 0; i < n; i++) unorm += u[i] * u[i];
    unorm = sqrt(unorm);
    for (PetscInt i = 0; i < n; i++) {
      u[i] /= unorm;
      gu += g0[i] * u[i];
      gnorm += g0[i] * g0[i];
    }
    gnorm = sqrt(gnorm);
    for (int k = 0; k < 4; k++) {
      double l;
      for (PetscInt i = 0; i < n; i++) pert[i] = theta[i] + s[k] * step * u[i];
      PetscCall(HessaOperatorLossAt(op, pert, &l));
      dfd += w[k] * l / step;
    }
    /* relative to |g| (the largest directional derivative), floored at 1e6 eps |L| / h:
       below that, differences of the loss (round-off ~eps |L| / h) cannot resolve the
       gradient to 1e-6, e.g. at an exact critical point where g = 0 */
    res->grad_fd_rel = PetscMax(res->grad_fd_rel, fabs(gu - dfd) / PetscMax(gnorm, 1e6 * PETSC_MACHINE_EPSILON * PetscMax(1.0, fabs(loss0)) / step));

    /* products: C x, C y for random x, y in operator space */
    PetscCall(HessaVecSetRandom(x, HESSA_RANDOM_NORMAL, seed, 2000 + (uint64_t)t));
    PetscCall(HessaVecSetRandom(y, HESSA_RANDOM_NORMAL, seed, 3000 + (uint64_t)t));
    PetscCall(VecNormalize(x, NULL));
    PetscCall(VecNormalize(y, NULL));
    PetscCall(HessaOperatorApply(op, x, hx));
    PetscCall(HessaOperatorApply(op, y, hy));
    PetscCall(VecDot(x, hy, &xhy));
    PetscCall(VecDot(y, hx, &yhx));
    PetscCall(VecNorm(x, NORM_2, &xn));
    PetscCall(VecNorm(y, NORM_2, &yn));
    PetscCall(VecNorm(hx, NORM_2, &hxn));
    PetscCall(VecNorm(hy, NORM_2, &hyn));
    res->symmetry_rel = PetscMax(res->symmetry_rel, fabs(xhy - yhx) / PetscMax(xn * hyn + yn * hxn, 1e-300));
    if (op->curvature != HESSA_CURVATURE_HESSIAN) continue;

    /* Hessian products: H x against differences of the gradient along the embedded x */
    PetscCall(HessaOperatorEmbed(op, x, u));
    PetscCall(HessaOperatorEmbed(op, hx, hv));
    PetscCall(PetscArrayzero(fd, n));
    for (int k = 0; k < 4; k++) {
      for (PetscInt i = 0; i < n; i++) pert[i] = theta[i] + s[k] * step * u[i];
      PetscCall(FullGradient(op, pert, gp));
      for (PetscInt i = 0; i < n; i++) fd[i] += w[k] * gp[i] / step;
    }
    /* compare on the operator's parameters only (hv is zero elsewhere) */
    for (PetscInt i = 0; i < op->n_op; i++) {
      PetscInt j = op->subset ? op->subset[i] : i;
      err += (hv[j] - fd[j]) * (hv[j] - fd[j]);
      hnorm += hv[j] * hv[j];
    }
    res->hv_fd_rel = PetscMax(res->hv_fd_rel, sqrt(err) / PetscMax(sqrt(hnorm), 1e-10));
  }
  /* all ranks report rank 0's figures, so pass/fail is decided once */
  PetscCallMPI(MPI_Bcast(res, sizeof *res, MPI_BYTE, 0, op->comm));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&hx));
  PetscCall(VecDestroy(&hy));
  PetscCall(PetscFree6(g0, u, hv, pert, gp, fd));
  PetscFunctionReturn(0);
}
