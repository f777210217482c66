/*
 * The versioned kernel registry. Each op family exports a table of kernels,
 * one entry per since_version; a node gets the entry with the highest
 * since_version not above the model's opset for its domain (the rule the
 * ONNX versioning doc gives).
 */
#include "ops/kernel.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
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

const onn_kernel *onn_registry_at(int i)
{
    for (size_t t = 0; t < N_TABLES; t++) {
        if (i < *tables[t].count) return &tables[t].kernels[i];
        i -= *tables[t].count;
    }
    return NULL;
}

int onnorm_kernel_count(void)
{
    int n = 0;
    for (size_t t = 0; t < N_TABLES; t++)
        n += *tables[t].count;
    return n;
}

void onnorm_kernel_info(int i, const char **domain, const char **op_type, int *since_version,
                        char *types, size_t types_len)
{
    const onn_kernel *k = onn_registry_at(i);
    if (!k) return;
    if (domain) *domain = k->domain[0] ? k->domain : "ai.onnx";
    if (op_type) *op_type = k->op_type;
    if (since_version) *since_version = k->since_version;
    if (types && types_len) onn_types_str(k->types, types, types_len);
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

void *onn_kscratch(onn_kctx *ctx, size_t bytes, void **own)
{
    *own = NULL;
    if (!bytes) bytes = 1;
    if (!ctx->scratch) {
        if (!(*own = malloc(bytes)))
            onn_kfail(ctx, ONNORM_ERR_NOMEM, "cannot allocate %zu bytes of scratch", bytes);
        return *own;
    }
    onn_scratch *s = ctx->scratch;
    if (s->cap < bytes) {
        void *p = realloc(s->data, bytes);
        if (!p) {
            onn_kfail(ctx, ONNORM_ERR_NOMEM, "cannot allocate %zu bytes of scratch", bytes);
            return NULL;
        }
        s->data = p;
        s->cap = bytes;
    }
    return s->data;
}

bool onn_is_float_type(onnorm_dtype t)
{
    return t == ONNORM_FLOAT || t == ONNORM_DOUBLE;
}

bool onn_is_norm_type(onnorm_dtype t)
{
    return t == ONNORM_FLOAT || t == ONNORM_DOUBLE || t == ONNORM_FLOAT16 || t == ONNORM_BFLOAT16;
}

onnorm_status onn_check_float_input(onn_kctx *ctx, int i, const char *what)
{
    const onnorm_tensor *t = ctx->in[i];
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    uint32_t mask = ctx->node->kernel->types ? ctx->node->kernel->types : ONN_T_ALL_FLOATS;
    if (!(mask & ONN_T(t->dtype))) {
        char types[128];
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s; %s-%d supports %s", what,
                         onnorm_dtype_name(t->dtype), ctx->node->op_type,
                         ctx->node->kernel->since_version,
                         onn_types_str(mask, types, sizeof types));
    }
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
    for (int k = 0; k < rank; k++)
        o->dims[k] = dims[k];
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

const char *onn_types_str(uint32_t mask, char *buf, size_t len)
{
    /* In a fixed reading order: floats by width, then integers. */
    static const onnorm_dtype order[] = {
        ONNORM_FLOAT16, ONNORM_BFLOAT16, ONNORM_FLOAT,  ONNORM_DOUBLE, ONNORM_INT8,
        ONNORM_UINT8,   ONNORM_INT16,    ONNORM_UINT16, ONNORM_INT32,  ONNORM_UINT32,
        ONNORM_INT64,   ONNORM_UINT64,   ONNORM_BOOL};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0] && used < len; i++)
        if (mask & ONN_T(order[i]))
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                                     onnorm_dtype_name(order[i]));
    return buf;
}
