/*
 * RILL_THREADS = T > 1: rill_gradient and rill_fit's batch gradient over row parts.
 *
 * The rows are cut into P = min(T, blocks) parts at multiples of RILL_BLOCK_ROWS (part p
 * starts at block floor(p blocks / P)). Part 0 adds to the caller's sums as the single-part
 * kernel would; every other part sums into its own zeroed arrays, which are then added to the
 * caller's in part order. The bits depend on n_rows and T only: calls too small to be worth a
 * thread run their parts one after another on the calling thread, and so does a part whose
 * thread cannot be started. With T = 1 nothing here runs and the sums are the kernels'
 * canonical ones (kernels.c), the same bits as a PASS stream's.
 */
#include <string.h>

#include "internal.h"

#ifdef RILL_HAVE_THREADS
#include <pthread.h>

/* Values (rows x weights) below which the parts run on the calling thread: starting and
 * joining a thread costs about as much as summing this many. */
#define RL_PARTS_MIN_WORK ((size_t)1 << 18)

static size_t n_parts(const rill_model *m, size_t n_rows)
{
    const size_t blocks = n_rows / RILL_BLOCK_ROWS + (n_rows % RILL_BLOCK_ROWS != 0);
    const size_t t = (size_t)m->threads;
    return t < blocks ? t : blocks;
}

int rl_parts_open(const rill_model *m, size_t n_rows, int want_grad, struct rl_parts *p)
{
    p->n = n_parts(m, n_rows);
    p->grad = NULL;
    p->bytes = 0;
    if (p->n <= 1 || !want_grad)
        return RILL_OK;
    size_t count;
    if (rl_mul_size(p->n - 1, m->n_weights, &count) ||
        rl_mul_size(count, sizeof(double), &p->bytes))
        return RILL_ENOMEM;
    p->grad = rl_alloc(&m->alloc, p->bytes);
    if (!p->grad) {
        p->bytes = 0;
        return RILL_ENOMEM;
    }
    return RILL_OK;
}

void rl_parts_close(const rill_model *m, struct rl_parts *p)
{
    if (p->grad)
        rl_free(&m->alloc, p->grad, p->bytes);
    p->grad = NULL;
    p->bytes = 0;
}

struct part {
    const rill_model *m;
    const double *w, *X, *y;
    size_t n;
    double *grad, loss;
};

static void part_run(struct part *q)
{
    rl_kernel_sums(q->m, q->w, q->X, q->y, q->n, q->grad, &q->loss);
}

static void *part_thread(void *arg)
{
    part_run(arg);
    return NULL;
}

void rl_parts_sums(const rill_model *m, const struct rl_parts *p, const double *w,
                   const double *X, const double *y, size_t n_rows, double *grad_sum,
                   double *loss_sum)
{
    if (p->n <= 1 || (grad_sum && !p->grad)) { /* the latter: opened without want_grad */
        rl_kernel_sums(m, w, X, y, n_rows, grad_sum, loss_sum);
        return;
    }
    const size_t d = m->n_features, nw = m->n_weights, blocks = (n_rows + RILL_BLOCK_ROWS - 1) /
                                                                 RILL_BLOCK_ROWS;
    struct part q[RL_MAX_THREADS];
    for (size_t i = 0; i < p->n; i++) {
        const size_t lo = blocks * i / p->n * RILL_BLOCK_ROWS;
        const size_t hi = i + 1 == p->n ? n_rows : blocks * (i + 1) / p->n * RILL_BLOCK_ROWS;
        q[i].m = m;
        q[i].w = w;
        q[i].X = X + lo * d;
        q[i].y = y + lo;
        q[i].n = hi - lo;
        q[i].grad = grad_sum ? (i == 0 ? grad_sum : p->grad + (i - 1) * nw) : NULL;
        q[i].loss = i == 0 ? *loss_sum : 0.0;
        if (i > 0 && q[i].grad)
            memset(q[i].grad, 0, nw * sizeof(double));
    }
    pthread_t tid[RL_MAX_THREADS];
    int started[RL_MAX_THREADS] = {0};
    size_t work;
    const int threaded = !rl_mul_size(n_rows, nw, &work) ? work >= RL_PARTS_MIN_WORK : 1;
    /* pthread_join is a cancellation point: the caller's thread cancelled in it would leave
     * the parts' sums unfreed and the threads writing into this frame. The call has none with
     * one thread, so it has none with several. */
    int cancel_state = PTHREAD_CANCEL_ENABLE;
    if (threaded)
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    for (size_t i = 1; threaded && i < p->n; i++)
        started[i] = pthread_create(&tid[i], NULL, part_thread, &q[i]) == 0;
    part_run(&q[0]);
    for (size_t i = 1; i < p->n; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            part_run(&q[i]);
    }
    if (threaded)
        pthread_setcancelstate(cancel_state, NULL);
    double loss = q[0].loss;
    for (size_t i = 1; i < p->n; i++) {
        loss += q[i].loss;
        if (grad_sum) {
            const double *g = q[i].grad;
            for (size_t j = 0; j < nw; j++)
                grad_sum[j] += g[j];
        }
    }
    *loss_sum = loss;
}

#endif /* RILL_HAVE_THREADS; without threads, internal.h has the one-part versions inline */
