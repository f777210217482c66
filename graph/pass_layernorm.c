/*
 * Recognizers for decomposed normalizations, as PyTorch and other exporters
 * write them when the target opset has no fused operator:
 *
 *   layernorm:  mu = ReduceMean(X, trailing axes, keepdims=1)
 *               D  = Sub(X, mu)
 *               v  = ReduceMean([Cast] Pow(D, 2) | Mul(D, D) [Cast], same axes)
 *               N  = Div(D, Sqrt(Add(v, eps)))  |  Mul(D, Reciprocal(Sqrt(...)))
 *               Y  = [Add([Mul(N, gamma)], beta)]
 *            -> LayerNormalization(X, gamma or ones, [beta]), opset 17
 *
 *   rmsnorm:    ms = ReduceMean([Cast] Pow(X, 2) | Mul(X, X) [Cast], trailing axes)
 *               N  = Div(X, Sqrt(Add(ms, eps)))  |  Mul(X, Reciprocal(Sqrt(...)))
 *               Y  = [Mul(N, scale)]
 *            -> RMSNormalization(X, scale or ones), opset 23
 *
 * A pattern is rewritten only when every node but the last has no reader
 * outside the pattern and is no graph output, the reduced axes are the
 * trailing ones (which needs X's rank), eps is a constant float scalar and
 * the affine constants broadcast to the normalized shape X.shape[axis:]
 * (which needs those dims). Candidates that fail a check are reported.
 *
 * Each pass first collects every match, then raises the model's opset once
 * for all of them (when no other node would change kernel), then rewrites.
 * Collecting first matters for RMSNormalization: a ReduceMean inside a
 * matched pattern changes kernel at opset 18 but disappears with the rewrite,
 * so it must not block the raise while a ReduceMean outside one must.
 */
#include "graph/edit.h"
#include "graph/passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LN_MAX_NODES 12
#define LN_WHY 256

/* X's rank and dims as the shape inference before the pass left them (dims may be -1). */
static bool shape_of(const onn_graph *g, int v, int *rank, int64_t *dims)
{
    if (g->values[v].rank < 0) return false;
    *rank = g->values[v].rank;
    memcpy(dims, g->values[v].dims, sizeof g->values[v].dims);
    return true;
}

/* ---- graph queries ------------------------------------------------------- */

/* The one node reading v when v is read by exactly one node and is no graph
 * output, else -1: the condition for an intermediate to be absorbed. */
static int sole_reader(const onn_graph *g, int v)
{
    int node;
    if (v < 0 || g->values[v].is_output || onn_graph_consumers(g, v, &node, 1) != 1) return -1;
    return node;
}

/* The other input of a two-input node one of whose inputs is v, or -2. */
static int other_input(const onn_node *n, int v)
{
    if (n->n_in != 2) return -2;
    if (n->in[0] == v) return n->in[1];
    if (n->in[1] == v) return n->in[0];
    return -2;
}

/* A numeric constant of one element, as a double. */
static bool scalar_value(const onnorm_tensor *t, double *out)
{
    if (!t || onnorm_tensor_numel(t) != 1) return false;
    switch (t->dtype) {
    case ONNORM_FLOAT: *out = *(const float *)t->data; return true;
    case ONNORM_DOUBLE: *out = *(const double *)t->data; return true;
    case ONNORM_INT32: *out = *(const int32_t *)t->data; return true;
    case ONNORM_INT64: *out = (double)*(const int64_t *)t->data; return true;
    default: return false;
    }
}

/* Cast's target type (opset 6+ form); UNDEFINED when not readable. */
static onnorm_dtype cast_to(const onn_node *n)
{
    int64_t to;
    if (n->opset < 6 || !onn_attr_int(n, "to", 0, &to, NULL)) return ONNORM_UNDEFINED;
    return (onnorm_dtype)to;
}

/* ---- pattern pieces ------------------------------------------------------ */

/* What a match rewrites, by node and value index: onn_graph_new_node() and
 * onn_graph_new_constant() may move the arrays. */
