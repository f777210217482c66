/*
 * LayerNormalization, opset 17.
 *
 * X is viewed as [rows, M] with M = prod(X.shape[axis:]). Per row:
 * mean, population variance, InvStdDev = 1 / sqrt(var + eps), and
 * Y = (x - mean) * InvStdDev * Scale + B.
 *
 * Scale and B must broadcast unidirectionally to X.shape[axis:] (the spec's
 * promise); a tensor of exactly M elements is also taken in row order, as
 * the function body does by flattening. Broadcast parameters are expanded
 * once per run into a scratch row.
 *
 * stash_type fixes the element type U of the Mean and InvStdDev outputs
 * (1 = float, 11 = double). Statistics are always accumulated in double
 * (see moments.h), which is at least as exact as any stash type.
 *
 * RMSNormalization, opset 23, shares the row view and the Scale handling:
 * Y = x / sqrt(mean(x^2) + eps) * Scale, no mean subtraction, no bias.
 */
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ln_cfg {
    int axis;
    float epsilon;
    onnorm_dtype stash;
    int64_t rows, m;
} ln_cfg;

static onnorm_status read_cfg(onn_kctx *ctx, ln_cfg *cfg)
{
    const onnorm_tensor *x = ctx->in[0];
    int64_t axis, stash;
    if (!onn_attr_int(ctx->node, "axis", -1, &axis, ctx->err) ||
        !onn_attr_float(ctx->node, "epsilon", 1e-5f, &cfg->epsilon, ctx->err) ||
        !onn_attr_int(ctx->node, "stash_type", 1, &stash, ctx->err))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s",
                         ctx->err ? ctx->err->message : "bad attribute");
    if (x->rank < 1 || !onn_normalize_axis(axis, x->rank, &cfg->axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)axis, x->rank);
    if (!onn_is_norm_type((onnorm_dtype)stash))
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "stash_type %lld is not a float type (1, 10, 11 or 16)", (long long)stash);
    cfg->stash = (onnorm_dtype)stash;
    cfg->rows = onn_dims_numel(x->dims, 0, cfg->axis);
    cfg->m = onn_dims_numel(x->dims, cfg->axis, x->rank);
    return ONNORM_OK;
}

/* True when p (rank pr) broadcasts unidirectionally to dims (rank r). */
static bool broadcasts_to(const onnorm_tensor *p, const int64_t *dims, int r)
{
    if (p->rank > r) return false;
    for (int i = 1; i <= p->rank; i++) {
        int64_t pd = p->dims[p->rank - i], d = dims[r - i];
        if (pd != d && pd != 1) return false;
    }
    return true;
}

static onnorm_status check_affine(onn_kctx *ctx, const ln_cfg *cfg, int i, const char *what)
{
    const onnorm_tensor *x = ctx->in[0], *p = ctx->in[i];
    char sh[128], xs[128];
    if (p->dtype != x->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s, expected %s like X", what,
                         onnorm_dtype_name(p->dtype), onnorm_dtype_name(x->dtype));
    if (onn_dims_numel(p->dims, 0, p->rank) == cfg->m) return ONNORM_OK;
    if (!broadcasts_to(p, x->dims + cfg->axis, x->rank - cfg->axis))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input '%s' of shape %s does not broadcast to the normalized shape %s",
                         what, onn_shape_str(p->dims, p->rank, sh, sizeof sh),
                         onn_shape_str(x->dims + cfg->axis, x->rank - cfg->axis, xs, sizeof xs));
    return ONNORM_OK;
}

static onnorm_status ln_infer(onn_kctx *ctx)
{
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st) return st;
    ln_cfg cfg;
    if ((st = read_cfg(ctx, &cfg))) return st;
    if (!ctx->in[1]) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'Scale' is missing");
    if ((st = check_affine(ctx, &cfg, 1, "Scale"))) return st;
    if (ctx->n_in > 2 && ctx->in[2] && (st = check_affine(ctx, &cfg, 2, "B"))) return st;
    const onnorm_tensor *x = ctx->in[0];
    int64_t sdims[ONNORM_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        sdims[i] = i < cfg.axis ? x->dims[i] : 1;
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    onn_set_output(ctx, 1, cfg.stash, x->rank, sdims);
    onn_set_output(ctx, 2, cfg.stash, x->rank, sdims);
    return ONNORM_OK;
}

/* Returns p's data as a full row of m elements, expanding a broadcast
 * tensor into *scratch (which the caller frees). NULL on allocation failure. */
static const void *expand_row(const onnorm_tensor *p, const onnorm_tensor *x, int axis, int64_t m,
                              void **scratch)
{
    *scratch = NULL;
    if (onn_dims_numel(p->dims, 0, p->rank) == m) return p->data;
    size_t esz = onnorm_dtype_size(p->dtype);
    char *buf = malloc((size_t)m * esz);
    if (!buf) return NULL;
    const int r = x->rank - axis;
    const int64_t *nd = x->dims + axis;
    for (int64_t i = 0; i < m; i++) {
        /* Unravel i over the normalized shape, ravel over p's broadcast shape. */
        int64_t rem = i, src = 0, stride = 1;
        for (int k = r - 1; k >= 0; k--) {
            int64_t coord = rem % nd[k];
            rem /= nd[k];
            int pk = k - (r - p->rank);
            if (pk >= 0) {
                if (p->dims[pk] != 1) src += coord * stride;
                stride *= p->dims[pk];
            }
        }
        memcpy(buf + (size_t)i * esz, (const char *)p->data + (size_t)src * esz, esz);
    }
    *scratch = buf;
    return buf;
}

