/*
 * Allocation-failure sweep. Every public call that may allocate runs under an allocator that
 * fails its k-th request, for k = 1, 2, ... until the call succeeds, in two modes: the k-th
 * request alone fails (fail-once), or every request from the k-th on (fail-forever). Each
 * failing call must
 *   - return RILL_ENOMEM and leave its out-pointer untouched,
 *   - leak nothing: the live block count and bytes are back to what they were before it,
 *   - leave the model exactly as it was: it saves to the same bytes as before the call,
 *   - and leave everything usable: retried without failures, the call gives the same result
 *     (saved bytes) as a run that never saw a failure.
 * A request the library swallows (NULL from the allocator, yet RILL_OK) fails the test.
 *
 * The calls run on a model made with the injected rill_alloc and, a second time, on one made
 * with the default allocator (rill_model_new, rill_model_load): this executable is linked with
 * -Wl,--wrap for malloc and friends, so the C allocator's requests from the statically linked
 * library can be failed and counted the same way. The command-line readers (tools/reader.c,
 * compiled into this file) are swept through the same wrapped C allocator.
 */
#define _POSIX_C_SOURCE 200809L
#include "../tools/reader.c" /* the CLI's readers, with their malloc/realloc wrapped */

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rill.h"
#include "ref.h"
#include "tmain.h"
#include "tutil.h"
#include "cspy.h"

#define MAX_BLOCKS 4096
#define MAX_K 1000

/* ------------------------------------------------------------------ failure injection */

/* One injector per allocator: requests are counted; when armed, request number fail_from
 * (1-based, counted from arming) fails, and with forever every later one too. */
typedef struct injector {
    int armed;
    long requests; /* since arming */
    long fail_from;
    int forever;
    long injected; /* failures returned since arming */
    long live;     /* blocks tracked and not yet freed */
    size_t live_bytes;
    int bad_free;  /* a free of an unknown pointer, or with the wrong size */
    int bad_align; /* an alignment not a power of two, or a misaligned block */
    void *ptr[MAX_BLOCKS];
    size_t size[MAX_BLOCKS];
} injector;

static injector lib_inj; /* the rill_alloc handed to the library */
static injector sys_inj; /* the C allocator, through --wrap */

static void arm(injector *in, long k, int forever)
{
    in->armed = 1;
    in->requests = 0;
    in->fail_from = k;
    in->forever = forever;
    in->injected = 0;
}

/* Disarms; returns the number of failures injected while armed. */
static long disarm(injector *in)
{
    in->armed = 0;
    return in->injected;
}

/* Whether the current request fails. */
static int should_fail(injector *in)
{
    if (!in->armed)
        return 0;
    long r = ++in->requests;
    if (r == in->fail_from || (in->forever && r > in->fail_from)) {
        in->injected++;
        return 1;
    }
    return 0;
}

static void track(injector *in, void *p, size_t size)
{
    for (int i = 0; i < MAX_BLOCKS; i++)
        if (in->ptr[i] == NULL) {
            in->ptr[i] = p;
            in->size[i] = size;
            in->live++;
            in->live_bytes += size;
            return;
        }
    abort(); /* more live blocks than the table holds: a leak this test was not sized for */
}

/* Forgets p; returns 0 if p was not tracked. size (size_t)-1: any size. */
static int untrack(injector *in, void *p, size_t size)
{
    for (int i = 0; i < MAX_BLOCKS; i++)
        if (in->ptr[i] == p) {
            if (size != (size_t)-1 && size != in->size[i])
                in->bad_free = 1;
            in->live--;
            in->live_bytes -= in->size[i];
            in->ptr[i] = NULL;
            return 1;
        }
    return 0;
}

/* ------------------------------------------------------------------ the C allocator, wrapped */

/* The __real_ and __wrap_ prototypes are cspy.h's; this suite defines its own wrappers, which
 * track blocks and inject failures, instead of linking cspy.c's counting ones. */

/* Blocks are tracked only while armed (the test's own and Check's allocations are not), and
 * forgotten when freed at any time. */
static void *sys_new(void *p, size_t size)
{
    if (p && sys_inj.armed)
        track(&sys_inj, p, size);
    return p;
}

