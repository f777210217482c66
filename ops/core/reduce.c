/*
 * ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceSumSquare; float32 and
 * float64.
 *
 * Where the axes come from changed per op:
 *   ReduceSum                              axes attribute < 13, input >= 13
 *   ReduceMean, Max, Min, SumSquare        axes attribute < 18, input >= 18
 * Both forms take negative axes and keepdims (default 1). Without axes every
 * dim is reduced, except that the input forms' noop_with_empty_axes = 1
 * makes the op an identity. The axes input decides the output shape, so
 * infer reads it with onn_input_values() (a fed axes input makes the session
 * plan with the caller's data). A listed axis may appear only once.
 *
 * Sums accumulate in double. An empty reduction gives the identity of the
 * op: 0 for sums, NaN for the mean (0 / 0), -inf for Max, +inf for Min.
 * Max and Min propagate NaN.
 *
 * Layout: size-1 dims are dropped and neighbouring dims that are both kept
 * or both reduced are merged, giving alternating groups. When the last
 * group is reduced, each output is a sum of contiguous runs. When it is
 * kept, outputs come in contiguous rows that accumulate whole input rows at
 * once, in blocks of ONN_REDUCE_BLOCK columns, so memory is read in order
 * either way. Config resolves the axes (the input form's axes are known
 * by prepare: infer needed them), prepare lays out the groups, and run only
 * walks them.
 */
#include "ops/core/broadcast.h"

#include <math.h>
#include <string.h>

#define ONN_REDUCE_BLOCK 256

typedef enum rd_kind { RD_SUM, RD_MEAN, RD_MAX, RD_MIN, RD_SUMSQ } rd_kind;

/* Each reduction: op, kind, opset from which axes is an input. */
#define RD_OPS(X)                                                                                  \
    X("ReduceSum", RD_SUM, 13)                                                                     \
    X("ReduceMean", RD_MEAN, 18)                                                                   \
    X("ReduceMax", RD_MAX, 18)                                                                     \
    X("ReduceMin", RD_MIN, 18)                                                                     \
    X("ReduceSumSquare", RD_SUMSQ, 18)

/* A table entry's data. */
typedef struct rd_desc {
    const char *name;
    rd_kind kind;
    int axes_input_since;
} rd_desc;

#define RD_DESC(op, k, since) [k] = {op, k, since},
static const rd_desc descs[] = {RD_OPS(RD_DESC)};

/* The reduction, resolved against the input shape. */
typedef struct rd_cfg {
    const rd_desc *d;
    bool noop;                     /* identity (noop_with_empty_axes) */
    bool reduced[ONNORM_MAX_RANK]; /* per input dim */
    bool keepdims;
} rd_cfg;

/* Kept groups (outer to inner, without the innermost group) give an output
 * row's input offset; reduced groups (also without the innermost) are walked
 * for each row; the innermost group is contiguous. */
typedef struct rd_plan {
    int nk, nr;
    int64_t ksize[ONNORM_MAX_RANK], kstride[ONNORM_MAX_RANK];
    int64_t rsize[ONNORM_MAX_RANK], rstride[ONNORM_MAX_RANK];
    int64_t inner; /* innermost group's size */
    bool inner_reduced;
    int64_t rows;      /* prod(ksize) */
    int64_t positions; /* prod(rsize) */
    int64_t count;     /* elements reduced into each output */
} rd_plan;

typedef struct rd_state {
    rd_cfg cfg;
    rd_plan plan;
    const struct rd_row *row; /* for the input's type */
} rd_state;

/* The axes list, from the attribute or input 1; *n = -1 when none given.
 * The attribute is read in place: a list of any length is checked axis by
 * axis, as the input form is. */
