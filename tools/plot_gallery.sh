#!/bin/bash
# Every plot hessa writes, into one folder, to look at them (docs/plots.md): analyze on the
# embedded default and on a saddle, landscape line and plane, train (with lambda_max), study.
# usage: tools/plot_gallery.sh HESSA OUT [STEP...]   (HESSA: the hessa binary; OUT: a folder;
# STEP: default monkey x2-y4 small-mlp line plane train study, all when none is given)
# With HESSA_PLOT_GEOMETRY=1 in the environment each plot also writes its geometry sidecar,
# and tools/check_plot_geometry.py OUT checks them all.
set -euo pipefail
HESSA=$(realpath "$1")
OUT=$(realpath -m "$2")
HERE=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
run() { mpirun -n 2 --oversubscribe "$HESSA" "$@" -quiet > /dev/null; }
STEPS=" ${*:3} "
[ "$STEPS" = "  " ] && STEPS=" default monkey x2-y4 small-mlp line plane train study "
want() { [[ "$STEPS" == *" $1 "* ]]; }
mkdir -p "$OUT"
want default && run analyze -hessa_analyze_output "$OUT/default"
want monkey && run analyze -hessa_model monkey-saddle -hessa_model_point 0.5,0.25 -hessa_analyze_output "$OUT/monkey"
want x2-y4 && run analyze -hessa_model x2-y4 -hessa_model_point 0.3,0.4 -hessa_analyze_output "$OUT/x2-y4"
# a small MLP (n = 67): its whole spectrum is computed, so the histogram is drawn
want small-mlp && run analyze -hessa_data_source blobs -hessa_data_samples 600 -hessa_data_dim 4 -hessa_mlp_hidden 8 -hessa_analyze_output "$OUT/small-mlp"
want line && run landscape -hessa_landscape_output "$OUT/line"
want plane && run landscape -hessa_landscape_plane -hessa_landscape_points 21 -hessa_landscape_output "$OUT/plane"
want train && run train -hessa_data_limit 200 -hessa_train_method sgd -hessa_train_lr 0.05 -hessa_train_steps 30 -hessa_train_batch 32 -hessa_train_checkpoint_every 10 -hessa_train_lambda_every 5 -hessa_train_output "$OUT/train"
want study && /usr/bin/python3 "$HERE/tests/study/study_cases.py" mpirun "$HESSA" "$OUT" groups1 > /dev/null
true
