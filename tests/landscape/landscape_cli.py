#!/usr/bin/python3
"""The real `hessa landscape` at NP ranks against independent answers.

1. PyTorch builds two 784-16-10 tanh networks (float64, seeds 1 and 2) and writes them as
   weight folders (docs/weights.md); `hessa landscape -hessa_landscape_from A
   -hessa_landscape_to B` on 200 Fashion-MNIST samples writes line.csv: alpha = 0 and 1 are
   grid points and the whole line equals PyTorch's loss of (1 - alpha) A + alpha B to 1e-10
   relative; landscape.json, direction_1.npy (= B - A, 1e-15 |B - A|) and line.png/.svg exist.
2. A random plane at A (5 x 5): plane.csv at (0, 0) equals PyTorch's L(A) to 1e-10; each row
   of each weight matrix of direction_1.npy and direction_2.npy has the norm of A's row to
   1e-12 relative, the biases are 0; plane.png/.svg exist.
3. Bad input: a missing checkpoint folder, checkpoints of different architectures, a range
   with lo >= hi, zero points: non-zero exit, and the message names the file or option.
usage: landscape_cli.py MPIEXEC NP HESSA WORKDIR"""
import gzip, json, os, subprocess, sys
import numpy as np
import torch
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from weight_folders import save_torch

mpiexec, nprocs, hessa, work = sys.argv[1], sys.argv[2], sys.argv[3], os.path.abspath(sys.argv[4])
root = os.path.join(work, f"landscape_cli_np{nprocs}")
os.makedirs(root, exist_ok=True)
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
failures = []


def network(seed, hidden):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 10)).double()


def save(net, folder):
    save_torch(net, folder, "tanh", "cross-entropy")


def flat(net):
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()])


def loss_at(net, theta, x, y):
    torch.nn.utils.vector_to_parameters(theta, net.parameters())
    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(net(x), y))


def run(*args):
    return subprocess.run([mpiexec, "-n", nprocs, "--oversubscribe", hessa, "landscape", "-quiet", "-hessa_data_limit", "200", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def check(ok, what):
    if not ok:
        failures.append(what)


with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
    x = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:200] / 255.0)
with gzip.open("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz") as f:
    y = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=8)[:200].astype(np.int64))
net_a, net_b, net_c = network(1, 16), network(2, 16), network(3, 12)
a_dir, b_dir, c_dir = (os.path.join(root, n) for n in ("A", "B", "C"))
save(net_a, a_dir), save(net_b, b_dir), save(net_c, c_dir)
theta_a, theta_b = flat(net_a), flat(net_b)
probe = network(0, 16)

# 1. the line between the checkpoints
out = os.path.join(root, "line")
r = run("-hessa_landscape_from", a_dir, "-hessa_landscape_to", b_dir, "-hessa_landscape_output", out)
if r.returncode != 0:
    sys.exit(f"hessa landscape (line) failed (exit {r.returncode}):\n{r.stdout}\n{r.stderr}")
line = np.loadtxt(f"{out}/line.csv", delimiter=",", skiprows=1)
alpha, losses = line[:, 0], line[:, 1]
check(len(alpha) == 41 and 0.0 in alpha and 1.0 in alpha, f"line grid: 41 points with 0 and 1 expected, found {alpha}")
worst = 0.0
for a, l in zip(alpha, losses):
    ref = loss_at(probe, (1 - a) * theta_a + a * theta_b, x, y)
    worst = max(worst, abs(l - ref) / abs(ref))
print(f"line vs PyTorch: worst relative difference {worst:.3e}")
check(worst <= 1e-10, f"line differs from PyTorch by {worst:.3e} relative")
d1 = np.load(f"{out}/direction_1.npy")
diff = np.abs(d1 - (theta_b - theta_a).numpy()).max() / np.linalg.norm(d1)
check(diff <= 1e-15, f"direction_1.npy is not B - A ({diff:.3e})")
doc = json.load(open(f"{out}/landscape.json"))
check(doc["kind"] == "line" and doc["directions_kind"] == "checkpoints", f"landscape.json: kind {doc['kind']} {doc['directions_kind']}")
for ext in ("png", "svg"):
    check(os.path.getsize(f"{out}/line.{ext}") > 0, f"line.{ext} missing")

# 2. a random plane at A
out = os.path.join(root, "plane")
r = run("-hessa_model_weights", a_dir, "-hessa_landscape_plane", "-hessa_landscape_points", "5", "-hessa_landscape_output", out)
if r.returncode != 0:
    sys.exit(f"hessa landscape (plane) failed (exit {r.returncode}):\n{r.stdout}\n{r.stderr}")
plane = np.loadtxt(f"{out}/plane.csv", delimiter=",", skiprows=1)
centre = plane[(plane[:, 0] == 0) & (plane[:, 1] == 0), 2]
ref = loss_at(probe, theta_a, x, y)
check(len(plane) == 25 and len(centre) == 1 and abs(centre[0] - ref) <= 1e-10 * ref, f"plane centre {centre} vs PyTorch {ref}")
worst, bias = 0.0, 0.0
for k in (1, 2):
    d = np.load(f"{out}/direction_{k}.npy")
    offset = 0
    for p in net_a.parameters():
        t = p.detach().numpy()
        block = d[offset:offset + t.size].reshape(t.shape)
        offset += t.size
        if t.ndim == 2:
            worst = max(worst, np.max(np.abs(np.linalg.norm(block, axis=1) / np.linalg.norm(t, axis=1) - 1)))
        else:
            bias = max(bias, np.abs(block).max())
print(f"plane: centre {centre[0]!r} vs PyTorch {ref!r}; filter norms worst relative {worst:.3e}, biases {bias}")
check(worst <= 1e-12 and bias == 0, f"filter normalisation: rows off by {worst:.3e}, bias {bias}")
for ext in ("png", "svg"):
    check(os.path.getsize(f"{out}/plane.{ext}") > 0, f"plane.{ext} missing")

# 3. bad input
missing = os.path.join(root, "no-such-checkpoint")
cases = [
    ("missing checkpoint", ["-hessa_landscape_from", a_dir, "-hessa_landscape_to", missing], missing),
    ("different architectures", ["-hessa_landscape_from", a_dir, "-hessa_landscape_to", c_dir], "different architectures"),
    ("range lo >= hi", ["-hessa_landscape_from", a_dir, "-hessa_landscape_to", b_dir, "-hessa_landscape_range", "1,1"], "-hessa_landscape_range: expected lo < hi"),
    ("zero points", ["-hessa_landscape_from", a_dir, "-hessa_landscape_to", b_dir, "-hessa_landscape_points", "0"], "-hessa_landscape_points 0: expected an integer in [2, 1000000]"),
]
for name, args, text in cases:
    r = run(*args, "-hessa_landscape_output", os.path.join(root, "bad"))
    message = r.stdout + r.stderr
    print(f"{name}: exit {r.returncode}: {next((l for l in message.splitlines() if 'hessa: error:' in l), '')}")
    # one message (rank 0 prints it for every rank), never one per rank or a traceback
    check(r.returncode != 0 and text in message and message.count("hessa: error:") == 1, f"{name}: exit {r.returncode}, expected '{text}' in:\n{message}")
if "different architectures" in cases[1][2]:
    r = run(*cases[1][1], "-hessa_landscape_output", os.path.join(root, "bad"))
    check("784-16-10" in r.stderr and "784-12-10" in r.stderr, f"architecture message should show both networks:\n{r.stderr}")

if failures:
    sys.exit("\n".join(failures))
