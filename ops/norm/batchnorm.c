/*
 * BatchNormalization, opsets 1, 6, 7, 9, 14 and 15.
 *
 *   inference: y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + B[c]
 *   training:  the same with the batch mean and population variance over
 *              every axis but 1, and running statistics
 *              running = input * momentum + batch * (1 - momentum).
 *
 * How the mode is chosen per opset:
 *   1, 6:   is_test = 0 (the default) means training;
 *   7 - 13: training exactly when more than the Y output is requested;
 *   14, 15: training_mode attribute; outputs 1 and 3 only.
 * Outputs 3 and 4 of opsets below 14 (saved_mean, saved_var) are the batch
 * mean and population variance. spatial = 0 (opsets 1 - 7) makes the
 * parameters per activation, shaped (C, D1, ..., Dn).
 */
#include "ops/core/epilogue.h"
#include "ops/core/threadpool.h"
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>

typedef struct bn_cfg {
    float epsilon, momentum;
    bool training;
    int64_t n, c, s;         /* X viewed as [N, C, S] */
    onnorm_dtype stats_type; /* of mean/var: what training statistics are written as */
    const onn_moments *mo;   /* the statistics and affine loops for this CPU */
    /* Inference with constant parameters: the per-channel affine, computed
     * once at prepare; else NULL and run computes it into scratch. */
    const double *mean, *var, *scale, *shift;
    onn_epilogue ep; /* ai.onnorm's fused activation (NONE for ai.onnx's op) */
} bn_cfg;

/* ai.onnorm.BatchNormalization (the fuse-norm pass's output) is inference
 * BatchNormalization-15 followed by an activation; its table entry's data
 * names the version it reads its attributes as. */
static const int bn_fused_as = 15;

static int bn_version(const onn_kctx *ctx)
{
    return ctx->kernel->data ? *(const int *)ctx->kernel->data : onn_kversion(ctx);
}

static int requested_outputs(const onn_kctx *ctx)
{
    int k = 0;
    for (int i = 0; i < ctx->n_out; i++)
        if (ctx->out[i]) k++;
    return k;
}

static onnorm_status bn_config(onn_kctx *ctx)
{
    bn_cfg *cfg = ctx->state;
    const int ver = bn_version(ctx);
    int64_t is_test = 0, spatial = 1, training_mode = 0;
    onnorm_status st;
    if ((st = onn_kattr_float(ctx, "epsilon", 1e-5f, &cfg->epsilon)) ||
        (st = onn_kattr_float(ctx, "momentum", 0.9f, &cfg->momentum)) ||
        (ver < 7 && (st = onn_kattr_int(ctx, "is_test", 0, &is_test))) ||
        (ver < 9 && (st = onn_kattr_int(ctx, "spatial", 1, &spatial))) ||
        (ver >= 14 && (st = onn_kattr_int(ctx, "training_mode", 0, &training_mode))))
        return st;
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
    const bn_cfg *cfg = ctx->state;
    static const char *names[] = {"X", "scale", "B", "mean", "var"};
    const onnorm_tensor *x = ctx->in[0];
    const int ver = bn_version(ctx);
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
        if (p->rank != 1 && onn_dims_numel(p->dims, 0, p->rank) == cfg->c && cfg->s == 1 &&
            p->dtype == want)
            continue;
        if ((st = onn_check_param(ctx, i, names[i], cfg->c, want))) return st;
    }
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    for (int i = 1; i < ctx->n_out; i++) {
        const onnorm_tensor *src = ctx->in[i == 1 || i == 3 ? 3 : 4];
        onn_set_output(ctx, i, src->dtype, src->rank, src->dims);
    }
    return ONNORM_OK;
}

/* scale[c] = gamma[c] / sqrt(var[c] + eps), shift[c] = B[c], in double. */
static void channel_affine(const onn_kctx *ctx, const bn_cfg *cfg, const double *var, double *scale,
                           double *shift)
{
    const onnorm_tensor *g = ctx->in[1], *b = ctx->in[2];
    for (int64_t c = 0; c < cfg->c; c++) {
        scale[c] = onn_load(g->dtype, g->data, c) / sqrt(var[c] + (double)cfg->epsilon);
        shift[c] = onn_load(b->dtype, b->data, c);
    }
}

static void load_statistics(const onn_kctx *ctx, const bn_cfg *cfg, double *mean, double *var)
{
    const onnorm_tensor *m = ctx->in[3], *v = ctx->in[4];
    for (int64_t c = 0; c < cfg->c; c++) {
        mean[c] = onn_load(m->dtype, m->data, c);
        var[c] = onn_load(v->dtype, v->data, c);
    }
}

