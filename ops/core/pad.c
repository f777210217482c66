/*
 * Pad:
 *   opset 2   `pads` (ints) and `value` (float) attributes; floating types,
 *             the value converted to the data's type
 *   opset 11  `pads` (int64) and optional `constant_value` inputs; any type
 *             with a fixed element size (13 only adds bfloat16)
 *   opset 18  optional `axes` input: `pads` then covers only those axes
 *   opset 19  mode "wrap"
 * Modes: constant (default), reflect, edge, and from 19 wrap.
 *
 * pads is [x1_begin, x2_begin, ..., x1_end, x2_end, ...]. A negative count
 * removes that many elements from its end of the axis. Removing happens
 * first and padding second, so reflect, edge and wrap read the kept
 * (cropped) part of the axis: reflecting the edge that is actually there.
 *
 * Limits the spec leaves to numpy.pad, pinned down here:
 *   - reflect mirrors as numpy does: the padded axis is periodic with period
 *     2 * (kept - 1), and an axis of one element repeats it. The spec's own
 *     example pads 2 elements onto an axis of 2, so pads up to the kept
 *     length are accepted; longer ones are rejected (numpy would go on
 *     reflecting, but PyTorch never exports them and a model asking for
 *     them is more likely wrong than meant);
 *   - edge, reflect and wrap cannot pad an axis that keeps no elements;
 *   - wrap accepts any count: the output is periodic in the kept length.
 *
 * The pads (and axes) fix the output shape, so they must be known while
 * planning: config resolves every axis, prepare the fill element, once. A
 * constant_value fed only at run time is read by run. The copy moves
 * element bytes, so every element type is handled by the same code.
 */
#include "ops/core/threadpool.h"
#include "ops/half.h"
#include "ops/kernel.h"

#include <string.h>

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

/* How one output axis reads its input axis. */
typedef struct pad_axis {
    int64_t before;  /* elements added before the kept part (>= 0) */
    int64_t kept;    /* input elements kept after cropping */
    int64_t first;   /* input index of the first kept element */
    int64_t out_len; /* before + kept + elements added after */
} pad_axis;

typedef struct pad_cfg {
    pad_mode mode;
    int rank;
    pad_axis ax[ONNORM_MAX_RANK];
    float value; /* opset 2's `value` attribute */
    /* Set by prepare for run: */
    size_t esz;
    int64_t in_stride[ONNORM_MAX_RANK]; /* in elements */
    int64_t numel, rows;                /* output elements; rows along the last axis */
    bool fill_at_run;                   /* constant_value has data only at run */
    unsigned char fill[8];              /* the fill element otherwise (the widest type) */
} pad_cfg;

static const char *const mode_names[] = {"constant", "reflect", "edge", "wrap"};

/* ---- pads and axes ------------------------------------------------------- */

/* Opset 2: the `pads` attribute, 2 * rank entries (an empty list is
 * accepted here and reported by the count check unless rank is 0). */
static onnorm_status pads_from_attr(onn_kctx *ctx, int rank, int64_t *pads, int *n)
{
    bool present = false;
    onnorm_status st = onn_kattr_require(ctx, "pads");
    if (!st) st = onn_kattr_ints(ctx, "pads", 2 * rank, pads, &present);
    *n = present ? 2 * rank : 0;
    return st;
}

/* The axes pads applies to: input 3 (opset 18+) or every axis in order. */
static onnorm_status read_axes(onn_kctx *ctx, int rank, int *axes, int *n)
{
    int64_t raw[ONNORM_MAX_RANK];
    bool seen[ONNORM_MAX_RANK] = {false};
    if (!(onn_kversion(ctx) >= 18 && onn_has_input(ctx, 3))) {
        for (int k = 0; k < rank; k++)
            axes[k] = k;
        *n = rank;
        return ONNORM_OK;
    }
    onnorm_status st = onn_input_ints(ctx, 3, "axes", 0, ONNORM_MAX_RANK, raw, n);
    if (st) return st;
    for (int k = 0; k < *n; k++) {
        if (!onn_normalize_axis(raw[k], rank, &axes[k]))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                             (long long)raw[k], rank);
        if (seen[axes[k]])
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is listed twice",
                             (long long)raw[k]);
        seen[axes[k]] = true;
    }
    return ONNORM_OK;
}

