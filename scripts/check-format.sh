#!/bin/bash
# Check that every C file of hessa is formatted with the committed .clang-format
# (clang-format 14, Debian 12). Prints the files that differ; exits non-zero if any does.
# To format: scripts/check-format.sh --fix
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'src/*.[ch]' 'include/*.h' 'tests/*.[ch]' 'bench/*.[ch]' 'fuzz/*.[ch]')
if [ "${1:-}" = --fix ]; then clang-format -i "${files[@]}"; exit 0; fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then echo "format: $f differs from .clang-format (scripts/check-format.sh --fix)"; bad=$((bad + 1)); fi
done
echo "format: ${#files[@]} files checked, $bad not formatted"
[ "$bad" = 0 ]
