#!/bin/bash
# The shipped transformer study (issue 13): the loss landscape of a small decoder-only
# transformer along training on modular addition a + b mod p, the task on which such
# models "grok" (Power et al. 2022; Nanda et al. 2023): the training pairs are memorised
# first (training accuracy 100 %), the held-out pairs are learnt much later, driven by the
# decoupled weight decay. hessa follows the Hessian of the plain cross-entropy along the run:
#   - lambda_max, lambda_min and the fraction of negative eigenvalues (SLQ density) at every
#     checkpoint of `hessa train` (hessa study of the training folder: trajectory plots);
#   - per-block spectra (-hessa_operator_subset by parameter-name patterns): the embeddings
#     (tok,pos), every attention parameter (*attn*), every MLP parameter (*mlp*), each its
#     own study of the same checkpoints; hessa compare joins them with the cross-entropy on
#     the training and the held-out pairs (OUT/compare: compare.csv, compare.md, plots of
#     lambda_max, negative fraction and loss);
#   - tools/grokking_accuracy.py: train/test cross-entropy and ACCURACY per checkpoint beside
#     every lambda_max and negative fraction (OUT/grokking.csv, OUT/grokking.md).
#
#   NP=3 jobs/studies/grokking-transformer.sh            (about 32 minutes on 2 busy cores: docs/study.md)
#   sbatch --ntasks=3 jobs/studies/grokking-transformer.sh
#
# Model and data (tools/grokking.py): 2 pre-LayerNorm blocks, width 64, 4 heads, context 32,
# GELU MLP 4x, vocabulary p + 1 (token p is '='), 105240 parameters for p = 23; sequences
# "a b = c" of FRACTION (60 %) of all pairs for training, only c predicted (-hessa_data_mask).
# Training: AdamW as in the grokking papers: full batch, lr LR (1e-3), betas (0.9, 0.98),
# decoupled weight decay WD (3: -hessa_train_weight_decay, so the trained and analysed
# function is the plain cross-entropy), STEPS (1500) steps, a checkpoint every EVERY (100).
# Found with tools/grokking_search.py (PyTorch, the same model, data and initial weights):
# training accuracy 100 % by step 100, test accuracy 47-59 % at step 400 and 98-100 % by
# step 1400, for seeds 0, 1 and 2.
#
# Change: P, FRACTION, SEED, STEPS, EVERY, STUDY_STEPS, LR, WD, WIDTH, LAYERS, NP (ranks), OUT (a rerun
# reuses the finished training and the finished study points).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
HESSA=${HESSA:-hessa}
NP=${NP:-${SLURM_NTASKS:-3}} # hessa study: rank 0 collects, the others analyse one point each at a time
OUT=${OUT:-$PWD/hessa-out/grokking-transformer}
P=${P:-23}
FRACTION=${FRACTION:-0.6}
SEED=${SEED:-0}
STEPS=${STEPS:-1500}
EVERY=${EVERY:-100}
LR=${LR:-1e-3}
WD=${WD:-3}
# the checkpoints the four studies analyse: denser around the transition (steps 600-1100
# at the defaults), or "all" (every checkpoint of the training folder)
STUDY_STEPS=${STUDY_STEPS:-200 400 600 700 800 900 1000 1100 1300 1500}
WIDTH=${WIDTH:-64}
LAYERS=${LAYERS:-2}
# analyze at every point: the extreme eigenpair at each end (to 1e-4 relative residual), the
# SLQ density (negative fraction) from 3 probes of 25 Lanczos steps, no trace estimate, refinement, Newton step or
# full spectrum (each Hv of the 105k-parameter model costs about 0.06 s of CPU on an idle core)
ANALYZE=(-hessa_analyze_k 1 -hessa_analyze_eps_tol 1e-4 -hessa_analyze_probes 3 -hessa_analyze_steps 25 -hessa_analyze_trace 0 -hessa_analyze_refine_products 0 -hessa_analyze_newton false -hessa_analyze_full false)
mkdir -p "$OUT"

