/*
 * Ops that build tensors from a shape and a few values:
 *   Trilu    (14)     upper attribute, optional k input; every element type
 *   EyeLike  (9, 22)  k, dtype attributes; float16/32/64, ints, bool
 *                     (22 adds bfloat16)
 *   OneHot   (9, 11)  indices, depth, values inputs; axis attribute
 *   Range    (11)     start, limit, delta scalars; float32/64, int16/32/64
 *
 * Decisions where the spec is silent:
 * - Trilu reads k (a 0-D or one-element int64 tensor) at run: it does not
 *   change the output shape. Any k is valid: beyond the matrix it keeps
 *   everything or nothing.
 * - EyeLike without dtype copies the input's type; its input must be 2-D.
 * - OneHot: depth (any numeric type, truncated towards zero like a cast to
 *   int64) must be >= 1; indices of a float type are truncated the same
 *   way, and NaN or out-of-range indices give an all-off row, as the spec
 *   says for out-of-range ones. OneHot-9 accepts [0, depth) only, OneHot-11
 *   [-depth, depth). values must hold exactly two elements [off, on].
 * - Range: delta = 0 is an error; the count is
 *   max(ceil((limit - start) / delta), 0), computed in the element type for
 *   floats and exactly (without overflow) for integers. Elements are
 *   produced as the spec's function body does, adding delta to the
 *   previous element, so floats accumulate as in ONNX's Loop definition.
 * - Sizes that come from input values (OneHot's depth, Range's count) are
 *   read with onn_input_values() and refused past ONN_VALUE_SIZE_LIMIT.
 */
#include "ops/core/order.h"
#include "ops/core/threadpool.h"

#include <math.h>
#include <string.h>

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- Trilu ----------------------------------------------------------------- */

typedef struct trilu_cfg {
    bool upper;
    int64_t batch, rows, cols;
    size_t esz;
} trilu_cfg;

static onnorm_status trilu_config(onn_kctx *ctx)
{
    trilu_cfg *c = ctx->state;
    int64_t upper;
    const onnorm_tensor *x = ctx->in[0], *k = onn_opt_input(ctx, 1);
    onnorm_status st = onn_kattr_int(ctx, "upper", 1, &upper);
    if (st) return st;
    c->upper = upper != 0;
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'input' is missing");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'input' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    if (x->rank < 2) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'input' must have rank >= 2");
    if (k && (k->dtype != ONNORM_INT64 || onnorm_tensor_numel(k) != 1 || k->rank > 1))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'k' must be one int64 value, got %s of %lld",
                         onnorm_dtype_name(k->dtype), (long long)onnorm_tensor_numel(k));
    return ONNORM_OK;
}

static onnorm_status trilu_infer(onn_kctx *ctx)
{
    onn_set_output(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->rank, ctx->in[0]->dims);
    return ONNORM_OK;
}

static onnorm_status trilu_prepare(onn_kctx *ctx)
{
    trilu_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    c->rows = x->dims[x->rank - 2];
    c->cols = x->dims[x->rank - 1];
    c->batch = onn_dims_numel(x->dims, 0, x->rank - 2);
    c->esz = onnorm_dtype_size(x->dtype);
    return ONNORM_OK;
}

typedef struct trilu_job {
    const trilu_cfg *c;
    int64_t k;
    const char *src;
    char *dst;
} trilu_job;

/* Row i keeps columns j with j - i >= k (upper) or j - i <= k (lower), and
 * zeroes the rest: one copy and one memset per row. Rows [r0, r1) of all
 * the batch's matrices. */
static void trilu_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const trilu_job *j = arg;
    const trilu_cfg *c = j->c;
    const int64_t rows = c->rows, cols = c->cols, k = j->k;
    const size_t esz = c->esz, row_bytes = (size_t)cols * esz;
    const char *src = j->src;
    char *dst = j->dst;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t i = r % rows;
        const size_t off = (size_t)r * row_bytes;
        if (c->upper) { /* zero [0, i + k), keep the rest */
            size_t z = (size_t)clamp64(i + k, 0, cols) * esz;
            memset(dst + off, 0, z);
            memcpy(dst + off + z, src + off + z, row_bytes - z);
        } else { /* keep [0, i + k + 1), zero the rest */
            size_t keep = (size_t)clamp64(i + k + 1, 0, cols) * esz;
            memcpy(dst + off, src + off, keep);
            memset(dst + off + keep, 0, row_bytes - keep);
        }
    }
}

