/*
 * AVX2 helpers shared by several kernels. Include after <immintrin.h>
 * inside ONN_TARGET_AVX2_BEGIN ... ONN_TARGET_END.
 *   onn_avx2_mask8     the first n of a vector's 8 float lanes as a
 *                      maskload mask (a window into eight -1s and eight
 *                      0s), for the kernels that load the tail of a row
 *                      (dwconv.c, pool_plane.c, attention.c);
 *   onn_avx2_transpose8  an 8 x 8 transpose in registers, for the
 *                      channels-last copies and stores (conv_cvec.c,
 *                      dwconv_cl.c);
 *   onn_avx2_cl_taps   the depthwise taps of 8 positions over a
 *                      channels-last copy (dwconv_cl.c, conv_pwdw.c).
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

/* Transposes the 8 x 8 floats of r[0..8) in place. */
static inline void onn_avx2_transpose8(__m256 *r)
{
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20), r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20), r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31), r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31), r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* r[u] = the sum over taps t < taps of wt[8 t .. 8 t + 8) * b[u][off[t] ..
 * off[t] + 8), for the 8 positions u whose first tap is at b[u]: 8
 * channels side by side per position, one vector per tap. */
static inline void onn_avx2_cl_taps(const float *const *b, const float *wt, const int64_t *off,
                                    int64_t taps, __m256 *r)
{
    for (int u = 0; u < 8; u++)
        r[u] = _mm256_setzero_ps();
    for (int64_t t = 0; t < taps; t++) {
        const __m256 wv = _mm256_loadu_ps(wt + t * 8);
        const int64_t o = off[t];
        r[0] = _mm256_fmadd_ps(_mm256_loadu_ps(b[0] + o), wv, r[0]);
        r[1] = _mm256_fmadd_ps(_mm256_loadu_ps(b[1] + o), wv, r[1]);
        r[2] = _mm256_fmadd_ps(_mm256_loadu_ps(b[2] + o), wv, r[2]);
        r[3] = _mm256_fmadd_ps(_mm256_loadu_ps(b[3] + o), wv, r[3]);
        r[4] = _mm256_fmadd_ps(_mm256_loadu_ps(b[4] + o), wv, r[4]);
        r[5] = _mm256_fmadd_ps(_mm256_loadu_ps(b[5] + o), wv, r[5]);
        r[6] = _mm256_fmadd_ps(_mm256_loadu_ps(b[6] + o), wv, r[6]);
        r[7] = _mm256_fmadd_ps(_mm256_loadu_ps(b[7] + o), wv, r[7]);
    }
}

#endif
