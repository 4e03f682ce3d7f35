#!/usr/bin/python3
"""`hessa train` end to end against answers known independently of hessa.

usage: train_cases.py MPIEXEC HESSA WORKDIR NP CASE
  fmnist_gd, fmnist_sgd, fmnist_adam
                  784-16-10 tanh MLP on 200 Fashion-MNIST samples, 40 steps: the final loss
                  is below 0.6 x the initial loss, and the whole log (loss, |g|) on 1 and on
                  3 ranks agrees to 1e-10 relative (NP is ignored: both are run)
  torch_sgd_batches
                  SGD with momentum on mini-batches of 32 from the same initial weights,
                  against torch.optim.SGD fed the batches of an independent implementation
                  of the batch stream (tests/core/random_reference.py): weights after each
                  of 6 steps agree to 1e-10 relative
  torch_adamw_batches
                  the same with adam, betas (0.9, 0.98) and -hessa_train_weight_decay 0.5 against
                  torch.optim.AdamW: weights after each of 6 steps agree to 1e-12 relative
  quadratic_gd, quadratic_sgd, quadratic_adam
                  1/2 x^T Q diag(lambda) Q^T x (Q rebuilt in numpy from the Householder
                  normals): checkpoints after each of 8 steps equal torch.optim.SGD / SGD with
                  momentum / Adam on the same function to 1e-12 relative, and step 1 equals its
                  closed form (gd: x0 - lr H x0; momentum: the same; Adam: x0 - lr g/(|g|+eps))
  quadratic_adamw, quadratic_gdw, quadratic_sgdw
                  the same with -hessa_train_weight_decay 0.5 (decoupled): each of 8 steps equals
                  torch.optim.AdamW (betas 0.9, 0.98) / torch.optim.SGD(weight_decay=0.5) (for gd
                  decoupled and L2 coincide) / SGDW written out in numpy (theta <- (1 - lr W) theta
                  - lr v, v <- mu v + g) to 1e-12 relative; step 1 of adamw equals its closed form
                  (1 - lr W) x0 - lr g/(|g|+eps)
  gradnorm_saddle linear toy (1 - w1 w2)^2 from a random start near 0: gradnorm (gd, lr 0.05)
                  reaches |g| <= 1e-7 at a point within 1e-6 of (0, 0); hessa analyze there: saddle,
                  eigenvalues equal the closed form at the point (1e-10) and -2, +2 (1e-5)
  gradnorm_valley from a random start near (1.5, 0.8): |g| <= 1e-13 (the small eigenvalue is
                  O(|g|) and must fall below analyze's zero tolerance), |w1 w2 - 1| <= 1e-6;
                  analyze: degenerate, eigenvalues 0 and 2 (w1^2 + w2^2) (1e-6 absolute)
  newton_quadratic, lm_quadratic
                  the quadratic with spectrum [-3, -1, 0.5, 2, 5, 8] (a saddle at 0): one Newton-
                  MINRES step lands on the critical point x = 0 (|x1| <= 1e-8 |x0|, the closed
                  form x0 - H^-1 H x0); Levenberg-Marquardt reaches |g| <= 1e-9 and |x| <= 1e-8
  newton_toy, lm_toy
                  linear toy from (0.2, -0.15): Newton reaches the saddle (0, 0) with |g| <= 1e-12
                  in at most 8 steps (quadratic convergence: H(0,0) is nonsingular); LM reaches
                  |g| <= 1e-10 at a point where the closed-form gradient is that small too
  resume          sgd stopped by -hessa_train_max_steps_per_run (exit 75, "stopped": true),
                  resumed twice with -resume: final weights bitwise equal to an uninterrupted
                  run's, the log has every step once and equals the uninterrupted log
  resume_adamw    the same with adam and -hessa_train_weight_decay 0.3 on mini-batches: the resumed
                  run keeps the weight decay (bitwise equal to the uninterrupted run, which differs
                  from a run without weight decay), and train.json records it
  signal          SIGUSR1 to mpiexec (which forwards it) during a long sgd run: exit 75, the
                  checkpoint of the step reached, "stopped": true; -resume to that step + 5
                  gives weights bitwise equal to an uninterrupted run of that many steps
  bad_method, bad_lr, bad_resume, bad_weight_decay_negative, bad_weight_decay_nan,
  bad_weight_decay_lr, bad_weight_decay_newton, bad_resume_weight_decay (a run stopped with
  weight decay 0.25, resumed without it: refused, naming both values)
                  a clear message, once, and a non-zero exit on every rank
"""
import gzip, json, os, shutil, subprocess, sys
import numpy as np

