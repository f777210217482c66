/*
 * The bodies of vmath.h's erf and tanh, included once per instruction set
 * (no include guard). The includer defines
 *   ONN_VM_NAME(f)          the name of function f in this variant,
 *   ONN_VM_MADD(a, b, c)    a * b + c in double,
 *   ONN_VM_MADDF(a, b, c)   a * b + c in float,
 *   ONN_VM_INLINE           the functions' storage and inlining,
 * as two roundings (vmath.h: the portable reference) or one fused
 * multiply-add (vmath_loops.c's AVX2 + FMA variant). Either way the result
 * is within 2 ulp of float (tests/core/test_vmath.c checks both); they may
 * differ from each other in the last bit.
 */
ONN_VM_INLINE float ONN_VM_NAME(onn_erff)(float xf)
{
    const double x = xf, a = fabs(x), z = x * x;
    double p = 7.933493886160136e-05;
    p = ONN_VM_MADD(p, z, -0.0008034846649790632);
    p = ONN_VM_MADD(p, z, 0.00519121837735405);
    p = ONN_VM_MADD(p, z, -0.02685539945204656);
    p = ONN_VM_MADD(p, z, 0.11283625725084565);
    p = ONN_VM_MADD(p, z, -0.37612629877675857);
    p = ONN_VM_MADD(p, z, 1.128379166593153);
    /* q is computed for every x (inf or NaN where |x| is far beyond 3.92)
     * and selected only below 3.92: a clamp of t before the polynomial
     * would be folded into a branch that keeps the loop from vectorizing.
     * NaN stays NaN. */
    const double t = a - 2.46;
    double q = -8.423496807864924e-09;
    q = ONN_VM_MADD(q, t, -3.670454929617867e-07);
    q = ONN_VM_MADD(q, t, 1.166258325970946e-06);
    q = ONN_VM_MADD(q, t, 3.028795381539371e-06);
    q = ONN_VM_MADD(q, t, -1.7580852750580365e-05);
    q = ONN_VM_MADD(q, t, 1.5325175512356584e-05);
    q = ONN_VM_MADD(q, t, 7.627676925027012e-05);
    q = ONN_VM_MADD(q, t, -0.0002843414574758015);
    q = ONN_VM_MADD(q, t, 0.00035544898769209344);
    q = ONN_VM_MADD(q, t, 0.00044601089803338485);
    q = ONN_VM_MADD(q, t, -0.0029369276252010647);
    q = ONN_VM_MADD(q, t, 0.006805508207238538);
    q = ONN_VM_MADD(q, t, -0.009914248869432025);
    q = ONN_VM_MADD(q, t, 0.00983128019434827);
    q = ONN_VM_MADD(q, t, -0.00653451390533355);
    q = ONN_VM_MADD(q, t, 0.0026563042690277787);
    q = ONN_VM_MADD(q, t, 0.9994966462827232);
    const double big = copysign(a >= 3.92 ? 1.0 : q, x);
    return (float)(a < 1.0 ? x * p : big);
}

ONN_VM_INLINE float ONN_VM_NAME(onn_tanhf)(float xf)
{
    const double x = xf, z = x * x;
    double p = -4.161908695655542e-05;
    p = ONN_VM_MADD(p, z, 0.0003078385750599839);
    p = ONN_VM_MADD(p, z, -0.0011882717665519444);
    p = ONN_VM_MADD(p, z, 0.003426361956643075);
    p = ONN_VM_MADD(p, z, -0.00879730949165862);
    p = ONN_VM_MADD(p, z, 0.021853274422389695);
    p = ONN_VM_MADD(p, z, -0.05396596086883532);
    p = ONN_VM_MADD(p, z, 0.13333317136043008);
    p = ONN_VM_MADD(p, z, -0.3333333291619458);
    p = ONN_VM_MADD(p, z, 0.9999999999890059);
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
    q = ONN_VM_MADDF(q, r, 1.3981999507e-3f);
    q = ONN_VM_MADDF(q, r, 8.3334519073e-3f);
    q = ONN_VM_MADDF(q, r, 4.1665795894e-2f);
    q = ONN_VM_MADDF(q, r, 1.6666665459e-1f);
    q = ONN_VM_MADDF(q, r, 5.0000001201e-1f);
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