static onnorm_status trilu_run(onn_kctx *ctx)
{
    const trilu_cfg *c = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK;
    const onnorm_tensor *kt = onn_opt_input(ctx, 1);
    const int64_t rows = c->rows, cols = c->cols, n = c->batch * rows;
    const int64_t far = rows + cols; /* any |k| past this acts the same */
    const int64_t k = kt ? clamp64(*(const int64_t *)kt->data, -far, far) : 0;
    const int nt = onn_threads_for(ctx, n * cols, n);
    trilu_job j = {c, k, ctx->in[0]->data, ctx->out[0]->data};
    onn_parallel_range(nt, n, trilu_rows, &j);
    return ONNORM_OK;
}

/* ---- EyeLike ----------------------------------------------------------------- */

/* EyeLike-9's types; 22 adds bfloat16. */
#define EYE_TYPES_9 (ONN_T_ORDERED_BOOL & ~ONN_T(ONNORM_BFLOAT16))

typedef struct eye_cfg {
    onnorm_dtype dtype;
    int64_t k;
} eye_cfg;

/* Writes the value 1 of dtype t to dst. */
static void write_one(onnorm_dtype t, void *dst)
{
    switch (t) {
    case ONNORM_FLOAT: *(float *)dst = 1.0f; break;
    case ONNORM_DOUBLE: *(double *)dst = 1.0; break;
    case ONNORM_FLOAT16: *(uint16_t *)dst = 0x3C00; break;
    case ONNORM_BFLOAT16: *(uint16_t *)dst = 0x3F80; break;
    case ONNORM_INT8:
    case ONNORM_UINT8:
    case ONNORM_BOOL: *(uint8_t *)dst = 1; break;
    case ONNORM_INT16:
    case ONNORM_UINT16: *(uint16_t *)dst = 1; break;
    case ONNORM_INT32:
    case ONNORM_UINT32: *(uint32_t *)dst = 1; break;
    default: *(uint64_t *)dst = 1; break; /* int64, uint64 */
    }
}

static onnorm_status eye_config(onn_kctx *ctx)
{
    eye_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dt;
    onnorm_status st = onn_check_float_input(ctx, 0, "input");
    if (st || (st = onn_kattr_int(ctx, "k", 0, &c->k)) ||
        (st = onn_kattr_int(ctx, "dtype", x->dtype, &dt)))
        return st;
    const uint32_t mask = ctx->kernel->types;
    if (dt < 0 || dt >= 32 || !(mask & ONN_T(dt))) {
        char types[160];
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "attribute dtype = %lld is not one of %s",
                         (long long)dt, onn_types_str(mask, types, sizeof types));
    }
    c->dtype = (onnorm_dtype)dt;
    if (x->rank != 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'input' must be 2-D, got rank %d", x->rank);
    return ONNORM_OK;
}

static onnorm_status eye_infer(onn_kctx *ctx)
{
    const eye_cfg *c = ctx->state;
    onn_set_output(ctx, 0, c->dtype, 2, ctx->in[0]->dims);
    return ONNORM_OK;
}

static onnorm_status eye_run(onn_kctx *ctx)
{
    const eye_cfg *c = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK;
    const int64_t rows = ctx->in[0]->dims[0], cols = ctx->in[0]->dims[1];
    const size_t esz = onnorm_dtype_size(c->dtype);
    char *dst = ctx->out[0]->data;
    memset(dst, 0, (size_t)(rows * cols) * esz);
    /* Ones at (i, i + k) for the rows where that column exists. */
    const int64_t k = clamp64(c->k, -rows - cols, rows + cols);
    for (int64_t i = k < 0 ? -k : 0; i < rows && i + k < cols; i++)
        write_one(c->dtype, dst + (size_t)(i * cols + i + k) * esz);
    return ONNORM_OK;
}

