#!/usr/bin/python3
"""Driver of the bad-input tests: one case of cases.txt through the real executable.

usage: run_case.py --cases cases.txt --case NAME --np N --mpiexec MPIEXEC --hessa HESSA
                   --make-hdf5 MAKE_HDF5 --workdir DIR
       run_case.py --list cases.txt      print the case names (CMake reads them)

1. makes an empty directory DIR/NAME_npN and runs the case's recipe there (Python
   calls of the recipe functions below, which write the malformed files);
2. runs  MPIEXEC -n N --oversubscribe HESSA info OPTIONS  with a 10 s limit (OPTIONS that
   start with @COMMAND run that subcommand instead of info);
3. passes when, and only when: it finished within 10 s, the exit status is non-zero,
   the output contains the expected message, "hessa: error:" appears exactly once
   (rank 0 speaks for all) and no rank had to abort (every rank failed together).
Silent on success; on failure prints what was wrong and the whole output.
"""
import argparse
import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys

TIME_LIMIT = 10.0
# A file name that is not UTF-8 (Latin-1 "cafe" and a lone 0xff byte): {nonutf8} in options
# and expected messages, NONUTF8 in recipes. Passed to hessa as raw bytes; hessa prints the
# bytes as they are, read back here with U+FFFD for each invalid byte.
NONUTF8_BYTES = b"caf\xe9-\xff"
NONUTF8 = os.fsdecode(NONUTF8_BYTES)
FMNIST = "/usr/share/datasets/fashion-mnist"
MAKE_HDF5 = None


# ---- recipes: each writes one file into the current directory -------------------------
def raw(name, content=b""):
    """A file with exactly these bytes."""
    with open(name, "wb") as f:
        f.write(content)


def _values(count, kind):
    """Deterministic element values: small integers, so every dtype holds them."""
    return [k % 3 if kind in "iu" else float(k % 7) for k in range(count)]


def _pack(values, descr):
    order = {"<": "<", ">": ">", "|": "<", "=": "<"}[descr[0]]
    code = {"f4": "f", "f8": "d", "i1": "b", "i2": "h", "i4": "i", "i8": "q", "u1": "B", "u2": "H", "u4": "I", "u8": "Q"}[descr[1:]]
    return struct.pack(order + code * len(values), *values)


def npy(name, shape, descr="<f8", version=1, fortran=False, data_bytes=None, values=None, header=None):
    """An NPY file written by hand (so that impossible headers can be written too).
    data_bytes: write only this many bytes of data (default: all that the shape needs);
    values: the elements (default small integers); header: the dict text as is."""
    count = 1
    for d in shape:
        count *= d
    if header is None:
        shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
        header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)
    prefix = 10 if version == 1 else 12
    pad = (64 - (prefix + len(header) + 1) % 64) % 64
    header = (header + " " * pad + "\n").encode()
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    out = b"\x93NUMPY" + bytes([version, 0]) + size + header
    if data_bytes is None or data_bytes > 0:
        item = int(descr[2:]) if descr[1] in "fiu" else 16
        n = count if data_bytes is None else min(count, -(-data_bytes // item))
        vals = list(values) if values is not None else _values(n, descr[1])
        data = _pack(vals[:n], descr) if descr[1] in "fiu" else bytes(n * item)
        out += data if data_bytes is None else data[:data_bytes]
    raw(name, out)


def labels(name, values, descr="<i8"):
    """A 1-D NPY labels file with these values."""
    npy(name, (len(values),), descr, values=values)


def idx(name, shape, code=0x08, gz=False, data_bytes=None, magic=None, values=None):
    """An IDX file: 00 00 code ndim, big-endian dims, big-endian data (gzip if gz)."""
    import gzip
    count = 1
    for d in shape:
        count *= d
    head = bytes(magic) if magic is not None else bytes([0, 0, code, len(shape)])
    head += b"".join(struct.pack(">I", d) for d in shape)
    descr = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}.get(code, ">u1")
    item = int(descr[2:])
    n = count if data_bytes is None else min(count, -(-data_bytes // item))
    data = _pack(list(values) if values is not None else _values(n, descr[1]), descr)
    content = head + (data if data_bytes is None else data[:data_bytes])
    if gz:
        with gzip.open(name, "wb") as f:
            f.write(content)
    else:
        raw(name, content)


def head_of(src, name, keep):
    """The first `keep` bytes of file src (a truncated copy)."""
    with open(src, "rb") as f:
        raw(name, f.read(keep))


def hdf5(name):
    """The standard test file of tests/data/make_hdf5.c."""
    subprocess.run([MAKE_HDF5, name], check=True)


def onnx_linear(name, shape, outputs):
    """An ONNX model (python3-onnx, no torch): input [batch, *shape] flattened into one float64
    Gemm with `outputs` outputs (weight 'fc.weight', bias 'fc.bias'), opset 17."""
    from onnx import TensorProto, helper, save
    features = 1
    for d in shape:
        features *= d
    weight = helper.make_tensor("fc.weight", TensorProto.DOUBLE, [outputs, features], [0.01 * (i % 5) for i in range(outputs * features)])
    bias = helper.make_tensor("fc.bias", TensorProto.DOUBLE, [outputs], [0.0] * outputs)
    nodes = [helper.make_node("Flatten", ["input"], ["flat"], axis=1), helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], transB=1)]
    graph = helper.make_graph(nodes, "linear", [helper.make_tensor_value_info("input", TensorProto.DOUBLE, ["batch", *shape])],
                              [helper.make_tensor_value_info("logits", TensorProto.DOUBLE, ["batch", outputs])], initializer=[weight, bias])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), name)


