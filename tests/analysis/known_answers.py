#!/usr/bin/python3
"""`hessa analyze` on points whose whole spectrum is known in closed form, on both bases.

usage: known_answers.py MPIEXEC HESSA DEEP_LINEAR_PLUGIN WORKDIR NP CASE

Each case runs twice on NP ranks: on the full-spectrum basis (-hessa_analyze_full true) and
on the extremes basis (-hessa_analyze_full false: extreme pairs, SLQ density), with
-hessa_analyze_k 8, and checks against the truth: the verdict type, the counts of negative,
zero and positive eigenvalues (exact on the full basis; on the extremes basis exact because
the 8 smallest reach a positive eigenvalue), the fractions, and that both bases agree.

Deep linear networks (Baldi & Hornik 1989; tests/analysis/deep_linear.c): L = 1/2 |W2 W1 - A|_F^2,
A = diag(sigma), W1 p x d, at the critical point keeping the principal directions I (|I| = p).
With E = (E1, E2), the second-order change is 1/2 |W2 E1 + E2 W1|^2 + <W2 W1 - A, E2 E1>; it
splits into 2 x 2 blocks: for a in I, j not in I the pair (E1[k, j], E2[j, k]) has
[[s_a, -s_j], [-s_j, s_a]] (eigenvalues s_a +- s_j), and for a, b in I the pair
(E1[k, b], E2[a, l]) has a rank-one block (eigenvalues s_a + s_b and 0). Index:
#{(a, j): sigma_j > sigma_a}; the p^2 zeros are the GL(p) symmetry W1 -> G W1, W2 -> W2 G^-1.
  linear_min     sigma 6..1 (d 6), I = {0, 1}: the global minimum: no negative eigenvalue, 4 zeros:
                 degenerate, and no probe may find the loss falling (it is the global minimum)
  linear_saddle  the same with I = {1, 3}: index 3, 4 zeros -> saddle of index exactly 3
  linear_wide    d 40, p 3 (n 240), I = {0, 2, 5}: index 1 + 3 = 4
Quadratics 1/2 x^T Q diag(lambda) Q^T x at 0 (n 120, top eigenvalue L = 1000):
  tiny_negative  one negative eigenvalue -1e-7 L, the rest in [10, 500] and L: saddle of index 1
  near_tol_min   5e-9 L and 6e-9 L (below the solver tolerance 1e-8 L, no gap between them to
                 sharpen the bound) and the rest positive: minimum; the extremes basis must
                 refine the smallest end and say so
  near_tol_saddle -5e-9 L and 6e-9 L: saddle of index 1, refined
  near_tol_max   the negative of near_tol_min: maximum (the largest end's first solve is relative to
                 its own small eigenvalues, so it may need no refinement)
  spiked         bulk [0.1, 1], spikes 50..800 and -30, -20, -10: saddle of index 3
"""
import json, os, shutil, subprocess, sys
import numpy as np

MPIEXEC, HESSA, PLUGIN, WORK, NP, CASE = sys.argv[1:7]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1")
L = 1000.0


