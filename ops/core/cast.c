/*
 * Cast (1: 'to' is a type name string; 6: 'to' is a TensorProto code; 9, 13,
 * 19 and 21 only add types; 19's 'saturate' concerns float8 alone).
 * CastLike (15; 19 and 21 only add types): Cast to the element type of the
 * second input, whose values are not read.
 *
 * Supported both ways: float32, float64, float16, bfloat16, bool, int8,
 * int16, int32, int64, uint8, uint16, uint32, uint64 (not strings or
 * float8/int4). Strings are refused with "string tensors are not
 * supported".
 *
 * Each element is loaded into a cast_val that holds it exactly (a double
 * for the floating types, a 64-bit integer otherwise) and stored into the
 * target type with a single rounding where the spec and numpy round:
 *   - to float16 / bfloat16: round to nearest, ties to even; overflow
 *     gives infinity, NaN stays NaN (computed bit by bit below, so it does
 *     not depend on the FPU's rounding mode or half-precision support);
 *   - floating to integer: truncation toward zero. Values out of the
 *     target's range are undefined in ONNX; here NaN gives 0 and other
 *     values wrap modulo 2^bits after saturating to 64 bits, which avoids C's
 *     undefined behaviour and matches numpy for small negatives to unsigned;
 *   - to bool: any nonzero value (NaN included) is true.
 * Integers beyond 2^53 reach float16/bfloat16 through a double, so they may
 * round twice; float16 overflows long before, bfloat16 is off by at most one
 * unit in such cases.
 */
#include "ops/core/threadpool.h"
#include "ops/half.h"
#include "ops/kernel.h"

#include <math.h>
#include <string.h>

typedef enum cast_kind { CAST_FLOAT, CAST_SIGNED, CAST_UNSIGNED } cast_kind;

typedef struct cast_val {
    cast_kind kind;
    double d;   /* CAST_FLOAT */
    int64_t i;  /* CAST_SIGNED */
    uint64_t u; /* CAST_UNSIGNED (and bool) */
} cast_val;

/* IEEE binary formats narrower than float32: fraction and exponent bits. */
#define F16_MAN 10
#define F16_EXP 5
#define BF16_MAN 7
#define BF16_EXP 8

static bool cast_supported(onnorm_dtype t)
{
    switch (t) {
    case ONNORM_FLOAT:
    case ONNORM_DOUBLE:
    case ONNORM_FLOAT16:
    case ONNORM_BFLOAT16:
    case ONNORM_BOOL:
    case ONNORM_INT8:
    case ONNORM_INT16:
    case ONNORM_INT32:
    case ONNORM_INT64:
    case ONNORM_UINT8:
    case ONNORM_UINT16:
    case ONNORM_UINT32:
    case ONNORM_UINT64: return true;
    default: return false;
    }
}

/* Why type t cannot be cast ("string tensors are not supported" for strings). */
static onnorm_status unsupported(onn_kctx *ctx, const char *dir, onnorm_dtype t)
{
    if (t == ONNORM_STRING)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "cannot cast %s string: string tensors are not supported", dir);
    return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "cannot cast %s type %d (%s)", dir, (int)t,
                     onnorm_dtype_name(t));
}

/* ---- narrow floating formats ------------------------------------------- */

/* x >= 0 rounded to an integer, ties to even. Exact: x < 2^53 here. */
static double round_half_even(double x)
{
    double fl = floor(x), diff = x - fl;
    if (diff > 0.5 || (diff == 0.5 && fmod(fl, 2.0) != 0.0)) fl += 1.0;
    return fl;
}

/* d in the binary format with `man` fraction and `ebits` exponent bits. */
static uint32_t encode_narrow(double d, int man, int ebits)
{
    const uint32_t emax = (1u << ebits) - 1, sign = signbit(d) ? 1u << (man + ebits) : 0;
    const int bias = (1 << (ebits - 1)) - 1;
    if (isnan(d)) return sign | emax << man | 1u << (man - 1); /* quiet NaN */
    d = fabs(d);
    if (isinf(d)) return sign | emax << man;
    if (d == 0) return sign;
    int e;
    frexp(d, &e);
    int exp = e - 1;                    /* d = 1.f * 2^exp */
    if (exp < 1 - bias) exp = 1 - bias; /* subnormal range: fixed quantum */
    /* The significand in units of the target's last place; scaling by a
     * power of two is exact, so only round_half_even rounds. */
    uint64_t m = (uint64_t)round_half_even(ldexp(d, man - exp));
    if (m >> (man + 1)) { /* rounding carried into the next binade */
        m >>= 1;
        exp++;
    }
    if (!(m >> man)) return sign | (uint32_t)m;             /* subnormal (or rounded to 0) */
    if (exp + bias >= (int)emax) return sign | emax << man; /* overflow */
    return sign | (uint32_t)(exp + bias) << man | ((uint32_t)m & ((1u << man) - 1));
}

/* ---- element load / store ---------------------------------------------- */

