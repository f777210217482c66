/*
 * Elementwise unary ops and activations (output = input's type and shape):
 *
 *   Sqrt, Reciprocal, Exp, Log, Sigmoid, Tanh   opset 6      float32/64
 *   Erf                                         opset 9      float32/64
 *   Neg, Abs                                    opset 6      float32/64, ints
 *                                                            (Neg: signed only)
 *   Relu                                        opset 6      float32/64, signed
 *                                                            ints (opset 14's)
 *   LeakyRelu (alpha 0.01)                      opset 6      float32/64
 *   HardSigmoid (alpha 0.2, beta 0.5)           opset 6      float32/64
 *   HardSwish                                   opset 14     float32/64
 *   Gelu (approximate "none" | "tanh")          opset 20     float32/64
 *   Clip                                        opset 6:  min/max attributes,
 *                                                         float32/64;
 *                                               opset 11: optional min/max
 *                                                         scalar inputs,
 *                                                         float32/64 and ints
 *
 * Float math runs in the element's own precision (<tgmath.h> picks expf for
 * float, exp for double), as ONNX's numpy reference does. Integer Neg/Abs
 * wrap (-INT_MIN == INT_MIN) instead of overflowing. NaN inputs give NaN
 * for every float op but Shrink (below); in particular Relu, HardSigmoid and Clip let NaN
 * through instead of clamping it.
 *
 * Clip applies max(x, min) and then min(., max), so min > max yields max
 * everywhere, as the spec says. An omitted bound does not clip. Config
 * reads every attribute (Clip-6's bounds included) into the node's state;
 * Clip-11's bound inputs are values, read at run.
 *
 *   Elu (alpha 1), Selu (alpha, gamma)          opset 6      float32/64
 *   Softplus, Softsign                          opset 1      float32/64
 *   Shrink (lambd 0.5, bias 0)                  opset 9      float32/64
 *   Sign                                        opset 9      float32/64, ints
 *
 * Selu's default alpha and gamma are the spec's values as float32, the
 * type the attribute is stored in. Elu and Selu use expm1, which keeps
 * alpha * (e^x - 1) accurate near 0. Softplus is evaluated as
 * max(x, 0) + log1p(e^-|x|): ln(1 + e^x) itself overflows for x above ~88
 * (float32) although the result is ~x. Shrink is the exception to "NaN
 * stays NaN": its formula sends every x that is neither < -lambd nor
 * > lambd to 0, NaN included (as ONNX's reference does). Softsign(+-inf) is
 * inf/inf, so it gives NaN there, as in the reference. Sign gives -1, 0 or 1
 * (a float zero keeps its sign bit).
 */
#include "ops/core/broadcast.h"
#include "ops/core/epilogue.h"

#include <stdio.h>
#include <string.h>
#include <tgmath.h>

/* Not in C11's <math.h>. */
#define ONN_SQRT1_2 0.70710678118654752440   /* 1 / sqrt(2) */
#define ONN_SQRT_2_PI 0.79788456080286535588 /* sqrt(2 / pi) */

typedef struct un_params {
    double alpha, beta;
    const void *lo, *hi; /* Clip bounds, one element of X's type */
} un_params;

/* A loop is an onn_span_fn whose param is the un_params. */
typedef onn_span_fn un_loop;

/* One loop per (op, type). The prelude binds the parameters the expression
 * may use to locals of the element type, so the loop body does not reload
 * them through p. */
#define UN_LOOP(name, T, EXPR)                                                                     \
    static void name(const void *px, void *py, int64_t n, const void *pp)                          \
    {                                                                                              \
        const un_params *p = pp;                                                                   \
        const T *X = px;                                                                           \
        T *Y = py;                                                                                 \
        const T alpha = (T)p->alpha, beta = (T)p->beta;                                            \
        (void)alpha, (void)beta;                                                                   \
        ONN_SIMD                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T x = X[i];                                                                      \
            Y[i] = (T)(EXPR);                                                                      \
        }                                                                                          \
    }

/* Clip reads its bounds as elements of X's type, so integer bounds stay
 * exact; memcpy because the bytes live in untyped slots. */
