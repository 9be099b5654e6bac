/* Mergeable centred moments for EXACT streams. */
#ifndef RILL_EXACT_H
#define RILL_EXACT_H

#include "internal.h"

/* The moments are of the rows less a shift, the first row merged: every mean and sum is then
 * of the data's spread, not of its offset, and merging micro-batches (Chan's update moves the
 * means) rounds at that scale; a row's difference from the shift is exact when the two are
 * within a factor of 2 (rows at a common large offset). */
struct rl_moments {
    double n;       /* rows merged */
    double y_shift; /* the first row's target */
    double y_mean;  /* of y - y_shift */
    double syy;     /* sum of (y - y_mean)^2 */
    double *shift;  /* d: the first row's features */
    double *mean;   /* d: feature means of x - shift */
    double *cxy;    /* d: sum of (x - mean)(y - y_mean) */
    double *C;      /* d x d upper triangle: sum of (x - mean)(x - mean)' */
};

/* rl_moments_solve's outcomes besides RILL_OK */
#define RL_MOMENTS_SINGULAR 1
#define RL_MOMENTS_OVERFLOW 2
#define RL_MOMENTS_SYSTEM_OVERFLOW 3

void rl_moments_clear(struct rl_moments *mo, size_t d);
void rl_moments_add(struct rl_moments *mo, double *X, const double *y, size_t nb, size_t d,
                    double *batch_mean, double *tmp);
int rl_moments_solve(const struct rl_moments *mo, size_t d, double l2, int fit_intercept,
                     double b0, double *work, double *out, double *objective);

#endif
