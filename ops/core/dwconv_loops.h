/*
 * The template of the plane kernels behind dwconv.h, included by dwconv.c
 * once per instruction set. Before including it, dwconv.c defines
 *   SFX, ISA   the variant's suffix (scalar, avx2, avx512) and onn_isa,
 *   VF, VL     its vector type and float lanes (float and 1 for the
 *              portable variant, whose loops the compiler vectorizes),
 *   V_*        the vector operations (listed in dwconv.c),
 * and selects the instruction set with ONN_TARGET_*_BEGIN, so the same
 * source compiles into each variant. It undefines all of these at its end.
 * No include guard: it is meant to be included several times.
 */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define V(name) CAT(name, SFX)

/* e^v for v <= 0 (and NaN), branch-free, as unary.c computes Sigmoid:
 * v = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts), a degree-6
 * polynomial for e^r (Cephes' coefficients, about 1 ulp) and 2^n from the
 * exponent bits of t = v log2(e) + 1.5 * 2^23, whose low mantissa bits hold
 * n. Clamped at -87.3 so that 2^n stays a normal float. */
static inline VF V(exp_neg)(VF v)
{
    const VF shifter = V_SET1(12582912.0f);
    v = V_MAX(V_SET1(-87.3f), v); /* NaN stays NaN */
    const VF t = V_FMADD(v, V_SET1(1.44269504088896341f), shifter), n = V_SUB(t, shifter);
    VF r = V_FMADD(n, V_SET1(-0.693359375f), v);
    r = V_FMADD(n, V_SET1(2.12194440e-4f), r);
    VF p = V_SET1(1.9875691500e-4f);
    p = V_FMADD(p, r, V_SET1(1.3981999507e-3f));
    p = V_FMADD(p, r, V_SET1(8.3334519073e-3f));
    p = V_FMADD(p, r, V_SET1(4.1665795894e-2f));
    p = V_FMADD(p, r, V_SET1(1.6666665459e-1f));
    p = V_FMADD(p, r, V_SET1(5.0000001201e-1f));
    p = V_FMADD(V_MUL(p, r), r, V_ADD(r, V_SET1(1.0f)));
    return V_MUL(p, V_POW2N(t));
}

/* 1 / (1 + e^-x) from e = e^-|x|, which cannot overflow: 1 / (1 + e) for
 * x >= 0, e / (1 + e) below. */
static inline VF V(sigmoid)(VF x)
{
    const VF one = V_SET1(1.0f), e = V(exp_neg)(V_SUB(V_SET1(0.0f), V_ABS(x)));
    const VF r = V_DIV(one, V_ADD(one, e));
    return V_SEL_GE0(x, r, V_MUL(e, r));
}

/* The activation of epilogue.h on a vector, with onn_act_apply's results
 * (NaN included: V_MAX(a, b) and V_MIN(a, b) give b when either is NaN, so
 * the input goes second wherever NaN must pass through).
 * Callers pass a constant act, so that each use compiles to its one case. */
DW_INLINE VF V(act)(VF v, const onn_act act, VF alpha, VF beta)
{
    const VF zero = V_SET1(0.0f), one = V_SET1(1.0f);
    switch (act) {
    case ONN_ACT_RELU: return V_MAX(zero, v); /* NaN stays NaN, as Relu keeps it */
    case ONN_ACT_CLIP: return V_MIN(beta, V_MAX(alpha, v));
    case ONN_ACT_LEAKY_RELU: return V_SEL_GE0(v, v, V_MUL(alpha, v));
    case ONN_ACT_HARD_SIGMOID: return V_MIN(one, V_MAX(zero, V_FMADD(alpha, v, beta)));
    case ONN_ACT_HARD_SWISH:
        return V_MUL(v, V_MIN(one, V_MAX(zero, V_FMADD(v, V_SET1(1.0f / 6.0f), V_SET1(0.5f)))));
    case ONN_ACT_SIGMOID: return V(sigmoid)(v);
    case ONN_ACT_SILU: return V_MUL(v, V(sigmoid)(v));
    case ONN_ACT_TANH: /* tanh(x) = 2 sigmoid(2x) - 1: within 2.5e-7 of tanhf */
        return V_FMADD(V_SET1(2.0f), V(sigmoid)(V_ADD(v, v)), V_SET1(-1.0f));
    default: return v;
    }
}

