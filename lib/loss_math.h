/* Numerically stable pieces of the losses, shared by the kernels. */
#ifndef RILL_LOSS_MATH_H
#define RILL_LOSS_MATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* SIMD hosts (RL_SIMD_HOST) get branch-free exp and log1p that vectorize across a group of
 * rows, and with GCC or Clang on x86-64 and AArch64 a dot product written in vectors
 * (RL_VECTOR_LANES); other targets (firmware) call their libm, which is smaller in the
 * library, and use plain C. kernels.c keys its vector code on the same tests. */
#if defined(__SSE2__) || defined(__aarch64__) || defined(__ARM_NEON)
#define RL_SIMD_HOST 1
#endif

/* Inlined into each caller on SIMD hosts, where a call with constant arguments compiles to a
 * copy for them and a hot path loses its calls; elsewhere (firmware) one copy, which is
 * smaller. */
#if defined(RL_SIMD_HOST) && (defined(__GNUC__) || defined(__clang__))
#define RL_SPECIALIZE inline __attribute__((always_inline))
#elif defined(__GNUC__) || defined(__clang__)
#define RL_SPECIALIZE __attribute__((noinline))
#else
#define RL_SPECIALIZE
#endif

/* Softmax rows go through the row step (kernels.c) up to this many classes, their scores on
 * the stack; with more, rl_row_step returns 0 at once. Only on SIMD hosts: firmware steps a
 * softmax row on the general path, which saves the row step's softmax code (about 490 bytes
 * that every program calling rill_step would link). */
#ifdef RL_SIMD_HOST
#define RL_ROW_STEP_MAX_K 256
#else
#define RL_ROW_STEP_MAX_K 0
#endif
/* vector types only where doubles have vector registers (x86-64, AArch64; not ARMv7 NEON) */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__SSE2__) || defined(__aarch64__))
#define RL_VECTOR_LANES 1
typedef double rl_v4 __attribute__((vector_size(32)));
typedef double rl_v2 __attribute__((vector_size(16)));

/* A dot product's eight lanes, s0..s3 in lo and s4..s7 in hi, added in rl_dot's final order:
 * ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)). Four vector operations, where the
 * compilers turn the same sum over eight scalars into a dozen shuffles and scalar adds. */
static inline double rl_lanes8(const rl_v4 *lo, const rl_v4 *hi)
{
    const rl_v4 c = *lo + *hi;
    const rl_v2 t = (rl_v2){c[0], c[1]} + (rl_v2){c[2], c[3]};
    return t[0] + t[1];
}

/* p[0..3] into lo and p[4..7] into hi (unaligned loads) */
static inline void rl_load8(rl_v4 *lo, rl_v4 *hi, const double *p)
{
    memcpy(lo, p, sizeof *lo);
    memcpy(hi, p + 4, sizeof *hi);
}
#endif

/* Dot product with eight accumulators (lane k sums the products j = k mod 8, the last n % 8
 * into lane 0), combined in a fixed order: two to four independent vector chains hide the
 * adder's latency, and every build gives the same bits. */
#ifdef RL_VECTOR_LANES
static inline double rl_dot(const double *restrict a, const double *restrict b, size_t n)
{
    rl_v4 lo = {0.0, 0.0, 0.0, 0.0}, hi = {0.0, 0.0, 0.0, 0.0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        rl_v4 a0, a1, b0, b1;
        rl_load8(&a0, &a1, a + j);
        rl_load8(&b0, &b1, b + j);
        lo += a0 * b0;
        hi += a1 * b1;
    }
    for (; j < n; j++)
        lo[0] += a[j] * b[j];
    return rl_lanes8(&lo, &hi);
}
#else
static inline double rl_dot(const double *restrict a, const double *restrict b, size_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0;
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        s0 += a[j] * b[j];
        s1 += a[j + 1] * b[j + 1];
        s2 += a[j + 2] * b[j + 2];
        s3 += a[j + 3] * b[j + 3];
        s4 += a[j + 4] * b[j + 4];
        s5 += a[j + 5] * b[j + 5];
        s6 += a[j + 6] * b[j + 6];
        s7 += a[j + 7] * b[j + 7];
    }
    for (; j < n; j++)
        s0 += a[j] * b[j];
    return ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
}
#endif

