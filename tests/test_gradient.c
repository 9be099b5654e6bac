/*
 * rill_gradient and the gradient kernels, held to the independent reference (ref.c):
 * finite differences of the reference objective, the reference's analytic sums, mergeable
 * sums, the portable kernel against the CBLAS one, and hand-computed known answers.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "loss_math.h"
#include "rill.h"
#include "ref.h"
#include "tmain.h"
#include "tutil.h"

static double rel_scalar(double a, double b)
{
    double s = fabs(b) > 1e-300 ? fabs(b) : 1e-300;
    return fabs(a - b) / s;
}

/* ------------------------------------------------------------------ finite differences */

START_TEST(test_gradient_matches_reference_and_fd)
{
    const int loss = _i; /* loop 1..3 */
    const size_t n = 37, d = 5, K = 4;
    const size_t Kc = tu_classes_for(loss, K);
    ref_rng r;
    double *X, *y, *W, *g, lsum, lsum_only;
    long double *gref, lref;
    size_t nw, j;
    rill_model *m;
    int rc;

    ref_rng_seed(&r, 1000 + (uint64_t)loss);
    ref_random_problem(&r, loss, n, d, Kc, 1.0, &X, &y);
    m = tu_new_model_for(loss, d, K);
    nw = rill_model_n_weights(m);
    ck_assert_msg(nw == ref_n_weights(loss, d, Kc), "%s: n_weights %zu, expected %zu",
                  tu_loss_name(loss), nw, ref_n_weights(loss, d, Kc));
    W = tu_random_weights(&r, nw, 0.5);
    rc = rill_model_set_weights(m, W, nw);
    ck_assert_msg(rc == RILL_OK, "set_weights = %d", rc);

    g = malloc(nw * sizeof *g);
    for (j = 0; j < nw; j++)
        g[j] = NAN; /* rill_gradient writes the sums: nothing of this may survive */
    lsum = NAN;
    rc = rill_gradient(m, X, y, n, g, &lsum);
    ck_assert_msg(rc == RILL_OK, "%s: rill_gradient = %d (%s)", tu_loss_name(loss), rc,
                  rill_strerror(rc));

    /* the reference's analytic sums (long double) */
    gref = malloc(nw * sizeof *gref);
    lref = ref_sums(loss, X, y, n, d, Kc, W, gref);
    ck_assert_msg(rel_scalar(lsum, (double)lref) <= 1e-12, "%s: loss_sum %.17g, reference %.17Lg",
                  tu_loss_name(loss), lsum, lref);
    {
        double *gr = malloc(nw * sizeof *gr), e;
        for (j = 0; j < nw; j++)
            gr[j] = (double)gref[j];
        e = ref_max_rel_diff(g, gr, nw, 1e-300);
        ck_assert_msg(e <= 1e-12, "%s: grad_sum differs from the reference sums by %g (relative)",
                      tu_loss_name(loss), e);
        free(gr);
    }

    /* central finite differences of the reference objective (mean loss, no penalty) */
    {
        double gmax = 0.0;
        for (j = 0; j < nw; j++)
            if (fabs(g[j] / (double)n) > gmax)
                gmax = fabs(g[j] / (double)n);
        for (j = 0; j < nw; j++) {
            double save = W[j], h = 1e-5 * (fabs(save) > 1.0 ? fabs(save) : 1.0), fd;
            long double fp, fm;
            W[j] = save + h;
            fp = ref_objective_l(loss, X, y, n, d, Kc, W, 0.0, 0.0);
            W[j] = save - h;
            fm = ref_objective_l(loss, X, y, n, d, Kc, W, 0.0, 0.0);
            W[j] = save;
            fd = (double)((fp - fm) / (2.0L * (long double)h));
            ck_assert_msg(fabs(g[j] / (double)n - fd) <= 1e-7 * (gmax > 1.0 ? gmax : 1.0),
                          "%s: weight %zu: rill_gradient mean %.12g, central difference %.12g",
                          tu_loss_name(loss), j, g[j] / (double)n, fd);
        }
    }

    /* loss only (grad_sum NULL): the same loss */
    lsum_only = NAN;
    rc = rill_gradient(m, X, y, n, NULL, &lsum_only);
    ck_assert_msg(rc == RILL_OK, "%s: rill_gradient(grad NULL) = %d", tu_loss_name(loss), rc);
    ck_assert_msg(rel_scalar(lsum_only, lsum) <= 1e-14,
                  "%s: loss-only sum %.17g differs from %.17g", tu_loss_name(loss), lsum_only, lsum);

    free(X);
    free(y);
    free(W);
    free(g);
    free(gref);
    rill_model_free(m);
}
END_TEST

