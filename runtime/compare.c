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
 *   fails with a type error naming a node, every node of that op is marked
 *   (the same kernel fails the same way) and the copy is built again, at
 *   most once per op type. A marked Conv, Gemm or MatMul is computed by
 *   other ops in float64 when the model's opset is 13 or more and the
 *   shapes are known (see "Conv, Gemm and MatMul in float64" below); any
 *   other marked node has its float64 inputs cast to float32 and its
 *   outputs back to float64, and its row carries `fallback`. Unnamed nodes
 *   get names in the copies so that messages identify them.
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
#include "runtime/fold.h"

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

/* ---- Conv, Gemm and MatMul in float64 -------------------------------------
 * These kernels are float32 only. From opset 13 on, the float64 copy
 * computes them with ops that have float64 kernels instead: MatMul and
 * Gemm as an Einsum (which accumulates in double), Conv as a zero Pad and,
 * per kernel offset, a strided Slice of the input and an Einsum with that
 * offset's weights, summed with Adds (then the bias). A node that does not
 * fit (unknown ranks or spatial sizes, a weight that is not a constant, an
 * older opset) is cast around instead. */

typedef struct builder {
    onn_graph *g;
    const char *base; /* names of new values */
    onnorm_error *err;
    bool ok;
} builder;

static int b_value(builder *b)
{
    const int v = b->ok ? onn_graph_new_value(b->g, b->base) : -1;
    if (v < 0) b->ok = false;
    return v;
}

static int b_const(builder *b, onnorm_tensor *t)
{
    if (!t) {
        b->ok = false;
        return -1;
    }
    if (!b->ok) {
        onn_tensor_free(t);
        return -1;
    }
    const int v = onn_graph_new_constant(b->g, b->base, t);
    if (v < 0) b->ok = false;
    return v;
}

static int b_i64(builder *b, int n, const int64_t *vals)
{
    const int64_t d[1] = {n};
    onnorm_tensor *t = onn_tensor_new(ONNORM_INT64, 1, d, b->err);
    if (t) memcpy(t->data, vals, (size_t)n * sizeof *vals);
    return b_const(b, t);
}

static int b_scalar(builder *b, double x)
{
    onnorm_tensor *t = onn_tensor_new(ONNORM_DOUBLE, 0, NULL, b->err);
    if (t) *(double *)t->data = x;
    return b_const(b, t);
}

/* A node writing `out` (a new value when out < 0); returns its output. */
static int b_node(builder *b, const char *op, int n_in, const int *in, int out, onn_node **node)
{
    if (out < 0) out = b_value(b);
    if (!b->ok) return -1;
    onn_node *n = onn_graph_new_node(b->g, op, b->base, n_in, in, 1, &out);
    if (!n) b->ok = false;
    if (node) *node = n;
    return out;
}

static int b_einsum(builder *b, const char *eq, int x, int y, int out)
{
    onn_node *n;
    const int in[2] = {x, y};
    out = b_node(b, "Einsum", 2, in, out, &n);
    if (b->ok && !onn_node_set_string(n, "equation", eq)) b->ok = false;
    return out;
}

/* MatMul(A, B) -> Einsum; false when a rank is unknown. */
static bool double_matmul(builder *b, int a, int w, int out)
{
    const int ra = b->g->values[a].rank, rb = b->g->values[w].rank;
    if (ra < 1 || rb < 1) return false;
    const char *eq = ra >= 2 && rb >= 2 ? "...ij,...jk->...ik"
                     : ra >= 2          ? "...ij,j->...i"
                     : rb >= 2          ? "j,...jk->...k"
                                        : "j,j->";
    b_einsum(b, eq, a, w, out);
    return true;
}

