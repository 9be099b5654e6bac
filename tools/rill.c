/*
 * rill — train and use linear models from the command line.
 *
 *   rill fit [options] DATA -o MODEL
 *   rill predict MODEL DATA
 *   rill eval MODEL DATA
 *   rill info MODEL
 *
 * DATA is a CSV or libsvm file, or - for stdin (streamed through the micro-batch splitter in
 * constant memory in the sgd, stream and exact modes). See docs/rill.1 or `rill --help`.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rill.h>

#include "reader.h"

#define CHUNK_ROWS 256

static const char usage[] =
    "usage: rill fit [options] DATA -o MODEL   train a model\n"
    "       rill predict MODEL DATA             predictions to stdout, one row per line\n"
    "       rill eval MODEL DATA                RMSE and R^2, or accuracy, log-loss, confusion\n"
    "       rill info MODEL                     the model's configuration and statistics\n"
    "DATA: a CSV file (header detected, label last by default) or libsvm file; - reads stdin.\n"
    "input options:\n"
    "  --format csv|libsvm     default: libsvm for .svm/.libsvm files, else csv\n"
    "  --delimiter C           CSV cell delimiter (default ,)\n"
    "  --label NAME|INDEX      CSV label column (default: the last)\n"
    "  --features N            libsvm feature count (needed for stdin)\n"
    "fit options:\n"
    "  --loss squared|logistic|softmax   (default squared)\n"
    "  --classes K             softmax classes (default: largest label + 1; needed for stdin)\n"
    "  --mode batch|sgd|stream|exact     batch-fit (default), shuffled SGD epochs, micro-batch\n"
    "                          STEP stream, or exact least squares in one pass\n"
    "  --batch-rows N          rows per SGD step / micro-batch (sgd 1, stream 32)\n"
    "  --l2 X  --l1 X          penalties (default 0)\n"
    "  --lr X                  SGD learning rate eta0 (default 0 = automatic)\n"
    "  --schedule constant|invscaling|optimal|adagrad\n"
    "  --power-t X             inverse-scaling exponent (default 0.25)\n"
    "  --average N             averaged SGD from row N (0 = off)\n"
    "  --epochs N              epochs (batch default 1000, sgd/stream default 10)\n"
    "  --tol X                 stopping tolerance (default 1e-8)\n"
    "  --seed N                shuffling seed\n"
    "  --trace FILE            write loss per epoch or micro-batch as CSV\n"
    "  -o MODEL                output model file (written to a temporary file, then renamed)\n";

struct options {
    int format;
    char delimiter;
    const char *label;
    size_t features;
    int loss;
    size_t classes;
    const char *mode;
    size_t batch_rows;
    double l2, l1, lr, power_t, tol;
    int schedule;
    double average, epochs, seed;
    const char *trace;
    const char *out;
    const char *args[2];
    int n_args;
};

struct progress {
    FILE *trace;
    int tty;
    double t0, last_print, rows0;
    unsigned long calls;
};

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "rill: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

static int rill_fail(int rc, const rill_model *m, const char *what)
{
    fprintf(stderr, "rill: %s: %s", what, rill_strerror(rc));
    if (m && *rill_model_error(m))
        fprintf(stderr, " (%s)", rill_model_error(m));
    fputc('\n', stderr);
    return 1;
}

static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && *end == '\0' && errno == 0 && isfinite(*v) ? 0 : -1;
}

static int pick(const char *s, const char *const *names, int first)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return first + i;
    return -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const char *const losses[] = {"squared", "logistic", "softmax", NULL};
    static const char *const schedules[] = {"constant", "invscaling", "optimal", "adagrad", NULL};
    static const char *const formats[] = {"csv", "libsvm", NULL};
    memset(o, 0, sizeof *o);
    o->format = -1;
    o->loss = RILL_SQUARED;
    o->mode = "batch";
    o->power_t = 0.25;
    o->tol = 1e-8;
    o->epochs = -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x = 0.0;
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->n_args == 2)
                return die("unexpected argument '%s'%s", a, "");
            o->args[o->n_args++] = a;
            continue;
        }
        if (!v)
            return die("option %s needs a value%s", a, "");
        i++;
        int bad = 0;
        if (strcmp(a, "--format") == 0)
            bad = (o->format = pick(v, formats, 0)) < 0;
        else if (strcmp(a, "--delimiter") == 0)
            bad = strlen(v) != 1 || (o->delimiter = v[0]) == 0;
        else if (strcmp(a, "--label") == 0)
            o->label = v;
        else if (strcmp(a, "--loss") == 0)
            bad = (o->loss = pick(v, losses, RILL_SQUARED)) < 0;
        else if (strcmp(a, "--schedule") == 0)
            bad = (o->schedule = pick(v, schedules, RILL_SCHEDULE_CONSTANT)) < 0;
        else if (strcmp(a, "--mode") == 0)
            bad = (o->mode = v, strcmp(v, "batch") && strcmp(v, "sgd") && strcmp(v, "stream") &&
                                    strcmp(v, "exact"));
        else if (strcmp(a, "--trace") == 0)
            o->trace = v;
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
            o->out = v;
        else if (parse_double(v, &x))
            bad = 1;
        else if (strcmp(a, "--features") == 0)
            bad = (o->features = (size_t)x, x < 1 || x != floor(x));
        else if (strcmp(a, "--classes") == 0)
            bad = (o->classes = (size_t)x, x < 2 || x != floor(x));
        else if (strcmp(a, "--batch-rows") == 0)
            bad = (o->batch_rows = (size_t)x, x < 1 || x != floor(x));
        else if (strcmp(a, "--l2") == 0)
            o->l2 = x;
        else if (strcmp(a, "--l1") == 0)
            o->l1 = x;
        else if (strcmp(a, "--lr") == 0)
            o->lr = x;
        else if (strcmp(a, "--power-t") == 0)
            o->power_t = x;
        else if (strcmp(a, "--average") == 0)
            o->average = x;
        else if (strcmp(a, "--epochs") == 0)
            bad = (o->epochs = x, x < 1 || x != floor(x));
        else if (strcmp(a, "--tol") == 0)
            o->tol = x;
        else if (strcmp(a, "--seed") == 0)
            o->seed = x;
        else
            return die("unknown option %s%s", a, "");
        if (bad)
            return die("bad value '%s' for %s", v, a);
    }
    return 0;
}

static int open_data(struct reader *r, const struct options *o, const char *path)
{
    int format = o->format;
    if (format < 0) {
        const char *dot = strrchr(path, '.');
        format = dot && (strcmp(dot, ".svm") == 0 || strcmp(dot, ".libsvm") == 0) ? FORMAT_LIBSVM
                                                                                 : FORMAT_CSV;
    }
    if (reader_open(r, path, format, o->delimiter, o->label, o->features)) {
        fprintf(stderr, "rill: %s\n", r->err);
        reader_close(r);
        return -1;
    }
    return 0;
}

/* Reads every row into memory (batch-fit, sgd epochs over a file, eval, predict). */
static int read_all(struct reader *r, double **X, double **y, size_t *n)
{
    size_t cap = 1024, d = r->n_features;
    *n = 0;
    *X = malloc(cap * d * sizeof(double));
    *y = malloc(cap * sizeof(double));
    for (;;) {
        if (!*X || !*y)
            return die("out of memory reading %s%s", r->path, "");
        if (*n == cap) {
            cap *= 2;
            double *nx = realloc(*X, cap * d * sizeof(double)), *ny = NULL;
            if (nx)
                *X = nx;
            ny = nx ? realloc(*y, cap * sizeof(double)) : NULL;
            if (ny)
                *y = ny;
            if (!nx || !ny)
                return die("out of memory reading %s%s", r->path, "");
        }
        long got = reader_rows(r, *X + *n * d, *y + *n, cap - *n);
        if (got < 0)
            return die("%s%s", r->err, "");
        if (got == 0)
            break;
        *n += (size_t)got;
    }
    if (*n == 0)
        return die("%s: no data rows%s", r->path, "");
    return 0;
}

