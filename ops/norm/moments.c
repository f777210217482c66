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
#include "ops/norm/moments.h"
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
#define ONN_DISPATCH_FLOAT(t, M)                                                                   \
    do {                                                                                           \
        switch (t) {                                                                               \
        case ONNORM_FLOAT: M(float, LOAD_F32, STORE_F32); break;                                   \
        case ONNORM_FLOAT16: M(uint16_t, LOAD_F16, STORE_F16); break;                              \
        case ONNORM_BFLOAT16: M(uint16_t, LOAD_BF16, STORE_BF16); break;                           \
        default: break;                                                                            \
        }                                                                                          \
    } while (0)

/* Four interleaved quarter-streams, each with its own pair of vector
 * accumulators: a single pair would serialize on the add latency, which
 * made the statistics pass slower than the memory it reads. */
#define ACC_LOOP(T, LOAD, STORE)                                                                   \
    do {                                                                                           \
        const T *p = (const T *)x + off;                                                           \
        if (a->n == 0) a->shift = (double)LOAD(p[0]);                                              \
        const double sh = a->shift;                                                                \
        const int64_t q = n / 4;                                                                   \
        double s1a = 0, s1b = 0, s1c = 0, s1d = 0, s2a = 0, s2b = 0, s2c = 0, s2d = 0;             \
        _Pragma("omp simd reduction(+ : s1a, s1b, s1c, s1d, s2a, s2b, s2c, s2d)") for (int64_t i = \
                                                                                           0;      \
                                                                                       i < q; i++) \
        {                                                                                          \
            double da = (double)LOAD(p[i]) - sh, db = (double)LOAD(p[i + q]) - sh;                 \
            double dc = (double)LOAD(p[i + 2 * q]) - sh, dd = (double)LOAD(p[i + 3 * q]) - sh;     \
            s1a += da, s1b += db, s1c += dc, s1d += dd;                                            \
            s2a += da * da, s2b += db * db, s2c += dc * dc, s2d += dd * dd;                        \
        }                                                                                          \
        for (int64_t i = 4 * q; i < n; i++) {                                                      \
            double d = (double)LOAD(p[i]) - sh;                                                    \
            s1a += d, s2a += d * d;                                                                \
        }                                                                                          \
        a->s1 += (s1a + s1b) + (s1c + s1d);                                                        \
        a->s2 += (s2a + s2b) + (s2c + s2d);                                                        \
        a->n += n;                                                                                 \
    } while (0)

/* Float statistics for float32 data whose results feed float outputs:
 * within blocks of ONN_ACC_BLOCK elements the shifted values and their
 * squares are summed in float (16 lanes, four independent quarter-streams),
 * and the block sums are added in double. x - shift is exact whenever x is
 * within a factor of two of the shift, which covers a large common offset;
 * elsewhere it rounds by at most half an ulp of a value far from the mean,
 * which float outputs cannot see. Twice the throughput of the double loop. */
#define ONN_ACC_BLOCK 1024

ONN_HOT void onn_acc_add_f32_fast(const float *x, int64_t off, int64_t n, onn_acc *a)
{
    if (n <= 0) return;
    const float *p = x + off;
    if (a->n == 0) a->shift = p[0];
    const float sh = (float)a->shift;
    double s1 = 0.0, s2 = 0.0;
    for (int64_t b = 0; b < n; b += ONN_ACC_BLOCK) {
        const float *q0 = p + b;
        const int64_t len = n - b < ONN_ACC_BLOCK ? n - b : ONN_ACC_BLOCK, q = len / 4;
        float f1a = 0, f1b = 0, f1c = 0, f1d = 0, f2a = 0, f2b = 0, f2c = 0, f2d = 0;
#pragma omp simd reduction(+ : f1a, f1b, f1c, f1d, f2a, f2b, f2c, f2d)
        for (int64_t i = 0; i < q; i++) {
            float da = q0[i] - sh, db = q0[i + q] - sh, dc = q0[i + 2 * q] - sh,
                  dd = q0[i + 3 * q] - sh;
            f1a += da, f1b += db, f1c += dc, f1d += dd;
            f2a += da * da, f2b += db * db, f2c += dc * dc, f2d += dd * dd;
        }
        for (int64_t i = 4 * q; i < len; i++) {
            float d = q0[i] - sh;
            f1a += d, f2a += d * d;
        }
        s1 += (double)((f1a + f1b) + (f1c + f1d));
        s2 += (double)((f2a + f2b) + (f2c + f2d));
    }
    a->s1 += s1;
    a->s2 += s2;
    a->n += n;
}

