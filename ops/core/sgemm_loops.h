/*
 * The template of the packed product's inner loops (see sgemm.c), included
 * once per instruction set. Before including it, sgemm.c defines
 *   SFX         the variant's suffix (scalar, avx2, avx512) and ISA its onn_isa,
 *   VF, VL      the vector type and its float lanes,
 *   MR, NV      the microtile: MR rows by NV vectors (NR = NV * VL columns),
 *   KC, MC, NC  the cache blocks,
 *   V_ZERO, V_SET1, V_LOADU, V_STOREU, V_ADD, V_SUB, V_MUL, V_DIV, V_FMA
 *   (a * b + c), V_MAX, V_MIN and V_POW2 (2^n from t = n + 1.5 * 2^23),
 *   optionally V_EVEN (elements 0, 2, .. of 2 * VL floats),
 * and selects the instruction set with a target pragma, so the same source
 * compiles into each variant; the template undefines them at its end. No
 * include guard: it is meant to be included several times.
 */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define V(name) CAT(name, SFX)
#define NR (NV * VL)
#define INLINE static inline __attribute__((always_inline))
#define PF_ROWS 8

/* e^x to about 2 ulp for x in [-87, 88] (clamped outside): x = n ln2 + r
 * with |r| <= ln2 / 2 (ln2 split in two so that r is exact), e^r by Cephes'
 * degree-7 polynomial, 2^n built in the exponent bits. Only the sigmoid
 * activations need it. */
