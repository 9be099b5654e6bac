/*
 * Model files (format version 2, and reading version 1; the byte layout is documented in
 * docs/format.md).
 *
 * A blob is the model's whole persistent state: configuration, statistics, weights, the
 * averaged iterate, the AdaGrad sums and the batch optimizer's memory, so that training
 * resumed after rill_model_load runs exactly as if it had not been interrupted. Not saved:
 * the progress callback, the allocator, the busy-stream count, the error detail and the
 * scratch buffers.
 *
 * Every field is written byte by byte, little-endian; doubles are their IEEE-754 binary64
 * bit patterns (memcpy to uint64_t, then shifts). No struct is ever dumped, so every host
 * writes the same bytes. A CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) over all
 * bytes before it ends the blob.
 *
 * The loader checks, in order: the length against the fixed header, the magic, the format
 * version, the total-size field against the length, then the CRC; only after that does it
 * read any other field, and it still validates every one of them (loss, dimensions with
 * overflow checks, the size they imply, parameter ranges, flags, ring indices) before using
 * it. The model is made by rill_model_new_alloc with the caller's allocator; on any failure it
 * is freed and *out is left untouched.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define BLOB_VERSION 2u
#define BLOB_HEADER 56u  /* magic .. n_weights */
#define BLOB_SCALARS 224u /* configuration, statistics, optimizer scalars: bytes 56 .. 280 */
/* n_weights-long arrays: w, w_avg, adagrad, eval, g_x, dir, s and y (M arrays each), and from
 * version 2 on g0 */
#define BLOB_ARRAYS(version) (6u + 2u * (uint64_t)RILL_LBFGS_M + ((version) >= 2u))

static const unsigned char blob_magic[8] = {0x89, 'R', 'I', 'L', 'L', 0x0D, 0x0A, 0x1A};

/* CRC-32, reflected 0xEDB88320, four bits at a time from a constant table. */
static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    static const uint32_t nibble[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        c = (c >> 4) ^ nibble[c & 15u];
        c = (c >> 4) ^ nibble[c & 15u];
    }
    return c ^ 0xFFFFFFFFu;
}

/* Total blob bytes of a format version for n_weights weights: header, scalars, rho (M), the
 * arrays, CRC. Returns 0 on overflow (of uint64_t or of size_t). */
static int blob_bytes(uint32_t version, uint64_t n_weights, size_t *out)
{
    const uint64_t arrays = BLOB_ARRAYS(version);
    const uint64_t fixed = BLOB_HEADER + BLOB_SCALARS + 8u * (uint64_t)RILL_LBFGS_M + 4u;
    if (n_weights > (UINT64_MAX - fixed) / 8u / arrays)
        return 0;
    uint64_t total = fixed + 8u * arrays * n_weights;
    if (total > (uint64_t)SIZE_MAX)
        return 0;
    *out = (size_t)total;
    return 1;
}

/* ---------------------------------------------------------------- writing */

static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 8;
}

static unsigned char *put_f64(unsigned char *p, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return put_u64(p, bits);
}

static unsigned char *put_int(unsigned char *p, int v)
{
    return put_u32(p, (uint32_t)v); /* every saved int is in [0, INT_MAX] */
}

static unsigned char *put_array(unsigned char *p, const double *v, size_t n)
{
    for (size_t j = 0; j < n; j++)
        p = put_f64(p, v[j]);
    return p;
}

