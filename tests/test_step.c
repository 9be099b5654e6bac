/*
 * rill_step (stochastic steps) against the formulas computed here: every schedule with l2 and
 * l1, row-by-row equivalence with clones and STEP streams, the OPTIMAL/l2 = 0 refusal,
 * averaged SGD, the automatic rate, and the progressive loss.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"
#include "ref.h"
#include "tmain.h"
#include "tutil.h"

static const char *schedule_name(int s)
{
    switch (s) {
    case RILL_SCHEDULE_CONSTANT: return "constant";
    case RILL_SCHEDULE_INVSCALING: return "invscaling";
    case RILL_SCHEDULE_OPTIMAL: return "optimal";
    default: return "adagrad";
    }
}

/* ------------------------------------------------------------------ the formulas */

typedef struct sim {
    int loss, schedule;
    size_t d, K, nw;
    double eta0, power_t, l2, l1;
    double rows;
    double *W, *G;
    double average, avg_count, *Wavg;
} sim;

static void sim_init(sim *s, int loss, size_t d, size_t K, int schedule, double eta0,
                     double power_t, double l2, double l1)
{
    memset(s, 0, sizeof *s);
    s->loss = loss;
    s->schedule = schedule;
    s->d = d;
    s->K = K;
    s->nw = ref_n_weights(loss, d, K);
    s->eta0 = eta0;
    s->power_t = power_t;
    s->l2 = l2;
    s->l1 = l1;
    s->W = calloc(s->nw, sizeof *s->W);
    s->G = calloc(s->nw, sizeof *s->G);
    s->Wavg = calloc(s->nw, sizeof *s->Wavg);
}

static void sim_free(sim *s)
{
    free(s->W);
    free(s->G);
    free(s->Wavg);
}

/* w <- w - eta_t (mean gradient + l2 w), then soft-threshold by eta_t l1; intercepts
 * unpenalized; t = rows + 1 before the step. */
static void sim_step(sim *s, const double *X, const double *y, size_t n)
{
    long double *gl = malloc(s->nw * sizeof *gl);
    double t = s->rows + 1.0, eta = s->eta0;
    size_t j;
    ref_sums(s->loss, X, y, n, s->d, s->K, s->W, gl);
    switch (s->schedule) {
    case RILL_SCHEDULE_CONSTANT: eta = s->eta0; break;
    case RILL_SCHEDULE_INVSCALING: eta = s->eta0 / pow(t, s->power_t); break;
    case RILL_SCHEDULE_OPTIMAL: { /* 1 / (l2 (t0 + t - 1)): the first step's rate is eta0 */
        double t0 = 1.0 / (s->l2 * s->eta0);
        eta = 1.0 / (s->l2 * (t0 + t - 1.0));
        break;
    }
    default: break;
    }
    for (j = 0; j < s->nw; j++) {
        int icpt = ref_is_intercept(s->d, j);
        double g = (double)(gl[j] / (long double)n) + (icpt ? 0.0 : s->l2 * s->W[j]);
        double e = eta, v;
        if (s->schedule == RILL_SCHEDULE_ADAGRAD) {
            s->G[j] += g * g;
            e = s->eta0 / (sqrt(s->G[j]) + 1e-10);
        }
        v = s->W[j] - e * g;
        if (!icpt && s->l1 > 0) {
            double th = e * s->l1;
            v = v > th ? v - th : v < -th ? v + th : 0.0;
        }
        s->W[j] = v;
    }
    s->rows += (double)n;
    free(gl);
}

/* ------------------------------------------------------------------ schedules */

