/*
 * ArgMax, ArgMin (1; 11: negative axis; 12: select_last_index; 13: bfloat16)
 * and TopK (1: k attribute; 10: k input; 11: largest, sorted, negative axis).
 * Types: float32/64, float16, bfloat16 (ArgMax/ArgMin from 13 only, TopK as
 * an extension), every integer type; ArgMax/ArgMin write int64 indices.
 *
 * Decisions where the spec is silent:
 * - Negative axes are accepted at every opset (11 only wrote them down).
 * - NaN: ArgMax and ArgMin both return the position of the first NaN of a
 *   slice (the last with select_last_index), as NumPy's argmax/argmin do.
 *   TopK orders by ops/core/order.h, where NaN is greater than every number,
 *   so largest=1 returns NaNs first and largest=0 last.
 * - ArgMax/ArgMin over an axis of length 0 fail at run (no index exists),
 *   unless the output is empty too.
 * - TopK's k must lie in [0, n] for an axis of length n; k = 0 gives empty
 *   outputs. Equal values keep the lower index first (the spec's rule), and
 *   sorted=0 still returns sorted outputs, which the spec allows.
 *   Each slice is merge-sorted whole (O(n log n)), in parallel over slices.
 * - TopK's k input is a value that fixes the output shape: it is read with
 *   onn_input_values() (a k computed from runtime data makes the session
 *   plan eagerly).
 */
#include "ops/core/order.h"
#include "ops/core/threadpool.h"

#include <string.h>

/* ---- ArgMax, ArgMin -------------------------------------------------------- */

typedef enum { ARG_MAX, ARG_MIN } arg_kind;
static const arg_kind arg_max = ARG_MAX, arg_min = ARG_MIN;

typedef struct arg_cfg {
    int axis;
    bool keepdims, last, is_max;
    int64_t outer, n, inner;
    onn_range_fn fn; /* the rows [o0, o1) of an arg_job, for X's type */
} arg_cfg;

typedef struct arg_job {
    const void *x;
    int64_t *y;
    int64_t n, inner;
    bool is_max, last;
} arg_job;

/* One output per (outer, inner) pair: the best index along the axis. A NaN
 * wins at once (the first, or with `last` the last one). */
#define ARG_FN(sfx, ctype, code, ktype, load)                                                      \
    static void arg_##sfx(void *arg, int64_t o0, int64_t o1, int worker)                           \
    {                                                                                              \
        (void)worker;                                                                              \
        const arg_job *jb = arg;                                                                   \
        const ctype *x = jb->x;                                                                    \
        int64_t *y = jb->y;                                                                        \
        const int64_t n = jb->n, inner = jb->inner;                                                \
        const bool is_max = jb->is_max, last = jb->last;                                           \
        for (int64_t o = o0; o < o1; o++) {                                                        \
            for (int64_t i = 0; i < inner; i++) {                                                  \
                const ctype *p = x + o * n * inner + i;                                            \
                ktype best = load(p[0]);                                                           \
                int64_t at = 0;                                                                    \
                for (int64_t j = 1; j < n; j++) {                                                  \
                    ktype v = load(p[j * inner]);                                                  \
                    if (ONN_ISNAN(best)) {                                                         \
                        if (last && ONN_ISNAN(v)) at = j;                                          \
                        continue;                                                                  \
                    }                                                                              \
                    if (ONN_ISNAN(v) || (is_max ? v > best : v < best) || (last && v == best))     \
                        best = v, at = j;                                                          \
                }                                                                                  \
                y[o * inner + i] = at;                                                             \
            }                                                                                      \
        }                                                                                          \
    }
ONN_ORDERED_TYPES(ARG_FN)

static onn_range_fn arg_fn_for(onnorm_dtype t)
{
    switch (t) {
#define ARG_CASE(sfx, ctype, code, ktype, load)                                                    \
    case code: return arg_##sfx;
        ONN_ORDERED_TYPES(ARG_CASE)
    default: return NULL;
    }
}

static onnorm_status arg_config(onn_kctx *ctx)
{
    arg_cfg *c = ctx->state;
    int64_t axis, keepdims, last = 0;
    onnorm_status st = onn_check_float_input(ctx, 0, "data");
    if (st || (st = onn_kattr_int(ctx, "axis", 0, &axis)) ||
        (st = onn_kattr_int(ctx, "keepdims", 1, &keepdims)) ||
        (onn_kversion(ctx) >= 12 && (st = onn_kattr_int(ctx, "select_last_index", 0, &last))))
        return st;
    const onnorm_tensor *x = ctx->in[0];
    if (x->rank < 1) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'data' must have rank >= 1");
    if (!onn_normalize_axis(axis, x->rank, &c->axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)axis, x->rank);
    c->keepdims = keepdims != 0;
    c->last = last != 0;
    c->is_max = *(const arg_kind *)ctx->kernel->data == ARG_MAX;
    return ONNORM_OK;
}

