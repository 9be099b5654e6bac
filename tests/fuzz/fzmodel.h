/* Model checks shared by the fuzz targets. */
#ifndef RILL_FZMODEL_H
#define RILL_FZMODEL_H

#include "fuzz.h"
#include "rill.h"

/* Saves m into a new malloc'd buffer (*size bytes); also checks the size query and that a
 * buffer one byte short is refused with the size needed. */
uint8_t *fz_save(const rill_model *m, size_t *size);
/* Every parameter and statistic of a and b reads the same bits. */
void fz_check_same_params(const rill_model *a, const rill_model *b);
/* a and b give bit-identical predictions and labels on the n rows of X (finite values). */
void fz_check_same_predictions(const rill_model *a, const rill_model *b, const double *X,
                               size_t n);
/* save -> load -> save gives the same bytes; the loaded model and a clone predict the same
 * bits as m on X; continued training (one step on X, y, then a two-epoch rill_fit) stays
 * bit-identical. Changes m (the training). */
void fz_check_roundtrip(rill_model *m, const double *X, const double *y, size_t n);
/* A few rows for m: X (n x d) and valid labels y, from the cursor. Caller frees both. */
void fz_rows(struct fz *f, const rill_model *m, size_t n, double **X, double **y);

#endif