START_TEST(test_step_schedules)
{
    /* _i: schedule (4) x loss (3) x penalty (2) */
    const int schedule = 1 + _i % 4, loss = 1 + (_i / 4) % 3, with_l1 = _i / 12;
    const size_t n = 60, d = 4, K = tu_classes_for(loss, 3);
    const size_t sizes[] = {1, 3, 5, 2, 7, 1, 1, 4};
    const double eta0 = 0.05, power_t = 0.3, l2 = 0.01, l1 = with_l1 ? 0.004 : 0.0;
    ref_rng r;
    double *X, *y, *w;
    size_t off = 0, k = 0, steps = 0;
    rill_model *m;
    sim s;
    char what[96];

    snprintf(what, sizeof what, "%s/%s/%s", schedule_name(schedule), tu_loss_name(loss),
             with_l1 ? "l2+l1" : "l2");
    ref_rng_seed(&r, 500 + (uint64_t)_i);
    ref_random_problem(&r, loss, n, d, K, 1.0, &X, &y);
    m = tu_new_model(loss, d, K);
    tu_set_param(m, RILL_LEARNING_RATE, eta0);
    tu_set_param(m, RILL_SCHEDULE, schedule);
    tu_set_param(m, RILL_POWER_T, power_t);
    tu_set_param(m, RILL_L2, l2);
    tu_set_param(m, RILL_L1, l1);
    sim_init(&s, loss, d, K, schedule, eta0, power_t, l2, l1);
    w = malloc(s.nw * sizeof *w);
    while (off < n) {
        size_t take = sizes[k++ % (sizeof sizes / sizeof sizes[0])];
        double e;
        int rc;
        if (take > n - off)
            take = n - off;
        rc = rill_step(m, X + off * d, y + off, take);
        ck_assert_msg(rc == RILL_OK, "%s: rill_step = %d: %s", what, rc, rill_model_error(m));
        sim_step(&s, X + off * d, y + off, take);
        off += take;
        steps++;
        tu_copy_weights(m, w);
        e = ref_max_rel_diff(w, s.W, s.nw, 1e-300);
        ck_assert_msg(e <= 1e-12,
                      "%s: after %zu steps (%zu rows) the weights differ from the formula by %g "
                      "(w[0] %.17g vs %.17g)",
                      what, steps, off, e, w[0], s.W[0]);
        ck_assert_msg(tu_get_param(m, RILL_STAT_ROWS) == (double)off, "%s: RILL_STAT_ROWS %g, rows %zu",
                      what, tu_get_param(m, RILL_STAT_ROWS), off);
        ck_assert_msg(tu_get_param(m, RILL_STAT_STEPS) == (double)steps,
                      "%s: RILL_STAT_STEPS %g, steps %zu", what, tu_get_param(m, RILL_STAT_STEPS),
                      steps);
    }
    if (with_l1) {
        /* intercepts are never thresholded: they moved */
        size_t j, moved = 0;
        for (j = 0; j < s.nw; j++)
            if (ref_is_intercept(d, j) && w[j] != 0.0)
                moved++;
        ck_assert_msg(moved == ref_n_outputs(loss, K), "%s: intercepts stuck at 0", what);
    }
    free(w);
    free(X);
    free(y);
    sim_free(&s);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ row by row */

START_TEST(test_row_by_row_is_an_epoch_loop)
{
    const int loss = _i;
    const size_t n = 53, d = 3, K = tu_classes_for(loss, 4), cut = 17;
    ref_rng r;
    double *X, *y, *wa, *wb, *wc, *wd, *we;
    rill_model *a, *b = NULL, *c, *dm, *em;
    rill_stream *sc = NULL, *se = NULL;
    size_t i, nw;
    int rc;

    ref_rng_seed(&r, 600 + (uint64_t)loss);
    ref_random_problem(&r, loss, n, d, K, 1.0, &X, &y);
    a = tu_new_model(loss, d, K);
    tu_set_param(a, RILL_LEARNING_RATE, 0.1);
    tu_set_param(a, RILL_SCHEDULE, RILL_SCHEDULE_INVSCALING);
    tu_set_param(a, RILL_POWER_T, 0.5);
    tu_set_param(a, RILL_L2, 1e-3);
    nw = rill_model_n_weights(a);
    rc = rill_model_clone(&c, a);
    ck_assert_int_eq(rc, RILL_OK);
    rc = rill_model_clone(&dm, a);
    ck_assert_int_eq(rc, RILL_OK);
    rc = rill_model_clone(&em, a);
    ck_assert_int_eq(rc, RILL_OK);

    /* a: one rill_step per row; b: a clone taken after `cut` rows, continued row by row */
    for (i = 0; i < n; i++) {
        if (i == cut) {
            rc = rill_model_clone(&b, a);
            ck_assert_int_eq(rc, RILL_OK);
        }
        ck_assert_int_eq(rill_step(a, X + i * d, y + i, 1), RILL_OK);
        if (b)
            ck_assert_int_eq(rill_step(b, X + i * d, y + i, 1), RILL_OK);
    }
    /* c: a STEP stream of 1-row micro-batches, pushed in uneven chunks */
    rc = rill_stream_new(&sc, c, 1, RILL_STREAM_STEP);
    ck_assert_int_eq(rc, RILL_OK);
    ck_assert_int_eq(rill_stream_push(sc, X, y, 5), RILL_OK);
    ck_assert_int_eq(rill_stream_push(sc, X + 5 * d, y + 5, 12), RILL_OK);
    ck_assert_int_eq(rill_stream_push(sc, X + 17 * d, y + 17, n - 17), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(sc), RILL_OK);
    rill_stream_free(sc);

    wa = malloc(nw * sizeof *wa);
    wb = malloc(nw * sizeof *wb);
    wc = malloc(nw * sizeof *wc);
    wd = malloc(nw * sizeof *wd);
    we = malloc(nw * sizeof *we);
    tu_copy_weights(a, wa);
    tu_copy_weights(b, wb);
    tu_copy_weights(c, wc);
    ck_assert_msg(memcmp(wa, wb, nw * sizeof *wa) == 0,
                  "%s: a clone continued row by row differs from the original (max rel %g)",
                  tu_loss_name(loss), ref_max_rel_diff(wb, wa, nw, 1e-300));
    ck_assert_msg(memcmp(wa, wc, nw * sizeof *wa) == 0,
                  "%s: a STEP stream of 1-row batches differs from row-by-row rill_step (max rel %g)",
                  tu_loss_name(loss), ref_max_rel_diff(wc, wa, nw, 1e-300));
    ck_assert_msg(tu_get_param(a, RILL_STAT_ROWS) == n && tu_get_param(b, RILL_STAT_ROWS) == n &&
                      tu_get_param(c, RILL_STAT_ROWS) == n,
                  "%s: RILL_STAT_ROWS %g / %g / %g, expected %zu", tu_loss_name(loss),
                  tu_get_param(a, RILL_STAT_ROWS), tu_get_param(b, RILL_STAT_ROWS),
                  tu_get_param(c, RILL_STAT_ROWS), n);
    ck_assert_msg(tu_get_param(a, RILL_STAT_STEPS) == n, "%s: RILL_STAT_STEPS %g, expected %zu",
                  tu_loss_name(loss), tu_get_param(a, RILL_STAT_STEPS), n);

    /* 4-row steps: rill_step on 4-row slices == a STEP stream with batch_rows 4 fed 3 rows at a
     * time (the last partial batch on flush) */
    for (i = 0; i < n; i += 4)
        ck_assert_int_eq(rill_step(dm, X + i * d, y + i, n - i < 4 ? n - i : 4), RILL_OK);
    rc = rill_stream_new(&se, em, 4, RILL_STREAM_STEP);
    ck_assert_int_eq(rc, RILL_OK);
    for (i = 0; i < n; i += 3)
        ck_assert_int_eq(rill_stream_push(se, X + i * d, y + i, n - i < 3 ? n - i : 3), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(se), RILL_OK);
    rill_stream_free(se);
    tu_copy_weights(dm, wd);
    tu_copy_weights(em, we);
    ck_assert_msg(memcmp(wd, we, nw * sizeof *wd) == 0,
                  "%s: STEP stream (batch 4, pushed 3 rows at a time) differs from 4-row rill_step "
                  "calls (max rel %g)",
                  tu_loss_name(loss), ref_max_rel_diff(we, wd, nw, 1e-300));
    ck_assert_msg(tu_get_param(dm, RILL_STAT_ROWS) == n && tu_get_param(em, RILL_STAT_ROWS) == n,
                  "%s: RILL_STAT_ROWS after 4-row steps", tu_loss_name(loss));
    ck_assert_msg(tu_get_param(dm, RILL_STAT_STEPS) == (double)((n + 3) / 4),
                  "%s: RILL_STAT_STEPS %g, expected %zu", tu_loss_name(loss),
                  tu_get_param(dm, RILL_STAT_STEPS), (n + 3) / 4);
    /* and the schedule's t made a difference: 4-row steps are not the 1-row result */
    ck_assert_msg(memcmp(wa, wd, nw * sizeof *wa) != 0, "%s: test cannot tell batchings apart",
                  tu_loss_name(loss));

    free(wa);
    free(wb);
    free(wc);
    free(wd);
    free(we);
    free(X);
    free(y);
    rill_model_free(a);
    rill_model_free(b);
    rill_model_free(c);
    rill_model_free(dm);
    rill_model_free(em);
}
END_TEST

/* ------------------------------------------------------------------ OPTIMAL with l2 = 0 */

START_TEST(test_optimal_needs_l2)
{
    const double X[4] = {1.0, 2.0, -1.0, 0.5}, y[2] = {1.0, -2.0};
    double w0[3], w1[3];
    rill_model *m = tu_new_model(RILL_SQUARED, 2, 0);
    int rc;
    tu_set_param(m, RILL_LEARNING_RATE, 0.1);
    /* setting it is fine: the refusal comes when a step would use it */
    rc = rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_OPTIMAL);
    ck_assert_msg(rc == RILL_OK, "set RILL_SCHEDULE_OPTIMAL with l2 = 0: %d", rc);
    tu_copy_weights(m, w0);
    rc = rill_step(m, X, y, 2);
    ck_assert_msg(rc == RILL_EINVAL, "rill_step with OPTIMAL and l2 = 0 = %d, expected RILL_EINVAL",
                  rc);
    rc = rill_step(m, X, y, 1); /* one row: rill_step's online path refuses it too */
    ck_assert_msg(rc == RILL_EINVAL, "one-row rill_step with OPTIMAL and l2 = 0 = %d", rc);
    tu_copy_weights(m, w1);
    ck_assert_msg(memcmp(w0, w1, sizeof w0) == 0, "refused step changed the weights");
    ck_assert_msg(tu_get_param(m, RILL_STAT_ROWS) == 0.0 && tu_get_param(m, RILL_STAT_STEPS) == 0.0,
                  "refused step counted rows/steps");
    ck_assert_msg(rill_model_error(m)[0] != '\0', "no error detail after the refused step");
    tu_set_param(m, RILL_L2, 0.01);
    rc = rill_step(m, X, y, 2);
    ck_assert_msg(rc == RILL_OK, "with l2 > 0 the OPTIMAL step = %d", rc);
    rill_model_free(m);
}
END_TEST

