/*
 * fuse-conv: a convolution absorbs what follows it, so the output is
 * written once instead of being read and rewritten by separate nodes:
 *
 *   Conv -> Add(., Z)                     FusedConv(X, W, B, Z)
 *   Conv -> Relu | Clip | LeakyRelu | HardSigmoid | HardSwish | Sigmoid | Tanh
 *                                         FusedConv(..., activation)
 *   Conv -> Sigmoid, Mul(Conv, Sigmoid)   FusedConv(..., activation "SiLU")
 *   Conv -> HardSigmoid(1/6, 1/2), Mul(Conv, HardSigmoid)
 *                                         FusedConv(..., activation "HardSwish")
 *
 * and a residual Add followed by an activation fuses both (ResNet's Conv ->
 * BatchNormalization -> Add -> Relu, once fold-batchnorm has removed the
 * BatchNormalization). FusedConv is ONNX Runtime's contrib operator (domain
 * com.microsoft): Y = activation(Conv(X, W, B) + Z), with the Conv
 * attributes plus `activation` and `activation_params`. Its activation list
 * here is ONNX Runtime's (Relu, Tanh, Sigmoid, LeakyRelu, Clip,
 * HardSigmoid) plus HardSwish and SiLU, which ONNX Runtime does not run:
 * a model written with those is for onnorm.
 *
 * fuse-norm does the same for the norms: BatchNormalization in inference
 * mode (one left after fold-batchnorm, as in DenseNet's BN -> Relu -> Conv),
 * InstanceNormalization and GroupNormalization-21 followed by an activation
 * become ai.onnorm's BatchNormalization, InstanceNormalization or
 * GroupNormalization: the ONNX operator (BatchNormalization-15's inference,
 * InstanceNormalization-22, GroupNormalization-21) plus the same
 * `activation` and `activation_params`, applied to each slice while it is
 * still in cache (GroupNorm -> SiLU in diffusion UNets, InstanceNorm -> Relu
 * in style networks). Only float32 nodes fuse.
 *
 * fuse-linear does it for layers: MatMul(A, W) with W a constant 2-D
 * float32 matrix, then Add of a constant with one value per column and/or
 * an activation (the list above, or Gelu in either form), becomes
 * ai.onnorm's Linear(A, W, bias) with `activation` (ops/core/gemm.c): the
 * product's epilogue adds the bias and applies the activation per tile. A
 * product of two run-time values (attention's) is not a layer and is left
 * alone without a note.
 *
 * fuse-expand-dw fuses two convolutions: a 1x1 expansion whose output only
 * a stride-2 depthwise convolution reads becomes ai.onnorm's
 * ExpandDepthwise (ops/core/conv_pwdw.c), so that the expanded tensor is
 * never written; where it pays is measured at its section below.
 *
 * Conditions, each a reason in the report when it fails: the Conv's output
 * has one consumer and is not a graph output; Z has the Conv output's exact
 * shape (no broadcasting) and is float32; Clip's bounds are constants;
 * the shapes are known (the pass runs after shape inference).
 */
#include "graph/edit.h"
#include "graph/passes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FusedConv's inputs: X, W, B, Z. */
#define FUSED_INPUTS 4

static bool is_conv(const onn_node *n)
{
    return n && n->op_type &&
           ((n->domain[0] == '\0' && !strcmp(n->op_type, "Conv")) ||
            (!strcmp(n->domain, "com.microsoft") && !strcmp(n->op_type, "FusedConv")));
}

static bool has_activation(const onn_node *n)
{
    return onn_attr_find(n, "activation") != NULL;
}

static bool has_residual(const onn_node *n)
{
    return n->n_in > 3 && n->in[3] >= 0;
}

static bool same_shape(const onn_value *a, const onn_value *b)
{
    if (!onn_value_known(a) || !onn_value_known(b) || a->rank != b->rank) return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return false;
    return true;
}

/* Moves node n to domain (once) under op with n_in inputs, and makes it
 * write `out` in place of the absorbed node. */
static bool absorb(onn_graph *g, onn_node *n, const char *domain, const char *op, int n_in,
                   onn_node *absorbed, int out)
{
    if (strcmp(n->domain, domain) != 0 &&
        (!onn_graph_import_opset(g, domain, 1) || !onn_node_retype(n, domain, op, n_in)))
        return false;
    n->out[0] = out;
    onn_node_clear(absorbed);
    return true;
}

