/*
 * One element of any numeric tensor type read as a double, or written from
 * one, for reference kernels that are not worth a typed loop per type
 * (quant.c, signal.c). float16 and bfloat16 go through float32 (ops/half.h);
 * a double stored to an integer type is truncated toward zero and clamped
 * to the type's range (NaN gives 0), so no store is undefined behaviour.
 */
#ifndef ONN_ELEM_H
#define ONN_ELEM_H

#include "ops/half.h"
#include "ops/kernel.h"

#include <math.h>

/* The element types these helpers handle. */
#define ONN_T_ELEM                                                                                 \
    (ONN_T(ONNORM_FLOAT) | ONN_T(ONNORM_DOUBLE) | ONN_T(ONNORM_FLOAT16) | ONN_T(ONNORM_BFLOAT16) | \
     ONN_T(ONNORM_INT8) | ONN_T(ONNORM_INT16) | ONN_T(ONNORM_INT32) | ONN_T(ONNORM_INT64) |        \
     ONN_T(ONNORM_UINT8) | ONN_T(ONNORM_UINT16) | ONN_T(ONNORM_UINT32) | ONN_T(ONNORM_UINT64))

static inline double onn_elem_load(onnorm_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case ONNORM_FLOAT: return ((const float *)p)[i];
    case ONNORM_DOUBLE: return ((const double *)p)[i];
    case ONNORM_FLOAT16: return onn_f16_to_f32(((const uint16_t *)p)[i]);
    case ONNORM_BFLOAT16: return onn_bf16_to_f32(((const uint16_t *)p)[i]);
    case ONNORM_INT8: return ((const int8_t *)p)[i];
    case ONNORM_INT16: return ((const int16_t *)p)[i];
    case ONNORM_INT32: return ((const int32_t *)p)[i];
    case ONNORM_INT64: return (double)((const int64_t *)p)[i];
    case ONNORM_UINT8: return ((const uint8_t *)p)[i];
    case ONNORM_UINT16: return ((const uint16_t *)p)[i];
    case ONNORM_UINT32: return ((const uint32_t *)p)[i];
    case ONNORM_UINT64: return (double)((const uint64_t *)p)[i];
    case ONNORM_BOOL: return ((const uint8_t *)p)[i] != 0;
    default: return 0.0;
    }
}

/* An integer element exactly (int64 and uint64 beyond 2^53 included). */
static inline int64_t onn_elem_load_int(onnorm_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case ONNORM_INT8: return ((const int8_t *)p)[i];
    case ONNORM_INT16: return ((const int16_t *)p)[i];
    case ONNORM_INT32: return ((const int32_t *)p)[i];
    case ONNORM_INT64: return ((const int64_t *)p)[i];
    case ONNORM_UINT8: return ((const uint8_t *)p)[i];
    case ONNORM_UINT16: return ((const uint16_t *)p)[i];
    case ONNORM_UINT32: return ((const uint32_t *)p)[i];
    case ONNORM_UINT64: return (int64_t)((const uint64_t *)p)[i];
    default: return (int64_t)onn_elem_load(t, p, i);
    }
}

static inline double onn_elem_clamp(double v, double lo, double hi)
{
    if (isnan(v)) return 0.0;
    return v < lo ? lo : v > hi ? hi : v;
}

static inline void onn_elem_store(onnorm_dtype t, void *p, int64_t i, double v)
{
    switch (t) {
    case ONNORM_FLOAT: ((float *)p)[i] = (float)v; break;
    case ONNORM_DOUBLE: ((double *)p)[i] = v; break;
    case ONNORM_FLOAT16: ((uint16_t *)p)[i] = onn_f32_to_f16((float)v); break;
    case ONNORM_BFLOAT16: ((uint16_t *)p)[i] = onn_f32_to_bf16((float)v); break;
    case ONNORM_INT8: ((int8_t *)p)[i] = (int8_t)onn_elem_clamp(v, INT8_MIN, INT8_MAX); break;
    case ONNORM_INT16: ((int16_t *)p)[i] = (int16_t)onn_elem_clamp(v, INT16_MIN, INT16_MAX); break;
    case ONNORM_INT32: ((int32_t *)p)[i] = (int32_t)onn_elem_clamp(v, INT32_MIN, INT32_MAX); break;
    case ONNORM_INT64:
        ((int64_t *)p)[i] =
            (int64_t)onn_elem_clamp(v, -9223372036854775808.0, 9223372036854774784.0);
        break;
    case ONNORM_UINT8: ((uint8_t *)p)[i] = (uint8_t)onn_elem_clamp(v, 0, UINT8_MAX); break;
    case ONNORM_UINT16: ((uint16_t *)p)[i] = (uint16_t)onn_elem_clamp(v, 0, UINT16_MAX); break;
    case ONNORM_UINT32: ((uint32_t *)p)[i] = (uint32_t)onn_elem_clamp(v, 0, UINT32_MAX); break;
    case ONNORM_UINT64:
        ((uint64_t *)p)[i] = (uint64_t)onn_elem_clamp(v, 0, 18446744073709549568.0);
        break;
    default: break;
    }
}

/* The range of a quantized integer type; false for other types. */
static inline bool onn_quant_range(onnorm_dtype t, int64_t *lo, int64_t *hi)
{
    switch (t) {
    case ONNORM_INT8: *lo = INT8_MIN, *hi = INT8_MAX; return true;
    case ONNORM_UINT8: *lo = 0, *hi = UINT8_MAX; return true;
    case ONNORM_INT16: *lo = INT16_MIN, *hi = INT16_MAX; return true;
    case ONNORM_UINT16: *lo = 0, *hi = UINT16_MAX; return true;
    case ONNORM_INT32: *lo = INT32_MIN, *hi = INT32_MAX; return true;
    default: return false;
    }
}

#endif
