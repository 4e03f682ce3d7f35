/* Internal helpers of the spectrum layer (not installed). */
#ifndef HESSA_SPECTRUM_IMPL_H
#define HESSA_SPECTRUM_IMPL_H
#include <hessa/spectrum.h>

/* Throttled progress lines on stderr (rank 0, silent with -quiet): at most one line every
 * `every` seconds, with the products spent and an ETA from the fraction done. */
typedef struct {
  const char *phase;
  double      t0, last, every;
  PetscInt64  products0;
} HessaProgress;

void HessaProgressStart(HessaProgress *p, const char phase[], HessaOperator op);
/* Collective (the decision to print is taken from rank 0's clock, broadcast-free: every rank
 * calls HessaLog, which prints on rank 0 only). done in [0,1]; what: a short estimate. */
PetscErrorCode HessaProgressUpdate(HessaProgress *p, HessaOperator op, double done, const char what[]);

/* Mean and standard error (sample std / sqrt(count)) of x[0..count); se = NAN for count < 2. */
void HessaMeanSE(PetscInt count, const double *x, double *mean, double *se);

#endif
