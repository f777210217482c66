/*
 * Element-wise and N-D gathers and scatters:
 *
 *   GatherElements    11, 13           any storable type, int32/int64 indices
 *   ScatterElements   11, 13, 16, 18   16: reduction none/add/mul, 18: min/max
 *   Scatter           9                ScatterElements-11 under its old name;
 *                                      refused at opset 11 and later, where
 *                                      the spec deprecates it
 *   GatherND          11, 12, 13       12: batch_dims
 *   ScatterND         11, 13, 16, 18   16: reduction add/mul, 18: min/max
 *
 * Storable types are every fixed-size ONNX type (all ints, bool, float16,
 * bfloat16, float32, float64); strings and complex numbers are refused, and
 * bfloat16 before version 13 (where the spec added it).
 * Gathers and plain scatters copy element bytes. A reduction computes in the
 * element's type: integers wrap (two's complement) instead of overflowing,
 * float16/bfloat16 compute in float32 and round once, and bool is refused
 * with a reduction (the spec gives no meaning to adding booleans).
 *
 * Decisions where the spec is silent:
 *   - Indices of every op may be negative and count from the back of their
 *     axis (GatherElements/ScatterElements/GatherND say so; ScatterND is
 *     treated alike). An index outside [-s, s-1] fails the run with a
 *     message naming it; nothing is written past the output.
 *   - GatherElements and ScatterElements require, on every axis but `axis`,
 *     indices' dim <= data's dim (the elements addressed must exist).
 *   - Scatters apply updates in row-major order of the updates, so with
 *     reduction none a duplicated index keeps the last update, and min/max
 *     of floats give NaN when either side is NaN (numpy's minimum/maximum,
 *     which ONNX's reference uses).
 *   - Scatters run single-threaded: with duplicated indices the order of
 *     updates is part of the result.
 */
#include "ops/core/threadpool.h"
#include "ops/half.h"
#include "ops/kernel.h"

#include <string.h>

/* ---- shared helpers -------------------------------------------------------- */

static onnorm_status check_indices_type(onn_kctx *ctx, int i, bool int64_only)
{
    const onnorm_tensor *t = onn_opt_input(ctx, i);
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'indices' is missing");
    if (t->dtype != ONNORM_INT64 && (int64_only || t->dtype != ONNORM_INT32))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'indices' has type %s, expected %s",
                         onnorm_dtype_name(t->dtype), int64_only ? "int64" : "int32 or int64");
    return ONNORM_OK;
}

static onnorm_status check_same_type(onn_kctx *ctx, int i, const char *what)
{
    const onnorm_tensor *x = ctx->in[0], *u = onn_opt_input(ctx, i);
    if (!u) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    if (u->dtype != x->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s, 'data' has %s", what,
                         onnorm_dtype_name(u->dtype), onnorm_dtype_name(x->dtype));
    return ONNORM_OK;
}

static int64_t index_at(const onnorm_tensor *t, int64_t i)
{
    return t->dtype == ONNORM_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

/* Index v for an axis of size s, made non-negative; false when out of range. */
static bool resolve_index(int64_t v, int64_t s, int64_t *out)
{
    if (v < -s || v >= s) return false;
    *out = v < 0 ? v + s : v;
    return true;
}

static onnorm_status index_error(onn_kctx *ctx, int64_t v, int64_t pos, int64_t s)
{
    return onn_kfail(ctx, ONNORM_ERR_INVALID,
                     "index %lld (at position %lld of 'indices') is out of range for an axis of "
                     "size %lld",
                     (long long)v, (long long)pos, (long long)s);
}

static void copy_elem(char *dst, const char *src, size_t esz)
{
    switch (esz) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, esz); break;
    }
}

static void strides_of(const int64_t *dims, int rank, int64_t *stride)
{
    int64_t s = 1;
    for (int k = rank - 1; k >= 0; k--)
        stride[k] = s, s *= dims[k];
}

/* ---- reductions ------------------------------------------------------------ */

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };
static const char *const red_names[] = {"none", "add", "mul", "max", "min"};

