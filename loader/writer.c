/*
 * IR -> ModelProto bytes. The model's "shell" (its ModelProto without nodes
 * and initializers, kept at load) supplies everything the IR does not hold:
 * metadata, doc strings, producer, graph input and output declarations. The
 * writer fills in the IR's nodes and constants, the (possibly raised) opsets
 * and the value_info entries that still name a value, then packs.
 *
 * Everything the writer adds points into the IR (no tensor is copied) and
 * is detached again before the shell is freed.
 */
#include "loader/loader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The IR version that first allowed an ai.onnx opset (ONNX Versioning.md). */
static int64_t ir_for_opset(int64_t opset)
{
    if (opset <= 8) return 3;
    if (opset == 9) return 4;
    if (opset == 10) return 5;
    if (opset == 11) return 6;
    if (opset <= 14) return 7;
    if (opset <= 18) return 8;
    if (opset <= 20) return 9;
    if (opset <= 22) return 10;
    return 11;
}

typedef struct writer {
    Onnx__NodeProto *nodes;
    Onnx__NodeProto **node_ptrs;
    Onnx__AttributeProto *attrs;
    size_t n_attrs;
    Onnx__AttributeProto **attr_ptrs;
    Onnx__TensorProto *tensors;
    Onnx__TensorProto **tensor_ptrs;
    char **edge_names;     /* per node: inputs then outputs */
    struct ext_entry *ext; /* per initializer written externally */
} writer;

/* The external_data entries of one tensor written to the side file. */
typedef struct ext_entry {
    Onnx__StringStringEntryProto kv[3];
    Onnx__StringStringEntryProto *ptrs[3];
    char offset[24], length[24];
} ext_entry;

static void fill_tensor(Onnx__TensorProto *tp, const onnorm_tensor *t, char *name)
{
    onnx__tensor_proto__init(tp);
    tp->name = name;
    tp->n_dims = (size_t)t->rank;
    tp->dims = (int64_t *)t->dims;
    tp->has_data_type = 1;
    tp->data_type = (int32_t)t->dtype;
    tp->has_raw_data = 1;
    tp->raw_data.len = (size_t)onnorm_tensor_numel(t) * onnorm_dtype_size(t->dtype);
    tp->raw_data.data = t->data;
}

/* Attribute kinds the IR keeps (graph lists and sparse tensors it does not). */
static onnorm_status fill_attr(Onnx__AttributeProto *ap, Onnx__TensorProto *tensor_slot,
                               const onn_attr *a, onnorm_error *err)
{
    onnx__attribute_proto__init(ap);
    ap->name = a->name;
    ap->has_type = 1;
    ap->type = (Onnx__AttributeProto__AttributeType)a->type;
    switch (a->type) {
    case ONN_ATTR_FLOAT: ap->has_f = 1, ap->f = a->f; break;
    case ONN_ATTR_INT: ap->has_i = 1, ap->i = a->i; break;
    case ONN_ATTR_STRING: ap->has_s = 1, ap->s.len = a->s_len, ap->s.data = (uint8_t *)a->s; break;
    case ONN_ATTR_TENSOR:
        fill_tensor(tensor_slot, a->t, a->t->name ? a->t->name : (char *)"");
        ap->t = tensor_slot;
        break;
    case ONN_ATTR_FLOATS: ap->n_floats = a->n, ap->floats = a->floats; break;
    case ONN_ATTR_INTS: ap->n_ints = a->n, ap->ints = a->ints; break;
    case ONN_ATTR_GRAPH: /* the subgraph as the file had it (writer_free frees it) */
        ap->g = onnx__graph_proto__unpack(NULL, a->s_len, (const uint8_t *)a->s);
        if (!ap->g)
            return onn_fail(err, ONNORM_ERR_NOMEM, "attribute '%s': cannot rewrite its graph",
                            a->name);
        break;
    default:
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "attribute '%s' (type %d) cannot be written back", a->name, (int)a->type);
    }
    return ONNORM_OK;
}