int rill_model_save(const rill_model *m, void *buf, size_t cap, size_t *size)
{
    if (!m || !size)
        return RILL_EINVAL;
    size_t need;
    if (!blob_bytes(BLOB_VERSION, (uint64_t)m->n_weights, &need))
        return RILL_ERANGE;
    if (!buf) {
        if (cap != 0)
            return RILL_EINVAL;
        *size = need;
        return RILL_OK;
    }
    if (cap < need) {
        *size = need;
        return RILL_ERANGE;
    }
    const struct rl_opt *o = &m->opt;
    const size_t nw = m->n_weights;
    unsigned char *const start = buf, *p = start;

    /* header */
    memcpy(p, blob_magic, sizeof blob_magic);
    p += sizeof blob_magic;
    p = put_u32(p, BLOB_VERSION);
    p = put_u32(p, BLOB_HEADER);
    p = put_u64(p, (uint64_t)need);
    p = put_u32(p, RILL_LBFGS_M);
    p = put_u32(p, (uint32_t)m->loss);
    p = put_u64(p, (uint64_t)m->n_features);
    p = put_u64(p, (uint64_t)m->n_classes);
    p = put_u64(p, (uint64_t)nw);

    /* configuration */
    p = put_f64(p, m->learning_rate);
    p = put_int(p, m->schedule);
    p = put_int(p, m->fit_intercept);
    p = put_f64(p, m->power_t);
    p = put_f64(p, m->l2);
    p = put_f64(p, m->l1);
    p = put_f64(p, m->max_epochs);
    p = put_f64(p, m->tol);
    p = put_f64(p, m->batch_rows);
    p = put_f64(p, m->average);
    p = put_f64(p, m->seed);

    /* statistics */
    p = put_f64(p, m->stat_epochs);
    p = put_f64(p, m->stat_steps);
    p = put_f64(p, m->stat_rows);
    p = put_f64(p, m->stat_loss);
    p = put_int(p, m->stat_converged);
    p = put_int(p, m->stat_stopped);
    p = put_f64(p, m->prog_loss_sum);
    p = put_f64(p, m->prog_rows);
    p = put_f64(p, m->avg_count);

    /* batch optimizer scalars */
    p = put_int(p, o->phase);
    p = put_int(p, o->n_pairs);
    p = put_int(p, o->next_pair);
    p = put_int(p, o->n_backtracks);
    p = put_int(p, o->restarted);
    p = put_int(p, o->applied);
    p = put_int(p, o->converged);
    p = put_int(p, o->stalled);
    p = put_int(p, o->has_prev);
    p = put_int(p, o->stale);
    p = put_f64(p, o->f_x);
    p = put_f64(p, o->f_smooth_x);
    p = put_f64(p, o->alpha);
    p = put_f64(p, o->dir_deriv);
    p = put_f64(p, o->g0_norm);
    p = put_array(p, o->rho, RILL_LBFGS_M);

    /* arrays */
    p = put_array(p, m->w, nw);
    p = put_array(p, m->w_avg, nw);
    p = put_array(p, m->adagrad, nw);
    p = put_array(p, o->eval, nw);
    p = put_array(p, o->g_x, nw);
    p = put_array(p, o->dir, nw);
    p = put_array(p, o->s, nw * RILL_LBFGS_M);
    p = put_array(p, o->y, nw * RILL_LBFGS_M);
    p = put_array(p, o->g0, nw); /* version 2 */

    p = put_u32(p, crc32_ieee(start, (size_t)(p - start)));
    *size = need;
    return RILL_OK;
}

/* ---------------------------------------------------------------- reading */

/* A cursor that never reads past the end; running out marks it bad. */
struct reader {
    const unsigned char *p;
    size_t left;
    int bad;
};

static uint64_t get_bytes(struct reader *r, unsigned n)
{
    uint64_t v = 0;
    /* Defence in depth: step 3 of the loader makes the blob exactly as long as the fields it
     * reads, so this cannot run short (and coverage cannot reach it). */
    if (r->left < n) { /* GCOVR_EXCL_START */
        r->bad = 1;
        r->left = 0;
        return 0;
    } /* GCOVR_EXCL_STOP */
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    r->left -= n;
    return v;
}

static uint32_t get_u32(struct reader *r)
{
    return (uint32_t)get_bytes(r, 4);
}

static uint64_t get_u64(struct reader *r)
{
    return get_bytes(r, 8);
}