/* dst[i] = dst[i] (op) src[i] for n elements. */
typedef void (*reduce_fn)(void *dst, const void *src, int64_t n, int op);

#define RED_FLOAT_BODY(a, b)                                                                       \
    switch (op) {                                                                                  \
    case RED_ADD: a = a + b; break;                                                                \
    case RED_MUL: a = a * b; break;                                                                \
    case RED_MAX: a = (a != a || b != b) ? a + b : (b > a ? b : a); break;                         \
    case RED_MIN: a = (a != a || b != b) ? a + b : (b < a ? b : a); break;                         \
    default: a = b; break;                                                                         \
    }

#define RED_FLOAT(sfx, T, code, sg)                                                                \
    static void reduce_##sfx(void *dv, const void *sv, int64_t n, int op)                          \
    {                                                                                              \
        T *d = dv;                                                                                 \
        const T *s = sv;                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T a = d[i], b = s[i];                                                                  \
            RED_FLOAT_BODY(a, b)                                                                   \
            d[i] = a;                                                                              \
        }                                                                                          \
    }
ONN_FLOAT_TYPES(RED_FLOAT)

/* Integer add and mul wrap: computed on uint64_t, then narrowed. */
#define RED_INT(sfx, T, code, sg)                                                                  \
    static void reduce_##sfx(void *dv, const void *sv, int64_t n, int op)                          \
    {                                                                                              \
        T *d = dv;                                                                                 \
        const T *s = sv;                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T a = d[i], b = s[i];                                                                  \
            switch (op) {                                                                          \
            case RED_ADD: a = (T)((uint64_t)a + (uint64_t)b); break;                               \
            case RED_MUL: a = (T)((uint64_t)a * (uint64_t)b); break;                               \
            case RED_MAX: a = b > a ? b : a; break;                                                \
            case RED_MIN: a = b < a ? b : a; break;                                                \
            default: a = b; break;                                                                 \
            }                                                                                      \
            d[i] = a;                                                                              \
        }                                                                                          \
    }
ONN_INT_TYPES(RED_INT)

#define RED_HALF(sfx, to_f32, from_f32)                                                            \
    static void reduce_##sfx(void *dv, const void *sv, int64_t n, int op)                          \
    {                                                                                              \
        uint16_t *d = dv;                                                                          \
        const uint16_t *s = sv;                                                                    \
        for (int64_t i = 0; i < n; i++) {                                                          \
            float a = to_f32(d[i]), b = to_f32(s[i]);                                              \
            RED_FLOAT_BODY(a, b)                                                                   \
            d[i] = from_f32(a);                                                                    \
        }                                                                                          \
    }
RED_HALF(f16, onn_f16_to_f32, onn_f32_to_f16)
RED_HALF(bf16, onn_bf16_to_f32, onn_f32_to_bf16)

static reduce_fn reduce_for(onnorm_dtype t)
{
    switch (t) {
#define RED_CASE(sfx, T, code, sg)                                                                 \
    case code: return reduce_##sfx;
        ONN_NUMERIC_TYPES(RED_CASE)
#undef RED_CASE
    case ONNORM_FLOAT16: return reduce_f16;
    case ONNORM_BFLOAT16: return reduce_bf16;
    default: return NULL;
    }
}

/* Reads the reduction attribute as the version allows (16: add/mul, 18:
 * min/max too) and checks that the data type can be reduced. */
static onnorm_status read_reduction(onn_kctx *ctx, int *red)
{
    *red = RED_NONE;
    const int ver = onn_kversion(ctx);
    if (ver < 16) return ONNORM_OK;
    onnorm_status st = onn_kattr_enum(ctx, "reduction", red_names, 5, RED_NONE, red);
    if (st) return st;
    if (ver < 18 && *red >= RED_MAX)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "reduction '%s' needs opset 18 (this node uses version %d)",
                         red_names[*red], ver);
    if (*red != RED_NONE && !reduce_for(ctx->in[0]->dtype))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "reduction '%s' is not defined for type %s",
                         red_names[*red], onnorm_dtype_name(ctx->in[0]->dtype));
    return ONNORM_OK;
}

/* ---- GatherElements, ScatterElements, Scatter ------------------------------ */

