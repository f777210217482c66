/*
 * fold-batchnorm and fold-affine: per-channel affine maps folded into the
 * weights of the node that computes their input.
 *
 * An inference-mode BatchNormalization is y = x * a[c] + d[c] with
 * a = scale / sqrt(var + epsilon) and d = B - mean * a; a Mul by a constant
 * per-channel tensor s is a = s, d = 0; an Add of t is a = 1, d = t. When x
 * is output channel c of a linear producer with weight W and bias b, the
 * producer can compute y itself: W' = W * a[c] (on the slice of W that feeds
 * channel c) and b' = b * a[c] + d[c]. Producers:
 *
 *   Conv           W [M, C/g, k...]: channel m is the slice W[m].
 *   ConvTranspose  W [C, M/g, k...]: channel m = gi * (M/g) + j is W[c, j]
 *                  for every input channel c of group gi's block.
 *   Gemm           channel = last axis of Y; W is B, [K, N] (transB = 0) or
 *                  [N, K] (transB = 1); alpha stays, beta * C is folded into
 *                  a new C (created when absent) and beta becomes 1.
 *   MatMul + Add   A 2-D, W a constant [K, N], bias a constant per column.
 *
 * fold-affine takes Mul and Add nodes whose one operand is a Conv or
 * ConvTranspose output and whose other is a float32 constant that varies
 * along the channel axis only ([C,1,1], [1,C,1,1], [C,1] for 1-D, a scalar,
 * ...; before opset 7 the legacy broadcast/axis attributes decide), so
 * Conv -> Mul -> Add folds completely.
 *
 * Both passes require the intermediate output to feed only the absorbed
 * node and not to be a graph output, every weight and parameter to be a
 * constant (an initializer that is also a graph input may be overridden by
 * the caller and is not one), and float32 throughout. Anything else is left
 * alone with a note saying why.
 *
 * The folded weights are computed in double and rounded to float32 once.
 * The original constants are never written: they may be borrowed from the
 * loaded model or read by other nodes, so new constants with new names take
 * their place in the rewritten node, and the rebuild drops the old ones when
 * nothing reads them any more. The rewritten node takes over the output
 * value of the node it absorbed, so graph output names survive.
 */
#include "graph/affine.h"
#include "graph/edit.h"
#include "graph/passes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY_LEN 256

/* y = x * scale[c] + shift[c] for each of n channels. */
typedef struct chan_map {
    int64_t n;
    double *scale, *shift;
} chan_map;

/*
 * A producer whose output channels can absorb a chan_map. Its weight viewed
 * as [groups, rows, chans, inner] (row-major) holds channel
 * gi * chans + c at index ((gi * rows + r) * chans + c) * inner + i.
 */
typedef struct target {
    onn_node *node;             /* holds the weight (input 1) */
    onn_node *bias_node;        /* holds the bias: node itself, or the Add after MatMul */
    onn_node *last;             /* the node whose output the map reads */
    int bias_slot;              /* input index of the bias in bias_node */
    const onnorm_tensor *w, *b; /* b NULL when absent */
    int64_t groups, rows, chans, inner;
    int64_t channels; /* groups * chans */
    /* The new bias: shape, and how the old one is read at (row, channel). */
    int b_rank;
    int64_t b_dims[2];
    int64_t b_row_step, b_col_step;
    double b_mult; /* Gemm's beta; 1 otherwise */
    bool reset_beta;
} target;

/* ---- small checks ------------------------------------------------------- */

/* The opset the node is read at. The version boundaries this pass tests (7
 * and 14) are ones where BatchNormalization and the binary ops all have a
 * version, so the opset decides as the kernel's since_version would. */
static int op_version(const onn_node *n)
{
    return (int)n->opset;
}

