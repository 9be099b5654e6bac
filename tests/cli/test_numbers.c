/*
 * The rill command's number reading and printing do not depend on the locale: the CSV and
 * libsvm readers parse "1.5" and refuse "1,5" as a number, and the command's printf (after
 * cnum_use_c_locale) writes "1.5", also after setlocale picked a comma-decimal locale.
 *
 * The C-locale checks always run. The comma-locale checks run under RILL_TEST_LOCALE (the CLI
 * test generates one when the system has none) or an installed de_DE/fr_FR locale; without
 * any, the program says so and passes on the C-locale checks.
 */
#define _POSIX_C_SOURCE 200809L
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnum.h"
#include "reader.h"

static int failures;

#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            failures++;                                                                       \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                       \
            printf(__VA_ARGS__);                                                              \
            printf("\n");                                                                     \
        }                                                                                     \
    } while (0)

static const char *write_file(const char *name, const char *text)
{
    static char path[4096];
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/rill-numbers-%ld-%s", dir, (long)getpid(), name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        printf("cannot write %s\n", path);
        exit(1);
    }
    return path;
}

/* Reads the test files and checks every number, exactly. */
static void check_reading(const char *when)
{
    static const double want_X[2][2] = {{1.5, -2.25e-3}, {0.1, 1e300}};
    static const double want_y[2] = {0.5, -7.0};
    struct reader r;
    double X[4], y[2];
    const char *path = write_file("semi.csv", "a;b;y\n1.5;-2.25e-3;0.5\n 0.1 ; \"1e300\";-7\n");
    CHECK(reader_open(&r, path, FORMAT_CSV, ';', NULL, 0) == 0, "%s: open: %s", when, r.err);
    CHECK(reader_rows(&r, X, y, 2) == 2, "%s: CSV rows: %s", when, r.err);
    for (int i = 0; i < 2; i++) {
        CHECK(y[i] == want_y[i], "%s: CSV y[%d] = %.17g", when, i, y[i]);
        for (int j = 0; j < 2; j++)
            CHECK(X[2 * i + j] == want_X[i][j], "%s: CSV X[%d][%d] = %.17g", when, i, j,
                  X[2 * i + j]);
    }
    reader_close(&r);
    remove(path);

    path = write_file("comma.csv", "a;b;y\n1.5;2;3\n1,5;2;3\n");
    CHECK(reader_open(&r, path, FORMAT_CSV, ';', NULL, 0) == 0, "%s: open: %s", when, r.err);
    CHECK(reader_rows(&r, X, y, 2) == -1, "%s: '1,5' was read as a number", when);
    CHECK(strstr(r.err, ":3:1: cell 1: '1,5' is not a number") != NULL, "%s: message '%s'",
          when, r.err);
    reader_close(&r);
    remove(path);

    path = write_file("data.svm", "0.25 1:1.5 3:-0.125\n-1 2:2.5e-1\n");
    CHECK(reader_open(&r, path, FORMAT_LIBSVM, 0, NULL, 3) == 0, "%s: open: %s", when, r.err);
    double Xs[6], ys[2];
    CHECK(reader_rows(&r, Xs, ys, 2) == 2, "%s: libsvm rows: %s", when, r.err);
    CHECK(ys[0] == 0.25 && ys[1] == -1.0, "%s: libsvm labels %.17g %.17g", when, ys[0], ys[1]);
    CHECK(Xs[0] == 1.5 && Xs[1] == 0.0 && Xs[2] == -0.125 && Xs[3] == 0.0 && Xs[4] == 0.25 &&
              Xs[5] == 0.0,
          "%s: libsvm values", when);
    reader_close(&r);
    remove(path);

    char *end;
    CHECK(cnum_strtod("0.1", &end) == 0.1 && *end == '\0', "%s: cnum_strtod(\"0.1\")", when);
    CHECK(cnum_strtod("1,5", &end) == 1.0 && *end == ',', "%s: cnum_strtod(\"1,5\")", when);
}

static void check_printing(const char *when)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g %.3f", 0.1, -2.5);
    CHECK(strcmp(buf, "0.10000000000000001 -2.500") == 0, "%s: printed '%s'", when, buf);
}

static const char *comma_locale(void)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                        NULL};
    const char *env = getenv("RILL_TEST_LOCALE");
    if (env && setlocale(LC_ALL, env) && strcmp(localeconv()->decimal_point, ",") == 0)
        return env;
    for (int i = 0; names[i]; i++)
        if (setlocale(LC_ALL, names[i]) && strcmp(localeconv()->decimal_point, ",") == 0)
            return names[i];
    setlocale(LC_ALL, "C");
    return NULL;
}

int main(void)
{
    int checked_comma = 0;
    check_reading("C locale");
    check_printing("C locale");
    const char *name = comma_locale();
    if (name) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.1f", 1.5);
        CHECK(strcmp(buf, "1,5") == 0, "setlocale(%s) is not in effect: '%s'", name, buf);
        check_reading(name); /* the readers, with the global locale a comma one */
        CHECK(cnum_use_c_locale() == 0, "cnum_use_c_locale failed");
        check_printing(name); /* the command's printf after main's cnum_use_c_locale() */
        checked_comma = failures == 0;
    } else {
        printf("no comma-decimal locale installed: checked in the C locale only\n");
    }
    if (checked_comma)
        printf("comma locale checks passed (%s)\n", name);
    printf("%s\n", failures ? "FAILED" : "all number checks passed");
    return failures ? 1 : 0;
}
