#!/usr/bin/python3
"""Independent reference for hessa's MLP objective, used by test_mlp_torch.c.

Usage: /usr/bin/python3 torch_reference.py FOLDER [FOLDER ...]

Each FOLDER holds arch.json ({"widths": [...], "activation": ..., "loss":
"cross-entropy" | "mse", "weight_decay": ...}) and the NPY files theta.npy (n,),
x.npy (N, w0), labels.npy (N,) for cross-entropy or y.npy (N, wL) for mse, and
v.npy (b, n). The script builds the same network from torch.nn.Linear layers in
float64 (parameters in hessa's order: layers.K.weight out x in, then layers.K.bias)
and writes, for the objective  f = mean loss + weight_decay/2 |theta|^2:
  loss.npy (1,)   f
  grad.npy (n,)   grad f                                (backward)
  hv.npy  (b, n)  H v_j                                 (double backward)
  gv.npy  (b, n)  (J^T H_loss J + weight_decay I) v_j   (jvp, loss Hessian, vjp)
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.stateless import functional_call

ACTIVATIONS = {
    "identity": lambda z: z,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": F.relu,
    "softplus": F.softplus,  # beta 1, threshold 20
    "gelu": F.gelu,          # exact erf form
}


class MLP(torch.nn.Module):
    def __init__(self, widths, activation):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(widths[k], widths[k + 1]) for k in range(len(widths) - 1))
        self.act = ACTIVATIONS[activation]

    def forward(self, x):
        for k, layer in enumerate(self.layers):
            x = layer(x)
            if k + 1 < len(self.layers):
                x = self.act(x)
        return x


def flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


def run(folder):
    with open(f"{folder}/arch.json") as f:
        arch = json.load(f)
    theta = torch.from_numpy(np.load(f"{folder}/theta.npy"))
    x = torch.from_numpy(np.load(f"{folder}/x.npy"))
    V = torch.from_numpy(np.load(f"{folder}/v.npy"))
    wd = float(arch["weight_decay"])

    model = MLP(arch["widths"], arch["activation"]).double()
    names = [name for name, _ in model.named_parameters()]
    expected = [f"layers.{k}.{kind}" for k in range(len(arch["widths"]) - 1) for kind in ("weight", "bias")]
    assert names == expected, names
    torch.nn.utils.vector_to_parameters(theta, model.parameters())
    params = list(model.parameters())
    assert sum(p.numel() for p in params) == theta.numel()

    if arch["loss"] in ("cross-entropy", "cross_entropy"):
        target = torch.from_numpy(np.load(f"{folder}/labels.npy")).long()
        loss_of_outputs = lambda z: F.cross_entropy(z, target)  # mean over samples
    else:
        target = torch.from_numpy(np.load(f"{folder}/y.npy"))
        loss_of_outputs = lambda z: F.mse_loss(z, target)  # mean over samples and outputs

    # loss, gradient, and H v by double backward
    loss = loss_of_outputs(model(x)) + 0.5 * wd * sum((p * p).sum() for p in params)
    grad = flat(torch.autograd.grad(loss, params, create_graph=True))
    hv = [flat(torch.autograd.grad(grad @ v, params, retain_graph=True)) for v in V]

    # Gauss-Newton: outputs as a function of the flat theta, J v, loss Hessian, J^T
    shapes = [(name, p.shape) for name, p in model.named_parameters()]

    def outputs(t):
        tensors, offset = {}, 0
        for name, shape in shapes:
            count = shape.numel()
            tensors[name] = t[offset:offset + count].view(shape)
            offset += count
        return functional_call(model, tensors, (x,))

    gv = []
    for v in V:
        z, jv = torch.autograd.functional.jvp(outputs, theta, v)
        _, hjv = torch.autograd.functional.hvp(loss_of_outputs, z.detach(), jv)
        _, jthjv = torch.autograd.functional.vjp(outputs, theta, hjv)
        gv.append(jthjv + wd * v)

    np.save(f"{folder}/loss.npy", np.array([loss.item()], dtype=np.float64))
    np.save(f"{folder}/grad.npy", grad.detach().numpy())
    np.save(f"{folder}/hv.npy", torch.stack(hv).detach().numpy())
    np.save(f"{folder}/gv.npy", torch.stack(gv).detach().numpy())


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for folder in sys.argv[1:]:
        run(folder)