static int on_progress(void *user, const rill_model *m)
{
    struct progress *p = user;
    double loss = 0.0, rows = 0.0, epochs = 0.0;
    rill_model_get(m, RILL_STAT_LOSS, &loss);
    rill_model_get(m, RILL_STAT_ROWS, &rows);
    rill_model_get(m, RILL_STAT_EPOCHS, &epochs);
    p->calls++;
    if (p->trace)
        fprintf(p->trace, "%lu,%.17g,%.17g,%.17g\n", p->calls, epochs, rows, loss);
    double t = wall();
    if (p->tty && t - p->last_print > 0.1) {
        double rate = (rows - p->rows0) / (t - p->t0 > 0 ? t - p->t0 : 1e-9);
        fprintf(stderr, "\r%lu updates  %.0f rows  %.3g rows/s  loss %.6g   ", p->calls, rows,
                rate, loss);
        p->last_print = t;
    }
    return 0;
}

/* Writes the model to a temporary file beside path, then renames it over path. */
static int save_model(const rill_model *m, const char *path)
{
    size_t size = 0;
    int rc = rill_model_save(m, NULL, 0, &size);
    if (rc)
        return rill_fail(rc, m, "saving the model");
    void *buf = malloc(size);
    if (!buf)
        return die("out of memory saving %s%s", path, "");
    rc = rill_model_save(m, buf, size, &size);
    if (rc) {
        free(buf);
        return rill_fail(rc, m, "saving the model");
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        free(buf);
        return die("out of memory saving %s%s", path, "");
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp), ok = fd >= 0;
    FILE *f = ok ? fdopen(fd, "wb") : NULL;
    ok = f && fwrite(buf, 1, size, f) == size;
    ok = (f ? fclose(f) == 0 : 0) && ok;
    if (!f && fd >= 0)
        close(fd);
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        int e = errno;
        if (fd >= 0)
            remove(tmp);
        fprintf(stderr, "rill: cannot write %s: %s\n", path, strerror(e));
    }
    free(tmp);
    free(buf);
    return ok ? 0 : 1;
}