typedef struct ln_match {
    int anchor; /* the ReduceMean that names the match in notes */
    int nodes[LN_MAX_NODES];
    int n_nodes;
    int x, out;                    /* normalized input, value the last matched node produced */
    int eps_v, exp_v, gamma, beta; /* constants; exp_v, gamma, beta -1 when absent */
    int mean_nodes[2];             /* ReduceMean nodes whose axes must agree (-1: none) */
    int axis;                      /* negative */
    int rank;
    int64_t nd[ONNORM_MAX_RANK]; /* normalized shape X.shape[axis:] */
    int nrank;
    float eps;
} ln_match;

static void add_node(ln_match *m, int i)
{
    if (i >= 0 && m->n_nodes < LN_MAX_NODES) m->nodes[m->n_nodes++] = i;
}

/*
 * [Cast] -> Pow(., 2) | Mul(a, a) -> [Cast], starting at node `first` which
 * reads `base`. Casts are taken only to float or double and the squares must
 * reach the ReduceMean as float, so the chain is at least as exact as the
 * float32 kernel's double accumulation. Sets *out to the squares' value.
 */
static bool match_square(const onn_graph *g, ln_match *m, int first, int base, int *out, char *why,
                         size_t len)
{
    const onn_node *n = &g->nodes[first];
    int a = base;
    onnorm_dtype in_type = ONNORM_FLOAT;
    if (onn_node_is(n, "Cast")) {
        in_type = cast_to(n);
        if (in_type != ONNORM_FLOAT && in_type != ONNORM_DOUBLE) {
            snprintf(why, len, "the value squared is cast to %s, not float or double",
                     onnorm_dtype_name(in_type));
            return false;
        }
        add_node(m, first);
        a = n->out[0];
        int next = sole_reader(g, a);
        if (next < 0) {
            snprintf(why, len, "the cast '%s' has other readers or is a graph output",
                     g->values[a].name);
            return false;
        }
        n = &g->nodes[next], first = next;
    }
    double e;
    if (onn_node_is(n, "Pow") && n->n_in == 2 && n->in[0] == a) {
        if (!scalar_value(onn_graph_const(g, n->in[1]), &e)) {
            snprintf(why, len, "the exponent of %s is not a constant scalar", n->name);
            return false;
        }
        if (e != 2.0) {
            snprintf(why, len, "the exponent is %g, not 2", e);
            return false;
        }
        m->exp_v = n->in[1];
    } else if (!(onn_node_is(n, "Mul") && n->n_in == 2 && n->in[0] == a && n->in[1] == a)) {
        snprintf(why, len, "'%s' is not squared by Pow(., 2) or Mul(x, x)", g->values[a].name);
        return false;
    }
    add_node(m, first);
    int sq = n->out[0], next = sole_reader(g, sq);
    onnorm_dtype sq_type = in_type;
    if (next >= 0 && onn_node_is(&g->nodes[next], "Cast")) {
        sq_type = cast_to(&g->nodes[next]);
        add_node(m, next);
        sq = g->nodes[next].out[0];
    }
    if (sq_type != ONNORM_FLOAT) {
        snprintf(why, len, "the squares reach the ReduceMean as %s, not float",
                 onnorm_dtype_name(sq_type));
        return false;
    }
    *out = sq;
    return true;
}

/*
 * ReduceMean r -> Add(., eps) -> Sqrt -> Div(num, .) | Reciprocal -> Mul(num, .).
 * Sets m->out to the normalized value.
 */
