#!/usr/bin/python3
"""The shipped transformer example: modular addition a + b (mod p), the task on which
small transformers "grok" (Power et al. 2022: memorisation first, generalisation much
later), as token data for hessa and a decoder-only transformer exported for it.

  tools/grokking.py OUT [--p 23] [--train-fraction 0.6] [--layers 2] [--width 64]
                        [--heads 4] [--context 32] [--seed 0]

writes into OUT:
  model.onnx      TinyGPT (tests/onnx/models.py): token + positional embedding (context 32
                  rows), `layers` pre-LayerNorm blocks (causal self-attention with `heads`
                  heads, GELU MLP 4x), final LayerNorm, head to p + 1 logits; exported with
                  tools/onnx_export.py for sequences of 4 tokens, float64
  train.npy       int64 [N, 4] sequences "a b = c" (token p is '='), the training pairs
  train_mask.npy  bool [N, 4]: only c counts (the prediction made at '=')
  test.npy, test_mask.npy   the other pairs
  params.txt      the parameter names (for -hessa_operator_subset patterns: tok,pos;
                  *attn*; *mlp*; *ln*; head)
  config.json     these arguments (tools/grokking_accuracy.py rebuilds the model from them)
Use with: -hessa_model onnx -hessa_model_file OUT/model.onnx -hessa_data_source tokens
-hessa_data_features OUT/train.npy -hessa_data_mask OUT/train_mask.npy."""
import argparse
import json
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "tests", "onnx"))
from models import TinyGPT, _randomize_gpt_layernorm  # noqa: E402
from onnx_export import export  # noqa: E402


def data(p, fraction, seed):
    """Every pair (a, b) as "a b = c", split at random into train and test."""
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    seq = np.stack([a.ravel(), b.ravel(), np.full(p * p, p), (a.ravel() + b.ravel()) % p], axis=1).astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(seq))
    k = int(round(fraction * len(seq)))
    mask = np.zeros((len(seq), 4), dtype=bool)
    mask[:, 3] = True
    return seq[np.sort(order[:k])], seq[np.sort(order[k:])], mask


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--p", type=int, default=23)
    ap.add_argument("--train-fraction", type=float, default=0.6)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if not (a.p >= 2 and 0 < a.train_fraction < 1 and a.width % a.heads == 0 and a.context >= 4):
        sys.exit("grokking.py: need p >= 2, 0 < train fraction < 1, width divisible by heads, context >= 4")
    os.makedirs(a.out, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(a.seed)
    model = _randomize_gpt_layernorm(TinyGPT(vocab=a.p + 1, context=a.context, width=a.width, heads=a.heads, layers=a.layers, seq_len=4))
    names = export(model, torch.zeros((2, 4), dtype=torch.int64), os.path.join(a.out, "model.onnx"))
    train, test, mask = data(a.p, a.train_fraction, a.seed)
    np.save(os.path.join(a.out, "train.npy"), train)
    np.save(os.path.join(a.out, "train_mask.npy"), mask[:len(train)])
    np.save(os.path.join(a.out, "test.npy"), test)
    np.save(os.path.join(a.out, "test_mask.npy"), mask[:len(test)])
    with open(os.path.join(a.out, "params.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    with open(os.path.join(a.out, "config.json"), "w") as f:  # for tools/grokking_accuracy.py
        json.dump({"p": a.p, "train_fraction": a.train_fraction, "layers": a.layers, "width": a.width, "heads": a.heads, "context": a.context, "seed": a.seed}, f)
    print(f"grokking: p = {a.p}, {len(train)} training and {len(test)} test sequences, "
          f"{sum(t.numel() for t in model.parameters())} parameters, written to {a.out}")


if __name__ == "__main__":
    main()
