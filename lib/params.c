/* Parameters: one table gives each number its range, kind and effect. */
#include <math.h>

#include "internal.h"

#define RL_2P53 9007199254740992.0

enum { P_REAL = 0, P_INT = 1, P_READONLY = 2 };

struct param_info {
    int param;
    const char *name; /* without the RILL_ prefix, for the messages */
    int kind;
    int resets_optimizer; /* changes the objective or the batch step rule */
    double lo, hi;
};

static const struct param_info params[] = {
    {RILL_LEARNING_RATE, "LEARNING_RATE", P_REAL, 1, 0.0, 1e300},
    {RILL_SCHEDULE, "SCHEDULE", P_INT, 1, RILL_SCHEDULE_CONSTANT, RILL_SCHEDULE_ADAGRAD},
    {RILL_POWER_T, "POWER_T", P_REAL, 0, 0.0, 10.0},
    {RILL_L2, "L2", P_REAL, 1, 0.0, 1e300},
    {RILL_L1, "L1", P_REAL, 1, 0.0, 1e300},
    {RILL_FIT_INTERCEPT, "FIT_INTERCEPT", P_INT, 1, 0.0, 1.0},
    {RILL_MAX_EPOCHS, "MAX_EPOCHS", P_INT, 0, 1.0, RL_2P53},
    {RILL_TOL, "TOL", P_REAL, 0, 0.0, 1.0},
    {RILL_BATCH_ROWS, "BATCH_ROWS", P_INT, 0, 0.0, RL_2P53},
    {RILL_AVERAGE, "AVERAGE", P_INT, 0, 0.0, RL_2P53},
    {RILL_SEED, "SEED", P_INT, 0, 0.0, RL_2P53 - 1.0},
    {RILL_THREADS, "THREADS", P_INT, 0, 1.0, RL_MAX_THREADS},
    {RILL_STAT_EPOCHS, "STAT_EPOCHS", P_READONLY, 0, 0.0, HUGE_VAL},
    {RILL_STAT_STEPS, "STAT_STEPS", P_READONLY, 0, 0.0, HUGE_VAL},
    {RILL_STAT_ROWS, "STAT_ROWS", P_READONLY, 0, 0.0, HUGE_VAL},
    {RILL_STAT_LOSS, "STAT_LOSS", P_READONLY, 0, 0.0, HUGE_VAL},
    {RILL_STAT_CONVERGED, "STAT_CONVERGED", P_READONLY, 0, 0.0, 1.0},
    {RILL_STAT_STOPPED, "STAT_STOPPED", P_READONLY, 0, 0.0, 1.0},
    {RILL_STAT_PROGRESSIVE_LOSS, "STAT_PROGRESSIVE_LOSS", P_READONLY, 0, 0.0, HUGE_VAL},
    {RILL_STAT_STALLED, "STAT_STALLED", P_READONLY, 0, 0.0, 1.0},
    {RILL_MODEL_LOSS, "MODEL_LOSS", P_READONLY, 0, RILL_SQUARED, RILL_SOFTMAX},
    {RILL_MODEL_N_FEATURES, "MODEL_N_FEATURES", P_READONLY, 0, 1.0, HUGE_VAL},
    {RILL_MODEL_N_CLASSES, "MODEL_N_CLASSES", P_READONLY, 0, 0.0, HUGE_VAL},
};

static const struct param_info *find(int param)
{
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (params[i].param == param)
            return &params[i];
    return 0;
}

int rill_param_bounds(int param, double *lo, double *hi)
{
    const struct param_info *p = find(param);
    if (!p)
        return RILL_EUNSUPPORTED;
    if (lo)
        *lo = p->lo;
    if (hi)
        *hi = p->hi;
    return RILL_OK;
}

static double *slot(rill_model *m, int param)
{
    switch (param) {
    case RILL_LEARNING_RATE: return &m->learning_rate;
    case RILL_POWER_T: return &m->power_t;
    case RILL_L2: return &m->l2;
    case RILL_L1: return &m->l1;
    case RILL_MAX_EPOCHS: return &m->max_epochs;
    case RILL_TOL: return &m->tol;
    case RILL_BATCH_ROWS: return &m->batch_rows;
    case RILL_AVERAGE: return &m->average;
    case RILL_SEED: return &m->seed;
    case RILL_THREADS: return &m->threads;
    default: return 0;
    }
}

int rill_model_set(rill_model *m, int param, double value)
{
    if (!m)
        return RILL_EINVAL;
    rl_clear_error(m);
    const struct param_info *p = find(param);
    if (!p)
        return rl_fail(m, RILL_EUNSUPPORTED, "rill_model_set: unknown parameter number");
    if (p->kind == P_READONLY)
        return rl_fail_param(m, RILL_EINVAL, p->name, "is read-only");
    if (!(value >= p->lo && value <= p->hi))
        return rl_fail_param(m, RILL_EINVAL, p->name,
                             "outside its bounds (rill_param_bounds)");
    if (p->kind == P_INT && value != floor(value))
        return rl_fail_param(m, RILL_EINVAL, p->name, "takes an integer");
    if (param == RILL_THREADS && value > 1.0) {
#ifndef RILL_HAVE_THREADS
        return rl_fail(m, RILL_EUNSUPPORTED,
                       "rill_model_set: RILL_THREADS > 1, but this build has no threads");
#else
        if (rl_is_static(m))
            return rl_fail(m, RILL_EUNSUPPORTED,
                           "rill_model_set: RILL_THREADS > 1 needs memory for the threads' "
                           "sums; a model in a caller's buffer runs on one thread");
#endif
    }
    int rc = rl_model_frozen(m, "rill_model_set");
    if (rc)
        return rc;
    double old;
    if (param == RILL_SCHEDULE) {
        old = m->schedule;
        m->schedule = (int)value;
    } else if (param == RILL_FIT_INTERCEPT) {
        old = m->fit_intercept;
        m->fit_intercept = (int)value;
    } else {
        double *s = slot(m, param);
        old = *s;
        *s = value;
    }
    if (p->resets_optimizer && old != value)
        rl_opt_reset(m);
    if (param == RILL_AVERAGE && old != value) /* a new average, from the next step on */
        m->avg_count = 0.0;
    return RILL_OK;
}

int rill_model_get(const rill_model *m, int param, double *value)
{
    if (!m || !value)
        return RILL_EINVAL;
    double v;
    switch (param) {
    case RILL_SCHEDULE: v = m->schedule; break;
    case RILL_FIT_INTERCEPT: v = m->fit_intercept; break;
    case RILL_STAT_EPOCHS: v = m->stat_epochs; break;
    case RILL_STAT_STEPS: v = m->stat_steps; break;
    case RILL_STAT_ROWS: v = m->stat_rows; break;
    case RILL_STAT_LOSS: v = m->stat_loss; break;
    case RILL_STAT_CONVERGED: v = m->stat_converged; break;
    case RILL_STAT_STOPPED: v = m->stat_stopped; break;
    case RILL_STAT_STALLED: v = m->opt.stalled; break;
    case RILL_STAT_PROGRESSIVE_LOSS:
        v = m->prog_rows > 0.0 ? m->prog_loss_sum / m->prog_rows : 0.0;
        break;
    case RILL_MODEL_LOSS: v = m->loss; break;
    case RILL_MODEL_N_FEATURES: v = (double)m->n_features; break;
    case RILL_MODEL_N_CLASSES: v = (double)m->n_classes; break;
    default: {
        double *s = slot((rill_model *)m, param);
        if (!s)
            return RILL_EUNSUPPORTED;
        v = *s;
    }
    }
    *value = v;
    return RILL_OK;
}
