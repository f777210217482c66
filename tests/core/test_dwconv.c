/*
 * The depthwise plane kernels of every instruction-set variant
 * (ops/core/dwconv.h), planned and called directly, against a float64
 * reference written here: the fast path (3x3, 5x5 and 7x7, strides 1 and 2)
 * over pads 0, 1, 2 and asymmetric ones, odd and even sizes, tiny planes
 * and rows of 1 to 40 columns (every vector tail); the generic path over
 * other kernels, strides and dilations; every activation of epilogue.h
 * with and without a residual plane (also one sharing y's memory). Each
 * call checks that nothing past the output plane is written and that
 * nothing unwritten in the scratch is read (it starts as NaN). A variant
 * this CPU cannot run is skipped with the reason printed.
 *
 * Then depthwise Conv nodes (group = C, and a channel multiplier) through
 * the public API at 1 and 2 threads, with the variant pinned.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"
#include "ops/core/dwconv.h"

/* Floats written past the output plane that must stay untouched. */
#define GUARD 40
#define CANARY 1234.5f

/* The variant under test (cmocka state), or a skip with the reason. */
static onn_isa variant(void **state)
{
    const onn_isa isa = (onn_isa)(intptr_t)*state;
    if (!onn_isa_supported(isa)) {
        printf("[ SKIPPED  ] %s: this CPU (or build) has no %s\n", onn_isa_name(isa),
               onn_isa_name(isa));
        skip();
    }
    return isa;
}

/* ---- the reference ------------------------------------------------------- */

static double ref_act(onn_act act, double alpha, double beta, double v)
{
    switch (act) {
    case ONN_ACT_RELU: return v < 0.0 ? 0.0 : v;
    case ONN_ACT_CLIP: return v < alpha ? alpha : v > beta ? beta : v;
    case ONN_ACT_LEAKY_RELU: return v >= 0.0 ? v : alpha * v;
    case ONN_ACT_HARD_SIGMOID: return fmax(0.0, fmin(1.0, alpha * v + beta));
    case ONN_ACT_HARD_SWISH: return v * fmax(0.0, fmin(1.0, v / 6.0 + 0.5));
    case ONN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case ONN_ACT_SILU: return v / (1.0 + exp(-v));
    case ONN_ACT_TANH: return tanh(v);
    default: return v;
    }
}

/* y = act(bias + res + conv(x, w)) in float64; mag receives, per output,
 * the sum of the magnitudes of its terms (the scale of float32 rounding). */
static void ref_plane(const onn_dwconv_shape *s, const float *x, const float *w, double bias,
                      const float *res, const onn_epilogue *ep, double *y, double *mag)
{
    for (int64_t oy = 0; oy < s->oh; oy++)
        for (int64_t ox = 0; ox < s->ow; ox++) {
            const int64_t o = oy * s->ow + ox;
            double acc = bias + (res ? res[o] : 0.0);
            double m = fabs(acc);
            for (int64_t ky = 0; ky < s->kh; ky++)
                for (int64_t kx = 0; kx < s->kw; kx++) {
                    const int64_t iy = oy * s->sh - s->pad_top + ky * s->dh;
                    const int64_t ix = ox * s->sw - s->pad_left + kx * s->dw;
                    if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                    const double t = (double)x[iy * s->w + ix] * w[ky * s->kw + kx];
                    acc += t, m += fabs(t);
                }
            y[o] = ref_act(ep->act, ep->alpha, ep->beta, acc);
            mag[o] = m;
        }
}

/* ---- one plane ----------------------------------------------------------- */

enum { RES_NONE, RES_SEPARATE, RES_IN_PLACE };

typedef struct plane_case {
    onn_dwconv_shape s;
    onn_act act;
    float alpha, beta;
    int res;     /* RES_* */
    float scale; /* of x (large values drive the activations to saturation) */
} plane_case;

/* The output extent of a padded axis, or 0 when the kernel does not fit. */
static int64_t out_extent(int64_t in, int64_t k, int64_t s, int64_t d, int64_t lo, int64_t hi)
{
    const int64_t span = (k - 1) * d + 1;
    return in + lo + hi < span ? 0 : (in + lo + hi - span) / s + 1;
}

