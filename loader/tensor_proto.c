/*
 * TensorProto <-> onnorm_tensor. Nothing read from a file is trusted: the
 * rank, every dim, the element count and the byte size of every data field
 * are checked before anything is copied.
 */
#include "loader/loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "onnorm reads ONNX raw_data as little-endian and needs a little-endian host"
#endif

/* How many entries the typed field that carries element type dt holds
 * (the same choice as copy_typed_field below). */
static size_t typed_count(const Onnx__TensorProto *tp, onnorm_dtype dt)
{
    switch (dt) {
    case ONNORM_FLOAT: return tp->n_float_data;
    case ONNORM_DOUBLE: return tp->n_double_data;
    case ONNORM_INT64: return tp->n_int64_data;
    case ONNORM_UINT64:
    case ONNORM_UINT32: return tp->n_uint64_data;
    default: return tp->n_int32_data;
    }
}

/* Which typed repeated field carries each element type (ONNX spec comments
 * in onnx.proto): 32-bit-or-narrower integers, bool and 16-bit floats go in
 * int32_data; uint32/uint64 in uint64_data. */
static onnorm_status copy_typed_field(const Onnx__TensorProto *tp, onnorm_tensor *t, int64_t numel,
                                      onnorm_error *err)
{
    const char *name = tp->name ? tp->name : "";
    const size_t n = (size_t)numel;
    size_t have = 0;
    const void *same = NULL;    /* a field with the tensor's own layout */
    const int32_t *i32 = NULL;  /* int32_data narrowed to 16 or 8 bits */
    const uint64_t *u64 = NULL; /* uint64_data narrowed to 32 bits */
    switch (t->dtype) {
    case ONNORM_FLOAT: have = tp->n_float_data, same = tp->float_data; break;
    case ONNORM_DOUBLE: have = tp->n_double_data, same = tp->double_data; break;
    case ONNORM_INT64: have = tp->n_int64_data, same = tp->int64_data; break;
    case ONNORM_INT32: have = tp->n_int32_data, same = tp->int32_data; break;
    case ONNORM_UINT64: have = tp->n_uint64_data, same = tp->uint64_data; break;
    case ONNORM_UINT32: have = tp->n_uint64_data, u64 = tp->uint64_data; break;
    case ONNORM_INT16:
    case ONNORM_UINT16:
    case ONNORM_FLOAT16:
    case ONNORM_BFLOAT16:
    case ONNORM_INT8:
    case ONNORM_UINT8:
    case ONNORM_BOOL: have = tp->n_int32_data, i32 = tp->int32_data; break;
    default: break;
    }
    if (have == n) {
        const size_t esz = onnorm_dtype_size(t->dtype);
        if (same && n) memcpy(t->data, same, n * esz);
        for (size_t i = 0; u64 && i < n; i++)
            ((uint32_t *)t->data)[i] = (uint32_t)u64[i];
        for (size_t i = 0; i32 && i < n; i++) {
            if (esz == 2)
                ((uint16_t *)t->data)[i] = (uint16_t)(i32[i] & 0xFFFF);
            else
                ((uint8_t *)t->data)[i] = (uint8_t)(i32[i] & 0xFF);
        }
    }
    if (have != n)
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "tensor '%s' holds %zu values for %lld elements of shape %s", name, have,
                        (long long)numel, onn_shape_str(t->dims, t->rank, (char[128]){0}, 128));
    return ONNORM_OK;
}

