#!/usr/bin/python3
"""hessa -help and hessa COMMAND -help: exit 0, print the usage (every command, one line
each) or the command's options, compute nothing and write nothing (each run in an empty
temporary folder that must stay empty). `hessa -help` must take at most 2 s of wall time
(best of up to 5 runs; the full default analysis that -help used to start takes 15 s or
more). On an oversubscribed machine (1-minute load average above the core count, where a
process gets a fraction of a core and MPI start-up alone can take seconds) a slower run
passes only if it used at most 1 s of CPU time, which no analysis does.

usage: help.py HESSA_EXECUTABLE
"""
import os
import re
import resource
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
              "train": "-hessa_train_method", "landscape": "-hessa_landscape_points", "study": "-hessa_study_manifest", "hvp": "-hessa_hvp_direction", "compare": "-hessa_compare_studies"}


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


walls, cpus = [], []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, r = run(["-help"])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    walls.append(wall)
    cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if min(walls) <= 2.0:
        break
if min(walls) > 2.0:
    # on an oversubscribed machine (more runnable jobs than cores) wall time says little:
    # then the CPU time must show that nothing was computed (the default analysis: > 15 s)
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load <= cores or min(cpus) > 1.0:
        failures.append("hessa -help took %.2f s (best of %d runs; %.2f s of CPU), expected at most 2 s (load average %.1f on %d cores)" % (min(walls), len(walls), min(cpus), load, cores))
    else:
        print("note: hessa -help took %.2f s wall but %.2f s of CPU: the machine is loaded (load average %.1f on %d cores)" % (min(walls), min(cpus), load, cores))
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
    if c not in ("study", "compare") and "-hessa_data_limit" not in r.stdout:  # compare reads no data
        failures.append("hessa %s -help: the data options are not listed" % c)
    if "verdict:" in r.stdout or "products" in r.stderr:
        failures.append("hessa %s -help: computed something:\n%s%s" % (c, r.stdout[-2000:], r.stderr[-2000:]))

if failures:
    sys.exit("\n".join(failures))
