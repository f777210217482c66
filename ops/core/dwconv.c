/*
 * The plane kernels behind dwconv.h, compiled once per instruction set from
 * the template dwconv_loops.h: a portable variant for the build's baseline
 * target (plain loops the compiler vectorizes), and on x86-64 an AVX2 + FMA
 * and an AVX-512 variant written with the vector operations below:
 *
 *   VF, VL                 vector type, float lanes
 *   V_SET1(a)              every lane a
 *   V_LOADU(p), V_STOREU(p, v)
 *   V_LOAD_N(p, n)         lanes [0, n) from p, the others 0 (1 <= n < VL;
 *                          lanes past n are not read, so p + n may end a buffer)
 *   V_STORE_N(p, v, n)     lanes [0, n) to p, nothing past them
 *   V_ADD, V_SUB, V_MUL, V_DIV, V_FMADD(a, b, c) = a * b + c
 *   V_MAX(a, b), V_MIN(a, b)  as maxps / minps: b when either is NaN
 *   V_ABS(a)
 *   V_SEL_GE0(x, a, b)     x >= 0 ? a : b per lane
 *   V_POW2N(t)             2^n from t = n + 1.5 * 2^23 (see exp_neg)
 *   V_DEINT2(a, b, e, o)   e, o = the even and odd lanes of a then b
 */
#include "ops/core/dwconv.h"

#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
/* gcc would turn the ring's short copy and zero loops into memcpy and
 * memset calls, which cost more than the copying at late layers' widths. */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

/* The largest kernel side of the fast path. */
#define DW_MAX_K 7
/* The most vectors in an output row of the narrow path. */
#define DW_NU_MAX 4
/* The template's per-shape helpers: inlined with constant kernel side and
 * stride, so each fast kernel is fully unrolled with its taps in
 * registers. */
#define DW_INLINE static inline __attribute__((always_inline))

/* CALL(a) with the activation act as the constant a, so that each case
 * compiles with its activation fixed. */
#define DW_ACT_SWITCH(act, CALL)                                                                   \
    switch (act) {                                                                                 \
    case ONN_ACT_RELU: CALL(ONN_ACT_RELU); break;                                                  \
    case ONN_ACT_CLIP: CALL(ONN_ACT_CLIP); break;                                                  \
    case ONN_ACT_LEAKY_RELU: CALL(ONN_ACT_LEAKY_RELU); break;                                      \
    case ONN_ACT_HARD_SIGMOID: CALL(ONN_ACT_HARD_SIGMOID); break;                                  \
    case ONN_ACT_HARD_SWISH: CALL(ONN_ACT_HARD_SWISH); break;                                      \
    case ONN_ACT_SIGMOID: CALL(ONN_ACT_SIGMOID); break;                                            \
    case ONN_ACT_SILU: CALL(ONN_ACT_SILU); break;                                                  \
    case ONN_ACT_TANH: CALL(ONN_ACT_TANH); break;                                                  \
    default: CALL(ONN_ACT_NONE); break;                                                            \
    }

/* One variant's kernels. */
typedef struct dw_variant {
    onn_isa isa;
    int vl; /* float lanes */
    onn_dwconv_fn generic;
    onn_dwconv_fn fast[3][2];              /* [3x3, 5x5, 7x7][stride 1, 2] */
    onn_dwconv_fn narrow[3][2][DW_NU_MAX]; /* [3x3, 5x5, 7x7][stride 1, 2][vectors - 1]; NULL: none */
} dw_variant;

/* ---- the portable variant ------------------------------------------------ */

static inline float dw_pow2n(float t)
{
    uint32_t b;
    memcpy(&b, &t, sizeof b);
    b = (b + 127u) << 23;
    memcpy(&t, &b, sizeof t);
    return t;
}

