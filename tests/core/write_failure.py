#!/usr/bin/python3
"""Every writer goes through the core's atomic files: a failed write never leaves a file
(or half a record) under a final name, and ends every rank with one clear message.

usage: write_failure.py MPIEXEC HESSA WORKDIR NP CASE
The fault comes from HESSA_TEST_FAIL_WRITE=PATTERN[@k] (core.h: the k-th and later
writes of a file whose name matches PATTERN fail with ENOSPC after their data went to
the temporary file), or, in case tmpfs, from a real 12 KiB tmpfs that fills up.
  analyze   report.json, a CSV, the PNG plots: exit != 0, "cannot write '<file>'",
            that file absent, no *.tmp left; report.json absent (it is written last)
  train     the first append to train_log.csv: the log keeps its whole rows only;
            a checkpoint NPY: no checkpoint folder or state file of that step; train.json
  landscape plane.csv and the direction NPY files
  study     the first append to results.jsonl: no line, exit != 0
  tmpfs     hessa analyze into a full tmpfs (needs root: skipped, exit 77, otherwise)
"""
import glob, os, re, shutil, subprocess, sys

MPIEXEC, HESSA, WORK, NP, CASE = sys.argv[1:6]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1")
TOY = ["-hessa_model", "linear-toy", "-hessa_model_point", "0.3,0.1"]


def fail(msg):
    sys.exit(f"write_failure {CASE} on {NP} ranks: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


def folder(tag):
    out = os.path.join(WORK, f"write_failure_{CASE}_{tag}_np{NP}")
    shutil.rmtree(out, ignore_errors=True)
    return out


def hessa(command, args, pattern=None, expect_ok=False):
    env = dict(ENV)
    env.pop("HESSA_TEST_FAIL_WRITE", None)
    if pattern:
        env["HESSA_TEST_FAIL_WRITE"] = pattern
    cmd = [MPIEXEC, "-n", NP, "--oversubscribe", HESSA, command] + args + ["-quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    if expect_ok:
        check(r.returncode == 0, f"exit {r.returncode}\n{' '.join(cmd)}\n{r.stderr}")
    else:
        check(r.returncode != 0, f"pattern {pattern}: exit 0 although a write failed\n{' '.join(cmd)}")
    return r


def failed_path(r, verb="write"):
    """The file named by the one error message; there must be exactly one such line."""
    lines = [l for l in r.stderr.splitlines() if l.startswith("hessa: error:")]
    check(len(lines) == 1, f"expected one error line, found {len(lines)}:\n{r.stderr}")
    m = re.search(r"cannot %s '([^']+)'" % ("append to" if verb == "append" else "write"), lines[0])
    check(m, f"the message does not name the file: {lines[0]}")
    return m.group(1)


def no_temporaries(out):
    complete(out)
    left = [p for p in glob.glob(os.path.join(out, "**", "*"), recursive=True) if ".tmp" in os.path.basename(p)]
    check(not left, f"temporary files left behind: {left}")


def complete(out):
    """Every file left under a final name is whole: PNG to its IEND chunk, SVG to </svg>,
    JSON and NPY parse, text ends with a newline."""
    import json
    import numpy as np
    for p in glob.glob(os.path.join(out, "**", "*"), recursive=True):
        if os.path.isdir(p):
            continue
        data = open(p, "rb").read()
        check(data, f"{p} is empty")
        if p.endswith(".png"):
            check(data.endswith(b"IEND\xaeB`\x82"), f"{p} is not a whole PNG")
        elif p.endswith(".svg"):
            check(data.rstrip().endswith(b"</svg>"), f"{p} is not a whole SVG")
        elif p.endswith(".json"):
            json.loads(data)
        elif p.endswith(".npy"):
            np.load(p)
        else:
            check(data.endswith(b"\n"), f"{p} does not end with a newline")


def absent(path, why):
    check(not os.path.exists(path), f"{path} exists after its write failed ({why})")


def analyze():
    for pattern, name in [("report.json", "report.json"), ("eigenvalues.csv", "eigenvalues.csv"), ("*.png", None)]:
        out = folder(pattern.replace("*", "all"))
        r = hessa("analyze", TOY + ["-hessa_analyze_output", out], pattern)
        path = failed_path(r)
        check(name is None or os.path.basename(path) == name, f"{pattern}: the message names {path}")
        absent(path, pattern)
        absent(os.path.join(out, "report.json"), "report.json is written last")
        no_temporaries(out)


def train():
    args = TOY + ["-hessa_train_steps", "3", "-hessa_train_checkpoint_every", "1"]
    # the first append (the row of step 0) fails: the log keeps its header only
    out = folder("log")
    path = failed_path(hessa("train", args + ["-hessa_train_output", out], "train_log.csv@2"), "append")
    text = open(path).read()
    check(text == "step,loss,gradient_norm,lambda_max\n", f"{path} after a failed append: {text!r}")
    no_temporaries(out)
    # the second checkpoint's first NPY fails: no folder or state of that step
    out = folder("npy")
    path = failed_path(hessa("train", args + ["-hessa_train_output", out], "*.npy@3"))
    absent(path, "*.npy@3")
    check(os.path.isdir(os.path.join(out, "step-000001")), "the first checkpoint is missing")
    check(not glob.glob(os.path.join(out, "step-000002*")), f"half a checkpoint of step 2: {glob.glob(os.path.join(out, 'step-000002*'))}")
    no_temporaries(out)
    out = folder("summary")
    absent(failed_path(hessa("train", args + ["-hessa_train_output", out], "train.json")), "train.json")
    no_temporaries(out)


def landscape():
    for pattern in ["plane.csv", "direction_*.npy"]:
        out = folder(pattern.replace("*", "all"))
        r = hessa("landscape", ["-hessa_model", "linear-toy", "-hessa_model_point", "0.5,0.5", "-hessa_landscape_plane",
                                "-hessa_landscape_points", "5", "-hessa_landscape_output", out], pattern)
        absent(failed_path(r), pattern)
        no_temporaries(out)


def study():
    points = folder("points")
    hessa("train", TOY + ["-hessa_train_steps", "1", "-hessa_train_checkpoint_every", "1", "-hessa_train_output", points], expect_ok=True)
    out = folder("study")
    r = hessa("study", ["-hessa_study_manifest", points, "-hessa_study_output", out], "results.jsonl")
    path = failed_path(r, "append")
    absent(path, "its first append failed")
    no_temporaries(out)


def tmpfs():
    if os.geteuid() != 0:
        sys.exit(77)
    mnt = folder("mnt")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", mnt], capture_output=True).returncode != 0:
        sys.exit(77)  # no mount rights (a container without CAP_SYS_ADMIN)
    try:
        out = os.path.join(mnt, "report")
        r = hessa("analyze", TOY + ["-hessa_analyze_output", out])
        absent(failed_path(r), "the disk was full")
        absent(os.path.join(out, "report.json"), "report.json is written last")
        no_temporaries(out)
    finally:
        subprocess.run(["umount", mnt])


{"analyze": analyze, "train": train, "landscape": landscape, "study": study, "tmpfs": tmpfs}[CASE]()
