/*
 * Numerical safety: extreme but finite inputs (features near 1e300 or 1e-300, targets near
 * 1e308, learning rates of 1e300, tiny and huge penalties, huge logits) end in RILL_EDATA,
 * RILL_EDIVERGED or a finite result, never in NaN or infinite weights, through every driver:
 * rill_fit (batch, fixed-step, stochastic), rill_step, the three stream modes, and a
 * rill_gradient / rill_apply_gradient loop. A refused single-step call leaves the model as it
 * was. The losses use stable forms: exact values far outside exp()'s range are checked
 * against closed forms.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rill.h"
#include "tmain.h"
#include "tutil.h"

#define N 24
#define D 3
#define K 3

/* ------------------------------------------------------------------ helpers */

struct blob {
    unsigned char *p;
    size_t n;
};

static struct blob save(const rill_model *m)
{
    struct blob b;
    ck_assert_int_eq(rill_model_save(m, NULL, 0, &b.n), RILL_OK);
    b.p = malloc(b.n);
    ck_assert_ptr_nonnull(b.p);
    ck_assert_int_eq(rill_model_save(m, b.p, b.n, &b.n), RILL_OK);
    return b;
}

static int same_blob(struct blob a, struct blob b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static int all_finite(const double *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* Every weight array the model keeps and reports is finite, and so are its statistics. */
static void assert_finite_model(const rill_model *m, const char *what)
{
    size_t nw = rill_model_n_weights(m);
    double *w = tu_get_weights(m);
    ck_assert_msg(all_finite(w, nw), "%s: reported weights are not finite", what);
    ck_assert_msg(all_finite(m->w, nw), "%s: iterate is not finite", what);
    if (m->avg_count > 0.0)
        ck_assert_msg(all_finite(m->w_avg, nw), "%s: averaged weights are not finite", what);
    ck_assert_msg(isfinite(tu_get_param(m, RILL_STAT_LOSS)), "%s: RILL_STAT_LOSS is %g", what,
                  tu_get_param(m, RILL_STAT_LOSS));
    ck_assert_msg(isfinite(tu_get_param(m, RILL_STAT_PROGRESSIVE_LOSS)),
                  "%s: RILL_STAT_PROGRESSIVE_LOSS is not finite", what);
    free(w);
}

/* Predictions on ordinary rows: refused (RILL_EDATA) or finite, probabilities in [0, 1]. */
static void assert_predict_safe(const rill_model *m, int loss, const double *X, const char *what)
{
    double out[N * K], lab[N];
    size_t k = loss == RILL_SOFTMAX ? K : 1, i;
    int rc = rill_predict(m, X, N, out);
    ck_assert_msg(rc == RILL_OK || rc == RILL_EDATA, "%s: rill_predict = %d", what, rc);
    if (rc == RILL_OK) {
        ck_assert_msg(all_finite(out, N * k), "%s: rill_predict gave non-finite values", what);
        if (loss != RILL_SQUARED)
            for (i = 0; i < N * k; i++)
                ck_assert_msg(out[i] >= 0.0 && out[i] <= 1.0, "%s: probability %g", what, out[i]);
    }
    rc = rill_classify(m, X, N, lab);
    ck_assert_msg(rc == RILL_OK || rc == RILL_EDATA, "%s: rill_classify = %d", what, rc);
    if (rc == RILL_OK)
        ck_assert_msg(all_finite(lab, N), "%s: rill_classify gave non-finite labels", what);
}

/* ------------------------------------------------------------------ the case matrix */

enum extreme {
    E_FEATURES_HUGE,   /* every feature about 1e300 */
    E_FEATURE_MAX,     /* one column at +-1e308 */
    E_FEATURES_TINY,   /* every feature about 1e-300 */
    E_TARGETS_HUGE,    /* squared targets about 1e308 (labels for the others) */
    E_LR_HUGE,         /* constant schedule, learning rate 1e300 (fixed-step batch mode) */
    E_LR_HUGE_ADAGRAD, /* AdaGrad, learning rate 1e300 */
    E_L2_HUGE,         /* l2 = 1e300 */
    E_L2_TINY,         /* l2 = 5e-324 (the smallest subnormal), optimal schedule */
    E_L1_HUGE,         /* l1 = 1e300 */
    E_WEIGHTS_HUGE,    /* starting weights +-1e300: huge logits */
    E_COUNT
};

static const char *const extreme_name[E_COUNT] = {
    "features 1e300", "feature 1e308", "features 1e-300", "targets 1e308", "learning rate 1e300",
    "AdaGrad rate 1e300", "l2 1e300", "l2 5e-324", "l1 1e300", "weights 1e300"};

enum driver {
    D_FIT,         /* batch-fit (L-BFGS, or fixed-step with a constant explicit rate) */
    D_FIT_SGD,     /* rill_fit with RILL_BATCH_ROWS = 4 */
    D_STEP,        /* rill_step, 4 rows at a time */
    D_STREAM_STEP, /* STEP stream, micro-batches of 5 */
    D_STREAM_PASS, /* PASS stream, 5 replayed passes */
    D_STREAM_EXACT,
    D_GRAD_APPLY, /* rill_gradient / rill_apply_gradient loop */
    D_COUNT
};

static const char *const driver_name[D_COUNT] = {"fit",         "fit SGD",     "step",
                                                 "STEP stream", "PASS stream", "EXACT stream",
                                                 "gradient/apply"};

static const int losses[3] = {RILL_SQUARED, RILL_LOGISTIC, RILL_SOFTMAX};

static void make_data(int loss, int ex, double *X, double *y)
{
    ref_rng r;
    size_t i, j;
    ref_rng_seed(&r, 4242 + (uint64_t)ex);
    for (i = 0; i < N; i++) {
        for (j = 0; j < D; j++) {
            double v = ref_rng_normal(&r);
            if (ex == E_FEATURES_HUGE)
                v *= 1e300;
            else if (ex == E_FEATURES_TINY)
                v *= 1e-300;
            else if (ex == E_FEATURE_MAX && j == 1)
                v = v < 0 ? -1e308 : 1e308;
            X[i * D + j] = v;
        }
        if (loss == RILL_SQUARED) {
            y[i] = X[i * D] * (ex == E_FEATURES_HUGE ? 1e-300 : 1.0) + 0.1 * ref_rng_normal(&r);
            if (ex == E_TARGETS_HUGE)
                y[i] = (y[i] < 0 ? -1.0 : 1.0) * (1e308 - 1e307 * (double)(i % 5));
        } else {
            y[i] = (double)(i % (loss == RILL_LOGISTIC ? 2 : K));
        }
    }
}

static void configure(rill_model *m, int ex)
{
    switch (ex) {
    case E_LR_HUGE:
        tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
        tu_set_param(m, RILL_LEARNING_RATE, 1e300);
        break;
    case E_LR_HUGE_ADAGRAD:
        tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
        tu_set_param(m, RILL_LEARNING_RATE, 1e300);
        break;
    case E_L2_HUGE: tu_set_param(m, RILL_L2, 1e300); break;
    case E_L2_TINY:
        tu_set_param(m, RILL_L2, 5e-324);
        tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_OPTIMAL);
        break;
    case E_L1_HUGE: tu_set_param(m, RILL_L1, 1e300); break;
    case E_WEIGHTS_HUGE: {
        size_t nw = rill_model_n_weights(m), j;
        double *w = malloc(nw * sizeof *w);
        for (j = 0; j < nw; j++)
            w[j] = (j % 2 ? -1e300 : 1e300) / (double)(j + 1);
        ck_assert_int_eq(rill_model_set_weights(m, w, nw), RILL_OK);
        free(w);
        break;
    }
    default: break;
    }
    tu_set_param(m, RILL_MAX_EPOCHS, 30);
    tu_set_param(m, RILL_AVERAGE, 1); /* averaged iterates are checked too (SGD drivers) */
}

static int ok_status(int rc)
{
    return rc == RILL_OK || rc == RILL_EDATA || rc == RILL_EDIVERGED;
}

/* A single-step call: on error the model is exactly as before (fixed-step batch mode rolls back
 * to its last finite point instead, as documented). */
static void single_step_outcome(const rill_model *m, int rc, struct blob before, int rollback_ok,
                                const char *what)
{
    ck_assert_msg(ok_status(rc), "%s: status %d (%s)", what, rc, rill_strerror(rc));
    if (rc != RILL_OK && !rollback_ok) {
        struct blob after = save(m);
        ck_assert_msg(same_blob(before, after), "%s: refused with %d but the model changed", what,
                      rc);
        free(after.p);
    }
    if (rc != RILL_OK)
        ck_assert_msg(rill_model_error(m)[0] != '\0', "%s: status %d without a detail", what, rc);
}

START_TEST(test_extremes)
{
    const int loss = losses[_i / (E_COUNT * D_COUNT)];
    const int ex = (_i / D_COUNT) % E_COUNT;
    const int drv = _i % D_COUNT;
    const size_t nK = tu_classes_for(loss, K);
    const int fixed_step = ex == E_LR_HUGE;
    double X[N * D], y[N], Xn[N * D], yn[N];
    char what[160];
    rill_model *m;
    rill_stream *s = NULL;
    int rc = RILL_OK, i;
    size_t r0;

    snprintf(what, sizeof what, "%s, %s, %s", tu_loss_name(loss), extreme_name[ex],
             driver_name[drv]);
    if (drv == D_STREAM_EXACT && (loss != RILL_SQUARED || ex == E_L1_HUGE))
        return; /* EXACT takes squared loss without L1 only (misuse, tested elsewhere) */
    make_data(loss, ex, X, y);
    make_data(loss, E_COUNT, Xn, yn); /* ordinary rows for predictions */
    m = tu_new_model(loss, D, nK);
    configure(m, ex);

    switch (drv) {
    case D_FIT:
    case D_FIT_SGD:
        if (drv == D_FIT_SGD)
            tu_set_param(m, RILL_BATCH_ROWS, 4);
        rc = rill_fit(m, X, y, N);
        ck_assert_msg(ok_status(rc), "%s: rill_fit = %d (%s)", what, rc, rill_model_error(m));
        break;
    case D_STEP:
        for (r0 = 0; r0 < N && rc == RILL_OK; r0 += 4) {
            struct blob before = save(m);
            rc = rill_step(m, X + r0 * D, y + r0, 4);
            single_step_outcome(m, rc, before, 0, what);
            free(before.p);
        }
        break;
    case D_STREAM_STEP:
        ck_assert_int_eq(rill_stream_new(&s, m, 5, RILL_STREAM_STEP), RILL_OK);
        rc = rill_stream_push(s, X, y, N);
        ck_assert_msg(ok_status(rc), "%s: push = %d", what, rc);
        if (rc == RILL_OK) {
            struct blob before = save(m);
            rc = rill_stream_flush(s);
            single_step_outcome(m, rc, before, 0, what);
            free(before.p);
        }
        break;
    case D_STREAM_PASS:
        ck_assert_int_eq(rill_stream_new(&s, m, 5, RILL_STREAM_PASS), RILL_OK);
        for (i = 0; i < 5 && rc == RILL_OK; i++) {
            struct blob before = save(m);
            rc = rill_stream_push(s, X, y, N);
            ck_assert_msg(rc == RILL_OK, "%s: PASS push (sums only) = %d", what, rc);
            rc = rill_stream_flush(s);
            single_step_outcome(m, rc, before, fixed_step, what);
            free(before.p);
        }
        break;
    case D_STREAM_EXACT: {
        ck_assert_int_eq(rill_stream_new(&s, m, 5, RILL_STREAM_EXACT), RILL_OK);
        rc = rill_stream_push(s, X, y, N);
        ck_assert_msg(rc == RILL_OK, "%s: EXACT push = %d", what, rc);
        struct blob before = save(m);
        rc = rill_stream_flush(s);
        single_step_outcome(m, rc, before, 0, what);
        free(before.p);
        break;
    }
    case D_GRAD_APPLY: {
        size_t nw = rill_model_n_weights(m);
        double *g = malloc(nw * sizeof *g), l = 0.0;
        for (i = 0; i < 30 && rc == RILL_OK; i++) {
            struct blob before;
            rc = rill_gradient(m, X, y, N, g, &l);
            ck_assert_msg(rc == RILL_OK, "%s: rill_gradient = %d", what, rc);
            before = save(m);
            rc = rill_apply_gradient(m, g, l, (double)N);
            single_step_outcome(m, rc, before, fixed_step, what);
            free(before.p);
        }
        free(g);
        break;
    }
    default: break;
    }
    assert_finite_model(m, what);
    assert_predict_safe(m, loss, Xn, what);
    rill_stream_free(s);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ stable forms */

/* Logistic loss and gradient at logits far outside exp()'s range: softplus(z) - t z, exact. */
START_TEST(test_logistic_huge_logits)
{
    static const double zs[] = {-1e300, -1e10, -800.0, -40.0, 40.0, 800.0, 1e10, 1e300};
    rill_model *m = tu_new_model(RILL_LOGISTIC, 1, 2);
    size_t i;
    for (i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        double w[2] = {zs[i], 0.0}, x = 1.0, g[2], l, p, t;
        ck_assert_int_eq(rill_model_set_weights(m, w, 2), RILL_OK);
        for (t = 0.0; t <= 1.0; t += 1.0) {
            /* exact: softplus(z) - t z = max(z, 0) - t z + log1p(exp(-|z|)) */
            double expect = fmax(zs[i], 0.0) - t * zs[i] + log1p(exp(-fabs(zs[i])));
            double sig = zs[i] >= 0 ? 1.0 / (1.0 + exp(-zs[i])) : exp(zs[i]) / (1.0 + exp(zs[i]));
            ck_assert_int_eq(rill_gradient(m, &x, &t, 1, g, &l), RILL_OK);
            ck_assert_msg(isfinite(l) && fabs(l - expect) <= 1e-15 * fmax(1.0, fabs(expect)),
                          "z %g, t %g: loss %.17g, expected %.17g", zs[i], t, l, expect);
            ck_assert_msg(fabs(g[0] - (sig - t)) <= 1e-15 && g[1] == g[0],
                          "z %g, t %g: gradient %.17g", zs[i], t, g[0]);
        }
        ck_assert_int_eq(rill_predict(m, &x, 1, &p), RILL_OK);
        ck_assert_msg(p >= 0.0 && p <= 1.0 && (zs[i] < -40.0 ? p < 1e-17 : 1)
                          && (zs[i] > 40.0 ? p == 1.0 : 1),
                      "z %g: P %.17g", zs[i], p);
    }
    rill_model_free(m);
}
END_TEST

/* A well-classified row's loss, log1p(exp(-|z|)), to full relative precision whichever its
 * label: z > 0 with label 1 the same as its mirror, -z with label 0 (they once differed: the
 * first was (z + log1p(e)) - z, 2e-11 off at z = 10 and 0 from z = 37). */
START_TEST(test_logistic_small_losses_relative)
{
    static const double zs[] = {0.5, 1.0, 5.0, 10.0, 20.0, 37.0, 100.0, 700.0};
    rill_model *m = tu_new_model(RILL_LOGISTIC, 1, 2);
    size_t i;
    int side;
    for (i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        const long double want = log1pl(expl(-(long double)zs[i]));
        for (side = 0; side < 2; side++) {
            double w[2] = {side ? -zs[i] : zs[i], 0.0}, x = 1.0, t = side ? 0.0 : 1.0, g[2], l;
            ck_assert_int_eq(rill_model_set_weights(m, w, 2), RILL_OK);
            ck_assert_int_eq(rill_gradient(m, &x, &t, 1, g, &l), RILL_OK);
            ck_assert_msg(fabsl((long double)l - want) <= 4.0L * 0x1p-52L * want,
                          "z %g, label %g: loss %.17g, log1p(exp(-|z|)) %.17Lg", w[0], t, l,
                          want);
            ck_assert_int_eq(rill_step(m, &x, &t, 1), RILL_OK); /* the row kernel's loss */
            ck_assert_msg(fabsl((long double)tu_get_param(m, RILL_STAT_LOSS) - want) <=
                              4.0L * 0x1p-52L * want,
                          "z %g, label %g: rill_step's loss %.17g", w[0], t,
                          tu_get_param(m, RILL_STAT_LOSS));
        }
    }
    rill_model_free(m);
}
END_TEST

/* Softmax at scores [a, 0, -a] for a up to 1e300: loss = logsumexp - z_label in closed form,
 * probabilities finite and summing to 1. */
START_TEST(test_softmax_huge_logits)
{
    static const double as[] = {1.0, 700.0, 1000.0, 1e10, 1e300};
    rill_model *m = tu_new_model(RILL_SOFTMAX, 1, 3);
    size_t i, c;
    for (i = 0; i < sizeof as / sizeof as[0]; i++) {
        const double a = as[i];
        /* class scores a x, 0, -a x with x = 1 */
        double w[6] = {a, 0.0, 0.0, 0.0, -a, 0.0}, x = 1.0, g[6], l, p[3], lab;
        double lse = a + log1p(exp(-a) + exp(-2.0 * a));
        ck_assert_int_eq(rill_model_set_weights(m, w, 6), RILL_OK);
        for (c = 0; c < 3; c++) {
            double t = (double)c, z = c == 0 ? a : c == 1 ? 0.0 : -a;
            double expect = lse - z;
            ck_assert_int_eq(rill_gradient(m, &x, &t, 1, g, &l), RILL_OK);
            ck_assert_msg(isfinite(l) && fabs(l - expect) <= 1e-15 * fmax(1.0, fabs(expect)),
                          "a %g, label %zu: loss %.17g, expected %.17g", a, c, l, expect);
            ck_assert_msg(all_finite(g, 6), "a %g: gradient not finite", a);
            /* the gradient of the scores sums to 0 over classes */
            ck_assert_msg(fabs(g[0] + g[2] + g[4]) <= 1e-15, "a %g: gradient sum %g", a,
                          g[0] + g[2] + g[4]);
        }
        ck_assert_int_eq(rill_predict(m, &x, 1, p), RILL_OK);
        ck_assert_msg(all_finite(p, 3) && fabs(p[0] + p[1] + p[2] - 1.0) <= 1e-15,
                      "a %g: probabilities %g %g %g", a, p[0], p[1], p[2]);
        ck_assert_int_eq(rill_classify(m, &x, 1, &lab), RILL_OK);
        ck_assert_msg(lab == 0.0, "a %g: class %g", a, lab);
    }
    rill_model_free(m);
}
END_TEST

/* A score that overflows (finite weights and features whose product does not fit) is
 * refused by predict and classify: no NaN or infinite output. */
/* rill_classify's logistic labels follow rill_predict's probability, P >= 0.5 is 1, also for
 * scores just below 0 whose probability rounds to 0.5, and for every score of a sweep. */
START_TEST(test_logistic_classify_agrees_with_predict)
{
    rill_model *m = NULL;
    double x = 1.0, p, lab;
    ck_assert_int_eq(rill_model_new(&m, RILL_LOGISTIC, 1, 2), RILL_OK);
    const double scores[] = {-1e-20, -0x1p-54, -0x1p-53, -0x1p-52, -1e-300, -0.0, 0.0,
                             1e-300, 1e-20,   -1e-10,   -1.0,     1.0,      -37.0, 37.0};
    for (size_t i = 0; i < sizeof scores / sizeof scores[0]; i++) {
        const double w[2] = {0.0, scores[i]}; /* the score is the intercept */
        ck_assert_int_eq(rill_model_set_weights(m, w, 2), RILL_OK);
        ck_assert_int_eq(rill_predict(m, &x, 1, &p), RILL_OK);
        ck_assert_int_eq(rill_classify(m, &x, 1, &lab), RILL_OK);
        ck_assert_msg(lab == (p >= 0.5 ? 1.0 : 0.0),
                      "score %a: rill_predict %.17g, rill_classify %g", scores[i], p, lab);
    }
    rill_model_free(m);
}
END_TEST

START_TEST(test_predict_overflowing_score)
{
    const int loss = losses[_i];
    rill_model *m = tu_new_model(loss, 2, tu_classes_for(loss, K));
    size_t nw = rill_model_n_weights(m), j;
    double *w = malloc(nw * sizeof *w), X[2] = {1e300, -1e300}, out[K], lab;
    for (j = 0; j < nw; j++)
        w[j] = j % 3 == 2 ? 0.0 : 1e300;
    ck_assert_int_eq(rill_model_set_weights(m, w, nw), RILL_OK);
    ck_assert_int_eq(rill_predict(m, X, 1, out), RILL_EDATA);
    ck_assert_int_eq(rill_classify(m, X, 1, &lab), RILL_EDATA);
    free(w);
    rill_model_free(m);
}
END_TEST

/* AdaGrad with a huge base rate: a weight whose gradient is zero does not move (the per-weight
 * rate may overflow, the step eta0 g / (sqrt(G) + eps) may not). */
START_TEST(test_adagrad_zero_gradient_huge_rate)
{
    rill_model *m = tu_new_model(RILL_SQUARED, 2, 0);
    double X[2] = {1.0, 0.0}, y = 1.0, w[3];
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
    tu_set_param(m, RILL_LEARNING_RATE, 1e300);
    ck_assert_int_eq(rill_step(m, X, &y, 1), RILL_OK);
    tu_copy_weights(m, w);
    ck_assert_msg(w[1] == 0.0, "the zero-gradient weight moved to %g", w[1]);
    /* g = -1 on w0 and the intercept: eta0 g / (|g| + 1e-10) */
    ck_assert_msg(fabs(w[0] - 1e300 / (1.0 + 1e-10)) <= 1e-15 * 1e300, "w0 %g", w[0]);
    ck_assert_msg(w[2] == w[0], "intercept %g", w[2]);
    rill_model_free(m);
}
END_TEST

/* The automatic rate accounts for the l2 term: with a huge l2 the steps stay finite and shrink
 * the weights toward 0 instead of overshooting. */
START_TEST(test_automatic_rate_huge_l2)
{
    rill_model *m = tu_new_model(RILL_SQUARED, D, 0);
    double X[N * D], y[N], w[D + 1];
    size_t i, j;
    make_data(RILL_SQUARED, E_COUNT, X, y);
    tu_set_param(m, RILL_L2, 1e300);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
    for (i = 0; i < 5; i++)
        for (j = 0; j < N; j += 4)
            ck_assert_int_eq(rill_step(m, X + j * D, y + j, 4), RILL_OK);
    tu_copy_weights(m, w);
    for (j = 0; j < D; j++)
        ck_assert_msg(fabs(w[j]) <= 1.0, "weight %zu = %g under l2 1e300", j, w[j]);
    rill_model_free(m);
}
END_TEST

/* The gradient/apply driver with non-finite sums: at the accepted point they are
 * RILL_EDIVERGED with the model unchanged; at a trial point the line search backtracks. */
START_TEST(test_apply_non_finite_sums)
{
    rill_model *m = tu_new_model(RILL_SQUARED, D, 0);
    double X[N * D], y[N], g[D + 1], l, bad[D + 1];
    struct blob before, after;
    size_t j;
    int i;
    make_data(RILL_SQUARED, E_COUNT, X, y);
    before = save(m);
    for (j = 0; j <= D; j++)
        bad[j] = 1e308;
    ck_assert_int_eq(rill_apply_gradient(m, bad, 1.0, 1e-300), RILL_EDIVERGED); /* g overflows */
    ck_assert_int_eq(rill_apply_gradient(m, bad, INFINITY, 1.0), RILL_EDIVERGED);
    bad[1] = NAN;
    ck_assert_int_eq(rill_apply_gradient(m, bad, 1.0, 1.0), RILL_EDIVERGED);
    after = save(m);
    ck_assert_msg(same_blob(before, after), "a refused apply changed the model");
    free(after.p);
    /* accepted point, then a trial point with NaN sums: backtrack, then converge as usual */
    ck_assert_int_eq(rill_gradient(m, X, y, N, g, &l), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(m, g, l, N), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(m, bad, NAN, N), RILL_OK);
    for (i = 0; i < 200; i++) {
        ck_assert_int_eq(rill_gradient(m, X, y, N, g, &l), RILL_OK);
        ck_assert_int_eq(rill_apply_gradient(m, g, l, N), RILL_OK);
        if (tu_get_param(m, RILL_STAT_CONVERGED) == 1.0)
            break;
    }
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0, "no convergence after a NaN trial");
    assert_finite_model(m, "after a NaN trial");
    free(before.p);
    rill_model_free(m);
}
END_TEST

/* EXACT with targets near 1e308: their moments overflow; the flush is refused (RILL_EDATA),
 * the weights stay as they were. */
START_TEST(test_exact_overflowing_moments)
{
    rill_model *m = tu_new_model(RILL_SQUARED, D, 0);
    rill_stream *s;
    double X[N * D], y[N];
    struct blob before, after;
    make_data(RILL_SQUARED, E_TARGETS_HUGE, X, y);
    ck_assert_int_eq(rill_stream_new(&s, m, 8, RILL_STREAM_EXACT), RILL_OK);
    ck_assert_int_eq(rill_stream_push(s, X, y, N), RILL_OK);
    before = save(m);
    ck_assert_int_eq(rill_stream_flush(s), RILL_EDATA);
    after = save(m);
    ck_assert_msg(same_blob(before, after), "a refused EXACT flush changed the model");
    assert_finite_model(m, "EXACT, targets 1e308");
    free(before.p);
    free(after.p);
    rill_stream_free(s);
    rill_model_free(m);
}
END_TEST

/* Averaged SGD whose iterates swing between -1.7e308 and +1.7e308: the difference of an
 * iterate and the average overflows though every weight and the mean are finite. The average
 * stays finite, predictions work and the model's own file loads. */
START_TEST(test_average_of_huge_iterates)
{
    rill_model *m = NULL, *back = NULL;
    double w0[2] = {-1.7e308, 0.0}, x0 = 0.0, y0 = 0.0, x1 = 1.3e154, y1 = 1.3e154, w[2], out;
    double xp = 1.0;
    size_t size;
    unsigned char *buf;
    ck_assert_int_eq(rill_model_new(&m, RILL_SQUARED, 1, 0), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_FIT_INTERCEPT, 0), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_LEARNING_RATE, 1.0), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_AVERAGE, 1), RILL_OK);
    ck_assert_int_eq(rill_model_set_weights(m, w0, 2), RILL_OK);
    ck_assert_int_eq(rill_step(m, &x0, &y0, 1), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_L2, 1.0), RILL_OK);
    ck_assert_int_eq(rill_step(m, &x0, &y0, 1), RILL_OK);
    int rc = rill_step(m, &x1, &y1, 1);
    ck_assert_msg(rc == RILL_OK || rc == RILL_EDIVERGED, "step = %d", rc);
    ck_assert_int_eq(rill_model_weights(m, w, 2), RILL_OK);
    ck_assert_msg(isfinite(w[0]) && isfinite(w[1]), "averaged weights %g %g", w[0], w[1]);
    ck_assert_int_eq(rill_predict(m, &xp, 1, &out), RILL_OK);
    ck_assert(isfinite(out));
    ck_assert_int_eq(rill_model_save(m, NULL, 0, &size), RILL_OK);
    buf = malloc(size);
    ck_assert_int_eq(rill_model_save(m, buf, size, &size), RILL_OK);
    ck_assert_int_eq(rill_model_load(&back, buf, size), RILL_OK);
    free(buf);
    rill_model_free(back);
    rill_model_free(m);
}
END_TEST

static Suite *numeric_suite(void)
{
    Suite *s = suite_create("numeric");
    TCase *tc = tcase_create("extremes");
    tcase_add_loop_test(tc, test_extremes, 0, 3 * E_COUNT * D_COUNT);
    suite_add_tcase(s, tc);
    tc = tcase_create("stable");
    tcase_add_test(tc, test_logistic_huge_logits);
    tcase_add_test(tc, test_logistic_small_losses_relative);
    tcase_add_test(tc, test_softmax_huge_logits);
    tcase_add_loop_test(tc, test_predict_overflowing_score, 0, 3);
    tcase_add_test(tc, test_logistic_classify_agrees_with_predict);
    tcase_add_test(tc, test_adagrad_zero_gradient_huge_rate);
    tcase_add_test(tc, test_automatic_rate_huge_l2);
    tcase_add_test(tc, test_apply_non_finite_sums);
    tcase_add_test(tc, test_exact_overflowing_moments);
    tcase_add_test(tc, test_average_of_huge_iterates);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(numeric_suite)
