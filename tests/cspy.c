/* The counting C-allocator spy of cspy.h. */
#include "cspy.h"

int cspy_armed;
long cspy_calls;

void *__wrap_malloc(size_t size)
{
    cspy_calls += cspy_armed != 0;
    return __real_malloc(size);
}
void *__wrap_calloc(size_t n, size_t size)
{
    cspy_calls += cspy_armed != 0;
    return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t size)
{
    cspy_calls += cspy_armed != 0;
    return __real_realloc(p, size);
}
void __wrap_free(void *p)
{
    cspy_calls += cspy_armed != 0 && p != NULL;
    __real_free(p);
}
int __wrap_posix_memalign(void **p, size_t align, size_t size)
{
    cspy_calls += cspy_armed != 0;
    return __real_posix_memalign(p, align, size);
}
void *__wrap_aligned_alloc(size_t align, size_t size)
{
    cspy_calls += cspy_armed != 0;
    return __real_aligned_alloc(align, size);
}
