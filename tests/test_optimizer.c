/*
 * The batch optimizer's and the kernels' less travelled paths, each against a reference:
 *  - fixed-step mode (constant schedule, explicit rate) converges on RILL_TOL to the
 *    closed-form ridge solution, through rill_fit and through a gradient/apply loop;
 *  - a fixed step that overflows is refused and the weights are kept;
 *  - an L-BFGS memory that is not positive definite (a model file may carry any bits in it)
 *    still leads to the optimum: the optimizer falls back to steepest descent;
 *  - softmax with more classes than the kernels' score buffers (the CBLAS kernel hands over to
 *    the portable one, which recomputes scores) matches the reference sums;
 *  - two streams on one model: flushing one while the other holds rows is refused;
 *  - RILL_THREADS = T: rill_gradient's sums are the parts' sums (parts cut at multiples of 64
 *    rows, as lib/parts.c documents) added in part order, bit for bit, whether or not threads
 *    ran, or could be started (pthread_create failing); they agree with T = 1 to rounding,
 *    and rill_fit reaches the same optimum; T > 1 is refused where it cannot run, and a
 *    refused allocation changes nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rill.h"
#include "ref.h"
#include "tmain.h"
#include "tutil.h"

static void problem(size_t n, size_t d, double **X, double **y)
{
    ref_rng r;
    ref_rng_seed(&r, 31337);
    ref_random_problem(&r, RILL_SQUARED, n, d, 0, 1.0, X, y);
    ref_standardize(*X, n, d);
}

/* Fixed-step batch-fit: w <- w - eta (mean gradient + l2 w) until ||g||_inf <= tol max(1, g0). */
/* Once the batch optimizer has converged, further applies at the same data evaluate at the
 * accepted weights and are not steps: the weights, RILL_STAT_STEPS and RILL_STAT_CONVERGED
 * stay as they are (only RILL_STAT_EPOCHS counts the evaluations). */
START_TEST(test_applies_after_convergence_are_not_steps)
{
    ref_rng r;
    double *X, *y;
    const size_t n = 60, d = 4;
    ref_rng_seed(&r, 41);
    ref_random_problem(&r, REF_LOGISTIC, n, d, 2, 1.0, &X, &y);
    rill_model *m = tu_new_model(RILL_LOGISTIC, d, 2);
    tu_set_param(m, RILL_L2, 1e-2);
    tu_set_param(m, RILL_TOL, 1e-8);
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_OK);
    ck_assert(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0);
    const double steps = tu_get_param(m, RILL_STAT_STEPS);
    double *w0 = tu_get_weights(m), g[5], l;
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
        ck_assert_int_eq(rill_apply_gradient(m, g, l, (double)n), RILL_OK);
    }
    double *w1 = tu_get_weights(m);
    ck_assert_msg(memcmp(w0, w1, (d + 1) * sizeof *w0) == 0, "applies after convergence moved "
                                                              "the weights");
    ck_assert_msg(tu_get_param(m, RILL_STAT_STEPS) == steps,
                  "RILL_STAT_STEPS %g after three applies at the optimum, %g before",
                  tu_get_param(m, RILL_STAT_STEPS), steps);
    ck_assert(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0);
    free(w0);
    free(w1);
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

START_TEST(test_fixed_step_converges_to_ridge)
{
    const size_t n = 60, d = 3;
    const double l2 = 0.5;
    double *X, *y, W[4], ref[4], g[4], l, e;
    rill_model *m;
    int i, rc;
    problem(n, d, &X, &y);
    ck_assert_int_eq(ref_ridge(X, y, n, d, l2, ref), 0);
    m = tu_new_model(RILL_SQUARED, d, 0);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
    tu_set_param(m, RILL_LEARNING_RATE, 0.2);
    tu_set_param(m, RILL_L2, l2);
    tu_set_param(m, RILL_TOL, 1e-11);
    tu_set_param(m, RILL_MAX_EPOCHS, 100000);
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_OK);
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0, "fixed-step fit did not converge");
    tu_copy_weights(m, W);
    e = ref_max_rel_diff(W, ref, 4, 1e-3);
    ck_assert_msg(e <= 1e-8, "fixed-step optimum differs from closed-form ridge by %g", e);
    /* the same iteration by reverse communication, from zero */
    memset(W, 0, sizeof W);
    ck_assert_int_eq(rill_model_set_weights(m, W, 4), RILL_OK);
    i = 0;
    do {
        ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
        rc = rill_apply_gradient(m, g, l, (double)n);
        ck_assert_int_eq(rc, RILL_OK);
    } while (++i < 100000 && tu_get_param(m, RILL_STAT_CONVERGED) != 1.0);
    ck_assert_msg(i > 100, "converged after %d steps from zero", i);
    tu_copy_weights(m, W);
    e = ref_max_rel_diff(W, ref, 4, 1e-3);
    ck_assert_msg(e <= 1e-8, "gradient/apply fixed-step optimum differs by %g", e);
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

