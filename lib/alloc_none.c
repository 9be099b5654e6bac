/*
 * Built instead of alloc_default.c with -Ddefault_alloc=false (firmware): no default
 * allocator, so the library references no malloc/free. The calls that would use it say so;
 * models come from rill_model_new_alloc, rill_model_load_alloc or rill_model_init_static.
 */
#include "internal.h"

int rill_model_new(rill_model **out, int loss, size_t n_features, size_t n_classes)
{
    (void)out;
    (void)loss;
    (void)n_features;
    (void)n_classes;
    return RILL_EUNSUPPORTED;
}

int rill_model_load(rill_model **out, const void *buf, size_t size)
{
    (void)out;
    (void)buf;
    (void)size;
    return RILL_EUNSUPPORTED;
}
