/*
 * Stochastic steps: the mean gradient of a few rows, one step at the schedule's rate.
 * The schedule's t is RILL_STAT_ROWS + 1, kept in the handle, so feeding rows one call at a
 * time is exactly an epoch loop.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "loss_math.h"

#define RL_ADAGRAD_EPS 1e-10

/* The schedule's rate for weights whose gradient sums are not per-weight (all but AdaGrad). */
static double scalar_rate(const rill_model *m, double eta0, double t)
{
    switch (m->schedule) {
    case RILL_SCHEDULE_CONSTANT: return eta0;
    case RILL_SCHEDULE_INVSCALING: {
        /* the usual exponents without a pow() call per step */
        const double p = m->power_t;
        return eta0 / (p == 0.25 ? sqrt(sqrt(t)) : p == 0.5 ? sqrt(t) : pow(t, p));
    }
    case RILL_SCHEDULE_OPTIMAL: /* 1 / (l2 (t0 + t - 1)), t0 = 1 / (l2 eta0), without t0,
                                 * which overflows for l2 eta0 below 1 / DBL_MAX */
        return eta0 / (1.0 + m->l2 * eta0 * (t - 1.0));
    default: return eta0; /* AdaGrad: eta0 per weight, scaled below */
    }
}

/* Rate of weight j for this step; with AdaGrad the accumulator includes this step's g. */
static double weight_rate(const rill_model *m, double rate, size_t j, double gj)
{
    if (m->schedule != RILL_SCHEDULE_ADAGRAD)
        return rate;
    return rate / (sqrt(m->adagrad[j] + gj * gj) + RL_ADAGRAD_EPS);
}

/* AdaGrad's rate of weight j in the cap: 0 where the step leaves the weight as it is (g_j 0:
 * a feature that was 0 in every row so far, an intercept that is not fitted), whose rate
 * eta0 / eps would otherwise cap every other weight's step to nothing. */
static double cap_rate(const rill_model *m, double rate, size_t j, double gj)
{
    return gj != 0.0 ? weight_rate(m, rate, j, gj) : 0.0;
}

/* Automatic rate cap: the step may not overshoot on these rows, over the weights it moves:
 * c * max_output mean_i (sum_j eta_j x_ij^2 + eta_intercept) + l2 max_j eta_j <= 1. */
static double rate_cap(const rill_model *m, const double *X, size_t n, double rate,
                       const double *g)
{
    const size_t d = m->n_features, stride = d + 1;
    if (m->schedule != RILL_SCHEDULE_ADAGRAD) { /* one rate: the same for every output */
        double q = 0.0;
        for (size_t i = 0; i < n; i++)
            q += rl_dot(X + i * d, X + i * d, d);
        return rl_cap_one_rate(rl_curvature(m), m->l2, rate, q / (double)n);
    }
    double worst = 0.0, pen = 0.0;
    for (size_t c = 0; c < m->n_outputs; c++) {
        const size_t base = c * stride;
        double q = 0.0;
        for (size_t i = 0; i < n; i++) {
            const double *x = X + i * d;
            for (size_t j = 0; j < d; j++)
                q += cap_rate(m, rate, base + j, g[base + j]) * x[j] * x[j];
        }
        q = q / (double)n + cap_rate(m, rate, base + d, g[base + d]);
        worst = q > worst ? q : worst;
        for (size_t j = 0; j < d; j++) /* the penalty's curvature, l2 */
            pen = fmax(pen, cap_rate(m, rate, base + j, g[base + j]));
    }
    const double load = rl_curvature(m) * worst + (m->l2 > 0.0 ? m->l2 * pen : 0.0);
    return load > 1.0 ? 1.0 / load : 1.0;
}

/* next = w - rate (g inv + l2 w) over all n weights, the intercepts included (the caller
 * rewrites them); returns the OR of rl_nonfinite_bit over the results. One flat loop: it
 * vectorizes whatever the number of outputs. */
