/*
 * The packed single-precision product of sgemm.h.
 *
 * Blocking (GotoBLAS / BLIS): C is computed in MR x NR tiles by a
 * microkernel that keeps the tile in registers for a run of KC steps of the
 * inner dimension. Around it,
 *   - B is packed per call, KC rows by NC columns at a time (256 x 256 for
 *     AVX2: 256 KB, still in L2 when the tiles read it), into column
 *     panels of NR; each KC x NR panel (16 KB for AVX2) stays in L1 while
 *     every A panel of a row block passes over it. (Blocks of 128 to 1024
 *     columns measured the same within the noise of a shared machine.)
 *   - A is packed once, at prepare, into row panels of MR: panel i holds
 *     rows i * MR.. as k steps of MR floats (column by column), the last
 *     panel padded with zero rows. A block of MC rows by KC steps, the part
 *     the B panels meet in turn, stays in L2. The layout does not depend on
 *     KC: a block is a contiguous stretch of each panel, so one packing
 *     serves every blocking.
 * K is cut into blocks of equal size (at most KC), so that a K a little
 * over KC does not leave a thin last block. The first block writes C (with
 * bias and residual), later ones add onto it, the last applies the
 * activation: C is never read before this product writes it.
 *
 * The loops are one template (sgemm_loops.h) compiled per instruction set:
 *   AVX2 + FMA  6 x 16: 12 ymm accumulators, 2 loads and 6 broadcasts per
 *               12 FMAs (BLIS's Haswell/Zen sgemm shape).
 *   AVX-512F    8 x 32: 16 zmm accumulators; 8 rows divide the channel
 *               counts of convolutions, which come in multiples of 8.
 *   portable    4 x 8 with 4-float GCC vectors (SSE2 on x86-64, NEON on
 *               arm64, plain scalar code elsewhere).
 * Edges: the last row panel (m not a multiple of MR) runs a microkernel
 * instance for its row count, and a last column panel of at most NR / 2
 * columns (ResNet's 7 x 7 = 49 columns: 3 panels and 1 column) a
 * half-width one, instead of computing padding; a panel C cuts short in
 * width goes through a tile in local memory.
 */
#include "ops/core/sgemm.h"

#include "ops/core/threadpool.h"
#include <string.h>

/* The microkernel prefetches packed A this many k steps ahead. */
#define A_AHEAD 16

/* ---- what the template shares ------------------------------------------------------- */

/* What the driver tells the microkernel about a tile's epilogue. */
typedef struct tile_ep {
    const float *bias; /* MR values (the first k block), or NULL */
    const float *res;  /* the tile's residual (the first k block), or NULL */
    int64_t ldr;
    bool load_c; /* add C's partial sum (every k block after the first) */
    onn_act act; /* the last k block's activation, else ONN_ACT_NONE */
    float alpha, beta;
    const float *pf; /* a source read in place: the next tile's B, to prefetch (or NULL) */
    int64_t lda;     /* A read in place (onn_sgemm_args.a_rows): its row step */
} tile_ep;

/* The im2col rows of one packing call: columns [n0, n0 + nc), row by row. */
typedef struct im2col_walk {
    const onn_geom *g;
    const float *x;
    int64_t ld;
    int64_t coord0[ONN_MAX_SPATIAL]; /* column n0's line: grid coordinates of the outer axes */
    int64_t j0, nc;                  /* n0's position on that line; columns per row */
    int64_t c;                       /* the current row: its channel */
    int64_t kpos[ONN_MAX_SPATIAL];   /* and kernel offset */
    int64_t koff[ONN_MAX_SPATIAL];   /* input position of grid position 0 on each axis */
    int64_t lo, hi;                  /* the positions of a line that fall inside the input */
} im2col_walk;

