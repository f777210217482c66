/*
 * The float32 pooling kernels of every instruction-set variant
 * (ops/core/pool_plane.h), planned and called directly, against references
 * written here: MaxPool and AveragePool (count_include_pad both ways) with
 * 2x2 and 3x3 windows at strides 1 and 2, pads 0, 1 and 2 and asymmetric
 * ones, floor and ceil rounding, heights 1 to 8 and rows of 1 to 40 columns
 * (every vector tail of 8 and 16 lanes, rows shorter than a vector),
 * several planes per call, network-sized planes; then GlobalAveragePool's
 * plane means over small and large planes, one to nine at a time.
 *
 * Each output is checked twice: against a float64 reference (the value),
 * and bit for bit against the float32 semantics of pool.c's scalar loops
 * (a max folds the window in row-major order and the first maximum wins,
 * so the sign of a zero maximum is that of the first zero; a sum adds in
 * that order from +0; a NaN in a max window gives NaN). Inputs include
 * ties of +0 and -0, NaN, -inf and +inf. Each call checks that nothing
 * past its last plane is written and that nothing unwritten in the scratch
 * is read (it starts as NaN). A variant this CPU cannot run is skipped
 * with the reason printed.
 *
 * Then MaxPool, AveragePool and GlobalAveragePool nodes through the public
 * API at 1 and 2 threads with the variant pinned (ONNORM_ISA).
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
#include "ops/core/pool_plane.h"
#include "refnorm.h"

/* Floats written past the last output plane that must stay untouched. */
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

/* ---- inputs --------------------------------------------------------------- */

enum data_kind {
    DATA_UNIFORM, /* uniform in [-2, 2) */
    DATA_TIES,    /* -1, -0, +0 and 1 only: zero maxima of both signs */
    DATA_SPECIAL, /* uniform with NaN, -inf and +inf here and there */
    DATA_NEG_INF, /* mostly -inf: windows whose maximum is -inf */
};

static float *make_data(enum data_kind kind, uint64_t seed, int64_t n)
{
    rn_rng r;
    rn_seed(&r, seed);
    float *x = malloc((size_t)(n ? n : 1) * sizeof *x);
    assert_non_null(x);
    static const float ties[4] = {-1.0f, -0.0f, 0.0f, 1.0f};
    for (int64_t i = 0; i < n; i++) {
        const uint64_t u = rn_next(&r);
        float v = (float)rn_uniform(&r, -2.0, 2.0);
        switch (kind) {
        case DATA_TIES: v = ties[u % 4]; break;
        case DATA_SPECIAL:
            v = u % 29 == 0 ? NAN : u % 31 == 0 ? -INFINITY : u % 37 == 0 ? INFINITY : v;
            break;
        case DATA_NEG_INF: v = u % 5 == 0 ? v : -INFINITY; break;
        default: break;
        }
        x[i] = v;
    }
    return x;
}

/* ---- references ----------------------------------------------------------- */

/* Output (oy, ox) of plane x: the float64 value (ref) and pool.c's float32
 * result (bits). */
static void ref_output(const onn_pool2d_shape *s, onn_pool2d_kind kind, bool include_pad,
                       const float *x, int64_t oy, int64_t ox, double *ref, float *bits)
{
    double best = -INFINITY, sum = 0.0;
    float best32 = -INFINITY, sum32 = 0.0f;
    bool nan = false;
    int64_t inside = 0, padded = 0;
    for (int64_t ky = 0; ky < s->kh; ky++)
        for (int64_t kx = 0; kx < s->kw; kx++) {
            const int64_t iy = oy * s->sh - s->pad_top + ky, ix = ox * s->sw - s->pad_left + kx;
            padded += iy >= -s->pad_top && iy < s->h + s->pad_bottom && ix >= -s->pad_left &&
                      ix < s->w + s->pad_right;
            if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
            inside++;
            const float v = x[iy * s->w + ix];
            nan |= isnan(v);
            if (v > best) best = v;
            best32 = v > best32 ? v : best32;
            sum += v;
            sum32 += v;
        }
    if (kind == ONN_POOL2D_MAX) {
        *ref = nan ? NAN : best;
        *bits = nan ? NAN : best32;
        return;
    }
    int64_t count = include_pad ? padded : inside;
    if (count == 0) count = 1; /* a window of padding only averages to 0 */
    *ref = sum / (double)count;
    *bits = (float)((double)sum32 / (double)count);
}

