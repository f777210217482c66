/*
 * Conv, opset 1 on (float32), 1-D to 6-D spatial.
 *
 *   X [N, C, D1..Dn], W [M, C/group, k1..kn], optional B [M] -> Y [N, M, O1..On]
 *
 * Conv-11 and -22 compute what Conv-1 does (11 restated the auto_pad and
 * default texts, 22 added types), so one entry serves every opset.
 *
 * Per image and group, Y_g[M/g, O] = W_g[M/g, C/g*K] * col[C/g*K, O], where
 * col (im2col) holds for each input channel and kernel offset the input
 * values every output position sees there (zeros in the padding); the
 * product is one sgemm. A 1x1, stride-1, unpadded convolution needs no col:
 * X itself is that matrix. Depthwise convolutions (one input channel per
 * group) would make per-group products too thin for BLAS, so they run
 * directly: 2-D ones plane by plane with the kernels of dwconv.h, which
 * apply the bias (and later a fused activation) as they store; others as
 * a loop where each output plane accumulates weight * shifted input line
 * by line. On the other paths Y starts as the bias so the products
 * accumulate onto it.
 *
 * config reads the attributes and shapes into the state (channels and the
 * geometry); prepare picks one of five paths from the geometry and the
 * thread count (2-D depthwise, depthwise, shifted products, pointwise,
 * im2col; see conv_prepare) and declares the scratch the chosen path needs.
 */
#include "ops/core/blas.h"
#include "ops/core/dwconv.h"
#include "ops/core/epilogue.h"
#include "ops/core/sgemm.h"
#include "ops/core/spatial.h"

#include "ops/core/threadpool.h"
#include <string.h>

typedef enum conv_path {
    CONV_IM2COL,    /* one product per image and group over the col matrix (scratch) */
    CONV_POINTWISE, /* the same, X's planes being the col matrix */
    CONV_SHIFTED,   /* one product per kernel offset over a padded copy of X (scratch) */
    CONV_DEPTHWISE, /* direct loop, one input channel per group */
    CONV_DWPLANE,   /* 2-D depthwise: dwconv.h's plane kernels (scratch per thread) */
    CONV_DWCL,      /* 2-D depthwise, 8 channels at a time channels-last (dwconv_cl.c) */
    CONV_PW,        /* 1x1 over few input channels, X and W in place (conv_pw.c) */
    CONV_PWROW,     /* 2-D, C * kh * kw small: output rows gathered, then as CONV_PW */
    CONV_PACKED     /* sgemm.h's engine: W packed at prepare, B read from X, fused epilogue */
} conv_path;

typedef struct conv_cfg {
    int64_t n, c, m, group;
    int64_t cg, mg; /* input and output channels per group */
    onn_geom g;     /* sampled = X's spatial extents, grid = Y's */
    conv_path path;
    size_t n_xp, n_yp;    /* CONV_SHIFTED: floats of the padded X and of Yp in scratch */
    onn_dwconv_plan dw;   /* CONV_DWPLANE, and CONV_DWCL's last channels (fewer than 8) */
    onn_dwcl_plan dwcl;   /* CONV_DWCL */
    onn_pwrow_plan pwrow; /* CONV_PWROW */
    onn_pw_split pws;     /* CONV_PW */
    /* FusedConv's activation (NONE for Conv); CONV_DWPLANE applies it, and
     * the bias input, before its stores, the other paths after the product
     * (their Y starts as the bias). */
    onn_epilogue ep;
    bool residual; /* FusedConv's Z is given */
    /* CONV_PACKED: the plan of sgemm.h's whole convolution (W packed in it). */
    const onn_sgemm_engine *eng;
    onn_sgemm_conv sc;
} conv_cfg;

static onnorm_status check_channels(onn_kctx *ctx, conv_cfg *cfg)
{
    const onnorm_tensor *x = ctx->in[0], *w = ctx->in[1];
    char xs[128], ws[128];
    onnorm_status st = onn_window_inputs(ctx, &cfg->group);
    if (st) return st;
    cfg->n = x->dims[0], cfg->c = x->dims[1], cfg->m = w->dims[0];
    if (cfg->group < 1 || cfg->c % cfg->group || cfg->m % cfg->group)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "group %lld must be >= 1 and divide both the %lld input and the %lld "
                         "output channels",
                         (long long)cfg->group, (long long)cfg->c, (long long)cfg->m);
    cfg->cg = cfg->c / cfg->group, cfg->mg = cfg->m / cfg->group;
    if (w->dims[1] != cfg->cg)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "W %s has %lld input channels per group; X %s with group %lld needs %lld",
                         onn_shape_str(w->dims, w->rank, ws, sizeof ws), (long long)w->dims[1],
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs), (long long)cfg->group,
                         (long long)cfg->cg);
    return ONNORM_OK;
}

