/* Mergeable centred moments for EXACT streams. */
#ifndef RILL_EXACT_H
#define RILL_EXACT_H

#include "internal.h"

struct rl_moments {
    double n;       /* rows merged */
    double y_mean;
    double syy;     /* sum of (y - y_mean)^2 */
    double *mean;   /* d feature means */
    double *cxy;    /* d: sum of (x - mean)(y - y_mean) */
    double *C;      /* d x d upper triangle: sum of (x - mean)(x - mean)' */
};

void rl_moments_clear(struct rl_moments *mo, size_t d);
void rl_moments_add(struct rl_moments *mo, double *X, const double *y, size_t nb, size_t d,
                    double *batch_mean, double *tmp);
int rl_moments_solve(const struct rl_moments *mo, size_t d, double l2, int fit_intercept,
                     double b0, double *work, double *out, double *objective);

#endif