static onnorm_status axes_list(onn_kctx *ctx, const rd_desc *d, const int64_t **axes, int64_t *n)
{
    const onn_attr *a = onn_attr_find(ctx->node, "axes");
    *axes = NULL;
    *n = -1;
    if (onn_kversion(ctx) < d->axes_input_since) {
        if (!a) return ONNORM_OK;
        if (a->type != ONN_ATTR_INTS)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'axes' must be a list of ints");
        *axes = a->ints;
        *n = (int64_t)a->n;
        return ONNORM_OK;
    }
    if (a)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s-%d takes axes as an input, not an attribute",
                         d->name, onn_kversion(ctx));
    if (!onn_has_input(ctx, 1)) return ONNORM_OK;
    const onnorm_tensor *t = ctx->in[1];
    if (t->dtype != ONNORM_INT64 || t->rank > 1)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input 'axes' must be a 1-D int64 tensor, got %s of "
                         "rank %d",
                         onnorm_dtype_name(t->dtype), t->rank);
    if (!(*axes = onn_input_values(ctx, 1, "axes")))
        return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    *n = onnorm_tensor_numel(t);
    return ONNORM_OK;
}

static onnorm_status rd_config(onn_kctx *ctx)
{
    rd_cfg *cfg = &((rd_state *)ctx->state)->cfg;
    const onnorm_tensor *x = ctx->in[0];
    int64_t keepdims, noop_empty = 0, n;
    const int64_t *axes;
    onnorm_status st;
    cfg->d = ctx->kernel->data;
    const bool input_form = onn_kversion(ctx) >= cfg->d->axes_input_since;
    if ((st = onn_kattr_int(ctx, "keepdims", 1, &keepdims)) ||
        (input_form && (st = onn_kattr_int(ctx, "noop_with_empty_axes", 0, &noop_empty))) ||
        (st = axes_list(ctx, cfg->d, &axes, &n)))
        return st;
    cfg->keepdims = keepdims != 0;
    if (n <= 0) { /* no axes: everything, or nothing with noop_with_empty_axes */
        cfg->noop = noop_empty != 0;
        for (int i = 0; i < x->rank; i++)
            cfg->reduced[i] = !cfg->noop;
        return ONNORM_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        int a;
        if (!onn_normalize_axis(axes[i], x->rank, &a))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                             (long long)axes[i], x->rank);
        if (cfg->reduced[a])
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is listed twice",
                             (long long)axes[i]);
        cfg->reduced[a] = true;
    }
    return ONNORM_OK;
}

static onnorm_status rd_infer(onn_kctx *ctx)
{
    const rd_cfg *cfg = &((const rd_state *)ctx->state)->cfg;
    onnorm_status st = onn_check_float_input(ctx, 0, "data");
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if (!cfg->reduced[i])
            dims[r++] = x->dims[i];
        else if (cfg->keepdims)
            dims[r++] = 1;
    }
    onn_set_output(ctx, 0, x->dtype, r, dims);
    return ONNORM_OK;
}

/* ---- layout ----------------------------------------------------------------- */

static void make_plan(const onnorm_tensor *x, const rd_cfg *cfg, rd_plan *p)
{
    int64_t size[ONNORM_MAX_RANK];
    bool red[ONNORM_MAX_RANK];
    int g = 0;
    for (int i = 0; i < x->rank; i++) {
        if (x->dims[i] == 1) continue;
        if (g > 0 && red[g - 1] == cfg->reduced[i]) {
            size[g - 1] *= x->dims[i];
        } else {
            size[g] = x->dims[i];
            red[g++] = cfg->reduced[i];
        }
    }
    if (g == 0) size[g] = 1, red[g++] = false; /* one element */
    memset(p, 0, sizeof *p);
    p->inner = size[g - 1];
    p->inner_reduced = red[g - 1];
    p->rows = p->positions = 1;
    p->count = p->inner_reduced ? p->inner : 1;
    int64_t stride = p->inner;
    for (int i = g - 2; i >= 0; i--) { /* inner to outer; stored outer first below */
        if (red[i]) {
            p->rsize[p->nr] = size[i], p->rstride[p->nr++] = stride;
            p->positions *= size[i];
            p->count *= size[i];
        } else {
            p->ksize[p->nk] = size[i], p->kstride[p->nk++] = stride;
            p->rows *= size[i];
        }
        stride *= size[i];
    }
}

/* Input offset of output row r (groups are stored innermost first). */
static int64_t row_offset(const rd_plan *p, int64_t r)
{
    int64_t off = 0;
    for (int i = 0; i < p->nk; i++) {
        off += (r % p->ksize[i]) * p->kstride[i];
        r /= p->ksize[i];
    }
    return off;
}

