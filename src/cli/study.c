/* hessa study: analyse many points (a manifest, a folder of checkpoints, a training
 * folder) with one MPI job. Rank 0 collects; the other ranks form groups of
 * -hessa_study_group_size ranks, and each group runs `hessa analyze` on one point at a
 * time with the study's options plus the point's own (docs/study.md). */
#include "cli.h"
#include <hessa/report.h>
#include <hessa/study.h>

/* The study's worker: `hessa analyze` on the group, quietly (the collector reports). A
 * failing point frees everything it set up (HessaAnalyzePoint) and the study goes on. */
static PetscErrorCode AnalyzeWorker(MPI_Comm group, const HessaStudyPoint *point, const char folder[], void *ctx, cJSON **doc)
{
  HessaAnalyzeOptions o;
  HessaAnalysis       a;
  PetscErrorCode      ierr;

  PetscFunctionBegin;
  (void)point, (void)folder, (void)ctx;
  PetscCall(HessaAnalyzeOptionsSetFromOptions(group, &o));
  PetscCall(HessaReportCheckFolder(group, o.output));
  PetscCall(HessaAnalyzePoint(group, &o, &a));
  ierr = HessaReportAnalysis(group, &a, o.output, doc);
  PetscCall(HessaAnalysisDestroy(&a));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode HessaCliStudy(void)
{
  HessaStudy study;
  PetscInt   total, ok, failed, skipped;
  char       output[PETSC_MAX_PATH_LEN] = "hessa-study";
  PetscBool  help;

  PetscFunctionBegin;
  PetscCall(HessaStudyCreate(PETSC_COMM_WORLD, &study));
  PetscCall(HessaStudySetFromOptions(study));
  PetscCall(HessaCliHelpRequested(&help));
  if (help) {
    HessaAnalyzeOptions o;
    PetscCall(HessaStudyDestroy(&study));
    PetscCall(HessaAnalyzeOptionsSetFromOptions(PETSC_COMM_WORLD, &o));
    PetscCall(HessaReportOptionsHelp(PETSC_COMM_WORLD));
    PetscCall(HessaCliSetUpOptionsHelp());
    PetscFunctionReturn(0);
  }
  {
    /* destroyed on an error too: that releases the output folder's lock */
    PetscErrorCode ierr = HessaStudySetUp(study);
    if (!ierr) ierr = HessaStudyRun(study, AnalyzeWorker, NULL);
    if (ierr) PetscCall(HessaStudyDestroy(&study));
    PetscCall(ierr);
  }
  PetscCall(HessaStudyGetCounts(study, &total, &ok, &failed, &skipped));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-hessa_study_output", output, sizeof output, NULL));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "study: %" PetscInt_FMT " point%s: %" PetscInt_FMT " analysed now, %" PetscInt_FMT " failed, %" PetscInt_FMT " finished earlier%s\nreport: %s/study.md (and study.json, results.jsonl, results.csv, plots, points/)\n", total,
                        total == 1 ? "" : "s", ok, failed, skipped, HessaStopWasStopped() ? "; STOPPED: rerun to finish" : "", output));
  PetscCall(HessaStudyDestroy(&study));
  PetscFunctionReturn(0);
}
