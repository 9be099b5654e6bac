/* Internal declarations shared by the library's files. Nothing here is exported. */
#ifndef RILL_INTERNAL_H
#define RILL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "rill.h"

#define RILL_HIDDEN __attribute__((visibility("hidden")))

/* The kernels' fixed row block: gradient sums are added block by block in row order. */
#define RILL_BLOCK_ROWS 64
/* L-BFGS memory (pairs kept). */
#define RILL_LBFGS_M 40
#define RILL_ERR_LEN 160

/* Batch optimizer phases. */
enum opt_phase {
    OPT_FRESH = 0,  /* no memory: the evaluation point is the accepted weights */
    OPT_SEARCH = 1  /* the evaluation point is a trial point x + alpha d */
};

/* Backtracks of one line search before its memory is dropped (or, after a restart, the
 * search stalls); a saved model's count is at most one more. */
#define RL_MAX_BACKTRACKS 40

/* The batch optimizer's memory: L-BFGS / OWL-QN with a backtracking line search. */
struct rl_opt {
    int phase;
    int stale;          /* the model changed after the evaluation point was handed out */
    int n_pairs;        /* stored (s, y) pairs */
    int next_pair;      /* ring index of the next pair to write */
    int n_backtracks;   /* backtracks of the current line search */
    int restarted;      /* the current direction is steepest descent after a memory reset */
    int applied;        /* an apply ran since the last reset: a change now makes sums stale */
    int converged;      /* the accepted point meets RILL_TOL */
    int stalled;        /* the line search cannot make progress (numerical floor) */
    int has_prev;       /* fixed-step mode: dir holds the previous point (finite objective) */
    double f_x;         /* full objective at the accepted point */
    double f_smooth_x;  /* smooth part (loss + l2) at the accepted point */
    double alpha;       /* step of the current trial along d */
    double dir_deriv;   /* directional derivative of the objective along d at x */
    double g0_norm;     /* ||projected gradient||_inf at the first evaluation since reset; -1:
                         * not yet measured (g0 then holds nothing) */
    double *g0;         /* |projected gradient| of each weight at that evaluation (n_w) */
    double *eval;       /* evaluation point (n_w) */
    double *g_x;        /* smooth gradient at the accepted point */
    double *dir;        /* search direction */
    double *s;          /* RILL_LBFGS_M pairs, n_w each */
    double *y;
    double *rho;        /* RILL_LBFGS_M */
};

struct rill_model {
    rill_alloc alloc;
    size_t alloc_size; /* the one block holding the model and its arrays */
    int loss;
    size_t n_features;
    size_t n_classes;
    size_t n_outputs;
    size_t n_weights;

    /* parameters */
    double learning_rate;
    int schedule;
    double power_t;
    double l2;
    double l1;
    int fit_intercept;
    double max_epochs;
    double tol;
    double batch_rows;
    double average;
    double seed;
    double threads; /* RILL_THREADS: row parts of rill_gradient and batch-fit (parts.c) */

    /* statistics */
    double stat_epochs;
    double stat_steps;
    double stat_rows;
    double stat_loss;
    int stat_converged;
    int stat_stopped;
    double prog_loss_sum;
    double prog_rows;

    /* weights */
    double *w;         /* accepted weights / the SGD iterate */
    double *w_avg;     /* averaged iterate */
    double avg_count;  /* steps averaged into w_avg; 0 = predict uses w */
    double *adagrad;   /* per-weight sums of squared gradients */
    double *scratch;   /* n_weights: step gradients, trial points */
    double *scratch2;  /* n_weights */
    double *grad_sums;    /* n_weights: rill_fit's gradient sums */
    struct rl_opt opt;

    int (*progress)(void *user, const rill_model *m);
    void *progress_user;
    size_t busy_streams; /* streams holding rows or sums */
    char err[RILL_ERR_LEN];
};

/* ---- errors (error.c) */
int rl_fail(rill_model *m, int status, const char *what);
/* "<call>: <what>" */
int rl_fail_call(rill_model *m, int status, const char *call, const char *what);
int rl_fail_param(rill_model *m, int status, const char *name, const char *what);
int rl_fail_at(rill_model *m, int status, const char *call, const char *what, size_t row,
                  size_t col);
void rl_clear_error(rill_model *m);
/* "<call>: the buffer holds HAVE bytes, NEED are needed" */
int rl_fail_need(rill_model *m, int status, const char *call, size_t have, size_t need);

