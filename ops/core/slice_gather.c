/*
 * Slice (1: starts/ends/axes attributes; 10: starts/ends/axes/steps inputs,
 * int32 or int64) and Gather (1; any axis, int32/int64 indices).
 *
 * Slice follows the opset-13 text for every opset: negative starts/ends
 * count from the back, then starts clamp to [0, dim] ([0, dim-1] when
 * stepping backwards) and ends to [0, dim] ([-1, dim-1] backwards), so
 * INT64_MAX / INT64_MIN mean "to the end". Its parameters fix the output
 * shape and must be known while planning: config reads them (attributes or
 * input values) into the state, from which prepare lays out the copy.
 *
 * Gather accepts negative indices at every opset (opset 11 wrote down what
 * runtimes already did); an index outside [-s, s-1] fails the run.
 *
 * Both copy element bytes, so every element type is handled alike.
 */
#include "ops/core/threadpool.h"
#include "ops/kernel.h"

#include <string.h>

static onnorm_status check_data(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'data' is missing");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'data' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    return ONNORM_OK;
}

/* ---- Slice --------------------------------------------------------------- */

/* What is copied: per axis the first index, step and count (config), and
 * the input's strides; the rows of the innermost axis, their length and
 * element size (prepare). */
typedef struct sl_cfg {
    int rank;
    int64_t start[ONNORM_MAX_RANK], step[ONNORM_MAX_RANK], count[ONNORM_MAX_RANK],
        stride[ONNORM_MAX_RANK];
    int64_t rows, inner;
    size_t esz;
} sl_cfg;

/* The parameter lists; *n = -1 for an absent optional one. */
typedef struct sl_args {
    int64_t starts[ONNORM_MAX_RANK], ends[ONNORM_MAX_RANK], axes[ONNORM_MAX_RANK],
        steps[ONNORM_MAX_RANK];
    int n_starts, n_ends, n_axes, n_steps;
} sl_args;

static onnorm_status read_slice_args(onn_kctx *ctx, sl_args *a)
{
    onnorm_status st;
    a->n_steps = -1;
    if (onn_kversion(ctx) < 10) {
        if ((st = onn_kattr_ints_upto(ctx, "starts", ONNORM_MAX_RANK, a->starts, &a->n_starts)) ||
            (st = onn_kattr_ints_upto(ctx, "ends", ONNORM_MAX_RANK, a->ends, &a->n_ends)) ||
            (st = onn_kattr_ints_upto(ctx, "axes", ONNORM_MAX_RANK, a->axes, &a->n_axes)))
            return st;
    } else if ((st = onn_input_ints(ctx, 1, "starts", ONN_INTS_OPTIONAL, ONNORM_MAX_RANK, a->starts,
                                    &a->n_starts)) ||
               (st = onn_input_ints(ctx, 2, "ends", ONN_INTS_OPTIONAL, ONNORM_MAX_RANK, a->ends,
                                    &a->n_ends)) ||
               (st = onn_input_ints(ctx, 3, "axes", ONN_INTS_OPTIONAL, ONNORM_MAX_RANK, a->axes,
                                    &a->n_axes)) ||
               (st = onn_input_ints(ctx, 4, "steps", ONN_INTS_OPTIONAL, ONNORM_MAX_RANK, a->steps,
                                    &a->n_steps))) {
        return st;
    }
    if (a->n_starts < 0 || a->n_ends < 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "'starts' and 'ends' are required");
    int n = a->n_starts;
    if (a->n_ends != n || (a->n_axes >= 0 && a->n_axes != n) ||
        (a->n_steps >= 0 && a->n_steps != n))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "starts, ends, axes and steps must have the same length");
    for (int k = 0; a->n_axes < 0 && k < n; k++)
        a->axes[k] = k;
    for (int k = 0; a->n_steps < 0 && k < n; k++)
        a->steps[k] = 1;
    return ONNORM_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* First index and element count of one axis (see the file comment). */
static void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first,
                       int64_t *count)
{
    if (start < 0) start += dim; /* cannot overflow: dim >= 0 */
    if (end < 0) end += dim;
    *first = 0;
    *count = 0;
    if (dim == 0) return;
    if (step > 0) {
        start = clamp64(start, 0, dim);
        end = clamp64(end, 0, dim);
        if (end > start) *count = 1 + (int64_t)((uint64_t)(end - start - 1) / (uint64_t)step);
    } else {
        start = clamp64(start, 0, dim - 1);
        end = clamp64(end, -1, dim - 1);
        uint64_t back = (uint64_t)0 - (uint64_t)step; /* |step|, even for INT64_MIN */
        if (start > end) *count = 1 + (int64_t)((uint64_t)(start - end - 1) / back);
    }
    *first = start;
}