static bool match_tail(const onn_graph *g, ln_match *m, int r, int num, char *why, size_t len)
{
    const onn_node *n;
    int v = g->nodes[r].out[0], i = sole_reader(g, v);
    if (i < 0 || !onn_node_is(n = &g->nodes[i], "Add") || (m->eps_v = other_input(n, v)) < 0) {
        snprintf(why, len, "the mean of squares '%s' does not feed only an Add of epsilon",
                 g->values[v].name);
        return false;
    }
    add_node(m, i);
    v = n->out[0];
    if ((i = sole_reader(g, v)) < 0 || !onn_node_is(n = &g->nodes[i], "Sqrt")) {
        snprintf(why, len, "'%s' does not feed only a Sqrt", g->values[v].name);
        return false;
    }
    add_node(m, i);
    v = n->out[0];
    if ((i = sole_reader(g, v)) >= 0 && onn_node_is(&g->nodes[i], "Reciprocal")) {
        add_node(m, i);
        v = g->nodes[i].out[0];
        if ((i = sole_reader(g, v)) < 0 || !onn_node_is(n = &g->nodes[i], "Mul") ||
            other_input(n, v) != num) {
            snprintf(why, len, "the reciprocal '%s' does not feed only a Mul with '%s'",
                     g->values[v].name, g->values[num].name);
            return false;
        }
    } else if (i < 0 || !onn_node_is(n = &g->nodes[i], "Div") || n->n_in != 2 || n->in[0] != num ||
               n->in[1] != v) {
        snprintf(why, len, "the root '%s' does not feed only a Div of '%s' by it",
                 g->values[v].name, g->values[num].name);
        return false;
    }
    add_node(m, i);
    m->out = n->out[0];
    return true;
}

/* A constant operand of `op` reading m->out alone, extending the match. */
static bool take_affine(const onn_graph *g, ln_match *m, const char *op, int *param)
{
    int i = sole_reader(g, m->out), c;
    if (i < 0 || !onn_node_is(&g->nodes[i], op) || (c = other_input(&g->nodes[i], m->out)) < 0 ||
        c == m->out || !onn_graph_const(g, c))
        return false;
    *param = c;
    add_node(m, i);
    m->out = g->nodes[i].out[0];
    return true;
}

/* ---- checks ---------------------------------------------------------------- */

/* The axes ReduceMean n reduces, resolved against rank r into set[]. */
static bool mean_axes(const onn_graph *g, const onn_node *n, int r, bool *set, char *why,
                      size_t len)
{
    int64_t keep, noop = 0, cnt = -1;
    const int64_t *axes = NULL;
    if (!onn_attr_int(n, "keepdims", 1, &keep, NULL) || keep != 1) {
        snprintf(why, len, "%s does not keep the reduced dims (keepdims != 1)", n->name);
        return false;
    }
    if (n->opset >= 18) { /* axes became an input in ReduceMean-18 */
        if (n->n_in > 1 && n->in[1] >= 0) {
            const onnorm_tensor *t = onn_graph_const(g, n->in[1]);
            if (!t || t->dtype != ONNORM_INT64 || t->rank > 1) {
                snprintf(why, len, "the axes of %s are not a constant 1-D int64 tensor", n->name);
                return false;
            }
            axes = t->data, cnt = onnorm_tensor_numel(t);
        }
        if (cnt <= 0 && (!onn_attr_int(n, "noop_with_empty_axes", 0, &noop, NULL) || noop)) {
            snprintf(why, len, "%s reduces nothing (noop_with_empty_axes)", n->name);
            return false;
        }
    } else {
        const onn_attr *a = onn_attr_find(n, "axes");
        if (a && a->type != ONN_ATTR_INTS) {
            snprintf(why, len, "the axes attribute of %s is not a list of ints", n->name);
            return false;
        }
        if (a) axes = a->ints, cnt = (int64_t)a->n;
    }
    for (int d = 0; d < r; d++)
        set[d] = cnt <= 0; /* no axes: every dim */
    for (int64_t k = 0; k < cnt; k++) {
        int d;
        if (!onn_normalize_axis(axes[k], r, &d) || set[d]) {
            snprintf(why, len, "%s has axis %lld out of range or repeated for rank %d", n->name,
                     (long long)axes[k], r);
            return false;
        }
        set[d] = true;
    }
    return true;
}

static void axes_str(const bool *set, int r, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < r && used < len; d++)
        if (set[d])
            used += (size_t)snprintf(buf + used, len - used, "%s%d", used > 1 ? "," : "", d);
    if (used < len) snprintf(buf + used, len - used, "]");
}

