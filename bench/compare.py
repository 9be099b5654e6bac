#!/usr/bin/python3
"""rill against scikit-learn, LIBLINEAR and a textbook numpy epoch, on the same data.

For every shape and loss this script runs bench/rill_bench (the rill side, in C) and then times
the Python side on the same rows (regenerated here with the generator of bench/gen.h, checked
against the C program's checksum). Every time is the minimum over the repeats of the CPU time
of the process (the machine may be shared: wall time would count other users' time slices);
BLAS is pinned to one thread on both sides, as rill is single-threaded. The ratios are formed
from timings taken in this one run.

    bench/compare.py --bench build-bench/bench/rill_bench [--quick] [--json out.json]
                     [--plot out.png] [--markdown out.md]

Objectives compared (rill's form: mean loss + l2/2 ||w||^2, intercept not penalized):
  scikit-learn LogisticRegression(C):  C sum(loss) + 1/2 ||w||^2      ->  C = 1 / (l2 n)
  LIBLINEAR -s 0 -c C -B 1:            C sum(loss) + 1/2 (||w||^2 + b^2)
                                       -> C = 1 / (l2 n), bias penalized (a slightly different
                                          problem: its time is measured to its own optimum)
  LIBLINEAR -s 11 -p 0 -c C -B 1:      C sum(r^2) + 1/2 (||w||^2 + b^2)  ->  C = 1 / (2 l2 n)
  scikit-learn LinearRegression:       ordinary least squares (l2 = 0): against rill's EXACT
                                       stream with l2 = 0
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings

# One BLAS thread, set before numpy loads OpenBLAS.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


def gen_u(stream, k):
    """bench/gen.h's u(stream, k) for an array of k (uint64)."""
    z = (np.uint64(stream) << np.uint64(56)) + k.astype(np.uint64) + GOLDEN
    z = (z ^ (z >> np.uint64(30))) * M1
    z = (z ^ (z >> np.uint64(27))) * M2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def gen_data(loss, n, d, K):
    X = np.empty((n, d))
    y = np.empty(n)
    a = 1.0 / math.sqrt(d)
    u2 = gen_u(2, np.arange(n, dtype=np.uint64))
    ws = 2.0 * gen_u(1, np.arange(d, dtype=np.uint64)) - 1.0
    sj = np.where(gen_u(1, np.arange(d, dtype=np.uint64)) >= 0.5, a, -a)
    sc = np.where(gen_u(3, np.arange(K * d, dtype=np.uint64)) >= 0.5, a, -a).reshape(K, d)
    step = max(1, (1 << 24) // d)
    for i0 in range(0, n, step):
        i1 = min(n, i0 + step)
        k = np.arange(i0 * d, i1 * d, dtype=np.uint64)
        Xb = (2.0 * gen_u(0, k) - 1.0).reshape(i1 - i0, d)
        u = u2[i0:i1]
        if loss == "squared":
            y[i0:i1] = Xb @ ws + 0.3 + (2.0 * u - 1.0) * 0.5
        elif loss == "logistic":
            yb = (u >= 0.5).astype(np.float64)
            Xb += (2.0 * yb - 1.0)[:, None] * sj[None, :]
            y[i0:i1] = yb
        else:
            c = np.floor(K * u).astype(np.int64)
            Xb += sc[c]
            y[i0:i1] = c
        X[i0:i1] = Xb
    return X, y


def cpu_min(fn, repeats):
    best, out = math.inf, None
    for _ in range(repeats):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


def run_rill(exe, loss, n, d, K, l2, repeats, parts, wout):
    cmd = [exe, "--loss", loss, "--n", str(n), "--d", str(d), "--classes", str(K), "--l2",
           repr(l2), "--repeats", str(repeats), "--parts", parts, "--wout", wout]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r = {}
    for line in out.splitlines():
        key, _, val = line.partition(" ")
        if key == "config":
            continue
        r[key] = float(val)
    return r


# ---------------------------------------------------------------- objectives (rill's form)

def softplus(z):
    return np.logaddexp(0.0, z)


def objective(loss, X, y, W, b, l2):
    """mean loss + l2/2 ||W||^2 at weights W (d or K x d) and intercepts b."""
    if loss == "squared":
        r = X @ W + b - y
        return 0.5 * np.mean(r * r) + 0.5 * l2 * np.dot(W, W)
    if loss == "logistic":
        z = X @ W + b
        return np.mean(softplus(z) - y * z) + 0.5 * l2 * np.dot(W, W)
    Z = X @ W.T + b
    lse = np.logaddexp.reduce(Z, axis=1)
    return np.mean(lse - Z[np.arange(len(y)), y.astype(np.int64)]) + 0.5 * l2 * np.sum(W * W)


def split_rill_weights(loss, w, d, K):
    if loss == "softmax":
        w = w.reshape(K, d + 1)
        return w[:, :d], w[:, d]
    return w[:d], w[d]


# ---------------------------------------------------------------- the Python side

def numpy_epoch(loss, X, y, W, b):
    """One full-gradient epoch written the textbook way."""
    n = X.shape[0]
    if loss == "squared":
        r = X @ W + b - y
        return 0.5 * np.dot(r, r), X.T @ r, r.sum()
    if loss == "logistic":
        z = X @ W + b
        p = 1.0 / (1.0 + np.exp(-z))
        r = p - y
        return np.sum(softplus(z) - y * z), X.T @ r, r.sum()
    Z = X @ W.T + b
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(n), y.astype(np.int64)] -= 1.0
    return None, P.T @ X, P.sum(axis=0)


