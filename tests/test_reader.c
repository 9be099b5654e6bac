/*
 * The rill command's text readers (tools/reader.c) as a unit: CSV and libsvm rows from files
 * and stdin, headers and label columns, label rules, and every error, which must name
 * "path:line:column: " (column in characters from 1 where the offending cell or field starts;
 * no column for whole-line errors) and refuse the input.
 *
 * Linked with -Wl,--wrap=realloc so that a line buffer that cannot grow can be simulated.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"

/* ------------------------------------------------------------------ realloc that can fail */

void *__real_realloc(void *p, size_t size);
void *__wrap_realloc(void *p, size_t size);
static size_t realloc_limit = (size_t)-1; /* requests above this fail */

void *__wrap_realloc(void *p, size_t size)
{
    return size > realloc_limit ? NULL : __real_realloc(p, size);
}

/* ------------------------------------------------------------------ files */

static char dir[64];

static const char *tmpdir(void)
{
    if (!dir[0]) {
        strcpy(dir, "/tmp/rill_reader_XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
    }
    return dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (dir[0])
        nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

/* Writes len bytes to a file in the test directory; returns its path (static storage). */
static const char *put_n(const char *name, const char *text, size_t len)
{
    static char paths[8][1024];
    static int next;
    char *path = paths[next++ % 8];
    FILE *f;
    snprintf(path, sizeof paths[0], "%s/%s", tmpdir(), name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

static const char *put(const char *name, const char *text)
{
    return put_n(name, text, strlen(text));
}

#define MAXR 16
#define MAXD 8
struct rd {
    struct reader r;
    double X[MAXR * MAXD], y[MAXR];
};

/* r->err starts with "<path>:<where>" and contains what. */
static void expect_err(const struct reader *r, const char *path, const char *where,
                       const char *what)
{
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "%s:%s", path, where);
    ck_assert_msg(strncmp(r->err, prefix, strlen(prefix)) == 0, "error \"%s\" does not start "
                  "with \"%s\"", r->err, prefix);
    ck_assert_msg(strstr(r->err, what) != NULL, "error \"%s\" does not say \"%s\"", r->err, what);
}

static void open_ok(struct rd *d, const char *path, int format, char delim, const char *label,
                    size_t nf)
{
    memset(d, 0, sizeof *d);
    ck_assert_msg(reader_open(&d->r, path, format, delim, label, nf) == 0, "open %s: %s", path,
                  d->r.err);
}

/* Opens, sets the label rule, reads all rows: returns the count or -1. */
static long read_all(struct rd *d, const char *path, int format, const char *label, size_t nf,
                     int labels, size_t n_classes)
{
    open_ok(d, path, format, ',', label, nf);
    d->r.labels = labels;
    d->r.n_classes = n_classes;
    return reader_rows(&d->r, d->X, d->y, MAXR);
}

/* ------------------------------------------------------------------ CSV */

START_TEST(test_csv_header_and_label_columns)
{
    struct rd d;
    const char *p = put("h.csv", "a, b ,\"y\"\n1,2,3\n\n\r\n4,5,6\r\n");
    /* default: the last column; blank lines skipped; CRLF stripped */
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, NULL, 0, LABELS_ANY, 0), 2);
    ck_assert_uint_eq(d.r.n_features, 2);
    ck_assert(d.X[0] == 1 && d.X[1] == 2 && d.y[0] == 3 && d.X[2] == 4 && d.X[3] == 5 &&
              d.y[1] == 6);
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, MAXR), 0); /* at the end */
    reader_close(&d.r);
    /* by name (trimmed, quotes removed) and by index: the label in the middle */
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, "b", 0, LABELS_ANY, 0), 2);
    ck_assert(d.X[0] == 1 && d.X[1] == 3 && d.y[0] == 2);
    reader_close(&d.r);
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, "y", 0, LABELS_ANY, 0), 2);
    ck_assert(d.y[1] == 6);
    reader_close(&d.r);
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, "0", 0, LABELS_ANY, 0), 2);
    ck_assert(d.y[0] == 1 && d.X[0] == 2 && d.X[1] == 3);
    reader_close(&d.r);
    /* no header: the first line is data, read again; quoted and spaced numbers */
    p = put("n.csv", "1, \"2\" ,3\n4,5,6");
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, "1", 0, LABELS_ANY, 0), 2);
    ck_assert(d.X[0] == 1 && d.X[1] == 3 && d.y[0] == 2 && d.y[1] == 5);
    reader_close(&d.r);
    /* rows arrive in chunks of max_rows */
    open_ok(&d, put("s.csv", "1;2\n"), FORMAT_CSV, ';', NULL, 0);
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, MAXR), 1);
    ck_assert(d.X[0] == 1 && d.y[0] == 2);
    reader_close(&d.r);
    open_ok(&d, p, FORMAT_CSV, 0, NULL, 0);
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, 1), 1);
    ck_assert(d.y[0] == 3);
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, 1), 1);
    ck_assert(d.y[0] == 6);
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, 1), 0);
    reader_close(&d.r);
    cleanup();
}
END_TEST

