/*
 * fold-affine-into-norm: a Mul, Add, Sub or Div by a constant that follows a
 * normalization node is folded into that node's scale and bias.
 *
 * The norms end in y = n(x) * gamma + beta, so y * s + t is
 * n(x) * (gamma * s) + (beta * s + t): the node takes gamma' = gamma * s and
 * beta' = beta * s + t and the Mul/Add disappears. Covered:
 *
 *   BatchNormalization (inference form), InstanceNormalization and
 *   GroupNormalization from opset 21: gamma, beta per channel (axis 1);
 *   the constant must vary along axis 1 only ([C], [C,1,1], [1,C,1,1], a
 *   scalar, ...).
 *   GroupNormalization before opset 21 has one gamma and beta per group, so
 *   the constant must be the same for every channel of a group (a scalar,
 *   or a per-channel tensor constant within each group); else it is a
 *   near-miss.
 *   LayerNormalization: gamma, beta broadcast over the normalized axes
 *   (axis..rank-1); the constant must have size 1 on every other axis, and
 *   on a normalized axis either size 1 or the size that axis has (known
 *   from shape inference or from gamma); gamma' and beta' take the
 *   broadcast shape of gamma, beta and the constant. Its Mean and InvStdDev
 *   outputs do not depend on gamma and beta and may be used.
 *
 * Sub and Div are x - c (shift -c), c - x (scale -1, shift c) and x / c
 * (scale 1/c: x / c and x * (1 / c) may differ in the last bit); c / x is
 * not affine and is a near-miss.
 *
 * Decisions where the issue is silent:
 * - The norm's output Y must feed only the folded node and not be a graph
 *   output. The second operand must be a constant; an initializer that is
 *   also a graph input is not (a caller may override it). Each such case is
 *   a near-miss with its reason, including a computed operand (a residual
 *   Add after a norm is one: the note is the price of listing them all).
 * - Element types: the constant, gamma and beta must all be float32 or all
 *   float64 (beta of LayerNormalization may be absent: it is created).
 *   Everything is computed in double and rounded to that type once.
 * - BatchNormalization in training mode, with outputs besides Y, or before
 *   opset 9 with spatial = 0, is left alone.
 * - The binary node must be opset 7 or later (numpy broadcasting).
 * - New constants with new names replace gamma and beta (the originals may
 *   be borrowed or shared); the norm takes over the folded node's output so
 *   graph output names survive, and chains (BN -> Mul -> Add) fold in one
 *   sweep in topological order.
 */
#include "graph/affine.h"
#include "graph/passes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY_LEN 320

/* ---- shared helpers (graph/affine.h) ------------------------------------ */

bool onn_affine_init(onn_affine *m, int64_t n)
{
    m->n = n;
    m->scale = malloc((size_t)(n > 0 ? n : 1) * sizeof *m->scale);
    m->shift = malloc((size_t)(n > 0 ? n : 1) * sizeof *m->shift);
    if (!m->scale || !m->shift) {
        onn_affine_free(m);
        return false;
    }
    for (int64_t c = 0; c < n; c++)
        m->scale[c] = 1.0, m->shift[c] = 0.0;
    return true;
}

void onn_affine_free(onn_affine *m)
{
    free(m->scale);
    free(m->shift);
    m->scale = m->shift = NULL;
}

onn_affine_kind onn_affine_kind_of(const onn_node *n, int var, char *why, size_t len)
{
    if (why && len) why[0] = '\0';
    if (n->n_in != 2) return ONN_AFF_NONE;
    if (onn_node_is(n, "Mul")) return ONN_AFF_MUL;
    if (onn_node_is(n, "Add")) return ONN_AFF_ADD;
    if (onn_node_is(n, "Sub")) return var == 0 ? ONN_AFF_SUB : ONN_AFF_RSUB;
    if (onn_node_is(n, "Div")) {
        if (var == 0) return ONN_AFF_DIV;
        snprintf(why, len,
                 "Div '%s' divides a constant by the normalized value, which is not "
                 "an affine map of it",
                 n->name);
    }
    return ONN_AFF_NONE;
}

double onn_affine_elem(const onnorm_tensor *t, int64_t i)
{
    return t->dtype == ONNORM_DOUBLE ? ((const double *)t->data)[i]
                                     : (double)((const float *)t->data)[i];
}

