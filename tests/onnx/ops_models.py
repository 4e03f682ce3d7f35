#!/usr/bin/python3
"""Small PyTorch models built from the pointwise and shape ops, exported with hessa's
recipe (tools/onnx_export.py's settings: eval, float64, opset 17, no constant folding,
TrainingMode.PRESERVE, dynamic batch), with their float64 outputs on a few samples.

usage: ops_models.py OUTDIR

Writes for each model NAME: NAME.onnx, NAME_x.bin (samples, float64 row-major),
NAME_z.bin (PyTorch's outputs) and one line "NAME features outputs samples" in
OUTDIR/ops_models.txt (read by test_onnx_ops_graph.c). PyTorch's export drops Dropout and
Identity in eval mode, so a third graph is written by hand with onnx.helper.
"""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)


class Pointwise(nn.Module):
    """Every pointwise op on an MLP of width 7: LeakyReLU, ELU, Softplus, Tanh, Sigmoid,
    GELU (exported with Erf), ReLU, ReLU6 (Clip), Hardswish, Hardsigmoid (alpha 1/6),
    Dropout (eval: removed by the export), Identity (removed)."""

    def __init__(self):
        super().__init__()
        self.acts = [nn.LeakyReLU(0.1), nn.ELU(0.8), nn.Softplus(), nn.Tanh(), nn.Sigmoid(), nn.GELU(), nn.ReLU(), nn.ReLU6(), nn.Hardswish(),
                     nn.Hardsigmoid()]
        self.fc = nn.ModuleList([nn.Linear(5 if i == 0 else 7, 7, bias=True) for i in range(len(self.acts))])
        self.out = nn.Linear(7, 3)
        self.drop = nn.Dropout(0.3)
        self.ident = nn.Identity()

    def forward(self, x):
        for fc, act in zip(self.fc, self.acts):
            x = act(fc(x))
        return self.out(self.ident(self.drop(x)))


class Shapes(nn.Module):
    """Transpose (permute, transpose of the data input), Reshape (the batch from x.size(0),
    and -1 first), Concat of two branches, Flatten, on a (N, 2, 3, 4) input. (F.pad is
    not here: PyTorch exports its pads as Reshape/Transpose/Slice arithmetic on integer
    constants, which the loader does not fold yet; Pad is in the hand-written graph.)"""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.fc2 = nn.Linear(3, 3)
        self.head = nn.Linear(54, 3)

    def forward(self, x):
        n = x.size(0)
        a = torch.tanh(self.fc1(x))                     # (N, 2, 3, 5)
        a = a.permute(0, 3, 1, 2).reshape(n, 5, 6)      # (N, 5, 6)
        b = torch.sigmoid(self.fc2(x.transpose(2, 3)))  # (N, 2, 4, 3)
        b = b.reshape(-1, 4, 6)                         # (N, 4, 6)
        c = torch.cat([a, b], dim=1).transpose(1, 2)    # (N, 6, 9)
        return self.head(torch.flatten(c, 1))