/* The first line is a header only when some cell is text: a data line with an empty cell is
 * refused, not taken for a header; a UTF-8 byte order mark is not part of the first cell; a
 * header's first column may be unnamed (an index column); numbers of any length. */
START_TEST(test_csv_first_line)
{
    struct rd d;
    const char *p = put("bom.csv", "\xEF\xBB\xBF" "a,b,y\n1,2,3\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, "a", 0, LABELS_ANY, 0), 1);
    ck_assert(d.y[0] == 1 && d.X[0] == 2 && d.X[1] == 3);
    reader_close(&d.r);
    p = put("bomdata.csv", "\xEF\xBB\xBF" "1,2,3\n4,5,6\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, NULL, 0, LABELS_ANY, 0), 2);
    ck_assert(d.X[0] == 1 && d.y[1] == 6);
    reader_close(&d.r);
    p = put("notbom.csv", "\xEF\xBB" "a,y\n1,2\n"); /* part of a mark: a header's text */
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, NULL, 0, LABELS_ANY, 0), 1);
    reader_close(&d.r);
    p = put("idx.csv", ",b,y\n1,2,3\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, NULL, 0, LABELS_ANY, 0), 1);
    ck_assert(d.X[0] == 1 && d.y[0] == 3);
    reader_close(&d.r);
    p = put("gap.csv", "1,,3\n4,5,6\n");
    open_ok(&d, p, FORMAT_CSV, ',', NULL, 0);
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, MAXR), -1);
    expect_err(&d.r, p, "1:3: ", "cell 2: '' is not a number");
    reader_close(&d.r);
    p = put("long.csv", "a,y\n0.00000000000000000000000000000000000000000000000000000000000000"
                        "000000000000000000000000000000000000000000000000000000000000000000001"
                        ",1\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, NULL, 0, LABELS_ANY, 0), 1);
    ck_assert(d.X[0] == 1e-131 && d.y[0] == 1);
    reader_close(&d.r);
    cleanup();
}
END_TEST