/* rill_fit whose first evaluation overflows (finite rows, huge finite weights): no step is
 * taken, and the model is exactly as it was, statistics and optimizer state included. */
START_TEST(test_fit_diverging_at_start_changes_nothing)
{
    ref_rng r;
    double *X, *y, w[3] = {1e200, -1e200, 1e200};
    size_t sz1, sz2;
    unsigned char *b1, *b2;
    rill_model *m = tu_new_model(RILL_SQUARED, 2, 0);
    ref_rng_seed(&r, 1207);
    ref_random_problem(&r, RILL_SQUARED, 50, 2, 0, 1.0, &X, &y);
    ck_assert_int_eq(rill_fit(m, X, y, 50), RILL_OK); /* epochs, converged: not the defaults */
    ck_assert_int_eq(rill_model_set_weights(m, w, 3), RILL_OK);
    ck_assert_int_eq(rill_model_save(m, NULL, 0, &sz1), RILL_OK);
    b1 = malloc(sz1);
    b2 = malloc(sz1);
    ck_assert_int_eq(rill_model_save(m, b1, sz1, &sz1), RILL_OK);
    ck_assert_int_eq(rill_fit(m, X, y, 50), RILL_EDIVERGED);
    ck_assert_msg(strstr(rill_model_error(m), "model unchanged") != NULL, "%s",
                  rill_model_error(m));
    ck_assert_int_eq(rill_model_save(m, b2, sz1, &sz2), RILL_OK);
    ck_assert(sz1 == sz2 && memcmp(b1, b2, sz1) == 0);
    free(b1);
    free(b2);
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

/* A fixed step whose result overflows: RILL_EDIVERGED, nothing changed (rill_fit: the last
 * finite accepted state, here the start). */
START_TEST(test_fixed_step_overflow_refused)
{
    double X[2] = {1e10, 2e10}, y[2] = {1e10, -1e10}, g[2], l, W[2];
    size_t sz1, sz2;
    unsigned char *b1, *b2;
    rill_model *m = tu_new_model(RILL_SQUARED, 1, 0);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
    tu_set_param(m, RILL_LEARNING_RATE, 1e300);
    ck_assert_int_eq(rill_fit(m, X, y, 2), RILL_EDIVERGED);
    ck_assert_msg(strstr(rill_model_error(m), "diverged") != NULL, "%s", rill_model_error(m));
    tu_copy_weights(m, W);
    ck_assert(W[0] == 0.0 && W[1] == 0.0);
    ck_assert_int_eq(rill_model_save(m, NULL, 0, &sz1), RILL_OK);
    b1 = malloc(sz1);
    b2 = malloc(sz1);
    ck_assert_int_eq(rill_model_save(m, b1, sz1, &sz1), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, 2, g, &l), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, 2.0), RILL_EDIVERGED);
    ck_assert_msg(strstr(rill_model_error(m), "overflowed") != NULL, "%s", rill_model_error(m));
    ck_assert_int_eq(rill_model_save(m, b2, sz1, &sz2), RILL_OK);
    ck_assert_msg(sz1 == sz2 && memcmp(b1, b2, sz1) == 0, "a refused step changed the model");
    free(b1);
    free(b2);
    rill_model_free(m);
}
END_TEST

/* Blob offsets (docs/format.md) of the L-BFGS memory. */
#define OFF_N_PAIRS 204
#define OFF_NEXT_PAIR 208
#define OFF_RHO 280
#define OFF_ARRAYS (OFF_RHO + 8 * RILL_LBFGS_M)

