#!/bin/bash
# hessa's job scripts on a real, private single-node Slurm cluster (slurm-up.sh, from
# the measured recipe): sbatch jobs/slurm/analyze.sbatch and spectrum.sbatch with small
# inputs, scancel --batch --signal=USR1 on the running spectrum job (the batch shell's trap
# forwards it to mpirun, which forwards it to the ranks), the job stops with exit 75,
# requeues itself, resumes, and its result equals an uninterrupted run bitwise; then the
# cluster is stopped and no slurm, munge or hessa process of this test may be left.
# usage: run.sh HESSA   (prints "SKIP: ..." and exits 0 when Slurm is not installed)
set -uo pipefail
HESSA=$1
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=$(cd "$HERE/../../jobs" && pwd)
for c in slurmctld slurmd sbatch munged; do
  command -v $c >/dev/null || { echo "SKIP: $c not installed (scripts/setup.sh installs slurmctld slurmd slurm-client munge)"; exit 0; }
done
t0=$(date +%s.%N)
ts() { printf '[%6.2fs] %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$*"; }
fail() { ts "FAIL: $*"; exit 1; }

export SLURM_CI_DIR=$(mktemp -d /tmp/hessa-slurm.XXXXXX)
W=$SLURM_CI_DIR/work
finish() {
  "$HERE/slurm-down.sh" >/dev/null 2>&1
  left=$(for d in slurmctld slurmd munged; do pgrep -a -x $d; done; pgrep -a -f -- "$W/")
  if [ -n "$left" ]; then echo "FAIL: processes left behind:"; echo "$left"; rm -rf "$SLURM_CI_DIR"; exit 1; fi
  ts "cluster stopped, no slurm/munge/hessa process left"
  rm -rf "$SLURM_CI_DIR"
}
trap finish EXIT
SLURM_CI_EXTRA="EnforcePartLimits=ALL" "$HERE/slurm-up.sh" || fail "slurm did not come up"
. "$SLURM_CI_DIR/env"
ts "slurm up"
mkdir -p "$W" && cd "$W"
export HESSA HESSA_JOBS=$JOBS OPENBLAS_NUM_THREADS=1

# wait_job JID TIMEOUT: until the job leaves squeue (polled every 0.2 s), then COMPLETED 0:0
wait_job() {
  local j=$1 to=$2 i st=
  for i in $(seq 1 $((to * 5))); do
    st=$(squeue -h -j "$j" -o '%T %r' 2>/dev/null)
    [ -z "$st" ] && break
    case "$st" in PENDING\ PartitionConfig | PENDING\ ReqNodeNotAvail*) scancel "$j"; fail "job $j stuck: $st" ;; esac
    sleep 0.2
  done
  [ -z "$st" ] || { scancel "$j"; fail "job $j still '$st' after $to s"; }
  st=$(scontrol show job "$j" | grep -oE 'JobState=\S+|ExitCode=\S+' | cut -d= -f2 | tr '\n' ' ')
  [ "$st" = "COMPLETED 0:0 " ] || fail "job $j ended $st"
}

# 1. analyze: report.json with a verdict
J=$(sbatch --parsable "$JOBS/slurm/analyze.sbatch" -hessa_model quadratic -hessa_model_dim 50 -quiet) || fail "sbatch analyze"
wait_job "$J" 60
grep -q '"verdict"' "hessa-out/analyze-$J/report.json" || { cat hessa-analyze-$J.out; fail "analyze job: no verdict in report.json"; }
ts "ok analyze job $J: report.json has a verdict"

