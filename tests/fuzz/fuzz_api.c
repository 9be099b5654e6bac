/*
 * Random sequences of API calls with random arguments on small models (up to 4 features,
 * 5 classes, 8 rows per call), two model slots and three stream slots; models and streams are
 * allocated, made through a failing caller allocator, or placed in caller buffers (the no-heap
 * path). After every call:
 *  - the status is one of the pinned codes; rill_model_error is never NULL, is "" after a
 *    successful non-const call and says something after a failed one;
 *  - every live model's weights are finite;
 *  - a failed call leaves its model's saved bytes unchanged (the one listed exception:
 *    RILL_EDIVERGED from a call that ran several steps), a const call never changes them nor
 *    the error detail;
 *  - an allocation failure injected through the caller allocator gives RILL_ENOMEM, and at
 *    the end every block the library took has been given back;
 *  - a worker model given rill_model_eval_point as its weights computes the same gradient
 *    sums as the model (the distributed driver's promise).
 * Training calls run under a progress callback with a budget, so that any RILL_MAX_EPOCHS the
 * sequence sets still ends quickly; the callback itself makes const calls on the model.
 */
#include <math.h>

#include "fzmodel.h"

#define N_MODELS 2
#define N_STREAMS 3
#define MAX_D 4
#define MAX_K 5
#define MAX_ROWS 8
#define MAX_W (MAX_K * (MAX_D + 1))
#define CALLBACK_BUDGET 48

struct slot {
    rill_model *m;
    void *buf;          /* the caller buffer of a model made by rill_model_init_static */
    double grad[MAX_W]; /* the last rill_gradient sums on this model */
    double loss;
    double rows;
};

struct sslot {
    rill_stream *s;
    void *buf;          /* rill_stream_init_static's buffer */
    int model;
};

struct state {
    struct fz f;
    struct fz_heap heap;
    rill_alloc alloc;
    struct slot models[N_MODELS];
    struct sslot streams[N_STREAMS];
    int budget;
    int trace; /* RILL_FUZZ_TRACE set: each call and its status on stderr */
};

static int on_progress(void *user, const rill_model *m)
{
    struct state *st = user;
    double v, w[MAX_W];
    FZ_CHECK(rill_model_get(m, RILL_STAT_LOSS, &v) == RILL_OK);
    FZ_CHECK(rill_model_get(m, RILL_STAT_EPOCHS, &v) == RILL_OK);
    FZ_CHECK(rill_model_n_weights(m) <= MAX_W);
    FZ_CHECK(rill_model_weights(m, w, MAX_W) == RILL_OK);
    FZ_CHECK(rill_model_error(m) != NULL);
    return --st->budget <= 0;
}

/* A data value: mostly ordinary, now and then NaN or an infinity. */
static double value(struct fz *f)
{
    unsigned k = fz_u8(f);
    if (k == 255)
        return NAN;
    if (k == 254)
        return fz_u8(f) & 1 ? INFINITY : -INFINITY;
    return fz_double(f);
}

static void info(const rill_model *m, int *loss, size_t *d, size_t *k)
{
    double v;
    FZ_CHECK(rill_model_get(m, RILL_MODEL_LOSS, &v) == RILL_OK);
    *loss = (int)v;
    FZ_CHECK(rill_model_get(m, RILL_MODEL_N_FEATURES, &v) == RILL_OK && v >= 1 && v <= MAX_D);
    *d = (size_t)v;
    FZ_CHECK(rill_model_get(m, RILL_MODEL_N_CLASSES, &v) == RILL_OK && v <= MAX_K);
    *k = (size_t)v;
}

/* Rows for m: usually valid, with an occasional bad value or label. */
static size_t rows(struct state *st, const rill_model *m, double *X, double *y)
{
    int loss;
    size_t d, k;
    info(m, &loss, &d, &k);
    size_t n = 1 + fz_pick(&st->f, MAX_ROWS);
    for (size_t i = 0; i < n * d; i++)
        X[i] = value(&st->f);
    for (size_t i = 0; i < n; i++) {
        unsigned c = fz_u8(&st->f);
        if (loss == RILL_SQUARED)
            y[i] = c < 250 ? ((double)c - 125.0) / 8.0 : value(&st->f);
        else if (c < 250)
            y[i] = (double)(c % k);
        else
            y[i] = c == 250 ? (double)k : c == 251 ? -1.0 : c == 252 ? 0.5 : value(&st->f);
    }
    return n;
}