#define CLIP_LOOP(sfx, T, code, sgn)                                                               \
    static void clip_##sfx(const void *px, void *py, int64_t n, const void *pp)                    \
    {                                                                                              \
        const un_params *p = pp;                                                                   \
        const T *X = px;                                                                           \
        T *Y = py;                                                                                 \
        T lo, hi;                                                                                  \
        memcpy(&lo, p->lo, sizeof lo);                                                             \
        memcpy(&hi, p->hi, sizeof hi);                                                             \
        ONN_SIMD                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T t = X[i] < lo ? lo : X[i];                                                     \
            Y[i] = t > hi ? hi : t;                                                                \
        }                                                                                          \
    }
ONN_NUMERIC_TYPES(CLIP_LOOP)

/* sigmoid1_f32 is onn_sigmoidf (epilogue.h), shared with the fused
 * activations of convolutions and norms. */
#define sigmoid1_f32 onn_sigmoidf

static inline double sigmoid1_f64(double x)
{
    const double e = exp(-fabs(x)), r = 1.0 / (1.0 + e);
    return x >= 0.0 ? r : e * r;
}

/* clamp01(v) that keeps NaN. */
#define CLAMP01(T, v) ((v) < (T)0 ? (T)0 : (v) > (T)1 ? (T)1 : (v))

