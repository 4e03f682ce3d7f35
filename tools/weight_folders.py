"""Write hessa weight folders (docs/weights.md) from numpy: used by the study tests, the
Slurm test and bench/run study to make many small points quickly.

    import sys; sys.path.insert(0, "<repo>/tools"); from weight_folders import save_mlp, save_analytic
"""
import json, os
import numpy as np


def save_analytic(folder, model, theta):
    """An analytic objective's point: one tensor `theta`."""
    os.makedirs(folder, exist_ok=True)
    np.save(f"{folder}/theta.npy", np.array(theta, dtype=np.float64))
    json.dump({"format": "hessa-weights", "version": 1, "model": model,
               "tensors": [{"name": "theta", "file": "theta.npy", "shape": [len(theta)]}]}, open(f"{folder}/model.json", "w"))


def save_mlp(folder, widths, seed, activation="tanh", loss="cross-entropy"):
    """An MLP with Glorot-uniform weights and small normal biases from numpy's generator `seed`."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    tensors = []
    for k in range(len(widths) - 1):
        w = rng.uniform(-1, 1, (widths[k + 1], widths[k])) * np.sqrt(6 / (widths[k] + widths[k + 1]))
        b = 0.1 * rng.standard_normal(widths[k + 1])
        for kind, v in (("weight", w), ("bias", b)):
            name = f"layers.{k}.{kind}"
            np.save(f"{folder}/{name}.npy", v)
            tensors.append({"name": name, "file": name + ".npy", "shape": list(v.shape)})
    json.dump({"format": "hessa-weights", "version": 1, "model": "mlp", "widths": list(widths), "activation": activation,
               "loss": loss, "tensors": tensors}, open(f"{folder}/model.json", "w"))


def save_torch(net, folder, activation="tanh", loss="cross-entropy"):
    """A torch.nn.Sequential of Linear layers and activations, with the loop of docs/weights.md
    (tests/operator/torch_weights.py keeps that loop verbatim: it tests the documentation)."""
    import torch
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
               "activation": activation, "loss": loss, "tensors": tensors}, open(f"{folder}/model.json", "w"))