/* Gemm: alpha * A' B' + beta * C. */
static bool double_gemm(builder *b, const onn_node *n, int out)
{
    int64_t ta = 0, tb = 0;
    float alpha = 1.0f, beta = 1.0f;
    if (!onn_attr_int(n, "transA", 0, &ta, NULL) || !onn_attr_int(n, "transB", 0, &tb, NULL) ||
        !onn_attr_float(n, "alpha", 1.0f, &alpha, NULL) ||
        !onn_attr_float(n, "beta", 1.0f, &beta, NULL))
        return false;
    const int a = n->in[0], w = n->in[1], c = n->n_in > 2 ? n->in[2] : -1;
    char eq[32];
    snprintf(eq, sizeof eq, "%s,%s->ik", ta ? "ji" : "ij", tb ? "kj" : "jk");
    const bool has_c = c >= 0 && beta != 0.0f;
    const bool scale = alpha != 1.0f;
    int y = b_einsum(b, eq, a, w, scale || has_c ? -1 : out);
    if (scale) {
        const int in[2] = {y, b_scalar(b, alpha)};
        y = b_node(b, "Mul", 2, in, has_c ? -1 : out, NULL);
    }
    if (has_c) {
        int cv = c;
        if (beta != 1.0f) {
            const int in[2] = {c, b_scalar(b, beta)};
            cv = b_node(b, "Mul", 2, in, -1, NULL);
        }
        const int in[2] = {y, cv};
        b_node(b, "Add", 2, in, out, NULL);
    }
    return true;
}

static bool ints_attr(const onn_node *n, const char *name, int count, int64_t dflt, int64_t *v)
{
    const onn_attr *a = onn_attr_find(n, name);
    for (int i = 0; i < count; i++)
        v[i] = dflt;
    if (!a) return true;
    if (a->type != ONN_ATTR_INTS || (int)a->n != count) return false;
    memcpy(v, a->ints, (size_t)count * sizeof *v);
    return true;
}