static onnorm_status conv_config(onn_kctx *ctx)
{
    conv_cfg *cfg = ctx->state;
    onnorm_status st;
    if ((st = check_channels(ctx, cfg)) || (st = onn_check_window_bias(ctx, cfg->m))) return st;
    const onnorm_tensor *x = ctx->in[0], *w = ctx->in[1];
    onn_win_attrs a;
    if ((st = onn_win_read(ctx, x->rank - 2, w->dims + 2, true, &a)) ||
        (st = onn_geom_forward(ctx, &a, x->dims + 2, false, &cfg->g)))
        return st;
    onn_kflops(ctx, 2.0 * (double)cfg->n * (double)cfg->m * (double)cfg->g.grid_size *
                        (double)cfg->cg * (double)cfg->g.kernel_size);
    return onn_check_window_gemm(ctx, cfg->cg, cfg->g.kernel_size, cfg->mg, cfg->g.grid_size);
}

/* FusedConv (com.microsoft): Conv's attributes plus the activation and
 * its parameters, and Z, a tensor of Y's shape added before it. */
static onnorm_status fused_config(onn_kctx *ctx)
{
    conv_cfg *cfg = ctx->state;
    onnorm_status st = conv_config(ctx);
    if (st || (st = onn_epilogue_config(ctx, &cfg->ep))) return st;
    cfg->residual = onn_has_input(ctx, 3);
    if (cfg->residual) {
        const onnorm_tensor *z = ctx->in[3];
        int64_t dims[ONNORM_MAX_RANK] = {cfg->n, cfg->m};
        memcpy(dims + 2, cfg->g.grid, (size_t)cfg->g.nsp * sizeof *dims);
        bool same = z->dtype == ONNORM_FLOAT && z->rank == cfg->g.nsp + 2;
        for (int i = 0; same && i < z->rank; i++)
            same = z->dims[i] == dims[i];
        if (!same) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "Z must be float32 of Y's shape");
    }
    return ONNORM_OK;
}

static onnorm_status conv_infer(onn_kctx *ctx)
{
    const conv_cfg *cfg = ctx->state;
    onn_set_window_output(ctx, 0, ONNORM_FLOAT, cfg->n, cfg->m, cfg->g.nsp, cfg->g.grid);
    return ONNORM_OK;
}

/* One row of col: input plane x seen at kernel offset k by every output
 * position, zero where that falls in the padding. */
static void im2col_row(const onn_geom *g, const float *x, int64_t k, float *dst)
{
    const int64_t len = g->line_len;
    onn_lines it;
    for (onn_lines_start(&it, g, k); it.line < g->n_lines; onn_lines_next(&it), dst += len) {
        int64_t base = 0, lo = it.lo, hi = it.hi, s = it.step;
        if (!onn_lines_base(&it, &base)) lo = hi = len;
        for (int64_t j = 0; j < lo; j++)
            dst[j] = 0.0f;
        if (s == 1 && hi > lo)
            memcpy(dst + lo, x + base + lo, (size_t)(hi - lo) * sizeof *dst);
        else
            for (int64_t j = lo; j < hi; j++)
                dst[j] = x[base + j * s];
        for (int64_t j = hi; j < len; j++)
            dst[j] = 0.0f;
    }
}

/* The 2-D case of im2col_row without the general line iterator: most
 * convolutions are 2-D, and their rows are often short (8 or 16 wide), where
 * the iterator's bookkeeping outweighed the copying. */
static void im2col_row_2d(const onn_geom *g, const float *x, int64_t k, float *dst)
{
    const int64_t kh = k / g->kernel[1], kw = k % g->kernel[1];
    const int64_t H = g->sampled[0], W = g->sampled[1], OH = g->grid[0], OW = g->grid[1];
    const int64_t sh = g->stride[0], sw = g->stride[1];
    const int64_t ih0 = kh * g->dilation[0] - g->pad_lo[0];
    const int64_t iw0 = kw * g->dilation[1] - g->pad_lo[1];
    /* Output columns [lo, hi) read inside the row: 0 <= iw0 + j * sw < W. */
    int64_t lo = iw0 < 0 ? onn_ceil_div(-iw0, sw) : 0;
    int64_t hi = iw0 >= W ? 0 : (W - 1 - iw0) / sw + 1;
    if (hi > OW) hi = OW;
    if (lo > hi) lo = hi;
    for (int64_t oh = 0; oh < OH; oh++, dst += OW) {
        const int64_t ih = ih0 + oh * sh;
        if (ih < 0 || ih >= H) {
            memset(dst, 0, (size_t)OW * sizeof *dst);
            continue;
        }
        const float *src = x + ih * W + iw0;
        for (int64_t j = 0; j < lo; j++)
            dst[j] = 0.0f;
        if (sw == 1 && hi > lo)
            memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof *dst);
        else
            for (int64_t j = lo; j < hi; j++)
                dst[j] = src[j * sw];
        for (int64_t j = hi; j < OW; j++)
            dst[j] = 0.0f;
    }
}

