#!/usr/bin/python3
"""The real hessa commands on PyTorch models against PyTorch float64 (double backward).

usage: onnx_torch.py MPIEXEC NP HESSA WORKDIR CASE

CASE
  mlp        hessa's built-in MLP from a weight folder (no ONNX): `hessa hvp` loss,
             gradient, Hv and Gv against PyTorch to 1e-10 relative; a direction of the
             wrong length or with NaN is one error; on Rosenbrock (analytic, no GGN) the
             loss, gradient and Hv equal PyTorch's and gv.npy is skipped with a note.
  dense cnn resnet grouped gelu sigmoid layernorm layernorm13 softmax
             attention causal mha encoder (tests/onnx/attention_models.py; mha also: the
             plain torch.onnx.export of nn.MultiheadAttention, case_plain)
  plain_encoder plain_causal plain_seq_first  a PLAIN torch.onnx.export (train mode, dropout
             0: PyTorch's math path of attention, the batch moved and merged with the heads)
             of nn.TransformerEncoderLayer(batch_first=True), of the same with a causal
             src_mask, and of a seq-first model (x [T, N, C], nn.MultiheadAttention(
             batch_first=False), causal attn_mask): hvp against PyTorch, hessa check, and
             for the seq-first one the full spectrum against numpy (case_plain)
  vit        a tiny vision transformer (class token expanded to the batch): as the models
             below, then the same graph at opset 18 (Split by num_outputs) and the full and
             per-block spectra against numpy's eigvalsh of PyTorch's Hessian (case_vit)
  token_mlp token_class token_gpt token_tel  token data (-hessa_data_source tokens), see
             case_tokens; token_tel: nn.TransformerEncoderLayer with a causal mask by a plain
             torch.onnx.export, next-token targets and a padding mask; token_seq_first: a
             seq-first model (ids [T, N], a positional buffer [T, 1, E],
             nn.TransformerEncoderLayer(batch_first=False), logits [T, N, V]): the data's
             [N, T] ids and targets line up with the output's sample n, out[:, n]
             the model of models.py (layernorm13: exported at opset 13, nn.LayerNorm
             decomposed; layernorm: opset 17, LayerNormalization nodes) exported with tools/onnx_export.py (hessa's recipe) and
             run with -hessa_model onnx on 24 synthetic samples: `hessa hvp` (weight decay
             1e-2) against PyTorch to 1e-10 relative, a direction file written by the test
             gives the same Hv as PyTorch, and `hessa check` passes.
  spectrum   a CNN of 193 parameters: `hessa spectrum -hessa_spectrum_full` against numpy's
             eigvalsh of PyTorch's Hessian (1e-10 relative to the largest |eigenvalue|), and
             per-layer spectra (-hessa_operator_subset conv1.weight, fc) against eigvalsh of
             the principal submatrices.
  analyze    a Fashion-MNIST CNN (782 parameters, 200 samples) analysed end to end: the
             report's verdict (type, counts of negative/zero/positive eigenvalues on the full
             spectrum basis, lambda_min/max) against the exact spectrum from PyTorch.
  mse        regression targets: the loss defaults to mse; hvp against PyTorch's mse_loss.
  commands   `hessa landscape` between two ONNX checkpoints of `hessa train` and `hessa study`
             of the training folder: every loss against PyTorch's to 1e-10 relative.
  checkpoint `hessa train` (2 GD steps) on an ONNX model writes a checkpoint folder: its NPY
             tensors are theta (PyTorch's GD steps to 1e-12), its model.onnx loads with onnx
             and holds the same weights, and `hessa hvp -hessa_model_weights CKPT` (no
             -hessa_model_file) equals PyTorch at those weights.
Every vector comparison is |hessa - torch| / |torch| (2-norm); the whole check runs at NP
ranks, so the same tolerances hold at 1, 2 and 3 ranks.

NP = ref: the fixture of the case's three rank runs (ctest FIXTURES_SETUP onnx_CASE_ref).
It exports the model, writes the data and direction files into WORKDIR/onnx_CASE_ref, runs
`hessa hvp` once on 1 rank for the parameter table and the default direction (the same at
every rank count), and computes every PyTorch/numpy reference (loss, gradient, Hv, Gv,
eigvalsh of the Hessian and of its blocks, GD steps) once, into reference.pkl there. The
rank runs then need no PyTorch: they run hessa on the fixture's files and compare with
reference.pkl at the same tolerances, after checking that their parameter table and
directions equal the fixture's bit for bit. mlp, checkpoint and commands compare at points
that hessa computes (trained weights) and keep PyTorch in the rank runs (their fixture does
nothing).
"""
import fnmatch
import json
import os
import shutil
import subprocess
import sys

import pickle

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "tools"))

mpiexec, nprocs, hessa, work, case = sys.argv[1], sys.argv[2], sys.argv[3], os.path.abspath(sys.argv[4]), sys.argv[5]
FIXTURE = nprocs == "ref"  # compute the references once, for the rank runs of this case
LIVE = case in ("mlp", "checkpoint", "commands")  # references at hessa's own outputs: PyTorch in the rank runs
REF_DIR = os.path.join(work, f"onnx_{case}_ref")  # the fixture's files and reference.pkl
root = REF_DIR if FIXTURE else os.path.join(work, f"onnx_{case}_np{nprocs}")
if FIXTURE:
    nprocs = "1"  # the fixture's one `hessa hvp` (parameter table, default direction)
    if LIVE:
        sys.exit(0)
if FIXTURE or LIVE:
    import torch
    import torch.nn.functional as F
    from torch.nn.utils.stateless import functional_call
    from models import build  # noqa: E402
    from onnx_export import export, fashion_mnist  # noqa: E402
    from weight_folders import save_torch  # noqa: E402

    torch.set_default_dtype(torch.float64)