/* The float32 constant behind v, or NULL with the reason in why. */
static const onnorm_tensor *f32_const(const onn_graph *g, int v, const char *what, char *why,
                                      size_t len)
{
    const onnorm_tensor *t = onn_graph_const(g, v);
    if (!t) {
        onn_affine_not_const_why(g, v, what, why, len);
        return NULL;
    }
    if (t->dtype == ONNORM_FLOAT) return t;
    if (t->dtype == ONNORM_DOUBLE)
        snprintf(why, len, "%s ('%s') is float64, which folding does not support (float32 only)",
                 what, g->values[v].name);
    else
        snprintf(why, len, "%s ('%s') is %s; only float32 weights are folded", what,
                 g->values[v].name, onnorm_dtype_name(t->dtype));
    return NULL;
}

/* True when producer p's output v feeds one node only and is no graph
 * output; else the reason in why. */
static bool only_feeds_one(const onn_graph *g, const onn_node *p, int v, char *why, size_t len)
{
    if (onn_graph_single_use(g, v)) return true;
    if (g->values[v].is_output)
        snprintf(why, len, "the output of %s '%s' is a graph output, so it must stay", p->op_type,
                 p->name);
    else
        snprintf(why, len, "the output of %s '%s' is also read by %d other node(s)", p->op_type,
                 p->name, onn_graph_consumers(g, v, NULL, 0) - 1);
    return false;
}

/* Grows n's input list so that slot k exists (new slots omitted). */
static bool ensure_input_slot(onn_node *n, int k)
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

static void map_free(chan_map *m)
{
    free(m->scale);
    free(m->shift);
    m->scale = m->shift = NULL;
}

static bool map_alloc(chan_map *m, int64_t n)
{
    m->n = n;
    m->scale = malloc((size_t)(n > 0 ? n : 1) * sizeof *m->scale);
    m->shift = malloc((size_t)(n > 0 ? n : 1) * sizeof *m->shift);
    if (m->scale && m->shift) return true;
    map_free(m);
    return false;
}

/* ---- targets ------------------------------------------------------------ */

/* Conv or ConvTranspose p with constant float32 W (and bias if present). */
static bool conv_target(const onn_graph *g, onn_node *p, target *t, char *why, size_t len)
{
    bool transposed = onn_node_is(p, "ConvTranspose");
    char what[128];
    memset(t, 0, sizeof *t);
    t->node = t->bias_node = t->last = p;
    t->bias_slot = 2;
    t->b_mult = 1.0;
    snprintf(what, sizeof what, "the weight W of %s '%s'", p->op_type, p->name);
    if (p->n_in < 2 || !(t->w = f32_const(g, p->in[1], what, why, len))) {
        if (p->n_in < 2) snprintf(why, len, "%s is missing", what);
        return false;
    }
    const onnorm_tensor *w = t->w;
    int64_t group = 1;
    if (!onn_attr_int(p, "group", 1, &group, NULL) || group < 1) {
        snprintf(why, len, "the group attribute of %s '%s' is not a positive int", p->op_type,
                 p->name);
        return false;
    }
    if (w->rank < 3) {
        snprintf(why, len, "%s has rank %d, below 3", what, w->rank);
        return false;
    }
    t->inner = onn_dims_numel(w->dims, 2, w->rank);
    if (!transposed) {
        t->groups = 1, t->rows = 1, t->chans = w->dims[0];
        t->inner *= w->dims[1];
    } else {
        if (w->dims[0] % group) {
            snprintf(why, len, "group %lld does not divide the %lld input channels of %s",
                     (long long)group, (long long)w->dims[0], what);
            return false;
        }
        t->groups = group, t->rows = w->dims[0] / group, t->chans = w->dims[1];
    }
    t->channels = t->groups * t->chans;
    t->b_rank = 1, t->b_dims[0] = t->channels, t->b_col_step = 1;
    if (p->n_in > 2 && p->in[2] >= 0) {
        snprintf(what, sizeof what, "the bias B of %s '%s'", p->op_type, p->name);
        if (!(t->b = f32_const(g, p->in[2], what, why, len))) return false;
        if (t->b->rank != 1 || t->b->dims[0] != t->channels) {
            snprintf(why, len, "%s is not a vector of its %lld output channels", what,
                     (long long)t->channels);
            return false;
        }
    }
    return true;
}

