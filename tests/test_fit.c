/*
 * rill_fit (batch-fit) against independent optima: closed-form ridge, Newton's method,
 * proximal gradient; fixed-step mode against textbook gradient descent; warm starts; the
 * convergence flag and criterion; L1; and "one optimizer, three drivers" (rill_fit, a manual
 * rill_gradient + rill_apply_gradient loop, a PASS stream) bit for bit.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rill.h"
#include "ref.h"
#include "tmain.h"
#include "tutil.h"

static double inf_norm(const double *v, size_t n)
{
    return ref_max_abs(v, n);
}

/* ||projected gradient||_inf of the full objective at W. */
/* The reference's projected gradient at W (malloc'ed, n_weights entries). */
static double *pg_at(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                     const double *W, double l2, double l1)
{
    size_t nw = ref_n_weights(loss, d, K);
    double *g = malloc(nw * sizeof *g), *pg = malloc(nw * sizeof *pg);
    ref_gradient(loss, X, y, n, d, K, W, l2, g);
    ref_projected_gradient(d, ref_n_outputs(loss, K), W, g, l1, pg);
    free(g);
    return pg;
}

static double pg_norm(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                      const double *W, double l2, double l1)
{
    double *pg = pg_at(loss, X, y, n, d, K, W, l2, l1), r;
    r = inf_norm(pg, ref_n_weights(loss, d, K));
    free(pg);
    return r;
}

/* The largest |pg_j| / (tol max(1, |pg0_j|)) over the weights: rill.h's stopping test holds
 * when it is at most 1 (slack for the rounding of the two gradients). */
static double criterion_ratio(const double *pg, const double *pg0, size_t nw, double tol)
{
    double r = 0.0;
    for (size_t j = 0; j < nw; j++)
        r = fmax(r, fabs(pg[j]) / (tol * fmax(1.0, fabs(pg0[j]))));
    return r;
}

/* Fits with default parameters (plus l2) from zero and holds the objective to f_ref. */
static void fit_to_optimum_epochs(const char *what, int loss, const double *X, const double *y,
                                  size_t n, size_t d, size_t K, double l2, long double f_ref,
                                  double max_epochs)
{
    rill_model *m = tu_new_model(loss, d, K);
    double *w, epochs, conv, rel;
    long double f;
    int rc;

    tu_set_param(m, RILL_L2, l2);
    if (max_epochs > 0)
        tu_set_param(m, RILL_MAX_EPOCHS, max_epochs);
    rc = rill_fit(m, X, y, n);
    ck_assert_msg(rc == RILL_OK, "%s: rill_fit = %d (%s): %s", what, rc, rill_strerror(rc),
                  rill_model_error(m));
    w = tu_get_weights(m);
    ck_assert_msg(ref_all_finite(w, rill_model_n_weights(m)), "%s: non-finite weights", what);
    f = ref_objective_l(loss, X, y, n, d, K, w, l2, 0.0);
    rel = (double)((f - f_ref) / fabsl(f_ref));
    epochs = tu_get_param(m, RILL_STAT_EPOCHS);
    conv = tu_get_param(m, RILL_STAT_CONVERGED);
    printf("%s: epochs %.0f, converged %.0f, objective %.17Lg, reference %.17Lg, "
           "suboptimality %.3g (relative)\n",
           what, epochs, conv, f, f_ref, rel);
    ck_assert_msg(rel <= 1e-6,
                  "%s: objective %.17Lg is %.3g above the reference optimum %.17Lg (relative; "
                  "allowed 1e-6) after %.0f epochs, converged=%.0f",
                  what, f, rel, f_ref, epochs, conv);
    /* sanity of the reference: the library cannot beat the optimum beyond rounding */
    ck_assert_msg(rel >= -1e-12, "%s: library objective %.17Lg below the reference optimum %.17Lg",
                  what, f, f_ref);
    ck_assert_msg(epochs >= 1 && epochs <= (max_epochs > 0 ? max_epochs : 1000),
                  "%s: RILL_STAT_EPOCHS = %g", what, epochs);
    {
        double le = tu_get_param(m, RILL_STAT_LOSS);
        ck_assert_msg(fabs(le - (double)f) <= 1e-9 * fabs((double)f),
                      "%s: RILL_STAT_LOSS %.17g is not the objective at the weights %.17Lg", what, le,
                      f);
    }
    free(w);
    rill_model_free(m);
}

/* Default parameters (plus l2). */
static void fit_to_optimum(const char *what, int loss, const double *X, const double *y, size_t n,
                           size_t d, size_t K, double l2, long double f_ref)
{
    fit_to_optimum_epochs(what, loss, X, y, n, d, K, l2, f_ref, 0);
}

/* Newton reference with the checks that it really is the optimum. */
static long double newton_ref(const char *what, int loss, const double *X, const double *y,
                              size_t n, size_t d, size_t K, double l2, double *W)
{
    size_t nw = ref_n_weights(loss, d, K);
    long double f;
    double grel, *g = malloc(nw * sizeof *g), g0, gn;
    int it;
    memset(W, 0, nw * sizeof *W);
    ref_gradient(loss, X, y, n, d, K, W, l2, g);
    g0 = inf_norm(g, nw);
    it = ref_newton(loss, X, y, n, d, K, l2, W, &f, &grel);
    ck_assert_msg(it >= 0 && grel <= 1e-12, "%s: reference Newton did not converge (it %d, rel %g)",
                  what, it, grel);
    /* the gradient at the (double-rounded) answer, recomputed independently */
    ref_gradient(loss, X, y, n, d, K, W, l2, g);
    gn = inf_norm(g, nw);
    ck_assert_msg(gn <= 1e-10 * (g0 > 1 ? g0 : 1),
                  "%s: reference gradient at its answer %g (g0 %g)", what, gn, g0);
    printf("%s: reference Newton %d iterations, |g|/max(1,|g0|) = %.3g\n", what, it,
           gn / (g0 > 1 ? g0 : 1));
    free(g);
    return f;
}