typedef struct im2col_job {
    const onn_geom *g;
    const float *x;
    float *col;
} im2col_job;

static void im2col_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const im2col_job *j = arg;
    const onn_geom *g = j->g;
    for (int64_t r = r0; r < r1; r++) {
        const float *plane = j->x + (r / g->kernel_size) * g->sampled_size;
        if (g->nsp == 2)
            im2col_row_2d(g, plane, r % g->kernel_size, j->col + r * g->grid_size);
        else
            im2col_row(g, plane, r % g->kernel_size, j->col + r * g->grid_size);
    }
}

static void im2col(onn_kctx *ctx, const onn_geom *g, const float *x, int64_t channels, float *col)
{
    const int64_t rows = channels * g->kernel_size;
    im2col_job j = {g, x, col};
    onn_parallel_range(onn_threads_for(ctx, rows * g->grid_size, rows), rows, im2col_rows, &j);
}

/* True when X's planes already are the col matrix. */
static bool is_pointwise(const onn_geom *g)
{
    for (int i = 0; i < g->nsp; i++)
        if (g->kernel[i] != 1 || g->stride[i] != 1 || g->pad_lo[i] || g->pad_hi[i]) return false;
    return true;
}

/* 2-D, stride 1, dilation 1, a kernel larger than 1x1: im2col's copies
 * would cost more than the products at the small sizes exported networks
 * use. Instead X is copied once into a zero-bordered plane Xp [C, Hp, Wp],
 * and for each kernel offset (kh, kw) the matrix "Xp shifted by kh rows and
 * kw columns" is a plain strided view of Xp with leading dimension Hp*Wp.
 * Its product with W's [M, C] slice for that offset accumulates into
 * Yp [M, OH * Wp]; the columns ow >= OW of every row are junk (they wrap
 * into the next row) and are dropped when Yp is added onto Y. */
/* Up to this many output positions the shifted products beat im2col at any
 * thread count; beyond it they still win on one thread, while im2col's one
 * large product parallelizes better (measured on 64-channel 3x3 convs). */
#define ONN_SHIFT_GEMM_MAX_GRID 1024

static bool shift_gemm_fits(const onn_geom *g, int threads)
{
    if (g->nsp != 2 || g->stride[0] != 1 || g->stride[1] != 1 || g->dilation[0] != 1 ||
        g->dilation[1] != 1 || g->kernel_size < 2 || g->pad_lo[0] < 0 || g->pad_lo[1] < 0 ||
        g->pad_hi[0] < 0 || g->pad_hi[1] < 0)
        return false;
    const int64_t wp = g->sampled[1] + g->pad_lo[1] + g->pad_hi[1];
    const int64_t hp = g->sampled[0] + g->pad_lo[0] + g->pad_hi[0];
    return (g->grid_size <= ONN_SHIFT_GEMM_MAX_GRID || threads == 1) && onn_blas_fits(hp * wp) &&
           onn_blas_fits(g->grid[0] * wp);
}

/* The shifted products' scratch holds three buffers: the padded X
 * [cg, Hp, Wp] with KW floats of slack (the last channel's junk columns read
 * up to KW - 1 past it), Yp [mg, OH * Wp] and W regrouped as K matrices
 * [mg, cg]. */
static onnorm_status shift_gemm_scratch(onn_kctx *ctx, conv_cfg *cfg)
{
    const onn_geom *g = &cfg->g;
    const int64_t Hp = g->sampled[0] + g->pad_lo[0] + g->pad_hi[0];
    const int64_t Wp = g->sampled[1] + g->pad_lo[1] + g->pad_hi[1];
    /* Each product has two factors below 2^31 (shift_gemm_fits and
     * onn_check_window_gemm), so the float counts and their sum fit. */
    cfg->n_xp = (size_t)(cfg->cg * (Hp * Wp) + g->kernel[1]);
    cfg->n_yp = (size_t)(cfg->mg * (g->grid[0] * Wp));
    const size_t n_wk = (size_t)cfg->mg * (size_t)(cfg->cg * g->kernel_size);
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, cfg->n_xp + cfg->n_yp + n_wk, sizeof(float), 1, &bytes);
    if (!st) onn_kscratch_need(ctx, bytes);
    return st;
}

