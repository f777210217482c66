/*
 * ModelProto -> onn_graph. The protobuf tree is walked once and copied into
 * the IR; Constant nodes become constant values here, so no later stage
 * needs to know about them.
 */
#include "loader/loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct load_ctx {
    onn_graph *g;
    onnorm_error *err;
    const Onnx__ModelProto *model; /* for model-local functions */
    const char *base_dir;          /* external data's directory; NULL: none allowed */
    int inlined;                   /* counter that keeps inlined names unique */
    int max_nodes;                 /* what the graph may expand to (see below) */
    int depth;                     /* of subgraph nesting: 0 for the main graph */
} load_ctx;

/* Functions may call functions; this bounds the depth (and catches recursion)
 * and the number of nodes a model may expand to, so a small file cannot make
 * the loader build an exponentially large graph: at most ONN_MAX_NODES, and
 * at most ONN_EXPANSION times the nodes the file writes (in its graph and
 * all its functions) or ONN_MIN_NODE_BUDGET, whichever is larger. Real
 * exports inline a few small functions many times; a file whose functions
 * call each other in a fan-out is refused after a fraction of a second. */
#define ONN_MAX_INLINE_DEPTH 16
#define ONN_MAX_NODES (1 << 20)
#define ONN_MIN_NODE_BUDGET (1 << 16)
#define ONN_EXPANSION 256

static onnorm_status nomem(load_ctx *c)
{
    return onn_fail(c->err, ONNORM_ERR_NOMEM, "%s: out of memory while loading", c->g->source);
}

/* A tensor of the file: inline, or from an external file next to the model. */
static onnorm_status tensor_from_proto(load_ctx *c, const Onnx__TensorProto *tp,
                                       onnorm_tensor **out)
{
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        c->g->external_data = true;
        return onn_tensor_from_external(tp, c->base_dir, out, c->err);
    }
    return onn_tensor_from_proto(tp, out, c->err);
}

/* Copies a TypeProto's tensor element type and shape into a value; an
 * element-type code ONNX does not define is an error. */
static onnorm_status read_type(load_ctx *c, onn_value *v, const Onnx__TypeProto *tp)
{
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return ONNORM_OK;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type && !onn_dtype_code_valid(tt->elem_type))
        return onn_fail(c->err, ONNORM_ERR_INVALID,
                        "%s: value '%s' has element type code %d, which is not an ONNX element "
                        "type (0..%d)",
                        c->g->source, v->name, (int)tt->elem_type, ONN_DTYPE_CODE_MAX);
    if (tt->has_elem_type) v->dtype = (onnorm_dtype)tt->elem_type;
    if (!tt->shape || tt->shape->n_dim > ONNORM_MAX_RANK) return ONNORM_OK;
    v->rank = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        bool fixed = d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                     d->dim_value >= 0;
        v->dims[i] = fixed ? d->dim_value : -1;
    }
    return ONNORM_OK;
}

static onnorm_status read_value_list(load_ctx *c, Onnx__ValueInfoProto **vi, size_t n, int **ids,
                                     int *count, bool is_input)
{
    *ids = calloc(n ? n : 1, sizeof **ids);
    if (!*ids) return nomem(c);
    *count = (int)n;
    for (size_t i = 0; i < n; i++) {
        if (!vi[i] || !vi[i]->name || !vi[i]->name[0])
            return onn_fail(c->err, ONNORM_ERR_INVALID, "%s: graph %s %zu has no name",
                            c->g->source, is_input ? "input" : "output", i);
        int id = onn_graph_intern_value(c->g, vi[i]->name);
        if (id < 0) return nomem(c);
        onn_value *v = &c->g->values[id];
        onnorm_status st = read_type(c, v, vi[i]->type);
        if (st) return st;
        if (is_input) {
            if (v->is_input)
                return onn_fail(c->err, ONNORM_ERR_INVALID, "%s: graph input '%s' is listed twice",
                                c->g->source, v->name);
            v->is_input = true;
        } else {
            v->is_output = true;
        }
        (*ids)[i] = id;
    }
    return ONNORM_OK;
}

