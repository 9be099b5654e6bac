/*
 * Failure behaviour: bad data, bad arguments, parameters and their bounds, status strings and
 * versions, divergence, stale sums, allocators (every allocation through the caller's, none
 * leaked, failures clean) and clones.
 *
 * This executable is linked with -Wl,--wrap for malloc and friends (see meson.build), so that
 * the test can tell whether the library (linked statically) calls the C allocator behind a
 * caller-supplied rill_alloc.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"
#include "ref.h"
#include "tmain.h"
#include "tutil.h"
#include "cspy.h"

/* ------------------------------------------------------------------ counting allocator */

#define MAX_LIVE 512

typedef struct counter {
    long calls;      /* alloc calls */
    long live;       /* outstanding blocks */
    long fail_at;    /* the call index that fails (-1: never) */
    int fail_always; /* every call fails */
    int bad_free;    /* a free that did not match a live block (pointer and size) */
    int bad_align;   /* a block not aligned as asked, or align not a power of two */
    void *ptr[MAX_LIVE];
    size_t size[MAX_LIVE];
} counter;

static void *count_alloc(void *ctx, size_t size, size_t align)
{
    counter *c = ctx;
    void *p = NULL;
    long i;
    long call = c->calls++;
    if (align == 0 || (align & (align - 1)) != 0)
        c->bad_align = 1;
    if (c->fail_always || call == c->fail_at)
        return NULL;
    if (__real_posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align,
                              size ? size : 1) != 0)
        return NULL;
    if (align && ((uintptr_t)p & (align - 1)) != 0)
        c->bad_align = 1;
    for (i = 0; i < MAX_LIVE; i++)
        if (c->ptr[i] == NULL) {
            c->ptr[i] = p;
            c->size[i] = size;
            break;
        }
    if (i == MAX_LIVE)
        abort();
    c->live++;
    /* poison: the library must not rely on zeroed memory */
    memset(p, 0xA5, size);
    return p;
}

static void count_free(void *ctx, void *ptr, size_t size)
{
    counter *c = ctx;
    long i;
    if (!ptr)
        return;
    for (i = 0; i < MAX_LIVE; i++)
        if (c->ptr[i] == ptr) {
            if (c->size[i] != size)
                c->bad_free = 1;
            c->ptr[i] = NULL;
            c->live--;
            __real_free(ptr);
            return;
        }
    c->bad_free = 1;
}

static rill_alloc counting(counter *c)
{
    rill_alloc a;
    memset(c, 0, sizeof *c);
    c->fail_at = -1;
    a.alloc = count_alloc;
    a.free = count_free;
    a.ctx = c;
    return a;
}

/* ------------------------------------------------------------------ model snapshots */

static const int all_params[] = {1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11, 100,
                                 101, 102, 103, 104, 105, 106, 200, 201, 202};
#define N_PARAMS ((int)(sizeof all_params / sizeof all_params[0]))

typedef struct snap {
    size_t nw;
    double w[2048];
    double p[N_PARAMS];
} snap;

static void take(const rill_model *m, snap *s)
{
    int i;
    memset(s, 0, sizeof *s);
    s->nw = rill_model_n_weights(m);
    ck_assert_msg(s->nw <= 2048, "snapshot too small");
    ck_assert_int_eq(rill_model_weights(m, s->w, s->nw), RILL_OK);
    for (i = 0; i < N_PARAMS; i++)
        ck_assert_msg(rill_model_get(m, all_params[i], &s->p[i]) == RILL_OK,
                      "rill_model_get(%d) failed", all_params[i]);
}

static void same(const rill_model *m, const snap *before, const char *what)
{
    snap now;
    int i;
    take(m, &now);
    ck_assert_msg(now.nw == before->nw, "%s: n_weights changed", what);
    ck_assert_msg(memcmp(now.w, before->w, now.nw * sizeof(double)) == 0,
                  "%s: the weights changed (w[0] %.17g -> %.17g)", what, before->w[0], now.w[0]);
    for (i = 0; i < N_PARAMS; i++)
        ck_assert_msg(memcmp(&now.p[i], &before->p[i], sizeof(double)) == 0,
                      "%s: parameter/statistic %d changed: %.17g -> %.17g", what, all_params[i],
                      before->p[i], now.p[i]);
}

/* "row 5" (word "row", then the number, then a non-digit), case-insensitive */
static int mentions(const char *msg, const char *word, size_t number)
{
    char num[32];
    size_t wl = strlen(word), nl;
    const char *p;
    snprintf(num, sizeof num, "%zu", number);
    nl = strlen(num);
    for (p = msg; *p; p++) {
        size_t k;
        const char *q;
        for (k = 0; k < wl; k++)
            if (!p[k] || tolower((unsigned char)p[k]) != word[k])
                break;
        if (k < wl)
            continue;
        q = p + wl;
        while (*q == ' ' || *q == '#' || *q == ':' || *q == '=')
            q++;
        if (strncmp(q, num, nl) == 0 && !isdigit((unsigned char)q[nl]))
            return 1;
    }
    return 0;
}

/* A model with some history (steps taken, statistics non-zero) and rows to feed it. */
static rill_model *busy_model(int loss, size_t d, size_t K, double **X, double **y, size_t n)
{
    ref_rng r;
    rill_model *m = NULL;
    ref_rng_seed(&r, 42 + (uint64_t)loss);
    ref_random_problem(&r, loss, n, d, tu_classes_for(loss, K), 1.0, X, y);
    ck_assert_int_eq(rill_model_new(&m, loss, d, tu_classes_for(loss, K)), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_LEARNING_RATE, 0.05), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_L2, 1e-3), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_AVERAGE, 3), RILL_OK);
    ck_assert_int_eq(rill_step(m, *X, *y, 4), RILL_OK);
    ck_assert_int_eq(rill_step(m, *X + 4 * d, *y + 4, 3), RILL_OK);
    ck_assert_int_eq(rill_step(m, *X + 7 * d, *y + 7, 2), RILL_OK);
    return m;
}

/* ------------------------------------------------------------------ bad data */

struct bad_case {
    const char *name;
    int loss;
    int in_y;     /* the bad value is in y (else X) */
    double value; /* the bad value */
};