static onnorm_status arg_infer(onn_kctx *ctx)
{
    const arg_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK];
    int r = 0;
    for (int k = 0; k < x->rank; k++) {
        if (k != c->axis)
            dims[r++] = x->dims[k];
        else if (c->keepdims)
            dims[r++] = 1;
    }
    onn_set_output(ctx, 0, ONNORM_INT64, r, dims);
    return ONNORM_OK;
}

static onnorm_status arg_prepare(onn_kctx *ctx)
{
    arg_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    c->outer = onn_dims_numel(x->dims, 0, c->axis);
    c->n = x->dims[c->axis];
    c->inner = onn_dims_numel(x->dims, c->axis + 1, x->rank);
    c->fn = arg_fn_for(x->dtype);
    if (!c->fn)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'data' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    return ONNORM_OK;
}

static onnorm_status arg_run(onn_kctx *ctx)
{
    const arg_cfg *c = ctx->state;
    if (!ctx->out[0] || c->outer * c->inner == 0) return ONNORM_OK;
    if (c->n == 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "axis %d has length 0: there is no index to return",
                         c->axis);
    int nt = onn_threads_for(ctx, c->outer * c->n * c->inner, c->outer);
    arg_job jb = {ctx->in[0]->data, ctx->out[0]->data, c->n, c->inner, c->is_max, c->last};
    onn_parallel_range(nt, c->outer, c->fn, &jb);
    return ONNORM_OK;
}

/* ---- TopK ------------------------------------------------------------------ */

typedef struct topk_cfg {
    int axis;
    bool largest;
    int64_t k;
    int64_t outer, n, inner;
    size_t esz;
    onn_order_cmp_fn cmp;
} topk_cfg;

/* One slice being sorted: element j is data[base + j * stride]. */
typedef struct topk_slice {
    onn_order_cmp_fn cmp;
    const void *data;
    int64_t base, stride;
    bool largest;
} topk_slice;

static bool topk_less(const void *ctxv, int64_t a, int64_t b)
{
    const topk_slice *s = ctxv;
    int c = s->cmp(s->data, s->base + a * s->stride, s->base + b * s->stride);
    if (s->largest) c = -c;
    return c < 0 || (c == 0 && a < b);
}

static onnorm_status topk_config(onn_kctx *ctx)
{
    topk_cfg *c = ctx->state;
    const int ver = onn_kversion(ctx);
    int64_t axis, largest = 1, sorted = 1;
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st || (st = onn_kattr_int(ctx, "axis", -1, &axis)) ||
        (ver >= 11 && ((st = onn_kattr_int(ctx, "largest", 1, &largest)) ||
                       (st = onn_kattr_int(ctx, "sorted", 1, &sorted)))))
        return st;
    const onnorm_tensor *x = ctx->in[0];
    if (x->rank < 1) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'X' must have rank >= 1");
    if (!onn_normalize_axis(axis, x->rank, &c->axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)axis, x->rank);
    c->largest = largest != 0;
    if (ver < 10) {
        if ((st = onn_kattr_require(ctx, "k")) || (st = onn_kattr_int(ctx, "k", 0, &c->k)))
            return st;
    } else {
        const onnorm_tensor *kt = onn_opt_input(ctx, 1);
        int n;
        if (!kt) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'K' is missing");
        if (kt->dtype != ONNORM_INT64 || onnorm_tensor_numel(kt) != 1)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                             "input 'K' must hold one int64 value, got %s with %lld elements",
                             onnorm_dtype_name(kt->dtype), (long long)onnorm_tensor_numel(kt));
        if ((st = onn_input_ints(ctx, 1, "K", ONN_INTS_SCALAR | ONN_INTS_INT64, 1, &c->k, &n)))
            return st;
    }
    if (c->k < 0 || c->k > x->dims[c->axis])
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "k = %lld is outside [0, %lld] (axis %d's length)", (long long)c->k,
                         (long long)x->dims[c->axis], c->axis);
    return ONNORM_OK;
}

static onnorm_status topk_infer(onn_kctx *ctx)
{
    const topk_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[c->axis] = c->k;
    onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    onn_set_output(ctx, 1, ONNORM_INT64, x->rank, dims);
    return ONNORM_OK;
}

