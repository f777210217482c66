/*
 * The template of the loops behind moments.h, included by moments.c once per
 * instruction set. Before including it, moments.c defines
 *   SFX        the variant's suffix (scalar, avx2, avx512),
 *   ISA        its onn_isa value,
 *   STREAM_FN  its streaming affine line (see moments.c), or nothing,
 * and selects the instruction set with #pragma GCC target, so the same
 * source compiles into each variant. No include guard: it is meant to be
 * included several times.
 */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define V(name) CAT(name, SFX)

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
 * squares are summed in float (four independent quarter-streams), and the
 * block sums are added in double. x - shift is exact whenever x is within a
 * factor of two of the shift, which covers a large common offset;
 * elsewhere it rounds by at most half an ulp of a value far from the mean,
 * which float outputs cannot see. Twice the throughput of the double loop. */
static void V(acc_add_f32_fast)(const float *x, int64_t off, int64_t n, onn_acc *a)
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

static void V(acc_add)(onnorm_dtype t, const void *x, int64_t off, int64_t n, onn_acc *a, bool fast)
{
    if (n <= 0) return;
    if (fast && t == ONNORM_FLOAT)
        V(acc_add_f32_fast)((const float *)x, off, n, a);
    else if (t == ONNORM_DOUBLE)
        ACC_LOOP(double, LOAD_F64, STORE_F32);
    else
        ONN_DISPATCH_FLOAT(t, ACC_LOOP);
}

/* RMS's raw second moment with the same float-in-blocks scheme. */
static double V(sum_squares_f32_fast)(const float *x, int64_t off, int64_t n)
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

#define SUMSQ_LOOP(T, LOAD, STORE)                                                                 \
    do {                                                                                           \
        const T *p = (const T *)x + off;                                                           \
        _Pragma("omp simd reduction(+ : s)") for (int64_t i = 0; i < n; i++)                       \
        {                                                                                          \
            double v = (double)LOAD(p[i]);                                                         \
            s += v * v;                                                                            \
        }                                                                                          \
    } while (0)

static double V(sum_squares)(onnorm_dtype t, const void *x, int64_t off, int64_t n, bool fast)
{
    double s = 0.0;
    if (n <= 0) return s;
    if (fast && t == ONNORM_FLOAT) return V(sum_squares_f32_fast)((const float *)x, off, n);
    if (t == ONNORM_DOUBLE)
        SUMSQ_LOOP(double, LOAD_F64, STORE_F32);
    else
        ONN_DISPATCH_FLOAT(t, SUMSQ_LOOP);
    return s;
}

#define SUMABS_LOOP(T, LOAD, STORE)                                                                \
    do {                                                                                           \
        const T *p = (const T *)x + off;                                                           \
        _Pragma("omp simd reduction(+ : s)") for (int64_t i = 0; i < n; i++) s +=                  \
            fabs((double)LOAD(p[i]));                                                              \
    } while (0)

static double V(sum_abs)(onnorm_dtype t, const void *x, int64_t off, int64_t n)
{
    double s = 0.0;
    if (n <= 0) return s;
    if (t == ONNORM_DOUBLE)
        SUMABS_LOOP(double, LOAD_F64, STORE_F32);
    else
        ONN_DISPATCH_FLOAT(t, SUMABS_LOOP);
    return s;
}

#ifdef VF
/*
 * The streaming float32 line: y advances to a vector boundary with scalar
 * stores, the body uses non-temporal stores, and an sfence at the end
 * orders them before whatever reads y next (possibly another thread). It
 * computes ((x - hi) - lo) * s (* g) + b with the same roundings as the
 * portable loops up to the final fused multiply-add.
 *
 * Kernels call it slice by slice: statistics read a slice, then the affine
 * pass rewrites it from cache. Left alone, memory would then sit idle for
 * reads while the slice is written; so every 64 bytes written also prefetch
 * the matching line `ahead` elements further on, where the kernel's next
 * slice starts (one slice further for BN/IN/LN, one group for GN).
 * Prefetching past the end of a buffer is harmless.
 */
static bool V(stream)(const float *x, float *y, int64_t n, double mean, double scale, double bias,
                      const float *g, const float *bv, int64_t ahead)
{
    const float hi = (float)mean, lo = (float)(mean - (double)hi), s = (float)scale,
                b = (float)bias;
    int64_t i = 0;
    for (; i < n && ((uintptr_t)(y + i) & (VL * sizeof(float) - 1)); i++) {
        float v = ((x[i] - hi) - lo) * s;
        y[i] = g ? v * g[i] + (bv ? bv[i] : 0.0f) : v + b;
    }
    const VF vh = V_SET1(hi), vl = V_SET1(lo), vs = V_SET1(s), vb = V_SET1(b);
    for (int64_t k = 0; i + VL <= n; i += VL, k++) {
        VF v = V_MUL(V_SUB(V_SUB(V_LOADU(x + i), vh), vl), vs);
        if (g)
            v = bv ? V_FMADD(v, V_LOADU(g + i), V_LOADU(bv + i)) : V_MUL(v, V_LOADU(g + i));
        else
            v = V_ADD(v, vb);
        V_STREAM(y + i, v);
        if (k % (64 / (VL * sizeof(float))) == 0)
            _mm_prefetch((const char *)(x + ahead + i), _MM_HINT_T0);
    }
    for (; i < n; i++) {
        float v = ((x[i] - hi) - lo) * s;
        y[i] = g ? v * g[i] + (bv ? bv[i] : 0.0f) : v + b;
    }
    _mm_sfence();
    return true;
}
#define STREAM_FN V(stream)
#else
#define STREAM_FN(...) false
#endif

#define AFFINE_LOOP(T, LOAD, STORE)                                                                \
    do {                                                                                           \
        const T *xp = (const T *)x + off;                                                          \
        T *yp = (T *)y + off;                                                                      \
        const float hi = (float)mean, lo = (float)(mean - (double)hi);                             \
        const float s = (float)scale, b = (float)bias;                                             \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) yp[i] =                                \
            STORE(((LOAD(xp[i]) - hi) - lo) * s + b);                                              \
    } while (0)

static void V(affine)(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n, double mean,
                      double scale, double bias, int64_t stream)
{
    if (stream > 0 && t == ONNORM_FLOAT &&
        STREAM_FN((const float *)x + off, (float *)y + off, n, mean, scale, bias, NULL, NULL,
                  stream))
        return;
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

static void V(affine_vec)(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n,
                          double mean, double inv, const void *gamma, const void *beta,
                          int64_t stream)
{
    if (stream > 0 && t == ONNORM_FLOAT &&
        STREAM_FN((const float *)x + off, (float *)y + off, n, mean, inv, 0.0, gamma, beta, stream))
        return;
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

static const onn_moments V(moments) = {ISA,        V(acc_add), V(sum_squares),
                                       V(sum_abs), V(affine),  V(affine_vec)};

#undef ACC_LOOP
#undef SUMSQ_LOOP
#undef SUMABS_LOOP
#undef AFFINE_LOOP
#undef AFFINE_VEC_LOOP
#undef STREAM_FN
#undef V
#undef CAT
#undef CAT_