/* The `size`-byte unsigned integer at p, zero-extended. */
static uint64_t read_bits(const char *p, size_t size)
{
    uint8_t b8;
    uint16_t b16;
    uint32_t b32;
    uint64_t b64;
    switch (size) {
    case 1: memcpy(&b8, p, 1); return b8;
    case 2: memcpy(&b16, p, 2); return b16;
    case 4: memcpy(&b32, p, 4); return b32;
    default: memcpy(&b64, p, 8); return b64;
    }
}

static cast_val float_val(double d)
{
    cast_val v = {CAST_FLOAT, d, 0, 0};
    return v;
}

static cast_val load_elem(onnorm_dtype t, const char *p)
{
    cast_val v = {CAST_UNSIGNED, 0, 0, 0};
    float f;
    double d;
    switch (t) {
    case ONNORM_FLOAT: memcpy(&f, p, 4); return float_val(f);
    case ONNORM_DOUBLE: memcpy(&d, p, 8); return float_val(d);
    case ONNORM_FLOAT16:
        return float_val(onn_f16_to_f32((uint16_t)read_bits(p, 2))); /* widening is exact */
    case ONNORM_BFLOAT16: return float_val(onn_bf16_to_f32((uint16_t)read_bits(p, 2)));
    case ONNORM_BOOL: v.u = *(const uint8_t *)p != 0; return v;
    case ONNORM_UINT8:
    case ONNORM_UINT16:
    case ONNORM_UINT32:
    case ONNORM_UINT64: v.u = read_bits(p, onnorm_dtype_size(t)); return v;
    default: break;
    }
    /* Signed integers: sign-extend to 64 bits; memcpy reinterprets the
     * two's complement pattern without implementation-defined conversions. */
    size_t size = onnorm_dtype_size(t);
    uint64_t u = read_bits(p, size);
    if (size < 8 && (u >> (8 * size - 1)) & 1) u |= ~(uint64_t)0 << (8 * size);
    v.kind = CAST_SIGNED;
    memcpy(&v.i, &u, 8);
    return v;
}

/* A floating value truncated toward zero as a 64-bit two's complement
 * pattern (see the file comment for out-of-range values). */
static uint64_t trunc_bits(double d)
{
    if (isnan(d)) return 0;
    if (d >= 18446744073709551616.0) return UINT64_MAX;
    if (d >= 0) return (uint64_t)d;
    if (d <= -9223372036854775808.0) return (uint64_t)INT64_MIN;
    return (uint64_t)(int64_t)d;
}

static uint64_t int_bits(cast_val v)
{
    switch (v.kind) {
    case CAST_FLOAT: return trunc_bits(v.d);
    case CAST_SIGNED: return (uint64_t)v.i;
    default: return v.u;
    }
}

static double as_double(cast_val v)
{
    return v.kind == CAST_FLOAT ? v.d : v.kind == CAST_SIGNED ? (double)v.i : (double)v.u;
}

/* Converting integers straight to float rounds once (a detour through
 * double could round twice). */
static float as_float(cast_val v)
{
    return v.kind == CAST_FLOAT ? (float)v.d : v.kind == CAST_SIGNED ? (float)v.i : (float)v.u;
}

static bool is_nonzero(cast_val v)
{
    return v.kind == CAST_FLOAT ? v.d != 0 : v.kind == CAST_SIGNED ? v.i != 0 : v.u != 0;
}

/* Stores the low `size` bytes of b at p. */
static void write_bits(char *p, size_t size, uint64_t b)
{
    uint8_t b8 = (uint8_t)b;
    uint16_t b16 = (uint16_t)b;
    uint32_t b32 = (uint32_t)b;
    switch (size) {
    case 1: memcpy(p, &b8, 1); break;
    case 2: memcpy(p, &b16, 2); break;
    case 4: memcpy(p, &b32, 4); break;
    default: memcpy(p, &b, 8); break;
    }
}

static void store_elem(onnorm_dtype t, char *p, cast_val v)
{
    float f;
    double d;
    switch (t) {
    case ONNORM_FLOAT:
        f = as_float(v);
        memcpy(p, &f, 4);
        return;
    case ONNORM_DOUBLE:
        d = as_double(v);
        memcpy(p, &d, 8);
        return;
    case ONNORM_FLOAT16: write_bits(p, 2, encode_narrow(as_double(v), F16_MAN, F16_EXP)); return;
    case ONNORM_BFLOAT16: write_bits(p, 2, encode_narrow(as_double(v), BF16_MAN, BF16_EXP)); return;
    case ONNORM_BOOL: write_bits(p, 1, is_nonzero(v)); return;
    default: write_bits(p, onnorm_dtype_size(t), int_bits(v)); /* modulo 2^bits */
    }
}

/* ---- the kernel ---------------------------------------------------------- */

/* What config settles: both element types, and whether the cast is a
 * plain copy. */
typedef struct cast_cfg {
    onnorm_dtype from, to;
    bool copy;
} cast_cfg;

/* Opset 1 names the target type with a DataType enum name; the names of
 * the supported types, and their codes at the same index. */