DW_INLINE void V(act_row_as)(float *y, int64_t n, const onn_act act, VF alpha, VF beta)
{
    int64_t i = 0;
#if VL == 1
#pragma omp simd
#endif
    for (i = 0; i <= n - VL; i += VL)
        V_STOREU(y + i, V(act)(V_LOADU(y + i), act, alpha, beta));
    if (i < n)
        V_STORE_N(y + i, V(act)(V_LOAD_N(y + i, (int)(n - i)), act, alpha, beta), (int)(n - i));
}

/* y[i] = act(y[i]) for i < n: one loop per activation. */
static void V(act_row)(float *y, int64_t n, const onn_epilogue *ep)
{
    if (ep->act == ONN_ACT_NONE) return;
    const VF alpha = V_SET1(ep->alpha), beta = V_SET1(ep->beta);
#define DW_ACT_ROW(A) V(act_row_as)(y, n, A, alpha, beta)
    DW_ACT_SWITCH(ep->act, DW_ACT_ROW);
#undef DW_ACT_ROW
}

/* ---- fast path: K x K, stride S, dilation 1 ------------------------------ */

/* dst[0, n) = input row src (NULL: a row of the padding) with pad_left
 * zeros before it and zeros after, in whole vectors: dst has room for VL
 * floats past n. Vector loops rather than memset and memcpy, whose calls
 * cost more than the copying at the widths of late layers. */
DW_INLINE void V(pad_row)(const onn_dwconv_plan *p, const float *src, int64_t n, float *dst)
{
    const VF zero = V_SET1(0.0f);
    const int64_t pl = p->s.pad_left;
    int64_t lo = pl, hi = pl + p->s.w; /* the columns that hold src */
    if (!src) lo = hi = 0;
    if (hi > n) hi = n;
    if (lo > hi) lo = hi;
    /* Zeros at multiples of VL around [lo, hi), which the copy then overwrites. */
    for (int64_t j = 0; j < lo; j += VL)
        V_STOREU(dst + j, zero);
    for (int64_t j = hi / VL * VL; j < n; j += VL)
        V_STOREU(dst + j, zero);
    int64_t j = lo;
    for (; j <= hi - VL; j += VL)
        V_STOREU(dst + j, V_LOADU(src + j - pl));
    if (j < hi) V_STOREU(dst + j, V_LOAD_N(src + j - pl, (int)(hi - j))); /* zeros after */
}

/* Input row src (NULL: padding) as a ring row: S phases of ph floats, phase
 * f holding in its first pn floats the columns f, f + S, f + 2S, ... of the
 * padded row. For stride 2 the even and odd columns are split once per
 * input row, through the row buffer tmp, so that every tap of an output
 * vector is one contiguous load. */
DW_INLINE void V(fill_row)(const onn_dwconv_plan *p, const float *src, float *dst, float *tmp,
                           const int S)
{
    if (S == 1) {
        V(pad_row)(p, src, p->pn, dst);
        return;
    }
    const int64_t n = (p->pn + VL - 1) / VL * VL;
#if VL > 1
    /* Every vector splits straight from src: whole loads where its 2 * VL
     * padded columns lie inside the row, masked loads at the row's ends
     * (the lanes outside it read as zeros), nothing for a padding row. */
    (void)tmp;
    const int64_t pl = p->s.pad_left, W = p->s.w;
    for (int64_t j = 0; j < n; j += VL) {
        const int64_t c0 = 2 * j - pl; /* src column of the vector's first lane */
        VF lo, hi;
        if (src && c0 >= 0 && c0 + 2 * VL <= W) {
            lo = V_LOADU(src + c0), hi = V_LOADU(src + c0 + VL);
        } else if (src && c0 < W && c0 + 2 * VL > 0) {
            lo = V_LOAD_M(src + c0, V_MASK_RANGE(-c0, W - c0));
            hi = V_LOAD_M(src + c0 + VL, V_MASK_RANGE(-c0 - VL, W - c0 - VL));
        } else {
            lo = hi = V_SET1(0.0f);
        }
        VF even, odd;
        V_DEINT2(lo, hi, even, odd);
        V_STOREU(dst + j, even);
        V_STOREU(dst + p->ph + j, odd);
    }
#else
    V(pad_row)(p, src, 2 * n, tmp);
    for (int64_t j = 0; j < n; j += VL) {
        VF even, odd;
        V_DEINT2(V_LOADU(tmp + 2 * j), V_LOADU(tmp + 2 * j + VL), even, odd);
        V_STOREU(dst + j, even);
        V_STOREU(dst + p->ph + j, odd);
    }
#endif
}

