/*
 * MeanVarianceNormalization, opsets 9 and 13 (13 adds bfloat16).
 *
 * Over the axes named by `axes` (default [0, 2, 3]), as the ONNX function
 * body defines it: Y = (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9).
 * The 1e-9 is added to the standard deviation, not to the variance, and
 * there is no epsilon attribute. The variance here comes from shifted sums
 * in double (clamped at 0), which equals E[X^2] - E[X]^2 without its
 * cancellation; a constant slice gives exactly 0.
 */
#include "ops/norm/moments.h"
#include "ops/norm/rview.h"

#include <math.h>
#include <stdlib.h>

static onnorm_status read_axes(onn_kctx *ctx, bool *reduced)
{
    const onnorm_tensor *x = ctx->in[0];
    static const int64_t dflt[] = {0, 2, 3};
    const onn_attr *a = onn_attr_find(ctx->node, "axes");
    if (a && a->type != ONN_ATTR_INTS)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'axes' must be a list of ints");
    const int64_t *axes = a ? a->ints : dflt;
    size_t n = a ? a->n : 3;
    for (int i = 0; i < x->rank; i++)
        reduced[i] = false;
    for (size_t k = 0; k < n; k++) {
        int ax;
        if (!onn_normalize_axis(axes[k], x->rank, &ax))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d%s",
                             (long long)axes[k], x->rank,
                             a ? "" : " (the default axes [0, 2, 3] need rank >= 4)");
        reduced[ax] = true;
    }
    return ONNORM_OK;
}

static onnorm_status mvn_infer(onn_kctx *ctx)
{
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st) return st;
    bool reduced[ONNORM_MAX_RANK];
    if ((st = read_axes(ctx, reduced))) return st;
    onn_set_output(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->rank, ctx->in[0]->dims);
    return ONNORM_OK;
}

static onnorm_status mvn_run(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    bool reduced[ONNORM_MAX_RANK];
    onnorm_status st = read_axes(ctx, reduced);
    if (st) return st;
    onn_rview v;
    if (!onn_rview_init(&v, x->dims, x->rank, reduced))
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    const onnorm_dtype t = x->dtype;
    const int nt = onn_threads_for(ctx, v.K * v.R, v.K);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t k = 0; k < v.K; k++) {
        const int64_t base = v.koff[k];
        double shift = v.R ? onn_load(t, x->data, base + v.roff[0]) : 0.0, s1 = 0, s2 = 0;
        for (int64_t r = 0; r < v.R; r++) {
            double d = onn_load(t, x->data, base + v.roff[r]) - shift;
            s1 += d, s2 += d * d;
        }
        double m = v.R ? s1 / (double)v.R : 0.0, var = v.R ? s2 / (double)v.R - m * m : 0.0;
        double mean = shift + m, denom = sqrt(var > 0 ? var : 0) + 1e-9;
        for (int64_t r = 0; r < v.R; r++) {
            int64_t i = base + v.roff[r];
            onn_store(t, y->data, i, (onn_load(t, x->data, i) - mean) / denom);
        }
    }
    onn_rview_free(&v);
    return ONNORM_OK;
}

const onn_kernel onn_kernels_mvn[] = {
    {ONN_KERNEL("", "MeanVarianceNormalization", 9, 1, 1, 1, 1, mvn_infer, NULL, mvn_run),
     .types = ONN_T_HALF_FLOATS, .inplace = true},
    {ONN_KERNEL("", "MeanVarianceNormalization", 13, 1, 1, 1, 1, mvn_infer, NULL, mvn_run),
     .types = ONN_T_ALL_FLOATS, .inplace = true, .widens = true},
};
const int onn_kernels_mvn_count = 2;