/* Steps the reduced-group odometer idx and returns the offset change. */
static int64_t next_position(const rd_plan *p, int64_t *idx)
{
    int64_t delta = 0;
    for (int i = 0; i < p->nr; i++) {
        delta += p->rstride[i];
        if (++idx[i] < p->rsize[i]) return delta;
        delta -= p->rsize[i] * p->rstride[i];
        idx[i] = 0;
    }
    return delta;
}

/* ---- typed loops ------------------------------------------------------------ */

#define ACC_SUM(acc, v) ((acc) += (v))
#define ACC_SUMSQ(acc, v) ((acc) += (v) * (v))
#define ACC_MAX(acc, v) ((acc) = ((v) > (acc) || isnan(v)) ? (v) : (acc))
#define ACC_MIN(acc, v) ((acc) = ((v) < (acc) || isnan(v)) ? (v) : (acc))

/* Output r when the innermost group is reduced: runs of `inner` elements.
 * LOOP_SIMD is the loop's vectorization pragma: sums may be split into partial
 * sums, Max and Min keep one ordered pass for their NaN rule. */
#define RD_INNER(name, T, ACC, LOOP_SIMD)                                                          \
    static double name(const void *px, const rd_plan *p, int64_t r, double init)                   \
    {                                                                                              \
        const T *x = (const T *)px + row_offset(p, r);                                             \
        int64_t idx[ONNORM_MAX_RANK] = {0};                                                        \
        double acc = init;                                                                         \
        for (int64_t q = 0; q < p->positions; q++) {                                               \
            LOOP_SIMD                                                                              \
            for (int64_t j = 0; j < p->inner; j++) {                                               \
                const double v = x[j];                                                             \
                ACC(acc, v);                                                                       \
            }                                                                                      \
            x += next_position(p, idx);                                                            \
        }                                                                                          \
        return acc;                                                                                \
    }

/* Columns [c0, c0 + cn) of output row r when the innermost group is kept. */
#define RD_ROWS(name, T, ACC)                                                                      \
    static void name(const void *px, const rd_plan *p, int64_t r, int64_t c0, int64_t cn,          \
                     double init, double *acc)                                                     \
    {                                                                                              \
        const T *x = (const T *)px + row_offset(p, r) + c0;                                        \
        int64_t idx[ONNORM_MAX_RANK] = {0};                                                        \
        for (int64_t j = 0; j < cn; j++)                                                           \
            acc[j] = init;                                                                         \
        for (int64_t q = 0; q < p->positions; q++) {                                               \
            ONN_SIMD                                                                               \
            for (int64_t j = 0; j < cn; j++) {                                                     \
                const double v = x[j];                                                             \
                ACC(acc[j], v);                                                                    \
            }                                                                                      \
            x += next_position(p, idx);                                                            \
        }                                                                                          \
    }

typedef double (*rd_inner_fn)(const void *, const rd_plan *, int64_t, double);
typedef void (*rd_rows_fn)(const void *, const rd_plan *, int64_t, int64_t, int64_t, double,
                           double *);

#define SIMD_SUM _Pragma("omp simd reduction(+ : acc)")
#define SIMD_NONE