/* The number of output rows computed together: two at stride 1 in the x86
 * variants, whose chains of dependent multiply-adds then run side by side
 * (two rows of stride 2 measured slower: they read five input rows, and
 * the taps lose their registers). */
#define DW_NR(S) (VL > 1 && (S) == 1 ? 2 : 1)

/* The taps of output rows i < DW_NR(S) at column vectors ox + u * VL,
 * u < U, added to acc[i * U + u]. rows[r] is the ring row of input row r
 * of the rows' K + S * (DW_NR(S) - 1): output row i reads rows i * S to
 * i * S + K - 1. Tap kx of output column ox reads padded column
 * ox * S + kx, which is column ox + kx / S of phase kx % S. */
DW_INLINE void V(taps)(const float *const *rows, const VF *tap, int64_t ph, int64_t ox, VF *acc,
                       const int U, const int K, const int S)
{
#pragma GCC unroll 9
    for (int r = 0; r < K + S * (DW_NR(S) - 1); r++)
#pragma GCC unroll 7
        for (int kx = 0; kx < K; kx++)
#pragma GCC unroll 2
            for (int u = 0; u < U; u++) {
                const VF v = V_LOADU(rows[r] + (kx % S) * ph + kx / S + ox + u * VL);
                for (int i = 0; i < DW_NR(S); i++) {
                    const int ky = r - i * S;
                    if (ky >= 0 && ky < K)
                        acc[i * U + u] = V_FMADD(tap[ky * K + kx], v, acc[i * U + u]);
                }
            }
}

/* Output rows yr[i < DW_NR(S)] of ow columns, from the ring rows, with
 * bias vb, residual rows rr[i] (or NULL) and the activation A (a constant:
 * the caller switches on the activation once per row, so the loop holds
 * only its case and the taps keep their registers). */
