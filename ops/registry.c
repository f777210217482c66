/*
 * The versioned kernel registry. Each op family exports a table of kernels,
 * one entry per since_version; a node gets the entry with the highest
 * since_version not above the model's opset for its domain (the rule the
 * ONNX versioning doc gives).
 */
#include "ops/kernel.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>

typedef struct kernel_table {
    const onn_kernel *kernels;
    const int *count;
} kernel_table;

static const kernel_table tables[] = {
#define ONN_FAMILY(name) {onn_kernels_##name, &onn_kernels_##name##_count},
#include "ops/families.h"
#undef ONN_FAMILY
};

#define N_TABLES (sizeof tables / sizeof tables[0])

/* The newest ai.onnx opset whose operator changes this build tracks. A model
 * importing a newer opset may rely on semantics written after this build, so
 * its nodes are reported as unsupported rather than guessed at. */
#define ONN_MAX_AI_ONNX_OPSET 23

int64_t onn_registry_max_opset(const char *domain)
{
    if (domain[0] == '\0') return ONN_MAX_AI_ONNX_OPSET;
    if (strcmp(domain, "ai.onnx.ml") == 0) return 5; /* Scaler, Normalizer unchanged since 1 */
    return 1;                                        /* com.microsoft contrib ops: version 1 */
}

static bool same_op(const onn_kernel *k, const char *domain, const char *op_type)
{
    return strcmp(k->domain, domain) == 0 && strcmp(k->op_type, op_type) == 0;
}

const onn_kernel *onn_registry_find(const char *domain, const char *op_type, int64_t opset)
{
    const onn_kernel *best = NULL;
    for (size_t t = 0; t < N_TABLES; t++)
        for (int i = 0; i < *tables[t].count; i++) {
            const onn_kernel *k = &tables[t].kernels[i];
            if (same_op(k, domain, op_type) && k->since_version <= opset &&
                (!best || k->since_version > best->since_version))
                best = k;
        }
    return best;
}

bool onn_registry_knows(const char *domain, const char *op_type, int *lowest_version)
{
    bool found = false;
    for (size_t t = 0; t < N_TABLES; t++)
        for (int i = 0; i < *tables[t].count; i++) {
            const onn_kernel *k = &tables[t].kernels[i];
            if (!same_op(k, domain, op_type)) continue;
            if (!found || k->since_version < *lowest_version) *lowest_version = k->since_version;
            found = true;
        }
    return found;
}

onnorm_status onn_kfail(onn_kctx *ctx, onnorm_status code, const char *fmt, ...)
{
    char msg[768], lbl[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return onn_fail(ctx->err, code, "%s: %s", onn_node_label(ctx->node, lbl, sizeof lbl), msg);
}

const void *onn_input_values(onn_kctx *ctx, int i, const char *what)
{
    if (i >= ctx->n_in || !ctx->in[i]) {
        onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
        return NULL;
    }
    if (!ctx->in[i]->data && ctx->needs_values) *ctx->needs_values = true;
    if (!ctx->in[i]->data)
        onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                  "input '%s' must be computable from constants and input shapes; here it "
                  "depends on runtime data",
                  what);
    return ctx->in[i]->data;
}

bool onn_is_float_type(onnorm_dtype t) { return t == ONNORM_FLOAT || t == ONNORM_DOUBLE; }

bool onn_is_norm_type(onnorm_dtype t)
{
    return t == ONNORM_FLOAT || t == ONNORM_DOUBLE || t == ONNORM_FLOAT16 || t == ONNORM_BFLOAT16;
}

onnorm_status onn_check_float_input(onn_kctx *ctx, int i, const char *what)
{
    const onnorm_tensor *t = ctx->in[i];
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    if (!onn_is_norm_type(t->dtype))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input '%s' has type %s; supported: float32, float64, float16, bfloat16",
                         what, onnorm_dtype_name(t->dtype));
    return ONNORM_OK;
}

onnorm_status onn_check_param(onn_kctx *ctx, int i, const char *what, int64_t len,
                              onnorm_dtype dtype)
{
    const onnorm_tensor *t = ctx->in[i];
    char sh[128];
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    if (t->dtype != dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s, expected %s like X", what,
                         onnorm_dtype_name(t->dtype), onnorm_dtype_name(dtype));
    if (t->rank != 1 || t->dims[0] != len)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input '%s' has shape %s, expected [%lld]", what,
                         onn_shape_str(t->dims, t->rank, sh, sizeof sh), (long long)len);
    return ONNORM_OK;
}

void onn_set_output(onn_kctx *ctx, int i, onnorm_dtype dtype, int rank, const int64_t *dims)
{
    if (i >= ctx->n_out || !ctx->out[i]) return;
    onnorm_tensor *o = ctx->out[i];
    o->dtype = dtype;
    o->rank = rank;
    for (int k = 0; k < rank; k++) o->dims[k] = dims[k];
}

bool onn_normalize_axis(int64_t axis, int rank, int *out)
{
    if (axis < -(int64_t)rank || axis >= rank) return false;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return true;
}

/* Below this many elements a parallel region costs more than it saves. */
#define ONN_PARALLEL_MIN_WORK 32768

int onn_threads_for(const onn_kctx *ctx, int64_t work, int64_t tasks)
{
    if (work < ONN_PARALLEL_MIN_WORK || tasks < 2) return 1;
    int nt = ctx->num_threads;
    return tasks < nt ? (int)tasks : nt;
}
