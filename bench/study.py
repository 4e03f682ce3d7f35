"""bench/run study: study-mode throughput and the collector's cost.

One manifest of POINTS small MLPs (20-32-3 tanh, cross-entropy, 2000 blob samples, n = 771,
each analysed with its exact full spectrum, extremes, trace, probes and Newton) is run with
`hessa study` on 3 ranks (rank 0 collects, ranks 1-2 analyse), alternating, REPS times
(medians):
  groups of 1     two groups, each analysing whole points on one rank
  one group of 2  every point analysed by both worker ranks together (data sharded)
Figures: points per minute for each (throughput ratio groups1 / group2), and the collector's
overhead: its CPU seconds and seconds spent appending results (fsync'd) per point, and the
wall time beyond the points' own (wall - sum of point seconds / groups) per point.
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time
import numpy as np
from common import BUILD, ROOT
sys.path.insert(0, os.path.join(ROOT, "tools"))
from weight_folders import save_mlp

POINTS = int(os.environ.get("BENCH_STUDY_POINTS", "12"))
REPS = int(os.environ.get("BENCH_STUDY_REPS", "3"))


def main():
    work = tempfile.mkdtemp(prefix="hessa-bench-study-")
    lines = ["options:", "  hessa_data_source: blobs", "  hessa_data_samples: 2000", "  hessa_data_dim: 20", "points:"]
    for k in range(POINTS):
        save_mlp(f"{work}/pts/p{k:02d}", [20, 32, 3], k + 1)
        lines.append(f"  - {{name: p{k:02d}, weights: pts/p{k:02d}}}")
    open(f"{work}/manifest.yaml", "w").write("\n".join(lines) + "\n")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    runs = {"groups1": [], "group2": []}
    for rep in range(REPS):
        for label, g in (("groups1", 1), ("group2", 2)):
            out = f"{work}/out-{label}-{rep}"
            cmd = ["mpirun", "-n", "3", "--oversubscribe", "--bind-to", "none", os.path.join(BUILD, "hessa"), "study",
                   "-hessa_study_manifest", f"{work}/manifest.yaml", "-hessa_study_output", out,
                   "-hessa_study_group_size", str(g), "-quiet"]
            print("bench: " + " ".join(cmd), file=sys.stderr)
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            wall = time.perf_counter() - t0
            study = json.load(open(f"{out}/study.json"))
            assert study["counts"]["analysed"] == POINTS and study["counts"]["failed"] == 0, study["counts"]
            c = study["collector"]
            point_seconds = sum(p["seconds"] for p in study["points"])
            runs[label].append({"wall": wall, "study_wall": c["wall_seconds"], "cpu": c["process_cpu_seconds"],
                                "record": c["record_seconds"], "farm_overhead": c["wall_seconds"] - point_seconds / c["groups"]})
            print(f"bench: {label} rep {rep}: {wall:.1f} s wall, {POINTS / wall * 60:.1f} points/min", file=sys.stderr)
    med = {label: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for label, rs in runs.items()}
    ppm = {label: POINTS / m["wall"] * 60 for label, m in med.items()}
    fig = {
        "benchmark": "study",
        "points": POINTS, "ranks": 3, "reps": REPS, "model": "mlp 20-32-3 tanh, n=771, blobs 2000 samples, full spectrum",
        "points_per_minute_groups_of_1": round(ppm["groups1"], 2),
        "points_per_minute_one_group_of_2": round(ppm["group2"], 2),
        "throughput_ratio_groups1_over_group2": round(ppm["groups1"] / ppm["group2"], 3),
        "collector_cpu_seconds_per_point": round(med["groups1"]["cpu"] / POINTS, 4),
        "collector_record_ms_per_point": round(1000 * med["groups1"]["record"] / POINTS, 3),
        "farm_overhead_seconds_per_point_groups_of_1": round(med["groups1"]["farm_overhead"] / POINTS, 4),
        "farm_overhead_seconds_per_point_group_of_2": round(med["group2"]["farm_overhead"] / POINTS, 4),
        "startup_and_report_seconds_groups_of_1": round(med["groups1"]["wall"] - med["groups1"]["study_wall"], 2),
    }
    print(f"study throughput: groups of 1 {fig['points_per_minute_groups_of_1']} points/min, one group of 2 "
          f"{fig['points_per_minute_one_group_of_2']} points/min (ratio {fig['throughput_ratio_groups1_over_group2']})")
    print(f"collector: {fig['collector_cpu_seconds_per_point']} CPU s and {fig['collector_record_ms_per_point']} ms of "
          f"fsync'd appends per point; farm overhead beyond the points' own time {fig['farm_overhead_seconds_per_point_groups_of_1']} s/point")
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(fig))


if __name__ == "__main__":
    main()