typedef struct el_cfg {
    int axis, red;
} el_cfg;

enum { OP_GATHER_EL, OP_SCATTER_EL, OP_SCATTER_OLD };
static const int k_gather_el = OP_GATHER_EL, k_scatter_el = OP_SCATTER_EL,
                 k_scatter_old = OP_SCATTER_OLD;

static int el_op(const onn_kctx *ctx)
{
    return *(const int *)ctx->kernel->data;
}

static onnorm_status el_config(onn_kctx *ctx)
{
    el_cfg *c = ctx->state;
    const int op = el_op(ctx);
    onnorm_status st;
    if (op == OP_SCATTER_OLD && ctx->node->opset >= 11)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "Scatter is deprecated from opset 11 on (the model imports opset %lld); "
                         "use ScatterElements",
                         (long long)ctx->node->opset);
    if ((st = onn_check_storable(ctx, 0, "data")) || (st = check_indices_type(ctx, 1, false)))
        return st;
    if (op != OP_GATHER_EL &&
        ((st = check_same_type(ctx, 2, "updates")) || (st = read_reduction(ctx, &c->red))))
        return st;
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int64_t a;
    if ((st = onn_kattr_int(ctx, "axis", 0, &a))) return st;
    if (x->rank < 1) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'data' must have rank >= 1");
    if (!onn_normalize_axis(a, x->rank, &c->axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)a, x->rank);
    if (idx->rank != x->rank)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "'indices' has rank %d, 'data' has rank %d",
                         idx->rank, x->rank);
    for (int k = 0; k < x->rank; k++)
        if (k != c->axis && idx->dims[k] > x->dims[k])
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "'indices' dim %d is %lld, larger than 'data' dim %lld", k,
                             (long long)idx->dims[k], (long long)x->dims[k]);
    if (op != OP_GATHER_EL) {
        const onnorm_tensor *u = ctx->in[2];
        bool same = u->rank == idx->rank;
        for (int k = 0; same && k < u->rank; k++)
            same = u->dims[k] == idx->dims[k];
        if (!same) {
            char a1[96], a2[96];
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "'updates' has shape %s, 'indices' has %s",
                             onn_shape_str(u->dims, u->rank, a1, sizeof a1),
                             onn_shape_str(idx->dims, idx->rank, a2, sizeof a2));
        }
    }
    return ONNORM_OK;
}

static onnorm_status el_infer(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    if (el_op(ctx) == OP_GATHER_EL)
        onn_set_output(ctx, 0, x->dtype, idx->rank, idx->dims);
    else
        onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    return ONNORM_OK;
}

/* Every index must lie in [-s, s-1]; checked before anything is written. */
static onnorm_status el_check(onn_kctx *ctx, int axis)
{
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    const int64_t n = onnorm_tensor_numel(idx), s = x->dims[axis];
    for (int64_t j = 0; j < n; j++) {
        int64_t v = index_at(idx, j), r;
        if (!resolve_index(v, s, &r)) return index_error(ctx, v, j, s);
    }
    return ONNORM_OK;
}

/* Indices walked row by row (a row: one position on every axis but the
 * last): data's strides, the axis and its size, and indices' dims. */
typedef struct el_walk {
    int rank, axis;
    int64_t xs[ONNORM_MAX_RANK], s;
    const int64_t *idims;
} el_walk;

static void el_walk_init(el_walk *w, const onnorm_tensor *x, const onnorm_tensor *idx, int axis)
{
    w->rank = x->rank;
    w->axis = axis;
    strides_of(x->dims, x->rank, w->xs);
    w->s = x->dims[axis];
    w->idims = idx->dims;
}

/* Data offset of row `row` (over indices' leading rank-1 axes), without the
 * axis term when the axis is one of them. */
static int64_t el_row_base(const el_walk *w, int64_t row)
{
    int64_t off = 0;
    for (int k = w->rank - 2; k >= 0; k--) {
        int64_t i = row % w->idims[k];
        row /= w->idims[k];
        if (k != w->axis) off += i * w->xs[k];
    }
    return off;
}

