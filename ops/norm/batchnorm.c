/*
 * BatchNormalization, opsets 1, 6, 7, 9, 14 and 15.
 *
 *   inference: y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + B[c]
 *   training:  the same with the batch mean and population variance over
 *              every axis but 1, and running statistics
 *              running = input * momentum + batch * (1 - momentum).
 *
 * How the mode is chosen per opset (ONNX-NORMS.md, section 1):
 *   1, 6:   is_test = 0 (the default) means training;
 *   7 - 13: training exactly when more than the Y output is requested;
 *   14, 15: training_mode attribute; outputs 1 and 3 only.
 * Outputs 3 and 4 of opsets below 14 (saved_mean, saved_var) are the batch
 * mean and population variance. spatial = 0 (opsets 1 - 7) makes the
 * parameters per activation, shaped (C, D1, ..., Dn).
 */
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>
#include <stdlib.h>

typedef struct bn_cfg {
    float epsilon, momentum;
    bool training;
    int64_t n, c, s;         /* X viewed as [N, C, S] */
    onnorm_dtype stats_type; /* of mean/var: what training statistics are written as */
} bn_cfg;

static int requested_outputs(const onn_kctx *ctx)
{
    int k = 0;
    for (int i = 0; i < ctx->n_out; i++)
        if (ctx->out[i]) k++;
    return k;
}

static onnorm_status read_cfg(onn_kctx *ctx, bn_cfg *cfg)
{
    const onn_node *nd = ctx->node;
    int ver = ctx->kernel->since_version;
    int64_t is_test = 0, spatial = 1, training_mode = 0;
    if (!onn_attr_float(nd, "epsilon", 1e-5f, &cfg->epsilon, ctx->err) ||
        !onn_attr_float(nd, "momentum", 0.9f, &cfg->momentum, ctx->err) ||
        (ver < 7 && !onn_attr_int(nd, "is_test", 0, &is_test, ctx->err)) ||
        (ver < 9 && !onn_attr_int(nd, "spatial", 1, &spatial, ctx->err)) ||
        (ver >= 14 && !onn_attr_int(nd, "training_mode", 0, &training_mode, ctx->err)))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s",
                         ctx->err ? ctx->err->message : "bad attribute");
    int outs = requested_outputs(ctx);
    if (ver >= 14) {
        cfg->training = training_mode != 0;
        if (!cfg->training && ctx->n_out > 1 && outs > 1)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "training_mode=0 allows only the Y output, %d are requested", outs);
        if (ctx->n_out != 1 && ctx->n_out != 3)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "BatchNormalization-%d has 1 or 3 outputs, the node lists %d", ver,
                             ctx->n_out);
    } else if (ver >= 7) {
        cfg->training = outs > 1;
    } else {
        cfg->training = is_test == 0;
    }
    const onnorm_tensor *x = ctx->in[0];
    cfg->stats_type = ctx->in[3] ? ctx->in[3]->dtype : x->dtype;
    if (x->rank == 1 && ver >= 9) { /* 1-D X: N elements, C = 1 */
        cfg->n = x->dims[0], cfg->c = 1, cfg->s = 1;
    } else if (x->rank < 2) {
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X must have rank >= 2, got rank %d", x->rank);
    } else if (spatial == 0) {
        cfg->n = x->dims[0], cfg->c = onn_dims_numel(x->dims, 1, x->rank), cfg->s = 1;
    } else {
        cfg->n = x->dims[0], cfg->c = x->dims[1], cfg->s = onn_dims_numel(x->dims, 2, x->rank);
    }
    return ONNORM_OK;
}

static onnorm_status bn_infer(onn_kctx *ctx)
{
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st) return st;
    bn_cfg cfg;
    if ((st = read_cfg(ctx, &cfg))) return st;
    static const char *names[] = {"X", "scale", "B", "mean", "var"};
    const onnorm_tensor *x = ctx->in[0];
    const int ver = ctx->kernel->since_version;
    for (int i = 1; i < 5; i++) {
        const onnorm_tensor *p = ctx->in[i];
        if (!p)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", names[i]);
        /* Type parameters: opset 14 lets mean/var (U) differ from X (T); opset
         * 15 also lets scale/B (T1) differ. Pairs must still agree. */
        onnorm_dtype want = x->dtype;
        if ((ver >= 15 && i <= 2) || (ver >= 14 && i >= 3))
            want = onn_is_norm_type(p->dtype) ? ctx->in[i <= 2 ? 1 : 3]->dtype : x->dtype;
        /* Per-activation parameters (spatial=0) may keep their (C, D...) shape. */
        if (p->rank != 1 && onn_dims_numel(p->dims, 0, p->rank) == cfg.c && cfg.s == 1 &&
            p->dtype == want)
            continue;
        if ((st = onn_check_param(ctx, i, names[i], cfg.c, want))) return st;
    }
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    for (int i = 1; i < ctx->n_out; i++) {
        const onnorm_tensor *src = ctx->in[i == 1 || i == 3 ? 3 : 4];
        onn_set_output(ctx, i, src->dtype, src->rank, src->dims);
    }
    return ONNORM_OK;
}

/* Batch statistics of channel c over all N planes. */
static void channel_moments(const onnorm_tensor *x, const bn_cfg *cfg, int64_t c, double *mean,
                            double *var)
{
    onn_acc acc;
    onn_acc_init(&acc);
    /* Float statistics suffice unless the running statistics are float64. */
    const bool fast = cfg->stats_type != ONNORM_DOUBLE;
    for (int64_t n = 0; n < cfg->n; n++)
        onn_acc_add_auto(x->dtype, x->data, (n * cfg->c + c) * cfg->s, cfg->s, &acc, fast);
    onn_acc_result(&acc, mean, var);
}

