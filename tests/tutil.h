/* Check-based helpers shared by the test suites: model construction, parameters and weights
 * through the public API, each call asserted with ck_assert. (The independent reference code,
 * which never calls the library, is ref.c / ref.h.) */
#ifndef RILL_TESTS_TUTIL_H
#define RILL_TESTS_TUTIL_H

#include <stddef.h>

#include "rill.h"
#include "ref.h"

static inline const char *tu_loss_name(int loss)
{
    return loss == RILL_SQUARED ? "squared" : loss == RILL_LOGISTIC ? "logistic" : "softmax";
}

/* n_classes as rill_model_new takes it: 0 squared, 2 logistic, K softmax. */
static inline size_t tu_classes_for(int loss, size_t K)
{
    return loss == RILL_SQUARED ? 0 : loss == RILL_LOGISTIC ? 2 : K;
}

/* rill_model_new(loss, d, n_classes), asserted. */
rill_model *tu_new_model(int loss, size_t d, size_t n_classes);
/* The same with n_classes = tu_classes_for(loss, K). */
rill_model *tu_new_model_for(int loss, size_t d, size_t K);

void tu_set_param(rill_model *m, int p, double v);
double tu_get_param(const rill_model *m, int p);

/* The model's weights in a fresh malloc'd array (caller frees). */
double *tu_get_weights(const rill_model *m);
/* The model's weights into w (rill_model_n_weights(m) doubles). */
void tu_copy_weights(const rill_model *m, double *w);

/* nw draws of scale * N(0, 1), malloc'd. */
double *tu_random_weights(ref_rng *r, size_t nw, double scale);

/* Nonzero when RILL_TEST_LIGHT is set (and not "0"): the valgrind setup sets it, and the
 * heaviest cases then run on smaller inputs, with the same assertions. */
int tu_light(void);

#endif
