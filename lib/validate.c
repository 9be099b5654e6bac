/* Input validation: runs over the whole chunk before anything changes. */
#include <math.h>

#include "internal.h"

/* x * 0 is 0 for finite x and NaN for NaN or Inf: a branch-free test the compiler can
 * vectorize, so validation runs at the memory's speed. */
int rl_all_finite(const double *v, size_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += v[i] * 0.0;
        s1 += v[i + 1] * 0.0;
        s2 += v[i + 2] * 0.0;
        s3 += v[i + 3] * 0.0;
    }
    for (; i < n; i++)
        s0 += v[i] * 0.0;
    return (s0 + s1) + (s2 + s3) == 0.0;
}

/* What is wrong with a target or label, or NULL. */
static const char *label_problem(const rill_model *m, double t)
{
    if (!isfinite(t))
        return isnan(t) ? "is NaN" : "is infinite";
    if (m->loss == RILL_LOGISTIC && t != 0.0 && t != 1.0)
        return "is not 0 or 1";
    if (m->loss == RILL_SOFTMAX && (t < 0.0 || t >= (double)m->n_classes || t != floor(t)))
        return "is not a class index 0..n_classes-1";
    return NULL;
}

/* The same verdict as label_problem over all rows, in loops without branches that vectorize
 * (an epoch checks every label). */
int rl_labels_ok(const rill_model *m, const double *y, size_t n_rows)
{
    unsigned bad = 0;
    if (m->loss == RILL_SQUARED)
        return rl_all_finite(y, n_rows);
    if (m->loss == RILL_LOGISTIC) { /* NaN and Inf differ from both */
        for (size_t i = 0; i < n_rows; i++)
            bad |= (y[i] != 0.0) & (y[i] != 1.0);
        return !bad;
    }
    /* a class index: an integer in [0, n_classes); t + 2^52 - 2^52 is t rounded to an integer
     * for 0 <= t < 2^52, and NaN fails every comparison */
    const double k = (double)m->n_classes;
    for (size_t i = 0; i < n_rows; i++) {
        const double t = y[i];
        bad |= !((t >= 0.0) & (t < k) & ((t + 0x1p52) - 0x1p52 == t));
    }
    return !bad;
}

int rl_validate(const rill_model *m, const double *X, const double *y, size_t n_rows,
                size_t *bad_row, size_t *bad_col, const char **why)
{
    const size_t d = m->n_features;
    /* the row-by-row scan of X only when something in it is not finite */
    const int x_ok = rl_all_finite(X, n_rows * d);
    for (size_t i = 0; i < n_rows; i++) {
        const double *x = X + i * d;
        for (size_t j = 0; j < (x_ok ? 0 : d); j++) {
            if (!isfinite(x[j])) {
                *bad_row = i;
                *bad_col = j;
                *why = isnan(x[j]) ? "is NaN" : "is infinite";
                return RILL_EDATA;
            }
        }
        if (!y)
            continue;
        const char *bad = label_problem(m, y[i]);
        if (bad) {
            *bad_row = i;
            *bad_col = (size_t)-1;
            *why = bad;
            return RILL_EDATA;
        }
    }
    return RILL_OK;
}

/* Validates and records "call: row R, column C is NaN" with R counted from row_offset. */
int rl_check_data(rill_model *m, const char *call, const double *X, const double *y,
                  size_t n_rows, size_t row_offset)
{
    size_t row = 0, col = 0;
    const char *why = "";
    int rc = rl_validate(m, X, y, n_rows, &row, &col, &why);
    if (rc)
        return rl_fail_at(m, rc, call, why, row_offset + row, col);
    return RILL_OK;
}
