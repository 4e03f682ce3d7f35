/* hessa landscape: the loss along a line or over a plane through parameter space
 * (docs/landscape.md). The scan is HessaScanRun (analysis layer), its files (line.csv /
 * plane.csv, landscape.json, the directions as NPY files and the plots) HessaReportLandscape
 * (report layer); this file reads the options, calls them and prints.
 */
#include "cli.h"
#include <hessa/analysis.h>
#include <hessa/report.h>
#include <string.h>

typedef struct {
  HessaScanSpec spec;
  char          output[PETSC_MAX_PATH_LEN];
  PetscBool     distance;
  PetscBool     resume; /* continue the stopped scan whose state is in output */
} LandscapeOptions;

static PetscErrorCode ReadOptions(LandscapeOptions *o)
{
  const char *directions[] = {"random", "eigenvector"}, *ends[] = {"largest", "smallest"};
  PetscInt    direction = 0, end = 0, seed = 1, n_range = 2;
  PetscReal   range[2];
  PetscBool   from_set, to_set, range_set, points_set, weights;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  PetscCall(PetscStrncpy(o->output, "hessa-landscape", sizeof o->output));
  o->spec.eps_tol = 1e-10;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "hessa landscape options", NULL);
  PetscCall(PetscOptionsString("-hessa_landscape_output", "folder for line.csv or plane.csv, landscape.json, directions and plots", "HessaScanRun", o->output, o->output, sizeof o->output, NULL));
  PetscCall(PetscOptionsString("-hessa_landscape_from", "weight folder A: scan theta(alpha) = (1 - alpha) A + alpha B", "HessaScanRun", o->spec.from, o->spec.from, sizeof o->spec.from, &from_set));
  PetscCall(PetscOptionsString("-hessa_landscape_to", "weight folder B (same architecture as A)", "HessaScanRun", o->spec.to, o->spec.to, sizeof o->spec.to, &to_set));
  PetscCall(PetscOptionsEList("-hessa_landscape_direction", "direction(s) at the model's point: filter-normalised random, or Hessian eigenvector(s)", "HessaScanRun", directions, 2, directions[0], &direction, NULL));
  PetscCall(PetscOptionsEList("-hessa_landscape_which", "eigenvector directions: which end of the spectrum", "HessaSpectrumExtremes", ends, 2, ends[0], &end, NULL));
  PetscCall(PetscOptionsInt("-hessa_landscape_index", "eigenvector line: 0-based index from that end (a plane uses 0 and 1)", "HessaScanRun", o->spec.index, &o->spec.index, NULL));
  PetscCall(PetscOptionsReal("-hessa_landscape_eps_tol", "eigenvector directions: relative tolerance of the eigenpairs", "HessaSpectrumExtremes", o->spec.eps_tol, &o->spec.eps_tol, NULL));
  PetscCall(PetscOptionsInt("-hessa_landscape_seed", "random directions: seed (direction k uses stream HESSA_STREAM_LANDSCAPE + k)", "HessaScanRun", seed, &seed, NULL));
  PetscCall(PetscOptionsBool("-hessa_landscape_plane", "scan a plane theta + alpha d1 + beta d2 instead of a line", "HessaScanRun", o->spec.plane, &o->spec.plane, NULL));
  PetscCall(PetscOptionsRealArray("-hessa_landscape_range", "lo,hi: range of alpha (and beta); default -0.5,1.5 between checkpoints, -1,1 otherwise", "HessaScanRun", range, &n_range, &range_set));
  PetscCall(PetscOptionsInt("-hessa_landscape_points", "grid points per axis (default 41 on a line, 21 on a plane)", "HessaScanRun", o->spec.points, &o->spec.points, &points_set));
  PetscCall(PetscOptionsInt("-hessa_landscape_group_size", "ranks per group that evaluates a share of the grid (0: the whole world for an MLP or ONNX model, 1 for analytic objectives)", "HessaScanRun", o->spec.group_size, &o->spec.group_size, NULL));
  PetscCall(PetscOptionsBool("-resume", "continue the stopped scan whose state is in the -hessa_landscape_output folder (same options)", "HessaScanStateRead", o->resume, &o->resume, NULL));
  PetscCall(PetscOptionsBool("-hessa_landscape_distance", "plot the axes as distances alpha |d| in parameter space instead of coefficients", "HessaScanRun", o->distance, &o->distance, NULL));
  PetscOptionsEnd();

  PetscCheck(from_set == to_set, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_from and -hessa_landscape_to go together: a line between two checkpoints needs both");
  o->spec.direction = from_set ? HESSA_SCAN_CHECKPOINTS : direction ? HESSA_SCAN_EIGENVECTOR : HESSA_SCAN_RANDOM;
  o->spec.which     = end ? HESSA_WHICH_SMALLEST : HESSA_WHICH_LARGEST;
  o->spec.seed      = (uint64_t)seed;
  PetscCheck(!(from_set && o->spec.plane), PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP, "conflicting options: -hessa_landscape_from/-hessa_landscape_to scan a line, -hessa_landscape_plane a plane at the model's point");
  PetscCall(PetscOptionsHasName(NULL, NULL, "-hessa_model_weights", &weights));
  PetscCheck(!(from_set && weights), PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP, "conflicting options: -hessa_landscape_from gives the starting weights, so -hessa_model_weights cannot be given too");
  PetscCheck(!range_set || n_range == 2, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_range: expected two numbers lo,hi, found %" PetscInt_FMT, n_range);
  o->spec.lo = range_set ? range[0] : from_set ? -0.5 : -1.0;
  o->spec.hi = range_set ? range[1] : from_set ? 1.5 : 1.0;
  PetscCheck(o->spec.lo < o->spec.hi, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_range: expected lo < hi, found %g,%g", o->spec.lo, o->spec.hi);
  if (!points_set) o->spec.points = o->spec.plane ? 21 : 41;
  PetscCheck(o->spec.points >= 2, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_points: expected at least 2 grid points per axis, found %" PetscInt_FMT, o->spec.points);
  PetscCheck(o->spec.index >= 0, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_index: expected a non-negative index, found %" PetscInt_FMT, o->spec.index);
  PetscCheck(o->spec.group_size >= 0, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_group_size: expected a positive number of ranks (or 0 for the default), found %" PetscInt_FMT, o->spec.group_size);
  PetscFunctionReturn(0);
}

/* Collective: with -resume, the finished points of the stopped scan into the spec. */
static PetscErrorCode ReadResumeState(LandscapeOptions *o, double **loss, PetscBool **done)
{
  int64_t  total64 = o->spec.plane ? (int64_t)o->spec.points * (int64_t)o->spec.points : (int64_t)o->spec.points;
  PetscInt total;

  PetscFunctionBegin;
  *loss = NULL, *done = NULL;
  if (!o->resume) PetscFunctionReturn(0);
  /* the scan checks the grid's size and memory; a state can only belong to a grid it ran */
  PetscCheck(total64 <= PETSC_MAX_INT, PETSC_COMM_WORLD, HESSA_ERR_ARG, "-hessa_landscape_points %" PetscInt_FMT ": a plane of %" PetscInt_FMT " x %" PetscInt_FMT " grid points is more than %d points", o->spec.points, o->spec.points, o->spec.points,
             PETSC_MAX_INT);
  total = (PetscInt)total64;
  PetscCall(PetscMalloc2(total, loss, total, done));
  PetscCall(HessaScanStateRead(PETSC_COMM_WORLD, o->output, &o->spec, total, *loss, *done));
  o->spec.resume_loss = *loss;
  o->spec.resume_done = *done;
  PetscFunctionReturn(0);
}

/* HessaCliLandscape - hessa landscape. Collective on PETSC_COMM_WORLD. Options: the
 * -hessa_landscape_* options, -resume, and everything HessaSetUpFromOptions reads. A stop
 * signal ends the scan before the next round of grid points with landscape.state and a
 * partial landscape.json in the output folder and exit status 75; -resume continues it
 * (docs/jobs.md). */
PetscErrorCode HessaCliLandscape(void)
{
  LandscapeOptions o;
  HessaScan        scan;
  double          *resume_loss;
  PetscBool       *resume_done;
  PetscInt         total;
  PetscBool        help;

  PetscFunctionBegin;
  PetscCall(ReadOptions(&o));
  PetscCall(HessaCliHelpRequested(&help));
  if (help) PetscCall(HessaCliSetUpOptionsHelp());
  if (help) PetscFunctionReturn(0);
  PetscCall(HessaReportCheckFolder(PETSC_COMM_WORLD, o.output));
  PetscCall(ReadResumeState(&o, &resume_loss, &resume_done));
  o.spec.stoppable = PETSC_TRUE;
  PetscCall(HessaScanRun(PETSC_COMM_WORLD, &o.spec, &scan));
  PetscCall(PetscFree2(resume_loss, resume_done));
  PetscCall(HessaReportLandscape(PETSC_COMM_WORLD, o.output, &o.spec, o.distance, &scan));
  total = scan.n_dirs == 2 ? scan.points * scan.points : scan.points;
  if (scan.stopped) {
    PetscCall(HessaScanStateWrite(PETSC_COMM_WORLD, o.output, &o.spec, &scan));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "stopped on request (signal %d): %" PetscInt_FMT " of %" PetscInt_FMT " grid points finished; state in %s/%s, partial %s/landscape.json; rerun with -resume to continue\n", HessaStopSignal(), scan.n_done,
                          total, o.output, HESSA_SCAN_STATE_FILE, o.output));
    HessaStopMarkStopped();
    PetscCall(HessaScanDestroy(&scan));
    PetscFunctionReturn(0);
  }
  PetscCall(HessaScanStateRemove(PETSC_COMM_WORLD, o.output));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "landscape: %s of %" PetscInt_FMT " points (%s), loss at the start %.17g; %" PetscInt_FMT " group%s of %" PetscInt_FMT " rank%s\n", scan.n_dirs == 1 ? "line" : "plane", total,
                        HessaScanDirectionNames[o.spec.direction], scan.loss_at_theta, scan.n_groups, scan.n_groups > 1 ? "s" : "", scan.group_size, scan.group_size > 1 ? "s" : ""));
  if (scan.target) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "landscape: loss at the end %.17g\n", scan.loss_at_target));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "landscape: %s/%s, landscape.json, direction NPY files and plots\n", o.output, scan.n_dirs == 1 ? "line.csv" : "plane.csv"));
  PetscCall(HessaScanDestroy(&scan));
  PetscFunctionReturn(0);
}
