/* The loader: ONNX protobuf (via protobuf-c bindings generated at build
 * time from the ONNX schema) -> onn_graph. */
#ifndef ONN_LOADER_H
#define ONN_LOADER_H

#include "graph/ir.h"
#include "onnx.pb-c.h"

#include <stdio.h>

/* Element-type codes as ONNX defines them (TensorProto.DataType, 0 ..
 * ONN_DTYPE_CODE_MAX: FLOAT4E2M1 = 23 as of ONNX 1.18). A code read from a
 * file (a tensor's data_type, a value's elem_type) outside that range is
 * refused at load, before it can reach a table or a shift (ONN_T). Codes
 * inside it that onnorm has no kernels for stay "unsupported" where used. */
#define ONN_DTYPE_CODE_MAX 23
static inline bool onn_dtype_code_valid(int64_t code)
{
    return code >= 0 && code <= ONN_DTYPE_CODE_MAX;
}

onnorm_status onn_tensor_from_proto(const Onnx__TensorProto *tp, onnorm_tensor **out,
                                    onnorm_error *err);
/* A tensor whose data_location is EXTERNAL: its bytes from a file inside
 * base_dir (see external.c). */
onnorm_status onn_tensor_from_external(const Onnx__TensorProto *tp, const char *base_dir,
                                       onnorm_tensor **out, onnorm_error *err);
/* A serialized TensorProto file <-> a tensor (the *.pb files of test folders). */
onnorm_status onn_tensor_read_file(const char *path, onnorm_tensor **out, onnorm_error *err);
/* The same from memory (the fuzz target's entry; label names it in errors). */
onnorm_status onn_tensor_read_buffer(const uint8_t *data, size_t len, const char *label,
                                     onnorm_tensor **out, onnorm_error *err);
onnorm_status onn_tensor_write_file(const char *path, const onnorm_tensor *t, onnorm_error *err);
/* Writes len bytes to a new file at path. */
onnorm_status onn_write_file(const char *path, const void *data, size_t len, onnorm_error *err);
/* Reads a whole file into a malloc'ed buffer. */
onnorm_status onn_read_file(const char *path, uint8_t **data, size_t *size, onnorm_error *err);
/* Parses a serialized ModelProto into a graph. `source` names it in
 * messages. Tensors kept in external files (data_location EXTERNAL) are read
 * from base_dir, the model file's directory, and only from files inside it;
 * with base_dir NULL (a model from a buffer) they are refused. */
onnorm_status onn_load_model(const uint8_t *data, size_t size, const char *source,
                             const char *base_dir, onn_graph **out, onnorm_error *err);

/* Where onn_graph_write puts large initializers: appended to f (opened by
 * the caller) from `offset` on, named `location` (relative to the model
 * file) in the model; tensors of at least min_bytes go there. */
typedef struct onn_external_out {
    FILE *f;
    const char *location;
    size_t min_bytes;
    int64_t offset; /* advanced by the writer */
} onn_external_out;

/* Serializes the graph as a ModelProto (see writer.c); *out is malloc'ed.
 * ext NULL: every tensor inline. */
onnorm_status onn_graph_write(const onn_graph *g, onn_external_out *ext, uint8_t **out, size_t *len,
                              onnorm_error *err);

#endif
