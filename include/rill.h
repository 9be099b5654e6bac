/*
 * rill — linear models trained by batch-fit, stochastic steps and a micro-batch splitter,
 * all on one set of gradient kernels.
 *
 * This is the library's one public header. Conventions used throughout:
 *
 *  - Every function returns an int status (RILL_OK = 0, negative on error) unless it is a
 *    pure getter. rill_strerror() names a status; rill_model_error() gives the detail of the
 *    last failed non-const call on a model (which row, which column, which parameter).
 *  - Handles are opaque. Constructors write the handle through an out-pointer and leave it
 *    untouched on failure. *_free(NULL) is a no-op.
 *  - Parameters that take a named constant are plain int: the enums below only name values.
 *    Values are explicit and never renumbered. An unknown number gives RILL_EUNSUPPORTED.
 *  - Matrices are row-major contiguous doubles: X is n_rows x n_features.
 *  - A failing call leaves the model exactly as it was and leaks nothing. The one exception:
 *    RILL_EDIVERGED from a call that made several steps (rill_fit, a stream push or flush that
 *    ran several micro-batches) leaves the last finite accepted state, and rill_model_error()
 *    says so.
 *  - The library never prints, never exits and keeps no global mutable state.
 *
 * Threads: the library keeps no global state, so different handles are independent: each
 * model (with its streams) may be used on its own thread with no locking. Functions that take
 * a const rill_model * only read it (no scratch space, no cached value, no error detail is
 * written into the model) and may run concurrently on one shared model from any number of
 * threads: rill_predict, rill_classify, rill_gradient, rill_model_get, rill_model_weights,
 * rill_model_eval_point, rill_model_n_weights, rill_model_save, rill_model_clone,
 * rill_model_error. Every other call on a model, and every call on a stream (a stream changes
 * its model), needs exclusive access:
 * no other call on that model, const or not, may run at the same time. rill_version,
 * rill_version_string, rill_strerror and rill_param_bounds may be called from anywhere. The
 * progress callback runs on the thread that made the training call. A caller's rill_alloc
 * shared by models used on different threads must itself be thread-safe.
 */
#ifndef RILL_H
#define RILL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RILL_VERSION_MAJOR 0
#define RILL_VERSION_MINOR 1
#define RILL_VERSION_PATCH 0

#ifndef RILL_API
#if defined(_WIN32)
#define RILL_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define RILL_API __attribute__((visibility("default")))
#else
#define RILL_API
#endif
#endif

/* ---------------------------------------------------------------- status codes (pinned) */

enum {
    RILL_OK = 0,
    RILL_EINVAL = -1,       /* bad argument: NULL pointer, zero size, value out of range */
    RILL_ENOMEM = -2,       /* the allocator returned NULL */
    RILL_EDATA = -3,        /* NaN/Inf in X or y, a label out of range, a singular problem */
    RILL_EDIVERGED = -4,    /* training blew up (non-finite loss, weights or AdaGrad sums) */
    RILL_EFORMAT = -5,      /* bad model blob */
    RILL_ESTATE = -6,       /* call not valid now (stale sums, model borrowed by a busy stream) */
    RILL_ERANGE = -7,       /* buffer too small, or a size product overflows size_t */
    RILL_EUNSUPPORTED = -8  /* unknown parameter, mode or loss number; or not in this build */
};

/* ---------------------------------------------------------------- named constants */

typedef enum rill_loss {
    RILL_SQUARED = 1,  /* least squares: loss 1/2 (yhat - y)^2, n_classes = 0 */
    RILL_LOGISTIC = 2, /* binary cross-entropy, labels 0/1, n_classes = 2 */
    RILL_SOFTMAX = 3   /* multinomial cross-entropy, labels 0..K-1, n_classes = K >= 2 */
} rill_loss;

