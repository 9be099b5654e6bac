/*
 * The gradient kernels: loss and gradient sums of a chunk of rows in one fused pass.
 *
 * Canonical summation: the portable kernel adds each row's loss into the caller's running
 * sum in row order, and the gradients of groups of RL_GROUP rows (counted from the call's
 * first row; the last n % RL_GROUP rows one by one) into the running gradient sums, group
 * after group, each output's sums on their own. Rows of RL_WIDE_D values or more with one
 * output go in groups of two instead; softmax rows one by one when four rows' scores do not
 * fit the kernel's buffer (more than 64 classes). All divide RILL_BLOCK_ROWS, so chunks split
 * at multiples of the block (a stream's micro-batches of a multiple of 64 rows, rill_gradient's
 * validation blocks) give the same bits as one call over all rows. The CBLAS kernel works on
 * blocks of RILL_BLOCK_ROWS rows (fewer for many classes), aligned to the first row of the
 * call, and accumulates each block into the sums with beta = 1.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "loss_math.h"

/* This file is compiled once for the baseline ISA and, on x86-64 builds with RILL_HAVE_AVX2,
 * once more with -mavx2 and RL_KERNEL_SUFFIX=_avx2: the second build holds only the
 * per-ISA kernels, under suffixed names. Without FMA contraction (-ffp-contract=off) and with
 * every sum in a fixed order, both give the same bits; AVX2 runs the vector loops 4 wide. */
#define RL_CAT2(a, b) a##b
#define RL_CAT(a, b) RL_CAT2(a, b)
#ifdef RL_KERNEL_SUFFIX
#define RL_KFN(name) RL_CAT(name, RL_KERNEL_SUFFIX)
#else
#define RL_KFN(name) name
#endif

/* A hint that the line at p will be read soon, into the caches below L1 (the rows ahead;
 * L1 holds the rows being summed). Nothing where the compiler has no prefetch. */
#if defined(__GNUC__) || defined(__clang__)
#define rl_prefetch(p) __builtin_prefetch((p), 0, 2)
#else
#define rl_prefetch(p) ((void)(p))
#endif

static void axpy(double *restrict y, double a, const double *restrict x, size_t n)
{
    for (size_t j = 0; j < n; j++)
        y[j] += a * x[j];
}

/* Score of row x under one output's weights (w_0..w_{d-1}, intercept). */
static double score(const double *w, const double *x, size_t d)
{
    return rl_dot(w, x, d) + w[d];
}

/* Rows per gradient sweep: one sweep of an output's gradient sums adds RL_GROUP rows' terms. */
#define RL_GROUP 4

/* g += sum over the group of r_i x_i, the group's terms added pairwise. */
static void axpy4(double *restrict g, const double *r, const double *restrict x, size_t d)
{
    const double *x0 = x, *x1 = x + d, *x2 = x + 2 * d, *x3 = x + 3 * d;
    const double r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
    for (size_t j = 0; j < d; j++)
        g[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j]);
    g[d] += (r0 + r1) + (r2 + r3);
}

/* Rows whose losses are computed side by side: enough independent work to hide the latency
 * of the logistic's and softmax's polynomials. A multiple of RL_GROUP. Wide rows get fewer, so
 * that the span's rows are still in the L1 cache when the gradient sweep reads them again (about
 * RL_SPAN_BYTES of them); the span does not change the sums' order. */
#define RL_SPAN 16
#define RL_SPAN_BYTES 8192

static size_t span_rows(size_t d)
{
    const size_t fit = RL_SPAN_BYTES / (d * sizeof(double) + 1) / RL_GROUP * RL_GROUP;
    return fit < RL_GROUP ? RL_GROUP : fit > RL_SPAN ? RL_SPAN : fit;
}

/* Rows of at least RL_WIDE_D values: RL_GROUP of them no longer fit the L1 cache beside w and
 * g, so the gradient sweep would read them again from L2 while the memory sits idle. These
 * rows go in pairs (from the call's first row; an odd last row alone): the two are scored as
 * they stream in, and the sweep that adds their two terms asks for the rows RL_AHEAD_BYTES
 * further on, so that the memory keeps streaming during the sweep. */
#define RL_WIDE_D 512
#define RL_AHEAD_BYTES 16384