/* Extreme scores: the stable forms must stay finite and match the reference. */
START_TEST(test_gradient_extreme_scores)
{
    const int loss = _i == 0 ? RILL_LOGISTIC : RILL_SOFTMAX;
    const size_t n = 6, d = 2, K = 3, Kc = tu_classes_for(loss, K);
    double X[12] = {800, -3, -800, 2, 1e3, 1e3, -1e3, -1e3, 0.5, 0.25, 40, -40};
    double y[6] = {0, 1, 1, 0, 1, 0};
    double W[9] = {1.0, 0.5, 0.1, -0.7, 1.5, -0.2, 0.3, -1.0, 0.0};
    double g[9], lsum, gr[9], e;
    long double gref[9], lref;
    rill_model *m = tu_new_model_for(loss, d, K);
    size_t nw = rill_model_n_weights(m), j;
    int rc;

    if (loss == RILL_SOFTMAX) {
        y[1] = 2;
        y[4] = 2;
    }
    ck_assert_int_eq(rill_model_set_weights(m, W, nw), RILL_OK);
    rc = rill_gradient(m, X, y, n, g, &lsum);
    ck_assert_msg(rc == RILL_OK, "%s: rill_gradient = %d", tu_loss_name(loss), rc);
    ck_assert_msg(isfinite(lsum) && ref_all_finite(g, nw), "%s: non-finite sums at large scores",
                  tu_loss_name(loss));
    lref = ref_sums(loss, X, y, n, d, Kc, W, gref);
    for (j = 0; j < nw; j++)
        gr[j] = (double)gref[j];
    ck_assert_msg(rel_scalar(lsum, (double)lref) <= 1e-12, "%s: loss %.17g vs reference %.17Lg",
                  tu_loss_name(loss), lsum, lref);
    e = ref_max_rel_diff(g, gr, nw, 1e-300);
    ck_assert_msg(e <= 1e-12, "%s: gradient differs from the reference by %g", tu_loss_name(loss), e);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ loss math */

/* The kernels' exp, log1p and log (polynomials on SIMD hosts, libm elsewhere) against long
 * double, within 4 ulp of the result over their domains; NaN stays NaN. And the softmax row
 * against its definition written out in long double. */
START_TEST(test_loss_math_accuracy)
{
    ref_rng r;
    ref_rng_seed(&r, 777);
    const double ulp4 = 4.0 * 0x1p-52;
    for (int i = 0; i < 20000; i++) {
        const double u = ref_rng_uniform(&r);
        const double x = -745.0 * u * u; /* dense near 0, reaching the underflow */
        const long double ex = expl((long double)x);
        const double e = rl_exp_nonpos(x);
        if (x >= -708.0)
            ck_assert_msg(fabsl(e - ex) <= ulp4 * ex, "exp(%.17g) = %.17g, %.17Lg", x, e, ex);
        else /* flushed to 0 below -708 (results under 2^-1021) */
            ck_assert_msg(fabsl(e - ex) <= 0x1p-1021L, "exp(%.17g) = %.17g (underflow)", x, e);
        const double t = u * u;
        const long double lt = log1pl((long double)t);
        ck_assert_msg(fabsl(rl_log1p_unit(t) - lt) <= ulp4 * lt, "log1p(%.17g)", t);
        const double sv = exp2(40.0 * ref_rng_uniform(&r)); /* [1, 2^40) */
        const long double ls = logl((long double)sv);
        ck_assert_msg(fabsl(rl_log_ge1(sv) - ls) <= ulp4 * ls + 0x1p-1074L,
                      "log(%.17g) = %.17g, %.17Lg", sv, rl_log_ge1(sv), ls);
    }
    const double exact[] = {1.0, 2.0, 0x1.fffffffffffffp0, 0x1.0000000000001p0, 4.0, 1024.0,
                            0x1.6a09e667f3bccp0, 0x1.6a09e667f3bcdp0, 0x1.fffffffffffffp1023};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        const long double ls = logl((long double)exact[i]);
        ck_assert_msg(fabsl(rl_log_ge1(exact[i]) - ls) <= ulp4 * ls + 0x1p-1074L,
                      "log(%a) = %a", exact[i], rl_log_ge1(exact[i]));
    }
    ck_assert_msg(isnan(rl_log_ge1(NAN)) && isnan(rl_exp_nonpos(NAN)) && isnan(rl_log1p_unit(NAN)),
                  "NaN did not stay NaN");
    ck_assert_msg(fabsl(rl_log1p_unit(1.0) - logl(2.0L)) <= 0x1p-53L && rl_log1p_unit(0.0) == 0.0,
                  "log1p(1) = %a, log1p(0) = %a", rl_log1p_unit(1.0), rl_log1p_unit(0.0));
    ck_assert_msg(rl_log_ge1(1.0) == 0.0 && rl_exp_nonpos(0.0) == 1.0, "log 1 or exp 0 inexact");

    /* softmax rows, 200 side by side (rl_softmax_rows): spreads from 0 to 1400, with ties,
     * against the definition */
    enum { ROWS = 200, KMAX = 10 };
    static double z[KMAX * ROWS], label[ROWS], lq[ROWS], tmp[2 * ROWS];
    static long double zl[KMAX * ROWS];
    const size_t ks[] = {2, 3, 4, 7, 10};
    for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++) {
        const size_t k = ks[a];
        for (size_t q = 0; q < ROWS; q++) {
            const double spread = q < 100 ? 5.0 : 1400.0;
            label[q] = (double)(q % k);
            for (size_t c = 0; c < k; c++) {
                z[c * ROWS + q] =
                    q % 17 == 0 && c > 0 ? z[q] : spread * (ref_rng_uniform(&r) - 0.5);
                zl[c * ROWS + q] = z[c * ROWS + q];
            }
        }
        rl_softmax_rows(z, k, ROWS, label, lq, tmp);
        for (size_t q = 0; q < ROWS; q++) {
            long double mx = -INFINITY, sum = 0.0L;
            const size_t y = q % k;
            for (size_t c = 0; c < k; c++)
                mx = zl[c * ROWS + q] > mx ? zl[c * ROWS + q] : mx;
            for (size_t c = 0; c < k; c++)
                sum += expl(zl[c * ROWS + q] - mx);
            const long double want = mx + logl(sum) - zl[y * ROWS + q];
            ck_assert_msg(fabsl(lq[q] - want) <= 1e-13L * (1.0L + fabsl(want)),
                          "softmax k=%zu row %zu: loss %.17g, definition %.17Lg", k, q, lq[q],
                          want);
            for (size_t c = 0; c < k; c++) {
                const long double p = expl(zl[c * ROWS + q] - mx) / sum - (c == y ? 1.0L : 0.0L);
                ck_assert_msg(fabsl(z[c * ROWS + q] - p) <= 1e-14L,
                              "softmax k=%zu row %zu: r_%zu = %.17g, %.17Lg", k, q, c,
                              z[c * ROWS + q], p);
            }
        }
    }
    /* a NaN or an infinite score in one of three rows makes that row's loss non-finite only */
    double zb[3 * 3] = {0.5, 0.5, 0.5, NAN, 1.0, INFINITY, -1.0, -1.0, -1.0}, lb[3],
           lab[3] = {0.0, 0.0, 0.0}, tb[6];
    rl_softmax_rows(zb, 3, 3, lab, lb, tb);
    ck_assert_msg(!isfinite(lb[0]), "a NaN score gave a finite softmax loss");
    ck_assert_msg(isfinite(lb[1]), "a finite row's softmax loss is %g", lb[1]);
    ck_assert_msg(!isfinite(lb[2]), "an infinite score gave a finite loss");
}
END_TEST