static const char *const type_names[] = {
    "FLOAT", "DOUBLE", "FLOAT16", "BFLOAT16", "BOOL",   "INT8",   "INT16",
    "INT32", "INT64",  "UINT8",   "UINT16",   "UINT32", "UINT64",
};
static const onnorm_dtype type_codes[] = {
    ONNORM_FLOAT,  ONNORM_DOUBLE, ONNORM_FLOAT16, ONNORM_BFLOAT16, ONNORM_BOOL,
    ONNORM_INT8,   ONNORM_INT16,  ONNORM_INT32,   ONNORM_INT64,    ONNORM_UINT8,
    ONNORM_UINT16, ONNORM_UINT32, ONNORM_UINT64,
};

/* The 'to' attribute: a type name (opset 1) or a TensorProto code. */
static onnorm_status target_type(onn_kctx *ctx, onnorm_dtype *to)
{
    onnorm_status st = onn_kattr_require(ctx, "to");
    if (st) return st;
    if (onn_kversion(ctx) < 6) {
        int k;
        st = onn_kattr_enum(ctx, "to", type_names, (int)(sizeof type_names / sizeof type_names[0]),
                            0, &k);
        *to = type_codes[k];
        return st;
    }
    int64_t code;
    if ((st = onn_kattr_int(ctx, "to", 0, &code))) return st;
    if (code <= 0 || code >= 64) /* keeps the code within the enum */
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "cannot cast to type %lld", (long long)code);
    *to = (onnorm_dtype)code;
    return cast_supported(*to) ? ONNORM_OK : unsupported(ctx, "to", *to);
}

/* The data of a CastLike entry (Cast's is NULL). */
static const int castlike_tag;

static onnorm_status cast_config(onn_kctx *ctx)
{
    cast_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    onnorm_status st;
    if (!cast_supported(x->dtype)) return unsupported(ctx, "from", x->dtype);
    cfg->from = x->dtype;
    if (ctx->kernel->data == &castlike_tag) {
        if (!onn_has_input(ctx, 1))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'target_type' is missing");
        cfg->to = ctx->in[1]->dtype;
        st = cast_supported(cfg->to) ? ONNORM_OK : unsupported(ctx, "to", cfg->to);
    } else {
        st = target_type(ctx, &cfg->to);
    }
    cfg->copy = !st && cfg->from == cfg->to;
    return st;
}

static onnorm_status cast_infer(onn_kctx *ctx)
{
    const cast_cfg *cfg = ctx->state;
    onn_set_output(ctx, 0, cfg->to, ctx->in[0]->rank, ctx->in[0]->dims);
    return ONNORM_OK;
}

/* The arguments of cast_run's element loop. */
typedef struct cast_job {
    const cast_cfg *cfg;
    const char *src;
    char *dst;
    size_t in_sz, out_sz;
} cast_job;

static void cast_elems(void *arg, int64_t i0, int64_t i1, int worker)
{
    (void)worker;
    const cast_job *j = arg;
    for (int64_t i = i0; i < i1; i++)
        store_elem(j->cfg->to, j->dst + (size_t)i * j->out_sz,
                   load_elem(j->cfg->from, j->src + (size_t)i * j->in_sz));
}

static onnorm_status cast_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    const cast_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const int64_t n = onnorm_tensor_numel(x);
    const size_t in_sz = onnorm_dtype_size(cfg->from), out_sz = onnorm_dtype_size(cfg->to);
    if (cfg->copy) { /* bit-exact, NaN payloads included */
        memcpy(ctx->out[0]->data, x->data, (size_t)n * in_sz);
        return ONNORM_OK;
    }
    const int nt = onn_threads_for(ctx, n, n);
    cast_job j = {cfg, x->data, ctx->out[0]->data, in_sz, out_sz};
    onn_parallel_range(nt, n, cast_elems, &j);
    return ONNORM_OK;
}

#define CAST_KERNEL(ver, w)                                                                        \
    {                                                                                              \
        ONN_KERNEL("", "Cast", ver, 1, 1, 1, 1, cast_infer, NULL, cast_run),                       \
            .config = cast_config, .state_size = sizeof(cast_cfg), .widens = (w)                   \
    }
#define CASTLIKE_KERNEL(ver, w)                                                                    \
    {                                                                                              \
        ONN_KERNEL("", "CastLike", ver, 2, 2, 1, 1, cast_infer, NULL, cast_run),                   \
            .config = cast_config, .state_size = sizeof(cast_cfg), .data = &castlike_tag,          \
            .widens = (w)                                                                          \
    }

/* Later versions add types this file does not support (float8, int4...),
 * so for the supported ones they mean what the previous version meant. */
ONN_KERNEL_TABLE(cast, CAST_KERNEL(1, false), CAST_KERNEL(6, false), CAST_KERNEL(9, true),
                 CAST_KERNEL(13, true), CAST_KERNEL(19, true), CAST_KERNEL(21, true),
                 CAST_KERNEL(23, true), CASTLIKE_KERNEL(15, false), CASTLIKE_KERNEL(19, true),
                 CASTLIKE_KERNEL(21, true), CASTLIKE_KERNEL(23, true));
