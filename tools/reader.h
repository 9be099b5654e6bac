/* Text readers of the rill command: CSV and libsvm rows, from a file or stdin. */
#ifndef RILL_TOOLS_READER_H
#define RILL_TOOLS_READER_H

#include <stddef.h>
#include <stdio.h>

enum reader_format { FORMAT_CSV = 0, FORMAT_LIBSVM = 1 };

struct reader {
    FILE *f;
    const char *path;       /* for messages; "-" is stdin */
    int format;
    char delimiter;         /* CSV */
    size_t n_features;      /* columns of X (CSV: all columns but the label) */
    size_t label_col;       /* CSV: index of the label among the columns */
    size_t line_no;         /* current line, 1-based */
    int no_label;           /* CSV: every column is a feature (prediction input) */
    int pending;            /* the current line has not been consumed yet */
    char *line;
    size_t line_cap;
    char err[256];          /* "file:line:column: what" */
};

/* Opens path ("-" = stdin). CSV: detects a header (a first line with a non-numeric cell);
 * label is a column name, a 0-based index, or NULL (last column). libsvm: n_features must be
 * given for stdin (0 = scan the file first). Returns 0 or -1 with r->err set. */
int reader_open(struct reader *r, const char *path, int format, char delimiter,
                const char *label, size_t n_features);
/* Reads up to max_rows rows into X (max_rows x n_features) and y. Returns the number read
 * (0 at the end), or -1 with r->err set. */
long reader_rows(struct reader *r, double *X, double *y, size_t max_rows);
void reader_close(struct reader *r);

#endif
