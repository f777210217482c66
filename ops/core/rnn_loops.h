/*
 * The template of RNN, GRU and LSTM's run, included by rnn.c once per
 * element type. Before including it, rnn.c defines
 *   T     the element type (float or double),
 *   SFX   its suffix (f32, f64),
 *   RNN_F32  1 when T is float (the products go to onn_sgemm), else 0.
 * It undefines all three at its end. No include guard: it is meant to be
 * included several times.
 */
#include "ops/core/threadpool.h"

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define V(name) CAT(name, SFX)
#ifndef RNN_SIMD
#define RNN_SIMD _Pragma("omp simd")
#endif

#if !RNN_F32
typedef struct V(gemm_job) {
    int64_t n, k, lda, ldb, ldc;
    const T *a, *b;
    T *c;
    bool acc;
} V(gemm_job);

/* Rows [i0, i1) of V(gemm_nt)'s product. */
static void V(gemm_rows)(void *arg, int64_t i0, int64_t i1, int worker)
{
    (void)worker;
    const V(gemm_job) *jb = arg;
    const int64_t n = jb->n, k = jb->k, lda = jb->lda, ldb = jb->ldb, ldc = jb->ldc;
    const T *a = jb->a, *b = jb->b;
    T *c = jb->c;
    for (int64_t i = i0; i < i1; i++)
        for (int64_t j = 0; j < n; j++) {
            const T *ar = a + i * lda, *br = b + j * ldb;
            T s = 0;
            for (int64_t p = 0; p < k; p++)
                s += ar[p] * br[p];
            c[i * ldc + j] = jb->acc ? c[i * ldc + j] + s : s;
        }
}
#endif

/* C[m,n] (row stride ldc) = A[m,k] * B[n,k]^T, added to C when acc. */
static void V(gemm_nt)(int threads, int64_t m, int64_t n, int64_t k, const T *a, int64_t lda,
                       const T *b, int64_t ldb, T *c, int64_t ldc, bool acc)
{
#if RNN_F32
    onn_sgemm(threads, false, true, m, n, k, 1.0f, a, lda, b, ldb, acc ? 1.0f : 0.0f, c, ldc);
#else
    const int nt = m * n * k >= (1 << 16) && m > 1 ? threads : 1;
    V(gemm_job) jb = {n, k, lda, ldb, ldc, a, b, c, acc};
    onn_parallel_range(nt, m, V(gemm_rows), &jb);
#endif
}

/* x[0..n) = act(clip(x)), clip <= 0 meaning none. */
static void V(act_apply)(const rnn_act *a, T *x, int64_t n, T clip)
{
    if (clip > 0)
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] < -clip ? -clip : x[i] > clip ? clip : x[i];
    const T al = (T)a->alpha, be = (T)a->beta;
    switch (a->kind) {
    case ACT_SIGMOID:
#if RNN_F32
        onn_act_row(ONN_ACT_SIGMOID, 0, 0, x, n); /* vectorized exp */
        break;
#endif
        for (int64_t i = 0; i < n; i++) {
            const T e = exp(-fabs(x[i])), r = (T)1 / ((T)1 + e);
            x[i] = x[i] >= 0 ? r : e * r;
        }
        break;
    case ACT_TANH:
#if RNN_F32
        onn_act_row(ONN_ACT_TANH, 0, 0, x, n);
        break;
#endif
        for (int64_t i = 0; i < n; i++)
            x[i] = tanh(x[i]);
        break;
    case ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] < 0 ? 0 : x[i];
        break;
    case ACT_HARDSIGMOID:
        for (int64_t i = 0; i < n; i++) {
            const T v = al * x[i] + be;
            x[i] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
        break;
    case ACT_LEAKYRELU:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] < 0 ? al * x[i] : x[i];
        break;
    case ACT_THRESHOLDEDRELU:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] < al ? 0 : x[i]; /* NaN stays NaN */
        break;
    case ACT_SCALEDTANH:
        for (int64_t i = 0; i < n; i++)
            x[i] = al * tanh(be * x[i]);
        break;
    case ACT_AFFINE:
        for (int64_t i = 0; i < n; i++)
            x[i] = al * x[i] + be;
        break;
    case ACT_ELU:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] < 0 ? al * expm1(x[i]) : x[i];
        break;
    case ACT_SOFTSIGN:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] / ((T)1 + fabs(x[i]));
        break;
    case ACT_SOFTPLUS:
        for (int64_t i = 0; i < n; i++)
            x[i] = (x[i] > 0 ? x[i] : 0) + log1p(exp(-fabs(x[i])));
        break;
    }
}