#define SFX scalar
#define ISA ONN_ISA_SCALAR
#define VF float
#define VL 1
#define V_SET1(a) (a)
#define V_LOADU(p) (*(p))
#define V_STOREU(p, v) (*(p) = (v))
#define V_LOAD_N(p, n) (*(p))
#define V_STORE_N(p, v, n) (*(p) = (v))
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_MUL(a, b) ((a) * (b))
#define V_DIV(a, b) ((a) / (b))
#define V_FMADD(a, b, c) ((a) * (b) + (c))
#define V_MAX(a, b) ((a) > (b) ? (a) : (b))
#define V_MIN(a, b) ((a) < (b) ? (a) : (b))
#define V_ABS(a) fabsf(a)
#define V_SEL_GE0(x, a, b) ((x) >= 0.0f ? (a) : (b))
#define V_POW2N(t) dw_pow2n(t)
#define V_DEINT2(a, b, e, o) ((e) = (a), (o) = (b))
#include "ops/core/dwconv_loops.h"

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

/* ---- AVX2 + FMA ---------------------------------------------------------- */
ONN_TARGET_AVX2_BEGIN
#include "ops/core/avx2_lanes.h"
/* The mask of lanes [lo, hi), either bound anywhere. */
static inline __m256i dw_range8(int64_t lo, int64_t hi)
{
    lo = lo < 0 ? 0 : lo > 8 ? 8 : lo;
    hi = hi < 0 ? 0 : hi > 8 ? 8 : hi;
    return _mm256_andnot_si256(onn_avx2_mask8((int)lo), onn_avx2_mask8((int)hi));
}
/* The first n lanes of v to p. Not vmaskmovps: its store form is
 * microcoded on AMD cores (tens of cycles), and late layers' rows are
 * all tail. */
static inline void dw_store_n8(float *p, __m256 v, int n)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < n; i++)
        p[i] = t[i];
}
static inline void dw_deint8(__m256 a, __m256 b, __m256 *e, __m256 *o)
{
    /* [a0 a2 b0 b2 | a4 a6 b4 b6], then its 64-bit quarters as 0 2 1 3. */
    const __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 od = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    *e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
    *o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), _MM_SHUFFLE(3, 1, 2, 0)));
}
#define SFX avx2
#define ISA ONN_ISA_AVX2
#define VF __m256
#define VL 8
#define V_SET1 _mm256_set1_ps
#define V_LOADU _mm256_loadu_ps
#define V_STOREU _mm256_storeu_ps
#define V_LOAD_N(p, n) _mm256_maskload_ps((p), onn_avx2_mask8(n))
#define VM __m256i
#define V_MASK_RANGE(lo, hi) dw_range8((lo), (hi))
#define V_LOAD_M _mm256_maskload_ps
#define V_STORE_N(p, v, n) dw_store_n8((p), (v), (n))
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_FMADD _mm256_fmadd_ps
#define V_MAX _mm256_max_ps
#define V_MIN _mm256_min_ps
#define V_ABS(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), (a))
#define V_DEINT2(a, b, e, o) dw_deint8((a), (b), &(e), &(o))
#define V_SEL_GE0(x, a, b)                                                                         \
    _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), _mm256_setzero_ps(), _CMP_GE_OQ))
#define V_POW2N(t)                                                                                 \
    _mm256_castsi256_ps(                                                                           \
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(127)), 23))
#include "ops/core/dwconv_loops.h"
ONN_TARGET_END

/* ---- AVX-512F ------------------------------------------------------------ */
ONN_TARGET_AVX512_BEGIN
/* The mask of lanes [lo, hi), either bound anywhere. */
static inline __mmask16 dw_range16(int64_t lo, int64_t hi)
{
    lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
    hi = hi < 0 ? 0 : hi > 16 ? 16 : hi;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}
