#!/bin/bash
# hessa landscape without a scheduler: jobs/mpirun/landscape.sh [extra hessa options]
# Change: HESSA_NP (ranks, default 2), HESSA_OUT (output folder), jobs/slurm/landscape.yaml.
set -u
JOBS=$(cd "$(dirname "$0")/.." && pwd)
. "$JOBS/lib.sh"
export HESSA_OUT=${HESSA_OUT:-$PWD/hessa-out/landscape}
hessa_job landscape -hessa_landscape_output -- \
  mpirun -n "${HESSA_NP:-2}" ${HESSA_MPIRUN_FLAGS:-} "${HESSA:-hessa}" landscape -options_file_yaml "$JOBS/slurm/landscape.yaml" "$@"
