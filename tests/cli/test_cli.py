#!/usr/bin/python3
"""The rill command end to end, held to the library it wraps.

    test_cli.py GROUP RILL LIBRILL DATA_DIR KAT_DIR NUMBERS_TEST MAXRSS

GROUP is one of: fit, stdin, memory, libsvm, errors, output, resume, locale, kat. The
references are the library itself through ctypes (the same calls with the options the command documents),
numpy (objectives, predictions from weights) and hand-computed values. Exit 77 = skipped
(numpy missing; for `locale`, no comma-decimal locale can be found or generated).
"""
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print("skipping: %s" % e)
    sys.exit(77)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numref  # noqa: E402

GROUP, RILL, LIBRILL, DATA, KAT_DIR = (os.path.abspath(a) if i else a
                                       for i, a in enumerate(sys.argv[1:6]))
NUMBERS_TEST = os.path.abspath(sys.argv[6]) if len(sys.argv) > 6 else None
MAXRSS = os.path.abspath(sys.argv[7]) if len(sys.argv) > 7 else None

SQUARED, LOGISTIC, SOFTMAX = 1, 2, 3
(LEARNING_RATE, SCHEDULE, POWER_T, L2, L1, FIT_INTERCEPT, MAX_EPOCHS, TOL, BATCH_ROWS,
 AVERAGE, SEED) = range(1, 12)
STAT_EPOCHS, STAT_STEPS, STAT_ROWS, STAT_LOSS, STAT_CONVERGED = 100, 101, 102, 103, 104
STAT_PROGRESSIVE_LOSS = 106
SCHEDULE_INVSCALING = 2
STREAM_STEP, STREAM_PASS, STREAM_EXACT = 1, 2, 3
LOSS_NAMES = {SQUARED: "squared", LOGISTIC: "logistic", SOFTMAX: "softmax"}

lib = ctypes.CDLL(LIBRILL)
P, vp, dp, sz = ctypes.POINTER, ctypes.c_void_p, ctypes.POINTER(ctypes.c_double), ctypes.c_size_t
lib.rill_model_new.argtypes = [P(vp), ctypes.c_int, sz, sz]
lib.rill_model_set.argtypes = [vp, ctypes.c_int, ctypes.c_double]
lib.rill_model_get.argtypes = [vp, ctypes.c_int, dp]
lib.rill_fit.argtypes = [vp, dp, dp, sz]
lib.rill_predict.argtypes = [vp, dp, sz, dp]
lib.rill_model_weights.argtypes = [vp, dp, sz]
lib.rill_model_n_weights.argtypes = [vp]
lib.rill_model_n_weights.restype = sz
lib.rill_model_free.argtypes = [vp]
lib.rill_model_error.argtypes = [vp]
lib.rill_model_error.restype = ctypes.c_char_p
lib.rill_model_load.argtypes = [P(vp), ctypes.c_char_p, sz]
lib.rill_stream_new.argtypes = [P(vp), vp, sz, ctypes.c_int]
lib.rill_stream_push.argtypes = [vp, dp, dp, sz]
lib.rill_stream_flush.argtypes = [vp]
lib.rill_stream_free.argtypes = [vp]

failures = 0
checks = 0
tmp = tempfile.mkdtemp(prefix="rill-cli-")


def check(name, cond, detail=""):
    global failures, checks
    checks += 1
    print("%-64s %s  %s" % (name, "ok" if cond else "FAIL", detail), flush=True)
    failures += 0 if cond else 1
    return cond


