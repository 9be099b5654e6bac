/*
 * The gradient kernels: loss and gradient sums of a chunk of rows in one fused pass.
 *
 * Canonical summation: the portable kernel adds each row's loss and gradient into the
 * caller's running sums in row order. A stream that passes its running sums chunk after chunk
 * therefore gets the same bits as one call over all rows, however the rows are chunked. The
 * CBLAS kernel works on blocks of RILL_BLOCK_ROWS rows (fewer for many classes), aligned to
 * the first row of the call, and accumulates each block into the sums with beta = 1.
 */
#include <math.h>

#include "internal.h"
#include "loss_math.h"

/* Four accumulators: lets the compiler vectorize without -ffast-math; fixed order. */
static double dot(const double *restrict a, const double *restrict b, size_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        s0 += a[j] * b[j];
        s1 += a[j + 1] * b[j + 1];
        s2 += a[j + 2] * b[j + 2];
        s3 += a[j + 3] * b[j + 3];
    }
    for (; j < n; j++)
        s0 += a[j] * b[j];
    return (s0 + s2) + (s1 + s3);
}

static void axpy(double *restrict y, double a, const double *restrict x, size_t n)
{
    for (size_t j = 0; j < n; j++)
        y[j] += a * x[j];
}

/* Score of row x under one output's weights (w_0..w_{d-1}, intercept). */
static double score(const double *w, const double *x, size_t d)
{
    return dot(w, x, d) + w[d];
}

/* Loss of one row and the derivative of the loss with respect to its score. */
static double loss_deriv(int loss, double z, double t, double *deriv)
{
    if (loss == RILL_SQUARED) {
        double r = z - t;
        *deriv = r;
        return 0.5 * r * r;
    }
    *deriv = rl_sigmoid(z) - t;
    return rl_softplus(z) - t * z;
}

/* Softmax row: scores in z (k of them) or, with z NULL, recomputed (streaming log-sum-exp). */
static double softmax_row(const double *w, const double *x, size_t d, size_t k, size_t label,
                          double *z, double *grad)
{
    const size_t stride = d + 1;
    double mx = -INFINITY, s = 0.0, z_label = 0.0;
    for (size_t c = 0; c < k; c++) {
        double zc = score(w + c * stride, x, d);
        if (z)
            z[c] = zc;
        if (c == label)
            z_label = zc;
        if (zc > mx) {
            s = (mx == -INFINITY ? 0.0 : s * exp(mx - zc)) + 1.0;
            mx = zc;
        } else {
            s += exp(zc - mx);
        }
    }
    double lse = mx + log(s);
    if (grad) {
        for (size_t c = 0; c < k; c++) {
            double zc = z ? z[c] : score(w + c * stride, x, d);
            double r = exp(zc - lse) - (c == label ? 1.0 : 0.0);
            axpy(grad + c * stride, r, x, d);
            grad[c * stride + d] += r;
        }
    }
    return lse - z_label;
}

#define RL_STACK_SCORES 256

void rl_block_portable(int loss, size_t d, size_t k, const double *w, const double *X,
                       const double *y, size_t n, double *grad_sum, double *loss_sum)
{
    double z[RL_STACK_SCORES];
    double *zbuf = k <= RL_STACK_SCORES ? z : NULL;
    double l = *loss_sum;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * d;
        if (loss == RILL_SOFTMAX) {
            l += softmax_row(w, x, d, k, (size_t)y[i], zbuf, grad_sum);
        } else {
            double g;
            l += loss_deriv(loss, score(w, x, d), y[i], &g);
            if (grad_sum) {
                axpy(grad_sum, g, x, d);
                grad_sum[d] += g;
            }
        }
    }
    *loss_sum = l;
}

void rl_kernel_sums(const rill_model *m, const double *w, const double *X, const double *y,
                    size_t n, double *grad_sum, double *loss_sum)
{
    rl_block_fn fn = rl_block_blas ? rl_block_blas : rl_block_portable;
    fn(m->loss, m->n_features, m->n_outputs, w, X, y, n, grad_sum, loss_sum);
}

void rl_scores(const rill_model *m, const double *w, const double *X, size_t n, double *out)
{
    const size_t d = m->n_features, k = m->n_outputs;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++)
            out[i * k + c] = score(w + c * (d + 1), X + i * d, d);
}

double rl_score(const rill_model *m, const double *w, const double *x, size_t output)
{
    return score(w + output * (m->n_features + 1), x, m->n_features);
}

double rl_curvature(const rill_model *m)
{
    switch (m->loss) {
    case RILL_LOGISTIC: return 0.25;
    case RILL_SOFTMAX: return 0.5;
    default: return 1.0;
    }
}

#ifndef RILL_HAVE_CBLAS
const rl_block_fn rl_block_blas = 0;
#endif
