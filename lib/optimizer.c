/*
 * The batch optimizer, driven by reverse communication: rill_gradient evaluates sums at the
 * evaluation point, rill_apply_gradient consumes them and moves the point. rill_fit, a PASS
 * stream and a distributed program all run this same code, so they make the same iterates.
 *
 * Method: L-BFGS (memory RILL_LBFGS_M) with a backtracking Armijo line search using
 * safeguarded quadratic interpolation; under L1 it is OWL-QN (orthant-wise pseudo-gradient,
 * direction and trial points projected onto the current orthant). The L-BFGS scaling
 * gamma = s'y / y'y, learned from the gradients alone, is the optimizer's conditioning: every
 * driver obtains it the same way. Fixed-step mode (constant schedule, explicit learning rate)
 * is the textbook proximal gradient step instead.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

#define RL_ARMIJO 1e-4
/* Objective changes below this (relative) are within the rounding of a sum of many losses. */
#define RL_F_NOISE 1e-12

static int fixed_step_mode(const rill_model *m)
{
    return m->schedule == RILL_SCHEDULE_CONSTANT && m->learning_rate > 0.0;
}

void rl_opt_reset(rill_model *m)
{
    struct rl_opt *o = &m->opt;
    if (o->applied)
        o->stale = 1;
    o->phase = OPT_FRESH;
    o->n_pairs = 0;
    o->next_pair = 0;
    o->n_backtracks = 0;
    o->restarted = 0;
    o->applied = 0;
    o->converged = 0;
    o->stalled = 0;
    o->has_prev = 0;
    o->g0_norm = -1.0;
}

const double *rl_eval_point(const rill_model *m)
{
    return m->opt.phase == OPT_SEARCH ? m->opt.eval : m->w;
}

/* Minimum-norm subgradient of the objective (the gradient when l1 = 0); fixed intercepts
 * have none. */
static void pseudo_gradient(const rill_model *m, const double *x, const double *g, double *pg)
{
    for (size_t j = 0; j < m->n_weights; j++) {
        double v = g[j];
        if (rl_is_intercept(m, j)) {
            v = m->fit_intercept ? v : 0.0;
        } else if (m->l1 > 0.0) {
            if (x[j] > 0.0)
                v += m->l1;
            else if (x[j] < 0.0)
                v -= m->l1;
            else if (v + m->l1 < 0.0)
                v += m->l1;
            else if (v - m->l1 > 0.0)
                v -= m->l1;
            else
                v = 0.0;
        }
        pg[j] = v;
    }
}

static double norm_inf(const double *v, size_t n)
{
    double r = 0.0;
    for (size_t j = 0; j < n; j++)
        r = fabs(v[j]) > r ? fabs(v[j]) : r;
    return r;
}

static double dotn(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t j = 0; j < n; j++)
        s += a[j] * b[j];
    return s;
}

/* Smooth objective (mean loss + l2) and its gradient at w from the sums. */
static double smooth_part(const rill_model *m, const double *w, const double *grad_sum,
                          double loss_sum, double weight_sum, double *g)
{
    const double inv = 1.0 / weight_sum;
    for (size_t j = 0; j < m->n_weights; j++) {
        double v = grad_sum[j] * inv;
        if (!rl_is_intercept(m, j))
            v += m->l2 * w[j];
        else if (!m->fit_intercept)
            v = 0.0;
        g[j] = v;
    }
    return loss_sum * inv + rl_penalty_l2(m, w);
}

/* L-BFGS two-loop recursion: dir = -H pg, then (OWL-QN) zero the components at x_j = 0 that
 * would leave the orthant of -pg. Components with x_j != 0 keep the quasi-Newton sign: inside
 * the orthant the objective is smooth with gradient pg, and a trial point that crosses zero is
 * clipped to it (set_trial). Zeroing those components too, as the original method does, makes
 * the direction close to steepest descent on badly scaled features (thousands of epochs on
 * raw data instead of hundreds). Falls back to steepest descent if the result is not a descent
 * direction. */