/* ------------------------------------------------------------------ optimum on raw data */

START_TEST(test_fit_squared_diabetes_raw)
{
    ref_data D;
    double W[11], Wn[11], g[11];
    long double f_ridge, f_newton;
    const double l2 = 1e-3;
    ref_load("diabetes.csv", &D);
    ck_assert_msg(D.n == 442 && D.d == 10, "diabetes.csv: %zu x %zu", D.n, D.d);
    ck_assert_msg(ref_ridge(D.X, D.y, D.n, D.d, l2, W) == 0, "reference ridge failed");
    ref_gradient(RILL_SQUARED, D.X, D.y, D.n, D.d, 0, W, l2, g);
    ck_assert_msg(inf_norm(g, 11) <= 1e-8, "reference ridge: gradient %g at its answer",
                  inf_norm(g, 11));
    f_ridge = ref_objective_l(RILL_SQUARED, D.X, D.y, D.n, D.d, 0, W, l2, 0.0);
    /* two independent references agree */
    f_newton = newton_ref("squared/diabetes", RILL_SQUARED, D.X, D.y, D.n, D.d, 0, l2, Wn);
    ck_assert_msg(fabsl(f_newton - f_ridge) <= 1e-14L * fabsl(f_ridge),
                  "references disagree: ridge %.17Lg, Newton %.17Lg", f_ridge, f_newton);
    fit_to_optimum("squared/diabetes raw, l2=1e-3", RILL_SQUARED, D.X, D.y, D.n, D.d, 0, l2,
                   f_ridge);
    ref_data_free(&D);
}
END_TEST

START_TEST(test_fit_logistic_diabetes_raw)
{
    ref_data D;
    double W[11];
    long double f;
    ref_load("diabetes.csv", &D);
    ref_threshold_labels(D.y, D.n, 140.0);
    f = newton_ref("logistic/diabetes", RILL_LOGISTIC, D.X, D.y, D.n, D.d, 2, 1e-3, W);
    fit_to_optimum("logistic/diabetes raw (progression > 140), l2=1e-3", RILL_LOGISTIC, D.X, D.y,
                   D.n, D.d, 2, 1e-3, f);
    ref_data_free(&D);
}
END_TEST

START_TEST(test_fit_softmax_iris_raw)
{
    ref_data D;
    double W[15];
    long double f;
    ref_load("iris.csv", &D);
    ck_assert_msg(D.n == 150 && D.d == 4, "iris.csv: %zu x %zu", D.n, D.d);
    f = newton_ref("softmax/iris", RILL_SOFTMAX, D.X, D.y, D.n, D.d, 3, 1e-3, W);
    fit_to_optimum("softmax/iris raw, l2=1e-3", RILL_SOFTMAX, D.X, D.y, D.n, D.d, 3, 1e-3, f);
    ref_data_free(&D);
}
END_TEST

START_TEST(test_fit_softmax_digits_raw)
{
    ref_data D;
    double *W;
    long double f;
    ref_load("digits.csv", &D);
    ck_assert_msg(D.n == 1797 && D.d == 64, "digits.csv: %zu x %zu", D.n, D.d);
    if (tu_light()) { /* under valgrind: 400 rows, every 4th pixel (same assertions) */
        size_t i, j;
        for (i = 0; i < 400; i++)
            for (j = 0; j < 16; j++)
                D.X[i * 16 + j] = D.X[i * 64 + 4 * j + 1];
        D.n = 400;
        D.d = 16;
    }
    W = malloc(650 * sizeof *W);
    f = newton_ref(tu_light() ? "softmax/digits (light)" : "softmax/digits", RILL_SOFTMAX, D.X,
                   D.y, D.n, D.d, 10, 1e-2, W);
    /* 650 weights on raw pixels: plain L-BFGS needs about 2000 epochs here (so does
     * scipy's L-BFGS-B), more than the default RILL_MAX_EPOCHS. */
    fit_to_optimum_epochs(tu_light() ? "softmax/digits light, l2=1e-2"
                                     : "softmax/digits raw, l2=1e-2",
                          RILL_SOFTMAX, D.X, D.y, D.n, D.d, 10, 1e-2, f, 5000);
    free(W);
    ref_data_free(&D);
}
END_TEST

/* ------------------------------------------------------------------ fixed-step mode */

/* k textbook (proximal) gradient steps from zero, computed here. */
static void textbook_gd(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                        double eta, double l2, double l1, int k, double *W)
{
    size_t nw = ref_n_weights(loss, d, K), j;
    double *g = malloc(nw * sizeof *g);
    int s;
    memset(W, 0, nw * sizeof *W);
    for (s = 0; s < k; s++) {
        ref_gradient(loss, X, y, n, d, K, W, l2, g); /* mean grad + l2 w, intercept unpenalized */
        for (j = 0; j < nw; j++) {
            double v = W[j] - eta * g[j];
            if (l1 > 0 && !ref_is_intercept(d, j)) {
                double th = eta * l1;
                v = v > th ? v - th : v < -th ? v + th : 0.0;
            }
            W[j] = v;
        }
    }
    free(g);
}

