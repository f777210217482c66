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
 * offset mod numel(skip)), as when a [1, S, H] skip serves every batch:
 * its dims, leading 1s dropped, must be the input's last dims.
 * Mean and inv_std_var (optional outputs 1 and 2) are float32 of shape
 * input.shape[:-1] + [1].
 *
 * float32 (skip_run_f32) forms the sum in float where it ends up and runs
 * the shared core's float32 statistics and affine loops on it. The other
 * types: the sum s is rounded to the input's type, as the Adds it replaces
 * round it (input + skip, then + bias), and kept in double in a per-thread
 * scratch row; its statistics
 * come from the shared core (moments.h) reading that row as float64 data.
 * The affine step stays here: it reads the double row and writes the input's
 * type, which the core's same-type affine loops do not do.
 */
#include "ops/core/threadpool.h"
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>

typedef struct skip_cfg {
    bool simple; /* SkipSimplified: no mean, no beta */
    int bias_in; /* input index of the optional bias */
    float epsilon;
    int64_t h, rows, ns; /* hidden size, rows, elements of skip */
    const onn_moments *mo;
} skip_cfg;

/* The table entries' data: which of the two ops. */
static const bool skip_full = false, skip_simplified = true;

static onnorm_status check_vec(onn_kctx *ctx, int i, const char *what, int64_t h)
{
    const onnorm_tensor *p = onn_opt_input(ctx, i);
    if (!p) return ONNORM_OK;
    if (p->dtype != ctx->in[0]->dtype || onn_dims_numel(p->dims, 0, p->rank) != h)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "%s must hold %lld elements of the input's type",
                         what, (long long)h);
    return ONNORM_OK;
}

static onnorm_status skip_config(onn_kctx *ctx)
{
    skip_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *skip = ctx->in[1];
    cfg->simple = *(const bool *)ctx->kernel->data;
    /* The bias follows beta for Skip, gamma for SkipSimplified (no beta). */
    cfg->bias_in = cfg->simple ? 3 : 4;
    if (x->rank < 2 || x->rank > 3)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input must be [batch, seq, hidden] or [tokens, hidden]");
    cfg->h = x->dims[x->rank - 1];
    int64_t nx = onn_dims_numel(x->dims, 0, x->rank);
    cfg->rows = nx / (cfg->h ? cfg->h : 1);
    cfg->ns = skip ? onn_dims_numel(skip->dims, 0, skip->rank) : 0;
    /* skip repeats over the input's leading rows: its dims, leading 1s
     * dropped, must be the input's last ones ([S, H] or [1, S, H] for a
     * [B, S, H] input; a [B, 1, H] skip would not broadcast that way). */
    bool suffix = skip && skip->rank >= 1;
    int lead = 0;
    while (suffix && lead < skip->rank - 1 && skip->dims[lead] == 1)
        lead++;
    suffix = suffix && skip->rank - lead <= x->rank;
    for (int i = 0; suffix && i < skip->rank - lead; i++)
        suffix = skip->dims[lead + i] == x->dims[x->rank - (skip->rank - lead) + i];
    if (!skip || skip->dtype != x->dtype || !suffix || cfg->ns == 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "skip must have the input's type and shape, or the shape of its last "
                         "dims");
    onnorm_status st;
    if (!ctx->in[2]) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'gamma' is missing");
    if ((st = check_vec(ctx, 2, "gamma", cfg->h)) ||
        (!cfg->simple && (st = check_vec(ctx, 3, "beta", cfg->h))) ||
        (st = check_vec(ctx, cfg->bias_in, "bias", cfg->h)))
        return st;
    return onn_kattr_float(ctx, "epsilon", 1e-12f, &cfg->epsilon);
}

/* v rounded to t: the sum is the one the unfused Adds make (and ORT's
 * kernel, which adds in the input's type), before its statistics are taken
 * in double. */
static double round_to(onnorm_dtype t, double v)
{
    if (t == ONNORM_FLOAT) return (double)(float)v;
    if (t == ONNORM_DOUBLE) return v;
    uint16_t half;
    onn_store(t, &half, 0, v);
    return onn_load(t, &half, 0);
}

static onnorm_status skip_infer(onn_kctx *ctx)
{
    onnorm_status st = onn_check_float_input(ctx, 0, "input");
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    int64_t sdims[ONNORM_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        sdims[i] = i < x->rank - 1 ? x->dims[i] : 1;
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    onn_set_output(ctx, 1, ONNORM_FLOAT, x->rank, sdims);
    onn_set_output(ctx, 2, ONNORM_FLOAT, x->rank, sdims);
    onn_set_output(ctx, 3, x->dtype, x->rank, x->dims);
    return ONNORM_OK;
}

static onnorm_status skip_prepare(onn_kctx *ctx)
{
    skip_cfg *cfg = ctx->state;
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)(cfg->h ? cfg->h : 1), sizeof(double),
                                  (size_t)ctx->num_threads, &bytes);
    if (st) return st;
    onn_kscratch_need(ctx, bytes); /* one double row per thread */
    cfg->mo = onn_moments_get(onn_isa_active());
    return ONNORM_OK;
}

/* The arguments of skip_run's row loops. */
typedef struct skip_job {
    const skip_cfg *cfg;
    const onnorm_tensor *x, *skip, *gamma, *beta, *bias;
    onnorm_tensor *y, *mean_out, *inv_out, *sum_out;
    double *rows; /* scratch: one double row per thread */
} skip_job;