static void run_shift_gemm(onn_kctx *ctx, const conv_cfg *cfg, const float *x, const float *w,
                           float *y)
{
    const onn_geom *g = &cfg->g;
    const int64_t H = g->sampled[0], W = g->sampled[1], OH = g->grid[0], OW = g->grid[1];
    const int64_t KH = g->kernel[0], KW = g->kernel[1], K = KH * KW;
    const int64_t Hp = H + g->pad_lo[0] + g->pad_hi[0], Wp = W + g->pad_lo[1] + g->pad_hi[1];
    const int64_t cg = cfg->cg, mg = cfg->mg, plane = Hp * Wp, ncols = OH * Wp;
    float *xp = ctx->scratch, *yp = xp + cfg->n_xp, *wk = yp + cfg->n_yp;
    memset(xp, 0, cfg->n_xp * sizeof *xp); /* the zero border */
    for (int64_t gi = 0; gi < cfg->group; gi++) {
        /* W [mg, cg, K] of this group as K contiguous [mg, cg] matrices. */
        const float *wg = w + gi * mg * cg * K;
        for (int64_t k = 0; k < K; k++)
            for (int64_t i = 0; i < mg * cg; i++)
                wk[k * mg * cg + i] = wg[i * K + k];
        for (int64_t n = 0; n < cfg->n; n++) {
            const float *xg = x + (n * cfg->c + gi * cg) * g->sampled_size;
            for (int64_t c = 0; c < cg; c++)
                for (int64_t h = 0; h < H; h++)
                    memcpy(xp + c * plane + (h + g->pad_lo[0]) * Wp + g->pad_lo[1],
                           xg + (c * H + h) * W, (size_t)W * sizeof *xp);
            for (int64_t k = 0; k < K; k++)
                onn_sgemm(ctx->num_threads, false, false, mg, ncols, cg, 1.0f, wk + k * mg * cg, cg,
                          xp + (k / KW) * Wp + k % KW, plane, k ? 1.0f : 0.0f, yp, ncols);
            float *yg = y + (n * cfg->m + gi * mg) * OH * OW;
            for (int64_t m = 0; m < mg; m++)
                for (int64_t oh = 0; oh < OH; oh++) {
                    float *dst = yg + (m * OH + oh) * OW;
                    const float *src = yp + m * ncols + oh * Wp;
                    for (int64_t ow = 0; ow < OW; ow++)
                        dst[ow] += src[ow];
                }
        }
    }
}

/* CONV_IM2COL, and CONV_POINTWISE with X's planes in place of col. */
static void run_gemm(onn_kctx *ctx, const conv_cfg *cfg, const float *x, const float *w, float *y)
{
    const onn_geom *g = &cfg->g;
    const int64_t rows = cfg->cg * g->kernel_size, osz = g->grid_size;
    const bool direct = cfg->path == CONV_POINTWISE;
    float *col = ctx->scratch;
    for (int64_t n = 0; n < cfg->n; n++)
        for (int64_t gi = 0; gi < cfg->group; gi++) {
            const float *xg = x + (n * cfg->c + gi * cfg->cg) * g->sampled_size;
            if (!direct) im2col(ctx, g, xg, cfg->cg, col);
            /* Sizes were checked against the BLAS range while planning. */
            onn_sgemm(ctx->num_threads, false, false, cfg->mg, osz, rows, 1.0f,
                      w + gi * cfg->mg * rows, rows, direct ? xg : col, osz, 1.0f,
                      y + (n * cfg->m + gi * cfg->mg) * osz, osz);
        }
}

/* Output plane p (of N*M) of a convolution with one input channel per group. */
static void depthwise_plane(const conv_cfg *cfg, const float *x, const float *w, float *y,
                            int64_t p)
{
    const onn_geom *g = &cfg->g;
    const int64_t m = p % cfg->m, n = p / cfg->m, len = g->line_len;
    const float *xp = x + (n * cfg->c + m / cfg->mg) * g->sampled_size;
    float *yp = y + p * g->grid_size;
    for (int64_t k = 0; k < g->kernel_size; k++) {
        const float wv = w[m * g->kernel_size + k];
        onn_lines it;
        for (onn_lines_start(&it, g, k); it.line < g->n_lines; onn_lines_next(&it)) {
            int64_t base;
            if (!onn_lines_base(&it, &base)) continue;
            float *yl = yp + it.line * len;
            if (it.step == 1) { /* the common case; -O2 vectorizes only when told */
#pragma omp simd
                for (int64_t j = it.lo; j < it.hi; j++)
                    yl[j] += wv * xp[base + j];
            } else {
                for (int64_t j = it.lo; j < it.hi; j++)
                    yl[j] += wv * xp[base + j * it.step];
            }
        }
    }
}

/* The arguments of a Conv node's parallel loops. */
typedef struct conv_job {
    const conv_cfg *cfg;
    const float *x, *w, *z;
    float *y;
    const onn_epilogue *ep;
    void *scratch;
} conv_job;

static void depthwise_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const conv_job *j = arg;
    for (int64_t p = p0; p < p1; p++)
        depthwise_plane(j->cfg, j->x, j->w, j->y, p);
}

static void run_depthwise(onn_kctx *ctx, const conv_cfg *cfg, const float *x, const float *w,
                          float *y)
{
    const int64_t planes = cfg->n * cfg->m;
    conv_job j = {.cfg = cfg, .x = x, .w = w, .y = y};
    onn_parallel_range(onn_threads_for(ctx, planes * cfg->g.grid_size * cfg->g.kernel_size, planes),
                       planes, depthwise_planes, &j);
}

