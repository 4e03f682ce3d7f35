#!/usr/bin/python3
"""report.md and the printed summary say what a person should read: none of the text
glitches of issue 16 on the embedded default (`mpiexec -n 2 hessa`, the command the README
runs), on the saddle of the linear toy (the escape line) and at the monkey saddle (a
degenerate point probed along zero curvature).

usage: report_text.py MPIEXEC HESSA_EXECUTABLE
"""
import os
import re
import subprocess
import sys
import tempfile

mpiexec, hessa = sys.argv[1], os.path.abspath(sys.argv[2])
failures = []

# (what it is, a regular expression that must not match); each was once in report.md or on stdout
glitches = [
    ("an empty subset", r"on subset\s*;"),
    ("'1 ranks'", r"\b1 ranks\b"),
    ("the library's name twice", r"PETSc Petsc|SLEPc SLEPc|Release Version"),
    ("a behaviour code instead of a sentence", r"the loss \*\*(mixed|rises|falls|flat)\*\*"),
    ("the top 0 eigenvectors", r"top 0 eigenvectors"),
    ("PETSc's '1.' for %g", r"alpha = \+-[0-9]+\. "),
    ("the program's path as an argument", r"`hessa [a-z]+` `[^`]*hessa`"),
]
# (what, expression that must match in report.md), for the 2-rank runs below
wanted = [
    ("the operator on all parameters and 2 ranks", r"Operator: (hessian|ggn) on all parameters; 2 ranks"),
    ("PETSc's and SLEPc's version numbers", r"PETSc \d+\.\d+\.\d+, SLEPc \d+\.\d+\.\d+"),
]


def analyze(folder, args, expect_in_stdout=None):
    r = subprocess.run([mpiexec, "-n", "2", hessa] + args + ["-quiet"], cwd=folder, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        failures.append("hessa %s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return
    out = os.path.join(folder, "hessa-report")
    if "-hessa_analyze_output" in args:
        out = os.path.join(folder, args[args.index("-hessa_analyze_output") + 1])
    md = open(os.path.join(out, "report.md")).read()
    for label, text in (("report.md", md), ("stdout", r.stdout)):
        for what, pattern in glitches:
            m = re.search(pattern, text)
            if m:
                failures.append("hessa %s: %s shows %s: '%s'" % (" ".join(args) or "(embedded default)", label, what, m.group(0)))
    for what, pattern in wanted:
        if not re.search(pattern, md):
            failures.append("hessa %s: report.md lacks %s (/%s/)" % (" ".join(args) or "(embedded default)", what, pattern))
    if expect_in_stdout and expect_in_stdout not in r.stdout:
        failures.append("hessa %s: stdout lacks '%s':\n%s" % (" ".join(args), expect_in_stdout, r.stdout))


with tempfile.TemporaryDirectory() as d:
    # the embedded default on the extremes + SLQ basis (a 100 MiB cap keeps the exact spectrum
    # out: analyze_default_exact_np2, label long, runs the exact default in about 2 minutes)
    analyze(d, ["-hessa_full_memory_mb", "100"])
    analyze(d, ["analyze", "-hessa_model", "linear-toy", "-hessa_model_point", "0,0", "-hessa_analyze_output", "toy"], "at alpha = +-1 (predicted -1.000e+00)")
    analyze(d, ["analyze", "-hessa_model", "monkey-saddle", "-hessa_model_point", "0,0", "-hessa_analyze_output", "monkey"])
    md = open(os.path.join(d, "monkey", "report.md")).read()
    if "along its eigenvector the loss **rises one way and falls the other**" not in md:
        failures.append("monkey saddle: report.md does not say that the loss rises one way and falls the other along the zero-curvature directions")
if failures:
    sys.exit("\n".join(failures))
