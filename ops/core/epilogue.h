/*
 * What a convolution or matrix product applies to its output while the
 * output is still in registers or cache, instead of in separate passes over
 * the whole tensor:
 *
 *   y = act(acc + bias[row] + residual)
 *
 * where acc is the product's value, bias is per output channel (a row of
 * the product; may be NULL), residual is a tensor of y's shape added
 * before the activation (ONNX Runtime's FusedConv "Z"; may be NULL), and
 * act is one of the activations below with its parameters.
 *
 * The activations follow the ONNX operators they replace:
 *   Relu          max(x, 0)
 *   Clip          min(max(x, lo), hi)           (Relu6: lo = 0, hi = 6)
 *   LeakyRelu     x >= 0 ? x : alpha * x
 *   HardSigmoid   max(0, min(1, alpha * x + beta))
 *   HardSwish     x * max(0, min(1, x / 6 + 1 / 2))
 *   Sigmoid       1 / (1 + exp(-x))
 *   SiLU          x * sigmoid(x)                (Swish: x * Sigmoid(x))
 *   Tanh          tanh(x)
 */
#ifndef ONN_EPILOGUE_H
#define ONN_EPILOGUE_H

#include <math.h>
#include <stdint.h>

typedef enum onn_act {
    ONN_ACT_NONE = 0,
    ONN_ACT_RELU,
    ONN_ACT_CLIP,
    ONN_ACT_LEAKY_RELU,
    ONN_ACT_HARD_SIGMOID,
    ONN_ACT_HARD_SWISH,
    ONN_ACT_SIGMOID,
    ONN_ACT_SILU,
    ONN_ACT_TANH,
    ONN_ACT_COUNT
} onn_act;

typedef struct onn_epilogue {
    const float *bias; /* per output row (channel), or NULL */
    onn_act act;
    float alpha, beta; /* Clip: lo, hi; LeakyRelu: alpha; HardSigmoid: alpha, beta */
} onn_epilogue;

/* The activation of one value, in float (the scalar reference every
 * vectorized epilogue is tested against). */
static inline float onn_act_apply(onn_act act, float alpha, float beta, float x)
{
    switch (act) {
    case ONN_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case ONN_ACT_CLIP: return x < alpha ? alpha : x > beta ? beta : x;
    case ONN_ACT_LEAKY_RELU: return x >= 0.0f ? x : alpha * x;
    case ONN_ACT_HARD_SIGMOID: {
        float v = alpha * x + beta;
        return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    case ONN_ACT_HARD_SWISH: {
        float v = x * (1.0f / 6.0f) + 0.5f;
        return x * (v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v);
    }
    case ONN_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case ONN_ACT_SILU: return x / (1.0f + expf(-x));
    case ONN_ACT_TANH: return tanhf(x);
    default: return x;
    }
}

/* y[i] = act(y[i] + b + (res ? res[i] : 0)) for i < n: one output row of
 * channel bias b. The portable reference; vectorized kernels may fuse it
 * into their stores. */
static inline void onn_epilogue_row(const onn_epilogue *ep, float b, float *y, const float *res,
                                    int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = onn_act_apply(ep->act, ep->alpha, ep->beta, y[i] + b + (res ? res[i] : 0.0f));
}

#endif
