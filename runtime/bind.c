/* Binding nodes to kernels; see bind.h. */
#include "runtime/bind.h"

#include <stdio.h>
#include <stdlib.h>

const onn_kernel *onn_bind_node(const onn_node *n, char *why, size_t len)
{
    const char *dom = n->domain;
    if (n->opset < 0) {
        snprintf(why, len, "the model imports no opset for domain '%s'", dom[0] ? dom : "ai.onnx");
        return NULL;
    }
    int lowest = 0;
    if (!onn_registry_knows(dom, n->op_type, &lowest)) {
        snprintf(why, len, "unknown op %s%s%s", dom, dom[0] ? "." : "", n->op_type);
        return NULL;
    }
    int64_t maxv = onn_registry_max_opset(dom);
    if (n->opset > maxv) {
        snprintf(why, len, "opset %lld of domain '%s' is newer than the newest supported (%lld)",
                 (long long)n->opset, dom[0] ? dom : "ai.onnx", (long long)maxv);
        return NULL;
    }
    const onn_kernel *k = onn_registry_find(dom, n->op_type, n->opset);
    if (!k)
        snprintf(why, len, "%s is supported from opset %d, the model uses opset %lld", n->op_type,
                 lowest, (long long)n->opset);
    return k;
}

static onnorm_status check_arity(const onn_graph *g, const onn_node *n, const onn_kernel *k,
                                 onnorm_error *err)
{
    char lbl[256];
    int n_in = n->n_in, n_out = n->n_out;
    while (n_in > 0 && n->in[n_in - 1] < 0)
        n_in--; /* trailing omitted optionals */
    while (n_out > 0 && n->out[n_out - 1] < 0)
        n_out--;
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

/* Element types known before any data is seen (declared inputs, constants,
 * value_info), carried through the type-preserving normalization kernels,
 * are checked against each kernel's type list: a model using a type outside
 * the table fails at load, naming the node, the op version and the type. */
static onnorm_status check_types(onn_graph *g, const onn_kernel *const *kernels, onnorm_error *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        const onn_kernel *k = kernels[i];
        if (!k || !k->types || n->n_in < 1 || n->in[0] < 0) continue;
        onnorm_dtype t = g->values[n->in[0]].dtype;
        if (t == ONNORM_UNDEFINED) continue;
        if (!(k->types & ONN_T(t))) {
            char lbl[256], types[128];
            return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                            "%s: %s: %s-%d does not support element type %s (supported: %s)",
                            g->source, onn_node_label(n, lbl, sizeof lbl), n->op_type,
                            k->since_version, onnorm_dtype_name(t),
                            onn_types_str(k->types, types, sizeof types));
        }
        bool preserves = strcmp(n->domain, "ai.onnx.ml") != 0;
        if (preserves && n->n_out > 0 && n->out[0] >= 0 &&
            g->values[n->out[0]].dtype == ONNORM_UNDEFINED)
            g->values[n->out[0]].dtype = t;
    }
    return ONNORM_OK;
}

/* Node n's subgraphs bind too (their kernels are bound again when they run);
 * false with the first failure in why. */
static bool subgraphs_bind(const onn_node *n, char *why, size_t len)
{
    for (int a = 0; a < n->n_attr; a++) {
        if (!n->attrs[a].g) continue;
        const onn_kernel **ks = NULL;
        onnorm_error e = {0};
        if (onn_bind_graph(n->attrs[a].g, false, &ks, NULL, &e)) {
            snprintf(why, len, "subgraph '%.40s': %.190s", n->attrs[a].name, e.message);
            return false;
        }
        free(ks);
    }
    return true;
}

onnorm_status onn_bind_graph(onn_graph *g, bool allow_unsupported, const onn_kernel ***kernels,
                             int *unsupported, onnorm_error *err)
{
    const onn_kernel **ks = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *ks);
    if (!ks) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    char list[900];
    size_t used = 0;
    int bad = 0, unlisted = 0;
    list[0] = '\0';
    onnorm_status st = ONNORM_OK;
    for (int i = 0; i < g->n_nodes && !st; i++) {
        const onn_node *n = &g->nodes[i];
        char why[256], lbl[256], line[600];
        if ((ks[i] = onn_bind_node(n, why, sizeof why))) {
            st = check_arity(g, n, ks[i], err);
            if (st || subgraphs_bind(n, why, sizeof why)) continue;
            ks[i] = NULL;
        }
        bad++;
        /* Keep room for the closing count so the message never ends mid-line. */
        int k = snprintf(line, sizeof line, "\n  %s: %s", onn_node_label(n, lbl, sizeof lbl), why);
        if (k > 0 && used + (size_t)k < sizeof list - 40) {
            memcpy(list + used, line, (size_t)k + 1);
            used += (size_t)k;
        } else {
            unlisted++;
        }
    }
    if (!st && unlisted) snprintf(list + used, sizeof list - used, "\n  ... and %d more", unlisted);
    if (!st && bad && !allow_unsupported)
        st = onn_fail(err, ONNORM_ERR_UNSUPPORTED, "%s: %d unsupported node%s:%s", g->source, bad,
                      bad == 1 ? "" : "s", list);
    if (!st) st = check_types(g, ks, err);
    if (st) {
        free(ks);
        return st;
    }
    *kernels = ks;
    if (unsupported) *unsupported = bad;
    return ONNORM_OK;
}

bool onn_bind_same_meaning(const char *domain, const char *op, int64_t from, int64_t to)
{
    if (to > onn_registry_max_opset(domain)) return false;
    const onn_kernel *old = onn_registry_find(domain, op, from);
    for (const onn_kernel *k = onn_registry_find(domain, op, to); k != old;
         k = onn_registry_find(domain, op, k->since_version - 1))
        if (!k || !k->widens) return false;
    return true;
}