/* Same bits, or both NaN. */
static bool same_float(float got, float want)
{
    if (isnan(want)) return isnan(got);
    return memcmp(&got, &want, sizeof got) == 0;
}

static uint32_t float_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

/* ---- one call ------------------------------------------------------------- */

typedef struct plane_case {
    onn_pool2d_shape s;
    onn_pool2d_kind kind;
    bool include_pad;
    int64_t planes; /* in one call */
    enum data_kind data;
    int64_t nan_at; /* > 0: x[nan_at - 1] of every plane is NaN */
} plane_case;

static const char *shape_str(const plane_case *pc, char *buf, size_t len)
{
    const onn_pool2d_shape *s = &pc->s;
    snprintf(buf, len, "%s%s %lldx%lld k%lld s%lld pads %lld,%lld,%lld,%lld -> %lldx%lld, data %d",
             pc->kind == ONN_POOL2D_MAX ? "max" : "avg",
             pc->kind == ONN_POOL2D_AVG && pc->include_pad ? " (include pad)" : "", (long long)s->h,
             (long long)s->w, (long long)s->kh, (long long)s->sh, (long long)s->pad_top,
             (long long)s->pad_left, (long long)s->pad_bottom, (long long)s->pad_right,
             (long long)s->oh, (long long)s->ow, (int)pc->data);
    return buf;
}

static void check_call(onn_isa isa, const plane_case *pc, uint64_t seed)
{
    const onn_pool2d_shape *s = &pc->s;
    char what[160];
    onn_pool2d_plan plan;
    assert_true(onn_pool2d_fits(s));
    assert_true(onn_pool2d_plan_init(&plan, s, pc->kind, isa));
    assert_int_equal(plan.isa, isa);
    assert_int_equal(plan.scratch_bytes % 64, 0);
    int64_t lh, lw;
    onn_pool2d_div_lens(&plan, &lh, &lw);
    float *div = malloc((size_t)(lh + lw) * sizeof *div);
    assert_non_null(div);
    onn_pool2d_divisors(&plan, pc->include_pad, div, div + lh);
    plan.div_h = div, plan.div_w = div + lh;

    const int64_t nx = s->h * s->w, ny = s->oh * s->ow;
    float *x = make_data(pc->data, seed, pc->planes * nx);
    for (int64_t p = 0; pc->nan_at > 0 && p < pc->planes; p++)
        x[p * nx + pc->nan_at - 1] = NAN;
    float *y = malloc((size_t)(pc->planes * ny + GUARD) * sizeof *y);
    float *scratch = aligned_alloc(64, plan.scratch_bytes);
    assert_non_null(y);
    assert_non_null(scratch);
    for (size_t i = 0; i < plan.scratch_bytes / sizeof(float); i++)
        scratch[i] = NAN; /* a read of scratch the kernel did not write shows */
    for (int64_t i = 0; i < pc->planes * ny + GUARD; i++)
        y[i] = CANARY;
    onn_pool2d_planes(&plan, x, y, pc->planes, scratch);

    for (int64_t p = 0; p < pc->planes; p++)
        for (int64_t oy = 0; oy < s->oh; oy++)
            for (int64_t ox = 0; ox < s->ow; ox++) {
                double ref;
                float bits;
                ref_output(s, pc->kind, pc->include_pad, x + p * nx, oy, ox, &ref, &bits);
                const float got = y[p * ny + oy * s->ow + ox];
                /* a float sum of at most 9 terms of magnitude <= 2 */
                const double tol = pc->kind == ONN_POOL2D_MAX ? 0.0 : 4e-7;
                const bool value_ok = isnan(ref)   ? isnan(got)
                                      : isinf(ref) ? got == ref
                                                   : fabs(got - ref) <= tol;
                if (!value_ok || !same_float(got, bits))
                    fail_msg("%s %s, plane %lld: y[%lld, %lld] = %.9g (0x%08x), want %.9g "
                             "(float32 0x%08x)",
                             onn_isa_name(isa), shape_str(pc, what, sizeof what), (long long)p,
                             (long long)oy, (long long)ox, got, float_bits(got), ref,
                             float_bits(bits));
            }
    for (int64_t i = pc->planes * ny; i < pc->planes * ny + GUARD; i++)
        if (y[i] != CANARY)
            fail_msg("%s %s: y[%lld] past the last plane written", onn_isa_name(isa),
                     shape_str(pc, what, sizeof what), (long long)i);
    free(div), free(x), free(y), free(scratch);
}

