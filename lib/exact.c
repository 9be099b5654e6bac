/*
 * EXACT mode: one pass of mean-centred moments, merged micro-batch by micro-batch with Chan's
 * parallel update, then the ridge normal equations (intercept unpenalized) by Cholesky.
 * Centred moments keep the Gram matrix conditioned by the data's spread, not its offset.
 */
#include <math.h>
#include <string.h>

#include "exact.h"
#ifdef RILL_HAVE_CBLAS
#include <cblas.h>
#endif

void rl_moments_clear(struct rl_moments *mo, size_t d)
{
    mo->n = 0.0;
    mo->y_shift = 0.0;
    mo->y_mean = 0.0;
    mo->syy = 0.0;
    memset(mo->shift, 0, d * sizeof(double));
    memset(mo->mean, 0, d * sizeof(double));
    memset(mo->cxy, 0, d * sizeof(double));
    memset(mo->C, 0, d * d * sizeof(double));
}

/* C += Xc' Xc on the upper triangle (row-major d x d). */
static void gram_add(double *C, const double *Xc, size_t nb, size_t d)
{
#ifdef RILL_HAVE_CBLAS
    if (d <= 0x7fffffff && nb <= 0x7fffffff) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)nb, 1.0, Xc, (int)d, 1.0,
                    C, (int)d);
        return;
    }
#endif
    for (size_t i = 0; i < nb; i++) {
        const double *x = Xc + i * d;
        for (size_t a = 0; a < d; a++) {
            double *row = C + a * d;
            const double xa = x[a];
            for (size_t b = a; b < d; b++)
                row[b] += xa * x[b];
        }
    }
}

/* Merges nb rows (X is shifted and centred in place: it is the stream's buffer) into the
 * moments. batch_mean and tmp: d doubles each. */
void rl_moments_add(struct rl_moments *mo, double *X, const double *y, size_t nb, size_t d,
                    double *batch_mean, double *tmp)
{
    const double n_b = (double)nb, n_a = mo->n, n = n_a + n_b;
    double y_b = 0.0, syy_b = 0.0;
    if (n_a == 0.0) { /* the first row: a data point, so that rows near it shift exactly */
        memcpy(mo->shift, X, d * sizeof(double));
        mo->y_shift = y[0];
    }
    const double ys = mo->y_shift;
    memset(batch_mean, 0, d * sizeof(double));
    for (size_t i = 0; i < nb; i++) {
        double *x = X + i * d;
        y_b += y[i] - ys;
        for (size_t j = 0; j < d; j++) {
            x[j] -= mo->shift[j];
            batch_mean[j] += x[j];
        }
    }
    y_b /= n_b;
    for (size_t j = 0; j < d; j++)
        batch_mean[j] /= n_b;
    /* The corrected two-pass mean: the sum's rounding, up to about nb eps |mean|, would be
     * centred into every row, and a constant column would then show a small spread of its own,
     * unrelated to the others, that the Cholesky takes for a feature. With the correction its
     * mean is the constant itself, and its centred values are 0. */
    memset(tmp, 0, d * sizeof(double));
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < d; j++)
            tmp[j] += X[i * d + j] - batch_mean[j];
    for (size_t j = 0; j < d; j++)
        batch_mean[j] += tmp[j] / n_b;
    double cy = 0.0;
    for (size_t i = 0; i < nb; i++)
        cy += (y[i] - ys) - y_b;
    y_b += cy / n_b;
    for (size_t i = 0; i < nb; i++) {
        const double ry = (y[i] - ys) - y_b;
        double *x = X + i * d;
        syy_b += ry * ry;
        for (size_t j = 0; j < d; j++) {
            x[j] -= batch_mean[j];
            mo->cxy[j] += x[j] * ry;
        }
    }
    gram_add(mo->C, X, nb, d);
    /* Chan: add the between-batch term, then move the means. */
    const double coef = n_a * n_b / n, dy = y_b - mo->y_mean;
    for (size_t a = 0; a < d; a++) {
        const double da = batch_mean[a] - mo->mean[a];
        mo->cxy[a] += coef * da * dy;
        for (size_t b = a; b < d; b++)
            mo->C[a * d + b] += coef * da * (batch_mean[b] - mo->mean[b]);
    }
    for (size_t j = 0; j < d; j++)
        mo->mean[j] += (batch_mean[j] - mo->mean[j]) * (n_b / n);
    mo->syy += syy_b + coef * dy * dy;
    mo->y_mean += dy * (n_b / n);
    mo->n = n;
}


/* In-place Cholesky of the upper triangle (A = U'U); 0 if A is not numerically positive
 * definite: a pivot, the part of column j's diagonal not explained by the columns before it,
 * at most 1e-13 of that diagonal (the column is then collinear with them to about 13 digits;
 * 0 for a zero diagonal). Each column against its own scale, so that features in different
 * units (scaling a column scales its diagonal and its pivot alike) are judged alike. */