START_TEST(test_csv_open_errors)
{
    struct reader r;
    const char *p;
    memset(&r, 0, sizeof r);
    p = put("empty.csv", "\n\r\n\n");
    ck_assert_int_eq(reader_open(&r, p, FORMAT_CSV, ',', NULL, 0), -1);
    expect_err(&r, p, "3: ", "no data");
    reader_close(&r);
    p = put("one.csv", "1\n2\n"); /* one column: no feature; the caller decides */
    ck_assert_int_eq(reader_open(&r, p, FORMAT_CSV, ',', NULL, 0), 0);
    ck_assert_uint_eq(r.n_features, 0);
    reader_close(&r);
    p = put("h.csv", "a,b\n1,2\n");
    ck_assert_int_eq(reader_open(&r, p, FORMAT_CSV, ',', "2", 0), -1);
    expect_err(&r, p, "1: ", "label column 2 out of range (2 columns");
    reader_close(&r);
    ck_assert_int_eq(reader_open(&r, p, FORMAT_CSV, ',', "c", 0), -1);
    expect_err(&r, p, "1: ", "no column named 'c'");
    reader_close(&r);
    ck_assert_int_eq(reader_open(&r, p, FORMAT_CSV, ',', "1a", 0), -1); /* not an index */
    expect_err(&r, p, "1: ", "no column named '1a'");
    reader_close(&r);
    p = put("d.csv", "1,2\n");
    ck_assert_int_eq(reader_open(&r, p, FORMAT_CSV, ',', "b", 0), -1);
    expect_err(&r, p, "1: ", "no header line");
    reader_close(&r);
    ck_assert_int_eq(reader_open(&r, p, FORMAT_CSV, ',', "", 0), -1);
    expect_err(&r, p, "1: ", "no header line");
    reader_close(&r);
    /* missing file: "path: reason", nothing to close but the call is safe */
    p = put("x.csv", "");
    remove(p);
    ck_assert_int_eq(reader_open(&r, p, FORMAT_CSV, ',', NULL, 0), -1);
    ck_assert_msg(strncmp(r.err, p, strlen(p)) == 0 && strstr(r.err, "No such file") != NULL,
                  "%s", r.err);
    reader_close(&r);
    ck_assert_ptr_null(r.f);
    /* a directory: fopen succeeds, reading fails */
    ck_assert_int_eq(reader_open(&r, tmpdir(), FORMAT_CSV, ',', NULL, 0), -1);
    ck_assert_msg(strstr(r.err, "read error") != NULL, "%s", r.err);
    reader_close(&r);
    cleanup();
}
END_TEST

