/*
 * Elementwise unary ops and activations (output = input's shape, and its
 * type except for IsInf and IsNaN, whose output is bool). "float" below is
 * float32, float64, float16 and bfloat16.
 *
 *   Sqrt, Reciprocal, Exp, Log, Sigmoid, Tanh   opset 6, 13      float
 *   Erf                                         opset 9, 13      float
 *   Neg, Abs                                    opset 6, 13      float, ints
 *                                                                (Neg: signed only)
 *   Relu                                        opset 6, 13, 14  float, signed ints
 *   LeakyRelu (alpha 0.01)                      opset 6, 16      float
 *   HardSigmoid (alpha 0.2, beta 0.5)           opset 6, 22      float
 *   HardSwish                                   opset 14, 22     float
 *   Gelu (approximate "none" | "tanh")          opset 20         float
 *   Clip                                        opset 6:  min/max attributes,
 *                                                         float;
 *                                               opset 11, 12, 13: optional
 *                                                         min/max scalar
 *                                                         inputs, float and ints
 *   Elu (alpha 1), Selu (alpha, gamma)          opset 6, 22      float
 *   Softplus, Softsign                          opset 1, 22      float
 *   Shrink (lambd 0.5, bias 0)                  opset 9          float
 *   Sign                                        opset 9, 13      float, ints
 *   Sin, Cos, Tan, Asin, Acos, Atan             opset 7, 22      float
 *   Sinh, Cosh, Asinh, Acosh, Atanh             opset 9, 22      float
 *   Floor, Ceil                                 opset 1, 6, 13   float
 *   Round                                       opset 11, 22     float
 *   Celu (alpha 1)                              opset 12         float
 *   ThresholdedRelu (alpha 1)                   opset 10, 22     float
 *   IsInf (detect_positive 1, detect_negative 1) opset 10, 20    float -> bool
 *   IsNaN                                       opset 9, 13, 20  float -> bool
 *   Not                                         opset 1          bool
 *
 * The later versions of an op (13, 14, 16, 20, 22 above) only add types;
 * every version accepts every type listed (float8 types are not supported).
 *
 * Float math runs in the element's own precision (<tgmath.h> picks expf for
 * float, exp for double), as ONNX's numpy reference does; float16 and
 * bfloat16 are widened to float, computed there and rounded once to
 * nearest-even (ops/half.h). Integer Neg/Abs
 * wrap (-INT_MIN == INT_MIN) instead of overflowing. NaN inputs give NaN
 * for every float op but Shrink (below); in particular Relu, HardSigmoid and Clip let NaN
 * through instead of clamping it.
 *
 * Clip applies max(x, min) and then min(., max), so min > max yields max
 * everywhere, as the spec says. An omitted bound does not clip. Config
 * reads every attribute (Clip-6's bounds included) into the node's state;
 * Clip-11's bound inputs are values, read at run. Clip-6's float bounds on
 * float16/bfloat16 input are rounded to that type first.
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
 *
 * The inverse functions give NaN outside their domain (Asin(2),
 * Acosh(0.5)), and Atanh(+-1) gives +-inf, as the C library and NumPy do.
 * Round rounds half to even (numpy.round) without depending on the FPU's
 * rounding mode: x - remainder(x, 1), with -0 kept for x in (-0.5, -0]
 * and infinities passed through. Celu is max(0, x) + min(0, alpha *
 * (exp(x / alpha) - 1)), evaluated as x for x > 0 and alpha * expm1(x /
 * alpha) otherwise; alpha = 0 is refused (the formula divides by it).
 * ThresholdedRelu gives x where x > alpha, else 0 (NaN gives 0). IsInf's
 * flags must be 0 or 1. Not reads any nonzero byte as true.
 */
#include "ops/core/broadcast.h"
#include "ops/core/threadpool.h"
#include "ops/core/epilogue.h"
#include "ops/core/vmath.h"
#include "ops/isa.h"
#include "ops/half.h"

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

