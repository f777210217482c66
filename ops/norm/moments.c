/*
 * The loops behind moments.h, compiled once per instruction set from the
 * template moments_loops.h: a portable variant for the build's baseline
 * target, and on x86-64 an AVX2 + FMA and an AVX-512 variant. Each element
 * type's loop is written once as a macro body over (element type, load,
 * store) and stamped out for float, double, float16 and bfloat16.
 *
 * Half types are widened to float on load and rounded back to nearest-even
 * on store, so they are computed in float (statistics in double, as for
 * every type).
 *
 * For float (and half) data the mean is split into a float head and a float
 * tail (mean = hi + lo to ~1e-14): x - hi is exact when x is near the mean
 * (Sterbenz), so subtracting the mean stays accurate in float even for a
 * large common offset, without widening the whole loop to double.
 */
#include "ops/norm/moments.h"
#include "ops/half.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_F32(v) (v)
#define LOAD_F64(v) (v)
#define LOAD_F16(v) onn_f16_to_f32(v)
#define LOAD_BF16(v) onn_bf16_to_f32(v)
#define STORE_F32(v) (v)
#define STORE_F16(v) onn_f32_to_f16(v)
#define STORE_BF16(v) onn_f32_to_bf16(v)

/* Calls M(storage type, load, store) for the element type t. */
#define ONN_DISPATCH_FLOAT(t, M)                                                                   \
    do {                                                                                           \
        switch (t) {                                                                               \
        case ONNORM_FLOAT: M(float, LOAD_F32, STORE_F32); break;                                   \
        case ONNORM_FLOAT16: M(uint16_t, LOAD_F16, STORE_F16); break;                              \
        case ONNORM_BFLOAT16: M(uint16_t, LOAD_BF16, STORE_BF16); break;                           \
        default: break;                                                                            \
        }                                                                                          \
    } while (0)

#define ONN_ACC_BLOCK 1024

/* ---- the portable variant --------------------------------------------------- */
#define SFX scalar
#define ISA ONN_ISA_SCALAR
#define STREAM_FN(...) false
#include "ops/norm/moments_loops.h"
#undef SFX
#undef ISA
#undef STREAM_FN

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ONN_HAVE_X86_VARIANTS 1
#include <immintrin.h>

/*
 * Streaming float32 lines. y advances to a vector boundary with scalar
 * stores, the body uses non-temporal stores, and an sfence at the end
 * orders them before whatever reads y next (possibly another thread).
 * Each affine line computes ((x - hi) - lo) * s (* g) + b, with the same
 * roundings as the portable loops up to the final fused multiply-add.
 *
 * Kernels call these slice by slice: statistics read a slice, then the
 * affine pass rewrites it from cache. Left alone, memory would then sit idle
 * for reads while the slice is written; so each vector written also
 * prefetches the matching line `ahead` elements further on, where the
 * kernel's next slice starts (one slice further for BN/IN/LN, one group for
 * GN). Prefetching past the end of a buffer is harmless.
 */

__attribute__((target("avx512f"))) static void affine_stream_512(const float *x, float *y,
                                                                 int64_t n, float hi, float lo,
                                                                 float s, float b, const float *g,
                                                                 const float *bv, int64_t ahead)
{
    int64_t i = 0;
    for (; i < n && ((uintptr_t)(y + i) & 63); i++) {
        float v = ((x[i] - hi) - lo) * s;
        y[i] = g ? v * g[i] + (bv ? bv[i] : 0.0f) : v + b;
    }
    const __m512 vh = _mm512_set1_ps(hi), vl = _mm512_set1_ps(lo), vs = _mm512_set1_ps(s),
                 vb = _mm512_set1_ps(b);
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vh), vl), vs);
        if (g)
            v = bv ? _mm512_fmadd_ps(v, _mm512_loadu_ps(g + i), _mm512_loadu_ps(bv + i))
                   : _mm512_mul_ps(v, _mm512_loadu_ps(g + i));
        else
            v = _mm512_add_ps(v, vb);
        _mm512_stream_ps(y + i, v);
        _mm_prefetch((const char *)(x + ahead + i), _MM_HINT_T0);
    }
    for (; i < n; i++) {
        float v = ((x[i] - hi) - lo) * s;
        y[i] = g ? v * g[i] + (bv ? bv[i] : 0.0f) : v + b;
    }
    _mm_sfence();
}

