#!/usr/bin/python3
"""`hessa compare` end to end, at 1 and 3 ranks.

usage: compare_cases.py MPIEXEC HESSA WORKDIR CASE
  known     three study folders written here with known values (rows out of order, a failed
            point, quoted text with commas and quotes) and a loss folder of info.json files:
            compare.csv holds exactly those numbers (the same doubles, %.17g) in step order,
            empty where a point failed; compare.md has the table and the plots; the geometry
            sidecars (HESSA_PLOT_GEOMETRY) hold one line per study with its points in step
            order, placed by one affine map of the step and of log10 lambda_max (a log axis:
            positive values over decades) or of the negative fraction (linear); the three
            studies share their loss, so the loss plot has it once plus the loss source
  studies   hessa study run twice on a small MLP (two checkpoints) with two operator
            subsets, then hessa compare of the two: compare.csv equals each results.csv
            exactly, and hessa info -hessa_info_output gives the loss source
  bad_*     one bad input each: one error message naming the cause, non-zero exit on every
            rank, no compare.csv
"""
import json
import math
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from case_helpers import Case, hessa_env  # noqa: E402

MPIEXEC, HESSA, WORK, CASE = sys.argv[1:5]
ENV = hessa_env(HESSA_PLOT_GEOMETRY="1")
C = Case(f"compare case {CASE}", MPIEXEC, HESSA, ENV)
fail, check, run = C.fail, C.check, C.run
HERE = os.path.join(WORK, f"compare_{CASE}")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
COLUMNS = "name,status,series,step,loss,gradient_norm,critical,verdict,minimum_ratio,negative_fraction,lambda_min,lambda_max,n,negative,zero,positive,seconds,group,error".split(",")


# checkpoint name -> step (None: no step); rows of each results.csv are written in this order
POINTS = [("step-000200", 200), ("final", None), ("step-000000", 0), ("step-000100", 100)]
STUDIES = {
    # name: {checkpoint: (lambda_max, lambda_min, negative_fraction, loss) or None (failed)}
    "all": {"step-000000": (1.2345678901234567, -0.3333333333333333, 0.125, 2.302585092994046), "step-000100": (45.67891234567891, -0.01, 0.0625, 0.5),
            "step-000200": (987.6543210987654, -1e-5, 0.01, 0.0012345678901234567), "final": (990.0, -2e-5, 0.0, 0.001)},
    "attn": {"step-000000": (0.5, -0.25, 0.5, 2.302585092994046), "step-000100": None, "step-000200": (123.456, -7.5e-3, 0.2, 0.0012345678901234567), "final": (124.0, -1e-3, 0.3, 0.001)},
    "mlp": {"step-000000": (0.1, 0.0, 0.0, 2.302585092994046), "step-000100": (10.0, -0.5, 1.0, 0.5), "step-000200": (300.0, -1.5, 0.75, 0.0012345678901234567), "final": (310.0, -2.0, 0.7, 0.001)},
}
TEST_LOSS = {"step-000000": 2.3978952727983707, "step-000100": 2.9, "step-000200": 0.03125, "final": 0.015625}


def csv_field(v):
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


def write_study(folder, values, columns=COLUMNS, edit=None):
    os.makedirs(folder, exist_ok=True)
    lines = [",".join(columns)]
    for name, step in POINTS:
        v = values.get(name, "absent")
        if v == "absent":
            continue
        row = {c: "" for c in COLUMNS}
        row.update(name=f'"{name}"', status='"ok"', series='""', step=csv_field(step), group="1", seconds="0.5")
        if v is None:
            row.update(status='"failed"', error='"weights, shape: ""w"" missing"')
        else:
            row.update(lambda_max=csv_field(v[0]), lambda_min=csv_field(v[1]), negative_fraction=csv_field(v[2]), loss=csv_field(v[3]), verdict='"not_critical"', critical="false", n="10")
        if edit:
            edit(name, row)
        lines.append(",".join(row.get(c, "") for c in columns))
    open(f"{folder}/results.csv", "w").write("\n".join(lines) + "\n")


def write_losses(folder, losses):
    for name, loss in losses.items():
        os.makedirs(f"{folder}/{name}", exist_ok=True)
        json.dump({"schema": "hessa-info", "version": 1, "loss": loss, "gradient_norm": 0.1}, open(f"{folder}/{name}/info.json", "w"))


def setup_known():
    shutil.rmtree(HERE, ignore_errors=True)
    for s, values in STUDIES.items():
        write_study(f"{HERE}/study-{s}", values)
    write_losses(f"{HERE}/test", TEST_LOSS)


def compare_args(out, studies=None, loss=True):
    studies = studies or [f"{s}={HERE}/study-{s}" for s in STUDIES]
    args = ["compare", "-hessa_compare_studies", ",".join(studies), "-hessa_compare_output", out]
    return args + (["-hessa_compare_loss", f"test={HERE}/test"] if loss else [])


def read_csv(path):
    import csv
    rows = list(csv.reader(open(path, newline="")))
    return rows[0], rows[1:]


