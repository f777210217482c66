/*
 * LRN (local response normalization across channels), opsets 1 and 13.
 *
 * For X (N, C, D...): the window of channel c is
 *   [max(0, c - floor((size - 1) / 2)), min(C - 1, c + ceil((size - 1) / 2))]
 * (an even size reaches further forward), and
 *   y = x / (bias + alpha / size * sum over the window of x^2) ^ beta,
 * with alpha divided by the nominal size even where the window is clipped.
 *
 * The sums run across channels at one spatial position (stride S) over a
 * window that slides with the channel, so they are not slices the shared
 * statistics core (moments.h) could read; LRN keeps its own loop.
 */
#include "ops/core/threadpool.h"
#include "ops/kernel.h"
#include "ops/norm/moments.h"

#include <math.h>

typedef struct lrn_cfg {
    int64_t size;
    float alpha, beta, bias;
} lrn_cfg;

static onnorm_status lrn_config(onn_kctx *ctx)
{
    lrn_cfg *c = ctx->state;
    onnorm_status st;
    if ((st = onn_kattr_require(ctx, "size")) || (st = onn_kattr_int(ctx, "size", 1, &c->size)) ||
        (st = onn_kattr_float(ctx, "alpha", 1e-4f, &c->alpha)) ||
        (st = onn_kattr_float(ctx, "beta", 0.75f, &c->beta)) ||
        (st = onn_kattr_float(ctx, "bias", 1.0f, &c->bias)))
        return st;
    if (c->size < 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "size must be >= 1, got %lld",
                         (long long)c->size);
    if (ctx->in[0]->rank < 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X must have rank >= 2 (N, C, ...), got %d",
                         ctx->in[0]->rank);
    return ONNORM_OK;
}

static onnorm_status lrn_infer(onn_kctx *ctx)
{
    return onn_infer_like_input(ctx, "X");
}

/* The arguments of lrn_run's plane loop. */
typedef struct lrn_job {
    lrn_cfg c;
    const onnorm_tensor *x;
    onnorm_tensor *y;
    int64_t C, S, before, after;
    double k;
} lrn_job;

static void lrn_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const lrn_job *j = arg;
    const onnorm_tensor *x = j->x;
    const onnorm_dtype t = x->dtype;
    const int64_t C = j->C, S = j->S;
    for (int64_t pl = p0; pl < p1; pl++) {
        const int64_t n = pl / C, ch = pl % C;
        const int64_t lo = ch - j->before < 0 ? 0 : ch - j->before;
        const int64_t hi = ch + j->after > C - 1 ? C - 1 : ch + j->after;
        for (int64_t s = 0; s < S; s++) {
            double sq = 0.0;
            for (int64_t i = lo; i <= hi; i++) {
                double v = onn_load(t, x->data, (n * C + i) * S + s);
                sq += v * v;
            }
            int64_t at = pl * S + s;
            onn_store(t, j->y->data, at,
                      onn_load(t, x->data, at) / pow((double)j->c.bias + j->k * sq, j->c.beta));
        }
    }
}

static onnorm_status lrn_run(onn_kctx *ctx)
{
    const lrn_cfg c = *(const lrn_cfg *)ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const int64_t N = x->dims[0], C = x->dims[1], S = onn_dims_numel(x->dims, 2, x->rank);
    const int64_t before = (c.size - 1) / 2, after = c.size - 1 - before;
    const double k = (double)c.alpha / (double)c.size;
    const int64_t planes = N * C;
    const int nt = onn_threads_for(ctx, planes * S * c.size, planes);
    lrn_job j = {c, x, ctx->out[0], C, S, before, after, k};
    onn_parallel_range(nt, planes, lrn_planes, &j);
    return ONNORM_OK;
}

#define LRN_KERNEL(ver, mask)                                                                      \
    {                                                                                              \
        ONN_KERNEL("", "LRN", ver, 1, 1, 1, 1, lrn_infer, NULL, lrn_run),                          \
            .config = lrn_config, .state_size = sizeof(lrn_cfg), .types = (mask),                  \
            .widens = (ver) == 13                                                                  \
    }

ONN_KERNEL_TABLE(lrn, LRN_KERNEL(1, ONN_T_HALF_FLOATS), LRN_KERNEL(13, ONN_T_ALL_FLOATS));
