/*
 * The command's CSV reader on arbitrary text. The first bytes choose the options (delimiter,
 * label column by index or by name, what a label may be, prediction input without labels,
 * rows per read); the rest is the file. Reading must end in rows or a message naming
 * "file:line[:column]", never a crash; every value read is finite and every label allowed;
 * and reading in chunks of any size gives the same rows and
 * the same outcome as reading one row at a time.
 */
#include "fzreader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = {',', ';', '\t', ' ', '|', ':', '"', '\0'};
    struct fz f = {data, size};
    const unsigned flags = fz_u8(&f);
    const char delim = delims[flags & 7];
    const size_t chunk = 1 + fz_pick(&f, 16);
    char label[16] = {0};
    const char *lab = NULL;
    if (flags & 8) { /* a name (or a number) from the input */
        size_t len = fz_pick(&f, sizeof label);
        for (size_t i = 0; i < len; i++)
            label[i] = (char)fz_u8(&f);
        lab = label;
    }
    const int predict_input = (flags & 16) != 0;
    const int labels = (int)(flags >> 5) & 3;
    const size_t n_classes = labels == LABELS_CLASSES ? fz_pick(&f, 5) : 0;
    struct fz_read a, b;
    fz_read(&a, (const char *)f.p, f.left, FORMAT_CSV, delim, lab, 0, predict_input, labels,
            n_classes, chunk, (size_t)-1);
    fz_read(&b, (const char *)f.p, f.left, FORMAT_CSV, delim, lab, 0, predict_input, labels,
            n_classes, 1, (size_t)-1);
    fz_read_same(&a, &b);
    fz_read_free(&a);
    fz_read_free(&b);
    return 0;
}
