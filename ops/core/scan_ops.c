/*
 * Ops that walk one axis of their input, output = input's type and shape:
 *
 *   Hardmax  opset 1, 11: float16/32/64; the input is coerced to 2-D
 *                         [prod(dims[:axis]), prod(dims[axis:])] (axis
 *                         default 1) and each row gets one 1;
 *            opset 13:    + bfloat16; along `axis` alone (default -1)
 *   CumSum   opset 11:    int32, int64, uint32, uint64, float32/64;
 *            opset 14:    + float16, bfloat16;
 *                         axis from input 1 (int32 or int64, a scalar or
 *                         one value), attributes exclusive and reverse
 *
 * Both view the input as [outer, n, inner] with the walk over n (the 2-D
 * coercion has inner = 1), in tasks of up to SCAN_BLOCK neighbouring
 * columns of one outer slice so each step reads contiguous memory.
 *
 * Decisions where the spec is silent:
 *   - Hardmax marks the first maximum of a row (as numpy's argmax, which
 *     ONNX's reference uses); a NaN counts as larger than any number, so
 *     the first NaN wins. Like Softmax, the 2-D coercion also accepts
 *     axis == rank (a row of one element). Opset 1 accepts negative axes
 *     too, so 11 only widens it.
 *   - CumSum's float sums run in double, rounded once per output (float16
 *     and bfloat16 through float32); integer sums wrap around (two's
 *     complement), never overflow. exclusive gives 0 at the first position
 *     of the walk (the last one with reverse). The axis is a value read at
 *     every run; it must lie in [-rank, rank - 1], and rank-0 inputs have
 *     no axis.
 */
#include "ops/core/broadcast.h"
#include "ops/core/threadpool.h"
#include "ops/half.h"

#define SCAN_BLOCK 64

/* Loads and stores of the float types through float or double. */
#define LD_f16(v) onn_f16_to_f32(v)
#define ST_f16(v) onn_f32_to_f16((float)(v))
#define LD_bf16(v) onn_bf16_to_f32(v)
#define ST_bf16(v) onn_f32_to_bf16((float)(v))
#define LD_f32(v) (v)
#define ST_f32(v) ((float)(v))
#define LD_f64(v) (v)
#define ST_f64(v) ((double)(v))
/* Integers accumulate as uint64_t, which wraps. */
#define LD_int(v) ((uint64_t)(v))

typedef struct scan_view {
    int64_t outer, n, inner, blocks;
} scan_view;

static void view_at(scan_view *v, const onnorm_tensor *x, int a, bool coerce)
{
    v->outer = onn_dims_numel(x->dims, 0, a);
    v->n = coerce ? onn_dims_numel(x->dims, a, x->rank) : x->dims[a];
    v->inner = coerce ? 1 : onn_dims_numel(x->dims, a + 1, x->rank);
    v->blocks = (v->inner + SCAN_BLOCK - 1) / SCAN_BLOCK;
}

/* Task t's outer slice o and columns [k0, k0 + kn). */
#define SCAN_TASK_BOUNDS(v, t)                                                                     \
    const int64_t o = (t) / (v)->blocks, k0 = ((t) % (v)->blocks) * SCAN_BLOCK;                    \
    const int64_t kn = (v)->inner - k0 < SCAN_BLOCK ? (v)->inner - k0 : SCAN_BLOCK;                \
    const int64_t base = o * (v)->n * (v)->inner + k0

/* Runs task(x, y, v, t, arg) over every task of v. */
typedef void (*scan_task)(const void *x, void *y, const scan_view *v, int64_t t, const void *arg);

typedef struct scan_job {
    scan_task task;
    const void *x;
    void *y;
    const scan_view *v;
    const void *arg;
} scan_job;

static void scan_tasks(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const scan_job *j = arg;
    for (int64_t t = t0; t < t1; t++)
        j->task(j->x, j->y, j->v, t, j->arg);
}

static void scan_all(const onn_kctx *ctx, scan_task task, const scan_view *v, const void *arg)
{
    const int64_t tasks = v->outer * v->blocks;
    if (v->n == 0 || tasks == 0 || !ctx->out[0]) return;
    const int nt = onn_threads_for(ctx, onnorm_tensor_numel(ctx->in[0]), tasks);
    scan_job j = {task, ctx->in[0]->data, ctx->out[0]->data, v, arg};
    onn_parallel_range(nt, tasks, scan_tasks, &j);
}

/* ---- Hardmax ----------------------------------------------------------------- */

#define HARDMAX_TYPES(X)                                                                           \
    X(f16, uint16_t, 0x3C00)                                                                       \
    X(bf16, uint16_t, 0x3F80)                                                                      \
    X(f32, float, 1.0f)                                                                            \
    X(f64, double, 1.0)