typedef struct gather_el_job {
    const el_walk *w;
    const onnorm_tensor *idx;
    const char *src;
    char *dst;
    size_t esz;
    int64_t inner;
    int axis;
} gather_el_job;

/* GatherElements for the index rows [r0, r1). */
static void gather_el_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const gather_el_job *jb = arg;
    const el_walk *w = jb->w;
    const size_t esz = jb->esz;
    const int64_t inner = jb->inner;
    const int last = w->rank - 1;
    const bool axis_last = jb->axis == last;
    for (int64_t row = r0; row < r1; row++) {
        const int64_t base = el_row_base(w, row);
        for (int64_t j = 0; j < inner; j++) {
            const int64_t p = row * inner + j;
            int64_t v = index_at(jb->idx, p);
            if (v < 0) v += w->s;
            int64_t off = base + v * w->xs[jb->axis];
            if (!axis_last) off += j * w->xs[last];
            copy_elem(jb->dst + (size_t)p * esz, jb->src + (size_t)off * esz, esz);
        }
    }
}

static onnorm_status el_run(onn_kctx *ctx)
{
    const el_cfg *c = ctx->state;
    const int op = el_op(ctx);
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    onnorm_tensor *y = ctx->out[0];
    if (!y) return ONNORM_OK;
    onnorm_status st = el_check(ctx, c->axis);
    if (st) return st;
    const size_t esz = onnorm_dtype_size(x->dtype);
    el_walk w;
    el_walk_init(&w, x, idx, c->axis);
    const int r = x->rank, last = r - 1;
    const int64_t inner = idx->dims[last], n = onnorm_tensor_numel(idx);
    const int64_t rows = inner ? n / inner : 0;
    const bool axis_last = c->axis == last;
    if (op == OP_GATHER_EL) {
        const int nt = onn_threads_for(ctx, n, rows);
        gather_el_job jb = {&w, idx, x->data, y->data, esz, inner, c->axis};
        onn_parallel_range(nt, rows, gather_el_rows, &jb);
        return ONNORM_OK;
    }
    /* Scatters: the output starts as data, then takes each update in order. */
    if (y->data != x->data) memcpy(y->data, x->data, (size_t)onnorm_tensor_numel(x) * esz);
    const char *upd = ctx->in[2]->data;
    char *dst = y->data;
    const reduce_fn red = c->red != RED_NONE ? reduce_for(x->dtype) : NULL;
    for (int64_t row = 0; row < rows; row++) {
        const int64_t base = el_row_base(&w, row);
        for (int64_t j = 0; j < inner; j++) {
            const int64_t p = row * inner + j;
            int64_t v = index_at(idx, p);
            if (v < 0) v += w.s;
            int64_t off = base + v * w.xs[c->axis];
            if (!axis_last) off += j * w.xs[last];
            if (red)
                red(dst + (size_t)off * esz, upd + (size_t)p * esz, 1, c->red);
            else
                copy_elem(dst + (size_t)off * esz, upd + (size_t)p * esz, esz);
        }
    }
    return ONNORM_OK;
}

/* ---- GatherND, ScatterND ----------------------------------------------------- */

/* data [batch..., addressed k axes..., slice...]; indices [batch...,
 * m..., k]. Each of the batch * m index tuples addresses one slice. */
typedef struct nd_cfg {
    int batch_dims, k, red;
    int64_t batch, m, slice; /* counts: batches, tuples per batch, slice elements */
} nd_cfg;

enum { OP_GATHER_ND, OP_SCATTER_ND };
static const int k_gather_nd = OP_GATHER_ND, k_scatter_nd = OP_SCATTER_ND;