def sgd_epoch(loss, X, y, l2):
    from sklearn.linear_model import SGDClassifier, SGDRegressor
    if loss == "squared":
        est = SGDRegressor(loss="squared_error", penalty="l2", alpha=l2,
                           learning_rate="invscaling", eta0=0.01, power_t=0.25, max_iter=1,
                           tol=None, shuffle=False)
    else:
        est = SGDClassifier(loss="log_loss", penalty="l2", alpha=l2, learning_rate="optimal",
                            max_iter=1, tol=None, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    return est


def time_to_target(fits, f_of, target):
    """fits: list of (label, callable) from loose to tight. Returns (best time, label, f) of the
    cheapest fit that reaches target, and the lowest objective seen."""
    best = (math.inf, None, None)
    fmin = math.inf
    for label, fn in fits:
        t, est = cpu_min(fn, 1)
        f = f_of(est)
        fmin = min(fmin, f)
        if f <= target and t < best[0]:
            best = (t, label, f)
    return best, fmin


def sklearn_fit(loss, X, y, l2, fstar, K):
    from sklearn.linear_model import LinearRegression, LogisticRegression
    n, d = X.shape
    if loss == "squared":
        t, est = cpu_min(lambda: LinearRegression().fit(X, y), 2)
        return {"sk_linreg_s": t, "sk_linreg_f": objective("squared", X, y, est.coef_,
                                                             est.intercept_, 0.0)}
    C = 1.0 / (l2 * n)
    tols = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10]

    def fit(tol):
        def go():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return LogisticRegression(C=C, solver="lbfgs", tol=tol, max_iter=10000).fit(X, y)
        return go

    def f_of(est):
        if loss == "logistic":
            return objective(loss, X, y, est.coef_[0], est.intercept_[0], l2)
        return objective(loss, X, y, est.coef_, est.intercept_, l2)

    (t, label, f), fmin = time_to_target([(tol, fit(tol)) for tol in tols], f_of,
                                         fstar + 1e-6 * abs(fstar))
    return {"sk_logreg_s": t, "sk_logreg_tol": label, "sk_logreg_fmin": fmin}


def liblinear_fit(loss, X, y, l2):
    """Time of LIBLINEAR to 1e-6 relative suboptimality of its own objective (bias penalized)."""
    import liblinear
    from scipy import sparse
    from liblinear import parameter, problem
    from liblinearutil import train
    # Debian's liblinear.py reaches numpy through the old scipy aliases (scipy.ndarray,
    # scipy.ctypeslib) that current scipy no longer has: give it numpy under that name.
    liblinear.scipy = np
    n, d = X.shape
    if loss == "squared":
        C, solver = 1.0 / (2.0 * l2 * n), "-s 11 -p 0"
        labels = y
    else:
        C, solver = 1.0 / (l2 * n), "-s 0"
        labels = y
    prob = problem(labels, sparse.csr_matrix(X), bias=1)  # conversion not timed

    def fit(eps):
        return lambda: train(prob, parameter(f"{solver} -c {C!r} -e {eps!r} -B 1 -q"))

    def f_of(model):
        w = np.array([model.w[j] for j in range(d + 1)])
        wf, b = w[:d], w[d]
        reg = 0.5 * np.dot(w, w)
        if loss == "squared":
            r = X @ wf + b - y
            return reg + C * np.dot(r, r)
        s = 1.0 if model.get_labels()[0] == 1 else -1.0
        z = s * (X @ wf + b)
        ypm = 2.0 * y - 1.0
        return reg + C * np.sum(softplus(-ypm * z))

    eps_list = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]
    # the reference: LIBLINEAR's own tightest solution
    ref = f_of(fit(1e-9)())
    (t, label, f), fmin = time_to_target([(e, fit(e)) for e in eps_list], f_of,
                                         ref + 1e-6 * abs(ref))
    del prob
    return {"ll_s": t, "ll_eps": label, "ll_C": C}