void *__wrap_malloc(size_t size)
{
    return should_fail(&sys_inj) ? (errno = ENOMEM, NULL) : sys_new(__real_malloc(size), size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail(&sys_inj) ? (errno = ENOMEM, NULL)
                                 : sys_new(__real_calloc(n, size), n * size);
}

void *__wrap_realloc(void *p, size_t size)
{
    if (should_fail(&sys_inj)) {
        errno = ENOMEM;
        return NULL; /* p stays valid and tracked as it was */
    }
    void *q = __real_realloc(p, size);
    if (q && p) {
        int was_tracked = untrack(&sys_inj, p, (size_t)-1);
        if (was_tracked || sys_inj.armed)
            track(&sys_inj, q, size);
        return q;
    }
    return sys_new(q, size);
}

void __wrap_free(void *p)
{
    if (p)
        untrack(&sys_inj, p, (size_t)-1);
    __real_free(p);
}

int __wrap_posix_memalign(void **p, size_t align, size_t size)
{
    if (should_fail(&sys_inj))
        return ENOMEM;
    int rc = __real_posix_memalign(p, align, size);
    if (rc == 0)
        sys_new(*p, size);
    return rc;
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
    return should_fail(&sys_inj) ? (errno = ENOMEM, NULL)
                                 : sys_new(__real_aligned_alloc(align, size), size);
}

/* ------------------------------------------------------------------ the injected rill_alloc */

static void *inj_alloc(void *ctx, size_t size, size_t align)
{
    injector *in = ctx;
    void *p = NULL;
    if (align == 0 || (align & (align - 1)) != 0)
        in->bad_align = 1;
    if (should_fail(in))
        return NULL;
    if (__real_posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align,
                              size ? size : 1) != 0)
        return NULL;
    if (align && ((uintptr_t)p & (align - 1)) != 0)
        in->bad_align = 1;
    memset(p, 0xA5, size); /* the library must not rely on zeroed memory */
    track(in, p, size);
    return p;
}

static void inj_free(void *ctx, void *p, size_t size)
{
    injector *in = ctx;
    if (!p)
        return;
    if (!untrack(in, p, size))
        in->bad_free = 1;
    __real_free(p);
}

static const rill_alloc injected = {inj_alloc, inj_free, &lib_inj};

/* ------------------------------------------------------------------ fixtures */

/* The state a call runs on. The model is "busy": parameters set, stochastic steps taken, the
 * batch optimizer in mid-flight and RILL_STAT_STOPPED = 1, so that a failing call that
 * touched any of it would show in the saved bytes. */
typedef struct fixture {
    int loss;
    size_t d, K, n;
    const double *X, *y;
    int sys;               /* 1: the default allocator (rill_model_new), failed through --wrap */
    int mode;              /* stream mode of the stream calls */
    rill_model *m;         /* the model the call works on; NULL for constructors */
    rill_stream *s;        /* the stream the call works on */
    rill_model *out;       /* written by constructors */
    rill_stream *s_out;    /* written by rill_stream_new */
    unsigned char *blob;   /* rill_model_load's input */
    size_t blob_size;
    unsigned char *saved;  /* rill_model_save's output */
    size_t saved_size;
} fixture;

static rill_model *const out_sentinel = (rill_model *)&lib_inj;
static rill_stream *const stream_sentinel = (rill_stream *)&sys_inj;

static int stop_now(void *user, const rill_model *m)
{
    (void)user;
    (void)m;
    return 1;
}

static void save_alloc(const rill_model *m, unsigned char **blob, size_t *size)
{
    ck_assert_int_eq(rill_model_save(m, NULL, 0, size), RILL_OK);
    *blob = __real_malloc(*size);
    ck_assert_ptr_nonnull(*blob);
    ck_assert_int_eq(rill_model_save(m, *blob, *size, size), RILL_OK);
}

static rill_model *make_model(const fixture *fx)
{
    rill_model *m = NULL;
    size_t classes = tu_classes_for(fx->loss, fx->K);
    int rc = fx->sys ? rill_model_new(&m, fx->loss, fx->d, classes)
                     : rill_model_new_alloc(&m, fx->loss, fx->d, classes, &injected);
    ck_assert_msg(rc == RILL_OK, "making the fixture's model: %d", rc);
    return m;
}

