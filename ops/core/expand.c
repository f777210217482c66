/*
 * Expand (8; 13 only adds types) and ConstantOfShape (9; 20 and 21 only add
 * types).
 *
 * Expand broadcasts its input to `shape` in both directions, numpy style:
 * dims are right-aligned and each pair must match or contain a 1, so the
 * output may be larger than `shape` in any dim. ConstantOfShape fills a
 * tensor of the given shape with its one-element `value` (default float32
 * 0). Both shape inputs fix the output shape and must be known while
 * planning. The index math is self-contained here and copies element bytes,
 * so every element type is handled alike.
 */
#include "ops/core/threadpool.h"
#include "ops/kernel.h"

#include <string.h>

/* The values of a 1-D int64 (or int32) shape input, known at planning. */
static onnorm_status read_shape(onn_kctx *ctx, int i, int64_t *dims, int *n)
{
    const onnorm_tensor *t = i < ctx->n_in ? ctx->in[i] : NULL;
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required shape input is missing");
    if (t->dtype != ONNORM_INT64 && t->dtype != ONNORM_INT32)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "the shape input has type %s, expected int64",
                         onnorm_dtype_name(t->dtype));
    if (t->rank != 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the shape input must be 1-D, got rank %d",
                         t->rank);
    if (t->dims[0] > ONNORM_MAX_RANK)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "a shape of %lld dims exceeds the supported rank %d",
                         (long long)t->dims[0], ONNORM_MAX_RANK);
    *n = (int)t->dims[0];
    if (*n == 0) return ONNORM_OK;
    const void *v = onn_input_values(ctx, i, "shape");
    if (!v) return ONNORM_ERR_UNSUPPORTED;
    for (int k = 0; k < *n; k++) {
        dims[k] = t->dtype == ONNORM_INT64 ? ((const int64_t *)v)[k] : ((const int32_t *)v)[k];
        if (dims[k] < 0)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "shape[%d] = %lld is negative", k,
                             (long long)dims[k]);
    }
    return ONNORM_OK;
}

/* ---- Expand -------------------------------------------------------------- */

static onnorm_status expand_infer(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    int64_t shape[ONNORM_MAX_RANK], dims[ONNORM_MAX_RANK];
    int n;
    char a[128], b[128];
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'input' is missing");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "unsupported type %s", onnorm_dtype_name(x->dtype));
    onnorm_status st = read_shape(ctx, 1, shape, &n);
    if (st) return st;
    const int r = x->rank > n ? x->rank : n;
    for (int k = 0; k < r; k++) {
        int xi = k - (r - x->rank), si = k - (r - n);
        int64_t xd = xi >= 0 ? x->dims[xi] : 1, sd = si >= 0 ? shape[si] : 1;
        if (xd != sd && xd != 1 && sd != 1)
            return onn_kfail(
                ctx, ONNORM_ERR_SHAPE, "input shape %s does not broadcast with shape %s",
                onn_shape_str(x->dims, x->rank, a, sizeof a), onn_shape_str(shape, n, b, sizeof b));
        dims[k] = xd == 1 ? sd : xd;
    }
    onn_set_output(ctx, 0, x->dtype, r, dims);
    return ONNORM_OK;
}

/* The arguments of expand_run's row loop. */
typedef struct expand_job {
    const int64_t *dims, *stride; /* the output's; the input stride of each output axis */
    const char *src;
    char *dst;
    size_t esz;
    int r;
} expand_job;

static void expand_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const expand_job *j = arg;
    const int r = j->r;
    const int64_t *dims = j->dims, *stride = j->stride, inner = dims[r - 1];
    const size_t esz = j->esz;
    for (int64_t row = r0; row < r1; row++) {
        int64_t rem = row, off = 0;
        for (int k = r - 2; k >= 0; k--) {
            off += rem % dims[k] * stride[k];
            rem /= dims[k];
        }
        char *d = j->dst + (size_t)(row * inner) * esz;
        if (stride[r - 1] == 0)
            onn_fill(d, inner, j->src + (size_t)off * esz, esz);
        else
            memcpy(d, j->src + (size_t)off * esz, (size_t)inner * esz);
    }
}

