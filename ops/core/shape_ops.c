/*
 * Ops that change only a tensor's shape, or read only its shape:
 *   Shape (1; start/end at 15), Size (1), Reshape (1: shape attribute;
 *   5: shape input; 14: allowzero), Flatten (1), Squeeze and Unsqueeze
 *   (1: axes attribute; 13: axes input), Identity (1) and Dropout in
 *   inference mode (1, 6: is_test attribute; 7: mask of type T; 10: bool
 *   mask; 12: ratio and training_mode inputs; training_mode=true only
 *   with ratio 0, which is the identity).
 *
 * The element order never changes, so every output holding the input's
 * elements is one byte copy: all element types are handled alike. The
 * config steps read the attributes into the state: the copy ops' output
 * shape (which copy_infer sets), Shape's axis range and Dropout's mask
 * value; nothing needs a prepare. Negative axes, formally allowed
 * from opset 11, are accepted at every opset: they only extend what is
 * valid. Shape-determining inputs (Reshape's shape, Squeeze/Unsqueeze axes
 * at 13) must be known while planning, which onn_input_values() checks.
 */
#include "ops/core/threadpool.h"
#include "ops/half.h"
#include "ops/kernel.h"

#include <string.h>

/* Large copies are split into chunks of this many bytes across threads. */
#define COPY_CHUNK ((size_t)1 << 18)

static onnorm_status check_storable(onn_kctx *ctx, int i, const char *what)
{
    const onnorm_tensor *t = ctx->in[i];
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    if (onnorm_dtype_size(t->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has unsupported type %s", what,
                         onnorm_dtype_name(t->dtype));
    return ONNORM_OK;
}

/* The copy ops' configuration: output 0's shape (its type is input 0's). */
typedef struct copy_cfg {
    int rank;
    int64_t dims[ONNORM_MAX_RANK];
} copy_cfg;

static onnorm_status copy_infer(onn_kctx *ctx)
{
    const copy_cfg *c = ctx->state;
    onn_set_output(ctx, 0, ctx->in[0]->dtype, c->rank, c->dims);
    return ONNORM_OK;
}

typedef struct copy_job {
    const char *src;
    char *dst;
    size_t bytes;
} copy_job;

/* Copies chunk t (COPY_CHUNK bytes, fewer for the last). */
static void copy_chunk(void *arg, int64_t t, int worker)
{
    (void)worker;
    const copy_job *j = arg;
    size_t off = (size_t)t * COPY_CHUNK;
    memcpy(j->dst + off, j->src + off, j->bytes - off < COPY_CHUNK ? j->bytes - off : COPY_CHUNK);
}

/* Output 0 := input 0's bytes (the shapes differ, the element order does
 * not). The kernels are `inplace`: where X dies at this node the planner
 * gives Y X's memory, and there is nothing to copy (a BERT-style encoder's
 * 30 Reshapes had copied 1.5 MB each at batch 8). */
static onnorm_status copy_run(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    if (!ctx->out[0] || ctx->out[0]->data == x->data) return ONNORM_OK;
    size_t bytes = (size_t)onnorm_tensor_numel(x) * onnorm_dtype_size(x->dtype);
    int64_t tasks = (int64_t)((bytes + COPY_CHUNK - 1) / COPY_CHUNK);
    int nt = onn_threads_for(ctx, (int64_t)bytes, tasks);
    copy_job j = {x->data, ctx->out[0]->data, bytes};
    onn_parallel_for(nt, tasks, copy_chunk, &j);
    return ONNORM_OK;
}

/* ---- Shape, Size ---------------------------------------------------------- */

/* Shape-15's [start, end) of axes: negative counts from the back, then both
 * are clamped into [0, rank]. */
typedef struct shape_cfg {
    int start, end;
} shape_cfg;

static onnorm_status shape_config(onn_kctx *ctx)
{
    shape_cfg *c = ctx->state;
    onnorm_status st = check_storable(ctx, 0, "data");
    if (st) return st;
    int r = ctx->in[0]->rank;
    int64_t s = 0, e = r;
    if (onn_kversion(ctx) >= 15 &&
        ((st = onn_kattr_int(ctx, "start", 0, &s)) || (st = onn_kattr_int(ctx, "end", r, &e))))
        return st;
    if (s < 0) s += r;
    if (e < 0) e += r;
    c->start = (int)(s < 0 ? 0 : s > r ? r : s);
    c->end = (int)(e < 0 ? 0 : e > r ? r : e);
    if (c->end < c->start) c->end = c->start;
    return ONNORM_OK;
}

static onnorm_status shape_infer(onn_kctx *ctx)
{
    const shape_cfg *c = ctx->state;
    int64_t len = c->end - c->start;
    onn_set_output(ctx, 0, ONNORM_INT64, 1, &len);
    return ONNORM_OK;
}

static onnorm_status shape_run(onn_kctx *ctx)
{
    const shape_cfg *c = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    int64_t *out = ctx->out[0]->data;
    for (int k = c->start; k < c->end; k++)
        out[k - c->start] = ctx->in[0]->dims[k];
    return ONNORM_OK;
}

static onnorm_status size_infer(onn_kctx *ctx)
{
    onnorm_status st = check_storable(ctx, 0, "data");
    if (st) return st;
    onn_set_output(ctx, 0, ONNORM_INT64, 0, NULL);
    return ONNORM_OK;
}

static onnorm_status size_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    *(int64_t *)ctx->out[0]->data = onnorm_tensor_numel(ctx->in[0]);
    return ONNORM_OK;
}