static double get_f64(struct reader *r)
{
    uint64_t bits = get_u64(r);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* An int field in [lo, hi]. */
static int get_int(struct reader *r, int lo, int hi)
{
    uint32_t v = get_u32(r);
    if (v > (uint32_t)INT_MAX || (int)v < lo || (int)v > hi) {
        r->bad = 1;
        return lo;
    }
    return (int)v;
}

/* A parameter value, held to rill_param_bounds (and integral where the parameter is). */
static double get_param(struct reader *r, int param, int integral)
{
    double v = get_f64(r), lo = 0.0, hi = 0.0;
    rill_param_bounds(param, &lo, &hi); /* param is one of the settable ones: always known */
    if (!(v >= lo && v <= hi) || (integral && v != floor(v)))
        r->bad = 1;
    return v;
}

/* A count: finite and >= 0. */
static double get_count(struct reader *r)
{
    double v = get_f64(r);
    if (!(v >= 0.0 && v - v == 0.0))
        r->bad = 1;
    return v;
}

/* Any value but NaN. */
static double get_number(struct reader *r)
{
    double v = get_f64(r);
    if (v != v)
        r->bad = 1;
    return v;
}

/* n doubles; check: 0 = any bit pattern, 1 = finite, 2 = >= 0 (+inf allowed). */
static void get_array(struct reader *r, double *v, size_t n, int check)
{
    for (size_t j = 0; j < n; j++) {
        double x = get_f64(r);
        if ((check == 1 && !(x - x == 0.0)) || (check == 2 && !(x >= 0.0)))
            r->bad = 1;
        v[j] = x;
    }
}

int rill_model_load_alloc(rill_model **out, const void *buf, size_t size, const rill_alloc *alloc)
{
    if (!out || !buf || !alloc || !alloc->alloc || !alloc->free)
        return RILL_EINVAL;
    const unsigned char *const b = buf;

    /* 1. Length, magic, version, total size: the fields every version keeps in place. */
    if (size < BLOB_HEADER + 4u || memcmp(b, blob_magic, sizeof blob_magic) != 0)
        return RILL_EFORMAT;
    struct reader r = {b + sizeof blob_magic, size - sizeof blob_magic, 0};
    uint32_t version = get_u32(&r);
    uint32_t header = get_u32(&r);
    uint64_t total = get_u64(&r);
    if (version < 1u || version > BLOB_VERSION || header != BLOB_HEADER || total != (uint64_t)size)
        return RILL_EFORMAT;

    /* 2. The checksum, before any other field is trusted. */
    if (crc32_ieee(b, size - 4u) !=
        ((uint32_t)b[size - 4] | (uint32_t)b[size - 3] << 8 | (uint32_t)b[size - 2] << 16 |
         (uint32_t)b[size - 1] << 24))
        return RILL_EFORMAT;

    /* 3. Dimensions: consistent, no overflow, and exactly the size of this blob. */
    uint32_t lbfgs_m = get_u32(&r);
    uint32_t loss = get_u32(&r);
    uint64_t n_features = get_u64(&r), n_classes = get_u64(&r), n_weights = get_u64(&r);
    if (lbfgs_m != RILL_LBFGS_M || loss < RILL_SQUARED || loss > RILL_SOFTMAX ||
        n_features == 0 || n_features >= (uint64_t)SIZE_MAX || n_classes > (uint64_t)SIZE_MAX ||
        (loss == RILL_SQUARED && n_classes != 0) || (loss == RILL_LOGISTIC && n_classes != 2) ||
        (loss == RILL_SOFTMAX && n_classes < 2))
        return RILL_EFORMAT;
    uint64_t n_outputs = loss == RILL_SOFTMAX ? n_classes : 1;
    size_t expect;
    if (n_features + 1 > UINT64_MAX / n_outputs || n_weights != n_outputs * (n_features + 1) ||
        !blob_bytes(version, n_weights, &expect) || expect != size)
        return RILL_EFORMAT;

    /* 4. The model, through the caller's allocator. The shape is valid (step 3), so this can
     * only fail with RILL_ENOMEM (or RILL_ERANGE, for a blob within a few percent of the
     * address space); the model has n_weights weights, as computed above. */
    rill_model *m = NULL;
    int rc = rill_model_new_alloc(&m, (int)loss, (size_t)n_features, (size_t)n_classes, alloc);
    if (rc)
        return rc;
    const size_t nw = m->n_weights;
    struct rl_opt *o = &m->opt;

    /* configuration */
    m->learning_rate = get_param(&r, RILL_LEARNING_RATE, 0);
    m->schedule = get_int(&r, RILL_SCHEDULE_CONSTANT, RILL_SCHEDULE_ADAGRAD);
    m->fit_intercept = get_int(&r, 0, 1);
    m->power_t = get_param(&r, RILL_POWER_T, 0);
    m->l2 = get_param(&r, RILL_L2, 0);
    m->l1 = get_param(&r, RILL_L1, 0);
    m->max_epochs = get_param(&r, RILL_MAX_EPOCHS, 1);
    m->tol = get_param(&r, RILL_TOL, 0);
    m->batch_rows = get_param(&r, RILL_BATCH_ROWS, 1);
    m->average = get_param(&r, RILL_AVERAGE, 1);
    m->seed = get_param(&r, RILL_SEED, 1);

    /* statistics */
    m->stat_epochs = get_count(&r);
    m->stat_steps = get_count(&r);
    m->stat_rows = get_count(&r);
    m->stat_loss = get_number(&r);
    m->stat_converged = get_int(&r, 0, 1);
    m->stat_stopped = get_int(&r, 0, 1);
    m->prog_loss_sum = get_number(&r);
    m->prog_rows = get_count(&r);
    m->avg_count = get_count(&r);

    /* batch optimizer scalars */
    o->phase = get_int(&r, OPT_FRESH, OPT_SEARCH);
    o->n_pairs = get_int(&r, 0, RILL_LBFGS_M);
    o->next_pair = get_int(&r, 0, RILL_LBFGS_M - 1);
    o->n_backtracks = get_int(&r, 0, RL_MAX_BACKTRACKS + 1); /* + 1: a stalled search */
    o->restarted = get_int(&r, 0, 1);
    o->applied = get_int(&r, 0, 1);
    o->converged = get_int(&r, 0, 1);
    o->stalled = get_int(&r, 0, 1);
    o->has_prev = get_int(&r, 0, 1);
    o->stale = get_int(&r, 0, 1); /* was a reserved 0: older files read as not stale */
    o->f_x = get_f64(&r);
    o->f_smooth_x = get_f64(&r);
    o->alpha = get_f64(&r);
    o->dir_deriv = get_f64(&r);
    o->g0_norm = get_f64(&r);
    get_array(&r, o->rho, RILL_LBFGS_M, 0);

    /* arrays: the weights are finite (as set_weights and every step keep them); the AdaGrad
     * sums are >= 0; the optimizer's work arrays may hold anything it left there, except the
     * previous point of the fixed-step mode (has_prev), which a divergence makes the weights */
    get_array(&r, m->w, nw, 1);
    get_array(&r, m->w_avg, nw, 1);
    get_array(&r, m->adagrad, nw, 2);
    get_array(&r, o->eval, nw, 0);
    get_array(&r, o->g_x, nw, 0);
    get_array(&r, o->dir, nw, o->has_prev); /* with has_prev, the point a divergence restores */
    get_array(&r, o->s, nw * RILL_LBFGS_M, 0);
    get_array(&r, o->y, nw * RILL_LBFGS_M, 0);
    if (version >= 2u) {
        get_array(&r, o->g0, nw, 0);
    } else { /* version 1 kept one first gradient norm for all weights: the same test */
        for (size_t j = 0; j < nw; j++)
            o->g0[j] = o->g0_norm;
    }

    if (r.left != 4u) /* GCOVR_EXCL_LINE defence in depth: step 3 fixed the length */
        r.bad = 1;    /* GCOVR_EXCL_LINE */
    if (r.bad) {
        rill_model_free(m);
        return RILL_EFORMAT;
    }
    m->err[0] = '\0';
    *out = m;
    return RILL_OK;
}
