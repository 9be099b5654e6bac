/*
 * Data-parallel batch-fit over MPI: every rank holds a shard of the rows, and the ranks run
 * rill_fit's own loop with a reduction between the two calls:
 *
 *   loop { rill_gradient on the shard; reduce the sums; rill_apply_gradient on the total }
 *
 *   mpirun -n 4 mpi_fit [options] data.csv
 *
 * data.csv: header line, numeric cells, label last (see csvload.h). Sharding: every rank reads
 * the file and keeps one contiguous block of rows, rank r the rows [r n / p, (r + 1) n / p).
 * A path containing "{rank}" is a file per rank instead ("part-{rank}.csv" reads part-0.csv on
 * rank 0, part-1.csv on rank 1, ...): each rank keeps all of its file's rows.
 *
 * The reduction: the gradient sums, the loss sum and the row count travel in one buffer of
 * n_weights + 2 doubles. Rank 0 gathers the buffers and adds them in rank order (--reduce
 * gather, the default), or MPI_Reduce combines them along MPI's tree (--reduce tree); rank 0
 * then broadcasts the total. Every rank thus applies the same bits, so every rank's optimizer
 * takes the same decisions (accept, backtrack, converged) and the loop ends on all ranks at
 * the same epoch: it cannot deadlock. MPI_Allreduce is not used because it need not give every
 * rank the same bits. With gather, the order of the additions is fixed, so runs with the same
 * number of ranks are also bit-identical from one run to the next.
 *
 * --exact (least squares): one pass instead of a loop. Each rank computes its rows' count,
 * means and centred co-moments of (x, y); rank 0 merges them in rank order with Chan's update
 * and solves the ridge normal equations (intercept unpenalized) by Cholesky, then broadcasts
 * the weights. rill's EXACT stream does the same within one process but cannot take moments
 * from outside, so the example computes and merges them itself.
 *
 * --driver: the protocol of a Spark or Dask job. Only rank 0 keeps the optimizer; each epoch
 * it broadcasts the evaluation point, every rank evaluates there with a stateless model, the
 * sums go to rank 0, which applies them. Same iterates as the replicated loop, bit for bit.
 * See docs/distributed.md.
 *
 * Options:
 *   --loss squared|logistic|softmax (default squared)   --classes K (softmax)
 *   --threshold T   logistic labels are y > T (default: the file's labels, 0/1)
 *   --l2 V (default 1e-3)   --tol V (default: the library's)   --max-epochs N
 *   --exact   --driver   --reduce gather|tree   --weights (print every weight)
 *   --check   rank 0 also fits all rows in one process with rill_fit and exits non-zero unless
 *             the objectives agree to 1e-9 (relative) and the weights to 1e-6 (relative to the
 *             largest); with one rank the iterative loop must match rill_fit bit for bit;
 *             every rank must end with the same weights; --exact must equal rill's EXACT
 *             stream to 1e-9.
 * Output (rank 0): "key value" lines, numbers in %.17g.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>
#include <rill.h>

#include "csvload.h"

struct options {
    const char *path;
    int loss, exact, driver, tree, check, print_weights;
    size_t classes;
    double l2, tol, max_epochs, threshold;
    int has_threshold;
};

static int usage(void)
{
    fprintf(stderr, "usage: mpi_fit [--loss squared|logistic|softmax] [--classes K] "
                    "[--threshold T] [--l2 V] [--tol V] [--max-epochs N] [--exact] "
                    "[--driver] [--reduce gather|tree] [--weights] [--check] data.csv\n");
    return 2;
}

/* The number in v, within [lo, hi] (integral if integer); -1 if it is not one. */
static int number(const char *v, double lo, double hi, int integer, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end != '\0' || !(x >= lo && x <= hi) || (integer && x != (double)(long)x))
        return -1;
    *out = x;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    o->loss = RILL_SQUARED;
    o->l2 = 1e-3;
    o->tol = -1.0;
    o->max_epochs = -1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--exact"))
            o->exact = 1;
        else if (!strcmp(a, "--driver"))
            o->driver = 1;
        else if (!strcmp(a, "--check"))
            o->check = 1;
        else if (!strcmp(a, "--weights"))
            o->print_weights = 1;
        else if (a[0] == '-' && a[1] == '-' && !v)
            return -1;
        else if (!strcmp(a, "--loss") && ++i)
            o->loss = !strcmp(v, "squared")    ? RILL_SQUARED
                      : !strcmp(v, "logistic") ? RILL_LOGISTIC
                      : !strcmp(v, "softmax")  ? RILL_SOFTMAX
                                               : -1;
        else if (!strcmp(a, "--reduce") && ++i)
            o->tree = !strcmp(v, "tree") ? 1 : !strcmp(v, "gather") ? 0 : -1;
        else if (!strcmp(a, "--classes") && ++i) {
            double k;
            if (number(v, 2.0, 1e6, 1, &k))
                return -1;
            o->classes = (size_t)k;
        } else if (!strcmp(a, "--threshold") && ++i) {
            if (number(v, -1e308, 1e308, 0, &o->threshold))
                return -1;
            o->has_threshold = 1;
        } else if (!strcmp(a, "--l2") && ++i) {
            if (number(v, 0.0, 1e300, 0, &o->l2))
                return -1;
        } else if (!strcmp(a, "--tol") && ++i) {
            if (number(v, 0.0, 1.0, 0, &o->tol))
                return -1;
        } else if (!strcmp(a, "--max-epochs") && ++i) {
            if (number(v, 1.0, 1e15, 1, &o->max_epochs))
                return -1;
        } else if (a[0] == '-' || o->path)
            return -1;
        else
            o->path = a;
    }
    if (o->loss == RILL_LOGISTIC)
        o->classes = 2;
    else if (o->loss == RILL_SQUARED)
        o->classes = 0;
    if (!o->path || o->loss < 0 || o->tree < 0 || (o->exact && o->loss != RILL_SQUARED) ||
        (o->exact && o->driver) || (o->loss == RILL_SOFTMAX && o->classes < 2))
        return -1;
    return 0;
}

