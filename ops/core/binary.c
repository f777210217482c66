/*
 * Broadcasting binary and variadic elementwise ops:
 *   Add, Sub, Mul, Div       opset 1 (legacy broadcast, below), 7 (numpy),
 *                            13, 14 (types only)
 *   Pow                      opset 1 (legacy), 7 (exponent of the base's
 *                            type), 12 (any numeric exponent type), 13, 15
 *                            (types only)
 *   Equal                    opset 1 (legacy), 7, 11, 13; output bool
 *   Greater, Less            opset 1 (legacy), 7, 9, 13; output bool
 *   GreaterOrEqual,
 *   LessOrEqual              opset 12, 16; output bool
 *   And, Or, Xor             opset 1 (legacy), 7; bool in, bool out
 *   Mod                      opset 10, 13 (fmod attribute)
 *   BitShift                 opset 11 (direction LEFT | RIGHT)
 *   Where                    opset 9, 16
 *   Sum, Mean, Max, Min      opset 6 (all inputs of one shape), 8 (broadcast),
 *                            12 (Max, Min), 13 (types only)
 *
 * Types: float32, float64, float16, bfloat16 and every 8..64-bit integer
 * type for Add, Sub, Mul, Div, Max, Min, the comparisons and Mod (Equal also
 * bool); float types for Sum and Mean; unsigned integers for BitShift; bool
 * for And, Or, Xor; Where copies elements of any 1/2/4/8-byte type. Pow
 * takes a float32/float64/float16/bfloat16/int32/int64 base and an exponent
 * of any of those or any integer type (from opset 12; before, the base's
 * type); a 16-bit float base is computed in double, rounded to float and
 * then to the base's type. A version is
 * accepted with every type this file supports, also types the spec adds
 * only in a later version. Equal-19 (strings) is not registered.
 *
 * float16 and bfloat16 are widened to float, computed there and rounded
 * once to nearest-even (ops/half.h); for + - * / max min fmod and the
 * comparisons that is the correctly rounded 16-bit result.
 *
 * Integer semantics, which ONNX leaves to the platform and C leaves partly
 * undefined, are pinned down here so that no input can crash a run:
 *   - Add, Sub, Mul wrap modulo 2^bits (computed in uint64_t);
 *   - Div truncates toward zero, like C and onnxruntime; x / 0 gives 0,
 *     and INT_MIN / -1 wraps to INT_MIN;
 *   - Pow of integers multiplies exactly (wrapping); a negative exponent
 *     gives the truncated 1 / x^n, i.e. 0 unless |x| == 1, and 0 for x == 0;
 *   - float results stored into an integer base saturate (NaN gives 0);
 *   - Mod with fmod=0 takes the divisor's sign (Python's %), with fmod=1
 *     the dividend's (C's %, fmod); fmod=0 on float inputs is refused, as
 *     the spec requires fmod=1 there; an integer divisor with a zero
 *     element fails the run with an error (Div keeps x / 0 = 0), and
 *     x mod -1 is 0 (INT_MIN % -1 would trap);
 *   - BitShift by the type's width or more gives 0 (C leaves it
 *     undefined); the amount is read as unsigned, so never negative.
 * Max and Min propagate NaN like numpy.maximum / numpy.minimum.
 *
 * Legacy broadcasting (the binary ops before opset 7): without the
 * `broadcast` attribute A and B must have one shape; with broadcast=1, B
 * either has one element or its shape equals a contiguous run of A's dims
 * starting at `axis` (suffix-aligned when axis is absent); a 1 in that run
 * also stretches, which the spec leaves out ("1-dim expansion doesn't work
 * yet") but PyTorch's exported tests rely on. B is then read as an A-ranked
 * view with 1s around that run, and the ordinary broadcast walk does the
 * rest. Config works that view out once, from the attributes and the
 * shapes. Opsets 1 and 6 differ only in types and the ignored
 * consumed_inputs attribute, so one entry covers both.
 *
 * Every op is one expression stamped over the type lists of broadcast.h
 * into loops for the three run shapes the broadcast walk produces: both
 * operands contiguous, either one a repeated element. Prepare picks the loop
 * for the node's types and plans every broadcast walk (one per input a
 * variadic op folds in, in memory the prepared node owns, so any number of
 * inputs works); run only walks the plans.
 */
#include "ops/core/broadcast.h"
#include "ops/half.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* float32, float64, float16 or bfloat16. */
static bool is_float_like(onnorm_dtype t)
{
    return onn_is_float_type(t) || t == ONNORM_FLOAT16 || t == ONNORM_BFLOAT16;
}

/* ---- typed loops ---------------------------------------------------------- */

/* Which operand repeats a single element across a run. */
enum { BIN_VV = 0, BIN_VS = 1, BIN_SV = 2, BIN_SS = 3 };

typedef void (*bin_loop)(const void *a, const void *b, void *y, int64_t n, int mode);

/* One loop: elements of TA are loaded with LD (empty: as they are) into
 * locals a, b of type TC, and EXPR's value is stored with ST (a cast, or a
 * narrowing conversion to float16/bfloat16). */
#define BIN_LOOP_CVT(name, TA, TC, TY, LD, ST, EXPR)                                               \
    static void name(const void *pa, const void *pb, void *py, int64_t n, int mode)                \
    {                                                                                              \
        const TA *A = pa, *B = pb;                                                                 \
        TY *Y = py;                                                                                \
        switch (mode) {                                                                            \
        case BIN_VV:                                                                               \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const TC a = LD(A[i]), b = LD(B[i]);                                               \
                Y[i] = ST(EXPR);                                                                   \
            }                                                                                      \
            break;                                                                                 \
        case BIN_VS: {                                                                             \
            const TC b = LD(B[0]);                                                                 \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const TC a = LD(A[i]);                                                             \
                Y[i] = ST(EXPR);                                                                   \
            }                                                                                      \
        } break;                                                                                   \
        case BIN_SV: {                                                                             \
            const TC a = LD(A[0]);                                                                 \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const TC b = LD(B[i]);                                                             \
                Y[i] = ST(EXPR);                                                                   \
            }                                                                                      \
        } break;                                                                                   \
        default: {                                                                                 \
            const TC a = LD(A[0]), b = LD(B[0]);                                                   \
            const TY v = ST(EXPR);                                                                 \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                Y[i] = v;                                                                          \
        }                                                                                          \
        }                                                                                          \
    }