static void writer_free(writer *w)
{
    for (size_t i = 0; w->attrs && i < w->n_attrs; i++)
        if (w->attrs[i].g) onnx__graph_proto__free_unpacked(w->attrs[i].g, NULL);
    free(w->nodes), free(w->node_ptrs), free(w->attrs), free(w->attr_ptrs);
    free(w->tensors), free(w->tensor_ptrs), free(w->edge_names), free(w->ext);
}

static onnorm_status build_nodes(const onn_graph *g, writer *w, onnorm_error *err)
{
    size_t n_attr = 0, n_edges = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        n_attr += (size_t)g->nodes[i].n_attr;
        n_edges += (size_t)(g->nodes[i].n_in + g->nodes[i].n_out);
    }
    w->nodes = calloc((size_t)g->n_nodes + 1, sizeof *w->nodes);
    w->node_ptrs = calloc((size_t)g->n_nodes + 1, sizeof *w->node_ptrs);
    w->attrs = calloc(n_attr + 1, sizeof *w->attrs);
    w->n_attrs = w->attrs ? n_attr : 0;
    w->attr_ptrs = calloc(n_attr + 1, sizeof *w->attr_ptrs);
    w->edge_names = calloc(n_edges + 1, sizeof *w->edge_names);
    /* Tensor attributes and initializers share one pool. */
    size_t n_tensors = n_attr + (size_t)g->n_values + 1;
    w->tensors = calloc(n_tensors, sizeof *w->tensors);
    w->tensor_ptrs = calloc(n_tensors, sizeof *w->tensor_ptrs);
    if (!w->nodes || !w->node_ptrs || !w->attrs || !w->attr_ptrs || !w->edge_names || !w->tensors ||
        !w->tensor_ptrs)
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory writing the model");
    size_t ai = 0, ei = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        Onnx__NodeProto *np = &w->nodes[i];
        onnx__node_proto__init(np);
        np->name = n->name, np->op_type = n->op_type, np->domain = n->domain;
        np->input = &w->edge_names[ei];
        np->n_input = (size_t)(n->n_in - n->n_implicit); /* captured values stay implicit */
        for (int k = 0; k < n->n_in - n->n_implicit; k++)
            w->edge_names[ei++] = n->in[k] >= 0 ? g->values[n->in[k]].name : (char *)"";
        np->output = &w->edge_names[ei];
        np->n_output = (size_t)n->n_out;
        for (int k = 0; k < n->n_out; k++)
            w->edge_names[ei++] = n->out[k] >= 0 ? g->values[n->out[k]].name : (char *)"";
        np->attribute = &w->attr_ptrs[ai];
        np->n_attribute = (size_t)n->n_attr;
        for (int k = 0; k < n->n_attr; k++, ai++) {
            onnorm_status st = fill_attr(&w->attrs[ai], &w->tensors[ai], &n->attrs[k], err);
            if (st) return st;
            w->attr_ptrs[ai] = &w->attrs[ai];
        }
        w->node_ptrs[i] = np;
    }
    return ONNORM_OK;
}

/* Moves tp's bytes to the side file: appended at the next 64-byte
 * boundary, the TensorProto then names location, offset and length. */
static onnorm_status write_external(Onnx__TensorProto *tp, ext_entry *e, onn_external_out *x,
                                    onnorm_error *err)
{
    static const char zeros[64] = {0};
    const int64_t pad = (64 - x->offset % 64) % 64;
    if ((pad && fwrite(zeros, 1, (size_t)pad, x->f) != (size_t)pad) ||
        fwrite(tp->raw_data.data, 1, tp->raw_data.len, x->f) != tp->raw_data.len)
        return onn_fail(err, ONNORM_ERR_IO, "cannot write external data file '%s'", x->location);
    x->offset += pad;
    snprintf(e->offset, sizeof e->offset, "%" PRId64, x->offset);
    snprintf(e->length, sizeof e->length, "%zu", tp->raw_data.len);
    x->offset += (int64_t)tp->raw_data.len;
    static const char *const keys[3] = {"location", "offset", "length"};
    const char *values[3] = {x->location, e->offset, e->length};
    for (int i = 0; i < 3; i++) {
        onnx__string_string_entry_proto__init(&e->kv[i]);
        e->kv[i].key = (char *)keys[i];
        e->kv[i].value = (char *)values[i];
        e->ptrs[i] = &e->kv[i];
    }
    tp->has_raw_data = 0;
    tp->raw_data.len = 0, tp->raw_data.data = NULL;
    tp->has_data_location = 1;
    tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    tp->n_external_data = 3;
    tp->external_data = e->ptrs;
    return ONNORM_OK;
}

