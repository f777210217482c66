/*
 * Float32 pooling of one 2-D plane, and the plane means of GlobalAveragePool,
 * compiled per instruction set (ops/isa.h) from the template pool_loops.h.
 *
 * MaxPool and AveragePool with a square 2x2 or 3x3 kernel, stride 1 or 2 on
 * both axes, dilation 1, any pads and either rounding (the shapes of
 * exported CNNs) take the fast path: vectorized along the output row, each
 * input row copied once into a small ring of rows in scratch that carries
 * the padding (-inf for a max, -0.0 for a sum: both leave every value as
 * it is), split into even and odd columns for stride 2, so that every
 * sample of an output vector is one unaligned load and the interior needs
 * no bounds check. The caller plans once (prepare) and runs the plan on
 * runs of consecutive planes, each thread on its own with its own
 * scratch_bytes of scratch.
 *
 * The results are those of the scalar loops in pool.c, bit for bit:
 *   - a window's samples are folded in row-major order from -inf (max,
 *     "sample > acc ? sample : acc", maxps's rule) or from +0.0 (sum), the
 *     order pool.c uses, so even the sign of a zero maximum is the same;
 *   - an average divides the float sum by the window's count in float,
 *     which rounds as pool.c's division in double followed by the float
 *     conversion does (a double holds the exact quotient to more than twice
 *     float's precision);
 *   - a NaN anywhere in a max window makes that maximum NaN, as pool.c's
 *     float32 2-D loop (onn_pool2d_max_row) gives: an output row whose input
 *     rows hold a NaN is recomputed by that loop. NaN inputs are rare, so
 *     the vector loop only notes them while copying rows.
 */
#ifndef ONN_POOL_PLANE_H
#define ONN_POOL_PLANE_H

#include "ops/isa.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum onn_pool2d_kind { ONN_POOL2D_MAX, ONN_POOL2D_AVG } onn_pool2d_kind;

/* The geometry of one plane. The end pads (bottom, right) matter only to
 * the divisors of count_include_pad: a ceil_mode window may reach beyond
 * them, and what lies there is not counted. */
typedef struct onn_pool2d_shape {
    int64_t h, w;   /* input plane */
    int64_t oh, ow; /* output plane, >= 1 each */
    int64_t kh, kw, sh, sw;
    int64_t pad_top, pad_left, pad_bottom, pad_right; /* >= 0 */
} onn_pool2d_shape;

struct onn_pool2d_plan;

typedef void (*onn_pool2d_fn)(const struct onn_pool2d_plan *p, const float *x, float *y,
                              int64_t planes, float *scratch);

typedef struct onn_pool2d_plan {
    onn_pool2d_shape s;
    onn_pool2d_kind kind;
    onn_isa isa;
    int vl;               /* float lanes of the variant */
    int64_t pn, ph;       /* floats of a ring row's column phase the loads reach; its stride */
    int64_t rn;           /* floats of a padded row the ring holds (all phases) */
    int64_t lo, hi;       /* the columns of a padded row that hold input (within rn) */
    size_t scratch_bytes; /* per thread, a multiple of 64 */
    /* AveragePool: the divisor of output (oy, ox) is div_h[oy] * div_w[ox]
     * (exact: small integers), arrays of onn_pool2d_div_lens() floats the
     * caller fills with onn_pool2d_divisors() and owns. */
    const float *div_h, *div_w;
    onn_pool2d_fn fn;
} onn_pool2d_plan;

/* The fast path covers shape s (see the top). */
bool onn_pool2d_fits(const onn_pool2d_shape *s);

/* Plans shape s (which must fit) for variant isa; false when this build or
 * CPU cannot run that variant. An AveragePool plan needs its divisors set
 * before it runs. */
bool onn_pool2d_plan_init(onn_pool2d_plan *p, const onn_pool2d_shape *s, onn_pool2d_kind kind,
                          onn_isa isa);

/* The lengths of div_h and div_w (div_w has room for whole vectors). */
void onn_pool2d_div_lens(const onn_pool2d_plan *p, int64_t *len_h, int64_t *len_w);

/* Fills div_h and div_w: per output row and column, the window's samples
 * inside the input, or with count_include_pad those inside the padded
 * extent; an axis with none counts 1, so that a window of padding only
 * averages to 0 as pool.c gives. */
void onn_pool2d_divisors(const onn_pool2d_plan *p, bool count_include_pad, float *div_h,
                         float *div_w);

/* Pools `planes` consecutive planes x [planes, h, w] into y [planes, oh,
 * ow]. scratch holds p->scratch_bytes, 64-byte aligned. Allocates nothing.
 * A run of planes per call: the ring's padding is written once per call. */
static inline void onn_pool2d_planes(const onn_pool2d_plan *p, const float *x, float *y,
                                     int64_t planes, float *scratch)
{
    p->fn(p, x, y, planes, scratch);
}

/* Output row oy of a float32 2-D MaxPool of any kernel and stride (dilation
 * 1), one window at a time with its bounds clipped to the input: the
 * reference semantics of the fast path (NaN in a window gives NaN), and
 * pool.c's loop for the shapes the fast path does not cover. */
void onn_pool2d_max_row(const onn_pool2d_shape *s, const float *x, float *y, int64_t oy);

/* GlobalAveragePool over float32: y[i] = the mean of x[i * size, (i + 1) * size)
 * for i < planes, summed in double. Several planes at a time when they are
 * small, so that the additions of different planes overlap. */
typedef void (*onn_gap_fn)(const float *x, int64_t planes, int64_t size, float *y);

/* The variant's plane means, or NULL when this build or CPU cannot run it. */
onn_gap_fn onn_gap_get(onn_isa isa);

#endif
