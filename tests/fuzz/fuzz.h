/*
 * Shared pieces of the fuzz targets: the libFuzzer entry point, a cursor that turns the input
 * into small decisions, and the check macro. A broken invariant aborts (the harness may; the
 * library never does), which libFuzzer and the replay driver both report as a failure.
 */
#ifndef RILL_FUZZ_H
#define RILL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                                       \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* Reads the input front to back; past the end every read gives 0. */
struct fz {
    const uint8_t *p;
    size_t left;
};

static inline unsigned fz_u8(struct fz *f)
{
    if (!f->left)
        return 0;
    f->left--;
    return *f->p++;
}

static inline uint32_t fz_u16(struct fz *f)
{
    uint32_t lo = fz_u8(f);
    return lo | (uint32_t)fz_u8(f) << 8;
}

static inline uint64_t fz_u64(struct fz *f)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)fz_u8(f) << (8 * i);
    return v;
}

/* A value in [0, n) (n >= 1). */
static inline unsigned fz_pick(struct fz *f, unsigned n)
{
    return fz_u8(f) % n;
}

/* A double: mostly small "nice" values, sometimes an edge case, sometimes any bit pattern. */
static inline double fz_double(struct fz *f)
{
    static const double edge[] = {0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, -1e300, 1e300,
                                  4.9e-324, 1.7976931348623157e308, 1e-8, 1e8, 3.0, 100.0};
    unsigned k = fz_u8(f);
    if (k < 160)
        return ((double)k - 80.0) / 16.0 + (double)fz_u8(f) / 4096.0;
    if (k < 240)
        return edge[k % (sizeof edge / sizeof edge[0])];
    uint64_t bits = fz_u64(f);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v; /* includes NaN and infinities */
}

/*
 * A caller allocator that checks the library's use of it: each free must name a live block
 * with the size it was allocated with, and fail_after > 0 makes the fail_after-th allocation
 * from now return NULL (0 = never fail). live counts blocks not yet freed.
 */
#define FZ_MAX_BLOCKS 64
struct fz_heap {
    void *ptr[FZ_MAX_BLOCKS];
    size_t size[FZ_MAX_BLOCKS];
    int live;
    int fail_after;
    int failed;
};

static inline void *fz_alloc(void *ctx, size_t size, size_t align)
{
    struct fz_heap *h = ctx;
    FZ_CHECK(align && (align & (align - 1)) == 0);
    if (h->fail_after > 0 && --h->fail_after == 0) {
        h->failed++;
        return NULL;
    }
    if (h->live == FZ_MAX_BLOCKS)
        return NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    void *p = NULL;
    if (posix_memalign(&p, align, size ? size : 1))
        return NULL;
    h->ptr[h->live] = p;
    h->size[h->live++] = size;
    return p;
}

static inline void fz_free(void *ctx, void *ptr, size_t size)
{
    struct fz_heap *h = ctx;
    FZ_CHECK(ptr != NULL);
    for (int i = 0; i < h->live; i++) {
        if (h->ptr[i] == ptr) {
            FZ_CHECK(h->size[i] == size);
            h->ptr[i] = h->ptr[h->live - 1];
            h->size[i] = h->size[--h->live];
            free(ptr);
            return;
        }
    }
    FZ_CHECK(!"free of a block the allocator did not hand out");
}

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), bit by bit: the model file's checksum. */
static inline uint32_t fz_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

/* Makes a candidate blob pass the loader's first gates: writes its length into the total-size
 * field (bytes 16..23) and its CRC into the last four bytes. Needs size >= 28. */
static inline void fz_fix_blob(uint8_t *b, size_t size)
{
    for (int i = 0; i < 8; i++)
        b[16 + i] = (uint8_t)((uint64_t)size >> (8 * i));
    uint32_t crc = fz_crc32(b, size - 4);
    for (int i = 0; i < 4; i++)
        b[size - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static inline int fz_status_ok(int status)
{
    return status <= 0 && status >= -8;
}

#endif
