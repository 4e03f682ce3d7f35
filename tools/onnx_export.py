#!/usr/bin/python3
"""Export a PyTorch model for hessa (docs/onnx.md).

    /usr/bin/python3 tools/onnx_export.py MODEL.py NAME --input-shape 1,28,28 -o net.onnx
        [--state-dict weights.pt] [--kwargs '{"width": 8}']
        [--fashion-mnist N --data-prefix data]  (also write N samples as data_x.npy / data_y.npy)

MODEL.py defines NAME: a torch.nn.Module class or a function returning a module (so no
torchvision is needed); --kwargs are passed to it. --state-dict loads a torch.save'd state
dict (strictly: every parameter and buffer, names as in the model).

The recipe (why: docs/onnx.md):
    model.eval(); model.double()
    torch.onnx.export(model, x, path, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, opset_version=opset_version,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
- eval(): BatchNorm uses its running statistics and Dropout is the identity, the function
  hessa differentiates; PRESERVE keeps BatchNorm a BatchNormalization node (eval mode with
  TrainingMode.EVAL and constant folding would fuse it into the convolution, and BN's scale
  and bias would stop being parameters: a different Hessian);
- do_constant_folding=False keeps every initializer under its PyTorch name, so hessa's
  parameter table says conv1.weight, bn1.bias, ...; the exporter still merges initializers
  with equal values (a fresh BatchNorm's running_var equals its weight, both ones) into
  Identity nodes, which export() undoes so that every tensor stays its own;
- double(): float64 initializers, so theta is exactly the model's weights;
- the dynamic batch axis lets hessa feed any number of samples per chunk;
- every nn.MultiheadAttention (batch_first=True) is exported as BatchFirstAttention, the same
  function over the same parameters with the batch kept first (its eval-mode fast path cannot
  be exported; PyTorch's math path, which merges the batch with the heads, also loads: a plain
  torch.onnx.export in train mode with dropout 0, docs/onnx.md section 2.2).

Import it to export a module you already have:
    sys.path.insert(0, "<hessa>/tools"); from onnx_export import export
    export(model, example_input, "net.onnx")
"""
import argparse
import gzip
import importlib.util
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F