static void check_fixed_step(const char *what, int loss, const double *X, const double *y,
                             size_t n, size_t d, size_t K, double eta, double l2, double l1, int k)
{
    size_t nw = ref_n_weights(loss, d, K);
    double *Wt = malloc(nw * sizeof *Wt), *w, e;
    rill_model *m = tu_new_model(loss, d, K);
    int rc;
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
    tu_set_param(m, RILL_LEARNING_RATE, eta);
    tu_set_param(m, RILL_MAX_EPOCHS, k);
    tu_set_param(m, RILL_TOL, 0.0);
    tu_set_param(m, RILL_L2, l2);
    tu_set_param(m, RILL_L1, l1);
    rc = rill_fit(m, X, y, n);
    ck_assert_msg(rc == RILL_OK, "%s: rill_fit = %d: %s", what, rc, rill_model_error(m));
    ck_assert_msg(tu_get_param(m, RILL_STAT_EPOCHS) == k, "%s: %g epochs, expected %d", what,
                  tu_get_param(m, RILL_STAT_EPOCHS), k);
    w = tu_get_weights(m);
    textbook_gd(loss, X, y, n, d, K, eta, l2, l1, k, Wt);
    e = ref_max_rel_diff(w, Wt, nw, 1e-300);
    printf("%s: %d fixed steps of %g: max rel diff to textbook GD %.3g\n", what, k, eta, e);
    ck_assert_msg(e <= 1e-12,
                  "%s: after %d fixed steps of eta=%g the weights differ from textbook gradient "
                  "descent by %g (relative, inf-norm); e.g. w[0] = %.17g vs %.17g",
                  what, k, eta, e, w[0], Wt[0]);
    /* and k - 1 or k + 1 textbook steps would not match: the test can tell steps apart */
    textbook_gd(loss, X, y, n, d, K, eta, l2, l1, k - 1, Wt);
    ck_assert_msg(ref_max_rel_diff(w, Wt, nw, 1e-300) > 1e-9, "%s: test cannot distinguish steps",
                  what);
    free(w);
    free(Wt);
    rill_model_free(m);
}

START_TEST(test_fixed_step_is_gradient_descent)
{
    ref_data D;
    double *yl, msq = 0.0, eta;
    size_t i, j;
    ref_rng r;
    double *X, *y;

    ref_load("diabetes.csv", &D);
    for (i = 0; i < D.n; i++) {
        double s = 1.0;
        for (j = 0; j < D.d; j++)
            s += D.X[i * D.d + j] * D.X[i * D.d + j];
        msq += s;
    }
    msq /= (double)D.n;
    eta = 1.0 / msq; /* <= 1/L: a stable step on raw data */
    check_fixed_step("squared/diabetes raw", RILL_SQUARED, D.X, D.y, D.n, D.d, 0, eta, 1e-3, 0.0,
                     25);
    yl = malloc(D.n * sizeof *yl);
    memcpy(yl, D.y, D.n * sizeof *yl);
    ref_threshold_labels(yl, D.n, 140.0);
    check_fixed_step("logistic/diabetes raw", RILL_LOGISTIC, D.X, yl, D.n, D.d, 2, 4.0 * eta, 1e-2,
                     0.0, 30);
    free(yl);
    ref_data_free(&D);

    /* proximal steps: L1 and L2 together, softmax and squared on random data */
    ref_rng_seed(&r, 99);
    ref_random_problem(&r, RILL_SOFTMAX, 120, 6, 4, 1.0, &X, &y);
    check_fixed_step("softmax/random l2+l1", RILL_SOFTMAX, X, y, 120, 6, 4, 0.3, 1e-2, 2e-2, 40);
    free(X);
    free(y);
    ref_random_problem(&r, RILL_SQUARED, 90, 5, 0, 1.0, &X, &y);
    check_fixed_step("squared/random l2+l1", RILL_SQUARED, X, y, 90, 5, 0, 0.1, 1e-3, 0.1, 35);
    free(X);
    free(y);
}
END_TEST

/* ------------------------------------------------------------------ warm start, convergence */

START_TEST(test_warm_start)
{
    const size_t n = 200, d = 5;
    ref_rng r;
    double *X, *y, *w1, *w2, g[6], e1, e2;
    rill_model *m;
    int rc;

    ref_rng_seed(&r, 5);
    ref_random_problem(&r, RILL_LOGISTIC, n, d, 2, 0.3, &X, &y);
    /* precondition: ||g0||_inf <= 1, so both fits' tolerance is the absolute RILL_TOL */
    memset(g, 0, sizeof g);
    {
        double z[6] = {0};
        ref_gradient(RILL_LOGISTIC, X, y, n, d, 2, z, 1e-3, g);
        ck_assert_msg(inf_norm(g, 6) <= 1.0, "test setup: |g0| = %g", inf_norm(g, 6));
    }
    m = tu_new_model(RILL_LOGISTIC, d, 2);
    tu_set_param(m, RILL_L2, 1e-3);
    rc = rill_fit(m, X, y, n);
    ck_assert_msg(rc == RILL_OK, "first fit = %d: %s", rc, rill_model_error(m));
    e1 = tu_get_param(m, RILL_STAT_EPOCHS);
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0, "first fit did not converge (%g epochs)",
                  e1);
    w1 = tu_get_weights(m);
    rc = rill_fit(m, X, y, n);
    ck_assert_msg(rc == RILL_OK, "second fit = %d: %s", rc, rill_model_error(m));
    e2 = tu_get_param(m, RILL_STAT_EPOCHS);
    w2 = tu_get_weights(m);
    printf("warm start: first fit %g epochs, second fit %g epochs\n", e1, e2);
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0, "second fit: not converged");
    ck_assert_msg(e2 <= 2, "second fit started at a converged point but used %g epochs (first %g)",
                  e2, e1);
    ck_assert_msg(e1 > e2, "the first fit (%g epochs) should need more than the warm one (%g)", e1,
                  e2);
    ck_assert_msg(ref_max_rel_diff(w2, w1, d + 1, 1e-300) <= 1e-6,
                  "the warm fit moved the converged weights by %g", ref_max_rel_diff(w2, w1, d + 1,
                                                                                     1e-300));
    free(w1);
    free(w2);
    free(X);
    free(y);
    rill_model_free(m);
}
END_TEST