static uint64_t sgd_update(double *restrict next, const double *restrict w,
                           const double *restrict g, size_t n, double rate, double inv, double l2)
{
    uint64_t bad = 0; /* an OR reduction that vectorizes */
    for (size_t j = 0; j < n; j++) {
        const double v = w[j] - rate * (g[j] * inv + l2 * w[j]);
        bad |= rl_nonfinite_bit(v);
        next[j] = v;
    }
    return bad;
}

/* The one setting a stochastic step refuses. Callers that run several steps (rill_fit with
 * RILL_BATCH_ROWS > 0, a STEP stream's push) check it before changing anything, so that the
 * refusal leaves the model as it was. */
int rl_check_schedule(rill_model *m, const char *why)
{
    if (m->schedule == RILL_SCHEDULE_OPTIMAL && !(m->l2 > 0.0))
        return rl_fail(m, RILL_EINVAL, why);
    return RILL_OK;
}

/* The averaged weights take in the step just counted, once RILL_STAT_ROWS reaches
 * RILL_AVERAGE. */
static void average_in(rill_model *m)
{
    const size_t nw = m->n_weights;
    m->avg_count += 1.0;
    if (m->avg_count == 1.0) {
        memcpy(m->w_avg, m->w, nw * sizeof(double));
        return;
    }
    const double k = 1.0 / m->avg_count;
    for (size_t j = 0; j < nw; j++) {
        double delta = m->w[j] - m->w_avg[j];
        /* two finite weights of opposite signs near DBL_MAX: their difference overflows
         * though the mean is finite; the convex form cannot overflow */
        m->w_avg[j] = isfinite(delta) ? m->w_avg[j] + delta * k
                                      : m->w_avg[j] * (1.0 - k) + m->w[j] * k;
    }
}

/* Counts the step of n_rows whose weights are in m->w, or with in_next in scratch2 (they
 * become the weights); loss_sum: the rows' loss. */
static RL_SPECIALIZE void count_step(rill_model *m, int in_next, double loss_sum, size_t n_rows)
{
    if (in_next) { /* the two arrays trade places instead of a copy */
        double *old = m->w;
        m->w = m->scratch2;
        m->scratch2 = old;
    }
    m->stat_rows += (double)n_rows;
    m->stat_steps += 1.0;
    m->stat_loss = n_rows == 1 ? loss_sum : loss_sum * (1.0 / (double)n_rows); /* the mean */
    m->prog_loss_sum += loss_sum;
    m->prog_rows += (double)n_rows;
    if (m->average > 0.0 && m->stat_rows >= m->average)
        average_in(m);
    rl_opt_reset(m);
}

/* count_step for any step; g: the step's gradient (AdaGrad's sums). */
static int commit(rill_model *m, int in_next, const double *g, double loss_sum, size_t n_rows)
{
    if (m->schedule == RILL_SCHEDULE_ADAGRAD)
        for (size_t j = 0; j < m->n_weights; j++)
            m->adagrad[j] += g[j] * g[j];
    count_step(m, in_next, loss_sum, n_rows);
    return RILL_OK;
}

/* One row, one rate and no proximal step (online learning's common case): the row kernel
 * (kernels.c) scores the row and writes the step, over the weights when no weight can
 * overflow and into scratch2 otherwise, without a gradient array. Returns 0, having changed
 * nothing, when the settings need the general path, or when the loss or a weight comes out
 * non-finite: the general path then finds and reports the cause. Inlined into rill_step,
 * whose one-row calls it serves. */
static RL_SPECIALIZE int step_one(rill_model *m, const double *x, double t)
{
    if ((m->loss == RILL_SOFTMAX && m->n_outputs > RL_ROW_STEP_MAX_K) ||
        m->schedule == RILL_SCHEDULE_ADAGRAD || m->l1 > 0.0 ||
        (m->schedule == RILL_SCHEDULE_OPTIMAL && !(m->l2 > 0.0)))
        return 0;
    const int automatic = !(m->learning_rate > 0.0);
    const double rate = scalar_rate(m, automatic ? 1.0 : m->learning_rate, m->stat_rows + 1.0);
    const double curv = automatic ? rl_curvature(m) : 0.0;
    double loss;
#ifdef RILL_HAVE_AVX2
    const rl_row_step_fn fn = rl_kernels_avx2() ? rl_row_step_avx2 : rl_row_step;
#else
    const rl_row_step_fn fn = rl_row_step;
#endif
    const int where = fn(m->loss, m->n_features, m->n_outputs, m->w, x, t, rate, m->l2, curv,
                         m->fit_intercept, m->scratch2, &loss);
    if (!where)
        return 0;
    count_step(m, where == RL_ROW_IN_NEXT, loss, 1);
    return 1;
}