/* g += r0 x0 + r1 x1 (x1 = x0 + d); next: the two rows ahead, or NULL */
static void axpy2(double *restrict g, const double *r, const double *restrict x, size_t d,
                  const double *next)
{
    const double *x0 = x, *x1 = x + d;
    const double r0 = r[0], r1 = r[1];
    size_t j = 0;
#ifdef RL_SIMD_HOST /* hosts with caches to fill: a line of each row ahead per 8 columns */
    if (next)
        for (; j + 8 <= d; j += 8) {
            rl_prefetch(next + j);
            rl_prefetch(next + d + j);
            for (size_t k = j; k < j + 8; k++)
                g[k] += r0 * x0[k] + r1 * x1[k];
        }
#else
    (void)next;
#endif
    for (; j < d; j++)
        g[j] += r0 * x0[j] + r1 * x1[j];
    g[d] += r0 + r1;
}

/* Softmax of one row with more classes than the scores' buffer holds: the scores recomputed
 * (streaming log-sum-exp). */
static double softmax_row_streaming(const double *w, const double *x, size_t d, size_t k,
                                    size_t y, double *grad)
{
    const size_t stride = d + 1;
    double mx = -INFINITY, s = 0.0, z_label = 0.0;
    for (size_t c = 0; c < k; c++) {
        double zc = score(w + c * stride, x, d);
        if (c == y)
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
            double r = exp(score(w + c * stride, x, d) - lse) - (c == y ? 1.0 : 0.0);
            axpy(grad + c * stride, r, x, d);
            grad[c * stride + d] += r;
        }
    }
    return lse - z_label;
}

/* Scores a kernel call keeps on the stack (2 KB): a span's, class-major. */
#define RL_STACK_SCORES 256

/* The sums over spans of rows (span_rows; fewer when k outputs' scores of RL_SPAN rows do not
 * fit the RL_STACK_SCORES doubles of z, so k <= RL_STACK_SCORES): the span's scores
 * class-major in z, the rows' losses and derivatives side by side (these loops vectorize),
 * the losses added in row order, then for each group of rows one sweep per output adds the
 * group's terms. Groups are counted from the call's first row: RL_GROUP rows (pairs of wide
 * rows with one output; one row when k * RL_GROUP scores do not fit z), the last rows that
 * make no group one by one. */
static RL_SPECIALIZE double rows_sums(int loss, size_t d, size_t k, const double *w,
                                      const double *X, const double *y, size_t n,
                                      double *grad_sum, double l, double *z)
{
    const size_t stride = d + 1;
    const int pairs = k == 1 && d >= RL_WIDE_D;
    const size_t g = pairs ? 2 : k * RL_GROUP <= RL_STACK_SCORES ? RL_GROUP : 1;
    const size_t fit = RL_STACK_SCORES / k / g * g;
    const size_t most = pairs ? 2 : span_rows(d) < fit ? span_rows(d) : fit;
    const size_t ahead = pairs ? (RL_AHEAD_BYTES / sizeof(double) + d - 1) / d : 0; /* rows */
    for (size_t i = 0; i < n; i += most) {
        double lq[RL_SPAN], tmp[2 * RL_SPAN];
        const size_t span = n - i < most ? n - i : most;
        const double *Xs = X + i * d, *ys = y + i;
        for (size_t c = 0; c < k; c++)
            for (size_t q = 0; q < span; q++)
                z[c * span + q] = score(w + c * stride, Xs + q * d, d);
        if (loss == RILL_SQUARED) {
            for (size_t q = 0; q < span; q++) {
                z[q] -= ys[q];
                lq[q] = 0.5 * z[q] * z[q];
            }
        } else if (loss == RILL_LOGISTIC) {
            for (size_t q = 0; q < span; q++)
                lq[q] = rl_logistic(z[q], ys[q], &z[q]);
        } else {
            rl_softmax_rows(z, k, span, ys, lq, tmp);
        }
        for (size_t q = 0; q < span; q++)
            l += lq[q];
        if (!grad_sum)
            continue;
        size_t q = 0;
        if (pairs && span == 2) {
            axpy2(grad_sum, z, Xs, d, i + ahead + 2 <= n ? Xs + ahead * d : NULL);
            q = 2;
        }
        for (; g == RL_GROUP && q + RL_GROUP <= span; q += RL_GROUP)
            for (size_t c = 0; c < k; c++)
                axpy4(grad_sum + c * stride, z + c * span + q, Xs + q * d, d);
        for (; q < span; q++)
            for (size_t c = 0; c < k; c++) {
                axpy(grad_sum + c * stride, z[c * span + q], Xs + q * d, d);
                grad_sum[c * stride + d] += z[c * span + q];
            }
    }
    return l;
}

