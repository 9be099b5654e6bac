/*
 * Model files (lib/blob.c, docs/format.md): round trips byte for byte, bit-identical
 * predictions, every truncation and every single-bit flip refused, field validation behind a
 * valid checksum, training resumed after a load exactly as if uninterrupted (stochastic
 * steps with averaging and AdaGrad, the batch optimizer mid line search, rill_fit), the size
 * query and RILL_ERANGE, the caller's allocator, and a committed known-answer blob.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rill.h"
#include "ref.h"
#include "tmain.h"
#include "tutil.h"

/* The committed known-answer blobs: tests/data/model_v1.blob and model_v2.blob. The build
 * passes REF_DATA_DIR, the source tree's examples/data. */
#ifndef BLOB_DATA_DIR
#ifdef REF_DATA_DIR
#define BLOB_DATA_DIR REF_DATA_DIR "/../../tests/data"
#else
#define BLOB_DATA_DIR "tests/data"
#endif
#endif

/* ------------------------------------------------------------------ layout (docs/format.md) */

#define OFF_VERSION 8
#define OFF_HEADER 12
#define OFF_TOTAL 16
#define OFF_LBFGS_M 24
#define OFF_LOSS 28
#define OFF_N_FEATURES 32
#define OFF_N_CLASSES 40
#define OFF_N_WEIGHTS 48
#define OFF_LEARNING_RATE 56
#define OFF_SCHEDULE 64
#define OFF_FIT_INTERCEPT 68
#define OFF_POWER_T 72
#define OFF_L2 80
#define OFF_L1 88
#define OFF_MAX_EPOCHS 96
#define OFF_TOL 104
#define OFF_BATCH_ROWS 112
#define OFF_AVERAGE 120
#define OFF_SEED 128
#define OFF_STAT_EPOCHS 136
#define OFF_STAT_STEPS 144
#define OFF_STAT_ROWS 152
#define OFF_STAT_LOSS 160
#define OFF_STAT_CONVERGED 168
#define OFF_STAT_STOPPED 172
#define OFF_PROG_LOSS_SUM 176
#define OFF_PROG_ROWS 184
#define OFF_AVG_COUNT 192
#define OFF_PHASE 200
#define OFF_N_PAIRS 204
#define OFF_NEXT_PAIR 208
#define OFF_N_BACKTRACKS 212
#define OFF_RESTARTED 216
#define OFF_APPLIED 220
#define OFF_CONVERGED 224
#define OFF_STALLED 228
#define OFF_HAS_PREV 232
#define OFF_STALE 236
#define OFF_F_X 240
#define OFF_G0_NORM 272
#define OFF_RHO 280
#define OFF_ARRAYS (OFF_RHO + 8 * RILL_LBFGS_M)
/* array a (0 w, 1 w_avg, 2 adagrad, 3 eval, 4 g_x, 5 dir, 6.. s, y, then ARRAY_G0) of
 * n_weights doubles */
#define OFF_ARRAY(a, nw) (OFF_ARRAYS + 8 * (size_t)(a) * (nw))
#define ARRAY_G0 (6 + 2 * RILL_LBFGS_M) /* format version 2 */

static size_t blob_size_formula(size_t nw)
{
    return OFF_ARRAYS + 8 * nw * (7 + 2 * RILL_LBFGS_M) + 4;
}

static size_t blob_size_v1(size_t nw)
{
    return OFF_ARRAYS + 8 * nw * (6 + 2 * RILL_LBFGS_M) + 4;
}

/* Byte reads and writes, the CRC-32 and resealing after an edit: ref.c (ref_rd_*, ref_wr_*,
 * ref_crc32, ref_reseal), written from docs/format.md independently of lib/blob.c. */

/* ------------------------------------------------------------------ allocators */

typedef struct counter {
    size_t n_alloc, n_free, live;
    int fail;
} counter;

static void *count_alloc(void *ctx, size_t size, size_t align)
{
    counter *c = ctx;
    void *p = NULL;
    if (c->fail)
        return NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, size ? size : 1) != 0)
        return NULL;
    c->n_alloc++;
    c->live += size;
    return p;
}

static void count_free(void *ctx, void *p, size_t size)
{
    counter *c = ctx;
    c->n_free++;
    c->live -= size;
    free(p);
}

/* ------------------------------------------------------------------ helpers */

static unsigned char *save_blob(const rill_model *m, size_t *size)
{
    size_t need = 0, got = 0;
    unsigned char *b;
    int rc = rill_model_save(m, NULL, 0, &need);
    ck_assert_msg(rc == RILL_OK && need > 0, "size query = %d, size %zu", rc, need);
    b = malloc(need);
    ck_assert_ptr_nonnull(b);
    rc = rill_model_save(m, b, need, &got);
    ck_assert_msg(rc == RILL_OK, "rill_model_save = %d", rc);
    ck_assert_msg(got == need, "saved %zu bytes, size query said %zu", got, need);
    *size = need;
    return b;
}

static rill_model *load_blob(const unsigned char *b, size_t size)
{
    rill_model *m = NULL;
    int rc = rill_model_load(&m, b, size);
    ck_assert_msg(rc == RILL_OK && m, "rill_model_load(%zu bytes) = %d", size, rc);
    return m;
}

static rill_model *reload(const rill_model *m)
{
    size_t size;
    unsigned char *b = save_blob(m, &size);
    rill_model *c = load_blob(b, size);
    free(b);
    return c;
}

/* The two models' blobs are identical: the whole saved state is. */
static void assert_same_state(const rill_model *a, const rill_model *b, const char *what)
{
    size_t sa, sb, i;
    unsigned char *ba = save_blob(a, &sa), *bb = save_blob(b, &sb);
    ck_assert_msg(sa == sb, "%s: blob sizes %zu and %zu", what, sa, sb);
    for (i = 0; i < sa && ba[i] == bb[i]; i++)
        ;
    ck_assert_msg(i == sa, "%s: blobs differ first at byte %zu of %zu", what, i, sa);
    free(ba);
    free(bb);
}

static void assert_same_weights(const rill_model *a, const rill_model *b, const char *what)
{
    size_t nw = rill_model_n_weights(a);
    double *wa = malloc(nw * sizeof *wa), *wb = malloc(nw * sizeof *wb);
    ck_assert_uint_eq(nw, rill_model_n_weights(b));
    ck_assert_int_eq(rill_model_weights(a, wa, nw), RILL_OK);
    ck_assert_int_eq(rill_model_weights(b, wb, nw), RILL_OK);
    ck_assert_msg(memcmp(wa, wb, nw * sizeof *wa) == 0, "%s: weights differ", what);
    /* the raw iterate too (the averaged weights may be what rill_model_weights returns) */
    ck_assert_msg(memcmp(a->w, b->w, nw * sizeof *wa) == 0, "%s: iterates differ", what);
    free(wa);
    free(wb);
}

/* count stochastic steps of b rows, the s-th on rows starting at (s * b) mod (n - b). */
static void sgd_steps(rill_model *m, const double *X, const double *y, size_t n, size_t d,
                      size_t b, size_t from, size_t count)
{
    size_t s;
    for (s = from; s < from + count; s++) {
        size_t at = (s * b) % (n - b);
        int rc = rill_step(m, X + at * d, y + at, b);
        ck_assert_msg(rc == RILL_OK, "rill_step %zu = %d (%s)", s, rc, rill_model_error(m));
    }
}