START_TEST(test_indefinite_memory_still_converges)
{
    const size_t n = 60, d = 3, nw = 4;
    const double l2 = 0.5;
    double *X, *y, W[4], ref[4], g[4], l, e;
    rill_model *m = tu_new_model(RILL_SQUARED, d, 0), *c = NULL;
    unsigned char *b;
    size_t size, j;
    int i;
    problem(n, d, &X, &y);
    ck_assert_int_eq(ref_ridge(X, y, n, d, l2, ref), 0);
    tu_set_param(m, RILL_L2, l2);
    tu_set_param(m, RILL_TOL, 1e-10);
    ck_assert_int_eq(rill_model_save(m, NULL, 0, &size), RILL_OK);
    b = malloc(size);
    ck_assert_int_eq(rill_model_save(m, b, size, &size), RILL_OK);
    /* one stored pair with s = y = e_0 and rho = -1: an indefinite inverse-Hessian model */
    ref_wr_u32(b + OFF_N_PAIRS, 1);
    ref_wr_u32(b + OFF_NEXT_PAIR, 1);
    ref_wr_f64(b + OFF_RHO, -1.0);
    for (j = 0; j < 2; j++) /* s (array 6) and y (array 6 + M), pair 0 */
        ref_wr_f64(b + OFF_ARRAYS + 8 * nw * (6 + j * RILL_LBFGS_M), 1.0);
    ref_wr_u32(b + size - 4, ref_crc32(b, size - 4));
    ck_assert_int_eq(rill_model_load(&c, b, size), RILL_OK);
    ck_assert_int_eq(c->opt.n_pairs, 1);
    /* the first step: the memory gives an ascent direction, dropped for steepest descent */
    ck_assert_int_eq(rill_gradient(c, X, y, n, g, &l), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(c, g, l, (double)n), RILL_OK);
    ck_assert_int_eq(c->opt.n_pairs, 0);
    ck_assert_msg(c->opt.dir_deriv < 0.0, "not a descent direction: %g", c->opt.dir_deriv);
    for (i = 0; i < 500 && tu_get_param(c, RILL_STAT_CONVERGED) != 1.0; i++) {
        ck_assert_int_eq(rill_gradient(c, X, y, n, g, &l), RILL_OK);
        ck_assert_int_eq(rill_apply_gradient(c, g, l, (double)n), RILL_OK);
    }
    ck_assert_msg(tu_get_param(c, RILL_STAT_CONVERGED) == 1.0, "no convergence in %d evaluations", i);
    tu_copy_weights(c, W);
    e = ref_max_rel_diff(W, ref, 4, 1e-3);
    ck_assert_msg(e <= 1e-8, "optimum differs from closed-form ridge by %g", e);
    free(b);
    free(X);
    free(y);
    rill_model_free(c);
    rill_model_free(m);
}
END_TEST

