/*
 * Graph validation: every edge has a source, no value has two producers,
 * and the nodes are put in topological order.
 */
#include "graph/ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Records producers and checks that every consumed value has a source. */
static onnorm_status link_values(onn_graph *g, onnorm_error *err)
{
    char lbl[256];
    for (int v = 0; v < g->n_values; v++)
        g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_out; k++) {
            if (n->out[k] < 0) continue;
            onn_value *v = &g->values[n->out[k]];
            if (v->producer >= 0 || v->init || v->is_input)
                return onn_fail(err, ONNORM_ERR_INVALID,
                                "%s: %s: output '%s' is already defined elsewhere in the graph",
                                g->source, onn_node_label(n, lbl, sizeof lbl), v->name);
            v->producer = i;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            if (n->in[k] < 0) continue;
            const onn_value *v = &g->values[n->in[k]];
            if (v->producer < 0 && !v->init && !v->is_input)
                return onn_fail(err, ONNORM_ERR_INVALID,
                                "%s: %s: input '%s' is neither a graph input, an initializer "
                                "nor the output of any node",
                                g->source, onn_node_label(n, lbl, sizeof lbl), v->name);
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const onn_value *v = &g->values[g->outputs[i]];
        if (v->producer < 0 && !v->init && !v->is_input)
            return onn_fail(err, ONNORM_ERR_INVALID,
                            "%s: graph output '%s' is not produced by any node", g->source,
                            v->name);
    }
    return ONNORM_OK;
}

/* A binary min-heap of node indices: Kahn's algorithm that always takes the
 * ready node that comes first in the file, so a file already in topological
 * order keeps its order. */
typedef struct node_heap {
    int *v;
    int n;
} node_heap;

static void heap_push(node_heap *h, int x)
{
    int i = h->n++;
    while (i > 0 && h->v[(i - 1) / 2] > x) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = x;
}

static int heap_pop(node_heap *h)
{
    int top = h->v[0], last = h->v[--h->n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && h->v[c + 1] < h->v[c]) c++;
        if (h->v[c] >= last) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n > 0) h->v[i] = last;
    return top;
}

static onnorm_status topo_sort(onn_graph *g, onnorm_error *err)
{
    const int nn = g->n_nodes, nv = g->n_values;
    if (nn == 0) return ONNORM_OK;
    /* Consumers of each value in CSR form: cons[start[v] .. start[v + 1]). */
    size_t edges = 0;
    for (int i = 0; i < nn; i++)
        edges += (size_t)g->nodes[i].n_in;
    int *start = calloc((size_t)nv + 1, sizeof *start);
    int *cons = malloc((edges ? edges : 1) * sizeof *cons);
    int *fill = calloc((size_t)nv + 1, sizeof *fill);
    int *pending = calloc((size_t)nn, sizeof *pending);
    int *order = malloc((size_t)nn * sizeof *order);
    node_heap heap = {malloc((size_t)nn * sizeof(int)), 0};
    onn_node *sorted = malloc((size_t)nn * sizeof *sorted);
    onnorm_status st = ONNORM_OK;
    if (!start || !cons || !fill || !pending || !order || !heap.v || !sorted) {
        st = onn_fail(err, ONNORM_ERR_NOMEM, "%s: out of memory sorting the graph", g->source);
        goto done;
    }
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) start[g->nodes[i].in[k] + 1]++;
    for (int v = 0; v < nv; v++)
        start[v + 1] += start[v];
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v < 0) continue;
            cons[start[v] + fill[v]++] = i;
            if (g->values[v].producer >= 0) pending[i]++;
        }
    for (int i = 0; i < nn; i++)
        if (pending[i] == 0) heap_push(&heap, i);
    int count = 0;
    while (heap.n > 0) {
        int i = heap_pop(&heap);
        order[count++] = i;
        const onn_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0) continue;
            for (int c = start[v]; c < start[v + 1]; c++)
                if (--pending[cons[c]] == 0) heap_push(&heap, cons[c]);
        }
    }
    if (count < nn) {
        char lbl[256];
        int i = 0;
        while (pending[i] == 0)
            i++;
        st = onn_fail(err, ONNORM_ERR_INVALID, "%s: the graph has a cycle through %s", g->source,
                      onn_node_label(&g->nodes[i], lbl, sizeof lbl));
        goto done;
    }
    for (int i = 0; i < nn; i++)
        sorted[i] = g->nodes[order[i]];
    memcpy(g->nodes, sorted, (size_t)nn * sizeof *sorted);
done:
    free(start), free(cons), free(fill), free(pending), free(order), free(heap.v), free(sorted);
    return st;
}

onnorm_status onn_graph_relink(onn_graph *g, onnorm_error *err)
{
    return link_values(g, err);
}

onnorm_status onn_graph_finalize(onn_graph *g, onnorm_error *err)
{
    onnorm_status st = link_values(g, err);
    if (!st) st = topo_sort(g, err);
    if (!st) st = link_values(g, err); /* producers now index the sorted array */
    for (int i = 0; !st && i < g->n_nodes; i++)
        g->nodes[i].opset = onn_graph_opset(g, g->nodes[i].domain);
    return st;
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