/* Conv(X, W, B) with W (and B) constants; see above. */
static bool double_conv(builder *b, const onn_node *n, int out)
{
    onn_graph *g = b->g;
    const int x = n->in[0];
    const onnorm_tensor *w = n->n_in > 1 ? onn_graph_const(g, n->in[1]) : NULL;
    const onnorm_tensor *bias = n->n_in > 2 && n->in[2] >= 0 ? onn_graph_const(g, n->in[2]) : NULL;
    if (!w || w->dtype != ONNORM_DOUBLE || (n->n_in > 2 && n->in[2] >= 0 && !bias)) return false;
    const onn_value *xv = &g->values[x];
    const int r = w->rank, nsp = r - 2;
    if (nsp < 1 || nsp > 3 || xv->rank != r || xv->dims[0] < 0) return false;
    int64_t group = 1, strides[3], dil[3], pads[6], tot = 1;
    if (!onn_attr_int(n, "group", 1, &group, NULL) || group < 1 ||
        !ints_attr(n, "strides", nsp, 1, strides) || !ints_attr(n, "dilations", nsp, 1, dil) ||
        !ints_attr(n, "pads", 2 * nsp, 0, pads))
        return false;
    const int64_t m = w->dims[0], cg = w->dims[1], c = cg * group;
    if (xv->dims[1] != c || m % group) return false;
    const onn_attr *ap = onn_attr_find(n, "auto_pad");
    const char *mode = ap && ap->type == ONN_ATTR_STRING ? ap->s : "NOTSET";
    int64_t in_sz[3], out_sz[3];
    for (int d = 0; d < nsp; d++) {
        in_sz[d] = xv->dims[2 + d];
        const int64_t k = w->dims[2 + d], span = (k - 1) * dil[d] + 1;
        if (in_sz[d] < 1 || strides[d] < 1 || dil[d] < 1) return false;
        if (!strcmp(mode, "SAME_UPPER") || !strcmp(mode, "SAME_LOWER")) {
            const int64_t o = (in_sz[d] + strides[d] - 1) / strides[d];
            int64_t p = (o - 1) * strides[d] + span - in_sz[d];
            if (p < 0) p = 0;
            const int64_t small = p / 2;
            pads[d] = !strcmp(mode, "SAME_UPPER") ? small : p - small;
            pads[nsp + d] = p - pads[d];
        } else if (!strcmp(mode, "VALID")) {
            pads[d] = pads[nsp + d] = 0;
        } else if (strcmp(mode, "NOTSET") && mode[0]) {
            return false;
        }
        const int64_t padded = in_sz[d] + pads[d] + pads[nsp + d];
        if (padded < span) return false;
        out_sz[d] = (padded - span) / strides[d] + 1;
        tot *= k;
    }
    if (tot > 4096) return false; /* one Slice + Einsum per offset */
    /* Zero padding. */
    int src = x;
    bool any = false;
    for (int d = 0; d < 2 * nsp; d++)
        any |= pads[d] != 0;
    if (any) {
        int64_t p[10] = {0};
        for (int d = 0; d < nsp; d++)
            p[2 + d] = pads[d], p[r + 2 + d] = pads[nsp + d];
        const int in[2] = {x, b_i64(b, 2 * r, p)};
        src = b_node(b, "Pad", 2, in, -1, NULL);
    }
    /* Groups: [N, G, C/G, spatial...]. */
    const int off = group > 1 ? 3 : 2;
    if (group > 1) {
        int64_t shape[6] = {0, group, cg};
        for (int d = 0; d < nsp; d++)
            shape[3 + d] = in_sz[d] + pads[d] + pads[nsp + d];
        const int in[2] = {src, b_i64(b, 3 + nsp, shape)};
        src = b_node(b, "Reshape", 2, in, -1, NULL);
    }
    static const char sp[] = "xyz";
    char eq[48];
    if (group > 1)
        snprintf(eq, sizeof eq, "ngc%.*s,gmc->ngm%.*s", nsp, sp, nsp, sp);
    else
        snprintf(eq, sizeof eq, "nc%.*s,mc->nm%.*s", nsp, sp, nsp, sp);
    const int64_t mg = m / group;
    const bool reshape_back = group > 1, add_bias = bias != NULL;
    const int64_t inner = onn_dims_numel(w->dims, 2, r);
    int acc = -1;
    for (int64_t k = 0; k < tot && b->ok; k++) {
        int64_t idx[3], rem = k;
        for (int d = nsp - 1; d >= 0; d--)
            idx[d] = rem % w->dims[2 + d], rem /= w->dims[2 + d];
        int64_t starts[3], ends[3], axes[3], steps[3];
        for (int d = 0; d < nsp; d++) {
            starts[d] = idx[d] * dil[d];
            ends[d] = starts[d] + (out_sz[d] - 1) * strides[d] + 1;
            axes[d] = off + d, steps[d] = strides[d];
        }
        const int sl_in[5] = {src, b_i64(b, nsp, starts), b_i64(b, nsp, ends), b_i64(b, nsp, axes),
                              b_i64(b, nsp, steps)};
        const int slice = b_node(b, "Slice", 5, sl_in, -1, NULL);
        /* This offset's weights: [G, M/G, C/G] (or [M, C]). */
        int64_t wd[3] = {group, mg, cg};
        onnorm_tensor *wk =
            group > 1 ? onn_tensor_new(ONNORM_DOUBLE, 3, wd, b->err)
                      : onn_tensor_new(ONNORM_DOUBLE, 2, (const int64_t[]){m, cg}, b->err);
        if (wk)
            for (int64_t o = 0; o < m; o++)
                for (int64_t j = 0; j < cg; j++)
                    ((double *)wk->data)[o * cg + j] =
                        ((const double *)w->data)[(o * cg + j) * inner + k];
        const int last = k == tot - 1 && !reshape_back && !add_bias;
        const int y = b_einsum(b, eq, slice, b_const(b, wk), last && tot == 1 ? out : -1);
        if (acc < 0) {
            acc = y;
        } else {
            const int in[2] = {acc, y};
            acc = b_node(b, "Add", 2, in, last ? out : -1, NULL);
        }
    }
    if (reshape_back) {
        int64_t shape[5] = {0, m};
        for (int d = 0; d < nsp; d++)
            shape[2 + d] = out_sz[d];
        const int in[2] = {acc, b_i64(b, 2 + nsp, shape)};
        acc = b_node(b, "Reshape", 2, in, add_bias ? -1 : out, NULL);
    }
    if (add_bias) {
        int64_t bd[4] = {m, 1, 1, 1};
        onnorm_tensor *bt = onn_tensor_new(ONNORM_DOUBLE, 1 + nsp, bd, b->err);
        if (bt) memcpy(bt->data, bias->data, (size_t)m * sizeof(double));
        const int in[2] = {acc, b_const(b, bt)};
        b_node(b, "Add", 2, in, out, NULL);
    }
    return true;
}