/* A 2-D depthwise geometry gets the plane kernel for it and this CPU;
 * false leaves it to the loop. */
static bool dwplane_plan(const onn_geom *g, onn_dwconv_plan *plan)
{
    if (g->nsp != 2) return false;
    const onn_dwconv_shape s = onn_dwconv_shape_of(g);
    return onn_dwconv_plan_init(plan, &s, onn_isa_active());
}

/* A thread's scratch for the depthwise paths: the plane kernel's, or the
 * channels-last kernel's if larger (its last channels use the former). */
static size_t dw_scratch_of(const conv_cfg *cfg)
{
    size_t per = cfg->dw.scratch_bytes;
    if (cfg->path == CONV_DWCL && cfg->dwcl.scratch_bytes > per) per = cfg->dwcl.scratch_bytes;
    return per;
}

/* One block of that scratch per thread that may run it. */
static onnorm_status dwplane_scratch(onn_kctx *ctx, conv_cfg *cfg)
{
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)ctx->num_threads, dw_scratch_of(cfg), 1, &bytes);
    if (!st) onn_kscratch_need(ctx, bytes);
    return st;
}

/*
 * The channels-last kernel where it beats the plane kernels: windows of 25
 * taps or more (5x5, 7x7) over planes at most 56 wide, into rows of 28
 * outputs or more (7x7 windows: 14 or more). Measured on the depthwise
 * layers of MobileNetV2, MNASNet, EfficientNet-B0 and ConvNeXt (Zen 3, 1
 * thread, alternating, medians of 21): 1.2-2.6x there (ConvNeXt's 7x7 over
 * 384 channels at 28 x 28: 2.6x, over 768 at 14 x 14: 1.7x; EfficientNet's
 * 5x5 at 28 x 28: 1.6x), 0.9-1.0x for 5x5 into 14 or 7 columns and from
 * 112 wide planes; 0.45-0.75x on every 3x3 layer, where a block's copy and
 * transposes cost more than its nine taps.
 */
static bool dwcl_wins(const conv_cfg *cfg)
{
    const onn_geom *g = &cfg->g;
    const int64_t out_min = g->kernel_size >= 49 ? 14 : 28;
    /* (planes at most 56 tall too: the copy of a block, 8 padded planes,
     * is scratch per thread) */
    return cfg->mg == 1 && cfg->c >= 8 && g->kernel_size >= 25 && g->sampled[1] <= 56 &&
           g->sampled[0] <= 56 && g->grid[1] >= out_min;
}

static void dwcl_units(void *arg, int64_t u0, int64_t u1, int worker)
{
    const conv_job *j = arg;
    const conv_cfg *cfg = j->cfg;
    const onn_geom *g = &cfg->g;
    const int64_t blocks = (cfg->m + 7) / 8;
    float *scratch = (float *)((char *)j->scratch + (size_t)worker * dw_scratch_of(cfg));
    for (int64_t u = u0; u < u1; u++) {
        const int64_t n = u / blocks, c0 = u % blocks * 8;
        const int64_t at = (n * cfg->m + c0) * g->grid_size;
        if (c0 + 8 <= cfg->m) {
            onn_dwcl_block(&cfg->dwcl, j->x + (n * cfg->c + c0) * g->sampled_size, g->sampled_size,
                           j->w + c0 * g->kernel_size, j->y + at, j->z ? j->z + at : NULL, j->ep,
                           c0, scratch);
            continue;
        }
        for (int64_t m = c0; m < cfg->m; m++)
            onn_dwconv_plane(&cfg->dw, j->x + (n * cfg->c + m) * g->sampled_size,
                             j->w + m * g->kernel_size, j->y + (n * cfg->m + m) * g->grid_size,
                             j->z ? j->z + (n * cfg->m + m) * g->grid_size : NULL, j->ep, m,
                             scratch);
    }
}

/* Units of 8 channels of one image: full ones through the channels-last
 * kernel, the last channels (fewer than 8) plane by plane. */
static void run_dwcl(onn_kctx *ctx, const conv_cfg *cfg, const float *x, const float *w, float *y)
{
    const onn_geom *g = &cfg->g;
    const onnorm_tensor *b = onn_opt_input(ctx, 2);
    const float *z = cfg->residual ? ctx->in[3]->data : NULL;
    onn_epilogue ep = cfg->ep;
    ep.bias = b ? b->data : NULL;
    const int64_t blocks = (cfg->m + 7) / 8, units = cfg->n * blocks;
    conv_job j = {cfg, x, w, z, y, &ep, ctx->scratch};
    onn_parallel_range(onn_threads_for(ctx, cfg->n * cfg->m * g->grid_size * g->kernel_size, units),
                       units, dwcl_units, &j);
}

