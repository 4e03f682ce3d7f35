#!/usr/bin/python3
"""A weight folder written by PyTorch exactly as docs/weights.md shows, loaded by hessa.

1. builds a 784-16-12-10 softplus network in PyTorch (float64, seed 0) and writes it with
   the documented loop;
2. runs `mpiexec -n NP hessa info -hessa_model_weights DIR -hessa_data_limit 300`, which
   prints the loss and the gradient norm at those weights;
3. asserts they equal PyTorch's loss and gradient norm on the same 300 Fashion-MNIST
   samples (pixels / 255) to 1e-10 relative (hessa prints 12 digits).
usage: torch_weights.py MPIEXEC NP HESSA WORKDIR"""
import gzip, json, os, re, subprocess, sys
import numpy as np
import torch

mpiexec, nprocs, hessa, work = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
folder = os.path.join(work, f"torch_point_np{nprocs}")
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(784, 16), torch.nn.Softplus(), torch.nn.Linear(16, 12),
                          torch.nn.Softplus(), torch.nn.Linear(12, 10)).double()
# --- the loop of docs/weights.md ---
os.makedirs(folder, exist_ok=True)
linears = [m for m in net if isinstance(m, torch.nn.Linear)]
tensors = []
for k, layer in enumerate(linears):
    for kind in ("weight", "bias"):
        name = f"layers.{k}.{kind}"
        value = getattr(layer, kind).detach().double().numpy()
        np.save(f"{folder}/{name}.npy", value)
        tensors.append({"name": name, "file": f"{name}.npy", "shape": list(value.shape)})
widths = [linears[0].in_features] + [m.out_features for m in linears]
json.dump({"format": "hessa-weights", "version": 1, "model": "mlp", "widths": widths,
           "activation": "softplus", "loss": "cross-entropy", "tensors": tensors},
          open(f"{folder}/model.json", "w"), indent=1)
# --- PyTorch's answer ---
with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:300] / 255.0
with gzip.open("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)[:300].astype(np.int64)
loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
grads = torch.autograd.grad(loss, list(net.parameters()))
gnorm = float(torch.sqrt(sum((g * g).sum() for g in grads)))
# --- hessa's ---
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
out = subprocess.run([mpiexec, "-n", nprocs, "--oversubscribe", hessa, "info", "-hessa_model_weights", folder,
                      "-hessa_data_limit", "300", "-quiet"], capture_output=True, text=True, env=env, timeout=120)
m = re.search(r"loss ([-0-9.eE+]+), \|gradient\| ([-0-9.eE+]+)", out.stdout)
if out.returncode != 0 or not m:
    sys.exit(f"hessa info failed (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
h_loss, h_gnorm = float(m.group(1)), float(m.group(2))
# hessa prints both with 12 significant digits
if abs(h_loss - float(loss)) > 1e-10 * abs(float(loss)) or abs(h_gnorm - gnorm) > 1e-10 * gnorm:
    sys.exit(f"hessa loss {h_loss} |g| {h_gnorm} vs PyTorch {float(loss)} {gnorm}")
