/* Internal helpers of the spectrum layer (not installed). */
#ifndef HESSA_SPECTRUM_IMPL_H
#define HESSA_SPECTRUM_IMPL_H
#include <hessa/spectrum.h>

/* Mean and standard error (sample std / sqrt(count)) of x[0..count); se = NAN for count < 2. */
void HessaMeanSE(PetscInt count, const double *x, double *mean, double *se);

#endif