static void direction(rill_model *m, const double *pg)
{
    struct rl_opt *o = &m->opt;
    const size_t n = m->n_weights;
    double *q = o->dir, alpha[RILL_LBFGS_M];
    memcpy(q, pg, n * sizeof(double));
    for (int k = 0; k < o->n_pairs; k++) {
        int i = (o->next_pair - 1 - k + 2 * RILL_LBFGS_M) % RILL_LBFGS_M;
        alpha[i] = o->rho[i] * dotn(o->s + (size_t)i * n, q, n);
        const double *yi = o->y + (size_t)i * n;
        for (size_t j = 0; j < n; j++)
            q[j] -= alpha[i] * yi[j];
    }
    if (o->n_pairs > 0) {
        int last = (o->next_pair - 1 + RILL_LBFGS_M) % RILL_LBFGS_M;
        const double *yl = o->y + (size_t)last * n;
        double gamma = 1.0 / (o->rho[last] * dotn(yl, yl, n));
        for (size_t j = 0; j < n; j++)
            q[j] *= gamma;
    }
    for (int k = o->n_pairs - 1; k >= 0; k--) {
        int i = (o->next_pair - 1 - k + 2 * RILL_LBFGS_M) % RILL_LBFGS_M;
        double b = o->rho[i] * dotn(o->y + (size_t)i * n, q, n);
        const double *si = o->s + (size_t)i * n;
        for (size_t j = 0; j < n; j++)
            q[j] += (alpha[i] - b) * si[j];
    }
    for (size_t j = 0; j < n; j++) {
        q[j] = -q[j];
        if (m->l1 > 0.0 && m->w[j] == 0.0 && !rl_is_intercept(m, j) && q[j] * pg[j] >= 0.0)
            q[j] = 0.0;
    }
    o->dir_deriv = dotn(pg, q, n);
    if (!(o->dir_deriv < 0.0)) {
        for (size_t j = 0; j < n; j++)
            q[j] = -pg[j];
        o->dir_deriv = -dotn(pg, pg, n);
        o->n_pairs = 0;
    }
}

/* The trial point x + alpha dir, kept in the orthant of x (or of -pg where x is 0) under L1.
 * Returns pg . (trial - x), the predicted decrease used by the Armijo test. */
static double set_trial(rill_model *m, const double *pg)
{
    struct rl_opt *o = &m->opt;
    const double *x = m->w;
    double pred = 0.0;
    for (size_t j = 0; j < m->n_weights; j++) {
        double v = x[j] + o->alpha * o->dir[j];
        if (m->l1 > 0.0 && !rl_is_intercept(m, j)) {
            double orth = x[j] != 0.0 ? x[j] : -pg[j];
            if (v * orth <= 0.0)
                v = 0.0;
        }
        o->eval[j] = v;
        pred += pg[j] * (v - x[j]);
    }
    return pred;
}

/* Start a line search from the accepted point along a fresh direction. */
static void start_search(rill_model *m, const double *pg)
{
    struct rl_opt *o = &m->opt;
    direction(m, pg);
    o->alpha = o->n_pairs > 0 ? 1.0 : 1.0 / fmax(1.0, sqrt(dotn(o->dir, o->dir, m->n_weights)));
    o->restarted = o->n_pairs == 0;
    o->n_backtracks = 0;
    o->phase = OPT_SEARCH;
    set_trial(m, pg);
}

/* Accept the evaluation point as the new x; store the (s, y) pair. */
static void accept(rill_model *m, double f, double f_smooth, const double *g)
{
    struct rl_opt *o = &m->opt;
    const size_t n = m->n_weights;
    if (o->phase == OPT_SEARCH) {
        double *s = o->s + (size_t)o->next_pair * n, *y = o->y + (size_t)o->next_pair * n;
        for (size_t j = 0; j < n; j++) {
            s[j] = o->eval[j] - m->w[j];
            y[j] = g[j] - o->g_x[j];
        }
        double sy = dotn(s, y, n), yy = dotn(y, y, n), ss = dotn(s, s, n);
        /* keep the inverse-Hessian model positive: the angle between s and y, which does not
         * depend on the features' scale (s y / y y would drop every pair once the curvature
         * along s passes 1e12, as for features in units of 1e6) */
        if (sy > 1e-12 * sqrt(ss) * sqrt(yy) && yy > 0.0) {
            o->rho[o->next_pair] = 1.0 / sy;
            o->next_pair = (o->next_pair + 1) % RILL_LBFGS_M;
            if (o->n_pairs < RILL_LBFGS_M)
                o->n_pairs++;
        }
        m->stat_steps += 1.0;
        memcpy(m->w, o->eval, n * sizeof(double));
        m->avg_count = 0.0; /* a batch step: predict uses the optimizer's weights from now on */
    }
    memcpy(o->g_x, g, n * sizeof(double));
    o->f_x = f;
    o->f_smooth_x = f_smooth;
    m->stat_loss = f;
}

