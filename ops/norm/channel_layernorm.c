/*
 * ChannelLayerNormalization (ai.onnorm, opset 1, float32): layer
 * normalization over the channel axis of a channels-first tensor, at every
 * position on its own:
 *
 *   X [N, C, D1..Dk], Scale [C], B [C] (optional), epsilon (default 1e-5)
 *   Y[n, c, p] = (X[n, c, p] - mean[n, p]) / sqrt(var[n, p] + epsilon)
 *                * Scale[c] + B[c]
 *
 * with mean and (population) variance over c. It is what
 * Transpose(channels last) -> LayerNormalization(last axis) ->
 * Transpose(channels first) computes, and the fold-channel-layernorm pass
 * writes it for that chain (torchvision's LayerNorm2d in ConvNeXt),
 * leaving out both transposes.
 *
 * Threads take blocks of 64 positions across all channels; three passes
 * read each (the mean, the variance of the centred values, the affine
 * step), the AVX2 code 16 positions at a time with the sums in registers,
 * so that those positions of every channel stay in L1 between passes. Every sum is of x - shift,
 * the position's first channel, so a large common offset cancels before anything is added (exact at
 * large offsets, as the statistics core of moments.h); the sums run in float over the channels.
 */
#include "ops/isa.h"
#include "ops/kernel.h"
#include "ops/core/threadpool.h"

#include <math.h>
#include <string.h>

#define BLOCK 64 /* positions per task */

typedef struct cln_cfg {
    int64_t n, c, plane;
    float epsilon;
    bool avx2;
} cln_cfg;

static onnorm_status cln_config(onn_kctx *ctx)
{
    cln_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    char xs[128];
    if (x->dtype != ONNORM_FLOAT)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "X must be float32 (supported: float32)");
    if (x->rank < 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X %s needs a channel axis (rank >= 2)",
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    cfg->n = x->dims[0], cfg->c = x->dims[1], cfg->plane = 1;
    for (int d = 2; d < x->rank; d++)
        cfg->plane *= x->dims[d];
    onnorm_status st;
    if ((st = onn_kattr_float(ctx, "epsilon", 1e-5f, &cfg->epsilon)) ||
        (st = onn_check_param(ctx, 1, "Scale", cfg->c, ONNORM_FLOAT)) ||
        (onn_has_input(ctx, 2) && (st = onn_check_param(ctx, 2, "B", cfg->c, ONNORM_FLOAT))))
        return st;
    return ONNORM_OK;
}

static onnorm_status cln_infer(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    onn_set_output(ctx, 0, ONNORM_FLOAT, x->rank, x->dims);
    return ONNORM_OK;
}

static onnorm_status cln_prepare(onn_kctx *ctx)
{
    cln_cfg *cfg = ctx->state;
    cfg->avx2 = onn_isa_supported(ONN_ISA_AVX2) && onn_isa_active() != ONN_ISA_SCALAR;
    return ONNORM_OK;
}

/* Positions [0, np) of one block: x and y at the block's first position of
 * channel 0, channels `plane` floats apart. */
static inline __attribute__((always_inline)) void cln_block(const float *x, float *y, int64_t c,
                                                            int64_t plane, int64_t np, float eps,
                                                            const float *scale, const float *bias)
{
    float shift[BLOCK], mean[BLOCK], rstd[BLOCK];
    for (int64_t p = 0; p < np; p++)
        shift[p] = x[p], mean[p] = 0.0f, rstd[p] = 0.0f;
    for (int64_t ch = 0; ch < c; ch++) {
        const float *xc = x + ch * plane;
#pragma omp simd
        for (int64_t p = 0; p < np; p++)
            mean[p] += xc[p] - shift[p];
    }
    const float inv_c = 1.0f / (float)c;
#pragma omp simd
    for (int64_t p = 0; p < np; p++)
        mean[p] *= inv_c;
    for (int64_t ch = 0; ch < c; ch++) {
        const float *xc = x + ch * plane;
#pragma omp simd
        for (int64_t p = 0; p < np; p++) {
            const float d = (xc[p] - shift[p]) - mean[p];
            rstd[p] += d * d;
        }
    }
#pragma omp simd
    for (int64_t p = 0; p < np; p++)
        rstd[p] = 1.0f / sqrtf(rstd[p] * inv_c + eps);
    for (int64_t ch = 0; ch < c; ch++) {
        const float *xc = x + ch * plane;
        float *yc = y + ch * plane;
        const float s = scale[ch], b = bias ? bias[ch] : 0.0f;
#pragma omp simd
        for (int64_t p = 0; p < np; p++)
            yc[p] = ((xc[p] - shift[p]) - mean[p]) * rstd[p] * s + b;
    }
}

static void cln_block_scalar(const float *x, float *y, int64_t c, int64_t plane, int64_t np,
                             float eps, const float *scale, const float *bias)
{
    cln_block(x, y, c, plane, np, eps, scale, bias);
}

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

ONN_TARGET_AVX2_BEGIN
#include "ops/core/avx2_lanes.h"

/* As cln_block, 16 positions at a time with their sums in registers
 * across the channels (the plain loops kept them in memory, a store per
 * element); the positions' 64 bytes of every channel stay in L1 for the
 * three passes. The last positions load masked and store through a
 * buffer. */
