/*
 * The micro-batch splitter. Rows are copied into one aligned buffer of batch_rows rows; each
 * full buffer is one micro-batch run through the shared kernels, so boundaries fall every
 * batch_rows rows of the stream however the pushes chunk it, and the results are bit-identical
 * across chunkings.
 */
#include <stdint.h>
#include <math.h>
#include <string.h>

#include "exact.h"
#include "internal.h"

struct rill_stream {
    rill_model *m;
    int mode;
    int holds;           /* counted in m->busy_streams */
    int in_buffer;       /* lives in a caller's buffer (rill_stream_init_static): never freed */
    size_t batch_rows;
    size_t buffered;     /* rows waiting in the buffer */
    size_t rows_pushed;  /* accepted rows: the stream index of the next row */
    size_t alloc_size;
    double *X;           /* batch_rows x n_features */
    double *y;           /* batch_rows */
    /* STEP: the loss summed over the steps taken (rill_fit's epochs clear it) */
    double step_loss;
    double step_rows;
    /* PASS */
    double *grad_sum;
    double loss_sum;
    double weight_sum;
    /* EXACT */
    struct rl_moments mo;
    double *batch_mean;
    double *work;        /* d x d Cholesky factor */
    double *solution;    /* d + 1 */
};

#define RL_ALIGNED(v) (((v) + 63) & ~(size_t)63)

static int stream_size(const rill_model *m, size_t batch_rows, int mode, size_t *total)
{
    const size_t d = m->n_features;
    size_t xb, bytes = RL_ALIGNED(sizeof(rill_stream)), part;
    if (rl_mul_size(batch_rows, d, &xb) || rl_mul_size(xb, sizeof(double), &part))
        return RILL_ERANGE;
    /* batch_rows * sizeof(double) <= part: n_features >= 1 */
    size_t parts[5] = {part, batch_rows * sizeof(double), 0, 0, 0};
    if (mode == RILL_STREAM_PASS) {
        parts[2] = m->n_weights * sizeof(double);
    } else if (mode == RILL_STREAM_EXACT) {
        size_t dd;
        if (rl_mul_size(d, d, &dd) || rl_mul_size(dd, sizeof(double), &parts[2]))
            return RILL_ERANGE;
        parts[3] = parts[2];                  /* work */
        parts[4] = (5 * d + 1) * sizeof(double); /* shift, mean, cxy, batch_mean, solution */
    }
    for (size_t i = 0; i < 5; i++) {
        if (parts[i] > (size_t)-1 - 64 || bytes > (size_t)-1 - RL_ALIGNED(parts[i]))
            return RILL_ERANGE;
        bytes += RL_ALIGNED(parts[i]);
    }
    *total = bytes;
    return RILL_OK;
}

static void bind(rill_stream *s)
{
    const size_t d = s->m->n_features;
    char *p = (char *)s + RL_ALIGNED(sizeof(rill_stream));
    s->X = (double *)p;
    p += RL_ALIGNED(s->batch_rows * d * sizeof(double));
    s->y = (double *)p;
    p += RL_ALIGNED(s->batch_rows * sizeof(double));
    if (s->mode == RILL_STREAM_PASS) {
        s->grad_sum = (double *)p;
    } else if (s->mode == RILL_STREAM_EXACT) {
        s->mo.C = (double *)p;
        p += RL_ALIGNED(d * d * sizeof(double));
        s->work = (double *)p;
        p += RL_ALIGNED(d * d * sizeof(double));
        s->mo.shift = (double *)p;
        s->mo.mean = s->mo.shift + d;
        s->mo.cxy = s->mo.mean + d;
        s->batch_mean = s->mo.cxy + d;
        s->solution = s->batch_mean + d;
    }
}

static void set_holds(rill_stream *s, int holds)
{
    if (holds == s->holds)
        return;
    s->holds = holds;
    if (holds)
        s->m->busy_streams++;
    else
        s->m->busy_streams--;
}