bool onn_affine_per_channel(const onn_node *n, const onnorm_tensor *c, int r, int axis,
                            int64_t chans, char *why, size_t len)
{
    if (n->opset < 7) {
        snprintf(why, len, "%s '%s' uses legacy broadcasting (opset %lld)", n->op_type, n->name,
                 (long long)n->opset);
        return false;
    }
    return onn_affine_channel_shape(n, c, r - c->rank, r, axis, chans, why, len);
}

bool onn_affine_channel_shape(const onn_node *n, const onnorm_tensor *c, int64_t start, int r,
                              int axis, int64_t chans, char *why, size_t len)
{
    bool ok = start >= 0 && start + c->rank <= r;
    for (int d = 0; ok && d < c->rank; d++)
        ok = c->dims[d] == 1 || (start + d == axis && c->dims[d] == chans);
    if (!ok) {
        char s[128];
        snprintf(why, len,
                 "the constant operand of %s '%s', shape %s, does not broadcast along the %lld "
                 "channels of axis %d of a rank-%d tensor only (it is not per-channel)",
                 n->op_type, n->name, onn_shape_str(c->dims, c->rank, s, sizeof s),
                 (long long)chans, axis, r);
    }
    return ok;
}

bool onn_affine_compose(onn_affine *m, onn_affine_kind k, const onnorm_tensor *c, char *why,
                        size_t len)
{
    const bool per = onnorm_tensor_numel(c) != 1;
    for (int64_t ch = 0; ch < m->n; ch++) {
        const double v = onn_affine_elem(c, per ? ch : 0);
        double *s = &m->scale[ch], *t = &m->shift[ch];
        switch (k) {
        case ONN_AFF_MUL: *s *= v, *t *= v; break;
        case ONN_AFF_ADD: *t += v; break;
        case ONN_AFF_SUB: *t -= v; break;
        case ONN_AFF_RSUB: *s = -*s, *t = v - *t; break;
        case ONN_AFF_DIV:
            if (v == 0.0) {
                snprintf(why, len, "the divisor is 0 for channel %lld", (long long)ch);
                return false;
            }
            *s /= v, *t /= v;
            break;
        default: snprintf(why, len, "not an affine node"); return false;
        }
        if (!isfinite(*s) || !isfinite(*t) || !isfinite(v)) {
            snprintf(why, len, "the constant or the folded factor is not finite for channel %lld",
                     (long long)ch);
            return false;
        }
    }
    return true;
}

void onn_affine_not_const_why(const onn_graph *g, int v, const char *what, char *why, size_t len)
{
    if (v < 0) {
        snprintf(why, len, "%s is absent", what);
        return;
    }
    const onn_value *val = &g->values[v];
    if (val->is_input && val->init)
        snprintf(why, len,
                 "%s ('%s') is a graph input with an initializer, which callers may override, "
                 "so it is not a constant",
                 what, val->name);
    else if (val->is_input)
        snprintf(why, len, "%s ('%s') is a graph input, not a constant", what, val->name);
    else
        snprintf(why, len, "%s ('%s') is computed by a node, not a constant", what, val->name);
}

bool onn_affine_input_slot(onn_node *n, int k)
{
    if (k < n->n_in) return true;
    int *in = realloc(n->in, (size_t)(k + 1) * sizeof *in);
    if (!in) return false;
    for (int i = n->n_in; i <= k; i++)
        in[i] = -1;
    n->in = in;
    n->n_in = k + 1;
    return true;
}

/* ---- the pass ----------------------------------------------------------- */

static bool is_norm(const onn_node *p)
{
    return onn_node_is(p, "BatchNormalization") || onn_node_is(p, "InstanceNormalization") ||
           onn_node_is(p, "GroupNormalization") || onn_node_is(p, "LayerNormalization");
}

/* The float32/float64 constant parameter at slot k of norm p, or NULL with
 * why. `dt` is the constant operand's type, which it must share. */
static const onnorm_tensor *norm_param(const onn_graph *g, const onn_node *p, int k,
                                       const char *what, onnorm_dtype dt, char *why, size_t len)
{
    char w[128];
    snprintf(w, sizeof w, "%s of %s '%s'", what, p->op_type, p->name);
    const int v = k < p->n_in ? p->in[k] : -1;
    const onnorm_tensor *t = onn_graph_const(g, v);
    if (!t) {
        onn_affine_not_const_why(g, v, w, why, len);
        return NULL;
    }
    if (t->dtype != dt) {
        snprintf(why, len, "%s is %s but the constant operand is %s: element types differ", w,
                 onnorm_dtype_name(t->dtype), onnorm_dtype_name(dt));
        return NULL;
    }
    return t;
}

