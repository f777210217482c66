/*
 * fold-pad: a zero Pad in front of a Conv or an AveragePool becomes that
 * node's own padding, so the padded copy of the tensor is never written:
 *
 *   Pad(X, constant 0, spatial pads P) -> Conv(pads Q)         Conv(X, pads P + Q)
 *   Pad(X, constant 0, spatial pads P) -> AveragePool(pads 0)  AveragePool(X, pads P,
 *                                                                 count_include_pad 1)
 *
 * (Inception-v3's average-pool branches, as PyTorch exports avg_pool2d with
 * count_include_pad.) The pool counts the padding's zeros, which is what
 * count_include_pad = 1 means. Conditions, each a reason when it fails: the
 * Pad is constant-mode with value 0 and constant, non-negative pads on the
 * spatial axes only (no axes input); its output feeds only that node; the
 * node sets no auto_pad; a pool has ceil_mode 0 and no padding of its own.
 */
#include "graph/edit.h"
#include "graph/passes.h"

#include <stdio.h>
#include <string.h>

#define MAX_PADS (2 * ONNORM_MAX_RANK)

/* The Pad's pads (2 * rank values: begins then ends) if it is a zero,
 * constant-mode Pad with constant pads; else false with the reason. */
static bool zero_pad(const onn_graph *g, const onn_node *pad, int rank, int64_t *pads, char *why,
                     size_t len)
{
    const onn_attr *mode = onn_attr_find(pad, "mode");
    if (mode && (mode->type != ONN_ATTR_STRING || strcmp(mode->s, "constant") != 0)) {
        snprintf(why, len, "the Pad is not constant-mode");
        return false;
    }
    if (pad->opset >= 11) {
        const onnorm_tensor *p = pad->n_in > 1 ? onn_graph_const(g, pad->in[1]) : NULL;
        if (!p || p->dtype != ONNORM_INT64 || onnorm_tensor_numel(p) != 2 * rank) {
            snprintf(why, len, "the Pad's pads are not a constant of 2 x rank int64 values");
            return false;
        }
        memcpy(pads, p->data, (size_t)(2 * rank) * sizeof *pads);
        const onnorm_tensor *v = pad->n_in > 2 ? onn_graph_const(g, pad->in[2]) : NULL;
        if (pad->n_in > 2 && pad->in[2] >= 0 &&
            (!v || v->dtype != ONNORM_FLOAT || *(const float *)v->data != 0.0f)) {
            snprintf(why, len, "the Pad's value is not a constant 0");
            return false;
        }
        if (pad->n_in > 3 && pad->in[3] >= 0) {
            snprintf(why, len, "the Pad names its axes");
            return false;
        }
    } else {
        const onn_attr *p = onn_attr_find(pad, pad->opset >= 2 ? "pads" : "paddings");
        float value = 0.0f;
        if (!p || p->type != ONN_ATTR_INTS || (int)p->n != 2 * rank ||
            !onn_attr_float(pad, "value", 0.0f, &value, NULL) || value != 0.0f) {
            snprintf(why, len, "the Pad's pads or value are not a zero padding of every axis");
            return false;
        }
        memcpy(pads, p->ints, (size_t)(2 * rank) * sizeof *pads);
    }
    for (int i = 0; i < 2 * rank; i++)
        if (pads[i] < 0 || ((i % rank) < 2 && pads[i] != 0)) {
            snprintf(why, len, "the Pad pads the batch or channel axis, or crops");
            return false;
        }
    return true;
}

/* The node's own pads (0 where absent) for nsp spatial axes; false when it
 * has an auto_pad or pads of the wrong length. */
static bool own_pads(const onn_node *n, int nsp, int64_t *pads)
{
    const onn_attr *ap = onn_attr_find(n, "auto_pad");
    if (ap && (ap->type != ONN_ATTR_STRING || (ap->s[0] && strcmp(ap->s, "NOTSET") != 0)))
        return false;
    memset(pads, 0, (size_t)(2 * nsp) * sizeof *pads);
    const onn_attr *p = onn_attr_find(n, "pads");
    if (!p) return true;
    if (p->type != ONN_ATTR_INTS || (int)p->n != 2 * nsp) return false;
    memcpy(pads, p->ints, (size_t)(2 * nsp) * sizeof *pads);
    return true;
}

static bool set_pads(onn_node *n, int nsp, const int64_t *pads)
{
    onn_node_remove_attr(n, "pads");
    return onn_node_set_ints(n, "pads", 2 * nsp, pads);
}

/* Folds one Pad into its consumer; false with a note when it cannot. */
static bool fold_one(onn_graph *g, onn_node *pad, onn_pass_stats *st)
{
    const int y = pad->out[0];
    int idx;
    if (pad->n_in < 1 || pad->in[0] < 0 || y < 0 || !onn_graph_single_use(g, y) ||
        onn_graph_consumers(g, y, &idx, 1) != 1)
        return false;
    onn_node *n = &g->nodes[idx];
    const bool conv = onn_node_is(n, "Conv"), avg = onn_node_is(n, "AveragePool");
    if ((!conv && !avg) || n->in[0] != y) return false;
    const onn_value *x = &g->values[pad->in[0]];
    if (x->rank < 3) return false;
    const int rank = x->rank, nsp = rank - 2;
    int64_t pp[MAX_PADS], np[MAX_PADS];
    char why[200];
    if (!zero_pad(g, pad, rank, pp, why, sizeof why)) {
        onn_pass_skip(st, pad, "%s", why);
        return false;
    }
    if (!own_pads(n, nsp, np)) {
        onn_pass_skip(st, n, "it sets auto_pad");
        return false;
    }
    if (avg) {
        int64_t ceil = 0, include = 0;
        bool padded = false;
        for (int i = 0; i < 2 * nsp; i++)
            padded |= np[i] != 0;
        if (n->opset < 7 || !onn_attr_int(n, "ceil_mode", 0, &ceil, NULL) || ceil ||
            !onn_attr_int(n, "count_include_pad", 0, &include, NULL) || (padded && !include)) {
            onn_pass_skip(st, n, "the pool rounds up, or pads without counting the padding");
            return false;
        }
    }
    for (int i = 0; i < nsp; i++) {
        np[i] += pp[2 + i];              /* begins of the spatial axes */
        np[nsp + i] += pp[rank + 2 + i]; /* their ends */
    }
    if (!set_pads(n, nsp, np)) return false;
    if (avg) {
        onn_node_remove_attr(n, "count_include_pad");
        if (!onn_node_set_int(n, "count_include_pad", 1)) return false;
    }
    n->in[0] = pad->in[0];
    onn_node_clear(pad);
    return true;
}

onnorm_status onn_pass_fold_pad(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    (void)err;
    for (int i = 0; i < g->n_nodes; i++)
        if (onn_node_is(&g->nodes[i], "Pad") && fold_one(g, &g->nodes[i], st)) st->matched++;
    return ONNORM_OK;
}