/* ------------------------------------------------------------------ mergeable sums */

/* d: 6 (rows in groups of four) or at least 512 (wide rows, in pairs; kernels.c). K classes
 * for softmax: up to 64 groups of four, above it rows one by one (four rows' scores do not
 * fit the kernel's buffer), above 256 the streaming row (one row's do not). */
static void check_mergeable(int loss, size_t d, size_t K)
{
    const size_t n = 300, Kc = tu_classes_for(loss, K);
    const size_t splits[] = {64, 128, 192, 256, 1, 97, 299};
    ref_rng r;
    double *X, *y, *W, *gw, *ga, *gb, *gs, lw, la, lb;
    size_t nw, j, s;
    rill_model *m;

    ref_rng_seed(&r, 2000 + (uint64_t)loss);
    ref_random_problem(&r, loss, n, d, Kc, 1.0, &X, &y);
    m = tu_new_model_for(loss, d, K);
    nw = rill_model_n_weights(m);
    W = tu_random_weights(&r, nw, 0.3);
    ck_assert_int_eq(rill_model_set_weights(m, W, nw), RILL_OK);
    gw = malloc(nw * sizeof *gw);
    ga = malloc(nw * sizeof *ga);
    gb = malloc(nw * sizeof *gb);
    gs = malloc(nw * sizeof *gs);
    ck_assert_int_eq(rill_gradient(m, X, y, n, gw, &lw), RILL_OK);

    for (s = 0; s < sizeof splits / sizeof splits[0]; s++) {
        size_t k = splits[s];
        double e;
        int bitwise;
        ck_assert_int_eq(rill_gradient(m, X, y, k, ga, &la), RILL_OK);
        ck_assert_int_eq(rill_gradient(m, X + k * d, y + k, n - k, gb, &lb), RILL_OK);
        for (j = 0; j < nw; j++)
            gs[j] = ga[j] + gb[j];
        e = ref_max_rel_diff(gs, gw, nw, 1e-300);
        ck_assert_msg(e <= 1e-12, "%s: split at %zu: shard sums added differ from the whole by %g",
                      tu_loss_name(loss), k, e);
        ck_assert_msg(rel_scalar(la + lb, lw) <= 1e-12,
                      "%s: split at %zu: loss %.17g + %.17g vs whole %.17g", tu_loss_name(loss), k, la,
                      lb, lw);
        bitwise = memcmp(gs, gw, nw * sizeof *gs) == 0 && la + lb == lw;
        printf("mergeable %s d=%zu split %zu/%zu: max rel diff %.3g, %s\n", tu_loss_name(loss), d, k, n - k, e,
               bitwise ? "bit-identical" : "not bit-identical (caller-side addition rounds)");
    }

    /* The canonical summation (internal): running sums passed chunk after chunk, the chunks
     * split at multiples of the 64-row block, give the same bits as one call. */
    {
        const size_t cuts[][3] = {{64, 128, 300}, {128, 256, 300}, {192, 192, 300}};
        double *g1 = calloc(nw, sizeof *g1), *g2 = malloc(nw * sizeof *g2), l1 = 0.0, l2;
        size_t c;
        rl_kernel_sums(m, W, X, y, n, g1, &l1);
        for (c = 0; c < 3; c++) {
            size_t a = cuts[c][0], b = cuts[c][1];
            memset(g2, 0, nw * sizeof *g2);
            l2 = 0.0;
            rl_kernel_sums(m, W, X, y, a, g2, &l2);
            rl_kernel_sums(m, W, X + a * d, y + a, b - a, g2, &l2);
            rl_kernel_sums(m, W, X + b * d, y + b, n - b, g2, &l2);
            ck_assert_msg(memcmp(g1, g2, nw * sizeof *g1) == 0 && l1 == l2,
                          "%s: running sums over chunks [0,%zu) [%zu,%zu) [%zu,%zu) are not "
                          "bit-identical to one call (max rel diff %g)",
                          tu_loss_name(loss), a, a, b, b, n, ref_max_rel_diff(g2, g1, nw, 1e-300));
        }
        /* an odd number of rows (wide rows: the last one outside a pair) */
        memset(g1, 0, nw * sizeof *g1);
        memset(g2, 0, nw * sizeof *g2);
        l1 = l2 = 0.0;
        rl_kernel_sums(m, W, X, y, n - 1, g1, &l1);
        rl_kernel_sums(m, W, X, y, 64, g2, &l2);
        rl_kernel_sums(m, W, X + 64 * d, y + 64, n - 1 - 64, g2, &l2);
        ck_assert_msg(memcmp(g1, g2, nw * sizeof *g1) == 0 && l1 == l2,
                      "%s d=%zu: %zu rows in chunks [0,64) [64,%zu) are not bit-identical to one "
                      "call", tu_loss_name(loss), d, n - 1, n - 1);
        memset(g1, 0, nw * sizeof *g1);
        l1 = 0.0;
        rl_kernel_sums(m, W, X, y, n, g1, &l1);
        /* and they are rill_gradient's sums */
        ck_assert_msg(memcmp(g1, gw, nw * sizeof *g1) == 0 && l1 == lw,
                      "%s: rl_kernel_sums from zero differs from rill_gradient", tu_loss_name(loss));
        free(g1);
        free(g2);
    }

    free(X);
    free(y);
    free(W);
    free(gw);
    free(ga);
    free(gb);
    free(gs);
    rill_model_free(m);
}

START_TEST(test_gradient_mergeable)
{
    check_mergeable(_i, 6, 5);
    check_mergeable(_i, 600, 5);
    if (_i == RILL_SOFTMAX) { /* spans of 12 and 4 rows, groups of one, the streaming row */
        const size_t ks[] = {20, 64, 65, 100, 256, 257, 300};
        for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++)
            check_mergeable(_i, 6, ks[a]);
    }
}
END_TEST

/* ------------------------------------------------------------------ kernels */

