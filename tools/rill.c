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
#define _XOPEN_SOURCE 700 /* POSIX.1-2008 with XSI: mkstemp, fchmod, lstat, realpath */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <rill.h>

#include "cnum.h"
#include "reader.h"

#define CHUNK_ROWS 256

static const char usage[] =
    "usage: rill fit [options] DATA -o MODEL   train a model\n"
    "       rill predict MODEL DATA             predictions to stdout, one row per line\n"
    "       rill eval MODEL DATA                objective, RMSE and R^2, or accuracy, log-loss,\n"
    "                                           confusion matrix\n"
    "       rill info MODEL                     the model's configuration and statistics\n"
    "DATA: a CSV file (header detected, label last by default) or libsvm file; - reads stdin.\n"
    "input options:\n"
    "  --format csv|libsvm     default: libsvm for .svm/.libsvm files, else csv\n"
    "  --delimiter C           CSV cell delimiter (default ,)\n"
    "  --label NAME|INDEX      CSV label column (default: the last)\n"
    "  --features N            libsvm feature count (needed for stdin and pipes)\n"
    "fit options:\n"
    "  --loss squared|logistic|softmax   (default squared)\n"
    "  --classes K             softmax classes (default: largest label + 1; needed for stdin)\n"
    "  --mode batch|sgd|stream|exact     batch-fit (default), shuffled SGD epochs, micro-batch\n"
    "                          STEP stream, or exact least squares in one pass\n"
    "  --batch-rows N          rows per SGD step / micro-batch (sgd 1, stream and exact 32)\n"
    "  --l2 X  --l1 X          penalties (default 0)\n"
    "  --lr X                  SGD learning rate eta0 (default 0 = automatic)\n"
    "  --schedule constant|invscaling|optimal|adagrad   (default invscaling)\n"
    "  --power-t X             inverse-scaling exponent (default 0.25)\n"
    "  --average N             averaged SGD from row N (0 = off)\n"
    "  --epochs N              epochs or passes (batch 1000, sgd and stream 10, stdin 1)\n"
    "  --tol X                 stopping tolerance (default 1e-8; 0 runs every epoch)\n"
    "  --seed N                shuffling seed of the sgd mode (default 0)\n"
    "  --threads N             threads of the batch mode's gradient (default 1)\n"
    "  --resume MODEL          continue training MODEL (its parameters, statistics and\n"
    "                          optimizer state) for --epochs more; options given override\n"
    "                          its parameters. N epochs, then M resumed = N + M in one run\n"
    "  --trace FILE            CSV: update,epoch,rows,loss,objective after each epoch or\n"
    "                          micro-batch (objective: at pass ends, when computable)\n"
    "  -o MODEL                output model file (replaced whole; links followed; devices,\n"
    "                          pipes and standard output written in place)\n"
    "Numbers are read and written in the C locale (1.5), whatever the environment says.\n";

enum mode { MODE_BATCH, MODE_SGD, MODE_STREAM, MODE_EXACT };

/* Parameters given on the command line (a resumed model keeps the others). */
enum {
    GIVEN_L2 = 1 << 0,
    GIVEN_L1 = 1 << 1,
    GIVEN_LR = 1 << 2,
    GIVEN_POWER_T = 1 << 3,
    GIVEN_AVERAGE = 1 << 4,
    GIVEN_TOL = 1 << 5,
    GIVEN_SEED = 1 << 6,
    GIVEN_SCHEDULE = 1 << 7,
    GIVEN_LOSS = 1 << 8
};

struct options {
    int format;
    char delimiter;
    const char *label;
    size_t features;
    int loss;
    size_t classes;
    int mode;
    size_t batch_rows;
    double l2, l1, lr, power_t, tol;
    int schedule;
    double average, epochs, seed, threads;
    unsigned given;
    const char *resume;
    const char *trace;
    const char *out;
    const char *args[2];
    int n_args;
};

struct progress {
    FILE *trace;
    int tty, batch;
    double t0, last_print;
    double rows0;         /* RILL_STAT_ROWS when the run started */
    double epoch;         /* passes completed (stream passes: set by the driver) */
    unsigned long updates;
    const double *X, *y;  /* in-memory SGD: the rows, for the objective at epoch ends */
    size_t n;             /* rows per pass when known */
    int pending;          /* a trace record waits for its objective */
    double rec[4];        /* update, epoch, rows, loss of that record */
};

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "rill: message" on stderr; returns 1 (a data or training failure). */
static int die(const char *fmt, ...)
{
    va_list ap;
    fputs("rill: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
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
    *v = cnum_strtod(s, &end);
    return *s && *end == '\0' && errno == 0 && isfinite(*v) ? 0 : -1;
}

static int pick(const char *s, const char *const *names, int first)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return first + i;
    return -1;
}

