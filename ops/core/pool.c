/*
 * MaxPool (opsets 1, 8, 10, 12), AveragePool (1, 7, 10, 19) and
 * GlobalAveragePool (1), 1-D to 6-D spatial.
 *
 * What each opset adds (later ones such as MaxPool-11, AveragePool-11 and the
 * -22 versions only restate texts or add types, and resolve to these):
 *   MaxPool-8:      the Indices output and storage_order;
 *   MaxPool-10:     ceil_mode and dilations;
 *   MaxPool-12:     int8 and uint8 inputs;
 *   AveragePool-7:  count_include_pad;
 *   AveragePool-10: ceil_mode;
 *   AveragePool-19: dilations.
 * An attribute an opset does not define must be absent or hold its default:
 * a model that relies on it is refused rather than silently misread.
 *
 * Each output plane is computed one kernel offset at a time: for every line
 * of the plane, the positions whose window sample at that offset falls in
 * the input (a contiguous range, see spatial.h) fold the sample into their
 * running max or sum. An average then divides by its window's count: the
 * samples inside the input, or with count_include_pad those inside the
 * padded extent (never the part a ceil_mode window reaches beyond the end
 * padding). The count depends on the position only, so AveragePool's
 * prepare computes it once for all planes and runs; config reads everything
 * else (attributes, geometry, the loop) into the state.
 *
 * Indices are flat positions in X (row-major over N, C and the spatial axes;
 * with storage_order = 1 the spatial part is column-major), as the spec
 * defines them. Float elements are compared with >, so the first maximum of
 * a window wins.
 *
 * Prepare picks one of three paths for MaxPool and AveragePool:
 *   fast     float32, 2-D, 2x2 or 3x3 windows, stride 1 or 2, dilation 1,
 *            no Indices: pool_plane.h's vector kernels, runs of planes;
 *   max2d    any other float32 2-D MaxPool without dilation or Indices:
 *            each window's clipped bounds computed directly
 *            (onn_pool2d_max_row);
 *   generic  the rest, with the line walk above.
 * The fast path gives the other two's results bit for bit. NaN differs
 * between them, as it did before the fast path: the line walk skips NaN
 * samples, while in a float32 2-D MaxPool without Indices (max2d and fast,
 * which take the MaxPools of exported networks) a window that holds a NaN
 * has the maximum NaN.
 *
 * GlobalAveragePool on float32 sums planes with pool_plane.h's vector
 * kernels, several small planes at a time.
 */
#include "ops/core/pool_plane.h"
#include "ops/core/spatial.h"

#include <math.h>
#include "ops/core/threadpool.h"
#include <string.h>

/* ---- per-type inner loops --------------------------------------------- */

typedef struct pool_type_ops {
    void (*fill_lowest)(void *y, int64_t n);
    /* y[j] = max(y[j], x[base + j*s]) for j in [lo, hi); idx (may be NULL)
     * records idx0 + base + j*s where the max changes or is first set. */
    void (*max_line)(const void *x, void *y, int64_t *idx, int64_t idx0, int64_t base, int64_t lo,
                     int64_t hi, int64_t s);
    void (*sum_line)(const void *x, void *y, int64_t base, int64_t lo, int64_t hi, int64_t s);
    void (*div_line)(void *y, const double *count, int64_t n);
    double (*sum_plane)(const void *x, int64_t n);
} pool_type_ops;

/* Stamped once per element type; kept out of clang-format, which cannot lay
 * out a _Pragma inside a macro. */