/* Lays a fresh stream out in mem (total bytes). */
static rill_stream *stream_init(void *mem, size_t total, rill_model *m, size_t batch_rows,
                                int mode, int in_buffer)
{
    rill_stream *s = mem;
    memset(s, 0, sizeof *s);
    s->m = m;
    s->mode = mode;
    s->in_buffer = in_buffer;
    s->batch_rows = batch_rows;
    s->alloc_size = total;
    bind(s);
    if (mode == RILL_STREAM_EXACT)
        rl_moments_clear(&s->mo, m->n_features);
    return s;
}

/* stream_size's refusal, for the messages */
#define RL_STREAM_SIZE_OVERFLOWS                                                               \
    "the stream's size overflows (batch_rows x n_features; EXACT: n_features squared)"

/* call: the public call that makes the stream, for the messages */
static int stream_new(rill_stream **out, rill_model *m, size_t batch_rows, int mode,
                      const char *call)
{
    size_t total;
    int rc = stream_size(m, batch_rows, mode, &total);
    if (rc)
        return rl_fail_call(m, rc, call, RL_STREAM_SIZE_OVERFLOWS);
    void *mem = rl_alloc(&m->alloc, total);
    if (!mem)
        return rl_fail_call(m, RILL_ENOMEM, call, "out of memory");
    *out = stream_init(mem, total, m, batch_rows, mode, 0);
    return RILL_OK;
}

/* The argument checks rill_stream_new and rill_stream_workspace_size share (no message). */
static int check_mode(const rill_model *m, size_t batch_rows, int mode, const char **why)
{
    if (mode != RILL_STREAM_STEP && mode != RILL_STREAM_PASS && mode != RILL_STREAM_EXACT) {
        *why = ": unknown stream mode";
        return RILL_EUNSUPPORTED;
    }
    if (batch_rows == 0) {
        *why = ": batch_rows must be at least 1";
        return RILL_EINVAL;
    }
    if (mode == RILL_STREAM_EXACT && m->loss != RILL_SQUARED) {
        *why = ": RILL_STREAM_EXACT needs RILL_SQUARED";
        return RILL_EINVAL;
    }
    return RILL_OK;
}

/* check_mode, plus the model's current parameters; the message names the call. */
static int check_new(rill_model *m, size_t batch_rows, int mode, const char *call)
{
    const char *why = "";
    int rc = check_mode(m, batch_rows, mode, &why);
    if (rc == RILL_OK && mode == RILL_STREAM_EXACT && m->l1 > 0.0) {
        why = ": RILL_STREAM_EXACT cannot take RILL_L1";
        rc = RILL_EINVAL;
    }
    if (rc) {
        rl_fail(m, rc, call);
        size_t at = 0;
        while (m->err[at])
            at++;
        while (*why && at + 1 < RILL_ERR_LEN)
            m->err[at++] = *why++;
        m->err[at] = '\0';
    }
    return rc;
}

int rill_stream_new(rill_stream **out, rill_model *m, size_t batch_rows, int mode)
{
    if (!m)
        return RILL_EINVAL;
    rl_clear_error(m);
    if (!out)
        return rl_fail(m, RILL_EINVAL, "rill_stream_new: out is NULL");
    int rc = check_new(m, batch_rows, mode, "rill_stream_new");
    if (rc)
        return rc;
    if (rl_is_static(m))
        return rl_fail(m, RILL_EUNSUPPORTED, "rill_stream_new: the model lives in a caller's "
                                             "buffer; create its streams with "
                                             "rill_stream_init_static");
    return stream_new(out, m, batch_rows, mode, "rill_stream_new");
}

int rill_stream_workspace_size(const rill_model *m, size_t batch_rows, int mode, size_t *size)
{
    if (!m || !size)
        return RILL_EINVAL;
    const char *why;
    size_t total;
    int rc = check_mode(m, batch_rows, mode, &why);
    if (rc == RILL_OK)
        rc = stream_size(m, batch_rows, mode, &total);
    if (rc)
        return rc;
    *size = total;
    return RILL_OK;
}

