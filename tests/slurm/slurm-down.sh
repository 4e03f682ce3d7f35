#!/bin/bash
# Stop what slurm-up.sh started, by the PIDs it recorded.
S=${SLURM_CI_DIR:-/tmp/slurm-ci}
export SLURM_CONF=$S/slurm.conf
alive() { [ -s "$S/$1.pid" ] && kill -0 "$(cat "$S/$1.pid")" 2>/dev/null; }
if alive slurmctld; then
  jobs=$(squeue -h -o %i 2>/dev/null); [ -n "$jobs" ] && scancel $jobs
  for i in $(seq 1 50); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.2; done
  scontrol shutdown >/dev/null 2>&1     # stops slurmctld and slurmd
fi
for d in slurmd slurmctld munged; do
  for i in $(seq 1 100); do alive $d || break; [ $d = munged ] && break; sleep 0.1; done
  alive $d && kill "$(cat "$S/$d.pid")"
  for i in $(seq 1 50); do alive $d || break; sleep 0.1; done
  alive $d && kill -KILL "$(cat "$S/$d.pid")"
  rm -f "$S/$d.pid"
done
true
