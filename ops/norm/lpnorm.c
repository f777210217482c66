/*
 * LpNormalization, opsets 1 and 22 (22 adds bfloat16).
 *
 * Along `axis` (default -1): y = x / ||x||_p with p = 1 (sum of |x|) or
 * p = 2 (default). A zero vector gives 0, not NaN, as the spec's text says
 * since ONNX 1.21 for both versions.
 */
#include "ops/norm/moments.h"
#include "ops/norm/rview.h"

#include <math.h>

static onnorm_status read_cfg(onn_kctx *ctx, int *axis, int64_t *p)
{
    const onnorm_tensor *x = ctx->in[0];
    int64_t a;
    if (!onn_attr_int(ctx->node, "axis", -1, &a, ctx->err) ||
        !onn_attr_int(ctx->node, "p", 2, p, ctx->err))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s",
                         ctx->err ? ctx->err->message : "bad attribute");
    if (x->rank < 1 || !onn_normalize_axis(a, x->rank, axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)a, x->rank);
    if (*p != 1 && *p != 2)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "p = %lld; LpNormalization defines p = 1 or 2", (long long)*p);
    return ONNORM_OK;
}

static onnorm_status lp_infer(onn_kctx *ctx)
{
    onnorm_status st = onn_check_float_input(ctx, 0, "input");
    if (st) return st;
    int axis;
    int64_t p;
    if ((st = read_cfg(ctx, &axis, &p))) return st;
    onn_set_output(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->rank, ctx->in[0]->dims);
    return ONNORM_OK;
}

static onnorm_status lp_run(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    int axis;
    int64_t p;
    onnorm_status st = read_cfg(ctx, &axis, &p);
    if (st) return st;
    bool reduced[ONNORM_MAX_RANK] = {false};
    reduced[axis] = true;
    onn_rview v;
    if (!onn_rview_init(&v, x->dims, x->rank, reduced))
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    const onnorm_dtype t = x->dtype;
    const int nt = onn_threads_for(ctx, v.K * v.R, v.K);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t k = 0; k < v.K; k++) {
        double norm = 0.0;
        for (int64_t r = 0; r < v.R; r++) {
            double e = onn_load(t, x->data, v.koff[k] + v.roff[r]);
            norm += p == 1 ? fabs(e) : e * e;
        }
        if (p == 2) norm = sqrt(norm);
        for (int64_t r = 0; r < v.R; r++) {
            int64_t i = v.koff[k] + v.roff[r];
            onn_store(t, y->data, i, norm != 0.0 ? onn_load(t, x->data, i) / norm : 0.0);
        }
    }
    onn_rview_free(&v);
    return ONNORM_OK;
}

const onn_kernel onn_kernels_lpnorm[] = {
    {ONN_KERNEL("", "LpNormalization", 1, 1, 1, 1, 1, lp_infer, NULL, lp_run), .types = ONN_T_HALF_FLOATS,
     .inplace = true},
    {ONN_KERNEL("", "LpNormalization", 22, 1, 1, 1, 1, lp_infer, NULL, lp_run), .types = ONN_T_ALL_FLOATS,
     .inplace = true, .widens = true},
};
const int onn_kernels_lpnorm_count = 2;