void RL_KFN(rl_block_portable)(int loss, size_t d, size_t k, const double *w, const double *X,
                               const double *y, size_t n, double *grad_sum, double *loss_sum)
{
    double z[RL_STACK_SCORES];
    if (loss != RILL_SOFTMAX) { /* one output: a copy of rows_sums for k = 1 on SIMD hosts */
        *loss_sum = rows_sums(loss, d, 1, w, X, y, n, grad_sum, *loss_sum, z);
        return;
    }
    if (k <= RL_STACK_SCORES) {
        *loss_sum = rows_sums(RILL_SOFTMAX, d, k, w, X, y, n, grad_sum, *loss_sum, z);
        return;
    }
    double l = *loss_sum; /* softmax with more classes than z holds */
    for (size_t i = 0; i < n; i++)
        l += softmax_row_streaming(w, X + i * d, d, k, (size_t)y[i], grad_sum);
    *loss_sum = l;
}

/* What the one-row step reads: w.x (the score every other call computes), x.x (the automatic
 * rate's cap) and w.w, which with x.x bounds the new weights before any is written. */
struct row_read {
    double wx, xx, ww;
};

/* One sweep, eight lanes per sum as in rl_dot and the same final order (the same bits). On
 * x86-64 and AArch64 with GCC and Clang (RL_VECTOR_LANES, loss_math.h), the lanes are
 * written as vectors: their auto-vectorizer would interleave three sums across iterations
 * instead, a shuffle for every load. Elsewhere (firmware, other compilers) three rl_dot
 * sweeps. */
#ifdef RL_VECTOR_LANES
static struct row_read row_read(const double *restrict w, const double *restrict x, size_t d)
{
    rl_v4 sa = {0}, sb = {0}, qa = {0}, qb = {0}, pa = {0}, pb = {0};
    size_t j = 0;
    for (; j + 8 <= d; j += 8) {
        rl_v4 wa, wb, xa, xb;
        rl_load8(&wa, &wb, w + j);
        rl_load8(&xa, &xb, x + j);
        sa += wa * xa;
        sb += wb * xb;
        qa += xa * xa;
        qb += xb * xb;
        pa += wa * wa;
        pb += wb * wb;
    }
    for (; j < d; j++) {
        sa[0] += w[j] * x[j];
        qa[0] += x[j] * x[j];
        pa[0] += w[j] * w[j];
    }
    struct row_read r;
    r.wx = rl_lanes8(&sa, &sb);
    r.xx = rl_lanes8(&qa, &qb);
    r.ww = rl_lanes8(&pa, &pb);
    return r;
}
#else
static struct row_read row_read(const double *restrict w, const double *restrict x, size_t d)
{
    struct row_read r;
    r.wx = rl_dot(w, x, d);
    r.xx = rl_dot(x, x, d);
    r.ww = rl_dot(w, w, d);
    return r;
}
#endif

/* next[0..d) = w shrink - c x, the row step's new weights beside the old ones; returns the OR
 * of rl_nonfinite_bit over them (an OR reduction that vectorizes). */
static uint64_t step_into(double *restrict next, const double *restrict w,
                          const double *restrict x, size_t d, double shrink, double c)
{
    uint64_t bad = 0;
    for (size_t j = 0; j < d; j++) {
        const double v = w[j] * shrink - c * x[j];
        bad |= rl_nonfinite_bit(v);
        next[j] = v;
    }
    return bad;
}

#if RL_ROW_STEP_MAX_K > 0
/* rl_row_step for softmax: the k scores, the row's softmax (rl_softmax_rows over one row),
 * and the step of every class's weights into next. */
static int row_step_softmax(size_t d, size_t k, const double *restrict w,
                            const double *restrict x, double t, double rate, double l2,
                            double cap_curv, int fit_intercept, double *restrict next,
                            double *loss_out)
{
    const size_t stride = d + 1;
    double z[RL_ROW_STEP_MAX_K], tmp[2], l;
    for (size_t c = 0; c < k; c++)
        z[c] = score(w + c * stride, x, d);
    rl_softmax_rows(z, k, 1, &t, &l, tmp); /* z: the derivatives p_c - [c == t] */
    if (!isfinite(l)) /* also when x holds a NaN or an Inf */
        return 0;
    if (cap_curv > 0.0)
        rate *= rl_cap_one_rate(cap_curv, l2, rate, rl_dot(x, x, d));
    const double shrink = 1.0 - rate * l2;
    uint64_t bad = 0;
    for (size_t c = 0; c < k; c++) {
        const double *restrict wc = w + c * stride;
        double *restrict nc = next + c * stride;
        const double cr = rate * z[c];
        bad |= step_into(nc, wc, x, d, shrink, cr);
        nc[d] = fit_intercept ? wc[d] - cr : wc[d];
        bad |= rl_nonfinite_bit(nc[d]);
    }
    *loss_out = l;
    return bad >> 63 ? 0 : RL_ROW_IN_NEXT;
}
#endif

