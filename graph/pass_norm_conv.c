/*
 * fold-norm-into-next-conv: a per-channel affine map of a Conv, Gemm or
 * MatMul input, computed just before it, is folded forward into that node's
 * weights.
 *
 * The map is an inference BatchNormalization (x * a[c] + d[c] with
 * a = scale / sqrt(var + epsilon), d = B - mean * a) or a chain of Mul, Add,
 * Sub (x - c, c - x) and Div (x / c) nodes by constants that vary along the
 * channel axis only (scalars, [C], [1,C], [C,1,1], [1,C,1,1], ...), such as
 * the input standardization `onnorm standardize` prepends, or several of
 * these in a row; together they are x * s[c] + t[c]. A linear node reading
 * that can read x itself:
 *
 *   Conv W [M, C/g, k...]:  W'[o,j,k] = W[o,j,k] * s[c],
 *                           b'[o] = b[o] + sum_{j,k} W[o,j,k] * t[c],
 *                           c = (o / (M/g)) * (C/g) + j (the group's block);
 *                           a bias is added when the Conv has none.
 *   Gemm (transA = 0) with B' the [K, N] view of B (transB read):
 *                           B'[k,n] *= s[k],
 *                           C' = beta * C + alpha * sum_k t[k] * B'[k,n],
 *                           beta = 1 (C created when absent).
 *   MatMul with a constant 2-D W [K, N] (channels on the last axis of x):
 *                           W'[k,n] = W[k,n] * s[k], and an Add of
 *                           sum_k t[k] * W[k,n] after it when that is not 0.
 *
 * Padding: a Conv that pads (pads not all 0, or auto_pad SAME_*) feeds
 * zeros at the border; after the fold they would stand for x = 0, that is
 * for t[c] before the fold, so the result would change near the border. Such
 * a Conv takes a map with t = 0 only (a pure scaling keeps the padded zeros
 * zero); otherwise it is a near-miss with the reason "padding".
 *
 * Decisions where the issue is silent:
 * - Place in the pipeline: after the recognizers (layernorm, rmsnorm,
 *   groupnorm, fuse-gelu), because a decomposed LayerNormalization's final
 *   Mul/Add or GELU's Mul by 0.5 is often followed by a MatMul or Gemm and
 *   folding it would hide the pattern. fuse-conv runs before, so
 *   com.microsoft's FusedConv (act(Conv(X, W, B) + Z)) is a consumer too:
 *   the fold of W and B is the same.
 * - A MatMul whose weight is computed (attention's Q K^T) is no candidate
 *   and gets no note.
 * - The chain is collected from the linear node backwards while each node's
 *   output feeds only the next one and is no graph output; where it stops
 *   (another consumer, a non-constant operand, a constant that is not
 *   per-channel, ...) the nodes after that point still fold. A near-miss is
 *   noted when the node right before the linear node is a
 *   BatchNormalization or a Mul/Add/Sub/Div with a constant operand and
 *   nothing folds, or when the linear node itself refuses (padding, weights
 *   not constant, transA, ...).
 * - For MatMul and Gemm the channel axis is the input's last; a
 *   BatchNormalization (channel axis 1) joins only for a 2-D input.
 * - Only float32 weights are folded (as fold-batchnorm); the map's
 *   constants may be float32 or float64, all is computed in double and
 *   rounded once; the chain's input must be float32.
 * - When the chain's input may have one channel where the constants have C
 *   (a broadcast the fold would lose), the fold needs that input's channel
 *   count from shape inference, unless the chain starts at a
 *   BatchNormalization (whose input has C channels by definition).
 * - New constants with new names take the place of the weights; the old
 *   ones are dropped by the rebuild when nothing reads them.
 */
#include "graph/affine.h"
#include "graph/passes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY_LEN 320
#define MAX_CHAIN 64

