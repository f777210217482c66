/*
 * Layer-by-layer accuracy (include/onnorm.h, onnorm_compare; the CLI's
 * `onnorm compare`).
 *
 * Two private copies of the graph run unoptimized with every node output
 * made a graph output: the model as it is, and a float64 evaluation of the
 * model (or of the reference model given in the options). Each node's
 * outputs are compared by value name.
 *
 * The float64 copy: float32 initializers, tensor attributes (ConstantOfShape
 * values), value types and graph inputs become float64; Cast / CastLike to
 * float32 become casts to float64; subgraphs (If, Loop, Scan bodies) are
 * converted the same way. Float32 inputs are widened exactly, so
 * both runs start from the same numbers and the comparison measures the
 * arithmetic only.
 *
 * Decisions where the issue is silent:
 * - Kernels without a float64 form (Conv, Gemm, MatMul, ConvTranspose in
 *   this build) cannot be found ahead of a run (most kernels check their
 *   types when they are prepared), so the float64 run is retried: when it
 *   fails with a type error naming a node, that node is marked, its
 *   float64 inputs are cast to float32 and its outputs back to float64, and
 *   the copy is built again (at most once per node). Such rows carry
 *   `fallback`. Unnamed nodes get names in the copies so that messages
 *   identify them. A node blamed this way marks every node of its op (the
 *   same kernel fails the same way), so there is one retry per op type.
 * - Relative error per element is |a - b| / max(|b|, 1e-3 * max|b|) (b the
 *   float64 value): plain |a - b| / |b| explodes on values near 0 that an
 *   absolute error of rounding size reaches. When b is all 0, it is |a - b|.
 * - Integer and bool outputs are compared as numbers (an ArgMax that
 *   differs shows); float16 / bfloat16 outputs and strings are not compared.
 * - The input error of a node is the largest max_rel of its inputs that
 *   nodes compute; graph inputs and constants are exact in both runs (0).
 *   ratio = max_rel / max(input_rel, 2^-24), so a node fed exact values is
 *   measured against float32 rounding.
 * - Load-time constant folding of m is whatever the caller chose; the CLI
 *   loads with folding off so every node of the file gets a row.
 */
#include "runtime/runtime.h"
#include "graph/edit.h"
#include "runtime/bind.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void onnorm_compare_options_init(onnorm_compare_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->flag_ratio = 100.0;
    o->flag_min_rel = 1e-4;
}

void onnorm_compare_report_free(onnorm_compare_report *r)
{
    if (!r) return;
    free(r->rows);
    free(r);
}

/* ---- building the copies ------------------------------------------------- */

static onnorm_tensor *widen(const onnorm_tensor *t, onnorm_error *err)
{
    onnorm_tensor *d = onn_tensor_new(ONNORM_DOUBLE, t->rank, t->dims, err);
    if (!d) return NULL;
    const int64_t n = onnorm_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        ((double *)d->data)[i] = ((const float *)t->data)[i];
    return d;
}

static bool add_output(onn_graph *g, int v)
{
    if (v < 0 || g->values[v].is_output) return true;
    int *o = realloc(g->outputs, (size_t)(g->n_outputs + 1) * sizeof *o);
    if (!o) return false;
    g->outputs = o;
    g->outputs[g->n_outputs++] = v;
    g->values[v].is_output = true;
    return true;
}

/* Names every unnamed node, so run errors identify it. */
static bool name_nodes(onn_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        onn_node *n = &g->nodes[i];
        if (n->name && n->name[0]) continue;
        char buf[64];
        snprintf(buf, sizeof buf, "onnorm_compare_%d", i);
        char *s = onn_strdup(buf);
        if (!s) return false;
        free(n->name);
        n->name = s;
    }
    return true;
}

/* The float64 form of g's float32 parts. The values' types are what the
 * loaded graph knows (declared, or carried by binding). */
