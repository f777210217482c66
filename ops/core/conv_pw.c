/*
 * Pointwise convolution over few input channels (dwconv.h's onn_pw_*):
 * a 1x1 window at stride 1 without padding, group 1, reading X's planes
 * and W in place. Conv takes it where the engine's tiles are dominated by
 * their own setup: 8 to 32 input channels over large planes (the
 * expansions and projections of MobileNets, MNASNet and EfficientNet at
 * 112 x 112 and 56 x 56), conv.c's pw_wins says where.
 *
 * A tile is 4 output channels by 24 positions (12 accumulators): each
 * input channel costs 3 vector loads and 4 broadcasts of W for 12 FMAs.
 * Positions go in chunks (the caller's range); within a chunk every block
 * of 4 output channels sweeps the chunk's positions, so X's chunk stays
 * in L1 while the output is written row by row, and the activation runs
 * over each output row of the chunk while it is still in cache. The last
 * tile of a range uses masked loads and stores. Y may be the residual Z:
 * each element of Z is read before the same element of Y is stored.
 *
 * AVX2 only: other variants keep the engine.
 */
#include "ops/core/dwconv.h"

#include <stdbool.h>

#define PW_MB 4 /* output channels per tile */
#define PW_NV 3 /* vectors of 8 positions per tile */
#define PW_VL 8

bool onn_pw_supported(onn_isa isa)
{
#ifdef ONN_HAVE_X86_VARIANTS
    return isa == ONN_ISA_AVX2 && onn_isa_supported(isa);
#else
    (void)isa;
    return false;
#endif
}

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

ONN_TARGET_AVX2_BEGIN
#include "ops/core/avx2_lanes.h"

/* One tile: mr (<= 4) output channels by nv vectors of positions, the
 * last of them `last` positions wide (8 = full). */
static inline __attribute__((always_inline)) void
pw_tile(const int mr, const int nv, const int last, const float *x, int64_t plane, int64_t k,
        const float *w, const float *bias, float *y, const float *res)
{
    const __m256i mask = onn_avx2_mask8(last);
    __m256 acc[PW_MB][PW_NV];
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[r][v] = _mm256_setzero_ps();
    for (int64_t c = 0; c < k; c++) {
        const float *xc = x + c * plane;
        __m256 xv[PW_NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            xv[v] = last < PW_VL && v == nv - 1 ? _mm256_maskload_ps(xc + v * PW_VL, mask)
                                                : _mm256_loadu_ps(xc + v * PW_VL);
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++) {
            const __m256 wr = _mm256_broadcast_ss(w + r * k + c);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[r][v] = _mm256_fmadd_ps(wr, xv[v], acc[r][v]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++) {
        const __m256 b = _mm256_set1_ps(bias ? bias[r] : 0.0f);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            float *yr = y + r * plane + v * PW_VL;
            const float *rr = res ? res + r * plane + v * PW_VL : NULL;
            __m256 o = _mm256_add_ps(acc[r][v], b);
            if (last < PW_VL && v == nv - 1) {
                if (rr) o = _mm256_add_ps(o, _mm256_maskload_ps(rr, mask));
                _mm256_maskstore_ps(yr, mask, o);
            } else {
                if (rr) o = _mm256_add_ps(o, _mm256_loadu_ps(rr));
                _mm256_storeu_ps(yr, o);
            }
        }
    }
}

/* Positions [p0, p1) of one block of mr output channels. */
#define PW_ROWS(mr_)                                                                               \
    static void pw_rows_##mr_(const float *x, int64_t plane, int64_t k, const float *w,            \
                              const float *bias, float *y, const float *res, int64_t p0,           \
                              int64_t p1)                                                          \
    {                                                                                              \
        int64_t p = p0;                                                                            \
        for (; p + PW_NV * PW_VL <= p1; p += PW_NV * PW_VL)                                        \
            pw_tile(mr_, PW_NV, PW_VL, x + p, plane, k, w, bias, y + p, res ? res + p : NULL);     \
        const int64_t left = p1 - p;                                                               \
        if (left <= 0) return;                                                                     \
        const int nv = (int)((left + PW_VL - 1) / PW_VL), last = (int)(left - (nv - 1) * PW_VL);   \
        const float *rp = res ? res + p : NULL;                                                    \
        if (nv == 1)                                                                               \
            pw_tile(mr_, 1, last, x + p, plane, k, w, bias, y + p, rp);                            \
        else if (nv == 2)                                                                          \
            pw_tile(mr_, 2, last, x + p, plane, k, w, bias, y + p, rp);                            \
        else                                                                                       \
            pw_tile(mr_, 3, last, x + p, plane, k, w, bias, y + p, rp);                            \
    }
PW_ROWS(1)
PW_ROWS(2)
PW_ROWS(3)
PW_ROWS(4)
#undef PW_ROWS

static void pw_range_avx2(const onn_pw_args *a, int64_t p0, int64_t p1)
{
    for (int64_t m0 = 0; m0 < a->m; m0 += PW_MB) {
        const int mr = a->m - m0 < PW_MB ? (int)(a->m - m0) : PW_MB;
        const float *w = a->w + m0 * a->k, *bias = a->ep->bias ? a->ep->bias + m0 : NULL;
        float *y = a->y + m0 * a->plane;
        const float *res = a->res ? a->res + m0 * a->plane : NULL;
        switch (mr) {
        case 1: pw_rows_1(a->x, a->plane, a->k, w, bias, y, res, p0, p1); break;
        case 2: pw_rows_2(a->x, a->plane, a->k, w, bias, y, res, p0, p1); break;
        case 3: pw_rows_3(a->x, a->plane, a->k, w, bias, y, res, p0, p1); break;
        default: pw_rows_4(a->x, a->plane, a->k, w, bias, y, res, p0, p1); break;
        }
        if (a->ep->act != ONN_ACT_NONE)
            for (int r = 0; r < mr; r++)
                onn_act_row(a->ep->act, a->ep->alpha, a->ep->beta, y + r * a->plane + p0, p1 - p0);
    }
}
ONN_TARGET_END
#endif

void onn_pw_range(const onn_pw_args *a, int64_t p0, int64_t p1)
{
#ifdef ONN_HAVE_X86_VARIANTS
    pw_range_avx2(a, p0, p1);
#else
    (void)a, (void)p0, (void)p1;
#endif
}
