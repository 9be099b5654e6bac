/*
 * rill_bench: times rill's kernels and drivers against a plain read pass over the same array,
 * on the synthetic data of gen.h. Every figure is the minimum over --repeats runs; the ratios
 * printed are formed from timings taken in this one process.
 *
 *   rill_bench [--n N] [--d D] [--loss squared|logistic|softmax] [--classes K] [--l2 L]
 *              [--repeats R] [--parts epoch,step,split,fit] [--wout FILE] [--wall 0|1]
 *
 * Output: one "key value" pair per line (parsed by bench/compare.py), then a short summary.
 * Times are seconds.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "rill.h"

/* CPU time of the process by default: on a shared machine, wall time also counts other
 * processes' time slices. --wall 1 selects the monotonic wall clock. */
static clockid_t bench_clock = CLOCK_PROCESS_CPUTIME_ID;

static double now(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, int rc, const rill_model *m)
{
    fprintf(stderr, "rill_bench: %s: %s (%s)\n", what, rill_strerror(rc), rill_model_error(m));
    exit(1);
}

#define CHECK(call, m)                                                                        \
    do {                                                                                      \
        int rc_ = (call);                                                                     \
        if (rc_ != RILL_OK)                                                                   \
            die(#call, rc_, m);                                                               \
    } while (0)

/* The read baseline: sums every element of X with eight independent accumulators (so the
 * loop runs at the memory's speed, not the adder's latency); the sum goes to a volatile so
 * the compiler cannot drop the loop. */
static volatile double sink;

static void read_pass(const double *X, size_t len)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        for (int k = 0; k < 8; k++)
            s[k] += X[i + k];
    for (; i < len; i++)
        s[0] += X[i];
    sink = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

struct bench {
    int loss;
    size_t n, d, K, nw;
    double l2;
    int repeats;
    double *X, *y, *w0;
    double read_s;
};

static rill_model *new_model(const struct bench *b)
{
    rill_model *m = NULL;
    int rc = rill_model_new(&m, b->loss, b->d, b->loss == RILL_SQUARED ? 0 : b->K);
    if (rc)
        die("rill_model_new", rc, m);
    CHECK(rill_model_set(m, RILL_L2, b->l2), m);
    return m;
}

/* Stochastic settings matching scikit-learn's SGD defaults (see compare.py). */
static void set_sgd(const struct bench *b, rill_model *m)
{
    if (b->loss == RILL_SQUARED) {
        CHECK(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_INVSCALING), m);
        CHECK(rill_model_set(m, RILL_LEARNING_RATE, 0.01), m);
        CHECK(rill_model_set(m, RILL_POWER_T, 0.25), m);
    } else {
        /* scikit-learn's 'optimal' eta0 for the log loss: sqrt(1 / sqrt(alpha)) */
        CHECK(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_OPTIMAL), m);
        CHECK(rill_model_set(m, RILL_LEARNING_RATE, sqrt(1.0 / sqrt(b->l2))), m);
    }
}

static double time_read(const struct bench *b)
{
    double best = INFINITY;
    for (int r = 0; r < b->repeats; r++) {
        double t = now();
        read_pass(b->X, b->n * b->d);
        t = now() - t;
        best = t < best ? t : best;
    }
    return best;
}