START_TEST(test_csv_row_errors)
{
    static const struct {
        const char *text, *label;
        int labels;
        size_t n_classes;
        const char *where, *what;
    } cases[] = {
        {"a,b,y\n1,2,3,4\n", NULL, LABELS_ANY, 0, "2:7: ", "4 cells, expected 3 (delimiter ',')"},
        {"a,b,y\n1,2\n", NULL, LABELS_ANY, 0, "2:4: ", "2 cells, expected 3"},
        {"a,b,y\n1,x,3\n", NULL, LABELS_ANY, 0, "2:3: ", "cell 2: 'x' is not a number"},
        {"a,b,y\n1,,3\n", NULL, LABELS_ANY, 0, "2:3: ", "cell 2: '' is not a number"},
        {"a,b,y\n1,2.5z,3\n", NULL, LABELS_ANY, 0, "2:3: ", "'2.5z' is not a number"},
        {"a,b,y\n1,\",3\n", NULL, LABELS_ANY, 0, "2:3: ", "'\"' is not a number"},
        {"a,b,y\n1,\"2,3\n", NULL, LABELS_ANY, 0, "2:3: ", "cell 2: '\"2' is not a number"},
        {"a,b,y\n1,nan,3\n", NULL, LABELS_ANY, 0, "2:3: ", "cell 2 is NaN"},
        {"a,b,y\n-inf,1,3\n", NULL, LABELS_ANY, 0, "2:1: ", "cell 1 is infinite"},
        {"a,b,y\n1,2,nan\n", NULL, LABELS_ANY, 0, "2:5: ", "label 'nan' is NaN"},
        {"a,b,y\n1,2,inf\n", NULL, LABELS_ANY, 0, "2:5: ", "label 'inf' is infinite"},
        {"a,b,y\n1,2,-1\n", NULL, LABELS_BINARY, 0, "2:5: ", "label '-1' is not 0 or 1"},
        {"a,b,y\n1,2,0.5\n", NULL, LABELS_BINARY, 0, "2:5: ", "is not 0 or 1"},
        {"a,b,y\n1,2,3\n", NULL, LABELS_CLASSES, 3, "2:5: ", "label '3' is not a class 0..2"},
        {"a,b,y\n1,2,1.5\n", NULL, LABELS_CLASSES, 3, "2:5: ", "not a class 0..2"},
        {"a,b,y\n1,2,-1\n", NULL, LABELS_CLASSES, 0, "2:5: ", "not a class index"},
        {"a,b,y\n1,2,2e6\n", NULL, LABELS_CLASSES, 0, "2:5: ", "not a class index"},
        {"a,y,b\n1,x,3\n", "y", LABELS_ANY, 0, "2:3: ", "cell 2: 'x' is not a number"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rd d;
        const char *p = put("e.csv", cases[i].text);
        ck_assert_msg(read_all(&d, p, FORMAT_CSV, cases[i].label, 0, cases[i].labels,
                               cases[i].n_classes) == -1,
                      "case %zu accepted", i);
        expect_err(&d.r, p, cases[i].where, cases[i].what);
        reader_close(&d.r);
    }
    cleanup();
}
END_TEST

START_TEST(test_csv_label_rules_accept)
{
    struct rd d;
    const char *p = put("l.csv", "a,y\n1,0\n2,1\n3,1.0\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, NULL, 0, LABELS_BINARY, 0), 3);
    ck_assert(d.y[0] == 0 && d.y[1] == 1 && d.y[2] == 1);
    reader_close(&d.r);
    p = put("c.csv", "a,y\n1,0\n2,2\n3,1048575\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, NULL, 0, LABELS_CLASSES, 0), 3);
    ck_assert(d.y[2] == 1048575);
    reader_close(&d.r);
    p = put("c3.csv", "a,y\n1,0\n2,2\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, NULL, 0, LABELS_CLASSES, 3), 2);
    ck_assert(d.y[1] == 2);
    reader_close(&d.r);
    /* ignored labels are not even parsed */
    p = put("i.csv", "a,y,b\n1,junk,2\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, "y", 0, LABELS_IGNORE, 0), 1);
    ck_assert(d.X[0] == 1 && d.X[1] == 2 && d.y[0] == 0);
    reader_close(&d.r);
    /* prediction input: every column a feature */
    p = put("f.csv", "1,2,3\n4,5,6\n");
    open_ok(&d, p, FORMAT_CSV, ',', NULL, 0);
    d.r.no_label = 1;
    d.r.n_features = 3;
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, MAXR), 2);
    ck_assert(d.X[2] == 3 && d.X[5] == 6 && d.y[0] == 0);
    reader_close(&d.r);
    cleanup();
}
END_TEST

/* Lines longer than the first buffer grow it; a buffer that cannot grow is an error that
 * names the line (not the end of the input). */
START_TEST(test_long_lines_and_out_of_memory)
{
    char text[4096];
    size_t n = 0, i;
    struct rd d;
    const char *p;
    n += (size_t)sprintf(text + n, "a,y\n");
    for (i = 0; i < 300; i++)
        text[n++] = ' ';
    n += (size_t)sprintf(text + n, "1,2\n3,4\n");
    p = put_n("long.csv", text, n);
    ck_assert_int_eq(read_all(&d, p, FORMAT_CSV, NULL, 0, LABELS_ANY, 0), 2);
    ck_assert(d.X[0] == 1 && d.y[0] == 2 && d.X[1] == 3 && d.y[1] == 4);
    reader_close(&d.r);
    open_ok(&d, p, FORMAT_CSV, ',', NULL, 0);
    realloc_limit = 128; /* the first buffer, no more */
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, MAXR), -1);
    realloc_limit = (size_t)-1;
    expect_err(&d.r, p, "2: ", "out of memory (line longer than");
    reader_close(&d.r);
    cleanup();
}
END_TEST

START_TEST(test_nul_byte_and_long_path)
{
    struct rd d;
    char name[1024], *q;
    size_t k;
    const char *p = put_n("nul.csv", "a,y\n1,2\n3\0,4\n", 14);
    open_ok(&d, p, FORMAT_CSV, ',', NULL, 0);
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, MAXR), -1);
    expect_err(&d.r, p, "3:2: ", "NUL byte");
    ck_assert(d.X[0] == 1); /* the row before was read */
    reader_close(&d.r);
    /* a path longer than the message buffer: the message is cut, still terminated */
    snprintf(name, sizeof name, "%s/", tmpdir());
    q = name + strlen(name);
    for (k = 0; k < 2; k++) {
        memset(q, 'd', 250);
        q[250] = '\0';
        ck_assert_int_eq(mkdir(name, 0700), 0);
        q += 250;
        *q++ = '/';
        *q = '\0';
    }
    strcpy(q, "empty.csv");
    fclose(fopen(name, "w"));
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(reader_open(&d.r, name, FORMAT_CSV, ',', NULL, 0), -1);
    ck_assert_uint_lt(strlen(d.r.err), sizeof d.r.err);
    ck_assert_msg(strncmp(d.r.err, name, 100) == 0, "%s", d.r.err);
    reader_close(&d.r);
    cleanup();
}
END_TEST

