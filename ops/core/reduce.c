/*
 * The reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin,
 * ReduceSumSquare, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum and
 * ReduceLogSumExp.
 *
 * Versions and where the axes come from:
 *   ReduceSum                  1, 11, 13 (axes an input from 13)
 *   ReduceMax, ReduceMin       1, 11, 12, 13, 18, 20 (axes an input from 18)
 *   every other one            1, 11, 13, 18 (axes an input from 18)
 * 11 allows negative axes (accepted in 1 as well), 12 adds int8/uint8 to
 * Max and Min, 13 adds bfloat16, 20 adds bool to Max and Min; those
 * versions only widen the one before. Types: float32, float64, float16,
 * bfloat16 (13 on), int32, int64, uint32, uint64, and for Max/Min also int8,
 * uint8 (12 on) and bool (20 on).
 *
 * Both forms take negative axes and keepdims (default 1). Without axes every
 * dim is reduced, except that the input forms' noop_with_empty_axes = 1
 * makes the op an identity. The axes input decides the output shape, so
 * infer reads it with onn_input_values() (a fed axes input makes the session
 * plan with the caller's data). A listed axis may appear only once.
 *
 * Arithmetic: floating inputs (float16 and bfloat16 included) accumulate in
 * double and are rounded once to the output type at the end (float16 and
 * bfloat16 through float32, which may round twice in rare ties).
 * ReduceLogSumExp subtracts the maximum first: m + log(sum(exp(x - m))),
 * so large inputs do not overflow; an infinite or NaN maximum is the
 * result itself. Integer inputs compute Sum, SumSquare, Prod, L1, Max and
 * Min exactly in 64 bits (wrapping modulo 2^64, then to the type's width,
 * as numpy's int64 accumulation followed by astype does); Mean, L2, LogSum
 * and LogSumExp of integers are computed in double and truncated toward
 * zero, saturating at the type's range (NaN gives 0) - the spec is silent
 * there.
 *
 * An empty reduction (a reduced dim of size 0, as in opset 18's empty-set
 * tests) gives the identity of the op: 0 for Sum, SumSquare, L1 and L2, 1
 * for Prod, -inf for LogSum and LogSumExp (log 0), NaN for Mean (0 / 0),
 * -inf / +inf for Max / Min (the type's lowest / highest value for
 * integers, false / true for bool). Max and Min propagate NaN.
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
#include "ops/core/threadpool.h"
#include "ops/half.h"

#include <math.h>
#include <string.h>

#define ONN_REDUCE_BLOCK 256

typedef enum rd_kind {
    RD_SUM,
    RD_MEAN,
    RD_MAX,
    RD_MIN,
    RD_SUMSQ,
    RD_PROD,
    RD_L1,
    RD_L2,
    RD_LOGSUM,
    RD_LOGSUMEXP,
} rd_kind;

/* What each output accumulates; the kind then finishes the value (Mean
 * scales the sum, L2 takes a square root, LogSum a log). */
typedef enum rd_acc { A_SUM, A_SUMSQ, A_MAX, A_MIN, A_PROD, A_L1, A_LSE, A_COUNT } rd_acc;

#define T_BASE                                                                                     \
    (ONN_T_HALF_FLOATS | ONN_T(ONNORM_INT32) | ONN_T(ONNORM_INT64) | ONN_T(ONNORM_UINT32) |        \
     ONN_T(ONNORM_UINT64))
#define T_BF16 ONN_T(ONNORM_BFLOAT16)
#define T_BYTES (ONN_T(ONNORM_INT8) | ONN_T(ONNORM_UINT8))