#define RD_LOOPS(sfx, T, code, sgn)                                                                \
    RD_INNER(inner_sum_##sfx, T, ACC_SUM, SIMD_SUM)                                                \
    RD_INNER(inner_sumsq_##sfx, T, ACC_SUMSQ, SIMD_SUM)                                            \
    RD_INNER(inner_max_##sfx, T, ACC_MAX, SIMD_NONE)                                               \
    RD_INNER(inner_min_##sfx, T, ACC_MIN, SIMD_NONE)                                               \
    RD_ROWS(rows_sum_##sfx, T, ACC_SUM)                                                            \
    RD_ROWS(rows_sumsq_##sfx, T, ACC_SUMSQ)                                                        \
    RD_ROWS(rows_max_##sfx, T, ACC_MAX)                                                            \
    RD_ROWS(rows_min_##sfx, T, ACC_MIN)                                                            \
    static void store_##sfx(void *py, int64_t i, double v)                                         \
    {                                                                                              \
        ((T *)py)[i] = (T)v;                                                                       \
    }
ONN_FLOAT_TYPES(RD_LOOPS)

typedef struct rd_row {
    onnorm_dtype dtype;
    rd_inner_fn inner[5]; /* by rd_kind */
    rd_rows_fn rows[5];
    void (*store)(void *y, int64_t i, double v);
} rd_row;

#define RD_ROW(sfx, T, code, sgn)                                                                  \
    {code,                                                                                         \
     {inner_sum_##sfx, inner_sum_##sfx, inner_max_##sfx, inner_min_##sfx, inner_sumsq_##sfx},      \
     {rows_sum_##sfx, rows_sum_##sfx, rows_max_##sfx, rows_min_##sfx, rows_sumsq_##sfx},           \
     store_##sfx},
static const rd_row rd_rows[] = {ONN_FLOAT_TYPES(RD_ROW)};

static double identity_of(rd_kind k)
{
    return k == RD_MAX ? -INFINITY : k == RD_MIN ? INFINITY : 0.0;
}

/* ---- prepare and run ---------------------------------------------------------- */

static onnorm_status rd_prepare(onn_kctx *ctx)
{
    rd_state *s = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    make_plan(x, &s->cfg, &s->plan);
    s->row = &rd_rows[x->dtype == ONNORM_FLOAT ? 0 : 1];
    return ONNORM_OK;
}

static onnorm_status rd_run(onn_kctx *ctx)
{
    const rd_state *s = ctx->state;
    const rd_plan *p = &s->plan;
    const rd_row *row = s->row;
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    const int64_t n_out = onnorm_tensor_numel(y);
    if (s->cfg.noop) {
        memcpy(y->data, x->data, (size_t)n_out * onnorm_dtype_size(x->dtype));
        return ONNORM_OK;
    }
    const rd_kind k = s->cfg.d->kind;
    const double init = identity_of(k);
    if (n_out == 0) return ONNORM_OK;
    /* With an empty reduced dim no input is read: every output is init. */
    const bool empty = onnorm_tensor_numel(x) == 0;
    const double scale = k == RD_MEAN ? 1.0 / (double)p->count : 1.0;
    const int64_t work = onnorm_tensor_numel(x) > n_out ? onnorm_tensor_numel(x) : n_out;
    if (p->inner_reduced || empty) {
        rd_inner_fn fn = row->inner[k];
        const int nt = onn_threads_for(ctx, work, n_out);
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t r = 0; r < n_out; r++) {
            double v = empty ? init : fn(x->data, p, r, init);
            row->store(y->data, r, k == RD_MEAN ? (empty ? NAN : v * scale) : v);
        }
        return ONNORM_OK;
    }
    rd_rows_fn fn = row->rows[k];
    const int64_t blocks = (p->inner + ONN_REDUCE_BLOCK - 1) / ONN_REDUCE_BLOCK,
                  tasks = p->rows * blocks;
    const int nt = onn_threads_for(ctx, work, tasks);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        double acc[ONN_REDUCE_BLOCK];
        const int64_t r = t / blocks, c0 = (t % blocks) * ONN_REDUCE_BLOCK;
        const int64_t cn = p->inner - c0 < ONN_REDUCE_BLOCK ? p->inner - c0 : ONN_REDUCE_BLOCK;
        fn(x->data, p, r, c0, cn, init, acc);
        for (int64_t j = 0; j < cn; j++)
            row->store(y->data, r * p->inner + c0 + j, acc[j] * scale);
    }
    return ONNORM_OK;
}

#define RD_KERNEL(op, ver, in_hi, k)                                                               \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 1, in_hi, 1, 1, rd_infer, rd_prepare, rd_run),                     \
            .config = rd_config, .state_size = sizeof(rd_state), .data = &descs[k]                 \
    }
/* Each reduction: axes as an attribute (1), then as an input. */
#define RD_ENTRIES(op, k, since) RD_KERNEL(op, 1, 1, k), RD_KERNEL(op, since, 2, k),

ONN_KERNEL_TABLE(reduce, RD_OPS(RD_ENTRIES));
