/*
 * LayerNormalization, opset 17.
 *
 * X is viewed as [rows, M] with M = prod(X.shape[axis:]). Per row:
 * mean, population variance, InvStdDev = 1 / sqrt(var + eps), and
 * Y = (x - mean) * InvStdDev * Scale + B.
 *
 * Scale and B must broadcast unidirectionally to X.shape[axis:] (the spec's
 * promise); a tensor of exactly M elements is also taken in row order, as
 * the function body does by flattening. A broadcast parameter is expanded to
 * a full row once: at prepare when it is a constant, else at every run into
 * scratch.
 *
 * stash_type fixes the element type U of the Mean and InvStdDev outputs
 * (1 = float, 11 = double). float32 data is summed in float blocks for a
 * float stash and in double for a double one (see moments.h).
 *
 * RMSNormalization, opset 23, shares the row view and the Scale handling:
 * Y = x / sqrt(mean(x^2) + eps) * Scale, no mean subtraction, no bias.
 */
#include "ops/core/threadpool.h"
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>

typedef struct ln_cfg {
    int axis;
    float epsilon;
    onnorm_dtype stash;
    int64_t rows, m;
    const onn_moments *mo;
    /* Scale and B as full rows of m elements: the input's own data, a row
     * expanded at prepare, or NULL to expand into scratch at run. */
    const void *gamma, *beta;
} ln_cfg;

static onnorm_status ln_config(onn_kctx *ctx)
{
    ln_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t axis, stash;
    onnorm_status st;
    if ((st = onn_kattr_int(ctx, "axis", -1, &axis)) ||
        (st = onn_kattr_float(ctx, "epsilon", 1e-5f, &cfg->epsilon)) ||
        (st = onn_kattr_int(ctx, "stash_type", 1, &stash)))
        return st;
    if (x->rank < 1 || !onn_normalize_axis(axis, x->rank, &cfg->axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)axis, x->rank);
    if (!onn_is_norm_type((onnorm_dtype)stash))
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "stash_type %lld is not a float type (1, 10, 11 or 16)", (long long)stash);
    cfg->stash = (onnorm_dtype)stash;
    cfg->rows = onn_dims_numel(x->dims, 0, cfg->axis);
    cfg->m = onn_dims_numel(x->dims, cfg->axis, x->rank);
    cfg->mo = onn_moments_get(onn_isa_active());
    return ONNORM_OK;
}

static onnorm_status check_affine(onn_kctx *ctx, const ln_cfg *cfg, int i, const char *what)
{
    const onnorm_tensor *x = ctx->in[0], *p = ctx->in[i];
    char sh[128], xs[128];
    if (!p) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    if (p->dtype != x->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s, expected %s like X", what,
                         onnorm_dtype_name(p->dtype), onnorm_dtype_name(x->dtype));
    if (onn_dims_numel(p->dims, 0, p->rank) == cfg->m) return ONNORM_OK;
    if (!onn_dims_broadcast_to(p->dims, p->rank, x->dims + cfg->axis, x->rank - cfg->axis))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input '%s' of shape %s does not broadcast to the normalized shape %s",
                         what, onn_shape_str(p->dims, p->rank, sh, sizeof sh),
                         onn_shape_str(x->dims + cfg->axis, x->rank - cfg->axis, xs, sizeof xs));
    return ONNORM_OK;
}

/* Mean and InvStdDev (or inv_std_var) are shaped X.shape[:axis] + [1...]. */
static void set_outputs(onn_kctx *ctx, const ln_cfg *cfg, int n_stats)
{
    const onnorm_tensor *x = ctx->in[0];
    int64_t sdims[ONNORM_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        sdims[i] = i < cfg->axis ? x->dims[i] : 1;
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    for (int i = 1; i <= n_stats; i++)
        onn_set_output(ctx, i, cfg->stash, x->rank, sdims);
}

static onnorm_status ln_infer(onn_kctx *ctx)
{
    const ln_cfg *cfg = ctx->state;
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st || (st = check_affine(ctx, cfg, 1, "Scale")) ||
        (onn_has_input(ctx, 2) && (st = check_affine(ctx, cfg, 2, "B"))))
        return st;
    set_outputs(ctx, cfg, 2);
    return ONNORM_OK;
}