# ---------------------------------------------------------------- driver

SHAPES = [(1000000, 8), (1000000, 32), (1000000, 256), (100000, 1000)]
QUICK_SHAPES = [(200000, 8), (200000, 32), (50000, 256), (20000, 1000)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", required=True, help="path of the rill_bench executable")
    ap.add_argument("--quick", action="store_true", help="smaller shapes, fewer repeats")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1e-4)
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--losses", default="squared,logistic,softmax")
    ap.add_argument("--shapes", default=None, help="e.g. 1000000x32,100000x1000")
    ap.add_argument("--liblinear-max-cells", type=float, default=4e7,
                    help="skip LIBLINEAR above this many cells (it copies X into sparse nodes)")
    ap.add_argument("--no-fit", action="store_true", help="skip the time-to-solution part")
    ap.add_argument("--json", default=None)
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--plot", default=None)
    args = ap.parse_args()

    shapes = QUICK_SHAPES if args.quick else SHAPES
    if args.shapes:
        shapes = [tuple(int(float(v)) for v in s.split("x")) for s in args.shapes.split(",")]
    repeats = 2 if args.quick else args.repeats
    results = []
    tmp = tempfile.mkdtemp(prefix="rill-bench-")
    wout = os.path.join(tmp, "w.bin")
    for n, d in shapes:
        for loss in args.losses.split(","):
            K = args.classes
            print(f"== {loss} n={n} d={d}", file=sys.stderr, flush=True)
            parts = "epoch,step,split" + ("" if args.no_fit else ",fit")
            r = run_rill(args.bench, loss, n, d, K, args.l2, repeats, parts, wout)
            r.update({"loss": loss, "n": n, "d": d})
            X, y = gen_data(loss, n, d, K)
            check = X.sum() + y.sum()
            if abs(check - r["checksum"]) > 1e-9 * max(1.0, abs(check)):
                sys.exit(f"data differ from rill_bench's: checksum {check!r} vs "
                         f"{r['checksum']!r}")
            kk = K if loss == "softmax" else 1
            W = 0.1 * (2.0 * gen_u(4, np.arange(kk * (d + 1), dtype=np.uint64)) - 1.0)
            if loss == "softmax":
                W = W.reshape(K, d + 1)
                Wf, b = W[:, :d].copy(), W[:, d].copy()
            else:
                Wf, b = W[:d].copy(), W[d]
            r["numpy_epoch_s"], _ = cpu_min(lambda: numpy_epoch(loss, X, y, Wf, b), repeats)
            r["ratio_numpy_rill_epoch"] = r["numpy_epoch_s"] / r["gradient_s"]
            if loss != "softmax" or True:
                t, _ = cpu_min(lambda: sgd_epoch(loss, X, y, args.l2), max(2, repeats // 2))
                r["sk_sgd_s"] = t
                r["sk_sgd_rows_per_s"] = n / t
                r["ratio_step_sksgd"] = r["step_rows_per_s"] / r["sk_sgd_rows_per_s"]
                if "bare_rows_per_s" in r:
                    r["ratio_bare_sksgd"] = r["bare_rows_per_s"] / r["sk_sgd_rows_per_s"]
            if not args.no_fit:
                wr = np.fromfile(wout)
                wf, bb = split_rill_weights(loss, wr, d, K)
                r["fstar_numpy"] = objective(loss, X, y, wf, bb, args.l2)
                r.update(sklearn_fit(loss, X, y, args.l2, r["fstar"], K))
                if loss == "squared":
                    r["ratio_exact_sklinreg"] = r["exact0_s"] / r["sk_linreg_s"]
                    r["ratio_fit_sklinreg"] = r["fit_1e6_s"] / r["sk_linreg_s"]
                elif loss == "logistic" or loss == "softmax":
                    r["ratio_fit_sklogreg"] = r["fit_1e6_s"] / r["sk_logreg_s"]
                if loss != "softmax" and n * d <= args.liblinear_max_cells:
                    r.update(liblinear_fit(loss, X, y, args.l2))
                    r["ratio_fit_liblinear"] = r["fit_1e6_s"] / r["ll_s"]
                    if loss == "squared":
                        r["ratio_exact_liblinear"] = r["exact_s"] / r["ll_s"]
            del X, y
            results.append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
    os.remove(wout) if os.path.exists(wout) else None
    os.rmdir(tmp)

    table = markdown(results)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.plot:
        plot(results, args.plot)


def fmt(r, key, digits=2):
    v = r.get(key)
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if isinstance(v, str):
        return v
    return f"{v:.{digits}f}"


def markdown(results):
    rows = ["| shape | loss | 1. epoch ÷ read | 2a. step ÷ sklearn SGD | 2b. step ÷ memory limit "
            "| 3a. fit ÷ sklearn | 3b. fit ÷ LIBLINEAR | 4a. STEP stream ÷ steps "
            "| 4b. PASS stream ÷ gradient | 5. numpy epoch ÷ rill epoch "
            "| 2 threads: epoch ÷ read | 2 threads: epoch speed-up | 2 threads: fit speed-up "
            "| 2c. bare SGD loop ÷ sklearn SGD / ÷ memory limit |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        shape = f"{r['n']:.0e} × {r['d']}".replace("e+0", "e")
        if r["loss"] == "squared":
            fit_sk = (f"EXACT {fmt(r, 'ratio_exact_sklinreg')} / L-BFGS "
                      f"{fmt(r, 'ratio_fit_sklinreg')}")
            fit_ll = (f"EXACT {fmt(r, 'ratio_exact_liblinear')} / L-BFGS "
                      f"{fmt(r, 'ratio_fit_liblinear')}")
        else:
            fit_sk = fmt(r, "ratio_fit_sklogreg")
            fit_ll = fmt(r, "ratio_fit_liblinear")
        bare = "—"
        if "ratio_bare_memlimit" in r:
            bare = f"{fmt(r, 'ratio_bare_sksgd', 1)} / {fmt(r, 'ratio_bare_memlimit')}"
        rows.append(
            f"| {shape} | {r['loss']} | {fmt(r, 'ratio_gradient_read')} | "
            f"{fmt(r, 'ratio_step_sksgd', 1)} | {fmt(r, 'ratio_step_memlimit')} | {fit_sk} | "
            f"{fit_ll} | {fmt(r, 'ratio_stream_step')} | {fmt(r, 'ratio_stream_pass')} | "
            f"{fmt(r, 'ratio_numpy_rill_epoch', 1)} | {fmt(r, 'ratio_gradient_t2_read')} | "
            f"{fmt(r, 'speedup_gradient_t2')} | {fmt(r, 'speedup_fit_t2')} | "
            f"{bare} |")
    return "\n".join(rows) + "\n"


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for loss, style in (("squared", "-"), ("logistic", "--")):
        rs = sorted([r for r in results if r["loss"] == loss], key=lambda r: r["d"])
        if not rs:
            continue
        ds = [r["d"] for r in rs]
        ax = axes[0]
        ax.plot(ds, [1e9 * r["gradient_s"] / r["n"] for r in rs], "o" + style, color="C0",
                label=f"rill gradient epoch ({loss})")
        ax.plot(ds, [1e9 * r["numpy_epoch_s"] / r["n"] for r in rs], "s" + style, color="C1",
                label=f"numpy X@w, X.T@r epoch ({loss})")
        if loss == "squared":
            ax.plot(ds, [1e9 * r["read_s"] / r["n"] for r in rs], "k:", label="one read of X")
        ax = axes[1]
        ax.plot(ds, [r["step_rows_per_s"] for r in rs], "o" + style, color="C0",
                label=f"rill_step, 1 row per call ({loss})")
        ax.plot(ds, [r["sk_sgd_rows_per_s"] for r in rs], "s" + style, color="C1",
                label=f"scikit-learn SGD epoch ({loss})")
        ax.plot(ds, [r["bare_rows_per_s"] for r in rs], "^" + style, color="C2",
                label=f"bare C loop, no checks ({loss})")
        if loss == "squared":
            ax.plot(ds, [r["memlimit_rows_per_s"] for r in rs], "k:",
                    label="memory limit (d·8 B per row)")
    axes[0].set(xscale="log", yscale="log", xlabel="d (features)", ylabel="ns per row",
                title="full-gradient epoch (lower is better)")
    axes[1].set(xscale="log", yscale="log", xlabel="d (features)", ylabel="rows per second",
                title="stochastic steps (higher is better)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
