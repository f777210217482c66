/*
 * The channel-vector source of the convolution engine (sgemm.h's
 * ONN_SGEMM_CONV_CVEC): Y[o, j] = sum_r W[o, r] * B[r, j] computed with 32
 * output channels in the vector lanes (four AVX2 vectors) and 3 output
 * positions broadcast, the transpose of the packed product's orientation.
 *
 * Why. The packed product puts output positions in its vectors (16 per
 * tile), so a plane of 7 x 7 = 49 positions is 3 tiles and a half-wide
 * one, and every tile of the direct source stops at the end of an output
 * line (14 x 14: 16 + 16 lanes per 14 + 14 positions). With the channels
 * in the vectors (m = 64..2048: whole blocks of 32) a tile's 3 positions
 * may come from anywhere in the plane (each has its own base), so only the
 * plane's last tile is short. And the step costs fewer loads: 3 broadcasts
 * and 4 vector loads per 12 multiply-adds, against 6 and 2 for a 6 x 16
 * tile, which on Zen 3 is the difference between about 72 and 88 GFLOP/s
 * of a core's 95 (a register-only loop of the same tiles).
 *
 * Layout. The source is a channels-last copy of the image, made by each
 * thread of the rows its positions read (scratch): padded row i, column q
 * holds the Cg channels of input position (i - pad_top, q - pad_left)
 * contiguously (zeros in the padding), so the steps of k go in the order
 * (tap, channel) and 8 consecutive steps are 8 consecutive floats: the
 * inner loop runs 8 steps at fixed displacements from three pointers, with
 * no index arithmetic. A tap is one window offset, or, where positions
 * follow each other with no room between them (fewer than 64 channels)
 * and the window is not dilated along its rows, a whole row of the window:
 * its kw positions' channels are kw x Cg consecutive floats (a 7x7 stem
 * over 3 channels: 7 taps of 21 steps rather than 49 of 3). Strides and
 * dilations are only the positions' bases and the taps' offsets. The
 * weights are packed per block of 32 output channels (the last block
 * padded with zero channels), in runs (below) of the same order.
 *
 * Blocking. A thread's positions are taken in chunks of at most
 * CHUNK_TILES tiles; for each chunk, the blocks pass in turn, every tile of
 * the chunk running all of k against the block's weights (the chunk's
 * input rows stay in L1/L2 while the blocks pass; a block's weights, k x
 * 128 bytes, in L2 while the tiles pass). Each block's chunk of results is
 * transposed into Y's planes at once, with the bias and residual added and
 * the activation applied to each channel's row while it is in cache.
 */
#include "ops/core/sgemm.h"

#include <string.h>

#define CV_LANES 32 /* output channels per block: four AVX2 vectors */
#define CV_TILE 3   /* output positions per tile */
/* The narrow tiles, for groups of at most 16 output channels (grouped
 * convolutions of 8 or 16 channels per group: RegNet's, ResNeXt's early
 * stages): one vector of 8 channels by 12 positions, 12 broadcasts and one
 * load per 12 multiply-adds. */
#define NARROW_LANES 8
#define NARROW_TILE 12
#define NARROW_MAX_OUT 16
/* Positions per chunk: 16 tiles (48 positions, three cache lines of each
 * output plane, so that the transposed store writes whole lines), or up
 * to MAX_CHUNK_TILES in one chunk where the piece has no more (a 7 x 7
 * plane's 17 tiles: its blocks' weights are then streamed once, not
 * twice; ResNet-18's last 3x3 layers 1.14x the packed source on one
 * thread against 0.9x). */
#define CHUNK_TILES 16
#define MAX_CHUNK_TILES 24
/* Steps of k per run (below): 1152 x 128 bytes of a block's weights, 144
 * KB, stay in L2 while a chunk's tiles pass. Shorter runs, with the
 * weights in L1, measured slower (a run then reads one or two cache lines
 * of each position per window offset, each a miss); longer ones stream
 * the weights of ResNet-18's last layers (590 KB a block) from L3 for
 * every tile. */
#define RUN_STEPS 1152

/* Steps per tap in a run of k: whole multiples of 8 (the unrolled steps),
 * at least 8; all of them where steps x taps fits. */