static void part_epoch(struct bench *b)
{
    rill_model *m = new_model(b);
    double *g = malloc(b->nw * sizeof *g), l, best = INFINITY, bestr = INFINITY;
    CHECK(rill_model_set_weights(m, b->w0, b->nw), m);
    /* passes are short: three times the repeats, the read and the epoch interleaved */
    for (int r = 0; r < 3 * b->repeats; r++) {
        double t = now();
        read_pass(b->X, b->n * b->d);
        t = now() - t;
        bestr = t < bestr ? t : bestr;
        t = now();
        CHECK(rill_gradient(m, b->X, b->y, b->n, g, &l), m);
        t = now() - t;
        best = t < best ? t : best;
    }
    b->read_s = bestr < b->read_s ? bestr : b->read_s;
    printf("gradient_s %.6g\n", best);
    printf("read_s %.6g\n", b->read_s);
    printf("read_gbps %.4g\n", 8e-9 * (double)(b->n * b->d) / b->read_s);
    printf("ratio_gradient_read %.4g\n", best / b->read_s);
    /* The same epoch on two threads (RILL_THREADS = 2), where the build has them. Wall time
     * (CPU time adds the threads' up), one thread and two interleaved. */
    if (rill_model_set(m, RILL_THREADS, 2) == RILL_OK) {
        const clockid_t saved = bench_clock;
        double best1 = INFINITY, best2 = INFINITY;
        bench_clock = CLOCK_MONOTONIC;
        for (int r = 0; r < 3 * b->repeats; r++)
            for (int threads = 1; threads <= 2; threads++) {
                CHECK(rill_model_set(m, RILL_THREADS, threads), m);
                double t = now();
                CHECK(rill_gradient(m, b->X, b->y, b->n, g, &l), m);
                t = now() - t;
                double *bt = threads == 1 ? &best1 : &best2;
                *bt = t < *bt ? t : *bt;
            }
        bench_clock = saved;
        printf("gradient_wall_s %.6g\n", best1);
        printf("gradient_t2_wall_s %.6g\n", best2);
        printf("ratio_gradient_t2_read %.4g\n", best2 / b->read_s);
        printf("speedup_gradient_t2 %.4g\n", best1 / best2);
    }
    free(g);
    rill_model_free(m);
}

/* One epoch of rill_step over the rows, `rows` per call; with read_s, each epoch follows a
 * read pass over X, whose best time goes to *read_s. */
static double step_epoch(const struct bench *b, size_t rows, double *read_s)
{
    double best = INFINITY;
    for (int r = 0; r < b->repeats; r++) {
        rill_model *m = new_model(b);
        set_sgd(b, m);
        double t;
        if (read_s) {
            t = now();
            read_pass(b->X, b->n * b->d);
            t = now() - t;
            *read_s = t < *read_s ? t : *read_s;
        }
        t = now();
        for (size_t i = 0; i < b->n; i += rows) {
            size_t k = b->n - i < rows ? b->n - i : rows;
            CHECK(rill_step(m, b->X + i * b->d, b->y + i, k), m);
        }
        t = now() - t;
        best = t < best ? t : best;
        rill_model_free(m);
    }
    return best;
}

/* A floor for any one-row SGD on this machine: the same steps as rill_step's (the rate of
 * set_sgd's schedule, w <- w (1 - rate l2) - rate r x, the intercept unpenalized) in a bare
 * loop, with no checks, no loss, no API and no rate cap, the dot product in four independent
 * chains. Each step's score waits for the previous step's weights, so a step costs a chain of
 * dependent operations, however little memory it reads. Compiled for AVX2 as well where the
 * compiler can dispatch on the CPU, as rill's kernels are. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define BENCH_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define BENCH_CLONES
#endif

BENCH_CLONES static void bare_sgd(int loss, const double *X, const double *y, size_t n,
                                  size_t d, double eta0, double l2, double *w)
{
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * d, t = (double)(i + 1);
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        size_t j = 0;
        for (; j + 4 <= d; j += 4) {
            s0 += w[j] * x[j];
            s1 += w[j + 1] * x[j + 1];
            s2 += w[j + 2] * x[j + 2];
            s3 += w[j + 3] * x[j + 3];
        }
        for (; j < d; j++)
            s0 += w[j] * x[j];
        const double z = ((s0 + s1) + (s2 + s3)) + w[d];
        double r, rate;
        if (loss == RILL_SQUARED) {
            r = z - y[i];
            rate = eta0 / sqrt(sqrt(t));
        } else {
            r = 1.0 / (1.0 + exp(-z)) - y[i];
            rate = eta0 / (1.0 + l2 * eta0 * (t - 1.0));
        }
        const double shrink = 1.0 - rate * l2, c = rate * r;
        for (j = 0; j < d; j++)
            w[j] = w[j] * shrink - c * x[j];
        w[d] -= c;
    }
}

/* The bare loop's epoch (squared and logistic), alternating with read passes as step_epoch
 * does; the weights it ends with in w. */
