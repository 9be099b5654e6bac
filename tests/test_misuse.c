/*
 * Misuse table: every exported function called with NULL handles, NULL buffers, zero sizes
 * and sizes whose product overflows size_t. Each row names the function, the misuse, the
 * status the header documents, and the model the call must leave exactly as it was.
 *
 * Each row checks that
 *   - the call returns the documented status (and does not crash: each row runs in its own
 *     forked process);
 *   - the model it names is unchanged (its saved blob is byte-identical before and after);
 *   - the error detail is set by a refused non-const call on a model, and untouched by a
 *     const call;
 *   - a constructor that fails leaves *out as it was.
 *
 * The table is the MISUSE_ROWS list below. tests/check_misuse_table.sh (run as the
 * `misuse_table` test) fails when a function exported by lib/rill.sym has no row here, so a
 * new export cannot be forgotten.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"
#include "tmain.h"
#include "tutil.h"

#define D 3          /* features of every fixture model */
#define K 3          /* softmax classes */
#define N 6          /* rows in the fixture data */
#define BLOB_CAP (1u << 20)
#define WS_BYTES (1u << 16) /* a caller's workspace for the no-heap constructors */

/* n_rows x D overflows size_t. */
#define ROWS_OVER_CELLS (SIZE_MAX / 2)
/* n_rows x D fits, n_rows x D x sizeof(double) does not: no such buffer can exist. */
#define ROWS_OVER_BYTES (SIZE_MAX / D / 4)

/* A status the fixture never produces, used to tell "untouched" apart. */
static int sentinel_target;
#define SENTINEL_MODEL ((rill_model *)&sentinel_target)
#define SENTINEL_STREAM ((rill_stream *)&sentinel_target)

struct fx {
    rill_model *sq, *lg, *sm; /* trained squared, logistic and softmax models */
    rill_model *str;          /* the model of the three idle streams */
    rill_stream *s_step, *s_pass, *s_exact;
    rill_model *busy;         /* a PASS stream holds sums for it */
    rill_stream *s_busy;
    double X[N * D], y[N], ylab[N], ycls[N];
    double g[K * (D + 1)], w[K * (D + 1)], out[N * K];
    double loss, value, lo, hi;
    size_t size;
    unsigned char *blob; /* a valid saved model (of sq) */
    double *ws;          /* WS_BYTES, aligned */
    size_t blob_size;
    rill_model *out_model;
    rill_stream *out_stream;
    rill_alloc alloc, no_alloc_fn, no_free_fn, refusing;
};

static void *plain_alloc(void *ctx, size_t size, size_t align)
{
    void *p = NULL;
    (void)ctx;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1))
        return NULL;
    return p;
}

static void plain_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    free(p);
}

static void *refuse_alloc(void *ctx, size_t size, size_t align)
{
    (void)ctx;
    (void)size;
    (void)align;
    return NULL;
}

static int stop_progress(void *user, const rill_model *m)
{
    (void)user;
    (void)m;
    return 1;
}

static int version_string_matches(void)
{
    char want[64];
    const char *s = rill_version_string();
    snprintf(want, sizeof want, "%d.%d.%d", RILL_VERSION_MAJOR, RILL_VERSION_MINOR,
             RILL_VERSION_PATCH);
    return s != NULL && strcmp(s, want) == 0;
}

static int is_unknown_status(const char *s)
{
    return s != NULL && strcmp(s, "unknown status") == 0;
}

static int nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* ------------------------------------------------------------------ the table */

/* R(function, misuse, expected result, model that must stay unchanged (or NULL),
 *   detail: 1 = the call must set the model's error detail, 0 = must leave it as it was,
 *   2 = must clear it (a non-const call that succeeds),
 *   expression evaluated with the fixture in f). Void functions and getters evaluate to a
 *   truth value or RILL_OK. */
