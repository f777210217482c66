/*
 * Branch-free float erf and tanh that loops vectorize (libm's erff and
 * tanhf are a call per element: erff was 14% of a small ViT's time, in
 * GELU). Both are accurate to 2 ulp of float over the whole float range
 * (tests/core/test_vmath.c measures every 97th bit pattern and the edges
 * against double-precision libm); NaN stays NaN, erf(+-inf) = +-1,
 * tanh(+-inf) = +-1, and -0 stays -0.
 *
 * The polynomials are evaluated in double (half the vector width, but the
 * float result then carries only its final rounding plus ~1e-9 of fit
 * error); their coefficients are least-squares fits to double-precision
 * erf and tanh on Chebyshev nodes (relative fit error 1.6e-9 for erf on
 * [0, 1], 5e-10 on [1, 3.92]; 4e-11 for tanh on [0, 1]).
 *
 *   erf:  |x| < 1:    x * P(x^2), degree 6 in x^2
 *         |x| < 3.92: Q(|x| - 2.46), degree 16, with x's sign
 *         beyond:     +-1 (erff rounds to 1 from 3.833 on)
 *   tanh: |x| < 1:    x * R(x^2), degree 9 in x^2
 *         beyond:     1 - 2e / (1 + e), e = e^(-2|x|) by onn_expf_nonpositive
 *                     (its ~1 ulp error reaches the result scaled by at
 *                     most 0.28), with x's sign; +-1 from |x| >= 9.5
 * Every branch is computed and the result selected, so the loop has no
 * control flow.
 */
#ifndef ONN_VMATH_H
#define ONN_VMATH_H

#include "ops/core/epilogue.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The portable reference: onn_erff, onn_tanhf, two roundings per step. */
#define ONN_VM_NAME(f) f
#define ONN_VM_MADD(a, b, c) ((a) * (b) + (c))
#define ONN_VM_MADDF(a, b, c) ((a) * (b) + (c))
#define ONN_VM_INLINE static inline
#include "ops/core/vmath_body.h"
#undef ONN_VM_NAME
#undef ONN_VM_MADD
#undef ONN_VM_MADDF
#undef ONN_VM_INLINE

/* Whole arrays (vmath_loops.c): y[i] = f(x[i]) for the float32 Erf, Tanh,
 * Gelu (erf form) and Gelu (tanh form), through the best variant this CPU
 * has (AVX2 + FMA: 4 doubles per vector instead of SSE2's 2, and fused
 * steps), else the portable loop. The signature is broadcast.h's span
 * function; param is unused. x and y may be the same array. */
typedef enum onn_vm_fn { ONN_VM_ERF, ONN_VM_TANH, ONN_VM_GELU, ONN_VM_GELU_TANH } onn_vm_fn;
typedef void (*onn_vm_loop)(const void *x, void *y, int64_t n, const void *param);
/* The loop of fn for variant isa (the portable one where isa has none). */
onn_vm_loop onn_vm_loop_for(onn_vm_fn fn, int isa);

#endif
