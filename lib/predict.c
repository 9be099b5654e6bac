/* Predictions from the weights rill_model_weights reports. */
#include <math.h>

#include "internal.h"
#include "loss_math.h"

/* all_outputs: out holds every output's value of a row (predict), else one (classify). out
 * may not overlap X: the scores of a row would overwrite the features its later classes are
 * scored from. */
static int check_args(const rill_model *m, const double *X, size_t n_rows, const double *out,
                      int all_outputs)
{
    if (!m || !X || !out || n_rows == 0)
        return RILL_EINVAL;
    if (rl_check_rows_size(n_rows, m->n_features) || rl_check_rows_size(n_rows, m->n_outputs))
        return RILL_ERANGE;
    const uintptr_t x0 = (uintptr_t)X, o0 = (uintptr_t)out;
    const size_t out_cols = all_outputs ? m->n_outputs : 1;
    if (x0 < o0 + n_rows * out_cols * sizeof(double) &&
        o0 < x0 + n_rows * m->n_features * sizeof(double))
        return RILL_EINVAL;
    size_t row, col;
    const char *why;
    return rl_validate(m, X, NULL, n_rows, &row, &col, &why);
}

int rill_predict(const rill_model *m, const double *X, size_t n_rows, double *out)
{
    int rc = check_args(m, X, n_rows, out, 1);
    if (rc)
        return rc;
    const size_t k = m->n_outputs;
    rl_scores(m, rl_predict_weights(m), X, n_rows, out);
    if (!rl_all_finite(out, n_rows * k))
        return RILL_EDATA; /* a score overflows: finite weights and features, product too big */
    if (m->loss == RILL_LOGISTIC) {
        for (size_t i = 0; i < n_rows; i++)
            out[i] = rl_sigmoid(out[i]);
    } else if (m->loss == RILL_SOFTMAX) {
        for (size_t i = 0; i < n_rows; i++) {
            double *z = out + i * k, mx = z[0], s = 0.0;
            for (size_t c = 1; c < k; c++)
                mx = z[c] > mx ? z[c] : mx;
            for (size_t c = 0; c < k; c++) {
                z[c] = exp(z[c] - mx);
                s += z[c];
            }
            for (size_t c = 0; c < k; c++)
                z[c] /= s;
        }
    }
    return RILL_OK;
}

int rill_classify(const rill_model *m, const double *X, size_t n_rows, double *labels)
{
    int rc = check_args(m, X, n_rows, labels, 0);
    if (rc)
        return rc;
    const size_t d = m->n_features, k = m->n_outputs;
    const double *w = rl_predict_weights(m);
    if (m->loss != RILL_SOFTMAX) {
        rl_scores(m, w, X, n_rows, labels);
        if (!rl_all_finite(labels, n_rows))
            return RILL_EDATA;
        if (m->loss == RILL_LOGISTIC) /* rill_predict's probability, so that the two agree
                                        * where it rounds to 0.5 (scores just below 0) */
            for (size_t i = 0; i < n_rows; i++)
                labels[i] = rl_sigmoid(labels[i]) >= 0.5 ? 1.0 : 0.0;
        return RILL_OK;
    }
    /* argmax of the scores, one row at a time (no scratch beyond one score). */
    for (size_t i = 0; i < n_rows; i++) {
        size_t best = 0;
        double best_z = 0.0;
        for (size_t c = 0; c < k; c++) {
            double z = rl_score(m, w, X + i * d, c);
            if (!isfinite(z))
                return RILL_EDATA;
            if (c == 0 || z > best_z) {
                best = c;
                best_z = z;
            }
        }
        labels[i] = (double)best;
    }
    return RILL_OK;
}