/* koff, lo and hi from kpos (as onn_lines_start computes them). */
static void im2col_kernel_pos(im2col_walk *w)
{
    const onn_geom *g = w->g;
    const int last = g->nsp - 1;
    for (int i = 0; i < g->nsp; i++)
        w->koff[i] = w->kpos[i] * g->dilation[i] - g->pad_lo[i];
    const int64_t off = w->koff[last], s = g->stride[last], n = g->sampled[last];
    int64_t lo, hi;
    if (s == 1) {
        lo = off < 0 ? -off : 0;
        hi = n - off;
    } else {
        lo = off < 0 ? onn_ceil_div(-off, s) : 0;
        hi = n - 1 - off < 0 ? 0 : (n - 1 - off) / s + 1;
    }
    if (hi > g->grid[last]) hi = g->grid[last];
    if (hi < 0) hi = 0;
    w->lo = lo < hi ? lo : hi;
    w->hi = hi;
}

static void im2col_start(im2col_walk *w, const onn_sgemm_src *src, int64_t k0, int64_t n0,
                         int64_t nc)
{
    const onn_geom *g = src->im2col;
    w->g = g, w->x = src->data, w->ld = src->ld, w->nc = nc;
    w->c = k0 / g->kernel_size;
    onn_geom_kpos(g, k0 % g->kernel_size, w->kpos);
    im2col_kernel_pos(w);
    int64_t line = n0 / g->line_len;
    w->j0 = n0 % g->line_len;
    for (int i = g->nsp - 2; i >= 0; i--) {
        w->coord0[i] = line % g->grid[i];
        line /= g->grid[i];
    }
}

/* The next row: the next kernel offset, or the next channel's first. */
static void im2col_next(im2col_walk *w)
{
    const onn_geom *g = w->g;
    int i = g->nsp - 1;
    for (; i >= 0; i--) {
        if (++w->kpos[i] < g->kernel[i]) break;
        w->kpos[i] = 0;
    }
    if (i < 0) w->c++;
    im2col_kernel_pos(w);
}

/* The columns of an im2col matrix read the image at a constant offset
 * (column n at n + delta, in the lines inside it): at most 2-D, stride 1,
 * and the output lines as long as the input's. */
static bool im2col_shifted(const onn_geom *g)
{
    const int last = g->nsp - 1;
    return g->nsp <= 2 && g->stride[0] == 1 && g->stride[last] == 1 &&
           g->grid[last] == g->sampled[last];
}

/* A variant's loops, which the drivers below call block by block. */
typedef struct onn_sgemm_impl {
    /* Packs rows [k0, k0 + kc) and columns [n0, n0 + nc) of B into bp
     * (row: scratch for one im2col row of nc floats). */
    void (*pack)(const onn_sgemm_src *src, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
                 float *bp, float *row);
    /* Rows [m0, m1) of C for the packed block bp (columns [jc, jc + nc),
     * k steps [k0, k0 + kc)), the first and/or last k block. */
    void (*block)(const onn_sgemm_args *p, int64_t m0, int64_t m1, int64_t jc, int64_t nc,
                  int64_t k0, int64_t kc, bool first, bool last, const float *bp);
    /* The same with B read in place (p->b.rows); panel: kc x nr floats. */
    void (*block_direct)(const onn_sgemm_args *p, int64_t m0, int64_t m1, int64_t jc, int64_t nc,
                         int64_t k0, int64_t kc, bool first, bool last, float *panel);
} onn_sgemm_impl;

/* The row of packed B being written, and its panels' shape. */
typedef struct panel_row {
    float *bp;
    int64_t kc, r;
    int64_t full, wl; /* full panels, then one of width wl */
} panel_row;

/* The k blocking: *blocks (>= 1, also for k == 0) blocks of the returned
 * size, the last possibly shorter, none longer than kc_max. */
static int64_t k_block(int64_t k, int64_t kc_max, int64_t *blocks)
{
    *blocks = k <= kc_max ? 1 : (k + kc_max - 1) / kc_max;
    return (k + *blocks - 1) / *blocks;
}

static int64_t round_up(int64_t v, int64_t to)
{
    return (v + to - 1) / to * to;
}