int rill_stream_init_static(rill_stream **out, void *buf, size_t size, rill_model *m,
                            size_t batch_rows, int mode)
{
    if (!m)
        return RILL_EINVAL;
    rl_clear_error(m);
    if (!out)
        return rl_fail(m, RILL_EINVAL, "rill_stream_init_static: out is NULL");
    if (!buf || ((uintptr_t)buf & (RILL_WORKSPACE_ALIGN - 1)) != 0)
        return rl_fail(m, RILL_EINVAL, "rill_stream_init_static: buf is NULL or not aligned "
                                       "to RILL_WORKSPACE_ALIGN bytes");
    int rc = check_new(m, batch_rows, mode, "rill_stream_init_static");
    if (rc)
        return rc;
    size_t total;
    if (stream_size(m, batch_rows, mode, &total))
        return rl_fail(m, RILL_ERANGE,
                       "rill_stream_init_static: " RL_STREAM_SIZE_OVERFLOWS);
    if (size < total)
        return rl_fail_need(m, RILL_ERANGE, "rill_stream_init_static", size, total);
    *out = stream_init(buf, total, m, batch_rows, mode, 1);
    return RILL_OK;
}

void rill_stream_free(rill_stream *s)
{
    if (!s)
        return;
    if (s->in_buffer) { /* the buffer is the caller's again: release the model, write nothing */
        if (s->holds)
            s->m->busy_streams--;
        return;
    }
    set_holds(s, 0);
    rill_alloc a = s->m->alloc;
    rl_free(&a, s, s->alloc_size);
}

/* The detail of a STEP micro-batch whose step failed (after the call's name). */
#define RL_STEP_NOT_TAKEN                                                                     \
    "a micro-batch's step gave non-finite weights or loss (or AdaGrad sums) and was not "    \
    "taken (the ones before it were)"

/* Runs one micro-batch of nb rows: the buffer, or (STEP, PASS) a whole micro-batch still in
 * the caller's array. notify: call the progress callback (not yet for a micro-batch whose rows
 * are still to be settled, see settle_lazy). */
static int run_rows(rill_stream *s, double *X, const double *y, size_t nb, int notify)
{
    rill_model *m = s->m;
    int rc = RILL_OK;
    if (s->mode == RILL_STREAM_STEP) {
        rc = rl_step(m, X, y, nb);
        if (rc == RILL_OK) { /* the step's mean loss, before it */
            s->step_loss += m->stat_loss * (double)nb;
            s->step_rows += (double)nb;
        }
    } else if (s->mode == RILL_STREAM_PASS) {
        if (s->weight_sum == 0.0) { /* a new pass: sums start fresh at the evaluation point */
            memset(s->grad_sum, 0, m->n_weights * sizeof(double));
            s->loss_sum = 0.0;
        }
        rl_kernel_sums(m, rl_eval_point(m), X, y, nb, s->grad_sum, &s->loss_sum);
        s->weight_sum += (double)nb;
    } else {
        /* centres X in place; the solve's work space (d x d) is free until the flush */
        rl_moments_add(&s->mo, X, y, nb, m->n_features, s->batch_mean, s->work);
    }
    if (rc)
        return rc;
    if (notify)
        rl_progress(m);
    return RILL_OK;
}

/* Runs the buffered micro-batch (full, or the remainder at flush). */
static int run_batch(rill_stream *s, int notify)
{
    if (s->buffered == 0)
        return RILL_OK;
    int rc = run_rows(s, s->X, s->y, s->buffered, notify);
    if (rc == RILL_OK)
        s->buffered = 0;
    return rc;
}

/* What a push may change before its first micro-batch is settled (settle_lazy). */
struct push_snapshot {
    size_t buffered;
    double weight_sum, loss_sum; /* PASS; grad_sum is saved in the model's scratch */
    int stopped;                 /* RILL_STAT_STOPPED */
};

