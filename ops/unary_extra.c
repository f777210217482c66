/*
 * More elementwise activations (output = input's type and shape):
 *
 *   Elu (alpha 1)                               opset 6   float32/64
 *   Selu (alpha 1.6732632, gamma 1.0507010)     opset 6   float32/64
 *   Softplus                                    opset 1   float32/64
 *   Softsign                                    opset 1   float32/64
 *   Shrink (lambd 0.5, bias 0)                  opset 9   float32/64
 *   Sign                                        opset 9   float32/64, ints
 *                                               (13 only adds bfloat16)
 *
 * The default attribute values are the float32 numbers the spec gives.
 * Math runs in the element's own precision (<tgmath.h>), as in unary.c.
 * Elu and Selu use expm1, which keeps alpha * (e^x - 1) accurate near 0.
 * Softplus is evaluated as max(x, 0) + log1p(e^-|x|): ln(1 + e^x) itself
 * overflows to inf for x above ~88 (float32) although the result is ~x.
 * NaN stays NaN, except in Shrink, whose spec formula sends every x that is
 * neither < -lambd nor > lambd to 0, NaN included (as ONNX's reference
 * does). Softsign follows its formula x / (1 + |x|) literally, so +-inf
 * gives NaN there, as in the reference. Sign gives -1, 0 or 1 (a float
 * zero keeps its sign bit).
 */
#include "ops/broadcast.h"

#include <string.h>
#include <tgmath.h>

typedef struct ux_params {
    double a, b; /* alpha, gamma / lambd, bias */
} ux_params;

typedef void (*ux_loop)(const void *x, void *y, int64_t n, const ux_params *p);

/* One loop per (op, type); `a` and `b` are bound to the element type. */
#define UX_LOOP(name, T, EXPR)                                                                     \
    static void name(const void *px, void *py, int64_t n, const ux_params *p)                      \
    {                                                                                              \
        const T *X = px;                                                                           \
        T *Y = py;                                                                                 \
        const T a = (T)p->a, b = (T)p->b;                                                          \
        (void)a, (void)b;                                                                          \
        ONN_SIMD                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T x = X[i];                                                                      \
            Y[i] = (T)(EXPR);                                                                      \
        }                                                                                          \
    }