DW_INLINE void V(fast_rows)(const float *const *rows, const VF *tap, int64_t ph, VF vb,
                            float *const *yr, const float *const *rr, int64_t ow, const bool *room,
                            const onn_act A, VF alpha, VF beta, const int K, const int S)
{
#if VL == 1
    /* The portable variant, one row at a time (DW_NR): plain loops the
     * compiler vectorizes, with the residual test outside them; its caller
     * applies the activation. */
    float *const y0 = yr[0];
    const float *const r0 = rr[0];
    if (r0) {
#pragma omp simd
        for (int64_t ox = 0; ox < ow; ox++) {
            VF acc = vb + r0[ox];
            V(taps)(rows, tap, ph, ox, &acc, 1, K, S);
            y0[ox] = acc;
        }
    } else {
#pragma omp simd
        for (int64_t ox = 0; ox < ow; ox++) {
            VF acc = vb;
            V(taps)(rows, tap, ph, ox, &acc, 1, K, S);
            y0[ox] = acc;
        }
    }
    (void)room, (void)A, (void)alpha, (void)beta;
#else
    /* Two vectors of each row at a time: independent chains keep both FMA
     * pipes busy where one would wait on its latency. The residual test is
     * a predicted branch. */
    int64_t ox = 0;
    for (; ox <= ow - 2 * VL; ox += 2 * VL) {
        VF acc[4] = {vb, vb, vb, vb};
        for (int i = 0; rr[0] && i < DW_NR(S); i++)
            for (int u = 0; u < 2; u++)
                acc[i * 2 + u] = V_ADD(vb, V_LOADU(rr[i] + ox + u * VL));
        V(taps)(rows, tap, ph, ox, acc, 2, K, S);
        for (int i = 0; i < DW_NR(S); i++)
            for (int u = 0; u < 2; u++)
                V_STOREU(yr[i] + ox + u * VL, V(act)(acc[i * 2 + u], A, alpha, beta));
    }
    /* The rest, the last vector partial: the ring rows hold zeros past the
     * row, so its taps still load whole vectors; only the store is cut,
     * unless room[i] says y has room after row i (see fast): for any row
     * but the last only while the next is yet to be stored. */
    for (; ox < ow; ox += VL) {
        const int n = ow - ox < VL ? (int)(ow - ox) : VL;
        VF acc[2] = {vb, vb};
        for (int i = 0; rr[0] && i < DW_NR(S); i++)
            acc[i] = V_ADD(vb, n == VL ? V_LOADU(rr[i] + ox) : V_LOAD_N(rr[i] + ox, n));
        V(taps)(rows, tap, ph, ox, acc, 1, K, S);
        for (int i = 0; i < DW_NR(S); i++) {
            const VF v = V(act)(acc[i], A, alpha, beta);
            if (n == VL || (room[i] && (i == DW_NR(S) - 1 || ox == 0)))
                V_STOREU(yr[i] + ox, v);
            else
                V_STORE_N(yr[i] + ox, v, n);
        }
    }
#endif
}

/* The plane, DW_NR(S) output rows at a time. The ring holds
 * R = K + S * (DW_NR(S) - 1) rows of S * ph floats; input row iy lives in
 * slot (iy + pad_top) % R for as long as output rows need it, so each input
 * row is copied once. After the ring come, for stride 2, a row buffer of
 * 2 * ph floats (fill_row's), and a junk row of ph floats, which stands
 * for row oh of y when two rows are computed together and oh is odd. */
DW_INLINE void V(fast)(const onn_dwconv_plan *p, const float *x, const float *w, float *y,
                       const float *res, const onn_epilogue *ep, float bias, float *ring,
                       const int K, const int S)
{
    enum { RMAX = DW_MAX_K + 1 };
    const int R = K + S * (DW_NR(S) - 1);
    const int64_t H = p->s.h, W = p->s.w, OH = p->s.oh, OW = p->s.ow, ph = p->ph;
    float *tmp = ring + R * S * ph, *junk = tmp + (S > 1 ? 2 * ph : 0);
    const onn_epilogue e = *ep; /* a local copy: stores to y cannot change it */
    VF tap[DW_MAX_K * DW_MAX_K];
    for (int i = 0; i < K * K; i++)
        tap[i] = V_SET1(w[i]);
    int64_t held[RMAX]; /* the input row each slot holds */
    for (int i = 0; i < R; i++)
        held[i] = INT64_MIN;
    const float *rows[RMAX];
    const VF vb = V_SET1(bias), alpha = V_SET1(e.alpha), beta = V_SET1(e.beta);
    for (int64_t oy = 0; oy < OH; oy += DW_NR(S)) {
        for (int r = 0; r < R; r++) {
            const int64_t iy = oy * S - p->s.pad_top + r, slot = (oy * S + r) % R;
            float *row = ring + slot * S * ph;
            if (held[slot] != iy) {
                V(fill_row)(p, iy >= 0 && iy < H ? x + iy * W : NULL, row, tmp, S);
                held[slot] = iy;
            }
            rows[r] = row;
        }
        const bool pair = DW_NR(S) == 2 && oy + 1 < OH;
        float *const yr[2] = {y + oy * OW, pair ? y + (oy + 1) * OW : junk};
        const float *const rr[2] = {res ? res + oy * OW : NULL,
                                    res ? res + (pair ? oy + 1 : oy) * OW : NULL};
        /* A row's last vector may store whole when a vector's worth of
         * later rows of y follows, which then overwrite what it spilled
         * (narrow rows are all last vector); the junk row has room. Not
         * with a residual, which may share y's memory. */
        const bool room[2] = {!res && (OH - 1 - oy) * OW >= VL,
                              !pair || (!res && (OH - 2 - oy) * OW >= VL)};
#if VL == 1
        V(fast_rows)(rows, tap, ph, vb, yr, rr, OW, room, ONN_ACT_NONE, alpha, beta, K, S);
        V(act_row)(yr[0], OW, &e);
        if (pair) V(act_row)(yr[1], OW, &e);
#else
#define DW_ROWS(A) V(fast_rows)(rows, tap, ph, vb, yr, rr, OW, room, A, alpha, beta, K, S)
        DW_ACT_SWITCH(e.act, DW_ROWS);
#undef DW_ROWS
#endif
    }
}

