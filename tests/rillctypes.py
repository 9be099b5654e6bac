"""ctypes bindings of librill for the Python tests (test_ffi.py, test_sklearn.py).

`bind(path)` loads the shared library and declares every exported function's prototype,
from include/rill.h. `Model` wraps a handle: methods take and return numpy float64 arrays
and raise `RillError` (status, name, detail) on a failing status. The constants are the
header's pinned values. See docs/ffi.md for the rules that keep bindings like this one simple.
"""
import ctypes
from ctypes import POINTER, byref, c_char_p, c_double, c_int, c_size_t, c_uint, c_void_p

import numpy as np

# status codes
OK, EINVAL, ENOMEM, EDATA, EDIVERGED, EFORMAT, ESTATE, ERANGE, EUNSUPPORTED = 0, -1, -2, -3, -4, -5, -6, -7, -8
# rill_loss
SQUARED, LOGISTIC, SOFTMAX = 1, 2, 3
# rill_param
(LEARNING_RATE, SCHEDULE, POWER_T, L2, L1, FIT_INTERCEPT, MAX_EPOCHS, TOL, BATCH_ROWS, AVERAGE, SEED,
 THREADS) = range(1, 13)
(STAT_EPOCHS, STAT_STEPS, STAT_ROWS, STAT_LOSS, STAT_CONVERGED, STAT_STOPPED, STAT_PROGRESSIVE_LOSS,
 STAT_STALLED) = range(100, 108)
MODEL_LOSS, MODEL_N_FEATURES, MODEL_N_CLASSES = 200, 201, 202
# rill_schedule
SCHEDULE_CONSTANT, SCHEDULE_INVSCALING, SCHEDULE_OPTIMAL, SCHEDULE_ADAGRAD = 1, 2, 3, 4
# rill_stream_mode
STREAM_STEP, STREAM_PASS, STREAM_EXACT = 1, 2, 3

dp = POINTER(c_double)
PROGRESS = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p)

# name: (restype, argtypes). Handles are opaque: c_void_p.
PROTOTYPES = {
    "rill_version": (c_uint, []),
    "rill_version_string": (c_char_p, []),
    "rill_strerror": (c_char_p, [c_int]),
    "rill_model_new": (c_int, [POINTER(c_void_p), c_int, c_size_t, c_size_t]),
    "rill_model_clone": (c_int, [POINTER(c_void_p), c_void_p]),
    "rill_model_free": (None, [c_void_p]),
    "rill_model_error": (c_char_p, [c_void_p]),
    "rill_model_set": (c_int, [c_void_p, c_int, c_double]),
    "rill_model_get": (c_int, [c_void_p, c_int, dp]),
    "rill_param_bounds": (c_int, [c_int, dp, dp]),
    "rill_fit": (c_int, [c_void_p, dp, dp, c_size_t]),
    "rill_step": (c_int, [c_void_p, dp, dp, c_size_t]),
    "rill_predict": (c_int, [c_void_p, dp, c_size_t, dp]),
    "rill_classify": (c_int, [c_void_p, dp, c_size_t, dp]),
    "rill_gradient": (c_int, [c_void_p, dp, dp, c_size_t, dp, dp]),
    "rill_apply_gradient": (c_int, [c_void_p, dp, c_double, c_double]),
    "rill_model_n_weights": (c_size_t, [c_void_p]),
    "rill_model_weights": (c_int, [c_void_p, dp, c_size_t]),
    "rill_model_eval_point": (c_int, [c_void_p, dp, c_size_t]),
    "rill_model_set_weights": (c_int, [c_void_p, dp, c_size_t]),
    "rill_model_save": (c_int, [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]),
    "rill_model_load": (c_int, [POINTER(c_void_p), c_void_p, c_size_t]),
    "rill_stream_new": (c_int, [POINTER(c_void_p), c_void_p, c_size_t, c_int]),
    "rill_stream_push": (c_int, [c_void_p, dp, dp, c_size_t]),
    "rill_stream_flush": (c_int, [c_void_p]),
    "rill_stream_free": (None, [c_void_p]),
    "rill_model_set_progress": (c_int, [c_void_p, PROGRESS, c_void_p]),
    # caller allocator (a pointer to a rill_alloc struct) and caller buffers
    "rill_model_new_alloc": (c_int, [POINTER(c_void_p), c_int, c_size_t, c_size_t, c_void_p]),
    "rill_model_load_alloc": (c_int, [POINTER(c_void_p), c_void_p, c_size_t, c_void_p]),
    "rill_model_workspace_size": (c_int, [c_int, c_size_t, c_size_t, POINTER(c_size_t)]),
    "rill_model_init_static": (c_int, [POINTER(c_void_p), c_void_p, c_size_t, c_int, c_size_t, c_size_t]),
    "rill_stream_workspace_size": (c_int, [c_void_p, c_size_t, c_int, POINTER(c_size_t)]),
    "rill_stream_init_static": (c_int, [POINTER(c_void_p), c_void_p, c_size_t, c_void_p, c_size_t, c_int]),
}


