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
 * The activations follow the ONNX operators they replace, NaN included (a
 * NaN input gives NaN, as the unfused operators' kernels give it):
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

#include "ops/kernel.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

/* e^v for v <= 0 in float, branch-free so that loops over it vectorize
 * (libm's expf is a call per element, which made Sigmoid, and so SiLU, the
 * slowest op in convolutional models). Range reduction v = n ln2 + r with
 * |r| <= ln2 / 2 (ln2 split in two parts), a degree-6 polynomial for e^r
 * (the classic Cephes coefficients, within about 1 ulp), and 2^n from the
 * exponent bits. Below -87.3 (where e^v is subnormal) it returns 0. */
static inline float onn_expf_nonpositive(float v)
{
    const float shifter = 12582912.0f;     /* 1.5 * 2^23: adding it rounds to an integer */
    v = v < -87.3f || v != v ? -87.3f : v; /* NaN too: the caller restores it */
    float t = v * 1.44269504088896341f + shifter;
    float n = t - shifter;
    float r = v - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return v <= -87.3f ? 0.0f : p * scale;
}

/* 1 / (1 + e^-x) from e = e^-|x| <= 1, which cannot overflow: r = 1 / (1 + e)
 * for x >= 0, and e * r = e^x / (1 + e^x) for x < 0. One exp and a select
 * instead of a branch on the sign, which random inputs mispredict. float32
 * uses onn_expf_nonpositive; NaN stays NaN through the final select. */
static inline float onn_sigmoidf(float x)
{
    const float e = onn_expf_nonpositive(-fabsf(x)), r = 1.0f / (1.0f + e);
    return x != x ? x : x >= 0.0f ? r : e * r;
}

/* The activation of one value, in float (the scalar reference every
 * vectorized epilogue is tested against). */
static inline float onn_act_apply(onn_act act, float alpha, float beta, float x)
{
    switch (act) {
    case ONN_ACT_RELU: return x < 0.0f ? 0.0f : x;
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

/* A fused activation as FusedConv and the fused norms state it: the
 * `activation` string attribute (Relu, Clip, LeakyRelu, HardSigmoid,
 * HardSwish, Sigmoid, SiLU, Tanh; absent: none) and `activation_params`
 * (Clip's bounds, LeakyRelu's alpha, HardSigmoid's alpha and beta; absent:
 * the replaced operator's defaults). Leaves ep->bias alone. */
onnorm_status onn_epilogue_config(onn_kctx *ctx, onn_epilogue *ep);
/* The same from attributes `name` and `params` (ExpandDepthwise's second
 * activation: expand_activation, expand_activation_params). */
onnorm_status onn_epilogue_config_named(onn_kctx *ctx, const char *name, const char *params,
                                        onn_epilogue *ep);

/* min(max(v, 0), 1) that keeps NaN (fminf and fmaxf would drop it). */
#define ONN_CLAMP01(v) ((v) < 0.0f ? 0.0f : (v) > 1.0f ? 1.0f : (v))

/* y[i] = act(y[i]) for i < n, one loop per activation so that each
 * vectorizes (the exponentials through onn_expf_nonpositive). */
static inline __attribute__((always_inline)) void onn_act_row(onn_act act, float alpha, float beta,
                                                              float *y, int64_t n)
{
    switch (act) {
    case ONN_ACT_NONE: return;
#define ONN_ACT_LOOP(case_, expr)                                                                  \
    case case_:                                                                                    \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++)                                        \
        {                                                                                          \
            const float x = y[i];                                                                  \
            y[i] = (expr);                                                                         \
        }                                                                                          \
        return;
        ONN_ACT_LOOP(ONN_ACT_RELU, x < 0.0f ? 0.0f : x)
        ONN_ACT_LOOP(ONN_ACT_CLIP, x < alpha ? alpha : x > beta ? beta : x)
        ONN_ACT_LOOP(ONN_ACT_LEAKY_RELU, x >= 0.0f ? x : alpha * x)
        ONN_ACT_LOOP(ONN_ACT_HARD_SIGMOID, ONN_CLAMP01(alpha * x + beta))
        ONN_ACT_LOOP(ONN_ACT_HARD_SWISH, x * ONN_CLAMP01(x * (1.0f / 6.0f) + 0.5f))
        ONN_ACT_LOOP(ONN_ACT_SIGMOID, onn_sigmoidf(x))
        ONN_ACT_LOOP(ONN_ACT_SILU, x * onn_sigmoidf(x))
        ONN_ACT_LOOP(ONN_ACT_TANH, 2.0f * onn_sigmoidf(2.0f * x) - 1.0f)
#undef ONN_ACT_LOOP
    default: return;
    }
}

/* The same through the widest vectors this CPU has (AVX2 + FMA where it
 * has them), for kernels whose own code is compiled for the baseline. */
void onn_act_row_fast(onn_act act, float alpha, float beta, float *y, int64_t n);

#endif