/* Gemm p: Y = alpha * A' * B' + beta * C; channels on Y's last axis. */
static bool gemm_target(const onn_graph *g, onn_node *p, target *t, char *why, size_t len)
{
    char what[128];
    memset(t, 0, sizeof *t);
    t->node = t->bias_node = t->last = p;
    t->bias_slot = 2;
    snprintf(what, sizeof what, "the weight B of Gemm '%s'", p->name);
    if (p->n_in < 2 || !(t->w = f32_const(g, p->in[1], what, why, len))) {
        if (p->n_in < 2) snprintf(why, len, "%s is missing", what);
        return false;
    }
    int64_t trans_b = 0;
    float beta = 1.0f;
    if (!onn_attr_int(p, "transB", 0, &trans_b, NULL) ||
        !onn_attr_float(p, "beta", 1.0f, &beta, NULL)) {
        snprintf(why, len, "the transB or beta attribute of Gemm '%s' has the wrong type", p->name);
        return false;
    }
    if (t->w->rank != 2) {
        snprintf(why, len, "%s is not 2-D", what);
        return false;
    }
    const int64_t n = t->w->dims[trans_b ? 0 : 1], k = t->w->dims[trans_b ? 1 : 0];
    t->groups = 1, t->chans = n, t->channels = n;
    t->rows = trans_b ? 1 : k, t->inner = trans_b ? k : 1;
    t->b_rank = 1, t->b_dims[0] = n, t->b_mult = 1.0;
    t->reset_beta = true;
    if (p->n_in > 2 && p->in[2] >= 0) {
        snprintf(what, sizeof what, "the bias C of Gemm '%s'", p->name);
        const onnorm_tensor *c = t->b = f32_const(g, p->in[2], what, why, len);
        if (!c) return false;
        int64_t last = c->rank ? c->dims[c->rank - 1] : 1;
        if (c->rank > 2 || (last != 1 && last != n)) {
            snprintf(why, len, "%s does not broadcast along the %lld output columns", what,
                     (long long)n);
            return false;
        }
        /* C [R, *] keeps its rows; a vector or scalar becomes [N]. */
        t->b_col_step = last == n ? 1 : 0;
        if (c->rank == 2) {
            t->b_rank = 2, t->b_dims[0] = c->dims[0], t->b_dims[1] = n;
            t->b_row_step = c->dims[0] != 1 ? last : 0;
        }
        t->b_mult = beta;
    }
    return true;
}

/*
 * Whether constant c, operand `slot` of binary node n whose other operand
 * has rank r and `chans` channels on axis `axis`, varies along that axis
 * only and adds no axes. Follows numpy broadcasting, or before opset 7 the
 * legacy broadcast/axis attributes (only B broadcasts there).
 */
static bool channel_operand(const onn_node *n, int slot, const onnorm_tensor *c, int r, int axis,
                            int64_t chans, char *why, size_t len)
{
    int64_t start = r - c->rank;
    if (op_version(n) < 7) {
        int64_t bcast = 0;
        if (slot != 1 || !onn_attr_int(n, "broadcast", 0, &bcast, NULL) || !bcast) {
            snprintf(why, len,
                     "%s '%s' uses legacy broadcasting (opset %d), which does not "
                     "stretch its constant operand here",
                     n->op_type, n->name, op_version(n));
            return false;
        }
        if (onnorm_tensor_numel(c) == 1) return true;
        if (!onn_attr_int(n, "axis", start, &start, NULL)) {
            snprintf(why, len, "the axis attribute of %s '%s' is not an int", n->op_type, n->name);
            return false;
        }
        if (start < 0) start += r; /* as the kernel reads a negative axis */
    }
    return onn_affine_channel_shape(n, c, start, r, axis, chans, why, len);
}