/* BatchNormalization p normalizes with stored statistics and has Y only. */
static bool bn_inference(const onn_node *p, char *why, size_t len)
{
    int64_t mode = 0, spatial = 1;
    int extra = 0;
    for (int k = 1; k < p->n_out; k++)
        extra += p->out[k] >= 0;
    if (p->opset >= 14 && (!onn_attr_int(p, "training_mode", 0, &mode, NULL) || mode != 0)) {
        snprintf(why, len, "BatchNormalization '%s' is in training mode (batch statistics)",
                 p->name);
        return false;
    }
    if (p->opset < 7 && (!onn_attr_int(p, "is_test", 0, &mode, NULL) || mode == 0)) {
        snprintf(why, len, "BatchNormalization '%s' has is_test 0 (batch statistics)", p->name);
        return false;
    }
    if (extra) {
        snprintf(why, len, "BatchNormalization '%s' has %d outputs besides Y (training statistics)",
                 p->name, extra);
        return false;
    }
    if (p->opset < 9 && (!onn_attr_int(p, "spatial", 1, &spatial, NULL) || spatial != 1)) {
        snprintf(why, len, "BatchNormalization '%s' has spatial 0", p->name);
        return false;
    }
    return true;
}

/* A new constant of type dt and shape dims[0..rank) from double values,
 * replacing slot k of p; the name follows the old value's, or p's. */
static onnorm_status set_param(onn_graph *g, onn_node *p, int k, onnorm_dtype dt, int rank,
                               const int64_t *dims, const double *v, onnorm_error *err)
{
    onnorm_tensor *t = onn_tensor_new(dt, rank, dims, err);
    if (!t) return err ? err->code : ONNORM_ERR_NOMEM;
    const int64_t n = onnorm_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        if (dt == ONNORM_DOUBLE)
            ((double *)t->data)[i] = v[i];
        else
            ((float *)t->data)[i] = (float)v[i];
    }
    char base[400];
    const int old = k < p->n_in ? p->in[k] : -1;
    if (old >= 0)
        snprintf(base, sizeof base, "%s", g->values[old].name);
    else
        snprintf(base, sizeof base, "%s_bias", p->name && p->name[0] ? p->name : "norm");
    const int nv = onn_graph_new_constant(g, base, t);
    if (nv < 0 || !onn_affine_input_slot(p, k))
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory adding a folded constant");
    p->in[k] = nv;
    return ONNORM_OK;
}

/* True when every folded number fits type dt. */
static bool fits(const double *v, int64_t n, onnorm_dtype dt)
{
    for (int64_t i = 0; i < n; i++)
        if (dt == ONNORM_FLOAT ? !isfinite((float)v[i]) : !isfinite(v[i])) return false;
    return true;
}

/*
 * Channel norms: BatchNormalization, InstanceNormalization,
 * GroupNormalization. `c` is the constant of node n of kind k, y the norm's
 * output (rank r). Folds or leaves why.
 */
