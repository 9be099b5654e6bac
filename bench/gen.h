/*
 * Synthetic dense data for the benchmarks, defined by a counter-based hash so that the
 * comparison script (bench/compare.py) regenerates exactly the same rows with numpy.
 *
 *   u(stream, k) = (splitmix64(stream * 2^56 + k) >> 11) * 2^-53            in [0, 1)
 *   SQUARED:  x_ij = 2 u(0, i d + j) - 1,  w*_j = 2 u(1, j) - 1,
 *             y_i = sum_j x_ij w*_j + 0.3 + (2 u(2, i) - 1) / 2
 *   LOGISTIC: y_i = [u(2, i) >= 1/2],  x_ij = 2 u(0, i d + j) - 1 + (2 y_i - 1) s_j / sqrt(d)
 *             with s_j = 1 if u(1, j) >= 1/2 else -1   (about 4 % Bayes error)
 *   SOFTMAX:  y_i = floor(K u(2, i)),  x_ij = 2 u(0, i d + j) - 1 + s_{y_i, j} / sqrt(d)
 *             with s_{c, j} = 1 if u(3, c d + j) >= 1/2 else -1
 */
#ifndef RILL_BENCH_GEN_H
#define RILL_BENCH_GEN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

static uint64_t gen_mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double gen_u(uint64_t stream, uint64_t k)
{
    return (double)(gen_mix((stream << 56) + k) >> 11) * 0x1p-53;
}

/* loss: 1 squared, 2 logistic, 3 softmax with K classes. */
static void gen_data(int loss, size_t n, size_t d, size_t K, double *X, double *y)
{
    const double a = 1.0 / sqrt((double)d);
    for (size_t i = 0; i < n; i++) {
        double *x = X + i * d;
        for (size_t j = 0; j < d; j++)
            x[j] = 2.0 * gen_u(0, (uint64_t)(i * d + j)) - 1.0;
        double u = gen_u(2, i);
        if (loss == 1) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++)
                s += x[j] * (2.0 * gen_u(1, j) - 1.0);
            y[i] = s + 0.3 + (2.0 * u - 1.0) * 0.5;
        } else if (loss == 2) {
            y[i] = u >= 0.5 ? 1.0 : 0.0;
            for (size_t j = 0; j < d; j++)
                x[j] += (2.0 * y[i] - 1.0) * (gen_u(1, j) >= 0.5 ? a : -a);
        } else {
            size_t c = (size_t)floor((double)K * u);
            y[i] = (double)c;
            for (size_t j = 0; j < d; j++)
                x[j] += gen_u(3, (uint64_t)(c * d + j)) >= 0.5 ? a : -a;
        }
    }
}

#endif
