#!/bin/bash
# Set up (scripts/setup.sh) and run the whole test suite: ctest on the release build at
# 1, 2 and 3 ranks, then again on an AddressSanitizer + UndefinedBehaviorSanitizer build.
# Prints ctest's summary lines; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
scripts/setup.sh build || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
status=0
echo "test: ctest (release build)"
(cd build && ctest --output-on-failure -j 2 --timeout 600) || status=1

if [ "${HESSA_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "test: building with AddressSanitizer + UndefinedBehaviorSanitizer"
  scripts/setup.sh build-asan -DHESSA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug || exit 1
  # Open MPI and PETSc keep allocations until exit: leaks are checked by valgrind instead.
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  echo "test: ctest (sanitizer build)"
  (cd build-asan && ctest --output-on-failure -j 2 --timeout 900 -LE slow) || status=1
fi
echo "test: done in $(( $(date +%s) - t0 )) s, status $status"
exit $status
