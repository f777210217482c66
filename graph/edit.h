/*
 * Graph editing for the optimization passes (graph/passes.c, graph/pass_*.c).
 *
 * A pass works on a clone of the loaded graph whose constants are borrowed
 * from the original: it never changes a tensor in place. To change a weight
 * it makes a new constant with a new name, so a weight shared with another
 * node (or another session) is never modified. Nodes are removed by
 * clearing them (op_type == NULL); onn_graph_rebuild() drops them, relinks
 * producers, re-sorts and binds kernels again.
 */
#ifndef ONN_EDIT_H
#define ONN_EDIT_H

#include "graph/ir.h"

#include <string.h>

/* n is a live ai.onnx node of type op (n may be NULL). */
static inline bool onn_node_is(const onn_node *n, const char *op)
{
    return n && n->op_type && n->domain[0] == '\0' && strcmp(n->op_type, op) == 0;
}

/* A copy of src that shares src's constant tensors (init_borrowed). */
onn_graph *onn_graph_clone(const onn_graph *src, onnorm_error *err);

/* Live nodes consuming value v: writes up to max indices to nodes (may be
 * NULL) and returns the total count. */
int onn_graph_consumers(const onn_graph *g, int v, int *nodes, int max);
/* The constant tensor of v, or NULL when v is not a constant (graph inputs
 * with an initializer are not constants: a caller may override them). */
const onnorm_tensor *onn_graph_const(const onn_graph *g, int v);
/* v has exactly one consumer and is not a graph output. */
bool onn_graph_single_use(const onn_graph *g, int v);
/* The one node consuming v when v is single-use (above), else NULL. */
onn_node *onn_graph_sole_consumer(onn_graph *g, int v);
/* v's rank and every dim are known (no symbolic dims). */
bool onn_value_known(const onn_value *v);
/* Producer node of v, or NULL. Valid between rebuilds. */
onn_node *onn_graph_producer(onn_graph *g, int v);

/* A new value named "<base>_onnorm<N>" (unique); -1 on allocation failure. */
int onn_graph_new_value(onn_graph *g, const char *base);
/* A new constant value owning t; -1 on failure (t is then freed). */
int onn_graph_new_constant(onn_graph *g, const char *base, onnorm_tensor *t);
/* Appends a node; NULL on allocation failure. Its kernel is bound by the
 * next onn_graph_rebuild(). */
onn_node *onn_graph_new_node(onn_graph *g, const char *op_type, const char *name, int n_in,
                             const int *in, int n_out, const int *out);
/* Adds an attribute to a node (any node: the attribute list grows). */
bool onn_node_set_float(onn_node *n, const char *name, float v);
bool onn_node_set_int(onn_node *n, const char *name, int64_t v);
bool onn_node_set_string(onn_node *n, const char *name, const char *v);
bool onn_node_set_floats(onn_node *n, const char *name, int count, const float *v);
bool onn_node_set_ints(onn_node *n, const char *name, int count, const int64_t *v);
/* Removes n's attribute `name`, if it has one. */
void onn_node_remove_attr(onn_node *n, const char *name);
/* Moves node n to op (domain) and gives it n_in inputs: the current ones
 * first, the new ones -1 (omitted). */
bool onn_node_retype(onn_node *n, const char *domain, const char *op, int n_in);
/* The graph imports domain at `version` at least (a new import if needed). */
bool onn_graph_import_opset(onn_graph *g, const char *domain, int64_t version);
/* Makes every consumer of `from` read `to` instead. */
void onn_graph_redirect(onn_graph *g, int from, int to);

/* Whether every node of op (domain) valid at opset `from` means the same at
 * `to`. The graph does not know operator versions; the runtime does and
 * supplies this (runtime/bind.h, onn_bind_same_meaning). It must also
 * answer false when `to` is beyond what the build knows. */
typedef bool (*onn_same_meaning_fn)(const char *domain, const char *op, int64_t from, int64_t to);

/* Raising domain's opset to `to` changes the meaning of no current node
 * (same_meaning holds for each op); else false with the first node that
 * would change in why. Nodes with ignore[i] set (ignore may be NULL) are not
 * asked: a pass passes the nodes it is about to replace. */
bool onn_graph_can_raise_opset(const onn_graph *g, onn_same_meaning_fn same_meaning,
                               const char *domain, int64_t to, const bool *ignore, char *why,
                               size_t len);
bool onn_graph_raise_opset(onn_graph *g, const char *domain, int64_t to);

/* Drops cleared nodes and constants nothing reads, relinks and re-sorts. */
onnorm_status onn_graph_rebuild(onn_graph *g, onnorm_error *err);

#endif
