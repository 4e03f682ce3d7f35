#!/usr/bin/python3
"""Small ONNX models for the loader tests (test_onnx_load.c), written with onnx.helper
into the folder given as the only argument. Every weight is k/8 for a small integer k, so
float32 and float64 hold it exactly and every encoding must give the same doubles.

Good models:
  cnn.onnx        x[N,1,4,4] -> Conv(2x1x3x3, bias) -> BatchNormalization -> Relu
                  -> Reshape(Concat(Unsqueeze(Gather(Shape, 0)), [-1])) -> Gemm(3x8, bias, transB)
                  nodes stored in reverse order; one dead node (Sigmoid of x) the output
                  does not need; parameters conv.weight, conv.bias, bn.weight, bn.bias,
                  fc.weight, fc.bias (BN running mean/var are constants).
  cnn_fixed.onnx  the same with a fixed batch of 2 and nodes in order.
  fold.onnx       Reshape(x[N,2,3,4], [N,6,4]) with a target computed by every folded op.
  fold_runtime.onnx  x[N,3,2] + Relu(Transpose(Constant [2,3])): the kernels fold the constant part.
  mlp_<enc>.onnx  x[N,4] -> Gemm(W 3x4, b 3, transB): enc = f32raw, f32typed, f64raw,
                  f64typed, f32ext (W in mlp_f32ext.bin at offset 16).
Bad models (one fault each): see BAD below.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def vals(shape, start):
    n = int(np.prod(shape))
    return ((np.arange(n) % 17 + start - 8) / 8.0).reshape(shape)


def save(model, name):
    onnx.save(model, os.path.join(out, name))


def model(nodes, inits, inputs, outputs, opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def tensor(name, arr, dtype=np.float32, raw=True):
    return numpy_helper.from_array(np.asarray(arr, dtype=dtype), name) if raw else \
        helper.make_tensor(name, {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}[np.dtype(dtype)], list(np.shape(arr)),
                           np.asarray(arr, dtype=dtype).flatten().tolist())


def cnn(batch, reverse):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])
    inits = [tensor("conv.weight", vals([2, 1, 3, 3], 1)), tensor("conv.bias", vals([2], 2)),
             tensor("bn.weight", vals([2], 3)), tensor("bn.bias", vals([2], 4)),
             tensor("bn.running_mean", vals([2], 5)), tensor("bn.running_var", np.array([0.5, 2.0])),
             tensor("fc.weight", vals([3, 8], 6)), tensor("fc.bias", vals([3], 7)),
             tensor("zero", np.array(0), np.int64), tensor("axes0", np.array([0]), np.int64)]
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], ["b"], name="bn"),
        helper.make_node("Relu", ["b"], ["r"], name="relu"),
        helper.make_node("Sigmoid", ["x"], ["dead"], name="unused"),
        helper.make_node("Shape", ["r"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsq"),
        helper.make_node("Constant", [], ["minus1"], name="const", value=helper.make_tensor("v", TensorProto.INT64, [1], [-1])),
        helper.make_node("Concat", ["n1", "minus1"], ["shp"], name="concat", axis=0),
        helper.make_node("Reshape", ["r", "shp"], ["f"], name="reshape"),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name="fc", transB=1),
    ]
    if reverse:
        nodes = nodes[::-1]
    return model(nodes, inits, [x], [y])


save(cnn("N", True), "cnn.onnx")
save(cnn(2, False), "cnn_fixed.onnx")


def fold_model():
    """Every folded op: Reshape(x[N,2,3,4], [batch, 2*3 + (2*3/2 - 3), 4]) computed from Shape by
    Slice, Gather, Mul, Div, Sub, Add, Unsqueeze, ConstantOfShape, Squeeze, Cast, Identity, Concat."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6, 4])
    i64 = lambda name, v: tensor(name, np.array(v), np.int64)
    inits = [i64("s1", [1]), i64("e3", [3]), i64("s0", [0]), i64("e1", [1]), i64("sm1", [-1]), i64("big", [1 << 62]),
             i64("zero", 0), i64("one", 1), i64("axes0", [0]), i64("len1", [1])]
    N = helper.make_node
    nodes = [N("Shape", ["x"], ["s"]), N("Slice", ["s", "s1", "e3"], ["p"]), N("Slice", ["s", "s0", "e1"], ["n"]),
             N("Slice", ["s", "sm1", "big"], ["four"]), N("Gather", ["p", "zero"], ["a"]), N("Gather", ["p", "one"], ["b"]),
             N("Mul", ["a", "b"], ["c"]), N("Div", ["c", "a"], ["c_a"]), N("Sub", ["c_a", "b"], ["z"]), N("Add", ["c", "z"], ["d"]),
             N("Unsqueeze", ["d", "axes0"], ["c1"]),
             N("ConstantOfShape", ["len1"], ["ones"], value=helper.make_tensor("v", TensorProto.INT64, [1], [1])),
             N("Mul", ["c1", "ones"], ["c2"]), N("Unsqueeze", ["c2", "axes0"], ["c3"]), N("Squeeze", ["c3", "axes0"], ["c4"]),
             N("Cast", ["c4"], ["c5"], to=TensorProto.INT32), N("Cast", ["c5"], ["c6"], to=TensorProto.INT64), N("Identity", ["c6"], ["c7"]),
             N("Concat", ["n", "c7", "four"], ["t"], axis=0), N("Reshape", ["x", "t"], ["y"], name="reshape")]
    return model(nodes, inits, [x], [y])


