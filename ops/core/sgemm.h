/*
 * The packed single-precision matrix product of the convolutions:
 *
 *   C[m, n] = epilogue(A[m, k] * B[k, n])    (row-major C with leading dimension ldc)
 *
 * A holds constant weights (a convolution's W, output channels by
 * Cin/group * kh * kw), packed once while planning into the layout the
 * microkernel reads. B is the activation side: a row-major matrix (for a 1x1
 * convolution, X itself) or the virtual im2col matrix of a convolution,
 * read straight from the input image. The epilogue (epilogue.h: bias per
 * row, residual, activation) is applied as each C tile leaves the
 * registers, so C is written once and never read back for a second pass.
 *
 * Use:
 *   prepare:  e = onn_sgemm_engine_get(onn_isa_active());
 *             onn_sgemm_pack_a_size(e, m, k, &bytes); ap = onn_kalloc(ctx, bytes);
 *             onn_sgemm_pack_a(e, m, k, w, k, ap);
 *             onn_sgemm_scratch_size(e, m, n, k, ctx->num_threads, &bytes);
 *             onn_kscratch_need(ctx, bytes);
 *   run:      onn_sgemm_args p = {m, n, k, ap, {x, plane, &geom}, y, n, ...};
 *             onn_sgemm_parallel(e, &p, ctx->num_threads, ctx->scratch);
 * or, from the caller's own OpenMP loop, one onn_sgemm_tiles() call per
 * piece (onn_sgemm_split_for and onn_sgemm_split_piece give balanced
 * pieces), each with onn_sgemm_tile_scratch_size() bytes of scratch.
 *
 * Nothing here allocates, and the functions used at run (onn_sgemm_tiles,
 * onn_sgemm_parallel) read only their arguments, so runs may overlap.
 */
#ifndef ONN_SGEMM_H
#define ONN_SGEMM_H

