/*
 * The micro-batch splitter (rill_stream_*) and the stochastic rill_fit built on it, held to
 * references computed here or in ref.c, never to recorded outputs:
 *
 *  - chunking invariance (random partitions of the same rows, every mode and loss);
 *  - PASS replayed k times = rill_fit with RILL_MAX_EPOCHS = k;
 *  - EXACT = the closed-form ridge solution (long double Gaussian elimination here);
 *  - mergeable gradient sums and a simulated sharded loop;
 *  - a long stream under a counting allocator (no allocation after rill_stream_new);
 *  - all-or-nothing pushes, borrowing (RILL_ESTATE), STEP = rill_step by hand;
 *  - seeded shuffled epochs (rl_perm_at is a permutation), the progress callback.
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

/* ------------------------------------------------------------------ helpers */

static const char *mode_name(int mode)
{
    return mode == RILL_STREAM_STEP ? "STEP" : mode == RILL_STREAM_PASS ? "PASS" : "EXACT";
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static rill_stream *new_stream(rill_model *m, size_t b, int mode)
{
    rill_stream *s = NULL;
    int rc = rill_stream_new(&s, m, b, mode);
    ck_assert_msg(rc == RILL_OK && s != NULL, "rill_stream_new(b=%zu, %s) = %d (%s)", b,
                  mode_name(mode), rc, rill_model_error(m));
    return s;
}

static void push_ok(rill_stream *s, rill_model *m, const double *X, const double *y, size_t n,
                    const char *what)
{
    int rc = rill_stream_push(s, X, y, n);
    ck_assert_msg(rc == RILL_OK, "%s: rill_stream_push(%zu rows) = %d (%s)", what, n, rc,
                  rill_model_error(m));
}

static void flush_ok(rill_stream *s, rill_model *m, const char *what)
{
    int rc = rill_stream_flush(s);
    ck_assert_msg(rc == RILL_OK, "%s: rill_stream_flush = %d (%s)", what, rc, rill_model_error(m));
}

/* A copy of rows [r0, r0 + n) in a 64-byte aligned buffer (as a stream's buffer is). */
static double *aligned_copy(const double *src, size_t count)
{
    void *p = NULL;
    ck_assert(posix_memalign(&p, 64, (count ? count : 1) * sizeof(double)) == 0);
    memcpy(p, src, count * sizeof(double));
    return p;
}

/* The objective of w on the data (long double reference). */
static long double objective_at(int loss, const double *X, const double *y, size_t n, size_t d,
                                size_t K, const double *w, double l2, double l1)
{
    return ref_objective_l(loss, X, y, n, d, K, w, l2, l1);
}

/* Loads diabetes with labels thresholded for logistic regression. */
static void load_diabetes_logistic(ref_data *D)
{
    ref_load("diabetes.csv", D);
    ref_threshold_labels(D->y, D->n, 140.0);
}

/* A problem: rows and the model configuration that goes with them. */
typedef struct problem {
    const char *name;
    int loss;
    size_t K; /* n_classes argument */
    const double *X, *y;
    size_t n, d;
    double l2, l1;
    int schedule;   /* 0 = default */
    double lr;      /* learning rate, 0 = automatic */
    double average; /* RILL_AVERAGE */
} problem;

static rill_model *problem_model(const problem *p)
{
    rill_model *m = tu_new_model(p->loss, p->d, p->K);
    tu_set_param(m, RILL_L2, p->l2);
    tu_set_param(m, RILL_L1, p->l1);
    if (p->schedule)
        tu_set_param(m, RILL_SCHEDULE, p->schedule);
    tu_set_param(m, RILL_LEARNING_RATE, p->lr);
    tu_set_param(m, RILL_AVERAGE, p->average);
    return m;
}

/* ------------------------------------------------------------------ 1. chunking invariance */

/* Size of the next push: 1, up to one micro-batch, up to a few, or up to everything left. */
static size_t next_chunk(ref_rng *r, size_t b, size_t left)
{
    size_t c;
    switch (ref_rng_u64(r) % 4) {
    case 0: c = 1; break;
    case 1: c = 1 + (size_t)(ref_rng_u64(r) % b); break;
    case 2: c = 1 + (size_t)(ref_rng_u64(r) % (3 * b + 5)); break;
    default: c = 1 + (size_t)(ref_rng_u64(r) % left); break;
    }
    return c < left ? c : left;
}

/* The observable result of a run: weights and statistics. */
typedef struct outcome {
    double *w;
    double stats[6];
    size_t nw;
} outcome;

static const int outcome_stats[6] = {RILL_STAT_STEPS,  RILL_STAT_ROWS,
                                     RILL_STAT_LOSS,   RILL_STAT_PROGRESSIVE_LOSS,
                                     RILL_STAT_EPOCHS, RILL_STAT_CONVERGED};

/* partition: 0 = one push per pass, 1 = one row per push, else random chunks seeded by it. */
static void run_stream(const problem *p, int mode, size_t b, int passes, uint64_t partition,
                       outcome *out)
{
    rill_model *m = problem_model(p);
    rill_stream *s = new_stream(m, b, mode);
    ref_rng r;
    int pass, i;
    char what[160];
    ref_rng_seed(&r, partition);
    snprintf(what, sizeof what, "%s %s b=%zu partition %llu", p->name, mode_name(mode), b,
             (unsigned long long)partition);
    for (pass = 0; pass < passes; pass++) {
        size_t off = 0;
        while (off < p->n) {
            size_t left = p->n - off;
            size_t c = partition == 0 ? left : partition == 1 ? 1 : next_chunk(&r, b, left);
            push_ok(s, m, p->X + off * p->d, p->y + off, c, what);
            off += c;
        }
        flush_ok(s, m, what);
    }
    rill_stream_free(s);
    out->w = tu_get_weights(m);
    out->nw = rill_model_n_weights(m);
    for (i = 0; i < 6; i++)
        out->stats[i] = tu_get_param(m, outcome_stats[i]);
    rill_model_free(m);
}

static void check_chunking(const problem *p, int mode, size_t b, int n_partitions)
{
    const int passes = mode == RILL_STREAM_PASS ? 3 : 2;
    outcome ref, o;
    uint64_t part;
    int i;
    run_stream(p, mode, b, passes, 0, &ref);
    ck_assert_msg(ref_all_finite(ref.w, ref.nw), "%s %s b=%zu: non-finite weights", p->name,
                  mode_name(mode), b);
    for (part = 1; part < (uint64_t)n_partitions + 2; part++) {
        run_stream(p, mode, b, passes, part == 1 ? 1 : 1000 + part * 7919, &o);
        ck_assert_msg(memcmp(o.w, ref.w, ref.nw * sizeof(double)) == 0,
                      "%s %s b=%zu: partition %llu gives different weights than one push per "
                      "pass (max rel diff %g)",
                      p->name, mode_name(mode), b, (unsigned long long)part,
                      ref_max_rel_diff(o.w, ref.w, ref.nw, 1e-300));
        for (i = 0; i < 6; i++)
            ck_assert_msg(same_bits(o.stats[i], ref.stats[i]),
                          "%s %s b=%zu: partition %llu: statistic %d is %.17g, one push gives "
                          "%.17g",
                          p->name, mode_name(mode), b, (unsigned long long)part, outcome_stats[i],
                          o.stats[i], ref.stats[i]);
        free(o.w);
    }
    free(ref.w);
}

START_TEST(test_chunking_invariance)
{
    static const size_t batch[] = {1, 7, 64, 100};
    ref_data D, L, I;
    ref_rng r;
    double *Xs, *ys, *Xl, *yl, *Xk, *yk;
    size_t bi, pi;
    ref_load("diabetes.csv", &D);
    load_diabetes_logistic(&L);
    ref_load("iris.csv", &I);
    ref_rng_seed(&r, 101);
    ref_random_problem(&r, REF_SQUARED, 301, 6, 0, 2.0, &Xs, &ys);
    ref_random_problem(&r, REF_LOGISTIC, 257, 5, 2, 1.0, &Xl, &yl);
    ref_random_problem(&r, REF_SOFTMAX, 233, 4, 4, 1.0, &Xk, &yk);
    {
        const problem probs[] = {
            {"squared/diabetes raw l2", RILL_SQUARED, 0, D.X, D.y, D.n, D.d, 1e-3, 0, 0, 0, 0},
            {"squared/random l2+l1", RILL_SQUARED, 0, Xs, ys, 301, 6, 1e-3, 0.05, 0, 0, 0},
            {"squared/random adagrad avg", RILL_SQUARED, 0, Xs, ys, 301, 6, 1e-2, 0,
             RILL_SCHEDULE_ADAGRAD, 0.1, 20},
            {"logistic/diabetes raw", RILL_LOGISTIC, 2, L.X, L.y, L.n, L.d, 1e-3, 0, 0, 0, 0},
            {"logistic/random", RILL_LOGISTIC, 2, Xl, yl, 257, 5, 1e-2, 0, 0, 0, 0},
            {"softmax/iris", RILL_SOFTMAX, 3, I.X, I.y, I.n, I.d, 1e-3, 0, 0, 0, 0},
            {"softmax/random K=4 l1", RILL_SOFTMAX, 4, Xk, yk, 233, 4, 1e-3, 0.01,
             RILL_SCHEDULE_CONSTANT, 0.05, 0},
        };
        for (pi = 0; pi < sizeof probs / sizeof probs[0]; pi++) {
            for (bi = 0; bi < sizeof batch / sizeof batch[0]; bi++) {
                check_chunking(&probs[pi], RILL_STREAM_STEP, batch[bi], 50);
                check_chunking(&probs[pi], RILL_STREAM_PASS, batch[bi], 50);
                if (probs[pi].loss == RILL_SQUARED && probs[pi].l1 == 0.0)
                    check_chunking(&probs[pi], RILL_STREAM_EXACT, batch[bi], 50);
            }
            printf("chunking: %s: STEP, PASS%s bit-identical over 52 partitions x b in "
                   "{1,7,64,100}\n",
                   probs[pi].name,
                   probs[pi].loss == RILL_SQUARED && probs[pi].l1 == 0.0 ? ", EXACT" : "");
        }
    }
    free(Xs);
    free(ys);
    free(Xl);
    free(yl);
    free(Xk);
    free(yk);
    ref_data_free(&D);
    ref_data_free(&L);
    ref_data_free(&I);
}
END_TEST

/* ------------------------------------------------------------------ 2. PASS = rill_fit */

static void check_pass_equals_fit(const char *name, int loss, size_t K, const double *X,
                                  const double *y, size_t n, size_t d, double l2, size_t b,
                                  int kmax)
{
    rill_model *sm = tu_new_model(loss, d, K);
    rill_stream *s;
    const int bits = b % RILL_BLOCK_ROWS == 0 && rl_block_blas == NULL;
    int k, n_bit_equal = 0;
    double worst = 0.0;
    tu_set_param(sm, RILL_L2, l2);
    s = new_stream(sm, b, RILL_STREAM_PASS);
    for (k = 1; k <= kmax; k++) {
        rill_model *f = tu_new_model(loss, d, K);
        size_t off = 0, chunk = 37;
        double *wf, *ws, fe;
        long double of, os;
        int rc;
        /* one more pass over the stream: uneven chunks */
        while (off < n) {
            size_t take = n - off < chunk ? n - off : chunk;
            push_ok(s, sm, X + off * d, y + off, take, name);
            off += take;
            chunk = chunk == 37 ? 101 : 37;
        }
        flush_ok(s, sm, name);
        tu_set_param(f, RILL_L2, l2);
        tu_set_param(f, RILL_MAX_EPOCHS, k);
        rc = rill_fit(f, X, y, n);
        ck_assert_msg(rc == RILL_OK, "%s: rill_fit(max_epochs %d) = %d (%s)", name, k, rc,
                      rill_model_error(f));
        fe = tu_get_param(f, RILL_STAT_EPOCHS);
        ck_assert_msg(fe == k || (fe < k && tu_get_param(f, RILL_STAT_CONVERGED) == 1.0),
                      "%s: rill_fit with RILL_MAX_EPOCHS %d made %g epochs", name, k, fe);
        wf = tu_get_weights(f);
        ws = tu_get_weights(sm);
        of = objective_at(loss, X, y, n, d, K, wf, l2, 0.0);
        os = objective_at(loss, X, y, n, d, K, ws, l2, 0.0);
        if (memcmp(wf, ws, rill_model_n_weights(f) * sizeof(double)) == 0)
            n_bit_equal++;
        if (bits)
            ck_assert_msg(memcmp(wf, ws, rill_model_n_weights(f) * sizeof(double)) == 0,
                          "%s: b=%zu (multiple of %d, portable kernels): %d PASS replays are not "
                          "bit-identical to rill_fit with RILL_MAX_EPOCHS %d (max rel diff %g)",
                          name, b, RILL_BLOCK_ROWS, k, k,
                          ref_max_rel_diff(ws, wf, rill_model_n_weights(f), 1e-300));
        ck_assert_msg(fabsl(os - of) <= 1e-10L * fabsl(of),
                      "%s: b=%zu: after %d epochs the PASS stream's objective %.17Lg differs "
                      "from rill_fit's %.17Lg by %.3g relative (allowed 1e-10)",
                      name, b, k, os, of, (double)(fabsl(os - of) / fabsl(of)));
        if ((double)(fabsl(os - of) / fabsl(of)) > worst)
            worst = (double)(fabsl(os - of) / fabsl(of));
        /* both report the objective of their accepted point the same way */
        ck_assert_msg(fabs(tu_get_param(sm, RILL_STAT_LOSS) - tu_get_param(f, RILL_STAT_LOSS)) <=
                          1e-10 * fabs(tu_get_param(f, RILL_STAT_LOSS)),
                      "%s: b=%zu, k=%d: RILL_STAT_LOSS %.17g (PASS) vs %.17g (rill_fit)", name, b,
                      k, tu_get_param(sm, RILL_STAT_LOSS), tu_get_param(f, RILL_STAT_LOSS));
        free(wf);
        free(ws);
        rill_model_free(f);
    }
    printf("PASS = rill_fit: %s, b=%zu: k = 1..%d, %d of %d bit-identical%s, worst objective rel "
           "diff %.3g\n",
           name, b, kmax, n_bit_equal, kmax, bits ? " (required)" : "", worst);
    rill_stream_free(s);
    rill_model_free(sm);
}

START_TEST(test_pass_equals_fit)
{
    static const size_t batch[] = {64, 128, 512, 1, 7, 50, 100};
    ref_data D, L, I;
    size_t bi;
    ref_load("diabetes.csv", &D);
    load_diabetes_logistic(&L);
    ref_load("iris.csv", &I);
    for (bi = 0; bi < sizeof batch / sizeof batch[0]; bi++) {
        check_pass_equals_fit("squared/diabetes raw l2 1e-3", RILL_SQUARED, 0, D.X, D.y, D.n, D.d,
                              1e-3, batch[bi], 30);
        check_pass_equals_fit("logistic/diabetes raw l2 1e-3", RILL_LOGISTIC, 2, L.X, L.y, L.n,
                              L.d, 1e-3, batch[bi], 30);
    }
    check_pass_equals_fit("softmax/iris l2 1e-3", RILL_SOFTMAX, 3, I.X, I.y, I.n, I.d, 1e-3, 64,
                          30);
    check_pass_equals_fit("softmax/iris l2 1e-3", RILL_SOFTMAX, 3, I.X, I.y, I.n, I.d, 1e-3, 10,
                          30);
    ref_data_free(&D);
    ref_data_free(&L);
    ref_data_free(&I);
}
END_TEST

/* ------------------------------------------------------------------ 3. EXACT = ridge */

/*
 * Reference ridge by the normal equations in long double, Gaussian elimination with partial
 * pivoting. fit_intercept: on centred data, intercept = ybar - xbar'w. Otherwise the intercept
 * is b0 and (X'X/n + l2 I) w = X'(y - b0)/n. Returns -1 if a pivot vanishes (relative 1e-15).
 */
static int ridge_ge(const double *X, const double *y, size_t n, size_t d, double l2,
                    int fit_intercept, double b0, double *W)
{
    long double *A = calloc(d * (d + 1), sizeof *A), *mx = calloc(d, sizeof *mx), my = 0.0L;
    long double scale = 0.0L;
    size_t i, j, k, c;
    int rc = 0;
    ck_assert(A != NULL && mx != NULL);
    if (fit_intercept) {
        for (i = 0; i < n; i++) {
            for (j = 0; j < d; j++)
                mx[j] += X[i * d + j];
            my += y[i];
        }
        for (j = 0; j < d; j++)
            mx[j] /= (long double)n;
        my /= (long double)n;
    } else {
        my = b0;
    }
    /* augmented [A | rhs], d x (d + 1) */
    for (i = 0; i < n; i++) {
        for (j = 0; j < d; j++) {
            long double xj = (long double)X[i * d + j] - mx[j];
            for (k = 0; k < d; k++)
                A[j * (d + 1) + k] += xj * ((long double)X[i * d + k] - mx[k]);
            A[j * (d + 1) + d] += xj * ((long double)y[i] - my);
        }
    }
    for (j = 0; j < d; j++) {
        for (k = 0; k <= d; k++)
            A[j * (d + 1) + k] /= (long double)n;
        A[j * (d + 1) + j] += (long double)l2;
    }
    /* equilibrated (unit diagonal: column j in units of sqrt(A_jj)), so that the pivot test
     * judges features on different scales alike; w_j is divided back at the end */
    long double *eq = calloc(d, sizeof *eq);
    ck_assert(eq != NULL);
    for (j = 0; j < d; j++)
        eq[j] = A[j * (d + 1) + j] > 0.0L ? sqrtl(A[j * (d + 1) + j]) : 1.0L;
    for (j = 0; j < d; j++) {
        for (k = 0; k < d; k++)
            A[j * (d + 1) + k] /= eq[j] * eq[k];
        A[j * (d + 1) + d] /= eq[j];
        if (fabsl(A[j * (d + 1) + j]) > scale)
            scale = fabsl(A[j * (d + 1) + j]);
    }
    for (c = 0; c < d && rc == 0; c++) {
        size_t piv = c;
        for (i = c + 1; i < d; i++)
            if (fabsl(A[i * (d + 1) + c]) > fabsl(A[piv * (d + 1) + c]))
                piv = i;
        if (!(fabsl(A[piv * (d + 1) + c]) > 1e-15L * scale)) {
            rc = -1;
            break;
        }
        if (piv != c)
            for (k = 0; k <= d; k++) {
                long double t = A[c * (d + 1) + k];
                A[c * (d + 1) + k] = A[piv * (d + 1) + k];
                A[piv * (d + 1) + k] = t;
            }
        for (i = c + 1; i < d; i++) {
            long double f = A[i * (d + 1) + c] / A[c * (d + 1) + c];
            for (k = c; k <= d; k++)
                A[i * (d + 1) + k] -= f * A[c * (d + 1) + k];
        }
    }
    if (rc == 0) {
        long double *w = calloc(d, sizeof *w), b = my;
        for (i = d; i-- > 0;) {
            long double t = A[i * (d + 1) + d];
            for (k = i + 1; k < d; k++)
                t -= A[i * (d + 1) + k] * w[k];
            w[i] = t / A[i * (d + 1) + i];
        }
        for (j = 0; j < d; j++) {
            w[j] /= eq[j];
            W[j] = (double)w[j];
            b -= mx[j] * w[j];
        }
        W[d] = fit_intercept ? (double)b : b0;
        free(w);
    }
    free(A);
    free(mx);
    free(eq);
    return rc;
}

/* max_j |a_j - b_j| / max_j |b_j| over the d feature weights, and the intercept alone. */
static void compare_ridge(const char *what, const double *w, const double *ref, size_t d,
                          double tol)
{
    double rw = ref_max_rel_diff(w, ref, d, 1e-300);
    double rb = fabs(w[d] - ref[d]) / fmax(fabs(ref[d]), 1e-300);
    double worst_comp = 0.0;
    size_t j;
    for (j = 0; j < d; j++) {
        double e = fabs(w[j] - ref[j]) / fmax(fabs(ref[j]), 1e-300);
        worst_comp = e > worst_comp ? e : worst_comp;
    }
    printf("EXACT: %s: weights rel diff %.3g (worst component %.3g), intercept %.3g\n", what, rw,
           worst_comp, rb);
    ck_assert_msg(rw <= tol, "%s: EXACT weights differ from the closed form by %.3g (relative, "
                             "allowed %g)",
                  what, rw, tol);
    ck_assert_msg(rb <= tol || fabs(w[d] - ref[d]) <= tol * ref_max_abs(ref, d + 1),
                  "%s: EXACT intercept %.17g vs closed form %.17g", what, w[d], ref[d]);
}

/* loss_tol: RILL_STAT_LOSS against the long double objective at the weights, relative */
static void check_exact_tol(const char *name, const double *X, const double *y, size_t n,
                            size_t d, double l2, size_t b, double loss_tol)
{
    rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
    rill_stream *s;
    double *ref = malloc((d + 1) * sizeof *ref), *w;
    size_t off = 0, chunk = 1;
    char what[160];
    long double f;
    snprintf(what, sizeof what, "%s l2=%g b=%zu", name, l2, b);
    ck_assert_msg(ridge_ge(X, y, n, d, l2, 1, 0.0, ref) == 0, "%s: reference is singular", what);
    tu_set_param(m, RILL_L2, l2);
    s = new_stream(m, b, RILL_STREAM_EXACT);
    while (off < n) {
        size_t take = n - off < chunk ? n - off : chunk;
        push_ok(s, m, X + off * d, y + off, take, what);
        off += take;
        chunk = chunk * 3 + 1;
    }
    flush_ok(s, m, what);
    rill_stream_free(s);
    w = tu_get_weights(m);
    compare_ridge(what, w, ref, d, 1e-8);
    f = objective_at(RILL_SQUARED, X, y, n, d, 0, w, l2, 0.0);
    ck_assert_msg(fabs(tu_get_param(m, RILL_STAT_LOSS) - (double)f) <= loss_tol * (double)f,
                  "%s: RILL_STAT_LOSS %.17g after EXACT is not the objective at the weights "
                  "%.17Lg",
                  what, tu_get_param(m, RILL_STAT_LOSS), f);
    free(w);
    free(ref);
    rill_model_free(m);
}

static void check_exact(const char *name, const double *X, const double *y, size_t n, size_t d,
                        double l2, size_t b)
{
    check_exact_tol(name, X, y, n, d, l2, b, 1e-8);
}

/* Whether long double has more digits than double here: valgrind runs long double arithmetic
 * in double precision, and a reference objective of rows at an offset of 1e10 (residuals that
 * cancel 1e10-sized terms) then keeps about 6 digits. */
static int long_double_is_extended(void)
{
    volatile long double one = 1.0L;
    return one + 0x1p-60L > one;
}

START_TEST(test_exact_equals_ridge)
{
    static const size_t batch[] = {1, 7, 64, 100, 4096};
    ref_data D;
    size_t bi;
    ref_load("diabetes.csv", &D);
    for (bi = 0; bi < sizeof batch / sizeof batch[0]; bi++) {
        check_exact("diabetes raw", D.X, D.y, D.n, D.d, 1e-3, batch[bi]);
        check_exact("diabetes raw", D.X, D.y, D.n, D.d, 0.0, batch[bi]);
        check_exact("diabetes raw", D.X, D.y, D.n, D.d, 10.0, batch[bi]);
    }
    ref_data_free(&D);
}
END_TEST

/* Offset data: EXACT merges centred moments, so a large common offset must not hurt it. */
START_TEST(test_exact_offset_data)
{
    ref_rng r;
    double *X, *y;
    size_t i, n = 500, d = 4;
    ref_rng_seed(&r, 7);
    ref_random_problem(&r, REF_SQUARED, n, d, 0, 1.0, &X, &y);
    for (i = 0; i < n * d; i++)
        X[i] += 1e4;
    for (i = 0; i < n; i++)
        y[i] += 1e3;
    check_exact("random offset 1e4", X, y, n, d, 0.0, 16);
    check_exact("random offset 1e4", X, y, n, d, 1e-2, 33);
    /* Offsets of 1e10 in small micro-batches: the merges of micro-batch means kept the means
     * at the offset's magnitude and rounded them there, about eps 1e10 per merge (one-row
     * micro-batches were 1e-6 off); they are now of the rows less the first row. */
    for (i = 0; i < n * d; i++)
        X[i] += 1e10 - 1e4;
    for (i = 0; i < n; i++)
        y[i] += 1e8 - 1e3;
    const double loss_tol = long_double_is_extended() ? 1e-8 : 1e-4;
    check_exact_tol("random offset 1e10", X, y, n, d, 0.0, 1, loss_tol);
    check_exact_tol("random offset 1e10", X, y, n, d, 0.0, 7, loss_tol);
    check_exact_tol("random offset 1e10", X, y, n, d, 1e-2, 64, loss_tol);
    free(X);
    free(y);
}
END_TEST

/* EXACT with the intercept fixed near the targets' offset: RILL_STAT_LOSS subtracts the
 * intercept from the targets' shift first (exact there), so the residuals of 1e-4 beside
 * targets of 1e12 keep their digits (the loss was 1e-3 off, relative). The reference
 * subtracts the intercept from each target first too: exact in double. */
START_TEST(test_exact_fixed_intercept_offset)
{
    enum { N = 300 };
    double X[N], y[N], w[2] = {0.0, 1e12}, r = 0.0, f = 0.0;
    for (int i = 0; i < N; i++) {
        X[i] = 0.01 * (double)(i % 37) - 0.2;
        y[i] = 1e12 + (1.5 * X[i] + 1e-4 * (double)((i * 7) % 11 - 5));
    }
    rill_model *m = tu_new_model(RILL_SQUARED, 1, 0);
    tu_set_param(m, RILL_FIT_INTERCEPT, 0);
    ck_assert_int_eq(rill_model_set_weights(m, w, 2), RILL_OK);
    rill_stream *s = new_stream(m, 64, RILL_STREAM_EXACT);
    ck_assert_int_eq(rill_stream_push(s, X, y, N), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
    tu_copy_weights(m, w);
    ck_assert(w[1] == 1e12);
    for (int i = 0; i < N; i++) {
        r = (y[i] - 1e12) - w[0] * X[i];
        f += 0.5 * r * r;
    }
    f /= N;
    const double loss = tu_get_param(m, RILL_STAT_LOSS);
    ck_assert_msg(fabs(loss - f) <= 1e-9 * f, "RILL_STAT_LOSS %.17g, objective %.17g", loss, f);
    rill_stream_free(s);
    rill_model_free(m);
}
END_TEST

/* The overflow test looks at the moments only: with the intercept fitted, the old one (1e308
 * here) plays no part. With it fixed, a system that overflows from finite moments (features
 * near 1e155: n xbar xbar') keeps the moments, and fitting the intercept solves them. */
START_TEST(test_exact_overflow_is_of_the_moments)
{
    const double X[4] = {0, 1, 2, 3}, y[4] = {-1e308, -1e308, -1e308, -1e308};
    double w[2][2];
    for (int k = 0; k < 2; k++) {
        const double w0[2] = {0.0, k ? 1e308 : 0.0};
        rill_model *m = tu_new_model(RILL_SQUARED, 1, 0);
        tu_set_param(m, RILL_L2, 0.1);
        ck_assert_int_eq(rill_model_set_weights(m, w0, 2), RILL_OK);
        rill_stream *s = new_stream(m, 2, RILL_STREAM_EXACT);
        ck_assert_int_eq(rill_stream_push(s, X, y, 4), RILL_OK);
        ck_assert_msg(rill_stream_flush(s) == RILL_OK, "old intercept %g: %s", w0[1],
                      rill_model_error(m));
        tu_copy_weights(m, w[k]);
        rill_stream_free(s);
        rill_model_free(m);
    }
    ck_assert(memcmp(w[0], w[1], sizeof w[0]) == 0 && w[0][1] == -1e308);

    double Xb[4], yb[4] = {0, 1, 2, 3};
    for (int i = 0; i < 4; i++)
        Xb[i] = 1e155 * (1.0 + 1e-3 * i);
    rill_model *m = tu_new_model(RILL_SQUARED, 1, 0);
    tu_set_param(m, RILL_FIT_INTERCEPT, 0);
    rill_stream *s = new_stream(m, 2, RILL_STREAM_EXACT);
    ck_assert_int_eq(rill_stream_push(s, Xb, yb, 4), RILL_OK);
    int rc = rill_stream_flush(s);
    ck_assert_msg(rc == RILL_EDATA && strstr(rill_model_error(m), "solution overflows") != NULL,
                  "fixed intercept, features near 1e155: %d %s", rc, rill_model_error(m));
    tu_set_param(m, RILL_FIT_INTERCEPT, 1); /* the moments were kept */
    ck_assert_msg(rill_stream_flush(s) == RILL_OK, "%s", rill_model_error(m));
    double wb[2];
    tu_copy_weights(m, wb);
    ck_assert_msg(fabs(wb[0] * 1e152 - 1.0) < 1e-9, "w %.17g, expected 1e-152", wb[0]);
    rill_stream_free(s);
    rill_model_free(m);
}
END_TEST

/* Moments that overflow (a feature of 1e155: its square) cannot be solved whatever RILL_L2:
 * the flush says so, keeps the weights and drops the rows, and the stream then solves the
 * next rows as a fresh one does. It had reported them as singular, and kept them, so that no
 * later flush could succeed. */
START_TEST(test_exact_overflow_drops_rows)
{
    const size_t d = 2;
    const double big[4] = {1e155, 1.0, 2.0, 3.0}, yb[2] = {1.0, 2.0};
    const double X[8] = {1, 2, 2, 1, 3, 0, 0, 3}, y[4] = {1, 2, 3, 5};
    double w0[3], w[3], wf[3];
    rill_model *m = tu_new_model(RILL_SQUARED, d, 0), *f = tu_new_model(RILL_SQUARED, d, 0);
    tu_set_param(m, RILL_L2, 0.1);
    tu_set_param(f, RILL_L2, 0.1);
    rill_stream *s = new_stream(m, 2, RILL_STREAM_EXACT), *sf = new_stream(f, 2, RILL_STREAM_EXACT);
    tu_copy_weights(m, w0);
    ck_assert_int_eq(rill_stream_push(s, big, yb, 2), RILL_OK);
    int rc = rill_stream_flush(s);
    ck_assert_msg(rc == RILL_EDATA && strstr(rill_model_error(m), "overflow") != NULL,
                  "flush = %d: %s", rc, rill_model_error(m));
    tu_copy_weights(m, w);
    ck_assert(memcmp(w, w0, sizeof w) == 0);
    ck_assert_int_eq(rill_stream_flush(s), RILL_OK); /* nothing left to solve */
    ck_assert_int_eq(rill_stream_push(s, X, y, 4), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
    ck_assert_int_eq(rill_stream_push(sf, X, y, 4), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(sf), RILL_OK);
    tu_copy_weights(m, w);
    tu_copy_weights(f, wf);
    ck_assert_msg(memcmp(w, wf, sizeof w) == 0, "after the dropped rows: %g %g %g, fresh %g %g %g",
                  w[0], w[1], w[2], wf[0], wf[1], wf[2]);
    rill_stream_free(s);
    rill_stream_free(sf);
    rill_model_free(m);
    rill_model_free(f);
}
END_TEST

/* Features on very different scales (a column in units of 1e7 beside a 0/1 indicator) are
 * not singular: the solve judges each column against its own scale. */
START_TEST(test_exact_mixed_scales)
{
    const size_t n = 40, d = 3;
    double *X = malloc(n * d * sizeof *X), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        X[i * d] = 1e7 * (double)(i + 1);
        X[i * d + 1] = (double)(i % 2);
        X[i * d + 2] = 1e-6 * (double)((7 * i) % 5);
        y[i] = 1e-7 * X[i * d] + 3.0 * X[i * d + 1] + 2e5 * X[i * d + 2] + 0.01 * (double)((3 * i) % 4);
    }
    check_exact("mixed scales", X, y, n, d, 0.0, 8);
    check_exact("mixed scales", X, y, n, d, 1e-6, 8);
    free(X);
    free(y);
}
END_TEST

/* A constant column is singular (with the intercept fitted) whatever its value: 0.1, whose
 * sums round, included, at every micro-batch size. */
START_TEST(test_exact_constant_column_singular)
{
    const size_t n = 30, d = 2;
    const size_t batches[] = {1, 3, 7, 16, 32, 64};
    const double constants[] = {0.1, 3.0, 1e-3, 7.7e5, -0.3};
    double X[60], y[30];
    for (size_t c = 0; c < sizeof constants / sizeof constants[0]; c++)
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
            for (size_t i = 0; i < n; i++) {
                X[i * d] = 0.5 * (double)i - 3.0;
                X[i * d + 1] = constants[c];
                y[i] = 2.0 * X[i * d] + 0.25 * (double)(i % 3);
            }
            rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
            rill_stream *s = new_stream(m, batches[b], RILL_STREAM_EXACT);
            ck_assert_int_eq(rill_stream_push(s, X, y, n), RILL_OK);
            int rc = rill_stream_flush(s);
            ck_assert_msg(rc == RILL_EDATA,
                          "constant column %g, micro-batches of %zu: flush = %d, expected "
                          "RILL_EDATA (singular)", constants[c], batches[b], rc);
            rill_stream_free(s);
            rill_model_free(m);
        }
}
END_TEST

START_TEST(test_exact_errors)
{
    ref_data D;
    rill_model *m, *lg, *sm;
    rill_stream *s = NULL, *sentinel = (rill_stream *)&s;
    double *X2, *w0, *w;
    size_t i, j, d;
    int rc;
    static const int bad_modes[] = {0, 4, -1, 99, 1000};
    ref_load("diabetes.csv", &D);
    d = D.d;

    /* singular: a duplicated column, l2 = 0 */
    X2 = malloc(D.n * (d + 1) * sizeof *X2);
    for (i = 0; i < D.n; i++) {
        for (j = 0; j < d; j++)
            X2[i * (d + 1) + j] = D.X[i * d + j];
        X2[i * (d + 1) + d] = D.X[i * d + 2];
    }
    m = tu_new_model(RILL_SQUARED, d + 1, 0);
    w0 = tu_get_weights(m);
    s = new_stream(m, 32, RILL_STREAM_EXACT);
    push_ok(s, m, X2, D.y, D.n, "singular");
    rc = rill_stream_flush(s);
    ck_assert_msg(rc == RILL_EDATA, "EXACT flush on a duplicated column with l2 = 0 = %d, want "
                                    "RILL_EDATA",
                  rc);
    ck_assert_msg(strlen(rill_model_error(m)) > 0, "EXACT singular: no error message");
    printf("EXACT singular: \"%s\"\n", rill_model_error(m));
    w = tu_get_weights(m);
    ck_assert_msg(memcmp(w, w0, (d + 2) * sizeof *w) == 0,
                  "EXACT singular flush changed the weights");
    free(w);
    /* the moments are kept and the model released: with l2 > 0 a second flush solves the
     * same rows without pushing them again, and matches closed-form ridge */
    tu_set_param(m, RILL_L2, 1e-2);
    rc = rill_stream_flush(s);
    ck_assert_msg(rc == RILL_OK, "EXACT flush after setting l2 = %d: %s", rc, rill_model_error(m));
    {
        double *wr = malloc((d + 2) * sizeof *wr);
        ck_assert(ridge_ge(X2, D.y, D.n, d + 1, 1e-2, 1, 0.0, wr) == 0);
        w = tu_get_weights(m);
        ck_assert_msg(ref_max_rel_diff(w, wr, d + 2, 1e-12) <= 1e-8,
                      "EXACT re-flush with l2 1e-2: max rel diff %g from ridge",
                      ref_max_rel_diff(w, wr, d + 2, 1e-12));
        free(w);
        free(wr);
    }
    rill_stream_free(s);
    rill_model_free(m);
    check_exact("diabetes + duplicated column", X2, D.y, D.n, d + 1, 1e-2, 50);
    {
        /* a constant column is singular too (after centring) */
        for (i = 0; i < D.n; i++)
            X2[i * (d + 1) + d] = 3.0;
        m = tu_new_model(RILL_SQUARED, d + 1, 0);
        s = new_stream(m, 100, RILL_STREAM_EXACT);
        push_ok(s, m, X2, D.y, D.n, "constant column");
        rc = rill_stream_flush(s);
        ck_assert_msg(rc == RILL_EDATA, "EXACT flush with a constant column, l2 = 0 = %d", rc);
        ck_assert_msg(strlen(rill_model_error(m)) > 0, "EXACT constant column: no message");
        rill_stream_free(s);
        rill_model_free(m);
    }
    free(X2);
    free(w0);

    /* EXACT refuses L1 and non-squared losses at rill_stream_new; out is left untouched */
    m = tu_new_model(RILL_SQUARED, d, 0);
    tu_set_param(m, RILL_L1, 0.1);
    s = sentinel;
    rc = rill_stream_new(&s, m, 10, RILL_STREAM_EXACT);
    ck_assert_msg(rc == RILL_EINVAL, "EXACT with L1: rill_stream_new = %d, want RILL_EINVAL", rc);
    ck_assert_msg(s == sentinel, "failed rill_stream_new wrote *out");
    ck_assert_msg(strlen(rill_model_error(m)) > 0, "EXACT with L1: no message");
    lg = tu_new_model(RILL_LOGISTIC, d, 2);
    rc = rill_stream_new(&s, lg, 10, RILL_STREAM_EXACT);
    ck_assert_msg(rc == RILL_EINVAL, "EXACT with logistic: rill_stream_new = %d", rc);
    sm = tu_new_model(RILL_SOFTMAX, d, 3);
    rc = rill_stream_new(&s, sm, 10, RILL_STREAM_EXACT);
    ck_assert_msg(rc == RILL_EINVAL, "EXACT with softmax: rill_stream_new = %d", rc);
    ck_assert(s == sentinel);
    /* unknown modes */
    for (i = 0; i < sizeof bad_modes / sizeof bad_modes[0]; i++) {
        rc = rill_stream_new(&s, lg, 10, bad_modes[i]);
        ck_assert_msg(rc == RILL_EUNSUPPORTED, "rill_stream_new(mode %d) = %d, want "
                                               "RILL_EUNSUPPORTED",
                      bad_modes[i], rc);
        ck_assert(s == sentinel);
    }
    rc = rill_stream_new(&s, lg, 0, RILL_STREAM_STEP);
    ck_assert_msg(rc == RILL_EINVAL, "rill_stream_new(batch_rows 0) = %d", rc);
    ck_assert_int_eq(rill_stream_new(NULL, lg, 10, RILL_STREAM_STEP), RILL_EINVAL);
    ck_assert_int_eq(rill_stream_new(&s, NULL, 10, RILL_STREAM_STEP), RILL_EINVAL);
    ck_assert(s == sentinel);
    rill_model_free(m);
    rill_model_free(lg);
    rill_model_free(sm);
    ref_data_free(&D);
}
END_TEST

/*
 * RILL_L1 set after rill_stream_new(EXACT) (allowed while the stream is idle): EXACT cannot
 * solve an L1 problem, so the stream must not hand back the ridge solution as if it were the
 * model's optimum: the push or the flush is refused with RILL_EINVAL, the weights unchanged.
 */
START_TEST(test_exact_l1_set_later)
{
    ref_data D;
    rill_model *m;
    rill_stream *s;
    double *w0, *w;
    int rc_set, rc_push, rc_flush;
    ref_load("diabetes.csv", &D);
    m = tu_new_model(RILL_SQUARED, D.d, 0);
    s = new_stream(m, 64, RILL_STREAM_EXACT);
    w0 = tu_get_weights(m);
    rc_set = rill_model_set(m, RILL_L1, 0.5);
    if (rc_set == RILL_OK) {
        rc_push = rill_stream_push(s, D.X, D.y, D.n);
        rc_flush = rc_push == RILL_OK ? rill_stream_flush(s) : rc_push;
        w = tu_get_weights(m);
        ck_assert_msg(rc_push == RILL_EINVAL || rc_flush == RILL_EINVAL,
                      "EXACT stream with RILL_L1 = 0.5 set after rill_stream_new: push = %d, "
                      "flush = %d; the flush solved ridge ignoring L1 (objective with L1 %.10Lg)",
                      rc_push, rc_flush,
                      objective_at(RILL_SQUARED, D.X, D.y, D.n, D.d, 0, w, 0.0, 0.5));
        ck_assert_msg(memcmp(w, w0, (D.d + 1) * sizeof *w) == 0,
                      "refused EXACT push/flush changed the weights");
        free(w);
    }
    rill_stream_free(s);
    rill_model_free(m);
    free(w0);
    ref_data_free(&D);

    /* set while a refused flush had released the model (singular: a constant column) */
    const double Xc[8] = {1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 4.0, 5.0}, yc[4] = {1.0, 2.0, 2.5, 4.0};
    m = tu_new_model(RILL_SQUARED, 2, 0);
    s = new_stream(m, 4, RILL_STREAM_EXACT);
    ck_assert_int_eq(rill_stream_push(s, Xc, yc, 4), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(s), RILL_EDATA);
    ck_assert_int_eq(rill_model_set(m, RILL_L1, 0.5), RILL_OK);
    ck_assert_int_eq(rill_model_set(m, RILL_L2, 0.01), RILL_OK);
    w0 = tu_get_weights(m);
    ck_assert_msg(rill_stream_flush(s) == RILL_EINVAL,
                  "an EXACT flush with RILL_L1 set after a refused flush solved ridge");
    w = tu_get_weights(m);
    ck_assert_msg(memcmp(w, w0, 3 * sizeof *w) == 0, "the refused flush changed the weights");
    free(w);
    /* the moments were kept: without L1 the flush solves the ridge problem on the rows */
    ck_assert_int_eq(rill_model_set(m, RILL_L1, 0.0), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
    ck_assert(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0);
    rill_stream_free(s);
    rill_model_free(m);
    free(w0);
}
END_TEST

/* fit_intercept 0: the intercept stays as set (bit for bit), the rest is the ridge solution. */
START_TEST(test_exact_fixed_intercept)
{
    ref_data D;
    static const double b0s[] = {0.0, 100.0, -37.25};
    static const double l2s[] = {0.0, 1e-3};
    size_t bi, li, nw;
    ref_load("diabetes.csv", &D);
    nw = D.d + 1;
    for (bi = 0; bi < 3; bi++) {
        for (li = 0; li < 2; li++) {
            rill_model *m = tu_new_model(RILL_SQUARED, D.d, 0);
            rill_stream *s;
            double *w0 = calloc(nw, sizeof *w0), *ref = malloc(nw * sizeof *ref), *w;
            char what[128];
            snprintf(what, sizeof what, "fit_intercept 0, b0 = %g, l2 = %g", b0s[bi], l2s[li]);
            w0[D.d] = b0s[bi];
            w0[0] = 5.0; /* a non-intercept weight EXACT overwrites */
            ck_assert_int_eq(rill_model_set_weights(m, w0, nw), RILL_OK);
            tu_set_param(m, RILL_FIT_INTERCEPT, 0);
            tu_set_param(m, RILL_L2, l2s[li]);
            ck_assert_msg(ridge_ge(D.X, D.y, D.n, D.d, l2s[li], 0, b0s[bi], ref) == 0,
                          "%s: reference singular", what);
            s = new_stream(m, 64, RILL_STREAM_EXACT);
            push_ok(s, m, D.X, D.y, 100, what);
            push_ok(s, m, D.X + 100 * D.d, D.y + 100, D.n - 100, what);
            flush_ok(s, m, what);
            rill_stream_free(s);
            w = tu_get_weights(m);
            ck_assert_msg(same_bits(w[D.d], b0s[bi]),
                          "%s: the intercept moved to %.17g with RILL_FIT_INTERCEPT = 0", what,
                          w[D.d]);
            compare_ridge(what, w, ref, D.d, 1e-8);
            free(w);
            free(w0);
            free(ref);
            rill_model_free(m);
        }
    }
    ref_data_free(&D);
}
END_TEST

/* ------------------------------------------------------------------ 4. mergeable sums */

static void check_halves(const char *name, int loss, size_t K, const double *X, const double *y,
                         size_t n, size_t d, size_t split, ref_rng *r, double wscale)
{
    rill_model *m = tu_new_model(loss, d, K);
    size_t nw = rill_model_n_weights(m), j;
    double *w = tu_random_weights(r, nw, wscale);
    double *ga = malloc(nw * sizeof *ga), *gb = malloc(nw * sizeof *gb);
    double *g = malloc(nw * sizeof *g), la, lb, l, rel_g, rel_l;
    ck_assert_int_eq(rill_model_set_weights(m, w, nw), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, split, ga, &la), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X + split * d, y + split, n - split, gb, &lb), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    for (j = 0; j < nw; j++)
        ga[j] += gb[j];
    rel_g = ref_max_rel_diff(ga, g, nw, 1e-300);
    rel_l = fabs((la + lb) - l) / fabs(l);
    ck_assert_msg(rel_g <= 1e-12 && rel_l <= 1e-12,
                  "%s: split at %zu: halves' sums differ from the whole: gradient %.3g, loss "
                  "%.3g (relative, allowed 1e-12)",
                  name, split, rel_g, rel_l);
    if (split % RILL_BLOCK_ROWS == 0)
        printf("mergeable: %s split at %zu (block multiple): %s (gradient rel %.3g)\n", name,
               split,
               memcmp(ga, g, nw * sizeof *g) == 0 && same_bits(la + lb, l) ? "bit-identical"
                                                                           : "NOT bit-identical",
               rel_g);
    free(w);
    free(ga);
    free(gb);
    free(g);
    rill_model_free(m);
}

/* Drives the batch optimizer with the sum over 4 uneven shards until converged. */
static void check_shards(const char *name, int loss, size_t K, const double *X, const double *y,
                         size_t n, size_t d, double l2)
{
    rill_model *f = tu_new_model(loss, d, K), *m = tu_new_model(loss, d, K);
    size_t nw = rill_model_n_weights(m), cut[5], sh, j;
    double *tot = malloc(nw * sizeof *tot), *g = malloc(nw * sizeof *g), ltot, l, *wf, *wm;
    long double of, om;
    int rc, epoch, epochs = 0;
    cut[0] = 0;
    cut[1] = n / 7;
    cut[2] = n / 7 + n / 3;
    cut[3] = n - n / 5;
    cut[4] = n;
    /* default RILL_TOL: a tighter one reaches the numerical floor, where rill_fit stops on a
     * stalled line search that a manual loop cannot observe (RILL_STAT_CONVERGED stays 0) */
    tu_set_param(f, RILL_L2, l2);
    tu_set_param(m, RILL_L2, l2);
    rc = rill_fit(f, X, y, n);
    ck_assert_msg(rc == RILL_OK, "%s: rill_fit = %d", name, rc);
    for (epoch = 0; epoch < 1000; epoch++) {
        memset(tot, 0, nw * sizeof *tot);
        ltot = 0.0;
        for (sh = 0; sh < 4; sh++) {
            rc = rill_gradient(m, X + cut[sh] * d, y + cut[sh], cut[sh + 1] - cut[sh], g, &l);
            ck_assert_msg(rc == RILL_OK, "%s: shard %zu rill_gradient = %d", name, sh, rc);
            for (j = 0; j < nw; j++)
                tot[j] += g[j];
            ltot += l;
        }
        rc = rill_apply_gradient(m, tot, ltot, (double)n);
        ck_assert_msg(rc == RILL_OK, "%s: rill_apply_gradient (epoch %d) = %d (%s)", name,
                      epoch + 1, rc, rill_model_error(m));
        epochs++;
        if (tu_get_param(m, RILL_STAT_CONVERGED) == 1.0)
            break;
    }
    wf = tu_get_weights(f);
    wm = tu_get_weights(m);
    of = objective_at(loss, X, y, n, d, K, wf, l2, 0.0);
    om = objective_at(loss, X, y, n, d, K, wm, l2, 0.0);
    printf("sharded loop: %s: %d epochs (rill_fit %g), objective %.17Lg vs %.17Lg, rel %.3g\n",
           name, epochs, tu_get_param(f, RILL_STAT_EPOCHS), om, of,
           (double)(fabsl(om - of) / fabsl(of)));
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0,
                  "%s: the 4-shard loop did not converge in 1000 epochs", name);
    ck_assert_msg(fabsl(om - of) <= 1e-10L * fabsl(of),
                  "%s: the 4-shard loop reached objective %.17Lg, rill_fit %.17Lg (relative "
                  "%.3g, allowed 1e-10)",
                  name, om, of, (double)(fabsl(om - of) / fabsl(of)));
    free(tot);
    free(g);
    free(wf);
    free(wm);
    rill_model_free(f);
    rill_model_free(m);
}