static onnorm_status slice_config(onn_kctx *ctx)
{
    sl_cfg *p = ctx->state;
    sl_args a;
    onnorm_status st;
    if ((st = check_data(ctx)) || (st = read_slice_args(ctx, &a))) return st;
    const onnorm_tensor *x = ctx->in[0];
    bool seen[ONNORM_MAX_RANK] = {false};
    for (int k = 0; k < x->rank; k++)
        p->start[k] = 0, p->step[k] = 1, p->count[k] = x->dims[k];
    for (int i = 0; i < a.n_starts; i++) {
        int ax;
        if (!onn_normalize_axis(a.axes[i], x->rank, &ax))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                             (long long)a.axes[i], x->rank);
        if (seen[ax]) return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %d is listed twice", ax);
        if (a.steps[i] == 0) return onn_kfail(ctx, ONNORM_ERR_INVALID, "steps[%d] is 0", i);
        seen[ax] = true;
        p->step[ax] = a.steps[i];
        slice_axis(x->dims[ax], a.starts[i], a.ends[i], a.steps[i], &p->start[ax], &p->count[ax]);
    }
    return ONNORM_OK;
}

static onnorm_status slice_infer(onn_kctx *ctx)
{
    const sl_cfg *p = ctx->state;
    onn_set_output(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->rank, p->count);
    return ONNORM_OK;
}

/* The parameters come from attributes or from inputs that had their values
 * while planning, so the copy is fixed here. */
static onnorm_status slice_prepare(onn_kctx *ctx)
{
    sl_cfg *p = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    p->rank = x->rank;
    int64_t s = 1;
    for (int k = x->rank - 1; k >= 0; k--)
        p->stride[k] = s, s *= x->dims[k];
    if (p->rank == 0) { /* a scalar is copied as a one-element vector */
        p->rank = 1;
        p->start[0] = 0, p->step[0] = 1, p->count[0] = 1, p->stride[0] = 1;
    }
    /* Trailing axes taken whole (ShuffleNet's channel split keeps H and W)
     * join the last one taken in part, so each row copied is one long run. */
    while (p->rank > 1 && p->start[p->rank - 1] == 0 && p->step[p->rank - 1] == 1 &&
           p->count[p->rank - 1] == x->dims[p->rank - 1] && p->step[p->rank - 2] == 1) {
        const int k = p->rank - 2;
        p->start[k] *= p->count[k + 1];
        p->count[k] *= p->count[k + 1];
        p->stride[k] = p->stride[k + 1];
        p->rank--;
    }
    p->inner = p->count[p->rank - 1];
    p->rows = p->inner ? onn_dims_numel(p->count, 0, p->rank - 1) : 0;
    p->esz = onnorm_dtype_size(x->dtype);
    return ONNORM_OK;
}

/* The arguments of slice_run's and gather_run's copy loops. */
typedef struct sg_job {
    const void *cfg; /* the node's sl_cfg or ga_cfg */
    const onnorm_tensor *idx;
    const char *src;
    char *dst;
} sg_job;

static void slice_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const sg_job *j = arg;
    const sl_cfg *p = j->cfg;
    const size_t esz = p->esz;
    const int r = p->rank;
    const int64_t inner = p->inner;
    for (int64_t row = r0; row < r1; row++) {
        int64_t rem = row, off = p->start[r - 1];
        for (int k = r - 2; k >= 0; k--) {
            off += (p->start[k] + rem % p->count[k] * p->step[k]) * p->stride[k];
            rem /= p->count[k];
        }
        onn_copy_strided(j->dst + (size_t)(row * inner) * esz, j->src + (size_t)off * esz, inner,
                         p->step[r - 1], esz);
    }
}

static onnorm_status slice_run(onn_kctx *ctx)
{
    const sl_cfg *p = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    const int64_t rows = p->rows;
    const int nt = onn_threads_for(ctx, rows * p->inner, rows);
    sg_job j = {p, NULL, ctx->in[0]->data, ctx->out[0]->data};
    onn_parallel_range(nt, rows, slice_rows, &j);
    return ONNORM_OK;
}

/* ---- Gather -------------------------------------------------------------- */