# 2. spectrum: reference without Slurm, then the job stopped by scancel and resumed by requeue
SPEC=(-hessa_data_samples 8000 -hessa_slq_probes 16 -quiet) # 6-13 s here: the stop lands mid-run
mpirun -n 2 "$HESSA" spectrum -options_file_yaml "$JOBS/slurm/spectrum.yaml" "${SPEC[@]}" -hessa_spectrum_output ref >/dev/null 2>&1 || fail "reference run"
ts "reference spectrum run done"
J=$(sbatch --parsable "$JOBS/slurm/spectrum.sbatch" "${SPEC[@]}") || fail "sbatch spectrum"
OUT=hessa-out/spectrum-$J LOG=hessa-spectrum-$J.out
for i in $(seq 1 150); do grep -q '^spectrum of the' "$LOG" 2>/dev/null && break; sleep 0.2; done
grep -q '^spectrum of the' "$LOG" || { cat "$LOG"; fail "spectrum job did not start"; }
sleep 2 # into the SLQ phase (groups of 2 probes), so the state keeps finished probes
scancel --batch --signal=USR1 "$J" || fail "scancel --signal"
ts "sent USR1 to the batch shell of job $J"
# requeued: PENDING (BeginTime) for ~cred_expire s; the partial state is there meanwhile
for i in $(seq 1 150); do [ "$(squeue -h -j "$J" -o %T)" = PENDING ] && break; sleep 0.2; done
[ "$(squeue -h -j "$J" -o %T)" = PENDING ] || { cat "$LOG"; fail "job $J not requeued"; }
grep -q '"partial":[[:space:]]*true' "$OUT/report.json" || fail "no partial report"
[ -s "$OUT/spectrum.state" ] || fail "no state file"
kept=$(grep -o '"probes_done":[[:space:]]*[0-9]*' "$OUT/report.json" | head -1 | grep -o '[0-9]*$')
ts "job $J stopped (exit 75), requeued; partial report: $kept of 16 probes"
wait_job "$J" 90
grep -q 'exit status 75' "$LOG" && grep -q 'resuming from' "$LOG" && grep -q 'exit status 0' "$LOG" || { cat "$LOG"; fail "log does not show stop, resume, completion"; }
for f in density.csv density_nodes.csv trace.csv; do cmp -s "ref/$f" "$OUT/$f" || fail "$OUT/$f differs from the uninterrupted run"; done
grep -q '"partial":[[:space:]]*false' "$OUT/report.json" || fail "final report still partial"
ts "ok spectrum job $J: stopped, requeued, resumed; density, nodes, trace bitwise equal to the uninterrupted run"

# 3. study: 6 small-MLP points, stopped by scancel after the first results, requeued; the
#    rerun skips the finished points, and results.jsonl ends with every point exactly once
/usr/bin/python3 - "$HERE/../../tools" <<'PY' || fail "making the study points"
import sys; sys.path.insert(0, sys.argv[1])
from weight_folders import save_mlp
lines = ["options: {hessa_data_source: blobs, hessa_data_samples: 2000, hessa_data_dim: 20, hessa_analyze_trace: 0}", "points:"]
for k in range(6):
    save_mlp(f"pts/p{k}", [20, 32, 3], k + 1)
    lines.append(f"  - {{name: p{k}, weights: pts/p{k}}}")
open("study.yaml", "w").write("\n".join(lines) + "\n")
PY
J=$(HESSA_MANIFEST=$W/study.yaml sbatch --parsable --ntasks=2 "$JOBS/slurm/study.sbatch" -quiet) || fail "sbatch study"
OUT=hessa-out/study-$J LOG=hessa-study-$J.out
for i in $(seq 1 300); do [ -s "$OUT/results.jsonl" ] && break; sleep 0.2; done
[ -s "$OUT/results.jsonl" ] || { cat "$LOG"; fail "study job: no result within 60 s"; }
scancel --batch --signal=USR1 "$J" || fail "scancel --signal (study)"
for i in $(seq 1 300); do [ "$(squeue -h -j "$J" -o %T)" = PENDING ] && break; sleep 0.2; done
[ "$(squeue -h -j "$J" -o %T)" = PENDING ] || { cat "$LOG"; fail "study job $J not requeued"; }
first=$(wc -l <"$OUT/results.jsonl")
grep -q '"partial":[[:space:]]*true' "$OUT/study.json" || fail "study job: no partial study report"
ts "study job $J stopped (exit 75) with $first of 6 points, requeued"
wait_job "$J" 120
/usr/bin/python3 -c "
import json, sys
names = [json.loads(l)['name'] for l in open('$OUT/results.jsonl')]
ok = sorted(names) == ['p%d' % k for k in range(6)]
sys.exit(0 if ok and json.load(open('$OUT/study.json'))['partial'] is False else 'results.jsonl: %s' % names)" || fail "study job: results not complete exactly once"
grep -q "$first finished earlier" "$LOG" || { cat "$LOG"; fail "study job: the rerun did not skip the finished points"; }
ts "ok study job $J: stopped, requeued, finished; every point once in results.jsonl"