/* A value outside the library's range for param: a usage error, found before any run. */
static int out_of_bounds(int param, double x)
{
    double lo = 0.0, hi = 0.0;
    rill_param_bounds(param, &lo, &hi);
    return !(x >= lo && x <= hi);
}

/* Returns 0, or 2 after a message (usage error). */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const char *const losses[] = {"squared", "logistic", "softmax", NULL};
    static const char *const schedules[] = {"constant", "invscaling", "optimal", "adagrad", NULL};
    static const char *const formats[] = {"csv", "libsvm", NULL};
    static const char *const modes[] = {"batch", "sgd", "stream", "exact", NULL};
    static const char *const known[] = {
        "--format", "--delimiter", "--label",  "--features", "--loss",    "--classes",
        "--mode",   "--batch-rows", "--l2",    "--l1",       "--lr",      "--schedule",
        "--power-t", "--average",  "--epochs", "--tol",      "--seed",    "--resume",
        "--threads", "--trace",   "-o",          "--output", NULL};
    memset(o, 0, sizeof *o);
    o->format = -1;
    o->loss = RILL_SQUARED;
    o->mode = MODE_BATCH;
    o->power_t = 0.25;
    o->threads = 1.0;
    o->tol = 1e-8;
    o->epochs = -1;
    o->schedule = RILL_SCHEDULE_INVSCALING;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x = 0.0;
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->n_args == 2)
                return 2 * die("unexpected argument '%s' (see rill --help)", a);
            o->args[o->n_args++] = a;
            continue;
        }
        if (pick(a, known, 0) < 0)
            return 2 * die("unknown option %s (see rill --help)", a);
        if (!v)
            return 2 * die("option %s needs a value (see rill --help)", a);
        i++;
        int bad = 0;
        if (strcmp(a, "--format") == 0)
            bad = (o->format = pick(v, formats, 0)) < 0;
        else if (strcmp(a, "--delimiter") == 0)
            bad = strlen(v) != 1 || (o->delimiter = v[0]) == 0 || v[0] == '"' || v[0] == '\n';
        else if (strcmp(a, "--label") == 0)
            o->label = v;
        else if (strcmp(a, "--loss") == 0)
            bad = (o->given |= GIVEN_LOSS, (o->loss = pick(v, losses, RILL_SQUARED)) < 0);
        else if (strcmp(a, "--schedule") == 0)
            bad = (o->given |= GIVEN_SCHEDULE,
                   (o->schedule = pick(v, schedules, RILL_SCHEDULE_CONSTANT)) < 0);
        else if (strcmp(a, "--mode") == 0)
            bad = (o->mode = pick(v, modes, MODE_BATCH)) < 0;
        else if (strcmp(a, "--trace") == 0)
            o->trace = v;
        else if (strcmp(a, "--resume") == 0)
            o->resume = v;
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
            o->out = v;
        else if (parse_double(v, &x))
            bad = 1;
        else if (strcmp(a, "--features") == 0)
            bad = x < 1 || x > 1e15 || x != floor(x) || (o->features = (size_t)x, 0);
        else if (strcmp(a, "--classes") == 0)
            bad = x < 2 || x > 1e9 || x != floor(x) || (o->classes = (size_t)x, 0);
        else if (strcmp(a, "--batch-rows") == 0)
            bad = x < 1 || x > 1e12 || x != floor(x) || (o->batch_rows = (size_t)x, 0);
        else if (strcmp(a, "--l2") == 0)
            bad = (o->given |= GIVEN_L2, o->l2 = x, out_of_bounds(RILL_L2, x));
        else if (strcmp(a, "--l1") == 0)
            bad = (o->given |= GIVEN_L1, o->l1 = x, out_of_bounds(RILL_L1, x));
        else if (strcmp(a, "--lr") == 0)
            bad = (o->given |= GIVEN_LR, o->lr = x, out_of_bounds(RILL_LEARNING_RATE, x));
        else if (strcmp(a, "--power-t") == 0)
            bad = (o->given |= GIVEN_POWER_T, o->power_t = x, out_of_bounds(RILL_POWER_T, x));
        else if (strcmp(a, "--average") == 0)
            bad = (o->given |= GIVEN_AVERAGE, o->average = x,
                   out_of_bounds(RILL_AVERAGE, x) || x != floor(x));
        else if (strcmp(a, "--epochs") == 0)
            bad = (o->epochs = x, out_of_bounds(RILL_MAX_EPOCHS, x) || x != floor(x));
        else if (strcmp(a, "--tol") == 0)
            bad = (o->given |= GIVEN_TOL, o->tol = x, out_of_bounds(RILL_TOL, x));
        else if (strcmp(a, "--seed") == 0)
            bad = (o->given |= GIVEN_SEED, o->seed = x, out_of_bounds(RILL_SEED, x) || x != floor(x));
        else if (strcmp(a, "--threads") == 0)
            bad = (o->threads = x, out_of_bounds(RILL_THREADS, x) || x != floor(x));
        else
            return 2 * die("unknown option %s (see rill --help)", a);
        if (bad)
            return 2 * die("bad value '%s' for %s", v, a);
    }
    return 0;
}