START_TEST(test_mergeable_sums)
{
    ref_data D, L, I, G;
    ref_rng r;
    static const size_t splits[] = {1, 63, 64, 128, 221, 300};
    size_t si;
    ref_load("diabetes.csv", &D);
    load_diabetes_logistic(&L);
    ref_load("iris.csv", &I);
    ref_load("digits.csv", &G);
    ref_rng_seed(&r, 4242);
    for (si = 0; si < sizeof splits / sizeof splits[0]; si++) {
        check_halves("squared/diabetes", RILL_SQUARED, 0, D.X, D.y, D.n, D.d, splits[si], &r,
                     0.01);
        check_halves("logistic/diabetes", RILL_LOGISTIC, 2, L.X, L.y, L.n, L.d, splits[si], &r,
                     0.01);
        check_halves("softmax/digits", RILL_SOFTMAX, 10, G.X, G.y, G.n, G.d, splits[si] * 3, &r,
                     0.05);
    }
    check_halves("softmax/iris", RILL_SOFTMAX, 3, I.X, I.y, I.n, I.d, 75, &r, 0.5);
    check_shards("squared/diabetes raw l2 1e-3", RILL_SQUARED, 0, D.X, D.y, D.n, D.d, 1e-3);
    check_shards("logistic/diabetes raw l2 1e-3", RILL_LOGISTIC, 2, L.X, L.y, L.n, L.d, 1e-3);
    check_shards("softmax/iris l2 1e-3", RILL_SOFTMAX, 3, I.X, I.y, I.n, I.d, 1e-3);
    ref_data_free(&D);
    ref_data_free(&L);
    ref_data_free(&I);
    ref_data_free(&G);
}
END_TEST

