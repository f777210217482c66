/*
 * Softmax and LogSoftmax, float32 / float64.
 *
 *   opset 1, 11: the input is coerced to 2-D [prod(dims[:axis]),
 *                prod(dims[axis:])] (axis defaults to 1) and each row is
 *                normalized: the whole trailing block, not one axis;
 *   opset 13:    normalized along `axis` alone (default -1).
 *
 * Both views are [outer, n, inner] with the reduction over n (the old one
 * has inner = 1), so one routine serves both. Each row subtracts its
 * maximum before exp (float32's vectorized, see sm_expf), so large inputs
 * do not overflow; LogSoftmax returns
 * (x - max) - log(sum) rather than log(softmax), which keeps tiny
 * probabilities finite. Sums are accumulated in double.
 *
 * With inner > 1 the n elements of a row are `inner` apart. Work is done in
 * blocks of up to ONN_SOFTMAX_BLOCK neighbouring rows, so each pass reads
 * contiguous memory, and (outer, block) pairs are spread over threads.
 * Config resolves the axis into that view and picks the typed task.
 */
#include "ops/core/broadcast.h"
#include "ops/core/epilogue.h"
#include "ops/core/softmax.h"
#include "ops/core/threadpool.h"
#include "ops/isa.h"

#include <tgmath.h>

/* e^d for d = x - max <= 0: float32 through epilogue.h's branch-free
 * polynomial (within about 1 ulp), so that the exp loops vectorize; NaN
 * (a NaN input, or -inf - -inf in a row of -inf) stays NaN. float64 by
 * libm. */
static inline float sm_expf(float d)
{
    return d != d ? d : onn_expf_nonpositive(d);
}
static inline double sm_expd(double d)
{
    return exp(d);
}
#define SM_EXP(d) _Generic((d), float : sm_expf, default : sm_expd)(d)

#define ONN_SOFTMAX_BLOCK 64

typedef struct sm_cfg sm_cfg;
/* Normalizes row block t of the [outer, n, inner] view. */
typedef void (*sm_task)(const void *x, void *y, const sm_cfg *c, int64_t t);

struct sm_cfg {
    int64_t outer, n, inner;
    bool log;
    sm_task task; /* for the input's type */
};

/* The table entries' data: LogSoftmax or not. */
static const bool sm_plain = false, sm_log = true;

#define ONN_SIMD_MAX_MX _Pragma("omp simd reduction(max : mx)")

/* Normalizes one contiguous row of n elements (inner == 1). The max needs
 * no NaN care: a NaN element makes the sum, and so every output, NaN. */
#define SM_ROW(sfx, T, code, sgn)                                                                  \
    static void row_##sfx(const T *x, T *y, int64_t n, bool log_out)                               \
    {                                                                                              \
        T mx = (T)-INFINITY;                                                                       \
        ONN_SIMD_MAX_MX                                                                            \
        for (int64_t i = 0; i < n; i++)                                                            \
            mx = x[i] > mx ? x[i] : mx;                                                            \
        /* e^(x - max) into y (the row's temporary too for LogSoftmax), then                       \
         * its sum in double: two loops that vectorize */                                          \
        ONN_SIMD                                                                                   \
        for (int64_t i = 0; i < n; i++)                                                            \
            y[i] = SM_EXP(x[i] - mx);                                                              \
        double sum = 0.0;                                                                          \
        _Pragma("omp simd reduction(+ : sum)") for (int64_t i = 0; i < n; i++) sum +=              \
            (double)y[i];                                                                          \
        if (log_out) {                                                                             \
            const T ls = (T)log(sum);                                                              \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = (x[i] - mx) - ls;                                                           \
        } else {                                                                                   \
            const T s = (T)sum;                                                                    \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] /= s;                                                                         \
        }                                                                                          \
    }
ONN_FLOAT_TYPES(SM_ROW)

/* Normalizes rows [k0, k0 + kn) (kn <= ONN_SOFTMAX_BLOCK) of one outer
 * slice; x and y point at the slice, row k's element i is at i * inner + k. */
#define SM_BLOCK(sfx, T, code, sgn)                                                                \
    static void block_##sfx(const T *x, T *y, const sm_cfg *c, int64_t k0, int64_t kn)             \
    {                                                                                              \
        const int64_t inner = c->inner;                                                            \
        T mx[ONN_SOFTMAX_BLOCK], s[ONN_SOFTMAX_BLOCK];                                             \
        double sum[ONN_SOFTMAX_BLOCK];                                                             \
        for (int64_t k = 0; k < kn; k++)                                                           \
            mx[k] = (T)-INFINITY, sum[k] = 0.0;                                                    \
        for (int64_t i = 0; i < c->n; i++) {                                                       \
            const T *xr = x + i * inner + k0;                                                      \
            ONN_SIMD                                                                               \
            for (int64_t k = 0; k < kn; k++)                                                       \
                mx[k] = xr[k] > mx[k] ? xr[k] : mx[k];                                             \
        }                                                                                          \
        for (int64_t i = 0; i < c->n; i++) {                                                       \
            const T *xr = x + i * inner + k0;                                                      \
            T *yr = y + i * inner + k0;                                                            \
            ONN_SIMD                                                                               \
            for (int64_t k = 0; k < kn; k++) {                                                     \
                const T e = SM_EXP(xr[k] - mx[k]);                                                 \
                if (!c->log) yr[k] = e;                                                            \
                sum[k] += e;                                                                       \
            }                                                                                      \
        }                                                                                          \
        for (int64_t k = 0; k < kn; k++)                                                           \
            s[k] = (T)(c->log ? log(sum[k]) : sum[k]);                                             \
        for (int64_t i = 0; i < c->n; i++) {                                                       \
            const T *xr = x + i * inner + k0;                                                      \
            T *yr = y + i * inner + k0;                                                            \
            if (c->log) {                                                                          \
                ONN_SIMD                                                                           \
                for (int64_t k = 0; k < kn; k++)                                                   \
                    yr[k] = (xr[k] - mx[k]) - s[k];                                                \
            } else {                                                                               \
                ONN_SIMD                                                                           \
                for (int64_t k = 0; k < kn; k++)                                                   \
                    yr[k] /= s[k];                                                                 \
            }                                                                                      \
        }                                                                                          \
    }
