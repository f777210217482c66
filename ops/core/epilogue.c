/* Reading a fused activation from a node's attributes; see epilogue.h. */
#include "ops/core/epilogue.h"
#include "ops/isa.h"

#include <math.h>

onnorm_status onn_epilogue_config(onn_kctx *ctx, onn_epilogue *ep)
{
    return onn_epilogue_config_named(ctx, "activation", "activation_params", ep);
}

onnorm_status onn_epilogue_config_named(onn_kctx *ctx, const char *name, const char *params,
                                        onn_epilogue *ep)
{
    static const char *const names[] = {"Relu",      "Clip",    "LeakyRelu", "HardSigmoid",
                                        "HardSwish", "Sigmoid", "SiLU",      "Tanh"};
    static const onn_act codes[] = {ONN_ACT_RELU,         ONN_ACT_CLIP,       ONN_ACT_LEAKY_RELU,
                                    ONN_ACT_HARD_SIGMOID, ONN_ACT_HARD_SWISH, ONN_ACT_SIGMOID,
                                    ONN_ACT_SILU,         ONN_ACT_TANH};
    int a = -1;
    onnorm_status st = onn_kattr_enum(ctx, name, names, 8, -1, &a);
    if (st) return st;
    ep->act = a < 0 ? ONN_ACT_NONE : codes[a];
    /* The defaults of the operators the activation replaces. */
    switch (ep->act) {
    case ONN_ACT_LEAKY_RELU: ep->alpha = 0.01f, ep->beta = 0.0f; break;
    case ONN_ACT_HARD_SIGMOID: ep->alpha = 0.2f, ep->beta = 0.5f; break;
    default: ep->alpha = -INFINITY, ep->beta = INFINITY; break; /* Clip's open bounds */
    }
    const onn_attr *p = onn_attr_find(ctx->node, params);
    if (p && (p->type != ONN_ATTR_FLOATS || p->n > 2))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s must hold up to 2 floats", params);
    if (p && p->n > 0) ep->alpha = p->floats[0];
    if (p && p->n > 1) ep->beta = p->floats[1];
    return ONNORM_OK;
}

/* onn_act_row compiled for AVX2 + FMA (8 lanes, fused steps): the inline
 * function compiles into each caller for that caller's target, and a
 * kernel's own baseline code would get SSE2's 4 lanes. */
#ifdef ONN_HAVE_X86_VARIANTS
ONN_TARGET_AVX2_BEGIN
static void act_row_avx2(onn_act act, float alpha, float beta, float *y, int64_t n)
{
    onn_act_row(act, alpha, beta, y, n);
}
ONN_TARGET_END
#endif

void onn_act_row_fast(onn_act act, float alpha, float beta, float *y, int64_t n)
{
    if (act == ONN_ACT_NONE || n <= 0) return;
#ifdef ONN_HAVE_X86_VARIANTS
    if (onn_isa_supported(ONN_ISA_AVX2)) { /* a read of libgcc's CPU flags */
        act_row_avx2(act, alpha, beta, y, n);
        return;
    }
#endif
    onn_act_row(act, alpha, beta, y, n);
}
