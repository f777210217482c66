/*
 * fold-channel-layernorm: a LayerNormalization over the channels of a
 * channels-first tensor, written as
 *
 *   Transpose(X, perm [0, 2, .., r-1, 1])     channels last
 *   -> LayerNormalization(axis -1 or r-1)     over the channels
 *   -> Transpose(perm [0, r-1, 1, .., r-2])   channels first again
 *
 * (torchvision's LayerNorm2d: ConvNeXt's stem, downsampling layers and
 * head), becomes one ai.onnorm ChannelLayerNormalization(X, Scale, B) with
 * the same epsilon (ops/norm/channel_layernorm.c), which normalizes at
 * every position across the channels where they lie: neither transpose is
 * made.
 *
 * Conditions, each a near-miss reason in the report when the chain is
 * otherwise there: both transposed tensors have one consumer and are not
 * graph outputs; the LayerNormalization's Mean and InvStdDev outputs are
 * not used; X is float32 of known rank 3 or more; the statistics are
 * stashed as float (stash_type 1, the default).
 */
#include "graph/edit.h"
#include "graph/passes.h"

#include <string.h>

/* perm of Transpose n (NULL when absent or not ints). */
static const onn_attr *perm_of(const onn_node *n)
{
    const onn_attr *a = onn_attr_find(n, "perm");
    return a && a->type == ONN_ATTR_INTS ? a : NULL;
}

/* perm is [0, 2, .., r-1, 1] (to_last) or [0, r-1, 1, .., r-2]. */
static bool channel_perm(const onn_attr *perm, int r, bool to_last)
{
    if (!perm || (int)perm->n != r || r < 3 || perm->ints[0] != 0) return false;
    for (int i = 1; i < r; i++) {
        const int64_t want = to_last ? (i == r - 1 ? 1 : i + 1) : (i == 1 ? r - 1 : i - 1);
        if (perm->ints[i] != want) return false;
    }
    return true;
}

/* LayerNormalization ln reads the output of a channels-last Transpose and
 * feeds only a channels-first one. */
static bool fold_one(onn_graph *g, onn_node *ln, onn_pass_stats *st)
{
    if (!onn_node_is(ln, "LayerNormalization") || ln->n_in < 2 || ln->in[0] < 0) return false;
    onn_node *t1 = onn_graph_producer(g, ln->in[0]);
    if (!onn_node_is(t1, "Transpose") || t1->n_in < 1 || t1->in[0] < 0) return false;
    const onn_value *vx = &g->values[t1->in[0]];
    const int r = vx->rank;
    if (r < 3 || !channel_perm(perm_of(t1), r, true)) return false;
    onn_node *t2 = ln->out[0] >= 0 ? onn_graph_sole_consumer(g, ln->out[0]) : NULL;
    if (!onn_node_is(t2, "Transpose") || !channel_perm(perm_of(t2), r, false)) {
        /* (ConvNeXt's blocks: the normalized channels-last tensor goes on
         * into a MatMul; nothing to fold, nothing to report) */
        return false;
    }
    const onn_attr *axis = onn_attr_find(ln, "axis");
    if (axis && (axis->type != ONN_ATTR_INT || (axis->i != -1 && axis->i != r - 1))) {
        onn_pass_skip(st, ln, "normalizes over more than the channel axis (axis %lld)",
                      (long long)axis->i);
        return false;
    }
    for (int k = 1; k < ln->n_out; k++)
        if (ln->out[k] >= 0 &&
            (g->values[ln->out[k]].is_output || onn_graph_consumers(g, ln->out[k], NULL, 0) > 0)) {
            onn_pass_skip(st, ln, "its Mean or InvStdDev output is used");
            return false;
        }
    if (!onn_graph_single_use(g, ln->in[0])) {
        onn_pass_skip(st, ln, "the channels-last tensor is also read elsewhere");
        return false;
    }
    if (vx->dtype != ONNORM_FLOAT) {
        onn_pass_skip(st, ln, "the input is not known to be float32");
        return false;
    }
    const onn_attr *stash = onn_attr_find(ln, "stash_type");
    if (stash && (stash->type != ONN_ATTR_INT || stash->i != 1)) {
        onn_pass_skip(st, ln, "its statistics are stashed as another type than float");
        return false;
    }
    const int x = t1->in[0], out = t2->out[0];
    if (!onn_graph_import_opset(g, "ai.onnorm", 1) ||
        !onn_node_retype(ln, "ai.onnorm", "ChannelLayerNormalization", ln->n_in > 2 ? 3 : 2))
        return false;
    onn_node_remove_attr(ln, "axis");
    onn_node_remove_attr(ln, "stash_type");
    ln->in[0] = x;
    for (int k = 1; k < ln->n_out; k++)
        ln->out[k] = -1;
    ln->n_out = 1;
    ln->out[0] = out;
    onn_node_clear(t1);
    onn_node_clear(t2);
    return true;
}

onnorm_status onn_pass_fold_channel_layernorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    (void)err;
    for (int i = 0; i < g->n_nodes; i++)
        if (fold_one(g, &g->nodes[i], st)) st->matched++;
    return ONNORM_OK;
}