/* Indices: every numeric type but bfloat16. */
#define ONEHOT_TYPES (ONN_T_ORDERED & ~ONN_T(ONNORM_BFLOAT16))

/* ---- OneHot -------------------------------------------------------------------- */

typedef struct onehot_cfg {
    int axis;      /* of the output */
    int64_t depth; /* from input values */
} onehot_cfg;

/* Element i of t truncated to int64; false for NaN or values beyond +-2^62,
 * which no valid depth or index reaches. */
static bool value_as_int(const onnorm_tensor *t, const void *data, int64_t i, int64_t *out)
{
    switch (t->dtype) {
#define OH_LOAD(sfx, ctype, code, ktype, load)                                                     \
    case code: {                                                                                   \
        ktype v = load(((const ctype *)data)[i]);                                                  \
        if (ONN_ISNAN(v)) return false;                                                            \
        double d = (double)v;                                                                      \
        if (d >= 4.6e18 || d <= -4.6e18) return false;                                             \
        *out = (int64_t)v; /* exact for integers; truncates floats */                              \
        return true;                                                                               \
    }
        ONN_ORDERED_TYPES(OH_LOAD)
    default: return false;
    }
}

static onnorm_status onehot_config(onn_kctx *ctx)
{
    onehot_cfg *c = ctx->state;
    const onnorm_tensor *idx = ctx->in[0], *depth = ctx->in[1], *vals = ctx->in[2];
    int64_t axis;
    onnorm_status st = onn_kattr_int(ctx, "axis", -1, &axis);
    if (st) return st;
    if (!idx || !depth || !vals)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "inputs indices, depth and values are required");
    if (!onn_order_cmp(idx->dtype) || idx->dtype == ONNORM_BOOL)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'indices' has unsupported type %s",
                         onnorm_dtype_name(idx->dtype));
    if (!onn_order_cmp(depth->dtype) || depth->dtype == ONNORM_BOOL ||
        onnorm_tensor_numel(depth) != 1 || depth->rank > 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "input 'depth' must be one numeric value, got %s with %lld elements",
                         onnorm_dtype_name(depth->dtype), (long long)onnorm_tensor_numel(depth));
    if (onnorm_dtype_size(vals->dtype) == 0 || onnorm_tensor_numel(vals) != 2 || vals->rank != 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "input 'values' must be a 1-D tensor [off_value, on_value]");
    if (idx->rank + 1 > ONNORM_MAX_RANK)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "output rank %d exceeds the maximum %d",
                         idx->rank + 1, ONNORM_MAX_RANK);
    if (!onn_normalize_axis(axis, idx->rank + 1, &c->axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for output rank %d",
                         (long long)axis, idx->rank + 1);
    const void *dv = onn_input_values(ctx, 1, "depth");
    if (!dv) return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    if (!value_as_int(depth, dv, 0, &c->depth) || c->depth < 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "depth must be a positive number");
    int64_t n = onnorm_tensor_numel(idx);
    if (n && c->depth > INT64_MAX / n)
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "OneHot output of %lld x %lld elements overflows",
                         (long long)n, (long long)c->depth);
    return onn_value_size_check(ctx, "OneHot output", n * c->depth, onnorm_dtype_size(vals->dtype));
}

static onnorm_status onehot_infer(onn_kctx *ctx)
{
    const onehot_cfg *c = ctx->state;
    const onnorm_tensor *idx = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK];
    for (int k = 0, j = 0; k <= idx->rank; k++)
        dims[k] = k == c->axis ? c->depth : idx->dims[j++];
    onn_set_output(ctx, 0, ctx->in[2]->dtype, idx->rank + 1, dims);
    return ONNORM_OK;
}

/* Every output element gets off_value; then each in-range index sets one
 * on_value at out[o, index, i] for its position (o, i) around the axis. */