static void free_stream(struct sslot *ss)
{
    rill_stream_free(ss->s);
    free(ss->buf);
    ss->s = NULL;
    ss->buf = NULL;
}

static void free_streams_of(struct state *st, int model)
{
    for (int i = 0; i < N_STREAMS; i++)
        if (st->streams[i].s && st->streams[i].model == model)
            free_stream(&st->streams[i]);
}

static void drop_model(struct state *st, int i)
{
    free_streams_of(st, i);
    rill_model_free(st->models[i].m);
    free(st->models[i].buf);
    memset(&st->models[i], 0, sizeof st->models[i]);
}

static void place_model(struct state *st, int i, rill_model *m, void *buf)
{
    drop_model(st, i);
    st->models[i].m = m;
    st->models[i].buf = buf;
    FZ_CHECK(rill_model_set_progress(m, on_progress, st) == RILL_OK);
}

static void check_weights(const rill_model *m)
{
    double w[MAX_W];
    size_t nw = rill_model_n_weights(m);
    FZ_CHECK(nw >= 2 && nw <= MAX_W);
    FZ_CHECK(rill_model_weights(m, w, nw) == RILL_OK);
    for (size_t j = 0; j < nw; j++)
        FZ_CHECK(isfinite(w[j]));
}

/* A worker model given the evaluation point as its weights computes the same gradient sums as
 * m (the distributed driver's promise), unless the point is not finite. */
static void check_eval_point(struct state *st, const rill_model *m, const double *e)
{
    int loss;
    size_t d, k, nw = rill_model_n_weights(m);
    double X[MAX_ROWS * MAX_D], y[MAX_ROWS], g1[MAX_W], g2[MAX_W], l1 = 0.0, l2 = 0.0, fi = 1.0;
    info(m, &loss, &d, &k);
    rill_model *worker = NULL;
    if (rill_model_new(&worker, loss, d, k) != RILL_OK)
        return;
    FZ_CHECK(rill_model_get(m, RILL_FIT_INTERCEPT, &fi) == RILL_OK);
    FZ_CHECK(rill_model_set(worker, RILL_FIT_INTERCEPT, fi) == RILL_OK);
    if (rill_model_set_weights(worker, e, nw) == RILL_OK) {
        size_t n = rows(st, m, X, y);
        int r1 = rill_gradient(m, X, y, n, g1, &l1), r2 = rill_gradient(worker, X, y, n, g2, &l2);
        FZ_CHECK(r1 == r2);
        if (r1 == RILL_OK) {
            FZ_CHECK(memcmp(g1, g2, nw * sizeof(double)) == 0);
            FZ_CHECK(memcmp(&l1, &l2, sizeof l1) == 0);
        }
    }
    rill_model_free(worker);
}

enum call_kind { CONST_CALL, ONE_STEP, MANY_STEPS };

/* What the model looked like before a call. */
struct before {
    uint8_t *blob;
    size_t size;
    char err[256];
    int failed_allocs;
};

static void snap(struct state *st, const rill_model *m, struct before *b)
{
    b->blob = fz_save(m, &b->size);
    snprintf(b->err, sizeof b->err, "%s", rill_model_error(m));
    b->failed_allocs = st->heap.failed;
}

/* The model file's stale flag (docs/format.md): a refusal with RILL_ESTATE clears it (stale
 * sums are refused once), so the blobs may differ there and in the CRC, nowhere else. */
#define BLOB_STALE 236u

static int same_but_stale(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    if (na != nb || na < BLOB_STALE + 8u)
        return 0;
    return memcmp(a, b, BLOB_STALE) == 0 &&
           memcmp(a + BLOB_STALE + 4u, b + BLOB_STALE + 4u, na - BLOB_STALE - 8u) == 0;
}