static onnorm_status topk_prepare(onn_kctx *ctx)
{
    topk_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    c->outer = onn_dims_numel(x->dims, 0, c->axis);
    c->n = x->dims[c->axis];
    c->inner = onn_dims_numel(x->dims, c->axis + 1, x->rank);
    c->esz = onnorm_dtype_size(x->dtype);
    c->cmp = onn_order_cmp(x->dtype);
    if (!c->cmp)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'X' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    size_t bytes; /* two index arrays of n per thread */
    onnorm_status st =
        onn_kbytes(ctx, (size_t)c->n, 2 * sizeof(int64_t), (size_t)ctx->num_threads, &bytes);
    if (st) return st;
    onn_kscratch_need(ctx, bytes);
    return ONNORM_OK;
}

typedef struct topk_job {
    const topk_cfg *c;
    const char *x;
    char *vals;
    int64_t *idxs;
    int64_t *scratch; /* two index arrays of n per worker */
} topk_job;

static void topk_slices(void *arg, int64_t s0, int64_t s1, int worker)
{
    const topk_job *jb = arg;
    const topk_cfg *c = jb->c;
    const int64_t n = c->n, k = c->k, inner = c->inner;
    const size_t esz = c->esz;
    const char *x = jb->x;
    int64_t *idx = jb->scratch + (size_t)worker * 2 * (size_t)n, *tmp = idx + n;
    for (int64_t s = s0; s < s1; s++) {
        const int64_t o = s / inner, i = s % inner;
        topk_slice sl = {c->cmp, x, o * n * inner + i, inner, c->largest};
        for (int64_t j = 0; j < n; j++)
            idx[j] = j;
        onn_order_sort(idx, tmp, n, topk_less, &sl);
        for (int64_t j = 0; j < k; j++) {
            const int64_t at = o * k * inner + j * inner + i;
            if (jb->vals)
                memcpy(jb->vals + (size_t)at * esz, x + (size_t)(sl.base + idx[j] * inner) * esz,
                       esz);
            if (jb->idxs) jb->idxs[at] = idx[j];
        }
    }
}

static onnorm_status topk_run(onn_kctx *ctx)
{
    const topk_cfg *c = ctx->state;
    const int64_t slices = c->outer * c->inner, n = c->n, k = c->k;
    if (slices == 0 || k == 0) return ONNORM_OK;
    char *vals = ctx->out[0] ? ctx->out[0]->data : NULL;
    int64_t *idxs = onn_opt_output(ctx, 1) ? ctx->out[1]->data : NULL;
    int nt = onn_threads_for(ctx, slices * n, slices);
    if (nt > ctx->num_threads) nt = ctx->num_threads;
    topk_job jb = {c, ctx->in[0]->data, vals, idxs, ctx->scratch};
    onn_parallel_range(nt, slices, topk_slices, &jb);
    return ONNORM_OK;
}

/* ---- table ------------------------------------------------------------------ */

#define ARG_TYPES_12 (ONN_T_ORDERED & ~ONN_T(ONNORM_BFLOAT16))

#define ARG_KERNEL(op, ver, kind, mask, wid)                                                       \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 1, 1, 1, 1, arg_infer, arg_prepare, arg_run),                      \
            .config = arg_config, .state_size = sizeof(arg_cfg), .data = &kind, .types = (mask),   \
            .widens = (wid)                                                                        \
    }
#define ARG_VERSIONS(op, kind)                                                                     \
    ARG_KERNEL(op, 1, kind, ARG_TYPES_12, false), ARG_KERNEL(op, 11, kind, ARG_TYPES_12, true),    \
        ARG_KERNEL(op, 12, kind, ARG_TYPES_12, true),                                              \
        ARG_KERNEL(op, 13, kind, ONN_T_ORDERED, true)

#define TOPK_KERNEL(ver, in_lo, in_hi, wid)                                                        \
    {                                                                                              \
        ONN_KERNEL("", "TopK", ver, in_lo, in_hi, 2, 2, topk_infer, topk_prepare, topk_run),       \
            .config = topk_config, .state_size = sizeof(topk_cfg), .types = ONN_T_ORDERED,         \
            .widens = (wid)                                                                        \
    }

ONN_KERNEL_TABLE(argtopk, ARG_VERSIONS("ArgMax", arg_max), ARG_VERSIONS("ArgMin", arg_min),
                 TOPK_KERNEL(1, 1, 1, false), TOPK_KERNEL(10, 2, 2, false),
                 TOPK_KERNEL(11, 2, 2, true));