static const struct bad_case bad_cases[] = {
    {"X NaN (squared)", RILL_SQUARED, 0, NAN},
    {"X +Inf (logistic)", RILL_LOGISTIC, 0, INFINITY},
    {"X -Inf (softmax)", RILL_SOFTMAX, 0, -INFINITY},
    {"y NaN (squared)", RILL_SQUARED, 1, NAN},
    {"y Inf (squared)", RILL_SQUARED, 1, INFINITY},
    {"logistic label 2", RILL_LOGISTIC, 1, 2.0},
    {"logistic label -1", RILL_LOGISTIC, 1, -1.0},
    {"logistic label 0.5", RILL_LOGISTIC, 1, 0.5},
    {"logistic label NaN", RILL_LOGISTIC, 1, NAN},
    {"softmax label K", RILL_SOFTMAX, 1, 4.0},
    {"softmax label -1", RILL_SOFTMAX, 1, -1.0},
    {"softmax label 1.5", RILL_SOFTMAX, 1, 1.5},
    {"softmax label 1e300", RILL_SOFTMAX, 1, 1e300},
    /* the edges of the vectorized label checks */
    {"logistic label +Inf", RILL_LOGISTIC, 1, INFINITY},
    {"logistic label -Inf", RILL_LOGISTIC, 1, -INFINITY},
    {"logistic label 1 + ulp", RILL_LOGISTIC, 1, 0x1.0000000000001p0},
    {"logistic label tiny", RILL_LOGISTIC, 1, 0x1p-1074},
    {"softmax label NaN", RILL_SOFTMAX, 1, NAN},
    {"softmax label +Inf", RILL_SOFTMAX, 1, INFINITY},
    {"softmax label -Inf", RILL_SOFTMAX, 1, -INFINITY},
    {"softmax label K - ulp", RILL_SOFTMAX, 1, 0x1.fffffffffffffp1},
    {"softmax label 2 + ulp", RILL_SOFTMAX, 1, 0x1.0000000000001p1},
    {"softmax label 0.5", RILL_SOFTMAX, 1, 0.5},
    {"softmax label tiny", RILL_SOFTMAX, 1, 0x1p-1074},
    {"softmax label -0.5", RILL_SOFTMAX, 1, -0.5},
    {"softmax label 2^52", RILL_SOFTMAX, 1, 0x1p52},
    {"softmax label 2^53 + 1", RILL_SOFTMAX, 1, 0x1p53 + 2.0},
};

/* rill_fit does not scan X before its first epoch: a NaN or Inf must still be refused, with
 * its row and column and nothing changed, on every kernel the epoch can take: the portable
 * one, CBLAS softmax (classes x features >= 1024) from zero weights, two threads' parts. */
START_TEST(test_fit_finds_bad_rows_in_every_kernel)
{
    const size_t n = 200, bad_row = 130, bad_col = 3;
    const struct {
        int loss;
        size_t d, K;
        double threads;
    } cfg[] = {{RILL_SQUARED, 5, 0, 1.0},   {RILL_LOGISTIC, 40, 2, 1.0},
               {RILL_SOFTMAX, 300, 4, 1.0}, {RILL_SOFTMAX, 300, 4, 2.0},
               {RILL_LOGISTIC, 600, 2, 2.0}};
    const double values[] = {NAN, INFINITY, -INFINITY};
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++)
        for (size_t v = 0; v < 3; v++) {
            ref_rng r;
            double *X, *y;
            snap before;
            ref_rng_seed(&r, 300 + 3 * c + v);
            ref_random_problem(&r, cfg[c].loss, n, cfg[c].d, cfg[c].K, 1.0, &X, &y);
            rill_model *m = tu_new_model(cfg[c].loss, cfg[c].d, cfg[c].K);
            if (rill_model_set(m, RILL_THREADS, cfg[c].threads) != RILL_OK) { /* no threads */
                rill_model_free(m);
                free(X);
                free(y);
                continue;
            }
            X[bad_row * cfg[c].d + bad_col] = values[v];
            take(m, &before);
            int rc = rill_fit(m, X, y, n);
            ck_assert_msg(rc == RILL_EDATA, "%s d=%zu threads %g, %g in X: rill_fit = %d",
                          tu_loss_name(cfg[c].loss), cfg[c].d, cfg[c].threads, values[v], rc);
            same(m, &before, "rill_fit");
            ck_assert_msg(mentions(rill_model_error(m), "row", bad_row) &&
                              mentions(rill_model_error(m), "column", bad_col),
                          "error \"%s\" does not name row %zu, column %zu",
                          rill_model_error(m), bad_row, bad_col);
            rill_model_free(m);
            free(X);
            free(y);
        }
}
END_TEST

