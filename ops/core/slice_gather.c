/*
 * Slice (1: starts/ends/axes attributes; 10: starts/ends/axes/steps inputs,
 * int32 or int64) and Gather (1; any axis, int32/int64 indices).
 *
 * Slice follows the opset-13 text for every opset: negative starts/ends
 * count from the back, then starts clamp to [0, dim] ([0, dim-1] when
 * stepping backwards) and ends to [0, dim] ([-1, dim-1] backwards), so
 * INT64_MAX / INT64_MIN mean "to the end". Its parameters fix the output
 * shape and must be known while planning.
 *
 * Gather accepts negative indices at every opset (opset 11 wrote down what
 * runtimes already did); an index outside [-s, s-1] fails the run.
 *
 * Both copy element bytes, so every element type is handled alike.
 */
#include "ops/kernel.h"

#include <string.h>

static int kernel_version(const onn_kctx *ctx)
{
    return ctx->kernel->since_version;
}

static bool has_input(const onn_kctx *ctx, int i)
{
    return i < ctx->n_in && ctx->in[i];
}

static onnorm_status check_data(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'data' is missing");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'data' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    return ONNORM_OK;
}

/* dst[i] = src[i * stride] for n elements of esz bytes. Fixed-size memcpy
 * compiles to one load and store per element. */
static void copy_strided(char *dst, const char *src, int64_t n, int64_t stride, size_t esz)
{
#define SG_COPY(W)                                                                                 \
    for (int64_t i = 0; i < n; i++)                                                                \
    memcpy(dst + i * (W), src + i * stride * (W), W)
    switch (esz) {
    case 1: SG_COPY(1); break;
    case 2: SG_COPY(2); break;
    case 4: SG_COPY(4); break;
    case 8: SG_COPY(8); break;
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + i * (ptrdiff_t)esz, src + i * stride * (ptrdiff_t)esz, esz);
    }
#undef SG_COPY
}

/* ---- Slice --------------------------------------------------------------- */

typedef struct sl_plan {
    int64_t start[ONNORM_MAX_RANK], step[ONNORM_MAX_RANK], count[ONNORM_MAX_RANK];
} sl_plan;

/* The parameter lists; *n = -1 for an absent optional one. */
typedef struct sl_args {
    int64_t starts[ONNORM_MAX_RANK], ends[ONNORM_MAX_RANK], axes[ONNORM_MAX_RANK],
        steps[ONNORM_MAX_RANK];
    int n_starts, n_ends, n_axes, n_steps;
} sl_args;

static onnorm_status attr_list(onn_kctx *ctx, const char *name, int64_t *out, int *n)
{
    const onn_attr *a = onn_attr_find(ctx->node, name);
    *n = -1;
    if (!a) return ONNORM_OK;
    if (a->type != ONN_ATTR_INTS)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' must be a list of ints", name);
    if (a->n > ONNORM_MAX_RANK)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "attribute '%s' has more entries (%zu) than the data has axes", name,
                         a->n);
    memcpy(out, a->ints, a->n * sizeof *out);
    *n = (int)a->n;
    return ONNORM_OK;
}

static onnorm_status input_list(onn_kctx *ctx, int i, const char *what, int64_t *out, int *n)
{
    *n = -1;
    if (!has_input(ctx, i)) return ONNORM_OK;
    const onnorm_tensor *t = ctx->in[i];
    if (t->dtype != ONNORM_INT64 && t->dtype != ONNORM_INT32)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s, expected int32 or int64",
                         what, onnorm_dtype_name(t->dtype));
    if (t->rank != 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input '%s' must be 1-D, got rank %d", what,
                         t->rank);
    if (t->dims[0] > ONNORM_MAX_RANK)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "input '%s' has more entries (%lld) than the data has axes", what,
                         (long long)t->dims[0]);
    *n = (int)t->dims[0];
    if (*n == 0) return ONNORM_OK;
    const void *v = onn_input_values(ctx, i, what);
    if (!v) return ONNORM_ERR_UNSUPPORTED;
    for (int k = 0; k < *n; k++)
        out[k] = t->dtype == ONNORM_INT64 ? ((const int64_t *)v)[k] : ((const int32_t *)v)[k];
    return ONNORM_OK;
}

