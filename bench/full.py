"""bench/run full: the exact full spectrum (assembly + ELPA) against LAPACK on one thread.

Measured in one run, on 2 ranks with 1 BLAS thread each (bench/bench_full.c):
  n = 4096: a quadratic with a prescribed spectrum (bench_slq's) and generic dense
      eigenvectors (what -hessa_model quadratic uses); assembly and eigensolve seconds
      (medians of 3), and numpy.linalg.eigvalsh (LAPACK dsyevd, no vectors, one thread,
      median of 3) on the same assembled matrix: eigensolve_over_lapack_4096 (goal <= 0.5);
      the same for the quadratic whose eigenvectors are 4 Householder reflections (the
      matrix this benchmark used before: identity plus a rank-8 change, on which the
      divide-and-conquer step deflates nearly everything): *_4096_reflections;
  n = 12730: the embedded default point (784-16-10 tanh MLP, 1000 Fashion-MNIST samples,
      weight decay 1e-3); assembly and eigensolve seconds, LAPACK on the same matrix once,
      and the wall time of the whole `hessa analyze` of the default point (exact counts):
      default_point_seconds (goal <= 120 s).
  max_relative_eigenvalue_difference: max |lambda_hessa - lambda_lapack| / max |lambda| over
      both matrices (goal <= 1e-12).
Options: --ranks P (2), --skip-default (only n = 4096), --solver NAME (-hessa_full_solver).
The machine load (os.getloadavg) is recorded: other processes slow every figure down.
"""
import os
os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy: LAPACK on one thread
import argparse, json, subprocess, sys, tempfile, time
import numpy as np
from common import run_json, median_time, BUILD, ROOT

DEFAULT = ["-hessa_model_weights", os.path.join(ROOT, "share", "default-point"), "-hessa_data_limit", "1000",
           "-hessa_mlp_weight_decay", "1e-3"]


def lapack(prefix, reps):
    a = np.load(prefix + "_matrix.npy")
    a = 0.5 * (a + a.T)  # hessa's symmetrization
    w = np.linalg.eigvalsh(a)
    seconds = median_time(lambda: np.linalg.eigvalsh(a), reps) if reps > 1 else None
    if seconds is None:
        t0 = time.perf_counter()
        np.linalg.eigvalsh(a)
        seconds = time.perf_counter() - t0
    mine = np.load(prefix + "_values.npy")
    return seconds, float(np.max(np.abs(mine - w)) / np.max(np.abs(w)))


def analyze_seconds(ranks):
    out = tempfile.mkdtemp(prefix="bench_full_analyze_")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", "--bind-to", "none", os.path.join(BUILD, "hessa"), "analyze",
           "-hessa_analyze_output", os.path.join(out, "report"), "-quiet"]
    print("bench: " + " ".join(cmd), file=sys.stderr)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    report = json.load(open(os.path.join(out, "report", "report.json")))
    return seconds, report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--skip-default", action="store_true")
    ap.add_argument("--solver", default="elpa")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench_full_")
    load0 = os.getloadavg()[0]
    solver = ["-hessa_full_solver", args.solver]
    q = run_json(args.ranks, "bench/bench_full", ["-bench_full_n", "4096", "-bench_reps", "3", "-bench_dump", tmp + "/q"] + solver)
    lapack_4096, diff_4096 = lapack(tmp + "/q", 3)
    r = run_json(args.ranks, "bench/bench_full", ["-bench_full_n", "4096", "-bench_full_reflections", "-bench_reps", "3", "-bench_dump", tmp + "/r"] + solver)
    lapack_r, diff_r = lapack(tmp + "/r", 3)
    fig = {
        "benchmark": "full",
        "ranks": args.ranks, "solver": q["solver"],
        "assembly_seconds_4096": q["assembly_seconds"], "eigensolve_seconds_4096": q["eigensolve_seconds"],
        "lapack_eigvalsh_seconds_4096_1_thread": lapack_4096,
        "eigensolve_over_lapack_4096": q["eigensolve_seconds"] / lapack_4096,
        "max_relative_eigenvalue_difference_4096": diff_4096,
        "max_error_vs_prescribed_4096": q["max_error_vs_prescribed"] / 50.0,
        "peak_rss_mb_4096": q["peak_rss_mb_max_rank"], "memory_estimate_mb_4096": q["memory_estimate_bytes"] / 2**20,
        "eigensolve_seconds_min_4096": q["eigensolve_seconds_min"],
        "eigensolve_seconds_4096_reflections": r["eigensolve_seconds"],
        "lapack_eigvalsh_seconds_4096_reflections_1_thread": lapack_r,
        "eigensolve_over_lapack_4096_reflections": r["eigensolve_seconds"] / lapack_r,
        "max_relative_eigenvalue_difference_4096_reflections": diff_r,
    }
    print(f"n = 4096 quadratic on {args.ranks} ranks ({q['solver']}): assembly {q['assembly_seconds']:.2f} s, "
          f"eigensolve {q['eigensolve_seconds']:.2f} s; LAPACK eigvalsh 1 thread {lapack_4096:.2f} s "
          f"(ratio {fig['eigensolve_over_lapack_4096']:.2f}); max rel difference {diff_4096:.1e}")
    print(f"n = 4096, reflections as eigenvectors: eigensolve {r['eigensolve_seconds']:.2f} s; LAPACK {lapack_r:.2f} s "
          f"(ratio {fig['eigensolve_over_lapack_4096_reflections']:.2f})")
    diffs = [diff_4096, diff_r]
    if not args.skip_default:
        d = run_json(args.ranks, "bench/bench_full", DEFAULT + ["-bench_dump", tmp + "/d"] + solver)
        lapack_d, diff_d = lapack(tmp + "/d", 1)
        seconds, report = analyze_seconds(args.ranks)
        v = report.get("verdict", {})
        fig.update({
            "n_default": d["n"],
            "assembly_seconds_default": d["assembly_seconds"], "eigensolve_seconds_default": d["eigensolve_seconds"],
            "lapack_eigvalsh_seconds_default_1_thread": lapack_d,
            "eigensolve_over_lapack_default": d["eigensolve_seconds"] / lapack_d,
            "max_relative_eigenvalue_difference_default": diff_d,
            "peak_rss_mb_default": d["peak_rss_mb_max_rank"], "memory_estimate_mb_default": d["memory_estimate_bytes"] / 2**20,
            "default_point_seconds": seconds,
            "default_point_basis": v.get("basis"),
            "default_point_counts": [d["negative"], d["zero"], d["positive"]],
            "default_point_verdict": v.get("type"),
        })
        diffs.append(diff_d)
        print(f"n = {d['n']} default point: assembly {d['assembly_seconds']:.2f} s, eigensolve {d['eigensolve_seconds']:.2f} s; "
              f"LAPACK {lapack_d:.2f} s; max rel difference {diff_d:.1e}; hessa analyze {seconds:.1f} s (basis {v.get('basis')})")
    fig["max_relative_eigenvalue_difference"] = max(diffs)
    fig["load_average_start"] = load0
    fig["load_average_end"] = os.getloadavg()[0]
    fig["cores"] = os.cpu_count()
    print(json.dumps(fig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