/* The path with "{rank}" replaced by rank; NULL if it has no "{rank}" (or on no memory). */
static char *rank_path(const char *path, int rank)
{
    const char *at = strstr(path, "{rank}");
    if (!at)
        return NULL;
    char *p = malloc(strlen(path) + 16);
    if (p)
        sprintf(p, "%.*s%d%s", (int)(at - path), path, rank, at + 6);
    return p;
}

/* Loads rank's shard (all = 1: every row, the single-process reference). 0 or -1. */
static int load_shard(const struct options *o, int rank, int size, int all, struct dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    char *own = rank_path(o->path, rank);
    if (own || !all) { /* a rank's own file may hold a header only */
        int rc = dataset_load_rows(own ? own : o->path, ds, own != NULL);
        free(own);
        if (rc)
            return -1;
    }
    if (own && all) { /* the reference: every rank's file, appended in rank order */
        for (int r = 1; r < size; r++) {
            struct dataset part;
            char *p = rank_path(o->path, r);
            int rc = !p || dataset_load_rows(p, &part, 1);
            free(p);
            if (rc) {
                dataset_free(ds);
                return -1;
            }
            if (part.n == 0) {
                dataset_free(&part);
                continue;
            }
            double *X = realloc(ds->X, (ds->n + part.n) * ds->d * sizeof(double));
            double *y = realloc(ds->y, (ds->n + part.n) * sizeof(double));
            ds->X = X ? X : ds->X;
            ds->y = y ? y : ds->y;
            if (!X || !y || part.d != ds->d) {
                dataset_free(&part);
                dataset_free(ds);
                return -1;
            }
            memcpy(ds->X + ds->n * ds->d, part.X, part.n * part.d * sizeof(double));
            memcpy(ds->y + ds->n, part.y, part.n * sizeof(double));
            ds->n += part.n;
            dataset_free(&part);
        }
    } else if (!own && !all) { /* keep this rank's contiguous block */
        size_t lo = ds->n * (size_t)rank / (size_t)size;
        size_t hi = ds->n * (size_t)(rank + 1) / (size_t)size;
        memmove(ds->X, ds->X + lo * ds->d, (hi - lo) * ds->d * sizeof(double));
        memmove(ds->y, ds->y + lo, (hi - lo) * sizeof(double));
        ds->n = hi - lo;
    } else if (!own && all && dataset_load(o->path, ds)) {
        return -1;
    }
    if (o->has_threshold)
        for (size_t i = 0; i < ds->n; i++)
            ds->y[i] = ds->y[i] > o->threshold ? 1.0 : 0.0;
    return 0;
}

