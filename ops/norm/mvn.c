/*
 * MeanVarianceNormalization, opsets 9 and 13 (13 adds bfloat16).
 *
 * Over the axes named by `axes` (default [0, 2, 3]), as the ONNX function
 * body defines it: Y = (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9).
 * The 1e-9 is added to the standard deviation, not to the variance, and
 * there is no epsilon attribute. The variance comes from the statistics
 * core's shifted sums (clamped at 0), which equals E[X^2] - E[X]^2 without
 * its cancellation; a constant slice gives exactly 0.
 */
#include "ops/norm/moments.h"
#include "ops/norm/rview.h"

#include <math.h>

typedef struct mvn_cfg {
    bool reduced[ONNORM_MAX_RANK];
    onn_rview v;
    const onn_moments *mo;
} mvn_cfg;

static onnorm_status mvn_config(onn_kctx *ctx)
{
    mvn_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    static const int64_t dflt[] = {0, 2, 3};
    int64_t axes[ONNORM_MAX_RANK];
    int n;
    onnorm_status st = onn_kattr_ints_upto(ctx, "axes", ONNORM_MAX_RANK, axes, &n);
    if (st) return st;
    if (n < 0) memcpy(axes, dflt, sizeof dflt), n = 3;
    for (int i = 0; i < x->rank; i++)
        cfg->reduced[i] = false;
    for (int k = 0; k < n; k++) {
        int ax;
        if (!onn_normalize_axis(axes[k], x->rank, &ax))
            return onn_kfail(
                ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d%s",
                (long long)axes[k], x->rank,
                onn_kattr_has(ctx, "axes") ? "" : " (the default axes [0, 2, 3] need rank >= 4)");
        cfg->reduced[ax] = true;
    }
    return ONNORM_OK;
}

static onnorm_status mvn_infer(onn_kctx *ctx)
{
    return onn_infer_like_input(ctx, "X");
}

static onnorm_status mvn_prepare(onn_kctx *ctx)
{
    mvn_cfg *cfg = ctx->state;
    return onn_rview_prepare(ctx, &cfg->v, cfg->reduced, &cfg->mo);
}

/* Mean and 1 / (std + 1e-9) over the slice's runs. */
static void mvn_stats(const void *arg, const onn_rview *v, onnorm_dtype t, const void *x,
                      int64_t base, double *mean, double *scale)
{
    const mvn_cfg *cfg = arg;
    onn_acc acc;
    double var;
    onn_acc_init(&acc);
    for (int64_t j = 0; j < v->runs; j++)
        cfg->mo->acc_add(t, x, base + v->roff[j], v->L, &acc, true);
    onn_acc_result(&acc, mean, &var);
    *scale = 1.0 / (sqrt(var) + 1e-9);
}

static onnorm_status mvn_run(onn_kctx *ctx)
{
    const mvn_cfg *cfg = ctx->state;
    onn_rview_normalize(ctx, &cfg->v, cfg->mo, mvn_stats, cfg);
    return ONNORM_OK;
}

#define MVN_KERNEL(ver, mask)                                                                      \
    {                                                                                              \
        ONN_KERNEL("", "MeanVarianceNormalization", ver, 1, 1, 1, 1, mvn_infer, mvn_prepare,       \
                   mvn_run),                                                                       \
            .config = mvn_config, .state_size = sizeof(mvn_cfg), .types = (mask), .inplace = true, \
            .widens = (ver) == 13                                                                  \
    }

ONN_KERNEL_TABLE(mvn, MVN_KERNEL(9, ONN_T_HALF_FLOATS), MVN_KERNEL(13, ONN_T_ALL_FLOATS));