START_TEST(test_kernel_portable_matches_reference)
{
    const size_t shapes[][3] = {{1, 1, 2},    {5, 3, 3},    {64, 7, 2},  {65, 10, 5},
                                {200, 4, 10}, {130, 33, 3}, {9, 600, 3}, {1, 512, 2},
                                {50, 7, 20},  {30, 3, 64},  {30, 3, 65}, {70, 5, 100},
                                {9, 3, 300},  {10, 2, 257}};
    size_t s;
    int loss;
    for (loss = RILL_SQUARED; loss <= RILL_SOFTMAX; loss++)
        for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            size_t n = shapes[s][0], d = shapes[s][1], K = shapes[s][2];
            size_t Kc = tu_classes_for(loss, K), k = ref_n_outputs(loss, Kc);
            size_t nw = ref_n_weights(loss, d, Kc), j;
            ref_rng r;
            double *X, *y, *W, *g = calloc(nw, sizeof *g), *gr = malloc(nw * sizeof *gr), l = 0.0;
            long double *gl = malloc(nw * sizeof *gl), lr;
            ref_rng_seed(&r, 3000 + 17 * (uint64_t)loss + s);
            ref_random_problem(&r, loss, n, d, Kc, 1.5, &X, &y);
            W = tu_random_weights(&r, nw, 0.4);
            rl_block_portable(loss, d, k, W, X, y, n, g, &l);
            lr = ref_sums(loss, X, y, n, d, Kc, W, gl);
            for (j = 0; j < nw; j++)
                gr[j] = (double)gl[j];
            ck_assert_msg(rel_scalar(l, (double)lr) <= 1e-12,
                          "portable %s n=%zu d=%zu K=%zu: loss %.17g vs reference %.17Lg",
                          tu_loss_name(loss), n, d, K, l, lr);
            ck_assert_msg(ref_max_rel_diff(g, gr, nw, 1e-300) <= 1e-12,
                          "portable %s n=%zu d=%zu K=%zu: gradient off by %g", tu_loss_name(loss), n,
                          d, K, ref_max_rel_diff(g, gr, nw, 1e-300));
            free(X);
            free(y);
            free(W);
            free(g);
            free(gr);
            free(gl);
        }
}
END_TEST

/* The one-row step kernel against the step written out in long double: r from the loss at the
 * row, the automatic cap (rill_step's rate_cap with one row), w (1 - rate l2) - rate r x. The
 * kernel writes over the weights of long rows, or into next for short rows and when a
 * weight might overflow (variant 4: a weight near DBL_MAX, the step still finite); a refused
 * step leaves the weights as they were, bit for bit. */
START_TEST(test_row_step_matches_reference)
{
    const size_t dims[] = {1, 3, 8, 9, 33, 130, RL_ROW_IN_PLACE_MIN_D, 603};
    for (int loss = RILL_SQUARED; loss <= RILL_LOGISTIC; loss++)
        for (size_t s = 0; s < sizeof dims / sizeof dims[0]; s++)
            for (int variant = 0; variant < 5; variant++) {
                const size_t d = dims[s];
                const int fit_intercept = variant & 1, automatic = (variant >> 1) & 1;
                const int huge = variant == 4;
                const double l2 = variant == 2 || huge ? 0.0 : 0.01;
                const double rate = automatic ? 1.0 : 0.05;
                const double curv = loss == RILL_SQUARED ? 1.0 : 0.25;
                ref_rng r;
                double *X, *y, *W, *next = malloc((d + 1) * sizeof *next), l = -1.0;
                double *W0 = malloc((d + 1) * sizeof *W0);
                ref_rng_seed(&r, 5000 + 13 * (uint64_t)loss + 7 * s + (uint64_t)variant);
                ref_random_problem(&r, loss, 1, d, loss == RILL_SQUARED ? 0 : 2, 1.5, &X, &y);
                W = tu_random_weights(&r, d + 1, 0.4);
                if (huge) { /* the score is then huge: a logistic row's residual is 0 or -1 */
                    W[d / 2] = 1e308;
                    X[d / 2] = loss == RILL_SQUARED ? 1e-300 : 1e-310;
                }
                memcpy(W0, W, (d + 1) * sizeof *W);
                int where = rl_row_step(loss, d, 1, W, X, y[0], rate, l2, automatic ? curv : 0.0,
                                        fit_intercept, next, &l);
                const int in_place = !huge && d >= RL_ROW_IN_PLACE_MIN_D;
                ck_assert_msg(where == (in_place ? RL_ROW_IN_PLACE : RL_ROW_IN_NEXT),
                              "row step %s d=%zu variant %d: returned %d", tu_loss_name(loss),
                              d, variant, where);
                const double *out = where == RL_ROW_IN_PLACE ? W : next;
                if (where == RL_ROW_IN_NEXT)
                    ck_assert_msg(memcmp(W, W0, (d + 1) * sizeof *W) == 0,
                                  "row step %s d=%zu: the step went to next, yet the weights "
                                  "changed", tu_loss_name(loss), d);
                long double z = W0[d], xx = 0.0L, rr, lr, eta = rate, zabs = fabs(W0[d]);
                for (size_t j = 0; j < d; j++) {
                    z += (long double)W0[j] * X[j];
                    zabs += fabsl((long double)W0[j] * X[j]);
                    xx += (long double)X[j] * X[j];
                }
                if (loss == RILL_SQUARED) {
                    rr = z - y[0];
                    lr = 0.5L * rr * rr;
                } else {
                    rr = 1.0L / (1.0L + expl(-z)) - y[0];
                    lr = (z > 0 ? z + log1pl(expl(-z)) : log1pl(expl(z))) - y[0] * z;
                }
                if (automatic) {
                    long double load = curv * (eta * xx + eta) + l2 * eta;
                    eta = load > 1.0L ? eta / load : eta;
                }
                ck_assert_msg(rel_scalar(l, (double)lr) <= 1e-12, "row step %s d=%zu: loss %.17g vs %.17Lg",
                              tu_loss_name(loss), d, l, lr);
                for (size_t j = 0; j <= d; j++) {
                    long double want = j < d ? W0[j] * (1.0L - eta * l2) - eta * rr * X[j]
                                             : (fit_intercept ? W0[d] - eta * rr : W0[d]);
                    /* the rounding of the score (|r| errs by up to about d eps sum|w x|)
                     * and of the two terms, which may cancel */
                    const long double xj = j < d ? X[j] : 1.0L, wj = W0[j];
                    const long double scale = fabsl(j < d ? wj * (1.0L - eta * l2) : wj) +
                                              fabsl(eta * xj) * (fabsl(rr) + zabs);
                    ck_assert_msg(fabsl(out[j] - want) <= 1e-12L * scale,
                                  "row step %s d=%zu variant %d: weight %zu = %.17g, reference %.17Lg",
                                  tu_loss_name(loss), d, variant, j, out[j], want);
                }
                /* a step that overflows is reported, not taken: the weights keep their bits */
                X[0] = 1e300;
                memset(W, 0, (d + 1) * sizeof *W); /* z = 0: r = 0.5 - 1 (logistic), -1 */
                W[d] = 0.25;
                ck_assert_msg(rl_row_step(loss, d, 1, W, X, 1.0, 1e10, l2, 0.0, fit_intercept,
                                          next, &l) == 0,
                              "row step %s d=%zu: an overflowing step reported finite",
                              tu_loss_name(loss), d);
                for (size_t j = 0; j <= d; j++)
                    ck_assert_msg(W[j] == (j == d ? 0.25 : 0.0) && !signbit(W[j]),
                                  "row step %s d=%zu: a refused step changed weight %zu",
                                  tu_loss_name(loss), d, j);
                free(X);
                free(y);
                free(W);
                free(W0);
                free(next);
            }
}
END_TEST