/* After the first micro-batch of a push ran on rows [0, lazy) of X that were not checked for
 * NaN/Inf: if it failed or its loss is not finite, checks them, and on bad data puts the
 * stream, its sums and the model's flags back as they were before the push (a STEP
 * micro-batch with a non-finite loss never changes the model). On success, the progress
 * callback deferred by run_rows runs. Returns the status to report. */
static int settle_lazy(rill_stream *s, int rc, const double *X, const double *y, size_t lazy,
                       const struct push_snapshot *snap)
{
    rill_model *m = s->m;
    /* PASS: the gradient sums too (a BLAS that skips products with zero weights keeps the
     * loss finite, not r * x) */
    int finite = s->mode != RILL_STREAM_PASS ||
                 (rl_all_finite(&s->loss_sum, 1) && rl_all_finite(s->grad_sum, m->n_weights));
    if (rc == RILL_OK && finite) {
        rl_progress(m);
        return RILL_OK;
    }
    int bad = rl_check_data(m, "rill_stream_push", X, y, lazy, s->rows_pushed);
    if (bad == RILL_OK) { /* the data are fine: the micro-batch stands (a PASS flush then
                           * reports the non-finite sums) */
        if (rc == RILL_OK)
            rl_progress(m);
        return rc;
    }
    s->buffered = snap->buffered;
    if (s->mode == RILL_STREAM_PASS && snap->weight_sum > 0.0) {
        memcpy(s->grad_sum, m->scratch, m->n_weights * sizeof(double));
        s->loss_sum = snap->loss_sum;
    }
    s->weight_sum = s->mode == RILL_STREAM_PASS ? snap->weight_sum : s->weight_sum;
    m->stat_stopped = snap->stopped;
    set_holds(s, s->buffered > 0 || s->weight_sum > 0.0 || s->mo.n > 0.0);
    return bad;
}

/* Copies rows in, running each micro-batch as it fills. Rows [lazy, n_rows) are valid; rows
 * [0, lazy), the push's share of its first micro-batch, are checked only if that batch's
 * loss comes out non-finite (NaN or Inf in a row always makes it so): each row is read once. */
static int push_rows(rill_stream *s, const double *X, const double *y, size_t n_rows,
                     size_t lazy, int stopped0)
{
    const size_t d = s->m->n_features;
    const struct push_snapshot snap = {s->buffered, s->weight_sum, s->loss_sum, stopped0};
    if (lazy && s->mode == RILL_STREAM_PASS && snap.weight_sum > 0.0) /* free while sums are held */
        memcpy(s->m->scratch, s->grad_sum, s->m->n_weights * sizeof(double));
    size_t i = 0;
    int applied = 0; /* a micro-batch of this push ran */
    while (i < n_rows) {
        int rc = RILL_OK, ran = 0;
        size_t mine = 0; /* this push's rows in the micro-batch that ran */
        if (s->buffered == 0 && s->mode != RILL_STREAM_EXACT && n_rows - i >= s->batch_rows) {
            /* A whole micro-batch in the caller's rows: the same rows and count as through the
             * buffer (the same bits), without the copy. */
            set_holds(s, 1);
            rc = run_rows(s, (double *)(X + i * d), y + i, s->batch_rows, !lazy);
            i += s->batch_rows;
            ran = 1;
            mine = s->batch_rows;
        } else {
            size_t take = s->batch_rows - s->buffered;
            take = take < n_rows - i ? take : n_rows - i;
            memcpy(s->X + s->buffered * d, X + i * d, take * d * sizeof(double));
            memcpy(s->y + s->buffered, y + i, take * sizeof(double));
            s->buffered += take;
            i += take;
            set_holds(s, 1);
            if (s->buffered == s->batch_rows) {
                rc = run_batch(s, !lazy);
                ran = 1;
                mine = take;
            }
        }
        if (ran && lazy) {
            rc = settle_lazy(s, rc, X, y, lazy, &snap);
            if (rc == RILL_EDATA)
                return rc;
            lazy = 0;
        }
        if (rc) { /* the failing micro-batch is dropped; earlier ones stay applied. The row
                   * numbering goes on after the last row taken. */
            s->rows_pushed += i - mine;
            s->buffered = 0;
            set_holds(s, s->weight_sum > 0.0 || s->mo.n > 0.0);
            if (!applied) /* the model is as it was, RILL_STAT_STOPPED included */
                s->m->stat_stopped = stopped0;
            if (rc == RILL_EDIVERGED)
                rl_fail_call(s->m, rc, "rill_stream_push", RL_STEP_NOT_TAKEN);
            return rc;
        }
        applied |= ran;
        if (ran && s->m->stat_stopped) { /* the progress callback asked to stop: the push's
                                          * rows after this micro-batch are not taken */
            s->rows_pushed += i;
            set_holds(s, s->weight_sum > 0.0 || s->mo.n > 0.0);
            return RILL_OK;
        }
    }
    s->rows_pushed += n_rows;
    set_holds(s, s->buffered > 0 || s->weight_sum > 0.0 || s->mo.n > 0.0);
    return RILL_OK;
}