static int load_model(const char *path, rill_model **m)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return die("%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *b = realloc(buf, cap * 2);
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    int read_error = ferror(f);
    fclose(f);
    if (!buf || read_error) {
        free(buf);
        return die("%s: cannot read%s", path, "");
    }
    int rc = rill_model_load(m, buf, n);
    free(buf);
    if (rc) {
        fprintf(stderr, "rill: %s: %s\n", path, rill_strerror(rc));
        return 1;
    }
    return 0;
}

/* Streams the reader's rows through s in CHUNK_ROWS chunks (constant memory). */
static int stream_rows(struct reader *r, rill_stream *s, rill_model *m, size_t *rows)
{
    size_t d = r->n_features;
    double *X = malloc(CHUNK_ROWS * d * sizeof(double)), *y = malloc(CHUNK_ROWS * sizeof(double));
    int status = 0;
    long got;
    *rows = 0;
    while (X && y && (got = reader_rows(r, X, y, CHUNK_ROWS)) > 0) {
        int rc = rill_stream_push(s, X, y, (size_t)got);
        if (rc) {
            status = rill_fail(rc, m, r->path);
            break;
        }
        *rows += (size_t)got;
    }
    if (!X || !y)
        status = die("out of memory%s%s", "", "");
    else if (status == 0 && got < 0)
        status = die("%s%s", r->err, "");
    free(X);
    free(y);
    return status;
}

static size_t infer_classes(const double *y, size_t n)
{
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = y[i] > mx ? y[i] : mx;
    return mx >= 1.0 && mx < 1e6 ? (size_t)mx + 1 : 2;
}

static int set_params(rill_model *m, const struct options *o, int sgd)
{
    struct {
        int p;
        double v;
    } set[] = {{RILL_L2, o->l2},
               {RILL_L1, o->l1},
               {RILL_LEARNING_RATE, o->lr},
               {RILL_POWER_T, o->power_t},
               {RILL_AVERAGE, o->average},
               {RILL_TOL, o->tol},
               {RILL_SEED, o->seed},
               {RILL_MAX_EPOCHS, o->epochs > 0 ? o->epochs : (sgd ? 10 : 1000)},
               {RILL_SCHEDULE, o->schedule ? o->schedule : RILL_SCHEDULE_INVSCALING}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        int rc = rill_model_set(m, set[i].p, set[i].v);
        if (rc)
            return rill_fail(rc, m, "setting a parameter");
    }
    return 0;
}

