/* hessa command line: a thin layer over libhessa. The first argument names the
 * subcommand; everything else goes to the PETSc options database (-help lists
 * every option of the subcommand with its default). */
#include "cli.h"
#include <stdlib.h>
#include <string.h>

static const char usage[] = "hessa: an MPI-distributed Hessian spectrum analyzer.\n"
                            "usage: hessa <command> [options]\n"
                            "commands:\n"
                            "  info      load the data and model, report what was loaded and how it is sharded\n"
                            "  check     check gradient and Hessian-vector products against finite differences\n"
                            "  spectrum  extreme eigenpairs, full spectrum (small n), SLQ density and trace of the Hessian\n"
                            "  analyze   (default) classify the point, its spectrum and the geometry around it; write a report\n"
                            "  hvp       loss, gradient, H v and Gauss-Newton G v at the point for one direction, as NPY files\n"
                            "  train     train the model (GD, SGD, Adam, Newton-MINRES, Levenberg-Marquardt), writing checkpoints\n"
                            "  landscape the loss along a line or over a plane through parameter space\n"
                            "  study     analyze many checkpoints at once (a manifest) over groups of ranks\n"
                            "  compare   join studies of the same checkpoints (whole Hessian, blocks) into one table and plots\n"
                            "Models: -hessa_model mlp (default), onnx (-hessa_model_file NET.onnx, docs/onnx.md), or an analytic test function.\n"
                            "With no arguments, hessa analyzes its embedded default: a 784-16-10 tanh MLP trained\n"
                            "to a small gradient norm on 1000 Fashion-MNIST samples.\n"
                            "Options files: -options_file FILE, -options_file_yaml FILE.yaml. -quiet: no progress lines.\n"
                            "hessa COMMAND -help lists the options of one command with their defaults.\n\n";

int main(int argc, char **argv)
{
  const char    *command = "analyze";
  PetscBool      named = PETSC_FALSE, help = PETSC_FALSE;
  PetscErrorCode ierr;

  /* take the subcommand out of argv before PETSc sees it */
  if (argc > 1 && argv[1][0] != '-') {
    command = argv[1];
    for (int i = 1; i < argc - 1; i++) argv[i] = argv[i + 1];
    argc--;
    named = PETSC_TRUE;
  }
  /* started without mpirun (hessa -help, a one-rank run): Open MPI's singleton would
   * start a helper daemon (about 1 s on a loaded machine) that only MPI_Comm_spawn needs,
   * which hessa never calls; the environment can still override this */
  if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK")) setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
  ierr = HessaInitialize(&argc, &argv, usage);
  if (!ierr) ierr = HessaCliHelpRequested(&help);
  /* hessa -help: the usage above (PETSc printed it) is all; hessa COMMAND -help: its options */
  if (!ierr && !(help && !named)) ierr = HessaCliRun(command);
  return HessaFinalize(ierr);
}
