/*
 * GroupNormalization, opsets 18 and 21.
 *
 * The C channels are split into num_groups groups of C/G channels. For each
 * (n, g): mean and population variance over the group's channels and all
 * spatial positions (one contiguous slice in NCHW order), then
 *   opset 18: y = scale[g] * (x - mean) / sqrt(var + eps) + bias[g]
 *   opset 21: y = scale[c] * (x - mean) / sqrt(var + eps) + bias[c]
 * Opset 21's stash_type (1 float, 11 double) names the statistics'
 * precision: float32 data sums in float blocks for a float stash and in
 * double for a double one (see moments.h).
 */
#include "ops/core/epilogue.h"
#include "ops/core/threadpool.h"
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>

typedef struct gn_cfg {
    float epsilon;
    int64_t groups;
    bool per_channel; /* opset 21 */
    onnorm_dtype stash;
    const onn_moments *mo;
    onn_epilogue ep; /* ai.onnorm's fused activation (NONE for ai.onnx's op) */
} gn_cfg;

/* ai.onnorm.GroupNormalization (the fuse-norm pass's output) is
 * GroupNormalization-21 followed by an activation: its table entry's data
 * names the version it reads its attributes as. */
static const int gn_fused_as = 21;

static onnorm_status gn_config(onn_kctx *ctx)
{
    gn_cfg *cfg = ctx->state;
    int64_t stash = 1;
    onnorm_status st;
    cfg->per_channel =
        (ctx->kernel->data ? *(const int *)ctx->kernel->data : onn_kversion(ctx)) >= 21;
    if ((st = onn_kattr_require(ctx, "num_groups")) ||
        (st = onn_kattr_float(ctx, "epsilon", 1e-5f, &cfg->epsilon)) ||
        (st = onn_kattr_int(ctx, "num_groups", 0, &cfg->groups)) ||
        (st = onn_kattr_int(ctx, "stash_type", 1, &stash)))
        return st;
    if (cfg->per_channel && !onn_is_norm_type((onnorm_dtype)stash))
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "stash_type %lld is not a float type (1, 10, 11 or 16)", (long long)stash);
    cfg->stash = (onnorm_dtype)stash;
    cfg->mo = onn_moments_get(onn_isa_active());
    const onnorm_tensor *x = ctx->in[0];
    if (x->rank < 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X must have rank >= 2, got rank %d", x->rank);
    if (cfg->groups <= 0 || x->dims[1] % cfg->groups != 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "num_groups %lld must be positive and divide the %lld channels",
                         (long long)cfg->groups, (long long)x->dims[1]);
    return ONNORM_OK;
}

static onnorm_status gn_infer(onn_kctx *ctx)
{
    const gn_cfg *cfg = ctx->state;
    return onn_infer_norm(ctx, "X", cfg->per_channel ? ctx->in[0]->dims[1] : cfg->groups, "scale",
                          "bias");
}

/* The arguments of gn_run's slice loop. */
typedef struct gn_job {
    const gn_cfg *cfg;
    const onnorm_tensor *x;
    onnorm_tensor *y;
    const void *scale, *bias;
    int64_t cpg, S; /* channels per group, spatial size */
    bool stream;
} gn_job;

static void gn_slices(void *arg, int64_t s0, int64_t s1, int worker)
{
    (void)worker;
    const gn_job *j = arg;
    const gn_cfg *cfg = j->cfg;
    const onnorm_tensor *x = j->x;
    const onnorm_dtype t = x->dtype;
    const int64_t G = cfg->groups, cpg = j->cpg, S = j->S;
    for (int64_t sl = s0; sl < s1; sl++) {
        const int64_t g = sl % G, base = sl * cpg * S;
        onn_acc acc;
        double mean, var;
        onn_acc_init(&acc);
        cfg->mo->acc_add(t, x->data, base, cpg * S, &acc, cfg->stash != ONNORM_DOUBLE);
        onn_acc_result(&acc, &mean, &var);
        const double inv = 1.0 / sqrt(var + (double)cfg->epsilon);
        for (int64_t k = 0; k < cpg; k++) {
            const int64_t pidx = cfg->per_channel ? g * cpg + k : g;
            const double a = onn_load(t, j->scale, pidx) * inv, b = onn_load(t, j->bias, pidx);
            cfg->mo->affine(t, x->data, j->y->data, base + k * S, S, mean, a, b,
                            j->stream ? cpg * S : 0);
        }
        onn_act_row(cfg->ep.act, cfg->ep.alpha, cfg->ep.beta, (float *)j->y->data + base, cpg * S);
    }
}

static onnorm_status gn_run(onn_kctx *ctx)
{
    const gn_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const int64_t C = x->dims[1], G = cfg->groups, cpg = C / G;
    const int64_t S = onn_dims_numel(x->dims, 2, x->rank);
    const int64_t slices = x->dims[0] * G;
    /* A fused activation rereads each slice from cache: no streaming then. */
    const bool stream = onn_stream_output(ctx->out[0]) && cfg->ep.act == ONN_ACT_NONE;
    const int nt = onn_threads_for(ctx, slices * cpg * S, slices);
    gn_job j = {cfg, x, ctx->out[0], ctx->in[1]->data, ctx->in[2]->data, cpg, S, stream};
    onn_parallel_range(nt, slices, gn_slices, &j);
    return ONNORM_OK;
}

#define GN_KERNEL(ver)                                                                             \
    {                                                                                              \
        ONN_KERNEL("", "GroupNormalization", ver, 3, 3, 1, 1, gn_infer, NULL, gn_run),             \
            .config = gn_config, .state_size = sizeof(gn_cfg), .types = ONN_T_ALL_FLOATS,          \
            .inplace = true                                                                        \
    }

static onnorm_status gn_fused_config(onn_kctx *ctx)
{
    onnorm_status st = gn_config(ctx);
    return st ? st : onn_epilogue_config(ctx, &((gn_cfg *)ctx->state)->ep);
}

ONN_KERNEL_TABLE(groupnorm, GN_KERNEL(18), GN_KERNEL(21),
                 {ONN_KERNEL("ai.onnorm", "GroupNormalization", 1, 3, 3, 1, 1, gn_infer, NULL,
                             gn_run),
                  .config = gn_fused_config, .state_size = sizeof(gn_cfg), .data = &gn_fused_as,
                  .types = ONN_T(ONNORM_FLOAT), .inplace = true});
