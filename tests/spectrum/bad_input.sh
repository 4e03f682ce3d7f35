#!/bin/bash
# Driver of the spectrum bad-input tests: one case of bad_cases.txt through the real
# executable.  usage: bad_input.sh CASES NAME NP MPIEXEC HESSA
# Passes when the run ends within 20 s with a non-zero exit status, the output holds the
# expected message and "hessa: error:" appears exactly once (rank 0 speaks for all ranks).
# Silent on success.
set -u
cases=$1 name=$2 np=$3 mpiexec=$4 hessa=$5
line=$(grep -E "^${name} *\|" "$cases") || { echo "no case $name in $cases"; exit 2; }
options=$(echo "$line" | cut -d'|' -f2)
expected=$(echo "$line" | cut -d'|' -f3- | sed -e 's/^ *//' -e 's/ *$//')
# shellcheck disable=SC2086 # options are split on purpose
out=$(timeout -s KILL 20 "$mpiexec" -n "$np" --oversubscribe "$hessa" spectrum $options -quiet 2>&1)
status=$?
problems=""
[ $status -eq 137 ] && problems+="did not finish within 20 s; "
[ $status -eq 0 ] && problems+="exit status 0, expected non-zero; "
grep -qF -- "$expected" <<<"$out" || problems+="output lacks the expected message: $expected; "
count=$(grep -c "hessa: error:" <<<"$out")
[ "$count" -eq 1 ] || problems+="'hessa: error:' appears $count times, expected once; "
if [ -n "$problems" ]; then
  echo "case $name on $np ranks: $problems"
  echo "output:"
  echo "$out"
  exit 1
fi
exit 0