MPIEXEC, HESSA, WORK, NP, CASE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "core"))
import random_reference as rr  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"
BATCH_STREAM = 0x7472626174636800  # HESSA_STREAM_TRAIN_BATCH
ROTATIONS_STREAM = 0x717561646d697800  # HESSA_STREAM_ROTATIONS


def fail(msg):
    sys.exit(f"train case {CASE} on {NP} ranks: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


def folder_path(tag=""):
    return os.path.join(WORK, f"train_{CASE}{tag}_np{NP}")


def folder(tag=""):
    out = folder_path(tag)
    shutil.rmtree(out, ignore_errors=True)
    return out


def hessa(command, args, np_=NP, expect=0):
    cmd = [MPIEXEC, "-n", str(np_), "--oversubscribe", HESSA, command] + args + ["-quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=240)
    if r.returncode != expect:
        fail(f"exit {r.returncode}, expected {expect}\n{' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r


def train(args, out, np_=NP, expect=0):
    return hessa("train", args + ["-hessa_train_output", out], np_, expect)


def read_log(out):
    rows = [line.rstrip("\n").split(",") for line in open(os.path.join(out, "train_log.csv"))][1:]
    return np.array([[float(r[0]), float(r[1]), float(r[2])] for r in rows])


def weights(path):
    spec = json.load(open(os.path.join(path, "model.json")))
    return np.concatenate([np.load(os.path.join(path, t["file"])).ravel() for t in spec["tensors"]])


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(1e-300, np.max(np.abs(b))))


FMNIST_ARGS = ["-hessa_data_limit", "200", "-hessa_mlp_hidden", "16", "-hessa_model_seed", "4"]
LR = {"gd": "0.2", "sgd": "0.05", "adam": "0.005"}


def fmnist(method):
    args = FMNIST_ARGS + ["-hessa_train_method", method, "-hessa_train_lr", LR[method], "-hessa_train_steps", "40",
                          "-hessa_train_batch", "32", "-hessa_train_checkpoint_every", "20"]
    logs = []
    for np_ in (1, 3):
        out = folder(f"_{np_}")
        train(args, out, np_)
        logs.append(read_log(out))
        summary = json.load(open(os.path.join(out, "train.json")))
        check(summary["steps_done"] == 40 and not summary["stopped"], f"summary {summary}")
        check(summary["checkpoints"] == ["step-000020", "step-000040", "final"], f"checkpoints {summary['checkpoints']}")
        check(os.path.exists(os.path.join(out, "train_log.png")) and os.path.exists(os.path.join(out, "train_log.svg")), "no plot")
    one, three = logs
    check(one.shape == (41, 3) and np.array_equal(one[:, 0], np.arange(41)), f"log steps {one[:, 0]}")
    first, last = one[0, 1], one[-1, 1]
    print(f"{method}: loss {first:.6f} -> {last:.6f} (ratio {last / first:.3f}), |g| {one[0, 2]:.4g} -> {one[-1, 2]:.4g}")
    check(last < 0.6 * first, f"loss {first} -> {last}: not below 0.6 x the initial loss")
    err = rel(three[:, 1:], one[:, 1:])
    print(f"{method}: log on 3 ranks vs 1 rank: max relative difference {err:.3g}")
    check(err <= 1e-10, f"the log on 3 ranks differs from 1 rank by {err}")


def load_fmnist(count):
    with gzip.open(os.path.join(FMNIST, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16)[: count * 784].reshape(count, 784) / 255.0
    with gzip.open(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:count].astype(np.int64)
    return x, y


def batch_indices(seed, step, n, b):
    """Partial Fisher-Yates over 0..n-1 driven by the batch stream (docs/training.md)."""
    work = list(range(n))
    for j in range(b):
        r = min(n - 1, j + int(rr.uniform(seed, BATCH_STREAM, step * n + j) * (n - j)))
        work[j], work[r] = work[r], work[j]
    return sorted(work[:b])


def torch_sgd_batches(adamw=False):
    import torch
    torch.set_default_dtype(torch.float64)
    n, b, steps, lr, mu, seed = 200, 32, 6, 0.05, 0.9, 11
    wd, betas = 0.5, (0.9, 0.98)
    rng = np.random.default_rng(3)
    init = os.path.join(WORK, f"train_{CASE}_init_np{NP}")
    shutil.rmtree(init, ignore_errors=True)
    os.makedirs(init)
    net = torch.nn.Sequential(torch.nn.Linear(784, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))
    tensors = []
    with torch.no_grad():
        for k, layer in enumerate([net[0], net[2]]):
            for kind in ("weight", "bias"):
                p = getattr(layer, kind)
                value = rng.uniform(-0.3, 0.3, tuple(p.shape))
                p.copy_(torch.from_numpy(value))
                np.save(os.path.join(init, f"layers.{k}.{kind}.npy"), value)
                tensors.append({"name": f"layers.{k}.{kind}", "file": f"layers.{k}.{kind}.npy", "shape": list(value.shape)})
    json.dump({"format": "hessa-weights", "version": 1, "model": "mlp", "widths": [784, 16, 10], "activation": "tanh",
               "loss": "cross-entropy", "tensors": tensors}, open(os.path.join(init, "model.json"), "w"))
    out = folder()
    method = ["-hessa_train_method", "adam", "-hessa_train_lr", "0.01", "-hessa_train_beta2", str(betas[1]), "-hessa_train_weight_decay", str(wd)] if adamw else \
             ["-hessa_train_method", "sgd", "-hessa_train_lr", str(lr), "-hessa_train_momentum", str(mu)]
    train(["-hessa_data_limit", str(n), "-hessa_model_weights", init] + method + ["-hessa_train_batch", str(b), "-hessa_train_seed", str(seed),
           "-hessa_train_steps", str(steps), "-hessa_train_checkpoint_every", "1"], out)
    x, y = load_fmnist(n)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.AdamW(net.parameters(), lr=0.01, betas=betas, weight_decay=wd) if adamw else torch.optim.SGD(net.parameters(), lr=lr, momentum=mu)
    worst = 0.0
    for step in range(steps):
        idx = batch_indices(seed, step, n, b)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
        opt.step()
        want = np.concatenate([p.detach().numpy().ravel() for p in net.parameters()])
        got = weights(os.path.join(out, f"step-{step + 1:06d}"))
        worst = max(worst, rel(got, want))
    print(f"{'adamw' if adamw else 'sgd'} mini-batches vs torch.optim.{'AdamW' if adamw else 'SGD'} over {steps} steps: max relative difference {worst:.3g}")
    tol = 1e-12 if adamw else 1e-10
    check(worst <= tol, f"weights differ from torch by {worst} (tolerance {tol})")


def rotations_q(n, seed):
    # Q = R_0 R_1 ... R_{L-1} of HessaQuadraticCreateDense (src/objective/analytic.c):
    # L = 4 ceil(log2 n) layers; layer l shuffles 0..n-1 (Fisher-Yates from stream + 0) and
    # turns each consecutive pair (i, j) of the shuffled order by 2 pi u (stream + 1).
    layers = 4 * max(0, (n - 1).bit_length())
    q = np.eye(n)
    for l in range(layers):
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = min(i, int(rr.uniform(seed, ROTATIONS_STREAM, l * n + i) * (i + 1)))
            order[i], order[j] = order[j], order[i]
        r = np.eye(n)
        for p in range(n // 2):
            a, b = order[2 * p], order[2 * p + 1]
            t = 2 * np.pi * rr.uniform(seed, ROTATIONS_STREAM + 1, l * (n // 2) + p)
            r[a, a], r[a, b], r[b, a], r[b, b] = np.cos(t), -np.sin(t), np.sin(t), np.cos(t)
        q = q @ r
    return q


def quadratic(method):
    import torch
    torch.set_default_dtype(torch.float64)
    n, seed, steps = 6, 7, 8
    wd = 0.5 if method.endswith("w") else 0.0
    base = method[:-1] if wd else method
    lam = np.array([0.5, 1.0, 2.0, 3.0, 5.0, 8.0])
    x0 = np.array([1.0, -0.5, 0.25, 2.0, -1.5, 0.75])
    spec = os.path.join(WORK, f"train_{CASE}_spectrum_np{NP}.txt")
    np.savetxt(spec, lam)
    q = rotations_q(n, seed)
    H = q @ np.diag(lam) @ q.T
    lr = {"gd": 0.1, "sgd": 0.05, "adam": 0.1}[base]
    betas = (0.9, 0.98) if method == "adamw" else (0.9, 0.999)
    out = folder()
    train(["-hessa_model", "quadratic", "-hessa_model_dim", str(n), "-hessa_model_spectrum", spec, "-hessa_model_seed", str(seed),
           "-hessa_model_point", ",".join(repr(v) for v in x0), "-hessa_train_method", base, "-hessa_train_lr", str(lr),
           "-hessa_train_momentum", "0.9", "-hessa_train_beta1", str(betas[0]), "-hessa_train_beta2", str(betas[1]),
           "-hessa_train_steps", str(steps), "-hessa_train_checkpoint_every", "1"] + (["-hessa_train_weight_decay", str(wd)] if wd else []), out)
    got = [weights(os.path.join(out, f"step-{k:06d}")) for k in range(1, steps + 1)]
    # step 1 in closed form
    g0 = H @ x0
    want1 = (1 - lr * wd) * x0 - lr * g0 if base != "adam" else (1 - lr * wd) * x0 - lr * g0 / (np.abs(g0) + 1e-8)
    err1 = rel(got[0], want1)
    check(err1 <= 1e-12, f"step 1 differs from its closed form by {err1}")
    # every step against torch.optim on the same function (SGDW: no torch optimiser, numpy)
    theta = torch.tensor(x0, requires_grad=True)
    Ht = torch.from_numpy(H)
    opt = {"gd": lambda: torch.optim.SGD([theta], lr=lr), "sgd": lambda: torch.optim.SGD([theta], lr=lr, momentum=0.9),
           "adam": lambda: torch.optim.Adam([theta], lr=lr), "gdw": lambda: torch.optim.SGD([theta], lr=lr, weight_decay=wd),
           "adamw": lambda: torch.optim.AdamW([theta], lr=lr, betas=betas, weight_decay=wd), "sgdw": lambda: None}[method]()
    worst, x, v = 0.0, x0.copy(), np.zeros(n)
    for k in range(steps):
        if opt is None:
            v = 0.9 * v + H @ x
            x = (1 - lr * wd) * x - lr * v
            want = x
        else:
            opt.zero_grad()
            (0.5 * theta @ Ht @ theta).backward()
            opt.step()
            want = theta.detach().numpy()
        worst = max(worst, rel(got[k], want))
    print(f"{method} on the quadratic: step 1 vs closed form {err1:.3g}, {steps} steps vs torch.optim: {worst:.3g}")
    check(worst <= 1e-12, f"weights differ from torch.optim by {worst}")


def gradnorm(valley):
    rng = np.random.default_rng(5 if valley else 6)
    start = (np.array([1.5, 0.8]) if valley else np.zeros(2)) + rng.uniform(-0.3, 0.3, 2)
    # in the valley the small eigenvalue is O(|g|): it must fall below analyze's zero tolerance
    gtol = 1e-13 if valley else 1e-7
    out = folder()
    train(["-hessa_model", "linear-toy", "-hessa_model_point", ",".join(repr(v) for v in start), "-hessa_train_objective", "gradnorm",
           "-hessa_train_lr", "0.05", "-hessa_train_steps", "20000", "-hessa_train_gtol", repr(gtol), "-hessa_train_checkpoint_every", "0"], out)
    summary = json.load(open(os.path.join(out, "train.json")))
    check(summary["converged"] and summary["final_gradient_norm"] <= gtol, f"not converged: {summary}")
    w1, w2 = weights(os.path.join(out, "final"))
    g = np.array([-2 * w2 * (1 - w1 * w2), -2 * w1 * (1 - w1 * w2)])
    check(np.linalg.norm(g) <= gtol * 1.01 + 1e-15, f"|g| at the point in closed form is {np.linalg.norm(g)}")
    report_dir = os.path.join(WORK, f"train_{CASE}_report_np{NP}")
    shutil.rmtree(report_dir, ignore_errors=True)
    hessa("analyze", ["-hessa_model_weights", os.path.join(out, "final"), "-hessa_analyze_output", report_dir])
    rep = json.load(open(os.path.join(report_dir, "report.json")))
    ev = sorted(rep["results"]["full_spectrum"]["values"])
    closed = sorted(np.linalg.eigvalsh(np.array([[2 * w2 * w2, 4 * w1 * w2 - 2], [4 * w1 * w2 - 2, 2 * w1 * w1]])))
    check(rel(ev, closed) <= 1e-10, f"eigenvalues {ev} vs closed form at the point {closed}")
    print(f"gradnorm {'valley' if valley else 'saddle'}: start {start}, {summary['steps_done']} steps, |g| {summary['final_gradient_norm']:.3g}, "
          f"point ({w1:.9g}, {w2:.9g}), eigenvalues {ev}, verdict {rep['verdict']['type']}")
    if valley:
        check(abs(w1 * w2 - 1) <= 1e-6, f"w1 w2 = {w1 * w2}, expected 1")
        check(abs(ev[0]) <= 1e-6 and abs(ev[1] - 2 * (w1 * w1 + w2 * w2)) <= 1e-6, f"eigenvalues {ev}, expected 0 and {2 * (w1 * w1 + w2 * w2)}")
        check(rep["verdict"]["type"] == "degenerate", f"verdict {rep['verdict']['type']}")
    else:
        check(abs(w1) <= 1e-6 and abs(w2) <= 1e-6, f"point ({w1}, {w2}), expected the saddle (0, 0)")
        check(abs(ev[0] + 2) <= 1e-5 and abs(ev[1] - 2) <= 1e-5, f"eigenvalues {ev}, expected -2 and 2")
        check(rep["verdict"]["type"] == "saddle", f"verdict {rep['verdict']['type']}")


def critical_point_finder(method, model):
    out = folder()
    if model == "quadratic":
        lam = np.array([-3.0, -1.0, 0.5, 2.0, 5.0, 8.0])
        x0 = np.array([1.0, -0.5, 0.25, 2.0, -1.5, 0.75])
        spec = os.path.join(WORK, f"train_{CASE}_spectrum_np{NP}.txt")
        np.savetxt(spec, lam)
        args = ["-hessa_model", "quadratic", "-hessa_model_dim", "6", "-hessa_model_spectrum", spec, "-hessa_model_seed", "7",
                "-hessa_model_point", ",".join(repr(v) for v in x0)]
        gtol = 1e-9
    else:
        x0 = np.array([0.2, -0.15])
        args = ["-hessa_model", "linear-toy", "-hessa_model_point", "0.2,-0.15"]
        gtol = 1e-12 if method == "newton" else 1e-10
    train(args + ["-hessa_train_method", method, "-hessa_train_objective", "gradnorm", "-hessa_train_steps", "60",
                  "-hessa_train_gtol", repr(gtol), "-hessa_train_checkpoint_every", "1"], out)
    summary = json.load(open(os.path.join(out, "train.json")))
    check(summary["converged"] and summary["final_gradient_norm"] <= gtol, f"{method}: not converged: {summary}")
    x = weights(os.path.join(out, "final"))
    if model == "quadratic":
        check(np.linalg.norm(x) <= 1e-8 * np.linalg.norm(x0), f"{method}: |x| = {np.linalg.norm(x)} at the end, expected the saddle 0")
        if method == "newton":
            x1 = weights(os.path.join(out, "step-000001"))
            check(np.linalg.norm(x1) <= 1e-8 * np.linalg.norm(x0), f"newton: |x1| = {np.linalg.norm(x1)}, expected x0 - H^-1 H x0 = 0")
    else:
        w1, w2 = x
        g = np.array([-2 * w2 * (1 - w1 * w2), -2 * w1 * (1 - w1 * w2)])
        check(np.linalg.norm(g) <= 2 * gtol + 1e-15, f"{method}: closed-form |g| at the point {np.linalg.norm(g)}")
        if method == "newton":
            check(summary["steps_done"] <= 8, f"newton: {summary['steps_done']} steps, expected quadratic convergence (<= 8)")
            check(abs(w1) <= 1e-10 and abs(w2) <= 1e-10, f"newton: point ({w1}, {w2}), expected the saddle (0, 0)")
    print(f"{method} on the {model}: {summary['steps_done']} steps, |g| {summary['final_gradient_norm']:.3g}, |x| {np.linalg.norm(x):.3g}")


def resume(adamw=False):
    method = ["-hessa_train_method", "adam", "-hessa_train_lr", "0.005", "-hessa_train_beta2", "0.98"] if adamw else ["-hessa_train_method", "sgd", "-hessa_train_lr", "0.05"]
    args = FMNIST_ARGS + method + ["-hessa_train_steps", "25", "-hessa_train_batch", "32", "-hessa_train_checkpoint_every", "10"]
    if adamw:
        plain = folder("_plain")
        train(args, plain)
        args += ["-hessa_train_weight_decay", "0.3"]
    whole, parts = folder("_whole"), folder("_parts")
    train(args, whole)
    train(args + ["-hessa_train_max_steps_per_run", "9"], parts, expect=75)
    summary = json.load(open(os.path.join(parts, "train.json")))
    check(summary["stopped"] and summary["steps_done"] == 9 and "step-000009" in summary["checkpoints"], f"after the stop: {summary}")
    train(args + ["-hessa_train_max_steps_per_run", "9", "-resume"], parts, expect=75)
    train(args + ["-resume"], parts)
    summary = json.load(open(os.path.join(parts, "train.json")))
    check(not summary["stopped"] and summary["steps_done"] == 25, f"after the last run: {summary}")
    spec = json.load(open(os.path.join(whole, "final", "model.json")))
    for t in spec["tensors"]:
        a = open(os.path.join(whole, "final", t["file"]), "rb").read()
        b = open(os.path.join(parts, "final", t["file"]), "rb").read()
        check(a == b, f"{t['file']}: the resumed run's bytes differ from the uninterrupted run's")
    log_whole, log_parts = read_log(whole), read_log(parts)
    check(np.array_equal(log_parts[:, 0], np.arange(26)), f"steps in the resumed log: {log_parts[:, 0]}")
    check(np.array_equal(log_whole, log_parts), "the resumed log differs from the uninterrupted log")
    if adamw:
        decay = json.load(open(os.path.join(parts, "train.json")))["options"].get("weight_decay")
        check(decay == 0.3, f"train.json: weight_decay {decay}, expected 0.3")
        diff = rel(weights(os.path.join(plain, "final")), weights(os.path.join(whole, "final")))
        check(diff > 1e-4, f"the weight decay changed the final weights by only {diff} (relative)")
    print(f"resume: stopped at 9 and 18, final weights bitwise equal ({len(spec['tensors'])} tensors), log steps 0..25 once each")


def signal_stop():
    import signal, time
    args = FMNIST_ARGS + ["-hessa_train_method", "sgd", "-hessa_train_lr", "0.05", "-hessa_train_batch", "32", "-hessa_train_checkpoint_every", "0"]
    parts, whole = folder("_parts"), folder("_whole")
    cmd = [MPIEXEC, "-n", NP, "--oversubscribe", HESSA, "train"] + args + ["-hessa_train_steps", "999999", "-hessa_train_output", parts, "-quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    log = os.path.join(parts, "train_log.csv")
    deadline = time.time() + 60
    while time.time() < deadline and not (os.path.exists(log) and sum(1 for _ in open(log)) > 4):
        time.sleep(0.1)
    proc.send_signal(signal.SIGUSR1)
    out, err = proc.communicate(timeout=60)
    check(proc.returncode == 75, f"exit {proc.returncode} after SIGUSR1, expected 75\n{out}\n{err}")
    summary = json.load(open(os.path.join(parts, "train.json")))
    stop = summary["steps_done"]
    check(summary["stopped"] and summary["checkpoints"] == [f"step-{stop:06d}"], f"after the signal: {summary}")
    total = ["-hessa_train_steps", str(stop + 5)]
    train(args + total + ["-resume"], parts)
    train(args + total, whole)
    check(np.array_equal(weights(os.path.join(parts, "final")), weights(os.path.join(whole, "final"))), "resumed weights differ from the uninterrupted run's")
    check(np.array_equal(read_log(parts), read_log(whole)), "the resumed log differs from the uninterrupted log")
    print(f"signal: SIGUSR1 stopped the run at step {stop} (exit 75); resumed to {stop + 5}: weights and log equal the uninterrupted run's")


def bad(args, want, prepare=None):
    out = folder()
    if prepare:
        prepare(out)
    cmd = [MPIEXEC, "-n", NP, "--oversubscribe", HESSA, "train", "-hessa_model", "linear-toy", "-hessa_train_output", out] + args
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=60)
    check(r.returncode not in (0, 75), f"expected a failing exit, got {r.returncode}")
    check(want in r.stderr and r.stderr.count("hessa: error:") == 1, f"expected one message with '{want}', got:\n{r.stderr}")


def run():
    if CASE.startswith("fmnist_"):
        fmnist(CASE[len("fmnist_"):])
    elif CASE in ("torch_sgd_batches", "torch_adamw_batches"):
        torch_sgd_batches(CASE == "torch_adamw_batches")
    elif CASE.startswith("quadratic_"):
        quadratic(CASE[len("quadratic_"):])
    elif CASE in ("gradnorm_saddle", "gradnorm_valley"):
        gradnorm(CASE == "gradnorm_valley")
    elif CASE in ("newton_quadratic", "lm_quadratic", "newton_toy", "lm_toy"):
        critical_point_finder(CASE.split("_")[0], CASE.split("_")[1])
    elif CASE in ("resume", "resume_adamw"):
        resume(CASE == "resume_adamw")
    elif CASE == "signal":
        signal_stop()
    elif CASE == "bad_method":
        bad(["-hessa_train_method", "rmsprop"], "-hessa_train_method: unknown method 'rmsprop' (expected gd, sgd, adam, newton or lm)")
    elif CASE == "bad_lr":
        bad(["-hessa_train_lr", "-0.1"], "-hessa_train_lr -0.1: expected a finite number in (0, 1000000]")
    elif CASE == "bad_resume":
        bad(["-resume"], "-resume: no checkpoint in output folder", prepare=lambda out: os.makedirs(out))
    elif CASE == "bad_weight_decay_negative":
        bad(["-hessa_train_weight_decay", "-0.5"], "-hessa_train_weight_decay -0.5: expected a finite number in [0, 1000000]")
    elif CASE == "bad_weight_decay_nan":
        bad(["-hessa_train_weight_decay", "nan"], "-hessa_train_weight_decay nan: expected a finite number in [0, 1000000]")
    elif CASE == "bad_weight_decay_lr":
        bad(["-hessa_train_lr", "0.5", "-hessa_train_weight_decay", "2.5"], "-hessa_train_weight_decay 2.5 with -hessa_train_lr 0.5: lr x weight decay must be below 1")
    elif CASE == "bad_resume_weight_decay":
        def stopped(out):
            train(["-hessa_model", "linear-toy", "-hessa_model_point", "0.2,-0.15", "-hessa_train_method", "adam", "-hessa_train_lr", "0.01", "-hessa_train_weight_decay", "0.25",
                   "-hessa_train_steps", "6", "-hessa_train_max_steps_per_run", "2"], out, expect=75)
        bad(["-hessa_model_point", "0.2,-0.15", "-hessa_train_method", "adam", "-hessa_train_lr", "0.01", "-hessa_train_steps", "6", "-resume"],
            "-resume: the training in '", prepare=stopped)
        r = subprocess.run([MPIEXEC, "-n", NP, "--oversubscribe", HESSA, "train", "-hessa_model", "linear-toy", "-hessa_train_output", folder_path(),
                            "-hessa_model_point", "0.2,-0.15", "-hessa_train_method", "adam", "-hessa_train_lr", "0.01", "-hessa_train_steps", "6", "-resume"], capture_output=True, text=True, env=ENV, timeout=60)
        check("ran with -hessa_train_weight_decay 0.25" in r.stderr and "this run has 0:" in r.stderr, f"the message does not name both values:\n{r.stderr}")
    elif CASE == "bad_weight_decay_newton":
        bad(["-hessa_train_method", "newton", "-hessa_train_weight_decay", "0.1"], "-hessa_train_weight_decay applies to the methods gd, sgd and adam, not to newton")
    else:
        fail("unknown case")


run()
