/* hessa command line: a thin layer over libhessa. The first argument names the
 * subcommand; everything else goes to the PETSc options database (-help lists
 * every option of the subcommand with its default). */
#include "cli.h"
#include <string.h>

static const char help[] = "hessa: an MPI-distributed Hessian spectrum analyzer.\n"
                           "usage: hessa <command> [options]\n"
                           "commands:\n"
                           "  info      load the data and model, report what was loaded and how it is sharded\n"
                           "  check     check gradient and Hessian-vector products against finite differences\n"
                           "  spectrum  extreme eigenpairs, full spectrum (small n), SLQ density and trace of the Hessian\n"
                           "With no command, hessa runs its main job (today: info) on the embedded default:\n"
                           "an MLP 784-32-10 on Fashion-MNIST's 60,000 training samples.\n"
                           "Options files: -options_file FILE, -options_file_yaml FILE.yaml\n\n";

int main(int argc, char **argv)
{
  const char    *command = "info";
  PetscErrorCode ierr;

  /* take the subcommand out of argv before PETSc sees it */
  if (argc > 1 && argv[1][0] != '-') {
    command = argv[1];
    for (int i = 1; i < argc - 1; i++) argv[i] = argv[i + 1];
    argc--;
  }
  ierr = HessaInitialize(&argc, &argv, help);
  if (!ierr) ierr = HessaCliRun(command);
  return HessaFinalize(ierr);
}
