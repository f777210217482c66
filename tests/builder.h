/*
 * Test helper: builds small ONNX models in memory with the protobuf-c
 * bindings and serializes them, so tests exercise the real loading path.
 *
 *   tb_model *b = tb_new(17);                       // ai.onnx opset 17
 *   tb_input(b, "X", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
 *   tb_init_f32(b, "W", 1, (int64_t[]){3}, w);        // initializer
 *   tb_node *n = tb_node_add(b, "LayerNormalization", "ln", 2, (const char*[]){"X","W"},
 *                            1, (const char*[]){"Y"});
 *   tb_attr_int(n, "axis", -1);
 *   tb_output(b, "Y", ONNORM_FLOAT);
 *   size_t len; uint8_t *buf = tb_serialize(b, &len);  // free() it
 *   tb_free(b);
 */
#ifndef ONNORM_TEST_BUILDER_H
#define ONNORM_TEST_BUILDER_H

#include "onnorm.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tb_model tb_model;
typedef struct tb_node tb_node;

tb_model *tb_new(int64_t opset);
/* Adds another opset import (e.g. a custom domain). */
void tb_opset(tb_model *b, const char *domain, int64_t version);
void tb_ir_version(tb_model *b, int64_t v);
/* Graph input with a fixed shape (rank < 0: no shape recorded). */
void tb_input(tb_model *b, const char *name, onnorm_dtype dt, int rank, const int64_t *dims);
void tb_output(tb_model *b, const char *name, onnorm_dtype dt);
/* Initializers stored as raw_data (copied). */
void tb_init(tb_model *b, const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
             const void *data);
tb_node *tb_node_add(tb_model *b, const char *op_type, const char *name, int n_in,
                     const char *const *inputs, int n_out, const char *const *outputs);
void tb_node_domain(tb_node *n, const char *domain);
void tb_attr_int(tb_node *n, const char *name, int64_t v);
void tb_attr_float(tb_node *n, const char *name, float v);
void tb_attr_ints(tb_node *n, const char *name, int count, const int64_t *v);
void tb_attr_string(tb_node *n, const char *name, const char *v);
/* Serialized ModelProto (malloc'ed) or NULL on failure. */
uint8_t *tb_serialize(tb_model *b, size_t *len);
void tb_free(tb_model *b);

/* Loads the model built so far; returns the status and the model. */
onnorm_status tb_load(tb_model *b, onnorm_model **m, onnorm_error *err);

/* ---- additions for loader / API tests ---------------------------------- */
/* Initializer whose raw_data holds exactly `nbytes` bytes of `data`; dims are
 * stored verbatim (they may be negative or overflow: nothing is computed). */
void tb_init_raw(tb_model *b, const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                 const void *data, size_t nbytes);
/* Initializers stored in the typed repeated fields instead of raw_data. The
 * `n` values are stored as given (n may differ from the dims' product). */
void tb_init_typed_float(tb_model *b, const char *name, int rank, const int64_t *dims, size_t n,
                         const float *v);
void tb_init_typed_double(tb_model *b, const char *name, int rank, const int64_t *dims, size_t n,
                          const double *v);
void tb_init_typed_int64(tb_model *b, const char *name, int rank, const int64_t *dims, size_t n,
                         const int64_t *v);
/* int32_data: for INT32 and the narrower types (INT8/UINT8/BOOL/INT16/UINT16,
 * and FLOAT16/BFLOAT16 bit patterns). */
void tb_init_typed_int32(tb_model *b, const char *name, onnorm_dtype dt, int rank,
                         const int64_t *dims, size_t n, const int32_t *v);
/* uint64_data: for UINT32 and UINT64. */
void tb_init_typed_uint64(tb_model *b, const char *name, onnorm_dtype dt, int rank,
                          const int64_t *dims, size_t n, const uint64_t *v);
/* Initializer whose data lives in an external file (data_location EXTERNAL). */
void tb_init_external(tb_model *b, const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                      const char *location);
/* Tensor-valued attribute (raw_data, like tb_init). */
void tb_attr_tensor(tb_node *n, const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                    const void *data);
void tb_attr_floats(tb_node *n, const char *name, int count, const float *v);
/* Note: every tb_attr_* accepts name == NULL, which leaves the attribute's
 * name field unset in the serialized message. */

/* A serialized TensorProto (raw_data; malloc'ed, free() it). */
uint8_t *tb_serialize_tensor(const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                             const void *data, size_t *len);
/* Model-local functions (ModelProto.functions): a function and the nodes of
 * its body, in order. Node domain "" is ai.onnx. */
typedef struct tb_function tb_function;
tb_function *tb_function_add(tb_model *b, const char *name, const char *domain, int n_in,
                             const char *const *inputs, int n_out, const char *const *outputs);
void tb_function_node(tb_function *f, const char *op_type, const char *domain, int n_in,
                      const char *const *inputs, int n_out, const char *const *outputs);

/* Like tb_load with load flags. */
onnorm_status tb_load_flags(tb_model *b, unsigned flags, onnorm_model **m, onnorm_error *err);

#endif
