#!/usr/bin/python3
"""`hessa analyze` takes the exact full spectrum exactly when it fits the per-rank memory
budget, on both sides of the limit: a quadratic (n = 1000, a prescribed spectrum of 60
negative, 940 positive eigenvalues, at its critical point) run with -hessa_full_memory_mb
1 byte below and 1 byte above the need that hessa computes (read from its own log line at a
1 MiB budget). Below: basis extremes_and_density (no full spectrum); above: basis
full_spectrum with the exact counts 60 / 0 / 940 of the closed form, every eigenvalue equal
to the prescribed one (1e-10 of the largest), and SLEPc's Krylov-Schur extremes of the same
run (the unassembled operator) equal to the ends of the assembled spectrum (1e-8).
This is the rule analyze_default_exact_np2 (label long, not in CI) checks on the embedded
default at n = 12730 in about 100 s; here it takes seconds.
usage: analyze_full_threshold.py MPIEXEC HESSA WORKDIR NP
"""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

MPIEXEC, HESSA, WORK, NP = sys.argv[1:5]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1")
MIB = 1024.0 * 1024.0
N_NEG, N_POS = 60, 940


def check(cond, msg):
    if not cond:
        sys.exit(f"analyze_full_threshold on {NP} ranks: {msg}")


here = os.path.join(WORK, f"analyze_full_threshold_np{NP}")
shutil.rmtree(here, ignore_errors=True)
os.makedirs(here)
lam = np.concatenate([np.linspace(-2.0, -0.1, N_NEG), np.linspace(0.05, 30.0, N_POS)])
np.savetxt(f"{here}/spectrum.txt", lam)
model = ["-hessa_model", "quadratic", "-hessa_model_dim", str(len(lam)), "-hessa_model_spectrum", f"{here}/spectrum.txt"]


def analyze(tag, budget_mb, *extra):
    out = f"{here}/{tag}"
    cmd = [MPIEXEC, "-n", NP, "--oversubscribe", HESSA, "analyze", *model, "-hessa_full_memory_mb", repr(budget_mb), "-hessa_analyze_output", out,
           "-hessa_report_plots", "false", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)
    check(r.returncode == 0, f"exit {r.returncode}\n{' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return json.load(open(f"{out}/report.json")), r.stdout + r.stderr


# the need, in bytes per rank, as hessa computes it (HessaFullSpectrumMemory)
_, log = analyze("probe", 1.0, "-hessa_analyze_density", "false", "-hessa_analyze_trace", "0", "-hessa_analyze_newton", "false")
m = re.search(rf"full spectrum: n = {len(lam)} needs about (\d+) bytes .* more than the budget of (\d+) bytes", log)
check(m is not None, f"no 'needs about N bytes ... more than the budget' line at a 1 MiB budget:\n{log}")
need = int(m.group(1))
check(need > MIB, f"need {need} bytes: not above the 1 MiB probe budget")

below, log = analyze("below", (need - 1) / MIB)
check(below["verdict"]["basis"] == "extremes_and_density", f"1 byte below the need ({need}): basis {below['verdict']['basis']}, expected extremes_and_density")
check("full_spectrum" not in below["results"], "1 byte below the need: a full spectrum was computed")
check(f"more than the budget of {need - 1} bytes" in log, f"1 byte below the need: the budget is not {need - 1} bytes:\n{log}")

above, log = analyze("above", (need + 1) / MIB)
v, res = above["verdict"], above["results"]
check(v["basis"] == "full_spectrum", f"1 byte above the need ({need}): basis {v['basis']}, expected full_spectrum\n{log}")
values = np.sort(np.array(res["full_spectrum"]["values"]))
check(len(values) == len(lam), f"{len(values)} eigenvalues, expected {len(lam)}")
top = np.abs(lam).max()
e = np.abs(values - np.sort(lam)).max() / top
check(e <= 1e-10, f"the full spectrum differs from the prescribed one by {e:.3e} of the largest")
ex = res["extremes"]
check(ex["smallest"] and ex["largest"], f"no converged extremes: {ex}")
for got, want, end in ((ex["smallest"][0]["value"], values[0], "smallest"), (ex["largest"][0]["value"], values[-1], "largest")):
    check(abs(got - want) <= 1e-8 * top, f"SLEPc {end} {got} vs the full spectrum's {want}")
c = v["counts"]
check((c["negative"], c["zero"], c["positive"]) == (N_NEG, 0, N_POS), f"counts {c}, expected {N_NEG} / 0 / {N_POS}")
check(v["type"] == "saddle", f"verdict {v['type']}, expected saddle")
