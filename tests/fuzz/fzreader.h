/* Drives the command's text readers (tools/reader.c) on in-memory data. */
#ifndef RILL_FZREADER_H
#define RILL_FZREADER_H

#include "fuzz.h"
#include "reader.h"

/* What one pass of the reader produced. */
struct fz_read {
    int open_failed;
    int row_failed;
    size_t n_features;
    size_t rows;
    double *X; /* rows x n_features */
    double *y;
    char err[sizeof ((struct reader *)0)->err];
};

/* Opens text[0..len) as a stream named "fuzz" and reads every row in chunks of `chunk` rows,
 * as the command does; predict_input: a CSV without its label column (all columns are
 * features); labels, n_classes: what a label may be (enum reader_labels). Checks the reader's own promises on the way (counts, finite values, messages).
 * Widths above max_features are opened but not read (the caller's memory bound). */
void fz_read(struct fz_read *out, const char *text, size_t len, int format, char delimiter,
             const char *label, size_t n_features, int predict_input, int labels,
             size_t n_classes, size_t chunk, size_t max_features);
/* Both passes read the same rows, values and outcome; b read one row at a time. */
void fz_read_same(const struct fz_read *a, const struct fz_read *b);
void fz_read_free(struct fz_read *r);

#endif