/*
 * float32: the row's sum is formed in float (each element the Add's float
 * sum) straight into the memory it ends in, the sum output's row when
 * there is one, else the output's own row; the shared core takes its
 * statistics (shifted, float blocks in double, as LayerNormalization's
 * float32 path) and applies the affine step from there into the output's
 * row, in place where the sum sits in it. No scratch, one write of each
 * output element.
 */
static void skip_rows_f32(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const skip_job *job = arg;
    const skip_cfg *cfg = job->cfg;
    const float *x = job->x->data, *skip = job->skip->data, *gamma = job->gamma->data;
    const float *bv = job->bias ? job->bias->data : NULL;
    float *y = job->y->data, *sum = job->sum_out ? job->sum_out->data : y;
    const int64_t h = cfg->h, ns = cfg->ns;
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * h, *sr = skip + (r * h) % ns;
        float *dst = sum + r * h;
        /* (simd: dst may be xr itself, element for element, never shifted) */
        if (bv) {
#pragma omp simd
            for (int64_t j = 0; j < h; j++)
                dst[j] = (xr[j] + sr[j]) + bv[j];
        } else {
#pragma omp simd
            for (int64_t j = 0; j < h; j++)
                dst[j] = xr[j] + sr[j];
        }
        double mean = 0.0, var;
        if (cfg->simple) {
            var = h ? cfg->mo->sum_squares(ONNORM_FLOAT, sum, r * h, h, true) / (double)h : 0.0;
        } else {
            onn_acc acc;
            onn_acc_init(&acc);
            cfg->mo->acc_add(ONNORM_FLOAT, sum, r * h, h, &acc, true);
            onn_acc_result(&acc, &mean, &var);
        }
        const double inv = 1.0 / sqrt(var + (double)cfg->epsilon);
        cfg->mo->affine_vec(ONNORM_FLOAT, sum, y, r * h, h, mean, inv, gamma,
                            job->beta ? job->beta->data : NULL, 0);
        if (job->mean_out) onn_store(ONNORM_FLOAT, job->mean_out->data, r, mean);
        if (job->inv_out) onn_store(ONNORM_FLOAT, job->inv_out->data, r, inv);
    }
}

/* The other types: each row's sum, rounded to the type, in the thread's
 * double row of scratch. */
static void skip_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    const skip_job *job = arg;
    const skip_cfg *cfg = job->cfg;
    const onnorm_tensor *x = job->x, *skip = job->skip, *gamma = job->gamma, *beta = job->beta,
                        *bias = job->bias;
    const onnorm_dtype t = x->dtype;
    const int64_t h = cfg->h, ns = cfg->ns;
    double *s = job->rows + (size_t)h * (size_t)worker;
    for (int64_t r = r0; r < r1; r++) {
        for (int64_t j = 0; j < h; j++) {
            int64_t i = r * h + j;
            s[j] = round_to(t, onn_load(t, x->data, i) + onn_load(t, skip->data, i % ns));
            if (bias) s[j] = round_to(t, s[j] + onn_load(t, bias->data, j));
            if (job->sum_out) onn_store(t, job->sum_out->data, i, s[j]);
        }
        double mean = 0.0, var;
        if (cfg->simple) {
            var = h ? cfg->mo->sum_squares(ONNORM_DOUBLE, s, 0, h, false) / (double)h : 0.0;
        } else {
            onn_acc acc;
            onn_acc_init(&acc);
            cfg->mo->acc_add(ONNORM_DOUBLE, s, 0, h, &acc, false);
            onn_acc_result(&acc, &mean, &var);
        }
        const double inv = 1.0 / sqrt(var + (double)cfg->epsilon);
        for (int64_t j = 0; j < h; j++) {
            double v = (s[j] - mean) * inv * onn_load(t, gamma->data, j);
            if (beta) v += onn_load(t, beta->data, j);
            onn_store(t, job->y->data, r * h + j, v);
        }
        if (job->mean_out) onn_store(ONNORM_FLOAT, job->mean_out->data, r, mean);
        if (job->inv_out) onn_store(ONNORM_FLOAT, job->inv_out->data, r, inv);
    }
}

static onnorm_status skip_run(onn_kctx *ctx)
{
    const skip_cfg *cfg = ctx->state;
    skip_job job = {
        .cfg = cfg,
        .x = ctx->in[0],
        .skip = ctx->in[1],
        .gamma = ctx->in[2],
        .beta = cfg->simple ? NULL : onn_opt_input(ctx, 3),
        .bias = onn_opt_input(ctx, cfg->bias_in),
        .y = ctx->out[0],
        .mean_out = onn_opt_output(ctx, 1),
        .inv_out = onn_opt_output(ctx, 2),
        .sum_out = onn_opt_output(ctx, 3),
        .rows = ctx->scratch,
    };
    const int nt = onn_threads_for(ctx, cfg->rows * cfg->h, cfg->rows);
    onn_parallel_range(nt, cfg->rows, job.x->dtype == ONNORM_FLOAT ? skip_rows_f32 : skip_rows,
                       &job);
    return ONNORM_OK;
}

#define SKIP_KERNEL(op, in_hi, which)                                                              \
    {                                                                                              \
        ONN_KERNEL("com.microsoft", op, 1, 3, in_hi, 1, 4, skip_infer, skip_prepare, skip_run),    \
            .config = skip_config, .state_size = sizeof(skip_cfg), .data = &(which),               \
            .types = ONN_T_ALL_FLOATS, .inplace = true                                             \
    }

ONN_KERNEL_TABLE(skip_layernorm, SKIP_KERNEL("SkipLayerNormalization", 5, skip_full),
                 SKIP_KERNEL("SkipSimplifiedLayerNormalization", 4, skip_simplified));
