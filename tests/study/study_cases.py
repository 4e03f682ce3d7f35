#!/usr/bin/python3
"""`hessa study` end to end.

usage: study_cases.py MPIEXEC HESSA WORKDIR CASE
  reference     (the fixture of alone, pair, groups1, groups2) writes the points and the
                manifest into WORKDIR/study_reference and runs `hessa analyze` on each point
                alone on 1 rank: the reports the four study cases are compared with, made once
  alone, pair   the same as groups1 on 1 rank (rank 0 collects and analyses in turn) and on
                2 ranks (one collector, one worker)
  groups1       3 ranks, groups of 1: every point's line equals `hessa analyze` of that point
                alone on 1 rank (loss, |g|, lambda_min/max, counts, verdict; 1e-9 relative),
                the analytic points equal background.md's closed forms, the missing
                checkpoint is reported as failed with its reason and the rest goes on
  groups2       4 ranks (oversubscribed), groups of 2: the same
  sigterm       SIGTERM to every rank of a running 3-rank study: exit status 75, a partial
                report, no line lost or duplicated; the rerun skips the finished points
                (their reports are not rewritten) and completes the study
  truncated     a results.jsonl whose last line was cut short by a kill: the line is
                dropped, its point analysed again, nothing duplicated
  folder        a folder of weight folders as the manifest: one point per sub-folder
  bad_yaml, bad_key, bad_duplicate, bad_empty, bad_name, bad_type, bad_missing_manifest
                malformed manifests: one clear message, non-zero exit on every rank (1 and 3 ranks)
"""
import json, os, shutil, signal, subprocess, sys, time
import numpy as np

MPIEXEC, HESSA, WORK, CASE = sys.argv[1:5]
HERE = os.path.join(WORK, f"study_{CASE}")
REFERENCE = os.path.join(WORK, "study_reference")  # written by the reference case (a ctest fixture)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from weight_folders import save_analytic, save_mlp
from case_helpers import Case, hessa_env

ENV = hessa_env()
C = Case(f"study case {CASE}", MPIEXEC, HESSA, ENV, timeout=300)
fail, check, run = C.fail, C.check, C.run


def close(a, b, tol, what):
    check(a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(b)), f"{what} = {a}, expected {b} (tol {tol})")


BLOBS = {"hessa_data_source": "blobs", "hessa_data_samples": "600", "hessa_data_dim": "4"}
# name -> (weights, point options, closed form: (verdict, lambda_min, lambda_max) or None)
ANALYTIC = {
    "toy-origin": ("linear-toy", [0, 0], ("saddle", -2.0, 2.0)),           # background.md 3
    "toy-valley": ("linear-toy", [2, 0.5], ("degenerate", 0.0, 8.5)),      # 2 (w1^2 + w2^2)
    "x2-plus-y4": ("x2+y4", [0, 0], ("degenerate", 0.0, 2.0)),             # background.md 2
    "x2-minus-y4": ("x2-y4", [0, 0], ("degenerate", 0.0, 2.0)),
    "toy-slope": ("linear-toy", [0.3, 0.2], ("not_critical", None, None)),
}


def make_points(n_mlp=2, slow=False, here=None):
    """Weight folders and a manifest in here (default HERE); returns (manifest path,
    {name: (weights, options)})."""
    here = here or HERE
    shutil.rmtree(here, ignore_errors=True)
    os.makedirs(here)
    points = {}
    lines = ["# study test manifest", "options:", "  hessa_analyze_trace: 10", "points:"]
    if not slow:
        for name, (model, theta, _) in ANALYTIC.items():
            save_analytic(f"{here}/pts/{name}", model, theta)
            points[name] = (f"{here}/pts/{name}", {})
            lines.append(f"  - {{name: {name}, weights: pts/{name}}}")
        lines.append("  - {name: missing, weights: pts/does-not-exist}")
    data = dict(BLOBS)
    if slow:  # about 2 s per point
        data.update({"hessa_data_samples": "2000", "hessa_data_dim": "20"})
    for k in range(n_mlp):
        widths = [int(data["hessa_data_dim"]), 6 if not slow else 32, 3]
        save_mlp(f"{here}/pts/mlp-{k}", widths, k + 1)
        points[f"mlp-{k}"] = (f"{here}/pts/mlp-{k}", data)
        opts = ", ".join(f"{a}: {b}" for a, b in data.items())
        lines.append(f"  - name: mlp-{k}\n    weights: pts/mlp-{k}\n    step: {10 * k}\n    series: blobs\n    options: {{{opts}}}")
    path = f"{here}/manifest.yaml"
    open(path, "w").write("\n".join(lines) + "\n")
    return path, points