[ -e "$OUT/grok/model.onnx" ] || /usr/bin/python3 "$HERE/tools/grokking.py" "$OUT/grok" --p "$P" --train-fraction "$FRACTION" --seed "$SEED" --width "$WIDTH" --layers "$LAYERS"
MODEL=(-hessa_model onnx -hessa_model_file "$OUT/grok/model.onnx")
TRAIN=(-hessa_data_source tokens -hessa_data_features "$OUT/grok/train.npy" -hessa_data_mask "$OUT/grok/train_mask.npy")
TEST=(-hessa_data_source tokens -hessa_data_features "$OUT/grok/test.npy" -hessa_data_mask "$OUT/grok/test_mask.npy")

# training (AdamW, full batch: -hessa_train_batch above the pair count); lambda_max comes
# from the studies; a stopped run (exit 75) continues with -resume on the next call
if [ ! -e "$OUT/train/final" ]; then
  resume=()
  ls "$OUT"/train/step-* >/dev/null 2>&1 && resume=(-resume)
  mpirun -n "$NP" --oversubscribe "$HESSA" train "${MODEL[@]}" "${TRAIN[@]}" -hessa_train_method adam -hessa_train_lr "$LR" \
    -hessa_train_beta1 0.9 -hessa_train_beta2 0.98 -hessa_train_weight_decay "$WD" -hessa_train_batch 1000000 \
    -hessa_train_steps "$STEPS" -hessa_train_checkpoint_every "$EVERY" -hessa_train_output "$OUT/train" "${resume[@]}" -quiet
fi

# the studied checkpoints as a manifest (one trajectory "grok", steps for the plots)
manifest=$OUT/train
if [ "$STUDY_STEPS" != all ]; then
  manifest=$OUT/manifest.yaml
  {
    echo "points:"
    for step in $STUDY_STEPS; do
      ckpt=$(printf 'step-%06d' "$step")
      [ -e "$OUT/train/$ckpt/model.json" ] || continue
      printf '  - name: %s\n    weights: train/%s\n    step: %d\n    series: grok\n' "$ckpt" "$ckpt" "$step"
    done
  } >"$manifest"
  grep -q "name:" "$manifest" || { echo "grokking-transformer.sh: none of STUDY_STEPS ($STUDY_STEPS) is a checkpoint in $OUT/train (EVERY=$EVERY)" >&2; exit 1; }
fi

# the whole Hessian, then each block, at every studied checkpoint (the options apply to every point)
study() {
  local name=$1
  shift
  mpirun -n "$NP" --oversubscribe "$HESSA" study "${MODEL[@]}" "${TRAIN[@]}" -hessa_study_manifest "$manifest" \
    -hessa_study_output "$OUT/study-$name" "${ANALYZE[@]}" "$@" -quiet
  echo "study $name: $OUT/study-$name/study.md"
}
study all
study attention -hessa_operator_subset '*attn*'
study mlp -hessa_operator_subset '*mlp*'
study embeddings -hessa_operator_subset tok,pos

# the cross-entropy at each checkpoint on the training pairs and on the held-out pairs
# (the grokking curve: memorisation first, generalisation later): hessa info, one info.json
# per checkpoint
for ckpt in "$OUT"/train/*/; do
  [ -e "$ckpt/model.json" ] || continue
  name=$(basename "$ckpt")
  for set in train test; do
    [ -e "$OUT/loss-$set/$name/info.json" ] && continue
    data=("${TRAIN[@]}")
    [ "$set" = test ] && data=("${TEST[@]}")
    mpirun -n "$NP" --oversubscribe "$HESSA" info -hessa_model onnx -hessa_model_file "$OUT/grok/model.onnx" "${data[@]}" -hessa_model_weights "$ckpt" \
      -hessa_info_output "$OUT/loss-$set/$name" -quiet >/dev/null
  done
done

# the four studies and the two losses side by side: compare.csv, compare.md, plots
"$HESSA" compare -hessa_compare_studies "all=$OUT/study-all,embeddings=$OUT/study-embeddings,attention=$OUT/study-attention,mlp=$OUT/study-mlp" \
  -hessa_compare_loss "train=$OUT/loss-train,test=$OUT/loss-test" -hessa_compare_output "$OUT/compare"

# accuracy (PyTorch, from the checkpoints; its cross-entropy checked against hessa info's)
# beside lambda_max and the negative fraction of every block: the grokking table
/usr/bin/python3 "$HERE/tools/grokking_accuracy.py" "$OUT"
