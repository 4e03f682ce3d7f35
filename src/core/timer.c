/* Wall-clock seconds per named phase, for reports and benchmarks. A small table:
 * phases are few (load, train, check, extremes, density, ...). */
#include <hessa/core.h>
#include <string.h>

#define HESSA_MAX_PHASES 64

typedef struct {
  char   name[64];
  double seconds, started;
  int    running;
} HessaPhase;

static HessaPhase hessa_phases[HESSA_MAX_PHASES];
static PetscInt   hessa_n_phases = 0;

static PetscErrorCode FindPhase(const char phase[], PetscBool create, HessaPhase **p)
{
  PetscFunctionBegin;
  *p = NULL;
  for (PetscInt i = 0; i < hessa_n_phases; i++)
    if (!strcmp(hessa_phases[i].name, phase)) {
      *p = &hessa_phases[i];
      PetscFunctionReturn(0);
    }
  if (!create) PetscFunctionReturn(0);
  PetscCheck(hessa_n_phases < HESSA_MAX_PHASES, PETSC_COMM_SELF, PETSC_ERR_MEM, "too many timer phases (at most %d)", HESSA_MAX_PHASES);
  *p = &hessa_phases[hessa_n_phases++];
  memset(*p, 0, sizeof **p);
  PetscCall(PetscStrncpy((*p)->name, phase, sizeof((*p)->name)));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaTimerStart(const char phase[])
{
  HessaPhase *p;
  PetscFunctionBegin;
  PetscCall(FindPhase(phase, PETSC_TRUE, &p));
  p->started = MPI_Wtime();
  p->running = 1;
  PetscFunctionReturn(0);
}

PetscErrorCode HessaTimerStop(const char phase[])
{
  HessaPhase *p;
  PetscFunctionBegin;
  PetscCall(FindPhase(phase, PETSC_FALSE, &p));
  PetscCheck(p && p->running, PETSC_COMM_SELF, PETSC_ERR_ORDER, "timer phase '%s' was not started", phase);
  p->seconds += MPI_Wtime() - p->started;
  p->running = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode HessaTimerGet(const char phase[], double *seconds)
{
  HessaPhase *p;
  PetscFunctionBegin;
  PetscCall(FindPhase(phase, PETSC_FALSE, &p));
  *seconds = p ? p->seconds + (p->running ? MPI_Wtime() - p->started : 0.0) : 0.0;
  PetscFunctionReturn(0);
}

PetscInt HessaTimerCount(void)
{
  return hessa_n_phases;
}

void HessaTimerReset(void)
{
  hessa_n_phases = 0;
}

PetscErrorCode HessaTimerEntry(PetscInt i, const char **name, double *seconds)
{
  PetscFunctionBegin;
  PetscCheck(i >= 0 && i < hessa_n_phases, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "timer entry %" PetscInt_FMT " out of range", i);
  *name = hessa_phases[i].name;
  PetscCall(HessaTimerGet(hessa_phases[i].name, seconds));
  PetscFunctionReturn(0);
}

/* Collective: the phases are the same on every rank (they follow the same code path). */
PetscErrorCode HessaTimerLogAll(MPI_Comm comm)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < hessa_n_phases; i++) {
    double s, smax;
    PetscCall(HessaTimerGet(hessa_phases[i].name, &s));
    PetscCallMPI(MPI_Allreduce(&s, &smax, 1, MPI_DOUBLE, MPI_MAX, comm));
    PetscCall(HessaLog(comm, "time %-16s %9.3f s", hessa_phases[i].name, smax));
  }
  PetscFunctionReturn(0);
}
