/*
 * The no-heap path: models and streams in a caller's buffer (rill_model_workspace_size,
 * rill_model_init_static, rill_stream_workspace_size, rill_stream_init_static).
 *
 * Properties: the size queries are exact (the size works, one byte less is refused with
 * RILL_ERANGE and nothing written); training on a model in a buffer makes no allocation at
 * all, neither through a rill_alloc nor through the C allocator (this executable is linked
 * with -Wl,--wrap for malloc and friends, see meson.build); the results are bit-identical to
 * an allocated model's; freeing a handle in a buffer writes nothing into it; the calls that
 * would need to allocate are refused with RILL_EUNSUPPORTED and change nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"
#include "ref.h"
#include "tmain.h"
#include "tutil.h"
#include "cspy.h"

/* ------------------------------------------------------------------ counting rill_alloc */

typedef struct counter {
    long allocs, frees;
    int refuse; /* every alloc from now on returns NULL (still counted) */
} counter;

static void *count_alloc(void *ctx, size_t size, size_t align)
{
    counter *c = ctx;
    void *p = NULL;
    c->allocs++;
    if (c->refuse)
        return NULL;
    if (__real_posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0)
        return NULL;
    return p;
}

static void count_free(void *ctx, void *ptr, size_t size)
{
    counter *c = ctx;
    (void)size;
    c->frees++;
    __real_free(ptr);
}

/* ------------------------------------------------------------------ helpers */

/* An 8-aligned buffer of n bytes (doubles), filled with a pattern; the caller frees. */
static unsigned char *pattern_buffer(size_t n)
{
    double *d = malloc((n + sizeof(double)) / sizeof(double) * sizeof(double) + sizeof(double));
    ck_assert(d != NULL);
    memset(d, 0x5A, n);
    return (unsigned char *)d;
}

static int untouched(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0x5A)
            return 0;
    return 1;
}

static size_t model_size(int loss, size_t d, size_t K)
{
    size_t sz = 0;
    int rc = rill_model_workspace_size(loss, d, K, &sz);
    ck_assert_msg(rc == RILL_OK && sz > 0, "rill_model_workspace_size(%s, %zu, %zu) = %d",
                  tu_loss_name(loss), d, K, rc);
    return sz;
}

static rill_model *static_model(void *buf, size_t size, int loss, size_t d, size_t K)
{
    rill_model *m = NULL;
    int rc = rill_model_init_static(&m, buf, size, loss, d, K);
    ck_assert_msg(rc == RILL_OK && m != NULL, "rill_model_init_static = %d", rc);
    return m;
}

/* The model's blob (configuration, weights, statistics, optimizer state), malloc'd. */
static unsigned char *blob_of(const rill_model *m, size_t *len)
{
    size_t need = 0;
    ck_assert_int_eq(rill_model_save(m, NULL, 0, &need), RILL_OK);
    unsigned char *b = malloc(need);
    ck_assert(b != NULL);
    ck_assert_int_eq(rill_model_save(m, b, need, len), RILL_OK);
    ck_assert(*len == need);
    return b;
}

static void same_model(const rill_model *a, const rill_model *b, const char *when)
{
    size_t la, lb, nw = rill_model_n_weights(a);
    ck_assert(nw == rill_model_n_weights(b));
    double *wa = tu_get_weights(a), *wb = tu_get_weights(b);
    ck_assert_msg(memcmp(wa, wb, nw * sizeof(double)) == 0,
                  "%s: weights differ (w[0] %.17g vs %.17g)", when, wa[0], wb[0]);
    unsigned char *ba = blob_of(a, &la), *bb = blob_of(b, &lb);
    ck_assert_msg(la == lb && memcmp(ba, bb, la) == 0, "%s: saved models differ", when);
    free(wa);
    free(wb);
    free(ba);
    free(bb);
}

static const int losses[] = {RILL_SQUARED, RILL_LOGISTIC, RILL_SOFTMAX};

/* ------------------------------------------------------------------ size queries */