static onnorm_status to_double(onn_graph *g, onnorm_error *err)
{
    for (int v = 0; v < g->n_values; v++) {
        onn_value *val = &g->values[v];
        if (val->init && val->init->dtype == ONNORM_FLOAT) {
            onnorm_tensor *d = widen(val->init, err);
            if (!d) return err ? err->code : ONNORM_ERR_NOMEM;
            d->name = val->init->name ? onn_strdup(val->init->name) : NULL;
            if (!val->init_borrowed) onn_tensor_free(val->init);
            val->init = d;
            val->init_borrowed = false;
        }
        if (val->dtype == ONNORM_FLOAT) val->dtype = ONNORM_DOUBLE;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        onn_node *n = &g->nodes[i];
        for (int a = 0; a < n->n_attr; a++) {
            onn_attr *at = &n->attrs[a];
            if (at->t && at->t->dtype == ONNORM_FLOAT) {
                onnorm_tensor *d = widen(at->t, err);
                if (!d) return err ? err->code : ONNORM_ERR_NOMEM;
                onn_tensor_free(at->t);
                at->t = d;
            }
            /* If / Loop / Scan bodies: the same conversion inside. */
            if (at->g) {
                onnorm_status st = to_double(at->g, err);
                if (st) return st;
            }
            if (onn_node_is(n, "Cast") && at->name && !strcmp(at->name, "to") &&
                at->type == ONN_ATTR_INT && at->i == ONNORM_FLOAT)
                at->i = ONNORM_DOUBLE;
        }
    }
    return ONNORM_OK;
}

/* Node i of g (fallback) reads float32 and writes float64 through Casts:
 * its inputs and outputs that are float64 in the widened graph, or of
 * unknown type, are cast (integer constants are left alone). */
static onnorm_status cast_around(onn_graph *g, int i, onnorm_error *err)
{
    onn_node *n = &g->nodes[i];
    const int n_in = n->n_in - n->n_implicit;
    for (int k = 0; k < n_in; k++) {
        const int v = g->nodes[i].in[k];
        if (v < 0) continue;
        const onnorm_dtype t = g->values[v].dtype;
        if (t != ONNORM_DOUBLE && t != ONNORM_UNDEFINED) continue;
        if (g->values[v].init && g->values[v].init->dtype != ONNORM_DOUBLE) continue;
        const int c = onn_graph_new_value(g, g->values[v].name);
        if (c < 0) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        onn_node *cast = onn_graph_new_node(g, "Cast", g->values[c].name, 1, &v, 1, &c);
        if (!cast || !onn_node_set_int(cast, "to", ONNORM_FLOAT))
            return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        cast->opset = 13;
        g->nodes[i].in[k] = c;
    }
    for (int k = 0; k < g->nodes[i].n_out; k++) {
        const int v = g->nodes[i].out[k];
        if (v < 0 ||
            (g->values[v].dtype != ONNORM_DOUBLE && g->values[v].dtype != ONNORM_UNDEFINED))
            continue;
        const int c = onn_graph_new_value(g, g->values[v].name);
        if (c < 0) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        onn_node *cast = onn_graph_new_node(g, "Cast", g->values[c].name, 1, &c, 1, &v);
        if (!cast || !onn_node_set_int(cast, "to", ONNORM_DOUBLE))
            return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        cast->opset = 13;
        g->values[c].dtype = ONNORM_FLOAT;
        g->nodes[i].out[k] = c;
    }
    return ONNORM_OK;
}

/* A model over a copy of src: every node output a graph output; in
 * float64 when wide, with the nodes marked in fallback[] cast around. */