/* label_optional: the data may lack a label column (predict, eval), so one column is a
 * one-feature model's data; elsewhere a CSV needs a feature and a label. */
static int open_data(struct reader *r, const struct options *o, const char *path,
                     size_t features, int label_optional)
{
    int format = o->format;
    if (format < 0) {
        const char *dot = strrchr(path, '.');
        format = dot && (strcmp(dot, ".svm") == 0 || strcmp(dot, ".libsvm") == 0) ? FORMAT_LIBSVM
                                                                                 : FORMAT_CSV;
    }
    if (reader_open(r, path, format, o->delimiter, o->label, features)) {
        fprintf(stderr, "rill: %s\n", r->err);
        reader_close(r);
        return -1;
    }
    if (format == FORMAT_CSV && r->n_features == 0 && !label_optional) {
        fprintf(stderr, "rill: %s: need at least one feature and a label (delimiter '%c')\n",
                path, r->delimiter);
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
    *X = *y = NULL;
    if (d > SIZE_MAX / sizeof(double) / 2 / cap) /* room to double cap once */
        return die("%s: too many features to hold rows in memory", r->path);
    *X = malloc(cap * d * sizeof(double));
    *y = malloc(cap * sizeof(double));
    for (;;) {
        if (!*X || !*y)
            return die("out of memory reading %s", r->path);
        if (*n == cap) {
            if (cap > SIZE_MAX / sizeof(double) / 2 / d)
                return die("out of memory reading %s", r->path);
            cap *= 2;
            double *nx = realloc(*X, cap * d * sizeof(double)), *ny = NULL;
            if (nx)
                *X = nx;
            ny = nx ? realloc(*y, cap * sizeof(double)) : NULL;
            if (ny)
                *y = ny;
            if (!nx || !ny)
                return die("out of memory reading %s", r->path);
        }
        long got = reader_rows(r, *X + *n * d, *y + *n, cap - *n);
        if (got < 0)
            return die("%s", r->err);
        if (got == 0)
            break;
        *n += (size_t)got;
    }
    if (*n == 0)
        return die("%s: no data rows", r->path);
    return 0;
}

/* ---------------------------------------------------------------- the training objective */

/* A copy of m evaluated at the weights predict uses, and the penalty there; NULL on failure. */
static rill_model *probe_of(const rill_model *m, double *penalty)
{
    size_t nw = rill_model_n_weights(m);
    double nf = 0.0, l2 = 0.0, l1 = 0.0, pen = 0.0;
    double *w = malloc(nw * sizeof(double));
    rill_model *probe = NULL;
    rill_model_get(m, RILL_MODEL_N_FEATURES, &nf);
    rill_model_get(m, RILL_L2, &l2);
    rill_model_get(m, RILL_L1, &l1);
    /* rill_gradient evaluates at the optimizer's point: use a copy set to the weights */
    int ok = w && rill_model_weights(m, w, nw) == RILL_OK && rill_model_clone(&probe, m) == RILL_OK &&
             rill_model_set_weights(probe, w, nw) == RILL_OK;
    for (size_t j = 0; ok && j < nw; j++)
        if (j % ((size_t)nf + 1) != (size_t)nf)
            pen += 0.5 * l2 * w[j] * w[j] + l1 * fabs(w[j]);
    free(w);
    if (!ok) {
        rill_model_free(probe);
        return NULL;
    }
    *penalty = pen;
    return probe;
}

/* mean loss + l2/2 ||w||^2 + l1 ||w||_1 of m on the rows (NaN on failure). */
static double objective(const rill_model *m, const double *X, const double *y, size_t n)
{
    double pen = 0.0, loss = 0.0;
    rill_model *probe = probe_of(m, &pen);
    int ok = probe && rill_gradient(probe, X, y, n, NULL, &loss) == RILL_OK;
    rill_model_free(probe);
    return ok ? loss / (double)n + pen : NAN;
}

/* The objective over a file read once more in chunks (constant memory); NaN on failure. */
static double objective_of_file(const rill_model *m, const struct options *o, const char *path,
                                const struct reader *like)
{
    struct reader r;
    double pen = 0.0, loss = 0.0, sum = 0.0, n = 0.0;
    rill_model *probe = probe_of(m, &pen);
    double *X = malloc(CHUNK_ROWS * like->n_features * sizeof(double));
    double *y = malloc(CHUNK_ROWS * sizeof(double));
    long got = -1;
    if (probe && X && y && open_data(&r, o, path, like->n_features, 0) == 0) {
        r.labels = like->labels;
        r.n_classes = like->n_classes;
        while ((got = reader_rows(&r, X, y, CHUNK_ROWS)) > 0 &&
               rill_gradient(probe, X, y, (size_t)got, NULL, &loss) == RILL_OK) {
            sum += loss;
            n += (double)got;
        }
        reader_close(&r);
    }
    rill_model_free(probe);
    free(X);
    free(y);
    return got == 0 && n > 0 ? sum / n + pen : NAN;
}

/* ---------------------------------------------------------------- progress and trace */

static void trace_write(struct progress *p, double objective)
{
    if (!p->trace || !p->pending)
        return;
    fprintf(p->trace, "%.0f,%.0f,%.0f,%.17g,", p->rec[0], p->rec[1], p->rec[2], p->rec[3]);
    if (isfinite(objective))
        fprintf(p->trace, "%.17g", objective);
    fputc('\n', p->trace);
    p->pending = 0;
}

static int on_progress(void *user, const rill_model *m)
{
    struct progress *p = user;
    double loss = 0.0, rows = 0.0;
    rill_model_get(m, RILL_STAT_LOSS, &loss);
    rill_model_get(m, RILL_STAT_ROWS, &rows);
    p->updates++;
    rows -= p->rows0;
    if (p->batch) {
        p->epoch += 1.0;
        rows = p->epoch * (double)p->n;
    } else if (p->X && p->n) {
        p->epoch = floor(rows / (double)p->n);
    }
    trace_write(p, NAN); /* the previous record ended no pass */
    p->pending = 1;
    p->rec[0] = (double)p->updates;
    p->rec[1] = p->epoch;
    p->rec[2] = rows;
    p->rec[3] = loss;
    if (p->batch) /* the loss is the objective at the accepted weights */
        trace_write(p, loss);
    else if (p->X && p->n && p->trace && rows == p->epoch * (double)p->n)
        trace_write(p, objective(m, p->X, p->y, p->n)); /* an epoch of SGD ended */
    double t = wall();
    if (p->tty && t - p->last_print > 0.1) {
        double rate = rows / (t - p->t0 > 0 ? t - p->t0 : 1e-9);
        fprintf(stderr, "\r%lu updates  %.0f rows  %.3g rows/s  loss %.6g   ", p->updates, rows,
                rate, loss);
        p->last_print = t;
    }
    return 0;
}

/* ---------------------------------------------------------------- model files */

/* Standard output or error when path names the same file (-o /dev/stdout, or the file that
 * standard output is redirected to), else NULL. */
static FILE *standard_stream(const char *path)
{
    struct stat st, fd;
    if (stat(path, &st) != 0)
        return NULL;
    if (fstat(1, &fd) == 0 && fd.st_dev == st.st_dev && fd.st_ino == st.st_ino)
        return stdout;
    if (fstat(2, &fd) == 0 && fd.st_dev == st.st_dev && fd.st_ino == st.st_ino)
        return stderr;
    return NULL;
}

/* Writes size bytes to path in place (a device, a pipe, or to ours, standard output or error),
 * without the temporary file. */
static int write_in_place(const char *path, FILE *ours, const void *buf, size_t size)
{
    FILE *f = ours ? ours : fopen(path, "wb");
    int ok = f && fwrite(buf, 1, size, f) == size, e = errno;
    if (f && (ours ? fflush(f) : fclose(f)) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok)
        fprintf(stderr, "rill: cannot write %s: %s\n", path, strerror(e));
    return ok ? 0 : 1;
}

/* The path that a dangling symbolic link (a chain of them) names, malloc'd; NULL after 40
 * links or on an error. A relative link is taken from the link's directory. */
static char *link_target(const char *path)
{
    char *cur = malloc(strlen(path) + 1), buf[4096];
    if (cur)
        strcpy(cur, path);
    for (int hop = 0; cur && hop < 40; hop++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur;
        ssize_t k = readlink(cur, buf, sizeof buf - 1);
        if (k < 0 || k == (ssize_t)sizeof buf - 1)
            break;
        buf[k] = '\0';
        const char *slash = strrchr(cur, '/');
        size_t dir = buf[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
        char *next = malloc(dir + (size_t)k + 1);
        if (next) {
            memcpy(next, cur, dir);
            memcpy(next + dir, buf, (size_t)k + 1);
        }
        free(cur);
        cur = next;
    }
    free(cur);
    return NULL;
}

/* Writes size bytes to the regular file path (existing or not) through a temporary file beside
 * it, renamed over it at the end: a failure leaves path as it was. The file keeps its mode, or
 * gets a new file's (0666 less the umask). */
static int write_replacing(const char *path, const void *buf, size_t size)
{
    struct stat st;
    mode_t mode;
    if (stat(path, &st) == 0) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp)
        return die("out of memory saving %s", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp), ok = fd >= 0, e = errno;
    FILE *f = ok ? fdopen(fd, "wb") : NULL;
    ok = f && fchmod(fd, mode) == 0 && fwrite(buf, 1, size, f) == size;
    e = ok ? e : errno;
    ok = (f ? fclose(f) == 0 : 0) && ok;
    e = ok ? e : errno;
    if (!f && fd >= 0)
        close(fd);
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        e = errno ? errno : e;
        if (fd >= 0)
            remove(tmp);
        fprintf(stderr, "rill: cannot write %s: %s\n", path, strerror(e));
    }
    free(tmp);
    return ok ? 0 : 1;
}