/* ---- Reshape ------------------------------------------------------------- */

/* Resolves the requested shape: 0 copies the input's dim (unless allowzero),
 * one -1 takes whatever element count is left. */
static onnorm_status resolve_shape(onn_kctx *ctx, const int64_t *req, int n, bool allowzero,
                                   int64_t *out)
{
    const onnorm_tensor *x = ctx->in[0];
    int64_t total = onnorm_tensor_numel(x), known = 1;
    int infer_at = -1;
    bool has_zero = false;
    for (int i = 0; i < n; i++) {
        int64_t d = req[i];
        if (d == -1) {
            if (infer_at >= 0)
                return onn_kfail(ctx, ONNORM_ERR_INVALID,
                                 "shape has more than one -1 (at %d and %d)", infer_at, i);
            infer_at = i;
            continue;
        }
        if (d < -1)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "shape[%d] = %lld is invalid", i,
                             (long long)d);
        if (d == 0 && !allowzero) {
            if (i >= x->rank)
                return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                                 "shape[%d] = 0 copies input dim %d, but the input has rank %d", i,
                                 i, x->rank);
            d = x->dims[i];
        }
        has_zero |= d == 0;
        if (d != 0 && known > INT64_MAX / d)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "the requested shape's element count overflows");
        out[i] = d;
        known *= d;
    }
    if (infer_at >= 0) {
        if (allowzero && has_zero)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "with allowzero=1 the shape may not hold both 0 and -1");
        if (known == 0 || total % known != 0)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "cannot infer the -1 dim: %lld elements do not divide by %lld",
                             (long long)total, (long long)known);
        out[infer_at] = total / known;
    } else if (known != total) {
        char sh[128];
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "shape %s holds %lld elements, the input has %lld",
                         onn_shape_str(out, n, sh, sizeof sh), (long long)known, (long long)total);
    }
    return ONNORM_OK;
}

static onnorm_status reshape_config(onn_kctx *ctx)
{
    copy_cfg *c = ctx->state;
    int ver = onn_kversion(ctx);
    int64_t req[ONNORM_MAX_RANK], allowzero = 0;
    onnorm_status st = check_storable(ctx, 0, "data");
    if (st) return st;
    if (ver < 5) {
        if ((st = onn_kattr_require(ctx, "shape")) ||
            (st = onn_kattr_ints_upto(ctx, "shape", ONNORM_MAX_RANK, req, &c->rank)))
            return st;
    } else {
        if (!onn_has_input(ctx, 1))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'shape' is missing");
        if ((st = onn_input_ints(ctx, 1, "shape", ONN_INTS_SCALAR, ONNORM_MAX_RANK, req, &c->rank)))
            return st;
    }
    if (ver >= 14 && (st = onn_kattr_int(ctx, "allowzero", 0, &allowzero))) return st;
    return resolve_shape(ctx, req, c->rank, allowzero != 0, c->dims);
}