/* ---------------------------------------------------------------- the reduction */

/* How two ranks' buffers combine: out <- left op right, where left holds the lower ranks.
 * out may be left or right (both functions work element by element). */
typedef void combine_fn(double *out, const double *left, const double *right, size_t len, size_t d);

static void combine_sum(double *out, const double *left, const double *right, size_t len, size_t d)
{
    (void)d;
    for (size_t j = 0; j < len; j++)
        out[j] = left[j] + right[j];
}

/*
 * Moments of z = (x, y), d + 1 columns: [n, mean (d + 1), upper triangle of the centred
 * co-moment matrix sum (z - mean)(z - mean)' packed row by row ((d + 1)(d + 2) / 2)].
 */
static size_t moments_len(size_t d)
{
    return 1 + (d + 1) + (d + 1) * (d + 2) / 2;
}

/* Chan's parallel update: merges two sets of centred moments exactly (up to rounding). */
static void combine_moments(double *out, const double *left, const double *right, size_t len,
                            size_t d)
{
    const size_t k = d + 1;
    const double na = left[0], nb = right[0], n = na + nb;
    if (na == 0.0 || nb == 0.0) {
        memmove(out, na == 0.0 ? right : left, len * sizeof(double));
        return;
    }
    const double coef = na * nb / n;
    const double *mean_a = left + 1, *mean_b = right + 1, *C_a = left + 1 + k, *C_b = right + 1 + k;
    double *mean = out + 1, *C = out + 1 + k;
    for (size_t a = 0, p = 0; a < k; a++) {
        const double da = mean_b[a] - mean_a[a];
        for (size_t b = a; b < k; b++, p++)
            C[p] = C_a[p] + C_b[p] + coef * da * (mean_b[b] - mean_a[b]);
    }
    for (size_t a = 0; a < k; a++)
        mean[a] = mean_a[a] + (mean_b[a] - mean_a[a]) * (nb / n);
    out[0] = n;
}

/* For --reduce tree. MPI user operations take no context pointer, hence these two statics
 * (set before each reduction; the example is single-threaded). */
static combine_fn *tree_combine;
static size_t tree_d;

/* MPI's contract for a non-commutative operation: inout <- in op inout, in holding the lower
 * ranks. */
static void tree_op(void *in, void *inout, int *count, MPI_Datatype *type)
{
    int bytes = 0;
    MPI_Type_size(*type, &bytes);
    const size_t len = (size_t)bytes / sizeof(double);
    for (int c = 0; c < *count; c++) {
        double *r = (double *)inout + (size_t)c * len;
        tree_combine(r, (const double *)in + (size_t)c * len, r, len, tree_d);
    }
}

/*
 * Combines every rank's buf[0..len) in rank order on rank 0 (reduce_to_root) and broadcasts
 * the result (reduce_fixed): every rank ends with the same bits. gather: rank 0 receives all
 * buffers (work holds size * len) and combines them left to right, always in the same association.
 * tree: MPI_Reduce with a non-commutative operation (operands in rank order; how MPI groups them
 * may depend on the message size and the number of ranks).
 */
