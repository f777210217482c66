/*
 * Depthwise 2-D convolution of one channel plane, float32:
 *
 *   y[oy, ox] = act(bias + res[oy, ox] + sum_{ky,kx} w[ky, kx] * x[oy*sh - pt + ky*dh,
 *                                                                  ox*sw - pl + kx*dw])
 *
 * with x [h, w] zero outside the plane, y [oh, ow], w [kh, kw], the epilogue
 * of epilogue.h (per-channel bias, optional residual plane res of y's shape,
 * activation) applied in registers before the store.
 *
 * A caller plans once (prepare) and runs the plan per plane; planes are
 * independent, so callers split them across threads, each with its own
 * scratch_bytes of scratch. The plan picks the code for the instruction
 * set (ops/isa.h) and the shape:
 *
 *   fast     3x3, 5x5 and 7x7 kernels, stride 1 or 2 on both axes,
 *            dilation 1: the shapes of MobileNet, EfficientNet, MNASNet,
 *            ShuffleNet, RegNet and ConvNeXt. Vectorized along the output
 *            row with the kernel's taps held in registers (7x7's 49 partly
 *            in L1). Each input row is copied once into a small
 *            ring of zero-bordered rows in scratch (split into even and odd
 *            columns for stride 2), so every tap of every output vector is
 *            one unaligned load, the padding costs no test per element, and
 *            the last, partial vector of a row reads zeros and stores masked.
 *   generic  any other kernel, stride or dilation: row by row, one
 *            accumulate pass per tap over the range of the row that falls
 *            inside the input, then the epilogue over the row.
 */
#ifndef ONN_DWCONV_H
#define ONN_DWCONV_H

#include "ops/core/epilogue.h"
#include "ops/core/spatial.h"
#include "ops/isa.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The geometry of one plane. Padding after the plane (bottom, right)
 * follows from the output extents. */
typedef struct onn_dwconv_shape {
    int64_t h, w;   /* input plane (may be empty: all padding) */
    int64_t oh, ow; /* output plane, >= 1 each */
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t pad_top, pad_left; /* >= 0 */
} onn_dwconv_shape;

/* The shape of a 2-D window geometry (g->nsp == 2). */
static inline onn_dwconv_shape onn_dwconv_shape_of(const onn_geom *g)
{
    return (onn_dwconv_shape){.h = g->sampled[0],
                              .w = g->sampled[1],
                              .oh = g->grid[0],
                              .ow = g->grid[1],
                              .kh = g->kernel[0],
                              .kw = g->kernel[1],
                              .sh = g->stride[0],
                              .sw = g->stride[1],
                              .dh = g->dilation[0],
                              .dw = g->dilation[1],
                              .pad_top = g->pad_lo[0],
                              .pad_left = g->pad_lo[1]};
}

struct onn_dwconv_plan;

/* One plane: bias is the channel's (0 when the epilogue has none). */
typedef void (*onn_dwconv_fn)(const struct onn_dwconv_plan *p, const float *x, const float *w,
                              float *y, const float *res, const onn_epilogue *ep, float bias,
                              float *scratch);

typedef struct onn_dwconv_plan {
    onn_dwconv_shape s;
    onn_isa isa;
    bool fast;            /* the fast path (else generic) */
    int nu;               /* fast: the narrow path's vectors per output row; 0: the ring */
    int64_t pn, ph;       /* fast: floats of a ring row's column phase the taps read; its stride */
    size_t scratch_bytes; /* per thread, a multiple of 64 */
    onn_dwconv_fn fn;
} onn_dwconv_plan;

/* Plans shape s for variant isa; false when this build or CPU cannot run
 * that variant, or the shape is invalid (an empty output or kernel, a
 * stride or dilation below 1, negative padding). */
bool onn_dwconv_plan_init(onn_dwconv_plan *p, const onn_dwconv_shape *s, onn_isa isa);

/* Convolves plane x [h, w] with taps w [kh, kw] into y [oh, ow], adding
 * the residual plane res (may be NULL) and applying ep with the bias of
 * channel c. scratch holds p->scratch_bytes, 64-byte aligned. Allocates
 * nothing. */
static inline void onn_dwconv_plane(const onn_dwconv_plan *p, const float *x, const float *w,
                                    float *y, const float *res, const onn_epilogue *ep, int64_t c,
                                    float *scratch)
{
    p->fn(p, x, w, y, res, ep, ep->bias ? ep->bias[c] : 0.0f, scratch);
}

/*
 * The channels-last kernel (dwconv_cl.c): 8 channels at a time, one per
 * vector lane, over a zero-padded channels-last copy of their planes, any
 * kernel, stride and dilation (at most 1024 taps). AVX2 only.
 */
typedef struct onn_dwcl_plan {
    onn_dwconv_shape s;
    int64_t hp, wp;       /* the copy's padded rows and columns */
    size_t scratch_bytes; /* per thread, a multiple of 64 */
} onn_dwcl_plan;

/* False when variant isa has no such kernel or the shape is invalid or
 * empty. */
bool onn_dwcl_plan_init(onn_dwcl_plan *p, const onn_dwconv_shape *s, onn_isa isa);

/* Channels c0..c0+7: x their 8 input planes (plane_in floats apart), w
 * their taps (kh * kw per channel, channel after channel), y and res (may
 * be NULL, may be y) their output planes (oh * ow apart); ep's bias read
 * from c0 on. scratch: p->scratch_bytes, 64-byte aligned. */