static rill_model *busy_model(const fixture *fx)
{
    rill_model *m = make_model(fx);
    double g[64], l;
    ck_assert_uint_le(rill_model_n_weights(m), 64);
    tu_set_param(m, RILL_L2, 1e-2);
    tu_set_param(m, RILL_SEED, 7);
    tu_set_param(m, RILL_AVERAGE, 3);
    ck_assert_int_eq(rill_step(m, fx->X, fx->y, 5), RILL_OK);
    ck_assert_int_eq(rill_step(m, fx->X + 5 * fx->d, fx->y + 5, 4), RILL_OK);
    tu_set_param(m, RILL_MAX_EPOCHS, 4);
    /* the batch optimizer in mid-flight */
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(rill_gradient(m, fx->X, fx->y, fx->n, g, &l), RILL_OK);
        ck_assert_int_eq(rill_apply_gradient(m, g, l, (double)fx->n), RILL_OK);
    }
    /* one more evaluation through a PASS stream, then a push that the progress callback
     * stops, dropped unflushed: RILL_STAT_STOPPED = 1 */
    rill_stream *s = NULL;
    ck_assert_int_eq(rill_stream_new(&s, m, 8, RILL_STREAM_PASS), RILL_OK);
    ck_assert_int_eq(rill_stream_push(s, fx->X, fx->y, fx->n), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
    ck_assert_int_eq(rill_model_set_progress(m, stop_now, NULL), RILL_OK);
    ck_assert_int_eq(rill_stream_push(s, fx->X, fx->y, fx->n), RILL_OK);
    rill_stream_free(s);
    ck_assert_int_eq(rill_model_set_progress(m, NULL, NULL), RILL_OK);
    ck_assert_msg(tu_get_param(m, RILL_STAT_STOPPED) == 1.0, "the fixture is not stopped");
    return m;
}

static void fixture_free(fixture *fx)
{
    if (fx->s_out != stream_sentinel)
        rill_stream_free(fx->s_out);
    rill_stream_free(fx->s);
    if (fx->out != out_sentinel)
        rill_model_free(fx->out);
    rill_model_free(fx->m);
    __real_free(fx->blob);
    __real_free(fx->saved);
    fx->s_out = NULL;
    fx->s = NULL;
    fx->out = NULL;
    fx->m = NULL;
    fx->blob = NULL;
    fx->saved = NULL;
}

/* ------------------------------------------------------------------ the calls */

typedef struct op {
    const char *name;
    int stream_modes;    /* swept once per stream mode */
    int squared_only;    /* RILL_STREAM_EXACT needs RILL_SQUARED; EXACT is skipped otherwise */
    int names_error;     /* non-const call on fx->m: rill_model_error must say something */
    void (*setup)(fixture *fx);
    int (*run)(fixture *fx);
    /* after a successful run: the bytes the result saves to (malloc'd with __real_malloc) */
    void (*result)(fixture *fx, unsigned char **blob, size_t *size);
} op;

static void setup_busy(fixture *fx)
{
    fx->m = busy_model(fx);
}

static void setup_none(fixture *fx)
{
    (void)fx;
}

static void setup_blob(fixture *fx)
{
    rill_model *m = busy_model(fx);
    save_alloc(m, &fx->blob, &fx->blob_size);
    rill_model_free(m);
}

static void setup_save(fixture *fx)
{
    fx->m = busy_model(fx);
    save_alloc(fx->m, &fx->saved, &fx->saved_size);
    memset(fx->saved, 0, fx->saved_size);
}

static void setup_busy_sgd(fixture *fx)
{
    fx->m = busy_model(fx);
    tu_set_param(fx->m, RILL_BATCH_ROWS, 4);
}

static void setup_stream(fixture *fx)
{
    fx->m = busy_model(fx);
    ck_assert_int_eq(rill_stream_new(&fx->s, fx->m, 4, fx->mode), RILL_OK);
}

static void setup_stream_pushed(fixture *fx)
{
    setup_stream(fx);
    ck_assert_int_eq(rill_stream_push(fx->s, fx->X, fx->y, 3), RILL_OK);
}