static double bare_epoch(const struct bench *b, double *w, double *read_s)
{
    const double eta0 = b->loss == RILL_SQUARED ? 0.01 : sqrt(1.0 / sqrt(b->l2));
    double best = INFINITY;
    for (int r = 0; r < b->repeats; r++) {
        double t = now();
        read_pass(b->X, b->n * b->d);
        t = now() - t;
        *read_s = t < *read_s ? t : *read_s;
        memset(w, 0, (b->d + 1) * sizeof *w);
        t = now();
        bare_sgd(b->loss, b->X, b->y, b->n, b->d, eta0, b->l2, w);
        t = now() - t;
        best = t < best ? t : best;
    }
    return best;
}

/* The memory limit is d * 8 bytes per row at the read bandwidth measured between the step
 * epochs (read passes and epochs alternate, so that both see the same load on a shared
 * machine). */
static void part_step(struct bench *b)
{
    double read_s = INFINITY;
    const double t = step_epoch(b, 1, &read_s);
    printf("step_s %.6g\n", t);
    printf("step_read_s %.6g\n", read_s);
    printf("step_rows_per_s %.6g\n", (double)b->n / t);
    printf("memlimit_rows_per_s %.6g\n", (double)b->n / read_s);
    printf("ratio_step_memlimit %.4g\n", read_s / t);
    if (b->loss == RILL_SOFTMAX)
        return;
    /* the bare loop, and how far its weights are from rill_step's after the same epoch */
    double *wb = malloc(b->nw * sizeof *wb), *wr = malloc(b->nw * sizeof *wr), diff = 0.0;
    double bare_read_s = INFINITY;
    const double tb = bare_epoch(b, wb, &bare_read_s);
    rill_model *m = new_model(b);
    set_sgd(b, m);
    for (size_t i = 0; i < b->n; i++)
        CHECK(rill_step(m, b->X + i * b->d, b->y + i, 1), m);
    CHECK(rill_model_weights(m, wr, b->nw), m);
    for (size_t j = 0; j < b->nw; j++) {
        const double e = fabs(wb[j] - wr[j]) / fmax(1.0, fabs(wr[j]));
        diff = e > diff ? e : diff;
    }
    rill_model_free(m);
    printf("bare_step_s %.6g\n", tb);
    printf("bare_read_s %.6g\n", bare_read_s);
    printf("bare_rows_per_s %.6g\n", (double)b->n / tb);
    printf("ratio_bare_memlimit %.4g\n", bare_read_s / tb);
    printf("ratio_step_bare %.4g\n", tb / t);
    printf("bare_weights_diff %.3g\n", diff);
    free(wb);
    free(wr);
}

/* One pass of a stream, pushed `chunk` rows at a time. */
static double stream_pass(const struct bench *b, int mode, size_t batch, size_t chunk)
{
    double best = INFINITY;
    for (int r = 0; r < b->repeats; r++) {
        rill_model *m = new_model(b);
        rill_stream *s = NULL;
        if (mode == RILL_STREAM_STEP)
            set_sgd(b, m);
        else
            CHECK(rill_model_set_weights(m, b->w0, b->nw), m);
        CHECK(rill_stream_new(&s, m, batch, mode), m);
        double t = now();
        for (size_t i = 0; i < b->n; i += chunk) {
            size_t k = b->n - i < chunk ? b->n - i : chunk;
            CHECK(rill_stream_push(s, b->X + i * b->d, b->y + i, k), m);
        }
        CHECK(rill_stream_flush(s), m);
        t = now() - t;
        best = t < best ? t : best;
        rill_stream_free(s);
        rill_model_free(m);
    }
    return best;
}