/* OPTIMAL's first step takes eta0 whatever l2 (> 0): the rate is written without
 * t0 = 1 / (l2 eta0), which overflowed for l2 eta0 below 1 / DBL_MAX and made every rate 0. */
START_TEST(test_optimal_tiny_l2)
{
    const double x = 1.0, y = 1.0, l2s[] = {1e-3, 1e-300, 1e-309, 5e-324};
    for (size_t k = 0; k < sizeof l2s / sizeof l2s[0]; k++)
        for (size_t rows = 1; rows <= 2; rows++) { /* the one-row path and the general one */
            const double X[2] = {x, x}, Y[2] = {y, y};
            double w[2];
            rill_model *m = tu_new_model(RILL_SQUARED, 1, 0);
            tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_OPTIMAL);
            tu_set_param(m, RILL_LEARNING_RATE, 0.5);
            tu_set_param(m, RILL_L2, l2s[k]);
            ck_assert_int_eq(rill_step(m, X, Y, rows), RILL_OK);
            tu_copy_weights(m, w);
            /* from w = 0: gradient -1 for the weight and the intercept, rate eta0 */
            ck_assert_msg(w[0] == 0.5 && w[1] == 0.5, "l2 %g, %zu rows: w = %g, b = %g", l2s[k],
                          rows, w[0], w[1]);
            rill_model_free(m);
        }
}
END_TEST

/* The blob of m, malloc'd (for byte comparisons). */
static unsigned char *saved(const rill_model *m, size_t *n)
{
    ck_assert(rill_model_save(m, NULL, 0, n) == RILL_OK);
    unsigned char *b = malloc(*n);
    ck_assert(b != NULL && rill_model_save(m, b, *n, n) == RILL_OK);
    return b;
}

static int stop_at_once(void *user, const rill_model *m)
{
    (void)user;
    (void)m;
    return 1;
}

/* Calls that would run several steps refuse OPTIMAL with l2 = 0 before changing anything (not
 * even RILL_STAT_STOPPED), and name themselves in the error detail. */
START_TEST(test_optimal_refused_before_any_change)
{
    const double X[4] = {1.0, 2.0, -1.0, 0.5}, y[2] = {1.0, -2.0};
    rill_model *m = tu_new_model(RILL_SQUARED, 2, 0);
    rill_stream *s = NULL;
    size_t n0, n1;
    /* a first call stopped by the progress callback leaves RILL_STAT_STOPPED = 1 */
    ck_assert(rill_model_set_progress(m, stop_at_once, NULL) == RILL_OK);
    tu_set_param(m, RILL_BATCH_ROWS, 1.0);
    ck_assert(rill_fit(m, X, y, 2) == RILL_OK);
    ck_assert(tu_get_param(m, RILL_STAT_STOPPED) == 1.0);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_OPTIMAL);
    unsigned char *b0 = saved(m, &n0), *b1;

    ck_assert_int_eq(rill_fit(m, X, y, 2), RILL_EINVAL);
    ck_assert_msg(strncmp(rill_model_error(m), "rill_fit:", 9) == 0, "%s", rill_model_error(m));
    b1 = saved(m, &n1);
    ck_assert_msg(n0 == n1 && memcmp(b0, b1, n0) == 0, "refused SGD rill_fit changed the model");
    free(b1);

    ck_assert(rill_stream_new(&s, m, 2, RILL_STREAM_STEP) == RILL_OK);
    ck_assert_int_eq(rill_stream_push(s, X, y, 2), RILL_EINVAL); /* would complete a batch */
    ck_assert_msg(strncmp(rill_model_error(m), "rill_stream_push:", 17) == 0, "%s",
                  rill_model_error(m));
    b1 = saved(m, &n1);
    ck_assert_msg(n0 == n1 && memcmp(b0, b1, n0) == 0, "refused push changed the model");
    free(b1);
    /* rows that would only be buffered are refused too: the stream would hold them (the model
     * frozen, L2 not settable) and their step would be refused at the flush */
    ck_assert_int_eq(rill_stream_push(s, X, y, 1), RILL_EINVAL);
    b1 = saved(m, &n1);
    ck_assert_msg(n0 == n1 && memcmp(b0, b1, n0) == 0, "refused push changed the model");
    free(b1);
    tu_set_param(m, RILL_L2, 0.01); /* the stream holds nothing: the model can be set */
    rill_stream_free(s);
    free(b0);
    rill_model_free(m);
}
END_TEST