static void setup_stream_full(fixture *fx)
{
    setup_stream(fx);
    ck_assert_int_eq(rill_stream_push(fx->s, fx->X, fx->y, fx->n), RILL_OK);
}

static void result_m(fixture *fx, unsigned char **blob, size_t *size)
{
    save_alloc(fx->m, blob, size);
}

static void result_out(fixture *fx, unsigned char **blob, size_t *size)
{
    save_alloc(fx->out, blob, size);
}

static void result_saved(fixture *fx, unsigned char **blob, size_t *size)
{
    *blob = __real_malloc(fx->saved_size);
    ck_assert_ptr_nonnull(*blob);
    memcpy(*blob, fx->saved, fx->saved_size);
    *size = fx->saved_size;
}

/* The new stream works: every row pushed, flushed, then the model. */
static void result_stream(fixture *fx, unsigned char **blob, size_t *size)
{
    ck_assert_int_eq(rill_stream_push(fx->s_out, fx->X, fx->y, fx->n), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(fx->s_out), RILL_OK);
    save_alloc(fx->m, blob, size);
}

/* The pushed rows are all there: flush, then the model. */
static void result_flushed(fixture *fx, unsigned char **blob, size_t *size)
{
    ck_assert_int_eq(rill_stream_flush(fx->s), RILL_OK);
    save_alloc(fx->m, blob, size);
}

static int run_new(fixture *fx)
{
    size_t classes = tu_classes_for(fx->loss, fx->K);
    return fx->sys ? rill_model_new(&fx->out, fx->loss, fx->d, classes)
                   : rill_model_new_alloc(&fx->out, fx->loss, fx->d, classes, &injected);
}

static int run_clone(fixture *fx)
{
    return rill_model_clone(&fx->out, fx->m);
}

static int run_load(fixture *fx)
{
    return fx->sys ? rill_model_load(&fx->out, fx->blob, fx->blob_size)
                   : rill_model_load_alloc(&fx->out, fx->blob, fx->blob_size, &injected);
}

/* (No Check call may run while a failure is armed: Check allocates through the wrapped
 * malloc too. The buffer is made in setup.) */
static int run_save(fixture *fx)
{
    size_t need;
    int rc = rill_model_save(fx->m, NULL, 0, &need);
    if (rc)
        return rc;
    if (need > fx->saved_size)
        return RILL_ERANGE;
    return rill_model_save(fx->m, fx->saved, need, &fx->saved_size);
}

static int run_fit_batch(fixture *fx)
{
    return rill_fit(fx->m, fx->X, fx->y, fx->n);
}

static int run_step(fixture *fx)
{
    return rill_step(fx->m, fx->X + 2 * fx->d, fx->y + 2, 7);
}

static int run_stream_new(fixture *fx)
{
    return rill_stream_new(&fx->s_out, fx->m, 4, fx->mode);
}

static int run_push(fixture *fx)
{
    /* from a partly filled buffer, across several micro-batches */
    return rill_stream_push(fx->s, fx->X + 3 * fx->d, fx->y + 3, fx->n - 3);
}

static int run_flush(fixture *fx)
{
    return rill_stream_flush(fx->s);
}

static void setup_busy_threads(fixture *fx)
{
    fx->m = busy_model(fx);
    tu_set_param(fx->m, RILL_THREADS, 2);
}

static void setup_busy_sgd_threads(fixture *fx)
{
    setup_busy_threads(fx);
    tu_set_param(fx->m, RILL_BATCH_ROWS, 4);
}

static int run_gradient(fixture *fx)
{
    double g[64], l;
    return rill_gradient(fx->m, fx->X, fx->y, fx->n, g, &l);
}