static onnorm_status nd_config(onn_kctx *ctx)
{
    nd_cfg *c = ctx->state;
    const int op = *(const int *)ctx->kernel->data;
    onnorm_status st;
    if ((st = onn_check_storable(ctx, 0, "data")) || (st = check_indices_type(ctx, 1, true)))
        return st;
    if (op == OP_SCATTER_ND &&
        ((st = check_same_type(ctx, 2, "updates")) || (st = read_reduction(ctx, &c->red))))
        return st;
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int64_t b = 0;
    if (op == OP_GATHER_ND && onn_kversion(ctx) >= 12 &&
        (st = onn_kattr_int(ctx, "batch_dims", 0, &b)))
        return st;
    const int r = x->rank, q = idx->rank;
    if (r < 1 || q < 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "'data' and 'indices' must have rank >= 1");
    if (b < 0 || b >= q || b >= r)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "batch_dims %lld must be below the ranks of data (%d) and indices (%d)",
                         (long long)b, r, q);
    const int64_t k = idx->dims[q - 1];
    if (k < 1 || b + k > r)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "the last dim of 'indices' (%lld) must be in [1, %lld] for data of rank "
                         "%d%s",
                         (long long)k, (long long)(r - b), r, b ? " after batch_dims" : "");
    for (int i = 0; i < b; i++)
        if (idx->dims[i] != x->dims[i])
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "batch dim %d differs: 'indices' has %lld, 'data' has %lld", i,
                             (long long)idx->dims[i], (long long)x->dims[i]);
    c->batch_dims = (int)b;
    c->k = (int)k;
    const int out_rank = q - 1 + r - (int)b - (int)k;
    if (out_rank > ONNORM_MAX_RANK)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "output rank %d exceeds the supported maximum %d", out_rank,
                         ONNORM_MAX_RANK);
    c->batch = onn_dims_numel(x->dims, 0, (int)b);
    c->m = onn_dims_numel(idx->dims, (int)b, q - 1);
    c->slice = onn_dims_numel(x->dims, (int)(b + k), r);
    if (op == OP_SCATTER_ND) {
        /* updates = indices.shape[:-1] + data.shape[k:] */
        const onnorm_tensor *u = ctx->in[2];
        int64_t want[2 * ONNORM_MAX_RANK];
        int n = 0;
        for (int i = 0; i < q - 1; i++)
            want[n++] = idx->dims[i];
        for (int i = (int)k; i < r; i++)
            want[n++] = x->dims[i];
        bool same = u->rank == n;
        for (int i = 0; same && i < n; i++)
            same = u->dims[i] == want[i];
        if (!same) {
            char a1[96], a2[160];
            return onn_kfail(
                ctx, ONNORM_ERR_SHAPE, "'updates' has shape %s, expected %s",
                onn_shape_str(u->dims, u->rank, a1, sizeof a1),
                onn_shape_str(want, n > ONNORM_MAX_RANK ? ONNORM_MAX_RANK : n, a2, sizeof a2));
        }
    }
    return ONNORM_OK;
}

static onnorm_status nd_infer(onn_kctx *ctx)
{
    const nd_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    if (*(const int *)ctx->kernel->data == OP_SCATTER_ND) {
        onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
        return ONNORM_OK;
    }
    int64_t dims[ONNORM_MAX_RANK];
    int n = 0;
    for (int i = 0; i < idx->rank - 1; i++)
        dims[n++] = idx->dims[i];
    for (int i = c->batch_dims + c->k; i < x->rank; i++)
        dims[n++] = x->dims[i];
    onn_set_output(ctx, 0, x->dtype, n, dims);
    return ONNORM_OK;
}

/* The offsets (in elements of data) of every tuple's slice into offs
 * (scratch, batch * m entries); fails on an index out of range. */
static onnorm_status nd_offsets(onn_kctx *ctx, int64_t *offs)
{
    const nd_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    const int64_t *iv = idx->data;
    int64_t xs[ONNORM_MAX_RANK];
    strides_of(x->dims, x->rank, xs);
    const int b = c->batch_dims, k = c->k;
    const int64_t batch_stride = b ? xs[b - 1] : 0;
    for (int64_t t = 0; t < c->batch * c->m; t++) {
        int64_t off = (t / c->m) * batch_stride;
        for (int j = 0; j < k; j++) {
            const int64_t v = iv[t * k + j], s = x->dims[b + j];
            int64_t r;
            if (!resolve_index(v, s, &r)) return index_error(ctx, v, t * k + j, s);
            off += r * xs[b + j];
        }
        offs[t] = off;
    }
    return ONNORM_OK;
}