def run(args, stdin=None, env=None, input_bytes=None):
    """Runs the command; returns (status, stdout, stderr) as text."""
    p = subprocess.run([RILL] + args, stdin=stdin, input=input_bytes, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def must(args, **kw):
    rc, out, err = run(args, **kw)
    if rc != 0:
        raise AssertionError("rill %s: exit %d: %s" % (" ".join(args), rc, err))
    return out


def ptr(a):
    return a.ctypes.data_as(dp)


def load_csv(name):
    d = np.loadtxt(os.path.join(DATA, name), delimiter=",", skiprows=1)
    return np.ascontiguousarray(d[:, :-1]), np.ascontiguousarray(d[:, -1])


def write_csv(path, X, y, header=True):
    with open(path, "w") as f:
        if header:
            f.write(",".join(["x%d" % j for j in range(X.shape[1])] + ["y"]) + "\n")
        for row, t in zip(X, y):
            f.write(",".join(repr(float(v)) for v in row) + "," + repr(float(t)) + "\n")


def write_libsvm(path, X, y, labels=None):
    with open(path, "w") as f:
        for i, (row, t) in enumerate(zip(X, y)):
            lab = labels[i] if labels is not None else repr(float(t))
            cells = ["%d:%r" % (j + 1, float(v)) for j, v in enumerate(row) if v != 0.0]
            f.write(" ".join([lab] + cells) + "\n")


class Model:
    """A rill model handle through ctypes."""

    def __init__(self, handle):
        self.h = handle

    @classmethod
    def new(cls, loss, d, classes):
        h = vp()
        assert lib.rill_model_new(ctypes.byref(h), loss, d, classes) == 0
        return cls(h)

    @classmethod
    def load(cls, path):
        data = open(path, "rb").read()
        h = vp()
        rc = lib.rill_model_load(ctypes.byref(h), data, len(data))
        assert rc == 0, "cannot load %s: %d" % (path, rc)
        return cls(h)

    def set(self, p, v):
        rc = lib.rill_model_set(self.h, p, v)
        assert rc == 0, (p, v, rc)

    def get(self, p):
        v = ctypes.c_double()
        assert lib.rill_model_get(self.h, p, ctypes.byref(v)) == 0
        return v.value

    def weights(self):
        nw = lib.rill_model_n_weights(self.h)
        w = np.zeros(nw)
        assert lib.rill_model_weights(self.h, ptr(w), nw) == 0
        return w

    def fit(self, X, y):
        rc = lib.rill_fit(self.h, ptr(X), ptr(y), X.shape[0])
        assert rc == 0, lib.rill_model_error(self.h)

    def stream_passes(self, X, y, batch_rows, mode, passes):
        s = vp()
        assert lib.rill_stream_new(ctypes.byref(s), self.h, batch_rows, mode) == 0
        for _ in range(passes):
            assert lib.rill_stream_push(s, ptr(X), ptr(y), X.shape[0]) == 0
            assert lib.rill_stream_flush(s) == 0
        lib.rill_stream_free(s)

    def predict(self, X):
        k = int(self.get(202)) if self.get(200) == SOFTMAX else 1
        out = np.zeros(X.shape[0] * k)
        assert lib.rill_predict(self.h, ptr(X), X.shape[0], ptr(out)) == 0
        return out

    def free(self):
        lib.rill_model_free(self.h)


def reference(loss, X, y, classes, mode, l2, batch_rows=None, epochs=None, average=0):
    """The library trained the way `rill fit` documents each mode (its default options)."""
    m = Model.new(loss, X.shape[1], classes)
    for p, v in ((L2, l2), (L1, 0.0), (LEARNING_RATE, 0.0), (SCHEDULE, SCHEDULE_INVSCALING),
                 (POWER_T, 0.25), (AVERAGE, average), (TOL, 1e-8), (SEED, 0.0)):
        m.set(p, v)
    b = batch_rows or (1 if mode == "sgd" else 32)
    epochs = epochs or (1000 if mode == "batch" else 10)
    m.set(MAX_EPOCHS, epochs)
    m.set(BATCH_ROWS, b if mode in ("sgd", "stream") else 0)
    if mode in ("batch", "sgd"):
        m.fit(X, y)
    elif mode == "stream":
        m.stream_passes(X, y, b, STREAM_STEP, epochs)
    else:
        m.stream_passes(X, y, b, STREAM_EXACT, 1)
    return m


objective = numref.objective


def predictions(loss, X, w):
    d = X.shape[1]
    W = w.reshape(-1, d + 1)
    Z = X @ W[:, :-1].T + W[:, -1]
    if loss == SQUARED:
        return Z[:, 0]
    if loss == LOGISTIC:
        return 1 / (1 + np.exp(-Z[:, 0]))
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return (E / E.sum(axis=1, keepdims=True)).ravel()


def eval_values(text):
    vals = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                vals[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return vals


def same_bits(a, b):
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def datasets():
    Xd, yd = load_csv("diabetes.csv")
    yb = (yd > 140).astype(float)
    binary = os.path.join(tmp, "diabetes_binary.csv")
    write_csv(binary, Xd, yb)
    Xi, yi = load_csv("iris.csv")
    return [("diabetes", SQUARED, 0, os.path.join(DATA, "diabetes.csv"), Xd, yd),
            ("diabetes>140", LOGISTIC, 2, binary, Xd, yb),
            ("iris", SOFTMAX, 3, os.path.join(DATA, "iris.csv"), Xi, yi)]


# ---------------------------------------------------------------- groups

def group_fit():
    """fit -> predict -> eval for each loss and mode, against the library and numpy."""
    l2 = 1e-3
    for name, loss, classes, path, X, y in datasets():
        modes = [("batch", []), ("sgd", []), ("sgd", ["--batch-rows", "8"]),
                 ("stream", ["--batch-rows", "16"])]
        if loss == SQUARED:
            modes.append(("exact", []))
        for mode, extra in modes:
            label = "%s %s %s%s" % (name, LOSS_NAMES[loss], mode, " ".join([""] + extra))
            model = os.path.join(tmp, "model")
            trace = os.path.join(tmp, "trace.csv")
            must(["fit", "--loss", LOSS_NAMES[loss], "--mode", mode, "--l2", repr(l2),
                  "--trace", trace] + extra + [path, "-o", model])
            b = int(extra[1]) if extra else None
            ref = reference(loss, X, y, classes, mode, l2, batch_rows=b)
            cli = Model.load(model)
            w_ref, w_cli = ref.weights(), cli.weights()
            check(label + ": weights = library's, bit for bit", same_bits(w_ref, w_cli),
                  "max diff %.3g" % np.max(np.abs(w_ref - w_cli)))
            check(label + ": statistics = library's",
                  all(cli.get(p) == ref.get(p) for p in (STAT_STEPS, STAT_ROWS, STAT_LOSS)))
            pred = np.array([float(v) for v in
                             must(["predict", model, path]).replace("\n", ",").split(",") if v])
            check(label + ": predict = library's predict, bit for bit",
                  same_bits(pred, ref.predict(X)))
            check(label + ": predict = probabilities from the weights (1e-12)",
                  np.allclose(pred, predictions(loss, X, w_cli), rtol=1e-12, atol=1e-14))
            ev = eval_values(must(["eval", model, path]))
            f = objective(loss, X, y, w_cli, l2)
            check(label + ": eval objective within 1e-9 of numpy's",
                  abs(ev["objective"] - f) <= 1e-9 * max(1.0, abs(f)),
                  "%.17g vs %.17g" % (ev["objective"], f))
            if loss == SQUARED:
                p = pred
                r2 = 1 - np.sum((p - y) ** 2) / np.sum((y - y.mean()) ** 2)
                check(label + ": eval r2 = numpy's", abs(ev["r2"] - r2) <= 1e-12)
            else:
                lab = (pred > 0.5).astype(float) if loss == LOGISTIC else \
                    pred.reshape(len(y), -1).argmax(axis=1)
                check(label + ": eval accuracy = numpy's",
                      ev["accuracy"] == np.mean(lab == y))
            rows = [line.split(",") for line in open(trace).read().splitlines()[1:]]
            ends = [r for r in rows if r[4] != ""]
            check(label + ": trace has the objective at every pass end",
                  len(ends) == (cli.get(STAT_EPOCHS) if mode in ("batch", "sgd")
                                else (10 if mode == "stream" else 1)),
                  "%d records with it" % len(ends))
            check(label + ": trace's last objective = eval's (1e-12)",
                  abs(float(ends[-1][4]) - ev["objective"]) <= 1e-12 * abs(ev["objective"]))
            ref.free()
            cli.free()


def group_stdin():
    """`-` streams: same model files as the file, for the stream modes."""
    for name, loss, classes, path, X, y in datasets():
        cases = [["--mode", "stream", "--batch-rows", "16"], ["--mode", "stream"]]
        if loss == SQUARED:
            cases.append(["--mode", "exact"])
        for opts in cases:
            base = ["fit", "--loss", LOSS_NAMES[loss], "--l2", "1e-3"] + opts
            if loss == SOFTMAX:
                base += ["--classes", str(classes)]
            from_file, from_stdin = os.path.join(tmp, "file.model"), os.path.join(tmp, "stdin.model")
            must(base + ["--epochs", "1"] * (opts[1] != "exact") + [path, "-o", from_file])
            with open(path, "rb") as f:
                must(base + ["-", "-o", from_stdin], stdin=f)
            check("%s %s %s: stdin model = file model, byte for byte" % (name, LOSS_NAMES[loss],
                                                                          " ".join(opts)),
                  open(from_file, "rb").read() == open(from_stdin, "rb").read())
    # reading stdin twice is impossible: asking for it is an error, not a silent single pass
    path = os.path.join(DATA, "diabetes.csv")
    with open(path, "rb") as f:
        rc, _, err = run(["fit", "--mode", "stream", "--epochs", "3", "-", "-o",
                          os.path.join(tmp, "x")], stdin=f)
    check("stdin with --epochs 3 is refused", rc == 2 and "--epochs" in err, err.strip())


def rss_kib(args, feed):
    """Runs rill under the maxrss helper with feed() writing its stdin; returns (exit status,
    peak RSS in KiB)."""
    p = subprocess.Popen([MAXRSS, RILL] + args, stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    feed(p.stdin)
    p.stdin.close()
    err = p.stderr.read().decode()
    p.wait()
    if p.returncode:
        print(err)
    last = err.strip().splitlines()[-1].split() if err.strip() else ["", "-1"]
    return p.returncode, int(last[1]) if last[0] == "maxrss_kib" else -1


def group_memory():
    """Streaming stdin runs in constant memory: 16x more rows, the same peak RSS (while
    reading the same rows into memory grows by their size, showing the measure works)."""
    rng = np.random.default_rng(5)
    d = 10
    X = rng.normal(size=(4096, d)) * 3
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=4096)
    block = "".join(",".join("%.6f" % v for v in row) + ",%.6f\n" % t
                    for row, t in zip(X, y)).encode()

    def feed(blocks):
        def f(pipe):
            for _ in range(blocks):
                pipe.write(block)
        return f
    small, large = 5, 80  # 20 480 and 327 680 rows: 28 MB of doubles for the large one
    grow_kib = (large - small) * 4096 * (d + 1) * 8 / 1024
    for mode in (["--mode", "stream", "--batch-rows", "64"], ["--mode", "sgd"],
                 ["--mode", "exact"]):
        args = ["fit", "--l2", "1e-3"] + mode + ["-", "-o", os.path.join(tmp, "mem.model")]
        rc1, r1 = rss_kib(args, feed(small))
        rc2, r2 = rss_kib(args, feed(large))
        check("stdin %s: %d then %d rows, peak RSS %d -> %d KiB (in memory: +%d)"
              % (" ".join(mode), small * 4096, large * 4096, r1, r2, grow_kib),
              rc1 == 0 and rc2 == 0 and r2 - r1 < 0.1 * grow_kib)
    args = ["fit", "--epochs", "1", "-", "-o", os.path.join(tmp, "mem.model")]
    rc1, r1 = rss_kib(args, feed(small))
    rc2, r2 = rss_kib(args, feed(large))
    check("control: batch mode keeps the rows, peak RSS %d -> %d KiB" % (r1, r2),
          rc1 == 0 and rc2 == 0 and r2 - r1 > 0.8 * grow_kib)


def group_libsvm():
    """libsvm input gives the same model as the CSV equivalent (file and stdin)."""
    Xg, yg = load_csv("digits.csv")
    sets = datasets() + [("digits (sparse)", SOFTMAX, 10, os.path.join(DATA, "digits.csv"),
                          Xg, yg)]
    for name, loss, classes, path, X, y in sets:
        svm = os.path.join(tmp, "data.svm")
        write_libsvm(svm, X, y)
        opts = ["fit", "--loss", LOSS_NAMES[loss], "--l2", "1e-3", "--epochs", "30"]
        a, b, c = (os.path.join(tmp, n) for n in ("csv.model", "svm.model", "svmstdin.model"))
        must(opts + [path, "-o", a])
        must(opts + [svm, "-o", b])
        check("%s %s: libsvm model = CSV model" % (name, LOSS_NAMES[loss]),
              open(a, "rb").read() == open(b, "rb").read())
        with open(svm, "rb") as f:
            must(opts + ["--format", "libsvm", "--features", str(X.shape[1]),
                         "--mode", "stream", "--epochs", "1"]
                 + ["--classes", str(classes)] * (loss == SOFTMAX) + ["-", "-o", c], stdin=f)
        must(opts + ["--mode", "stream", "--epochs", "1", path, "-o", a])
        check("%s %s: libsvm on stdin (stream) = CSV file" % (name, LOSS_NAMES[loss]),
              open(a, "rb").read() == open(c, "rb").read())
        ev_csv = must(["eval", a, path])
        ev_svm = must(["eval", c, svm])
        check("%s: eval on libsvm = eval on CSV" % name, ev_csv == ev_svm)
        if loss == LOGISTIC:  # -1/+1 labels, as libsvm's binary files have them
            pm = os.path.join(tmp, "pm.svm")
            write_libsvm(pm, X, y, labels=["+1" if t else "-1" for t in y])
            must(opts + [pm, "-o", c])
            must(opts + [path, "-o", a])
            check("logistic: libsvm -1/+1 labels = CSV 0/1 labels",
                  open(a, "rb").read() == open(c, "rb").read())


def expect_failure(label, args, where, stdin_bytes=None, status=1):
    """The command fails, names the place, and leaves -o as it was (absent, or old content)."""
    out = os.path.join(tmp, "errors", "out.model")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    for f in os.listdir(os.path.dirname(out)):
        os.remove(os.path.join(os.path.dirname(out), f))
    for old in (None, b"old model bytes"):
        if old is not None:
            with open(out, "wb") as f:
                f.write(old)
        rc, _, err = run([a if a != "OUT" else out for a in args], input_bytes=stdin_bytes)
        left = os.listdir(os.path.dirname(out))
        kept = (open(out, "rb").read() == old) if old is not None else not os.path.exists(out)
        check("%s (%s): exit %d, message names %s" % (label, "old -o" if old else "no -o", rc,
                                                      where),
              rc == status and where in err, err.strip())
        check("%s (%s): no model written, no temporary left" % (label, "old -o" if old else
                                                               "no -o"),
              kept and left == (["out.model"] if old else []), "%s" % left)


def group_errors():
    d = os.path.join(tmp, "inputs")
    os.makedirs(d)

    def data(name, text):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    good = "a,b,y\n" + "".join("%d,%d.5,%d\n" % (i, i % 7, i % 2) for i in range(300))
    lines = good.splitlines(True)
    cases = [
        ("malformed cell", "malformed.csv", lines[:5] + ["1,x2,0\n"] + lines[5:], [], ":6:3:"),
        ("ragged line (short)", "short.csv", lines[:7] + ["1,2\n"] + lines[7:], [], ":8:4:"),
        ("ragged line (long)", "long.csv", lines[:7] + ["1,2,0,4\n"] + lines[7:], [], ":8:7:"),
        ("NaN", "nan.csv", lines[:9] + ["1,nan,0\n"] + lines[9:], [], ":10:3:"),
        ("Inf", "inf.csv", lines[:9] + ["-inf,1,0\n"] + lines[9:], [], ":10:1:"),
        ("bad logistic label", "label.csv", lines[:3] + ["1,2,2\n"] + lines[3:],
         ["--loss", "logistic"], ":4:5:"),
        ("non-numeric label", "labeltxt.csv", lines[:3] + ["1,2,yes\n"] + lines[3:],
         ["--loss", "logistic"], ":4:5:"),
        ("softmax label beyond --classes", "classes.csv", lines[:3] + ["1,2,3\n"] + lines[3:],
         ["--loss", "softmax", "--classes", "3"], ":4:5:"),
        ("softmax label not an integer", "frac.csv", lines[:3] + ["1,2,1.5\n"] + lines[3:],
         ["--loss", "softmax"], ":4:5:"),
        ("late error in a stream (after micro-batches were applied)", "late.csv",
         lines + ["1,2\n"], ["--mode", "stream", "--batch-rows", "4"], ":302:4:"),
    ]
    for label, name, text, opts, where in cases:
        p = data(name, "".join(text))
        expect_failure(label, ["fit"] + opts + [p, "-o", "OUT"], name + where)
    p = data("stdin.csv", "".join(lines[:4] + ["1,x,0\n"]))
    expect_failure("malformed line on stdin", ["fit", "--mode", "stream", "-", "-o", "OUT"],
                   "<stdin>:5:3:", stdin_bytes=open(p, "rb").read())
    svm = data("bad.svm", "1 1:2 2:3\n0 1:1 x:2\n")
    expect_failure("libsvm bad field", ["fit", svm, "-o", "OUT"], "bad.svm:2:7:")
    svm = data("zero.svm", "1 1:2 2:3\n0 0:1\n")
    expect_failure("libsvm index 0", ["fit", svm, "-o", "OUT"], "zero.svm:2:3:")
    svm = data("nan.svm", "1 1:2 2:3\n0 1:nan\n")
    expect_failure("libsvm NaN", ["fit", svm, "-o", "OUT"], "nan.svm:2:3:")
    p = data("ok.csv", good)
    expect_failure("unknown label column", ["fit", "--label", "zz", p, "-o", "OUT"],
                   "ok.csv:1: no column named 'zz'")
    expect_failure("label column out of range", ["fit", "--label", "9", p, "-o", "OUT"],
                   "ok.csv:1: label column 9")
    expect_failure("missing file", ["fit", os.path.join(d, "nope.csv"), "-o", "OUT"],
                   "nope.csv: No such file")
    expect_failure("unknown option", ["fit", "--nope", "1", p, "-o", "OUT"],
                   "unknown option --nope", status=2)
    expect_failure("bad option value", ["fit", "--l2", "1,5", p, "-o", "OUT"],
                   "bad value '1,5' for --l2", status=2)
    expect_failure("bad mode", ["fit", "--mode", "fast", p, "-o", "OUT"],
                   "bad value 'fast' for --mode", status=2)
    expect_failure("option without its value", ["fit", p, "-o", "OUT", "--epochs"],
                   "--epochs needs a value", status=2)
    expect_failure("exact mode with logistic", ["fit", "--mode", "exact", "--loss", "logistic",
                                                p, "-o", "OUT"], "exact mode", status=2)
    # predict and eval name the place too
    model = os.path.join(tmp, "ok.model")
    must(["fit", "--loss", "logistic", p, "-o", model])
    bad = data("evalbad.csv", "".join(lines[:3] + ["1,2,7\n"]))
    rc, _, err = run(["eval", model, bad])
    check("eval: bad label names file, line and column", rc == 1 and "evalbad.csv:4:5:" in err,
          err.strip())
    rc, out, err = run(["predict", model, bad])
    check("predict ignores the label column", rc == 0 and len(out.splitlines()) == 3, err)
    rc, _, err = run(["predict", model, data("predbad.csv", "a,b\n1,2\n1,z\n")])
    check("predict: malformed cell names file, line and column",
          rc == 1 and "predbad.csv:3:3:" in err, err.strip())
    # one column: a one-feature model's data without labels for predict; fit needs a label
    one = data("one.csv", "x\n" + "".join("%d\n" % (i % 5) for i in range(40)))
    onel = data("onel.csv", "x,y\n" + "".join("%d,%d\n" % (i % 5, i % 5 > 2) for i in range(40)))
    model1 = os.path.join(tmp, "one.model")
    must(["fit", "--loss", "logistic", onel, "-o", model1])
    rc, out, err = run(["predict", model1, one])
    check("predict: one-feature model on data without a label column",
          rc == 0 and len(out.splitlines()) == 40, err.strip())
    expect_failure("fit on one column", ["fit", one, "-o", "OUT"],
                   "one.csv: need at least one feature and a label")
    # option values far out of range: refused before any conversion (UBSan checks the cast)
    for opt in ("--features", "--classes", "--batch-rows"):
        for v in ("1e300", "-3"):
            expect_failure("%s %s" % (opt, v), ["fit", opt, v, p, "-o", "OUT"],
                           "bad value '%s' for %s" % (v, opt), status=2)
    # values outside the library's ranges are usage errors too
    for opt, v in (("--threads", "100"), ("--tol", "2"), ("--power-t", "11"), ("--lr", "1e301"),
                   ("--seed", "1e16"), ("--epochs", "1e300")):
        expect_failure("%s %s" % (opt, v), ["fit", opt, v, p, "-o", "OUT"],
                       "bad value '%s' for %s" % (v, opt), status=2)
    # a run that cannot write its trace or its summary writes no model
    expect_failure("trace on a full device", ["fit", "--trace", "/dev/full", p, "-o", "OUT"],
                   "/dev/full: write error")
    out = os.path.join(tmp, "errors", "kept.model")
    must(["fit", p, "-o", out])
    before = open(out, "rb").read()
    with open("/dev/full", "w") as full:
        q = subprocess.run([RILL, "fit", "--l2", "7", p, "-o", out], stdout=full,
                           stderr=subprocess.PIPE)
    check("standard output full: exit 1, the old model kept",
          q.returncode == 1 and open(out, "rb").read() == before, q.stderr.decode().strip())
    for what in ("--help", "--version"):
        with open("/dev/full", "w") as full:
            q = subprocess.run([RILL, what], stdout=full, stderr=subprocess.PIPE)
        check("%s on a full device: exit 1" % what, q.returncode == 1, q.stderr.decode().strip())
    # libsvm read twice to count its features: a pipe cannot be, and says so
    svm = data("pipe.svm", "1 1:2 2:3\n0 1:1 2:0.5\n")
    rc, _, err = run(["fit", "--format", "libsvm", "/dev/stdin", "-o", out],
                     input_bytes=open(svm, "rb").read())
    check("libsvm from a pipe without --features: says so", rc == 1 and "--features" in err,
          err.strip())
    rc, _, err = run(["eval", os.path.join(d, "nomodel"), p])
    check("eval: missing model file named", rc == 1 and "nomodel" in err, err.strip())
    rc, _, err = run(["info", p])
    check("info: a CSV is not a model", rc == 1 and "not a rill model" in err, err.strip())


def group_output():
    """-o MODEL: a regular file is replaced whole with a new file's mode (0666 less the umask)
    or its old one; a symbolic link is followed; a pipe or device is written in place."""
    d = os.path.join(tmp, "output")
    os.makedirs(d)
    p = os.path.join(DATA, "iris.csv")
    ref = os.path.join(d, "ref.model")
    must(["fit", "--loss", "softmax", p, "-o", ref])
    want = open(ref, "rb").read()
    old = os.umask(0o022)
    try:
        new = os.path.join(d, "new.model")
        must(["fit", "--loss", "softmax", p, "-o", new])
        check("a new model file: mode 0644 under umask 022",
              os.stat(new).st_mode & 0o777 == 0o644, oct(os.stat(new).st_mode))
        os.chmod(new, 0o640)
        must(["fit", "--loss", "softmax", p, "-o", new])
        check("a replaced model file keeps its mode (0640)",
              os.stat(new).st_mode & 0o777 == 0o640 and open(new, "rb").read() == want,
              oct(os.stat(new).st_mode))
    finally:
        os.umask(old)
    link = os.path.join(d, "link.model")
    os.makedirs(os.path.join(d, "sub"))
    os.symlink("sub/../target.model", link)  # dangling until the first fit, relative
    for i in range(2):
        must(["fit", "--loss", "softmax", p, "-o", link])
        check("-o through a symbolic link (%s target): the link kept, its target written" %
              ("a new" if i == 0 else "an existing"),
              os.path.islink(link) and open(os.path.join(d, "target.model"), "rb").read() == want)
    os.rmdir(os.path.join(d, "sub"))
    loop = os.path.join(d, "loop1")
    os.symlink("loop2", loop)
    os.symlink("loop1", os.path.join(d, "loop2"))
    rc, _, err = run(["fit", "--loss", "softmax", p, "-o", loop])
    check("-o a loop of links: exit 1, says so", rc == 1 and "symbolic links" in err, err.strip())
    os.remove(loop)
    os.remove(os.path.join(d, "loop2"))
    # -o the file standard output goes to: written there in place, the summary on stderr
    log = os.path.join(d, "log.txt")
    with open(log, "wb") as f:
        f.write(b"old log\n")
    with open(log, "ab") as f:
        q = subprocess.run([RILL, "fit", "--loss", "softmax", p, "-o", "/dev/stdout"], stdout=f,
                           stderr=subprocess.PIPE)
    check("-o /dev/stdout appended to a file: the file kept, the model after it, the summary "
          "on stderr", q.returncode == 0 and open(log, "rb").read() == b"old log\n" + want and
          b"mode=batch" in q.stderr, q.stderr.decode().strip())
    os.remove(log)
    q = subprocess.run([RILL, "fit", "--loss", "softmax", p, "-o", "/dev/stdout"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check("-o /dev/stdout into a pipe: the model alone", q.returncode == 0 and q.stdout == want)
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE)
    rc, _, err = run(["fit", "--loss", "softmax", p, "-o", fifo])
    got = reader.communicate()[0]
    check("-o a named pipe: written in place, the pipe kept",
          rc == 0 and got == want and not os.path.isfile(fifo) and
          sorted(os.listdir(d)) == ["fifo", "link.model", "new.model", "ref.model",
                                    "target.model"], err.strip())
    # predict reads libsvm rows with or without their labels
    svm = os.path.join(d, "a.svm")
    with open(svm, "w") as f:
        f.write("1 1:1 2:2\n0 1:2 2:0.5\n1 1:3 2:3\n0 1:0.2 2:0.1\n1 2:5\n")
    m = os.path.join(d, "svm.model")
    must(["fit", "--loss", "logistic", "--l2", "0.1", svm, "-o", m])
    nolab = os.path.join(d, "nolabel.svm")
    with open(nolab, "w") as f:
        f.write("1:1 2:2\n1:3 2:3\n2:5\n")
    lab = os.path.join(d, "label.svm")
    with open(lab, "w") as f:
        f.write("1 1:1 2:2\n0 1:3 2:3\n1 2:5\n")
    a = must(["predict", "--format", "libsvm", m, nolab])
    b = must(["predict", "--format", "libsvm", m, lab])
    check("predict: libsvm rows without labels = with labels", a == b and len(a.splitlines()) == 3,
          "%r vs %r" % (a, b))


def group_resume():
    """N epochs, save, --resume for M more = N + M in one run (weights, statistics and the
    optimizer's state: one more resumed epoch from each still agrees)."""
    Xd, yd = load_csv("diabetes.csv")
    cases = [("iris.csv", "softmax", "batch", []), ("iris.csv", "softmax", "sgd", ["--average", "1"]),
             ("iris.csv", "softmax", "stream", ["--batch-rows", "8"]),
             ("diabetes.csv", "squared", "batch", []),
             ("diabetes.csv", "squared", "sgd", ["--batch-rows", "4", "--schedule", "adagrad"])]
    for data_name, loss, mode, extra in cases:
        path = os.path.join(DATA, data_name)
        opts = ["fit", "--loss", loss, "--mode", mode, "--tol", "0", "--l2", "1e-3",
                "--seed", "3"] + extra
        full, part, resumed = (os.path.join(tmp, n) for n in ("full", "part", "resumed"))
        must(opts + ["--epochs", "12", path, "-o", full])
        must(opts + ["--epochs", "5", path, "-o", part])
        must(["fit", "--mode", mode, "--epochs", "7", "--resume", part, path, "-o", resumed])
        a, b = Model.load(full), Model.load(resumed)
        label = "%s %s %s: 5 + 7 epochs resumed = 12" % (data_name, loss, mode)
        check(label + ", weights bit for bit", same_bits(a.weights(), b.weights()))
        check(label + ", statistics", all(a.get(p) == b.get(p) for p in
                                          (STAT_STEPS, STAT_ROWS, STAT_LOSS, L2, SEED, AVERAGE,
                                           STAT_PROGRESSIVE_LOSS)))
        a.free()
        b.free()
        for m in (full, resumed):  # the saved optimizer state continues the same way
            must(["fit", "--mode", mode, "--epochs", "2", "--resume", m, path, "-o", m])
        a, b = Model.load(full), Model.load(resumed)
        check(label + ", then 2 more from each agree", same_bits(a.weights(), b.weights()))
        a.free()
        b.free()
    path = os.path.join(DATA, "diabetes.csv")
    model = os.path.join(tmp, "d.model")
    must(["fit", "--epochs", "3", path, "-o", model])
    expect_failure("resume on data with other features",
                   ["fit", "--resume", model, os.path.join(DATA, "iris.csv"), "-o", "OUT"],
                   "has 4 features")
    expect_failure("resume with another loss", ["fit", "--resume", model, "--loss", "logistic",
                                                path, "-o", "OUT"], "--loss", status=2)
    expect_failure("resume in exact mode", ["fit", "--resume", model, "--mode", "exact", path,
                                            "-o", "OUT"], "exact", status=2)
    expect_failure("resume from a missing model", ["fit", "--resume", model + ".nope", path,
                                                   "-o", "OUT"], "d.model.nope")


def comma_locale():
    """A locale whose decimal point is ',': an installed one, or one generated with localedef
    into a temporary LOCPATH. Returns (environment, name) or None."""
    probe = "import locale; locale.setlocale(locale.LC_ALL, ''); " \
            "print(locale.localeconv()['decimal_point'])"

    def works(env):
        p = subprocess.run([sys.executable, "-c", probe], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        return p.returncode == 0 and p.stdout.decode().strip() == ","
    names = subprocess.run(["locale", "-a"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           ).stdout.decode().split() if shutil.which("locale") else []
    for name in [n for n in names if n.startswith(("de_", "fr_", "es_", "it_", "ru_", "nl_"))]:
        env = dict(os.environ, LC_ALL=name)
        if works(env):
            return env, name
    if shutil.which("localedef"):
        locpath = os.path.join(tmp, "locales")
        os.makedirs(locpath)
        for src in ("de_DE", "fr_FR"):
            name = src + ".UTF-8"
            if subprocess.run(["localedef", "-i", src, "-f", "UTF-8",
                               os.path.join(locpath, name)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                env = dict(os.environ, LOCPATH=locpath, LC_ALL=name)
                if works(env):
                    return env, name
    return None


def group_locale():
    """Under a comma-decimal locale the command reads and writes exactly what it does in C."""
    found = comma_locale()
    if not found:
        print("skipping: no comma-decimal locale installed and none could be generated")
        sys.exit(77)
    env, name = found
    c_env = dict(os.environ, LC_ALL="C")
    print("locale %s%s" % (name, " (generated)" if "LOCPATH" in env else ""))
    iris = os.path.join(DATA, "iris.csv")
    diabetes = os.path.join(DATA, "diabetes.csv")
    for path, opts in ((iris, ["--loss", "softmax", "--l2", "0.001", "--tol", "1e-9"]),
                       (diabetes, ["--l2", "1.5e-3", "--mode", "sgd", "--lr", "0.5e-5"])):
        outs = {}
        for tag, e in (("C", c_env), (name, env)):
            model = os.path.join(tmp, "%s.model" % tag)
            trace = os.path.join(tmp, "%s.trace" % tag)
            fit = must(["fit"] + opts + ["--trace", trace, path, "-o", model], env=e)
            outs[tag] = (fit.split(" seconds=")[0], open(model, "rb").read(),
                         open(trace).read(), must(["predict", model, path], env=e),
                         must(["eval", model, path], env=e), must(["info", model], env=e)
                         .split("\n", 1)[1])
        same = [a == b for a, b in zip(outs["C"], outs[name])]
        check("%s under %s: fit, model, trace, predict, eval, info = C locale's"
              % (os.path.basename(path), name), all(same), str(same))
        numbers = [line.split()[1] for line in outs[name][4].splitlines()
                   if len(line.split()) == 2]
        check("%s: eval writes '.' decimals" % os.path.basename(path),
              numbers and all("," not in v for v in numbers) and any("." in v for v in numbers),
              " ".join(numbers))
    p = os.path.join(tmp, "semi.csv")
    with open(p, "w") as f:
        f.write("a;b;y\n" + "".join("%d.25;%d.5;%d.75\n" % (i, i % 5, i % 3) for i in range(40)))
    a, b = os.path.join(tmp, "semi.C"), os.path.join(tmp, "semi.L")
    must(["fit", "--delimiter", ";", "--l2", "0.5", p, "-o", a], env=c_env)
    must(["fit", "--delimiter", ";", "--l2", "0.5", p, "-o", b], env=env)
    check("';'-delimited file with '.' decimals reads the same under %s" % name,
          open(a, "rb").read() == open(b, "rb").read())
    rc, _, err = run(["fit", "--l2", "0,5", p, "-o", b], env=env)
    check("'0,5' is not a number under %s either" % name, rc == 2 and "0,5" in err, err.strip())
    if NUMBERS_TEST:
        p = subprocess.run([NUMBERS_TEST], env=dict(env, RILL_TEST_LOCALE=name),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        print(p.stdout.decode())
        check("reader and printer unit check under %s" % name,
              p.returncode == 0 and "comma locale checks passed" in p.stdout.decode())


def group_kat():
    """The committed known-answer models (format versions 1 and 2) through the command:
    weights and predictions worked out by hand from the documented weights."""
    for name in ("model_v1.blob", "model_v2.blob"):
        kat_one(os.path.join(KAT_DIR, name))


def kat_one(blob):
    kat_w = np.array([0.5, -0.25, 1.0, 0.125, -0.75, 0.5, 0.25, -0.5, 0.0, 1.5, -1.25, 0.375])
    info = must(["info", blob])
    w = np.array([float(v) for v in info.split("weights", 1)[1].split()])
    check(os.path.basename(blob) + ": rill info: the known-answer weights", same_bits(w, kat_w))
    fields = dict(line.split(" ", 1) for line in info.splitlines()[1:] if " " in line)
    check("rill info: loss softmax, 3 features, 3 classes",
          (fields["loss"], fields["n_features"], fields["n_classes"]) == ("3", "3", "3"))
    X = np.array([[1, 2, 3], [-1, 0.5, 2], [0, 0, 0], [2, -1, 0.5], [-2, 0, 1]], dtype=float)
    p = os.path.join(tmp, "kat.csv")
    with open(p, "w") as f:
        f.write("".join("%r,%r,%r\n" % tuple(r) for r in X))
    got = np.array([[float(v) for v in line.split(",")]
                    for line in must(["predict", blob, p]).splitlines()])
    scores = np.array([[3.125, 0.5, -0.375], [1.5, 1.0, -1.375], [0.125, -0.5, 0.375],
                       [1.875, -2.375, -1.75], [0.125, 1.25, -0.875]])  # by hand, exact
    E = np.exp(scores - scores.max(axis=1, keepdims=True))
    want = E / E.sum(axis=1, keepdims=True)
    check("rill predict on the known-answer model = hand-computed softmax (1e-15)",
          np.allclose(got, want, rtol=1e-15, atol=0), "max diff %.3g" % np.max(np.abs(got - want)))


groups = {"output": group_output, "fit": group_fit, "stdin": group_stdin, "memory": group_memory,
          "libsvm": group_libsvm, "errors": group_errors, "resume": group_resume,
          "locale": group_locale, "kat": group_kat}
try:
    groups[GROUP]()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("%d checks, %d failed" % (checks, failures))
sys.exit(1 if failures or checks == 0 else 0)