START_TEST(test_bad_data)
{
    const struct bad_case *bc = &bad_cases[_i];
    const size_t n = 30, d = 4, K = 4, bad_row = 5, bad_col = 2;
    double *X, *y, *out, g[32], l;
    rill_model *m = busy_model(bc->loss, d, K, &X, &y, n);
    snap before;
    const char *err;
    int rc, call;

    if (bc->in_y)
        y[bad_row] = bc->value;
    else
        X[bad_row * d + bad_col] = bc->value;

    for (call = 0; call < 2; call++) {
        const char *cname = call == 0 ? "rill_fit" : "rill_step";
        take(m, &before);
        rc = call == 0 ? rill_fit(m, X, y, n) : rill_step(m, X, y, n);
        ck_assert_msg(rc == RILL_EDATA, "%s: %s = %d, expected RILL_EDATA", bc->name, cname, rc);
        same(m, &before, cname);
        err = rill_model_error(m);
        ck_assert_msg(err != NULL && mentions(err, "row", bad_row),
                      "%s: %s: error \"%s\" does not name row %zu", bc->name, cname,
                      err ? err : "(null)", bad_row);
        if (!bc->in_y)
            ck_assert_msg(mentions(err, "column", bad_col),
                          "%s: %s: error \"%s\" does not name column %zu", bc->name, cname, err,
                          bad_col);
        /* the model still works afterwards, and a success clears the detail */
        ck_assert_int_eq(rill_step(m, X, y, 2), RILL_OK);
        ck_assert_msg(rill_model_error(m)[0] == '\0', "%s: error detail not cleared: \"%s\"",
                      bc->name, rill_model_error(m));
    }

    /* the bad row alone (rill_step's one-row path): refused the same way, as the call's row 0 */
    take(m, &before);
    rc = rill_step(m, X + bad_row * d, y + bad_row, 1);
    ck_assert_msg(rc == RILL_EDATA, "%s: one-row rill_step = %d, expected RILL_EDATA", bc->name,
                  rc);
    same(m, &before, "one-row rill_step");
    err = rill_model_error(m);
    ck_assert_msg(mentions(err, "row", 0) && (bc->in_y || mentions(err, "column", bad_col)),
                  "%s: one-row rill_step: error \"%s\" does not name row 0 (and column %zu)",
                  bc->name, err, bad_col);
    ck_assert_int_eq(rill_step(m, X, y, 1), RILL_OK);
    ck_assert_msg(rill_model_error(m)[0] == '\0', "%s: one-row step left the detail: \"%s\"",
                  bc->name, rill_model_error(m));

    /* const calls: refused, no detail written */
    take(m, &before);
    rc = rill_gradient(m, X, y, n, g, &l);
    ck_assert_msg(rc == RILL_EDATA, "%s: rill_gradient = %d", bc->name, rc);
    same(m, &before, "rill_gradient");
    ck_assert_msg(rill_model_error(m)[0] == '\0', "%s: a const call wrote the error detail",
                  bc->name);
    if (!bc->in_y) {
        out = malloc(n * K * sizeof *out);
        rc = rill_predict(m, X, n, out);
        ck_assert_msg(rc == RILL_EDATA, "%s: rill_predict = %d", bc->name, rc);
        rc = rill_classify(m, X, n, out);
        ck_assert_msg(rc == RILL_EDATA, "%s: rill_classify = %d", bc->name, rc);
        free(out);
    }
    /* the stream's push is all-or-nothing and counts rows over the stream */
    {
        rill_stream *s = NULL;
        ck_assert_int_eq(rill_stream_new(&s, m, 4, RILL_STREAM_STEP), RILL_OK);
        ck_assert_int_eq(rill_stream_push(s, X + 10 * d, y + 10, 3), RILL_OK);
        take(m, &before);
        rc = rill_stream_push(s, X, y, n);
        ck_assert_msg(rc == RILL_EDATA, "%s: rill_stream_push = %d", bc->name, rc);
        same(m, &before, "rill_stream_push");
        ck_assert_msg(mentions(rill_model_error(m), "row", 3 + bad_row),
                      "%s: push error \"%s\" does not name stream row %zu", bc->name,
                      rill_model_error(m), 3 + bad_row);
        rill_stream_free(s);
    }
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

/* The labels at the edges of the valid sets are accepted: -0 and 1 (logistic), -0 and K - 1
 * (softmax), among many rows (the label checks run in vectorized loops). */
START_TEST(test_edge_labels_accepted)
{
    const size_t n = 37, d = 2, K = 4;
    for (int loss = RILL_LOGISTIC; loss <= RILL_SOFTMAX; loss++) {
        double X[37 * 2], y[37], g[12], l;
        for (size_t i = 0; i < n; i++) {
            X[i * d] = (double)i / 7.0;
            X[i * d + 1] = 1.0 - (double)i / 11.0;
            y[i] = i % 3 == 0 ? -0.0 : loss == RILL_LOGISTIC ? 1.0 : (double)(K - 1);
        }
        rill_model *m = tu_new_model_for(loss, d, K);
        ck_assert_msg(rill_gradient(m, X, y, n, g, &l) == RILL_OK, "%s: edge labels refused",
                      tu_loss_name(loss));
        ck_assert_msg(rill_step(m, X, y, n) == RILL_OK, "%s: edge labels refused by rill_step",
                      tu_loss_name(loss));
        rill_model_free(m);
    }
}
END_TEST

/* ------------------------------------------------------------------ bad arguments */

START_TEST(test_null_and_empty)
{
    const size_t n = 12, d = 3;
    double *X, *y, g[4], l, out[12], w[4];
    rill_model *m = busy_model(RILL_SQUARED, d, 0, &X, &y, n);
    rill_model *c = (rill_model *)&c;
    rill_stream *s = (rill_stream *)&s;
    snap before;
    size_t sz;

    take(m, &before);
    ck_assert_int_eq(rill_fit(NULL, X, y, n), RILL_EINVAL);
    ck_assert_int_eq(rill_fit(m, NULL, y, n), RILL_EINVAL);
    ck_assert_int_eq(rill_fit(m, X, NULL, n), RILL_EINVAL);
    ck_assert_int_eq(rill_fit(m, X, y, 0), RILL_EINVAL);
    ck_assert_int_eq(rill_step(NULL, X, y, n), RILL_EINVAL);
    ck_assert_int_eq(rill_step(m, NULL, y, n), RILL_EINVAL);
    ck_assert_int_eq(rill_step(m, X, NULL, n), RILL_EINVAL);
    ck_assert_int_eq(rill_step(m, X, y, 0), RILL_EINVAL);
    ck_assert_int_eq(rill_gradient(NULL, X, y, n, g, &l), RILL_EINVAL);
    ck_assert_int_eq(rill_gradient(m, NULL, y, n, g, &l), RILL_EINVAL);
    ck_assert_int_eq(rill_gradient(m, X, NULL, n, g, &l), RILL_EINVAL);
    ck_assert_int_eq(rill_gradient(m, X, y, 0, g, &l), RILL_EINVAL);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_predict(NULL, X, n, out), RILL_EINVAL);
    ck_assert_int_eq(rill_predict(m, NULL, n, out), RILL_EINVAL);
    ck_assert_int_eq(rill_predict(m, X, 0, out), RILL_EINVAL);
    ck_assert_int_eq(rill_predict(m, X, n, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_classify(NULL, X, n, out), RILL_EINVAL);
    ck_assert_int_eq(rill_classify(m, NULL, n, out), RILL_EINVAL);
    ck_assert_int_eq(rill_classify(m, X, 0, out), RILL_EINVAL);
    ck_assert_int_eq(rill_classify(m, X, n, NULL), RILL_EINVAL);
    /* out overlapping X: a row's scores would overwrite features still to be read */
    ck_assert_int_eq(rill_predict(m, X, n, X), RILL_EINVAL);
    ck_assert_int_eq(rill_predict(m, X, n, X + n * d - 1), RILL_EINVAL);
    ck_assert_int_eq(rill_classify(m, X + 1, n - 1, X), RILL_EINVAL);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(NULL, g, l, (double)n), RILL_EINVAL);
    ck_assert_int_eq(rill_apply_gradient(m, NULL, l, (double)n), RILL_EINVAL);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, 0.0), RILL_EINVAL);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, -1.0), RILL_EINVAL);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, NAN), RILL_EINVAL);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, INFINITY), RILL_EINVAL);
    ck_assert_int_eq(rill_model_weights(NULL, w, 4), RILL_EINVAL);
    ck_assert_int_eq(rill_model_weights(m, NULL, 4), RILL_EINVAL);
    ck_assert_int_eq(rill_model_weights(m, w, 3), RILL_ERANGE);
    ck_assert_int_eq(rill_model_set_weights(NULL, w, 4), RILL_EINVAL);
    ck_assert_int_eq(rill_model_set_weights(m, NULL, 4), RILL_EINVAL);
    ck_assert_int_eq(rill_model_set_weights(m, w, 3), RILL_EINVAL);
    ck_assert_int_eq(rill_model_set_weights(m, w, 5), RILL_EINVAL);
    w[0] = 1.0;
    w[1] = NAN;
    w[2] = 0.0;
    w[3] = 0.0;
    ck_assert_int_eq(rill_model_set_weights(m, w, 4), RILL_EDATA);
    w[1] = INFINITY;
    ck_assert_int_eq(rill_model_set_weights(m, w, 4), RILL_EDATA);
    ck_assert_int_eq(rill_model_set(NULL, RILL_L2, 1.0), RILL_EINVAL);
    ck_assert_int_eq(rill_model_get(NULL, RILL_L2, &l), RILL_EINVAL);
    ck_assert_int_eq(rill_model_get(m, RILL_L2, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_model_clone(NULL, m), RILL_EINVAL);
    ck_assert_int_eq(rill_model_clone(&c, NULL), RILL_EINVAL);
    ck_assert_msg(c == (rill_model *)&c, "rill_model_clone wrote *out on failure");
    ck_assert_int_eq(rill_stream_new(NULL, m, 4, RILL_STREAM_STEP), RILL_EINVAL);
    ck_assert_int_eq(rill_stream_new(&s, NULL, 4, RILL_STREAM_STEP), RILL_EINVAL);
    ck_assert_int_eq(rill_stream_new(&s, m, 0, RILL_STREAM_STEP), RILL_EINVAL);
    ck_assert_int_eq(rill_stream_new(&s, m, 4, 99), RILL_EUNSUPPORTED);
    ck_assert_msg(s == (rill_stream *)&s, "rill_stream_new wrote *out on failure");
    ck_assert_int_eq(rill_model_set_progress(NULL, NULL, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_model_save(NULL, NULL, 0, &sz), RILL_EINVAL);
    ck_assert_int_eq(rill_model_save(m, NULL, 0, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_model_load(NULL, X, 16), RILL_EINVAL);
    ck_assert_int_eq(rill_model_load(&c, NULL, 16), RILL_EINVAL);
    ck_assert_msg(c == (rill_model *)&c, "rill_model_load wrote *out on failure");
    ck_assert_msg(rill_model_n_weights(NULL) == 0, "rill_model_n_weights(NULL) != 0");
    ck_assert_msg(rill_model_error(NULL) != NULL, "rill_model_error(NULL) is NULL");
    rill_model_free(NULL);
    rill_stream_free(NULL);
    same(m, &before, "after the refused calls");
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

START_TEST(test_model_new_errors)
{
    static const struct {
        int loss;
        size_t d, K;
        int expect;
    } cases[] = {
        {RILL_SQUARED, 3, 1, RILL_EINVAL},   {RILL_SQUARED, 3, 2, RILL_EINVAL},
        {RILL_LOGISTIC, 3, 0, RILL_EINVAL},  {RILL_LOGISTIC, 3, 1, RILL_EINVAL},
        {RILL_LOGISTIC, 3, 3, RILL_EINVAL},  {RILL_SOFTMAX, 3, 0, RILL_EINVAL},
        {RILL_SOFTMAX, 3, 1, RILL_EINVAL},   {RILL_SQUARED, 0, 0, RILL_EINVAL},
        {RILL_LOGISTIC, 0, 2, RILL_EINVAL},  {RILL_SOFTMAX, 0, 3, RILL_EINVAL},
        {0, 3, 0, RILL_EUNSUPPORTED},        {4, 3, 0, RILL_EUNSUPPORTED},
        {-1, 3, 2, RILL_EUNSUPPORTED},       {99, 3, 3, RILL_EUNSUPPORTED},
        {RILL_SQUARED, SIZE_MAX, 0, RILL_ERANGE}, {RILL_SOFTMAX, SIZE_MAX / 4, 8, RILL_ERANGE},
        {RILL_SOFTMAX, 3, SIZE_MAX / 2, RILL_ERANGE},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rill_model *m = (rill_model *)&m;
        counter cnt;
        rill_alloc a = counting(&cnt);
        int rc = rill_model_new(&m, cases[i].loss, cases[i].d, cases[i].K);
        ck_assert_msg(rc == cases[i].expect, "rill_model_new(loss %d, d %zu, K %zu) = %d, expected %d",
                      cases[i].loss, cases[i].d, cases[i].K, rc, cases[i].expect);
        ck_assert_msg(m == (rill_model *)&m, "case %zu: *out written on failure", i);
        rc = rill_model_new_alloc(&m, cases[i].loss, cases[i].d, cases[i].K, &a);
        ck_assert_msg(rc == cases[i].expect, "rill_model_new_alloc(loss %d, d %zu, K %zu) = %d",
                      cases[i].loss, cases[i].d, cases[i].K, rc);
        ck_assert_msg(m == (rill_model *)&m, "case %zu: *out written on failure (alloc)", i);
        ck_assert_msg(cnt.live == 0, "case %zu: %ld blocks leaked", i, cnt.live);
    }
    {
        rill_model *m = (rill_model *)&m;
        counter cnt;
        rill_alloc a = counting(&cnt);
        ck_assert_int_eq(rill_model_new(NULL, RILL_SQUARED, 3, 0), RILL_EINVAL);
        ck_assert_int_eq(rill_model_new_alloc(&m, RILL_SQUARED, 3, 0, NULL), RILL_EINVAL);
        a.alloc = NULL;
        ck_assert_int_eq(rill_model_new_alloc(&m, RILL_SQUARED, 3, 0, &a), RILL_EINVAL);
        a = counting(&cnt);
        a.free = NULL;
        ck_assert_int_eq(rill_model_new_alloc(&m, RILL_SQUARED, 3, 0, &a), RILL_EINVAL);
        ck_assert_msg(m == (rill_model *)&m, "*out written on failure");
    }
}
END_TEST

/* ------------------------------------------------------------------ parameters */

/* Softmax predictions into the rows' own buffer came out wrong (RILL_OK): class 0's scores
 * overwrote the features classes 1 and 2 were scored from. Overlap is refused; a buffer
 * right after X is fine. */
START_TEST(test_predict_overlap)
{
    double buf[12] = {0.5, -1.0, 2.0}, ref[9];
    const double w[6] = {1.0, 0.2, -0.5, 0.1, 0.3, -0.4};
    rill_model *m = NULL;
    ck_assert_int_eq(rill_model_new(&m, RILL_SOFTMAX, 1, 3), RILL_OK);
    ck_assert_int_eq(rill_model_set_weights(m, w, 6), RILL_OK);
    ck_assert_int_eq(rill_predict(m, buf, 3, ref), RILL_OK);
    ck_assert_int_eq(rill_predict(m, buf, 3, buf), RILL_EINVAL);
    ck_assert_int_eq(rill_predict(m, buf, 3, buf + 2), RILL_EINVAL);
    ck_assert_int_eq(rill_classify(m, buf, 3, buf + 2), RILL_EINVAL);
    ck_assert_int_eq(rill_predict(m, buf, 3, buf + 3), RILL_OK);
    ck_assert_msg(memcmp(buf + 3, ref, sizeof ref) == 0, "adjacent buffer: other probabilities");
    rill_model_free(m);
}
END_TEST

START_TEST(test_unknown_params)
{
    static const int unknown[] = {0, -1, 13, 50, 99, 108, 150, 199, 203, 300, 9999};
    rill_model *m = NULL;
    double v = 123.0, lo = 1.0, hi = 2.0;
    size_t i;
    snap before;
    ck_assert_int_eq(rill_model_new(&m, RILL_LOGISTIC, 3, 2), RILL_OK);
    take(m, &before);
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        int p = unknown[i];
        ck_assert_msg(rill_model_set(m, p, 1.0) == RILL_EUNSUPPORTED, "set(%d) = %d", p,
                      rill_model_set(m, p, 1.0));
        ck_assert_msg(rill_model_get(m, p, &v) == RILL_EUNSUPPORTED, "get(%d) = %d", p,
                      rill_model_get(m, p, &v));
        ck_assert_msg(rill_param_bounds(p, &lo, &hi) == RILL_EUNSUPPORTED, "bounds(%d) = %d", p,
                      rill_param_bounds(p, &lo, &hi));
    }
    ck_assert_msg(v == 123.0 && lo == 1.0 && hi == 2.0, "outputs written for unknown parameters");
    same(m, &before, "unknown parameters");
    rill_model_free(m);
}
END_TEST

static int is_integer_param(int p)
{
    return p == RILL_SCHEDULE || p == RILL_FIT_INTERCEPT || p == RILL_MAX_EPOCHS ||
           p == RILL_BATCH_ROWS || p == RILL_AVERAGE || p == RILL_SEED;
}

START_TEST(test_param_bounds_enforced)
{
    rill_model *m = NULL;
    int p;
    ck_assert_int_eq(rill_model_new(&m, RILL_SOFTMAX, 3, 3), RILL_OK);
    for (p = RILL_LEARNING_RATE; p <= RILL_SEED; p++) {
        double lo = NAN, hi = NAN, v0, v;
        snap before;
        int rc;
        ck_assert_msg(rill_param_bounds(p, &lo, &hi) == RILL_OK, "bounds(%d)", p);
        ck_assert_msg(lo <= hi, "bounds(%d): lo %g > hi %g", p, lo, hi);
        ck_assert_msg(rill_param_bounds(p, NULL, NULL) == RILL_OK, "bounds(%d, NULL, NULL)", p);
        ck_assert_int_eq(rill_model_get(m, p, &v0), RILL_OK);
        ck_assert_msg(v0 >= lo && v0 <= hi, "param %d: default %g outside [%g, %g]", p, v0, lo, hi);
        take(m, &before);
        if (lo > -INFINITY) {
            double below = nextafter(lo, -INFINITY);
            rc = rill_model_set(m, p, below);
            ck_assert_msg(rc == RILL_EINVAL, "param %d: set(%.17g) just below lo %.17g = %d", p,
                          below, lo, rc);
            ck_assert_msg(strncmp(rill_model_error(m), "rill_model_set: RILL_", 21) == 0,
                          "param %d: the error detail does not name it: %s", p,
                          rill_model_error(m));
        }
        if (hi < INFINITY) {
            double above = nextafter(hi, INFINITY);
            rc = rill_model_set(m, p, above);
            ck_assert_msg(rc == RILL_EINVAL, "param %d: set(%.17g) just above hi %.17g = %d", p,
                          above, hi, rc);
        }
        ck_assert_msg(rill_model_set(m, p, NAN) == RILL_EINVAL, "param %d: set(NaN)", p);
        ck_assert_msg(rill_model_set(m, p, -INFINITY) == RILL_EINVAL, "param %d: set(-Inf)", p);
        ck_assert_msg(rill_model_set(m, p, INFINITY) == RILL_EINVAL, "param %d: set(+Inf)", p);
        if (is_integer_param(p)) {
            rc = rill_model_set(m, p, lo + 0.5);
            ck_assert_msg(rc == RILL_EINVAL, "param %d: non-integer %g accepted", p, lo + 0.5);
        }
        same(m, &before, "refused set");
        /* the bounds themselves are valid values */
        rc = rill_model_set(m, p, lo);
        ck_assert_msg(rc == RILL_OK, "param %d: set(lo = %.17g) = %d", p, lo, rc);
        ck_assert_int_eq(rill_model_get(m, p, &v), RILL_OK);
        ck_assert_msg(v == lo, "param %d: get after set(lo) = %.17g", p, v);
        rc = rill_model_set(m, p, hi);
        ck_assert_msg(rc == RILL_OK, "param %d: set(hi = %.17g) = %d", p, hi, rc);
        ck_assert_int_eq(rill_model_get(m, p, &v), RILL_OK);
        ck_assert_msg(v == hi, "param %d: get after set(hi) = %.17g", p, v);
        ck_assert_int_eq(rill_model_set(m, p, v0), RILL_OK);
    }
    /* the refusals name the parameter */
    ck_assert_int_eq(rill_model_set(m, RILL_TOL, 2.0), RILL_EINVAL);
    ck_assert_str_eq(rill_model_error(m),
                     "rill_model_set: RILL_TOL: outside its bounds (rill_param_bounds)");
    ck_assert_int_eq(rill_model_set(m, RILL_MAX_EPOCHS, 2.5), RILL_EINVAL);
    ck_assert_str_eq(rill_model_error(m), "rill_model_set: RILL_MAX_EPOCHS: takes an integer");
    ck_assert_int_eq(rill_model_set(m, RILL_STAT_LOSS, 1.0), RILL_EINVAL);
    ck_assert_str_eq(rill_model_error(m), "rill_model_set: RILL_STAT_LOSS: is read-only");
    /* read-only: get works, set refused with RILL_EINVAL */
    {
        static const int ro[] = {100, 101, 102, 103, 104, 105, 106, 200, 201, 202};
        size_t i;
        double v, lo, hi;
        for (i = 0; i < sizeof ro / sizeof ro[0]; i++) {
            snap before;
            take(m, &before);
            ck_assert_msg(rill_model_get(m, ro[i], &v) == RILL_OK, "get(%d)", ro[i]);
            ck_assert_msg(rill_param_bounds(ro[i], &lo, &hi) == RILL_OK, "bounds(%d)", ro[i]);
            ck_assert_msg(rill_model_set(m, ro[i], v) == RILL_EINVAL,
                          "set of read-only %d = %d, expected RILL_EINVAL", ro[i],
                          rill_model_set(m, ro[i], v));
            same(m, &before, "read-only set");
        }
        ck_assert_int_eq(rill_model_get(m, RILL_MODEL_LOSS, &v), RILL_OK);
        ck_assert_msg(v == RILL_SOFTMAX, "RILL_MODEL_LOSS %g", v);
        ck_assert_int_eq(rill_model_get(m, RILL_MODEL_N_FEATURES, &v), RILL_OK);
        ck_assert_msg(v == 3, "RILL_MODEL_N_FEATURES %g", v);
        ck_assert_int_eq(rill_model_get(m, RILL_MODEL_N_CLASSES, &v), RILL_OK);
        ck_assert_msg(v == 3, "RILL_MODEL_N_CLASSES %g", v);
    }
    rill_model_free(m);
}
END_TEST

START_TEST(test_strerror_and_version)
{
    int s;
    char buf[64];
    const char *unknown = rill_strerror(12345);
    ck_assert_msg(unknown != NULL && strcmp(unknown, "unknown status") == 0,
                  "rill_strerror(12345) = \"%s\"", unknown ? unknown : "(null)");
    for (s = -100; s <= 100; s++) {
        const char *t = rill_strerror(s);
        ck_assert_msg(t != NULL, "rill_strerror(%d) is NULL", s);
        ck_assert_msg(t[0] != '\0', "rill_strerror(%d) is empty", s);
        if (s <= 0 && s >= -8) {
            int u;
            ck_assert_msg(strcmp(t, "unknown status") != 0, "rill_strerror(%d) unknown", s);
            for (u = s + 1; u <= 0; u++)
                ck_assert_msg(strcmp(t, rill_strerror(u)) != 0, "rill_strerror(%d) == (%d)", s, u);
        } else {
            ck_assert_msg(strcmp(t, "unknown status") == 0, "rill_strerror(%d) = \"%s\"", s, t);
        }
    }
    ck_assert_msg(rill_version() == ((unsigned)RILL_VERSION_MAJOR << 16 |
                                     (unsigned)RILL_VERSION_MINOR << 8 | RILL_VERSION_PATCH),
                  "rill_version() = 0x%x", rill_version());
    snprintf(buf, sizeof buf, "%d.%d.%d", RILL_VERSION_MAJOR, RILL_VERSION_MINOR,
             RILL_VERSION_PATCH);
    ck_assert_msg(rill_version_string() != NULL && strcmp(rill_version_string(), buf) == 0,
                  "rill_version_string() = \"%s\", expected \"%s\"", rill_version_string(), buf);
}
END_TEST

/* ------------------------------------------------------------------ divergence */

START_TEST(test_divergence_fit)
{
    ref_data D;
    rill_model *m = NULL;
    double w[11];
    int rc;
    ref_load("diabetes.csv", &D);
    ck_assert_int_eq(rill_model_new(&m, RILL_SQUARED, D.d, 0), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_LEARNING_RATE, 1e6), RILL_OK);
    rc = rill_fit(m, D.X, D.y, D.n);
    ck_assert_msg(rc == RILL_EDIVERGED, "fixed step 1e6 on raw diabetes: rill_fit = %d (%s)", rc,
                  rill_strerror(rc));
    ck_assert_int_eq(rill_model_weights(m, w, 11), RILL_OK);
    ck_assert_msg(ref_all_finite(w, 11), "weights not finite after RILL_EDIVERGED");
    ck_assert_msg(rill_model_error(m)[0] != '\0', "no error detail after RILL_EDIVERGED");
    printf("divergence: \"%s\", %g epochs\n", rill_model_error(m),
           (rill_model_get(m, RILL_STAT_EPOCHS, &w[0]), w[0]));
    /* the model is usable: a sane fit from there reaches a finite answer */
    ck_assert_int_eq(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_INVSCALING), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_LEARNING_RATE, 0.0), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_L2, 1e-3), RILL_OK);
    rc = rill_fit(m, D.X, D.y, D.n);
    ck_assert_msg(rc == RILL_OK, "fit after divergence = %d", rc);
    ck_assert_int_eq(rill_model_weights(m, w, 11), RILL_OK);
    ck_assert_msg(ref_all_finite(w, 11), "weights not finite");
    rill_model_free(m);
    ref_data_free(&D);
}
END_TEST