save(fold_model(), "fold.onnx")

# runtime ops over constants, folded by their kernels: Relu(Transpose(Constant)) -> one Add left
c = helper.make_tensor("c", TensorProto.FLOAT, [2, 3], [1, -2, 3, -4, 5, -6])
save(model([helper.make_node("Constant", [], ["c"], value=c), helper.make_node("Transpose", ["c"], ["t"], name="transpose"),
            helper.make_node("Relu", ["t"], ["r"], name="relu"), helper.make_node("Add", ["x", "r"], ["y"], name="add")], [],
           [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 2])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 2])]),
     "fold_runtime.onnx")


def cnn_reference(x):
    """cnn.onnx's output by numpy loops (float64), independent of hessa's kernels."""
    w, cb = vals([2, 1, 3, 3], 1), vals([2], 2)
    scale, bias, mean, var = vals([2], 3), vals([2], 4), vals([2], 5), np.array([0.5, 2.0])
    fw, fb = vals([3, 8], 6), vals([3], 7)
    c = np.zeros((x.shape[0], 2, 2, 2))
    for n in range(x.shape[0]):
        for o in range(2):
            for i in range(2):
                for j in range(2):
                    c[n, o, i, j] = np.sum(x[n, 0, i:i + 3, j:j + 3] * w[o, 0]) + cb[o]
    b = (c - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5) * scale[None, :, None, None] + bias[None, :, None, None]
    r = np.maximum(b, 0).reshape(x.shape[0], -1)
    return r @ fw.T + fb


x = np.sin(np.arange(3 * 16) * 0.7).reshape(3, 1, 4, 4)
x.astype("<f8").tofile(os.path.join(out, "cnn_x.bin"))
cnn_reference(x).astype("<f8").tofile(os.path.join(out, "cnn_y.bin"))


def mlp(inits, extra_inputs=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc", transB=1)]
    return model(nodes, inits, [x] + list(extra_inputs), [y])


W, b = vals([3, 4], 1), vals([3], 2)
save(mlp([tensor("W", W), tensor("b", b)]), "mlp_f32raw.onnx")
save(mlp([tensor("W", W, raw=False), tensor("b", b, raw=False)]), "mlp_f32typed.onnx")
save(mlp([tensor("W", W, np.float64), tensor("b", b, np.float64)]), "mlp_f64raw.onnx")
save(mlp([tensor("W", W, np.float64, raw=False), tensor("b", b, np.float64, raw=False)]), "mlp_f64typed.onnx")
with open(os.path.join(out, "mlp_f32ext.bin"), "wb") as f:
    f.write(b"\0" * 16 + W.astype("<f4").tobytes())
ext = onnx.TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[3, 4], data_location=TensorProto.EXTERNAL)
for k, v in (("location", "mlp_f32ext.bin"), ("offset", "16"), ("length", "48")):
    e = ext.external_data.add()
    e.key, e.value = k, v
save(mlp([ext, tensor("b", b)]), "mlp_f32ext.onnx")

# ---- bad models: one fault each (the expected messages are in test_onnx_load.c) ----
good = mlp([tensor("W", W), tensor("b", b)]).SerializeToString()
with open(os.path.join(out, "bad_truncated.onnx"), "wb") as f:
    f.write(good[:len(good) // 2])

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
save(model([helper.make_node("Foo", ["x"], ["y"], name="foo1")], [], [x], [y]), "bad_op.onnx")

short = onnx.TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[3, 4], raw_data=b"\0" * 44)
save(mlp([short, tensor("b", b)]), "bad_bytes.onnx")

huge = onnx.TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[1 << 40, 1 << 40], raw_data=b"")
save(mlp([huge, tensor("b", b)]), "bad_overflow.onnx")

