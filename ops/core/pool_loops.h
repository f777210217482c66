/*
 * The template of the kernels behind pool_plane.h, included by pool_plane.c
 * once per instruction set. Before including it, pool_plane.c defines
 *   SFX, ISA   the variant's suffix (scalar, avx2, avx512) and onn_isa,
 *   VF, VL     its float vector type and lanes (float and 1 for the
 *              portable variant, whose loops the compiler vectorizes),
 *   VM         a mask that accumulates "some lane was NaN",
 *   VD, VDL    its double vector type and lanes,
 *   V_*, VD_*  the operations (listed in pool_plane.c),
 * and selects the instruction set with ONN_TARGET_*_BEGIN, so the same
 * source compiles into each variant. It undefines all of these at its end.
 * No include guard: it is meant to be included several times.
 */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define V(name) CAT(name, SFX)

/* ---- MaxPool and AveragePool: K x K, stride S, dilation 1 ----------------- */

/* The ring (see planes below): slot i of R holds a padded row, S phases of
 * ph floats, phase f holding in its first pn floats the columns f, f + S,
 * f + 2S, ... of the padded row. For stride 2 the even and odd columns are
 * split once per input row, through a row buffer, so that every sample of
 * an output vector is one contiguous load. The padded row's columns
 * outside [lo, hi) (those of the padding) hold the pad value from the
 * start of a call on: only [lo, hi) changes from row to row. */

/* The pad value of every column of the stride-1 slot or stride-2 row
 * buffer dst: rn floats. */
PL_INLINE void V(pad_all)(float *dst, int64_t rn, VF pad)
{
    for (int64_t j = 0; j < rn; j += VL)
        V_STOREU(dst + j, pad);
}

/* Columns [lo, hi) of dst = those of the padded row whose input row is
 * src, in whole vectors: a last, partial one puts pad values after hi (dst
 * has room for VL floats past rn). With TRACK, true when a value copied is
 * NaN. Vector loops rather than memcpy, whose calls cost more than the
 * copying at the widths of late layers. */
PL_INLINE bool V(copy_cols)(const onn_pool2d_plan *p, const float *src, float *dst, int64_t lo,
                            int64_t hi, VF pad, const int TRACK)
{
    const int64_t pl = p->s.pad_left; /* padded column j is src[j - pl] */
    VM m = V_M_ZERO;
    int64_t j = lo;
#if VL == 1
#pragma omp simd reduction(| : m)
#endif
    for (j = lo; j <= hi - VL; j += VL) {
        const VF v = V_LOADU(src + (j - pl));
        if (TRACK) m = V_NAN_OR(m, v);
        V_STOREU(dst + j, v);
    }
    if (j < hi) {
        const VF v = V_LOAD_PAD(src + (j - pl), (int)(hi - j), pad);
        if (TRACK) m = V_NAN_OR(m, v);
        V_STOREU(dst + j, v);
    }
    return TRACK && V_M_ANY(m);
}

/* Padded row `row` (input row row - pad_top, or padding) into ring slot
 * dst. True when the row holds a NaN (TRACK). For stride 2 the input row
 * goes to the row buffer tmp, which holds the padding around it, and is
 * split from there. (Splitting the blocks inside the input straight from
 * it saved a copy but measured slower on all but the widest rows.) */
PL_INLINE bool V(fill_row)(const onn_pool2d_plan *p, const float *x, int64_t row, float *dst,
                           float *tmp, VF pad, const int TRACK, const int S)
{
    const int64_t iy = row - p->s.pad_top, lo = p->lo, hi = p->hi;
    const bool inside = iy >= 0 && iy < p->s.h;
    if (S == 1) {
        if (inside) return V(copy_cols)(p, x + iy * p->s.w, dst, lo, hi, pad, TRACK);
        for (int64_t j = lo; j < hi; j += VL)
            V_STOREU(dst + j, pad);
        return false;
    }
    float *even = dst, *odd = dst + p->ph;
    const int64_t n = p->rn / 2;
    if (!inside) {
        for (int64_t j = 0; j < n; j += VL) {
            V_STOREU(even + j, pad);
            V_STOREU(odd + j, pad);
        }
        return false;
    }
    const bool nan = V(copy_cols)(p, x + iy * p->s.w, tmp, lo, hi, pad, TRACK);
    for (int64_t j = 0; j < n; j += VL) {
        VF e, o;
        V_DEINT2(V_LOADU(tmp + 2 * j), V_LOADU(tmp + 2 * j + VL), e, o);
        V_STOREU(even + j, e);
        V_STOREU(odd + j, o);
    }
    return nan;
}