def fail(msg):
    sys.exit(f"known answer {CASE} on {NP} ranks: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


def analyze(args, tag, k=8):
    out = os.path.join(WORK, f"known_{CASE}_{tag}_np{NP}")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [MPIEXEC, "-n", NP, "--oversubscribe", HESSA, "analyze"] + args + ["-hessa_analyze_k", str(k), "-hessa_analyze_output", out, "-quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=240)
    check(r.returncode == 0, f"exit {r.returncode}\n{' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    report = json.load(open(os.path.join(out, "report.json")))
    md = open(os.path.join(out, "report.md")).read()
    return report, md


def deep_linear(sigma, subset):
    sigma = np.asarray(sigma, float)
    rest = [j for j in range(len(sigma)) if j not in subset]
    ev = [sigma[a] + sigma[b] for a in subset for b in subset] + [0.0] * len(subset) ** 2
    ev += [sigma[a] + sigma[j] for a in subset for j in rest] + [sigma[a] - sigma[j] for a in subset for j in rest]
    args = ["-hessa_model", "plugin", "-hessa_plugin_file", PLUGIN,
            "-hessa_plugin_options", "sigma=" + ",".join(repr(float(s)) for s in sigma) + " subset=" + ",".join(str(i) for i in subset)]
    return np.sort(np.array(ev)), args


def quadratic(lam):
    lam = np.sort(np.asarray(lam, float))
    path = os.path.join(WORK, f"known_{CASE}_np{NP}.txt")
    np.savetxt(path, lam, fmt="%.17g")
    return lam, ["-hessa_model", "quadratic", "-hessa_model_dim", str(len(lam)), "-hessa_model_spectrum", path]


def truth_counts(ev):
    neg, zero = int(np.sum(ev < 0)), int(np.sum(ev == 0))
    return neg, zero, len(ev) - neg - zero


def truth_type(neg, zero, pos):
    if neg and pos:
        return "saddle"
    if not neg and not zero:
        return "local_minimum"
    if not pos and not zero:
        return "local_maximum"
    return "degenerate"


def setup():
    bulk = lambda m: list(np.linspace(0.01 * L, 0.5 * L, m))
    n = 120
    if CASE == "linear_min":
        return deep_linear([6, 5, 4, 3, 2, 1], [0, 1])
    if CASE == "linear_saddle":
        return deep_linear([6, 5, 4, 3, 2, 1], [1, 3])
    if CASE == "linear_wide":
        return deep_linear(list(np.linspace(8, 1, 40)), [0, 2, 5])
    if CASE == "tiny_negative":
        return quadratic([-1e-7 * L] + bulk(n - 2) + [L])
    if CASE == "near_tol_min":
        return quadratic([5e-9 * L, 6e-9 * L] + bulk(n - 3) + [L])
    if CASE == "near_tol_saddle":
        return quadratic([-5e-9 * L, 6e-9 * L] + bulk(n - 3) + [L])
    if CASE == "near_tol_max":
        return quadratic([-x for x in [5e-9 * L, 6e-9 * L] + bulk(n - 3) + [L]])
    if CASE == "spiked":
        return quadratic([-30, -20, -10] + list(np.linspace(0.1, 1, n - 8)) + [50, 100, 200, 400, 800])
    fail("unknown case")


def main():
    ev, args = setup()
    k = 16 if CASE == "linear_wide" else 8  # the 8 smallest would not reach past its 4 + 9 non-positive eigenvalues
    if CASE.startswith("near_tol"):
        args += ["-hessa_analyze_eps_tol", "1e-3"]  # a loose first solve leaves the small pairs unresolved
    n = len(ev)
    neg, zero, pos = truth_counts(ev)
    want = truth_type(neg, zero, pos)
    scale = np.max(np.abs(ev))
    verdicts = {}
    for basis, extra in (("full", ["-hessa_analyze_full", "true"]), ("extremes", ["-hessa_analyze_full", "false"])):
        r, md = analyze(args + extra, basis, k)
        v = r["verdict"]
        verdicts[basis] = v["type"]
        check(v["basis"] == ("full_spectrum" if basis == "full" else "extremes_and_density"), f"{basis}: basis {v['basis']}")
        check(v["type"] == want, f"{basis}: verdict {v['type']}, the truth is {want} ({neg} negative, {zero} zero, {pos} positive)\n{v['summary']}")
        c = v["counts"]
        check(v["counts_exact"] and (c["negative"], c["zero"], c["positive"]) == (neg, zero, pos),
              f"{basis}: counts {c} (exact: {v['counts_exact']}), the truth is {neg}/{zero}/{pos}")
        check(c["n"] == n, f"{basis}: n {c['n']}, expected {n}")
        check(v["fraction_source"] == "exact" and abs(v["negative_fraction"] - neg / n) < 1e-15 and abs(v["minimum_ratio"] - pos / n) < 1e-15,
              f"{basis}: fractions {v['negative_fraction']}, {v['minimum_ratio']} ({v['fraction_source']}), expected {neg / n}, {pos / n}")
        check(abs(v["lambda_min"] - ev[0]) <= 1e-9 * scale and abs(v["lambda_max"] - ev[-1]) <= 1e-9 * scale,
              f"{basis}: extremes {v['lambda_min']}, {v['lambda_max']}, expected {ev[0]}, {ev[-1]}")
        if basis == "full":
            got = np.array(r["results"]["full_spectrum"]["values"])
            check(np.max(np.abs(got - ev)) <= 1e-10 * scale, f"full spectrum differs from the closed form by {np.max(np.abs(got - ev))}")
            fs = r["results"]["full_spectrum"]
            check((fs["negative"], fs["zero"], fs["positive"]) == (neg, zero, pos), f"full_spectrum section counts {fs['negative']}/{fs['zero']}/{fs['positive']} differ from the verdict's")
        # every computed pair lies within its error bound of a true eigenvalue, and a stated sign is that eigenvalue's
        for end in ("smallest", "largest"):
            for i, p in enumerate(v["eigenvalue_signs"][end]):
                t = ev[np.argmin(np.abs(ev - p["value"]))]
                check(abs(p["value"] - t) <= p["error_bound"] + 1e-12 * scale, f"{basis}: {end} pair {i}: |{p['value']} - {t}| above its error bound {p['error_bound']}")
                if p["sign"] != "zero":
                    check((p["sign"] == "negative") == (t < 0) and t != 0, f"{basis}: {end} pair {i} ({p['value']}) called {p['sign']}, true eigenvalue {t}")
        if basis == "extremes":
            d = r["results"]["density"]
            check(abs(d["near_zero_width"]) > 0, "the density states no near-zero width")
            if CASE in ("near_tol_min", "near_tol_saddle"):  # (the largest end is solved to a tolerance relative to itself)
                end = "smallest"
                ref = v["refinement"].get(end)
                if ref is None:
                    # the first solve may already resolve every sign at that end (the solver's
                    # own accuracy beats the requested tolerance): then nothing needs refining,
                    # and every pair there must carry a resolved sign equal to the truth's
                    pairs = v["eigenvalue_signs"][end]
                    truth = ["negative" if x < 0 else "positive" for x in sorted(ev)[: len(pairs)]]
                    check(pairs and [p["sign"] for p in pairs] == truth, f"the {end} end was neither refined nor resolved: {pairs}")
                else:
                    check(ref["rounds"] >= 1 and ref["tolerance_final"] < ref["tolerance_start"], f"the {end} end was not refined: {v['refinement']}")
                    check(f"**Refined** the {end} end" in md, "report.md does not say that the end was refined")
        if want == "degenerate":
            # the global minimum of a deep linear network: the loss cannot fall anywhere
            check(v.get("degenerate_kind") in ("rises_along_every_probe", "inconclusive") and v.get("probes_falling") == 0, f"{basis}: probes {v.get('degenerate_kind')}, {v.get('probes_falling')} falling at a global minimum")
            check(v.get("probes_along_zero_curvature", 0) >= 1, f"{basis}: no zero-curvature direction probed")
    check(verdicts["full"] == verdicts["extremes"], f"the bases disagree: {verdicts}")


main()