/* Both ReduceMeans reduce the same trailing axes of X: sets axis, rank, nd. */
static bool check_axes(const onn_graph *g, ln_match *m, char *why, size_t len)
{
    int64_t dims[ONNORM_MAX_RANK];
    bool set[2][ONNORM_MAX_RANK];
    char a0[64], a1[64];
    if (!shape_of(g, m->x, &m->rank, dims) || m->rank < 1) {
        snprintf(why, len, "the rank of '%s' is unknown, so the axes cannot be shown trailing",
                 g->values[m->x].name);
        return false;
    }
    for (int k = 0; k < 2; k++)
        if (m->mean_nodes[k] >= 0 &&
            !mean_axes(g, &g->nodes[m->mean_nodes[k]], m->rank, set[k], why, len))
            return false;
    axes_str(set[0], m->rank, a0, sizeof a0);
    if (m->mean_nodes[1] >= 0 && memcmp(set[0], set[1], (size_t)m->rank * sizeof(bool))) {
        axes_str(set[1], m->rank, a1, sizeof a1);
        snprintf(why, len, "the mean reduces axes %s but the variance axes %s", a0, a1);
        return false;
    }
    int first = m->rank;
    while (first > 0 && set[0][first - 1])
        first--;
    for (int d = 0; d < first; d++)
        if (set[0][d]) {
            snprintf(why, len, "axes %s of a rank-%d input are not the trailing ones", a0, m->rank);
            return false;
        }
    m->axis = first - m->rank;
    m->nrank = m->rank - first;
    memcpy(m->nd, dims + first, (size_t)m->nrank * sizeof(int64_t));
    return true;
}

/* p broadcasts to the normalized shape without changing X's shape: aligned
 * from the right, each dim is 1 or equal, and dims beyond the normalized
 * rank (still within X's rank) are 1. */
static bool fits_normalized(const onnorm_tensor *p, const ln_match *m)
{
    if (p->rank > m->rank) return false;
    for (int i = 1; i <= p->rank; i++) {
        int64_t pd = p->dims[p->rank - i];
        int64_t nd = i <= m->nrank ? m->nd[m->nrank - i] : 1;
        if (pd != 1 && pd != nd) return false;
    }
    return true;
}

static bool check_param(const onn_graph *g, const ln_match *m, int v, const char *what, char *why,
                        size_t len)
{
    const onnorm_tensor *p = onn_graph_const(g, v);
    char ps[128], ns[128];
    if (p->dtype != ONNORM_FLOAT) {
        snprintf(why, len, "%s '%s' is %s, not float", what, g->values[v].name,
                 onnorm_dtype_name(p->dtype));
        return false;
    }
    if (!fits_normalized(p, m)) {
        snprintf(why, len, "%s '%s' of shape %s does not broadcast to the normalized shape %s",
                 what, g->values[v].name, onn_shape_str(p->dims, p->rank, ps, sizeof ps),
                 onn_shape_str(m->nd, m->nrank, ns, sizeof ns));
        return false;
    }
    return true;
}

/* Everything but the structure: types, eps, axes, shapes of the parameters. */
static bool check_match(const onn_graph *g, ln_match *m, char *why, size_t len)
{
    const onnorm_tensor *e = onn_graph_const(g, m->eps_v);
    double eps;
    /* Add, Sqrt and Div take one type, so a float eps makes the whole chain
     * (and X) float even where shape inference knows nothing. */
    if (!e || e->dtype != ONNORM_FLOAT || !scalar_value(e, &eps)) {
        snprintf(why, len, "epsilon '%s' is not a constant float scalar", g->values[m->eps_v].name);
        return false;
    }
    m->eps = (float)eps;
    onnorm_dtype xt = g->values[m->x].dtype;
    if (xt != ONNORM_UNDEFINED && xt != ONNORM_FLOAT) {
        snprintf(why, len, "'%s' is %s; only float is fused", g->values[m->x].name,
                 onnorm_dtype_name(xt));
        return false;
    }
    if (!check_axes(g, m, why, len)) return false;
    /* A one-element constant with more dims than X would add dims to the result. */
    if (e->rank > m->rank || (m->exp_v >= 0 && onn_graph_const(g, m->exp_v)->rank > m->rank)) {
        snprintf(why, len, "epsilon or the exponent has more dims than '%s'", g->values[m->x].name);
        return false;
    }
    for (int d = 0; d < m->nrank; d++)
        if (m->nd[d] < 0) {
            snprintf(why, len, "the normalized dims of '%s' are not known statically",
                     g->values[m->x].name);
            return false;
        }
    if (m->gamma >= 0 && !check_param(g, m, m->gamma, "scale", why, len)) return false;
    if (m->beta >= 0 && !check_param(g, m, m->beta, "bias", why, len)) return false;
    return true;
}

