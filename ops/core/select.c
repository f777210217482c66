/*
 * Ops whose output size depends on the input's values:
 *   NonZero   (9, 13)   every numeric type and bool (13 adds bfloat16)
 *   Compress  (9, 11)   any element type; bool condition; optional axis
 *   Unique    (11)      every numeric type and bool; sorted, axis; outputs
 *                       Y, indices, inverse_indices, counts
 *
 * Their infer reads the data with onn_input_values(), so a session plans
 * them (and everything after them) eagerly, with the caller's data in hand.
 * run recomputes what infer found, into buffers sized by it.
 *
 * Decisions where the spec is silent:
 * - NonZero treats a scalar as a one-element vector (as NumPy's nonzero
 *   does): output [1, nnz]. NaN is not zero; -0.0 is.
 * - Compress: a condition shorter than the axis drops the trailing slices
 *   (as the spec says); one longer than the axis may only hold false past
 *   its end (a true there selects nothing that exists, as in NumPy, where
 *   it is an error too). Negative axes are accepted at opset 9 as well.
 * - Unique compares with the total order of ops/core/order.h: -0.0 equals
 *   0.0 and all NaNs are one value, placed after every number (NumPy 1.21+
 *   with equal_nan). With an axis, slices compare lexicographically in
 *   row-major order. Ties keep the first occurrence, whose index is
 *   `indices`. sorted=0 lists the unique values in order of first
 *   occurrence. Unique's infer needs work memory for the sort: it
 *   allocates 5 int64 per slice with malloc and frees it before returning
 *   (the only allocation outside prepare, because the output size is the
 *   result of the sort itself).
 */
#include "ops/core/order.h"

#include <stdlib.h>
#include <string.h>

/* ---- NonZero ------------------------------------------------------------------ */

static onnorm_status nonzero_check(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st) return st;
    if (!onn_order_nonzero(x->dtype))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'X' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    return ONNORM_OK;
}

static int64_t count_nonzero(const onnorm_tensor *x, const void *data)
{
    onn_order_nz_fn nz = onn_order_nonzero(x->dtype);
    int64_t n = onnorm_tensor_numel(x), c = 0;
    for (int64_t i = 0; i < n; i++)
        c += nz(data, i);
    return c;
}

static onnorm_status nonzero_infer(onn_kctx *ctx)
{
    onnorm_status st = nonzero_check(ctx);
    if (st) return st;
    const void *data = onn_input_values(ctx, 0, "X");
    if (!data) return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[2] = {x->rank > 0 ? x->rank : 1, count_nonzero(x, data)};
    onn_set_output(ctx, 0, ONNORM_INT64, 2, dims);
    return ONNORM_OK;
}

/* Column j of the output holds the coordinates of the j-th non-zero element
 * in row-major order. */
static onnorm_status nonzero_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0];
    onn_order_nz_fn nz = onn_order_nonzero(x->dtype);
    const int64_t n = onnorm_tensor_numel(x), nnz = ctx->out[0]->dims[1];
    const int rank = x->rank;
    int64_t *y = ctx->out[0]->data, j = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!nz(x->data, i)) continue;
        if (j == nnz) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the input changed after planning");
        int64_t rem = i;
        for (int d = rank - 1; d >= 0; d--) {
            y[d * nnz + j] = rem % x->dims[d];
            rem /= x->dims[d];
        }
        if (rank == 0) y[j] = 0;
        j++;
    }
    return ONNORM_OK;
}

/* ---- Compress ------------------------------------------------------------------ */

typedef struct compress_cfg {
    bool has_axis;
    int axis;
} compress_cfg;