/* Writes the model to path. A regular file, or a new one, is replaced whole (write_replacing:
 * a failure leaves it as it was); a symbolic link is followed, and its target replaced so.
 * Anything else (a device, a pipe), and the file of standard output or error, is written in
 * place. */
static int save_model(const rill_model *m, const char *path)
{
    size_t size = 0;
    int rc = rill_model_save(m, NULL, 0, &size);
    if (rc)
        return rill_fail(rc, m, "saving the model");
    void *buf = malloc(size);
    if (!buf)
        return die("out of memory saving %s", path);
    rc = rill_model_save(m, buf, size, &size);
    if (rc) {
        free(buf);
        return rill_fail(rc, m, "saving the model");
    }
    struct stat st;
    char *target = NULL;
    FILE *ours = standard_stream(path);
    int status;
    if (ours || (stat(path, &st) == 0 && !S_ISREG(st.st_mode))) {
        status = write_in_place(path, ours, buf, size);
    } else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* an existing file through the links, or the new one a dangling link names */
        errno = 0;
        target = stat(path, &st) == 0 ? realpath(path, NULL) : link_target(path);
        status = target ? write_replacing(target, buf, size)
                        : die("cannot write %s: %s", path, strerror(errno ? errno : ELOOP));
    } else {
        status = write_replacing(path, buf, size);
    }
    free(target);
    free(buf);
    return status;
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
        return die("%s: cannot read", path);
    }
    int rc = rill_model_load(m, buf, n);
    free(buf);
    if (rc)
        return die("%s: not a rill model: %s", path, rill_strerror(rc));
    return 0;
}