typedef enum rill_param {
    /* settable */
    RILL_LEARNING_RATE = 1, /* eta0 for stochastic steps; 0 = automatic (default). [0, 1e300] */
    RILL_SCHEDULE = 2,      /* a rill_schedule value; default RILL_SCHEDULE_INVSCALING */
    RILL_POWER_T = 3,       /* exponent of the inverse-scaling schedule; default 0.25. [0, 10] */
    RILL_L2 = 4,            /* l2/2 ||w||^2 penalty (intercepts excluded); default 0. [0, 1e300] */
    RILL_L1 = 5,            /* l1 ||w||_1 penalty (intercepts excluded); default 0. [0, 1e300] */
    RILL_FIT_INTERCEPT = 6, /* 1 = learn the intercepts (default), 0 = keep them as set */
    RILL_MAX_EPOCHS = 7,    /* epochs one rill_fit call may use; default 1000. [1, 2^53] */
    RILL_TOL = 8,           /* stopping tolerance of rill_fit, see rill_fit; default 1e-8. [0, 1] */
    RILL_BATCH_ROWS = 9,    /* 0 = rill_fit is batch-fit (default); b > 0 = SGD epochs of b-row steps */
    RILL_AVERAGE = 10,      /* 0 = off (default); a >= 1 = averaged SGD from the step that sees row a;
                             * a change drops the average so far */
    RILL_SEED = 11,         /* shuffling seed of rill_fit with RILL_BATCH_ROWS > 0. [0, 2^53) */
    RILL_THREADS = 12,      /* threads of rill_gradient and batch-fit, see there; default 1. [1, 64] */
    /* read-only statistics */
    RILL_STAT_EPOCHS = 100,           /* epochs of the last rill_fit: gradient evaluations or passes */
    RILL_STAT_STEPS = 101,            /* stochastic steps and accepted batch steps, in total */
    RILL_STAT_ROWS = 102,             /* rows seen by stochastic steps: the schedule's t */
    RILL_STAT_LOSS = 103,             /* last objective (batch) or last step's mean loss before it */
    RILL_STAT_CONVERGED = 104,        /* 1 if the last rill_fit stopped on RILL_TOL */
    RILL_STAT_STOPPED = 105,          /* 1 if the progress callback stopped the last call */
    RILL_STAT_PROGRESSIVE_LOSS = 106, /* mean loss of rows measured before training on them */
    RILL_STAT_STALLED = 107,          /* 1 if the batch optimizer can lower the objective no more */
    /* read-only configuration */
    RILL_MODEL_LOSS = 200,       /* the rill_loss value */
    RILL_MODEL_N_FEATURES = 201, /* n_features */
    RILL_MODEL_N_CLASSES = 202   /* n_classes (0 for RILL_SQUARED) */
} rill_param;

typedef enum rill_schedule {
    RILL_SCHEDULE_CONSTANT = 1,   /* eta = eta0 */
    RILL_SCHEDULE_INVSCALING = 2, /* eta = eta0 / t^power_t */
    RILL_SCHEDULE_OPTIMAL = 3,    /* eta = eta0 / (1 + l2 eta0 (t - 1)); needs l2 > 0 */
    RILL_SCHEDULE_ADAGRAD = 4     /* eta_j = eta0 / (sqrt(sum of squared gradients_j) + 1e-10) */
} rill_schedule;

typedef enum rill_stream_mode {
    RILL_STREAM_STEP = 1,  /* one stochastic step per micro-batch */
    RILL_STREAM_PASS = 2,  /* sum gradients over the pass; flush makes one batch-optimizer step */
    RILL_STREAM_EXACT = 3  /* RILL_SQUARED: merge centred moments; flush solves ridge exactly */
} rill_stream_mode;

/* ---------------------------------------------------------------- handles and allocator */

typedef struct rill_model rill_model;
typedef struct rill_stream rill_stream;

/* Caller-supplied allocator. Frozen: three members, this order. */
typedef struct rill_alloc {
    void *(*alloc)(void *ctx, size_t size, size_t align); /* align: power of two; NULL on failure */
    void (*free)(void *ctx, void *ptr, size_t size);      /* size: as passed to alloc */
    void *ctx;
} rill_alloc;

/* ---------------------------------------------------------------- versions and errors */

/* (major << 16) | (minor << 8) | patch of the library actually linked. */
RILL_API unsigned rill_version(void);
/* "major.minor.patch", static storage. */
RILL_API const char *rill_version_string(void);
/* A short description of a status code; never NULL, static storage. Unknown codes give
 * "unknown status". */
RILL_API const char *rill_strerror(int status);

/* ---------------------------------------------------------------- models */

