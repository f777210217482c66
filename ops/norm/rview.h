/*
 * A tensor seen as K independent slices of R elements each, where the
 * slices run over an arbitrary set of reduced axes (MeanVarianceNormalization
 * over axes [0, 2, 3], LpNormalization along one axis). The reduced elements
 * of a slice come in runs of L contiguous elements (L is the product of the
 * reduced axes at the end of the shape, 1 when the last axis is kept), so
 * the statistics core can read each run as one contiguous slice. Run j of
 * slice k starts at koff[k] + roff[j], j < R / L.
 */
#ifndef ONN_RVIEW_H
#define ONN_RVIEW_H

#include "ops/kernel.h"

typedef struct onn_rview {
    int64_t K, R, L, runs; /* runs = R / L */
    const int64_t *koff, *roff;
} onn_rview;

/* reduced[i] marks axis i as reduced. The offset tables live in the
 * prepared node's memory (onn_kalloc); fails after reporting. */
onnorm_status onn_rview_init(onn_kctx *ctx, onn_rview *v, const int64_t *dims, int rank,
                             const bool *reduced);

#endif
