"""Shared helpers of hessa's benchmarks: running hessa programs under mpirun, loading the
data and a weight folder into PyTorch, medians."""
import gzip, json, os, statistics, subprocess, sys, time
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
FMNIST = "/usr/share/datasets/fashion-mnist"


def run_json(ranks, program, args, threads=1):
    """Run a hessa program with mpirun and return the JSON object on its last stdout line."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", "--bind-to", "none",
           os.path.join(BUILD, program)] + list(args) + ["-quiet"]
    print("bench: " + " ".join(cmd), file=sys.stderr)
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def fashion_mnist(limit):
    """First `limit` training samples as float64 pixels in [0,1] and int64 labels."""
    with gzip.open(f"{FMNIST}/train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:limit]
    with gzip.open(f"{FMNIST}/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:limit]
    return x.astype(np.float64) / 255.0, y.astype(np.int64)


def torch_mlp(folder):
    """A float64 torch.nn.Sequential with the weights of a hessa weight folder."""
    import torch
    meta = json.load(open(os.path.join(folder, "model.json")))
    acts = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid,
            "softplus": torch.nn.Softplus, "gelu": torch.nn.GELU, "identity": torch.nn.Identity}
    w = meta["widths"]
    layers = []
    for k in range(len(w) - 1):
        layers.append(torch.nn.Linear(w[k], w[k + 1]).double())
        if k < len(w) - 2:
            layers.append(acts[meta["activation"]]())
    net = torch.nn.Sequential(*layers)
    params = [p for p in net.parameters()]
    for p, t in zip(params, meta["tensors"]):
        p.data.copy_(torch.from_numpy(np.load(os.path.join(folder, t["file"])).astype(np.float64)))
    return net, params


def median_time(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def torch_hv_reused(named, loss, prefix, reps, who):
    """PyTorch's Hv with the gradient graph built once and reused (double backward), the
    parameters in hessa's order (prefix.params.json: names, offsets, counts), along hessa's
    direction (prefix.v.npy). named: the module's named parameters; loss: the loss tensor.
    Returns (median seconds of one Hv over reps, |Hv_torch - Hv_hessa| / |Hv_torch| with
    hessa's Hv from prefix.hv.npy)."""
    import torch
    table = json.load(open(prefix + ".params.json"))
    names = [t["name"] for t in table]
    if sorted(names) != sorted(named):
        raise SystemExit(f"bench {who}: hessa's parameters {names} do not match PyTorch's {sorted(named)}")
    params = [named[n] for n in names]
    v_flat = torch.from_numpy(np.load(prefix + ".v.npy"))
    vs = [v_flat[t["offset"]:t["offset"] + t["count"]].view_as(named[t["name"]]) for t in table]
    grads = torch.autograd.grad(loss, params, create_graph=True)

    def hv_reused():
        dot = sum((g * v).sum() for g, v in zip(grads, vs))
        return torch.autograd.grad(dot, params, retain_graph=True)

    hv = torch.cat([h.reshape(-1) for h in hv_reused()]).numpy()
    ref = np.load(prefix + ".hv.npy")
    rel = float(np.linalg.norm(hv - ref) / np.linalg.norm(hv))
    return median_time(hv_reused, reps), rel


def alternate_rounds(rounds, program, args, prefix, torch_run):
    """Timings vary by +-30 % between processes here: hessa's program on 1 rank, PyTorch
    (torch_run() -> (seconds, relative difference)) and the program on 2 ranks, alternated
    for `rounds` rounds; the first 1-rank run writes the direction and its Hv under prefix
    (-bench_direction) and measures dgemm. Returns (1-rank results, 2-rank results, medians:
    hv1, hv2 (seconds per Hv), cpu1, cpu2 (CPU seconds per Hv), torch (seconds per Hv),
    rel (the largest relative difference to PyTorch))."""
    ones, twos, torch_runs = [], [], []
    for k in range(rounds):
        extra = ["-bench_direction", prefix] if k == 0 else ["-bench_dgemm_n", "0"]
        ones.append(run_json(1, program, args + extra))
        torch_runs.append(torch_run())
        twos.append(run_json(2, program, args + ["-bench_dgemm_n", "0"]))
    med = {"hv1": statistics.median(r["hv_seconds"] for r in ones), "hv2": statistics.median(r["hv_seconds"] for r in twos),
           "cpu1": statistics.median(r["hv_cpu_seconds"] for r in ones), "cpu2": statistics.median(r["hv_cpu_seconds"] for r in twos),
           "torch": statistics.median(t[0] for t in torch_runs), "rel": max(t[1] for t in torch_runs)}
    return ones, twos, med
