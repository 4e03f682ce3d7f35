#!/usr/bin/python3
"""`hessa spectrum -hessa_spectrum_output` writes the report set of `hessa analyze` for what
it computed, that report.json follows docs/report.schema.json, and every CSV table has one
format whichever command wrote it.

On the quadratic with the generated spectrum (n = 60: bulk in [0.1, 1], outliers up to 50,
6 negatives down to -1; x = 0 is its critical point, loss 0 and gradient 0 exactly), at 2
ranks: report.md, report.json (with results.loss, results.gradient_norm, the extreme
eigenvalues and the full spectrum), eigenvalues.csv, density.csv, density_nodes.csv,
trace.csv and the plots. Known answers: lambda_max = 50 and lambda_min = -1 to 1e-10;
the full spectrum's trace equals the sum of its values; eigenvalues.csv holds exactly the
numbers of report.json (to 1e-14: cJSON may drop the last two of 17 digits), with 1-based indices and true/false, like
analyze's eigenvalues.csv on the same model.

usage: spectrum_report.py MPIEXEC HESSA_EXECUTABLE
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

mpiexec, hessa = sys.argv[1], os.path.abspath(sys.argv[2])
failures = []
model = ["-hessa_model", "quadratic", "-hessa_model_dim", "60"]


def run(folder, args):
    r = subprocess.run([mpiexec, "-n", "2", hessa] + args + model + ["-quiet"], cwd=folder, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit("hessa %s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))


def close(a, b):
    """Equal to 1e-14 relative: cJSON writes report.json with 15 digits when 17 would read
    back to a double within its own epsilon test; the CSV keeps all 17."""
    return len(a) == len(b) and all(abs(x - y) <= 1e-14 * max(1.0, abs(y)) for x, y in zip(a, b))


def check_eigen_csv(path, doc, label):
    rows = list(csv.DictReader(open(path)))
    header = open(path).readline().strip()
    if header != "kind,index,value,residual,converged":
        failures.append("%s: header %s" % (label, header))
    ext = doc["results"].get("extremes", {})
    for kind in ("largest", "smallest"):
        mine = [r for r in rows if r["kind"] == kind]
        if [int(r["index"]) for r in mine] != list(range(1, len(mine) + 1)):
            failures.append("%s: %s indices are not 1, 2, ...: %s" % (label, kind, [r["index"] for r in mine]))
        if not close([float(r["value"]) for r in mine], [p["value"] for p in ext.get(kind, [])]):
            failures.append("%s: %s values differ from report.json" % (label, kind))
        if any(r["converged"] not in ("true", "false") for r in mine):
            failures.append("%s: converged is not true/false" % label)
        for r in mine:  # 17 significant digits: the text reads back to the same double
            if repr(float(r["value"])) != repr(float("%.17g" % float(r["value"]))):
                failures.append("%s: %s is not written with 17 digits" % (label, r["value"]))
    full = [float(r["value"]) for r in rows if r["kind"] == "full"]
    if "full_spectrum" in doc["results"] and not close(full, doc["results"]["full_spectrum"]["values"]):
        failures.append("%s: the full spectrum differs from report.json" % label)
    return rows


with tempfile.TemporaryDirectory() as d:
    run(d, ["spectrum", "-hessa_spectrum_extremes", "3", "-hessa_spectrum_full", "-hessa_spectrum_density", "-hessa_spectrum_trace", "-hessa_spectrum_output", "sp"])
    sp = os.path.join(d, "sp")
    for f in ["report.md", "report.json", "eigenvalues.csv", "density.csv", "density_nodes.csv", "trace.csv", "density.png", "density.svg", "eigenvalues.png", "eigenvalues.svg"]:
        if not os.path.isfile(os.path.join(sp, f)):
            failures.append("hessa spectrum: %s missing from the output folder (%s)" % (f, sorted(os.listdir(sp))))
    doc = json.load(open(os.path.join(sp, "report.json")))
    schema = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "report.schema.json")))
    for e in jsonschema.Draft7Validator(schema).iter_errors(doc):
        failures.append("report.json does not follow docs/report.schema.json: %s: %s" % ("/".join(map(str, e.path)), e.message))
    res = doc.get("results", {})
    if res.get("loss") != 0 or res.get("gradient_norm") != 0:
        failures.append("report.json: loss %s and gradient norm %s at the critical point x = 0, expected 0 and 0" % (res.get("loss"), res.get("gradient_norm")))
    lmax = res.get("extremes", {}).get("largest", [{}])[0].get("value")
    lmin = res.get("extremes", {}).get("smallest", [{}])[0].get("value")
    if lmax is None or abs(lmax - 50) > 1e-10 * 50 or lmin is None or abs(lmin + 1) > 1e-10 * 50:
        failures.append("report.json: lambda_max %s, lambda_min %s; expected 50 and -1" % (lmax, lmin))
    values = res.get("full_spectrum", {}).get("values", [])
    if len(values) != 60 or abs(max(values) - 50) > 1e-10 * 50 or abs(min(values) + 1) > 1e-10 * 50:
        failures.append("report.json: full spectrum of %d values from %s to %s, expected 60 from -1 to 50" % (len(values), min(values or [0]), max(values or [0])))
    md = open(os.path.join(sp, "report.md")).read()
    for want in ["# Spectrum of the Hessian", "Loss 0, gradient norm 0.000e+00", "## Extreme eigenvalues", "## Full spectrum", "## Eigenvalue density", "![density](density.png)"]:
        if want not in md:
            failures.append("report.md lacks '%s'" % want)
    spec_rows = check_eigen_csv(os.path.join(sp, "eigenvalues.csv"), doc, "spectrum eigenvalues.csv")
    trace = list(csv.DictReader(open(os.path.join(sp, "trace.csv"))))
    if [t["method"] for t in trace] != ["hutchinson", "hutchpp"]:
        failures.append("trace.csv: methods %s" % [t["method"] for t in trace])
    # hessa analyze on the same model: the same table in the same format
    run(d, ["analyze", "-hessa_analyze_k", "3", "-hessa_analyze_output", "an"])
    adoc = json.load(open(os.path.join(d, "an", "report.json")))
    an_rows = check_eigen_csv(os.path.join(d, "an", "eigenvalues.csv"), adoc, "analyze eigenvalues.csv")
    a_full = [float(r["value"]) for r in an_rows if r["kind"] == "full"]
    s_full = [float(r["value"]) for r in spec_rows if r["kind"] == "full"]
    if len(a_full) != len(s_full) or any(abs(a - s) > 1e-10 * 50 for a, s in zip(a_full, s_full)):
        failures.append("analyze and spectrum: the full spectra in eigenvalues.csv differ")
if failures:
    sys.exit("\n".join(failures))
