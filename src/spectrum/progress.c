/* Progress lines and small statistics shared by the spectrum phases. */
#include "spectrum_impl.h"
#include <math.h>

/* HessaProgressStart - not collective: remember the start time and product count. */
void HessaProgressStart(HessaProgress *p, const char phase[], HessaOperator op)
{
  p->phase     = phase;
  p->t0        = MPI_Wtime();
  p->last      = p->t0;
  p->every     = 5.0;
  p->products0 = op->n_products;
}

/* HessaProgressUpdate - collective on op->comm: a progress line when `every` seconds have
 * passed. The time test uses the maximum over ranks so every rank takes the same branch
 * (HessaLog is collective). */
PetscErrorCode HessaProgressUpdate(HessaProgress *p, HessaOperator op, double done, const char what[])
{
  double now = MPI_Wtime(), since = now - p->last, since_max;

  PetscFunctionBegin;
  if (HessaIsQuiet()) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Allreduce(&since, &since_max, 1, MPI_DOUBLE, MPI_MAX, op->comm));
  if (since_max < p->every) PetscFunctionReturn(0);
  p->last = now;
  {
    double elapsed = now - p->t0, eta = done > 0 ? elapsed * (1 - done) / done : -1;
    PetscCall(HessaLog(op->comm, "%s: %.0f%% done, %" PetscInt64_FMT " products, %s, %.1f s elapsed, ETA %.0f s", p->phase, 100 * done, op->n_products - p->products0, what ? what : "", elapsed, eta));
  }
  PetscFunctionReturn(0);
}

/* HessaMeanSE - not collective. */
void HessaMeanSE(PetscInt count, const double *x, double *mean, double *se)
{
  double m = 0, v = 0;
  for (PetscInt i = 0; i < count; i++) m += x[i];
  m /= PetscMax(count, 1);
  for (PetscInt i = 0; i < count; i++) v += (x[i] - m) * (x[i] - m);
  *mean = m;
  *se   = count > 1 ? sqrt(v / (double)(count - 1) / (double)count) : NAN;
}
