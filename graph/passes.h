/*
 * The optimization pass pipeline. Each pass rewrites the IR in place and
 * records how many patterns it rewrote and, for near-misses, why it left a
 * candidate alone. Passes run in a fixed order, each once; every pass can be
 * switched off by name, and level 0 runs none.
 */
#ifndef ONN_PASSES_H
#define ONN_PASSES_H

#include "graph/edit.h"

#define ONN_PASS_NOTES 8192

/* What the passes need to know about operators, which the graph does not:
 * the runtime supplies it (runtime/optimize.c). */
typedef struct onn_pass_env {
    /* Fills value dtypes and shapes as far as they follow from the graph's
     * inputs and constants; run before every pass. Nodes whose values it
     * declined to compute (the size policy) are listed in notes, one line
     * each (notes may be NULL). */
    void (*infer_shapes)(onn_graph *g, char *notes, size_t len);
    onn_same_meaning_fn same_meaning; /* see onn_graph_can_raise_opset */
} onn_pass_env;

typedef struct onn_pass_stats {
    const char *name;
    int matched;
    int skipped;                /* near-misses left alone */
    char notes[ONN_PASS_NOTES]; /* one line per near-miss */
    size_t notes_len;
    int notes_dropped; /* near-misses whose line did not fit */
    const onn_pass_env *env;
} onn_pass_stats;

typedef struct onn_pass {
    const char *name;
    const char *summary;
    onnorm_status (*run)(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
} onn_pass;

/* Records a near-miss: "<node label>: <reason>". */
void onn_pass_skip(onn_pass_stats *st, const onn_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One node's fold: on success *done says whether n was folded away; with
 * `note`, a near-miss is recorded in st. */
typedef onnorm_status (*onn_node_fold_fn)(onn_graph *g, onn_node *n, bool note, onn_pass_stats *st,
                                          bool *done, onnorm_error *err);
/* The fold passes' driver: fn on every node in order, which folds a whole
 * chain in one sweep when the graph is in topological order (a fold moves
 * the folded node's output to the node before it), and again while
 * anything folded; near-misses are noted on the first sweep only. Counts
 * the folds in st->matched. */
onnorm_status onn_pass_sweep(onn_graph *g, onn_pass_stats *st, onnorm_error *err,
                             onn_node_fold_fn fn);

/* The passes, in pipeline order. */
int onn_pass_count(void);
const onn_pass *onn_pass_get(int i);

/* Room for every pass of the pipeline (passes.c checks it at compile time). */
#define ONN_MAX_PASSES 32

typedef struct onn_opt_report {
    int n;
    onn_pass_stats passes[ONN_MAX_PASSES];
    char infer_notes[2048]; /* what the last shape inference left uncomputed */
} onn_opt_report;

/* Runs the pipeline on g (a clone; see edit.h). `disabled` is a
 * comma-separated list of pass names (NULL for none); an unknown name is an
 * error. The graph is rebuilt after every pass that changed it. */
onnorm_status onn_optimize(onn_graph *g, int level, const char *disabled, const onn_pass_env *env,
                           onn_opt_report *report, onnorm_error *err);

/* The individual passes (graph/pass_*.c). */
onnorm_status onn_pass_cleanup(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fold_batchnorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fold_affine(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fold_affine_norm(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fold_norm_conv(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fold_pad(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fuse_conv(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fuse_attention(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fuse_norm(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_layernorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_rmsnorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fuse_gelu(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fuse_skip_norm(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_fuse_linear(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
/* A 1x1 Conv/FusedConv expansion and the depthwise Conv/FusedConv that
 * alone reads it, over an expanded tensor too large to stay in cache, as
 * one ai.onnorm ExpandDepthwise (graph/pass_fuse.c, ops/core/conv_pwdw.c). */
onnorm_status onn_pass_fuse_expand_dw(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
/* Transpose (channels last) -> LayerNormalization (last axis) -> Transpose
 * (channels first) as one ai.onnorm ChannelLayerNormalization
 * (graph/pass_channel_norm.c). */
onnorm_status onn_pass_fold_channel_layernorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err);
onnorm_status onn_pass_groupnorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err);

#endif
