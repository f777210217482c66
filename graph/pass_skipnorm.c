/*
 * fuse-skip-norm: a residual Add followed by a last-axis normalization
 * becomes one pass over the rows (ops/norm/skip_layernorm.c), with ONNX
 * Runtime's operators and their semantics:
 *
 *   LayerNormalization(Add(a, b), scale, [bias])
 *       -> com.microsoft.SkipLayerNormalization(a, b, scale, [bias])
 *   RMSNormalization / SimplifiedLayerNormalization(Add(a, b), scale)
 *       -> com.microsoft.SkipSimplifiedLayerNormalization(a, b, scale)
 *
 * The Add's sum lives on as the fused node's fourth output
 * (input_skip_bias_sum) when anything else reads it: in a transformer the
 * residual stream goes on to the next block's Add, so the sum is written
 * once and never read back for the norm. The norm's own optional outputs
 * map onto the fused node's: LayerNormalization's Mean and InvStdDev to
 * outputs 1 and 2, SimplifiedLayerNormalization's inv_std_var to 2 (same
 * shapes, [.., 1], float32).
 *
 * Conditions, each a near-miss with its reason when it fails:
 *   - the norm normalizes the last axis only (axis -1 or rank - 1) of a
 *     rank-2 or rank-3 input (the fused operators' inputs);
 *   - the norm's element type is float32, float16, bfloat16 or float64 and
 *     both Add inputs have it;
 *   - one Add input (the fused node's `input`) has the sum's shape and the
 *     other (`skip`) is it or a suffix of it: leading 1s dropped, its dims
 *     equal the input's last ones (the fused kernel repeats a smaller skip
 *     over the leading rows). Dims are compared as inferred: a symbolic dim
 *     matches only a symbolic dim at the same place, and the kernel checks
 *     the real shapes when it runs;
 *   - the norm's scale (and bias) hold as many elements as the last axis;
 *   - the Add's output is not the norm's only input by way of another
 *     path, i.e. the norm reads it directly.
 * LayerNormalization's stash_type does not matter: the fused kernel forms
 * the sum and the statistics in float64.
 */
#include "graph/edit.h"
#include "graph/passes.h"

#include <stdio.h>
#include <string.h>

typedef enum norm_kind { NORM_NONE, NORM_LAYER, NORM_RMS, NORM_SIMPLIFIED } norm_kind;

static norm_kind kind_of(const onn_node *n)
{
    if (!n->op_type) return NORM_NONE;
    const bool std = n->domain[0] == '\0', ms = strcmp(n->domain, "com.microsoft") == 0;
    if (!std && !ms) return NORM_NONE;
    if (strcmp(n->op_type, "LayerNormalization") == 0) return NORM_LAYER;
    if (std && strcmp(n->op_type, "RMSNormalization") == 0) return NORM_RMS;
    if (strcmp(n->op_type, "SimplifiedLayerNormalization") == 0) return NORM_SIMPLIFIED;
    return NORM_NONE;
}

static bool float_type(onnorm_dtype t)
{
    return t == ONNORM_FLOAT || t == ONNORM_FLOAT16 || t == ONNORM_BFLOAT16 || t == ONNORM_DOUBLE;
}

/* skip's inferred dims, leading 1s dropped, equal the last dims of x's. */
static bool suffix_of(const onn_value *skip, const onn_value *x)
{
    int lead = 0;
    while (lead < skip->rank - 1 && skip->dims[lead] == 1)
        lead++;
    const int n = skip->rank - lead;
    if (n > x->rank) return false;
    for (int i = 0; i < n; i++)
        if (skip->dims[lead + i] != x->dims[x->rank - n + i]) return false;
    return true;
}

/* Elements of a parameter value, or -1 when its shape is not known. */
static int64_t numel_of(const onn_value *v)
{
    if (v->rank < 0) return -1;
    int64_t n = 1;
    for (int i = 0; i < v->rank; i++) {
        if (v->dims[i] < 0) return -1;
        n *= v->dims[i];
    }
    return n;
}