static onnorm_status fold_channel_norm(onn_graph *g, onn_node *p, onn_node *n, onn_affine_kind k,
                                       const onnorm_tensor *c, int r, bool *done, char *why,
                                       size_t len, onnorm_error *err)
{
    const bool bn = onn_node_is(p, "BatchNormalization");
    const bool gn = onn_node_is(p, "GroupNormalization");
    const bool per_group = gn && p->opset < 21;
    if (bn && !bn_inference(p, why, len)) return ONNORM_OK;
    const onnorm_tensor *gamma = norm_param(g, p, 1, "the scale", c->dtype, why, len);
    const onnorm_tensor *beta = gamma ? norm_param(g, p, 2, "the bias", c->dtype, why, len) : NULL;
    if (!gamma || !beta) return ONNORM_OK;
    if (c->dtype != ONNORM_FLOAT && c->dtype != ONNORM_DOUBLE) {
        snprintf(why, len, "the constant is %s; only float32 and float64 are folded",
                 onnorm_dtype_name(c->dtype));
        return ONNORM_OK;
    }
    const int64_t np = onnorm_tensor_numel(gamma);
    if (gamma->rank != 1 || beta->rank != 1 || beta->dims[0] != np || np < 1) {
        snprintf(why, len, "the scale and bias of %s '%s' are not vectors of one length",
                 p->op_type, p->name);
        return ONNORM_OK;
    }
    if (r < 2) {
        snprintf(why, len, "the rank of the output of %s '%s' is unknown", p->op_type, p->name);
        return ONNORM_OK;
    }
    /* Channels C: the parameters' length, or for GroupNormalization-18 the
     * output's axis 1 (needed only when the constant is per-channel). */
    int64_t chans = np;
    const int y = p->out[0];
    if (per_group) chans = g->values[y].rank == r ? g->values[y].dims[1] : -1;
    const bool scalar = onnorm_tensor_numel(c) == 1;
    if (per_group && !scalar && chans <= 0) {
        snprintf(why, len,
                 "the channel count of the output of GroupNormalization '%s' is unknown, so a "
                 "per-channel constant cannot be matched to its groups",
                 p->name);
        return ONNORM_OK;
    }
    if (!onn_affine_per_channel(n, c, r, 1, scalar ? 1 : chans, why, len)) return ONNORM_OK;
    onn_affine m;
    if (!onn_affine_init(&m, scalar ? 1 : chans))
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    onnorm_status st = ONNORM_OK;
    if (!onn_affine_compose(&m, k, c, why, len)) goto out;
    if (per_group && !scalar) {
        if (chans % np) {
            snprintf(why, len,
                     "the %lld groups of GroupNormalization '%s' do not divide its %lld "
                     "channels",
                     (long long)np, p->name, (long long)chans);
            goto out;
        }
        const int64_t per = chans / np;
        for (int64_t ch = 0; ch < chans; ch++) {
            const int64_t first = ch / per * per;
            if (m.scale[ch] != m.scale[first] || m.shift[ch] != m.shift[first]) {
                snprintf(why, len,
                         "GroupNormalization '%s' (opset %lld, before 21) has one scale and bias "
                         "per group, and the constant differs within group %lld",
                         p->name, (long long)p->opset, (long long)(ch / per));
                goto out;
            }
        }
    }
    double *ng = malloc((size_t)np * sizeof *ng), *nb = malloc((size_t)np * sizeof *nb);
    if (!ng || !nb) {
        free(ng), free(nb);
        st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        goto out;
    }
    const int64_t per = per_group && !scalar ? chans / np : 1;
    for (int64_t i = 0; i < np; i++) {
        const int64_t ch = scalar ? 0 : i * per;
        ng[i] = onn_affine_elem(gamma, i) * m.scale[ch];
        nb[i] = onn_affine_elem(beta, i) * m.scale[ch] + m.shift[ch];
    }
    if (!fits(ng, np, c->dtype) || !fits(nb, np, c->dtype)) {
        snprintf(why, len, "the folded scale or bias would overflow %s",
                 onnorm_dtype_name(c->dtype));
    } else if (!(st = set_param(g, p, 1, c->dtype, 1, gamma->dims, ng, err)) &&
               !(st = set_param(g, p, 2, c->dtype, 1, beta->dims, nb, err))) {
        *done = true;
    }
    free(ng), free(nb);
out:
    onn_affine_free(&m);
    return st;
}

/* Offset in a tensor of shape dims[0..rank), right-aligned in shape
 * P[0..kp) and broadcast, of the element at P-index idx. */
static int64_t bcast_offset(const int64_t *dims, int rank, const int64_t *idx, int kp)
{
    int64_t off = 0;
    for (int d = 0; d < rank; d++) {
        const int pd = kp - rank + d;
        off = off * dims[d] + (dims[d] == 1 || pd < 0 ? 0 : idx[pd]);
    }
    return off;
}