shutil.rmtree(root, ignore_errors=True)  # a rerun starts afresh (hessa train refuses a used output folder)
os.makedirs(root)
# the references: filled by the fixture, read by the rank runs
expected = {}
if not FIXTURE and not LIVE:
    if not os.path.exists(f"{REF_DIR}/reference.pkl"):
        sys.exit(f"{REF_DIR}/reference.pkl missing: the fixture onnx_{case}_ref did not run or failed")
    with open(f"{REF_DIR}/reference.pkl", "rb") as f:
        expected = pickle.load(f)
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
failures = []
TOL = 1e-10


notes = []


def note(line):
    """Measured numbers: printed with the failures (the test is silent on success), or
    always with HESSA_TEST_VERBOSE=1."""
    notes.append(line)
    if os.environ.get("HESSA_TEST_VERBOSE"):
        print(line)


def check(ok, what):
    if not ok:
        failures.append(what)


def run(command, *args, expect_ok=True, timeout=240):
    cmd = [mpiexec, "-n", nprocs, "--oversubscribe", hessa, command, "-quiet", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if expect_ok and r.returncode != 0:
        sys.exit(f"{' '.join(cmd)}\nfailed (exit {r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def write_data(folder, shape, classes, count, seed):
    """count synthetic samples of the per-sample shape, labels cycling over the classes."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count,) + tuple(shape))
    y = np.arange(count, dtype=np.int64) % classes
    np.save(f"{folder}/x.npy", x)
    np.save(f"{folder}/y.npy", y)
    return x, y


def data_options(folder, classes):
    return ["-hessa_data_source", "npy", "-hessa_data_features", f"{folder}/x.npy", "-hessa_data_labels", f"{folder}/y.npy",
            "-hessa_data_classes", str(classes)]


class Reference:
    """The objective f(theta) = mean cross-entropy(model(x), y) + wd/2 |theta|^2 with theta in
    hessa's parameter order (params.json of hessa hvp), evaluated by PyTorch in float64."""

    def __init__(self, model, params, x, y, wd, mse=False, seq_first=False):
        self.model, self.wd, self.mse = model.double().eval(), wd, mse
        self.x = torch.from_numpy(x).double()
        if seq_first:  # the data holds samples [N, T, C]; the model takes x [T, N, C]
            self.x = self.x.transpose(0, 1)
        self.y = torch.from_numpy(y).double() if mse else torch.from_numpy(y).long()
        self.names = [p["name"] for p in params]
        self.shapes = [tuple(p["shape"]) for p in params]
        self.counts = [p["count"] for p in params]
        torch_params = dict(model.named_parameters())
        missing = sorted(set(torch_params) - set(self.names))
        extra = sorted(set(self.names) - set(torch_params))
        if missing or extra:
            sys.exit(f"parameter tables differ: PyTorch has {missing} that hessa lacks, hessa has {extra} that PyTorch lacks")
        for name, shape in zip(self.names, self.shapes):
            if tuple(torch_params[name].shape) != shape:
                sys.exit(f"parameter {name}: hessa shape {shape}, PyTorch {tuple(torch_params[name].shape)}")
        self.theta = torch.cat([torch_params[n].detach().reshape(-1) for n in self.names])

    def tensors(self, t):
        out, off = {}, 0
        for name, shape, count in zip(self.names, self.shapes, self.counts):
            out[name] = t[off:off + count].view(shape)
            off += count
        return out

    def outputs(self, t):
        return functional_call(self.model, self.tensors(t), (self.x,))

    def data_loss(self, z):
        # the mean over samples (cross-entropy), over samples and outputs (mse)
        return F.mse_loss(z, self.y) if self.mse else F.cross_entropy(z, self.y)

    def loss(self, t):
        return self.data_loss(self.outputs(t)) + 0.5 * self.wd * (t * t).sum()

    def all(self, v):
        """loss, gradient, H v, G v at self.theta."""
        t = self.theta.clone().requires_grad_(True)
        loss = self.loss(t)
        g = torch.autograd.grad(loss, t, create_graph=True)[0]
        hv = torch.autograd.grad(g @ v, t)[0]
        z, jv = torch.autograd.functional.jvp(self.outputs, self.theta, v)
        _, hjv = torch.autograd.functional.hvp(self.data_loss, z.detach(), jv)
        _, gv = torch.autograd.functional.vjp(self.outputs, self.theta, hjv)
        return loss.item(), g.detach().numpy(), hv.numpy(), (gv + self.wd * v).numpy()

    def hessian(self):
        return torch.autograd.functional.hessian(self.loss, self.theta).numpy()


def expect(key, compute):
    """A reference: computed now (the fixture stores it) or read from the fixture's file."""
    if FIXTURE or LIVE:
        value = compute()
        if FIXTURE:
            expected[key] = value
        return value
    if key not in expected:
        sys.exit(f"{REF_DIR}/reference.pkl has no reference '{key}': rerun the fixture onnx_{case}_ref")
    return expected[key]


def expected_hvp(ref, d, label):
    """loss, gradient, Hv, Gv of the reference at direction d; the rank runs check that d is
    the fixture's direction bit for bit (the default direction does not depend on the rank count)."""
    e = expect(f"hvp {label}", lambda: (d, *ref.all(torch.from_numpy(d))))
    check(np.array_equal(e[0], d), f"{label}: direction.npy differs from the fixture's direction (onnx_{case}_ref) by {rel(d, e[0]):.3e}")
    return e[1:]


def same_params(params, label):
    """The rank runs' parameter table is the fixture's (the references are in its order)."""
    e = expect(f"params {label}", lambda: params)
    check(e == params, f"{label}: params.json differs from the fixture's (onnx_{case}_ref)")


def compare_hvp(out, ref, label, v=None):
    """hessa hvp's files in `out` against the reference at the same direction (ref: the
    PyTorch Reference in the fixture and the live cases, None in the rank runs)."""
    s = json.load(open(f"{out}/summary.json"))
    d = np.load(f"{out}/direction.npy")
    if v is not None:
        check(rel(d, v) == 0.0, f"{label}: direction.npy differs from the direction file given")
    loss, g, hv, gv = expected_hvp(ref, d, label)
    errs = {"loss": abs(s["loss"] - loss) / abs(loss), "gradient": rel(np.load(f"{out}/gradient.npy"), g),
            "Hv": rel(np.load(f"{out}/hv.npy"), hv), "Gv": rel(np.load(f"{out}/gv.npy"), gv)}
    for what, e in errs.items():
        check(e <= TOL, f"{label}: {what} differs from PyTorch by {e:.3e} relative (tolerance {TOL:g})")
    check(s["ranks"] == int(nprocs) and s["n"] == len(d), f"{label}: summary.json says ranks {s['ranks']} n {s['n']}")
    note(f"{label}: n = {len(d)}, relative differences to PyTorch: " + ", ".join(f"{k} {e:.2e}" for k, e in errs.items()))


def exported(name, seed=0, opset=17):
    torch.manual_seed(seed)
    model, shape, classes = build(name)
    path = f"{root}/{name}.onnx"
    export(model, torch.zeros((2,) + shape), path, opset_version=opset)
    return model, shape, classes, path


def graph_ops(path):
    import onnx
    return {n.op_type for n in onnx.load(path).graph.node}


def case_mlp():
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(6, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()
    save_torch(net, f"{root}/point", "tanh", "cross-entropy")
    x, y = write_data(root, (6,), 3, 30, seed=5)
    out = f"{root}/hvp"
    run("hvp", *data_options(root, 3), "-hessa_model_weights", f"{root}/point", "-hessa_mlp_weight_decay", "0.01", "-hessa_hvp_output", out)
    params = json.load(open(f"{out}/params.json"))["params"]
    check([p["name"] for p in params] == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"], f"mlp: params.json names {params}")
    # the Sequential names its layers 0 and 2; hessa names them layers.0 and layers.1
    rename = {"layers.0.weight": "0.weight", "layers.0.bias": "0.bias", "layers.1.weight": "2.weight", "layers.1.bias": "2.bias"}
    ref = Reference(net, [dict(p, name=rename[p["name"]]) for p in params], x, y, 0.01)
    compare_hvp(out, ref, "mlp")
    # a bad direction: wrong length, then NaN
    np.save(f"{root}/short.npy", np.ones(5))
    r = run("hvp", *data_options(root, 3), "-hessa_model_weights", f"{root}/point", "-hessa_hvp_direction", f"{root}/short.npy", "-hessa_hvp_output", f"{root}/bad", expect_ok=False)
    check(r.returncode != 0 and f"direction file '{root}/short.npy': expected a vector of shape (73,)" in r.stderr + r.stdout, f"mlp: short direction: exit {r.returncode}, output {r.stderr}")
    bad = np.ones(73)
    bad[7] = np.nan
    np.save(f"{root}/nan.npy", bad)
    r = run("hvp", *data_options(root, 3), "-hessa_model_weights", f"{root}/point", "-hessa_hvp_direction", f"{root}/nan.npy", "-hessa_hvp_output", f"{root}/bad", expect_ok=False)
    check(r.returncode != 0 and f"'{root}/nan.npy'" in r.stderr + r.stdout and "NaN" in r.stderr + r.stdout, f"mlp: NaN direction: exit {r.returncode}, output {r.stderr}")
    np.save(f"{root}/int.npy", np.ones(73, dtype=np.int64))
    r = run("hvp", *data_options(root, 3), "-hessa_model_weights", f"{root}/point", "-hessa_hvp_direction", f"{root}/int.npy", "-hessa_hvp_output", f"{root}/bad", expect_ok=False)
    check(r.returncode != 0 and f"direction file '{root}/int.npy': expected float64 or float32 values, found dtype int64" in r.stderr + r.stdout, f"mlp: integer direction: exit {r.returncode}, output {r.stderr}")
    # an analytic objective (no data, no Gauss-Newton products): Rosenbrock by PyTorch
    point = [0.5, 1.0, 2.0, -0.3]
    run("hvp", "-hessa_model", "rosenbrock", "-hessa_model_dim", "4", "-hessa_model_point", ",".join(map(str, point)), "-hessa_hvp_seed", "3",
        "-hessa_hvp_output", f"{root}/rosenbrock")
    s = json.load(open(f"{root}/rosenbrock/summary.json"))
    v = torch.from_numpy(np.load(f"{root}/rosenbrock/direction.npy"))
    t = torch.tensor(point, requires_grad=True)
    f = (100 * (t[1:] - t[:-1] ** 2) ** 2 + (1 - t[:-1]) ** 2).sum()
    g = torch.autograd.grad(f, t, create_graph=True)[0]
    hv = torch.autograd.grad(g @ v, t)[0]
    errs = [abs(s["loss"] - f.item()) / abs(f.item()), rel(np.load(f"{root}/rosenbrock/gradient.npy"), g.detach().numpy()),
            rel(np.load(f"{root}/rosenbrock/hv.npy"), hv.numpy())]
    note(f"rosenbrock hvp: relative differences loss {errs[0]:.2e}, gradient {errs[1]:.2e}, Hv {errs[2]:.2e}")
    check(max(errs) <= 1e-14, f"rosenbrock: loss, gradient, Hv differ from PyTorch by {errs}")
    check(sorted(set(np.abs(v.numpy()))) == [1.0], "rosenbrock: the default direction is not a Rademacher vector")
    check(not os.path.exists(f"{root}/rosenbrock/gv.npy") and "gv_note" in s, "rosenbrock: gv.npy written or no note for an objective without Gauss-Newton products")


def case_net(name, opset=17, ops=(), not_ops=()):
    """ops / not_ops: op types the exported graph must / must not hold (what the case covers).
    The model, data and direction file are the fixture's (REF_DIR)."""
    path = f"{REF_DIR}/{name}.onnx"
    model = ref = None
    if FIXTURE:
        model, shape, classes, path = exported(name, opset=opset)
        have = graph_ops(path)
        check(set(ops) <= have and not set(not_ops) & have, f"{name} at opset {opset}: the graph holds {sorted(have)}; expected {sorted(ops)} and none of {sorted(not_ops)}")
        x, y = write_data(REF_DIR, shape, classes, 24, seed=11)
    classes = expect("classes", lambda: classes)
    opts = ["-hessa_model", "onnx", "-hessa_model_file", path, *data_options(REF_DIR, classes), "-hessa_onnx_weight_decay", "0.01", "-hessa_onnx_chunk", "5"]
    out = f"{root}/hvp"
    run("hvp", *opts, "-hessa_hvp_output", out)
    params = json.load(open(f"{out}/params.json"))["params"]
    same_params(params, name)
    if FIXTURE:
        ref = Reference(model, params, x, y, 0.01)
        # a direction given as a float32 file
        np.save(f"{REF_DIR}/v.npy", np.random.default_rng(2).standard_normal(len(ref.theta)).astype(np.float32))
    compare_hvp(out, ref, name)
    v = np.load(f"{REF_DIR}/v.npy").astype(np.float64)
    if FIXTURE:  # the reference at the file's direction; the rank runs run hessa with it
        expected_hvp(ref, v, f"{name} (direction file)")
        return ref, params, opts, path
    run("hvp", *opts, "-hessa_hvp_direction", f"{REF_DIR}/v.npy", "-hessa_hvp_output", f"{root}/hvp_file")
    compare_hvp(f"{root}/hvp_file", ref, f"{name} (direction file)", v)
    # exact derivatives against finite differences (a kink of ReLU or MaxPool inside the
    # stencil would show as a failure: the step is small enough that none is crossed here)
    r = run("check", *opts, "-hessa_check_step", "1e-5", "-hessa_check_tol_fd", "1e-6", expect_ok=False)
    check(r.returncode == 0, f"{name}: hessa check failed:\n{r.stdout}\n{r.stderr}")
    return ref, params, opts, path


def plain_export(model, shape, path, seq_first=False, opset=17, dtype=None):
    """A plain torch.onnx.export, as a researcher writes it: the model in train mode (dropout 0,
    so that PyTorch takes nn.MultiheadAttention's math path), the batch axis dynamic; no
    tools/onnx_export.py (its BatchFirstAttention swap is not applied)."""
    model.train()
    x = torch.zeros((shape[0], 2) + tuple(shape[1:]), dtype=dtype) if seq_first else torch.zeros((2,) + tuple(shape), dtype=dtype)
    torch.onnx.export(model, (x,), path, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False, opset_version=opset, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {1 if seq_first else 0: "batch"}, "logits": {1 if seq_first and dtype is not None else 0: "batch"}})
    model.eval()


def case_plain(name, seq_first=False, spectrum=False):
    """nn.MultiheadAttention / nn.TransformerEncoderLayer exported by torch.onnx.export itself
    (the math path: the batch moved to axis 1, merged with the heads [T, N*H, D] and with the
    sequence [T*N, E]): loss, gradient, Hv and Gv against PyTorch, hessa check, and optionally
    the full spectrum against numpy's eigvalsh of PyTorch's Hessian. The model, data and
    references are the fixture's (REF_DIR)."""
    path, folder, label = f"{REF_DIR}/{name}_plain.onnx", f"{REF_DIR}/{name}_plain", f"{name} (plain export)"
    model = ref = None
    if FIXTURE:
        torch.manual_seed(5)
        model, shape, classes = build(name)
        plain_export(model, shape, path, seq_first=seq_first)
        have = graph_ops(path)
        check({"Transpose", "Reshape", "Softmax", "MatMul"} <= have, f"{label}: the graph holds {sorted(have)}; expected the math path of attention")
        os.makedirs(folder, exist_ok=True)
        x, y = write_data(folder, shape, classes, 7, seed=3)
    classes = expect(f"classes {label}", lambda: classes)
    opts = ["-hessa_model", "onnx", "-hessa_model_file", path, *data_options(folder, classes), "-hessa_onnx_chunk", "3"]
    out = f"{root}/hvp_{name}_plain"
    run("hvp", *opts, "-hessa_onnx_weight_decay", "0.01", "-hessa_hvp_output", out)
    params = json.load(open(f"{out}/params.json"))["params"]
    same_params(params, label)
    if FIXTURE:
        ref = Reference(model, params, x, y, 0.01, seq_first=seq_first)
    compare_hvp(out, ref, label)
    if not FIXTURE:
        r = run("check", *opts, "-hessa_check_step", "1e-5", "-hessa_check_tol_fd", "1e-6", expect_ok=False)
        check(r.returncode == 0, f"{label}: hessa check failed:\n{r.stdout}\n{r.stderr}")
    if spectrum:
        H = Reference(model, params, x, y, 0.0, seq_first=seq_first).hessian() if FIXTURE else None
        compare_full_spectra(opts, params, H, ("",), label)


def read_full_spectrum(prefix):
    rows = [line.split(",") for line in open(f"{prefix}_eigenvalues.csv").read().splitlines()[1:]]
    return np.sort(np.array([float(r[2]) for r in rows if r[0] == "full"]))


def case_spectrum():
    path = f"{REF_DIR}/tiny.onnx"
    H = None
    if FIXTURE:  # the model and data, the parameter table (hessa hvp) and PyTorch's Hessian
        model, shape, classes, path = exported("tiny", seed=4)
        x, y = write_data(REF_DIR, shape, classes, 24, seed=13)
        expected["classes"] = classes
        run("hvp", "-hessa_model", "onnx", "-hessa_model_file", path, *data_options(REF_DIR, classes), "-hessa_hvp_output", f"{root}/hvp")
        params = json.load(open(f"{root}/hvp/params.json"))["params"]
        H = Reference(model, params, x, y, 0.0).hessian()
        check(np.abs(H - H.T).max() <= 1e-12 * np.abs(H).max(), "PyTorch's Hessian is not symmetric")
    opts = ["-hessa_model", "onnx", "-hessa_model_file", path, *data_options(REF_DIR, expected["classes"])]
    compare_full_spectra(opts, params if FIXTURE else None, H, ("", "conv1.weight", "fc"), "tiny cnn")


def compare_full_spectra(opts, params, H, subsets, label):
    """`hessa spectrum -hessa_spectrum_full`, on the whole model and on each subset (names,
    prefixes or shell patterns, comma-separated), against numpy's eigvalsh of H and of its
    principal submatrices (1e-10 of the largest |eigenvalue|). The fixture computes the
    eigenvalues (H, params: PyTorch's Hessian in hessa's parameter order); the rank runs
    compare hessa's with them (H, params: None)."""
    for subset in subsets:
        key = f"spectrum {label} {subset}"
        if FIXTURE or LIVE:
            pats = subset.split(",") if subset else []
            idx = np.concatenate([np.arange(p["offset"], p["offset"] + p["count"]) for p in params
                                  if not pats or any(fnmatch.fnmatchcase(p["name"], q) if "*" in q else p["name"] == q or p["name"].startswith(q + ".") for q in pats)])
            expected[key] = np.linalg.eigvalsh(H[np.ix_(idx, idx)])
            if FIXTURE:
                continue
        want = expected[key]
        prefix = f"{root}/full_{subset.replace(',', '_').replace('*', '') or 'all'}"
        extra = ["-hessa_operator_subset", subset] if subset else []
        run("spectrum", *opts, *extra, "-hessa_spectrum_full", "-hessa_spectrum_extremes", "0", "-hessa_spectrum_csv", prefix, "-hessa_spectrum_output", f"{prefix}_out")
        got = read_full_spectrum(prefix)
        if len(got) != len(want):
            check(False, f"{label} spectrum {subset or 'all'}: {len(got)} eigenvalues, expected {len(want)}")
            continue
        e = np.abs(got - want).max() / np.abs(want).max()
        note(f"{label} spectrum {subset or 'all'}: {len(want)} eigenvalues in [{want[0]:.6g}, {want[-1]:.6g}], max difference {e:.2e} of the largest")
        check(e <= TOL, f"{label} spectrum {subset or 'all'}: eigenvalues differ from numpy by {e:.3e} of the largest |eigenvalue|")


def opset18_split(src, dst):
    """The graph of src at opset 18 with its equal splits written as Split with the
    num_outputs attribute (what exporters at opset 18 write for chunk()): a Split with equal
    split sizes loses its split input; the Slices that PyTorch 1.13 writes for
    parameter.chunk(k) (k Slices of one initializer along one constant axis, in node order:
    BatchFirstAttention's in_proj_weight.chunk(3)) become one Split. The products of the
    rewritten graph are compared with PyTorch's, so a wrong rewrite cannot pass. Returns the
    number of Splits written."""
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(src)
    consts = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    count = 0
    for n in m.graph.node:
        if n.op_type == "Split" and len(n.input) == 2 and n.input[1] in consts:
            sizes = consts[n.input[1]].reshape(-1).tolist()
            if len(sizes) == len(n.output) and len(set(sizes)) == 1:
                del n.input[1]
                n.attribute.append(helper.make_attribute("num_outputs", len(n.output)))
                count += 1
    initializers = {t.name for t in m.graph.initializer}
    chunks = {}
    for n in m.graph.node:
        if n.op_type == "Slice" and n.input[0] in initializers and len(n.input) == 4 and n.input[3] in consts:
            chunks.setdefault((n.input[0], int(consts[n.input[3]].reshape(-1)[0])), []).append(n)
    for (name, axis), slices in chunks.items():
        if len(slices) < 2:
            continue
        split = helper.make_node("Split", [name], [s.output[0] for s in slices], axis=axis, num_outputs=len(slices), name=f"{name}/chunk")
        nodes = list(m.graph.node)
        at = nodes.index(slices[0])
        nodes = [n for n in nodes if n not in slices]
        nodes.insert(at, split)
        del m.graph.node[:]
        m.graph.node.extend(nodes)
        count += 1
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = 18
    onnx.save(m, dst)
    return count


def case_vit():
    """The tiny vision transformer (models.py TinyViT: strided-Conv patches, a class token
    expanded to the batch, positional embedding, nn.MultiheadAttention, a head on the class
    token): case_net (hvp against PyTorch, a float32 direction file, hessa check); the same
    graph at opset 18 with the attention's Split by num_outputs: the same products; the full
    spectrum and the per-block spectra (embeddings, attention, MLP) against numpy's eigvalsh of
    PyTorch's Hessian."""
    ref, params, opts, path = case_net("vit", ops=("Conv", "Expand", "Concat", "Transpose", "LayerNormalization", "Softmax", "Slice", "Gather"))
    path18 = f"{REF_DIR}/vit_opset18.onnx"
    v = np.load(f"{REF_DIR}/v.npy").astype(np.float64)
    if FIXTURE:
        count = opset18_split(path, path18)
        check(count >= 1 and "Split" in graph_ops(path18), f"vit: no chunk() or equal Split to rewrite with num_outputs in {sorted(graph_ops(path))}")
        expected["opset 18 splits"] = count
    label18 = f"vit at opset 18 ({expected['opset 18 splits']} Split by num_outputs)"
    if FIXTURE:
        expected_hvp(ref, v, label18)
    else:
        opts18 = [path18 if o == path else o for o in opts]
        run("hvp", *opts18, "-hessa_hvp_direction", f"{REF_DIR}/v.npy", "-hessa_hvp_output", f"{root}/hvp18")
        compare_hvp(f"{root}/hvp18", ref, label18, v)
        e = rel(np.load(f"{root}/hvp18/hv.npy"), np.load(f"{root}/hvp_file/hv.npy"))
        check(e <= 1e-15, f"vit: Hv of the opset-18 graph differs from the opset-17 graph's by {e:.3e}")
    # the spectra at weight decay 0: the Hessian of the data loss
    opts = [o for o in opts if o not in ("-hessa_onnx_weight_decay", "0.01")]
    H = None
    if FIXTURE:
        ref.wd = 0.0
        H = ref.hessian()
    compare_full_spectra(opts, params, H, ("", "patch,cls,pos", "*attn*"), "vit")


def case_analyze():
    path = f"{REF_DIR}/fashion.onnx"
    hvp = ["hvp", "-hessa_model", "onnx", "-hessa_model_file", path, "-hessa_data_limit", "200", "-hessa_hvp_output", f"{root}/hvp"]
    if FIXTURE:  # the model, the parameter table, and PyTorch's exact spectrum and |g|
        model, shape, classes, path = exported("fashion", seed=1)
        x, y = fashion_mnist(200)
        x = x.reshape((-1,) + shape)
        run(*hvp)
        params = json.load(open(f"{root}/hvp/params.json"))["params"]
        same_params(params, "fashion")
        ref = Reference(model, params, x, y, 0.0)
        compare_hvp(f"{root}/hvp", ref, "fashion")
        expected["eigenvalues"] = np.linalg.eigvalsh(ref.hessian())
        expected["gradient norm"] = float(np.linalg.norm(ref.all(torch.zeros(len(ref.theta)))[1]))
        return
    out = f"{root}/report"
    run("analyze", "-hessa_model", "onnx", "-hessa_model_file", path, "-hessa_data_limit", "200", "-hessa_analyze_output", out,
        "-hessa_report_plots", "false", timeout=600)
    report = json.load(open(f"{out}/report.json"))
    verdict = report["verdict"]
    run(*hvp)
    same_params(json.load(open(f"{root}/hvp/params.json"))["params"], "fashion")
    compare_hvp(f"{root}/hvp", None, "fashion")
    lam, gnorm = expected["eigenvalues"], expected["gradient norm"]
    zero = verdict["zero_tolerance"]
    counts = {"negative": int((lam < -zero).sum()), "zero": int((np.abs(lam) <= zero).sum()), "positive": int((lam > zero).sum())}
    # the point is a random initialisation: |g| is far above the gradient tolerance
    want = "not_critical" if gnorm > verdict["gradient_tolerance"] else None
    note(f"fashion analyze: verdict {verdict['type']} on {verdict['basis']}, |g| {gnorm:.4g}; exact counts {counts}, report {verdict['counts']}")
    check(verdict["type"] == want, f"analyze: verdict {verdict['type']}, expected {want} (|g| = {gnorm:.3g})")
    check(abs(verdict["gradient_norm"] - gnorm) <= 1e-10 * gnorm, f"analyze: gradient norm {verdict['gradient_norm']} vs PyTorch {gnorm}")
    if verdict["basis"] == "full_spectrum":
        got = {k: verdict["counts"].get(k) for k in counts}
        check(got == counts, f"analyze: counts {got} vs exact {counts}")
    for key, ref_value in (("lambda_min", lam[0]), ("lambda_max", lam[-1])):
        if key in verdict and verdict[key] is not None:
            e = abs(verdict[key] - ref_value) / abs(lam).max()
            check(e <= 1e-8, f"analyze: {key} {verdict[key]} vs numpy {ref_value} ({e:.2e} of the largest)")


def case_checkpoint():
    model, shape, classes, path = exported("dense", seed=7)
    x, y = write_data(root, shape, classes, 24, seed=17)
    lr = 0.1
    ckpt_root = f"{root}/train"
    run("train", "-hessa_model", "onnx", "-hessa_model_file", path, *data_options(root, classes), "-hessa_train_method", "gd",
        "-hessa_train_lr", str(lr), "-hessa_train_steps", "2", "-hessa_train_output", ckpt_root)
    final = f"{ckpt_root}/final"
    manifest = json.load(open(f"{final}/model.json"))
    check(manifest.get("model") == "onnx" and manifest.get("graph") == "model.onnx", f"checkpoint model.json: {manifest}")
    # PyTorch's two GD steps
    params = [{"name": t["name"], "shape": t["shape"], "count": int(np.prod(t["shape"]))} for t in manifest["tensors"]]
    ref = Reference(model, params, x, y, 0.0)
    t = ref.theta.clone()
    for _ in range(2):
        tt = t.clone().requires_grad_(True)
        t = t - lr * torch.autograd.grad(ref.loss(tt), tt)[0]
    theta = np.concatenate([np.load(f"{final}/{e['file']}").reshape(-1) for e in manifest["tensors"]])
    check(rel(theta, t.numpy()) <= 1e-12, f"checkpoint: theta differs from PyTorch's 2 GD steps by {rel(theta, t.numpy()):.3e}")
    import onnx
    from onnx import numpy_helper
    g = onnx.load(f"{final}/model.onnx")
    inits = {i.name: numpy_helper.to_array(i) for i in g.graph.initializer}
    for e in manifest["tensors"]:
        a = np.load(f"{final}/{e['file']}")
        check(e["name"] in inits and np.array_equal(inits[e["name"]].astype(np.float64), a), f"checkpoint: model.onnx initializer {e['name']} differs from {e['file']}")
    # the checkpoint alone names its graph
    run("hvp", *data_options(root, classes), "-hessa_model_weights", final, "-hessa_hvp_output", f"{root}/hvp")
    ref.theta = torch.from_numpy(theta)
    compare_hvp(f"{root}/hvp", ref, "checkpoint")


def case_mse():
    """Regression data: the loss defaults to mse (torch's mse_loss, mean over samples and
    outputs) from the data's task."""
    path, ref = f"{REF_DIR}/dense.onnx", None
    if FIXTURE:
        model, shape, outputs, path = exported("dense", seed=21)
        rng = np.random.default_rng(23)
        x = rng.standard_normal((30,) + tuple(shape))
        y = rng.standard_normal((30, outputs))
        np.save(f"{REF_DIR}/x.npy", x)
        np.save(f"{REF_DIR}/y.npy", y)
    opts = ["-hessa_model", "onnx", "-hessa_model_file", path, "-hessa_data_source", "npy", "-hessa_data_features", f"{REF_DIR}/x.npy",
            "-hessa_data_labels", f"{REF_DIR}/y.npy", "-hessa_data_task", "regression", "-hessa_onnx_weight_decay", "0.001"]
    run("hvp", *opts, "-hessa_hvp_output", f"{root}/hvp")
    s = json.load(open(f"{root}/hvp/summary.json"))
    check("mse" in s["description"], f"mse: the objective says {s['description']}")
    params = json.load(open(f"{root}/hvp/params.json"))["params"]
    same_params(params, "mse")
    if FIXTURE:
        ref = Reference(model, params, x, y, 0.001, mse=True)
    compare_hvp(f"{root}/hvp", ref, "mse")


def case_commands():
    """landscape and study on ONNX checkpoints, against PyTorch's loss."""
    model, shape, classes, path = exported("dense", seed=9)
    x, y = write_data(root, shape, classes, 24, seed=19)
    data = data_options(root, classes)
    run("train", "-hessa_model", "onnx", "-hessa_model_file", path, *data, "-hessa_train_method", "gd", "-hessa_train_lr", "0.5",
        "-hessa_train_steps", "2", "-hessa_train_checkpoint_every", "1", "-hessa_train_output", f"{root}/run")
    points = sorted(d for d in os.listdir(f"{root}/run") if os.path.isdir(f"{root}/run/{d}"))
    check("final" in points and len(points) >= 3, f"training folder holds {points}, expected step folders and final")

    def theta_of(folder):
        m = json.load(open(f"{folder}/model.json"))
        return m, np.concatenate([np.load(f"{folder}/{t['file']}").reshape(-1) for t in m["tensors"]])

    manifest, _ = theta_of(f"{root}/run/final")
    params = [{"name": t["name"], "shape": t["shape"], "count": int(np.prod(t["shape"]))} for t in manifest["tensors"]]
    ref = Reference(model, params, x, y, 0.0)

    def loss_at(theta):
        with torch.no_grad():
            return float(ref.loss(torch.from_numpy(theta)))

    # the line between the first checkpoint and the final one
    first = f"{root}/run/{points[0]}"
    _, ta = theta_of(first)
    _, tb = theta_of(f"{root}/run/final")
    run("landscape", *data, "-hessa_landscape_from", first, "-hessa_landscape_to", f"{root}/run/final", "-hessa_landscape_points", "9",
        "-hessa_landscape_output", f"{root}/line")
    line = np.loadtxt(f"{root}/line/line.csv", delimiter=",", skiprows=1)
    worst = max(abs(l - loss_at((1 - a) * ta + a * tb)) / abs(loss_at((1 - a) * ta + a * tb)) for a, l in line[:, :2])
    note(f"landscape between ONNX checkpoints: {len(line)} points, worst relative difference to PyTorch {worst:.2e}")
    check(len(line) == 9 and worst <= TOL, f"landscape: {len(line)} points, worst relative difference {worst:.3e} to PyTorch")
    # a study of the training folder: one analysis per checkpoint, each loss as PyTorch's
    run("study", *data, "-hessa_study_manifest", f"{root}/run", "-hessa_study_output", f"{root}/study", timeout=600)
    results = [json.loads(l) for l in open(f"{root}/study/results.jsonl") if l.strip()]
    check(len(results) == len(points), f"study: {len(results)} results for {len(points)} checkpoints")
    for r in results:
        folder = r.get("weights", "")
        _, t = theta_of(folder if os.path.isabs(folder) else f"{root}/run/{os.path.basename(folder)}")
        got = r.get("loss")
        if got is None:
            got = r.get("results", {}).get("loss")
        want = loss_at(t)
        check(got is not None and abs(got - want) <= TOL * abs(want), f"study point {r.get('name')}: loss {got}, PyTorch {want}")
    note(f"study of {len(results)} ONNX checkpoints: verdicts {[r.get('verdict') for r in results]}")


class SeqReference(Reference):
    """Token data: x the int64 ids [N, T]; next-token targets [N, T] (-1: not predicted),
    the loss the mean cross-entropy over the predicted positions; or one class per sequence."""

    def __init__(self, model, params, tokens, targets, wd, next_token=True, seq_first=False):
        super().__init__(model, params, np.zeros((1, 1)), np.zeros(1, dtype=np.int64), wd)
        self.x = torch.from_numpy(tokens).long()
        self.y = torch.from_numpy(targets).long()
        self.next_token = next_token
        self.seq_first = seq_first
        if seq_first:  # the model takes ids [T, N] and gives logits [T, N, V]
            self.x = self.x.t()

    def outputs(self, t):
        z = super().outputs(t)
        return z.transpose(0, 1) if self.seq_first else z

    def data_loss(self, z):
        if self.next_token:
            return F.cross_entropy(z.reshape(-1, z.shape[-1]), self.y.reshape(-1), ignore_index=-1)
        return F.cross_entropy(z, self.y)


def write_tokens(folder, count, context, vocab, seed, mask=True):
    """Random ids [count, context], a left-aligned padding mask (some sequences shorter) and
    the next-token targets it implies: position t predicts id t+1 where mask[t+1]."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocab, (count, context)).astype(np.int64)
    m = np.ones((count, context), dtype=bool)
    if mask:
        for i in range(0, count, 3):
            m[i, rng.integers(2, context):] = False
    targets = np.full((count, context), -1, dtype=np.int64)
    targets[:, :-1] = np.where(m[:, 1:], tokens[:, 1:], -1)
    np.save(f"{folder}/tokens.npy", tokens)
    np.save(f"{folder}/mask.npy", m)
    return tokens, targets


def case_tokens(name):
    """Token models (models.py token_*): hvp and check against PyTorch with -hessa_data_source
    tokens; next-token with a padding mask, or one class per sequence; then the full spectrum
    and per-block spectra (embeddings, MLP) against numpy's eigvalsh of PyTorch's Hessian."""
    path, ref = f"{REF_DIR}/{name}.onnx", None
    next_token = name != "token_class"
    if FIXTURE:  # the model and the token files
        torch.manual_seed(5)
        model, shape, classes = build(name)
        if name in ("token_tel", "token_seq_first"):  # a plain torch.onnx.export: attention's math path inside (the layout layer)
            plain_export(model, shape, path, seq_first=name == "token_seq_first", dtype=torch.int64)
        else:
            export(model, torch.zeros((2,) + shape, dtype=torch.int64), path)
        tokens, targets = write_tokens(REF_DIR, 13, shape[0], 11, seed=29, mask=next_token)
        if not next_token:
            targets = np.arange(len(tokens), dtype=np.int64) % classes
            np.save(f"{REF_DIR}/labels.npy", targets)
    data = ["-hessa_data_source", "tokens", "-hessa_data_features", f"{REF_DIR}/tokens.npy"]
    if next_token:
        data += ["-hessa_data_mask", f"{REF_DIR}/mask.npy"]
    else:
        data += ["-hessa_data_target", "class", "-hessa_data_labels", f"{REF_DIR}/labels.npy"]
    opts = ["-hessa_model", "onnx", "-hessa_model_file", path, *data, "-hessa_onnx_weight_decay", "0.01", "-hessa_onnx_chunk", "4"]
    run("hvp", *opts, "-hessa_hvp_output", f"{root}/hvp")
    params = json.load(open(f"{root}/hvp/params.json"))["params"]
    same_params(params, name)
    if FIXTURE:
        ref = SeqReference(model, params, tokens, targets, 0.01, next_token, seq_first=name == "token_seq_first")
    compare_hvp(f"{root}/hvp", ref, name)
    if not FIXTURE:
        r = run("check", *opts, "-hessa_check_step", "1e-5", "-hessa_check_tol_fd", "1e-6", expect_ok=False)
        check(r.returncode == 0, f"{name}: hessa check failed:\n{r.stdout}\n{r.stderr}")
    if not next_token:
        return
    # hessa train on token data: two gradient-descent steps equal PyTorch's (the loss is the
    # mean over the predicted positions of all ranks)
    lr = 0.5

    def gd_steps():
        t = ref.theta.clone()
        for _ in range(2):
            tt = t.clone().requires_grad_(True)
            t = t - lr * torch.autograd.grad(ref.loss(tt), tt)[0]
        return t.numpy()

    t = expect("gd", gd_steps)
    if not FIXTURE:
        run("train", *opts, "-hessa_train_method", "gd", "-hessa_train_lr", str(lr), "-hessa_train_steps", "2", "-hessa_train_output", f"{root}/train")
        manifest = json.load(open(f"{root}/train/final/model.json"))
        theta = np.concatenate([np.load(f"{root}/train/final/{e['file']}").reshape(-1) for e in manifest["tensors"]])
        e = rel(theta, t)
        note(f"{name}: 2 GD steps of hessa train vs PyTorch: {e:.2e} relative")
        check(e <= 1e-12, f"{name}: hessa train's 2 GD steps differ from PyTorch's by {e:.3e}")
    # the full spectrum and per-block spectra (weight decay 0: the Hessian of the data loss)
    opts = [o for o in opts if o not in ("-hessa_onnx_weight_decay", "0.01")]
    H = None
    if FIXTURE:
        ref.wd = 0.0
        H = ref.hessian()
    subsets = {"token_mlp": ("", "tok,pos", "fc*"), "token_gpt": ("", "tok,pos", "*attn*", "*mlp*"), "token_tel": ("tok,pos", "*self_attn*"), "token_seq_first": ("",)}[name]
    compare_full_spectra(opts, params, H, subsets, name)


if case == "mlp":
    case_mlp()
elif case.startswith("token"):
    case_tokens(case)
elif case in ("dense", "cnn", "resnet", "grouped", "gelu", "sigmoid", "attention", "causal", "mha", "encoder"):
    case_net(case)
    if case == "mha":
        case_plain("mha")
elif case == "plain_encoder":  # nn.TransformerEncoderLayer(batch_first=True), plain torch.onnx.export
    case_plain("encoder_mean")
elif case == "plain_causal":  # the same with a causal float src_mask (PyTorch's baddbmm of the mask)
    case_plain("encoder")
elif case == "plain_seq_first":  # x [T, N, C], nn.MultiheadAttention(batch_first=False), causal attn_mask
    case_plain("seq_first", seq_first=True, spectrum=True)
elif case == "vit":
    case_vit()
elif case == "layernorm":
    case_net("layernorm", ops=("LayerNormalization", "MatMul"), not_ops=("ReduceMean",))
elif case == "layernorm13":
    case_net("layernorm", opset=13, ops=("ReduceMean", "Sub", "Pow", "Sqrt", "Div"), not_ops=("LayerNormalization",))
elif case == "softmax":
    case_net("softmax", ops=("Softmax", "LogSoftmax", "ReduceSum", "ReduceMean", "Exp", "Log", "Neg", "Reciprocal", "Sqrt", "Pow"))
elif case == "spectrum":
    case_spectrum()
elif case == "analyze":
    case_analyze()
elif case == "checkpoint":
    case_checkpoint()
elif case == "mse":
    case_mse()
elif case == "commands":
    case_commands()
else:
    sys.exit(f"unknown case {case}")
if FIXTURE and not failures:  # written whole, then renamed: never half a reference file
    with open(f"{REF_DIR}/reference.pkl.tmp", "wb") as f:
        pickle.dump(expected, f)
    os.replace(f"{REF_DIR}/reference.pkl.tmp", f"{REF_DIR}/reference.pkl")
if failures:
    sys.exit("\n".join(notes + failures))