/* Constants that something still reads (or that are graph inputs/outputs);
 * those of at least x->min_bytes go to the side file when x is given. */
static onnorm_status build_initializers(const onn_graph *g, writer *w, size_t first,
                                        onn_external_out *x, size_t *count, onnorm_error *err)
{
    *count = 0;
    if (x && !(w->ext = calloc((size_t)g->n_values + 1, sizeof *w->ext)))
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory writing the model");
    for (int v = 0; v < g->n_values; v++) {
        const onn_value *val = &g->values[v];
        if (!val->init) continue;
        Onnx__TensorProto *tp = &w->tensors[first + *count];
        fill_tensor(tp, val->init, val->name);
        if (x && tp->raw_data.len >= x->min_bytes) {
            onnorm_status st = write_external(tp, &w->ext[*count], x, err);
            if (st) return st;
        }
        w->tensor_ptrs[(*count)++] = tp;
    }
    return ONNORM_OK;
}

/* Imports of domains a pass added (FusedConv's com.microsoft), which the
 * file's shell does not list; the caller restores the shell's list. */
typedef struct added_opsets {
    Onnx__OperatorSetIdProto **all, *items;
} added_opsets;

static bool in_shell(const Onnx__ModelProto *mp, const char *domain)
{
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const char *d = mp->opset_import[i]->domain ? mp->opset_import[i]->domain : "";
        if (!strcmp(d, "ai.onnx")) d = "";
        if (!strcmp(d, !strcmp(domain, "ai.onnx") ? "" : domain)) return true;
    }
    return false;
}

static bool add_opsets(const onn_graph *g, Onnx__ModelProto *mp, added_opsets *a)
{
    size_t extra = 0, n = mp->n_opset_import;
    for (int i = 0; i < g->n_opsets; i++)
        extra += !in_shell(mp, g->opsets[i].domain);
    if (!extra) return true;
    a->all = malloc((n + extra) * sizeof *a->all);
    a->items = calloc(extra, sizeof *a->items);
    if (!a->all || !a->items) return false;
    memcpy(a->all, mp->opset_import, n * sizeof *a->all);
    size_t k = 0;
    for (int i = 0; i < g->n_opsets; i++) {
        if (in_shell(mp, g->opsets[i].domain)) continue;
        Onnx__OperatorSetIdProto *op = &a->items[k++];
        onnx__operator_set_id_proto__init(op);
        op->domain = g->opsets[i].domain;
        op->has_version = 1;
        op->version = g->opsets[i].version;
        a->all[n++] = op;
    }
    mp->opset_import = a->all;
    mp->n_opset_import = n;
    return true;
}

static void set_opsets(const onn_graph *g, Onnx__ModelProto *mp)
{
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        Onnx__OperatorSetIdProto *op = mp->opset_import[i];
        int64_t v = onn_graph_opset(g, op->domain ? op->domain : "");
        if (v > 0 && (!op->has_version || v > op->version)) {
            op->has_version = 1;
            op->version = v;
            if (!op->domain || !op->domain[0] || !strcmp(op->domain, "ai.onnx"))
                if (mp->ir_version < ir_for_opset(v))
                    mp->has_ir_version = 1, mp->ir_version = ir_for_opset(v);
        }
    }
}

/* Graph inputs that still mean something: a value a caller feeds, or (IR 3)
 * one backed by a constant that is still written. Moved to the front like
 * value_info below; returns the count. */