/* LayerNormalization p; see the header comment. */
static onnorm_status fold_layer_norm(onn_graph *g, onn_node *p, onn_node *n, onn_affine_kind k,
                                     const onnorm_tensor *c, int r, bool *done, char *why,
                                     size_t len, onnorm_error *err)
{
    const onnorm_tensor *gamma = norm_param(g, p, 1, "the scale", c->dtype, why, len);
    if (!gamma) return ONNORM_OK;
    const onnorm_tensor *beta = NULL;
    if (p->n_in > 2 && p->in[2] >= 0 &&
        !(beta = norm_param(g, p, 2, "the bias", c->dtype, why, len)))
        return ONNORM_OK;
    if (c->dtype != ONNORM_FLOAT && c->dtype != ONNORM_DOUBLE) {
        snprintf(why, len, "the constant is %s; only float32 and float64 are folded",
                 onnorm_dtype_name(c->dtype));
        return ONNORM_OK;
    }
    if (n->opset < 7) {
        snprintf(why, len, "%s '%s' uses legacy broadcasting (opset %lld)", n->op_type, n->name,
                 (long long)n->opset);
        return ONNORM_OK;
    }
    int64_t axis = -1;
    if (!onn_attr_int(p, "axis", -1, &axis, NULL)) {
        snprintf(why, len, "the axis attribute of LayerNormalization '%s' is not an int", p->name);
        return ONNORM_OK;
    }
    /* kn: how many trailing axes are normalized. */
    int kn;
    if (axis < 0)
        kn = (int)-axis;
    else if (r >= 0 && axis <= r)
        kn = r - (int)axis;
    else {
        snprintf(why, len, "the rank of the input of LayerNormalization '%s' is unknown", p->name);
        return ONNORM_OK;
    }
    const onn_value *yv = &g->values[p->out[0]];
    /* P: broadcast shape of gamma, beta and c over the kn normalized axes. */
    int64_t pd[ONNORM_MAX_RANK];
    const onnorm_tensor *parts[3] = {gamma, beta, c};
    int kp = 0;
    for (int i = 0; i < 3; i++)
        if (parts[i]) {
            int q = parts[i]->rank;
            while (q > kn && parts[i]->dims[parts[i]->rank - q] == 1)
                q--; /* leading 1s beyond the normalized axes */
            if (q > kn || (r >= 0 && parts[i]->rank > r)) {
                char s[128];
                snprintf(why, len,
                         "%s, shape %s, reaches beyond the %d normalized axes of "
                         "LayerNormalization '%s'",
                         i == 2 ? "the constant operand" : "a parameter",
                         onn_shape_str(parts[i]->dims, parts[i]->rank, s, sizeof s), kn, p->name);
                return ONNORM_OK;
            }
            if (q > kp) kp = q;
        }
    for (int d = 0; d < kp; d++)
        pd[d] = 1;
    for (int i = 0; i < 3; i++) {
        if (!parts[i]) continue;
        const onnorm_tensor *t = parts[i];
        for (int d = 0; d < t->rank && t->rank - d <= kp; d++) {
            const int at = kp - (t->rank - d);
            const int64_t v = t->dims[d];
            if (v == 1) continue;
            /* A size the normalized axis does not have would broadcast Y. */
            const int yd = yv->rank >= 0 ? yv->rank - (kp - at) : -1;
            const int64_t ysize = yd >= 0 ? yv->dims[yd] : -1;
            if ((pd[at] != 1 && pd[at] != v) || (ysize > 0 && ysize != v)) {
                char s[128];
                snprintf(why, len,
                         "the constant operand of %s '%s', shape %s, does not broadcast over the "
                         "normalized axes of LayerNormalization '%s' only",
                         n->op_type, n->name, onn_shape_str(c->dims, c->rank, s, sizeof s),
                         p->name);
                return ONNORM_OK;
            }
            pd[at] = v;
        }
    }
    /* A constant size not confirmed by gamma or a known Y dim may stretch Y. */
    for (int d = 0; d < c->rank && c->rank - d <= kp; d++) {
        const int at = kp - (c->rank - d);
        const int yd = yv->rank >= 0 ? yv->rank - (kp - at) : -1;
        const int64_t ysize = yd >= 0 ? yv->dims[yd] : -1;
        const int gd = gamma->rank - (kp - at);
        const int64_t gsize = gd >= 0 ? gamma->dims[gd] : 1;
        if (c->dims[d] != 1 && ysize <= 0 && gsize != c->dims[d]) {
            snprintf(why, len,
                     "axis %d of the normalized shape of LayerNormalization '%s' has an unknown "
                     "size, so the constant may broadcast Y",
                     at, p->name);
            return ONNORM_OK;
        }
    }
    const int64_t np = onn_dims_numel(pd, 0, kp);
    double *ng = malloc((size_t)(np ? np : 1) * sizeof *ng);
    double *nb = malloc((size_t)(np ? np : 1) * sizeof *nb);
    if (!ng || !nb) {
        free(ng), free(nb);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    onnorm_status st = ONNORM_OK;
    int64_t idx[ONNORM_MAX_RANK] = {0};
    bool ok = true;
    for (int64_t i = 0; i < np && ok; i++) {
        int64_t rem = i;
        for (int d = kp - 1; d >= 0; d--)
            idx[d] = rem % pd[d], rem /= pd[d];
        onn_affine m1;
        double sc = 1.0, sh = 0.0;
        m1.n = 1, m1.scale = &sc, m1.shift = &sh;
        onnorm_tensor one = *c;
        /* the constant's element for this position, as a 1-element view */
        const int64_t co = bcast_offset(c->dims, c->rank, idx, kp);
        double cv = onn_affine_elem(c, co);
        one.dtype = ONNORM_DOUBLE, one.rank = 0, one.data = &cv;
        ok = onn_affine_compose(&m1, k, &one, why, len);
        const double gv = onn_affine_elem(gamma, bcast_offset(gamma->dims, gamma->rank, idx, kp));
        const double bv =
            beta ? onn_affine_elem(beta, bcast_offset(beta->dims, beta->rank, idx, kp)) : 0.0;
        ng[i] = gv * sc;
        nb[i] = bv * sc + sh;
    }
    if (!ok) {
        /* why holds the reason */
    } else if (!fits(ng, np, c->dtype) || !fits(nb, np, c->dtype)) {
        snprintf(why, len, "the folded scale or bias would overflow %s",
                 onnorm_dtype_name(c->dtype));
    } else if (!(st = set_param(g, p, 1, c->dtype, kp, pd, ng, err)) &&
               !(st = set_param(g, p, 2, c->dtype, kp, pd, nb, err))) {
        *done = true;
    }
    free(ng), free(nb);
    return st;
}

/* Folds n into the norm before it if it can; *done when it did. */
static onnorm_status fold_node(onn_graph *g, onn_node *n, bool note, onn_pass_stats *st, bool *done,
                               onnorm_error *err)
{
    *done = false;
    if (n->n_in != 2 || n->n_out < 1 || n->out[0] < 0) return ONNORM_OK;
    if (!onn_node_is(n, "Mul") && !onn_node_is(n, "Add") && !onn_node_is(n, "Sub") &&
        !onn_node_is(n, "Div"))
        return ONNORM_OK;
    int var = -1;
    onn_node *p = NULL;
    for (int i = 0; i < 2 && var < 0; i++) {
        onn_node *q = onn_graph_producer(g, n->in[i]);
        if (is_norm(q) && q->n_out >= 1 && q->out[0] == n->in[i]) var = i, p = q;
    }
    if (var < 0) return ONNORM_OK;
    char why[WHY_LEN] = "";
    onnorm_status status = ONNORM_OK;
    const onn_affine_kind k = onn_affine_kind_of(n, var, why, sizeof why);
    const onnorm_tensor *c = NULL;
    if (k == ONN_AFF_NONE) goto skip;
    if (!(c = onn_graph_const(g, n->in[1 - var]))) {
        onn_affine_not_const_why(g, n->in[1 - var], "the other operand", why, sizeof why);
        goto skip;
    }
    const int y = n->in[var];
    if (!onn_graph_single_use(g, y)) {
        if (g->values[y].is_output)
            snprintf(why, sizeof why, "the output of %s '%s' is a graph output, so it must stay",
                     p->op_type, p->name);
        else
            snprintf(why, sizeof why, "the output of %s '%s' is also read by %d other node(s)",
                     p->op_type, p->name, onn_graph_consumers(g, y, NULL, 0) - 1);
        goto skip;
    }
    if (c->dtype != g->values[y].dtype && g->values[y].dtype != ONNORM_UNDEFINED) {
        snprintf(why, sizeof why, "the constant is %s but the normalized value is %s",
                 onnorm_dtype_name(c->dtype), onnorm_dtype_name(g->values[y].dtype));
        goto skip;
    }
    /* The rank of Y: inferred, else that of the binary node's output. */
    int r = g->values[y].rank;
    if (r < 0) r = g->values[n->out[0]].rank;
    if (onn_node_is(p, "LayerNormalization"))
        status = fold_layer_norm(g, p, n, k, c, r, done, why, sizeof why, err);
    else
        status = fold_channel_norm(g, p, n, k, c, r, done, why, sizeof why, err);
    if (status) return status;
    if (*done) {
        p->out[0] = n->out[0];
        onn_node_clear(n);
        return ONNORM_OK;
    }
skip:
    if (note && why[0]) onn_pass_skip(st, n, "%s", why);
    return status;
}

onnorm_status onn_pass_fold_affine_norm(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    /* One sweep in topological order folds a whole chain: after a fold the
     * norm writes the folded node's output, which the next node reads.
     * Sweep again until nothing changes, noting near-misses only once. */
    return onn_pass_sweep(g, st, err, fold_node);
}
