/* Numbers in the C locale, whatever the process's locale: the rill command reads and writes
 * "1.5" under a comma-decimal LC_NUMERIC too, even in a program that called setlocale. */
#ifndef RILL_TOOLS_CNUM_H
#define RILL_TOOLS_CNUM_H

/* strtod in the C locale. */
double cnum_strtod(const char *s, char **end);
/* Makes the calling thread use the C locale for everything (printf, strtod, isspace), so
 * that the command's output does not depend on the environment. 0, or -1 if the C locale
 * object cannot be created (then the thread keeps the global locale, which is C unless
 * someone called setlocale). */
int cnum_use_c_locale(void);

#endif