/* Each reduction: op, kind, accumulator, opset from which axes is an input. */
#define RD_OPS(X)                                                                                  \
    X("ReduceSum", RD_SUM, A_SUM, 13)                                                              \
    X("ReduceMean", RD_MEAN, A_SUM, 18)                                                            \
    X("ReduceMax", RD_MAX, A_MAX, 18)                                                              \
    X("ReduceMin", RD_MIN, A_MIN, 18)                                                              \
    X("ReduceSumSquare", RD_SUMSQ, A_SUMSQ, 18)                                                    \
    X("ReduceProd", RD_PROD, A_PROD, 18)                                                           \
    X("ReduceL1", RD_L1, A_L1, 18)                                                                 \
    X("ReduceL2", RD_L2, A_SUMSQ, 18)                                                              \
    X("ReduceLogSum", RD_LOGSUM, A_SUM, 18)                                                        \
    X("ReduceLogSumExp", RD_LOGSUMEXP, A_LSE, 18)

/* A table entry's data. */
typedef struct rd_desc {
    const char *name;
    rd_kind kind;
    rd_acc acc;
    int axes_input_since;
} rd_desc;

#define RD_DESC(op, k, a, since) [k] = {op, k, a, since},
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

/* Floating path: every element as a double, accumulated in double. */
#define D_SUM(acc, v) ((acc) += (v))
#define D_SUMSQ(acc, v) ((acc) += (v) * (v))
#define D_L1(acc, v) ((acc) += fabs(v))
#define D_PROD(acc, v) ((acc) *= (v))
#define D_MAX(acc, v) ((acc) = ((v) > (acc) || isnan(v)) ? (v) : (acc))
#define D_MIN(acc, v) ((acc) = ((v) < (acc) || isnan(v)) ? (v) : (acc))

/* |v| as a 64-bit pattern (|INT64_MIN| wraps to itself). */
static inline uint64_t abs_i64(int64_t v)
{
    return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}
static inline uint64_t abs_u64(uint64_t v)
{
    return v;
}
#define abs_bits(v) _Generic((v), int64_t : abs_i64, uint64_t : abs_u64)(v)

/* Integer path: 64-bit accumulators (A is int64_t or uint64_t); sums and
 * products go through uint64_t, where wrapping is defined. */
#define I_SUM(A, acc, v) ((acc) = (A)((uint64_t)(acc) + (uint64_t)(v)))
#define I_SUMSQ(A, acc, v) ((acc) = (A)((uint64_t)(acc) + (uint64_t)(v) * (uint64_t)(v)))
#define I_PROD(A, acc, v) ((acc) = (A)((uint64_t)(acc) * (uint64_t)(v)))
#define I_L1(A, acc, v) ((acc) = (A)((uint64_t)(acc) + abs_bits(v)))
#define I_MAX(A, acc, v) ((acc) = (v) > (acc) ? (v) : (acc))
#define I_MIN(A, acc, v) ((acc) = (v) < (acc) ? (v) : (acc))

/* Output r when the innermost group is reduced: runs of `inner` elements.
 * LOOP_SIMD is the loop's vectorization pragma: sums may be split into partial
 * sums, Max and Min keep one ordered pass for their NaN rule. */
#define RD_INNER(name, T, LOAD, ACC, LOOP_SIMD)                                                    \
    static double name(const void *px, const rd_plan *p, int64_t r, double init)                   \
    {                                                                                              \
        const T *x = (const T *)px + row_offset(p, r);                                             \
        int64_t idx[ONNORM_MAX_RANK] = {0};                                                        \
        double acc = init;                                                                         \
        for (int64_t q = 0; q < p->positions; q++) {                                               \
            LOOP_SIMD                                                                              \
            for (int64_t j = 0; j < p->inner; j++) {                                               \
                const double v = LOAD(x[j]);                                                       \
                ACC(acc, v);                                                                       \
            }                                                                                      \
            x += next_position(p, idx);                                                            \
        }                                                                                          \
        return acc;                                                                                \
    }

/* Columns [c0, c0 + cn) of output row r when the innermost group is kept. */
#define RD_ROWS(name, T, LOAD, ACC)                                                                \
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
                const double v = LOAD(x[j]);                                                       \
                ACC(acc[j], v);                                                                    \
            }                                                                                      \
            x += next_position(p, idx);                                                            \
        }                                                                                          \
    }

/* log(sum(exp(x))) as m + log(sum(exp(x - m))), m the maximum: a first pass
 * finds m, a second sums. An infinite or NaN m is the answer itself. */
