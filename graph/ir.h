/*
 * The internal graph representation. The loader turns a ModelProto into an
 * onn_graph; nothing past the loader sees protobuf structures.
 *
 * Values (tensors flowing along edges) and nodes live in flat arrays and
 * refer to each other by index, so a graph is trivially freed and a session
 * can keep per-value state in a parallel array.
 */
#ifndef ONN_IR_H
#define ONN_IR_H

#include "onnorm.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum onn_attr_type {
    ONN_ATTR_UNDEFINED = 0,
    ONN_ATTR_FLOAT = 1,
    ONN_ATTR_INT = 2,
    ONN_ATTR_STRING = 3,
    ONN_ATTR_TENSOR = 4,
    ONN_ATTR_GRAPH = 5,
    ONN_ATTR_FLOATS = 6,
    ONN_ATTR_INTS = 7,
    ONN_ATTR_STRINGS = 8,
    ONN_ATTR_TENSORS = 9,
    ONN_ATTR_GRAPHS = 10
} onn_attr_type;

struct onn_graph;

typedef struct onn_attr {
    char *name;
    onn_attr_type type;
    float f;
    int64_t i;
    char *s; /* NUL-terminated copy; s_len keeps embedded NULs countable. For
              * ONN_ATTR_GRAPH: the serialized GraphProto, to write it back. */
    size_t s_len;
    onnorm_tensor *t;
    struct onn_graph *g; /* ONN_ATTR_GRAPH: the subgraph (If's branches, Loop's body) */
    size_t n;            /* element count of floats / ints / strings / tensors */
    float *floats;
    int64_t *ints;
    char **strings;
    onnorm_tensor **tensors;
} onn_attr;

typedef struct onn_node {
    char *name;
    char *op_type;
    char *domain; /* "" for ai.onnx */
    int n_in, n_out;
    int *in;  /* value index, -1 for an omitted optional input */
    int *out; /* value index, -1 for an omitted optional output */
    int n_attr;
    onn_attr *attrs;
    int64_t opset; /* model's opset for the node's domain (set by finalize), -1 if none */
    /* The last n_implicit inputs are not in the file: outer-scope values its
     * subgraphs read, made explicit so that ordering and lifetimes see them. */
    int n_implicit;
} onn_node;

typedef struct onn_value {
    char *name;
    onnorm_dtype dtype;            /* declared or inferred; UNDEFINED when unknown */
    int rank;                      /* -1 when unknown */
    int64_t dims[ONNORM_MAX_RANK]; /* -1 for a symbolic dim */
    onnorm_tensor *init;           /* constant data (initializer / Constant), else NULL */
    int producer;                  /* node index, -1 for graph inputs and constants */
    bool is_input;
    bool is_output;
    bool init_borrowed; /* init belongs to the graph this one was cloned from */
} onn_value;

typedef struct onn_opset {
    char *domain;
    int64_t version;
} onn_opset;

typedef struct onn_graph {
    char *source; /* file name or buffer label, for messages */
    int64_t ir_version;
    int n_opsets;
    onn_opset *opsets;
    int n_values, cap_values;
    onn_value *values;
    int *index;    /* open-addressing hash of value names -> value index, -1 empty */
    int index_cap; /* a power of two, at least twice n_values */
    int n_nodes, cap_nodes;
    onn_node *nodes; /* in topological order after onn_graph_finalize() */
    int n_inputs;
    int *inputs; /* every graph input, in declaration order */
    int n_outputs;
    int *outputs;
    int n_feeds;
    int *feeds; /* graph inputs without an initializer: what a caller must bind */
    /* The file's ModelProto without nodes and initializers (metadata, graph
     * inputs/outputs, value_info), kept to write the model back out. */
    uint8_t *shell;
    size_t shell_len;
    bool external_data; /* some tensor of the file was stored externally */
    /* The load limit: bytes that values computed ahead of a run (folded at
     * load, computed by the passes' shape inference) may total; 0 = none
     * beyond the evaluator's per-node policy (runtime/eval.h). */
    size_t ahead_limit;
    /* A subgraph: its inputs past the first n_formal are the outer-scope
     * values it reads, in the order of capture_from (per such input, the
     * owning node's input index that carries it). */
    int n_formal;
    int *capture_from;
} onn_graph;

/* ---- errors ------------------------------------------------------------- */
/* Records a formatted message in err (if not NULL) and returns code. */
onnorm_status onn_fail(onnorm_error *err, onnorm_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message with more context ("file: " ...). */
onnorm_status onn_prefix(onnorm_error *err, onnorm_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- memory helpers ----------------------------------------------------- */
char *onn_strdup(const char *s);
/* A malloc'ed copy of `bytes` bytes (at least one byte is allocated). */
void *onn_memdup(const void *p, size_t bytes);
/* a * b with overflow detection; returns false on overflow. */
bool onn_mul_size(size_t a, size_t b, size_t *out);

/* ---- tensors ------------------------------------------------------------ */
/* Shape helpers on onnorm_tensor; numel over dims [from, to). */
int64_t onn_dims_numel(const int64_t *dims, int from, int to);
onnorm_tensor *onn_tensor_new(onnorm_dtype dtype, int rank, const int64_t *dims, onnorm_error *err);
void onn_tensor_free(onnorm_tensor *t);
/* Formats "[2,3,4]" into buf. */
const char *onn_shape_str(const int64_t *dims, int rank, char *buf, size_t len);

/* Resolves a possibly negative axis against rank r into [0, r). */
bool onn_normalize_axis(int64_t axis, int rank, int *out);

/* ---- attributes --------------------------------------------------------- */
const onn_attr *onn_attr_find(const onn_node *n, const char *name);
/* Typed getters: return the default when the attribute is absent.
 * A present attribute of the wrong kind is an error (returns false). */
bool onn_attr_float(const onn_node *n, const char *name, float dflt, float *out, onnorm_error *err);
bool onn_attr_int(const onn_node *n, const char *name, int64_t dflt, int64_t *out,
                  onnorm_error *err);

/* ---- graphs ------------------------------------------------------------- */
void onn_graph_free(onn_graph *g);
/* Index of the value called name, or -1. */
int onn_graph_find_value(const onn_graph *g, const char *name);
/* Adds (or finds) a value by name; returns its index or -1 on allocation failure. */
int onn_graph_intern_value(onn_graph *g, const char *name);
int64_t onn_graph_opset(const onn_graph *g, const char *domain);
/* Validates edges, orders nodes topologically and records every node's
 * opset. Which kernel runs a node is decided later, by the runtime
 * (runtime/bind.h). */
onnorm_status onn_graph_finalize(onn_graph *g, onnorm_error *err);

/* Frees constants that no node reads and that are not graph inputs or
 * outputs (borrowed ones are only forgotten). */
onnorm_status onn_graph_drop_unused_constants(onn_graph *g, onnorm_error *err);
/* Recomputes value producers after nodes were removed or reordered. */
onnorm_status onn_graph_relink(onn_graph *g, onnorm_error *err);
/* Frees what an attribute owns (not the attribute itself). */
void onn_attr_clear(onn_attr *a);
/* Frees what a node owns (not the node itself). */
void onn_node_clear(onn_node *n);

/* Short label "'name' (OpType)" for messages; uses a static-free buffer. */
const char *onn_node_label(const onn_node *n, char *buf, size_t len);

#endif
