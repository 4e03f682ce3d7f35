#!/bin/bash
# Start a private single-node Slurm cluster (munged + slurmctld + slurmd) as root.
# Usage: source-able env is written to $SLURM_CI_DIR/env ; stop with slurm-down.sh
# Env in:  SLURM_CI_DIR (default /tmp/slurm-ci), SLURM_CI_CPUS (default: real count), SLURM_CI_EXTRA (extra slurm.conf lines)
set -euo pipefail
S=${SLURM_CI_DIR:-/tmp/slurm-ci}
# refuse to start next to a leftover cluster: its daemons would answer our sinfo/sbatch
for port in 6817 6818; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "slurm-up: port $port already in use (stale slurmctld/slurmd?)"; exit 1; fi
done
if [ -S /run/munge/munge.socket.2 ] && munge -n </dev/null >/dev/null 2>&1; then echo "slurm-up: a munged is already running"; exit 1; fi
rm -rf "$S"; mkdir -p "$S/state" "$S/spool" "$S/log"
export SLURM_CONF=$S/slurm.conf
H=$(hostname -s)

# munge: the Debian postinst creates /etc/munge/munge.key; make one if it is missing
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge          # normally made by systemd-tmpfiles
setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground >"$S/log/munged.log" 2>&1 &
echo $! > "$S/munged.pid"
for i in $(seq 1 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
munge -n </dev/null | unmunge >/dev/null || { cat "$S/log/munged.log"; exit 1; }

# node line straight from the hardware probe, so CPUs/RealMemory never exceed what slurmd finds
NODELINE=$(slurmd -C | head -1)     # NodeName=<host> CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=...
if [ -n "${SLURM_CI_CPUS:-}" ]; then
  NODELINE="NodeName=$H CPUs=$SLURM_CI_CPUS RealMemory=1000"
  SLURM_CI_EXTRA="${SLURM_CI_EXTRA:-}
SlurmdParameters=config_overrides"
fi
cat > "$SLURM_CONF" <<EOF
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=cred_expire=${SLURM_CI_CRED_EXPIRE:-5}
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pidfile
SlurmdPidFile=$S/slurmd.pidfile
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
SchedulerParameters=sched_interval=2,bf_interval=1
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
${SLURM_CI_EXTRA:-}
$NODELINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -c -i >"$S/log/slurmctld.stderr" 2>&1 & echo $! > "$S/slurmctld.pid"
slurmd -D >"$S/log/slurmd.stderr" 2>&1 & echo $! > "$S/slurmd.pid"
for i in $(seq 1 100); do [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break; sleep 0.2; done
for d in slurmctld slurmd; do kill -0 "$(cat "$S/$d.pid")" 2>/dev/null || { echo "slurm-up: $d died"; cat "$S/log/$d.stderr"; exit 1; }; done
if [ "$(sinfo -h -o %T 2>/dev/null)" != idle ]; then
  echo "slurm-up: node not idle"; sinfo -R || true; tail -n 20 "$S"/log/* || true; exit 1
fi
printf 'export SLURM_CONF=%s\nexport OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n' "$SLURM_CONF" > "$S/env"
echo "slurm-up: $(sinfo -h -o '%P %a %D %T %N %c cpus')"