#define RD_LSE(sfx, T, LOAD)                                                                       \
    static double inner_lse_##sfx(const void *px, const rd_plan *p, int64_t r, double init)        \
    {                                                                                              \
        const double m = inner_max_##sfx(px, p, r, -INFINITY);                                     \
        (void)init;                                                                                \
        if (isinf(m) || isnan(m)) return m;                                                        \
        const T *x = (const T *)px + row_offset(p, r);                                             \
        int64_t idx[ONNORM_MAX_RANK] = {0};                                                        \
        double acc = 0;                                                                            \
        for (int64_t q = 0; q < p->positions; q++) {                                               \
            for (int64_t j = 0; j < p->inner; j++)                                                 \
                acc += exp(LOAD(x[j]) - m);                                                        \
            x += next_position(p, idx);                                                            \
        }                                                                                          \
        return m + log(acc);                                                                       \
    }                                                                                              \
    static void rows_lse_##sfx(const void *px, const rd_plan *p, int64_t r, int64_t c0,            \
                               int64_t cn, double init, double *acc)                               \
    {                                                                                              \
        double m[ONN_REDUCE_BLOCK];                                                                \
        (void)init;                                                                                \
        rows_max_##sfx(px, p, r, c0, cn, -INFINITY, m);                                            \
        const T *x = (const T *)px + row_offset(p, r) + c0;                                        \
        int64_t idx[ONNORM_MAX_RANK] = {0};                                                        \
        for (int64_t j = 0; j < cn; j++)                                                           \
            acc[j] = 0;                                                                            \
        for (int64_t q = 0; q < p->positions; q++) {                                               \
            for (int64_t j = 0; j < cn; j++)                                                       \
                acc[j] += exp(LOAD(x[j]) - m[j]);                                                  \
            x += next_position(p, idx);                                                            \
        }                                                                                          \
        for (int64_t j = 0; j < cn; j++)                                                           \
            acc[j] = isinf(m[j]) || isnan(m[j]) ? m[j] : m[j] + log(acc[j]);                       \
    }

typedef double (*rd_inner_fn)(const void *, const rd_plan *, int64_t, double);
typedef void (*rd_rows_fn)(const void *, const rd_plan *, int64_t, int64_t, int64_t, double,
                           double *);

#define SIMD_SUM _Pragma("omp simd reduction(+ : acc)")
#define SIMD_PROD _Pragma("omp simd reduction(* : acc)")
#define SIMD_NONE

#define LOAD_PLAIN(v) ((double)(v))
#define LOAD_F16(v) ((double)onn_f16_to_f32(v))
#define LOAD_BF16(v) ((double)onn_bf16_to_f32(v))

