#!/usr/bin/python3
"""ONNX node cases of Split at opset 18 (the num_outputs attribute), in the layout of ONNX's
backend node tests (model.onnx, test_data_set_0/input_0.pb, output_<k>.pb), for test_onnx_nodes.

usage: make_split18_cases.py OUTDIR

Debian's libonnx-testdata (ONNX 1.12) stops at opset 17; these are the opset-18 cases that
ONNX 1.13 added to onnx/backend/test/case/node/split.py, with the same inputs, attributes and
expected outputs, written out here as literals (the spec's answer: parts of ceil(d / n), the
last one smaller) rather than computed by any Split implementation."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

CASES = {
    # name: (input, axis (None: the default 0), num_outputs, expected outputs)
    "test_split_equal_parts_1d_opset18": ([1, 2, 3, 4, 5, 6], 0, 3, [[1, 2], [3, 4], [5, 6]]),
    "test_split_equal_parts_2d_opset18": ([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]], 1, 2, [[[1, 2, 3], [7, 8, 9]], [[4, 5, 6], [10, 11, 12]]]),
    "test_split_equal_parts_default_axis_opset18": ([1, 2, 3, 4, 5, 6], None, 3, [[1, 2], [3, 4], [5, 6]]),
    "test_split_1d_uneven_split_opset18": ([1, 2, 3, 4, 5, 6, 7], 0, 4, [[1, 2], [3, 4], [5, 6], [7]]),
    "test_split_2d_uneven_split_opset18": ([[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16]], 1, 3,
                                           [[[1, 2, 3], [9, 10, 11]], [[4, 5, 6], [12, 13, 14]], [[7, 8], [15, 16]]]),
}


def write_case(root, name, x, axis, num_outputs, expected):
    folder = os.path.join(root, name)
    os.makedirs(os.path.join(folder, "test_data_set_0"), exist_ok=True)
    x = np.array(x, dtype=np.float32)
    outs = [np.array(e, dtype=np.float32) for e in expected]
    names = [f"output_{k + 1}" for k in range(num_outputs)]
    attrs = {"num_outputs": num_outputs}
    if axis is not None:
        attrs["axis"] = axis
    node = helper.make_node("Split", ["input"], names, **attrs)
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(o.shape)) for n, o in zip(names, outs)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    with open(os.path.join(folder, "test_data_set_0", "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "input").SerializeToString())
    for k, (n, o) in enumerate(zip(names, outs)):
        with open(os.path.join(folder, "test_data_set_0", f"output_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(o, n).SerializeToString())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for name, case in CASES.items():
        write_case(sys.argv[1], name, *case)


if __name__ == "__main__":
    main()
