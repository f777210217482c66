/*
 * The one BLAS routine the kernels use, behind a wrapper that
 *   - takes int64 sizes and refuses those beyond BLAS's int range (the
 *     Debian OpenBLAS build has 32-bit indices) instead of truncating them;
 *   - runs OpenBLAS with the session's thread count: the OpenMP build sizes
 *     its team from the calling thread's omp_get_max_threads(), a per-thread
 *     setting, so the wrapper sets it for the call and restores it after,
 *     leaving other threads and later code untouched;
 *   - handles empty products itself (BLAS rejects zero leading dimensions).
 * Call it from inside an OpenMP parallel region only with threads = 1 (each
 * call is otherwise parallel itself, and nesting would oversubscribe the
 * cores); OpenBLAS's OpenMP build then runs on the calling thread.
 */
#ifndef ONN_BLAS_H
#define ONN_BLAS_H

#include "ops/kernel.h"

#include <stdbool.h>
#include <stdint.h>

/* The BLAS-backed kernels compute in float32 only: input i must be present
 * and float32 (a clear dtype error otherwise). */
onnorm_status onn_check_f32(onn_kctx *ctx, int i, const char *what);

/* True when v fits a BLAS dimension or leading dimension. */
bool onn_blas_fits(int64_t v);

/*
 * Row-major C[m,n] = alpha * op(A) * op(B) + beta * C, where op(A) is
 * [m,k] (A stored [k,m] when trans_a) and op(B) is [k,n] (B stored [n,k]
 * when trans_b). With beta == 0, C is only written. Returns false, without
 * touching C, when a size does not fit onn_blas_fits().
 */
bool onn_sgemm(int threads, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
               float alpha, const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
               float *c, int64_t ldc);

#endif
