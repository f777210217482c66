/*
 * The first n of an AVX2 vector's 8 float lanes as a maskload mask (a
 * window into eight -1s and eight 0s), shared by the kernels that load the
 * tail of a row (dwconv.c, pool_plane.c, attention.c). Include it after
 * <immintrin.h> inside ONN_TARGET_AVX2_BEGIN ... ONN_TARGET_END.
 */
#ifndef ONN_AVX2_LANES_H
#define ONN_AVX2_LANES_H

#include <stdint.h>

static const int32_t onn_avx2_lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1};

/* 0 <= n <= 8 */
static inline __m256i onn_avx2_mask8(int n)
{
    return _mm256_loadu_si256((const __m256i *)(onn_avx2_lanes + 8 - n));
}

#endif
