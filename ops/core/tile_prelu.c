/*
 * Tile and PRelu.
 *
 * Tile (opset 6; 13 only adds bfloat16): output dim d is input dim d times
 * repeats[d]. `repeats` is a 1-D int64 input with one entry per input axis,
 * each >= 0, and fixes the output shape, so it must be known while
 * planning. Element bytes are copied, so every element type is handled.
 *
 * PRelu: y = x < 0 ? slope * x : x, output shaped like X.
 *   opset 6     slope of one element, or one per channel (X's axis 1) as
 *               Caffe2 and PyTorch's opset-6 exports use it: a [C] slope
 *               for X [N, C, ...]; any other slope must broadcast to X as
 *               from opset 7
 *   opset 7, 9  slope broadcasts unidirectionally (numpy) to X;
 *   opset 16    9 adds int32/int64 (other integer types are not supported),
 *               16 bfloat16 (not supported)
 * Types: float32, float64; int32, int64 from opset 9 (the product wraps).
 * NaN inputs stay NaN.
 */
#include "ops/core/broadcast.h"
#include "ops/core/threadpool.h"

#include <string.h>

/* ---- Tile ------------------------------------------------------------------- */

static onnorm_status read_repeats(onn_kctx *ctx, int64_t *reps)
{
    const onnorm_tensor *x = ctx->in[0], *r = ctx->in[1];
    if (!x || !r)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "inputs 'input' and 'repeats' are required");
    if (r->dtype != ONNORM_INT64)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'repeats' has type %s, expected int64",
                         onnorm_dtype_name(r->dtype));
    if (r->rank != 1 || r->dims[0] != x->rank)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input 'repeats' must be 1-D with one entry per input axis (%d), got "
                         "%lld entries",
                         x->rank, r->rank == 1 ? (long long)r->dims[0] : -1LL);
    if (x->rank == 0) return ONNORM_OK;
    const int64_t *v = onn_input_values(ctx, 1, "repeats");
    if (!v) return ONNORM_ERR_UNSUPPORTED;
    for (int k = 0; k < x->rank; k++) {
        if (v[k] < 0)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "repeats[%d] = %lld is negative", k,
                             (long long)v[k]);
        reps[k] = v[k];
    }
    return ONNORM_OK;
}

static onnorm_status tile_infer(onn_kctx *ctx)
{
    int64_t reps[ONNORM_MAX_RANK], dims[ONNORM_MAX_RANK];
    onnorm_status st = read_repeats(ctx, reps);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "unsupported type %s", onnorm_dtype_name(x->dtype));
    for (int k = 0; k < x->rank; k++) {
        if (x->dims[k] != 0 && reps[k] > INT64_MAX / x->dims[k])
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "tiled length of axis %d overflows", k);
        dims[k] = x->dims[k] * reps[k];
    }
    if (onn_dims_numel(dims, 0, x->rank) < 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the tiled tensor's element count overflows");
    onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    return ONNORM_OK;
}

/* The arguments of tile_run's row loop. */
typedef struct tile_job {
    const onnorm_tensor *x, *y;
    size_t esz;
} tile_job;

/* Each output row (all axes but the last fixed) is input row
 * (coordinates mod the input dims) repeated along the last axis. */
static void tile_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const tile_job *j = arg;
    const onnorm_tensor *x = j->x, *y = j->y;
    const size_t esz = j->esz;
    const int r = x->rank;
    const int64_t in_len = x->dims[r - 1], out_len = y->dims[r - 1];
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t row = r0; row < r1; row++) {
        int64_t rem = row, off = 0, stride = in_len;
        for (int k = r - 2; k >= 0; k--) {
            off += rem % y->dims[k] % x->dims[k] * stride;
            rem /= y->dims[k];
            stride *= x->dims[k];
        }
        char *d = dst + (size_t)(row * out_len) * esz;
        memcpy(d, src + (size_t)off * esz, (size_t)in_len * esz);
        onn_repeat(d, (size_t)in_len * esz, out_len / in_len);
    }
}

static onnorm_status tile_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    const size_t esz = onnorm_dtype_size(x->dtype);
    const int r = x->rank;
    const int64_t numel = onnorm_tensor_numel(y);
    if (numel == 0) return ONNORM_OK;
    if (r == 0) {
        memcpy(y->data, x->data, esz);
        return ONNORM_OK;
    }
    const int64_t out_len = y->dims[r - 1];
    const int64_t rows = numel / out_len;
    const int nt = onn_threads_for(ctx, numel, rows);
    tile_job j = {x, y, esz};
    onn_parallel_range(nt, rows, tile_rows, &j);
    return ONNORM_OK;
}

/* ---- PRelu ------------------------------------------------------------------- */

typedef void (*prelu_loop)(const void *x, const void *s, void *y, int64_t n, int64_t xstep,
                           int64_t sstep);

/* One loop per type; the contiguous and repeated-slope cases get their own
 * loops so they vectorize. */
#define PRELU_LOOP(sfx, T, MUL)                                                                    \
    static void prelu_##sfx(const void *px, const void *ps, void *py, int64_t n, int64_t xstep,    \
                            int64_t sstep)                                                         \
    {                                                                                              \
        const T *X = px, *S = ps;                                                                  \
        T *Y = py;                                                                                 \
        if (xstep == 1 && sstep == 1) {                                                            \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                Y[i] = X[i] < 0 ? (T)MUL(S[i], X[i]) : X[i];                                       \
        } else if (xstep == 1) {                                                                   \
            const T s = S[0];                                                                      \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                Y[i] = X[i] < 0 ? (T)MUL(s, X[i]) : X[i];                                          \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const T x = X[i * xstep];                                                          \
                Y[i] = x < 0 ? (T)MUL(S[i * sstep], x) : x;                                        \
            }                                                                                      \
        }                                                                                          \
    }