/* A step whose loss, gradient or new weights came out non-finite: RILL_EDATA naming the row
 * and column when X holds NaN or Inf (check_x: the call's name, NULL when X is known to be
 * finite), else RILL_EDIVERGED. Nothing has changed. */
static int step_failed(rill_model *m, const double *X, const double *y, size_t n_rows,
                       const char *check_x)
{
    int rc;
    if (check_x && (rc = rl_check_data(m, check_x, X, y, n_rows, 0)) != RILL_OK)
        return rc;
    return rl_fail(m, RILL_EDIVERGED,
                   "rill_step: the step gave non-finite weights or loss; model unchanged");
}

/* One step. check_x: NULL when X is known to be finite, else the call's name: X is then
 * scanned only if the loss, the gradient or the step came out non-finite (NaN or Inf in a row
 * always makes the loss so), so a row is read once: bad data gives RILL_EDATA, anything else
 * non-finite RILL_EDIVERGED. Only scratch is written before the commit. */
static int step_rows(rill_model *m, const double *X, const double *y, size_t n_rows,
                     const char *check_x)
{
    const size_t nw = m->n_weights;
    double *g = m->scratch, *next = m->scratch2;
    int rc;
    if (n_rows == 1 && step_one(m, X, y[0]))
        return RILL_OK;
    if (m->schedule == RILL_SCHEDULE_OPTIMAL && !(m->l2 > 0.0)) {
        if (check_x && (rc = rl_check_data(m, check_x, X, y, n_rows, 0)) != RILL_OK)
            return rc;
        return rl_fail(m, RILL_EINVAL, "rill_step: RILL_SCHEDULE_OPTIMAL needs RILL_L2 > 0");
    }

    const int automatic = !(m->learning_rate > 0.0);
    /* the schedule's rate first: its sqrt or pow overlaps the kernel */
    double rate = scalar_rate(m, automatic ? 1.0 : m->learning_rate, m->stat_rows + 1.0);
    double loss_sum = 0.0;
    memset(g, 0, nw * sizeof(double));
    rl_kernel_step_sums(m, X, y, n_rows, g, &loss_sum);
    const double inv = 1.0 / (double)n_rows;
    const size_t d = m->n_features, stride = d + 1;
    /* The common case, one rate and no proximal step: gradient, step and finiteness check in
     * one loop that vectorizes (the same expressions as the general path below). */
    if (m->schedule != RILL_SCHEDULE_ADAGRAD && !(m->l1 > 0.0)) {
        if (automatic) /* one rate for all weights: the cap does not look at g */
            rate *= rate_cap(m, X, n_rows, rate, g);
        uint64_t bad = sgd_update(next, m->w, g, nw, rate, inv, m->l2);
        for (size_t base = d; base < nw; base += stride) { /* the intercepts: no penalty */
            next[base] = m->w[base] - rate * (m->fit_intercept ? g[base] * inv : 0.0);
            bad |= rl_nonfinite_bit(next[base]);
        }
        /* bad may come from the loop's penalized intercepts alone: then a second look */
        if (!isfinite(loss_sum) || (bad >> 63 && !rl_all_finite(next, nw)))
            return step_failed(m, X, y, n_rows, check_x);
        return commit(m, 1, g, loss_sum, n_rows);
    }
    /* before AdaGrad's rates and L1's threshold, which could turn a NaN in g into a number
     * (sums of finite terms can overflow into Inf - Inf) */
    if (!isfinite(loss_sum) || !rl_all_finite(g, nw))
        return step_failed(m, X, y, n_rows, check_x);
    for (size_t base = 0; base < nw; base += stride) {
        double *gc = g + base;
        const double *wc = m->w + base;
        for (size_t j = 0; j < d; j++)
            gc[j] = gc[j] * inv + m->l2 * wc[j];
        gc[d] = m->fit_intercept ? gc[d] * inv : 0.0;
    }

    if (automatic)
        rate *= rate_cap(m, X, n_rows, rate, g);
    for (size_t j = 0, col = 0; j < nw; j++, col = col == d ? 0 : col + 1) {
        /* AdaGrad: the rate eta0 / (sqrt(G) + eps) may overflow for a huge eta0; the step
         * eta0 (g / (sqrt(G) + eps)) does not, and is 0 where g is. */
        double eta = rate, v;
        if (m->schedule == RILL_SCHEDULE_ADAGRAD) {
            const double sum = m->adagrad[j] + g[j] * g[j];
            if (!isfinite(sum)) /* a gradient above about 1e154: the weight would freeze */
                return rl_fail(m, RILL_EDIVERGED, "rill_step: AdaGrad's sum of squared "
                                                  "gradients overflows; model unchanged");
            const double denom = sqrt(sum) + RL_ADAGRAD_EPS;
            /* no gradient yet (sum 0): the rate eta0 / eps is no rate, and its threshold
             * would zero the weight (a warm start's, of a feature absent so far) */
            eta = sum > 0.0 ? rate / denom : 0.0;
            v = m->w[j] - rate * (g[j] / denom);
        } else {
            v = m->w[j] - rate * g[j];
        }
        if (m->l1 > 0.0 && col != d) { /* col: the weight's column; d is the intercept */
            double t = eta * m->l1;
            v = v > t ? v - t : (v < -t ? v + t : 0.0);
        }
        next[j] = v;
    }
    if (!rl_all_finite(next, nw)) /* X is finite here: the loss was */
        return step_failed(m, X, y, n_rows, NULL);

    return commit(m, 1, g, loss_sum, n_rows);
}