static onnorm_status onehot_run(onn_kctx *ctx)
{
    const onehot_cfg *c = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK;
    const onnorm_tensor *idx = ctx->in[0], *vals = ctx->in[2];
    const size_t esz = onnorm_dtype_size(vals->dtype);
    const int64_t depth = c->depth, n = onnorm_tensor_numel(idx);
    const int64_t inner = onn_dims_numel(idx->dims, c->axis, idx->rank);
    const int64_t lo = onn_kversion(ctx) >= 11 ? -depth : 0;
    char *dst = ctx->out[0]->data;
    const char *off = vals->data, *on = off + esz;
    onn_fill(dst, n * depth, off, esz);
    for (int64_t p = 0; p < n; p++) {
        int64_t v;
        if (!value_as_int(idx, idx->data, p, &v) || v < lo || v >= depth) continue;
        if (v < 0) v += depth;
        const int64_t o = p / inner, i = p % inner;
        memcpy(dst + (size_t)((o * depth + v) * inner + i) * esz, on, esz);
    }
    return ONNORM_OK;
}

/* ---- Range ----------------------------------------------------------------------- */

#define RANGE_TYPES                                                                                \
    (ONN_T(ONNORM_FLOAT) | ONN_T(ONNORM_DOUBLE) | ONN_T(ONNORM_INT16) | ONN_T(ONNORM_INT32) |      \
     ONN_T(ONNORM_INT64))

/* The element count for float types, computed in the element type; -1
 * when it is not a finite number below 2^62. */
#define RANGE_FLOAT_COUNT(T, s, l, d)                                                              \
    do {                                                                                           \
        T q = (T)ceil((double)(((T)(l) - (T)(s)) / (T)(d)));                                       \
        *count = !(q == q) || q >= (T)4.6e18 ? -1 : q <= 0 ? 0 : (int64_t)q;                       \
    } while (0)

/* Exact integer count of max(ceil((l - s) / d), 0), d != 0. */
static int64_t range_int_count(int64_t s, int64_t l, int64_t d)
{
    if ((d > 0 && l <= s) || (d < 0 && l >= s)) return 0;
    uint64_t diff = d > 0 ? (uint64_t)l - (uint64_t)s : (uint64_t)s - (uint64_t)l;
    uint64_t step = d > 0 ? (uint64_t)d : (uint64_t)0 - (uint64_t)d;
    uint64_t q = diff / step + (diff % step != 0);
    return q > (uint64_t)INT64_MAX ? -1 : (int64_t)q;
}

static int64_t int_at(const onnorm_tensor *t)
{
    switch (t->dtype) {
    case ONNORM_INT16: return *(const int16_t *)t->data;
    case ONNORM_INT32: return *(const int32_t *)t->data;
    default: return *(const int64_t *)t->data;
    }
}

/* The count from the three scalars, whose data are present. */
static onnorm_status range_count(onn_kctx *ctx, int64_t *count)
{
    const onnorm_tensor *s = ctx->in[0], *l = ctx->in[1], *d = ctx->in[2];
    switch (s->dtype) {
    case ONNORM_FLOAT: {
        float fd = *(const float *)d->data;
        if (fd == 0) return onn_kfail(ctx, ONNORM_ERR_INVALID, "delta is 0");
        RANGE_FLOAT_COUNT(float, *(const float *)s->data, *(const float *)l->data, fd);
        break;
    }
    case ONNORM_DOUBLE: {
        double dd = *(const double *)d->data;
        if (dd == 0) return onn_kfail(ctx, ONNORM_ERR_INVALID, "delta is 0");
        RANGE_FLOAT_COUNT(double, *(const double *)s->data, *(const double *)l->data, dd);
        break;
    }
    default:
        if (int_at(d) == 0) return onn_kfail(ctx, ONNORM_ERR_INVALID, "delta is 0");
        *count = range_int_count(int_at(s), int_at(l), int_at(d));
    }
    if (*count < 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "the element count ceil((limit - start) / delta) is not a finite "
                         "size (NaN, infinite or beyond 2^62)");
    return onn_value_size_check(ctx, "Range output", *count, onnorm_dtype_size(s->dtype));
}

