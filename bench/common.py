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
