/*
 * Independent reference code for the rill test suites.
 *
 * Nothing here calls the library: the objective, its gradient, Newton's method and the
 * closed-form ridge solution are written from the contract (DESIGN.md, rill.h) alone, in
 * long double where it matters, so that the suites can hold the library to them.
 *
 * Conventions (the library's): losses are 1 = squared, 2 = logistic, 3 = softmax; K is
 * n_classes (0 squared, 2 logistic, K >= 2 softmax); the weights are one row per output
 * (n_outputs = K for softmax, else 1): w_0 .. w_{d-1}, intercept.
 */
#ifndef RILL_TESTS_REF_H
#define RILL_TESTS_REF_H

#include <stddef.h>
#include <stdint.h>

enum { REF_SQUARED = 1, REF_LOGISTIC = 2, REF_SOFTMAX = 3 };

/* ---- data */

typedef struct ref_data {
    double *X; /* n x d, row-major */
    double *y; /* n */
    size_t n, d;
} ref_data;

/* The directory holding the CSV files: set by ref_set_data_dir (argv), else $RILL_DATA_DIR,
 * else the path compiled in (REF_DATA_DIR), else "examples/data". */
void ref_set_data_dir(const char *dir);
const char *ref_data_dir(void);
/* Loads a CSV with a header row, numeric fields, the label in the last column.
 * Returns 0, or -1 (message on stderr). */
int ref_load_csv(const char *path, ref_data *out);
/* ref_load_csv(ref_data_dir() + "/" + name); aborts the test process on failure. */
void ref_load(const char *name, ref_data *out);
void ref_data_free(ref_data *d);

/* ---- objective */

size_t ref_n_outputs(int loss, size_t K);
size_t ref_n_weights(int loss, size_t d, size_t K);

/* Loss sum over rows and (if grad_sum != NULL) the gradient sums, no penalty, long double. */
long double ref_sums(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                     const double *W, long double *grad_sum);
/* mean loss + l2/2 ||w||^2 + l1 ||w||_1, intercepts not penalized. */
long double ref_objective_l(int loss, const double *X, const double *y, size_t n, size_t d,
                            size_t K, const double *W, double l2, double l1);
double ref_objective(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                     const double *W, double l2, double l1);
/* Gradient of the smooth part: mean loss gradient + l2 w (intercepts unpenalized). */
void ref_gradient(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                  const double *W, double l2, double *grad);
/* Minimum-norm subgradient of the full objective (with l1) given the smooth gradient g. */
void ref_projected_gradient(size_t d, size_t n_outputs, const double *W, const double *g,
                            double l1, double *pg);
int ref_is_intercept(size_t d, size_t j);

/* ---- solvers */

/* Newton's method (Cholesky, long double), from W (in/out), on mean loss + l2/2||w||^2 (no
 * l1). For softmax the last class's intercept is held fixed (the objective is invariant to
 * a common shift of the intercepts), which makes the system positive definite for l2 > 0.
 * Stops when ||g||_inf <= 1e-12 * max(1, ||g(W_start)||_inf). Returns the number of
 * iterations, or -1 if it did not converge. *f_out (may be NULL): the optimal objective;
 * *grel_out (may be NULL): the final ||g||_inf / max(1, ||g0||_inf). */
int ref_newton(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
               double l2, double *W, long double *f_out, double *grel_out);

/* Closed-form ridge for squared loss with unpenalized intercept: normal equations on centred
 * data. W has d + 1 entries. Returns 0, or -1 if the system is singular. */
int ref_ridge(const double *X, const double *y, size_t n, size_t d, double l2, double *W);

/* Proximal gradient (ISTA, step 1/L, long double iterates) on the full objective with l1.
 * Runs until the gradient mapping's inf-norm is <= tol or max_iter. Returns iterations, or
 * -1 if max_iter was reached. */
long ref_prox_grad(int loss, const double *X, const double *y, size_t n, size_t d, size_t K,
                   double l2, double l1, double tol, long max_iter, double *W);

/* Solves A x = b by Cholesky (A m x m symmetric positive definite, overwritten). -1 if not
 * positive definite. */
int ref_cholesky_solve(long double *A, long double *b, size_t m);

/* ---- helpers for the tests */

typedef struct ref_rng {
    uint64_t s;
} ref_rng;
void ref_rng_seed(ref_rng *r, uint64_t seed);
uint64_t ref_rng_u64(ref_rng *r);
double ref_rng_uniform(ref_rng *r); /* [0, 1) */
double ref_rng_normal(ref_rng *r);

/* Random problem: X ~ N(0, scale^2), labels/targets from a random linear model. Arrays are
 * malloc'd. */
void ref_random_problem(ref_rng *r, int loss, size_t n, size_t d, size_t K, double scale,
                        double **X, double **y);
/* Standardizes the columns of X in place (mean 0, population std 1; constant columns 0). */
void ref_standardize(double *X, size_t n, size_t d);

/* max |a - b| / max(max |b|, floor). */
double ref_max_rel_diff(const double *a, const double *b, size_t n, double floor_);
double ref_max_abs(const double *a, size_t n);
int ref_all_finite(const double *a, size_t n);
/* logistic labels: y = (y > threshold). */
void ref_threshold_labels(double *y, size_t n, double threshold);

/* ---- the model file's byte encoding, written from docs/format.md (little-endian) */

uint32_t ref_rd_u32(const unsigned char *p);
uint64_t ref_rd_u64(const unsigned char *p);
double ref_rd_f64(const unsigned char *p);
void ref_wr_u32(unsigned char *p, uint32_t v);
void ref_wr_u64(unsigned char *p, uint64_t v);
void ref_wr_f64(unsigned char *p, double v);
/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), bit by bit from its definition. */
uint32_t ref_crc32(const unsigned char *p, size_t n);
/* Recomputes a blob's trailing CRC-32 after a deliberate edit. */
void ref_reseal(unsigned char *b, size_t size);

#endif