START_TEST(test_model_workspace)
{
    const int loss = losses[_i];
    const size_t d = 5, K = tu_classes_for(loss, 4);
    const size_t sz = model_size(loss, d, K);
    unsigned char *buf = pattern_buffer(sz);
    rill_model *sentinel = (rill_model *)&sz, *m = sentinel;

    /* one byte short: refused, nothing written */
    ck_assert_int_eq(rill_model_init_static(&m, buf, sz - 1, loss, d, K), RILL_ERANGE);
    ck_assert_msg(m == sentinel, "*out written on failure");
    ck_assert_msg(untouched(buf, sz), "the buffer was written by a refused init");
    /* misaligned, NULL */
    ck_assert_int_eq(rill_model_init_static(&m, buf + 1, sz, loss, d, K), RILL_EINVAL);
    ck_assert_int_eq(rill_model_init_static(&m, NULL, sz, loss, d, K), RILL_EINVAL);
    ck_assert_int_eq(rill_model_init_static(NULL, buf, sz, loss, d, K), RILL_EINVAL);
    ck_assert(m == sentinel && untouched(buf, sz));

    /* the exact size works, and the model is the shape asked for */
    m = static_model(buf, sz, loss, d, K);
    ck_assert_ptr_eq((void *)m, (void *)buf);
    ck_assert(rill_model_n_weights(m) == ref_n_weights(loss, d, K));
    ck_assert(tu_get_param(m, RILL_MODEL_LOSS) == loss);
    ck_assert(tu_get_param(m, RILL_MODEL_N_FEATURES) == (double)d);
    ck_assert(tu_get_param(m, RILL_MODEL_N_CLASSES) == (double)K);
    double *w = tu_get_weights(m);
    for (size_t j = 0; j < rill_model_n_weights(m); j++)
        ck_assert_msg(w[j] == 0.0, "a fresh model in a buffer has w[%zu] = %g", j, w[j]);
    free(w);

    /* freeing writes nothing; the buffer can be used again */
    unsigned char *copy = malloc(sz);
    memcpy(copy, buf, sz);
    rill_model_free(m);
    ck_assert_msg(memcmp(copy, buf, sz) == 0, "rill_model_free wrote into the caller's buffer");
    m = static_model(buf, sz, loss, d, K);
    rill_model_free(m);

    /* a larger buffer works too; a larger shape needs more */
    free(buf);
    buf = pattern_buffer(sz + 100);
    m = static_model(buf, sz + 100, loss, d, K);
    rill_model_free(m);
    ck_assert(model_size(loss, d + 8, K) > sz);
    free(copy);
    free(buf);
}
END_TEST

