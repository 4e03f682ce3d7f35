"""What the scripted end-to-end cases share (tests/study/study_cases.py, compare_cases.py,
tests/plugin/plugin_cases.py): failing with the case's label, running hessa under mpiexec,
and the check that a bad input ends in one clear error on every rank."""
import os
import subprocess
import sys


def hessa_env(**extra):
    """The environment of a hessa run in a test: Open MPI as root, one BLAS thread per rank."""
    return dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1", **extra)


class Case:
    """label prefixes every failure ("study case sigterm: ..."); mpiexec and hessa are the
    executables, env the environment of every run, timeout the default of run()."""

    def __init__(self, label, mpiexec, hessa, env, timeout=120):
        self.label, self.mpiexec, self.hessa, self.env, self.timeout = label, mpiexec, hessa, env, timeout

    def fail(self, msg):
        sys.exit(f"{self.label}: {msg}")

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)

    def run(self, np_, args, expect=0, timeout=None):
        """hessa ARGS on np_ ranks; fails unless the exit status is expect (None: any)."""
        cmd = [self.mpiexec, "-n", str(np_), "--oversubscribe", self.hessa] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=timeout or self.timeout)
        if expect is not None and r.returncode != expect:
            self.fail(f"exit {r.returncode} (expected {expect})\n{' '.join(cmd)}\n{r.stdout}\n{r.stderr[-3000:]}")
        return r

    def expect_error(self, r, message, what, bad="a bad input"):
        """r (a finished run on bad) failed with exactly one error message, which holds message."""
        self.check(r.returncode != 0, f"{what}: exit 0 on {bad}")
        self.check(message in r.stderr, f"{what}: message lacks {message!r}:\n{r.stderr}")
        self.check(r.stderr.count("hessa: error") == 1, f"{what}: expected one error message:\n{r.stderr}")
