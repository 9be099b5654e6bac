/* A small CSV reader for the examples: header row, numeric cells, label in the last column.
 * Blank lines are skipped; every other row must have as many cells as the header. */
#ifndef RILL_EXAMPLE_CSVLOAD_H
#define RILL_EXAMPLE_CSVLOAD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dataset {
    double *X, *y;
    size_t n, d;
};

static void dataset_free(struct dataset *ds)
{
    free(ds->X);
    free(ds->y);
    ds->X = ds->y = NULL;
}

/* Reads path into ds. allow_empty: a file with a header and no rows is a dataset of 0 rows
 * (a shard of a larger one). Returns 0 on success; prints what went wrong, frees what it
 * took and returns -1 otherwise. */
static int dataset_load_rows(const char *path, struct dataset *ds, int allow_empty)
{
    FILE *f = fopen(path, "r");
    char line[1 << 16];
    size_t cap = 256, lineno = 1;
    ds->X = ds->y = NULL;
    ds->n = ds->d = 0;
    if (!f || !fgets(line, sizeof line, f)) {
        fprintf(stderr, "%s: cannot read\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    for (char *c = line; *c; c++)
        ds->d += *c == ',';
    if (ds->d == 0) {
        fprintf(stderr, "%s:1: the header names one column; features and a label are needed\n",
                path);
        fclose(f);
        return -1;
    }
    ds->X = malloc(cap * ds->d * sizeof(double));
    ds->y = malloc(cap * sizeof(double));
    if (!ds->X || !ds->y)
        goto no_memory;
    while (fgets(line, sizeof line, f)) {
        char *s = line, *end;
        lineno++;
        s += strspn(s, " \t\r\n");
        if (*s == '\0') /* a blank line */
            continue;
        if (ds->n == cap) {
            double *X = realloc(ds->X, 2 * cap * ds->d * sizeof(double));
            if (X)
                ds->X = X;
            double *y = X ? realloc(ds->y, 2 * cap * sizeof(double)) : NULL;
            if (!y)
                goto no_memory;
            ds->y = y;
            cap *= 2;
        }
        s = line;
        for (size_t j = 0; j <= ds->d; j++) {
            double v = strtod(s, &end);
            const int parsed = end != s;
            end += strspn(end, " \t");
            if (!parsed || (j < ds->d ? *end != ',' : *end != '\0' && !strchr("\r\n", *end))) {
                size_t cells = 1;
                for (const char *c = line; *c; c++)
                    cells += *c == ',';
                if (cells != ds->d + 1)
                    fprintf(stderr, "%s:%zu: %zu cells, expected %zu\n", path, lineno, cells,
                            ds->d + 1);
                else
                    fprintf(stderr, "%s:%zu: column %zu is not a number\n", path, lineno, j + 1);
                fclose(f);
                dataset_free(ds);
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
    if (ds->n == 0 && !allow_empty) {
        fprintf(stderr, "%s: no data rows\n", path);
        dataset_free(ds);
        return -1;
    }
    return 0;
no_memory:
    fprintf(stderr, "%s: out of memory\n", path);
    fclose(f);
    dataset_free(ds);
    return -1;
}

/* A dataset of at least one row. */
static int dataset_load(const char *path, struct dataset *ds)
{
    return dataset_load_rows(path, ds, 0);
}

#endif