/* ---------------------------------------------------------------- fit */

/* Streams the reader's rows through s in CHUNK_ROWS chunks (constant memory). */
static int stream_rows(struct reader *r, rill_stream *s, rill_model *m, size_t *rows)
{
    size_t d = r->n_features;
    double *X = malloc(CHUNK_ROWS * d * sizeof(double)), *y = malloc(CHUNK_ROWS * sizeof(double));
    int status = 0;
    long got = 0;
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
        status = die("out of memory");
    else if (status == 0 && got < 0)
        status = die("%s", r->err);
    free(X);
    free(y);
    return status;
}

static size_t infer_classes(const double *y, size_t n)
{
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = y[i] > mx ? y[i] : mx;
    return mx >= 1.0 ? (size_t)mx + 1 : 2;
}

/* Streaming softmax from a file without --classes: one pass to find the largest label. The
 * reader is reopened at the first data row. */
static int scan_classes(struct reader *r, const struct options *o, const char *path,
                        size_t *classes)
{
    double *X = malloc(CHUNK_ROWS * r->n_features * sizeof(double));
    double *y = malloc(CHUNK_ROWS * sizeof(double));
    long got = 0;
    double mx = 0.0;
    while (X && y && (got = reader_rows(r, X, y, CHUNK_ROWS)) > 0)
        for (long i = 0; i < got; i++)
            mx = y[i] > mx ? y[i] : mx;
    free(X);
    free(y);
    if (!X || !y)
        return die("out of memory");
    if (got < 0)
        return die("%s", r->err);
    const int labels = r->labels;
    const size_t d = r->n_features;
    reader_close(r);
    if (open_data(r, o, path, d, 0))
        return 1;
    r->labels = labels;
    *classes = mx >= 1.0 ? (size_t)mx + 1 : 2;
    return 0;
}