static int64_t index_at(const onnorm_tensor *t, int64_t i)
{
    return t->dtype == ONNORM_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

/* Data viewed as [outer, s, block bytes]: output block t is input block
 * (t / n, indices[t % n]) for the n indices. config reads the axis, prepare
 * the rest. */
typedef struct ga_cfg {
    int axis;
    int64_t s, n, tasks, work;
    size_t block;
} ga_cfg;

static onnorm_status gather_axis(onn_kctx *ctx, int *axis)
{
    const onnorm_tensor *x = ctx->in[0];
    int64_t v;
    onnorm_status st = onn_kattr_int(ctx, "axis", 0, &v);
    if (st) return st;
    if (x->rank < 1) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'data' must have rank >= 1");
    if (!onn_normalize_axis(v, x->rank, axis))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                         (long long)v, x->rank);
    return ONNORM_OK;
}

static onnorm_status gather_config(onn_kctx *ctx)
{
    ga_cfg *c = ctx->state;
    onnorm_status st = check_data(ctx);
    if (st || (st = gather_axis(ctx, &c->axis))) return st;
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    if (!idx) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'indices' is missing");
    if (idx->dtype != ONNORM_INT64 && idx->dtype != ONNORM_INT32)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input 'indices' has type %s, expected int32 or int64",
                         onnorm_dtype_name(idx->dtype));
    int r = x->rank - 1 + idx->rank;
    if (r > ONNORM_MAX_RANK)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "output rank %d exceeds the supported maximum %d", r, ONNORM_MAX_RANK);
    return ONNORM_OK;
}

static onnorm_status gather_infer(onn_kctx *ctx)
{
    const int axis = ((const ga_cfg *)ctx->state)->axis;
    const onnorm_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int64_t dims[ONNORM_MAX_RANK];
    int k = 0;
    for (int i = 0; i < axis; i++)
        dims[k++] = x->dims[i];
    for (int i = 0; i < idx->rank; i++)
        dims[k++] = idx->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        dims[k++] = x->dims[i];
    onn_set_output(ctx, 0, x->dtype, k, dims);
    return ONNORM_OK;
}

/* Every index must lie in [-s, s-1]; checked before any copying starts. */
static onnorm_status check_indices(onn_kctx *ctx, int64_t s)
{
    const onnorm_tensor *idx = ctx->in[1];
    int64_t n = onnorm_tensor_numel(idx);
    for (int64_t j = 0; j < n; j++) {
        int64_t v = index_at(idx, j);
        if (v < -s || v >= s)
            return onn_kfail(
                ctx, ONNORM_ERR_INVALID,
                "index %lld (at position %lld) is out of range for an axis of size %lld",
                (long long)v, (long long)j, (long long)s);
    }
    return ONNORM_OK;
}

/* The layout needs the output's element count to fit, which planning has
 * checked by now. */
static onnorm_status gather_prepare(onn_kctx *ctx)
{
    ga_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const int axis = c->axis;
    c->s = x->dims[axis];
    c->n = onnorm_tensor_numel(ctx->in[1]);
    c->tasks = onn_dims_numel(x->dims, 0, axis) * c->n;
    c->block = (size_t)onn_dims_numel(x->dims, axis + 1, x->rank) * onnorm_dtype_size(x->dtype);
    c->work = ctx->out[0] ? onnorm_tensor_numel(ctx->out[0]) : 0;
    return ONNORM_OK;
}

static void gather_blocks(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const sg_job *j = arg;
    const ga_cfg *c = j->cfg;
    const int64_t s = c->s, n = c->n;
    const size_t block = c->block;
    for (int64_t t = t0; t < t1; t++) {
        int64_t o = t / n, v = index_at(j->idx, t % n);
        if (v < 0) v += s;
        memcpy(j->dst + (size_t)t * block, j->src + (size_t)(o * s + v) * block, block);
    }
}

static onnorm_status gather_run(onn_kctx *ctx)
{
    const ga_cfg *c = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    onnorm_status st = check_indices(ctx, c->s);
    if (st) return st;
    const int nt = onn_threads_for(ctx, c->work, c->tasks);
    sg_job j = {c, ctx->in[1], ctx->in[0]->data, ctx->out[0]->data};
    onn_parallel_range(nt, c->tasks, gather_blocks, &j);
    return ONNORM_OK;
}

#define SLICE_GATHER_KERNEL(op, ver, in_lo, in_hi, name, cfg)                                      \
    {                                                                                              \
        ONN_KERNEL("", op, ver, in_lo, in_hi, 1, 1, name##_infer, name##_prepare, name##_run),     \
            .config = name##_config, .state_size = sizeof(cfg)                                     \
    }

ONN_KERNEL_TABLE(slice_gather, SLICE_GATHER_KERNEL("Slice", 1, 1, 1, slice, sl_cfg),
                 SLICE_GATHER_KERNEL("Slice", 10, 3, 5, slice, sl_cfg),
                 SLICE_GATHER_KERNEL("Gather", 1, 2, 2, gather, ga_cfg));
