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
#include "ops/norm/moments_loops.h"
#undef SFX
#undef ISA

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

/* The x86 variants also get the template's streaming line, written with
 * these vector macros (VF the vector type, VL its float lanes). */

/* ---- AVX2 + FMA ---------------------------------------------------------------- */
ONN_TARGET_AVX2_BEGIN
#define SFX avx2
#define ISA ONN_ISA_AVX2
#define VF __m256
#define VL 8
#define V_SET1 _mm256_set1_ps
#define V_LOADU _mm256_loadu_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_ADD _mm256_add_ps
#define V_FMADD _mm256_fmadd_ps
#define V_STREAM _mm256_stream_ps
#include "ops/norm/moments_loops.h"
#include "ops/norm/moments_vec_undef.h"
ONN_TARGET_END

/* ---- AVX-512F -------------------------------------------------------------------- */
ONN_TARGET_AVX512_BEGIN
#define SFX avx512
#define ISA ONN_ISA_AVX512
#define VF __m512
#define VL 16
#define V_SET1 _mm512_set1_ps
#define V_LOADU _mm512_loadu_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_ADD _mm512_add_ps
#define V_FMADD _mm512_fmadd_ps
#define V_STREAM _mm512_stream_ps
#include "ops/norm/moments_loops.h"
#include "ops/norm/moments_vec_undef.h"
ONN_TARGET_END
#endif /* x86-64 */

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
