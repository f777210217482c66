/*
 * The node evaluator: the one place kernels are called from.
 *
 * Three callers run kernels, and all of them go through here:
 *   - load-time constant folding (runtime/fold.c, onn_fold_constants);
 *   - shape inference for the optimization passes (runtime/fold.c,
 *     onn_infer_shapes);
 *   - sessions, which infer, prepare and run every node of a plan
 *     (runtime/session.c).
 * It is also the one place that builds a kernel context (onn_kctx).
 *
 * A caller keeps one onn_eval (thread count, error sink, argument arrays and
 * scratch memory), points ev->in / ev->out at the tensors of the node at
 * hand (onn_eval_args makes room for any number of them), then calls
 * onn_eval_infer, onn_eval_prepare and onn_eval_run (each runs the kernel's
 * config first where it needs the configured state; see ops/kernel.h for
 * what each kernel function may do), or onn_eval_now for all of them at
 * once on inputs that all carry data.
 *
 * The size policy. Values computed ahead of a run (folded at load,
 * evaluated while planning, or evaluated during the passes' shape
 * inference) are kept for the life of the model or session, so they are
 * bounded: a node is evaluated ahead only when its outputs total at most
 * ONN_AHEAD_MIN_BYTES (1 MiB), or no more than the bytes of its inputs (a
 * Transpose or Cast of a weight, which cannot make the model grow). A node
 * over the limit is not evaluated ahead; it stays in the graph and runs with
 * every run, and the caller records why (onn_eval_now's `why`).
 *
 * On top of that per-node rule, a total (issue 15): ev->ahead_budget, when
 * not 0, bounds the bytes of every output (and scratch) evaluated ahead
 * through ev, summed over the nodes (ev->ahead_used). Without it a chain of
 * nodes that each stay within the rule (Concat(x, x) doubles, and its
 * output equals its inputs' bytes) folds a few hundred bytes of file into
 * terabytes. A node past the total is declined like one past the rule.
 * Model loading sets the budget from the load limit (onnorm_load_options);
 * sessions bound their memory with their own cap instead (session.c).
 */
#ifndef ONN_EVAL_H
#define ONN_EVAL_H

#include "ops/kernel.h"

#define ONN_AHEAD_MIN_BYTES ((size_t)1 << 20)

typedef struct onn_eval {
    int num_threads;
    onnorm_error *err; /* may be NULL: failures are then only returned */
    bool needs_values; /* an infer() needed values planning does not have */
    onnorm_tensor **in, **out;
    int cap;       /* entries in in[] and out[] */
    void *scratch; /* ONN_KALIGN-aligned, scratch_cap bytes */
    size_t scratch_cap;
    void *tmp; /* the state infer sees (config's result), tmp_cap bytes */
    size_t tmp_cap;
    size_t ahead_budget; /* 0: no total; else the bound described above */
    size_t ahead_used;
    size_t scratch_limit; /* 0: none; else onn_eval_reserve refuses more */
    size_t mem_cap;       /* passed on to the kernels (onn_kctx.mem_cap) */
} onn_eval;

void onn_eval_init(onn_eval *ev, int num_threads, onnorm_error *err);
void onn_eval_free(onn_eval *ev);

/* Makes ev->in and ev->out hold n->n_in and n->n_out entries, all NULL. */
onnorm_status onn_eval_args(onn_eval *ev, const onn_node *n);

/* config() into a temporary state, then infer(), on ev->in / ev->out: every
 * requested output is reset first and must come back with a dtype. */
onnorm_status onn_eval_infer(onn_eval *ev, const onn_node *n, const onn_kernel *k);
/* config() and prepare() into p (which the caller later frees with
 * onn_prepared_free). */
onnorm_status onn_eval_prepare(onn_eval *ev, const onn_node *n, const onn_kernel *k,
                               onn_prepared *p);
/* Grows the scratch memory to at least `bytes` (at plan time, so that runs
 * never allocate). */
onnorm_status onn_eval_reserve(onn_eval *ev, size_t bytes);
/* run() with p's state; the scratch must already be reserved. */
onnorm_status onn_eval_run(onn_eval *ev, const onn_node *n, const onn_kernel *k,
                           const onn_prepared *p);
void onn_prepared_free(onn_prepared *p);

/* Bytes of t's data; false when its size is invalid or overflows. */
bool onn_tensor_bytes(const onnorm_tensor *t, size_t *bytes);

/* The size policy above: may outputs of out_bytes, computed from inputs of
 * in_bytes, be kept? When not, why says so. */
bool onn_ahead_allowed(size_t out_bytes, size_t in_bytes, char *why, size_t len);
/* The total above: may ev evaluate ahead `bytes` more? When not, why says so. */
bool onn_ahead_budget_allows(const onn_eval *ev, size_t bytes, char *why, size_t len);

/*
 * Evaluates node n now, for a value wanted ahead of a run. Every listed
 * input in ev->in must carry data (for a shape_only kernel, a shape), and
 * ev->out[k] must point at the caller's tensor for every requested output.
 * Runs infer into those tensors, applies the size policy (unless `bounded`
 * is false: an eager session's plan is its run), gives each output a fresh
 * data buffer, prepares, runs and frees the prepared state. With *done true
 * the outputs' data buffers belong to the caller; with *done false the
 * policy declined, nothing was allocated, and `why` says so.
 */
onnorm_status onn_eval_now(onn_eval *ev, const onn_node *n, const onn_kernel *k, bool bounded,
                           bool *done, char *why, size_t len);

#endif
