/* The run-time version matches the header's macros, and the one public struct keeps its
 * frozen layout (three pointer-sized members in this order: docs/abi.md). Links the shared
 * library, as a program built against the installed header would. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rill.h>

static int failures;

static void check(int ok, const char *what)
{
    printf("%-60s %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

int main(void)
{
    unsigned v = rill_version();
    check(v >> 16 == RILL_VERSION_MAJOR, "rill_version() major == RILL_VERSION_MAJOR");
    check((v >> 8 & 0xffu) == RILL_VERSION_MINOR, "rill_version() minor == RILL_VERSION_MINOR");
    check((v & 0xffu) == RILL_VERSION_PATCH, "rill_version() patch == RILL_VERSION_PATCH");

    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", RILL_VERSION_MAJOR, RILL_VERSION_MINOR,
             RILL_VERSION_PATCH);
    const char *s = rill_version_string();
    check(s != NULL && strcmp(s, expect) == 0, "rill_version_string() == \"MAJOR.MINOR.PATCH\"");

    /* Each fits its 8-bit field of rill_version(). */
    check(RILL_VERSION_MINOR < 256 && RILL_VERSION_PATCH < 256, "minor and patch below 256");

    check(offsetof(rill_alloc, alloc) == 0, "rill_alloc.alloc at offset 0");
    check(offsetof(rill_alloc, free) == sizeof(void *(*)(void *, size_t, size_t)),
          "rill_alloc.free follows alloc");
    check(offsetof(rill_alloc, ctx) ==
              offsetof(rill_alloc, free) + sizeof(void (*)(void *, void *, size_t)),
          "rill_alloc.ctx follows free");
    check(sizeof(rill_alloc) == offsetof(rill_alloc, ctx) + sizeof(void *),
          "rill_alloc has no member after ctx");

    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
