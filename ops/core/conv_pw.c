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
#include <string.h>

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
pw_tile(const int mr, const int nv, const int last, const float *x, int64_t xs, int64_t plane,
        int64_t k, const float *w, const float *bias, float *y, const float *res)
{
    const __m256i mask = onn_avx2_mask8(last);
    __m256 acc[PW_MB][PW_NV];
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[r][v] = _mm256_setzero_ps();
    for (int64_t c = 0; c < k; c++) {
        const float *xc = x + c * xs;
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
    static void pw_rows_##mr_(const float *x, int64_t xs, int64_t plane, int64_t k,                \
                              const float *w, const float *bias, float *y, const float *res,       \
                              int64_t p0, int64_t p1)                                              \
    {                                                                                              \
        int64_t p = p0;                                                                            \
        for (; p + PW_NV * PW_VL <= p1; p += PW_NV * PW_VL)                                        \
            pw_tile(mr_, PW_NV, PW_VL, x + p, xs, plane, k, w, bias, y + p, res ? res + p : NULL); \
        const int64_t left = p1 - p;                                                               \
        if (left <= 0) return;                                                                     \
        const int nv = (int)((left + PW_VL - 1) / PW_VL), last = (int)(left - (nv - 1) * PW_VL);   \
        const float *rp = res ? res + p : NULL;                                                    \
        if (nv == 1)                                                                               \
            pw_tile(mr_, 1, last, x + p, xs, plane, k, w, bias, y + p, rp);                        \
        else if (nv == 2)                                                                          \
            pw_tile(mr_, 2, last, x + p, xs, plane, k, w, bias, y + p, rp);                        \
        else                                                                                       \
            pw_tile(mr_, 3, last, x + p, xs, plane, k, w, bias, y + p, rp);                        \
    }
PW_ROWS(1)
PW_ROWS(2)
PW_ROWS(3)
PW_ROWS(4)
#undef PW_ROWS

static void pw_block_avx2(const onn_pw_args *a, int64_t m_lo, int64_t m_hi, int64_t p0, int64_t p1)
{
    for (int64_t m0 = m_lo; m0 < m_hi; m0 += PW_MB) {
        const int mr = m_hi - m0 < PW_MB ? (int)(m_hi - m0) : PW_MB;
        const float *w = a->w + m0 * a->k, *bias = a->ep->bias ? a->ep->bias + m0 : NULL;
        float *y = a->y + m0 * a->plane;
        const float *res = a->res ? a->res + m0 * a->plane : NULL;
        switch (mr) {
        case 1: pw_rows_1(a->x, a->xs, a->plane, a->k, w, bias, y, res, p0, p1); break;
        case 2: pw_rows_2(a->x, a->xs, a->plane, a->k, w, bias, y, res, p0, p1); break;
        case 3: pw_rows_3(a->x, a->xs, a->plane, a->k, w, bias, y, res, p0, p1); break;
        default: pw_rows_4(a->x, a->xs, a->plane, a->k, w, bias, y, res, p0, p1); break;
        }
        if (a->ep->act != ONN_ACT_NONE)
            for (int r = 0; r < mr; r++)
                onn_act_row(a->ep->act, a->ep->alpha, a->ep->beta, y + r * a->plane + p0, p1 - p0);
    }
}
/* The gathered rows of output row oy: row (ci, ky, kx) holds, for every
 * output column, the input it meets under that tap (0 in the padding).
 * Stride 1 copies, stride 2 takes the even lanes of two vectors. */
static void gather_row_avx2(const onn_pwrow_plan *p, const float *x, int64_t oy, float *g)
{
    for (int64_t ci = 0; ci < p->c; ci++)
        for (int64_t ky = 0; ky < p->kh; ky++) {
            const int64_t iy = oy * p->sh - p->pad_top + ky * p->dh;
            const float *src = x + (ci * p->h + iy) * p->w;
            for (int64_t kx = 0; kx < p->kw; kx++, g += p->xs) {
                if (iy < 0 || iy >= p->h) {
                    memset(g, 0, (size_t)p->ow * sizeof *g);
                    continue;
                }
                /* columns [lo, hi) read inside the row */
                const int64_t off = kx * p->dw - p->pad_left;
                int64_t lo = off < 0 ? (-off + p->sw - 1) / p->sw : 0;
                int64_t hi = off < p->w ? (p->w - 1 - off) / p->sw + 1 : 0;
                if (lo > p->ow) lo = p->ow;
                if (hi > p->ow) hi = p->ow;
                if (hi < lo) hi = lo;
                for (int64_t j = 0; j < lo; j++)
                    g[j] = 0.0f;
                int64_t j = lo;
                if (p->sw == 1) {
                    memcpy(g + lo, src + off + lo, (size_t)(hi - lo) * sizeof *g);
                    j = hi;
                } else if (p->sw == 2) {
                    /* 16 inputs per 8 outputs, all inside the row */
                    for (; j + 8 <= hi && off + 2 * j + 16 <= p->w; j += 8) {
                        const float *s = src + off + 2 * j;
                        const __m256 t =
                            _mm256_shuffle_ps(_mm256_loadu_ps(s), _mm256_loadu_ps(s + 8), 0x88);
                        _mm256_storeu_ps(g + j, _mm256_castpd_ps(_mm256_permute4x64_pd(
                                                    _mm256_castps_pd(t), 0xd8)));
                    }
                }
                for (; j < hi; j++)
                    g[j] = src[off + j * p->sw];
                for (j = hi; j < p->ow; j++)
                    g[j] = 0.0f;
            }
        }
}
ONN_TARGET_END
#endif

void onn_pw_block(const onn_pw_args *a, int64_t m0, int64_t m1, int64_t p0, int64_t p1)
{
#ifdef ONN_HAVE_X86_VARIANTS
    pw_block_avx2(a, m0, m1, p0, p1);
#else
    (void)a, (void)m0, (void)m1, (void)p0, (void)p1;
#endif
}

void onn_pw_range(const onn_pw_args *a, int64_t p0, int64_t p1)
{
    onn_pw_block(a, 0, a->m, p0, p1);
}

/* Chunks of PW_CHUNK positions keep a chunk of X (k x 192 floats, 48 KiB
 * at k = 64) in L1/L2 while every block of output channels sweeps it. A
 * plane too small to give every thread several chunks is also cut across
 * the output channels, in blocks of a multiple of the tile's 4. */
#define PW_CHUNK 192
#define PW_TASKS_PER_THREAD 4

void onn_pw_split_init(onn_pw_split *s, int64_t n, int64_t m, int64_t plane, int threads)
{
    s->chunk = plane < PW_CHUNK ? (plane > 0 ? plane : 1) : PW_CHUNK;
    s->chunks = (plane + s->chunk - 1) / s->chunk;
    s->mblock = m > 0 ? m : 1;
    const int64_t want = threads > 1 ? (int64_t)threads * PW_TASKS_PER_THREAD : 1;
    const int64_t have = n * s->chunks;
    if (have > 0 && have < want) {
        const int64_t blocks = (want + have - 1) / have;
        const int64_t per = m / blocks / PW_MB * PW_MB; /* at least `blocks` blocks */
        s->mblock = per > PW_MB ? per : PW_MB;
    }
    s->mblocks = (m + s->mblock - 1) / s->mblock;
    s->n = n, s->m = m, s->plane = plane;
    s->tasks = n * s->mblocks * s->chunks;
}

onn_pw_piece onn_pw_task(const onn_pw_split *s, int64_t t)
{
    const int64_t per_image = s->mblocks * s->chunks;
    const int64_t mb = t % per_image / s->chunks, c = t % s->chunks;
    onn_pw_piece q = {t / per_image, mb * s->mblock, 0, c * s->chunk, 0};
    q.m1 = q.m0 + s->mblock < s->m ? q.m0 + s->mblock : s->m;
    q.p1 = q.p0 + s->chunk < s->plane ? q.p0 + s->chunk : s->plane;
    return q;
}

/* ---- one output row at a time (onn_pwrow_*) ------------------------------ */

/* Gathered rows past this many floats (k * xs) keep the engine. */
#define PWROW_MAX_FLOATS (1 << 16)

bool onn_pwrow_plan_init(onn_pwrow_plan *p, int64_t c, int64_t h, int64_t w, int64_t oh, int64_t ow,
                         int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                         int64_t pad_top, int64_t pad_left)
{
    *p = (onn_pwrow_plan){c, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pad_top, pad_left, 0, 0};
    if (c < 1 || h < 1 || w < 1 || oh < 1 || ow < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 ||
        dh < 1 || dw < 1 || c > PWROW_MAX_FLOATS || ow > PWROW_MAX_FLOATS ||
        kh > PWROW_MAX_FLOATS || kw > PWROW_MAX_FLOATS)
        return false;
    p->xs = (ow + 15) / 16 * 16;
    const double floats = (double)c * (double)kh * (double)kw * (double)p->xs;
    if (floats > PWROW_MAX_FLOATS) return false;
    p->scratch_bytes = ((size_t)floats * sizeof(float) + 63) / 64 * 64;
    return true;
}

void onn_pwrow_run(const onn_pwrow_plan *p, const float *x, const float *w, float *y,
                   const float *res, const onn_epilogue *ep, int64_t m, int64_t oy, float *scratch)
{
#ifdef ONN_HAVE_X86_VARIANTS
    gather_row_avx2(p, x, oy, scratch);
    const int64_t at = oy * p->ow;
    const onn_pw_args a = {.x = scratch,
                           .w = w,
                           .y = y + at,
                           .res = res ? res + at : NULL,
                           .ep = ep,
                           .m = m,
                           .k = p->c * p->kh * p->kw,
                           .plane = p->oh * p->ow,
                           .xs = p->xs};
    pw_block_avx2(&a, 0, m, 0, p->ow);
#else
    (void)p, (void)x, (void)w, (void)y, (void)res, (void)ep, (void)m, (void)oy, (void)scratch;
#endif
}