/* The row step of a softmax row against the step written out in long double: the row's
 * softmax, r_c = p_c - [c == y], every class's weights w_c (1 - rate l2) - rate r_c x
 * (intercept - rate r_c when fitted), the automatic cap with the curvature 1/2. The step
 * always goes to next; a row with NaN, a step that overflows and more classes than
 * RL_ROW_STEP_MAX_K are refused with the weights untouched. */
START_TEST(test_row_step_softmax_matches_reference)
{
#if RL_ROW_STEP_MAX_K == 0
    /* this target steps softmax rows on the general path: the row step refuses them */
    double W[8] = {0.5, -0.25, 0.125, 1.0, 0.0, 0.0, 0.0, 0.0}, x[3] = {1.0, 2.0, 3.0}, next[8];
    double l = -1.0;
    ck_assert_int_eq(rl_row_step(RILL_SOFTMAX, 3, 2, W, x, 1.0, 0.1, 0.0, 0.0, 1, next, &l), 0);
    ck_assert_msg(W[0] == 0.5 && W[3] == 1.0 && W[4] == 0.0 && l == -1.0,
                  "a refused softmax row step changed the weights");
#else
    const size_t dims[] = {1, 3, 8, 33, 130, 603};
    const size_t classes[] = {2, 3, 10, RL_ROW_STEP_MAX_K};
    for (size_t s = 0; s < sizeof dims / sizeof dims[0]; s++)
        for (size_t kc = 0; kc < sizeof classes / sizeof classes[0]; kc++)
            for (int variant = 0; variant < 4; variant++) {
                const size_t d = dims[s], K = classes[kc], stride = d + 1, nw = K * stride;
                const int fit_intercept = variant & 1, automatic = (variant >> 1) & 1;
                const double l2 = variant == 2 ? 0.0 : 0.01, rate = automatic ? 1.0 : 0.05;
                ref_rng r;
                double *X, *y, *W, l = -1.0;
                double *next = malloc(nw * sizeof *next), *W0 = malloc(nw * sizeof *W0);
                ref_rng_seed(&r, 7000 + 31 * (uint64_t)s + 7 * kc + (uint64_t)variant);
                ref_random_problem(&r, RILL_SOFTMAX, 1, d, K, 1.5, &X, &y);
                W = tu_random_weights(&r, nw, 0.4);
                memcpy(W0, W, nw * sizeof *W);
                int where = rl_row_step(RILL_SOFTMAX, d, K, W, X, y[0], rate, l2,
                                        automatic ? 0.5 : 0.0, fit_intercept, next, &l);
                ck_assert_msg(where == RL_ROW_IN_NEXT, "softmax row step d=%zu K=%zu: returned %d",
                              d, K, where);
                ck_assert_msg(memcmp(W, W0, nw * sizeof *W) == 0,
                              "softmax row step d=%zu K=%zu: the weights changed", d, K);
                long double *z = malloc(K * sizeof *z), mx = -INFINITY, sum = 0.0L, xx = 0.0L;
                long double zabs = 0.0L, eta = rate;
                for (size_t c = 0; c < K; c++) {
                    long double zc = W0[c * stride + d], za = fabs(W0[c * stride + d]);
                    for (size_t j = 0; j < d; j++) {
                        zc += (long double)W0[c * stride + j] * X[j];
                        za += fabsl((long double)W0[c * stride + j] * X[j]);
                    }
                    z[c] = zc;
                    mx = zc > mx ? zc : mx;
                    zabs = za > zabs ? za : zabs;
                }
                for (size_t c = 0; c < K; c++)
                    sum += expl(z[c] - mx);
                for (size_t j = 0; j < d; j++)
                    xx += (long double)X[j] * X[j];
                const size_t label = (size_t)y[0];
                const long double lr = logl(sum) + mx - z[label];
                if (automatic) {
                    long double load = 0.5L * (eta * xx + eta) + l2 * eta;
                    eta = load > 1.0L ? eta / load : eta;
                }
                /* the rounding of the sum of exps near 1 is absolute, and the scores' */
                ck_assert_msg(fabsl(l - lr) <= 1e-12L * (fabsl(lr) + 1.0L + zabs),
                              "softmax row step d=%zu K=%zu: loss %.17g vs %.17Lg", d, K, l, lr);
                for (size_t c = 0; c < K; c++) {
                    const long double rc = expl(z[c] - mx) / sum - (c == label ? 1.0L : 0.0L);
                    for (size_t j = 0; j <= d; j++) {
                        const long double wj = W0[c * stride + j], xj = j < d ? X[j] : 1.0L;
                        const long double want = j < d ? wj * (1.0L - eta * l2) - eta * rc * xj
                                                       : (fit_intercept ? wj - eta * rc : wj);
                        /* r_c errs by about d eps times the largest sum |w x| */
                        const long double scale = fabsl(j < d ? wj * (1.0L - eta * l2) : wj) +
                                                  fabsl(eta * xj) * (fabsl(rc) + zabs + 1.0L);
                        ck_assert_msg(fabsl(next[c * stride + j] - want) <= 1e-12L * scale,
                                      "softmax row step d=%zu K=%zu variant %d: weight %zu of "
                                      "class %zu = %.17g, reference %.17Lg",
                                      d, K, variant, j, c, next[c * stride + j], want);
                    }
                }
                /* refused: a NaN in the row, an overflowing step, too many classes */
                const double x0 = X[0];
                X[0] = NAN;
                ck_assert_int_eq(rl_row_step(RILL_SOFTMAX, d, K, W, X, y[0], rate, l2, 0.0,
                                             fit_intercept, next, &l), 0);
                X[0] = 1e300; /* equal scores: r_y = 1/K - 1, and rate r_y x_0 overflows */
                double *Wz = calloc(nw, sizeof *Wz);
                ck_assert_int_eq(rl_row_step(RILL_SOFTMAX, d, K, Wz, X, y[0], 1e10, l2, 0.0,
                                             fit_intercept, next, &l), 0);
                for (size_t j = 0; j < nw; j++)
                    ck_assert_msg(Wz[j] == 0.0 && !signbit(Wz[j]),
                                  "softmax row step d=%zu K=%zu: a refused step changed weight "
                                  "%zu", d, K, j);
                free(Wz);
                X[0] = x0;
                if (K == RL_ROW_STEP_MAX_K) {
                    double *W1 = tu_random_weights(&r, nw + stride, 0.4);
                    ck_assert_int_eq(rl_row_step(RILL_SOFTMAX, d, K + 1, W1, X, y[0], rate, l2,
                                                 0.0, fit_intercept, next, &l), 0);
                    free(W1);
                }
                ck_assert_msg(memcmp(W, W0, nw * sizeof *W) == 0,
                              "softmax row step d=%zu K=%zu: a refused step changed the weights",
                              d, K);
                free(z);
                free(X);
                free(y);
                free(W);
                free(W0);
                free(next);
            }
#endif
}
END_TEST