/* ---- matchers --------------------------------------------------------------- */

static void match_init(ln_match *m, int anchor)
{
    memset(m, 0, sizeof *m);
    m->anchor = anchor;
    m->gamma = m->beta = m->eps_v = m->exp_v = -1;
    m->mean_nodes[0] = m->mean_nodes[1] = -1;
}

/* The reader of d that starts squaring it: Cast, Pow(d, .) or Mul(d, d). */
static int square_start(const onn_graph *g, int d, const int *readers, int n)
{
    for (int k = 0; k < n; k++) {
        const onn_node *c = &g->nodes[readers[k]];
        if (onn_node_is(c, "Cast") || (onn_node_is(c, "Pow") && c->in[0] == d) ||
            (onn_node_is(c, "Mul") && c->n_in == 2 && c->in[0] == d && c->in[1] == d))
            return readers[k];
    }
    return -1;
}

/* LayerNormalization starting at ReduceMean r1. Returns 1 on a match, 0 when
 * r1 starts no candidate, -1 on a near-miss (reason in why). */
static int match_layernorm(onn_graph *g, int r1, ln_match *m, char *why, size_t len)
{
    const onn_node *n = &g->nodes[r1];
    if (!onn_node_is(n, "ReduceMean") || n->n_in < 1 || n->in[0] < 0) return 0;
    match_init(m, r1);
    int x = m->x = n->in[0], mu = n->out[0], readers[4], sub = -1;
    int nr = onn_graph_consumers(g, mu, readers, 4);
    for (int k = 0; k < nr && k < 4; k++) {
        const onn_node *c = &g->nodes[readers[k]];
        if (onn_node_is(c, "Sub") && c->n_in == 2 && c->in[0] == x && c->in[1] == mu)
            sub = readers[k];
    }
    if (sub < 0) return 0;
    int d = g->nodes[sub].out[0];
    nr = onn_graph_consumers(g, d, readers, 4);
    int sq0 = square_start(g, d, readers, nr < 4 ? nr : 4);
    if (sq0 < 0) return 0;
    /* From here on it looks like a LayerNormalization: failures are noted. */
    if (sole_reader(g, mu) != sub) {
        snprintf(why, len, "the mean '%s' has other readers or is a graph output",
                 g->values[mu].name);
        return -1;
    }
    if (nr != 2 || g->values[d].is_output) {
        snprintf(why, len,
                 "the centred value '%s' has readers besides the square and the division "
                 "or is a graph output",
                 g->values[d].name);
        return -1;
    }
    add_node(m, r1);
    add_node(m, sub);
    int sq, r2;
    if (!match_square(g, m, sq0, d, &sq, why, len)) return -1;
    if ((r2 = sole_reader(g, sq)) < 0 || !onn_node_is(&g->nodes[r2], "ReduceMean") ||
        g->nodes[r2].in[0] != sq) {
        snprintf(why, len, "the squares '%s' do not feed only a ReduceMean", g->values[sq].name);
        return -1;
    }
    add_node(m, r2);
    m->mean_nodes[0] = r1, m->mean_nodes[1] = r2;
    if (!match_tail(g, m, r2, d, why, len)) return -1;
    take_affine(g, m, "Mul", &m->gamma);
    take_affine(g, m, "Add", &m->beta);
    return check_match(g, m, why, len) ? 1 : -1;
}

/* X - ReduceMean(X): a LayerNormalization the layernorm pass left alone. */
static bool mean_centred(onn_graph *g, int x)
{
    const onn_node *sub = onn_graph_producer(g, x), *mean;
    return sub && onn_node_is(sub, "Sub") && sub->n_in == 2 &&
           (mean = onn_graph_producer(g, sub->in[1])) && onn_node_is(mean, "ReduceMean") &&
           mean->in[0] == sub->in[0];
}

