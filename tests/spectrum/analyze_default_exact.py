#!/usr/bin/python3
"""`hessa analyze` of the embedded default (784-16-10 tanh MLP at share/default-point, n =
12730) gets the exact full spectrum, not estimates: basis full_spectrum, counts from all
12730 eigenvalues. Independent check: SLEPc's Krylov-Schur extremes of the same run (a
different method on the unassembled operator) equal the ends of the assembled spectrum to
1e-8 of the largest eigenvalue, and the smallest is positive (the default point is a strict
minimum), so the exact counts are 0 negative, 0 zero, 12730 positive.
One rank count only (the slowest test of the suite: 540 s of CPU over both ranks, about 5 minutes on 2 idle cores).
usage: analyze_default_exact.py MPIEXEC HESSA WORKDIR NP
"""
import json, os, shutil, subprocess, sys

MPIEXEC, HESSA, WORK, NP = sys.argv[1:5]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1")


def check(cond, msg):
    if not cond:
        sys.exit(f"analyze_default_exact on {NP} ranks: {msg}")


out = os.path.join(WORK, f"analyze_default_exact_np{NP}")
shutil.rmtree(out, ignore_errors=True)
cmd = [MPIEXEC, "-n", NP, "--oversubscribe", HESSA, "analyze", "-hessa_analyze_output", out, "-quiet"]
r = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
check(r.returncode == 0, f"exit {r.returncode}\n{' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
rep = json.load(open(os.path.join(out, "report.json")))
v, res = rep["verdict"], rep["results"]
check(v["basis"] == "full_spectrum", f"basis {v['basis']}, expected full_spectrum")
values = res["full_spectrum"]["values"]
check(len(values) == 12730, f"{len(values)} eigenvalues, expected 12730")
top = max(abs(x) for x in values)
ex = res["extremes"]
check(ex["smallest"] and ex["largest"], f"no converged extremes: {ex}")
smallest, largest = ex["smallest"][0]["value"], ex["largest"][0]["value"]
check(abs(smallest - min(values)) <= 1e-8 * top, f"SLEPc smallest {smallest} vs full {min(values)}")
check(abs(largest - max(values)) <= 1e-8 * top, f"SLEPc largest {largest} vs full {max(values)}")
check(min(values) > 0, f"smallest eigenvalue {min(values)}: the default point is a strict minimum")
c = v["counts"]
check((c["negative"], c["zero"], c["positive"]) == (0, 0, 12730), f"counts {c}, expected 0 / 0 / 12730")