/* Add node `add` = MatMul(A, W) + bias, with A 2-D and W, bias constant. */
static bool matmul_add_target(onn_graph *g, onn_node *add, target *t, char *why, size_t len)
{
    memset(t, 0, sizeof *t);
    int k = -1;
    for (int i = 0; i < 2 && add->n_in == 2 && k < 0; i++)
        if (onn_node_is(onn_graph_producer(g, add->in[i]), "MatMul")) k = i;
    if (k < 0) {
        snprintf(why, len, "its input comes from an Add that does not follow a MatMul");
        return false;
    }
    onn_node *mm = onn_graph_producer(g, add->in[k]);
    if (!only_feeds_one(g, mm, mm->out[0], why, len)) return false;
    if (!(t->w = f32_const(g, mm->in[1], "the MatMul weight", why, len)) ||
        !(t->b = f32_const(g, add->in[1 - k], "the Add bias", why, len)))
        return false;
    int ra = g->values[mm->in[0]].rank, ro = g->values[mm->out[0]].rank;
    if (t->w->rank != 2 || (ra != 2 && ro != 2)) {
        snprintf(why, len,
                 "the MatMul is not a 2-D input times a 2-D constant (ranks %d and %d), "
                 "so its columns are not BatchNormalization's channel axis",
                 ra, t->w->rank);
        return false;
    }
    const int64_t n = t->w->dims[1];
    if (!channel_operand(add, 1 - k, t->b, 2, 1, n, why, len)) return false;
    t->node = mm, t->bias_node = t->last = add, t->bias_slot = 1 - k;
    t->groups = 1, t->rows = t->w->dims[0], t->chans = n, t->inner = 1, t->channels = n;
    t->b_rank = t->b->rank > 1 ? t->b->rank : 1;
    t->b_dims[0] = t->b_rank == 2 ? 1 : n, t->b_dims[1] = n;
    t->b_col_step = onnorm_tensor_numel(t->b) == n && n > 1 ? 1 : 0;
    t->b_mult = 1.0;
    return true;
}

/* ---- the rewrite -------------------------------------------------------- */

static bool map_is_identity_scale(const chan_map *m)
{
    for (int64_t c = 0; c < m->n; c++)
        if (m->scale[c] != 1.0) return false;
    return true;
}

static bool map_is_zero_shift(const chan_map *m)
{
    for (int64_t c = 0; c < m->n; c++)
        if (m->shift[c] != 0.0) return false;
    return true;
}

/* float(x), false when a finite x would not fit float32. */
static bool to_f32(double x, float *out)
{
    *out = (float)x;
    return isfinite(*out) || !isfinite(x);
}

/* W * scale per channel; *overflow when a finite product leaves float32. */
static onnorm_tensor *scaled_weight(const target *t, const chan_map *m, bool *overflow,
                                    onnorm_error *err)
{
    onnorm_tensor *nw = onn_tensor_new(ONNORM_FLOAT, t->w->rank, t->w->dims, err);
    if (!nw) return NULL;
    const float *src = t->w->data;
    float *dst = nw->data;
    for (int64_t gi = 0; gi < t->groups; gi++)
        for (int64_t r = 0; r < t->rows; r++)
            for (int64_t c = 0; c < t->chans; c++) {
                const double a = m->scale[gi * t->chans + c];
                const int64_t base = ((gi * t->rows + r) * t->chans + c) * t->inner;
                for (int64_t i = 0; i < t->inner; i++)
                    if (!to_f32((double)src[base + i] * a, &dst[base + i])) *overflow = true;
            }
    return nw;
}

/* b' = b * b_mult * scale + shift in the target's bias layout. */
static onnorm_tensor *shifted_bias(const target *t, const chan_map *m, bool *overflow,
                                   onnorm_error *err)
{
    onnorm_tensor *nb = onn_tensor_new(ONNORM_FLOAT, t->b_rank, t->b_dims, err);
    if (!nb) return NULL;
    const float *src = t->b ? t->b->data : NULL;
    float *dst = nb->data;
    const int64_t rows = t->b_rank == 2 ? t->b_dims[0] : 1, n = t->channels;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < n; c++) {
            double b = src ? t->b_mult * src[r * t->b_row_step + c * t->b_col_step] : 0.0;
            if (!to_f32(b * m->scale[c] + m->shift[c], &dst[r * n + c])) *overflow = true;
        }
    return nb;
}

/* A new constant named after the value it replaces, `like`, or when there
 * is none after the weight plus `suffix`. */