/* y = (x - mean[c]) * scale[c] + shift[c], plane by plane ([N, C, S]). */
static void apply_planes(onn_kctx *ctx, const bn_cfg *cfg, const double *mean,
                         const double *scale, const double *shift)
{
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    const int64_t C = cfg->c, planes = cfg->n * C;
    const bool stream = onn_stream_output(y);
    const int nt = onn_threads_for(ctx, planes * cfg->s, planes);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        const int64_t c = p % C;
        onn_affine(x->dtype, x->data, y->data, p * cfg->s, cfg->s, mean[c], scale[c], shift[c],
                   stream ? cfg->s : 0);
    }
}

/* The same for S = 1 ([N, C], BatchNorm1d): each row holds one value per
 * channel, so the loop runs along rows instead of making one call per
 * element. */
static void apply_rows(onn_kctx *ctx, const bn_cfg *cfg, const double *mean, const double *scale,
                       const double *shift)
{
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    const onnorm_dtype t = x->dtype;
    const int64_t C = cfg->c;
    const int nt = onn_threads_for(ctx, cfg->n * C, cfg->n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t n = 0; n < cfg->n; n++)
        for (int64_t c = 0; c < C; c++) {
            const int64_t i = n * C + c;
            onn_store(t, y->data, i, (onn_load(t, x->data, i) - mean[c]) * scale[c] + shift[c]);
        }
}

/* Outputs 1..4: running statistics after the update (training), or the
 * inputs passed through (opsets 1 and 6 in test mode may list them). */
static void write_statistics(onn_kctx *ctx, const bn_cfg *cfg, const double *mean,
                             const double *var)
{
    const onnorm_dtype pt = ctx->in[3]->dtype;
    const double m = cfg->momentum;
    for (int64_t c = 0; c < cfg->c; c++) {
        double rm = mean[c], rv = var[c];
        if (cfg->training) {
            rm = onn_load(pt, ctx->in[3]->data, c) * m + mean[c] * (1.0 - m);
            rv = onn_load(pt, ctx->in[4]->data, c) * m + var[c] * (1.0 - m);
        }
        if (ctx->n_out > 1 && ctx->out[1]) onn_store(pt, ctx->out[1]->data, c, rm);
        if (ctx->n_out > 2 && ctx->out[2]) onn_store(pt, ctx->out[2]->data, c, rv);
        if (ctx->n_out > 3 && ctx->out[3]) onn_store(pt, ctx->out[3]->data, c, mean[c]);
        if (ctx->n_out > 4 && ctx->out[4]) onn_store(pt, ctx->out[4]->data, c, var[c]);
    }
}

static onnorm_status bn_run(onn_kctx *ctx)
{
    bn_cfg cfg;
    onnorm_status st = read_cfg(ctx, &cfg);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    const onnorm_dtype pt = ctx->in[3]->dtype;
    const int64_t C = cfg.c;
    double *mean = malloc((size_t)(C ? C : 1) * sizeof *mean);
    double *var = malloc((size_t)(C ? C : 1) * sizeof *var);
    if (!mean || !var) {
        free(mean), free(var);
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    }
    int nt = onn_threads_for(ctx, cfg.n * C * cfg.s, C);
    if (cfg.training) {
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t c = 0; c < C; c++)
            channel_moments(x, &cfg, c, &mean[c], &var[c]);
    } else {
        for (int64_t c = 0; c < C; c++) {
            mean[c] = onn_load(pt, ctx->in[3]->data, c);
            var[c] = onn_load(pt, ctx->in[4]->data, c);
        }
    }
    double *scale = malloc((size_t)(C ? C : 1) * sizeof *scale);
    double *shift = malloc((size_t)(C ? C : 1) * sizeof *shift);
    if (!scale || !shift) {
        free(mean), free(var), free(scale), free(shift);
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    }
    for (int64_t c = 0; c < C; c++) {
        scale[c] = onn_load(ctx->in[1]->dtype, ctx->in[1]->data, c) /
                   sqrt(var[c] + (double)cfg.epsilon);
        shift[c] = onn_load(ctx->in[2]->dtype, ctx->in[2]->data, c);
    }
    if (cfg.s == 1)
        apply_rows(ctx, &cfg, mean, scale, shift);
    else
        apply_planes(ctx, &cfg, mean, scale, shift);
    write_statistics(ctx, &cfg, mean, var);
    free(mean), free(var), free(scale), free(shift);
    return ONNORM_OK;
}

/* bfloat16 arrived with opset 14. */
#define BN_KERNEL(ver, max_out)                                                                    \
    {                                                                                              \
        ONN_KERNEL("", "BatchNormalization", ver, 5, 5, 1, max_out, bn_infer, NULL, bn_run),             \
            .types = (ver) >= 14 ? ONN_T_ALL_FLOATS : ONN_T_HALF_FLOATS, .widens = (ver) == 15,    \
            .inplace = true                                                                        \
    }

const onn_kernel onn_kernels_batchnorm[] = {
    BN_KERNEL(1, 5), BN_KERNEL(6, 5),  BN_KERNEL(7, 5),
    BN_KERNEL(9, 5), BN_KERNEL(14, 3), BN_KERNEL(15, 3),
};
const int onn_kernels_batchnorm_count =
    sizeof onn_kernels_batchnorm / sizeof onn_kernels_batchnorm[0];