#define DW_FAST(K, S)                                                                              \
    static void V(fast_##K##_##S)(const onn_dwconv_plan *p, const float *x, const float *w,        \
                                  float *y, const float *res, const onn_epilogue *ep, float bias,  \
                                  float *scratch)                                                  \
    {                                                                                              \
        V(fast)(p, x, w, y, res, ep, bias, scratch, K, S);                                         \
    }
DW_FAST(3, 1)
DW_FAST(3, 2)
DW_FAST(5, 1)
DW_FAST(5, 2)
DW_FAST(7, 1)
DW_FAST(7, 2)
#undef DW_FAST

#if VL > 1
/* ---- narrow path: output rows of at most U vectors, in registers --------- */

/* Output rows computed together: each input row's loads then serve all the
 * output rows that read it. */
#ifndef DW_NNR
#define DW_NNR(K, S, U) 2
#endif

/* The loads of an input row: at stride 1, load l = kx * U + u is tap kx of
 * output vector u, padded columns u * VL + kx + [0, VL); at stride 2, load
 * l = (j * U + u) * 2 + h covers padded columns 2 * u * VL + h * VL + 2j +
 * [0, VL), whose even and odd lanes over h = 0, 1 are taps 2j and 2j + 1 of
 * output vector u. Returns the load's first input column. */
DW_INLINE int64_t V(narrow_col)(int64_t pl, int l, const int U, const int S)
{
    if (S == 1) return (l % U) * VL + l / U - pl;
    return (l / 2 % U) * 2 * VL + (l % 2) * VL + l / 2 / U * 2 - pl;
}

/* The plane with activation A, DW_NNR output rows at a time. Each input
 * row's taps are masked loads straight from x, the mask selecting the
 * lanes that fall inside the row (the others read as zeros, and are never
 * touched): no ring, no row copies, no scratch. Rows of padding are
 * skipped. Per output value, the taps add in the order of the fast path
 * (bias, residual, then by row and column of the kernel), so the results
 * are the same. */
