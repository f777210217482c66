/* Sliding-window attributes and geometry (see spatial.h). */
#include "ops/core/spatial.h"
#include "ops/core/blas.h"
#include "ops/core/threadpool.h"

#include <stdint.h>
#include <string.h>

/* Window attributes above this are rejected: it keeps every product of two
 * of them (and of one with a tensor extent) inside int64. */
#define WIN_ATTR_MAX INT32_MAX

/* Reads an INTS attribute of n values in [lo, WIN_ATTR_MAX], or fills dflt. */
static onnorm_status read_ints(onn_kctx *ctx, const char *name, int n, int64_t lo, int64_t dflt,
                               int64_t *out)
{
    bool present;
    onnorm_status st = onn_kattr_ints(ctx, name, n, out, &present);
    if (st) return st;
    for (int i = 0; i < n; i++) {
        if (!present) out[i] = dflt;
        if (out[i] < lo || out[i] > WIN_ATTR_MAX)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "attribute '%s'[%d] = %lld is out of range [%lld, %d]", name, i,
                             (long long)out[i], (long long)lo, WIN_ATTR_MAX);
    }
    return ONNORM_OK;
}

static onnorm_status read_auto_pad(onn_kctx *ctx, onn_auto_pad *out)
{
    static const char *const names[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    const onn_attr *a = onn_attr_find(ctx->node, "auto_pad");
    *out = ONN_PAD_NOTSET;
    if (!a || (a->type == ONN_ATTR_STRING && a->s && a->s[0] == '\0')) return ONNORM_OK;
    if (a->type != ONN_ATTR_STRING || !a->s)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'auto_pad' must be a string");
    for (int i = 0; i < 4; i++)
        if (strcmp(a->s, names[i]) == 0) {
            *out = (onn_auto_pad)i;
            return ONNORM_OK;
        }
    return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                     "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", a->s);
}

static onnorm_status read_kernel(onn_kctx *ctx, int nsp, const int64_t *wkernel, int64_t *k)
{
    bool present;
    onnorm_status st = onn_kattr_ints(ctx, "kernel_shape", nsp, k, &present);
    if (st) return st;
    if (!present && !wkernel)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'kernel_shape' is required");
    for (int i = 0; i < nsp; i++) {
        if (!present) k[i] = wkernel[i];
        if (k[i] < 1 || k[i] > WIN_ATTR_MAX)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "kernel_shape[%d] = %lld is out of range", i,
                             (long long)k[i]);
        if (wkernel && k[i] != wkernel[i])
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "kernel_shape[%d] = %lld disagrees with W's spatial extent %lld", i,
                             (long long)k[i], (long long)wkernel[i]);
    }
    return ONNORM_OK;
}

onnorm_status onn_win_read(onn_kctx *ctx, int nsp, const int64_t *wkernel, bool allow_dilations,
                           onn_win_attrs *a)
{
    onnorm_status st;
    if (nsp < 1 || nsp > ONN_MAX_SPATIAL)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "%d spatial axes are not supported (1 to %d)", nsp,
                         ONN_MAX_SPATIAL);
    a->nsp = nsp;
    if ((st = read_auto_pad(ctx, &a->auto_pad)) ||
        (st = read_kernel(ctx, nsp, wkernel, a->kernel)) ||
        (st = read_ints(ctx, "strides", nsp, 1, 1, a->stride)) ||
        (st = read_ints(ctx, "pads", 2 * nsp, 0, 0, a->pads)))
        return st;
    if ((st = read_ints(ctx, "dilations", nsp, 1, 1, a->dilation))) return st;
    /* Where the opset does not define dilations only the neutral value is accepted. */
    for (int i = 0; i < nsp && !allow_dilations; i++)
        if (a->dilation[i] != 1)
            return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                             "attribute 'dilations' is not defined for %s at opset %lld",
                             ctx->node->op_type, (long long)ctx->node->opset);
    if (a->auto_pad != ONN_PAD_NOTSET)
        for (int i = 0; i < 2 * nsp; i++)
            if (a->pads[i] != 0)
                return onn_kfail(ctx, ONNORM_ERR_INVALID,
                                 "explicit pads cannot be combined with auto_pad");
    return ONNORM_OK;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* Output extent and pads of one axis. */
static onnorm_status forward_axis(onn_kctx *ctx, const onn_win_attrs *a, int i, int64_t in,
                                  bool ceil_mode, onn_geom *g)
{
    const int64_t s = a->stride[i], eff = (a->kernel[i] - 1) * a->dilation[i] + 1;
    int64_t lo = a->pads[i], hi = a->pads[i + a->nsp], out;
    if (a->auto_pad == ONN_PAD_SAME_UPPER || a->auto_pad == ONN_PAD_SAME_LOWER) {
        out = ceil_div(in, s);
        int64_t total = (out - 1) * s + eff - in;
        if (total < 0) total = 0;
        lo = a->auto_pad == ONN_PAD_SAME_UPPER ? total / 2 : total - total / 2;
        hi = total - lo;
    } else {
        if (a->auto_pad == ONN_PAD_VALID) lo = hi = 0;
        int64_t span = in + lo + hi - eff;
        if (span < 0)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "spatial axis %d: the window extent %lld exceeds the padded input "
                             "extent %lld",
                             i, (long long)eff, (long long)(in + lo + hi));
        out = (ceil_mode && a->auto_pad == ONN_PAD_NOTSET ? ceil_div(span, s) : span / s) + 1;
        /* A window may not start in the end padding (it would see no input). */
        if (ceil_mode && (out - 1) * s >= in + lo) out--;
    }
    if (out < 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "spatial axis %d of extent %lld gives an empty output", i, (long long)in);
    g->sampled[i] = in;
    g->grid[i] = out;
    g->pad_lo[i] = lo;
    g->pad_hi[i] = hi;
    return ONNORM_OK;
}

