/* Graceful stop: Slurm (scancel --signal, #SBATCH --signal, the time limit) and
 * people send SIGTERM, SIGUSR1 or SIGINT to ask a run to end. The handler only sets
 * a flag; long loops ask HessaStopAgree at safe points (between products, between
 * points of a study), so every rank of a communicator stops at the same place,
 * writes its resumable state and a partial report, and the run exits with
 * HESSA_EXIT_STOPPED. A second signal of the same kind is not special: the handler
 * is idempotent (under Slurm ranks can get a signal twice, directly and via mpirun). */
#include <hessa/core.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t hessa_stop_signal = 0;
static PetscBool             hessa_stopped     = PETSC_FALSE;

static void StopHandler(int sig)
{
  if (!hessa_stop_signal) hessa_stop_signal = sig;
}

PetscErrorCode HessaStopInstall(void)
{
  struct sigaction sa;
  const int        sigs[] = {SIGTERM, SIGUSR1, SIGINT};

  PetscFunctionBegin;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = StopHandler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) PetscCheck(sigaction(sigs[i], &sa, NULL) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "cannot install the handler of signal %d", sigs[i]);
  PetscFunctionReturn(0);
}

int HessaStopSignal(void) { return (int)hessa_stop_signal; }

void HessaStopRequest(void)
{
  if (!hessa_stop_signal) hessa_stop_signal = SIGUSR1;
}

PetscErrorCode HessaStopAgree(MPI_Comm comm, PetscBool *stop)
{
  int mine = hessa_stop_signal ? 1 : 0, any = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm));
  *stop = any ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

void      HessaStopMarkStopped(void) { hessa_stopped = PETSC_TRUE; }
PetscBool HessaStopWasStopped(void) { return hessa_stopped; }