/* The columns of packed B a piece of n columns needs: whole panels, at most nc_max. */
static int64_t bp_cols(int64_t n, int64_t nr, int64_t nc_max)
{
    return round_up(n, nr) < nc_max ? round_up(n, nr) : nc_max;
}

/* Floats of packed B for a k block of kcb rows and a piece of n columns,
 * rounded to whole 64-byte lines; the im2col row buffer (bp_cols floats)
 * follows in scratch. */
static int64_t bp_floats(int64_t kcb, int64_t n, int64_t nr, int64_t nc_max)
{
    return round_up(kcb * bp_cols(n, nr, nc_max), 16);
}

/* ---- the portable variant ------------------------------------------------------------- */

typedef float onn_v4f __attribute__((vector_size(16)));
typedef int32_t onn_v4i __attribute__((vector_size(16)));
typedef uint32_t onn_v4u __attribute__((vector_size(16)));

static inline onn_v4f v4_loadu(const float *p)
{
    onn_v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void v4_storeu(float *p, onn_v4f v)
{
    memcpy(p, &v, sizeof v);
}

/* a where a > b, else b (as _mm_max_ps: b when either is NaN). */
static inline onn_v4f v4_max(onn_v4f a, onn_v4f b)
{
    const onn_v4i m = a > b;
    return (onn_v4f)((m & (onn_v4i)a) | (~m & (onn_v4i)b));
}

static inline onn_v4f v4_min(onn_v4f a, onn_v4f b)
{
    const onn_v4i m = a < b;
    return (onn_v4f)((m & (onn_v4i)a) | (~m & (onn_v4i)b));
}

static inline onn_v4f v4_pow2(onn_v4f t)
{
    return (onn_v4f)(((onn_v4u)t << 23) + 0x3f800000u);
}

#define SFX scalar
#define ISA ONN_ISA_SCALAR
#define VF onn_v4f
#define VL 4
#define MR 4
#define NV 2
#define KC 256
#define MC 128
#define NC 256
#define V_ZERO() ((onn_v4f){0.0f, 0.0f, 0.0f, 0.0f})
#define V_SET1(s) (V_ZERO() + (s))
#define V_LOADU v4_loadu
#define V_STOREU v4_storeu
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_MUL(a, b) ((a) * (b))
#define V_DIV(a, b) ((a) / (b))
#define V_FMA(a, b, c) ((a) * (b) + (c))
#define V_MAX v4_max
#define V_MIN v4_min
#define V_POW2 v4_pow2
#include "ops/core/sgemm_loops.h"

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

/* ---- AVX2 + FMA --------------------------------------------------------------------------- */
ONN_TARGET_AVX2_BEGIN
/* Elements 0, 2, .. 14 of s[0..16). */
static inline __m256 even_avx2(const float *s)
{
    const __m256 t = _mm256_shuffle_ps(_mm256_loadu_ps(s), _mm256_loadu_ps(s + 8), 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), 0xd8));
}

#define SFX avx2
#define ISA ONN_ISA_AVX2
#define VF __m256
#define VL 8
#define MR 6
#define NV 2
#define KC 256
#define MC 144
#define NC 256
#define V_ZERO _mm256_setzero_ps
#define V_SET1 _mm256_set1_ps
#define V_LOADU _mm256_loadu_ps
#define V_STOREU _mm256_storeu_ps
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_FMA _mm256_fmadd_ps
#define V_MAX _mm256_max_ps
#define V_MIN _mm256_min_ps
#define V_POW2(t)                                                                                  \
    _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(t), 23),            \
                                         _mm256_set1_epi32(0x3f800000)))
#define V_EVEN even_avx2
#include "ops/core/sgemm_loops.h"
ONN_TARGET_END

/* ---- AVX-512F ----------------------------------------------------------------------------- */
ONN_TARGET_AVX512_BEGIN
/* Elements 0, 2, .. 30 of s[0..32). */
static inline __m512 even_avx512(const float *s)
{
    const __m512i idx =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(s), idx, _mm512_loadu_ps(s + 16));
}

