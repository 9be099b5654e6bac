"""Batch-fit over partitioned data from Python (ctypes): the protocol of a Spark or Dask job.

    python3 partitioned_fit.py LIBRILL DATA_DIR FILE.csv squared|logistic|softmax [K]
                               [--partitions P] [--threshold T] [--l2 V]

The driver holds the one model with the optimizer's state. Every epoch it
  1. reads the optimizer's evaluation point (rill_model_eval_point),
  2. ships it to the workers (Spark: sc.broadcast; Dask: client.scatter),
  3. each worker computes its partition's gradient sums, loss sum and row count with
     rill_gradient on a stateless model set to that point (Spark: mapPartitions; Dask:
     client.map over the partitions),
  4. the sums are added (Spark: treeAggregate; Dask: client.gather, then add in partition
     order) and the driver alone calls rill_apply_gradient,
until RILL_STAT_CONVERGED or RILL_STAT_STALLED reads 1, or RILL_MAX_EPOCHS epochs ran. Only the driver decides, so the
order in which partition sums are added changes rounding only, never the control flow.

Here the "cluster" is a list of partitions and `map` is Python's; `fit_partitioned` takes the
map and reduce functions, which is where Spark or Dask plug in (docs/distributed.md).
The script also fits all rows in one process with rill_fit and exits 1 unless the objectives
agree to 1e-9 (relative) and the weights to 1e-6 (relative to the largest).
"""
import ctypes
import os
import sys
from ctypes import POINTER, byref, c_double, c_int, c_size_t, c_void_p

import numpy as np

SQUARED, LOGISTIC, SOFTMAX = 1, 2, 3
L2, MAX_EPOCHS = 4, 7
STAT_EPOCHS, STAT_LOSS, STAT_CONVERGED, STAT_STALLED = 100, 103, 104, 107
dp = POINTER(c_double)


_bound = {}


def bind(path):
    """The library at path with its prototypes declared; loaded once per process (a Spark or
    Dask worker process keeps it between tasks)."""
    if path in _bound:
        return _bound[path]
    lib = _bound[path] = ctypes.CDLL(path)
    for name, res, args in [
        ("rill_model_new", c_int, [POINTER(c_void_p), c_int, c_size_t, c_size_t]),
        ("rill_model_free", None, [c_void_p]),
        ("rill_model_set", c_int, [c_void_p, c_int, c_double]),
        ("rill_model_get", c_int, [c_void_p, c_int, dp]),
        ("rill_fit", c_int, [c_void_p, dp, dp, c_size_t]),
        ("rill_gradient", c_int, [c_void_p, dp, dp, c_size_t, dp, dp]),
        ("rill_apply_gradient", c_int, [c_void_p, dp, c_double, c_double]),
        ("rill_model_n_weights", c_size_t, [c_void_p]),
        ("rill_model_weights", c_int, [c_void_p, dp, c_size_t]),
        ("rill_model_set_weights", c_int, [c_void_p, dp, c_size_t]),
        ("rill_model_eval_point", c_int, [c_void_p, dp, c_size_t]),
    ]:
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


def p(a):
    return a.ctypes.data_as(dp)


def check(rc, what):
    if rc != 0:
        raise RuntimeError("%s failed with status %d" % (what, rc))


def new_model(lib, loss, d, classes, l2=0.0):
    m = c_void_p()
    check(lib.rill_model_new(byref(m), loss, d, classes), "rill_model_new")
    check(lib.rill_model_set(m, L2, l2), "rill_model_set")
    return m


def get(lib, m, param):
    v = c_double()
    check(lib.rill_model_get(m, param, byref(v)), "rill_model_get")
    return v.value


def evaluation_point(lib, m, nw):
    """Where the optimizer wants the next evaluation (rill_model_eval_point): the accepted
    weights, or the line search's trial point."""
    point = np.zeros(nw)
    check(lib.rill_model_eval_point(m, p(point), nw), "rill_model_eval_point")
    return point