def read_lines(out):
    lines = [json.loads(l) for l in open(f"{out}/results.jsonl")]
    names = [l["name"] for l in lines]
    check(len(names) == len(set(names)), f"results.jsonl has duplicated points: {names}")
    return {l["name"]: l for l in lines}


def alone(name, weights, options):
    """`hessa analyze` of one point alone on 1 rank, into REFERENCE/alone-NAME."""
    out = f"{REFERENCE}/alone-{name}"
    args = ["analyze", "-quiet", "-hessa_analyze_trace", "10", "-hessa_model_weights", weights, "-hessa_analyze_output", out]
    for k, v in options.items():
        args += [f"-{k}", v]
    run(1, args)


def case_reference():
    """The fixture: the points, their manifest and each point's report alone, made once for
    the four study cases that compare with them."""
    manifest, points = make_points(here=REFERENCE)
    for name, (weights, options) in points.items():
        alone(name, weights, options)
    json.dump({"manifest": manifest, "points": points}, open(f"{REFERENCE}/points.json", "w"))


def reference_points():
    """The fixture's manifest and points, as make_points returned them."""
    path = f"{REFERENCE}/points.json"
    check(os.path.exists(path), f"{path} missing: the study_reference test (the fixture) did not run")
    ref = json.load(open(path))
    return ref["manifest"], {name: tuple(p) for name, p in ref["points"].items()}


def check_against_alone(lines, points):
    for name, (weights, options) in points.items():
        line = lines.get(name)
        check(line is not None and line["status"] == "ok", f"point {name}: {line}")
        rep = json.load(open(f"{REFERENCE}/alone-{name}/report.json"))
        v = rep["verdict"]
        check(line["verdict"] == v["type"], f"{name}: verdict {line['verdict']} vs alone {v['type']}")
        for key, ref in (("loss", rep["results"]["loss"]), ("gradient_norm", rep["results"]["gradient_norm"]),
                         ("lambda_min", v["lambda_min"]), ("lambda_max", v["lambda_max"]), ("minimum_ratio", v["minimum_ratio"])):
            close(line[key], ref, 1e-9, f"{name}: {key}")
        for key in ("negative", "zero", "positive", "n"):
            check(line[key] == v["counts"][key], f"{name}: {key} {line[key]} vs alone {v['counts'][key]}")
        if name in ANALYTIC:
            verdict, lmin, lmax = ANALYTIC[name][2]
            check(line["verdict"] == verdict, f"{name}: verdict {line['verdict']}, expected {verdict}")
            if lmin is not None:
                close(line["lambda_min"], lmin, 1e-10, f"{name}: lambda_min")
                close(line["lambda_max"], lmax, 1e-10, f"{name}: lambda_max")


def check_report(out, n_points, partial):
    study = json.load(open(f"{out}/study.json"))
    check(study["schema"] == "hessa-study" and study["partial"] == partial, f"study.json partial = {study['partial']}, expected {partial}")
    check(study["counts"]["points"] == n_points, f"study.json counts {study['counts']}")
    md = open(f"{out}/study.md").read()
    check(("PARTIAL" in md) == partial, "study.md does not say whether it is partial")
    csv_rows = open(f"{out}/results.csv").read().strip().split("\n")
    check(len(csv_rows) == 1 + len(open(f"{out}/results.jsonl").readlines()), "results.csv and results.jsonl disagree")
    return study


