/* Offset tables for onn_rview (see rview.h). */
#include "ops/norm/rview.h"

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

void onn_rview_normalize(const onn_kctx *ctx, const onn_rview *v, const onn_moments *mo,
                         onn_rview_stats stats, const void *arg)
{
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    const int nt = onn_threads_for(ctx, v->K * v->R, v->K);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t k = 0; k < v->K; k++) {
        double mean, scale;
        stats(arg, v, x->dtype, x->data, v->koff[k], &mean, &scale);
        for (int64_t j = 0; j < v->runs; j++)
            mo->affine(x->dtype, x->data, y->data, v->koff[k] + v->roff[j], v->L, mean, scale, 0.0,
                       0);
    }
}
