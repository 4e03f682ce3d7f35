#include "onnx_check.h"
int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  return HessaFinalize(ierr);
}
