/*
 * Numbers in the C locale, whatever the process's locale: the rill command reads and writes
 * "1.5" under a comma-decimal LC_NUMERIC too, even inside a program that called setlocale.
 * POSIX 2008 per-thread locales (newlocale, uselocale). Header-only, so that every user of the
 * readers (the command, the tests that include reader.c) gets it without build changes.
 */
#ifndef RILL_TOOLS_CNUM_H
#define RILL_TOOLS_CNUM_H

#include <errno.h>
#include <locale.h>
#include <stdlib.h>

/* The C locale object, made on first use and kept (the command is single-threaded). */
static inline locale_t cnum_c_locale(void)
{
    static locale_t c = (locale_t)0;
    if (c == (locale_t)0)
        c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    return c;
}

/* strtod in the C locale. */
static inline double cnum_strtod(const char *s, char **end)
{
    locale_t c = cnum_c_locale();
    locale_t old = c != (locale_t)0 ? uselocale(c) : (locale_t)0;
    double v = strtod(s, end);
    int e = errno;
    if (old != (locale_t)0)
        uselocale(old);
    errno = e;
    return v;
}

/* Makes the calling thread use the C locale for everything (printf, strtod, isspace), so that
 * output does not depend on the environment. 0, or -1 if the locale object cannot be made
 * (the thread then keeps the global locale, which is C unless someone called setlocale). */
static inline int cnum_use_c_locale(void)
{
    locale_t c = cnum_c_locale();
    return c != (locale_t)0 && uselocale(c) != (locale_t)0 ? 0 : -1;
}

#endif