static void check_plane(onn_isa isa, const plane_case *pc, uint64_t seed)
{
    const onn_dwconv_shape *s = &pc->s;
    onn_dwconv_plan plan;
    assert_true(onn_dwconv_plan_init(&plan, s, isa));
    const bool fast = s->kh == s->kw && (s->kh == 3 || s->kh == 5 || s->kh == 7) &&
                      s->sh == s->sw && s->sh <= 2 && s->dh == 1 && s->dw == 1;
    assert_int_equal(plan.fast, fast);
    assert_int_equal(plan.scratch_bytes % 64, 0);

    const int64_t nx = s->h * s->w, ny = s->oh * s->ow;
    float *x = th_randf(seed, nx), *w = th_randf(seed + 1, s->kh * s->kw);
    float *res = th_randf(seed + 2, ny), *bias = th_randf(seed + 3, 3);
    for (int64_t i = 0; i < nx; i++)
        x[i] *= pc->scale;
    float *y = malloc((size_t)(ny + GUARD) * sizeof *y);
    float *scratch = aligned_alloc(64, plan.scratch_bytes + 64);
    assert_non_null(y);
    assert_non_null(scratch);
    for (size_t i = 0; i < plan.scratch_bytes / sizeof(float); i++)
        scratch[i] = NAN; /* a read of scratch the kernel did not write shows */
    for (int64_t i = 0; i < ny + GUARD; i++)
        y[i] = i < ny && pc->res == RES_IN_PLACE ? res[i] : CANARY;

    const onn_epilogue ep = {bias, pc->act, pc->alpha, pc->beta};
    double *ref = th_dalloc(ny), *mag = th_dalloc(ny);
    ref_plane(s, x, w, bias[1], pc->res ? res : NULL, &ep, ref, mag);
    const float *r = pc->res == RES_SEPARATE ? res : pc->res == RES_IN_PLACE ? y : NULL;
    onn_dwconv_plane(&plan, x, w, y, r, &ep, 1, scratch);

    for (int64_t i = 0; i < ny; i++) {
        /* float32 sums of up to 26 terms, and the activations' own error */
        const double tol = 1e-6 * (1.0 + mag[i]) * 8.0;
        if (!(fabs(y[i] - ref[i]) <= tol))
            fail_msg("%s %s: %lldx%lld k %lldx%lld s %lldx%lld d %lldx%lld pads %lld,%lld -> "
                     "%lldx%lld, act %d, res %d: y[%lld] = %.9g, want %.9g",
                     onn_isa_name(isa), fast ? "fast" : "generic", (long long)s->h, (long long)s->w,
                     (long long)s->kh, (long long)s->kw, (long long)s->sh, (long long)s->sw,
                     (long long)s->dh, (long long)s->dw, (long long)s->pad_top,
                     (long long)s->pad_left, (long long)s->oh, (long long)s->ow, pc->act, pc->res,
                     (long long)i, y[i], ref[i]);
    }
    for (int64_t i = ny; i < ny + GUARD; i++)
        if (y[i] != CANARY)
            fail_msg("%s: y[%lld] past the plane written", onn_isa_name(isa), (long long)i);
    free(x), free(w), free(res), free(bias), free(y), free(scratch), free(ref), free(mag);
}

/* A plane of h x w with kernel k, stride s, dilation d and pads (top,
 * left, bottom, right); false when the kernel does not fit. */
static bool make_case(plane_case *pc, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh,
                      int64_t sw, int64_t dh, int64_t dw, const int64_t pads[4])
{
    *pc = (plane_case){.s = {.h = h,
                             .w = w,
                             .kh = kh,
                             .kw = kw,
                             .sh = sh,
                             .sw = sw,
                             .dh = dh,
                             .dw = dw,
                             .pad_top = pads[0],
                             .pad_left = pads[1]},
                       .scale = 1.0f};
    pc->s.oh = out_extent(h, kh, sh, dh, pads[0], pads[2]);
    pc->s.ow = out_extent(w, kw, sw, dw, pads[1], pads[3]);
    return pc->s.oh > 0 && pc->s.ow > 0;
}

static const int64_t pad_sets[][4] = {
    {0, 0, 0, 0}, {1, 1, 1, 1}, {2, 2, 2, 2}, {0, 1, 2, 0}, {2, 0, 1, 1}, {1, 2, 0, 1},
};
#define N_PADS (int)(sizeof pad_sets / sizeof pad_sets[0])

/* ---- the fast path ------------------------------------------------------- */

/* 3x3, 5x5 and 7x7 at strides 1 and 2, every pad set, heights 1 to 7 and rows
 * of 1 to 40 columns: every vector tail of 8 and 16 lanes, rows shorter
 * than one vector, planes smaller than the kernel. Every third plane adds
 * a residual. */
static void fast_shapes(void **state)
{
    const onn_isa isa = variant(state);
    static const int64_t heights[] = {1, 2, 3, 6, 7};
    uint64_t seed = 1;
    for (int64_t k = 3; k <= 7; k += 2)
        for (int64_t st = 1; st <= 2; st++)
            for (int pi = 0; pi < N_PADS; pi++)
                for (size_t hi = 0; hi < sizeof heights / sizeof heights[0]; hi++)
                    for (int64_t w = 1; w <= 40; w++, seed += 4) {
                        plane_case pc;
                        if (!make_case(&pc, heights[hi], w, k, k, st, st, 1, 1, pad_sets[pi]))
                            continue;
                        pc.res = w % 3 == 0 ? RES_SEPARATE : RES_NONE;
                        check_plane(isa, &pc, seed);
                    }
}

