#!/usr/bin/python3
"""docs/weights.schema.json and the code (HessaWeightsValidateManifest) state the same
rules: both give the same verdict on the committed fuzz seeds and on ~60 mutations of a
valid manifest (each key dropped, misspelled, mistyped; versions; kind-specific keys).
The code is stricter on purpose only where a JSON Schema cannot speak (two tensors with
one name or file, a file named after another tensor): those must be refused by the code
with the expected message.

usage: manifest_schema.py SCHEMA MANIFEST_VERDICT CORPUS_DIR WORKDIR
"""
import copy, json, os, subprocess, sys
import jsonschema

schema_path, verdict_exe, corpus, work = sys.argv[1:5]
schema = json.load(open(schema_path))
os.makedirs(work, exist_ok=True)

T = [{"name": n, "file": n + ".npy", "shape": s} for n, s in
     (("layers.0.weight", [4, 3]), ("layers.0.bias", [4]), ("layers.1.weight", [2, 4]), ("layers.1.bias", [2]))]
MLP = {"format": "hessa-weights", "version": 1, "model": "mlp", "widths": [3, 4, 2], "activation": "tanh",
       "loss": "cross-entropy", "tensors": T}
ONNX = {"format": "hessa-weights", "version": 1, "model": "onnx", "graph": "net.onnx", "tensors": T}
QUAD = {"format": "hessa-weights", "version": 1, "model": "quadratic", "tensors": [{"name": "theta", "file": "theta.npy", "shape": [5]}]}


def variants():
    for base_name, base in (("mlp", MLP), ("onnx", ONNX), ("quad", QUAD)):
        yield base_name, base
        for key in base:
            m = copy.deepcopy(base); del m[key]; yield f"{base_name}_no_{key}", m
            m = copy.deepcopy(base); m[key[:-1] + key[-1] * 2] = m.pop(key); yield f"{base_name}_misspelled_{key}", m
            m = copy.deepcopy(base); m[key] = None; yield f"{base_name}_null_{key}", m
        for v in (0, 2, 99, 1.5, "1", True):
            m = copy.deepcopy(base); m["version"] = v; yield f"{base_name}_version_{v}", m
        for key, value in (("widths", [3, 4, 2]), ("activation", "tanh"), ("loss", "mse"), ("graph", "g.onnx")):
            m = copy.deepcopy(base); m[key] = value; yield f"{base_name}_with_{key}", m
        m = copy.deepcopy(base); m["tensors"][0]["dtype"] = "float32"; yield f"{base_name}_tensor_extra_key", m
        for key in ("name", "file", "shape"):
            m = copy.deepcopy(base); del m["tensors"][0][key]; yield f"{base_name}_tensor_no_{key}", m
        for bad in ("", "a/b.npy", "..", "."):
            m = copy.deepcopy(base); m["tensors"][0]["file"] = bad; yield f"{base_name}_file_{bad!r}", m
        for shape in ([-1], [1.5], ["3"], [1] * 9, []):
            m = copy.deepcopy(base); m["tensors"][0]["shape"] = shape; yield f"{base_name}_shape_{shape}", m
        m = copy.deepcopy(base); m["tensors"][0]["name"] = ""; yield f"{base_name}_empty_name", m
    for widths in ([3], [3] * 17, [3, 0, 2], [3, 1e9, 2], [3, 2.5, 2]):
        m = copy.deepcopy(MLP); m["widths"] = widths; yield f"mlp_widths_{len(widths)}_{widths[1] if len(widths) > 1 else ''}", m
    for key, value in (("activation", "swish"), ("loss", "hinge"), ("model", ""), ("format", "safetensors")):
        m = copy.deepcopy(MLP); m[key] = value; yield f"mlp_{key}_{value}", m
    yield "array_root", [MLP]


# the code may be stricter only here (rules a JSON Schema cannot state)
CROSS_FIELD = {"dup_name": "is listed twice", "dup_file": "is listed twice", "swap": "the file of tensor"}
cases = []
for name, m in variants():
    cases.append((name, json.dumps(m), None))
m = copy.deepcopy(MLP); m["tensors"][1] = copy.deepcopy(m["tensors"][0]); cases.append(("dup_name", json.dumps(m), CROSS_FIELD["dup_name"]))
m = copy.deepcopy(MLP); m["tensors"][3]["file"] = m["tensors"][1]["file"]; cases.append(("dup_file", json.dumps(m), CROSS_FIELD["dup_file"]))
m = copy.deepcopy(MLP); m["tensors"][0]["file"], m["tensors"][2]["file"] = m["tensors"][2]["file"], m["tensors"][0]["file"]; cases.append(("swap", json.dumps(m), CROSS_FIELD["swap"]))
for f in sorted(os.listdir(corpus)):
    cases.append(("corpus/" + f, open(os.path.join(corpus, f), encoding="utf-8", errors="replace").read(), None))

paths = []
for k, (name, text, _) in enumerate(cases):
    p = os.path.join(work, f"case{k}.json")
    open(p, "w").write(text)
    paths.append(p)
out = subprocess.run([verdict_exe] + paths, capture_output=True, text=True, check=True).stdout.splitlines()
assert len(out) == len(cases), f"{len(out)} verdicts for {len(cases)} files"
problems = []
for (name, text, stricter), line in zip(cases, out):
    try:
        jsonschema.validate(json.loads(text), schema)
        schema_ok = True
    except (ValueError, jsonschema.ValidationError):
        schema_ok = False
    code_ok = line == "ok"
    if stricter:
        if not schema_ok or code_ok or stricter not in line:
            problems.append(f"{name}: schema {'accepts' if schema_ok else 'refuses'}, code says {line!r}; expected the code to refuse with '{stricter}'")
    elif schema_ok and not code_ok and name.startswith("corpus/") and any(m in line for m in CROSS_FIELD.values()):
        pass  # a committed seed that breaks a cross-field rule
    elif schema_ok != code_ok:
        problems.append(f"{name}: schema {'accepts' if schema_ok else 'refuses'} but code says {line!r}")
    elif not code_ok and not line.startswith("bad\t") or (not code_ok and len(line) < 10):
        problems.append(f"{name}: refusal without a message: {line!r}")
if problems:
    print(f"{len(problems)} of {len(cases)} manifests disagree:\n" + "\n".join(problems))
    sys.exit(1)