#define FLOAT_LOOPS(sfx, T, code, sgn)                                                             \
    UX_LOOP(elu_##sfx, T, x < (T)0 ? a * expm1(x) : x)                                             \
    UX_LOOP(selu_##sfx, T, x > (T)0 ? b * x : b * a * expm1(x))                                    \
    UX_LOOP(softplus_##sfx, T, (x > (T)0 ? x : (T)0) + log1p(exp(-fabs(x))))                       \
    UX_LOOP(softsign_##sfx, T, x / ((T)1 + fabs(x)))                                               \
    UX_LOOP(shrink_##sfx, T, (x < -a) ? x + b : (x > a) ? x - b : (T)0)                            \
    UX_LOOP(sign_##sfx, T, x > (T)0 ? (T)1 : x < (T)0 ? (T)-1 : x)
ONN_FLOAT_TYPES(FLOAT_LOOPS)

#define SIGNED_LOOPS(sfx, T, code, sgn) UX_LOOP(sign_##sfx, T, (x > 0) - (x < 0))
ONN_SIGNED_INT_TYPES(SIGNED_LOOPS)

/* No `x < 0` test: it is always false for unsigned types (and warns). */
#define UNSIGNED_LOOPS(sfx, T, code, sgn) UX_LOOP(sign_##sfx, T, x != 0)
ONN_UNSIGNED_INT_TYPES(UNSIGNED_LOOPS)

typedef enum ux_op { X_ELU, X_SELU, X_SOFTPLUS, X_SOFTSIGN, X_SHRINK, X_SIGN, X_COUNT } ux_op;

typedef struct ux_row {
    onnorm_dtype dtype;
    ux_loop fn[X_COUNT];
} ux_row;

/* clang-format off */
#define FLOAT_ROW(sfx, T, code, sgn)                                                               \
    {code, {elu_##sfx, selu_##sfx, softplus_##sfx, softsign_##sfx, shrink_##sfx, sign_##sfx}},
#define INT_ROW(sfx, T, code, sgn) {code, {[X_SIGN] = sign_##sfx}},

static const ux_row ux_rows[] = {ONN_FLOAT_TYPES(FLOAT_ROW) ONN_INT_TYPES(INT_ROW)};
/* clang-format on */

static ux_loop find_loop(ux_op op, onnorm_dtype t)
{
    for (size_t i = 0; i < sizeof ux_rows / sizeof ux_rows[0]; i++)
        if (ux_rows[i].dtype == t) return ux_rows[i].fn[op];
    return NULL;
}

/* ---- op descriptions ------------------------------------------------------ */

typedef struct ux_desc {
    const char *name;
    ux_op op;
    const char *a_name, *b_name; /* attributes, NULL when the op has none */
    float a_dflt, b_dflt;
} ux_desc;

static const ux_desc descs[] = {
    {"Elu", X_ELU, "alpha", NULL, 1.0f, 0.0f},
    {"Selu", X_SELU, "alpha", "gamma", 1.67326319217681884765625f, 1.05070102214813232421875f},
    {"Softplus", X_SOFTPLUS, NULL, NULL, 0.0f, 0.0f},
    {"Softsign", X_SOFTSIGN, NULL, NULL, 0.0f, 0.0f},
    {"Shrink", X_SHRINK, "lambd", "bias", 0.5f, 0.0f},
    {"Sign", X_SIGN, NULL, NULL, 0.0f, 0.0f},
};

static const ux_desc *desc_of(const onn_kctx *ctx)
{
    for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++)
        if (strcmp(descs[i].name, ctx->node->op_type) == 0) return &descs[i];
    return NULL;
}

static onnorm_status read_params(onn_kctx *ctx, const ux_desc *d, ux_params *p)
{
    float a = d->a_dflt, b = d->b_dflt;
    if ((d->a_name && !onn_attr_float(ctx->node, d->a_name, d->a_dflt, &a, ctx->err)) ||
        (d->b_name && !onn_attr_float(ctx->node, d->b_name, d->b_dflt, &b, ctx->err)))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s",
                         ctx->err ? ctx->err->message : "bad attribute");
    p->a = a, p->b = b;
    return ONNORM_OK;
}

/* ---- kernel ------------------------------------------------------------------- */

static onnorm_status ux_infer(onn_kctx *ctx)
{
    const ux_desc *d = desc_of(ctx);
    const onnorm_tensor *x = ctx->in[0];
    ux_params p;
    if (!d) return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "not an elementwise unary op");
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input is missing");
    onnorm_status st = read_params(ctx, d, &p);
    if (st) return st;
    if (!find_loop(d->op, x->dtype))
        return onn_kfail(
            ctx, ONNORM_ERR_DTYPE, "input has type %s; supported: %s", onnorm_dtype_name(x->dtype),
            d->op == X_SIGN ? "float32, float64, int8-64, uint8-64" : "float32, float64");
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    return ONNORM_OK;
}

static onnorm_status ux_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK;
    const ux_desc *d = desc_of(ctx);
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    ux_params p;
    onnorm_status st = read_params(ctx, d, &p);
    if (st) return st;
    const ux_loop fn = find_loop(d->op, x->dtype);
    if (!fn)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "type %s is not supported",
                         onnorm_dtype_name(x->dtype));
    const int64_t n = onnorm_tensor_numel(x);
    const size_t esz = onnorm_dtype_size(x->dtype);
    const int nt = onn_elementwise_threads(ctx, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < nt; c++) {
        int64_t b, e;
        onn_chunk(n, nt, c, &b, &e);
        fn((const char *)x->data + (size_t)b * esz, (char *)y->data + (size_t)b * esz, e - b, &p);
    }
    return ONNORM_OK;
}

#define UX(op, ver)                                                                                \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 1, 1, 1, 1, ux_infer, ux_run)                                      \
    }

const onn_kernel onn_kernels_unary_extra[] = {
    UX("Elu", 6),      UX("Selu", 6),   UX("Softplus", 1),
    UX("Softsign", 1), UX("Shrink", 9), UX("Sign", 9),
};
const int onn_kernels_unary_extra_count =
    sizeof onn_kernels_unary_extra / sizeof onn_kernels_unary_extra[0];