onnorm_status onn_tensor_from_proto(const Onnx__TensorProto *tp, onnorm_tensor **out,
                                    onnorm_error *err)
{
    const char *name = tp->name ? tp->name : "";
    *out = NULL;
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "tensor '%s' keeps its data in an external file, which is not supported",
                        name);
    if (tp->segment) return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "tensor '%s' is segmented", name);
    if (!onn_dtype_code_valid(tp->data_type))
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "tensor '%s' has element type code %d, which is not an ONNX element type "
                        "(0..%d)",
                        name, (int)tp->data_type, ONN_DTYPE_CODE_MAX);
    onnorm_dtype dt = (onnorm_dtype)tp->data_type;
    if (dt == ONNORM_STRING)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "tensor '%s' holds strings: string tensors are not supported", name);
    if (onnorm_dtype_size(dt) == 0)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "tensor '%s' has element type %s (%d), which is not supported", name,
                        onnorm_dtype_name(dt), (int)tp->data_type);
    if (tp->n_dims > ONNORM_MAX_RANK)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "tensor '%s' has rank %zu (maximum %d)", name,
                        tp->n_dims, ONNORM_MAX_RANK);
    for (size_t i = 0; i < tp->n_dims; i++)
        if (tp->dims[i] < 0)
            return onn_fail(err, ONNORM_ERR_INVALID, "tensor '%s' has negative dim %lld", name,
                            (long long)tp->dims[i]);
    int64_t numel = onn_dims_numel(tp->dims, 0, (int)tp->n_dims);
    size_t bytes;
    if (numel < 0 || !onn_mul_size((size_t)numel, onnorm_dtype_size(dt), &bytes))
        return onn_fail(err, ONNORM_ERR_NOMEM, "tensor '%s': element count overflows", name);
    if (tp->has_raw_data && tp->raw_data.len != bytes)
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "tensor '%s': raw_data holds %zu bytes, but %lld elements of %s need %zu",
                        name, tp->raw_data.len, (long long)numel, onnorm_dtype_name(dt), bytes);
    /* Typed fields hold one entry per element: a count that cannot match is
     * refused before the tensor is allocated (dims of 2^36 floats with no
     * data must not allocate 256 GiB first). */
    if (!tp->has_raw_data && numel > 0 && typed_count(tp, dt) != (size_t)numel) {
        char sh[128];
        int64_t dims[ONNORM_MAX_RANK];
        for (size_t i = 0; i < tp->n_dims; i++)
            dims[i] = tp->dims[i];
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "tensor '%s' holds %zu values for %lld elements of shape %s", name,
                        typed_count(tp, dt), (long long)numel,
                        onn_shape_str(dims, (int)tp->n_dims, sh, sizeof sh));
    }
    onnorm_tensor *t = onn_tensor_new(dt, (int)tp->n_dims, tp->dims, err);
    if (!t) return err ? err->code : ONNORM_ERR_NOMEM;
    if (tp->has_raw_data) {
        if (bytes) memcpy(t->data, tp->raw_data.data, bytes);
    } else if (numel > 0) {
        onnorm_status st = copy_typed_field(tp, t, numel, err);
        if (st) {
            onn_tensor_free(t);
            return st;
        }
    }
    if (tp->name && tp->name[0] && !(t->name = onn_strdup(tp->name))) {
        onn_tensor_free(t);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    *out = t;
    return ONNORM_OK;
}

onnorm_status onn_read_file(const char *path, uint8_t **data, size_t *size, onnorm_error *err)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return onn_fail(err, ONNORM_ERR_IO, "%s: cannot open file", path);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return onn_fail(err, ONNORM_ERR_NOMEM, "%s: out of memory reading file", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0) break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return onn_fail(err, ONNORM_ERR_IO, "%s: read error", path);
    }
    *data = buf;
    *size = len;
    return ONNORM_OK;
}

onnorm_status onn_tensor_read_file(const char *path, onnorm_tensor **out, onnorm_error *err)
{
    uint8_t *buf;
    size_t len;
    if (out) *out = NULL;
    if (!out || !path)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_tensor_read_file: NULL argument");
    onnorm_status st = onn_read_file(path, &buf, &len, err);
    if (st) return st;
    st = onn_tensor_read_buffer(buf, len, path, out, err);
    free(buf);
    return st;
}

onnorm_status onn_tensor_read_buffer(const uint8_t *data, size_t len, const char *label,
                                     onnorm_tensor **out, onnorm_error *err)
{
    *out = NULL;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, data);
    if (!tp) return onn_fail(err, ONNORM_ERR_PARSE, "%s: not a valid TensorProto", label);
    onnorm_status st = onn_tensor_from_proto(tp, out, err);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    if (st) return onn_prefix(err, st, "%s: ", label);
    return ONNORM_OK;
}

onnorm_status onn_tensor_write_file(const char *path, const onnorm_tensor *t, onnorm_error *err)
{
    int64_t numel = onnorm_tensor_numel(t);
    size_t esz = t ? onnorm_dtype_size(t->dtype) : 0;
    size_t bytes;
    if (!path) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_tensor_write_file: NULL path");
    if (numel < 0 || esz == 0 || !onn_mul_size((size_t)numel, esz, &bytes) || (bytes && !t->data))
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "%s: invalid tensor (bad rank, dims, element type or missing data)", path);
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[ONNORM_MAX_RANK];
    memcpy(dims, t->dims, sizeof dims);
    tp.n_dims = (size_t)t->rank;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = (int32_t)t->dtype;
    tp.name = t->name ? t->name : (char *)"";
    tp.has_raw_data = 1;
    tp.raw_data.len = bytes;
    tp.raw_data.data = t->data;
    size_t plen = onnx__tensor_proto__get_packed_size(&tp);
    uint8_t *pb = malloc(plen ? plen : 1);
    if (!pb) return onn_fail(err, ONNORM_ERR_NOMEM, "%s: out of memory", path);
    onnx__tensor_proto__pack(&tp, pb);
    onnorm_status st = onn_write_file(path, pb, plen, err);
    free(pb);
    return st;
}

onnorm_status onn_write_file(const char *path, const void *data, size_t len, onnorm_error *err)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) return onn_fail(err, ONNORM_ERR_IO, "%s: cannot write file", path);
    return ONNORM_OK;
}
