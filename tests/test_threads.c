/*
 * The thread-safety contract of include/rill.h, exercised with POSIX threads (and checked for
 * data races by ThreadSanitizer in scripts/ci/90-tsan.sh):
 *
 *  1. distinct handles on distinct threads are independent: N threads each train their own
 *     model (rill_fit, rill_step, a stream, save and load) and get, bit for bit, what the same
 *     work gives on one thread;
 *  2. const calls on one shared model may run concurrently: N threads call rill_predict,
 *     rill_classify, rill_gradient, rill_model_get, rill_model_weights, rill_model_save,
 *     rill_model_n_weights, rill_model_error and rill_model_clone on one model at once, and every result equals
 *     the single-threaded one, bit for bit;
 *  3. RILL_THREADS = 2 (rill_gradient and rill_fit on row parts, lib/parts.c): concurrent
 *     rill_gradient calls on one shared model, each running its own part threads, give the
 *     bits of one call, and rill_fit with two threads gives the bits of another such fit.
 *
 * Bit-identity holds for the portable kernels, which this test is meant for (-Dblas=disabled:
 * OpenBLAS runs threads of its own). With CBLAS the comparisons still hold, since each call
 * is deterministic for a given build.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill.h>

#define N_THREADS 4
#define N_ROWS 240
#define N_FEATURES 6
#define N_CLASSES 3
#define ROUNDS 8

static double X[N_ROWS * N_FEATURES];
static double y_reg[N_ROWS], y_bin[N_ROWS], y_cls[N_ROWS];
static int failures;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static void check(int ok, const char *what)
{
    pthread_mutex_lock(&report_lock);
    if (!ok) {
        printf("FAIL: %s\n", what);
        failures++;
    }
    pthread_mutex_unlock(&report_lock);
}

/* Deterministic data: features from an LCG, targets from a fixed linear rule plus noise. */
static void make_data(void)
{
    unsigned long long s = 12345;
    for (size_t i = 0; i < N_ROWS * N_FEATURES; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        X[i] = (double)(s >> 11) / 9007199254740992.0 * 4.0 - 2.0;
    }
    for (size_t i = 0; i < N_ROWS; i++) {
        const double *x = X + i * N_FEATURES;
        double z = 0.5 + x[0] - 2.0 * x[1] + 0.25 * x[2] - x[5];
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double noise = (double)(s >> 11) / 9007199254740992.0 - 0.5;
        y_reg[i] = z + noise;
        y_bin[i] = z + noise > 0.0 ? 1.0 : 0.0;
        y_cls[i] = x[3] + noise > 0.7 ? 2.0 : x[3] + noise > -0.7 ? 1.0 : 0.0;
    }
}

static const double *labels_for(int loss)
{
    return loss == RILL_SQUARED ? y_reg : loss == RILL_LOGISTIC ? y_bin : y_cls;
}

static size_t classes_for(int loss)
{
    return loss == RILL_SQUARED ? 0 : loss == RILL_LOGISTIC ? 2 : N_CLASSES;
}

/* ------------------------------------------------------------ 1. one model per thread */

struct job {
    int loss;
    int ok;
    size_t n_w;
    double w[N_CLASSES * (N_FEATURES + 1)];
    double pred[N_ROWS * N_CLASSES];
    size_t blob_size;
    unsigned char *blob;
    size_t callbacks;
};

/* Reads a statistic through a const call, as the contract allows, and counts the calls in
 * the job the model belongs to. */
static int on_progress(void *user, const rill_model *m)
{
    struct job *j = user;
    double epochs;
    if (rill_model_get(m, RILL_STAT_EPOCHS, &epochs) == RILL_OK)
        j->callbacks++;
    return 0;
}

/* Trains a fresh model every way: batch-fit, row-by-row steps, a STEP stream, a PASS stream;
 * then saves, loads and predicts with the loaded copy. */
