#!/usr/bin/python3
"""Train the shipped grokking model (tools/grokking.py: the same TinyGPT, the same initial
weights, the same split of the pairs) full-batch in PyTorch, fast, to find settings under
which it groks before running `hessa train` with them.

  tools/grokking_search.py [--p 23] [--train-fraction 0.6] [--seed 0 1 2] [--steps 1500]
                           [--lr 1e-3] [--weight-decay 3] [--betas 0.9 0.98]
                           [--l2 0] [--every 100] [--float32] [--csv FILE]

Optimizer: AdamW (decoupled weight decay theta -= lr * wd * theta, as hessa's
-hessa_train_weight_decay), optionally an L2 term l2/2 |theta|^2 in the objective (as
-hessa_onnx_weight_decay). Prints per seed, every `every` steps: train and test cross-entropy
and accuracy, and at the end the step at which train and test accuracy first reach 99 %
(the delay between them is the grokking)."""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "tests", "onnx"))
from grokking import data  # noqa: E402
from models import TinyGPT, _randomize_gpt_layernorm  # noqa: E402


def run(a, seed, dtype, out):
    torch.manual_seed(seed)
    model = _randomize_gpt_layernorm(TinyGPT(vocab=a.p + 1, context=a.context, width=a.width, heads=a.heads, layers=a.layers, seq_len=4))
    model = model.to(dtype)
    train, test, _ = data(a.p, a.train_fraction, seed)
    xtr, xte = torch.from_numpy(train), torch.from_numpy(test)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=tuple(a.betas), eps=a.eps, weight_decay=a.weight_decay)

    def evaluate(x):
        logits = model(x)[:, 2, :]  # the prediction made at '=' (position 2) of c (position 3)
        loss = F.cross_entropy(logits, x[:, 3])
        return loss, (logits.argmax(-1) == x[:, 3]).double().mean().item()

    first = {"train": None, "test": None}
    for step in range(a.steps + 1):
        model.train()
        loss, acc = evaluate(xtr)
        if step % a.every == 0 or step == a.steps:
            with torch.no_grad():
                tl, ta = evaluate(xte)
            out.write(f"{seed},{step},{loss.item():.6g},{acc:.4f},{tl.item():.6g},{ta:.4f}\n")
            out.flush()
            if first["train"] is None and acc >= 0.99:
                first["train"] = step
            if first["test"] is None and ta >= 0.99:
                first["test"] = step
        if step == a.steps:
            break
        objective = loss
        if a.l2 > 0:
            objective = loss + 0.5 * a.l2 * sum((p * p).sum() for p in model.parameters())
        opt.zero_grad()
        objective.backward()
        opt.step()
    return first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--p", type=int, default=23)
    ap.add_argument("--train-fraction", type=float, default=0.6)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=32)
    ap.add_argument("--seed", type=int, nargs="+", default=[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=3.0)
    ap.add_argument("--betas", type=float, nargs=2, default=[0.9, 0.98])
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--l2", type=float, default=0.0)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--float32", action="store_true")
    ap.add_argument("--csv")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)  # the initial weights of tools/grokking.py
    out = open(a.csv, "w") if a.csv else sys.stdout
    out.write("seed,step,train_loss,train_acc,test_loss,test_acc\n")
    dtype = torch.float32 if a.float32 else torch.float64
    for seed in a.seed:
        first = run(a, seed, dtype, out)
        sys.stderr.write(f"seed {seed}: train accuracy >= 99 % at step {first['train']}, test accuracy >= 99 % at step {first['test']}\n")


if __name__ == "__main__":
    main()