/* ------------------------------------------------------------------ 5. long stream memory */

#define MAX_LIVE 64

typedef struct counting {
    size_t n_alloc, n_free, live, bad_free;
    void *ptr[MAX_LIVE];
    size_t size[MAX_LIVE];
} counting;

static void *count_alloc(void *ctx, size_t size, size_t align)
{
    counting *c = ctx;
    void *p = NULL;
    size_t i;
    c->n_alloc++;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, size ? size : 1) != 0)
        return NULL;
    for (i = 0; i < MAX_LIVE; i++)
        if (!c->ptr[i]) {
            c->ptr[i] = p;
            c->size[i] = size;
            break;
        }
    ck_assert_msg(i < MAX_LIVE, "counting allocator: more than %d live blocks", MAX_LIVE);
    c->live += size;
    return p;
}

static void count_free(void *ctx, void *p, size_t size)
{
    counting *c = ctx;
    size_t i;
    if (!p)
        return;
    c->n_free++;
    for (i = 0; i < MAX_LIVE; i++)
        if (c->ptr[i] == p)
            break;
    if (i == MAX_LIVE || c->size[i] != size) {
        c->bad_free++;
    } else {
        c->ptr[i] = NULL;
        c->live -= size;
    }
    free(p);
}

/* Row i of the generated stream (deterministic in i): logistic labels from a fixed model. */
static void gen_row(uint64_t i, size_t d, double *x, double *y)
{
    ref_rng r;
    double z = 0.3;
    size_t j;
    ref_rng_seed(&r, 0x5eed0000ull + i);
    for (j = 0; j < d; j++) {
        x[j] = ref_rng_normal(&r) * (double)(j + 1);
        z += x[j] * (j % 2 ? 0.5 : -0.25) / (double)(j + 1);
    }
    *y = ref_rng_uniform(&r) < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0;
}