static onnorm_status add_constant(load_ctx *c, const char *name, onnorm_tensor *t)
{
    int id = onn_graph_intern_value(c->g, name);
    if (id < 0) {
        onn_tensor_free(t);
        return nomem(c);
    }
    onn_value *v = &c->g->values[id];
    if (v->init) {
        onn_tensor_free(t);
        return onn_fail(c->err, ONNORM_ERR_INVALID, "%s: constant '%s' is defined twice",
                        c->g->source, name);
    }
    v->init = t;
    v->dtype = t->dtype;
    v->rank = t->rank;
    memcpy(v->dims, t->dims, sizeof v->dims);
    return ONNORM_OK;
}

/* proto2 strings are NULL when absent; messages and lookups want "". */
static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

static onnorm_status load_graph(load_ctx *c, const Onnx__GraphProto *gp);

/* Subgraphs nest at most this deep (If inside Loop inside If ...). */
#define ONN_MAX_GRAPH_DEPTH 16

/*
 * A graph attribute (If's branches, Loop's and Scan's body) as a graph of
 * its own, with the model's opsets. Names its nodes read that it does not
 * define (not a formal input, initializer or node output) come from an
 * enclosing scope: they become extra inputs of the subgraph, after its
 * formal ones, which the owning node supplies (add_node). The GraphProto is
 * also kept serialized in a->s so that a writer can put it back.
 */
static onnorm_status load_subgraph(load_ctx *c, const Onnx__GraphProto *gp, onn_attr *a)
{
    if (c->depth >= ONN_MAX_GRAPH_DEPTH)
        return onn_fail(c->err, ONNORM_ERR_UNSUPPORTED, "subgraphs nest deeper than %d",
                        ONN_MAX_GRAPH_DEPTH);
    a->s_len = onnx__graph_proto__get_packed_size(gp);
    if (!(a->s = malloc(a->s_len + 1))) return nomem(c);
    onnx__graph_proto__pack(gp, (uint8_t *)a->s);
    a->s[a->s_len] = '\0';
    onn_graph *sub = calloc(1, sizeof *sub);
    if (!sub) return nomem(c);
    a->g = sub;
    const onn_graph *g = c->g;
    if (!(sub->source = onn_strdup(g->source))) return nomem(c);
    sub->ir_version = g->ir_version;
    if (!(sub->opsets = calloc((size_t)g->n_opsets + 1, sizeof *sub->opsets))) return nomem(c);
    for (int i = 0; i < g->n_opsets; i++, sub->n_opsets++) {
        sub->opsets[i].version = g->opsets[i].version;
        if (!(sub->opsets[i].domain = onn_strdup(g->opsets[i].domain))) return nomem(c);
    }
    load_ctx sc = *c;
    sc.g = sub;
    sc.depth = c->depth + 1;
    onnorm_status st = load_graph(&sc, gp);
    c->inlined = sc.inlined;
    if (st) return st;
    sub->n_formal = sub->n_inputs;
    /* What is defined here; every other value read is captured. */
    bool *defined = calloc((size_t)sub->n_values + 1, sizeof *defined);
    if (!defined) return nomem(c);
    for (int v = 0; v < sub->n_values; v++)
        defined[v] = sub->values[v].init != NULL || sub->values[v].is_input;
    for (int i = 0; i < sub->n_nodes; i++)
        for (int k = 0; k < sub->nodes[i].n_out; k++)
            if (sub->nodes[i].out[k] >= 0) defined[sub->nodes[i].out[k]] = true;
    int n_cap = 0;
    for (int v = 0; v < sub->n_values; v++)
        n_cap += !defined[v];
    int *inputs = realloc(sub->inputs, (size_t)(sub->n_inputs + n_cap + 1) * sizeof *inputs);
    int *feeds =
        inputs ? realloc(sub->feeds, (size_t)(sub->n_feeds + n_cap + 1) * sizeof *feeds) : NULL;
    if (inputs) sub->inputs = inputs;
    if (feeds) sub->feeds = feeds;
    if (!inputs || !feeds || !(sub->capture_from = calloc((size_t)n_cap + 1, sizeof(int)))) {
        free(defined);
        return nomem(c);
    }
    for (int v = 0; v < sub->n_values; v++)
        if (!defined[v]) {
            sub->values[v].is_input = true;
            sub->inputs[sub->n_inputs++] = v;
            sub->feeds[sub->n_feeds++] = v;
        }
    free(defined);
    return onn_graph_finalize(sub, c->err);
}