/* The linear consumer: its weight and where the channels of x are. */
typedef struct consumer {
    onn_node *node;
    int kind; /* 0 Conv, 1 Gemm, 2 MatMul */
    const onnorm_tensor *w, *b;
    int r;         /* rank of x (-1 unknown) */
    int axis;      /* channel axis of x */
    int64_t chans; /* C */
    bool pads;     /* Conv that pads */
    int64_t trans_b;
    float alpha, beta;
} consumer;

/* com.microsoft's FusedConv (what fuse-conv makes of Conv + activation):
 * act(Conv(X, W, B) + Z) takes the same fold of W and B. */
static bool is_fused_conv(const onn_node *q)
{
    return q->op_type && q->domain && !strcmp(q->domain, "com.microsoft") &&
           !strcmp(q->op_type, "FusedConv");
}

/* Checks q as a consumer; false with why (why "" when q is no candidate). */
static bool consumer_of(onn_graph *g, onn_node *q, consumer *cs, char *why, size_t len)
{
    memset(cs, 0, sizeof *cs);
    why[0] = '\0';
    cs->node = q;
    if (onn_node_is(q, "Conv") || is_fused_conv(q))
        cs->kind = 0;
    else if (onn_node_is(q, "Gemm"))
        cs->kind = 1;
    else if (onn_node_is(q, "MatMul"))
        cs->kind = 2;
    else
        return false;
    if (q->n_in < 2 || q->in[0] < 0) return false;
    cs->r = g->values[q->in[0]].rank;
    const int wv = q->in[1];
    if (!(cs->w = onn_graph_const(g, wv))) {
        /* A MatMul of two computed values (attention) is no linear layer:
         * no note. */
        if (cs->kind != 2 || g->values[wv].is_input)
            onn_affine_not_const_why(g, wv, "the weight", why, len);
        return false;
    }
    if (cs->w->dtype != ONNORM_FLOAT) {
        snprintf(why, len, "the weight of %s '%s' is %s; only float32 weights are folded",
                 q->op_type, q->name, onnorm_dtype_name(cs->w->dtype));
        return false;
    }
    if (q->n_in > 2 && q->in[2] >= 0 && cs->kind != 2) {
        if (!(cs->b = onn_graph_const(g, q->in[2]))) {
            onn_affine_not_const_why(g, q->in[2], "the bias", why, len);
            return false;
        }
        if (cs->b->dtype != ONNORM_FLOAT) {
            snprintf(why, len, "the bias of %s '%s' is not float32", q->op_type, q->name);
            return false;
        }
    }
    const onnorm_tensor *w = cs->w;
    if (cs->kind == 0) {
        int64_t group = 1;
        if (!onn_attr_int(q, "group", 1, &group, NULL) || group < 1 || w->rank < 3 ||
            w->dims[0] % group) {
            snprintf(why, len, "Conv '%s' has a weight or group it cannot fold into", q->name);
            return false;
        }
        cs->axis = 1, cs->chans = w->dims[1] * group;
        if (cs->r < 0) cs->r = w->rank;
        if (cs->b && (cs->b->rank != 1 || cs->b->dims[0] != w->dims[0])) {
            snprintf(why, len, "the bias of Conv '%s' is not a vector of its output channels",
                     q->name);
            return false;
        }
        const onn_attr *ap = onn_attr_find(q, "auto_pad");
        if (ap && ap->type == ONN_ATTR_STRING && ap->s[0] && strcmp(ap->s, "NOTSET") &&
            strcmp(ap->s, "VALID"))
            cs->pads = true;
        const onn_attr *p = onn_attr_find(q, "pads");
        if ((!ap || ap->type != ONN_ATTR_STRING || !ap->s[0] || !strcmp(ap->s, "NOTSET")) && p)
            for (size_t i = 0; i < p->n && p->type == ONN_ATTR_INTS; i++)
                cs->pads |= p->ints[i] != 0;
        return true;
    }
    if (w->rank != 2) {
        snprintf(why, len, "the weight of %s '%s' is not 2-D", q->op_type, q->name);
        return false;
    }
    if (cs->kind == 1) {
        int64_t trans_a = 0;
        if (!onn_attr_int(q, "transA", 0, &trans_a, NULL) ||
            !onn_attr_int(q, "transB", 0, &cs->trans_b, NULL) ||
            !onn_attr_float(q, "alpha", 1.0f, &cs->alpha, NULL) ||
            !onn_attr_float(q, "beta", 1.0f, &cs->beta, NULL)) {
            snprintf(why, len, "an attribute of Gemm '%s' has the wrong type", q->name);
            return false;
        }
        if (trans_a) {
            snprintf(why, len, "Gemm '%s' has transA 1: its channels are rows of A", q->name);
            return false;
        }
        cs->r = 2, cs->axis = 1, cs->chans = w->dims[cs->trans_b ? 1 : 0];
        if (cs->b) {
            const onnorm_tensor *c = cs->b;
            const int64_t n = w->dims[cs->trans_b ? 0 : 1];
            const int64_t last = c->rank ? c->dims[c->rank - 1] : 1;
            if (c->rank > 2 || (last != 1 && last != n)) {
                snprintf(why, len, "the bias C of Gemm '%s' does not broadcast along its columns",
                         q->name);
                return false;
            }
        }
        return true;
    }
    if (cs->r < 2) {
        snprintf(why, len, "the input of MatMul '%s' is not known to have rank 2 or more", q->name);
        return false;
    }
    cs->axis = cs->r - 1, cs->chans = w->dims[0];
    return true;
}

