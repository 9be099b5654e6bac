/*
 * Prints the optimum rill reaches on the bundled data sets, one line per problem:
 *   name objective stopped epochs
 * with the objective at %.17g, computed from the fitted weights by the independent reference
 * code (tests/ref.c, long double), so that two builds are compared on their weights alone.
 * stopped is 1 when the optimizer stopped on its own before the epoch cap: converged on
 * RILL_TOL, or at the numerical floor (the objective no longer moves).
 * scripts/ci/30-blas-parity.sh runs it in a CBLAS build and in a -Dblas=disabled build and
 * requires the same optimum (objective within 1e-10 relative) from both.
 *   optima [DATA_DIR]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"
#include "ref.h"

#define TOL 1e-10
#define MAX_EPOCHS 5000
#define FLOOR_PASSES 25 /* PASS: the objective unchanged this many passes = numerical floor */

static int failed;

static void check(int rc, const char *what, const rill_model *m)
{
    if (rc != RILL_OK) {
        fprintf(stderr, "optima: %s: %s (%s)\n", what, rill_strerror(rc), rill_model_error(m));
        exit(EXIT_FAILURE);
    }
}

enum { FIT, PASS, EXACT };

/* Fits one problem and prints its line. */
static void optimum(const char *name, int loss, const ref_data *D, size_t K, double l2, double l1,
                    int how)
{
    rill_model *m = NULL;
    size_t nw;
    double *w, epochs = 0, converged = 0;
    int stopped = 0;
    check(rill_model_new(&m, loss, D->d, loss == RILL_SQUARED ? 0 : K), name, m);
    check(rill_model_set(m, RILL_L2, l2), name, m);
    check(rill_model_set(m, RILL_L1, l1), name, m);
    check(rill_model_set(m, RILL_TOL, TOL), name, m);
    check(rill_model_set(m, RILL_MAX_EPOCHS, MAX_EPOCHS), name, m);
    if (how == FIT) {
        check(rill_fit(m, D->X, D->y, D->n), name, m);
        check(rill_model_get(m, RILL_STAT_EPOCHS, &epochs), name, m);
        check(rill_model_get(m, RILL_STAT_CONVERGED, &converged), name, m);
        stopped = converged == 1.0 || epochs < MAX_EPOCHS;
    } else {
        /* out of core: micro-batches of 64 rows, pushed in chunks of 100 */
        rill_stream *s = NULL;
        double last = HUGE_VAL, obj;
        int same = 0;
        check(rill_stream_new(&s, m, 64, how == PASS ? RILL_STREAM_PASS : RILL_STREAM_EXACT), name,
              m);
        for (int pass = 0; pass < (how == PASS ? MAX_EPOCHS : 1) && !stopped; pass++) {
            for (size_t i = 0; i < D->n; i += 100)
                check(rill_stream_push(s, D->X + i * D->d, D->y + i,
                                       D->n - i < 100 ? D->n - i : 100),
                      name, m);
            check(rill_stream_flush(s), name, m);
            check(rill_model_get(m, RILL_STAT_CONVERGED, &converged), name, m);
            check(rill_model_get(m, RILL_STAT_LOSS, &obj), name, m);
            same = obj == last ? same + 1 : 0;
            last = obj;
            stopped = converged == 1.0 || same >= FLOOR_PASSES;
            epochs = pass + 1;
        }
        rill_stream_free(s);
    }
    nw = rill_model_n_weights(m);
    w = malloc(nw * sizeof *w);
    if (!w)
        exit(EXIT_FAILURE);
    check(rill_model_weights(m, w, nw), name, m);
    double f = ref_objective(loss, D->X, D->y, D->n, D->d, K, w, l2, l1);
    printf("%s %.17g %d %.0f\n", name, f, stopped, epochs);
    if (!isfinite(f))
        failed = 1;
    free(w);
    rill_model_free(m);
}

/* The standardized features of s and their squares, side by side: 2 s->d columns (digits: 10
 * classes x 128 features, a shape the CBLAS build gives to its softmax kernel). */
static void with_squares(const ref_data *s, ref_data *out)
{
    const size_t d = s->d, w = 2 * d;
    out->n = s->n;
    out->d = w;
    out->X = malloc(s->n * w * sizeof(double));
    out->y = malloc(s->n * sizeof(double));
    if (!out->X || !out->y) {
        fprintf(stderr, "optima: out of memory\n");
        exit(EXIT_FAILURE);
    }
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < d; j++) {
            out->X[i * w + j] = s->X[i * d + j];
            out->X[i * w + d + j] = s->X[i * d + j] * s->X[i * d + j];
        }
        out->y[i] = s->y[i];
    }
    ref_standardize(out->X, out->n, out->d);
}

int main(int argc, char **argv)
{
    ref_data diabetes, labels, iris, digits, digits_std, digits_sq;
    if (argc > 1)
        ref_set_data_dir(argv[1]);
    ref_load("diabetes.csv", &diabetes);
    ref_load("diabetes.csv", &labels);
    ref_threshold_labels(labels.y, labels.n, 140.0);
    ref_load("iris.csv", &iris);
    ref_load("digits.csv", &digits);
    ref_load("digits.csv", &digits_std);
    ref_standardize(digits_std.X, digits_std.n, digits_std.d);
    with_squares(&digits_std, &digits_sq);

    /* raw features, l2 */
    optimum("squared_diabetes_l2", RILL_SQUARED, &diabetes, 0, 1e-3, 0, FIT);
    optimum("squared_diabetes_exact", RILL_SQUARED, &diabetes, 0, 1e-3, 0, EXACT);
    optimum("squared_diabetes_pass", RILL_SQUARED, &diabetes, 0, 1e-3, 0, PASS);
    optimum("logistic_diabetes_l2", RILL_LOGISTIC, &labels, 2, 1e-3, 0, FIT);
    optimum("softmax_iris_l2", RILL_SOFTMAX, &iris, 3, 1e-3, 0, FIT);
    optimum("softmax_digits_raw_l2", RILL_SOFTMAX, &digits, 10, 1e-2, 0, FIT);
    optimum("softmax_digits_std_l2", RILL_SOFTMAX, &digits_std, 10, 1e-3, 0, FIT);
    optimum("softmax_digits_std_pass", RILL_SOFTMAX, &digits_std, 10, 1e-3, 0, PASS);
    optimum("softmax_digits_sq_l2", RILL_SOFTMAX, &digits_sq, 10, 1e-3, 0, FIT);
    /* L1 (OWL-QN) on standardized features */
    ref_standardize(diabetes.X, diabetes.n, diabetes.d);
    ref_standardize(labels.X, labels.n, labels.d);
    ref_standardize(iris.X, iris.n, iris.d);
    optimum("squared_diabetes_std_l1", RILL_SQUARED, &diabetes, 0, 1e-3, 1.0, FIT);
    optimum("logistic_diabetes_std_l1", RILL_LOGISTIC, &labels, 2, 1e-4, 1e-2, FIT);
    optimum("softmax_iris_std_l1", RILL_SOFTMAX, &iris, 3, 1e-4, 1e-2, FIT);
    optimum("softmax_digits_std_l1", RILL_SOFTMAX, &digits_std, 10, 1e-4, 1e-3, FIT);

    ref_data_free(&diabetes);
    ref_data_free(&labels);
    ref_data_free(&iris);
    ref_data_free(&digits);
    ref_data_free(&digits_std);
    ref_data_free(&digits_sq);
    return failed || fflush(stdout) != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
