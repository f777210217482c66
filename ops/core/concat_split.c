/*
 * Concat (1: axis defaults to 1; 4: axis required; 11: negative axis) and
 * Split (1: split input or attribute; 2: split attribute; 13: split input;
 * 18: num_outputs attribute, last chunk possibly smaller).
 *
 * Both view tensors as [outer, axis, inner] and move whole [axis-part x
 * inner] blocks with memcpy, so every element type is handled alike.
 * Negative axes are accepted at every opset. The split sizes must be known
 * while planning: they fix the output shapes.
 */
#include "ops/kernel.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int kernel_version(const onn_kctx *ctx)
{
    return ctx->kernel->since_version;
}

static bool has_input(const onn_kctx *ctx, int i)
{
    return i < ctx->n_in && ctx->in[i];
}

static onnorm_status attr_int(onn_kctx *ctx, const char *name, int64_t dflt, bool required,
                              int64_t *out)
{
    const onn_attr *a = onn_attr_find(ctx->node, name);
    if (!a) {
        if (required)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "required attribute '%s' is missing", name);
        *out = dflt;
        return ONNORM_OK;
    }
    if (a->type != ONN_ATTR_INT)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' must be an int", name);
    *out = a->i;
    return ONNORM_OK;
}

static onnorm_status get_axis(onn_kctx *ctx, int64_t dflt, bool required, int rank, int *axis)
{
    int64_t a = 0;
    onnorm_status st = attr_int(ctx, "axis", dflt, required, &a);
    if (st) return st;
    if (!onn_normalize_axis(a, rank, axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)a, rank);
    return ONNORM_OK;
}

/* ---- Concat -------------------------------------------------------------- */

static onnorm_status concat_axis(onn_kctx *ctx, int *axis)
{
    const onnorm_tensor *x = ctx->in[0];
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "input 0 is missing");
    if (x->rank < 1) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "cannot concatenate scalars");
    bool v1 = kernel_version(ctx) < 4;
    return get_axis(ctx, 1, !v1, x->rank, axis);
}

/* Input i must match input 0 in type, rank and every dim but the axis. */
static onnorm_status check_concat_input(onn_kctx *ctx, int i, int axis)
{
    const onnorm_tensor *x = ctx->in[0], *t = ctx->in[i];
    char a[128], b[128];
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "input %d is missing", i);
    if (t->dtype != x->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input %d has type %s, input 0 has %s", i,
                         onnorm_dtype_name(t->dtype), onnorm_dtype_name(x->dtype));
    bool ok = t->rank == x->rank;
    for (int k = 0; ok && k < x->rank; k++)
        ok = k == axis || t->dims[k] == x->dims[k];
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input %d of shape %s does not fit input 0 of shape %s on axis %d", i,
                         onn_shape_str(t->dims, t->rank, a, sizeof a),
                         onn_shape_str(x->dims, x->rank, b, sizeof b), axis);
    return ONNORM_OK;
}

static onnorm_status concat_infer(onn_kctx *ctx)
{
    int axis;
    onnorm_status st = concat_axis(ctx, &axis);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "unsupported type %s", onnorm_dtype_name(x->dtype));
    int64_t dims[ONNORM_MAX_RANK], total = 0;
    for (int i = 0; i < ctx->n_in; i++) {
        if ((st = check_concat_input(ctx, i, axis))) return st;
        if (ctx->in[i]->dims[axis] > INT64_MAX - total)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the concatenated axis overflows");
        total += ctx->in[i]->dims[axis];
    }
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = total;
    onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    return ONNORM_OK;
}