/* RMS's raw second moment with the same float-in-blocks scheme. */
ONN_HOT double onn_sum_squares_f32_fast(const float *x, int64_t off, int64_t n)
{
    const float *p = x + off;
    double s = 0.0;
    for (int64_t b = 0; b < n; b += ONN_ACC_BLOCK) {
        const float *q0 = p + b;
        const int64_t len = n - b < ONN_ACC_BLOCK ? n - b : ONN_ACC_BLOCK, q = len / 4;
        float fa = 0, fb = 0, fc = 0, fd = 0;
#pragma omp simd reduction(+ : fa, fb, fc, fd)
        for (int64_t i = 0; i < q; i++) {
            fa += q0[i] * q0[i], fb += q0[i + q] * q0[i + q];
            fc += q0[i + 2 * q] * q0[i + 2 * q], fd += q0[i + 3 * q] * q0[i + 3 * q];
        }
        for (int64_t i = 4 * q; i < len; i++)
            fa += q0[i] * q0[i];
        s += (double)((fa + fb) + (fc + fd));
    }
    return s;
}

ONN_HOT void onn_acc_add(onnorm_dtype t, const void *x, int64_t off, int64_t n, onn_acc *a)
{
    if (n <= 0) return;
    if (t == ONNORM_DOUBLE)
        ACC_LOOP(double, LOAD_F64, STORE_F32);
    else
        ONN_DISPATCH_FLOAT(t, ACC_LOOP);
}

#define SUMSQ_LOOP(T, LOAD, STORE)                                                                 \
    do {                                                                                           \
        const T *p = (const T *)x + off;                                                           \
        _Pragma("omp simd reduction(+ : s)") for (int64_t i = 0; i < n; i++)                       \
        {                                                                                          \
            double v = (double)LOAD(p[i]);                                                         \
            s += v * v;                                                                            \
        }                                                                                          \
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

#define AFFINE_LOOP(T, LOAD, STORE)                                                                \
    do {                                                                                           \
        const T *xp = (const T *)x + off;                                                          \
        T *yp = (T *)y + off;                                                                      \
        const float hi = (float)mean, lo = (float)(mean - (double)hi);                             \
        const float s = (float)scale, b = (float)bias;                                             \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) yp[i] =                                \
            STORE(((LOAD(xp[i]) - hi) - lo) * s + b);                                              \
    } while (0)

/*
 * Streaming float32 variants. y advances to a vector boundary with scalar
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
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ONN_HAVE_STREAM 1

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

/* True when a streaming line ran (the CPU has AVX2 or AVX-512). */
static bool affine_stream(const float *x, float *y, int64_t n, double mean, double s, double b,
                          const float *g, const float *bv, int64_t ahead)
{
    const float hi = (float)mean, lo = (float)(mean - (double)hi);
    if (__builtin_cpu_supports("avx512f"))
        affine_stream_512(x, y, n, hi, lo, (float)s, (float)b, g, bv, ahead);
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        affine_stream_256(x, y, n, hi, lo, (float)s, (float)b, g, bv, ahead);
    else
        return false;
    return true;
}
#endif

ONN_HOT void onn_affine(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n, double mean,
                        double scale, double bias, int64_t stream)
{
#ifdef ONN_HAVE_STREAM
    if (stream > 0 && t == ONNORM_FLOAT &&
        affine_stream((const float *)x + off, (float *)y + off, n, mean, scale, bias, NULL, NULL,
                      stream))
        return;
#else
    (void)stream;
#endif
    if (t == ONNORM_DOUBLE) {
        const double *xp = (const double *)x + off;
        double *yp = (double *)y + off;
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            yp[i] = (xp[i] - mean) * scale + bias;
        return;
    }
    ONN_DISPATCH_FLOAT(t, AFFINE_LOOP);
}

#define AFFINE_VEC_LOOP(T, LOAD, STORE)                                                            \
    do {                                                                                           \
        const T *xp = (const T *)x + off;                                                          \
        T *yp = (T *)y + off;                                                                      \
        const T *g = (const T *)gamma, *b = (const T *)beta;                                       \
        const float hi = (float)mean, lo = (float)(mean - (double)hi), iv = (float)inv;            \
        if (b) {                                                                                   \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) yp[i] =                            \
                STORE(((LOAD(xp[i]) - hi) - lo) * iv * LOAD(g[i]) + LOAD(b[i]));                   \
        } else {                                                                                   \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) yp[i] =                            \
                STORE(((LOAD(xp[i]) - hi) - lo) * iv * LOAD(g[i]));                                \
        }                                                                                          \
    } while (0)

ONN_HOT void onn_affine_vec(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n,
                            double mean, double inv, const void *gamma, const void *beta,
                            int64_t stream)
{
#ifdef ONN_HAVE_STREAM
    if (stream > 0 && t == ONNORM_FLOAT &&
        affine_stream((const float *)x + off, (float *)y + off, n, mean, inv, 0.0, gamma, beta,
                      stream))
        return;
#else
    (void)stream;
#endif
    if (t == ONNORM_DOUBLE) {
        const double *xp = (const double *)x + off, *g = gamma, *b = beta;
        double *yp = (double *)y + off;
        if (b) {
#pragma omp simd
            for (int64_t i = 0; i < n; i++)
                yp[i] = (xp[i] - mean) * inv * g[i] + b[i];
        } else {
#pragma omp simd
            for (int64_t i = 0; i < n; i++)
                yp[i] = (xp[i] - mean) * inv * g[i];
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
