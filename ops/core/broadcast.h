/*
 * Numpy-style (multidirectional) broadcasting for elementwise kernels.
 *
 * Shapes are aligned at their last dimension; a dimension of 1 stretches to
 * the other operand's size. onn_broadcast_shape() computes the result shape
 * of any number of operands. onn_bcast_plan() then describes how each
 * operand is read while walking that result in row-major order:
 *
 *   - size-1 result dims are dropped and adjacent dims that every operand
 *     reads the same way are merged, so [N,C,H,W] op [C,1,1] becomes a walk
 *     over [N, C, H*W] where the second operand has strides [0, 1, 0];
 *   - the innermost merged dim is read with step 1 (contiguous) or 0 (one
 *     element repeated) by every operand, so a kernel only needs inner loops
 *     for those two cases, and the walk hands it the longest such runs.
 *
 * onn_bcast_parallel() splits the result into chunks over OpenMP threads and
 * calls back once per run; onn_span_parallel() does the same for a plain
 * contiguous pass, given the element size. Nothing here knows element
 * types: offsets are in elements, and the callback scales them.
 *
 * A plan depends on shapes only, so kernels make it in prepare (onn_bcast
 * holds no pointers: the state may keep it) and walk it at every run.
 */
#ifndef ONN_BROADCAST_H
#define ONN_BROADCAST_H

#include "ops/kernel.h"

#include <stdbool.h>
#include <stdint.h>

/* Marks an elementwise loop for vectorization. GCC's -O2 cost model does not
 * vectorize loops of unknown trip count; these loops have no dependences
 * between iterations (an output may alias an input only element for
 * element), so asking explicitly is safe. */
#define ONN_SIMD _Pragma("omp simd")

/* Most operands one plan reads (Where has three). Variadic ops fold their
 * inputs in pairwise, one plan per input, so they have no limit. */
#define ONN_BCAST_MAX_IN 4

typedef struct onn_bcast {
    int n_in;
    int rank; /* merged rank, >= 1 (a scalar result walks as [1]) */
    int64_t dims[ONNORM_MAX_RANK];
    int64_t strides[ONN_BCAST_MAX_IN][ONNORM_MAX_RANK]; /* in elements; 0 = broadcast */
    int64_t numel;
} onn_bcast;

/* Called for each run of `len` result elements starting at result element
 * out_off; operand k starts at element in_off[k] and advances by step[k]
 * (0 or 1) per result element. */
typedef void (*onn_bcast_fn)(void *arg, const int64_t *in_off, int64_t out_off, int64_t len,
                             const int64_t *step);

/* Result shape of broadcasting the n shapes together; false when some dim
 * pair is neither equal nor 1. `ranks[k]`, `dims[k]` describe operand k;
 * dims_out must not alias any of them. */
bool onn_broadcast_dims(int n, const int *ranks, const int64_t *const *dims, int *rank_out,
                        int64_t *dims_out);

/* The same for tensors (NULL entries are skipped). On failure reports
 * ONNORM_ERR_SHAPE through ctx naming every operand's shape. */
onnorm_status onn_broadcast_shape(onn_kctx *ctx, int n, const onnorm_tensor *const *ts,
                                  int *rank_out, int64_t *dims_out);

/* Plans reading the n operands (each must broadcast unidirectionally to
 * dims/rank) while walking the result. False if an operand does not fit or
 * n is out of range. */
bool onn_bcast_plan(onn_bcast *p, int rank, const int64_t *dims, int n,
                    const onnorm_tensor *const *ts);

/* Walks result elements [begin, end) and calls fn once per run. */
void onn_bcast_walk(const onn_bcast *p, int64_t begin, int64_t end, onn_bcast_fn fn, void *arg);

/* Walks the whole result with ctx's thread budget. fn must only write result
 * elements it is given (runs never overlap). */
void onn_bcast_parallel(const onn_kctx *ctx, const onn_bcast *p, onn_bcast_fn fn, void *arg);

/* A contiguous pass over n elements of esz bytes in x and in y (y may be
 * x): fn(x + begin, y + begin, end - begin, param) once per chunk, the
 * chunks split over ctx's thread budget (one chunk when n is too small to be
 * worth threads). */
typedef void (*onn_span_fn)(const void *x, void *y, int64_t n, const void *param);
void onn_span_parallel(const onn_kctx *ctx, onn_span_fn fn, const void *x, void *y, int64_t n,
                       size_t esz, const void *param);
/* The same for a pass that costs `weight` cheap passes per element (exp,
 * erf, sin...): threads from weight times fewer elements. */
void onn_span_parallel_weighted(const onn_kctx *ctx, onn_span_fn fn, const void *x, void *y,
                                int64_t n, size_t esz, const void *param, int weight);

/* Bounds of part i when n items are split into `parts` near-equal parts. */
void onn_chunk(int64_t n, int64_t parts, int64_t i, int64_t *begin, int64_t *end);

/* How many parts a contiguous elementwise pass of n elements splits into
 * (1 when the work is too small to be worth threads). */
int onn_elementwise_threads(const onn_kctx *ctx, int64_t n);
int onn_elementwise_threads_weighted(const onn_kctx *ctx, int64_t n, int weight);

#endif