/* Larger planes, as networks have them: odd and even, several rows of
 * whole vectors and a tail, MobileNet's sizes. */
static void fast_large(void **state)
{
    const onn_isa isa = variant(state);
    static const int64_t sizes[][2] = {{112, 112}, {56, 56}, {57, 61}, {28, 28}, {14, 14},
                                       {7, 7},     {33, 47}, {64, 17}, {1, 100}, {100, 1}};
    uint64_t seed = 100;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int64_t k = 3; k <= 7; k += 2)
            for (int64_t st = 1; st <= 2; st++, seed += 4) {
                const int64_t p = k / 2, pads[4] = {p, p, p, p};
                plane_case pc;
                assert_true(make_case(&pc, sizes[i][0], sizes[i][1], k, k, st, st, 1, 1, pads));
                pc.res = (int)(seed % 3);
                check_plane(isa, &pc, seed);
            }
}

/* ---- the generic path ---------------------------------------------------- */

/* Kernels, strides and dilations the fast path does not take. */
static void generic_shapes(void **state)
{
    const onn_isa isa = variant(state);
    static const int64_t geo[][6] = {
        /* kh, kw, sh, sw, dh, dw */
        {1, 1, 1, 1, 1, 1}, {2, 2, 1, 1, 1, 1}, {3, 5, 1, 1, 1, 1}, {7, 7, 1, 1, 1, 1},
        {4, 1, 2, 1, 1, 1}, {3, 3, 1, 1, 2, 2}, {3, 3, 3, 3, 1, 1}, {3, 3, 1, 2, 1, 1},
        {5, 5, 1, 1, 2, 1}, {1, 3, 1, 1, 1, 1}, {3, 3, 2, 1, 1, 1}, {5, 5, 3, 2, 1, 3},
    };
    static const int64_t heights[] = {1, 4, 9};
    uint64_t seed = 1000;
    for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++)
        for (int pi = 0; pi < N_PADS; pi++)
            for (size_t hi = 0; hi < sizeof heights / sizeof heights[0]; hi++)
                for (int64_t w = 1; w <= 20; w += 3, seed += 4) {
                    plane_case pc;
                    if (!make_case(&pc, heights[hi], w, geo[g][0], geo[g][1], geo[g][2], geo[g][3],
                                   geo[g][4], geo[g][5], pad_sets[pi]))
                        continue;
                    pc.res = (int)(seed % 3);
                    check_plane(isa, &pc, seed);
                }
}

/* ---- the epilogue -------------------------------------------------------- */

/* Every activation, without a residual, with one and with one in y's own
 * memory, on the fast path's shapes and a generic one; x scaled so that
 * the sums cross each activation's bends and reach Sigmoid's saturation. */
static void activations(void **state)
{
    const onn_isa isa = variant(state);
    static const struct {
        onn_act act;
        float alpha, beta;
    } acts[] = {
        {ONN_ACT_NONE, 0, 0},          {ONN_ACT_RELU, 0, 0},
        {ONN_ACT_CLIP, 0.0f, 6.0f},    {ONN_ACT_CLIP, -0.5f, 0.75f},
        {ONN_ACT_LEAKY_RELU, 0.1f, 0}, {ONN_ACT_HARD_SIGMOID, 0.2f, 0.5f},
        {ONN_ACT_HARD_SWISH, 0, 0},    {ONN_ACT_SIGMOID, 0, 0},
        {ONN_ACT_SILU, 0, 0},          {ONN_ACT_TANH, 0, 0},
    };
    static const int64_t geo[][9] = {
        /* h, w, k, s, dilation, pads t l b r */
        {9, 37, 3, 1, 1, 1, 1, 1, 1}, {11, 29, 5, 2, 1, 2, 2, 2, 2}, {2, 3, 3, 2, 1, 1, 1, 1, 1},
        {7, 7, 3, 1, 1, 1, 1, 1, 1},  {6, 19, 2, 1, 1, 0, 1, 1, 0},  {8, 21, 3, 1, 2, 2, 2, 2, 2},
    };
    static const float scales[] = {1.0f, 4.0f, 60.0f};
    uint64_t seed = 5000;
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
        for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++)
            for (int res = RES_NONE; res <= RES_IN_PLACE; res++)
                for (size_t sc = 0; sc < sizeof scales / sizeof scales[0]; sc++, seed += 4) {
                    const int64_t *q = geo[g];
                    plane_case pc;
                    assert_true(
                        make_case(&pc, q[0], q[1], q[2], q[2], q[3], q[3], q[4], q[4], q + 5));
                    pc.act = acts[a].act, pc.alpha = acts[a].alpha, pc.beta = acts[a].beta;
                    pc.res = res, pc.scale = scales[sc];
                    check_plane(isa, &pc, seed);
                }
}

