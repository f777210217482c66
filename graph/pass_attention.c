/*
 * fuse-attention: scaled dot-product attention as exported, a chain of
 * five nodes over whole tensors,
 *
 *   MatMul(Q, K) -> [Mul or Div by a constant] -> [Add(mask) or
 *   Where(cond, ., fill) or Where(cond, fill, .)] -> Softmax(last axis)
 *   -> MatMul(., V)
 *
 * becomes ai.onnorm ScaledDotProductAttention(Q, K, V, mask, cond) (ops/
 * core/attention.c), which forms each block of rows of the scores,
 * normalizes it and multiplies it by V while it is in cache: the scores
 * are never written out and the three elementwise passes over them go.
 * This is the shape of nn.MultiheadAttention's export (the scale on Q
 * before the product, so no scale node here), of GPT-style code (Div, then
 * a causal Where), and of Swin's windows (Add of the relative position
 * bias).
 *
 * Conditions, each a near-miss with its reason once the two products and
 * the Softmax between them are found:
 *   - every value inside the chain has one consumer and is not a graph
 *     output (the scores and probabilities are not kept);
 *   - the Softmax normalizes the last axis;
 *   - Q, K, V and the mask are float32, cond is bool; their shapes are
 *     known, Q, K and V have the same rank and leading dims;
 *   - the scale is a float32 constant of one element (Div: the scores
 *     divided by it), the fill of Where too;
 *   - the mask or cond broadcasts to the scores without changing their
 *     shape.
 * The product of two constants, or of a constant and a run-time value (a
 * layer), is not attention and is left alone without a note.
 */
#include "graph/edit.h"
#include "graph/passes.h"

#include <stdio.h>
#include <string.h>

/* v is a float32 constant of one element: its value. */
static bool scalar_const(const onn_graph *g, int v, float *out)
{
    const onnorm_tensor *t = v >= 0 ? onn_graph_const(g, v) : NULL;
    if (!t || t->dtype != ONNORM_FLOAT || onnorm_tensor_numel(t) != 1) return false;
    *out = *(const float *)t->data;
    return true;
}

/* m's shape broadcasts to s's (aligned at the last axis, each dim equal
 * or 1, rank at most s's). */
static bool broadcasts_to(const onn_value *m, const onn_value *s)
{
    if (!onn_value_known(m) || m->rank > s->rank) return false;
    for (int d = 0; d < m->rank; d++) {
        const int64_t md = m->dims[d], sd = s->dims[s->rank - m->rank + d];
        if (md != 1 && md != sd) return false;
    }
    return true;
}

/* The chain found backwards from a Softmax. */
typedef struct att_chain {
    onn_node *mm, *scale, *mask, *sm, *pv;
    float scale_value, fill;
    bool divides, fill_where;
    int mask_in, cond_in;
} att_chain;

/* The scores operand of a mask node (Add or Where), and what it adds. */
static int mask_operand(onn_graph *g, onn_node *n, att_chain *c)
{
    if (onn_node_is(n, "Add") && n->n_in == 2) {
        onn_node *p0 = onn_graph_producer(g, n->in[0]);
        const bool first =
            p0 && (onn_node_is(p0, "MatMul") || onn_node_is(p0, "Mul") || onn_node_is(p0, "Div"));
        c->mask_in = n->in[first ? 1 : 0];
        return n->in[first ? 0 : 1];
    }
    if (onn_node_is(n, "Where") && n->n_in == 3) {
        c->cond_in = n->in[0];
        if (scalar_const(g, n->in[1], &c->fill)) return c->fill_where = true, n->in[2];
        if (scalar_const(g, n->in[2], &c->fill)) return c->fill_where = false, n->in[1];
    }
    return -1;
}

/* Softmax <- [mask] <- [scale] <- MatMul of two run-time values, and the
 * MatMul after the Softmax; false (quietly) when it is not that shape. */
static bool find_chain(onn_graph *g, onn_node *sm, att_chain *c)
{
    memset(c, 0, sizeof *c);
    c->mask_in = c->cond_in = -1;
    c->scale_value = 1.0f;
    c->sm = sm;
    if (!onn_node_is(sm, "Softmax") || sm->n_in != 1 || sm->n_out != 1 || sm->out[0] < 0)
        return false;
    int s = sm->in[0];
    onn_node *p = onn_graph_producer(g, s);
    if (p && (onn_node_is(p, "Add") || onn_node_is(p, "Where"))) {
        c->mask = p;
        s = mask_operand(g, p, c);
        if (s < 0) return false;
        p = onn_graph_producer(g, s);
    }
    if (p && (onn_node_is(p, "Mul") || onn_node_is(p, "Div")) && p->n_in == 2) {
        c->scale = p;
        c->divides = onn_node_is(p, "Div");
        onn_node *p0 = onn_graph_producer(g, p->in[0]);
        s = p0 && onn_node_is(p0, "MatMul") ? p->in[0] : p->in[1];
        p = onn_graph_producer(g, s);
    }
    if (!p || !onn_node_is(p, "MatMul") || p->n_in != 2 || p->out[0] != s) return false;
    if (onn_graph_const(g, p->in[0]) || onn_graph_const(g, p->in[1])) return false;
    c->mm = p;
    int idx[2];
    if (onn_graph_consumers(g, sm->out[0], idx, 2) < 1) return false;
    onn_node *pv = &g->nodes[idx[0]];
    if (!onn_node_is(pv, "MatMul") || pv->n_in != 2 || pv->in[0] != sm->out[0]) return false;
    c->pv = pv;
    return true;
}

