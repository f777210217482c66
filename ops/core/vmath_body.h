/*
 * The bodies of vmath.h's erf and tanh, included once per instruction set
 * (no include guard). The includer defines
 *   ONN_VM_NAME(f)          the name of function f in this variant,
 *   ONN_VM_MADDF(a, b, c)   a * b + c in float,
 *   ONN_VM_INLINE           the functions' storage and inlining,
 * as two roundings (vmath.h: the portable reference) or one fused
 * multiply-add (vmath_loops.c's AVX2 + FMA variant). Either way the result
 * is within 2 ulp of float (tests/core/test_vmath.c checks both); they may
 * differ from each other in the last bit.
 */
ONN_VM_INLINE float ONN_VM_NAME(onn_erff)(float x)
{
    const float a = fabsf(x), z = x * x;
    /* |x| < 1: x + x Q(x^2) (Q = erf(x)/x - 1 is small, so its rounding
     * errors reach the result scaled down) */
    const float z2 = z * z;
    float qh = 7.9334859e-05f; /* degrees 6..4 */
    qh = ONN_VM_MADDF(qh, z, -0.000803484407f);
    qh = ONN_VM_MADDF(qh, z, 0.00519121811f);
    float ql = -0.0268553998f; /* degrees 3..0 */
    ql = ONN_VM_MADDF(ql, z, 0.112836257f);
    ql = ONN_VM_MADDF(ql, z, -0.376126289f);
    ql = ONN_VM_MADDF(ql, z, 0.128379166f);
    const float q = ONN_VM_MADDF(qh, z2 * z2, ql);
    const float small = ONN_VM_MADDF(x, q, x);
    /* 1 <= |x| < 3.92: 1 - erfc(|x|), erfc by D(|x| - 2.46) (at most 0.16,
     * so its float rounding stays far below the result's ulp). D is
     * computed for every x (huge where |x| is far beyond 3.92) and selected
     * only below: a clamp of t would become a branch that keeps the loop
     * from vectorizing. */
    const float t = a - 2.46f, t2 = t * t, t4 = t2 * t2;
    float dh = -1.09443624e-06f; /* degrees 14..8 */
    dh = ONN_VM_MADDF(dh, t, -9.48172314e-08f);
    dh = ONN_VM_MADDF(dh, t, 1.73320714e-05f);
    dh = ONN_VM_MADDF(dh, t, -2.47062781e-05f);
    dh = ONN_VM_MADDF(dh, t, -7.58280512e-05f);
    dh = ONN_VM_MADDF(dh, t, 0.000299616746f);
    dh = ONN_VM_MADDF(dh, t, -0.000355897326f);
    float dl = -0.000459331233f; /* degrees 7..0 */
    dl = ONN_VM_MADDF(dl, t, 0.00293717091f);
    dl = ONN_VM_MADDF(dl, t, -0.0067995456f);
    dl = ONN_VM_MADDF(dl, t, 0.00991418399f);
    dl = ONN_VM_MADDF(dl, t, -0.00983245671f);
    dl = ONN_VM_MADDF(dl, t, 0.00653452054f);
    dl = ONN_VM_MADDF(dl, t, -0.00265623699f);
    dl = ONN_VM_MADDF(dl, t, 0.0005033536f);
    const float d = ONN_VM_MADDF(dh, t4 * t4, dl);
    const float big = copysignf(a >= 3.92f ? 1.0f : 1.0f - d, x);
    const float res = a < 1.0f ? small : big;
    return x != x ? x : res;
}

ONN_VM_INLINE float ONN_VM_NAME(onn_tanhf)(float x)
{
    const float a = fabsf(x), z = x * x;
    /* |x| < 0.625: |x| + |x| z P(z), z = x^2, with x's sign (-0 stays -0) */
    float p = 0.00214899099f;
    p = ONN_VM_MADDF(p, z, -0.00818466954f);
    p = ONN_VM_MADDF(p, z, 0.0217040032f);
    p = ONN_VM_MADDF(p, z, -0.0539474562f);
    p = ONN_VM_MADDF(p, z, 0.133332118f);
    p = ONN_VM_MADDF(p, z, -0.333333313f);
    const float small = ONN_VM_MADDF(a * z, p, a);
    /* Beyond: 1 - 2e / (1 + e), e = e^(-2|x|) as in onn_expf_nonpositive
     * but with no clamp of the input (a clamp before arithmetic is folded
     * into a branch that keeps the loop from vectorizing): 2^n comes from
     * the bits of the rounded value in unsigned arithmetic, garbage but
     * defined where |x| >= 9.5, and there the result is the selected +-1
     * (tanhf rounds to 1 from 9.01). 2e / (1 + e) is at most half the
     * result, which halves its error's weight. */
    const float v = -2.0f * a, shifter = 12582912.0f;
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
    const float e = q * scale;
    const float big = a < 9.5f ? 1.0f - 2.0f * e / (1.0f + e) : 1.0f;
    const float res = copysignf(a < 0.625f ? small : big, x);
    return x != x ? x : res;
}
