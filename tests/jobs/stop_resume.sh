#!/bin/bash
# Graceful stop and -resume of `hessa spectrum` through the real executable.
# usage: stop_resume.sh MODE MPIEXEC HESSA
#   hook1 | hook2  stop with -hessa_stop_after_products at 1 or 2 ranks, in the density and in
#                  the trace, resume until done: the results equal an uninterrupted run bitwise;
#                  a resume with other options or a corrupt state fails with one clear message
#   extremes       stop inside the smallest-end eigensolve (after 300 products): exit 75, the
#                  converged pairs kept (extremes.state + extremes_smallest.npy); -resume deflates
#                  them and finds the rest: the eigenvalues equal an uninterrupted run's to 1e-8
#                  relative (the largest end, finished before the stop, exactly), density bitwise
#   arpack         -hessa_eps_type arpack (no stopping test; the ends take 20 + 6 and 80 + 6
#                  products): a stop requested after product 10 ends the largest end's ARPACK
#                  solve at the next product (exit 75 after exactly 10 products; before, both
#                  solves ran to their end and the run exited 0), "largest partial 0" (ARPACK
#                  keeps no partial pairs); a resume stopped after product 50 ends the smallest
#                  end's solve ("largest done 6", "smallest partial 0"); the next resume
#                  finishes: the eigenvalues equal an uninterrupted run's digit for digit
#   signal         SIGUSR1 to mpirun (Open MPI forwards it to the 2 ranks) during a ~7 s run:
#                  exit 75, a partial report, and -resume completes it bitwise
#   rankfail       kill -9 one of 3 ranks while it computes: every process is gone within 10 s,
#                  mpirun exits non-zero with a message, no rank is left
#   analyze1 | analyze3      SIGUSR1 to mpirun once `hessa analyze` has its gradient: exit 75 at
#                  the next safe point between phases, a partial report.json ("partial": true,
#                  "stopped_before"); analyze offers no -resume: a rerun finishes (exit 0, complete)
#   landscape1 | landscape3  SIGUSR1 to mpirun during a plane scan (3 groups of 1 rank at 3
#                  ranks): exit 75 with landscape.state and a partial landscape.json; -resume
#                  finishes it and plane.csv equals an uninterrupted run's byte for byte
set -uo pipefail
MODE=$1 MPIEXEC=$2 HESSA=$3
W=$(mktemp -d /tmp/hessa-jobs-test.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$W"; }
trap cleanup EXIT
fail() { echo "FAIL ($MODE): $*"; exit 1; }
cd "$W"
t0=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) - $t0" | bc; }
same() { # same DIR_A DIR_B: every result file equal byte for byte (%.17g: bitwise)
  for f in density.csv density_nodes.csv trace.csv; do
    [ -s "$1/$f" ] || fail "$1/$f missing"
    cmp -s "$1/$f" "$2/$f" || fail "$2/$f differs from the uninterrupted $1/$f"
  done
  grep -q '"partial":[[:space:]]*false' "$2/report.json" || fail "$2/report.json is not complete"
  [ ! -e "$2/spectrum.state" ] || fail "$2/spectrum.state left after the run completed"
}
run() { "$MPIEXEC" -n "$NP" --oversubscribe "$HESSA" spectrum $ARGS "$@"; }
eigenvalues() { awk -v end="$2" '$1 == end && $2 == "eigenvalues" {n = 6; next} n > 0 {print $2; n--}' "$1"; }