/* RMSNormalization around ReduceMean r; returns like match_layernorm. */
static int match_rmsnorm(onn_graph *g, int r, ln_match *m, char *why, size_t len)
{
    const onn_node *n = &g->nodes[r], *p;
    if (!onn_node_is(n, "ReduceMean") || n->n_in < 1 || n->in[0] < 0) return 0;
    match_init(m, r);
    /* Walk back over [Cast] square [Cast] to X; match_square re-checks forward. */
    int v = n->in[0], first;
    if ((p = onn_graph_producer(g, v)) && onn_node_is(p, "Cast")) v = p->in[0];
    if (!(p = onn_graph_producer(g, v)) || !(onn_node_is(p, "Pow") || onn_node_is(p, "Mul")) ||
        p->n_in != 2 || (onn_node_is(p, "Mul") && p->in[0] != p->in[1]))
        return 0;
    first = (int)(p - g->nodes);
    v = p->in[0];
    if ((p = onn_graph_producer(g, v)) && onn_node_is(p, "Cast") && sole_reader(g, v) == first) {
        first = (int)(p - g->nodes);
        v = p->in[0];
    }
    m->x = v;
    ln_match tail = *m; /* probe the tail first: only a full shape is a candidate */
    if (!match_tail(g, &tail, r, m->x, why, len)) return 0;
    int sq;
    if (!match_square(g, m, first, m->x, &sq, why, len)) return -1;
    if (sq != n->in[0] || sole_reader(g, sq) != r) {
        snprintf(why, len, "the squares of '%s' have readers besides the ReduceMean",
                 g->values[m->x].name);
        return -1;
    }
    if (mean_centred(g, m->x)) {
        snprintf(why, len,
                 "'%s' is X minus its mean: a LayerNormalization, left to the layernorm "
                 "pass",
                 g->values[m->x].name);
        return -1;
    }
    add_node(m, r);
    m->mean_nodes[0] = r;
    if (!match_tail(g, m, r, m->x, why, len)) return -1;
    take_affine(g, m, "Mul", &m->gamma);
    return check_match(g, m, why, len) ? 1 : -1;
}

/* ---- rewriting ---------------------------------------------------------------- */

/* A float constant of exactly the normalized shape: p broadcast over it, or
 * ones when p is NULL. */
static int normalized_constant(onn_graph *g, const ln_match *m, const onnorm_tensor *p,
                               const char *base, onnorm_error *err)
{
    onnorm_tensor *t = onn_tensor_new(ONNORM_FLOAT, m->nrank, m->nd, err);
    if (!t) return -1;
    float *dst = t->data;
    const int64_t numel = onn_dims_numel(m->nd, 0, m->nrank);
    for (int64_t i = 0; i < numel; i++) {
        /* Unravel i over the normalized shape, ravel over p's broadcast shape. */
        int64_t rem = i, src = 0, stride = 1;
        for (int k = m->nrank - 1; p && k >= 0; k--) {
            int64_t coord = rem % m->nd[k];
            rem /= m->nd[k];
            int pk = k - (m->nrank - p->rank);
            if (pk < 0) continue;
            if (p->dims[pk] != 1) src += coord * stride;
            stride *= p->dims[pk];
        }
        dst[i] = p ? ((const float *)p->data)[src] : 1.0f;
    }
    int v = onn_graph_new_constant(g, base, t);
    if (v < 0) onn_fail(err, ONNORM_ERR_NOMEM, "out of memory adding constant '%s'", base);
    return v;
}

/* The parameter as the fused node reads it: the constant itself when its
 * shape is exactly the normalized shape, else a new expanded copy. */
static int param_value(onn_graph *g, const ln_match *m, int v, const char *base, onnorm_error *err)
{
    const onnorm_tensor *p = v >= 0 ? onn_graph_const(g, v) : NULL;
    if (p && p->rank == m->nrank && !memcmp(p->dims, m->nd, (size_t)m->nrank * sizeof(int64_t)))
        return v;
    return normalized_constant(g, m, p, base, err);
}

