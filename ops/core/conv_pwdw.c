/*
 * ExpandDepthwise (ai.onnorm, opset 1, float32): a 1x1 expansion and the
 * depthwise convolution over its output, as one node (the fuse-expand-dw
 * pass writes it for the inverted-residual blocks of MobileNetV2/V3,
 * MNASNet and EfficientNet):
 *
 *   X [N, C, H, W], W1 [E, C, 1, 1], B1 [E], W2 [E, 1, kh, kw], B2 [E]
 *   T = expand_activation(Conv(X, W1, B1))                 [N, E, H, W]
 *   Y = activation(Conv(T, W2, B2, group = E, kernel_shape, strides, pads,
 *                       dilations, auto_pad))                [N, E, OH, OW]
 *
 * B1 and B2 are optional; the activations are FusedConv's (epilogue.h),
 * named `expand_activation` / `expand_activation_params` for T and
 * `activation` / `activation_params` for Y.
 *
 * Why: at 112 x 112 and 56 x 56, T (4.8 MB for MobileNetV2's 96 channels)
 * went to memory from the expansion and came back for the depthwise pass,
 * which then had to split stride-2 rows into even and odd columns. Here T
 * never exists whole. A task is 8 expanded channels of a band of output
 * rows: the band's input rows of those channels are computed from X
 * straight into a zero-padded channels-last copy in scratch (8 channels of
 * one position side by side, the layout dwconv_cl.c builds by transposing),
 * the activation applied, and the depthwise taps then read one vector per
 * tap and position at any stride, and are transposed in registers into
 * the 8 output planes. Bands overlap by the window's reach, and those rows
 * of T are computed twice; a band is at least 8 times that reach, so the
 * extra expansion work stays under 1/8.
 *
 * The AVX2 + FMA code computes 12 positions x 8 channels of T per tile
 * (12 accumulators; per input channel one vector of W1 and 12 broadcasts
 * of X). Other CPUs run the same steps as plain loops.
 */
#include "ops/core/blas.h"
#include "ops/core/dwconv.h"
#include "ops/core/epilogue.h"
#include "ops/core/spatial.h"
#include "ops/core/threadpool.h"

#include <string.h>

#define CL 8          /* expanded channels per task: one AVX2 vector */
#define PW_NP 12      /* positions per expansion tile */
#define DW_CHUNK 64   /* output positions per activation pass */
#define MAX_TAPS 1024 /* the window's taps, as dwconv_cl.c */
/* A band's copy larger than this at one output row: too wide to plan. */
#define MAX_COPY_BYTES ((size_t)4 << 20)
/* Copies up to this size get bands of more rows than the reach asks. */
#define BAND_COPY_BYTES ((size_t)96 << 10)

bool onn_pwdw_plan_init(onn_pwdw_plan *p, int64_t c, int64_t e, const onn_dwconv_shape *s)
{
    memset(p, 0, sizeof *p);
    if (c < 1 || e < 1 || s->h < 1 || s->w < 1 || s->oh < 1 || s->ow < 1 || s->kh < 1 ||
        s->kw < 1 || s->sh < 1 || s->sw < 1 || s->dh < 1 || s->dw < 1 || s->pad_top < 0 ||
        s->pad_left < 0 || s->kh * s->kw > MAX_TAPS || c > (1 << 20) || e > (1 << 24) ||
        s->w > (1 << 24) || s->ow > (1 << 24) || s->oh > (1 << 24) || s->sh > (1 << 12) ||
        s->dh > (1 << 12) || s->kh > (1 << 12) || s->sw > (1 << 12) || s->dw > (1 << 12) ||
        s->kw > (1 << 12))
        return false;
    p->c = c, p->e = e, p->s = *s;
    p->epad = (e + CL - 1) / CL * CL;
    p->wp = (s->ow - 1) * s->sw + (s->kw - 1) * s->dw + 1;
    const int64_t reach = (s->kh - 1) * s->dh; /* input rows a band reads beyond its own */
    const size_t row_bytes = (size_t)p->wp * CL * sizeof(float);
    if (row_bytes > MAX_COPY_BYTES || (size_t)(reach + 1) > MAX_COPY_BYTES / row_bytes)
        return false;
    /* At least 8 times the reach in input rows, more while the copy stays
     * small, never more than the plane. */
    int64_t band = reach > 0 ? (8 * reach + s->sh - 1) / s->sh : 8;
    while (band < s->oh &&
           (size_t)((2 * band - 1) * s->sh + reach + 1) * row_bytes <= BAND_COPY_BYTES)
        band *= 2;
    if (band > s->oh) band = s->oh;
    while (band > 1 && (size_t)((band - 1) * s->sh + reach + 1) * row_bytes > MAX_COPY_BYTES)
        band /= 2;
    p->band = band;
    p->rows = (band - 1) * s->sh + reach + 1;
    p->packed_floats = (size_t)(c + s->kh * s->kw) * (size_t)p->epad;
    p->scratch_bytes = ((size_t)p->rows * row_bytes + 63) / 64 * 64;
    return true;
}