#define MISUSE_ROWS(R)                                                                         \
    R(rill_version, matches_macros, 1, NULL, 0,                                                \
      rill_version() == (((unsigned)RILL_VERSION_MAJOR << 16) |                                \
                         ((unsigned)RILL_VERSION_MINOR << 8) | (unsigned)RILL_VERSION_PATCH))  \
    R(rill_version_string, matches_macros, 1, NULL, 0, version_string_matches())              \
    R(rill_strerror, unknown_positive, 1, NULL, 0, is_unknown_status(rill_strerror(1)))       \
    R(rill_strerror, unknown_negative, 1, NULL, 0, is_unknown_status(rill_strerror(-9)))      \
    R(rill_strerror, int_min, 1, NULL, 0, is_unknown_status(rill_strerror(INT_MIN)))          \
    R(rill_strerror, int_max, 1, NULL, 0, is_unknown_status(rill_strerror(INT_MAX)))          \
                                                                                               \
    R(rill_model_new, null_out, RILL_EINVAL, NULL, 0, rill_model_new(NULL, RILL_SQUARED, D, 0)) \
    R(rill_model_new, zero_features, RILL_EINVAL, NULL, 0,                                     \
      rill_model_new(&f->out_model, RILL_SQUARED, 0, 0))                                       \
    R(rill_model_new, squared_with_classes, RILL_EINVAL, NULL, 0,                              \
      rill_model_new(&f->out_model, RILL_SQUARED, D, 2))                                       \
    R(rill_model_new, logistic_three_classes, RILL_EINVAL, NULL, 0,                            \
      rill_model_new(&f->out_model, RILL_LOGISTIC, D, 3))                                      \
    R(rill_model_new, softmax_one_class, RILL_EINVAL, NULL, 0,                                 \
      rill_model_new(&f->out_model, RILL_SOFTMAX, D, 1))                                       \
    R(rill_model_new, unknown_loss_zero, RILL_EUNSUPPORTED, NULL, 0,                           \
      rill_model_new(&f->out_model, 0, D, 0))                                                  \
    R(rill_model_new, unknown_loss_int_max, RILL_EUNSUPPORTED, NULL, 0,                        \
      rill_model_new(&f->out_model, INT_MAX, D, 0))                                            \
    R(rill_model_new, features_size_max, RILL_ERANGE, NULL, 0,                                 \
      rill_model_new(&f->out_model, RILL_SQUARED, SIZE_MAX, 0))                                \
    R(rill_model_new, features_overflow_bytes, RILL_ERANGE, NULL, 0,                           \
      rill_model_new(&f->out_model, RILL_SQUARED, SIZE_MAX / 4, 0))                            \
    R(rill_model_new, classes_overflow, RILL_ERANGE, NULL, 0,                                  \
      rill_model_new(&f->out_model, RILL_SOFTMAX, D, SIZE_MAX / 2))                            \
    R(rill_model_new, classes_size_max, RILL_ERANGE, NULL, 0,                                  \
      rill_model_new(&f->out_model, RILL_SOFTMAX, D, SIZE_MAX))                                \
                                                                                               \
    R(rill_model_new_alloc, null_out, RILL_EINVAL, NULL, 0,                                    \
      rill_model_new_alloc(NULL, RILL_SQUARED, D, 0, &f->alloc))                               \
    R(rill_model_new_alloc, null_alloc, RILL_EINVAL, NULL, 0,                                  \
      rill_model_new_alloc(&f->out_model, RILL_SQUARED, D, 0, NULL))                           \
    R(rill_model_new_alloc, null_alloc_fn, RILL_EINVAL, NULL, 0,                               \
      rill_model_new_alloc(&f->out_model, RILL_SQUARED, D, 0, &f->no_alloc_fn))                \
    R(rill_model_new_alloc, null_free_fn, RILL_EINVAL, NULL, 0,                                \
      rill_model_new_alloc(&f->out_model, RILL_SQUARED, D, 0, &f->no_free_fn))                 \
    R(rill_model_new_alloc, refusing_allocator, RILL_ENOMEM, NULL, 0,                          \
      rill_model_new_alloc(&f->out_model, RILL_SQUARED, D, 0, &f->refusing))                   \
    R(rill_model_new_alloc, huge_refused, RILL_ENOMEM, NULL, 0,                                \
      rill_model_new_alloc(&f->out_model, RILL_SQUARED, (size_t)1 << 20, 0, &f->refusing))    \
    R(rill_model_new_alloc, zero_features, RILL_EINVAL, NULL, 0,                               \
      rill_model_new_alloc(&f->out_model, RILL_SQUARED, 0, 0, &f->alloc))                      \
    R(rill_model_new_alloc, classes_overflow, RILL_ERANGE, NULL, 0,                            \
      rill_model_new_alloc(&f->out_model, RILL_SOFTMAX, SIZE_MAX / 2, 3, &f->alloc))           \
                                                                                               \
    R(rill_model_clone, null_out, RILL_EINVAL, f->sq, 0, rill_model_clone(NULL, f->sq))       \
    R(rill_model_clone, null_model, RILL_EINVAL, NULL, 0, rill_model_clone(&f->out_model, NULL)) \
                                                                                               \
    R(rill_model_free, null, RILL_OK, NULL, 0, (rill_model_free(NULL), RILL_OK))              \
                                                                                               \
    R(rill_model_error, null, 1, NULL, 0, nonempty(rill_model_error(NULL)))                    \
    R(rill_model_error, after_success_empty, 1, f->sq, 0,                                      \
      (rill_model_set(f->sq, RILL_TOL, 1e-8) == RILL_OK && rill_model_error(f->sq)[0] == '\0')) \
                                                                                               \
    R(rill_model_set, null_model, RILL_EINVAL, NULL, 0, rill_model_set(NULL, RILL_L2, 1.0))    \
    R(rill_model_set, unknown_param, RILL_EUNSUPPORTED, f->sq, 1, rill_model_set(f->sq, 13, 1.0)) \
    R(rill_model_set, negative_param, RILL_EUNSUPPORTED, f->sq, 1,                             \
      rill_model_set(f->sq, INT_MIN, 1.0))                                                     \
    R(rill_model_set, nan_value, RILL_EINVAL, f->sq, 1, rill_model_set(f->sq, RILL_L2, NAN))  \
    R(rill_model_set, inf_value, RILL_EINVAL, f->sq, 1,                                        \
      rill_model_set(f->sq, RILL_LEARNING_RATE, INFINITY))                                     \
    R(rill_model_set, below_range, RILL_EINVAL, f->sq, 1, rill_model_set(f->sq, RILL_L1, -1e-300)) \
    R(rill_model_set, above_range, RILL_EINVAL, f->sq, 1, rill_model_set(f->sq, RILL_TOL, 2.0)) \
    R(rill_model_set, not_integer, RILL_EINVAL, f->sq, 1,                                      \
      rill_model_set(f->sq, RILL_MAX_EPOCHS, 2.5))                                             \
    R(rill_model_set, unknown_schedule, RILL_EINVAL, f->sq, 1,                                 \
      rill_model_set(f->sq, RILL_SCHEDULE, 5.0))                                               \
    R(rill_model_set, read_only, RILL_EINVAL, f->sq, 1,                                        \
      rill_model_set(f->sq, RILL_STAT_EPOCHS, 0.0))                                            \
    R(rill_model_set, busy_model, RILL_ESTATE, f->busy, 1, rill_model_set(f->busy, RILL_L2, 1.0)) \
                                                                                               \
    R(rill_model_get, null_model, RILL_EINVAL, NULL, 0, rill_model_get(NULL, RILL_L2, &f->value)) \
    R(rill_model_get, null_value, RILL_EINVAL, f->sq, 0, rill_model_get(f->sq, RILL_L2, NULL)) \
    R(rill_model_get, unknown_param, RILL_EUNSUPPORTED, f->sq, 0,                              \
      rill_model_get(f->sq, 13, &f->value))                                                    \
    R(rill_model_get, negative_param, RILL_EUNSUPPORTED, f->sq, 0,                             \
      rill_model_get(f->sq, -1, &f->value))                                                    \
                                                                                               \
    R(rill_param_bounds, unknown_param, RILL_EUNSUPPORTED, NULL, 0,                            \
      rill_param_bounds(0, &f->lo, &f->hi))                                                    \
    R(rill_param_bounds, null_lo_hi, RILL_OK, NULL, 0, rill_param_bounds(RILL_L2, NULL, NULL)) \
                                                                                               \
    R(rill_fit, null_model, RILL_EINVAL, NULL, 0, rill_fit(NULL, f->X, f->y, N))              \
    R(rill_fit, null_x, RILL_EINVAL, f->sq, 1, rill_fit(f->sq, NULL, f->y, N))                \
    R(rill_fit, null_y, RILL_EINVAL, f->sq, 1, rill_fit(f->sq, f->X, NULL, N))                \
    R(rill_fit, zero_rows, RILL_EINVAL, f->sq, 1, rill_fit(f->sq, f->X, f->y, 0))             \
    R(rill_fit, rows_overflow_cells, RILL_ERANGE, f->sq, 1,                                    \
      rill_fit(f->sq, f->X, f->y, ROWS_OVER_CELLS))                                            \
    R(rill_fit, rows_overflow_bytes, RILL_ERANGE, f->sm, 1,                                    \
      rill_fit(f->sm, f->X, f->ycls, ROWS_OVER_BYTES))                                         \
    R(rill_fit, rows_size_max, RILL_ERANGE, f->lg, 1, rill_fit(f->lg, f->X, f->ylab, SIZE_MAX)) \
    R(rill_fit, busy_model, RILL_ESTATE, f->busy, 1, rill_fit(f->busy, f->X, f->y, N))        \
                                                                                               \
    R(rill_step, null_model, RILL_EINVAL, NULL, 0, rill_step(NULL, f->X, f->y, N))            \
    R(rill_step, null_x, RILL_EINVAL, f->sq, 1, rill_step(f->sq, NULL, f->y, N))              \
    R(rill_step, null_y, RILL_EINVAL, f->sq, 1, rill_step(f->sq, f->X, NULL, N))              \
    R(rill_step, zero_rows, RILL_EINVAL, f->sq, 1, rill_step(f->sq, f->X, f->y, 0))           \
    R(rill_step, rows_overflow_cells, RILL_ERANGE, f->lg, 1,                                   \
      rill_step(f->lg, f->X, f->ylab, ROWS_OVER_CELLS))                                        \
    R(rill_step, rows_overflow_bytes, RILL_ERANGE, f->sq, 1,                                   \
      rill_step(f->sq, f->X, f->y, ROWS_OVER_BYTES))                                           \
    R(rill_step, busy_model, RILL_ESTATE, f->busy, 1, rill_step(f->busy, f->X, f->y, N))      \
                                                                                               \
    R(rill_predict, null_model, RILL_EINVAL, NULL, 0, rill_predict(NULL, f->X, N, f->out))    \
    R(rill_predict, null_x, RILL_EINVAL, f->sq, 0, rill_predict(f->sq, NULL, N, f->out))      \
    R(rill_predict, null_out, RILL_EINVAL, f->sq, 0, rill_predict(f->sq, f->X, N, NULL))      \
    R(rill_predict, zero_rows, RILL_EINVAL, f->sq, 0, rill_predict(f->sq, f->X, 0, f->out))   \
    R(rill_predict, rows_overflow_cells, RILL_ERANGE, f->sq, 0,                                \
      rill_predict(f->sq, f->X, ROWS_OVER_CELLS, f->out))                                      \
    R(rill_predict, rows_overflow_bytes, RILL_ERANGE, f->lg, 0,                                \
      rill_predict(f->lg, f->X, ROWS_OVER_BYTES, f->out))                                      \
    R(rill_predict, softmax_out_overflow, RILL_ERANGE, f->sm, 0,                               \
      rill_predict(f->sm, f->X, SIZE_MAX / K / 2, f->out))                                     \
                                                                                               \
    R(rill_classify, null_model, RILL_EINVAL, NULL, 0, rill_classify(NULL, f->X, N, f->out))  \
    R(rill_classify, null_x, RILL_EINVAL, f->sm, 0, rill_classify(f->sm, NULL, N, f->out))    \
    R(rill_classify, null_labels, RILL_EINVAL, f->sm, 0, rill_classify(f->sm, f->X, N, NULL)) \
    R(rill_classify, zero_rows, RILL_EINVAL, f->lg, 0, rill_classify(f->lg, f->X, 0, f->out)) \
    R(rill_classify, rows_overflow_cells, RILL_ERANGE, f->sm, 0,                               \
      rill_classify(f->sm, f->X, ROWS_OVER_CELLS, f->out))                                     \
    R(rill_classify, rows_overflow_bytes, RILL_ERANGE, f->sq, 0,                               \
      rill_classify(f->sq, f->X, ROWS_OVER_BYTES, f->out))                                     \
                                                                                               \
    R(rill_gradient, null_model, RILL_EINVAL, NULL, 0,                                         \
      rill_gradient(NULL, f->X, f->y, N, f->g, &f->loss))                                      \
    R(rill_gradient, null_x, RILL_EINVAL, f->sq, 0,                                            \
      rill_gradient(f->sq, NULL, f->y, N, f->g, &f->loss))                                     \
    R(rill_gradient, null_y, RILL_EINVAL, f->sq, 0,                                            \
      rill_gradient(f->sq, f->X, NULL, N, f->g, &f->loss))                                     \
    R(rill_gradient, null_loss_sum, RILL_EINVAL, f->sq, 0,                                     \
      rill_gradient(f->sq, f->X, f->y, N, f->g, NULL))                                         \
    R(rill_gradient, null_grad_sum_is_loss_only, RILL_OK, f->sq, 0,                            \
      rill_gradient(f->sq, f->X, f->y, N, NULL, &f->loss))                                     \
    R(rill_gradient, zero_rows, RILL_EINVAL, f->sq, 0,                                         \
      rill_gradient(f->sq, f->X, f->y, 0, f->g, &f->loss))                                     \
    R(rill_gradient, rows_overflow_cells, RILL_ERANGE, f->sm, 0,                               \
      rill_gradient(f->sm, f->X, f->ycls, ROWS_OVER_CELLS, f->g, &f->loss))                    \
    R(rill_gradient, rows_overflow_bytes, RILL_ERANGE, f->lg, 0,                               \
      rill_gradient(f->lg, f->X, f->ylab, ROWS_OVER_BYTES, f->g, &f->loss))                    \
                                                                                               \
    R(rill_apply_gradient, null_model, RILL_EINVAL, NULL, 0,                                   \
      rill_apply_gradient(NULL, f->g, 1.0, 1.0))                                               \
    R(rill_apply_gradient, null_grad, RILL_EINVAL, f->sq, 1,                                   \
      rill_apply_gradient(f->sq, NULL, 1.0, 1.0))                                              \
    R(rill_apply_gradient, zero_weight_sum, RILL_EINVAL, f->sq, 1,                             \
      rill_apply_gradient(f->sq, f->g, 1.0, 0.0))                                              \
    R(rill_apply_gradient, negative_weight_sum, RILL_EINVAL, f->sq, 1,                         \
      rill_apply_gradient(f->sq, f->g, 1.0, -1.0))                                             \
    R(rill_apply_gradient, nan_weight_sum, RILL_EINVAL, f->sq, 1,                              \
      rill_apply_gradient(f->sq, f->g, 1.0, NAN))                                              \
    R(rill_apply_gradient, inf_weight_sum, RILL_EINVAL, f->sq, 1,                              \
      rill_apply_gradient(f->sq, f->g, 1.0, INFINITY))                                         \
    R(rill_apply_gradient, busy_model, RILL_ESTATE, f->busy, 1,                                \
      rill_apply_gradient(f->busy, f->g, 1.0, 1.0))                                            \
                                                                                               \
    R(rill_model_n_weights, null, 1, NULL, 0, rill_model_n_weights(NULL) == 0)                 \
                                                                                               \
    R(rill_model_weights, null_model, RILL_EINVAL, NULL, 0,                                    \
      rill_model_weights(NULL, f->w, D + 1))                                                   \
    R(rill_model_weights, null_out, RILL_EINVAL, f->sq, 0, rill_model_weights(f->sq, NULL, D + 1)) \
    R(rill_model_weights, zero_len, RILL_ERANGE, f->sq, 0, rill_model_weights(f->sq, f->w, 0))  \
    R(rill_model_weights, short_len, RILL_ERANGE, f->sm, 0,                                    \
      rill_model_weights(f->sm, f->w, K * (D + 1) - 1))                                        \
                                                                                               \
    R(rill_model_eval_point, null_model, RILL_EINVAL, NULL, 0,                                 \
      rill_model_eval_point(NULL, f->w, D + 1))                                                \
    R(rill_model_eval_point, null_out, RILL_EINVAL, f->sq, 0,                                  \
      rill_model_eval_point(f->sq, NULL, D + 1))                                               \
    R(rill_model_eval_point, zero_len, RILL_ERANGE, f->sq, 0,                                  \
      rill_model_eval_point(f->sq, f->w, 0))                                                   \
    R(rill_model_eval_point, short_len, RILL_ERANGE, f->sm, 0,                                 \
      rill_model_eval_point(f->sm, f->w, K * (D + 1) - 1))                                     \
                                                                                               \
    R(rill_model_set_weights, null_model, RILL_EINVAL, NULL, 0,                                \
      rill_model_set_weights(NULL, f->w, D + 1))                                               \
    R(rill_model_set_weights, null_w, RILL_EINVAL, f->sq, 1,                                   \
      rill_model_set_weights(f->sq, NULL, D + 1))                                              \
    R(rill_model_set_weights, zero_len, RILL_EINVAL, f->sq, 1, rill_model_set_weights(f->sq, f->w, 0)) \
    R(rill_model_set_weights, long_len, RILL_EINVAL, f->sq, 1,                                 \
      rill_model_set_weights(f->sq, f->w, D + 2))                                              \
    R(rill_model_set_weights, size_max_len, RILL_EINVAL, f->sm, 1,                            \
      rill_model_set_weights(f->sm, f->w, SIZE_MAX))                                           \
    R(rill_model_set_weights, busy_model, RILL_ESTATE, f->busy, 1,                             \
      rill_model_set_weights(f->busy, f->w, D + 1))                                            \
                                                                                               \
    R(rill_model_save, null_model, RILL_EINVAL, NULL, 0,                                       \
      rill_model_save(NULL, f->blob, BLOB_CAP, &f->size))                                      \
    R(rill_model_save, null_size, RILL_EINVAL, f->sq, 0, rill_model_save(f->sq, f->blob, BLOB_CAP, NULL)) \
    R(rill_model_save, null_buf_with_cap, RILL_EINVAL, f->sq, 0,                               \
      rill_model_save(f->sq, NULL, 16, &f->size))                                              \
    R(rill_model_save, zero_cap, RILL_ERANGE, f->sq, 0, rill_model_save(f->sq, f->w, 0, &f->size)) \
    R(rill_model_save, short_cap, RILL_ERANGE, f->sq, 0,                                       \
      rill_model_save(f->sq, f->blob, f->blob_size - 1, &f->size))                             \
    R(rill_model_save, size_query, RILL_OK, f->sq, 0, rill_model_save(f->sq, NULL, 0, &f->size)) \
                                                                                               \
    R(rill_model_load, null_out, RILL_EINVAL, NULL, 0, rill_model_load(NULL, f->blob, f->blob_size)) \
    R(rill_model_load, null_buf, RILL_EINVAL, NULL, 0, rill_model_load(&f->out_model, NULL, 64)) \
    R(rill_model_load, null_buf_zero_size, RILL_EINVAL, NULL, 0,                               \
      rill_model_load(&f->out_model, NULL, 0))                                                 \
    R(rill_model_load, zero_size, RILL_EFORMAT, NULL, 0, rill_model_load(&f->out_model, f->blob, 0)) \
    R(rill_model_load, short_size, RILL_EFORMAT, NULL, 0,                                      \
      rill_model_load(&f->out_model, f->blob, f->blob_size - 1))                               \
    R(rill_model_load, size_max, RILL_EFORMAT, NULL, 0,                                        \
      rill_model_load(&f->out_model, f->blob, SIZE_MAX))                                       \
                                                                                               \
    R(rill_model_load_alloc, null_out, RILL_EINVAL, NULL, 0,                                   \
      rill_model_load_alloc(NULL, f->blob, f->blob_size, &f->alloc))                           \
    R(rill_model_load_alloc, null_buf, RILL_EINVAL, NULL, 0,                                   \
      rill_model_load_alloc(&f->out_model, NULL, f->blob_size, &f->alloc))                     \
    R(rill_model_load_alloc, null_alloc, RILL_EINVAL, NULL, 0,                                 \
      rill_model_load_alloc(&f->out_model, f->blob, f->blob_size, NULL))                       \
    R(rill_model_load_alloc, null_alloc_fn, RILL_EINVAL, NULL, 0,                              \
      rill_model_load_alloc(&f->out_model, f->blob, f->blob_size, &f->no_alloc_fn))            \
    R(rill_model_load_alloc, null_free_fn, RILL_EINVAL, NULL, 0,                               \
      rill_model_load_alloc(&f->out_model, f->blob, f->blob_size, &f->no_free_fn))             \
    R(rill_model_load_alloc, refusing_allocator, RILL_ENOMEM, NULL, 0,                         \
      rill_model_load_alloc(&f->out_model, f->blob, f->blob_size, &f->refusing))               \
    R(rill_model_load_alloc, zero_size, RILL_EFORMAT, NULL, 0,                                 \
      rill_model_load_alloc(&f->out_model, f->blob, 0, &f->alloc))                             \
                                                                                               \
    R(rill_stream_new, null_out, RILL_EINVAL, f->str, 1,                                       \
      rill_stream_new(NULL, f->str, 4, RILL_STREAM_STEP))                                      \
    R(rill_stream_new, null_model, RILL_EINVAL, NULL, 0,                                       \
      rill_stream_new(&f->out_stream, NULL, 4, RILL_STREAM_STEP))                              \
    R(rill_stream_new, zero_batch, RILL_EINVAL, f->str, 1,                                     \
      rill_stream_new(&f->out_stream, f->str, 0, RILL_STREAM_PASS))                            \
    R(rill_stream_new, mode_zero, RILL_EUNSUPPORTED, f->str, 1,                                \
      rill_stream_new(&f->out_stream, f->str, 4, 0))                                           \
    R(rill_stream_new, mode_four, RILL_EUNSUPPORTED, f->str, 1,                                \
      rill_stream_new(&f->out_stream, f->str, 4, 4))                                           \
    R(rill_stream_new, exact_logistic, RILL_EINVAL, f->lg, 1,                                  \
      rill_stream_new(&f->out_stream, f->lg, 4, RILL_STREAM_EXACT))                            \
    R(rill_stream_new, batch_overflow_cells, RILL_ERANGE, f->str, 1,                           \
      rill_stream_new(&f->out_stream, f->str, ROWS_OVER_CELLS, RILL_STREAM_STEP))              \
    R(rill_stream_new, batch_overflow_bytes, RILL_ERANGE, f->str, 1,                           \
      rill_stream_new(&f->out_stream, f->str, ROWS_OVER_BYTES, RILL_STREAM_PASS))              \
    R(rill_stream_new, batch_size_max, RILL_ERANGE, f->str, 1,                                 \
      rill_stream_new(&f->out_stream, f->str, SIZE_MAX, RILL_STREAM_EXACT))                    \
    R(rill_stream_new, batch_too_big_for_y, RILL_ERANGE, f->str, 1,                            \
      rill_stream_new(&f->out_stream, f->str, SIZE_MAX / 8 / (D + 1), RILL_STREAM_STEP))       \
                                                                                               \
    R(rill_stream_push, null_stream, RILL_EINVAL, NULL, 0, rill_stream_push(NULL, f->X, f->y, N)) \
    R(rill_stream_push, null_x, RILL_EINVAL, f->str, 1, rill_stream_push(f->s_step, NULL, f->y, N)) \
    R(rill_stream_push, null_y, RILL_EINVAL, f->str, 1, rill_stream_push(f->s_pass, f->X, NULL, N)) \
    R(rill_stream_push, zero_rows, RILL_EINVAL, f->str, 1, rill_stream_push(f->s_exact, f->X, f->y, 0)) \
    R(rill_stream_push, step_rows_overflow_cells, RILL_ERANGE, f->str, 1,                      \
      rill_stream_push(f->s_step, f->X, f->y, ROWS_OVER_CELLS))                                \
    R(rill_stream_push, pass_rows_overflow_cells, RILL_ERANGE, f->str, 1,                      \
      rill_stream_push(f->s_pass, f->X, f->y, ROWS_OVER_CELLS))                                \
    R(rill_stream_push, exact_rows_overflow_cells, RILL_ERANGE, f->str, 1,                     \
      rill_stream_push(f->s_exact, f->X, f->y, ROWS_OVER_CELLS))                               \
    R(rill_stream_push, step_rows_overflow_bytes, RILL_ERANGE, f->str, 1,                      \
      rill_stream_push(f->s_step, f->X, f->y, ROWS_OVER_BYTES))                                \
    R(rill_stream_push, pass_rows_overflow_bytes, RILL_ERANGE, f->str, 1,                      \
      rill_stream_push(f->s_pass, f->X, f->y, ROWS_OVER_BYTES))                                \
    R(rill_stream_push, exact_rows_size_max, RILL_ERANGE, f->str, 1,                           \
      rill_stream_push(f->s_exact, f->X, f->y, SIZE_MAX))                                      \
                                                                                               \
    R(rill_stream_flush, null_stream, RILL_EINVAL, NULL, 0, rill_stream_flush(NULL))           \
    R(rill_stream_flush, empty_stream, RILL_OK, f->str, 2, rill_stream_flush(f->s_exact))      \
                                                                                               \
    R(rill_stream_free, null, RILL_OK, NULL, 0, (rill_stream_free(NULL), RILL_OK))            \
                                                                                               \
    R(rill_model_workspace_size, null_size, RILL_EINVAL, NULL, 0,                              \
      rill_model_workspace_size(RILL_SQUARED, D, 0, NULL))                                     \
    R(rill_model_workspace_size, zero_features, RILL_EINVAL, NULL, 0,                          \
      rill_model_workspace_size(RILL_SQUARED, 0, 0, &f->size))                                 \
    R(rill_model_workspace_size, wrong_classes, RILL_EINVAL, NULL, 0,                          \
      rill_model_workspace_size(RILL_LOGISTIC, D, 0, &f->size))                                \
    R(rill_model_workspace_size, unknown_loss, RILL_EUNSUPPORTED, NULL, 0,                     \
      rill_model_workspace_size(-1, D, 0, &f->size))                                           \
    R(rill_model_workspace_size, features_overflow, RILL_ERANGE, NULL, 0,                      \
      rill_model_workspace_size(RILL_SQUARED, SIZE_MAX / 4, 0, &f->size))                      \
    R(rill_model_workspace_size, classes_overflow, RILL_ERANGE, NULL, 0,                       \
      rill_model_workspace_size(RILL_SOFTMAX, D, SIZE_MAX / 2, &f->size))                      \
                                                                                               \
    R(rill_model_init_static, null_out, RILL_EINVAL, NULL, 0,                                  \
      rill_model_init_static(NULL, f->ws, WS_BYTES, RILL_SQUARED, D, 0))                       \
    R(rill_model_init_static, null_buf, RILL_EINVAL, NULL, 0,                                  \
      rill_model_init_static(&f->out_model, NULL, WS_BYTES, RILL_SQUARED, D, 0))               \
    R(rill_model_init_static, misaligned_buf, RILL_EINVAL, NULL, 0,                            \
      rill_model_init_static(&f->out_model, (char *)f->ws + 1, WS_BYTES - 8, RILL_SQUARED, D, 0)) \
    R(rill_model_init_static, zero_size, RILL_ERANGE, NULL, 0,                                 \
      rill_model_init_static(&f->out_model, f->ws, 0, RILL_SQUARED, D, 0))                     \
    R(rill_model_init_static, short_size, RILL_ERANGE, NULL, 0,                                \
      rill_model_init_static(&f->out_model, f->ws, 64, RILL_SOFTMAX, D, K))                    \
    R(rill_model_init_static, zero_features, RILL_EINVAL, NULL, 0,                             \
      rill_model_init_static(&f->out_model, f->ws, WS_BYTES, RILL_SQUARED, 0, 0))              \
    R(rill_model_init_static, unknown_loss, RILL_EUNSUPPORTED, NULL, 0,                        \
      rill_model_init_static(&f->out_model, f->ws, WS_BYTES, 4, D, 0))                         \
    R(rill_model_init_static, features_overflow, RILL_ERANGE, NULL, 0,                         \
      rill_model_init_static(&f->out_model, f->ws, SIZE_MAX, RILL_SQUARED, SIZE_MAX / 4, 0))   \
                                                                                               \
    R(rill_stream_workspace_size, null_model, RILL_EINVAL, NULL, 0,                            \
      rill_stream_workspace_size(NULL, 4, RILL_STREAM_STEP, &f->size))                         \
    R(rill_stream_workspace_size, null_size, RILL_EINVAL, f->str, 0,                           \
      rill_stream_workspace_size(f->str, 4, RILL_STREAM_STEP, NULL))                           \
    R(rill_stream_workspace_size, zero_batch, RILL_EINVAL, f->str, 0,                          \
      rill_stream_workspace_size(f->str, 0, RILL_STREAM_PASS, &f->size))                       \
    R(rill_stream_workspace_size, unknown_mode, RILL_EUNSUPPORTED, f->str, 0,                  \
      rill_stream_workspace_size(f->str, 4, 0, &f->size))                                      \
    R(rill_stream_workspace_size, exact_logistic, RILL_EINVAL, f->lg, 0,                       \
      rill_stream_workspace_size(f->lg, 4, RILL_STREAM_EXACT, &f->size))                       \
    R(rill_stream_workspace_size, batch_overflow_cells, RILL_ERANGE, f->str, 0,                \
      rill_stream_workspace_size(f->str, ROWS_OVER_CELLS, RILL_STREAM_STEP, &f->size))         \
    R(rill_stream_workspace_size, batch_overflow_bytes, RILL_ERANGE, f->str, 0,                \
      rill_stream_workspace_size(f->str, ROWS_OVER_BYTES, RILL_STREAM_EXACT, &f->size))        \
                                                                                               \
    R(rill_stream_init_static, null_out, RILL_EINVAL, f->str, 1,                               \
      rill_stream_init_static(NULL, f->ws, WS_BYTES, f->str, 4, RILL_STREAM_STEP))             \
    R(rill_stream_init_static, null_model, RILL_EINVAL, NULL, 0,                               \
      rill_stream_init_static(&f->out_stream, f->ws, WS_BYTES, NULL, 4, RILL_STREAM_STEP))     \
    R(rill_stream_init_static, null_buf, RILL_EINVAL, f->str, 1,                               \
      rill_stream_init_static(&f->out_stream, NULL, WS_BYTES, f->str, 4, RILL_STREAM_STEP))    \
    R(rill_stream_init_static, misaligned_buf, RILL_EINVAL, f->str, 1,                         \
      rill_stream_init_static(&f->out_stream, (char *)f->ws + 4, WS_BYTES - 8, f->str, 4,       \
                              RILL_STREAM_PASS))                                               \
    R(rill_stream_init_static, zero_size, RILL_ERANGE, f->str, 1,                              \
      rill_stream_init_static(&f->out_stream, f->ws, 0, f->str, 4, RILL_STREAM_EXACT))         \
    R(rill_stream_init_static, zero_batch, RILL_EINVAL, f->str, 1,                             \
      rill_stream_init_static(&f->out_stream, f->ws, WS_BYTES, f->str, 0, RILL_STREAM_STEP))   \
    R(rill_stream_init_static, unknown_mode, RILL_EUNSUPPORTED, f->str, 1,                     \
      rill_stream_init_static(&f->out_stream, f->ws, WS_BYTES, f->str, 4, 99))                 \
    R(rill_stream_init_static, batch_overflow, RILL_ERANGE, f->str, 1,                         \
      rill_stream_init_static(&f->out_stream, f->ws, SIZE_MAX, f->str, ROWS_OVER_CELLS,        \
                              RILL_STREAM_STEP))                                               \
                                                                                               \
    R(rill_model_set_progress, null_model, RILL_EINVAL, NULL, 0,                               \
      rill_model_set_progress(NULL, stop_progress, NULL))                                      \
    R(rill_model_set_progress, null_model_null_fn, RILL_EINVAL, NULL, 0,                       \
      rill_model_set_progress(NULL, NULL, NULL))