/* One element of the chain: a BatchNormalization or a binary node. */
typedef struct link {
    onn_node *node;
    int var;              /* the variable operand's slot */
    onn_affine_kind kind; /* NONE for BatchNormalization */
    const onnorm_tensor *c;
    float eps;
} link;

/* Whether producer p of value v (rank r, channels on axis) can join the
 * chain; false with why. */
static bool link_of(onn_graph *g, onn_node *p, int v, const consumer *cs, link *l, char *why,
                    size_t len)
{
    memset(l, 0, sizeof *l);
    l->node = p;
    if (!onn_graph_single_use(g, v)) {
        if (g->values[v].is_output)
            snprintf(why, len, "the output of %s '%s' is a graph output, so it must stay",
                     p->op_type, p->name);
        else
            snprintf(why, len, "the output of %s '%s' is also read by %d other node(s)", p->op_type,
                     p->name, onn_graph_consumers(g, v, NULL, 0) - 1);
        return false;
    }
    if (onn_node_is(p, "BatchNormalization")) {
        int64_t mode = 0, spatial = 1;
        int extra = 0;
        for (int k = 1; k < p->n_out; k++)
            extra += p->out[k] >= 0;
        if ((p->opset >= 14 && (!onn_attr_int(p, "training_mode", 0, &mode, NULL) || mode)) ||
            (p->opset < 7 && (!onn_attr_int(p, "is_test", 0, &mode, NULL) || !mode)) || extra ||
            (p->opset < 9 && (!onn_attr_int(p, "spatial", 1, &spatial, NULL) || spatial != 1))) {
            snprintf(why, len,
                     "BatchNormalization '%s' is not in inference form (training mode, extra "
                     "outputs or spatial 0)",
                     p->name);
            return false;
        }
        if (cs->axis != 1) {
            snprintf(why, len,
                     "the channels of %s '%s' are the last axis of a rank-%d input, not "
                     "BatchNormalization's axis 1",
                     cs->node->op_type, cs->node->name, cs->r);
            return false;
        }
        if (!onn_attr_float(p, "epsilon", 1e-5f, &l->eps, NULL) || p->n_in < 5) {
            snprintf(why, len, "BatchNormalization '%s' lacks inputs or has a bad epsilon",
                     p->name);
            return false;
        }
        static const char *names[] = {"", "scale", "bias", "mean", "variance"};
        for (int i = 1; i < 5; i++) {
            const onnorm_tensor *t = onn_graph_const(g, p->in[i]);
            char what[160];
            snprintf(what, sizeof what, "the %s of BatchNormalization '%s'", names[i], p->name);
            if (!t) {
                onn_affine_not_const_why(g, p->in[i], what, why, len);
                return false;
            }
            if ((t->dtype != ONNORM_FLOAT && t->dtype != ONNORM_DOUBLE) || t->rank != 1 ||
                t->dims[0] != cs->chans) {
                snprintf(why, len, "%s is not a float vector of the %lld channels", what,
                         (long long)cs->chans);
                return false;
            }
        }
        l->var = 0;
        return true;
    }
    int var = -1;
    for (int i = 0; i < 2 && p->n_in == 2; i++)
        if (p->in[i] >= 0 && !onn_graph_const(g, p->in[i])) var = var < 0 ? i : 2;
    if (var < 0 || var > 1) {
        snprintf(why, len, "%s '%s' has no constant operand", p->op_type, p->name);
        return false;
    }
    l->var = var;
    l->kind = onn_affine_kind_of(p, var, why, len);
    if (l->kind == ONN_AFF_NONE) {
        if (!why[0]) snprintf(why, len, "%s '%s' is not Mul, Add, Sub or Div", p->op_type, p->name);
        return false;
    }
    l->c = onn_graph_const(g, p->in[1 - var]);
    if (l->c->dtype != ONNORM_FLOAT && l->c->dtype != ONNORM_DOUBLE) {
        snprintf(why, len, "the constant of %s '%s' is %s; only float32 and float64 are folded",
                 p->op_type, p->name, onnorm_dtype_name(l->c->dtype));
        return false;
    }
    if (cs->r < 0) {
        snprintf(why, len, "the rank of the input of %s '%s' is unknown", cs->node->op_type,
                 cs->node->name);
        return false;
    }
    return onn_affine_per_channel(p, l->c, cs->r, cs->axis, cs->chans, why, len);
}

