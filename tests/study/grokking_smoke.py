#!/usr/bin/python3
"""The shipped transformer study (jobs/studies/grokking-transformer.sh) at a tiny size, on 2
ranks: p = 5, one block of width 8, 4 AdamW steps with weight decay, a checkpoint every 2.

usage: grokking_smoke.py MPIEXEC HESSA WORKDIR

Asserts: the script exits 0; train.json records the AdamW settings (beta2 0.98, weight decay
3); the grokking table (tools/grokking_accuracy.py) has one row per checkpoint (steps 2 and
4), accuracies in [0, 1], and its PyTorch cross-entropy agreed with hessa info's to 1e-8
relative (the tool fails otherwise); each of the four studies gave a finite lambda_max at
every checkpoint and the whole Hessian's lambda_max is at least each block's (a principal
submatrix's largest eigenvalue cannot exceed the matrix's: Cauchy interlacing), to 1e-6
relative."""
import csv
import json
import os
import shutil
import subprocess
import sys

MPIEXEC, HESSA, WORK = sys.argv[1:4]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(WORK, "grokking_smoke")


def fail(msg):
    sys.exit(f"grokking smoke: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


shutil.rmtree(OUT, ignore_errors=True)
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1", HESSA=HESSA, OUT=OUT,
           P="5", STEPS="4", EVERY="2", STUDY_STEPS="2 4", WIDTH="8", LAYERS="1", NP="2", PATH=os.path.dirname(MPIEXEC) + os.pathsep + os.environ.get("PATH", ""))
r = subprocess.run(["bash", os.path.join(ROOT, "jobs", "studies", "grokking-transformer.sh")], capture_output=True, text=True, env=env, timeout=280)
check(r.returncode == 0, f"the script exited {r.returncode}\n{r.stdout}\n{r.stderr}")
opts = json.load(open(os.path.join(OUT, "train", "train.json")))["options"]
check(opts.get("beta2") == 0.98 and opts.get("weight_decay") == 3, f"train.json options {opts}")
rows = list(csv.DictReader(open(os.path.join(OUT, "grokking.csv"))))
check([int(x["step"]) for x in rows] == [2, 4], f"grokking.csv steps {[x['step'] for x in rows]}, expected 2 and 4")
for x in rows:
    for kind in ("train", "test"):
        acc = float(x[f"{kind}_accuracy"])
        check(0 <= acc <= 1, f"step {x['step']}: {kind} accuracy {acc}")
    whole = float(x["all_lambda_max"])
    for block in ("embeddings", "attention", "mlp"):
        lam = float(x[f"{block}_lambda_max"])
        check(lam == lam and abs(lam) < 1e300, f"step {x['step']}: {block} lambda_max {lam}")
        check(lam <= whole + 1e-6 * abs(whole), f"step {x['step']}: {block} lambda_max {lam} above the whole Hessian's {whole}")