/* ---- Flatten ------------------------------------------------------------- */

static onnorm_status flatten_config(onn_kctx *ctx)
{
    copy_cfg *c = ctx->state;
    onnorm_status st = check_storable(ctx, 0, "input");
    int64_t axis = 1;
    if (st || (st = onn_kattr_int(ctx, "axis", 1, &axis))) return st;
    const onnorm_tensor *x = ctx->in[0];
    if (axis < -(int64_t)x->rank || axis > x->rank)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)axis, x->rank);
    int a = (int)(axis < 0 ? axis + x->rank : axis);
    c->rank = 2;
    c->dims[0] = onn_dims_numel(x->dims, 0, a);
    c->dims[1] = onn_dims_numel(x->dims, a, x->rank);
    return ONNORM_OK;
}

/* ---- Squeeze, Unsqueeze ------------------------------------------------- */

/* Squeeze's and Unsqueeze's axes: the list (n = -1 when none is given) and,
 * once marked, which axes of the result it names. */
typedef struct axes_arg {
    int64_t list[ONNORM_MAX_RANK];
    int n;
    bool hit[ONNORM_MAX_RANK];
} axes_arg;

/* Squeeze's and Unsqueeze's data, then the axes list: an attribute before
 * opset 13, an input from 13 on. */
static onnorm_status read_axes(onn_kctx *ctx, axes_arg *a)
{
    onnorm_status st = check_storable(ctx, 0, "data");
    if (st) return st;
    if (onn_kversion(ctx) < 13)
        return onn_kattr_ints_upto(ctx, "axes", ONNORM_MAX_RANK, a->list, &a->n);
    a->n = -1;
    if (!onn_has_input(ctx, 1)) return ONNORM_OK;
    return onn_input_ints(ctx, 1, "axes", ONN_INTS_SCALAR, ONNORM_MAX_RANK, a->list, &a->n);
}

/* Marks the listed axes (normalized against rank r) in a->hit; repeats fail. */
static onnorm_status mark_axes(onn_kctx *ctx, axes_arg *a, int r)
{
    for (int k = 0; k < r; k++)
        a->hit[k] = false;
    for (int k = 0; k < a->n; k++) {
        int ax;
        if (!onn_normalize_axis(a->list[k], r, &ax))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                             (long long)a->list[k], r);
        if (a->hit[ax]) return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %d is listed twice", ax);
        a->hit[ax] = true;
    }
    return ONNORM_OK;
}

static onnorm_status squeeze_config(onn_kctx *ctx)
{
    copy_cfg *c = ctx->state;
    axes_arg a;
    onnorm_status st = read_axes(ctx, &a);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    /* No axes, or an empty list (as onnxruntime reads it): every 1 goes. */
    if (a.n <= 0)
        for (int k = 0; k < x->rank; k++)
            a.hit[k] = x->dims[k] == 1;
    else if ((st = mark_axes(ctx, &a, x->rank)))
        return st;
    for (int k = 0; k < x->rank; k++) {
        if (!a.hit[k]) {
            c->dims[c->rank++] = x->dims[k];
        } else if (x->dims[k] != 1) {
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "cannot squeeze axis %d of size %lld", k,
                             (long long)x->dims[k]);
        }
    }
    return ONNORM_OK;
}

static onnorm_status unsqueeze_config(onn_kctx *ctx)
{
    copy_cfg *c = ctx->state;
    axes_arg a;
    onnorm_status st = read_axes(ctx, &a);
    if (st) return st;
    if (a.n < 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "required %s 'axes' is missing",
                         onn_kversion(ctx) < 13 ? "attribute" : "input");
    const onnorm_tensor *x = ctx->in[0];
    int r = x->rank + a.n;
    if (r > ONNORM_MAX_RANK)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "output rank %d exceeds the supported maximum %d", r, ONNORM_MAX_RANK);
    if ((st = mark_axes(ctx, &a, r))) return st;
    for (int k = 0, src = 0; k < r; k++)
        c->dims[k] = a.hit[k] ? 1 : x->dims[src++];
    c->rank = r;
    return ONNORM_OK;
}