/* The floating-path loops of one element type. */
#define RD_DLOOPS(sfx, T, LOAD)                                                                    \
    RD_INNER(inner_sum_##sfx, T, LOAD, D_SUM, SIMD_SUM)                                            \
    RD_INNER(inner_sumsq_##sfx, T, LOAD, D_SUMSQ, SIMD_SUM)                                        \
    RD_INNER(inner_l1_##sfx, T, LOAD, D_L1, SIMD_SUM)                                              \
    RD_INNER(inner_prod_##sfx, T, LOAD, D_PROD, SIMD_PROD)                                         \
    RD_INNER(inner_max_##sfx, T, LOAD, D_MAX, SIMD_NONE)                                           \
    RD_INNER(inner_min_##sfx, T, LOAD, D_MIN, SIMD_NONE)                                           \
    RD_ROWS(rows_sum_##sfx, T, LOAD, D_SUM)                                                        \
    RD_ROWS(rows_sumsq_##sfx, T, LOAD, D_SUMSQ)                                                    \
    RD_ROWS(rows_l1_##sfx, T, LOAD, D_L1)                                                          \
    RD_ROWS(rows_prod_##sfx, T, LOAD, D_PROD)                                                      \
    RD_ROWS(rows_max_##sfx, T, LOAD, D_MAX)                                                        \
    RD_ROWS(rows_min_##sfx, T, LOAD, D_MIN)                                                        \
    RD_LSE(sfx, T, LOAD)

/* The integer path: output r (innermost group reduced), or columns
 * [c0, c0 + cn) of output row r, accumulated in A and stored as T. */
#define RD_IINNER(name, T, A, ACC, INIT)                                                           \
    static void name(const void *px, void *py, const rd_plan *p, int64_t r)                        \
    {                                                                                              \
        const T *x = (const T *)px + row_offset(p, r);                                             \
        int64_t idx[ONNORM_MAX_RANK] = {0};                                                        \
        A acc = INIT;                                                                              \
        for (int64_t q = 0; q < p->positions; q++) {                                               \
            for (int64_t j = 0; j < p->inner; j++) {                                               \
                const A v = (A)x[j];                                                               \
                ACC(A, acc, v);                                                                    \
            }                                                                                      \
            x += next_position(p, idx);                                                            \
        }                                                                                          \
        ((T *)py)[r] = (T)acc;                                                                     \
    }
#define RD_IROWS(name, T, A, ACC, INIT)                                                            \
    static void name(const void *px, void *py, const rd_plan *p, int64_t r, int64_t c0,            \
                     int64_t cn)                                                                   \
    {                                                                                              \
        const T *x = (const T *)px + row_offset(p, r) + c0;                                        \
        int64_t idx[ONNORM_MAX_RANK] = {0};                                                        \
        A acc[ONN_REDUCE_BLOCK];                                                                   \
        for (int64_t j = 0; j < cn; j++)                                                           \
            acc[j] = INIT;                                                                         \
        for (int64_t q = 0; q < p->positions; q++) {                                               \
            ONN_SIMD                                                                               \
            for (int64_t j = 0; j < cn; j++) {                                                     \
                const A v = (A)x[j];                                                               \
                ACC(A, acc[j], v);                                                                 \
            }                                                                                      \
            x += next_position(p, idx);                                                            \
        }                                                                                          \
        T *y = (T *)py + r * p->inner + c0;                                                        \
        for (int64_t j = 0; j < cn; j++)                                                           \
            y[j] = (T)acc[j];                                                                      \
    }

typedef void (*rd_iinner_fn)(const void *, void *, const rd_plan *, int64_t);
typedef void (*rd_irows_fn)(const void *, void *, const rd_plan *, int64_t, int64_t, int64_t);

/* A: int64_t or uint64_t; LO, HI: its extremes (Max's and Min's start). */
#define RD_ILOOPS(sfx, T, A, LO, HI)                                                               \
    RD_IINNER(iinner_sum_##sfx, T, A, I_SUM, 0)                                                    \
    RD_IINNER(iinner_sumsq_##sfx, T, A, I_SUMSQ, 0)                                                \
    RD_IINNER(iinner_l1_##sfx, T, A, I_L1, 0)                                                      \
    RD_IINNER(iinner_prod_##sfx, T, A, I_PROD, 1)                                                  \
    RD_IINNER(iinner_max_##sfx, T, A, I_MAX, LO)                                                   \
    RD_IINNER(iinner_min_##sfx, T, A, I_MIN, HI)                                                   \
    RD_IROWS(irows_sum_##sfx, T, A, I_SUM, 0)                                                      \
    RD_IROWS(irows_sumsq_##sfx, T, A, I_SUMSQ, 0)                                                  \
    RD_IROWS(irows_l1_##sfx, T, A, I_L1, 0)                                                        \
    RD_IROWS(irows_prod_##sfx, T, A, I_PROD, 1)                                                    \
    RD_IROWS(irows_max_##sfx, T, A, I_MAX, LO)                                                     \
    RD_IROWS(irows_min_##sfx, T, A, I_MIN, HI)

/* Stores of a double result: floating types round, integers truncate
 * toward zero and saturate (NaN gives 0), bool is v > 0. */
#define RD_STORE_F(sfx, T, CONV)                                                                   \
    static void store_##sfx(void *py, int64_t i, double v)                                         \
    {                                                                                              \
        ((T *)py)[i] = CONV(v);                                                                    \
    }
#define CONV_PLAIN(v) (v)
#define CONV_F16(v) onn_f32_to_f16((float)(v))
#define CONV_BF16(v) onn_f32_to_bf16((float)(v))
#define RD_STORE_I(sfx, T, LO, HI)                                                                 \
    static void store_##sfx(void *py, int64_t i, double v)                                         \
    {                                                                                              \
        ((T *)py)[i] = isnan(v)            ? (T)0                                                  \
                       : v <= (double)(LO) ? (LO)                                                  \
                       : v >= (double)(HI) ? (HI)                                                  \
                                           : (T)v;                                                 \
    }

/* Element types: floating ones (path D), then integer ones (paths D and I). */
#define RD_FTYPES(X)                                                                               \
    X(f32, float, ONNORM_FLOAT, LOAD_PLAIN, CONV_PLAIN)                                            \
    X(f64, double, ONNORM_DOUBLE, LOAD_PLAIN, CONV_PLAIN)                                          \
    X(f16, uint16_t, ONNORM_FLOAT16, LOAD_F16, CONV_F16)                                           \
    X(bf16, uint16_t, ONNORM_BFLOAT16, LOAD_BF16, CONV_BF16)
#define RD_ITYPES(X)                                                                               \
    X(i8, int8_t, ONNORM_INT8, int64_t, INT8_MIN, INT8_MAX)                                        \
    X(i32, int32_t, ONNORM_INT32, int64_t, INT32_MIN, INT32_MAX)                                   \
    X(i64, int64_t, ONNORM_INT64, int64_t, INT64_MIN, INT64_MAX)                                   \
    X(u8, uint8_t, ONNORM_UINT8, uint64_t, 0, UINT8_MAX)                                           \
    X(u32, uint32_t, ONNORM_UINT32, uint64_t, 0, UINT32_MAX)                                       \
    X(u64, uint64_t, ONNORM_UINT64, uint64_t, 0, UINT64_MAX)                                       \
    X(b, uint8_t, ONNORM_BOOL, uint64_t, 0, 1)

#define RD_FDEFS(sfx, T, code, LOAD, CONV) RD_DLOOPS(sfx, T, LOAD) RD_STORE_F(sfx, T, CONV)
#define RD_IDEFS(sfx, T, code, A, LO, HI)                                                          \
    RD_DLOOPS(sfx, T, LOAD_PLAIN) RD_ILOOPS(sfx, T, A, (A)(LO), (A)(HI)) RD_STORE_I(sfx, T, LO, HI)
RD_FTYPES(RD_FDEFS)
RD_ITYPES(RD_IDEFS)

typedef struct rd_row {
    onnorm_dtype dtype;
    rd_inner_fn inner[A_COUNT]; /* by rd_acc */
    rd_rows_fn rows[A_COUNT];
    rd_iinner_fn iinner[A_COUNT]; /* integer types; NULL for A_LSE */
    rd_irows_fn irows[A_COUNT];
    void (*store)(void *y, int64_t i, double v);
} rd_row;

#define RD_DFNS(pre, sfx)                                                                          \
    {                                                                                              \
        pre##_sum_##sfx, pre##_sumsq_##sfx, pre##_max_##sfx, pre##_min_##sfx, pre##_prod_##sfx,    \
            pre##_l1_##sfx, pre##_lse_##sfx                                                        \
    }
#define RD_IFNS(pre, sfx)                                                                          \
    {                                                                                              \
        pre##_sum_##sfx, pre##_sumsq_##sfx, pre##_max_##sfx, pre##_min_##sfx, pre##_prod_##sfx,    \
            pre##_l1_##sfx, NULL                                                                   \
    }
#define RD_FROW(sfx, T, code, LOAD, CONV)                                                          \
    {code, RD_DFNS(inner, sfx), RD_DFNS(rows, sfx), {NULL}, {NULL}, store_##sfx},
#define RD_IROW(sfx, T, code, A, LO, HI)                                                           \
    {                                                                                              \
        code,                                                                                      \
        RD_DFNS(inner, sfx),                                                                       \
        RD_DFNS(rows, sfx),                                                                        \
        RD_IFNS(iinner, sfx),                                                                      \
        RD_IFNS(irows, sfx),                                                                       \
        store_##sfx},
static const rd_row rd_rows[] = {RD_FTYPES(RD_FROW) RD_ITYPES(RD_IROW)};

/* What an accumulator starts from. */
static double identity_of(rd_acc a)
{
    return a == A_MAX || a == A_LSE ? -INFINITY : a == A_MIN ? INFINITY : a == A_PROD ? 1.0 : 0.0;
}

/* The output value from the accumulated one. */
static double finish(rd_kind k, double v, double scale)
{
    switch (k) {
    case RD_MEAN: return v * scale;
    case RD_L2: return sqrt(v);
    case RD_LOGSUM: return log(v);
    default: return v;
    }
}

/* ---- prepare and run ---------------------------------------------------------- */

static onnorm_status rd_prepare(onn_kctx *ctx)
{
    rd_state *s = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    make_plan(x, &s->cfg, &s->plan);
    s->row = NULL;
    for (size_t i = 0; i < sizeof rd_rows / sizeof rd_rows[0]; i++)
        if (rd_rows[i].dtype == x->dtype) s->row = &rd_rows[i];
    if (!s->row)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'data' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    return ONNORM_OK;
}

/* The arguments of rd_run's loops: over the outputs when the innermost
 * axis is reduced, else over blocks of ONN_REDUCE_BLOCK columns of a row. */
typedef struct rd_job {
    const rd_plan *p;
    const rd_row *row;
    const void *x;
    void *y;
    rd_kind k;
    double init, scale;
    int64_t blocks; /* column blocks per row */
    rd_acc a;
} rd_job;

static void rd_iinner_outputs(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const rd_job *j = arg;
    rd_iinner_fn fn = j->row->iinner[j->a];
    for (int64_t r = r0; r < r1; r++)
        fn(j->x, j->y, j->p, r);
}

static void rd_inner_outputs(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const rd_job *j = arg;
    rd_inner_fn fn = j->row->inner[j->a];
    for (int64_t r = r0; r < r1; r++)
        j->row->store(j->y, r, finish(j->k, fn(j->x, j->p, r, j->init), j->scale));
}

static void rd_irows_tasks(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const rd_job *j = arg;
    const rd_plan *p = j->p;
    rd_irows_fn fn = j->row->irows[j->a];
    for (int64_t t = t0; t < t1; t++) {
        const int64_t r = t / j->blocks, c0 = (t % j->blocks) * ONN_REDUCE_BLOCK;
        const int64_t cn = p->inner - c0 < ONN_REDUCE_BLOCK ? p->inner - c0 : ONN_REDUCE_BLOCK;
        fn(j->x, j->y, p, r, c0, cn);
    }
}

static void rd_rows_tasks(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const rd_job *j = arg;
    const rd_plan *p = j->p;
    rd_rows_fn fn = j->row->rows[j->a];
    for (int64_t t = t0; t < t1; t++) {
        double acc[ONN_REDUCE_BLOCK];
        const int64_t r = t / j->blocks, c0 = (t % j->blocks) * ONN_REDUCE_BLOCK;
        const int64_t cn = p->inner - c0 < ONN_REDUCE_BLOCK ? p->inner - c0 : ONN_REDUCE_BLOCK;
        fn(j->x, p, r, c0, cn, j->init, acc);
        for (int64_t c = 0; c < cn; c++)
            j->row->store(j->y, r * p->inner + c0 + c, finish(j->k, acc[c], j->scale));
    }
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
    const rd_acc a = s->cfg.d->acc;
    const double init = identity_of(a);
    if (n_out == 0) return ONNORM_OK;
    /* With an empty reduced dim no input is read: every output is the
     * finished identity (Mean's 0 * (1 / 0) is NaN). */
    const double scale = k == RD_MEAN ? 1.0 / (double)p->count : 1.0;
    if (onnorm_tensor_numel(x) == 0) {
        const double v = finish(k, init, scale);
        for (int64_t r = 0; r < n_out; r++)
            row->store(y->data, r, v);
        return ONNORM_OK;
    }
    const int64_t work = onnorm_tensor_numel(x) > n_out ? onnorm_tensor_numel(x) : n_out;
    const int64_t blocks = (p->inner + ONN_REDUCE_BLOCK - 1) / ONN_REDUCE_BLOCK,
                  tasks = p->rows * blocks;
    const bool int_path = row->iinner[a] && (k != RD_MEAN && k != RD_L2 && k != RD_LOGSUM);
    rd_job j = {p, row, x->data, y->data, k, init, scale, blocks, a};
    if (p->inner_reduced) {
        const int nt = onn_threads_for(ctx, work, n_out);
        onn_parallel_range(nt, n_out, int_path ? rd_iinner_outputs : rd_inner_outputs, &j);
        return ONNORM_OK;
    }
    const int nt = onn_threads_for(ctx, work, tasks);
    onn_parallel_range(nt, tasks, int_path ? rd_irows_tasks : rd_rows_tasks, &j);
    return ONNORM_OK;
}

#define RD_KERNEL(op, ver, in_hi, k, t, w)                                                         \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 1, in_hi, 1, 1, rd_infer, rd_prepare, rd_run),                     \
            .config = rd_config, .state_size = sizeof(rd_state), .data = &descs[k], .types = (t),  \
            .widens = (w)                                                                          \
    }
/* A reduction whose axes become an input at 13 (ReduceSum). */
#define RD_ENTRIES_13(op, k)                                                                       \
    RD_KERNEL(op, 1, 1, k, T_BASE, false), RD_KERNEL(op, 11, 1, k, T_BASE, true),                  \
        RD_KERNEL(op, 13, 2, k, T_BASE | T_BF16, false)
/* One whose axes become an input at 18. */
#define RD_ENTRIES_18(op, k)                                                                       \
    RD_KERNEL(op, 1, 1, k, T_BASE, false), RD_KERNEL(op, 11, 1, k, T_BASE, true),                  \
        RD_KERNEL(op, 13, 1, k, T_BASE | T_BF16, true),                                            \
        RD_KERNEL(op, 18, 2, k, T_BASE | T_BF16, false)
/* Max and Min: 12 adds int8 and uint8, 20 adds bool. */
#define RD_ENTRIES_MAXMIN(op, k)                                                                   \
    RD_KERNEL(op, 1, 1, k, T_BASE, false), RD_KERNEL(op, 11, 1, k, T_BASE, true),                  \
        RD_KERNEL(op, 12, 1, k, T_BASE | T_BYTES, true),                                           \
        RD_KERNEL(op, 13, 1, k, T_BASE | T_BYTES | T_BF16, true),                                  \
        RD_KERNEL(op, 18, 2, k, T_BASE | T_BYTES | T_BF16, false),                                 \
        RD_KERNEL(op, 20, 2, k, T_BASE | T_BYTES | T_BF16 | ONN_T(ONNORM_BOOL), true)

ONN_KERNEL_TABLE(reduce, RD_ENTRIES_13("ReduceSum", RD_SUM), RD_ENTRIES_18("ReduceMean", RD_MEAN),
                 RD_ENTRIES_MAXMIN("ReduceMax", RD_MAX), RD_ENTRIES_MAXMIN("ReduceMin", RD_MIN),
                 RD_ENTRIES_18("ReduceSumSquare", RD_SUMSQ), RD_ENTRIES_18("ReduceProd", RD_PROD),
                 RD_ENTRIES_18("ReduceL1", RD_L1), RD_ENTRIES_18("ReduceL2", RD_L2),
                 RD_ENTRIES_18("ReduceLogSum", RD_LOGSUM),
                 RD_ENTRIES_18("ReduceLogSumExp", RD_LOGSUMEXP));