static int cholesky_upper(double *A, size_t d)
{
    for (size_t j = 0; j < d; j++) {
        const double diag = A[j * d + j];
        double s = diag;
        for (size_t k = 0; k < j; k++)
            s -= A[k * d + j] * A[k * d + j];
        if (!(s > 1e-13 * diag))
            return 0;
        const double u = sqrt(s);
        A[j * d + j] = u;
        for (size_t i = j + 1; i < d; i++) {
            double t = A[j * d + i];
            for (size_t k = 0; k < j; k++)
                t -= A[k * d + j] * A[k * d + i];
            A[j * d + i] = t / u;
        }
    }
    return 1;
}

/* Solves U'U x = b in place. */
static void cholesky_solve(const double *U, size_t d, double *b)
{
    for (size_t i = 0; i < d; i++) {
        double t = b[i];
        for (size_t k = 0; k < i; k++)
            t -= U[k * d + i] * b[k];
        b[i] = t / U[i * d + i];
    }
    for (size_t i = d; i-- > 0;) {
        double t = b[i];
        for (size_t k = i + 1; k < d; k++)
            t -= U[i * d + k] * b[k];
        b[i] = t / U[i * d + i];
    }
}

/*
 * Ridge on the moments: (C + n l2 I) w = cxy, b = ybar - xbar'w with the intercept fitted
 * (xbar = shift + mean, ybar = y_shift + y_mean); with it fixed at b0, the uncentred system
 * (C + n xbar xbar' + n l2 I) w = cxy + n xbar (ybar - b0). Writes the d weights and the
 * intercept to out (d + 1) and the objective to *objective. work holds d * d doubles. Returns
 * RILL_OK, RL_MOMENTS_OVERFLOW (a moment is not finite), RL_MOMENTS_SYSTEM_OVERFLOW (the
 * system built from finite moments is not: with the intercept fixed, n xbar xbar' or
 * n xbar (ybar - b0); or n l2) or RL_MOMENTS_SINGULAR.
 */
int rl_moments_solve(const struct rl_moments *mo, size_t d, double l2, int fit_intercept,
                     double b0, double *work, double *out, double *objective)
{
    const double n = mo->n, yb = (mo->y_shift - b0) + mo->y_mean;
    /* NaN if a moment is not finite (each times 0: finite ones add nothing, whatever size) */
    double probe = mo->syy * 0.0 + mo->y_shift * 0.0 + mo->y_mean * 0.0;
    double sys = 0.0; /* the same for the system solved */
    for (size_t a = 0; a < d; a++) {
        const double xa = mo->shift[a] + mo->mean[a];
        probe += mo->shift[a] * 0.0 + mo->mean[a] * 0.0 + mo->cxy[a] * 0.0;
        for (size_t b = a; b < d; b++) {
            double v = mo->C[a * d + b];
            probe += v * 0.0;
            if (!fit_intercept)
                v += n * xa * (mo->shift[b] + mo->mean[b]);
            work[a * d + b] = v + (a == b ? n * l2 : 0.0);
            sys += work[a * d + b] * 0.0;
        }
        out[a] = mo->cxy[a] + (fit_intercept ? 0.0 : n * xa * yb);
        sys += out[a] * 0.0;
    }
    if (!isfinite(probe))
        return RL_MOMENTS_OVERFLOW;
    if (!isfinite(sys)) /* the fixed intercept's uncentred system, or n l2 */
        return RL_MOMENTS_SYSTEM_OVERFLOW;
    if (!cholesky_upper(work, d))
        return RL_MOMENTS_SINGULAR;
    cholesky_solve(work, d, out);
    double wc = 0.0, wCw = 0.0, mw = 0.0, sw = 0.0, ww = 0.0;
    for (size_t a = 0; a < d; a++) {
        wc += out[a] * mo->cxy[a];
        mw += out[a] * mo->mean[a];
        sw += out[a] * mo->shift[a];
        ww += out[a] * out[a];
        double t = mo->C[a * d + a] * out[a];
        for (size_t b = a + 1; b < d; b++)
            t += 2.0 * mo->C[a * d + b] * out[b];
        wCw += out[a] * t;
    }
    /* ybar - xbar'w - b0, its offset part and its spread part each on its own (y_shift - b0
     * is exact where the two are close: a fixed intercept near the targets' offset) */
    const double b = fit_intercept ? (mo->y_shift - sw) + (mo->y_mean - mw) : b0;
    const double off = fit_intercept ? 0.0 : ((mo->y_shift - b0) - sw) + (mo->y_mean - mw);
    out[d] = b;
    double sse = mo->syy - 2.0 * wc + wCw + n * off * off;
    *objective = 0.5 * fmax(sse, 0.0) / n + 0.5 * l2 * ww;
    return RILL_OK;
}