void onn_pwdw_pack(const onn_pwdw_plan *p, const float *w1, const float *w2, float *packed)
{
    const int64_t taps = p->s.kh * p->s.kw;
    /* W1 as [c][epad], W2 as [epad / 8][taps][8], zeros past e */
    for (int64_t ci = 0; ci < p->c; ci++)
        for (int64_t ei = 0; ei < p->epad; ei++)
            packed[ci * p->epad + ei] = ei < p->e ? w1[ei * p->c + ci] : 0.0f;
    float *w2p = packed + p->c * p->epad;
    for (int64_t b = 0; b < p->epad / CL; b++)
        for (int64_t t = 0; t < taps; t++)
            for (int i = 0; i < CL; i++) {
                const int64_t ei = b * CL + i;
                w2p[(b * taps + t) * CL + i] = ei < p->e ? w2[ei * taps + t] : 0.0f;
            }
}

/* What a task works on. */
typedef struct pwdw_task {
    const onn_pwdw_plan *p;
    const float *x;       /* the image's c input planes */
    const float *w1, *w2; /* w1: column e0 of the packed [c][epad]; w2: the block's taps */
    float b1[CL], b2[CL]; /* the block's biases, zeros past e */
    const onn_epilogue *ep1, *ep2;
    float *y; /* output plane of channel e0, at row oy0 */
    int64_t oy0, oy1, ne;
    float *buf; /* the band's channels-last copy */
} pwdw_task;

typedef void (*expand_fn)(const pwdw_task *t, int64_t iy, float *dst, int64_t n);
typedef void (*taps_fn)(const pwdw_task *t, const int64_t *off, int64_t taps);

/* The band's input rows from oy0 * sh - pad_top: for each, the expansion
 * of the columns the window reaches (zeros elsewhere, and for rows outside
 * X), activation applied. */
static void expand_band(const pwdw_task *t, expand_fn row)
{
    const onn_dwconv_shape *s = &t->p->s;
    const int64_t wp = t->p->wp, pl = s->pad_left, iy_lo = t->oy0 * s->sh - s->pad_top;
    const int64_t n_rows = (t->oy1 - t->oy0 - 1) * s->sh + (s->kh - 1) * s->dh + 1;
    int64_t xhi = wp - pl < s->w ? wp - pl : s->w; /* columns computed */
    if (xhi < 0) xhi = 0;
    for (int64_t i = 0; i < n_rows; i++) {
        float *r = t->buf + i * wp * CL;
        const int64_t iy = iy_lo + i;
        if (iy < 0 || iy >= s->h || xhi == 0) {
            memset(r, 0, (size_t)(wp * CL) * sizeof *r);
            continue;
        }
        memset(r, 0, (size_t)(pl < wp ? pl : wp) * CL * sizeof *r);
        if (pl + xhi < wp)
            memset(r + (pl + xhi) * CL, 0, (size_t)((wp - pl - xhi) * CL) * sizeof *r);
        row(t, iy, r + pl * CL, xhi);
        onn_act_row_fast(t->ep1->act, t->ep1->alpha, t->ep1->beta, r + pl * CL, xhi * CL);
    }
}