static int cmd_fit(const struct options *o)
{
    if (o->n_args != 1 || !o->out)
        return die("fit needs DATA and -o MODEL (see rill --help)%s%s", "", "");
    struct reader r;
    if (open_data(&r, o, o->args[0]))
        return 1;
    const int in_memory = strcmp(o->mode, "batch") == 0 ||
                          (strcmp(o->mode, "sgd") == 0 && strcmp(o->args[0], "-") != 0);
    const int sgd = strcmp(o->mode, "batch") != 0;
    double *X = NULL, *y = NULL;
    size_t n = 0, classes = o->loss == RILL_SQUARED ? 0 : (o->loss == RILL_LOGISTIC ? 2 : o->classes);
    int status = 0;
    if (in_memory && read_all(&r, &X, &y, &n)) {
        status = 1;
        goto out;
    }
    if (o->loss == RILL_SOFTMAX && classes == 0) {
        if (!in_memory) {
            status = die("softmax from a stream needs --classes K%s%s", "", "");
            goto out;
        }
        classes = infer_classes(y, n);
    }
    rill_model *m = NULL;
    int rc = rill_model_new(&m, o->loss, r.n_features, classes);
    if (rc) {
        status = rill_fail(rc, NULL, "creating the model");
        goto out;
    }
    struct progress prog = {NULL, isatty(2), wall(), 0.0, 0.0, 0};
    prog.last_print = prog.t0;
    if (o->trace && !(prog.trace = fopen(o->trace, "w"))) {
        status = die("%s: %s", o->trace, strerror(errno));
        goto free_model;
    }
    if (prog.trace)
        fputs("update,epochs,rows,loss\n", prog.trace);
    rill_model_set_progress(m, on_progress, &prog);
    if ((status = set_params(m, o, sgd)) != 0)
        goto free_model;
    double t0 = wall(), epochs = 0.0;
    if (in_memory) {
        if (sgd && (rc = rill_model_set(m, RILL_BATCH_ROWS, o->batch_rows ? (double)o->batch_rows : 1.0)))
            status = rill_fail(rc, m, "setting a parameter");
        else if ((rc = rill_fit(m, X, y, n)) != 0)
            status = rill_fail(rc, m, o->args[0]);
        rill_model_get(m, RILL_STAT_EPOCHS, &epochs);
    } else {
        int mode = strcmp(o->mode, "exact") == 0 ? RILL_STREAM_EXACT : RILL_STREAM_STEP;
        size_t b = o->batch_rows ? o->batch_rows : (mode == RILL_STREAM_STEP && strcmp(o->mode, "sgd") == 0 ? 1 : 32);
        rill_stream *s = NULL;
        const int passes = r.f == stdin || mode == RILL_STREAM_EXACT
                               ? 1
                               : (int)(o->epochs > 0 ? o->epochs : 10);
        if ((rc = rill_stream_new(&s, m, b, mode)) != 0)
            status = rill_fail(rc, m, "creating the stream");
        for (int p = 0; status == 0 && p < passes; p++) {
            if (p > 0) { /* replay the file from its first data row */
                reader_close(&r);
                if (open_data(&r, o, o->args[0])) {
                    status = 1;
                    break;
                }
            }
            status = stream_rows(&r, s, m, &n);
            if (status == 0 && (rc = rill_stream_flush(s)) != 0)
                status = rill_fail(rc, m, o->args[0]);
            epochs += 1.0;
        }
        rill_stream_free(s);
    }
    if (prog.tty)
        fputc('\n', stderr);
    if (status == 0) {
        double loss = 0.0, rows = 0.0;
        rill_model_get(m, RILL_STAT_LOSS, &loss);
        rill_model_get(m, RILL_STAT_ROWS, &rows);
        printf("mode=%s epochs=%.0f rows=%zu loss=%.10g seconds=%.4f\n", o->mode, epochs, n, loss,
               wall() - t0);
        status = save_model(m, o->out);
    }
    if (prog.trace && fclose(prog.trace) != 0)
        status = die("%s: write error%s", o->trace, "");
free_model:
    rill_model_free(m);
out:
    reader_close(&r);
    free(X);
    free(y);
    return status;
}