static const op ops[] = {
    {"rill_model_new_alloc", 0, 0, 0, setup_none, run_new, result_out},
    {"rill_model_clone", 0, 0, 0, setup_busy, run_clone, result_out},
    {"rill_model_load_alloc", 0, 0, 0, setup_blob, run_load, result_out},
    {"rill_model_save", 0, 0, 0, setup_save, run_save, result_saved},
    {"rill_fit (batch)", 0, 0, 1, setup_busy, run_fit_batch, result_m},
    {"rill_fit (RILL_BATCH_ROWS)", 0, 0, 1, setup_busy_sgd, run_fit_batch, result_m},
    {"rill_step", 0, 0, 1, setup_busy, run_step, result_m},
    {"rill_stream_new", 1, 0, 1, setup_busy, run_stream_new, result_stream},
    {"rill_stream_push", 1, 0, 1, setup_stream_pushed, run_push, result_flushed},
    {"rill_stream_flush", 1, 0, 1, setup_stream_full, run_flush, result_m},
};
#define N_OPS ((int)(sizeof ops / sizeof ops[0]))

/* With RILL_THREADS = 2 and more than 64 rows, the calls that sum rows in parts allocate the
 * other part's sums once per call (test_sweep_threads, on 150 rows). rill_gradient is a const
 * call: it sets no error detail. */
static const op thread_ops[] = {
    {"rill_fit (batch, RILL_THREADS = 2)", 0, 0, 1, setup_busy_threads, run_fit_batch, result_m},
    {"rill_fit (RILL_BATCH_ROWS, RILL_THREADS = 2)", 0, 0, 1, setup_busy_sgd_threads,
     run_fit_batch, result_m},
    {"rill_gradient (RILL_THREADS = 2)", 0, 0, 0, setup_busy_threads, run_gradient, result_m},
};
#define N_THREAD_OPS ((int)(sizeof thread_ops / sizeof thread_ops[0]))

/* ------------------------------------------------------------------ the sweep */

static const char *mode_name(int mode)
{
    return mode == RILL_STREAM_STEP ? "STEP" : mode == RILL_STREAM_PASS ? "PASS" : "EXACT";
}

static void fixture_init(fixture *fx, int loss, int sys, int mode, const double *X,
                         const double *y, size_t n, size_t d, size_t K)
{
    memset(fx, 0, sizeof *fx);
    fx->loss = loss;
    fx->sys = sys;
    fx->mode = mode;
    fx->X = X;
    fx->y = y;
    fx->n = n;
    fx->d = d;
    fx->K = K;
}