/* ------------------------------------------------------------------ libsvm */

START_TEST(test_libsvm_rows)
{
    struct rd d;
    const char *p = put("a.svm", "  1 1:0.5 3:2 # comment 9:9\n-1 2:1e-3\n+1\n\n0 1:1   \n");
    /* scanned: the largest index outside comments */
    ck_assert_int_eq(read_all(&d, p, FORMAT_LIBSVM, NULL, 0, LABELS_BINARY, 0), 4);
    ck_assert_uint_eq(d.r.n_features, 3);
    ck_assert(d.y[0] == 1 && d.X[0] == 0.5 && d.X[1] == 0 && d.X[2] == 2);
    ck_assert(d.y[1] == 0 && d.X[4] == 1e-3); /* -1 is read as 0 */
    ck_assert(d.y[2] == 1 && d.X[6] == 0 && d.X[7] == 0 && d.X[8] == 0);
    ck_assert(d.y[3] == 0 && d.X[9] == 1);
    reader_close(&d.r);
    /* given n_features: no scan; ignored labels may be anything */
    p = put("b.svm", "junk 2:7\n:3 1:1\nonly-a-label\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_LIBSVM, NULL, 4, LABELS_IGNORE, 0), 3);
    ck_assert(d.X[1] == 7 && d.y[0] == 0 && d.X[4] == 1 && d.y[2] == 0 && d.X[8] == 0);
    reader_close(&d.r);
    /* a first token index:value is a feature (prediction input without labels) */
    p = put("d.svm", "1:1 2:3\n5 2:7\n12 1:4\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_LIBSVM, NULL, 2, LABELS_IGNORE, 0), 3);
    ck_assert(d.X[0] == 1 && d.X[1] == 3 && d.X[2] == 0 && d.X[3] == 7 && d.X[4] == 4);
    reader_close(&d.r);
    p = put("c.svm", "3.5\n2 1:1\n");
    ck_assert_int_eq(read_all(&d, p, FORMAT_LIBSVM, NULL, 2, LABELS_ANY, 0), 2);
    ck_assert(d.y[0] == 3.5 && d.X[0] == 0 && d.y[1] == 2 && d.X[2] == 1);
    reader_close(&d.r);
    cleanup();
}
END_TEST

START_TEST(test_libsvm_errors)
{
    static const struct {
        const char *text;
        int labels;
        const char *where, *what;
    } cases[] = {
        {"abc 1:1\n", LABELS_ANY, "1:1: ", "label 'abc' is not a number"},
        {"  1x 1:1\n", LABELS_ANY, "1:3: ", "label '1x' is not a number"},
        {"1 1:1\n2 1:1\n", LABELS_BINARY, "2:1: ", "label '2' is not 0 or 1 (or -1)"},
        {"nan 1:1\n", LABELS_ANY, "1:1: ", "label 'nan' is NaN"},
        {"1 x:1\n", LABELS_ANY, "1:3: ", "field 2: 'x:1' is not index:value with an index from 1"},
        {"1 0:1\n", LABELS_ANY, "1:3: ", "field 2: '0:1' is not index:value"},
        {"1 1:1 2-1\n", LABELS_ANY, "1:7: ", "field 3: '2-1' is not index:value"},
        {"1 5:1\n", LABELS_ANY, "1:3: ", "field 2: feature index 5 beyond 4 features"},
        {"1 1:\n", LABELS_ANY, "1:3: ", "field 2: '1:' has no numeric value"},
        {"1 1:2x\n", LABELS_ANY, "1:3: ", "'1:2x' has no numeric value"},
        {"1 2:nan\n", LABELS_ANY, "1:3: ", "field 2: value is NaN"},
        {"1 2:-inf\n", LABELS_ANY, "1:3: ", "field 2: value is infinite"},
        {"1 1:1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", LABELS_ANY,
         "1:7: ", "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is not"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1:1\n", LABELS_ANY, "1:1: ",
         "label 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rd d;
        const char *p = put("e.svm", cases[i].text);
        ck_assert_msg(read_all(&d, p, FORMAT_LIBSVM, NULL, 4, cases[i].labels, 0) == -1,
                      "case %zu accepted", i);
        expect_err(&d.r, p, cases[i].where, cases[i].what);
        reader_close(&d.r);
    }
    cleanup();
}
END_TEST

START_TEST(test_libsvm_open_errors)
{
    struct reader r;
    const char *p = put("nf.svm", "1\n0 # 3:4\n");
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(reader_open(&r, p, FORMAT_LIBSVM, 0, NULL, 0), -1);
    expect_err(&r, p, "2: ", "no features found");
    reader_close(&r);
    p = put("x.svm", "1 x:5 :6\n:7\n"); /* no index digits before ':' */
    ck_assert_int_eq(reader_open(&r, p, FORMAT_LIBSVM, 0, NULL, 0), -1);
    expect_err(&r, p, "2: ", "no features found");
    reader_close(&r);
    ck_assert_int_eq(reader_open(&r, tmpdir(), FORMAT_LIBSVM, 0, NULL, 0), -1);
    ck_assert_msg(strstr(r.err, "read error") != NULL, "%s", r.err);
    reader_close(&r);
    cleanup();
}
END_TEST

/* ------------------------------------------------------------------ stdin */

START_TEST(test_stdin)
{
    struct rd d;
    const char *p = put("in.csv", "x,y\n1,2\n");
    ck_assert_ptr_nonnull(freopen(p, "r", stdin));
    open_ok(&d, "-", FORMAT_CSV, ',', NULL, 0);
    ck_assert_str_eq(d.r.path, "<stdin>");
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, MAXR), 1);
    ck_assert(d.X[0] == 1 && d.y[0] == 2);
    reader_close(&d.r); /* stdin stays open */
    ck_assert_int_eq(fileno(stdin), 0);
    ck_assert_ptr_nonnull(freopen(p, "r", stdin));
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(reader_open(&d.r, "-", FORMAT_LIBSVM, 0, NULL, 0), -1);
    expect_err(&d.r, "<stdin>", "0: ", "libsvm input from stdin needs --features N");
    reader_close(&d.r);
    p = put("in.svm", "1 2:3\n");
    ck_assert_ptr_nonnull(freopen(p, "r", stdin));
    open_ok(&d, "-", FORMAT_LIBSVM, 0, NULL, 2);
    ck_assert_int_eq(reader_rows(&d.r, d.X, d.y, MAXR), 1);
    ck_assert(d.X[1] == 3 && d.y[0] == 1);
    reader_close(&d.r);
    cleanup();
}
END_TEST

/* libsvm from a pipe without n_features: the count scan cannot be read again */
START_TEST(test_libsvm_pipe)
{
    struct reader r;
    int fds[2];
    static const char text[] = "1 2:3\n0 1:1\n";
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert(write(fds[1], text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(reader_open_file(&r, f, "pipe", FORMAT_LIBSVM, 0, NULL, 0), -1);
    expect_err(&r, "pipe", "2: ", "input read once only (a pipe?): give --features N");
    reader_close(&r);
    fclose(f);
}
END_TEST

static Suite *reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("csv");
    tcase_add_test(tc, test_csv_header_and_label_columns);
    tcase_add_test(tc, test_csv_first_line);
    tcase_add_test(tc, test_csv_open_errors);
    tcase_add_test(tc, test_csv_row_errors);
    tcase_add_test(tc, test_csv_label_rules_accept);
    tcase_add_test(tc, test_long_lines_and_out_of_memory);
    tcase_add_test(tc, test_nul_byte_and_long_path);
    suite_add_tcase(s, tc);
    tc = tcase_create("libsvm");
    tcase_add_test(tc, test_libsvm_rows);
    tcase_add_test(tc, test_libsvm_errors);
    tcase_add_test(tc, test_libsvm_open_errors);
    tcase_add_test(tc, test_stdin);
    tcase_add_test(tc, test_libsvm_pipe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reader_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
