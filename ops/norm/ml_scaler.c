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
#include <string.h>

static double load_any(const onnorm_tensor *x, int64_t i)
{
    switch (x->dtype) {
    case ONNORM_FLOAT: return ((const float *)x->data)[i];
    case ONNORM_DOUBLE: return ((const double *)x->data)[i];
    case ONNORM_INT64: return (double)((const int64_t *)x->data)[i];
    default: return ((const int32_t *)x->data)[i];
    }
}

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
    onn_set_output(ctx, 0, ONNORM_FLOAT, x->rank, x->dims);
    return ONNORM_OK;
}

/* A FLOATS attribute of 1 or C values; NULL (with an error) otherwise. */
static const onn_attr *per_column(onn_kctx *ctx, const char *name, int64_t c, onnorm_status *st)
{
    const onn_attr *a = onn_attr_find(ctx->node, name);
    *st = ONNORM_OK;
    if (!a) return NULL;
    if (a->type != ONN_ATTR_FLOATS || (a->n != 1 && (int64_t)a->n != c))
        *st = onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' must hold 1 or %lld floats", name,
                        (long long)c);
    return a;
}

static onnorm_status scaler_infer(onn_kctx *ctx)
{
    onnorm_status st = check_input(ctx);
    const int64_t c = ctx->in[0]->dims[ctx->in[0]->rank - 1];
    if (!st) per_column(ctx, "offset", c, &st);
    if (!st) per_column(ctx, "scale", c, &st);
    return st;
}

static onnorm_status scaler_run(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    const int64_t c = x->dims[x->rank - 1], n = onnorm_tensor_numel(x);
    onnorm_status st;
    const onn_attr *off = per_column(ctx, "offset", c, &st), *sc = per_column(ctx, "scale", c, &st);
    float *y = ctx->out[0]->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t j = c ? i % c : 0;
        double o = off ? off->floats[off->n == 1 ? 0 : j] : 0.0;
        double s = sc ? sc->floats[sc->n == 1 ? 0 : j] : 1.0;
        y[i] = (float)((load_any(x, i) - o) * s);
    }
    return ONNORM_OK;
}

typedef enum norm_kind { NORM_MAX, NORM_L1, NORM_L2 } norm_kind;

static onnorm_status read_norm(onn_kctx *ctx, norm_kind *k)
{
    const onn_attr *a = onn_attr_find(ctx->node, "norm");
    const char *s = a && a->type == ONN_ATTR_STRING ? a->s : "MAX";
    if (a && a->type != ONN_ATTR_STRING)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'norm' must be a string");
    if (!strcmp(s, "MAX"))
        *k = NORM_MAX;
    else if (!strcmp(s, "L1"))
        *k = NORM_L1;
    else if (!strcmp(s, "L2"))
        *k = NORM_L2;
    else
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "norm '%s'; supported: MAX, L1, L2", s);
    return ONNORM_OK;
}

static onnorm_status normalizer_infer(onn_kctx *ctx)
{
    norm_kind k;
    onnorm_status st = check_input(ctx);
    return st ? st : read_norm(ctx, &k);
}

static onnorm_status normalizer_run(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    norm_kind k;
    onnorm_status st = read_norm(ctx, &k);
    if (st) return st;
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

const onn_kernel onn_kernels_ml_scaler[] = {
    {ONN_KERNEL("ai.onnx.ml", "Scaler", 1, 1, 1, 1, 1, scaler_infer, NULL, scaler_run),
     .types = ML_TYPES},
    {ONN_KERNEL("ai.onnx.ml", "Normalizer", 1, 1, 1, 1, 1, normalizer_infer, NULL, normalizer_run),
     .types = ML_TYPES},
};
const int onn_kernels_ml_scaler_count = 2;