START_TEST(test_long_stream_memory)
{
    const size_t d = 5, b = 50, n = 100 * b, cap = 173;
    const int passes = 12;
    counting c;
    rill_alloc a;
    rill_model *m = NULL, *f;
    rill_stream *s;
    double *x = malloc(cap * d * sizeof *x), *y = malloc(cap * sizeof *y);
    double *X = malloc(n * d * sizeof *X), *Y = malloc(n * sizeof *Y), *wm, *wf;
    size_t allocs, frees, live, model_live, i, nw;
    long double om, of;
    int pass, rc;
    ref_rng chunks;

    memset(&c, 0, sizeof c);
    a.alloc = count_alloc;
    a.free = count_free;
    a.ctx = &c;
    rc = rill_model_new_alloc(&m, RILL_LOGISTIC, d, 2, &a);
    ck_assert_msg(rc == RILL_OK, "rill_model_new_alloc = %d", rc);
    tu_set_param(m, RILL_L2, 1e-3);
    model_live = c.live;
    s = new_stream(m, b, RILL_STREAM_PASS);
    allocs = c.n_alloc;
    frees = c.n_free;
    live = c.live;
    ck_assert_msg(live > model_live, "rill_stream_new allocated nothing through the model's "
                                     "allocator");
    ref_rng_seed(&chunks, 99);
    for (pass = 0; pass < passes; pass++) {
        uint64_t row = 0;
        while (row < n) {
            size_t k = 1 + (size_t)(ref_rng_u64(&chunks) % cap);
            if (k > n - row)
                k = (size_t)(n - row);
            for (i = 0; i < k; i++)
                gen_row(row + i, d, x + i * d, y + i);
            push_ok(s, m, x, y, k, "long stream");
            row += k;
            ck_assert_msg(c.n_alloc == allocs && c.n_free == frees && c.live == live,
                          "rill_stream_push allocated or freed (allocs %zu -> %zu, frees %zu -> "
                          "%zu, live %zu -> %zu bytes)",
                          allocs, c.n_alloc, frees, c.n_free, live, c.live);
        }
        flush_ok(s, m, "long stream");
        ck_assert_msg(c.n_alloc == allocs && c.n_free == frees && c.live == live,
                      "rill_stream_flush allocated or freed (allocs %zu -> %zu, live %zu -> %zu)",
                      allocs, c.n_alloc, live, c.live);
    }
    rill_stream_free(s);
    ck_assert_msg(c.live == model_live && c.bad_free == 0,
                  "rill_stream_free: live bytes %zu, want %zu (bad frees %zu)", c.live,
                  model_live, c.bad_free);

    /* the same rows, materialized, through rill_fit */
    for (i = 0; i < n; i++)
        gen_row(i, d, X + i * d, Y + i);
    f = tu_new_model(RILL_LOGISTIC, d, 2);
    tu_set_param(f, RILL_L2, 1e-3);
    tu_set_param(f, RILL_MAX_EPOCHS, passes);
    rc = rill_fit(f, X, Y, n);
    ck_assert_msg(rc == RILL_OK, "rill_fit = %d", rc);
    nw = rill_model_n_weights(f);
    wm = tu_get_weights(m);
    wf = tu_get_weights(f);
    om = objective_at(RILL_LOGISTIC, X, Y, n, d, 2, wm, 1e-3, 0.0);
    of = objective_at(RILL_LOGISTIC, X, Y, n, d, 2, wf, 1e-3, 0.0);
    printf("long stream: %zu rows x %d passes through a %zu-row buffer, stream bytes %zu, "
           "objective %.17Lg vs rill_fit %.17Lg (%s)\n",
           n, passes, b, live - model_live, om, of,
           memcmp(wm, wf, nw * sizeof *wm) == 0 ? "bit-identical" : "not bit-identical");
    ck_assert_msg(fabsl(om - of) <= 1e-10L * fabsl(of),
                  "long PASS stream objective %.17Lg vs rill_fit %.17Lg", om, of);
    rill_model_free(m);
    ck_assert_msg(c.live == 0 && c.n_alloc == c.n_free && c.bad_free == 0,
                  "leak: live %zu bytes, %zu allocs, %zu frees, %zu bad frees", c.live, c.n_alloc,
                  c.n_free, c.bad_free);
    rill_model_free(f);
    free(x);
    free(y);
    free(X);
    free(Y);
    free(wm);
    free(wf);
}
END_TEST

/* ------------------------------------------------------------------ 6. all-or-nothing push */

/* Parses the number after the first occurrence of key in msg; -1 if absent. */
static long number_after(const char *msg, const char *key)
{
    const char *p = strstr(msg, key);
    char *end;
    long v;
    if (!p)
        return -1;
    p += strlen(key);
    v = strtol(p, &end, 10);
    return end == p ? -1 : v;
}

/* bad: the bad row's index in the 10-row chunk pushed after 13 rows (1 row buffered). Rows
 * 0..2 complete the buffered micro-batch: STEP and PASS check them only if that batch's loss
 * is not finite, so bad = 1 holds the lazy check to the same all-or-nothing contract. */
static void check_bad_push(int mode, int bad_label, size_t bad)
{
    const size_t d = 4, n = 60, b = 4, before = 13, chunk = 10, col = 2;
    ref_rng r;
    double *X, *y, *bx, *by, *w_before, *w, *wr;
    rill_model *t, *ref;
    rill_stream *st, *sr;
    double rows_before, steps_before;
    const char *msg;
    char what[96];
    int rc, attempt;
    const int loss = bad_label ? RILL_LOGISTIC : RILL_SQUARED;
    const size_t K = bad_label ? 2 : 0;
    snprintf(what, sizeof what, "%s, bad %s in chunk row %zu", mode_name(mode),
             bad_label ? "label" : "cell", bad);
    ref_rng_seed(&r, 66);
    ref_random_problem(&r, loss, n, d, K, 1.0, &X, &y);
    t = tu_new_model(loss, d, K);
    ref = tu_new_model(loss, d, K);
    tu_set_param(t, RILL_L2, 1e-3);
    tu_set_param(ref, RILL_L2, 1e-3);
    st = new_stream(t, b, mode);
    sr = new_stream(ref, b, mode);
    /* earlier pushes: 6 + 7 rows (3 micro-batches run, 1 row buffered) */
    push_ok(st, t, X, y, 6, what);
    push_ok(st, t, X + 6 * d, y + 6, before - 6, what);
    push_ok(sr, ref, X, y, before, what);
    w_before = tu_get_weights(t);
    rows_before = tu_get_param(t, RILL_STAT_ROWS);
    steps_before = tu_get_param(t, RILL_STAT_STEPS);
    if (mode == RILL_STREAM_STEP)
        ck_assert_msg(steps_before == 3.0, "%s: 13 rows in 4-row micro-batches made %g steps", what,
                      steps_before);

    bx = malloc(chunk * d * sizeof *bx);
    by = malloc(chunk * sizeof *by);
    memcpy(bx, X + before * d, chunk * d * sizeof *bx);
    memcpy(by, y + before, chunk * sizeof *by);
    if (bad_label)
        by[bad] = 0.5;
    else
        bx[bad * d + col] = NAN;
    for (attempt = 0; attempt < 2; attempt++) { /* a refused push does not move the index */
        rc = rill_stream_push(st, bx, by, chunk);
        ck_assert_msg(rc == RILL_EDATA, "%s: push with a bad row = %d, want RILL_EDATA", what, rc);
        msg = rill_model_error(t);
        printf("bad push (%s): \"%s\"\n", what, msg);
        ck_assert_msg(number_after(msg, "row ") == (long)(before + bad),
                      "%s: the error \"%s\" does not name stream row %zu", what, msg,
                      before + bad);
        if (bad_label)
            ck_assert_msg(strstr(msg, "label") != NULL, "%s: \"%s\" does not name the label", what,
                          msg);
        else
            ck_assert_msg(number_after(msg, "column ") == (long)col,
                          "%s: the error \"%s\" does not name column %zu", what, msg, col);
        w = tu_get_weights(t);
        ck_assert_msg(memcmp(w, w_before, rill_model_n_weights(t) * sizeof *w) == 0,
                      "%s: the refused push changed the weights (the rows before the bad one "
                      "completed a micro-batch)",
                      what);
        ck_assert_msg(tu_get_param(t, RILL_STAT_ROWS) == rows_before &&
                          tu_get_param(t, RILL_STAT_STEPS) == steps_before,
                      "%s: the refused push changed RILL_STAT_ROWS/STEPS", what);
        free(w);
    }
    /* an Inf in X too */
    if (!bad_label) {
        bx[bad * d + col] = X[(before + bad) * d + col];
        bx[7 * d + 0] = -INFINITY;
        rc = rill_stream_push(st, bx, by, chunk);
        ck_assert_msg(rc == RILL_EDATA, "%s: push with -Inf = %d", what, rc);
        ck_assert_msg(number_after(rill_model_error(t), "row ") == (long)(before + 7) &&
                          number_after(rill_model_error(t), "column ") == 0,
                      "%s: -Inf at chunk row 7 col 0: \"%s\"", what, rill_model_error(t));
    }
    /* fixed chunk: the same as a stream that never saw the bad pushes */
    memcpy(bx, X + before * d, chunk * d * sizeof *bx);
    memcpy(by, y + before, chunk * sizeof *by);
    push_ok(st, t, bx, by, chunk, what);
    push_ok(sr, ref, X + before * d, y + before, chunk, what);
    push_ok(st, t, X + (before + chunk) * d, y + before + chunk, n - before - chunk, what);
    push_ok(sr, ref, X + (before + chunk) * d, y + before + chunk, n - before - chunk, what);
    flush_ok(st, t, what);
    flush_ok(sr, ref, what);
    w = tu_get_weights(t);
    wr = tu_get_weights(ref);
    ck_assert_msg(memcmp(w, wr, rill_model_n_weights(t) * sizeof *w) == 0,
                  "%s: after refused pushes and the fixed chunk the result differs from a stream "
                  "that never saw the bad pushes",
                  what);
    ck_assert_msg(same_bits(tu_get_param(t, RILL_STAT_PROGRESSIVE_LOSS),
                            tu_get_param(ref, RILL_STAT_PROGRESSIVE_LOSS)),
                  "%s: progressive loss differs", what);
    rill_stream_free(st);
    rill_stream_free(sr);
    rill_model_free(t);
    rill_model_free(ref);
    free(X);
    free(y);
    free(bx);
    free(by);
    free(w);
    free(wr);
    free(w_before);
}

