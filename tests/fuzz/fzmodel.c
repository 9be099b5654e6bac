/* Model checks shared by the fuzz targets (see fzmodel.h). */
#include "fzmodel.h"

#include <math.h>

/* Every parameter a saved model keeps (RILL_THREADS, a setting of the run, is not saved). */
static const int all_params[] = {
    RILL_LEARNING_RATE, RILL_SCHEDULE, RILL_POWER_T, RILL_L2, RILL_L1, RILL_FIT_INTERCEPT,
    RILL_MAX_EPOCHS, RILL_TOL, RILL_BATCH_ROWS, RILL_AVERAGE, RILL_SEED, RILL_STAT_EPOCHS,
    RILL_STAT_STEPS, RILL_STAT_ROWS, RILL_STAT_LOSS, RILL_STAT_CONVERGED, RILL_STAT_STOPPED,
    RILL_STAT_PROGRESSIVE_LOSS, RILL_MODEL_LOSS, RILL_MODEL_N_FEATURES, RILL_MODEL_N_CLASSES};

uint8_t *fz_save(const rill_model *m, size_t *size)
{
    size_t need = 0, got = 0;
    FZ_CHECK(rill_model_save(m, NULL, 0, &need) == RILL_OK);
    FZ_CHECK(need > 0);
    uint8_t *buf = malloc(need);
    FZ_CHECK(buf != NULL);
    FZ_CHECK(rill_model_save(m, buf, need - 1, &got) == RILL_ERANGE && got == need);
    got = 0;
    FZ_CHECK(rill_model_save(m, buf, need, &got) == RILL_OK && got == need);
    *size = need;
    return buf;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

void fz_check_same_params(const rill_model *a, const rill_model *b)
{
    for (size_t i = 0; i < sizeof all_params / sizeof all_params[0]; i++) {
        double va = -1.0, vb = -2.0;
        FZ_CHECK(rill_model_get(a, all_params[i], &va) == RILL_OK);
        FZ_CHECK(rill_model_get(b, all_params[i], &vb) == RILL_OK);
        FZ_CHECK(same_bits(va, vb));
    }
}

static size_t n_outputs(const rill_model *m)
{
    double loss = 0.0, k = 0.0;
    FZ_CHECK(rill_model_get(m, RILL_MODEL_LOSS, &loss) == RILL_OK);
    FZ_CHECK(rill_model_get(m, RILL_MODEL_N_CLASSES, &k) == RILL_OK);
    return loss == RILL_SOFTMAX ? (size_t)k : 1;
}

void fz_check_same_predictions(const rill_model *a, const rill_model *b, const double *X,
                               size_t n)
{
    const size_t k = n_outputs(a), nw = rill_model_n_weights(a);
    FZ_CHECK(k == n_outputs(b) && nw == rill_model_n_weights(b));
    double *pa = malloc(n * k * sizeof(double)), *pb = malloc(n * k * sizeof(double));
    double *wa = malloc(nw * sizeof(double)), *wb = malloc(nw * sizeof(double));
    FZ_CHECK(pa && pb && wa && wb);
    FZ_CHECK(rill_model_weights(a, wa, nw) == RILL_OK);
    FZ_CHECK(rill_model_weights(b, wb, nw) == RILL_OK);
    FZ_CHECK(memcmp(wa, wb, nw * sizeof(double)) == 0);
    /* X is finite: RILL_EDATA only for a score beyond the double range */
    int ra = rill_predict(a, X, n, pa), rb = rill_predict(b, X, n, pb);
    FZ_CHECK(ra == rb && (ra == RILL_OK || ra == RILL_EDATA));
    FZ_CHECK(ra != RILL_OK || memcmp(pa, pb, n * k * sizeof(double)) == 0);
    ra = rill_classify(a, X, n, pa);
    rb = rill_classify(b, X, n, pb);
    FZ_CHECK(ra == rb && (ra == RILL_OK || ra == RILL_EDATA));
    FZ_CHECK(ra != RILL_OK || memcmp(pa, pb, n * sizeof(double)) == 0);
    free(pa);
    free(pb);
    free(wa);
    free(wb);
}

void fz_check_roundtrip(rill_model *m, const double *X, const double *y, size_t n)
{
    size_t n1 = 0, n2 = 0, n3 = 0;
    uint8_t *b1 = fz_save(m, &n1);
    rill_model *l = NULL, *c = NULL;
    FZ_CHECK(rill_model_load(&l, b1, n1) == RILL_OK && l != NULL);
    FZ_CHECK(rill_model_error(l) != NULL && rill_model_error(l)[0] == '\0');
    uint8_t *b2 = fz_save(l, &n2);
    FZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    FZ_CHECK(rill_model_clone(&c, m) == RILL_OK && c != NULL);
    uint8_t *b3 = fz_save(c, &n3);
    FZ_CHECK(n1 == n3 && memcmp(b1, b3, n1) == 0);
    fz_check_same_params(m, l);
    fz_check_same_params(m, c);
    fz_check_same_predictions(m, l, X, n);
    fz_check_same_predictions(m, c, X, n);

    /* Training resumed after the load runs exactly as it would have without it. */
    int rm = rill_step(m, X, y, n), rl = rill_step(l, X, y, n);
    FZ_CHECK(rm == rl && fz_status_ok(rm));
    free(b2);
    free(b3);
    b1 = (free(b1), fz_save(m, &n1));
    b2 = fz_save(l, &n2);
    FZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    /* ... and so does a short rill_fit (batch or stochastic epochs, as the model is set). */
    rm = rill_model_set(m, RILL_MAX_EPOCHS, 2.0);
    rl = rill_model_set(l, RILL_MAX_EPOCHS, 2.0);
    FZ_CHECK(rm == RILL_OK && rl == RILL_OK);
    rm = rill_fit(m, X, y, n);
    rl = rill_fit(l, X, y, n);
    FZ_CHECK(rm == rl && fz_status_ok(rm));
    free(b1);
    free(b2);
    b1 = fz_save(m, &n1);
    b2 = fz_save(l, &n2);
    FZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    { /* finite weights, also after RILL_EDIVERGED (the last finite state) */
        size_t nw = rill_model_n_weights(m);
        double *w = malloc(nw * sizeof(double));
        FZ_CHECK(w && rill_model_weights(m, w, nw) == RILL_OK);
        for (size_t j = 0; j < nw; j++)
            FZ_CHECK(isfinite(w[j]));
        free(w);
    }
    free(b1);
    free(b2);
    rill_model_free(l);
    rill_model_free(c);
}

void fz_rows(struct fz *f, const rill_model *m, size_t n, double **X, double **y)
{
    double d = 0.0, loss = 0.0, k = 0.0;
    FZ_CHECK(rill_model_get(m, RILL_MODEL_N_FEATURES, &d) == RILL_OK);
    FZ_CHECK(rill_model_get(m, RILL_MODEL_LOSS, &loss) == RILL_OK);
    FZ_CHECK(rill_model_get(m, RILL_MODEL_N_CLASSES, &k) == RILL_OK);
    *X = malloc(n * (size_t)d * sizeof(double) + 1);
    *y = malloc(n * sizeof(double));
    FZ_CHECK(*X && *y);
    for (size_t i = 0; i < n * (size_t)d; i++) {
        double v = fz_double(f);
        (*X)[i] = isfinite(v) ? v : 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        if (loss == RILL_SQUARED) {
            double v = fz_double(f);
            (*y)[i] = isfinite(v) ? v : 1.0;
        } else {
            (*y)[i] = (double)(fz_u8(f) % (unsigned)(k >= 2.0 ? k : 2.0));
        }
    }
}