/* After its attributes: the outer-scope values the node's subgraphs read
 * become its inputs too (once each), past the ones the file lists. */
static onnorm_status add_captured_inputs(load_ctx *c, onn_node *n)
{
    for (int a = 0; a < n->n_attr; a++) {
        onn_graph *sub = n->attrs[a].g;
        if (!sub) continue;
        for (int j = sub->n_formal; j < sub->n_inputs; j++) {
            const char *name = sub->values[sub->inputs[j]].name;
            const int id = onn_graph_intern_value(c->g, name);
            if (id < 0) return nomem(c);
            int at = n->n_in - n->n_implicit;
            while (at < n->n_in && n->in[at] != id)
                at++;
            if (at == n->n_in) {
                int *in = realloc(n->in, (size_t)(n->n_in + 1) * sizeof *in);
                if (!in) return nomem(c);
                n->in = in;
                n->in[n->n_in++] = id;
                n->n_implicit++;
            }
            sub->capture_from[j - sub->n_formal] = at;
        }
    }
    return ONNORM_OK;
}

static onnorm_status copy_attr(load_ctx *c, const Onnx__AttributeProto *ap, onn_attr *a)
{
    if (!ap->name || !ap->name[0])
        return onn_fail(c->err, ONNORM_ERR_INVALID, "an attribute has no name");
    a->name = onn_strdup(ap->name);
    if (!a->name) return nomem(c);
    a->type = (onn_attr_type)ap->type;
    onnorm_status st = ONNORM_OK;
    switch (ap->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: a->f = ap->f; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: a->i = ap->i; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        a->s = malloc(ap->s.len + 1);
        if (!a->s) return nomem(c);
        if (ap->s.len) memcpy(a->s, ap->s.data, ap->s.len);
        a->s[ap->s.len] = '\0';
        a->s_len = ap->s.len;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
        if (!ap->t)
            return onn_fail(c->err, ONNORM_ERR_INVALID, "attribute '%s' has no tensor", ap->name);
        st = tensor_from_proto(c, ap->t, &a->t);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        a->n = ap->n_floats;
        if (!(a->floats = onn_memdup(ap->floats, a->n * sizeof(float)))) return nomem(c);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        a->n = ap->n_ints;
        if (!(a->ints = onn_memdup(ap->ints, a->n * sizeof(int64_t)))) return nomem(c);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
        a->strings = calloc(ap->n_strings ? ap->n_strings : 1, sizeof(char *));
        if (!a->strings) return nomem(c);
        a->n = ap->n_strings;
        for (size_t i = 0; i < a->n; i++) {
            a->strings[i] = malloc(ap->strings[i].len + 1);
            if (!a->strings[i]) return nomem(c);
            if (ap->strings[i].len) memcpy(a->strings[i], ap->strings[i].data, ap->strings[i].len);
            a->strings[i][ap->strings[i].len] = '\0';
        }
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
        a->tensors = calloc(ap->n_tensors ? ap->n_tensors : 1, sizeof(onnorm_tensor *));
        if (!a->tensors) return nomem(c);
        a->n = ap->n_tensors;
        for (size_t i = 0; i < a->n && !st; i++)
            st = tensor_from_proto(c, ap->tensors[i], &a->tensors[i]);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
        if (!ap->g)
            return onn_fail(c->err, ONNORM_ERR_INVALID, "attribute '%s' has no graph", ap->name);
        st = load_subgraph(c, ap->g, a);
        break;
    default:
        /* Lists of graphs, sparse tensors and type protos are kept as a tag
         * only: no supported operator reads them. */
        break;
    }
    if (st) return onn_prefix(c->err, st, "attribute '%s': ", ap->name);
    return ONNORM_OK;
}

