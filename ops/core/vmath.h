/*
 * Branch-free float erf and tanh that loops vectorize (libm's erff and
 * tanhf are a call per element: erff was 14% of a small ViT's time, in
 * GELU). Both are accurate to 2 ulp of float over the whole float range
 * (tests/core/test_vmath.c measures every 97th bit pattern and the edges
 * against double-precision libm); NaN stays NaN, erf(+-inf) = +-1,
 * tanh(+-inf) = +-1, and -0 stays -0.
 *
 * Everything is float: 8 lanes to an AVX2 vector. The polynomials'
 * coefficients are least-squares fits on Chebyshev nodes to erf, erfc and
 * tanh in 40-digit arithmetic (mpmath), rounded to float; each branch is
 * arranged so that the rounding of the polynomial reaches the result
 * scaled down (a small correction added to x, or erfc subtracted from 1).
 * Measured (test_vmath): erf 1.27 ulp, tanh 1.39 ulp at most, with two
 * roundings per step or fused.
 *
 *   erf:  |x| < 1:    x + x Q(x^2), Q of degree 6
 *         |x| < 3.92: 1 - D(|x| - 2.46) with x's sign, D ~ erfc of degree 14
 *         beyond:     +-1 (erff rounds to 1 from 3.833 on)
 *   tanh: |x| < 0.625: |x| + |x| x^2 P(x^2), P of degree 5, with x's sign
 *         beyond:     1 - 2e / (1 + e), e = e^(-2|x|) by onn_expf_nonpositive's
 *                     polynomial (its ~1 ulp error reaches the result
 *                     scaled by at most 0.5), with x's sign; +-1 from
 *                     |x| >= 9.5
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
#define ONN_VM_MADDF(a, b, c) ((a) * (b) + (c))
#define ONN_VM_INLINE static inline
#include "ops/core/vmath_body.h"
#undef ONN_VM_NAME
#undef ONN_VM_MADDF
#undef ONN_VM_INLINE

/* Whole arrays (vmath_loops.c): y[i] = f(x[i]) for the float32 Erf, Tanh,
 * Gelu (erf form) and Gelu (tanh form), through the best variant this CPU
 * has (AVX2 + FMA: 8 floats per vector instead of SSE2's 4, and fused
 * steps), else the portable loop. The signature is broadcast.h's span
 * function; param is unused. x and y may be the same array. */
typedef enum onn_vm_fn { ONN_VM_ERF, ONN_VM_TANH, ONN_VM_GELU, ONN_VM_GELU_TANH } onn_vm_fn;
typedef void (*onn_vm_loop)(const void *x, void *y, int64_t n, const void *param);
/* The loop of fn for variant isa (the portable one where isa has none). */
onn_vm_loop onn_vm_loop_for(onn_vm_fn fn, int isa);

#endif