case $MODE in
hook1 | hook2)
  NP=${MODE#hook}
  ARGS="-hessa_model quadratic -hessa_model_dim 300 -hessa_spectrum_density -hessa_spectrum_trace -hessa_slq_probes 6 -hessa_slq_steps 30 -hessa_slq_block_size 2 -hessa_trace_samples 48 -quiet"
  run -hessa_spectrum_output full >/dev/null || fail "uninterrupted run failed"
  # 70 products: inside the second SLQ group (60 + 10); the resumed runs stop again
  # 70 products later: in the density, then in the Hutchinson trace, then finish
  run -hessa_spectrum_output part -hessa_stop_after_products 70 >out 2>&1; rc=$?
  [ $rc = 75 ] || { cat out; fail "stopped run: exit $rc, expected 75"; }
  grep -q '"partial":[[:space:]]*true' part/report.json || fail "partial report not marked partial"
  grep -q '"probes_done":[[:space:]]*2,' part/report.json || fail "expected 2 finished probes (one group) in the partial report"
  grep -q 'density: probes 3-6 of 6' part/report.json || fail "partial report does not say what is missing"
  # a resume with other options is refused with a message naming the file, expected and found
  run -hessa_spectrum_output part -resume -hessa_slq_seed 2 >out 2>&1 && fail "resume with another seed accepted"
  grep -q "hessa: error: resume state 'part/spectrum.state': the stopped run had seed 1, this run has 2" out || { cat out; fail "no clear mismatch message"; }
  cp -r part corrupt && sed -i 's/^beta 0x1/beta x0x1/' corrupt/spectrum.state
  run -hessa_spectrum_output corrupt -resume >out 2>&1 && fail "corrupt state accepted"
  grep -q "hessa: error: resume state 'corrupt/spectrum.state': corrupt: expected 60 finite numbers after 'beta'" out || { cat out; fail "no clear corrupt-state message"; }
  stops=1
  for i in 1 2 3 4 5 6; do
    run -hessa_spectrum_output part -resume -hessa_stop_after_products 70 >out 2>&1; rc=$?
    [ $rc = 0 ] && break
    [ $rc = 75 ] || { cat out; fail "resumed run: exit $rc"; }
    stops=$((stops + 1))
  done
  [ $rc = 0 ] || fail "not finished after 6 resumes"
  [ $stops -ge 3 ] || fail "expected at least 3 stops (density twice, trace), got $stops"
  run -hessa_spectrum_output none -resume >out 2>&1 && fail "-resume without a state accepted"
  grep -q "cannot open the resume state 'none/spectrum.state'" out || { cat out; fail "no clear missing-state message"; }
  same full part
  echo "ok: $NP ranks, $stops stops, resumed result bitwise equal, $(elapsed) s"
  ;;
extremes)
  NP=2
  ARGS="-hessa_model quadratic -hessa_model_dim 400 -hessa_spectrum_extremes 6 -hessa_eps_ncv 20 -hessa_spectrum_density -hessa_slq_probes 4 -hessa_slq_steps 20 -hessa_spectrum_trace -hessa_trace_samples 16 -quiet"
  run -hessa_spectrum_output full >full.out 2>&1 || { cat full.out; fail "uninterrupted run failed"; }
  # the largest end takes 26 products; the smallest (judged against |lambda_max|, with 20
  # vectors so that it restarts: the quadratic's dense eigenvectors let 80 finish before the
  # first restart) about 300, restarting every few products
  run -hessa_spectrum_output part -hessa_stop_after_products 260 >out 2>&1; rc=$?
  [ $rc = 75 ] || { cat out; fail "stopped run: exit $rc, expected 75"; }
  grep -qE '^largest done 6$' part/extremes.state || fail "the largest end (finished) is not in the state"
  grep -qE '^smallest partial [1-5]$' part/extremes.state || { cat part/extremes.state; fail "expected the smallest end stopped with 1 to 5 converged pairs"; }
  [ -s part/extremes_smallest.npy ] || fail "no converged vectors saved"
  kept=$(grep -E '^smallest partial' part/extremes.state | cut -d' ' -f3)
  run -hessa_spectrum_output part -resume >res.out 2>&1 || { cat res.out; fail "resume failed"; }
  grep -q "smallest resumed ($kept pairs)" res.out || { cat res.out; fail "the resume did not start from the $kept kept pairs"; }
  for end in largest smallest; do
    eigenvalues full.out $end >want.$end; eigenvalues res.out $end >got.$end
    [ "$(wc -l <got.$end)" = 6 ] || { cat res.out; fail "6 $end eigenvalues expected after the resume"; }
    paste want.$end got.$end | awk -v end=$end '{d = $1 - $2; if (d < 0) d = -d; s = $1 < 0 ? -$1 : $1; if (s < 1) s = 1; if (d > 1e-8 * s) {print end " eigenvalue " NR ": " $2 " vs uninterrupted " $1; bad = 1}} END {exit bad}' || fail "$end eigenvalues differ"
  done
  cmp -s want.largest got.largest || fail "the largest end was not taken from the state as it was"
  same full part
  [ ! -e part/extremes.state ] && [ ! -e part/extremes_smallest.npy ] || fail "extremes state left after the run completed"
  echo "ok: stopped in the smallest-end solve with $kept of 6 pairs converged; resumed: eigenvalues equal to 1e-8, density bitwise; $(elapsed) s"
  ;;