/* Whether p (a producer of the consumer's input) looks like a chain node,
 * so that a refusal is worth a note. */
static bool looks_like_link(const onn_graph *g, const onn_node *p)
{
    if (onn_node_is(p, "BatchNormalization")) return true;
    if (!(onn_node_is(p, "Mul") || onn_node_is(p, "Add") || onn_node_is(p, "Sub") ||
          onn_node_is(p, "Div")) ||
        p->n_in != 2)
        return false;
    const onn_value *a = &g->values[p->in[0]], *b = &g->values[p->in[1]];
    return (a->init != NULL) != (b->init != NULL);
}

/* Composes the chain (links[0] is the consumer's producer) into m. */
static bool compose(const onn_graph *g, const link *links, int n, onn_affine *m, char *why,
                    size_t len)
{
    for (int i = n - 1; i >= 0; i--) {
        const link *l = &links[i];
        if (l->kind != ONN_AFF_NONE) {
            if (!onn_affine_compose(m, l->kind, l->c, why, len)) return false;
            continue;
        }
        const onn_node *p = l->node;
        const onnorm_tensor *t[5];
        for (int k = 1; k < 5; k++)
            t[k] = onn_graph_const(g, p->in[k]);
        for (int64_t c = 0; c < m->n; c++) {
            const double a =
                onn_affine_elem(t[1], c) / sqrt(onn_affine_elem(t[4], c) + (double)l->eps);
            const double d = onn_affine_elem(t[2], c) - onn_affine_elem(t[3], c) * a;
            m->scale[c] *= a;
            m->shift[c] = m->shift[c] * a + d;
            if (!isfinite(m->scale[c]) || !isfinite(m->shift[c])) {
                snprintf(why, len,
                         "channel %lld of BatchNormalization '%s' has a non-finite factor",
                         (long long)c, p->name);
                return false;
            }
        }
    }
    return true;
}