/* Turns a Conv into a FusedConv (once) and makes it write `out`. */
static bool take_over(onn_graph *g, onn_node *conv, onn_node *absorbed, int out)
{
    return absorb(g, conv, "com.microsoft", "FusedConv", FUSED_INPUTS, absorbed, out);
}

/* Conv -> Add(conv, z): z becomes FusedConv's Z. */
static bool fuse_add(onn_graph *g, onn_node *conv, onn_node *add, onn_pass_stats *st)
{
    const int y = conv->out[0];
    if (has_residual(conv) || has_activation(conv) || add->n_in != 2 || add->opset < 7)
        return false;
    const int z = add->in[0] == y ? add->in[1] : add->in[0];
    if (z == y) return false; /* Add(y, y): not a residual */
    const onn_value *vz = &g->values[z], *vy = &g->values[y];
    if (!same_shape(vz, vy)) {
        onn_pass_skip(st, add, "the residual does not have the convolution output's known shape");
        return false;
    }
    if (vz->dtype != ONNORM_FLOAT) {
        onn_pass_skip(st, add, "the residual is not known to be float32");
        return false;
    }
    if (!take_over(g, conv, add, add->out[0])) return false;
    conv->in[3] = z;
    return true;
}

/* A constant scalar bound of Clip (opset 11+ inputs), or the default. */
static bool clip_bound(const onn_graph *g, const onn_node *clip, int i, float dflt, float *out)
{
    *out = dflt;
    if (clip->n_in <= i || clip->in[i] < 0) return true;
    const onnorm_tensor *t = onn_graph_const(g, clip->in[i]);
    if (!t || t->dtype != ONNORM_FLOAT || onnorm_tensor_numel(t) != 1) return false;
    *out = *(const float *)t->data;
    return true;
}

/* The activation node a as FusedConv's (activation, params); false with a
 * reason in why when it cannot be expressed. */
static bool activation_of(const onn_graph *g, const onn_node *a, const char **name, float *p,
                          int *np, char *why, size_t len)
{
    *np = 0;
    *name = NULL;
    if (a->domain[0] || a->n_in < 1) return false;
    const char *op = a->op_type;
    if (!strcmp(op, "Relu") || !strcmp(op, "Sigmoid") || !strcmp(op, "Tanh") ||
        !strcmp(op, "HardSwish")) {
        *name = op;
        return true;
    }
    if (!strcmp(op, "LeakyRelu")) {
        *name = op, *np = 1;
        return onn_attr_float(a, "alpha", 0.01f, &p[0], NULL);
    }
    if (!strcmp(op, "HardSigmoid")) {
        *name = op, *np = 2;
        return onn_attr_float(a, "alpha", 0.2f, &p[0], NULL) &&
               onn_attr_float(a, "beta", 0.5f, &p[1], NULL);
    }
    if (!strcmp(op, "Clip")) {
        *name = op, *np = 2;
        if (a->opset < 11)
            return onn_attr_float(a, "min", -INFINITY, &p[0], NULL) &&
                   onn_attr_float(a, "max", INFINITY, &p[1], NULL);
        if (clip_bound(g, a, 1, -INFINITY, &p[0]) && clip_bound(g, a, 2, INFINITY, &p[1]))
            return true;
        snprintf(why, len, "Clip's bounds are not constant float32 scalars");
        return false;
    }
    return false;
}

static bool set_activation(onn_node *conv, const char *name, const float *p, int np)
{
    return onn_node_set_string(conv, "activation", name) &&
           (np == 0 || onn_node_set_floats(conv, "activation_params", np, p));
}

/* The gate of a self-gated activation y * gate(y): Sigmoid gives SiLU
 * (EfficientNet's Swish), HardSigmoid with alpha 1/6 and beta 1/2 gives
 * HardSwish (how PyTorch exports hardswish below opset 14). NULL otherwise. */
static const char *self_gated(const onn_node *gate)
{
    if (onn_node_is(gate, "Sigmoid")) return "SiLU";
    float alpha, beta;
    if (onn_node_is(gate, "HardSigmoid") && onn_attr_float(gate, "alpha", 0.2f, &alpha, NULL) &&
        onn_attr_float(gate, "beta", 0.5f, &beta, NULL) && alpha == 1.0f / 6.0f && beta == 0.5f)
        return "HardSwish";
    return NULL;
}

