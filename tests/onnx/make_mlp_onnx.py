#!/usr/bin/python3
"""The ONNX file of test_onnx_create: the MLP 5-7-3 with tanh as PyTorch exports nn.Linear
(Gemm with transB = 1, bias as C), written with onnx.helper into the path given:
  input[N,5] -> Gemm(layers.0.weight [7,5], layers.0.bias [7]) -> Tanh
             -> Gemm(layers.1.weight [3,7], layers.1.bias [3]) -> logits[N,3]
Weights are float64 from a fixed seed (N(0, 0.5^2)); the C test takes them as theta0.
With a second path, also a small CNN through every op family (float64):
  input[N,1,5,5] -> Conv(conv.weight [2,1,3,3], conv.bias, pads 1) -> BatchNormalization
  (bn.weight, bn.bias; running statistics are constants) -> Tanh -> Add input (batched [N,1,5,5]
  broadcast over channels) -> Mul scale [2,1,1] -> Flatten -> Gemm(fc.weight [3,50], fc.bias,
  transB) -> Div temperature [1] -> logits[N,3]."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(3)
w = {"layers.0.weight": (7, 5), "layers.0.bias": (7,), "layers.1.weight": (3, 7), "layers.1.bias": (3,)}
inits = [numpy_helper.from_array(0.5 * rng.standard_normal(s), name) for name, s in w.items()]
nodes = [
    helper.make_node("Gemm", ["input", "layers.0.weight", "layers.0.bias"], ["h"], name="fc0", transB=1),
    helper.make_node("Tanh", ["h"], ["a"], name="act0"),
    helper.make_node("Gemm", ["a", "layers.1.weight", "layers.1.bias"], ["logits"], name="fc1", transB=1),
]
graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("input", TensorProto.DOUBLE, ["batch", 5])],
                          [helper.make_tensor_value_info("logits", TensorProto.DOUBLE, ["batch", 3])], initializer=inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])

if len(sys.argv) > 2:
    p = {"conv.weight": 0.5 * rng.standard_normal((2, 1, 3, 3)), "conv.bias": 0.1 * rng.standard_normal(2),
         "bn.weight": 1 + 0.2 * rng.standard_normal(2), "bn.bias": 0.1 * rng.standard_normal(2),
         "bn.running_mean": 0.1 * rng.standard_normal(2), "bn.running_var": 0.5 + rng.random(2),
         "scale": 1 + 0.2 * rng.standard_normal((2, 1, 1)), "fc.weight": 0.3 * rng.standard_normal((3, 50)),
         "fc.bias": 0.1 * rng.standard_normal(3), "temperature": np.array([1.5])}
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], ["b"], name="bn"),
        helper.make_node("Tanh", ["b"], ["t"], name="act"),
        helper.make_node("Add", ["t", "input"], ["r"], name="residual"),
        helper.make_node("Mul", ["r", "scale"], ["s"], name="scale"),
        helper.make_node("Flatten", ["s"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["z"], name="fc", transB=1),
        helper.make_node("Div", ["z", "temperature"], ["logits"], name="temperature"),
    ]
    graph = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("input", TensorProto.DOUBLE, ["batch", 1, 5, 5])],
                              [helper.make_tensor_value_info("logits", TensorProto.DOUBLE, ["batch", 3])],
                              initializer=[numpy_helper.from_array(v, k) for k, v in p.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