/* 300 classes: more scores than the kernels keep on the stack. */
START_TEST(test_many_classes_match_reference)
{
    const size_t n = 40, d = 3, K = 300;
    ref_rng r;
    double *X, *y, *W, *g, l, e;
    long double *gref, lref;
    rill_model *m = tu_new_model(RILL_SOFTMAX, d, K);
    size_t nw = rill_model_n_weights(m), j;
    ref_rng_seed(&r, 777);
    ref_random_problem(&r, RILL_SOFTMAX, n, d, K, 1.0, &X, &y);
    W = tu_random_weights(&r, nw, 0.3);
    g = malloc(nw * sizeof *g);
    gref = malloc(nw * sizeof *gref);
    ck_assert_int_eq(rill_model_set_weights(m, W, nw), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    lref = ref_sums(RILL_SOFTMAX, X, y, n, d, K, W, gref);
    ck_assert_msg(fabs(l - (double)lref) <= 1e-12 * fabs((double)lref), "loss %.17g vs %.17Lg", l,
                  lref);
    for (j = 0; j < nw; j++)
        W[j] = (double)gref[j];
    e = ref_max_rel_diff(g, W, nw, 1e-300);
    ck_assert_msg(e <= 1e-12, "gradient differs from the reference by %g", e);
    /* the portable kernel directly, and loss only */
    memset(g, 0, nw * sizeof *g);
    l = 0.0;
    tu_copy_weights(m, W);
    rl_block_portable(RILL_SOFTMAX, d, K, W, X, y, n, g, &l);
    ck_assert_msg(fabs(l - (double)lref) <= 1e-12 * fabs((double)lref), "portable loss %.17g", l);
    l = 0.0;
    rl_block_portable(RILL_SOFTMAX, d, K, W, X, y, n, NULL, &l);
    ck_assert_msg(fabs(l - (double)lref) <= 1e-12 * fabs((double)lref), "loss-only %.17g", l);
    free(X);
    free(y);
    free(W);
    free(g);
    free(gref);
    rill_model_free(m);
}
END_TEST

START_TEST(test_flush_refused_while_another_stream_holds_rows)
{
    double X[4] = {1, 2, 3, 4}, y[4] = {1, 0, 1, 0};
    rill_model *m = tu_new_model(RILL_SQUARED, 1, 0);
    rill_stream *a, *b;
    ck_assert_int_eq(rill_stream_new(&a, m, 8, RILL_STREAM_PASS), RILL_OK);
    ck_assert_int_eq(rill_stream_new(&b, m, 8, RILL_STREAM_STEP), RILL_OK);
    ck_assert_int_eq(rill_stream_push(a, X, y, 4), RILL_OK); /* buffered in a */
    ck_assert_int_eq(rill_stream_flush(b), RILL_ESTATE);
    ck_assert_msg(strstr(rill_model_error(m), "rill_stream_flush") != NULL, "%s",
                  rill_model_error(m));
    ck_assert_int_eq(rill_stream_push(b, X, y, 4), RILL_ESTATE);
    ck_assert_int_eq(rill_stream_flush(a), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(b), RILL_OK);
    ck_assert_int_eq(rill_stream_push(b, X, y, 4), RILL_OK);
    rill_stream_free(a);
    rill_stream_free(b);
    rill_model_free(m);
}
END_TEST

/* The schedule and learning rate drive stochastic steps only: without an explicit rate (0,
 * automatic) a constant schedule is not fixed-step mode, and batch-fit makes the same L-BFGS
 * iterates, bit for bit, as under the default schedule. */
START_TEST(test_constant_schedule_without_rate_is_lbfgs)
{
    const size_t n = 60, d = 3;
    double *X, *y, W1[4], W2[4];
    rill_model *a = tu_new_model(RILL_SQUARED, d, 0), *b = tu_new_model(RILL_SQUARED, d, 0);
    problem(n, d, &X, &y);
    tu_set_param(b, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
    ck_assert_int_eq(rill_fit(a, X, y, n), RILL_OK);
    ck_assert_int_eq(rill_fit(b, X, y, n), RILL_OK);
    tu_copy_weights(a, W1);
    tu_copy_weights(b, W2);
    ck_assert_msg(memcmp(W1, W2, sizeof W1) == 0, "constant schedule, rate 0: other iterates");
    ck_assert(tu_get_param(b, RILL_STAT_CONVERGED) == 1.0);
    ck_assert(tu_get_param(a, RILL_STAT_EPOCHS) == tu_get_param(b, RILL_STAT_EPOCHS));
    ck_assert_msg(tu_get_param(b, RILL_STAT_EPOCHS) < 50, "%g epochs: not L-BFGS",
                  tu_get_param(b, RILL_STAT_EPOCHS));
    free(X);
    free(y);
    rill_model_free(a);
    rill_model_free(b);
}
END_TEST

#ifdef RILL_HAVE_THREADS
#include <errno.h>
#include <pthread.h>

/* pthread_create as the library sees it (-Wl,--wrap=pthread_create): refuse_threads 1 fails
 * every call, 2 every other one, as a process at its thread limit would (EAGAIN). The parts
 * that get no thread then run in turn on the calling thread. */
static int refuse_threads, thread_calls;
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg)
{
    thread_calls++;
    if (refuse_threads == 1 || (refuse_threads == 2 && thread_calls % 2))
        return EAGAIN;
    return __real_pthread_create(t, attr, fn, arg);
}

/* The documented order of RILL_THREADS = T: P = min(T, blocks of 64 rows) parts, part p from
 * block floor(p blocks / P); part 0 adds to the zeroed sums, the others sum from zero and are
 * added in part order. Written out here with the one-thread kernel. */
static void parts_reference(const rill_model *m, size_t T, const double *X, const double *y,
                            size_t n, double *g, double *loss)
{
    const size_t d = m->n_features, nw = m->n_weights, blocks = (n + 63) / 64;
    const size_t P = T < blocks ? T : blocks;
    double *part = malloc(nw * sizeof *part);
    memset(g, 0, nw * sizeof *g);
    *loss = 0.0;
    for (size_t p = 0; p < P; p++) {
        const size_t lo = blocks * p / P * 64, hi = p + 1 == P ? n : blocks * (p + 1) / P * 64;
        double l = 0.0;
        memset(part, 0, nw * sizeof *part);
        rl_kernel_sums(m, rl_eval_point(m), X + lo * d, y + lo, hi - lo, p ? part : g,
                       p ? &l : loss);
        if (p) {
            *loss += l;
            for (size_t j = 0; j < nw; j++)
                g[j] += part[j];
        }
    }
    free(part);
}
#endif

START_TEST(test_threads_gradient_parts)
{
#ifdef RILL_HAVE_THREADS
    const int loss = _i;
    /* 40000 x 7 with 1 to 3 outputs: past the size at which parts run on threads */
    const size_t rows[] = {1, 63, 64, 65, 200, 1000, tu_light() ? 9000 : 40000}, d = 7;
    const size_t threads[] = {2, 3, 7};
    for (size_t a = 0; a < sizeof rows / sizeof rows[0]; a++) {
        const size_t n = rows[a];
        ref_rng r;
        double *X, *y;
        ref_rng_seed(&r, 4200 + 10 * (uint64_t)loss + a);
        ref_random_problem(&r, loss, n, d, tu_classes_for(loss, 3), 1.0, &X, &y);
        rill_model *one = tu_new_model_for(loss, d, 3);
        const size_t nw = rill_model_n_weights(one);
        double *w = tu_random_weights(&r, nw, 0.3);
        ck_assert_int_eq(rill_model_set_weights(one, w, nw), RILL_OK);
        double *g1 = malloc(nw * sizeof *g1), *gt = malloc(nw * sizeof *gt);
        double *gr = malloc(nw * sizeof *gr), *g2 = malloc(nw * sizeof *g2), l1, lt, lr, l2;
        ck_assert_int_eq(rill_gradient(one, X, y, n, g1, &l1), RILL_OK);
        for (size_t b = 0; b < sizeof threads / sizeof threads[0]; b++) {
            rill_model *mt = NULL;
            ck_assert_int_eq(rill_model_clone(&mt, one), RILL_OK);
            tu_set_param(mt, RILL_THREADS, (double)threads[b]);
            ck_assert_int_eq(rill_gradient(mt, X, y, n, gt, &lt), RILL_OK);
            parts_reference(mt, threads[b], X, y, n, gr, &lr);
            ck_assert_msg(memcmp(&lt, &lr, sizeof lt) == 0 && memcmp(gt, gr, nw * sizeof *gt) == 0,
                          "%s n=%zu T=%zu: not the parts' sums in part order (loss %.17g vs "
                          "%.17g)", tu_loss_name(loss), n, threads[b], lt, lr);
            ck_assert_int_eq(rill_gradient(mt, X, y, n, g2, &l2), RILL_OK);
            ck_assert_msg(memcmp(&lt, &l2, sizeof lt) == 0 && memcmp(gt, g2, nw * sizeof *gt) == 0,
                          "%s n=%zu T=%zu: two calls differ", tu_loss_name(loss), n, threads[b]);
            ck_assert_int_eq(rill_gradient(mt, X, y, n, NULL, &l2), RILL_OK);
            ck_assert_msg(memcmp(&lt, &l2, sizeof lt) == 0,
                          "%s n=%zu T=%zu: the loss alone differs", tu_loss_name(loss), n,
                          threads[b]);
            for (refuse_threads = 1; refuse_threads <= 2; refuse_threads++) {
                thread_calls = 0;
                ck_assert_int_eq(rill_gradient(mt, X, y, n, g2, &l2), RILL_OK);
                ck_assert_msg(memcmp(&lt, &l2, sizeof lt) == 0 &&
                                  memcmp(gt, g2, nw * sizeof *gt) == 0,
                              "%s n=%zu T=%zu: other sums when %s pthread_create fails",
                              tu_loss_name(loss), n, threads[b],
                              refuse_threads == 1 ? "every" : "every other");
            }
            refuse_threads = 0;
            ck_assert_msg(n < 40000 || thread_calls > 0, "n=%zu: no thread was asked for", n);
            ck_assert_msg(fabs(lt - l1) <= 1e-12 * fabs(l1),
                          "%s n=%zu T=%zu: loss %.17g, one thread %.17g", tu_loss_name(loss), n,
                          threads[b], lt, l1);
            double gmax = 0.0;
            for (size_t j = 0; j < nw; j++)
                gmax = fmax(gmax, fabs(g1[j]));
            for (size_t j = 0; j < nw; j++)
                ck_assert_msg(fabs(gt[j] - g1[j]) <= 1e-12 * gmax,
                              "%s n=%zu T=%zu: gradient %zu = %.17g, one thread %.17g",
                              tu_loss_name(loss), n, threads[b], j, gt[j], g1[j]);
            rill_model_free(mt);
        }
        free(X);
        free(y);
        free(w);
        free(g1);
        free(gt);
        free(gr);
        free(g2);
        rill_model_free(one);
    }
#else
    (void)_i;
    rill_model *m = tu_new_model(RILL_SQUARED, 3, 0);
    ck_assert_int_eq(rill_model_set(m, RILL_THREADS, 2.0), RILL_EUNSUPPORTED);
    ck_assert_msg(tu_get_param(m, RILL_THREADS) == 1.0, "a refused RILL_THREADS was kept");
    printf("built without threads: RILL_THREADS > 1 is refused\n");
    rill_model_free(m);
#endif
}
END_TEST

/* rill_fit with two threads reaches the optimum that one thread reaches. */
START_TEST(test_threads_fit_same_optimum)
{
#ifdef RILL_HAVE_THREADS
    const size_t n = tu_light() ? 9000 : 40000, d = 7;
    for (int loss = RILL_SQUARED; loss <= RILL_SOFTMAX; loss++) {
        ref_rng r;
        double *X, *y;
        ref_rng_seed(&r, 4300 + (uint64_t)loss);
        ref_random_problem(&r, loss, n, d, tu_classes_for(loss, 3), 1.0, &X, &y);
        rill_model *a = tu_new_model_for(loss, d, 3), *b;
        tu_set_param(a, RILL_L2, 1e-3);
        tu_set_param(a, RILL_TOL, 1e-10);
        ck_assert_int_eq(rill_model_clone(&b, a), RILL_OK);
        tu_set_param(b, RILL_THREADS, 2.0);
        ck_assert_int_eq(rill_fit(a, X, y, n), RILL_OK);
        ck_assert_int_eq(rill_fit(b, X, y, n), RILL_OK);
        ck_assert_msg(tu_get_param(a, RILL_STAT_CONVERGED) == 1.0 &&
                          tu_get_param(b, RILL_STAT_CONVERGED) == 1.0,
                      "%s: did not converge", tu_loss_name(loss));
        const size_t nw = rill_model_n_weights(a);
        double *wa = tu_get_weights(a), *wb = tu_get_weights(b);
        for (size_t j = 0; j < nw; j++)
            ck_assert_msg(fabs(wa[j] - wb[j]) <= 1e-6 * (1.0 + fabs(wa[j])),
                          "%s: weight %zu = %.17g with two threads, %.17g with one",
                          tu_loss_name(loss), j, wb[j], wa[j]);
        free(wa);
        free(wb);
        free(X);
        free(y);
        rill_model_free(a);
        rill_model_free(b);
    }
#endif
}
END_TEST

#ifdef RILL_HAVE_THREADS
/* An allocator that refuses once armed: the parts' sums cannot be had. */
struct arm {
    int armed;
};

static void *arm_alloc(void *ctx, size_t size, size_t align)
{
    (void)align;
    return ((struct arm *)ctx)->armed ? NULL : malloc(size);
}

static void arm_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    (void)size;
    free(ptr);
}