/* Sets the parameters: every one for a new model, only the given ones for a resumed model. */
static int set_params(rill_model *m, const struct options *o, int fresh)
{
    const struct {
        int p;
        unsigned given;
        double v;
    } set[] = {{RILL_L2, GIVEN_L2, o->l2},
               {RILL_L1, GIVEN_L1, o->l1},
               {RILL_LEARNING_RATE, GIVEN_LR, o->lr},
               {RILL_SCHEDULE, GIVEN_SCHEDULE, o->schedule},
               {RILL_POWER_T, GIVEN_POWER_T, o->power_t},
               {RILL_AVERAGE, GIVEN_AVERAGE, o->average},
               {RILL_TOL, GIVEN_TOL, o->tol},
               {RILL_SEED, GIVEN_SEED, o->seed}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        if (!fresh && !(o->given & set[i].given))
            continue;
        int rc = rill_model_set(m, set[i].p, set[i].v);
        if (rc)
            return rill_fail(rc, m, "setting a parameter");
    }
    /* a setting of the run, not of the model: not saved, so set on resumed models too */
    int rc = rill_model_set(m, RILL_THREADS, o->threads);
    return rc ? rill_fail(rc, m, "--threads") : 0;
}

/* Batch-fit continued from a loaded model: the loop rill_fit runs, without resetting the
 * optimizer's memory, so that N epochs, a save, a load and M more are N + M epochs. */
static int batch_resume(rill_model *m, const double *X, const double *y, size_t n, double epochs,
                        struct progress *p, double *done)
{
    size_t nw = rill_model_n_weights(m);
    double *g = malloc(nw * sizeof(double)), loss = 0.0, converged = 0.0;
    int rc = g ? RILL_OK : RILL_ENOMEM;
    *done = 0.0;
    while (rc == RILL_OK && *done < epochs) {
        rc = rill_gradient(m, X, y, n, g, &loss);
        if (rc == RILL_OK)
            rc = rill_apply_gradient(m, g, loss, (double)n);
        if (rc)
            break;
        *done += 1.0;
        on_progress(p, m);
        rill_model_get(m, RILL_STAT_CONVERGED, &converged);
        if (converged != 0.0)
            break;
    }
    free(g);
    return rc;
}