/*
 * Creates a model with all weights 0 and default parameters.
 * loss: a rill_loss value. n_features >= 1. n_classes: 0 for RILL_SQUARED, 2 for
 * RILL_LOGISTIC, K >= 2 for RILL_SOFTMAX.
 * On success *out is a new handle the caller owns and frees with rill_model_free; on failure
 * *out is untouched.
 * Returns RILL_OK; RILL_EINVAL (out NULL, n_features 0, wrong n_classes); RILL_EUNSUPPORTED
 * (unknown loss; or a build without the default allocator, -Ddefault_alloc=false: use
 * rill_model_new_alloc or rill_model_init_static); RILL_ERANGE (sizes overflow); RILL_ENOMEM.
 */
RILL_API int rill_model_new(rill_model **out, int loss, size_t n_features, size_t n_classes);
/* As rill_model_new, with every allocation for this model and its streams made through
 * *alloc (the struct is copied; alloc->ctx must stay valid until the model and its streams
 * are freed); only RILL_THREADS > 1 also starts threads, whose stacks the C library
 * allocates. Returns as rill_model_new, and RILL_EINVAL for alloc, alloc->alloc or
 * alloc->free NULL. */
RILL_API int rill_model_new_alloc(rill_model **out, int loss, size_t n_features,
                                  size_t n_classes, const rill_alloc *alloc);
/* A deep copy of m (weights, parameters, statistics, optimizer memory, progress callback),
 * using m's allocator, into *out (the caller frees it; untouched on failure). Returns
 * RILL_OK; RILL_EINVAL (out or m NULL); RILL_EUNSUPPORTED (m lives in a caller's buffer, see
 * rill_model_init_static); RILL_ENOMEM. */
RILL_API int rill_model_clone(rill_model **out, const rill_model *m);
/* Frees m. Free its streams first. NULL is a no-op. */
RILL_API void rill_model_free(rill_model *m);
/* Detail of the last failed non-const call on m, e.g. "rill_fit: row 17, column 3 is NaN";
 * "" if the last non-const call succeeded. Valid until the next non-const call on m.
 * Never NULL (a NULL m gives a static message). */
RILL_API const char *rill_model_error(const rill_model *m);

/* ---------------------------------------------------------------- parameters */

/*
 * Sets a parameter. Integers and enum values are passed as exact doubles.
 * Returns RILL_OK; RILL_EINVAL (m NULL, value out of range or not an integer where one is
 * needed, or a read-only parameter); RILL_EUNSUPPORTED (unknown param number);
 * RILL_ESTATE (a stream holds rows or sums for m).
 * A change to the objective (RILL_L2, RILL_L1, RILL_FIT_INTERCEPT) or to the batch optimizer's
 * step rule (RILL_LEARNING_RATE, RILL_SCHEDULE) resets the batch optimizer's memory.
 */
RILL_API int rill_model_set(rill_model *m, int param, double value);
/* Reads any parameter or statistic into *value. Returns RILL_OK; RILL_EINVAL (m or value
 * NULL); RILL_EUNSUPPORTED (unknown param number). */
RILL_API int rill_model_get(const rill_model *m, int param, double *value);
/* The valid range [*lo, *hi] of a parameter (read-only ones report their possible range).
 * lo or hi may be NULL. Needs no model. Returns RILL_OK; RILL_EUNSUPPORTED (unknown
 * number). */
RILL_API int rill_param_bounds(int param, double *lo, double *hi);

/* ---------------------------------------------------------------- training */