#define SFX avx512
#define ISA ONN_ISA_AVX512
#define VF __m512
#define VL 16
#define MR 8
#define NV 2
#define KC 192
#define MC 128
#define NC 256
#define V_ZERO _mm512_setzero_ps
#define V_SET1 _mm512_set1_ps
#define V_LOADU _mm512_loadu_ps
#define V_STOREU _mm512_storeu_ps
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_DIV _mm512_div_ps
#define V_FMA _mm512_fmadd_ps
#define V_MAX _mm512_max_ps
#define V_MIN _mm512_min_ps
#define V_POW2(t)                                                                                  \
    _mm512_castsi512_ps(_mm512_add_epi32(_mm512_slli_epi32(_mm512_castps_si512(t), 23),            \
                                         _mm512_set1_epi32(0x3f800000)))
#define V_EVEN even_avx512
#include "ops/core/sgemm_loops.h"
ONN_TARGET_END
#endif /* x86-64 */

/* ---- the public functions ------------------------------------------------------------- */

const onn_sgemm_engine *onn_sgemm_engine_get(onn_isa isa)
{
    if (!onn_isa_supported(isa)) return NULL;
    switch (isa) {
#ifdef ONN_HAVE_X86_VARIANTS
    case ONN_ISA_AVX2: return &engine_avx2;
    case ONN_ISA_AVX512: return &engine_avx512;
#endif
    default: return &engine_scalar;
    }
}

/* a * b * c elements of esz bytes, or false on overflow. */
static bool size_mul(int64_t a, int64_t b, int64_t c, size_t esz, size_t *out)
{
    if (a < 0 || b < 0 || c < 0) return false;
    size_t r = esz;
    const int64_t f[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (f[i] && r > SIZE_MAX / (size_t)f[i]) return false;
        r *= (size_t)f[i];
    }
    *out = r;
    return true;
}

/* The panels, and A_AHEAD steps of zeros after them for the microkernel's
 * prefetches past the last one to land in. */
bool onn_sgemm_pack_a_size(const onn_sgemm_engine *e, int64_t m, int64_t k, size_t *bytes)
{
    size_t panels;
    if (m < 0 || k < 0 || !size_mul(round_up(m, e->mr), k, 1, sizeof(float), &panels)) return false;
    const size_t slack = m && k ? (size_t)(A_AHEAD * e->mr) * sizeof(float) : 0;
    if (panels > SIZE_MAX - slack) return false;
    *bytes = panels + slack;
    return true;
}

/* The full mr-row panels of one k block (a at its first column): returns
 * the rows done and advances *dst past them. */
static inline __attribute__((always_inline)) int64_t
pack_a_full(const int mr, int64_t m, int64_t kc, const float *a, int64_t lda, float **dst)
{
    int64_t i0 = 0;
    float *d = *dst;
    for (; i0 + mr <= m; i0 += mr, d += kc * mr) {
        const float *ar = a + i0 * lda;
        for (int64_t p = 0; p < kc; p++)
#pragma GCC unroll 8
            for (int r = 0; r < mr; r++)
                d[p * mr + r] = ar[r * lda + p];
    }
    *dst = d;
    return i0;
}

void onn_sgemm_pack_a(const onn_sgemm_engine *e, int64_t m, int64_t k, const float *a, int64_t lda,
                      float *dst)
{
    const int mr = e->mr;
    int64_t nkb;
    const int64_t kcb = k_block(k, e->kc, &nkb);
    for (int64_t k0 = 0; k0 < k; k0 += kcb) {
        const int64_t kc = k - k0 < kcb ? k - k0 : kcb;
        int64_t i0 = 0;
        /* Full panels, the row count a constant (the loop over it unrolls,
         * no test per element). */
        switch (mr) {
        case 4: i0 = pack_a_full(4, m, kc, a + k0, lda, &dst); break;
        case 6: i0 = pack_a_full(6, m, kc, a + k0, lda, &dst); break;
        case 8: i0 = pack_a_full(8, m, kc, a + k0, lda, &dst); break;
        }
        for (; i0 < m; i0 += mr, dst += kc * mr)
            for (int64_t p = 0; p < kc; p++)
                for (int r = 0; r < mr; r++)
                    dst[p * mr + r] = i0 + r < m ? a[(i0 + r) * lda + k0 + p] : 0.0f;
    }
    if (m && k) memset(dst, 0, (size_t)(A_AHEAD * mr) * sizeof *dst);
}

