/*
 * A program that uses an installed (or subproject) rill the way a user's would. Fits least
 * squares to exact data y = 2 x0 - x1 + 0.5 and checks the weights recover it; checks that
 * the library's run-time version is the one the header describes. Exit 0 on success.
 */
#include <math.h>
#include <stdio.h>

#include <rill.h>

int main(void)
{
    double X[40], y[20], w[3];
    for (int i = 0; i < 20; i++) {
        X[2 * i] = (double)(i % 7) - 3.0;
        X[2 * i + 1] = (double)(i % 5) * 0.5;
        y[i] = 2.0 * X[2 * i] - X[2 * i + 1] + 0.5;
    }
    rill_model *m = NULL;
    int rc = rill_model_new(&m, RILL_SQUARED, 2, 0);
    rc = rc ? rc : rill_model_set(m, RILL_TOL, 1e-12);
    rc = rc ? rc : rill_fit(m, X, y, 20);
    rc = rc ? rc : rill_model_weights(m, w, 3);
    if (rc) {
        fprintf(stderr, "rill: %s (%s)\n", rill_strerror(rc), rill_model_error(m));
        rill_model_free(m);
        return 1;
    }
    rill_model_free(m);
    double err = fabs(w[0] - 2.0) + fabs(w[1] + 1.0) + fabs(w[2] - 0.5);
    unsigned header = (RILL_VERSION_MAJOR << 16) | (RILL_VERSION_MINOR << 8) | RILL_VERSION_PATCH;
    printf("rill %s: w = %.9f %.9f %.9f (error %.1e)\n", rill_version_string(), w[0], w[1], w[2],
           err);
    if (rill_version() != header) {
        fprintf(stderr, "library version %#x, header %#x\n", rill_version(), header);
        return 1;
    }
    return err < 1e-6 ? 0 : 1;
}
