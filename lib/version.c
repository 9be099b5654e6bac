/* Version and status names. */
#include "internal.h"

#define RILL_STR2(x) #x
#define RILL_STR(x) RILL_STR2(x)

unsigned rill_version(void)
{
    return ((unsigned)RILL_VERSION_MAJOR << 16) | ((unsigned)RILL_VERSION_MINOR << 8) |
           (unsigned)RILL_VERSION_PATCH;
}

const char *rill_version_string(void)
{
    return RILL_STR(RILL_VERSION_MAJOR) "." RILL_STR(RILL_VERSION_MINOR) "." RILL_STR(
        RILL_VERSION_PATCH);
}

const char *rill_strerror(int status)
{
    switch (status) {
    case RILL_OK: return "success";
    case RILL_EINVAL: return "invalid argument";
    case RILL_ENOMEM: return "out of memory";
    case RILL_EDATA: return "invalid data (NaN/Inf, bad label or singular problem)";
    case RILL_EDIVERGED: return "training diverged";
    case RILL_EFORMAT: return "not a valid rill model blob";
    case RILL_ESTATE: return "call not valid in the current state";
    case RILL_ERANGE: return "buffer too small or size overflow";
    case RILL_EUNSUPPORTED: return "unsupported parameter, mode or loss";
    default: return "unknown status";
    }
}