def bind(path):
    """The library at path with the prototypes above declared."""
    lib = ctypes.CDLL(path)
    for name, (restype, argtypes) in PROTOTYPES.items():
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = argtypes
    return lib


def ptr(a):
    """A double* into a C-contiguous float64 array (no copy: the caller keeps a alive)."""
    if a.dtype != np.float64 or not a.flags["C_CONTIGUOUS"]:
        raise TypeError("need a C-contiguous float64 array")
    return a.ctypes.data_as(dp)


def as_rows(a):
    """a as C-contiguous float64 (copied only when needed)."""
    return np.ascontiguousarray(a, dtype=np.float64)


class RillError(Exception):
    def __init__(self, lib, status, detail):
        self.status = status
        self.detail = detail
        super().__init__("%s (%d): %s" % (lib.rill_strerror(status).decode(), status, detail))


class Model:
    """An owned rill_model handle."""

    def __init__(self, lib, loss=None, n_features=None, n_classes=0, handle=None):
        self.lib = lib
        self.h = c_void_p()
        # handles (ints) of the streams open on it, freed before it: no reference to the
        # Stream objects, so a cycle between the two is freed in any order
        self._stream_handles = set()
        if handle is not None:
            self.h = handle
        else:
            self._check(lib.rill_model_new(byref(self.h), loss, n_features, n_classes))
        self.loss = int(self.get(MODEL_LOSS))
        self.n_features = int(self.get(MODEL_N_FEATURES))
        self.n_classes = int(self.get(MODEL_N_CLASSES))
        self.n_outputs = self.n_classes if self.loss == SOFTMAX else 1

    def _rows(self, X, y=None):
        """X as n_rows x n_features (one row may be 1-D) and y as n_rows labels, both
        C-contiguous float64; ValueError on any other shape (the C calls trust the sizes)."""
        X = as_rows(X)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError("X must be n_rows x %d, not %s" % (self.n_features, X.shape))
        if y is None:
            return X
        y = as_rows(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError("y must hold %d labels, not %s" % (X.shape[0], y.shape))
        return X, y

    def _check(self, rc, const_call=None):
        """Raises RillError for a failed call. The model's error detail describes the last
        failed non-const call; a const call (predict, get, ...) passes its name instead."""
        if rc != OK:
            if const_call:
                detail = const_call
            else:
                detail = self.lib.rill_model_error(self.h).decode() if self.h else ""
            raise RillError(self.lib, rc, detail)

    def close(self):
        """Frees the model, and first the streams still open on it (rill_stream_free must
        come before rill_model_free)."""
        for sh in list(getattr(self, "_stream_handles", ())):
            self.lib.rill_stream_free(c_void_p(sh))
        getattr(self, "_stream_handles", set()).clear()
        if self.h:
            self.lib.rill_model_free(self.h)
            self.h = c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def set(self, param, value):
        self._check(self.lib.rill_model_set(self.h, param, value))
        return self

    def get(self, param):
        v = c_double()
        self._check(self.lib.rill_model_get(self.h, param, byref(v)), "rill_model_get")
        return v.value

    def fit(self, X, y):
        X, y = self._rows(X, y)
        self._check(self.lib.rill_fit(self.h, ptr(X), ptr(y), X.shape[0]))
        return self

    def step(self, X, y):
        X, y = self._rows(X, y)
        self._check(self.lib.rill_step(self.h, ptr(X), ptr(y), X.shape[0]))
        return self

    def predict(self, X):
        X = self._rows(X)
        out = np.empty((X.shape[0], self.n_outputs))
        self._check(self.lib.rill_predict(self.h, ptr(X), X.shape[0], ptr(out)), "rill_predict")
        return out if self.loss == SOFTMAX else out[:, 0]

    def classify(self, X):
        X = self._rows(X)
        out = np.empty(X.shape[0])
        self._check(self.lib.rill_classify(self.h, ptr(X), X.shape[0], ptr(out)), "rill_classify")
        return out

    def gradient(self, X, y):
        """(grad_sum, loss_sum) at the evaluation point."""
        X, y = self._rows(X, y)
        g = np.empty(self.n_weights())
        loss = c_double()
        self._check(self.lib.rill_gradient(self.h, ptr(X), ptr(y), X.shape[0], ptr(g), byref(loss)),
                    "rill_gradient")
        return g, loss.value

    def apply_gradient(self, g, loss_sum, weight_sum):
        g = as_rows(g).ravel()
        if g.size != self.n_weights():
            raise ValueError("g must hold %d sums, not %d" % (self.n_weights(), g.size))
        self._check(self.lib.rill_apply_gradient(self.h, ptr(g), loss_sum, weight_sum))

    def n_weights(self):
        return self.lib.rill_model_n_weights(self.h)

    def weights(self):
        """(n_outputs, n_features + 1): one row per output, the intercept last."""
        w = np.empty(self.n_weights())
        self._check(self.lib.rill_model_weights(self.h, ptr(w), w.size), "rill_model_weights")
        return w.reshape(self.n_outputs, self.n_features + 1)

    def eval_point(self):
        """Where the next rill_gradient evaluates, in the layout of weights()."""
        w = np.empty(self.n_weights())
        self._check(self.lib.rill_model_eval_point(self.h, ptr(w), w.size), "rill_model_eval_point")
        return w.reshape(self.n_outputs, self.n_features + 1)

    def set_weights(self, w):
        w = as_rows(w).ravel()
        self._check(self.lib.rill_model_set_weights(self.h, ptr(w), w.size))

    def save(self):
        size = c_size_t()
        self._check(self.lib.rill_model_save(self.h, None, 0, byref(size)), "rill_model_save")
        buf = ctypes.create_string_buffer(size.value)
        self._check(self.lib.rill_model_save(self.h, buf, size.value, byref(size)), "rill_model_save")
        return buf.raw[: size.value]

    @classmethod
    def load(cls, lib, blob):
        h = c_void_p()
        rc = lib.rill_model_load(byref(h), blob, len(blob))
        if rc != OK:
            raise RillError(lib, rc, "rill_model_load")
        return cls(lib, handle=h)

    def stream(self, batch_rows, mode):
        return Stream(self, batch_rows, mode)


class Stream:
    """A rill_stream on a Model; keeps the model alive, freed before it."""

    def __init__(self, model, batch_rows, mode):
        self.model = model
        self.h = c_void_p()
        model._check(model.lib.rill_stream_new(byref(self.h), model.h, batch_rows, mode))
        model._stream_handles.add(self.h.value)

    def _handle(self):
        """The handle, or NULL (the C call then refuses) once closed, here or by the model's
        close."""
        if self.h and self.h.value not in self.model._stream_handles:
            self.h = c_void_p()
        return self.h

    def push(self, X, y):
        X, y = self.model._rows(X, y)
        self.model._check(self.model.lib.rill_stream_push(self._handle(), ptr(X), ptr(y),
                                                          X.shape[0]))

    def flush(self):
        self.model._check(self.model.lib.rill_stream_flush(self._handle()))

    def close(self):
        if self._handle():
            self.model._stream_handles.discard(self.h.value)
            self.model.lib.rill_stream_free(self.h)
            self.h = c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
