/* Graph editing helpers for the optimization passes; see edit.h. */
#include "graph/edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static onnorm_tensor *tensor_dup(const onnorm_tensor *t)
{
    onnorm_tensor *d = onn_tensor_new(t->dtype, t->rank, t->dims, NULL);
    if (!d) return NULL;
    size_t bytes = (size_t)onnorm_tensor_numel(t) * onnorm_dtype_size(t->dtype);
    if (bytes) memcpy(d->data, t->data, bytes);
    if (t->name && !(d->name = onn_strdup(t->name))) {
        onn_tensor_free(d);
        return NULL;
    }
    return d;
}

static bool attr_copy(onn_attr *d, const onn_attr *s)
{
    memset(d, 0, sizeof *d);
    d->type = s->type, d->f = s->f, d->i = s->i, d->n = s->n, d->s_len = s->s_len;
    if (!(d->name = onn_strdup(s->name))) return false;
    if (s->s && !(d->s = onn_memdup(s->s, s->s_len + 1))) return false;
    if (s->t && !(d->t = tensor_dup(s->t))) return false;
    if (s->floats && !(d->floats = onn_memdup(s->floats, s->n * sizeof(float)))) return false;
    if (s->ints && !(d->ints = onn_memdup(s->ints, s->n * sizeof(int64_t)))) return false;
    if (s->strings) {
        if (!(d->strings = calloc(s->n ? s->n : 1, sizeof(char *)))) return false;
        for (size_t i = 0; i < s->n; i++)
            if (!(d->strings[i] = onn_strdup(s->strings[i]))) return false;
    }
    if (s->tensors) {
        if (!(d->tensors = calloc(s->n ? s->n : 1, sizeof(onnorm_tensor *)))) return false;
        for (size_t i = 0; i < s->n; i++)
            if (!(d->tensors[i] = tensor_dup(s->tensors[i]))) return false;
    }
    if (s->g && !(d->g = onn_graph_clone(s->g, NULL))) return false;
    return true;
}

static bool node_copy(onn_node *d, const onn_node *s)
{
    memset(d, 0, sizeof *d);
    d->n_in = s->n_in, d->n_out = s->n_out, d->opset = s->opset, d->n_implicit = s->n_implicit;
    d->name = onn_strdup(s->name);
    d->op_type = onn_strdup(s->op_type);
    d->domain = onn_strdup(s->domain);
    d->in = onn_memdup(s->in, (size_t)s->n_in * sizeof(int));
    d->out = onn_memdup(s->out, (size_t)s->n_out * sizeof(int));
    d->attrs = calloc((size_t)(s->n_attr ? s->n_attr : 1), sizeof *d->attrs);
    if (!d->name || !d->op_type || !d->domain || !d->in || !d->out || !d->attrs) return false;
    for (int k = 0; k < s->n_attr; k++) {
        d->n_attr++;
        if (!attr_copy(&d->attrs[k], &s->attrs[k])) return false;
    }
    return true;
}

onn_graph *onn_graph_clone(const onn_graph *src, onnorm_error *err)
{
    onn_graph *g = calloc(1, sizeof *g);
    if (!g) goto nomem;
    g->ir_version = src->ir_version;
    if (!(g->source = onn_strdup(src->source))) goto nomem;
    if (!(g->opsets = calloc((size_t)(src->n_opsets ? src->n_opsets : 1), sizeof *g->opsets)))
        goto nomem;
    for (int i = 0; i < src->n_opsets; i++, g->n_opsets++) {
        g->opsets[i].version = src->opsets[i].version;
        if (!(g->opsets[i].domain = onn_strdup(src->opsets[i].domain))) goto nomem;
    }
    for (int v = 0; v < src->n_values; v++) {
        if (onn_graph_intern_value(g, src->values[v].name) != v) goto nomem;
        char *name = g->values[v].name;
        g->values[v] = src->values[v];
        g->values[v].name = name;
        g->values[v].init_borrowed = src->values[v].init != NULL;
    }
    g->inputs = onn_memdup(src->inputs, (size_t)src->n_inputs * sizeof(int));
    g->outputs = onn_memdup(src->outputs, (size_t)src->n_outputs * sizeof(int));
    g->feeds = onn_memdup(src->feeds, (size_t)src->n_feeds * sizeof(int));
    g->n_inputs = src->n_inputs, g->n_outputs = src->n_outputs, g->n_feeds = src->n_feeds;
    if (!g->inputs || !g->outputs || !g->feeds) goto nomem;
    if (src->shell && !(g->shell = onn_memdup(src->shell, src->shell_len))) goto nomem;
    g->shell_len = src->shell_len;
    g->external_data = src->external_data;
    g->ahead_limit = src->ahead_limit;
    g->n_formal = src->n_formal;
    if (src->capture_from &&
        !(g->capture_from =
              onn_memdup(src->capture_from, (size_t)(src->n_inputs - src->n_formal) * sizeof(int))))
        goto nomem;
    g->cap_nodes = src->n_nodes ? src->n_nodes : 1;
    if (!(g->nodes = calloc((size_t)g->cap_nodes, sizeof *g->nodes))) goto nomem;
    for (int i = 0; i < src->n_nodes; i++) {
        g->n_nodes++;
        if (!node_copy(&g->nodes[i], &src->nodes[i])) goto nomem;
    }
    return g;
nomem:
    onn_graph_free(g);
    onn_fail(err, ONNORM_ERR_NOMEM, "out of memory copying the graph");
    return NULL;
}