/* ---- validation (validate.c) */
/* Checks X for NaN/Inf and y for the loss's label set. Returns 0 when valid; otherwise the
 * status, with the offending row in *bad_row and column in *bad_col (n_features for y). */
int rl_validate(const rill_model *m, const double *X, const double *y, size_t n_rows,
                   size_t *bad_row, size_t *bad_col, const char **why);
int rl_check_data(rill_model *m, const char *call, const double *X, const double *y,
                     size_t n_rows, size_t row_offset);
int rl_all_finite(const double *v, size_t n);
/* 1 when every target or label in y is valid for the loss (X is not looked at). */
int rl_labels_ok(const rill_model *m, const double *y, size_t n_rows);

/* ---- memory (model.c) */
void *rl_alloc(const rill_alloc *a, size_t size);
void rl_free(const rill_alloc *a, void *p, size_t size);
int rl_mul_size(size_t a, size_t b, size_t *out);
/* The model lives in a caller's buffer (rill_model_init_static): nothing may be allocated for it. */
int rl_is_static(const rill_model *m);
/* RILL_ERANGE unless an array of n_rows x width doubles can exist (its byte size fits size_t). */
int rl_check_rows_size(size_t n_rows, size_t width);
const double *rl_predict_weights(const rill_model *m);
int rl_progress(rill_model *m);

/* ---- kernels (kernels.c) */
/* Adds to *loss_sum and grad_sum (may be NULL) the loss and gradient sums of n rows at the
 * weights w, in the canonical order (see kernels.c). */
void rl_kernel_sums(const rill_model *m, const double *w, const double *X, const double *y,
                    size_t n, double *grad_sum, double *loss_sum);
/* rl_kernel_sums for the rows of one stochastic step: below RILL_BLOCK_ROWS rows always the
 * portable kernel (CBLAS's set-up costs more than a few rows' sums). A step's rows are one
 * call, so no chunking of them has to give the same bits. */
void rl_kernel_step_sums(const rill_model *m, const double *X, const double *y, size_t n,
                         double *grad_sum, double *loss_sum);
/* Linear scores of n rows: out[i * n_outputs + k]. */
void rl_scores(const rill_model *m, const double *w, const double *X, size_t n, double *out);
/* Score of one row for one output. */
double rl_score(const rill_model *m, const double *w, const double *x, size_t output);
/* rl_row_step: one stochastic step on one row with one rate and no L1: each output's weights
 * w (1 - rate l2) - rate r x (intercept: - rate r when fitted), where r is the loss's
 * derivative at the row for that output (softmax: p_c - [c == t], t the row's class); rate
 * is first capped as rill_step's automatic rate when cap_curv > 0 (the loss's curvature).
 * Writes the row's loss to *loss_out. Returns RL_ROW_IN_PLACE when the new weights were
 * written over w (one output, no weight could overflow), RL_ROW_IN_NEXT when they are in
 * next (w unchanged), or 0 when the loss or a weight is not finite or the
 * model has more than RL_ROW_STEP_MAX_K classes (loss_math.h; w unchanged, next
 * unspecified). */
#define RL_ROW_IN_PLACE 1
#define RL_ROW_IN_NEXT 2
/* Rows of at least this many features are stepped over the weights when no weight can
 * overflow. Shorter rows always write into next (the arrays then trade places): for them the
 * extra sums that bound the new weights cost more than the copy they save. */
#define RL_ROW_IN_PLACE_MIN_D 512
/* Per-row curvature bound c (1 squared, 1/4 logistic, 1/2 softmax). */
static inline double rl_curvature(const rill_model *m)
{
    return m->loss == RILL_LOGISTIC ? 0.25 : m->loss == RILL_SOFTMAX ? 0.5 : 1.0;
}
/* The reference kernel and the CBLAS one, for tests. */
typedef void (*rl_block_fn)(int loss, size_t d, size_t k, const double *w, const double *X,
                            const double *y, size_t n, double *grad_sum, double *loss_sum);
void rl_block_portable(int loss, size_t d, size_t k, const double *w, const double *X,
                       const double *y, size_t n, double *grad_sum, double *loss_sum);
/* The row step (above): w, the weights (d + 1 per output); next, as many doubles (rill_step
 * passes scratch2, which then trades places with w); rill_step picks the AVX2 copy when the
 * processor has it. */
typedef int (*rl_row_step_fn)(int loss, size_t d, size_t k, double *w, const double *x,
                              double t, double rate, double l2, double cap_curv,
                              int fit_intercept, double *next, double *loss_out);