/* Turns a Constant node into a constant value (opset 1..21 forms). */
static onnorm_status fold_constant(load_ctx *c, const Onnx__NodeProto *np)
{
    const char *nname = str_or_empty(np->name);
    if (np->n_output != 1 || np->n_attribute != 1 || !np->output[0] || !np->output[0][0])
        return onn_fail(c->err, ONNORM_ERR_INVALID,
                        "%s: Constant node '%s' needs exactly one named output and one attribute",
                        c->g->source, nname);
    const Onnx__AttributeProto *ap = np->attribute[0];
    onnorm_tensor *t = NULL;
    onnorm_status st = ONNORM_OK;
    const char *an = str_or_empty(ap->name);
    if (strcmp(an, "value") == 0 && ap->t) {
        st = tensor_from_proto(c, ap->t, &t);
    } else if (strcmp(an, "value_float") == 0 || strcmp(an, "value_int") == 0) {
        bool isf = an[6] == 'f';
        t = onn_tensor_new(isf ? ONNORM_FLOAT : ONNORM_INT64, 0, NULL, c->err);
        if (!t) return nomem(c);
        if (isf)
            *(float *)t->data = ap->f;
        else
            *(int64_t *)t->data = ap->i;
    } else if (strcmp(an, "value_floats") == 0 || strcmp(an, "value_ints") == 0) {
        bool isf = an[6] == 'f';
        int64_t n = (int64_t)(isf ? ap->n_floats : ap->n_ints);
        t = onn_tensor_new(isf ? ONNORM_FLOAT : ONNORM_INT64, 1, &n, c->err);
        if (!t) return nomem(c);
        if (n)
            memcpy(t->data, isf ? (void *)ap->floats : (void *)ap->ints, (size_t)n * (isf ? 4 : 8));
    } else {
        return onn_fail(c->err, ONNORM_ERR_UNSUPPORTED,
                        "%s: Constant node '%s': attribute '%s' is not supported", c->g->source,
                        nname, an);
    }
    if (st) return onn_prefix(c->err, st, "%s: Constant node '%s': ", c->g->source, nname);
    return add_constant(c, np->output[0], t);
}

/* Maps a list of edge names to value ids; "" (an omitted optional) is -1. */
static onnorm_status map_edges(load_ctx *c, char **names, size_t n, int **ids)
{
    *ids = malloc((n ? n : 1) * sizeof **ids);
    if (!*ids) return nomem(c);
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !names[i][0]) {
            (*ids)[i] = -1;
            continue;
        }
        int id = onn_graph_intern_value(c->g, names[i]);
        if (id < 0) return nomem(c);
        (*ids)[i] = id;
    }
    return ONNORM_OK;
}

static onnorm_status add_node(load_ctx *c, const Onnx__NodeProto *np)
{
    onn_graph *g = c->g;
    if (g->n_nodes >= c->max_nodes)
        return onn_fail(c->err, ONNORM_ERR_UNSUPPORTED,
                        "%s: the model has (or its functions expand to) more than %d nodes",
                        g->source, c->max_nodes);
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 16;
        onn_node *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn) return nomem(c);
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    onn_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->name = onn_strdup(np->name);
    n->op_type = onn_strdup(np->op_type);
    n->domain = onn_strdup(np->domain && strcmp(np->domain, "ai.onnx") ? np->domain : "");
    if (!n->name || !n->op_type || !n->domain) return nomem(c);
    if (!n->op_type[0])
        return onn_fail(c->err, ONNORM_ERR_INVALID, "%s: node %d ('%s') has no op_type", g->source,
                        g->n_nodes - 1, n->name);
    n->n_in = (int)np->n_input;
    n->n_out = (int)np->n_output;
    onnorm_status st = map_edges(c, np->input, np->n_input, &n->in);
    if (!st) st = map_edges(c, np->output, np->n_output, &n->out);
    if (st) return st;
    n->attrs = calloc(np->n_attribute ? np->n_attribute : 1, sizeof *n->attrs);
    if (!n->attrs) return nomem(c);
    for (size_t i = 0; i < np->n_attribute; i++) {
        n->n_attr++;
        st = copy_attr(c, np->attribute[i], &n->attrs[i]);
        if (!st && i + 1 == np->n_attribute) st = add_captured_inputs(c, n);
        if (st) {
            char lbl[256];
            return onn_prefix(c->err, st, "%s: %s: ", g->source,
                              onn_node_label(n, lbl, sizeof lbl));
        }
    }
    return ONNORM_OK;
}

