#!/usr/bin/python3
"""`hessa analyze` end to end: the worked examples of background.md and closed forms.

usage: analyze_cases.py MPIEXEC HESSA WORKDIR NP CASE
Runs `mpiexec -n NP hessa analyze OPTIONS -hessa_analyze_output DIR` and checks report.json
(and the verdict line on stdout) against answers known independently of hessa:
  toy_saddle      (1 - w1 w2)^2 at (0,0): saddle, eigenvalues -2 and 2 (1e-10), escape
                  direction +-(1,1)/sqrt(2) (1e-8), the true loss falls both ways
  toy_valley      at (2, 0.5) on w1 w2 = 1: degenerate, eigenvalues 0 and 2 (w1^2 + w2^2) = 8.5
  x2_plus_y4      at the origin: degenerate, the probe along the zero direction rises
                  (rises_along_every_probe)
  x2_minus_y4     at the origin: degenerate, the probe falls: a degenerate saddle
  quadratic_pd    prescribed spectrum in [0.5, 20]: local minimum, condition number 40 (1e-8)
  quadratic_nd    negated spectrum: local maximum
  quadratic_index prescribed spectrum with 7 negative eigenvalues: saddle of index exactly 7
  teacher_tanh    teacher-student MLP (tanh, 34 parameters, 400 residuals) at the teacher:
                  loss 0, |g| ~ 0, G = H = J^T J full rank -> strict local minimum
  teacher_relu    the same with relu: each hidden unit's scaling symmetry
                  (w_in c, w_out / c) gives one zero eigenvalue -> degenerate, >= 4 zeros
  random_mlp      an initialised MLP on Fashion-MNIST: not a critical point; with positive
                  curvature along g, the loss at the best step is below the loss at theta
  ranks           the same analysis on 1, 2 and 3 ranks gives the same verdict and numbers (1e-8)
  bad_conflict    -hessa_model_weights with -hessa_mlp_hidden: clear error, no report
  bad_output      an output folder that cannot be created: clear error, no report
"""
import json, math, os, shutil, subprocess, sys
import numpy as np

MPIEXEC, HESSA, WORK, NP, CASE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1")
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "report.schema.json")