/* Floats of one k block of B packed for all n columns: whole panels of NR
 * and a last one of NR / 2 when that holds the rest (the packing's own
 * layout, so a block of B starting at panel q is at q * kc * NR). */
static int64_t packed_b_row_floats(const onn_sgemm_engine *e, int64_t n)
{
    const int64_t full = n / e->nr, rem = n - full * e->nr;
    return full * e->nr + (rem == 0 ? 0 : rem <= e->nr / 2 ? e->nr / 2 : e->nr);
}

bool onn_sgemm_pack_b_size(const onn_sgemm_engine *e, int64_t k, int64_t n, size_t *bytes)
{
    if (k < 0 || n < 0) return false;
    return size_mul(k, packed_b_row_floats(e, n), 1, sizeof(float), bytes);
}

void onn_sgemm_pack_b(const onn_sgemm_engine *e, int64_t k, int64_t n, const float *b, int64_t ldb,
                      bool trans, float *dst)
{
    int64_t blocks;
    const int64_t kcb = k_block(k, e->kc, &blocks), nr = e->nr, full = n / nr;
    const int64_t wl = n - full * nr <= nr / 2 ? nr / 2 : nr, row = packed_b_row_floats(e, n);
    for (int64_t pb = 0; pb < blocks; pb++) {
        const int64_t k0 = pb * kcb, kc = k - k0 < kcb ? k - k0 : kcb;
        float *bp = dst + k0 * row;
        /* Panel q: kc rows of NR floats (wl for the last narrow one). */
        for (int64_t x = 0; x < row; x++) {
            const int64_t q = x / nr, width = q < full ? nr : wl;
            for (int64_t r = 0; r < kc; r++)
                bp[q * kc * nr + r * width + x % nr] =
                    x < n ? (trans ? b[x * ldb + k0 + r] : b[(k0 + r) * ldb + x]) : 0.0f;
        }
    }
}

/* The floats of scratch one worker uses for pieces up to n columns wide:
 * a packed block of B (bp_floats) and an im2col row. */
static void worker_floats(const onn_sgemm_engine *e, int64_t n, int64_t k, int64_t *bp,
                          int64_t *row)
{
    int64_t blocks;
    *bp = bp_floats(k_block(k, e->kc, &blocks), n, e->nr, e->nc);
    *row = round_up(bp_cols(n, e->nr, e->nc), 16);
}

bool onn_sgemm_tile_scratch_size(const onn_sgemm_engine *e, int64_t n, int64_t k, size_t *bytes)
{
    if (n < 0 || k < 0) return false;
    /* At most kc x nc floats of B and nc of im2col row: no overflow. */
    int64_t bp, row;
    worker_floats(e, n, k, &bp, &row);
    *bytes = (size_t)(bp + row) * sizeof(float);
    return true;
}

/*
 * The GotoBLAS loop order: for each block of NC columns and KC steps of k,
 * pack that block of B (it stays in L2, 256 KB for AVX2) and run every
 * row of the piece against it.
 */