arpack)
  NP=2
  ARGS="-hessa_model quadratic -hessa_model_dim 400 -hessa_spectrum_extremes 6 -hessa_eps_type arpack -quiet"
  run -hessa_spectrum_output full >full.out 2>&1 || { cat full.out; fail "uninterrupted run failed"; }
  total=$(sed -n 's/^total: \([0-9]*\) products.*/\1/p' full.out)
  [ -n "$total" ] && [ "$total" -gt 40 ] || { cat full.out; fail "expected the ARPACK solves to need more than 40 products, found '$total'"; }
  run -hessa_spectrum_output part -hessa_stop_after_products 10 >out 2>&1; rc=$?
  [ $rc = 75 ] || { cat out; fail "stop requested inside the largest end's ARPACK solve: exit $rc, expected 75 (the solve was not interrupted)"; }
  grep -q 'stopped on request (signal 10) after 10 products' out || { cat out; fail "not stopped at the product after the request (10)"; }
  grep -qE '^largest partial 0$' part/extremes.state || { cat part/extremes.state; fail "expected the largest end stopped with no pair kept"; }
  run -hessa_spectrum_output part -resume -hessa_stop_after_products 50 >out 2>&1; rc=$?
  [ $rc = 75 ] || { cat out; fail "stop requested inside the smallest end's ARPACK solve: exit $rc, expected 75"; }
  grep -q 'stopped on request (signal 10) after 50 products' out || { cat out; fail "not stopped at the product after the request (50)"; }
  grep -qE '^largest done 6$' part/extremes.state && grep -qE '^smallest partial 0$' part/extremes.state || { cat part/extremes.state; fail "expected the largest end done, the smallest stopped with no pair kept"; }
  run -hessa_spectrum_output part -resume >res.out 2>&1 || { cat res.out; fail "resume failed"; }
  for end in largest smallest; do
    eigenvalues full.out $end >want.$end; eigenvalues res.out $end >got.$end
    [ "$(wc -l <got.$end)" = 6 ] || { cat res.out; fail "6 $end eigenvalues expected after the resume"; }
    cmp -s want.$end got.$end || { paste want.$end got.$end; fail "$end eigenvalues after the resume differ from the uninterrupted run's"; }
  done
  [ ! -e part/extremes.state ] || fail "extremes state left after the run completed"
  echo "ok: ARPACK solves stopped after 10 and 50 of $total products; resumed: eigenvalues equal; $(elapsed) s"
  ;;
