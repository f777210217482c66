/*
 * InstanceNormalization, opsets 1, 6 and 22 (22 only widens the types).
 *
 * For each (n, c): mean and population variance over the spatial axes, then
 * y = scale[c] * (x - mean) / sqrt(var + eps) + B[c]. A rank-2 input has no
 * spatial axes, so every slice is one element and y = B[c] exactly.
 */
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>

static onnorm_status in_infer(onn_kctx *ctx)
{
    onnorm_status st = onn_check_float_input(ctx, 0, "input");
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    if (x->rank < 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input must have rank >= 2, got rank %d", x->rank);
    float eps;
    if (!onn_attr_float(ctx->node, "epsilon", 1e-5f, &eps, ctx->err))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s",
                         ctx->err ? ctx->err->message : "bad epsilon");
    if ((st = onn_check_param(ctx, 1, "scale", x->dims[1], x->dtype)) ||
        (st = onn_check_param(ctx, 2, "B", x->dims[1], x->dtype)))
        return st;
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    return ONNORM_OK;
}

static onnorm_status in_run(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    float eps;
    onn_attr_float(ctx->node, "epsilon", 1e-5f, &eps, NULL);
    const int64_t C = x->dims[1];
    const int64_t planes = x->dims[0] * C;
    const int64_t S = onn_dims_numel(x->dims, 2, x->rank);
    const bool stream = onn_stream_output(ctx->out[0]);
    const int nt = onn_threads_for(ctx, planes * S, planes);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        const int64_t c = p % C;
        onn_acc acc;
        double mean, var;
        onn_acc_init(&acc);
        onn_acc_add_auto(x->dtype, x->data, p * S, S, &acc, true);
        onn_acc_result(&acc, &mean, &var);
        double a = onn_load(x->dtype, ctx->in[1]->data, c) / sqrt(var + (double)eps);
        double b = onn_load(x->dtype, ctx->in[2]->data, c);
        onn_affine(x->dtype, x->data, ctx->out[0]->data, p * S, S, mean, a, b, stream ? S : 0);
    }
    return ONNORM_OK;
}

/* bfloat16 arrived with opset 22. */
#define IN_KERNEL(ver)                                                                             \
    {                                                                                              \
        ONN_KERNEL("", "InstanceNormalization", ver, 3, 3, 1, 1, in_infer, NULL, in_run),                \
            .types = (ver) >= 22 ? ONN_T_ALL_FLOATS : ONN_T_HALF_FLOATS, .widens = (ver) == 22,    \
            .inplace = true                                                                        \
    }

const onn_kernel onn_kernels_instancenorm[] = {IN_KERNEL(1), IN_KERNEL(6), IN_KERNEL(22)};
const int onn_kernels_instancenorm_count =
    sizeof onn_kernels_instancenorm / sizeof onn_kernels_instancenorm[0];
