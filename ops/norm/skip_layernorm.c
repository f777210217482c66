/*
 * ONNX Runtime's fused transformer norms (domain com.microsoft, version 1):
 * SkipLayerNormalization and SkipSimplifiedLayerNormalization.
 *
 * Per row of H elements (H = the last dim of `input`):
 *   s = input + skip (+ bias)                      (output 3, optional)
 *   Skip:            y = (s - mean) / sqrt(var + eps) * gamma (+ beta)
 *   SkipSimplified:  y = s / sqrt(mean(s^2) + eps) * gamma
 * epsilon defaults to 1e-12 (ORT's kDefaultSkipLayerNormEpsilon). `skip`
 * may be smaller than `input` and is then repeated (ORT indexes it at
 * offset mod numel(skip)), as when a [1, S, H] skip serves every batch.
 * Mean and inv_std_var (optional outputs 1 and 2) are float32 of shape
 * input.shape[:-1] + [1]. Statistics are accumulated in double.
 */
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

static bool is_simplified(const onn_kctx *ctx)
{
    return ctx->node->op_type[4] == 'S';
}

/* Input index of the optional bias: after beta for Skip, after gamma for
 * SkipSimplified (which has no beta). */
static int bias_index(const onn_kctx *ctx)
{
    return is_simplified(ctx) ? 3 : 4;
}

static const onnorm_tensor *opt_in(const onn_kctx *ctx, int i)
{
    return i < ctx->n_in ? ctx->in[i] : NULL;
}

static onnorm_status check_vec(onn_kctx *ctx, int i, const char *what, int64_t h)
{
    const onnorm_tensor *p = opt_in(ctx, i);
    if (!p) return ONNORM_OK;
    if (p->dtype != ctx->in[0]->dtype || onn_dims_numel(p->dims, 0, p->rank) != h)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "%s must hold %lld elements of the input's type",
                         what, (long long)h);
    return ONNORM_OK;
}

static onnorm_status skip_infer(onn_kctx *ctx)
{
    onnorm_status st = onn_check_float_input(ctx, 0, "input");
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0], *skip = ctx->in[1];
    if (x->rank < 2 || x->rank > 3)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input must be [batch, seq, hidden] or [tokens, hidden]");
    const int64_t h = x->dims[x->rank - 1];
    int64_t nx = onn_dims_numel(x->dims, 0, x->rank),
            ns = skip ? onn_dims_numel(skip->dims, 0, skip->rank) : 0;
    if (!skip || skip->dtype != x->dtype || skip->dims[skip->rank - 1] != h || ns == 0 || nx % ns)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "skip must have the input's type and hidden size and a size that divides "
                         "the input's");
    if (!ctx->in[2]) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'gamma' is missing");
    if ((st = check_vec(ctx, 2, "gamma", h)) ||
        (!is_simplified(ctx) && (st = check_vec(ctx, 3, "beta", h))) ||
        (st = check_vec(ctx, bias_index(ctx), "bias", h)))
        return st;
    int64_t sdims[ONNORM_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        sdims[i] = i < x->rank - 1 ? x->dims[i] : 1;
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    onn_set_output(ctx, 1, ONNORM_FLOAT, x->rank, sdims);
    onn_set_output(ctx, 2, ONNORM_FLOAT, x->rank, sdims);
    onn_set_output(ctx, 3, x->dtype, x->rank, x->dims);
    return ONNORM_OK;
}

static onnorm_status skip_run(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0], *skip = ctx->in[1];
    const onnorm_dtype t = x->dtype;
    const int64_t h = x->dims[x->rank - 1],
                  rows = onn_dims_numel(x->dims, 0, x->rank) / (h ? h : 1);
    const int64_t ns = onn_dims_numel(skip->dims, 0, skip->rank);
    float eps;
    onn_attr_float(ctx->node, "epsilon", 1e-12f, &eps, NULL);
    const bool simple = is_simplified(ctx);
    const onnorm_tensor *beta = simple ? NULL : opt_in(ctx, 3),
                        *bias = opt_in(ctx, bias_index(ctx));
    onnorm_tensor *mean_out = ctx->n_out > 1 ? ctx->out[1] : NULL;
    onnorm_tensor *inv_out = ctx->n_out > 2 ? ctx->out[2] : NULL;
    onnorm_tensor *sum_out = ctx->n_out > 3 ? ctx->out[3] : NULL;
    double *srow_all = malloc((size_t)(h ? h : 1) * sizeof(double) * (size_t)ctx->num_threads);
    if (!srow_all) return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    const int nt = onn_threads_for(ctx, rows * h, rows);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        double *s = srow_all + (size_t)h * (size_t)omp_get_thread_num();
        double sum = 0.0, sq = 0.0;
        for (int64_t j = 0; j < h; j++) {
            int64_t i = r * h + j;
            s[j] = onn_load(t, x->data, i) + onn_load(t, skip->data, i % ns) +
                   (bias ? onn_load(t, bias->data, j) : 0.0);
            if (sum_out) onn_store(t, sum_out->data, i, s[j]);
            sum += s[j];
        }
        const double mean = h ? sum / (double)h : 0.0;
        for (int64_t j = 0; j < h; j++) {
            double d = simple ? s[j] : s[j] - mean;
            sq += d * d;
        }
        const double inv = 1.0 / sqrt((h ? sq / (double)h : 0.0) + (double)eps);
        for (int64_t j = 0; j < h; j++) {
            double v = (simple ? s[j] : s[j] - mean) * inv * onn_load(t, ctx->in[2]->data, j);
            if (beta) v += onn_load(t, beta->data, j);
            onn_store(t, ctx->out[0]->data, r * h + j, v);
        }
        if (mean_out) onn_store(ONNORM_FLOAT, mean_out->data, r, mean);
        if (inv_out) onn_store(ONNORM_FLOAT, inv_out->data, r, inv);
    }
    free(srow_all);
    return ONNORM_OK;
}

const onn_kernel onn_kernels_skip_layernorm[] = {
    {ONN_KERNEL("com.microsoft", "SkipLayerNormalization", 1, 3, 5, 1, 4, skip_infer, NULL, skip_run),
     .types = ONN_T_ALL_FLOATS, .inplace = true},
    {ONN_KERNEL("com.microsoft", "SkipSimplifiedLayerNormalization", 1, 3, 4, 1, 4, skip_infer, NULL,
                skip_run),
     .types = ONN_T_ALL_FLOATS, .inplace = true},
};
const int onn_kernels_skip_layernorm_count = 2;
