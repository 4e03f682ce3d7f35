"""bench/run transformer: Hessian-vector products of the shipped decoder-only transformer
(tools/grokking.py: 2 layers, width 64, 4 heads, context 32, GELU MLP 4x, LayerNorm) on its
modular-addition data (a + b mod 23, 212 training sequences "a b = c", only c predicted),
float64, one BLAS thread per rank.

Measured in one run: hessa's seconds per Hv on 1 and 2 ranks (sequences split), PyTorch
1.13's Hv time with the gradient graph built once and reused (double backward), the
difference between the two Hv (parameters matched by name), and this machine's dgemm rate
(2048^3). hessa's Hv rate is an ESTIMATE: the matrix-multiply work of one Hv is taken as
6 x the forward pass's (tangent pass 2, R-backward 2, first-order terms of the
second-order pass 2), counted from the model's shapes; attention's small batched
products are included, elementwise work is not.
"""
import json, os, subprocess, sys, tempfile
import numpy as np
from common import ROOT, alternate_rounds, torch_hv_reused

REPS, TORCH_REPS, ROUNDS = 5, 3, 2


def forward_matmul_flops(n_seq, T=4, width=64, layers=2, heads=4, vocab=24):
    per_token = layers * (2 * width * 3 * width + 2 * width * width + 2 * 2 * width * 4 * width) + 2 * width * vocab
    attention = layers * 2 * 2 * T * T * width  # q k^T and att v, all heads
    return n_seq * (T * per_token + attention)


def torch_hv(out, prefix):
    """Median seconds of one Hv with the gradient graph reused, and |Hv_torch - Hv_hessa| / |Hv|."""
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "onnx"))
    from models import TinyGPT, _randomize_gpt_layernorm
    torch.manual_seed(0)
    net = _randomize_gpt_layernorm(TinyGPT(vocab=24, context=32, width=64, heads=4, layers=2, seq_len=4)).double().eval()
    tokens = torch.from_numpy(np.load(f"{out}/train.npy"))
    mask = torch.from_numpy(np.load(f"{out}/train_mask.npy"))
    targets = torch.full_like(tokens, -1)
    targets[:, :-1] = torch.where(mask[:, 1:], tokens[:, 1:], torch.tensor(-1))
    z = net(tokens)
    loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), targets.reshape(-1), ignore_index=-1)
    return torch_hv_reused(dict(net.named_parameters()), loss, prefix, TORCH_REPS, "transformer")


def main():
    os.environ.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
    tmp = tempfile.mkdtemp(prefix="hessa-bench-transformer-")
    out, prefix = os.path.join(tmp, "grok"), os.path.join(tmp, "dir")
    # 40 % of the pairs (212 sequences): the workload the published figures were measured on
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "grokking.py"), out, "--train-fraction", "0.4"], check=True, stdout=sys.stderr)
    n_seq = len(np.load(f"{out}/train.npy"))
    args = ["-bench_model", f"{out}/model.onnx", "-hessa_data_source", "tokens", "-hessa_data_features", f"{out}/train.npy",
            "-hessa_data_mask", f"{out}/train_mask.npy", "-bench_reps", str(REPS), "-bench_chunk", "256"]
    ones, twos, med = alternate_rounds(ROUNDS, "bench/bench_cnn", args, prefix, lambda: torch_hv(out, prefix))
    hv1, hv2, cpu1, cpu2, t_reused, rel = med["hv1"], med["hv2"], med["cpu1"], med["cpu2"], med["torch"], med["rel"]
    dgemm = ones[0]["dgemm_gflops"]
    flops = 6.0 * forward_matmul_flops(n_seq)
    gflops = flops / hv1 / 1e9
    fig = {
        "benchmark": "transformer",
        "model": f"decoder-only transformer (tools/grokking.py: 2 layers, width 64, 4 heads, context 32), {n_seq} sequences of a + b mod 23, "
                 "next-token cross-entropy on the answer, float64, 1 BLAS thread per rank",
        "n_parameters": ones[0]["n"],
        "hv_seconds_1_rank": hv1,
        "hv_seconds_2_ranks": hv2,
        "torch_hv_seconds_reused_graph": t_reused,
        "hv_relative_difference_vs_torch": rel,
        "hv_matmul_gflop_estimate": flops / 1e9,
        "hv_gflops_estimate": gflops,
        "dgemm_gflops": dgemm,
        "rounds": ROUNDS,
        "hv_time_over_torch_reused": hv1 / t_reused,
        "hv_rate_over_dgemm_rate": gflops / dgemm if dgemm > 0 else 0.0,
        "speedup_2_ranks": hv1 / hv2,
        "hv_cpu_seconds_1_rank": cpu1,
        "hv_cpu_seconds_2_ranks": cpu2,
        "speedup_2_ranks_cpu_time": cpu1 / cpu2,
    }
    print(f"hessa Hv: {hv1:.4f} s (1 rank), {hv2:.4f} s (2 ranks); PyTorch Hv (graph reused): {t_reused:.4f} s; "
          f"|Hv_torch - Hv_hessa|/|Hv| = {rel:.2e}")
    print(f"matrix-multiply work per Hv (estimate) {flops/1e9:.3f} GFLOP at {gflops:.2f} GFLOP/s; dgemm 2048^3: {dgemm:.2f} GFLOP/s")
    print(f"ratios: hessa / torch reused {fig['hv_time_over_torch_reused']:.3f} (goal <= 0.6); "
          f"Hv rate / dgemm rate {fig['hv_rate_over_dgemm_rate']:.3f} (estimate); "
          f"2-rank speedup {fig['speedup_2_ranks']:.2f} (goal >= 1.8; {fig['speedup_2_ranks_cpu_time']:.2f} by CPU time)")
    print(json.dumps(fig))
    return 0 if rel < 1e-8 else 1


if __name__ == "__main__":
    sys.exit(main())