/* One function per row, and the table of them. */
#define MISUSE_FN(fn, tag, expect, target, detail, expr)                                       \
    static int row_##fn##_##tag(struct fx *f)                                                  \
    {                                                                                          \
        return (int)(expr);                                                                    \
    }                                                                                          \
    static rill_model *target_##fn##_##tag(struct fx *f)                                       \
    {                                                                                          \
        (void)f;                                                                               \
        return target;                                                                         \
    }
MISUSE_ROWS(MISUSE_FN)

struct row {
    const char *fn, *tag;
    int expect;
    int detail;
    int (*call)(struct fx *f);
    rill_model *(*target)(struct fx *f);
};

#define MISUSE_ENTRY(fn, tag, expect, target, detail, expr)                                    \
    {#fn, #tag, expect, detail, row_##fn##_##tag, target_##fn##_##tag},
static const struct row rows[] = {MISUSE_ROWS(MISUSE_ENTRY)};
#define N_ROWS ((int)(sizeof rows / sizeof rows[0]))

/* ------------------------------------------------------------------ fixture */

static rill_model *trained(int loss, size_t n_classes, const double *X, const double *y)
{
    rill_model *m = tu_new_model(loss, D, n_classes);
    tu_set_param(m, RILL_MAX_EPOCHS, 5);
    ck_assert_int_eq(rill_fit(m, X, y, N), RILL_OK);
    ck_assert_int_eq(rill_step(m, X, y, 2), RILL_OK); /* statistics and optimizer state set */
    return m;
}

static void fixture_init(struct fx *f)
{
    ref_rng r;
    size_t i;
    memset(f, 0, sizeof *f);
    ref_rng_seed(&r, 20260521);
    for (i = 0; i < N * D; i++)
        f->X[i] = ref_rng_normal(&r);
    for (i = 0; i < N; i++) {
        f->y[i] = ref_rng_normal(&r);
        f->ylab[i] = (double)(i % 2);
        f->ycls[i] = (double)(i % K);
    }
    for (i = 0; i < K * (D + 1); i++)
        f->w[i] = 0.5;
    f->alloc.alloc = plain_alloc;
    f->alloc.free = plain_free;
    f->no_alloc_fn = f->alloc;
    f->no_alloc_fn.alloc = NULL;
    f->no_free_fn = f->alloc;
    f->no_free_fn.free = NULL;
    f->refusing = f->alloc;
    f->refusing.alloc = refuse_alloc;

    f->sq = trained(RILL_SQUARED, 0, f->X, f->y);
    f->lg = trained(RILL_LOGISTIC, 2, f->X, f->ylab);
    f->sm = trained(RILL_SOFTMAX, K, f->X, f->ycls);
    f->str = trained(RILL_SQUARED, 0, f->X, f->y);
    ck_assert_int_eq(rill_stream_new(&f->s_step, f->str, 4, RILL_STREAM_STEP), RILL_OK);
    ck_assert_int_eq(rill_stream_new(&f->s_pass, f->str, 4, RILL_STREAM_PASS), RILL_OK);
    ck_assert_int_eq(rill_stream_new(&f->s_exact, f->str, 4, RILL_STREAM_EXACT), RILL_OK);
    f->busy = trained(RILL_SQUARED, 0, f->X, f->y);
    ck_assert_int_eq(rill_stream_new(&f->s_busy, f->busy, 4, RILL_STREAM_PASS), RILL_OK);
    ck_assert_int_eq(rill_stream_push(f->s_busy, f->X, f->y, N), RILL_OK); /* holds sums */

    f->ws = malloc(WS_BYTES);
    ck_assert_ptr_nonnull(f->ws);
    f->blob = malloc(BLOB_CAP);
    ck_assert_ptr_nonnull(f->blob);
    ck_assert_int_eq(rill_model_save(f->sq, f->blob, BLOB_CAP, &f->blob_size), RILL_OK);
    f->out_model = SENTINEL_MODEL;
    f->out_stream = SENTINEL_STREAM;
}

static void fixture_free(struct fx *f)
{
    rill_stream_free(f->s_busy);
    rill_stream_free(f->s_step);
    rill_stream_free(f->s_pass);
    rill_stream_free(f->s_exact);
    rill_model_free(f->busy);
    rill_model_free(f->str);
    rill_model_free(f->sq);
    rill_model_free(f->lg);
    rill_model_free(f->sm);
    free(f->blob);
    free(f->ws);
}

/* The model's whole persistent state, and its error detail. */
struct snapshot {
    unsigned char *blob;
    size_t size;
    char err[256];
};

static void take(const rill_model *m, struct snapshot *s)
{
    ck_assert_int_eq(rill_model_save(m, NULL, 0, &s->size), RILL_OK);
    s->blob = malloc(s->size);
    ck_assert_ptr_nonnull(s->blob);
    ck_assert_int_eq(rill_model_save(m, s->blob, s->size, &s->size), RILL_OK);
    snprintf(s->err, sizeof s->err, "%s", rill_model_error(m));
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_row)
{
    const struct row *row = &rows[_i];
    struct fx f;
    struct snapshot before, after;
    rill_model *target;
    int got;

    fixture_init(&f);
    target = row->target(&f);
    if (target) {
        if (row->detail == 1) /* clear the detail: the call must write one */
            ck_assert_int_eq(rill_model_set_progress(target, NULL, NULL), RILL_OK);
        else /* a known detail, so that "left as it was" can be told from "cleared" */
            ck_assert_int_eq(rill_model_set(target, 9999, 0.0), RILL_EUNSUPPORTED);
        take(target, &before);
    }
    got = row->call(&f);
    ck_assert_msg(got == row->expect, "%s (%s): returned %d (%s), the header documents %d (%s)",
                  row->fn, row->tag, got, rill_strerror(got), row->expect,
                  rill_strerror(row->expect));
    ck_assert_msg(f.out_model == SENTINEL_MODEL, "%s (%s): wrote *out on failure", row->fn,
                  row->tag);
    ck_assert_msg(f.out_stream == SENTINEL_STREAM, "%s (%s): wrote *out on failure", row->fn,
                  row->tag);
    if (target) {
        take(target, &after);
        ck_assert_msg(before.size == after.size && memcmp(before.blob, after.blob, before.size) == 0,
                      "%s (%s): the model changed", row->fn, row->tag);
        if (row->detail == 1)
            ck_assert_msg(after.err[0] != '\0', "%s (%s): no error detail recorded", row->fn,
                          row->tag);
        else if (row->detail == 2)
            ck_assert_msg(after.err[0] == '\0', "%s (%s): the error detail was not cleared",
                          row->fn, row->tag);
        else if (row->expect != 1 || strcmp(row->fn, "rill_model_error") != 0)
            ck_assert_msg(strcmp(after.err, before.err) == 0,
                          "%s (%s): a const call changed the error detail to \"%s\"", row->fn,
                          row->tag, after.err);
        free(before.blob);
        free(after.blob);
    }
    fixture_free(&f);
}
END_TEST

/* The table has one entry per row and every row names an exported function (the export list
 * itself is checked against the table by check_misuse_table.sh). */
START_TEST(test_table_well_formed)
{
    int i;
    ck_assert_int_gt(N_ROWS, 100);
    for (i = 0; i < N_ROWS; i++)
        ck_assert_msg(strncmp(rows[i].fn, "rill_", 5) == 0, "row %d: %s", i, rows[i].fn);
}
END_TEST

/* After a refused call, the handles still work: the streams accept rows and flush. */
START_TEST(test_still_usable)
{
    struct fx f;
    int i;
    fixture_init(&f);
    for (i = 0; i < N_ROWS; i++)
        (void)rows[i].call(&f);
    ck_assert_int_eq(rill_stream_push(f.s_step, f.X, f.y, N), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(f.s_step), RILL_OK);
    ck_assert_int_eq(rill_stream_push(f.s_pass, f.X, f.y, N), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(f.s_pass), RILL_OK);
    ck_assert_int_eq(rill_stream_push(f.s_exact, f.X, f.y, N), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(f.s_exact), RILL_OK);
    ck_assert_int_eq(rill_predict(f.sm, f.X, N, f.out), RILL_OK);
    ck_assert_int_eq(rill_stream_flush(f.s_busy), RILL_OK);
    ck_assert_int_eq(rill_model_set(f.busy, RILL_L2, 1.0), RILL_OK);
    fixture_free(&f);
}
END_TEST

static Suite *misuse_suite(void)
{
    Suite *s = suite_create("misuse");
    TCase *tc = tcase_create("table");
    tcase_add_loop_test(tc, test_row, 0, N_ROWS);
    tcase_add_test(tc, test_table_well_formed);
    tcase_add_test(tc, test_still_usable);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(misuse_suite)