/* A push refused for a NaN in its first micro-batch (checked only after that batch ran) puts
 * the model's flags back too: the stale-sums flag (sums computed before a change stay refused
 * by rill_apply_gradient) and RILL_STAT_STOPPED, and the progress callback never saw it. */
static int stop_always(void *user, const rill_model *m)
{
    (void)m;
    (*(int *)user)++;
    return 1;
}

START_TEST(test_refused_push_keeps_flags)
{
    const size_t d = 3, b = 4;
    double X[4 * 3], y[4], g[4], lsum;
    int calls = 0, mode;
    size_t i;
    for (i = 0; i < 4 * d; i++)
        X[i] = 0.1 * (double)(i % 7) - 0.2;
    for (i = 0; i < 4; i++)
        y[i] = (double)(i % 2);
    X[1 * d + 0] = NAN; /* row 1: inside the first micro-batch */

    /* stale sums stay stale */
    rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
    double Xok[4 * 3];
    memcpy(Xok, X, sizeof X);
    Xok[1 * d + 0] = 0.5;
    ck_assert_int_eq(rill_gradient(m, Xok, y, 4, g, &lsum), RILL_OK);
    ck_assert_int_eq(rill_apply_gradient(m, g, lsum, 4.0), RILL_OK);
    ck_assert_int_eq(rill_gradient(m, Xok, y, 4, g, &lsum), RILL_OK);
    tu_set_param(m, RILL_L2, 0.5); /* the sums are now stale */
    rill_stream *s = new_stream(m, b, RILL_STREAM_PASS);
    ck_assert_int_eq(rill_stream_push(s, X, y, 4), RILL_EDATA);
    rill_stream_free(s);
    ck_assert_msg(rill_apply_gradient(m, g, lsum, 4.0) == RILL_ESTATE,
                  "a refused PASS push cleared the stale-sums flag");
    rill_model_free(m);

    for (mode = RILL_STREAM_STEP; mode <= RILL_STREAM_PASS; mode++) {
        /* RILL_STAT_STOPPED = 1 from a stopped fit survives a refused push */
        m = tu_new_model(RILL_SQUARED, d, 0);
        ck_assert_int_eq(rill_model_set_progress(m, stop_always, &calls), RILL_OK);
        ck_assert_int_eq(rill_fit(m, Xok, y, 4), RILL_OK);
        ck_assert(tu_get_param(m, RILL_STAT_STOPPED) == 1.0);
        s = new_stream(m, b, mode);
        calls = 0;
        ck_assert_int_eq(rill_stream_push(s, X, y, 4), RILL_EDATA);
        ck_assert_msg(tu_get_param(m, RILL_STAT_STOPPED) == 1.0,
                      "mode %d: a refused push cleared RILL_STAT_STOPPED", mode);
        ck_assert_msg(calls == 0, "mode %d: the progress callback saw a refused micro-batch",
                      mode);
        rill_stream_free(s);
        rill_model_free(m);
        /* ... and a fresh model's 0 is not set by a callback on the refused batch */
        m = tu_new_model(RILL_SQUARED, d, 0);
        ck_assert_int_eq(rill_model_set_progress(m, stop_always, &calls), RILL_OK);
        s = new_stream(m, b, mode);
        ck_assert_int_eq(rill_stream_push(s, X, y, 4), RILL_EDATA);
        ck_assert(tu_get_param(m, RILL_STAT_STOPPED) == 0.0);
        ck_assert_int_eq(calls, 0);
        /* the good rows then run, and the callback sees their micro-batch */
        ck_assert_int_eq(rill_stream_push(s, Xok, y, 4), RILL_OK);
        ck_assert_int_eq(calls, 1);
        rill_stream_free(s);
        rill_model_free(m);
    }
}
END_TEST

/* Sums handed out before a change stay stale until an apply consumes fresh ones: a PASS pass
 * that ran micro-batches and was then dropped (rill_stream_free), or saved or cloned
 * mid-pass, does not clear the flag; the pass's own flush is accepted (and, as any accepted
 * apply, ends the staleness: the point it hands out next is new). */
START_TEST(test_pass_keeps_stale_until_its_flush)
{
    const size_t d = 2;
    double X[10] = {1, 2, 2, 1, 3, 0, 0, 3, 1, 1}, y[5] = {1, 2, 3, 4, 5}, g[3], lsum;
    for (int how = 0; how < 4; how++) { /* dropped, saved mid-pass, cloned mid-pass, flushed */
        rill_model *m = tu_new_model(RILL_SQUARED, d, 0), *c = NULL;
        ck_assert_int_eq(rill_gradient(m, X, y, 5, g, &lsum), RILL_OK);
        ck_assert_int_eq(rill_apply_gradient(m, g, lsum, 5.0), RILL_OK);
        ck_assert_int_eq(rill_gradient(m, X, y, 5, g, &lsum), RILL_OK);
        ck_assert_int_eq(rill_step(m, X, y, 1), RILL_OK); /* g is stale now */
        rill_stream *s = new_stream(m, 4, RILL_STREAM_PASS);
        ck_assert_int_eq(rill_stream_push(s, X, y, 5), RILL_OK); /* one micro-batch ran */
        if (how == 1) {
            size_t size;
            unsigned char *b;
            ck_assert_int_eq(rill_model_save(m, NULL, 0, &size), RILL_OK);
            b = malloc(size);
            ck_assert_int_eq(rill_model_save(m, b, size, &size), RILL_OK);
            ck_assert_int_eq(rill_model_load(&c, b, size), RILL_OK);
            free(b);
        } else if (how == 2) {
            ck_assert_int_eq(rill_model_clone(&c, m), RILL_OK);
        }
        if (how == 3) /* its own sums are fresh: accepted */
            ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
        rill_stream_free(s);
        if (how < 3)
            ck_assert_msg(rill_apply_gradient(c ? c : m, g, lsum, 5.0) == RILL_ESTATE,
                          "case %d: a PASS pass not flushed cleared the stale-sums flag", how);
        rill_model_free(c);
        rill_model_free(m);
    }
}
END_TEST

/* Stochastic rill_fit stops at any micro-batch the callback says, also an epoch's last,
 * partial one (run by the epoch's flush): 10 rows in micro-batches of 3, 4 per epoch. */
static int stop_on_call(void *user, const rill_model *m)
{
    int *c = user;
    (void)m;
    return ++c[0] == c[1];
}

START_TEST(test_stochastic_fit_stops_at_epoch_end)
{
    double X[20], y[10];
    for (int i = 0; i < 20; i++)
        X[i] = 0.3 * (i % 7) - 1.0;
    for (int i = 0; i < 10; i++)
        y[i] = i % 3;
    for (int at = 3; at <= 5; at++) {
        rill_model *m = tu_new_model(RILL_SQUARED, 2, 0);
        int c[2] = {0, at};
        tu_set_param(m, RILL_BATCH_ROWS, 3);
        tu_set_param(m, RILL_MAX_EPOCHS, 20);
        tu_set_param(m, RILL_TOL, 0);
        ck_assert_int_eq(rill_model_set_progress(m, stop_on_call, c), RILL_OK);
        ck_assert_int_eq(rill_fit(m, X, y, 10), RILL_OK);
        ck_assert_msg(c[0] == at && tu_get_param(m, RILL_STAT_STOPPED) == 1.0 &&
                          tu_get_param(m, RILL_STAT_ROWS) == (at == 3 ? 9.0 : at == 4 ? 10.0 : 13.0),
                      "stop at call %d: %d calls, STOPPED %g, %g rows", at, c[0],
                      tu_get_param(m, RILL_STAT_STOPPED), tu_get_param(m, RILL_STAT_ROWS));
        rill_model_free(m);
    }
}
END_TEST

/* Stochastic rill_fit's stopping test uses each epoch's own progressive loss. It was the
 * difference of the model's lifetime sums: after one earlier row with a loss of 5e13 the
 * epochs' losses were lost in the sums' rounding and the test stopped on noise (19 epochs,
 * 2 % short, against 46). A model with that history, its weights reset, now fits as a fresh
 * one does (the same shuffles: the key counts passes over the rows). */
START_TEST(test_stochastic_fit_epoch_loss_own_sum)
{
    enum { N = 20 };
    double X[N * 2], y[N], w[2][3];
    const double x0[2] = {0.0, 0.0}, y0 = 1e7, zero[3] = {0.0, 0.0, 0.0};
    double epochs[2];
    for (int i = 0; i < N; i++) {
        X[2 * i] = (i % 5) - 2.0;
        X[2 * i + 1] = ((i * 3) % 7) - 3.0;
        y[i] = 0.5 * X[2 * i] - 0.25 * X[2 * i + 1] + 1.0;
    }
    for (int k = 0; k < 2; k++) {
        rill_model *m = tu_new_model(RILL_SQUARED, 2, 0);
        if (k) { /* the outlier row, then the weights back to 0 */
            ck_assert_int_eq(rill_step(m, x0, &y0, 1), RILL_OK);
            ck_assert_int_eq(rill_model_set_weights(m, zero, 3), RILL_OK);
        }
        tu_set_param(m, RILL_BATCH_ROWS, 1);
        tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
        tu_set_param(m, RILL_LEARNING_RATE, 0.01);
        tu_set_param(m, RILL_MAX_EPOCHS, 2000);
        ck_assert_int_eq(rill_fit(m, X, y, N), RILL_OK);
        ck_assert(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0);
        epochs[k] = tu_get_param(m, RILL_STAT_EPOCHS);
        tu_copy_weights(m, w[k]);
        rill_model_free(m);
    }
    ck_assert_msg(epochs[0] == epochs[1], "epochs: fresh %g, after the outlier %g", epochs[0],
                  epochs[1]);
    for (int j = 0; j < 3; j++)
        ck_assert_msg(w[0][j] == w[1][j], "weight %d: fresh %.17g, after the outlier %.17g", j,
                      w[0][j], w[1][j]);
    ck_assert_msg(fabs(w[0][2] - 1.0) < 1e-3, "intercept %.17g, expected about 1", w[0][2]);
}
END_TEST

/* RILL_STAT_STOPPED is the last call's: a flush after a stopped push reads 0; a flush whose
 * callback asks to stop runs to its end and reads 1. */
START_TEST(test_flush_clears_stopped)
{
    const size_t d = 2;
    double X[10] = {1, 2, 2, 1, 3, 0, 0, 3, 1, 1}, y[5] = {1, 2, 3, 4, 5};
    int calls = 0;
    for (int mode = RILL_STREAM_STEP; mode <= RILL_STREAM_EXACT; mode++) {
        rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
        tu_set_param(m, RILL_L2, 0.1); /* EXACT solves from the two rows taken */
        rill_stream *s = new_stream(m, 2, mode);
        ck_assert_int_eq(rill_model_set_progress(m, stop_always, &calls), RILL_OK);
        ck_assert_int_eq(rill_stream_push(s, X, y, 5), RILL_OK);
        ck_assert(tu_get_param(m, RILL_STAT_STOPPED) == 1.0);
        ck_assert_int_eq(rill_model_set_progress(m, NULL, NULL), RILL_OK);
        ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
        ck_assert_msg(tu_get_param(m, RILL_STAT_STOPPED) == 0.0,
                      "mode %d: RILL_STAT_STOPPED still 1 after a flush nobody stopped", mode);
        /* a callback's stop does not stop a flush (its partial micro-batch and its end both
         * run, the stream is empty after it) but shows in RILL_STAT_STOPPED */
        ck_assert_int_eq(rill_model_set_progress(m, stop_always, &calls), RILL_OK);
        calls = 0;
        ck_assert_int_eq(rill_stream_push(s, X, y, 1), RILL_OK); /* buffered, no callback */
        ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
        ck_assert_msg(calls == 1 && tu_get_param(m, RILL_STAT_STOPPED) == 1.0,
                      "mode %d: a flush's stopping callback (%d calls): RILL_STAT_STOPPED %g",
                      mode, calls, tu_get_param(m, RILL_STAT_STOPPED));
        ck_assert_int_eq(rill_model_set_progress(m, NULL, NULL), RILL_OK);
        ck_assert_int_eq(rill_stream_flush(s), RILL_OK); /* empty: only the flag changes */
        ck_assert(tu_get_param(m, RILL_STAT_STOPPED) == 0.0);
        rill_stream_free(s);
        rill_model_free(m);
    }
}
END_TEST

START_TEST(test_push_all_or_nothing)
{
    size_t bad;
    for (bad = 1; bad <= 5; bad += 4) {
        check_bad_push(RILL_STREAM_STEP, 0, bad);
        check_bad_push(RILL_STREAM_STEP, 1, bad);
        check_bad_push(RILL_STREAM_PASS, 0, bad);
        check_bad_push(RILL_STREAM_PASS, 1, bad);
        check_bad_push(RILL_STREAM_EXACT, 0, bad);
    }
}
END_TEST

START_TEST(test_push_bad_labels)
{
    /* softmax label K, negative, fractional; squared NaN label */
    const size_t d = 3;
    double X[6 * 3], y[6];
    static const double bad_sm[] = {3.0, -1.0, 1.5, NAN, INFINITY};
    rill_model *m = tu_new_model(RILL_SOFTMAX, d, 3), *q = tu_new_model(RILL_SQUARED, d, 0);
    rill_stream *s = new_stream(m, 2, RILL_STREAM_STEP), *sq = new_stream(q, 2, RILL_STREAM_PASS);
    size_t i;
    for (i = 0; i < 18; i++)
        X[i] = (double)(i % 5) - 2.0;
    for (i = 0; i < 6; i++)
        y[i] = (double)(i % 3);
    push_ok(s, m, X, y, 3, "softmax labels");
    for (i = 0; i < sizeof bad_sm / sizeof bad_sm[0]; i++) {
        double yy[6];
        int rc;
        memcpy(yy, y, sizeof yy);
        yy[4] = bad_sm[i];
        rc = rill_stream_push(s, X, yy, 6);
        ck_assert_msg(rc == RILL_EDATA, "softmax label %g: push = %d", bad_sm[i], rc);
        ck_assert_msg(number_after(rill_model_error(m), "row ") == 7,
                      "softmax label %g: \"%s\" does not name stream row 7", bad_sm[i],
                      rill_model_error(m));
    }
    ck_assert_msg(tu_get_param(m, RILL_STAT_ROWS) == 2.0, "refused pushes ran micro-batches");
    y[1] = NAN;
    ck_assert_int_eq(rill_stream_push(sq, X, y, 6), RILL_EDATA);
    ck_assert_msg(number_after(rill_model_error(q), "row ") == 1, "squared NaN label: \"%s\"",
                  rill_model_error(q));
    rill_stream_free(s);
    rill_stream_free(sq);
    rill_model_free(m);
    rill_model_free(q);
}
END_TEST