static void part_split(struct bench *b)
{
    const size_t batch = 256;
    double *g = malloc(b->nw * sizeof *g), l, bare = INFINITY;
    rill_model *m = new_model(b);
    CHECK(rill_model_set_weights(m, b->w0, b->nw), m);
    for (int r = 0; r < b->repeats; r++) {
        double t = now();
        CHECK(rill_gradient(m, b->X, b->y, b->n, g, &l), m);
        t = now() - t;
        bare = t < bare ? t : bare;
    }
    rill_model_free(m);
    free(g);

    double step_bare = step_epoch(b, batch, NULL);
    double step_stream = stream_pass(b, RILL_STREAM_STEP, batch, batch);
    double step_whole = stream_pass(b, RILL_STREAM_STEP, batch, b->n);
    double pass_stream = stream_pass(b, RILL_STREAM_PASS, batch, batch);
    double pass_whole = stream_pass(b, RILL_STREAM_PASS, batch, b->n);
    printf("step256_s %.6g\n", step_bare);
    printf("stream_step_s %.6g\n", step_stream);
    printf("stream_step_whole_s %.6g\n", step_whole);
    printf("ratio_stream_step %.4g\n", step_stream / step_bare);
    printf("ratio_stream_step_whole %.4g\n", step_whole / step_bare);
    printf("gradient_bare_s %.6g\n", bare);
    printf("stream_pass_s %.6g\n", pass_stream);
    printf("stream_pass_whole_s %.6g\n", pass_whole);
    printf("ratio_stream_pass %.4g\n", pass_stream / bare);
    printf("ratio_stream_pass_whole %.4g\n", pass_whole / bare);
}

/* Time to reach the target objective, watched from the progress callback. */
struct watch {
    double t0, target, t_hit;
    int hit;
};

static int watch_fn(void *user, const rill_model *m)
{
    struct watch *w = user;
    double f;
    rill_model_get(m, RILL_STAT_LOSS, &f);
    if (f <= w->target) {
        w->t_hit = now() - w->t0;
        w->hit = 1;
        return 1;
    }
    return 0;
}

static double objective(const struct bench *b, rill_model *m, const double *w)
{
    double *g = malloc(b->nw * sizeof *g), l, pen = 0.0;
    CHECK(rill_model_set_weights(m, w, b->nw), m);
    CHECK(rill_gradient(m, b->X, b->y, b->n, g, &l), m);
    for (size_t j = 0; j < b->nw; j++)
        if (j % (b->d + 1) != b->d)
            pen += w[j] * w[j];
    free(g);
    return l / (double)b->n + 0.5 * b->l2 * pen;
}

/* rill_fit from zero on `threads` threads, stopped by the progress callback within 1e-6 of
 * fstar: the time it took (bench_clock), and its epochs in *epochs when not NULL. INFINITY when
 * the target was not reached or the build cannot use that many threads. */
static double fit_to_target(const struct bench *b, double fstar, int threads, double *epochs)
{
    struct watch wt = {0.0, fstar + 1e-6 * fabs(fstar), 0.0, 0};
    rill_model *m = new_model(b);
    double t = INFINITY;
    if (rill_model_set(m, RILL_THREADS, threads) == RILL_OK) {
        CHECK(rill_model_set(m, RILL_TOL, 0.0), m);
        CHECK(rill_model_set(m, RILL_MAX_EPOCHS, 3000), m);
        CHECK(rill_model_set_progress(m, watch_fn, &wt), m);
        wt.t0 = now();
        CHECK(rill_fit(m, b->X, b->y, b->n), m);
        t = wt.hit ? wt.t_hit : INFINITY;
        if (epochs)
            rill_model_get(m, RILL_STAT_EPOCHS, epochs);
    }
    rill_model_free(m);
    return t;
}

