"""bench/run slq: stochastic Lanczos quadrature and the full spectrum.

Measured in one run:
  SLQ on the reference MLP (784-128-64-10 tanh, cross-entropy, 10,000 Fashion-MNIST
      samples, float64, 2 ranks, 1 BLAS thread each), 8 probes x 15 Lanczos steps, block
      mode (all probes advanced by one block product per step) vs probe-at-a-time with the
      same seed, alternating, 3 times (medians): seconds per probe, their ratio (block_speedup_per_probe), the fraction of
      SLQ time spent outside the products (overhead_beyond_products: reorthogonalization,
      tridiagonal eigenproblems, smoothing) and the largest node/weight difference;
  the full spectrum of an assembled n = 4096 quadratic with a prescribed spectrum
      (assembly from block products + ScaLAPACK pdsyev, eigenvalues only) on 2 ranks vs
      LAPACK (numpy.linalg.eigvalsh, dsyevd without vectors) on one thread for a symmetric
      matrix of the same size.
"""
import os
os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy: LAPACK on one thread
import json, sys, time
import numpy as np
from common import run_json, median_time

SAMPLES = 10000
MODEL = ["-hessa_data_limit", str(SAMPLES), "-hessa_mlp_hidden", "128,64", "-hessa_mlp_activation", "tanh",
         "-hessa_mlp_loss", "cross-entropy", "-hessa_model_seed", "3", "-bench_probes", "8", "-bench_steps", "15", "-bench_reps", "3"]
FULL_N = 4096


def lapack_seconds(n, reps=3):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n))
    a = 0.5 * (a + a.T)
    return median_time(lambda: np.linalg.eigvalsh(a), reps)


def main():
    slq = run_json(2, "bench/bench_slq", MODEL)
    full = [run_json(2, "bench/bench_slq", ["-bench_mode", "full", "-bench_full_n", str(FULL_N)]) for _ in range(3)]
    full_s = sorted(f["full_seconds"] for f in full)[1]
    full_eig_s = sorted(f["full_seconds"] - f["full_product_seconds"] for f in full)[1]
    lapack_s = lapack_seconds(FULL_N)
    p = slq["probes"]
    fig = {
        "benchmark": "slq",
        "model": "784-128-64-10 tanh cross-entropy, 10000 Fashion-MNIST samples, float64, 2 ranks x 1 BLAS thread",
        "n_parameters": slq["n"],
        "probes": p, "steps": slq["steps"], "products_per_mode": slq["products"],
        "block_seconds_per_probe": slq["block_seconds"] / p,
        "single_seconds_per_probe": slq["single_seconds"] / p,
        "block_speedup_per_probe": slq["single_seconds"] / slq["block_seconds"],
        "overhead_beyond_products": (slq["block_seconds"] - slq["block_product_seconds"]) / slq["block_seconds"],
        "overhead_beyond_products_single": (slq["single_seconds"] - slq["single_product_seconds"]) / slq["single_seconds"],
        "block_vs_single_max_node_difference": slq["max_node_difference"],
        "block_vs_single_max_weight_difference": slq["max_weight_difference"],
        "negative_fraction": slq["negative_fraction"], "negative_fraction_se": slq["negative_fraction_se"],
        "full_n": FULL_N,
        "full_seconds_2_ranks": full_s,
        "full_eigensolve_seconds_2_ranks": full_eig_s,
        "full_max_eigenvalue_error": max(f["max_eigenvalue_error"] for f in full),
        "lapack_eigvalsh_seconds_1_thread": lapack_s,
        "scalapack_2_ranks_over_lapack_1": full_eig_s / lapack_s,
    }
    print(f"SLQ {p} probes x {slq['steps']} steps on n = {slq['n']}: block {fig['block_seconds_per_probe']:.2f} s/probe, "
          f"probe-at-a-time {fig['single_seconds_per_probe']:.2f} s/probe (speedup {fig['block_speedup_per_probe']:.2f}); "
          f"time beyond products {100 * fig['overhead_beyond_products']:.1f}%; block vs single max node diff {slq['max_node_difference']:.1e}")
    print(f"full spectrum n = {FULL_N}: {full_s:.2f} s on 2 ranks ({full_eig_s:.2f} s eigensolve, error {fig['full_max_eigenvalue_error']:.1e}); "
          f"LAPACK eigvalsh 1 thread {lapack_s:.2f} s (ratio {fig['scalapack_2_ranks_over_lapack_1']:.2f})")
    print(json.dumps(fig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