void onn_dwcl_block(const onn_dwcl_plan *p, const float *x, int64_t plane_in, const float *w,
                    float *y, const float *res, const onn_epilogue *ep, int64_t c0, float *scratch);

/*
 * Pointwise convolution over few input channels (conv_pw.c): a 1x1 window,
 * stride 1, no padding, group 1, one image. AVX2 only.
 */
typedef struct onn_pw_args {
    const float *x;         /* k input rows, `xs` floats apart */
    const float *w;         /* m x k, row-major */
    float *y;               /* m output planes, `plane` floats apart */
    const float *res;       /* m residual planes added before the activation, or NULL; may be y */
    const onn_epilogue *ep; /* bias (per output channel) and activation */
    int64_t m, k, plane, xs;
} onn_pw_args;

/* True when variant isa has the kernel. */
bool onn_pw_supported(onn_isa isa);

/* Positions [p0, p1) of every output plane (reading the same positions of
 * x's rows), epilogue included. */
void onn_pw_range(const onn_pw_args *a, int64_t p0, int64_t p1);

/* Output channels [m0, m1) only, at positions [p0, p1). */
void onn_pw_block(const onn_pw_args *a, int64_t m0, int64_t m1, int64_t p0, int64_t p1);

/* n images' pointwise products cut into `tasks` pieces for a thread
 * count: by chunks of positions, and, where a plane is too small to give
 * every thread several of them, also by blocks of output channels (a
 * multiple of 4). */
typedef struct onn_pw_split {
    int64_t n, m, plane;
    int64_t chunk, chunks;   /* positions */
    int64_t mblock, mblocks; /* output channels */
    int64_t tasks;
} onn_pw_split;

void onn_pw_split_init(onn_pw_split *s, int64_t n, int64_t m, int64_t plane, int threads);

/* Task t (< s->tasks): image n, output channels [m0, m1), positions
 * [p0, p1). */
typedef struct onn_pw_piece {
    int64_t n, m0, m1, p0, p1;
} onn_pw_piece;

onn_pw_piece onn_pw_task(const onn_pw_split *s, int64_t t);

/* A 2-D convolution (group 1) as the pointwise kernel over one output row
 * at a time: the row's k = C * kh * kw input rows gathered (strides,
 * dilations and zero padding resolved) into scratch, then onn_pw_range.
 * For stems, whose C * kh * kw is small. AVX2 only (onn_pw_supported). */
typedef struct onn_pwrow_plan {
    int64_t c, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pad_top, pad_left;
    int64_t xs;           /* floats per gathered row (ow rounded up to 16) */
    size_t scratch_bytes; /* per thread, a multiple of 64 */
} onn_pwrow_plan;

/* False when the shape is empty or its gathered rows would be too large. */
bool onn_pwrow_plan_init(onn_pwrow_plan *p, int64_t c, int64_t h, int64_t w, int64_t oh, int64_t ow,
                         int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                         int64_t pad_top, int64_t pad_left);

/* Output row oy of one image: x its C input planes, w its m x (C * kh *
 * kw) weights, y and res its m output planes (oh * ow apart; res may be
 * NULL, may be y). scratch: p->scratch_bytes. */
void onn_pwrow_run(const onn_pwrow_plan *p, const float *x, const float *w, float *y,
                   const float *res, const onn_epilogue *ep, int64_t m, int64_t oy, float *scratch);

/*
 * A 1x1 expansion and the depthwise convolution over its output, fused
 * (conv_pwdw.c; the ai.onnorm ExpandDepthwise node): c input channels to
 * e expanded ones, the depthwise stage of shape s over the expanded planes
 * (s.h, s.w are X's). Tasks are 8 expanded channels of a band of `band`
 * output rows of one image.
 */
typedef struct onn_pwdw_plan {
    int64_t c, e, epad;   /* epad: e rounded up to 8 */
    onn_dwconv_shape s;   /* the depthwise stage */
    int64_t band;         /* output rows per task */
    int64_t rows, wp;     /* a band's channels-last copy: input rows and padded columns */
    size_t packed_floats; /* the packed weights (onn_pwdw_pack) */
    size_t scratch_bytes; /* per thread, a multiple of 64 */
} onn_pwdw_plan;

/* False for an invalid shape or one whose band copy would be too large. */
bool onn_pwdw_plan_init(onn_pwdw_plan *p, int64_t c, int64_t e, const onn_dwconv_shape *s);
/* W1 [e, c] and W2 [e, kh * kw] into packed (p->packed_floats). */
void onn_pwdw_pack(const onn_pwdw_plan *p, const float *w1, const float *w2, float *packed);
/* True when variant isa runs the vector code (else plain loops). */
bool onn_pwdw_fast(onn_isa isa);
/* Output rows [oy0, oy1) of expanded channels [e0, e0 + 8) (clipped to e;
 * e0 a multiple of 8) of one image: x its c planes, y its e output planes.
 * ep1 (bias B1, expand activation), ep2 (bias B2, activation). scratch:
 * p->scratch_bytes, 64-byte aligned. */
void onn_pwdw_run(const onn_pwdw_plan *p, const float *x, const float *packed,
                  const onn_epilogue *ep1, const onn_epilogue *ep2, float *y, int64_t oy0,
                  int64_t oy1, int64_t e0, float *scratch, bool fast);

#endif
