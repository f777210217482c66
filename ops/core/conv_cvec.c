/*
 * The channel-vector source of the convolution engine (sgemm.h's
 * ONN_SGEMM_CONV_CVEC): the product C[m, n] = W[m, k] * B[k, n] computed
 * with the output channels in the vector lanes and the output positions
 * broadcast, the transpose of the packed product's orientation.
 *
 * Why. The packed product puts output positions in its vectors (16 per
 * tile), so a plane of 7 x 7 = 49 positions is 3 tiles and a half-wide
 * one, and every tile of the direct source stops at the end of an output
 * line (14 x 14: 16 + 16 lanes per 14 + 14 positions). The late layers of
 * ResNets and their kin have few positions and many channels; with the
 * channels in the vectors (m = 256, 512: whole blocks of 16) and the
 * positions broadcast one at a time, a tile of 6 positions may take them
 * from anywhere in the plane (each lane has its own base), so only the
 * plane's last tile is short. Nothing of B is packed: the positions are
 * read in place, X itself for a 1x1 stride-1 convolution and the DIRECT
 * source's zero-padded copy (with its phase planes for strides) otherwise.
 *
 * Layout of the packed weights, per group: blocks of 16 output channels
 * (the last padded with zero channels), each k steps of 16 floats:
 * wp[(b * k + r) * 16 + i] = W[b * 16 + i, r].
 *
 * Blocking. A thread's positions are taken in chunks of at most
 * CHUNK_TILES tiles (of 6), cut in equal parts; k is cut into runs of at
 * most KC_STEPS steps. For each run, the blocks of 16 channels (up to
 * GROUP_BLOCKS at a time) pass in turn, each block's 16 KB of weights for
 * the run staying in L1 while every tile of the chunk passes over them,
 * and the chunk's input rows for the run staying in L1 while the blocks
 * pass; a tile's 6 x 16 partial sums wait in a buffer (vector loads and
 * stores) between runs. When the last run is done the chunk is transposed
 * into Y's planes, with the bias and residual added, and the activation
 * applied to each channel's row of the chunk while it is still in cache.
 *
 * Fitted on Zen 3 (the fastest of 5-9 samples of 1-thread CPU time of
 * ResNet-18/50 layers, bench/sgemm_bench.c): runs of 256 steps, chunks of
 * 16 tiles.
 */
#include "ops/core/sgemm.h"

#include <string.h>

#define CV_LANES 16 /* output channels per block: two AVX2 vectors */
#define CV_TILE 6   /* output positions per tile */
#define KC_STEPS 256
#define CHUNK_TILES 16
#define GROUP_BLOCKS 32 /* blocks whose partial sums a chunk keeps at once */

size_t onn_cvec_pack_floats(int64_t mg, int64_t k)
{
    return (size_t)((mg + CV_LANES - 1) / CV_LANES) * CV_LANES * (size_t)k;
}

void onn_cvec_pack(int64_t mg, int64_t k, const float *w, float *dst)
{
    const int64_t blocks = (mg + CV_LANES - 1) / CV_LANES;
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t r = 0; r < k; r++)
            for (int64_t i = 0; i < CV_LANES; i++) {
                const int64_t o = b * CV_LANES + i;
                dst[(b * k + r) * CV_LANES + i] = o < mg ? w[o * k + r] : 0.0f;
            }
}

size_t onn_cvec_scratch_bytes(void)
{
    return (size_t)GROUP_BLOCKS * CHUNK_TILES * CV_TILE * CV_LANES * sizeof(float) +
           (size_t)CHUNK_TILES * CV_TILE * sizeof(int64_t);
}

/* The transposed store of a chunk: Y[o, j] = act(t[j][o] + bias[o] + Z[o, j])
 * for the block's channels o < valid and the chunk's positions. */
static void store_chunk(const onn_cvec_args *a, const float *tb, int64_t b, int64_t j0, int64_t j1)
{
    const int64_t o0 = b * CV_LANES;
    const int64_t valid = a->mg - o0 < CV_LANES ? a->mg - o0 : CV_LANES;
    const onn_epilogue *ep = a->ep;
    for (int64_t o = 0; o < valid; o++) {
        float *yr = a->y + (o0 + o) * a->ldy;
        const float bias = ep->bias ? ep->bias[o0 + o] : 0.0f;
        const float *t = tb + o;
        if (a->z) {
            const float *zr = a->z + (o0 + o) * a->ldy;
            for (int64_t j = j0; j < j1; j++)
                yr[j] = t[(j - j0) * CV_LANES] + bias + zr[j];
        } else {
            for (int64_t j = j0; j < j1; j++)
                yr[j] = t[(j - j0) * CV_LANES] + bias;
        }
        onn_act_row(ep->act, ep->alpha, ep->beta, yr + j0, j1 - j0);
    }
}

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

ONN_TARGET_AVX2_BEGIN
/* One tile: 6 positions (bases base[0..6) into x) by 16 channels, steps
 * [0, k) of the run (offsets off, weights w), onto the partial sums in t
 * (or from zero when first). */
