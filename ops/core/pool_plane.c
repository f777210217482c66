/*
 * The kernels behind pool_plane.h, compiled once per instruction set from
 * the template pool_loops.h: a portable variant for the build's baseline
 * target (plain loops the compiler vectorizes), and on x86-64 an AVX2 and
 * an AVX-512 variant written with the vector operations below:
 *
 *   VF, VL                 float vector type, lanes
 *   V_SET1(a)              every lane a
 *   V_LOADU(p), V_STOREU(p, v)
 *   V_LOAD_PAD(p, n, pad)  lanes [0, n) from p, the others pad's (1 <= n < VL;
 *                          lanes past n are not read, so p + n may end a buffer)
 *   V_STORE_N(p, v, n)     lanes [0, n) to p, nothing past them
 *   V_ADD, V_MUL, V_DIV
 *   V_MAX(a, b)            a > b ? a : b per lane (maxps: b when either is NaN)
 *   V_DEINT2(a, b, e, o)   e, o = the even and odd lanes of a then b
 *   VM, V_M_ZERO           a NaN mask and its empty value
 *   V_NAN_OR(m, v)         m with v's NaN lanes added
 *   V_M_ANY(m)             the mask has a lane set
 *   VD, VDL                double vector type, lanes (VL / 2)
 *   VD_ZERO, VD_ADD(a, b)
 *   VD_LOADCVT(p)          VDL floats from p as doubles
 *   VD_HSUM(v)             the sum of v's lanes, a double
 */
#include "ops/core/pool_plane.h"

#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
/* gcc would turn the ring's short copy and padding loops into memcpy and
 * memset calls, which cost more than the copying at late layers' widths. */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

/* The template's per-shape helpers: inlined with constant kernel side,
 * stride and kind, so each kernel is fully unrolled. */
#define PL_INLINE static inline __attribute__((always_inline))

/* One variant's kernels. */
typedef struct pool_variant {
    onn_isa isa;
    int vl;                      /* float lanes */
    onn_pool2d_fn fast[2][2][2]; /* [max, avg][2x2, 3x3][stride 1, 2] */
    onn_gap_fn gap;
} pool_variant;

/* ---- the reference loop ----------------------------------------------------- */

void onn_pool2d_max_row(const onn_pool2d_shape *s, const float *x, float *y, int64_t oy)
{
    const int64_t H = s->h, W = s->w;
    int64_t h0 = oy * s->sh - s->pad_top, h1 = h0 + s->kh;
    h0 = h0 < 0 ? 0 : h0, h1 = h1 > H ? H : h1;
    for (int64_t ox = 0; ox < s->ow; ox++) {
        int64_t w0 = ox * s->sw - s->pad_left, w1 = w0 + s->kw;
        w0 = w0 < 0 ? 0 : w0, w1 = w1 > W ? W : w1;
        /* NaN is tracked apart so that the max itself stays a plain
         * compare-select (maxss), off the NaN test's dependency chain. */
        float m = -INFINITY;
        bool nan = false;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) {
                float v = x[h * W + w];
                m = v > m ? v : m;
                nan |= v != v;
            }
        y[ox] = nan ? NAN : m;
    }
}

/* ---- the portable variant ------------------------------------------------ */

#define SFX scalar
#define ISA ONN_ISA_SCALAR
#define VF float
#define VL 1
#define VM int
#define VD double
#define VDL 1
#define V_SET1(a) ((float)(a))
#define V_LOADU(p) (*(p))
#define V_STOREU(p, v) (*(p) = (v))
#define V_LOAD_PAD(p, n, pad) ((void)(n), (void)(pad), *(p)) /* never called: VL is 1 */
#define V_STORE_N(p, v, n) (*(p) = (v))
#define V_ADD(a, b) ((a) + (b))
#define V_MUL(a, b) ((a) * (b))
#define V_DIV(a, b) ((a) / (b))
#define V_MAX(a, b) ((a) > (b) ? (a) : (b))
#define V_DEINT2(a, b, e, o) ((e) = (a), (o) = (b))
#define V_M_ZERO 0
#define V_NAN_OR(m, v) ((m) | ((v) != (v)))
#define V_M_ANY(m) ((m) != 0)
#define VD_ZERO 0.0
#define VD_ADD(a, b) ((a) + (b))
#define VD_LOADCVT(p) ((double)*(p))
#define VD_HSUM(v) (v)
#include "ops/core/pool_loops.h"

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

