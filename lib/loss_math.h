/* Numerically stable pieces of the losses, shared by the kernels. */
#ifndef RILL_LOSS_MATH_H
#define RILL_LOSS_MATH_H

#include <math.h>

/* log(1 + exp(z)) without overflow. */
static inline double rl_softplus(double z)
{
    return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* 1 / (1 + exp(-z)) without overflow. */
static inline double rl_sigmoid(double z)
{
    if (z >= 0.0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* Logistic loss softplus(z) - t z of one row and its derivative sigmoid(z) - t, from one
 * exp: the same values as rl_softplus and rl_sigmoid, bit for bit. */
static inline double rl_logistic(double z, double t, double *deriv)
{
    const double e = exp(-fabs(z));
    *deriv = (z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - t;
    return (z > 0.0 ? z + log1p(e) : log1p(e)) - t * z;
}

#endif
