/*
 * CSV and libsvm readers. Numbers are parsed in the C locale (cnum.h), so a file reads the
 * same under any locale. Every error names the file, the line and the column (in characters,
 * from 1, where the offending cell or field starts).
 */
#define _POSIX_C_SOURCE 200809L
#include "reader.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnum.h"

/* The widest row: one dense row of doubles must be addressable. */
#define READER_MAX_FEATURES (SIZE_MAX / sizeof(double))

static int fail(struct reader *r, size_t col, const char *fmt, ...)
{
    va_list ap;
    int n = col ? snprintf(r->err, sizeof r->err, "%s:%zu:%zu: ", r->path, r->line_no, col)
                : snprintf(r->err, sizeof r->err, "%s:%zu: ", r->path, r->line_no);
    if ((size_t)n >= sizeof r->err) /* cut short (a negative n, an encoding error, too) */
        return -1;
    va_start(ap, fmt);
    vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* One line into r->line (with its '\n', if any), grown with realloc. Returns its length, 0 at
 * the end of input, or -1 with r->err set (read error, or out of memory: never taken for the
 * end of input, which getline's -1 would not tell apart). */
static long read_line(struct reader *r)
{
    size_t len = 0;
    int c;
    do {
        c = getc_unlocked(r->f); /* single-threaded: no lock per character */
        if (c == EOF)
            break;
        if (r->line_cap - len < 2) {
            /* cap cannot overflow (nor pass LONG_MAX): realloc fails long before, as no object
             * may exceed PTRDIFF_MAX bytes */
            size_t cap = r->line_cap ? 2 * r->line_cap : 128;
            char *grown = realloc(r->line, cap);
            if (!grown) {
                r->line_no++;
                return fail(r, 0, "out of memory (line longer than %zu bytes)", len);
            }
            r->line = grown;
            r->line_cap = cap;
        }
        r->line[len++] = (char)c;
    } while (c != '\n');
    if (ferror(r->f))
        return fail(r, 0, "read error: %s", strerror(errno));
    if (len > 0)
        r->line[len] = '\0';
    return (long)len;
}

/* Next non-empty line without its line ending; 0 at end of input, -1 on an error. */
static int next_line(struct reader *r)
{
    if (r->pending) { /* the first line was data, read again */
        r->pending = 0;
        return 1;
    }
    for (;;) {
        errno = 0;
        long len = read_line(r);
        if (len <= 0)
            return (int)len;
        r->line_no++;
        if ((size_t)len != strlen(r->line))
            return fail(r, strlen(r->line) + 1, "NUL byte in a text line");
        while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
            r->line[--len] = '\0';
        if (len > 0)
            return 1;
    }
}

/* Trims spaces and one pair of double quotes around [*s, *e). */
static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
    if (*e - *s >= 2 && **s == '"' && (*e)[-1] == '"') {
        (*s)++;
        (*e)--;
    }
}

/* Parses a whole cell [s, end) as a number (NaN and infinities included: callers check), in
 * place: any length of digits. */
static int parse_number(const char *s, const char *end, double *v)
{
    trim(&s, &end);
    if (s == end)
        return -1;
    char *stop;
    *v = cnum_strtod(s, &stop);
    return stop == end ? 0 : -1; /* short of the cell's end, or past it (never a number) */
}

static size_t count_cells(const char *line, char delim)
{
    size_t n = 1;
    for (; *line; line++)
        n += *line == delim;
    return n;
}

/* The CSV cell that starts at *p, as [*s, *e); *p moves on to the next cell (past the line's
 * end after its last cell). A walk over a line's cells is one pass over the line. */
static void next_cell(const char **p, char delim, const char **s, const char **e)
{
    const char *q = strchr(*p, delim);
    *s = *p;
    *e = q ? q : *p + strlen(*p);
    *p = *e + 1;
}

/* Checks a label against r->labels; may map a libsvm -1 to 0. Reports at column col. */
static int check_label(struct reader *r, size_t col, const char *text, int len, double *v)
{
    if (!isfinite(*v))
        return fail(r, col, "label '%.*s' is %s", len, text, isnan(*v) ? "NaN" : "infinite");
    switch (r->labels) {
    case LABELS_BINARY:
        if (*v == 0.0 || *v == 1.0)
            return 0;
        if (r->format == FORMAT_LIBSVM && *v == -1.0) {
            *v = 0.0;
            return 0;
        }
        return fail(r, col, "label '%.*s' is not 0 or 1%s", len, text,
                    r->format == FORMAT_LIBSVM ? " (or -1)" : "");
    case LABELS_CLASSES:
        if (*v >= 0.0 && *v == floor(*v) &&
            (r->n_classes ? *v < (double)r->n_classes : *v < 1048576.0))
            return 0;
        if (r->n_classes)
            return fail(r, col, "label '%.*s' is not a class 0..%zu", len, text,
                        r->n_classes - 1);
        return fail(r, col, "label '%.*s' is not a class index (an integer from 0)", len,
                    text);
    default:
        return 0;
    }
}

static int open_csv(struct reader *r, const char *label)
{
    int rc = next_line(r);
    if (rc <= 0)
        return rc < 0 ? -1 : fail(r, 0, "no data");
    if (strncmp(r->line, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        memmove(r->line, r->line + 3, strlen(r->line + 3) + 1);
    size_t cols = count_cells(r->line, r->delimiter);
    /* one column: a label alone, or (rill predict) a one-feature model's data without one;
     * the caller says which */
    /* a header names columns: some cell is text. An empty cell is a missing number (a data
     * line the row reader refuses), or a header's unnamed index column. */
    int header = 0;
    const char *at = r->line;
    for (size_t i = 0; i < cols && !header; i++) {
        const char *s, *e;
        double v;
        next_cell(&at, r->delimiter, &s, &e);
        trim(&s, &e);
        header = s != e && parse_number(s, e, &v) != 0;
    }
    r->label_col = cols - 1;
    if (label) {
        char *stop;
        unsigned long idx = strtoul(label, &stop, 10);
        if (*label && isdigit((unsigned char)*label) && *stop == '\0') {
            if (idx >= cols)
                return fail(r, 0, "label column %lu out of range (%zu columns, counted from 0)",
                            idx, cols);
            r->label_col = idx;
        } else {
            size_t i = 0, len = strlen(label);
            at = r->line;
            for (; i < cols && header; i++) {
                const char *s, *e;
                next_cell(&at, r->delimiter, &s, &e);
                trim(&s, &e);
                if ((size_t)(e - s) == len && memcmp(s, label, len) == 0)
                    break;
            }
            if (!header)
                return fail(r, 0, "no header line: name the label column by its index");
            if (i == cols)
                return fail(r, 0, "no column named '%s' in the header", label);
            r->label_col = i;
        }
    }
    r->n_features = cols - 1;
    r->pending = !header;
    return 0;
}

static int parse_csv(struct reader *r, double *x, double *y)
{
    const char *line = r->line, *s = line;
    const size_t want = r->n_features + !r->no_label, cols = count_cells(line, r->delimiter);
    if (cols > want) {
        const char *at = line, *extra = line, *e;
        for (size_t i = 0; i <= want; i++) /* to the first cell too many */
            next_cell(&at, r->delimiter, &extra, &e);
        return fail(r, (size_t)(extra - line) + 1, "%zu cells, expected %zu (delimiter '%c')",
                    cols, want, r->delimiter);
    }
    if (cols < want)
        return fail(r, strlen(line) + 1, "%zu cells, expected %zu (delimiter '%c')", cols, want,
                    r->delimiter);
    *y = 0.0;
    for (size_t c = 0; c < cols; c++) {
        const char *e = strchr(s, r->delimiter);
        const size_t col = (size_t)(s - line) + 1;
        double v;
        if (!e)
            e = s + strlen(s);
        const int len = (int)(e - s > 40 ? 40 : e - s);
        if (!r->no_label && c == r->label_col && r->labels == LABELS_IGNORE) {
            s = e + 1;
            continue;
        }
        if (parse_number(s, e, &v))
            return fail(r, col, "cell %zu: '%.*s' is not a number", c + 1, len, s);
        if (!r->no_label && c == r->label_col) {
            if (check_label(r, col, s, len, &v))
                return -1;
            *y = v;
        } else {
            if (!isfinite(v))
                return fail(r, col, "cell %zu is %s", c + 1, isnan(v) ? "NaN" : "infinite");
            x[r->no_label || c < r->label_col ? c : c - 1] = v;
        }
        s = e + 1;
    }
    return 0;
}

/* libsvm / svmlight: "label index:value ..." with indices from 1; "# ..." ends the line. */
static int parse_libsvm(struct reader *r, double *x, double *y)
{
    char *line = r->line, *p = line, *stop;
    memset(x, 0, r->n_features * sizeof(double));
    while (isspace((unsigned char)*p))
        p++;
    size_t col = (size_t)(p - line) + 1;
    if (r->labels == LABELS_IGNORE) {
        /* skip the label: any token but index:value, which is the first feature of a line
         * without one (prediction input) */
        const char *q = p;
        *y = 0.0;
        while (isdigit((unsigned char)*q))
            q++;
        if (q == p || *q != ':')
            while (*p && !isspace((unsigned char)*p))
                p++;
        stop = p;
    } else {
        *y = cnum_strtod(p, &stop);
    }
    int len = 0;
    while (p[len] && !isspace((unsigned char)p[len]) && len < 40)
        len++;
    if (r->labels != LABELS_IGNORE && (stop == p || (*stop && !isspace((unsigned char)*stop))))
        return fail(r, col, "label '%.*s' is not a number", len, p);
    if (check_label(r, col, p, len, y))
        return -1;
    p = stop;
    for (size_t field = 2;; field++) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            return 0;
        col = (size_t)(p - line) + 1;
        len = 0;
        while (p[len] && !isspace((unsigned char)p[len]) && len < 40)
            len++;
        errno = 0;
        unsigned long idx = isdigit((unsigned char)*p) ? strtoul(p, &stop, 10) : 0;
        if (idx == 0 || *stop != ':' || errno == ERANGE)
            return fail(r, col, "field %zu: '%.*s' is not index:value with an index from 1",
                        field, len, p);
        if (idx > r->n_features)
            return fail(r, col, "field %zu: feature index %lu beyond %zu features", field, idx,
                        r->n_features);
        char *v_start = stop + 1;
        double v = cnum_strtod(v_start, &stop);
        if (stop == v_start || (*stop && !isspace((unsigned char)*stop)))
            return fail(r, col, "field %zu: '%.*s' has no numeric value", field, len, p);
        if (!isfinite(v))
            return fail(r, col, "field %zu: value is %s", field, isnan(v) ? "NaN" : "infinite");
        x[idx - 1] = v;
        p = stop;
    }
}

static int scan_libsvm(struct reader *r)
{
    size_t max_idx = 0;
    int rc;
    while ((rc = next_line(r)) > 0) {
        char *end = strchr(r->line, '#');
        if (end)
            *end = '\0';
        for (char *p = r->line; (p = strchr(p, ':')) != NULL; p++) {
            char *q = p;
            while (q > r->line && isdigit((unsigned char)q[-1]))
                q--;
            errno = 0;
            unsigned long idx = strtoul(q, NULL, 10);
            if (errno == ERANGE || idx > READER_MAX_FEATURES)
                return fail(r, 0, "a feature index is above %zu", (size_t)READER_MAX_FEATURES);
            max_idx = idx > max_idx ? idx : max_idx;
        }
    }
    if (rc < 0)
        return -1;
    if (max_idx == 0)
        return fail(r, 0, "no features found");
    r->n_features = max_idx;
    if (fseek(r->f, 0, SEEK_SET) != 0) /* a pipe: the rows are gone */
        return fail(r, 0, "input read once only (a pipe?): give --features N");
    clearerr(r->f);
    r->line_no = 0;
    return 0;
}

int reader_open_file(struct reader *r, FILE *f, const char *name, int format, char delimiter,
                     const char *label, size_t n_features)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    r->path = name;
    r->format = format;
    r->delimiter = delimiter ? delimiter : ',';
    if (format == FORMAT_CSV)
        return open_csv(r, label);
    r->n_features = n_features;
    if (n_features > READER_MAX_FEATURES) {
        snprintf(r->err, sizeof r->err, "%s: %zu features is too many", r->path, n_features);
        return -1;
    }
    if (n_features)
        return 0;
    if (r->f == stdin)
        return fail(r, 0, "libsvm input from stdin needs --features N");
    return scan_libsvm(r);
}

int reader_open(struct reader *r, const char *path, int format, char delimiter,
                const char *label, size_t n_features)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        memset(r, 0, sizeof *r);
        r->path = path;
        snprintf(r->err, sizeof r->err, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = reader_open_file(r, f, f == stdin ? "<stdin>" : path, format, delimiter, label,
                              n_features);
    r->owns_file = f != stdin;
    return rc;
}

long reader_rows(struct reader *r, double *X, double *y, size_t max_rows)
{
    size_t n = 0;
    while (n < max_rows) {
        int rc = next_line(r);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        double *x = X + n * r->n_features;
        if ((r->format == FORMAT_LIBSVM ? parse_libsvm(r, x, y + n) : parse_csv(r, x, y + n)))
            return -1;
        n++;
    }
    return (long)n;
}

void reader_close(struct reader *r)
{
    if (r->f && r->owns_file)
        fclose(r->f);
    free(r->line);
    r->f = NULL;
    r->line = NULL;
}
