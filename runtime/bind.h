/*
 * Binding nodes to kernels. The graph (graph/) knows nodes and values; which
 * kernel runs a node is the runtime's business: the registry's choice for
 * the node's op and the model's opset, checked against the node's arity and
 * the element types known before any data is seen.
 */
#ifndef ONN_BIND_H
#define ONN_BIND_H

#include "ops/registry.h"

/* The kernel for node n (whose opset finalize set), or NULL with the reason
 * in why. */
const onn_kernel *onn_bind_node(const onn_node *n, char *why, size_t len);

/*
 * Binds every node of a finalized graph: (*kernels)[i] for node i, malloc'ed.
 * Fails on the first node whose arity or known input type the kernel does
 * not accept, and on unsupported nodes (the message lists all of them)
 * unless allow_unsupported, where their entries are NULL and *unsupported
 * counts them. Types known at load are carried through type-preserving
 * norm kernels into value dtypes, so chains are checked too.
 */
onnorm_status onn_bind_graph(onn_graph *g, bool allow_unsupported, const onn_kernel ***kernels,
                             int *unsupported, onnorm_error *err);

/* Every node of op (domain) valid at opset `from` means the same at `to`:
 * the same kernel, or only versions that widen in between. The passes ask
 * this before raising a model's opset (graph/passes.h, onn_pass_env). */
bool onn_bind_same_meaning(const char *domain, const char *op, int64_t from, int64_t to);

#endif