static bool is_default_domain(const char *d)
{
    return !d || !d[0] || !strcmp(d, "ai.onnx");
}

static bool same_domain(const char *a, const char *b)
{
    return is_default_domain(a) ? is_default_domain(b) : (b && !strcmp(a, b));
}

static const Onnx__FunctionProto *find_function(const load_ctx *c, const Onnx__NodeProto *np)
{
    if (!np->op_type) return NULL;
    for (size_t i = 0; i < c->model->n_functions; i++) {
        const Onnx__FunctionProto *f = c->model->functions[i];
        if (f->name && !strcmp(f->name, np->op_type) &&
            same_domain(str_or_empty(f->domain), np->domain))
            return f;
    }
    return NULL;
}

static onnorm_status load_node(load_ctx *c, const Onnx__NodeProto *np, int depth);

/* Name of a function-body edge at the call site: formal inputs and outputs map
 * to the caller's edges, everything else gets a unique prefix. */
static char *inline_name(const Onnx__FunctionProto *f, const Onnx__NodeProto *call, int id,
                         const char *name)
{
    if (!name || !name[0]) return onn_strdup("");
    for (size_t i = 0; i < f->n_input; i++)
        if (!strcmp(f->input[i], name)) return onn_strdup(i < call->n_input ? call->input[i] : "");
    for (size_t i = 0; i < f->n_output; i++)
        if (!strcmp(f->output[i], name))
            return onn_strdup(i < call->n_output ? call->output[i] : "");
    size_t len = strlen(name) + 48;
    char *s = malloc(len);
    if (s) snprintf(s, len, "__onnorm_fn%d/%s", id, name);
    return s;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* Copies one body node with edges renamed and attribute references
 * (ref_attr_name) resolved against the calling node; a reference the caller
 * does not set is dropped, so the op's default applies. */
static onnorm_status inline_body_node(load_ctx *c, const Onnx__FunctionProto *f,
                                      const Onnx__NodeProto *call, const Onnx__NodeProto *bn,
                                      int id, int depth)
{
    Onnx__NodeProto copy = *bn;
    char **ins = calloc(bn->n_input + 1, sizeof *ins),
         **outs = calloc(bn->n_output + 1, sizeof *outs);
    Onnx__AttributeProto **attrs = calloc(bn->n_attribute + 1, sizeof *attrs);
    Onnx__AttributeProto *resolved = calloc(bn->n_attribute + 1, sizeof *resolved);
    onnorm_status st = ONNORM_OK;
    if (!ins || !outs || !attrs || !resolved) st = nomem(c);
    for (size_t k = 0; !st && k < bn->n_input; k++)
        if (!(ins[k] = inline_name(f, call, id, bn->input[k]))) st = nomem(c);
    for (size_t k = 0; !st && k < bn->n_output; k++)
        if (!(outs[k] = inline_name(f, call, id, bn->output[k]))) st = nomem(c);
    size_t na = 0;
    for (size_t k = 0; !st && k < bn->n_attribute; k++) {
        const Onnx__AttributeProto *a = bn->attribute[k];
        if (!a->ref_attr_name || !a->ref_attr_name[0]) {
            attrs[na++] = (Onnx__AttributeProto *)a;
            continue;
        }
        for (size_t q = 0; q < call->n_attribute; q++)
            if (call->attribute[q]->name && !strcmp(call->attribute[q]->name, a->ref_attr_name)) {
                resolved[na] = *call->attribute[q];
                resolved[na].name = a->name;
                attrs[na] = &resolved[na];
                na++;
                break;
            }
    }
    if (!st) {
        copy.input = ins;
        copy.output = outs;
        copy.attribute = attrs;
        copy.n_attribute = na;
        st = load_node(c, &copy, depth + 1);
    }
    free_names(ins, bn->n_input);
    free_names(outs, bn->n_output);
    free(attrs);
    free(resolved);
    return st;
}

static onnorm_status inline_function(load_ctx *c, const Onnx__FunctionProto *f,
                                     const Onnx__NodeProto *call, int depth)
{
    if (depth >= ONN_MAX_INLINE_DEPTH)
        return onn_fail(c->err, ONNORM_ERR_INVALID,
                        "%s: function '%s' nests deeper than %d calls (recursive?)", c->g->source,
                        f->name, ONN_MAX_INLINE_DEPTH);
    int id = c->inlined++;
    for (size_t i = 0; i < f->n_node; i++) {
        onnorm_status st = inline_body_node(c, f, call, f->node[i], id, depth);
        if (st) return st;
    }
    return ONNORM_OK;
}

/* One graph node: Constant becomes a constant value, a call of a
 * model-local function is inlined, anything else becomes an IR node. */
static onnorm_status load_node(load_ctx *c, const Onnx__NodeProto *np, int depth)
{
    if (is_default_domain(np->domain) && np->op_type && !strcmp(np->op_type, "Constant"))
        return fold_constant(c, np);
    const Onnx__FunctionProto *f = find_function(c, np);
    if (f) return inline_function(c, f, np, depth);
    return add_node(c, np);
}

static onnorm_status load_graph(load_ctx *c, const Onnx__GraphProto *gp)
{
    onn_graph *g = c->g;
    onnorm_status st;
    /* Initializers first, so inputs that have one are known to be optional. */
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !tp->name[0])
            return onn_fail(c->err, ONNORM_ERR_INVALID, "%s: initializer %zu has no name",
                            g->source, i);
        onnorm_tensor *t;
        st = tensor_from_proto(c, tp, &t);
        if (st) return onn_prefix(c->err, st, "%s: initializer: ", g->source);
        st = add_constant(c, tp->name, t);
        if (st) return st;
    }
    if (gp->n_sparse_initializer)
        return onn_fail(c->err, ONNORM_ERR_UNSUPPORTED, "%s: sparse initializers are not supported",
                        g->source);
    st = read_value_list(c, gp->input, gp->n_input, &g->inputs, &g->n_inputs, true);
    if (!st) st = read_value_list(c, gp->output, gp->n_output, &g->outputs, &g->n_outputs, false);
    if (st) return st;
    for (size_t i = 0; i < gp->n_value_info; i++) {
        if (!gp->value_info[i]->name || !gp->value_info[i]->name[0]) continue;
        int id = onn_graph_intern_value(g, gp->value_info[i]->name);
        if (id < 0) return nomem(c);
        if (!g->values[id].init && (st = read_type(c, &g->values[id], gp->value_info[i]->type)))
            return st;
    }
    g->feeds = calloc(g->n_inputs ? (size_t)g->n_inputs : 1, sizeof *g->feeds);
    if (!g->feeds) return nomem(c);
    for (int i = 0; i < g->n_inputs; i++)
        if (!g->values[g->inputs[i]].init) g->feeds[g->n_feeds++] = g->inputs[i];

    for (size_t i = 0; i < gp->n_node; i++)
        if ((st = load_node(c, gp->node[i], 0))) return st;
    return ONNORM_OK;
}