/* The depthwise stage over the band's copy, then its activation. */
static void depthwise_band(const pwdw_task *t, taps_fn taps_of)
{
    const onn_dwconv_shape *s = &t->p->s;
    const int64_t taps = s->kh * s->kw;
    int64_t off[MAX_TAPS];
    for (int64_t k = 0; k < taps; k++)
        off[k] = (k / s->kw * s->dh * t->p->wp + k % s->kw * s->dw) * CL;
    taps_of(t, off, taps);
}

static void act_chunk(const pwdw_task *t, int64_t q0, int64_t q1)
{
    if (t->ep2->act == ONN_ACT_NONE) return;
    const int64_t plane = t->p->s.oh * t->p->s.ow;
    for (int64_t i = 0; i < t->ne; i++)
        onn_act_row_fast(t->ep2->act, t->ep2->alpha, t->ep2->beta, t->y + i * plane + q0, q1 - q0);
}

/* ---- portable ------------------------------------------------------------ */

static void expand_row_scalar(const pwdw_task *t, int64_t iy, float *dst, int64_t n)
{
    const onn_pwdw_plan *p = t->p;
    const int64_t xs = p->s.h * p->s.w;
    const float *xr = t->x + iy * p->s.w;
    for (int64_t j = 0; j < n; j++)
        for (int i = 0; i < CL; i++) {
            float acc = t->b1[i];
            for (int64_t ci = 0; ci < p->c; ci++)
                acc += t->w1[ci * p->epad + i] * xr[ci * xs + j];
            dst[j * CL + i] = acc;
        }
}

static void taps_scalar(const pwdw_task *t, const int64_t *off, int64_t taps)
{
    const onn_dwconv_shape *s = &t->p->s;
    const int64_t plane = s->oh * s->ow, nq = (t->oy1 - t->oy0) * s->ow;
    for (int64_t q0 = 0; q0 < nq; q0 += DW_CHUNK) {
        const int64_t q1 = nq - q0 < DW_CHUNK ? nq : q0 + DW_CHUNK;
        for (int64_t q = q0; q < q1; q++) {
            const int64_t ly = q / s->ow, ox = q % s->ow;
            const float *b = t->buf + (ly * s->sh * t->p->wp + ox * s->sw) * CL;
            for (int64_t i = 0; i < t->ne; i++) {
                float acc = t->b2[i];
                for (int64_t k = 0; k < taps; k++)
                    acc += t->w2[k * CL + i] * b[off[k] + i];
                t->y[i * plane + q] = acc;
            }
        }
        act_chunk(t, q0, q1);
    }
}

/* ---- AVX2 + FMA ------------------------------------------------------------ */

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

ONN_TARGET_AVX2_BEGIN
#include "ops/core/avx2_lanes.h"

/* np positions (a constant) of one input row from x: 8 channels each. */
static inline __attribute__((always_inline)) void expand_tile(const int np, const float *x,
                                                              int64_t xs, int64_t c, const float *w,
                                                              int64_t ws, __m256 b, float *dst)
{
    __m256 acc[PW_NP];
#pragma GCC unroll 12
    for (int j = 0; j < np; j++)
        acc[j] = b;
    for (int64_t ci = 0; ci < c; ci++) {
        const __m256 wv = _mm256_loadu_ps(w + ci * ws);
        const float *xc = x + ci * xs;
#pragma GCC unroll 12
        for (int j = 0; j < np; j++)
            acc[j] = _mm256_fmadd_ps(wv, _mm256_broadcast_ss(xc + j), acc[j]);
    }
#pragma GCC unroll 12
    for (int j = 0; j < np; j++)
        _mm256_storeu_ps(dst + j * CL, acc[j]);
}