static size_t keep_inputs(const onn_graph *g, Onnx__GraphProto *gp)
{
    size_t kept = 0;
    for (size_t i = 0; i < gp->n_input; i++) {
        const char *name = gp->input[i]->name;
        int v = name ? onn_graph_find_value(g, name) : -1;
        if (v < 0 || (!g->values[v].is_input && !g->values[v].init)) continue;
        Onnx__ValueInfoProto *t = gp->input[kept];
        gp->input[kept++] = gp->input[i];
        gp->input[i] = t;
    }
    return kept;
}

/* True when a written initializer is not declared as a graph input, which
 * IR versions before 4 do not allow. */
static bool needs_ir4(const onn_graph *g, const Onnx__GraphProto *gp)
{
    for (int v = 0; v < g->n_values; v++) {
        if (!g->values[v].init) continue;
        bool listed = false;
        for (size_t i = 0; i < gp->n_input && !listed; i++)
            listed = gp->input[i]->name && !strcmp(gp->input[i]->name, g->values[v].name);
        if (!listed) return true;
    }
    return false;
}

/* Moves value_info entries that still name a node output to the front and
 * returns their count; the rest stay behind (and are freed with the shell). */
static size_t keep_value_info(const onn_graph *g, Onnx__GraphProto *gp)
{
    size_t kept = 0;
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const char *name = gp->value_info[i]->name;
        int v = name ? onn_graph_find_value(g, name) : -1;
        if (v < 0 || g->values[v].producer < 0) continue;
        Onnx__ValueInfoProto *t = gp->value_info[kept];
        gp->value_info[kept++] = gp->value_info[i];
        gp->value_info[i] = t;
    }
    return kept;
}

onnorm_status onn_graph_write(const onn_graph *g, onn_external_out *ext, uint8_t **out, size_t *len,
                              onnorm_error *err)
{
    *out = NULL;
    *len = 0;
    if (!g->shell)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: no model shell to write", g->source);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, g->shell_len, g->shell);
    if (!mp || !mp->graph) {
        if (mp) onnx__model_proto__free_unpacked(mp, NULL);
        return onn_fail(err, ONNORM_ERR_PARSE, "%s: cannot reread the model shell", g->source);
    }
    writer w = {0};
    added_opsets added = {0};
    Onnx__OperatorSetIdProto **shell_opsets = mp->opset_import;
    const size_t n_shell_opsets = mp->n_opset_import;
    onnorm_status st = build_nodes(g, &w, err);
    if (!st && !add_opsets(g, mp, &added))
        st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory writing the model");
    Onnx__GraphProto *gp = mp->graph;
    const size_t n_vi = gp->n_value_info, n_inputs = gp->n_input;
    if (!st) {
        size_t n_attr = 0;
        for (int i = 0; i < g->n_nodes; i++)
            n_attr += (size_t)g->nodes[i].n_attr;
        gp->node = w.node_ptrs, gp->n_node = (size_t)g->n_nodes;
        gp->initializer = w.tensor_ptrs;
        st = build_initializers(g, &w, n_attr, ext, &gp->n_initializer, err);
    }
    if (!st) {
        gp->n_value_info = keep_value_info(g, gp);
        gp->n_input = keep_inputs(g, gp);
        set_opsets(g, mp);
        if (mp->ir_version < 4 && needs_ir4(g, gp)) mp->has_ir_version = 1, mp->ir_version = 4;
        *len = onnx__model_proto__get_packed_size(mp);
        *out = malloc(*len ? *len : 1);
        if (*out)
            onnx__model_proto__pack(mp, *out);
        else
            st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory writing the model");
    }
    /* Detach what points into the IR before the shell is freed. */
    gp->node = NULL, gp->n_node = 0, gp->initializer = NULL, gp->n_initializer = 0;
    gp->n_value_info = n_vi;
    gp->n_input = n_inputs;
    mp->opset_import = shell_opsets;
    mp->n_opset_import = n_shell_opsets;
    free(added.all);
    free(added.items);
    onnx__model_proto__free_unpacked(mp, NULL);
    writer_free(&w);
    return st;
}