static void cvec_tile_avx2(const float *x, const int64_t *base, const int64_t *off, int64_t k,
                           const float *w, float *t, bool first)
{
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (first) {
        c00 = c01 = c10 = c11 = c20 = c21 = _mm256_setzero_ps();
        c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
    } else {
        c00 = _mm256_load_ps(t), c01 = _mm256_load_ps(t + 8);
        c10 = _mm256_load_ps(t + 16), c11 = _mm256_load_ps(t + 24);
        c20 = _mm256_load_ps(t + 32), c21 = _mm256_load_ps(t + 40);
        c30 = _mm256_load_ps(t + 48), c31 = _mm256_load_ps(t + 56);
        c40 = _mm256_load_ps(t + 64), c41 = _mm256_load_ps(t + 72);
        c50 = _mm256_load_ps(t + 80), c51 = _mm256_load_ps(t + 88);
    }
    const float *x0 = x + base[0], *x1 = x + base[1], *x2 = x + base[2];
    const float *x3 = x + base[3], *x4 = x + base[4], *x5 = x + base[5];
    for (int64_t r = 0; r < k; r++) {
        const int64_t o = off[r];
        const __m256 w0 = _mm256_load_ps(w), w1 = _mm256_load_ps(w + 8);
        w += CV_LANES;
        __m256 v = _mm256_broadcast_ss(x0 + o);
        c00 = _mm256_fmadd_ps(v, w0, c00), c01 = _mm256_fmadd_ps(v, w1, c01);
        v = _mm256_broadcast_ss(x1 + o);
        c10 = _mm256_fmadd_ps(v, w0, c10), c11 = _mm256_fmadd_ps(v, w1, c11);
        v = _mm256_broadcast_ss(x2 + o);
        c20 = _mm256_fmadd_ps(v, w0, c20), c21 = _mm256_fmadd_ps(v, w1, c21);
        v = _mm256_broadcast_ss(x3 + o);
        c30 = _mm256_fmadd_ps(v, w0, c30), c31 = _mm256_fmadd_ps(v, w1, c31);
        v = _mm256_broadcast_ss(x4 + o);
        c40 = _mm256_fmadd_ps(v, w0, c40), c41 = _mm256_fmadd_ps(v, w1, c41);
        v = _mm256_broadcast_ss(x5 + o);
        c50 = _mm256_fmadd_ps(v, w0, c50), c51 = _mm256_fmadd_ps(v, w1, c51);
    }
    _mm256_store_ps(t, c00), _mm256_store_ps(t + 8, c01);
    _mm256_store_ps(t + 16, c10), _mm256_store_ps(t + 24, c11);
    _mm256_store_ps(t + 32, c20), _mm256_store_ps(t + 40, c21);
    _mm256_store_ps(t + 48, c30), _mm256_store_ps(t + 56, c31);
    _mm256_store_ps(t + 64, c40), _mm256_store_ps(t + 72, c41);
    _mm256_store_ps(t + 80, c50), _mm256_store_ps(t + 88, c51);
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
    if (a->j1 <= a->j0 || a->b1 <= a->b0 || a->k <= 0) return;
    float *tb = scratch;
    const int64_t per_block = CHUNK_TILES * CV_TILE * CV_LANES;
    int64_t *base = (int64_t *)(tb + GROUP_BLOCKS * per_block);
    /* Chunks of equal size: a last chunk of a tile or two would stream
     * every block's weights again for little work. */
    const int64_t tiles = (a->j1 - a->j0 + CV_TILE - 1) / CV_TILE;
    const int64_t chunks = (tiles + CHUNK_TILES - 1) / CHUNK_TILES;
    const int64_t chunk = (tiles + chunks - 1) / chunks * CV_TILE;
    for (int64_t j0 = a->j0; j0 < a->j1; j0 += chunk) {
        const int64_t j1 = a->j1 - j0 < chunk ? a->j1 : j0 + chunk;
        /* Each lane's base: position j of line j / line at j / line * pitch
         * + j % line; lanes past the chunk's end repeat its last position
         * (computed, never stored). */
        const int64_t lanes = (j1 - j0 + CV_TILE - 1) / CV_TILE * CV_TILE;
        for (int64_t i = 0; i < lanes; i++) {
            const int64_t j = j0 + i < j1 ? j0 + i : j1 - 1;
            base[i] = j / a->line * a->pitch + j % a->line;
        }
        for (int64_t g0 = a->b0; g0 < a->b1; g0 += GROUP_BLOCKS) {
            const int64_t g1 = a->b1 - g0 < GROUP_BLOCKS ? a->b1 : g0 + GROUP_BLOCKS;
            /* A run's rows of the chunk's input stay in L1 while the
             * blocks' weights for the run pass (16 KB each). */
            for (int64_t r0 = 0; r0 < a->k; r0 += KC_STEPS) {
                const int64_t kc = a->k - r0 < KC_STEPS ? a->k - r0 : KC_STEPS;
                for (int64_t b = g0; b < g1; b++) {
                    const float *wb = a->w + ((size_t)b * (size_t)a->k + (size_t)r0) * CV_LANES;
                    float *tbb = tb + (b - g0) * per_block;
                    for (int64_t i = 0; i < lanes; i += CV_TILE)
                        cvec_tile_avx2(a->x, base + i, a->off + r0, kc, wb, tbb + i * CV_LANES,
                                       r0 == 0);
                }
            }
            for (int64_t b = g0; b < g1; b++)
                store_chunk(a, tb + (b - g0) * per_block, b, j0, j1);
        }
    }
#else
    (void)a, (void)scratch;
#endif
}