static void expand_row_avx2(const pwdw_task *t, int64_t iy, float *dst, int64_t n)
{
    const onn_pwdw_plan *p = t->p;
    const int64_t xs = p->s.h * p->s.w;
    const float *xr = t->x + iy * p->s.w;
    const __m256 b = _mm256_loadu_ps(t->b1);
    int64_t j = 0;
    for (; j + PW_NP <= n; j += PW_NP)
        expand_tile(PW_NP, xr + j, xs, p->c, t->w1, p->epad, b, dst + j * CL);
    for (; j + 4 <= n; j += 4)
        expand_tile(4, xr + j, xs, p->c, t->w1, p->epad, b, dst + j * CL);
    for (; j < n; j++)
        expand_tile(1, xr + j, xs, p->c, t->w1, p->epad, b, dst + j * CL);
}

/* As dwconv_cl.c's block: 8 positions at a time in order over the band,
 * each tap one vector of the 8 channels, the 8 x 8 results transposed
 * into the channels' output planes. */
static void taps_avx2(const pwdw_task *t, const int64_t *off, int64_t taps)
{
    const onn_dwconv_shape *s = &t->p->s;
    const int64_t plane = s->oh * s->ow, nq = (t->oy1 - t->oy0) * s->ow, wp = t->p->wp;
    int64_t ly = 0, ox = 0; /* of the next position */
    for (int64_t q0 = 0; q0 < nq; q0 += DW_CHUNK) {
        const int64_t q1 = nq - q0 < DW_CHUNK ? nq : q0 + DW_CHUNK;
        for (int64_t j0 = q0; j0 < q1; j0 += CL) {
            const int64_t n = q1 - j0 < CL ? q1 - j0 : CL;
            /* each position's first tap; positions past the chunk repeat
             * its last one (computed, never stored) */
            const float *b[CL];
            for (int u = 0; u < CL; u++) {
                b[u] = t->buf + (ly * s->sh * wp + ox * s->sw) * CL;
                if (u + 1 < n && ++ox == s->ow) ox = 0, ly++;
            }
            if (++ox == s->ow) ox = 0, ly++;
            __m256 r[CL];
            onn_avx2_cl_taps(b, t->w2, off, taps, r);
            onn_avx2_transpose8(r);
            for (int64_t i = 0; i < t->ne; i++) {
                const __m256 v = _mm256_add_ps(r[i], _mm256_set1_ps(t->b2[i]));
                float *yr = t->y + i * plane + j0;
                if (n == CL) {
                    _mm256_storeu_ps(yr, v);
                } else {
                    float tmp[CL];
                    _mm256_storeu_ps(tmp, v);
                    memcpy(yr, tmp, (size_t)n * sizeof *yr);
                }
            }
        }
        act_chunk(t, q0, q1);
    }
}
ONN_TARGET_END
#endif

bool onn_pwdw_fast(onn_isa isa)
{
#ifdef ONN_HAVE_X86_VARIANTS
    return (isa == ONN_ISA_AVX2 || isa == ONN_ISA_AVX512) && onn_isa_supported(ONN_ISA_AVX2);
#else
    (void)isa;
    return false;
#endif
}

void onn_pwdw_run(const onn_pwdw_plan *p, const float *x, const float *packed,
                  const onn_epilogue *ep1, const onn_epilogue *ep2, float *y, int64_t oy0,
                  int64_t oy1, int64_t e0, float *scratch, bool fast)
{
    const int64_t taps = p->s.kh * p->s.kw;
    pwdw_task t = {.p = p,
                   .x = x,
                   .w1 = packed + e0,
                   .w2 = packed + p->c * p->epad + e0 * taps,
                   .ep1 = ep1,
                   .ep2 = ep2,
                   .y = y + e0 * p->s.oh * p->s.ow + oy0 * p->s.ow,
                   .oy0 = oy0,
                   .oy1 = oy1,
                   .ne = p->e - e0 < CL ? p->e - e0 : CL,
                   .buf = scratch};
    for (int i = 0; i < CL; i++) {
        t.b1[i] = ep1->bias && i < t.ne ? ep1->bias[e0 + i] : 0.0f;
        t.b2[i] = ep2->bias && i < t.ne ? ep2->bias[e0 + i] : 0.0f;
    }
#ifdef ONN_HAVE_X86_VARIANTS
    if (fast) {
        expand_band(&t, expand_row_avx2);
        depthwise_band(&t, taps_avx2);
        return;
    }
#else
    (void)fast;
#endif
    expand_band(&t, expand_row_scalar);
    depthwise_band(&t, taps_scalar);
}

