/*
 * Online training from standard input through a STEP micro-batch stream.
 *
 *   stream squared|logistic [batch_rows [report_every]] < data.csv
 *   stream softmax K [batch_rows [report_every]] < data.csv   (K classes)
 *
 * stdin: a CSV with a header line, numeric cells, the label in the last column (a target for
 * squared, 0/1 for logistic, 0..K-1 for softmax). Rows are read as they arrive and pushed in
 * chunks; the stream cuts them into micro-batches of batch_rows rows (default 32) and makes
 * one stochastic step per micro-batch. Every report_every rows (default 100) it prints the
 * progressive loss (the mean loss of the rows measured before training on them), and at the
 * end, after flushing the last partial micro-batch:
 *   final progressive loss <value>
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill.h>

#define CHUNK_ROWS 16 /* rows gathered per push (independent of batch_rows) */
#define LINE_MAX_LEN (1 << 16)

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s squared|logistic [batch_rows [report_every]] < data.csv\n"
            "       %s softmax K [batch_rows [report_every]] < data.csv\n",
            prog, prog);
    return 2;
}

/* Parses a positive integer argument; 0 when it is not one. */
static size_t parse_count(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    return (*s && *end == '\0' && s[0] != '-') ? (size_t)v : 0;
}

/* Parses one data line of d + 1 numbers into x[0..d) and *y. 0 on success. */
static int parse_row(char *line, size_t d, double *x, double *y)
{
    char *s = line, *end;
    for (size_t j = 0; j <= d; j++) {
        double v = strtod(s, &end);
        if (end == s)
            return -1;
        if (j < d) {
            if (*end != ',')
                return -1;
            x[j] = v;
        } else {
            while (*end == ' ' || *end == '\r' || *end == '\n' || *end == '\t')
                end++;
            if (*end != '\0')
                return -1;
            *y = v;
        }
        s = end + 1;
    }
    return 0;
}

static double progressive_loss(const rill_model *m)
{
    double v = NAN;
    rill_model_get(m, RILL_STAT_PROGRESSIVE_LOSS, &v);
    return v;
}

int main(int argc, char **argv)
{
    int loss, arg = 2, rc, status = 1;
    size_t K = 0, batch_rows = 32, report_every = 100, d = 0, rows = 0, buffered = 0, lineno = 1;
    char *line = NULL;
    double *X = NULL, *y = NULL;
    rill_model *m = NULL;
    rill_stream *s = NULL;

    if (argc < 2)
        return usage(argv[0]);
    if (strcmp(argv[1], "squared") == 0) {
        loss = RILL_SQUARED;
    } else if (strcmp(argv[1], "logistic") == 0) {
        loss = RILL_LOGISTIC;
        K = 2;
    } else if (strcmp(argv[1], "softmax") == 0) {
        loss = RILL_SOFTMAX;
        if (argc < 3 || (K = parse_count(argv[2])) < 2)
            return usage(argv[0]);
        arg = 3;
    } else {
        return usage(argv[0]);
    }
    if (argc > arg && (batch_rows = parse_count(argv[arg])) == 0)
        return usage(argv[0]);
    if (argc > arg + 1 && (report_every = parse_count(argv[arg + 1])) == 0)
        return usage(argv[0]);
    if (argc > arg + 2)
        return usage(argv[0]);
    line = malloc(LINE_MAX_LEN);
    if (!line) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* the header gives the number of features: one column per comma, the label last */
    if (!fgets(line, LINE_MAX_LEN, stdin)) {
        fprintf(stderr, "stdin: no header line\n");
        goto done;
    }
    for (char *c = line; *c; c++)
        d += *c == ',';
    if (d == 0) {
        fprintf(stderr, "stdin: the header has no feature columns\n");
        goto done;
    }
    X = malloc(CHUNK_ROWS * d * sizeof *X);
    y = malloc(CHUNK_ROWS * sizeof *y);
    if (!X || !y) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    if ((rc = rill_model_new(&m, loss, d, K)) != RILL_OK) {
        fprintf(stderr, "rill_model_new: %s\n", rill_strerror(rc));
        goto done;
    }
    if ((rc = rill_stream_new(&s, m, batch_rows, RILL_STREAM_STEP)) != RILL_OK) {
        fprintf(stderr, "rill_stream_new: %s (%s)\n", rill_strerror(rc), rill_model_error(m));
        goto done;
    }

    for (;;) {
        int eof = !fgets(line, LINE_MAX_LEN, stdin);
        if (!eof) {
            lineno++;
            if (line[strspn(line, " \t\r\n")] == '\0')
                continue; /* blank line */
            if (parse_row(line, d, X + buffered * d, y + buffered) != 0) {
                fprintf(stderr, "stdin:%zu: expected %zu comma-separated numbers\n", lineno,
                        d + 1);
                goto done;
            }
            buffered++;
        }
        /* push a chunk when it is full, at each report point, and at the end */
        if (buffered == CHUNK_ROWS || (!eof && (rows + buffered) % report_every == 0) ||
            (eof && buffered > 0)) {
            size_t before = rows;
            if ((rc = rill_stream_push(s, X, y, buffered)) != RILL_OK) {
                fprintf(stderr, "rill_stream_push: %s (%s)\n", rill_strerror(rc),
                        rill_model_error(m));
                goto done;
            }
            rows += buffered;
            buffered = 0;
            if (rows / report_every != before / report_every)
                printf("rows %zu progressive loss %.6g\n", rows, progressive_loss(m));
        }
        if (eof)
            break;
    }
    if (ferror(stdin)) {
        fprintf(stderr, "stdin: read error\n");
        goto done;
    }
    if (rows == 0) {
        fprintf(stderr, "stdin: no data rows\n");
        goto done;
    }
    if ((rc = rill_stream_flush(s)) != RILL_OK) {
        fprintf(stderr, "rill_stream_flush: %s (%s)\n", rill_strerror(rc), rill_model_error(m));
        goto done;
    }
    printf("final progressive loss %.10g\n", progressive_loss(m));
    status = isfinite(progressive_loss(m)) ? 0 : 1;

done:
    rill_stream_free(s);
    rill_model_free(m);
    free(X);
    free(y);
    free(line);
    return status;
}