/* The output extent of an axis as pool.c's geometry gives it (ceil_mode
 * drops a last window that would start in the end padding), or 0 when the
 * window does not fit. */
static int64_t out_extent(int64_t in, int64_t k, int64_t s, int64_t lo, int64_t hi, bool ceil)
{
    const int64_t span = in + lo + hi - k;
    if (span < 0) return 0;
    int64_t out = (ceil ? (span + s - 1) / s : span / s) + 1;
    if (ceil && (out - 1) * s >= in + lo) out--;
    return out;
}

static bool make_case(plane_case *pc, int64_t h, int64_t w, int64_t k, int64_t st,
                      const int64_t pads[4], bool ceil)
{
    pc->s = (onn_pool2d_shape){.h = h,
                               .w = w,
                               .kh = k,
                               .kw = k,
                               .sh = st,
                               .sw = st,
                               .pad_top = pads[0],
                               .pad_left = pads[1],
                               .pad_bottom = pads[2],
                               .pad_right = pads[3]};
    pc->s.oh = out_extent(h, k, st, pads[0], pads[2], ceil);
    pc->s.ow = out_extent(w, k, st, pads[1], pads[3], ceil);
    return pc->s.oh > 0 && pc->s.ow > 0;
}

static const int64_t pad_sets[][4] = {
    {0, 0, 0, 0}, {1, 1, 1, 1}, {0, 1, 1, 0}, {1, 0, 0, 1}, {2, 2, 2, 2}, {0, 2, 1, 0},
};
#define N_PADS (int)(sizeof pad_sets / sizeof pad_sets[0])

/* The kinds a case runs as: max, avg, avg counting the padding. */
static void set_kind(plane_case *pc, int kind)
{
    pc->kind = kind == 0 ? ONN_POOL2D_MAX : ONN_POOL2D_AVG;
    pc->include_pad = kind == 2;
}

/* ---- the plane kernels ------------------------------------------------------ */

/* 2x2 and 3x3, strides 1 and 2, every pad set, floor and ceil, heights 1
 * to 8 and rows of 1 to 40 columns, two planes per call; data of every
 * kind in turn. */
static void small_shapes(void **state)
{
    const onn_isa isa = variant(state);
    static const int64_t heights[] = {1, 2, 3, 5, 8};
    uint64_t seed = 1;
    for (int64_t k = 2; k <= 3; k++)
        for (int64_t st = 1; st <= 2; st++)
            for (int pi = 0; pi < N_PADS; pi++)
                for (int ceil = 0; ceil < 2; ceil++)
                    for (size_t hi = 0; hi < sizeof heights / sizeof heights[0]; hi++)
                        for (int64_t w = 1; w <= 40; w++)
                            for (int kind = 0; kind < 3; kind++, seed++) {
                                plane_case pc = {.planes = 2, .data = (enum data_kind)(seed % 4)};
                                if (!make_case(&pc, heights[hi], w, k, st, pad_sets[pi], ceil))
                                    continue;
                                set_kind(&pc, kind);
                                check_call(isa, &pc, seed);
                            }
}

/* Planes as networks have them (GoogLeNet's, ResNet's, SqueezeNet's), odd
 * sizes, single rows and columns; three planes per call. */
