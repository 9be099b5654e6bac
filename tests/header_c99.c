/* The public header compiles alone as C99 with -pedantic -Werror (see tests/meson.build). */
#include <rill.h>

int main(void)
{
    rill_model *m = 0;
    int ok = rill_model_new(&m, RILL_SQUARED, 1, 0) == RILL_OK;
    rill_model_free(m);
    return ok && rill_version() == ((RILL_VERSION_MAJOR << 16) | (RILL_VERSION_MINOR << 8) |
                                    RILL_VERSION_PATCH)
               ? 0
               : 1;
}