#define HM_TASK(sfx, T, one)                                                                       \
    static void hm_##sfx(const void *px, void *py, const scan_view *v, int64_t t, const void *arg) \
    {                                                                                              \
        (void)arg;                                                                                 \
        SCAN_TASK_BOUNDS(v, t);                                                                    \
        const T *x = (const T *)px + base;                                                         \
        T *y = (T *)py + base;                                                                     \
        const int64_t inner = v->inner;                                                            \
        double best[SCAN_BLOCK];                                                                   \
        int64_t at[SCAN_BLOCK];                                                                    \
        for (int64_t k = 0; k < kn; k++)                                                           \
            best[k] = LD_##sfx(x[k]), at[k] = 0;                                                   \
        for (int64_t i = 1; i < v->n; i++)                                                         \
            for (int64_t k = 0; k < kn; k++) {                                                     \
                const double e = LD_##sfx(x[i * inner + k]);                                       \
                if (e > best[k] || (e != e && best[k] == best[k])) best[k] = e, at[k] = i;         \
            }                                                                                      \
        for (int64_t i = 0; i < v->n; i++)                                                         \
            for (int64_t k = 0; k < kn; k++)                                                       \
                y[i * inner + k] = at[k] == i ? (T)(one) : (T)0;                                   \
    }
HARDMAX_TYPES(HM_TASK)

typedef struct hm_cfg {
    int axis; /* resolved; == rank allowed for the 2-D coercion */
    bool coerce;
    scan_view v;
    scan_task task;
} hm_cfg;

static onnorm_status hm_config(onn_kctx *ctx)
{
    hm_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    c->coerce = onn_kversion(ctx) < 13;
    int64_t axis;
    onnorm_status st = onn_kattr_int(ctx, "axis", c->coerce ? 1 : -1, &axis);
    if (st) return st;
    bool ok = c->coerce && axis == x->rank ? (c->axis = x->rank, true)
                                           : onn_normalize_axis(axis, x->rank, &c->axis);
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)axis, x->rank);
    return ONNORM_OK;
}

static onnorm_status hm_infer(onn_kctx *ctx)
{
    return onn_infer_like_input(ctx, "input");
}

static onnorm_status hm_prepare(onn_kctx *ctx)
{
    hm_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    view_at(&c->v, x, c->axis, c->coerce);
    switch (x->dtype) {
    case ONNORM_FLOAT16: c->task = hm_f16; break;
    case ONNORM_BFLOAT16: c->task = hm_bf16; break;
    case ONNORM_FLOAT: c->task = hm_f32; break;
    default: c->task = hm_f64; break;
    }
    return ONNORM_OK;
}

static onnorm_status hm_run(onn_kctx *ctx)
{
    const hm_cfg *c = ctx->state;
    scan_all(ctx, c->task, &c->v, NULL);
    return ONNORM_OK;
}

/* ---- CumSum ------------------------------------------------------------------ */

typedef struct cs_flags {
    bool exclusive, reverse;
} cs_flags;

/* X(suffix, T, accumulator type, load, store) */
#define CUMSUM_TYPES(X)                                                                            \
    X(f16, uint16_t, double, LD_f16, ST_f16)                                                       \
    X(bf16, uint16_t, double, LD_bf16, ST_bf16)                                                    \
    X(f32, float, double, LD_f32, ST_f32)                                                          \
    X(f64, double, double, LD_f64, ST_f64)                                                         \
    X(i32, int32_t, uint64_t, LD_int, (int32_t))                                                   \
    X(i64, int64_t, uint64_t, LD_int, (int64_t))                                                   \
    X(u32, uint32_t, uint64_t, LD_int, (uint32_t))                                                 \
    X(u64, uint64_t, uint64_t, LD_int, (uint64_t))