onnorm_status onn_geom_forward(onn_kctx *ctx, const onn_win_attrs *a, const int64_t *in,
                               bool ceil_mode, onn_geom *g)
{
    g->nsp = a->nsp;
    for (int i = 0; i < a->nsp; i++) {
        g->kernel[i] = a->kernel[i];
        g->stride[i] = a->stride[i];
        g->dilation[i] = a->dilation[i];
        onnorm_status st = forward_axis(ctx, a, i, in[i], ceil_mode, g);
        if (st) return st;
    }
    if (!onn_geom_finish(g)) return onn_kfail(ctx, ONNORM_ERR_NOMEM, "window geometry overflows");
    return ONNORM_OK;
}

static bool numel(const int64_t *d, int n, int64_t *out)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++) {
        if (d[i] < 0 || (d[i] && p > INT64_MAX / d[i])) return false;
        p *= d[i];
    }
    *out = p;
    return true;
}

bool onn_geom_finish(onn_geom *g)
{
    if (!numel(g->sampled, g->nsp, &g->sampled_size) || !numel(g->grid, g->nsp, &g->grid_size) ||
        !numel(g->kernel, g->nsp, &g->kernel_size))
        return false;
    g->line_len = g->grid[g->nsp - 1];
    g->n_lines = g->line_len ? g->grid_size / g->line_len : 0;
    return true;
}

/* The arguments of onn_fill_bias's plane loop. */
typedef struct fill_job {
    const float *b;
    float *y;
    int64_t m, size;
} fill_job;

static void fill_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const fill_job *j = arg;
    const int64_t size = j->size;
    for (int64_t p = p0; p < p1; p++) {
        float v = j->b ? j->b[p % j->m] : 0.0f;
        for (int64_t i = 0; i < size; i++)
            j->y[p * size + i] = v;
    }
}

void onn_fill_bias(onn_kctx *ctx, int64_t n, int64_t m, int64_t size, float *y)
{
    const onnorm_tensor *bias = onn_opt_input(ctx, 2);
    const int64_t planes = n * m;
    const int nt = onn_threads_for(ctx, planes * size, planes);
    fill_job j = {bias ? bias->data : NULL, y, m, size};
    onn_parallel_range(nt, planes, fill_planes, &j);
}

onnorm_status onn_check_window_gemm(onn_kctx *ctx, int64_t a, int64_t k, int64_t b, int64_t grid)
{
    if (!onn_blas_fits(a) || !onn_blas_fits(k) || !onn_blas_fits(a * k) || !onn_blas_fits(b) ||
        !onn_blas_fits(grid))
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "the per-group matrix product exceeds the BLAS size range");
    return ONNORM_OK;
}

onnorm_status onn_window_col_scratch(onn_kctx *ctx, int64_t rows, int64_t cols, const char *what)
{
    size_t n, bytes;
    if (!onn_mul_size((size_t)rows, (size_t)cols, &n) || !onn_mul_size(n, sizeof(float), &bytes))
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "the %s buffer size overflows", what);
    onn_kscratch_need(ctx, bytes);
    return ONNORM_OK;
}

onnorm_status onn_window_inputs(onn_kctx *ctx, int64_t *group)
{
    onnorm_status st;
    if ((st = onn_check_f32(ctx, 0, "X")) || (st = onn_check_f32(ctx, 1, "W"))) return st;
    const onnorm_tensor *x = ctx->in[0], *w = ctx->in[1];
    char xs[128], ws[128];
    if (x->rank < 3)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X must have rank >= 3 (N, C, spatial...), got %s",
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    if (w->rank != x->rank)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "W %s must have the rank of X %s",
                         onn_shape_str(w->dims, w->rank, ws, sizeof ws),
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    return onn_kattr_int(ctx, "group", 1, group);
}

onnorm_status onn_check_window_bias(onn_kctx *ctx, int64_t m)
{
    return onn_has_input(ctx, 2) ? onn_check_param(ctx, 2, "B", m, ONNORM_FLOAT) : ONNORM_OK;
}

void onn_set_window_output(onn_kctx *ctx, int i, onnorm_dtype dtype, int64_t n, int64_t c, int nsp,
                           const int64_t *extents)
{
    int64_t dims[ONNORM_MAX_RANK] = {n, c};
    memcpy(dims + 2, extents, (size_t)nsp * sizeof *dims);
    onn_set_output(ctx, i, dtype, nsp + 2, dims);
}
