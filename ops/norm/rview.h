/*
 * A tensor seen as K independent slices of R elements each, where the
 * slices run over an arbitrary set of reduced axes (MeanVarianceNormalization
 * over axes [0, 2, 3], LpNormalization along one axis). Element r of slice k
 * sits at koff[k] + roff[r]; both offset tables are computed once.
 */
#ifndef ONN_RVIEW_H
#define ONN_RVIEW_H

#include "ops/kernel.h"

typedef struct onn_rview {
    int64_t K, R;
    int64_t *koff, *roff;
} onn_rview;

/* reduced[i] marks axis i as reduced. False on allocation failure. */
bool onn_rview_init(onn_rview *v, const int64_t *dims, int rank, const bool *reduced);
void onn_rview_free(onn_rview *v);

#endif