static int64_t run_channels(int64_t steps, int64_t taps)
{
    if (steps * taps <= RUN_STEPS) return steps;
    const int64_t rc = RUN_STEPS / taps / 8 * 8;
    return rc < 8 ? 8 : rc >= steps ? steps : rc;
}

int64_t onn_cvec_lanes(int64_t mg)
{
    return mg <= NARROW_MAX_OUT ? NARROW_LANES : CV_LANES;
}

int64_t onn_cvec_tile(int64_t mg)
{
    return mg <= NARROW_MAX_OUT ? NARROW_TILE : CV_TILE;
}

size_t onn_cvec_pack_floats(int64_t mg, int64_t k)
{
    const int64_t lanes = onn_cvec_lanes(mg);
    return (size_t)((mg + lanes - 1) / lanes) * (size_t)lanes * (size_t)k;
}

void onn_cvec_pack(int64_t mg, int64_t cg, int64_t kh, int64_t kw, bool merge, const float *w,
                   float *dst)
{
    const int64_t lanes = onn_cvec_lanes(mg);
    const int64_t blocks = (mg + lanes - 1) / lanes, k = cg * kh * kw;
    const int64_t taps = merge ? kh : kh * kw, steps = merge ? kw * cg : cg;
    const int64_t rc = run_channels(steps, taps);
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t c0 = 0; c0 < steps; c0 += rc) {
            const int64_t n = steps - c0 < rc ? steps - c0 : rc;
            float *run = dst + (b * k + c0 * taps) * lanes;
            for (int64_t t = 0; t < taps; t++)
                for (int64_t c = 0; c < n; c++) {
                    /* W's index of tap t, step c0 + c */
                    const int64_t st = c0 + c;
                    const int64_t ky = merge ? t : t / kw, kx = merge ? st / cg : t % kw;
                    const int64_t ch = merge ? st % cg : st;
                    const int64_t r = (ch * kh + ky) * kw + kx;
                    float *d = run + (t * n + c) * lanes;
                    for (int64_t i = 0; i < lanes; i++) {
                        const int64_t o = b * lanes + i;
                        d[i] = o < mg ? w[o * k + r] : 0.0f;
                    }
                }
        }
}

int64_t onn_cvec_position_floats(int64_t cg)
{
    /* From 64 channels on, an odd number of 64-byte lines per position:
     * at a power of two (256 channels: 1 KB) the same channel of every
     * position would fall in a few of L1's sets, and a tile's broadcasts
     * over the window (rows apart) would evict each other. */
    if (cg < 64) return cg;
    const int64_t cs = (cg + 15) / 16 * 16;
    return cs / 16 % 2 ? cs : cs + 16;
}

size_t onn_cvec_scratch_bytes(void)
{
    return (size_t)MAX_CHUNK_TILES * CV_TILE * CV_LANES * sizeof(float);
}

/* Channels [0, nc) of input row ih, columns [q0, q1), into dst (the copy's
 * position of column q0; cs floats per position). x: the first channel's
 * plane, planes `plane` apart, rows w floats long. */
static void copy_scalar(const float *x, int64_t plane, int64_t nc, int64_t cs, int64_t w,
                        int64_t ih, int64_t q0, int64_t q1, float *dst)
{
    for (int64_t c = 0; c < nc; c++) {
        const float *src = x + c * plane + ih * w;
        for (int64_t q = q0; q < q1; q++)
            dst[(q - q0) * cs + c] = src[q];
    }
}

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

ONN_TARGET_AVX2_BEGIN
#include "ops/core/avx2_lanes.h"

/* 8 channels (src, plane apart) by 8 positions into the copy (dst, cs
 * floats per position). */