void onn_sgemm_tiles(const onn_sgemm_engine *e, const onn_sgemm_args *p, int64_t m0, int64_t m1,
                     int64_t n0, int64_t n1, float *scratch)
{
    if (m0 >= m1 || n0 >= n1) return;
    int64_t nkb, bpf, rowf;
    const int64_t kcb = k_block(p->k, e->kc, &nkb);
    worker_floats(e, n1 - n0, p->k, &bpf, &rowf);
    const onn_sgemm_rows *rw = p->b.packed ? NULL : p->b.rows;
    const int64_t prow = p->b.packed ? packed_b_row_floats(e, p->n) : 0;
    for (int64_t jc = n0, end; jc < n1; jc = end) {
        /* Read in place, the blocks end at the end of a line, so that the
         * tiles keep their places in the lines. */
        end = rw && rw->line <= e->nc ? (jc / rw->line + e->nc / rw->line) * rw->line : jc + e->nc;
        if (end > n1) end = n1;
        const int64_t nc = end - jc;
        for (int64_t pb = 0; pb < nkb; pb++) {
            const int64_t k0 = pb * kcb, kc = p->k - k0 < kcb ? p->k - k0 : kcb;
            if (rw) {
                e->impl->block_direct(p, m0, m1, jc, nc, k0, kc, pb == 0, pb == nkb - 1, scratch);
                continue;
            }
            if (p->b.packed) { /* onn_sgemm_pack_b's block: k0 rows in, panel jc / nr */
                const float *bp = p->b.packed + k0 * prow + (jc / e->nr) * kc * e->nr;
                e->impl->block(p, m0, m1, jc, nc, k0, kc, pb == 0, pb == nkb - 1, bp);
                continue;
            }
            e->impl->pack(&p->b, k0, kc, jc, nc, scratch, scratch + bpf);
            e->impl->block(p, m0, m1, jc, nc, k0, kc, pb == 0, pb == nkb - 1, scratch);
        }
    }
}

/* The rows or columns of pieces: `units` panels split into `parts` runs of
 * whole panels, the first ones a panel longer when they do not divide. */
static void split_units(int64_t units, int parts, int index, int64_t *u0, int64_t *u1)
{
    const int64_t q = units / parts, r = units % parts;
    *u0 = index * q + (index < r ? index : r);
    *u1 = *u0 + q + (index < r);
}

/* The rows of piece `index` of m rows split into `parts` (whole panels of mr). */
static void split_rows(const onn_sgemm_engine *e, int64_t m, int parts, int index, int64_t *m0,
                       int64_t *m1)
{
    int64_t u0, u1;
    split_units((m + e->mr - 1) / e->mr, parts, index, &u0, &u1);
    *m0 = u0 * e->mr, *m1 = u1 * e->mr < m ? u1 * e->mr : m;
}

/* The widest piece of n columns split into `parts`, counted as computed:
 * whole panels, a half panel where the half-width kernel ends a piece. */
static int64_t widest_cols(const onn_sgemm_engine *e, int64_t n, int parts)
{
    const int64_t panels = (n + e->nr - 1) / e->nr;
    int64_t widest = 0;
    for (int i = 0; i < parts; i++) {
        int64_t u0, u1;
        split_units(panels, parts, i, &u0, &u1);
        const int64_t c0 = u0 * e->nr, c1 = u1 * e->nr < n ? u1 * e->nr : n;
        int64_t w = 0;
        if (c1 > c0) {
            const int64_t cols = c1 - c0, rem = cols % e->nr;
            w = cols - rem + (rem == 0 ? 0 : rem <= e->nr / 2 ? e->nr / 2 : e->nr);
        }
        if (w > widest) widest = w;
    }
    return widest;
}

/* The most rows of a piece of m rows split into `parts`. */
static int64_t widest_rows(const onn_sgemm_engine *e, int64_t m, int parts)
{
    int64_t widest = 0;
    for (int i = 0; i < parts; i++) {
        int64_t m0, m1;
        split_rows(e, m, parts, i, &m0, &m1);
        if (m1 - m0 > widest) widest = m1 - m0;
    }
    return widest;
}

/* Products below this many multiply-adds run on one thread: a second one
 * would start about when the first is done (as blas.c's threshold). */
#define ONN_SGEMM_SERIAL_MACS (1 << 21)
/* The cost of packing one element of B, in multiply-adds of one row of A
 * (packing B costs about as much as 8 rows of products with it). */