static onnorm_status read_slice_args(onn_kctx *ctx, sl_args *a)
{
    onnorm_status st;
    a->n_steps = -1;
    if (kernel_version(ctx) < 10) {
        if ((st = attr_list(ctx, "starts", a->starts, &a->n_starts)) ||
            (st = attr_list(ctx, "ends", a->ends, &a->n_ends)) ||
            (st = attr_list(ctx, "axes", a->axes, &a->n_axes)))
            return st;
    } else if ((st = input_list(ctx, 1, "starts", a->starts, &a->n_starts)) ||
               (st = input_list(ctx, 2, "ends", a->ends, &a->n_ends)) ||
               (st = input_list(ctx, 3, "axes", a->axes, &a->n_axes)) ||
               (st = input_list(ctx, 4, "steps", a->steps, &a->n_steps))) {
        return st;
    }
    if (a->n_starts < 0 || a->n_ends < 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "'starts' and 'ends' are required");
    int n = a->n_starts;
    if (a->n_ends != n || (a->n_axes >= 0 && a->n_axes != n) ||
        (a->n_steps >= 0 && a->n_steps != n))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "starts, ends, axes and steps must have the same length");
    for (int k = 0; a->n_axes < 0 && k < n; k++)
        a->axes[k] = k;
    for (int k = 0; a->n_steps < 0 && k < n; k++)
        a->steps[k] = 1;
    return ONNORM_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* First index and element count of one axis (see the file comment). */
static void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first,
                       int64_t *count)
{
    if (start < 0) start += dim; /* cannot overflow: dim >= 0 */
    if (end < 0) end += dim;
    *first = 0;
    *count = 0;
    if (dim == 0) return;
    if (step > 0) {
        start = clamp64(start, 0, dim);
        end = clamp64(end, 0, dim);
        if (end > start) *count = 1 + (int64_t)((uint64_t)(end - start - 1) / (uint64_t)step);
    } else {
        start = clamp64(start, 0, dim - 1);
        end = clamp64(end, -1, dim - 1);
        uint64_t back = (uint64_t)0 - (uint64_t)step; /* |step|, even for INT64_MIN */
        if (start > end) *count = 1 + (int64_t)((uint64_t)(start - end - 1) / back);
    }
    *first = start;
}

static onnorm_status slice_plan(onn_kctx *ctx, sl_plan *p)
{
    sl_args a;
    onnorm_status st = read_slice_args(ctx, &a);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    bool seen[ONNORM_MAX_RANK] = {false};
    for (int k = 0; k < x->rank; k++)
        p->start[k] = 0, p->step[k] = 1, p->count[k] = x->dims[k];
    for (int i = 0; i < a.n_starts; i++) {
        int ax;
        if (!onn_normalize_axis(a.axes[i], x->rank, &ax))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                             (long long)a.axes[i], x->rank);
        if (seen[ax]) return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %d is listed twice", ax);
        if (a.steps[i] == 0) return onn_kfail(ctx, ONNORM_ERR_INVALID, "steps[%d] is 0", i);
        seen[ax] = true;
        p->step[ax] = a.steps[i];
        slice_axis(x->dims[ax], a.starts[i], a.ends[i], a.steps[i], &p->start[ax], &p->count[ax]);
    }
    return ONNORM_OK;
}

static onnorm_status slice_infer(onn_kctx *ctx)
{
    sl_plan p;
    onnorm_status st = check_data(ctx);
    if (st || (st = slice_plan(ctx, &p))) return st;
    onn_set_output(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->rank, p.count);
    return ONNORM_OK;
}

static onnorm_status slice_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    sl_plan p;
    onnorm_status st = slice_plan(ctx, &p);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    const size_t esz = onnorm_dtype_size(x->dtype);
    char *dst = ctx->out[0]->data;
    const int r = x->rank;
    if (r == 0) {
        memcpy(dst, x->data, esz);
        return ONNORM_OK;
    }
    int64_t stride[ONNORM_MAX_RANK], s = 1;
    for (int k = r - 1; k >= 0; k--)
        stride[k] = s, s *= x->dims[k];
    const int64_t inner = p.count[r - 1], rows = onn_dims_numel(p.count, 0, r - 1);
    if (inner == 0 || rows == 0) return ONNORM_OK;
    const int nt = onn_threads_for(ctx, rows * inner, rows);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        int64_t rem = row, off = p.start[r - 1];
        for (int k = r - 2; k >= 0; k--) {
            off += (p.start[k] + rem % p.count[k] * p.step[k]) * stride[k];
            rem /= p.count[k];
        }
        copy_strided(dst + (size_t)(row * inner) * esz, (const char *)x->data + (size_t)off * esz,
                     inner, p.step[r - 1], esz);
    }
    return ONNORM_OK;
}