/* Node i of the widened g computed in float64 by other ops; false (g
 * unchanged but perhaps holding unused new values) when it does not fit,
 * ONNORM_ERR_NOMEM in *st when allocation failed. */
static bool widen_linear(onn_graph *g, int i, onnorm_status *st, onnorm_error *err)
{
    *st = ONNORM_OK;
    onn_node *n = &g->nodes[i];
    if (onn_graph_opset(g, "") < 13 || n->n_out != 1 || n->out[0] < 0 || n->n_in < 2) return false;
    if (!onn_node_is(n, "Conv") && !onn_node_is(n, "Gemm") && !onn_node_is(n, "MatMul"))
        return false;
    for (int k = 0; k < n->n_in; k++)
        if (n->in[k] >= 0 && g->values[n->in[k]].dtype != ONNORM_DOUBLE &&
            !(g->values[n->in[k]].init && g->values[n->in[k]].init->dtype == ONNORM_DOUBLE))
            return false;
    char base[300];
    snprintf(base, sizeof base, "%s_f64", n->name && n->name[0] ? n->name : n->op_type);
    builder b = {g, base, err, true};
    const int out = n->out[0], first = g->n_nodes;
    onn_node copy = *n; /* the node array may move while nodes are added */
    bool fits;
    if (onn_node_is(&copy, "MatMul"))
        fits = double_matmul(&b, copy.in[0], copy.in[1], out);
    else if (onn_node_is(&copy, "Gemm"))
        fits = double_gemm(&b, &copy, out);
    else
        fits = double_conv(&b, &copy, out);
    if (!b.ok || !fits) {
        /* Drop what was added. */
        for (int k = first; k < g->n_nodes; k++)
            onn_node_clear(&g->nodes[k]);
        if (!b.ok) *st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        return false;
    }
    onn_node_clear(&g->nodes[i]);
    return true;
}

/* A model over a copy of src: every node output a graph output; in
 * float64 when wide, with the nodes marked in fallback[] computed by other
 * ops or cast around (those set cast[i], which may be NULL). */
static onnorm_status make_model(const onn_graph *src, bool wide, const bool *fallback, bool *cast,
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
        /* Types and shapes of the intermediates (while still float32), for
         * the fallbacks to go by. */
        onn_infer_shapes(g, NULL, 0);
        if ((st = to_double(g, err))) goto fail;
        for (int i = 0; i < n0 && fallback; i++) {
            if (!fallback[i]) continue;
            if (widen_linear(g, i, &st, err)) continue;
            if (st || (st = cast_around(g, i, err))) goto fail;
            if (cast) cast[i] = true;
        }
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

/* The float64 run of src, with fallbacks found by retrying; cast[i] tells
 * which nodes ran in float32 in the end. */
static onnorm_status run_wide(const onn_graph *src, int threads, int n_inputs,
                              const onnorm_tensor *inputs, bool *fallback, bool *cast,
                              onnorm_model **model, onnorm_session **s, onnorm_error *err)
{
    for (int attempt = 0; attempt <= src->n_nodes; attempt++) {
        onnorm_model *m;
        memset(cast, 0, (size_t)src->n_nodes * sizeof *cast);
        onnorm_status st = make_model(src, true, fallback, cast, &m, err);
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
    bool *cast = calloc((size_t)(rg->n_nodes ? rg->n_nodes : 1), sizeof *cast);
    onnorm_status st = ONNORM_OK;
    if (!rep || !ve || !fallback || !cast ||
        !(rep->rows = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *rep->rows))) {
        st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = make_model(g, false, NULL, NULL, &narrow, err)) ||
        (st = run_model(narrow, opt.num_threads, false, n_inputs, inputs, &s32, err)))
        goto done;
    if ((st = run_wide(rg, opt.num_threads, n_inputs, inputs, fallback, cast, &wide, &s64, err)))
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
                    if (rg->nodes[j].out[k] == rv && cast[j]) row->fallback = 1;
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
    free(cast);
    if (st) {
        onnorm_compare_report_free(rep);
        return st;
    }
    *out = rep;
    return ONNORM_OK;
}
