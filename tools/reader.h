/* Text readers of the rill command: CSV and libsvm rows, from a file or stdin. */
#ifndef RILL_TOOLS_READER_H
#define RILL_TOOLS_READER_H

#include <stddef.h>
#include <stdio.h>

enum reader_format { FORMAT_CSV = 0, FORMAT_LIBSVM = 1 };

/* What a label may be (checked as rows are read, so that errors name line and column). */
enum reader_labels {
    LABELS_ANY = 0,     /* any finite number (least squares) */
    LABELS_BINARY = 1,  /* 0 or 1; in libsvm files also -1 (read as 0) and +1 */
    LABELS_CLASSES = 2, /* 0 .. n_classes - 1 (n_classes 0: any integer in [0, 2^20)) */
    LABELS_IGNORE = 3   /* not read at all (prediction input that has a label column) */
};

struct reader {
    FILE *f;
    int owns_file;          /* reader_close closes f (reader_open opened it) */
    const char *path;       /* for messages; "-" is stdin */
    int format;
    char delimiter;         /* CSV */
    size_t n_features;      /* columns of X (CSV: all columns but the label) */
    size_t label_col;       /* CSV: index of the label among the columns */
    int labels;             /* a reader_labels value; LABELS_ANY after reader_open */
    size_t n_classes;       /* LABELS_CLASSES */
    size_t line_no;         /* current line, 1-based */
    int no_label;           /* CSV: every column is a feature (prediction input) */
    int pending;            /* the current line has not been consumed yet */
    char *line;
    size_t line_cap;
    char err[512];          /* "file:line:column: what" */
};

/* Opens path ("-" = stdin). CSV: detects a header (a first line with a non-numeric cell);
 * label is a column name, a 0-based index, or NULL (last column). libsvm: n_features must be
 * given for stdin (0 = scan the file first). Returns 0 or -1 with r->err set. */
int reader_open(struct reader *r, const char *path, int format, char delimiter,
                const char *label, size_t n_features);
/* As reader_open, on a stream the caller opened (and closes after reader_close); name is used
 * in messages. libsvm with n_features 0 scans f first and rewinds it, so f must be seekable. */
int reader_open_file(struct reader *r, FILE *f, const char *name, int format, char delimiter,
                     const char *label, size_t n_features);
/* Reads up to max_rows rows into X (max_rows x n_features) and y. Returns the number read
 * (0 at the end), or -1 with r->err set: "path:line:column: message", the column counted in
 * characters from 1 at the start of the offending cell or field. */
long reader_rows(struct reader *r, double *X, double *y, size_t max_rows);
void reader_close(struct reader *r);

#endif
