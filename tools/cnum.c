/* Locale-independent number parsing: POSIX 2008 per-thread locales (newlocale, uselocale). */
#define _POSIX_C_SOURCE 200809L
#include "cnum.h"

#include <errno.h>
#include <locale.h>
#include <stdlib.h>

/* The program is single-threaded: one C locale object, made on first use and kept. */
static locale_t c_locale(void)
{
    static locale_t c = (locale_t)0;
    if (c == (locale_t)0)
        c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    return c;
}

double cnum_strtod(const char *s, char **end)
{
    locale_t c = c_locale();
    locale_t old = c != (locale_t)0 ? uselocale(c) : (locale_t)0;
    double v = strtod(s, end);
    int e = errno;
    if (old != (locale_t)0)
        uselocale(old);
    errno = e;
    return v;
}

int cnum_use_c_locale(void)
{
    locale_t c = c_locale();
    return c != (locale_t)0 && uselocale(c) != (locale_t)0 ? 0 : -1;
}
