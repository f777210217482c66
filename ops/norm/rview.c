/* Offset tables for onn_rview (see rview.h). */
#include "ops/norm/rview.h"

#include "ops/core/threadpool.h"

/* Offsets of every index combination over the axes i < upto where
 * want[i] == pick, in row-major order of those axes. */
static void offsets(const int64_t *dims, const int64_t *strides, int upto, const bool *want,
                    bool pick, int64_t count, int64_t *off)
{
    int64_t idx[ONNORM_MAX_RANK] = {0};
    for (int64_t n = 0; n < count; n++) {
        int64_t o = 0;
        for (int i = 0; i < upto; i++)
            if (want[i] == pick) o += idx[i] * strides[i];
        off[n] = o;
        for (int i = upto - 1; i >= 0; i--) {
            if (want[i] != pick) continue;
            if (++idx[i] < dims[i]) break;
            idx[i] = 0;
        }
    }
}

onnorm_status onn_rview_prepare(onn_kctx *ctx, onn_rview *v, const bool *reduced,
                                const onn_moments **mo)
{
    const int64_t *dims = ctx->in[0]->dims;
    const int rank = ctx->in[0]->rank;
    *mo = onn_moments_get(onn_isa_active());
    int64_t strides[ONNORM_MAX_RANK], s = 1;
    v->K = v->R = v->L = 1;
    int tail = rank; /* axes [tail, rank) are reduced and contiguous: the runs */
    while (tail > 0 && reduced[tail - 1])
        tail--;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
        if (reduced[i])
            v->R *= dims[i];
        else
            v->K *= dims[i];
        if (i >= tail) v->L *= dims[i];
    }
    v->runs = v->L ? v->R / v->L : 0;
    size_t kb, rb;
    onnorm_status st;
    if ((st = onn_kbytes(ctx, (size_t)(v->K ? v->K : 1), sizeof(int64_t), 1, &kb)) ||
        (st = onn_kbytes(ctx, (size_t)(v->runs ? v->runs : 1), sizeof(int64_t), 1, &rb)))
        return st;
    int64_t *koff = onn_kalloc(ctx, kb), *roff = koff ? onn_kalloc(ctx, rb) : NULL;
    if (!roff) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    offsets(dims, strides, rank, reduced, false, v->K, koff);
    offsets(dims, strides, tail, reduced, true, v->runs, roff);
    v->koff = koff, v->roff = roff;
    return ONNORM_OK;
}

/* The arguments of onn_rview_normalize's loop over the kept positions. */
typedef struct rview_job {
    const onn_rview *v;
    const onn_moments *mo;
    onn_rview_stats stats;
    const void *arg;
    const onnorm_tensor *x;
    onnorm_tensor *y;
} rview_job;

static void rview_rows(void *arg, int64_t k0, int64_t k1, int worker)
{
    (void)worker;
    const rview_job *j = arg;
    const onn_rview *v = j->v;
    const onnorm_tensor *x = j->x;
    for (int64_t k = k0; k < k1; k++) {
        double mean, scale;
        j->stats(j->arg, v, x->dtype, x->data, v->koff[k], &mean, &scale);
        for (int64_t r = 0; r < v->runs; r++)
            j->mo->affine(x->dtype, x->data, j->y->data, v->koff[k] + v->roff[r], v->L, mean, scale,
                          0.0, 0);
    }
}

void onn_rview_normalize(const onn_kctx *ctx, const onn_rview *v, const onn_moments *mo,
                         onn_rview_stats stats, const void *arg)
{
    const int nt = onn_threads_for(ctx, v->K * v->R, v->K);
    rview_job j = {v, mo, stats, arg, ctx->in[0], ctx->out[0]};
    onn_parallel_range(nt, v->K, rview_rows, &j);
}
