/*
 * GroupNormalization recognizer ("groupnorm").
 *
 * PyTorch's TorchScript exporter (1.13) writes nn.GroupNorm(G, C) as
 *
 *   R1 = Reshape(X, [0, G, -1])                      X: [N, C, D...]
 *   I  = InstanceNormalization(R1, ones[G], zeros[G], epsilon)
 *   R2 = Reshape(I, Shape(X))                        back to X's shape
 *   Y  = Add(Mul(R2, gamma[C,1..1]), beta[C,1..1])   (only when affine)
 *
 * Instance normalization of [N, G, C/G*D] takes mean and variance over each
 * group's channels and positions, which is exactly group normalization, so
 * the chain becomes one GroupNormalization node. The opset-21 form (scale
 * and bias per channel) holds any gamma/beta; the opset-18 form (per group)
 * only gamma/beta that are constant within each group, so it is the
 * fallback when the model cannot move to opset 21.
 *
 * The pass anchors on InstanceNormalization nodes fed by a Reshape; every
 * such node it leaves alone is reported with the reason.
 */
#include "graph/edit.h"
#include "graph/passes.h"

#include <stdio.h>
#include <string.h>

/* The rewrite targets decided once per run, before any rewrite: a new
 * GroupNormalization node would itself block raising the opset. */
typedef struct gn_forms {
    bool per_channel; /* opset 21 is (or can be made) the model's opset */
    bool per_group;   /* opset 18 is (or can be made) the model's opset */
    char why21[256];  /* why not per_channel */
    char why18[256];  /* why not per_group */
} gn_forms;

/* One recognized chain. Nodes are kept by index: adding values or nodes may
 * move the arrays. */
typedef struct gn_match {
    int r1, inorm, r2, mul, add; /* node indices; mul/add -1 when absent */
    int x, y;                    /* X, and the value the fused node produces */
    int rank;
    int64_t C, G;
    float epsilon;
    const onnorm_tensor *gamma, *beta; /* per-channel constants or NULL */
} gn_match;

/* The only consumer of v (by node index), or -1 when v has other readers or
 * is a graph output. */
static int sole_consumer(const onn_graph *g, int v)
{
    int idx;
    if (!onn_graph_single_use(g, v) || onn_graph_consumers(g, v, &idx, 1) != 1) return -1;
    return idx;
}

/* Reshape's allowzero (opset 14): a 0 in the shape is then a literal 0. */
static bool reshape_allowzero(const onn_node *n)
{
    const onn_attr *a = onn_attr_find(n, "allowzero");
    return a && a->type == ONN_ATTR_INT && a->i != 0;
}

/* Why v cannot be an internal edge of the chain ("" when it can). */
static const char *use_problem(const onn_graph *g, int v, char *buf, size_t len)
{
    if (g->values[v].is_output) return "is a graph output";
    if (onn_graph_single_use(g, v)) return "";
    int readers = onn_graph_consumers(g, v, NULL, 0);
    if (readers <= 1) return "is read twice by one node";
    snprintf(buf, len, "has other readers (%d nodes read it), so it must stay", readers);
    return buf;
}

/* "[0,2,-1]": Reshape targets keep their 0 and -1 (onn_shape_str prints
 * negative dims as unknown). */