START_TEST(test_warm_start_raw)
{
    /* on raw data the second call's tolerance is tighter (g0 is now small): it may take some
     * epochs, but far fewer than from zero, and it must not get worse */
    ref_data D;
    rill_model *m;
    double *w1, *w2, e1, e2;
    long double f1, f2;
    ref_load("diabetes.csv", &D);
    ref_threshold_labels(D.y, D.n, 140.0);
    m = tu_new_model(RILL_LOGISTIC, D.d, 2);
    tu_set_param(m, RILL_L2, 1e-3);
    ck_assert_int_eq(rill_fit(m, D.X, D.y, D.n), RILL_OK);
    e1 = tu_get_param(m, RILL_STAT_EPOCHS);
    w1 = tu_get_weights(m);
    ck_assert_int_eq(rill_fit(m, D.X, D.y, D.n), RILL_OK);
    e2 = tu_get_param(m, RILL_STAT_EPOCHS);
    w2 = tu_get_weights(m);
    f1 = ref_objective_l(RILL_LOGISTIC, D.X, D.y, D.n, D.d, 2, w1, 1e-3, 0);
    f2 = ref_objective_l(RILL_LOGISTIC, D.X, D.y, D.n, D.d, 2, w2, 1e-3, 0);
    printf("warm start raw diabetes: %g epochs then %g epochs; objective %.17Lg -> %.17Lg\n", e1,
           e2, f1, f2);
    ck_assert_msg(f2 <= f1 + 1e-15L * fabsl(f1), "warm fit raised the objective");
    ck_assert_msg(e2 < e1, "warm fit used %g epochs, cold %g", e2, e1);
    free(w1);
    free(w2);
    rill_model_free(m);
    ref_data_free(&D);
}
END_TEST

START_TEST(test_converged_flag_and_criterion)
{
    ref_data D;
    rill_model *m;
    double *w0, *w, *pg0, *pg, ratio, tol = 1e-8;
    size_t nw;
    int rc;
    ref_load("diabetes.csv", &D);
    ref_threshold_labels(D.y, D.n, 140.0);
    m = tu_new_model(RILL_LOGISTIC, D.d, 2);
    tu_set_param(m, RILL_L2, 1e-3);
    ck_assert_msg(tu_get_param(m, RILL_TOL) == 1e-8, "default RILL_TOL %g", tu_get_param(m, RILL_TOL));
    ck_assert_msg(tu_get_param(m, RILL_MAX_EPOCHS) == 1000, "default RILL_MAX_EPOCHS %g",
                  tu_get_param(m, RILL_MAX_EPOCHS));
    /* out of epochs: RILL_OK, not converged, exactly the budget used */
    tu_set_param(m, RILL_MAX_EPOCHS, 3);
    rc = rill_fit(m, D.X, D.y, D.n);
    ck_assert_msg(rc == RILL_OK, "fit with 3 epochs = %d", rc);
    ck_assert_msg(tu_get_param(m, RILL_STAT_EPOCHS) == 3, "epochs %g, expected 3",
                  tu_get_param(m, RILL_STAT_EPOCHS));
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 0.0,
                  "RILL_STAT_CONVERGED = 1 after 3 epochs on raw data");
    /* then to convergence, warm-started from here: the documented criterion holds, weight by
     * weight against the gradient at the call's first evaluation */
    nw = rill_model_n_weights(m);
    w0 = tu_get_weights(m);
    pg0 = pg_at(RILL_LOGISTIC, D.X, D.y, D.n, D.d, 2, w0, 1e-3, 0);
    tu_set_param(m, RILL_MAX_EPOCHS, 1000);
    rc = rill_fit(m, D.X, D.y, D.n);
    ck_assert_msg(rc == RILL_OK, "fit = %d", rc);
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0, "not converged in %g epochs",
                  tu_get_param(m, RILL_STAT_EPOCHS));
    w = tu_get_weights(m);
    pg = pg_at(RILL_LOGISTIC, D.X, D.y, D.n, D.d, 2, w, 1e-3, 0);
    ratio = criterion_ratio(pg, pg0, nw, tol);
    printf("criterion: max_j |pg_j| / (tol max(1, |pg0_j|)) = %.3g\n", ratio);
    ck_assert_msg(ratio <= 1.01, "RILL_STAT_CONVERGED = 1 but a weight's |pg_j| is %g times "
                  "tol * max(1, |pg0_j|)", ratio);
    /* a tighter tol still converges and is then met too */
    tu_set_param(m, RILL_TOL, 1e-11);
    free(pg0);
    pg0 = pg;
    rc = rill_fit(m, D.X, D.y, D.n);
    ck_assert_msg(rc == RILL_OK, "fit tol 1e-11 = %d", rc);
    free(w);
    w = tu_get_weights(m);
    pg = pg_at(RILL_LOGISTIC, D.X, D.y, D.n, D.d, 2, w, 1e-3, 0);
    ratio = criterion_ratio(pg, pg0, nw, 1e-11);
    if (tu_get_param(m, RILL_STAT_CONVERGED) == 1.0)
        ck_assert_msg(ratio <= 1.01 + 1e-4, "tol 1e-11: converged flag with a ratio of %g", ratio);
    free(pg0);
    free(pg);
    free(w0);
    free(w);
    rill_model_free(m);
    ref_data_free(&D);
}
END_TEST

/* ------------------------------------------------------------------ L1 */

