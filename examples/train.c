/*
 * The main job: trains one model per mode on a bundled real dataset and prints a comparison.
 *   train [diabetes.csv] [iris.csv]
 * Regression (least squares) on diabetes, raw and unscaled; multinomial (softmax) on iris.
 * Modes: batch-fit (L-BFGS), SGD epochs (rill_fit with RILL_BATCH_ROWS = 1), micro-batch
 * STEP stream, PASS stream replayed as out-of-core epochs, and EXACT (least squares only).
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include <rill.h>

#include "csvload.h"

/* On failure: the message, then the function's fail label (which frees m and s). */
#define CHECK(call)                                                                               \
    do {                                                                                          \
        int rc_ = (call);                                                                         \
        if (rc_ != RILL_OK) {                                                                     \
            fprintf(stderr, "%s: %s (%s)\n", #call, rill_strerror(rc_),                          \
                    m ? rill_model_error(m) : "no model");                                        \
            goto fail;                                                                            \
        }                                                                                         \
    } while (0)

/* Processor time: C99 has no portable wall clock. */
static double now(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

/* R^2 (least squares) or accuracy (classification) of m on the data. */
static double quality(const rill_model *m, const struct dataset *ds, int loss)
{
    double *pred = malloc(ds->n * sizeof(double)), sse = 0.0, sst = 0.0, mean = 0.0;
    size_t hits = 0;
    if (!pred || rill_classify(m, ds->X, ds->n, pred) != RILL_OK) {
        free(pred);
        return NAN;
    }
    for (size_t i = 0; i < ds->n; i++)
        mean += ds->y[i] / (double)ds->n;
    for (size_t i = 0; i < ds->n; i++) {
        sse += (pred[i] - ds->y[i]) * (pred[i] - ds->y[i]);
        sst += (ds->y[i] - mean) * (ds->y[i] - mean);
        hits += pred[i] == ds->y[i];
    }
    free(pred);
    return loss == RILL_SQUARED ? 1.0 - sse / sst : (double)hits / (double)ds->n;
}

/* Objective (mean loss + penalty) of the current weights: one loss-only evaluation. */
static double objective(rill_model *m, const struct dataset *ds, double l2)
{
    size_t nw = rill_model_n_weights(m), d = ds->d;
    double *w = malloc(nw * sizeof(double)), loss = 0.0, pen = 0.0;
    rill_model *probe = NULL;
    if (!w || rill_model_weights(m, w, nw) || rill_model_clone(&probe, m) ||
        rill_model_set_weights(probe, w, nw) ||
        rill_gradient(probe, ds->X, ds->y, ds->n, NULL, &loss)) {
        free(w);
        rill_model_free(probe);
        return NAN;
    }
    for (size_t j = 0; j < nw; j++)
        pen += (j % (d + 1) == d) ? 0.0 : w[j] * w[j];
    free(w);
    rill_model_free(probe);
    return loss / (double)ds->n + 0.5 * l2 * pen;
}

static int run(const char *name, const struct dataset *ds, int loss, size_t classes, double l2)
{
    static const char *modes[] = {"batch-fit", "sgd", "stream step", "stream pass", "exact"};
    printf("\n%s: %zu rows x %zu features, %s, l2 = %g (raw, unscaled features)\n", name, ds->n,
           ds->d, loss == RILL_SQUARED ? "least squares" : "softmax", l2);
    printf("(batch-fit and PASS: L-BFGS to RILL_TOL; sgd and STEP: at most 50 passes of averaged "
           "SGD,\n sgd stopping early when 5 epochs in a row do not lower the progressive loss)\n");
    printf("%-12s %8s %16s %10s %10s\n", "mode", "epochs", "objective",
           loss == RILL_SQUARED ? "R^2" : "accuracy", "ms");
    rill_model *m = NULL;
    rill_stream *s = NULL;
    for (int mode = 0; mode < 5; mode++) {
        if (mode == 4 && loss != RILL_SQUARED)
            continue;
        CHECK(rill_model_new(&m, loss, ds->d, classes));
        CHECK(rill_model_set(m, RILL_L2, l2));
        double t0 = now(), epochs = 0.0;
        if (mode == 0) {
            CHECK(rill_fit(m, ds->X, ds->y, ds->n));
            CHECK(rill_model_get(m, RILL_STAT_EPOCHS, &epochs));
        } else if (mode == 1) {
            CHECK(rill_model_set(m, RILL_BATCH_ROWS, 1));
            CHECK(rill_model_set(m, RILL_AVERAGE, 1));
            CHECK(rill_model_set(m, RILL_MAX_EPOCHS, 50));
            CHECK(rill_fit(m, ds->X, ds->y, ds->n));
            CHECK(rill_model_get(m, RILL_STAT_EPOCHS, &epochs));
        } else {
            static const int stream_modes[] = {RILL_STREAM_STEP, RILL_STREAM_PASS,
                                               RILL_STREAM_EXACT};
            const int smode = stream_modes[mode - 2];
            const int passes = smode == RILL_STREAM_STEP ? 50 : (smode == RILL_STREAM_PASS ? 1000 : 1);
            if (smode == RILL_STREAM_STEP)
                CHECK(rill_model_set(m, RILL_AVERAGE, 1));
            CHECK(rill_stream_new(&s, m, 32, smode));
            for (int p = 0; p < passes; p++) {
                /* rows arrive in chunks of 100, as they would from a socket or a file */
                for (size_t i = 0; i < ds->n; i += 100) {
                    size_t k = ds->n - i < 100 ? ds->n - i : 100;
                    CHECK(rill_stream_push(s, ds->X + i * ds->d, ds->y + i, k));
                }
                CHECK(rill_stream_flush(s));
                epochs += 1.0;
                double converged = 0.0;
                CHECK(rill_model_get(m, RILL_STAT_CONVERGED, &converged));
                if (smode == RILL_STREAM_PASS && converged != 0.0)
                    break;
            }
            rill_stream_free(s);
            s = NULL;
        }
        double ms = 1e3 * (now() - t0);
        printf("%-12s %8.0f %16.10g %10.4f %10.2f\n", modes[mode], epochs, objective(m, ds, l2),
               quality(m, ds, loss), ms);
        rill_model_free(m);
        m = NULL;
    }
    return 0;
fail:
    rill_stream_free(s);
    rill_model_free(m);
    return 1;
}

int main(int argc, char **argv)
{
    const char *diabetes = argc > 1 ? argv[1] : "examples/data/diabetes.csv";
    const char *iris = argc > 2 ? argv[2] : "examples/data/iris.csv";
    struct dataset a, b;
    printf("rill %s\n", rill_version_string());
    if (dataset_load(diabetes, &a))
        return 1;
    int rc = run("diabetes", &a, RILL_SQUARED, 0, 1e-3);
    dataset_free(&a);
    if (rc || dataset_load(iris, &b))
        return 1;
    rc = run("iris", &b, RILL_SOFTMAX, 3, 1e-3);
    dataset_free(&b);
    return rc;
}