// clang-format off
#define POOL_TYPE_OPS(T, LOWEST)                                                                   \
    static void fill_lowest_##T(void *yv, int64_t n)                                               \
    {                                                                                              \
        T *y = yv;                                                                                 \
        for (int64_t i = 0; i < n; i++) y[i] = LOWEST;                                             \
    }                                                                                              \
    static void max_line_##T(const void *xv, void *yv, int64_t *idx, int64_t idx0, int64_t base,   \
                             int64_t lo, int64_t hi, int64_t s)                                    \
    {                                                                                              \
        const T *x = xv;                                                                           \
        T *y = yv;                                                                                 \
        if (!idx && s == 1) { /* -O2 vectorizes only when told */                                  \
            _Pragma("omp simd")                                                                    \
            for (int64_t j = lo; j < hi; j++) y[j] = x[base + j] > y[j] ? x[base + j] : y[j];      \
            return;                                                                                \
        }                                                                                          \
        if (!idx) {                                                                                \
            for (int64_t j = lo; j < hi; j++)                                                      \
                if (x[base + j * s] > y[j]) y[j] = x[base + j * s];                                \
            return;                                                                                \
        }                                                                                          \
        for (int64_t j = lo; j < hi; j++)                                                          \
            if (x[base + j * s] > y[j] || idx[j] < 0) {                                            \
                y[j] = x[base + j * s];                                                            \
                idx[j] = idx0 + base + j * s;                                                      \
            }                                                                                      \
    }                                                                                              \
    static void sum_line_##T(const void *xv, void *yv, int64_t base, int64_t lo, int64_t hi,       \
                             int64_t s)                                                            \
    {                                                                                              \
        const T *x = xv;                                                                           \
        T *y = yv;                                                                                 \
        if (s == 1) { /* -O2 vectorizes only when told */                                          \
            _Pragma("omp simd")                                                                    \
            for (int64_t j = lo; j < hi; j++) y[j] += x[base + j];                                 \
        } else {                                                                                   \
            for (int64_t j = lo; j < hi; j++) y[j] += x[base + j * s];                             \
        }                                                                                          \
    }                                                                                              \
    static void div_line_##T(void *yv, const double *count, int64_t n)                             \
    {                                                                                              \
        T *y = yv;                                                                                 \
        for (int64_t i = 0; i < n; i++) y[i] = (T)(y[i] / count[i]);                               \
    }                                                                                              \
    static double sum_plane_##T(const void *xv, int64_t n)                                         \
    {                                                                                              \
        const T *x = xv;                                                                           \
        double acc = 0.0;                                                                          \
        for (int64_t i = 0; i < n; i++) acc += (double)x[i];                                       \
        return acc;                                                                                \
    }                                                                                              \
    static const pool_type_ops ops_##T = {fill_lowest_##T, max_line_##T, sum_line_##T,             \
                                          div_line_##T, sum_plane_##T};
// clang-format on

POOL_TYPE_OPS(float, -INFINITY)
POOL_TYPE_OPS(double, -INFINITY)
POOL_TYPE_OPS(int8_t, INT8_MIN)
POOL_TYPE_OPS(uint8_t, 0)

static const pool_type_ops *type_ops(onnorm_dtype t)
{
    switch (t) {
    case ONNORM_FLOAT: return &ops_float;
    case ONNORM_DOUBLE: return &ops_double;
    case ONNORM_INT8: return &ops_int8_t;
    case ONNORM_UINT8: return &ops_uint8_t;
    default: return NULL;
    }
}

/* ---- configuration ------------------------------------------------------ */

/* The table entries' data: which of the two windowed pools. */
typedef enum pool_kind { POOL_MAX, POOL_AVG } pool_kind;
static const pool_kind pool_max = POOL_MAX, pool_avg = POOL_AVG;

/* The code path prepare chooses (see the top). */
typedef enum pool_path { PATH_GENERIC, PATH_MAX2D, PATH_FAST } pool_path;

typedef struct pool_cfg {
    pool_kind kind;
    int64_t planes; /* N * C */
    int64_t storage_order, count_include_pad;
    onn_geom g; /* sampled = X's spatial extents, grid = Y's */
    const pool_type_ops *ops;
    pool_path path;
    onn_pool2d_shape shape; /* PATH_MAX2D and PATH_FAST: the plane's geometry */
    onn_pool2d_plan plan;   /* PATH_FAST */
    const double *count;    /* AveragePool, PATH_GENERIC: each output position's divisor */
} pool_cfg;

static onnorm_status check_x(onn_kctx *ctx, bool small_ints)
{
    const onnorm_tensor *x = ctx->in[0];
    char xs[128];
    bool ok = x->dtype == ONNORM_FLOAT || x->dtype == ONNORM_DOUBLE ||
              (small_ints && (x->dtype == ONNORM_INT8 || x->dtype == ONNORM_UINT8));
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "input 'X' has type %s; supported: float32, float64%s",
                         onnorm_dtype_name(x->dtype), small_ints ? ", int8, uint8" : "");
    if (x->rank < 3)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X must have rank >= 3 (N, C, spatial...), got %s",
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    return ONNORM_OK;
}

