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

#endif
