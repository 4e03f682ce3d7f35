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
#include <unistd.h>

static volatile sig_atomic_t hessa_stop_signal = 0;
static PetscBool             hessa_stopped     = PETSC_FALSE;

static int hessa_stop_rank = -1; /* world rank, set at install: rank 0 says what it got */

/* One line on stderr from world rank 0 (write(2): async-signal-safe). A SIGTERM to mpirun
 * reaches the ranks as SIGTERM followed shortly by SIGKILL, so this line is all such a run
 * can leave: it says why it ended and how to stop gracefully instead. */
static void SayStopping(int sig)
{
  static const char usr1[] = "hessa: SIGUSR1 received: stopping at the next safe point (exit 75)\n";
  static const char intr[] = "hessa: SIGINT received: stopping at the next safe point (exit 75)\n";
  static const char term[] = "hessa: SIGTERM received: stopping at the next safe point (exit 75) unless mpirun ends the ranks first (a SIGTERM to mpirun does); send SIGUSR1 to mpirun for a graceful stop\n";
  const char       *msg    = sig == SIGUSR1 ? usr1 : sig == SIGINT ? intr : term;
  size_t            len    = sig == SIGUSR1 ? sizeof usr1 - 1 : sig == SIGINT ? sizeof intr - 1 : sizeof term - 1;
  ssize_t           ignored;

  if (hessa_stop_rank != 0) return;
  ignored = write(STDERR_FILENO, msg, len);
  (void)ignored;
}

static void StopHandler(int sig)
{
  if (hessa_stop_signal) return;
  hessa_stop_signal = sig;
  SayStopping(sig);
}

PetscErrorCode HessaStopInstall(void)
{
  struct sigaction sa;
  const int        sigs[] = {SIGTERM, SIGUSR1, SIGINT};

  PetscFunctionBegin;
  {
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    hessa_stop_rank = (int)rank;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = StopHandler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) PetscCheck(sigaction(sigs[i], &sa, NULL) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "cannot install the handler of signal %d", sigs[i]);
  PetscFunctionReturn(0);
}

int HessaStopSignal(void)
{
  return (int)hessa_stop_signal;
}

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

void HessaStopMarkStopped(void)
{
  hessa_stopped = PETSC_TRUE;
}
PetscBool HessaStopWasStopped(void)
{
  return hessa_stopped;
}