/* ---- planning ------------------------------------------------------------ */

static void plans(void **state)
{
    const onn_isa isa = variant(state);
    onn_dwconv_plan p;
    /* Rows of more than DW_NU_MAX (4) vectors of 16 lanes: the ring path. */
    onn_dwconv_shape s = {.h = 8,
                          .w = 96,
                          .oh = 8,
                          .ow = 96,
                          .kh = 3,
                          .kw = 3,
                          .sh = 1,
                          .sw = 1,
                          .dh = 1,
                          .dw = 1,
                          .pad_top = 1,
                          .pad_left = 1};
    assert_true(onn_dwconv_plan_init(&p, &s, isa));
    assert_true(p.fast);
    assert_int_equal(p.isa, isa);
    assert_true(p.scratch_bytes > 0);
    /* A row of one vector takes the narrow path, which needs no scratch. */
    s.w = s.ow = 8;
    assert_true(onn_dwconv_plan_init(&p, &s, isa));
    assert_true(p.fast);
    if (isa != ONN_ISA_SCALAR) assert_int_equal(p.scratch_bytes, 0);
    /* An empty input plane is all padding; empty outputs and bad strides are refused. */
    s.h = 0;
    assert_true(onn_dwconv_plan_init(&p, &s, isa));
    s.h = 8, s.ow = 0;
    assert_false(onn_dwconv_plan_init(&p, &s, isa));
    s.ow = 8, s.sw = 0;
    assert_false(onn_dwconv_plan_init(&p, &s, isa));
    s.sw = 1, s.pad_left = -1;
    assert_false(onn_dwconv_plan_init(&p, &s, isa));
}

/* A variant the CPU lacks has no plan. */
static void unsupported_variants(void **state)
{
    (void)state;
    const onn_dwconv_shape s = {.h = 8,
                                .w = 8,
                                .oh = 8,
                                .ow = 8,
                                .kh = 3,
                                .kw = 3,
                                .sh = 1,
                                .sw = 1,
                                .dh = 1,
                                .dw = 1,
                                .pad_top = 1,
                                .pad_left = 1};
    for (int i = 0; i < ONN_ISA_COUNT; i++) {
        onn_dwconv_plan p;
        assert_int_equal(onn_dwconv_plan_init(&p, &s, (onn_isa)i), onn_isa_supported((onn_isa)i));
    }
}

/* ---- the channels-last kernel -------------------------------------------- */

/* onn_dwcl_block on 8 channels against the reference per channel: planes
 * from 1 x 1 to 30 x 29, kernels 1x1 to 7x7 and rectangular, strides 1 to
 * 3, dilations, every pad set, each residual mode and activation in turn;
 * a tile of 8 positions then spans rows, and planes end in partial tiles. */
static void channels_last(void **state)
{
    const onn_isa isa = variant(state);
    static const int64_t geo[][6] = {
        /* kh, kw, sh, sw, dh, dw */
        {3, 3, 1, 1, 1, 1}, {5, 5, 1, 1, 1, 1}, {7, 7, 1, 1, 1, 1}, {5, 5, 2, 2, 1, 1},
        {3, 3, 2, 2, 1, 1}, {1, 1, 1, 1, 1, 1}, {3, 5, 1, 2, 2, 1}, {7, 7, 3, 3, 1, 2},
    };
    static const int64_t sizes[][2] = {{1, 1}, {7, 7}, {14, 14}, {5, 13}, {30, 29}, {2, 40}};
    static const onn_act acts[] = {ONN_ACT_NONE, ONN_ACT_RELU, ONN_ACT_HARD_SWISH, ONN_ACT_SILU};
    uint64_t seed = 5000;
    int runs = 0;
    for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
            for (int pi = 0; pi < N_PADS; pi += 2, seed += 8) {
                plane_case pc;
                if (!make_case(&pc, sizes[z][0], sizes[z][1], geo[g][0], geo[g][1], geo[g][2],
                               geo[g][3], geo[g][4], geo[g][5], pad_sets[pi]))
                    continue;
                const onn_dwconv_shape *s = &pc.s;
                onn_dwcl_plan plan;
                const bool ok = onn_dwcl_plan_init(&plan, s, isa);
                assert_int_equal(ok, isa == ONN_ISA_AVX2);
                if (!ok) continue;
                assert_int_equal(plan.scratch_bytes % 64, 0);
                const int64_t nx = s->h * s->w, ny = s->oh * s->ow, taps = s->kh * s->kw;
                const int res = (int)(seed / 8 % 3);
                const onn_act act = acts[seed / 8 % 4];
                float *x = th_randf(seed, 8 * nx), *w = th_randf(seed + 1, 8 * taps);
                float *rs = th_randf(seed + 2, 8 * ny), *bias = th_randf(seed + 3, 11);
                float *y = malloc((size_t)(8 * ny + GUARD) * sizeof *y);
                float *scratch = aligned_alloc(64, plan.scratch_bytes);
                assert_non_null(y);
                assert_non_null(scratch);
                for (int64_t i = 0; i < 8 * ny + GUARD; i++)
                    y[i] = i < 8 * ny && res == RES_IN_PLACE ? rs[i] : CANARY;
                const onn_epilogue ep = {bias, act, 0.1f, 0.0f};
                const float *r = res == RES_SEPARATE ? rs : res == RES_IN_PLACE ? y : NULL;
                /* channels 3..10 of the bias */
                onn_dwcl_block(&plan, x, nx, w, y, r, &ep, 3, scratch);
                double *ref = th_dalloc(ny), *mag = th_dalloc(ny);
                for (int c = 0; c < 8; c++) {
                    ref_plane(s, x + c * nx, w + c * taps, bias[3 + c], res ? rs + c * ny : NULL,
                              &ep, ref, mag);
                    for (int64_t i = 0; i < ny; i++)
                        if (!(fabs(y[c * ny + i] - ref[i]) <= 8e-6 * (1.0 + mag[i])))
                            fail_msg("channels-last %lldx%lld k %lldx%lld s %lldx%lld d "
                                     "%lldx%lld pads %d, res %d, act %d: channel %d y[%lld] = "
                                     "%.9g, want %.9g",
                                     (long long)s->h, (long long)s->w, (long long)s->kh,
                                     (long long)s->kw, (long long)s->sh, (long long)s->sw,
                                     (long long)s->dh, (long long)s->dw, pi, res, act, c,
                                     (long long)i, y[c * ny + i], ref[i]);
                }
                for (int64_t i = 8 * ny; i < 8 * ny + GUARD; i++)
                    assert_true(y[i] == CANARY);
                runs++;
                free(x), free(w), free(rs), free(bias), free(y), free(scratch), free(ref),
                    free(mag);
            }
    assert_true(isa != ONN_ISA_AVX2 || runs > 100);
}