/* Loads MODEL and DATA (label column present or not) for predict and eval. */
static int load_for_use(const struct options *o, rill_model **m, double **X, double **y,
                        size_t *n, int need_labels)
{
    struct reader r;
    double d;
    if (o->n_args != 2)
        return die("needs MODEL and DATA%s%s", "", "");
    if (load_model(o->args[0], m))
        return 1;
    rill_model_get(*m, RILL_MODEL_N_FEATURES, &d);
    struct options local = *o;
    local.features = (size_t)d;
    if (open_data(&r, &local, o->args[1]))
        return 1;
    if (r.n_features + 1 == (size_t)d && !need_labels && r.format == FORMAT_CSV) {
        /* no label column: every column is a feature */
        r.n_features = (size_t)d;
        r.no_label = 1;
    }
    int status = 0;
    if (r.n_features != (size_t)d)
        status = fprintf(stderr, "rill: %s has %zu features, the model %.0f\n", o->args[1],
                         r.n_features, d) > 0;
    else
        status = read_all(&r, X, y, n);
    reader_close(&r);
    return status;
}

static int cmd_predict(const struct options *o)
{
    rill_model *m = NULL;
    double *X = NULL, *y = NULL, loss = 0.0, classes = 0.0;
    size_t n = 0;
    int status = load_for_use(o, &m, &X, &y, &n, 0);
    if (status == 0) {
        rill_model_get(m, RILL_MODEL_LOSS, &loss);
        rill_model_get(m, RILL_MODEL_N_CLASSES, &classes);
        size_t k = loss == RILL_SOFTMAX ? (size_t)classes : 1;
        double *out = malloc(n * k * sizeof(double));
        int rc = out ? rill_predict(m, X, n, out) : RILL_ENOMEM;
        if (rc)
            status = rill_fail(rc, m, "predict");
        for (size_t i = 0; status == 0 && i < n; i++)
            for (size_t c = 0; c < k; c++)
                printf("%.17g%c", out[i * k + c], c + 1 == k ? '\n' : ',');
        free(out);
    }
    rill_model_free(m);
    free(X);
    free(y);
    return status;
}

/* The training objective of m on the rows: mean loss + l2/2 ||w||^2 + l1 ||w||_1. */
static double objective(const rill_model *m, const double *X, const double *y, size_t n)
{
    size_t nw = rill_model_n_weights(m);
    double nf = 0.0, l2 = 0.0, l1 = 0.0, loss = 0.0, pen = 0.0;
    double *w = malloc(nw * sizeof(double));
    rill_model *probe = NULL;
    rill_model_get(m, RILL_MODEL_N_FEATURES, &nf);
    rill_model_get(m, RILL_L2, &l2);
    rill_model_get(m, RILL_L1, &l1);
    /* rill_gradient evaluates at the optimizer's point: use a copy set to the weights */
    int ok = w && rill_model_weights(m, w, nw) == RILL_OK && rill_model_clone(&probe, m) == RILL_OK &&
             rill_model_set_weights(probe, w, nw) == RILL_OK &&
             rill_gradient(probe, X, y, n, NULL, &loss) == RILL_OK;
    for (size_t j = 0; ok && j < nw; j++)
        if (j % ((size_t)nf + 1) != (size_t)nf)
            pen += 0.5 * l2 * w[j] * w[j] + l1 * fabs(w[j]);
    free(w);
    rill_model_free(probe);
    return ok ? loss / (double)n + pen : NAN;
}

