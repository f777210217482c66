/* The helpers every kernel uses; see kernel.h. */
#include "ops/kernel.h"

#include <stdio.h>
#include <stdlib.h>

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
    /* A kernel without a declared list computes float32 and float64 only. */
    uint32_t mask =
        ctx->kernel->types ? ctx->kernel->types : ONN_T(ONNORM_FLOAT) | ONN_T(ONNORM_DOUBLE);
    if (!(mask & ONN_T(t->dtype))) {
        char types[128];
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s; %s-%d supports %s", what,
                         onnorm_dtype_name(t->dtype), ctx->node->op_type, onn_kversion(ctx),
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

onnorm_status onn_infer_like_input(onn_kctx *ctx, const char *what)
{
    onnorm_status st = onn_check_float_input(ctx, 0, what);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    return ONNORM_OK;
}

onnorm_status onn_infer_norm(onn_kctx *ctx, const char *what, int64_t len, const char *p1,
                             const char *p2)
{
    onnorm_status st = onn_infer_like_input(ctx, what);
    if (st) return st;
    const onnorm_dtype t = ctx->in[0]->dtype;
    if ((st = onn_check_param(ctx, 1, p1, len, t))) return st;
    return onn_check_param(ctx, 2, p2, len, t);
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

bool onn_dims_broadcast_to(const int64_t *p, int pr, const int64_t *dims, int r)
{
    if (pr > r) return false;
    for (int i = 1; i <= pr; i++)
        if (p[pr - i] != dims[r - i] && p[pr - i] != 1) return false;
    return true;
}

onnorm_status onn_input_ints(onn_kctx *ctx, int i, const char *what, unsigned flags, int max,
                             int64_t *out, int *n)
{
    *n = -1;
    if (!onn_has_input(ctx, i)) {
        if (flags & ONN_INTS_OPTIONAL) return ONNORM_OK;
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    }
    const onnorm_tensor *t = ctx->in[i];
    const bool i32_ok = !(flags & ONN_INTS_INT64);
    if (t->dtype != ONNORM_INT64 && !(i32_ok && t->dtype == ONNORM_INT32))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s, expected int64%s", what,
                         onnorm_dtype_name(t->dtype), i32_ok ? " or int32" : "");
    if (t->rank != 1 && !(t->rank == 0 && (flags & ONN_INTS_SCALAR)))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input '%s' must be 1-D, got rank %d", what,
                         t->rank);
    const int64_t len = t->rank == 1 ? t->dims[0] : 1;
    if (len > max)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "input '%s' has %lld values, at most %d fit",
                         what, (long long)len, max);
    *n = (int)len;
    if (len == 0) return ONNORM_OK; /* nothing to read, even without data */
    const void *v = onn_input_values(ctx, i, what);
    if (!v) return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    for (int64_t k = 0; k < len; k++)
        out[k] = t->dtype == ONNORM_INT64 ? ((const int64_t *)v)[k] : ((const int32_t *)v)[k];
    return ONNORM_OK;
}

/* ---- attributes ------------------------------------------------------------ */

bool onn_kattr_has(const onn_kctx *ctx, const char *name)
{
    return onn_attr_find(ctx->node, name) != NULL;
}

onnorm_status onn_kattr_require(onn_kctx *ctx, const char *name)
{
    if (onn_kattr_has(ctx, name)) return ONNORM_OK;
    return onn_kfail(ctx, ONNORM_ERR_INVALID, "the required attribute %s is missing", name);
}

onnorm_status onn_kattr_int(onn_kctx *ctx, const char *name, int64_t dflt, int64_t *out)
{
    if (onn_attr_int(ctx->node, name, dflt, out, NULL)) return ONNORM_OK;
    return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' must be an int", name);
}

onnorm_status onn_kattr_float(onn_kctx *ctx, const char *name, float dflt, float *out)
{
    if (onn_attr_float(ctx->node, name, dflt, out, NULL)) return ONNORM_OK;
    return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' must be a float", name);
}

onnorm_status onn_kattr_ints(onn_kctx *ctx, const char *name, int n, int64_t *out, bool *present)
{
    const onn_attr *a = onn_attr_find(ctx->node, name);
    /* An empty list states nothing; some exporters write one for "default". */
    *present = a && !(a->type == ONN_ATTR_INTS && a->n == 0);
    if (!*present) return ONNORM_OK;
    if (a->type != ONN_ATTR_INTS)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' must be a list of ints", name);
    if (a->n != (size_t)n)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' has %zu values, expected %d",
                         name, a->n, n);
    memcpy(out, a->ints, (size_t)n * sizeof *out);
    return ONNORM_OK;
}

