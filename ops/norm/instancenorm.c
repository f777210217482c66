/*
 * InstanceNormalization, opsets 1, 6 and 22 (22 only widens the types).
 *
 * For each (n, c): mean and population variance over the spatial axes, then
 * y = scale[c] * (x - mean) / sqrt(var + eps) + B[c]. A rank-2 input has no
 * spatial axes, so every slice is one element and y = B[c] exactly.
 */
#include "ops/core/epilogue.h"
#include "ops/core/threadpool.h"
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>

typedef struct in_cfg {
    float epsilon;
    int64_t c, planes, s; /* X viewed as [planes = N * C, S] */
    const onn_moments *mo;
    onn_epilogue ep; /* ai.onnorm's fused activation (NONE for ai.onnx's op) */
} in_cfg;

static onnorm_status in_config(onn_kctx *ctx)
{
    in_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    if (x->rank < 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input must have rank >= 2, got rank %d", x->rank);
    cfg->c = x->dims[1];
    cfg->planes = x->dims[0] * cfg->c;
    cfg->s = onn_dims_numel(x->dims, 2, x->rank);
    cfg->mo = onn_moments_get(onn_isa_active());
    return onn_kattr_float(ctx, "epsilon", 1e-5f, &cfg->epsilon);
}

static onnorm_status in_infer(onn_kctx *ctx)
{
    const in_cfg *cfg = ctx->state;
    return onn_infer_norm(ctx, "input", cfg->c, "scale", "B");
}

/* The arguments of in_run's plane loop. */
typedef struct in_job {
    const in_cfg *cfg;
    const onnorm_tensor *x, *scale, *b;
    onnorm_tensor *y;
    bool stream;
} in_job;

static void in_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const in_job *j = arg;
    const in_cfg *cfg = j->cfg;
    const onnorm_tensor *x = j->x;
    const onnorm_dtype t = x->dtype;
    const int64_t C = cfg->c, S = cfg->s;
    for (int64_t p = p0; p < p1; p++) {
        const int64_t c = p % C;
        onn_acc acc;
        double mean, var;
        onn_acc_init(&acc);
        cfg->mo->acc_add(t, x->data, p * S, S, &acc, true);
        onn_acc_result(&acc, &mean, &var);
        double a = onn_load(t, j->scale->data, c) / sqrt(var + (double)cfg->epsilon);
        double b = onn_load(t, j->b->data, c);
        cfg->mo->affine(t, x->data, j->y->data, p * S, S, mean, a, b, j->stream ? S : 0);
        onn_act_row(cfg->ep.act, cfg->ep.alpha, cfg->ep.beta, (float *)j->y->data + p * S, S);
    }
}

static onnorm_status in_run(onn_kctx *ctx)
{
    const in_cfg *cfg = ctx->state;
    /* A fused activation rereads each plane from cache: no streaming then. */
    const bool stream = onn_stream_output(ctx->out[0]) && cfg->ep.act == ONN_ACT_NONE;
    const int nt = onn_threads_for(ctx, cfg->planes * cfg->s, cfg->planes);
    in_job j = {cfg, ctx->in[0], ctx->in[1], ctx->in[2], ctx->out[0], stream};
    onn_parallel_range(nt, cfg->planes, in_planes, &j);
    return ONNORM_OK;
}

/* bfloat16 arrived with opset 22. */
#define IN_KERNEL(ver)                                                                             \
    {                                                                                              \
        ONN_KERNEL("", "InstanceNormalization", ver, 3, 3, 1, 1, in_infer, NULL, in_run),          \
            .config = in_config, .state_size = sizeof(in_cfg),                                     \
            .types = (ver) >= 22 ? ONN_T_ALL_FLOATS : ONN_T_HALF_FLOATS, .widens = (ver) == 22,    \
            .inplace = true                                                                        \
    }

/* ai.onnorm.InstanceNormalization: the fuse-norm pass's float32
 * InstanceNormalization followed by an activation. */
static onnorm_status in_fused_config(onn_kctx *ctx)
{
    onnorm_status st = in_config(ctx);
    return st ? st : onn_epilogue_config(ctx, &((in_cfg *)ctx->state)->ep);
}

ONN_KERNEL_TABLE(instancenorm, IN_KERNEL(1), IN_KERNEL(6), IN_KERNEL(22),
                 {ONN_KERNEL("ai.onnorm", "InstanceNormalization", 1, 3, 3, 1, 1, in_infer, NULL,
                             in_run),
                  .config = in_fused_config, .state_size = sizeof(in_cfg),
                  .types = ONN_T(ONNORM_FLOAT), .inplace = true});