static int cmd_eval(const struct options *o)
{
    rill_model *m = NULL;
    double *X = NULL, *y = NULL, loss = 0.0, classes = 0.0;
    size_t n = 0;
    int status = load_for_use(o, &m, &X, &y, &n, 1);
    if (status)
        goto out;
    rill_model_get(m, RILL_MODEL_LOSS, &loss);
    rill_model_get(m, RILL_MODEL_N_CLASSES, &classes);
    size_t k = loss == RILL_SOFTMAX ? (size_t)classes : 1;
    double *p = malloc(n * k * sizeof(double)), *lab = malloc(n * sizeof(double));
    int rc = p && lab ? rill_predict(m, X, n, p) : RILL_ENOMEM;
    if (rc == RILL_OK)
        rc = rill_classify(m, X, n, lab);
    if (rc) {
        status = rill_fail(rc, m, "eval");
    } else if (loss == RILL_SQUARED) {
        double mean = 0.0, sse = 0.0, sst = 0.0;
        for (size_t i = 0; i < n; i++)
            mean += y[i] / (double)n;
        for (size_t i = 0; i < n; i++) {
            sse += (p[i] - y[i]) * (p[i] - y[i]);
            sst += (y[i] - mean) * (y[i] - mean);
        }
        printf("rows %zu\nobjective %.10g\nrmse %.10g\nr2 %.10g\n", n, objective(m, X, y, n),
               sqrt(sse / (double)n), 1.0 - sse / sst);
    } else {
        size_t kc = (size_t)classes, hits = 0, *conf = calloc(kc * kc, sizeof(size_t));
        double ll = 0.0;
        for (size_t i = 0; i < n && conf; i++) {
            size_t t = (size_t)y[i], c = (size_t)lab[i];
            if (y[i] < 0 || t >= kc || y[i] != floor(y[i])) {
                fprintf(stderr, "rill: %s: row %zu: label %g is not a class 0..%zu\n", o->args[1],
                        i + 1, y[i], kc - 1);
                status = 1;
                break;
            }
            double pt = loss == RILL_SOFTMAX ? p[i * kc + t] : (t ? p[i] : 1.0 - p[i]);
            ll -= log(pt > 1e-300 ? pt : 1e-300);
            hits += c == t;
            conf[t * kc + c]++;
        }
        if (!conf)
            status = die("out of memory%s%s", "", "");
        if (status == 0) {
            printf("rows %zu\nobjective %.10g\naccuracy %.10g\nlog_loss %.10g\n"
                   "confusion (rows: true, columns: predicted)\n",
                   n, objective(m, X, y, n), (double)hits / (double)n, ll / (double)n);
            for (size_t t = 0; t < kc; t++)
                for (size_t c = 0; c < kc; c++)
                    printf("%8zu%s", conf[t * kc + c], c + 1 == kc ? "\n" : " ");
        }
        free(conf);
    }
    free(p);
    free(lab);
out:
    rill_model_free(m);
    free(X);
    free(y);
    return status;
}

static int cmd_info(const struct options *o)
{
    static const struct {
        int p;
        const char *name;
    } fields[] = {{RILL_MODEL_LOSS, "loss"},
                  {RILL_MODEL_N_FEATURES, "n_features"},
                  {RILL_MODEL_N_CLASSES, "n_classes"},
                  {RILL_L2, "l2"},
                  {RILL_L1, "l1"},
                  {RILL_FIT_INTERCEPT, "fit_intercept"},
                  {RILL_LEARNING_RATE, "learning_rate"},
                  {RILL_SCHEDULE, "schedule"},
                  {RILL_POWER_T, "power_t"},
                  {RILL_AVERAGE, "average"},
                  {RILL_MAX_EPOCHS, "max_epochs"},
                  {RILL_TOL, "tol"},
                  {RILL_BATCH_ROWS, "batch_rows"},
                  {RILL_SEED, "seed"},
                  {RILL_STAT_EPOCHS, "epochs"},
                  {RILL_STAT_STEPS, "steps"},
                  {RILL_STAT_ROWS, "rows"},
                  {RILL_STAT_LOSS, "loss_value"},
                  {RILL_STAT_CONVERGED, "converged"},
                  {RILL_STAT_PROGRESSIVE_LOSS, "progressive_loss"}};
    rill_model *m = NULL;
    if (o->n_args != 1)
        return die("info needs MODEL%s%s", "", "");
    if (load_model(o->args[0], &m))
        return 1;
    printf("rill %s model %s\n", rill_version_string(), o->args[0]);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        double v = 0.0;
        rill_model_get(m, fields[i].p, &v);
        printf("%s %.17g\n", fields[i].name, v);
    }
    size_t nw = rill_model_n_weights(m);
    double *w = malloc(nw * sizeof(double));
    if (w && rill_model_weights(m, w, nw) == RILL_OK) {
        printf("weights");
        for (size_t j = 0; j < nw; j++)
            printf(" %.17g", w[j]);
        printf("\n");
    }
    free(w);
    rill_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("rill %s\n", rill_version_string());
        return 0;
    }
    struct options o;
    if (parse_options(argc - 2, argv + 2, &o))
        return 2;
    if (strcmp(argv[1], "fit") == 0)
        return cmd_fit(&o);
    if (strcmp(argv[1], "predict") == 0)
        return cmd_predict(&o);
    if (strcmp(argv[1], "eval") == 0)
        return cmd_eval(&o);
    if (strcmp(argv[1], "info") == 0)
        return cmd_info(&o);
    fprintf(stderr, "rill: unknown command '%s'\n%s", argv[1], usage);
    return 2;
}
