/*
 * fuse-gelu: the decomposed GELU forms PyTorch exports become one Gelu node
 * (ops/core/unary.c: one vectorized loop over vmath.h's erf or tanh):
 *
 *   Erf form:  x * 0.5 * (1 + Erf(x / sqrt(2)))
 *              (Div by sqrt(2) or Mul by 1/sqrt(2); the 0.5 applied to x,
 *              to the sum or to the product; Add 1 either side)
 *   Tanh form: 0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
 *              (x^3 as Pow(x, 3) or a product of three x's, the constant
 *              in any place of the product: nn.GELU(approximate="tanh")
 *              at opsets 13-17, and GPT-style code that writes the formula
 *              out), approximate="tanh"
 *
 * The Gelu is ai.onnx's Gelu-20 when the model imports opset 20 or later,
 * else ai.onnorm's Gelu-1 (the same operator and attribute). Constants
 * match within 1e-6 relative. Every intermediate must have one consumer
 * and not be a graph output; a candidate that fails that, or has a wrong
 * constant, is a near-miss with its reason. Only float32 fuses.
 */
#include "graph/edit.h"
#include "graph/passes.h"

#include <math.h>
#include <string.h>

static bool const_is(const onn_graph *g, int v, double want)
{
    const onnorm_tensor *t = v >= 0 ? onn_graph_const(g, v) : NULL;
    if (!t || onnorm_tensor_numel(t) != 1) return false;
    double c;
    if (t->dtype == ONNORM_FLOAT)
        c = *(const float *)t->data;
    else if (t->dtype == ONNORM_DOUBLE)
        c = *(const double *)t->data;
    else
        return false;
    return fabs(c - want) <= 1e-6 * fabs(want);
}

/* The other input of the binary node n, one of whose inputs is v (-1: none). */
static int other(const onn_node *n, int v)
{
    if (!n || n->n_in != 2) return -1;
    return n->in[0] == v ? n->in[1] : n->in[1] == v ? n->in[0] : -1;
}

/* The only consumer of v, or NULL with a near-miss when v is shared. */
static onn_node *next_of(onn_graph *g, int v, const onn_node *at, onn_pass_stats *st)
{
    int idx;
    if (!onn_graph_single_use(g, v) || onn_graph_consumers(g, v, &idx, 1) != 1) {
        onn_pass_skip(st, at,
                      "an intermediate of the GELU pattern has another consumer or is a "
                      "graph output");
        return NULL;
    }
    return &g->nodes[idx];
}

static onn_node *producer_of(onn_graph *g, int v, const char *op)
{
    onn_node *p = v >= 0 ? onn_graph_producer(g, v) : NULL;
    return p && onn_node_is(p, op) ? p : NULL;
}

/* From f = Erf or Tanh's output on: 1 + f, then the multiplications by x
 * and 0.5 in any association. Returns the final node and the nodes to
 * clear in dead[] (count in *nd), or NULL. */
static onn_node *tail(onn_graph *g, onn_node *fn, int x, onn_node **dead, int *nd,
                      onn_pass_stats *st)
{
    onn_node *add = next_of(g, fn->out[0], fn, st);
    if (!add) return NULL;
    if (!onn_node_is(add, "Add") || !const_is(g, other(add, fn->out[0]), 1.0)) {
        onn_pass_skip(st, add, "not 1 + %s(...)", fn->op_type);
        return NULL;
    }
    const int a = add->out[0];
    onn_node *m1 = next_of(g, a, add, st);
    if (!m1) return NULL;
    const int o = other(m1, a);
    if (!onn_node_is(m1, "Mul") || o < 0) return NULL;
    dead[(*nd)++] = add;
    onn_node *h = producer_of(g, o, "Mul");
    if (o == x || const_is(g, o, 0.5)) { /* (x * a) * 0.5 or (0.5 * a) * x */
        onn_node *m2 = next_of(g, m1->out[0], m1, st);
        if (!m2) return NULL;
        const int o2 = other(m2, m1->out[0]);
        if (!onn_node_is(m2, "Mul") || !(o == x ? const_is(g, o2, 0.5) : o2 == x)) {
            onn_pass_skip(st, m2, "not a multiplication by %s", o == x ? "0.5" : "x");
            return NULL;
        }
        dead[(*nd)++] = m1;
        return m2;
    }
    if (h && const_is(g, other(h, x), 0.5)) { /* (x * 0.5) * a */
        if (!onn_graph_single_use(g, h->out[0])) {
            onn_pass_skip(st, h, "x * 0.5 has another consumer");
            return NULL;
        }
        dead[(*nd)++] = h;
        return m1;
    }
    onn_pass_skip(st, m1, "1 + %s(...) is not multiplied by x and 0.5", fn->op_type);
    return NULL;
}

/* Erf's input x / sqrt(2): x, or -1 with a near-miss. */
static int erf_input(onn_graph *g, onn_node *erf, onn_node **scale, onn_pass_stats *st)
{
    const int d = erf->in[0];
    onn_node *p = d >= 0 ? onn_graph_producer(g, d) : NULL;
    if (!p || p->n_in != 2) return -1;
    int x = -1;
    if (onn_node_is(p, "Div") && const_is(g, p->in[1], sqrt(2.0)))
        x = p->in[0];
    else if (onn_node_is(p, "Mul"))
        x = const_is(g, p->in[1], sqrt(0.5))   ? p->in[0]
            : const_is(g, p->in[0], sqrt(0.5)) ? p->in[1]
                                               : -1;
    if (x < 0) {
        if (onn_node_is(p, "Div") || onn_node_is(p, "Mul"))
            onn_pass_skip(st, erf, "Erf's input is not x / sqrt(2)");
        return -1;
    }
    if (!onn_graph_single_use(g, d)) {
        onn_pass_skip(st, erf, "x / sqrt(2) has another consumer");
        return -1;
    }
    *scale = p;
    return x;
}