static void large_shapes(void **state)
{
    const onn_isa isa = variant(state);
    static const int64_t sizes[][2] = {{112, 112}, {56, 56}, {55, 55}, {28, 28}, {14, 14},
                                       {7, 7},     {57, 61}, {33, 47}, {1, 100}, {100, 1}};
    static const int64_t geo[][3] = {
        /* k, s, ceil */
        {3, 2, 1}, {3, 2, 0}, {3, 1, 0}, {2, 2, 1}, {2, 2, 0}, {2, 1, 0},
    };
    uint64_t seed = 100;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++)
            for (int kind = 0; kind < 3; kind++, seed++) {
                const int64_t p = geo[g][0] == 3 && geo[g][1] == 1 ? 1 : (int64_t)(seed % 2);
                const int64_t pads[4] = {p, p, p, p};
                plane_case pc = {.planes = 3, .data = (enum data_kind)(seed % 3)};
                if (!make_case(&pc, sizes[i][0], sizes[i][1], geo[g][0], geo[g][1], pads,
                               geo[g][2] != 0))
                    continue;
                set_kind(&pc, kind);
                check_call(isa, &pc, seed);
            }
}

/* One NaN per plane, at its corners, edges and middle: a max window that
 * holds it is NaN, the others of its output rows (which pool.c's loop
 * recomputes) and of the other rows are exact; an average propagates it.
 * Then NaN here and there on rows of every width. */
static void nan_inputs(void **state)
{
    const onn_isa isa = variant(state);
    uint64_t seed = 500;
    for (int64_t k = 2; k <= 3; k++)
        for (int64_t st = 1; st <= 2; st++)
            for (int64_t w = 5; w <= 37; w += 8)
                for (int at = 0; at < 5; at++)
                    for (int kind = 0; kind < 3; kind++, seed++) {
                        plane_case pc = {.planes = 2, .data = DATA_UNIFORM};
                        assert_true(make_case(&pc, 9, w, k, st, pad_sets[seed % N_PADS], true));
                        const int64_t pos[5] = {0, w - 1, 4 * w + w / 2, 8 * w, 9 * w - 1};
                        pc.nan_at = pos[at] + 1;
                        set_kind(&pc, kind);
                        check_call(isa, &pc, seed);
                    }
    /* the data kind that sprinkles NaN, on rows of every width */
    for (int64_t w = 1; w <= 40; w++, seed++) {
        plane_case pc = {.planes = 3, .data = DATA_SPECIAL};
        assert_true(make_case(&pc, 12, w, 3, 1 + w % 2, pad_sets[w % N_PADS], w % 3 == 0));
        set_kind(&pc, (int)(w % 3));
        check_call(isa, &pc, seed);
    }
}

/* What fits the fast path, and plans for it. */
static void plans(void **state)
{
    const onn_isa isa = variant(state);
    onn_pool2d_shape s = {.h = 8, .w = 8, .oh = 4, .ow = 4, .kh = 3, .kw = 3, .sh = 2, .sw = 2};
    onn_pool2d_plan p;
    assert_true(onn_pool2d_fits(&s));
    assert_true(onn_pool2d_plan_init(&p, &s, ONN_POOL2D_MAX, isa));
    assert_true(p.scratch_bytes > 0);
    assert_int_equal(p.kind, ONN_POOL2D_MAX);
    s.kw = 2; /* not square */
    assert_false(onn_pool2d_fits(&s));
    assert_false(onn_pool2d_plan_init(&p, &s, ONN_POOL2D_MAX, isa));
    s.kw = 3, s.sw = 1; /* strides differ */
    assert_false(onn_pool2d_fits(&s));
    s.sh = s.sw = 3;
    assert_false(onn_pool2d_fits(&s));
    s.sh = s.sw = 1, s.kh = s.kw = 5;
    assert_false(onn_pool2d_fits(&s));
    s.kh = s.kw = 2, s.pad_left = -1;
    assert_false(onn_pool2d_fits(&s));
    s.pad_left = 0, s.ow = 0;
    assert_false(onn_pool2d_fits(&s));
    /* an empty input plane is all padding */
    s.ow = 4, s.h = 0, s.w = 0;
    assert_true(onn_pool2d_plan_init(&p, &s, ONN_POOL2D_AVG, isa));
}

/* A variant the CPU lacks has no plan and no plane means. */
static void unsupported_variants(void **state)
{
    (void)state;
    const onn_pool2d_shape s = {.h = 8,
                                .w = 8,
                                .oh = 8,
                                .ow = 8,
                                .kh = 3,
                                .kw = 3,
                                .sh = 1,
                                .sw = 1,
                                .pad_top = 1,
                                .pad_left = 1,
                                .pad_bottom = 1,
                                .pad_right = 1};
    for (int i = 0; i < ONN_ISA_COUNT; i++) {
        onn_pool2d_plan p;
        const bool ok = onn_isa_supported((onn_isa)i);
        assert_int_equal(onn_pool2d_plan_init(&p, &s, ONN_POOL2D_MAX, (onn_isa)i), ok);
        assert_int_equal(onn_gap_get((onn_isa)i) != NULL, ok);
    }
}