static bool zero_shift(const onn_affine *m)
{
    for (int64_t c = 0; c < m->n; c++)
        if (m->shift[c] != 0.0) return false;
    return true;
}

/* A new float32 constant from double values, or -1 (err set). */
static int new_f32(onn_graph *g, const char *base, int rank, const int64_t *dims, const double *v,
                   bool *overflow, onnorm_error *err)
{
    onnorm_tensor *t = onn_tensor_new(ONNORM_FLOAT, rank, dims, err);
    if (!t) return -1;
    const int64_t n = onnorm_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        float f = (float)v[i];
        if (!isfinite(f) && isfinite(v[i])) *overflow = true;
        ((float *)t->data)[i] = f;
    }
    int nv = onn_graph_new_constant(g, base, t);
    if (nv < 0) onn_fail(err, ONNORM_ERR_NOMEM, "out of memory adding a folded constant");
    return nv;
}

/*
 * New weight and bias values (double) for the consumer. wd holds W's
 * elements, bd the new bias of shape bdims[0..brank).
 */
typedef struct folded {
    double *w, *b;
    int brank;
    int64_t bdims[2];
    bool any_shift;
} folded;

static bool fold_numbers(const consumer *cs, const onn_affine *m, folded *f)
{
    const onnorm_tensor *w = cs->w;
    const float *wv = w->data;
    const int64_t nw = onnorm_tensor_numel(w);
    memset(f, 0, sizeof *f);
    f->w = malloc((size_t)(nw ? nw : 1) * sizeof *f->w);
    if (!f->w) return false;
    f->any_shift = !zero_shift(m);
    if (cs->kind == 0) {
        const int64_t mo = w->dims[0], cg = w->dims[1], inner = onn_dims_numel(w->dims, 2, w->rank);
        const int64_t groups = cs->chans / cg, per_group = mo / groups;
        f->brank = 1, f->bdims[0] = mo;
        f->b = calloc((size_t)(mo ? mo : 1), sizeof *f->b);
        if (!f->b) return false;
        for (int64_t o = 0; o < mo; o++) {
            double acc = cs->b ? ((const float *)cs->b->data)[o] : 0.0;
            for (int64_t j = 0; j < cg; j++) {
                const int64_t c = o / per_group * cg + j;
                const int64_t base = (o * cg + j) * inner;
                for (int64_t i = 0; i < inner; i++) {
                    f->w[base + i] = (double)wv[base + i] * m->scale[c];
                    acc += (double)wv[base + i] * m->shift[c];
                }
            }
            f->b[o] = acc;
        }
        return true;
    }
    /* [K, N] view: element (k, n) at k * ks + n * ns. */
    const bool tb = cs->kind == 1 && cs->trans_b;
    const int64_t kk = cs->chans, n = w->dims[tb ? 0 : 1];
    const int64_t ks = tb ? 1 : n, ns = tb ? kk : 1;
    double *col = calloc((size_t)(n ? n : 1), sizeof *col); /* sum_k t[k] W[k, n] */
    if (!col) return false;
    for (int64_t k = 0; k < kk; k++)
        for (int64_t j = 0; j < n; j++) {
            const double x = wv[k * ks + j * ns];
            f->w[k * ks + j * ns] = x * m->scale[k];
            col[j] += x * m->shift[k];
        }
    if (cs->kind == 2) {
        f->brank = 1, f->bdims[0] = n, f->b = col;
        return true;
    }
    /* Gemm: C' = beta * C + alpha * col, shape [R, N] or [N]. */
    const onnorm_tensor *c = cs->b;
    const int64_t rows = c && c->rank == 2 ? c->dims[0] : 1;
    f->brank = c && c->rank == 2 ? 2 : 1;
    if (f->brank == 2)
        f->bdims[0] = rows, f->bdims[1] = n;
    else
        f->bdims[0] = n;
    f->b = malloc((size_t)(rows * n > 0 ? rows * n : 1) * sizeof *f->b);
    if (!f->b) {
        free(col);
        return false;
    }
    const int64_t last = c ? (c->rank ? c->dims[c->rank - 1] : 1) : 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n; j++) {
            double cv = 0.0;
            if (c)
                cv = ((const float *)c->data)[r * (c->rank == 2 ? last : 0) + (last == n ? j : 0)];
            f->b[r * n + j] = (double)cs->beta * cv + (double)cs->alpha * col[j];
        }
    free(col);
    return true;
}