INLINE VF V(exp)(VF x)
{
    const VF magic = V_SET1(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
    x = V_MIN(V_SET1(88.0f), V_MAX(V_SET1(-87.0f), x)); /* NaN stays NaN */
    const VF t = V_FMA(x, V_SET1(1.44269504088896341f), magic);
    const VF n = V_SUB(t, magic);
    VF r = V_FMA(n, V_SET1(-0.693359375f), x);
    r = V_FMA(n, V_SET1(2.12194440e-4f), r);
    VF q = V_SET1(1.9875691500e-4f);
    q = V_FMA(q, r, V_SET1(1.3981999507e-3f));
    q = V_FMA(q, r, V_SET1(8.3334519073e-3f));
    q = V_FMA(q, r, V_SET1(4.1665795894e-2f));
    q = V_FMA(q, r, V_SET1(1.6666665459e-1f));
    q = V_FMA(q, r, V_SET1(5.0000001201e-1f));
    q = V_FMA(q, V_MUL(r, r), V_ADD(r, V_SET1(1.0f)));
    return V_MUL(q, V_POW2(t));
}

/* The activation of epilogue.h on one vector (the scalar onn_act_apply is
 * the reference the tests hold it to). NaN stays NaN: the x86 max and min
 * return their second operand when either is NaN, so x comes second. */
INLINE VF V(activate)(VF x, const tile_ep *t)
{
    const VF zero = V_ZERO(), one = V_SET1(1.0f);
    switch (t->act) {
    case ONN_ACT_RELU: return V_MAX(zero, x);
    case ONN_ACT_CLIP: return V_MIN(V_SET1(t->beta), V_MAX(V_SET1(t->alpha), x));
    case ONN_ACT_LEAKY_RELU: return V_FMA(V_SET1(t->alpha), V_MIN(zero, x), V_MAX(zero, x));
    case ONN_ACT_HARD_SIGMOID:
        return V_MIN(one, V_MAX(zero, V_FMA(V_SET1(t->alpha), x, V_SET1(t->beta))));
    case ONN_ACT_HARD_SWISH:
        return V_MUL(x, V_MIN(one, V_MAX(zero, V_FMA(x, V_SET1(1.0f / 6.0f), V_SET1(0.5f)))));
    case ONN_ACT_SIGMOID: return V_DIV(one, V_ADD(one, V(exp)(V_SUB(zero, x))));
    case ONN_ACT_SILU: return V_DIV(x, V_ADD(one, V(exp)(V_SUB(zero, x))));
    case ONN_ACT_TANH: /* 2 / (1 + exp(-2x)) - 1: within 2.5e-7 of tanhf */
        return V_SUB(V_DIV(V_SET1(2.0f), V_ADD(one, V(exp)(V_SUB(zero, V_ADD(x, x))))), one);
    default: return x;
    }
}

/* The activation over a tile just stored (still in L1): a loop apart
 * from the microkernel, so that each microkernel instance stays small.
 * One loop per activation, the choice made once per tile: with the switch
 * inside the loop (in activate), Clip after a product of 16 steps (a
 * MobileNetV2 expansion) took half as long again as no activation. */
static void V(act_tile)(float *c, int64_t ldc, int rows, int width, const tile_ep *t)
{
    tile_ep one = *t;
    switch (t->act) {
#define ACT_TILE_CASE(act_)                                                                        \
    case act_:                                                                                     \
        one.act = act_;                                                                            \
        for (int r = 0; r < rows; r++)                                                             \
            for (int j = 0; j < width; j += VL)                                                    \
                V_STOREU(c + r * ldc + j, V(activate)(V_LOADU(c + r * ldc + j), &one));            \
        return;
        ACT_TILE_CASE(ONN_ACT_RELU)
        ACT_TILE_CASE(ONN_ACT_CLIP)
        ACT_TILE_CASE(ONN_ACT_LEAKY_RELU)
        ACT_TILE_CASE(ONN_ACT_HARD_SIGMOID)
        ACT_TILE_CASE(ONN_ACT_HARD_SWISH)
        ACT_TILE_CASE(ONN_ACT_SIGMOID)
        ACT_TILE_CASE(ONN_ACT_SILU)
        ACT_TILE_CASE(ONN_ACT_TANH)
#undef ACT_TILE_CASE
    default: return;
    }
}

/*
 * The microkernel: an mr x (nv * VL) tile of C from kc steps over a panel
 * of packed A (MR values per step, of which the first mr count) and B's
 * nv * VL columns: a packed panel (nv * VL values per step), or, `direct`,
 * rows read in place, step k's at b + off[k] (onn_sgemm_rows). The
 * accumulators stay in registers for the whole k loop (MR * NV of them:
 * 12 of AVX2's 16, 16 of AVX-512's 32), and each step costs mr broadcasts
 * and nv loads for mr * nv FMAs. mr, nv and direct are constants at every
 * call, so the loops unroll completely; the k loop is unrolled 4 times
 * besides, which measured 5-10 % faster on Zen 3 than the plain loop.
 *
 * The tile then gets its epilogue on the way out: the previous partial sum
 * from C (k blocks after the first), bias and residual (the first k block),
 * the activation (the last one).
 */
INLINE void V(micro)(const int mr, const int nv, const bool direct, const bool pf,
                     const bool a_rows, int64_t kc, const float *restrict a,
                     const float *restrict b, const int64_t *restrict off, float *c, int64_t ldc,
                     const tile_ep *t)
{
    /* a_rows: A read in place, row r's step k at a[r * lda + k] */
    const int64_t lda = a_rows ? t->lda : 0;
    VF acc[MR][NV];
#pragma GCC unroll 16
    for (int r = 0; r < mr; r++) {
        /* C's lines, which the epilogue reads or writes, load during the k loop. */
        __builtin_prefetch(c + r * ldc, 1);
        __builtin_prefetch(c + r * ldc + nv * VL - 1, 1);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[r][v] = V_ZERO();
    }
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++, a += a_rows ? 1 : MR) {
        if (!a_rows) __builtin_prefetch(a + A_AHEAD * MR); /* the A panel streams from L2 */
        const float *bk = direct ? b + off[k] : b + k * nv * VL;
        if (pf) {
            __builtin_prefetch(t->pf + off[k]);
            __builtin_prefetch(t->pf + off[k] + NR - 1);
        }
        VF bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            bv[v] = V_LOADU(bk + v * VL);
#pragma GCC unroll 16
        for (int r = 0; r < mr; r++) {
            const VF ar = V_SET1(a_rows ? a[r * lda] : a[r]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[r][v] = V_FMA(ar, bv[v], acc[r][v]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        const float *rr = t->res ? t->res + r * t->ldr : NULL;
        const VF add = t->bias ? V_SET1(t->bias[r]) : V_ZERO();
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            VF x = V_ADD(acc[r][v], add);
            if (t->load_c) x = V_ADD(x, V_LOADU(cr + v * VL));
            if (rr) x = V_ADD(x, V_LOADU(rr + v * VL));
            V_STOREU(cr + v * VL, x);
        }
    }
    if (t->act != ONN_ACT_NONE) V(act_tile)(c, ldc, mr, nv * VL, t);
}

/* The post function on rows [i0, i1) of C's columns [j0, j0 + n), once the
 * block's tiles are done (still in L2): one call per row of the block
 * rather than per row of each tile, whose 16 floats cost a call each. */
INLINE void V(post_rows)(const onn_sgemm_args *p, int64_t i0, int64_t i1, int64_t j0, int64_t n)
{
    for (int64_t r = i0; r < i1; r++)
        p->post(p->c + r * p->ldc + j0, p->c + r * p->ldc + j0, n, NULL);
}

/* One instance per row count, width and B source: a panel of A that C
 * cuts short (the last, when MR does not divide m) computes only its rows. */
typedef void (*V(tile_fn))(int64_t kc, const float *a, const float *b, const int64_t *off, float *c,
                           int64_t ldc, const tile_ep *t);
#define TILE_FN_A(name, R, nv, direct, pf, a_rows)                                                 \
    static void V(CAT(name, R))(int64_t kc, const float *a, const float *b, const int64_t *off,    \
                                float *c, int64_t ldc, const tile_ep *t)                           \
    {                                                                                              \
        V(micro)(R, nv, direct, pf, a_rows, kc, a, b, off, c, ldc, t);                             \
    }
#define TILE_FN(name, R, nv, direct, pf) TILE_FN_A(name, R, nv, direct, pf, false)
#define TILE_FNS(R)                                                                                \
    TILE_FN(tile_full, R, NV, false, false)                                                        \
    TILE_FN(tile_half, R, NV / 2, false, false)                                                    \
    TILE_FN(tile_dfull, R, NV, true, false)                                                        \
    TILE_FN(tile_dhalf, R, NV / 2, true, false)                                                    \
    TILE_FN_A(tile_afull, R, NV, false, false, true)                                               \
    TILE_FN_A(tile_ahalf, R, NV / 2, false, false, true)
TILE_FNS(1)
TILE_FNS(2)
TILE_FNS(3)
TILE_FNS(4)
#if MR > 4
TILE_FNS(5)
TILE_FNS(6)
#endif
#if MR > 6
TILE_FNS(7)
TILE_FNS(8)
#endif
#if MR != 4 && MR != 6 && MR != 8
#error "sgemm_loops.h: MR must be 4, 6 or 8"
#endif
/* Prefetching the next tile's B (t->pf) as they go: full panels of A only. */
TILE_FN(tile_pfull, MR, NV, true, true)
TILE_FN(tile_phalf, MR, NV / 2, true, true)

#if MR == 4
#define TILE_ROW(name, last)                                                                       \
    {                                                                                              \
        V(CAT(name, 1)), V(CAT(name, 2)), V(CAT(name, 3)), V(last)                                 \
    }
#elif MR == 6
#define TILE_ROW(name, last)                                                                       \
    {                                                                                              \
        V(CAT(name, 1)), V(CAT(name, 2)), V(CAT(name, 3)), V(CAT(name, 4)), V(CAT(name, 5)),       \
            V(last)                                                                                \
    }
#else
#define TILE_ROW(name, last)                                                                       \
    {                                                                                              \
        V(CAT(name, 1)), V(CAT(name, 2)), V(CAT(name, 3)), V(CAT(name, 4)), V(CAT(name, 5)),       \
            V(CAT(name, 6)), V(CAT(name, 7)), V(last)                                              \
    }
#endif
/* [B packed, B in place, B in place prefetching, B packed and A in
 * place][half width][rows - 1] */
static const V(tile_fn) V(tile_fns)[4][2][MR] = {
    {TILE_ROW(tile_full, CAT(tile_full, MR)), TILE_ROW(tile_half, CAT(tile_half, MR))},
    {TILE_ROW(tile_dfull, CAT(tile_dfull, MR)), TILE_ROW(tile_dhalf, CAT(tile_dhalf, MR))},
    {TILE_ROW(tile_dfull, CAT(tile_pfull, MR)), TILE_ROW(tile_dhalf, CAT(tile_phalf, MR))},
    {TILE_ROW(tile_afull, CAT(tile_afull, MR)), TILE_ROW(tile_ahalf, CAT(tile_ahalf, MR))},
};

/* A tile that C cuts short in width (w columns of a panel `width` wide):
 * the microkernel runs on a tile in local memory, with the valid part of
 * C and of the residual copied in and the result copied back, so that the
 * microkernel never tests bounds. */
static void V(edge)(V(tile_fn) fn, int width, int64_t kc, const float *a, const float *b,
                    const int64_t *off, float *c, int64_t ldc, const tile_ep *t, int mv, int w)
{
    float tile[MR * NR] __attribute__((aligned(64))), res[MR * NR] __attribute__((aligned(64)));
    tile_ep te = *t;
    memset(tile, 0, sizeof tile);
    if (t->load_c)
        for (int r = 0; r < mv; r++)
            memcpy(tile + r * width, c + r * ldc, (size_t)w * sizeof *c);
    if (t->res) {
        memset(res, 0, sizeof res);
        for (int r = 0; r < mv; r++)
            memcpy(res + r * width, t->res + r * t->ldr, (size_t)w * sizeof *c);
        te.res = res, te.ldr = width;
    }
    fn(kc, a, b, off, tile, width, &te);
    for (int r = 0; r < mv; r++)
        memcpy(c + r * ldc, tile + r * width, (size_t)w * sizeof *c);
}

/* ---- packing B ---------------------------------------------------------------------- */

INLINE void V(copy)(float *restrict d, const float *restrict s, int64_t n)
{
    int64_t i = 0;
    for (; i + VL <= n; i += VL)
        V_STOREU(d + i, V_LOADU(s + i));
    for (; i < n; i++)
        d[i] = s[i];
}

INLINE void V(zero)(float *d, int64_t n)
{
    int64_t i = 0;
    for (; i + VL <= n; i += VL)
        V_STOREU(d + i, V_ZERO());
    for (; i < n; i++)
        d[i] = 0.0f;
}

/* d[i] = s[i * stride] for i < n. */
INLINE void V(gather)(float *restrict d, const float *restrict s, int64_t n, int64_t stride)
{
    int64_t i = 0;
#ifdef V_EVEN
    /* Stride 2 (down-sampling convolutions): a vector of every other
     * element from two loads. The last element read, s[2 * (i + VL) - 1],
     * stays before the last one of the line. */
    if (stride == 2)
        for (; i + VL < n; i += VL)
            V_STOREU(d + i, V_EVEN(s + 2 * i));
#endif
    for (; i < n; i++)
        d[i] = s[i * stride];
}

/* Row w->k of the im2col matrix, columns [w->n0, w->n0 + w->nc), into dst:
 * line by line along the last axis, each line zeros, a run read from the
 * image (contiguous at stride 1) and zeros. */
static void V(im2col_row)(const im2col_walk *w, float *dst)
{
    const onn_geom *g = w->g;
    const int last = g->nsp - 1;
    const int64_t len = g->line_len, s = g->stride[last];
    const float *plane = w->x + w->c * w->ld;
    int64_t coord[ONN_MAX_SPATIAL];
    for (int i = 0; i < last; i++)
        coord[i] = w->coord0[i];
    for (int64_t j = w->j0, left = w->nc; left > 0; j = 0) {
        const int64_t n = len - j < left ? len - j : left;
        int64_t idx = 0;
        bool inside = true;
        for (int i = 0; i < last && inside; i++) {
            const int64_t p = coord[i] * g->stride[i] + w->koff[i];
            inside = p >= 0 && p < g->sampled[i];
            idx = idx * g->sampled[i] + p;
        }
        if (!inside) {
            V(zero)(dst, n);
        } else {
            /* Positions [lo, hi) of the line read inside the image. */
            const int64_t lo = w->lo < j ? j : w->lo > j + n ? j + n : w->lo;
            const int64_t hi = w->hi > j + n ? j + n : w->hi < lo ? lo : w->hi;
            /* (offsets summed first: the line's start may lie before the plane) */
            const float *src = plane + (idx * g->sampled[last] + w->koff[last] + lo * s);
            V(zero)(dst, lo - j);
            if (s == 1)
                V(copy)(dst + lo - j, src, hi - lo);
            else
                V(gather)(dst + lo - j, src, hi - lo, s);
            V(zero)(dst + hi - j, j + n - hi);
        }
        dst += n, left -= n;
        for (int i = last - 1; i >= 0; i--) {
            if (++coord[i] < g->grid[i]) break;
            coord[i] = 0;
        }
    }
}

/* Where column x (counted from the block's first) of the row being packed
 * lives in packed B. */
INLINE float *V(at)(const panel_row *p, int64_t x)
{
    const int64_t q = x / NR;
    return p->bp + q * p->kc * NR + p->r * (q < p->full ? NR : p->wl) + x % NR;
}

/* Columns [x0, x1) of the row being packed from s (NULL: zeros), a panel
 * at a time. */
INLINE void V(put)(const panel_row *p, int64_t x0, int64_t x1, const float *s)
{
    while (x0 < x1) {
        float *d = V(at)(p, x0);
        const int64_t o = x0 % NR, n = NR - o < x1 - x0 ? NR - o : x1 - x0;
        if (n == NR) {
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                V_STOREU(d + v * VL, s ? V_LOADU(s + v * VL) : V_ZERO());
        } else if (s) {
            for (int64_t j = 0; j < n; j++)
                d[j] = s[j];
        } else {
            for (int64_t j = 0; j < n; j++)
                d[j] = 0.0f;
        }
        x0 += n;
        if (s) s += n;
    }
}

/*
 * An im2col row of a convolution whose columns map to the image by a
 * shift (im2col_shifted): column n reads image element n + delta. Within
 * the lines that fall inside the image it is one copy of contiguous memory
 * straight into the panels; then the positions of each line that fall
 * into the left or right padding (a column or two for a 3x3 window) are
 * zeroed. The copy starts at the first element inside the image and ends
 * at the last, so it never reads outside the channel's plane.
 */
static void V(shifted_row)(const im2col_walk *w, int64_t n0, int64_t nc, int64_t xend,
                           const panel_row *p)
{
    const onn_geom *g = w->g;
    const int last = g->nsp - 1;
    const int64_t H = last ? g->sampled[0] : 1, OH = last ? g->grid[0] : 1;
    const int64_t OW = g->grid[last], k0 = last ? w->koff[0] : 0;
    const int64_t delta = k0 * g->sampled[last] + w->koff[last];
    const int64_t lo = w->lo, hi = w->hi, n1 = n0 + nc;
    const int64_t oh0 = k0 < 0 ? -k0 : 0, oh1 = H - k0 < OH ? H - k0 : OH;
    int64_t ca = n0, cb = n0; /* the columns read from the image */
    if (oh0 < oh1 && lo < hi) {
        ca = oh0 * OW + lo > n0 ? oh0 * OW + lo : n0;
        cb = (oh1 - 1) * OW + hi < n1 ? (oh1 - 1) * OW + hi : n1;
        if (cb < ca) cb = ca;
    }
    V(put)(p, 0, ca - n0, NULL);
    if (cb > ca) V(put)(p, ca - n0, cb - n0, w->x + (w->c * w->ld + ca + delta));
    V(put)(p, cb - n0, xend, NULL);
    if (cb > ca && (lo > 0 || hi < OW))
        for (int64_t base = ca / OW * OW; base < cb; base += OW) {
            const int64_t z0 = base > ca ? base : ca, z1 = base + lo < cb ? base + lo : cb;
            const int64_t z2 = base + hi > ca ? base + hi : ca,
                          z3 = base + OW < cb ? base + OW : cb;
            for (int64_t x = z0; x < z1; x++)
                *V(at)(p, x - n0) = 0.0f;
            for (int64_t x = z2; x < z3; x++)
                *V(at)(p, x - n0) = 0.0f;
        }
}

/*
 * Packs rows [k0, k0 + kc) and columns [n0, n0 + nc) of B into bp as
 * column panels: panel q holds columns n0 + q * NR.. as kc rows of NR
 * floats (what the microkernel reads in order), the panels one after the
 * other every kc * NR floats. Columns past nc are zeros; a last panel of at
 * most NR / 2 columns is NR / 2 wide (the half-width microkernel's).
 *
 * Row by row: each row of B is read once in order and dealt out to the
 * panels, one 64-byte line per panel for AVX2's 16 columns. An im2col row
 * comes straight from the image when it is a shifted copy of it (stride 1
 * with the output as wide as the input, as in ResNet's 3x3 convolutions);
 * otherwise it is formed line by line in `row` first.
 */
static void V(pack_b)(const onn_sgemm_src *src, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
                      float *bp, float *row)
{
    const int64_t full = nc / NR, rem = nc - full * NR, wl = rem <= NR / 2 ? NR / 2 : NR;
    const int64_t xend = full * NR + (rem ? wl : 0);
    panel_row p = {bp, kc, 0, full, wl};
    if (!src->im2col) {
        for (; p.r < kc; p.r++) {
            const float *s = src->data + (k0 + p.r) * src->ld + n0;
            /* Rows of a matrix are far apart, and each gives only nc floats:
             * too short a stream for the hardware prefetcher to ramp up on,
             * so the row PF_ROWS ahead is requested here, line by line. */
            for (int64_t x = 0; x < nc && p.r + PF_ROWS < kc; x += 16)
                __builtin_prefetch(s + PF_ROWS * src->ld + x);
            V(put)(&p, 0, nc, s);
            V(put)(&p, nc, xend, NULL);
        }
        return;
    }
    im2col_walk w;
    im2col_start(&w, src, k0, n0, nc);
    const bool shifted = im2col_shifted(src->im2col);
    for (; p.r < kc; p.r++, im2col_next(&w)) {
        if (shifted) {
            V(shifted_row)(&w, n0, nc, xend, &p);
        } else {
            V(im2col_row)(&w, row);
            V(put)(&p, 0, nc, row);
            V(put)(&p, nc, xend, NULL);
        }
    }
}

/* ---- the blocked loops ------------------------------------------------------------------ */

/*
 * Rows [m0, m1) of C against one packed block of B: columns [jc, jc + nc),
 * k steps [k0, k0 + kc), the first and/or last of the product's k blocks.
 * For each block of MC rows of A (which stays in L2 while the columns go
 * by) the B panels are swept in turn, each staying in L1 while the A
 * panels of the row block go past it.
 */
static void V(block)(const onn_sgemm_args *p, int64_t m0, int64_t m1, int64_t jc, int64_t nc,
                     int64_t k0, int64_t kc, bool first, bool last, const float *bp)
{
    tile_ep t = {.load_c = !first,
                 .act = last ? p->ep.act : ONN_ACT_NONE,
                 .alpha = p->ep.alpha,
                 .beta = p->ep.beta,
                 .ldr = p->ldr,
                 .lda = p->lda};
    for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = m1 - ic < MC ? m1 - ic : MC;
        for (int64_t jr = 0; jr < nc; jr += NR) {
            const int w = nc - jr < NR ? (int)(nc - jr) : NR;
            const int half = w <= NR / 2, width = half ? NR / 2 : NR;
            const float *b = bp + (jr / NR) * kc * NR;
            for (int64_t i = ic; i < ic + mc; i += MR) {
                const int mv = m1 - i < MR ? (int)(m1 - i) : MR;
                const float *a = p->a_rows ? p->a_rows + i * p->lda + k0
                                           : p->a + k0 * round_up(p->m, MR) + (i / MR) * kc * MR;
                float *c = p->c + i * p->ldc + jc + jr;
                t.bias = first && p->ep.bias ? p->ep.bias + i : NULL;
                t.res = first && p->res ? p->res + i * p->ldr + jc + jr : NULL;
                const V(tile_fn) fn = V(tile_fns)[p->a_rows ? 3 : 0][half][mv - 1];
                if (w == width)
                    fn(kc, a, b, NULL, c, p->ldc, &t);
                else
                    V(edge)(fn, width, kc, a, b, NULL, c, p->ldc, &t, mv, w);
            }
        }
        if (last && p->post) V(post_rows)(p, ic, ic + mc, jc, nc);
    }
}

/*
 * The same for a source read in place (onn_sgemm_rows): no packed block;
 * each tile of columns, at most NR and inside one line, reads its B rows
 * from memory, and stays in L1 while the A panels of the row block pass
 * over it (as a packed panel would). A tile the line cuts short is read in
 * place too when the source allows reading past the line (the columns
 * past it are computed and dropped), else its columns are packed into
 * `panel` (kc x NR floats) first.
 */
static void V(block_direct)(const onn_sgemm_args *p, int64_t m0, int64_t m1, int64_t jc, int64_t nc,
                            int64_t k0, int64_t kc, bool first, bool last, float *panel)
{
    const onn_sgemm_rows *rw = p->b.rows;
    const int64_t *off = rw->off + k0;
    tile_ep t = {.load_c = !first,
                 .act = last ? p->ep.act : ONN_ACT_NONE,
                 .alpha = p->ep.alpha,
                 .beta = p->ep.beta,
                 .ldr = p->ldr};
    for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = m1 - ic < MC ? m1 - ic : MC;
        for (int64_t j = jc, w; j < jc + nc; j += w) {
            const int64_t q = j / rw->line, x = j - q * rw->line;
            const int64_t end = (q + 1) * rw->line < jc + nc ? (q + 1) * rw->line : jc + nc;
            w = end - j < NR ? end - j : NR;
            const int half = w <= NR / 2, width = half ? NR / 2 : NR;
            const float *b = p->b.data + (q * rw->pitch + x);
            const bool in_place = w == width || rw->overread;
            if (!in_place)
                for (int64_t r = 0; r < kc; r++) {
                    float *d = panel + r * width;
                    for (int64_t v = 0; v < w; v++)
                        d[v] = b[off[r] + v];
                    for (int64_t v = w; v < width; v++)
                        d[v] = 0.0f;
                }
            /* The next tile's B lines load into L1 while the last panel of A runs. */
            const float *next = NULL;
            if (j + w < jc + nc) {
                const int64_t nq = (j + w) / rw->line;
                next = p->b.data + (nq * rw->pitch + (j + w - nq * rw->line));
            }
            for (int64_t i = ic; i < ic + mc; i += MR) {
                const int mv = m1 - i < MR ? (int)(m1 - i) : MR;
                const float *a = p->a + k0 * round_up(p->m, MR) + (i / MR) * kc * MR;
                float *c = p->c + i * p->ldc + j;
                t.bias = first && p->ep.bias ? p->ep.bias + i : NULL;
                t.res = first && p->res ? p->res + i * p->ldr + j : NULL;
                t.pf = i + MR >= ic + mc ? next : NULL;
                const V(tile_fn) fn = V(tile_fns)[in_place ? 1 + (t.pf != NULL) : 0][half][mv - 1];
                if (w == width)
                    fn(kc, a, b, off, c, p->ldc, &t);
                else
                    V(edge)(fn, width, kc, a, in_place ? b : panel, off, c, p->ldc, &t, mv, (int)w);
            }
        }
        if (last && p->post) V(post_rows)(p, ic, ic + mc, jc, nc);
    }
}

static const onn_sgemm_impl V(impl) = {V(pack_b), V(block), V(block_direct)};
static const onn_sgemm_engine V(engine) = {ISA, MR, NR, KC, MC, NC, &V(impl)};

#undef CAT_
#undef CAT
#undef V
#undef NR
#undef INLINE
#undef PF_ROWS
#undef TILE_FN
#undef TILE_FNS
#undef TILE_ROW
/* What sgemm.c defined for this variant. */
#undef SFX
#undef ISA
#undef VF
#undef VL
#undef MR
#undef NV
#undef KC
#undef MC
#undef NC
#undef V_ZERO
#undef V_SET1
#undef V_LOADU
#undef V_STOREU
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_FMA
#undef V_MAX
#undef V_MIN
#undef V_POW2
#undef V_EVEN