/* ---- GlobalAveragePool's plane means ----------------------------------------- */

static void check_gap(onn_isa isa, int64_t planes, int64_t size, enum data_kind data, uint64_t seed)
{
    const onn_gap_fn gap = onn_gap_get(isa);
    assert_non_null(gap);
    float *x = make_data(data, seed, planes * size);
    float *y = malloc((size_t)(planes + GUARD) * sizeof *y);
    assert_non_null(y);
    for (int64_t i = 0; i < planes + GUARD; i++)
        y[i] = CANARY;
    gap(x, planes, size, y);
    for (int64_t p = 0; p < planes; p++) {
        double sum = 0.0;
        for (int64_t i = 0; i < size; i++)
            sum += x[p * size + i];
        const double ref = sum / (double)size;
        /* the float result of a double mean: within half an ulp and a bit */
        const bool ok = isnan(ref)   ? isnan(y[p])
                        : isinf(ref) ? y[p] == ref
                                     : fabs(y[p] - ref) <= 1e-7 * (1.0 + fabs(ref));
        if (!ok)
            fail_msg("%s: %lld planes of %lld, data %d: y[%lld] = %.9g, want %.9g",
                     onn_isa_name(isa), (long long)planes, (long long)size, (int)data, (long long)p,
                     y[p], ref);
    }
    for (int64_t i = planes; i < planes + GUARD; i++)
        if (y[i] != CANARY)
            fail_msg("%s: GlobalAveragePool wrote y[%lld] past %lld planes", onn_isa_name(isa),
                     (long long)i, (long long)planes);
    free(x), free(y);
}

/* Every plane size up to 40 (the double vectors' tails), squeeze-and-
 * excitation's 7x7, 14x14 and 56x56, one to nine planes (groups of four
 * and what is left); NaN and infinities propagate; an empty plane's mean
 * is NaN. */
static void gap_planes(void **state)
{
    const onn_isa isa = variant(state);
    static const int64_t sizes[] = {49, 196, 784, 3136, 12544};
    uint64_t seed = 700;
    for (int64_t planes = 1; planes <= 9; planes++) {
        for (int64_t size = 0; size <= 40; size++, seed++)
            check_gap(isa, planes, size, DATA_UNIFORM, seed);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++, seed++)
            check_gap(isa, planes, sizes[i], (enum data_kind)(seed % 4 == 1 ? 0 : seed % 4), seed);
    }
}

/* ---- nodes ----------------------------------------------------------------- */

typedef struct node_case {
    const char *op;
    int64_t n, c, h, w, k, s;
    int64_t pads[4]; /* top, left, bottom, right */
    int ceil_mode, count_include_pad;
    enum data_kind data;
} node_case;

/* A pool node over X [n, c, h, w] of the case's data, against the float64
 * reference (NaN in a max window gives NaN). */