static void after(struct state *st, const rill_model *m, struct before *b, int rc,
                  enum call_kind kind)
{
    if (st->trace)
        fprintf(stderr, "  -> %d '%s'\n", rc, rill_model_error(m));
    FZ_CHECK(fz_status_ok(rc));
    const char *err = rill_model_error(m);
    FZ_CHECK(err != NULL);
    size_t size = 0;
    uint8_t *blob = NULL;
    int same = 0;
    if (kind == CONST_CALL || rc != RILL_OK) { /* (saving is most of this target's time) */
        blob = fz_save(m, &size);
        same = size == b->size && memcmp(blob, b->blob, size) == 0;
    }
    if (kind == CONST_CALL) {
        FZ_CHECK(same);
        FZ_CHECK(strcmp(err, b->err) == 0);
    } else if (rc == RILL_OK) {
        FZ_CHECK(err[0] == '\0');
    } else {
        FZ_CHECK(err[0] != '\0');
        FZ_CHECK(same || (rc == RILL_EDIVERGED && kind == MANY_STEPS) ||
                 (rc == RILL_ESTATE && same_but_stale(blob, size, b->blob, b->size)));
    }
    if (st->heap.failed != b->failed_allocs)
        FZ_CHECK(rc == RILL_ENOMEM);
    check_weights(m);
    free(blob);
    free(b->blob);
    b->blob = NULL;
}

static const int param_numbers[] = {
    RILL_LEARNING_RATE, RILL_SCHEDULE, RILL_POWER_T, RILL_L2, RILL_L1, RILL_FIT_INTERCEPT,
    RILL_MAX_EPOCHS, RILL_TOL, RILL_BATCH_ROWS, RILL_AVERAGE, RILL_SEED, RILL_STAT_EPOCHS,
    RILL_STAT_STEPS, RILL_STAT_ROWS, RILL_STAT_LOSS, RILL_STAT_CONVERGED, RILL_STAT_STOPPED,
    RILL_STAT_PROGRESSIVE_LOSS, RILL_MODEL_LOSS, RILL_MODEL_N_FEATURES, RILL_MODEL_N_CLASSES,
    RILL_THREADS, 0, 13, 99, 107, 199, 203, -1};
#define N_PARAMS (sizeof param_numbers / sizeof param_numbers[0])

static double param_value(struct fz *f)
{
    unsigned how = fz_pick(f, 4);
    if (how == 0)
        return (double)fz_pick(f, 6);
    if (how == 1)
        return (double)fz_u8(f) / 64.0;
    return value(f);
}

static void op_new(struct state *st, int slot)
{
    static const int losses[] = {RILL_SQUARED, RILL_LOGISTIC, RILL_SOFTMAX, RILL_SOFTMAX,
                                 0, 4, -1};
    int loss = losses[fz_pick(&st->f, sizeof losses / sizeof losses[0])];
    size_t d = fz_pick(&st->f, MAX_D + 1), k = fz_pick(&st->f, MAX_K + 1);
    if (fz_pick(&st->f, 4)) { /* mostly a valid class count */
        k = loss == RILL_SQUARED ? 0 : loss == RILL_LOGISTIC ? 2 : k < 2 ? 2 : k;
        d = d ? d : 1;
    }
    int valid = d >= 1 && ((loss == RILL_SQUARED && k == 0) || (loss == RILL_LOGISTIC && k == 2) ||
                           (loss == RILL_SOFTMAX && k >= 2));
    rill_model *const sentinel = (rill_model *)&sentinel;
    rill_model *m = sentinel;
    const unsigned how = fz_pick(&st->f, 4);
    const int failed = st->heap.failed;
    int rc, short_buf = 0;
    void *buf = NULL;
    if (how == 0) {
        rc = rill_model_new(&m, loss, d, k);
    } else if (how == 1) { /* in a caller buffer of exactly the size asked for, or 8 bytes less */
        size_t size = 0;
        rc = rill_model_workspace_size(loss, d, k, &size);
        if (rc == RILL_OK) {
            FZ_CHECK(size >= 64);
            short_buf = fz_pick(&st->f, 8) == 0;
            size -= short_buf ? 8 : 0;
            buf = malloc(size);
            FZ_CHECK(buf != NULL);
            rc = rill_model_init_static(&m, buf, size, loss, d, k);
            FZ_CHECK(rc == (short_buf ? RILL_ERANGE : RILL_OK));
        }
    } else {
        rc = rill_model_new_alloc(&m, loss, d, k, &st->alloc);
    }
    FZ_CHECK(fz_status_ok(rc));
    if (rc != RILL_OK) {
        free(buf);
        FZ_CHECK(m == sentinel);
        if (short_buf)
            return;
        if (loss < RILL_SQUARED || loss > RILL_SOFTMAX)
            FZ_CHECK(rc == RILL_EUNSUPPORTED || rc == RILL_EINVAL);
        else if (!valid)
            FZ_CHECK(rc == RILL_EINVAL);
        else
            FZ_CHECK(rc == RILL_ENOMEM && st->heap.failed != failed);
        return;
    }
    FZ_CHECK(valid);
    FZ_CHECK(rill_model_error(m)[0] == '\0');
    place_model(st, slot, m, buf);
}

