#!/usr/bin/python3
"""hessa -help and hessa COMMAND -help: exit 0, print the usage (every command, one line
each) or the command's options, compute nothing and write nothing (each run in an empty
temporary folder that must stay empty). `hessa -help` must take at most 2 s of wall time
(best of 3 runs: MPI start-up on a loaded 2-core machine alone takes over 1 s; the full
default analysis that -help used to start takes about 15 s).

usage: help.py HESSA_EXECUTABLE
"""
import os
import re
import subprocess
import sys
import tempfile
import time

hessa = os.path.abspath(sys.argv[1])
failures = []

# the command table, from the error hessa gives for a command it does not know
with tempfile.TemporaryDirectory() as d:
    r = subprocess.run([hessa, "no-such-command"], cwd=d, capture_output=True, text=True, timeout=60)
    m = re.search(r"expected one of: ([a-z, ]+);", r.stdout + r.stderr)
    if r.returncode == 0 or not m:
        sys.exit("hessa no-such-command: expected an error listing the commands, got exit %d:\n%s%s" % (r.returncode, r.stdout, r.stderr))
    commands = [c.strip() for c in m.group(1).split(",")]

# an option each command's help must show (its own, and the data options it shares)
own_option = {"analyze": "-hessa_analyze_k", "spectrum": "-hessa_spectrum_extremes", "check": "-hessa_check_trials", "info": "-hessa_data_source",
              "train": "-hessa_train_method", "landscape": "-hessa_landscape_points", "study": "-hessa_study_manifest", "hvp": "-hessa_hvp_direction"}


def run(args):
    """Run hessa with args in an empty folder: (wall seconds, result); the folder must stay empty."""
    with tempfile.TemporaryDirectory() as d:
        t0 = time.monotonic()
        r = subprocess.run([hessa] + args, cwd=d, capture_output=True, text=True, timeout=60)
        wall = time.monotonic() - t0
        left = os.listdir(d)
        if left:
            failures.append("hessa %s wrote %s" % (" ".join(args), left))
    if r.returncode != 0:
        failures.append("hessa %s: exit %d, expected 0\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return wall, r


walls = []
for _ in range(3):
    wall, r = run(["-help"])
    walls.append(wall)
    if min(walls) <= 2.0:
        break
if min(walls) > 2.0:
    failures.append("hessa -help took %.2f s (best of %d runs), expected at most 2 s" % (min(walls), len(walls)))
usage = r.stdout
for c in commands:
    lines = [l for l in usage.splitlines() if re.match(r"^  %s\s" % re.escape(c), l)]
    if len(lines) != 1:
        failures.append("hessa -help: expected one usage line for the command '%s', found %d" % (c, len(lines)))
if "verdict" in usage or "Hessian-vector products" in usage.split("commands:")[0]:
    failures.append("hessa -help: printed results, expected only the usage")

for c in commands:
    wall, r = run([c, "-help"])
    if own_option.get(c, "-hessa_") not in r.stdout:
        failures.append("hessa %s -help: its option %s is not listed" % (c, own_option.get(c)))
    if c != "study" and "-hessa_data_limit" not in r.stdout:
        failures.append("hessa %s -help: the data options are not listed" % c)
    if "verdict:" in r.stdout or "products" in r.stderr:
        failures.append("hessa %s -help: computed something:\n%s%s" % (c, r.stdout[-2000:], r.stderr[-2000:]))

if failures:
    sys.exit("\n".join(failures))