static onnorm_status rms_infer(onn_kctx *ctx)
{
    const ln_cfg *cfg = ctx->state;
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st || (st = check_affine(ctx, cfg, 1, "scale"))) return st;
    /* SimplifiedLayerNormalization's optional inv_std_var, shaped like Mean. */
    set_outputs(ctx, cfg, 1);
    return ONNORM_OK;
}

/* Writes p's data as a full row of m elements into buf: p broadcast over the
 * normalized shape X.shape[axis:]. */
static void expand_row(const onnorm_tensor *p, const onnorm_tensor *x, int axis, int64_t m,
                       char *buf)
{
    const size_t esz = onnorm_dtype_size(p->dtype);
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
}

/* Input i as a full row: its own data, a row expanded now (a constant), or
 * NULL when run must expand it (then *scratch grows by a row). */
static onnorm_status full_row(onn_kctx *ctx, const ln_cfg *cfg, int i, const void **row,
                              size_t *scratch)
{
    const onnorm_tensor *p = onn_opt_input(ctx, i);
    *row = NULL;
    if (!p) return ONNORM_OK;
    if (onn_dims_numel(p->dims, 0, p->rank) == cfg->m && p->data) {
        *row = p->data;
        return ONNORM_OK;
    }
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)cfg->m, onnorm_dtype_size(p->dtype), 1, &bytes);
    if (st) return st;
    if (!p->data) {
        *scratch += (bytes + ONN_KALIGN - 1) & ~(size_t)(ONN_KALIGN - 1);
        return ONNORM_OK;
    }
    char *buf = onn_kalloc(ctx, bytes);
    if (!buf) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    expand_row(p, ctx->in[0], cfg->axis, cfg->m, buf);
    *row = buf;
    return ONNORM_OK;
}

static onnorm_status ln_prepare(onn_kctx *ctx)
{
    ln_cfg *cfg = ctx->state;
    size_t scratch = 0;
    onnorm_status st;
    if ((st = full_row(ctx, cfg, 1, &cfg->gamma, &scratch)) ||
        (st = full_row(ctx, cfg, 2, &cfg->beta, &scratch)))
        return st;
    onn_kscratch_need(ctx, scratch);
    return ONNORM_OK;
}

/* The rows run uses: prepared ones, or parameters expanded into scratch
 * (an input whose data prepare did not see, laid out as full_row counted). */
static void run_rows(onn_kctx *ctx, const ln_cfg *cfg, const void **gamma, const void **beta)
{
    char *scratch = ctx->scratch;
    const void **rows[2] = {gamma, beta};
    *gamma = cfg->gamma, *beta = cfg->beta;
    for (int i = 1; i <= 2; i++) {
        const onnorm_tensor *p = onn_opt_input(ctx, i);
        if (!p || *rows[i - 1]) continue;
        /* m == 0: rows of nothing, and no scratch to expand into */
        if (cfg->m == 0 || onn_dims_numel(p->dims, 0, p->rank) == cfg->m) {
            *rows[i - 1] = p->data;
            continue;
        }
        const size_t bytes = (size_t)cfg->m * onnorm_dtype_size(p->dtype);
        expand_row(p, ctx->in[0], cfg->axis, cfg->m, scratch);
        *rows[i - 1] = scratch;
        scratch += (bytes + ONN_KALIGN - 1) & ~(size_t)(ONN_KALIGN - 1);
    }
}

/* The arguments of the row loops of ln_run and rms_run. */
typedef struct ln_job {
    const ln_cfg *cfg;
    const onnorm_tensor *x;
    onnorm_tensor *y, *mean_out, *inv_out;
    const void *gamma, *beta;
    bool stream;
} ln_job;