/* Conv -> gate, Mul(conv, gate): the activation y * gate(y). */
static bool fuse_self_gated(onn_graph *g, onn_node *conv)
{
    const int y = conv->out[0];
    int c[2];
    if (has_activation(conv) || g->values[y].is_output || onn_graph_consumers(g, y, c, 2) != 2)
        return false;
    for (int k = 0; k < 2; k++) {
        onn_node *gate = &g->nodes[c[k]], *mul = &g->nodes[c[1 - k]];
        const char *act = self_gated(gate);
        if (!act || !onn_node_is(mul, "Mul") || mul->n_in != 2) continue;
        const int s = gate->out[0];
        const bool pair =
            (mul->in[0] == y && mul->in[1] == s) || (mul->in[1] == y && mul->in[0] == s);
        if (!pair || !onn_graph_single_use(g, s)) continue;
        if (!set_activation(conv, act, NULL, 0) || !take_over(g, conv, mul, mul->out[0]))
            return false;
        onn_node_clear(gate);
        return true;
    }
    return false;
}

/* One fusion into conv, if any applies. */
static bool fuse_one(onn_graph *g, onn_node *conv, onn_pass_stats *st)
{
    const int y = conv->out[0];
    if (conv->n_out != 1 || y < 0) return false;
    if (fuse_self_gated(g, conv)) return true;
    onn_node *next = onn_graph_sole_consumer(g, y);
    if (!next || !next->op_type) return false;
    if (onn_node_is(next, "Add")) return fuse_add(g, conv, next, st);
    if (has_activation(conv)) return false;
    const char *name;
    float p[2];
    int np;
    char why[200] = "";
    if (!activation_of(g, next, &name, p, &np, why, sizeof why)) {
        if (why[0]) onn_pass_skip(st, next, "%s", why);
        return false;
    }
    /* name points into the absorbed node: set it before that node goes. */
    return set_activation(conv, name, p, np) && take_over(g, conv, next, next->out[0]);
}

onnorm_status onn_pass_fuse_conv(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    (void)err;
    /* Nodes are in topological order: a Conv absorbs Add and then an
     * activation in one visit, repeating while something fuses. */
    for (int i = 0; i < g->n_nodes; i++) {
        onn_node *n = &g->nodes[i];
        if (!is_conv(n)) continue;
        while (fuse_one(g, n, st))
            st->matched++;
    }
    return ONNORM_OK;
}

/* ---- fuse-norm ---------------------------------------------------------------------- */

/* Whether the norm node n fuses: its op and mode have an ai.onnorm form
 * (see the top of the file) and it computes float32. */
static bool norm_fusable(const onn_graph *g, const onn_node *n, onn_pass_stats *st)
{
    if (!n->op_type || n->n_out < 1 || n->out[0] < 0 || n->domain[0] != '\0') return false;
    const char *op = n->op_type;
    const bool bn = !strcmp(op, "BatchNormalization"), in = !strcmp(op, "InstanceNormalization"),
               gn = !strcmp(op, "GroupNormalization");
    if (!bn && !in && !gn) return false;
    if (has_activation(n)) return false;
    if (g->values[n->out[0]].dtype != ONNORM_FLOAT) return false;
    if (gn && n->opset < 21) {
        onn_pass_skip(st, n, "GroupNormalization-18's per-group scale has no fused form");
        return false;
    }
    if (!bn) return true;
    int64_t v = 0;
    for (int k = 1; k < n->n_out; k++)
        if (n->out[k] >= 0) return false; /* training outputs */
    if ((n->opset >= 14 && (!onn_attr_int(n, "training_mode", 0, &v, NULL) || v)) ||
        (n->opset < 7 && (!onn_attr_int(n, "is_test", 0, &v, NULL) || !v)) ||
        (n->opset < 9 && (!onn_attr_int(n, "spatial", 1, &v, NULL) || !v))) {
        onn_pass_skip(st, n, "not an inference BatchNormalization over channels");
        return false;
    }
    return true;
}