DW_INLINE void V(narrow)(const onn_dwconv_plan *p, const float *x, const float *w, float *y,
                         const float *res, float bias, const int K, const int S, const int U)
{
    enum { NRMAX = 4, NLMAX = (DW_MAX_K + 1) * DW_NU_MAX };
    const int NR = DW_NNR(K, S, U), R = K + S * (NR - 1), NL = S == 1 ? K * U : (K + 1) / 2 * 2 * U;
    /* An empty row leaves nothing to load (and x may then be NULL). */
    const int64_t H = p->s.w > 0 ? p->s.h : 0, W = p->s.w, OH = p->s.oh, OW = p->s.ow;
    const int64_t pt = p->s.pad_top, pl = p->s.pad_left;
    /* Lanes of the row's last vector; rows below rs may store it whole, as
     * the fast path's room (the rows after overwrite what spills, and the
     * spill stays in the plane), but not with a residual. */
    const int n = (int)(OW - (U - 1) * VL);
    const int64_t rs = res ? 0 : OH - (VL - n + OW - 1) / OW;
    int64_t off[NLMAX];
    VM mask[NLMAX];
#pragma GCC unroll 32
    for (int l = 0; l < NL; l++) {
        off[l] = V(narrow_col)(pl, l, U, S);
        mask[l] = V_MASK_RANGE(-off[l], W - off[l]);
    }
    VF tap[DW_MAX_K * DW_MAX_K];
#pragma GCC unroll 32
    for (int i = 0; i < K * K; i++)
        tap[i] = V_SET1(w[i]);
    const VF vb = V_SET1(bias);
    for (int64_t oy = 0; oy < OH; oy += NR) {
        VF acc[NRMAX * DW_NU_MAX];
#pragma GCC unroll 32
        for (int i = 0; i < NR; i++)
#pragma GCC unroll 32
            for (int u = 0; u < U; u++) {
                acc[i * U + u] = vb;
                if (res && oy + i < OH) {
                    const float *rr = res + (oy + i) * OW + u * VL;
                    acc[i * U + u] =
                        V_ADD(vb, u < U - 1 || n == VL ? V_LOADU(rr) : V_LOAD_N(rr, n));
                }
            }
#pragma GCC unroll 32
        for (int r = 0; r < R; r++) {
            const int64_t iy = oy * S - pt + r;
            if (iy < 0 || iy >= H) continue;
            const float *xr = x + iy * W;
            VF t[DW_MAX_K * DW_NU_MAX]; /* tap kx of vector u: t[kx * U + u] */
#pragma GCC unroll 32
            for (int l = 0; l < NL; l += S) {
                if (S == 1) {
                    t[l] = V_LOAD_M(xr + off[l], mask[l]);
                } else {
                    const int j = l / 2 / U, u = l / 2 % U;
                    VF e, o;
                    V_DEINT2(V_LOAD_M(xr + off[l], mask[l]), V_LOAD_M(xr + off[l + 1], mask[l + 1]),
                             e, o);
                    t[2 * j * U + u] = e;
                    if (2 * j + 1 < K) t[(2 * j + 1) * U + u] = o;
                }
            }
#pragma GCC unroll 32
            for (int kx = 0; kx < K; kx++)
#pragma GCC unroll 32
                for (int u = 0; u < U; u++)
#pragma GCC unroll 32
                    for (int i = 0; i < NR; i++) {
                        const int ky = r - i * S;
                        if (ky >= 0 && ky < K)
                            acc[i * U + u] =
                                V_FMADD(tap[ky * K + kx], t[kx * U + u], acc[i * U + u]);
                    }
        }
#pragma GCC unroll 32
        for (int i = 0; i < NR; i++) {
            if (i > 0 && oy + i >= OH) break;
            float *yr = y + (oy + i) * OW;
#pragma GCC unroll 32
            for (int u = 0; u < U; u++) {
                const VF v = acc[i * U + u];
                if (u < U - 1 || n == VL || oy + i < rs)
                    V_STOREU(yr + u * VL, v);
                else
                    V_STORE_N(yr + u * VL, v, n);
            }
        }
    }
}

#define DW_NARROW(K, S, U)                                                                         \
    static void V(narrow_##K##_##S##_##U)(const onn_dwconv_plan *p, const float *x,                \
                                          const float *w, float *y, const float *res,              \
                                          const onn_epilogue *ep, float bias, float *scratch)      \
    {                                                                                              \
        (void)scratch;                                                                             \
        V(narrow)(p, x, w, y, res, bias, K, S, U);                                                 \
        V(act_row)(y, p->s.oh * p->s.ow, ep);                                                      \
    }
DW_NARROW(3, 1, 1)
DW_NARROW(3, 1, 2)
DW_NARROW(3, 1, 3)
DW_NARROW(3, 1, 4)
DW_NARROW(3, 2, 1)
DW_NARROW(3, 2, 2)
DW_NARROW(3, 2, 3)
DW_NARROW(3, 2, 4)
DW_NARROW(5, 1, 1)
DW_NARROW(5, 1, 2)
DW_NARROW(5, 1, 3)
DW_NARROW(5, 1, 4)
DW_NARROW(5, 2, 1)
DW_NARROW(5, 2, 2)
DW_NARROW(5, 2, 3)
DW_NARROW(5, 2, 4)
DW_NARROW(7, 1, 1)
DW_NARROW(7, 1, 2)
DW_NARROW(7, 1, 3)
DW_NARROW(7, 1, 4)
DW_NARROW(7, 2, 1)
DW_NARROW(7, 2, 2)
DW_NARROW(7, 2, 3)
DW_NARROW(7, 2, 4)
#undef DW_NARROW
#endif /* VL > 1: the portable variant keeps the ring */