static void part_fit(struct bench *b, const char *wout)
{
    double *w = malloc(b->nw * sizeof *w), fstar, t;
    rill_model *m = new_model(b);
    if (b->loss == RILL_SQUARED) {
        /* EXACT: one pass of centred moments, then a Cholesky solve; time it. */
        double best = INFINITY;
        for (int r = 0; r < b->repeats; r++) {
            rill_model *e = new_model(b);
            rill_stream *s = NULL;
            CHECK(rill_stream_new(&s, e, 4096, RILL_STREAM_EXACT), e);
            t = now();
            CHECK(rill_stream_push(s, b->X, b->y, b->n), e);
            CHECK(rill_stream_flush(s), e);
            t = now() - t;
            best = t < best ? t : best;
            rill_stream_free(s);
            if (r == 0)
                CHECK(rill_model_weights(e, w, b->nw), e);
            rill_model_free(e);
        }
        printf("exact_s %.6g\n", best);
        /* and without the ridge term: ordinary least squares (the LinearRegression problem) */
        best = INFINITY;
        for (int r = 0; r < b->repeats; r++) {
            rill_model *e = new_model(b);
            rill_stream *s = NULL;
            CHECK(rill_model_set(e, RILL_L2, 0.0), e);
            CHECK(rill_stream_new(&s, e, 4096, RILL_STREAM_EXACT), e);
            t = now();
            CHECK(rill_stream_push(s, b->X, b->y, b->n), e);
            CHECK(rill_stream_flush(s), e);
            t = now() - t;
            best = t < best ? t : best;
            rill_stream_free(s);
            rill_model_free(e);
        }
        printf("exact0_s %.6g\n", best);
    } else {
        CHECK(rill_model_set(m, RILL_TOL, 1e-13), m);
        CHECK(rill_model_set(m, RILL_MAX_EPOCHS, 3000), m);
        CHECK(rill_fit(m, b->X, b->y, b->n), m);
        CHECK(rill_model_weights(m, w, b->nw), m);
    }
    fstar = objective(b, m, w);
    printf("fstar %.17g\n", fstar);
    if (wout) {
        FILE *f = fopen(wout, "wb");
        if (!f || fwrite(w, sizeof *w, b->nw, f) != b->nw || fclose(f)) {
            fprintf(stderr, "rill_bench: cannot write %s\n", wout);
            exit(1);
        }
    }
    rill_model_free(m);

    /* rill_fit from zero: time to 1e-6 relative suboptimality (CPU time); then one thread
     * and two in wall time */
    double best = INFINITY, epochs = 0.0, best_full = INFINITY, full_epochs = 0.0, full_f = 0.0;
    double wall[2] = {INFINITY, INFINITY};
    for (int r = 0; r < b->repeats; r++) {
        const clockid_t saved = bench_clock;
        bench_clock = CLOCK_MONOTONIC;
        for (int threads = 1; threads <= 2; threads++) {
            double tw = fit_to_target(b, fstar, threads, NULL);
            wall[threads - 1] = tw < wall[threads - 1] ? tw : wall[threads - 1];
        }
        bench_clock = saved;
        double e, tc = fit_to_target(b, fstar, 1, &e);
        if (!isfinite(tc)) {
            fprintf(stderr, "rill_bench: rill_fit did not reach 1e-6 suboptimality\n");
            exit(1);
        }
        if (tc < best) {
            best = tc;
            epochs = e;
        }

        /* and with the default tolerance, to its own stopping point */
        m = new_model(b);
        t = now();
        CHECK(rill_fit(m, b->X, b->y, b->n), m);
        t = now() - t;
        if (t < best_full) {
            best_full = t;
            rill_model_get(m, RILL_STAT_EPOCHS, &full_epochs);
            rill_model_get(m, RILL_STAT_LOSS, &full_f);
        }
        rill_model_free(m);
    }
    printf("fit_1e6_s %.6g\n", best);
    printf("fit_1e6_epochs %g\n", epochs);
    if (isfinite(wall[0]) && isfinite(wall[1])) {
        printf("fit_wall_1e6_s %.6g\n", wall[0]);
        printf("fit_t2_wall_1e6_s %.6g\n", wall[1]);
        printf("speedup_fit_t2 %.4g\n", wall[0] / wall[1]);
    }
    printf("fit_default_s %.6g\n", best_full);
    printf("fit_default_epochs %g\n", full_epochs);
    printf("fit_default_subopt %.3g\n", (full_f - fstar) / fabs(fstar));
    free(w);
}

