/*
 * rill_model_load on arbitrary bytes. The input is tried as it is, and again with its
 * total-size field and CRC made to match (so the fuzzer reaches the field checks behind the
 * checksum). A refused blob gives a status and leaves the out-pointer alone; an accepted one
 * is a canonical blob (saving the model gives back the very same bytes; a version 1 blob comes
 * back as version 2, docs/format.md: the same bytes with g0_norm as every weight's g0 appended
 * before the CRC) and a usable model
 * (predict, classify, step, save -> load -> save), and the loader is checked under a caller
 * allocator that fails.
 */
#include "fzmodel.h"

/* The version 2 blob that a version 1 blob b (size bytes, n_weights nw) loads as. */
static uint8_t *upgraded_v1(const uint8_t *b, size_t size, size_t nw, size_t *out_size)
{
    const size_t n = size + 8 * nw;
    uint8_t *u = malloc(n);
    FZ_CHECK(u != NULL);
    memcpy(u, b, size - 4);
    u[8] = 2;
    for (size_t j = 0; j < nw; j++)
        memcpy(u + size - 4 + 8 * j, b + 272, 8); /* g0_norm, little-endian as it is */
    fz_fix_blob(u, n);
    *out_size = n;
    return u;
}

static void try_load(const uint8_t *b, size_t size)
{
    rill_model *const sentinel = (rill_model *)&sentinel;
    rill_model *m = sentinel;
    int rc = rill_model_load(&m, b, size);
    FZ_CHECK(fz_status_ok(rc));
    if (rc != RILL_OK) {
        FZ_CHECK(m == sentinel);
        FZ_CHECK(rc == RILL_EFORMAT || rc == RILL_ENOMEM);
        return;
    }
    FZ_CHECK(m != sentinel && m != NULL);

    /* Accepted bytes are exactly what save writes for the model (a version 1 blob: its
     * upgrade). */
    size_t n = 0, nu = size;
    uint8_t *saved = fz_save(m, &n), *want = (uint8_t *)b;
    if (b[8] == 1)
        want = upgraded_v1(b, size, rill_model_n_weights(m), &nu);
    FZ_CHECK(n == nu && memcmp(saved, want, n) == 0);
    if (want != b)
        free(want);
    free(saved);

    /* Usable: a few rows (zeros, ones, a ramp) through every check. */
    double d = 0.0;
    FZ_CHECK(rill_model_get(m, RILL_MODEL_N_FEATURES, &d) == RILL_OK && d >= 1.0);
    const size_t nf = (size_t)d, rows = 3;
    uint8_t seed[64];
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)(b[i % size] ^ (uint8_t)i);
    struct fz f = {seed, sizeof seed};
    double *X, *y;
    fz_rows(&f, m, rows, &X, &y);
    for (size_t j = 0; j < nf; j++) {
        X[j] = 0.0;
        X[nf + j] = 1.0;
    }
    fz_check_roundtrip(m, X, y, rows);
    free(X);
    free(y);
    rill_model_free(m);

    /* The same blob through a caller allocator: it loads, frees everything it took, and an
     * allocation failure is RILL_ENOMEM with nothing leaked and the out-pointer untouched. */
    struct fz_heap heap = {0};
    rill_alloc a = {fz_alloc, fz_free, &heap};
    m = NULL;
    FZ_CHECK(rill_model_load_alloc(&m, b, size, &a) == RILL_OK && m != NULL);
    rill_model_free(m);
    FZ_CHECK(heap.live == 0);
    heap.fail_after = 1;
    m = sentinel;
    FZ_CHECK(rill_model_load_alloc(&m, b, size, &a) == RILL_ENOMEM && m == sentinel);
    FZ_CHECK(heap.live == 0 && heap.failed == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_load(data, size);
    if (size >= 60) {
        uint8_t *copy = malloc(size);
        FZ_CHECK(copy != NULL);
        memcpy(copy, data, size);
        fz_fix_blob(copy, size);
        try_load(copy, size);
        free(copy);
    }
    return 0;
}