START_TEST(test_divergence_step)
{
    ref_data D;
    rill_model *m = NULL;
    double w[11], w0[11];
    int rc, i, diverged = 0;
    ref_load("diabetes.csv", &D);
    ck_assert_int_eq(rill_model_new(&m, RILL_SQUARED, D.d, 0), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_LEARNING_RATE, 1e300), RILL_OK);
    for (i = 0; i < 40; i++) {
        snap before;
        take(m, &before);
        memcpy(w0, before.w, sizeof w0);
        rc = rill_step(m, D.X + (size_t)(i % 40) * D.d, D.y + i % 40, 8);
        ck_assert_msg(rc == RILL_OK || rc == RILL_EDIVERGED, "step %d = %d", i, rc);
        ck_assert_int_eq(rill_model_weights(m, w, 11), RILL_OK);
        ck_assert_msg(ref_all_finite(w, 11), "step %d (rc %d): non-finite weights", i, rc);
        if (rc == RILL_EDIVERGED) {
            diverged++;
            same(m, &before, "RILL_EDIVERGED from rill_step");
        }
    }
    ck_assert_msg(diverged > 0, "eta 1e300 on raw diabetes never reported RILL_EDIVERGED");
    /* a large but finite rate: whatever happens, never NaN */
    ck_assert_int_eq(rill_model_set(m, RILL_LEARNING_RATE, 1e10), RILL_OK);
    for (i = 0; i < 60; i++) {
        rc = rill_step(m, D.X + (size_t)(i % 50) * D.d, D.y + i % 50, 3);
        ck_assert_msg(rc == RILL_OK || rc == RILL_EDIVERGED, "eta 1e10 step %d = %d", i, rc);
        ck_assert_int_eq(rill_model_weights(m, w, 11), RILL_OK);
        ck_assert_msg(ref_all_finite(w, 11), "eta 1e10 step %d: non-finite weights", i);
    }
    rill_model_free(m);
    ref_data_free(&D);
}
END_TEST