/* ------------------------------------------------------------------ 7. borrowing */

/* Every call that changes m must be refused with RILL_ESTATE and change nothing. */
static void expect_borrowed(rill_model *m, const double *X, const double *y, size_t n,
                            const char *what)
{
    size_t nw = rill_model_n_weights(m);
    double *w0 = tu_get_weights(m), *g = malloc(nw * sizeof *g), l, *w, *p = malloc(n * sizeof *p);
    double l2 = tu_get_param(m, RILL_L2);
    int rc;
    rc = rill_model_set(m, RILL_L2, l2 + 1.0);
    ck_assert_msg(rc == RILL_ESTATE, "%s: rill_model_set = %d, want RILL_ESTATE", what, rc);
    ck_assert_msg(strlen(rill_model_error(m)) > 0, "%s: no message for RILL_ESTATE", what);
    ck_assert_msg(tu_get_param(m, RILL_L2) == l2, "%s: refused rill_model_set changed L2", what);
    rc = rill_model_set(m, RILL_LEARNING_RATE, 0.5);
    ck_assert_msg(rc == RILL_ESTATE, "%s: rill_model_set(LEARNING_RATE) = %d", what, rc);
    rc = rill_model_set_weights(m, w0, nw);
    ck_assert_msg(rc == RILL_ESTATE, "%s: rill_model_set_weights = %d", what, rc);
    rc = rill_fit(m, X, y, n);
    ck_assert_msg(rc == RILL_ESTATE, "%s: rill_fit = %d", what, rc);
    rc = rill_step(m, X, y, n);
    ck_assert_msg(rc == RILL_ESTATE, "%s: rill_step = %d", what, rc);
    rc = rill_step(m, X, y, 1); /* one row: rill_step's online path */
    ck_assert_msg(rc == RILL_ESTATE, "%s: one-row rill_step = %d", what, rc);
    /* const calls still work */
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    ck_assert_int_eq(rill_predict(m, X, n, p), RILL_OK);
    rc = rill_apply_gradient(m, g, l, (double)n);
    ck_assert_msg(rc == RILL_ESTATE, "%s: rill_apply_gradient = %d", what, rc);
    w = tu_get_weights(m);
    ck_assert_msg(memcmp(w, w0, nw * sizeof *w) == 0, "%s: a refused call changed the weights",
                  what);
    free(w0);
    free(w);
    free(g);
    free(p);
}

static void expect_free(rill_model *m, const double *X, const double *y, size_t n,
                        const char *what)
{
    size_t nw = rill_model_n_weights(m);
    double *w0 = tu_get_weights(m), *g = malloc(nw * sizeof *g), l;
    int rc;
    rc = rill_model_set(m, RILL_L2, tu_get_param(m, RILL_L2) * 2.0 + 1e-3);
    ck_assert_msg(rc == RILL_OK, "%s: rill_model_set = %d (%s)", what, rc, rill_model_error(m));
    rc = rill_model_set_weights(m, w0, nw);
    ck_assert_msg(rc == RILL_OK, "%s: rill_model_set_weights = %d (%s)", what, rc,
                  rill_model_error(m));
    rc = rill_step(m, X, y, n);
    ck_assert_msg(rc == RILL_OK, "%s: rill_step = %d (%s)", what, rc, rill_model_error(m));
    ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
    rc = rill_apply_gradient(m, g, l, (double)n);
    if (rc == RILL_ESTATE) {
        /* documented: after a change following an apply (the PASS flush), the next apply
         * returns RILL_ESTATE once (rill_gradient is const and cannot clear the flag) */
        ck_assert_int_eq(rill_gradient(m, X, y, n, g, &l), RILL_OK);
        rc = rill_apply_gradient(m, g, l, (double)n);
    }
    ck_assert_msg(rc == RILL_OK, "%s: rill_apply_gradient = %d (%s)", what, rc,
                  rill_model_error(m));
    tu_set_param(m, RILL_MAX_EPOCHS, 3);
    rc = rill_fit(m, X, y, n);
    ck_assert_msg(rc == RILL_OK, "%s: rill_fit = %d (%s)", what, rc, rill_model_error(m));
    free(w0);
    free(g);
}

START_TEST(test_borrowing)
{
    static const int modes[] = {RILL_STREAM_STEP, RILL_STREAM_PASS, RILL_STREAM_EXACT};
    const size_t d = 3, n = 40;
    ref_rng r;
    double *X, *y;
    size_t mi;
    ref_rng_seed(&r, 77);
    ref_random_problem(&r, REF_SQUARED, n, d, 0, 1.0, &X, &y);
    for (mi = 0; mi < 3; mi++) {
        const int mode = modes[mi];
        rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
        rill_stream *s = new_stream(m, 8, mode), *s2;
        char what[64];
        int rc;
        tu_set_param(m, RILL_L2, 1e-2);
        /* an idle stream holds nothing */
        snprintf(what, sizeof what, "%s idle", mode_name(mode));
        expect_free(m, X, y, n, what);
        /* buffered rows (3 of 8) */
        snprintf(what, sizeof what, "%s with buffered rows", mode_name(mode));
        push_ok(s, m, X, y, 3, what);
        expect_borrowed(m, X, y, n, what);
        /* a second stream on the same model cannot change it either */
        s2 = new_stream(m, 4, RILL_STREAM_STEP);
        rc = rill_stream_push(s2, X, y, 8);
        ck_assert_msg(rc == RILL_ESTATE, "%s: push to a second stream = %d, want RILL_ESTATE", what,
                      rc);
        rill_stream_free(s2);
        flush_ok(s, m, what);
        snprintf(what, sizeof what, "%s after flush", mode_name(mode));
        expect_free(m, X, y, n, what);
        if (mode != RILL_STREAM_STEP) {
            /* sums or moments but no buffered rows: exactly one micro-batch */
            snprintf(what, sizeof what, "%s holding sums", mode_name(mode));
            push_ok(s, m, X, y, 8, what);
            expect_borrowed(m, X, y, n, what);
            flush_ok(s, m, what);
            expect_free(m, X, y, n, what);
        }
        /* rill_stream_free releases the hold, dropping what was unflushed */
        snprintf(what, sizeof what, "%s freed while holding", mode_name(mode));
        push_ok(s, m, X, y, 13, what);
        expect_borrowed(m, X, y, n, what);
        rill_stream_free(s);
        expect_free(m, X, y, n, what);
        rill_model_free(m);
    }
    free(X);
    free(y);
}
END_TEST

/* ------------------------------------------------------------------ 8. STEP = rill_step */

static void check_step_by_hand(const problem *p, size_t b, uint64_t seed)
{
    rill_model *m = problem_model(p), *c;
    rill_stream *s;
    const size_t d = p->d, full = p->n / b, nb_last = p->n % b;
    size_t nw = rill_model_n_weights(m), i, done = 0, off = 0;
    double lib_loss_sum = 0.0, rows = 0.0, *wm, *wc;
    long double ref_loss_sum = 0.0L;
    ref_rng r;
    char what[128];
    int rc;
    snprintf(what, sizeof what, "STEP by hand: %s b=%zu", p->name, b);
    rc = rill_model_clone(&c, m);
    ck_assert_msg(rc == RILL_OK, "rill_model_clone = %d", rc);
    s = new_stream(m, b, RILL_STREAM_STEP);
    ref_rng_seed(&r, seed);
    while (off < p->n) {
        size_t k = next_chunk(&r, b, p->n - off);
        push_ok(s, m, p->X + off * d, p->y + off, k, what);
        off += k;
    }
    /* by hand on the clone: each full micro-batch, loss measured before its step */
    for (i = 0; i <= full; i++) {
        size_t nb = i < full ? b : nb_last;
        double *bx, *by, l = NAN, *wnow;
        if (nb == 0)
            break;
        if (i == full) {
            /* the pushes ran exactly the full micro-batches; flush runs the remainder */
            wm = tu_get_weights(m);
            wc = tu_get_weights(c);
            ck_assert_msg(memcmp(wm, wc, nw * sizeof *wm) == 0,
                          "%s: after the pushes (%zu full micro-batches) the stream's weights "
                          "differ from %zu rill_step calls (max rel %g)",
                          what, full, full, ref_max_rel_diff(wm, wc, nw, 1e-300));
            free(wm);
            free(wc);
            flush_ok(s, m, what);
        }
        bx = aligned_copy(p->X + done * d, nb * d);
        by = aligned_copy(p->y + done, nb);
        ck_assert_int_eq(rill_gradient(c, bx, by, nb, NULL, &l), RILL_OK);
        lib_loss_sum += l;
        wnow = tu_get_weights(c);
        if (p->average == 0.0) /* the iterate is what rill_model_weights returns */
            ref_loss_sum += ref_sums(p->loss, bx, by, nb, d, p->K, wnow, NULL);
        free(wnow);
        rows += (double)nb;
        rc = rill_step(c, bx, by, nb);
        ck_assert_msg(rc == RILL_OK, "%s: rill_step = %d (%s)", what, rc, rill_model_error(c));
        free(bx);
        free(by);
        done += nb;
    }
    if (nb_last == 0)
        flush_ok(s, m, what); /* nothing buffered: flush is a no-op */
    wm = tu_get_weights(m);
    wc = tu_get_weights(c);
    ck_assert_msg(memcmp(wm, wc, nw * sizeof *wm) == 0,
                  "%s: after flush the stream differs from rill_step by hand (max rel %g)", what,
                  ref_max_rel_diff(wm, wc, nw, 1e-300));
    ck_assert_msg(tu_get_param(m, RILL_STAT_STEPS) == (double)(full + (nb_last ? 1 : 0)),
                  "%s: RILL_STAT_STEPS %g, want %zu", what, tu_get_param(m, RILL_STAT_STEPS),
                  full + (nb_last ? 1 : 0));
    ck_assert_msg(tu_get_param(m, RILL_STAT_ROWS) == (double)p->n, "%s: RILL_STAT_ROWS %g", what,
                  tu_get_param(m, RILL_STAT_ROWS));
    ck_assert_msg(same_bits(tu_get_param(m, RILL_STAT_LOSS), tu_get_param(c, RILL_STAT_LOSS)),
                  "%s: RILL_STAT_LOSS differs from rill_step's", what);
    {
        double pl = tu_get_param(m, RILL_STAT_PROGRESSIVE_LOSS), want = lib_loss_sum / rows;
        ck_assert_msg(fabs(pl - want) <= 1e-13 * fabs(want),
                      "%s: RILL_STAT_PROGRESSIVE_LOSS %.17g, but the micro-batches' losses "
                      "before their steps average %.17g",
                      what, pl, want);
        if (p->average == 0.0) {
            double want_ref = (double)(ref_loss_sum / (long double)rows);
            ck_assert_msg(fabs(pl - want_ref) <= 1e-12 * fabs(want_ref),
                          "%s: RILL_STAT_PROGRESSIVE_LOSS %.17g, reference %.17g", what, pl,
                          want_ref);
        }
        ck_assert_msg(same_bits(pl, tu_get_param(c, RILL_STAT_PROGRESSIVE_LOSS)),
                      "%s: progressive loss differs from rill_step's", what);
    }
    free(wm);
    free(wc);
    rill_stream_free(s);
    rill_model_free(m);
    rill_model_free(c);
}

START_TEST(test_step_equals_rill_step)
{
    static const size_t batch[] = {1, 5, 32, 64, 100};
    ref_data D, I;
    ref_rng r;
    double *Xl, *yl, *Xs, *ys;
    size_t bi, pi;
    ref_load("diabetes.csv", &D);
    ref_load("iris.csv", &I);
    ref_rng_seed(&r, 8);
    ref_random_problem(&r, REF_LOGISTIC, 203, 5, 2, 1.0, &Xl, &yl);
    ref_random_problem(&r, REF_SQUARED, 203, 5, 0, 1.0, &Xs, &ys);
    {
        const problem probs[] = {
            {"squared/diabetes raw auto", RILL_SQUARED, 0, D.X, D.y, D.n, D.d, 0, 0, 0, 0, 0},
            {"squared/random const l2", RILL_SQUARED, 0, Xs, ys, 203, 5, 1e-2, 0,
             RILL_SCHEDULE_CONSTANT, 0.01, 0},
            {"logistic/random adagrad l1", RILL_LOGISTIC, 2, Xl, yl, 203, 5, 1e-3, 1e-3,
             RILL_SCHEDULE_ADAGRAD, 0.5, 0},
            {"logistic/random averaged", RILL_LOGISTIC, 2, Xl, yl, 203, 5, 1e-3, 0, 0, 0, 10},
            {"softmax/iris optimal", RILL_SOFTMAX, 3, I.X, I.y, I.n, I.d, 1e-2, 0,
             RILL_SCHEDULE_OPTIMAL, 0.1, 0},
        };
        for (pi = 0; pi < sizeof probs / sizeof probs[0]; pi++)
            for (bi = 0; bi < sizeof batch / sizeof batch[0]; bi++)
                check_step_by_hand(&probs[pi], batch[bi], 31 * pi + bi);
    }
    free(Xl);
    free(yl);
    free(Xs);
    free(ys);
    ref_data_free(&D);
    ref_data_free(&I);
}
END_TEST

/* ------------------------------------------------------------------ 9. stochastic rill_fit */

static double *sgd_fit(const double *X, const double *y, size_t n, size_t d, size_t b,
                       double seed, double epochs, double *stats)
{
    rill_model *m = tu_new_model(RILL_LOGISTIC, d, 2);
    double *w;
    int rc;
    tu_set_param(m, RILL_L2, 1e-3);
    tu_set_param(m, RILL_BATCH_ROWS, (double)b);
    tu_set_param(m, RILL_SEED, seed);
    tu_set_param(m, RILL_MAX_EPOCHS, epochs);
    rc = rill_fit(m, X, y, n);
    ck_assert_msg(rc == RILL_OK, "stochastic rill_fit = %d (%s)", rc, rill_model_error(m));
    w = tu_get_weights(m);
    stats[0] = tu_get_param(m, RILL_STAT_EPOCHS);
    stats[1] = tu_get_param(m, RILL_STAT_ROWS);
    stats[2] = tu_get_param(m, RILL_STAT_STEPS);
    rill_model_free(m);
    return w;
}