/* Sweeps one call; returns the number of allocation requests the successful call made. */
static long sweep(const op *o, int loss, int sys, int mode, int forever, const double *X,
                  const double *y, size_t n, size_t d, size_t K)
{
    injector *in = sys ? &sys_inj : &lib_inj;
    char what[160];
    fixture fx;
    unsigned char *want, *got, *before = NULL, *after;
    size_t want_size, got_size, before_size = 0, after_size;
    long k, requests = 0;
    int rc;

    snprintf(what, sizeof what, "%s%s%s, %s, %s allocator, fail-%s", o->name,
             o->stream_modes ? " " : "", o->stream_modes ? mode_name(mode) : "",
             tu_loss_name(loss), sys ? "C" : "caller's", forever ? "forever" : "once");

    /* the reference: the call with no failure */
    fixture_init(&fx, loss, sys, mode, X, y, n, d, K);
    o->setup(&fx);
    rc = o->run(&fx);
    ck_assert_msg(rc == RILL_OK, "%s: without failures the call returns %d", what, rc);
    o->result(&fx, &want, &want_size);
    fixture_free(&fx);
    ck_assert_msg(lib_inj.live == 0 && sys_inj.live == 0, "%s: the reference run leaks", what);

    for (k = 1;; k++) {
        ck_assert_msg(k <= MAX_K, "%s: still failing after %d injected failures", what, MAX_K);
        fixture_init(&fx, loss, sys, mode, X, y, n, d, K);
        o->setup(&fx);
        const long live0 = in->live;
        const size_t bytes0 = in->live_bytes;
        if (fx.m)
            save_alloc(fx.m, &before, &before_size);
        fx.out = out_sentinel;
        fx.s_out = stream_sentinel;

        arm(in, k, forever);
        rc = o->run(&fx);
        const long injected_now = disarm(in);
        requests = in->requests;

        if (injected_now == 0) { /* the call made fewer than k requests: it must succeed */
            ck_assert_msg(rc == RILL_OK, "%s: k = %ld, no failure injected, call returns %d",
                          what, k, rc);
        } else {
            ck_assert_msg(rc == RILL_ENOMEM, "%s: request %ld failed, the call returns %d "
                          "(want RILL_ENOMEM: %s)", what, k, rc, rc ? rill_strerror(rc) :
                          "the failure was swallowed");
            ck_assert_msg(in->live == live0 && in->live_bytes == bytes0,
                          "%s: request %ld failed: %ld blocks / %zu bytes live, %ld / %zu before",
                          what, k, in->live, in->live_bytes, live0, bytes0);
            ck_assert_msg(fx.out == out_sentinel && fx.s_out == stream_sentinel,
                          "%s: request %ld failed, the out-pointer was written", what, k);
            if (fx.m) {
                save_alloc(fx.m, &after, &after_size);
                ck_assert_msg(after_size == before_size &&
                                  memcmp(after, before, before_size) == 0,
                              "%s: request %ld failed, the model changed (its saved bytes differ)",
                              what, k);
                __real_free(after);
                if (o->names_error) /* the message starts with the call's name */
                    ck_assert_msg(strncmp(rill_model_error(fx.m), o->name,
                                          strcspn(o->name, " ")) == 0,
                                  "%s: request %ld failed, rill_model_error does not name the "
                                  "call: \"%s\"", what, k, rill_model_error(fx.m));
            }
            /* retried without failures: as if the failure never happened */
            fx.out = NULL;
            fx.s_out = NULL;
            rc = o->run(&fx);
            ck_assert_msg(rc == RILL_OK, "%s: retry after request %ld failed returns %d", what,
                          k, rc);
        }
        o->result(&fx, &got, &got_size);
        ck_assert_msg(got_size == want_size && memcmp(got, want, want_size) == 0,
                      "%s: k = %ld: the result differs from the run without failures", what, k);
        __real_free(got);
        __real_free(before);
        before = NULL;
        if (fx.out == out_sentinel)
            fx.out = NULL;
        if (fx.s_out == stream_sentinel)
            fx.s_out = NULL;
        fixture_free(&fx);
        ck_assert_msg(lib_inj.live == 0 && sys_inj.live == 0,
                      "%s: k = %ld: %ld + %ld blocks live after every handle was freed", what, k,
                      lib_inj.live, sys_inj.live);
        ck_assert_msg(!lib_inj.bad_free && !lib_inj.bad_align,
                      "%s: a free did not match its allocation, or a bad alignment", what);
        if (injected_now == 0)
            break;
    }
    __real_free(want);
    return requests;
}

static const struct {
    int loss;
    size_t K;
} losses[] = {{RILL_SQUARED, 0}, {RILL_LOGISTIC, 2}, {RILL_SOFTMAX, 3}};

/* Both failure modes; they must see the same number of requests. Returns it. */
static long sweep_both(const op *o, int loss, int sys, int mode, const double *X,
                       const double *y, size_t n, size_t d, size_t K)
{
    long once = sweep(o, loss, sys, mode, 0, X, y, n, d, K);
    long forever = sweep(o, loss, sys, mode, 1, X, y, n, d, K);
    ck_assert_msg(once == forever, "%s: %ld requests in one sweep, %ld in the other", o->name,
                  once, forever);
    return once;
}

/* _i: op index * 2 + (1 = the C allocator). Every loss, stream mode and failure mode. */
START_TEST(test_sweep)
{
    const op *o = &ops[_i / 2];
    const int sys = _i % 2;
    const size_t n = 23, d = 3;
    ref_rng r;
    for (size_t li = 0; li < sizeof losses / sizeof losses[0]; li++) {
        const int loss = losses[li].loss;
        const size_t K = losses[li].K;
        double *X, *y;
        ref_rng_seed(&r, 1000 + (uint64_t)li);
        ref_random_problem(&r, loss, n, d, K, 1.0, &X, &y);
        for (int mode = RILL_STREAM_STEP; mode <= RILL_STREAM_EXACT; mode++) {
            if (mode > RILL_STREAM_STEP && !o->stream_modes)
                break;
            if (mode == RILL_STREAM_EXACT && loss != RILL_SQUARED)
                continue;
            long once = sweep_both(o, loss, sys, mode, X, y, n, d, K);
            printf("%-28s %-5s %-8s %-8s allocator: %ld allocation(s)%s\n",
                   o->name, o->stream_modes ? mode_name(mode) : "", tu_loss_name(loss),
                   sys ? "C" : "caller's", once, once ? ", each failed in turn" : "");
        }
        free(X);
        free(y);
    }
}
END_TEST

