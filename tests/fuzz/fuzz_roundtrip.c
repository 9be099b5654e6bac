/*
 * save -> load -> save from fuzz-derived models: a loss and small dimensions, parameter
 * values, weights, then a short history of stochastic steps and batch-optimizer
 * (gradient + apply_gradient) iterations that fills the statistics, the averaged iterate, the
 * AdaGrad sums and the L-BFGS memory. The blob must load back into a model that saves the same
 * bytes, reads the same parameters and predicts the same bits, and training continued after
 * the load must stay bit-identical (see fz_check_roundtrip).
 */
#include <math.h>

#include "fzmodel.h"

static const int settable[] = {RILL_LEARNING_RATE, RILL_SCHEDULE, RILL_POWER_T, RILL_L2,
                               RILL_L1, RILL_FIT_INTERCEPT, RILL_MAX_EPOCHS, RILL_TOL,
                               RILL_BATCH_ROWS, RILL_AVERAGE, RILL_SEED};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    const int loss = 1 + (int)fz_pick(&f, 3);
    const size_t d = 1 + fz_pick(&f, 6);
    const size_t k = loss == RILL_SQUARED ? 0 : loss == RILL_LOGISTIC ? 2 : 2 + fz_pick(&f, 4);
    rill_model *m = NULL;
    FZ_CHECK(rill_model_new(&m, loss, d, k) == RILL_OK && m);
    const size_t nw = rill_model_n_weights(m);
    FZ_CHECK(nw == (loss == RILL_SOFTMAX ? k : 1) * (d + 1));

    /* Parameters: an integer-valued draw for integer parameters half of the time. */
    for (size_t i = 0; i < sizeof settable / sizeof settable[0]; i++) {
        unsigned how = fz_pick(&f, 4);
        if (how == 0)
            continue;
        double v = how == 1 ? (double)fz_pick(&f, 6) : fz_double(&f);
        int rc = rill_model_set(m, settable[i], v);
        FZ_CHECK(fz_status_ok(rc) && rc != RILL_EUNSUPPORTED);
        double lo, hi, got;
        FZ_CHECK(rill_param_bounds(settable[i], &lo, &hi) == RILL_OK);
        if (rc == RILL_OK) {
            FZ_CHECK(v >= lo && v <= hi);
            FZ_CHECK(rill_model_get(m, settable[i], &got) == RILL_OK && got == v);
        } else {
            FZ_CHECK(rc == RILL_EINVAL && rill_model_error(m)[0] != '\0');
        }
    }

    /* Weights. */
    double *w = malloc(nw * sizeof(double));
    FZ_CHECK(w != NULL);
    int finite = 1;
    for (size_t j = 0; j < nw; j++) {
        w[j] = fz_double(&f);
        finite &= isfinite(w[j]) != 0;
    }
    int rc = rill_model_set_weights(m, w, nw);
    FZ_CHECK(rc == (finite ? RILL_OK : RILL_EDATA));

    /* History. */
    const size_t n = 1 + fz_pick(&f, 4);
    double *X, *y, *g = malloc(nw * sizeof(double));
    FZ_CHECK(g != NULL);
    fz_rows(&f, m, n, &X, &y);
    for (unsigned it = fz_pick(&f, 6); it > 0; it--) {
        if (fz_pick(&f, 2)) {
            rc = rill_step(m, X, y, n);
        } else {
            double l = 0.0;
            rc = rill_gradient(m, X, y, n, g, &l);
            FZ_CHECK(rc == RILL_OK);
            rc = rill_apply_gradient(m, g, l, (double)n);
        }
        FZ_CHECK(fz_status_ok(rc));
    }
    FZ_CHECK(rill_model_weights(m, w, nw) == RILL_OK);
    for (size_t j = 0; j < nw; j++)
        FZ_CHECK(isfinite(w[j]));

    fz_check_roundtrip(m, X, y, n);
    free(w);
    free(g);
    free(X);
    free(y);
    rill_model_free(m);
    return 0;
}