static void ln_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const ln_job *j = arg;
    const ln_cfg *cfg = j->cfg;
    const onnorm_tensor *x = j->x;
    const int64_t m = cfg->m;
    for (int64_t r = r0; r < r1; r++) {
        onn_acc acc;
        double mean, var;
        onn_acc_init(&acc);
        cfg->mo->acc_add(x->dtype, x->data, r * m, m, &acc, cfg->stash != ONNORM_DOUBLE);
        onn_acc_result(&acc, &mean, &var);
        double inv = 1.0 / sqrt(var + (double)cfg->epsilon);
        cfg->mo->affine_vec(x->dtype, x->data, j->y->data, r * m, m, mean, inv, j->gamma, j->beta,
                            j->stream ? m : 0);
        if (j->mean_out) onn_store(cfg->stash, j->mean_out->data, r, mean);
        if (j->inv_out) onn_store(cfg->stash, j->inv_out->data, r, inv);
    }
}

static onnorm_status ln_run(onn_kctx *ctx)
{
    const ln_cfg *cfg = ctx->state;
    ln_job j = {.cfg = cfg, .x = ctx->in[0], .y = ctx->out[0]};
    run_rows(ctx, cfg, &j.gamma, &j.beta);
    j.mean_out = onn_opt_output(ctx, 1), j.inv_out = onn_opt_output(ctx, 2);
    j.stream = onn_stream_output(ctx->out[0]);
    const int64_t rows = cfg->rows;
    const int nt = onn_threads_for(ctx, rows * cfg->m, rows);
    onn_parallel_range(nt, rows, ln_rows, &j);
    return ONNORM_OK;
}

static void rms_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const ln_job *j = arg;
    const ln_cfg *cfg = j->cfg;
    const onnorm_tensor *x = j->x;
    const int64_t m = cfg->m;
    /* Float sums suffice unless the statistics are stashed as float64. */
    const bool fast = cfg->stash != ONNORM_DOUBLE;
    for (int64_t r = r0; r < r1; r++) {
        double ss = cfg->mo->sum_squares(x->dtype, x->data, r * m, m, fast);
        double ms = m ? ss / (double)m : 0.0;
        double inv = 1.0 / sqrt(ms + (double)cfg->epsilon);
        cfg->mo->affine_vec(x->dtype, x->data, j->y->data, r * m, m, 0.0, inv, j->gamma, NULL,
                            j->stream ? m : 0);
        if (j->inv_out) onn_store(cfg->stash, j->inv_out->data, r, inv);
    }
}

static onnorm_status rms_run(onn_kctx *ctx)
{
    const ln_cfg *cfg = ctx->state;
    ln_job j = {.cfg = cfg, .x = ctx->in[0], .y = ctx->out[0]};
    run_rows(ctx, cfg, &j.gamma, &j.beta);
    j.inv_out = onn_opt_output(ctx, 1);
    j.stream = onn_stream_output(ctx->out[0]);
    const int64_t rows = cfg->rows;
    const int nt = onn_threads_for(ctx, rows * cfg->m, rows);
    onn_parallel_range(nt, rows, rms_rows, &j);
    return ONNORM_OK;
}

/* ONNX Runtime's contrib forms: com.microsoft LayerNormalization is the
 * ai.onnx one; SimplifiedLayerNormalization (ORT's RMSNorm, registered by
 * ORT in both the default and the com.microsoft domain) is RMSNormalization
 * plus an optional inv_std_var output. */
#define LN_KERNEL(dom, op, ver, in_hi, out_hi, infer, run)                                         \
    {                                                                                              \
        ONN_KERNEL(dom, op, ver, 2, in_hi, 1, out_hi, infer, ln_prepare, run),                     \
            .config = ln_config, .state_size = sizeof(ln_cfg), .types = ONN_T_ALL_FLOATS,          \
            .inplace = true                                                                        \
    }

ONN_KERNEL_TABLE(layernorm, LN_KERNEL("", "LayerNormalization", 17, 3, 3, ln_infer, ln_run),
                 LN_KERNEL("", "RMSNormalization", 23, 2, 1, rms_infer, rms_run),
                 LN_KERNEL("", "SimplifiedLayerNormalization", 1, 2, 2, rms_infer, rms_run),
                 LN_KERNEL("com.microsoft", "LayerNormalization", 1, 3, 3, ln_infer, ln_run),
                 LN_KERNEL("com.microsoft", "SimplifiedLayerNormalization", 1, 2, 2, rms_infer,
                           rms_run));
