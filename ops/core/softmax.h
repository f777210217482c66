/*
 * One float32 softmax row, for kernels that normalize rows they produce
 * themselves (the fused attention): the Softmax kernel's own row loop
 * (softmax.c), in the variant for an instruction set.
 */
#ifndef ONN_SOFTMAX_H
#define ONN_SOFTMAX_H

#include <stdbool.h>
#include <stdint.h>

/* y[0..n) = softmax (or, with log_out, log-softmax) of x[0..n); x == y is
 * allowed. NaN in, NaN out; a row of -inf gives NaN, as Softmax does. */
typedef void (*onn_softmax_row)(const float *x, float *y, int64_t n, bool log_out);
/* The row loop for variant isa (onn_isa values; the portable one where
 * the build or CPU lacks it). */
onn_softmax_row onn_softmax_row_for(int isa);

#endif