/* ---- the pointwise kernel (conv_pw.c) ---------------------------------------- */

/* onn_pw_range over m output channels (every tail of the 4-channel tiles),
 * k input channels, planes of every tail of the 24-position tiles, whole
 * and as a sub-range (nothing outside it may change), with and without a
 * bias, the residual absent, separate or in y's own memory, and every
 * activation, against a float64 reference. */
static void pointwise(void **state)
{
    const onn_isa isa = variant(state);
    const bool ok = onn_pw_supported(isa);
    assert_int_equal(ok, isa == ONN_ISA_AVX2);
    if (!ok) return;
    static const int64_t ms[] = {1, 2, 3, 4, 5, 8, 11};
    static const int64_t ks[] = {1, 3, 8, 17, 64};
    static const int64_t planes[] = {1, 7, 8, 9, 23, 24, 25, 47, 49, 200};
    uint64_t seed = 9000;
    int runs = 0;
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
        for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++)
            for (size_t pi = 0; pi < sizeof planes / sizeof *planes; pi++, seed += 8) {
                const int64_t m = ms[mi], k = ks[ki], plane = planes[pi];
                const int res = (int)(seed / 8 % 3);
                const onn_act act = (onn_act)(seed / 8 % ONN_ACT_COUNT);
                const bool sub = seed / 8 % 2 == 1 && plane > 2;
                const int64_t p0 = sub ? 1 : 0, p1 = sub ? plane - 1 : plane;
                float *x = th_randf(seed, k * plane), *w = th_randf(seed + 1, m * k);
                float *rs = th_randf(seed + 2, m * plane), *bias = th_randf(seed + 3, m);
                for (int64_t i = 0; i < k * plane; i++)
                    x[i] *= 3.0f; /* past the activations' bends and saturation */
                float *y = malloc((size_t)(m * plane + GUARD) * sizeof *y);
                assert_non_null(y);
                for (int64_t i = 0; i < m * plane + GUARD; i++)
                    y[i] = i < m * plane && res == RES_IN_PLACE ? rs[i] : CANARY;
                const onn_epilogue ep = {seed / 16 % 2 ? bias : NULL, act, -0.5f, 0.75f};
                const onn_pw_args a = {.x = x,
                                       .w = w,
                                       .y = y,
                                       .res = res == RES_SEPARATE   ? rs
                                              : res == RES_IN_PLACE ? y
                                                                    : NULL,
                                       .ep = &ep,
                                       .m = m,
                                       .k = k,
                                       .plane = plane,
                                       .xs = plane};
                onn_pw_range(&a, p0, p1);
                for (int64_t o = 0; o < m; o++)
                    for (int64_t p = 0; p < plane; p++) {
                        const float got = y[o * plane + p];
                        if (p < p0 || p >= p1) {
                            const float was = res == RES_IN_PLACE ? rs[o * plane + p] : CANARY;
                            if (got != was)
                                fail_msg("pointwise m %lld k %lld plane %lld: y[%lld][%lld] "
                                         "outside [%lld, %lld) changed",
                                         (long long)m, (long long)k, (long long)plane, (long long)o,
                                         (long long)p, (long long)p0, (long long)p1);
                            continue;
                        }
                        double v = ep.bias ? ep.bias[o] : 0.0, mag = fabs(v);
                        for (int64_t c = 0; c < k; c++) {
                            v += (double)w[o * k + c] * x[c * plane + p];
                            mag += fabs((double)w[o * k + c] * x[c * plane + p]);
                        }
                        if (res != RES_NONE) v += rs[o * plane + p], mag += fabs(rs[o * plane + p]);
                        const double want = ref_act(act, ep.alpha, ep.beta, v);
                        if (!(fabs(got - want) <= 8e-6 * (1.0 + mag)))
                            fail_msg("pointwise m %lld k %lld plane %lld [%lld, %lld), res %d, "
                                     "act %d: y[%lld][%lld] = %.9g, want %.9g",
                                     (long long)m, (long long)k, (long long)plane, (long long)p0,
                                     (long long)p1, res, act, (long long)o, (long long)p, got,
                                     want);
                    }
                for (int64_t i = m * plane; i < m * plane + GUARD; i++)
                    assert_true(y[i] == CANARY);
                runs++;
                free(x), free(w), free(rs), free(bias), free(y);
            }
    assert_true(runs == 350);
}

