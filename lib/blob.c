/* Model files: written in a later step of the format work; the calls exist and refuse. */
#include "internal.h"

int rill_model_save(const rill_model *m, void *buf, size_t cap, size_t *size)
{
    (void)buf;
    (void)cap;
    if (!m || !size)
        return RILL_EINVAL;
    return RILL_EUNSUPPORTED;
}

int rill_model_load_alloc(rill_model **out, const void *buf, size_t size, const rill_alloc *alloc)
{
    (void)size;
    if (!out || !buf || !alloc)
        return RILL_EINVAL;
    return RILL_EUNSUPPORTED;
}