/* ------------------------------------------------------------------ stale sums */

static void stale_case(int what)
{
    const char *names[] = {"rill_model_set_weights", "rill_step", "rill_model_set(RILL_L2)",
                           "rill_model_set(RILL_L1)", "rill_model_set(RILL_FIT_INTERCEPT)"};
    const size_t n = 40, d = 3;
    double *X, *y, g[4], l, w[4] = {0.1, -0.2, 0.3, 0.0};
    rill_model *m = busy_model(RILL_LOGISTIC, d, 2, &X, &y, n);
    snap before;
    int rc;
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, (double)n), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    switch (what) {
    case 0: ck_assert_int_eq(rill_model_set_weights(m, w, 4), RILL_OK); break;
    case 1: ck_assert_int_eq(rill_step(m, X, y, 2), RILL_OK); break;
    case 2: ck_assert_int_eq(rill_model_set(m, RILL_L2, 0.5), RILL_OK); break;
    case 3: ck_assert_int_eq(rill_model_set(m, RILL_L1, 0.01), RILL_OK); break;
    default: ck_assert_int_eq(rill_model_set(m, RILL_FIT_INTERCEPT, 0), RILL_OK); break;
    }
    take(m, &before);
    rc = rill_apply_gradient(m, g, l, (double)n);
    ck_assert_msg(rc == RILL_ESTATE, "apply with sums from before %s = %d, expected RILL_ESTATE",
                  names[what], rc);
    same(m, &before, "RILL_ESTATE");
    ck_assert_msg(rill_model_error(m)[0] != '\0', "no error detail for RILL_ESTATE");
    /* evaluate again: accepted */
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    rc = rill_apply_gradient(m, g, l, (double)n);
    ck_assert_msg(rc == RILL_OK, "apply with fresh sums after %s = %d", names[what], rc);
    free(X);
    free(y);
    rill_model_free(m);
}