/* The number of output rows computed together: two at stride 1 in the
 * vector variants, whose windows share K - 1 rows, so that one load serves
 * both and the loop's bookkeeping is paid once per two rows. */
#define PL_NR(S) (VL > 1 && (S) == 1 ? 2 : 1)

/* Folds the window samples of output rows i < NR, columns ox + u * VL
 * (u < U), into acc[i * U + u], each in row-major window order as pool.c
 * does. rows[r] is the ring row of the rows' r-th padded row: output row i
 * reads rows i * S to i * S + K - 1. Sample kx of output column ox is
 * padded column ox * S + kx, which is column ox + kx / S of phase kx % S.
 * A max takes the sample when it is greater (V_MAX(sample, acc)), a sum
 * adds it to acc. */
PL_INLINE void V(fold)(const float *const *rows, int64_t ph, int64_t ox, VF *acc, const int U,
                       const int NR, const int KIND, const int K, const int S)
{
#pragma GCC unroll 4
    for (int r = 0; r < K + S * (NR - 1); r++)
#pragma GCC unroll 3
        for (int kx = 0; kx < K; kx++)
#pragma GCC unroll 2
            for (int u = 0; u < U; u++) {
                const VF v = V_LOADU(rows[r] + (kx % S) * ph + kx / S + ox + u * VL);
#pragma GCC unroll 2
                for (int i = 0; i < NR; i++) {
                    const int ky = r - i * S;
                    if (ky < 0 || ky >= K) continue;
                    VF *a = &acc[i * U + u];
                    *a = KIND == ONN_POOL2D_MAX ? V_MAX(v, *a) : V_ADD(*a, v);
                }
            }
}

/* An average's sums of output columns [ox, ox + VL) divided by their
 * windows' counts (dh: the row's, div_w: the columns'). */
PL_INLINE VF V(finish)(const onn_pool2d_plan *p, VF acc, VF dh, int64_t ox, const int KIND)
{
    if (KIND == ONN_POOL2D_MAX) return acc;
    return V_DIV(acc, V_MUL(dh, V_LOADU(p->div_w + ox)));
}

/* Output rows yr[i < NR] from the ring rows of their windows, dh[i] their
 * divisors. A last, partial vector loads whole vectors (the ring rows and
 * div_w have room) and stores only its lanes, unless room[i] says a vector
 * of the call's output follows row i, all stored later, which overwrites
 * what the whole store spilled. So that this holds for the first of two
 * rows, the second row's first vector is stored last. */
PL_INLINE void V(out_rows)(const onn_pool2d_plan *p, const float *const *rows, float *const *yr,
                           const VF *dh, const bool *room, const int NR, const int KIND,
                           const int K, const int S)
{
    const int64_t ow = p->s.ow, ph = p->ph;
    const VF init = V_SET1(KIND == ONN_POOL2D_MAX ? -INFINITY : 0.0f);
#if VL == 1
    (void)room, (void)NR;
    float *const y = yr[0];
    const float d = dh[0];
#pragma omp simd
    for (int64_t ox = 0; ox < ow; ox++) {
        VF acc = init;
        V(fold)(rows, ph, ox, &acc, 1, 1, KIND, K, S);
        y[ox] = V(finish)(p, acc, d, ox, KIND);
    }
#else
    VF first = init; /* row 1's first vector */
    /* Two vectors of each row at a time: independent chains of maxima or
     * sums. */
    int64_t ox = 0;
    for (; ox <= ow - 2 * VL; ox += 2 * VL) {
        VF acc[4] = {init, init, init, init};
        V(fold)(rows, ph, ox, acc, 2, NR, KIND, K, S);
#pragma GCC unroll 2
        for (int i = 0; i < NR; i++) {
            const VF v = V(finish)(p, acc[2 * i], dh[i], ox, KIND);
            if (i == 1 && ox == 0)
                first = v;
            else
                V_STOREU(yr[i] + ox, v);
            V_STOREU(yr[i] + ox + VL, V(finish)(p, acc[2 * i + 1], dh[i], ox + VL, KIND));
        }
    }
    for (; ox < ow; ox += VL) {
        VF acc[2] = {init, init};
        V(fold)(rows, ph, ox, acc, 1, NR, KIND, K, S);
#pragma GCC unroll 2
        for (int i = 0; i < NR; i++) {
            const VF v = V(finish)(p, acc[i], dh[i], ox, KIND);
            if (i == 1 && ox == 0)
                first = v;
            else if (ow - ox >= VL || room[i])
                V_STOREU(yr[i] + ox, v);
            else
                V_STORE_N(yr[i] + ox, v, (int)(ow - ox));
        }
    }
    if (NR == 2) {
        if (ow >= VL || room[1])
            V_STOREU(yr[1], first);
        else
            V_STORE_N(yr[1], first, (int)ow);
    }
#endif
}