/* The stopping test, weight by weight: |pg_j| <= tol * max(1, |pg_j at the first evaluation|).
 * Each weight against its own first gradient, so that the test does not depend on the
 * features' units (one number for all weights let the entries of features in small units, the
 * intercept's among them, pass long before they were learnt). At the first evaluation pg is
 * its own reference; record keeps it as the reference for the later ones. */
static int meets_tol(rill_model *m, const double *pg, int record)
{
    struct rl_opt *o = &m->opt;
    const int first = o->g0_norm < 0.0;
    int ok = 1;
    for (size_t j = 0; j < m->n_weights; j++) {
        const double a = fabs(pg[j]);
        ok &= a <= m->tol * fmax(1.0, first ? a : o->g0[j]);
        if (first && record)
            o->g0[j] = a;
    }
    if (first && record)
        o->g0_norm = norm_inf(pg, m->n_weights);
    return ok;
}

static int check_converged(rill_model *m, const double *pg)
{
    m->opt.converged = meets_tol(m, pg, 1);
    m->stat_converged = m->opt.converged;
    return m->opt.converged;
}

/* Fixed-step mode: w <- prox(w - eta (g + l2 w)), accepted at once. */
static int fixed_step(rill_model *m, double f, const double *g)
{
    struct rl_opt *o = &m->opt;
    const size_t n = m->n_weights;
    /* grad_sums is free here: the sums were consumed into g. Nothing the model keeps is
     * written before the step is known to be finite. */
    double *pg = m->scratch2, *next = m->grad_sums;
    const double eta = m->learning_rate;
    pseudo_gradient(m, m->w, g, pg);
    if (!meets_tol(m, pg, 0)) { /* nothing recorded before the step is known to be finite */
        for (size_t j = 0; j < n; j++) {
            double v = m->w[j] - eta * g[j];
            if (m->l1 > 0.0 && !rl_is_intercept(m, j)) {
                double t = eta * m->l1;
                v = v > t ? v - t : (v < -t ? v + t : 0.0);
            }
            next[j] = v;
        }
        if (!rl_all_finite(next, n))
            return rl_fail(m, RILL_EDIVERGED,
                           "rill_apply_gradient: the step overflowed; weights kept");
    }
    m->stat_loss = f;
    if (check_converged(m, pg))
        return RILL_OK;
    memcpy(o->dir, m->w, n * sizeof(double));
    o->has_prev = 1;
    memcpy(m->w, next, n * sizeof(double));
    m->avg_count = 0.0;
    m->stat_steps += 1.0;
    return RILL_OK;
}

static int diverged(rill_model *m)
{
    struct rl_opt *o = &m->opt;
    if (o->has_prev) { /* fixed-step: back to the last point whose objective was finite */
        memcpy(m->w, o->dir, m->n_weights * sizeof(double));
        o->has_prev = 0;
        return rl_fail(m, RILL_EDIVERGED,
                       "rill_apply_gradient: objective not finite; weights rolled back to the "
                       "last finite step");
    }
    return rl_fail(m, RILL_EDIVERGED,
                   "rill_apply_gradient: objective not finite at the current weights");
}

/* Near the optimum the objective's change along a step falls below the rounding of its
 * n-term sum, and the Armijo test fails on noise (the line search would then stall above the
 * tolerance). The gradient is still accurate there: a trial point whose objective is the same
 * to within RL_F_NOISE (relative) and whose projected gradient is smaller is progress. The
 * trial's projected gradient goes into grad_sums, whose sums were consumed into g. */
static int noise_floor_progress(rill_model *m, double f, const double *g, const double *pg_x)
{
    const struct rl_opt *o = &m->opt;
    if (!(f - o->f_x <= RL_F_NOISE * fabs(o->f_x)))
        return 0;
    double *pg_trial = m->grad_sums;
    pseudo_gradient(m, o->eval, g, pg_trial);
    return norm_inf(pg_trial, m->n_weights) < norm_inf(pg_x, m->n_weights);
}

