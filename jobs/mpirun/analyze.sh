#!/bin/bash
# hessa analyze without a scheduler: jobs/mpirun/analyze.sh [extra hessa options]
# Change: HESSA_NP (ranks, default 2), HESSA_OUT (output folder), jobs/slurm/analyze.yaml (options).
# Ctrl-C / kill -USR1 / kill -TERM this script: hessa stops at a safe point (exit 75);
# run the script again with the same HESSA_OUT to resume (spectrum).
set -u
JOBS=$(cd "$(dirname "$0")/.." && pwd)
. "$JOBS/lib.sh"
export HESSA_OUT=${HESSA_OUT:-$PWD/hessa-out/analyze}
hessa_job analyze -hessa_analyze_output -- \
  mpirun -n "${HESSA_NP:-2}" ${HESSA_MPIRUN_FLAGS:-} "${HESSA:-hessa}" analyze -options_file_yaml "$JOBS/slurm/analyze.yaml" "$@"