static int add_constant(onn_graph *g, const target *t, int like, const char *suffix,
                        onnorm_tensor *tensor, onnorm_error *err)
{
    char base[400];
    if (like >= 0)
        snprintf(base, sizeof base, "%s", g->values[like].name);
    else
        snprintf(base, sizeof base, "%s%s", g->values[t->node->in[1]].name, suffix);
    int v = onn_graph_new_constant(g, base, tensor);
    if (v < 0) onn_fail(err, ONNORM_ERR_NOMEM, "out of memory adding a folded constant");
    return v;
}

/*
 * Rewrites t so that its output is map(output) and writes value `out`.
 * *folded is false (with why) when the folded numbers would not fit
 * float32; the graph is then unchanged.
 */
static onnorm_status apply_map(onn_graph *g, const target *t, const chan_map *m, int out,
                               bool *folded, char *why, size_t len, onnorm_error *err)
{
    *folded = false;
    bool overflow = false, new_w = !map_is_identity_scale(m);
    bool new_b = t->b || !map_is_zero_shift(m);
    onnorm_tensor *w = new_w ? scaled_weight(t, m, &overflow, err) : NULL;
    onnorm_tensor *b = new_b && (!new_w || w) ? shifted_bias(t, m, &overflow, err) : NULL;
    if ((new_w && !w) || (new_b && !b) || overflow ||
        (new_b && !ensure_input_slot(t->bias_node, t->bias_slot))) {
        onn_tensor_free(w), onn_tensor_free(b);
        if (overflow) {
            snprintf(why, len, "the folded weights would overflow float32");
            return ONNORM_OK;
        }
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory folding into '%s'", t->node->name);
    }
    const int old_b = new_b ? t->bias_node->in[t->bias_slot] : -1;
    const int vw = w ? add_constant(g, t, t->node->in[1], "", w, err) : -1;
    if (w && vw < 0) {
        onn_tensor_free(b);
        return ONNORM_ERR_NOMEM;
    }
    const int vb = b ? add_constant(g, t, old_b, "_bias", b, err) : -1;
    if (b && vb < 0) return ONNORM_ERR_NOMEM;
    if (vw >= 0) t->node->in[1] = vw;
    if (vb >= 0) t->bias_node->in[t->bias_slot] = vb;
    if (t->reset_beta && vb >= 0) {
        /* beta * C is folded into the new C. */
        for (int k = 0; k < t->node->n_attr; k++)
            if (!strcmp(t->node->attrs[k].name, "beta")) t->node->attrs[k].f = 1.0f;
    }
    t->last->out[0] = out;
    *folded = true;
    return ONNORM_OK;
}

/* ---- fold-batchnorm ----------------------------------------------------- */

/* BN computes y = (x - mean) / sqrt(var + eps) * scale + B (inference). */
static bool bn_inference(const onn_node *bn, float *eps, char *why, size_t len)
{
    const int ver = op_version(bn);
    int extra = 0;
    for (int k = 1; k < bn->n_out; k++)
        extra += bn->out[k] >= 0;
    int64_t mode = 0, spatial = 1;
    if (ver >= 14 && (!onn_attr_int(bn, "training_mode", 0, &mode, NULL) || mode != 0)) {
        snprintf(why, len, "training_mode is not 0: it normalizes with batch statistics");
        return false;
    }
    if (ver < 7 && (!onn_attr_int(bn, "is_test", 0, &mode, NULL) || mode == 0)) {
        snprintf(why, len, "is_test is 0 (opset %d): it normalizes with batch statistics", ver);
        return false;
    }
    if (extra) {
        snprintf(why, len, "it requests %d outputs besides Y (training statistics)", extra);
        return false;
    }
    if (ver < 9 && (!onn_attr_int(bn, "spatial", 1, &spatial, NULL) || spatial != 1)) {
        snprintf(why, len, "spatial is not 1: its statistics are per activation, not per channel");
        return false;
    }
    if (!onn_attr_float(bn, "epsilon", 1e-5f, eps, NULL)) {
        snprintf(why, len, "its epsilon attribute is not a float");
        return false;
    }
    if (bn->n_in < 5 || bn->n_out < 1 || bn->out[0] < 0) {
        snprintf(why, len, "it lacks inputs or its Y output");
        return false;
    }
    return true;
}