static void run_job(struct job *j)
{
    const double *y = labels_for(j->loss);
    rill_model *m = NULL, *loaded = NULL;
    rill_stream *s = NULL;
    j->ok = 0;
    j->blob = NULL;
    j->callbacks = 0;
    if (rill_model_new(&m, j->loss, N_FEATURES, classes_for(j->loss)) != RILL_OK)
        return;
    int rc = rill_model_set(m, RILL_L2, 1e-2);
    rc = rc ? rc : rill_model_set(m, RILL_MAX_EPOCHS, 50);
    rc = rc ? rc : rill_model_set_progress(m, on_progress, j);
    rc = rc ? rc : rill_fit(m, X, y, N_ROWS);
    for (size_t i = 0; i < 40 && !rc; i++)
        rc = rill_step(m, X + i * N_FEATURES, y + i, 1);
    rc = rc ? rc : rill_stream_new(&s, m, 16, RILL_STREAM_STEP);
    rc = rc ? rc : rill_stream_push(s, X, y, 100);
    rc = rc ? rc : rill_stream_push(s, X + 100 * N_FEATURES, y + 100, N_ROWS - 100);
    rc = rc ? rc : rill_stream_flush(s);
    rill_stream_free(s);
    s = NULL;
    rc = rc ? rc : rill_stream_new(&s, m, 64, RILL_STREAM_PASS);
    for (int pass = 0; pass < 3 && !rc; pass++) {
        rc = rill_stream_push(s, X, y, N_ROWS);
        rc = rc ? rc : rill_stream_flush(s);
    }
    rill_stream_free(s);
    rc = rc ? rc : rill_model_save(m, NULL, 0, &j->blob_size);
    if (!rc && (j->blob = malloc(j->blob_size)) == NULL)
        rc = RILL_ENOMEM;
    rc = rc ? rc : rill_model_save(m, j->blob, j->blob_size, &j->blob_size);
    rc = rc ? rc : rill_model_load(&loaded, j->blob, j->blob_size);
    j->n_w = rill_model_n_weights(m);
    rc = rc ? rc : rill_model_weights(m, j->w, sizeof j->w / sizeof j->w[0]);
    rc = rc ? rc : rill_predict(loaded, X, N_ROWS, j->pred);
    rill_model_free(loaded);
    rill_model_free(m);
    j->ok = rc == RILL_OK;
}

static void *job_thread(void *arg)
{
    run_job(arg);
    return NULL;
}

static int same_job(const struct job *a, const struct job *b)
{
    size_t k = a->loss == RILL_SOFTMAX ? N_CLASSES : 1;
    return a->ok && b->ok && a->n_w == b->n_w &&
           memcmp(a->w, b->w, a->n_w * sizeof(double)) == 0 &&
           memcmp(a->pred, b->pred, N_ROWS * k * sizeof(double)) == 0 &&
           a->blob_size == b->blob_size && memcmp(a->blob, b->blob, a->blob_size) == 0 &&
           a->callbacks == b->callbacks && a->callbacks > 0;
}

static void test_own_models(void)
{
    static const int losses[N_THREADS] = {RILL_SQUARED, RILL_LOGISTIC, RILL_SOFTMAX, RILL_SOFTMAX};
    struct job ref[N_THREADS], par[N_THREADS];
    pthread_t t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        ref[i].loss = par[i].loss = losses[i];
        run_job(&ref[i]);
        check(ref[i].ok, "single-threaded job trains");
    }
    for (int i = 0; i < N_THREADS; i++)
        check(pthread_create(&t[i], NULL, job_thread, &par[i]) == 0, "pthread_create");
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(t[i], NULL);
    int equal = 0;
    for (int i = 0; i < N_THREADS; i++) {
        int same = same_job(&ref[i], &par[i]);
        equal += same;
        check(same, "a model trained on its own thread equals the single-threaded one");
        free(ref[i].blob);
        free(par[i].blob);
    }
    printf("own models: %d of %d threads bit-identical to single-threaded\n", equal, N_THREADS);
}

/* ------------------------------------------------------------ 2. one shared const model */