ONN_FLOAT_TYPES(SM_BLOCK)

/* One task: row block `t` of the [outer, n, inner] view. */
#define SM_TASK(sfx, T, code, sgn)                                                                 \
    static void task_##sfx(const void *px, void *py, const sm_cfg *c, int64_t t)                   \
    {                                                                                              \
        const int64_t blocks = (c->inner + ONN_SOFTMAX_BLOCK - 1) / ONN_SOFTMAX_BLOCK;             \
        const int64_t o = t / blocks, k0 = (t % blocks) * ONN_SOFTMAX_BLOCK;                       \
        const int64_t kn = c->inner - k0 < ONN_SOFTMAX_BLOCK ? c->inner - k0 : ONN_SOFTMAX_BLOCK;  \
        const T *x = (const T *)px + o * c->n * c->inner;                                          \
        T *y = (T *)py + o * c->n * c->inner;                                                      \
        if (c->inner == 1)                                                                         \
            row_##sfx(x, y, c->n, c->log);                                                         \
        else                                                                                       \
            block_##sfx(x, y, c, k0, kn);                                                          \
    }
ONN_FLOAT_TYPES(SM_TASK)

/* float32 again for AVX2 + FMA (picked at config by onn_isa_active()): 8
 * lanes instead of SSE2's 4. The 4 x 128 x 128 attention probabilities of
 * a small GPT took 0.11 ms instead of 0.28 (one thread, Zen 3). */
#ifdef ONN_HAVE_X86_VARIANTS
ONN_TARGET_AVX2_BEGIN
SM_ROW(f32_avx2, float, 0, 0)
SM_BLOCK(f32_avx2, float, 0, 0)
SM_TASK(f32_avx2, float, 0, 0)
ONN_TARGET_END
#endif

static sm_task task_for(onnorm_dtype t)
{
    if (t != ONNORM_FLOAT) return task_f64;
#ifdef ONN_HAVE_X86_VARIANTS
    const onn_isa isa = onn_isa_active();
    if (isa == ONN_ISA_AVX2 || isa == ONN_ISA_AVX512) return task_f32_avx2;
#endif
    return task_f32;
}

onn_softmax_row onn_softmax_row_for(int isa)
{
#ifdef ONN_HAVE_X86_VARIANTS
    if ((isa == ONN_ISA_AVX2 || isa == ONN_ISA_AVX512) && onn_isa_supported(ONN_ISA_AVX2))
        return row_f32_avx2;
#else
    (void)isa;
#endif
    return row_f32;
}

/* The axis resolved into the [outer, n, inner] view, and the task for X's type
 * (which infer checks). */
static onnorm_status sm_config(onn_kctx *ctx)
{
    sm_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const bool along_axis = onn_kversion(ctx) >= 13;
    int64_t axis;
    int a;
    onnorm_status st = onn_kattr_int(ctx, "axis", along_axis ? -1 : 1, &axis);
    if (st) return st;
    /* The 2-D coercion also accepts axis == rank (like Flatten): [N, 1]. */
    bool ok = along_axis
                  ? onn_normalize_axis(axis, x->rank, &a)
                  : (axis == x->rank ? (a = x->rank, true) : onn_normalize_axis(axis, x->rank, &a));
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)axis, x->rank);
    cfg->outer = onn_dims_numel(x->dims, 0, a);
    cfg->n = along_axis ? x->dims[a] : onn_dims_numel(x->dims, a, x->rank);
    cfg->inner = along_axis ? onn_dims_numel(x->dims, a + 1, x->rank) : 1;
    cfg->log = *(const bool *)ctx->kernel->data;
    cfg->task = task_for(x->dtype);
    return ONNORM_OK;
}

static onnorm_status sm_infer(onn_kctx *ctx)
{
    return onn_infer_like_input(ctx, "input");
}

/* The arguments of sm_run's task loop. */
typedef struct sm_job {
    const sm_cfg *cfg;
    const void *x;
    void *y;
} sm_job;

static void sm_tasks(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const sm_job *j = arg;
    for (int64_t t = t0; t < t1; t++)
        j->cfg->task(j->x, j->y, j->cfg, t);
}

static onnorm_status sm_run(onn_kctx *ctx)
{
    const sm_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    const int64_t blocks = (cfg->inner + ONN_SOFTMAX_BLOCK - 1) / ONN_SOFTMAX_BLOCK;
    const int64_t tasks = cfg->outer * blocks;
    if (cfg->n == 0 || tasks == 0) return ONNORM_OK;
    const int nt = onn_threads_for(ctx, onnorm_tensor_numel(x), tasks);
    sm_job j = {cfg, x->data, y->data};
    onn_parallel_range(nt, tasks, sm_tasks, &j);
    return ONNORM_OK;
}

#define SOFTMAX(op, ver, which)                                                                    \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 1, 1, 1, 1, sm_infer, NULL, sm_run),                               \
            .config = sm_config, .state_size = sizeof(sm_cfg), .data = &(which)                    \
    }

ONN_KERNEL_TABLE(softmax, SOFTMAX("Softmax", 1, sm_plain), SOFTMAX("Softmax", 13, sm_plain),
                 SOFTMAX("LogSoftmax", 1, sm_log), SOFTMAX("LogSoftmax", 13, sm_log));
