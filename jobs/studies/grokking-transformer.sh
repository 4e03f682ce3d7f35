#!/bin/bash
# The shipped transformer study (issue 13): the loss landscape of a small decoder-only
# transformer along training on modular addition a + b mod p, the task on which such
# models "grok" (Power et al. 2022: the training loss falls first, the test loss much later
# with weight decay). hessa follows the Hessian along the run:
#   - lambda_max and the fraction of negative eigenvalues (SLQ density) at every checkpoint
#     of `hessa train` (hessa study of the training folder: trajectory plots);
#   - per-block spectra (-hessa_operator_subset by parameter-name patterns): the embeddings
#     (tok,pos), every attention parameter (*attn*), every MLP parameter (*mlp*), each its
#     own study of the same checkpoints; hessa compare joins them with the cross-entropy on
#     the training and the held-out pairs (OUT/compare: compare.csv, compare.md, plots of lambda_max, negative fraction and loss).
#
#   jobs/studies/grokking-transformer.sh               (STEPS=2000: about 30 minutes on 2 cores)
#   sbatch --ntasks=3 jobs/studies/grokking-transformer.sh
#
# Model and data (tools/grokking.py): 2 pre-LayerNorm blocks, width 64, 4 heads, context 32,
# GELU MLP 4x, vocabulary p + 1 (token p is '='), 105240 parameters for p = 23; sequences
# "a b = c" of 40 % of all pairs for training, only c predicted (-hessa_data_mask).
# Training: Adam, full batch, lr 1e-3, weight decay WD (L2 in the loss, so the analysed
# function is the trained one), a checkpoint every EVERY steps.
#
# Change: P, STEPS, EVERY, WD, WIDTH, LAYERS, NP (ranks), OUT (a rerun reuses the finished training and the
# finished study points).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
HESSA=${HESSA:-hessa}
NP=${NP:-${SLURM_NTASKS:-3}}
OUT=${OUT:-$PWD/hessa-out/grokking-transformer}
P=${P:-23}
STEPS=${STEPS:-2000}
EVERY=${EVERY:-200}
WD=${WD:-1e-2}
WIDTH=${WIDTH:-64}
LAYERS=${LAYERS:-2}
# analyze at every point: 2 extreme eigenpairs, the SLQ density (negative fraction) from 8
# probes of 40 Lanczos steps, no Newton step (each Hv of the 105k-parameter model costs
# about a second on 2 cores)
ANALYZE=(-hessa_analyze_k 2 -hessa_analyze_probes 8 -hessa_analyze_steps 40 -hessa_analyze_newton false -hessa_analyze_full false)
mkdir -p "$OUT"

[ -e "$OUT/grok/model.onnx" ] || /usr/bin/python3 "$HERE/tools/grokking.py" "$OUT/grok" --p "$P" --width "$WIDTH" --layers "$LAYERS"
MODEL=(-hessa_model onnx -hessa_model_file "$OUT/grok/model.onnx" -hessa_onnx_weight_decay "$WD")
TRAIN=(-hessa_data_source tokens -hessa_data_features "$OUT/grok/train.npy" -hessa_data_mask "$OUT/grok/train_mask.npy")
TEST=(-hessa_data_source tokens -hessa_data_features "$OUT/grok/test.npy" -hessa_data_mask "$OUT/grok/test_mask.npy")

# training with lambda_max in train_log.csv every EVERY steps
if [ ! -e "$OUT/train/final" ]; then
  mpirun -n "$NP" --oversubscribe "$HESSA" train "${MODEL[@]}" "${TRAIN[@]}" -hessa_train_method adam -hessa_train_lr 1e-3 \
    -hessa_train_steps "$STEPS" -hessa_train_checkpoint_every "$EVERY" -hessa_train_lambda_every "$EVERY" \
    -hessa_train_output "$OUT/train" -quiet
fi

# the whole Hessian, then each block, at every checkpoint (the options apply to every point)
study() {
  local name=$1
  shift
  mpirun -n "$NP" --oversubscribe "$HESSA" study "${MODEL[@]}" "${TRAIN[@]}" -hessa_study_manifest "$OUT/train" \
    -hessa_study_output "$OUT/study-$name" "${ANALYZE[@]}" "$@" -quiet
  echo "study $name: $OUT/study-$name/study.md"
}
study all
study embeddings -hessa_operator_subset tok,pos
study attention -hessa_operator_subset '*attn*'
study mlp -hessa_operator_subset '*mlp*'

# the plain cross-entropy at each checkpoint on the training pairs and on the held-out pairs
# (the grokking curve: memorisation first, generalisation later): hessa info without weight
# decay, one info.json per checkpoint
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