/* onn_pw_split_init / onn_pw_task: the tasks cover every (image, output
 * channel, position) exactly once, channel blocks are whole tiles of 4
 * but for the last, and a thread count above 1 gets several tasks per
 * thread where the channels allow it. */
static void pointwise_split(void **state)
{
    (void)state;
    static const int64_t ns[] = {1, 2, 3};
    static const int64_t ms[] = {1, 4, 7, 37, 240, 1000};
    static const int64_t planes[] = {1, 49, 191, 192, 196, 784, 3136};
    for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
        for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
            for (size_t pi = 0; pi < sizeof planes / sizeof *planes; pi++)
                for (int threads = 1; threads <= 4; threads++) {
                    const int64_t n = ns[ni], m = ms[mi], plane = planes[pi];
                    onn_pw_split s;
                    onn_pw_split_init(&s, n, m, plane, threads);
                    unsigned char *seen = calloc((size_t)(n * m * plane), 1);
                    assert_non_null(seen);
                    for (int64_t t = 0; t < s.tasks; t++) {
                        const onn_pw_piece q = onn_pw_task(&s, t);
                        assert_true(q.n >= 0 && q.n < n);
                        assert_true(0 <= q.m0 && q.m0 < q.m1 && q.m1 <= m);
                        assert_true(0 <= q.p0 && q.p0 < q.p1 && q.p1 <= plane);
                        if (q.m1 < m) assert_int_equal((q.m1 - q.m0) % 4, 0);
                        for (int64_t o = q.m0; o < q.m1; o++)
                            for (int64_t p = q.p0; p < q.p1; p++)
                                seen[(q.n * m + o) * plane + p]++;
                    }
                    for (int64_t i = 0; i < n * m * plane; i++)
                        if (seen[i] != 1)
                            fail_msg("pw split n %lld m %lld plane %lld threads %d: element "
                                     "%lld covered %d times",
                                     (long long)n, (long long)m, (long long)plane, threads,
                                     (long long)i, seen[i]);
                    const int64_t most = n * ((m + 3) / 4) * ((plane + 191) / 192);
                    const int64_t want = threads > 1 ? 4 * threads : 1;
                    assert_true(s.tasks >= (most < want ? most : want));
                    free(seen);
                }
}

/* onn_pwrow_run, one output row at a time over every row, against a
 * float64 2-D convolution: 1 to 5 input channels, windows of 1 to 7
 * (also non-square), strides 1 to 3 (stride 2 over rows long enough for
 * the vector gather and its scalar end), dilations 1 and 2, no,
 * symmetric, asymmetric and oversized pads (rows and columns wholly in the
 * padding), planes from 1 x 1 to 30 x 41, 1 to 9 output channels, the
 * residual absent, separate or in place, and every activation. */
