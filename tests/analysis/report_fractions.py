#!/usr/bin/python3
"""One number for each fraction: report.md and report.json of `hessa analyze` agree.

usage: report_fractions.py MPIEXEC HESSA WORKDIR NP

1. An SLQ-based analysis (an MLP on Gaussian blobs away from a critical point, extremes basis:
   -hessa_analyze_full false, -hessa_analyze_k 3 so the counts are not exact): every
   fraction shown in report.md (the heading, the summary in percent, the verdict's negative
   fraction and minimum ratio with standard errors, the density table's rows below -w, near
   zero and above +w, the width w) equals the one value report.json holds for it, to the
   printed digits; the verdict's fractions ARE the density's (same numbers, same w), and the
   markdown states the source of each (SLQ estimate, w in eigenvalue units).
2. A local minimum on the extremes basis (a quadratic with spectrum in [1, 20]): the verdict's
   fractions are exact (0 and 1), the density table is labelled as an estimate with its band
   w, and the report says why the two differ.
"""
import json, os, re, shutil, subprocess, sys
import numpy as np

MPIEXEC, HESSA, WORK, NP = sys.argv[1:5]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1")


def fail(msg):
    sys.exit(f"report fractions on {NP} ranks: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


def analyze(args, tag):
    out = os.path.join(WORK, f"fractions_{tag}_np{NP}")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [MPIEXEC, "-n", NP, "--oversubscribe", HESSA, "analyze"] + args + ["-hessa_analyze_output", out, "-quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=240)
    check(r.returncode == 0, f"exit {r.returncode}\n{' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return json.load(open(os.path.join(out, "report.json"))), open(os.path.join(out, "report.md")).read()


def same(shown, value, what):
    """shown: the text printed; value: report.json's number; equal to the printed digits."""
    x = float(shown)
    digits = len(re.sub(r"[^0-9]", "", shown.split("e")[0]).lstrip("0")) or 1
    tol = 0.51 * 10 ** (np.floor(np.log10(abs(value))) - digits + 1) if value != 0 else 1e-300
    check(abs(x - value) <= tol, f"{what}: report.md shows {shown}, report.json holds {value}")


def find(pattern, md, what):
    m = re.search(pattern, md)
    check(m, f"report.md lacks {what} (pattern {pattern})")
    return m


NUM = r"([-+0-9.e]+)"

# 1. SLQ-based fractions
r, md = analyze(["-hessa_data_source", "blobs", "-hessa_data_samples", "200", "-hessa_data_dim", "10", "-hessa_mlp_hidden", "6",
                 "-hessa_model_seed", "4", "-hessa_analyze_full", "false", "-hessa_analyze_k", "3"], "slq")
v, d = r["verdict"], r["results"]["density"]
check(v["fraction_source"] == "slq" and not v["counts_exact"], f"expected SLQ fractions, got {v['fraction_source']} (counts exact: {v['counts_exact']})")
for key in ("negative_fraction", "negative_fraction_se"):
    check(v[key] == d[key], f"verdict.{key} {v[key]} differs from density.{key} {d[key]}")
check(v["minimum_ratio"] == d["positive_fraction"] and v["minimum_ratio_se"] == d["positive_fraction_se"], "verdict.minimum_ratio differs from density.positive_fraction")
check(v["near_zero_width"] == d["near_zero_width"] and d["near_zero_width"] > 0, "the near-zero width differs between verdict and density")
check(abs(d["negative_fraction"] + d["near_zero_fraction"] + d["positive_fraction"] - 1) < 1e-12, "density fractions do not add up to 1")
m = find(r"\*\*Negative fraction\*\* " + NUM + r" \(SLQ estimate, standard error " + NUM + r": the density's weight below -w, w = " + NUM + r"\); \*\*minimum ratio\*\* " + NUM + r" \(SLQ estimate, standard error " + NUM, md, "the verdict's fractions")
same(m.group(1), v["negative_fraction"], "verdict negative fraction"), same(m.group(2), v["negative_fraction_se"], "its standard error")
same(m.group(3), v["near_zero_width"], "w"), same(m.group(4), v["minimum_ratio"], "minimum ratio"), same(m.group(5), v["minimum_ratio_se"], "its standard error")
m = find(r"fraction of eigenvalues \(SLQ estimate, w = " + NUM + r"\)", md, "the density table's width")
same(m.group(1), d["near_zero_width"], "density w")
for label, key in (("below -w", "negative_fraction"), (r"near zero \(\\\|lambda\\\| <= w\)", "near_zero_fraction"), (r"above \+w", "positive_fraction")):
    m = find(r"\| " + label + r" \| " + NUM + r" \| " + NUM + r" \|", md, f"the density row {label}")
    same(m.group(1), d[key], f"density {key}"), same(m.group(2), d[key + "_se"], f"density {key}_se")
check("are the rows below -w and above +w of this table" in md, "report.md does not say that the verdict's fractions are the density's rows")
if v["type"] == "saddle":
    m = find(r"SLQ estimate of the fraction of eigenvalues below -w: " + NUM + ", standard error " + NUM, md, "the heading's fraction")
    same(m.group(1), v["negative_fraction"], "heading fraction")
for m in re.finditer(r"fraction below -w " + NUM + "%", v["summary"]):
    same(m.group(1), 100 * v["negative_fraction"], "summary percent")

# 2. exact fractions beside an SLQ table
lam = np.linspace(1, 20, 150)
path = os.path.join(WORK, f"fractions_min_np{NP}.txt")
np.savetxt(path, lam)
r, md = analyze(["-hessa_model", "quadratic", "-hessa_model_dim", "150", "-hessa_model_spectrum", path, "-hessa_analyze_full", "false"], "exact")
v, d = r["verdict"], r["results"]["density"]
check(v["type"] == "local_minimum" and v["fraction_source"] == "exact" and v["negative_fraction"] == 0 and v["minimum_ratio"] == 1, f"verdict {v['type']}, fractions {v['negative_fraction']}, {v['minimum_ratio']} ({v['fraction_source']})")
check("**Negative fraction** 0; **minimum ratio** 1 (exact: counts / n)." in md, "report.md lacks the exact fractions")
check("this table is the smoothed SLQ estimate with a near-zero band of half-width w" in md, "report.md does not say why the SLQ table differs from the exact counts")
m = find(r"fraction of eigenvalues \(SLQ estimate, w = " + NUM + r"\)", md, "the density table's width")
same(m.group(1), d["near_zero_width"], "density w")
