/*
 * Transpose (opset 1; 13 and 21 only add types): output axis j is input
 * axis perm[j]; perm defaults to the reversed axes.
 *
 * The copy works on element bytes, so every type is handled alike. Config
 * reads perm; prepare simplifies the view once for the input's shape:
 * size-1 axes are dropped and output axes that are also adjacent, in order,
 * in the input are merged.
 * A typical NCHW <-> NHWC permutation then becomes a 3-D copy and an
 * identity permutation a plain memcpy. Run walks the output in rows of its
 * innermost axis, rows spread across threads.
 */
#include "ops/kernel.h"

#include <string.h>

/* perm and the simplified copy view (see the file comment). */
typedef struct tp_cfg {
    int perm[ONNORM_MAX_RANK];
    int rank;
    int64_t dims[ONNORM_MAX_RANK];   /* output-ordered */
    int64_t stride[ONNORM_MAX_RANK]; /* input stride of each output axis, in elements */
    int64_t rows, inner;             /* rows of the innermost axis (0 when empty), their length */
    size_t esz;
} tp_cfg;

/* Reads and validates perm; fills the default when absent. */
static onnorm_status read_perm(onn_kctx *ctx, int *perm)
{
    const int r = ctx->in[0]->rank;
    int64_t p[ONNORM_MAX_RANK];
    bool present, seen[ONNORM_MAX_RANK] = {false};
    onnorm_status st = onn_kattr_ints(ctx, "perm", r, p, &present);
    if (st) return st;
    /* onn_kattr_ints reads an empty list as absent; it permutes no axes, so
     * it is only valid for a scalar. */
    if (!present && r > 0 && onn_kattr_has(ctx, "perm"))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "perm has 0 entries, the input has rank %d", r);
    for (int k = 0; !present && k < r; k++)
        perm[k] = r - 1 - k;
    for (int k = 0; present && k < r; k++) {
        if (p[k] < 0 || p[k] >= r || seen[p[k]])
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "perm is not a permutation of 0..%d (entry %d is %lld)", r - 1, k,
                             (long long)p[k]);
        seen[p[k]] = true;
        perm[k] = (int)p[k];
    }
    return ONNORM_OK;
}

/* The view for x's shape and v->perm, fixed for the plan. */
static void make_view(const onnorm_tensor *x, tp_cfg *v)
{
    const int *perm = v->perm;
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
    v->inner = v->dims[v->rank - 1];
    /* An empty tensor has nothing to copy (and its strides mean nothing). */
    v->rows = onnorm_tensor_numel(x) == 0 ? 0 : onn_dims_numel(v->dims, 0, v->rank - 1);
    v->esz = onnorm_dtype_size(x->dtype);
}

static onnorm_status transpose_config(onn_kctx *ctx)
{
    tp_cfg *v = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'data' is missing");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'data' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    return read_perm(ctx, v->perm);
}

static onnorm_status transpose_infer(onn_kctx *ctx)
{
    const tp_cfg *v = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK];
    for (int k = 0; k < x->rank; k++)
        dims[k] = x->dims[v->perm[k]];
    onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    return ONNORM_OK;
}

/* The view needs x's element count to fit, which planning has checked by now. */
static onnorm_status transpose_prepare(onn_kctx *ctx)
{
    make_view(ctx->in[0], ctx->state);
    return ONNORM_OK;
}

static onnorm_status transpose_run(onn_kctx *ctx)
{
    const tp_cfg *v = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    const size_t esz = v->esz;
    const int r = v->rank;
    const int64_t inner = v->inner, rows = v->rows;
    const char *src = ctx->in[0]->data;
    char *dst = ctx->out[0]->data;
    const int nt = onn_threads_for(ctx, rows * inner, rows);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        int64_t rem = row, off = 0;
        for (int k = r - 2; k >= 0; k--) {
            off += rem % v->dims[k] * v->stride[k];
            rem /= v->dims[k];
        }
        char *d = dst + (size_t)(row * inner) * esz;
        if (v->stride[r - 1] == 1)
            memcpy(d, src + (size_t)off * esz, (size_t)inner * esz);
        else
            onn_copy_strided(d, src + (size_t)off * esz, inner, v->stride[r - 1], esz);
    }
    return ONNORM_OK;
}

ONN_KERNEL_TABLE(transpose, {ONN_KERNEL("", "Transpose", 1, 1, 1, 1, 1, transpose_infer,
                                        transpose_prepare, transpose_run),
                             .config = transpose_config, .state_size = sizeof(tp_cfg)});
