/* Drives the command's text readers on in-memory data (see fzreader.h). */
#include "fzreader.h"

#include <math.h>

void fz_read(struct fz_read *out, const char *text, size_t len, int format, char delimiter,
             const char *label, size_t n_features, int predict_input, int labels,
             size_t n_classes, size_t chunk, size_t max_features)
{
    memset(out, 0, sizeof *out);
    /* fmemopen wants a writable buffer and at least one byte. */
    char *copy = malloc(len + 1);
    FZ_CHECK(copy != NULL);
    memcpy(copy, text, len);
    copy[len] = '\n'; /* an empty input reads as one blank line */
    FILE *f = fmemopen(copy, len ? len : 1, "r");
    FZ_CHECK(f != NULL);
    struct reader r;
    if (reader_open_file(&r, f, "fuzz", format, delimiter, label, n_features)) {
        FZ_CHECK(strncmp(r.err, "fuzz:", 5) == 0);
        out->open_failed = 1;
        memcpy(out->err, r.err, sizeof out->err);
        goto done;
    }
    /* a CSV of one column has no feature: a label alone, which the command refuses, or (as
     * predict reads it) a one-feature model's data without labels */
    FZ_CHECK(r.n_features >= 1 || format == FORMAT_CSV);
    FZ_CHECK(format != FORMAT_LIBSVM || !n_features || r.n_features == n_features);
    if (predict_input && format == FORMAT_CSV) {
        r.n_features++; /* as `rill predict` reads a file without its label column */
        r.no_label = 1;
    }
    if (r.n_features == 0)
        goto done;
    r.labels = labels;
    r.n_classes = n_classes;
    out->n_features = r.n_features;
    if (r.n_features > max_features)
        goto done;
    size_t cap = 0;
    for (;;) {
        if (out->rows + chunk > cap) {
            cap = 2 * cap + chunk;
            out->X = realloc(out->X, cap * r.n_features * sizeof(double));
            out->y = realloc(out->y, cap * sizeof(double));
            FZ_CHECK(out->X && out->y);
        }
        long got = reader_rows(&r, out->X + out->rows * r.n_features, out->y + out->rows, chunk);
        if (got < 0) {
            FZ_CHECK(got == -1 && strncmp(r.err, "fuzz:", 5) == 0);
            out->row_failed = 1;
            memcpy(out->err, r.err, sizeof out->err);
            break;
        }
        FZ_CHECK((size_t)got <= chunk);
        for (size_t i = out->rows; i < out->rows + (size_t)got; i++) {
            const double v = out->y[i];
            FZ_CHECK(isfinite(v) || labels == LABELS_IGNORE);
            if (labels == LABELS_BINARY)
                FZ_CHECK(v == 0.0 || v == 1.0);
            if (labels == LABELS_CLASSES)
                FZ_CHECK(v >= 0.0 && v == floor(v) &&
                         v < (n_classes ? (double)n_classes : 1048576.0));
            for (size_t j = 0; j < r.n_features; j++)
                FZ_CHECK(isfinite(out->X[i * r.n_features + j]));
        }
        out->rows += (size_t)got;
        if (got == 0) {
            FZ_CHECK(reader_rows(&r, out->X, out->y, chunk) == 0); /* the end stays the end */
            break;
        }
    }
done:
    reader_close(&r);
    fclose(f);
    free(copy);
}

void fz_read_same(const struct fz_read *a, const struct fz_read *b)
{
    FZ_CHECK(a->open_failed == b->open_failed && a->row_failed == b->row_failed);
    FZ_CHECK(a->n_features == b->n_features && strcmp(a->err, b->err) == 0);
    /* A read that fails drops the rows of its chunk: with an error, the longer chunking can
     * stop short of the other; the rows both have are the same. */
    FZ_CHECK(a->row_failed ? a->rows <= b->rows : a->rows == b->rows);
    if (a->rows) {
        FZ_CHECK(memcmp(a->X, b->X, a->rows * a->n_features * sizeof(double)) == 0);
        FZ_CHECK(memcmp(a->y, b->y, a->rows * sizeof(double)) == 0);
    }
}

void fz_read_free(struct fz_read *r)
{
    free(r->X);
    free(r->y);
}
