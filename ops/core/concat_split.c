/*
 * Concat (1: axis defaults to 1; 4: axis required; 11: negative axis) and
 * Split (1: split input or attribute; 2: split attribute; 13: split input;
 * 18: num_outputs attribute, last chunk possibly smaller).
 *
 * Both view tensors as [outer, axis, inner] and move whole [axis-part x
 * inner] blocks with memcpy, so every element type is handled alike.
 * Negative axes are accepted at every opset. The split sizes must be known
 * while planning: they fix the output shapes. config reads the axis and the
 * extents along it; prepare lays out the view once planning has checked the
 * output sizes.
 */
#include "ops/core/threadpool.h"
#include "ops/kernel.h"

#include <limits.h>
#include <string.h>

/* The axis attribute, normalized against rank. */
static onnorm_status read_axis(onn_kctx *ctx, int64_t dflt, bool required, int rank, int *axis)
{
    int64_t a;
    onnorm_status st;
    if ((required && (st = onn_kattr_require(ctx, "axis"))) ||
        (st = onn_kattr_int(ctx, "axis", dflt, &a)))
        return st;
    if (!onn_normalize_axis(a, rank, axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)a, rank);
    return ONNORM_OK;
}

/* Where Split's output sizes come from: a list (the 'split' input, int64 or
 * int32, or attribute), else `chunk` for every output but the last, which
 * gets `last`. The list is the node's or the input's, alive while planning. */
typedef struct split_src {
    const int64_t *i64;
    const int32_t *i32;
    int64_t chunk, last;
} split_src;

/* Both ops view the tensors as [outer, axis, inner]. */
typedef struct cs_cfg {
    int axis;
    int64_t total;       /* the concatenated side's extent along the axis */
    split_src src;       /* Split: each output's size along the axis */
    int64_t outer, work; /* work: elements moved, for the thread count */
    size_t inner;        /* bytes of one step along the axis */
    size_t row;          /* bytes of one whole [axis x inner] block of the concatenated side */
    int64_t *sizes;      /* Split: src copied out (onn_kalloc) */
} cs_cfg;

/* The view of x split or concatenated along c->axis to c->total steps. */
static void set_view(cs_cfg *c, const onnorm_tensor *x)
{
    const int axis = c->axis;
    c->outer = onn_dims_numel(x->dims, 0, axis);
    c->inner = (size_t)onn_dims_numel(x->dims, axis + 1, x->rank) * onnorm_dtype_size(x->dtype);
    c->row = (size_t)c->total * c->inner;
    c->work = c->outer * c->total * onn_dims_numel(x->dims, axis + 1, x->rank);
}

/* Sets output k to input 0's type and shape but for `extent` along the axis. */
static void set_output_along(onn_kctx *ctx, int k, int64_t extent)
{
    const cs_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[c->axis] = extent;
    onn_set_output(ctx, k, x->dtype, x->rank, dims);
}

/* ---- Concat -------------------------------------------------------------- */

static onnorm_status concat_axis(onn_kctx *ctx, int *axis)
{
    const onnorm_tensor *x = ctx->in[0];
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "input 0 is missing");
    if (x->rank < 1) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "cannot concatenate scalars");
    return read_axis(ctx, 1, onn_kversion(ctx) >= 4, x->rank, axis);
}

/* Input i must match input 0 in type, rank and every dim but the axis. */
static onnorm_status check_concat_input(onn_kctx *ctx, int i, int axis)
{
    const onnorm_tensor *x = ctx->in[0], *t = ctx->in[i];
    char a[128], b[128];
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "input %d is missing", i);
    if (t->dtype != x->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input %d has type %s, input 0 has %s", i,
                         onnorm_dtype_name(t->dtype), onnorm_dtype_name(x->dtype));
    bool ok = t->rank == x->rank;
    for (int k = 0; ok && k < x->rank; k++)
        ok = k == axis || t->dims[k] == x->dims[k];
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input %d of shape %s does not fit input 0 of shape %s on axis %d", i,
                         onn_shape_str(t->dims, t->rank, a, sizeof a),
                         onn_shape_str(x->dims, x->rank, b, sizeof b), axis);
    return ONNORM_OK;
}

static onnorm_status concat_config(onn_kctx *ctx)
{
    cs_cfg *c = ctx->state;
    onnorm_status st = concat_axis(ctx, &c->axis);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "unsupported type %s", onnorm_dtype_name(x->dtype));
    for (int i = 0; i < ctx->n_in; i++) {
        if ((st = check_concat_input(ctx, i, c->axis))) return st;
        if (ctx->in[i]->dims[c->axis] > INT64_MAX - c->total)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the concatenated axis overflows");
        c->total += ctx->in[i]->dims[c->axis];
    }
    return ONNORM_OK;
}