int rill_stream_push(rill_stream *s, const double *X, const double *y, size_t n_rows)
{
    if (!s)
        return RILL_EINVAL;
    rill_model *m = s->m;
    rl_clear_error(m);
    if (!X || !y || n_rows == 0)
        return rl_fail(m, RILL_EINVAL, "rill_stream_push: X or y is NULL, or n_rows is 0");
    if (rl_check_rows_size(n_rows, m->n_features))
        return rl_fail(m, RILL_ERANGE, "rill_stream_push: n_rows x n_features overflows");
    if (m->busy_streams > (size_t)s->holds)
        return rl_model_frozen(m, "rill_stream_push");
    if (s->mode == RILL_STREAM_EXACT && m->l1 > 0.0) /* set after rill_stream_new */
        return rl_fail(m, RILL_EINVAL, "rill_stream_push: RILL_STREAM_EXACT cannot take RILL_L1");
    /* All or nothing: every row is checked before anything runs, except (STEP, PASS) the
     * push's share of its first micro-batch, checked after that batch if needed (above). */
    const size_t d = m->n_features;
    size_t lazy = 0;
    if (s->mode != RILL_STREAM_EXACT && n_rows >= s->batch_rows - s->buffered &&
        rl_labels_ok(m, y, n_rows))
        lazy = s->batch_rows - s->buffered;
    int rc = rl_check_data(m, "rill_stream_push", X + lazy * d, y + lazy, n_rows - lazy,
                           s->rows_pushed + lazy);
    if (rc && lazy) /* a bad row before it comes first */
        rc = rl_check_data(m, "rill_stream_push", X, y, n_rows, s->rows_pushed);
    if (rc == RILL_OK && lazy && s->mode == RILL_STREAM_STEP &&
        m->schedule == RILL_SCHEDULE_OPTIMAL && !(m->l2 > 0.0)) /* data errors come first */
        rc = rl_check_data(m, "rill_stream_push", X, y, lazy, s->rows_pushed);
    if (rc)
        return rc;
    /* refused before any row is taken, even rows that would only be buffered: the model is
     * frozen while the stream holds them, and their step would be refused */
    if (s->mode == RILL_STREAM_STEP &&
        rl_check_schedule(m, "rill_stream_push: RILL_SCHEDULE_OPTIMAL needs RILL_L2 > 0"))
        return RILL_EINVAL;
    const int stopped0 = m->stat_stopped;
    m->stat_stopped = 0;
    return push_rows(s, X, y, n_rows, lazy, stopped0);
}