/* count iterations of the reverse-communication loop over all n rows. */
static void batch_iters(rill_model *m, const double *X, const double *y, size_t n, size_t count)
{
    size_t nw = rill_model_n_weights(m), i;
    double *g = malloc(nw * sizeof *g), loss;
    for (i = 0; i < count; i++) {
        int rc = rill_gradient(m, X, y, n, g, &loss);
        ck_assert_msg(rc == RILL_OK, "rill_gradient = %d", rc);
        rc = rill_apply_gradient(m, g, loss, (double)n);
        ck_assert_msg(rc == RILL_OK, "rill_apply_gradient %zu = %d (%s)", i, rc,
                      rill_model_error(m));
    }
    free(g);
}

/* A model whose every saved section is non-trivial: AdaGrad sums and an average from
 * stochastic steps, then a few batch iterations (L-BFGS pairs, a trial point). With
 * batch = 0 it stops after the steps, so that predict uses the averaged weights. */
static rill_model *trained_model(int loss, size_t d, size_t K, int batch, double **Xo,
                                 double **yo, size_t *no)
{
    const size_t n = 40;
    ref_rng r;
    double *X, *y;
    rill_model *m = tu_new_model_for(loss, d, K);
    ref_rng_seed(&r, 500 + (uint64_t)loss * 10 + (uint64_t)d);
    ref_random_problem(&r, loss, n, d, tu_classes_for(loss, K), 1.0, &X, &y);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
    tu_set_param(m, RILL_AVERAGE, 3);
    tu_set_param(m, RILL_L2, 0.01);
    sgd_steps(m, X, y, n, d, 2, 0, 6);
    if (batch) {
        tu_set_param(m, RILL_TOL, 0.0);
        batch_iters(m, X, y, n, 3);
    }
    if (Xo) {
        *Xo = X;
        *yo = y;
        *no = n;
    } else {
        free(X);
        free(y);
    }
    return m;
}

/* ------------------------------------------------------------------ round trip */

static const int all_params[] = {
    RILL_LEARNING_RATE, RILL_SCHEDULE, RILL_POWER_T, RILL_L2, RILL_L1, RILL_FIT_INTERCEPT,
    RILL_MAX_EPOCHS, RILL_TOL, RILL_BATCH_ROWS, RILL_AVERAGE, RILL_SEED, RILL_STAT_EPOCHS,
    RILL_STAT_STEPS, RILL_STAT_ROWS, RILL_STAT_LOSS, RILL_STAT_CONVERGED, RILL_STAT_STOPPED,
    RILL_STAT_PROGRESSIVE_LOSS, RILL_STAT_STALLED, RILL_MODEL_LOSS, RILL_MODEL_N_FEATURES, RILL_MODEL_N_CLASSES};

START_TEST(test_roundtrip)
{
    const int loss = RILL_SQUARED + _i % 3, batch = _i / 3;
    const size_t d = 4, K = 3;
    size_t n, s1, s2, i, nout;
    double *X, *y, *p1, *p2, *c1, *c2;
    unsigned char *b1, *b2;
    rill_model *m = trained_model(loss, d, K, batch, &X, &y, &n), *c;

    /* the state is what the test means it to be */
    ck_assert_msg(m->adagrad[0] > 0.0, "AdaGrad sums are empty");
    if (batch)
        ck_assert_msg(m->opt.phase == OPT_SEARCH && m->opt.n_pairs > 0,
                      "the batch optimizer is not mid search (phase %d, %d pairs)", m->opt.phase,
                      m->opt.n_pairs);
    else
        ck_assert_msg(m->avg_count > 0.0, "predict does not use the average");

    b1 = save_blob(m, &s1);
    c = load_blob(b1, s1);
    b2 = save_blob(c, &s2);
    ck_assert_msg(s1 == s2 && memcmp(b1, b2, s1) == 0, "%s: save -> load -> save changed bytes",
                  tu_loss_name(loss));

    for (i = 0; i < sizeof all_params / sizeof all_params[0]; i++) {
        double a = tu_get_param(m, all_params[i]), b = tu_get_param(c, all_params[i]);
        ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "parameter %d: %.17g, loaded %.17g",
                      all_params[i], a, b);
    }
    assert_same_weights(m, c, "round trip");

    nout = loss == RILL_SOFTMAX ? K : 1;
    p1 = malloc(n * nout * sizeof *p1);
    p2 = malloc(n * nout * sizeof *p2);
    c1 = malloc(n * sizeof *c1);
    c2 = malloc(n * sizeof *c2);
    ck_assert_int_eq(rill_predict(m, X, n, p1), RILL_OK);
    ck_assert_int_eq(rill_predict(c, X, n, p2), RILL_OK);
    ck_assert_msg(memcmp(p1, p2, n * nout * sizeof *p1) == 0, "%s: predictions differ",
                  tu_loss_name(loss));
    ck_assert_int_eq(rill_classify(m, X, n, c1), RILL_OK);
    ck_assert_int_eq(rill_classify(c, X, n, c2), RILL_OK);
    ck_assert_msg(memcmp(c1, c2, n * sizeof *c1) == 0, "%s: labels differ", tu_loss_name(loss));

    /* not saved: callback, error detail; the loaded model is idle (and as stale as m) */
    ck_assert_ptr_null(c->progress);
    ck_assert_uint_eq(c->busy_streams, 0);
    ck_assert_int_eq(c->opt.stale, m->opt.stale);
    ck_assert_str_eq(rill_model_error(c), "");

    free(p1);
    free(p2);
    free(c1);
    free(c2);
    free(b1);
    free(b2);
    free(X);
    free(y);
    rill_model_free(m);
    rill_model_free(c);
}
END_TEST

/* The bytes are the documented layout: little-endian fields at fixed offsets, a CRC-32 of
 * everything before it. */
