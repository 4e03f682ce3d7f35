#!/bin/bash
# hessa study without a scheduler: HESSA_MANIFEST=manifest.yaml jobs/mpirun/study.sh [extra hessa options]
# Change: HESSA_NP (ranks, default 3: one collects), HESSA_OUT (output folder), jobs/slurm/study.yaml.
# Ctrl-C / kill -USR1 / kill -TERM this script: no new point is started, the points in flight
# finish, exit 75; run the script again with the same HESSA_OUT to finish the study.
set -u
JOBS=$(cd "$(dirname "$0")/.." && pwd)
. "$JOBS/lib.sh"
: "${HESSA_MANIFEST:?set HESSA_MANIFEST to a manifest (YAML), a folder of weight folders or a training folder}"
export HESSA_OUT=${HESSA_OUT:-$PWD/hessa-out/study}
hessa_job study -hessa_study_output -- \
  mpirun -n "${HESSA_NP:-3}" --oversubscribe ${HESSA_MPIRUN_FLAGS:-} "${HESSA:-hessa}" study -options_file_yaml "$JOBS/slurm/study.yaml" -hessa_study_manifest "$HESSA_MANIFEST" "$@"