signal)
  NP=2
  # about 6 s unloaded (24 probes): the signal lands mid-SLQ however fast the machine is
  ARGS="-hessa_data_source blobs -hessa_data_samples 8000 -hessa_data_dim 40 -hessa_data_classes 4 -hessa_mlp_hidden 64,64 -hessa_mlp_activation tanh -hessa_spectrum_density -hessa_spectrum_trace -hessa_slq_probes 24 -hessa_slq_steps 40 -hessa_slq_block_size 2 -hessa_trace_samples 48 -hessa_trace_method hutchinson -quiet"
  "$MPIEXEC" -n $NP --oversubscribe "$HESSA" spectrum $ARGS -hessa_spectrum_output part >out 2>&1 &
  PIDS+=($!); mp=$!
  # the ranks print the header after HessaInitialize installed the handler
  for i in $(seq 1 100); do grep -q '^spectrum of the' out && break; sleep 0.1; done
  sleep 1.5 # into the SLQ phase (groups of 2 probes), so the state usually keeps finished probes
  ts=$(elapsed); kill -USR1 "$mp"
  wait "$mp"; rc=$?; te=$(elapsed)
  [ $rc = 75 ] || { cat out; fail "SIGUSR1 to mpirun: exit $rc, expected 75"; }
  grep -q 'stopped on request (signal 10)' out || { cat out; fail "no stop message"; }
  grep -q '"partial":[[:space:]]*true' part/report.json || fail "partial report not marked partial"
  [ -s part/spectrum.state ] || fail "no state file"
  done_probes=$(grep -o '"probes_done":[[:space:]]*[0-9]*' part/report.json | head -1 | grep -o '[0-9]*$')
  run -hessa_spectrum_output part -resume >/dev/null 2>&1 || fail "resume failed"
  run -hessa_spectrum_output full >/dev/null 2>&1 || fail "uninterrupted run failed"
  same full part
  echo "ok: SIGUSR1 at ${ts} s, exit 75 after $(echo "$te - $ts" | bc) s with $done_probes of 24 probes kept; resumed result bitwise equal; $(elapsed) s"
  ;;