static int loss_of(const char *s)
{
    if (!strcmp(s, "squared"))
        return RILL_SQUARED;
    if (!strcmp(s, "logistic"))
        return RILL_LOGISTIC;
    if (!strcmp(s, "softmax"))
        return RILL_SOFTMAX;
    fprintf(stderr, "rill_bench: unknown loss %s\n", s);
    exit(2);
}

int main(int argc, char **argv)
{
    struct bench b = {RILL_LOGISTIC, 100000, 32, 4, 0, 1e-4, 5, NULL, NULL, NULL, INFINITY};
    const char *parts = "epoch,step,split,fit", *wout = NULL, *lname = "logistic";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--n"))
            b.n = (size_t)strtod(v, NULL);
        else if (!strcmp(k, "--d"))
            b.d = (size_t)strtod(v, NULL);
        else if (!strcmp(k, "--loss"))
            b.loss = loss_of(lname = v);
        else if (!strcmp(k, "--classes"))
            b.K = (size_t)strtod(v, NULL);
        else if (!strcmp(k, "--l2"))
            b.l2 = strtod(v, NULL);
        else if (!strcmp(k, "--repeats"))
            b.repeats = atoi(v);
        else if (!strcmp(k, "--parts"))
            parts = v;
        else if (!strcmp(k, "--wall"))
            bench_clock = atoi(v) ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
        else if (!strcmp(k, "--wout"))
            wout = v;
        else {
            fprintf(stderr, "rill_bench: unknown option %s\n", k);
            return 2;
        }
    }
    if (b.loss == RILL_LOGISTIC)
        b.K = 2;
    size_t k = b.loss == RILL_SOFTMAX ? b.K : 1;
    b.nw = k * (b.d + 1);
    b.X = malloc(b.n * b.d * sizeof *b.X);
    b.y = malloc(b.n * sizeof *b.y);
    b.w0 = malloc(b.nw * sizeof *b.w0);
    if (!b.X || !b.y || !b.w0) {
        fprintf(stderr, "rill_bench: out of memory\n");
        return 1;
    }
    gen_data(b.loss, b.n, b.d, b.K, b.X, b.y);
    for (size_t j = 0; j < b.nw; j++)
        b.w0[j] = 0.1 * (2.0 * gen_u(4, j) - 1.0);
    double check = 0.0;
    for (size_t i = 0; i < b.n * b.d; i++)
        check += b.X[i];
    for (size_t i = 0; i < b.n; i++)
        check += b.y[i];
    printf("config loss=%s n=%zu d=%zu classes=%zu l2=%g repeats=%d\n", lname, b.n, b.d,
           b.loss == RILL_SQUARED ? (size_t)0 : b.K, b.l2, b.repeats);
    printf("checksum %.17g\n", check);
    b.read_s = time_read(&b);
    if (strstr(parts, "epoch"))
        part_epoch(&b);
    else
        printf("read_s %.6g\n", b.read_s);
    if (strstr(parts, "step"))
        part_step(&b);
    if (strstr(parts, "split"))
        part_split(&b);
    if (strstr(parts, "fit"))
        part_fit(&b, wout);
    free(b.X);
    free(b.y);
    free(b.w0);
    return 0;
}
