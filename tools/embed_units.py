#!/usr/bin/python3
"""Embed a one-hidden-layer MLP critical point into a wider network (Fukumizu & Amari 2000).

usage: embed_units.py SOURCE_FOLDER TARGET_FOLDER EXTRA_UNITS

The new hidden units get zero incoming weights, zero bias and zero outgoing weights. With
tanh (tanh(0) = 0) such a unit outputs 0, so the loss and every existing gradient entry are
unchanged, and the new entries of the gradient are 0 (the outgoing weights multiply a zero
activation, the incoming weights a zero outgoing weight; weight decay adds 0): a critical
point of the narrow network is a critical point of the wide one. Its Hessian block for one
new unit is [[wd I, C], [C^T, wd I]] with C = E[x r^T] tanh'(0) (x: inputs with a 1 for the
bias, r: the output residual), whose eigenvalues wd +- sigma_i(C) are negative whenever a
singular value of C exceeds the weight decay: usually a saddle, whose escape direction grows
the new unit. Writes the weight format of docs/weights.md.
"""
import json, os, shutil, sys
import numpy as np

src, dst, extra = sys.argv[1], sys.argv[2], int(sys.argv[3])
meta = json.load(open(os.path.join(src, "model.json")))
if meta.get("model") != "mlp" or len(meta["widths"]) != 3 or meta.get("activation") != "tanh":
    sys.exit(f"embed_units.py: {src}: expected a one-hidden-layer tanh mlp, found {meta.get('model')} {meta.get('widths')} {meta.get('activation')}")
t = {x["name"]: np.load(os.path.join(src, x["file"])).astype(np.float64) for x in meta["tensors"]}
w0, b0, w1 = t["layers.0.weight"], t["layers.0.bias"], t["layers.1.weight"]
t["layers.0.weight"] = np.vstack([w0, np.zeros((extra, w0.shape[1]))])
t["layers.0.bias"] = np.concatenate([b0, np.zeros(extra)])
t["layers.1.weight"] = np.hstack([w1, np.zeros((w1.shape[0], extra))])
tmp = dst + ".tmp"
shutil.rmtree(tmp, ignore_errors=True)
os.makedirs(tmp)
meta["widths"][1] += extra
for x in meta["tensors"]:
    np.save(os.path.join(tmp, x["file"]), t[x["name"]])
    x["shape"] = list(t[x["name"]].shape)
json.dump(meta, open(os.path.join(tmp, "model.json"), "w"), indent=1)
shutil.rmtree(dst, ignore_errors=True)
os.rename(tmp, dst)