__attribute__((target("avx2,fma"))) static void affine_stream_256(const float *x, float *y,
                                                                  int64_t n, float hi, float lo,
                                                                  float s, float b, const float *g,
                                                                  const float *bv, int64_t ahead)
{
    int64_t i = 0;
    for (; i < n && ((uintptr_t)(y + i) & 31); i++) {
        float v = ((x[i] - hi) - lo) * s;
        y[i] = g ? v * g[i] + (bv ? bv[i] : 0.0f) : v + b;
    }
    const __m256 vh = _mm256_set1_ps(hi), vl = _mm256_set1_ps(lo), vs = _mm256_set1_ps(s),
                 vb = _mm256_set1_ps(b);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vh), vl), vs);
        if (g)
            v = bv ? _mm256_fmadd_ps(v, _mm256_loadu_ps(g + i), _mm256_loadu_ps(bv + i))
                   : _mm256_mul_ps(v, _mm256_loadu_ps(g + i));
        else
            v = _mm256_add_ps(v, vb);
        _mm256_stream_ps(y + i, v);
        if ((i & 15) == 0) _mm_prefetch((const char *)(x + ahead + i), _MM_HINT_T0);
    }
    for (; i < n; i++) {
        float v = ((x[i] - hi) - lo) * s;
        y[i] = g ? v * g[i] + (bv ? bv[i] : 0.0f) : v + b;
    }
    _mm_sfence();
}

/* The streaming line of each variant; true when it ran. */
static bool stream_512(const float *x, float *y, int64_t n, double mean, double s, double b,
                       const float *g, const float *bv, int64_t ahead)
{
    const float hi = (float)mean, lo = (float)(mean - (double)hi);
    affine_stream_512(x, y, n, hi, lo, (float)s, (float)b, g, bv, ahead);
    return true;
}

static bool stream_256(const float *x, float *y, int64_t n, double mean, double s, double b,
                       const float *g, const float *bv, int64_t ahead)
{
    const float hi = (float)mean, lo = (float)(mean - (double)hi);
    affine_stream_256(x, y, n, hi, lo, (float)s, (float)b, g, bv, ahead);
    return true;
}


/* ---- AVX2 + FMA ---------------------------------------------------------------- */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define SFX avx2
#define ISA ONN_ISA_AVX2
#define STREAM_FN stream_256
#include "ops/norm/moments_loops.h"
#undef SFX
#undef ISA
#undef STREAM_FN
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

/* ---- AVX-512F -------------------------------------------------------------------- */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif
#define SFX avx512
#define ISA ONN_ISA_AVX512
#define STREAM_FN stream_512
#include "ops/norm/moments_loops.h"
#undef SFX
#undef ISA
#undef STREAM_FN
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif /* x86-64 */

/* ---- choosing a variant ------------------------------------------------------- */

static const char *const isa_names[ONN_ISA_COUNT] = {"scalar", "avx2", "avx512"};

const char *onn_isa_name(onn_isa isa)
{
    return isa >= 0 && isa < ONN_ISA_COUNT ? isa_names[isa] : "unknown";
}

bool onn_isa_supported(onn_isa isa)
{
    switch (isa) {
    case ONN_ISA_SCALAR: return true;
#ifdef ONN_HAVE_X86_VARIANTS
    case ONN_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case ONN_ISA_AVX512: return __builtin_cpu_supports("avx512f");
#endif
    default: return false;
    }
}

onn_isa onn_isa_active(void)
{
    const char *want = getenv("ONNORM_ISA");
    for (int i = 0; want && i < ONN_ISA_COUNT; i++)
        if (strcmp(want, isa_names[i]) == 0 && onn_isa_supported((onn_isa)i)) return (onn_isa)i;
    for (int i = ONN_ISA_COUNT - 1; i > 0; i--)
        if (onn_isa_supported((onn_isa)i)) return (onn_isa)i;
    return ONN_ISA_SCALAR;
}

const onn_moments *onn_moments_get(onn_isa isa)
{
    if (!onn_isa_supported(isa)) return NULL;
    switch (isa) {
#ifdef ONN_HAVE_X86_VARIANTS
    case ONN_ISA_AVX2: return &moments_avx2;
    case ONN_ISA_AVX512: return &moments_avx512;
#endif
    default: return &moments_scalar;
    }
}

double onn_load(onnorm_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case ONNORM_FLOAT: return ((const float *)p)[i];
    case ONNORM_DOUBLE: return ((const double *)p)[i];
    case ONNORM_FLOAT16: return onn_f16_to_f32(((const uint16_t *)p)[i]);
    case ONNORM_BFLOAT16: return onn_bf16_to_f32(((const uint16_t *)p)[i]);
    default: return 0.0;
    }
}

void onn_store(onnorm_dtype t, void *p, int64_t i, double v)
{
    switch (t) {
    case ONNORM_FLOAT: ((float *)p)[i] = (float)v; break;
    case ONNORM_DOUBLE: ((double *)p)[i] = v; break;
    case ONNORM_FLOAT16: ((uint16_t *)p)[i] = onn_f32_to_f16((float)v); break;
    case ONNORM_BFLOAT16: ((uint16_t *)p)[i] = onn_f32_to_bf16((float)v); break;
    default: break;
    }
}
