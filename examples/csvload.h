/* A small CSV reader for the examples: header row, numeric cells, label in the last column. */
#ifndef RILL_EXAMPLE_CSVLOAD_H
#define RILL_EXAMPLE_CSVLOAD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dataset {
    double *X, *y;
    size_t n, d;
};

/* Returns 0 on success; prints what went wrong and returns -1 otherwise. */
static int dataset_load(const char *path, struct dataset *ds)
{
    FILE *f = fopen(path, "r");
    char line[1 << 16];
    size_t cap = 256;
    if (!f || !fgets(line, sizeof line, f)) {
        fprintf(stderr, "%s: cannot read\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    ds->d = 0;
    for (char *c = line; *c; c++)
        ds->d += *c == ',';
    ds->n = 0;
    ds->X = malloc(cap * ds->d * sizeof(double));
    ds->y = malloc(cap * sizeof(double));
    while (ds->X && ds->y && fgets(line, sizeof line, f)) {
        if (ds->n == cap) {
            cap *= 2;
            double *X = realloc(ds->X, cap * ds->d * sizeof(double));
            double *y = realloc(ds->y, cap * sizeof(double));
            ds->X = X ? X : ds->X;
            ds->y = y ? y : ds->y;
            if (!X || !y)
                break;
        }
        char *s = line, *end;
        for (size_t j = 0; j <= ds->d; j++) {
            double v = strtod(s, &end);
            if (end == s || (*end != ',' && j < ds->d)) {
                fprintf(stderr, "%s:%zu: column %zu is not a number\n", path, ds->n + 2, j + 1);
                fclose(f);
                return -1;
            }
            if (j < ds->d)
                ds->X[ds->n * ds->d + j] = v;
            else
                ds->y[ds->n] = v;
            s = end + 1;
        }
        ds->n++;
    }
    fclose(f);
    if (!ds->X || !ds->y || ds->n == 0) {
        fprintf(stderr, "%s: no rows (or out of memory)\n", path);
        return -1;
    }
    return 0;
}

static void dataset_free(struct dataset *ds)
{
    free(ds->X);
    free(ds->y);
}

#endif
