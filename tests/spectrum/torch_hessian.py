#!/usr/bin/python3
"""Independent reference for test_spectrum_mlp: the Hessian of an MLP's mean loss at the
weights of a hessa weight folder, on the samples of two NPY files, by PyTorch (float64,
torch.autograd.functional.hessian of the loss as a function of the flat parameter vector,
in parameter-table order), and all its eigenvalues by numpy.linalg.eigvalsh.

usage: torch_hessian.py WEIGHT_FOLDER X.npy LABELS.npy OUT.npy
"""
import json
import os
import sys

import numpy as np
import torch


def main():
    folder, x_path, y_path, out_path = sys.argv[1:5]
    meta = json.load(open(os.path.join(folder, "model.json")))
    # docs/weights.md and HessaModelSave write "cross-entropy"; older folders "cross_entropy"
    assert meta["loss"] in ("cross-entropy", "cross_entropy"), meta["loss"]
    acts = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
            "softplus": torch.nn.functional.softplus, "gelu": torch.nn.functional.gelu,
            "identity": lambda t: t}
    act = acts[meta["activation"]]
    tensors = [np.load(os.path.join(folder, t["file"])).astype(np.float64) for t in meta["tensors"]]
    shapes = [t.shape for t in tensors]
    theta = torch.from_numpy(np.concatenate([t.ravel() for t in tensors]))
    x = torch.from_numpy(np.load(x_path).astype(np.float64))
    y = torch.from_numpy(np.load(y_path).astype(np.int64))

    def loss(flat):
        h, off = x, 0
        views = []
        for s in shapes:
            size = int(np.prod(s))
            views.append(flat[off:off + size].reshape(s))
            off += size
        n_layers = len(views) // 2
        for k in range(n_layers):
            h = h @ views[2 * k].T + views[2 * k + 1]
            if k < n_layers - 1:
                h = act(h)
        return torch.nn.functional.cross_entropy(h, y)

    H = torch.autograd.functional.hessian(loss, theta).numpy()
    np.save(out_path, np.linalg.eigvalsh(0.5 * (H + H.T)))


if __name__ == "__main__":
    main()