class Branches(nn.Module):
    """A small CNN whose ops meet the spatial kernels: two convolution branches (ELU, and
    GELU through Erf) concatenated along the channels, LeakyReLU, a transpose of H and W,
    max pooling, Dropout (removed by the eval export), Flatten, on (N, 2, 6, 6)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 3, 3, padding=1)
        self.b = nn.Conv2d(2, 2, 1)
        self.head = nn.Linear(5 * 3 * 3, 3)

    def forward(self, x):
        c = torch.cat([F.elu(self.a(x), 0.6), F.gelu(self.b(x))], dim=1)  # (N, 5, 6, 6)
        c = F.max_pool2d(F.leaky_relu(c, 0.05).transpose(2, 3), 2)        # (N, 5, 3, 3)
        return self.head(F.dropout(torch.flatten(c, 1), 0.2, self.training))


def handmade(out):
    """A graph PyTorch does not export: Dropout with constant ratio and training_mode
    false and an absent mask output (empty name), Identity, Reshape by a constant [0, 2, 2], Pad by initializers (pads and a
    float constant_value that must not become a parameter), Elu, Flatten, and in the
    parameter phase Concat of two weights, Transpose and Tanh of the result. Its outputs
    by numpy."""
    h = onnx.helper
    rng = np.random.default_rng(3)
    w = {"W1": rng.standard_normal((4, 4)), "b1": rng.standard_normal(4), "Wa": rng.standard_normal((2, 9)),
         "Wb": rng.standard_normal((1, 9)), "b2": rng.standard_normal(3)}
    inits = [onnx.numpy_helper.from_array(v, k) for k, v in w.items()]
    inits += [onnx.numpy_helper.from_array(np.array(0.5), "ratio"), onnx.numpy_helper.from_array(np.array(False), "training"),
              onnx.numpy_helper.from_array(np.array([0, 2, 2], dtype=np.int64), "shape"),
              onnx.numpy_helper.from_array(np.array([0, 1, 0, 0, 0, 1], dtype=np.int64), "pads"),
              onnx.numpy_helper.from_array(np.array(0.5), "pad_value")]
    nodes = [h.make_node("Gemm", ["input", "W1", "b1"], ["h"], transB=1),
             h.make_node("Dropout", ["h", "ratio", "training"], ["d", ""]),  # the mask absent
             h.make_node("Identity", ["d"], ["e"]),
             h.make_node("Reshape", ["e", "shape"], ["r"]),
             h.make_node("Pad", ["r", "pads", "pad_value"], ["p"], mode="constant"),
             h.make_node("Elu", ["p"], ["q"], alpha=0.5),
             h.make_node("Flatten", ["q"], ["f"], axis=1),
             h.make_node("Concat", ["Wa", "Wb"], ["W2"], axis=0),
             h.make_node("Transpose", ["W2"], ["W2t"], perm=[1, 0]),
             h.make_node("Tanh", ["W2t"], ["W2s"]),
             h.make_node("MatMul", ["f", "W2s"], ["m"]),
             h.make_node("Add", ["m", "b2"], ["logits"])]
    graph = h.make_graph(nodes, "handmade", [h.make_tensor_value_info("input", onnx.TensorProto.DOUBLE, ["batch", 4])],
                         [h.make_tensor_value_info("logits", onnx.TensorProto.DOUBLE, ["batch", 3])], inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "handmade.onnx"))
    x = rng.standard_normal((6, 4))
    r = (x @ w["W1"].T + w["b1"]).reshape(6, 2, 2)
    p = np.full((6, 3, 3), 0.5)
    p[:, 1:3, 0:2] = r
    q = np.where(p > 0, p, 0.5 * np.expm1(p))
    z = q.reshape(6, 9) @ np.tanh(np.concatenate([w["Wa"], w["Wb"]]).T) + w["b2"]
    x.tofile(os.path.join(out, "handmade_x.bin"))
    z.tofile(os.path.join(out, "handmade_z.bin"))
    return "handmade 4 3 6"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    lines = []
    for name, model, shape in [("pointwise", Pointwise(), (5,)), ("shapes", Shapes(), (2, 3, 4)), ("branches", Branches(), (2, 6, 6))]:
        model.eval()
        model.double()
        x = torch.randn((6,) + shape)
        with torch.no_grad():
            z = model(x)
        path = os.path.join(out, name + ".onnx")
        torch.onnx.export(model, (x,), path, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, opset_version=17,
                          input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        x.numpy().tofile(os.path.join(out, name + "_x.bin"))
        z.numpy().tofile(os.path.join(out, name + "_z.bin"))
        features = x[0].numel()
        lines.append(f"{name} {features} {z.shape[1]} {x.shape[0]}")
    lines.append(handmade(out))
    with open(os.path.join(out, "ops_models.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
