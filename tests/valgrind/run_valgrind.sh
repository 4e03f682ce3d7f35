#!/bin/bash
# Run an MPI program under valgrind memcheck, one valgrind per rank.
# Usage: run_valgrind.sh EXPECTED_STATUS NP MPIEXEC SUPP_FILE -- program args...
# Passes when every rank exits with EXPECTED_STATUS (valgrind turns an error or a
# definite leak into 97) and every rank's valgrind log is complete, reports no errors and
# says "definitely lost: 0 bytes" (or has no leak summary: nothing was lost at all).
# Silent on success; prints the program's output and every log otherwise.
set -u
expected=$1 np=$2 mpiexec=$3 supp=$4
shift 4
[ "${1:-}" = -- ] && shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Let every rank finish (and write its leak summary) even when another exits non-zero:
# mpiexec's own status then says nothing, so each rank records its status in a file.
export OMPI_MCA_orte_abort_on_non_zero_status=0
vg=(valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
    --error-exitcode=97 --num-callers=40
    --suppressions=/usr/share/openmpi/openmpi-valgrind.supp --suppressions="$supp"
    --log-file="$dir/vg.%p.log")
"$mpiexec" -n "$np" --oversubscribe /bin/sh -c \
  '"$@"; echo $? >"'"$dir"'/status.$OMPI_COMM_WORLD_RANK"' sh "${vg[@]}" "$@" >"$dir/out.txt" 2>&1
mpiexec_status=$?

fail=()
for ((r = 0; r < np; r++)); do
  if [ ! -f "$dir/status.$r" ]; then
    fail+=("rank $r: no exit status (mpiexec exited $mpiexec_status)")
  elif [ "$(cat "$dir/status.$r")" != "$expected" ]; then
    fail+=("rank $r: exit status $(cat "$dir/status.$r"), expected $expected")
  fi
done
logs=("$dir"/vg.*.log)
[ -e "${logs[0]}" ] || logs=()
[ ${#logs[@]} = "$np" ] || fail+=("${#logs[@]} valgrind logs for $np ranks")
for f in "${logs[@]}"; do
  b=$(basename "$f")
  if ! grep -q 'ERROR SUMMARY:' "$f"; then
    fail+=("$b: incomplete (the process did not exit normally)")
    continue
  fi
  grep -q 'ERROR SUMMARY: 0 errors' "$f" || fail+=("$b: memcheck errors")
  if grep -q 'definitely lost:' "$f" && ! grep -q 'definitely lost: 0 bytes' "$f"; then
    fail+=("$b: definite leak")
  fi
done
if [ ${#fail[@]} -gt 0 ]; then
  echo "valgrind test failed (np $np): $*"
  printf '  %s\n' "${fail[@]}"
  echo "=== program output"
  cat "$dir/out.txt"
  for f in "${logs[@]}"; do
    echo "=== $f"
    cat "$f"
  done
  exit 1
fi
exit 0