/* Reads int attribute `name` (default 0) when the opset defines it
 * (`defined`); otherwise it must be absent or 0. */
static onnorm_status flag_attr(onn_kctx *ctx, const char *name, bool defined, int64_t *out)
{
    onnorm_status st = onn_kattr_int(ctx, name, 0, out);
    if (st || defined || *out == 0) return st;
    return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                     "attribute '%s' is not defined for %s at opset %lld", name, ctx->node->op_type,
                     (long long)ctx->node->opset);
}

/* Attributes by opset (see the top of the file). */
static onnorm_status read_flags(onn_kctx *ctx, pool_cfg *cfg, int64_t *ceil_mode, bool *dilations)
{
    const int ver = onn_kversion(ctx);
    const bool max = cfg->kind == POOL_MAX;
    onnorm_status st;
    int64_t unused;
    *dilations = ver >= (max ? 10 : 19);
    if ((st = flag_attr(ctx, "ceil_mode", ver >= 10, ceil_mode)) ||
        (st = flag_attr(ctx, "storage_order", max && ver >= 8,
                        max ? &cfg->storage_order : &unused)) ||
        (st = flag_attr(ctx, "count_include_pad", !max && ver >= 7,
                        max ? &unused : &cfg->count_include_pad)))
        return st;
    if (max)
        cfg->count_include_pad = 0;
    else
        cfg->storage_order = 0;
    if (cfg->storage_order != 0 && cfg->storage_order != 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "storage_order must be 0 or 1, got %lld",
                         (long long)cfg->storage_order);
    return ONNORM_OK;
}

static onnorm_status pool_config(onn_kctx *ctx)
{
    pool_cfg *cfg = ctx->state;
    cfg->kind = *(const pool_kind *)ctx->kernel->data;
    const bool small_ints = cfg->kind == POOL_MAX && onn_kversion(ctx) >= 12;
    onnorm_status st = check_x(ctx, small_ints);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    int64_t ceil_mode;
    bool dilations;
    onn_win_attrs a;
    if ((st = read_flags(ctx, cfg, &ceil_mode, &dilations)) ||
        (st = onn_win_read(ctx, x->rank - 2, NULL, dilations, &a)) ||
        (st = onn_geom_forward(ctx, &a, x->dims + 2, ceil_mode != 0, &cfg->g)))
        return st;
    cfg->planes = x->dims[0] * x->dims[1];
    cfg->ops = type_ops(x->dtype);
    return ONNORM_OK;
}

static onnorm_status pool_infer(onn_kctx *ctx)
{
    const pool_cfg *cfg = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    onn_set_window_output(ctx, 0, x->dtype, x->dims[0], x->dims[1], cfg->g.nsp, cfg->g.grid);
    onn_set_window_output(ctx, 1, ONNORM_INT64, x->dims[0], x->dims[1], cfg->g.nsp, cfg->g.grid);
    return ONNORM_OK;
}

/* ---- MaxPool / AveragePool ---------------------------------------------- */

/* Plane p of the output: running max (with indices when idx != NULL) or sum. */
static void pool_plane(const pool_cfg *cfg, const char *x, char *y, int64_t *idx, size_t esz,
                       int64_t p)
{
    const onn_geom *g = &cfg->g;
    const int64_t len = g->line_len;
    const char *xp = x + (size_t)(p * g->sampled_size) * esz;
    char *yp = y + (size_t)(p * g->grid_size) * esz;
    int64_t *ip = idx ? idx + p * g->grid_size : NULL;
    if (cfg->kind == POOL_MAX)
        cfg->ops->fill_lowest(yp, g->grid_size);
    else
        memset(yp, 0, (size_t)g->grid_size * esz);
    for (int64_t i = 0; ip && i < g->grid_size; i++)
        ip[i] = -1;
    for (int64_t k = 0; k < g->kernel_size; k++) {
        onn_lines it;
        for (onn_lines_start(&it, g, k); it.line < g->n_lines; onn_lines_next(&it)) {
            int64_t base;
            if (!onn_lines_base(&it, &base)) continue;
            char *yl = yp + (size_t)(it.line * len) * esz;
            if (cfg->kind == POOL_MAX)
                cfg->ops->max_line(xp, yl, ip ? ip + it.line * len : NULL, p * g->sampled_size,
                                   base, it.lo, it.hi, it.step);
            else
                cfg->ops->sum_line(xp, yl, base, it.lo, it.hi, it.step);
        }
    }
}

