#!/usr/bin/python3
"""The ONNX file of test_onnx_create: the MLP 5-7-3 with tanh as PyTorch exports nn.Linear
(Gemm with transB = 1, bias as C), written with onnx.helper into the path given:
  input[N,5] -> Gemm(layers.0.weight [7,5], layers.0.bias [7]) -> Tanh
             -> Gemm(layers.1.weight [3,7], layers.1.bias [3]) -> logits[N,3]
Weights are float64 from a fixed seed (N(0, 0.5^2)); the C test takes them as theta0."""
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