static int cmd_fit(const struct options *o)
{
    if (o->n_args != 1 || !o->out)
        return 2 * die("fit needs DATA and -o MODEL (see rill --help)");
    const char *path = o->args[0];
    const int from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : path; /* in messages, as the reader says */
    const int in_memory = o->mode == MODE_BATCH || (o->mode == MODE_SGD && !from_stdin);
    rill_model *m = NULL;
    double loss = o->loss, model_classes = 0.0, model_features = 0.0;
    if (o->mode == MODE_EXACT && o->resume)
        return 2 * die("--resume does not apply to the exact mode (it solves in one pass)");
    if (from_stdin && o->epochs > 1 && !in_memory)
        return 2 * die("standard input is read once: --epochs must be 1 with DATA -");
    if (o->resume) {
        if (load_model(o->resume, &m))
            return 1;
        rill_model_get(m, RILL_MODEL_LOSS, &loss);
        rill_model_get(m, RILL_MODEL_N_CLASSES, &model_classes);
        rill_model_get(m, RILL_MODEL_N_FEATURES, &model_features);
        if (((o->given & GIVEN_LOSS) && loss != o->loss) ||
            (o->classes && (double)o->classes != model_classes)) {
            rill_model_free(m);
            return 2 * die("%s: --loss or --classes differ from the model's", o->resume);
        }
    }
    if (o->mode == MODE_EXACT && loss != RILL_SQUARED) {
        rill_model_free(m);
        return 2 * die("the exact mode is for --loss squared");
    }
    struct reader r;
    if (open_data(&r, o, path, o->features ? o->features : (size_t)model_features, 0)) {
        rill_model_free(m);
        return 1;
    }
    size_t classes = loss == RILL_SQUARED ? 0 : (loss == RILL_LOGISTIC ? 2 : o->classes);
    if (m)
        classes = (size_t)model_classes;
    r.labels = loss == RILL_SQUARED ? LABELS_ANY : (loss == RILL_LOGISTIC ? LABELS_BINARY
                                                                          : LABELS_CLASSES);
    r.n_classes = loss == RILL_SOFTMAX ? classes : 0;
    double *X = NULL, *y = NULL;
    size_t n = 0;
    int status = 0, rc;
    if (m && (double)r.n_features != model_features) {
        status = die("%s has %zu features, the model %s %.0f", name, r.n_features, o->resume,
                     model_features);
        goto out;
    }
    if (in_memory && read_all(&r, &X, &y, &n)) {
        status = 1;
        goto out;
    }
    if (loss == RILL_SOFTMAX && classes == 0) {
        if (from_stdin && !in_memory) {
            status = 2 * die("softmax from standard input needs --classes K");
            goto out;
        }
        if (!in_memory && scan_classes(&r, o, path, &classes)) {
            status = 1;
            goto out;
        }
        if (in_memory)
            classes = infer_classes(y, n);
        r.n_classes = classes;
    }
    if (!m && (rc = rill_model_new(&m, (int)loss, r.n_features, classes)) != 0) {
        status = rill_fail(rc, NULL, "creating the model");
        goto out;
    }
    const double epochs =
        o->epochs > 0 ? o->epochs
                      : (o->mode == MODE_BATCH ? 1000 : (from_stdin || o->mode == MODE_EXACT ? 1 : 10));
    double model_b = 0.0; /* a resumed model keeps its micro-batch size unless given */
    if (o->resume)
        rill_model_get(m, RILL_BATCH_ROWS, &model_b);
    const size_t b = o->batch_rows ? o->batch_rows
                                   : (model_b > 0 ? (size_t)model_b : (o->mode == MODE_SGD ? 1 : 32));
    if ((status = set_params(m, o, o->resume == NULL)) != 0)
        goto out;
    if ((rc = rill_model_set(m, RILL_MAX_EPOCHS, epochs)) != 0 ||
        (rc = rill_model_set(m, RILL_BATCH_ROWS,
                             o->mode == MODE_SGD || o->mode == MODE_STREAM ? (double)b : 0.0))) {
        status = rill_fail(rc, m, "setting a parameter");
        goto out;
    }
    struct progress prog;
    memset(&prog, 0, sizeof prog);
    prog.tty = isatty(2);
    prog.t0 = prog.last_print = wall();
    prog.batch = o->mode == MODE_BATCH;
    prog.n = n;
    if (o->mode == MODE_SGD && in_memory) {
        prog.X = X;
        prog.y = y;
    }
    rill_model_get(m, RILL_STAT_ROWS, &prog.rows0);
    if (o->trace && !(prog.trace = fopen(o->trace, "w"))) {
        status = die("%s: %s", o->trace, strerror(errno));
        goto out;
    }
    if (prog.trace)
        fputs("update,epoch,rows,loss,objective\n", prog.trace);
    rill_model_set_progress(m, on_progress, &prog);
    double t0 = wall(), done = 0.0;
    if (o->mode == MODE_BATCH && o->resume) {
        if ((rc = batch_resume(m, X, y, n, epochs, &prog, &done)) != 0)
            status = rill_fail(rc, m, name);
    } else if (in_memory) {
        if ((rc = rill_fit(m, X, y, n)) != 0)
            status = rill_fail(rc, m, name);
        rill_model_get(m, RILL_STAT_EPOCHS, &done);
    } else {
        const int mode = o->mode == MODE_EXACT ? RILL_STREAM_EXACT : RILL_STREAM_STEP;
        const double passes = mode == RILL_STREAM_EXACT ? 1 : epochs;
        rill_stream *s = NULL;
        if ((rc = rill_stream_new(&s, m, b, mode)) != 0)
            status = rill_fail(rc, m, "creating the stream");
        for (; status == 0 && done < passes; done += 1.0) {
            if (done > 0) { /* replay the file from its first data row */
                int labels = r.labels;
                reader_close(&r);
                if (open_data(&r, o, path, r.n_features, 0)) {
                    status = 1;
                    break;
                }
                r.labels = labels;
                r.n_classes = loss == RILL_SOFTMAX ? classes : 0;
            }
            status = stream_rows(&r, s, m, &n);
            if (status == 0 && (rc = rill_stream_flush(s)) != 0)
                status = rill_fail(rc, m, name);
            prog.epoch = done + 1.0;
            prog.rec[1] = prog.epoch;
            if (status == 0 && n == 0)
                status = die("%s: no data rows", name);
            if (status == 0)
                trace_write(&prog, prog.trace && !from_stdin
                                       ? objective_of_file(m, o, path, &r)
                                       : NAN);
        }
        rill_stream_free(s);
    }
    trace_write(&prog, NAN);
    rill_model_set_progress(m, NULL, NULL);
    if (prog.tty)
        fputc('\n', stderr);
    /* every other output first: a run that fails writing them writes no model */
    if (prog.trace && fclose(prog.trace) != 0)
        status = die("%s: write error", o->trace);
    if (status == 0) {
        double stat_loss = 0.0;
        static const char *const names[] = {"batch", "sgd", "stream", "exact"};
        /* batch and exact: the objective at the weights; sgd and stream: the progressive
         * loss (RILL_STAT_LOSS is there the last micro-batch's, one row under sgd) */
        const int stepped = o->mode == MODE_SGD || o->mode == MODE_STREAM;
        rill_model_get(m, stepped ? RILL_STAT_PROGRESSIVE_LOSS : RILL_STAT_LOSS, &stat_loss);
        /* on standard error when the model goes to standard output */
        FILE *summary = standard_stream(o->out) == stdout ? stderr : stdout;
        fprintf(summary, "mode=%s epochs=%.0f rows=%zu %s=%.10g seconds=%.4f\n",
                names[o->mode], done, n, stepped ? "progressive_loss" : "loss", stat_loss,
                wall() - t0);
        if (fflush(stdout) != 0 || ferror(stdout))
            status = die("write error on standard output");
        else
            status = save_model(m, o->out);
    }
out:
    rill_model_free(m);
    reader_close(&r);
    free(X);
    free(y);
    return status;
}