#define BIN_LOOP(name, TA, TY, EXPR) BIN_LOOP_CVT(name, TA, TA, TY, , (TY), EXPR)

/* clang-format off */
#define ONN_POW(a, b) _Generic((a), float: powf, default: pow)((a), (b))
#define ONN_SQRT(a) _Generic((a), float: sqrtf, default: sqrt)(a)
#define ONN_FMOD(a, b) _Generic((a), float: fmodf, default: fmod)((a), (b))
/* clang-format on */

/* The ops every float type has, computed in TC (float for the 16-bit types:
 * one rounding of an exact float result, as numpy's float16 does). */
#define FLOAT_COMMON(sfx, TA, TC, LD, ST)                                                          \
    BIN_LOOP_CVT(add_##sfx, TA, TC, TA, LD, ST, a + b)                                             \
    BIN_LOOP_CVT(sub_##sfx, TA, TC, TA, LD, ST, a - b)                                             \
    BIN_LOOP_CVT(mul_##sfx, TA, TC, TA, LD, ST, (a) * (b))                                         \
    BIN_LOOP_CVT(div_##sfx, TA, TC, TA, LD, ST, a / b)                                             \
    BIN_LOOP_CVT(max_##sfx, TA, TC, TA, LD, ST, (a > b || isnan(a)) ? a : b)                       \
    BIN_LOOP_CVT(min_##sfx, TA, TC, TA, LD, ST, (a < b || isnan(a)) ? a : b)                       \
    BIN_LOOP_CVT(fmod_##sfx, TA, TC, TA, LD, ST, ONN_FMOD(a, b))                                   \
    BIN_LOOP_CVT(eq_##sfx, TA, TC, uint8_t, LD, (uint8_t), a == b)                                 \
    BIN_LOOP_CVT(gt_##sfx, TA, TC, uint8_t, LD, (uint8_t), a > b)                                  \
    BIN_LOOP_CVT(lt_##sfx, TA, TC, uint8_t, LD, (uint8_t), a < b)                                  \
    BIN_LOOP_CVT(ge_##sfx, TA, TC, uint8_t, LD, (uint8_t), a >= b)                                 \
    BIN_LOOP_CVT(le_##sfx, TA, TC, uint8_t, LD, (uint8_t), a <= b)

#define FLOAT_LOOPS(sfx, T, code, sgn)                                                             \
    FLOAT_COMMON(sfx, T, T, , (T))                                                                 \
    BIN_LOOP(pow_##sfx, T, T, ONN_POW(a, b))
ONN_FLOAT_TYPES(FLOAT_LOOPS)

/* float16 and bfloat16: X(suffix, dtype code, widen, narrow). */
#define HALF_TYPES(X)                                                                              \
    X(f16, ONNORM_FLOAT16, onn_f16_to_f32, onn_f32_to_f16)                                         \
    X(bf16, ONNORM_BFLOAT16, onn_bf16_to_f32, onn_f32_to_bf16)

#define HALF_LOOPS(sfx, code, LD, ST) FLOAT_COMMON(sfx, uint16_t, float, LD, ST)
HALF_TYPES(HALF_LOOPS)

/* Wrapping integer arithmetic goes through uint64_t, where overflow is
 * defined; converting back keeps the low bits (GCC/Clang semantics). */
#define INT_DIV(T, sgn, a, b)                                                                      \
    ((b) == 0 ? (T)0 : ((sgn) && (b) == (T)-1) ? (T)(0 - (uint64_t)(a)) : (T)((a) / (b)))
/* C's remainder (the dividend's sign); x % 0 and x % -1 give 0 (run refuses
 * a zero divisor before it gets here; INT_MIN % -1 would trap). */
#define INT_REM(T, sgn, a, b) ((b) == 0 || ((sgn) && (b) == (T)-1) ? (T)0 : (T)((a) % (b)))
/* Python's remainder (the divisor's sign). */
#define INT_PYMOD(T, a, b)                                                                         \
    (INT_REM(T, 1, a, b) != 0 && ((INT_REM(T, 1, a, b) < 0) != ((b) < 0))                          \
         ? (T)(INT_REM(T, 1, a, b) + (b))                                                          \
         : INT_REM(T, 1, a, b))

#define INT_LOOPS(sfx, T, code, sgn)                                                               \
    BIN_LOOP(add_##sfx, T, T, (uint64_t)a + (uint64_t)b)                                           \
    BIN_LOOP(sub_##sfx, T, T, (uint64_t)a - (uint64_t)b)                                           \
    BIN_LOOP(mul_##sfx, T, T, (uint64_t)(a) * (uint64_t)(b))                                       \
    BIN_LOOP(div_##sfx, T, T, INT_DIV(T, sgn, a, b))                                               \
    BIN_LOOP(max_##sfx, T, T, a > b ? a : b)                                                       \
    BIN_LOOP(min_##sfx, T, T, a < b ? a : b)                                                       \
    BIN_LOOP(fmod_##sfx, T, T, INT_REM(T, sgn, a, b))                                              \
    BIN_LOOP(eq_##sfx, T, uint8_t, a == b)                                                         \
    BIN_LOOP(gt_##sfx, T, uint8_t, a > b)                                                          \
    BIN_LOOP(lt_##sfx, T, uint8_t, a < b)                                                          \
    BIN_LOOP(ge_##sfx, T, uint8_t, a >= b)                                                         \
    BIN_LOOP(le_##sfx, T, uint8_t, a <= b)
ONN_INT_TYPES(INT_LOOPS)

#define SIGNED_LOOPS(sfx, T, code, sgn) BIN_LOOP(mod_##sfx, T, T, INT_PYMOD(T, a, b))
ONN_SIGNED_INT_TYPES(SIGNED_LOOPS)

/* Unsigned: both remainders agree. A shift by the width or more gives 0
 * (C leaves it undefined). */
#define SHIFT(T, a, b, OP) ((b) >= 8 * sizeof(T) ? (T)0 : (T)((uint64_t)(a)OP(b)))
#define UNSIGNED_LOOPS(sfx, T, code, sgn)                                                          \
    BIN_LOOP(mod_##sfx, T, T, INT_REM(T, 0, a, b))                                                 \
    BIN_LOOP(shl_##sfx, T, T, SHIFT(T, a, b, <<))                                                  \
    BIN_LOOP(shr_##sfx, T, T, SHIFT(T, a, b, >>))
ONN_UNSIGNED_INT_TYPES(UNSIGNED_LOOPS)

/* Any nonzero byte is true. */
#define BOOL_LOOP(name, EXPR) BIN_LOOP(name, uint8_t, uint8_t, EXPR)
BOOL_LOOP(eq_bool, (a != 0) == (b != 0))
BOOL_LOOP(and_bool, (a != 0) & (b != 0))
BOOL_LOOP(or_bool, (a != 0) | (b != 0))
BOOL_LOOP(xor_bool, (a != 0) ^ (b != 0))

typedef enum bin_op {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MAX,
    OP_MIN,
    OP_EQ,
    OP_POW,
    OP_GT,
    OP_LT,
    OP_GE,
    OP_LE,
    OP_AND,
    OP_OR,
    OP_XOR,
    OP_MOD,  /* Mod, fmod=0: the divisor's sign (integers only) */
    OP_FMOD, /* Mod, fmod=1: the dividend's sign */
    OP_SHL,
    OP_SHR,
    OP_COUNT
} bin_op;

typedef struct bin_row {
    onnorm_dtype dtype;
    bin_loop fn[OP_COUNT];
} bin_row;

/* clang-format off */
#define COMMON_ROW(sfx)                                                                            \
    [OP_ADD] = add_##sfx, [OP_SUB] = sub_##sfx, [OP_MUL] = mul_##sfx, [OP_DIV] = div_##sfx,        \
    [OP_MAX] = max_##sfx, [OP_MIN] = min_##sfx, [OP_EQ] = eq_##sfx, [OP_GT] = gt_##sfx,            \
    [OP_LT] = lt_##sfx, [OP_GE] = ge_##sfx, [OP_LE] = le_##sfx, [OP_FMOD] = fmod_##sfx
#define FLOAT_ROW(sfx, T, code, sgn) {code, {COMMON_ROW(sfx), [OP_POW] = pow_##sfx}},
#define HALF_ROW(sfx, code, LD, ST) {code, {COMMON_ROW(sfx)}},
#define SIGNED_ROW(sfx, T, code, sgn) {code, {COMMON_ROW(sfx), [OP_MOD] = mod_##sfx}},
#define UNSIGNED_ROW(sfx, T, code, sgn)                                                            \
    {code, {COMMON_ROW(sfx), [OP_MOD] = mod_##sfx, [OP_SHL] = shl_##sfx, [OP_SHR] = shr_##sfx}},

static const bin_row bin_rows[] = {
    ONN_FLOAT_TYPES(FLOAT_ROW) HALF_TYPES(HALF_ROW)
    ONN_SIGNED_INT_TYPES(SIGNED_ROW) ONN_UNSIGNED_INT_TYPES(UNSIGNED_ROW)
    {ONNORM_BOOL, {[OP_EQ] = eq_bool, [OP_AND] = and_bool, [OP_OR] = or_bool, [OP_XOR] = xor_bool}},
};
/* clang-format on */

static bin_loop find_loop(bin_op op, onnorm_dtype t)
{
    for (size_t i = 0; i < sizeof bin_rows / sizeof bin_rows[0]; i++)
        if (bin_rows[i].dtype == t) return bin_rows[i].fn[op];
    return NULL;
}

/* Lists the types op has loops for (only floats when floats_only) into buf,
 * for error messages. */
static const char *supported_types(bin_op op, bool floats_only, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof bin_rows / sizeof bin_rows[0] && used < len; i++) {
        onnorm_dtype t = bin_rows[i].dtype;
        if (!bin_rows[i].fn[op] || (floats_only && !is_float_like(t))) continue;
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                                 onnorm_dtype_name(t));
    }
    return buf;
}

/* ---- op descriptions ---------------------------------------------------- */

/* A table entry's data: the loop the op applies and what it takes. */
typedef struct bin_desc {
    bin_op op;
    bool floats_only; /* Sum, Mean: float types only */
    bool bool_out;    /* comparisons and logic: the output is bool */
    bool mean;        /* Mean: Sum, then divide by the input count */
} bin_desc;

enum {
    D_ADD,
    D_SUB,
    D_MUL,
    D_DIV,
    D_EQUAL,
    D_SUM,
    D_MEAN,
    D_MAX,
    D_MIN,
    D_GREATER,
    D_LESS,
    D_GE,
    D_LE,
    D_AND,
    D_OR,
    D_XOR,
    D_MOD,   /* op chosen by the fmod attribute */
    D_SHIFT, /* op chosen by the direction attribute */
};

static const bin_desc descs[] = {
    [D_ADD] = {OP_ADD},
    [D_SUB] = {OP_SUB},
    [D_MUL] = {OP_MUL},
    [D_DIV] = {OP_DIV},
    [D_EQUAL] = {OP_EQ, .bool_out = true},
    [D_SUM] = {OP_ADD, .floats_only = true},
    [D_MEAN] = {OP_ADD, .floats_only = true, .mean = true},
    [D_MAX] = {OP_MAX},
    [D_MIN] = {OP_MIN},
    [D_GREATER] = {OP_GT, .bool_out = true},
    [D_LESS] = {OP_LT, .bool_out = true},
    [D_GE] = {OP_GE, .bool_out = true},
    [D_LE] = {OP_LE, .bool_out = true},
    [D_AND] = {OP_AND, .bool_out = true},
    [D_OR] = {OP_OR, .bool_out = true},
    [D_XOR] = {OP_XOR, .bool_out = true},
    [D_MOD] = {OP_FMOD},
    [D_SHIFT] = {OP_SHL},
};

/* ---- shared checks --------------------------------------------------------- */

static onnorm_status require_inputs(onn_kctx *ctx)
{
    if (ctx->n_in < 1) return onn_kfail(ctx, ONNORM_ERR_INVALID, "the node has no inputs");
    for (int k = 0; k < ctx->n_in; k++)
        if (!ctx->in[k])
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input %d is missing", k);
    return ONNORM_OK;
}

/* Inputs [from, n_in) must share input `from`'s type. */
static onnorm_status same_types(onn_kctx *ctx, int from)
{
    onnorm_dtype t = ctx->in[from]->dtype;
    for (int k = from + 1; k < ctx->n_in; k++)
        if (ctx->in[k]->dtype != t)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input %d has type %s but input %d has %s", k,
                             onnorm_dtype_name(ctx->in[k]->dtype), from, onnorm_dtype_name(t));
    return ONNORM_OK;
}

/* Opset 6 Sum/Mean/Max/Min predate broadcasting. */
static onnorm_status same_shapes(onn_kctx *ctx)
{
    const onnorm_tensor *a = ctx->in[0];
    char sa[128], sb[128];
    for (int k = 1; k < ctx->n_in; k++) {
        const onnorm_tensor *b = ctx->in[k];
        bool same = a->rank == b->rank;
        for (int d = 0; same && d < a->rank; d++)
            same = a->dims[d] == b->dims[d];
        if (!same)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "input %d has shape %s but input 0 has %s; %s-%d does not broadcast",
                             k, onn_shape_str(b->dims, b->rank, sb, sizeof sb),
                             onn_shape_str(a->dims, a->rank, sa, sizeof sa), ctx->node->op_type,
                             onn_kversion(ctx));
    }
    return ONNORM_OK;
}

/* True for the two-input ops' pre-7 entries, whose broadcasting differs. */
static bool legacy_binary(const onn_kctx *ctx)
{
    return onn_kversion(ctx) < 7 && ctx->kernel->max_inputs == 2;
}

/* B's shape read as an A-ranked tensor under the legacy rules (see the file
 * comment), for the walk: the view has no data. */
static onnorm_status legacy_view(onn_kctx *ctx, onnorm_tensor *view)
{
    const onnorm_tensor *a = ctx->in[0], *b = ctx->in[1];
    int64_t bcast, axis;
    char sa[128], sb[128];
    onnorm_status st;
    if ((st = onn_kattr_int(ctx, "broadcast", 0, &bcast)) ||
        (st = onn_kattr_int(ctx, "axis", b->rank <= a->rank ? a->rank - b->rank : 0, &axis)))
        return st;
    *view = (onnorm_tensor){.dtype = b->dtype, .rank = a->rank};
    for (int d = 0; d < a->rank; d++)
        view->dims[d] = bcast ? 1 : a->dims[d];
    bool ok = bcast ? b->rank <= a->rank : b->rank == a->rank;
    if (!bcast) {
        for (int d = 0; ok && d < b->rank; d++)
            ok = b->dims[d] == a->dims[d];
    } else if (ok && onnorm_tensor_numel(b) != 1) {
        if (axis < 0) axis += a->rank; /* negative axes count from the end, as elsewhere */
        ok = axis >= 0 && axis + b->rank <= a->rank;
        for (int d = 0; ok && d < b->rank; d++) {
            ok = b->dims[d] == a->dims[axis + d] || b->dims[d] == 1;
            view->dims[axis + d] = b->dims[d];
        }
    }
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "B of shape %s does not fit A of shape %s under "
                         "%s-%d broadcasting (broadcast=%lld, axis=%lld)",
                         onn_shape_str(b->dims, b->rank, sb, sizeof sb),
                         onn_shape_str(a->dims, a->rank, sa, sizeof sa), ctx->node->op_type,
                         onn_kversion(ctx), (long long)bcast, (long long)axis);
    return ONNORM_OK;
}

/* The config of the ops that may be legacy binary ones: B's legacy view. */
static onnorm_status legacy_config(onn_kctx *ctx, onnorm_tensor *view)
{
    return legacy_binary(ctx) ? legacy_view(ctx, view) : ONNORM_OK;
}

/* Input 1 as the walk reads it: itself, or the legacy view config made. */
static const onnorm_tensor *operand_b(const onn_kctx *ctx, const onnorm_tensor *view)
{
    return legacy_binary(ctx) ? view : ctx->in[1];
}

static onnorm_status set_broadcast_output(onn_kctx *ctx, onnorm_dtype t)
{
    if (legacy_binary(ctx)) { /* the result has A's shape (config fitted B to it) */
        onn_set_output(ctx, 0, t, ctx->in[0]->rank, ctx->in[0]->dims);
        return ONNORM_OK;
    }
    int rank;
    int64_t dims[ONNORM_MAX_RANK];
    onnorm_status st =
        onn_broadcast_shape(ctx, ctx->n_in, (const onnorm_tensor *const *)ctx->in, &rank, dims);
    if (st) return st;
    onn_set_output(ctx, 0, t, rank, dims);
    return ONNORM_OK;
}

/* ---- walking a broadcast ---------------------------------------------------- */

/* Plans walking output 0's shape while reading the n operands. */
static onnorm_status plan_walk(onn_kctx *ctx, onn_bcast *plan, int n,
                               const onnorm_tensor *const *ops)
{
    const onnorm_tensor *y = ctx->out[0];
    if (!onn_bcast_plan(plan, y->rank, y->dims, n, ops))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "inputs do not broadcast to the output shape");
    return ONNORM_OK;
}

/* A binary loop over a planned walk: prepare fills fn and the element
 * sizes, run the pointers. */
typedef struct bin_job {
    bin_loop fn;
    const char *a, *b;
    char *y;
    size_t asz, bsz, ysz;
} bin_job;

/* Both operands have the inputs' type: a variadic op's later steps read the
 * output as a, and its type is theirs. */
static bin_job bin_job_for(bin_loop fn, onnorm_dtype in, onnorm_dtype out)
{
    const size_t isz = onnorm_dtype_size(in);
    return (bin_job){.fn = fn, .asz = isz, .bsz = isz, .ysz = onnorm_dtype_size(out)};
}

static void bin_run_cb(void *arg, const int64_t *off, int64_t out_off, int64_t len,
                       const int64_t *step)
{
    const bin_job *j = arg;
    int mode = (step[0] ? 0 : BIN_SV) | (step[1] ? 0 : BIN_VS);
    j->fn(j->a + (size_t)off[0] * j->asz, j->b + (size_t)off[1] * j->bsz,
          j->y + (size_t)out_off * j->ysz, len, mode);
}

/* y = j.fn(a, b) along the plan. y may be a itself. */
static void apply(const onn_kctx *ctx, const onn_bcast *plan, bin_job j, const void *a,
                  const void *b, void *y)
{
    j.a = a, j.b = b, j.y = y;
    onn_bcast_parallel(ctx, plan, bin_run_cb, &j);
}

/* y[i] = fn(x[i], *v) over y: Mean's division and Pow's cheap exponents. */
static void run_span(const onn_kctx *ctx, onn_span_fn fn, const void *x, onnorm_tensor *y,
                     const double *v)
{
    onn_span_parallel(ctx, fn, x, y->data, onnorm_tensor_numel(y), onnorm_dtype_size(y->dtype), v);
}

/* ---- Add, Sub, Mul, Div, Equal, Sum, Mean, Max, Min ------------------------- */

typedef struct bin_cfg {
    onnorm_tensor b_view;   /* config: B's legacy view (before opset 7) */
    bin_op op;              /* config: the desc's op, or Mod's and BitShift's choice */
    bin_job job;            /* fn NULL: one input, copied (the mean of one value) */
    const onn_bcast *plans; /* plans[k - 1] folds input k into the output */
    onn_span_fn mean;       /* Mean: divides by count */
    double count;
    bool nonzero_b; /* integer Mod: run refuses a zero divisor */
} bin_cfg;

static onnorm_status bin_config(onn_kctx *ctx)
{
    static const char *const directions[] = {"LEFT", "RIGHT"};
    const bin_desc *d = ctx->kernel->data;
    bin_cfg *cfg = ctx->state;
    onnorm_status st;
    cfg->op = d->op;
    if (d == &descs[D_MOD]) {
        int64_t fmod_attr;
        if ((st = onn_kattr_int(ctx, "fmod", 0, &fmod_attr))) return st;
        if (fmod_attr != 0 && fmod_attr != 1)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "fmod must be 0 or 1, got %lld",
                             (long long)fmod_attr);
        cfg->op = fmod_attr ? OP_FMOD : OP_MOD;
    } else if (d == &descs[D_SHIFT]) {
        int right;
        if ((st = onn_kattr_require(ctx, "direction")) ||
            (st = onn_kattr_enum(ctx, "direction", directions, 2, 0, &right)))
            return st;
        cfg->op = right ? OP_SHR : OP_SHL;
    }
    return legacy_config(ctx, &cfg->b_view);
}

static onnorm_status bin_infer(onn_kctx *ctx)
{
    const bin_desc *d = ctx->kernel->data;
    const bin_cfg *cfg = ctx->state;
    char types[256];
    onnorm_status st;
    if ((st = require_inputs(ctx)) || (st = same_types(ctx, 0))) return st;
    onnorm_dtype t = ctx->in[0]->dtype;
    if (cfg->op == OP_MOD && is_float_like(t))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "inputs have type %s: Mod of floats needs fmod=1 (fmod=0 is "
                         "the integer remainder)",
                         onnorm_dtype_name(t));
    if (!find_loop(cfg->op, t) || (d->floats_only && !is_float_like(t)))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "inputs have type %s; supported: %s",
                         onnorm_dtype_name(t),
                         supported_types(cfg->op, d->floats_only, types, sizeof types));
    /* Opset-6 Sum, Mean, Max, Min predate broadcasting. */
    if (onn_kversion(ctx) < 7 && !legacy_binary(ctx) && (st = same_shapes(ctx))) return st;
    return set_broadcast_output(ctx, d->bool_out ? ONNORM_BOOL : t);
}

/* y = x / *count, for Mean (float types only); x is y, in place. */
#define MEAN_LOOP_CVT(sfx, T, TC, LD, ST)                                                          \
    static void mean_##sfx(const void *px, void *py, int64_t n, const void *count)                 \
    {                                                                                              \
        const T *x = px;                                                                           \
        T *y = py;                                                                                 \
        const double cd = *(const double *)count;                                                  \
        const TC c = (TC)cd;                                                                       \
        ONN_SIMD                                                                                   \
        for (int64_t i = 0; i < n; i++)                                                            \
            y[i] = ST(LD(x[i]) / c);                                                               \
    }
#define MEAN_LOOP(sfx, T, code, sgn) MEAN_LOOP_CVT(sfx, T, T, , (T))
#define MEAN_HALF(sfx, code, LD, ST) MEAN_LOOP_CVT(sfx, uint16_t, float, LD, ST)
ONN_FLOAT_TYPES(MEAN_LOOP)
HALF_TYPES(MEAN_HALF)

static onn_span_fn mean_loop(onnorm_dtype t)
{
    switch (t) {
    case ONNORM_FLOAT: return mean_f32;
    case ONNORM_DOUBLE: return mean_f64;
    case ONNORM_FLOAT16: return mean_f16;
    default: return mean_bf16;
    }
}

/* Some element of the n elements of esz bytes at p is zero (all bytes 0:
 * integer types only). */
static bool has_zero(const void *p, int64_t n, size_t esz)
{
    const unsigned char *c = p;
    for (int64_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < esz && c[(size_t)i * esz + k] == 0)
            k++;
        if (k == esz) return true;
    }
    return false;
}

static onnorm_status bin_prepare(onn_kctx *ctx)
{
    const bin_desc *d = ctx->kernel->data;
    bin_cfg *cfg = ctx->state;
    const onnorm_tensor *x0 = ctx->in[0], *y = ctx->out[0];
    if (ctx->n_in == 1) return ONNORM_OK; /* job.fn stays NULL: run copies */
    const onnorm_tensor *x1 = operand_b(ctx, &cfg->b_view);
    cfg->job = bin_job_for(find_loop(cfg->op, x0->dtype), x0->dtype, y->dtype);
    cfg->nonzero_b = (cfg->op == OP_MOD || cfg->op == OP_FMOD) && !is_float_like(x0->dtype);
    if (!cfg->job.fn)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "type %s is not supported",
                         onnorm_dtype_name(x0->dtype));
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)ctx->n_in - 1, sizeof(onn_bcast), 1, &bytes);
    onn_bcast *plans = st ? NULL : onn_kalloc(ctx, bytes);
    if (!plans) return st ? st : ONNORM_ERR_NOMEM;
    cfg->plans = plans;
    /* Variadic ops fold left into y: y = x0 op x1, then y = y op xk. */
    if ((st = plan_walk(ctx, &plans[0], 2, (const onnorm_tensor *[]){x0, x1}))) return st;
    for (int k = 2; k < ctx->n_in; k++)
        if ((st = plan_walk(ctx, &plans[k - 1], 2, (const onnorm_tensor *[]){y, ctx->in[k]})))
            return st;
    if (d->mean) {
        cfg->mean = mean_loop(y->dtype);
        cfg->count = ctx->n_in;
    }
    return ONNORM_OK;
}

static onnorm_status bin_run(onn_kctx *ctx)
{
    const bin_cfg *cfg = ctx->state;
    onnorm_tensor *y = ctx->out[0];
    const onnorm_tensor *x0 = ctx->in[0];
    if (!cfg->job.fn) {
        memcpy(y->data, x0->data, (size_t)onnorm_tensor_numel(x0) * onnorm_dtype_size(x0->dtype));
        return ONNORM_OK;
    }
    const onnorm_tensor *x1 = ctx->in[1];
    if (cfg->nonzero_b && onnorm_tensor_numel(y) > 0 &&
        has_zero(x1->data, onnorm_tensor_numel(x1), onnorm_dtype_size(x1->dtype)))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "integer division by zero: the divisor B "
                         "has a zero element");
    apply(ctx, &cfg->plans[0], cfg->job, x0->data, x1->data, y->data);
    for (int k = 2; k < ctx->n_in; k++)
        apply(ctx, &cfg->plans[k - 1], cfg->job, y->data, ctx->in[k]->data, y->data);
    if (cfg->mean) run_span(ctx, cfg->mean, y->data, y, &cfg->count);
    return ONNORM_OK;
}

/* ---- Pow -------------------------------------------------------------------- */

/* Element access through double / int64_t for Pow's mixed-type path. */
typedef double (*load_f)(const void *p, int64_t i);
typedef int64_t (*load_i)(const void *p, int64_t i);
typedef void (*store_f)(void *p, int64_t i, double v);
typedef void (*store_i)(void *p, int64_t i, int64_t v);

#define LOAD_F(sfx, T, code, sgn)                                                                  \
    static double ldf_##sfx(const void *p, int64_t i)                                              \
    {                                                                                              \
        return (double)((const T *)p)[i];                                                          \
    }
ONN_NUMERIC_TYPES(LOAD_F)

#define LOAD_I(sfx, T, code, sgn)                                                                  \
    static int64_t ldi_##sfx(const void *p, int64_t i)                                             \
    {                                                                                              \
        return (int64_t)((const T *)p)[i];                                                         \
    }
ONN_INT_TYPES(LOAD_I)

/* Saturating float -> integer store: out-of-range conversions are undefined
 * in C, and a NaN has no integer value at all. */
#define STORE_F_INT(sfx, T, code, sgn)                                                             \
    static void stf_##sfx(void *p, int64_t i, double v)                                            \
    {                                                                                              \
        const int bits = (int)(8 * sizeof(T));                                                     \
        const double hi = ldexp(1.0, (sgn) ? bits - 1 : bits), lo = (sgn) ? -hi : 0.0;             \
        const T tmax = (T)((sgn) ? ((uint64_t)1 << (bits - 1)) - 1 : ~(uint64_t)0);                \
        T r;                                                                                       \
        v = trunc(v);                                                                              \
        if (isnan(v))                                                                              \
            r = 0;                                                                                 \
        else if (v >= hi)                                                                          \
            r = tmax;                                                                              \
        else if (v <= lo)                                                                          \
            r = (T)lo;                                                                             \
        else                                                                                       \
            r = (T)v;                                                                              \
        ((T *)p)[i] = r;                                                                           \
    }                                                                                              \
    static void sti_##sfx(void *p, int64_t i, int64_t v)                                           \
    {                                                                                              \
        ((T *)p)[i] = (T)v;                                                                        \
    }
ONN_INT_TYPES(STORE_F_INT)

#define STORE_F_FLOAT(sfx, T, code, sgn)                                                           \
    static void stf_##sfx(void *p, int64_t i, double v)                                            \
    {                                                                                              \
        ((T *)p)[i] = (T)v;                                                                        \
    }
ONN_FLOAT_TYPES(STORE_F_FLOAT)

typedef struct access_row {
    onnorm_dtype dtype;
    load_f ldf;
    load_i ldi; /* integer types only */
    store_f stf;
    store_i sti; /* integer types only */
} access_row;

/* 16-bit floats: results are rounded to float, then to the 16-bit type. */
#define ACCESS_HALF_FNS(sfx, code, LD, ST)                                                         \
    static double ldf_##sfx(const void *p, int64_t i)                                              \
    {                                                                                              \
        return LD(((const uint16_t *)p)[i]);                                                       \
    }                                                                                              \
    static void stf_##sfx(void *p, int64_t i, double v)                                            \
    {                                                                                              \
        ((uint16_t *)p)[i] = ST((float)v);                                                         \
    }
HALF_TYPES(ACCESS_HALF_FNS)

#define ACCESS_FLOAT(sfx, T, code, sgn) {code, ldf_##sfx, NULL, stf_##sfx, NULL},
#define ACCESS_HALF(sfx, code, LD, ST) {code, ldf_##sfx, NULL, stf_##sfx, NULL},
#define ACCESS_INT(sfx, T, code, sgn) {code, ldf_##sfx, ldi_##sfx, stf_##sfx, sti_##sfx},
static const access_row access_rows[] = {ONN_FLOAT_TYPES(ACCESS_FLOAT) HALF_TYPES(ACCESS_HALF)
                                             ONN_INT_TYPES(ACCESS_INT)};

static const access_row *access_of(onnorm_dtype t)
{
    for (size_t i = 0; i < sizeof access_rows / sizeof access_rows[0]; i++)
        if (access_rows[i].dtype == t) return &access_rows[i];
    return NULL;
}

static bool pow_base_type(onnorm_dtype t)
{
    return is_float_like(t) || t == ONNORM_INT32 || t == ONNORM_INT64;
}

static onnorm_status pow_infer(onn_kctx *ctx)
{
    onnorm_status st = require_inputs(ctx);
    if (st) return st;
    onnorm_dtype bt = ctx->in[0]->dtype, et = ctx->in[1]->dtype;
    if (!pow_base_type(bt))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "base X has type %s; supported: float32, float64, "
                         "float16, bfloat16, int32, int64",
                         onnorm_dtype_name(bt));
    if (!access_of(et))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "exponent Y has type %s; supported: float32, "
                         "float64, float16, bfloat16, int8-64, uint8-64",
                         onnorm_dtype_name(et));
    if (onn_kversion(ctx) < 12 && et != bt)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "Pow-%d needs X and Y of one type, got %s and %s "
                         "(mixed types need opset 12)",
                         onn_kversion(ctx), onnorm_dtype_name(bt), onnorm_dtype_name(et));
    return set_broadcast_output(ctx, bt);
}

/* x^e for integers, exact modulo 2^64 (see the file comment for e < 0). */
static int64_t ipow(int64_t x, int64_t e)
{
    if (e < 0) return x == 1 ? 1 : x == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)x;
    for (uint64_t k = (uint64_t)e; k; k >>= 1) {
        if (k & 1) r *= b;
        b *= b;
    }
    return (int64_t)r;
}

/* Pow's mixed-type path: prepare fills the access rows, run the pointers. */
typedef struct pow_job {
    const access_row *ba, *ea, *ya;
    const char *x, *e;
    char *y;
    bool integer; /* integer base and exponent */
} pow_job;

static void pow_mixed_cb(void *arg, const int64_t *off, int64_t out_off, int64_t len,
                         const int64_t *step)
{
    const pow_job *j = arg;
    for (int64_t i = 0; i < len; i++) {
        int64_t xi = off[0] + i * step[0], ei = off[1] + i * step[1];
        if (j->integer)
            j->ya->sti(j->y, out_off + i, ipow(j->ba->ldi(j->x, xi), j->ea->ldi(j->e, ei)));
        else
            j->ya->stf(j->y, out_off + i, pow(j->ba->ldf(j->x, xi), j->ea->ldf(j->e, ei)));
    }
}

/* Exponents *pe that have an exact cheaper form: x^2 = x*x, x^1 = x, and
 * x^0.5 = sqrt(x), with pow's answers for -0 (+0) and -inf (+inf). */
#define POW_FAST(sfx, T, code, sgn)                                                                \
    static void pow_fast_##sfx(const void *px, void *py, int64_t n, const void *pe)                \
    {                                                                                              \
        const T *x = px;                                                                           \
        T *y = py;                                                                                 \
        const double e = *(const double *)pe;                                                      \
        if (e == 2.0) {                                                                            \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = x[i] * x[i];                                                                \
        } else if (e == 1.0) {                                                                     \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = x[i];                                                                       \
        } else {                                                                                   \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = x[i] == (T)-INFINITY ? (T)INFINITY : (T)(ONN_SQRT(x[i]) + (T)0);            \
        }                                                                                          \
    }
ONN_FLOAT_TYPES(POW_FAST)

typedef struct pow_cfg {
    onnorm_tensor b_view; /* config: the exponent's legacy view (Pow-1) */
    onn_bcast plan;
    /* Float base and a single exponent element: run tries x^2, x^1, x^0.5
     * (the exponent's value may be known only at run). */
    onn_span_fn fast;
    const access_row *ea; /* reads that exponent */
    bin_job same;         /* base and exponent of one float type: fn set */
    pow_job mixed;        /* otherwise */
} pow_cfg;

static onnorm_status pow_config(onn_kctx *ctx)
{
    pow_cfg *cfg = ctx->state;
    return legacy_config(ctx, &cfg->b_view);
}

static onnorm_status pow_prepare(onn_kctx *ctx)
{
    pow_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *e = operand_b(ctx, &cfg->b_view), *y = ctx->out[0];
    onnorm_status st = plan_walk(ctx, &cfg->plan, 2, (const onnorm_tensor *[]){x, e});
    if (st) return st;
    const bool float_base = onn_is_float_type(x->dtype);
    cfg->ea = access_of(e->dtype);
    /* y then has x's elements in x's order (a one-element operand only adds
     * leading 1s). */
    if (float_base && onnorm_tensor_numel(e) == 1)
        cfg->fast = x->dtype == ONNORM_FLOAT ? pow_fast_f32 : pow_fast_f64;
    if (float_base && x->dtype == e->dtype) {
        cfg->same = bin_job_for(find_loop(OP_POW, x->dtype), x->dtype, y->dtype);
        return ONNORM_OK;
    }
    cfg->mixed = (pow_job){.ba = access_of(x->dtype),
                           .ea = cfg->ea,
                           .ya = access_of(y->dtype),
                           .integer = access_of(x->dtype)->ldi && cfg->ea->ldi};
    return ONNORM_OK;
}

static onnorm_status pow_run(onn_kctx *ctx)
{
    const pow_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *e = ctx->in[1];
    onnorm_tensor *y = ctx->out[0];
    if (cfg->fast) {
        const double ev = cfg->ea->ldf(e->data, 0);
        if (ev == 2.0 || ev == 1.0 || ev == 0.5) {
            run_span(ctx, cfg->fast, x->data, y, &ev);
            return ONNORM_OK;
        }
    }
    if (cfg->same.fn) {
        apply(ctx, &cfg->plan, cfg->same, x->data, e->data, y->data);
        return ONNORM_OK;
    }
    pow_job job = cfg->mixed;
    job.x = x->data, job.e = e->data, job.y = y->data;
    onn_bcast_parallel(ctx, &cfg->plan, pow_mixed_cb, &job);
    return ONNORM_OK;
}

/* ---- Where ------------------------------------------------------------------ */

static onnorm_status where_infer(onn_kctx *ctx)
{
    onnorm_status st = require_inputs(ctx);
    if (st) return st;
    if (ctx->in[0]->dtype != ONNORM_BOOL)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "condition has type %s, expected bool",
                         onnorm_dtype_name(ctx->in[0]->dtype));
    if ((st = same_types(ctx, 1))) return st;
    onnorm_dtype t = ctx->in[1]->dtype;
    size_t esz = onnorm_dtype_size(t);
    if (t == ONNORM_STRING || (esz != 1 && esz != 2 && esz != 4 && esz != 8))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "X and Y have type %s, which is not supported",
                         onnorm_dtype_name(t));
    return set_broadcast_output(ctx, t);
}

/* Where only moves elements, so it is stamped per element size. */
typedef void (*where_loop)(const uint8_t *c, const void *x, const void *y, void *o, int64_t n,
                           const int64_t *step);

#define WHERE_LOOP(T)                                                                              \
    static void where_##T(const uint8_t *c, const void *px, const void *py, void *po, int64_t n,   \
                          const int64_t *s)                                                        \
    {                                                                                              \
        const T *x = px, *y = py;                                                                  \
        T *o = po;                                                                                 \
        if (s[0] && s[1] && s[2]) {                                                                \
            ONN_SIMD                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i] = c[i] ? x[i] : y[i];                                                         \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i] = c[i * s[0]] ? x[i * s[1]] : y[i * s[2]];                                    \
        }                                                                                          \
    }
WHERE_LOOP(uint8_t)
WHERE_LOOP(uint16_t)
WHERE_LOOP(uint32_t)
WHERE_LOOP(uint64_t)

typedef struct where_job {
    where_loop fn;
    const uint8_t *c;
    const char *x, *y;
    char *o;
    size_t esz;
} where_job;

static void where_cb(void *arg, const int64_t *off, int64_t out_off, int64_t len,
                     const int64_t *step)
{
    const where_job *j = arg;
    j->fn(j->c + off[0], j->x + (size_t)off[1] * j->esz, j->y + (size_t)off[2] * j->esz,
          j->o + (size_t)out_off * j->esz, len, step);
}

typedef struct where_cfg {
    onn_bcast plan;
    where_loop fn;
    size_t esz;
} where_cfg;

static onnorm_status where_prepare(onn_kctx *ctx)
{
    where_cfg *cfg = ctx->state;
    const size_t esz = onnorm_dtype_size(ctx->out[0]->dtype);
    cfg->esz = esz;
    cfg->fn = esz == 1   ? where_uint8_t
              : esz == 2 ? where_uint16_t
              : esz == 4 ? where_uint32_t
                         : where_uint64_t;
    return plan_walk(ctx, &cfg->plan, 3, (const onnorm_tensor *const *)ctx->in);
}

static onnorm_status where_run(onn_kctx *ctx)
{
    const where_cfg *cfg = ctx->state;
    where_job job = {cfg->fn,          ctx->in[0]->data,  ctx->in[1]->data,
                     ctx->in[2]->data, ctx->out[0]->data, cfg->esz};
    onn_bcast_parallel(ctx, &cfg->plan, where_cb, &job);
    return ONNORM_OK;
}

/* ---- registry ------------------------------------------------------------- */

#define ELEM_W(op, ver, in_lo, in_hi, d, w)                                                        \
    {                                                                                              \
        ONN_KERNEL("", op, ver, in_lo, in_hi, 1, 1, bin_infer, bin_prepare, bin_run),              \
            .config = bin_config, .state_size = sizeof(bin_cfg), .data = &descs[d], .widens = (w)  \
    }
#define ELEM(op, ver, in_lo, in_hi, d) ELEM_W(op, ver, in_lo, in_hi, d, false)
/* A later version of a binary op that only adds types. */
#define BIN_WIDER(op, ver, d) ELEM_W(op, ver, 2, 2, d, true)
/* Each binary op: the legacy form (1) and numpy broadcasting (7). */
#define BIN_BOTH(op, d) ELEM(op, 1, 2, 2, d), ELEM(op, 7, 2, 2, d)
/* Each variadic op: same shapes (6) and numpy broadcasting (8). */
#define VARIADIC(op, d) ELEM(op, 6, 1, INT_MAX, d), ELEM(op, 8, 1, INT_MAX, d)
#define VAR_WIDER(op, ver, d) ELEM_W(op, ver, 1, INT_MAX, d, true)
#define POW(ver, w)                                                                                \
    {                                                                                              \
        ONN_KERNEL("", "Pow", ver, 2, 2, 1, 1, pow_infer, pow_prepare, pow_run),                   \
            .config = pow_config, .state_size = sizeof(pow_cfg), .widens = (w)                     \
    }
#define WHERE(ver)                                                                                 \
    {                                                                                              \
        ONN_KERNEL("", "Where", ver, 3, 3, 1, 1, where_infer, where_prepare, where_run),           \
            .state_size = sizeof(where_cfg), .widens = (ver) > 9                                   \
    }

/* Versions past 7 (8 for the variadic ops) add types only: 13 bfloat16,
 * 14 the 8- and 16-bit integers (Add, Sub, Mul, Div), 9 and 11 integers and
 * bool (Greater, Less; Equal), 12 integers (Max, Min), 16 bfloat16
 * (GreaterOrEqual, LessOrEqual, Where). */
ONN_KERNEL_TABLE(binary, BIN_BOTH("Add", D_ADD), BIN_WIDER("Add", 13, D_ADD),
                 BIN_WIDER("Add", 14, D_ADD), BIN_BOTH("Sub", D_SUB), BIN_WIDER("Sub", 13, D_SUB),
                 BIN_WIDER("Sub", 14, D_SUB), BIN_BOTH("Mul", D_MUL), BIN_WIDER("Mul", 13, D_MUL),
                 BIN_WIDER("Mul", 14, D_MUL), BIN_BOTH("Div", D_DIV), BIN_WIDER("Div", 13, D_DIV),
                 BIN_WIDER("Div", 14, D_DIV), BIN_BOTH("Equal", D_EQUAL),
                 BIN_WIDER("Equal", 11, D_EQUAL), BIN_WIDER("Equal", 13, D_EQUAL),
                 BIN_BOTH("Greater", D_GREATER), BIN_WIDER("Greater", 9, D_GREATER),
                 BIN_WIDER("Greater", 13, D_GREATER), BIN_BOTH("Less", D_LESS),
                 BIN_WIDER("Less", 9, D_LESS), BIN_WIDER("Less", 13, D_LESS),
                 ELEM("GreaterOrEqual", 12, 2, 2, D_GE), BIN_WIDER("GreaterOrEqual", 16, D_GE),
                 ELEM("LessOrEqual", 12, 2, 2, D_LE), BIN_WIDER("LessOrEqual", 16, D_LE),
                 BIN_BOTH("And", D_AND), BIN_BOTH("Or", D_OR), BIN_BOTH("Xor", D_XOR),
                 ELEM("Mod", 10, 2, 2, D_MOD), BIN_WIDER("Mod", 13, D_MOD),
                 ELEM("BitShift", 11, 2, 2, D_SHIFT), VARIADIC("Sum", D_SUM),
                 VAR_WIDER("Sum", 13, D_SUM), VARIADIC("Mean", D_MEAN),
                 VAR_WIDER("Mean", 13, D_MEAN), VARIADIC("Max", D_MAX), VAR_WIDER("Max", 12, D_MAX),
                 VAR_WIDER("Max", 13, D_MAX), VARIADIC("Min", D_MIN), VAR_WIDER("Min", 12, D_MIN),
                 VAR_WIDER("Min", 13, D_MIN), POW(1, false), POW(7, false), POW(12, false),
                 POW(13, true), POW(15, true), WHERE(9), WHERE(16));
