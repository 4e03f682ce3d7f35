/* The resumable state and the files of `hessa spectrum -hessa_spectrum_output FOLDER`
 * (docs/jobs.md). Private to the command line. */
#ifndef HESSA_CLI_SPECTRUM_STATE_H
#define HESSA_CLI_SPECTRUM_STATE_H
#include <hessa/spectrum.h>

#define HESSA_SPECTRUM_STATE_FILE "spectrum.state"

/* What a resumed run must share with the stopped one. */
typedef struct {
  char      model[512];
  PetscInt  n_op;
  PetscBool density, trace;
  PetscInt  probes, steps, group, seed; /* SLQ (group: probes per block product group) */
  PetscInt  trace_method;               /* 0 hutchinson, 1 hutchpp, 2 both */
  PetscInt  trace_samples, trace_seed;
} HessaSpectrumKey;

/* Collective: rank 0 writes folder/spectrum.state (atomically) with the finished probes'
 * tridiagonals and the finished trace samples; t[0] is Hutchinson, t[1] Hutch++. */
PetscErrorCode HessaSpectrumStateWrite(MPI_Comm comm, const char folder[], const HessaSpectrumKey *key, const HessaDensity *d, const HessaTrace t[2]);
/* Collective: rank 0 reads folder/spectrum.state and checks it against key; on any
 * mismatch, a missing or a corrupt file every rank raises one error naming the file,
 * what was expected and what was found. Fills the finished parts of d and t on every rank
 * (d and t allocated for the key's sizes). */
PetscErrorCode HessaSpectrumStateRead(MPI_Comm comm, const char folder[], const HessaSpectrumKey *key, HessaDensity *d, HessaTrace t[2]);
/* Collective: rank 0 removes folder/spectrum.state (the run is complete). */
PetscErrorCode HessaSpectrumStateRemove(MPI_Comm comm, const char folder[]);
/* Collective: rank 0 writes folder/report.json (with "partial" and what is missing),
 * and, when complete, density.csv, slq_nodes.csv and trace.csv with every digit (%.17g). */
PetscErrorCode HessaSpectrumWriteOutput(MPI_Comm comm, const char folder[], const HessaSpectrumKey *key, const HessaDensity *d, const HessaTrace t[2], PetscBool partial, PetscInt64 products);

/* Extremes of a stopped run: rank 0 writes folder/extremes.state (values, residuals and
 * flags of both ends; done[e]: that end finished) and, for an end stopped mid-solve, its
 * converged eigenvectors as folder/extremes_<end>.npy. Collective. */
PetscErrorCode HessaSpectrumExtremesStateWrite(MPI_Comm comm, const char folder[], PetscInt k, double tol, PetscInt n_op, const HessaExtremes ex[2], const PetscBool done[2]);
/* Collective: *found tells whether folder/extremes.state exists; when it does, it is checked
 * against k, tol and the operator's size (one clear error otherwise) and read into ex (with
 * the vectors of a stopped end) and done. */
PetscErrorCode HessaSpectrumExtremesStateRead(MPI_Comm comm, const char folder[], PetscInt k, double tol, HessaOperator op, HessaExtremes ex[2], PetscBool done[2], PetscBool *found);
PetscErrorCode HessaSpectrumExtremesStateRemove(MPI_Comm comm, const char folder[]);

#endif