def fail(msg):
    sys.exit(f"analyze case {CASE} on {NP} ranks: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


def close(a, b, tol, what):
    check(a is not None and abs(a - b) <= tol * max(1.0, abs(b)), f"{what} = {a}, expected {b} (tol {tol})")


def analyze(args, np_=NP, tag=""):
    out = os.path.join(WORK, f"analyze_{CASE}{tag}_np{np_}")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [MPIEXEC, "-n", str(np_), "--oversubscribe", HESSA, "analyze"] + args + ["-hessa_analyze_output", out, "-quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=240)
    if r.returncode != 0:
        fail(f"exit {r.returncode}\n{' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    report = json.load(open(os.path.join(out, "report.json")))
    check(f"verdict: {report['verdict']['type']}" in r.stdout, "stdout lacks the verdict line")
    try:
        import jsonschema
        jsonschema.validate(report, json.load(open(SCHEMA)))
    except ImportError:
        fail("python3-jsonschema is missing")
    return report


def spectrum_file(values):
    path = os.path.join(WORK, f"spectrum_{CASE}_np{NP}.txt")
    np.savetxt(path, values)
    return path


def eigenvalues(r):
    return r["results"]["full_spectrum"]["values"]


def run():
    if CASE == "toy_saddle":
        r = analyze(["-hessa_model", "linear-toy", "-hessa_model_point", "0,0"])
        check(r["verdict"]["type"] == "saddle", f"verdict {r['verdict']['type']}")
        ev = eigenvalues(r)
        close(ev[0], -2, 1e-10, "lambda_1"), close(ev[1], 2, 1e-10, "lambda_2")
        check(r["verdict"]["counts"]["negative"] == 1, "index")
        e = r["results"]["escape"]
        d = e["direction"]
        check(abs(abs(d[0]) - 1 / math.sqrt(2)) < 1e-8 and abs(d[0] - d[1]) < 1e-8, f"escape direction {d}, expected +-(1,1)/sqrt(2)")
        check(e["descent_confirmed"], "descent not confirmed")
        for p in e["probes"]:  # L(a v) - L(0) = -a^2 + a^4 / 4 exactly
            a = p["alpha"]
            close(p["change_plus"], -a * a + a ** 4 / 4, 1e-12, f"change at +{a}")
            close(p["change_minus"], -a * a + a ** 4 / 4, 1e-12, f"change at -{a}")
    elif CASE == "toy_valley":
        r = analyze(["-hessa_model", "linear-toy", "-hessa_model_point", "2,0.5"])
        check(r["verdict"]["type"] == "degenerate", f"verdict {r['verdict']['type']}")
        ev = eigenvalues(r)
        close(ev[0], 0, 1e-10, "lambda_1"), close(ev[1], 2 * (4 + 0.25), 1e-10, "lambda_2")
    elif CASE in ("x2_plus_y4", "x2_minus_y4"):
        r = analyze(["-hessa_model", "x2+y4" if CASE == "x2_plus_y4" else "x2-y4", "-hessa_model_point", "0,0"])
        check(r["verdict"]["type"] == "degenerate", f"verdict {r['verdict']['type']}")
        ho = r["verdict"]["higher_order"]
        want = "rises" if CASE == "x2_plus_y4" else "falls"
        check(len(ho) == 1 and ho[0]["behaviour"] == want, f"higher-order probe {ho}, expected {want}")
        # falling along the zero direction with positive curvature elsewhere: a degenerate saddle
        kind = "rises_along_every_probe" if CASE == "x2_plus_y4" else "degenerate_saddle"
        check(r["verdict"]["degenerate_kind"] == kind, f"degenerate kind {r['verdict']['degenerate_kind']}, expected {kind}")
        sign = 1 if CASE == "x2_plus_y4" else -1
        for p in r["results"]["degenerate_probes"][0]["probes"]:  # along (0, +-1): +-alpha^4
            close(p["change_plus"], sign * p["alpha"] ** 4, 1e-12, "change along y")
    elif CASE in ("quadratic_pd", "quadratic_nd"):
        lam = np.linspace(0.5, 20, 60) * (1 if CASE == "quadratic_pd" else -1)
        r = analyze(["-hessa_model", "quadratic", "-hessa_model_dim", "60", "-hessa_model_spectrum", spectrum_file(lam)])
        want = "local_minimum" if CASE == "quadratic_pd" else "local_maximum"
        check(r["verdict"]["type"] == want, f"verdict {r['verdict']['type']}, expected {want}")
        close(max(eigenvalues(r)), max(lam), 1e-10, "lambda_max"), close(min(eigenvalues(r)), min(lam), 1e-10, "lambda_min")
        if CASE == "quadratic_pd":
            close(r["results"]["gradient_geometry"]["condition_number"], 40.0, 1e-8, "condition number")
    elif CASE == "quadratic_index":
        lam = np.concatenate([np.linspace(-3, -0.5, 7), np.linspace(0.2, 5, 93)])
        # the point defaults to the origin, the quadratic's critical point
        r = analyze(["-hessa_model", "quadratic", "-hessa_model_dim", "100", "-hessa_model_spectrum", spectrum_file(lam)])
        check(r["verdict"]["type"] == "saddle", f"verdict {r['verdict']['type']}")
        check(r["verdict"]["counts"]["negative"] == 7 and r["verdict"]["counts"]["positive"] == 93, f"counts {r['verdict']['counts']}")
        close(r["verdict"]["negative_fraction"], 0.07, 1e-12, "negative fraction")
    elif CASE in ("teacher_tanh", "teacher_relu"):
        act = "tanh" if CASE == "teacher_tanh" else "relu"
        r = analyze(["-hessa_data_source", "gaussian", "-hessa_data_dim", "5", "-hessa_data_targets", "2", "-hessa_data_samples", "200",
                     "-hessa_mlp_hidden", "4", "-hessa_mlp_activation", act, "-hessa_mlp_loss", "mse", "-hessa_model_init", "teacher",
                     "-hessa_model_seed", "3"])
        check(r["results"]["loss"] < 1e-28 and r["results"]["gradient_norm"] < 1e-14, f"loss {r['results']['loss']}, |g| {r['results']['gradient_norm']}")
        ev = np.array(eigenvalues(r))
        check(ev.min() > -r["verdict"]["zero_tolerance"], f"negative eigenvalue {ev.min()} at a global minimum")
        if act == "tanh":
            check(r["verdict"]["type"] == "local_minimum", f"verdict {r['verdict']['type']} (smallest {ev[:3]})")
        else:
            check(r["verdict"]["type"] == "degenerate", f"verdict {r['verdict']['type']}")
            check(r["verdict"]["counts"]["zero"] >= 4, f"{r['verdict']['counts']['zero']} zero eigenvalues, expected >= 4 (one scaling symmetry per hidden unit)")
    elif CASE == "random_mlp":
        r = analyze(["-hessa_data_limit", "300", "-hessa_mlp_hidden", "8", "-hessa_model_seed", "5", "-hessa_analyze_full", "false"])
        check(r["verdict"]["type"] == "not_critical", f"verdict {r['verdict']['type']}")
        geo = r["results"]["gradient_geometry"]
        check(geo["curvature_along_gradient"] > 0, "expected positive curvature along g")
        check(geo["true_decrease"] > 0, f"the loss at the best step is not lower: true decrease {geo['true_decrease']}")
        check("density" in r["results"], "no density for a large operator")
    elif CASE == "ranks":
        args = ["-hessa_data_source", "blobs", "-hessa_data_samples", "300", "-hessa_data_dim", "20", "-hessa_mlp_hidden", "8", "-hessa_model_seed", "2"]
        reports = [analyze(args, np_=p, tag=f"_{p}") for p in (1, 2, 3)]
        for p, r in zip((2, 3), reports[1:]):
            check(r["verdict"]["type"] == reports[0]["verdict"]["type"], f"verdict differs on {p} ranks")
            for key in ("lambda_min", "lambda_max", "gradient_norm", "negative_fraction"):
                close(r["verdict"][key], reports[0]["verdict"][key], 1e-8, f"{key} on {p} ranks")
            close(r["results"]["loss"], reports[0]["results"]["loss"], 1e-12, f"loss on {p} ranks")
            a, b = np.array(eigenvalues(r)), np.array(eigenvalues(reports[0]))
            check(np.max(np.abs(a - b)) <= 1e-8 * np.max(np.abs(b)), f"full spectrum differs on {p} ranks")
    elif CASE in ("bad_conflict", "bad_output"):
        out = os.path.join(WORK, f"analyze_{CASE}_np{NP}")
        shutil.rmtree(out, ignore_errors=True)
        if CASE == "bad_conflict":
            args, want = ["-hessa_model_weights", "/nonexistent", "-hessa_mlp_hidden", "8", "-hessa_analyze_output", out], "conflicting options"
        else:
            blocker = os.path.join(WORK, f"not_a_folder_np{NP}")
            open(blocker, "w").close()
            out = os.path.join(blocker, "report")
            args, want = ["-hessa_model", "linear-toy", "-hessa_analyze_output", out], f"output folder '{out}': cannot create"
        r = subprocess.run([MPIEXEC, "-n", NP, "--oversubscribe", HESSA, "analyze"] + args, capture_output=True, text=True, env=ENV, timeout=60)
        check(r.returncode != 0, "expected a non-zero exit")
        check(want in r.stderr and r.stderr.count("hessa: error:") == 1, f"expected one message with '{want}', got:\n{r.stderr}")
        check(not os.path.exists(os.path.join(out, "report.json")), "a report was written")
    else:
        fail("unknown case")


run()