static int stop_now(void *user, const rill_model *m)
{
    (void)user;
    (void)m;
    return 1;
}
#endif

/* RILL_THREADS > 1 is refused for a model in a caller's buffer; with the parts' memory refused,
 * rill_gradient and rill_fit return RILL_ENOMEM and the model keeps its weights and statistics. */
START_TEST(test_threads_refusals)
{
#ifdef RILL_HAVE_THREADS
    size_t size;
    ck_assert_int_eq(rill_model_workspace_size(RILL_SQUARED, 3, 0, &size), RILL_OK);
    void *buf = malloc(size);
    rill_model *s = NULL;
    ck_assert_int_eq(rill_model_init_static(&s, buf, size, RILL_SQUARED, 3, 0), RILL_OK);
    ck_assert_int_eq(rill_model_set(s, RILL_THREADS, 2.0), RILL_EUNSUPPORTED);
    ck_assert_msg(strstr(rill_model_error(s), "RILL_THREADS") != NULL, "error: %s",
                  rill_model_error(s));
    ck_assert_msg(tu_get_param(s, RILL_THREADS) == 1.0, "a refused RILL_THREADS was kept");
    ck_assert_int_eq(rill_model_set(s, RILL_THREADS, 1.0), RILL_OK);
    free(buf);

    struct arm arm = {0};
    const rill_alloc alloc = {arm_alloc, arm_free, &arm};
    rill_model *m = NULL;
    ck_assert_int_eq(rill_model_new_alloc(&m, RILL_LOGISTIC, 4, 2, &alloc), RILL_OK);
    tu_set_param(m, RILL_THREADS, 2.0);
    ref_rng r;
    double *X, *y;
    ref_rng_seed(&r, 4400);
    ref_random_problem(&r, RILL_LOGISTIC, 300, 4, 2, 1.0, &X, &y);
    const size_t nw = rill_model_n_weights(m);
    double *w = tu_random_weights(&r, nw, 0.3), g[5], l;
    ck_assert_int_eq(rill_model_set_weights(m, w, nw), RILL_OK);
    ck_assert_int_eq(rill_model_set_progress(m, stop_now, NULL), RILL_OK);
    ck_assert_int_eq(rill_fit(m, X, y, 300), RILL_OK); /* stopped: RILL_STAT_STOPPED = 1 */
    ck_assert_int_eq(rill_model_set_progress(m, NULL, NULL), RILL_OK);
    ck_assert_int_eq(rill_model_set_weights(m, w, nw), RILL_OK);
    ck_assert_msg(tu_get_param(m, RILL_STAT_STOPPED) == 1.0, "the callback did not stop");
    const double epochs = tu_get_param(m, RILL_STAT_EPOCHS);
    arm.armed = 1;
    ck_assert_int_eq(rill_gradient(m, X, y, 300, g, &l), RILL_ENOMEM);
    ck_assert_int_eq(rill_gradient(m, X, y, 300, NULL, &l), RILL_OK); /* the loss needs none */
    ck_assert_int_eq(rill_fit(m, X, y, 300), RILL_ENOMEM);
    ck_assert_msg(strstr(rill_model_error(m), "rill_fit") != NULL, "error: %s",
                  rill_model_error(m));
    double *after = tu_get_weights(m);
    ck_assert_msg(memcmp(after, w, nw * sizeof *w) == 0, "a refused rill_fit changed weights");
    ck_assert_msg(tu_get_param(m, RILL_STAT_EPOCHS) == epochs &&
                      tu_get_param(m, RILL_STAT_STOPPED) == 1.0,
                  "a refused rill_fit changed the statistics");
    arm.armed = 0;
    ck_assert_int_eq(rill_fit(m, X, y, 300), RILL_OK);
    free(after);
    free(w);
    free(X);
    free(y);
    rill_model_free(m);
#endif
}
END_TEST

static Suite *optimizer_suite(void)
{
    Suite *s = suite_create("optimizer");
    TCase *tc = tcase_create("paths");
    tcase_add_test(tc, test_fixed_step_converges_to_ridge);
    tcase_add_test(tc, test_applies_after_convergence_are_not_steps);
    tcase_add_test(tc, test_fixed_step_overflow_refused);
    tcase_add_test(tc, test_fit_diverging_at_start_changes_nothing);
    tcase_add_test(tc, test_constant_schedule_without_rate_is_lbfgs);
    tcase_add_test(tc, test_indefinite_memory_still_converges);
    tcase_add_test(tc, test_many_classes_match_reference);
    tcase_add_test(tc, test_flush_refused_while_another_stream_holds_rows);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_threads_gradient_parts, RILL_SQUARED, RILL_SOFTMAX + 1);
    tcase_add_test(tc, test_threads_fit_same_optimum);
    tcase_add_test(tc, test_threads_refusals);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(optimizer_suite)