/* Resolves one axis of length dim padded by (b, e); see the file comment. */
static onnorm_status resolve_axis(onn_kctx *ctx, const pad_cfg *c, int k, int64_t dim, int64_t b,
                                  int64_t e, pad_axis *a)
{
    if (b == INT64_MIN || e == INT64_MIN)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "pads of axis %d are out of range", k);
    const int64_t cut_lo = b < 0 ? -b : 0, cut_hi = e < 0 ? -e : 0;
    const int64_t add_lo = b > 0 ? b : 0, add_hi = e > 0 ? e : 0;
    if (cut_lo > dim || cut_hi > dim - cut_lo)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "pads (%lld, %lld) remove more than the %lld elements of axis %d",
                         (long long)b, (long long)e, (long long)dim, k);
    a->first = cut_lo;
    a->kept = dim - cut_lo - cut_hi;
    a->before = add_lo;
    if (add_lo > INT64_MAX - a->kept || add_hi > INT64_MAX - a->kept - add_lo)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "padded length of axis %d overflows", k);
    a->out_len = a->kept + add_lo + add_hi;
    if ((add_lo || add_hi) && c->mode != PAD_CONSTANT && a->kept == 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "%s mode cannot pad axis %d, which keeps no elements", mode_names[c->mode],
                         k);
    if (c->mode == PAD_REFLECT && (add_lo > a->kept || add_hi > a->kept))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "reflect pads (%lld, %lld) of axis %d exceed its %lld kept elements",
                         (long long)b, (long long)e, k, (long long)a->kept);
    return ONNORM_OK;
}

static onnorm_status pad_config(onn_kctx *ctx)
{
    pad_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t pads[2 * ONNORM_MAX_RANK];
    int axes[ONNORM_MAX_RANK], n_pads, n_axes, mode;
    /* wrap arrived with opset 19 */
    onnorm_status st = onn_kattr_enum(ctx, "mode", mode_names, onn_kversion(ctx) >= 19 ? 4 : 3,
                                      PAD_CONSTANT, &mode);
    if (!st && onn_kversion(ctx) < 11) st = onn_kattr_float(ctx, "value", 0.0f, &c->value);
    if (st) return st;
    c->mode = (pad_mode)mode;
    c->rank = x->rank;
    if (onn_kversion(ctx) < 11)
        st = pads_from_attr(ctx, x->rank, pads, &n_pads);
    else if (!onn_has_input(ctx, 1))
        st = onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'pads' is missing");
    else
        st = onn_input_ints(ctx, 1, "pads", ONN_INTS_INT64, 2 * ONNORM_MAX_RANK, pads, &n_pads);
    if (st || (st = read_axes(ctx, x->rank, axes, &n_axes))) return st;
    if (n_pads != 2 * n_axes)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "pads has %d entries; expected %d (two per padded axis, rank %d)", n_pads,
                         2 * n_axes, x->rank);
    int64_t b[ONNORM_MAX_RANK] = {0}, e[ONNORM_MAX_RANK] = {0};
    for (int k = 0; k < n_axes; k++)
        b[axes[k]] = pads[k], e[axes[k]] = pads[n_axes + k];
    for (int k = 0; k < x->rank; k++)
        if ((st = resolve_axis(ctx, c, k, x->dims[k], b[k], e[k], &c->ax[k]))) return st;
    return ONNORM_OK;
}

/* ---- infer ------------------------------------------------------------------ */

static onnorm_status check_types(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    if (onn_kversion(ctx) < 11 && !onn_is_norm_type(x->dtype))
        /* the float `value` attribute fills float data only */
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input 'data' has type %s; Pad-%d takes float types",
                         onnorm_dtype_name(x->dtype), onn_kversion(ctx));
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'data' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    if (!onn_has_input(ctx, 2)) return ONNORM_OK;
    const onnorm_tensor *v = ctx->in[2];
    if (v->dtype != x->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input 'constant_value' has type %s, expected %s like the data",
                         onnorm_dtype_name(v->dtype), onnorm_dtype_name(x->dtype));
    if (onnorm_tensor_numel(v) != 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input 'constant_value' must hold one element, it holds %lld",
                         (long long)onnorm_tensor_numel(v));
    return ONNORM_OK;
}

/* The output's dims into dims; its element count (< 0 on overflow). */
static int64_t out_dims(const pad_cfg *c, int64_t *dims)
{
    for (int k = 0; k < c->rank; k++)
        dims[k] = c->ax[k].out_len;
    return onn_dims_numel(dims, 0, c->rank);
}

static onnorm_status pad_infer(onn_kctx *ctx)
{
    const pad_cfg *c = ctx->state;
    int64_t dims[ONNORM_MAX_RANK];
    onnorm_status st = check_types(ctx);
    if (st) return st;
    if (out_dims(c, dims) < 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the padded tensor's element count overflows");
    onn_set_output(ctx, 0, ctx->in[0]->dtype, c->rank, dims);
    return ONNORM_OK;
}

/* ---- prepare ------------------------------------------------------------------- */

/* The fill element: the `value` attribute (opset 2) in the data's type, the
 * constant_value input when it has data now, or zero. */
static void set_fill(const onn_kctx *ctx, pad_cfg *c)
{
    if (onn_kversion(ctx) >= 11) {
        const onnorm_tensor *v = onn_opt_input(ctx, 2);
        if (v && v->data) memcpy(c->fill, v->data, c->esz);
        c->fill_at_run = v && !v->data;
        return;
    }
    const float v = c->value;
    const double d = v;
    uint16_t h;
    switch (ctx->in[0]->dtype) {
    case ONNORM_FLOAT: memcpy(c->fill, &v, sizeof v); break;
    case ONNORM_DOUBLE: memcpy(c->fill, &d, sizeof d); break;
    case ONNORM_FLOAT16: h = onn_f32_to_f16(v), memcpy(c->fill, &h, sizeof h); break;
    default: h = onn_f32_to_bf16(v), memcpy(c->fill, &h, sizeof h); break; /* bfloat16 */
    }
}

static onnorm_status pad_prepare(onn_kctx *ctx)
{
    pad_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK];
    c->esz = onnorm_dtype_size(x->dtype);
    if (c->esz > sizeof c->fill)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "type %s is not supported",
                         onnorm_dtype_name(x->dtype));
    set_fill(ctx, c);
    int64_t s = 1;
    for (int k = c->rank - 1; k >= 0; k--) {
        c->in_stride[k] = s;
        s *= x->dims[k];
    }
    c->numel = out_dims(c, dims);
    c->rows = c->numel > 0 && c->rank > 0 ? c->numel / dims[c->rank - 1] : 0;
    return ONNORM_OK;
}

