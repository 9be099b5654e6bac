/*
 * Writes the known-answer model file tests/data/model_v2.blob (format version 2; its
 * predecessor, model_v1.blob, was written by the version 1 writer and stays committed).
 *
 *   ./make_kat_blob path/to/model_v2.blob
 *
 * Built with the tests but not run by them: the committed blob is the known answer, and
 * test_blob checks that today's library still loads it and predicts what its weights imply.
 * Re-run only for a new format version (and commit that blob under a new name).
 *
 * The model: RILL_SOFTMAX, n_features = 3, n_classes = 3, weights set with
 * rill_model_set_weights to the dyadic values below (exact in binary), every parameter set to
 * a non-default value, and the statistics given fixed values (through internal.h: there is
 * no public setter) so that their positions in the file are pinned too.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "rill.h"

/* One row per class: w_0, w_1, w_2, intercept. Keep in sync with test_blob.c. */
static const double kat_w[12] = {
    0.5,  -0.25, 1.0,  0.125, /* class 0 */
    -0.75, 0.5,  0.25, -0.5,  /* class 1 */
    0.0,   1.5, -1.25, 0.375, /* class 2 */
};

static int check(int rc, const char *what)
{
    if (rc != RILL_OK) {
        fprintf(stderr, "make_kat_blob: %s failed: %s\n", what, rill_strerror(rc));
        exit(EXIT_FAILURE);
    }
    return rc;
}

int main(int argc, char **argv)
{
    rill_model *m = NULL;
    size_t size = 0;
    unsigned char *buf;
    FILE *f;

    if (argc != 2) {
        fprintf(stderr, "usage: make_kat_blob OUTPUT\n");
        return EXIT_FAILURE;
    }
    check(rill_model_new(&m, RILL_SOFTMAX, 3, 3), "rill_model_new");
    check(rill_model_set(m, RILL_LEARNING_RATE, 0.125), "set learning rate");
    check(rill_model_set(m, RILL_SCHEDULE, RILL_SCHEDULE_ADAGRAD), "set schedule");
    check(rill_model_set(m, RILL_POWER_T, 0.5), "set power_t");
    check(rill_model_set(m, RILL_L2, 0.25), "set l2");
    check(rill_model_set(m, RILL_L1, 0.0625), "set l1");
    check(rill_model_set(m, RILL_FIT_INTERCEPT, 0), "set fit_intercept");
    check(rill_model_set(m, RILL_MAX_EPOCHS, 77), "set max_epochs");
    check(rill_model_set(m, RILL_TOL, 1e-6), "set tol");
    check(rill_model_set(m, RILL_BATCH_ROWS, 5), "set batch_rows");
    check(rill_model_set(m, RILL_AVERAGE, 3), "set average");
    check(rill_model_set(m, RILL_SEED, 12345), "set seed");
    check(rill_model_set_weights(m, kat_w, 12), "rill_model_set_weights");

    /* statistics (avg_count stays 0: predict uses the weights above) */
    m->stat_epochs = 3.0;
    m->stat_steps = 7.0;
    m->stat_rows = 42.0;
    m->stat_loss = 0.5;
    m->stat_converged = 1;
    m->stat_stopped = 0;
    m->prog_loss_sum = 10.5;
    m->prog_rows = 42.0;
    /* version 2: each weight's first gradient (j + 1) / 16, and their maximum (test_blob.c) */
    for (size_t j = 0; j < 12; j++)
        m->opt.g0[j] = (double)(j + 1) * 0.0625;
    m->opt.g0_norm = 0.75;

    check(rill_model_save(m, NULL, 0, &size), "size query");
    buf = malloc(size);
    if (!buf) {
        fprintf(stderr, "make_kat_blob: out of memory\n");
        return EXIT_FAILURE;
    }
    check(rill_model_save(m, buf, size, &size), "rill_model_save");
    f = fopen(argv[1], "wb");
    if (!f || fwrite(buf, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "make_kat_blob: cannot write %s\n", argv[1]);
        return EXIT_FAILURE;
    }
    printf("wrote %s (%zu bytes)\n", argv[1], size);
    free(buf);
    rill_model_free(m);
    return EXIT_SUCCESS;
}