static void dwplane_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    const conv_job *j = arg;
    const conv_cfg *cfg = j->cfg;
    const onn_geom *g = &cfg->g;
    float *scratch = cfg->dw.scratch_bytes
                         ? (float *)((char *)j->scratch + (size_t)worker * cfg->dw.scratch_bytes)
                         : NULL;
    for (int64_t p = p0; p < p1; p++) {
        const int64_t m = p % cfg->m, n = p / cfg->m;
        onn_dwconv_plane(&cfg->dw, j->x + (n * cfg->c + m / cfg->mg) * g->sampled_size,
                         j->w + m * g->kernel_size, j->y + p * g->grid_size,
                         j->z ? j->z + p * g->grid_size : NULL, j->ep, m, scratch);
    }
}

/* Output plane p (of N*M) reads input channel m / mg (the group of output
 * channel m) with the taps of m; threads take whole planes. */
static void run_dwplane(onn_kctx *ctx, const conv_cfg *cfg, const float *x, const float *w,
                        float *y)
{
    const onn_geom *g = &cfg->g;
    const onnorm_tensor *b = onn_opt_input(ctx, 2);
    const float *z = cfg->residual ? ctx->in[3]->data : NULL;
    onn_epilogue ep = cfg->ep;
    ep.bias = b ? b->data : NULL;
    const int64_t planes = cfg->n * cfg->m;
    conv_job j = {cfg, x, w, z, y, &ep, ctx->scratch};
    onn_parallel_range(onn_threads_for(ctx, planes * g->grid_size * g->kernel_size, planes), planes,
                       dwplane_planes, &j);
}

static void epilogue_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const conv_job *j = arg;
    const int64_t size = j->cfg->g.grid_size;
    for (int64_t p = p0; p < p1; p++)
        onn_epilogue_row(&j->cfg->ep, 0.0f, j->y + p * size, j->z ? j->z + p * size : NULL, size);
}

/* CONV_PW: 1x1 at stride 1 without padding, group 1, a constant W, AVX2;
 * where it beats the engine (bench/conv_ab ... pw, alternating, 1 and 2
 * threads, on the 1x1 layers of MobileNets, MNASNet, EfficientNet, RegNet
 * and ResNets):
 * - up to 64 input channels on planes of 14 x 14 or more: 1.03-1.9x
 *   (40 -> 240 at 14 x 14: 1.12x on 1 thread, 1.9x on 2; 24 -> 72 at
 *   28 x 28: 1.5x and 2.3x); on 7 x 7 at 2 threads, or up to 40 channels:
 *   1.1-1.8x (64 -> 384 on 7 x 7 at 1 thread: 0.84x);
 * - projections to at most 32 channels from up to 192: 0.99-1.12x on
 *   1 thread, 1.1-1.5x on 2;
 * - at 2+ threads up to 96 input channels from 14 x 14: 1.1-1.5x (the
 *   engine keeps these products on one thread).
 * From 256 input channels the engine wins (0.6-0.9x), and at 128 it is
 * level. Planes under 7 x 7 (squeeze-excitation's 1 x 1) keep the engine. */
#define PW_MIN_PLANE 49
#define PW_MID_PLANE 196
static bool pw_wins(const conv_cfg *cfg, int threads)
{
    const int64_t c = cfg->c, m = cfg->m, plane = cfg->g.grid_size;
    if (cfg->group != 1 || !is_pointwise(&cfg->g) || plane < PW_MIN_PLANE ||
        !onn_pw_supported(onn_isa_active()))
        return false;
    const bool mid = plane >= PW_MID_PLANE;
    return (c <= 64 && (mid || c <= 40 || threads > 1)) || (mid && c <= 192 && m <= 32) ||
           (mid && threads > 1 && c <= 96);
}

static void pw_tasks(void *arg, int64_t t, int worker)
{
    (void)worker;
    const conv_job *j = arg;
    const conv_cfg *cfg = j->cfg;
    const onn_pw_split *s = &cfg->pws;
    const onn_pw_piece q = onn_pw_task(s, t);
    const int64_t at = q.n * s->m * s->plane;
    const onn_pw_args a = {.x = j->x + q.n * cfg->c * s->plane,
                           .w = j->w,
                           .y = j->y + at,
                           .res = j->z ? j->z + at : NULL,
                           .ep = j->ep,
                           .m = s->m,
                           .k = cfg->c,
                           .plane = s->plane,
                           .xs = s->plane};
    onn_pw_block(&a, q.m0, q.m1, q.p0, q.p1);
}

static void run_pw(onn_kctx *ctx, const conv_cfg *cfg, const float *x, const float *w, float *y)
{
    const onnorm_tensor *b = onn_opt_input(ctx, 2);
    onn_epilogue ep = cfg->ep;
    ep.bias = b ? b->data : NULL;
    conv_job j = {cfg, x, w, cfg->residual ? ctx->in[3]->data : NULL, y, &ep, NULL};
    onn_parallel_for(
        onn_threads_for(ctx, cfg->n * cfg->m * cfg->g.grid_size * cfg->c, cfg->pws.tasks),
        cfg->pws.tasks, pw_tasks, &j);
}

