/*
 * Input standardization from the ai.onnx.ml domain, version 1, as classic
 * exported pipelines (scikit-learn via skl2onnx) put in front of a model:
 *   Scaler:      Y = (X - offset) * scale, offset and scale holding one
 *                value or one per column (the last dim);
 *   Normalizer:  per row, Y = X / max(X) ("MAX"), X / sum(|X|) ("L1") or
 *                X / sqrt(sum(X^2)) ("L2").
 * X is float, double, int64 or int32, shaped [N, C] or [C]; Y is float32.
 * A row whose divisor is 0 gives 0 (the spec is silent; LpNormalization
 * chose the same).
 */
#include "ops/kernel.h"

#include <math.h>

static double load_any(const onnorm_tensor *x, int64_t i)
{
    switch (x->dtype) {
    case ONNORM_FLOAT: return ((const float *)x->data)[i];
    case ONNORM_DOUBLE: return ((const double *)x->data)[i];
    case ONNORM_INT64: return (double)((const int64_t *)x->data)[i];
    default: return ((const int32_t *)x->data)[i];
    }
}

/* Both ops' configuration starts by checking X, on which it depends. */
static onnorm_status check_input(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    if (x->dtype != ONNORM_FLOAT && x->dtype != ONNORM_DOUBLE && x->dtype != ONNORM_INT64 &&
        x->dtype != ONNORM_INT32)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "X has type %s; supported: float32, float64, int64, int32",
                         onnorm_dtype_name(x->dtype));
    if (x->rank < 1 || x->rank > 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X must be [N, C] or [C], got rank %d", x->rank);
    return ONNORM_OK;
}

/* Y is float32 of X's shape. */
static onnorm_status ml_infer(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    onn_set_output(ctx, 0, ONNORM_FLOAT, x->rank, x->dims);
    return ONNORM_OK;
}

/* Scaler's offset and scale: 1 or C floats each (absent: 0 and 1). */
typedef struct scaler_cfg {
    const float *offset, *scale;
    size_t n_offset, n_scale;
} scaler_cfg;

/* A FLOATS attribute of 1 or C values into *vals / *n (left alone when
 * absent). The node's attributes live as long as the model, so the state
 * keeps pointers to them. */
static onnorm_status per_column(onn_kctx *ctx, const char *name, int64_t c, const float **vals,
                                size_t *n)
{
    const onn_attr *a = onn_attr_find(ctx->node, name);
    if (!a) return ONNORM_OK;
    if (a->type != ONN_ATTR_FLOATS || (a->n != 1 && (int64_t)a->n != c))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' must hold 1 or %lld floats", name,
                         (long long)c);
    *vals = a->floats, *n = a->n;
    return ONNORM_OK;
}

static onnorm_status scaler_config(onn_kctx *ctx)
{
    scaler_cfg *cfg = ctx->state;
    onnorm_status st = check_input(ctx);
    if (st) return st;
    const int64_t c = ctx->in[0]->dims[ctx->in[0]->rank - 1];
    if (!(st = per_column(ctx, "offset", c, &cfg->offset, &cfg->n_offset)))
        st = per_column(ctx, "scale", c, &cfg->scale, &cfg->n_scale);
    return st;
}

static onnorm_status scaler_run(onn_kctx *ctx)
{
    const scaler_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const int64_t c = x->dims[x->rank - 1], n = onnorm_tensor_numel(x);
    float *y = ctx->out[0]->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t j = c ? i % c : 0;
        double o = cfg->offset ? cfg->offset[cfg->n_offset == 1 ? 0 : j] : 0.0;
        double s = cfg->scale ? cfg->scale[cfg->n_scale == 1 ? 0 : j] : 1.0;
        y[i] = (float)((load_any(x, i) - o) * s);
    }
    return ONNORM_OK;
}

typedef enum norm_kind { NORM_MAX, NORM_L1, NORM_L2 } norm_kind;

static onnorm_status normalizer_config(onn_kctx *ctx)
{
    static const char *const names[] = {"MAX", "L1", "L2"};
    int v = NORM_MAX;
    onnorm_status st = check_input(ctx);
    if (!st) st = onn_kattr_enum(ctx, "norm", names, 3, NORM_MAX, &v);
    *(norm_kind *)ctx->state = (norm_kind)v;
    return st;
}

static onnorm_status normalizer_run(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    const norm_kind k = *(const norm_kind *)ctx->state;
    const int64_t c = x->dims[x->rank - 1], rows = c ? onnorm_tensor_numel(x) / c : 0;
    float *y = ctx->out[0]->data;
    for (int64_t r = 0; r < rows; r++) {
        double d = k == NORM_MAX ? -INFINITY : 0.0;
        for (int64_t j = 0; j < c; j++) {
            double v = load_any(x, r * c + j);
            if (k == NORM_MAX)
                d = v > d ? v : d;
            else if (k == NORM_L1)
                d += fabs(v);
            else
                d += v * v;
        }
        if (k == NORM_L2) d = sqrt(d);
        for (int64_t j = 0; j < c; j++)
            y[r * c + j] = d != 0.0 ? (float)(load_any(x, r * c + j) / d) : 0.0f;
    }
    return ONNORM_OK;
}

#define ML_TYPES                                                                                   \
    (ONN_T(ONNORM_FLOAT) | ONN_T(ONNORM_DOUBLE) | ONN_T(ONNORM_INT64) | ONN_T(ONNORM_INT32))

ONN_KERNEL_TABLE(ml_scaler,
                 {ONN_KERNEL("ai.onnx.ml", "Scaler", 1, 1, 1, 1, 1, ml_infer, NULL, scaler_run),
                  .config = scaler_config, .state_size = sizeof(scaler_cfg), .types = ML_TYPES},
                 {ONN_KERNEL("ai.onnx.ml", "Normalizer", 1, 1, 1, 1, 1, ml_infer, NULL,
                             normalizer_run),
                  .config = normalizer_config, .state_size = sizeof(norm_kind), .types = ML_TYPES});