/* ---------------------------------------------------------------- predict, eval, info */

/* Loads MODEL and DATA (label column present or not) for predict and eval. */
static int load_for_use(const struct options *o, rill_model **m, double **X, double **y,
                        size_t *n, int need_labels)
{
    struct reader r;
    double d = 0.0, loss = 0.0, classes = 0.0;
    if (o->n_args != 2)
        return 2 * die("needs MODEL and DATA (see rill --help)");
    if (load_model(o->args[0], m))
        return 1;
    rill_model_get(*m, RILL_MODEL_N_FEATURES, &d);
    rill_model_get(*m, RILL_MODEL_LOSS, &loss);
    rill_model_get(*m, RILL_MODEL_N_CLASSES, &classes);
    if (open_data(&r, o, o->args[1], o->features ? o->features : (size_t)d, !need_labels))
        return 1;
    if (r.n_features + 1 == (size_t)d && !need_labels && r.format == FORMAT_CSV) {
        /* no label column: every column is a feature */
        r.n_features = (size_t)d;
        r.no_label = 1;
    }
    r.labels = !need_labels ? LABELS_IGNORE
                            : (loss == RILL_SQUARED ? LABELS_ANY
                                                    : (loss == RILL_LOGISTIC ? LABELS_BINARY
                                                                             : LABELS_CLASSES));
    r.n_classes = loss == RILL_SOFTMAX ? (size_t)classes : 0;
    int status = 0;
    if (r.n_features != (size_t)d)
        status = die("%s has %zu features, the model %.0f", o->args[1], r.n_features, d);
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
        printf("rows %zu\nobjective %.17g\nrmse %.17g\nr2 %.17g\n", n, objective(m, X, y, n),
               sqrt(sse / (double)n), 1.0 - sse / sst);
    } else {
        size_t kc = (size_t)classes, hits = 0, *conf = calloc(kc * kc, sizeof(size_t));
        double ll = 0.0;
        for (size_t i = 0; i < n && conf; i++) { /* labels were checked as they were read */
            size_t t = (size_t)y[i], c = (size_t)lab[i];
            double pt = loss == RILL_SOFTMAX ? p[i * kc + t] : (t ? p[i] : 1.0 - p[i]);
            ll -= log(pt > 1e-300 ? pt : 1e-300);
            hits += c == t;
            conf[t * kc + c]++;
        }
        if (!conf) {
            status = die("out of memory");
        } else {
            printf("rows %zu\nobjective %.17g\naccuracy %.17g\nlog_loss %.17g\n"
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
        return 2 * die("info needs MODEL (see rill --help)");
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
    cnum_use_c_locale(); /* the C locale for this thread whatever the environment */
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--version") == 0) {
        if (argv[1][2] == 'v')
            printf("rill %s\n", rill_version_string());
        else
            fputs(usage, stdout);
        return fflush(stdout) != 0 || ferror(stdout) ? die("write error on standard output") : 0;
    }
    struct options o;
    if (parse_options(argc - 2, argv + 2, &o))
        return 2;
    int status;
    if (strcmp(argv[1], "fit") == 0)
        status = cmd_fit(&o);
    else if (strcmp(argv[1], "predict") == 0)
        status = cmd_predict(&o);
    else if (strcmp(argv[1], "eval") == 0)
        status = cmd_eval(&o);
    else if (strcmp(argv[1], "info") == 0)
        status = cmd_info(&o);
    else
        return 2 * die("unknown command '%s' (see rill --help)", argv[1]);
    if (fflush(stdout) != 0 || ferror(stdout))
        status = status ? status : die("write error on standard output");
    return status;
}