static onnorm_status ln_run(onn_kctx *ctx)
{
    ln_cfg cfg;
    onnorm_status st = read_cfg(ctx, &cfg);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    const onnorm_tensor *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    void *gs = NULL, *bs = NULL;
    const void *gamma = expand_row(ctx->in[1], x, cfg.axis, cfg.m, &gs);
    const void *beta = b ? expand_row(b, x, cfg.axis, cfg.m, &bs) : NULL;
    if (!gamma || (b && !beta)) {
        free(gs), free(bs);
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    }
    onnorm_tensor *mean_out = ctx->n_out > 1 ? ctx->out[1] : NULL;
    onnorm_tensor *inv_out = ctx->n_out > 2 ? ctx->out[2] : NULL;
    const int64_t rows = cfg.rows, m = cfg.m;
    const bool stream = onn_stream_output(ctx->out[0]);
    const int nt = onn_threads_for(ctx, rows * m, rows);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        onn_acc acc;
        double mean, var;
        onn_acc_init(&acc);
        onn_acc_add_auto(x->dtype, x->data, r * m, m, &acc, cfg.stash != ONNORM_DOUBLE);
        onn_acc_result(&acc, &mean, &var);
        double inv = 1.0 / sqrt(var + (double)cfg.epsilon);
        onn_affine_vec(x->dtype, x->data, ctx->out[0]->data, r * m, m, mean, inv, gamma, beta,
                       stream ? m : 0);
        if (mean_out) onn_store(cfg.stash, mean_out->data, r, mean);
        if (inv_out) onn_store(cfg.stash, inv_out->data, r, inv);
    }
    free(gs);
    free(bs);
    return ONNORM_OK;
}

static onnorm_status rms_infer(onn_kctx *ctx)
{
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st) return st;
    ln_cfg cfg;
    if ((st = read_cfg(ctx, &cfg))) return st;
    if (!ctx->in[1]) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'scale' is missing");
    if ((st = check_affine(ctx, &cfg, 1, "scale"))) return st;
    const onnorm_tensor *x = ctx->in[0];
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    /* SimplifiedLayerNormalization's optional inv_std_var, shaped like Mean. */
    int64_t sdims[ONNORM_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        sdims[i] = i < cfg.axis ? x->dims[i] : 1;
    onn_set_output(ctx, 1, cfg.stash, x->rank, sdims);
    return ONNORM_OK;
}

static onnorm_status rms_run(onn_kctx *ctx)
{
    ln_cfg cfg;
    onnorm_status st = read_cfg(ctx, &cfg);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    void *gs = NULL;
    const void *gamma = expand_row(ctx->in[1], x, cfg.axis, cfg.m, &gs);
    if (!gamma) return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    onnorm_tensor *inv_out = ctx->n_out > 1 ? ctx->out[1] : NULL;
    const int64_t rows = cfg.rows, m = cfg.m;
    const bool stream = onn_stream_output(ctx->out[0]);
    /* Float sums suffice unless the statistics are stashed as float64. */
    const bool fast = x->dtype == ONNORM_FLOAT && cfg.stash != ONNORM_DOUBLE;
    const int nt = onn_threads_for(ctx, rows * m, rows);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        double ss = fast ? onn_sum_squares_f32_fast(x->data, r * m, m)
                         : onn_sum_squares(x->dtype, x->data, r * m, m);
        double ms = m ? ss / (double)m : 0.0;
        double inv = 1.0 / sqrt(ms + (double)cfg.epsilon);
        onn_affine_vec(x->dtype, x->data, ctx->out[0]->data, r * m, m, 0.0, inv, gamma, NULL,
                       stream ? m : 0);
        if (inv_out) onn_store(cfg.stash, inv_out->data, r, inv);
    }
    free(gs);
    return ONNORM_OK;
}

/* ONNX Runtime's contrib forms: com.microsoft LayerNormalization is the
 * ai.onnx one; SimplifiedLayerNormalization (ORT's RMSNorm, registered by
 * ORT in both the default and the com.microsoft domain) is RMSNormalization
 * plus an optional inv_std_var output. */
const onn_kernel onn_kernels_layernorm[] = {
    {ONN_KERNEL("", "LayerNormalization", 17, 2, 3, 1, 3, ln_infer, NULL, ln_run),
     .types = ONN_T_ALL_FLOATS, .inplace = true},
    {ONN_KERNEL("", "RMSNormalization", 23, 2, 2, 1, 1, rms_infer, NULL, rms_run),
     .types = ONN_T_ALL_FLOATS, .inplace = true},
    {ONN_KERNEL("", "SimplifiedLayerNormalization", 1, 2, 2, 1, 2, rms_infer, NULL, rms_run),
     .types = ONN_T_ALL_FLOATS, .inplace = true},
    {ONN_KERNEL("com.microsoft", "LayerNormalization", 1, 2, 3, 1, 3, ln_infer, NULL, ln_run),
     .types = ONN_T_ALL_FLOATS, .inplace = true},
    {ONN_KERNEL("com.microsoft", "SimplifiedLayerNormalization", 1, 2, 2, 1, 2, rms_infer, NULL, rms_run),
     .types = ONN_T_ALL_FLOATS, .inplace = true},
};
const int onn_kernels_layernorm_count =
    sizeof onn_kernels_layernorm / sizeof onn_kernels_layernorm[0];
