/*
 * float16 and bfloat16 <-> float32, bit-exact and independent of the FPU's
 * half-precision support or rounding mode.
 *
 * Widening is exact. Narrowing rounds to nearest, ties to even; values too
 * large become Inf, values too small become (signed) zero or a subnormal,
 * NaN stays NaN (quiet, sign kept).
 */
#ifndef ONN_HALF_H
#define ONN_HALF_H

#include <stdint.h>
#include <string.h>

static inline uint32_t onn_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float onn_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float onn_bf16_to_f32(uint16_t b)
{
    return onn_bits_f32((uint32_t)b << 16);
}

static inline uint16_t onn_f32_to_bf16(float f)
{
    uint32_t u = onn_f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u); /* quiet NaN */
    u += 0x7FFFu + ((u >> 16) & 1u); /* round to nearest even; overflow carries into Inf */
    return (uint16_t)(u >> 16);
}

static inline float onn_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    if (e == 0x1F) return onn_bits_f32(sign | 0x7F800000u | (m << 13)); /* Inf, NaN */
    if (e != 0) return onn_bits_f32(sign | ((e + 112u) << 23) | (m << 13));
    /* Zero or subnormal: m * 2^-24, exact in float. */
    float v = (float)m * 5.9604644775390625e-08f;
    return sign ? -v : v;
}

static inline uint16_t onn_f32_to_f16(float f)
{
    uint32_t u = onn_f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((a >> 13) & 0x3FFu)); /* NaN */
    if (a >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* rounds to >= 65520: Inf */
    if (a >= 0x38800000u) {                                  /* normal half */
        uint32_t r = a - 0x38000000u;                        /* rebias exponent 127 -> 15 */
        r += 0xFFFu + ((r >> 13) & 1u);                      /* ties to even */
        return (uint16_t)(sign | (r >> 13));
    }
    if (a < 0x33000000u) return sign; /* below half the smallest subnormal: zero */
    /* Subnormal half: shift the full significand right with rounding. */
    uint32_t e = a >> 23, m = (a & 0x7FFFFFu) | 0x800000u;
    uint32_t shift = 126u - e; /* 14..24 */
    uint32_t half_bit = 1u << (shift - 1), rest = m & ((half_bit << 1) - 1u);
    uint32_t q = m >> shift;
    if (rest > half_bit || (rest == half_bit && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

#endif