onnorm_status onn_kattr_ints_upto(onn_kctx *ctx, const char *name, int max, int64_t *out, int *n)
{
    const onn_attr *a = onn_attr_find(ctx->node, name);
    *n = -1;
    if (!a) return ONNORM_OK;
    if (a->type != ONN_ATTR_INTS)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' must be a list of ints", name);
    if (a->n > (size_t)max)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "attribute '%s' has %zu values; at most %d",
                         name, a->n, max);
    if (a->n) memcpy(out, a->ints, a->n * sizeof *out);
    *n = (int)a->n;
    return ONNORM_OK;
}

onnorm_status onn_kattr_enum(onn_kctx *ctx, const char *name, const char *const *names, int count,
                             int dflt, int *out)
{
    const onn_attr *a = onn_attr_find(ctx->node, name);
    *out = dflt;
    if (!a) return ONNORM_OK;
    if (a->type != ONN_ATTR_STRING)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute '%s' must be a string", name);
    for (int i = 0; i < count; i++)
        if (strcmp(a->s, names[i]) == 0) {
            *out = i;
            return ONNORM_OK;
        }
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (int i = 0; i < count && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "attribute %s = '%s'; supported: %s", name, a->s,
                     list);
}

/* ---- memory ------------------------------------------------------------------ */

void *onn_kalloc(onn_kctx *ctx, size_t bytes)
{
    /* The block header takes one alignment unit so the data stays aligned. */
    size_t total;
    if (!ctx->prep || bytes > SIZE_MAX - 2 * ONN_KALIGN) {
        onn_kfail(ctx, ONNORM_ERR_NOMEM, "cannot allocate %zu bytes of kernel state", bytes);
        return NULL;
    }
    total = ONN_KALIGN + ((bytes + ONN_KALIGN - 1) & ~(size_t)(ONN_KALIGN - 1));
    onn_kblock *b = aligned_alloc(ONN_KALIGN, total);
    if (!b) {
        onn_kfail(ctx, ONNORM_ERR_NOMEM, "cannot allocate %zu bytes of kernel state", bytes);
        return NULL;
    }
    b->next = ctx->prep->blocks;
    ctx->prep->blocks = b;
    return (char *)b + ONN_KALIGN;
}

void onn_kscratch_need(onn_kctx *ctx, size_t bytes)
{
    if (ctx->prep && ctx->prep->scratch_bytes < bytes) ctx->prep->scratch_bytes = bytes;
}

void onn_kflops(onn_kctx *ctx, double flops)
{
    if (ctx->prep) ctx->prep->flops = flops;
}

void onn_kshare_input(onn_kctx *ctx, int k)
{
    if (ctx->prep && k >= 0 && k < ctx->n_in) ctx->prep->share_input = k + 1;
}

onnorm_status onn_kbytes(onn_kctx *ctx, size_t a, size_t b, size_t c, size_t *out)
{
    size_t ab;
    if (!onn_mul_size(a, b, &ab) || !onn_mul_size(ab, c, out)) {
        *out = 0;
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "a buffer size overflows");
    }
    return ONNORM_OK;
}

/* ---- data movement --------------------------------------------------------- */

void onn_copy_strided(void *dst, const void *src, int64_t n, int64_t stride, size_t esz)
{
    char *d = dst;
    const char *s = src;
    if (stride == 1) {
        memcpy(d, s, (size_t)n * esz);
        return;
    }
    /* A constant element size lets the compiler turn each memcpy into a move. */
#define ONN_COPY_STRIDED(W)                                                                        \
    for (int64_t i = 0; i < n; i++)                                                                \
    memcpy(d + i * (W), s + i * stride * (W), W)
    switch (esz) {
    case 1: ONN_COPY_STRIDED(1); break;
    case 2: ONN_COPY_STRIDED(2); break;
    case 4: ONN_COPY_STRIDED(4); break;
    case 8: ONN_COPY_STRIDED(8); break;
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(d + (size_t)i * esz, s + (size_t)(i * stride) * esz, esz);
    }
#undef ONN_COPY_STRIDED
}

void onn_repeat(void *dst, size_t bytes, int64_t count)
{
    char *d = dst;
    size_t done = 1, total = count > 0 ? (size_t)count : 0;
    while (done < total) {
        size_t chunk = done < total - done ? done : total - done;
        memcpy(d + done * bytes, d, chunk * bytes);
        done += chunk;
    }
}

void onn_fill(void *dst, int64_t n, const void *value, size_t esz)
{
    if (n <= 0) return;
    memcpy(dst, value, esz);
    onn_repeat(dst, esz, n);
}

onnorm_status onn_check_storable(onn_kctx *ctx, int i, const char *what)
{
    const onnorm_tensor *x = onn_opt_input(ctx, i);
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has unsupported type %s", what,
                         onnorm_dtype_name(x->dtype));
    if (x->dtype == ONNORM_BFLOAT16 && onn_kversion(ctx) < 13)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input '%s' is bfloat16, which %s-%d does not allow", what,
                         ctx->node->op_type, onn_kversion(ctx));
    return ONNORM_OK;
}