struct const_results {
    double pred[N_ROWS * N_CLASSES];
    double labels[N_ROWS];
    double grad[N_CLASSES * (N_FEATURES + 1)];
    double loss_sum;
    double stats[6];
    double w[N_CLASSES * (N_FEATURES + 1)];
    size_t n_w;
    unsigned char blob[1 << 16];
    size_t blob_size;
    double clone_pred[N_ROWS * N_CLASSES];
    char error[64];
    int rc;
};

static const int stat_params[6] = {RILL_L2, RILL_STAT_EPOCHS, RILL_STAT_LOSS, RILL_STAT_ROWS,
                                   RILL_MODEL_N_FEATURES, RILL_MODEL_N_CLASSES};

static void const_calls(const rill_model *m, struct const_results *r)
{
    memset(r, 0, sizeof *r);
    int rc = rill_predict(m, X, N_ROWS, r->pred);
    rc = rc ? rc : rill_classify(m, X, N_ROWS, r->labels);
    rc = rc ? rc : rill_gradient(m, X, y_cls, N_ROWS, r->grad, &r->loss_sum);
    for (int i = 0; i < 6 && !rc; i++)
        rc = rill_model_get(m, stat_params[i], &r->stats[i]);
    r->n_w = rill_model_n_weights(m);
    rc = rc ? rc : rill_model_weights(m, r->w, sizeof r->w / sizeof r->w[0]);
    rc = rc ? rc : rill_model_save(m, r->blob, sizeof r->blob, &r->blob_size);
    rill_model *copy = NULL;
    rc = rc ? rc : rill_model_clone(&copy, m);
    rc = rc ? rc : rill_predict(copy, X, N_ROWS, r->clone_pred);
    rill_model_free(copy);
    strncpy(r->error, rill_model_error(m), sizeof r->error - 1);
    r->rc = rc;
}

/* What every concurrent worker carries first: the barrier all start behind, its mismatches. */
struct worker {
    pthread_barrier_t *start;
    int mismatches;
};

/* Runs fn on N_THREADS workers (the elements of `workers`, `size` bytes apart, each starting
 * with a struct worker) released together; returns their mismatches in total. */
static int run_workers(void *(*fn)(void *), void *workers, size_t size)
{
    pthread_barrier_t start;
    pthread_t t[N_THREADS];
    int started[N_THREADS], mismatches = 0;
    pthread_barrier_init(&start, NULL, N_THREADS);
    for (int i = 0; i < N_THREADS; i++) {
        struct worker *w = (struct worker *)((char *)workers + (size_t)i * size);
        w->start = &start;
        w->mismatches = 0;
        started[i] = pthread_create(&t[i], NULL, fn, w) == 0;
        check(started[i], "pthread_create");
    }
    for (int i = 0; i < N_THREADS; i++) {
        if (started[i])
            pthread_join(t[i], NULL);
        mismatches += ((struct worker *)((char *)workers + (size_t)i * size))->mismatches;
    }
    pthread_barrier_destroy(&start);
    return mismatches;
}

struct reader {
    struct worker w;
    const rill_model *m;
    const struct const_results *ref;
};

static void *reader_thread(void *arg)
{
    struct reader *rd = arg;
    struct const_results *r = malloc(sizeof *r);
    pthread_barrier_wait(rd->w.start);
    for (int round = 0; r && round < ROUNDS; round++) {
        const_calls(rd->m, r);
        rd->w.mismatches += r->rc != RILL_OK || memcmp(r, rd->ref, sizeof *r) != 0;
    }
    rd->w.mismatches += r == NULL;
    free(r);
    return NULL;
}