/*
 * Trains on n_rows rows of X (row-major n_rows x n_features) with targets/labels y.
 *
 * RILL_BATCH_ROWS = 0: batch-fit. Resets the batch optimizer's memory and warm-starts from the
 * current weights, then loops { rill_gradient over all rows; rill_apply_gradient } (one loop
 * iteration = one epoch) until converged or RILL_MAX_EPOCHS epochs. Converged means, for
 * every weight j,
 *   |pg_j| <= RILL_TOL * max(1, |pg0_j|)
 * where pg is the projected gradient, the gradient of the full objective (the minimum-norm
 * subgradient under L1), and pg0 the projected gradient at the first evaluation of this call:
 * each weight against its own start, so features in large units do not let the others (the
 * intercept among them) pass early. Where a weight's first gradient is below 1 (features in
 * small units, an objective far below 1) the max(1, ...) makes its test absolute: lower
 * RILL_TOL for such problems. Features whose scales differ by more than about 1e4 (among
 * themselves or from the intercept's 1) can leave the objective too ill-conditioned to reach
 * its optimum in double precision: the fit then ends with RILL_STAT_STALLED = 1 short of it;
 * standardize them. The optimizer is L-BFGS (OWL-QN under L1) with a backtracking line
 * search: no learning rate.
 * Fixed-step mode (RILL_SCHEDULE_CONSTANT with RILL_LEARNING_RATE > 0): every epoch is the
 * plain (proximal) gradient step w <- w - eta (mean gradient + l2 w).
 * With L-BFGS, each call's first epoch evaluates the starting point and its first step is
 * accepted at the second, so RILL_MAX_EPOCHS = 1 changes no weight: to train in slices, run
 * the rill_gradient / rill_apply_gradient loop, whose optimizer memory carries across calls.
 * (Fixed-step mode steps every epoch; its RILL_STAT_LOSS is the objective before the last
 * step.)
 * After averaged SGD (RILL_AVERAGE), batch training starts from the iterate, the last
 * stochastic step's weights, not from their average; predict uses the average until the
 * first batch step is accepted, and the optimizer's weights from then on.
 *
 * RILL_BATCH_ROWS = b > 0: stochastic epochs. Each epoch visits the rows in a shuffled order
 * (keyed by RILL_SEED and the epoch number floor(RILL_STAT_ROWS / n_rows) at the epoch's start:
 * 0, 1, 2, ... for a fresh model; a later call, also after save and load, continues the
 * sequence: N epochs then M more make the steps of N + M epochs in one call, RILL_TOL not
 * stopping either) through a RILL_STREAM_STEP stream of b-row
 * micro-batches. Stops after RILL_MAX_EPOCHS epochs, or when the epoch's progressive loss has
 * not improved on the best by more than RILL_TOL * max(1, best) for 5 epochs (converged;
 * RILL_TOL = 0 turns this test off and runs every epoch).
 *
 * The progress callback, if set, runs after each epoch (batch) or micro-batch (stochastic).
 * Returns RILL_OK (also when stopped by the callback: RILL_STAT_STOPPED = 1, or when the
 * epochs ran out: RILL_STAT_CONVERGED = 0, or when no step lowers the objective by more than
 * its rounding: RILL_STAT_STALLED = 1); RILL_EINVAL (NULL, n_rows 0); RILL_ERANGE
 * (n_rows x n_features doubles overflow size_t); RILL_EDATA (NaN/Inf
 * or bad label: nothing changed; the error names row and column); RILL_EDIVERGED (weights
 * rolled back to the last finite accepted state); RILL_ESTATE (a stream is busy on m);
 * RILL_ENOMEM.
 */
RILL_API int rill_fit(rill_model *m, const double *X, const double *y, size_t n_rows);

/*
 * One stochastic gradient step with the mean gradient of the n_rows rows:
 *   w <- w - eta_t (mean gradient + l2 w), then the L1 proximal (soft-threshold) step,
 * intercepts unpenalized. eta_t follows RILL_SCHEDULE with t = RILL_STAT_ROWS + 1 before the
 * step (the index of the step's first row); RILL_STAT_ROWS then grows by n_rows, so calling
 * with one row at a time is exactly an epoch loop. With RILL_LEARNING_RATE = 0 (automatic)
 * eta0 is 1 and every step's rate is capped so that the step cannot overshoot on these rows:
 * eta * (c * mean(||x_i||^2 + 1) + l2) <= 1 (c = 1 squared, 1/4 logistic, 1/2 softmax;
 * per-weight rates weigh each feature, and count only the weights the step moves: with
 * AdaGrad a feature that was 0 in every row so far, or an intercept not fitted, has no
 * say; under L1 such a weight is not thresholded either: it has no rate yet). Measures the
 * rows' loss before the step (progressive loss).
 * With RILL_AVERAGE on, keeps the average of the iterates; predict then uses it.
 * Returns RILL_OK; RILL_EINVAL (NULL, n_rows 0); RILL_ERANGE (n_rows x n_features doubles
 * overflow size_t); RILL_EDATA; RILL_EDIVERGED (non-finite loss or weights, or AdaGrad's
 * sums of squared gradients overflowing: nothing changed);
 * RILL_ESTATE; RILL_EINVAL with RILL_SCHEDULE_OPTIMAL and l2 = 0.
 */