static void check_l1(const char *what, int loss, size_t n, size_t d, size_t K, double l2, double l1,
                     uint64_t seed)
{
    ref_rng r;
    double *X, *y, *Wr, *w, *g, *pg, *w0, f_rel, kkt, kkt0;
    size_t nw = ref_n_weights(loss, d, K), nout = ref_n_outputs(loss, K), j, sure_zero = 0,
           nonzero = 0;
    long iters;
    long double fr, fl;
    rill_model *m;
    int rc;

    ref_rng_seed(&r, seed);
    ref_random_problem(&r, loss, n, d, K, 1.0, &X, &y);
    /* the upper half of the features: fresh noise, unrelated to y (zeros at the optimum) */
    for (j = 0; j < n * d; j++)
        if (j % d >= d / 2)
            X[j] = ref_rng_normal(&r);
    ref_standardize(X, n, d);
    /* reference optimum: proximal gradient to a gradient-mapping norm of 1e-13 */
    Wr = calloc(nw, sizeof *Wr);
    iters = ref_prox_grad(loss, X, y, n, d, K, l2, l1, 1e-13, 2000000, Wr);
    ck_assert_msg(iters > 0, "%s: reference proximal gradient did not converge", what);
    fr = ref_objective_l(loss, X, y, n, d, K, Wr, l2, l1);

    m = tu_new_model(loss, d, K);
    tu_set_param(m, RILL_L2, l2);
    tu_set_param(m, RILL_L1, l1);
    w0 = calloc(nw, sizeof *w0);
    kkt0 = pg_norm(loss, X, y, n, d, K, w0, l2, l1);
    rc = rill_fit(m, X, y, n);
    ck_assert_msg(rc == RILL_OK, "%s: rill_fit = %d: %s", what, rc, rill_model_error(m));
    w = tu_get_weights(m);
    fl = ref_objective_l(loss, X, y, n, d, K, w, l2, l1);
    f_rel = (double)((fl - fr) / fabsl(fr));

    g = malloc(nw * sizeof *g);
    pg = malloc(nw * sizeof *pg);
    ref_gradient(loss, X, y, n, d, K, Wr, l2, g);
    for (j = 0; j < nw; j++) {
        if (ref_is_intercept(d, j))
            continue;
        /* strictly inside the zero region at the optimum: the library must give an exact 0 */
        if (Wr[j] == 0.0 && fabs(g[j]) < 0.9 * l1) {
            sure_zero++;
            ck_assert_msg(w[j] == 0.0, "%s: weight %zu is %.3g, the optimum has an exact 0 there "
                                       "(|g| = %.3g < l1 = %g)",
                          what, j, w[j], fabs(g[j]), l1);
        }
        if (Wr[j] != 0.0)
            nonzero++;
    }
    ck_assert_msg(sure_zero >= 1 && nonzero >= 1,
                  "%s: test setup: %zu clear zeros, %zu non-zeros in the reference", what,
                  sure_zero, nonzero);

    /* optimality conditions at the library's answer (its documented criterion) */
    kkt = pg_norm(loss, X, y, n, d, K, w, l2, l1);
    printf("%s: %g epochs, converged %g, objective rel diff %.3g, |min-norm subgradient| %.3g "
           "(start %.3g), %zu forced zeros, prox-grad reference %ld iterations\n",
           what, tu_get_param(m, RILL_STAT_EPOCHS), tu_get_param(m, RILL_STAT_CONVERGED), f_rel, kkt,
           kkt0, sure_zero, iters);
    ck_assert_msg(f_rel <= 1e-6, "%s: objective %.17Lg vs reference %.17Lg (rel %g)", what, fl, fr,
                  f_rel);
    ck_assert_msg(f_rel >= -1e-12, "%s: library below the reference optimum (rel %g)", what, f_rel);
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0, "%s: not converged", what);
    ck_assert_msg(kkt <= 1.5e-8 * (kkt0 > 1 ? kkt0 : 1),
                  "%s: subgradient optimality violated: |pg|_inf = %g", what, kkt);
    (void)nout;
    free(X);
    free(y);
    free(Wr);
    free(w);
    free(w0);
    free(g);
    free(pg);
    rill_model_free(m);
}

/* OWL-QN on raw, badly scaled features: reaches the subgradient optimality condition (checked
 * with the reference gradient) in a few hundred epochs, stopping on RILL_TOL or at the rounding
 * floor (RILL_STAT_STALLED), not by running out of epochs. */
static void check_l1_raw(const char *what, int loss, const double *X, const double *y, size_t n,
                         size_t d, size_t K, double l1)
{
    const double l2 = 1e-3, cap = 3000;
    rill_model *m = tu_new_model(loss, d, K);
    size_t nw = rill_model_n_weights(m), n_out = nw / (d + 1), j, zeros = 0;
    double *w, *g = malloc(nw * sizeof *g), *pg = malloc(nw * sizeof *pg),
               *w0 = calloc(nw, sizeof *w0);
    tu_set_param(m, RILL_L2, l2);
    tu_set_param(m, RILL_L1, l1);
    tu_set_param(m, RILL_MAX_EPOCHS, cap);
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_OK);
    w = tu_get_weights(m);
    ref_gradient(loss, X, y, n, d, K, w0, l2, g);
    ref_projected_gradient(d, n_out, w0, g, l1, pg);
    double pg0 = inf_norm(pg, nw);
    ref_gradient(loss, X, y, n, d, K, w, l2, g);
    ref_projected_gradient(d, n_out, w, g, l1, pg);
    double kkt = inf_norm(pg, nw) / fmax(1.0, pg0), epochs = tu_get_param(m, RILL_STAT_EPOCHS);
    for (j = 0; j < nw; j++)
        zeros += !ref_is_intercept(d, j) && w[j] == 0.0;
    printf("%s: l1 %g: %g epochs, converged %g, stalled %g, |min-norm subgradient| / |at 0| "
           "%.3g, %zu zero weights\n",
           what, l1, epochs, tu_get_param(m, RILL_STAT_CONVERGED),
           tu_get_param(m, RILL_STAT_STALLED), kkt, zeros);
    ck_assert_msg(epochs < cap, "%s: l1 %g: used all %g epochs", what, l1, cap);
    ck_assert_msg(kkt <= 1e-6, "%s: l1 %g: subgradient optimality %g", what, l1, kkt);
    free(w);
    free(w0);
    free(g);
    free(pg);
    rill_model_free(m);
}

START_TEST(test_l1_raw_features)
{
    ref_data D;
    double *yl;
    static const double l1s[] = {1e-3, 0.1, 1.0};
    size_t i;
    ref_load("diabetes.csv", &D);
    yl = malloc(D.n * sizeof *yl);
    memcpy(yl, D.y, D.n * sizeof *yl);
    ref_threshold_labels(yl, D.n, 140.0);
    for (i = 0; i < 3; i++) {
        check_l1_raw("squared/diabetes raw", RILL_SQUARED, D.X, D.y, D.n, D.d, 0, l1s[i]);
        check_l1_raw("logistic/diabetes raw", RILL_LOGISTIC, D.X, yl, D.n, D.d, 2, l1s[i]);
    }
    free(yl);
    ref_data_free(&D);
    ref_load("iris.csv", &D);
    for (i = 0; i < 3; i++)
        check_l1_raw("softmax/iris raw", RILL_SOFTMAX, D.X, D.y, D.n, D.d, 3, l1s[i]);
    ref_data_free(&D);
}
END_TEST

