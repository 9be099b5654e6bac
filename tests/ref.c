/* Independent reference code for the rill tests: see ref.h. Does not call the library. */
#include "ref.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REF_DATA_DIR
#define REF_DATA_DIR "examples/data"
#endif

/* ------------------------------------------------------------------ data */

static char data_dir[4096];

void ref_set_data_dir(const char *dir)
{
    if (dir && *dir) {
        strncpy(data_dir, dir, sizeof data_dir - 1);
        data_dir[sizeof data_dir - 1] = '\0';
    }
}

const char *ref_data_dir(void)
{
    const char *env;
    if (data_dir[0])
        return data_dir;
    env = getenv("RILL_DATA_DIR");
    if (env && *env)
        return env;
    return REF_DATA_DIR;
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        fprintf(stderr, "ref: out of memory (%zu bytes)\n", size);
        abort();
    }
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "ref: out of memory (%zu x %zu bytes)\n", n, size);
        abort();
    }
    return p;
}

int ref_load_csv(const char *path, ref_data *out)
{
    FILE *f = fopen(path, "rb");
    char *text, *p, *line_end;
    long len;
    size_t cols = 1, cap = 0, n = 0, d, i;
    double *vals = NULL;

    memset(out, 0, sizeof *out);
    if (!f) {
        fprintf(stderr, "ref: cannot open %s\n", path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    text = xmalloc((size_t)len + 1);
    if (fread(text, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(text);
        return -1;
    }
    fclose(f);
    text[len] = '\0';

    /* header */
    line_end = strchr(text, '\n');
    if (!line_end) {
        free(text);
        return -1;
    }
    for (p = text; p < line_end; p++)
        if (*p == ',')
            cols++;
    if (cols < 2) {
        free(text);
        return -1;
    }
    d = cols - 1;
    p = line_end + 1;
    while (*p) {
        char *end;
        if (*p == '\n' || *p == '\r') {
            p++;
            continue;
        }
        if (n + 1 > cap) {
            cap = cap ? 2 * cap : 256;
            vals = realloc(vals, cap * cols * sizeof *vals);
            if (!vals) {
                fprintf(stderr, "ref: out of memory\n");
                abort();
            }
        }
        for (i = 0; i < cols; i++) {
            double v = strtod(p, &end);
            if (end == p) {
                fprintf(stderr, "ref: %s: bad number at data row %zu, column %zu\n", path, n, i);
                free(vals);
                free(text);
                return -1;
            }
            vals[n * cols + i] = v;
            p = end;
            if (i + 1 < cols) {
                if (*p != ',') {
                    fprintf(stderr, "ref: %s: expected ',' at data row %zu\n", path, n);
                    free(vals);
                    free(text);
                    return -1;
                }
                p++;
            }
        }
        while (*p == '\r' || *p == ' ')
            p++;
        if (*p && *p != '\n') {
            fprintf(stderr, "ref: %s: trailing characters at data row %zu\n", path, n);
            free(vals);
            free(text);
            return -1;
        }
        n++;
    }
    free(text);
    out->n = n;
    out->d = d;
    out->X = xmalloc(n * d * sizeof(double));
    out->y = xmalloc(n * sizeof(double));
    for (i = 0; i < n; i++) {
        memcpy(out->X + i * d, vals + i * cols, d * sizeof(double));
        out->y[i] = vals[i * cols + d];
    }
    free(vals);
    return 0;
}

void ref_load(const char *name, ref_data *out)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", ref_data_dir(), name);
    if (ref_load_csv(path, out) != 0) {
        fprintf(stderr, "ref: cannot load %s (set RILL_DATA_DIR)\n", path);
        abort();
    }
}

void ref_data_free(ref_data *d)
{
    if (!d)
        return;
    free(d->X);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------ objective */

size_t ref_n_outputs(int loss, size_t K)
{
    return loss == REF_SOFTMAX ? K : 1;
}

size_t ref_n_weights(int loss, size_t d, size_t K)
{
    return ref_n_outputs(loss, K) * (d + 1);
}

int ref_is_intercept(size_t d, size_t j)
{
    return j % (d + 1) == d;
}

/* One row: scores z from long double weights, loss, and dz (d loss / d z_k). */
static long double row_loss(int loss, const double *x, double yv, size_t d, size_t nout,
                            const long double *W, long double *z, long double *dz)
{
    size_t k, j;
    for (k = 0; k < nout; k++) {
        const long double *w = W + k * (d + 1);
        long double s = w[d];
        for (j = 0; j < d; j++)
            s += w[j] * (long double)x[j];
        z[k] = s;
    }
    if (loss == REF_SQUARED) {
        long double r = z[0] - (long double)yv;
        if (dz)
            dz[0] = r;
        return 0.5L * r * r;
    }
    if (loss == REF_LOGISTIC) {
        long double zz = z[0];
        long double l = (zz > 0 ? zz : 0.0L) - (long double)yv * zz + log1pl(expl(-fabsl(zz)));
        if (dz) {
            long double sig;
            if (zz >= 0)
                sig = 1.0L / (1.0L + expl(-zz));
            else {
                long double e = expl(zz);
                sig = e / (1.0L + e);
            }
            dz[0] = sig - (long double)yv;
        }
        return l;
    }
    {
        /* softmax */
        long double mx = z[0], s = 0.0L, lse;
        size_t label = (size_t)yv;
        for (k = 1; k < nout; k++)
            if (z[k] > mx)
                mx = z[k];
        for (k = 0; k < nout; k++)
            s += expl(z[k] - mx);
        lse = mx + logl(s);
        if (dz)
            for (k = 0; k < nout; k++)
                dz[k] = expl(z[k] - mx) / s - (k == label ? 1.0L : 0.0L);
        return lse - z[label];
    }
}

static long double sums_l(int loss, const double *X, const double *y, size_t n, size_t d,
                          size_t K, const long double *W, long double *grad_sum)
{
    size_t nout = ref_n_outputs(loss, K), nw = nout * (d + 1), i, k, j;
    long double *z = xmalloc(nout * sizeof *z), *dz = xmalloc(nout * sizeof *dz);
    long double total = 0.0L;
    if (grad_sum)
        for (j = 0; j < nw; j++)
            grad_sum[j] = 0.0L;
    for (i = 0; i < n; i++) {
        const double *x = X + i * d;
        total += row_loss(loss, x, y[i], d, nout, W, z, grad_sum ? dz : NULL);
        if (grad_sum)
            for (k = 0; k < nout; k++) {
                long double *g = grad_sum + k * (d + 1);
                for (j = 0; j < d; j++)
                    g[j] += dz[k] * (long double)x[j];
                g[d] += dz[k];
            }
    }
    free(z);
    free(dz);
    return total;
}

static long double *to_long(const double *W, size_t nw)
{
    long double *w = xcalloc(nw, sizeof *w);
    size_t j;
    for (j = 0; j < nw; j++)
        w[j] = W[j];
    return w;
}

long double ref_sums(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                     const double *W, long double *grad_sum)
{
    size_t nw = ref_n_weights(loss, d, K);
    long double *w = to_long(W, nw);
    long double r = sums_l(loss, X, y, n, d, K, w, grad_sum);
    free(w);
    return r;
}

/* Full objective and smooth gradient (mean + l2 w) at long double weights. */
static long double objective_l(int loss, const double *X, const double *y, size_t n, size_t d,
                               size_t K, const long double *W, double l2, double l1,
                               long double *grad)
{
    size_t nw = ref_n_weights(loss, d, K), j;
    long double f = sums_l(loss, X, y, n, d, K, W, grad) / (long double)n;
    long double p2 = 0.0L, p1 = 0.0L;
    for (j = 0; j < nw; j++) {
        if (grad)
            grad[j] /= (long double)n;
        if (ref_is_intercept(d, j))
            continue;
        p2 += W[j] * W[j];
        p1 += fabsl(W[j]);
        if (grad)
            grad[j] += (long double)l2 * W[j];
    }
    return f + 0.5L * (long double)l2 * p2 + (long double)l1 * p1;
}

long double ref_objective_l(int loss, const double *X, const double *y, size_t n, size_t d,
                            size_t K, const double *W, double l2, double l1)
{
    size_t nw = ref_n_weights(loss, d, K);
    long double *w = to_long(W, nw);
    long double f = objective_l(loss, X, y, n, d, K, w, l2, l1, NULL);
    free(w);
    return f;
}

double ref_objective(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                     const double *W, double l2, double l1)
{
    return (double)ref_objective_l(loss, X, y, n, d, K, W, l2, l1);
}

void ref_gradient(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                  const double *W, double l2, double *grad)
{
    size_t nw = ref_n_weights(loss, d, K), j;
    long double *w = to_long(W, nw), *g = xmalloc(nw * sizeof *g);
    objective_l(loss, X, y, n, d, K, w, l2, 0.0, g);
    for (j = 0; j < nw; j++)
        grad[j] = (double)g[j];
    free(w);
    free(g);
}

void ref_projected_gradient(size_t d, size_t n_outputs, const double *W, const double *g,
                            double l1, double *pg)
{
    size_t nw = n_outputs * (d + 1), j;
    for (j = 0; j < nw; j++) {
        if (ref_is_intercept(d, j) || l1 == 0.0)
            pg[j] = g[j];
        else if (W[j] > 0)
            pg[j] = g[j] + l1;
        else if (W[j] < 0)
            pg[j] = g[j] - l1;
        else if (g[j] > l1)
            pg[j] = g[j] - l1;
        else if (g[j] < -l1)
            pg[j] = g[j] + l1;
        else
            pg[j] = 0.0;
    }
}

/* ------------------------------------------------------------------ linear algebra */

int ref_cholesky_solve(long double *A, long double *b, size_t m)
{
    size_t i, j, k;
    for (j = 0; j < m; j++) {
        long double s = A[j * m + j];
        for (k = 0; k < j; k++)
            s -= A[j * m + k] * A[j * m + k];
        if (!(s > 0.0L))
            return -1;
        s = sqrtl(s);
        A[j * m + j] = s;
        for (i = j + 1; i < m; i++) {
            long double t = A[i * m + j];
            for (k = 0; k < j; k++)
                t -= A[i * m + k] * A[j * m + k];
            A[i * m + j] = t / s;
        }
    }
    /* L z = b */
    for (i = 0; i < m; i++) {
        long double t = b[i];
        for (k = 0; k < i; k++)
            t -= A[i * m + k] * b[k];
        b[i] = t / A[i * m + i];
    }
    /* L^T x = z */
    for (i = m; i-- > 0;) {
        long double t = b[i];
        for (k = i + 1; k < m; k++)
            t -= A[k * m + i] * b[k];
        b[i] = t / A[i * m + i];
    }
    return 0;
}

/* Hessian of the mean loss (double accumulation: it only steers Newton; the gradient, in
 * long double, decides where it stops), plus l2 on the non-intercept diagonal. */
static void hessian(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                    const long double *W, double l2, double *H)
{
    size_t nout = ref_n_outputs(loss, K), D = d + 1, m = nout * D, i, j, a, b, k, l;
    long double *z = xmalloc(nout * sizeof *z), *dz = xmalloc(nout * sizeof *dz);
    double *p = xmalloc(nout * sizeof *p), *xv = xmalloc(D * sizeof *xv);
    size_t *nz = xmalloc(D * sizeof *nz), nnz;
    double inv_n = 1.0 / (double)n;

    memset(H, 0, m * m * sizeof *H);
    for (i = 0; i < n; i++) {
        const double *x = X + i * d;
        nnz = 0;
        for (j = 0; j < d; j++)
            if (x[j] != 0.0) {
                xv[nnz] = x[j];
                nz[nnz++] = j;
            }
        xv[nnz] = 1.0;
        nz[nnz++] = d;
        row_loss(loss, x, y[i], d, nout, W, z, dz);
        if (loss == REF_SQUARED)
            p[0] = 1.0;
        else if (loss == REF_LOGISTIC) {
            double s = (double)(dz[0] + (long double)y[i]);
            p[0] = s * (1.0 - s);
        } else
            for (k = 0; k < nout; k++)
                p[k] = (double)(dz[k] + (k == (size_t)y[i] ? 1.0L : 0.0L));
        for (k = 0; k < nout; k++)
            for (l = (loss == REF_SOFTMAX ? k : 0); l < (loss == REF_SOFTMAX ? nout : 1); l++) {
                double c;
                if (loss == REF_SOFTMAX)
                    c = (k == l ? p[k] : 0.0) - p[k] * p[l];
                else
                    c = p[0];
                c *= inv_n;
                if (c == 0.0)
                    continue;
                for (a = 0; a < nnz; a++) {
                    double ca = c * xv[a];
                    double *row = H + (k * D + nz[a]) * m + l * D;
                    for (b = 0; b < nnz; b++)
                        row[nz[b]] += ca * xv[b];
                }
            }
    }
    /* the blocks l > k were filled; mirror them */
    for (a = 0; a < m; a++)
        for (b = 0; b < a; b++)
            if (a / D != b / D)
                H[a * m + b] = H[b * m + a];
    for (j = 0; j < m; j++)
        if (!ref_is_intercept(d, j))
            H[j * m + j] += l2;
    free(z);
    free(dz);
    free(p);
    free(xv);
    free(nz);
}

static long double inf_norm_l(const long double *g, size_t n)
{
    long double m = 0.0L;
    size_t j;
    for (j = 0; j < n; j++)
        if (fabsl(g[j]) > m)
            m = fabsl(g[j]);
    return m;
}

/* The precision long double really has here: LDBL_EPSILON natively, but DBL_EPSILON under
 * valgrind, which runs x87 arithmetic in 64 bits. */
static long double effective_ldbl_eps(void)
{
    volatile long double one = 1.0L, e = LDBL_EPSILON;
    while (one + e == one)
        e *= 2.0L;
    return e;
}

int ref_newton(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
               double l2, double *Wout, long double *f_out, double *grel_out)
{
    size_t nout = ref_n_outputs(loss, K), m = nout * (d + 1), j, a, b, r;
    size_t fixed = loss == REF_SOFTMAX ? (K - 1) * (d + 1) + d : (size_t)-1;
    size_t mr = fixed == (size_t)-1 ? m : m - 1;
    long double *w = to_long(Wout, m), *wn = xmalloc(m * sizeof *wn);
    long double *g = xmalloc(m * sizeof *g), *gn = xmalloc(m * sizeof *gn);
    long double *A = xmalloc(mr * mr * sizeof *A), *s = xmalloc(mr * sizeof *s);
    long double *step = xmalloc(m * sizeof *step);
    double *H = xmalloc(m * m * sizeof *H);
    size_t *idx = xmalloc(mr * sizeof *idx);
    long double f, fn, g0, gnorm, tol;
    int it, result = -1;

    for (j = 0, r = 0; j < m; j++)
        if (j != fixed)
            idx[r++] = j;

    f = objective_l(loss, X, y, n, d, K, w, l2, 0.0, g);
    g0 = inf_norm_l(g, m);
    tol = 1e-12L * (g0 > 1.0L ? g0 : 1.0L);
    gnorm = g0;
    for (it = 0; it < 200; it++) {
        long double gs = 0.0L, t = 1.0L;
        if (gnorm <= tol) {
            result = it;
            break;
        }
        hessian(loss, X, y, n, d, K, w, l2, H);
        for (a = 0; a < mr; a++) {
            for (b = 0; b < mr; b++)
                A[a * mr + b] = H[idx[a] * m + idx[b]];
            s[a] = -g[idx[a]];
        }
        if (ref_cholesky_solve(A, s, mr) != 0)
            break;
        for (j = 0; j < m; j++)
            step[j] = 0.0L;
        for (a = 0; a < mr; a++)
            step[idx[a]] = s[a];
        for (j = 0; j < m; j++)
            gs += g[j] * step[j];
        for (;;) {
            for (j = 0; j < m; j++)
                wn[j] = w[j] + t * step[j];
            fn = objective_l(loss, X, y, n, d, K, wn, l2, 0.0, gn);
            if (isfinite((double)fn)) {
                if (fn <= f + 1e-4L * t * gs)
                    break;
                /* at the optimum the decrease drowns in rounding: accept a full step that
                 * does not raise f beyond rounding and shrinks the gradient */
                if (t == 1.0L && fn <= f + 64.0L * effective_ldbl_eps() * fabsl(f) &&
                    inf_norm_l(gn, m) < gnorm)
                    break;
            }
            t *= 0.5L;
            if (t < 1e-20L)
                goto done;
        }
        memcpy(w, wn, m * sizeof *w);
        memcpy(g, gn, m * sizeof *g);
        f = fn;
        gnorm = inf_norm_l(g, m);
    }
done:
    if (result < 0 && gnorm <= tol)
        result = it;
    for (j = 0; j < m; j++)
        Wout[j] = (double)w[j];
    if (f_out)
        *f_out = f;
    if (grel_out)
        *grel_out = (double)(gnorm / (g0 > 1.0L ? g0 : 1.0L));
    free(w);
    free(wn);
    free(g);
    free(gn);
    free(A);
    free(s);
    free(step);
    free(H);
    free(idx);
    return result;
}

int ref_ridge(const double *X, const double *y, size_t n, size_t d, double l2, double *W)
{
    long double *mx = xcalloc(d, sizeof *mx), my = 0.0L;
    long double *A = xcalloc(d * d, sizeof *A), *b = xcalloc(d, sizeof *b);
    long double *xc = xmalloc(d * sizeof *xc), icpt;
    size_t i, j, k;
    int rc;

    for (i = 0; i < n; i++) {
        for (j = 0; j < d; j++)
            mx[j] += X[i * d + j];
        my += y[i];
    }
    for (j = 0; j < d; j++)
        mx[j] /= (long double)n;
    my /= (long double)n;
    for (i = 0; i < n; i++) {
        long double yc = (long double)y[i] - my;
        for (j = 0; j < d; j++)
            xc[j] = (long double)X[i * d + j] - mx[j];
        for (j = 0; j < d; j++) {
            b[j] += xc[j] * yc;
            for (k = 0; k < d; k++)
                A[j * d + k] += xc[j] * xc[k];
        }
    }
    for (j = 0; j < d; j++) {
        b[j] /= (long double)n;
        for (k = 0; k < d; k++)
            A[j * d + k] /= (long double)n;
        A[j * d + j] += (long double)l2;
    }
    rc = ref_cholesky_solve(A, b, d);
    if (rc == 0) {
        icpt = my;
        for (j = 0; j < d; j++) {
            W[j] = (double)b[j];
            icpt -= mx[j] * b[j];
        }
        W[d] = (double)icpt;
    }
    free(mx);
    free(A);
    free(b);
    free(xc);
    return rc;
}

long ref_prox_grad(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                   double l2, double l1, double tol, long max_iter, double *W)
{
    size_t nw = ref_n_weights(loss, d, K), i, j;
    long double *w = to_long(W, nw), *g = xmalloc(nw * sizeof *g);
    long double L = 0.0L, c = loss == REF_SQUARED ? 1.0L : loss == REF_LOGISTIC ? 0.25L : 0.5L;
    long iter;
    long result = -1;

    for (i = 0; i < n; i++) {
        long double s = 1.0L;
        for (j = 0; j < d; j++)
            s += (long double)X[i * d + j] * X[i * d + j];
        L += s;
    }
    L = c * L / (long double)n + (long double)l2;
    for (iter = 0; iter < max_iter; iter++) {
        long double gm = 0.0L;
        objective_l(loss, X, y, n, d, K, w, l2, 0.0, g);
        for (j = 0; j < nw; j++) {
            long double v = w[j] - g[j] / L, diff;
            if (!ref_is_intercept(d, j)) {
                long double th = (long double)l1 / L;
                v = v > th ? v - th : v < -th ? v + th : 0.0L;
            }
            diff = fabsl(L * (w[j] - v));
            if (diff > gm)
                gm = diff;
            w[j] = v;
        }
        if (gm <= (long double)tol) {
            result = iter + 1;
            break;
        }
    }
    for (j = 0; j < nw; j++)
        W[j] = (double)w[j];
    free(w);
    free(g);
    return result;
}

/* ------------------------------------------------------------------ helpers */

void ref_rng_seed(ref_rng *r, uint64_t seed)
{
    r->s = seed ^ 0x9e3779b97f4a7c15ULL;
}

uint64_t ref_rng_u64(ref_rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double ref_rng_uniform(ref_rng *r)
{
    return (double)(ref_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double ref_rng_normal(ref_rng *r)
{
    double u1 = ref_rng_uniform(r), u2 = ref_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void ref_random_problem(ref_rng *r, int loss, size_t n, size_t d, size_t K, double scale,
                        double **Xo, double **yo)
{
    size_t nout = ref_n_outputs(loss, K), i, j, k;
    double *X = xmalloc(n * d * sizeof *X), *y = xmalloc(n * sizeof *y);
    double *wt = xmalloc(nout * (d + 1) * sizeof *wt), *z = xmalloc(nout * sizeof *z);
    for (j = 0; j < nout * (d + 1); j++)
        wt[j] = ref_rng_normal(r);
    for (i = 0; i < n; i++) {
        for (j = 0; j < d; j++)
            X[i * d + j] = scale * ref_rng_normal(r);
        for (k = 0; k < nout; k++) {
            double s = wt[k * (d + 1) + d];
            for (j = 0; j < d; j++)
                s += wt[k * (d + 1) + j] * X[i * d + j] / (scale > 0 ? scale : 1.0);
            z[k] = s;
        }
        if (loss == REF_SQUARED)
            y[i] = z[0] + 0.5 * ref_rng_normal(r);
        else if (loss == REF_LOGISTIC)
            y[i] = ref_rng_uniform(r) < 1.0 / (1.0 + exp(-z[0])) ? 1.0 : 0.0;
        else {
            double mx = z[0], s = 0.0, u = ref_rng_uniform(r), acc = 0.0;
            for (k = 1; k < nout; k++)
                if (z[k] > mx)
                    mx = z[k];
            for (k = 0; k < nout; k++)
                s += exp(z[k] - mx);
            y[i] = (double)(nout - 1);
            for (k = 0; k < nout; k++) {
                acc += exp(z[k] - mx) / s;
                if (u < acc) {
                    y[i] = (double)k;
                    break;
                }
            }
        }
    }
    free(wt);
    free(z);
    *Xo = X;
    *yo = y;
}

void ref_standardize(double *X, size_t n, size_t d)
{
    size_t i, j;
    for (j = 0; j < d; j++) {
        long double m = 0.0L, v = 0.0L;
        for (i = 0; i < n; i++)
            m += X[i * d + j];
        m /= (long double)n;
        for (i = 0; i < n; i++)
            v += (X[i * d + j] - m) * (X[i * d + j] - m);
        v = sqrtl(v / (long double)n);
        for (i = 0; i < n; i++)
            X[i * d + j] = v > 0 ? (double)((X[i * d + j] - m) / v) : 0.0;
    }
}

double ref_max_abs(const double *a, size_t n)
{
    double m = 0.0;
    size_t i;
    for (i = 0; i < n; i++)
        if (fabs(a[i]) > m)
            m = fabs(a[i]);
    return m;
}

double ref_max_rel_diff(const double *a, const double *b, size_t n, double floor_)
{
    double m = 0.0, s = ref_max_abs(b, n);
    size_t i;
    if (s < floor_)
        s = floor_;
    for (i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]);
        if (!(e <= m)) /* NaN propagates */
            m = e;
    }
    return m / s;
}

int ref_all_finite(const double *a, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

void ref_threshold_labels(double *y, size_t n, double threshold)
{
    size_t i;
    for (i = 0; i < n; i++)
        y[i] = y[i] > threshold ? 1.0 : 0.0;
}

/* ------------------------------------------------------------------ byte encoding */

uint32_t ref_rd_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t ref_rd_u64(const unsigned char *p)
{
    return (uint64_t)ref_rd_u32(p) | (uint64_t)ref_rd_u32(p + 4) << 32;
}

double ref_rd_f64(const unsigned char *p)
{
    uint64_t b = ref_rd_u64(p);
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

void ref_wr_u32(unsigned char *p, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void ref_wr_u64(unsigned char *p, uint64_t v)
{
    ref_wr_u32(p, (uint32_t)v);
    ref_wr_u32(p + 4, (uint32_t)(v >> 32));
}

void ref_wr_f64(unsigned char *p, double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    ref_wr_u64(p, b);
}

uint32_t ref_crc32(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

void ref_reseal(unsigned char *b, size_t size)
{
    ref_wr_u32(b + size - 4, ref_crc32(b, size - 4));
}
