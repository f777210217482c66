/*
 * Typed inner loops behind moments.h. Each loop is written once as a macro
 * body over (element type, load, store) and stamped out for float, double,
 * float16 and bfloat16; the public entry points dispatch on the type.
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
#include "ops/moments.h"
#include "ops/half.h"

/* The library builds for the portable x86-64 baseline (SSE2); these loops
 * carry most of the normalization work, so they are also compiled for AVX2
 * and AVX-512 and the loader picks the best one for the CPU (ifunc). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ONN_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ONN_HOT
#endif

#define LOAD_F32(v) (v)
#define LOAD_F64(v) (v)
#define LOAD_F16(v) onn_f16_to_f32(v)
#define LOAD_BF16(v) onn_bf16_to_f32(v)
#define STORE_F32(v) (v)
#define STORE_F16(v) onn_f32_to_f16(v)
#define STORE_BF16(v) onn_f32_to_bf16(v)

/* Calls M(storage type, load, store) for the element type t. */
#define ONN_DISPATCH_FLOAT(t, M)                                                                 \
    do {                                                                                         \
        switch (t) {                                                                             \
        case ONNORM_FLOAT: M(float, LOAD_F32, STORE_F32); break;                                 \
        case ONNORM_FLOAT16: M(uint16_t, LOAD_F16, STORE_F16); break;                            \
        case ONNORM_BFLOAT16: M(uint16_t, LOAD_BF16, STORE_BF16); break;                         \
        default: break;                                                                          \
        }                                                                                        \
    } while (0)

#define ACC_LOOP(T, LOAD, STORE)                                                                 \
    do {                                                                                         \
        const T *p = (const T *)x + off;                                                         \
        if (a->n == 0) a->shift = (double)LOAD(p[0]);                                            \
        const double sh = a->shift;                                                              \
        double s1 = 0.0, s2 = 0.0;                                                               \
        _Pragma("omp simd reduction(+ : s1, s2)") for (int64_t i = 0; i < n; i++)                \
        {                                                                                        \
            double d = (double)LOAD(p[i]) - sh;                                                  \
            s1 += d;                                                                             \
            s2 += d * d;                                                                         \
        }                                                                                        \
        a->s1 += s1;                                                                             \
        a->s2 += s2;                                                                             \
        a->n += n;                                                                               \
    } while (0)

ONN_HOT void onn_acc_add(onnorm_dtype t, const void *x, int64_t off, int64_t n, onn_acc *a)
{
    if (n <= 0) return;
    if (t == ONNORM_DOUBLE)
        ACC_LOOP(double, LOAD_F64, STORE_F32);
    else
        ONN_DISPATCH_FLOAT(t, ACC_LOOP);
}

#define SUMSQ_LOOP(T, LOAD, STORE)                                                               \
    do {                                                                                         \
        const T *p = (const T *)x + off;                                                         \
        _Pragma("omp simd reduction(+ : s)") for (int64_t i = 0; i < n; i++)                     \
        {                                                                                        \
            double v = (double)LOAD(p[i]);                                                       \
            s += v * v;                                                                          \
        }                                                                                        \
    } while (0)

ONN_HOT double onn_sum_squares(onnorm_dtype t, const void *x, int64_t off, int64_t n)
{
    double s = 0.0;
    if (t == ONNORM_DOUBLE)
        SUMSQ_LOOP(double, LOAD_F64, STORE_F32);
    else
        ONN_DISPATCH_FLOAT(t, SUMSQ_LOOP);
    return s;
}

#define AFFINE_LOOP(T, LOAD, STORE)                                                              \
    do {                                                                                         \
        const T *xp = (const T *)x + off;                                                        \
        T *yp = (T *)y + off;                                                                    \
        const float hi = (float)mean, lo = (float)(mean - (double)hi);                           \
        const float s = (float)scale, b = (float)bias;                                           \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) yp[i] =                              \
            STORE(((LOAD(xp[i]) - hi) - lo) * s + b);                                            \
    } while (0)

ONN_HOT void onn_affine(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n, double mean,
                double scale, double bias)
{
    if (t == ONNORM_DOUBLE) {
        const double *xp = (const double *)x + off;
        double *yp = (double *)y + off;
#pragma omp simd
        for (int64_t i = 0; i < n; i++) yp[i] = (xp[i] - mean) * scale + bias;
        return;
    }
    ONN_DISPATCH_FLOAT(t, AFFINE_LOOP);
}

#define AFFINE_VEC_LOOP(T, LOAD, STORE)                                                          \
    do {                                                                                         \
        const T *xp = (const T *)x + off;                                                        \
        T *yp = (T *)y + off;                                                                    \
        const T *g = (const T *)gamma, *b = (const T *)beta;                                     \
        const float hi = (float)mean, lo = (float)(mean - (double)hi), iv = (float)inv;          \
        if (b) {                                                                                 \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) yp[i] =                          \
                STORE(((LOAD(xp[i]) - hi) - lo) * iv * LOAD(g[i]) + LOAD(b[i]));                 \
        } else {                                                                                 \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) yp[i] =                          \
                STORE(((LOAD(xp[i]) - hi) - lo) * iv * LOAD(g[i]));                              \
        }                                                                                        \
    } while (0)

ONN_HOT void onn_affine_vec(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n, double mean,
                    double inv, const void *gamma, const void *beta)
{
    if (t == ONNORM_DOUBLE) {
        const double *xp = (const double *)x + off, *g = gamma, *b = beta;
        double *yp = (double *)y + off;
        if (b) {
#pragma omp simd
            for (int64_t i = 0; i < n; i++) yp[i] = (xp[i] - mean) * inv * g[i] + b[i];
        } else {
#pragma omp simd
            for (int64_t i = 0; i < n; i++) yp[i] = (xp[i] - mean) * inv * g[i];
        }
        return;
    }
    ONN_DISPATCH_FLOAT(t, AFFINE_VEC_LOOP);
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
