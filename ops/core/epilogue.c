/* Reading a fused activation from a node's attributes; see epilogue.h. */
#include "ops/core/epilogue.h"

#include <math.h>

onnorm_status onn_epilogue_config(onn_kctx *ctx, onn_epilogue *ep)
{
    static const char *const names[] = {"Relu",      "Clip",    "LeakyRelu", "HardSigmoid",
                                        "HardSwish", "Sigmoid", "SiLU",      "Tanh"};
    static const onn_act codes[] = {ONN_ACT_RELU,         ONN_ACT_CLIP,       ONN_ACT_LEAKY_RELU,
                                    ONN_ACT_HARD_SIGMOID, ONN_ACT_HARD_SWISH, ONN_ACT_SIGMOID,
                                    ONN_ACT_SILU,         ONN_ACT_TANH};
    int a = -1;
    onnorm_status st = onn_kattr_enum(ctx, "activation", names, 8, -1, &a);
    if (st) return st;
    ep->act = a < 0 ? ONN_ACT_NONE : codes[a];
    /* The defaults of the operators the activation replaces. */
    switch (ep->act) {
    case ONN_ACT_LEAKY_RELU: ep->alpha = 0.01f, ep->beta = 0.0f; break;
    case ONN_ACT_HARD_SIGMOID: ep->alpha = 0.2f, ep->beta = 0.5f; break;
    default: ep->alpha = -INFINITY, ep->beta = INFINITY; break; /* Clip's open bounds */
    }
    const onn_attr *p = onn_attr_find(ctx->node, "activation_params");
    if (p && (p->type != ONN_ATTR_FLOATS || p->n > 2))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "activation_params must hold up to 2 floats");
    if (p && p->n > 0) ep->alpha = p->floats[0];
    if (p && p->n > 1) ep->beta = p->floats[1];
    return ONNORM_OK;
}