static bool fuse_one(onn_graph *g, onn_node *norm, norm_kind kind, onn_pass_stats *st,
                     onnorm_error *err, bool *failed)
{
    if (norm->n_in < 2 || norm->in[0] < 0 || norm->in[1] < 0) return false;
    onn_node *add = onn_graph_producer(g, norm->in[0]);
    if (!onn_node_is(add, "Add") || add->n_in != 2 || add->in[0] < 0 || add->in[1] < 0)
        return false;
    const onn_value *sum = &g->values[norm->in[0]];
    const onn_value *va = &g->values[add->in[0]], *vb = &g->values[add->in[1]];
    if (sum->rank < 2 || sum->rank > 3) {
        onn_pass_skip(st, norm, "the input's rank is %s, not 2 or 3",
                      sum->rank < 0   ? "unknown"
                      : sum->rank < 2 ? "below 2"
                                      : "above 3");
        return false;
    }
    int64_t axis;
    if (!onn_attr_int(norm, "axis", -1, &axis, NULL)) return false;
    if (axis != -1 && axis != sum->rank - 1) {
        onn_pass_skip(st, norm, "normalizes from axis %lld, not the last axis only",
                      (long long)axis);
        return false;
    }
    if (!float_type(sum->dtype) || va->dtype != sum->dtype || vb->dtype != sum->dtype) {
        onn_pass_skip(st, norm, "the Add's inputs and the norm are not all of one float type");
        return false;
    }
    /* input: the Add input with the sum's shape; skip: the other, a suffix. */
    const bool a_full =
        va->rank == sum->rank && !memcmp(va->dims, sum->dims, (size_t)sum->rank * sizeof(int64_t));
    const bool b_full =
        vb->rank == sum->rank && !memcmp(vb->dims, sum->dims, (size_t)sum->rank * sizeof(int64_t));
    int input = -1, skip = -1;
    if (a_full && vb->rank > 0 && suffix_of(vb, va))
        input = add->in[0], skip = add->in[1];
    else if (b_full && va->rank > 0 && suffix_of(va, vb))
        input = add->in[1], skip = add->in[0];
    if (input < 0) {
        onn_pass_skip(st, norm,
                      "the residual Add's inputs are not the sum's shape and a suffix of it");
        return false;
    }
    const int64_t h = sum->dims[sum->rank - 1];
    const int n_par = kind == NORM_LAYER ? 3 : 2;
    for (int i = 1; i < n_par && i < norm->n_in; i++)
        if (norm->in[i] >= 0 && (h < 0 || numel_of(&g->values[norm->in[i]]) != h)) {
            onn_pass_skip(st, norm, "its %s does not hold one value per element of the last axis",
                          i == 1 ? "scale" : "bias");
            return false;
        }
    if (!onn_graph_import_opset(g, "com.microsoft", 1)) {
        *failed = true;
        onn_fail(err, ONNORM_ERR_NOMEM, "out of memory importing com.microsoft");
        return false;
    }

    /* The fused node: input, skip, gamma, [beta]; outputs y, mean,
     * inv_std_var, sum (where anything reads the sum). */
    const bool layer = kind == NORM_LAYER;
    int in[4] = {input, skip, norm->in[1], layer && norm->n_in > 2 ? norm->in[2] : -1};
    const bool keep_sum = !onn_graph_single_use(g, add->out[0]);
    int out[4] = {norm->out[0], -1, -1, keep_sum ? add->out[0] : -1};
    if (layer) {
        out[1] = norm->n_out > 1 ? norm->out[1] : -1;
        out[2] = norm->n_out > 2 ? norm->out[2] : -1;
    } else if (kind == NORM_SIMPLIFIED) {
        out[2] = norm->n_out > 1 ? norm->out[1] : -1;
    }
    float eps;
    if (!onn_attr_float(norm, "epsilon", 1e-5f, &eps, NULL)) return false;
    char name[320];
    snprintf(name, sizeof name, "%s_skip", norm->name && norm->name[0] ? norm->name : "norm");
    const char *op = layer ? "SkipLayerNormalization" : "SkipSimplifiedLayerNormalization";
    const int n_in = layer && in[3] >= 0 ? 4 : 3;
    int n_out = 4;
    while (n_out > 1 && out[n_out - 1] < 0)
        n_out--;
    /* Clear first: the new node takes over the old ones' output values. */
    onn_node_clear(add);
    onn_node_clear(norm);
    onn_node *f = onn_graph_new_node(g, op, name, n_in, in, n_out, out);
    if (!f || !onn_node_retype(f, "com.microsoft", op, n_in) ||
        !onn_node_set_float(f, "epsilon", eps)) {
        *failed = true;
        onn_fail(err, ONNORM_ERR_NOMEM, "out of memory adding %s", op);
        return false;
    }
    return true;
}

onnorm_status onn_pass_fuse_skip_norm(onn_graph *g, onn_pass_stats *st, onnorm_error *err)
{
    bool failed = false;
    const int n0 = g->n_nodes; /* the nodes this pass adds are not candidates */
    for (int i = 0; i < n0 && !failed; i++) {
        onn_node *n = &g->nodes[i];
        const norm_kind k = kind_of(n);
        if (k != NORM_NONE && fuse_one(g, n, k, st, err, &failed)) st->matched++;
    }
    return failed ? (err ? err->code : ONNORM_ERR_NOMEM) : ONNORM_OK;
}