static onnorm_status expand_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    const onnorm_tensor *x = ctx->in[0], *y = ctx->out[0];
    const size_t esz = onnorm_dtype_size(x->dtype);
    const int r = y->rank, lead = y->rank - x->rank;
    if (onnorm_tensor_numel(y) == 0) return ONNORM_OK;
    if (r == 0) {
        memcpy(y->data, x->data, esz);
        return ONNORM_OK;
    }
    /* Input stride of each output axis; 0 where the input is broadcast. */
    int64_t stride[ONNORM_MAX_RANK], s = 1;
    for (int k = r - 1; k >= 0; k--) {
        int64_t xd = k >= lead ? x->dims[k - lead] : 1;
        stride[k] = xd == 1 ? 0 : s;
        s *= xd;
    }
    const int64_t inner = y->dims[r - 1], rows = onn_dims_numel(y->dims, 0, r - 1);
    const int nt = onn_threads_for(ctx, rows * inner, rows);
    expand_job j = {y->dims, stride, x->data, y->data, esz, r};
    onn_parallel_range(nt, rows, expand_rows, &j);
    return ONNORM_OK;
}

/* ---- ConstantOfShape ----------------------------------------------------- */

/* The output's type and the bytes of its fill element. */
typedef struct cos_cfg {
    onnorm_dtype dtype;
    size_t esz;
    unsigned char value[8]; /* the widest element type */
} cos_cfg;

/* The fill value: the one-element 'value' tensor, or float32 0. */
static onnorm_status cos_config(onn_kctx *ctx)
{
    cos_cfg *c = ctx->state;
    const onn_attr *a = onn_attr_find(ctx->node, "value");
    const float zero = 0.0f;
    c->dtype = ONNORM_FLOAT;
    c->esz = sizeof zero;
    memcpy(c->value, &zero, sizeof zero);
    if (!a) return ONNORM_OK;
    if (a->type != ONN_ATTR_TENSOR || !a->t)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'value' must be a tensor");
    if (onnorm_tensor_numel(a->t) != 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "attribute 'value' must hold exactly one element, it holds %lld",
                         (long long)onnorm_tensor_numel(a->t));
    c->dtype = a->t->dtype;
    c->esz = onnorm_dtype_size(c->dtype);
    if (c->esz == 0 || c->esz > sizeof c->value)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "attribute 'value' has unsupported type %s",
                         onnorm_dtype_name(c->dtype));
    memcpy(c->value, a->t->data, c->esz);
    return ONNORM_OK;
}

static onnorm_status cos_infer(onn_kctx *ctx)
{
    const cos_cfg *c = ctx->state;
    int64_t dims[ONNORM_MAX_RANK];
    int n;
    onnorm_status st = read_shape(ctx, 0, dims, &n);
    if (st) return st;
    if (onn_dims_numel(dims, 0, n) < 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the requested shape's element count overflows");
    onn_set_output(ctx, 0, c->dtype, n, dims);
    return ONNORM_OK;
}

static onnorm_status cos_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    const cos_cfg *c = ctx->state;
    onn_fill(ctx->out[0]->data, onnorm_tensor_numel(ctx->out[0]), c->value, c->esz);
    return ONNORM_OK;
}

ONN_KERNEL_TABLE(expand, {ONN_KERNEL("", "Expand", 8, 2, 2, 1, 1, expand_infer, NULL, expand_run)},
                 {ONN_KERNEL("", "ConstantOfShape", 9, 1, 1, 1, 1, cos_infer, NULL, cos_run),
                  .config = cos_config, .state_size = sizeof(cos_cfg)});
