#!/usr/bin/env python3
"""rill through its C ABI from Python (ctypes + numpy), on the bundled datasets.

Trains every way (rill_fit, rill_step, streams), predicts, saves and loads through the shared
library, and checks the results against references computed here with numpy alone: the
closed-form ridge solution (least squares), Newton's method converged to machine precision
(logistic, softmax), the textbook SGD update, and numpy's own loss and gradient sums.
Exit 77 (skipped) when numpy is missing.
    test_ffi.py LIBRILL.so DATA_DIR
"""
import ctypes
import gc
import os
import sys

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print("skipping: %s" % e)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rillctypes as rc  # noqa: E402
import numref  # noqa: E402

lib = rc.bind(sys.argv[1])
data_dir = sys.argv[2]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    print("%-60s %s  %s" % (name, "ok" if cond else "FAIL", detail))
    if cond:
        passed += 1
    else:
        failed += 1


def load(name):
    d = np.loadtxt(os.path.join(data_dir, name), delimiter=",", skiprows=1)
    return np.ascontiguousarray(d[:, :-1]), np.ascontiguousarray(d[:, -1])


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b))))


# ------------------------------------------------------------------ numpy references

def augment(X):
    return np.hstack([X, np.ones((X.shape[0], 1))])


def scores(X, W):
    """W: (n_outputs, d + 1), intercept last."""
    return augment(X) @ W.T


mean_loss, objective = numref.mean_loss, numref.objective


def loss_and_grad_sums(loss, X, y, W):
    """Sums over rows of the loss and its gradient (no penalty), laid out as W."""
    Z = scores(X, W)
    if loss == rc.SOFTMAX:
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        R = P.copy()
        R[np.arange(len(y)), y.astype(int)] -= 1.0
    elif loss == rc.LOGISTIC:
        R = (1 / (1 + np.exp(-Z[:, 0])) - y)[:, None]
    else:
        R = (Z[:, 0] - y)[:, None]
    return R.T @ augment(X), mean_loss(loss, X, y, W) * len(y)


def ridge(X, y, l2):
    """Closed form of mean 1/2 (Xw + b - y)^2 + l2/2 ||w||^2, intercept unpenalized."""
    A = augment(X)
    n, p = A.shape
    P = np.eye(p) * l2
    P[-1, -1] = 0.0
    return np.linalg.solve(A.T @ A / n + P, A.T @ y / n)[None, :]


