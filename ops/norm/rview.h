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
#include "ops/norm/moments.h"

typedef struct onn_rview {
    int64_t K, R, L, runs; /* runs = R / L */
    const int64_t *koff, *roff;
} onn_rview;

/* The view of input 0 with the axes where reduced[i] is set reduced, made
 * at prepare (the offset tables live in the prepared node's memory), and
 * the statistics loops for this CPU in *mo. Fails after reporting. */
onnorm_status onn_rview_prepare(onn_kctx *ctx, onn_rview *v, const bool *reduced,
                                const onn_moments **mo);

/* A slice's statistics: the mean to subtract and the scale to apply, from
 * the slice starting at element `base` (its runs at base + roff[j]). */
typedef void (*onn_rview_stats)(const void *arg, const onn_rview *v, onnorm_dtype t, const void *x,
                                int64_t base, double *mean, double *scale);

/* y = (x - mean) * scale slice by slice, input 0 into output 0, with each
 * slice's mean and scale from stats(arg, ...), the slices shared among
 * ctx's threads. */
void onn_rview_normalize(const onn_kctx *ctx, const onn_rview *v, const onn_moments *mo,
                         onn_rview_stats stats, const void *arg);

#endif