static onnorm_status range_infer(onn_kctx *ctx)
{
    static const char *const names[3] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; i++) {
        const onnorm_tensor *t = ctx->in[i];
        if (!t)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", names[i]);
        if (i == 0 && !(RANGE_TYPES & ONN_T(t->dtype))) {
            char types[128];
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'start' has type %s; Range supports %s",
                             onnorm_dtype_name(t->dtype),
                             onn_types_str(RANGE_TYPES, types, sizeof types));
        }
        if (t->dtype != ctx->in[0]->dtype || onnorm_tensor_numel(t) != 1 || t->rank > 1)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "input '%s' must be a scalar of start's type %s", names[i],
                             onnorm_dtype_name(ctx->in[0]->dtype));
    }
    for (int i = 0; i < 3; i++)
        if (!onn_input_values(ctx, i, names[i]))
            return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    int64_t count;
    onnorm_status st = range_count(ctx, &count);
    if (st) return st;
    onn_set_output(ctx, 0, ctx->in[0]->dtype, 1, &count);
    return ONNORM_OK;
}

/* The last element is start + (count - 1) * delta, within [start, limit):
 * the sum is not formed past it, so integers never overflow. */
#define RANGE_FILL(T)                                                                              \
    do {                                                                                           \
        T *y = ctx->out[0]->data, v = *(const T *)ctx->in[0]->data;                                \
        const T d = *(const T *)ctx->in[2]->data;                                                  \
        for (int64_t i = 0; i < count; i++) {                                                      \
            y[i] = v;                                                                              \
            if (i + 1 < count) v = (T)(v + d);                                                     \
        }                                                                                          \
    } while (0)

static onnorm_status range_run(onn_kctx *ctx)
{
    int64_t count;
    onnorm_status st = range_count(ctx, &count);
    if (st || !ctx->out[0]) return st;
    if (count != onnorm_tensor_numel(ctx->out[0]))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the output holds %lld elements, Range makes %lld",
                         (long long)onnorm_tensor_numel(ctx->out[0]), (long long)count);
    switch (ctx->in[0]->dtype) {
    case ONNORM_FLOAT: RANGE_FILL(float); break;
    case ONNORM_DOUBLE: RANGE_FILL(double); break;
    case ONNORM_INT16: RANGE_FILL(int16_t); break;
    case ONNORM_INT32: RANGE_FILL(int32_t); break;
    default: RANGE_FILL(int64_t); break;
    }
    return ONNORM_OK;
}

/* ---- table ------------------------------------------------------------------------- */

ONN_KERNEL_TABLE(
    generate,
    {ONN_KERNEL("", "Trilu", 14, 1, 2, 1, 1, trilu_infer, trilu_prepare, trilu_run),
     .config = trilu_config, .state_size = sizeof(trilu_cfg), .types = ONN_T_ORDERED_BOOL},
    {ONN_KERNEL("", "EyeLike", 9, 1, 1, 1, 1, eye_infer, NULL, eye_run), .config = eye_config,
     .state_size = sizeof(eye_cfg), .types = EYE_TYPES_9},
    {ONN_KERNEL("", "EyeLike", 22, 1, 1, 1, 1, eye_infer, NULL, eye_run), .config = eye_config,
     .state_size = sizeof(eye_cfg), .types = ONN_T_ORDERED_BOOL, .widens = true},
    {ONN_KERNEL("", "OneHot", 9, 3, 3, 1, 1, onehot_infer, NULL, onehot_run),
     .config = onehot_config, .state_size = sizeof(onehot_cfg), .types = ONEHOT_TYPES},
    /* Not a widening: a negative index, all off at 9, counts from the back at 11. */
    {ONN_KERNEL("", "OneHot", 11, 3, 3, 1, 1, onehot_infer, NULL, onehot_run),
     .config = onehot_config, .state_size = sizeof(onehot_cfg), .types = ONEHOT_TYPES},
    {ONN_KERNEL("", "Range", 11, 3, 3, 1, 1, range_infer, NULL, range_run), .types = RANGE_TYPES});