/* Inference with every parameter constant computes the affine here, once;
 * otherwise run needs four per-channel arrays of scratch. */
static onnorm_status bn_prepare(onn_kctx *ctx)
{
    bn_cfg *cfg = ctx->state;
    onnorm_status st;
    cfg->mo = onn_moments_get(onn_isa_active());
    const size_t C = (size_t)(cfg->c ? cfg->c : 1);
    bool constant = !cfg->training;
    for (int i = 1; i < 5; i++)
        constant = constant && ctx->in[i]->data;
    size_t bytes;
    if ((st = onn_kbytes(ctx, C, 4 * sizeof(double), 1, &bytes))) return st;
    if (!constant) {
        onn_kscratch_need(ctx, bytes);
        return ONNORM_OK;
    }
    double *mem = onn_kalloc(ctx, bytes);
    if (!mem) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    double *mean = mem, *var = mem + C, *scale = mem + 2 * C, *shift = mem + 3 * C;
    load_statistics(ctx, cfg, mean, var);
    channel_affine(ctx, cfg, var, scale, shift);
    cfg->mean = mean, cfg->var = var, cfg->scale = scale, cfg->shift = shift;
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
        cfg->mo->acc_add(x->dtype, x->data, (n * cfg->c + c) * cfg->s, cfg->s, &acc, fast);
    onn_acc_result(&acc, mean, var);
}

/* The arguments of bn_run's loop over the channels' batch statistics. */
typedef struct bn_moments_job {
    const bn_cfg *cfg;
    const onnorm_tensor *x;
    double *mean, *var;
} bn_moments_job;

static void bn_moments(void *arg, int64_t c0, int64_t c1, int worker)
{
    (void)worker;
    const bn_moments_job *j = arg;
    for (int64_t c = c0; c < c1; c++)
        channel_moments(j->x, j->cfg, c, &j->mean[c], &j->var[c]);
}

/* The arguments of the affine loops (apply_planes, apply_rows). */
typedef struct bn_job {
    const bn_cfg *cfg;
    const onnorm_tensor *x;
    onnorm_tensor *y;
    const double *mean, *scale, *shift;
    bool stream;
} bn_job;

static void bn_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const bn_job *j = arg;
    const bn_cfg *cfg = j->cfg;
    for (int64_t p = p0; p < p1; p++) {
        const int64_t c = p % cfg->c;
        cfg->mo->affine(j->x->dtype, j->x->data, j->y->data, p * cfg->s, cfg->s, j->mean[c],
                        j->scale[c], j->shift[c], j->stream ? cfg->s : 0);
        onn_act_row(cfg->ep.act, cfg->ep.alpha, cfg->ep.beta, (float *)j->y->data + p * cfg->s,
                    cfg->s);
    }
}

/* y = (x - mean[c]) * scale[c] + shift[c], plane by plane ([N, C, S]). */
static void apply_planes(onn_kctx *ctx, const bn_cfg *cfg, const double *mean, const double *scale,
                         const double *shift)
{
    onnorm_tensor *y = ctx->out[0];
    const int64_t planes = cfg->n * cfg->c;
    /* A fused activation rereads each plane from cache: no streaming then. */
    const bool stream = onn_stream_output(y) && cfg->ep.act == ONN_ACT_NONE;
    const int nt = onn_threads_for(ctx, planes * cfg->s, planes);
    bn_job j = {cfg, ctx->in[0], y, mean, scale, shift, stream};
    onn_parallel_range(nt, planes, bn_planes, &j);
}

/* The same for S = 1 ([N, C], BatchNorm1d): each row holds one value per
 * channel, so the loop runs along rows instead of making one call per
 * element. */
static void bn_rows(void *arg, int64_t n0, int64_t n1, int worker)
{
    (void)worker;
    const bn_job *j = arg;
    const bn_cfg *cfg = j->cfg;
    const onnorm_dtype t = j->x->dtype;
    const int64_t C = cfg->c;
    const double *mean = j->mean, *scale = j->scale, *shift = j->shift;
    for (int64_t n = n0; n < n1; n++) {
        for (int64_t c = 0; c < C; c++) {
            const int64_t i = n * C + c;
            onn_store(t, j->y->data, i,
                      (onn_load(t, j->x->data, i) - mean[c]) * scale[c] + shift[c]);
        }
        onn_act_row(cfg->ep.act, cfg->ep.alpha, cfg->ep.beta, (float *)j->y->data + n * C, C);
    }
}