/* ---- Identity ------------------------------------------------------------ */

static onnorm_status identity_config(onn_kctx *ctx)
{
    copy_cfg *c = ctx->state;
    onnorm_status st = check_storable(ctx, 0, "input");
    if (st) return st;
    c->rank = ctx->in[0]->rank;
    memcpy(c->dims, ctx->in[0]->dims, sizeof c->dims);
    return ONNORM_OK;
}

/* ---- Dropout (inference only) ------------------------------------------- */

/* The ratio input's value (0.5 when omitted); false when it is not known
 * yet (computed at run time). */
static bool dropout_ratio(onn_kctx *ctx, double *r)
{
    *r = 0.5;
    if (!onn_has_input(ctx, 1)) return true;
    const onnorm_tensor *t = ctx->in[1];
    if (!t->data) return false;
    switch (t->dtype) {
    case ONNORM_FLOAT: *r = *(const float *)t->data; break;
    case ONNORM_DOUBLE: *r = *(const double *)t->data; break;
    case ONNORM_FLOAT16: *r = onn_f16_to_f32(*(const uint16_t *)t->data); break;
    case ONNORM_BFLOAT16: *r = onn_bf16_to_f32(*(const uint16_t *)t->data); break;
    default: return false;
    }
    return true;
}

/* Opset 12 on: training_mode, when given, must be false, or the ratio 0:
 * training-mode dropout with ratio 0 keeps every element and scales by
 * 1 / (1 - 0), the identity (PyTorch exports attention dropout so with
 * TrainingMode.PRESERVE, e.g. torchvision's Swin). Their values may only be
 * known at run time, so config checks them only when it already can and
 * run() checks them when config could not. */
static onnorm_status check_training_mode(onn_kctx *ctx, bool at_run)
{
    if (!onn_has_input(ctx, 2)) return ONNORM_OK;
    const onnorm_tensor *t = ctx->in[2];
    if (t->dtype != ONNORM_BOOL || onnorm_tensor_numel(t) != 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "input 'training_mode' must be a bool scalar");
    if (!t->data) {
        if (at_run) return onn_kfail(ctx, ONNORM_ERR_INVALID, "input 'training_mode' has no data");
        return ONNORM_OK;
    }
    if (!*(const uint8_t *)t->data) return ONNORM_OK;
    double r;
    if (!dropout_ratio(ctx, &r)) {
        if (at_run) return onn_kfail(ctx, ONNORM_ERR_INVALID, "input 'ratio' has no data");
        return ONNORM_OK;
    }
    if (r != 0)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "training_mode=true with ratio %g (random dropout) is not supported; "
                         "only inference or ratio 0",
                         r);
    return ONNORM_OK;
}

/* Opset 12 on, a training_mode without a value while planning (a graph
 * input) is checked by run when the value arrives; config checked any
 * other. The mask has the data's type before opset 10, bool from 10 on;
 * `one` is its "kept" value. */
typedef struct dropout_cfg {
    bool check_mode;
    onnorm_dtype mask;
    size_t mask_esz;
    unsigned char one[8];
} dropout_cfg;

