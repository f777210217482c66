/*
 * Classification losses:
 *
 *   NegativeLogLikelihoodLoss  opset 12, 13: float16/32/64; 22: + bfloat16
 *   SoftmaxCrossEntropyLoss    opset 12: float16/32/64; 13: + bfloat16
 *
 * NLL-13 changed only the function body that expands the op (the
 * semantics and types are 12's), so it and the later versions are marked
 * as widening their predecessors.
 *
 * Input 0 is [N, C] or [N, C, d1, .., dk], viewed as [N, C, D] with
 * D = d1 * .. * dk (1 for rank 2); the target (int32 or int64) is [N] or
 * [N, d1, .., dk]; the optional weight is [C] of input 0's type. For each
 * of the N * D positions with target t the loss is
 *
 *   l = -weight[t] * lp[n, t, d]      (weight[t] = 1 without weights)
 *
 * where lp is input 0 itself (NLL) or its log-softmax over C (SCE, whose
 * optional second output is that log-softmax). A position whose target
 * equals ignore_index has l = 0 and weight 0. reduction "none" returns l
 * with the target's shape, "sum" sum(l), "mean" sum(l) / sum(applied
 * weights): with neither weights nor ignore_index that is the plain mean
 * over N * D, with ignore_index alone the mean over the targets kept. (The
 * spec's text says "mean(loss)" when there are no weights; ONNX's reference
 * implementation, the function body and the official test
 * test_nllloss_NCd1_ii all divide by the number of targets kept, as here.)
 *
 * Decisions where the spec is silent, following ONNX's reference
 * implementation (and PyTorch):
 *   - "mean" when every target is ignored (or the applied weights sum to
 *     0, or N * D = 0) is 0 / 0 = NaN, as the reference and the ops'
 *     function bodies (ReduceSum / ReduceSum) compute;
 *   - a target outside [0, C) that is not ignore_index is an error (the
 *     reference would index out of bounds); ignore_index itself may lie
 *     anywhere, negative or >= C;
 *   - an ignored position gives +0 in "none".
 *
 * Numerics: the log-softmax, each position's loss and both sums are
 * computed in double and rounded once to the output type (float16 and
 * bfloat16 through float32). The log-softmax of a position subtracts the
 * maximum over C before exp, so large scores do not overflow. Positions
 * are split into tasks of up to LOSS_BLOCK neighbouring positions of one
 * n; each task leaves its two partial sums in scratch and run adds them in
 * task order, so the result does not depend on the thread count.
 */
#include "ops/core/broadcast.h"
#include "ops/core/threadpool.h"
#include "ops/half.h"

#include <math.h>

#define LOSS_BLOCK 64

enum { RED_NONE, RED_SUM, RED_MEAN };
static const char *const reductions[] = {"none", "sum", "mean"};

/* The table entries' data: which loss. */
static const bool loss_nll = false, loss_sce = true;

typedef struct loss_cfg loss_cfg;
/* Task t: positions [k0, k0 + kn) of row n; partial sums to part[0..1]. */
typedef void (*loss_task)(const onn_kctx *ctx, const loss_cfg *c, int64_t t, double *part);

struct loss_cfg {
    int reduction;
    bool sce;
    bool has_ii;
    int64_t ii;
    /* prepare: */
    int64_t n, classes, d, blocks, tasks;
    bool weighted;
    loss_task task;
};

/* Target j of a target tensor (int32 or int64). */
static inline int64_t target_at(const onnorm_tensor *t, int64_t j)
{
    return t->dtype == ONNORM_INT64 ? ((const int64_t *)t->data)[j] : ((const int32_t *)t->data)[j];
}

/* Loads and stores of each float type through double. */
#define LD_f16(v) ((double)onn_f16_to_f32(v))
#define ST_f16(v) onn_f32_to_f16((float)(v))
#define LD_bf16(v) ((double)onn_bf16_to_f32(v))
#define ST_bf16(v) onn_f32_to_bf16((float)(v))
#define LD_f32(v) ((double)(v))
#define ST_f32(v) ((float)(v))
#define LD_f64(v) (v)
#define ST_f64(v) (v)

#define LOSS_TYPES(X)                                                                              \
    X(f16, uint16_t)                                                                               \
    X(bf16, uint16_t)                                                                              \
    X(f32, float)                                                                                  \
    X(f64, double)

/* One task. x and y (the loss, for "none"), lp (SCE's log_prob, or NULL)
 * point at row n; position k's class c is at c * D + k. */
