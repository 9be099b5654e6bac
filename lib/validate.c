/* Input validation: runs over the whole chunk before anything changes. */
#include <math.h>

#include "internal.h"

int rl_all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

int rl_validate(const rill_model *m, const double *X, const double *y, size_t n_rows,
                size_t *bad_row, size_t *bad_col, const char **why)
{
    const size_t d = m->n_features;
    for (size_t i = 0; i < n_rows; i++) {
        const double *x = X + i * d;
        for (size_t j = 0; j < d; j++) {
            if (!isfinite(x[j])) {
                *bad_row = i;
                *bad_col = j;
                *why = isnan(x[j]) ? "is NaN" : "is infinite";
                return RILL_EDATA;
            }
        }
        if (!y)
            continue;
        double t = y[i];
        const char *bad = NULL;
        if (!isfinite(t))
            bad = isnan(t) ? "is NaN" : "is infinite";
        else if (m->loss == RILL_LOGISTIC && t != 0.0 && t != 1.0)
            bad = "is not 0 or 1";
        else if (m->loss == RILL_SOFTMAX &&
                 (t < 0.0 || t >= (double)m->n_classes || t != floor(t)))
            bad = "is not a class index 0..n_classes-1";
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