static onnorm_status dropout_config(onn_kctx *ctx)
{
    dropout_cfg *c = ctx->state;
    int ver = onn_kversion(ctx);
    onnorm_status st = check_storable(ctx, 0, "data");
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    if (!onn_is_norm_type(x->dtype))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input 'data' has type %s; Dropout takes floating types",
                         onnorm_dtype_name(x->dtype));
    if (ver < 7) {
        int64_t is_test = 0;
        if ((st = onn_kattr_int(ctx, "is_test", 0, &is_test))) return st;
        if (!is_test)
            return onn_kfail(
                ctx, ONNORM_ERR_UNSUPPORTED,
                "is_test=0 asks for training-mode (random) dropout; only inference is supported");
    }
    if (ver >= 12) {
        if (onn_has_input(ctx, 1) &&
            (!onn_is_norm_type(ctx->in[1]->dtype) || onnorm_tensor_numel(ctx->in[1]) != 1))
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "input 'ratio' must be a floating-point scalar");
        if ((st = check_training_mode(ctx, false))) return st;
    }
    c->check_mode = ver >= 12 && onn_has_input(ctx, 2) &&
                    (!ctx->in[2]->data || (onn_has_input(ctx, 1) && !ctx->in[1]->data));
    c->mask = ver >= 10 ? ONNORM_BOOL : x->dtype;
    c->mask_esz = onnorm_dtype_size(c->mask);
    switch (c->mask) {
    case ONNORM_FLOAT: memcpy(c->one, &(float){1.0f}, sizeof(float)); break;
    case ONNORM_DOUBLE: memcpy(c->one, &(double){1.0}, sizeof(double)); break;
    case ONNORM_FLOAT16: memcpy(c->one, &(uint16_t){0x3C00}, 2); break;
    case ONNORM_BFLOAT16: memcpy(c->one, &(uint16_t){0x3F80}, 2); break;
    default: c->one[0] = 1; break; /* bool */
    }
    return ONNORM_OK;
}

static onnorm_status dropout_infer(onn_kctx *ctx)
{
    const dropout_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    onn_set_output(ctx, 1, c->mask, x->rank, x->dims);
    return ONNORM_OK;
}

static onnorm_status dropout_run(onn_kctx *ctx)
{
    const dropout_cfg *c = ctx->state;
    onnorm_status st;
    if (c->check_mode && (st = check_training_mode(ctx, true))) return st;
    copy_run(ctx);
    onnorm_tensor *mask = onn_opt_output(ctx, 1);
    /* Nothing is dropped in inference: every mask entry is "kept". */
    if (mask) onn_fill(mask->data, onnorm_tensor_numel(mask), c->one, c->mask_esz);
    return ONNORM_OK;
}

/* ---- table --------------------------------------------------------------- */

/* The ops whose run is copy_run: config gives the output's shape, nothing
 * to prepare. */
#define COPY_KERNEL(op, ver, in_lo, in_hi, name)                                                   \
    {                                                                                              \
        ONN_KERNEL("", op, ver, in_lo, in_hi, 1, 1, copy_infer, NULL, copy_run),                   \
            .config = name##_config, .state_size = sizeof(copy_cfg), .inplace = true               \
    }
#define DROPOUT_KERNEL(ver, in_hi)                                                                 \
    {                                                                                              \
        ONN_KERNEL("", "Dropout", ver, 1, in_hi, 1, 2, dropout_infer, NULL, dropout_run),          \
            .config = dropout_config, .state_size = sizeof(dropout_cfg)                            \
    }
#define SHAPE_KERNEL(ver)                                                                          \
    {                                                                                              \
        ONN_KERNEL("", "Shape", ver, 1, 1, 1, 1, shape_infer, NULL, shape_run),                    \
            .config = shape_config, .state_size = sizeof(shape_cfg), .shape_only = true,           \
            .widens = (ver) == 15                                                                  \
    }

ONN_KERNEL_TABLE(
    shape_ops, SHAPE_KERNEL(1), SHAPE_KERNEL(15),
    {ONN_KERNEL("", "Size", 1, 1, 1, 1, 1, size_infer, NULL, size_run), .shape_only = true},
    COPY_KERNEL("Reshape", 1, 1, 1, reshape), COPY_KERNEL("Reshape", 5, 2, 2, reshape),
    COPY_KERNEL("Reshape", 14, 2, 2, reshape), COPY_KERNEL("Flatten", 1, 1, 1, flatten),
    COPY_KERNEL("Squeeze", 1, 1, 1, squeeze), COPY_KERNEL("Squeeze", 13, 1, 2, squeeze),
    COPY_KERNEL("Unsqueeze", 1, 1, 1, unsqueeze), COPY_KERNEL("Unsqueeze", 13, 2, 2, unsqueeze),
    COPY_KERNEL("Identity", 1, 1, 1, identity), DROPOUT_KERNEL(1, 1), DROPOUT_KERNEL(7, 1),
    DROPOUT_KERNEL(10, 1), DROPOUT_KERNEL(12, 3));