#define CS_TASK(sfx, T, A, LD, ST)                                                                 \
    static void cs_##sfx(const void *px, void *py, const scan_view *v, int64_t t, const void *arg) \
    {                                                                                              \
        const cs_flags *f = arg;                                                                   \
        SCAN_TASK_BOUNDS(v, t);                                                                    \
        const T *x = (const T *)px + base;                                                         \
        T *y = (T *)py + base;                                                                     \
        const int64_t inner = v->inner;                                                            \
        A acc[SCAN_BLOCK];                                                                         \
        for (int64_t k = 0; k < kn; k++)                                                           \
            acc[k] = 0;                                                                            \
        for (int64_t s = 0; s < v->n; s++) {                                                       \
            const int64_t i = f->reverse ? v->n - 1 - s : s;                                       \
            const T *xr = x + i * inner;                                                           \
            T *yr = y + i * inner;                                                                 \
            if (f->exclusive) {                                                                    \
                for (int64_t k = 0; k < kn; k++) {                                                 \
                    const A e = LD(xr[k]);                                                         \
                    yr[k] = ST(acc[k]);                                                            \
                    acc[k] += e;                                                                   \
                }                                                                                  \
            } else {                                                                               \
                for (int64_t k = 0; k < kn; k++) {                                                 \
                    acc[k] += LD(xr[k]);                                                           \
                    yr[k] = ST(acc[k]);                                                            \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }
CUMSUM_TYPES(CS_TASK)

typedef struct cs_cfg {
    cs_flags flags;
    scan_task task;
} cs_cfg;

static onnorm_status cs_config(onn_kctx *ctx)
{
    cs_cfg *c = ctx->state;
    int64_t excl, rev;
    onnorm_status st = onn_kattr_int(ctx, "exclusive", 0, &excl);
    if (st || (st = onn_kattr_int(ctx, "reverse", 0, &rev))) return st;
    if ((excl != 0 && excl != 1) || (rev != 0 && rev != 1))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "exclusive (%lld) and reverse (%lld) must be 0 or 1", (long long)excl,
                         (long long)rev);
    c->flags.exclusive = excl, c->flags.reverse = rev;
    return ONNORM_OK;
}

/* X of a type the version allows and rank >= 1; axis one int32/int64 value. */
static onnorm_status cs_infer(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0], *a = onn_opt_input(ctx, 1);
    char types[128];
    if (!(ONN_T(x->dtype) & ctx->kernel->types))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'x' has type %s; CumSum-%d supports %s",
                         onnorm_dtype_name(x->dtype), onn_kversion(ctx),
                         onn_types_str(ctx->kernel->types, types, sizeof types));
    if (x->rank < 1) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'x' must have rank >= 1");
    if (!a) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'axis' is missing");
    if (a->dtype != ONNORM_INT32 && a->dtype != ONNORM_INT64)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'axis' has type %s, expected int32 or int64",
                         onnorm_dtype_name(a->dtype));
    if (a->rank > 1 || onnorm_tensor_numel(a) != 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'axis' must hold one value (rank 0 or 1)");
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    return ONNORM_OK;
}

static onnorm_status cs_prepare(onn_kctx *ctx)
{
    cs_cfg *c = ctx->state;
    switch (ctx->in[0]->dtype) {
    case ONNORM_FLOAT16: c->task = cs_f16; break;
    case ONNORM_BFLOAT16: c->task = cs_bf16; break;
    case ONNORM_FLOAT: c->task = cs_f32; break;
    case ONNORM_DOUBLE: c->task = cs_f64; break;
    case ONNORM_INT32: c->task = cs_i32; break;
    case ONNORM_INT64: c->task = cs_i64; break;
    case ONNORM_UINT32: c->task = cs_u32; break;
    default: c->task = cs_u64; break;
    }
    return ONNORM_OK;
}

static onnorm_status cs_run(onn_kctx *ctx)
{
    const cs_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *a = ctx->in[1];
    const int64_t axis =
        a->dtype == ONNORM_INT64 ? *(const int64_t *)a->data : *(const int32_t *)a->data;
    int ax;
    if (!onn_normalize_axis(axis, x->rank, &ax))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)axis, x->rank);
    scan_view v;
    view_at(&v, x, ax, false);
    scan_all(ctx, c->task, &v, &c->flags);
    return ONNORM_OK;
}

#define HARDMAX(ver, mask, wide)                                                                   \
    {                                                                                              \
        ONN_KERNEL("", "Hardmax", ver, 1, 1, 1, 1, hm_infer, hm_prepare, hm_run),                  \
            .config = hm_config, .state_size = sizeof(hm_cfg), .types = (mask), .widens = (wide)   \
    }
#define CUMSUM(ver, mask, wide)                                                                    \
    {                                                                                              \
        ONN_KERNEL("", "CumSum", ver, 2, 2, 1, 1, cs_infer, cs_prepare, cs_run),                   \
            .config = cs_config, .state_size = sizeof(cs_cfg), .types = (mask), .widens = (wide)   \
    }
#define CUMSUM_11_TYPES                                                                            \
    (ONN_T(ONNORM_INT32) | ONN_T(ONNORM_INT64) | ONN_T(ONNORM_UINT32) | ONN_T(ONNORM_UINT64) |     \
     ONN_T(ONNORM_FLOAT) | ONN_T(ONNORM_DOUBLE))

ONN_KERNEL_TABLE(scan_ops, HARDMAX(1, ONN_T_HALF_FLOATS, false),
                 HARDMAX(11, ONN_T_HALF_FLOATS, true), HARDMAX(13, ONN_T_ALL_FLOATS, false),
                 CUMSUM(11, CUMSUM_11_TYPES, false),
                 CUMSUM(14, CUMSUM_11_TYPES | ONN_T(ONNORM_FLOAT16) | ONN_T(ONNORM_BFLOAT16),
                        true));