/* Samples of grid position o's window along axis i that fall in [from, to). */
static int64_t axis_count(const onn_geom *g, int i, int64_t o, int64_t from, int64_t to)
{
    int64_t c = 0;
    for (int64_t k = 0; k < g->kernel[i]; k++) {
        int64_t p = o * g->stride[i] - g->pad_lo[i] + k * g->dilation[i];
        c += p >= from && p < to;
    }
    return c;
}

/* The divisor of every output position of an average into cnt. */
static void window_counts(const pool_cfg *cfg, double *cnt)
{
    const onn_geom *g = &cfg->g;
    for (int64_t pos = 0; pos < g->grid_size; pos++) {
        int64_t rem = pos, c = 1;
        for (int i = g->nsp - 1; i >= 0; i--) {
            int64_t o = rem % g->grid[i];
            rem /= g->grid[i];
            c *= cfg->count_include_pad
                     ? axis_count(g, i, o, -g->pad_lo[i], g->sampled[i] + g->pad_hi[i])
                     : axis_count(g, i, o, 0, g->sampled[i]);
        }
        /* A window with no sample at all (possible only with pads at least as
         * large as the window) averages nothing: its sum 0 stays 0. */
        cnt[pos] = c > 0 ? (double)c : 1.0;
    }
}

/* Row-major spatial positions of the index output -> column-major. */
static void to_column_major(const pool_cfg *cfg, int64_t *idx, int64_t n)
{
    const onn_geom *g = &cfg->g;
    for (int64_t i = 0; i < n; i++) {
        if (idx[i] < 0) continue;
        int64_t plane = idx[i] / g->sampled_size, rem = idx[i] % g->sampled_size, cm = 0, scale = 1;
        int64_t coord[ONN_MAX_SPATIAL];
        for (int d = g->nsp - 1; d >= 0; d--) {
            coord[d] = rem % g->sampled[d];
            rem /= g->sampled[d];
        }
        for (int d = 0; d < g->nsp; d++) {
            cm += coord[d] * scale;
            scale *= g->sampled[d];
        }
        idx[i] = plane * g->sampled_size + cm;
    }
}

/* The path of a MaxPool or AveragePool (see the top), and the plane
 * geometry of the 2-D float32 ones. */
static pool_path choose_path(onn_kctx *ctx, pool_cfg *cfg)
{
    const onn_geom *g = &cfg->g;
    if (ctx->in[0]->dtype != ONNORM_FLOAT || g->nsp != 2 || g->dilation[0] != 1 ||
        g->dilation[1] != 1 || onn_opt_output(ctx, 1))
        return PATH_GENERIC;
    cfg->shape = (onn_pool2d_shape){.h = g->sampled[0],
                                    .w = g->sampled[1],
                                    .oh = g->grid[0],
                                    .ow = g->grid[1],
                                    .kh = g->kernel[0],
                                    .kw = g->kernel[1],
                                    .sh = g->stride[0],
                                    .sw = g->stride[1],
                                    .pad_top = g->pad_lo[0],
                                    .pad_left = g->pad_lo[1],
                                    .pad_bottom = g->pad_hi[0],
                                    .pad_right = g->pad_hi[1]};
    const onn_pool2d_kind kind = cfg->kind == POOL_MAX ? ONN_POOL2D_MAX : ONN_POOL2D_AVG;
    if (onn_pool2d_plan_init(&cfg->plan, &cfg->shape, kind, onn_isa_active())) return PATH_FAST;
    return cfg->kind == POOL_MAX ? PATH_MAX2D : PATH_GENERIC;
}

/* The path; the fast path's scratch, one block per thread that may run it;
 * an average's divisors, which outlive the run in memory the node owns
 * (per output row and column for the fast path, per position otherwise). */
