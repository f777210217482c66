/*
 * Evaluating what is known ahead of a run, through the node evaluator
 * (runtime/eval.h) and under its size policy.
 */
#ifndef ONN_FOLD_H
#define ONN_FOLD_H

#include "ops/kernel.h"

/*
 * Constant folding at load: every node whose inputs are all constants runs
 * once and its outputs become constants (kernels[i] is node i's kernel; both
 * arrays are compacted together). Constants no node reads any more are
 * dropped, so a weight that exporters emit with its Transpose is stored
 * once, transposed. A node the size policy declines stays in the graph; the
 * reason is appended to notes (one line per node, up to notes_len bytes;
 * notes may be NULL).
 */
onnorm_status onn_fold_constants(onn_graph *g, const onn_kernel **kernels, char *notes,
                                 size_t notes_len, onnorm_error *err);

/* Best-effort static shapes for the optimization passes: runs every node's
 * infer() over values whose shapes are fully known, filling dtype, rank and
 * dims of node outputs, and evaluates values computed from constants and
 * shapes (Shape -> Gather -> Concat chains) within the size policy, so a
 * Reshape fed by Shape(X) still gets a static output shape. Nodes the
 * policy declined are listed in notes (reset first; may be NULL). */
void onn_infer_shapes(onn_graph *g, char *notes, size_t len);

#endif