static onnorm_status make_model(const onn_graph *src, bool wide, const bool *fallback,
                                onnorm_model **out, onnorm_error *err)
{
    *out = NULL;
    onnorm_model *m = calloc(1, sizeof *m);
    onnorm_status st = ONNORM_OK;
    if (!m) {
        st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!(m->g = onn_graph_clone(src, err))) {
        st = err && err->code ? err->code : ONNORM_ERR_NOMEM;
        goto fail;
    }
    onn_graph *g = m->g;
    const int n0 = g->n_nodes;
    for (int i = 0; i < n0; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (!add_output(g, g->nodes[i].out[k])) {
                st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
                goto fail;
            }
    if (!name_nodes(g)) {
        st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (wide) {
        if ((st = to_double(g, err))) goto fail;
        for (int i = 0; i < n0 && fallback; i++)
            if (fallback[i] && (st = cast_around(g, i, err))) goto fail;
        if (g->n_nodes != n0 && (st = onn_graph_rebuild(g, err))) goto fail;
    }
    if ((st = onn_bind_graph(g, false, &m->kernels, NULL, err))) goto fail;
    *out = m;
    return ONNORM_OK;
fail:
    onnorm_model_free(m);
    return st;
}

/* ---- running -------------------------------------------------------------- */

static onnorm_status run_model(const onnorm_model *m, int threads, bool wide, int n_inputs,
                               const onnorm_tensor *inputs, onnorm_session **out, onnorm_error *err)
{
    *out = NULL;
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads, o.optimization_level = 0;
    onnorm_session *s;
    onnorm_status st = onnorm_session_create(m, &o, &s, err);
    if (st) return st;
    onnorm_tensor **wides = calloc((size_t)(n_inputs ? n_inputs : 1), sizeof *wides);
    if (!wides) st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n_inputs && !st; i++) {
        const onnorm_tensor *t = &inputs[i];
        if (!t->name) {
            st = onn_fail(err, ONNORM_ERR_INVALID, "onnorm_compare: input %d has no name", i);
            break;
        }
        if (wide && t->dtype == ONNORM_FLOAT && !(t = wides[i] = widen(t, err))) {
            st = err ? err->code : ONNORM_ERR_NOMEM;
            break;
        }
        st = onnorm_session_bind_input(s, inputs[i].name, t->dtype, t->dims, t->rank, t->data, err);
    }
    if (!st) st = onnorm_session_run(s, err);
    for (int i = 0; wides && i < n_inputs; i++)
        onn_tensor_free(wides[i]);
    free(wides);
    if (st) {
        onnorm_session_free(s);
        return st;
    }
    *out = s;
    return ONNORM_OK;
}

/* The node of g (index < n0, not yet marked) that err's message names. */
static int blamed_node(const onn_graph *g, int n0, const bool *marked, const char *msg)
{
    char lbl[300];
    for (int i = 0; i < n0 && i < g->n_nodes; i++) {
        if (marked[i]) continue;
        const onn_node *n = &g->nodes[i];
        snprintf(lbl, sizeof lbl, "node '%s' (%s)", n->name && n->name[0] ? n->name : "",
                 n->op_type);
        if (n->name && n->name[0] && strstr(msg, lbl)) return i;
        char named[64];
        snprintf(named, sizeof named, "node 'onnorm_compare_%d' (%s)", i, n->op_type);
        if (strstr(msg, named)) return i;
    }
    return -1;
}

/* The float64 run of src, with fallbacks found by retrying. */
static onnorm_status run_wide(const onn_graph *src, int threads, int n_inputs,
                              const onnorm_tensor *inputs, bool *fallback, onnorm_model **model,
                              onnorm_session **s, onnorm_error *err)
{
    for (int attempt = 0; attempt <= src->n_nodes; attempt++) {
        onnorm_model *m;
        onnorm_status st = make_model(src, true, fallback, &m, err);
        if (!st) st = run_model(m, threads, true, n_inputs, inputs, s, err);
        if (!st) {
            *model = m;
            return ONNORM_OK;
        }
        onnorm_model_free(m);
        const int i = err ? blamed_node(src, src->n_nodes, fallback, err->message) : -1;
        if ((st != ONNORM_ERR_DTYPE && st != ONNORM_ERR_UNSUPPORTED) || i < 0)
            return onn_prefix(err, st,
                              "the float64 evaluation failed (give a float64 model with "
                              "--reference / options.reference to compare against): ");
        /* The same kernel fails the same way: mark every node of that op. */
        for (int j = 0; j < src->n_nodes; j++)
            if (!strcmp(src->nodes[j].op_type, src->nodes[i].op_type) &&
                !strcmp(src->nodes[j].domain, src->nodes[i].domain))
                fallback[j] = true;
    }
    return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "the float64 evaluation does not converge");
}

/* ---- comparing ------------------------------------------------------------ */

static bool readable(onnorm_dtype t)
{
    return t == ONNORM_FLOAT || t == ONNORM_DOUBLE || t == ONNORM_INT64 || t == ONNORM_INT32 ||
           t == ONNORM_INT8 || t == ONNORM_UINT8 || t == ONNORM_BOOL;
}

static double elem(const onnorm_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case ONNORM_FLOAT: return ((const float *)t->data)[i];
    case ONNORM_DOUBLE: return ((const double *)t->data)[i];
    case ONNORM_INT64: return (double)((const int64_t *)t->data)[i];
    case ONNORM_INT32: return ((const int32_t *)t->data)[i];
    case ONNORM_INT8: return ((const int8_t *)t->data)[i];
    case ONNORM_UINT8:
    case ONNORM_BOOL: return ((const uint8_t *)t->data)[i];
    default: return NAN;
    }
}

typedef struct value_err {
    bool done;
    double abs, rel;
    int64_t nonfinite;
} value_err;