START_TEST(test_layout)
{
    const size_t d = 10;
    size_t size, nw, j;
    unsigned char *b;
    double w[11];
    static const unsigned char magic[8] = {0x89, 'R', 'I', 'L', 'L', 0x0D, 0x0A, 0x1A};
    rill_model *m = tu_new_model_for(RILL_SQUARED, d, 0);

    nw = rill_model_n_weights(m);
    ck_assert_uint_eq(nw, 11);
    for (j = 0; j < nw; j++)
        w[j] = (double)j - 2.5;
    ck_assert_int_eq(rill_model_set_weights(m, w, nw), RILL_OK);
    tu_set_param(m, RILL_L2, 0.75);
    tu_set_param(m, RILL_SEED, 9007199254740991.0);
    b = save_blob(m, &size);

    ck_assert_uint_eq(size, blob_size_formula(nw));
    ck_assert_uint_eq(size, 284 + 8 * RILL_LBFGS_M + 8 * 11 * (7 + 2 * RILL_LBFGS_M));
    if (RILL_LBFGS_M == 40)
        ck_assert_uint_eq(size, 8260); /* d = 10, squared */
    ck_assert_msg(memcmp(b, magic, 8) == 0, "magic");
    ck_assert_uint_eq(ref_rd_u32(b + OFF_VERSION), 2);
    ck_assert_uint_eq(ref_rd_u32(b + OFF_HEADER), 56);
    ck_assert_uint_eq(ref_rd_u64(b + OFF_TOTAL), size);
    ck_assert_uint_eq(ref_rd_u32(b + OFF_LBFGS_M), RILL_LBFGS_M);
    ck_assert_uint_eq(ref_rd_u32(b + OFF_LOSS), RILL_SQUARED);
    ck_assert_uint_eq(ref_rd_u64(b + OFF_N_FEATURES), d);
    ck_assert_uint_eq(ref_rd_u64(b + OFF_N_CLASSES), 0);
    ck_assert_uint_eq(ref_rd_u64(b + OFF_N_WEIGHTS), nw);
    ck_assert(ref_rd_f64(b + OFF_LEARNING_RATE) == 0.0);
    ck_assert_uint_eq(ref_rd_u32(b + OFF_SCHEDULE), RILL_SCHEDULE_INVSCALING);
    ck_assert_uint_eq(ref_rd_u32(b + OFF_FIT_INTERCEPT), 1);
    ck_assert(ref_rd_f64(b + OFF_POWER_T) == 0.25);
    ck_assert(ref_rd_f64(b + OFF_L2) == 0.75);
    ck_assert(ref_rd_f64(b + OFF_MAX_EPOCHS) == 1000.0);
    ck_assert(ref_rd_f64(b + OFF_TOL) == 1e-8);
    ck_assert(ref_rd_f64(b + OFF_SEED) == 9007199254740991.0);
    ck_assert(ref_rd_f64(b + OFF_G0_NORM) == -1.0);
    ck_assert_uint_eq(ref_rd_u32(b + OFF_STALE), 0);
    /* IEEE-754 binary64, little-endian: 1.0 - 2.5 = -1.5 is 0xBFF8000000000000 */
    ck_assert_uint_eq(ref_rd_u64(b + OFF_ARRAY(0, nw) + 8), UINT64_C(0xBFF8000000000000));
    for (j = 0; j < nw; j++)
        ck_assert(ref_rd_f64(b + OFF_ARRAY(0, nw) + 8 * j) == w[j]);
    ck_assert_uint_eq(ref_rd_u32(b + size - 4), ref_crc32(b, size - 4));
    free(b);
    rill_model_free(m);
}
END_TEST

START_TEST(test_crc_reference)
{
    /* the check value of CRC-32/ISO-HDLC: the test's CRC is the documented one */
    ck_assert_uint_eq(ref_crc32((const unsigned char *)"123456789", 9), 0xCBF43926u);
}
END_TEST

/* ------------------------------------------------------------------ save arguments */