def affine_check(xs, ts, what, tol=1e-9):
    """ts = a + b xs for one (a, b): the drawn positions follow the data."""
    i, j = min(range(len(xs)), key=lambda k: xs[k]), max(range(len(xs)), key=lambda k: xs[k])
    check(xs[j] > xs[i], f"{what}: no spread to fit")
    b = (ts[j] - ts[i]) / (xs[j] - xs[i])
    a = ts[i] - b * xs[i]
    for x, t in zip(xs, ts):
        check(abs(a + b * x - t) <= tol, f"{what}: drawn at {t}, the affine map gives {a + b * x} (value {x})")
    check(b > 0, f"{what}: decreasing map")


def geometry(out, name, series, log_y):
    """series: list of [(step, y)] per line, in the order drawn; one affine map for all."""
    g = json.load(open(f"{out}/{name}.geometry.json"))
    check(len(g["panels"]) == 1, f"{name}: {len(g['panels'])} panels")
    pts = g["panels"][0]["points"]
    want = [p for s in series for p in s]
    check(len(pts) == len(want), f"{name}: {len(pts)} points drawn, expected {len(want)} ({[len(s) for s in series]} per line)")
    check(len(g["panels"][0]["legends"]) == 1, f"{name}: expected one legend")
    affine_check([p[0] for p in want], [q[0] for q in pts], f"{name} x")
    affine_check([math.log10(p[1]) if log_y else p[1] for p in want], [q[1] for q in pts], f"{name} y")


def case_known():
    setup_known()
    for np_ in (1, 3):
        out = f"{HERE}/out{np_}"
        r = run(np_, compare_args(out))
        check(r.stderr.strip() == "", f"{np_} ranks: stderr not empty:\n{r.stderr}")
        head, rows = read_csv(f"{out}/compare.csv")
        want_head = ["name", "step"] + [f"{s}_{w}" for s in STUDIES for w in ("lambda_max", "lambda_min", "negative_fraction", "loss")] + ["test_loss"]
        check(head == want_head, f"header {head}, expected {want_head}")
        order = ["step-000000", "step-000100", "step-000200", "final"]
        check([r[0] for r in rows] == order, f"rows {[r[0] for r in rows]}, expected {order}")
        steps = dict(POINTS)
        for row in rows:
            name = row[0]
            check(row[1] == ("" if steps[name] is None else str(steps[name])), f"{name}: step {row[1]!r}")
            k = 2
            for s, values in STUDIES.items():
                v = values[name]
                for w in range(4):
                    if v is None:
                        check(row[k] == "", f"{name} {s}: failed point, expected an empty field, found {row[k]!r}")
                    else:
                        check(row[k] != "" and float(row[k]) == v[w], f"{name} {head[k]}: {row[k]!r}, expected {v[w]!r} exactly")
                    k += 1
            check(float(row[k]) == TEST_LOSS[name], f"{name} test_loss: {row[k]!r}, expected {TEST_LOSS[name]!r}")
        md = open(f"{out}/compare.md").read()
        for p in ("compare_lambda_max", "compare_negative_fraction", "compare_loss"):
            check(f"![{p}]({p}.png)" in md, f"compare.md lacks the plot {p}")
            for ext in ("png", "svg"):
                check(os.path.getsize(f"{out}/{p}.{ext}") > 1000, f"{p}.{ext} missing or empty")
        check("loss (all, attn, mlp)" in md and "| test loss |" in md, "compare.md: the shared loss column or the test loss column is missing")
        # one line per study, points in step order (checkpoints without a step are not drawn)
        drawn = [name for name, _ in sorted(((n, s) for n, s in POINTS if s is not None), key=lambda p: p[1])]
        lines = lambda w: [[(steps[n], STUDIES[s][n][w]) for n in drawn if STUDIES[s][n] is not None] for s in STUDIES]
        geometry(out, "compare_lambda_max", lines(0), log_y=True)
        geometry(out, "compare_negative_fraction", lines(2), log_y=False)
        geometry(out, "compare_loss", [lines(3)[0], [(steps[n], TEST_LOSS[n]) for n in drawn]], log_y=True)
        r = subprocess.run([sys.executable, f"{ROOT}/tools/check_plot_geometry.py", out], capture_output=True, text=True)
        check(r.returncode == 0, f"layout: {r.stdout}{r.stderr}")