def onnx_class_token(name, features, width, expand_to):
    """An ONNX model (no torch), opset 17: a class token 'cls' [1, 1, width] expanded to the
    batch with the shape [batch, 1, expand_to] (what cls.expand(B, -1, -1) exports: the batch
    size through Shape, Gather, Unsqueeze, Concat), flattened into the logits [batch,
    expand_to]; the input [batch, features] only gives the batch. With expand_to other than
    width and 1 the shape does not match the token."""
    from onnx import TensorProto, helper, save
    inits = [helper.make_tensor("cls", TensorProto.DOUBLE, [1, 1, width], [0.1 * k for k in range(width)]),
             helper.make_tensor("zero", TensorProto.INT64, [], [0]), helper.make_tensor("axes", TensorProto.INT64, [1], [0]),
             helper.make_tensor("rest", TensorProto.INT64, [2], [1, expand_to])]
    nodes = [helper.make_node("Shape", ["input"], ["shape"]), helper.make_node("Gather", ["shape", "zero"], ["batch"], axis=0),
             helper.make_node("Unsqueeze", ["batch", "axes"], ["batch1"]), helper.make_node("Concat", ["batch1", "rest"], ["target"], axis=0),
             helper.make_node("Expand", ["cls", "target"], ["tokens"], name="cls_expand"), helper.make_node("Flatten", ["tokens"], ["logits"], axis=1)]
    graph = helper.make_graph(nodes, "class_token", [helper.make_tensor_value_info("input", TensorProto.DOUBLE, ["batch", features])],
                              [helper.make_tensor_value_info("logits", TensorProto.DOUBLE, ["batch", expand_to])], initializer=inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), name)