/* The top bit set when v is NaN or infinite: Inf and NaN have an all-ones exponent, and
 * adding one to it carries into the sign bit. Integer operations, so that a loop ORing them
 * vectorizes, where a floating-point test would not. */
static inline uint64_t rl_nonfinite_bit(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u & 0x7ff0000000000000u) + 0x0010000000000000u;
}

/* rill_step's automatic rate cap when every weight has the same rate: the step may not
 * overshoot, c (rate mean_i x_i.x_i + rate) + l2 rate <= 1 (the intercept's rate counted, the
 * l2 term only with l2 > 0). Returns the factor, at most 1, that the rate is multiplied by. */
static inline double rl_cap_one_rate(double curv, double l2, double rate, double mean_xx)
{
    const double load = curv * (rate * mean_xx + rate) + (l2 > 0.0 ? l2 * rate : 0.0);
    return load > 1.0 ? 1.0 / load : 1.0;
}

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

#ifdef RL_SIMD_HOST
/* ln 2 in two parts; the high one has trailing zero bits, so k * RL_LN2_HI is exact for
 * small integers k */
#define RL_LN2_HI 0x1.62e42feep-1
#define RL_LN2_LO 0x1.a39ef35793c76p-33

/* exp(x) for x <= 0 (NaN stays NaN), within a few ulp: Cody-Waite reduction by ln 2 and a
 * degree-11 polynomial on |r| <= ln(2)/2 (a Chebyshev fit, error 3e-18; scripts/gen-poly.py),
 * evaluated by Estrin's scheme. Straight-line code without calls or branches, so that the
 * kernels' loops over a group of rows vectorize; x below -708 (results under 2^-1021)
 * gives 0. */
static inline double rl_exp_nonpos(double x)
{
    const double shift = 0x1.8p52;
    const double v = x < -708.0 ? -708.0 : x;
    const double t = v * 0x1.71547652b82fep0 + shift; /* n = round(v / ln 2) in the low bits */
    const double n = t - shift;
    const double r = (v - n * RL_LN2_HI) - n * RL_LN2_LO;
    /* Estrin's scheme: short dependency chains */
    const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const double q0 = 1.0 + r, q1 = 0.5000000000000019 + r * 0.1666666666666668;
    const double q2 = 0.04166666666648809 + r * 0.008333333333319601;
    const double q3 = 0.0013888888952315137 + r * 0.00019841269890047392;
    const double q4 = 2.4801485481939763e-05 + r * 2.7557240918280047e-06;
    const double q5 = 2.763263978288121e-07 + r * 2.5110037716573578e-08;
    const double p = ((q0 + r2 * q1) + r4 * (q2 + r2 * q3)) + r8 * (q4 + r2 * q5);
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023u) << 52; /* 2^n: n + 1023 in the exponent field */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -708.0 ? 0.0 : p * scale;
}

/* log(1 + e) for 0 <= e <= 1, within a few ulp and to full relative precision for tiny e:
 * 1 + e = 2^k m with m in [sqrt(1/2), sqrt(2)], log m = 2 atanh(s), s = (m - 1) / (m + 1),
 * taken from e itself: s = e / (2 + e) for k = 0 and (e - 1) / (e + 3) for k = 1 (then
 * m = (1 + e) / 2), so that the rounding of 1 + e never enters. |s| <= 0.1716; 2 atanh(s) =
 * 2s + 2s s^2 P(s^2), P a degree-6 Chebyshev fit (error 2e-16, 5e-18 relative to log m;
 * scripts/gen-poly.py). */
static inline double rl_log1p_unit(double e)
{
    /* k = 1 above sqrt(2) - 1, else 0, made from the comparison's bits: written as a select,
     * compilers evaluate the division and the series once per case */
    const uint64_t kb = ((uint64_t)0 - (uint64_t)(e > 0x1.a827999fcef32p-2)) & 0x3ff0000000000000u;
    double k;
    memcpy(&k, &kb, sizeof k);
    const double s = (e - k) / (e + (2.0 + k)), x = s * s, x2 = x * x, x4 = x2 * x2;
    const double q0 = 0.3333333333333335 + x * 0.19999999999949752;
    const double q1 = 0.14285714312987743 + x * 0.1111110556739754;
    const double q2 = 0.09091444562630861 + x * 0.07665860800278021;
    const double p = (q0 + x2 * q1) + x4 * (q2 + x2 * 0.07308224842521703);
    return k * RL_LN2_HI + ((2.0 * s + 2.0 * s * (x * p)) + k * RL_LN2_LO);
}