int rl_step(rill_model *m, const double *X, const double *y, size_t n_rows)
{
    return step_rows(m, X, y, n_rows, NULL);
}

/* Argument checks shared by the calls that take (X, y, n_rows). */
static int check_args(rill_model *m, const char *call, const double *X, const double *y,
                      size_t n_rows)
{
    rl_clear_error(m);
    if (!X || !y || n_rows == 0)
        return rl_fail_call(m, RILL_EINVAL, call, "X or y is NULL, or n_rows is 0");
    if (rl_check_rows_size(n_rows, m->n_features))
        return rl_fail_call(m, RILL_ERANGE, call, "n_rows x n_features overflows");
    return rl_model_frozen(m, call);
}

int rl_check_args_labels(rill_model *m, const char *call, const double *X, const double *y,
                         size_t n_rows)
{
    int rc = check_args(m, call, X, y, n_rows);
    if (rc)
        return rc;
    /* a bad label: the whole check, so that the first bad row is the one reported */
    return rl_labels_ok(m, y, n_rows) ? RILL_OK : rl_check_data(m, call, X, y, n_rows, 0);
}

/* rl_labels_ok for one label: finite for least squares, 0 or 1 for logistic, a class index
 * for softmax */
static int one_label_ok(const rill_model *m, double t)
{
    if (m->loss == RILL_SQUARED)
        return t - t == 0.0;
    if (m->loss == RILL_LOGISTIC)
        return (t == 0.0) | (t == 1.0);
    return rl_labels_ok(m, &t, 1);
}

int rill_step(rill_model *m, const double *X, const double *y, size_t n_rows)
{
    if (!m)
        return RILL_EINVAL;
    /* One row, no stream holding the model: the online case, with check_args and
     * rl_labels_ok reduced to what it needs (one row always has a size). Anything refused
     * takes the general path. */
    if (n_rows == 1 && X && y && m->busy_streams == 0 && one_label_ok(m, y[0]) &&
        step_one(m, X, y[0])) {
        rl_clear_error(m);
        return RILL_OK;
    }
    /* no scan of X here: step_rows does it only when the step comes out non-finite */
    int rc = rl_check_args_labels(m, "rill_step", X, y, n_rows);
    return rc ? rc : step_rows(m, X, y, n_rows, "rill_step");
}