static void reduce_to_root(double *buf, size_t len, size_t d, combine_fn *combine, int tree,
                           double *work, int rank, int size)
{
    if (tree) {
        MPI_Datatype type;
        MPI_Op op;
        tree_combine = combine;
        tree_d = d;
        MPI_Type_contiguous((int)len, MPI_DOUBLE, &type);
        MPI_Type_commit(&type);
        MPI_Op_create(tree_op, 0, &op);
        MPI_Reduce(buf, work, 1, type, op, 0, MPI_COMM_WORLD);
        if (rank == 0)
            memcpy(buf, work, len * sizeof(double));
        MPI_Op_free(&op);
        MPI_Type_free(&type);
    } else {
        MPI_Gather(buf, (int)len, MPI_DOUBLE, work, (int)len, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        if (rank == 0)
            for (int r = 1; r < size; r++)
                combine(buf, buf, work + (size_t)r * len, len, d);
    }
}

static void reduce_fixed(double *buf, size_t len, size_t d, combine_fn *combine, int tree,
                         double *work, int rank, int size)
{
    reduce_to_root(buf, len, d, combine, tree, work, rank, size);
    MPI_Bcast(buf, (int)len, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

/* ---------------------------------------------------------------- training */

static int new_model(const struct options *o, size_t d, rill_model **m)
{
    *m = NULL;
    int rc = rill_model_new(m, o->loss, d, o->classes);
    if (!rc)
        rc = rill_model_set(*m, RILL_L2, o->l2);
    if (!rc && o->tol >= 0.0)
        rc = rill_model_set(*m, RILL_TOL, o->tol);
    if (!rc && o->max_epochs > 0.0)
        rc = rill_model_set(*m, RILL_MAX_EPOCHS, o->max_epochs);
    if (rc)
        fprintf(stderr, "mpi_fit: %s (%s)\n", rill_strerror(rc),
                *m ? rill_model_error(*m) : "rill_model_new");
    return rc;
}

/* The shard's sums into buf (n_weights gradient sums, loss sum, row count). A failure sets
 * the row count to NaN: the total is then NaN on every rank, and every rank stops. */
static void shard_sums(const rill_model *m, const struct dataset *ds, double *buf, size_t nw)
{
    memset(buf, 0, (nw + 2) * sizeof(double));
    if (ds->n == 0)
        return;
    int rc = rill_gradient(m, ds->X, ds->y, ds->n, buf, &buf[nw]);
    buf[nw + 1] = (double)ds->n;
    if (rc) {
        fprintf(stderr, "mpi_fit: rill_gradient: %s\n", rill_strerror(rc));
        buf[nw + 1] = NAN;
    }
}

/* 1 when the optimizer is done, as rill_fit decides: the tolerance is met, or no step lowers
 * the objective any more (RILL_STAT_STALLED, the rounding floor). */
static double finished(const rill_model *m)
{
    double converged = 0.0, stalled = 0.0;
    rill_model_get(m, RILL_STAT_CONVERGED, &converged);
    rill_model_get(m, RILL_STAT_STALLED, &stalled);
    return converged != 0.0 || stalled != 0.0 ? 1.0 : 0.0;
}

/* rill_fit's loop, with the reduction between the two calls. buf holds n_weights + 2
 * doubles. Returns 0 or -1, the same on every rank: they all apply the same sums. */
static int fit_distributed(rill_model *m, const struct dataset *ds, const struct options *o,
                           double *buf, double *work, int rank, int size)
{
    const size_t nw = rill_model_n_weights(m);
    double max_epochs = 0.0, converged = 0.0;
    rill_model_get(m, RILL_MAX_EPOCHS, &max_epochs);
    for (double epoch = 0.0; epoch < max_epochs && converged == 0.0; epoch += 1.0) {
        shard_sums(m, ds, buf, nw);
        reduce_fixed(buf, nw + 2, 0, combine_sum, o->tree, work, rank, size);
        if (!isfinite(buf[nw + 1]) || buf[nw + 1] <= 0.0) {
            if (rank == 0)
                fprintf(stderr, "mpi_fit: a rank could not compute its sums\n");
            return -1;
        }
        int rc = rill_apply_gradient(m, buf, buf[nw], buf[nw + 1]);
        if (rc) {
            if (rank == 0)
                fprintf(stderr, "mpi_fit: rill_apply_gradient: %s (%s)\n", rill_strerror(rc),
                        rill_model_error(m));
            return -1;
        }
        converged = finished(m);
    }
    return 0;
}

/* ---------------------------------------------------------------- driver mode */

/*
 * --driver: the protocol of a Spark or Dask job, with MPI as the transport. Only rank 0 (the
 * driver) holds the optimizer; every rank evaluates with a stateless probe model set to the
 * broadcast evaluation point. Per epoch: broadcast the point (n_w doubles and a go-on flag),
 * sums reduced to rank 0 (n_w + 2 doubles per rank), rank 0 applies. Same iterates as the
 * replicated loop, bit for bit: the probe evaluates at the same point with the same rows.
 */
static int fit_driver(rill_model *m, const struct dataset *ds, const struct options *o, double *buf,
                      double *work, int rank, int size)
{
    const size_t nw = rill_model_n_weights(m);
    double *point = malloc((nw + 1) * sizeof(double)), max_epochs = 0.0, converged = 0.0;
    rill_model *probe = NULL;
    int ok = point && rill_model_clone(&probe, m) == RILL_OK, all_ok = 0, rc = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (!all_ok)
        rc = -1;
    rill_model_get(m, RILL_MAX_EPOCHS, &max_epochs);
    for (double epoch = 0.0; rc == 0; epoch += 1.0) {
        if (rank == 0) { /* go on? then where to evaluate */
            point[nw] = epoch < max_epochs && converged == 0.0 ? 1.0 : 0.0;
            if (point[nw] != 0.0 && rill_model_eval_point(m, point, nw) != RILL_OK)
                point[nw] = -1.0;
        }
        MPI_Bcast(point, (int)(nw + 1), MPI_DOUBLE, 0, MPI_COMM_WORLD);
        if (point[nw] <= 0.0) {
            rc = point[nw] < 0.0 ? -1 : 0;
            break;
        }
        if (rill_model_set_weights(probe, point, nw) == RILL_OK) {
            shard_sums(probe, ds, buf, nw);
        } else {
            memset(buf, 0, (nw + 2) * sizeof(double));
            buf[nw + 1] = NAN;
        }
        reduce_to_root(buf, nw + 2, 0, combine_sum, o->tree, work, rank, size);
        if (rank == 0) {
            if (!isfinite(buf[nw + 1]) || buf[nw + 1] <= 0.0 ||
                rill_apply_gradient(m, buf, buf[nw], buf[nw + 1]) != RILL_OK) {
                fprintf(stderr, "mpi_fit: epoch failed (%s)\n", rill_model_error(m));
                converged = -1.0; /* tells the others at the next broadcast */
                max_epochs = 0.0;
            } else {
                converged = finished(m);
            }
        }
    }
    if (rank == 0 && converged < 0.0)
        rc = -1;
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    /* The workers' models take the driver's final weights (as a job would broadcast them). */
    if (rc == 0) {
        if (rank == 0)
            rill_model_weights(m, point, nw);
        MPI_Bcast(point, (int)nw, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        if (rank != 0 && rill_model_set_weights(m, point, nw) != RILL_OK)
            rc = -1;
    }
    rill_model_free(probe);
    free(point);
    return rc;
}

/* In-place Cholesky (upper triangle of the row-major k x k A, A = U'U) and solve of
 * U'U x = b. 0, or -1 if A is not numerically positive definite: a pivot at most 1e-13 of
 * its column's diagonal, each column against its own scale (as rill's EXACT solve), so that
 * features in small units beside ones in large units are not taken for collinear. */
static int cholesky_solve(double *A, size_t k, double *b)
{
    for (size_t j = 0; j < k; j++) {
        double s = A[j * k + j];
        for (size_t i = 0; i < j; i++)
            s -= A[i * k + j] * A[i * k + j];
        if (!(s > 1e-13 * A[j * k + j]))
            return -1;
        A[j * k + j] = sqrt(s);
        for (size_t c = j + 1; c < k; c++) {
            double t = A[j * k + c];
            for (size_t i = 0; i < j; i++)
                t -= A[i * k + j] * A[i * k + c];
            A[j * k + c] = t / A[j * k + j];
        }
    }
    for (size_t i = 0; i < k; i++) {
        double t = b[i];
        for (size_t j = 0; j < i; j++)
            t -= A[j * k + i] * b[j];
        b[i] = t / A[i * k + i];
    }
    for (size_t i = k; i-- > 0;) {
        double t = b[i];
        for (size_t j = i + 1; j < k; j++)
            t -= A[i * k + j] * b[j];
        b[i] = t / A[i * k + i];
    }
    return 0;
}

/* The shard's moments into buf (moments_len(d) doubles): two passes over rows in memory. */
static void shard_moments(const struct dataset *ds, double *buf)
{
    const size_t d = ds->d, k = d + 1;
    double *mean = buf + 1, *C = buf + 1 + k;
    memset(buf, 0, moments_len(d) * sizeof(double));
    buf[0] = (double)ds->n;
    if (ds->n == 0)
        return;
    for (size_t i = 0; i < ds->n; i++) {
        for (size_t j = 0; j < d; j++)
            mean[j] += ds->X[i * d + j];
        mean[d] += ds->y[i];
    }
    for (size_t j = 0; j < k; j++)
        mean[j] /= (double)ds->n;
    for (size_t i = 0; i < ds->n; i++) {
        const double *x = ds->X + i * d;
        for (size_t a = 0, p = 0; a < k; a++) {
            const double za = (a < d ? x[a] : ds->y[i]) - mean[a];
            for (size_t b = a; b < k; b++, p++)
                C[p] += za * ((b < d ? x[b] : ds->y[i]) - mean[b]);
        }
    }
}

/*
 * One pass: moments merged in rank order, ridge solved on rank 0, weights broadcast and set
 * on every rank. buf holds moments_len(d) doubles, A (rank 0) d * d. Returns 0 or -1, the
 * same on every rank. Every rank could solve (they hold the same moments); one solve and a
 * broadcast keeps the weights identical even on a cluster of different machines.
 */
static int fit_exact(rill_model *m, const struct dataset *ds, const struct options *o, double *buf,
                     double *A, double *work, int rank, int size)
{
    const size_t d = ds->d, k = d + 1;
    shard_moments(ds, buf);
    reduce_fixed(buf, moments_len(d), d, combine_moments, o->tree, work, rank, size);
    if (!(buf[0] > 0.0)) /* no rows at all */
        return -1;
    if (rank == 0) {
        /* (Cxx + n l2 I) w = Cxy; intercept = mean_y - mean_x'w. The solution goes out in
         * buf[0..d], and buf[k] says whether the solve worked. */
        const double n = buf[0], *mean = buf + 1, *C = buf + 1 + k;
        double *w = work;
        for (size_t a = 0, p = 0; a < k; a++)
            for (size_t b = a; b < k; b++, p++) {
                if (b < d)
                    A[a * d + b] = C[p] + (a == b ? n * o->l2 : 0.0);
                else if (a < d)
                    w[a] = C[p]; /* the column of y: Cxy */
            }
        const int singular = cholesky_solve(A, d, w);
        double mw = 0.0;
        for (size_t j = 0; j < d; j++)
            mw += mean[j] * w[j];
        w[d] = mean[d] - mw;
        memcpy(buf, w, k * sizeof(double));
        buf[k] = singular ? -1.0 : 0.0;
    }
    MPI_Bcast(buf, (int)(k + 1), MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (buf[k] != 0.0) {
        if (rank == 0)
            fprintf(stderr, "mpi_fit: the ridge system is singular (set --l2 > 0)\n");
        return -1;
    }
    return rill_model_set_weights(m, buf, k) == RILL_OK ? 0 : -1;
}

/* Loss sum and row count of the shard at exactly the model's weights (a probe model set to
 * them, so that the evaluation point is the weights), and the l2 penalty. sums[1] is NaN on
 * failure. */
static double shard_loss(const rill_model *m, const struct dataset *ds, double l2, double sums[2])
{
    const size_t nw = rill_model_n_weights(m), d = ds->d;
    double *w = malloc(nw * sizeof(double)), pen = 0.0;
    rill_model *probe = NULL;
    sums[0] = 0.0;
    sums[1] = (double)ds->n;
    if (!w || rill_model_weights(m, w, nw) || rill_model_clone(&probe, m) ||
        rill_model_set_weights(probe, w, nw) ||
        (ds->n && rill_gradient(probe, ds->X, ds->y, ds->n, NULL, &sums[0])))
        sums[1] = NAN;
    for (size_t j = 0; w && j < nw; j++)
        pen += j % (d + 1) == d ? 0.0 : w[j] * w[j];
    rill_model_free(probe);
    free(w);
    return 0.5 * l2 * pen;
}

/* The objective (mean loss + l2 penalty) over all ranks' rows: one loss-only evaluation
 * through the same reduction. */
static double objective_distributed(const rill_model *m, const struct dataset *ds,
                                    const struct options *o, double *work, int rank, int size)
{
    double sums[2];
    const double pen = shard_loss(m, ds, o->l2, sums);
    reduce_fixed(sums, 2, 0, combine_sum, o->tree, work, rank, size);
    return sums[0] / sums[1] + pen;
}

/* ---------------------------------------------------------------- the reference */

/* Rank 0: rill_fit on every row in one process; compares. 0 if they agree. */
static int check_against_fit(const struct options *o, int size, const rill_model *dist,
                             double objective)
{
    struct dataset all;
    rill_model *ref = NULL;
    if (load_shard(o, 0, size, 1, &all))
        return -1;
    const size_t nw = rill_model_n_weights(dist);
    double *w = malloc(nw * sizeof(double)), *w_ref = malloc(nw * sizeof(double));
    double epochs = 0.0, epochs_ref = 0.0, conv_ref = 0.0, obj_ref = 0.0;
    int rc = -1;
    if (!w || !w_ref || new_model(o, all.d, &ref))
        goto out;
    int fit = rill_fit(ref, all.X, all.y, all.n);
    if (fit) {
        fprintf(stderr, "mpi_fit: rill_fit: %s (%s)\n", rill_strerror(fit), rill_model_error(ref));
        goto out;
    }
    rill_model_weights(ref, w_ref, nw);
    rill_model_weights(dist, w, nw);
    rill_model_get(ref, RILL_STAT_EPOCHS, &epochs_ref);
    rill_model_get(ref, RILL_STAT_CONVERGED, &conv_ref);
    rill_model_get(dist, RILL_STAT_EPOCHS, &epochs);
    double sums[2];
    obj_ref = shard_loss(ref, &all, o->l2, sums);
    obj_ref += sums[0] / sums[1];
    double scale = 1.0, dw = 0.0;
    for (size_t j = 0; j < nw; j++) {
        scale = fmax(scale, fabs(w_ref[j]));
        dw = fmax(dw, fabs(w[j] - w_ref[j]));
    }
    const double dobj = fabs(objective - obj_ref) / fabs(obj_ref);
    printf("reference_epochs %.17g\nreference_converged %.17g\nreference_objective %.17g\n",
           epochs_ref, conv_ref, obj_ref);
    printf("objective_rel_diff %.17g\nweights_max_diff %.17g\nweights_scale %.17g\n", dobj, dw,
           scale);
    rc = conv_ref != 0.0 && dobj <= 1e-9 && dw <= 1e-6 * scale ? 0 : -1;
    /* One rank runs exactly rill_fit's evaluations: same epochs, same bits. */
    if (size == 1 && !o->exact && (epochs != epochs_ref || memcmp(w, w_ref, nw * sizeof(double)))) {
        printf("one rank differs from rill_fit (epochs %.17g vs %.17g)\n", epochs, epochs_ref);
        rc = -1;
    }
    /* The exact solve also equals the library's own, rill's EXACT stream on every row. */
    rill_model *ex = NULL;
    rill_stream *s = NULL;
    if (o->exact) {
        double dx = 0.0;
        if (new_model(o, all.d, &ex) || rill_stream_new(&s, ex, 256, RILL_STREAM_EXACT) ||
            rill_stream_push(s, all.X, all.y, all.n) || rill_stream_flush(s) ||
            rill_model_weights(ex, w_ref, nw)) {
            rc = -1;
        } else {
            for (size_t j = 0; j < nw; j++)
                dx = fmax(dx, fabs(w[j] - w_ref[j]));
            printf("exact_stream_weights_max_diff %.17g\n", dx);
            rc = dx <= 1e-9 * scale ? rc : -1;
        }
        rill_stream_free(s);
        rill_model_free(ex);
    }
out:
    rill_model_free(ref);
    free(w);
    free(w_ref);
    dataset_free(&all);
    return rc;
}

int main(int argc, char **argv)
{
    int rank = 0, size = 1, rc = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct options o;
    if (parse_options(argc, argv, &o)) {
        if (rank == 0)
            usage();
        MPI_Finalize();
        return 2;
    }

    /* Every rank loads its shard; all agree on success and on the number of features. */
    struct dataset ds;
    int loaded = load_shard(&o, rank, size, 0, &ds) == 0, all_loaded = 0;
    long d_local = loaded ? (long)ds.d : -1, d_min = 0, d_max = 0;
    MPI_Allreduce(&loaded, &all_loaded, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    MPI_Allreduce(&d_local, &d_min, 1, MPI_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&d_local, &d_max, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
    rill_model *m = NULL;
    if (!all_loaded || d_min != d_max || d_min < 1) {
        if (rank == 0)
            fprintf(stderr,
                    "mpi_fit: a rank could not load its shard (or feature counts differ)\n");
        rc = 1;
        goto done;
    }
    long n_local = (long)ds.n, n_total = 0;
    MPI_Allreduce(&n_local, &n_total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (n_total == 0) {
        if (rank == 0)
            fprintf(stderr, "mpi_fit: no data rows in any shard\n");
        rc = 1;
        goto done;
    }
    const size_t d = ds.d;
    int made = new_model(&o, d, &m) == RILL_OK, all_made = 0;
    MPI_Allreduce(&made, &all_made, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (!all_made) {
        rc = 1;
        goto done;
    }
    const size_t nw = rill_model_n_weights(m);
    const size_t len = o.exact ? moments_len(d) : nw + 2;
    /* buf: this rank's sums; work: rank 0 gathers size * len doubles into it (and the exact
     * solve uses it); A: the exact solve's matrix. */
    double *buf = malloc(len * sizeof(double));
    double *work = malloc(((size_t)size * len + d + 1) * sizeof(double));
    double *A = malloc(d * d * sizeof(double));
    int have = buf && work && A, all_have = 0;
    MPI_Allreduce(&have, &all_have, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    int fitted = -1;
    double seconds = 0.0, objective = NAN;
    if (all_have) {
        MPI_Barrier(MPI_COMM_WORLD);
        const double t0 = MPI_Wtime();
        fitted = o.exact    ? fit_exact(m, &ds, &o, buf, A, work, rank, size)
                 : o.driver ? fit_driver(m, &ds, &o, buf, work, rank, size)
                            : fit_distributed(m, &ds, &o, buf, work, rank, size);
        seconds = MPI_Wtime() - t0;
        if (fitted == 0)
            objective = objective_distributed(m, &ds, &o, work, rank, size);
    }
    /* Every rank must end with the same weights, bit for bit: rank 0 gathers and compares. */
    int identical = 0;
    if (all_have && fitted == 0) {
        double *mine = malloc(nw * sizeof(double)), *every = NULL;
        if (rank == 0)
            every = malloc((size_t)size * nw * sizeof(double));
        int ok = mine && (rank != 0 || every), all_ok = 0;
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
        if (all_ok) {
            rill_model_weights(m, mine, nw);
            MPI_Gather(mine, (int)nw, MPI_DOUBLE, every, (int)nw, MPI_DOUBLE, 0, MPI_COMM_WORLD);
            identical = 1;
            for (int r = 1; rank == 0 && r < size; r++)
                identical &= !memcmp(every, every + (size_t)r * nw, nw * sizeof(double));
        }
        free(mine);
        free(every);
    }
    free(buf);
    free(work);
    free(A);
    unsigned long rows = (unsigned long)ds.n, total = 0, lo = 0, hi = 0;
    MPI_Reduce(&rows, &total, 1, MPI_UNSIGNED_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&rows, &lo, 1, MPI_UNSIGNED_LONG, MPI_MIN, 0, MPI_COMM_WORLD);
    MPI_Reduce(&rows, &hi, 1, MPI_UNSIGNED_LONG, MPI_MAX, 0, MPI_COMM_WORLD);
    if (fitted) {
        rc = 1;
        goto done;
    }
    if (rank == 0) {
        double epochs = 0.0, converged = 0.0;
        rill_model_get(m, RILL_STAT_EPOCHS, &epochs);
        rill_model_get(m, RILL_STAT_CONVERGED, &converged);
        printf("ranks %d\nrows %lu\nshard_rows %lu..%lu\nfeatures %zu\nmode %s\n", size, total, lo,
               hi, d,
               o.exact    ? "exact"
               : o.driver ? "driver"
                          : "batch");
        printf("epochs %.17g\nconverged %.17g\nseconds %.6f\n", o.exact ? 1.0 : epochs,
               o.exact ? 1.0 : converged, seconds);
        /* per rank and per reduction: what each rank sends up (and receives back) */
        printf("bytes_per_reduce %zu\n", len * sizeof(double));
        printf("objective %.17g\nranks_identical %d\n", objective, identical);
        if (o.print_weights) {
            double *w = malloc(nw * sizeof(double));
            if (w && rill_model_weights(m, w, nw) == RILL_OK)
                for (size_t j = 0; j < nw; j++)
                    printf("w %zu %.17g\n", j, w[j]);
            free(w);
        }
        if (o.check) {
            rc = check_against_fit(&o, size, m, objective) || !identical;
            printf("check %s\n", rc ? "FAILED" : "ok");
        }
        fflush(stdout);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
done:
    rill_model_free(m);
    if (loaded)
        dataset_free(&ds);
    MPI_Finalize();
    return rc;
}