/* CONV_PWROW: 2-D, group 1, a constant W, C * kh * kw at most PWROW_MAX_K
 * (stems: 3 x 3 x 3 = 27), output rows of 16+ and planes of 784+, AVX2. */
#define PWROW_MAX_K 64
#define PWROW_MIN_PLANE 784
static bool pwrow_wins(const conv_cfg *cfg)
{
    const onn_geom *g = &cfg->g;
    return g->nsp == 2 && cfg->group == 1 && cfg->c * g->kernel_size <= PWROW_MAX_K &&
           g->grid[1] >= 16 && g->grid_size >= PWROW_MIN_PLANE &&
           onn_pw_supported(onn_isa_active());
}

static void pwrow_rows(void *arg, int64_t i0, int64_t i1, int worker)
{
    const conv_job *j = arg;
    const conv_cfg *cfg = j->cfg;
    const onn_pwrow_plan *p = &cfg->pwrow;
    float *scratch = (float *)((char *)j->scratch + (size_t)worker * p->scratch_bytes);
    const int64_t plane = cfg->g.grid_size;
    for (int64_t i = i0; i < i1; i++) {
        const int64_t n = i / p->oh, oy = i % p->oh, at = n * cfg->m * plane;
        onn_pwrow_run(p, j->x + n * cfg->c * cfg->g.sampled_size, j->w, j->y + at,
                      j->z ? j->z + at : NULL, j->ep, cfg->m, oy, scratch);
    }
}

static void run_pwrow(onn_kctx *ctx, const conv_cfg *cfg, const float *x, const float *w, float *y)
{
    const onnorm_tensor *b = onn_opt_input(ctx, 2);
    onn_epilogue ep = cfg->ep;
    ep.bias = b ? b->data : NULL;
    const int64_t rows = cfg->n * cfg->pwrow.oh;
    conv_job j = {cfg, x, w, cfg->residual ? ctx->in[3]->data : NULL, y, &ep, ctx->scratch};
    onn_parallel_range(
        onn_threads_for(ctx, cfg->n * cfg->m * cfg->g.grid_size * cfg->c * cfg->g.kernel_size,
                        rows),
        rows, pwrow_rows, &j);
}

static bool pwrow_plan(conv_cfg *cfg)
{
    const onn_geom *g = &cfg->g;
    return onn_pwrow_plan_init(&cfg->pwrow, cfg->c, g->sampled[0], g->sampled[1], g->grid[0],
                               g->grid[1], g->kernel[0], g->kernel[1], g->stride[0], g->stride[1],
                               g->dilation[0], g->dilation[1], g->pad_lo[0], g->pad_lo[1]);
}

/* CONV_PACKED at prepare: the plan (B's source and the division over
 * ctx's threads), W packed into it once, and its scratch. */
static onnorm_status packed_prepare(onn_kctx *ctx, conv_cfg *cfg)
{
    if (!onn_sgemm_conv_plan(&cfg->sc, cfg->eng, &cfg->g, cfg->n, cfg->c, cfg->m, cfg->group,
                             ctx->num_threads, ONN_SGEMM_CONV_AUTO))
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "the packed weights' size overflows");
    void *mem = onn_kalloc(ctx, cfg->sc.const_bytes);
    if (!mem) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    onn_sgemm_conv_init(&cfg->sc, ctx->in[1]->data, mem);
    onn_kscratch_need(ctx, cfg->sc.scratch_bytes);
    return ONNORM_OK;
}

/* Every image and group through the engine in one parallel region: the
 * bias, Z and the activation are applied as each tile is stored. */
static void run_packed(onn_kctx *ctx, const conv_cfg *cfg, const float *x, float *y)
{
    const onnorm_tensor *b = onn_opt_input(ctx, 2);
    onn_epilogue ep = cfg->ep;
    ep.bias = b ? b->data : NULL;
    onn_sgemm_conv_run(&cfg->sc, x, y, cfg->residual ? ctx->in[3]->data : NULL, &ep, ctx->scratch);
}

/* The path, first match: depthwise (one input channel per group, more than
 * one group; 2-D ones through dwconv.h), the packed engine (when W is a
 * constant), and with W known only at run: shifted products, pointwise,
 * im2col over OpenBLAS. */