START_TEST(test_model_workspace_errors)
{
    size_t sz = 12345;
    rill_model *m = NULL;
    unsigned char buf[64];
    ck_assert_int_eq(rill_model_workspace_size(RILL_SQUARED, 3, 0, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_model_workspace_size(9, 3, 0, &sz), RILL_EUNSUPPORTED);
    ck_assert_int_eq(rill_model_workspace_size(RILL_SQUARED, 0, 0, &sz), RILL_EINVAL);
    ck_assert_int_eq(rill_model_workspace_size(RILL_SQUARED, 3, 2, &sz), RILL_EINVAL);
    ck_assert_int_eq(rill_model_workspace_size(RILL_LOGISTIC, 3, 3, &sz), RILL_EINVAL);
    ck_assert_int_eq(rill_model_workspace_size(RILL_SOFTMAX, 3, 1, &sz), RILL_EINVAL);
    /* the worst case of a huge shape does not fit size_t */
    ck_assert_int_eq(rill_model_workspace_size(RILL_SQUARED, SIZE_MAX / 64, 0, &sz), RILL_ERANGE);
    ck_assert_int_eq(rill_model_workspace_size(RILL_SOFTMAX, 1000, SIZE_MAX / 1000, &sz),
                     RILL_ERANGE);
    ck_assert_int_eq(rill_model_workspace_size(RILL_SQUARED, SIZE_MAX, 0, &sz), RILL_ERANGE);
    ck_assert_msg(sz == 12345, "*size written on failure");
    ck_assert_int_eq(rill_model_init_static(&m, buf, sizeof buf, RILL_SQUARED, SIZE_MAX / 64, 0),
                     RILL_ERANGE);
    ck_assert_int_eq(rill_model_init_static(&m, buf, sizeof buf, 0, 3, 0), RILL_EUNSUPPORTED);
    ck_assert(m == NULL);
}
END_TEST

START_TEST(test_stream_workspace)
{
    const int mode = _i; /* STEP, PASS, EXACT */
    const size_t d = 4, b = 7;
    const size_t msz = model_size(RILL_SQUARED, d, 0);
    unsigned char *mbuf = pattern_buffer(msz);
    rill_model *m = static_model(mbuf, msz, RILL_SQUARED, d, 0);
    size_t sz = 0;
    ck_assert_int_eq(rill_stream_workspace_size(m, b, mode, &sz), RILL_OK);
    ck_assert(sz > b * d * sizeof(double));
    unsigned char *buf = pattern_buffer(sz);
    rill_stream *sentinel = (rill_stream *)&sz, *s = sentinel;

    /* one byte short: refused with both sizes in the message, nothing written */
    ck_assert_int_eq(rill_stream_init_static(&s, buf, sz - 1, m, b, mode), RILL_ERANGE);
    ck_assert(s == sentinel && untouched(buf, sz));
    char need[32], have[32];
    snprintf(need, sizeof need, " %zu ", sz);
    snprintf(have, sizeof have, " %zu ", sz - 1);
    const char *msg = rill_model_error(m);
    ck_assert_msg(strstr(msg, "rill_stream_init_static") && strstr(msg, need) && strstr(msg, have),
                  "unclear message: \"%s\"", msg);
    ck_assert_int_eq(rill_stream_init_static(&s, buf + 4, sz, m, b, mode), RILL_EINVAL);
    ck_assert(s == sentinel && untouched(buf, sz));

    /* the exact size works; the stream trains */
    ck_assert_int_eq(rill_stream_init_static(&s, buf, sz, m, b, mode), RILL_OK);
    ck_assert_str_eq(rill_model_error(m), "");
    ref_rng r;
    double *X, *y;
    ref_rng_seed(&r, 40 + (uint64_t)mode);
    ref_random_problem(&r, RILL_SQUARED, 30, d, 0, 1.0, &X, &y);
    size_t l0, l1;
    unsigned char *fresh = blob_of(m, &l0);
    ck_assert_int_eq(rill_stream_push(s, X, y, 30), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
    unsigned char *trained = blob_of(m, &l1);
    ck_assert_msg(l0 == l1 && memcmp(fresh, trained, l0) != 0, "the stream did not train");
    free(fresh);
    free(trained);
    /* rows buffered: the model is held; freeing the stream releases it and writes nothing */
    ck_assert_int_eq(rill_stream_push(s, X, y, 3), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_L2, 0.5), RILL_ESTATE);
    unsigned char *copy = malloc(sz);
    memcpy(copy, buf, sz);
    rill_stream_free(s);
    ck_assert_msg(memcmp(copy, buf, sz) == 0, "rill_stream_free wrote into the caller's buffer");
    tu_set_param(m, RILL_L2, 0.5);

    /* argument errors */
    s = sentinel;
    ck_assert_int_eq(rill_stream_workspace_size(NULL, b, mode, &sz), RILL_EINVAL);
    ck_assert_int_eq(rill_stream_workspace_size(m, b, mode, NULL), RILL_EINVAL);
    ck_assert_int_eq(rill_stream_workspace_size(m, 0, mode, &sz), RILL_EINVAL);
    ck_assert_int_eq(rill_stream_workspace_size(m, b, 17, &sz), RILL_EUNSUPPORTED);
    ck_assert_int_eq(rill_stream_workspace_size(m, SIZE_MAX / 2, mode, &sz), RILL_ERANGE);
    ck_assert_int_eq(rill_stream_init_static(&s, buf, sz, m, SIZE_MAX / 2, mode), RILL_ERANGE);
    ck_assert_int_eq(rill_stream_init_static(&s, buf, sz, m, b, 17), RILL_EUNSUPPORTED);
    ck_assert(s == sentinel);
    free(copy);
    free(buf);
    free(X);
    free(y);
    rill_model_free(m);
    free(mbuf);
}
END_TEST

START_TEST(test_stream_workspace_exact_needs_squared)
{
    const size_t msz = model_size(RILL_LOGISTIC, 3, 2);
    unsigned char *mbuf = pattern_buffer(msz);
    rill_model *m = static_model(mbuf, msz, RILL_LOGISTIC, 3, 2);
    size_t sz = 0;
    rill_stream *s = NULL;
    ck_assert_int_eq(rill_stream_workspace_size(m, 4, RILL_STREAM_EXACT, &sz), RILL_EINVAL);
    ck_assert_int_eq(rill_stream_workspace_size(m, 4, RILL_STREAM_PASS, &sz), RILL_OK);
    unsigned char *buf = pattern_buffer(sz);
    ck_assert_int_eq(rill_stream_init_static(&s, buf, sz, m, 4, RILL_STREAM_EXACT), RILL_EINVAL);
    ck_assert(strstr(rill_model_error(m), "RILL_SQUARED") != NULL);
    ck_assert(s == NULL);
    free(buf);
    rill_model_free(m);
    free(mbuf);
}
END_TEST

/* ------------------------------------------------------------------ no allocation */

/* 10^6 steps; 10^4 under valgrind (RILL_TEST_LIGHT) */
#define N_STEPS (tu_light() ? 10000L : 1000000L)

static char fail_msg[256];
#define EX(call, want)                                                                             \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != (want) && fail_msg[0] == '\0')                                                  \
            snprintf(fail_msg, sizeof fail_msg, "%s = %d (want %d)", #call, rc_, want);            \
    } while (0)

/* 10^6 one-row steps cycling over the rows, then a batch fit, then every kind of stream from
 * the given buffer. No Check macro in here: Check allocates. */
static void train_without_heap(rill_model *m, int loss, const double *X, const double *y, size_t n,
                               size_t d, void *sbuf, size_t sbuf_size, double *out)
{
    rill_stream *s = NULL;
    size_t len;
    EX(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD), RILL_OK);
    EX(rill_model_set(m, RILL_AVERAGE, 1000), RILL_OK);
    for (long t = 0; t < N_STEPS; t++) {
        size_t i = (size_t)(t % (long)n);
        EX(rill_step(m, X + i * d, y + i, 1), RILL_OK);
    }
    EX(rill_model_set(m, RILL_L2, 1e-2), RILL_OK);
    EX(rill_model_set(m, RILL_MAX_EPOCHS, 30), RILL_OK);
    EX(rill_fit(m, X, y, n), RILL_OK);
    EX(rill_model_set(m, RILL_L1, 1e-3), RILL_OK);
    EX(rill_fit(m, X, y, n), RILL_OK);
    EX(rill_model_set(m, RILL_L1, 0), RILL_OK);
    EX(rill_predict(m, X, 5, out), RILL_OK);
    EX(rill_model_save(m, out, 0, &len), RILL_ERANGE);
    for (int mode = RILL_STREAM_STEP; mode <= RILL_STREAM_EXACT; mode++) {
        if (mode == RILL_STREAM_EXACT && loss != RILL_SQUARED)
            break;
        EX(rill_stream_init_static(&s, sbuf, sbuf_size, m, 8, mode), RILL_OK);
        EX(rill_stream_push(s, X, y, n), RILL_OK);
        EX(rill_stream_push(s, X, y, 3), RILL_OK);
        EX(rill_stream_flush(s), RILL_OK);
        rill_stream_free(s);
    }
}

