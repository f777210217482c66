/*
 * Graph validation: every edge has a source, no value has two producers,
 * the nodes are put in topological order, and every node is bound to the
 * kernel the registry chooses for the model's opset.
 */
#include "graph/ir.h"
#include "ops/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends a line to a bounded message buffer. */
static void msg_append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void msg_append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
    if (*used >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *used, cap - *used, fmt, ap);
    va_end(ap);
    if (k > 0) *used += (size_t)k;
    if (*used >= cap) *used = cap;
}

/* Explains why node n has no kernel, or returns false if it has one. */
static bool bind_kernel(const onn_graph *g, onn_node *n, char *why, size_t len)
{
    const char *dom = n->domain;
    n->opset = onn_graph_opset(g, dom);
    if (n->opset < 0) {
        snprintf(why, len, "the model imports no opset for domain '%s'", dom[0] ? dom : "ai.onnx");
        return false;
    }
    int64_t maxv = onn_registry_max_opset(dom);
    int lowest = 0;
    if (!onn_registry_knows(dom, n->op_type, &lowest)) {
        snprintf(why, len, "unknown op %s%s%s", dom[0] ? dom : "", dom[0] ? "." : "", n->op_type);
        return false;
    }
    if (n->opset > maxv) {
        snprintf(why, len, "opset %lld of domain '%s' is newer than the newest supported (%lld)",
                 (long long)n->opset, dom[0] ? dom : "ai.onnx", (long long)maxv);
        return false;
    }
    n->kernel = onn_registry_find(dom, n->op_type, n->opset);
    if (!n->kernel) {
        snprintf(why, len, "%s is supported from opset %d, the model uses opset %lld", n->op_type,
                 lowest, (long long)n->opset);
        return false;
    }
    return true;
}

static onnorm_status check_arity(const onn_graph *g, const onn_node *n, onnorm_error *err)
{
    char lbl[256];
    int n_in = n->n_in, n_out = n->n_out;
    while (n_in > 0 && n->in[n_in - 1] < 0)
        n_in--; /* trailing omitted optionals */
    while (n_out > 0 && n->out[n_out - 1] < 0)
        n_out--;
    const onn_kernel *k = n->kernel;
    /* Inputs and outputs below the minimum count are required: an omitted one
     * ("") in that range is as wrong as a missing one. */
    for (int i = 0; i < n->n_in && i < k->min_inputs; i++)
        if (n->in[i] < 0) n_in = i;
    for (int i = 0; i < n->n_out && i < k->min_outputs; i++)
        if (n->out[i] < 0) n_out = i;
    if (n_in < k->min_inputs || n->n_in > k->max_inputs)
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "%s: %s: %s-%d takes %d to %d inputs, got %d (or a required one is empty)",
                        g->source, onn_node_label(n, lbl, sizeof lbl), n->op_type, k->since_version,
                        k->min_inputs, k->max_inputs, n->n_in);
    if (n_out < k->min_outputs || n->n_out > k->max_outputs)
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "%s: %s: %s-%d has %d to %d outputs, got %d (or a required one is empty)",
                        g->source, onn_node_label(n, lbl, sizeof lbl), n->op_type, k->since_version,
                        k->min_outputs, k->max_outputs, n->n_out);
    return ONNORM_OK;
}

static onnorm_status bind_all(onn_graph *g, bool allow_unsupported, onnorm_error *err)
{
    char list[900];
    size_t used = 0;
    int bad = 0, unlisted = 0;
    list[0] = '\0';
    for (int i = 0; i < g->n_nodes; i++) {
        onn_node *n = &g->nodes[i];
        char why[256], lbl[256];
        if (!bind_kernel(g, n, why, sizeof why)) {
            bad++;
            /* Keep room for the closing count so the message never ends mid-line. */
            char line[600];
            int k =
                snprintf(line, sizeof line, "\n  %s: %s", onn_node_label(n, lbl, sizeof lbl), why);
            if (k > 0 && used + (size_t)k < sizeof list - 40)
                msg_append(list, sizeof list, &used, "%s", line);
            else
                unlisted++;
            continue;
        }
        onnorm_status st = check_arity(g, n, err);
        if (st) return st;
    }
    if (unlisted) msg_append(list, sizeof list, &used, "\n  ... and %d more", unlisted);
    if (bad && !allow_unsupported)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "%s: %d unsupported node%s:%s", g->source, bad,
                        bad == 1 ? "" : "s", list);
    return ONNORM_OK;
}

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

/* Element types known before any data is seen (declared inputs, constants,
 * value_info), carried through the type-preserving normalization kernels,
 * are checked against each kernel's type list: a model using a type outside
 * the table fails at load, naming the node, the op version and the type. */
static onnorm_status check_types(onn_graph *g, onnorm_error *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        if (!n->kernel || !n->kernel->types || n->n_in < 1 || n->in[0] < 0) continue;
        onnorm_dtype t = g->values[n->in[0]].dtype;
        if (t == ONNORM_UNDEFINED) continue;
        if (!(n->kernel->types & ONN_T(t))) {
            char lbl[256], types[128];
            return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                            "%s: %s: %s-%d does not support element type %s (supported: %s)",
                            g->source, onn_node_label(n, lbl, sizeof lbl), n->op_type,
                            n->kernel->since_version, onnorm_dtype_name(t),
                            onn_types_str(n->kernel->types, types, sizeof types));
        }
        bool preserves = strcmp(n->domain, "ai.onnx.ml") != 0;
        if (preserves && n->n_out > 0 && n->out[0] >= 0 &&
            g->values[n->out[0]].dtype == ONNORM_UNDEFINED)
            g->values[n->out[0]].dtype = t;
    }
    return ONNORM_OK;
}

onnorm_status onn_graph_relink(onn_graph *g, onnorm_error *err)
{
    return link_values(g, err);
}

onnorm_status onn_graph_finalize(onn_graph *g, bool allow_unsupported, onnorm_error *err)
{
    onnorm_status st = link_values(g, err);
    if (!st) st = topo_sort(g, err);
    if (!st) st = link_values(g, err); /* producers now index the sorted array */
    if (!st) st = bind_all(g, allow_unsupported, err);
    if (!st) st = check_types(g, err);
    return st;
}
