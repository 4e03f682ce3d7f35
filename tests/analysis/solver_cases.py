#!/usr/bin/env python3
"""hessa analyze: Newton at and away from a critical point, the exact and the Hutch++ trace,
and a refused eigensolver, on quadratics whose answers are closed forms.

usage: solver_cases.py MPIEXEC HESSA WORKDIR NP CASE   (silent on success)

The quadratic 1/2 x^T H x, n = 16 (-hessa_model_point takes at most 16 values), spectrum
lambda = linspace(0.5, 20, 16) (dense eigenvectors):
  newton_critical     at x = 1e-9 (1, ..., 1): |g| = |H x| <= 20 * 1e-9 * 4 < 1e-6, the
                      gradient tolerance: Newton is skipped with the reason (report.json
                      results.newton = {skipped, reason}, report.md says it); the origin (g = 0)
                      the same
  newton_noncritical  at x_i = i / 16: Newton's step is -x exactly, so MINRES converges
                      (relative residual <= 1e-8), the step norm is |x| (1e-6 relative) and
                      the loss after the step is 0 (<= 1e-10 of the loss); no note
  newton_unconverged  the same point with -hessa_newton_ksp_max_it 2: converged false and one
                      plain line (results.newton.note, report.md) saying MINRES did not converge
  trace_exact         full spectrum: trace method "exact", estimate = sum lambda = 164 (1e-12),
                      standard error 0; report.md says it is exact
  trace_hutchpp       no full spectrum, -hessa_trace_method hutchpp, 12 products: method
                      "hutch++", |estimate - 164| <= 4 standard errors + 1e-10 |164|
  eps_refused         -hessa_eps_type lanczos: one clear error naming krylovschur and arpack,
                      non-zero exit, no report
"""
import json, os, shutil, subprocess, sys
import numpy as np

MPIEXEC, HESSA, WORK, NP, CASE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1")
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "report.schema.json")
N = 16
LAM = np.linspace(0.5, 20, N)


def fail(msg):
    sys.exit(f"solver case {CASE} on {NP} ranks: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


def run(args, tag="", expect=0):
    out = os.path.join(WORK, f"solver_{CASE}{tag}_np{NP}")
    shutil.rmtree(out, ignore_errors=True)
    spec = os.path.join(WORK, f"solver_{CASE}_spectrum_np{NP}.txt")
    np.savetxt(spec, LAM, fmt="%.17g")
    cmd = [MPIEXEC, "-n", str(NP), "--oversubscribe", HESSA, "analyze", "-hessa_model", "quadratic", "-hessa_model_dim", str(N),
           "-hessa_model_spectrum", spec] + args + ["-hessa_analyze_output", out, "-quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=240)
    if expect == 0 and r.returncode != 0:
        fail(f"exit {r.returncode}\n{' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    if expect != 0:
        check(r.returncode != 0, f"exit status 0, expected an error\n{r.stdout}")
        check(not os.path.exists(os.path.join(out, "report.json")), "a report was written")
        return r.stdout + r.stderr, None
    report = json.load(open(os.path.join(out, "report.json")))
    try:
        import jsonschema
        jsonschema.validate(report, json.load(open(SCHEMA)))
    except ImportError:
        fail("python3-jsonschema is missing")
    return report, open(os.path.join(out, "report.md")).read()


def point(x):
    return ["-hessa_model_point", ",".join(f"{v:.17g}" for v in x)]


def main():
    x = np.arange(1, N + 1) / N
    if CASE == "newton_critical":
        for tag, p in (("_small", point(np.full(N, 1e-9))), ("_origin", [])):
            rep, md = run(p, tag)
            nt = rep["results"].get("newton")
            check(nt is not None and nt.get("skipped") is True, f"{tag}: results.newton = {nt}, expected skipped")
            check(nt["reason"].startswith("skipped: the gradient norm") and "critical point" in nt["reason"], f"{tag}: reason '{nt['reason']}'")
            check("Newton and saddle-free Newton skipped: the gradient norm" in md, f"{tag}: report.md does not say Newton was skipped")
            check("relative residual" not in md.split("## Newton step")[1].split("##")[0], f"{tag}: report.md shows a Newton residual")
    elif CASE in ("newton_noncritical", "newton_unconverged"):
        extra = ["-hessa_newton_ksp_max_it", "2"] if CASE == "newton_unconverged" else []
        rep, md = run(point(x) + extra)
        nt = rep["results"]["newton"]
        loss = rep["results"]["loss"] if "loss" in rep["results"] else None
        if CASE == "newton_noncritical":
            check(nt["converged"] is True and "note" not in nt, f"newton = {nt}")
            check(nt["relative_residual"] <= 1e-8, f"relative residual {nt['relative_residual']} > 1e-8")
            check(abs(nt["step_norm"] - np.linalg.norm(x)) <= 1e-6 * np.linalg.norm(x), f"step norm {nt['step_norm']}, expected |x| = {np.linalg.norm(x)}")
            # theta + d = x - x = 0, where the loss is 0
            check(abs(nt["loss_after_step"]) <= 1e-10 * max(1.0, loss or 1.0), f"loss after the step {nt['loss_after_step']}, expected 0")
            check("did not converge" not in md, "report.md says MINRES did not converge")
        else:
            check(nt["converged"] is False, f"newton = {nt}")
            check(nt.get("note", "").startswith("minres did not converge (DIVERGED_ITS after 2 iterations"), f"note '{nt.get('note')}'")
            check(f"**{nt['note']}.**" in md, "report.md lacks the one-line note")
    elif CASE == "trace_exact":
        rep, md = run([])
        t = rep["results"]["trace"]
        check(t["method"] == "exact" and t["exact"] is True and t["standard_error"] == 0 and t["samples"] == 0, f"trace = {t}")
        check(abs(t["estimate"] - LAM.sum()) <= 1e-12 * LAM.sum(), f"trace {t['estimate']}, expected {LAM.sum()}")
        check(f"exact: the sum of the {N} eigenvalues of the full spectrum" in md, "report.md does not say the trace is exact")
    elif CASE == "trace_hutchpp":
        rep, md = run(["-hessa_analyze_full", "0", "-hessa_trace_method", "hutchpp", "-hessa_analyze_trace", "12"])
        t = rep["results"]["trace"]
        check(t["method"] == "hutch++" and t["exact"] is False and t["samples"] == 12, f"trace = {t}")
        check(abs(t["estimate"] - LAM.sum()) <= 4 * t["standard_error"] + 1e-10 * LAM.sum(), f"Hutch++ {t['estimate']} +- {t['standard_error']}, exact {LAM.sum()}")
        check("hutch++ with 12 samples" in md, "report.md lacks the Hutch++ line")
    elif CASE == "eps_refused":
        text, _ = run(["-hessa_eps_type", "lanczos"], expect=1)
        check(text.count("hessa: error:") == 1, f"expected one error message, got:\n{text}")
        check("-hessa_eps_type lanczos is refused" in text and "Use krylovschur (the default) or arpack" in text, f"message:\n{text}")
    else:
        fail("unknown case")


main()