static onnorm_status conv_prepare(onn_kctx *ctx)
{
    conv_cfg *cfg = ctx->state;
    const onn_geom *g = &cfg->g;
    if (cfg->cg == 1 && cfg->group > 1 && dwplane_plan(g, &cfg->dw)) {
        cfg->path = CONV_DWPLANE;
        if (dwcl_wins(cfg) && onn_dwcl_plan_init(&cfg->dwcl, &cfg->dw.s, onn_isa_active()))
            cfg->path = CONV_DWCL;
        /* Both kernels that take Z read each element of it before they
         * store the same element of Y, and store nothing else: Y may be Z. */
        if (cfg->residual) onn_kshare_input(ctx, 3);
        return dwplane_scratch(ctx, cfg);
    } else if (cfg->cg == 1 && cfg->group > 1) {
        cfg->path = CONV_DEPTHWISE;
    } else if (ctx->in[1]->data && pw_wins(cfg, ctx->num_threads)) {
        cfg->path = CONV_PW;
        onn_pw_split_init(&cfg->pws, cfg->n, cfg->m, g->grid_size, ctx->num_threads);
        /* Each element of Z is read before the same element of Y is
         * stored: Y may be Z. */
        if (cfg->residual) onn_kshare_input(ctx, 3);
    } else if (ctx->in[1]->data && pwrow_wins(cfg) && pwrow_plan(cfg)) {
        cfg->path = CONV_PWROW;
        if (cfg->residual) onn_kshare_input(ctx, 3); /* as CONV_PW */
        size_t bytes;                                /* the gathered rows, per thread */
        onnorm_status st =
            onn_kbytes(ctx, (size_t)ctx->num_threads, cfg->pwrow.scratch_bytes, 1, &bytes);
        if (!st) onn_kscratch_need(ctx, bytes);
        return st;
    } else if (ctx->in[1]->data && (cfg->eng = onn_sgemm_engine_get(onn_isa_active()))) {
        cfg->path = CONV_PACKED;
        if (cfg->residual) onn_kshare_input(ctx, 3);
        return packed_prepare(ctx, cfg);
    } else if (shift_gemm_fits(g, ctx->num_threads)) {
        cfg->path = CONV_SHIFTED;
        return shift_gemm_scratch(ctx, cfg);
    } else if (is_pointwise(g)) {
        cfg->path = CONV_POINTWISE;
    } else {
        cfg->path = CONV_IM2COL;
        return onn_window_col_scratch(ctx, cfg->cg * g->kernel_size, g->grid_size, "im2col");
    }
    return ONNORM_OK;
}

static onnorm_status conv_run(onn_kctx *ctx)
{
    const conv_cfg *cfg = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* Y omitted: nothing is asked for */
    const float *x = ctx->in[0]->data, *w = ctx->in[1]->data;
    float *y = ctx->out[0]->data;
    if (cfg->path == CONV_DWPLANE) { /* the plane kernels apply the bias themselves */
        run_dwplane(ctx, cfg, x, w, y);
        return ONNORM_OK;
    }
    if (cfg->path == CONV_DWCL) { /* so does the channels-last kernel */
        run_dwcl(ctx, cfg, x, w, y);
        return ONNORM_OK;
    }
    if (cfg->path == CONV_PW) { /* so does the pointwise kernel */
        run_pw(ctx, cfg, x, w, y);
        return ONNORM_OK;
    }
    if (cfg->path == CONV_PWROW) {
        run_pwrow(ctx, cfg, x, w, y);
        return ONNORM_OK;
    }
    if (cfg->path == CONV_PACKED) { /* the engine applies the whole epilogue */
        run_packed(ctx, cfg, x, y);
        return ONNORM_OK;
    }
    onn_fill_bias(ctx, cfg->n, cfg->m, cfg->g.grid_size, y);
    switch (cfg->path) {
    case CONV_DWPLANE:
    case CONV_DWCL:
    case CONV_PW:
    case CONV_PWROW:
    case CONV_PACKED: break;
    case CONV_DEPTHWISE: run_depthwise(ctx, cfg, x, w, y); break;
    case CONV_SHIFTED: run_shift_gemm(ctx, cfg, x, w, y); break;
    case CONV_POINTWISE:
    case CONV_IM2COL: run_gemm(ctx, cfg, x, w, y); break;
    }
    if (cfg->residual || cfg->ep.act != ONN_ACT_NONE) {
        /* FusedConv: residual and activation over each output plane. */
        const int64_t planes = cfg->n * cfg->m, size = cfg->g.grid_size;
        const float *z = cfg->residual ? ctx->in[3]->data : NULL;
        conv_job j = {.cfg = cfg, .z = z, .y = y};
        onn_parallel_range(onn_threads_for(ctx, planes * size, planes), planes, epilogue_planes,
                           &j);
    }
    return ONNORM_OK;
}

ONN_KERNEL_TABLE(conv,
                 {ONN_KERNEL("", "Conv", 1, 2, 3, 1, 1, conv_infer, conv_prepare, conv_run),
                  .config = conv_config, .state_size = sizeof(conv_cfg)},
                 {ONN_KERNEL("com.microsoft", "FusedConv", 1, 2, 4, 1, 1, conv_infer, conv_prepare,
                             conv_run),
                  .config = fused_config, .state_size = sizeof(conv_cfg)});