#define LOSS_TASK(sfx, T)                                                                          \
    static void task_##sfx(const onn_kctx *ctx, const loss_cfg *c, int64_t t, double *part)        \
    {                                                                                              \
        const int64_t n = t / c->blocks, k0 = (t % c->blocks) * LOSS_BLOCK;                        \
        const int64_t kn = c->d - k0 < LOSS_BLOCK ? c->d - k0 : LOSS_BLOCK;                        \
        const int64_t D = c->d, C = c->classes;                                                    \
        const T *x = (const T *)ctx->in[0]->data + n * C * D;                                      \
        const onnorm_tensor *tg = ctx->in[1];                                                      \
        const T *w = c->weighted ? ctx->in[2]->data : NULL;                                        \
        onnorm_tensor *lpo = c->sce ? onn_opt_output(ctx, 1) : NULL;                               \
        T *lp = lpo ? (T *)lpo->data + n * C * D : NULL;                                           \
        double lse[LOSS_BLOCK];                                                                    \
        if (c->sce) {                                                                              \
            double mx[LOSS_BLOCK], sum[LOSS_BLOCK];                                                \
            for (int64_t k = 0; k < kn; k++)                                                       \
                mx[k] = -INFINITY, sum[k] = 0.0;                                                   \
            for (int64_t ci = 0; ci < C; ci++)                                                     \
                for (int64_t k = 0; k < kn; k++) {                                                 \
                    const double v = LD_##sfx(x[ci * D + k0 + k]);                                 \
                    mx[k] = v > mx[k] ? v : mx[k];                                                 \
                }                                                                                  \
            for (int64_t ci = 0; ci < C; ci++)                                                     \
                for (int64_t k = 0; k < kn; k++)                                                   \
                    sum[k] += exp(LD_##sfx(x[ci * D + k0 + k]) - mx[k]);                           \
            for (int64_t k = 0; k < kn; k++)                                                       \
                lse[k] = mx[k] + log(sum[k]);                                                      \
            if (lp)                                                                                \
                for (int64_t ci = 0; ci < C; ci++)                                                 \
                    for (int64_t k = 0; k < kn; k++)                                               \
                        lp[ci * D + k0 + k] = ST_##sfx(LD_##sfx(x[ci * D + k0 + k]) - lse[k]);     \
        }                                                                                          \
        double s = 0.0, ws = 0.0;                                                                  \
        for (int64_t k = 0; k < kn; k++) {                                                         \
            const int64_t j = n * D + k0 + k, tv = target_at(tg, j);                               \
            double l = 0.0, wt = 0.0;                                                              \
            if (!(c->has_ii && tv == c->ii)) {                                                     \
                double v = LD_##sfx(x[tv * D + k0 + k]);                                           \
                if (c->sce) v -= lse[k];                                                           \
                wt = w ? LD_##sfx(w[tv]) : 1.0;                                                    \
                l = -wt * v;                                                                       \
            }                                                                                      \
            if (c->reduction == RED_NONE && ctx->out[0])                                           \
                ((T *)ctx->out[0]->data)[j] = ST_##sfx(l);                                         \
            s += l, ws += wt;                                                                      \
        }                                                                                          \
        part[0] = s, part[1] = ws;                                                                 \
    }
LOSS_TYPES(LOSS_TASK)

static void store_scalar(onnorm_tensor *y, double v)
{
    switch (y->dtype) {
    case ONNORM_FLOAT16: *(uint16_t *)y->data = ST_f16(v); break;
    case ONNORM_BFLOAT16: *(uint16_t *)y->data = ST_bf16(v); break;
    case ONNORM_FLOAT: *(float *)y->data = ST_f32(v); break;
    default: *(double *)y->data = v; break;
    }
}

static onnorm_status loss_config(onn_kctx *ctx)
{
    loss_cfg *c = ctx->state;
    c->sce = *(const bool *)ctx->kernel->data;
    onnorm_status st = onn_kattr_enum(ctx, "reduction", reductions, 3, RED_MEAN, &c->reduction);
    if (st) return st;
    c->has_ii = onn_kattr_has(ctx, "ignore_index");
    return c->has_ii ? onn_kattr_int(ctx, "ignore_index", 0, &c->ii) : ONNORM_OK;
}

/* Input 0 of rank >= 2, a target shaped like it without C, an optional
 * weight [C]; the loss is the target's shape ("none") or a scalar. */
static onnorm_status loss_infer(onn_kctx *ctx)
{
    const loss_cfg *c = ctx->state;
    const char *xn = c->sce ? "scores" : "input", *tn = c->sce ? "labels" : "target";
    onnorm_status st = onn_check_float_input(ctx, 0, xn);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0], *t = onn_opt_input(ctx, 1);
    char xs[128], ts[128];
    if (x->rank < 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input '%s' has shape %s; expected [N, C, ...]", xn,
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", tn);
    if (t->dtype != ONNORM_INT32 && t->dtype != ONNORM_INT64)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s, expected int32 or int64",
                         tn, onnorm_dtype_name(t->dtype));
    bool match = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
    for (int i = 1; match && i < t->rank; i++)
        match = t->dims[i] == x->dims[i + 1];
    if (!match)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input '%s' has shape %s; expected %s's shape %s without its axis 1", tn,
                         onn_shape_str(t->dims, t->rank, ts, sizeof ts), xn,
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    if (onn_has_input(ctx, 2) &&
        (st = onn_check_param(ctx, 2, c->sce ? "weights" : "weight", x->dims[1], x->dtype)))
        return st;
    if (c->reduction == RED_NONE)
        onn_set_output(ctx, 0, x->dtype, t->rank, t->dims);
    else
        onn_set_output(ctx, 0, x->dtype, 0, NULL);
    onn_set_output(ctx, 1, x->dtype, x->rank, x->dims); /* SCE's log_prob */
    return ONNORM_OK;
}

