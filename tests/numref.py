"""numpy references shared by the Python tests (test_ffi.py, test_sklearn.py, cli/test_cli.py):
rill's objective computed independently of the library."""
import numpy as np

SQUARED, LOGISTIC, SOFTMAX = 1, 2, 3


def scores(X, W):
    """W: (n_outputs, d + 1) (or flat), one row per output, intercept last."""
    W = np.asarray(W).reshape(-1, X.shape[1] + 1)
    return X @ W[:, :-1].T + W[:, -1]


def mean_loss(loss, X, y, W):
    Z = scores(X, W)
    if loss == SQUARED:
        return 0.5 * np.mean((Z[:, 0] - y) ** 2)
    if loss == LOGISTIC:
        z = Z[:, 0]
        return np.mean(np.logaddexp(0, z) - y * z)
    m = Z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(Z - m).sum(axis=1, keepdims=True)))[:, 0]
    return np.mean(lse - Z[np.arange(len(y)), y.astype(int)])


def objective(loss, X, y, W, l2):
    """mean loss + l2/2 ||w||^2, intercepts unpenalized."""
    W = np.asarray(W).reshape(-1, X.shape[1] + 1)
    return mean_loss(loss, X, y, W) + 0.5 * l2 * np.sum(W[:, :-1] ** 2)