/* Output rows oy to oy + NR - 1 of the plane y from the ring rows of their
 * windows. `after`: the floats of the call's later planes, stored later. */
PL_INLINE void V(step)(const onn_pool2d_plan *p, const float *const *rows, float *y, int64_t oy,
                       int64_t after, const int NR, const int KIND, const int K, const int S)
{
    const int64_t OH = p->s.oh, OW = p->s.ow;
    float *yr[2];
    VF dh[2];
    bool room[2];
#pragma GCC unroll 2
    for (int i = 0; i < NR; i++) {
        yr[i] = y + (oy + i) * OW;
        dh[i] = V_SET1(KIND == ONN_POOL2D_MAX ? 1.0f : p->div_h[oy + i]);
        room[i] = (OH - 1 - oy - i) * OW + after >= VL;
    }
    V(out_rows)(p, rows, yr, dh, room, NR, KIND, K, S);
}

/* `planes` planes, PL_NR(S) output rows at a time. The ring has R slots
 * (a power of two) of S * ph floats, padded row P in slot P % R: the RW
 * rows of the windows of the output rows being computed and the S * NR new
 * rows of the next step's, so that each input row is copied once. Those
 * are filled a step ahead, before the current step's loads, which
 * otherwise straddle stores just made (2 to 5% faster measured). After the
 * ring comes, for stride 2, the row buffer. */
PL_INLINE void V(planes)(const onn_pool2d_plan *p, const float *x, float *y, int64_t planes,
                         float *ring, const int KIND, const int K, const int S)
{
    const int NR = PL_NR(S), RW = K + S * (NR - 1), R = RW + S * NR <= 4 ? 4 : 8;
    const int64_t HW = p->s.h * p->s.w, OH = p->s.oh, OW = p->s.ow, rs = S * p->ph;
    const int TRACK = KIND == ONN_POOL2D_MAX;
    const VF pad = V_SET1(KIND == ONN_POOL2D_MAX ? -INFINITY : -0.0f);
    float *tmp = ring + R * rs;
    if (S == 1)
        for (int i = 0; i < R; i++)
            V(pad_all)(ring + i * rs, p->rn, pad);
    else
        V(pad_all)(tmp, p->rn, pad);
    for (int64_t c = 0; c < planes; c++, x += HW, y += OH * OW) {
        unsigned nan = 0; /* bit i: slot i's row has a NaN */
#pragma GCC unroll 4
        for (int r = 0; r < RW; r++)
            nan |= (unsigned)V(fill_row)(p, x, r, ring + r * rs, tmp, pad, TRACK, S) << r;
        for (int64_t oy = 0; oy < OH; oy += NR) {
            const int64_t base = oy * S;
            if (oy + NR < OH)
#pragma GCC unroll 2
                for (int i = 0; i < S * NR; i++) {
                    const int slot = (int)((base + RW + i) & (R - 1));
                    const bool f =
                        V(fill_row)(p, x, base + RW + i, ring + slot * rs, tmp, pad, TRACK, S);
                    nan = (nan & ~(1u << slot)) | (unsigned)f << slot;
                }
            const float *rows[4];
            unsigned used = 0;
#pragma GCC unroll 4
            for (int r = 0; r < RW; r++) {
                const int slot = (int)((base + r) & (R - 1));
                rows[r] = ring + slot * rs;
                used |= 1u << slot;
            }
            const int nr = oy + NR <= OH ? NR : 1;
            if (TRACK && (nan & used)) {
                for (int i = 0; i < nr; i++)
                    onn_pool2d_max_row(&p->s, x, y + (oy + i) * OW, oy + i);
            } else if (nr == NR) {
                V(step)(p, rows, y, oy, (planes - 1 - c) * OH * OW, NR, KIND, K, S);
            } else {
                V(step)(p, rows, y, oy, (planes - 1 - c) * OH * OW, 1, KIND, K, S);
            }
        }
    }
}