static void op_load_or_clone(struct state *st, int from, int to, int clone)
{
    rill_model *src = st->models[from].m, *const sentinel = (rill_model *)&sentinel;
    rill_model *m = sentinel;
    int failed = st->heap.failed, rc;
    size_t size;
    uint8_t *blob = fz_save(src, &size);
    if (clone) {
        struct before b;
        snap(st, src, &b);
        rc = rill_model_clone(&m, src);
        after(st, src, &b, rc, CONST_CALL);
    } else if (fz_pick(&st->f, 2)) {
        rc = rill_model_load_alloc(&m, blob, size, &st->alloc);
    } else {
        rc = rill_model_load(&m, blob, size);
    }
    FZ_CHECK(fz_status_ok(rc));
    if (rc != RILL_OK) {
        FZ_CHECK(m == sentinel);
        FZ_CHECK((rc == RILL_ENOMEM && st->heap.failed != failed) ||
                 (rc == RILL_EUNSUPPORTED && clone && st->models[from].buf));
        free(blob);
        return;
    }
    size_t size2;
    uint8_t *blob2 = fz_save(m, &size2);
    FZ_CHECK(size == size2 && memcmp(blob, blob2, size) == 0);
    fz_check_same_params(src, m);
    free(blob);
    free(blob2);
    place_model(st, to, m, NULL); /* may replace the source: its streams go first */
}

static void op_stream_new(struct state *st, int mi, int si)
{
    static const int modes[] = {RILL_STREAM_STEP, RILL_STREAM_PASS, RILL_STREAM_EXACT, 0, 4};
    rill_model *m = st->models[mi].m;
    free_stream(&st->streams[si]);
    size_t batch = fz_pick(&st->f, 5), size = 0;
    int mode = modes[fz_pick(&st->f, sizeof modes / sizeof modes[0])];
    rill_stream *const sentinel = (rill_stream *)&sentinel;
    rill_stream *s = sentinel;
    void *buf = NULL;
    struct before b;
    int rc;
    if (fz_pick(&st->f, 3) == 0) { /* in a caller buffer */
        rc = rill_stream_workspace_size(m, batch, mode, &size);
        FZ_CHECK(fz_status_ok(rc));
        if (rc != RILL_OK)
            FZ_CHECK(batch == 0 || mode < RILL_STREAM_STEP || mode > RILL_STREAM_EXACT ||
                     mode == RILL_STREAM_EXACT);
        size = rc == RILL_OK ? size - (fz_pick(&st->f, 8) == 0 ? 8 : 0) : 64;
        buf = malloc(size);
        FZ_CHECK(buf != NULL);
        snap(st, m, &b);
        rc = rill_stream_init_static(&s, buf, size, m, batch, mode);
    } else {
        snap(st, m, &b);
        rc = rill_stream_new(&s, m, batch, mode);
    }
    after(st, m, &b, rc, ONE_STEP);
    if (rc != RILL_OK) {
        free(buf);
        FZ_CHECK(s == sentinel);
        if (mode < RILL_STREAM_STEP || mode > RILL_STREAM_EXACT)
            FZ_CHECK(rc == RILL_EUNSUPPORTED);
        return;
    }
    FZ_CHECK(batch >= 1 && s != sentinel && s != NULL);
    st->streams[si].s = s;
    st->streams[si].buf = buf;
    st->streams[si].model = mi;
}