static onnorm_status concat_infer(onn_kctx *ctx)
{
    set_output_along(ctx, 0, ((const cs_cfg *)ctx->state)->total);
    return ONNORM_OK;
}

static onnorm_status concat_prepare(onn_kctx *ctx)
{
    set_view(ctx->state, ctx->in[0]);
    return ONNORM_OK;
}

typedef struct concat_job {
    const cs_cfg *c;
    const onn_kctx *ctx;
} concat_job;

static void concat_rows(void *arg, int64_t o0, int64_t o1, int worker)
{
    (void)worker;
    const cs_cfg *c = ((const concat_job *)arg)->c;
    const onn_kctx *ctx = ((const concat_job *)arg)->ctx;
    for (int64_t o = o0; o < o1; o++) {
        char *dst = (char *)ctx->out[0]->data + (size_t)o * c->row;
        for (int i = 0; i < ctx->n_in; i++) {
            const onnorm_tensor *t = ctx->in[i];
            const size_t block = (size_t)t->dims[c->axis] * c->inner;
            memcpy(dst, (const char *)t->data + (size_t)o * block, block);
            dst += block;
        }
    }
}

static onnorm_status concat_run(onn_kctx *ctx)
{
    const cs_cfg *c = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    concat_job j = {c, ctx};
    onn_parallel_range(onn_threads_for(ctx, c->work, c->outer), c->outer, concat_rows, &j);
    return ONNORM_OK;
}

/* ---- Split --------------------------------------------------------------- */

static int64_t src_size(const split_src *s, int k, int n)
{
    return s->i64 ? s->i64[k] : s->i32 ? s->i32[k] : k == n - 1 ? s->last : s->chunk;
}

/* Sizes from the 'split' input: one per output, known at planning. */
static onnorm_status split_from_input(onn_kctx *ctx, split_src *src)
{
    const onnorm_tensor *t = ctx->in[1];
    if (t->dtype != ONNORM_INT64 && t->dtype != ONNORM_INT32)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'split' has type %s, expected int64",
                         onnorm_dtype_name(t->dtype));
    if (t->rank != 1 || t->dims[0] != ctx->n_out)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'split' must hold one size per output (%d)",
                         ctx->n_out);
    const void *v = onn_input_values(ctx, 1, "split");
    if (!v) return ONNORM_ERR_UNSUPPORTED;
    if (t->dtype == ONNORM_INT64)
        src->i64 = v;
    else
        src->i32 = v;
    return ONNORM_OK;
}

/* Sizes from the 'split' attribute, read in place rather than copied by
 * onn_kattr_ints: its length is the node's output count, which no fixed
 * buffer bounds, and an empty list is a wrong count here, not "absent". */
static onnorm_status split_from_attr(onn_kctx *ctx, split_src *src)
{
    const onn_attr *a = onn_attr_find(ctx->node, "split");
    if (a->type != ONN_ATTR_INTS)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'split' must be a list of ints");
    if (a->n != (size_t)ctx->n_out)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'split' has %zu sizes for %d outputs",
                         a->n, ctx->n_out);
    src->i64 = a->ints;
    return ONNORM_OK;
}

/* Split-18's num_outputs: chunks of ceil(dim / n), the last one smaller. */
static onnorm_status split_by_count(onn_kctx *ctx, int64_t dim, split_src *src)
{
    int64_t n;
    onnorm_status st = onn_kattr_int(ctx, "num_outputs", 0, &n);
    if (st) return st;
    if (n != ctx->n_out)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "num_outputs is %lld but the node has %d outputs",
                         (long long)n, ctx->n_out);
    src->chunk = dim / n + (dim % n != 0);
    src->last = dim - src->chunk * (n - 1);
    if (src->last < 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "an axis of size %lld cannot be split into %lld chunks of %lld",
                         (long long)dim, (long long)n, (long long)src->chunk);
    return ONNORM_OK;
}

static onnorm_status split_equal(onn_kctx *ctx, int64_t dim, split_src *src)
{
    if (dim % ctx->n_out != 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "an axis of size %lld does not split into %d equal parts", (long long)dim,
                         ctx->n_out);
    src->chunk = src->last = dim / ctx->n_out;
    return ONNORM_OK;
}

