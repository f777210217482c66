/*
 * Sliding-window geometry shared by Conv, ConvTranspose and the pools.
 *
 * A window op relates a "grid" (the positions it produces one value for:
 * Conv's and the pools' output, ConvTranspose's input) to a "sampled" side
 * (Conv's input, ConvTranspose's output): grid position o along axis i and
 * kernel offset k touch sampled position
 *     p = o * stride[i] - pad_lo[i] + k * dilation[i],
 * which lies in the padding unless 0 <= p < sampled[i]. ConvTranspose is the
 * adjoint of Conv, so the same geometry serves both directions.
 *
 * Kernels walk the grid line by line (a line runs along the last spatial
 * axis) for one kernel offset at a time with an onn_lines iterator: it gives
 * the sampled index of each line's start and the contiguous range of grid
 * positions that fall inside the sampled extent, so inner loops carry no
 * bounds checks. That range is the same for every line of one kernel offset
 * and the iterator steps through lines without divisions, which matters for
 * short lines (a 3x3 kernel over a 56x56 plane visits 504 lines).
 *
 * The attribute readers (onn_win_read, onn_window_inputs) and the geometry
 * builders serve the kernels' config step, which keeps the onn_geom in the
 * state that infer, prepare and run read; run needs only the geometry,
 * onn_fill_bias and the iterator.
 */
#ifndef ONN_SPATIAL_H
#define ONN_SPATIAL_H

#include "ops/kernel.h"

/* Spatial axes follow the batch and channel axes. */
#define ONN_MAX_SPATIAL (ONNORM_MAX_RANK - 2)

typedef enum onn_auto_pad {
    ONN_PAD_NOTSET = 0,
    ONN_PAD_SAME_UPPER,
    ONN_PAD_SAME_LOWER,
    ONN_PAD_VALID
} onn_auto_pad;

/* The window attributes as the node states them (validated). */
typedef struct onn_win_attrs {
    int nsp; /* number of spatial axes */
    onn_auto_pad auto_pad;
    int64_t kernel[ONN_MAX_SPATIAL];
    int64_t stride[ONN_MAX_SPATIAL];
    int64_t dilation[ONN_MAX_SPATIAL];
    int64_t pads[2 * ONN_MAX_SPATIAL]; /* [x1_begin, x2_begin..., x1_end, ...] */
} onn_win_attrs;

typedef struct onn_geom {
    int nsp;
    int64_t sampled[ONN_MAX_SPATIAL];
    int64_t grid[ONN_MAX_SPATIAL];
    int64_t kernel[ONN_MAX_SPATIAL];
    int64_t stride[ONN_MAX_SPATIAL];
    int64_t dilation[ONN_MAX_SPATIAL];
    int64_t pad_lo[ONN_MAX_SPATIAL]; /* may be negative for ConvTranspose */
    int64_t pad_hi[ONN_MAX_SPATIAL];
    int64_t sampled_size, grid_size, kernel_size; /* element counts */
    int64_t line_len, n_lines;                    /* grid_size = n_lines * line_len */
} onn_geom;

/*
 * Reads kernel_shape, strides, dilations, pads and auto_pad for `nsp`
 * spatial axes. `wkernel` (W's spatial dims, NULL for pools) supplies
 * kernel_shape when the attribute is absent and must agree with it when
 * present. With allow_dilations false (an opset without them) dilations
 * other than 1 are refused.
 */
onnorm_status onn_win_read(onn_kctx *ctx, int nsp, const int64_t *wkernel, bool allow_dilations,
                           onn_win_attrs *a);

/*
 * Geometry of a forward window (Conv, pools) over `in` (nsp extents).
 * ceil_mode rounds the output size up, dropping a last window that would
 * start inside the end padding (so each window overlaps the input or the
 * begin padding). Fails when an output extent would be < 1.
 */
onnorm_status onn_geom_forward(onn_kctx *ctx, const onn_win_attrs *a, const int64_t *in,
                               bool ceil_mode, onn_geom *g);

/* Fills the derived counts of a geometry whose per-axis fields are set;
 * false when a count overflows. */
bool onn_geom_finish(onn_geom *g);

/* The grid lines seen at one kernel offset, in order:
 *   onn_lines it;
 *   for (onn_lines_start(&it, g, k); it.line < g->n_lines; onn_lines_next(&it))
 *       if (onn_lines_base(&it, &base)) ... positions j in [it.lo, it.hi) ...
 * Grid position j of the current line samples index base + j * it.step of
 * the sampled plane. */