/* The producer of BN's input, if one that can absorb it. */
static bool bn_target(onn_graph *g, const onn_node *bn, target *t, char *why, size_t len)
{
    const int x = bn->in[0];
    onn_node *p = onn_graph_producer(g, x);
    if (!p) {
        snprintf(why, len, "its input is not computed by a node");
        return false;
    }
    const onn_value *xv = &g->values[x];
    if (xv->dtype != ONNORM_UNDEFINED && xv->dtype != ONNORM_FLOAT) {
        snprintf(why, len, "its input is %s; only float32 is folded%s",
                 onnorm_dtype_name(xv->dtype),
                 xv->dtype == ONNORM_DOUBLE ? " (float64 is not supported)" : "");
        return false;
    }
    bool ok;
    if (onn_node_is(p, "Conv") || onn_node_is(p, "ConvTranspose"))
        ok = conv_target(g, p, t, why, len);
    else if (onn_node_is(p, "Gemm"))
        ok = gemm_target(g, p, t, why, len);
    else if (onn_node_is(p, "Add"))
        ok = matmul_add_target(g, p, t, why, len);
    else {
        snprintf(why, len,
                 "its input comes from %s, which cannot absorb it (only Conv, "
                 "ConvTranspose, Gemm and MatMul+Add can)",
                 p->op_type);
        return false;
    }
    return ok && only_feeds_one(g, p, x, why, len);
}

/* scale / sqrt(var + eps) and B - mean * that, per channel, in double. */
static bool bn_map(const onn_graph *g, const onn_node *bn, float eps, int64_t channels, chan_map *m,
                   char *why, size_t len, onnorm_status *st, onnorm_error *err)
{
    static const char *names[] = {"X", "its scale", "its bias B", "its mean", "its variance"};
    const float *p[5] = {NULL};
    for (int i = 1; i < 5; i++) {
        const onnorm_tensor *t = f32_const(g, bn->in[i], names[i], why, len);
        if (!t) return false;
        if (t->rank != 1 || t->dims[0] != channels) {
            snprintf(why, len, "%s is not a vector of the producer's %lld channels", names[i],
                     (long long)channels);
            return false;
        }
        p[i] = t->data;
    }
    if (!map_alloc(m, channels)) {
        *st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        return false;
    }
    for (int64_t c = 0; c < channels; c++) {
        const double a = (double)p[1][c] / sqrt((double)p[4][c] + (double)eps);
        m->scale[c] = a;
        m->shift[c] = (double)p[2][c] - (double)p[3][c] * a;
        if (!isfinite(a) || !isfinite(m->shift[c])) {
            snprintf(why, len,
                     "channel %lld has a non-finite factor (variance + epsilon <= 0 or "
                     "non-finite parameters)",
                     (long long)c);
            map_free(m);
            return false;
        }
    }
    return true;
}

static onnorm_status fold_bn(onn_graph *g, onn_node *bn, onn_pass_stats *st, onnorm_error *err)
{
    char why[WHY_LEN] = "";
    float eps;
    target t;
    chan_map m = {0};
    onnorm_status status = ONNORM_OK;
    if (!bn_inference(bn, &eps, why, sizeof why) || !bn_target(g, bn, &t, why, sizeof why) ||
        !bn_map(g, bn, eps, t.channels, &m, why, sizeof why, &status, err)) {
        if (!status) onn_pass_skip(st, bn, "%s", why);
        return status;
    }
    bool folded;
    status = apply_map(g, &t, &m, bn->out[0], &folded, why, sizeof why, err);
    map_free(&m);
    if (status) return status;
    if (!folded) {
        onn_pass_skip(st, bn, "%s", why);
        return ONNORM_OK;
    }
    onn_node_clear(bn);
    st->matched++;
    return ONNORM_OK;
}