/* a (float32 run) against b (float64 run); false when not comparable. */
static bool compare_tensors(const onnorm_tensor *a, const onnorm_tensor *b, value_err *e)
{
    if (!readable(a->dtype) || !readable(b->dtype) || a->rank != b->rank) return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return false;
    const int64_t n = onnorm_tensor_numel(a);
    double big = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double y = fabs(elem(b, i));
        if (isfinite(y) && y > big) big = y;
    }
    const double floor = big > 0.0 ? 1e-3 * big : 1.0;
    memset(e, 0, sizeof *e);
    e->done = true;
    for (int64_t i = 0; i < n; i++) {
        const double x = elem(a, i), y = elem(b, i);
        if (!isfinite(x) || !isfinite(y)) {
            if (!(x == y || (isnan(x) && isnan(y)))) e->nonfinite++;
            continue;
        }
        const double d = fabs(x - y), r = d / fmax(fabs(y), floor);
        if (d > e->abs) e->abs = d;
        if (r > e->rel) e->rel = r;
    }
    return true;
}

onnorm_status onnorm_compare(const onnorm_model *m, const onnorm_compare_options *o, int n_inputs,
                             const onnorm_tensor *inputs, onnorm_compare_report **out,
                             onnorm_error *err)
{
    if (!m || !out || (n_inputs && !inputs) || n_inputs < 0)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_compare: invalid arguments");
    *out = NULL;
    onnorm_compare_options opt;
    onnorm_compare_options_init(&opt);
    if (o) opt = *o;
    const onnorm_model *ref = opt.reference ? opt.reference : m;
    if (m->unsupported || ref->unsupported)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "%s: a model with unsupported nodes cannot be compared",
                        (m->unsupported ? m : ref)->g->source);
    const onn_graph *g = m->g, *rg = ref->g;
    onnorm_model *narrow = NULL, *wide = NULL;
    onnorm_session *s32 = NULL, *s64 = NULL;
    onnorm_compare_report *rep = calloc(1, sizeof *rep);
    value_err *ve = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *ve);
    bool *fallback = calloc((size_t)(rg->n_nodes ? rg->n_nodes : 1), sizeof *fallback);
    onnorm_status st = ONNORM_OK;
    if (!rep || !ve || !fallback ||
        !(rep->rows = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *rep->rows))) {
        st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = make_model(g, false, NULL, &narrow, err)) ||
        (st = run_model(narrow, opt.num_threads, false, n_inputs, inputs, &s32, err)))
        goto done;
    if ((st = run_wide(rg, opt.num_threads, n_inputs, inputs, fallback, &wide, &s64, err)))
        goto done;
    rep->n = g->n_nodes;
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        onnorm_compare_row *row = &rep->rows[i];
        row->name = n->name ? n->name : "";
        row->op_type = n->op_type;
        for (int k = 0; k < n->n_out; k++) {
            const int v = n->out[k];
            if (v < 0) continue;
            const char *name = g->values[v].name;
            onnorm_tensor a, b;
            onnorm_error e2 = {0};
            if (onnorm_session_output(s32, name, &a, &e2) ||
                onnorm_session_output(s64, name, &b, &e2) || !compare_tensors(&a, &b, &ve[v])) {
                row->missing++;
                continue;
            }
            row->compared++;
            row->nonfinite += ve[v].nonfinite;
            if (ve[v].abs > row->max_abs) row->max_abs = ve[v].abs;
            if (!row->output || ve[v].rel > row->max_rel)
                row->max_rel = ve[v].rel, row->output = name;
        }
        const int nin = n->n_in;
        for (int k = 0; k < nin; k++) {
            const int v = n->in[k];
            if (v >= 0 && ve[v].done && ve[v].rel > row->input_rel) row->input_rel = ve[v].rel;
        }
        row->ratio = row->max_rel / fmax(row->input_rel, 0x1p-24);
        row->flagged =
            row->compared && row->ratio >= opt.flag_ratio && row->max_rel >= opt.flag_min_rel;
        /* The reference node writing this node's first output ran in float32? */
        if (n->n_out > 0 && n->out[0] >= 0) {
            const int rv = onn_graph_find_value(rg, g->values[n->out[0]].name);
            for (int j = 0; rv >= 0 && j < rg->n_nodes; j++)
                for (int k = 0; k < rg->nodes[j].n_out; k++)
                    if (rg->nodes[j].out[k] == rv && fallback[j]) row->fallback = 1;
        }
        rep->fallbacks += row->fallback;
    }
done:
    onnorm_session_free(s32);
    onnorm_session_free(s64);
    onnorm_model_free(narrow);
    onnorm_model_free(wide);
    free(ve);
    free(fallback);
    if (st) {
        onnorm_compare_report_free(rep);
        return st;
    }
    *out = rep;
    return ONNORM_OK;
}