/* The AVX2 build of the kernels gives the same bits as the baseline one: the same loops, no
 * FMA, every sum in the same order (checkasm-style: both versions on the same inputs). */
START_TEST(test_kernel_avx2_bit_identical)
{
#ifdef RILL_HAVE_AVX2
    const size_t shapes[][3] = {{1, 1, 2},   {5, 3, 3},   {63, 7, 2},    {64, 8, 2},
                                {65, 9, 5},  {200, 4, 10}, {130, 33, 3}, {257, 64, 4},
                                {37, 257, 3}, {16, 1000, 2}, {71, 512, 3}, {50, 7, 20},
                                {30, 3, 64},  {30, 3, 65},   {70, 5, 100}, {9, 3, 300}};
    const double scales[] = {1.5, 40.0};
    if (!rl_kernels_avx2()) {
        printf("this processor has no AVX2: nothing to compare\n");
        return;
    }
    for (int loss = RILL_SQUARED; loss <= RILL_SOFTMAX; loss++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (size_t sc = 0; sc < 2; sc++) {
                size_t n = shapes[s][0], d = shapes[s][1], K = shapes[s][2];
                size_t Kc = tu_classes_for(loss, K), k = ref_n_outputs(loss, Kc);
                size_t nw = ref_n_weights(loss, d, Kc);
                ref_rng r;
                double *X, *y, *W, *ga = calloc(nw, sizeof *ga), *gb = calloc(nw, sizeof *gb);
                double la = 0.5, lb = 0.5;
                ref_rng_seed(&r, 6000 + 31 * (uint64_t)loss + 2 * s + sc);
                ref_random_problem(&r, loss, n, d, Kc, scales[sc], &X, &y);
                W = tu_random_weights(&r, nw, 0.3);
                rl_block_portable(loss, d, k, W, X, y, n, ga, &la);
                rl_block_portable_avx2(loss, d, k, W, X, y, n, gb, &lb);
                ck_assert_msg(memcmp(&la, &lb, sizeof la) == 0 &&
                                  memcmp(ga, gb, nw * sizeof *ga) == 0,
                              "avx2 %s n=%zu d=%zu K=%zu scale %g: not bit-identical (loss %.17g "
                              "vs %.17g, gradient max rel diff %g)",
                              tu_loss_name(loss), n, d, K, scales[sc], lb, la,
                              ref_max_rel_diff(gb, ga, nw, 1e-300));
                {
                    /* each version steps its own copy of the weights; cap 2: a weight near
                     * DBL_MAX sends the step to next (softmax steps always go there; more than
                     * RL_ROW_STEP_MAX_K classes are refused by both) */
                    const size_t bytes = nw * sizeof(double);
                    double *na = malloc(bytes), *nb = malloc(bytes);
                    double *wa = malloc(bytes), *wb = malloc(bytes);
                    for (int cap = 0; cap < 3; cap++) {
                        memcpy(wa, W, bytes);
                        if (cap == 2)
                            wa[0] = 1.5e308;
                        memcpy(wb, wa, bytes);
                        int oa = rl_row_step(loss, d, k, wa, X, y[0], 0.3, 0.01, cap ? 0.25 : 0.0,
                                             1, na, &la);
                        int ob = rl_row_step_avx2(loss, d, k, wb, X, y[0], 0.3, 0.01,
                                                  cap ? 0.25 : 0.0, 1, nb, &lb);
                        const double *oa_w = oa == RL_ROW_IN_NEXT ? na : wa;
                        const double *ob_w = ob == RL_ROW_IN_NEXT ? nb : wb;
                        ck_assert_msg(oa == ob && (oa == 0 || (memcmp(&la, &lb, sizeof la) == 0 &&
                                                               memcmp(oa_w, ob_w, bytes) == 0)),
                                      "avx2 row step %s d=%zu K=%zu cap %d: not bit-identical",
                                      tu_loss_name(loss), d, K, cap);
                    }
                    free(na);
                    free(nb);
                    free(wa);
                    free(wb);
                }
                free(X);
                free(y);
                free(W);
                free(ga);
                free(gb);
            }
#else
    ck_assert_msg(rl_kernels_avx2() == 0, "built without AVX2 kernels, yet they are reported");
    printf("built without the AVX2 kernels: nothing to compare\n");
#endif
}
END_TEST

/* Which kernel rl_kernel_sums and a step's sums use, told apart by their bits: the CBLAS one
 * for softmax from classes x features >= 1024 (and for a step, from 64 rows), the portable
 * one otherwise and in builds without CBLAS. */
static int same_sums(int loss, size_t d, size_t K, size_t n, int step, rl_block_fn want)
{
    ref_rng r;
    double *X, *y, *W, lk = 0.0, lw = 0.0;
    rill_model *m = tu_new_model_for(loss, d, K);
    const size_t nw = rill_model_n_weights(m), k = nw / (d + 1);
    double *gk = calloc(nw, sizeof *gk), *gw = calloc(nw, sizeof *gw);
    ref_rng_seed(&r, 5000 + d + K + n);
    ref_random_problem(&r, loss, n, d, tu_classes_for(loss, K), 1.0, &X, &y);
    W = tu_random_weights(&r, nw, 0.2);
    ck_assert_int_eq(rill_model_set_weights(m, W, nw), RILL_OK);
    if (step)
        rl_kernel_step_sums(m, X, y, n, gk, &lk);
    else
        rl_kernel_sums(m, W, X, y, n, gk, &lk);
    want(loss, d, k, W, X, y, n, gw, &lw);
    const int same = lk == lw && memcmp(gk, gw, nw * sizeof *gk) == 0;
    free(X);
    free(y);
    free(W);
    free(gk);
    free(gw);
    rill_model_free(m);
    return same;
}

START_TEST(test_kernel_dispatch)
{
    const rl_block_fn blas = rl_block_blas ? rl_block_blas : rl_block_portable;
    ck_assert_msg(same_sums(RILL_SOFTMAX, 255, 4, 70, 0, rl_block_portable),
                  "softmax 4 x 255: not the portable kernel");
    ck_assert_msg(same_sums(RILL_SOFTMAX, 256, 4, 70, 0, blas), "softmax 4 x 256: not CBLAS");
    ck_assert_msg(same_sums(RILL_SOFTMAX, 102, 10, 70, 0, rl_block_portable),
                  "softmax 10 x 102: not the portable kernel");
    ck_assert_msg(same_sums(RILL_SOFTMAX, 103, 10, 70, 0, blas), "softmax 10 x 103: not CBLAS");
    ck_assert_msg(same_sums(RILL_LOGISTIC, 2000, 2, 70, 0, rl_block_portable),
                  "logistic: not the portable kernel");
    ck_assert_msg(same_sums(RILL_SOFTMAX, 256, 4, 63, 1, rl_block_portable),
                  "a step of 63 rows: not the portable kernel");
    ck_assert_msg(same_sums(RILL_SOFTMAX, 256, 4, 64, 1, blas), "a step of 64 rows: not CBLAS");
    if (rl_block_blas) /* the test tells the kernels apart at these shapes */
        ck_assert_msg(!same_sums(RILL_SOFTMAX, 256, 4, 70, 0, rl_block_portable),
                      "CBLAS and portable sums have the same bits: the test cannot tell them "
                      "apart");
}
END_TEST

START_TEST(test_kernel_blas_matches_portable)
{
    const size_t shapes[][3] = {{1, 1, 2},    {5, 3, 3},    {63, 2, 2},    {64, 7, 2},
                                {65, 10, 5},  {200, 4, 10}, {130, 33, 3},  {257, 64, 10},
                                {100, 300, 4}, {70, 5, 100}};
    size_t s;
    int loss;
    if (rl_block_blas == NULL) {
        printf("rl_block_blas is NULL (built without CBLAS): nothing to compare\n");
        return;
    }
    for (loss = RILL_SQUARED; loss <= RILL_SOFTMAX; loss++)
        for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            size_t n = shapes[s][0], d = shapes[s][1], K = shapes[s][2];
            size_t Kc = tu_classes_for(loss, K), k = ref_n_outputs(loss, Kc);
            size_t nw = ref_n_weights(loss, d, Kc), j;
            ref_rng r;
            double *X, *y, *W, *gp = malloc(nw * sizeof *gp), *gb = malloc(nw * sizeof *gb);
            double lp = 0.25, lb = 0.25, e;
            ref_rng_seed(&r, 4000 + 31 * (uint64_t)loss + s);
            ref_random_problem(&r, loss, n, d, Kc, 2.0, &X, &y);
            W = tu_random_weights(&r, nw, 0.3);
            /* both kernels add to the running sums: start from the same non-zero values */
            for (j = 0; j < nw; j++)
                gp[j] = gb[j] = 0.125 * (double)(j % 7) - 0.25;
            rl_block_portable(loss, d, k, W, X, y, n, gp, &lp);
            rl_block_blas(loss, d, k, W, X, y, n, gb, &lb);
            ck_assert_msg(rel_scalar(lb, lp) <= 1e-12,
                          "blas %s n=%zu d=%zu K=%zu: loss %.17g, portable %.17g", tu_loss_name(loss),
                          n, d, K, lb, lp);
            e = ref_max_rel_diff(gb, gp, nw, 1e-300);
            ck_assert_msg(e <= 1e-12, "blas %s n=%zu d=%zu K=%zu: gradient differs by %g",
                          tu_loss_name(loss), n, d, K, e);
            /* loss only */
            lp = 0.0;
            lb = 0.0;
            rl_block_portable(loss, d, k, W, X, y, n, NULL, &lp);
            rl_block_blas(loss, d, k, W, X, y, n, NULL, &lb);
            ck_assert_msg(rel_scalar(lb, lp) <= 1e-12,
                          "blas %s n=%zu d=%zu K=%zu (loss only): %.17g vs %.17g",
                          tu_loss_name(loss), n, d, K, lb, lp);
            free(X);
            free(y);
            free(W);
            free(gp);
            free(gb);
        }
}
END_TEST