int rl_row_step(int loss, size_t d, size_t k, double *w, const double *x, double t,
                double rate, double l2, double cap_curv, int fit_intercept, double *next,
                double *loss_out);
#ifdef RILL_HAVE_AVX2
/* The same kernels compiled for AVX2 (kernels.c built again with -mavx2, no FMA): the same
 * bits, used when the processor has AVX2. */
void rl_block_portable_avx2(int loss, size_t d, size_t k, const double *w, const double *X,
                            const double *y, size_t n, double *grad_sum, double *loss_sum);
int rl_row_step_avx2(int loss, size_t d, size_t k, double *w, const double *x, double t,
                     double rate, double l2, double cap_curv, int fit_intercept, double *next,
                     double *loss_out);
#endif
/* 1 when the AVX2 kernels run on this processor. */
int rl_kernels_avx2(void);
extern const rl_block_fn rl_block_blas; /* NULL when built without CBLAS */

/* ---- row parts on threads (parts.c) */
#define RL_MAX_THREADS 64
struct rl_parts {
    size_t n;     /* parts: 1 = the plain kernel */
    double *grad; /* (n - 1) x n_weights: the sums of parts 1..n-1 (with want_grad) */
    size_t bytes;
};
#ifdef RILL_HAVE_THREADS
/* Plans the parts of a call over n_rows rows and allocates their gradient sums (want_grad;
 * without it, rl_parts_sums takes grad_sum NULL only). RILL_ENOMEM when they cannot be
 * allocated; rl_parts_close frees them. */
int rl_parts_open(const rill_model *m, size_t n_rows, int want_grad, struct rl_parts *p);
void rl_parts_close(const rill_model *m, struct rl_parts *p);
/* rl_kernel_sums over the parts (see parts.c for the order of the sums). */
void rl_parts_sums(const rill_model *m, const struct rl_parts *p, const double *w,
                   const double *X, const double *y, size_t n_rows, double *grad_sum,
                   double *loss_sum);
#else /* no threads: RILL_THREADS is always 1 (params.c), one part, nothing allocated */
static inline int rl_parts_open(const rill_model *m, size_t n_rows, int want_grad,
                                struct rl_parts *p)
{
    (void)m;
    (void)n_rows;
    (void)want_grad;
    p->n = 1;
    p->grad = NULL;
    p->bytes = 0;
    return RILL_OK;
}

static inline void rl_parts_close(const rill_model *m, struct rl_parts *p)
{
    (void)m;
    (void)p;
}

static inline void rl_parts_sums(const rill_model *m, const struct rl_parts *p, const double *w,
                                 const double *X, const double *y, size_t n_rows,
                                 double *grad_sum, double *loss_sum)
{
    (void)p;
    rl_kernel_sums(m, w, X, y, n_rows, grad_sum, loss_sum);
}
#endif

/* ---- objective pieces (objective.c) */
double rl_penalty_l2(const rill_model *m, const double *w);
double rl_penalty_l1(const rill_model *m, const double *w);
int rl_is_intercept(const rill_model *m, size_t j);

/* ---- optimizer (optimizer.c) */
void rl_opt_reset(rill_model *m);
const double *rl_eval_point(const rill_model *m);
int rl_fit_batch(rill_model *m, const double *X, const double *y, size_t n_rows);
int rl_fit_stochastic(rill_model *m, const double *X, const double *y, size_t n_rows);
int rl_apply(rill_model *m, const double *grad_sum, double loss_sum, double weight_sum);
int rl_model_frozen(rill_model *m, const char *call);

/* ---- stochastic steps (step.c) */
int rl_step(rill_model *m, const double *X, const double *y, size_t n_rows);
int rl_check_schedule(rill_model *m, const char *why);
/* The checks of a call that takes (X, y, n_rows), except the scan of X for NaN/Inf (the
 * caller's kernel finds them, and then rl_check_data names the row): the arguments, the model
 * not frozen, the labels. */
int rl_check_args_labels(rill_model *m, const char *call, const double *X, const double *y,
                         size_t n_rows);

/* ---- streams (stream.c) */
int rl_stream_init(rill_stream *s, rill_model *m, size_t batch_rows, int mode);

/* ---- shuffling (shuffle.c) */
struct rl_perm {
    uint64_t n, k0, k1;
    unsigned half; /* bits per Feistel half */
};
void rl_perm_init(struct rl_perm *p, uint64_t n, uint64_t seed, uint64_t epoch);
uint64_t rl_perm_at(const struct rl_perm *p, uint64_t i);

#endif