class BatchFirstAttention(torch.nn.Module):
    """The math of nn.MultiheadAttention(batch_first=True) written so that the batch stays the
    first axis of every tensor: heads by view [B, T, H, D] and transpose to [B, H, T, D], the
    scores and the weighted values as batched matmuls. It holds the SAME parameter objects
    under the same names (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias), so the
    exported graph has the model's parameter table and computes the same function: the
    Hessian is the original model's. (PyTorch's own math path moves the batch to axis 1 and
    merges it with the heads, [T, B*H, D], which hessa reads through its layout layer when
    exported by a plain torch.onnx.export in train mode; its fused fast path, taken
    in eval mode without gradients, is one opaque kernel that cannot be exported at all.)
    Supported: batch_first=True, equal q/k/v embedding sizes, no bias_k/bias_v, attn_mask
    None, bool [T, S] (True: not allowed) or float [T, S] (added); key_padding_mask None.
    Dropout is not applied (export is in eval mode). Returns (output, None)."""

    def __init__(self, mha):
        super().__init__()
        if not mha.batch_first:
            raise ValueError("onnx_export: nn.MultiheadAttention(batch_first=False) takes [T, B, C]: export the model with a plain "
                             "torch.onnx.export in train mode (dropout 0, dynamic_axes on the batch; docs/onnx.md section 2.2), or build it with batch_first=True")
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
            raise ValueError("onnx_export: nn.MultiheadAttention with kdim/vdim != embed_dim, add_bias_kv or add_zero_attn is not supported")
        self.embed_dim, self.num_heads, self.batch_first = mha.embed_dim, mha.num_heads, True
        self._qkv_same_embed_dim = True  # read by nn.TransformerEncoderLayer
        self.in_proj_weight = mha.in_proj_weight
        self.in_proj_bias = mha.in_proj_bias
        self.out_proj = mha.out_proj

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True):
        if key_padding_mask is not None:
            raise ValueError("onnx_export: key_padding_mask is not supported in the exported attention (hessa takes whole sequences)")
        B, T, C = query.shape
        S, H = key.shape[1], self.num_heads
        D = C // H
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3) if self.in_proj_bias is not None else (None, None, None)
        q = F.linear(query, w_q, b_q).view(B, T, H, D).transpose(1, 2)
        k = F.linear(key, w_k, b_k).view(B, S, H, D).transpose(1, 2)
        v = F.linear(value, w_v, b_v).view(B, S, H, D).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))
        if attn_mask is not None:
            if attn_mask.dim() != 2:
                raise ValueError("onnx_export: only a 2-D attn_mask [T, S] is supported")
            att = att.masked_fill(attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else att + attn_mask
        y = (F.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
        return self.out_proj(y), None


class _BatchFirstAttentionSwap:
    """Within the block, every nn.MultiheadAttention of the model is replaced by a
    BatchFirstAttention over the same parameters; afterwards the model is as it was."""

    def __init__(self, model):
        self.model, self.swapped = model, []

    def __enter__(self):
        for parent in self.model.modules():
            for name, child in list(parent.named_children()):
                if isinstance(child, torch.nn.MultiheadAttention):
                    setattr(parent, name, BatchFirstAttention(child))
                    self.swapped.append((parent, name, child))
        return self

    def __exit__(self, *exc):
        for parent, name, child in self.swapped:
            setattr(parent, name, child)
        return False


def export(model, example, path, opset_version=17):
    """Export `model` (a torch.nn.Module) with hessa's recipe; example: one input batch
    (any batch size, any float dtype, or int64 token ids). opset_version: 17 (the recipe; nn.LayerNorm becomes
    one LayerNormalization node) or 13 to 16 (nn.LayerNorm decomposed into ReduceMean, Sub,
    Pow, Sqrt, Div, Mul, Add). Returns the list of parameter names the graph keeps.
    Every nn.MultiheadAttention is exported as BatchFirstAttention (the same function and
    parameters, written with the batch first)."""
    model.eval()
    model.double()
    if example.is_floating_point():  # integer examples are token ids (an embedding's input)
        example = example.double()
    with _BatchFirstAttentionSwap(model):
        torch.onnx.export(model, (example,), path, training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False, opset_version=opset_version,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    import onnx
    graph = onnx.load(path)
    if _undo_deduplication(graph):
        onnx.save(graph, path)
    onnx.checker.check_model(graph)
    initializers = {t.name for t in graph.graph.initializer}
    missing = [name for name, _ in model.named_parameters() if name not in initializers]
    if missing:
        sys.stderr.write("onnx_export: warning: these parameters are not initializers of the exported graph "
                         f"(renamed or folded, so hessa names them differently): {', '.join(missing)}\n")
    return [name for name, _ in model.named_parameters() if name in initializers]


def _undo_deduplication(model):
    """In eval mode PyTorch's exporter merges initializers with EQUAL VALUES into one and
    writes the others as Identity nodes of it: a fresh BatchNorm's running_var (ones)
    becomes Identity(bn.weight), running_mean (zeros) Identity(bn.bias), and two zero
    biases share one tensor. The graph then ties parameters that PyTorch keeps apart (a
    different Hessian) and feeds BatchNorm's statistics from its parameters. Give each
    such value back its own initializer under its own name. Returns the number undone."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    keep, undone = [], 0
    for node in graph.node:
        if node.op_type == "Identity" and len(node.input) == 1 and node.input[0] in inits and node.output[0] not in inits:
            copy = type(inits[node.input[0]])()
            copy.CopyFrom(inits[node.input[0]])
            copy.name = node.output[0]
            graph.initializer.append(copy)
            inits[copy.name] = copy
            undone += 1
        else:
            keep.append(node)
    if undone:
        del graph.node[:]
        graph.node.extend(keep)
    return undone


def load_builder(file, name):
    spec = importlib.util.spec_from_file_location("hessa_user_model", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, name):
        sys.exit(f"onnx_export: {file} defines no '{name}'")
    return getattr(module, name)


def fashion_mnist(count):
    """The first `count` Fashion-MNIST training samples (Debian's dataset-fashion-mnist) as
    float64 rows scaled to [0, 1] (hessa's default scale) and int64 labels."""
    with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:count] / 255.0
    with gzip.open("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:count].astype(np.int64)
    return x, y


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_file", help="Python file defining the model class or builder")
    p.add_argument("name", help="class or builder function in that file")
    p.add_argument("--input-shape", required=True, help="per-sample input shape, e.g. 1,28,28")
    p.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    p.add_argument("--state-dict", help="torch.save'd state dict to load first")
    p.add_argument("--kwargs", default="{}", help="JSON keyword arguments of the class or builder")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed before building (initial weights)")
    p.add_argument("--fashion-mnist", type=int, default=0, metavar="N", help="also write N Fashion-MNIST samples")
    p.add_argument("--data-prefix", default="data", help="data files PREFIX_x.npy and PREFIX_y.npy")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    model = load_builder(a.model_file, a.name)(**json.loads(a.kwargs))
    if not isinstance(model, torch.nn.Module):
        sys.exit(f"onnx_export: {a.name}(...) returned {type(model).__name__}, expected a torch.nn.Module")
    if a.state_dict:
        model.load_state_dict(torch.load(a.state_dict, map_location="cpu"), strict=True)
    shape = [int(s) for s in a.input_shape.split(",")]
    names = export(model, torch.zeros([2] + shape, dtype=torch.float64), a.output)
    count = sum(p.numel() for n, p in model.named_parameters() if n in names)
    print(f"{a.output}: {len(names)} parameter tensors, n = {count}, input per sample {shape}")
    if a.fashion_mnist:
        if int(np.prod(shape)) != 784:
            sys.exit(f"onnx_export: Fashion-MNIST has 784 features per sample, the input shape {shape} holds {int(np.prod(shape))}")
        x, y = fashion_mnist(a.fashion_mnist)
        np.save(f"{a.data_prefix}_x.npy", x)
        np.save(f"{a.data_prefix}_y.npy", y)
        print(f"{a.data_prefix}_x.npy, {a.data_prefix}_y.npy: {len(y)} Fashion-MNIST samples")


if __name__ == "__main__":
    main()
