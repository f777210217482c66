/*
 * ConvTranspose, opsets 1 and 11 (float32), 1-D to 6-D spatial.
 *
 *   X [N, C, D1..Dn], W [C, M/group, k1..kn], optional B [M] -> Y [N, M, O1..On]
 *
 * ConvTranspose is the adjoint of Conv: X plays Conv's output grid and Y its
 * padded input, so input position i and kernel offset k write
 *     y[i * stride - pad_begin + k * dilation].
 * Per image and group, col[M/g*K, I] = W_g^T * X_g is one sgemm (W_g is
 * stored [C/g, M/g*K]), and col2im scatters col into Y, which starts as the
 * bias. Each output channel owns its K rows of col, so col2im runs parallel
 * over channels without write conflicts. config reads the channels and the
 * geometry into the state; col lives in scratch, whose size prepare declares
 * from that geometry.
 *
 * Output extent per axis: natural = stride * (in - 1) + output_padding +
 * (k - 1) * dilation + 1. Explicit pads give natural - pads; output_shape
 * (or auto_pad SAME_*, which asks for in * stride) fixes the extent and the
 * total padding natural - extent is split between the two ends. Opset 1 and
 * opset 11 split an odd total in opposite ways (the spec's formulas): 11
 * puts the extra unit at the end for SAME_UPPER and at the beginning
 * otherwise, 1 the other way round. A negative total (an output larger than
 * natural) leaves border positions no input reaches: they hold the bias.
 */
#include "ops/core/blas.h"
#include "ops/core/spatial.h"
#include "ops/core/threadpool.h"

#include <string.h>

typedef struct convt_cfg {
    int64_t n, c, m, group;
    int64_t cg, mg; /* input and output channels per group */
    onn_geom g;     /* grid = X's spatial extents, sampled = Y's */
} convt_cfg;

static onnorm_status check_channels(onn_kctx *ctx, convt_cfg *cfg)
{
    const onnorm_tensor *x = ctx->in[0], *w = ctx->in[1];
    char ws[128];
    onnorm_status st = onn_window_inputs(ctx, &cfg->group);
    if (st) return st;
    cfg->n = x->dims[0], cfg->c = x->dims[1];
    if (cfg->group < 1 || cfg->group > INT32_MAX || cfg->c % cfg->group)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "group %lld must be >= 1 and divide the %lld input channels",
                         (long long)cfg->group, (long long)cfg->c);
    if (w->dims[0] != cfg->c)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "W %s must have X's %lld channels on axis 0",
                         onn_shape_str(w->dims, w->rank, ws, sizeof ws), (long long)cfg->c);
    cfg->cg = cfg->c / cfg->group, cfg->mg = w->dims[1];
    if (cfg->mg > INT64_MAX / cfg->group)
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "the output channel count overflows");
    cfg->m = cfg->mg * cfg->group;
    return ONNORM_OK;
}

static int64_t floor_div2(int64_t v)
{
    return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

/* output_padding (each < stride or < dilation) and output_shape (spatial
 * extents; a full N, C, ... shape is accepted too). */
static onnorm_status read_output_attrs(onn_kctx *ctx, const onn_win_attrs *a, int64_t *opad,
                                       int64_t *oshape, bool *has_shape)
{
    const int nsp = a->nsp;
    bool present;
    onnorm_status st = onn_kattr_ints(ctx, "output_padding", nsp, opad, &present);
    if (st) return st;
    for (int i = 0; i < nsp; i++) {
        if (!present) opad[i] = 0;
        if (opad[i] < 0 || (opad[i] >= a->stride[i] && opad[i] >= a->dilation[i]))
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "output_padding[%d] = %lld must be >= 0 and below the stride or the "
                             "dilation",
                             i, (long long)opad[i]);
    }
    const onn_attr *os = onn_attr_find(ctx->node, "output_shape");
    *has_shape = os && os->type == ONN_ATTR_INTS && os->n > 0;
    if (!*has_shape)
        return os && os->type != ONN_ATTR_INTS
                   ? onn_kfail(ctx, ONNORM_ERR_INVALID,
                               "attribute 'output_shape' must be a list of ints")
                   : ONNORM_OK;
    if (os->n != (size_t)nsp && os->n != (size_t)nsp + 2)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "output_shape has %zu values, expected %d", os->n,
                         nsp);
    memcpy(oshape, os->ints + (os->n - (size_t)nsp), (size_t)nsp * sizeof *oshape);
    return ONNORM_OK;
}

/* Extent and begin padding of output axis i. */
static onnorm_status output_axis(onn_kctx *ctx, const onn_win_attrs *a, int i, int64_t in,
                                 int64_t opad, const int64_t *oshape, onn_geom *g)
{
    if (in < 1 || in - 1 > (INT64_MAX / 4) / a->stride[i] || (oshape && oshape[i] < 1))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "spatial axis %d: input extent %lld or output_shape is out of range", i,
                         (long long)in);
    const int64_t natural =
        a->stride[i] * (in - 1) + opad + (a->kernel[i] - 1) * a->dilation[i] + 1;
    const bool same = a->auto_pad == ONN_PAD_SAME_UPPER || a->auto_pad == ONN_PAD_SAME_LOWER;
    int64_t out, lo;
    if (oshape || same) {
        out = oshape ? oshape[i] : in * a->stride[i];
        const int64_t total = natural - out, half = floor_div2(total);
        bool extra_at_end = onn_kversion(ctx) >= 11 ? a->auto_pad == ONN_PAD_SAME_UPPER
                                                    : a->auto_pad != ONN_PAD_SAME_UPPER;
        lo = extra_at_end ? half : total - half;
    } else if (a->auto_pad == ONN_PAD_VALID) {
        out = natural, lo = 0;
    } else {
        out = natural - a->pads[i] - a->pads[i + a->nsp], lo = a->pads[i];
    }
    if (out < 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "spatial axis %d: input extent %lld gives output extent %lld", i,
                         (long long)in, (long long)out);
    g->grid[i] = in;
    g->sampled[i] = out;
    g->pad_lo[i] = lo;
    g->pad_hi[i] = natural - out - lo;
    g->kernel[i] = a->kernel[i];
    g->stride[i] = a->stride[i];
    g->dilation[i] = a->dilation[i];
    return ONNORM_OK;
}

