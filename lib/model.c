/* Model handles: one allocation holds the struct and every array the model will need. */
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define RL_ALIGN 64

void *rl_alloc(const rill_alloc *a, size_t size)
{
    return a->alloc(a->ctx, size, RL_ALIGN);
}

void rl_free(const rill_alloc *a, void *p, size_t size)
{
    if (p)
        a->free(a->ctx, p, size);
}

int rl_mul_size(size_t a, size_t b, size_t *out)
{
    if (a && b > (size_t)-1 / a)
        return RILL_ERANGE;
    *out = a * b;
    return RILL_OK;
}

int rl_check_rows_size(size_t n_rows, size_t width)
{
    size_t cells, bytes;
    if (rl_mul_size(n_rows, width, &cells) || rl_mul_size(cells, sizeof(double), &bytes))
        return RILL_ERANGE;
    return RILL_OK;
}

static size_t round_up(size_t v)
{
    return (v + RL_ALIGN - 1) & ~(size_t)(RL_ALIGN - 1);
}

/* Number of n_weights-long arrays: w, w_avg, adagrad, scratch, scratch2, grad_sums, eval, g_x, dir,
 * g0, and the L-BFGS pairs s and y. */
#define RL_WEIGHT_ARRAYS (10 + 2 * RILL_LBFGS_M)

static int layout(size_t n_features, size_t n_outputs, size_t *n_weights, size_t *total)
{
    size_t nw, bytes, all;
    if (n_features >= (size_t)-1 || rl_mul_size(n_outputs, n_features + 1, &nw) ||
        rl_mul_size(nw, sizeof(double), &bytes) || bytes > (size_t)-1 - RL_ALIGN ||
        rl_mul_size(round_up(bytes), RL_WEIGHT_ARRAYS, &all))
        return RILL_ERANGE;
    size_t head = round_up(sizeof(rill_model)) + round_up(RILL_LBFGS_M * sizeof(double));
    if (all > (size_t)-1 - head)
        return RILL_ERANGE;
    *n_weights = nw;
    *total = head + all;
    return RILL_OK;
}

static void bind_arrays(rill_model *m)
{
    char *p = (char *)m + round_up(sizeof(rill_model));
    const size_t arr = round_up(m->n_weights * sizeof(double));
    m->opt.rho = (double *)p;
    p += round_up(RILL_LBFGS_M * sizeof(double));
    double **slots[] = {&m->w, &m->w_avg, &m->adagrad, &m->scratch, &m->scratch2, &m->grad_sums,
                        &m->opt.eval, &m->opt.g_x, &m->opt.dir, &m->opt.g0};
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++, p += arr)
        *slots[i] = (double *)p;
    m->opt.s = (double *)p;
    p += arr * RILL_LBFGS_M;
    m->opt.y = (double *)p;
}

static void set_defaults(rill_model *m)
{
    m->learning_rate = 0.0;
    m->schedule = RILL_SCHEDULE_INVSCALING;
    m->power_t = 0.25;
    m->l2 = 0.0;
    m->l1 = 0.0;
    m->fit_intercept = 1;
    m->max_epochs = 1000.0;
    m->tol = 1e-8;
    m->batch_rows = 0.0;
    m->average = 0.0;
    m->seed = 0.0;
    m->threads = 1.0;
}

/* Checks the shape arguments and lays the model out: n_outputs weight rows, n_weights in
 * all, total bytes for the one block. */
static int shape(int loss, size_t n_features, size_t n_classes, size_t *n_outputs,
                 size_t *n_weights, size_t *total)
{
    if (loss != RILL_SQUARED && loss != RILL_LOGISTIC && loss != RILL_SOFTMAX)
        return RILL_EUNSUPPORTED;
    if (n_features == 0 || (loss == RILL_SQUARED && n_classes != 0) ||
        (loss == RILL_LOGISTIC && n_classes != 2) || (loss == RILL_SOFTMAX && n_classes < 2))
        return RILL_EINVAL;
    *n_outputs = loss == RILL_SOFTMAX ? n_classes : 1;
    return layout(n_features, *n_outputs, n_weights, total);
}

/* Makes a fresh model in buf (size bytes), or in a block from alloc when buf is NULL. */
static int model_make(rill_model **out, void *buf, size_t size, int loss, size_t n_features,
                      size_t n_classes, const rill_alloc *alloc)
{
    size_t n_outputs, n_weights, total;
    int rc = shape(loss, n_features, n_classes, &n_outputs, &n_weights, &total);
    if (rc)
        return rc;
    if (buf && size < total)
        return RILL_ERANGE;
    rill_model *m = buf ? buf : rl_alloc(alloc, total);
    if (!m)
        return RILL_ENOMEM;
    memset(m, 0, total);
    m->alloc = *alloc;
    m->alloc_size = total;
    m->loss = loss;
    m->n_features = n_features;
    m->n_classes = n_classes;
    m->n_outputs = n_outputs;
    m->n_weights = n_weights;
    set_defaults(m);
    bind_arrays(m);
    rl_opt_reset(m);
    *out = m;
    return RILL_OK;
}

