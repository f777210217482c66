/*
 * Typed inner loops behind moments.h. Each loop is written once as a macro
 * body and stamped out for float and double; the public entry points
 * dispatch on the element type.
 *
 * For float data the mean is split into a float head and a float tail
 * (mean = hi + lo exactly to ~1e-14): x - hi is exact when x is near the
 * mean (Sterbenz), so subtracting the mean stays accurate in float even for
 * a large common offset, without widening the whole loop to double.
 */
#include "ops/moments.h"

#define ONN_ACC_LOOP(T)                                                                          \
    do {                                                                                         \
        const T *p = (const T *)x + off;                                                         \
        if (a->n == 0) a->shift = (double)p[0];                                                  \
        const double sh = a->shift;                                                              \
        double s1 = 0.0, s2 = 0.0;                                                               \
        _Pragma("omp simd reduction(+ : s1, s2)") for (int64_t i = 0; i < n; i++)                \
        {                                                                                        \
            double d = (double)p[i] - sh;                                                        \
            s1 += d;                                                                             \
            s2 += d * d;                                                                         \
        }                                                                                        \
        a->s1 += s1;                                                                             \
        a->s2 += s2;                                                                             \
        a->n += n;                                                                               \
    } while (0)

void onn_acc_add(onnorm_dtype t, const void *x, int64_t off, int64_t n, onn_acc *a)
{
    if (n <= 0) return;
    if (t == ONNORM_FLOAT)
        ONN_ACC_LOOP(float);
    else
        ONN_ACC_LOOP(double);
}

#define ONN_SUMSQ_LOOP(T)                                                                        \
    do {                                                                                         \
        const T *p = (const T *)x + off;                                                         \
        _Pragma("omp simd reduction(+ : s)") for (int64_t i = 0; i < n; i++) s +=                \
            (double)p[i] * (double)p[i];                                                         \
    } while (0)

double onn_sum_squares(onnorm_dtype t, const void *x, int64_t off, int64_t n)
{
    double s = 0.0;
    if (t == ONNORM_FLOAT)
        ONN_SUMSQ_LOOP(float);
    else
        ONN_SUMSQ_LOOP(double);
    return s;
}

void onn_affine(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n, double mean,
                double scale, double bias)
{
    if (t == ONNORM_FLOAT) {
        const float *xp = (const float *)x + off;
        float *yp = (float *)y + off;
        const float hi = (float)mean, lo = (float)(mean - (double)hi);
        const float s = (float)scale, b = (float)bias;
#pragma omp simd
        for (int64_t i = 0; i < n; i++) yp[i] = ((xp[i] - hi) - lo) * s + b;
    } else {
        const double *xp = (const double *)x + off;
        double *yp = (double *)y + off;
#pragma omp simd
        for (int64_t i = 0; i < n; i++) yp[i] = (xp[i] - mean) * scale + bias;
    }
}

#define ONN_AFFINE_VEC_LOOP(T, SUB)                                                              \
    do {                                                                                         \
        const T *xp = (const T *)x + off;                                                        \
        T *yp = (T *)y + off;                                                                    \
        const T *g = (const T *)gamma, *b = (const T *)beta;                                     \
        const T iv = (T)inv;                                                                     \
        if (b) {                                                                                 \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) yp[i] =                          \
                (SUB(xp[i])) * iv * g[i] + b[i];                                                 \
        } else {                                                                                 \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) yp[i] = (SUB(xp[i])) * iv * g[i]; \
        }                                                                                        \
    } while (0)

void onn_affine_vec(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n, double mean,
                    double inv, const void *gamma, const void *beta)
{
    if (t == ONNORM_FLOAT) {
        const float hi = (float)mean, lo = (float)(mean - (double)hi);
#define ONN_SUB_F32(v) (((v)-hi) - lo)
        ONN_AFFINE_VEC_LOOP(float, ONN_SUB_F32);
#undef ONN_SUB_F32
    } else {
#define ONN_SUB_F64(v) ((v)-mean)
        ONN_AFFINE_VEC_LOOP(double, ONN_SUB_F64);
#undef ONN_SUB_F64
    }
}

double onn_load(onnorm_dtype t, const void *p, int64_t i)
{
    return t == ONNORM_FLOAT ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

void onn_store(onnorm_dtype t, void *p, int64_t i, double v)
{
    if (t == ONNORM_FLOAT)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}
