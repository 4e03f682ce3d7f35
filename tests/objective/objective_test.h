/* Helpers shared by the objective tests: hand-built data shards (the data layer's
 * constructors are not used here) and vector norms. Header-only, static functions. */
#ifndef HESSA_OBJECTIVE_TEST_H
#define HESSA_OBJECTIVE_TEST_H

#include <hessa/objective.h>
#include <math.h>

/* A shard of n samples from the random stream (seed): x ~ N(0,1) [n][features];
 * classification: labels uniform in [0, outputs); regression: y ~ N(0,1) [n][outputs]. */
static inline PetscErrorCode TestDataCreate(HessaTask task, PetscInt n, PetscInt features, PetscInt outputs, uint64_t seed, HessaData *data)
{
  HessaData d;

  PetscFunctionBegin;
  PetscCall(PetscNew(&d));
  d->comm       = PETSC_COMM_SELF;
  d->source     = HESSA_DATA_GAUSSIAN;
  d->task       = task;
  d->n_global   = n;
  d->n_local    = n;
  d->first      = 0;
  d->n_features = features;
  PetscCall(PetscMalloc1((size_t)n * features + 1, &d->x));
  HessaRandomFill(HESSA_RANDOM_NORMAL, seed, 1, 0, n * features, d->x);
  if (task == HESSA_TASK_CLASSIFICATION) {
    d->n_classes = outputs;
    PetscCall(PetscMalloc1(n + 1, &d->labels));
    for (PetscInt i = 0; i < n; i++) d->labels[i] = (int)(HessaRandomUniform(seed, 2, (uint64_t)i) * (double)outputs);
  } else {
    d->n_targets = outputs;
    PetscCall(PetscMalloc1((size_t)n * outputs + 1, &d->y));
    HessaRandomFill(HESSA_RANDOM_NORMAL, seed, 3, 0, n * outputs, d->y);
  }
  *data = d;
  PetscFunctionReturn(0);
}

static inline PetscErrorCode TestDataDestroy(HessaData *data)
{
  PetscFunctionBegin;
  if (!*data) PetscFunctionReturn(0);
  PetscCall(PetscFree((*data)->x));
  PetscCall(PetscFree((*data)->labels));
  PetscCall(PetscFree((*data)->y));
  PetscCall(PetscFree(*data));
  PetscFunctionReturn(0);
}

static inline double TestDot(PetscInt n, const double *a, const double *b)
{
  double s = 0;
  for (PetscInt i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static inline double TestNorm(PetscInt n, const double *a)
{
  return sqrt(TestDot(n, a, a));
}

/* ||a - b|| / ||b|| (absolute when ||b|| = 0) */
static inline double TestRelErr(PetscInt n, const double *a, const double *b)
{
  double d = 0, nb = TestNorm(n, b);
  for (PetscInt i = 0; i < n; i++) d += (a[i] - b[i]) * (a[i] - b[i]);
  return nb > 0 ? sqrt(d) / nb : sqrt(d);
}

/* max_i |a_i - b_i| */
static inline double TestMaxDiff(PetscInt n, const double *a, const double *b)
{
  double m = 0;
  for (PetscInt i = 0; i < n; i++) m = PetscMax(m, fabs(a[i] - b[i]));
  return m;
}

#endif
