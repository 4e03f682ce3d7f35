#!/bin/bash
# The shipped study (background.md section 4, "minimum ratio"): critical points of small
# MLPs on Fashion-MNIST, found with `hessa train`, each analysed with its exact full
# spectrum by `hessa study`; the report counts minima, saddles and degenerate points and
# plots the minimum ratio against the loss.
#
#   jobs/studies/fashion-mnist-critical-points.sh                 (about 5 minutes on 2 cores)
#   sbatch --ntasks=3 jobs/studies/fashion-mnist-critical-points.sh   (as a Slurm job)
#
# Model and data: 49-W-10 tanh MLPs, cross-entropy, weight decay 1e-2, on the first 1000
# Fashion-MNIST training images average-pooled 4x4 to 7x7 (-hessa_data_pool 4, as Dauphin et
# al. 2014 downsampled MNIST). For every width W in WIDTHS and seed in SEEDS:
#   early-P  Adam for P steps (P in EARLY: still on the plateaus of early training), then
#            Newton-MINRES (-H^-1 g with backtracking on |g|: attracted to any critical
#            point, saddles included) until |g| <= 1e-9 or it stalls;
#   min      Adam 1000 steps, gradient descent 5000 steps, then Newton: a minimum;
#   wider    each converged "min" point embedded into widths W+1 and W+2 by adding hidden
#            units with zero weights (tools/embed_units.py, Fukumizu & Amari 2000): an exact
#            critical point of the wider network at the narrow network's loss, usually a
#            saddle whose escape direction grows the new unit.
# Every point goes into the study, converged or not: the report says which are critical
# (|g| within analyze's tolerance) and classifies those. Newton runs that stall end in
# "gradient-flat" regions (|g| small, H g ~ 0; Frye et al. 2020): reported as not critical.
#
# Change: WIDTHS, SEEDS, EARLY, NP (ranks), OUT (everything goes there; a rerun reuses the
# finished trainings and the finished study points).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
HESSA=${HESSA:-hessa}
NP=${NP:-${SLURM_NTASKS:-3}}
OUT=${OUT:-$PWD/hessa-out/fashion-mnist-critical-points}
WIDTHS=${WIDTHS:-"3 4 5 6"}
SEEDS=${SEEDS:-"1 2 3"}
EARLY=${EARLY:-"30 100"}
DATA=(-hessa_data_limit 1000 -hessa_data_pool 4 -hessa_mlp_weight_decay 1e-2 -quiet)
NEWTON=(-hessa_train_method newton -hessa_train_steps 40 -hessa_train_gtol 1e-9 -hessa_train_newton_ksp_max_it 4000)
mkdir -p "$OUT/train"

# train NAME WIDTH SEED PHASES...: each phase "method:steps[:lr]" continues from the previous one
train() {
  local name=$1 dir=$OUT/train/$1 k=0 start=(-hessa_mlp_hidden "$2" -hessa_model_seed "$3")
  shift 3
  [ -e "$dir/done" ] && return 0
  rm -rf "$dir"
  for phase in "$@"; do
    IFS=: read -r method steps lr <<<"$phase"
    k=$((k + 1))
    local args=(-hessa_train_method "$method" -hessa_train_steps "$steps")
    [ "$method" = newton ] && args=("${NEWTON[@]}")
    [ -n "$lr" ] && args+=(-hessa_train_lr "$lr")
    mpirun -n 1 "$HESSA" train "${DATA[@]}" "${start[@]}" "${args[@]}" -hessa_train_output "$dir/$k-$method" >"$dir.log" 2>&1 ||
      { cat "$dir.log"; return 1; }
    # the next phase continues from here (a weight folder carries its architecture)
    start=(-hessa_model_weights "$dir/$k-$method/final")
  done
  ln -sfn "$k-$method/final" "$dir/point"
  echo "$name: $(tail -1 "$dir.log")"
  touch "$dir/done"
}

jobs_running=0
pool() { jobs_running=$((jobs_running + 1)); if [ "$jobs_running" -ge "$NP" ]; then wait -n; jobs_running=$((jobs_running - 1)); fi; }
for w in $WIDTHS; do
  for s in $SEEDS; do
    for p in $EARLY; do train "w$w-s$s-early$p" "$w" "$s" "adam:$p:0.01" newton:0 & pool; done
    train "w$w-s$s-min" "$w" "$s" adam:1000:0.01 gd:5000:0.3 newton:0 & pool
  done
done
wait

manifest=$OUT/manifest.yaml
{
  echo "# written by jobs/studies/fashion-mnist-critical-points.sh"
  echo "options: {hessa_data_limit: 1000, hessa_data_pool: 4, hessa_mlp_weight_decay: 1e-2}"
  echo "points:"
  for w in $WIDTHS; do
    for s in $SEEDS; do
      for p in $EARLY; do echo "  - {name: w$w-s$s-early$p, weights: train/w$w-s$s-early$p/point, series: early$p}"; done
      echo "  - {name: w$w-s$s-min, weights: train/w$w-s$s-min/point, series: min}"
      if grep -q '"converged":[[:space:]]*true' "$OUT/train/w$w-s$s-min/point/../train.json"; then
        for extra in 1 2; do
          wide=w$((w + extra))-s$s-from-w$w
          [ -e "$OUT/train/$wide/model.json" ] || /usr/bin/python3 "$HERE/tools/embed_units.py" "$OUT/train/w$w-s$s-min/point" "$OUT/train/$wide" "$extra"
          echo "  - {name: $wide, weights: train/$wide, series: wider}"
        done
      fi
    done
  done
} >"$manifest.tmp"
mv "$manifest.tmp" "$manifest"
mpirun -n "$NP" --oversubscribe "$HESSA" study -hessa_study_manifest "$manifest" -hessa_study_output "$OUT/study" -hessa_study_group_size 1 -quiet
echo "study report: $OUT/study/study.md"
