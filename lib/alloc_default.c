/*
 * The default allocator (C malloc/free), alone in this file so that a program that passes its
 * own allocator (or none, on the no-heap path) links no malloc/free from rill.
 */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

/* malloc only promises alignment for max_align_t: over-allocate and keep the original pointer
 * just before the aligned block. */
static void *default_alloc(void *ctx, size_t size, size_t align)
{
    (void)ctx;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (size > SIZE_MAX - align - sizeof(void *))
        return NULL;
    void *raw = malloc(size + align + sizeof(void *));
    if (!raw)
        return NULL;
    uintptr_t p = ((uintptr_t)raw + sizeof(void *) + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)p)[-1] = raw;
    return (void *)p;
}

static void default_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    (void)size;
    if (ptr)
        free(((void **)ptr)[-1]);
}

static const rill_alloc default_allocator = {default_alloc, default_free, NULL};

int rill_model_new(rill_model **out, int loss, size_t n_features, size_t n_classes)
{
    return rill_model_new_alloc(out, loss, n_features, n_classes, &default_allocator);
}

int rill_model_load(rill_model **out, const void *buf, size_t size)
{
    return rill_model_load_alloc(out, buf, size, &default_allocator);
}