/* The version-specific attributes the ai.onnorm form does not read. */
static void drop_old_attrs(onn_node *n)
{
    static const char *const old[] = {"is_test", "spatial", "consumed_inputs", "training_mode"};
    for (size_t k = 0; k < sizeof old / sizeof old[0]; k++)
        onn_node_remove_attr(n, old[k]);
}

static bool fuse_norm_one(onn_graph *g, onn_node *n, onn_pass_stats *st)
{
    if (!norm_fusable(g, n, st)) return false;
    const int y = n->out[0];
    const char *name = NULL;
    float p[2];
    int np = 0;
    onn_node *absorbed = NULL, *gate = NULL;
    int c[2];
    if (!g->values[y].is_output && onn_graph_consumers(g, y, c, 2) == 2) {
        /* y * gate(y): SiLU after GroupNorm in diffusion UNets */
        for (int k = 0; k < 2 && !name; k++) {
            onn_node *gt = &g->nodes[c[k]], *mul = &g->nodes[c[1 - k]];
            const char *act = self_gated(gt);
            if (!act || !onn_node_is(mul, "Mul") || mul->n_in != 2) continue;
            const int s = gt->out[0];
            if (((mul->in[0] == y && mul->in[1] == s) || (mul->in[1] == y && mul->in[0] == s)) &&
                onn_graph_single_use(g, s))
                name = act, absorbed = mul, gate = gt;
        }
    } else {
        onn_node *next = onn_graph_sole_consumer(g, y);
        char why[200] = "";
        if (next && next->op_type && activation_of(g, next, &name, p, &np, why, sizeof why))
            absorbed = next;
        else if (why[0])
            onn_pass_skip(st, next, "%s", why);
    }
    if (!absorbed) return false;
    drop_old_attrs(n);
    char *op = onn_strdup(n->op_type);
    bool ok = op && set_activation(n, name, p, np) &&
              absorb(g, n, "ai.onnorm", op, n->n_in, absorbed, absorbed->out[0]);
    free(op);
    if (ok && gate) onn_node_clear(gate);
    return ok;
}

onnorm_status onn_pass_fuse_norm(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    (void)err;
    for (int i = 0; i < g->n_nodes; i++)
        if (fuse_norm_one(g, &g->nodes[i], st)) st->matched++;
    return ONNORM_OK;
}

/* ---- fuse-linear -------------------------------------------------------------------- */

/* A Gelu node (ai.onnx Gelu-20 or ai.onnorm's); *tanh_form from its attribute. */
static bool gelu_of(const onn_node *n, bool *tanh_form)
{
    if (!n->op_type || strcmp(n->op_type, "Gelu") != 0 || n->n_in < 1) return false;
    if (n->domain[0] && strcmp(n->domain, "ai.onnorm") != 0) return false;
    const onn_attr *a = onn_attr_find(n, "approximate");
    *tanh_form = a && a->type == ONN_ATTR_STRING && a->s && !strcmp(a->s, "tanh");
    return true;
}

/* b is a float32 constant holding one value per column of the product y
 * ([N] or [1, .., 1, N], rank at most y's, so that the sum keeps y's
 * shape): Add then broadcasts it as a bias. */
static bool is_column_bias(const onn_graph *g, int b, const onn_value *y, int64_t n)
{
    const onnorm_tensor *t = b >= 0 ? onn_graph_const(g, b) : NULL;
    if (!t || t->dtype != ONNORM_FLOAT || t->rank < 1 || t->rank > y->rank ||
        t->dims[t->rank - 1] != n)
        return false;
    return onnorm_tensor_numel(t) == n;
}

/* MatMul(A, W) with W a constant 2-D float32 matrix, then Add(., bias)
 * and/or an activation: one ai.onnorm Linear. */