static void run_node(onn_isa isa, const node_case *nc, int threads)
{
    plane_case pc;
    assert_true(make_case(&pc, nc->h, nc->w, nc->k, nc->s, nc->pads, nc->ceil_mode));
    set_kind(&pc, strcmp(nc->op, "MaxPool") ? 1 + nc->count_include_pad : 0);
    const int64_t planes = nc->n * nc->c, xs = nc->h * nc->w, ys = pc.s.oh * pc.s.ow;
    const int64_t xd[4] = {nc->n, nc->c, nc->h, nc->w}, yd[4] = {nc->n, nc->c, pc.s.oh, pc.s.ow};
    float *x = make_data(nc->data, 11, planes * xs);
    double *ref = th_dalloc(planes * ys);
    for (int64_t p = 0; p < planes; p++)
        for (int64_t oy = 0; oy < pc.s.oh; oy++)
            for (int64_t ox = 0; ox < pc.s.ow; ox++) {
                float bits;
                ref_output(&pc.s, pc.kind, pc.include_pad, x + p * xs, oy, ox,
                           &ref[p * ys + oy * pc.s.ow + ox], &bits);
            }
    th_run r;
    tb_model *b = th_new(&r, 13);
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 4, xd, x));
    tb_output(b, "Y", ONNORM_FLOAT);
    tb_node *nd =
        tb_node_add(b, nc->op, "pool", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_attr_ints(nd, "kernel_shape", 2, (const int64_t[]){nc->k, nc->k});
    tb_attr_ints(nd, "strides", 2, (const int64_t[]){nc->s, nc->s});
    tb_attr_ints(nd, "pads", 4,
                 (const int64_t[]){nc->pads[0], nc->pads[1], nc->pads[2], nc->pads[3]});
    if (nc->ceil_mode) tb_attr_int(nd, "ceil_mode", 1);
    if (nc->count_include_pad) tb_attr_int(nd, "count_include_pad", 1);
    th_ok(&r, th_go(&r, b, threads), nc->op);
    char label[96];
    snprintf(label, sizeof label, "%s %lldx%lld k%lld s%lld (%s, %d threads)", nc->op,
             (long long)nc->h, (long long)nc->w, (long long)nc->k, (long long)nc->s,
             onn_isa_name(isa), threads);
    th_expect_output(&r, label, "Y", ONNORM_FLOAT, 4, yd, ref, 1e-6);
    th_free(&r);
    free(x), free(ref);
}

static void run_gap_node(onn_isa isa, int64_t n, int64_t c, int64_t h, int64_t w,
                         enum data_kind data, int threads)
{
    const int64_t planes = n * c, size = h * w;
    const int64_t xd[4] = {n, c, h, w}, yd[4] = {n, c, 1, 1};
    float *x = make_data(data, 13, planes * size);
    double *ref = th_dalloc(planes);
    for (int64_t p = 0; p < planes; p++) {
        for (int64_t i = 0; i < size; i++)
            ref[p] += x[p * size + i];
        ref[p] /= (double)size;
    }
    th_run r;
    const th_tensor in[1] = {th_in("X", ONNORM_FLOAT, 4, xd, x)};
    th_ok(&r,
          th_go(&r, th_node_model(&r, 13, "GlobalAveragePool", 1, in, ONNORM_FLOAT, NULL), threads),
          "GlobalAveragePool");
    char label[96];
    snprintf(label, sizeof label, "GlobalAveragePool %lldx%lldx%lld (%s, %d threads)", (long long)c,
             (long long)h, (long long)w, onn_isa_name(isa), threads);
    th_expect_output(&r, label, "Y", ONNORM_FLOAT, 4, yd, ref, 1e-6);
    th_free(&r);
    free(x), free(ref);
}

static void nodes(void **state)
{
    const onn_isa isa = variant(state);
    setenv("ONNORM_ISA", onn_isa_name(isa), 1);
    assert_int_equal(onn_isa_active(), isa);
    static const node_case cases[] = {
        /* op, n, c, h, w, k, s, pads, ceil, include pad, data */
        {"MaxPool", 1, 8, 56, 56, 3, 2, {0, 0, 0, 0}, 1, 0, DATA_UNIFORM}, /* GoogLeNet */
        {"MaxPool", 1, 6, 28, 28, 3, 1, {1, 1, 1, 1}, 0, 0, DATA_SPECIAL}, /* inception branch */
        {"MaxPool", 1, 9, 44, 44, 3, 2, {1, 1, 1, 1}, 0, 0, DATA_TIES},    /* ResNet */
        {"MaxPool", 2, 5, 30, 30, 3, 2, {1, 1, 1, 1}, 0, 0, DATA_UNIFORM}, /* batch 2 */
        {"MaxPool", 1, 7, 14, 14, 2, 2, {0, 0, 0, 0}, 1, 0, DATA_NEG_INF}, /* GoogLeNet's 2x2 */
        {"MaxPool", 1, 5, 13, 17, 3, 2, {0, 1, 1, 0}, 1, 0, DATA_SPECIAL}, /* asymmetric */
        {"MaxPool", 1, 3, 9, 11, 2, 1, {1, 0, 0, 1}, 0, 0, DATA_UNIFORM},  /* 2x2 stride 1 */
        {"AveragePool", 1, 6, 28, 28, 3, 1, {1, 1, 1, 1}, 0, 1, DATA_UNIFORM}, /* Inception v3 */
        {"AveragePool", 1, 6, 28, 28, 3, 1, {1, 1, 1, 1}, 0, 0, DATA_SPECIAL},
        {"AveragePool", 2, 3, 15, 15, 3, 2, {1, 1, 1, 1}, 1, 1, DATA_UNIFORM}, /* ceil + pads */
        {"AveragePool", 1, 5, 16, 16, 2, 2, {0, 0, 0, 0}, 0, 0, DATA_TIES},    /* DenseNet */
        {"AveragePool", 1, 4, 9, 12, 2, 2, {0, 1, 1, 0}, 1, 0, DATA_UNIFORM},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int threads = 1; threads <= 2; threads++)
            run_node(isa, &cases[i], threads);
    for (int threads = 1; threads <= 2; threads++) {
        run_gap_node(isa, 1, 96, 56, 56, DATA_UNIFORM, threads);
        run_gap_node(isa, 2, 37, 7, 7, DATA_UNIFORM, threads);
        run_gap_node(isa, 1, 75, 28, 28, DATA_TIES, threads);
        run_gap_node(isa, 1, 10, 3, 5, DATA_SPECIAL, threads);
    }
    unsetenv("ONNORM_ISA");
}