START_TEST(test_save_size_query_and_erange)
{
    size_t size = 0, need = 0, got, i;
    unsigned char *b, *full;
    char err_before[RILL_ERR_LEN];
    rill_model *m = trained_model(RILL_LOGISTIC, 3, 2, 1, NULL, NULL, NULL);

    /* leave an error detail: const save never touches it */
    ck_assert_int_eq(rill_model_set(m, 9999, 1.0), RILL_EUNSUPPORTED);
    strcpy(err_before, rill_model_error(m));
    ck_assert_msg(err_before[0] != '\0', "no error detail to guard");

    ck_assert_int_eq(rill_model_save(m, NULL, 0, &need), RILL_OK);
    ck_assert_uint_eq(need, blob_size_formula(rill_model_n_weights(m)));
    full = save_blob(m, &size);
    ck_assert_uint_eq(size, need);

    b = malloc(need);
    memset(b, 0xAB, need);
    got = 0;
    ck_assert_int_eq(rill_model_save(m, b, need - 1, &got), RILL_ERANGE);
    ck_assert_uint_eq(got, need);
    for (i = 0; i < need && b[i] == 0xAB; i++)
        ;
    ck_assert_msg(i == need, "a refused save wrote byte %zu", i);
    got = 0;
    ck_assert_int_eq(rill_model_save(m, b, 0, &got), RILL_ERANGE);
    ck_assert_uint_eq(got, need);
    got = 0;
    ck_assert_int_eq(rill_model_save(m, b, need + 100, &got), RILL_OK);
    ck_assert_uint_eq(got, need);
    ck_assert(memcmp(b, full, need) == 0);

    ck_assert_int_eq(rill_model_save(NULL, b, need, &got), RILL_EINVAL);
    ck_assert_int_eq(rill_model_save(NULL, NULL, 0, &got), RILL_EINVAL);
    ck_assert_int_eq(rill_model_save(m, b, need, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_model_save(m, NULL, 0, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_model_save(m, NULL, 16, &got), RILL_EINVAL);

    ck_assert_str_eq(rill_model_error(m), err_before);
    free(b);
    free(full);
    rill_model_free(m);
}
END_TEST

/* A stream holding rows does not stop a save (the flushed state is saved), and the loaded
 * model is free of it. */
START_TEST(test_save_with_busy_stream)
{
    const size_t d = 3, n = 40;
    ref_rng r;
    double *X, *y;
    rill_stream *s = NULL;
    rill_model *m = tu_new_model_for(RILL_SQUARED, d, 0), *c;
    ref_rng_seed(&r, 31);
    ref_random_problem(&r, RILL_SQUARED, n, d, 0, 1.0, &X, &y);
    ck_assert_int_eq(rill_stream_new(&s, m, 10, RILL_STREAM_STEP), RILL_OK);
    ck_assert_int_eq(rill_stream_push(s, X, y, 13), RILL_OK); /* 1 step, 3 rows buffered */
    ck_assert_uint_ne(m->busy_streams, 0);
    c = reload(m);
    ck_assert_uint_eq(c->busy_streams, 0);
    ck_assert_int_eq(rill_step(c, X, y, 2), RILL_OK);
    rill_stream_free(s);
    rill_model_free(c);
    rill_model_free(m);
    free(X);
    free(y);
}
END_TEST

/* ------------------------------------------------------------------ load arguments */

START_TEST(test_load_arguments_and_allocator)
{
    size_t size;
    unsigned char *b;
    counter cnt = {0, 0, 0, 0};
    rill_alloc a = {count_alloc, count_free, &cnt}, bad = {NULL, count_free, &cnt};
    rill_model *m = trained_model(RILL_SOFTMAX, 2, 3, 1, NULL, NULL, NULL), *c;
    rill_model *const sentinel = (rill_model *)&size;

    b = save_blob(m, &size);
    c = sentinel;
    ck_assert_int_eq(rill_model_load(NULL, b, size), RILL_EINVAL);
    ck_assert_int_eq(rill_model_load(&c, NULL, size), RILL_EINVAL);
    ck_assert_int_eq(rill_model_load_alloc(&c, b, size, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_model_load_alloc(&c, b, size, &bad), RILL_EINVAL);
    bad.alloc = count_alloc;
    bad.free = NULL;
    ck_assert_int_eq(rill_model_load_alloc(&c, b, size, &bad), RILL_EINVAL);
    ck_assert_ptr_eq(c, sentinel);

    /* a buffer longer than the blob is not the blob */
    {
        unsigned char *longer = malloc(size + 1);
        memcpy(longer, b, size);
        longer[size] = 0;
        ck_assert_int_eq(rill_model_load(&c, longer, size + 1), RILL_EFORMAT);
        free(longer);
    }

    /* the allocator runs out: ENOMEM, nothing written, nothing leaked */
    cnt.fail = 1;
    ck_assert_int_eq(rill_model_load_alloc(&c, b, size, &a), RILL_ENOMEM);
    ck_assert_ptr_eq(c, sentinel);
    cnt.fail = 0;

    /* every allocation goes through the caller's allocator, and the copy is kept */
    ck_assert_int_eq(rill_model_load_alloc(&c, b, size, &a), RILL_OK);
    ck_assert_uint_eq(cnt.n_alloc, 1);
    ck_assert_uint_gt(cnt.live, size);
    ck_assert_ptr_eq(c->alloc.ctx, &cnt);
    assert_same_state(m, c, "load_alloc");
    {
        rill_stream *s = NULL; /* streams of a loaded model use its allocator too */
        ck_assert_int_eq(rill_stream_new(&s, c, 4, RILL_STREAM_PASS), RILL_OK);
        ck_assert_uint_eq(cnt.n_alloc, 2);
        rill_stream_free(s);
    }
    rill_model_free(c);
    ck_assert_uint_eq(cnt.live, 0);
    ck_assert_uint_eq(cnt.n_alloc, cnt.n_free);
    free(b);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ damaged blobs */

START_TEST(test_every_truncation)
{
    const int loss = RILL_SQUARED + _i;
    size_t size, len;
    unsigned char *b, *copy;
    counter cnt = {0, 0, 0, 0};
    rill_alloc a = {count_alloc, count_free, &cnt};
    rill_model *m = trained_model(loss, 2, 3, 1, NULL, NULL, NULL), *c;
    rill_model *const sentinel = (rill_model *)&size;

    b = save_blob(m, &size);
    for (len = 0; len < size; len++) {
        /* a copy of exactly len bytes: reading past it is caught by sanitizers/valgrind */
        copy = malloc(len ? len : 1);
        memcpy(copy, b, len);
        c = sentinel;
        int rc = rill_model_load_alloc(&c, copy, len, &a);
        ck_assert_msg(rc == RILL_EFORMAT, "%s: %zu of %zu bytes: load = %d", tu_loss_name(loss), len,
                      size, rc);
        ck_assert_ptr_eq(c, sentinel);
        free(copy);
    }
    ck_assert_uint_eq(cnt.live, 0);
    ck_assert_uint_eq(cnt.n_alloc, cnt.n_free);
    c = sentinel;
    ck_assert_int_eq(rill_model_load_alloc(&c, b, size, &a), RILL_OK);
    rill_model_free(c);
    free(b);
    rill_model_free(m);
}
END_TEST

START_TEST(test_every_bit_flip)
{
    const int loss = RILL_SQUARED + _i;
    const size_t K = 2;
    size_t size, byte;
    unsigned char *b;
    counter cnt = {0, 0, 0, 0};
    rill_alloc a = {count_alloc, count_free, &cnt};
    rill_model *m = trained_model(loss, 1, K, 1, NULL, NULL, NULL), *c;
    rill_model *const sentinel = (rill_model *)&size;

    b = save_blob(m, &size);
    for (byte = 0; byte < size; byte++) {
        int bit;
        for (bit = 0; bit < 8; bit++) {
            b[byte] ^= (unsigned char)(1u << bit);
            c = sentinel;
            int rc = rill_model_load_alloc(&c, b, size, &a);
            b[byte] ^= (unsigned char)(1u << bit);
            ck_assert_msg(rc == RILL_EFORMAT, "%s: bit %d of byte %zu (of %zu) flipped: load = %d",
                          tu_loss_name(loss), bit, byte, size, rc);
            ck_assert_ptr_eq(c, sentinel);
        }
    }
    ck_assert_uint_eq(cnt.live, 0);
    ck_assert_uint_eq(cnt.n_alloc, cnt.n_free);
    free(b);
    rill_model_free(m);
}
END_TEST

/* Fields that pass the checksum are still validated. Each case edits one field and reseals. */
enum { F_U32, F_U64, F_F64 };
struct edit {
    const char *name;
    size_t off; /* (size_t)-1: the first weight; -2: the first AdaGrad sum; -3: eval[0] */
    int kind;
    uint64_t u;
    double f;
    int expect;
};

START_TEST(test_fields_validated_behind_crc)
{
    static const struct edit edits[] = {
        {"version 0", OFF_VERSION, F_U32, 0, 0, RILL_EFORMAT},
        {"version 3 (newer)", OFF_VERSION, F_U32, 3, 0, RILL_EFORMAT},
        {"version 1 (its size is smaller)", OFF_VERSION, F_U32, 1, 0, RILL_EFORMAT},
        {"header size", OFF_HEADER, F_U32, 57, 0, RILL_EFORMAT},
        {"L-BFGS memory", OFF_LBFGS_M, F_U32, RILL_LBFGS_M - 1, 0, RILL_EFORMAT},
        {"loss 0", OFF_LOSS, F_U32, 0, 0, RILL_EFORMAT},
        {"loss 4", OFF_LOSS, F_U32, 4, 0, RILL_EFORMAT},
        {"loss logistic with n_classes 3", OFF_LOSS, F_U32, RILL_LOGISTIC, 0, RILL_EFORMAT},
        {"n_classes 1", OFF_N_CLASSES, F_U32, 1, 0, RILL_EFORMAT},
        {"n_classes 4 (size)", OFF_N_CLASSES, F_U64, 4, 0, RILL_EFORMAT},
        {"n_classes 2^63", OFF_N_CLASSES, F_U64, UINT64_C(1) << 63, 0, RILL_EFORMAT},
        {"n_features 0", OFF_N_FEATURES, F_U64, 0, 0, RILL_EFORMAT},
        {"n_features 3 (size)", OFF_N_FEATURES, F_U64, 3, 0, RILL_EFORMAT},
        {"n_features 2^62", OFF_N_FEATURES, F_U64, UINT64_C(1) << 62, 0, RILL_EFORMAT},
        {"n_features max", OFF_N_FEATURES, F_U64, UINT64_MAX, 0, RILL_EFORMAT},
        {"n_weights", OFF_N_WEIGHTS, F_U64, 10, 0, RILL_EFORMAT},
        {"learning rate < 0", OFF_LEARNING_RATE, F_F64, 0, -1.0, RILL_EFORMAT},
        {"learning rate NaN", OFF_LEARNING_RATE, F_F64, 0, NAN, RILL_EFORMAT},
        {"learning rate inf", OFF_LEARNING_RATE, F_F64, 0, INFINITY, RILL_EFORMAT},
        {"schedule 0", OFF_SCHEDULE, F_U32, 0, 0, RILL_EFORMAT},
        {"schedule 5", OFF_SCHEDULE, F_U32, 5, 0, RILL_EFORMAT},
        {"fit_intercept 2", OFF_FIT_INTERCEPT, F_U32, 2, 0, RILL_EFORMAT},
        {"power_t 11", OFF_POWER_T, F_F64, 0, 11.0, RILL_EFORMAT},
        {"l2 NaN", OFF_L2, F_F64, 0, NAN, RILL_EFORMAT},
        {"l1 < 0", OFF_L1, F_F64, 0, -0.5, RILL_EFORMAT},
        {"max_epochs 0", OFF_MAX_EPOCHS, F_F64, 0, 0.0, RILL_EFORMAT},
        {"max_epochs 1.5", OFF_MAX_EPOCHS, F_F64, 0, 1.5, RILL_EFORMAT},
        {"tol 2", OFF_TOL, F_F64, 0, 2.0, RILL_EFORMAT},
        {"batch_rows 0.5", OFF_BATCH_ROWS, F_F64, 0, 0.5, RILL_EFORMAT},
        {"average -1", OFF_AVERAGE, F_F64, 0, -1.0, RILL_EFORMAT},
        {"seed 2^53", OFF_SEED, F_F64, 0, 9007199254740992.0, RILL_EFORMAT},
        {"stat_epochs -1", OFF_STAT_EPOCHS, F_F64, 0, -1.0, RILL_EFORMAT},
        {"stat_steps NaN", OFF_STAT_STEPS, F_F64, 0, NAN, RILL_EFORMAT},
        {"stat_rows inf", OFF_STAT_ROWS, F_F64, 0, INFINITY, RILL_EFORMAT},
        {"stat_loss NaN", OFF_STAT_LOSS, F_F64, 0, NAN, RILL_EFORMAT},
        {"stat_converged 2", OFF_STAT_CONVERGED, F_U32, 2, 0, RILL_EFORMAT},
        {"stat_stopped 7", OFF_STAT_STOPPED, F_U32, 7, 0, RILL_EFORMAT},
        {"prog_loss_sum NaN", OFF_PROG_LOSS_SUM, F_F64, 0, NAN, RILL_EFORMAT},
        {"prog_rows -1", OFF_PROG_ROWS, F_F64, 0, -1.0, RILL_EFORMAT},
        {"avg_count NaN", OFF_AVG_COUNT, F_F64, 0, NAN, RILL_EFORMAT},
        {"phase 2", OFF_PHASE, F_U32, 2, 0, RILL_EFORMAT},
        {"n_pairs M + 1", OFF_N_PAIRS, F_U32, RILL_LBFGS_M + 1, 0, RILL_EFORMAT},
        {"next_pair M", OFF_NEXT_PAIR, F_U32, RILL_LBFGS_M, 0, RILL_EFORMAT},
        {"n_backtracks 2^31", OFF_N_BACKTRACKS, F_U32, UINT64_C(0x80000000), 0, RILL_EFORMAT},
        {"n_backtracks INT_MAX", OFF_N_BACKTRACKS, F_U32, 0x7fffffff, 0, RILL_EFORMAT},
        {"n_backtracks 42", OFF_N_BACKTRACKS, F_U32, 42, 0, RILL_EFORMAT},
        {"restarted 2", OFF_RESTARTED, F_U32, 2, 0, RILL_EFORMAT},
        {"applied 2", OFF_APPLIED, F_U32, 2, 0, RILL_EFORMAT},
        {"converged 2", OFF_CONVERGED, F_U32, 2, 0, RILL_EFORMAT},
        {"stalled 2", OFF_STALLED, F_U32, 2, 0, RILL_EFORMAT},
        {"has_prev 2", OFF_HAS_PREV, F_U32, 2, 0, RILL_EFORMAT},
        {"stale 2", OFF_STALE, F_U32, 2, 0, RILL_EFORMAT},
        {"weight NaN", (size_t)-1, F_F64, 0, NAN, RILL_EFORMAT},
        {"weight inf", (size_t)-1, F_F64, 0, -INFINITY, RILL_EFORMAT},
        {"AdaGrad sum < 0", (size_t)-2, F_F64, 0, -1.0, RILL_EFORMAT},
        /* accepted: in range, or the optimizer's work arrays (any bits it may leave there) */
        {"n_pairs M", OFF_N_PAIRS, F_U32, RILL_LBFGS_M, 0, RILL_OK},
        {"n_backtracks 41 (a stalled search)", OFF_N_BACKTRACKS, F_U32, 41, 0, RILL_OK},
        {"f_x inf", OFF_F_X, F_F64, 0, INFINITY, RILL_OK},
        {"eval NaN", (size_t)-3, F_F64, 0, NAN, RILL_OK},
        {"AdaGrad sum inf", (size_t)-2, F_F64, 0, INFINITY, RILL_OK},
        {"seed 2^53 - 1", OFF_SEED, F_F64, 0, 9007199254740991.0, RILL_OK},
    };
    size_t size, i, nw;
    unsigned char *b, *e;
    counter cnt = {0, 0, 0, 0};
    rill_alloc a = {count_alloc, count_free, &cnt};
    rill_model *m = trained_model(RILL_SOFTMAX, 2, 3, 1, NULL, NULL, NULL), *c;
    rill_model *const sentinel = (rill_model *)&size;

    nw = rill_model_n_weights(m);
    ck_assert_uint_eq(nw, 9);
    b = save_blob(m, &size);
    e = malloc(size);
    memcpy(e, b, size);
    ref_reseal(e, size);
    ck_assert_msg(memcmp(e, b, size) == 0, "the test's CRC differs from the library's");
    for (i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        const struct edit *ed = &edits[i];
        size_t off = ed->off == (size_t)-1   ? OFF_ARRAY(0, nw)
                     : ed->off == (size_t)-2 ? OFF_ARRAY(2, nw)
                     : ed->off == (size_t)-3 ? OFF_ARRAY(3, nw)
                                             : ed->off;
        int rc;
        memcpy(e, b, size);
        if (ed->kind == F_U32)
            ref_wr_u32(e + off, (uint32_t)ed->u);
        else if (ed->kind == F_U64)
            ref_wr_u64(e + off, ed->u);
        else
            ref_wr_f64(e + off, ed->f);
        ref_reseal(e, size);
        c = sentinel;
        rc = rill_model_load_alloc(&c, e, size, &a);
        ck_assert_msg(rc == ed->expect, "%s: load = %d, expected %d", ed->name, rc, ed->expect);
        if (rc == RILL_OK)
            rill_model_free(c);
        else
            ck_assert_ptr_eq(c, sentinel);
        ck_assert_msg(cnt.live == 0, "%s: leaked", ed->name);
    }
    /* with has_prev = 1, dir is the previous point, which a divergence makes the weights:
     * finite; otherwise any bits */
    for (int k = 0; k < 3; k++) {
        memcpy(e, b, size);
        ref_wr_u32(e + OFF_HAS_PREV, k > 0);
        ref_wr_f64(e + OFF_ARRAY(5, nw), k == 1 ? 0.25 : NAN);
        ref_reseal(e, size);
        c = sentinel;
        const int want = k == 2 ? RILL_EFORMAT : RILL_OK;
        const int rc = rill_model_load_alloc(&c, e, size, &a);
        ck_assert_msg(rc == want, "has_prev %d, dir[0] %g: load = %d, expected %d", k > 0,
                      k == 1 ? 0.25 : NAN, rc, want);
        if (rc == RILL_OK)
            rill_model_free(c);
        ck_assert_msg(cnt.live == 0, "has_prev %d: leaked", k > 0);
    }
    /* the total-size field that disagrees with the length, even resealed */
    memcpy(e, b, size);
    ref_wr_u64(e + OFF_TOTAL, size + 8);
    ref_reseal(e, size);
    ck_assert_int_eq(rill_model_load_alloc(&c, e, size, &a), RILL_EFORMAT);
    ck_assert_uint_eq(cnt.n_alloc, cnt.n_free);
    free(e);
    free(b);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ resume after load */

struct sgd_cfg {
    int loss;
    size_t K;
    int schedule;
    double lr, l2, l1, average;
    size_t batch;
};

static const struct sgd_cfg sgd_cfgs[] = {
    {RILL_SQUARED, 0, RILL_SCHEDULE_INVSCALING, 0.0, 0.0, 0.0, 0, 1},
    {RILL_SQUARED, 0, RILL_SCHEDULE_ADAGRAD, 0.0, 0.01, 0.0, 4, 3},
    {RILL_LOGISTIC, 2, RILL_SCHEDULE_ADAGRAD, 0.5, 0.0, 0.001, 1, 2},
    {RILL_LOGISTIC, 2, RILL_SCHEDULE_INVSCALING, 0.3, 0.001, 0.0, 7, 1},
    {RILL_SOFTMAX, 3, RILL_SCHEDULE_OPTIMAL, 0.2, 0.1, 0.01, 5, 4},
    {RILL_SOFTMAX, 4, RILL_SCHEDULE_CONSTANT, 0.05, 0.0, 0.0, 1, 1},
};

static void configure_sgd(rill_model *m, const struct sgd_cfg *c)
{
    tu_set_param(m, RILL_SCHEDULE, c->schedule);
    tu_set_param(m, RILL_LEARNING_RATE, c->lr);
    tu_set_param(m, RILL_L2, c->l2);
    tu_set_param(m, RILL_L1, c->l1);
    tu_set_param(m, RILL_AVERAGE, c->average);
}

START_TEST(test_resume_sgd)
{
    const struct sgd_cfg *cfg = &sgd_cfgs[_i];
    const size_t n = 60, d = 4, k = 9;
    ref_rng r;
    double *X, *y;
    rill_model *a = tu_new_model_for(cfg->loss, d, cfg->K), *u = tu_new_model_for(cfg->loss, d, cfg->K), *b;
    char what[64];

    ref_rng_seed(&r, 700 + (uint64_t)_i);
    ref_random_problem(&r, cfg->loss, n, d, tu_classes_for(cfg->loss, cfg->K), 1.0, &X, &y);
    configure_sgd(a, cfg);
    configure_sgd(u, cfg);

    sgd_steps(u, X, y, n, d, cfg->batch, 0, 2 * k); /* uninterrupted */
    sgd_steps(a, X, y, n, d, cfg->batch, 0, k);
    if (cfg->average > 0)
        ck_assert_msg(a->avg_count > 0.0, "config %d: no average to carry over", _i);
    if (cfg->schedule == RILL_SCHEDULE_ADAGRAD)
        ck_assert_msg(a->adagrad[0] > 0.0, "config %d: no AdaGrad sums to carry over", _i);
    b = reload(a);
    sgd_steps(b, X, y, n, d, cfg->batch, k, k);

    snprintf(what, sizeof what, "SGD config %d (%s)", _i, tu_loss_name(cfg->loss));
    assert_same_weights(b, u, what);
    assert_same_state(b, u, what);
    free(X);
    free(y);
    rill_model_free(a);
    rill_model_free(b);
    rill_model_free(u);
}
END_TEST

struct batch_cfg {
    int loss;
    size_t K;
    double l2, l1, lr; /* lr > 0: fixed-step mode (constant schedule) */
};

static const struct batch_cfg batch_cfgs[] = {
    {RILL_SQUARED, 0, 0.01, 0.0, 0.0},   {RILL_LOGISTIC, 2, 0.01, 0.0, 0.0},
    {RILL_LOGISTIC, 2, 0.001, 0.01, 0.0}, {RILL_SOFTMAX, 3, 0.1, 0.0, 0.0},
    {RILL_SOFTMAX, 3, 0.0, 0.005, 0.0},  {RILL_SQUARED, 0, 0.1, 0.01, 0.05},
};

static void configure_batch(rill_model *m, const struct batch_cfg *c, double max_epochs)
{
    tu_set_param(m, RILL_L2, c->l2);
    tu_set_param(m, RILL_L1, c->l1);
    tu_set_param(m, RILL_TOL, 0.0);
    tu_set_param(m, RILL_MAX_EPOCHS, max_epochs);
    if (c->lr > 0.0) {
        tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
        tu_set_param(m, RILL_LEARNING_RATE, c->lr);
    }
}

/* The manual reverse-communication loop, interrupted by save/load after every possible
 * iteration, ends in the same state as the uninterrupted loop. */
START_TEST(test_resume_batch_loop)
{
    const struct batch_cfg *cfg = &batch_cfgs[_i];
    const size_t n = 60, d = 4, T = 16;
    size_t k;
    int searching = 0;
    ref_rng r;
    double *X, *y;
    rill_model *u = tu_new_model_for(cfg->loss, d, cfg->K);
    char what[96];

    ref_rng_seed(&r, 800 + (uint64_t)_i);
    ref_random_problem(&r, cfg->loss, n, d, tu_classes_for(cfg->loss, cfg->K), 1.0, &X, &y);
    configure_batch(u, cfg, 1000);
    batch_iters(u, X, y, n, T);
    for (k = 1; k < T; k++) {
        rill_model *a = tu_new_model_for(cfg->loss, d, cfg->K), *b;
        configure_batch(a, cfg, 1000);
        batch_iters(a, X, y, n, k);
        searching += a->opt.phase == OPT_SEARCH && a->opt.n_pairs > 0;
        b = reload(a);
        batch_iters(b, X, y, n, T - k);
        snprintf(what, sizeof what, "batch config %d (%s), saved after %zu of %zu", _i,
                 tu_loss_name(cfg->loss), k, T);
        assert_same_weights(b, u, what);
        assert_same_state(b, u, what);
        rill_model_free(a);
        rill_model_free(b);
    }
    if (cfg->lr == 0.0)
        ck_assert_msg(searching > 0, "config %d: never saved mid search with L-BFGS pairs", _i);
    free(X);
    free(y);
    rill_model_free(u);
}
END_TEST

/* rill_fit for k epochs, save, load, then the manual loop for k more equals the same without
 * the save, and the manual loop of 2k from the start. */
START_TEST(test_resume_fit_batch)
{
    const struct batch_cfg *cfg = &batch_cfgs[_i];
    const size_t n = 60, d = 4, k = 6;
    ref_rng r;
    double *X, *y;
    rill_model *a = tu_new_model_for(cfg->loss, d, cfg->K), *u = tu_new_model_for(cfg->loss, d, cfg->K);
    rill_model *v = tu_new_model_for(cfg->loss, d, cfg->K), *b;
    char what[64];

    ref_rng_seed(&r, 900 + (uint64_t)_i);
    ref_random_problem(&r, cfg->loss, n, d, tu_classes_for(cfg->loss, cfg->K), 1.0, &X, &y);
    configure_batch(a, cfg, (double)k);
    configure_batch(u, cfg, (double)k);
    configure_batch(v, cfg, (double)k);

    ck_assert_int_eq(rill_fit(a, X, y, n), RILL_OK);
    ck_assert(tu_get_param(a, RILL_STAT_EPOCHS) == (double)k);
    b = reload(a);
    batch_iters(b, X, y, n, k);

    ck_assert_int_eq(rill_fit(u, X, y, n), RILL_OK);
    batch_iters(u, X, y, n, k);
    batch_iters(v, X, y, n, 2 * k);

    snprintf(what, sizeof what, "rill_fit config %d (%s)", _i, tu_loss_name(cfg->loss));
    assert_same_state(b, u, what);
    assert_same_weights(b, v, what);
    free(X);
    free(y);
    rill_model_free(a);
    rill_model_free(b);
    rill_model_free(u);
    rill_model_free(v);
}
END_TEST

/* Stochastic rill_fit (RILL_BATCH_ROWS > 0) twice, with a save/load in between. */
START_TEST(test_resume_fit_stochastic)
{
    const int loss = RILL_SQUARED + _i;
    const size_t n = 50, d = 3, K = 3;
    ref_rng r;
    double *X, *y;
    rill_model *a = tu_new_model_for(loss, d, K), *u = tu_new_model_for(loss, d, K), *b;
    rill_model *ms[2];
    int i;

    ms[0] = a;
    ms[1] = u;
    ref_rng_seed(&r, 1000 + (uint64_t)_i);
    ref_random_problem(&r, loss, n, d, tu_classes_for(loss, K), 1.0, &X, &y);
    for (i = 0; i < 2; i++) {
        tu_set_param(ms[i], RILL_BATCH_ROWS, 4);
        tu_set_param(ms[i], RILL_MAX_EPOCHS, 2);
        tu_set_param(ms[i], RILL_AVERAGE, 20);
        tu_set_param(ms[i], RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
        tu_set_param(ms[i], RILL_SEED, 77);
        ck_assert_int_eq(rill_fit(ms[i], X, y, n), RILL_OK);
    }
    b = reload(a);
    ck_assert_int_eq(rill_fit(b, X, y, n), RILL_OK);
    ck_assert_int_eq(rill_fit(u, X, y, n), RILL_OK);
    assert_same_weights(b, u, "stochastic rill_fit");
    assert_same_state(b, u, "stochastic rill_fit");
    free(X);
    free(y);
    rill_model_free(a);
    rill_model_free(b);
    rill_model_free(u);
}
END_TEST

/* A model of 4 features in the middle of a gradient/apply loop on a random problem of n rows:
 * iters iterations, then the sums at its evaluation point in g (5 entries) and *loss. */
static rill_model *mid_loop(int loss_kind, size_t K, uint64_t seed, size_t n, size_t iters,
                            double **X, double **y, double *g, double *loss)
{
    ref_rng r;
    rill_model *m = tu_new_model_for(loss_kind, 4, K);
    ref_rng_seed(&r, seed);
    ref_random_problem(&r, loss_kind, n, 4, K, 1.0, X, y);
    tu_set_param(m, RILL_TOL, 0.0);
    batch_iters(m, *X, *y, n, iters);
    ck_assert_int_eq(rill_gradient(m, *X, *y, n, g, loss), RILL_OK);
    return m;
}

/* Sums computed before a save are applied after the load: a checkpoint in a distributed loop
 * (the loaded model is not stale). */
START_TEST(test_sums_across_save)
{
    const size_t n = 60;
    double *X, *y, g[5], loss;
    rill_model *a = mid_loop(RILL_SQUARED, 0, 1100, n, 4, &X, &y, g, &loss), *b;
    b = reload(a);
    ck_assert_int_eq(rill_apply_gradient(a, g, loss, (double)n), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(b, g, loss, (double)n), RILL_OK);
    assert_same_state(a, b, "sums across a save");
    free(X);
    free(y);
    rill_model_free(a);
    rill_model_free(b);
}
END_TEST

/* Sums handed out, then a change that makes them stale, then a save: the loaded model
 * refuses them once, as the original does, and both go on to the same bits. */
START_TEST(test_stale_sums_across_save)
{
    const size_t n = 60;
    double *X, *y, g[5], loss;
    rill_model *a = mid_loop(RILL_LOGISTIC, 2, 1101, n, 3, &X, &y, g, &loss), *b;
    tu_set_param(a, RILL_L2, 0.25); /* resets the optimizer: the sums are stale */
    b = reload(a);
    ck_assert_int_eq(b->opt.stale, 1);
    ck_assert_int_eq(rill_apply_gradient(a, g, loss, (double)n), RILL_ESTATE);
    ck_assert_int_eq(rill_apply_gradient(b, g, loss, (double)n), RILL_ESTATE);
    assert_same_state(a, b, "stale sums across a save");
    batch_iters(a, X, y, n, 3);
    batch_iters(b, X, y, n, 3);
    assert_same_state(a, b, "after stale sums across a save");
    free(X);
    free(y);
    rill_model_free(a);
    rill_model_free(b);
}
END_TEST

/* ------------------------------------------------------------------ known answer */

/* The weights make_kat_blob.c wrote: one row per class, w_0, w_1, w_2, intercept. */
static const double kat_w[12] = {
    0.5,  -0.25, 1.0,  0.125, /* class 0 */
    -0.75, 0.5,  0.25, -0.5,  /* class 1 */
    0.0,   1.5, -1.25, 0.375, /* class 2 */
};

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long len;
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert(fseek(f, 0, SEEK_END) == 0);
    len = ftell(f);
    ck_assert(len > 0);
    ck_assert(fseek(f, 0, SEEK_SET) == 0);
    b = malloc((size_t)len);
    ck_assert(fread(b, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    *size = (size_t)len;
    return b;
}

/* The first gradients make_kat_blob gives the version 2 blob (g0, g0_norm their maximum). */
static double kat_g0(size_t j)
{
    return (double)(j + 1) * 0.0625;
}

/* The committed blobs: version 2 (today's) and version 1 hold the same model. Version 1 loads
 * with its g0_norm as every weight's g0 (-1 there: not yet measured). */
START_TEST(test_known_answer_blob)
{
    const int version = _i + 1;
    /* rows and their scores, worked out by hand (all exact in binary) */
    static const double X[5][3] = {
        {1, 2, 3}, {-1, 0.5, 2}, {0, 0, 0}, {2, -1, 0.5}, {-2, 0, 1}};
    static const double scores[5][3] = {{3.125, 0.5, -0.375},
                                        {1.5, 1.0, -1.375},
                                        {0.125, -0.5, 0.375},
                                        {1.875, -2.375, -1.75},
                                        {0.125, 1.25, -0.875}};
    static const double labels[5] = {0, 0, 2, 0, 1};
    const char *path = version == 1 ? BLOB_DATA_DIR "/model_v1.blob" : BLOB_DATA_DIR "/model_v2.blob";
    size_t size, i, c, j;
    unsigned char *b, *again;
    double p[15], lab[5], w[12];
    rill_model *m;

    b = read_file(path, &size);
    ck_assert_uint_eq(size, version == 1 ? blob_size_v1(12) : blob_size_formula(12));
    ck_assert_uint_eq(ref_rd_u32(b + OFF_VERSION), version);
    ck_assert_uint_eq(ref_rd_u64(b + OFF_TOTAL), size);
    ck_assert_uint_eq(ref_rd_u32(b + size - 4), ref_crc32(b, size - 4));
    m = load_blob(b, size);

    ck_assert(tu_get_param(m, RILL_MODEL_LOSS) == RILL_SOFTMAX);
    ck_assert(tu_get_param(m, RILL_MODEL_N_FEATURES) == 3);
    ck_assert(tu_get_param(m, RILL_MODEL_N_CLASSES) == 3);
    ck_assert(tu_get_param(m, RILL_LEARNING_RATE) == 0.125);
    ck_assert(tu_get_param(m, RILL_SCHEDULE) == RILL_SCHEDULE_ADAGRAD);
    ck_assert(tu_get_param(m, RILL_POWER_T) == 0.5);
    ck_assert(tu_get_param(m, RILL_L2) == 0.25);
    ck_assert(tu_get_param(m, RILL_L1) == 0.0625);
    ck_assert(tu_get_param(m, RILL_FIT_INTERCEPT) == 0);
    ck_assert(tu_get_param(m, RILL_MAX_EPOCHS) == 77);
    ck_assert(tu_get_param(m, RILL_TOL) == 1e-6);
    ck_assert(tu_get_param(m, RILL_BATCH_ROWS) == 5);
    ck_assert(tu_get_param(m, RILL_AVERAGE) == 3);
    ck_assert(tu_get_param(m, RILL_SEED) == 12345);
    ck_assert(tu_get_param(m, RILL_STAT_EPOCHS) == 3);
    ck_assert(tu_get_param(m, RILL_STAT_STEPS) == 7);
    ck_assert(tu_get_param(m, RILL_STAT_ROWS) == 42);
    ck_assert(tu_get_param(m, RILL_STAT_LOSS) == 0.5);
    ck_assert(tu_get_param(m, RILL_STAT_CONVERGED) == 1);
    ck_assert(tu_get_param(m, RILL_STAT_STOPPED) == 0);
    ck_assert(tu_get_param(m, RILL_STAT_PROGRESSIVE_LOSS) == 0.25);

    ck_assert_int_eq(rill_model_weights(m, w, 12), RILL_OK);
    ck_assert(memcmp(w, kat_w, sizeof w) == 0);

    ck_assert_int_eq(rill_predict(m, &X[0][0], 5, p), RILL_OK);
    ck_assert_int_eq(rill_classify(m, &X[0][0], 5, lab), RILL_OK);
    for (i = 0; i < 5; i++) {
        double s[3], mx, z = 0.0;
        for (c = 0; c < 3; c++) {
            s[c] = kat_w[4 * c + 3];
            for (j = 0; j < 3; j++)
                s[c] += kat_w[4 * c + j] * X[i][j];
            ck_assert_msg(s[c] == scores[i][c], "the test's own score %zu,%zu", i, c);
        }
        mx = fmax(s[0], fmax(s[1], s[2]));
        for (c = 0; c < 3; c++)
            z += exp(s[c] - mx);
        for (c = 0; c < 3; c++) {
            double want = exp(s[c] - mx) / z;
            ck_assert_msg(fabs(p[3 * i + c] - want) <= 1e-15 * want + 1e-300,
                          "row %zu class %zu: predicted %.17g, expected %.17g", i, c,
                          p[3 * i + c], want);
        }
        ck_assert_msg(lab[i] == labels[i], "row %zu: label %g, expected %g", i, lab[i],
                      labels[i]);
    }

    /* today's writer produces the committed version 2 bytes: the format is stable; version 1
     * comes back as version 2, its bytes with every weight's g0 appended before the CRC */
    again = save_blob(m, &i);
    if (version == 2) {
        ck_assert_uint_eq(i, size);
        ck_assert_msg(memcmp(again, b, size) == 0,
                      "re-saving the known-answer model changed bytes");
        ck_assert(ref_rd_f64(b + OFF_G0_NORM) == kat_g0(11));
        for (j = 0; j < 12; j++)
            ck_assert(ref_rd_f64(b + OFF_ARRAY(ARRAY_G0, 12) + 8 * j) == kat_g0(j));
    } else {
        ck_assert_uint_eq(i, blob_size_formula(12));
        ck_assert_uint_eq(ref_rd_u32(again + OFF_VERSION), 2);
        ck_assert_uint_eq(ref_rd_u64(again + OFF_TOTAL), i);
        ck_assert_msg(memcmp(again + OFF_HEADER, b + OFF_HEADER, OFF_TOTAL - OFF_HEADER) == 0 &&
                          memcmp(again + OFF_LBFGS_M, b + OFF_LBFGS_M, size - 4 - OFF_LBFGS_M) == 0,
                      "a version 1 model saved as version 2 changed its fields");
        ck_assert(ref_rd_f64(b + OFF_G0_NORM) == -1.0);
        for (j = 0; j < 12; j++)
            ck_assert(ref_rd_f64(again + OFF_ARRAY(ARRAY_G0, 12) + 8 * j) == -1.0);
        ck_assert_uint_eq(ref_rd_u32(again + i - 4), ref_crc32(again, i - 4));
    }
    free(again);
    free(b);
    rill_model_free(m);
}
END_TEST

static Suite *blob_suite(void)
{
    Suite *s = suite_create("blob");
    TCase *tc = tcase_create("format");
    tcase_add_loop_test(tc, test_roundtrip, 0, 6);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_crc_reference);
    tcase_add_loop_test(tc, test_known_answer_blob, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("arguments");
    tcase_add_test(tc, test_save_size_query_and_erange);
    tcase_add_test(tc, test_save_with_busy_stream);
    tcase_add_test(tc, test_load_arguments_and_allocator);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_add_loop_test(tc, test_every_truncation, 0, 3);
    tcase_add_loop_test(tc, test_every_bit_flip, 0, 3);
    tcase_add_test(tc, test_fields_validated_behind_crc);
    suite_add_tcase(s, tc);

    tc = tcase_create("resume");
    tcase_add_loop_test(tc, test_resume_sgd, 0, (int)(sizeof sgd_cfgs / sizeof sgd_cfgs[0]));
    tcase_add_loop_test(tc, test_resume_batch_loop, 0,
                        (int)(sizeof batch_cfgs / sizeof batch_cfgs[0]));
    tcase_add_loop_test(tc, test_resume_fit_batch, 0,
                        (int)(sizeof batch_cfgs / sizeof batch_cfgs[0]));
    tcase_add_loop_test(tc, test_resume_fit_stochastic, 0, 3);
    tcase_add_test(tc, test_sums_across_save);
    tcase_add_test(tc, test_stale_sums_across_save);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(blob_suite)
