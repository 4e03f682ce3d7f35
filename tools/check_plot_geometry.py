#!/usr/bin/python3
"""Checks the geometry sidecars hessa writes with HESSA_PLOT_GEOMETRY=1 (NAME.geometry.json
beside NAME.png, docs/plots.md): in every panel every data point lies inside the axes box,
no data point of any panel lies inside a legend box, every legend box and axes box lies
inside the page, and an integer axis (an index, a count, a step: x_integer / y_integer) has
tick labels and every one is a whole number ("2", not "2.0" or "1.5"). usage: check_plot_geometry.py FOLDER... (searched recursively); prints one
line per problem and exits 1 when there is one, silent on success; -v lists what was checked.
"""
import json
import os
import re
import sys

EPS = 1e-9
WHOLE = re.compile(r"^-?[0-9]+$")


def inside(p, box, eps=EPS):
    return box[0] - eps <= p[0] <= box[1] + eps and box[2] - eps <= p[1] <= box[3] + eps


def strictly_inside(p, box):
    return box[0] < p[0] < box[1] and box[2] < p[1] < box[3]


def check(path):
    problems, doc = [], json.load(open(path))
    panels = doc["panels"]
    if not panels:
        problems.append(f"{path}: no panel recorded")
    legends = [leg for p in panels for leg in p["legends"]]
    n_points = 0
    for k, p in enumerate(panels):
        axes = p["axes"]
        if not (0 <= axes[0] < axes[1] <= 1 and 0 <= axes[2] < axes[3] <= 1):
            problems.append(f"{path}: panel {k} axes {axes} not inside the page")
        out = [q for q in p["points"] if not inside(q, axes)]
        if out:
            problems.append(f"{path}: panel {k}: {len(out)} of {len(p['points'])} data points outside the axes {axes}, e.g. {out[0]}")
        for leg in legends:
            covered = [q for q in p["points"] if strictly_inside(q, leg)]
            if covered:
                problems.append(f"{path}: panel {k}: legend box {leg} covers {len(covered)} data points, e.g. {covered[0]}")
        n_points += len(p["points"])
        for axis in ("x", "y"):
            if not p.get(axis + "_integer"):
                continue
            ticks = p.get(axis + "_ticks", [])
            if not ticks:
                problems.append(f"{path}: panel {k}: integer {axis} axis without a tick label")
            bad = [t for t in ticks if not WHOLE.match(t)]
            if bad:
                problems.append(f"{path}: panel {k}: integer {axis} axis labelled {bad} (expected whole numbers such as 1, 2, 3)")
    for leg in legends:
        if not (0 <= leg[0] < leg[1] <= 1 and 0 <= leg[2] < leg[3] <= 1):
            problems.append(f"{path}: legend box {leg} not inside the page (clipped)")
    return problems, len(panels), n_points, len(legends)


def main():
    verbose = "-v" in sys.argv
    files = []
    for root in [a for a in sys.argv[1:] if a != "-v"]:
        for d, _, names in os.walk(root):
            files += [os.path.join(d, n) for n in names if n.endswith(".geometry.json")]
    if not files:
        print("check_plot_geometry: no *.geometry.json found (run with HESSA_PLOT_GEOMETRY=1)")
        return 1
    bad = 0
    for f in sorted(files):
        problems, panels, points, legends = check(f)
        for p in problems:
            print(p)
        bad += len(problems)
        if verbose:
            print(f"{f}: {panels} panel(s), {points} data points, {legends} legend box(es): {'ok' if not problems else 'FAILED'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
