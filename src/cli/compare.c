/* hessa compare: join several studies of the same checkpoints (the whole Hessian and
 * blocks of it, or other options) into one table, compare.md and plots; more losses per
 * checkpoint (a held-out set) come from hessa info's info.json (docs/study.md). */
#include "cli.h"
#include <hessa/study.h>

PetscErrorCode HessaCliCompare(void)
{
  HessaCompareOptions o;
  PetscBool           help;

  PetscFunctionBegin;
  PetscCall(HessaCompareOptionsSetFromOptions(PETSC_COMM_WORLD, &o));
  PetscCall(HessaCliHelpRequested(&help));
  if (help) PetscFunctionReturn(0);
  PetscCall(HessaCompareRun(PETSC_COMM_WORLD, &o));
  PetscFunctionReturn(0);
}