/* ---- NaN on the other paths ------------------------------------------------- */

/* Float32 2-D MaxPools the fast path does not take keep their semantics: a
 * 5x5 window (pool.c's direct loop) gives NaN for a window with NaN; with
 * the Indices output (the line walk) NaN samples are skipped. */
static void nan_other_paths(void **state)
{
    (void)state;
    const int64_t xd[4] = {1, 1, 4, 4}, yd[4] = {1, 1, 1, 1};
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    x[5] = NAN;
    th_run r;
    tb_model *b = th_new(&r, 12);
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 4, xd, x));
    tb_output(b, "Y", ONNORM_FLOAT);
    tb_node *nd =
        tb_node_add(b, "MaxPool", "pool", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_attr_ints(nd, "kernel_shape", 2, (const int64_t[]){4, 4});
    th_ok(&r, th_go(&r, b, 1), "MaxPool 4x4");
    th_expect_output(&r, "MaxPool 4x4", "Y", ONNORM_FLOAT, 4, yd, (const double[]){NAN}, 0);
    th_free(&r);

    b = th_new(&r, 12);
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 4, xd, x));
    tb_output(b, "Y", ONNORM_FLOAT);
    tb_output(b, "I", ONNORM_INT64);
    nd = tb_node_add(b, "MaxPool", "pool", 1, (const char *[]){"X"}, 2, (const char *[]){"Y", "I"});
    tb_attr_ints(nd, "kernel_shape", 2, (const int64_t[]){4, 4});
    th_ok(&r, th_go(&r, b, 1), "MaxPool 4x4 with Indices");
    th_expect_output(&r, "MaxPool 4x4 with Indices", "Y", ONNORM_FLOAT, 4, yd,
                     (const double[]){15.0}, 0);
    th_expect_output(&r, "MaxPool 4x4 with Indices", "I", ONNORM_INT64, 4, yd,
                     (const double[]){15.0}, 0);
    th_free(&r);
}

#define ONE(fn, isa)                                                                               \
    {                                                                                              \
#fn "/" #isa, fn, NULL, NULL, (void *)(intptr_t)ONN_ISA_##isa                              \
    }
#define PER_ISA(fn) ONE(fn, SCALAR), ONE(fn, AVX2), ONE(fn, AVX512)

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_ISA(small_shapes),
        PER_ISA(large_shapes),
        PER_ISA(nan_inputs),
        PER_ISA(plans),
        PER_ISA(gap_planes),
        PER_ISA(nodes),
        cmocka_unit_test(unsupported_variants),
        cmocka_unit_test(nan_other_paths),
    };
    for (int i = 0; i < ONN_ISA_COUNT; i++)
        printf("variant %-7s %s\n", onn_isa_name((onn_isa)i),
               onn_isa_supported((onn_isa)i) ? "runs here" : "not supported here: skipped");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