static bool fuse_linear_one(onn_graph *g, onn_node *mm, onn_pass_stats *st)
{
    if (!onn_node_is(mm, "MatMul") || mm->n_in != 2 || mm->n_out != 1 || mm->out[0] < 0)
        return false;
    const onnorm_tensor *w = onn_graph_const(g, mm->in[1]);
    /* A product of two run-time values (attention) is not a layer. */
    if (!w || mm->in[0] < 0) return false;
    if (w->dtype != ONNORM_FLOAT || w->rank != 2 || g->values[mm->in[0]].dtype != ONNORM_FLOAT) {
        onn_pass_skip(st, mm, "the weights are not a 2-D float32 constant or A is not float32");
        return false;
    }
    int y = mm->out[0], bias = -1;
    onn_node *add = onn_graph_sole_consumer(g, y), *act = NULL;
    if (add && onn_node_is(add, "Add") && add->n_in == 2) {
        const int b = add->in[0] == y ? add->in[1] : add->in[0];
        if (b == y || !is_column_bias(g, b, &g->values[y], w->dims[1])) {
            onn_pass_skip(st, add,
                          "the Add's other operand is not a float32 constant of N "
                          "values along the last axis");
            add = NULL;
        } else {
            bias = b, y = add->out[0];
        }
    } else {
        add = NULL;
    }
    /* An activation, if the product (or its biased sum) goes only there. */
    onn_node *next = onn_graph_sole_consumer(g, y);
    const char *name = NULL;
    float p[2];
    int np = 0;
    bool tanh_form = false;
    char why[200] = "";
    if (next && next->op_type && next->n_out == 1 &&
        (gelu_of(next, &tanh_form) || activation_of(g, next, &name, p, &np, why, sizeof why)))
        act = next;
    else if (next && why[0])
        onn_pass_skip(st, next, "%s", why);
    if (!add && !act) return false;
    const int out = act ? act->out[0] : add->out[0];
    bool ok = true;
    if (act && !name) /* Gelu */
        ok = onn_node_set_string(mm, "activation", "Gelu") &&
             onn_node_set_string(mm, "approximate", tanh_form ? "tanh" : "none");
    else if (act) /* name points into the absorbed node: set it before that node goes */
        ok = set_activation(mm, name, p, np);
    ok = ok && onn_graph_import_opset(g, "ai.onnorm", 1) &&
         onn_node_retype(mm, "ai.onnorm", "Linear", 3);
    if (!ok) return false;
    mm->in[2] = bias;
    mm->out[0] = out;
    if (add) onn_node_clear(add);
    if (act) onn_node_clear(act);
    return true;
}

onnorm_status onn_pass_fuse_linear(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    (void)err;
    for (int i = 0; i < g->n_nodes; i++)
        if (fuse_linear_one(g, &g->nodes[i], st)) st->matched++;
    return ONNORM_OK;
}

/* ---- fuse-expand-dw ------------------------------------------------------------------ */

/* Where the fused kernel wins (bench/pwdw_ab, alternating in one process,
 * ops/core/conv_pwdw.c): stride-2 depthwise stages over planes of 56 x 56
 * or more and expanded tensors of 2^17 floats or more: 1.01-1.61x at 1
 * thread, 1.15-1.62x at 2, on the 112 x 112 and 56 x 56 blocks of
 * MobileNetV2, MNASNet and EfficientNet-B0 (3x3 and 5x5). At 28 x 28 it is
 * 0.90-0.99x at 1 thread (the tensor stays in cache), and at stride 1
 * 0.72-0.81x (the plane kernel reads each expanded row once, cheaply). */
#define EXPAND_DW_MIN_FLOATS ((int64_t)1 << 17)
#define EXPAND_DW_MIN_PLANE ((int64_t)56 * 56)

/* The strides of n are all at least 2 (an absent attribute means 1). */
static bool strided(const onn_node *n)
{
    const onn_attr *a = onn_attr_find(n, "strides");
    if (!a || a->type != ONN_ATTR_INTS || a->n == 0) return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->ints[i] < 2) return false;
    return true;
}

/* The int attribute `name` of n is absent or every value equals v. */
static bool ints_all(const onn_node *n, const char *name, int64_t v)
{
    const onn_attr *a = onn_attr_find(n, name);
    if (!a) return true;
    if (a->type == ONN_ATTR_INT) return a->i == v;
    if (a->type != ONN_ATTR_INTS) return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->ints[i] != v) return false;
    return true;
}

/* A constant float32 4-D weight of the given dims (-1: any). */
static const onnorm_tensor *weight_4d(const onn_graph *g, int v, int64_t d0, int64_t d1, int64_t d2,
                                      int64_t d3)
{
    const onnorm_tensor *t = v >= 0 ? onn_graph_const(g, v) : NULL;
    if (!t || t->dtype != ONNORM_FLOAT || t->rank != 4) return NULL;
    const int64_t want[4] = {d0, d1, d2, d3};
    for (int i = 0; i < 4; i++)
        if (want[i] >= 0 && t->dims[i] != want[i]) return NULL;
    return t;
}

