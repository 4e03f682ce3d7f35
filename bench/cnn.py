"""bench/run cnn: Hessian-vector products of a ResNet-style CNN on Fashion-MNIST, float64,
one BLAS thread per rank.

The network (built here in PyTorch float64, exported once with hessa's export recipe:
eval mode, TrainingMode.PRESERVE, no constant folding, opset 17, dynamic batch):
  stem    conv 3x3 (1 -> C) + BatchNorm + ReLU                          28x28
  block 1 conv 3x3 stride 2 (C -> 2C) + BN + ReLU, conv 3x3 + BN,
          shortcut conv 1x1 stride 2 + BN, add, ReLU                    14x14
  block 2 the same, 2C -> 4C                                            7x7
  head    global average pooling, flatten, linear 4C -> 10, cross-entropy
BatchNorm has non-trivial running statistics (inference form, as exported).

Measured in one run: hessa's seconds per Hv on 1 and 2 ranks (samples split), the GEMM
flops hessa's convolutions issue per Hv and their rate, this machine's dgemm rate
(2048^3), PyTorch 1.13's Hv time with the gradient graph built once and reused, and the
difference between the two Hv (hessa's parameters mapped to PyTorch's by name).
"""
import json, os, statistics, sys, tempfile
import numpy as np
from common import fashion_mnist, alternate_rounds, torch_hv_reused

SAMPLES, WIDTH, REPS, TORCH_REPS, ROUNDS = 128, 16, 5, 3, 2
ARGS = ["-hessa_data", "fashion-mnist", "-hessa_data_limit", str(SAMPLES), "-bench_reps", str(REPS), "-bench_chunk", "128"]


def build_model():
    import torch
    import torch.nn as nn
    torch.manual_seed(5)

    def conv_bn(cin, cout, k, stride):
        return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout))

    class Block(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.a = conv_bn(cin, cout, 3, 2)
            self.b = conv_bn(cout, cout, 3, 1)
            self.short = conv_bn(cin, cout, 1, 2)

        def forward(self, x):
            return torch.relu(self.b(torch.relu(self.a(x))) + self.short(x))

    class Net(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.stem = conv_bn(1, c, 3, 1)
            self.block1 = Block(c, 2 * c)
            self.block2 = Block(2 * c, 4 * c)
            self.fc = nn.Linear(4 * c, 10)

        def forward(self, x):
            x = torch.relu(self.stem(x))
            x = self.block2(self.block1(x))
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    net = Net(WIDTH).double()
    g = torch.Generator().manual_seed(6)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):  # statistics and affine terms away from the identity
            m.running_mean.copy_(0.1 * torch.randn(m.num_features, generator=g, dtype=torch.float64))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g, dtype=torch.float64))
            m.weight.data.copy_(1.0 + 0.2 * torch.randn(m.num_features, generator=g, dtype=torch.float64))
            m.bias.data.copy_(0.1 * torch.randn(m.num_features, generator=g, dtype=torch.float64))
    return net.eval()