RILL_API int rill_step(rill_model *m, const double *X, const double *y, size_t n_rows);

/* Predictions for n_rows rows: yhat (RILL_SQUARED), P(y = 1) (RILL_LOGISTIC), or n_classes
 * probabilities per row (RILL_SOFTMAX; out holds n_rows * n_classes). Uses the weights
 * rill_model_weights returns. NaN/Inf in X, or a score that overflows (features times weights
 * beyond the double range), gives RILL_EDATA (out unspecified). RILL_EINVAL
 * (NULL, n_rows 0, out overlapping X); RILL_ERANGE (X or out would hold more than SIZE_MAX
 * bytes). */
RILL_API int rill_predict(const rill_model *m, const double *X, size_t n_rows, double *out);
/* Labels: yhat (RILL_SQUARED), 0/1 (RILL_LOGISTIC, P >= 0.5 is 1), argmax class
 * (RILL_SOFTMAX: the highest score, lowest index on ties; where two classes' probabilities
 * round to the same double in rill_predict, the scores still decide). out holds n_rows
 * doubles. As rill_predict. */
RILL_API int rill_classify(const rill_model *m, const double *X, size_t n_rows, double *labels);

/*
 * Sums over the rows of the loss and its gradient at the batch optimizer's evaluation point
 * (the accepted weights, unless a rill_apply_gradient has moved the evaluation point), no
 * penalty. grad_sum has rill_model_n_weights(m) entries, laid out as the weights; it may be
 * NULL (loss only). Sums are mergeable: the sums over shards, added, are the sum over all
 * rows up to rounding. (Inside the library a stream adds micro-batches into one running sum,
 * which gives the same bits as one call over all rows when batch_rows is a multiple of 64;
 * see rill_stream_new.)
 * RILL_THREADS = T > 1 (rill_gradient and batch-fit; streams and stochastic steps always run on
 * the calling thread): the rows are cut into P = min(T, ceil(n_rows / 64)) parts at multiples
 * of 64 rows, summed on the calling thread and P - 1 more (calls under about 2^18 row x weight
 * values run the parts in turn) and added in part order; the call waits for its threads. The
 * result depends on n_rows and T, not on timing or on whether threads ran, and agrees with
 * T = 1 to rounding; bit-identity with a PASS stream holds for T = 1. With grad_sum, the parts'
 * sums take (P - 1) x rill_model_n_weights doubles from the model's allocator during the call
 * (RILL_ENOMEM if refused), so concurrent calls on one model need a thread-safe allocator (the
 * default one is); the threads themselves (their stacks and thread-local storage) come from
 * the C library, outside rill_alloc. As with T = 1, the call is not a cancellation point (a
 * pending pthread_cancel acts after it returns). Setting T > 1 is RILL_EUNSUPPORTED in a
 * build without threads (-Dthreads=disabled, firmware) and for a model in a caller's buffer.
 * Not saved with the model.
 * The sums may be infinite when the loss overflows at the evaluation point (a trial point far
 * out, huge features or targets): hand them to rill_apply_gradient as they are, which then
 * backtracks, or refuses with RILL_EDIVERGED at the accepted point.
 * Returns RILL_OK; RILL_EINVAL (NULL m, X, y or loss_sum; n_rows 0); RILL_ERANGE (n_rows x
 * n_features doubles overflow size_t); RILL_ENOMEM (RILL_THREADS > 1: no memory for the parts'
 * sums); RILL_EDATA (the row and column are not recorded: m is const;
 * validate with rill_fit or a stream to get them; grad_sum and *loss_sum are then unspecified).
 */
RILL_API int rill_gradient(const rill_model *m, const double *X, const double *y, size_t n_rows,
                           double *grad_sum, double *loss_sum);