/* A scalar float constant's value, or NAN. */
static double const_value(const onn_graph *g, int v)
{
    const onnorm_tensor *t = v >= 0 ? onn_graph_const(g, v) : NULL;
    if (!t || onnorm_tensor_numel(t) != 1) return NAN;
    if (t->dtype == ONNORM_FLOAT) return *(const float *)t->data;
    if (t->dtype == ONNORM_DOUBLE) return *(const double *)t->data;
    return NAN;
}

/* The cubic term as a product of Mul nodes in any association, whose
 * factors are x (or Pow(x, 3), counting three) and scalar constants:
 * 0.044715 * x^3, x * (x * x) * 0.044715, ((x * 0.044715) * x) * x (as a
 * hand-written GELU exports) ... Counts x's powers in *pw and multiplies
 * the constants into *coef; the nodes go to nodes[] (count *nn, at most
 * CUBIC_NODES). False on any other factor or a shared intermediate. */
#define CUBIC_NODES 5
static bool cubic_factors(onn_graph *g, int v, int x, int *pw, double *coef, onn_node **nodes,
                          int *nn)
{
    if (v == x) {
        ++*pw;
        return true;
    }
    const double c = const_value(g, v);
    if (!isnan(c)) {
        *coef *= c;
        return true;
    }
    onn_node *p = v >= 0 ? onn_graph_producer(g, v) : NULL;
    if (!p || !onn_graph_single_use(g, v) || *nn >= CUBIC_NODES) return false;
    if (onn_node_is(p, "Pow") && p->in[0] == x && const_is(g, p->in[1], 3.0)) {
        nodes[(*nn)++] = p;
        *pw += 3;
        return true;
    }
    if (!onn_node_is(p, "Mul") || p->n_in != 2) return false;
    nodes[(*nn)++] = p;
    return cubic_factors(g, p->in[0], x, pw, coef, nodes, nn) &&
           cubic_factors(g, p->in[1], x, pw, coef, nodes, nn);
}

/* Tanh's input sqrt(2/pi) * (x + 0.044715 * x^3): x, or -1. */
static int tanh_input(onn_graph *g, onn_node *th, onn_node **dead, int *nd, onn_pass_stats *st)
{
    const int in = th->in[0];
    onn_node *m = producer_of(g, in, "Mul");
    if (!m || !onn_graph_single_use(g, in)) return -1;
    const double beta = sqrt(2.0 / 3.14159265358979323846);
    const int s = const_is(g, m->in[0], beta)   ? m->in[1]
                  : const_is(g, m->in[1], beta) ? m->in[0]
                                                : -1;
    onn_node *add = s >= 0 ? producer_of(g, s, "Add") : NULL;
    if (!add || !onn_graph_single_use(g, s)) return -1;
    bool cubic = false;
    for (int k = 0; k < 2; k++) {
        const int x = add->in[k], kv = add->in[1 - k];
        onn_node *cube[CUBIC_NODES];
        int nc = 0, pw = 0;
        double coef = 1.0;
        if (kv == x || !cubic_factors(g, kv, x, &pw, &coef, cube, &nc) || pw != 3) continue;
        cubic = true;
        if (fabs(coef - 0.044715) > 1e-6 * 0.044715) continue;
        dead[(*nd)++] = m;
        dead[(*nd)++] = add;
        for (int i = 0; i < nc; i++)
            dead[(*nd)++] = cube[i];
        return x;
    }
    if (cubic) onn_pass_skip(st, th, "the cubic coefficient is not 0.044715");
    return -1;
}

static bool fuse_one(onn_graph *g, onn_node *fn, bool tanh_form, onn_pass_stats *st)
{
    if (fn->n_in < 1 || fn->n_out < 1 || fn->out[0] < 0) return false;
    if (g->values[fn->out[0]].dtype != ONNORM_FLOAT) return false;
    onn_node *dead[16];
    int nd = 0, x;
    if (tanh_form) {
        x = tanh_input(g, fn, dead, &nd, st);
    } else {
        onn_node *scale = NULL;
        x = erf_input(g, fn, &scale, st);
        if (x >= 0) dead[nd++] = scale;
    }
    if (x < 0) return false;
    dead[nd++] = fn;
    onn_node *last = tail(g, fn, x, dead, &nd, st);
    if (!last) return false;
    const bool std = onn_graph_opset(g, "") >= 20;
    const char *domain = std ? "" : "ai.onnorm";
    if (!std && !onn_graph_import_opset(g, domain, 1)) return false;
    if (!onn_node_retype(last, domain, "Gelu", 1)) return false;
    last->in[0] = x;
    if (tanh_form && !onn_node_set_string(last, "approximate", "tanh")) return false;
    for (int i = 0; i < nd; i++)
        onn_node_clear(dead[i]);
    return true;
}

onnorm_status onn_pass_fuse_gelu(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    (void)err;
    for (int i = 0; i < g->n_nodes; i++) {
        onn_node *n = &g->nodes[i];
        const bool e = onn_node_is(n, "Erf"), t = onn_node_is(n, "Tanh");
        if ((e || t) && fuse_one(g, n, t, st)) st->matched++;
    }
    return ONNORM_OK;
}