START_TEST(test_no_allocation)
{
    const int loss = losses[_i];
    const size_t n = 50, d = 4, K = tu_classes_for(loss, 3);
    ref_rng r;
    double *X, *y, out[64];
    size_t ssz = 0, msz = model_size(loss, d, K);
    unsigned char *mbuf = pattern_buffer(msz);
    ref_rng_seed(&r, 70 + (uint64_t)loss);
    ref_random_problem(&r, loss, n, d, K, 1.0, &X, &y);

    /* positive control: the spy sees the default allocator */
    rill_model *h = NULL;
    cspy_armed = 1;
    cspy_calls = 0;
    int rc = rill_model_new(&h, loss, d, K);
    rill_model_free(h);
    cspy_armed = 0;
    ck_assert_int_eq(rc, RILL_OK);
    ck_assert_msg(cspy_calls >= 2, "spy control: %ld C allocator calls", cspy_calls);

    /* a model in a buffer: not one C allocator call */
    rill_model *m = static_model(mbuf, msz, loss, d, K);
    ck_assert_int_eq(rill_stream_workspace_size(m, 8, RILL_STREAM_STEP, &ssz), RILL_OK);
    size_t s2;
    ck_assert_int_eq(rill_stream_workspace_size(m, 8, RILL_STREAM_PASS, &s2), RILL_OK);
    ssz = s2 > ssz ? s2 : ssz;
    if (loss == RILL_SQUARED) {
        ck_assert_int_eq(rill_stream_workspace_size(m, 8, RILL_STREAM_EXACT, &s2), RILL_OK);
        ssz = s2 > ssz ? s2 : ssz;
    }
    unsigned char *sbuf = pattern_buffer(ssz);
    fail_msg[0] = '\0';
    cspy_armed = 1;
    cspy_calls = 0;
    train_without_heap(m, loss, X, y, n, d, sbuf, ssz, out);
    cspy_armed = 0;
    ck_assert_msg(fail_msg[0] == '\0', "%s", fail_msg);
    printf("%s, model in a buffer: %ld steps, %ld C allocator calls\n", tu_loss_name(loss), N_STEPS,
           cspy_calls);
    ck_assert_msg(cspy_calls == 0, "%ld C allocator calls on the no-heap path", cspy_calls);

    /* an allocated model (counting allocator) with its streams in buffers: after the model's
     * one allocation the allocator refuses everything, and nothing asks it */
    counter cnt = {0, 0, 0};
    rill_alloc a = {count_alloc, count_free, &cnt};
    ck_assert_int_eq(rill_model_new_alloc(&h, loss, d, K, &a), RILL_OK);
    ck_assert_msg(cnt.allocs == 1, "the model took %ld allocations", cnt.allocs);
    cnt.refuse = 1;
    { /* control: the counting allocator sees an allocating call */
        rill_stream *s = NULL;
        ck_assert_int_eq(rill_stream_new(&s, h, 8, RILL_STREAM_PASS), RILL_ENOMEM);
        ck_assert_msg(cnt.allocs == 2, "counting control: %ld", cnt.allocs);
        cnt.allocs = 1;
    }
    fail_msg[0] = '\0';
    cspy_armed = 1;
    cspy_calls = 0;
    train_without_heap(h, loss, X, y, n, d, sbuf, ssz, out);
    cspy_armed = 0;
    ck_assert_msg(fail_msg[0] == '\0', "%s", fail_msg);
    printf("%s, allocated model: %ld steps, %ld rill_alloc calls after creation, %ld C "
           "allocator calls\n",
           tu_loss_name(loss), N_STEPS, cnt.allocs - 1, cspy_calls);
    ck_assert_msg(cnt.allocs == 1, "%ld rill_alloc calls after creation", cnt.allocs - 1);
    ck_assert_msg(cspy_calls == 0, "%ld C allocator calls", cspy_calls);
    ck_assert_msg(cnt.frees == 0, "a stream in a buffer was freed through the allocator");

    /* same work, same bits */
    ck_assert(tu_get_param(m, RILL_STAT_STEPS) >= (double)N_STEPS);
    same_model(h, m, "after 10^6 steps, fits and streams");
    cspy_armed = 1;
    cspy_calls = 0;
    rill_model_free(m);
    cspy_armed = 0;
    ck_assert_msg(cspy_calls == 0, "rill_model_free of a model in a buffer: %ld C allocator calls",
                  cspy_calls);
    rill_model_free(h);
    ck_assert(cnt.frees == 1);
    free(sbuf);
    free(mbuf);
    free(X);
    free(y);
}
END_TEST

