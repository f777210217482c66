/*
 * The public API's utilities: statuses, element types, tensors and their
 * files, and the kernel registry listing (include/onnorm.h, "utilities",
 * "the kernel registry").
 */
#include "loader/loader.h"
#include "ops/registry.h"

#include <stdio.h>
#include <stdlib.h>

const char *onnorm_status_str(onnorm_status s)
{
    switch (s) {
    case ONNORM_OK: return "ok";
    case ONNORM_ERR_IO: return "I/O error";
    case ONNORM_ERR_PARSE: return "parse error";
    case ONNORM_ERR_INVALID: return "invalid model or argument";
    case ONNORM_ERR_UNSUPPORTED: return "unsupported";
    case ONNORM_ERR_SHAPE: return "shape mismatch";
    case ONNORM_ERR_DTYPE: return "dtype mismatch";
    case ONNORM_ERR_NOMEM: return "out of memory";
    case ONNORM_ERR_NOT_FOUND: return "not found";
    }
    return "unknown status";
}

const char *onnorm_dtype_name(onnorm_dtype t)
{
    switch (t) {
    case ONNORM_FLOAT: return "float32";
    case ONNORM_UINT8: return "uint8";
    case ONNORM_INT8: return "int8";
    case ONNORM_UINT16: return "uint16";
    case ONNORM_INT16: return "int16";
    case ONNORM_INT32: return "int32";
    case ONNORM_INT64: return "int64";
    case ONNORM_STRING: return "string";
    case ONNORM_BOOL: return "bool";
    case ONNORM_FLOAT16: return "float16";
    case ONNORM_DOUBLE: return "float64";
    case ONNORM_UINT32: return "uint32";
    case ONNORM_UINT64: return "uint64";
    case ONNORM_BFLOAT16: return "bfloat16";
    case ONNORM_UNDEFINED: break;
    }
    return "undefined";
}

size_t onnorm_dtype_size(onnorm_dtype t)
{
    switch (t) {
    case ONNORM_UINT8:
    case ONNORM_INT8:
    case ONNORM_BOOL: return 1;
    case ONNORM_UINT16:
    case ONNORM_INT16:
    case ONNORM_FLOAT16:
    case ONNORM_BFLOAT16: return 2;
    case ONNORM_FLOAT:
    case ONNORM_INT32:
    case ONNORM_UINT32: return 4;
    case ONNORM_DOUBLE:
    case ONNORM_INT64:
    case ONNORM_UINT64: return 8;
    default: return 0;
    }
}

int64_t onnorm_tensor_numel(const onnorm_tensor *t)
{
    if (!t || t->rank < 0 || t->rank > ONNORM_MAX_RANK) return -1;
    return onn_dims_numel(t->dims, 0, t->rank);
}

const char *onnorm_shape_str(const int64_t *dims, int rank, char *buf, size_t len)
{
    if (!buf || !len) return buf;
    if (!dims || rank < 0 || rank > ONNORM_MAX_RANK) {
        snprintf(buf, len, "[invalid rank %d]", rank);
        return buf;
    }
    return onn_shape_str(dims, rank, buf, len);
}

void onnorm_tensor_free(onnorm_tensor *t)
{
    onn_tensor_free(t);
}

onnorm_status onnorm_tensor_read_file(const char *path, onnorm_tensor **out, onnorm_error *err)
{
    return onn_tensor_read_file(path, out, err);
}

onnorm_status onnorm_tensor_write_file(const char *path, const onnorm_tensor *t, onnorm_error *err)
{
    return onn_tensor_write_file(path, t, err);
}

int onnorm_kernel_count(void)
{
    return onn_registry_count();
}

void onnorm_kernel_info(int i, const char **domain, const char **op_type, int *since_version,
                        char *types, size_t types_len)
{
    const onn_kernel *k = onn_registry_at(i);
    if (!k) return;
    if (domain) *domain = k->domain[0] ? k->domain : "ai.onnx";
    if (op_type) *op_type = k->op_type;
    if (since_version) *since_version = k->since_version;
    if (types && types_len) onn_types_str(k->types, types, types_len);
}
