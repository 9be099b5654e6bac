/*
 * Determinism of the portable kernels: the same inputs and the same seed give bit-identical
 * models (every byte rill_model_save writes: weights, averaged iterate, AdaGrad sums, optimizer
 * memory, statistics), whatever the addresses and alignment of the data, and from one process
 * to the next.
 *
 * This executable links a copy of the library built with the portable kernels only (also in a
 * CBLAS build, whose kernels are held to the same optimum, not to the same bits).
 *
 * Run without arguments: the Check suite (each training path twice in this process, the second
 * time on data copied to a differently aligned address). Run with --hash: one line per path,
 * "name hash", where hash is the FNV-1a hash of the saved model; tests/determinism.sh runs it
 * in two processes with different environments and requires the same lines.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"
#include "ref.h"

/* Not a Check assertion: the scenarios also run outside the suite (--hash). */
#define REQUIRE(cond, ...)                                                                     \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                    \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#define OK(call)                                                                               \
    do {                                                                                       \
        int rc_ = (call);                                                                      \
        REQUIRE(rc_ == RILL_OK, "%s = %d (%s)", #call, rc_, rill_strerror(rc_));               \
    } while (0)

/* ------------------------------------------------------------------ data */

/* A data set copied `shift` doubles past a 64-byte boundary, so that a second run reads the
 * same values at other addresses and alignments. */
typedef struct data {
    double *X, *y;
    size_t n, d, K;
    void *block;
} data;

static void place(data *out, const double *X, const double *y, size_t n, size_t d, size_t K,
                  size_t shift)
{
    size_t cells = n * d + n + 8 + 2 * shift;
    void *block = NULL;
    REQUIRE(posix_memalign(&block, 64, cells * sizeof(double)) == 0, "out of memory");
    out->block = block;
    out->X = (double *)block + shift;
    out->y = out->X + n * d + shift;
    memcpy(out->X, X, n * d * sizeof(double));
    memcpy(out->y, y, n * sizeof(double));
    out->n = n;
    out->d = d;
    out->K = K;
}

static void unplace(data *dt)
{
    free(dt->block);
    memset(dt, 0, sizeof *dt);
}

enum { DIABETES, DIABETES_LABELS, IRIS, DIGITS, N_SETS };
static ref_data sets[N_SETS];
static const size_t set_classes[N_SETS] = {0, 2, 3, 10};

static void load_sets(void)
{
    ref_load("diabetes.csv", &sets[DIABETES]);
    ref_load("diabetes.csv", &sets[DIABETES_LABELS]);
    ref_threshold_labels(sets[DIABETES_LABELS].y, sets[DIABETES_LABELS].n, 140.0);
    ref_load("iris.csv", &sets[IRIS]);
    ref_load("digits.csv", &sets[DIGITS]);
    sets[DIGITS].n = 400; /* enough rows for several blocks, quick */
}

static void free_sets(void)
{
    for (int i = 0; i < N_SETS; i++)
        ref_data_free(&sets[i]);
}

/* ------------------------------------------------------------------ the training paths */

static rill_model *new_model(int loss, const data *dt)
{
    rill_model *m = NULL;
    OK(rill_model_new(&m, loss, dt->d, dt->K));
    return m;
}

static void set(rill_model *m, int param, double v)
{
    OK(rill_model_set(m, param, v));
}

static rill_model *batch_squared(const data *dt)
{
    rill_model *m = new_model(RILL_SQUARED, dt);
    set(m, RILL_L2, 1e-3);
    set(m, RILL_TOL, 1e-10);
    OK(rill_fit(m, dt->X, dt->y, dt->n));
    return m;
}

static rill_model *batch_logistic_l1(const data *dt)
{
    rill_model *m = new_model(RILL_LOGISTIC, dt);
    set(m, RILL_L1, 1e-3);
    OK(rill_fit(m, dt->X, dt->y, dt->n));
    return m;
}

static rill_model *batch_softmax(const data *dt)
{
    rill_model *m = new_model(RILL_SOFTMAX, dt);
    set(m, RILL_L2, 1e-3);
    set(m, RILL_MAX_EPOCHS, 150);
    OK(rill_fit(m, dt->X, dt->y, dt->n));
    return m;
}

static rill_model *fixed_step_squared(const data *dt)
{
    rill_model *m = new_model(RILL_SQUARED, dt);
    set(m, RILL_SCHEDULE, RILL_SCHEDULE_CONSTANT);
    set(m, RILL_LEARNING_RATE, 1e-5);
    set(m, RILL_MAX_EPOCHS, 40);
    OK(rill_fit(m, dt->X, dt->y, dt->n));
    return m;
}

/* rill_fit with RILL_BATCH_ROWS: shuffled epochs through a STEP stream. */
static rill_model *sgd(int loss, const data *dt, double b, double seed, int schedule,
                       double l1, double average)
{
    rill_model *m = new_model(loss, dt);
    set(m, RILL_BATCH_ROWS, b);
    set(m, RILL_SEED, seed);
    set(m, RILL_SCHEDULE, schedule);
    set(m, RILL_L2, 1e-4);
    set(m, RILL_L1, l1);
    set(m, RILL_AVERAGE, average);
    set(m, RILL_MAX_EPOCHS, 4);
    set(m, RILL_TOL, 0);
    OK(rill_fit(m, dt->X, dt->y, dt->n));
    return m;
}

static rill_model *sgd_squared_adagrad(const data *dt)
{
    return sgd(RILL_SQUARED, dt, 1, 3, RILL_SCHEDULE_ADAGRAD, 0, 100);
}

static rill_model *sgd_logistic_invscaling(const data *dt)
{
    return sgd(RILL_LOGISTIC, dt, 8, 11, RILL_SCHEDULE_INVSCALING, 0, 0);
}

static rill_model *sgd_softmax_l1(const data *dt)
{
    return sgd(RILL_SOFTMAX, dt, 4, 9007199254740991.0, RILL_SCHEDULE_INVSCALING, 1e-4, 1);
}

static rill_model *sgd_softmax_digits(const data *dt)
{
    return sgd(RILL_SOFTMAX, dt, 16, 5, RILL_SCHEDULE_ADAGRAD, 0, 0);
}

/* Pushes all rows in chunks of `chunk`, then flushes; `passes` times. */
static void stream_passes(rill_model *m, const data *dt, size_t b, int mode, size_t chunk,
                          int passes)
{
    rill_stream *s = NULL;
    OK(rill_stream_new(&s, m, b, mode));
    for (int p = 0; p < passes; p++) {
        for (size_t i = 0; i < dt->n; i += chunk) {
            size_t k = dt->n - i < chunk ? dt->n - i : chunk;
            OK(rill_stream_push(s, dt->X + i * dt->d, dt->y + i, k));
        }
        OK(rill_stream_flush(s));
    }
    rill_stream_free(s);
}

static rill_model *step_stream_logistic(const data *dt)
{
    rill_model *m = new_model(RILL_LOGISTIC, dt);
    set(m, RILL_SCHEDULE, RILL_SCHEDULE_OPTIMAL);
    set(m, RILL_L2, 1e-3);
    set(m, RILL_LEARNING_RATE, 0.5);
    stream_passes(m, dt, 16, RILL_STREAM_STEP, 37, 3);
    return m;
}

static rill_model *step_stream_softmax(const data *dt)
{
    rill_model *m = new_model(RILL_SOFTMAX, dt);
    set(m, RILL_AVERAGE, 50);
    stream_passes(m, dt, 32, RILL_STREAM_STEP, 100, 2);
    return m;
}

static rill_model *pass_stream_squared(const data *dt)
{
    rill_model *m = new_model(RILL_SQUARED, dt);
    set(m, RILL_L2, 1e-3);
    stream_passes(m, dt, 64, RILL_STREAM_PASS, 50, 25);
    return m;
}

static rill_model *pass_stream_softmax(const data *dt)
{
    rill_model *m = new_model(RILL_SOFTMAX, dt);
    set(m, RILL_L1, 1e-3);
    stream_passes(m, dt, 64, RILL_STREAM_PASS, 128, 20);
    return m;
}

static rill_model *exact_stream(const data *dt)
{
    rill_model *m = new_model(RILL_SQUARED, dt);
    set(m, RILL_L2, 1e-3);
    stream_passes(m, dt, 50, RILL_STREAM_EXACT, 33, 1);
    return m;
}

static rill_model *steps_row_by_row(const data *dt)
{
    rill_model *m = new_model(RILL_SOFTMAX, dt);
    set(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD);
    for (size_t i = 0; i < dt->n; i++)
        OK(rill_step(m, dt->X + i * dt->d, dt->y + i, 1));
    return m;
}

static rill_model *gradient_apply_loop(const data *dt)
{
    rill_model *m = new_model(RILL_LOGISTIC, dt);
    size_t nw = rill_model_n_weights(m);
    double g[16], l;
    REQUIRE(nw <= 16, "n_weights %zu", nw);
    set(m, RILL_L2, 1e-2);
    for (int it = 0; it < 30; it++) {
        OK(rill_gradient(m, dt->X, dt->y, dt->n, g, &l));
        OK(rill_apply_gradient(m, g, l, (double)dt->n));
    }
    return m;
}

typedef struct scenario {
    const char *name;
    int set;
    rill_model *(*run)(const data *dt);
} scenario;

static const scenario scenarios[] = {
    {"batch_squared_diabetes", DIABETES, batch_squared},
    {"batch_logistic_l1_diabetes", DIABETES_LABELS, batch_logistic_l1},
    {"batch_softmax_iris", IRIS, batch_softmax},
    {"batch_softmax_digits", DIGITS, batch_softmax},
    {"fixed_step_squared_diabetes", DIABETES, fixed_step_squared},
    {"sgd_b1_adagrad_average_squared_diabetes", DIABETES, sgd_squared_adagrad},
    {"sgd_b8_logistic_diabetes", DIABETES_LABELS, sgd_logistic_invscaling},
    {"sgd_b4_l1_average_softmax_iris", IRIS, sgd_softmax_l1},
    {"sgd_b16_adagrad_softmax_digits", DIGITS, sgd_softmax_digits},
    {"step_stream_logistic_diabetes", DIABETES_LABELS, step_stream_logistic},
    {"step_stream_softmax_digits", DIGITS, step_stream_softmax},
    {"pass_stream_squared_diabetes", DIABETES, pass_stream_squared},
    {"pass_stream_l1_softmax_digits", DIGITS, pass_stream_softmax},
    {"exact_stream_diabetes", DIABETES, exact_stream},
    {"rill_step_rows_softmax_iris", IRIS, steps_row_by_row},
    {"gradient_apply_loop_logistic", DIABETES_LABELS, gradient_apply_loop},
};
#define N_SCENARIOS ((int)(sizeof scenarios / sizeof scenarios[0]))

/* Runs scenario i on its data placed at `shift`; returns the saved model (malloc'd). */
static unsigned char *run_saved(int i, size_t shift, size_t *size)
{
    const ref_data *D = &sets[scenarios[i].set];
    data dt;
    place(&dt, D->X, D->y, D->n, D->d, set_classes[scenarios[i].set], shift);
    rill_model *m = scenarios[i].run(&dt);
    unplace(&dt);
    OK(rill_model_save(m, NULL, 0, size));
    unsigned char *blob = malloc(*size);
    REQUIRE(blob != NULL, "out of memory");
    OK(rill_model_save(m, blob, *size, size));
    rill_model_free(m);
    return blob;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ------------------------------------------------------------------ the suite */

static void setup(void)
{
    load_sets();
}

static void teardown(void)
{
    free_sets();
}

/* Twice in one process, the second run on data at another alignment: the same bytes. */
START_TEST(test_same_bits_twice)
{
    size_t a_size, b_size;
    unsigned char *a = run_saved(_i, 0, &a_size);
    unsigned char *b = run_saved(_i, 1, &b_size);
    size_t at = 0;
    ck_assert_uint_eq(a_size, b_size);
    while (at < a_size && a[at] == b[at])
        at++;
    ck_assert_msg(at == a_size, "%s: the two runs differ (first at byte %zu of %zu of the saved "
                                "model)", scenarios[_i].name, at, a_size);
    printf("%-40s bit-identical twice (%zu bytes, hash %016llx)\n", scenarios[_i].name, a_size,
           (unsigned long long)fnv1a(a, a_size));
    free(a);
    free(b);
}
END_TEST

/* The seed is used: another seed gives another order, hence other weights. */
START_TEST(test_seed_matters)
{
    const ref_data *D = &sets[DIABETES];
    data dt;
    rill_model *a, *b;
    double wa[11], wb[11];
    place(&dt, D->X, D->y, D->n, D->d, 0, 0);
    a = sgd(RILL_SQUARED, &dt, 1, 3, RILL_SCHEDULE_ADAGRAD, 0, 0);
    b = sgd(RILL_SQUARED, &dt, 1, 4, RILL_SCHEDULE_ADAGRAD, 0, 0);
    ck_assert_int_eq(rill_model_weights(a, wa, 11), RILL_OK);
    ck_assert_int_eq(rill_model_weights(b, wb, 11), RILL_OK);
    ck_assert_msg(memcmp(wa, wb, sizeof wa) != 0, "seeds 3 and 4 gave the same weights");
    rill_model_free(a);
    rill_model_free(b);
    unplace(&dt);
}
END_TEST

static Suite *determinism_suite(void)
{
    Suite *s = suite_create("determinism");
    TCase *tc = tcase_create("portable");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_same_bits_twice, 0, N_SCENARIOS);
    tcase_add_test(tc, test_seed_matters);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--hash") == 0) {
        load_sets();
        for (int i = 0; i < N_SCENARIOS; i++) {
            size_t size;
            unsigned char *blob = run_saved(i, 0, &size);
            printf("%s %016llx\n", scenarios[i].name, (unsigned long long)fnv1a(blob, size));
            free(blob);
        }
        free_sets();
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    setenv("CK_DEFAULT_TIMEOUT", "120", 0);
    setvbuf(stdout, NULL, _IOLBF, 0);
    SRunner *sr = srunner_create(determinism_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
