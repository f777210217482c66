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
    while (n_in > 0 && n->in[n_in - 1] < 0) n_in--; /* trailing omitted optionals */
    while (n_out > 0 && n->out[n_out - 1] < 0) n_out--;
    const onn_kernel *k = n->kernel;
    if (n_in < k->min_inputs || n->n_in > k->max_inputs)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: %s: %s-%d takes %d to %d inputs, got %d",
                        g->source, onn_node_label(n, lbl, sizeof lbl), n->op_type,
                        k->since_version, k->min_inputs, k->max_inputs, n->n_in);
    if (n_out < k->min_outputs || n->n_out > k->max_outputs)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: %s: %s-%d has %d to %d outputs, got %d",
                        g->source, onn_node_label(n, lbl, sizeof lbl), n->op_type,
                        k->since_version, k->min_outputs, k->max_outputs, n->n_out);
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
            int k = snprintf(line, sizeof line, "\n  %s: %s", onn_node_label(n, lbl, sizeof lbl), why);
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
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
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

/* Kahn's algorithm; stable with respect to the file's node order. */
static onnorm_status topo_sort(onn_graph *g, onnorm_error *err)
{
    int nn = g->n_nodes;
    if (nn == 0) return ONNORM_OK;
    int *pending = calloc((size_t)nn, sizeof *pending);
    int *order = malloc((size_t)nn * sizeof *order);
    bool *done = calloc((size_t)nn, sizeof *done);
    onn_node *sorted = malloc((size_t)nn * sizeof *sorted);
    if (!pending || !order || !done || !sorted) {
        free(pending), free(order), free(done), free(sorted);
        return onn_fail(err, ONNORM_ERR_NOMEM, "%s: out of memory sorting the graph", g->source);
    }
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v >= 0 && g->values[v].producer >= 0) pending[i]++;
        }
    int count = 0;
    /* Repeated scans keep file order among ready nodes; graphs here are small. */
    bool progress = true;
    while (count < nn && progress) {
        progress = false;
        for (int i = 0; i < nn; i++) {
            if (done[i] || pending[i] > 0) continue;
            done[i] = true;
            order[count++] = i;
            progress = true;
            const onn_node *n = &g->nodes[i];
            for (int k = 0; k < n->n_out; k++) {
                if (n->out[k] < 0) continue;
                for (int j = 0; j < nn; j++)
                    for (int q = 0; q < g->nodes[j].n_in; q++)
                        if (g->nodes[j].in[q] == n->out[k]) pending[j]--;
            }
        }
    }
    onnorm_status st = ONNORM_OK;
    if (count < nn) {
        char lbl[256];
        int i = 0;
        while (done[i]) i++;
        st = onn_fail(err, ONNORM_ERR_INVALID, "%s: the graph has a cycle through %s", g->source,
                      onn_node_label(&g->nodes[i], lbl, sizeof lbl));
    } else {
        for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
        memcpy(g->nodes, sorted, (size_t)nn * sizeof *sorted);
    }
    free(pending), free(order), free(done), free(sorted);
    return st;
}

onnorm_status onn_graph_finalize(onn_graph *g, bool allow_unsupported, onnorm_error *err)
{
    onnorm_status st = link_values(g, err);
    if (!st) st = topo_sort(g, err);
    if (!st) st = link_values(g, err); /* producers now index the sorted array */
    if (!st) st = bind_all(g, allow_unsupported, err);
    return st;
}