#define PL_FAST(KIND, NAME, K, S)                                                                  \
    static void V(NAME##_##K##_##S)(const onn_pool2d_plan *p, const float *x, float *y,            \
                                    int64_t planes, float *scratch)                                \
    {                                                                                              \
        V(planes)(p, x, y, planes, scratch, KIND, K, S);                                           \
    }
PL_FAST(ONN_POOL2D_MAX, max, 2, 1)
PL_FAST(ONN_POOL2D_MAX, max, 2, 2)
PL_FAST(ONN_POOL2D_MAX, max, 3, 1)
PL_FAST(ONN_POOL2D_MAX, max, 3, 2)
PL_FAST(ONN_POOL2D_AVG, avg, 2, 1)
PL_FAST(ONN_POOL2D_AVG, avg, 2, 2)
PL_FAST(ONN_POOL2D_AVG, avg, 3, 1)
PL_FAST(ONN_POOL2D_AVG, avg, 3, 2)
#undef PL_FAST

/* ---- GlobalAveragePool ---------------------------------------------------- */

/* The means of G planes of `size` floats from x into y[0, G): C chains of
 * double additions per plane, so that G * C additions are in flight at a
 * time rather than one (the scalar loop waited on each addition's
 * latency); the last size % VDL values are added one by one. */
PL_INLINE void V(gap_group)(const float *x, int64_t size, float *y, const int G, const int C)
{
    VD acc[4][4];
    for (int g = 0; g < G; g++)
        for (int c = 0; c < C; c++)
            acc[g][c] = VD_ZERO;
    int64_t i = 0;
    for (; i <= size - C * VDL; i += C * VDL)
#pragma GCC unroll 4
        for (int g = 0; g < G; g++)
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                acc[g][c] = VD_ADD(acc[g][c], VD_LOADCVT(x + g * size + i + c * VDL));
    for (; i <= size - VDL; i += VDL)
        for (int g = 0; g < G; g++)
            acc[g][0] = VD_ADD(acc[g][0], VD_LOADCVT(x + g * size + i));
    for (int g = 0; g < G; g++) {
        VD t = acc[g][0];
        for (int c = 1; c < C; c++)
            t = VD_ADD(t, acc[g][c]);
        double s = VD_HSUM(t);
        for (int64_t j = i; j < size; j++)
            s += (double)x[g * size + j];
        /* An empty plane's mean is NaN (0 / 0), as numpy gives. */
        y[g] = (float)(s / (double)size);
    }
}

/* Four planes at a time, each with two chains; the planes left over one
 * at a time with four chains. */
static void V(gap)(const float *x, int64_t planes, int64_t size, float *y)
{
    int64_t p = 0;
    for (; p + 4 <= planes; p += 4)
        V(gap_group)(x + p * size, size, y + p, 4, 2);
    for (; p < planes; p++)
        V(gap_group)(x + p * size, size, y + p, 1, 4);
}

static const pool_variant V(pool) = {
    ISA,
    VL,
    {{{V(max_2_1), V(max_2_2)}, {V(max_3_1), V(max_3_2)}},
     {{V(avg_2_1), V(avg_2_2)}, {V(avg_3_1), V(avg_3_2)}}},
    V(gap),
};

#undef V
#undef CAT
#undef CAT_
#undef SFX
#undef ISA
#undef VF
#undef VL
#undef VM
#undef VD
#undef VDL
#undef V_SET1
#undef V_LOADU
#undef V_STOREU
#undef V_LOAD_PAD
#undef V_STORE_N
#undef V_ADD
#undef V_MUL
#undef V_DIV
#undef V_MAX
#undef V_DEINT2
#undef V_M_ZERO
#undef V_NAN_OR
#undef V_M_ANY
#undef VD_ZERO
#undef VD_ADD
#undef VD_LOADCVT
#undef VD_HSUM
#undef PL_NR