/* Finite rows whose gradient terms overflow: with zero weights each logistic row's term is
 * -1e308 / 2 or +1e308 / 2 times its label's sign, and four of each add up to Inf - Inf = NaN
 * in the gradient while the loss stays finite (log 2 per row). Every step setting refuses it
 * with RILL_EDIVERGED (the data are fine) and nothing changes: AdaGrad's rates and L1's
 * threshold, which could turn the NaN into a number (L1: a weight of 0, AdaGrad: a NaN in its
 * sums), come after the check. */
START_TEST(test_step_refuses_a_nan_gradient)
{
    const double X[8] = {1e308, 1e308, 1e308, 1e308, -1e308, -1e308, -1e308, -1e308};
    const double y[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    for (int cfg = 0; cfg < 4; cfg++) {
        rill_model *m = tu_new_model(RILL_LOGISTIC, 1, 2);
        size_t n0, n1;
        tu_set_param(m, RILL_LEARNING_RATE, 0.1);
        tu_set_param(m, RILL_SCHEDULE, cfg >= 2 ? RILL_SCHEDULE_ADAGRAD : RILL_SCHEDULE_CONSTANT);
        tu_set_param(m, RILL_L1, cfg % 2 ? 1e-3 : 0.0);
        unsigned char *b0 = saved(m, &n0), *b1;
        ck_assert_int_eq(rill_step(m, X, y, 8), RILL_EDIVERGED);
        ck_assert_msg(strstr(rill_model_error(m), "non-finite") != NULL, "setting %d: '%s'", cfg,
                      rill_model_error(m));
        b1 = saved(m, &n1);
        ck_assert_msg(n0 == n1 && memcmp(b0, b1, n0) == 0, "setting %d: the refused step "
                      "changed the model", cfg);
        free(b0);
        free(b1);
        rill_model_free(m);
    }
}
END_TEST

/* ------------------------------------------------------------------ averaging */

START_TEST(test_average_is_mean_of_iterates)
{
    const int loss = RILL_LOGISTIC;
    const size_t n = 40, d = 3;
    const size_t sizes[] = {1, 2, 4, 1, 3};
    ref_rng r;
    double *X, *y, w[4], sum[4] = {0}, mean[4], p, pr;
    rill_model *m = tu_new_model(loss, d, 2);
    size_t off = 0, k = 0, steps = 0, j;
    sim s;

    ref_rng_seed(&r, 700);
    ref_random_problem(&r, loss, n, d, 2, 1.0, &X, &y);
    tu_set_param(m, RILL_LEARNING_RATE, 0.2);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
    tu_set_param(m, RILL_L2, 1e-3);
    tu_set_param(m, RILL_AVERAGE, 1);
    sim_init(&s, loss, d, 2, RILL_SCHEDULE_CONSTANT, 0.2, 0.25, 1e-3, 0.0);
    while (off < n) {
        size_t take = sizes[k++ % 5];
        if (take > n - off)
            take = n - off;
        ck_assert_int_eq(rill_step(m, X + off * d, y + off, take), RILL_OK);
        sim_step(&s, X + off * d, y + off, take);
        off += take;
        steps++;
        for (j = 0; j < 4; j++) {
            sum[j] += s.W[j];
            mean[j] = sum[j] / (double)steps;
        }
        tu_copy_weights(m, w);
        ck_assert_msg(ref_max_rel_diff(w, mean, 4, 1e-300) <= 1e-12,
                      "after %zu steps rill_model_weights is not the mean of the iterates (rel %g; "
                      "w[0] %.17g, mean %.17g, last iterate %.17g)",
                      steps, ref_max_rel_diff(w, mean, 4, 1e-300), w[0], mean[0], s.W[0]);
    }
    ck_assert_msg(ref_max_rel_diff(mean, s.W, 4, 1e-300) > 1e-6,
                  "test setup: the average equals the last iterate");
    /* predict uses the averaged weights */
    ck_assert_int_eq(rill_predict(m, X, 1, &p), RILL_OK);
    {
        double z = mean[3];
        for (j = 0; j < d; j++)
            z += mean[j] * X[j];
        pr = 1.0 / (1.0 + exp(-z));
    }
    ck_assert_msg(fabs(p - pr) <= 1e-12, "predict %.17g, from the averaged weights %.17g", p, pr);
    free(X);
    free(y);
    sim_free(&s);
    rill_model_free(m);
}
END_TEST

START_TEST(test_average_from_row_a)
{
    /* RILL_AVERAGE = a: averaging from the step that sees row a (rows count from 1). With
     * one-row steps that is step a: before it the weights are the iterate; from it on, the mean
     * of the iterates after steps a, a+1, ... */
    const size_t n = 12, d = 2, a = 4;
    ref_rng r;
    double *X, *y, w[3], sum[3] = {0}, mean[3];
    rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
    size_t i, j, cnt = 0;
    sim s;
    ref_rng_seed(&r, 701);
    ref_random_problem(&r, RILL_SQUARED, n, d, 0, 1.0, &X, &y);
    tu_set_param(m, RILL_LEARNING_RATE, 0.1);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
    tu_set_param(m, RILL_AVERAGE, (double)a);
    sim_init(&s, RILL_SQUARED, d, 0, RILL_SCHEDULE_CONSTANT, 0.1, 0.25, 0.0, 0.0);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(rill_step(m, X + i * d, y + i, 1), RILL_OK);
        sim_step(&s, X + i * d, y + i, 1);
        tu_copy_weights(m, w);
        if (i + 1 < a) {
            ck_assert_msg(ref_max_rel_diff(w, s.W, 3, 1e-300) <= 1e-12,
                          "step %zu (before row %zu): weights are not the iterate", i + 1, a);
        } else {
            cnt++;
            for (j = 0; j < 3; j++) {
                sum[j] += s.W[j];
                mean[j] = sum[j] / (double)cnt;
            }
            ck_assert_msg(ref_max_rel_diff(w, mean, 3, 1e-300) <= 1e-12,
                          "step %zu: weights are not the mean of the iterates from step %zu (rel "
                          "%g)",
                          i + 1, a, ref_max_rel_diff(w, mean, 3, 1e-300));
        }
    }
    free(X);
    free(y);
    sim_free(&s);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ automatic rate */

struct epoch_log {
    const double *X, *y;
    size_t n, d;
    double obj[32];
    int count, bad;
};

static int log_epochs(void *user, const rill_model *m)
{
    struct epoch_log *L = user;
    double rows, w[11];
    if (rill_model_get(m, RILL_STAT_ROWS, &rows) != RILL_OK)
        L->bad = 1;
    if (fmod(rows, (double)L->n) != 0.0)
        return 0;
    if (rill_model_weights(m, w, 11) != RILL_OK || !ref_all_finite(w, 11))
        L->bad = 1;
    if (L->count < 32)
        L->obj[L->count++] = ref_objective(RILL_SQUARED, L->X, L->y, L->n, L->d, 0, w, 0.0, 0.0);
    return 0;
}

START_TEST(test_automatic_rate_raw_diabetes)
{
    ref_data D;
    rill_model *m;
    struct epoch_log L;
    double w[11], f0, zero[11] = {0};
    int rc, e;
    ref_load("diabetes.csv", &D);
    memset(&L, 0, sizeof L);
    L.X = D.X;
    L.y = D.y;
    L.n = D.n;
    L.d = D.d;
    m = tu_new_model(RILL_SQUARED, D.d, 0);
    ck_assert_msg(tu_get_param(m, RILL_LEARNING_RATE) == 0.0, "default learning rate is not automatic");
    tu_set_param(m, RILL_BATCH_ROWS, 1);
    tu_set_param(m, RILL_MAX_EPOCHS, 20);
    tu_set_param(m, RILL_TOL, 0.0);
    ck_assert_int_eq(rill_model_set_progress(m, log_epochs, &L), RILL_OK);
    rc = rill_fit(m, D.X, D.y, D.n);
    ck_assert_msg(rc == RILL_OK, "20 SGD epochs, automatic rate, raw diabetes: %d (%s)", rc,
                  rill_model_error(m));
    ck_assert_msg(!L.bad, "weights non-finite during the epochs");
    ck_assert_msg(L.count == 20, "%d epoch ends seen, expected 20", L.count);
    ck_assert_msg(tu_get_param(m, RILL_STAT_EPOCHS) == 20, "RILL_STAT_EPOCHS %g",
                  tu_get_param(m, RILL_STAT_EPOCHS));
    tu_copy_weights(m, w);
    ck_assert_msg(ref_all_finite(w, 11), "final weights not finite");
    f0 = ref_objective(RILL_SQUARED, D.X, D.y, D.n, D.d, 0, zero, 0.0, 0.0);
    printf("automatic rate, raw diabetes: mean loss %.6g at 0", f0);
    for (e = 0; e < L.count; e++) {
        ck_assert_msg(isfinite(L.obj[e]), "epoch %d: loss not finite", e + 1);
        if (e == 0 || e == 4 || e == 9 || e == 19)
            printf(", epoch %d %.6g", e + 1, L.obj[e]);
    }
    printf("\n");
    ck_assert_msg(L.obj[0] < f0, "epoch 1 loss %g not below the start %g", L.obj[0], f0);
    ck_assert_msg(L.obj[19] < L.obj[0], "epoch 20 loss %g not below epoch 1 loss %g", L.obj[19],
                  L.obj[0]);
    ck_assert_msg(L.obj[19] < L.obj[9], "epoch 20 loss %g not below epoch 10 loss %g", L.obj[19],
                  L.obj[9]);
    rill_model_free(m);
    ref_data_free(&D);
}
END_TEST

/* The automatic rate is eta0 = 1 on the schedule, capped so that eta c mean(|x|^2 + 1) <= 1. */
static void check_auto_rate(const char *what, int loss, size_t K, int schedule, const double *X,
                            const double *y, size_t n, size_t d, size_t warm_rows)
{
    rill_model *m = tu_new_model(loss, d, K);
    size_t nw = rill_model_n_weights(m), j, i;
    double *w0 = malloc(nw * sizeof *w0), *w1 = malloc(nw * sizeof *w1);
    long double *gl = malloc(nw * sizeof *gl);
    double c = loss == RILL_SQUARED ? 1.0 : loss == RILL_LOGISTIC ? 0.25 : 0.5;
    double msq = 0.0, eta = NAN, cap, sched, expect, t;
    tu_set_param(m, RILL_SCHEDULE, schedule);
    /* a few warm-up steps so that t > 1 */
    for (i = 0; i < warm_rows; i++)
        ck_assert_int_eq(rill_step(m, X + i * d, y + i, 1), RILL_OK);
    t = tu_get_param(m, RILL_STAT_ROWS) + 1.0;
    tu_copy_weights(m, w0);
    ck_assert_int_eq(rill_step(m, X + warm_rows * d, y + warm_rows, n), RILL_OK);
    tu_copy_weights(m, w1);
    ref_sums(loss, X + warm_rows * d, y + warm_rows, n, d, K, w0, gl);
    for (i = 0; i < n; i++) {
        double s = 1.0;
        for (j = 0; j < d; j++)
            s += X[(warm_rows + i) * d + j] * X[(warm_rows + i) * d + j];
        msq += s;
    }
    msq /= (double)n;
    /* the implied rate: the same scalar for every weight (l2 = l1 = 0) */
    for (j = 0; j < nw; j++) {
        double g = (double)(gl[j] / (long double)n), e;
        if (fabs(g) < 1e-8 * ref_max_abs(w1, nw))
            continue;
        e = (w0[j] - w1[j]) / g;
        if (isnan(eta))
            eta = e;
        ck_assert_msg(fabs(e - eta) <= 1e-10 * fabs(eta),
                      "%s: the automatic step is not a scalar rate times the gradient (%.17g vs "
                      "%.17g)",
                      what, e, eta);
    }
    ck_assert_msg(eta > 0, "%s: rate %g", what, eta);
    cap = 1.0 / (c * msq);
    sched = schedule == RILL_SCHEDULE_INVSCALING ? 1.0 / pow(t, 0.25) : 1.0;
    expect = sched < cap ? sched : cap;
    printf("%s: automatic rate %.6g (schedule %.6g, cap %.6g)\n", what, eta, sched, cap);
    ck_assert_msg(eta * c * msq <= 1.0 + 1e-10, "%s: rate %.17g overshoots: eta c mean = %.17g",
                  what, eta, eta * c * msq);
    ck_assert_msg(fabs(eta - expect) <= 1e-10 * expect,
                  "%s: rate %.17g, expected min(schedule %.17g, cap %.17g)", what, eta, sched, cap);
    free(w0);
    free(w1);
    free(gl);
    rill_model_free(m);
}

START_TEST(test_automatic_rate_cap)
{
    ref_data D;
    ref_rng r;
    double *X, *y;
    ref_load("diabetes.csv", &D);
    check_auto_rate("squared raw diabetes, constant", RILL_SQUARED, 0, RILL_SCHEDULE_CONSTANT, D.X,
                    D.y, 50, D.d, 0);
    check_auto_rate("squared raw diabetes, invscaling t>1", RILL_SQUARED, 0,
                    RILL_SCHEDULE_INVSCALING, D.X, D.y, 30, D.d, 7);
    ref_data_free(&D);
    /* small features: the cap does not bind, the schedule's rate (eta0 = 1) is used */
    ref_rng_seed(&r, 702);
    ref_random_problem(&r, RILL_LOGISTIC, 40, 2, 2, 0.3, &X, &y);
    check_auto_rate("logistic small features, constant", RILL_LOGISTIC, 2, RILL_SCHEDULE_CONSTANT,
                    X, y, 30, 2, 0);
    check_auto_rate("logistic small features, invscaling t>1", RILL_LOGISTIC, 2,
                    RILL_SCHEDULE_INVSCALING, X, y, 30, 2, 5);
    free(X);
    free(y);
    ref_random_problem(&r, RILL_SOFTMAX, 40, 3, 3, 2.0, &X, &y);
    check_auto_rate("softmax, constant", RILL_SOFTMAX, 3, RILL_SCHEDULE_CONSTANT, X, y, 20, 3, 0);
    free(X);
    free(y);
}
END_TEST

/* AdaGrad under L1 from warm weights: a weight that has had no gradient yet (its feature
 * absent from every row so far, l2 = 0) has no rate, and L1's threshold, eta_j l1 with
 * eta_j = eta0 / eps, used to zero it. It now keeps its value; the others step as before. */
START_TEST(test_adagrad_l1_keeps_unmoved_weights)
{
    const double w0[4] = {0.8, -0.6, 0.4, 0.1}, x[3] = {1.0, 0.0, 0.0}, y = 1.0;
    double w[4];
    rill_model *m = tu_new_model(RILL_SQUARED, 3, 0);
    ck_assert_int_eq(rill_model_set_weights(m, w0, 4), RILL_OK);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
    tu_set_param(m, RILL_LEARNING_RATE, 0.01);
    tu_set_param(m, RILL_L1, 1e-6);
    ck_assert_int_eq(rill_step(m, x, &y, 1), RILL_OK);
    tu_copy_weights(m, w);
    ck_assert_msg(w[1] == w0[1] && w[2] == w0[2], "absent features' weights: %g %g, were %g %g",
                  w[1], w[2], w0[1], w0[2]);
    /* the moved ones: AdaGrad's first step is eta0 g / (|g| + eps), then for the weight the
     * threshold eta0 l1 / (|g| + eps); g = -0.1 for both */
    const double den = 0.1 + 1e-10, step = 0.01 * 0.1 / den, tw = 0.01 * 1e-6 / den;
    ck_assert_msg(fabs(w[0] - (0.8 + step - tw)) < 1e-15 && fabs(w[3] - (0.1 + step)) < 1e-15,
                  "moved weights %.17g %.17g", w[0], w[3]);
    rill_model_free(m);
}
END_TEST

/* AdaGrad's sums of squared gradients: a gradient of 1e155 overflows them, and the weight's
 * rate would be 0 from then on (the Inf saved with the model). The step is refused instead,
 * with nothing changed; gradients of 1e150 still step by eta0. */
START_TEST(test_adagrad_sum_overflow_refused)
{
    const double y = 1.0;
    for (int big = 0; big < 2; big++) {
        const double x = big ? 1e155 : 1e150;
        double w[2];
        size_t n0, n1;
        rill_model *m = tu_new_model(RILL_SQUARED, 1, 0);
        tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
        tu_set_param(m, RILL_LEARNING_RATE, 0.01);
        tu_set_param(m, RILL_FIT_INTERCEPT, 0);
        unsigned char *b0 = saved(m, &n0);
        int rc = rill_step(m, &x, &y, 1);
        unsigned char *b1 = saved(m, &n1);
        tu_copy_weights(m, w);
        if (big) {
            ck_assert_msg(rc == RILL_EDIVERGED, "x = 1e155: rc %d", rc);
            ck_assert_msg(strstr(rill_model_error(m), "AdaGrad") != NULL, "%s",
                          rill_model_error(m));
            ck_assert_msg(n0 == n1 && memcmp(b0, b1, n0) == 0, "the refused step changed the model");
        } else {
            ck_assert_int_eq(rc, RILL_OK);
            ck_assert_msg(fabs(w[0] - 0.01) < 1e-17, "x = 1e150: w = %.17g", w[0]);
        }
        free(b0);
        free(b1);
        rill_model_free(m);
    }
}
END_TEST

/* AdaGrad with the automatic rate: the cap counts only the weights a step moves. A feature
 * that is 0 in every row (sparse data), or an intercept that is not fitted, has a zero
 * gradient and keeps its weight; its rate eta0 / eps must not cap the others' steps. So a
 * model with an extra all-zero column, l2 > 0, and no intercept steps its other weights to
 * the same bits as the model without them, and a first step's rate is the closed form
 * min(1, 1 / load) with load = c mean_i sum_j eta_j x_ij^2 + l2 max_j eta_j over the moved
 * weights (eta_j = 1 / |g_j| on the first step). */
START_TEST(test_adagrad_cap_counts_moved_weights)
{
    const size_t n = 40, d = 3, steps[] = {1, 4, 1, 7, 2, 1, 5};
    ref_rng r;
    double *X, *y, *Xz, w[4], wz[5], l2 = 1e-3;
    size_t i, j, off = 0, k = 0;
    rill_model *a = tu_new_model(RILL_LOGISTIC, d, 2), *b = tu_new_model(RILL_LOGISTIC, d + 1, 2);
    ref_rng_seed(&r, 915);
    ref_random_problem(&r, RILL_LOGISTIC, n, d, 2, 1.0, &X, &y);
    Xz = calloc(n * (d + 1), sizeof *Xz);
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++)
            Xz[i * (d + 1) + j] = X[i * d + j]; /* column d: all zero */
    for (k = 0; k < 2; k++) { /* neither fits its intercept */
        tu_set_param(k ? b : a, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
        tu_set_param(k ? b : a, RILL_L2, l2);
        tu_set_param(k ? b : a, RILL_FIT_INTERCEPT, 0);
    }
    k = 0;
    while (off < n) {
        size_t take = steps[k++ % 7];
        take = take > n - off ? n - off : take;
        ck_assert_int_eq(rill_step(a, X + off * d, y + off, take), RILL_OK);
        ck_assert_int_eq(rill_step(b, Xz + off * (d + 1), y + off, take), RILL_OK);
        off += take;
    }
    tu_copy_weights(a, w);
    tu_copy_weights(b, wz);
    for (j = 0; j < d; j++)
        ck_assert_msg(w[j] == wz[j], "weight %zu: %.17g without the zero column, %.17g with it",
                      j, w[j], wz[j]);
    ck_assert(wz[d] == 0.0 && wz[d + 1] == 0.0 && w[d] == 0.0);
    /* the first step alone, against the closed form */
    {
        rill_model *m = tu_new_model(RILL_LOGISTIC, d + 1, 2);
        long double gl[5];
        double load = 0.0, pen = 0.0, cap, e[5];
        tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
        tu_set_param(m, RILL_L2, l2);
        tu_set_param(m, RILL_FIT_INTERCEPT, 0);
        ck_assert_int_eq(rill_step(m, Xz, y, 3), RILL_OK);
        tu_copy_weights(m, wz);
        ref_sums(RILL_LOGISTIC, Xz, y, 3, d + 1, 2, (double[5]){0}, gl);
        for (j = 0; j < d + 1; j++) {
            double g = (double)(gl[j] / 3.0L);
            e[j] = g != 0.0 ? 1.0 / (fabs(g) + 1e-10) : 0.0;
            pen = fmax(pen, e[j]);
        }
        for (i = 0; i < 3; i++)
            for (j = 0; j < d + 1; j++)
                load += e[j] * Xz[i * (d + 1) + j] * Xz[i * (d + 1) + j] / 3.0;
        load = 0.25 * load + l2 * pen;
        cap = load > 1.0 ? 1.0 / load : 1.0;
        ck_assert_msg(cap > 1e-3, "the closed-form cap %g binds hard on these rows", cap);
        for (j = 0; j < d; j++) {
            double g = (double)(gl[j] / 3.0L), expect = -cap * e[j] * g;
            ck_assert_msg(fabs(wz[j] - expect) <= 1e-12 * fabs(expect) + 1e-300,
                          "first step, weight %zu: %.17g, closed form %.17g", j, wz[j], expect);
        }
        rill_model_free(m);
    }
    free(X);
    free(y);
    free(Xz);
    rill_model_free(a);
    rill_model_free(b);
}
END_TEST

/* m's iterate (not the average): a clone's weights with averaging off */
static void copy_iterate(const rill_model *m, double *out)
{
    rill_model *c = NULL;
    ck_assert_int_eq(rill_model_clone(&c, m), RILL_OK);
    tu_set_param(c, RILL_AVERAGE, 0);
    tu_copy_weights(c, out);
    rill_model_free(c);
}

/* A least-squares model for averaged SGD (rate 0.05, averaging from the first row) and a
 * random problem of n rows for it. */
static rill_model *averaged_model(uint64_t seed, size_t n, size_t d, double **X, double **y)
{
    ref_rng r;
    rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
    ref_rng_seed(&r, seed);
    ref_random_problem(&r, RILL_SQUARED, n, d, 0, 1.0, X, y);
    tu_set_param(m, RILL_LEARNING_RATE, 0.05);
    tu_set_param(m, RILL_AVERAGE, 1);
    return m;
}

/* Changing RILL_AVERAGE drops the average so far: turned off, then on again, the model
 * predicts with its iterate until the next step, whose weights start the new average. */
START_TEST(test_average_change_starts_over)
{
    const size_t d = 3;
    double *X, *y, w[4], it[4];
    size_t i;
    rill_model *m = averaged_model(916, 60, d, &X, &y);
    for (i = 0; i < 20; i++)
        ck_assert_int_eq(rill_step(m, X + i * d, y + i, 1), RILL_OK);
    tu_set_param(m, RILL_AVERAGE, 0);
    for (; i < 40; i++)
        ck_assert_int_eq(rill_step(m, X + i * d, y + i, 1), RILL_OK);
    tu_set_param(m, RILL_AVERAGE, 1);
    tu_copy_weights(m, w);
    copy_iterate(m, it);
    ck_assert_msg(memcmp(w, it, sizeof w) == 0, "an old average came back");
    ck_assert_int_eq(rill_step(m, X + i * d, y + i, 1), RILL_OK);
    tu_copy_weights(m, w);
    copy_iterate(m, it);
    ck_assert_msg(memcmp(w, it, sizeof w) == 0, "the new average is not the step's weights");
    /* setting the same value keeps the average */
    ck_assert_int_eq(rill_step(m, X + (i + 1) * d, y + i + 1, 1), RILL_OK);
    tu_copy_weights(m, w);
    tu_set_param(m, RILL_AVERAGE, 1);
    tu_copy_weights(m, it);
    ck_assert(memcmp(w, it, sizeof w) == 0);
    copy_iterate(m, it);
    ck_assert(memcmp(w, it, sizeof w) != 0); /* an average of two steps, not the iterate */
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

/* After averaged SGD, rill_fit starts from the iterate; an epoch that takes no step (stopped
 * by the callback after the first evaluation) leaves predict on the average. */
START_TEST(test_average_kept_until_a_batch_step)
{
    const size_t n = 60, d = 3;
    double *X, *y, w0[4], w1[4], it[4];
    size_t i;
    rill_model *m = averaged_model(917, n, d, &X, &y);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(rill_step(m, X + i * d, y + i, 1), RILL_OK);
    tu_copy_weights(m, w0);
    copy_iterate(m, it);
    ck_assert(memcmp(w0, it, sizeof w0) != 0);
    ck_assert_int_eq(rill_model_set_progress(m, stop_at_once, NULL), RILL_OK);
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_OK);
    ck_assert(tu_get_param(m, RILL_STAT_EPOCHS) == 1.0);
    tu_copy_weights(m, w1);
    ck_assert_msg(memcmp(w0, w1, sizeof w0) == 0, "an epoch without a step dropped the average");
    ck_assert_int_eq(rill_model_set_progress(m, NULL, NULL), RILL_OK);
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_OK); /* steps: the optimizer's weights */
    tu_copy_weights(m, w1);
    copy_iterate(m, it);
    ck_assert(memcmp(w1, it, sizeof w1) == 0);
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ progressive loss */

START_TEST(test_progressive_loss)
{
    const int loss = 1 + _i;
    const size_t n = 50, d = 3, K = tu_classes_for(loss, 3);
    const size_t sizes[] = {1, 4, 2, 8, 3};
    ref_rng r;
    double *X, *y, *w;
    long double total = 0.0L;
    size_t off = 0, k = 0;
    rill_model *m = tu_new_model(loss, d, K);
    ref_rng_seed(&r, 800 + (uint64_t)loss);
    ref_random_problem(&r, loss, n, d, K, 1.0, &X, &y);
    tu_set_param(m, RILL_LEARNING_RATE, 0.1);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_INVSCALING);
    w = malloc(rill_model_n_weights(m) * sizeof *w);
    while (off < n) {
        size_t take = sizes[k++ % 5];
        long double l;
        double pl, sl;
        if (take > n - off)
            take = n - off;
        tu_copy_weights(m, w);
        l = ref_sums(loss, X + off * d, y + off, take, d, K, w, NULL); /* before the step */
        total += l;
        ck_assert_int_eq(rill_step(m, X + off * d, y + off, take), RILL_OK);
        off += take;
        pl = tu_get_param(m, RILL_STAT_PROGRESSIVE_LOSS);
        sl = tu_get_param(m, RILL_STAT_LOSS);
        ck_assert_msg(fabs(pl - (double)(total / off)) <= 1e-12 * fabs((double)(total / off)),
                      "%s after %zu rows: progressive loss %.17g, expected %.17Lg", tu_loss_name(loss),
                      off, pl, total / off);
        ck_assert_msg(fabs(sl - (double)(l / take)) <= 1e-12 * fabs((double)(l / take)),
                      "%s after %zu rows: RILL_STAT_LOSS %.17g, expected the step's mean loss "
                      "before it %.17Lg",
                      tu_loss_name(loss), off, sl, l / take);
    }
    free(w);
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ one-row steps */

/* A step writes its weights into scratch space that then trades places with the weights: a
 * clone, a saved model and a failing step must see the current weights after an odd and an
 * even number of steps. */
START_TEST(test_one_row_steps_swap_safely)
{
    const size_t n = 6, d = 4;
    ref_rng r;
    double *X, *y;
    rill_model *m = tu_new_model(RILL_LOGISTIC, d, 2);
    ref_rng_seed(&r, 901);
    ref_random_problem(&r, RILL_LOGISTIC, n, d, 2, 1.0, &X, &y);
    tu_set_param(m, RILL_LEARNING_RATE, 0.5);
    for (size_t i = 0; i < n; i++) {
        rill_model *c = NULL;
        double *w, *wc, *wf, bad[4];
        ck_assert_int_eq(rill_step(m, X + i * d, y + i, 1), RILL_OK);
        w = tu_get_weights(m);
        ck_assert_int_eq(rill_model_clone(&c, m), RILL_OK);
        wc = tu_get_weights(c);
        ck_assert_msg(memcmp(w, wc, (d + 1) * sizeof *w) == 0,
                      "clone after %zu one-row steps has other weights", i + 1);
        /* a refused step (NaN in the row) leaves the weights where they were */
        memcpy(bad, X + i * d, sizeof bad);
        bad[2] = NAN;
        ck_assert_int_eq(rill_step(m, bad, y + i, 1), RILL_EDATA);
        wf = tu_get_weights(m);
        ck_assert_msg(memcmp(w, wf, (d + 1) * sizeof *w) == 0,
                      "a refused step after %zu steps changed the weights", i + 1);
        /* and the clone steps on exactly like the original */
        if (i + 1 < n) {
            ck_assert_int_eq(rill_step(c, X + (i + 1) * d, y + i + 1, 1), RILL_OK);
            free(wc);
            wc = tu_get_weights(c);
            rill_model *m2 = NULL;
            ck_assert_int_eq(rill_model_clone(&m2, m), RILL_OK);
            ck_assert_int_eq(rill_step(m2, X + (i + 1) * d, y + i + 1, 1), RILL_OK);
            free(wf);
            wf = tu_get_weights(m2);
            ck_assert_msg(memcmp(wf, wc, (d + 1) * sizeof *w) == 0,
                          "a clone's next step differs from the original's");
            rill_model_free(m2);
        }
        free(w);
        free(wc);
        free(wf);
        rill_model_free(c);
    }
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

static Suite *step_suite(void)
{
    Suite *s = suite_create("step");
    TCase *tc = tcase_create("schedules");
    tcase_add_loop_test(tc, test_step_schedules, 0, 24);
    tcase_add_test(tc, test_optimal_needs_l2);
    tcase_add_test(tc, test_optimal_tiny_l2);
    tcase_add_test(tc, test_optimal_refused_before_any_change);
    suite_add_tcase(s, tc);

    tc = tcase_create("row_by_row");
    tcase_add_loop_test(tc, test_row_by_row_is_an_epoch_loop, RILL_SQUARED, RILL_SOFTMAX + 1);
    suite_add_tcase(s, tc);

    tc = tcase_create("average");
    tcase_add_test(tc, test_average_is_mean_of_iterates);
    tcase_add_test(tc, test_average_from_row_a);
    suite_add_tcase(s, tc);

    tc = tcase_create("automatic_rate");
    tcase_add_test(tc, test_automatic_rate_raw_diabetes);
    tcase_add_test(tc, test_automatic_rate_cap);
    tcase_add_test(tc, test_adagrad_cap_counts_moved_weights);
    tcase_add_test(tc, test_adagrad_l1_keeps_unmoved_weights);
    tcase_add_test(tc, test_adagrad_sum_overflow_refused);
    tcase_add_test(tc, test_average_change_starts_over);
    tcase_add_test(tc, test_average_kept_until_a_batch_step);
    suite_add_tcase(s, tc);

    tc = tcase_create("one_row");
    tcase_add_test(tc, test_one_row_steps_swap_safely);
    tcase_add_test(tc, test_step_refuses_a_nan_gradient);
    suite_add_tcase(s, tc);

    tc = tcase_create("progressive_loss");
    tcase_add_loop_test(tc, test_progressive_loss, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(step_suite)