/*
 * One reverse-communication step of the batch optimizer, given the sums rill_gradient
 * produced at the current evaluation point over weight_sum rows (weight_sum > 0). Accepts the
 * point or backtracks, updates the optimizer's memory and moves the evaluation point.
 * RILL_STAT_CONVERGED tells whether the accepted point meets RILL_TOL, and RILL_STAT_STALLED
 * whether the line search found no step that lowers the objective (rounding floor: further
 * applies cannot improve the point). Calling it in a loop with fresh sums each time, until
 * either reads 1, is rill_fit; a distributed program reduces the sums in between.
 * Non-finite sums at a trial point make the line search backtrack; at the accepted point they
 * are RILL_EDIVERGED (model unchanged; in fixed-step mode the weights roll back to the last
 * point whose objective was finite). After a change to the model in the middle of a
 * gradient/apply loop (rill_step, rill_model_set_weights, a rill_model_set that resets the
 * batch optimizer's memory: a changed RILL_L2, RILL_L1, RILL_FIT_INTERCEPT, RILL_LEARNING_RATE
 * or RILL_SCHEDULE), the next call returns RILL_ESTATE once: the sums were computed for the
 * old point.
 * RILL_STAT_EPOCHS counts the calls (rill_fit starts it at 0).
 * Returns RILL_OK; RILL_EINVAL (NULL, weight_sum <= 0 or non-finite); RILL_ESTATE;
 * RILL_EDIVERGED.
 */
RILL_API int rill_apply_gradient(rill_model *m, const double *grad_sum, double loss_sum,
                                 double weight_sum);

/* ---------------------------------------------------------------- weights */

/* n_outputs * (n_features + 1); n_outputs = n_classes for RILL_SOFTMAX, else 1. 0 for NULL. */
RILL_API size_t rill_model_n_weights(const rill_model *m);
/* Copies the weights predict uses (averaged ones with RILL_AVERAGE) into out[0..len):
 * one row per output, w_0 .. w_{d-1}, intercept; rill_model_n_weights(m) doubles are written.
 * Returns RILL_OK; RILL_EINVAL (m or out NULL); RILL_ERANGE (len < rill_model_n_weights). */
RILL_API int rill_model_weights(const rill_model *m, double *out, size_t len);
/* Copies the batch optimizer's evaluation point, where the next rill_gradient evaluates, into
 * out[0..len) (same layout). Between applies it differs from the accepted weights while a line
 * search is under way. A driver that keeps the optimizer and sends the point to workers gives
 * each worker model these weights (rill_model_set_weights: a model with fresh optimizer memory
 * evaluates at its weights), reduces their rill_gradient sums and applies them: the same steps
 * as rill_fit. Returns RILL_OK; RILL_EINVAL (m or out NULL); RILL_ERANGE
 * (len < rill_model_n_weights). */
RILL_API int rill_model_eval_point(const rill_model *m, double *out, size_t len);
/* Sets the weights (same layout; len must equal rill_model_n_weights; w is copied). Resets the
 * optimizer's memory and the average. Returns RILL_OK; RILL_EINVAL (len differs, NULL);
 * RILL_EDATA (NaN/Inf); RILL_ESTATE (a stream holds rows or sums for m). */
RILL_API int rill_model_set_weights(rill_model *m, const double *w, size_t len);

/* ---------------------------------------------------------------- model files */

/* Serializes m (configuration, weights, statistics, optimizer state) into the caller's
 * buf[0..cap) and writes the bytes used to *size. The blob is the same on every host
 * (docs/format.md). With buf NULL and cap 0, writes the size needed to *size and returns
 * RILL_OK. Returns RILL_OK; RILL_ERANGE (cap too small: *size is the size needed);
 * RILL_EINVAL (m or size NULL, buf NULL with cap > 0). */
RILL_API int rill_model_save(const rill_model *m, void *buf, size_t cap, size_t *size);
/* Creates a model from a blob written by rill_model_save (buf is only read during the call;
 * *out is the caller's to free, untouched on failure; rill_model_load_alloc allocates through
 * *alloc as rill_model_new_alloc). RILL_EFORMAT for anything that is
 * not such a blob (bad magic, version, checksum, size; also size 0); RILL_EINVAL (out or buf
 * NULL; for _alloc, alloc or one of its functions NULL); RILL_ENOMEM;
 * RILL_EUNSUPPORTED from rill_model_load in a build without the default allocator. */
RILL_API int rill_model_load(rill_model **out, const void *buf, size_t size);
RILL_API int rill_model_load_alloc(rill_model **out, const void *buf, size_t size,
                                   const rill_alloc *alloc);