/* _i: thread op index * 2 + (1 = the C allocator); every loss, 150 rows (3 blocks of 64). */
START_TEST(test_sweep_threads)
{
    const op *o = &thread_ops[_i / 2];
    const int sys = _i % 2;
    const size_t n = 150, d = 3;
    ref_rng r;
    for (size_t li = 0; li < sizeof losses / sizeof losses[0]; li++) {
        double *X, *y;
        ref_rng_seed(&r, 2000 + (uint64_t)li);
        ref_random_problem(&r, losses[li].loss, n, d, losses[li].K, 1.0, &X, &y);
        long once = sweep_both(o, losses[li].loss, sys, RILL_STREAM_STEP, X, y, n, d,
                               losses[li].K);
        /* rill_fit with RILL_BATCH_ROWS steps on the calling thread; the others must allocate
         * the second part's sums (or the threads would not be exercised) */
        if (strstr(o->name, "BATCH_ROWS") == NULL)
            ck_assert_msg(once > 0, "%s, %s: no allocation", o->name,
                          tu_loss_name(losses[li].loss));
        printf("%-44s %-8s %-8s allocator: %ld allocation(s)\n", o->name,
               tu_loss_name(losses[li].loss), sys ? "C" : "caller's", once);
        free(X);
        free(y);
    }
}
END_TEST

/* The calls that must allocate do reach the allocator (else the sweep above proves nothing). */
START_TEST(test_sweep_reaches_allocator)
{
    const size_t n = 23, d = 3;
    double *X, *y;
    ref_rng r;
    fixture fx;
    static const int must[] = {0, 1, 2, 5, 7}; /* new, clone, load, SGD fit, stream_new */
    ref_rng_seed(&r, 5);
    ref_random_problem(&r, RILL_SQUARED, n, d, 0, 1.0, &X, &y);
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        const op *o = &ops[must[i]];
        fixture_init(&fx, RILL_SQUARED, 0, RILL_STREAM_STEP, X, y, n, d, 0);
        o->setup(&fx);
        arm(&lib_inj, MAX_K + 1, 0);
        ck_assert_int_eq(o->run(&fx), RILL_OK);
        disarm(&lib_inj);
        ck_assert_msg(lib_inj.requests > 0, "%s made no allocation", o->name);
        fixture_free(&fx);
    }
    free(X);
    free(y);
}
END_TEST

/* ------------------------------------------------------------------ the CLI readers */

/* Reads the whole file in chunks of 100 rows; 0 or -1 (r->err says why). X and y hold
 * max_rows rows; *n_out: rows read. */
static int read_all(struct reader *rd, const char *path, int format, size_t features,
                    double *X, double *y, size_t max_rows, size_t *n_out)
{
    size_t n = 0;
    long got;
    if (reader_open(rd, path, format, ',', NULL, features))
        return -1;
    while ((got = reader_rows(rd, X + n * rd->n_features, y + n,
                              max_rows - n < 100 ? max_rows - n : 100)) > 0)
        n += (size_t)got;
    *n_out = n;
    return got < 0 ? -1 : 0;
}

/* A libsvm copy of digits.csv (sparse: zero cells left out) in a temporary file. */
static void write_libsvm(const char *path, const ref_data *D)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < D->n; i++) {
        fprintf(f, "%.17g", D->y[i]);
        for (size_t j = 0; j < D->d; j++)
            if (D->X[i * D->d + j] != 0.0)
                fprintf(f, " %zu:%.17g", j + 1, D->X[i * D->d + j]);
        fputc('\n', f);
    }
    ck_assert_int_eq(fclose(f), 0);
}

/* _i: 0 CSV, 1 libsvm (features scanned from the file), in both failure modes. digits.csv
 * lines are longer than the readers' first line buffer, so the buffer grows. */