/* log(s) for s >= 1 (a softmax's sum of exps, the largest of them 1), within a few ulp:
 * s = 2^k m with m in [1, 2), log s = k ln 2 + log1p(m - 1). The exponent k is read from the
 * bits through a double (no integer conversion, so that it vectorizes). NaN stays NaN. */
static inline double rl_log_ge1(double s)
{
    uint64_t bits, kb;
    memcpy(&bits, &s, sizeof bits);
    kb = (bits >> 52) | 0x4330000000000000u; /* 2^52 + the biased exponent */
    bits = (bits & 0x000fffffffffffffu) | 0x3ff0000000000000u;
    double kd, m;
    memcpy(&kd, &kb, sizeof kd);
    memcpy(&m, &bits, sizeof m);
    const double k = (kd - 0x1p52) - 1023.0;
    const double v = k * RL_LN2_HI + (rl_log1p_unit(m - 1.0) + k * RL_LN2_LO);
    return s - s == 0.0 ? v : s;
}

#else
static inline double rl_exp_nonpos(double x)
{
    return exp(x);
}

static inline double rl_log1p_unit(double e)
{
    return log1p(e);
}

static inline double rl_log_ge1(double s)
{
    return log(s);
}
#endif

/* Softmax cross-entropy of n rows side by side: the loops run across the rows, so that they
 * vectorize whatever the number of classes k. z holds the scores class-major, z[c * n + q]
 * for class c of row q, whose class is label[q] (an integer-valued double). Writes row q's
 * loss log sum_c exp(z_c) - z_label to lq[q] and leaves in z the derivatives
 * p_c - [c == label], p_c = exp(z_c - max) / sum (the sum in class order). tmp: 2n doubles.
 * NaN or infinite scores give a non-finite loss. */
static inline void rl_softmax_rows(double *restrict z, size_t k, size_t n,
                                   const double *restrict label, double *restrict lq,
                                   double *restrict tmp)
{
    double *restrict mx = tmp, *restrict s = tmp + n;
    for (size_t q = 0; q < n; q++) {
        mx[q] = -INFINITY;
        s[q] = 0.0;
        lq[q] = 0.0;
    }
    for (size_t c = 0; c < k; c++) /* the max and z_label: selects, which vectorize */
        for (size_t q = 0; q < n; q++) {
            mx[q] = z[c * n + q] > mx[q] ? z[c * n + q] : mx[q];
            lq[q] = label[q] == (double)c ? z[c * n + q] : lq[q];
        }
    for (size_t q = 0; q < n; q++) /* z_label - max, <= 0 */
        lq[q] -= mx[q];
    for (size_t c = 0; c < k; c++)
        for (size_t q = 0; q < n; q++) {
            z[c * n + q] = rl_exp_nonpos(z[c * n + q] - mx[q]);
            s[q] += z[c * n + q];
        }
    for (size_t q = 0; q < n; q++)
        lq[q] = rl_log_ge1(s[q]) - lq[q];
    for (size_t c = 0; c < k; c++)
        for (size_t q = 0; q < n; q++)
            z[c * n + q] = z[c * n + q] / s[q] - (label[q] == (double)c ? 1.0 : 0.0);
}

/* Logistic loss softplus(z) - t z of one row and its derivative sigmoid(z) - t, from
 * e = exp(-|z|): sigmoid = (z >= 0 ? 1 : e) / (1 + e), softplus = max(z, 0) + log1p(e). The
 * loss is written max(z, 0) - t z + log1p(e) with the first two terms taken together (exact
 * for t = 0 or 1), so that a well-classified row's small loss is log1p(e) to full relative
 * precision: (z + log1p(e)) - z would keep only half an ulp of z of it. NaN or infinite z
 * gives a non-finite loss (rill_gradient relies on it). */
static inline double rl_logistic(double z, double t, double *deriv)
{
    const double e = rl_exp_nonpos(-fabs(z)), lp = rl_log1p_unit(e);
    *deriv = (z >= 0.0 ? 1.0 : e) / (1.0 + e) - t;
    return (z > 0.0 ? (1.0 - t) * z : -t * z) + lp;
}

#endif