static void pointwise_rows(void **state)
{
    const onn_isa isa = variant(state);
    if (!onn_pw_supported(isa)) return;
    static const int64_t geo[][8] = {
        /* c, kh, kw, sh, sw, dh, dw, m */
        {3, 3, 3, 2, 2, 1, 1, 8}, {3, 3, 3, 1, 1, 1, 1, 5}, {1, 7, 7, 2, 2, 1, 1, 9},
        {2, 1, 5, 1, 3, 1, 2, 4}, {5, 3, 1, 3, 1, 2, 1, 3}, {4, 1, 1, 2, 2, 1, 1, 1},
        {3, 5, 5, 2, 1, 2, 2, 6}, {2, 3, 3, 1, 2, 1, 2, 4},
    };
    static const int64_t sizes[][2] = {{1, 1}, {5, 7}, {13, 13}, {30, 41}, {2, 33}, {6, 70}};
    static const int64_t pads[][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 2, 1, 0}, {4, 4, 3, 5}};
    uint64_t seed = 12000;
    int runs = 0;
    for (size_t gi = 0; gi < sizeof geo / sizeof *geo; gi++)
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
            for (size_t pi = 0; pi < sizeof pads / sizeof *pads; pi++, seed += 8) {
                const int64_t *q = geo[gi], h = sizes[si][0], wd = sizes[si][1];
                const int64_t c = q[0], kh = q[1], kw = q[2], sh = q[3], sw = q[4], dh = q[5],
                              dw = q[6], m = q[7];
                const int64_t pt = pads[pi][0], pl = pads[pi][1], pb = pads[pi][2],
                              pr = pads[pi][3];
                const int64_t oh = (h + pt + pb - (kh - 1) * dh - 1) / sh + 1;
                const int64_t ow = (wd + pl + pr - (kw - 1) * dw - 1) / sw + 1;
                if (oh < 1 || ow < 1) continue;
                onn_pwrow_plan plan;
                assert_true(
                    onn_pwrow_plan_init(&plan, c, h, wd, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl));
                assert_int_equal(plan.scratch_bytes % 64, 0);
                const int64_t k = c * kh * kw, ny = oh * ow;
                const int res = (int)(seed / 8 % 3);
                const onn_act act = (onn_act)(seed / 8 % ONN_ACT_COUNT);
                float *x = th_randf(seed, c * h * wd), *w = th_randf(seed + 1, m * k);
                float *rs = th_randf(seed + 2, m * ny), *bias = th_randf(seed + 3, m);
                float *y = malloc((size_t)(m * ny + GUARD) * sizeof *y);
                float *scratch = aligned_alloc(64, plan.scratch_bytes);
                assert_non_null(y);
                assert_non_null(scratch);
                for (int64_t i = 0; i < m * ny + GUARD; i++)
                    y[i] = i < m * ny && res == RES_IN_PLACE ? rs[i] : CANARY;
                const onn_epilogue ep = {bias, act, -0.5f, 0.75f};
                const float *r = res == RES_SEPARATE ? rs : res == RES_IN_PLACE ? y : NULL;
                for (int64_t oy = 0; oy < oh; oy++)
                    onn_pwrow_run(&plan, x, w, y, r, &ep, m, oy, scratch);
                for (int64_t o = 0; o < m; o++)
                    for (int64_t oy = 0; oy < oh; oy++)
                        for (int64_t ox = 0; ox < ow; ox++) {
                            double v = bias[o], mag = fabs(v);
                            for (int64_t ci = 0; ci < c; ci++)
                                for (int64_t ky = 0; ky < kh; ky++)
                                    for (int64_t kx = 0; kx < kw; kx++) {
                                        const int64_t iy = oy * sh - pt + ky * dh,
                                                      ix = ox * sw - pl + kx * dw;
                                        if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                        const double t =
                                            (double)w[(o * c + ci) * kh * kw + ky * kw + kx] *
                                            x[(ci * h + iy) * wd + ix];
                                        v += t, mag += fabs(t);
                                    }
                            const int64_t at = o * ny + oy * ow + ox;
                            if (res != RES_NONE) v += rs[at], mag += fabs(rs[at]);
                            const double want = ref_act(act, ep.alpha, ep.beta, v);
                            if (!(fabs(y[at] - want) <= 8e-6 * (1.0 + mag)))
                                fail_msg("pointwise rows c %lld k %lldx%lld s %lldx%lld d "
                                         "%lldx%lld pads %zu, %lldx%lld, res %d, act %d: "
                                         "y[%lld][%lld][%lld] = %.9g, want %.9g",
                                         (long long)c, (long long)kh, (long long)kw, (long long)sh,
                                         (long long)sw, (long long)dh, (long long)dw, pi,
                                         (long long)h, (long long)wd, res, act, (long long)o,
                                         (long long)oy, (long long)ox, y[at], want);
                        }
                for (int64_t i = m * ny; i < m * ny + GUARD; i++)
                    assert_true(y[i] == CANARY);
                runs++;
                free(x), free(w), free(rs), free(bias), free(y), free(scratch);
            }
    assert_true(runs > 100);
}

/* ---- Conv nodes ---------------------------------------------------------- */

typedef struct node_case {
    int64_t n, c, mult, h, w, k, s;
    int64_t pads[4];
    bool bias;
} node_case;