static bool fits_f32(const double *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite((float)v[i])) return false;
    return true;
}

/* Rewrites the consumer with f; reads u instead of its input. */
static onnorm_status rewrite(onn_graph *g, const consumer *cs, const folded *f, int u, bool *ok,
                             char *why, size_t len, onnorm_error *err)
{
    *ok = false;
    bool overflow = false;
    onn_node *q = cs->node;
    const int qi = (int)(q - g->nodes);
    char base[400];
    snprintf(base, sizeof base, "%s", g->values[q->in[1]].name);
    const int vw = new_f32(g, base, cs->w->rank, cs->w->dims, f->w, &overflow, err);
    if (vw < 0) return err ? err->code : ONNORM_ERR_NOMEM;
    int vb = -1;
    const bool need_b = cs->kind != 2 || f->any_shift;
    if (need_b) {
        if (cs->kind != 2 && q->n_in > 2 && q->in[2] >= 0)
            snprintf(base, sizeof base, "%s", g->values[q->in[2]].name);
        else
            snprintf(base, sizeof base, "%s_bias", g->values[q->in[1]].name);
        vb = new_f32(g, base, f->brank, f->bdims, f->b, &overflow, err);
        if (vb < 0) return err ? err->code : ONNORM_ERR_NOMEM;
    }
    if (overflow) {
        /* The new constants are unread and dropped by the rebuild. */
        snprintf(why, len, "the folded weights would overflow float32");
        return ONNORM_OK;
    }
    if (cs->kind == 2 && vb >= 0) {
        /* MatMul -> tmp, Add(tmp, bias) -> the MatMul's old output. */
        const int out = q->out[0];
        const int tmp = onn_graph_new_value(g, g->values[out].name);
        if (tmp < 0) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        char name[400];
        snprintf(name, sizeof name, "%s_bias", q->name ? q->name : "matmul");
        const int in[2] = {tmp, vb};
        if (!onn_graph_new_node(g, "Add", name, 2, in, 1, &out))
            return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        q = &g->nodes[qi]; /* the node array may have moved */
        q->out[0] = tmp;
        onn_node *add = &g->nodes[g->n_nodes - 1];
        add->opset = q->opset;
    }
    q->in[0] = u;
    q->in[1] = vw;
    if (cs->kind != 2) {
        if (!onn_affine_input_slot(q, 2)) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        q->in[2] = vb;
    }
    if (cs->kind == 1) {
        onn_node_remove_attr(q, "beta");
        if (!onn_node_set_float(q, "beta", 1.0f))
            return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    *ok = true;
    return ONNORM_OK;
}

static onnorm_status fold_into(onn_graph *g, int qi, bool note, onn_pass_stats *st, bool *done,
                               onnorm_error *err)
{
    *done = false;
    onn_node *q = &g->nodes[qi];
    char why[WHY_LEN] = "";
    consumer cs;
    const bool is_consumer = consumer_of(g, q, &cs, why, sizeof why);
    if (!q->op_type || q->n_in < 1 || q->in[0] < 0) return ONNORM_OK;
    onn_node *first = onn_graph_producer(g, q->in[0]);
    if (!first || !looks_like_link(g, first)) return ONNORM_OK;
    if (!is_consumer) {
        if (note && why[0]) onn_pass_skip(st, first, "%s", why);
        return ONNORM_OK;
    }
    link links[MAX_CHAIN];
    int n = 0;
    int v = q->in[0];
    while (n < MAX_CHAIN) {
        onn_node *p = onn_graph_producer(g, v);
        char w2[WHY_LEN] = "";
        if (!p || !looks_like_link(g, p) || p->out[0] != v ||
            !link_of(g, p, v, &cs, &links[n], w2, sizeof w2)) {
            if (n == 0) snprintf(why, sizeof why, "%s", w2[0] ? w2 : "not foldable");
            break;
        }
        v = p->in[links[n].var];
        n++;
    }
    if (n == 0) {
        if (note) onn_pass_skip(st, first, "%s", why);
        return ONNORM_OK;
    }
    const int u = v; /* the chain's input */
    const onn_value *uv = &g->values[u];
    if (uv->dtype != ONNORM_UNDEFINED && uv->dtype != ONNORM_FLOAT) {
        if (note)
            onn_pass_skip(st, first, "the input of the chain is %s; only float32 is folded",
                          onnorm_dtype_name(uv->dtype));
        return ONNORM_OK;
    }
    const bool starts_bn = links[n - 1].kind == ONN_AFF_NONE;
    const int64_t uc = uv->rank == cs.r && cs.r > cs.axis ? uv->dims[cs.axis] : -1;
    if (!starts_bn && uv->rank != cs.r) {
        if (note)
            onn_pass_skip(st, first,
                          "the chain's input has rank %d (unknown if -1), not the rank %d of "
                          "the input of %s '%s'",
                          uv->rank, cs.r, q->op_type, q->name);
        return ONNORM_OK;
    }
    if ((uc > 0 && uc != cs.chans) || (uc <= 0 && !starts_bn && cs.chans != 1)) {
        if (note)
            onn_pass_skip(st, first,
                          uc > 0 ? "the chain's input has %lld channels, not the %lld the "
                                   "constants broadcast it to"
                                 : "the channel count of the chain's input is unknown "
                                   "(%lld), so the constants may broadcast it to %lld",
                          (long long)uc, (long long)cs.chans);
        return ONNORM_OK;
    }
    onn_affine m;
    if (!onn_affine_init(&m, cs.chans)) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    onnorm_status status = ONNORM_OK;
    folded f = {0};
    if (!compose(g, links, n, &m, why, sizeof why)) goto skip;
    if (cs.pads && !zero_shift(&m)) {
        snprintf(why, sizeof why,
                 "padding: %s '%s' pads its input with zeros, which after the fold would "
                 "stand for a shifted value, so the fold would not be exact",
                 q->op_type, q->name);
        goto skip;
    }
    if (!fold_numbers(&cs, &m, &f)) {
        status = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!fits_f32(f.w, onnorm_tensor_numel(cs.w)) ||
        !fits_f32(f.b, onn_dims_numel(f.bdims, 0, f.brank))) {
        snprintf(why, sizeof why, "the folded weights would overflow float32");
        goto skip;
    }
    int link_at[MAX_CHAIN];
    for (int i = 0; i < n; i++)
        link_at[i] = (int)(links[i].node - g->nodes);
    bool ok;
    status = rewrite(g, &cs, &f, u, &ok, why, sizeof why, err);
    if (status) goto out;
    if (!ok) goto skip;
    /* rewrite may have moved the node array: clear by index */
    for (int i = 0; i < n; i++)
        onn_node_clear(&g->nodes[link_at[i]]);
    *done = true;
    goto out;
skip:
    if (note) onn_pass_skip(st, first, "%s", why);
out:
    free(f.w), free(f.b);
    onn_affine_free(&m);
    return status;
}

onnorm_status onn_pass_fold_norm_conv(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    const int n0 = g->n_nodes; /* nodes this pass appends are Adds, no consumers */
    for (int i = 0; i < n0; i++) {
        bool done;
        onnorm_status s = fold_into(g, i, true, st, &done, err);
        if (s) return s;
        if (done) st->matched++;
    }
    return ONNORM_OK;
}