#define ONN_SGEMM_PACK_ROWS 8
onn_sgemm_split onn_sgemm_split_for(const onn_sgemm_engine *e, int64_t m, int64_t n, int64_t k,
                                    int threads)
{
    onn_sgemm_split best = {1, 1};
    if (threads <= 1 || (double)m * (double)n * (double)k < ONN_SGEMM_SERIAL_MACS) return best;
    const int64_t mpanels = (m + e->mr - 1) / e->mr, npanels = (n + e->nr - 1) / e->nr;
    double best_cost = -1.0;
    /* Every rows x cols <= threads, costed as the slowest piece: the tile
     * area it computes plus the B it packs (all of its columns' B, also
     * where other pieces pack the same). */
    for (int rows = 1; rows <= threads; rows++)
        for (int cols = threads / rows; cols >= 1; cols--) {
            if (rows > mpanels || cols > npanels) continue;
            const double w = (double)widest_cols(e, n, cols), h = (double)widest_rows(e, m, rows);
            const double cost = w * (h + ONN_SGEMM_PACK_ROWS);
            /* A tie keeps the earlier: more columns split. */
            if (best_cost < 0 || cost < best_cost * 0.999) {
                best_cost = cost;
                best = (onn_sgemm_split){rows, cols};
            }
        }
    return best;
}

void onn_sgemm_split_piece(const onn_sgemm_engine *e, onn_sgemm_split s, int64_t m, int64_t n,
                           int index, int64_t *m0, int64_t *m1, int64_t *n0, int64_t *n1)
{
    int64_t u0, u1;
    split_rows(e, m, s.rows, index / s.cols, m0, m1);
    split_units((n + e->nr - 1) / e->nr, s.cols, index % s.cols, &u0, &u1);
    *n0 = u0 * e->nr, *n1 = u1 * e->nr < n ? u1 * e->nr : n;
}

bool onn_sgemm_scratch_size(const onn_sgemm_engine *e, int64_t m, int64_t n, int64_t k, int threads,
                            size_t *bytes)
{
    if (m < 0) return false;
    const onn_sgemm_split s = onn_sgemm_split_for(e, m, n, k, threads);
    size_t one;
    return onn_sgemm_tile_scratch_size(e, n, k, &one) &&
           size_mul(s.rows * s.cols, (int64_t)one, 1, 1, bytes);
}

/*
 * Every piece on its own, B packed by each piece for its columns (again by
 * each piece of a column range when rows are split): the only
 * synchronization is the loop's start and end (threadpool.h). Row pieces
 * sharing B packed once cost at least one barrier more per call; measured
 * with more threads than cores (this machine shared with other work),
 * each barrier waited out another process's time slice and made those
 * products 1.3 to 10 times slower, while packing B in every row piece
 * costs what packing costs one thread: 3 % of 512 x 49 x 4608 on one thread, 9 % of
 * 256 x 196 x 2304.
 */
typedef struct sgemm_job {
    const onn_sgemm_engine *e;
    const onn_sgemm_args *p;
    onn_sgemm_split s;
    float *scratch;
    size_t per;
} sgemm_job;

static void sgemm_job_piece(void *arg, int64_t i, int worker)
{
    const sgemm_job *j = arg;
    int64_t m0, m1, n0, n1;
    onn_sgemm_split_piece(j->e, j->s, j->p->m, j->p->n, (int)i, &m0, &m1, &n0, &n1);
    onn_sgemm_tiles(j->e, j->p, m0, m1, n0, n1, j->scratch + (size_t)worker * j->per);
}

void onn_sgemm_parallel(const onn_sgemm_engine *e, const onn_sgemm_args *p, int threads,
                        float *scratch)
{
    if (p->m <= 0 || p->n <= 0) return;
    const onn_sgemm_split s = onn_sgemm_split_for(e, p->m, p->n, p->k, threads);
    const int pieces = s.rows * s.cols;
    if (pieces == 1) {
        onn_sgemm_tiles(e, p, 0, p->m, 0, p->n, scratch);
        return;
    }
    size_t one = 0;
    onn_sgemm_tile_scratch_size(e, p->n, p->k, &one);
    sgemm_job j = {e, p, s, scratch, one / sizeof(float)};
    onn_parallel_for(pieces, pieces, sgemm_job_piece, &j);
}