START_TEST(test_l1_exact_zeros_and_optimum)
{
    check_l1("L1 squared", RILL_SQUARED, 150, 8, 0, 1e-3, 0.3, 11);
    check_l1("L1 logistic", RILL_LOGISTIC, 200, 8, 2, 1e-3, 0.08, 12);
    check_l1("L1 softmax", RILL_SOFTMAX, 200, 6, 3, 1e-3, 0.08, 13);
}
END_TEST

/* ------------------------------------------------------------------ three drivers */

/* The driver/worker protocol of a distributed job: the driver keeps the optimizer and sends its
 * evaluation point (rill_model_eval_point); a worker with fresh optimizer memory takes it as its
 * weights and computes the sums; the driver applies them. Same steps as rill_fit (fit). */
static void check_driver_worker(const char *what, const rill_model *fit, const double *w_fit,
                                double fit_epochs, const double *X, const double *y, size_t n,
                                size_t d, size_t K, double l2, double l1, int epochs)
{
    int loss = (int)tu_get_param(fit, RILL_MODEL_LOSS), rc, it, used = 0;
    rill_model *drv = tu_new_model(loss, d, K), *wrk = tu_new_model(loss, d, K);
    size_t nw = rill_model_n_weights(drv);
    double *g = malloc(nw * sizeof *g), *point = malloc(nw * sizeof *point), lsum, *w;

    tu_set_param(drv, RILL_L2, l2);
    tu_set_param(drv, RILL_L1, l1);
    for (it = 0; it < epochs; it++) {
        rc = rill_model_eval_point(drv, point, nw);
        ck_assert_int_eq(rc, RILL_OK);
        rc = rill_model_set_weights(wrk, point, nw);
        ck_assert_msg(rc == RILL_OK, "%s: worker set_weights = %d", what, rc);
        rc = rill_gradient(wrk, X, y, n, g, &lsum);
        ck_assert_msg(rc == RILL_OK, "%s: worker rill_gradient = %d", what, rc);
        rc = rill_apply_gradient(drv, g, lsum, (double)n);
        ck_assert_msg(rc == RILL_OK, "%s: driver apply (epoch %d) = %d: %s", what, it + 1, rc,
                      rill_model_error(drv));
        used++;
        if (tu_get_param(drv, RILL_STAT_CONVERGED) == 1.0 ||
            tu_get_param(drv, RILL_STAT_STALLED) == 1.0)
            break;
    }
    w = tu_get_weights(drv);
    ck_assert_msg(used == fit_epochs, "%s: driver/worker used %d epochs, rill_fit %g", what, used,
                  fit_epochs);
    ck_assert_msg(memcmp(w, w_fit, nw * sizeof *w) == 0,
                  "%s: driver/worker loop not bit-identical to rill_fit (max rel diff %g)", what,
                  ref_max_rel_diff(w, w_fit, nw, 1e-300));
    ck_assert(tu_get_param(drv, RILL_STAT_CONVERGED) == tu_get_param(fit, RILL_STAT_CONVERGED));
    ck_assert(tu_get_param(drv, RILL_STAT_STALLED) == tu_get_param(fit, RILL_STAT_STALLED));
    free(g);
    free(point);
    free(w);
    rill_model_free(drv);
    rill_model_free(wrk);
}