onnorm_status onn_pass_fold_batchnorm(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    /* Nodes are in topological order, so a chain folds in one sweep: each
     * rewrite only moves an output to an earlier node. */
    for (int i = 0; i < g->n_nodes; i++) {
        if (!onn_node_is(&g->nodes[i], "BatchNormalization")) continue;
        onnorm_status s = fold_bn(g, &g->nodes[i], st, err);
        if (s) return s;
    }
    return ONNORM_OK;
}

/* ---- fold-affine -------------------------------------------------------- */

/* Index of n's operand computed by a Conv or ConvTranspose, or -1. */
static int conv_operand(onn_graph *g, const onn_node *n)
{
    for (int k = 0; k < 2 && n->n_in == 2; k++) {
        const onn_node *p = onn_graph_producer(g, n->in[k]);
        if (onn_node_is(p, "Conv") || onn_node_is(p, "ConvTranspose")) return k;
    }
    return -1;
}

/* The map of Mul/Add n by constant c over the target's channels. */
static bool affine_map(const onn_node *n, const onnorm_tensor *c, int64_t channels, chan_map *m,
                       onnorm_status *st, onnorm_error *err, char *why, size_t len)
{
    const bool mul = onn_node_is(n, "Mul");
    const float *v = c->data;
    const bool per_channel = onnorm_tensor_numel(c) != 1;
    if (!map_alloc(m, channels)) {
        *st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        return false;
    }
    for (int64_t ch = 0; ch < channels; ch++) {
        const double x = v[per_channel ? ch : 0];
        if (mul && !isfinite(x)) {
            snprintf(why, len, "the factor is not finite for channel %lld", (long long)ch);
            map_free(m);
            return false;
        }
        m->scale[ch] = mul ? x : 1.0;
        m->shift[ch] = mul ? 0.0 : x;
    }
    return true;
}

/* Checks Mul/Add n (operand k from a Conv) and builds its target and map. */
static bool affine_candidate(onn_graph *g, onn_node *n, int k, target *t, chan_map *m,
                             onnorm_status *st, onnorm_error *err, char *why, size_t len)
{
    onn_node *p = onn_graph_producer(g, n->in[k]);
    const onnorm_tensor *c = f32_const(g, n->in[1 - k], "the other operand", why, len);
    if (!c) return false;
    if (!only_feeds_one(g, p, n->in[k], why, len)) return false;
    if (!conv_target(g, p, t, why, len)) return false;
    const int rank = t->w->rank; /* Conv's output has W's rank */
    if (!channel_operand(n, 1 - k, c, rank, 1, t->channels, why, len)) return false;
    return affine_map(n, c, t->channels, m, st, err, why, len);
}

/* Folds n if it is Mul/Add(Conv output, constant); *done when it did. */
static onnorm_status fold_affine_node(onn_graph *g, onn_node *n, bool note, onn_pass_stats *st,
                                      bool *done, onnorm_error *err)
{
    *done = false;
    if ((!onn_node_is(n, "Mul") && !onn_node_is(n, "Add")) || n->n_out < 1 || n->out[0] < 0)
        return ONNORM_OK;
    const int k = conv_operand(g, n);
    if (k < 0) return ONNORM_OK;
    /* A computed second operand (a residual Add, a gate) is no near-miss. */
    const onn_value *other = &g->values[n->in[1 - k]];
    if (!other->init) return ONNORM_OK;
    char why[WHY_LEN] = "";
    target t;
    chan_map m = {0};
    onnorm_status status = ONNORM_OK;
    if (!affine_candidate(g, n, k, &t, &m, &status, err, why, sizeof why)) {
        if (!status && note) onn_pass_skip(st, n, "%s", why);
        return status;
    }
    status = apply_map(g, &t, &m, n->out[0], done, why, sizeof why, err);
    map_free(&m);
    if (!status && !*done && note) onn_pass_skip(st, n, "%s", why);
    if (!status && *done) onn_node_clear(n);
    return status;
}

onnorm_status onn_pass_fold_affine(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    /* One sweep in topological order folds Conv -> Mul -> Add (the Mul's
     * output moves to the Conv before the Add is visited); sweep again until
     * nothing changes in case the order was not topological, noting
     * near-misses only once. */
    return onn_pass_sweep(g, st, err, fold_affine_node);
}