static void run_node_case(onn_isa isa, const node_case *nc, int threads)
{
    const int64_t m = nc->c * nc->mult;
    plane_case pc;
    assert_true(make_case(&pc, nc->h, nc->w, nc->k, nc->k, nc->s, nc->s, 1, 1, nc->pads));
    const int64_t xd[4] = {nc->n, nc->c, nc->h, nc->w}, wd[4] = {m, 1, nc->k, nc->k};
    const int64_t yd[4] = {nc->n, m, pc.s.oh, pc.s.ow}, bd[1] = {m};
    const int64_t xs = nc->h * nc->w, ys = pc.s.oh * pc.s.ow;
    float *x = th_randf(7, nc->n * nc->c * xs), *w = th_randf(8, m * nc->k * nc->k);
    float *b = th_randf(9, m);
    double *ref = th_dalloc(nc->n * m * ys), *mag = th_dalloc(ys);
    const onn_epilogue none = {NULL, ONN_ACT_NONE, 0, 0};
    for (int64_t n = 0; n < nc->n; n++)
        for (int64_t o = 0; o < m; o++)
            ref_plane(&pc.s, x + (n * nc->c + o / nc->mult) * xs, w + o * nc->k * nc->k,
                      nc->bias ? b[o] : 0.0, NULL, &none, ref + (n * m + o) * ys, mag);

    th_run r;
    const th_tensor in[3] = {th_in("X", ONNORM_FLOAT, 4, xd, x),
                             th_const("W", ONNORM_FLOAT, 4, wd, w),
                             th_const("B", ONNORM_FLOAT, 1, bd, b)};
    tb_node *nd;
    tb_model *mb = th_node_model(&r, 13, "Conv", nc->bias ? 3 : 2, in, ONNORM_FLOAT, &nd);
    tb_attr_int(nd, "group", nc->c);
    tb_attr_ints(nd, "pads", 4,
                 (const int64_t[]){nc->pads[0], nc->pads[1], nc->pads[2], nc->pads[3]});
    tb_attr_ints(nd, "strides", 2, (const int64_t[]){nc->s, nc->s});
    th_ok(&r, th_go(&r, mb, threads), "Conv");
    char label[64];
    snprintf(label, sizeof label, "depthwise Conv (%s, %d threads)", onn_isa_name(isa), threads);
    th_expect_output(&r, label, "Y", ONNORM_FLOAT, 4, yd, ref, 1e-5);
    th_free(&r);
    free(x), free(w), free(b), free(ref), free(mag);
}

static void conv_nodes(void **state)
{
    const onn_isa isa = variant(state);
    setenv("ONNORM_ISA", onn_isa_name(isa), 1);
    assert_int_equal(onn_isa_active(), isa);
    static const node_case cases[] = {
        /* n, c, mult, h, w, k, s, pads, bias */
        {1, 32, 1, 28, 28, 3, 1, {1, 1, 1, 1}, true},  /* MobileNetV2 */
        {2, 16, 1, 15, 14, 3, 2, {1, 1, 1, 1}, true},  /* batch 2, stride 2, odd height */
        {1, 24, 1, 13, 19, 5, 2, {2, 2, 2, 2}, false}, /* EfficientNet's 5x5, no bias */
        {1, 8, 1, 9, 11, 3, 2, {0, 0, 1, 1}, true},    /* TensorFlow's SAME, stride 2 */
        {1, 6, 2, 10, 9, 3, 1, {1, 1, 1, 1}, true},    /* channel multiplier 2 */
        {1, 12, 1, 7, 7, 7, 1, {3, 3, 3, 3}, true},    /* ConvNeXt's 7x7 */
        /* the channels-last kernel: 2 blocks of 8 and 3 planes' tail */
        {2, 19, 1, 29, 30, 5, 1, {2, 2, 2, 2}, true},
        {1, 16, 1, 28, 28, 7, 2, {3, 3, 3, 3}, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int threads = 1; threads <= 2; threads++)
            run_node_case(isa, &cases[i], threads);
    unsetenv("ONNORM_ISA");
}

#define ONE(fn, isa)                                                                               \
    {                                                                                              \
#fn "/" #isa, fn, NULL, NULL, (void *)(intptr_t)ONN_ISA_##isa                              \
    }
#define PER_ISA(fn) ONE(fn, SCALAR), ONE(fn, AVX2), ONE(fn, AVX512)

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_ISA(fast_shapes),
        PER_ISA(fast_large),
        PER_ISA(generic_shapes),
        PER_ISA(activations),
        PER_ISA(plans),
        PER_ISA(conv_nodes),
        PER_ISA(channels_last),
        PER_ISA(pointwise),
        PER_ISA(pointwise_rows),
        cmocka_unit_test(pointwise_split),
        cmocka_unit_test(unsupported_variants),
    };
    for (int i = 0; i < ONN_ISA_COUNT; i++)
        printf("variant %-7s %s\n", onn_isa_name((onn_isa)i),
               onn_isa_supported((onn_isa)i) ? "runs here" : "not supported here: skipped");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
