#!/usr/bin/python3
"""Regenerate share/default-point: the embedded default of `hessa analyze`.

An MLP 784-16-10 (tanh, softmax cross-entropy, weight decay 1e-3) trained in float64 with
PyTorch's L-BFGS on the first 1000 Fashion-MNIST training samples (pixels / 255) until the
gradient norm of the regularized loss is below 1e-9, written in hessa's weight format
(docs/weights.md). Deterministic: seed 0, one thread.
usage: tools/make_default_point.py [OUTDIR]"""
import gzip, json, os, sys
import numpy as np
import torch

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "share", "default-point")
SAMPLES, WD = 1000, 1e-3
torch.manual_seed(0)
torch.set_num_threads(1)
with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
    x = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:SAMPLES] / 255.0)
with gzip.open("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz") as f:
    y = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=8)[:SAMPLES].astype(np.int64))
net = torch.nn.Sequential(torch.nn.Linear(784, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10)).double()
params = list(net.parameters())

def loss_fn():
    return torch.nn.functional.cross_entropy(net(x), y) + 0.5 * WD * sum((p * p).sum() for p in params)

opt = torch.optim.LBFGS(params, lr=1, max_iter=2000, tolerance_grad=1e-12, tolerance_change=0, history_size=50, line_search_fn="strong_wolfe")
def closure():
    opt.zero_grad()
    l = loss_fn()
    l.backward()
    return l
for _ in range(15):
    opt.step(closure)
    l = loss_fn()
    g = torch.autograd.grad(l, params)
    gnorm = float(torch.sqrt(sum((gi * gi).sum() for gi in g)))
    print(f"loss {float(l):.12f} |g| {gnorm:.3e}", file=sys.stderr)
    if gnorm < 1e-9:
        break
os.makedirs(out, exist_ok=True)
tensors = []
for k, layer in enumerate(m for m in net if isinstance(m, torch.nn.Linear)):
    for kind in ("weight", "bias"):
        name = f"layers.{k}.{kind}"
        value = getattr(layer, kind).detach().numpy()
        np.save(os.path.join(out, name + ".npy"), value)
        tensors.append({"name": name, "file": name + ".npy", "shape": list(value.shape)})
json.dump({"format": "hessa-weights", "version": 1, "model": "mlp", "widths": [784, 16, 10], "activation": "tanh",
           "loss": "cross-entropy", "tensors": tensors}, open(os.path.join(out, "model.json"), "w"), indent=1)
print(f"wrote {out}: loss {float(l):.12f}, |g| {gnorm:.3e}")