int RL_KFN(rl_row_step)(int loss, size_t d, size_t k, double *restrict w,
                        const double *restrict x, double t, double rate, double l2,
                        double cap_curv, int fit_intercept, double *restrict next,
                        double *loss_out)
{
    if (loss == RILL_SOFTMAX)
#if RL_ROW_STEP_MAX_K > 0
        return k <= RL_ROW_STEP_MAX_K ? row_step_softmax(d, k, w, x, t, rate, l2, cap_curv,
                                                         fit_intercept, next, loss_out)
                                      : 0;
#else
        return 0;
#endif
    struct row_read rd;
    if (d >= RL_ROW_IN_PLACE_MIN_D) {
        rd = row_read(w, x, d);
    } else { /* short rows: the new weights always go to next; w.w is not needed */
        rd.wx = rl_dot(w, x, d);
        rd.xx = cap_curv > 0.0 ? rl_dot(x, x, d) : 0.0;
        rd.ww = 0.0;
    }
    const double z = rd.wx + w[d];
    double r, l;
    if (loss == RILL_SQUARED) {
        r = z - t;
        l = 0.5 * r * r;
    } else {
        l = rl_logistic(z, t, &r);
    }
    if (!isfinite(l)) /* also when x holds a NaN or an Inf: the score then is not finite */
        return 0;
    if (cap_curv > 0.0) /* rill_step's automatic rate, rate_cap in step.c with one row */
        rate *= rl_cap_one_rate(cap_curv, l2, rate, rd.xx);
    const double shrink = 1.0 - rate * l2, c = rate * r;
    const double b = fit_intercept ? w[d] - c : w[d];
    if (!isfinite(b))
        return 0;
    /* |w_j shrink| <= |shrink| sqrt(w.w) and |c x_j| <= |c| sqrt(x.x): when both are below
     * 2^500, no weight can come out non-finite, and the step is written over the weights
     * (NaN compares false). Otherwise into next, checked weight by weight. */
    if (d >= RL_ROW_IN_PLACE_MIN_D && shrink * shrink * rd.ww <= 0x1p1000 &&
        c * c * rd.xx <= 0x1p1000) {
        for (size_t j = 0; j < d; j++)
            w[j] = w[j] * shrink - c * x[j];
        w[d] = b;
        *loss_out = l;
        return RL_ROW_IN_PLACE;
    }
    const uint64_t bad = step_into(next, w, x, d, shrink, c);
    next[d] = b;
    *loss_out = l;
    return bad >> 63 ? 0 : RL_ROW_IN_NEXT;
}

#ifndef RL_KERNEL_SUFFIX /* the dispatching functions: once, in the baseline build */

/* Softmax goes to CBLAS (when built with it) from this many weights per output row times
 * classes: at 4 classes from d = 256, at 10 from d = 128 (per-row epoch times side by side,
 * d = 8 to 1000). Below it the portable kernel was 1.1 to 2 times faster. */
#define RL_BLAS_SOFTMAX_MIN 1024

int rl_kernels_avx2(void)
{
#ifdef RILL_HAVE_AVX2
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* The portable kernel for this processor */
static rl_block_fn portable(void)
{
#ifdef RILL_HAVE_AVX2
    if (rl_kernels_avx2())
        return rl_block_portable_avx2;
#endif
    return rl_block_portable;
}

void rl_kernel_sums(const rill_model *m, const double *w, const double *X, const double *y,
                    size_t n, double *grad_sum, double *loss_sum)
{
    /* CBLAS only where it wins: softmax with k * d of at least RL_BLAS_SOFTMAX_MIN, where
     * dgemm's blocking beats the portable kernel's sweep per class. For one output, and for
     * fewer classes or features, the fused portable pass (one read of each row) is faster. */
    rl_block_fn fn = portable();
    if (rl_block_blas && m->loss == RILL_SOFTMAX &&
        m->n_outputs * m->n_features >= RL_BLAS_SOFTMAX_MIN)
        fn = rl_block_blas;
    fn(m->loss, m->n_features, m->n_outputs, w, X, y, n, grad_sum, loss_sum);
}

void rl_kernel_step_sums(const rill_model *m, const double *X, const double *y, size_t n,
                         double *grad_sum, double *loss_sum)
{
    if (n < RILL_BLOCK_ROWS)
        portable()(m->loss, m->n_features, m->n_outputs, m->w, X, y, n, grad_sum, loss_sum);
    else
        rl_kernel_sums(m, m->w, X, y, n, grad_sum, loss_sum);
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

#ifndef RILL_HAVE_CBLAS
const rl_block_fn rl_block_blas = 0;
#endif

#endif /* RL_KERNEL_SUFFIX */