def newton(loss, X, y, k, l2):
    """Newton's method on the penalized cross-entropy, to machine precision. Minimum-norm steps
    (lstsq): softmax's intercepts are only defined up to a common shift."""
    A = augment(X)
    n, p = A.shape
    W = np.zeros((k, p))
    pen = np.ones(p) * l2
    pen[-1] = 0.0
    for _ in range(100):
        Z = A @ W.T
        if loss == rc.LOGISTIC:
            s = 1 / (1 + np.exp(-Z[:, 0]))
            g = A.T @ (s - y) / n + pen * W[0]
            H = (A.T * (s * (1 - s))) @ A / n + np.diag(pen)
            step = np.linalg.solve(H, g)[None, :]
        else:
            P = np.exp(Z - Z.max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
            Y = np.zeros_like(P)
            Y[np.arange(n), y.astype(int)] = 1.0
            g = ((P - Y).T @ A / n + pen * W).ravel()
            H = np.zeros((k * p, k * p))
            for a in range(k):
                for b in range(k):
                    c = P[:, a] * ((a == b) - P[:, b])
                    H[a * p:(a + 1) * p, b * p:(b + 1) * p] = (A.T * c) @ A / n
            H += np.diag(np.tile(pen, k))
            step = np.linalg.lstsq(H, g, rcond=None)[0].reshape(k, p)
        W = W - step
        if np.max(np.abs(step)) <= 1e-15 * max(1.0, np.max(np.abs(W))):
            break
    return W


def probabilities(loss, X, W):
    Z = scores(X, W)
    if loss == rc.SQUARED:
        return Z[:, 0]
    if loss == rc.LOGISTIC:
        return 1 / (1 + np.exp(-Z[:, 0]))
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def tight_fit(loss, X, y, k, l2):
    m = rc.Model(lib, loss, X.shape[1], k)
    m.set(rc.L2, l2).set(rc.TOL, 1e-13).set(rc.MAX_EPOCHS, 20000)
    return m.fit(X, y)


# ------------------------------------------------------------------ least squares

Xd, yd = load("diabetes.csv")
n, d = Xd.shape
l2 = 1e-3
W_ridge = ridge(Xd, yd, l2)
f_ridge = objective(rc.SQUARED, Xd, yd, W_ridge, l2)

m = tight_fit(rc.SQUARED, Xd, yd, 0, l2)
W = m.weights()
f = objective(rc.SQUARED, Xd, yd, W, l2)
check("squared rill_fit: objective = closed-form ridge (1e-12 rel)", abs(f - f_ridge) <= 1e-12 * f_ridge,
      "rill %.15g ridge %.15g, %d epochs" % (f, f_ridge, m.get(rc.STAT_EPOCHS)))
check("squared rill_fit: weights = closed-form ridge (1e-8)", rel(W, W_ridge) <= 1e-8, "%.2e" % rel(W, W_ridge))
check("squared rill_predict = X w + b", np.allclose(m.predict(Xd), scores(Xd, W)[:, 0], rtol=1e-13, atol=0))

# EXACT: one pass of mergeable moments, rows pushed in uneven chunks.
m_exact = rc.Model(lib, rc.SQUARED, d, 0).set(rc.L2, l2)
with m_exact.stream(50, rc.STREAM_EXACT) as s:
    for lo, hi in [(0, 7), (7, 130), (130, 131), (131, n)]:
        s.push(Xd[lo:hi], yd[lo:hi])
    s.flush()
W_exact = m_exact.weights()
check("squared EXACT stream = closed-form ridge (1e-9)", rel(W_exact, W_ridge) <= 1e-9,
      "%.2e" % rel(W_exact, W_ridge))

# PASS: k replays of the stream are k epochs of rill_fit, bit for bit (micro-batches a multiple
# of the kernels' 64-row block), however the rows are chunked.
k_epochs = 6
m_fit = rc.Model(lib, rc.SQUARED, d, 0).set(rc.L2, l2).set(rc.MAX_EPOCHS, k_epochs).set(rc.TOL, 0)
m_fit.fit(Xd, yd)
m_pass = rc.Model(lib, rc.SQUARED, d, 0).set(rc.L2, l2)
with m_pass.stream(128, rc.STREAM_PASS) as s:
    for _ in range(k_epochs):
        for lo in range(0, n, 100):
            s.push(Xd[lo:lo + 100], yd[lo:lo + 100])
        s.flush()
check("PASS stream x %d = rill_fit with %d epochs (bit for bit)" % (k_epochs, k_epochs),
      np.array_equal(m_pass.weights(), m_fit.weights()) and m_fit.get(rc.STAT_EPOCHS) == k_epochs)

# ------------------------------------------------------------------ gradient sums

rng = np.random.default_rng(7)
Xi, yi = load("iris.csv")
for loss, X, y, k in [(rc.SQUARED, Xd, yd, 0), (rc.LOGISTIC, Xd, (yd > 140).astype(float), 2),
                      (rc.SOFTMAX, Xi, yi, 3)]:
    with rc.Model(lib, loss, X.shape[1], k) as g_model:
        W0 = rng.normal(scale=0.01, size=(g_model.n_outputs, X.shape[1] + 1))
        g_model.set_weights(W0)  # the evaluation point is now W0
        g, loss_sum = g_model.gradient(X, y)
        g_ref, loss_ref = loss_and_grad_sums(loss, X, y, W0)
        check("loss %d rill_gradient sums = numpy (1e-12)" % loss,
              rel(g, g_ref.ravel()) <= 1e-12 and abs(loss_sum - loss_ref) <= 1e-12 * abs(loss_ref),
              "grad %.1e" % rel(g, g_ref.ravel()))
        # mergeable: shard sums added = sum over all rows
        g1, l1 = g_model.gradient(X[:61], y[:61])
        g2, l2_sum = g_model.gradient(X[61:], y[61:])
        check("loss %d gradient sums over shards add up (1e-12)" % loss,
              rel(g1 + g2, g) <= 1e-12 and abs(l1 + l2_sum - loss_sum) <= 1e-12 * abs(loss_sum))

# ------------------------------------------------------------------ stochastic steps

# One rill_step with a constant rate is the textbook update w <- w - eta (mean grad + l2 w).
eta, l2_step = 1e-6, 0.1
rows = slice(10, 18)
m_step = rc.Model(lib, rc.SQUARED, d, 0)
m_step.set(rc.SCHEDULE, rc.SCHEDULE_CONSTANT).set(rc.LEARNING_RATE, eta).set(rc.L2, l2_step)
W0 = rng.normal(size=(1, d + 1))
m_step.set_weights(W0)
m_step.step(Xd[rows], yd[rows])
g_ref, _ = loss_and_grad_sums(rc.SQUARED, Xd[rows], yd[rows], W0)
pen = np.append(np.full(d, l2_step), 0.0)
W_ref = W0 - eta * (g_ref / 8 + pen * W0)
check("rill_step = w - eta (mean gradient + l2 w) (1e-13)", rel(m_step.weights(), W_ref) <= 1e-13,
      "%.1e" % rel(m_step.weights(), W_ref))

# A STEP stream of b-row micro-batches = rill_step on consecutive b-row chunks, bit for bit.
yb = (yd > 140).astype(float)
a = rc.Model(lib, rc.LOGISTIC, d, 2).set(rc.SCHEDULE, rc.SCHEDULE_ADAGRAD).set(rc.LEARNING_RATE, 0.05)
b = rc.Model(lib, rc.LOGISTIC, d, 2).set(rc.SCHEDULE, rc.SCHEDULE_ADAGRAD).set(rc.LEARNING_RATE, 0.05)
for lo in range(0, n, 5):
    a.step(Xd[lo:lo + 5], yb[lo:lo + 5])
with b.stream(5, rc.STREAM_STEP) as s:
    for lo, hi in [(0, 3), (3, 200), (200, n)]:
        s.push(Xd[lo:hi], yb[lo:hi])
    s.flush()
check("STEP stream = rill_step per micro-batch (bit for bit)",
      np.array_equal(a.weights(), b.weights()) and a.get(rc.STAT_ROWS) == n == b.get(rc.STAT_ROWS))

# ------------------------------------------------------------------ logistic, softmax

W_newton = newton(rc.LOGISTIC, Xd, yb, 1, l2)
m_log = tight_fit(rc.LOGISTIC, Xd, yb, 2, l2)
f, f_ref = objective(rc.LOGISTIC, Xd, yb, m_log.weights(), l2), objective(rc.LOGISTIC, Xd, yb, W_newton, l2)
check("logistic rill_fit: objective = Newton optimum (1e-12 rel)", abs(f - f_ref) <= 1e-12 * f_ref,
      "rill %.15g newton %.15g, %d epochs" % (f, f_ref, m_log.get(rc.STAT_EPOCHS)))
check("logistic rill_fit: weights = Newton optimum (1e-7)", rel(m_log.weights(), W_newton) <= 1e-7,
      "%.2e" % rel(m_log.weights(), W_newton))
p = m_log.predict(Xd)
check("logistic rill_predict = sigmoid(X w + b)", np.allclose(p, probabilities(rc.LOGISTIC, Xd, m_log.weights()),
                                                              rtol=1e-12, atol=1e-15))
check("logistic rill_classify = (P >= 0.5)", np.array_equal(m_log.classify(Xd), (p >= 0.5).astype(float)))

W_newton = newton(rc.SOFTMAX, Xi, yi, 3, l2)
m_soft = tight_fit(rc.SOFTMAX, Xi, yi, 3, l2)
f, f_ref = objective(rc.SOFTMAX, Xi, yi, m_soft.weights(), l2), objective(rc.SOFTMAX, Xi, yi, W_newton, l2)
check("softmax rill_fit: objective = Newton optimum (1e-12 rel)", abs(f - f_ref) <= 1e-12 * f_ref,
      "rill %.15g newton %.15g, %d epochs" % (f, f_ref, m_soft.get(rc.STAT_EPOCHS)))
P = m_soft.predict(Xi)
P_ref = probabilities(rc.SOFTMAX, Xi, W_newton)
check("softmax probabilities = Newton optimum's (1e-9)", np.max(np.abs(P - P_ref)) <= 1e-9,
      "%.1e" % np.max(np.abs(P - P_ref)))
check("softmax rill_classify = argmax of probabilities", np.array_equal(m_soft.classify(Xi), P.argmax(axis=1)))

# ------------------------------------------------------------------ save and load

for name, model, X, y in [("squared", m, Xd, yd), ("logistic", m_log, Xd, yb), ("softmax", m_soft, Xi, yi)]:
    blob = model.save()
    with rc.Model.load(lib, blob) as loaded:
        same_pred = np.array_equal(loaded.predict(X), model.predict(X))
        same_w = np.array_equal(loaded.weights(), model.weights())
        same_blob = loaded.save() == blob
        # training continues identically after the round trip
        model.step(X[:4], y[:4])
        loaded.step(X[:4], y[:4])
        same_after = np.array_equal(loaded.weights(), model.weights())
    check("%s saved -> loaded: same predictions, weights, blob, next step" % name,
          same_pred and same_w and same_blob and same_after, "%d bytes" % len(blob))

try:
    rc.Model.load(lib, blob[:-1] + bytes([blob[-1] ^ 1]))
    check("a corrupted blob is refused (RILL_EFORMAT)", False)
except rc.RillError as e:
    check("a corrupted blob is refused (RILL_EFORMAT)", e.status == rc.EFORMAT)

# ------------------------------------------------------------------ errors, callback

bad = Xd.copy()
bad[17, 3] = np.nan
before = m.weights()
try:
    m.fit(bad, yd)
    check("NaN in X: RILL_EDATA naming row and column, model unchanged", False)
except rc.RillError as e:
    check("NaN in X: RILL_EDATA naming row and column, model unchanged",
          e.status == rc.EDATA and "row 17" in e.detail and "column 3" in e.detail and np.array_equal(m.weights(), before),
          e.detail)
try:
    m.set(9999, 1.0)
    check("unknown parameter: RILL_EUNSUPPORTED", False)
except rc.RillError as e:
    check("unknown parameter: RILL_EUNSUPPORTED", e.status == rc.EUNSUPPORTED)

calls = []


def progress(user, handle):
    epochs = ctypes.c_double()
    lib.rill_model_get(handle, rc.STAT_EPOCHS, ctypes.byref(epochs))
    calls.append(epochs.value)
    return 1 if len(calls) == 3 else 0


cb = rc.PROGRESS(progress)  # kept alive while the model may call it
m_cb = rc.Model(lib, rc.LOGISTIC, d, 2).set(rc.L2, l2)
assert lib.rill_model_set_progress(m_cb.h, cb, None) == rc.OK
m_cb.fit(Xd, yb)
check("progress callback: once per epoch; nonzero return stops (RILL_STAT_STOPPED)",
      calls == [1.0, 2.0, 3.0] and m_cb.get(rc.STAT_STOPPED) == 1 and m_cb.get(rc.STAT_EPOCHS) == 3, str(calls))

check("rill_version_string matches rill_version", lib.rill_version_string().decode() ==
      "%d.%d.%d" % (lib.rill_version() >> 16, lib.rill_version() >> 8 & 255, lib.rill_version() & 255))

# The bindings declare every export of lib/rill.sym (a new function needs a prototype here).
sym = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib", "rill.sym")
with open(sym) as f:
    exports = {line.strip().rstrip(";") for line in f if line.strip().startswith("rill_")}
check("rillctypes declares every export of lib/rill.sym", exports == set(rc.PROTOTYPES),
      "missing %s, extra %s" % (sorted(exports - set(rc.PROTOTYPES)), sorted(set(rc.PROTOTYPES) - exports)))

# The evaluation point: the weights between searches, a trial point during one; a worker set
# to it computes the same sums as the model itself.
m_ep = rc.Model(lib, rc.LOGISTIC, d, 2).set(rc.L2, l2)
same_point = True
for _ in range(6):
    g, ls = m_ep.gradient(Xd, yb)
    worker = rc.Model(lib, rc.LOGISTIC, d, 2)
    worker.set_weights(m_ep.eval_point())
    g2, ls2 = worker.gradient(Xd, yb)
    same_point = same_point and np.array_equal(g, g2) and ls == ls2
    m_ep.apply_gradient(g, ls, len(yb))
check("rill_model_eval_point: a worker at the point computes the model's own sums", same_point)

# The no-heap path through ctypes: a model in a numpy buffer.
size = ctypes.c_size_t()
ok = lib.rill_model_workspace_size(rc.SQUARED, d, 0, ctypes.byref(size)) == rc.OK
buf = np.zeros(size.value // 8 + 8)
addr = buf.ctypes.data
addr_aligned = (addr + 63) & ~63
h = ctypes.c_void_p()
ok = ok and lib.rill_model_init_static(ctypes.byref(h), ctypes.c_void_p(addr_aligned),
                                       size.value, rc.SQUARED, d, 0) == rc.OK
if ok:
    ok = lib.rill_model_set(h, rc.L2, l2) == rc.OK and \
        lib.rill_fit(h, rc.ptr(Xd), rc.ptr(yd), n) == rc.OK
    w_static = np.empty(d + 1)
    ok = ok and lib.rill_model_weights(h, rc.ptr(w_static), d + 1) == rc.OK
    heap = rc.Model(lib, rc.SQUARED, d, 0).set(rc.L2, l2)
    heap.fit(Xd, yd)
    ok = ok and np.array_equal(w_static, heap.weights().ravel())
    lib.rill_model_free(h)
check("rill_model_init_static in a numpy buffer: fit equals the heap model's", ok,
      "%d bytes" % size.value)

# The binding checks shapes before a C call reads the arrays: a 1-D row is one row, anything
# that does not match the model is a ValueError.
mb = rc.Model(lib, rc.SQUARED, d, 0)
mb.fit(Xd, yd)
one_row = mb.predict(Xd[0])
check("binding: a 1-D row predicts as one row", one_row.shape == (1,) and
      one_row[0] == mb.predict(Xd[:1])[0])
refused = 0
for call in (lambda: mb.predict(Xd[:, :-1]), lambda: mb.predict(Xd.ravel()[:2 * d + 1]),
             lambda: mb.step(Xd[:3], yd[:2]), lambda: mb.fit(Xd, yd[:, None]),
             lambda: mb.gradient(Xd[:4], yd[:5]), lambda: mb.apply_gradient(np.zeros(d), 1.0, 1.0),
             lambda: mb.classify(Xd[None, :, :])):
    try:
        call()
    except ValueError:
        refused += 1
check("binding: wrong shapes are ValueError, not a read past the array", refused == 7,
      "%d of 7" % refused)

# Closing a model closes its open streams first (a stream used after that is an error, not a
# write to freed memory); a const call's error names that call, not an older failure.
ms = rc.Model(lib, rc.SQUARED, d, 0)
st = ms.stream(4, rc.STREAM_STEP)
st.push(Xd[:3], yd[:3])
ms.close()
try:
    st.push(Xd[:3], yd[:3])
    pushed = True
except rc.RillError:
    pushed = False
check("binding: closing a model closes its streams first", not st.h and not pushed)
# ... also when the two are in a reference cycle, which the collector frees in any order
mcy = rc.Model(lib, rc.SQUARED, d, 0)
mcy.kept = mcy.stream(4, rc.STREAM_STEP)
mcy.kept.push(Xd[:3], yd[:3])
del mcy
gc.collect()
check("binding: a model and its stream in a cycle are freed (ASan: no use after free)", True)
mc = rc.Model(lib, rc.SQUARED, d, 0)
try:
    mc.set_weights(np.zeros(d + 5))
except rc.RillError:
    pass
try:
    mc.predict(np.full((1, d), np.inf))
    detail = ""
except rc.RillError as e:
    detail = str(e)
check("binding: a const call's error names that call", "rill_predict" in detail and
      "set_weights" not in detail, detail)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