static onnorm_status compress_config(onn_kctx *ctx)
{
    compress_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *cond = ctx->in[1];
    if (!x || !cond)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "inputs 'input' and 'condition' are required");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'input' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    if (cond->dtype != ONNORM_BOOL || cond->rank != 1)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input 'condition' must be a 1-D bool tensor, got %s of rank %d",
                         onnorm_dtype_name(cond->dtype), cond->rank);
    c->has_axis = onn_kattr_has(ctx, "axis");
    if (c->has_axis) {
        int64_t axis;
        onnorm_status st = onn_kattr_int(ctx, "axis", 0, &axis);
        if (st) return st;
        if (!onn_normalize_axis(axis, x->rank, &c->axis))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                             (long long)axis, x->rank);
    }
    return ONNORM_OK;
}

/* The number of slices selected: true entries among the first `len` of
 * the condition; a true entry past `len` is an error. */
static onnorm_status compress_count(onn_kctx *ctx, const uint8_t *cond, int64_t len, int64_t *count)
{
    const int64_t clen = ctx->in[1]->dims[0];
    *count = 0;
    for (int64_t i = 0; i < clen; i++) {
        if (!cond[i]) continue;
        if (i >= len)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "condition[%lld] is true, but the axis has only %lld entries",
                             (long long)i, (long long)len);
        ++*count;
    }
    return ONNORM_OK;
}

static onnorm_status compress_infer(onn_kctx *ctx)
{
    const compress_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const uint8_t *cond = onn_input_values(ctx, 1, "condition");
    if (!cond) return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    int64_t len = c->has_axis ? x->dims[c->axis] : onnorm_tensor_numel(x), count;
    onnorm_status st = compress_count(ctx, cond, len, &count);
    if (st) return st;
    if (!c->has_axis) {
        onn_set_output(ctx, 0, x->dtype, 1, &count);
    } else {
        int64_t dims[ONNORM_MAX_RANK];
        memcpy(dims, x->dims, sizeof dims);
        dims[c->axis] = count;
        onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    }
    return ONNORM_OK;
}

/* Data viewed as [outer, len, block]: each selected slice's blocks are
 * copied, in order, into [outer, count, block]. */
static onnorm_status compress_run(onn_kctx *ctx)
{
    const compress_cfg *c = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0];
    const uint8_t *cond = ctx->in[1]->data;
    const size_t esz = onnorm_dtype_size(x->dtype);
    int64_t outer = 1, len = onnorm_tensor_numel(x), inner = 1, count;
    if (c->has_axis) {
        outer = onn_dims_numel(x->dims, 0, c->axis);
        len = x->dims[c->axis];
        inner = onn_dims_numel(x->dims, c->axis + 1, x->rank);
    }
    onnorm_status st = compress_count(ctx, cond, len, &count);
    if (st) return st;
    if (outer * count * inner != onnorm_tensor_numel(ctx->out[0]))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the condition changed after planning");
    const size_t block = (size_t)inner * esz;
    const char *src = x->data;
    char *dst = ctx->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < len && i < ctx->in[1]->dims[0]; i++)
            if (cond[i]) {
                memcpy(dst, src + (size_t)(o * len + i) * block, block);
                dst += block;
            }
    return ONNORM_OK;
}

/* ---- Unique -------------------------------------------------------------------- */

typedef struct unique_cfg {
    bool sorted, has_axis;
    int axis;
} unique_cfg;

/* X viewed as [outer, n, inner]: the n slices to deduplicate. */
typedef struct unique_view {
    onn_order_cmp_fn cmp;
    const void *data;
    int64_t outer, n, inner;
} unique_view;

static bool slice_less(const void *ctxv, int64_t a, int64_t b)
{
    const unique_view *v = ctxv;
    for (int64_t o = 0; o < v->outer; o++)
        for (int64_t i = 0; i < v->inner; i++) {
            int c = v->cmp(v->data, (o * v->n + a) * v->inner + i, (o * v->n + b) * v->inner + i);
            if (c) return c < 0;
        }
    return a < b;
}

static bool slice_equal(const unique_view *v, int64_t a, int64_t b)
{
    for (int64_t o = 0; o < v->outer; o++)
        for (int64_t i = 0; i < v->inner; i++)
            if (v->cmp(v->data, (o * v->n + a) * v->inner + i, (o * v->n + b) * v->inner + i))
                return false;
    return true;
}

