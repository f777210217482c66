/*
 * LpNormalization, opsets 1 and 22 (22 adds bfloat16).
 *
 * Along `axis` (default -1): y = x / ||x||_p with p = 1 (sum of |x|) or
 * p = 2 (default). A zero vector gives 0, not NaN, as the spec's text says
 * since ONNX 1.21 for both versions. The norms are sums over the slice's
 * contiguous runs from the statistics core, in double; y = x * (1 / norm)
 * is its affine step.
 */
#include "ops/norm/moments.h"
#include "ops/norm/rview.h"

#include <math.h>

typedef struct lp_cfg {
    int axis;
    int64_t p;
    onn_rview v;
    const onn_moments *mo;
} lp_cfg;

static onnorm_status lp_config(onn_kctx *ctx)
{
    lp_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t a;
    onnorm_status st;
    if ((st = onn_kattr_int(ctx, "axis", -1, &a)) || (st = onn_kattr_int(ctx, "p", 2, &cfg->p)))
        return st;
    if (x->rank < 1 || !onn_normalize_axis(a, x->rank, &cfg->axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)a, x->rank);
    if (cfg->p != 1 && cfg->p != 2)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "p = %lld; LpNormalization defines p = 1 or 2", (long long)cfg->p);
    return ONNORM_OK;
}

static onnorm_status lp_infer(onn_kctx *ctx)
{
    return onn_infer_like_input(ctx, "input");
}

static onnorm_status lp_prepare(onn_kctx *ctx)
{
    lp_cfg *cfg = ctx->state;
    bool reduced[ONNORM_MAX_RANK] = {false};
    reduced[cfg->axis] = true;
    return onn_rview_prepare(ctx, &cfg->v, reduced, &cfg->mo);
}

/* No mean; 1 / ||x||_p, or 0 for a zero vector. */
static void lp_stats(const void *arg, const onn_rview *v, onnorm_dtype t, const void *x,
                     int64_t base, double *mean, double *scale)
{
    const lp_cfg *cfg = arg;
    double norm = 0.0;
    for (int64_t j = 0; j < v->runs; j++)
        norm += cfg->p == 1 ? cfg->mo->sum_abs(t, x, base + v->roff[j], v->L)
                            : cfg->mo->sum_squares(t, x, base + v->roff[j], v->L, false);
    if (cfg->p == 2) norm = sqrt(norm);
    *mean = 0.0;
    *scale = norm != 0.0 ? 1.0 / norm : 0.0;
}

static onnorm_status lp_run(onn_kctx *ctx)
{
    const lp_cfg *cfg = ctx->state;
    onn_rview_normalize(ctx, &cfg->v, cfg->mo, lp_stats, cfg);
    return ONNORM_OK;
}

#define LP_KERNEL(ver, mask)                                                                       \
    {                                                                                              \
        ONN_KERNEL("", "LpNormalization", ver, 1, 1, 1, 1, lp_infer, lp_prepare, lp_run),          \
            .config = lp_config, .state_size = sizeof(lp_cfg), .types = (mask), .inplace = true,   \
            .widens = (ver) == 22                                                                  \
    }

ONN_KERNEL_TABLE(lpnorm, LP_KERNEL(1, ONN_T_HALF_FLOATS), LP_KERNEL(22, ONN_T_ALL_FLOATS));
