/*
 * The CBLAS kernel: the same sums as rl_block_portable, computed block by block with
 * dgemv/dgemm. Blocks start at the call's first row, so a stream whose micro-batches are a
 * multiple of the block sees the same blocks as one call over all rows.
 */
#include <cblas.h>
#include <math.h>

#include "internal.h"
#include "loss_math.h"

#define RL_BLAS_SCORES 256

static void block_binary(int loss, size_t d, const double *w, const double *X, const double *y,
                         size_t n, double *grad_sum, double *loss_sum)
{
    double r[RILL_BLOCK_ROWS];
    double l = *loss_sum;
    for (size_t i0 = 0; i0 < n; i0 += RILL_BLOCK_ROWS) {
        size_t nb = n - i0 < RILL_BLOCK_ROWS ? n - i0 : RILL_BLOCK_ROWS;
        const double *Xb = X + i0 * d;
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)d, 1.0, Xb, (int)d, w, 1, 0.0, r,
                    1);
        double gb = 0.0;
        for (size_t i = 0; i < nb; i++) {
            double z = r[i] + w[d], t = y[i0 + i];
            if (loss == RILL_SQUARED) {
                r[i] = z - t;
                l += 0.5 * r[i] * r[i];
            } else {
                l += rl_logistic(z, t, &r[i]);
            }
            gb += r[i];
        }
        if (grad_sum) {
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)nb, (int)d, 1.0, Xb, (int)d, r, 1, 1.0,
                        grad_sum, 1);
            grad_sum[d] += gb;
        }
    }
    *loss_sum = l;
}

static void block_softmax(size_t d, size_t k, const double *w, const double *X, const double *y,
                          size_t n, double *grad_sum, double *loss_sum)
{
    double z[RL_BLAS_SCORES], lq[RILL_BLOCK_ROWS], tmp[2 * RILL_BLOCK_ROWS];
    /* A divisor of the block, so that chunks split at multiples of 64 rows see the same blocks. */
    size_t rows = RILL_BLOCK_ROWS;
    while (rows * k > RL_BLAS_SCORES) /* k <= RL_BLAS_SCORES (block_blas): stops at rows >= 1 */
        rows /= 2;
    const size_t stride = d + 1;
    double l = *loss_sum;
    for (size_t i0 = 0; i0 < n; i0 += rows) {
        size_t nb = n - i0 < rows ? n - i0 : rows;
        const double *Xb = X + i0 * d;
        /* the scores class-major (rl_softmax_rows): z = W X^T, k x nb */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)k, (int)nb, (int)d, 1.0, w,
                    (int)stride, Xb, (int)d, 0.0, z, (int)nb);
        for (size_t c = 0; c < k; c++)
            for (size_t i = 0; i < nb; i++)
                z[c * nb + i] += w[c * stride + d];
        rl_softmax_rows(z, k, nb, y + i0, lq, tmp);
        for (size_t i = 0; i < nb; i++)
            l += lq[i];
        if (grad_sum) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)d, (int)nb, 1.0,
                        z, (int)nb, Xb, (int)d, 1.0, grad_sum, (int)stride);
            for (size_t c = 0; c < k; c++)
                for (size_t i = 0; i < nb; i++)
                    grad_sum[c * stride + d] += z[c * nb + i];
        }
    }
    *loss_sum = l;
}

static void block_blas(int loss, size_t d, size_t k, const double *w, const double *X,
                       const double *y, size_t n, double *grad_sum, double *loss_sum)
{
    /* int-sized BLAS dimensions; beyond them (or with very many classes) the portable kernel. */
    if (d > 0x7fffffff / 2 || k > RL_BLAS_SCORES) {
        rl_block_portable(loss, d, k, w, X, y, n, grad_sum, loss_sum);
        return;
    }
    if (loss == RILL_SOFTMAX)
        block_softmax(d, k, w, X, y, n, grad_sum, loss_sum);
    else
        block_binary(loss, d, w, X, y, n, grad_sum, loss_sum);
}

const rl_block_fn rl_block_blas = block_blas;