static bool by_first_index(const void *ctxv, int64_t a, int64_t b)
{
    const int64_t *first = ctxv;
    return first[a] < first[b];
}

/* Work space: 5 arrays of n int64. */
#define UNIQUE_WORK 5

static unique_view unique_view_of(const onn_kctx *ctx, const void *data)
{
    const unique_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    unique_view v = {onn_order_cmp(x->dtype), data, 1, onnorm_tensor_numel(x), 1};
    if (c->has_axis) {
        v.outer = onn_dims_numel(x->dims, 0, c->axis);
        v.n = x->dims[c->axis];
        v.inner = onn_dims_numel(x->dims, c->axis + 1, x->rank);
    }
    return v;
}

/* Groups the n slices. On return, with U unique slices in output order:
 * first[u] is unique u's first index, count[u] its count, and group[j] the
 * output position of slice j. Returns U. */
static int64_t unique_compute(const unique_cfg *c, const unique_view *v, int64_t *work,
                              int64_t **first_out, int64_t **count_out, int64_t **group_out)
{
    const int64_t n = v->n;
    int64_t *idx = work, *tmp = work + n, *group = work + 2 * n, *first = work + 3 * n,
            *count = work + 4 * n;
    for (int64_t j = 0; j < n; j++)
        idx[j] = j;
    onn_order_sort(idx, tmp, n, slice_less, v);
    int64_t u = 0;
    for (int64_t s = 0; s < n; s++) {
        if (s == 0 || !slice_equal(v, idx[s - 1], idx[s])) {
            first[u] = idx[s]; /* the stable sort puts the first occurrence first */
            count[u++] = 0;
        }
        group[idx[s]] = u - 1;
        count[u - 1]++;
    }
    if (!c->sorted && u > 1) {
        /* Order the groups by first occurrence: idx := the permutation,
         * tmp := its inverse, then rewrite first/count/group through it. */
        for (int64_t g = 0; g < u; g++)
            idx[g] = g;
        onn_order_sort(idx, tmp, u, by_first_index, first);
        for (int64_t p = 0; p < u; p++)
            tmp[idx[p]] = p;
        for (int64_t j = 0; j < n; j++)
            group[j] = tmp[group[j]];
        /* Output position p takes group idx[p]'s first index and count. */
        for (int64_t p = 0; p < u; p++)
            tmp[p] = first[idx[p]];
        for (int64_t p = 0; p < u; p++)
            first[p] = tmp[p];
        for (int64_t p = 0; p < u; p++)
            tmp[p] = count[idx[p]];
        for (int64_t p = 0; p < u; p++)
            count[p] = tmp[p];
    }
    *first_out = first;
    *count_out = count;
    *group_out = group;
    return u;
}

static onnorm_status unique_config(onn_kctx *ctx)
{
    unique_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t sorted;
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st || (st = onn_kattr_int(ctx, "sorted", 1, &sorted))) return st;
    c->sorted = sorted != 0;
    c->has_axis = onn_kattr_has(ctx, "axis");
    if (c->has_axis) {
        int64_t axis;
        if ((st = onn_kattr_int(ctx, "axis", 0, &axis))) return st;
        if (!onn_normalize_axis(axis, x->rank, &c->axis))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                             (long long)axis, x->rank);
    }
    return ONNORM_OK;
}

static onnorm_status unique_work_bytes(onn_kctx *ctx, int64_t n, size_t *bytes)
{
    return onn_kbytes(ctx, (size_t)(n > 0 ? n : 1), UNIQUE_WORK, sizeof(int64_t), bytes);
}

