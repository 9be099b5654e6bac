/* Penalty terms of the objective: intercepts (the last weight of each output) are free. */
#include <math.h>

#include "internal.h"

int rl_is_intercept(const rill_model *m, size_t j)
{
    return j % (m->n_features + 1) == m->n_features;
}

double rl_penalty_l2(const rill_model *m, const double *w)
{
    if (m->l2 == 0.0)
        return 0.0;
    double s = 0.0;
    for (size_t j = 0; j < m->n_weights; j++)
        if (!rl_is_intercept(m, j))
            s += w[j] * w[j];
    return 0.5 * m->l2 * s;
}

double rl_penalty_l1(const rill_model *m, const double *w)
{
    if (m->l1 == 0.0)
        return 0.0;
    double s = 0.0;
    for (size_t j = 0; j < m->n_weights; j++)
        if (!rl_is_intercept(m, j))
            s += fabs(w[j]);
    return m->l1 * s;
}