/* ------------------------------------------------------------------ same results */

START_TEST(test_same_as_allocated)
{
    const int loss = losses[_i];
    const size_t n = 120, d = 6, K = tu_classes_for(loss, 4);
    ref_rng r;
    double *X, *y;
    ref_rng_seed(&r, 11 + (uint64_t)loss);
    ref_random_problem(&r, loss, n, d, K, 1.0, &X, &y);
    const size_t msz = model_size(loss, d, K);
    unsigned char *mbuf = pattern_buffer(msz);
    rill_model *h = tu_new_model(loss, d, K), *m = static_model(mbuf, msz, loss, d, K);

    /* batch-fit (L-BFGS, then OWL-QN) */
    tu_set_param(h, RILL_L2, 1e-3);
    tu_set_param(m, RILL_L2, 1e-3);
    ck_assert_int_eq(rill_fit(h, X, y, n), RILL_OK);
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_OK);
    same_model(h, m, "batch fit");
    tu_set_param(h, RILL_L1, 1e-2);
    tu_set_param(m, RILL_L1, 1e-2);
    ck_assert_int_eq(rill_fit(h, X, y, n), RILL_OK);
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_OK);
    same_model(h, m, "batch fit with L1");
    tu_set_param(h, RILL_L1, 0);
    tu_set_param(m, RILL_L1, 0);

    /* streams: an allocated one on h, one in a buffer on m */
    for (int mode = RILL_STREAM_STEP; mode <= RILL_STREAM_EXACT; mode++) {
        if (mode == RILL_STREAM_EXACT && loss != RILL_SQUARED)
            break;
        size_t ssz;
        rill_stream *sh, *sm;
        ck_assert_int_eq(rill_stream_workspace_size(m, 16, mode, &ssz), RILL_OK);
        unsigned char *sbuf = pattern_buffer(ssz);
        ck_assert_int_eq(rill_stream_new(&sh, h, 16, mode), RILL_OK);
        ck_assert_int_eq(rill_stream_init_static(&sm, sbuf, ssz, m, 16, mode), RILL_OK);
        for (int pass = 0; pass < 3; pass++) {
            ck_assert_int_eq(rill_stream_push(sh, X, y, n), RILL_OK);
            ck_assert_int_eq(rill_stream_push(sm, X, y, n), RILL_OK);
            ck_assert_int_eq(rill_stream_flush(sh), RILL_OK);
            ck_assert_int_eq(rill_stream_flush(sm), RILL_OK);
        }
        rill_stream_free(sh);
        rill_stream_free(sm);
        free(sbuf);
        same_model(h, m,
                   mode == RILL_STREAM_STEP   ? "STEP stream"
                   : mode == RILL_STREAM_PASS ? "PASS stream"
                                              : "EXACT stream");
    }

    /* averaged AdaGrad steps */
    tu_set_param(h, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
    tu_set_param(h, RILL_AVERAGE, 1);
    tu_set_param(m, RILL_AVERAGE, 1);
    for (size_t i = 0; i + 3 <= n; i += 3) {
        ck_assert_int_eq(rill_step(h, X + i * d, y + i, 3), RILL_OK);
        ck_assert_int_eq(rill_step(m, X + i * d, y + i, 3), RILL_OK);
    }
    same_model(h, m, "averaged AdaGrad steps");

    /* predictions */
    const size_t no = loss == RILL_SOFTMAX ? K : 1;
    double *ph = malloc(n * no * sizeof(double)), *pm = malloc(n * no * sizeof(double));
    ck_assert_int_eq(rill_predict(h, X, n, ph), RILL_OK);
    ck_assert_int_eq(rill_predict(m, X, n, pm), RILL_OK);
    ck_assert(memcmp(ph, pm, n * no * sizeof(double)) == 0);
    free(ph);
    free(pm);
    rill_model_free(h);
    rill_model_free(m);
    free(mbuf);
    free(X);
    free(y);
}
END_TEST