static void check_drivers(const char *what, int loss, const double *X, const double *y, size_t n,
                          size_t d, size_t K, double l2, double l1, int epochs)
{
    rill_model *a = tu_new_model(loss, d, K), *b = tu_new_model(loss, d, K), *c = tu_new_model(loss, d, K);
    size_t nw = rill_model_n_weights(a);
    double *g = malloc(nw * sizeof *g), lsum, *wa, *wb, *wc, ea;
    int rc, it, manual_epochs = 0, pass_epochs = 0;
    rill_stream *s = NULL;

    tu_set_param(a, RILL_L2, l2);
    tu_set_param(a, RILL_L1, l1);
    tu_set_param(a, RILL_MAX_EPOCHS, epochs);
    tu_set_param(b, RILL_L2, l2);
    tu_set_param(b, RILL_L1, l1);
    tu_set_param(c, RILL_L2, l2);
    tu_set_param(c, RILL_L1, l1);

    rc = rill_fit(a, X, y, n);
    ck_assert_msg(rc == RILL_OK, "%s: rill_fit = %d", what, rc);
    ea = tu_get_param(a, RILL_STAT_EPOCHS);
    wa = tu_get_weights(a);

    /* driver 2: the manual reverse-communication loop */
    for (it = 0; it < epochs; it++) {
        rc = rill_gradient(b, X, y, n, g, &lsum);
        ck_assert_msg(rc == RILL_OK, "%s: rill_gradient = %d", what, rc);
        rc = rill_apply_gradient(b, g, lsum, (double)n);
        ck_assert_msg(rc == RILL_OK, "%s: rill_apply_gradient (epoch %d) = %d: %s", what, it + 1, rc,
                      rill_model_error(b));
        manual_epochs++;
        if (tu_get_param(b, RILL_STAT_CONVERGED) == 1.0 || tu_get_param(b, RILL_STAT_STALLED) == 1.0)
            break;
    }
    wb = tu_get_weights(b);
    ck_assert_msg(manual_epochs == ea, "%s: rill_fit used %g epochs, the manual loop %d", what, ea,
                  manual_epochs);
    ck_assert_msg(memcmp(wa, wb, nw * sizeof *wa) == 0,
                  "%s: manual rill_gradient/rill_apply_gradient loop is not bit-identical to "
                  "rill_fit after %d epochs (max rel diff %g)",
                  what, manual_epochs, ref_max_rel_diff(wb, wa, nw, 1e-300));
    check_driver_worker(what, a, wa, ea, X, y, n, d, K, l2, l1, epochs);

    /* driver 3: a PASS stream, pushed in uneven chunks, one flush per epoch */
    rc = rill_stream_new(&s, c, 64, RILL_STREAM_PASS);
    ck_assert_msg(rc == RILL_OK, "%s: rill_stream_new(PASS) = %d", what, rc);
    for (it = 0; it < epochs; it++) {
        size_t off = 0, chunk = 50;
        while (off < n) {
            size_t take = n - off < chunk ? n - off : chunk;
            rc = rill_stream_push(s, X + off * d, y + off, take);
            ck_assert_msg(rc == RILL_OK, "%s: push = %d: %s", what, rc, rill_model_error(c));
            off += take;
            chunk = chunk == 50 ? 77 : 50;
        }
        rc = rill_stream_flush(s);
        ck_assert_msg(rc == RILL_OK, "%s: flush = %d: %s", what, rc, rill_model_error(c));
        pass_epochs++;
        if (tu_get_param(c, RILL_STAT_CONVERGED) == 1.0)
            break;
    }
    rill_stream_free(s);
    wc = tu_get_weights(c);
    ck_assert_msg(pass_epochs == ea, "%s: PASS stream used %d epochs, rill_fit %g", what,
                  pass_epochs, ea);
    if (rl_block_blas == NULL) {
        ck_assert_msg(memcmp(wa, wc, nw * sizeof *wa) == 0,
                      "%s: PASS stream (64-row micro-batches, portable kernels) not bit-identical "
                      "to rill_fit (max rel diff %g)",
                      what, ref_max_rel_diff(wc, wa, nw, 1e-300));
    } else {
        long double fa = ref_objective_l(loss, X, y, n, d, K, wa, l2, l1);
        long double fc = ref_objective_l(loss, X, y, n, d, K, wc, l2, l1);
        printf("%s: PASS stream vs rill_fit (BLAS build): %s, objective rel diff %.3g\n", what,
               memcmp(wa, wc, nw * sizeof *wa) == 0 ? "bit-identical" : "not bit-identical",
               (double)fabsl((fc - fa) / fa));
        ck_assert_msg(fabsl(fc - fa) <= 1e-10L * fabsl(fa),
                      "%s: PASS stream objective %.17Lg vs rill_fit %.17Lg", what, fc, fa);
    }
    printf("%s: %g epochs, fit == manual loop bit for bit\n", what, ea);
    free(g);
    free(wa);
    free(wb);
    free(wc);
    rill_model_free(a);
    rill_model_free(b);
    rill_model_free(c);
}

START_TEST(test_one_optimizer_three_drivers)
{
    ref_data D;
    double *yl;
    ref_load("diabetes.csv", &D);
    check_drivers("squared/diabetes l2", RILL_SQUARED, D.X, D.y, D.n, D.d, 0, 1e-3, 0.0, 40);
    check_drivers("squared/diabetes l1 (OWL-QN)", RILL_SQUARED, D.X, D.y, D.n, D.d, 0, 1e-3, 0.5,
                  40);
    yl = malloc(D.n * sizeof *yl);
    memcpy(yl, D.y, D.n * sizeof *yl);
    ref_threshold_labels(yl, D.n, 140.0);
    check_drivers("logistic/diabetes", RILL_LOGISTIC, D.X, yl, D.n, D.d, 2, 1e-3, 0.0, 25);
    /* to convergence: both drivers stop at the same epoch */
    check_drivers("logistic/diabetes to convergence", RILL_LOGISTIC, D.X, yl, D.n, D.d, 2, 1e-3,
                  0.0, 1000);
    free(yl);
    ref_data_free(&D);
    ref_load("iris.csv", &D);
    check_drivers("softmax/iris", RILL_SOFTMAX, D.X, D.y, D.n, D.d, 3, 1e-3, 0.0, 30);
    ref_data_free(&D);
}
END_TEST

/* With RILL_TOL = 0 the tolerance test never passes: rill_fit runs until the line search finds
 * no lower objective, reports RILL_STAT_STALLED = 1, and sits at the optimum to rounding. A
 * manual loop that stops on the statistic makes the same number of epochs. */
START_TEST(test_stalled_at_rounding_floor)
{
    ref_data D;
    ref_load("diabetes.csv", &D);
    const size_t d = D.d, nw = d + 1;
    rill_model *a = tu_new_model(RILL_SQUARED, d, 0), *b = tu_new_model(RILL_SQUARED, d, 0);
    double *g = malloc(nw * sizeof *g), *w_ref = malloc(nw * sizeof *w_ref), lsum;
    int rc, used = 0;

    tu_set_param(a, RILL_L2, 1e-3);
    tu_set_param(a, RILL_TOL, 0.0);
    tu_set_param(b, RILL_L2, 1e-3);
    tu_set_param(b, RILL_TOL, 0.0);
    ck_assert(tu_get_param(a, RILL_STAT_STALLED) == 0.0);
    rc = rill_fit(a, D.X, D.y, D.n);
    ck_assert_int_eq(rc, RILL_OK);
    double epochs = tu_get_param(a, RILL_STAT_EPOCHS);
    ck_assert_msg(epochs < 1000, "tol 0 ran all %g epochs: the stall was not detected", epochs);
    ck_assert(tu_get_param(a, RILL_STAT_STALLED) == 1.0);
    ck_assert(tu_get_param(a, RILL_STAT_CONVERGED) == 0.0);
    double *w = tu_get_weights(a);
    ref_ridge(D.X, D.y, D.n, d, 1e-3, w_ref);
    long double fa = ref_objective_l(RILL_SQUARED, D.X, D.y, D.n, d, 0, w, 1e-3, 0.0);
    long double fr = ref_objective_l(RILL_SQUARED, D.X, D.y, D.n, d, 0, w_ref, 1e-3, 0.0);
    ck_assert_msg(fa - fr <= 1e-13L * fabsl(fr), "stalled at %.17Lg, optimum %.17Lg", fa, fr);

    while (tu_get_param(b, RILL_STAT_STALLED) == 0.0 && used < 1000) {
        ck_assert_int_eq(rill_gradient(b, D.X, D.y, D.n, g, &lsum), RILL_OK);
        ck_assert_int_eq(rill_apply_gradient(b, g, lsum, (double)D.n), RILL_OK);
        used++;
    }
    ck_assert_msg(used == epochs, "manual loop stalled after %d epochs, rill_fit after %g", used,
                  epochs);
    /* a change to the objective clears it */
    tu_set_param(b, RILL_L2, 2e-3);
    ck_assert(tu_get_param(b, RILL_STAT_STALLED) == 0.0);
    free(g);
    free(w);
    free(w_ref);
    rill_model_free(a);
    rill_model_free(b);
    ref_data_free(&D);
}
END_TEST

