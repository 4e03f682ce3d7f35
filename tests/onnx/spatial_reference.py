#!/usr/bin/python3
"""PyTorch float64 forward values of the spatial ONNX kernels' test cases.

usage: spatial_reference.py CASES.jsonl OUT.txt
Each input line is one case (written by test_onnx_spatial.c): the op, its attributes,
the inputs x0.. (flat) and the shapes of x0 (and x1). Each output line is the count of
output values, then the values, in the case order."""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def tensor(case, key, shape=None):
    t = torch.tensor(case[key], dtype=torch.float64)
    return t.reshape(shape) if shape is not None else t


def forward(case):
    x = tensor(case, "x0", case["shape0"])
    op = case["op"]
    if op == "conv":
        w = tensor(case, "x1", case["shape1"])
        b = tensor(case, "x2") if case["bias"] else None
        pt, pl, pb, pr = case["pads"]
        x = F.pad(x, (pl, pr, pt, pb))  # asymmetric ONNX pads: explicit zero padding
        return F.conv2d(x, w, b, stride=case["stride"], dilation=case["dilation"], groups=case["group"])
    if op == "maxpool":
        return F.max_pool2d(x, case["kernel"], case["stride"], case["pads"], case["dilation"], ceil_mode=bool(case["ceil_mode"]))
    if op == "avgpool":
        return F.avg_pool2d(x, case["kernel"], case["stride"], case["pads"], ceil_mode=bool(case["ceil_mode"]),
                            count_include_pad=bool(case["count_include_pad"]))
    if op == "batchnorm":
        return F.batch_norm(x, tensor(case, "x3"), tensor(case, "x4"), tensor(case, "x1"), tensor(case, "x2"),
                            training=False, eps=case["eps"])
    if op == "gap":
        return F.adaptive_avg_pool2d(x, 1)
    raise ValueError("unknown op " + op)


def main():
    with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
        for line in f:
            y = forward(json.loads(line)).reshape(-1)
            out.write("%d %s\n" % (y.numel(), " ".join("%.17g" % v for v in y.tolist())))


if __name__ == "__main__":
    main()
