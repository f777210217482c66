/*
 * Channels-last depthwise convolution (dwconv.h's onn_dwcl_*): eight
 * channels at a time, one per vector lane. Conv takes it for 5x5 and 7x7
 * windows over planes up to 56 wide (conv.c's dwcl_wins), where it beats
 * the plane kernels' vectors along the output row.
 *
 * A block of 8 channels is copied into a zero-padded channels-last plane
 * (sgemm.h's onn_cvec_copy with 8 floats per position: the 8 channels of
 * a padded position side by side), so every tap of an output position is
 * one vector load. Output positions go 8 at a time, taken in order over
 * the whole plane (so short rows cost no partial vectors); for each tap,
 * one vector of the 8 channels' weights meets the 8 positions' inputs. The
 * 8 x 8 results are transposed in registers into the 8 channels' output
 * planes, with the bias and residual added; the activation runs over each
 * channel's row of a chunk of positions while it is in cache.
 *
 * AVX2 only: other variants keep the plane kernels.
 */
#include "ops/core/dwconv.h"
#include "ops/core/sgemm.h"

#include <string.h>

#define CL 8          /* channels per block: one AVX2 vector */
#define CHUNK 64      /* positions per activation pass */
#define MAX_TAPS 1024 /* a kernel of more taps keeps the plane kernels */

bool onn_dwcl_plan_init(onn_dwcl_plan *p, const onn_dwconv_shape *s, onn_isa isa)
{
    memset(p, 0, sizeof *p);
#ifdef ONN_HAVE_X86_VARIANTS
    if (isa != ONN_ISA_AVX2 || !onn_isa_supported(isa)) return false;
    if (s->h < 1 || s->w < 1 || s->oh < 1 || s->ow < 1 || s->kh < 1 || s->kw < 1 || s->sh < 1 ||
        s->sw < 1 || s->dh < 1 || s->dw < 1 || s->pad_top < 0 || s->pad_left < 0 ||
        s->kh * s->kw > MAX_TAPS)
        return false;
    p->s = *s;
    p->hp = (s->oh - 1) * s->sh + (s->kh - 1) * s->dh + 1;
    p->wp = (s->ow - 1) * s->sw + (s->kw - 1) * s->dw + 1;
    const double floats = (double)p->hp * (double)p->wp * CL + (double)(s->kh * s->kw) * CL;
    if (floats > 1e12) return false;
    /* the copy, then the block's taps */
    p->scratch_bytes =
        ((size_t)(p->hp * p->wp * CL + s->kh * s->kw * CL) * sizeof(float) + 63) / 64 * 64;
    return true;
#else
    (void)s, (void)isa;
    return false;
#endif
}

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

ONN_TARGET_AVX2_BEGIN
#include "ops/core/avx2_lanes.h"

/* Positions [p0, p0 + n) (n <= 8) of the block: the 8 x 8 accumulators
 * transposed, bias and residual added, stored to the 8 output planes. */
static inline void store_tile(__m256 *r, const float *bias, float *y, const float *res,
                              int64_t plane, int64_t p0, int64_t n)
{
    onn_avx2_transpose8(r);
    for (int i = 0; i < CL; i++) {
        __m256 v = _mm256_add_ps(r[i], _mm256_set1_ps(bias ? bias[i] : 0.0f));
        float *yr = y + i * plane + p0;
        if (n == CL) {
            if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + i * plane + p0));
            _mm256_storeu_ps(yr, v);
        } else {
            float t[CL];
            _mm256_storeu_ps(t, v);
            for (int64_t j = 0; j < n; j++)
                yr[j] = t[j] + (res ? res[i * plane + p0 + j] : 0.0f);
        }
    }
}

static void block_avx2(const onn_dwcl_plan *p, const float *x, int64_t plane_in, const float *w,
                       float *y, const float *res, const onn_epilogue *ep, int64_t c0,
                       float *scratch)
{
    const onn_dwconv_shape *s = &p->s;
    const int64_t taps = s->kh * s->kw, plane = s->oh * s->ow;
    float *xp = scratch, *wt = scratch + p->hp * p->wp * CL;
    /* the block's padded channels-last copy, 8 floats per position */
    const onn_cvec_copy_args ca = {.x = x,
                                   .cg = CL,
                                   .cs = CL,
                                   .plane = plane_in,
                                   .depth = 1,
                                   .h = s->h,
                                   .w = s->w,
                                   .pad_top = s->pad_top,
                                   .pad_left = s->pad_left,
                                   .rows = p->hp,
                                   .pitch = p->wp};
    onn_cvec_copy(&ca, 0, p->hp, xp, true);
    /* the block's taps, tap-major: wt[t * 8 + i] = W[c0 + i, t] */
    for (int64_t t = 0; t < taps; t++)
        for (int i = 0; i < CL; i++)
            wt[t * CL + i] = w[i * taps + t];
    int64_t off[MAX_TAPS];
    for (int64_t t = 0; t < taps; t++)
        off[t] = (t / s->kw * s->dh * p->wp + t % s->kw * s->dw) * CL;
    const float *bias = ep->bias ? ep->bias + c0 : NULL;
    /* (oy, ox) of the next position, advanced one at a time (no
     * divisions per position) */
    int64_t oy = 0, ox = 0;
    for (int64_t q0 = 0; q0 < plane; q0 += CHUNK) {
        const int64_t q1 = plane - q0 < CHUNK ? plane : q0 + CHUNK;
        for (int64_t j0 = q0; j0 < q1; j0 += CL) {
            const int64_t n = q1 - j0 < CL ? q1 - j0 : CL;
            /* each position's first tap in the copy; positions past the
             * chunk repeat its last one (computed, never stored) */
            const float *b[CL];
            for (int u = 0; u < CL; u++) {
                b[u] = xp + (oy * s->sh * p->wp + ox * s->sw) * CL;
                if (u + 1 < n && ++ox == s->ow) ox = 0, oy++;
            }
            if (++ox == s->ow) ox = 0, oy++;
            __m256 r[CL];
            onn_avx2_cl_taps(b, wt, off, taps, r);
            store_tile(r, bias, y, res, plane, j0, n);
        }
        if (ep->act != ONN_ACT_NONE)
            for (int i = 0; i < CL; i++)
                onn_act_row(ep->act, ep->alpha, ep->beta, y + i * plane + q0, q1 - q0);
    }
}
ONN_TARGET_END
#endif

void onn_dwcl_block(const onn_dwcl_plan *p, const float *x, int64_t plane_in, const float *w,
                    float *y, const float *res, const onn_epilogue *ep, int64_t c0, float *scratch)
{
#ifdef ONN_HAVE_X86_VARIANTS
    block_avx2(p, x, plane_in, w, y, res, ep, c0, scratch);
#else
    (void)p, (void)x, (void)plane_in, (void)w, (void)y, (void)res, (void)ep, (void)c0;
    (void)scratch;
#endif
}