typedef struct V(step_job) {
    const rnn_cfg *cfg;
    int dir;
    int64_t t;
    const int32_t *lens;
    T *gates;
    int64_t ldg;
    T *hs, *cs, *tmp;
    const T *rbh, *p;
} V(step_job);

/* One direction's gate step for the batch rows [b0, b1) active at this step
 * (see rnn_run). g points at row b's gates, h and c at its state. */
static void V(step_range)(void *arg, int64_t b0, int64_t b1, int worker)
{
    (void)worker;
    const V(step_job) *jb = arg;
    const rnn_cfg *cfg = jb->cfg;
    const int64_t t = jb->t, ldg = jb->ldg;
    const int32_t *lens = jb->lens;
    T *gates = jb->gates, *hs = jb->hs, *cs = jb->cs, *tmp = jb->tmp;
    const T *rbh = jb->rbh, *p = jb->p;
    const int64_t H = cfg->hidden;
    const T clip = (T)cfg->clip;
    const rnn_act *f = &cfg->act[jb->dir][0], *g = &cfg->act[jb->dir][1],
                  *hact = &cfg->act[jb->dir][2];
    for (int64_t b = b0; b < b1; b++) {
        if (lens && t >= lens[b]) continue;
        T *gt = gates + b * ldg, *h = hs + b * H;
        if (cfg->kind == RNN_SIMPLE) {
            V(act_apply)(f, gt, H, clip);
            memcpy(h, gt, (size_t)H * sizeof *h);
        } else if (cfg->kind == RNN_LSTM) {
            T *gi = gt, *go = gt + H, *gf = gt + 2 * H, *gc = gt + 3 * H, *c = cs + b * H;
            T *hc = tmp + b * H;
            if (p) RNN_SIMD
            for (int64_t j = 0; j < H; j++)
                gi[j] += p[j] * c[j];
            V(act_apply)(f, gi, H, clip);
            if (cfg->input_forget) {
                RNN_SIMD
                for (int64_t j = 0; j < H; j++)
                    gf[j] = (T)1 - gi[j];
            } else {
                if (p) RNN_SIMD
                for (int64_t j = 0; j < H; j++)
                    gf[j] += p[2 * H + j] * c[j];
                V(act_apply)(f, gf, H, clip);
            }
            V(act_apply)(g, gc, H, clip);
            RNN_SIMD
            for (int64_t j = 0; j < H; j++)
                c[j] = gf[j] * c[j] + gi[j] * gc[j];
            if (p) RNN_SIMD
            for (int64_t j = 0; j < H; j++)
                go[j] += p[H + j] * c[j];
            V(act_apply)(f, go, H, clip);
            memcpy(hc, c, (size_t)H * sizeof *hc);
            V(act_apply)(hact, hc, H, clip);
            RNN_SIMD
            for (int64_t j = 0; j < H; j++)
                h[j] = go[j] * hc[j];
        } else { /* GRU: z and r were activated by V(gru_zr) */
            T *gz = gt, *gh = gt + 2 * H;
            if (cfg->lbr) {
                const T *gr = gt + H, *rh = tmp + b * H;
                RNN_SIMD
                for (int64_t j = 0; j < H; j++)
                    gh[j] += gr[j] * (rh[j] + (rbh ? rbh[j] : 0));
            }
            V(act_apply)(g, gh, H, clip);
            RNN_SIMD
            for (int64_t j = 0; j < H; j++)
                h[j] = ((T)1 - gz[j]) * gh[j] + gz[j] * h[j];
        }
    }
}

