/* Progress lines and small statistics shared by the spectrum phases. */
#include "spectrum_impl.h"
#include <math.h>

/* HessaProgressStart - not collective: remember the start time and product count. */
void HessaProgressStart(HessaProgress *p, const char phase[], HessaOperator op)
{
  p->phase      = phase;
  p->t0         = MPI_Wtime();
  p->last       = p->t0;
  p->every      = 5.0;
  p->t_first    = p->t0;
  p->done_first = 0;
  p->have_first = PETSC_FALSE;
  p->products0  = op->n_products;
}

/* HessaProgressPercent - not collective; see spectrum.h. */
int HessaProgressPercent(double done)
{
  if (!(done > 0)) return 0; /* NaN too */
  if (done >= 1) return 100;
  /* rounded down: a phase at 99.7% is not done */
  return PetscMin(99, (int)floor(100 * done));
}

/* HessaProgressETA - not collective; see spectrum.h. */
double HessaProgressETA(double t_first, double done_first, double now, double done)
{
  double rate;
  if (done >= 1) return 0;
  if (!(done > done_first) || !(now > t_first)) return -1;
  rate = (done - done_first) / (now - t_first); /* fraction per second, set-up excluded */
  return (1 - done) / rate;
}

/* HessaProgressUpdate - collective on op->comm: a progress line when `every` seconds have
 * passed. The time test uses the maximum over ranks so every rank takes the same branch
 * (HessaLog is collective). The first call only records where the measured rate starts. */
PetscErrorCode HessaProgressUpdate(HessaProgress *p, HessaOperator op, double done, const char what[])
{
  double now = MPI_Wtime(), since = now - p->last, since_max;

  PetscFunctionBegin;
  if (!p->have_first) {
    p->t_first    = now;
    p->done_first = done;
    p->have_first = PETSC_TRUE;
  }
  if (HessaIsQuiet()) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Allreduce(&since, &since_max, 1, MPI_DOUBLE, MPI_MAX, op->comm));
  if (since_max < p->every) PetscFunctionReturn(0);
  p->last = now;
  {
    double elapsed = now - p->t0, eta = HessaProgressETA(p->t_first, p->done_first, now, done);
    char   eta_text[32];
    if (eta >= 0)
      PetscCall(PetscSNPrintf(eta_text, sizeof eta_text, "ETA %.0f s", eta));
    else
      PetscCall(PetscSNPrintf(eta_text, sizeof eta_text, "ETA unknown"));
    PetscCall(HessaLog(op->comm, "%s: %d%% done, %" PetscInt64_FMT " products, %s, %.1f s elapsed, %s", p->phase, HessaProgressPercent(done), op->n_products - p->products0, what ? what : "", elapsed, eta_text));
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