with open(os.path.join(out, "bad_ext.bin"), "wb") as f:
    f.write(b"\0" * 20)
beyond = onnx.TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[3, 4], data_location=TensorProto.EXTERNAL)
for k, v in (("location", "bad_ext.bin"), ("offset", "0"), ("length", "48")):
    e = beyond.external_data.add()
    e.key, e.value = k, v
save(mlp([beyond, tensor("b", b)]), "bad_ext.onnx")

up = onnx.TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[3, 4], data_location=TensorProto.EXTERNAL)
e = up.external_data.add()
e.key, e.value = "location", "../mlp_f32ext.bin"
save(mlp([up, tensor("b", b)]), "bad_ext_parent.onnx")

outside = os.path.abspath(os.path.join(out, "..", "onnx_load_outside.bin"))
with open(outside, "wb") as f:
    f.write(b"\0" * 48)
if os.path.lexists(os.path.join(out, "escape.bin")):
    os.remove(os.path.join(out, "escape.bin"))
os.symlink(outside, os.path.join(out, "escape.bin"))
link = onnx.TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[3, 4], data_location=TensorProto.EXTERNAL)
e = link.external_data.add()
e.key, e.value = "location", "escape.bin"
save(mlp([link, tensor("b", b)]), "bad_ext_symlink.onnx")

# external data that is missing, or a directory: refused by what it is
for name, location in (("bad_ext_missing.onnx", "no_such.bin"), ("bad_ext_dir.onnx", "ext_dir")):
    gone = onnx.TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[3, 4], data_location=TensorProto.EXTERNAL)
    e = gone.external_data.add()
    e.key, e.value = "location", location
    save(mlp([gone, tensor("b", b)]), name)
os.makedirs(os.path.join(out, "ext_dir"), exist_ok=True)

save(mlp([tensor("W", W, np.float16), tensor("b", b)]), "bad_f16.onnx")

nan = W.copy()
nan[0, 3] = np.nan
save(mlp([tensor("W", nan), tensor("b", b)]), "bad_nan.onnx")

x4 = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
save(model([helper.make_node("Relu", ["t2"], ["t1"], name="A"), helper.make_node("Add", ["x", "t1"], ["t2"], name="B")], [], [x4],
           [helper.make_tensor_value_info("t2", TensorProto.FLOAT, ["N", 4])]), "bad_cycle.onnx")

save(model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")], [], [x4], [y]), "bad_missing.onnx")

save(model([helper.make_node("Relu", ["x"], ["y"])], [], [x4], [y], opset=11), "bad_opset.onnx")

two = model([helper.make_node("Add", ["x", "x2"], ["y"], name="add")], [], [x4, helper.make_tensor_value_info("x2", TensorProto.FLOAT, ["N", 4])], [y])
save(two, "bad_two_inputs.onnx")

# the batch size in arithmetic: Reshape(x, [N * N, -1]) and Reshape(x, [N + 2, -1]) (2 * N is
# fine: a batch merged with other axes)
inits = [tensor("zero", np.array(0), np.int64), tensor("two", np.array(2), np.int64), tensor("axes0", np.array([0]), np.int64),
         tensor("m1", np.array([-1]), np.int64)]
for name, op, other in (("bad_batch_arith.onnx", "Mul", "n"), ("bad_batch_add.onnx", "Add", "two")):
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "zero"], ["n"]),
             helper.make_node(op, ["n", other], ["n2"], name="arith"), helper.make_node("Unsqueeze", ["n2", "axes0"], ["n1"]),
             helper.make_node("Concat", ["n1", "m1"], ["shp"], axis=0), helper.make_node("Reshape", ["x", "shp"], ["y"])]
    save(model(nodes, inits, [x4], [y]), name)

# a row of a float initializer (a parameter) taken by Gather: not a shape computation
nodes = [helper.make_node("Gather", ["E", "one"], ["e"], name="embed"), helper.make_node("Add", ["x", "e"], ["y"])]
save(model(nodes, [tensor("E", vals([5, 4], 1)), tensor("one", np.array(1), np.int64)], [x4], [y]), "bad_gather_param.onnx")
