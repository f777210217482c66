/* The loader: ONNX protobuf (via protobuf-c bindings generated at build
 * time from the ONNX schema) -> onn_graph. */
#ifndef ONN_LOADER_H
#define ONN_LOADER_H

#include "graph/ir.h"
#include "onnx.pb-c.h"

onnorm_status onn_tensor_from_proto(const Onnx__TensorProto *tp, onnorm_tensor **out,
                                    onnorm_error *err);
/* A serialized TensorProto file <-> a tensor (the *.pb files of test folders). */
onnorm_status onn_tensor_read_file(const char *path, onnorm_tensor **out, onnorm_error *err);
onnorm_status onn_tensor_write_file(const char *path, const onnorm_tensor *t, onnorm_error *err);
/* Writes len bytes to a new file at path. */
onnorm_status onn_write_file(const char *path, const void *data, size_t len, onnorm_error *err);
/* Reads a whole file into a malloc'ed buffer. */
onnorm_status onn_read_file(const char *path, uint8_t **data, size_t *size, onnorm_error *err);
/* Parses a serialized ModelProto into a graph. `source` names it in messages. */
onnorm_status onn_load_model(const uint8_t *data, size_t size, const char *source, onn_graph **out,
                             onnorm_error *err);

/* Serializes the graph as a ModelProto (see writer.c); *out is malloc'ed. */
onnorm_status onn_graph_write(const onn_graph *g, uint8_t **out, size_t *len, onnorm_error *err);

#endif