typedef struct onn_lines {
    const onn_geom *g;
    int64_t line;                   /* index of the current line */
    int64_t lo, hi, step;           /* inside range and stride along the last axis */
    int64_t off;                    /* sampled offset of position 0 along the last axis */
    int64_t kpos[ONN_MAX_SPATIAL];  /* kernel offset coordinates */
    int64_t coord[ONN_MAX_SPATIAL]; /* grid coordinates of the line (outer axes) */
} onn_lines;

/* Conv and ConvTranspose: X and W float32, X of rank >= 3, W of X's rank,
 * and the `group` attribute (default 1) into *group. */
onnorm_status onn_window_inputs(onn_kctx *ctx, int64_t *group);
/* Conv and ConvTranspose: the optional bias B (input 2), if given, is a
 * float32 vector of the m output channels. */
onnorm_status onn_check_window_bias(onn_kctx *ctx, int64_t m);
/* Sets output i of a window op to dtype and shape [n, c, extents[0..nsp)]. */
void onn_set_window_output(onn_kctx *ctx, int i, onnorm_dtype dtype, int64_t n, int64_t c, int nsp,
                           const int64_t *extents);
/* Y [n, m, size...]: every plane starts as its channel's bias (input 2 of
 * Conv and ConvTranspose) or 0, so the products accumulate onto it. */
void onn_fill_bias(onn_kctx *ctx, int64_t n, int64_t m, int64_t size, float *y);
/* The per-group products of Conv (a = input channels per group, b = output
 * channels) and ConvTranspose (swapped) fit BLAS's int sizes: a, k, a * k,
 * b and the grid; else an unsupported error. */
onnorm_status onn_check_window_gemm(onn_kctx *ctx, int64_t a, int64_t k, int64_t b, int64_t grid);
/* prepare: run needs a [rows, cols] float matrix in scratch (Conv's im2col,
 * ConvTranspose's columns, named by `what` when the size overflows). */
onnorm_status onn_window_col_scratch(onn_kctx *ctx, int64_t rows, int64_t cols, const char *what);

/* The iterator is inline: it runs once per line, and lines can be short. */
static inline int64_t onn_ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* Kernel offset index -> per-axis kernel coordinates. */
static inline void onn_geom_kpos(const onn_geom *g, int64_t kidx, int64_t *kpos)
{
    for (int i = g->nsp - 1; i >= 0; i--) {
        kpos[i] = kidx % g->kernel[i];
        kidx /= g->kernel[i];
    }
}

static inline void onn_lines_start(onn_lines *it, const onn_geom *g, int64_t kidx)
{
    const int last = g->nsp - 1;
    const int64_t s = g->stride[last], n = g->sampled[last];
    it->g = g;
    it->line = 0;
    onn_geom_kpos(g, kidx, it->kpos);
    for (int i = 0; i < g->nsp; i++)
        it->coord[i] = 0;
    /* Position j samples off + j * s; inside when 0 <= off + j * s < n. */
    it->off = it->kpos[last] * g->dilation[last] - g->pad_lo[last];
    it->step = s;
    int64_t lo = it->off < 0 ? onn_ceil_div(-it->off, s) : 0;
    int64_t hi = n - 1 - it->off < 0 ? 0 : (n - 1 - it->off) / s + 1;
    if (hi > g->grid[last]) hi = g->grid[last];
    it->lo = lo < hi ? lo : hi;
    it->hi = hi;
}

/* False when the current line lies in the padding of an outer axis. */
static inline bool onn_lines_base(const onn_lines *it, int64_t *base)
{
    const onn_geom *g = it->g;
    int64_t idx = 0;
    for (int i = 0; i < g->nsp - 1; i++) {
        int64_t p = it->coord[i] * g->stride[i] - g->pad_lo[i] + it->kpos[i] * g->dilation[i];
        if (p < 0 || p >= g->sampled[i]) return false;
        idx = idx * g->sampled[i] + p;
    }
    *base = idx * g->sampled[g->nsp - 1] + it->off;
    return true;
}

static inline void onn_lines_next(onn_lines *it)
{
    it->line++;
    for (int i = it->g->nsp - 2; i >= 0; i--) {
        if (++it->coord[i] < it->g->grid[i]) return;
        it->coord[i] = 0;
    }
}

#endif