/* ------------------------------------------------------------------ known answers */

START_TEST(test_known_answer_squared)
{
    /* d = 2, three rows, w = (1, -1), intercept 0.5:
     *   yhat = -0.5, -0.5, 4.5; residuals r = yhat - y = -0.5, -1.5, 2.5
     *   loss = (0.25 + 2.25 + 6.25) / 2 = 4.375
     *   grad = sum r x = (-0.5*1 + 2.5*3, -0.5*2 - 1.5*1 - 2.5*1, -0.5 - 1.5 + 2.5)
     *        = (7, -5, 0.5) -- all exact in binary floating point */
    const double X[6] = {1, 2, 0, 1, 3, -1};
    const double y[3] = {0, 1, 2};
    const double W[3] = {1, -1, 0.5};
    const double expect[3] = {7, -5, 0.5};
    double g[3], l;
    rill_model *m = tu_new_model_for(RILL_SQUARED, 2, 0);
    ck_assert_int_eq(rill_model_set_weights(m, W, 3), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, 3, g, &l), RILL_OK);
    ck_assert_msg(l == 4.375, "loss sum %.17g, expected 4.375", l);
    ck_assert_msg(g[0] == expect[0] && g[1] == expect[1] && g[2] == expect[2],
                  "grad sum (%.17g, %.17g, %.17g), expected (7, -5, 0.5)", g[0], g[1], g[2]);
    rill_model_free(m);
}
END_TEST