START_TEST(test_stale_sums)
{
    stale_case(_i);
}
END_TEST

START_TEST(test_not_stale_after_neutral_set)
{
    /* RILL_MAX_EPOCHS and RILL_TOL change neither the objective nor the step rule */
    const size_t n = 40, d = 3;
    double *X, *y, g[4], l;
    rill_model *m = busy_model(RILL_LOGISTIC, d, 2, &X, &y, n);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, (double)n), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_MAX_EPOCHS, 17), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_TOL, 1e-6), RILL_OK);
    ck_assert_msg(rill_apply_gradient(m, g, l, (double)n) == RILL_OK,
                  "apply refused after setting RILL_MAX_EPOCHS / RILL_TOL");
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ allocators */

/* Everything a model and its streams do, through the counting allocator, with the C allocator
 * watched. No Check macro may run here (Check itself allocates while reporting), so the first
 * failure is recorded in a static buffer and asserted once the spy is disarmed. */
static char ex_fail[256];

#define EX(call, expect)                                                                         \
    do {                                                                                         \
        int ex_rc_ = (call);                                                                     \
        if (ex_rc_ != (expect)) {                                                                \
            snprintf(ex_fail, sizeof ex_fail, "line %d: %s = %d, expected %d", __LINE__, #call,  \
                     ex_rc_, (int)(expect));                                                     \
            goto out;                                                                            \
        }                                                                                        \
    } while (0)