int rill_model_new_alloc(rill_model **out, int loss, size_t n_features, size_t n_classes,
                         const rill_alloc *alloc)
{
    if (!out || !alloc || !alloc->alloc || !alloc->free)
        return RILL_EINVAL;
    return model_make(out, NULL, 0, loss, n_features, n_classes, alloc);
}

/* ---- the no-heap path: a model in the caller's buffer */

/* A static model's allocator: refuses every request (nothing is ever allocated for it; the
 * calls that would need memory check rl_is_static first) and frees nothing. */
static void *static_alloc(void *ctx, size_t size, size_t align)
{
    (void)ctx;
    (void)size;
    (void)align;
    return NULL;
}

static void static_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    (void)ptr;
    (void)size;
}

int rl_is_static(const rill_model *m)
{
    return m->alloc.free == static_free;
}

int rill_model_workspace_size(int loss, size_t n_features, size_t n_classes, size_t *size)
{
    size_t n_outputs, n_weights;
    return size ? shape(loss, n_features, n_classes, &n_outputs, &n_weights, size) : RILL_EINVAL;
}

int rill_model_init_static(rill_model **out, void *buf, size_t size, int loss, size_t n_features,
                           size_t n_classes)
{
    static const rill_alloc none = {static_alloc, static_free, NULL};
    if (!out || !buf || ((uintptr_t)buf & (RILL_WORKSPACE_ALIGN - 1)) != 0)
        return RILL_EINVAL;
    return model_make(out, buf, size, loss, n_features, n_classes, &none);
}

int rill_model_clone(rill_model **out, const rill_model *m)
{
    if (!out || !m)
        return RILL_EINVAL;
    if (rl_is_static(m))
        return RILL_EUNSUPPORTED;
    rill_model *c = rl_alloc(&m->alloc, m->alloc_size);
    if (!c)
        return RILL_ENOMEM;
    memcpy(c, m, m->alloc_size);
    bind_arrays(c);
    if (m->w != (const double *)((const char *)m + ((char *)c->w - (char *)c))) {
        double *t = c->w; /* a step swapped the weights with scratch2 (step.c) */
        c->w = c->scratch2;
        c->scratch2 = t;
    }
    c->busy_streams = 0;
    *out = c;
    return RILL_OK;
}

void rill_model_free(rill_model *m)
{
    if (!m)
        return;
    rill_alloc a = m->alloc;
    rl_free(&a, m, m->alloc_size);
}

/* Calls that change the model are refused while a stream holds its rows or sums. */
int rl_model_frozen(rill_model *m, const char *call)
{
    if (m->busy_streams == 0)
        return RILL_OK;
    rl_fail(m, RILL_ESTATE, call);
    size_t at = 0;
    while (m->err[at])
        at++;
    const char *tail = ": a stream holds unflushed rows or sums for this model";
    while (*tail && at + 1 < RILL_ERR_LEN)
        m->err[at++] = *tail++;
    m->err[at] = '\0';
    return RILL_ESTATE;
}

size_t rill_model_n_weights(const rill_model *m)
{
    return m ? m->n_weights : 0;
}

/* The weights predict uses: the average once averaged SGD has run, else the iterate. */
const double *rl_predict_weights(const rill_model *m)
{
    return m->average > 0.0 && m->avg_count > 0.0 ? m->w_avg : m->w;
}

int rill_model_weights(const rill_model *m, double *out, size_t len)
{
    if (!m || !out)
        return RILL_EINVAL;
    if (len < m->n_weights)
        return RILL_ERANGE;
    memcpy(out, rl_predict_weights(m), m->n_weights * sizeof(double));
    return RILL_OK;
}

int rill_model_eval_point(const rill_model *m, double *out, size_t len)
{
    if (!m || !out)
        return RILL_EINVAL;
    if (len < m->n_weights)
        return RILL_ERANGE;
    memcpy(out, rl_eval_point(m), m->n_weights * sizeof(double));
    return RILL_OK;
}

int rill_model_set_weights(rill_model *m, const double *w, size_t len)
{
    if (!m)
        return RILL_EINVAL;
    rl_clear_error(m);
    if (!w)
        return rl_fail(m, RILL_EINVAL, "rill_model_set_weights: w is NULL");
    if (len != m->n_weights)
        return rl_fail(m, RILL_EINVAL, "rill_model_set_weights: len differs from n_weights");
    int rc = rl_model_frozen(m, "rill_model_set_weights");
    if (rc)
        return rc;
    for (size_t j = 0; j < len; j++)
        if (!(w[j] - w[j] == 0.0))
            return rl_fail_at(m, RILL_EDATA, "rill_model_set_weights", "is not finite", 0, j);
    memcpy(m->w, w, len * sizeof(double));
    m->avg_count = 0.0;
    rl_opt_reset(m);
    return RILL_OK;
}

int rill_model_set_progress(rill_model *m, int (*fn)(void *user, const rill_model *m), void *user)
{
    if (!m)
        return RILL_EINVAL;
    rl_clear_error(m);
    m->progress = fn;
    m->progress_user = fn ? user : NULL;
    return RILL_OK;
}

/* Runs the progress callback; returns nonzero (and records it) when it asks to stop. */
int rl_progress(rill_model *m)
{
    if (m->progress && m->progress(m->progress_user, m)) {
        m->stat_stopped = 1;
        return 1;
    }
    return 0;
}
