/* Helpers shared by the benchmark programs. */
#ifndef HESSA_BENCH_COMMON_H
#define HESSA_BENCH_COMMON_H
#include <petscsys.h>
#include <stdlib.h>

static inline int BenchCompareDoubles(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of t[0..n) (sorts t): timings here vary by +-30 % between runs. */
static inline double BenchMedian(double *t, PetscInt n)
{
  qsort(t, (size_t)n, sizeof *t, BenchCompareDoubles);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* Smallest of t[0..n): the run least disturbed by other processes. */
static inline double BenchMin(const double *t, PetscInt n)
{
  double m = t[0];
  for (PetscInt i = 1; i < n; i++) m = t[i] < m ? t[i] : m;
  return m;
}
#endif