static int apply_sums(rill_model *m, const double *grad_sum, double loss_sum, double weight_sum)
{
    struct rl_opt *o = &m->opt;
    const size_t n = m->n_weights;
    double *g = m->scratch, *pg = m->scratch2;
    o->applied = 1;
    m->stat_epochs += 1.0;
    int finite = isfinite(loss_sum) && rl_all_finite(grad_sum, n);
    const double *z = rl_eval_point(m);
    double f_smooth = finite ? smooth_part(m, z, grad_sum, loss_sum, weight_sum, g) : 0.0;
    double f = f_smooth + rl_penalty_l1(m, z);
    finite = finite && isfinite(f) && rl_all_finite(g, n);

    if (fixed_step_mode(m))
        return finite ? fixed_step(m, f, g) : diverged(m);

    if (o->phase == OPT_FRESH) {
        if (!finite)
            return diverged(m);
        accept(m, f, f_smooth, g);
        pseudo_gradient(m, m->w, g, pg);
        if (check_converged(m, pg))
            return RILL_OK;
        start_search(m, pg);
        return RILL_OK;
    }

    /* OPT_SEARCH: the evaluation point is x + alpha dir. */
    pseudo_gradient(m, m->w, o->g_x, pg);
    double pred = 0.0;
    for (size_t j = 0; j < n; j++)
        pred += pg[j] * (o->eval[j] - m->w[j]);
    if (finite && (f <= o->f_x + RL_ARMIJO * pred || noise_floor_progress(m, f, g, pg))) {
        accept(m, f, f_smooth, g);
        pseudo_gradient(m, m->w, g, pg);
        o->restarted = 0;
        if (check_converged(m, pg)) { /* evaluate at the accepted point from now on: a further
                                       * apply is not a step (RILL_STAT_STEPS) */
            o->phase = OPT_FRESH;
            return RILL_OK;
        }
        start_search(m, pg);
        return RILL_OK;
    }
    /* Backtrack: minimizer of the quadratic through f_x, its slope and f, safeguarded. */
    double a = o->alpha, next = 0.1 * a;
    if (finite) {
        double curv = f - o->f_x - o->dir_deriv * a;
        if (curv > 0.0)
            next = -o->dir_deriv * a * a / (2.0 * curv);
        next = fmin(fmax(next, 0.01 * a), 0.5 * a);
    }
    o->alpha = next;
    o->n_backtracks++;
    /* the trial would not move the weights: relative to them (an absolute floor stops
     * every search where the optimum's weights are below 1e-16, features in units of 1e20) */
    double step = next * norm_inf(o->dir, n);
    if (o->n_backtracks > RL_MAX_BACKTRACKS || step <= 1e-16 * norm_inf(m->w, n) || step == 0.0) {
        if (o->restarted) { /* steepest descent cannot decrease f either: numerical floor */
            o->stalled = 1;
            o->phase = OPT_FRESH;
            return RILL_OK;
        }
        o->n_pairs = 0; /* drop the memory and retry along steepest descent */
        start_search(m, pg);
        return RILL_OK;
    }
    set_trial(m, pg);
    return RILL_OK;
}

/* A refused apply leaves the model as it was, except the documented fixed-step roll-back. */
int rl_apply(rill_model *m, const double *grad_sum, double loss_sum, double weight_sum)
{
    const double epochs = m->stat_epochs;
    const int applied = m->opt.applied, had_prev = m->opt.has_prev;
    int rc = apply_sums(m, grad_sum, loss_sum, weight_sum);
    if (rc != RILL_OK && !(had_prev && !m->opt.has_prev)) {
        m->stat_epochs = epochs;
        m->opt.applied = applied;
    }
    return rc;
}

int rill_gradient(const rill_model *m, const double *X, const double *y, size_t n_rows,
                  double *grad_sum, double *loss_sum)
{
    if (!m || !X || !y || !loss_sum || n_rows == 0)
        return RILL_EINVAL;
    if (rl_check_rows_size(n_rows, m->n_features))
        return RILL_ERANGE;
    /* One pass over X: NaN or Inf in a row makes its loss non-finite, so the kernel's loss
     * sum tells whether X needs the full scan (labels, which can be wrong but finite, are
     * checked first; they are 1/n_features of the data). On RILL_EDATA the outputs are
     * unspecified. */
    if (!rl_labels_ok(m, y, n_rows))
        return RILL_EDATA;
    struct rl_parts parts;
    if (rl_parts_open(m, n_rows, grad_sum != NULL, &parts))
        return RILL_ENOMEM;
    if (grad_sum)
        memset(grad_sum, 0, m->n_weights * sizeof(double));
    *loss_sum = 0.0;
    rl_parts_sums(m, &parts, rl_eval_point(m), X, y, n_rows, grad_sum, loss_sum);
    rl_parts_close(m, &parts);
    /* the gradient sums too: a BLAS that skips products with zero weights leaves the loss
     * finite, but not r * x */
    if (!isfinite(*loss_sum) || (grad_sum && !rl_all_finite(grad_sum, m->n_weights))) {
        size_t row, col;
        const char *why;
        int rc = rl_validate(m, X, NULL, n_rows, &row, &col, &why);
        if (rc)
            return rc;
    }
    return RILL_OK;
}