/* The same problem in other units: raw diabetes features times c, l2 times c^2 (the
 * optimum's weights are the original ones over c, the intercept and the objective the same).
 * rill_fit reaches it without an intercept for c = 1e-6, 1e6 and 1e20 (the L-BFGS pairs are
 * kept by the angle between s and y, and the line search's floor is relative to the weights,
 * so neither depends on the features' units), and with one for c up to 1e6, features of order
 * 1e8 beside the intercept: the stopping test holds each weight to its own first gradient.
 * (With one number for all weights, ||pg||_inf <= tol max(1, ||pg0||_inf), the intercept's
 * entry passed from c = 1e4 on, 5.7 % above the optimum.) */
START_TEST(test_fit_in_other_units)
{
    static const struct {
        double c;
        int fit_intercept;
    } cases[] = {{1e2, 1}, {1e3, 1}, {1e4, 1}, {1e6, 1}, {1e-6, 0}, {1e6, 0}, {1e20, 0}};
    const double l2 = 1e-3;
    ref_data D;
    size_t i, j, k;
    double w1[11], wc[11], f1, fc;
    ref_load("diabetes.csv", &D);
    double *Xs = malloc(D.n * D.d * sizeof *Xs);
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const double c = cases[k].c;
        rill_model *m1 = tu_new_model(RILL_SQUARED, D.d, 0), *mc = tu_new_model(RILL_SQUARED, D.d, 0);
        for (i = 0; i < D.n * D.d; i++)
            Xs[i] = D.X[i] * c;
        tu_set_param(m1, RILL_L2, l2);
        tu_set_param(mc, RILL_L2, l2 * c * c);
        tu_set_param(m1, RILL_FIT_INTERCEPT, cases[k].fit_intercept);
        tu_set_param(mc, RILL_FIT_INTERCEPT, cases[k].fit_intercept);
        ck_assert_int_eq(rill_fit(m1, D.X, D.y, D.n), RILL_OK);
        ck_assert_int_eq(rill_fit(mc, Xs, D.y, D.n), RILL_OK);
        ck_assert_msg(tu_get_param(mc, RILL_STAT_CONVERGED) == 1.0 &&
                          tu_get_param(mc, RILL_STAT_STALLED) == 0.0,
                      "c = %g: converged %g, stalled %g after %g epochs", c,
                      tu_get_param(mc, RILL_STAT_CONVERGED), tu_get_param(mc, RILL_STAT_STALLED),
                      tu_get_param(mc, RILL_STAT_EPOCHS));
        tu_copy_weights(m1, w1);
        tu_copy_weights(mc, wc);
        f1 = tu_get_param(m1, RILL_STAT_LOSS);
        fc = tu_get_param(mc, RILL_STAT_LOSS);
        printf("c = %g, intercept %d: objective %.17g (%.17g in the original units), %g "
               "epochs\n", c, cases[k].fit_intercept, fc, f1, tu_get_param(mc, RILL_STAT_EPOCHS));
        ck_assert_msg(fabs(fc - f1) <= 1e-9 * f1, "c = %g: objective %.17g, in the original units "
                      "%.17g", c, fc, f1);
        for (j = 0; j < D.d; j++)
            ck_assert_msg(fabs(wc[j] * c - w1[j]) <= 1e-5 * ref_max_abs(w1, D.d),
                          "c = %g: weight %zu is %.17g / c, %.17g in the original units", c, j,
                          wc[j] * c, w1[j]);
        rill_model_free(m1);
        rill_model_free(mc);
    }
    free(Xs);
    ref_data_free(&D);
}
END_TEST

static Suite *fit_suite(void)
{
    Suite *s = suite_create("fit");
    TCase *tc = tcase_create("optimum");
    tcase_add_test(tc, test_fit_squared_diabetes_raw);
    tcase_add_test(tc, test_fit_logistic_diabetes_raw);
    tcase_add_test(tc, test_fit_softmax_iris_raw);
    tcase_add_test(tc, test_fit_softmax_digits_raw);
    suite_add_tcase(s, tc);

    tc = tcase_create("fixed_step");
    tcase_add_test(tc, test_fixed_step_is_gradient_descent);
    suite_add_tcase(s, tc);

    tc = tcase_create("convergence");
    tcase_add_test(tc, test_warm_start);
    tcase_add_test(tc, test_warm_start_raw);
    tcase_add_test(tc, test_converged_flag_and_criterion);
    tcase_add_test(tc, test_fit_in_other_units);
    suite_add_tcase(s, tc);

    tc = tcase_create("l1");
    tcase_add_test(tc, test_l1_exact_zeros_and_optimum);
    tcase_add_test(tc, test_l1_raw_features);
    suite_add_tcase(s, tc);

    tc = tcase_create("drivers");
    tcase_add_test(tc, test_one_optimizer_three_drivers);
    tcase_add_test(tc, test_stalled_at_rounding_floor);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(fit_suite)