/* The step over every batch row, on nt threads. */
static void V(step_rows)(const rnn_cfg *cfg, int dir, int nt, int64_t t, const int32_t *lens,
                         T *gates, int64_t ldg, T *hs, T *cs, T *tmp, const T *rbh, const T *p)
{
    V(step_job) jb = {cfg, dir, t, lens, gates, ldg, hs, cs, tmp, rbh, p};
    onn_parallel_range(nt, cfg->batch, V(step_range), &jb);
}

typedef struct V(zr_job) {
    const rnn_cfg *cfg;
    int dir;
    int64_t t;
    const int32_t *lens;
    T *gates;
    int64_t ldg;
    const T *hs;
    T *tmp;
} V(zr_job);

/* V(gru_zr) for the batch rows [b0, b1). */
static void V(zr_range)(void *arg, int64_t b0, int64_t b1, int worker)
{
    (void)worker;
    const V(zr_job) *jb = arg;
    const rnn_cfg *cfg = jb->cfg;
    const int64_t H = cfg->hidden, t = jb->t, ldg = jb->ldg;
    const int32_t *lens = jb->lens;
    const T *hs = jb->hs;
    T *gates = jb->gates, *tmp = jb->tmp;
    for (int64_t b = b0; b < b1; b++) {
        T *gt = gates + b * ldg, *r = gt + H;
        if (lens && t >= lens[b]) {
            if (!cfg->lbr) memset(tmp + b * H, 0, (size_t)H * sizeof(T));
            continue;
        }
        V(act_apply)(&cfg->act[jb->dir][0], gt, 2 * H, (T)cfg->clip);
        if (!cfg->lbr) RNN_SIMD
        for (int64_t j = 0; j < H; j++)
            tmp[b * H + j] = r[j] * hs[b * H + j];
    }
}

/* GRU: activates z and r of the active rows; without linear_before_reset,
 * tmp = r (.) H_{t-1} for the product by Rh that follows. */
static void V(gru_zr)(const rnn_cfg *cfg, int dir, int nt, int64_t t, const int32_t *lens, T *gates,
                      int64_t ldg, const T *hs, T *tmp)
{
    V(zr_job) jb = {cfg, dir, t, lens, gates, ldg, hs, tmp};
    onn_parallel_range(nt, cfg->batch, V(zr_range), &jb);
}

typedef struct V(bias_job) {
    T *xw;
    const T *bsum;
    int64_t GH;
} V(bias_job);

/* Adds the summed biases to rows [r0, r1) of X W^T. */
static void V(bias_rows)(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const V(bias_job) *jb = arg;
    const int64_t GH = jb->GH;
    for (int64_t row = r0; row < r1; row++)
        for (int64_t j = 0; j < GH; j++)
            jb->xw[row * GH + j] += jb->bsum[j];
}

