#!/bin/bash
# Set up (scripts/setup.sh) and run hessa's main job on its embedded default with 2 ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
echo "run: mpirun -n 2 build/hessa $*"
exec mpirun -n 2 --oversubscribe build/hessa "$@"
