/* The pass pipeline: order, switches, report. See passes.h. */
#include "graph/passes.h"
#include "graph/edit.h"

#include <stdio.h>
#include <string.h>

/* Cleanup runs first (so patterns are not hidden behind Identity/Dropout)
 * and last (to drop what the fusions left unused). */
static const onn_pass passes[] = {
    {"cleanup", "remove Identity, inference Dropout and dead nodes", onn_pass_cleanup},
    {"fold-pad", "fold a zero Pad into the Conv or AveragePool after it", onn_pass_fold_pad},
    {"fold-batchnorm", "fold BatchNormalization into Conv, ConvTranspose, Gemm, MatMul+Add",
     onn_pass_fold_batchnorm},
    {"fold-affine", "fold per-channel Mul/Add by constants into the preceding Conv",
     onn_pass_fold_affine},
    {"fold-affine-into-norm",
     "fold a per-channel Mul/Add/Sub/Div by constants into the BatchNormalization, "
     "InstanceNormalization, GroupNormalization or LayerNormalization before it",
     onn_pass_fold_affine_norm},
    {"fuse-conv", "fuse a residual Add and an activation into the Conv before them (FusedConv)",
     onn_pass_fuse_conv},
    {"layernorm", "recognize decomposed LayerNormalization", onn_pass_layernorm},
    {"rmsnorm", "recognize decomposed RMSNormalization", onn_pass_rmsnorm},
    {"groupnorm", "recognize Reshape-InstanceNormalization-Reshape-Mul-Add as GroupNormalization",
     onn_pass_groupnorm},
    {"fuse-norm",
     "fuse an activation into the BatchNormalization, InstanceNormalization or "
     "GroupNormalization before it",
     onn_pass_fuse_norm},
    {"fuse-gelu", "recognize the decomposed Erf and Tanh forms of GELU as one Gelu",
     onn_pass_fuse_gelu},
    {"fuse-skip-norm",
     "fuse a residual Add into the LayerNormalization or RMSNormalization after it "
     "(SkipLayerNormalization)",
     onn_pass_fuse_skip_norm},
    /* After layernorm, which recognizes decomposed ones at opset 14. */
    {"fold-channel-layernorm",
     "fold Transpose (channels last) -> LayerNormalization -> Transpose (channels first) into "
     "one normalization over the channel axis (ai.onnorm ChannelLayerNormalization)",
     onn_pass_fold_channel_layernorm},
    /* After the recognizers: a decomposed LayerNorm's Mul/Add or GELU's
     * Mul 0.5 before a MatMul must not be folded away before they see it. */
    {"fold-norm-into-next-conv",
     "fold a BatchNormalization or per-channel constant affine chain into the weights of the "
     "Conv, FusedConv, Gemm or MatMul after it",
     onn_pass_fold_norm_conv},
    /* After fold-norm-into-next-conv, which folds into a MatMul's weights. */
    {"fuse-linear",
     "fuse the bias Add and an activation (FusedConv's, or Gelu) into the MatMul with constant "
     "weights before them (ai.onnorm Linear)",
     onn_pass_fuse_linear},
    /* After fold-norm-into-next-conv, which folds into a Conv's weights. */
    {"fuse-expand-dw",
     "fuse a 1x1 expansion and the depthwise convolution after it, where the expanded tensor "
     "would leave the cache (ai.onnorm ExpandDepthwise)",
     onn_pass_fuse_expand_dw},
    {"fuse-attention",
     "fuse MatMul -> scale -> mask (Add or Where) -> Softmax -> MatMul into one tiled "
     "attention kernel (ai.onnorm ScaledDotProductAttention)",
     onn_pass_fuse_attention},
    {"cleanup", "remove what the fusions left unused", onn_pass_cleanup},
};

_Static_assert(sizeof passes / sizeof passes[0] <= ONN_MAX_PASSES,
               "the report has room for ONN_MAX_PASSES passes");

int onn_pass_count(void)
{
    return (int)(sizeof passes / sizeof passes[0]);
}

const onn_pass *onn_pass_get(int i)
{
    return i >= 0 && i < onn_pass_count() ? &passes[i] : NULL;
}

onnorm_status onn_pass_sweep(onn_graph *g, onn_pass_stats *st, onnorm_error *err,
                             onn_node_fold_fn fn)
{
    bool changed = true, first = true;
    while (changed) {
        changed = false;
        for (int i = 0; i < g->n_nodes; i++) {
            bool done;
            onnorm_status s = fn(g, &g->nodes[i], first, st, &done, err);
            if (s) return s;
            if (done) st->matched++, changed = true;
        }
        first = false;
    }
    return ONNORM_OK;
}

void onn_pass_skip(onn_pass_stats *st, const onn_node *n, const char *fmt, ...)
{
    char why[512], lbl[256], line[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    st->skipped++;
    int k = snprintf(line, sizeof line, "%s: %s\n",
                     n ? onn_node_label(n, lbl, sizeof lbl) : "graph", why);
    /* Whole lines only; what does not fit is counted for the report. */
    if (k < 0 || st->notes_len + (size_t)k >= sizeof st->notes) {
        st->notes_dropped++;
        return;
    }
    memcpy(st->notes + st->notes_len, line, (size_t)k + 1);
    st->notes_len += (size_t)k;
}

/* True when `name` appears in the comma-separated list. */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static onnorm_status check_names(const char *list, onnorm_error *err)
{
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool known = len == 0;
        for (int i = 0; i < onn_pass_count() && !known; i++)
            known = strlen(passes[i].name) == len && strncmp(passes[i].name, p, len) == 0;
        if (!known) {
            char names[512] = "";
            size_t used = 0;
            for (int i = 0; i < onn_pass_count() - 1; i++) /* the last is cleanup again */
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                         passes[i].name);
            return onn_fail(err, ONNORM_ERR_INVALID, "unknown pass '%.*s' (passes: %s)", (int)len,
                            p, names);
        }
        p = end ? end + 1 : NULL;
    }
    return ONNORM_OK;
}

onnorm_status onn_optimize(onn_graph *g, int level, const char *disabled, const onn_pass_env *env,
                           onn_opt_report *report, onnorm_error *err)
{
    onnorm_status st = check_names(disabled, err);
    if (st) return st;
    if (report) memset(report, 0, sizeof *report);
    if (level <= 0) return ONNORM_OK;
    for (int i = 0; i < onn_pass_count(); i++) {
        if (listed(disabled, passes[i].name)) continue;
        onn_pass_stats local,
            *ps = report && report->n < ONN_MAX_PASSES ? &report->passes[report->n++] : &local;
        memset(ps, 0, sizeof *ps);
        ps->name = passes[i].name;
        ps->env = env;
        env->infer_shapes(g, report ? report->infer_notes : NULL,
                          report ? sizeof report->infer_notes : 0);
        st = passes[i].run(g, ps, err);
        if (!st && ps->matched) st = onn_graph_rebuild(g, err);
        if (st) return onn_prefix(err, st, "%s: pass %s: ", g->source, passes[i].name);
    }
    return ONNORM_OK;
}
