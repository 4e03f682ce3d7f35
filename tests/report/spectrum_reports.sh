#!/bin/bash
# Writes the report.json files of `hessa spectrum` (and a stopped `hessa analyze`) that the
# report_schema test validates:
#   OUT/spectrum_complete  every phase on the quadratic (n = 60), both trace estimators
#   OUT/spectrum_hutchpp   extremes and the Hutch++ trace only (results.trace "hutch++")
#   OUT/spectrum_partial   stopped by -hessa_stop_after_products 30 in the density (exit 75)
#   OUT/analyze_partial    hessa analyze stopped after 5 products, before the spectrum phase
#                          (exit 75): "partial", "stopped_before", verdict "stopped"
# usage: spectrum_reports.sh MPIEXEC HESSA OUT ; silent on success.
set -uo pipefail
MPIEXEC=$1 HESSA=$2 OUT=$3
run() { "$MPIEXEC" -n 2 --oversubscribe "$HESSA" spectrum -hessa_model quadratic -hessa_model_dim 60 -quiet "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$OUT" && cd "$OUT" || fail "cannot enter $OUT"
rm -rf spectrum_complete spectrum_hutchpp spectrum_partial
run -hessa_spectrum_extremes 3 -hessa_spectrum_full -hessa_spectrum_density -hessa_spectrum_trace -hessa_trace_method both -hessa_spectrum_output spectrum_complete >out 2>&1 || { cat out; fail "complete run"; }
run -hessa_spectrum_extremes 2 -hessa_spectrum_trace -hessa_trace_method hutchpp -hessa_spectrum_output spectrum_hutchpp >out 2>&1 || { cat out; fail "Hutch++ run"; }
run -hessa_spectrum_density -hessa_spectrum_trace -hessa_stop_after_products 30 -hessa_spectrum_output spectrum_partial >out 2>&1; rc=$?
[ $rc = 75 ] || { cat out; fail "stopped run: exit $rc, expected 75"; }
rm -rf analyze_partial
"$MPIEXEC" -n 2 --oversubscribe "$HESSA" analyze -hessa_model quadratic -hessa_model_dim 60 -quiet -hessa_stop_after_products 5 -hessa_analyze_output analyze_partial >out 2>&1; rc=$?
[ $rc = 75 ] || { cat out; fail "stopped analyze: exit $rc, expected 75"; }
for f in spectrum_complete spectrum_hutchpp spectrum_partial analyze_partial; do [ -s $f/report.json ] || fail "$f/report.json not written"; done
rm -f out
