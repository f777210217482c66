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

#endif