static void test_shared_model(void)
{
    rill_model *m = NULL;
    int rc = rill_model_new(&m, RILL_SOFTMAX, N_FEATURES, N_CLASSES);
    rc = rc ? rc : rill_model_set(m, RILL_L2, 1e-2);
    rc = rc ? rc : rill_fit(m, X, y_cls, N_ROWS);
    /* Leave the batch optimizer between evaluations, so that rill_gradient reads a trial point
     * rather than the accepted weights. */
    double g[N_CLASSES * (N_FEATURES + 1)], l;
    rc = rc ? rc : rill_gradient(m, X, y_cls, N_ROWS, g, &l);
    rc = rc ? rc : rill_apply_gradient(m, g, l, N_ROWS);
    check(rc == RILL_OK, "shared model trains");

    struct const_results *ref = malloc(sizeof *ref);
    check(ref != NULL, "malloc");
    if (!ref || rc) {
        free(ref);
        rill_model_free(m);
        return;
    }
    const_calls(m, ref);
    check(ref->rc == RILL_OK, "const calls succeed");

    struct reader rd[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        rd[i] = (struct reader){{NULL, 0}, m, ref};
    const int mismatches = run_workers(reader_thread, rd, sizeof rd[0]);
    check(mismatches == 0, "concurrent const calls on one model equal the single-threaded ones");
    printf("shared model: %d threads x %d rounds of 9 const calls, %d mismatches\n", N_THREADS,
           ROUNDS, mismatches);

    /* The model is unchanged by them: the same calls again give the same results. */
    struct const_results *after = malloc(sizeof *after);
    if (after) {
        const_calls(m, after);
        check(memcmp(after, ref, sizeof *ref) == 0, "const calls left the model unchanged");
    }
    free(after);
    free(ref);
    rill_model_free(m);
}

/* ------------------------------------------------------------ 3. RILL_THREADS = 2 */

#define BIG_ROWS 40000 /* x 6 features x 3 classes: past the size at which parts get threads */

struct big {
    struct worker w;
    const rill_model *m;
    const double *X, *y, *g_ref, *l_ref;
};

static void *big_thread(void *arg)
{
    struct big *b = arg;
    double g[N_CLASSES * (N_FEATURES + 1)], l;
    pthread_barrier_wait(b->w.start);
    for (int round = 0; round < 2; round++) {
        int rc = rill_gradient(b->m, b->X, b->y, BIG_ROWS, g, &l);
        b->w.mismatches += rc != RILL_OK || memcmp(g, b->g_ref, sizeof g) != 0 ||
                         memcmp(&l, b->l_ref, sizeof l) != 0;
    }
    return NULL;
}

/* A rill_fit with RILL_THREADS = 2 on a thread of its own; its progress callback must run on
 * that thread (the calling one), not on a part's. */
struct fit_job {
    rill_model *m;
    const double *X, *y;
    pthread_t self;
    int calls, elsewhere, rc;
};

static int fit_progress(void *user, const rill_model *m)
{
    struct fit_job *f = user;
    (void)m;
    f->calls++;
    f->elsewhere += !pthread_equal(pthread_self(), f->self);
    return 0;
}

static void *fit_thread(void *arg)
{
    struct fit_job *f = arg;
    f->self = pthread_self();
    f->rc = rill_model_set_progress(f->m, fit_progress, f);
    f->rc = f->rc ? f->rc : rill_fit(f->m, f->X, f->y, BIG_ROWS);
    return NULL;
}

/* A thread with a cancellation request pending calls rill_gradient with RILL_THREADS = 2: the
 * call has no cancellation point (pthread_join inside it had one), so it returns, and the
 * request acts at the thread's next one. */
struct cancelled {
    const rill_model *m;
    const double *X, *y;
    int returned, rc;
};

static void *cancelled_thread(void *arg)
{
    struct cancelled *c = arg;
    double g[N_CLASSES * (N_FEATURES + 1)], l;
    pthread_cancel(pthread_self());
    c->rc = rill_gradient(c->m, c->X, c->y, BIG_ROWS, g, &l);
    c->returned = 1;
    pthread_testcancel();
    return NULL;
}

static void test_part_threads(void)
{
    double *bx = malloc(BIG_ROWS * N_FEATURES * sizeof *bx), *by = malloc(BIG_ROWS * sizeof *by);
    rill_model *m = NULL, *f1 = NULL, *f2 = NULL;
    check(bx && by, "malloc");
    if (!bx || !by) {
        free(bx);
        free(by);
        return;
    }
    for (size_t i = 0; i < BIG_ROWS; i++) { /* the small set, repeated with a shift */
        for (size_t j = 0; j < N_FEATURES; j++)
            bx[i * N_FEATURES + j] = X[(i % N_ROWS) * N_FEATURES + j] + 1e-3 * (double)(i / N_ROWS);
        by[i] = y_cls[i % N_ROWS];
    }
    int rc = rill_model_new(&m, RILL_SOFTMAX, N_FEATURES, N_CLASSES);
    rc = rc ? rc : rill_model_set(m, RILL_L2, 1e-2);
    rc = rc ? rc : rill_model_set(m, RILL_MAX_EPOCHS, 5);
    rc = rc ? rc : rill_fit(m, X, y_cls, N_ROWS);
    rc = rc ? rc : rill_model_set(m, RILL_THREADS, 2);
    double g[N_CLASSES * (N_FEATURES + 1)], l;
    rc = rc ? rc : rill_gradient(m, bx, by, BIG_ROWS, g, &l);
    check(rc == RILL_OK || rc == RILL_EUNSUPPORTED, "RILL_THREADS = 2 on a shared model");
    if (rc == RILL_OK) {
        struct big b[N_THREADS];
        for (int i = 0; i < N_THREADS; i++)
            b[i] = (struct big){{NULL, 0}, m, bx, by, g, &l};
        const int mismatches = run_workers(big_thread, b, sizeof b[0]);
        check(mismatches == 0, "concurrent two-part rill_gradient calls equal one call");
        printf("RILL_THREADS = 2: %d threads x 2 gradients of %d rows, %d mismatches\n",
               N_THREADS, BIG_ROWS, mismatches);
        {
            struct cancelled c = {m, bx, by, 0, -1};
            pthread_t t;
            void *ret = NULL;
            if (pthread_create(&t, NULL, cancelled_thread, &c) == 0) {
                pthread_join(t, &ret);
                check(c.returned && c.rc == RILL_OK && ret == PTHREAD_CANCELED,
                      "a cancellation request waits until rill_gradient returns");
            }
        }
        rc = rill_model_new(&f1, RILL_SOFTMAX, N_FEATURES, N_CLASSES);
        rc = rc ? rc : rill_model_set(f1, RILL_THREADS, 2);
        rc = rc ? rc : rill_model_set(f1, RILL_MAX_EPOCHS, 20);
        rc = rc ? rc : rill_model_clone(&f2, f1);
        if (rc == RILL_OK) { /* the two fits at once, each from an application thread */
            struct fit_job fj[2] = {{f1, bx, by, pthread_self(), 0, 0, -1},
                                    {f2, bx, by, pthread_self(), 0, 0, -1}};
            pthread_t t[2];
            int started[2];
            for (int i = 0; i < 2; i++)
                started[i] = pthread_create(&t[i], NULL, fit_thread, &fj[i]) == 0;
            for (int i = 0; i < 2; i++)
                if (started[i])
                    pthread_join(t[i], NULL);
                else
                    fit_thread(&fj[i]);
            check(fj[0].rc == RILL_OK && fj[1].rc == RILL_OK, "concurrent RILL_THREADS = 2 fits");
            check(fj[0].calls > 0 && fj[0].elsewhere == 0 && fj[1].elsewhere == 0,
                  "the progress callback runs on the thread that called rill_fit");
            rc = fj[0].rc ? fj[0].rc : fj[1].rc;
        }
        double w1[N_CLASSES * (N_FEATURES + 1)], w2[N_CLASSES * (N_FEATURES + 1)];
        rc = rc ? rc : rill_model_weights(f1, w1, N_CLASSES * (N_FEATURES + 1));
        rc = rc ? rc : rill_model_weights(f2, w2, N_CLASSES * (N_FEATURES + 1));
        check(rc == RILL_OK && memcmp(w1, w2, sizeof w1) == 0,
              "two concurrent rill_fit runs with RILL_THREADS = 2 give the same bits");
    } else {
        printf("RILL_THREADS = 2: not in this build\n");
    }
    rill_model_free(f1);
    rill_model_free(f2);
    rill_model_free(m);
    free(bx);
    free(by);
}

int main(void)
{
    make_data();
    test_own_models();
    test_shared_model();
    test_part_threads();
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