int onn_graph_consumers(const onn_graph *g, int v, int *nodes, int max)
{
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        if (!n->op_type) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == v) {
                if (nodes && count < max) nodes[count] = i;
                count++;
                break;
            }
    }
    return count;
}

const onnorm_tensor *onn_graph_const(const onn_graph *g, int v)
{
    if (v < 0 || v >= g->n_values || g->values[v].is_input) return NULL;
    return g->values[v].init;
}

onn_node *onn_graph_sole_consumer(onn_graph *g, int v)
{
    int idx;
    if (!onn_graph_single_use(g, v) || onn_graph_consumers(g, v, &idx, 1) != 1) return NULL;
    return &g->nodes[idx];
}

bool onn_value_known(const onn_value *v)
{
    if (v->rank < 0) return false;
    for (int d = 0; d < v->rank; d++)
        if (v->dims[d] < 0) return false;
    return true;
}

bool onn_graph_single_use(const onn_graph *g, int v)
{
    if (v < 0 || g->values[v].is_output) return false;
    int uses = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        if (!n->op_type) continue;
        for (int k = 0; k < n->n_in; k++)
            uses += n->in[k] == v;
    }
    return uses == 1;
}

onn_node *onn_graph_producer(onn_graph *g, int v)
{
    if (v < 0) return NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        onn_node *n = &g->nodes[i];
        if (!n->op_type) continue;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] == v) return n;
    }
    return NULL;
}

int onn_graph_new_value(onn_graph *g, const char *base)
{
    char name[512];
    for (int k = 0;; k++) {
        snprintf(name, sizeof name, "%s_onnorm%d", base, k);
        if (onn_graph_find_value(g, name) < 0) break;
    }
    return onn_graph_intern_value(g, name);
}

int onn_graph_new_constant(onn_graph *g, const char *base, onnorm_tensor *t)
{
    int v = onn_graph_new_value(g, base);
    if (v < 0) {
        onn_tensor_free(t);
        return -1;
    }
    onn_value *val = &g->values[v];
    val->init = t;
    val->dtype = t->dtype;
    val->rank = t->rank;
    memcpy(val->dims, t->dims, sizeof val->dims);
    return v;
}

onn_node *onn_graph_new_node(onn_graph *g, const char *op_type, const char *name, int n_in,
                             const int *in, int n_out, const int *out)
{
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 16;
        onn_node *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn) return NULL;
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    onn_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->name = onn_strdup(name);
    n->op_type = onn_strdup(op_type);
    n->domain = onn_strdup("");
    n->in = onn_memdup(in, (size_t)n_in * sizeof(int));
    n->out = onn_memdup(out, (size_t)n_out * sizeof(int));
    n->attrs = calloc(1, sizeof *n->attrs); /* grows with each attribute */
    n->n_in = n_in, n->n_out = n_out;
    n->opset = onn_graph_opset(g, "");
    if (!n->name || !n->op_type || !n->domain || !n->in || !n->out || !n->attrs) {
        onn_node_clear(n);
        return NULL;
    }
    g->n_nodes++;
    return n;
}

/* A new attribute at the end of n's list, which grows by one. */
static onn_attr *new_attr(onn_node *n, const char *name, onn_attr_type type)
{
    onn_attr *attrs = realloc(n->attrs, (size_t)(n->n_attr + 1) * sizeof *attrs);
    if (!attrs) return NULL;
    n->attrs = attrs;
    onn_attr *a = &attrs[n->n_attr];
    memset(a, 0, sizeof *a);
    if (!(a->name = onn_strdup(name))) return NULL;
    a->type = type;
    n->n_attr++;
    return a;
}