def case_studies():
    sys.path.insert(0, f"{ROOT}/tools")
    from weight_folders import save_mlp
    shutil.rmtree(HERE, ignore_errors=True)
    for k, step in enumerate((0, 10)):
        save_mlp(f"{HERE}/pts/step-{step:06d}", [4, 5, 3], k + 1)
    data = ["-hessa_data_source", "blobs", "-hessa_data_samples", "300", "-hessa_data_dim", "4"]
    analyze = ["-hessa_analyze_k", "2", "-hessa_analyze_newton", "false", "-quiet"]
    for name, subset in (("first", "layers.0.*"), ("second", "layers.1.*")):
        run(2, ["study", "-hessa_study_manifest", f"{HERE}/pts", "-hessa_study_output", f"{HERE}/study-{name}", "-hessa_operator_subset", subset] + data + analyze, timeout=300)
    for step in (0, 10):
        run(1, ["info", "-hessa_model_weights", f"{HERE}/pts/step-{step:06d}", "-hessa_info_output", f"{HERE}/test/step-{step:06d}", "-quiet"] + data)
    for np_ in (1, 3):
        out = f"{HERE}/out{np_}"
        run(np_, ["compare", "-hessa_compare_studies", f"first={HERE}/study-first,second={HERE}/study-second", "-hessa_compare_loss", f"test={HERE}/test", "-hessa_compare_output", out])
        head, rows = read_csv(f"{out}/compare.csv")
        check(len(rows) == 2, f"{len(rows)} rows, expected 2")
        for s in ("first", "second"):
            h, res = read_csv(f"{HERE}/study-{s}/results.csv")
            by_name = {r[h.index("name")]: r for r in res}
            for row in rows:
                src = by_name[row[0]]
                check(src[h.index("status")] == "ok", f"study {s} point {row[0]} failed")
                for w in ("lambda_max", "lambda_min", "negative_fraction", "loss"):
                    got, want = row[head.index(f"{s}_{w}")], src[h.index(w)]
                    check(got == want, f"{row[0]} {s}_{w}: {got!r}, results.csv has {want!r}")
        for row in rows:
            info = json.load(open(f"{HERE}/test/{row[0]}/info.json"))
            check(float(row[head.index("test_loss")]) == info["loss"], f"{row[0]} test_loss {row[-1]} != info.json {info['loss']}")
            check(float(row[head.index("first_loss")]) == float(row[head.index("second_loss")]), "the two subsets of one function have different losses")
            check(abs(info["loss"] - float(row[head.index("first_loss")])) <= 1e-12 * info["loss"], "hessa info and hessa study disagree on the loss of the same data")


def bad_setup():
    setup_known()
    return None


def edit_step(name, row):
    if name == "step-000100":
        row["step"] = "150"


def edit_number(name, row):
    if name == "step-000200":
        row["lambda_max"] = "1.5x"


BAD = {
    # case: (how to set up the inputs, compare arguments, expected message)
    "bad_steps": (lambda: write_study(f"{HERE}/study-attn", STUDIES["attn"], edit=edit_step), None, "checkpoint 'step-000100' has step 100 in study 'all'"),
    "bad_checkpoints": (lambda: write_study(f"{HERE}/study-mlp", {k: v for k, v in STUDIES["mlp"].items() if k != "step-000200"}), None, "study 'mlp' (" + "{HERE}/study-mlp/results.csv) has no checkpoint 'step-000200'"),
    "bad_column": (lambda: write_study(f"{HERE}/study-attn", STUDIES["attn"], columns=[c for c in COLUMNS if c != "lambda_max"]), None, "no column 'lambda_max'"),
    "bad_unknown_column": (lambda: write_study(f"{HERE}/study-attn", STUDIES["attn"], columns=COLUMNS + ["colour"]), None, "unknown column 'colour'"),
    "bad_number": (lambda: write_study(f"{HERE}/study-all", STUDIES["all"], edit=edit_number), None, "(checkpoint 'step-000200'): lambda_max: expected a finite number or nothing, found '1.5x'"),
    "bad_repeated": (None, ["all={HERE}/study-all", "all={HERE}/study-attn"], "the name 'all' is given twice"),
    "bad_empty": (None, ["all={HERE}/study-all", ""], "item 2 is empty"),
    "bad_no_equals": (None, ["{HERE}/study-all"], "has no '=' (expected NAME=FOLDER)"),
    "bad_missing_dir": (None, ["all={HERE}/study-all", "gone={HERE}/no-such-study"], "study 'gone': folder '{HERE}/no-such-study': No such file or directory"),
    "bad_loss": (lambda: os.remove(f"{HERE}/test/final/info.json"), None, "loss 'test', checkpoint 'final'"),
    "bad_cut_short": (lambda: open(f"{HERE}/study-mlp/results.csv", "a").write('"late",'), None, "cut short"),
}


def case_bad():
    setup, studies, message = BAD[CASE]
    setup_known()
    if setup:
        setup()
    studies = [s.replace("{HERE}", HERE) for s in studies] if studies else None
    message = message.replace("{HERE}", HERE)
    for np_ in (1, 3):
        out = f"{HERE}/out{np_}"
        r = run(np_, compare_args(out, studies), expect=None)
        C.expect_error(r, message, f"{np_} ranks")
        check(not os.path.exists(f"{out}/compare.csv"), f"{np_} ranks: compare.csv written for a bad input")


if CASE == "known":
    case_known()
elif CASE == "studies":
    case_studies()
elif CASE in BAD:
    case_bad()
else:
    fail("unknown case")