def partition_sums(libpath, loss, d, classes, point, X, y):
    """The worker: [gradient sums (n_w), loss sum, rows] of one partition at point. Stateless:
    it needs the library, the model's shape and the point, nothing of the optimizer."""
    lib = bind(libpath)
    m = new_model(lib, loss, d, classes)
    try:
        nw = lib.rill_model_n_weights(m)
        out = np.zeros(nw + 2)
        if len(y):
            check(lib.rill_model_set_weights(m, p(point), nw), "rill_model_set_weights")
            loss_sum = c_double()
            check(lib.rill_gradient(m, p(X), p(y), len(y), p(out), byref(loss_sum)),
                  "rill_gradient")
            out[nw], out[nw + 1] = loss_sum.value, len(y)
        return out
    finally:
        lib.rill_model_free(m)


def fit_partitioned(libpath, partitions, loss, d, classes, l2, map_fn=map, reduce_fn=None):
    """The driver loop. map_fn(f, partitions) runs f on every partition (where the data
    lives); reduce_fn adds the per-partition arrays (default: in partition order)."""
    lib = bind(libpath)
    m = new_model(lib, loss, d, classes, l2)
    nw = lib.rill_model_n_weights(m)
    reduce_fn = reduce_fn or (lambda parts: np.sum(np.array(list(parts)), axis=0))
    for _ in range(int(get(lib, m, MAX_EPOCHS))):
        point = evaluation_point(lib, m, nw)  # broadcast this
        total = reduce_fn(map_fn(lambda part: partition_sums(libpath, loss, d, classes, point,
                                                             *part), partitions))
        total = np.ascontiguousarray(total)
        check(lib.rill_apply_gradient(m, p(total), total[nw], total[nw + 1]),
              "rill_apply_gradient")
        if get(lib, m, STAT_CONVERGED) or get(lib, m, STAT_STALLED):
            break
    return lib, m


def main(argv):
    args = list(argv[1:])
    opts = {"--partitions": 4, "--threshold": None, "--l2": 1e-3}
    for key in list(opts):
        if key in args:
            i = args.index(key)
            opts[key] = float(args[i + 1])
            del args[i:i + 2]
    libpath, data = args[0], os.path.join(args[1], args[2])
    loss = {"squared": SQUARED, "logistic": LOGISTIC, "softmax": SOFTMAX}[args[3]]
    classes = {SQUARED: 0, LOGISTIC: 2}[loss] if loss != SOFTMAX else int(args[4])
    table = np.loadtxt(data, delimiter=",", skiprows=1, ndmin=2)
    X, y = np.ascontiguousarray(table[:, :-1]), np.ascontiguousarray(table[:, -1])
    if opts["--threshold"] is not None:
        y = (y > opts["--threshold"]).astype(np.float64)
    n, d, P = len(y), X.shape[1], int(opts["--partitions"])
    cuts = [n * k // P for k in range(P + 1)]
    partitions = [(X[cuts[k]:cuts[k + 1]], y[cuts[k]:cuts[k + 1]]) for k in range(P)]

    lib, m = fit_partitioned(libpath, partitions, loss, d, classes, opts["--l2"])
    ref = new_model(lib, loss, d, classes, opts["--l2"])
    check(lib.rill_fit(ref, p(X), p(y), n), "rill_fit")
    nw = lib.rill_model_n_weights(m)
    w, w_ref = np.zeros(nw), np.zeros(nw)
    lib.rill_model_weights(m, p(w), nw)
    lib.rill_model_weights(ref, p(w_ref), nw)
    obj, obj_ref = get(lib, m, STAT_LOSS), get(lib, ref, STAT_LOSS)
    dobj = abs(obj - obj_ref) / abs(obj_ref)
    dw, scale = np.max(np.abs(w - w_ref)), max(1.0, np.max(np.abs(w_ref)))
    print("partitions %d\nepochs %g\nreference_epochs %g" % (P, get(lib, m, STAT_EPOCHS),
                                                             get(lib, ref, STAT_EPOCHS)))
    print("objective %.17g\nreference_objective %.17g" % (obj, obj_ref))
    print("objective_rel_diff %.3g\nweights_max_diff %.3g (scale %.3g)" % (dobj, dw, scale))
    ok = get(lib, m, STAT_CONVERGED) and dobj <= 1e-9 and dw <= 1e-6 * scale
    print("check", "ok" if ok else "FAILED")
    lib.rill_model_free(m)
    lib.rill_model_free(ref)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