static inline void copy_8x8_avx2(const float *src, int64_t plane, float *dst, int64_t cs)
{
    __m256 r[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(src + i * plane);
    onn_avx2_transpose8(r);
    for (int i = 0; i < 8; i++)
        _mm256_storeu_ps(dst + i * cs, r[i]);
}

/* As copy_scalar, 8 channels at a time; `avail`: the floats readable from
 * each plane's x + ih * w + q0 on (a last group of fewer than 8 positions
 * is read whole where they are there, and only its positions stored). */
static void copy_row_avx2(const float *x, int64_t plane, int64_t nc, int64_t cs, int64_t w,
                          int64_t ih, int64_t q0, int64_t q1, int64_t avail, float *dst)
{
    int64_t c = 0;
    for (; c + 8 <= nc; c += 8) {
        const float *src = x + c * plane + ih * w;
        int64_t q = q0;
        for (; q + 8 <= q1; q += 8)
            copy_8x8_avx2(src + q, plane, dst + (q - q0) * cs + c, cs);
        if (q < q1 && q - q0 + 8 <= avail) {
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = _mm256_loadu_ps(src + q + i * plane);
            onn_avx2_transpose8(r);
            for (int64_t i = 0; i < q1 - q; i++)
                _mm256_storeu_ps(dst + (q - q0 + i) * cs + c, r[i]);
            q = q1;
        }
        for (; q < q1; q++)
            for (int64_t i = 0; i < 8; i++)
                dst[(q - q0) * cs + c + i] = src[i * plane + q];
    }
    if (c < nc) copy_scalar(x + c * plane, plane, nc - c, cs, w, ih, q0, q1, dst + c);
}
ONN_TARGET_END
#endif

void onn_cvec_copy(const onn_cvec_copy_args *a, int64_t r0, int64_t r1, float *xp, bool avx2)
{
    const int64_t cs = a->cs, pitch = a->pitch;
    /* Columns of a row inside the image: q - pad_left in [0, w). */
    int64_t lo = a->pad_left < pitch ? a->pad_left : pitch;
    if (lo < 0) lo = 0;
    int64_t hi = a->pad_left + a->w < pitch ? a->pad_left + a->w : pitch;
    if (hi < lo) hi = lo;
    for (int64_t i = r0; i < r1; i++) {
        float *row = xp + (i - r0) * pitch * cs;
        const int64_t iz = i / a->rows - a->pad_front, ih = i % a->rows - a->pad_top;
        if (iz < 0 || iz >= a->depth || ih < 0 || ih >= a->h) {
            memset(row, 0, (size_t)(pitch * cs) * sizeof *row);
            continue;
        }
        /* Rows without padding columns (the whole input row, nothing
         * more) follow each other in the input as in the copy: one run of
         * positions for all of them. */
        int64_t rows = 1;
        if (lo == 0 && hi == pitch && pitch == a->w)
            while (i + rows < r1 && (i + rows) % a->rows != 0 && ih + rows < a->h)
                rows++;
        memset(row, 0, (size_t)(lo * cs) * sizeof *row);
        memset(row + hi * cs, 0, (size_t)((pitch - hi) * cs) * sizeof *row);
        /* input columns [lo - pad_left, hi - pad_left) of input row
         * iz * h + ih (the volume's rows in order) */
        const int64_t irow = iz * a->h + ih;
        const int64_t q0 = lo - a->pad_left, q1 = q0 + (rows - 1) * a->w + (hi - lo);
#ifdef ONN_HAVE_X86_VARIANTS
        if (avx2) {
            copy_row_avx2(a->x, a->plane, a->cg, cs, a->w, irow, q0, q1,
                          a->plane - irow * a->w - q0, row + lo * cs);
            i += rows - 1;
            continue;
        }
#endif
        (void)avx2;
        copy_scalar(a->x, a->plane, a->cg, cs, a->w, irow, q0, q1, row + lo * cs);
        i += rows - 1;
    }
}

/* The transposed store of a block's chunk: Y[o, j] = act(t[j][o] + bias[o]
 * + Z[o, j]) for the block's channels o < valid and positions [j0, j1):
 * channels [o0, valid) and positions [p0, j1) here (the rest by the
 * variant's vector loop), the activation on every row. */
static void store_rest(const onn_cvec_args *a, const float *tb, int64_t b, int64_t j0, int64_t j1,
                       int64_t o0, int64_t p0)
{
    const int64_t lanes = onn_cvec_lanes(a->mg), c0 = b * lanes;
    const int64_t valid = a->mg - c0 < lanes ? a->mg - c0 : lanes;
    const onn_epilogue *ep = a->ep;
    for (int64_t o = 0; o < valid; o++) {
        float *yr = a->y + (c0 + o) * a->ldy;
        const float bias = ep->bias ? ep->bias[c0 + o] : 0.0f;
        const float *t = tb + o;
        const float *zr = a->z ? a->z + (c0 + o) * a->ldy : NULL;
        for (int64_t j = o < o0 ? p0 : j0; j < j1; j++)
            yr[j] = t[(j - j0) * lanes] + bias + (zr ? zr[j] : 0.0f);
        onn_act_row(ep->act, ep->alpha, ep->beta, yr + j0, j1 - j0);
    }
}

#ifdef ONN_HAVE_X86_VARIANTS
ONN_TARGET_AVX2_BEGIN
/* Step j of k at the three positions' pointers p0..p2 and the weights w. */
#define CV_STEP(j)                                                                                 \
    do {                                                                                           \
        const __m256 b0 = _mm256_broadcast_ss(p0 + (j)), b1 = _mm256_broadcast_ss(p1 + (j));       \
        const __m256 b2 = _mm256_broadcast_ss(p2 + (j));                                           \
        __m256 v = _mm256_load_ps(w + (j)*CV_LANES);                                               \
        c00 = _mm256_fmadd_ps(b0, v, c00), c10 = _mm256_fmadd_ps(b1, v, c10);                      \
        c20 = _mm256_fmadd_ps(b2, v, c20);                                                         \
        v = _mm256_load_ps(w + (j)*CV_LANES + 8);                                                  \
        c01 = _mm256_fmadd_ps(b0, v, c01), c11 = _mm256_fmadd_ps(b1, v, c11);                      \
        c21 = _mm256_fmadd_ps(b2, v, c21);                                                         \
        v = _mm256_load_ps(w + (j)*CV_LANES + 16);                                                 \
        c02 = _mm256_fmadd_ps(b0, v, c02), c12 = _mm256_fmadd_ps(b1, v, c12);                      \
        c22 = _mm256_fmadd_ps(b2, v, c22);                                                         \
        v = _mm256_load_ps(w + (j)*CV_LANES + 24);                                                 \
        c03 = _mm256_fmadd_ps(b0, v, c03), c13 = _mm256_fmadd_ps(b1, v, c13);                      \
        c23 = _mm256_fmadd_ps(b2, v, c23);                                                         \
    } while (0)

/* One tile: 3 positions (bases base[0..3) into x, the run's first channel
 * added) by 32 channels, one run of k (taps window offsets off[], n
 * channels each) against the run's weights w, onto the partial sums in t
 * (3 x 32 floats; from zero when first). */
static void cvec_tile_avx2(const float *x, const int64_t *base, const int64_t *off, int64_t taps,
                           int64_t n, const float *w, float *t, bool first)
{
    __m256 c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23;
    if (first) {
        c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = _mm256_setzero_ps();
        c20 = c21 = c22 = c23 = _mm256_setzero_ps();
    } else {
        c00 = _mm256_load_ps(t), c01 = _mm256_load_ps(t + 8);
        c02 = _mm256_load_ps(t + 16), c03 = _mm256_load_ps(t + 24);
        c10 = _mm256_load_ps(t + 32), c11 = _mm256_load_ps(t + 40);
        c12 = _mm256_load_ps(t + 48), c13 = _mm256_load_ps(t + 56);
        c20 = _mm256_load_ps(t + 64), c21 = _mm256_load_ps(t + 72);
        c22 = _mm256_load_ps(t + 80), c23 = _mm256_load_ps(t + 88);
    }
    const int64_t c8 = n & ~(int64_t)7;
    for (int64_t tap = 0; tap < taps; tap++) {
        const float *p0 = x + (base[0] + off[tap]), *p1 = x + (base[1] + off[tap]);
        const float *p2 = x + (base[2] + off[tap]);
        for (int64_t c = 0; c < c8; c += 8) {
            CV_STEP(0);
            CV_STEP(1);
            CV_STEP(2);
            CV_STEP(3);
            CV_STEP(4);
            CV_STEP(5);
            CV_STEP(6);
            CV_STEP(7);
            p0 += 8, p1 += 8, p2 += 8, w += 8 * CV_LANES;
        }
        for (int64_t c = c8; c < n; c++) {
            CV_STEP(0);
            p0++, p1++, p2++, w += CV_LANES;
        }
    }
    _mm256_store_ps(t, c00), _mm256_store_ps(t + 8, c01);
    _mm256_store_ps(t + 16, c02), _mm256_store_ps(t + 24, c03);
    _mm256_store_ps(t + 32, c10), _mm256_store_ps(t + 40, c11);
    _mm256_store_ps(t + 48, c12), _mm256_store_ps(t + 56, c13);
    _mm256_store_ps(t + 64, c20), _mm256_store_ps(t + 72, c21);
    _mm256_store_ps(t + 80, c22), _mm256_store_ps(t + 88, c23);
}
#undef CV_STEP

/* The narrow tile: 12 positions by 8 channels, as cvec_tile_avx2. */
#define NW_ONE(i, j) c##i = _mm256_fmadd_ps(_mm256_broadcast_ss(p[i] + (j)), v, c##i)
#define NW_STEP(j)                                                                                 \
    do {                                                                                           \
        const __m256 v = _mm256_load_ps(w + (j)*NARROW_LANES);                                     \
        NW_ONE(0, j), NW_ONE(1, j), NW_ONE(2, j), NW_ONE(3, j), NW_ONE(4, j), NW_ONE(5, j);        \
        NW_ONE(6, j), NW_ONE(7, j), NW_ONE(8, j), NW_ONE(9, j), NW_ONE(10, j), NW_ONE(11, j);      \
    } while (0)

static void cvec_tile8_avx2(const float *x, const int64_t *base, const int64_t *off, int64_t taps,
                            int64_t n, const float *w, float *t, bool first)
{
    __m256 c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11;
    if (first) {
        c0 = c1 = c2 = c3 = c4 = c5 = _mm256_setzero_ps();
        c6 = c7 = c8 = c9 = c10 = c11 = _mm256_setzero_ps();
    } else {
        c0 = _mm256_load_ps(t), c1 = _mm256_load_ps(t + 8), c2 = _mm256_load_ps(t + 16);
        c3 = _mm256_load_ps(t + 24), c4 = _mm256_load_ps(t + 32), c5 = _mm256_load_ps(t + 40);
        c6 = _mm256_load_ps(t + 48), c7 = _mm256_load_ps(t + 56), c8 = _mm256_load_ps(t + 64);
        c9 = _mm256_load_ps(t + 72), c10 = _mm256_load_ps(t + 80), c11 = _mm256_load_ps(t + 88);
    }
    const int64_t c8n = n & ~(int64_t)7;
    for (int64_t tap = 0; tap < taps; tap++) {
        const float *p[NARROW_TILE];
        for (int i = 0; i < NARROW_TILE; i++)
            p[i] = x + (base[i] + off[tap]);
        for (int64_t c = 0; c < c8n; c += 8) {
            NW_STEP(0);
            NW_STEP(1);
            NW_STEP(2);
            NW_STEP(3);
            NW_STEP(4);
            NW_STEP(5);
            NW_STEP(6);
            NW_STEP(7);
            for (int i = 0; i < NARROW_TILE; i++)
                p[i] += 8;
            w += 8 * NARROW_LANES;
        }
        for (int64_t c = c8n; c < n; c++) {
            NW_STEP(0);
            for (int i = 0; i < NARROW_TILE; i++)
                p[i]++;
            w += NARROW_LANES;
        }
    }
    _mm256_store_ps(t, c0), _mm256_store_ps(t + 8, c1), _mm256_store_ps(t + 16, c2);
    _mm256_store_ps(t + 24, c3), _mm256_store_ps(t + 32, c4), _mm256_store_ps(t + 40, c5);
    _mm256_store_ps(t + 48, c6), _mm256_store_ps(t + 56, c7), _mm256_store_ps(t + 64, c8);
    _mm256_store_ps(t + 72, c9), _mm256_store_ps(t + 80, c10), _mm256_store_ps(t + 88, c11);
}
#undef NW_STEP
#undef NW_ONE

/* The transposed store, 8 channels by 8 positions at a time. */
static void store_chunk_avx2(const onn_cvec_args *a, const float *tb, int64_t b, int64_t j0,
                             int64_t j1)
{
    const int64_t lanes = onn_cvec_lanes(a->mg), c0 = b * lanes;
    const int64_t valid = a->mg - c0 < lanes ? a->mg - c0 : lanes;
    const int64_t o8 = valid & ~(int64_t)7, p8 = j0 + ((j1 - j0) & ~(int64_t)7);
    const float *bias = a->ep->bias ? a->ep->bias + c0 : NULL;
    for (int64_t o = 0; o < o8; o += 8) {
        __m256 bv[8];
        for (int i = 0; i < 8; i++)
            bv[i] = _mm256_set1_ps(bias ? bias[o + i] : 0.0f);
        for (int64_t j = j0; j < p8; j += 8) {
            __m256 r[8];
            for (int p = 0; p < 8; p++)
                r[p] = _mm256_load_ps(tb + (j - j0 + p) * lanes + o);
            onn_avx2_transpose8(r);
            for (int i = 0; i < 8; i++) {
                const int64_t row = (c0 + o + i) * a->ldy;
                __m256 v = _mm256_add_ps(r[i], bv[i]);
                if (a->z) v = _mm256_add_ps(v, _mm256_loadu_ps(a->z + row + j));
                _mm256_storeu_ps(a->y + row + j, v);
            }
        }
    }
    store_rest(a, tb, b, j0, j1, o8, p8);
}
ONN_TARGET_END
#endif

bool onn_cvec_supported(onn_isa isa)
{
#ifdef ONN_HAVE_X86_VARIANTS
    return isa == ONN_ISA_AVX2;
#else
    (void)isa;
    return false;
#endif
}

void onn_cvec_run(const onn_cvec_args *a, void *scratch)
{
#ifdef ONN_HAVE_X86_VARIANTS
    if (a->j1 <= a->j0 || a->b1 <= a->b0 || a->taps <= 0 || a->steps <= 0) return;
    float *tb = scratch;
    const int64_t k = a->taps * a->steps, rc = run_channels(a->steps, a->taps);
    const int64_t lanes = onn_cvec_lanes(a->mg), tile = onn_cvec_tile(a->mg);
    const int64_t max_tiles = MAX_CHUNK_TILES * CV_TILE / tile;
    /* 48 positions a chunk (whole lines of the output planes) */
    const int64_t tiles = (a->j1 - a->j0 + tile - 1) / tile;
    const int64_t chunk = (tiles <= max_tiles ? tiles : CHUNK_TILES * CV_TILE / tile) * tile;
    int64_t base[MAX_CHUNK_TILES * CV_TILE];
    for (int64_t j0 = a->j0; j0 < a->j1; j0 += chunk) {
        const int64_t j1 = a->j1 - j0 < chunk ? a->j1 : j0 + chunk;
        /* Each position's base: output (j / line, j % line) reads copy row
         * j / line * stride_h - row0, column j % line * stride_w; lanes past
         * the chunk's end repeat its last position (computed, never
         * stored). */
        const int64_t npos = (j1 - j0 + tile - 1) / tile * tile;
        for (int64_t i = 0; i < npos; i++) {
            const int64_t j = j0 + i < j1 ? j0 + i : j1 - 1;
            const int64_t sl = j / a->plane, in = j % a->plane;
            base[i] =
                (((sl * a->stride_d * a->rows + in / a->line * a->stride_h) - a->row0) * a->pitch +
                 in % a->line * a->stride_w) *
                a->cs;
        }
        for (int64_t b = a->b0; b < a->b1; b++) {
            /* The runs of k in turn, each run's weights in L2 while the
             * chunk's tiles pass. */
            for (int64_t c0 = 0; c0 < a->steps; c0 += rc) {
                const int64_t n = a->steps - c0 < rc ? a->steps - c0 : rc;
                const float *wr =
                    a->w + ((size_t)b * (size_t)k + (size_t)(c0 * a->taps)) * (size_t)lanes;
                for (int64_t i = 0; i < npos; i += tile) {
                    if (lanes == CV_LANES)
                        cvec_tile_avx2(a->x + c0, base + i, a->off, a->taps, n, wr, tb + i * lanes,
                                       c0 == 0);
                    else
                        cvec_tile8_avx2(a->x + c0, base + i, a->off, a->taps, n, wr, tb + i * lanes,
                                        c0 == 0);
                }
            }
            store_chunk_avx2(a, tb, b, j0, j1);
        }
    }
#else
    (void)a, (void)scratch;
#endif
}