static onnorm_status nd_prepare(onn_kctx *ctx)
{
    const nd_cfg *c = ctx->state;
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)(c->batch * c->m) + 1, sizeof(int64_t), 1, &bytes);
    if (st) return st;
    onn_kscratch_need(ctx, bytes);
    return ONNORM_OK;
}

typedef struct gather_nd_job {
    const int64_t *offs;
    const char *src;
    char *dst;
    size_t esz, block;
} gather_nd_job;

/* GatherND for the index tuples [t0, t1): one slice copied per tuple. */
static void gather_nd_tuples(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const gather_nd_job *j = arg;
    for (int64_t t = t0; t < t1; t++)
        memcpy(j->dst + (size_t)t * j->block, j->src + (size_t)j->offs[t] * j->esz, j->block);
}

static onnorm_status nd_run(onn_kctx *ctx)
{
    const nd_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    if (!y) return ONNORM_OK;
    int64_t *offs = ctx->scratch;
    onnorm_status st = nd_offsets(ctx, offs);
    if (st) return st;
    const size_t esz = onnorm_dtype_size(x->dtype), block = (size_t)c->slice * esz;
    const int64_t tuples = c->batch * c->m;
    if (*(const int *)ctx->kernel->data == OP_GATHER_ND) {
        const int nt = onn_threads_for(ctx, tuples * c->slice, tuples);
        gather_nd_job j = {offs, x->data, y->data, esz, block};
        onn_parallel_range(nt, tuples, gather_nd_tuples, &j);
        return ONNORM_OK;
    }
    if (y->data != x->data) memcpy(y->data, x->data, (size_t)onnorm_tensor_numel(x) * esz);
    const char *upd = ctx->in[2]->data;
    char *dst = y->data;
    const reduce_fn red = c->red != RED_NONE ? reduce_for(x->dtype) : NULL;
    for (int64_t t = 0; t < tuples; t++) {
        if (red)
            red(dst + (size_t)offs[t] * esz, upd + (size_t)t * block, c->slice, c->red);
        else
            memcpy(dst + (size_t)offs[t] * esz, upd + (size_t)t * block, block);
    }
    return ONNORM_OK;
}

#define EL_KERNEL(op, ver, nin, which, wid)                                                        \
    {                                                                                              \
        ONN_KERNEL("", op, ver, nin, nin, 1, 1, el_infer, NULL, el_run),                           \
            .config = el_config, .state_size = sizeof(el_cfg), .data = &which, .widens = wid       \
    }
#define ND_KERNEL(op, ver, nin, which, wid)                                                        \
    {                                                                                              \
        ONN_KERNEL("", op, ver, nin, nin, 1, 1, nd_infer, nd_prepare, nd_run),                     \
            .config = nd_config, .state_size = sizeof(nd_cfg), .data = &which, .widens = wid       \
    }

ONN_KERNEL_TABLE(scatter_gather, EL_KERNEL("GatherElements", 11, 2, k_gather_el, false),
                 EL_KERNEL("GatherElements", 13, 2, k_gather_el, true),
                 EL_KERNEL("Scatter", 9, 3, k_scatter_old, false),
                 EL_KERNEL("ScatterElements", 11, 3, k_scatter_el, false),
                 EL_KERNEL("ScatterElements", 13, 3, k_scatter_el, true),
                 EL_KERNEL("ScatterElements", 16, 3, k_scatter_el, true),
                 EL_KERNEL("ScatterElements", 18, 3, k_scatter_el, true),
                 ND_KERNEL("GatherND", 11, 2, k_gather_nd, false),
                 ND_KERNEL("GatherND", 12, 2, k_gather_nd, true),
                 ND_KERNEL("GatherND", 13, 2, k_gather_nd, true),
                 ND_KERNEL("ScatterND", 11, 3, k_scatter_nd, false),
                 ND_KERNEL("ScatterND", 13, 3, k_scatter_nd, true),
                 ND_KERNEL("ScatterND", 16, 3, k_scatter_nd, true),
                 ND_KERNEL("ScatterND", 18, 3, k_scatter_nd, true));