/* ---------------------------------------------------------------- micro-batch streams */

/*
 * Creates a stream that feeds m in micro-batches of batch_rows rows (batch_rows >= 1).
 * mode: a rill_stream_mode value. A PASS stream's sums have the bits of one rill_gradient call
 * over the pass's rows (so replaying it is rill_fit, evaluation for evaluation, at
 * RILL_THREADS = 1) when batch_rows is a multiple of 64, the kernels' block; other sizes
 * agree to rounding. The stream borrows m: free the stream before m. While the
 * stream holds buffered rows or unflushed sums, calls that change m return RILL_ESTATE.
 * Returns RILL_OK; RILL_EINVAL (NULL, batch_rows 0, RILL_STREAM_EXACT with a loss other than
 * RILL_SQUARED or with RILL_L1 > 0); RILL_EUNSUPPORTED (unknown mode); RILL_ERANGE (the
 * buffer of batch_rows rows, or EXACT's n_features x n_features moments, would overflow
 * size_t); RILL_ENOMEM.
 */
RILL_API int rill_stream_new(rill_stream **out, rill_model *m, size_t batch_rows, int mode);
/*
 * Feeds n_rows rows. All-or-nothing: the whole chunk is validated first; a refused push
 * (RILL_EDATA) consumes no row and rill_model_error names the row's index in the stream
 * (counting from 0 over all accepted pushes) and its column. Micro-batch boundaries fall
 * every batch_rows rows of the stream, however the rows are chunked across pushes.
 * STEP: each completed micro-batch makes one rill_step. PASS: each completed micro-batch adds
 * its loss and gradient sums. EXACT: each completed micro-batch's centred moments are merged.
 * A progress callback that returns nonzero stops the push after that micro-batch: the push
 * returns RILL_OK, RILL_STAT_STOPPED reads 1, and the push's later rows are not taken (push
 * them again to go on; the stream's rows count only the rows taken).
 * Returns RILL_OK; RILL_EINVAL (NULL, n_rows 0; STEP with RILL_SCHEDULE_OPTIMAL and
 * RILL_L2 = 0, before any row is taken; EXACT with RILL_L1 > 0); RILL_ERANGE (n_rows x
 * n_features doubles overflow size_t); RILL_EDATA; RILL_EDIVERGED (STEP: the steps before
 * stay applied; the failing micro-batch, rows buffered by earlier pushes included, and the
 * push's later rows are not taken, and the stream's row count goes on from the last row
 * taken); RILL_ESTATE (the model's batch-optimizer state was changed under a PASS stream
 * holding sums).
 */
RILL_API int rill_stream_push(rill_stream *s, const double *X, const double *y, size_t n_rows);
/*
 * Ends the pass: processes the buffered partial micro-batch, then
 * STEP: nothing more. PASS: one rill_apply_gradient from the pass's sums (one epoch).
 * EXACT: solves the ridge problem on the rows pushed since the last flush (intercept
 * unpenalized), sets the weights. Its RILL_STAT_LOSS comes from the moments, not the rows:
 * accurate to about 1e-16 of the targets' centred sum of squares, so a near-perfect fit may
 * read 0. Afterwards the stream holds nothing; it can be reused.
 * The progress callback runs after the partial micro-batch; a nonzero return does not stop
 * the flush, which runs to its end, but RILL_STAT_STOPPED then reads 1 (else 0), so that a
 * loop of passes can stop on it.
 * Flushing an empty stream is RILL_OK and changes nothing but RILL_STAT_STOPPED (0).
 * Returns RILL_OK; RILL_EINVAL (NULL; EXACT with RILL_L1 > 0, set while a refused flush had
 * released the model: the moments are kept); RILL_EDATA (EXACT: numerically singular, or a
 * solution that overflows: the weights are kept, and so are the stream's moments, with the
 * model released: set RILL_L2 > 0, or a larger one, or (overflow with the intercept fixed)
 * RILL_FIT_INTERCEPT = 1 or another intercept, and flush again to solve without pushing the
 * rows again; moments that overflow, from features or targets of about 1e154 or more: the
 * weights are kept and the rows since the last flush are dropped);
 * RILL_EDIVERGED (STEP: the last micro-batch's step is not taken);
 * RILL_ESTATE.
 */