#include "ops/core/epilogue.h"
#include "ops/core/spatial.h"
#include "ops/isa.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The B operand, k rows by n columns.
 *
 * im2col == NULL: a row-major matrix, element (r, j) at data[r * ld + j].
 *
 * im2col != NULL: the im2col matrix of a convolution with that geometry
 * (sampled = the input's spatial extents, grid = the output's), built from
 * the image `data` of k / kernel_size channels, channel c's plane starting
 * at data + c * ld (ld >= sampled_size). Row r is channel r / kernel_size at
 * kernel offset r % kernel_size (W's [Cin, k1, k2..] order), column j is
 * output position j (grid order), and the element is the input value that
 * position sees there, 0 in the padding. Then k = channels * kernel_size and
 * n = grid_size. Only the panels a call works on are formed, in scratch.
 */
typedef struct onn_sgemm_src {
    const float *data;
    int64_t ld;
    const onn_geom *im2col;
    const struct onn_sgemm_rows *rows; /* when not NULL: read in place (below); ld, im2col unused */
    /* When not NULL: B packed once by onn_sgemm_pack_b (this engine, the
     * product's k and n); data, ld, im2col and rows are unused, and pieces
     * must start at a multiple of nr columns (onn_sgemm_split_piece's do). */
    const float *packed;
} onn_sgemm_src;

/*
 * B read in place, never packed: element (r, j) at
 *   data[off[r] + (j / line) * pitch + j % line]
 * so that every row is a run of `line` contiguous floats per line of
 * columns. A 1x1 stride-1 convolution's X is such a matrix (off[r] = r *
 * plane, one line), and so is the padded copy of a stride-1 image for any
 * window: row (c, kh, kw) is the padded plane shifted by kh rows and kw
 * columns (off[r] = c * plane + kh * pitch + kw), the columns of output
 * row oh a line at oh * pitch (see onn_sgemm_conv_*). The microkernel
 * loads its tile's B vectors straight from these rows; tiles do not cross
 * lines. With `overread`, loads may run up to nr floats past a line's end
 * (the source has slack there): a tile cut short by the line's end is then
 * read in place too, else its columns are packed.
 */
typedef struct onn_sgemm_rows {
    const int64_t *off; /* k entries */
    int64_t line, pitch;
    bool overread;
} onn_sgemm_rows;

/* A function applied in place to runs of n finished values of C (x == y;
 * param NULL): an activation beyond epilogue.h's, such as Gelu's loop. */
typedef void (*onn_sgemm_post)(const void *x, void *y, int64_t n, const void *param);

/* One product. The epilogue computes, for every element (i, j):
 *   c[i * ldc + j] = post(act(acc + bias[i] + res[i * ldr + j]))
 * with bias and res optional (NULL). res may be c itself (ldr == ldc), which
 * accumulates onto C; other overlaps of res and c are not allowed. */
typedef struct onn_sgemm_args {
    int64_t m, n, k;
    const float *a; /* onn_sgemm_pack_a of this engine, m and k */
    onn_sgemm_src b;
    float *c;
    int64_t ldc; /* >= n */
    const float *res;
    int64_t ldr;
    onn_epilogue ep;     /* bias (m values), act, alpha, beta */
    onn_sgemm_post post; /* NULL: none; applied to each tile's rows as they are finished */
    /* When not NULL: A read in place instead, row-major, element (i, r) at
     * a_rows[i * lda + r], and `a` unused: an activation multiplied by
     * constant weights is not packed per run (MLAS reads it so too). Not
     * with a B read in place (b.rows). */
    const float *a_rows;
    int64_t lda;
} onn_sgemm_args;

typedef struct onn_sgemm_engine onn_sgemm_engine;

/*
 * One instruction-set variant: its microkernel computes an mr x nr tile of
 * C from an mr-row panel of packed A and an nr-column panel of packed B;
 * kc, mc, nc bound the cache blocks (see sgemm.c). Static and constant: a
 * prepared node may keep the pointer.
 */
struct onn_sgemm_engine {
    onn_isa isa;
    int mr, nr;
    int kc, mc, nc;
    const struct onn_sgemm_impl *impl; /* the variant's loops (sgemm.c) */
};

/* The engine of a variant, or NULL when this build or CPU lacks it. Pick
 * one at prepare: onn_sgemm_engine_get(onn_isa_active()). */
const onn_sgemm_engine *onn_sgemm_engine_get(onn_isa isa);

/* Bytes of packed A for an m x k matrix: its panels and a few hundred
 * bytes of slack (false on size_t overflow). */
bool onn_sgemm_pack_a_size(const onn_sgemm_engine *e, int64_t m, int64_t k, size_t *bytes);
/* Packs row-major A[m, k] (leading dimension lda) into dst
 * (onn_sgemm_pack_a_size bytes, float-aligned; onn_kalloc's 64 is best). */
void onn_sgemm_pack_a(const onn_sgemm_engine *e, int64_t m, int64_t k, const float *a, int64_t lda,
                      float *dst);

/* B packed once, for a constant B (a MatMul's or Gemm's weights) that many
 * products read: the panels onn_sgemm_tiles would pack per call, for every
 * k block and all n columns. Bytes for k x n (false on overflow), and the
 * packing of B (trans: B is stored n x k, element (r, j) at b[j * ldb + r];
 * else k x n, at b[r * ldb + j]) into dst (float-aligned; 64 is best). */
bool onn_sgemm_pack_b_size(const onn_sgemm_engine *e, int64_t k, int64_t n, size_t *bytes);
void onn_sgemm_pack_b(const onn_sgemm_engine *e, int64_t k, int64_t n, const float *b, int64_t ldb,
                      bool trans, float *dst);

/* ---- a piece of C, on the caller's thread --------------------------------------------- */

/* Scratch bytes one onn_sgemm_tiles call needs for a piece at most n
 * columns wide of a product with inner size k (false on overflow). */
bool onn_sgemm_tile_scratch_size(const onn_sgemm_engine *e, int64_t n, int64_t k, size_t *bytes);

/* Computes rows [m0, m1) and columns [n0, n1) of C, with the epilogue.
 * m0 is a multiple of e->mr (A is packed in panels of mr rows); n0 is
 * free. scratch: onn_sgemm_tile_scratch_size bytes for n1 - n0 columns,
 * owned by this call (float-aligned; 64-byte, as ctx->scratch, is best).
 * Pieces that do not overlap may run concurrently. */
void onn_sgemm_tiles(const onn_sgemm_engine *e, const onn_sgemm_args *p, int64_t m0, int64_t m1,
                     int64_t n0, int64_t n1, float *scratch);

/* A division of C into rows x cols pieces of about equal work. */
typedef struct onn_sgemm_split {
    int rows, cols;
} onn_sgemm_split;

/* The division of an m x n x k product over at most `threads` workers
 * that onn_sgemm_parallel uses: rows * cols <= threads, 1 x 1 for products
 * too small to be worth a second thread. Splitting columns gives each
 * worker its own B panels; splitting rows makes every worker of a column
 * range pack the same B panels, so rows are split only where columns do
 * not divide evenly enough (few columns: 7 x 7 = 49 of them are 3 panels
 * of 16 and 1 column). */
onn_sgemm_split onn_sgemm_split_for(const onn_sgemm_engine *e, int64_t m, int64_t n, int64_t k,
                                    int threads);
/* Piece `index` (< rows * cols) of that division: *m0..*m1, *n0..*n1. */
void onn_sgemm_split_piece(const onn_sgemm_engine *e, onn_sgemm_split s, int64_t m, int64_t n,
                           int index, int64_t *m0, int64_t *m1, int64_t *n0, int64_t *n1);

/* ---- the whole product over threads ------------------------------------------------- */

/* Scratch bytes of onn_sgemm_parallel for these sizes and thread count. */
bool onn_sgemm_scratch_size(const onn_sgemm_engine *e, int64_t m, int64_t n, int64_t k, int threads,
                            size_t *bytes);
/* The whole product, divided by onn_sgemm_split_for over an OpenMP team
 * of at most `threads`, each piece computed by onn_sgemm_tiles. Not from
 * inside a parallel region (that would nest teams); there, call
 * onn_sgemm_tiles per piece. */
void onn_sgemm_parallel(const onn_sgemm_engine *e, const onn_sgemm_args *p, int threads,
                        float *scratch);

/* ---- a whole convolution ------------------------------------------------------------ */

/*
 * Conv (and FusedConv) with constant weights, every image and group in
 * one OpenMP region:
 *
 *   Y[n, g*mg + i, o] = epilogue(sum_r W_g[i, r] * B_{n,g}[r, o])
 *
 * B_{n,g} being the im2col matrix of image n's group g. Its source, one of
 *   PACKED  packed per call by the engine: X's planes (1x1, stride 1, no
 *           padding) or the im2col panels (any geometry);
 *   CVEC    the output channels in the vectors and the positions broadcast,
 *           read from a channels-last zero-padded copy of the rows each
 *           thread's positions read (conv_cvec.c; a 3-D one in slabs of
 *           output slices); AVX2 engine, 1-D to 3-D;
 *   DIRECT  read in place (onn_sgemm_rows): X's planes for a 1x1, stride-1,
 *           unpadded convolution; for other 1-D and 2-D ones, a zero-padded
 *           copy of the image that each thread makes of the rows its own
 *           columns read (scratch), in which every row of B is a shifted
 *           view. Strides split the copy into phase planes: with stride s,
 *           the positions s * i + p of an axis go to phase p, so that the
 *           outputs of a line read consecutive floats of one phase plane
 *           for every kernel offset. The output lines are the lines of
 *           columns; the copy's rows are their pitch.
 * Plan (prepare): onn_sgemm_conv_plan fills the geometry and sizes,
 * onn_sgemm_conv_init packs W and the row offsets into const_bytes of the
 * caller's memory; run: onn_sgemm_conv_run with scratch_bytes of scratch.
 */
typedef enum onn_sgemm_conv_kind {
    ONN_SGEMM_CONV_AUTO = 0, /* the plan picks (sgemm_conv.c's cost model) */
    ONN_SGEMM_CONV_PACKED,
    ONN_SGEMM_CONV_DIRECT,
    ONN_SGEMM_CONV_CVEC,
} onn_sgemm_conv_kind;

typedef struct onn_sgemm_conv {
    const onn_sgemm_engine *e;
    onn_geom g;
    int64_t n, c, m, group;
    int64_t cg, mg, k; /* per group: input and output channels; B's rows, cg * kernel_size */
    onn_sgemm_conv_kind kind;
    bool copy; /* DIRECT from the padded copy (else from X in place) */
    /* The copy, per channel: phases[0] x phases[1] planes of rows x pitch
     * floats (phase plane p of an axis holds the padded positions p, p + s..
     * that the window reads); line: output columns per line (grid's last
     * extent; for X in place the whole grid). */
    int64_t phases[2], rows, pitch, chan, line;
    int64_t residue[2][8]; /* of each phase plane of an axis: its first padded position */
    int threads;           /* the team */
    int pieces;            /* per product: 1 (threads take whole products) or the team's split */
    onn_sgemm_split split;
    size_t const_bytes, scratch_bytes, per_thread, copy_at; /* copy_at: in a thread's scratch */
    /* onn_sgemm_conv_init */
    const float *wpack;
    size_t wpack_floats;
    const int64_t *off; /* DIRECT: the k row offsets; CVEC: per tap */
    /* CVEC: taps of the window and steps of k per tap; where the copy's
     * positions have no room between them and the window is not dilated
     * along a row, a tap is a whole row of the window (its kw positions'
     * channels are kw * cg consecutive floats), else one window offset. */
    int64_t vtaps, vsteps;
    bool vmerge;    /* CVEC: taps are window rows */
    int64_t slices; /* CVEC: the copy's padded depth slices (1 for 1-D, 2-D) of rows x pitch */
} onn_sgemm_conv;

/* The plan of a convolution: X [n, c, sampled..], W [m, c / group, kernel..]
 * (g: the geometry, 1 to ONN_MAX_SPATIAL axes), on at most `threads`;
 * kind forces a source (DIRECT and CVEC fall back to PACKED where they do
 * not apply). False when a size overflows. */
bool onn_sgemm_conv_plan(onn_sgemm_conv *cv, const onn_sgemm_engine *e, const onn_geom *g,
                         int64_t n, int64_t c, int64_t m, int64_t group, int threads,
                         onn_sgemm_conv_kind kind);
/* Packs W [m, c / group * kernel_size] and the offsets into mem
 * (cv->const_bytes, 64-byte aligned), which must live as long as cv. */
void onn_sgemm_conv_init(onn_sgemm_conv *cv, const float *w, void *mem);
/* Y from X, with the epilogue: ep's bias (m values) and activation, and
 * z (Y's shape, may be NULL) added before it. scratch: cv->scratch_bytes,
 * 64-byte aligned. Not from inside a parallel region. */
void onn_sgemm_conv_run(const onn_sgemm_conv *cv, const float *x, float *y, const float *z,
                        const onn_epilogue *ep, void *scratch);

/* ---- the channel-vector source (conv_cvec.c) ---------------------------------------- */

/* The channels-last copy of one image's group (onn_cvec_copy): x holds cg
 * volumes of depth x h x w floats (plane apart; depth 1 for an image);
 * padded row r of the copy (slice r / rows, row r % rows; pitch positions
 * of cs floats, cs from onn_cvec_position_floats) holds at column q input
 * (r / rows - pad_front, r % rows - pad_top, q - pad_left) in its first cg
 * floats, zero outside the input. */
typedef struct onn_cvec_copy_args {
    const float *x;
    int64_t cg, cs, plane, depth, h, w, pad_front, pad_top, pad_left, rows, pitch;
} onn_cvec_copy_args;

/* Floats per position of the copy of cg channels. */
int64_t onn_cvec_position_floats(int64_t cg);

/* Padded rows [r0, r1) of the copy into xp (row r0 first); avx2: the
 * variant's transposes. */
void onn_cvec_copy(const onn_cvec_copy_args *a, int64_t r0, int64_t r1, float *xp, bool avx2);

/* One piece of one product: positions [j0, j1) and channel blocks [b0, b1)
 * (of onn_cvec_lanes(mg)) of Y = epilogue(W * B), B read from the copy x
 * (its row row0 first): output position j (slice j / plane, line j % plane
 * / line, column j % line) at tap t reads the `steps` consecutive floats
 * at copy row slice * stride_d * rows + line * stride_h - row0, column
 * column * stride_w (cs floats per position), plus off[t]. */
typedef struct onn_cvec_args {
    const float *x;
    const int64_t *off; /* per tap, in floats */
    int64_t taps, steps, cs, line, plane, stride_d, stride_h, stride_w, rows, pitch, row0;
    const float *w; /* onn_cvec_pack of the group's weights */
    int64_t mg;     /* the group's output channels */
    int64_t b0, b1, j0, j1;
    float *y;               /* the group's first output plane */
    const float *z;         /* residual, as y, or NULL */
    int64_t ldy;            /* floats between output planes */
    const onn_epilogue *ep; /* bias: the group's */
} onn_cvec_args;

/* This build and variant have the channel-vector kernel. */
bool onn_cvec_supported(onn_isa isa);
/* Output channels per block and positions per tile, for mg output
 * channels per group (32 x 3, or 8 x 12 for 16 or fewer). */
int64_t onn_cvec_lanes(int64_t mg);
int64_t onn_cvec_tile(int64_t mg);
/* Floats of the packed weights of mg channels by k steps. */
size_t onn_cvec_pack_floats(int64_t mg, int64_t k);
/* Packs W [mg, cg, kh, kw] (one group's) in blocks of channels, k in the
 * order of the taps and their steps: taps the window's rows (merge: steps
 * (kw position, channel)) or its offsets (steps: channels). */
void onn_cvec_pack(int64_t mg, int64_t cg, int64_t kh, int64_t kw, bool merge, const float *w,
                   float *dst);
/* Scratch of one onn_cvec_run call (64-byte aligned). */
size_t onn_cvec_scratch_bytes(void);
void onn_cvec_run(const onn_cvec_args *a, void *scratch);

#endif