static inline void dw_deint16(__m512 a, __m512 b, __m512 *e, __m512 *o)
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
#define V_SET1 _mm512_set1_ps
#define V_LOADU _mm512_loadu_ps
#define V_STOREU _mm512_storeu_ps
#define V_LOAD_N(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), (p))
#define VM __mmask16
#define V_MASK_RANGE(lo, hi) dw_range16((lo), (hi))
#define V_LOAD_M(p, m) _mm512_maskz_loadu_ps((m), (p))
#define V_STORE_N(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (v))
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_DIV _mm512_div_ps
#define V_FMADD _mm512_fmadd_ps
#define V_MAX _mm512_max_ps
#define V_MIN _mm512_min_ps
#define V_ABS _mm512_abs_ps
#define V_DEINT2(a, b, e, o) dw_deint16((a), (b), &(e), &(o))
#define V_SEL_GE0(x, a, b)                                                                         \
    _mm512_mask_blend_ps(_mm512_cmp_ps_mask((x), _mm512_setzero_ps(), _CMP_GE_OQ), (b), (a))
#define V_POW2N(t)                                                                                 \
    _mm512_castsi512_ps(                                                                           \
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(127)), 23))
#include "ops/core/dwconv_loops.h"
ONN_TARGET_END
#endif /* x86-64 */

static const dw_variant *dw_variant_get(onn_isa isa)
{
    if (!onn_isa_supported(isa)) return NULL;
    switch (isa) {
#ifdef ONN_HAVE_X86_VARIANTS
    case ONN_ISA_AVX2: return &dwconv_avx2;
    case ONN_ISA_AVX512: return &dwconv_avx512;
#endif
    default: return &dwconv_scalar;
    }
}

static int64_t round_up(int64_t a, int64_t b)
{
    return (a + b - 1) / b * b;
}

bool onn_dwconv_plan_init(onn_dwconv_plan *p, const onn_dwconv_shape *s, onn_isa isa)
{
    const dw_variant *v = dw_variant_get(isa);
    if (!v || s->h < 0 || s->w < 0 || s->oh < 1 || s->ow < 1 || s->kh < 1 || s->kw < 1 ||
        s->sh < 1 || s->sw < 1 || s->dh < 1 || s->dw < 1 || s->pad_top < 0 || s->pad_left < 0)
        return false;
    memset(p, 0, sizeof *p);
    p->s = *s;
    p->isa = isa;
    p->fast = s->kh == s->kw && (s->kh == 3 || s->kh == 5 || s->kh == 7) && s->sh == s->sw &&
              (s->sh == 1 || s->sh == 2) && s->dh == 1 && s->dw == 1;
    if (!p->fast) {
        p->fn = v->generic;
        return true;
    }
    /* An output row of at most DW_NU_MAX vectors takes the narrow path. */
    const int64_t nu = (s->ow + v->vl - 1) / v->vl;
    const int ki = (int)(s->kh - 3) / 2; /* 3x3, 5x5, 7x7 */
    if (nu <= DW_NU_MAX && v->narrow[ki][s->sh - 1][nu - 1]) {
        p->nu = (int)nu;
        p->fn = v->narrow[ki][s->sh - 1][nu - 1];
        return true;
    }
    /* A row's last vector ends at ow rounded up to the vector and reaches
     * (kw - 1) / sw columns further in its phase: pn columns, which the
     * fill writes in whole vectors (a vector of room after them). A
     * multiple of 16 floats starts every phase on a cache line. */
    p->pn = round_up(s->ow, v->vl) + (s->kw - 1) / s->sw;
    p->ph = round_up(round_up(p->pn, v->vl) + v->vl, 16);
    /* The ring of sh phases of kh rows, one more at stride 1 (two output
     * rows at a time), for stride 2 a row buffer of 2 * ph, and the junk
     * row (see the template's fast). */
    const int64_t rows = (s->kh + (s->sh == 1)) * s->sh + (s->sh > 1 ? 2 : 0) + 1;
    p->scratch_bytes = (size_t)(rows * p->ph) * sizeof(float);
    p->fn = v->fast[ki][s->sh - 1];
    return true;
}
