/*
 * vmath.h's array loops: float32 Erf, Tanh and the two Gelu forms, one
 * vectorized loop per function and instruction set, picked at config
 * (unary.c) by onn_vm_loop_for.
 *
 * The portable loops are compiled for the build's baseline (SSE2 on
 * x86-64: 4 floats a vector). The AVX2 + FMA loops include the same bodies
 * (vmath_body.h) under the AVX2 target with fused steps, 8 floats a
 * vector. On Zen 3 the 6 erf-form Gelu nodes (128 x 1536 each) of a
 * BERT-style encoder took 11.3 ms with libm's erff, 3.0 ms with the
 * earlier double-precision polynomials (4 lanes), and the tanh-form Gelu
 * of a small GPT went from 10% of its run to 5% with the float ones (one
 * thread, perf). AVX-512 CPUs take the AVX2 loops.
 *
 * Gelu's expressions are the spec's, in float as unary.c computes the other
 * float types': 0.5 x (1 + erf(x / sqrt 2)) and 0.5 x (1 + tanh(sqrt(2 / pi)
 * (x + 0.044715 x^3))).
 */
#include "ops/core/vmath.h"

#include "ops/core/broadcast.h"
#include "ops/isa.h"

#define SQRT1_2_F 0.70710678118654752440f   /* 1 / sqrt(2) */
#define SQRT_2_PI_F 0.79788456080286535588f /* sqrt(2 / pi) */

/* One loop: y[i] = EXPR of v = x[i]. */
#define VM_LOOP(name, EXPR)                                                                        \
    static void name(const void *px, void *py, int64_t n, const void *param)                       \
    {                                                                                              \
        const float *x = px;                                                                       \
        float *y = py;                                                                             \
        (void)param;                                                                               \
        ONN_SIMD                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const float v = x[i];                                                                  \
            y[i] = EXPR;                                                                           \
        }                                                                                          \
    }

/* The four loops of one variant: ERF and TANH name its scalar functions. */
#define VM_LOOPS(sfx, ERF, TANH)                                                                   \
    VM_LOOP(erf_##sfx, ERF(v))                                                                     \
    VM_LOOP(tanh_##sfx, TANH(v))                                                                   \
    VM_LOOP(gelu_##sfx, 0.5f * v * (1.0f + ERF(v * SQRT1_2_F)))                                    \
    VM_LOOP(gelu_tanh_##sfx, 0.5f * v * (1.0f + TANH(SQRT_2_PI_F * (v + 0.044715f * v * v * v))))  \
    static const onn_vm_loop loops_##sfx[] = {erf_##sfx, tanh_##sfx, gelu_##sfx, gelu_tanh_##sfx};

VM_LOOPS(portable, onn_erff, onn_tanhf)

#ifdef ONN_HAVE_X86_VARIANTS
ONN_TARGET_AVX2_BEGIN
#define ONN_VM_NAME(f) f##_fma
#define ONN_VM_MADDF(a, b, c) __builtin_fmaf((a), (b), (c))
/* Inlined into the loops, or they would not vectorize. */
#define ONN_VM_INLINE static inline __attribute__((always_inline))
#include "ops/core/vmath_body.h"
VM_LOOPS(avx2, onn_erff_fma, onn_tanhf_fma)
ONN_TARGET_END
#endif

onn_vm_loop onn_vm_loop_for(onn_vm_fn fn, int isa)
{
#ifdef ONN_HAVE_X86_VARIANTS
    if ((isa == ONN_ISA_AVX2 || isa == ONN_ISA_AVX512) && onn_isa_supported(ONN_ISA_AVX2))
        return loops_avx2[fn];
#else
    (void)isa;
#endif
    return loops_portable[fn];
}