static onnorm_status loss_prepare(onn_kctx *ctx)
{
    loss_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    c->n = x->dims[0];
    c->classes = x->dims[1];
    c->d = onn_dims_numel(x->dims, 2, x->rank);
    c->blocks = (c->d + LOSS_BLOCK - 1) / LOSS_BLOCK;
    c->tasks = c->n * c->blocks;
    c->weighted = onn_has_input(ctx, 2);
    switch (x->dtype) {
    case ONNORM_FLOAT16: c->task = task_f16; break;
    case ONNORM_BFLOAT16: c->task = task_bf16; break;
    case ONNORM_FLOAT: c->task = task_f32; break;
    default: c->task = task_f64; break;
    }
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)c->tasks, 2 * sizeof(double), 1, &bytes);
    if (!st) onn_kscratch_need(ctx, bytes);
    onn_kflops(ctx, (double)onnorm_tensor_numel(x) * (c->sce ? 4.0 : 0.0));
    return st;
}

/* Every target lies in [0, C) or is ignore_index; checked before any work. */
static onnorm_status check_targets(onn_kctx *ctx, const loss_cfg *c)
{
    const onnorm_tensor *t = ctx->in[1];
    const int64_t n = onnorm_tensor_numel(t);
    for (int64_t j = 0; j < n; j++) {
        const int64_t v = target_at(t, j);
        if ((v < 0 || v >= c->classes) && !(c->has_ii && v == c->ii))
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "target %lld (at position %lld) is out of range for %lld classes%s",
                             (long long)v, (long long)j, (long long)c->classes,
                             c->has_ii ? " and is not ignore_index" : "");
    }
    return ONNORM_OK;
}

typedef struct loss_job {
    const onn_kctx *ctx;
    const loss_cfg *c;
    double *part;
} loss_job;

static void loss_tasks(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const loss_job *j = arg;
    for (int64_t t = t0; t < t1; t++)
        j->c->task(j->ctx, j->c, t, j->part + 2 * t);
}

static onnorm_status loss_run(onn_kctx *ctx)
{
    const loss_cfg *c = ctx->state;
    onnorm_status st = check_targets(ctx, c);
    if (st) return st;
    double *part = ctx->scratch;
    const int nt = onn_threads_for(ctx, onnorm_tensor_numel(ctx->in[0]), c->tasks);
    loss_job j = {ctx, c, part};
    onn_parallel_range(nt, c->tasks, loss_tasks, &j);
    if (c->reduction == RED_NONE || !ctx->out[0]) return ONNORM_OK;
    double s = 0.0, ws = 0.0;
    for (int64_t t = 0; t < c->tasks; t++)
        s += part[2 * t], ws += part[2 * t + 1];
    store_scalar(ctx->out[0], c->reduction == RED_SUM ? s : s / ws);
    return ONNORM_OK;
}

#define LOSS(op, ver, outs, which, mask, wide)                                                     \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 2, 3, 1, outs, loss_infer, loss_prepare, loss_run),                \
            .config = loss_config, .state_size = sizeof(loss_cfg), .data = &(which),               \
            .types = (mask), .widens = (wide)                                                      \
    }

ONN_KERNEL_TABLE(loss, LOSS("NegativeLogLikelihoodLoss", 12, 1, loss_nll, ONN_T_HALF_FLOATS, false),
                 LOSS("NegativeLogLikelihoodLoss", 13, 1, loss_nll, ONN_T_HALF_FLOATS, true),
                 LOSS("NegativeLogLikelihoodLoss", 22, 1, loss_nll, ONN_T_ALL_FLOATS, true),
                 LOSS("SoftmaxCrossEntropyLoss", 12, 2, loss_sce, ONN_T_HALF_FLOATS, false),
                 LOSS("SoftmaxCrossEntropyLoss", 13, 2, loss_sce, ONN_T_ALL_FLOATS, true));