static onnorm_status pool_prepare(onn_kctx *ctx)
{
    pool_cfg *cfg = ctx->state;
    onnorm_status st;
    size_t bytes;
    cfg->path = choose_path(ctx, cfg);
    if (cfg->path == PATH_FAST) {
        if ((st = onn_kbytes(ctx, (size_t)ctx->num_threads, cfg->plan.scratch_bytes, 1, &bytes)))
            return st;
        onn_kscratch_need(ctx, bytes);
    }
    if (cfg->kind != POOL_AVG) return ONNORM_OK;
    if (cfg->path == PATH_FAST) {
        int64_t lh, lw;
        onn_pool2d_div_lens(&cfg->plan, &lh, &lw);
        if ((st = onn_kbytes(ctx, (size_t)(lh + lw), sizeof(float), 1, &bytes))) return st;
        float *div = onn_kalloc(ctx, bytes);
        if (!div) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
        onn_pool2d_divisors(&cfg->plan, cfg->count_include_pad != 0, div, div + lh);
        cfg->plan.div_h = div;
        cfg->plan.div_w = div + lh;
        return ONNORM_OK;
    }
    if ((st = onn_kbytes(ctx, (size_t)cfg->g.grid_size, sizeof(double), 1, &bytes))) return st;
    double *cnt = onn_kalloc(ctx, bytes);
    if (!cnt) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    window_counts(cfg, cnt);
    cfg->count = cnt;
    return ONNORM_OK;
}

/* The arguments of a pooling node's parallel loops. */
typedef struct pool_job {
    const pool_cfg *cfg;
    const char *x;
    char *y;
    int64_t *idx;
    size_t esz;
    void *scratch;
} pool_job;

/* A contiguous run of planes in one call. */
static void fast_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    const pool_job *j = arg;
    const pool_cfg *cfg = j->cfg;
    onn_pool2d_planes(&cfg->plan, (const float *)j->x + p0 * cfg->g.sampled_size,
                      (float *)j->y + p0 * cfg->g.grid_size, p1 - p0,
                      (float *)((char *)j->scratch + (size_t)worker * cfg->plan.scratch_bytes));
}

static void max2d_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const pool_job *j = arg;
    const onn_geom *g = &j->cfg->g;
    for (int64_t p = p0; p < p1; p++)
        for (int64_t oy = 0; oy < g->grid[0]; oy++)
            onn_pool2d_max_row(&j->cfg->shape, (const float *)j->x + p * g->sampled_size,
                               (float *)j->y + p * g->grid_size + oy * g->grid[1], oy);
}

static void generic_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const pool_job *j = arg;
    const pool_cfg *cfg = j->cfg;
    for (int64_t p = p0; p < p1; p++) {
        pool_plane(cfg, j->x, j->y, j->idx, j->esz, p);
        if (cfg->count)
            cfg->ops->div_line(j->y + (size_t)(p * cfg->g.grid_size) * j->esz, cfg->count,
                               cfg->g.grid_size);
    }
}

static onnorm_status pool_run(onn_kctx *ctx)
{
    const pool_cfg *cfg = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* Y omitted: nothing is asked for */
    const onnorm_tensor *x = ctx->in[0], *indices = onn_opt_output(ctx, 1);
    const size_t esz = onnorm_dtype_size(x->dtype);
    char *y = ctx->out[0]->data;
    int64_t *idx = indices ? indices->data : NULL;
    const onn_geom *g = &cfg->g;
    const int nt = onn_threads_for(ctx, cfg->planes * g->grid_size * g->kernel_size, cfg->planes);
    pool_job j = {cfg, x->data, y, idx, esz, ctx->scratch};
    /* PATH_MAX2D: on the small planes of exported networks the line walk
     * spent more on bookkeeping than on comparisons. */
    onn_parallel_range(nt, cfg->planes,
                       cfg->path == PATH_FAST    ? fast_planes
                       : cfg->path == PATH_MAX2D ? max2d_planes
                                                 : generic_planes,
                       &j);
    if (cfg->path != PATH_GENERIC) return ONNORM_OK;
    if (idx && cfg->storage_order == 1) to_column_major(cfg, idx, cfg->planes * g->grid_size);
    return ONNORM_OK;
}

/* ---- GlobalAveragePool ---------------------------------------------------- */