static int64_t attr_int_or(const onn_node *n, const char *name, int64_t dflt)
{
    const onn_attr *a = onn_attr_find(n, name);
    return a && a->type == ONN_ATTR_INT ? a->i : dflt;
}

/* pw (a 1x1 expansion) -> dw (a depthwise convolution over its output):
 * one ai.onnorm ExpandDepthwise in dw's place. */
static bool fuse_expand_dw_one(onn_graph *g, onn_node *pw, onn_pass_stats *st)
{
    if (!is_conv(pw) || pw->n_out != 1 || pw->out[0] < 0 || pw->n_in < 2 || pw->in[0] < 0)
        return false;
    const onnorm_tensor *w1 = weight_4d(g, pw->in[1], -1, -1, 1, 1);
    if (!w1 || has_residual(pw) || attr_int_or(pw, "group", 1) != 1 ||
        !ints_all(pw, "strides", 1) || !ints_all(pw, "pads", 0))
        return false;
    const int64_t e = w1->dims[0];
    const int y = pw->out[0];
    int users[2];
    const int n_users = onn_graph_consumers(g, y, users, 2);
    onn_node *dw = n_users >= 1 ? &g->nodes[users[0]] : NULL;
    /* Only a depthwise convolution after it makes a candidate. */
    if (!is_conv(dw) || dw->n_in < 2 || dw->in[0] != y || attr_int_or(dw, "group", 1) != e ||
        e < 2 || !weight_4d(g, dw->in[1], e, 1, -1, -1))
        return false;
    if (!onn_graph_single_use(g, y)) {
        onn_pass_skip(st, dw, "the expansion's output is also read elsewhere or is a graph output");
        return false;
    }
    if (has_residual(dw)) {
        onn_pass_skip(st, dw, "the depthwise convolution adds a residual");
        return false;
    }
    if (!strided(dw)) {
        onn_pass_skip(st, dw, "the depthwise stride is 1: the separate kernels are faster");
        return false;
    }
    const onn_value *vx = &g->values[pw->in[0]], *vy = &g->values[y];
    if (!onn_value_known(vx) || !onn_value_known(vy) || vx->rank != 4 ||
        vx->dtype != ONNORM_FLOAT) {
        onn_pass_skip(st, dw, "the expansion's input is not a known float32 4-D shape");
        return false;
    }
    const int64_t floats = vy->dims[1] * vy->dims[2] * vy->dims[3];
    if (floats < EXPAND_DW_MIN_FLOATS || vy->dims[2] * vy->dims[3] < EXPAND_DW_MIN_PLANE) {
        onn_pass_skip(st, dw,
                      "the expanded tensor (%lld floats per image, planes of %lld x %lld) stays in "
                      "cache: the separate kernels are as fast",
                      (long long)floats, (long long)vy->dims[2], (long long)vy->dims[3]);
        return false;
    }
    const int x = pw->in[0], b1 = pw->n_in > 2 ? pw->in[2] : -1, w2 = dw->in[1];
    const int b2 = dw->n_in > 2 ? dw->in[2] : -1;
    const onn_attr *act = onn_attr_find(pw, "activation");
    const onn_attr *params = onn_attr_find(pw, "activation_params");
    if (act &&
        (act->type != ONN_ATTR_STRING || !onn_node_set_string(dw, "expand_activation", act->s)))
        return false;
    if (act && params && params->type == ONN_ATTR_FLOATS &&
        !onn_node_set_floats(dw, "expand_activation_params", (int)params->n, params->floats))
        return false;
    if (!onn_graph_import_opset(g, "ai.onnorm", 1) ||
        !onn_node_retype(dw, "ai.onnorm", "ExpandDepthwise", 5))
        return false;
    dw->in[0] = x, dw->in[1] = pw->in[1], dw->in[2] = b1, dw->in[3] = w2, dw->in[4] = b2;
    onn_node_clear(pw);
    return true;
}

onnorm_status onn_pass_fuse_expand_dw(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    (void)err;
    for (int i = 0; i < g->n_nodes; i++)
        if (fuse_expand_dw_one(g, &g->nodes[i], st)) st->matched++;
    return ONNORM_OK;
}