/* ---- Gather -------------------------------------------------------------- */

static int64_t index_at(const onnorm_tensor *t, int64_t i)
{
    return t->dtype == ONNORM_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

static onnorm_status gather_axis(onn_kctx *ctx, int *axis)
{
    const onnorm_tensor *x = ctx->in[0];
    const onn_attr *a = onn_attr_find(ctx->node, "axis");
    if (a && a->type != ONN_ATTR_INT)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'axis' must be an int");
    int64_t v = a ? a->i : 0;
    if (x->rank < 1) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'data' must have rank >= 1");
    if (!onn_normalize_axis(v, x->rank, axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)v, x->rank);
    return ONNORM_OK;
}

static onnorm_status gather_infer(onn_kctx *ctx)
{
    int axis;
    onnorm_status st = check_data(ctx);
    if (st || (st = gather_axis(ctx, &axis))) return st;
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    if (!idx) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'indices' is missing");
    if (idx->dtype != ONNORM_INT64 && idx->dtype != ONNORM_INT32)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input 'indices' has type %s, expected int32 or int64",
                         onnorm_dtype_name(idx->dtype));
    int r = x->rank - 1 + idx->rank, k = 0;
    if (r > ONNORM_MAX_RANK)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "output rank %d exceeds the supported maximum %d", r, ONNORM_MAX_RANK);
    int64_t dims[ONNORM_MAX_RANK];
    for (int i = 0; i < axis; i++)
        dims[k++] = x->dims[i];
    for (int i = 0; i < idx->rank; i++)
        dims[k++] = idx->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        dims[k++] = x->dims[i];
    onn_set_output(ctx, 0, x->dtype, r, dims);
    return ONNORM_OK;
}

/* Every index must lie in [-s, s-1]; checked before any copying starts. */
static onnorm_status check_indices(onn_kctx *ctx, int64_t s)
{
    const onnorm_tensor *idx = ctx->in[1];
    int64_t n = onnorm_tensor_numel(idx);
    for (int64_t j = 0; j < n; j++) {
        int64_t v = index_at(idx, j);
        if (v < -s || v >= s)
            return onn_kfail(
                ctx, ONNORM_ERR_INVALID,
                "index %lld (at position %lld) is out of range for an axis of size %lld",
                (long long)v, (long long)j, (long long)s);
    }
    return ONNORM_OK;
}

static onnorm_status gather_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    int axis;
    onnorm_status st = gather_axis(ctx, &axis);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    const int64_t s = x->dims[axis];
    if ((st = check_indices(ctx, s))) return st;
    const size_t esz = onnorm_dtype_size(x->dtype);
    const int64_t outer = onn_dims_numel(x->dims, 0, axis), n = onnorm_tensor_numel(idx);
    const size_t block = (size_t)onn_dims_numel(x->dims, axis + 1, x->rank) * esz;
    const int64_t tasks = outer * n;
    const char *src = x->data;
    char *dst = ctx->out[0]->data;
    const int nt = onn_threads_for(ctx, onnorm_tensor_numel(ctx->out[0]), tasks);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / n, v = index_at(idx, t % n);
        if (v < 0) v += s;
        memcpy(dst + (size_t)t * block, src + (size_t)(o * s + v) * block, block);
    }
    return ONNORM_OK;
}

const onn_kernel onn_kernels_slice_gather[] = {
    {ONN_KERNEL("", "Slice", 1, 1, 1, 1, 1, slice_infer, NULL, slice_run)},
    {ONN_KERNEL("", "Slice", 10, 3, 5, 1, 1, slice_infer, NULL, slice_run)},
    {ONN_KERNEL("", "Gather", 1, 2, 2, 1, 1, gather_infer, NULL, gather_run)},
};
const int onn_kernels_slice_gather_count =
    sizeof onn_kernels_slice_gather / sizeof onn_kernels_slice_gather[0];