def case_groups(np_, group):
    manifest, points = reference_points()
    shutil.rmtree(HERE, ignore_errors=True)
    os.makedirs(HERE)
    out = f"{HERE}/out"
    r = run(np_, ["study", "-hessa_study_manifest", manifest, "-hessa_study_output", out, "-hessa_study_group_size", str(group)])
    lines = read_lines(out)
    check(len(lines) == len(points) + 1, f"{len(lines)} lines, expected {len(points) + 1}")
    missing = lines["missing"]
    check(missing["status"] == "failed" and "does-not-exist/model.json" in missing["error"] and "No such file" in missing["error"],
          f"missing checkpoint line: {missing}")
    check_against_alone(lines, points)
    study = check_report(out, len(points) + 1, False)
    check(study["counts"]["failed"] == 1 and study["counts"]["saddle"] >= 1, f"study counts {study['counts']}")
    groups = {l["group"] for l in lines.values()}
    expect_groups = set(range((np_ - 1 + group - 1) // group)) if np_ > 1 else {0}  # one rank: it collects and analyses
    check(groups <= expect_groups, f"groups {groups}, expected within {expect_groups}")
    for f in ("ratio_vs_loss.png", "verdicts.svg", "trajectory_gradient_norm.png"):
        check(os.path.getsize(f"{out}/{f}") > 1000, f"plot {f} missing or empty")
    check(f"{len(points)} analysed now, 1 failed" in r.stdout, f"summary line: {r.stdout}")


def case_sigterm():
    manifest, points = make_points(n_mlp=8, slow=True)
    out = f"{HERE}/out"
    cmd = [MPIEXEC, "-n", "3", "--oversubscribe", HESSA, "study", "-hessa_study_manifest", manifest, "-hessa_study_output", out]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    t0 = time.time()
    while time.time() - t0 < 120:
        if os.path.exists(f"{out}/results.jsonl") and len(open(f"{out}/results.jsonl").readlines()) >= 2:
            break
        time.sleep(0.1)
    else:
        p.kill()
        fail("no result within 120 s")
    # what Slurm does at a time limit: SIGTERM to every process of the job
    ranks = subprocess.run(["pgrep", "-f", f"hessa study -hessa_study_manifest {manifest}"], capture_output=True, text=True).stdout.split()
    ranks = [int(x) for x in ranks if int(x) != p.pid]
    check(len(ranks) == 3, f"expected 3 rank processes, found {ranks}")
    for pid in ranks:
        os.kill(pid, signal.SIGTERM)
    stdout, stderr = p.communicate(timeout=120)
    check(p.returncode == 75, f"exit status {p.returncode}, expected 75\n{stderr[-2000:]}")
    first = read_lines(out)
    check(2 <= len(first) < 8, f"{len(first)} points finished before the stop, expected 2..7")
    check_report(out, 8, True)
    stamps = {n: os.stat(f"{out}/points/{n}/report.json").st_mtime_ns for n in first}
    r = run(3, ["study", "-hessa_study_manifest", manifest, "-hessa_study_output", out])
    check(f"{len(first)} finished earlier" in r.stdout, f"rerun summary: {r.stdout}")
    lines = read_lines(out)
    check(sorted(lines) == sorted(points), f"after the rerun: {sorted(lines)}")
    for n, st in stamps.items():
        check(os.stat(f"{out}/points/{n}/report.json").st_mtime_ns == st, f"point {n} was analysed again")
        check(lines[n] == first[n], f"line of {n} changed")
    check_report(out, 8, False)
    check(subprocess.run(["pgrep", "-f", manifest], capture_output=True).returncode == 1, "a hessa process was left behind")


def case_truncated():
    manifest, points = make_points(n_mlp=3)
    out = f"{HERE}/out"
    run(2, ["study", "-hessa_study_manifest", manifest, "-hessa_study_output", out])
    full = open(f"{out}/results.jsonl").read().splitlines()
    victim = json.loads(full[-1])["name"]
    open(f"{out}/results.jsonl", "w").write("\n".join(full[:-1]) + "\n" + full[-1][: len(full[-1]) // 2])
    r = run(2, ["study", "-hessa_study_manifest", manifest, "-hessa_study_output", out])
    check("dropped" in r.stderr, f"the cut line was not reported:\n{r.stderr}")
    lines = read_lines(out)
    check(len(lines) == len(full), f"{len(lines)} lines after the rerun, expected {len(full)}")
    check(victim in lines, f"point {victim} was not analysed again")
    check_report(out, len(points) + 1, False)


def case_folder():
    shutil.rmtree(HERE, ignore_errors=True)
    for name, (model, theta, _) in ANALYTIC.items():
        save_analytic(f"{HERE}/ckpt/{name}", model, theta)
    os.makedirs(f"{HERE}/ckpt/not-a-checkpoint")
    out = f"{HERE}/out"
    run(2, ["study", "-hessa_study_manifest", f"{HERE}/ckpt", "-hessa_study_output", out, "-hessa_analyze_trace", "0"])
    lines = read_lines(out)
    check(sorted(lines) == sorted(ANALYTIC), f"points {sorted(lines)}")
    for name, (_, _, (verdict, lmin, lmax)) in ANALYTIC.items():
        check(lines[name]["verdict"] == verdict, f"{name}: {lines[name]['verdict']}")


BAD = {
    "bad_yaml": ("points:\n  - {name: a, weights: [unclosed\n", "not valid YAML"),
    "bad_key": ("points:\n  - {name: a, weights: w, colour: red}\n", "point 1: unknown key 'colour' (expected name, weights, checkpoints, step, series, options)"),
    "bad_duplicate": ("points:\n  - {name: a, weights: w}\n  - {name: a, weights: v}\n", "point name 'a' appears twice (points 1 and 2)"),
    "bad_empty": ("points: []\n", "the list of points is empty"),
    "bad_name": (b"points:\n  - {name: \"caf\\xe9\", weights: w}\n", "expected 1 to 127 letters, digits"),
    "bad_type": ("- just\n- a list\n", "expected a YAML mapping with 'points'"),
    "bad_step": ("points:\n  - {name: a, weights: w, step: -3}\n", "step: expected a non-negative integer, found '-3'"),
    "bad_both": ("points:\n  - {name: a, weights: w, checkpoints: c}\n", "expected exactly one of 'weights'"),
    "bad_missing_manifest": (None, "cannot open: No such file or directory"),
}


def case_bad():
    text, message = BAD[CASE]
    shutil.rmtree(HERE, ignore_errors=True)
    os.makedirs(HERE)
    path = f"{HERE}/manifest.yaml"
    if text is not None:
        open(path, "wb").write(text if isinstance(text, bytes) else text.encode())
    for np_ in (1, 3):
        r = run(np_, ["study", "-hessa_study_manifest", path, "-hessa_study_output", f"{HERE}/out"], timeout=30, expect=None)
        C.expect_error(r, message, f"{np_} ranks", "a malformed manifest")
        check(not os.path.exists(f"{HERE}/out/results.jsonl"), "results written for a malformed manifest")


if CASE == "reference":
    case_reference()
elif CASE == "alone":
    case_groups(1, 1)
elif CASE == "pair":
    case_groups(2, 1)
elif CASE == "groups1":
    case_groups(3, 1)
elif CASE == "groups2":
    case_groups(4, 2)
elif CASE == "sigterm":
    case_sigterm()
elif CASE == "truncated":
    case_truncated()
elif CASE == "folder":
    case_folder()
elif CASE in BAD:
    case_bad()
else:
    fail("unknown case")