/* Where the sizes come from depends on the opset (see the file comment). */
static onnorm_status split_choose(onn_kctx *ctx, int64_t dim, split_src *src)
{
    const int ver = onn_kversion(ctx);
    if (onn_has_input(ctx, 1) && (ver == 1 || ver >= 13)) return split_from_input(ctx, src);
    if (ver < 13 && onn_kattr_has(ctx, "split")) return split_from_attr(ctx, src);
    if (ver >= 18 && onn_kattr_has(ctx, "num_outputs")) return split_by_count(ctx, dim, src);
    return split_equal(ctx, dim, src);
}

/* The axis and the source of every output's size, validated. */
static onnorm_status split_config(onn_kctx *ctx)
{
    cs_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'input' is missing");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "unsupported type %s", onnorm_dtype_name(x->dtype));
    if (onn_kversion(ctx) >= 18 && onn_has_input(ctx, 1) && onn_kattr_has(ctx, "num_outputs"))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "give either the 'split' input or num_outputs, not both");
    onnorm_status st = read_axis(ctx, 0, false, x->rank, &c->axis);
    if (st) return st;
    const int64_t dim = c->total = x->dims[c->axis];
    if ((st = split_choose(ctx, dim, &c->src))) return st;
    int64_t sum = 0;
    for (int k = 0; k < ctx->n_out; k++) {
        const int64_t s = src_size(&c->src, k, ctx->n_out);
        if (s < 0 || s > dim - sum)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "split sizes must be >= 0 and add up to the axis size %lld",
                             (long long)dim);
        sum += s;
    }
    if (sum != dim)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "split sizes add up to %lld, the axis has size %lld", (long long)sum,
                         (long long)dim);
    return ONNORM_OK;
}

static onnorm_status split_infer(onn_kctx *ctx)
{
    const cs_cfg *c = ctx->state;
    for (int k = 0; k < ctx->n_out; k++)
        set_output_along(ctx, k, src_size(&c->src, k, ctx->n_out));
    return ONNORM_OK;
}

/* The sizes are copied out of the source: an omitted output still moves
 * the offset of the ones after it. */
static onnorm_status split_prepare(onn_kctx *ctx)
{
    cs_cfg *c = ctx->state;
    set_view(c, ctx->in[0]);
    if (!(c->sizes = onn_kalloc(ctx, (size_t)ctx->n_out * sizeof *c->sizes)))
        return ONNORM_ERR_NOMEM;
    for (int k = 0; k < ctx->n_out; k++)
        c->sizes[k] = src_size(&c->src, k, ctx->n_out);
    return ONNORM_OK;
}

typedef struct split_job {
    char *dst;
    const char *src;
    size_t block, row;
} split_job;

static void split_rows(void *arg, int64_t o0, int64_t o1, int worker)
{
    (void)worker;
    const split_job *j = arg;
    for (int64_t o = o0; o < o1; o++)
        memcpy(j->dst + (size_t)o * j->block, j->src + (size_t)o * j->row, j->block);
}

static onnorm_status split_run(onn_kctx *ctx)
{
    const cs_cfg *c = ctx->state;
    const int nt = onn_threads_for(ctx, c->work, c->outer);
    const char *src = ctx->in[0]->data;
    for (int k = 0; k < ctx->n_out; k++) {
        const size_t block = (size_t)c->sizes[k] * c->inner;
        if (ctx->out[k]) {
            char *dst = ctx->out[k]->data;
            split_job j = {dst, src, block, (size_t)c->row};
            onn_parallel_range(nt, c->outer, split_rows, &j);
        }
        src += block;
    }
    return ONNORM_OK;
}

#define CS_KERNEL(op, ver, in_lo, in_hi, out_hi, name)                                             \
    {                                                                                              \
        ONN_KERNEL("", op, ver, in_lo, in_hi, 1, out_hi, name##_infer, name##_prepare,             \
                   name##_run),                                                                    \
            .config = name##_config, .state_size = sizeof(cs_cfg)                                  \
    }

ONN_KERNEL_TABLE(concat_split, CS_KERNEL("Concat", 1, 1, INT_MAX, 1, concat),
                 CS_KERNEL("Concat", 4, 1, INT_MAX, 1, concat),
                 CS_KERNEL("Split", 1, 1, 2, INT_MAX, split),
                 CS_KERNEL("Split", 2, 1, 1, INT_MAX, split),
                 CS_KERNEL("Split", 13, 1, 2, INT_MAX, split),
                 CS_KERNEL("Split", 18, 1, 2, INT_MAX, split));