/* Why the chain cannot fuse, or NULL; reads the scale's value into c. */
static const char *why_not(onn_graph *g, att_chain *c, char *buf, size_t len)
{
    const onn_node *links[] = {c->mm, c->scale, c->mask, c->sm};
    for (int i = 0; i < 4; i++)
        if (links[i] && !onn_graph_sole_consumer(g, links[i]->out[0]))
            return snprintf(buf, len, "the output of %s %s is read elsewhere or is a graph output",
                            links[i]->op_type, links[i]->name ? links[i]->name : ""),
                   buf;
    const onn_value *q = &g->values[c->mm->in[0]], *k = &g->values[c->mm->in[1]],
                    *v = &g->values[c->pv->in[1]], *s = &g->values[c->mm->out[0]];
    if (q->dtype != ONNORM_FLOAT || k->dtype != ONNORM_FLOAT || v->dtype != ONNORM_FLOAT)
        return "Q, K and V are not all float32";
    if (!onn_value_known(q) || !onn_value_known(k) || !onn_value_known(v) || !onn_value_known(s))
        return "a shape is not known";
    const int r = q->rank;
    if (r < 2 || k->rank != r || v->rank != r || s->rank != r)
        return "Q, K and V do not have one rank of at least 2";
    for (int d = 0; d < r - 2; d++)
        if (k->dims[d] != q->dims[d] || v->dims[d] != q->dims[d])
            return "Q, K and V differ in their leading (batch) dims";
    const onn_attr *ax = onn_attr_find(c->sm, "axis");
    const int64_t def = c->sm->opset >= 13 ? -1 : 1;
    const int64_t axis = ax ? (ax->type == ONN_ATTR_INT ? ax->i : 0) : def;
    if (axis != -1 && axis != r - 1) return "the Softmax does not normalize the last axis";
    if (c->scale) {
        const int other = c->scale->in[0] == c->mm->out[0] ? c->scale->in[1] : c->scale->in[0];
        if (c->divides && c->scale->in[0] != c->mm->out[0])
            return "the Div divides by the scores, not the scores by a constant";
        if (!scalar_const(g, other, &c->scale_value))
            return "the scale is not a float32 constant of one element";
    }
    if (c->pv->in[1] == c->sm->out[0]) return "V is the probabilities themselves";
    if (c->mask && c->mask_in >= 0) {
        /* Add before opset 7 broadcasts by its own axis rule */
        if (c->mask->opset < 7) return "the Add predates opset 7's broadcasting";
        if (c->mask_in == c->mask->in[0] && c->mask_in == c->mask->in[1])
            return "the Add adds the scores to themselves";
        const onn_value *m = &g->values[c->mask_in];
        if (m->dtype != ONNORM_FLOAT) return "the mask is not float32";
        if (!broadcasts_to(m, s)) return "the mask does not broadcast to the scores' shape";
    }
    if (c->mask && onn_node_is(c->mask, "Where")) {
        if (c->cond_in < 0 || g->values[c->cond_in].dtype != ONNORM_BOOL)
            return "the Where's condition is not bool";
        if (!broadcasts_to(&g->values[c->cond_in], s))
            return "the Where's condition does not broadcast to the scores' shape";
    }
    return NULL;
}

static bool fuse_one(onn_graph *g, onn_node *sm, onn_pass_stats *st)
{
    att_chain c;
    if (!find_chain(g, sm, &c)) return false;
    char buf[256];
    const char *why = why_not(g, &c, buf, sizeof buf);
    if (why) {
        onn_pass_skip(st, sm, "%s", why);
        return false;
    }
    onn_node *pv = c.pv;
    const int q = c.mm->in[0], k = c.mm->in[1], v = pv->in[1];
    bool ok = onn_graph_import_opset(g, "ai.onnorm", 1) &&
              onn_node_retype(pv, "ai.onnorm", "ScaledDotProductAttention", 5);
    if (ok && c.scale)
        ok = onn_node_set_float(pv, "scale", c.scale_value) &&
             (!c.divides || onn_node_set_int(pv, "scale_divides", 1));
    if (ok && c.cond_in >= 0)
        ok = onn_node_set_float(pv, "fill", c.fill) &&
             onn_node_set_int(pv, "fill_where", c.fill_where ? 1 : 0);
    if (!ok) return false;
    pv->in[0] = q, pv->in[1] = k, pv->in[2] = v;
    pv->in[3] = c.mask_in, pv->in[4] = c.cond_in;
    onn_node_clear(c.mm);
    if (c.scale) onn_node_clear(c.scale);
    if (c.mask) onn_node_clear(c.mask);
    onn_node_clear(sm);
    return true;
}

onnorm_status onn_pass_fuse_attention(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    (void)err;
    for (int i = 0; i < g->n_nodes; i++)
        if (fuse_one(g, &g->nodes[i], st)) st->matched++;
    return ONNORM_OK;
}
