#!/usr/bin/python3
"""The per-block summary of jobs/studies/grokking-transformer.sh: for every checkpoint of
the training, the training loss, the test loss (hessa info on the test pairs), and
lambda_max and the negative fraction of the whole Hessian and of each block (embeddings,
attention, MLP), from the studies' results.csv. Writes OUT/blocks.csv and OUT/blocks.svg
(lambda_max of each block and of the whole Hessian against the training step; a plain SVG,
no plotting library needed).

usage: plot_blocks.py OUT"""
import csv
import math
import os
import re
import sys

out = sys.argv[1]
blocks = ["all", "embeddings", "attention", "mlp"]
rows = {}
for b in blocks:
    path = f"{out}/study-{b}/results.csv"
    if not os.path.exists(path):
        continue
    for r in csv.DictReader(open(path)):
        if r.get("status") not in ("done", "ok", "finished") and not r.get("lambda_max"):
            continue
        row = rows.setdefault(r["name"], {"name": r["name"], "step": r.get("step", "")})
        row[f"{b}_lambda_max"] = r.get("lambda_max", "")
        row[f"{b}_negative_fraction"] = r.get("negative_fraction", "")
        if b == "all":
            row["train_loss"] = r.get("loss", "")
for name, row in rows.items():
    txt = f"{out}/test/{name}.txt"
    if os.path.exists(txt):
        m = re.search(r"loss ([-+0-9.eE]+)", open(txt).read())
        row["test_loss"] = m.group(1) if m else ""


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


ordered = sorted(rows.values(), key=lambda r: (num(r["step"]) if not math.isnan(num(r["step"])) else 1e18, r["name"]))
fields = ["name", "step", "train_loss", "test_loss"] + [f"{b}_{k}" for b in blocks for k in ("lambda_max", "negative_fraction")]
with open(f"{out}/blocks.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
    w.writeheader()
    for r in ordered:
        w.writerow(r)

# lambda_max per block against the step
W, H, M = 640, 400, 60
series = {b: [(num(r["step"]), num(r.get(f"{b}_lambda_max"))) for r in ordered] for b in blocks}
pts = [p for s in series.values() for p in s if not (math.isnan(p[0]) or math.isnan(p[1]))]
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}"><rect width="100%" height="100%" fill="white"/>',
       f'<text x="{W/2}" y="20" text-anchor="middle" font-family="sans-serif" font-size="14">largest Hessian eigenvalue per block along training</text>']
if pts:
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(0.0, min(p[1] for p in pts)), max(p[1] for p in pts)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    sx = lambda x: M + (x - x0) / (x1 - x0) * (W - 2 * M)
    sy = lambda y: H - M - (y - y0) / (y1 - y0) * (H - 2 * M)
    svg.append(f'<line x1="{M}" y1="{H-M}" x2="{W-M}" y2="{H-M}" stroke="black"/><line x1="{M}" y1="{M}" x2="{M}" y2="{H-M}" stroke="black"/>')
    svg.append(f'<text x="{W/2}" y="{H-20}" text-anchor="middle" font-family="sans-serif" font-size="12">step ({x0:g} to {x1:g})</text>')
    svg.append(f'<text x="15" y="{H/2}" font-family="sans-serif" font-size="12" transform="rotate(-90 15 {H/2})" text-anchor="middle">lambda_max ({y0:.3g} to {y1:.3g})</text>')
    colors = {"all": "#000000", "embeddings": "#1b9e77", "attention": "#d95f02", "mlp": "#7570b3"}
    for k, (b, s) in enumerate(series.items()):
        good = [(sx(x), sy(y)) for x, y in s if not (math.isnan(x) or math.isnan(y))]
        if good:
            svg.append(f'<polyline fill="none" stroke="{colors[b]}" stroke-width="2" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in good) + '"/>')
        svg.append(f'<text x="{W-M-100}" y="{M+15*k}" fill="{colors[b]}" font-family="sans-serif" font-size="12">{b}</text>')
svg.append("</svg>")
open(f"{out}/blocks.svg", "w").write("\n".join(svg) + "\n")
print(f"per-block summary: {out}/blocks.csv, {out}/blocks.svg ({len(ordered)} checkpoints)")