/* ---- generic path -------------------------------------------------------- */

/* Any kernel, stride and dilation: each output row starts as bias plus
 * residual, each tap whose input row lies inside the plane accumulates
 * over the columns that read inside it (no test per element), and the
 * activation runs over the finished row while it is in cache. */
static void V(generic)(const onn_dwconv_plan *p, const float *x, const float *w, float *y,
                       const float *res, const onn_epilogue *ep, float bias, float *scratch)
{
    (void)scratch;
    const onn_dwconv_shape *s = &p->s;
    const int64_t OW = s->ow, sw = s->sw;
    for (int64_t oy = 0; oy < s->oh; oy++) {
        float *yr = y + oy * OW;
        if (res) {
            const float *rr = res + oy * OW;
#pragma omp simd
            for (int64_t ox = 0; ox < OW; ox++)
                yr[ox] = bias + rr[ox];
        } else {
            for (int64_t ox = 0; ox < OW; ox++)
                yr[ox] = bias;
        }
        for (int64_t ky = 0; ky < s->kh; ky++) {
            const int64_t iy = oy * s->sh - s->pad_top + ky * s->dh;
            if (iy < 0 || iy >= s->h) continue;
            const float *xr = x + iy * s->w;
            for (int64_t kx = 0; kx < s->kw; kx++) {
                /* Output column ox reads input column ox * sw + off. */
                const int64_t off = kx * s->dw - s->pad_left;
                int64_t lo = off < 0 ? (sw - 1 - off) / sw : 0;
                int64_t hi = s->w > off ? (s->w - off + sw - 1) / sw : 0;
                if (hi > OW) hi = OW;
                const float wv = w[ky * s->kw + kx];
                if (sw == 1) {
#pragma omp simd
                    for (int64_t ox = lo; ox < hi; ox++)
                        yr[ox] += wv * xr[ox + off];
                } else {
                    for (int64_t ox = lo; ox < hi; ox++)
                        yr[ox] += wv * xr[ox * sw + off];
                }
            }
        }
        V(act_row)(yr, OW, ep);
    }
}

static const dw_variant V(dwconv) = {
    .isa = ISA,
    .vl = VL,
    .generic = V(generic),
    .fast = {{V(fast_3_1), V(fast_3_2)}, {V(fast_5_1), V(fast_5_2)}, {V(fast_7_1), V(fast_7_2)}},
#if VL > 1
    .narrow = {{{V(narrow_3_1_1), V(narrow_3_1_2), V(narrow_3_1_3), V(narrow_3_1_4)},
                {V(narrow_3_2_1), V(narrow_3_2_2), V(narrow_3_2_3), V(narrow_3_2_4)}},
               {{V(narrow_5_1_1), V(narrow_5_1_2), V(narrow_5_1_3), V(narrow_5_1_4)},
                {V(narrow_5_2_1), V(narrow_5_2_2), V(narrow_5_2_3), V(narrow_5_2_4)}},
               {{V(narrow_7_1_1), V(narrow_7_1_2), V(narrow_7_1_3), V(narrow_7_1_4)},
                {V(narrow_7_2_1), V(narrow_7_2_2), V(narrow_7_2_3), V(narrow_7_2_4)}}},
#endif
};

#undef V
#undef CAT
#undef CAT_
#undef SFX
#undef ISA
#undef VF
#undef VL
#undef V_SET1
#undef V_LOADU
#undef V_STOREU
#undef V_LOAD_N
#undef V_STORE_N
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_FMADD
#undef V_MAX
#undef V_MIN
#undef V_ABS
#undef V_SEL_GE0
#undef V_POW2N
#undef V_DEINT2
#undef DW_NR
#undef DW_NNR
#undef V_LOAD_M
#undef V_MASK_RANGE
#undef VM
