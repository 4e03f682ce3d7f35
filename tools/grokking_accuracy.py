#!/usr/bin/python3
"""The grokking curve of a run of jobs/studies/grokking-transformer.sh: cross-entropy and
accuracy of every checkpoint on the training pairs and on the held-out pairs, beside the
studies' lambda_max and negative fraction.

  tools/grokking_accuracy.py OUT

reads OUT/grok (config.json, train.npy, test.npy: tools/grokking.py), every checkpoint
OUT/train/step-NNNNNN and OUT/train/final (model.json and one NPY per tensor:
docs/weights.md), and when present OUT/loss-{train,test}/CHECKPOINT/info.json (hessa info)
and OUT/compare/compare.csv (hessa compare). Writes OUT/grokking.csv and OUT/grokking.md:
one row per checkpoint (step order) with train/test cross-entropy and accuracy computed
here in PyTorch float64 (TinyGPT of tests/onnx/models.py with the checkpoint's tensors),
then every lambda_max and negative-fraction column of compare.csv.

Checks: every tensor of the model is in the checkpoint with its shape and finite values;
the cross-entropy computed here agrees with hessa info's to 1e-8 relative (two independent
implementations of the same function), else the tool fails naming the checkpoint."""
import csv
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "onnx"))
from models import TinyGPT  # noqa: E402


def fail(msg):
    sys.exit(f"grokking_accuracy.py: {msg}")


def load_model(cfg, folder):
    model = TinyGPT(vocab=cfg["p"] + 1, context=cfg["context"], width=cfg["width"], heads=cfg["heads"], layers=cfg["layers"], seq_len=4)
    spec_path = os.path.join(folder, "model.json")
    try:
        spec = json.load(open(spec_path))
    except (OSError, ValueError) as e:
        fail(f"checkpoint '{folder}': cannot read model.json: {e}")
    files = {t["name"]: t["file"] for t in spec.get("tensors", [])}
    state = {}
    for name, p in model.named_parameters():
        if name not in files:
            fail(f"checkpoint '{folder}': no tensor '{name}' in model.json (expected the parameters of tools/grokking.py's model)")
        value = np.load(os.path.join(folder, files[name]))
        if tuple(value.shape) != tuple(p.shape) or not np.all(np.isfinite(value)):
            fail(f"checkpoint '{folder}': tensor '{name}': expected finite values of shape {tuple(p.shape)}, found shape {value.shape}")
        state[name] = torch.from_numpy(value.astype(np.float64))
    model.load_state_dict(state, strict=False)
    return model.eval()


def evaluate(model, seq):
    with torch.no_grad():
        logits = model(torch.from_numpy(seq))[:, 2, :]  # the prediction made at '=' of c
        target = torch.from_numpy(seq[:, 3])
        return F.cross_entropy(logits, target).item(), (logits.argmax(-1) == target).double().mean().item()


def info_loss(out, kind, name):
    path = os.path.join(out, f"loss-{kind}", name, "info.json")
    if not os.path.exists(path):
        return None
    return float(json.load(open(path))["loss"])


def main():
    if len(sys.argv) != 2:
        fail("usage: grokking_accuracy.py OUT (the OUT of jobs/studies/grokking-transformer.sh)")
    out = sys.argv[1]
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    try:
        cfg = json.load(open(os.path.join(out, "grok", "config.json")))
    except (OSError, ValueError) as e:
        fail(f"'{out}/grok/config.json': {e} (expected the folder written by tools/grokking.py)")
    data = {k: np.load(os.path.join(out, "grok", f"{k}.npy")) for k in ("train", "test")}
    for k, seq in data.items():
        if seq.ndim != 2 or seq.shape[1] != 4 or seq.min() < 0 or seq.max() > cfg["p"]:
            fail(f"'{out}/grok/{k}.npy': expected sequences [N, 4] of tokens 0..{cfg['p']}, found shape {seq.shape}")
    points = []
    train_dir = os.path.join(out, "train")
    for name in sorted(os.listdir(train_dir)):
        folder = os.path.join(train_dir, name)
        if not os.path.exists(os.path.join(folder, "model.json")):
            continue
        if name.startswith("step-"):
            step = int(name[5:])
        elif name == "final":
            step = json.load(open(os.path.join(train_dir, "train.json")))["steps_done"]
        else:
            continue
        points.append((step, name, folder))
    # final repeats the last step's checkpoint when the step count is a multiple of EVERY
    steps = {s for s, n, _ in points if n != "final"}
    points = sorted(p for p in points if not (p[1] == "final" and p[0] in steps))
    if not points:
        fail(f"no checkpoint in '{train_dir}'")
    study = {}
    compare_csv = os.path.join(out, "compare", "compare.csv")
    study_cols = []
    if os.path.exists(compare_csv):
        rows = list(csv.DictReader(open(compare_csv)))
        study_cols = [c for c in rows[0].keys() if c.endswith("_lambda_max") or c.endswith("_negative_fraction")] if rows else []
        for r in rows:
            study[r.get("checkpoint") or r.get("name")] = r
    header = ["step", "checkpoint", "train_loss", "train_accuracy", "test_loss", "test_accuracy"] + study_cols
    table = []
    for step, name, folder in points:
        model = load_model(cfg, folder)
        row = [step, name]
        for kind in ("train", "test"):
            loss, acc = evaluate(model, data[kind])
            theirs = info_loss(out, kind, name)
            if theirs is not None and abs(loss - theirs) > 1e-8 * max(1.0, abs(theirs)):
                fail(f"checkpoint '{name}': {kind} cross-entropy {loss!r} here, {theirs!r} from hessa info ({out}/loss-{kind}/{name}/info.json)")
            row += [loss, acc]
        r = study.get(name, {})
        row += [r.get(c, "") for c in study_cols]
        table.append(row)
    with open(os.path.join(out, "grokking.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(table)

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        try:
            return f"{float(v):.4g}"
        except ValueError:
            return str(v)

    with open(os.path.join(out, "grokking.md"), "w") as f:
        f.write(f"# Grokking a + b mod {cfg['p']}: cross-entropy, accuracy and the Hessian per checkpoint\n\n")
        f.write(f"{len(data['train'])} training pairs, {len(data['test'])} held-out pairs; accuracy = argmax of the logits at '=' equals c.\n\n")
        f.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        for row in table:
            f.write("| " + " | ".join(fmt(v) for v in row) + " |\n")
    print(f"grokking_accuracy: {len(table)} checkpoints: {out}/grokking.csv, {out}/grokking.md")


if __name__ == "__main__":
    main()
