"""bench/run eigs: Hessian-vector products needed for extreme eigenvalues of the reference
MLP (784-128-64-10 tanh, cross-entropy, 10,000 Fashion-MNIST samples, float64, at its
initial weights, seed 3).

Measured in one run, on the same weights and data:
  hessa (SLEPc Krylov-Schur, 2 ranks): top-1, top-5 and the most negative eigenvalue to
      1e-8 relative residual (products counted by the operator; hessa's own explicit
      residual product per pair is not counted);
  scipy.sparse.linalg.eigsh (ARPACK) on a LinearOperator whose matvec is a PyTorch Hv
      (double backward through a gradient graph built once), tol 1e-8, counting matvecs;
      its residuals are checked with one more (uncounted) product each;
  PyHessian-style power iteration for the top eigenvalue (relative change < 1e-3).
Ratios are hessa's products over eigsh's (below 1: hessa needs fewer).
"""
import json, os, sys, tempfile
import numpy as np
from common import run_json, fashion_mnist, torch_mlp

SAMPLES = 10000
MODEL = ["-hessa_data_limit", str(SAMPLES), "-hessa_mlp_hidden", "128,64", "-hessa_mlp_activation", "tanh",
         "-hessa_mlp_loss", "cross-entropy", "-hessa_model_seed", "3", "-bench_tol", "1e-8"]


class TorchHessian:
    """H v for the MLP of a weight folder, PyTorch float64, counting products."""

    def __init__(self, folder, threads):
        import torch
        torch.set_num_threads(threads)
        self.torch = torch
        x, y = fashion_mnist(SAMPLES)
        self.net, self.params = torch_mlp(folder)
        loss = torch.nn.CrossEntropyLoss()(self.net(torch.from_numpy(x)), torch.from_numpy(y))
        self.grads = torch.autograd.grad(loss, self.params, create_graph=True)
        self.n = sum(p.numel() for p in self.params)
        self.products = 0

    def matvec(self, v):
        torch = self.torch
        v = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
        vs, off = [], 0
        for p in self.params:
            vs.append(v[off:off + p.numel()].view_as(p))
            off += p.numel()
        dot = sum((g * vi).sum() for g, vi in zip(self.grads, vs))
        hv = torch.autograd.grad(dot, self.params, retain_graph=True)
        self.products += 1
        return torch.cat([h.reshape(-1) for h in hv]).numpy()


def eigsh_run(H, k, which):
    from scipy.sparse.linalg import LinearOperator, eigsh
    op = LinearOperator((H.n, H.n), matvec=H.matvec, dtype=np.float64)
    start = H.products
    rng = np.random.default_rng(0)
    vals, vecs = eigsh(op, k=k, which=which, tol=1e-8, v0=rng.standard_normal(H.n))
    used = H.products - start
    order = np.argsort(-vals) if which == "LA" else np.argsort(vals)
    vals, vecs = vals[order], vecs[:, order]
    rel = max(float(np.linalg.norm(H.matvec(vecs[:, i]) - vals[i] * vecs[:, i]) / abs(vals[i])) for i in range(k))
    return {"products": used, "values": [float(v) for v in vals], "worst_relative_residual": rel}


def power_iteration(H, tol=1e-3, max_iter=100):
    """PyHessian's hessian.eigenvalues(top_n=1): stop when the relative change < tol."""
    rng = np.random.default_rng(0)
    v = rng.standard_normal(H.n)
    v /= np.linalg.norm(v)
    start, lam = H.products, None
    for _ in range(max_iter):
        hv = H.matvec(v)
        new = float(v @ hv)
        v = hv / np.linalg.norm(hv)
        if lam is not None and abs(new - lam) / (abs(lam) + 1e-6) < tol:
            lam = new
            break
        lam = new
    return {"products": H.products - start, "value": lam}


def main():
    tmp = tempfile.mkdtemp(prefix="hessa-bench-eigs-")
    point = os.path.join(tmp, "point")
    hessa = run_json(2, "bench/bench_eigs", MODEL + ["-bench_save", point])
    H = TorchHessian(point, threads=2)
    ref = {"top1": eigsh_run(H, 1, "LA"), "top5": eigsh_run(H, 5, "LA"), "smallest": eigsh_run(H, 1, "SA")}
    power = power_iteration(H)
    agree = max(abs(a - b) / abs(b) for name in ref for a, b in zip(hessa[name]["values"], ref[name]["values"]))
    fig = {
        "benchmark": "eigs",
        "model": "784-128-64-10 tanh cross-entropy, 10000 Fashion-MNIST samples, float64, initial weights (seed 3)",
        "n_parameters": hessa["n"],
        "hessa_products_top1": hessa["top1"]["products"],
        "hessa_products_top5": hessa["top5"]["products"],
        "hessa_products_smallest": hessa["smallest"]["products"],
        "eigsh_products_top1": ref["top1"]["products"],
        "eigsh_products_top5": ref["top5"]["products"],
        "eigsh_products_smallest": ref["smallest"]["products"],
        "power_iteration_products_top1": power["products"],
        "power_iteration_top1_relative_error": abs(power["value"] - hessa["top1"]["values"][0]) / abs(hessa["top1"]["values"][0]),
        "hessa_worst_relative_residual": max(hessa[k]["worst_relative_residual"] for k in ref),
        "eigsh_worst_relative_residual": max(ref[k]["worst_relative_residual"] for k in ref),
        "eigenvalue_relative_difference_hessa_vs_eigsh": agree,
        "lambda_max": hessa["top1"]["values"][0],
        "lambda_min": hessa["smallest"]["values"][0],
        "products_ratio_vs_eigsh_top1": hessa["top1"]["products"] / ref["top1"]["products"],
        "products_ratio_vs_eigsh_top5": hessa["top5"]["products"] / ref["top5"]["products"],
        "products_ratio_vs_eigsh_smallest": hessa["smallest"]["products"] / ref["smallest"]["products"],
        "products_ratio_vs_power_iteration_top1": hessa["top1"]["products"] / power["products"],
    }
    print(f"n = {fig['n_parameters']}; lambda_max {fig['lambda_max']:.10g}, lambda_min {fig['lambda_min']:.10g}")
    for name in ("top1", "top5", "smallest"):
        print(f"{name:9s} hessa {hessa[name]['products']:4d} products, eigsh {ref[name]['products']:4d}  "
              f"(ratio {fig['products_ratio_vs_eigsh_' + name]:.2f})")
    print(f"power iteration (tol 1e-3): {power['products']} products, top-1 relative error {fig['power_iteration_top1_relative_error']:.1e}")
    print(f"hessa vs eigsh eigenvalues: max relative difference {agree:.1e}; worst residuals hessa "
          f"{fig['hessa_worst_relative_residual']:.1e}, eigsh {fig['eigsh_worst_relative_residual']:.1e}")
    print(json.dumps(fig))
    return 0 if agree < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