START_TEST(test_known_answer_logistic_softmax)
{
    /* At w = 0: logistic p = 1/2, loss log 2 per row, grad = sum (1/2 - y) x~;
     * softmax p = 1/K, loss log K per row, grad_k = sum (1/K - [y = k]) x~. */
    const double X[6] = {1, 2, 0, 1, 3, -1};
    const double yl[3] = {0, 1, 1};
    const double ys[3] = {0, 2, 2};
    double g[9], l, e;
    rill_model *m = tu_new_model_for(RILL_LOGISTIC, 2, 2);
    ck_assert_int_eq(rill_gradient(m, X, yl, 3, g, &l), RILL_OK);
    /* grad = 0.5*(1,2,1) - 0.5*(0,1,1) - 0.5*(3,-1,1) = (-1, 1, -0.5) */
    ck_assert_msg(fabs(l - 3.0 * log(2.0)) <= 1e-15 * 3.0 * log(2.0), "logistic loss %.17g", l);
    ck_assert_msg(g[0] == -1.0 && g[1] == 1.0 && g[2] == -0.5,
                  "logistic grad (%.17g, %.17g, %.17g), expected (-1, 1, -0.5)", g[0], g[1], g[2]);
    rill_model_free(m);

    m = tu_new_model_for(RILL_SOFTMAX, 2, 3);
    ck_assert_int_eq(rill_gradient(m, X, ys, 3, g, &l), RILL_OK);
    ck_assert_msg(fabs(l - 3.0 * log(3.0)) <= 1e-15 * 3.0 * log(3.0), "softmax loss %.17g", l);
    {
        /* sum x~ = (4, 2, 3); class 0 rows {0}: (1,2,1); class 1: none; class 2 rows {1,2}:
         * (3,0,2) */
        const double sx[3] = {4, 2, 3};
        const double c0[3] = {1, 2, 1}, c2[3] = {3, 0, 2};
        double ex[9];
        size_t j;
        for (j = 0; j < 3; j++) {
            ex[j] = sx[j] / 3.0 - c0[j];
            ex[3 + j] = sx[j] / 3.0;
            ex[6 + j] = sx[j] / 3.0 - c2[j];
        }
        e = ref_max_rel_diff(g, ex, 9, 1e-300);
        ck_assert_msg(e <= 1e-15, "softmax known answer off by %g", e);
    }
    rill_model_free(m);
}
END_TEST

/* The gradient is taken at the evaluation point: with weights set, at those weights, and the
 * penalty never enters the sums. */
START_TEST(test_gradient_excludes_penalty)
{
    const size_t n = 20, d = 3;
    ref_rng r;
    double *X, *y, *W, g0[4], g1[4], l0, l1;
    rill_model *m = tu_new_model_for(RILL_SQUARED, d, 0);
    ref_rng_seed(&r, 77);
    ref_random_problem(&r, RILL_SQUARED, n, d, 0, 1.0, &X, &y);
    W = tu_random_weights(&r, d + 1, 1.0);
    ck_assert_int_eq(rill_model_set_weights(m, W, d + 1), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g0, &l0), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_L2, 3.0), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_L1, 2.0), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g1, &l1), RILL_OK);
    ck_assert_msg(memcmp(g0, g1, sizeof g0) == 0 && l0 == l1,
                  "rill_gradient changed with RILL_L2/RILL_L1: the sums must exclude the penalty");
    free(X);
    free(y);
    free(W);
    rill_model_free(m);
}
END_TEST

static Suite *gradient_suite(void)
{
    Suite *s = suite_create("gradient");
    TCase *tc = tcase_create("reference");
    tcase_add_loop_test(tc, test_gradient_matches_reference_and_fd, RILL_SQUARED, RILL_SOFTMAX + 1);
    tcase_add_loop_test(tc, test_gradient_extreme_scores, 0, 2);
    tcase_add_test(tc, test_known_answer_squared);
    tcase_add_test(tc, test_known_answer_logistic_softmax);
    tcase_add_test(tc, test_gradient_excludes_penalty);
    tcase_add_test(tc, test_loss_math_accuracy);
    suite_add_tcase(s, tc);

    tc = tcase_create("mergeable");
    tcase_add_loop_test(tc, test_gradient_mergeable, RILL_SQUARED, RILL_SOFTMAX + 1);
    suite_add_tcase(s, tc);

    tc = tcase_create("kernels");
    tcase_add_test(tc, test_kernel_portable_matches_reference);
    tcase_add_test(tc, test_kernel_blas_matches_portable);
    tcase_add_test(tc, test_kernel_dispatch);
    tcase_add_test(tc, test_row_step_matches_reference);
    tcase_add_test(tc, test_row_step_softmax_matches_reference);
    tcase_add_test(tc, test_kernel_avx2_bit_identical);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(gradient_suite)
