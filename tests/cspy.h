/* A spy on the C allocator, for test executables linked with -Wl,--wrap for malloc, calloc,
 * realloc, free, posix_memalign and aligned_alloc (wrap_args in meson.build): while
 * cspy_armed is nonzero, every such call made by the statically linked library (or the test)
 * adds one to cspy_calls. The test's own allocations bypass it through the __real_ names. */
#ifndef RILL_TESTS_CSPY_H
#define RILL_TESTS_CSPY_H

#include <stddef.h>

extern int cspy_armed;
extern long cspy_calls;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
int __real_posix_memalign(void **p, size_t align, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);
int __wrap_posix_memalign(void **p, size_t align, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);

#endif