/* ---- AVX2 ----------------------------------------------------------------- */
ONN_TARGET_AVX2_BEGIN
#include "ops/core/avx2_lanes.h"
static inline __m256 pl_load_pad8(const float *p, int n, __m256 pad)
{
    const __m256i m = onn_avx2_mask8(n);
    return _mm256_blendv_ps(pad, _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
/* The first n lanes of v to p. Not vmaskmovps: its store form is
 * microcoded on AMD cores (tens of cycles), and late layers' rows are
 * all tail. */
static inline void pl_store_n8(float *p, __m256 v, int n)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < n; i++)
        p[i] = t[i];
}
static inline void pl_deint8(__m256 a, __m256 b, __m256 *e, __m256 *o)
{
    /* [a0 a2 b0 b2 | a4 a6 b4 b6], then its 64-bit quarters as 0 2 1 3. */
    const __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 od = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    *e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
    *o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), _MM_SHUFFLE(3, 1, 2, 0)));
}
static inline double pl_hsum4d(__m256d v)
{
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
#define SFX avx2
#define ISA ONN_ISA_AVX2
#define VF __m256
#define VL 8
#define VM __m256
#define VD __m256d
#define VDL 4
#define V_SET1 _mm256_set1_ps
#define V_LOADU _mm256_loadu_ps
#define V_STOREU _mm256_storeu_ps
#define V_LOAD_PAD(p, n, pad) pl_load_pad8((p), (n), (pad))
#define V_STORE_N(p, v, n) pl_store_n8((p), (v), (n))
#define V_ADD _mm256_add_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_MAX _mm256_max_ps
#define V_DEINT2(a, b, e, o) pl_deint8((a), (b), &(e), &(o))
#define V_M_ZERO _mm256_setzero_ps()
#define V_NAN_OR(m, v) _mm256_or_ps((m), _mm256_cmp_ps((v), (v), _CMP_UNORD_Q))
#define V_M_ANY(m) (_mm256_movemask_ps(m) != 0)
#define VD_ZERO _mm256_setzero_pd()
#define VD_ADD _mm256_add_pd
#define VD_LOADCVT(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#define VD_HSUM pl_hsum4d
#include "ops/core/pool_loops.h"
ONN_TARGET_END

/* ---- AVX-512F ------------------------------------------------------------- */
ONN_TARGET_AVX512_BEGIN
static inline void pl_deint16(__m512 a, __m512 b, __m512 *e, __m512 *o)
{
    const __m512i ie = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i io = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    *e = _mm512_permutex2var_ps(a, ie, b);
    *o = _mm512_permutex2var_ps(a, io, b);
}
#define SFX avx512
#define ISA ONN_ISA_AVX512
#define VF __m512
#define VL 16
#define VM __mmask16
#define VD __m512d
#define VDL 8
#define V_SET1 _mm512_set1_ps
#define V_LOADU _mm512_loadu_ps
#define V_STOREU _mm512_storeu_ps
#define V_LOAD_PAD(p, n, pad) _mm512_mask_loadu_ps((pad), (__mmask16)((1u << (n)) - 1u), (p))
#define V_STORE_N(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (v))
#define V_ADD _mm512_add_ps
#define V_MUL _mm512_mul_ps
#define V_DIV _mm512_div_ps
#define V_MAX _mm512_max_ps
#define V_DEINT2(a, b, e, o) pl_deint16((a), (b), &(e), &(o))
#define V_M_ZERO ((__mmask16)0)
#define V_NAN_OR(m, v) ((__mmask16)((m) | _mm512_cmp_ps_mask((v), (v), _CMP_UNORD_Q)))
#define V_M_ANY(m) ((m) != 0)
#define VD_ZERO _mm512_setzero_pd()
#define VD_ADD _mm512_add_pd
#define VD_LOADCVT(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
#define VD_HSUM _mm512_reduce_add_pd
#include "ops/core/pool_loops.h"
ONN_TARGET_END
#endif /* x86-64 */

static const pool_variant *pool_variant_get(onn_isa isa)
{
    if (!onn_isa_supported(isa)) return NULL;
    switch (isa) {
#ifdef ONN_HAVE_X86_VARIANTS
    case ONN_ISA_AVX2: return &pool_avx2;
    case ONN_ISA_AVX512: return &pool_avx512;
#endif
    default: return &pool_scalar;
    }
}

onn_gap_fn onn_gap_get(onn_isa isa)
{
    const pool_variant *v = pool_variant_get(isa);
    return v ? v->gap : NULL;
}

/* ---- plans --------------------------------------------------------------- */

static int64_t round_up(int64_t a, int64_t b)
{
    return (a + b - 1) / b * b;
}

bool onn_pool2d_fits(const onn_pool2d_shape *s)
{
    return s->kh == s->kw && (s->kh == 2 || s->kh == 3) && s->sh == s->sw &&
           (s->sh == 1 || s->sh == 2) && s->h >= 0 && s->w >= 0 && s->oh >= 1 && s->ow >= 1 &&
           s->pad_top >= 0 && s->pad_left >= 0 && s->pad_bottom >= 0 && s->pad_right >= 0;
}

bool onn_pool2d_plan_init(onn_pool2d_plan *p, const onn_pool2d_shape *s, onn_pool2d_kind kind,
                          onn_isa isa)
{
    const pool_variant *v = pool_variant_get(isa);
    if (!v || !onn_pool2d_fits(s) || (kind != ONN_POOL2D_MAX && kind != ONN_POOL2D_AVG))
        return false;
    memset(p, 0, sizeof *p);
    p->s = *s;
    p->kind = kind;
    p->isa = isa;
    p->vl = v->vl;
    /* A row's last vector ends at ow rounded up to the vector and reaches
     * (k - 1) / s columns further in its phase: pn columns, which the fill
     * writes in whole vectors (a vector of room after them). A multiple of
     * 16 floats starts every phase on a cache line. */
    const int64_t k = s->kh, st = s->sh, vl = v->vl;
    p->pn = round_up(s->ow, vl) + (k - 1) / st;
    p->ph = round_up(round_up(p->pn, vl) + vl, 16);
    p->rn = round_up(p->pn, vl) * st;
    p->hi = s->pad_left + s->w < p->rn ? s->pad_left + s->w : p->rn;
    p->lo = s->pad_left < p->hi ? s->pad_left : p->hi;
    /* The ring's slots (pool_loops.h: the rows of a step's windows and of
     * the next step's, rounded up to a power of two), and for stride 2 the
     * row buffer of rn + vl floats. */
    const int64_t nr = vl > 1 && st == 1 ? 2 : 1, rw = k + st * (nr - 1);
    const int64_t slots = rw + st * nr <= 4 ? 4 : 8;
    p->scratch_bytes = (size_t)((slots * st + (st > 1 ? 2 : 0)) * p->ph) * sizeof(float);
    p->fn = v->fast[kind][k - 2][st - 1];
    return true;
}

void onn_pool2d_div_lens(const onn_pool2d_plan *p, int64_t *len_h, int64_t *len_w)
{
    *len_h = p->s.oh;
    *len_w = round_up(p->s.ow, p->vl);
}

/* Samples of the window of output o along an axis that fall in [from, to);
 * 1 when none does. */
static float axis_divisor(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t from,
                          int64_t to)
{
    int64_t c = 0;
    for (int64_t i = 0; i < k; i++) {
        const int64_t q = o * stride - pad + i;
        c += q >= from && q < to;
    }
    return c > 0 ? (float)c : 1.0f;
}

void onn_pool2d_divisors(const onn_pool2d_plan *p, bool count_include_pad, float *div_h,
                         float *div_w)
{
    const onn_pool2d_shape *s = &p->s;
    const int64_t inc = count_include_pad;
    int64_t lh, lw;
    onn_pool2d_div_lens(p, &lh, &lw);
    for (int64_t oy = 0; oy < s->oh; oy++)
        div_h[oy] = axis_divisor(oy, s->sh, s->pad_top, s->kh, -inc * s->pad_top,
                                 s->h + inc * s->pad_bottom);
    for (int64_t ox = 0; ox < lw; ox++)
        div_w[ox] = ox < s->ow ? axis_divisor(ox, s->sw, s->pad_left, s->kw, -inc * s->pad_left,
                                              s->w + inc * s->pad_right)
                               : 1.0f;
}