/* Runs one call chosen by the input. */
static void step_once(struct state *st)
{
    struct fz *f = &st->f;
    const unsigned op = fz_pick(f, 21);
    const int mi = (int)fz_pick(f, N_MODELS);
    struct slot *sl = &st->models[mi];
    rill_model *m = sl->m;
    double X[MAX_ROWS * MAX_D], y[MAX_ROWS], out[MAX_ROWS * MAX_K], w[MAX_W + 1];
    struct before b;
    int rc;

    if (st->trace)
        fprintf(stderr, "call %u on model slot %d%s\n", op, mi, m ? "" : " (empty)");
    if (op == 0 || (!m && op != 18 && op != 20)) {
        op_new(st, mi);
        return;
    }
    st->budget = CALLBACK_BUDGET;
    switch (op) {
    case 1: { /* set */
        int p = param_numbers[fz_pick(f, N_PARAMS)];
        double v = param_value(f), lo, hi, got;
        snap(st, m, &b);
        rc = rill_model_set(m, p, v);
        after(st, m, &b, rc, ONE_STEP);
        if (rc == RILL_OK) {
            FZ_CHECK(rill_param_bounds(p, &lo, &hi) == RILL_OK && v >= lo && v <= hi);
            FZ_CHECK(rill_model_get(m, p, &got) == RILL_OK && got == v);
        }
        if (rill_param_bounds(p, NULL, NULL) != RILL_OK)
            FZ_CHECK(rc == RILL_EUNSUPPORTED);
        break;
    }
    case 2: { /* get */
        int p = param_numbers[fz_pick(f, N_PARAMS)];
        double v = 0.0, lo, hi;
        snap(st, m, &b);
        rc = rill_model_get(m, p, &v);
        after(st, m, &b, rc, CONST_CALL);
        if (rill_param_bounds(p, &lo, &hi) != RILL_OK)
            FZ_CHECK(rc == RILL_EUNSUPPORTED);
        else if (p != RILL_STAT_LOSS && p != RILL_STAT_PROGRESSIVE_LOSS)
            FZ_CHECK(rc == RILL_OK && v >= lo && v <= hi);
        break;
    }
    case 3:   /* fit */
    case 4: { /* step */
        size_t n = rows(st, m, X, y);
        snap(st, m, &b);
        rc = op == 3 ? rill_fit(m, X, y, n) : rill_step(m, X, y, n);
        after(st, m, &b, rc, op == 3 ? MANY_STEPS : ONE_STEP);
        break;
    }
    case 5: { /* gradient */
        size_t n = rows(st, m, X, y);
        snap(st, m, &b);
        rc = rill_gradient(m, X, y, n, fz_pick(f, 4) ? sl->grad : NULL, &sl->loss);
        after(st, m, &b, rc, CONST_CALL);
        sl->rows = (double)n;
        break;
    }
    case 6: { /* apply_gradient: the last sums, or made-up ones */
        double ws = sl->rows, loss = sl->loss;
        if (fz_pick(f, 4) == 0) {
            for (size_t j = 0; j < MAX_W; j++)
                sl->grad[j] = value(f);
            loss = value(f);
            ws = value(f);
        }
        snap(st, m, &b);
        rc = rill_apply_gradient(m, sl->grad, loss, ws);
        after(st, m, &b, rc, MANY_STEPS);
        if (!(ws > 0.0) || !isfinite(ws))
            FZ_CHECK(rc == RILL_EINVAL || rc == RILL_ESTATE);
        break;
    }
    case 7:   /* predict */
    case 8: { /* classify */
        size_t n = rows(st, m, X, y);
        snap(st, m, &b);
        rc = op == 7 ? rill_predict(m, X, n, out) : rill_classify(m, X, n, out);
        after(st, m, &b, rc, CONST_CALL);
        break;
    }
    case 9:
        op_stream_new(st, mi, (int)fz_pick(f, N_STREAMS));
        break;
    case 10:   /* push */
    case 11: { /* flush */
        struct sslot *ss = &st->streams[fz_pick(f, N_STREAMS)];
        if (!ss->s)
            break;
        rill_model *sm = st->models[ss->model].m;
        size_t n = rows(st, sm, X, y);
        if (op == 10 && fz_pick(f, 16) == 0)
            n = 0;
        snap(st, sm, &b);
        rc = op == 10 ? rill_stream_push(ss->s, X, y, n) : rill_stream_flush(ss->s);
        after(st, sm, &b, rc, MANY_STEPS);
        break;
    }
    case 12: { /* stream_free */
        free_stream(&st->streams[fz_pick(f, N_STREAMS)]);
        break;
    }
    case 13: /* save + load into a slot */
        op_load_or_clone(st, mi, (int)fz_pick(f, N_MODELS), 0);
        break;
    case 14: /* clone into a slot */
        op_load_or_clone(st, mi, (int)fz_pick(f, N_MODELS), 1);
        break;
    case 15: { /* set_weights */
        size_t nw = rill_model_n_weights(m), len = nw;
        unsigned how = fz_pick(f, 8);
        len = how == 0 ? nw - 1 : how == 1 ? nw + 1 : nw;
        for (size_t j = 0; j < len; j++)
            w[j] = how == 2 ? value(f) : fz_double(f);
        snap(st, m, &b);
        rc = rill_model_set_weights(m, w, len);
        after(st, m, &b, rc, ONE_STEP);
        if (len != nw)
            FZ_CHECK(rc == RILL_EINVAL);
        if (rc == RILL_OK) {
            double got[MAX_W];
            FZ_CHECK(rill_model_weights(m, got, nw) == RILL_OK);
            FZ_CHECK(memcmp(got, w, nw * sizeof(double)) == 0);
        }
        break;
    }
    case 16: { /* weights or the evaluation point, into a short or exact buffer */
        size_t nw = rill_model_n_weights(m), len = nw - fz_pick(f, 2);
        const int eval = fz_pick(f, 2);
        snap(st, m, &b);
        rc = eval ? rill_model_eval_point(m, w, len) : rill_model_weights(m, w, len);
        after(st, m, &b, rc, CONST_CALL);
        FZ_CHECK(rc == (len == nw ? RILL_OK : RILL_ERANGE));
        if (eval && rc == RILL_OK)
            check_eval_point(st, m, w);
        break;
    }
    case 17:
        drop_model(st, mi);
        break;
    case 18: /* the next allocation, or the one after, fails */
        st->heap.fail_after = 1 + (int)fz_pick(f, 3);
        break;
    case 19: { /* progress callback removed (bounded epochs), or put back */
        if (fz_pick(f, 2)) {
            FZ_CHECK(rill_model_set(m, RILL_MAX_EPOCHS, 1.0 + fz_pick(f, 8)) == RILL_OK ||
                     rill_model_error(m)[0] != '\0');
            double e = 0.0;
            FZ_CHECK(rill_model_get(m, RILL_MAX_EPOCHS, &e) == RILL_OK);
            if (e <= 8.0) {
                FZ_CHECK(rill_model_set_progress(m, NULL, NULL) == RILL_OK);
                size_t n = rows(st, m, X, y);
                snap(st, m, &b);
                rc = rill_fit(m, X, y, n);
                after(st, m, &b, rc, MANY_STEPS);
            }
        }
        FZ_CHECK(rill_model_set_progress(m, on_progress, st) == RILL_OK);
        break;
    }
    case 20: /* NULL arguments, versions, status names */
        FZ_CHECK(rill_model_n_weights(NULL) == 0 && rill_model_error(NULL) != NULL);
        FZ_CHECK(rill_version() == ((unsigned)RILL_VERSION_MAJOR << 16 |
                                    (unsigned)RILL_VERSION_MINOR << 8 | RILL_VERSION_PATCH));
        FZ_CHECK(rill_version_string() != NULL);
        FZ_CHECK(rill_strerror((int)fz_u8(f) - 128) != NULL);
        FZ_CHECK(rill_model_set(NULL, RILL_L2, 0.0) == RILL_EINVAL);
        FZ_CHECK(rill_model_save(NULL, NULL, 0, &(size_t){0}) == RILL_EINVAL);
        FZ_CHECK(rill_stream_push(NULL, X, y, 1) == RILL_EINVAL);
        rill_model_free(NULL);
        rill_stream_free(NULL);
        if (m) {
            snap(st, m, &b);
            rc = rill_fit(m, NULL, y, 1);
            after(st, m, &b, rc, ONE_STEP);
            FZ_CHECK(rc == RILL_EINVAL);
        }
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state *st = calloc(1, sizeof *st);
    FZ_CHECK(st != NULL);
    st->f.p = data;
    st->f.left = size;
    st->alloc.alloc = fz_alloc;
    st->alloc.free = fz_free;
    st->alloc.ctx = &st->heap;
    st->trace = getenv("RILL_FUZZ_TRACE") != NULL;
    for (int calls = 0; st->f.left > 0 && calls < 64; calls++)
        step_once(st);
    for (int i = 0; i < N_MODELS; i++)
        drop_model(st, i);
    FZ_CHECK(st->heap.live == 0);
    free(st);
    return 0;
}
