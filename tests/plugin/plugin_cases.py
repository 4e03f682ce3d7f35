#!/usr/bin/python3
"""Objective plugins end to end: an example plugin (binary logistic regression,
tests/plugin/example) is built out of tree against the INSTALLED hessa (header found
through its pkg-config file), then the installed hessa runs analyze, train and study on it.

usage: plugin_cases.py MPIEXEC BUILD_DIR SOURCE_DIR WORKDIR NP|build
  build  cmake --install BUILD_DIR into WORKDIR/prefix; configure and build the example
         with PKG_CONFIG_PATH=WORKDIR/prefix/lib/pkgconfig; write the data set (60 samples,
         3 features, labels from a noisy linear rule, numpy seed 7) as NPY
  NP     on NP ranks, against numpy float64 (H = X~^T D X~ / N, D = p(1-p), X~ = [X 1]):
         analyze at a given point: loss, |g| and the whole spectrum to 1e-10 (relative);
         train (gradient descent, lr 0.5, 2 steps, from the plugin's initial point 0.2):
         each checkpoint equals theta - lr g(theta) to 1e-12;
         study over the training folder: lambda_min and lambda_max of every checkpoint
         to 1e-8; a plugin with a bad option (3 classes asked of 2) fails with one message.
"""
import glob, json, os, shutil, subprocess, sys
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from case_helpers import Case, hessa_env  # noqa: E402

MPIEXEC, BUILD, SOURCE, WORK, WHAT = sys.argv[1:6]
ENV = hessa_env()
PREFIX = os.path.join(WORK, "prefix")
HESSA = os.path.join(PREFIX, "bin", "hessa")
PLUGIN = os.path.join(WORK, "example-build", "liblogistic.so")
C = Case(f"plugin test ({WHAT})", MPIEXEC, HESSA, ENV, timeout=300)
fail, check = C.fail, C.check


def sh(cmd, env=ENV):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    check(r.returncode == 0, f"exit {r.returncode}: {' '.join(cmd)}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return r


def build():
    shutil.rmtree(PREFIX, ignore_errors=True)
    sh(["cmake", "--install", BUILD, "--prefix", PREFIX])
    check(os.path.exists(os.path.join(PREFIX, "include", "hessa", "plugin.h")), "plugin.h was not installed")
    ex = os.path.join(WORK, "example-build")
    shutil.rmtree(ex, ignore_errors=True)
    env = dict(ENV, PKG_CONFIG_PATH=os.path.join(PREFIX, "lib", "pkgconfig"))
    sh(["cmake", "-S", os.path.join(SOURCE, "tests", "plugin", "example"), "-B", ex], env)
    sh(["cmake", "--build", ex], env)
    check(os.path.exists(PLUGIN), f"{PLUGIN} was not built")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.normal(size=60) > 0).astype(np.int64)
    np.save(os.path.join(WORK, "X.npy"), X)
    np.save(os.path.join(WORK, "y.npy"), y)


X = y = None


def reference(theta):
    """loss, gradient, Hessian of the mean logistic loss (numpy float64)."""
    Xt = np.hstack([X, np.ones((len(X), 1))])
    z = Xt @ theta
    p = 1 / (1 + np.exp(-z))
    return np.mean(np.logaddexp(0, z) - y * z), Xt.T @ (p - y) / len(X), Xt.T @ (Xt * (p * (1 - p))[:, None]) / len(X)


def rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


def hessa(np_, command, args, expect_ok=True):
    data = ["-hessa_model", "plugin", "-hessa_plugin_file", PLUGIN, "-hessa_data_source", "npy",
            "-hessa_data_features", os.path.join(WORK, "X.npy"), "-hessa_data_labels", os.path.join(WORK, "y.npy")]
    return C.run(np_, [command] + data + args + ["-quiet"], expect=0 if expect_ok else None)


def weights(folder):
    meta = json.load(open(os.path.join(folder, "model.json")))
    check(meta["model"] == "plugin", f"{folder}: model {meta['model']}")
    return np.load(os.path.join(folder, meta["tensors"][0]["file"]))


def run(np_):
    global X, y
    X, y = np.load(os.path.join(WORK, "X.npy")), np.load(os.path.join(WORK, "y.npy"))
    root = os.path.join(WORK, f"np{np_}")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)

    # analyze at a point
    theta = np.array([0.1, -0.2, 0.3, 0.05])
    out = os.path.join(root, "analyze")
    hessa(np_, "analyze", ["-hessa_model_point", ",".join(map(repr, theta)), "-hessa_analyze_output", out])
    res = json.load(open(os.path.join(out, "report.json")))["results"]
    loss, g, H = reference(theta)
    check(rel(res["loss"], loss) < 1e-12, f"loss {res['loss']}, numpy {loss}")
    check(rel(res["gradient_norm"], np.linalg.norm(g)) < 1e-12, f"|g| {res['gradient_norm']}, numpy {np.linalg.norm(g)}")
    got, want = np.array(res["full_spectrum"]["values"]), np.linalg.eigvalsh(H)
    check(got.shape == want.shape and np.max(np.abs(got - want)) < 1e-10 * np.max(np.abs(want)), f"spectrum {got}, numpy {want}")

    # train by gradient descent from the plugin's initial point
    train = os.path.join(root, "train")
    hessa(np_, "train", ["-hessa_plugin_options", "init=0.2", "-hessa_train_method", "gd", "-hessa_train_lr", "0.5",
                         "-hessa_train_steps", "2", "-hessa_train_checkpoint_every", "1", "-hessa_train_output", train])
    theta = np.full(4, 0.2)
    for step in (1, 2):
        theta = theta - 0.5 * reference(theta)[1]
        got = weights(os.path.join(train, f"step-{step:06d}"))
        check(np.max(np.abs(got - theta)) < 1e-12, f"checkpoint {step}: {got}, numpy {theta}")

    # study over the training folder
    out = os.path.join(root, "study")
    hessa(np_, "study", ["-hessa_study_manifest", train, "-hessa_study_output", out])
    lines = [json.loads(l) for l in open(os.path.join(out, "results.jsonl"))]
    check(len(lines) >= 2, f"results.jsonl has {len(lines)} lines")
    for line in lines:
        check(line["status"] == "ok", f"point {line['name']}: {line.get('error')}")
        ev = np.linalg.eigvalsh(reference(weights(os.path.join(train, line["name"])))[2])
        check(rel(line["lambda_min"], ev[0]) < 1e-8 and rel(line["lambda_max"], ev[-1]) < 1e-8,
              f"point {line['name']}: lambda {line['lambda_min']}, {line['lambda_max']}; numpy {ev[0]}, {ev[-1]}")

    # a plugin that refuses its data: one clear message, non-zero exit
    r = hessa(np_, "analyze", ["-hessa_data_classes", "3", "-hessa_data_source", "blobs", "-hessa_analyze_output", os.path.join(root, "bad")], expect_ok=False)
    errors = [l for l in r.stderr.splitlines() if l.startswith("hessa: error:")]
    check(r.returncode != 0 and len(errors) == 1 and "needs 2 classes" in errors[0] and PLUGIN in errors[0], f"bad plugin data: exit {r.returncode}\n{r.stderr[-2000:]}")


if WHAT == "build":
    build()
else:
    run(int(WHAT))