/* ---- the ai.onnorm ExpandDepthwise node ------------------------------------- */

typedef struct pwdw_cfg {
    int64_t n, c, e;
    onn_geom g; /* the depthwise stage: sampled = X's extents, grid = Y's */
    onn_pwdw_plan plan;
    onn_epilogue ep1, ep2; /* their biases set per run */
    const float *packed;
    bool fast;
    int64_t bands, blocks;
} pwdw_cfg;

static onnorm_status pwdw_config(onn_kctx *ctx)
{
    pwdw_cfg *cfg = ctx->state;
    onnorm_status st;
    if (!onn_has_input(ctx, 3))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "W2 (input 3) is required");
    if ((st = onn_check_f32(ctx, 0, "X")) || (st = onn_check_f32(ctx, 1, "W1")) ||
        (st = onn_check_f32(ctx, 3, "W2")))
        return st;
    const onnorm_tensor *x = ctx->in[0], *w1 = ctx->in[1], *w2 = ctx->in[3];
    char xs[128], ws[128];
    if (x->rank != 4 || w1->rank != 4 || w2->rank != 4)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "X %s, W1 and W2 must have rank 4 (a 2-D convolution), got W1 of rank "
                         "%d and W2 of rank %d",
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs), w1->rank, w2->rank);
    cfg->n = x->dims[0], cfg->c = x->dims[1], cfg->e = w1->dims[0];
    if (w1->dims[1] != cfg->c || w1->dims[2] != 1 || w1->dims[3] != 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "W1 %s must be [E, %lld, 1, 1] for X %s",
                         onn_shape_str(w1->dims, w1->rank, ws, sizeof ws), (long long)cfg->c,
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    if (w2->dims[0] != cfg->e || w2->dims[1] != 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "W2 %s must be [%lld, 1, kh, kw]",
                         onn_shape_str(w2->dims, w2->rank, ws, sizeof ws), (long long)cfg->e);
    int64_t group;
    if ((st = onn_kattr_int(ctx, "group", cfg->e, &group))) return st;
    if (group != cfg->e)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "group %lld must equal the %lld expanded channels (a depthwise stage)",
                         (long long)group, (long long)cfg->e);
    if ((onn_has_input(ctx, 2) && (st = onn_check_param(ctx, 2, "B1", cfg->e, ONNORM_FLOAT))) ||
        (onn_has_input(ctx, 4) && (st = onn_check_param(ctx, 4, "B2", cfg->e, ONNORM_FLOAT))))
        return st;
    onn_win_attrs a;
    if ((st = onn_win_read(ctx, 2, w2->dims + 2, true, &a)) ||
        (st = onn_geom_forward(ctx, &a, x->dims + 2, false, &cfg->g)) ||
        (st = onn_epilogue_config(ctx, &cfg->ep2)) ||
        (st = onn_epilogue_config_named(ctx, "expand_activation", "expand_activation_params",
                                        &cfg->ep1)))
        return st;
    const onn_geom *g = &cfg->g;
    const onn_dwconv_shape s = onn_dwconv_shape_of(g);
    if (cfg->n > 0 && !onn_pwdw_plan_init(&cfg->plan, cfg->c, cfg->e, &s))
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "ExpandDepthwise cannot plan X %s with a %lldx%lld window (negative "
                         "padding, an empty plane, or rows too wide)",
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs), (long long)s.kh,
                         (long long)s.kw);
    onn_kflops(ctx, 2.0 * (double)cfg->n * (double)cfg->e *
                        ((double)g->sampled_size * (double)cfg->c +
                         (double)g->grid_size * (double)g->kernel_size));
    return ONNORM_OK;
}