bool onn_node_set_float(onn_node *n, const char *name, float v)
{
    onn_attr *a = new_attr(n, name, ONN_ATTR_FLOAT);
    if (a) a->f = v;
    return a != NULL;
}

bool onn_node_set_int(onn_node *n, const char *name, int64_t v)
{
    onn_attr *a = new_attr(n, name, ONN_ATTR_INT);
    if (a) a->i = v;
    return a != NULL;
}

bool onn_node_set_string(onn_node *n, const char *name, const char *v)
{
    onn_attr *a = new_attr(n, name, ONN_ATTR_STRING);
    if (!a || !(a->s = onn_strdup(v))) return false;
    a->s_len = strlen(v);
    return true;
}

bool onn_node_set_floats(onn_node *n, const char *name, int count, const float *v)
{
    onn_attr *a = new_attr(n, name, ONN_ATTR_FLOATS);
    if (!a || !(a->floats = onn_memdup(v, (size_t)count * sizeof *v))) return false;
    a->n = (size_t)count;
    return true;
}

void onn_node_remove_attr(onn_node *n, const char *name)
{
    int kept = 0;
    for (int i = 0; i < n->n_attr; i++) {
        if (strcmp(n->attrs[i].name, name) == 0)
            onn_attr_clear(&n->attrs[i]);
        else
            n->attrs[kept++] = n->attrs[i];
    }
    n->n_attr = kept;
}

bool onn_node_set_ints(onn_node *n, const char *name, int count, const int64_t *v)
{
    onn_attr *a = new_attr(n, name, ONN_ATTR_INTS);
    if (!a || !(a->ints = onn_memdup(v, (size_t)count * sizeof *v))) return false;
    a->n = (size_t)count;
    return true;
}

bool onn_node_retype(onn_node *n, const char *domain, const char *op, int n_in)
{
    char *d = onn_strdup(domain), *o = onn_strdup(op);
    int *in = n_in > n->n_in ? realloc(n->in, (size_t)n_in * sizeof *in) : n->in;
    if (!d || !o || !in) {
        free(d), free(o);
        return false;
    }
    for (int k = n->n_in; k < n_in; k++)
        in[k] = -1;
    free(n->domain), free(n->op_type);
    n->domain = d, n->op_type = o, n->in = in, n->n_in = n_in;
    return true;
}

bool onn_graph_import_opset(onn_graph *g, const char *domain, int64_t version)
{
    if (onn_graph_opset(g, domain) >= 0) return onn_graph_raise_opset(g, domain, version);
    onn_opset *o = realloc(g->opsets, (size_t)(g->n_opsets + 1) * sizeof *o);
    if (!o) return false;
    g->opsets = o;
    if (!(o[g->n_opsets].domain = onn_strdup(domain))) return false;
    o[g->n_opsets++].version = version;
    return true;
}

void onn_graph_redirect(onn_graph *g, int from, int to)
{
    for (int i = 0; i < g->n_nodes; i++) {
        onn_node *n = &g->nodes[i];
        if (!n->op_type) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == from) n->in[k] = to;
    }
}

bool onn_graph_can_raise_opset(const onn_graph *g, onn_same_meaning_fn same_meaning,
                               const char *domain, int64_t to, const bool *ignore, char *why,
                               size_t len)
{
    int64_t now = onn_graph_opset(g, domain);
    if (now >= to) return true;
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        if (!n->op_type || (ignore && ignore[i]) || strcmp(n->domain, domain) != 0) continue;
        if (!same_meaning(domain, n->op_type, now, to)) {
            snprintf(why, len, "raising the opset from %lld to %lld would change %s",
                     (long long)now, (long long)to, n->op_type);
            return false;
        }
    }
    return true;
}

bool onn_graph_raise_opset(onn_graph *g, const char *domain, int64_t to)
{
    for (int i = 0; i < g->n_opsets; i++) {
        const char *d = strcmp(g->opsets[i].domain, "ai.onnx") ? g->opsets[i].domain : "";
        if (strcmp(d, domain) == 0) {
            if (g->opsets[i].version < to) g->opsets[i].version = to;
            return true;
        }
    }
    return false;
}

onnorm_status onn_graph_rebuild(onn_graph *g, onnorm_error *err)
{
    int kept = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op_type) g->nodes[kept++] = g->nodes[i];
    g->n_nodes = kept;
    onnorm_status st = onn_graph_drop_unused_constants(g, err);
    return st ? st : onn_graph_finalize(g, err);
}
