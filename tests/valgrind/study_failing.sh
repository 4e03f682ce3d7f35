#!/bin/bash
# hessa study under valgrind with points that fail at different depths of the pipeline:
# a missing weight folder (before anything is set up) and a full spectrum refused after
# the data, model, operator and extreme eigenvectors exist (-hessa_full_max_n 1). Every
# failing point must free what it set up (no definite leak, run_valgrind.sh), the good
# points must still be analysed, and results.jsonl must name each failure.
# Usage: study_failing.sh NP MPIEXEC HESSA SOURCE_DIR
set -u
np=$1 mpiexec=$2 hessa=$3 src=$4
dir=$(mktemp -d "$PWD/study_failing.XXXXXX")
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 - "$dir" "$src/tools" <<'PY' || exit 1
import sys
sys.path.insert(0, sys.argv[2])
from weight_folders import save_analytic, save_mlp
d = sys.argv[1]
save_analytic(f"{d}/pts/toy", "linear-toy", [0, 0])
save_mlp(f"{d}/pts/mlp", [4, 3, 3], 1)
open(f"{d}/manifest.yaml", "w").write("""options:
  hessa_analyze_trace: 4
  hessa_data_source: blobs
  hessa_data_samples: 60
  hessa_data_dim: 4
points:
  - {name: toy, weights: pts/toy}
  - {name: missing, weights: pts/does-not-exist}
  - {name: full-refused, weights: pts/mlp, options: {hessa_full_max_n: 1}}
  - {name: mlp, weights: pts/mlp}
  - {name: toy-full-refused, weights: pts/toy, options: {hessa_full_max_n: 1}}
""")
PY
"$(dirname "$0")/run_valgrind.sh" 0 "$np" "$mpiexec" "$(dirname "$0")/hessa.supp" -- \
  "$hessa" study -quiet -hessa_report_plots 0 -hessa_study_manifest "$dir/manifest.yaml" -hessa_study_output "$dir/out" || exit 1
/usr/bin/python3 - "$dir/out/results.jsonl" <<'PY'
import json, sys
lines = {l["name"]: l for l in map(json.loads, open(sys.argv[1]))}
want = {"toy": "ok", "mlp": "ok", "missing": "failed", "full-refused": "failed", "toy-full-refused": "failed"}
got = {k: v.get("status") for k, v in lines.items()}
if got != want:
    sys.exit(f"study_failing: statuses {got}, expected {want}")
if lines["toy"].get("verdict") != "saddle":
    sys.exit(f"study_failing: toy point verdict {lines['toy'].get('verdict')}, expected saddle")
for name in ("full-refused", "toy-full-refused"):
    if "hessa_full_max_n" not in lines[name].get("error", ""):
        sys.exit(f"study_failing: {name}: error does not name -hessa_full_max_n: {lines[name].get('error')}")
PY
