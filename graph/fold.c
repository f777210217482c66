/*
 * Constant folding at load time. A node whose inputs are all constants
 * (initializers, Constant nodes, or outputs of nodes already folded) is run
 * once, its outputs become constants, and the node disappears. Constants no
 * longer consumed by any node are then dropped, so a weight that exporters
 * emit together with its Transpose is stored once, transposed.
 *
 * Graph inputs are never treated as constants even when they have an
 * initializer (IR-3 models): a caller may bind them, which overrides it.
 */
#include "graph/ir.h"
#include "ops/kernel.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

static bool is_constant(const onn_graph *g, int v)
{
    return v < 0 || (g->values[v].init && !g->values[v].is_input);
}

/* Runs node n on constant inputs; its outputs become constant values. */
static onnorm_status fold_node(onn_graph *g, onn_node *n, onnorm_error *err)
{
    onnorm_tensor *in[64] = {0}, *out[64] = {0};
    if (n->n_in > 64 || n->n_out > 64) return ONNORM_OK;
    for (int k = 0; k < n->n_in; k++)
        in[k] = n->in[k] >= 0 ? g->values[n->in[k]].init : NULL;
    onnorm_status st = ONNORM_OK;
    for (int k = 0; k < n->n_out && !st; k++)
        if (n->out[k] >= 0 && !(out[k] = calloc(1, sizeof *out[k])))
            st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    onn_kctx ctx = {n, n->n_in, n->n_out, in, out, omp_get_max_threads(), err, NULL, NULL};
    if (!st) st = n->kernel->infer(&ctx);
    for (int k = 0; k < n->n_out && !st; k++) {
        if (!out[k]) continue;
        onnorm_tensor *t = onn_tensor_new(out[k]->dtype, out[k]->rank, out[k]->dims, err);
        if (!t) {
            st = err ? err->code : ONNORM_ERR_NOMEM;
            break;
        }
        free(out[k]);
        out[k] = t;
    }
    if (!st) st = n->kernel->run(&ctx);
    for (int k = 0; k < n->n_out; k++) {
        if (!out[k]) continue;
        if (st) {
            if (out[k]->data)
                onn_tensor_free(out[k]);
            else
                free(out[k]);
            continue;
        }
        onn_value *v = &g->values[n->out[k]];
        v->init = out[k];
        v->dtype = out[k]->dtype;
        v->rank = out[k]->rank;
        memcpy(v->dims, out[k]->dims, sizeof v->dims);
        v->producer = -1;
    }
    return st;
}

onnorm_status onn_graph_fold_constants(onn_graph *g, onnorm_error *err)
{
    int kept = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        onn_node *n = &g->nodes[i];
        bool foldable = n->kernel != NULL && !n->kernel->shape_only;
        for (int k = 0; foldable && k < n->n_in; k++)
            foldable = is_constant(g, n->in[k]);
        if (foldable) {
            char lbl[256];
            onnorm_status st = fold_node(g, n, err);
            if (st)
                return onn_prefix(err, st, "%s: folding %s: ", g->source,
                                  onn_node_label(n, lbl, sizeof lbl));
            onn_node_clear(n);
        } else {
            g->nodes[kept++] = *n;
        }
    }
    g->n_nodes = kept;
    onnorm_status st = onn_graph_drop_unused_constants(g, err);
    return st ? st : onn_graph_relink(g, err);
}

onnorm_status onn_graph_drop_unused_constants(onn_graph *g, onnorm_error *err)
{
    bool *used = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *used);
    if (!used) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) used[g->nodes[i].in[k]] = true;
    for (int v = 0; v < g->n_values; v++) {
        onn_value *val = &g->values[v];
        if (val->init && !used[v] && !val->is_output && !val->is_input) {
            if (!val->init_borrowed) onn_tensor_free(val->init);
            val->init = NULL;
        }
    }
    free(used);
    return ONNORM_OK;
}