int rill_stream_flush(rill_stream *s)
{
    if (!s)
        return RILL_EINVAL;
    rill_model *m = s->m;
    rl_clear_error(m);
    if (m->busy_streams > (size_t)s->holds)
        return rl_model_frozen(m, "rill_stream_flush");
    /* RILL_L1 set after a refused flush released the model (a push refuses it) */
    if (s->mode == RILL_STREAM_EXACT && m->l1 > 0.0 && (s->buffered > 0 || s->mo.n > 0.0))
        return rl_fail(m, RILL_EINVAL, "rill_stream_flush: RILL_STREAM_EXACT cannot take "
                                       "RILL_L1; set it to 0 and flush again");
    /* the last call's: a push's stop is not the flush's. The callback may ask to stop after
     * the partial micro-batch: the flush still runs to its end, and the flag tells the caller
     * (rill_fit's stochastic epochs stop on it) */
    m->stat_stopped = 0;
    int rc = run_batch(s, 1);
    s->buffered = 0;
    if (rc == RILL_EDIVERGED)
        rl_fail_call(m, rc, "rill_stream_flush", RL_STEP_NOT_TAKEN);
    if (rc == RILL_OK && s->mode == RILL_STREAM_PASS && s->weight_sum > 0.0) {
        /* the pass's sums are at the current evaluation point (the model was held since the
         * pass began): sums handed out before it may be stale, these are not. A refused
         * apply leaves the flag as it was; so does a pass dropped unflushed. */
        const int stale0 = m->opt.stale;
        m->opt.stale = 0;
        rc = rl_apply(m, s->grad_sum, s->loss_sum, s->weight_sum);
        if (rc)
            m->opt.stale = stale0;
        s->weight_sum = 0.0;
    } else if (rc == RILL_OK && s->mode == RILL_STREAM_EXACT && s->mo.n > 0.0) {
        const size_t d = m->n_features;
        double obj, *sol = s->solution;
        const int solved =
            rl_moments_solve(&s->mo, d, m->l2, m->fit_intercept, m->w[d], s->work, sol, &obj);
        set_holds(s, 0);
        if (solved == RL_MOMENTS_OVERFLOW) { /* nothing can be solved from them */
            rl_moments_clear(&s->mo, d);
            return rl_fail(m, RILL_EDATA, "rill_stream_flush: the rows' moments overflow; "
                                          "weights kept, the rows since the last flush dropped");
        }
        /* Otherwise the moments are kept and the model is released: the caller may set
         * RILL_L2 and flush again without pushing the rows again. */
        if (solved == RL_MOMENTS_SINGULAR)
            return rl_fail(m, RILL_EDATA, "rill_stream_flush: the least-squares problem is "
                                          "numerically singular (collinear or constant "
                                          "features); set RILL_L2 > 0, or a larger one, and "
                                          "flush again");
        if (solved == RL_MOMENTS_SYSTEM_OVERFLOW || !rl_all_finite(sol, d + 1) ||
            !isfinite(obj))
            return rl_fail(m, RILL_EDATA, "rill_stream_flush: the solution overflows "
                                          "(features or targets too large); weights kept");
        memcpy(m->w, sol, (d + 1) * sizeof(double));
        m->avg_count = 0.0;
        m->stat_loss = obj;
        m->stat_epochs = 1.0;
        m->stat_steps += 1.0;
        m->stat_converged = 1;
        rl_opt_reset(m);
        rl_moments_clear(&s->mo, d);
    }
    set_holds(s, 0);
    return rc;
}

/* The shuffle key of the epoch that starts now: the passes over n_rows rows made so far,
 * modulo 2^64. A loaded model may count more rows than a uint64_t holds, and converting such a
 * double to an integer type is undefined. */
static uint64_t epoch_key(double rows_seen, size_t n_rows)
{
    const double two64 = 18446744073709551616.0;
    double passes = floor(rows_seen / (double)n_rows);
    if (!(passes < two64))
        /* passes mod 2^64, exactly (scaling by 2^64 is exact), without libm's fmod */
        passes = isfinite(passes) ? passes - two64 * floor(passes / two64) : 0.0;
    return (uint64_t)passes;
}

