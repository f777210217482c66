/*
 * Cleanup: Identity and inference-mode Dropout are bypassed, and nodes none
 * of whose outputs are read (and that produce no graph output) are removed,
 * repeatedly until nothing changes. Constants left unread are dropped by the
 * rebuild that follows.
 */
#include "graph/edit.h"
#include "graph/passes.h"

#include <string.h>

/* Dropout behaves as Identity: inference mode, or a constant ratio of 0
 * (training mode then keeps every element and scales by 1 / (1 - 0);
 * torchvision's Swin exports its attention dropouts so), and its mask is
 * not read. */
static bool is_inference_dropout(const onn_graph *g, const onn_node *n)
{
    if (n->n_out > 1 && n->out[1] >= 0 &&
        (onn_graph_consumers(g, n->out[1], NULL, 0) > 0 || g->values[n->out[1]].is_output))
        return false;
    if (n->opset >= 12 && n->n_in > 1 && n->in[1] >= 0) {
        const onnorm_tensor *r = onn_graph_const(g, n->in[1]);
        if (r && onnorm_tensor_numel(r) == 1 &&
            ((r->dtype == ONNORM_FLOAT && *(const float *)r->data == 0.0f) ||
             (r->dtype == ONNORM_DOUBLE && *(const double *)r->data == 0.0)))
            return true;
    }
    if (n->opset < 7) {
        const onn_attr *a = onn_attr_find(n, "is_test");
        return a && a->type == ONN_ATTR_INT && a->i != 0;
    }
    if (n->opset >= 12 && n->n_in > 2 && n->in[2] >= 0) {
        const onnorm_tensor *t = onn_graph_const(g, n->in[2]);
        return t && t->dtype == ONNORM_BOOL && onnorm_tensor_numel(t) == 1 &&
               *(const uint8_t *)t->data == 0;
    }
    return true;
}

/* Bypasses a pass-through node; false (with a note) when it must stay. */
static bool bypass(onn_graph *g, onn_node *n, onn_pass_stats *st, bool note)
{
    const int in = n->in[0], out = n->out[0];
    if (!g->values[out].is_output) {
        onn_graph_redirect(g, out, in);
        onn_node_clear(n);
        return true;
    }
    /* The output's name must survive: let the input's producer write it. */
    onn_node *p = onn_graph_producer(g, in);
    if (p && onn_graph_single_use(g, in)) {
        for (int k = 0; k < p->n_out; k++)
            if (p->out[k] == in) p->out[k] = out;
        onn_node_clear(n);
        return true;
    }
    if (note)
        onn_pass_skip(st, n,
                      "its output is a graph output and its input is not a single-use node "
                      "output, so removing it would rename a graph output");
    return false;
}

static bool is_dead(const onn_graph *g, const onn_node *n)
{
    for (int k = 0; k < n->n_out; k++) {
        int v = n->out[k];
        if (v >= 0 && (g->values[v].is_output || onn_graph_consumers(g, v, NULL, 0) > 0))
            return false;
    }
    return true;
}

onnorm_status onn_pass_cleanup(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    (void)err;
    bool changed = true, first = true;
    while (changed) {
        changed = false;
        for (int i = 0; i < g->n_nodes; i++) {
            onn_node *n = &g->nodes[i];
            if (!n->op_type || n->domain[0]) continue;
            bool passthrough = !strcmp(n->op_type, "Identity") ||
                               (!strcmp(n->op_type, "Dropout") && is_inference_dropout(g, n));
            if (passthrough && n->n_in >= 1 && n->in[0] >= 0 && n->out[0] >= 0) {
                if (bypass(g, n, st, first)) st->matched++, changed = true;
            } else if (is_dead(g, n)) {
                onn_node_clear(n);
                st->matched++, changed = true;
            }
        }
        first = false;
    }
    return ONNORM_OK;
}