/* One loop per (op, type). Elements of TX are loaded with LD (empty: as
 * they are) into x of type TC, and EXPR's value is stored into TY with ST
 * (a cast, or a narrowing conversion to float16/bfloat16). The prelude
 * binds the parameters the expression may use to locals of type TC, so the
 * loop body does not reload them through p. */
#define UN_LOOP_CVT(name, TX, TC, TY, LD, ST, EXPR)                                                \
    static void name(const void *px, void *py, int64_t n, const void *pp)                          \
    {                                                                                              \
        const un_params *p = pp;                                                                   \
        const TX *X = px;                                                                          \
        TY *Y = py;                                                                                \
        const TC alpha = (TC)p->alpha, beta = (TC)p->beta;                                         \
        (void)alpha, (void)beta;                                                                   \
        ONN_SIMD                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const TC x = LD(X[i]);                                                                 \
            Y[i] = ST(EXPR);                                                                       \
        }                                                                                          \
    }
#define UN_LOOP(name, T, EXPR) UN_LOOP_CVT(name, T, T, T, , (T), EXPR)

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

/* Round half to even without depending on the FPU's rounding mode:
 * remainder(x, 1) is x minus the nearest integer, ties to even, exactly;
 * copysign keeps -0 for x in (-0.5, 0]; infinities and NaN pass through. */
#define ROUND_EVEN(x) (isinf(x) ? (x) : copysign((x)-remainder((x), 1), (x)))

/* erf and tanh: float32 (and float16/bfloat16, computed in float) use
 * vmath.h's branch-free versions, within 1 ulp, so that the Erf, Tanh and
 * Gelu loops vectorize; float64 uses libm. */
#define ERF_f32 onn_erff
#define ERF_f16 onn_erff
#define ERF_bf16 onn_erff
#define ERF_f64 erf
#define TANH_f32 onn_tanhf
#define TANH_f16 onn_tanhf
#define TANH_bf16 onn_tanhf
#define TANH_f64 tanh

/* The float ops, computed in TC (float for float16 and bfloat16: one
 * rounding of the float result). */
