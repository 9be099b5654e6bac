/*
 * The command's libsvm reader on arbitrary text. The first bytes choose the feature count
 * (0 = scan the file first, as for a named file; else as given by --features, up to
 * SIZE_MAX), what a label may be and the rows per read; the rest is the file. As for CSV: rows or a located message,
 * finite values, allowed labels, and the same result in any chunking.
 */
#include "fzreader.h"

/* Wider files are opened (the scan is exercised) but not read: a dense row of that many
 * doubles is the caller's memory, not the reader's concern. */
#define FZ_MAX_READ_FEATURES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    const unsigned nf = fz_u8(&f);
    const size_t n_features = nf < 128 ? 0 : nf == 255 ? (size_t)-1 : nf - 127;
    const unsigned opts = fz_u8(&f);
    const size_t chunk = 1 + opts % 16;
    const int labels = (int)(opts >> 4) & 3;
    const size_t n_classes = labels == LABELS_CLASSES ? (opts >> 6) + (size_t)(opts & 1) : 0;
    struct fz_read a, b;
    fz_read(&a, (const char *)f.p, f.left, FORMAT_LIBSVM, 0, NULL, n_features, 0, labels,
            n_classes, chunk, FZ_MAX_READ_FEATURES);
    fz_read(&b, (const char *)f.p, f.left, FORMAT_LIBSVM, 0, NULL, n_features, 0, labels,
            n_classes, 1, FZ_MAX_READ_FEATURES);
    fz_read_same(&a, &b);
    fz_read_free(&a);
    fz_read_free(&b);
    return 0;
}