static void cln_block_avx2(const float *x, float *y, int64_t c, int64_t plane, int64_t np,
                           float eps, const float *scale, const float *bias)
{
    const __m256 inv_c = _mm256_set1_ps(1.0f / (float)c), veps = _mm256_set1_ps(eps);
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int64_t p = 0; p < np; p += 16) {
        const int64_t left = np - p;
        const int n0 = left >= 8 ? 8 : (int)left, n1 = left >= 16 ? 8
                                                       : left > 8 ? (int)left - 8
                                                                  : 0;
        const __m256i m0 = onn_avx2_mask8(n0), m1 = onn_avx2_mask8(n1);
        const float *xp = x + p;
#define CLN_LOAD(ch, h) _mm256_maskload_ps(xp + (ch)*plane + 8 * (h), (h) ? m1 : m0)
        const __m256 sh0 = CLN_LOAD(0, 0), sh1 = CLN_LOAD(0, 1);
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        for (int64_t ch = 0; ch < c; ch++) {
            s0 = _mm256_add_ps(s0, _mm256_sub_ps(CLN_LOAD(ch, 0), sh0));
            s1 = _mm256_add_ps(s1, _mm256_sub_ps(CLN_LOAD(ch, 1), sh1));
        }
        const __m256 mean0 = _mm256_mul_ps(s0, inv_c), mean1 = _mm256_mul_ps(s1, inv_c);
        __m256 q0 = _mm256_setzero_ps(), q1 = _mm256_setzero_ps();
        for (int64_t ch = 0; ch < c; ch++) {
            const __m256 d0 = _mm256_sub_ps(_mm256_sub_ps(CLN_LOAD(ch, 0), sh0), mean0);
            const __m256 d1 = _mm256_sub_ps(_mm256_sub_ps(CLN_LOAD(ch, 1), sh1), mean1);
            q0 = _mm256_add_ps(q0, _mm256_mul_ps(d0, d0));
            q1 = _mm256_add_ps(q1, _mm256_mul_ps(d1, d1));
        }
        const __m256 r0 =
            _mm256_div_ps(one, _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(q0, inv_c), veps)));
        const __m256 r1 =
            _mm256_div_ps(one, _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(q1, inv_c), veps)));
        for (int64_t ch = 0; ch < c; ch++) {
            const __m256 sc = _mm256_set1_ps(scale[ch]);
            const __m256 b = _mm256_set1_ps(bias ? bias[ch] : 0.0f);
            const __m256 v0 = _mm256_add_ps(
                _mm256_mul_ps(
                    _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(CLN_LOAD(ch, 0), sh0), mean0), r0),
                    sc),
                b);
            const __m256 v1 = _mm256_add_ps(
                _mm256_mul_ps(
                    _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(CLN_LOAD(ch, 1), sh1), mean1), r1),
                    sc),
                b);
            float *yc = y + ch * plane + p;
            if (left >= 16) {
                _mm256_storeu_ps(yc, v0);
                _mm256_storeu_ps(yc + 8, v1);
            } else {
                float t[16];
                _mm256_storeu_ps(t, v0);
                _mm256_storeu_ps(t + 8, v1);
                memcpy(yc, t, (size_t)left * sizeof *yc);
            }
        }
#undef CLN_LOAD
    }
}
ONN_TARGET_END
#endif

typedef struct cln_job {
    const cln_cfg *cfg;
    const float *x, *scale, *bias;
    float *y;
} cln_job;

static void cln_blocks(void *arg, int64_t b0, int64_t b1, int worker)
{
    (void)worker;
    const cln_job *j = arg;
    const cln_cfg *cfg = j->cfg;
    const int64_t bl = BLOCK, per_image = (cfg->plane + bl - 1) / bl;
    for (int64_t b = b0; b < b1; b++) {
        const int64_t n = b / per_image, p0 = b % per_image * bl;
        const int64_t np = cfg->plane - p0 < bl ? cfg->plane - p0 : bl;
        const int64_t at = n * cfg->c * cfg->plane + p0;
#ifdef ONN_HAVE_X86_VARIANTS
        if (cfg->avx2) {
            cln_block_avx2(j->x + at, j->y + at, cfg->c, cfg->plane, np, cfg->epsilon, j->scale,
                           j->bias);
            continue;
        }
#endif
        cln_block_scalar(j->x + at, j->y + at, cfg->c, cfg->plane, np, cfg->epsilon, j->scale,
                         j->bias);
    }
}

static onnorm_status cln_run(onn_kctx *ctx)
{
    const cln_cfg *cfg = ctx->state;
    if (!ctx->out[0] || cfg->n * cfg->c * cfg->plane == 0) return ONNORM_OK;
    const onnorm_tensor *b = onn_opt_input(ctx, 2);
    cln_job j = {cfg, ctx->in[0]->data, ctx->in[1]->data, b ? b->data : NULL, ctx->out[0]->data};
    const int64_t blocks = cfg->n * ((cfg->plane + BLOCK - 1) / BLOCK);
    onn_parallel_range(onn_threads_for(ctx, cfg->n * cfg->c * cfg->plane, blocks), blocks,
                       cln_blocks, &j);
    return ONNORM_OK;
}

ONN_KERNEL_TABLE(channel_layernorm, {ONN_KERNEL("ai.onnorm", "ChannelLayerNormalization", 1, 2, 3,
                                                1, 1, cln_infer, cln_prepare, cln_run),
                                     .config = cln_config, .state_size = sizeof(cln_cfg)});