#define FLOAT_COMMON(sfx, TX, TC, LD, ST)                                                          \
    UN_LOOP_CVT(sqrt_##sfx, TX, TC, TX, LD, ST, sqrt(x))                                           \
    UN_LOOP_CVT(recip_##sfx, TX, TC, TX, LD, ST, (TC)1 / x)                                        \
    UN_LOOP_CVT(neg_##sfx, TX, TC, TX, LD, ST, -x)                                                 \
    UN_LOOP_CVT(abs_##sfx, TX, TC, TX, LD, ST, fabs(x))                                            \
    UN_LOOP_CVT(relu_##sfx, TX, TC, TX, LD, ST, x < (TC)0 ? (TC)0 : x)                             \
    UN_LOOP_CVT(leaky_##sfx, TX, TC, TX, LD, ST, x < (TC)0 ? (alpha) * (x) : x)                    \
    UN_LOOP_CVT(sigmoid_##sfx, TX, TC, TX, LD, ST, sigmoid1_##sfx(x))                              \
    UN_LOOP_CVT(tanh_##sfx, TX, TC, TX, LD, ST, TANH_##sfx(x))                                     \
    UN_LOOP_CVT(erf_##sfx, TX, TC, TX, LD, ST, ERF_##sfx(x))                                       \
    UN_LOOP_CVT(exp_##sfx, TX, TC, TX, LD, ST, exp(x))                                             \
    UN_LOOP_CVT(log_##sfx, TX, TC, TX, LD, ST, log(x))                                             \
    UN_LOOP_CVT(hsig_##sfx, TX, TC, TX, LD, ST, CLAMP01(TC, (alpha) * (x) + beta))                 \
    UN_LOOP_CVT(hswish_##sfx, TX, TC, TX, LD, ST, CLAMP01(TC, x / (TC)6 + (TC)0.5) * x)            \
    UN_LOOP_CVT(gelu_##sfx, TX, TC, TX, LD, ST,                                                    \
                (TC)0.5 * x * ((TC)1 + ERF_##sfx(x * (TC)ONN_SQRT1_2)))                            \
    UN_LOOP_CVT(gelu_tanh_##sfx, TX, TC, TX, LD, ST,                                               \
                (TC)0.5 * x *                                                                      \
                    ((TC)1 + TANH_##sfx((TC)ONN_SQRT_2_PI * (x + (TC)0.044715 * x * x * x))))      \
    UN_LOOP_CVT(elu_##sfx, TX, TC, TX, LD, ST, x < (TC)0 ? alpha * expm1(x) : x)                   \
    UN_LOOP_CVT(selu_##sfx, TX, TC, TX, LD, ST, x > (TC)0 ? beta * x : beta * alpha * expm1(x))    \
    UN_LOOP_CVT(softplus_##sfx, TX, TC, TX, LD, ST,                                                \
                (x > (TC)0 ? x : (TC)0) + log1p(exp(-fabs(x))))                                    \
    UN_LOOP_CVT(softsign_##sfx, TX, TC, TX, LD, ST, x / ((TC)1 + fabs(x)))                         \
    UN_LOOP_CVT(shrink_##sfx, TX, TC, TX, LD, ST,                                                  \
                (x < -alpha)  ? x + beta                                                           \
                : (x > alpha) ? x - beta                                                           \
                              : (TC)0)                                                             \
    UN_LOOP_CVT(sign_##sfx, TX, TC, TX, LD, ST, x > (TC)0 ? (TC)1 : x < (TC)0 ? (TC)-1 : x)        \
    UN_LOOP_CVT(sin_##sfx, TX, TC, TX, LD, ST, sin(x))                                             \
    UN_LOOP_CVT(cos_##sfx, TX, TC, TX, LD, ST, cos(x))                                             \
    UN_LOOP_CVT(tan_##sfx, TX, TC, TX, LD, ST, tan(x))                                             \
    UN_LOOP_CVT(asin_##sfx, TX, TC, TX, LD, ST, asin(x))                                           \
    UN_LOOP_CVT(acos_##sfx, TX, TC, TX, LD, ST, acos(x))                                           \
    UN_LOOP_CVT(atan_##sfx, TX, TC, TX, LD, ST, atan(x))                                           \
    UN_LOOP_CVT(sinh_##sfx, TX, TC, TX, LD, ST, sinh(x))                                           \
    UN_LOOP_CVT(cosh_##sfx, TX, TC, TX, LD, ST, cosh(x))                                           \
    UN_LOOP_CVT(asinh_##sfx, TX, TC, TX, LD, ST, asinh(x))                                         \
    UN_LOOP_CVT(acosh_##sfx, TX, TC, TX, LD, ST, acosh(x))                                         \
    UN_LOOP_CVT(atanh_##sfx, TX, TC, TX, LD, ST, atanh(x))                                         \
    UN_LOOP_CVT(floor_##sfx, TX, TC, TX, LD, ST, floor(x))                                         \
    UN_LOOP_CVT(ceil_##sfx, TX, TC, TX, LD, ST, ceil(x))                                           \
    UN_LOOP_CVT(round_##sfx, TX, TC, TX, LD, ST, ROUND_EVEN(x))                                    \
    UN_LOOP_CVT(celu_##sfx, TX, TC, TX, LD, ST, x > (TC)0 ? x : alpha * expm1(x / alpha))          \
    UN_LOOP_CVT(threlu_##sfx, TX, TC, TX, LD, ST, x > alpha ? x : (TC)0)                           \
    UN_LOOP_CVT(isinf_##sfx, TX, TC, uint8_t, LD, (uint8_t),                                       \
                isinf(x) && (x > (TC)0 ? alpha != (TC)0 : beta != (TC)0))                          \
    UN_LOOP_CVT(isnan_##sfx, TX, TC, uint8_t, LD, (uint8_t), isnan(x))

#define FLOAT_LOOPS(sfx, T, code, sgn) FLOAT_COMMON(sfx, T, T, , (T))
ONN_FLOAT_TYPES(FLOAT_LOOPS)

/* float16 and bfloat16: X(suffix, dtype code, widen, narrow). */
#define HALF_TYPES(X)                                                                              \
    X(f16, ONNORM_FLOAT16, onn_f16_to_f32, onn_f32_to_f16)                                         \
    X(bf16, ONNORM_BFLOAT16, onn_bf16_to_f32, onn_f32_to_bf16)

#define sigmoid1_f16 onn_sigmoidf
#define sigmoid1_bf16 onn_sigmoidf
#define HALF_LOOPS(sfx, code, LD, ST) FLOAT_COMMON(sfx, uint16_t, float, LD, ST)
HALF_TYPES(HALF_LOOPS)

/* Clip of 16-bit floats: the bounds are elements of X's type too. */
#define CLIP_HALF(sfx, code, LD, ST)                                                               \
    static void clip_##sfx(const void *px, void *py, int64_t n, const void *pp)                    \
    {                                                                                              \
        const un_params *p = pp;                                                                   \
        const uint16_t *X = px;                                                                    \
        uint16_t *Y = py;                                                                          \
        uint16_t lo16, hi16;                                                                       \
        memcpy(&lo16, p->lo, sizeof lo16);                                                         \
        memcpy(&hi16, p->hi, sizeof hi16);                                                         \
        const float lo = LD(lo16), hi = LD(hi16);                                                  \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const float x = LD(X[i]), t = x < lo ? lo : x;                                         \
            Y[i] = ST(t > hi ? hi : t);                                                            \
        }                                                                                          \
    }
HALF_TYPES(CLIP_HALF)

/* Not: any nonzero byte is true. */
UN_LOOP(not_bool, uint8_t, x == 0)

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
    U_SIN,
    U_COS,
    U_TAN,
    U_ASIN,
    U_ACOS,
    U_ATAN,
    U_SINH,
    U_COSH,
    U_ASINH,
    U_ACOSH,
    U_ATANH,
    U_FLOOR,
    U_CEIL,
    U_ROUND,
    U_CELU,
    U_THRELU,
    U_ISINF,
    U_ISNAN,
    U_NOT,
    U_COUNT
} un_op;

typedef struct un_row {
    onnorm_dtype dtype;
    un_loop fn[U_COUNT];
} un_row;

/* clang-format off */
#define FLOAT_ROW_OPS(sfx)                                                                         \
     {sqrt_##sfx, recip_##sfx, neg_##sfx, abs_##sfx, relu_##sfx, leaky_##sfx, sigmoid_##sfx,      \
      tanh_##sfx, erf_##sfx, exp_##sfx, log_##sfx, hsig_##sfx, hswish_##sfx, gelu_##sfx,          \
      gelu_tanh_##sfx, CLIP_OF_##sfx, elu_##sfx, selu_##sfx, softplus_##sfx, softsign_##sfx,     \
      shrink_##sfx, sign_##sfx, sin_##sfx, cos_##sfx, tan_##sfx, asin_##sfx, acos_##sfx,          \
      atan_##sfx, sinh_##sfx, cosh_##sfx, asinh_##sfx, acosh_##sfx, atanh_##sfx, floor_##sfx,     \
      ceil_##sfx, round_##sfx, celu_##sfx, threlu_##sfx, isinf_##sfx, isnan_##sfx, NULL}
#define CLIP_OF_f32 clip_f32
#define CLIP_OF_f64 clip_f64
#define CLIP_OF_f16 clip_f16
#define CLIP_OF_bf16 clip_bf16
#define FLOAT_ROW(sfx, T, code, sgn) {code, FLOAT_ROW_OPS(sfx)},
#define HALF_ROW(sfx, code, LD, ST) {code, FLOAT_ROW_OPS(sfx)},
#define SIGNED_ROW(sfx, T, code, sgn)                                                              \
    {code, {[U_NEG] = neg_##sfx, [U_ABS] = abs_##sfx, [U_RELU] = relu_##sfx, [U_CLIP] = clip_##sfx, \
            [U_SIGN] = sign_##sfx}},
#define UNSIGNED_ROW(sfx, T, code, sgn)                                                            \
    {code, {[U_ABS] = abs_##sfx, [U_CLIP] = clip_##sfx, [U_SIGN] = sign_##sfx}},

static const un_row un_rows[] = {
    ONN_FLOAT_TYPES(FLOAT_ROW) HALF_TYPES(HALF_ROW)
    ONN_SIGNED_INT_TYPES(SIGNED_ROW) ONN_UNSIGNED_INT_TYPES(UNSIGNED_ROW)
    {ONNORM_BOOL, {[U_NOT] = not_bool}},
};
/* clang-format on */

static un_loop find_loop(un_op op, onnorm_dtype t)
{
    /* float32 erf, tanh and Gelu: vmath_loops.c's, for this CPU. */
    if (t == ONNORM_FLOAT) {
        const int isa = (int)onn_isa_active();
        switch (op) {
        case U_ERF: return onn_vm_loop_for(ONN_VM_ERF, isa);
        case U_TANH: return onn_vm_loop_for(ONN_VM_TANH, isa);
        case U_GELU: return onn_vm_loop_for(ONN_VM_GELU, isa);
        case U_GELU_TANH: return onn_vm_loop_for(ONN_VM_GELU_TANH, isa);
        default: break;
        }
    }
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
    bool bool_out;  /* IsInf, IsNaN: the output is bool */
    bool int_attrs; /* IsInf: the attributes are ints (0 or 1) */
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
    [U_SIN] = {U_SIN},
    [U_COS] = {U_COS},
    [U_TAN] = {U_TAN},
    [U_ASIN] = {U_ASIN},
    [U_ACOS] = {U_ACOS},
    [U_ATAN] = {U_ATAN},
    [U_SINH] = {U_SINH},
    [U_COSH] = {U_COSH},
    [U_ASINH] = {U_ASINH},
    [U_ACOSH] = {U_ACOSH},
    [U_ATANH] = {U_ATANH},
    [U_FLOOR] = {U_FLOOR},
    [U_CEIL] = {U_CEIL},
    [U_ROUND] = {U_ROUND},
    [U_CELU] = {U_CELU, "alpha", NULL, 1.0f, 0},
    [U_THRELU] = {U_THRELU, "alpha", NULL, 1.0f, 0},
    [U_ISINF] = {U_ISINF, "detect_positive", "detect_negative", 1, 1, .bool_out = true,
                 .int_attrs = true},
    [U_ISNAN] = {U_ISNAN, .bool_out = true},
    [U_NOT] = {U_NOT},
};

/* What run needs: the loop and its parameters. */
typedef struct un_cfg {
    un_loop fn;
    double alpha, beta;
    /* Clip: the bounds as X's type (8-byte slots hold any type), or the
     * input that holds a bound (Clip-11), read at run. */
    uint64_t lo, hi;
    bool lo_input, hi_input;
    int weight; /* cost per element in cheap passes (onn_span_parallel_weighted) */
} un_cfg;

/* The float attribute `name` (none when NULL) or its default; an int
 * attribute when is_int (IsInf's 0/1 flags). */
static onnorm_status param_attr(onn_kctx *ctx, const char *name, float dflt, bool is_int,
                                double *out)
{
    float v = dflt;
    onnorm_status st = ONNORM_OK;
    if (name && is_int) {
        int64_t iv;
        if ((st = onn_kattr_int(ctx, name, (int64_t)dflt, &iv))) return st;
        if (iv != 0 && iv != 1)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s must be 0 or 1, got %lld", name,
                             (long long)iv);
        v = (float)iv;
    } else if (name) {
        st = onn_kattr_float(ctx, name, dflt, &v);
    }
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

#define HALF_RANGE(sfx, code, LD, ST)                                                              \
    static void range_##sfx(void *lo, void *hi)                                                    \
    {                                                                                              \
        const uint16_t tmin = ST(-INFINITY), tmax = ST(INFINITY);                                  \
        memcpy(lo, &tmin, sizeof tmin);                                                            \
        memcpy(hi, &tmax, sizeof tmax);                                                            \
    }
HALF_TYPES(HALF_RANGE)

#define RANGE_ROW(sfx, T, code, sgn) {code, range_##sfx},
#define HALF_RANGE_ROW(sfx, code, LD, ST) {code, range_##sfx},
static const range_row range_rows[] = {ONN_NUMERIC_TYPES(RANGE_ROW) HALF_TYPES(HALF_RANGE_ROW)};

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
        } else if (x->dtype == ONNORM_FLOAT16 || x->dtype == ONNORM_BFLOAT16) {
            /* The bound rounded to X's type (nearest, ties to even). */
            uint16_t h = x->dtype == ONNORM_FLOAT16 ? onn_f32_to_f16(v) : onn_f32_to_bf16(v);
            memcpy(slot, &h, sizeof h);
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
    if ((st = param_attr(ctx, d->alpha_attr, d->alpha, d->int_attrs, &cfg->alpha)) ||
        (st = param_attr(ctx, d->beta_attr, d->beta, d->int_attrs, &cfg->beta)))
        return st;
    /* Celu divides by alpha: alpha = 0 has no meaning. */
    if (op == U_CELU && cfg->alpha == 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "alpha must not be 0");
    if (op == U_GELU) {
        int tanh_form;
        if ((st = onn_kattr_enum(ctx, "approximate", approximations, 2, 0, &tanh_form))) return st;
        if (tanh_form) op = U_GELU_TANH;
    }
    /* Clip-6's attribute bounds are floats: only float inputs make sense. */
    const bool float_clip = op == U_CLIP && onn_kversion(ctx) < 11;
    cfg->fn = find_loop(op, x->dtype);
    const bool half = x->dtype == ONNORM_FLOAT16 || x->dtype == ONNORM_BFLOAT16;
    if (!cfg->fn || (float_clip && !onn_is_float_type(x->dtype) && !half))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input has type %s; supported: %s",
                         onnorm_dtype_name(x->dtype),
                         float_clip ? "float32, float64, float16, bfloat16"
                                    : supported_types(op, types, sizeof types));
    /* Transcendental loops cost 10 to 20 times an Add per element (erf-form
     * Gelu: 2.3 ns against 0.12 on Zen 3, AVX2); the rest are cheap. */
    static const bool cheap[U_COUNT] = {
        [U_SQRT] = true,  [U_RECIP] = true,    [U_NEG] = true,    [U_ABS] = true,
        [U_RELU] = true,  [U_LEAKY] = true,    [U_HSIG] = true,   [U_HSWISH] = true,
        [U_CLIP] = true,  [U_SOFTSIGN] = true, [U_SHRINK] = true, [U_SIGN] = true,
        [U_FLOOR] = true, [U_CEIL] = true,     [U_ROUND] = true,  [U_THRELU] = true,
        [U_ISINF] = true, [U_ISNAN] = true,    [U_NOT] = true};
    cfg->weight = cheap[op] ? 1 : 16;
    return op == U_CLIP ? clip_bounds(ctx, cfg) : ONNORM_OK;
}

/* config checked X's type: Y is X's shape, and X's type or bool. */
static onnorm_status un_infer(onn_kctx *ctx)
{
    const un_desc *d = ctx->kernel->data;
    onn_set_output(ctx, 0, d->bool_out ? ONNORM_BOOL : ctx->in[0]->dtype, ctx->in[0]->rank,
                   ctx->in[0]->dims);
    return ONNORM_OK;
}

typedef struct bool_job {
    un_loop fn;
    const char *x;
    uint8_t *y;
    size_t xsz;
    const un_params *p;
} bool_job;

static void to_bool_span(void *arg, int64_t b, int64_t e, int worker)
{
    (void)worker;
    const bool_job *j = arg;
    j->fn(j->x + (size_t)b * j->xsz, j->y + b, e - b, j->p);
}

/* fn over n elements of xsz bytes in x into bool y, in chunks over ctx's
 * thread budget (onn_span_parallel assumes one element size). */
static void run_to_bool(const onn_kctx *ctx, un_loop fn, const char *x, uint8_t *y, int64_t n,
                        size_t xsz, const un_params *p, int weight)
{
    bool_job j = {fn, x, y, xsz, p};
    onn_parallel_range(onn_elementwise_threads_weighted(ctx, n, weight), n, to_bool_span, &j);
}

static onnorm_status un_run(onn_kctx *ctx)
{
    const un_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const un_params p = {cfg->alpha, cfg->beta, cfg->lo_input ? ctx->in[1]->data : &cfg->lo,
                         cfg->hi_input ? ctx->in[2]->data : &cfg->hi};
    const un_desc *d = ctx->kernel->data;
    if (d->bool_out)
        run_to_bool(ctx, cfg->fn, x->data, ctx->out[0]->data, onnorm_tensor_numel(x),
                    onnorm_dtype_size(x->dtype), &p, cfg->weight);
    else
        onn_span_parallel_weighted(ctx, cfg->fn, x->data, ctx->out[0]->data, onnorm_tensor_numel(x),
                                   onnorm_dtype_size(x->dtype), &p, cfg->weight);
    return ONNORM_OK;
}

#define UNARY_VW(op, ver, in_hi, d, w)                                                             \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 1, in_hi, 1, 1, un_infer, NULL, un_run),                           \
            .config = un_config, .state_size = sizeof(un_cfg), .data = &descs[d], .widens = (w)    \
    }
#define UNARY_V(op, ver, in_hi, d) UNARY_VW(op, ver, in_hi, d, false)
#define UNARY(op, ver, d) UNARY_V(op, ver, 1, d)
/* A later version that only adds types (bfloat16 at 13, 16, 22; integers
 * for Relu at 14; float16/bfloat16 and float8 for IsInf and IsNaN at 20). */
#define WIDER(op, ver, d) UNARY_VW(op, ver, 1, d, true)

/* ai.onnorm's Gelu-1: Gelu-20 for models below opset 20 (graph/pass_gelu.c). */
#define GELU_ONNORM                                                                                \
    {                                                                                              \
        ONN_KERNEL("ai.onnorm", "Gelu", 1, 1, 1, 1, 1, un_infer, NULL, un_run),                    \
            .config = un_config, .state_size = sizeof(un_cfg), .data = &descs[U_GELU]              \
    }

/* clang-format off */
ONN_KERNEL_TABLE(unary,
    UNARY("Sqrt", 6, U_SQRT), WIDER("Sqrt", 13, U_SQRT),
    UNARY("Reciprocal", 6, U_RECIP), WIDER("Reciprocal", 13, U_RECIP),
    UNARY("Neg", 6, U_NEG), WIDER("Neg", 13, U_NEG),
    UNARY("Abs", 6, U_ABS), WIDER("Abs", 13, U_ABS),
    UNARY("Relu", 6, U_RELU), WIDER("Relu", 13, U_RELU), WIDER("Relu", 14, U_RELU),
    UNARY("LeakyRelu", 6, U_LEAKY), WIDER("LeakyRelu", 16, U_LEAKY),
    UNARY("Sigmoid", 6, U_SIGMOID), WIDER("Sigmoid", 13, U_SIGMOID),
    UNARY("Tanh", 6, U_TANH), WIDER("Tanh", 13, U_TANH),
    UNARY("Erf", 9, U_ERF), WIDER("Erf", 13, U_ERF),
    UNARY("Exp", 6, U_EXP), WIDER("Exp", 13, U_EXP),
    UNARY("Log", 6, U_LOG), WIDER("Log", 13, U_LOG),
    UNARY("HardSigmoid", 6, U_HSIG), WIDER("HardSigmoid", 22, U_HSIG),
    UNARY("HardSwish", 14, U_HSWISH), WIDER("HardSwish", 22, U_HSWISH),
    UNARY("Gelu", 20, U_GELU), GELU_ONNORM,
    UNARY("Clip", 6, U_CLIP), UNARY_V("Clip", 11, 3, U_CLIP),
    UNARY_VW("Clip", 12, 3, U_CLIP, true), UNARY_VW("Clip", 13, 3, U_CLIP, true),
    UNARY("Elu", 6, U_ELU), WIDER("Elu", 22, U_ELU),
    UNARY("Selu", 6, U_SELU), WIDER("Selu", 22, U_SELU),
    UNARY("Softplus", 1, U_SOFTPLUS), WIDER("Softplus", 22, U_SOFTPLUS),
    UNARY("Softsign", 1, U_SOFTSIGN), WIDER("Softsign", 22, U_SOFTSIGN),
    UNARY("Shrink", 9, U_SHRINK),
    UNARY("Sign", 9, U_SIGN), WIDER("Sign", 13, U_SIGN),
    UNARY("Sin", 7, U_SIN), WIDER("Sin", 22, U_SIN),
    UNARY("Cos", 7, U_COS), WIDER("Cos", 22, U_COS),
    UNARY("Tan", 7, U_TAN), WIDER("Tan", 22, U_TAN),
    UNARY("Asin", 7, U_ASIN), WIDER("Asin", 22, U_ASIN),
    UNARY("Acos", 7, U_ACOS), WIDER("Acos", 22, U_ACOS),
    UNARY("Atan", 7, U_ATAN), WIDER("Atan", 22, U_ATAN),
    UNARY("Sinh", 9, U_SINH), WIDER("Sinh", 22, U_SINH),
    UNARY("Cosh", 9, U_COSH), WIDER("Cosh", 22, U_COSH),
    UNARY("Asinh", 9, U_ASINH), WIDER("Asinh", 22, U_ASINH),
    UNARY("Acosh", 9, U_ACOSH), WIDER("Acosh", 22, U_ACOSH),
    UNARY("Atanh", 9, U_ATANH), WIDER("Atanh", 22, U_ATANH),
    UNARY("Floor", 1, U_FLOOR), WIDER("Floor", 6, U_FLOOR), WIDER("Floor", 13, U_FLOOR),
    UNARY("Ceil", 1, U_CEIL), WIDER("Ceil", 6, U_CEIL), WIDER("Ceil", 13, U_CEIL),
    UNARY("Round", 11, U_ROUND), WIDER("Round", 22, U_ROUND),
    UNARY("Celu", 12, U_CELU),
    UNARY("ThresholdedRelu", 10, U_THRELU), WIDER("ThresholdedRelu", 22, U_THRELU),
    UNARY("IsInf", 10, U_ISINF), WIDER("IsInf", 20, U_ISINF),
    UNARY("IsNaN", 9, U_ISNAN), WIDER("IsNaN", 13, U_ISNAN), WIDER("IsNaN", 20, U_ISNAN),
    UNARY("Not", 1, U_NOT));
/* clang-format on */