static const char *target_str(const int64_t *s, int n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < n && used < len; k++) {
        int w = snprintf(buf + used, len - used, "%s%lld", k ? "," : "[", (long long)s[k]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (used < len) snprintf(buf + used, len - used, n ? "]" : "[]");
    return buf;
}

/* The int64 entries of a constant rank-1 shape tensor; false otherwise. */
static bool shape_values(const onnorm_tensor *t, int64_t *s, int *len)
{
    if (!t || t->dtype != ONNORM_INT64 || t->rank != 1 || t->dims[0] > ONNORM_MAX_RANK)
        return false;
    *len = (int)t->dims[0];
    memcpy(s, t->data, (size_t)*len * sizeof *s);
    return true;
}

static bool all_equal(const onnorm_tensor *t, float want)
{
    const float *p = t->data;
    for (int64_t i = 0; i < onnorm_tensor_numel(t); i++)
        if (p[i] != want) return false;
    return true;
}

/* Product of X's dims from axis `from` on, or -1 when one is unknown. */
static int64_t known_numel(const onn_value *x, int from)
{
    int64_t p = 1;
    for (int d = from; d < x->rank; d++) {
        if (x->dims[d] < 0) return -1;
        p *= x->dims[d];
    }
    return p;
}

/* Checks that R1 turns X [N, C, D...] into [N, G, C/G * prod(D)]; sets G.
 * Accepted batch entries: 0 (copy), N itself, or -1 when the last entry is
 * explicit; accepted last entries: -1 or C/G * prod(D) itself. */
static bool check_split(const onn_graph *g, const onn_node *r1, gn_match *m, char *why, size_t len)
{
    const onn_value *x = &g->values[m->x];
    int64_t s[ONNORM_MAX_RANK];
    int n;
    if (r1->n_in < 2 || !shape_values(onn_graph_const(g, r1->in[1]), s, &n)) {
        snprintf(why, len, "the first Reshape's shape is not a constant int64 vector");
        return false;
    }
    char buf[128];
    target_str(s, n, buf, sizeof buf);
    if (n != 3) {
        snprintf(why, len,
                 "the first Reshape's target %s is not [N, G, -1]: it does not split "
                 "the channels into groups",
                 buf);
        return false;
    }
    const bool zero_copies = !reshape_allowzero(r1);
    const int64_t C = m->C, G = s[1], rest = known_numel(x, 2);
    const int64_t L = G > 0 && C % G == 0 && rest >= 0 ? C / G * rest : -1;
    bool batch_ok = (s[0] == 0 && zero_copies) || (s[0] > 0 && s[0] == x->dims[0]) ||
                    (s[0] == -1 && s[2] > 0 && s[2] == L);
    bool last_ok = (s[2] == -1 && s[0] != -1) || (s[2] > 0 && s[2] == L);
    if (G <= 0 || C % G != 0) {
        snprintf(why, len,
                 "the first Reshape's target %s makes %lld groups, which do not divide "
                 "the %lld channels",
                 buf, (long long)G, (long long)C);
        return false;
    }
    if (!batch_ok || !last_ok) {
        snprintf(why, len,
                 "the first Reshape's target %s is not [N, %lld, -1] for X of rank %d "
                 "(batch or group size not provably kept)",
                 buf, (long long)G, x->rank);
        return false;
    }
    m->G = G;
    return true;
}

/* InstanceNormalization with scale all ones and B all zeros over G groups. */
static bool check_instnorm(const onn_graph *g, const onn_node *in, gn_match *m, char *why,
                           size_t len)
{
    const onnorm_tensor *sc = in->n_in == 3 ? onn_graph_const(g, in->in[1]) : NULL;
    const onnorm_tensor *b = in->n_in == 3 ? onn_graph_const(g, in->in[2]) : NULL;
    if (!sc || !b) {
        snprintf(why, len, "its scale or B is not a constant");
        return false;
    }
    if (sc->dtype != ONNORM_FLOAT || b->dtype != ONNORM_FLOAT) {
        snprintf(why, len, "not float32 (scale is %s)", onnorm_dtype_name(sc->dtype));
        return false;
    }
    if (onnorm_tensor_numel(sc) != m->G || onnorm_tensor_numel(b) != m->G) {
        snprintf(why, len, "scale/B do not have %lld (the group count) elements", (long long)m->G);
        return false;
    }
    if (!all_equal(sc, 1.0f) || !all_equal(b, 0.0f)) {
        snprintf(why, len,
                 "its scale is not all ones or its B not all zeros, so it is not "
                 "GroupNorm's plain normalization");
        return false;
    }
    if (!onn_attr_float(in, "epsilon", 1e-5f, &m->epsilon, NULL)) {
        snprintf(why, len, "its epsilon attribute is not a float");
        return false;
    }
    return true;
}

/* Shape(X) over all of X's axes (Shape-15's start/end left at defaults). */
static bool is_full_shape_of(const onn_node *p, int x, int rank)
{
    if (!onn_node_is(p, "Shape") || p->n_in < 1 || p->in[0] != x) return false;
    const onn_attr *a = onn_attr_find(p, "start"), *b = onn_attr_find(p, "end");
    bool start_ok = !a || (a->type == ONN_ATTR_INT && (a->i == 0 || a->i <= -rank));
    bool end_ok = !b || (b->type == ONN_ATTR_INT && b->i >= rank);
    return start_ok && end_ok;
}

/* R2 restores X's shape: its shape is Shape(X), or a constant each of whose
 * entries provably gives X's dim (equal, 0 copying N, or one -1 inferred
 * from the others). */
static bool check_restore(onn_graph *g, const onn_node *r2, const gn_match *m, char *why,
                          size_t len)
{
    if (r2->n_in < 2 || r2->in[1] < 0) {
        snprintf(why, len, "the second Reshape has no shape input");
        return false;
    }
    if (is_full_shape_of(onn_graph_producer(g, r2->in[1]), m->x, m->rank)) return true;
    int64_t s[ONNORM_MAX_RANK];
    int n;
    if (!shape_values(onn_graph_const(g, r2->in[1]), s, &n)) {
        snprintf(why, len, "the second Reshape's shape is neither Shape(X) nor a constant");
        return false;
    }
    const onn_value *x = &g->values[m->x];
    char buf[128];
    target_str(s, n, buf, sizeof buf);
    int inferred = 0;
    bool ok = n == m->rank;
    for (int d = 0; ok && d < n; d++) {
        if (s[d] == -1)
            inferred++;
        else if (s[d] == 0 && !reshape_allowzero(r2))
            ok = d == 0 || (d == 1 && m->G == m->C); /* copies [N, G, L]'s dim d */
        else
            ok = x->dims[d] >= 0 && s[d] == x->dims[d];
    }
    if (!ok || inferred > 1) {
        snprintf(why, len, "the second Reshape's target %s does not restore X's shape", buf);
        return false;
    }
    return true;
}

/* t broadcasts against X [N, C, D...] as one value per channel: its dims,
 * aligned to X's trailing axes, are all 1 except C on the channel axis. */
static bool per_channel_shape(const onnorm_tensor *t, int rank, int64_t C)
{
    if (t->rank > rank) return false;
    for (int d = 0; d < t->rank; d++) {
        int axis = d + rank - t->rank;
        if (t->dims[d] != 1 && !(axis == 1 && t->dims[d] == C)) return false;
    }
    return true;
}

/* Value of a per-channel constant for channel c (it has 1 or C elements). */
static float channel_value(const onnorm_tensor *t, int64_t c)
{
    const float *p = t->data;
    return onnorm_tensor_numel(t) == 1 ? p[0] : p[c];
}

/*
 * One affine step after value v: v's only consumer is an `op` (Mul or Add)
 * whose other operand is a per-channel float32 constant. Returns 1 with the
 * node index and constant, 0 when there is no such step (the chain simply
 * ends), -1 with a reason when the step is there but does not fit.
 */
static int affine_step(const onn_graph *g, int v, const char *op, const gn_match *m, int *node,
                       const onnorm_tensor **t, char *why, size_t len)
{
    int idx = sole_consumer(g, v);
    if (idx < 0) return 0;
    const onn_node *n = &g->nodes[idx];
    if (!onn_node_is(n, op) || n->n_in != 2 || n->out[0] < 0) return 0;
    int other = n->in[0] == v ? n->in[1] : n->in[0];
    const onnorm_tensor *c = other == v ? NULL : onn_graph_const(g, other);
    if (!c) return 0; /* a runtime operand (e.g. a residual): not GroupNorm's affine */
    char buf[128];
    if (c->dtype != ONNORM_FLOAT) {
        snprintf(why, len, "the %s after it has a %s constant, not float32", op,
                 onnorm_dtype_name(c->dtype));
        return -1;
    }
    if (!per_channel_shape(c, m->rank, m->C)) {
        snprintf(why, len,
                 "the %s after it has a constant of shape %s, which is not per channel "
                 "for X of rank %d with %lld channels",
                 op, onn_shape_str(c->dims, c->rank, buf, sizeof buf), m->rank, (long long)m->C);
        return -1;
    }
    *node = idx, *t = c;
    return 1;
}

/* Follows the chain from InstanceNormalization node `i`. Returns false with
 * a reason in why when the chain is a near-miss. */
static bool match_chain(onn_graph *g, int i, gn_match *m, char *why, size_t len)
{
    const onn_node *in = &g->nodes[i];
    const onn_node *r1 = onn_graph_producer(g, in->in[0]);
    memset(m, 0, sizeof *m);
    m->inorm = i, m->mul = m->add = -1;
    m->r1 = (int)(r1 - g->nodes);
    m->x = r1->in[0];
    const onn_value *x = &g->values[m->x];
    m->rank = x->rank, m->C = x->rank >= 2 ? x->dims[1] : -1;
    if (x->rank < 2 || m->C <= 0) {
        snprintf(why, len, "X's rank or channel count is not known statically");
        return false;
    }
    if (x->dtype != ONNORM_FLOAT && x->dtype != ONNORM_UNDEFINED) {
        snprintf(why, len, "X is %s, not float32", onnorm_dtype_name(x->dtype));
        return false;
    }
    char ubuf[96];
    const char *use = use_problem(g, in->in[0], ubuf, sizeof ubuf);
    if (use[0]) {
        snprintf(why, len, "the first Reshape's output %s", use);
        return false;
    }
    if (!check_split(g, r1, m, why, len) || !check_instnorm(g, in, m, why, len)) return false;
    use = use_problem(g, in->out[0], ubuf, sizeof ubuf);
    int r2 = sole_consumer(g, in->out[0]);
    if (r2 < 0 || !onn_node_is(&g->nodes[r2], "Reshape") || g->nodes[r2].in[0] != in->out[0]) {
        snprintf(why, len, "its output %s", use[0] ? use : "is not reshaped back by a Reshape");
        return false;
    }
    m->r2 = r2;
    if (!check_restore(g, &g->nodes[r2], m, why, len)) return false;
    m->y = g->nodes[r2].out[0];
    int step = affine_step(g, m->y, "Mul", m, &m->mul, &m->gamma, why, len);
    if (step < 0) return false;
    if (step > 0) m->y = g->nodes[m->mul].out[0];
    step = affine_step(g, m->y, "Add", m, &m->add, &m->beta, why, len);
    if (step < 0) return false;
    if (step > 0) m->y = g->nodes[m->add].out[0];
    return true;
}

/* Per-channel values are the same for every channel of each group, so the
 * opset-18 form (one scale and bias per group) can carry them. */
static bool group_constant(const onnorm_tensor *t, int64_t C, int64_t G)
{
    if (!t) return true;
    const int64_t cpg = C / G;
    for (int64_t c = 0; c < C; c++)
        if (channel_value(t, c) != channel_value(t, c - c % cpg)) return false;
    return true;
}

/* A new [len] float32 constant: t's value per channel (or per group's first
 * channel), or `dflt` everywhere when t is NULL. */
static int param_constant(onn_graph *g, const char *base, const onnorm_tensor *t, float dflt,
                          int64_t len, int64_t stride, onnorm_error *err)
{
    onnorm_tensor *p = onn_tensor_new(ONNORM_FLOAT, 1, &len, err);
    if (!p) return -1;
    float *d = p->data;
    for (int64_t k = 0; k < len; k++)
        d[k] = t ? channel_value(t, k * stride) : dflt;
    int v = onn_graph_new_constant(g, base, p);
    if (v < 0) onn_fail(err, ONNORM_ERR_NOMEM, "out of memory adding a constant");
    return v;
}

/* Replaces the matched chain by one GroupNormalization node. */
static onnorm_status rewrite(onn_graph *g, const gn_match *m, bool per_channel, onnorm_error *err)
{
    const int64_t len = per_channel ? m->C : m->G, stride = per_channel ? 1 : m->C / m->G;
    char sbase[300], bbase[300], name[300];
    snprintf(sbase, sizeof sbase, "%.200s_gn_scale", g->values[m->y].name);
    snprintf(bbase, sizeof bbase, "%.200s_gn_bias", g->values[m->y].name);
    const char *iname = g->nodes[m->inorm].name;
    snprintf(name, sizeof name, "%.200s_groupnorm",
             iname && iname[0] ? iname : g->values[m->y].name);
    int sv = param_constant(g, sbase, m->gamma, 1.0f, len, stride, err);
    int bv = sv < 0 ? -1 : param_constant(g, bbase, m->beta, 0.0f, len, stride, err);
    if (sv < 0 || bv < 0) return err ? err->code : ONNORM_ERR_NOMEM;
    const int ins[3] = {m->x, sv, bv}, y = m->y;
    onn_node *gn = onn_graph_new_node(g, "GroupNormalization", name, 3, ins, 1, &y);
    if (!gn || !onn_node_set_int(gn, "num_groups", m->G) ||
        !onn_node_set_float(gn, "epsilon", m->epsilon))
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory adding a GroupNormalization node");
    /* Indices stay valid: new nodes were appended after them. */
    const int old[5] = {m->r1, m->inorm, m->r2, m->mul, m->add};
    for (int k = 0; k < 5; k++)
        if (old[k] >= 0) onn_node_clear(&g->nodes[old[k]]);
    return ONNORM_OK;
}

/* Picks the form for one match and raises the opset it needs; false with a
 * reason when neither form is available. */
static bool choose_form(onn_graph *g, const gn_forms *f, const gn_match *m, bool *per_channel,
                        char *why, size_t len)
{
    int64_t opset;
    if (f->per_channel) {
        *per_channel = true, opset = 21;
    } else if (!group_constant(m->gamma, m->C, m->G) || !group_constant(m->beta, m->C, m->G)) {
        snprintf(why, len,
                 "gamma/beta vary within a group, which needs GroupNormalization-21, "
                 "but %.250s",
                 f->why21);
        return false;
    } else if (!f->per_group) {
        snprintf(why, len, "GroupNormalization needs opset 18 or 21: %.150s; %.150s", f->why21,
                 f->why18);
        return false;
    } else {
        *per_channel = false, opset = 18;
    }
    if (!onn_graph_raise_opset(g, "", opset)) {
        snprintf(why, len, "the model imports no ai.onnx opset to raise");
        return false;
    }
    return true;
}

/* The fused output has X's shape. Recording it and inferring again makes
 * the next chains (whose X depends on this one) matchable within the same
 * pass. */
static void refresh_shapes(onn_graph *g, const onn_pass_stats *st, const gn_match *m)
{
    const onn_value *x = &g->values[m->x];
    onn_value *y = &g->values[m->y];
    y->dtype = ONNORM_FLOAT, y->rank = x->rank;
    memcpy(y->dims, x->dims, sizeof y->dims);
    st->env->infer_shapes(g, NULL, 0);
}

onnorm_status onn_pass_groupnorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    gn_forms f = {0};
    f.per_channel =
        onn_graph_can_raise_opset(g, st->env->same_meaning, "", 21, NULL, f.why21, sizeof f.why21);
    f.per_group =
        onn_graph_can_raise_opset(g, st->env->same_meaning, "", 18, NULL, f.why18, sizeof f.why18);
    const int n_nodes = g->n_nodes; /* the nodes this pass adds are not candidates */
    for (int i = 0; i < n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        if (!onn_node_is(n, "InstanceNormalization") || n->n_in < 1 || n->in[0] < 0 ||
            n->out[0] < 0)
            continue;
        const onn_node *r1 = onn_graph_producer(g, n->in[0]);
        if (!onn_node_is(r1, "Reshape") || r1->in[0] < 0) continue; /* a plain InstanceNorm */
        gn_match m;
        char why[400];
        bool per_channel;
        if (!match_chain(g, i, &m, why, sizeof why) ||
            !choose_form(g, &f, &m, &per_channel, why, sizeof why)) {
            onn_pass_skip(st, &g->nodes[i], "%s", why);
            continue;
        }
        onnorm_status s = rewrite(g, &m, per_channel, err);
        if (s) return s;
        st->matched++;
        refresh_shapes(g, st, &m);
    }
    return ONNORM_OK;
}