rankfail)
  NP=3
  ARGS="-hessa_data_source blobs -hessa_data_samples 4000 -hessa_data_dim 40 -hessa_data_classes 4 -hessa_mlp_hidden 64,64 -hessa_spectrum_density -hessa_slq_probes 8 -hessa_slq_steps 40 -quiet"
  "$MPIEXEC" -n $NP --oversubscribe "$HESSA" spectrum $ARGS >out 2>&1 &
  PIDS+=($!); mp=$!
  for i in $(seq 1 100); do grep -q '^spectrum of the' out && break; sleep 0.1; done
  sleep 1
  ranks=($(pgrep -P "$mp" -x hessa))
  [ ${#ranks[@]} = 3 ] || fail "expected 3 rank processes under mpirun $mp, found ${#ranks[@]}"
  PIDS+=("${ranks[@]}")
  ts=$(date +%s.%N); kill -KILL "${ranks[1]}"
  for i in $(seq 1 100); do kill -0 "$mp" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$mp" 2>/dev/null && fail "mpirun still running 10 s after a rank was killed"
  wait "$mp"; rc=$?; dt=$(echo "$(date +%s.%N) - $ts" | bc)
  alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$st" ] && [ "${st#Z}" = "$st" ]; } # a zombie is gone
  for i in $(seq 1 20); do
    left=; for p in "${ranks[@]}"; do alive "$p" && left="$left $p"; done
    [ -z "$left" ] && break; sleep 0.1
  done
  [ -z "$left" ] || { ps -o pid,stat,etime,cmd -p ${left// /,}; fail "rank processes still alive:$left"; }
  [ $rc != 0 ] || fail "mpirun exit status 0 after a rank was killed"
  grep -qiE 'signal 9|killed' out || { cat out; fail "no message about the killed rank"; }
  echo "ok: rank killed, all 4 processes gone after $dt s (bound 10 s), mpirun exit $rc"
  ;;
analyze1 | analyze3)
  NP=${MODE#analyze}
  ARGS="-hessa_data_source blobs -hessa_data_samples 4000 -hessa_data_dim 20 -hessa_data_classes 4 -hessa_mlp_hidden 32 -hessa_mlp_activation tanh -hessa_analyze_full 0 -hessa_analyze_probes 20 -hessa_analyze_trace 60"
  "$MPIEXEC" -n $NP --oversubscribe "$HESSA" analyze $ARGS -hessa_analyze_output part >out 2>err &
  PIDS+=($!); mp=$!
  # rank 0 logs the loss once the gradient is done (the handler is installed before)
  for i in $(seq 1 600); do grep -q '^hessa: analyze: loss' err && break; sleep 0.1; done
  kill -USR1 "$mp"
  wait "$mp"; rc=$?
  [ $rc = 75 ] || { cat out err; fail "SIGUSR1 to mpirun: exit $rc, expected 75"; }
  grep -q 'stopped on request (signal 10) before the [a-z]* phase' out || { cat out; fail "no stop message"; }
  grep -q '"partial":[[:space:]]*true' part/report.json || fail "partial report not marked partial"
  grep -q '"stopped_before":' part/report.json || fail "partial report does not say where it stopped"
  before=$(grep -o '"stopped_before":[[:space:]]*"[a-z]*"' part/report.json | grep -o '"[a-z]*"$')
  "$MPIEXEC" -n $NP --oversubscribe "$HESSA" analyze $ARGS -quiet -hessa_analyze_output part >out 2>&1 || { cat out; fail "the rerun failed"; }
  grep -q '"partial"' part/report.json && fail "the rerun's report is still partial"
  grep -q '^verdict: ' out || { cat out; fail "the rerun printed no verdict"; }
  echo "ok: analyze at $NP ranks stopped before $before with exit 75 and a partial report; the rerun completed; $(elapsed) s"
  ;;
landscape1 | landscape3)
  NP=${MODE#landscape}
  ARGS="-hessa_data_source blobs -hessa_data_samples 2000 -hessa_data_dim 20 -hessa_data_classes 4 -hessa_mlp_hidden 32 -hessa_landscape_plane -hessa_landscape_points 31 -hessa_landscape_group_size 1"
  land() { "$MPIEXEC" -n $NP --oversubscribe "$HESSA" landscape $ARGS "$@"; }
  "$MPIEXEC" -n $NP --oversubscribe "$HESSA" landscape $ARGS -hessa_landscape_output part >out 2>err &
  PIDS+=($!); mp=$!
  for i in $(seq 1 600); do grep -q '^hessa: landscape: [0-9]* grid points' err && break; sleep 0.1; done
  kill -USR1 "$mp"
  wait "$mp"; rc=$?
  [ $rc = 75 ] || { cat out err; fail "SIGUSR1 to mpirun: exit $rc, expected 75"; }
  grep -q 'stopped on request (signal 10)' out || { cat out; fail "no stop message"; }
  [ -s part/landscape.state ] || fail "no state file"
  grep -q '"partial":[[:space:]]*true' part/landscape.json || fail "partial landscape.json not marked partial"
  done_points=$(grep -o '"points_done":[[:space:]]*[0-9]*' part/landscape.json | grep -o '[0-9]*$')
  [ -n "$done_points" ] && [ "$done_points" -lt 961 ] || fail "expected fewer than 961 finished points, found '$done_points'"
  land -quiet -hessa_landscape_output part -resume >out 2>&1 || { cat out; fail "resume failed"; }
  land -quiet -hessa_landscape_output full >/dev/null 2>&1 || fail "uninterrupted run failed"
  cmp -s full/plane.csv part/plane.csv || fail "part/plane.csv differs from the uninterrupted full/plane.csv"
  grep -q '"partial":[[:space:]]*false' part/landscape.json || fail "part/landscape.json is not complete"
  [ ! -e part/landscape.state ] || fail "landscape.state left after the scan completed"
  land -quiet -hessa_landscape_output none -resume >out 2>&1 && fail "-resume without a state accepted"
  grep -q "cannot open the resume state 'none/landscape.state'" out || { cat out; fail "no clear missing-state message"; }
  echo "ok: landscape at $NP ranks stopped with $done_points of 961 points; resumed plane.csv bitwise equal; $(elapsed) s"
  ;;
*) fail "unknown mode" ;;
esac