/* ------------------------------------------------------------------ refused calls */

START_TEST(test_refused_calls)
{
    const size_t n = 40, d = 3;
    ref_rng r;
    double *X, *y;
    ref_rng_seed(&r, 5);
    ref_random_problem(&r, RILL_LOGISTIC, n, d, 2, 1.0, &X, &y);
    const size_t msz = model_size(RILL_LOGISTIC, d, 2);
    unsigned char *mbuf = pattern_buffer(msz);
    rill_model *m = static_model(mbuf, msz, RILL_LOGISTIC, d, 2), *c = NULL;
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_OK);
    size_t len0, len1;
    unsigned char *before = blob_of(m, &len0);

    /* clone would allocate */
    ck_assert_int_eq(rill_model_clone(&c, m), RILL_EUNSUPPORTED);
    ck_assert(c == NULL);
    /* so would an allocated stream */
    rill_stream *s = NULL;
    ck_assert_int_eq(rill_stream_new(&s, m, 4, RILL_STREAM_STEP), RILL_EUNSUPPORTED);
    ck_assert(s == NULL);
    ck_assert_msg(strstr(rill_model_error(m), "rill_stream_init_static") != NULL, "%s",
                  rill_model_error(m));
    /* and stochastic rill_fit (its internal stream): refused before changing anything */
    tu_set_param(m, RILL_BATCH_ROWS, 4);
    unsigned char *mid = blob_of(m, &len1);
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_EUNSUPPORTED);
    ck_assert_msg(strstr(rill_model_error(m), "RILL_BATCH_ROWS") != NULL, "%s",
                  rill_model_error(m));
    size_t len2;
    unsigned char *after = blob_of(m, &len2);
    ck_assert_msg(len1 == len2 && memcmp(mid, after, len1) == 0,
                  "the refused rill_fit changed the model");
    ck_assert(len0 == len1);
    /* a STEP stream in a buffer does the same job */
    size_t ssz;
    ck_assert_int_eq(rill_stream_workspace_size(m, 4, RILL_STREAM_STEP, &ssz), RILL_OK);
    unsigned char *sbuf = pattern_buffer(ssz);
    ck_assert_int_eq(rill_stream_init_static(&s, sbuf, ssz, m, 4, RILL_STREAM_STEP), RILL_OK);
    ck_assert_int_eq(rill_stream_push(s, X, y, n), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
    ck_assert(tu_get_param(m, RILL_STAT_ROWS) == (double)n);
    rill_stream_free(s);
    rill_model_free(m);
    free(sbuf);
    free(before);
    free(mid);
    free(after);
    free(mbuf);
    free(X);
    free(y);
}
END_TEST

static Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc = tcase_create("workspace");
    tcase_add_loop_test(tc, test_model_workspace, 0, 3);
    tcase_add_test(tc, test_model_workspace_errors);
    tcase_add_loop_test(tc, test_stream_workspace, RILL_STREAM_STEP, RILL_STREAM_EXACT + 1);
    tcase_add_test(tc, test_stream_workspace_exact_needs_squared);
    suite_add_tcase(s, tc);
    tc = tcase_create("no_heap");
    tcase_add_loop_test(tc, test_no_allocation, 0, 3);
    tcase_add_loop_test(tc, test_same_as_allocated, 0, 3);
    tcase_add_test(tc, test_refused_calls);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(static_suite)