START_TEST(test_reader_sweep)
{
    ref_data D;
    char csv[4096], svm[] = "/tmp/rill_alloc_XXXXXX";
    const int format = _i ? FORMAT_LIBSVM : FORMAT_CSV;
    ref_load("digits.csv", &D);
    snprintf(csv, sizeof csv, "%s/digits.csv", ref_data_dir());
    if (format == FORMAT_LIBSVM) {
        int fd = mkstemp(svm);
        ck_assert_int_ge(fd, 0);
        close(fd);
        write_libsvm(svm, &D);
    }
    const char *path = format == FORMAT_LIBSVM ? svm : csv;
    double *X = __real_malloc(D.n * D.d * sizeof(double)), *y = __real_malloc(D.n * sizeof(double));
    ck_assert(X && y);
    for (int forever = 0; forever <= 1; forever++) {
        long k;
        for (k = 1;; k++) {
            struct reader rd;
            size_t n = 0;
            ck_assert_int_le(k, MAX_K);
            arm(&sys_inj, k, forever);
            int rc = read_all(&rd, path, format, 0, X, y, D.n, &n);
            reader_close(&rd);
            const long injected_now = disarm(&sys_inj);
            ck_assert_msg(sys_inj.live == 0, "reader, request %ld failing: %ld blocks leaked", k,
                          sys_inj.live);
            if (injected_now == 0) {
                ck_assert_msg(rc == 0, "reader: no failure injected, yet: %s", rd.err);
                ck_assert_msg(n == D.n, "reader: %zu rows read, %zu in the file", n, D.n);
                ck_assert_msg(memcmp(X, D.X, D.n * D.d * sizeof(double)) == 0 &&
                                  memcmp(y, D.y, D.n * sizeof(double)) == 0,
                              "reader: the rows differ from the reference loader's");
                break;
            }
            /* an allocation failure is an error, never a short read taken for the end */
            ck_assert_msg(rc == -1, "reader: request %ld failed, yet %zu rows read as if all "
                                    "(%zu in the file)", k, n, D.n);
            ck_assert_msg(strstr(rd.err, "out of memory") != NULL,
                          "reader: request %ld failed, message \"%s\"", k, rd.err);
        }
        printf("reader %s, fail-%s: %ld allocation(s), each failed in turn\n",
               format ? "libsvm" : "CSV", forever ? "forever" : "once", k - 1);
        ck_assert_msg(k > 1, "the reader never reached the allocator");
    }
    if (format == FORMAT_LIBSVM)
        unlink(svm);
    __real_free(X);
    __real_free(y);
    ref_data_free(&D);
}
END_TEST

/* Regression: a failed allocation in rill_fit's SGD epochs left RILL_STAT_STOPPED reset. */
START_TEST(test_fit_enomem_keeps_stopped)
{
    const size_t n = 23, d = 3;
    double *X, *y;
    ref_rng r;
    fixture fx;
    ref_rng_seed(&r, 9);
    ref_random_problem(&r, RILL_SQUARED, n, d, 0, 1.0, &X, &y);
    fixture_init(&fx, RILL_SQUARED, 0, RILL_STREAM_STEP, X, y, n, d, 0);
    fx.m = busy_model(&fx);
    ck_assert(tu_get_param(fx.m, RILL_STAT_STOPPED) == 1.0);
    tu_set_param(fx.m, RILL_BATCH_ROWS, 4);
    arm(&lib_inj, 1, 1);
    ck_assert_int_eq(rill_fit(fx.m, X, y, n), RILL_ENOMEM);
    disarm(&lib_inj);
    ck_assert_msg(tu_get_param(fx.m, RILL_STAT_STOPPED) == 1.0,
                  "RILL_STAT_STOPPED changed by a rill_fit that failed with RILL_ENOMEM");
    fixture_free(&fx);
    free(X);
    free(y);
}
END_TEST

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("sweep");
    tcase_add_loop_test(tc, test_sweep, 0, 2 * N_OPS);
    tcase_add_test(tc, test_sweep_reaches_allocator);
    tcase_add_loop_test(tc, test_sweep_threads, 0, 2 * N_THREAD_OPS);
    tcase_add_test(tc, test_fit_enomem_keeps_stopped);
    suite_add_tcase(s, tc);
    tc = tcase_create("reader");
    tcase_add_loop_test(tc, test_reader_sweep, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(alloc_suite)