static void exercise(rill_model *m, const double *X, const double *y, size_t n,
                     unsigned char *blob, size_t blob_cap)
{
    rill_stream *s = NULL;
    rill_model *c = NULL, *l = NULL;
    double out[64 * 3], g[64], ls;
    size_t sz = 0;
    rill_alloc a2;
    counter cnt2;
    int loss_is_squared;
    double v;

    ex_fail[0] = '\0';
    EX(rill_model_get(m, RILL_MODEL_LOSS, &v), RILL_OK);
    loss_is_squared = v == RILL_SQUARED;
    EX(rill_model_set(m, RILL_L2, 1e-2), RILL_OK);
    EX(rill_model_set(m, RILL_MAX_EPOCHS, 20), RILL_OK);
    EX(rill_fit(m, X, y, n), RILL_OK);
    EX(rill_model_set(m, RILL_L1, 1e-3), RILL_OK);
    EX(rill_fit(m, X, y, n), RILL_OK);
    EX(rill_model_set(m, RILL_L1, 0), RILL_OK);
    EX(rill_model_set(m, RILL_BATCH_ROWS, 7), RILL_OK);
    EX(rill_model_set(m, RILL_MAX_EPOCHS, 3), RILL_OK);
    EX(rill_fit(m, X, y, n), RILL_OK);
    EX(rill_model_set(m, RILL_BATCH_ROWS, 0), RILL_OK);
    EX(rill_model_set(m, RILL_AVERAGE, 1), RILL_OK);
    EX(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD), RILL_OK);
    EX(rill_step(m, X, y, 5), RILL_OK);
    EX(rill_predict(m, X, 10, out), RILL_OK);
    EX(rill_classify(m, X, 10, out), RILL_OK);
    EX(rill_gradient(m, X, y, n, g, &ls), RILL_OK);
    EX(rill_apply_gradient(m, g, ls, (double)n), RILL_OK);
    EX(rill_stream_new(&s, m, 8, RILL_STREAM_PASS), RILL_OK);
    EX(rill_stream_push(s, X, y, n), RILL_OK);
    EX(rill_stream_flush(s), RILL_OK);
    rill_stream_free(s);
    s = NULL;
    EX(rill_stream_new(&s, m, 5, RILL_STREAM_STEP), RILL_OK);
    EX(rill_stream_push(s, X, y, 13), RILL_OK);
    rill_stream_free(s); /* drops the unflushed rows */
    s = NULL;
    if (loss_is_squared) {
        EX(rill_stream_new(&s, m, 6, RILL_STREAM_EXACT), RILL_OK);
        EX(rill_stream_push(s, X, y, n), RILL_OK);
        EX(rill_stream_flush(s), RILL_OK);
        rill_stream_free(s);
        s = NULL;
    }
    EX(rill_model_clone(&c, m), RILL_OK);
    EX(rill_step(c, X, y, 3), RILL_OK);
    EX(rill_model_save(m, NULL, 0, &sz), RILL_OK);
    EX(sz <= blob_cap ? RILL_OK : RILL_ERANGE, RILL_OK);
    EX(rill_model_save(m, blob, blob_cap, &sz), RILL_OK);
    a2 = counting(&cnt2);
    EX(rill_model_load_alloc(&l, blob, sz, &a2), RILL_OK);
    EX(rill_fit(l, X, y, n), RILL_OK);
    rill_model_free(l);
    l = NULL;
    if (!(cnt2.live == 0 && !cnt2.bad_free && !cnt2.bad_align && cnt2.calls > 0))
        snprintf(ex_fail, sizeof ex_fail,
                 "loaded model: live %ld, bad free %d, bad align %d, calls %ld", cnt2.live,
                 cnt2.bad_free, cnt2.bad_align, cnt2.calls);
out:
    rill_stream_free(s);
    rill_model_free(l);
    rill_model_free(c);
}

START_TEST(test_counting_allocator)
{
    const int loss = _i;
    const size_t n = 40, d = 3, K = tu_classes_for(loss, 3);
    ref_rng r;
    double *X, *y;
    unsigned char *blob = malloc(1 << 16);
    counter cnt;
    rill_alloc a = counting(&cnt);
    rill_model *m = NULL;
    long calls;
    ref_rng_seed(&r, 900 + (uint64_t)loss);
    ref_random_problem(&r, loss, n, d, K, 1.0, &X, &y);

    int rc;
    long calls_after_new, live_after_new;

    /* positive control: the spy sees the default allocator's malloc/free */
    cspy_armed = 1;
    cspy_calls = 0;
    rc = rill_model_new(&m, loss, d, K);
    rill_model_free(m);
    cspy_armed = 0;
    ck_assert_int_eq(rc, RILL_OK);
    ck_assert_msg(cspy_calls >= 2, "spy control: the default allocator made %ld C allocator calls",
                  cspy_calls);

    /* no Check macro while armed: Check allocates */
    cspy_armed = 1;
    cspy_calls = 0;
    m = NULL;
    ex_fail[0] = '\0';
    rc = rill_model_new_alloc(&m, loss, d, K, &a);
    calls_after_new = cnt.calls;
    live_after_new = cnt.live;
    if (rc == RILL_OK) {
        /* the allocator struct was copied: changing ours now must not matter */
        a.alloc = NULL;
        a.free = NULL;
        exercise(m, X, y, n, blob, 1 << 16);
        rill_model_free(m);
    }
    cspy_armed = 0;
    calls = cspy_calls;
    ck_assert_msg(rc == RILL_OK, "rill_model_new_alloc = %d", rc);
    ck_assert_msg(calls_after_new >= 1 && live_after_new >= 1,
                  "the model was not allocated through *alloc");
    ck_assert_msg(ex_fail[0] == '\0', "%s", ex_fail);
    printf("%s: %ld allocations through the counting allocator\n",
           loss == 1 ? "squared" : loss == 2 ? "logistic" : "softmax", cnt.calls);
    ck_assert_msg(calls == 0, "the library called the C allocator %ld times behind a caller allocator",
                  calls);
    ck_assert_msg(cnt.live == 0, "%ld blocks still live after rill_model_free", cnt.live);
    ck_assert_msg(!cnt.bad_free, "a free did not match an allocation (pointer or size)");
    ck_assert_msg(!cnt.bad_align, "an allocation was misaligned or asked a bad alignment");
    free(X);
    free(y);
    free(blob);
}
END_TEST