#define FLOAT_LOOPS(sfx, T, code, sgn)                                                             \
    UN_LOOP(sqrt_##sfx, T, sqrt(x))                                                                \
    UN_LOOP(recip_##sfx, T, (T)1 / x)                                                              \
    UN_LOOP(neg_##sfx, T, -x)                                                                      \
    UN_LOOP(abs_##sfx, T, fabs(x))                                                                 \
    UN_LOOP(relu_##sfx, T, x < (T)0 ? (T)0 : x)                                                    \
    UN_LOOP(leaky_##sfx, T, x < (T)0 ? (alpha) * (x) : x)                                          \
    UN_LOOP(sigmoid_##sfx, T, sigmoid1_##sfx(x))                                                   \
    UN_LOOP(tanh_##sfx, T, tanh(x))                                                                \
    UN_LOOP(erf_##sfx, T, erf(x))                                                                  \
    UN_LOOP(exp_##sfx, T, exp(x))                                                                  \
    UN_LOOP(log_##sfx, T, log(x))                                                                  \
    UN_LOOP(hsig_##sfx, T, CLAMP01(T, (alpha) * (x) + beta))                                       \
    UN_LOOP(hswish_##sfx, T, CLAMP01(T, x / (T)6 + (T)0.5) * x)                                    \
    UN_LOOP(gelu_##sfx, T, (T)0.5 * x * ((T)1 + erf(x * (T)ONN_SQRT1_2)))                          \
    UN_LOOP(gelu_tanh_##sfx, T,                                                                    \
            (T)0.5 * x * ((T)1 + tanh((T)ONN_SQRT_2_PI * (x + (T)0.044715 * x * x * x))))          \
    UN_LOOP(elu_##sfx, T, x < (T)0 ? alpha * expm1(x) : x)                                         \
    UN_LOOP(selu_##sfx, T, x > (T)0 ? beta * x : beta * alpha * expm1(x))                          \
    UN_LOOP(softplus_##sfx, T, (x > (T)0 ? x : (T)0) + log1p(exp(-fabs(x))))                       \
    UN_LOOP(softsign_##sfx, T, x / ((T)1 + fabs(x)))                                               \
    UN_LOOP(shrink_##sfx, T, (x < -alpha) ? x + beta : (x > alpha) ? x - beta : (T)0)              \
    UN_LOOP(sign_##sfx, T, x > (T)0 ? (T)1 : x < (T)0 ? (T)-1 : x)
ONN_FLOAT_TYPES(FLOAT_LOOPS)

/* Integer negation through uint64_t wraps instead of overflowing. */
#define SIGNED_LOOPS(sfx, T, code, sgn)                                                            \
    UN_LOOP(neg_##sfx, T, 0 - (uint64_t)x)                                                         \
    UN_LOOP(abs_##sfx, T, x < 0 ? 0 - (uint64_t)x : (uint64_t)x)                                   \
    UN_LOOP(relu_##sfx, T, x < 0 ? 0 : x)                                                          \
    UN_LOOP(sign_##sfx, T, (x > 0) - (x < 0))
ONN_SIGNED_INT_TYPES(SIGNED_LOOPS)

/* No `x < 0` test for Sign: it is always false for unsigned types (and warns). */
#define UNSIGNED_LOOPS(sfx, T, code, sgn)                                                          \
    UN_LOOP(abs_##sfx, T, x)                                                                       \
    UN_LOOP(sign_##sfx, T, x != 0)
ONN_UNSIGNED_INT_TYPES(UNSIGNED_LOOPS)

typedef enum un_op {
    U_SQRT,
    U_RECIP,
    U_NEG,
    U_ABS,
    U_RELU,
    U_LEAKY,
    U_SIGMOID,
    U_TANH,
    U_ERF,
    U_EXP,
    U_LOG,
    U_HSIG,
    U_HSWISH,
    U_GELU,
    U_GELU_TANH,
    U_CLIP,
    U_ELU,
    U_SELU,
    U_SOFTPLUS,
    U_SOFTSIGN,
    U_SHRINK,
    U_SIGN,
    U_COUNT
} un_op;

typedef struct un_row {
    onnorm_dtype dtype;
    un_loop fn[U_COUNT];
} un_row;

/* clang-format off */
#define FLOAT_ROW(sfx, T, code, sgn)                                                               \
    {code,                                                                                         \
     {sqrt_##sfx, recip_##sfx, neg_##sfx, abs_##sfx, relu_##sfx, leaky_##sfx, sigmoid_##sfx,      \
      tanh_##sfx, erf_##sfx, exp_##sfx, log_##sfx, hsig_##sfx, hswish_##sfx, gelu_##sfx,          \
      gelu_tanh_##sfx, clip_##sfx, elu_##sfx, selu_##sfx, softplus_##sfx, softsign_##sfx,        \
      shrink_##sfx, sign_##sfx}},
#define SIGNED_ROW(sfx, T, code, sgn)                                                              \
    {code, {[U_NEG] = neg_##sfx, [U_ABS] = abs_##sfx, [U_RELU] = relu_##sfx, [U_CLIP] = clip_##sfx, \
            [U_SIGN] = sign_##sfx}},
#define UNSIGNED_ROW(sfx, T, code, sgn)                                                            \
    {code, {[U_ABS] = abs_##sfx, [U_CLIP] = clip_##sfx, [U_SIGN] = sign_##sfx}},

static const un_row un_rows[] = {
    ONN_FLOAT_TYPES(FLOAT_ROW) ONN_SIGNED_INT_TYPES(SIGNED_ROW) ONN_UNSIGNED_INT_TYPES(UNSIGNED_ROW)
};
/* clang-format on */

static un_loop find_loop(un_op op, onnorm_dtype t)
{
    for (size_t i = 0; i < sizeof un_rows / sizeof un_rows[0]; i++)
        if (un_rows[i].dtype == t) return un_rows[i].fn[op];
    return NULL;
}

/* Lists the types op supports into buf, for error messages. */
static const char *supported_types(un_op op, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof un_rows / sizeof un_rows[0] && used < len; i++)
        if (un_rows[i].fn[op])
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                                     onnorm_dtype_name(un_rows[i].dtype));
    return buf;
}

/* ---- op descriptions ------------------------------------------------------ */

/* A table entry's data: the op's loop and the two float parameters a loop
 * may read, as the attributes that set them (NULL when the op has none) and
 * their defaults. */
typedef struct un_desc {
    un_op op;
    const char *alpha_attr, *beta_attr;
    float alpha, beta;
} un_desc;

static const un_desc descs[] = {
    [U_SQRT] = {U_SQRT},
    [U_RECIP] = {U_RECIP},
    [U_NEG] = {U_NEG},
    [U_ABS] = {U_ABS},
    [U_RELU] = {U_RELU},
    [U_LEAKY] = {U_LEAKY, "alpha", NULL, 0.01f, 0},
    [U_SIGMOID] = {U_SIGMOID},
    [U_TANH] = {U_TANH},
    [U_ERF] = {U_ERF},
    [U_EXP] = {U_EXP},
    [U_LOG] = {U_LOG},
    [U_HSIG] = {U_HSIG, "alpha", "beta", 0.2f, 0.5f},
    [U_HSWISH] = {U_HSWISH},
    [U_GELU] = {U_GELU}, /* approximate="tanh" selects U_GELU_TANH */
    [U_CLIP] = {U_CLIP},
    [U_ELU] = {U_ELU, "alpha", NULL, 1.0f, 0},
    [U_SELU] = {U_SELU, "alpha", "gamma", 1.67326319217681884765625f, 1.05070102214813232421875f},
    [U_SOFTPLUS] = {U_SOFTPLUS},
    [U_SOFTSIGN] = {U_SOFTSIGN},
    [U_SHRINK] = {U_SHRINK, "lambd", "bias", 0.5f, 0},
    [U_SIGN] = {U_SIGN},
};

/* What run needs: the loop and its parameters. */
typedef struct un_cfg {
    un_loop fn;
    double alpha, beta;
    /* Clip: the bounds as X's type (8-byte slots hold any type), or the
     * input that holds a bound (Clip-11), read at run. */
    uint64_t lo, hi;
    bool lo_input, hi_input;
} un_cfg;

/* The float attribute `name` (none when NULL) or its default. */
static onnorm_status param_attr(onn_kctx *ctx, const char *name, float dflt, double *out)
{
    float v = dflt;
    onnorm_status st = name ? onn_kattr_float(ctx, name, dflt, &v) : ONNORM_OK;
    *out = v;
    return st;
}

/* ---- Clip bounds ------------------------------------------------------------ */

/* Opset 11+: optional inputs 1 (min) and 2 (max), one element of X's type. */
static onnorm_status check_bound_inputs(onn_kctx *ctx)
{
    static const char *names[] = {"input", "min", "max"};
    const onnorm_tensor *x = ctx->in[0];
    char sh[128];
    for (int i = 1; i < ctx->n_in && i < 3; i++) {
        const onnorm_tensor *b = ctx->in[i];
        if (!b) continue;
        if (b->dtype != x->dtype)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                             "input '%s' has type %s, expected %s like the "
                             "input",
                             names[i], onnorm_dtype_name(b->dtype), onnorm_dtype_name(x->dtype));
        if (onnorm_tensor_numel(b) != 1)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input '%s' must be a scalar, got shape %s",
                             names[i], onn_shape_str(b->dims, b->rank, sh, sizeof sh));
    }
    return ONNORM_OK;
}

/* The widest range of each type: an omitted bound clips nothing. */
#define TYPE_RANGE(sfx, T, code, sgn)                                                              \
    static void range_##sfx(void *lo, void *hi)                                                    \
    {                                                                                              \
        const int bits = (int)(8 * sizeof(T));                                                     \
        const T tmax = (T)((sgn) ? ((uint64_t)1 << (bits - 1)) - 1 : ~(uint64_t)0);                \
        const T tmin = (sgn) ? (T)(-tmax - 1) : (T)0;                                              \
        memcpy(hi, &tmax, sizeof tmax);                                                            \
        memcpy(lo, &tmin, sizeof tmin);                                                            \
    }
ONN_INT_TYPES(TYPE_RANGE)

#define FLOAT_RANGE(sfx, T, code, sgn)                                                             \
    static void range_##sfx(void *lo, void *hi)                                                    \
    {                                                                                              \
        const T tmin = (T)-INFINITY, tmax = (T)INFINITY;                                           \
        memcpy(lo, &tmin, sizeof tmin);                                                            \
        memcpy(hi, &tmax, sizeof tmax);                                                            \
    }
ONN_FLOAT_TYPES(FLOAT_RANGE)

typedef struct range_row {
    onnorm_dtype dtype;
    void (*fn)(void *lo, void *hi);
} range_row;

#define RANGE_ROW(sfx, T, code, sgn) {code, range_##sfx},
static const range_row range_rows[] = {ONN_NUMERIC_TYPES(RANGE_ROW)};

/* Clip's bounds: X's type's range where no bound is given; Clip-6's
 * attributes (float inputs only) or Clip-11's scalar inputs otherwise. */
static onnorm_status clip_bounds(onn_kctx *ctx, un_cfg *cfg)
{
    const onnorm_tensor *x = ctx->in[0];
    for (size_t i = 0; i < sizeof range_rows / sizeof range_rows[0]; i++)
        if (range_rows[i].dtype == x->dtype) range_rows[i].fn(&cfg->lo, &cfg->hi);
    if (onn_kversion(ctx) >= 11) {
        cfg->lo_input = onn_has_input(ctx, 1);
        cfg->hi_input = onn_has_input(ctx, 2);
        return check_bound_inputs(ctx);
    }
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "max" : "min";
        void *slot = i ? (void *)&cfg->hi : (void *)&cfg->lo;
        float v;
        if (!onn_kattr_has(ctx, name)) continue;
        onnorm_status st = onn_kattr_float(ctx, name, 0.0f, &v);
        if (st) return st;
        if (x->dtype == ONNORM_FLOAT) {
            memcpy(slot, &v, sizeof v);
        } else {
            double dv = v;
            memcpy(slot, &dv, sizeof dv);
        }
    }
    return ONNORM_OK;
}

/* ---- kernel ------------------------------------------------------------------- */

static onnorm_status un_config(onn_kctx *ctx)
{
    static const char *const approximations[] = {"none", "tanh"};
    un_cfg *cfg = ctx->state;
    const un_desc *d = ctx->kernel->data;
    const onnorm_tensor *x = ctx->in[0];
    un_op op = d->op;
    char types[256];
    onnorm_status st;
    if ((st = param_attr(ctx, d->alpha_attr, d->alpha, &cfg->alpha)) ||
        (st = param_attr(ctx, d->beta_attr, d->beta, &cfg->beta)))
        return st;
    if (op == U_GELU) {
        int tanh_form;
        if ((st = onn_kattr_enum(ctx, "approximate", approximations, 2, 0, &tanh_form))) return st;
        if (tanh_form) op = U_GELU_TANH;
    }
    /* Clip-6's attribute bounds are floats: only float inputs make sense. */
    const bool float_clip = op == U_CLIP && onn_kversion(ctx) < 11;
    cfg->fn = find_loop(op, x->dtype);
    if (!cfg->fn || (float_clip && !onn_is_float_type(x->dtype)))
        return onn_kfail(
            ctx, ONNORM_ERR_DTYPE, "input has type %s; supported: %s", onnorm_dtype_name(x->dtype),
            float_clip ? "float32, float64" : supported_types(op, types, sizeof types));
    return op == U_CLIP ? clip_bounds(ctx, cfg) : ONNORM_OK;
}

/* config checked X's type: Y is X's type and shape. */
static onnorm_status un_infer(onn_kctx *ctx)
{
    onn_set_output(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->rank, ctx->in[0]->dims);
    return ONNORM_OK;
}

static onnorm_status un_run(onn_kctx *ctx)
{
    const un_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const un_params p = {cfg->alpha, cfg->beta, cfg->lo_input ? ctx->in[1]->data : &cfg->lo,
                         cfg->hi_input ? ctx->in[2]->data : &cfg->hi};
    onn_span_parallel(ctx, cfg->fn, x->data, ctx->out[0]->data, onnorm_tensor_numel(x),
                      onnorm_dtype_size(x->dtype), &p);
    return ONNORM_OK;
}

#define UNARY_V(op, ver, in_hi, d)                                                                 \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 1, in_hi, 1, 1, un_infer, NULL, un_run),                           \
            .config = un_config, .state_size = sizeof(un_cfg), .data = &descs[d]                   \
    }
#define UNARY(op, ver, d) UNARY_V(op, ver, 1, d)

ONN_KERNEL_TABLE(unary, UNARY("Sqrt", 6, U_SQRT), UNARY("Reciprocal", 6, U_RECIP),
                 UNARY("Neg", 6, U_NEG), UNARY("Abs", 6, U_ABS), UNARY("Relu", 6, U_RELU),
                 UNARY("LeakyRelu", 6, U_LEAKY), UNARY("Sigmoid", 6, U_SIGMOID),
                 UNARY("Tanh", 6, U_TANH), UNARY("Erf", 9, U_ERF), UNARY("Exp", 6, U_EXP),
                 UNARY("Log", 6, U_LOG), UNARY("HardSigmoid", 6, U_HSIG),
                 UNARY("HardSwish", 14, U_HSWISH), UNARY("Gelu", 20, U_GELU),
                 UNARY("Clip", 6, U_CLIP), UNARY("Elu", 6, U_ELU), UNARY("Selu", 6, U_SELU),
                 UNARY("Softplus", 1, U_SOFTPLUS), UNARY("Softsign", 1, U_SOFTSIGN),
                 UNARY("Shrink", 9, U_SHRINK), UNARY("Sign", 9, U_SIGN),
                 UNARY_V("Clip", 11, 3, U_CLIP));