static onnorm_status load_opsets(load_ctx *c, const Onnx__ModelProto *mp)
{
    onn_graph *g = c->g;
    g->opsets = calloc(mp->n_opset_import ? mp->n_opset_import : 1, sizeof *g->opsets);
    if (!g->opsets) return nomem(c);
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *op = mp->opset_import[i];
        g->opsets[i].domain = onn_strdup(op->domain);
        if (!g->opsets[i].domain) return nomem(c);
        g->opsets[i].version = op->has_version ? op->version : 1;
        g->n_opsets++;
    }
    if (g->n_opsets == 0) {
        /* Models from before opset_import existed (IR version 1-2) mean ai.onnx opset 1. */
        g->opsets[0].domain = onn_strdup("");
        if (!g->opsets[0].domain) return nomem(c);
        g->opsets[0].version = 1;
        g->n_opsets = 1;
    }
    return ONNORM_OK;
}

/* Before IR version 4 every initializer had to be listed as a graph input,
 * so the listing says nothing about overriding; like ONNX Runtime, onnorm
 * then treats initializers as constants (which lets passes fold them). */
static onnorm_status constants_before_ir4(load_ctx *c)
{
    onn_graph *g = c->g;
    if (g->ir_version >= 4) return ONNORM_OK;
    int kept = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        onn_value *v = &g->values[g->inputs[i]];
        if (v->init)
            v->is_input = false;
        else
            g->inputs[kept++] = g->inputs[i];
    }
    g->n_inputs = kept;
    return ONNORM_OK;
}