static onnorm_status concat_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    int axis;
    onnorm_status st = concat_axis(ctx, &axis);
    if (st) return st;
    const onnorm_tensor *y = ctx->out[0];
    const size_t esz = onnorm_dtype_size(y->dtype);
    const int64_t outer = onn_dims_numel(y->dims, 0, axis);
    /* Bytes of one [axis x inner] block of the output. */
    const size_t row = (size_t)onn_dims_numel(y->dims, axis, y->rank) * esz;
    const int nt = onn_threads_for(ctx, onnorm_tensor_numel(y), outer);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t o = 0; o < outer; o++) {
        char *dst = (char *)y->data + (size_t)o * row;
        for (int i = 0; i < ctx->n_in; i++) {
            const onnorm_tensor *t = ctx->in[i];
            size_t block = (size_t)onn_dims_numel(t->dims, axis, t->rank) * esz;
            memcpy(dst, (const char *)t->data + (size_t)o * block, block);
            dst += block;
        }
    }
    return ONNORM_OK;
}

/* ---- Split --------------------------------------------------------------- */

/* Sizes from the 'split' input: one int64 per output, known at planning. */
static onnorm_status split_from_input(onn_kctx *ctx, int64_t *sizes)
{
    const onnorm_tensor *t = ctx->in[1];
    if (t->dtype != ONNORM_INT64 && t->dtype != ONNORM_INT32)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'split' has type %s, expected int64",
                         onnorm_dtype_name(t->dtype));
    if (t->rank != 1 || t->dims[0] != ctx->n_out)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'split' must hold one size per output (%d)",
                         ctx->n_out);
    const void *v = onn_input_values(ctx, 1, "split");
    if (!v) return ONNORM_ERR_UNSUPPORTED;
    for (int k = 0; k < ctx->n_out; k++)
        sizes[k] = t->dtype == ONNORM_INT64 ? ((const int64_t *)v)[k] : ((const int32_t *)v)[k];
    return ONNORM_OK;
}

static onnorm_status split_from_attr(onn_kctx *ctx, const onn_attr *a, int64_t *sizes)
{
    if (a->type != ONN_ATTR_INTS)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'split' must be a list of ints");
    if (a->n != (size_t)ctx->n_out)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'split' has %zu sizes for %d outputs",
                         a->n, ctx->n_out);
    memcpy(sizes, a->ints, a->n * sizeof *sizes);
    return ONNORM_OK;
}

/* Split-18's num_outputs: chunks of ceil(dim / n), the last one smaller. */
static onnorm_status split_by_count(onn_kctx *ctx, int64_t n, int64_t dim, int64_t *sizes)
{
    if (n != ctx->n_out)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "num_outputs is %lld but the node has %d outputs",
                         (long long)n, ctx->n_out);
    int64_t chunk = dim / n + (dim % n != 0);
    for (int k = 0; k < n; k++)
        sizes[k] = chunk;
    sizes[n - 1] = dim - chunk * (n - 1);
    if (sizes[n - 1] < 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "an axis of size %lld cannot be split into %lld chunks of %lld",
                         (long long)dim, (long long)n, (long long)chunk);
    return ONNORM_OK;
}

static onnorm_status split_equal(onn_kctx *ctx, int64_t dim, int64_t *sizes)
{
    if (dim % ctx->n_out != 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "an axis of size %lld does not split into %d equal parts", (long long)dim,
                         ctx->n_out);
    for (int k = 0; k < ctx->n_out; k++)
        sizes[k] = dim / ctx->n_out;
    return ONNORM_OK;
}

/* Where the sizes come from depends on the opset (see the file comment). */
static onnorm_status split_choose(onn_kctx *ctx, int64_t dim, int64_t *sizes)
{
    int ver = kernel_version(ctx);
    const onn_attr *attr = onn_attr_find(ctx->node, "split");
    bool input = has_input(ctx, 1) && (ver == 1 || ver >= 13);
    if (input) return split_from_input(ctx, sizes);
    if (attr && ver < 13) return split_from_attr(ctx, attr, sizes);
    if (ver >= 18 && onn_attr_find(ctx->node, "num_outputs")) {
        int64_t n = 0;
        onnorm_status st = attr_int(ctx, "num_outputs", 0, true, &n);
        return st ? st : split_by_count(ctx, n, dim, sizes);
    }
    return split_equal(ctx, dim, sizes);
}