START_TEST(test_failing_allocator)
{
    counter cnt;
    rill_alloc a = counting(&cnt);
    rill_model *m = (rill_model *)&m, *c;
    rill_stream *s;
    const size_t n = 30, d = 3;
    double *X, *y;
    ref_rng r;
    long k;
    int rc, nomem_clone = 0, nomem_stream = 0, nomem_fit = 0;

    cnt.fail_always = 1;
    rc = rill_model_new_alloc(&m, RILL_SOFTMAX, 4, 3, &a);
    ck_assert_msg(rc == RILL_ENOMEM, "failing allocator: rill_model_new_alloc = %d", rc);
    ck_assert_msg(m == (rill_model *)&m, "*out written on RILL_ENOMEM");
    ck_assert_msg(cnt.live == 0, "leak after RILL_ENOMEM");

    /* fail at each allocation in turn: construction */
    for (k = 0;; k++) {
        a = counting(&cnt);
        cnt.fail_at = k;
        m = (rill_model *)&m;
        rc = rill_model_new_alloc(&m, RILL_SOFTMAX, 4, 3, &a);
        if (rc == RILL_OK)
            break;
        ck_assert_msg(rc == RILL_ENOMEM, "allocation %ld failing: %d", k, rc);
        ck_assert_msg(m == (rill_model *)&m && cnt.live == 0,
                      "allocation %ld failing: *out written or %ld blocks leaked", k, cnt.live);
        ck_assert_msg(k < 100, "no success after 100 failures");
    }
    rill_model_free(m);
    ck_assert_msg(cnt.live == 0, "leak after free");

    /* clone, stream and fit under failures */
    ref_rng_seed(&r, 31);
    ref_random_problem(&r, RILL_SQUARED, n, d, 0, 1.0, &X, &y);
    for (k = 0; k < 60; k++) {
        long live_before;
        snap before;
        a = counting(&cnt);
        ck_assert_int_eq(rill_model_new_alloc(&m, RILL_SQUARED, d, 0, &a), RILL_OK);
        ck_assert_int_eq(rill_step(m, X, y, 5), RILL_OK);
        live_before = cnt.live;
        cnt.fail_at = cnt.calls + k;
        take(m, &before);
        c = (rill_model *)&c;
        rc = rill_model_clone(&c, m);
        if (rc == RILL_ENOMEM) {
            nomem_clone++;
            ck_assert_msg(c == (rill_model *)&c && cnt.live == live_before,
                          "clone, allocation %ld failing: *out written or leak", k);
        } else {
            ck_assert_int_eq(rc, RILL_OK);
            rill_model_free(c);
        }
        same(m, &before, "failed clone");
        cnt.fail_at = cnt.calls + k;
        s = (rill_stream *)&s;
        rc = rill_stream_new(&s, m, 4, RILL_STREAM_PASS);
        if (rc == RILL_ENOMEM) {
            nomem_stream++;
            ck_assert_msg(s == (rill_stream *)&s && cnt.live == live_before,
                          "stream_new, allocation %ld failing: *out written or leak", k);
        } else {
            ck_assert_int_eq(rc, RILL_OK);
            rill_stream_free(s);
        }
        /* SGD epochs run through a STEP stream: it may allocate */
        ck_assert_int_eq(rill_model_set(m, RILL_BATCH_ROWS, 4), RILL_OK);
        ck_assert_int_eq(rill_model_set(m, RILL_MAX_EPOCHS, 2), RILL_OK);
        take(m, &before);
        cnt.fail_at = cnt.calls + k;
        rc = rill_fit(m, X, y, n);
        if (rc == RILL_ENOMEM) {
            nomem_fit++;
            same(m, &before, "rill_fit failing with RILL_ENOMEM");
            ck_assert_msg(cnt.live == live_before, "fit, allocation %ld failing: leak", k);
        } else
            ck_assert_int_eq(rc, RILL_OK);
        ck_assert_int_eq(rill_model_set(m, RILL_BATCH_ROWS, 0), RILL_OK);
        cnt.fail_at = cnt.calls + k;
        rc = rill_fit(m, X, y, n);
        ck_assert_msg(rc == RILL_OK || rc == RILL_ENOMEM, "batch fit under failure: %d", rc);
        cnt.fail_at = -1;
        rill_model_free(m);
        ck_assert_msg(cnt.live == 0 && !cnt.bad_free, "allocation %ld failing: leak or bad free",
                      k);
    }
    printf("failing allocator: RILL_ENOMEM seen by clone %d, stream_new %d, SGD fit %d times\n",
           nomem_clone, nomem_stream, nomem_fit);
    ck_assert_msg(nomem_clone > 0 && nomem_stream > 0,
                  "the failure injection never reached clone (%d) or stream_new (%d)", nomem_clone,
                  nomem_stream);
    free(X);
    free(y);
}
END_TEST

/* ------------------------------------------------------------------ clones */

START_TEST(test_clone)
{
    const size_t n = 30, d = 3;
    double *X, *y, w1[12], w2[12], g[12], l;
    rill_model *m = busy_model(RILL_SOFTMAX, d, 3, &X, &y, n), *c = NULL;
    snap sm, sc;
    int i;
    ck_assert_int_eq(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD), RILL_OK);
    ck_assert_int_eq(rill_step(m, X + 9 * d, y + 9, 4), RILL_OK);
    /* a batch optimizer in mid-flight */
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, (double)n), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, (double)n), RILL_OK);
    ck_assert_int_eq(rill_model_clone(&c, m), RILL_OK);
    take(m, &sm);
    take(c, &sc);
    ck_assert_msg(memcmp(&sm, &sc, sizeof sm) == 0, "clone differs from the original (weights, "
                                                    "parameters or statistics)");
    /* same optimizer memory: the same evaluation point and the same next steps */
    for (i = 0; i < 3; i++) {
        double g2[12], l2;
        ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
        ck_assert_int_eq(rill_gradient(c, X, y, n, g2, &l2), RILL_OK);
        ck_assert_msg(memcmp(g, g2, sizeof g) == 0 && l == l2,
                      "clone's evaluation point differs at iteration %d", i);
        ck_assert_int_eq(rill_apply_gradient(m, g, l, (double)n), RILL_OK);
        ck_assert_int_eq(rill_apply_gradient(c, g2, l2, (double)n), RILL_OK);
    }
    /* same schedule state (AdaGrad sums, t, average) */
    ck_assert_int_eq(rill_step(m, X + 13 * d, y + 13, 5), RILL_OK);
    ck_assert_int_eq(rill_step(c, X + 13 * d, y + 13, 5), RILL_OK);
    ck_assert_int_eq(rill_model_weights(m, w1, 12), RILL_OK);
    ck_assert_int_eq(rill_model_weights(c, w2, 12), RILL_OK);
    ck_assert_msg(memcmp(w1, w2, sizeof w1) == 0, "clone and original diverged on the same step");
    /* independent */
    take(m, &sm);
    memset(w2, 0, sizeof w2);
    w2[0] = 3.0;
    ck_assert_int_eq(rill_model_set_weights(c, w2, 12), RILL_OK);
    ck_assert_int_eq(rill_model_set(c, RILL_L2, 0.7), RILL_OK);
    ck_assert_int_eq(rill_model_set(c, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT), RILL_OK);
    ck_assert_int_eq(rill_step(c, X, y, 6), RILL_OK);
    ck_assert_int_eq(rill_fit(c, X, y, n), RILL_OK);
    same(m, &sm, "original after changing the clone");
    rill_model_free(c);
    same(m, &sm, "original after freeing the clone");
    ck_assert_int_eq(rill_step(m, X, y, 2), RILL_OK);
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("data");
    tcase_add_loop_test(tc, test_bad_data, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_fit_finds_bad_rows_in_every_kernel);
    tcase_add_test(tc, test_edge_labels_accepted);
    suite_add_tcase(s, tc);

    tc = tcase_create("arguments");
    tcase_add_test(tc, test_null_and_empty);
    tcase_add_test(tc, test_model_new_errors);
    tcase_add_test(tc, test_predict_overlap);
    tcase_add_test(tc, test_unknown_params);
    tcase_add_test(tc, test_param_bounds_enforced);
    tcase_add_test(tc, test_strerror_and_version);
    suite_add_tcase(s, tc);

    tc = tcase_create("divergence");
    tcase_add_test(tc, test_divergence_fit);
    tcase_add_test(tc, test_divergence_step);
    suite_add_tcase(s, tc);

    tc = tcase_create("stale");
    tcase_add_loop_test(tc, test_stale_sums, 0, 5);
    tcase_add_test(tc, test_not_stale_after_neutral_set);
    suite_add_tcase(s, tc);

    tc = tcase_create("alloc");
    tcase_add_loop_test(tc, test_counting_allocator, RILL_SQUARED, RILL_SOFTMAX + 1);
    tcase_add_test(tc, test_failing_allocator);
    tcase_add_test(tc, test_clone);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(errors_suite)