/* The node budget for a file (see ONN_MAX_NODES). */
static int node_budget(const Onnx__ModelProto *mp)
{
    size_t written = mp->graph->n_node;
    for (size_t i = 0; i < mp->n_functions; i++)
        written += mp->functions[i]->n_node;
    size_t budget =
        written < ONN_MAX_NODES / ONN_EXPANSION ? written * ONN_EXPANSION : ONN_MAX_NODES;
    return budget < ONN_MIN_NODE_BUDGET ? ONN_MIN_NODE_BUDGET : (int)budget;
}

/* Packs the ModelProto without its nodes, initializers and functions: what
 * a writer needs to reproduce everything the IR does not hold. */
static onnorm_status keep_shell(load_ctx *c, Onnx__ModelProto *mp)
{
    Onnx__GraphProto *gp = mp->graph;
    size_t n_node = gp->n_node, n_init = gp->n_initializer, n_fn = mp->n_functions;
    gp->n_node = gp->n_initializer = mp->n_functions = 0;
    size_t len = onnx__model_proto__get_packed_size(mp);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) onnx__model_proto__pack(mp, buf);
    gp->n_node = n_node, gp->n_initializer = n_init, mp->n_functions = n_fn;
    if (!buf) return nomem(c);
    c->g->shell = buf;
    c->g->shell_len = len;
    return ONNORM_OK;
}

onnorm_status onn_load_model(const uint8_t *data, size_t size, const char *source,
                             const char *base_dir, onn_graph **out, onnorm_error *err)
{
    *out = NULL;
    onn_graph *g = calloc(1, sizeof *g);
    if (!g || !(g->source = onn_strdup(source ? source : "<buffer>"))) {
        free(g);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    load_ctx c = {g, err, NULL, base_dir, 0, 0, 0};
    onnorm_status st = ONNORM_OK;
    Onnx__ModelProto *mp = size ? onnx__model_proto__unpack(NULL, size, data) : NULL;
    if (!mp) {
        st = onn_fail(err, ONNORM_ERR_PARSE,
                      "%s: not an ONNX model (the file is empty, truncated or not protobuf)",
                      g->source);
    } else if (!mp->graph) {
        st = onn_fail(err, ONNORM_ERR_PARSE, "%s: not an ONNX model (no graph)", g->source);
    } else {
        c.model = mp;
        c.max_nodes = node_budget(mp);
        g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
        st = load_opsets(&c, mp);
        if (!st) st = load_graph(&c, mp->graph);
        if (!st) st = constants_before_ir4(&c);
        if (!st) st = keep_shell(&c, mp);
    }
    if (mp) onnx__model_proto__free_unpacked(mp, NULL);
    if (st) {
        onn_graph_free(g);
        return st;
    }
    *out = g;
    return ONNORM_OK;
}