def onnx_heads(name, variant):
    """nn.MultiheadAttention's math path in miniature (no torch), opset 17: input [batch, 3, 4]
    transposed to [3, batch, 4], reshaped to heads [3, 2*batch, 2] (the target from Shape,
    Gather, Mul by 2, Concat), transposed to [2*batch, 3, 2] ('m'), then back to [batch, 3, 4]
    and a Gemm to 2 logits. variant: 'softmax' puts a Softmax over axis 0 of 'm' (the axis
    that merges the batch with the heads); 'split' reshapes 'm' to [2, batch, 6] (the heads
    out of the batch); 'square' computes batch * batch for the heads."""
    from onnx import TensorProto, helper, save
    i64 = lambda n, v: helper.make_tensor(n, TensorProto.INT64, [len(v)], v)
    inits = [i64("three", [3]), i64("two1", [2]), i64("four", [4]), i64("six", [6]), i64("axes", [0]), helper.make_tensor("one", TensorProto.INT64, [], [1]),
             helper.make_tensor("two", TensorProto.INT64, [], [2]),
             helper.make_tensor("fc.weight", TensorProto.DOUBLE, [2, 12], [0.01 * (i % 5) for i in range(24)])]
    T = lambda x, y, **k: helper.make_node("Transpose", [x], [y], perm=[1, 0, 2], **k)
    nodes = [T("input", "xt"), helper.make_node("Shape", ["xt"], ["s"]), helper.make_node("Gather", ["s", "one"], ["n"], axis=0),
             helper.make_node("Mul", ["n", "n" if variant == "square" else "two"], ["n2"], name="square" if variant == "square" else "heads"),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]), helper.make_node("Unsqueeze", ["n2", "axes"], ["n21"]),
             helper.make_node("Concat", ["three", "n21", "two1"], ["t_heads"], axis=0), helper.make_node("Reshape", ["xt", "t_heads"], ["h"]), T("h", "m")]
    if variant == "softmax":
        nodes.append(helper.make_node("Softmax", ["m"], ["v"], axis=0, name="attn_softmax"))
    elif variant == "split":
        nodes += [helper.make_node("Concat", ["two1", "n1", "six"], ["t_split"], axis=0), helper.make_node("Reshape", ["m", "t_split"], ["v"], name="split_batch")]
    else:
        nodes.append(helper.make_node("Identity", ["m"], ["v"]))
    nodes += [T("v", "o"), helper.make_node("Concat", ["three", "n1", "four"], ["t_back"], axis=0), helper.make_node("Reshape", ["o", "t_back"], ["r"]), T("r", "b"),
              helper.make_node("Flatten", ["b"], ["f"], axis=1), helper.make_node("Gemm", ["f", "fc.weight"], ["logits"], transB=1)]
    graph = helper.make_graph(nodes, "heads", [helper.make_tensor_value_info("input", TensorProto.DOUBLE, ["batch", 3, 4])],
                              [helper.make_tensor_value_info("logits", TensorProto.DOUBLE, ["batch", 2])], initializer=inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), name)


def onnx_embedding(name, context, vocab, width=4):
    """A next-token ONNX model (no torch): int64 token ids [batch, context] -> Gather of the
    embedding table 'tok.weight' [vocab, width] -> MatMul 'head' [width, vocab] -> logits
    [batch, context, vocab], opset 17."""
    from onnx import TensorProto, helper, save
    table = helper.make_tensor("tok.weight", TensorProto.DOUBLE, [vocab, width], [0.01 * (i % 7) for i in range(vocab * width)])
    head = helper.make_tensor("head", TensorProto.DOUBLE, [width, vocab], [0.02 * (i % 3) for i in range(vocab * width)])
    nodes = [helper.make_node("Gather", ["tok.weight", "input"], ["h"]), helper.make_node("MatMul", ["h", "head"], ["logits"])]
    graph = helper.make_graph(nodes, "embedding", [helper.make_tensor_value_info("input", TensorProto.INT64, ["batch", context])],
                              [helper.make_tensor_value_info("logits", TensorProto.DOUBLE, ["batch", context, vocab])], initializer=[table, head])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), name)


def tokens(name, count, context, vocab, bad=None, descr="<i8"):
    """count x context token ids in [0, vocab) (id (i + t) % vocab); bad = (i, t, id) puts one id."""
    values = [(i + t) % vocab for i in range(count) for t in range(context)]
    if bad:
        values[bad[0] * context + bad[1]] = bad[2]
    npy(name, (count, context), descr, values=values)


