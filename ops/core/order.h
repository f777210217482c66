/*
 * Element order shared by the index ops (ArgMax/ArgMin, TopK, Unique,
 * NonZero, Compress): one total order over every numeric type.
 *
 * Numbers compare by value (so -0 == +0); a NaN is greater than every
 * number and equal to every other NaN, as NumPy's sort places NaNs last.
 * float16 and bfloat16 are compared as the float32 they widen to exactly.
 */
#ifndef ONN_ORDER_H
#define ONN_ORDER_H

#include "ops/half.h"
#include "ops/kernel.h"

#define ONN_LOAD_ID(v) (v)
#define ONN_LOAD_F16(v) onn_f16_to_f32(v)
#define ONN_LOAD_BF16(v) onn_bf16_to_f32(v)

/* X(suffix, stored C type, dtype code, compared C type, load macro). */
#define ONN_ORDERED_TYPES(X)                                                                       \
    X(f32, float, ONNORM_FLOAT, float, ONN_LOAD_ID)                                                \
    X(f64, double, ONNORM_DOUBLE, double, ONN_LOAD_ID)                                             \
    X(f16, uint16_t, ONNORM_FLOAT16, float, ONN_LOAD_F16)                                          \
    X(bf16, uint16_t, ONNORM_BFLOAT16, float, ONN_LOAD_BF16)                                       \
    X(i8, int8_t, ONNORM_INT8, int8_t, ONN_LOAD_ID)                                                \
    X(i16, int16_t, ONNORM_INT16, int16_t, ONN_LOAD_ID)                                            \
    X(i32, int32_t, ONNORM_INT32, int32_t, ONN_LOAD_ID)                                            \
    X(i64, int64_t, ONNORM_INT64, int64_t, ONN_LOAD_ID)                                            \
    X(u8, uint8_t, ONNORM_UINT8, uint8_t, ONN_LOAD_ID)                                             \
    X(u16, uint16_t, ONNORM_UINT16, uint16_t, ONN_LOAD_ID)                                         \
    X(u32, uint32_t, ONNORM_UINT32, uint32_t, ONN_LOAD_ID)                                         \
    X(u64, uint64_t, ONNORM_UINT64, uint64_t, ONN_LOAD_ID)

/* The same plus bool (stored as one byte, 0 or 1). */
#define ONN_ORDERED_TYPES_BOOL(X)                                                                  \
    ONN_ORDERED_TYPES(X)                                                                           \
    X(b8, uint8_t, ONNORM_BOOL, uint8_t, ONN_LOAD_ID)

/* x != x only for NaN; always false (and folded away) for integers. */
#define ONN_ISNAN(v) ((v) != (v))
/* a < b in the total order above. */
#define ONN_LESS(a, b) ((a) < (b) || (ONN_ISNAN(b) && !ONN_ISNAN(a)))

/* Masks of the numeric types, with and without bool. */
#define ONN_T_ORDERED                                                                              \
    (ONN_T_ALL_FLOATS | ONN_T(ONNORM_INT8) | ONN_T(ONNORM_INT16) | ONN_T(ONNORM_INT32) |           \
     ONN_T(ONNORM_INT64) | ONN_T(ONNORM_UINT8) | ONN_T(ONNORM_UINT16) | ONN_T(ONNORM_UINT32) |     \
     ONN_T(ONNORM_UINT64))
#define ONN_T_ORDERED_BOOL (ONN_T_ORDERED | ONN_T(ONNORM_BOOL))

/* -1, 0 or 1 comparing element a with element b of one array. */
typedef int (*onn_order_cmp_fn)(const void *data, int64_t a, int64_t b);
/* Element i is not zero (NaN is not zero; -0 is). */
typedef bool (*onn_order_nz_fn)(const void *data, int64_t i);

/* The functions for dtype t, or NULL for a type outside ONN_ORDERED_TYPES_BOOL. */
onn_order_cmp_fn onn_order_cmp(onnorm_dtype t);
onn_order_nz_fn onn_order_nonzero(onnorm_dtype t);

/* Sorts idx[0..n) by less(ctx, a, b) (a strict weak order); stable merge
 * sort using tmp[0..n) as work space. */
void onn_order_sort(int64_t *idx, int64_t *tmp, int64_t n,
                    bool (*less)(const void *ctx, int64_t a, int64_t b), const void *ctx);

/* Refusal bound for output sizes computed from input VALUES (Range's count,
 * OneHot's depth, ...): 4 GiB. */
#define ONN_VALUE_SIZE_LIMIT ((size_t)1 << 32)
/* Checks that `count` elements of `esz` bytes (what = a description for
 * the message) stay within ONN_VALUE_SIZE_LIMIT. */
onnorm_status onn_value_size_check(onn_kctx *ctx, const char *what, int64_t count, size_t esz);

#endif