static onnorm_status read_geometry(onn_kctx *ctx, convt_cfg *cfg)
{
    const onnorm_tensor *x = ctx->in[0], *w = ctx->in[1];
    onn_win_attrs a;
    int64_t opad[ONN_MAX_SPATIAL], oshape[ONN_MAX_SPATIAL];
    bool has_shape = false;
    onnorm_status st;
    if ((st = onn_win_read(ctx, x->rank - 2, w->dims + 2, true, &a)) ||
        (st = read_output_attrs(ctx, &a, opad, oshape, &has_shape)))
        return st;
    cfg->g.nsp = a.nsp;
    for (int i = 0; i < a.nsp; i++)
        if ((st = output_axis(ctx, &a, i, x->dims[2 + i], opad[i], has_shape ? oshape : NULL,
                              &cfg->g)))
            return st;
    if (!onn_geom_finish(&cfg->g)) return onn_kfail(ctx, ONNORM_ERR_NOMEM, "output size overflows");
    return ONNORM_OK;
}

static onnorm_status convt_config(onn_kctx *ctx)
{
    convt_cfg *cfg = ctx->state;
    onnorm_status st;
    if ((st = check_channels(ctx, cfg)) || (st = read_geometry(ctx, cfg)) ||
        (st = onn_check_window_bias(ctx, cfg->m)))
        return st;
    onn_kflops(ctx, 2.0 * (double)cfg->n * (double)cfg->m * (double)cfg->g.grid_size *
                        (double)cfg->cg * (double)cfg->g.kernel_size);
    return onn_check_window_gemm(ctx, cfg->mg, cfg->g.kernel_size, cfg->cg, cfg->g.grid_size);
}

static onnorm_status convt_infer(onn_kctx *ctx)
{
    const convt_cfg *cfg = ctx->state;
    onn_set_window_output(ctx, 0, ONNORM_FLOAT, cfg->n, cfg->m, cfg->g.nsp, cfg->g.sampled);
    return ONNORM_OK;
}

/* Adds the K rows of col that belong to one output channel into its plane. */
static void col2im_channel(const onn_geom *g, const float *col, float *y)
{
    const int64_t len = g->line_len;
    for (int64_t k = 0; k < g->kernel_size; k++) {
        const float *row = col + k * g->grid_size;
        onn_lines it;
        for (onn_lines_start(&it, g, k); it.line < g->n_lines; onn_lines_next(&it)) {
            int64_t base;
            if (!onn_lines_base(&it, &base)) continue;
            const float *src = row + it.line * len;
            for (int64_t j = it.lo; j < it.hi; j++)
                y[base + j * it.step] += src[j];
        }
    }
}

typedef struct col2im_job {
    const onn_geom *g;
    const float *col;
    float *yg;
} col2im_job;

/* col2im_channel for the output channels [m0, m1) of one group. */
static void col2im_channels(void *arg, int64_t m0, int64_t m1, int worker)
{
    (void)worker;
    const col2im_job *j = arg;
    const onn_geom *g = j->g;
    for (int64_t m = m0; m < m1; m++)
        col2im_channel(g, j->col + m * g->kernel_size * g->grid_size, j->yg + m * g->sampled_size);
}

/* Scratch: col [M/g * K, I] for one image and group at a time. */
static onnorm_status convt_prepare(onn_kctx *ctx)
{
    const convt_cfg *cfg = ctx->state;
    return onn_window_col_scratch(ctx, cfg->mg * cfg->g.kernel_size, cfg->g.grid_size, "column");
}

static onnorm_status convt_run(onn_kctx *ctx)
{
    const convt_cfg *cfg = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* Y omitted: nothing is asked for */
    const onn_geom *g = &cfg->g;
    const float *x = ctx->in[0]->data, *w = ctx->in[1]->data;
    float *y = ctx->out[0]->data, *col = ctx->scratch;
    onn_fill_bias(ctx, cfg->n, cfg->m, g->sampled_size, y);
    const int64_t rows = cfg->mg * g->kernel_size, isz = g->grid_size;
    const int nt = onn_threads_for(ctx, rows * isz, cfg->mg);
    for (int64_t n = 0; n < cfg->n; n++)
        for (int64_t gi = 0; gi < cfg->group; gi++) {
            /* Sizes were checked against the BLAS range while planning. */
            onn_sgemm(ctx->num_threads, true, false, rows, isz, cfg->cg, 1.0f,
                      w + gi * cfg->cg * rows, rows, x + (n * cfg->c + gi * cfg->cg) * isz, isz,
                      0.0f, col, isz);
            col2im_job j = {g, col, y + (n * cfg->m + gi * cfg->mg) * g->sampled_size};
            onn_parallel_range(nt, cfg->mg, col2im_channels, &j);
        }
    return ONNORM_OK;
}

#define CONVT_KERNEL(ver)                                                                          \
    {                                                                                              \
        ONN_KERNEL("", "ConvTranspose", ver, 2, 3, 1, 1, convt_infer, convt_prepare, convt_run),   \
            .config = convt_config, .state_size = sizeof(convt_cfg)                                \
    }

ONN_KERNEL_TABLE(conv_transpose, CONVT_KERNEL(1), CONVT_KERNEL(11));