/* ---- run ----------------------------------------------------------------------- */

/* j taken into [0, n) by mirroring at both ends (numpy's "reflect"). */
static int64_t reflect(int64_t j, int64_t n)
{
    if (n == 1) return 0;
    const int64_t period = 2 * (n - 1);
    j = (j % period + period) % period;
    return j < n ? j : period - j;
}

/* The input index output index i of axis a reads, or -1 for the constant. */
static int64_t source_index(const pad_axis *a, pad_mode mode, int64_t i)
{
    int64_t j = i - a->before; /* position relative to the kept part */
    if (j < 0 || j >= a->kept) {
        switch (mode) {
        case PAD_CONSTANT: return -1;
        case PAD_EDGE: j = j < 0 ? 0 : a->kept - 1; break;
        case PAD_REFLECT: j = reflect(j, a->kept); break;
        case PAD_WRAP: j = (j % a->kept + a->kept) % a->kept; break;
        }
    }
    return a->first + j;
}

/* Writes output row `row` (all axes but the last fixed). */
static void pad_row(const pad_cfg *c, const char *src, char *dst, const void *fill, int64_t row)
{
    const int last = c->rank - 1;
    const pad_axis *inner = &c->ax[last];
    const int64_t len = inner->out_len;
    const size_t esz = c->esz;
    char *d = dst + (size_t)(row * len) * esz;
    int64_t off = 0, rem = row;
    for (int k = last - 1; k >= 0; k--) {
        const int64_t s = source_index(&c->ax[k], c->mode, rem % c->ax[k].out_len);
        rem /= c->ax[k].out_len;
        if (s < 0) { /* the row lies in a constant border of an outer axis */
            onn_fill(d, len, fill, esz);
            return;
        }
        off += s * c->in_stride[k];
    }
    src += (size_t)off * esz;
    for (int64_t i = 0; i < len;) {
        const int64_t s = source_index(inner, c->mode, i);
        if (s < 0) {
            memcpy(d + (size_t)i * esz, fill, esz);
            i++;
        } else if (i == inner->before) { /* the kept run, in one piece */
            memcpy(d + (size_t)i * esz, src + (size_t)s * esz, (size_t)inner->kept * esz);
            i += inner->kept;
        } else {
            memcpy(d + (size_t)i * esz, src + (size_t)s * esz, esz);
            i++;
        }
    }
}

/* The arguments of pad_run's row loop. */
typedef struct pad_job {
    const pad_cfg *c;
    const char *src;
    char *dst;
    const void *fill;
} pad_job;

static void pad_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const pad_job *j = arg;
    for (int64_t r = r0; r < r1; r++)
        pad_row(j->c, j->src, j->dst, j->fill, r);
}

static onnorm_status pad_run(onn_kctx *ctx)
{
    const pad_cfg *c = ctx->state;
    if (!ctx->out[0] || c->numel == 0) return ONNORM_OK;
    const char *src = ctx->in[0]->data;
    char *dst = ctx->out[0]->data;
    if (c->rank == 0) { /* nothing to pad: a copy */
        memcpy(dst, src, c->esz);
        return ONNORM_OK;
    }
    const void *fill = c->fill_at_run ? ctx->in[2]->data : c->fill;
    const int nt = onn_threads_for(ctx, c->numel, c->rows);
    pad_job j = {c, src, dst, fill};
    onn_parallel_range(nt, c->rows, pad_rows, &j);
    return ONNORM_OK;
}

#define PAD_KERNEL(ver, in_lo, in_hi)                                                              \
    {                                                                                              \
        ONN_KERNEL("", "Pad", ver, in_lo, in_hi, 1, 1, pad_infer, pad_prepare, pad_run),           \
            .config = pad_config, .state_size = sizeof(pad_cfg)                                    \
    }

ONN_KERNEL_TABLE(pad, PAD_KERNEL(2, 1, 1), PAD_KERNEL(11, 2, 3), PAD_KERNEL(13, 2, 3),
                 PAD_KERNEL(18, 2, 4), PAD_KERNEL(19, 2, 4));