static onnorm_status pwdw_infer(onn_kctx *ctx)
{
    const pwdw_cfg *cfg = ctx->state;
    onn_set_window_output(ctx, 0, ONNORM_FLOAT, cfg->n, cfg->e, 2, cfg->g.grid);
    return ONNORM_OK;
}

/* The weights packed once (they must be constants), a copy per thread. */
static onnorm_status pwdw_prepare(onn_kctx *ctx)
{
    pwdw_cfg *cfg = ctx->state;
    if (cfg->n == 0) return ONNORM_OK;
    if (!ctx->in[1]->data || !ctx->in[3]->data)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "W1 and W2 must be constants");
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, cfg->plan.packed_floats, sizeof(float), 1, &bytes);
    if (st) return st;
    float *packed = onn_kalloc(ctx, bytes);
    if (!packed) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    onn_pwdw_pack(&cfg->plan, ctx->in[1]->data, ctx->in[3]->data, packed);
    cfg->packed = packed;
    cfg->fast = onn_pwdw_fast(onn_isa_active());
    cfg->bands = (cfg->plan.s.oh + cfg->plan.band - 1) / cfg->plan.band;
    cfg->blocks = cfg->plan.epad / CL;
    if ((st = onn_kbytes(ctx, (size_t)ctx->num_threads, cfg->plan.scratch_bytes, 1, &bytes)))
        return st;
    onn_kscratch_need(ctx, bytes);
    return ONNORM_OK;
}

typedef struct pwdw_job {
    const pwdw_cfg *cfg;
    const float *x;
    float *y;
    const onn_epilogue *ep1, *ep2;
    char *scratch;
} pwdw_job;

/* Task t: image, band of output rows, block of 8 expanded channels (the
 * blocks of a band next to each other, so that the band's rows of X stay
 * in cache while they are read for every block). */
static void pwdw_task_run(void *arg, int64_t t, int worker)
{
    const pwdw_job *j = arg;
    const pwdw_cfg *cfg = j->cfg;
    const onn_pwdw_plan *p = &cfg->plan;
    const int64_t per_image = cfg->bands * cfg->blocks, n = t / per_image;
    const int64_t band = t % per_image / cfg->blocks, e0 = t % cfg->blocks * CL;
    const int64_t oy0 = band * p->band, oy1 = oy0 + p->band < p->s.oh ? oy0 + p->band : p->s.oh;
    onn_pwdw_run(p, j->x + n * cfg->c * cfg->g.sampled_size, cfg->packed, j->ep1, j->ep2,
                 j->y + n * cfg->e * cfg->g.grid_size, oy0, oy1, e0,
                 (float *)(j->scratch + (size_t)worker * p->scratch_bytes), cfg->fast);
}

static onnorm_status pwdw_run(onn_kctx *ctx)
{
    const pwdw_cfg *cfg = ctx->state;
    if (!ctx->out[0] || cfg->n == 0) return ONNORM_OK;
    onn_epilogue ep1 = cfg->ep1, ep2 = cfg->ep2;
    const onnorm_tensor *b1 = onn_opt_input(ctx, 2), *b2 = onn_opt_input(ctx, 4);
    ep1.bias = b1 ? b1->data : NULL;
    ep2.bias = b2 ? b2->data : NULL;
    pwdw_job j = {cfg, ctx->in[0]->data, ctx->out[0]->data, &ep1, &ep2, ctx->scratch};
    const int64_t tasks = cfg->n * cfg->bands * cfg->blocks;
    onn_parallel_for(onn_threads_for(ctx, cfg->n * cfg->e * cfg->g.sampled_size * cfg->c, tasks),
                     tasks, pwdw_task_run, &j);
    return ONNORM_OK;
}

ONN_KERNEL_TABLE(pwdw, {ONN_KERNEL("ai.onnorm", "ExpandDepthwise", 1, 2, 5, 1, 1, pwdw_infer,
                                   pwdw_prepare, pwdw_run),
                        .config = pwdw_config, .state_size = sizeof(pwdw_cfg)});