static onnorm_status rewrite(onn_graph *g, const ln_match *m, bool layernorm, onnorm_error *err)
{
    char base[320], name[320];
    const char *op = layernorm ? "LayerNormalization" : "RMSNormalization";
    snprintf(base, sizeof base, "%s_%s", g->values[m->x].name,
             layernorm ? "ln_scale" : "rms_scale");
    int in[3] = {m->x, param_value(g, m, m->gamma, base, err), -1};
    if (in[1] < 0) return err ? err->code : ONNORM_ERR_NOMEM;
    if (m->beta >= 0) {
        snprintf(base, sizeof base, "%s_ln_bias", g->values[m->x].name);
        if ((in[2] = param_value(g, m, m->beta, base, err)) < 0)
            return err ? err->code : ONNORM_ERR_NOMEM;
    }
    const char *anchor = g->nodes[m->anchor].name;
    snprintf(name, sizeof name, "%s_%s", anchor[0] ? anchor : g->values[m->out].name, op);
    onn_node *n = onn_graph_new_node(g, op, name, in[2] >= 0 ? 3 : 2, in, 1, &m->out);
    if (!n || !onn_node_set_int(n, "axis", m->axis) || !onn_node_set_float(n, "epsilon", m->eps))
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory adding %s", op);
    for (int k = 0; k < m->n_nodes; k++)
        onn_node_clear(&g->nodes[m->nodes[k]]);
    return ONNORM_OK;
}

/* Whether the opset can go to `need` once every matched node is gone. */
static bool can_raise(onn_graph *g, onn_same_meaning_fn same_meaning, const ln_match *ms, int n,
                      int64_t need, char *why, size_t len)
{
    bool *matched = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *matched);
    if (!matched) {
        snprintf(why, len, "out of memory checking the opset");
        return false;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ms[i].n_nodes; j++)
            matched[ms[i].nodes[j]] = true;
    bool ok = onn_graph_can_raise_opset(g, same_meaning, "", need, matched, why, len);
    free(matched);
    return ok;
}

typedef int (*ln_matcher)(onn_graph *g, int r, ln_match *m, char *why, size_t len);

/* Collect, raise the opset once, rewrite. */
static onnorm_status run_pass(onn_graph *g, onn_pass_stats *st, onnorm_error *err, ln_matcher match,
                              bool layernorm, int64_t need)
{
    const char *op = layernorm ? "LayerNormalization" : "RMSNormalization";
    int n_means = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n_means += onn_node_is(&g->nodes[i], "ReduceMean");
    if (!n_means) return ONNORM_OK;
    ln_match *ms = calloc((size_t)n_means, sizeof *ms);
    if (!ms) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    int n = 0;
    char why[LN_WHY];
    for (int i = 0; i < g->n_nodes && n < n_means; i++) {
        int r = match(g, i, &ms[n], why, sizeof why);
        if (r > 0) n++;
        if (r < 0) onn_pass_skip(st, &g->nodes[i], "not fused into %s: %s", op, why);
    }
    onnorm_status status = ONNORM_OK;
    if (n && onn_graph_opset(g, "") < need) {
        bool ok = can_raise(g, st->env->same_meaning, ms, n, need, why, sizeof why);
        if (ok && !onn_graph_raise_opset(g, "", need))
            ok = false, snprintf(why, sizeof why, "the model imports no ai.onnx opset");
        for (int i = 0; i < n && !ok; i++)
            onn_pass_skip(st, &g->nodes[ms[i].anchor], "not fused: %s needs opset %lld and %s", op,
                          (long long)need, why);
        if (!ok) n = 0;
    }
    for (int i = 0; i < n && !status; i++)
        if (!(status = rewrite(g, &ms[i], layernorm, err))) st->matched++;
    free(ms);
    return status;
}

onnorm_status onn_pass_layernorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    return run_pass(g, st, err, match_layernorm, true, 17);
}

onnorm_status onn_pass_rmsnorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    return run_pass(g, st, err, match_rmsnorm, false, 23);
}