int rill_apply_gradient(rill_model *m, const double *grad_sum, double loss_sum, double weight_sum)
{
    if (!m)
        return RILL_EINVAL;
    rl_clear_error(m);
    if (!grad_sum)
        return rl_fail(m, RILL_EINVAL, "rill_apply_gradient: grad_sum is NULL");
    if (!(weight_sum > 0.0) || !isfinite(weight_sum))
        return rl_fail(m, RILL_EINVAL, "rill_apply_gradient: weight_sum must be finite and > 0");
    int rc = rl_model_frozen(m, "rill_apply_gradient");
    if (rc)
        return rc;
    if (m->opt.stale) {
        m->opt.stale = 0;
        return rl_fail(m, RILL_ESTATE,
                       "rill_apply_gradient: the model changed since these sums were computed; "
                       "evaluate again");
    }
    rc = rl_apply(m, grad_sum, loss_sum, weight_sum);
    if (rc == RILL_OK)
        m->stat_stopped = 0;
    return rc;
}

/* Batch-fit: the loop every driver runs, over in-memory rows whose labels are valid. X is
 * not scanned for NaN/Inf first: they make the first epoch's loss (or, through a BLAS that
 * skips zero weights, its gradient) non-finite, and only then is X scanned, to refuse the call
 * with the row and column before anything changed. Each row is read once per epoch. */
int rl_fit_batch(rill_model *m, const double *X, const double *y, size_t n_rows)
{
    struct rl_parts parts;
    if (rl_parts_open(m, n_rows, 1, &parts))
        return rl_fail(m, RILL_ENOMEM, "rill_fit: no memory for the threads' gradient sums");
    /* the first epoch's sums, at the weights: the evaluation point once the memory is reset */
    const size_t nw = m->n_weights;
    double loss_sum = 0.0;
    memset(m->grad_sums, 0, nw * sizeof(double));
    rl_parts_sums(m, &parts, m->w, X, y, n_rows, m->grad_sums, &loss_sum);
    if (!isfinite(loss_sum) || !rl_all_finite(m->grad_sums, nw)) {
        int rc = rl_check_data(m, "rill_fit", X, y, n_rows, 0);
        if (rc) {
            rl_parts_close(m, &parts);
            return rc;
        }
    }
    /* what the reset below changes, restored when the first apply fails (no step taken) */
    const struct rl_opt opt0 = m->opt;
    const double epochs0 = m->stat_epochs;
    const int converged0 = m->stat_converged, stopped0 = m->stat_stopped;
    m->stat_stopped = 0;
    rl_opt_reset(m);
    m->opt.stale = 0;
    m->stat_epochs = 0.0;
    m->stat_converged = 0;
    for (double epoch = 0.0; epoch < m->max_epochs; epoch += 1.0) {
        if (epoch > 0.0) {
            loss_sum = 0.0;
            memset(m->grad_sums, 0, nw * sizeof(double));
            rl_parts_sums(m, &parts, rl_eval_point(m), X, y, n_rows, m->grad_sums, &loss_sum);
        }
        int rc = rl_apply(m, m->grad_sums, loss_sum, (double)n_rows);
        if (rc) { /* rl_apply fails with RILL_EDIVERGED only */
            rl_parts_close(m, &parts);
            if (epoch == 0.0) { /* at the weights the call started from: nothing changed */
                m->opt = opt0;
                m->stat_epochs = epochs0;
                m->stat_converged = converged0;
                m->stat_stopped = stopped0;
                return rl_fail(m, rc, "rill_fit: diverged at the first step, from the "
                                      "current weights; model unchanged");
            }
            return rl_fail(m, rc, "rill_fit: training diverged; the weights are the last finite "
                                  "accepted state");
        }
        int stop = rl_progress(m); /* after every epoch, the last one included */
        if (stop || m->opt.converged || m->opt.stalled)
            break;
    }
    /* The loop is closed: no sums from it are outstanding, so a later change is not stale. */
    m->opt.applied = 0;
    rl_parts_close(m, &parts);
    return RILL_OK;
}