/* The size of every output along the axis, validated; *sizes is malloc'ed. */
static onnorm_status split_sizes(onn_kctx *ctx, int *axis, int64_t **sizes)
{
    const onnorm_tensor *x = ctx->in[0];
    *sizes = NULL;
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'input' is missing");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "unsupported type %s", onnorm_dtype_name(x->dtype));
    if (kernel_version(ctx) >= 18 && has_input(ctx, 1) && onn_attr_find(ctx->node, "num_outputs"))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "give either the 'split' input or num_outputs, not both");
    onnorm_status st = get_axis(ctx, 0, false, x->rank, axis);
    if (st) return st;
    int64_t *s = malloc((size_t)ctx->n_out * sizeof *s);
    if (!s) return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    const int64_t dim = x->dims[*axis];
    int64_t sum = 0;
    st = split_choose(ctx, dim, s);
    for (int k = 0; !st && k < ctx->n_out; k++) {
        if (s[k] < 0 || s[k] > dim - sum)
            st = onn_kfail(ctx, ONNORM_ERR_SHAPE,
                           "split sizes must be >= 0 and add up to the axis size %lld",
                           (long long)dim);
        else
            sum += s[k];
    }
    if (!st && sum != dim)
        st = onn_kfail(ctx, ONNORM_ERR_SHAPE, "split sizes add up to %lld, the axis has size %lld",
                       (long long)sum, (long long)dim);
    if (st) {
        free(s);
        return st;
    }
    *sizes = s;
    return ONNORM_OK;
}

static onnorm_status split_infer(onn_kctx *ctx)
{
    int axis;
    int64_t *sizes;
    onnorm_status st = split_sizes(ctx, &axis, &sizes);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    for (int k = 0; k < ctx->n_out; k++) {
        dims[axis] = sizes[k];
        onn_set_output(ctx, k, x->dtype, x->rank, dims);
    }
    free(sizes);
    return ONNORM_OK;
}

static onnorm_status split_run(onn_kctx *ctx)
{
    int axis;
    int64_t *sizes;
    onnorm_status st = split_sizes(ctx, &axis, &sizes);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    const size_t esz = onnorm_dtype_size(x->dtype);
    const int64_t outer = onn_dims_numel(x->dims, 0, axis);
    const size_t inner = (size_t)onn_dims_numel(x->dims, axis + 1, x->rank) * esz;
    const size_t row = (size_t)x->dims[axis] * inner;
    const int nt = onn_threads_for(ctx, onnorm_tensor_numel(x), outer);
    size_t offset = 0;
    for (int k = 0; k < ctx->n_out; k++) {
        const size_t block = (size_t)sizes[k] * inner;
        onnorm_tensor *y = ctx->out[k];
        if (y) {
            const char *src = (const char *)x->data + offset;
            char *dst = y->data;
#pragma omp parallel for num_threads(nt) schedule(static)
            for (int64_t o = 0; o < outer; o++)
                memcpy(dst + (size_t)o * block, src + (size_t)o * row, block);
        }
        offset += block;
    }
    free(sizes);
    return ONNORM_OK;
}

const onn_kernel onn_kernels_concat_split[] = {
    {ONN_KERNEL("", "Concat", 1, 1, INT_MAX, 1, 1, concat_infer, NULL, concat_run)},
    {ONN_KERNEL("", "Concat", 4, 1, INT_MAX, 1, 1, concat_infer, NULL, concat_run)},
    {ONN_KERNEL("", "Split", 1, 1, 2, 1, INT_MAX, split_infer, NULL, split_run)},
    {ONN_KERNEL("", "Split", 2, 1, 1, 1, INT_MAX, split_infer, NULL, split_run)},
    {ONN_KERNEL("", "Split", 13, 1, 2, 1, INT_MAX, split_infer, NULL, split_run)},
    {ONN_KERNEL("", "Split", 18, 1, 2, 1, INT_MAX, split_infer, NULL, split_run)},
};
const int onn_kernels_concat_split_count =
    sizeof onn_kernels_concat_split / sizeof onn_kernels_concat_split[0];