static void apply_rows(onn_kctx *ctx, const bn_cfg *cfg, const double *mean, const double *scale,
                       const double *shift)
{
    const int nt = onn_threads_for(ctx, cfg->n * cfg->c, cfg->n);
    bn_job j = {cfg, ctx->in[0], ctx->out[0], mean, scale, shift, false};
    onn_parallel_range(nt, cfg->n, bn_rows, &j);
}

/* Outputs 1..4: running statistics after the update (training), or the
 * inputs passed through (opsets 1 and 6 in test mode may list them). */
static void write_statistics(onn_kctx *ctx, const bn_cfg *cfg, const double *mean,
                             const double *var)
{
    const onnorm_dtype pt = ctx->in[3]->dtype;
    const double m = cfg->momentum;
    onnorm_tensor *o1 = onn_opt_output(ctx, 1), *o2 = onn_opt_output(ctx, 2),
                  *o3 = onn_opt_output(ctx, 3), *o4 = onn_opt_output(ctx, 4);
    if (!o1 && !o2 && !o3 && !o4) return;
    for (int64_t c = 0; c < cfg->c; c++) {
        double rm = mean[c], rv = var[c];
        if (cfg->training) {
            rm = onn_load(pt, ctx->in[3]->data, c) * m + mean[c] * (1.0 - m);
            rv = onn_load(pt, ctx->in[4]->data, c) * m + var[c] * (1.0 - m);
        }
        if (o1) onn_store(pt, o1->data, c, rm);
        if (o2) onn_store(pt, o2->data, c, rv);
        if (o3) onn_store(pt, o3->data, c, mean[c]);
        if (o4) onn_store(pt, o4->data, c, var[c]);
    }
}

static onnorm_status bn_run(onn_kctx *ctx)
{
    const bn_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const double *mean = cfg->mean, *var = cfg->var, *scale = cfg->scale, *shift = cfg->shift;
    if (!mean) {
        const size_t C = (size_t)(cfg->c ? cfg->c : 1);
        double *m = ctx->scratch, *v = m + C, *sc = m + 2 * C, *sh = m + 3 * C;
        if (cfg->training) {
            const int nt = onn_threads_for(ctx, cfg->n * cfg->c * cfg->s, cfg->c);
            bn_moments_job j = {cfg, x, m, v};
            onn_parallel_range(nt, cfg->c, bn_moments, &j);
        } else {
            load_statistics(ctx, cfg, m, v);
        }
        channel_affine(ctx, cfg, v, sc, sh);
        mean = m, var = v, scale = sc, shift = sh;
    }
    write_statistics(ctx, cfg, mean, var);
    if (cfg->s == 1)
        apply_rows(ctx, cfg, mean, scale, shift);
    else
        apply_planes(ctx, cfg, mean, scale, shift);
    return ONNORM_OK;
}

/* bfloat16 arrived with opset 14. */
#define BN_KERNEL(ver, max_out)                                                                    \
    {                                                                                              \
        ONN_KERNEL("", "BatchNormalization", ver, 5, 5, 1, max_out, bn_infer, bn_prepare, bn_run), \
            .config = bn_config, .state_size = sizeof(bn_cfg),                                     \
            .types = (ver) >= 14 ? ONN_T_ALL_FLOATS : ONN_T_HALF_FLOATS, .widens = (ver) == 15,    \
            .inplace = true                                                                        \
    }

/* The fused form: inference only (one output), float32 (the activations
 * are float loops). */
static onnorm_status bn_fused_config(onn_kctx *ctx)
{
    bn_cfg *cfg = ctx->state;
    onnorm_status st = bn_config(ctx);
    if (!st && cfg->training)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "the fused form is for inference only");
    return st ? st : onn_epilogue_config(ctx, &cfg->ep);
}

ONN_KERNEL_TABLE(batchnorm, BN_KERNEL(1, 5), BN_KERNEL(6, 5), BN_KERNEL(7, 5), BN_KERNEL(9, 5),
                 BN_KERNEL(14, 3), BN_KERNEL(15, 3),
                 {ONN_KERNEL("ai.onnorm", "BatchNormalization", 1, 5, 5, 1, 1, bn_infer, bn_prepare,
                             bn_run),
                  .config = bn_fused_config, .state_size = sizeof(bn_cfg), .data = &bn_fused_as,
                  .types = ONN_T(ONNORM_FLOAT), .inplace = true});