# ---- the driver -------------------------------------------------------------------------
def weights(folder, widths, activation="tanh", shapes=None, bad=None, manifest=None):
    """A weight folder (docs/weights.md) for an MLP with these widths. shapes: override
    the written tensor shapes {name: shape}; bad: {name: value} written into entry 0
    (e.g. float('nan')); manifest: the model.json text as is."""
    import json
    os.makedirs(folder, exist_ok=True)
    tensors = []
    for k in range(len(widths) - 1):
        for kind, shape in (("weight", (widths[k + 1], widths[k])), ("bias", (widths[k + 1],))):
            name = f"layers.{k}.{kind}"
            shape = tuple((shapes or {}).get(name, shape))
            count = 1
            for d in shape:
                count *= d
            vals = [0.01 * ((i % 7) - 3) for i in range(count)]
            if bad and name in bad:
                vals[0] = bad[name]
            npy(os.path.join(folder, name + ".npy"), shape, "<f8", values=vals)
            tensors.append({"name": name, "file": name + ".npy", "shape": list(shape)})
    text = manifest if manifest is not None else json.dumps({"format": "hessa-weights", "version": 1, "model": "mlp", "widths": list(widths), "activation": activation, "loss": "cross-entropy", "tensors": tensors})
    raw(os.path.join(folder, "model.json"), text.encode())


def edit(folder, change):
    """Rewrite folder/model.json after change(manifest) edited the parsed dict in place."""
    import json
    path = os.path.join(folder, "model.json")
    m = json.load(open(path))
    change(m)
    raw(path, json.dumps(m).encode())


def fifo(name):
    """A named pipe that no one writes: reading it would block forever."""
    os.mkfifo(name)


def read_cases(path):
    """The cases of the table, in order: [name, recipe, options, expected]."""
    cases = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [x.strip() for x in line.rstrip("\n").split("|", 3)]
            if len(fields) != 4 or not fields[0].replace("_", "").isalnum() or not fields[3]:
                sys.exit(f"{path}:{number}: expected 'name | recipe | options | expected message'")
            cases.append(fields)
    names = [c[0] for c in cases]
    if len(set(names)) != len(names):
        sys.exit(f"{path}: case names must be unique")
    return cases


def read_case(path, name):
    for fields in read_cases(path):
        if fields[0] == name:
            return fields
    sys.exit(f"run_case.py: no case '{name}' in {path}")


def main():
    global MAKE_HDF5
    if len(sys.argv) == 3 and sys.argv[1] == "--list":
        print(";".join(c[0] for c in read_cases(sys.argv[2])), end="")
        return
    ap = argparse.ArgumentParser()
    for opt in ("--cases", "--case", "--mpiexec", "--hessa", "--make-hdf5", "--workdir"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--np", type=int, required=True)
    a = ap.parse_args()
    MAKE_HDF5 = a.make_hdf5
    _, recipe, options, expected = read_case(a.cases, a.case)
    work = os.path.join(os.path.abspath(a.workdir), f"{a.case}_np{a.np}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.chdir(work)
    if recipe:
        exec(recipe, {k: v for k, v in globals().items() if not k.startswith("_")})
    options = shlex.split(options.replace("{dir}", work).replace("{fmnist}", FMNIST).replace("{nonutf8}", NONUTF8))
    expected = expected.replace("{dir}", work).replace("{fmnist}", FMNIST).replace("{nonutf8}", NONUTF8_BYTES.decode(errors="replace"))
    command = "info"
    if options and options[0].startswith("@"):  # "@landscape ...": another subcommand than info
        command = options.pop(0)[1:]
    cmd = [a.mpiexec, "-n", str(a.np), "--oversubscribe", a.hessa, command] + options
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=TIME_LIMIT)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # our own mpiexec and its ranks
        out, _ = proc.communicate()
        timed_out = True
    text = out.decode(errors="replace")
    problems = []
    if timed_out:
        problems.append(f"did not finish within {TIME_LIMIT:g} s")
    elif proc.returncode == 0:
        problems.append("exit status 0, expected non-zero")
    if expected not in text:
        problems.append(f"output lacks the expected message: {expected}")
    if text.count("hessa: error:") != 1:
        problems.append(f"'hessa: error:' appears {text.count('hessa: error:')} times, expected once")
    if "hessa: error (rank" in text or "MPI_ABORT" in text:
        problems.append("not every rank failed together (a rank reported alone or aborted)")
    if problems:
        print(f"case {a.case} on {a.np} ranks: " + "; ".join(problems))
        print("command: " + " ".join(shlex.quote(c) for c in cmd))
        print("output:\n" + text)
        sys.exit(1)


if __name__ == "__main__":
    main()