/* rill_fit with RILL_BATCH_ROWS = b: shuffled epochs of b-row steps through a STEP stream. */
int rl_fit_stochastic(rill_model *m, const double *X, const double *y, size_t n_rows)
{
    const size_t d = m->n_features;
    rill_stream *s;
    size_t b = m->batch_rows < (double)n_rows ? (size_t)m->batch_rows : n_rows;
    int rc = stream_new(&s, m, b, RILL_STREAM_STEP, "rill_fit");
    if (rc)
        return rc; /* before any change: a failed call leaves the model as it was */
    m->stat_stopped = 0;
    double best = 0.0;
    int no_improvement = 0;
    m->stat_epochs = 0.0;
    m->stat_converged = 0;
    for (double epoch = 0.0; epoch < m->max_epochs; epoch += 1.0) { /* a failure breaks */
        /* The order's key is the count of passes over n_rows rows the model has made: a fresh
         * model's epochs are 0, 1, 2, ...; a later call (or one after save and load) continues
         * that sequence instead of repeating the first call's orders. */
        struct rl_perm perm;
        rl_perm_init(&perm, n_rows, (uint64_t)m->seed, epoch_key(m->stat_rows, n_rows));
        /* the epoch's own sum: the model's lifetime sums (RILL_STAT_PROGRESSIVE_LOSS) can
         * be too large for their difference to resolve one epoch's loss */
        s->step_loss = 0.0;
        s->step_rows = 0.0;
        for (size_t i = 0; i < n_rows && rc == RILL_OK && !m->stat_stopped; i++) {
            size_t r = (size_t)rl_perm_at(&perm, i);
            rc = push_rows(s, X + r * d, y + r, 1, 0, m->stat_stopped); /* rows checked */
        }
        if (rc == RILL_OK && !m->stat_stopped)
            rc = rill_stream_flush(s);
        if (rc || m->stat_stopped)
            break;
        m->stat_epochs += 1.0;
        const double loss = s->step_loss / s->step_rows;
        if (epoch == 0.0 || m->tol == 0.0 || loss < best - m->tol * (best > 1.0 ? best : 1.0))
            no_improvement = 0;
        else if (++no_improvement >= 5)
            m->stat_converged = 1;
        best = epoch == 0.0 || loss < best ? loss : best;
        if (m->stat_converged)
            break;
    }
    rill_stream_free(s);
    if (rc == RILL_EDIVERGED)
        rl_fail(m, rc, "rill_fit: a stochastic step diverged; the weights are the last finite "
                       "step's (lower RILL_LEARNING_RATE or use 0 for automatic)");
    return rc;
}

int rill_fit(rill_model *m, const double *X, const double *y, size_t n_rows)
{
    if (!m)
        return RILL_EINVAL;
    int rc = rl_check_args_labels(m, "rill_fit", X, y, n_rows);
    if (rc)
        return rc;
    if (m->batch_rows == 0.0) /* X is checked by the first epoch (rl_fit_batch) */
        return rl_fit_batch(m, X, y, n_rows);
    rc = rl_check_data(m, "rill_fit", X, y, n_rows, 0); /* the streams take checked rows */
    if (rc)
        return rc;
    if (rl_is_static(m))
        return rl_fail(m, RILL_EUNSUPPORTED, "rill_fit: RILL_BATCH_ROWS > 0 needs a stream, and "
                                             "the model lives in a caller's buffer; run the "
                                             "epochs through rill_stream_init_static");
    if (rl_check_schedule(m, "rill_fit: RILL_SCHEDULE_OPTIMAL needs RILL_L2 > 0"))
        return RILL_EINVAL;
    return rl_fit_stochastic(m, X, y, n_rows);
}