typedef struct gap_cfg {
    int64_t planes, size; /* N * C planes of `size` elements */
    const pool_type_ops *ops;
    onn_gap_fn gap; /* float32: the vector plane means */
} gap_cfg;

static onnorm_status gap_config(onn_kctx *ctx)
{
    gap_cfg *cfg = ctx->state;
    onnorm_status st = check_x(ctx, false);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    cfg->planes = x->dims[0] * x->dims[1];
    cfg->size = onn_dims_numel(x->dims, 2, x->rank);
    cfg->ops = type_ops(x->dtype);
    return ONNORM_OK;
}

static onnorm_status gap_infer(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK] = {x->dims[0], x->dims[1]};
    for (int i = 2; i < x->rank; i++)
        dims[i] = 1;
    onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    return ONNORM_OK;
}

static onnorm_status gap_prepare(onn_kctx *ctx)
{
    gap_cfg *cfg = ctx->state;
    cfg->gap = ctx->in[0]->dtype == ONNORM_FLOAT ? onn_gap_get(onn_isa_active()) : NULL;
    return ONNORM_OK;
}

/* Blocks of planes per thread: whole groups of the kernel's four. */
#define GAP_BLOCK 4

typedef struct gap_job {
    const gap_cfg *cfg;
    const char *x;
    char *y;
    size_t esz;
} gap_job;

static void gap_blocks(void *arg, int64_t b0, int64_t b1, int worker)
{
    (void)worker;
    const gap_job *j = arg;
    const int64_t planes = j->cfg->planes, size = j->cfg->size;
    const int64_t p0 = b0 * GAP_BLOCK, p1 = b1 * GAP_BLOCK < planes ? b1 * GAP_BLOCK : planes;
    if (p1 > p0) j->cfg->gap((const float *)j->x + p0 * size, p1 - p0, size, (float *)j->y + p0);
}

/* Sums are kept in double: a plane holds thousands of terms. The mean of an
 * empty plane is NaN (0 / 0), as numpy gives. */
static void mean_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const gap_job *j = arg;
    const int64_t size = j->cfg->size;
    for (int64_t p = p0; p < p1; p++) {
        double mean =
            j->cfg->ops->sum_plane(j->x + (size_t)(p * size) * j->esz, size) / (double)size;
        if (j->esz == sizeof(float))
            ((float *)j->y)[p] = (float)mean;
        else
            ((double *)j->y)[p] = mean;
    }
}

static onnorm_status gap_run(onn_kctx *ctx)
{
    const gap_cfg *cfg = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* Y omitted: nothing is asked for */
    const onnorm_tensor *x = ctx->in[0];
    const size_t esz = onnorm_dtype_size(x->dtype);
    const int64_t planes = cfg->planes, size = cfg->size;
    gap_job j = {cfg, x->data, ctx->out[0]->data, esz};
    if (cfg->gap) {
        /* Runs of whole blocks. */
        const int64_t blocks = (planes + GAP_BLOCK - 1) / GAP_BLOCK;
        onn_parallel_range(onn_threads_for(ctx, planes * size, blocks), blocks, gap_blocks, &j);
        return ONNORM_OK;
    }
    onn_parallel_range(onn_threads_for(ctx, planes * size, planes), planes, mean_planes, &j);
    return ONNORM_OK;
}

#define POOL_KERNEL(op, ver, outs, kind, prepare)                                                  \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 1, 1, 1, outs, pool_infer, prepare, pool_run),                     \
            .config = pool_config, .state_size = sizeof(pool_cfg), .data = &(kind)                 \
    }
#define MAXPOOL(ver, outs) POOL_KERNEL("MaxPool", ver, outs, pool_max, pool_prepare)
#define AVGPOOL(ver) POOL_KERNEL("AveragePool", ver, 1, pool_avg, pool_prepare)

ONN_KERNEL_TABLE(pool, MAXPOOL(1, 1), MAXPOOL(8, 2), MAXPOOL(10, 2), MAXPOOL(12, 2), AVGPOOL(1),
                 AVGPOOL(7), AVGPOOL(10), AVGPOOL(19),
                 {ONN_KERNEL("", "GlobalAveragePool", 1, 1, 1, 1, 1, gap_infer, gap_prepare,
                             gap_run),
                  .config = gap_config, .state_size = sizeof(gap_cfg)});
