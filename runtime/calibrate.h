/* Internal pieces shared by calibration (runtime/calibrate.c) and input
 * standardization (runtime/standardize.c). */
#ifndef ONN_CALIBRATE_H
#define ONN_CALIBRATE_H

#include "runtime/runtime.h"

#include <stdbool.h>

/* Per-channel count, mean and M2 (sum of squared deviations), merged across
 * batches exactly: per batch two passes in double, then Chan's update. */
typedef struct onn_chan_stats {
    int64_t c;
    double count;
    double *mean, *m2; /* c each, zeroed by the caller */
} onn_chan_stats;

/* Adds float32 or float64 batch x, viewed as [dims[0], c, rest] (a rank-1 x
 * as one channel), to s; sets *nonfinite when NaN or Inf was seen. */
void onn_chan_stats_add(onn_chan_stats *s, const onnorm_tensor *x, bool *nonfinite);

/* A model around g (which it takes over, rebuilt and with kernels bound),
 * borrowing base's weights. */
onnorm_status onn_model_wrap(const onnorm_model *base, onn_graph *g, onnorm_model **out,
                             onnorm_error *err);

#endif