#define FLOAT_MUL(a, b) ((a) * (b))
/* Integer products wrap through uint64_t instead of overflowing. */
#define WRAP_MUL(a, b) ((uint64_t)(a) * (uint64_t)(b))

PRELU_LOOP(f32, float, FLOAT_MUL)
PRELU_LOOP(f64, double, FLOAT_MUL)
PRELU_LOOP(i32, int32_t, WRAP_MUL)
PRELU_LOOP(i64, int64_t, WRAP_MUL)

typedef struct prelu_row {
    onnorm_dtype dtype;
    int since; /* first opset that allows the type */
    prelu_loop fn;
} prelu_row;

static const prelu_row prelu_rows[] = {
    {ONNORM_FLOAT, 6, prelu_f32},
    {ONNORM_DOUBLE, 6, prelu_f64},
    {ONNORM_INT32, 9, prelu_i32},
    {ONNORM_INT64, 9, prelu_i64},
};

static prelu_loop find_prelu(const onn_kctx *ctx, onnorm_dtype t)
{
    for (size_t i = 0; i < sizeof prelu_rows / sizeof prelu_rows[0]; i++)
        if (prelu_rows[i].dtype == t && onn_kversion(ctx) >= prelu_rows[i].since)
            return prelu_rows[i].fn;
    return NULL;
}

/* The slope as the kernel reads it: itself, or for opset 6's per-channel
 * form a [1, C, 1, ...] view of the same data. */
static onnorm_status slope_view(onn_kctx *ctx, onnorm_tensor *view)
{
    const onnorm_tensor *x = ctx->in[0], *s = ctx->in[1];
    char xs[128], ss[128];
    *view = *s;
    if (onn_kversion(ctx) < 7 && onnorm_tensor_numel(s) != 1 && s->rank == 1 && x->rank >= 2 &&
        s->dims[0] == x->dims[1]) {
        view->rank = x->rank;
        for (int k = 0; k < x->rank; k++)
            view->dims[k] = k == 1 ? s->dims[0] : 1;
        return ONNORM_OK;
    }
    if (!onn_dims_broadcast_to(s->dims, s->rank, x->dims, x->rank))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "slope of shape %s does not broadcast to X of shape %s",
                         onn_shape_str(s->dims, s->rank, ss, sizeof ss),
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    return ONNORM_OK;
}

/* What config settles: the loop for X's type and how X and the slope are
 * read while walking the output (X's shape). */
typedef struct prelu_cfg {
    prelu_loop fn;
    size_t esz;
    onn_bcast plan;
} prelu_cfg;

static onnorm_status prelu_config(onn_kctx *ctx)
{
    prelu_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *s = ctx->in[1];
    onnorm_tensor view;
    if (!(c->fn = find_prelu(ctx, x->dtype)))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "X has type %s; supported: float32, float64%s",
                         onnorm_dtype_name(x->dtype),
                         onn_kversion(ctx) >= 9 ? ", int32, int64" : "");
    if (s->dtype != x->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "slope has type %s, expected %s like X",
                         onnorm_dtype_name(s->dtype), onnorm_dtype_name(x->dtype));
    c->esz = onnorm_dtype_size(x->dtype);
    onnorm_status st = slope_view(ctx, &view);
    if (st) return st;
    const onnorm_tensor *ops[2] = {x, &view};
    if (!onn_bcast_plan(&c->plan, x->rank, x->dims, 2, ops))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X and slope do not fit the output shape");
    return ONNORM_OK;
}

/* config checked X and the slope: Y is X's type and shape. */
static onnorm_status prelu_infer(onn_kctx *ctx)
{
    onn_set_output(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->rank, ctx->in[0]->dims);
    return ONNORM_OK;
}

typedef struct prelu_job {
    prelu_loop fn;
    const char *x, *s;
    char *y;
    size_t esz;
} prelu_job;

static void prelu_cb(void *arg, const int64_t *off, int64_t out_off, int64_t len,
                     const int64_t *step)
{
    const prelu_job *j = arg;
    j->fn(j->x + (size_t)off[0] * j->esz, j->s + (size_t)off[1] * j->esz,
          j->y + (size_t)out_off * j->esz, len, step[0], step[1]);
}

static onnorm_status prelu_run(onn_kctx *ctx)
{
    const prelu_cfg *c = ctx->state;
    if (!ctx->out[0] || c->plan.numel == 0) return ONNORM_OK;
    /* The opset-6 per-channel view only reshapes the slope: same data. */
    prelu_job j = {c->fn, ctx->in[0]->data, ctx->in[1]->data, ctx->out[0]->data, c->esz};
    onn_bcast_parallel(ctx, &c->plan, prelu_cb, &j);
    return ONNORM_OK;
}

#define PRELU_KERNEL(ver)                                                                          \
    {                                                                                              \
        ONN_KERNEL("", "PRelu", ver, 2, 2, 1, 1, prelu_infer, NULL, prelu_run),                    \
            .config = prelu_config, .state_size = sizeof(prelu_cfg), .widens = (ver) == 16         \
    }

ONN_KERNEL_TABLE(tile_prelu, {ONN_KERNEL("", "Tile", 6, 2, 2, 1, 1, tile_infer, NULL, tile_run)},
                 PRELU_KERNEL(6), PRELU_KERNEL(7), PRELU_KERNEL(9), PRELU_KERNEL(16));