static onnorm_status unique_infer(onn_kctx *ctx)
{
    const unique_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const void *data = onn_input_values(ctx, 0, "X");
    if (!data) return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    unique_view v = unique_view_of(ctx, data);
    size_t bytes;
    onnorm_status st = unique_work_bytes(ctx, v.n, &bytes);
    if (st) return st;
    int64_t *work = malloc(bytes), *first, *count, *group;
    if (!work)
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "no memory for %zu bytes of work space", bytes);
    int64_t u = v.n ? unique_compute(c, &v, work, &first, &count, &group) : 0;
    free(work);
    int64_t dims[ONNORM_MAX_RANK];
    if (c->has_axis) {
        memcpy(dims, x->dims, sizeof dims);
        dims[c->axis] = u;
        onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    } else {
        onn_set_output(ctx, 0, x->dtype, 1, &u);
    }
    onn_set_output(ctx, 1, ONNORM_INT64, 1, &u);
    onn_set_output(ctx, 2, ONNORM_INT64, 1, &v.n);
    onn_set_output(ctx, 3, ONNORM_INT64, 1, &u);
    return ONNORM_OK;
}

static onnorm_status unique_prepare(onn_kctx *ctx)
{
    unique_view v = unique_view_of(ctx, NULL);
    size_t bytes;
    onnorm_status st = unique_work_bytes(ctx, v.n, &bytes);
    if (st) return st;
    onn_kscratch_need(ctx, bytes);
    return ONNORM_OK;
}

static onnorm_status unique_run(onn_kctx *ctx)
{
    const unique_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    unique_view v = unique_view_of(ctx, x->data);
    if (v.n == 0) return ONNORM_OK;
    int64_t *first, *count, *group;
    int64_t u = unique_compute(c, &v, ctx->scratch, &first, &count, &group);
    onnorm_tensor *y = ctx->out[0], *yi = onn_opt_output(ctx, 1), *yinv = onn_opt_output(ctx, 2),
                  *yc = onn_opt_output(ctx, 3);
    if (yi && onnorm_tensor_numel(yi) != u)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the input changed after planning");
    if (y) {
        if (onnorm_tensor_numel(y) != v.outer * u * v.inner)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the input changed after planning");
        const size_t block = (size_t)v.inner * onnorm_dtype_size(x->dtype);
        const char *src = x->data;
        char *dst = y->data;
        for (int64_t o = 0; o < v.outer; o++)
            for (int64_t p = 0; p < u; p++)
                memcpy(dst + (size_t)(o * u + p) * block,
                       src + (size_t)(o * v.n + first[p]) * block, block);
    }
    if (yi) memcpy(yi->data, first, (size_t)u * sizeof(int64_t));
    if (yinv) memcpy(yinv->data, group, (size_t)v.n * sizeof(int64_t));
    if (yc) memcpy(yc->data, count, (size_t)u * sizeof(int64_t));
    return ONNORM_OK;
}

/* ---- table ------------------------------------------------------------------------ */

#define NZ_TYPES_9 (ONN_T_ORDERED_BOOL & ~ONN_T(ONNORM_BFLOAT16))

ONN_KERNEL_TABLE(
    select,
    {ONN_KERNEL("", "NonZero", 9, 1, 1, 1, 1, nonzero_infer, NULL, nonzero_run),
     .types = NZ_TYPES_9},
    {ONN_KERNEL("", "NonZero", 13, 1, 1, 1, 1, nonzero_infer, NULL, nonzero_run),
     .types = ONN_T_ORDERED_BOOL, .widens = true},
    {ONN_KERNEL("", "Compress", 9, 2, 2, 1, 1, compress_infer, NULL, compress_run),
     .config = compress_config, .state_size = sizeof(compress_cfg), .types = ONN_T_ORDERED_BOOL},
    {ONN_KERNEL("", "Compress", 11, 2, 2, 1, 1, compress_infer, NULL, compress_run),
     .config = compress_config, .state_size = sizeof(compress_cfg), .types = ONN_T_ORDERED_BOOL,
     .widens = true},
    {ONN_KERNEL("", "Unique", 11, 1, 1, 1, 4, unique_infer, unique_prepare, unique_run),
     .config = unique_config, .state_size = sizeof(unique_cfg), .types = ONN_T_ORDERED_BOOL});
