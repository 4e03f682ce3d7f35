/* Helpers shared by the spectrum tests: the quadratic with a prescribed spectrum as an
 * operator at a random point. Header-only, static functions. */
#ifndef HESSA_SPECTRUM_TEST_H
#define HESSA_SPECTRUM_TEST_H

#include <hessa/spectrum.h>

/* Collective on comm. The quadratic of HessaQuadraticCreate with eigenvalues lambda[0..n)
 * and eigenvectors from 4 Householder reflections of stream seed (rank 0 of comm owns the
 * objective's one sample, so it counts once), its operator on comm, set up at the point
 * theta ~ N(0, 1) of (point_seed, stream 1). Outputs: the objective and the operator. */
static inline PetscErrorCode TestQuadraticOperatorCreate(MPI_Comm comm, PetscInt n, const double *lambda, uint64_t seed, uint64_t point_seed, HessaObjective *obj, HessaOperator *op)
{
  PetscMPIInt rank;
  Vec         theta;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(HessaQuadraticCreate(n, lambda, 4, seed, rank == 0 ? PETSC_TRUE : PETSC_FALSE, obj));
  PetscCall(HessaOperatorCreate(comm, *obj, op));
  PetscCall(HessaOperatorSetUp(*op));
  PetscCall(HessaOperatorCreateParameterVec(*op, &theta));
  PetscCall(HessaVecSetRandom(theta, HESSA_RANDOM_NORMAL, point_seed, 1));
  PetscCall(HessaOperatorSetPoint(*op, theta));
  PetscCall(VecDestroy(&theta));
  PetscFunctionReturn(0);
}

#endif