/* The documented procedure by hand: epoch e visits rl_perm_at(perm(n, seed, e), i). */
static double *sgd_by_hand(const double *X, const double *y, size_t n, size_t d, size_t b,
                           double seed, double epochs)
{
    rill_model *m = tu_new_model(RILL_LOGISTIC, d, 2);
    rill_stream *s;
    double *w, *px = malloc(n * d * sizeof *px), *py = malloc(n * sizeof *py);
    uint64_t e;
    size_t i, off;
    tu_set_param(m, RILL_L2, 1e-3);
    s = new_stream(m, b < n ? b : n, RILL_STREAM_STEP);
    for (e = 0; e < (uint64_t)epochs; e++) {
        struct rl_perm perm;
        rl_perm_init(&perm, n, (uint64_t)seed, e);
        for (i = 0; i < n; i++) {
            uint64_t row = rl_perm_at(&perm, i);
            memcpy(px + i * d, X + row * d, d * sizeof *px);
            py[i] = y[row];
        }
        for (off = 0; off < n; off += 17)
            push_ok(s, m, px + off * d, py + off, n - off < 17 ? n - off : 17, "sgd by hand");
        flush_ok(s, m, "sgd by hand");
    }
    rill_stream_free(s);
    w = tu_get_weights(m);
    rill_model_free(m);
    free(px);
    free(py);
    return w;
}

START_TEST(test_stochastic_fit)
{
    static const size_t batch[] = {1, 8, 50, 1000};
    ref_rng r;
    double *X, *y;
    const size_t n = 257, d = 5, nw = d + 1;
    size_t bi;
    ref_rng_seed(&r, 9);
    ref_random_problem(&r, REF_LOGISTIC, n, d, 2, 1.0, &X, &y);
    for (bi = 0; bi < sizeof batch / sizeof batch[0]; bi++) {
        const size_t b = batch[bi];
        double s1[3], s2[3], s3[3];
        double *w1 = sgd_fit(X, y, n, d, b, 42, 7, s1);
        double *w2 = sgd_fit(X, y, n, d, b, 42, 7, s2);
        double *w3 = sgd_fit(X, y, n, d, b, 43, 7, s3);
        double *wh;
        ck_assert_msg(memcmp(w1, w2, nw * sizeof *w1) == 0,
                      "b=%zu: two rill_fit runs with the same seed differ", b);
        ck_assert_msg(memcmp(s1, s2, sizeof s1) == 0, "b=%zu: same seed, different statistics", b);
        if (b < n)
            ck_assert_msg(memcmp(w1, w3, nw * sizeof *w1) != 0,
                          "b=%zu: seeds 42 and 43 give the same weights", b);
        ck_assert_msg(s1[0] >= 1 && s1[0] <= 7, "b=%zu: RILL_STAT_EPOCHS %g", b, s1[0]);
        ck_assert_msg(s1[1] == s1[0] * (double)n,
                      "b=%zu: RILL_STAT_ROWS %g after %g epochs of %zu rows", b, s1[1], s1[0], n);
        ck_assert_msg(s3[1] == s3[0] * (double)n, "b=%zu: RILL_STAT_ROWS %g (seed 43)", b, s3[1]);
        {
            size_t bb = b < n ? b : n;
            double per_epoch = (double)((n + bb - 1) / bb);
            ck_assert_msg(s1[2] == s1[0] * per_epoch,
                          "b=%zu: RILL_STAT_STEPS %g after %g epochs, want %g per epoch", b, s1[2],
                          s1[0], per_epoch);
        }
        /* every row exactly once per epoch, in the keyed order: replay it through a stream */
        wh = sgd_by_hand(X, y, n, d, b, 42, s1[0]);
        ck_assert_msg(memcmp(w1, wh, nw * sizeof *w1) == 0,
                      "b=%zu: rill_fit with RILL_BATCH_ROWS differs from a STEP stream fed "
                      "rl_perm_at's order (max rel %g)",
                      b, ref_max_rel_diff(wh, w1, nw, 1e-300));
        printf("stochastic fit b=%zu: %g epochs, same seed bit-identical, by-hand replay "
               "bit-identical\n",
               b, s1[0]);
        free(w1);
        free(w2);
        free(w3);
        free(wh);
    }
    free(X);
    free(y);
}
END_TEST

/* Stochastic rill_fit continued: N epochs, a save and load, then M more make the same steps as
 * N + M epochs in one call (the shuffled orders continue instead of starting over). */
static rill_model *sgd_model(size_t d, double epochs)
{
    rill_model *m = tu_new_model(RILL_LOGISTIC, d, 2);
    tu_set_param(m, RILL_L2, 1e-3);
    tu_set_param(m, RILL_BATCH_ROWS, 4);
    tu_set_param(m, RILL_SEED, 7);
    tu_set_param(m, RILL_AVERAGE, 1);
    tu_set_param(m, RILL_TOL, 0);
    tu_set_param(m, RILL_MAX_EPOCHS, epochs);
    return m;
}

START_TEST(test_stochastic_fit_resumes)
{
    ref_rng r;
    double *X, *y, *w_once, *w_split;
    const size_t n = 101, d = 4, nw = d + 1;
    size_t size = 0;
    unsigned char *blob;
    rill_model *once, *first, *second = NULL;
    ref_rng_seed(&r, 31);
    ref_random_problem(&r, REF_LOGISTIC, n, d, 2, 1.0, &X, &y);

    once = sgd_model(d, 5);
    ck_assert_int_eq(rill_fit(once, X, y, n), RILL_OK);
    first = sgd_model(d, 2);
    ck_assert_int_eq(rill_fit(first, X, y, n), RILL_OK);
    ck_assert_int_eq(rill_model_save(first, NULL, 0, &size), RILL_OK);
    blob = malloc(size);
    ck_assert_int_eq(rill_model_save(first, blob, size, &size), RILL_OK);
    ck_assert_int_eq(rill_model_load(&second, blob, size), RILL_OK);
    tu_set_param(second, RILL_MAX_EPOCHS, 3);
    ck_assert_int_eq(rill_fit(second, X, y, n), RILL_OK);

    w_once = tu_get_weights(once);
    w_split = tu_get_weights(second);
    ck_assert_msg(memcmp(w_once, w_split, nw * sizeof *w_once) == 0,
                  "2 + 3 epochs (saved and loaded between) differ from 5 epochs");
    ck_assert(tu_get_param(second, RILL_STAT_ROWS) == tu_get_param(once, RILL_STAT_ROWS));
    ck_assert(tu_get_param(second, RILL_STAT_STEPS) == tu_get_param(once, RILL_STAT_STEPS));
    /* the same without the save and load: a second rill_fit call continues the orders */
    free(w_split);
    tu_set_param(first, RILL_MAX_EPOCHS, 3);
    ck_assert_int_eq(rill_fit(first, X, y, n), RILL_OK);
    w_split = tu_get_weights(first);
    ck_assert(memcmp(w_once, w_split, nw * sizeof *w_once) == 0);
    free(w_once);
    free(w_split);
    free(blob);
    rill_model_free(once);
    rill_model_free(first);
    rill_model_free(second);
    free(X);
    free(y);
}
END_TEST

static void check_perm(uint64_t n, uint64_t seed, uint64_t epoch, unsigned char *seen,
                       uint64_t *fixed)
{
    struct rl_perm p;
    uint64_t i;
    memset(seen, 0, (size_t)((n + 7) / 8));
    rl_perm_init(&p, n, seed, epoch);
    *fixed = 0;
    for (i = 0; i < n; i++) {
        uint64_t v = rl_perm_at(&p, i);
        /* plain tests in the hot loop: every ck_assert writes to Check's pipe */
        if (v >= n)
            ck_abort_msg("rl_perm_at(n=%llu, seed=%llu, epoch=%llu, i=%llu) = %llu",
                         (unsigned long long)n, (unsigned long long)seed,
                         (unsigned long long)epoch, (unsigned long long)i, (unsigned long long)v);
        if (seen[v / 8] & (1u << (v % 8)))
            ck_abort_msg("rl_perm_at(n=%llu, seed=%llu, epoch=%llu) repeats %llu",
                         (unsigned long long)n, (unsigned long long)seed,
                         (unsigned long long)epoch, (unsigned long long)v);
        seen[v / 8] |= (unsigned char)(1u << (v % 8));
        *fixed += v == i;
    }
}

START_TEST(test_perm_is_permutation)
{
    static const uint64_t seeds[] = {0, 1, 42, 9007199254740991ull};
    static const uint64_t large[] = {1u << 20, 1000003, 4194305, 3000017};
    unsigned char *seen = malloc(4194305 / 8 + 2);
    uint64_t n, fixed;
    size_t si, li;
    for (si = 0; si < sizeof seeds / sizeof seeds[0]; si++)
        for (n = 1; n <= 1000; n++) {
            check_perm(n, seeds[si], 0, seen, &fixed);
            check_perm(n, seeds[si], 5, seen, &fixed);
            if (n == 1000)
                ck_assert_msg(fixed < 50, "n=1000 seed %llu: %llu fixed points: not shuffled",
                              (unsigned long long)seeds[si], (unsigned long long)fixed);
        }
    for (li = 0; li < sizeof large / sizeof large[0]; li++) {
        if (tu_light() && li > 0) /* under valgrind: the 2^20 case only */
            break;
        check_perm(large[li], 7, 3, seen, &fixed);
        ck_assert_msg(fixed < large[li] / 100, "n=%llu: %llu fixed points",
                      (unsigned long long)large[li], (unsigned long long)fixed);
    }
    /* different seeds and epochs give different orders */
    {
        struct rl_perm a, b, c;
        uint64_t i, same_ab = 0, same_ac = 0;
        rl_perm_init(&a, 1000, 42, 0);
        rl_perm_init(&b, 1000, 43, 0);
        rl_perm_init(&c, 1000, 42, 1);
        for (i = 0; i < 1000; i++) {
            same_ab += rl_perm_at(&a, i) == rl_perm_at(&b, i);
            same_ac += rl_perm_at(&a, i) == rl_perm_at(&c, i);
        }
        ck_assert_msg(same_ab < 50 && same_ac < 50,
                      "orders agree at %llu (seed) and %llu (epoch) of 1000 positions",
                      (unsigned long long)same_ab, (unsigned long long)same_ac);
    }
    /* a huge n: no repeats among the first positions, all in range */
    {
        struct rl_perm p;
        const uint64_t big = (1ull << 40) + 12345;
        uint64_t *v = malloc(100000 * sizeof *v), i;
        rl_perm_init(&p, big, 5, 0);
        for (i = 0; i < 100000; i++) {
            v[i] = rl_perm_at(&p, i);
            if (v[i] >= big)
                ck_abort_msg("n = 2^40 + 12345: rl_perm_at(%llu) = %llu out of range",
                             (unsigned long long)i, (unsigned long long)v[i]);
        }
        {
            /* shell sort, then no two neighbours are equal */
            uint64_t gap, k;
            for (gap = 100000 / 2; gap > 0; gap /= 2)
                for (i = gap; i < 100000; i++) {
                    uint64_t t = v[i];
                    for (k = i; k >= gap && v[k - gap] > t; k -= gap)
                        v[k] = v[k - gap];
                    v[k] = t;
                }
            for (i = 1; i < 100000; i++)
                if (v[i] == v[i - 1])
                    ck_abort_msg("n = 2^40 + 12345: repeated value %llu",
                                 (unsigned long long)v[i]);
        }
        free(v);
    }
    free(seen);
}
END_TEST

/* ------------------------------------------------------------------ 10. progress callback */

typedef struct prog {
    int calls, stop_at;
    double epochs_seen[64];
    double rows_seen[64];
} prog;

static int on_progress(void *user, const rill_model *m)
{
    prog *p = user;
    double v = -1.0;
    if (p->calls < 64) {
        rill_model_get(m, RILL_STAT_EPOCHS, &v);
        p->epochs_seen[p->calls] = v;
        rill_model_get(m, RILL_STAT_ROWS, &v);
        p->rows_seen[p->calls] = v;
    }
    p->calls++;
    return p->stop_at > 0 && p->calls >= p->stop_at;
}

START_TEST(test_progress_batch_fit)
{
    ref_data D, I;
    rill_model *m;
    prog pr;
    int rc, i;
    ref_load("diabetes.csv", &D);
    ref_load("iris.csv", &I);

    /* epochs run out: once per epoch, after it */
    m = tu_new_model(RILL_SQUARED, D.d, 0);
    tu_set_param(m, RILL_L2, 1e-3);
    tu_set_param(m, RILL_MAX_EPOCHS, 7);
    memset(&pr, 0, sizeof pr);
    ck_assert_int_eq(rill_model_set_progress(m, on_progress, &pr), RILL_OK);
    rc = rill_fit(m, D.X, D.y, D.n);
    ck_assert_msg(rc == RILL_OK, "rill_fit = %d", rc);
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 0.0, "diabetes raw converged in 7 epochs?");
    ck_assert_msg(pr.calls == 7 && tu_get_param(m, RILL_STAT_EPOCHS) == 7.0,
                  "max_epochs 7: %d progress calls, RILL_STAT_EPOCHS %g", pr.calls,
                  tu_get_param(m, RILL_STAT_EPOCHS));
    for (i = 0; i < 7; i++)
        ck_assert_msg(pr.epochs_seen[i] == i + 1, "call %d saw RILL_STAT_EPOCHS %g", i + 1,
                      pr.epochs_seen[i]);
    ck_assert_msg(tu_get_param(m, RILL_STAT_STOPPED) == 0.0, "STOPPED set without a stop");

    /* stop at the third epoch */
    memset(&pr, 0, sizeof pr);
    pr.stop_at = 3;
    tu_set_param(m, RILL_MAX_EPOCHS, 100);
    rc = rill_fit(m, D.X, D.y, D.n);
    ck_assert_msg(rc == RILL_OK, "rill_fit stopped by the callback = %d, want RILL_OK", rc);
    ck_assert_msg(tu_get_param(m, RILL_STAT_STOPPED) == 1.0, "RILL_STAT_STOPPED not set");
    ck_assert_msg(pr.calls == 3 && tu_get_param(m, RILL_STAT_EPOCHS) == 3.0,
                  "stop at 3: %d calls, %g epochs", pr.calls, tu_get_param(m, RILL_STAT_EPOCHS));
    /* the next call starts unstopped */
    pr.stop_at = 0;
    tu_set_param(m, RILL_MAX_EPOCHS, 2);
    ck_assert_int_eq(rill_fit(m, D.X, D.y, D.n), RILL_OK);
    ck_assert_msg(tu_get_param(m, RILL_STAT_STOPPED) == 0.0, "RILL_STAT_STOPPED stuck at 1");
    /* removing the callback */
    ck_assert_int_eq(rill_model_set_progress(m, NULL, NULL), RILL_OK);
    pr.calls = 0;
    ck_assert_int_eq(rill_fit(m, D.X, D.y, D.n), RILL_OK);
    ck_assert_int_eq(pr.calls, 0);
    rill_model_free(m);

    /* to convergence: still once per epoch, the converging one included */
    m = tu_new_model(RILL_SOFTMAX, I.d, 3);
    tu_set_param(m, RILL_L2, 1e-2);
    memset(&pr, 0, sizeof pr);
    ck_assert_int_eq(rill_model_set_progress(m, on_progress, &pr), RILL_OK);
    ck_assert_int_eq(rill_fit(m, I.X, I.y, I.n), RILL_OK);
    ck_assert_msg(tu_get_param(m, RILL_STAT_CONVERGED) == 1.0, "iris l2 1e-2 did not converge");
    ck_assert_msg(pr.calls == (int)tu_get_param(m, RILL_STAT_EPOCHS),
                  "rill_fit to convergence: %d progress calls for RILL_STAT_EPOCHS = %g (the "
                  "callback must run once per epoch)",
                  pr.calls, tu_get_param(m, RILL_STAT_EPOCHS));
    rill_model_free(m);
    ref_data_free(&D);
    ref_data_free(&I);
}
END_TEST

