/* hessa check: exact derivatives against finite differences, on any objective. */
#include "cli.h"
#include <hessa/operator.h>

/* Collective. Options: -hessa_check_trials, -hessa_check_step, -hessa_check_seed,
 * -hessa_check_tol_fd, -hessa_check_tol_symmetry. Returns an error (non-zero exit)
 * when a check fails. */
PetscErrorCode HessaCliCheck(void)
{
  HessaData        data;
  HessaModel       model;
  HessaOperator    op;
  HessaCheckResult res;
  PetscInt         trials = 3, seed = 7;
  PetscReal        step = 1e-3, tol_fd = 1e-6, tol_sym = 1e-12;
  PetscBool        ok_grad, ok_hv, ok_sym, help;

  PetscFunctionBegin;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "hessa check options", NULL);
  PetscCall(PetscOptionsInt("-hessa_check_trials", "random directions per check", "HessaOperatorCheck", trials, &trials, NULL));
  PetscCall(PetscOptionsReal("-hessa_check_step", "finite-difference step (4-point central stencil)", "HessaOperatorCheck", step, &step, NULL));
  PetscCall(PetscOptionsInt("-hessa_check_seed", "seed of the random directions", "HessaOperatorCheck", seed, &seed, NULL));
  PetscCall(PetscOptionsReal("-hessa_check_tol_fd", "pass if the relative error against finite differences is at most this", "HessaOperatorCheck", tol_fd, &tol_fd, NULL));
  PetscCall(PetscOptionsReal("-hessa_check_tol_symmetry", "pass if |u'Hv - v'Hu| / (|u||Hv| + |v||Hu|) is at most this", "HessaOperatorCheck", tol_sym, &tol_sym, NULL));
  PetscOptionsEnd();
  PetscCall(HessaCliHelpRequested(&help));
  if (help) PetscCall(HessaCliSetUpOptionsHelp());
  if (help) PetscFunctionReturn(0);
  PetscCall(HessaSetUpFromOptions(PETSC_COMM_WORLD, &data, &model, &op));
  PetscCall(HessaTimerStart("check"));
  PetscCall(HessaOperatorCheck(op, trials, step, (uint64_t)seed, &res));
  PetscCall(HessaTimerStop("check"));
  ok_grad = res.grad_fd_rel <= tol_fd ? PETSC_TRUE : PETSC_FALSE;
  ok_hv   = res.hv_fd_rel <= tol_fd ? PETSC_TRUE : PETSC_FALSE;
  ok_sym  = res.symmetry_rel <= tol_sym ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "check %s\n  operator: %s on %" PetscInt_FMT " of %" PetscInt_FMT " parameters; %" PetscInt_FMT " samples; %" PetscInt_FMT " random directions; 4-point differences with step %g\n", model->obj->description,
                        op->curvature == HESSA_CURVATURE_GGN ? "Gauss-Newton" : "Hessian", op->n_op, op->n, model->obj->n_samples, trials, (double)step));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  gradient vs finite differences of the loss      rel %.3e  tol %.1e  %s\n", res.grad_fd_rel, tol_fd, ok_grad ? "pass" : "FAIL"));
  if (res.hv_fd_rel >= 0)
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  Hv vs finite differences of the gradient        rel %.3e  tol %.1e  %s\n", res.hv_fd_rel, tol_fd, ok_hv ? "pass" : "FAIL"));
  else {
    ok_hv = PETSC_TRUE;
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  Gv (Gauss-Newton): no finite-difference check (G is not the derivative of the gradient)\n"));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  symmetry |u'Hv - v'Hu| / (|u||Hv| + |v||Hu|)    rel %.3e  tol %.1e  %s\n", res.symmetry_rel, tol_sym, ok_sym ? "pass" : "FAIL"));
  PetscCall(HessaOperatorDestroy(&op));
  PetscCall(HessaModelDestroy(&model));
  PetscCall(HessaDataDestroy(&data));
  PetscCheck(ok_grad && ok_hv && ok_sym, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED, "derivative check failed (see the table above)");
  PetscFunctionReturn(0);
}
