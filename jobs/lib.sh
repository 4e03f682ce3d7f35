#!/bin/bash
# Shared logic of hessa's job scripts (jobs/slurm/*.sbatch, jobs/mpirun/*.sh): source it, then
#   hessa_job NAME OUTPUT_OPTION -- LAUNCHER ARGS...
# runs LAUNCHER ARGS... OUTPUT_OPTION "$HESSA_OUT" in the background, adds -resume when
# $HESSA_OUT holds a resumable state, forwards SIGUSR1/SIGTERM to the launcher as SIGUSR1
# (mpirun forwards USR1 to every rank; hessa then stops at its next safe point, writes
# its state and exits 75), waits, and exits with hessa's status:
#   0 done, 1 error, 75 stopped on request (state saved; run again to continue).
# Under Slurm, status 75 requeues the job (same job id, SLURM_RESTART_COUNT + 1) unless
# HESSA_REQUEUE=0; the requeued run finds the state and resumes.
# Environment: HESSA (the executable, default: hessa on PATH), HESSA_OUT (output folder).
# To add a job (train, landscape, ...): copy a script pair and change NAME, the options
# file and OUTPUT_OPTION; resumable commands name their state file in hessa_state_file.

hessa_state_file() { # the file whose presence means "resume"
  case $1 in
    spectrum) echo spectrum.state ;;
    landscape) echo landscape.state ;;
    *) echo "" ;; # not resumable (yet): always starts afresh
  esac
}

hessa_job() {
  local name=$1 outopt=$2 state child rc
  shift 3 # NAME OUTPUT_OPTION --
  : "${HESSA_OUT:?set HESSA_OUT to the output folder}"
  mkdir -p "$HESSA_OUT"
  local extra=()
  state=$(hessa_state_file "$name")
  if [ -n "$state" ] && [ -e "$HESSA_OUT/$state" ]; then
    extra=(-resume)
    echo "hessa-job: $name: resuming from $HESSA_OUT/$state"
  fi
  "$@" "$outopt" "$HESSA_OUT" "${extra[@]}" &
  child=$!
  # forward, do not act: hessa decides when it is safe to stop
  trap 'echo "hessa-job: $name: stop requested, forwarding SIGUSR1 to $child"; kill -USR1 $child 2>/dev/null' USR1 TERM
  # wait returns early (> 128) when a trapped signal arrives: wait again until the child ends
  while :; do
    wait "$child"; rc=$?
    kill -0 "$child" 2>/dev/null || break
  done
  trap - USR1 TERM
  echo "hessa-job: $name: exit status $rc"
  if [ "$rc" = 75 ] && [ -n "${SLURM_JOB_ID:-}" ] && [ "${HESSA_REQUEUE:-1}" = 1 ]; then
    echo "hessa-job: $name: requeueing job $SLURM_JOB_ID to resume"
    scontrol requeue "$SLURM_JOB_ID" && exit 0
  fi
  exit "$rc"
}
