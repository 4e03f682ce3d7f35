#!/usr/bin/python3
"""Every YAML options file in jobs/ passes hessa's option validation: `hessa COMMAND
-options_file_yaml FILE -help` (COMMAND: the file's name, as the batch scripts use it)
checks every -hessa_* name and range at start-up and must exit 0 without computing or
writing anything. Every hessa_* name a comment suggests must be an option hessa knows
too (the list the build collects from the sources).

usage: job_options.py HESSA_EXECUTABLE SOURCE_DIR BUILD_DIR
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

hessa, source, build = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
known = set(re.findall(r'"-(hessa_[a-z0-9_]+)"', open(os.path.join(build, "generated", "hessa_option_names.h")).read()))
commands = ["analyze", "spectrum", "check", "info", "train", "landscape", "study", "hvp"]
failures = []
files = sorted(glob.glob(os.path.join(source, "jobs", "**", "*.yaml"), recursive=True) + glob.glob(os.path.join(source, "jobs", "**", "*.yml"), recursive=True))
if len(files) < 4:
    failures.append("expected the YAML files of the analyze, spectrum, landscape and study jobs in jobs/, found %d" % len(files))
for path in files:
    command = os.path.splitext(os.path.basename(path))[0]
    if command not in commands:
        failures.append("%s: its name does not say which hessa command it is for (expected one of %s)" % (path, ", ".join(commands)))
        continue
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([hessa, command, "-options_file_yaml", path, "-help"], cwd=d, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            failures.append("hessa %s -options_file_yaml %s: exit %d\n%s" % (command, path, r.returncode, (r.stdout + r.stderr)[-1500:]))
        if os.listdir(d):
            failures.append("hessa %s -options_file_yaml %s -help wrote %s" % (command, path, os.listdir(d)))
    for number, line in enumerate(open(path), 1):
        comment = line.split("#", 1)[1] if "#" in line else ""
        for name in re.findall(r"\b(hessa_[a-z0-9_]+)", comment):
            if name not in known:
                failures.append("%s:%d: the comment names %s, which is not a hessa option" % (path, number, name))
if failures:
    sys.exit("\n".join(failures))
