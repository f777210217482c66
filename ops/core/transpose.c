/*
 * Transpose (opset 1; 13 and 21 only add types): output axis j is input
 * axis perm[j]; perm defaults to the reversed axes.
 *
 * The copy works on element bytes, so every type is handled alike. Before
 * copying, the view is simplified: size-1 axes are dropped and output axes
 * that are also adjacent, in order, in the input are merged. A typical NCHW
 * <-> NHWC permutation then becomes a 3-D copy and an identity permutation
 * a plain memcpy. The output is walked in rows of its innermost axis, rows
 * spread across threads.
 */
#include "ops/kernel.h"

#include <string.h>

typedef struct tp_view {
    int rank;
    int64_t dims[ONNORM_MAX_RANK];   /* output-ordered */
    int64_t stride[ONNORM_MAX_RANK]; /* input stride of each output axis, in elements */
} tp_view;

/* Reads and validates perm; fills the default when absent. */
static onnorm_status read_perm(onn_kctx *ctx, int *perm)
{
    const int r = ctx->in[0]->rank;
    const onn_attr *a = onn_attr_find(ctx->node, "perm");
    bool seen[ONNORM_MAX_RANK] = {false};
    if (!a) {
        for (int k = 0; k < r; k++)
            perm[k] = r - 1 - k;
        return ONNORM_OK;
    }
    if (a->type != ONN_ATTR_INTS)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'perm' must be a list of ints");
    if (a->n != (size_t)r)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "perm has %zu entries, the input has rank %d",
                         a->n, r);
    for (int k = 0; k < r; k++) {
        int64_t p = a->ints[k];
        if (p < 0 || p >= r || seen[p])
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "perm is not a permutation of 0..%d (entry %d is %lld)", r - 1, k,
                             (long long)p);
        seen[p] = true;
        perm[k] = (int)p;
    }
    return ONNORM_OK;
}

/* The simplified copy view (see the file comment). */
static void make_view(const onnorm_tensor *x, const int *perm, tp_view *v)
{
    int64_t in_stride[ONNORM_MAX_RANK];
    int64_t s = 1;
    for (int k = x->rank - 1; k >= 0; k--) {
        in_stride[k] = s;
        s *= x->dims[k];
    }
    v->rank = 0;
    for (int j = 0; j < x->rank; j++) {
        int64_t d = x->dims[perm[j]], st = in_stride[perm[j]];
        if (d == 1) continue;
        int last = v->rank - 1;
        if (last >= 0 && v->stride[last] == st * d) { /* contiguous with the previous axis */
            v->dims[last] *= d;
            v->stride[last] = st;
            continue;
        }
        v->dims[v->rank] = d;
        v->stride[v->rank++] = st;
    }
    if (v->rank == 0) { /* a single element */
        v->dims[0] = 1;
        v->stride[0] = 1;
        v->rank = 1;
    }
}

static onnorm_status transpose_infer(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    int perm[ONNORM_MAX_RANK];
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'data' is missing");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'data' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    onnorm_status st = read_perm(ctx, perm);
    if (st) return st;
    int64_t dims[ONNORM_MAX_RANK];
    for (int k = 0; k < x->rank; k++)
        dims[k] = x->dims[perm[k]];
    onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    return ONNORM_OK;
}

/* dst[i] = src[i * stride] for n elements of esz bytes. Fixed-size memcpy
 * compiles to one load and store per element. */
static void copy_strided(char *dst, const char *src, int64_t n, int64_t stride, size_t esz)
{
#define TP_COPY(W)                                                                                 \
    for (int64_t i = 0; i < n; i++)                                                                \
    memcpy(dst + i * (W), src + i * stride * (W), W)
    switch (esz) {
    case 1: TP_COPY(1); break;
    case 2: TP_COPY(2); break;
    case 4: TP_COPY(4); break;
    case 8: TP_COPY(8); break;
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + i * (ptrdiff_t)esz, src + i * stride * (ptrdiff_t)esz, esz);
    }
#undef TP_COPY
}

static onnorm_status transpose_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    const onnorm_tensor *x = ctx->in[0];
    int perm[ONNORM_MAX_RANK];
    onnorm_status st = read_perm(ctx, perm);
    if (st) return st;
    if (onnorm_tensor_numel(x) == 0) return ONNORM_OK;
    tp_view v;
    make_view(x, perm, &v);
    const size_t esz = onnorm_dtype_size(x->dtype);
    const int r = v.rank;
    const int64_t inner = v.dims[r - 1], rows = onn_dims_numel(v.dims, 0, r - 1);
    const char *src = x->data;
    char *dst = ctx->out[0]->data;
    const int nt = onn_threads_for(ctx, rows * inner, rows);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        int64_t rem = row, off = 0;
        for (int k = r - 2; k >= 0; k--) {
            off += rem % v.dims[k] * v.stride[k];
            rem /= v.dims[k];
        }
        char *d = dst + (size_t)(row * inner) * esz;
        if (v.stride[r - 1] == 1)
            memcpy(d, src + (size_t)off * esz, (size_t)inner * esz);
        else
            copy_strided(d, src + (size_t)off * esz, inner, v.stride[r - 1], esz);
    }
    return ONNORM_OK;
}

const onn_kernel onn_kernels_transpose[] = {
    {ONN_KERNEL("", "Transpose", 1, 1, 1, 1, 1, transpose_infer, NULL, transpose_run)},
};
const int onn_kernels_transpose_count = 1;