RILL_API int rill_stream_flush(rill_stream *s);
/* Frees the stream, dropping anything unflushed (its model stays usable). NULL is a no-op. */
RILL_API void rill_stream_free(rill_stream *s);

/* ---------------------------------------------------------------- no-heap path */

/*
 * Models and streams can live in a caller's buffer (a static array, a linker section) instead
 * of allocated memory: query the size, then construct in place. Nothing is allocated then, and
 * rill_model_free / rill_stream_free on such a handle release nothing (the buffer stays the
 * caller's; it may be reused once the handle is no longer used). Buffers must be aligned to
 * RILL_WORKSPACE_ALIGN bytes (a double array or malloc'd memory is).
 * A model in a buffer supports every call except those that would allocate:
 * rill_model_clone and rill_stream_new return RILL_EUNSUPPORTED, and so does rill_fit with
 * RILL_BATCH_ROWS > 0 (it needs an internal stream: feed a RILL_STREAM_STEP stream from
 * rill_stream_init_static instead, shuffling as you like). Batch-fit, rill_step, predict,
 * save and streams in buffers all work.
 */
#define RILL_WORKSPACE_ALIGN 8

/* The bytes a model of this shape needs: the worst case over every parameter setting and
 * optimizer state (weights, averaging, AdaGrad, L-BFGS memory), fixed for the model's life.
 * Returns RILL_OK; RILL_EINVAL (size NULL, n_features 0, wrong n_classes); RILL_EUNSUPPORTED
 * (unknown loss); RILL_ERANGE (the size overflows size_t). */
RILL_API int rill_model_workspace_size(int loss, size_t n_features, size_t n_classes,
                                       size_t *size);
/* As rill_model_new, with the model in buf[0..size). Returns RILL_OK; RILL_EINVAL (out or buf
 * NULL, buf not aligned to RILL_WORKSPACE_ALIGN, bad shape as rill_model_new);
 * RILL_EUNSUPPORTED (unknown loss); RILL_ERANGE (size smaller than
 * rill_model_workspace_size, or that size overflows). On failure *out and buf are untouched. */
RILL_API int rill_model_init_static(rill_model **out, void *buf, size_t size, int loss,
                                    size_t n_features, size_t n_classes);
/* The bytes a stream of m with these batch_rows and mode needs (depends on m's shape only).
 * Returns RILL_OK; RILL_EINVAL (NULL, batch_rows 0, RILL_STREAM_EXACT with a loss other than
 * RILL_SQUARED); RILL_EUNSUPPORTED (unknown mode); RILL_ERANGE (overflow). */
RILL_API int rill_stream_workspace_size(const rill_model *m, size_t batch_rows, int mode,
                                        size_t *size);
/* As rill_stream_new, with the stream in buf[0..size). Works on any model (allocated or in a
 * buffer). Returns RILL_OK; RILL_EINVAL (as rill_stream_new, or buf NULL or misaligned);
 * RILL_EUNSUPPORTED; RILL_ERANGE (size smaller than rill_stream_workspace_size:
 * rill_model_error(m) gives both sizes). On failure *out and buf are untouched. */
RILL_API int rill_stream_init_static(rill_stream **out, void *buf, size_t size, rill_model *m,
                                     size_t batch_rows, int mode);

/* ---------------------------------------------------------------- progress */

/*
 * Sets a callback run after each epoch of rill_fit and after each micro-batch of a stream.
 * It may call only const functions on the model (read statistics with rill_model_get). A
 * nonzero return stops training: the call returns RILL_OK and RILL_STAT_STOPPED reads 1 (a
 * stream push then leaves its later rows untaken, see rill_stream_push; a flush runs to its
 * end, see rill_stream_flush).
 * The callback must not unwind (no longjmp, C++ exception or Rust panic across it).
 * user is passed to fn unchanged (rill never dereferences or frees it). rill_model_clone copies
 * the callback; a saved model does not keep it. fn NULL removes the callback.
 * Returns RILL_OK; RILL_EINVAL (m NULL).
 */
RILL_API int rill_model_set_progress(rill_model *m, int (*fn)(void *user, const rill_model *m),
                                     void *user);

#ifdef __cplusplus
}
#endif

#endif /* RILL_H */
