/* Check-based helpers shared by the test suites (see tutil.h). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"
#include "ref.h"
#include "tutil.h"

rill_model *tu_new_model(int loss, size_t d, size_t n_classes)
{
    rill_model *m = NULL;
    int rc = rill_model_new(&m, loss, d, n_classes);
    ck_assert_msg(rc == RILL_OK && m != NULL, "rill_model_new(%s, %zu, %zu) = %d",
                  tu_loss_name(loss), d, n_classes, rc);
    return m;
}

rill_model *tu_new_model_for(int loss, size_t d, size_t K)
{
    rill_model *m = NULL;
    int rc = rill_model_new(&m, loss, d, tu_classes_for(loss, K));
    ck_assert_msg(rc == RILL_OK && m != NULL, "rill_model_new(%s, d=%zu, K=%zu) = %d",
                  tu_loss_name(loss), d, K, rc);
    return m;
}

void tu_set_param(rill_model *m, int p, double v)
{
    int rc = rill_model_set(m, p, v);
    ck_assert_msg(rc == RILL_OK, "rill_model_set(%d, %g) = %d (%s)", p, v, rc, rill_model_error(m));
}

double tu_get_param(const rill_model *m, int p)
{
    double v = NAN;
    int rc = rill_model_get(m, p, &v);
    ck_assert_msg(rc == RILL_OK, "rill_model_get(%d) = %d", p, rc);
    return v;
}

double *tu_get_weights(const rill_model *m)
{
    size_t nw = rill_model_n_weights(m);
    double *w = malloc(nw * sizeof *w);
    int rc;
    ck_assert(w != NULL);
    rc = rill_model_weights(m, w, nw);
    ck_assert_msg(rc == RILL_OK, "rill_model_weights = %d", rc);
    return w;
}

void tu_copy_weights(const rill_model *m, double *w)
{
    int rc = rill_model_weights(m, w, rill_model_n_weights(m));
    ck_assert_msg(rc == RILL_OK, "rill_model_weights = %d", rc);
}

double *tu_random_weights(ref_rng *r, size_t nw, double scale)
{
    double *w = malloc(nw * sizeof *w);
    size_t j;
    for (j = 0; j < nw; j++)
        w[j] = scale * ref_rng_normal(r);
    return w;
}

int tu_light(void)
{
    const char *v = getenv("RILL_TEST_LIGHT");
    return v && *v && strcmp(v, "0") != 0;
}