START_TEST(test_progress_stochastic_and_streams)
{
    ref_rng r;
    double *X, *y;
    const size_t n = 105, d = 3;
    rill_model *m;
    prog pr;
    int rc, mi;
    static const int modes[] = {RILL_STREAM_STEP, RILL_STREAM_PASS, RILL_STREAM_EXACT};
    ref_rng_seed(&r, 10);
    ref_random_problem(&r, REF_SQUARED, n, d, 0, 1.0, &X, &y);

    /* stochastic rill_fit: once per micro-batch (10 full + 1 remainder per epoch) */
    m = tu_new_model(RILL_SQUARED, d, 0);
    tu_set_param(m, RILL_BATCH_ROWS, 10);
    tu_set_param(m, RILL_MAX_EPOCHS, 2);
    memset(&pr, 0, sizeof pr);
    rill_model_set_progress(m, on_progress, &pr);
    ck_assert_int_eq(rill_fit(m, X, y, n), RILL_OK);
    ck_assert_msg(pr.calls == 22, "stochastic rill_fit, 2 epochs of 11 micro-batches: %d calls",
                  pr.calls);
    rill_model_free(m);
    /* stop after the third micro-batch */
    m = tu_new_model(RILL_SQUARED, d, 0);
    tu_set_param(m, RILL_BATCH_ROWS, 10);
    tu_set_param(m, RILL_MAX_EPOCHS, 5);
    memset(&pr, 0, sizeof pr);
    pr.stop_at = 3;
    rill_model_set_progress(m, on_progress, &pr);
    rc = rill_fit(m, X, y, n);
    ck_assert_msg(rc == RILL_OK, "stopped stochastic rill_fit = %d", rc);
    ck_assert_msg(tu_get_param(m, RILL_STAT_STOPPED) == 1.0, "RILL_STAT_STOPPED not set");
    ck_assert_msg(pr.calls == 3 && tu_get_param(m, RILL_STAT_ROWS) == 30.0,
                  "stopped at the 3rd micro-batch: %d calls, %g rows", pr.calls,
                  tu_get_param(m, RILL_STAT_ROWS));
    for (mi = 0; mi < 3; mi++)
        ck_assert_msg(pr.rows_seen[mi] == 10.0 * (mi + 1), "call %d saw RILL_STAT_ROWS %g",
                      mi + 1, pr.rows_seen[mi]);
    rill_model_free(m);

    /* streams: once per micro-batch, the flushed remainder included */
    for (mi = 0; mi < 3; mi++) {
        rill_stream *s;
        size_t off = 0, chunk = 3;
        m = tu_new_model(RILL_SQUARED, d, 0);
        tu_set_param(m, RILL_L2, 1e-3);
        memset(&pr, 0, sizeof pr);
        rill_model_set_progress(m, on_progress, &pr);
        s = new_stream(m, 7, modes[mi]);
        while (off < 50) {
            size_t take = 50 - off < chunk ? 50 - off : chunk;
            push_ok(s, m, X + off * d, y + off, take, mode_name(modes[mi]));
            off += take;
            chunk = chunk * 2 + 1;
        }
        ck_assert_msg(pr.calls == 7, "%s: 50 rows in 7-row micro-batches: %d calls before flush",
                      mode_name(modes[mi]), pr.calls);
        flush_ok(s, m, mode_name(modes[mi]));
        ck_assert_msg(pr.calls == 8, "%s: %d calls after flushing the 1-row remainder",
                      mode_name(modes[mi]), pr.calls);
        flush_ok(s, m, mode_name(modes[mi])); /* empty flush: nothing */
        ck_assert_int_eq(pr.calls, 8);
        rill_stream_free(s);
        rill_model_free(m);
    }
    free(X);
    free(y);
}
END_TEST

/* A progress callback that returns nonzero stops a push after that micro-batch: the push
 * returns RILL_OK with RILL_STAT_STOPPED 1, and its later rows are not taken, so pushing them
 * again continues the stream exactly (the same bits as a push that never stopped). */
START_TEST(test_stream_push_stops)
{
    ref_rng r;
    double *X, *y;
    const size_t n = 100, d = 3, b = 10;
    static const int modes[] = {RILL_STREAM_STEP, RILL_STREAM_PASS, RILL_STREAM_EXACT};
    ref_rng_seed(&r, 11);
    ref_random_problem(&r, REF_SQUARED, n, d, 0, 1.0, &X, &y);
    for (int mi = 0; mi < 3; mi++)
        for (size_t first = 0; first < 2; first++) { /* 0 or 4 rows buffered before */
            const size_t pre = first ? 4 : 0;
            rill_model *a = tu_new_model(RILL_SQUARED, d, 0), *c = tu_new_model(RILL_SQUARED, d, 0);
            tu_set_param(a, RILL_L2, 1e-3);
            tu_set_param(c, RILL_L2, 1e-3);
            rill_stream *sa = new_stream(a, b, modes[mi]), *sc = new_stream(c, b, modes[mi]);
            prog pr;
            memset(&pr, 0, sizeof pr);
            pr.stop_at = 3;
            rill_model_set_progress(a, on_progress, &pr);
            if (pre)
                push_ok(sa, a, X, y, pre, mode_name(modes[mi]));
            push_ok(sa, a, X + pre * d, y + pre, n - pre, mode_name(modes[mi]));
            ck_assert_msg(pr.calls == 3 && tu_get_param(a, RILL_STAT_STOPPED) == 1.0,
                          "%s: the callback stopped at its 3rd call, yet %d calls, STOPPED %g",
                          mode_name(modes[mi]), pr.calls, tu_get_param(a, RILL_STAT_STOPPED));
            if (modes[mi] == RILL_STREAM_STEP)
                ck_assert_msg(tu_get_param(a, RILL_STAT_ROWS) == 3.0 * b,
                              "STEP stopped after 3 micro-batches: RILL_STAT_ROWS %g",
                              tu_get_param(a, RILL_STAT_ROWS));
            /* the rest of the rows, then flush; c takes them all in one push */
            rill_model_set_progress(a, NULL, NULL);
            push_ok(sa, a, X + 3 * b * d, y + 3 * b, n - 3 * b, mode_name(modes[mi]));
            ck_assert_msg(tu_get_param(a, RILL_STAT_STOPPED) == 0.0,
                          "%s: the next push left RILL_STAT_STOPPED set", mode_name(modes[mi]));
            flush_ok(sa, a, mode_name(modes[mi]));
            push_ok(sc, c, X, y, n, mode_name(modes[mi]));
            flush_ok(sc, c, mode_name(modes[mi]));
            double *wa = tu_get_weights(a), *wc = tu_get_weights(c);
            ck_assert_msg(memcmp(wa, wc, (d + 1) * sizeof *wa) == 0,
                          "%s (%zu rows buffered first): a stopped push continued differs from "
                          "one push", mode_name(modes[mi]), pre);
            free(wa);
            free(wc);
            rill_stream_free(sa);
            rill_stream_free(sc);
            rill_model_free(a);
            rill_model_free(c);
        }
    free(X);
    free(y);
}
END_TEST

/* STEP pushes that the schedule refuses (OPTIMAL without L2) take no row, also when no step
 * would run yet: buffered rows would freeze the model, and their step would be refused. A
 * push whose first micro-batch diverges leaves RILL_STAT_STOPPED as it was and names
 * rill_stream_push. */
START_TEST(test_step_push_refusals_keep_state)
{
    const size_t d = 2;
    double X[6] = {1.0, 0.5, -0.5, 2.0, 0.25, -1.0}, y[3] = {1.0, -1.0, 0.5};
    rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_OPTIMAL);
    rill_stream *s = new_stream(m, 10, RILL_STREAM_STEP);
    ck_assert_int_eq(rill_stream_push(s, X, y, 3), RILL_EINVAL);
    ck_assert_msg(strstr(rill_model_error(m), "rill_stream_push") != NULL,
                  "error \"%s\" does not name rill_stream_push", rill_model_error(m));
    /* nothing was taken: the model can be set, and the rows then step */
    ck_assert_int_eq(rill_model_set(m, RILL_L2, 0.1), RILL_OK);
    ck_assert_int_eq(rill_stream_push(s, X, y, 3), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(s), RILL_OK);
    ck_assert(tu_get_param(m, RILL_STAT_ROWS) == 3.0);
    rill_stream_free(s);
    rill_model_free(m);

    /* RILL_STAT_STOPPED = 1 (a stopped fit) survives a push whose only step diverges */
    int calls = 0;
    double big[2] = {1e200, 1e200}, one = 1.0;
    m = tu_new_model(RILL_SQUARED, d, 0);
    ck_assert_int_eq(rill_model_set_progress(m, stop_always, &calls), RILL_OK);
    ck_assert_int_eq(rill_fit(m, X, y, 3), RILL_OK);
    ck_assert(tu_get_param(m, RILL_STAT_STOPPED) == 1.0);
    ck_assert_int_eq(rill_model_set_progress(m, NULL, NULL), RILL_OK);
    tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
    tu_set_param(m, RILL_LEARNING_RATE, 1e300);
    double *w0 = tu_get_weights(m), *w1;
    s = new_stream(m, 1, RILL_STREAM_STEP);
    ck_assert_int_eq(rill_stream_push(s, big, &one, 1), RILL_EDIVERGED);
    ck_assert_msg(tu_get_param(m, RILL_STAT_STOPPED) == 1.0,
                  "a push whose step diverged cleared RILL_STAT_STOPPED");
    ck_assert_msg(strstr(rill_model_error(m), "rill_stream_push") != NULL,
                  "error \"%s\" does not name rill_stream_push", rill_model_error(m));
    w1 = tu_get_weights(m);
    ck_assert_msg(memcmp(w0, w1, (d + 1) * sizeof *w0) == 0, "a diverged push changed weights");
    free(w0);
    free(w1);
    rill_stream_free(s);
    rill_model_free(m);
}
END_TEST

/* After a STEP push fails on a diverging micro-batch, the stream's row numbering goes on from
 * the last row taken: a later push's bad row is named by its index among the rows taken. A
 * PASS micro-batch whose sums overflow on finite rows stands, and the callback sees it. */
START_TEST(test_push_failure_row_numbering_and_callbacks)
{
    const size_t d = 2, b = 10;
    double X[30 * 2], y[30];
    for (size_t i = 0; i < 30; i++) {
        X[i * d] = i >= 10 && i < 20 ? 1e200 : 0.01 * (double)i;
        X[i * d + 1] = 1.0;
        y[i] = 1.0;
    }
    for (size_t pre = 0; pre < 2; pre++) { /* 0 or 5 rows buffered by an earlier push */
        rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
        tu_set_param(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
        tu_set_param(m, RILL_LEARNING_RATE, 1e300);
        rill_stream *s = new_stream(m, b, RILL_STREAM_STEP);
        size_t taken = 0;
        if (pre) {
            ck_assert_int_eq(rill_stream_push(s, X, y, 5), RILL_OK);
            ck_assert_int_eq(rill_stream_push(s, X + 5 * d, y + 5, 25), RILL_EDIVERGED);
        } else {
            ck_assert_int_eq(rill_stream_push(s, X, y, 30), RILL_EDIVERGED);
        }
        taken = 10; /* the first micro-batch; the second diverged */
        ck_assert(tu_get_param(m, RILL_STAT_ROWS) == (double)taken);
        double bad[2] = {NAN, 1.0}, one = 1.0;
        ck_assert_int_eq(rill_stream_push(s, bad, &one, 1), RILL_EDATA);
        ck_assert_msg(strstr(rill_model_error(m), "row 10,") != NULL,
                      "(%zu rows buffered first) error \"%s\" does not name row %zu", pre ? 5 : (size_t)0,
                      rill_model_error(m), taken);
        rill_stream_free(s);
        rill_model_free(m);
    }
    /* PASS: weights that make every score overflow; finite rows */
    rill_model *m = tu_new_model(RILL_SQUARED, d, 0);
    const double w[3] = {1e300, 1e300, 0.0};
    double Xp[20 * 2], yp[20];
    for (size_t i = 0; i < 20; i++) {
        Xp[i * d] = 1e10;
        Xp[i * d + 1] = 1e10;
        yp[i] = 0.0;
    }
    ck_assert_int_eq(rill_model_set_weights(m, w, 3), RILL_OK);
    prog pr;
    memset(&pr, 0, sizeof pr);
    rill_model_set_progress(m, on_progress, &pr);
    rill_stream *s = new_stream(m, b, RILL_STREAM_PASS);
    ck_assert_int_eq(rill_stream_push(s, Xp, yp, 20), RILL_OK);
    ck_assert_msg(pr.calls == 2, "PASS, two micro-batches whose sums overflow: %d callbacks",
                  pr.calls);
    ck_assert_int_eq(rill_stream_flush(s), RILL_EDIVERGED);
    rill_stream_free(s);
    rill_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------ suite */

static Suite *stream_suite(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("chunking");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_chunking_invariance);
    suite_add_tcase(s, tc);

    tc = tcase_create("pass");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_pass_equals_fit);
    tcase_add_test(tc, test_long_stream_memory);
    suite_add_tcase(s, tc);

    tc = tcase_create("exact");
    tcase_add_test(tc, test_exact_equals_ridge);
    tcase_add_test(tc, test_exact_offset_data);
    tcase_add_test(tc, test_exact_overflow_drops_rows);
    tcase_add_test(tc, test_exact_fixed_intercept_offset);
    tcase_add_test(tc, test_exact_overflow_is_of_the_moments);
    tcase_add_test(tc, test_exact_mixed_scales);
    tcase_add_test(tc, test_exact_constant_column_singular);
    tcase_add_test(tc, test_exact_errors);
    tcase_add_test(tc, test_exact_fixed_intercept);
    tcase_add_test(tc, test_exact_l1_set_later);
    suite_add_tcase(s, tc);

    tc = tcase_create("mergeable");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_mergeable_sums);
    suite_add_tcase(s, tc);

    tc = tcase_create("push");
    tcase_add_test(tc, test_push_all_or_nothing);
    tcase_add_test(tc, test_refused_push_keeps_flags);
    tcase_add_test(tc, test_pass_keeps_stale_until_its_flush);
    tcase_add_test(tc, test_flush_clears_stopped);
    tcase_add_test(tc, test_stochastic_fit_stops_at_epoch_end);
    tcase_add_test(tc, test_stochastic_fit_epoch_loss_own_sum);
    tcase_add_test(tc, test_push_bad_labels);
    tcase_add_test(tc, test_borrowing);
    suite_add_tcase(s, tc);

    tc = tcase_create("step");
    tcase_add_test(tc, test_step_equals_rill_step);
    suite_add_tcase(s, tc);

    tc = tcase_create("stochastic_fit");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_stochastic_fit);
    tcase_add_test(tc, test_stochastic_fit_resumes);
    tcase_add_test(tc, test_perm_is_permutation);
    suite_add_tcase(s, tc);

    tc = tcase_create("progress");
    tcase_add_test(tc, test_progress_batch_fit);
    tcase_add_test(tc, test_progress_stochastic_and_streams);
    tcase_add_test(tc, test_stream_push_stops);
    tcase_add_test(tc, test_step_push_refusals_keep_state);
    tcase_add_test(tc, test_push_failure_row_numbering_and_callbacks);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(stream_suite)
