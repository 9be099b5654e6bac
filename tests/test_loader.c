/*
 * The model loader's shape checks (docs/format.md): a blob whose header describes a shape that
 * is inconsistent, overflows, or does not match the blob's length is RILL_EFORMAT even with a
 * correct checksum, and a blob that needs more memory than the allocator gives is
 * RILL_ENOMEM. Every refusal leaves *out untouched and leaks nothing; an unedited blob loads
 * back to the same bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"
#include "tmain.h"
#include "tutil.h"

/* Header offsets (docs/format.md). */
#define OFF_LOSS 28
#define OFF_N_FEATURES 32
#define OFF_N_CLASSES 40
#define OFF_N_WEIGHTS 48

/* An allocator that counts live blocks and can refuse. */
struct counter {
    long live;
    int refuse;
};

static void *count_alloc(void *ctx, size_t size, size_t align)
{
    struct counter *c = ctx;
    void *p = NULL;
    if (c->refuse)
        return NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1))
        return NULL;
    c->live++;
    return p;
}

static void count_free(void *ctx, void *p, size_t size)
{
    struct counter *c = ctx;
    (void)size;
    c->live--;
    free(p);
}

static unsigned char *blob_of(int loss, size_t d, size_t K, size_t *size)
{
    rill_model *m = tu_new_model(loss, d, tu_classes_for(loss, K));
    unsigned char *b;
    ck_assert_int_eq(rill_model_save(m, NULL, 0, size), RILL_OK);
    b = malloc(*size);
    ck_assert_int_eq(rill_model_save(m, b, *size, size), RILL_OK);
    rill_model_free(m);
    return b;
}

struct shape_edit {
    const char *what;
    int loss;         /* of the saved model (d = 2, K = 3) */
    int new_loss;     /* 0: unchanged */
    int set_features; /* write n_features */
    uint64_t n_features;
    int set_classes;
    uint64_t n_classes;
    int set_weights;
    uint64_t n_weights;
};

static const struct shape_edit shape_edits[] = {
    {"squared with n_classes 2", RILL_SQUARED, 0, 0, 0, 1, 2, 0, 0},
    {"softmax relabelled squared (n_classes 3)", RILL_SOFTMAX, RILL_SQUARED, 0, 0, 0, 0, 0, 0},
    {"logistic with n_classes 3", RILL_LOGISTIC, 0, 0, 0, 1, 3, 0, 0},
    {"softmax relabelled logistic (n_classes 3)", RILL_SOFTMAX, RILL_LOGISTIC, 0, 0, 0, 0, 0, 0},
    {"logistic relabelled softmax (n_classes 2, 3 weights)", RILL_LOGISTIC, RILL_SOFTMAX, 0, 0, 0,
     0, 0, 0},
    {"softmax with n_classes 1", RILL_SOFTMAX, 0, 0, 0, 1, 1, 0, 0},
    {"n_features 0", RILL_SQUARED, 0, 1, 0, 0, 0, 0, 0},
    {"n_features UINT64_MAX", RILL_SQUARED, 0, 1, UINT64_MAX, 0, 0, 0, 0},
    /* (n_features + 1) n_outputs overflows 64 bits */
    {"n_features 2^63, 3 classes", RILL_SOFTMAX, 0, 1, UINT64_C(1) << 63, 0, 0, 0, 0},
    /* consistent shape whose blob size overflows */
    {"n_features 2^60, consistent n_weights", RILL_SOFTMAX, 0, 1, UINT64_C(1) << 60, 0, 0, 1,
     3 * ((UINT64_C(1) << 60) + 1)},
    /* consistent shape of another size than this blob */
    {"n_features 3, consistent n_weights", RILL_SOFTMAX, 0, 1, 3, 0, 0, 1, 12},
    {"n_weights off by one", RILL_SOFTMAX, 0, 0, 0, 0, 0, 1, 8},
    {"n_classes 4, consistent n_weights", RILL_SOFTMAX, 0, 0, 0, 1, 4, 1, 12},
};

START_TEST(test_shape_edits)
{
    const struct shape_edit *e = &shape_edits[_i];
    struct counter cnt = {0, 0};
    rill_alloc a = {count_alloc, count_free, &cnt};
    size_t size;
    unsigned char *b = blob_of(e->loss, 2, 3, &size);
    rill_model *m = (rill_model *)&cnt;

    if (e->new_loss)
        ref_wr_u32(b + OFF_LOSS, (uint32_t)e->new_loss);
    if (e->set_features)
        ref_wr_u64(b + OFF_N_FEATURES, e->n_features);
    if (e->set_classes)
        ref_wr_u64(b + OFF_N_CLASSES, e->n_classes);
    if (e->set_weights)
        ref_wr_u64(b + OFF_N_WEIGHTS, e->n_weights);
    ref_reseal(b, size);
    ck_assert_msg(rill_model_load_alloc(&m, b, size, &a) == RILL_EFORMAT, "%s: not refused",
                  e->what);
    ck_assert_msg(m == (rill_model *)&cnt, "%s: *out written", e->what);
    ck_assert_msg(cnt.live == 0, "%s: %ld blocks leaked", e->what, cnt.live);
    free(b);
}
END_TEST

/* The unedited blobs load (the edits above are what makes them fail), and save back to the
 * same bytes; an allocator that refuses gives RILL_ENOMEM and *out untouched. */
START_TEST(test_baseline_and_enomem)
{
    static const int losses[3] = {RILL_SQUARED, RILL_LOGISTIC, RILL_SOFTMAX};
    int i;
    for (i = 0; i < 3; i++) {
        struct counter cnt = {0, 0};
        rill_alloc a = {count_alloc, count_free, &cnt};
        size_t size, size2;
        unsigned char *b = blob_of(losses[i], 2, 3, &size), *b2;
        rill_model *m = (rill_model *)&cnt;
        ref_reseal(b, size); /* the test's CRC agrees with the library's */
        ck_assert_int_eq(rill_model_load_alloc(&m, b, size, &a), RILL_OK);
        ck_assert_int_eq(rill_model_save(m, NULL, 0, &size2), RILL_OK);
        ck_assert_uint_eq(size2, size);
        b2 = malloc(size2);
        ck_assert_int_eq(rill_model_save(m, b2, size2, &size2), RILL_OK);
        ck_assert_msg(memcmp(b, b2, size) == 0, "loss %d: load then save changed the bytes",
                      losses[i]);
        rill_model_free(m);
        ck_assert_int_eq(cnt.live, 0);
        cnt.refuse = 1;
        m = (rill_model *)&cnt;
        ck_assert_int_eq(rill_model_load_alloc(&m, b, size, &a), RILL_ENOMEM);
        ck_assert_ptr_eq(m, (rill_model *)&cnt);
        free(b);
        free(b2);
    }
}
END_TEST

static Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("shape");
    tcase_add_loop_test(tc, test_shape_edits, 0,
                        (int)(sizeof shape_edits / sizeof shape_edits[0]));
    tcase_add_test(tc, test_baseline_and_enomem);
    suite_add_tcase(s, tc);
    return s;
}

RILL_TEST_MAIN(loader_suite)