static onnorm_status V(rnn_run)(onn_kctx *ctx, const rnn_io *io, void *scratch)
{
    const rnn_cfg *cfg = ctx->state;
    const int64_t S = cfg->seq, B = cfg->batch, NI = cfg->input, H = cfg->hidden;
    const int64_t GH = cfg->gates * H, ndir = cfg->ndir;
    const T *x = io->x, *w = io->w, *r = io->r;
    const T *tb = io->b, *th0 = io->h0, *tc0 = io->c0, *tp = io->p;
    const onnorm_tensor *tl = io->lens;
    T *ty = io->y, *tyh = io->yh, *tyc = io->yc;

    T *xw = (T *)scratch, *tmp = xw + S * B * GH, *hs = tmp + B * GH, *cs = hs + B * H;
    T *bsum = cs + B * H, *rbh = bsum + GH;
    int32_t *lens = (int32_t *)(rbh + H);

    /* sequence_lens: values in [0, seq_length] */
    const int32_t *lp = NULL;
    if (tl) {
        for (int64_t b = 0; b < B; b++) {
            const int64_t v = tl->dtype == ONNORM_INT64 ? ((const int64_t *)tl->data)[b]
                                                        : ((const int32_t *)tl->data)[b];
            if (v < 0 || v > S)
                return onn_kfail(ctx, ONNORM_ERR_INVALID,
                                 "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b,
                                 (long long)v, (long long)S);
            lens[b] = (int32_t)v;
        }
        lp = lens;
    }

    const int nt_rows = onn_threads_for(ctx, B * GH * 16, B);
    const int64_t ldg = cfg->layout ? S * GH : GH; /* between batch rows at one step */
    for (int d = 0; d < ndir; d++) {
        const bool rev = cfg->reverse || d == 1;
        const T *wd = w + d * GH * NI, *rd = r + d * GH * H;
        const T *bd = tb ? tb + d * 2 * GH : NULL;
        const T *pd = tp ? tp + d * 3 * H : NULL;
        bool has_rbh = false;
        for (int64_t j = 0; j < GH; j++)
            bsum[j] = bd ? bd[j] + bd[GH + j] : 0;
        if (cfg->kind == RNN_GRU && cfg->lbr && bd) {
            /* Rbh is added inside r (.) (H Rh^T + Rbh) */
            for (int64_t j = 0; j < H; j++) {
                rbh[j] = bd[GH + 2 * H + j];
                bsum[2 * H + j] = bd[2 * H + j];
            }
            has_rbh = true;
        }
        /* X W^T + bias for every step at once; rows in X's own order */
        V(gemm_nt)(ctx->num_threads, S * B, GH, NI, x, NI, wd, NI, xw, GH, false);
        if (bd) {
            const int nt = onn_threads_for(ctx, S * B * GH, S * B);
            V(bias_job) jb = {xw, bsum, GH};
            onn_parallel_range(nt, S * B, V(bias_rows), &jb);
        }
        /* initial state */
        for (int64_t b = 0; b < B; b++) {
            const int64_t o = cfg->layout ? (b * ndir + d) * H : (d * B + b) * H;
            if (th0)
                memcpy(hs + b * H, th0 + o, (size_t)H * sizeof(T));
            else
                memset(hs + b * H, 0, (size_t)H * sizeof(T));
            if (tc0)
                memcpy(cs + b * H, tc0 + o, (size_t)H * sizeof(T));
            else
                memset(cs + b * H, 0, (size_t)H * sizeof(T));
        }
        for (int64_t s = 0; s < S; s++) {
            const int64_t t = rev ? S - 1 - s : s;
            T *gates = xw + (cfg->layout ? t * GH : t * B * GH);
            const int nt = ctx->num_threads;
            if (cfg->kind == RNN_GRU) {
                V(gemm_nt)(nt, B, 2 * H, H, hs, H, rd, H, gates, ldg, true);
                V(gru_zr)(cfg, d, nt_rows, t, lp, gates, ldg, hs, tmp);
                if (cfg->lbr)
                    V(gemm_nt)(nt, B, H, H, hs, H, rd + 2 * H * H, H, tmp, H, false);
                else
                    V(gemm_nt)(nt, B, H, H, tmp, H, rd + 2 * H * H, H, gates + 2 * H, ldg, true);
            } else {
                V(gemm_nt)(nt, B, GH, H, hs, H, rd, H, gates, ldg, true);
            }
            V(step_rows)(cfg, d, nt_rows, t, lp, gates, ldg, hs, cs, tmp, has_rbh ? rbh : NULL, pd);
            if (ty) {
                T *y = ty;
                for (int64_t b = 0; b < B; b++) {
                    T *dst = y + (cfg->layout ? ((b * S + t) * ndir + d) * H
                                              : ((t * ndir + d) * B + b) * H);
                    if (lp && t >= lp[b])
                        memset(dst, 0, (size_t)H * sizeof(T));
                    else
                        memcpy(dst, hs + b * H, (size_t)H * sizeof(T));
                }
            }
        }
        /* final states; a batch entry of length 0 gets zeros */
        for (int k = 0; k < 2; k++) {
            T *o = k == 0 ? tyh : tyc;
            if (!o) continue;
            const T *src = k == 0 ? hs : cs;
            for (int64_t b = 0; b < B; b++) {
                T *dst = o + (cfg->layout ? (b * ndir + d) * H : (d * B + b) * H);
                if (lp && lp[b] == 0)
                    memset(dst, 0, (size_t)H * sizeof(T));
                else
                    memcpy(dst, src + b * H, (size_t)H * sizeof(T));
            }
        }
    }
    return ONNORM_OK;
}

#undef V
#undef CAT
#undef CAT_
#undef T
#undef SFX
#undef RNN_F32