def export(net, path):
    import torch
    x = torch.zeros(2, 1, 28, 28, dtype=torch.float64)
    torch.onnx.export(net, x, path, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, opset_version=17,
                      input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def torch_hv(net, prefix):
    """Median seconds of one Hv with the gradient graph reused, and |Hv_torch - Hv_hessa| / |Hv|."""
    import torch
    torch.set_num_threads(1)
    x, y = fashion_mnist(SAMPLES)
    x, y = torch.from_numpy(x).reshape(-1, 1, 28, 28), torch.from_numpy(y)
    loss = torch.nn.functional.cross_entropy(net(x), y)
    return torch_hv_reused(dict(net.named_parameters()), loss, prefix, TORCH_REPS, "cnn")


def main():
    # Open MPI busy-polls in collectives: on a shared or oversubscribed machine a waiting rank
    # would take the core its partner computes on
    os.environ.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
    tmp = tempfile.mkdtemp(prefix="hessa-bench-cnn-")
    model, prefix = os.path.join(tmp, "resnet.onnx"), os.path.join(tmp, "dir")
    net = build_model()
    export(net, model)
    n_params = sum(p.numel() for p in net.parameters())
    ones, twos, med = alternate_rounds(ROUNDS, "bench/bench_cnn", ["-bench_model", model] + ARGS, prefix, lambda: torch_hv(net, prefix))
    hv1, hv2, cpu1, cpu2, t_reused, rel = med["hv1"], med["hv2"], med["cpu1"], med["cpu2"], med["torch"], med["rel"]
    flops = ones[0]["hv_gemm_flops_rank0"]
    dgemm = ones[0]["dgemm_gflops"]
    gflops = statistics.median(r["hv_gflops"] for r in ones)
    gflops_cpu = statistics.median(r["hv_gflops_cpu"] for r in ones)
    dgemm_cpu = ones[0]["dgemm_gflops_cpu"]
    fig = {
        "benchmark": "cnn",
        "model": f"ResNet-style CNN (widths {WIDTH}/{2*WIDTH}/{4*WIDTH}, stride-2 blocks, BatchNorm, residual adds, global average pooling), "
                 f"{SAMPLES} Fashion-MNIST samples, cross-entropy, float64, 1 BLAS thread per rank",
        "n_parameters": ones[0]["n"],
        "n_parameters_torch": n_params,
        "hv_seconds_1_rank": hv1,
        "hv_seconds_2_ranks": hv2,
        "hv_conv_gemm_gflop": flops / 1e9,
        "hv_gflops": gflops,
        "dgemm_gflops": dgemm,
        "torch_hv_seconds_reused_graph": t_reused,
        "hv_relative_difference_vs_torch": rel,
        "rounds": ROUNDS,
        "hv_time_over_torch_reused": hv1 / t_reused,
        "hv_rate_over_dgemm_rate": gflops / dgemm if dgemm > 0 else 0.0,
        # rates by CPU seconds (this process's), for a machine shared with other jobs
        "hv_gflops_cpu": gflops_cpu,
        "dgemm_gflops_cpu": dgemm_cpu,
        "hv_rate_over_dgemm_rate_cpu_time": gflops_cpu / dgemm_cpu if dgemm_cpu > 0 else 0.0,
        "speedup_2_ranks": hv1 / hv2,
        # the same from the CPU seconds of the local product (slowest rank): what the split
        # of the work gives when the ranks do not share their cores with other jobs
        "hv_cpu_seconds_1_rank": cpu1,
        "hv_cpu_seconds_2_ranks": cpu2,
        "speedup_2_ranks_cpu_time": cpu1 / cpu2,
    }
    print(f"hessa Hv: {hv1:.3f} s (1 rank), {hv2:.3f} s (2 ranks); PyTorch Hv (graph reused): {t_reused:.3f} s; "
          f"|Hv_torch - Hv_hessa|/|Hv| = {rel:.2e}")
    print(f"convolution GEMM work per Hv {flops/1e9:.3f} GFLOP at {gflops:.2f} GFLOP/s; dgemm 2048^3: {dgemm:.2f} GFLOP/s")
    print(f"ratios: hessa / torch reused {fig['hv_time_over_torch_reused']:.3f} (goal <= 0.5); "
          f"Hv rate / dgemm rate {fig['hv_rate_over_dgemm_rate']:.3f} (goal >= 0.6; {fig['hv_rate_over_dgemm_rate_cpu_time']:.3f} by CPU time); "
          f"2-rank speedup {fig['speedup_2_ranks']:.2f} (goal >= 1.8; {fig['speedup_2_ranks_cpu_time']:.2f} by CPU time)")
    print(json.dumps(fig))
    return 0 if rel < 1e-8 else 1


if __name__ == "__main__":
    sys.exit(main())
