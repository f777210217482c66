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

static inline float onn_erff(float xf)
{
    const double x = xf, a = fabs(x), z = x * x;
    double p = 7.933493886160136e-05;
    p = p * z + -0.0008034846649790632;
    p = p * z + 0.00519121837735405;
    p = p * z + -0.02685539945204656;
    p = p * z + 0.11283625725084565;
    p = p * z + -0.37612629877675857;
    p = p * z + 1.128379166593153;
    /* q is computed for every x (inf or NaN where |x| is far beyond 3.92)
     * and selected only below 3.92: a clamp of t before the polynomial
     * would be folded into a branch that keeps the loop from vectorizing.
     * NaN stays NaN. */
    const double t = a - 2.46;
    double q = -8.423496807864924e-09;
    q = q * t + -3.670454929617867e-07;
    q = q * t + 1.166258325970946e-06;
    q = q * t + 3.028795381539371e-06;
    q = q * t + -1.7580852750580365e-05;
    q = q * t + 1.5325175512356584e-05;
    q = q * t + 7.627676925027012e-05;
    q = q * t + -0.0002843414574758015;
    q = q * t + 0.00035544898769209344;
    q = q * t + 0.00044601089803338485;
    q = q * t + -0.0029369276252010647;
    q = q * t + 0.006805508207238538;
    q = q * t + -0.009914248869432025;
    q = q * t + 0.00983128019434827;
    q = q * t + -0.00653451390533355;
    q = q * t + 0.0026563042690277787;
    q = q * t + 0.9994966462827232;
    const double big = copysign(a >= 3.92 ? 1.0 : q, x);
    return (float)(a < 1.0 ? x * p : big);
}

static inline float onn_tanhf(float xf)
{
    const double x = xf, z = x * x;
    double p = -4.161908695655542e-05;
    p = p * z + 0.0003078385750599839;
    p = p * z + -0.0011882717665519444;
    p = p * z + 0.003426361956643075;
    p = p * z + -0.00879730949165862;
    p = p * z + 0.021853274422389695;
    p = p * z + -0.05396596086883532;
    p = p * z + 0.13333317136043008;
    p = p * z + -0.3333333291619458;
    p = p * z + 0.9999999999890059;
    /* e = e^(-2|x|) as in onn_expf_nonpositive but with no clamp of the
     * input (a clamp before arithmetic is folded into a branch that keeps
     * the loop from vectorizing): 2^n comes from the bits of the rounded
     * value in unsigned arithmetic, garbage but defined where |x| >= 9.5,
     * and there the result is the selected +-1 (tanhf rounds to 1 from 9.01). */
    const float af = fabsf(xf), v = -2.0f * af, shifter = 12582912.0f;
    const float tt = v * 1.44269504088896341f + shifter, n = tt - shifter;
    float r = v - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float q = 1.9875691500e-4f;
    q = q * r + 1.3981999507e-3f;
    q = q * r + 8.3334519073e-3f;
    q = q * r + 4.1665795894e-2f;
    q = q * r + 1.6666665459e-1f;
    q = q * r + 5.0000001201e-1f;
    q = q * r * r + r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &tt, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    const double e = (double)(q * scale);
    const double big = copysign(af < 9.5f ? 1.0 - 2.0 * e / (1.0 + e) : 1.0, x);
    const float res = (float)(af < 1.0f ? x * p : big);
    return xf != xf ? xf : res;
}

#endif
