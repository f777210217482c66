/*
 * The packed matrix product (ops/core/sgemm.h) of every instruction-set
 * variant, called directly, against a float64 reference written here:
 *   - sizes from 1 to 70 in every dimension (around and between the
 *     microtiles of every variant), k = 0, leading dimensions wider than
 *     the matrices, C's columns past n left untouched;
 *   - sizes past the cache blocks (k over KC, n over NC, m over MC);
 *   - every epilogue: each activation, bias, a residual of its own leading
 *     dimension and one that is C itself, over one k block and several;
 *   - the im2col source against an explicit im2col matrix, over 1-D, 2-D
 *     and 3-D convolutions with strides, dilations, asymmetric padding and
 *     windows wider than the input, and pieces that start mid-line;
 *   - pieces (onn_sgemm_tiles) and the threaded product (onn_sgemm_parallel);
 *   - B packed once (onn_sgemm_pack_b), as stored and transposed.
 * A variant this CPU cannot run is skipped with the reason printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/core/sgemm.h"

/* ---- helpers ------------------------------------------------------------------------- */

static const onn_sgemm_engine *variant(void **state)
{
    const onn_isa isa = (onn_isa)(intptr_t)*state;
    const onn_sgemm_engine *e = onn_sgemm_engine_get(isa);
    if (!e) {
        printf("[ SKIPPED  ] %s: this CPU (or build) has no %s\n", onn_isa_name(isa),
               onn_isa_name(isa));
        skip();
    }
    assert_int_equal(e->isa, isa);
    return e;
}

static uint64_t rng_state = 88172645463325252ull;

static float frand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) * 0x1p-52 - 1.0);
}

static float *randf(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

static void *alloc64(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    assert_non_null(p);
    return p;
}

/* min(max(v, 0), 1), NaN kept. */
static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* The activation in double (epilogue.h's definitions; NaN in, NaN out). */
static double act_ref(onn_act act, double a, double b, double x)
{
    switch (act) {
    case ONN_ACT_RELU: return x < 0 ? 0 : x;
    case ONN_ACT_CLIP: return x < a ? a : x > b ? b : x;
    case ONN_ACT_LEAKY_RELU: return x >= 0 ? x : a * x;
    case ONN_ACT_HARD_SIGMOID: return clamp01(a * x + b);
    case ONN_ACT_HARD_SWISH: return x * clamp01(x / 6 + 0.5);
    case ONN_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case ONN_ACT_SILU: return x / (1 + exp(-x));
    case ONN_ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* The epilogue parameters each activation is tested with. */
static onn_epilogue epilogue_for(onn_act act, const float *bias)
{
    onn_epilogue ep = {bias, act, 0.0f, 0.0f};
    if (act == ONN_ACT_CLIP) ep.alpha = -0.5f, ep.beta = 0.75f;
    if (act == ONN_ACT_LEAKY_RELU) ep.alpha = 0.1f;
    if (act == ONN_ACT_HARD_SIGMOID) ep.alpha = 0.2f, ep.beta = 0.5f;
    return ep;
}

/* A product and its reference. b is the explicit B [k, n] (row stride ldb)
 * the result is checked against, whatever source p->b names. */
typedef struct prod {
    int64_t m, n, k, lda, ldb, ldc, ldr;
    float *a, *b, *c, *res, *bias, *ap;
    double *ref, *mag; /* expected values and the magnitude of their terms */
} prod;

/* A, B, bias, residual and C (filled with a sentinel) of the given sizes;
 * pads = extra leading-dimension columns. */
static void prod_new(prod *t, const onn_sgemm_engine *e, int64_t m, int64_t n, int64_t k,
                     int64_t pad)
{
    memset(t, 0, sizeof *t);
    t->m = m, t->n = n, t->k = k;
    t->lda = k + pad, t->ldb = n + 2 * pad, t->ldc = n + 3 * pad, t->ldr = n + pad;
    t->a = randf(m * t->lda), t->b = randf(k * t->ldb), t->bias = randf(m);
    t->res = randf(m * t->ldr);
    t->c = malloc((size_t)(m * t->ldc > 0 ? m * t->ldc : 1) * sizeof *t->c);
    assert_non_null(t->c);
    for (int64_t i = 0; i < m * t->ldc; i++)
        t->c[i] = 1234.5f;
    size_t bytes;
    assert_true(onn_sgemm_pack_a_size(e, m, k, &bytes));
    assert_true(bytes >= (size_t)((m + e->mr - 1) / e->mr * e->mr * k) * sizeof(float));
    t->ap = alloc64(bytes);
    onn_sgemm_pack_a(e, m, k, t->a, t->lda, t->ap);
    t->ref = malloc((size_t)(m * n > 0 ? m * n : 1) * sizeof *t->ref);
    t->mag = malloc((size_t)(m * n > 0 ? m * n : 1) * sizeof *t->mag);
    assert_true(t->ref && t->mag);
}

static void prod_free(prod *t)
{
    free(t->a), free(t->b), free(t->c), free(t->res), free(t->bias), free(t->ap);
    free(t->ref), free(t->mag);
}

/* ref = act(A B + bias + res) in double, res given as `res` (row stride
 * ldr) or NULL, bias as `bias` or NULL. */
static void prod_reference(prod *t, const onn_epilogue *ep, const float *res, int64_t ldr)
{
    for (int64_t i = 0; i < t->m; i++)
        for (int64_t j = 0; j < t->n; j++) {
            double s = 0, mag = 0;
            for (int64_t p = 0; p < t->k; p++) {
                const double v = (double)t->a[i * t->lda + p] * t->b[p * t->ldb + j];
                s += v, mag += fabs(v);
            }
            if (ep->bias) s += ep->bias[i], mag += fabs(ep->bias[i]);
            if (res) s += res[i * ldr + j], mag += fabs(res[i * ldr + j]);
            t->ref[i * t->n + j] = act_ref(ep->act, ep->alpha, ep->beta, s);
            t->mag[i * t->n + j] = mag;
        }
}

/* C against the reference: float rounding of k + 2 terms (gamma bound)
 * plus the vector exp's few ulps; C's columns past n keep the sentinel. */
static void prod_check(const prod *t, const char *what)
{
    const double eps = 0x1p-24;
    for (int64_t i = 0; i < t->m; i++) {
        for (int64_t j = 0; j < t->n; j++) {
            const double got = t->c[i * t->ldc + j], want = t->ref[i * t->n + j];
            if (isnan(want)) {
                if (!isnan(got))
                    fail_msg("%s: m %lld n %lld k %lld: C[%lld, %lld] = %.9g, reference NaN", what,
                             (long long)t->m, (long long)t->n, (long long)t->k, (long long)i,
                             (long long)j, got);
                continue;
            }
            const double tol =
                (double)(t->k + 4) * eps * t->mag[i * t->n + j] + 8 * eps * fabs(want) + 1e-6;
            if (!(fabs(got - want) <= tol))
                fail_msg("%s: m %lld n %lld k %lld: C[%lld, %lld] = %.9g, reference %.9g (error "
                         "%.3g > %.3g)",
                         what, (long long)t->m, (long long)t->n, (long long)t->k, (long long)i,
                         (long long)j, got, want, fabs(got - want), tol);
        }
        for (int64_t j = t->n; j < t->ldc; j++)
            if (t->c[i * t->ldc + j] != 1234.5f)
                fail_msg("%s: m %lld n %lld k %lld: C[%lld, %lld] past n was written", what,
                         (long long)t->m, (long long)t->n, (long long)t->k, (long long)i,
                         (long long)j);
    }
}

static onn_sgemm_args prod_args(const prod *t, onn_sgemm_src b, const onn_epilogue *ep,
                                const float *res, int64_t ldr)
{
    return (onn_sgemm_args){t->m, t->n, t->k, t->ap, b, t->c, t->ldc, res, ldr, *ep, NULL, NULL, 0};
}

/* The whole product through onn_sgemm_parallel on `threads`. */
static void run_parallel(const onn_sgemm_engine *e, const onn_sgemm_args *p, int threads)
{
    size_t bytes;
    assert_true(onn_sgemm_scratch_size(e, p->m, p->n, p->k, threads, &bytes));
    float *scratch = alloc64(bytes);
    onn_sgemm_parallel(e, p, threads, scratch);
    free(scratch);
}

/* ---- plain matrices ---------------------------------------------------------------------- */

/* Every combination of sizes around the tiles (4 x 8, 6 x 16, 8 x 32). */
static void sizes(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    static const int64_t ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 17, 24, 31, 48, 70};
    static const int64_t ns[] = {1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 49, 64, 70};
    static const int64_t ks[] = {0, 1, 3, 8, 17, 64, 70};
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
            for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
                prod t;
                const int64_t pad = (int64_t)((mi + ni + ki) % 3) * 5;
                prod_new(&t, e, ms[mi], ns[ni], ks[ki], pad);
                const onn_epilogue ep = {NULL, ONN_ACT_NONE, 0, 0};
                prod_reference(&t, &ep, NULL, 0);
                const onn_sgemm_args p =
                    prod_args(&t, (onn_sgemm_src){.data = t.b, .ld = t.ldb}, &ep, NULL, 0);
                run_parallel(e, &p, 1);
                prod_check(&t, "sizes");
                prod_free(&t);
            }
}

/* Past the cache blocks: several k blocks (KC = 256), column blocks
 * (NC = 1024) and row blocks (MC <= 144), with a bias. */
static void blocks(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    static const int64_t cases[][3] = {{20, 40, 257}, {13, 37, 600},  {150, 35, 300},
                                       {7, 1100, 40}, {300, 70, 513}, {50, 2100, 260}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        prod t;
        prod_new(&t, e, cases[i][0], cases[i][1], cases[i][2], 3);
        const onn_epilogue ep = {t.bias, ONN_ACT_NONE, 0, 0};
        prod_reference(&t, &ep, NULL, 0);
        const onn_sgemm_args p =
            prod_args(&t, (onn_sgemm_src){.data = t.b, .ld = t.ldb}, &ep, NULL, 0);
        run_parallel(e, &p, 1);
        prod_check(&t, "blocks");
        prod_free(&t);
    }
}

/* Every activation, with and without bias, with no residual, a residual of
 * its own leading dimension, or C itself as the residual (accumulation);
 * over one k block and three, and with edge tiles. */
static void epilogues(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    static const int64_t cases[][3] = {{13, 37, 20}, {17, 50, 700}};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++)
        for (int act = 0; act < ONN_ACT_COUNT; act++)
            for (int with_bias = 0; with_bias < 2; with_bias++)
                for (int res_kind = 0; res_kind < 3; res_kind++) {
                    prod t;
                    prod_new(&t, e, cases[ci][0], cases[ci][1], cases[ci][2], 2);
                    /* A NaN in A's row 1 makes row 1 of the product NaN: every
                     * activation must keep it. */
                    t.a[t.lda + 3] = NAN;
                    onn_sgemm_pack_a(e, t.m, t.k, t.a, t.lda, t.ap);
                    const onn_epilogue ep = epilogue_for((onn_act)act, with_bias ? t.bias : NULL);
                    const float *res = NULL;
                    int64_t ldr = 0;
                    if (res_kind == 1) res = t.res, ldr = t.ldr;
                    if (res_kind == 2) { /* C holds the residual: the product adds onto it */
                        for (int64_t i = 0; i < t.m; i++)
                            for (int64_t j = 0; j < t.n; j++)
                                t.c[i * t.ldc + j] = t.res[i * t.ldr + j];
                        res = t.c, ldr = t.ldc;
                    }
                    prod_reference(&t, &ep, res_kind ? t.res : NULL, t.ldr);
                    const onn_sgemm_args p =
                        prod_args(&t, (onn_sgemm_src){.data = t.b, .ld = t.ldb}, &ep, res, ldr);
                    run_parallel(e, &p, 1);
                    char what[96];
                    snprintf(what, sizeof what, "epilogue act %d bias %d residual %d", act,
                             with_bias, res_kind);
                    prod_check(&t, what);
                    prod_free(&t);
                }
}

/* Large arguments of the sigmoids and exp's clamping. */
static void activation_range(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    static const float xs[] = {-200,  -100, -88, -87, -60, -20, -5, -1,  -1e-3f, 0,
                               1e-3f, 1,    5,   20,  60,  87,  88, 100, 200,    0.5f};
    const int64_t n = sizeof xs / sizeof *xs;
    for (int act = ONN_ACT_SIGMOID; act <= ONN_ACT_SILU; act++) {
        prod t;
        prod_new(&t, e, 1, n, 1, 0);
        t.a[0] = 1.0f;
        onn_sgemm_pack_a(e, 1, 1, t.a, 1, t.ap);
        memcpy(t.b, xs, sizeof xs);
        const onn_epilogue ep = epilogue_for((onn_act)act, NULL);
        prod_reference(&t, &ep, NULL, 0);
        const onn_sgemm_args p =
            prod_args(&t, (onn_sgemm_src){.data = t.b, .ld = t.ldb}, &ep, NULL, 0);
        run_parallel(e, &p, 1);
        for (int64_t j = 0; j < n; j++) {
            const double got = t.c[j], want = t.ref[j];
            if (!(fabs(got - want) <= 4e-7 * fabs(want) + 1e-30))
                fail_msg("act %d at %g: %.9g, reference %.9g", act, (double)xs[j], got, want);
        }
        prod_free(&t);
    }
}

/* ---- B packed once --------------------------------------------------------------------- */

/* onn_sgemm_pack_b (B as stored and transposed) against the explicit B:
 * one k block and several (KC = 192 or 256), widths that end in a full
 * panel, a half one and a wider rest, over every piece of a 1- to 3-thread
 * split, with a bias and a residual row repeated by a row step of 0 (how
 * Gemm feeds a per-column bias); A packed, or read in place with a row
 * step longer than k. */
static void packed_b(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    static const int64_t cases[][3] = {{1, 16, 5},    {7, 33, 40},    {13, 37, 300},
                                       {50, 40, 600}, {128, 70, 520}, {20, 1100, 30}};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++)
        for (int trans = 0; trans < 2; trans++)
            for (int threads = 1; threads <= 3; threads++)
                for (int a_rows = 0; a_rows < 2; a_rows++) {
                    prod t;
                    prod_new(&t, e, cases[ci][0], cases[ci][1], cases[ci][2], 1);
                    /* The stored form: B itself (rows ldb apart) or B^T [n, k]. */
                    const int64_t ldt = t.k + 3;
                    float *bt = randf(t.n * ldt);
                    if (trans)
                        for (int64_t r = 0; r < t.k; r++)
                            for (int64_t j = 0; j < t.n; j++)
                                bt[j * ldt + r] = t.b[r * t.ldb + j];
                    size_t bytes;
                    assert_true(onn_sgemm_pack_b_size(e, t.k, t.n, &bytes));
                    float *bp = alloc64(bytes);
                    onn_sgemm_pack_b(e, t.k, t.n, trans ? bt : t.b, trans ? ldt : t.ldb, trans != 0,
                                     bp);
                    const onn_epilogue ep = {t.bias, ONN_ACT_RELU, 0, 0};
                    prod_reference(&t, &ep, t.res, 0);
                    onn_sgemm_args p = prod_args(&t, (onn_sgemm_src){.packed = bp}, &ep, t.res, 0);
                    if (a_rows) p.a = NULL, p.a_rows = t.a, p.lda = t.lda; /* A read in place */
                    run_parallel(e, &p, threads);
                    char what[64];
                    snprintf(what, sizeof what, "packed B trans %d threads %d A %s", trans, threads,
                             a_rows ? "in place" : "packed");
                    prod_check(&t, what);
                    free(bp), free(bt);
                    prod_free(&t);
                }
}

/* ---- im2col ----------------------------------------------------------------------------- */

typedef struct conv_case {
    int nsp;
    int64_t channels, in[3], kernel[3], stride[3], dilation[3], pad_lo[3], pad_hi[3];
} conv_case;

static onn_geom geom_of(const conv_case *cc)
{
    onn_geom g;
    memset(&g, 0, sizeof g);
    g.nsp = cc->nsp;
    for (int i = 0; i < cc->nsp; i++) {
        g.sampled[i] = cc->in[i], g.kernel[i] = cc->kernel[i], g.stride[i] = cc->stride[i];
        g.dilation[i] = cc->dilation[i], g.pad_lo[i] = cc->pad_lo[i], g.pad_hi[i] = cc->pad_hi[i];
        const int64_t span = cc->dilation[i] * (cc->kernel[i] - 1) + 1;
        g.grid[i] = (cc->in[i] + cc->pad_lo[i] + cc->pad_hi[i] - span) / cc->stride[i] + 1;
        assert_true(g.grid[i] >= 1);
    }
    assert_true(onn_geom_finish(&g));
    return g;
}

/* The explicit im2col matrix [channels * kernel_size, grid_size] of image
 * x (channel planes ld apart), element by element from the definition. */
static float *im2col_ref(const onn_geom *g, const float *x, int64_t channels, int64_t ld)
{
    const int64_t rows = channels * g->kernel_size, cols = g->grid_size;
    float *col = malloc((size_t)(rows * cols) * sizeof *col);
    assert_non_null(col);
    for (int64_t r = 0; r < rows; r++) {
        int64_t kpos[ONN_MAX_SPATIAL];
        onn_geom_kpos(g, r % g->kernel_size, kpos);
        for (int64_t j = 0; j < cols; j++) {
            int64_t rest = j, idx = 0, o[ONN_MAX_SPATIAL];
            bool inside = true;
            for (int i = g->nsp - 1; i >= 0; i--)
                o[i] = rest % g->grid[i], rest /= g->grid[i];
            for (int i = 0; i < g->nsp; i++) {
                const int64_t p = o[i] * g->stride[i] - g->pad_lo[i] + kpos[i] * g->dilation[i];
                inside = inside && p >= 0 && p < g->sampled[i];
                idx = idx * g->sampled[i] + p;
            }
            col[r * cols + j] = inside ? x[(r / g->kernel_size) * ld + idx] : 0.0f;
        }
    }
    return col;
}

static const conv_case conv_cases[] = {
    /* 2-D 3x3, pad 1, stride 1 (ResNet's), on odd and small planes */
    {2, 5, {9, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},
    {2, 3, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},
    {2, 2, {1, 1}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},
    /* stride 2 with padding (down-sampling), and without */
    {2, 4, {12, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}},
    {2, 3, {9, 9}, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}},
    /* lines long enough for the vector stride-2 gather, and stride 3 */
    {2, 3, {6, 75}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}},
    /* lines of 16 that end at the image's last element (under a sanitizer,
     * a gather reading one element too far fails here) */
    {2, 3, {3, 31}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}},
    {2, 2, {7, 41}, {3, 3}, {3, 3}, {1, 1}, {1, 1}, {1, 1}},
    /* 1x1 stride 2 (ResNet's shortcut projection), 7x7 stride 2 pad 3 (its stem) */
    {2, 6, {10, 9}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}},
    {2, 3, {20, 18}, {7, 7}, {2, 2}, {1, 1}, {3, 3}, {3, 3}},
    /* dilation, asymmetric padding, a window wider than the input */
    {2, 2, {10, 12}, {3, 3}, {1, 1}, {2, 3}, {2, 3}, {2, 3}},
    {2, 3, {8, 6}, {2, 4}, {1, 2}, {1, 1}, {0, 2}, {1, 3}},
    {2, 2, {3, 4}, {5, 5}, {1, 1}, {1, 1}, {2, 2}, {3, 2}},
    /* lines of one position, columns of one line */
    {2, 3, {17, 1}, {3, 1}, {1, 1}, {1, 1}, {1, 0}, {1, 0}},
    {2, 3, {1, 40}, {1, 3}, {1, 1}, {1, 1}, {0, 1}, {0, 1}},
    /* 1-D and 3-D */
    {1, 4, {50}, {5}, {2}, {1}, {2}, {2}},
    {1, 3, {33}, {3}, {1}, {2}, {2}, {2}},
    {3, 2, {5, 6, 7}, {3, 3, 3}, {1, 2, 1}, {1, 1, 1}, {1, 1, 1}, {1, 0, 1}},
};

/* For each case: the product with the im2col source against the same
 * product with the explicit matrix as B, and both against the reference;
 * once whole, once as pieces of odd column ranges (starting mid-line). */
static void im2col(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    for (size_t ci = 0; ci < sizeof conv_cases / sizeof *conv_cases; ci++) {
        const conv_case *cc = &conv_cases[ci];
        const onn_geom g = geom_of(cc);
        /* Channel planes with a gap, and nothing past the last one, so that
         * a sanitizer sees any read outside the image. */
        const int64_t ld = g.sampled_size + 3;
        float *x = randf((cc->channels - 1) * ld + g.sampled_size);
        float *col = im2col_ref(&g, x, cc->channels, ld);
        const int64_t ms[] = {1, 7, 16};
        for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++) {
            prod t;
            prod_new(&t, e, ms[mi], g.grid_size, cc->channels * g.kernel_size, 0);
            memcpy(t.b, col, (size_t)(t.k * t.n) * sizeof *col);
            const onn_epilogue ep = {t.bias, ONN_ACT_RELU, 0, 0};
            prod_reference(&t, &ep, NULL, 0);
            const onn_sgemm_args p =
                prod_args(&t, (onn_sgemm_src){.data = x, .ld = ld, .im2col = &g}, &ep, NULL, 0);
            run_parallel(e, &p, 1);
            char what[64];
            snprintf(what, sizeof what, "im2col case %zu", ci);
            prod_check(&t, what);

            /* The explicit matrix through the same engine: the same sums in
             * the same order, so the same bits. */
            float *c1 = malloc((size_t)(t.m * t.ldc) * sizeof *c1);
            assert_non_null(c1);
            memcpy(c1, t.c, (size_t)(t.m * t.ldc) * sizeof *c1);
            const onn_sgemm_args pm =
                prod_args(&t, (onn_sgemm_src){.data = t.b, .ld = t.n}, &ep, NULL, 0);
            run_parallel(e, &pm, 1);
            assert_memory_equal(c1, t.c, (size_t)(t.m * t.ldc) * sizeof *c1);

            /* Pieces: all rows, columns cut at 1, 5, 18, 30, ... */
            for (int64_t i = 0; i < t.m * t.ldc; i++)
                t.c[i] = 1234.5f;
            size_t bytes;
            assert_true(onn_sgemm_tile_scratch_size(e, t.n, t.k, &bytes));
            float *scratch = alloc64(bytes);
            for (int64_t n0 = 0, step = 1; n0 < t.n; n0 += step, step = step * 3 + 2) {
                const int64_t n1 = n0 + step < t.n ? n0 + step : t.n;
                onn_sgemm_tiles(e, &p, 0, t.m, n0, n1, scratch);
            }
            free(scratch);
            assert_memory_equal(c1, t.c, (size_t)(t.m * t.ldc) * sizeof *c1);
            free(c1);
            prod_free(&t);
        }
        free(x), free(col);
    }
}

/* ---- pieces and threads --------------------------------------------------------------- */

/* Pieces of rows (at multiples of mr) and columns cover C exactly: each
 * computed alone gives the whole product. */
static void pieces(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    prod t;
    prod_new(&t, e, 53, 77, 300, 1);
    const onn_epilogue ep = {t.bias, ONN_ACT_SILU, 0, 0};
    prod_reference(&t, &ep, t.res, t.ldr);
    const onn_sgemm_args p =
        prod_args(&t, (onn_sgemm_src){.data = t.b, .ld = t.ldb}, &ep, t.res, t.ldr);
    size_t bytes;
    assert_true(onn_sgemm_tile_scratch_size(e, t.n, t.k, &bytes));
    float *scratch = alloc64(bytes);
    const int64_t mcut[] = {0, 2 * e->mr, 5 * e->mr, t.m};
    const int64_t ncut[] = {0, 3, 20, 21, 60, t.n};
    for (int i = 0; i + 1 < 4; i++)
        for (int j = 0; j + 1 < 6; j++)
            onn_sgemm_tiles(e, &p, mcut[i], mcut[i + 1], ncut[j], ncut[j + 1], scratch);
    free(scratch);
    prod_check(&t, "pieces");
    prod_free(&t);
}

/* The division over threads covers C exactly once, and the threaded
 * product matches. Shapes where columns split, where rows split (a narrow
 * C), and one too small to split. */
static void threads(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    static const int64_t cases[][3] = {{64, 900, 72}, {160, 9, 2000}, {3, 5, 7}, {96, 49, 600}};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++)
        for (int nt = 1; nt <= 4; nt++) {
            const int64_t m = cases[ci][0], n = cases[ci][1], k = cases[ci][2];
            const onn_sgemm_split s = onn_sgemm_split_for(e, m, n, k, nt);
            assert_true(s.rows >= 1 && s.cols >= 1 && s.rows * s.cols <= nt);
            if (m * n * k < (1 << 21)) assert_int_equal(s.rows * s.cols, 1);
            unsigned char *seen = calloc((size_t)(m * n), 1);
            assert_non_null(seen);
            for (int i = 0; i < s.rows * s.cols; i++) {
                int64_t m0, m1, n0, n1;
                onn_sgemm_split_piece(e, s, m, n, i, &m0, &m1, &n0, &n1);
                assert_true(m0 % e->mr == 0 && 0 <= m0 && m0 < m1 && m1 <= m);
                assert_true(0 <= n0 && n0 < n1 && n1 <= n);
                for (int64_t r = m0; r < m1; r++)
                    for (int64_t c = n0; c < n1; c++)
                        seen[r * n + c]++;
            }
            for (int64_t i = 0; i < m * n; i++)
                assert_int_equal(seen[i], 1);
            free(seen);
            prod t;
            prod_new(&t, e, m, n, k, 2);
            const onn_epilogue ep = {t.bias, ONN_ACT_RELU, 0, 0};
            prod_reference(&t, &ep, t.res, t.ldr);
            const onn_sgemm_args p =
                prod_args(&t, (onn_sgemm_src){.data = t.b, .ld = t.ldb}, &ep, t.res, t.ldr);
            run_parallel(e, &p, nt);
            prod_check(&t, "threads");
            prod_free(&t);
        }
}

/* The threaded product from the im2col source, where rows split and where
 * columns split (pieces start mid-line), against the explicit im2col
 * matrix. */
static void threads_im2col(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    static const conv_case cases[] = {
        {2, 64, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},
        {2, 16, {40, 40}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},
        {2, 24, {30, 30}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}},
    };
    static const int64_t ms[] = {160, 24, 48};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        const onn_geom g = geom_of(&cases[ci]);
        float *x = randf(cases[ci].channels * g.sampled_size);
        float *col = im2col_ref(&g, x, cases[ci].channels, g.sampled_size);
        for (int nt = 2; nt <= 3; nt++) {
            prod t;
            prod_new(&t, e, ms[ci], g.grid_size, cases[ci].channels * g.kernel_size, 0);
            const onn_sgemm_split s = onn_sgemm_split_for(e, t.m, t.n, t.k, nt);
            assert_true(s.rows * s.cols > 1);
            memcpy(t.b, col, (size_t)(t.k * t.n) * sizeof *col);
            const onn_epilogue ep = {t.bias, ONN_ACT_NONE, 0, 0};
            prod_reference(&t, &ep, NULL, 0);
            const onn_sgemm_args p = prod_args(
                &t, (onn_sgemm_src){.data = x, .ld = g.sampled_size, .im2col = &g}, &ep, NULL, 0);
            run_parallel(e, &p, nt);
            char what[64];
            snprintf(what, sizeof what, "threaded im2col case %zu, %d x %d pieces", ci, s.rows,
                     s.cols);
            prod_check(&t, what);
            prod_free(&t);
        }
        free(x), free(col);
    }
}

/* ---- B read in place ------------------------------------------------------------------ */

static int64_t gcd(int64_t a, int64_t b)
{
    while (b) {
        const int64_t t = a % b;
        a = b, b = t;
    }
    return a;
}

/* A source read in place (onn_sgemm_rows) against the explicit matrix it
 * describes: rows in shuffled order, lines of several lengths (a last one
 * cut short), pitches wider than the lines with NaN in the gaps (a value
 * read past a line's end must never reach C), with and without overread;
 * whole, as pieces that start mid-line, and threaded. */
static void direct_rows(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    static const int64_t cases[][4] = {/* m, n, k, line */
                                       {7, 50, 20, 50},   {13, 56, 70, 28},    {6, 49, 300, 7},
                                       {17, 45, 9, 14},   {3, 33, 5, 33},      {20, 300, 40, 56},
                                       {64, 900, 72, 30}, {9, 70, 600, 64},    {1, 16, 3, 16},
                                       {5, 17, 1, 8},     {40, 1100, 20, 1100}};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++)
        for (int overread = 0; overread < 2; overread++) {
            const int64_t m = cases[ci][0], n = cases[ci][1], k = cases[ci][2];
            const int64_t line = cases[ci][3], lines = (n + line - 1) / line;
            const int64_t pitch = line + (overread ? e->nr + 3 : 5);
            const int64_t rowlen = lines * pitch + (overread ? e->nr : 0);
            prod t;
            prod_new(&t, e, m, n, k, 1);
            /* Row r of B is row (r * mul + 3) % k of data (mul prime to k). */
            int64_t mul = 7;
            while (gcd(mul, k) != 1)
                mul += 2;
            float *data = malloc((size_t)(k * rowlen) * sizeof *data);
            int64_t *off = malloc((size_t)k * sizeof *off);
            assert_true(data && off);
            for (int64_t i = 0; i < k * rowlen; i++)
                data[i] = NAN;
            for (int64_t r = 0; r < k; r++) {
                off[r] = ((r * mul + 3) % k) * rowlen;
                for (int64_t j = 0; j < n; j++)
                    data[off[r] + j / line * pitch + j % line] = t.b[r * t.ldb + j];
            }
            const onn_sgemm_rows rows = {off, line, pitch, overread};
            const onn_epilogue ep = {t.bias, ONN_ACT_RELU, 0, 0};
            prod_reference(&t, &ep, t.res, t.ldr);
            const onn_sgemm_args p =
                prod_args(&t, (onn_sgemm_src){.data = data, .rows = &rows}, &ep, t.res, t.ldr);
            char what[80];
            snprintf(what, sizeof what, "direct case %zu overread %d", ci, overread);
            run_parallel(e, &p, 1);
            prod_check(&t, what);
            /* Pieces: columns cut at 1, 5, 18, 30, ..., rows at 2 panels. */
            for (int64_t i = 0; i < t.m * t.ldc; i++)
                t.c[i] = 1234.5f;
            size_t bytes;
            assert_true(onn_sgemm_tile_scratch_size(e, t.n, t.k, &bytes));
            float *scratch = alloc64(bytes);
            const int64_t mcut = 2 * e->mr < m ? 2 * e->mr : m;
            for (int64_t n0 = 0, step = 1; n0 < t.n; n0 += step, step = step * 3 + 2) {
                const int64_t n1 = n0 + step < t.n ? n0 + step : t.n;
                onn_sgemm_tiles(e, &p, 0, mcut, n0, n1, scratch);
                onn_sgemm_tiles(e, &p, mcut, m, n0, n1, scratch);
            }
            free(scratch);
            prod_check(&t, what);
            for (int64_t i = 0; i < t.m * t.ldc; i++)
                t.c[i] = 1234.5f;
            run_parallel(e, &p, 3);
            prod_check(&t, what);
            free(data), free(off);
            prod_free(&t);
        }
}

/* ---- whole convolutions --------------------------------------------------------------- */

typedef struct wconv_case {
    int64_t n, c, m, group;
    conv_case w; /* the window; w.channels unused */
} wconv_case;

/* Y = act(conv(X, W) + bias + Z) in double, and the magnitude of its terms. */
static void wconv_reference(const wconv_case *wc, const onn_geom *g, const float *x, const float *w,
                            const onn_epilogue *ep, const float *z, double *ref, double *mag)
{
    const int64_t cg = wc->c / wc->group, mg = wc->m / wc->group;
    for (int64_t ni = 0; ni < wc->n; ni++)
        for (int64_t oc = 0; oc < wc->m; oc++) {
            const int64_t gi = oc / mg;
            for (int64_t o = 0; o < g->grid_size; o++) {
                int64_t oco[ONN_MAX_SPATIAL], rest = o;
                for (int i = g->nsp - 1; i >= 0; i--)
                    oco[i] = rest % g->grid[i], rest /= g->grid[i];
                double sum = 0, mg_ = 0;
                for (int64_t ci = 0; ci < cg; ci++)
                    for (int64_t kk = 0; kk < g->kernel_size; kk++) {
                        int64_t kpos[ONN_MAX_SPATIAL], idx = 0;
                        onn_geom_kpos(g, kk, kpos);
                        bool inside = true;
                        for (int i = 0; i < g->nsp; i++) {
                            const int64_t p =
                                oco[i] * g->stride[i] - g->pad_lo[i] + kpos[i] * g->dilation[i];
                            inside = inside && p >= 0 && p < g->sampled[i];
                            idx = idx * g->sampled[i] + p;
                        }
                        if (!inside) continue;
                        const double v = (double)w[(oc * cg + ci) * g->kernel_size + kk] *
                                         x[((ni * wc->c) + gi * cg + ci) * g->sampled_size + idx];
                        sum += v, mg_ += fabs(v);
                    }
                const int64_t at = (ni * wc->m + oc) * g->grid_size + o;
                if (ep->bias) sum += ep->bias[oc], mg_ += fabs(ep->bias[oc]);
                if (z) sum += z[at], mg_ += fabs(z[at]);
                ref[at] = act_ref(ep->act, ep->alpha, ep->beta, sum);
                mag[at] = mg_;
            }
        }
}

static const wconv_case wconv_cases[] = {
    /* 3x3 pad 1 stride 1 on odd planes: lines ending in partial tiles */
    {1, 5, 7, 1, {2, 0, {9, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
    {2, 3, 16, 1, {2, 0, {20, 19}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
    {1, 4, 13, 1, {2, 0, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
    {1, 2, 6, 1, {2, 0, {30, 34}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
    /* several k blocks (k = 360) and a plane longer than a column block */
    {1, 40, 9, 1, {2, 0, {17, 18}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
    /* 1x1 stride 1: X in place, planes of 50 and 64 */
    {2, 6, 10, 1, {2, 0, {5, 10}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}}},
    {1, 300, 14, 1, {2, 0, {8, 8}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}}},
    /* strides: 1x1/2, 3x3/2 pad 1, 7x7/2 pad 3 (a stem), 3x3/3, odd inputs */
    {1, 6, 8, 1, {2, 0, {11, 9}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}}},
    {1, 4, 12, 1, {2, 0, {13, 12}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}}},
    {2, 3, 8, 1, {2, 0, {23, 20}, {7, 7}, {2, 2}, {1, 1}, {3, 3}, {3, 3}}},
    {1, 3, 5, 1, {2, 0, {14, 16}, {3, 3}, {3, 3}, {1, 1}, {1, 0}, {2, 1}}},
    /* dilation, with and without stride; asymmetric pads; a window wider
     * than the input; rectangular windows */
    {1, 3, 7, 1, {2, 0, {12, 13}, {3, 3}, {1, 1}, {2, 2}, {2, 2}, {2, 2}}},
    {1, 3, 7, 1, {2, 0, {15, 13}, {3, 3}, {2, 2}, {2, 3}, {1, 2}, {2, 1}}},
    {1, 2, 9, 1, {2, 0, {8, 6}, {2, 4}, {1, 2}, {1, 1}, {0, 2}, {1, 3}}},
    {1, 2, 5, 1, {2, 0, {3, 4}, {5, 5}, {1, 1}, {1, 1}, {2, 2}, {3, 2}}},
    {1, 3, 6, 1, {2, 0, {17, 1}, {3, 1}, {1, 1}, {1, 1}, {1, 0}, {1, 0}}},
    {1, 3, 6, 1, {2, 0, {1, 40}, {1, 3}, {1, 1}, {1, 1}, {0, 1}, {0, 1}}},
    /* groups: channels per group below and above the tile's rows; a batch */
    {3, 6, 12, 3, {2, 0, {9, 10}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
    {2, 32, 32, 8, {2, 0, {12, 12}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}}},
    {1, 8, 20, 2, {2, 0, {10, 10}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}}},
    /* large enough for threads (sgemm_conv.c's SERIAL_MACS): one product
     * cut in pieces by columns, by rows (few columns), three products on
     * two threads (pieces), sixteen (whole products), X in place */
    {1, 32, 48, 1, {2, 0, {30, 29}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
    {1, 64, 200, 1, {2, 0, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
    {3, 16, 64, 1, {2, 0, {20, 21}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}}},
    {4, 32, 32, 4, {2, 0, {16, 16}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
    {1, 128, 96, 1, {2, 0, {15, 15}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}}},
    /* channels in runs of 8 and a tail (the channel-vector source's
     * unrolled steps): strides, dilation, asymmetric pads, 1x1/2, 5x5, 1-D */
    {1, 20, 40, 1, {2, 0, {13, 12}, {3, 3}, {2, 2}, {2, 2}, {1, 2}, {3, 1}}},
    {1, 16, 33, 1, {2, 0, {11, 9}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}}},
    {2, 13, 70, 1, {2, 0, {9, 13}, {5, 5}, {1, 1}, {1, 1}, {2, 2}, {2, 2}}},
    {1, 24, 33, 1, {1, 0, {40}, {5}, {2}, {1}, {2}, {2}}},
    /* the narrow channel-vector tiles (8 to 16 output channels per group):
     * two blocks, a part-empty block, channel tails, positions past a
     * chunk of 48 */
    {1, 64, 64, 4, {2, 0, {23, 21}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}}},
    {2, 48, 40, 4, {2, 0, {15, 17}, {3, 3}, {1, 1}, {1, 1}, {1, 0}, {0, 1}}},
    /* 1-D and 3-D */
    {2, 4, 6, 1, {1, 0, {50}, {5}, {2}, {1}, {2}, {2}}},
    {1, 3, 5, 1, {1, 0, {33}, {3}, {1}, {2}, {2}, {2}}},
    {1, 2, 4, 1, {3, 0, {5, 6, 7}, {3, 3, 3}, {1, 2, 1}, {1, 1, 1}, {1, 1, 1}, {1, 0, 1}}},
    /* 3-D through the channel-vector source: R3D's 3x3x3 over channel runs
     * of 8, strides and dilation on each axis, a stem-like 3x7x7 window
     * over 3 channels, a grouped volume */
    {1, 20, 36, 1, {3, 0, {4, 7, 6}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}}},
    {2, 16, 40, 1, {3, 0, {6, 9, 8}, {3, 3, 3}, {2, 1, 2}, {1, 2, 1}, {1, 2, 0}, {1, 0, 2}}},
    {1, 3, 33, 1, {3, 0, {5, 12, 11}, {3, 7, 7}, {1, 2, 2}, {1, 1, 1}, {1, 3, 3}, {1, 3, 3}}},
    {1, 32, 32, 2, {3, 0, {3, 5, 5}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}}},
    {1, 16, 24, 1, {3, 0, {7, 5, 6}, {3, 3, 3}, {1, 1, 1}, {2, 1, 1}, {2, 1, 1}, {2, 1, 1}}},
};

/* Every case through onn_sgemm_conv_* with each source, on 1 to 3
 * threads, with a bias and activation, and with a residual, against the
 * float64 reference. */
static void conv_whole(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    int threaded = 0, cut = 0, cvec_runs = 0;
    for (size_t ci = 0; ci < sizeof wconv_cases / sizeof *wconv_cases; ci++) {
        const wconv_case *wc = &wconv_cases[ci];
        conv_case cc = wc->w;
        cc.channels = wc->c;
        const onn_geom g = geom_of(&cc);
        const int64_t kk = wc->c / wc->group * g.kernel_size;
        const int64_t xs = wc->n * wc->c * g.sampled_size, ys = wc->n * wc->m * g.grid_size;
        float *x = randf(xs), *w = randf(wc->m * kk), *bias = randf(wc->m), *z = randf(ys);
        float *y = malloc((size_t)ys * sizeof *y);
        double *ref = malloc((size_t)ys * sizeof *ref), *mag = malloc((size_t)ys * sizeof *mag);
        assert_true(y && ref && mag);
        for (int variant_i = 0; variant_i < 2; variant_i++) {
            const onn_epilogue ep = variant_i ? epilogue_for(ONN_ACT_LEAKY_RELU, NULL)
                                              : epilogue_for(ONN_ACT_RELU, bias);
            const float *res = variant_i ? z : NULL;
            wconv_reference(wc, &g, x, w, &ep, res, ref, mag);
            for (int kind = ONN_SGEMM_CONV_PACKED; kind <= ONN_SGEMM_CONV_CVEC; kind++)
                for (int nt = 1; nt <= 3; nt++) {
                    onn_sgemm_conv cv;
                    assert_true(onn_sgemm_conv_plan(&cv, e, &g, wc->n, wc->c, wc->m, wc->group, nt,
                                                    (onn_sgemm_conv_kind)kind));
                    /* 3-D: packed or channel-vector; the channel-vector
                     * source only with the variants that have it */
                    const bool has = kind != ONN_SGEMM_CONV_CVEC || onn_cvec_supported(e->isa);
                    if (g.nsp <= 2 || kind == ONN_SGEMM_CONV_CVEC)
                        assert_int_equal(cv.kind, has ? kind : ONN_SGEMM_CONV_PACKED);
                    cvec_runs += cv.kind == ONN_SGEMM_CONV_CVEC;
                    threaded += cv.threads > 1, cut += cv.pieces > 1;
                    void *mem = alloc64(cv.const_bytes);
                    void *scratch = alloc64(cv.scratch_bytes);
                    onn_sgemm_conv_init(&cv, w, mem);
                    for (int64_t i = 0; i < ys; i++)
                        y[i] = 1234.5f;
                    onn_sgemm_conv_run(&cv, x, y, res, &ep, scratch);
                    for (int64_t i = 0; i < ys; i++) {
                        const double tol =
                            (double)(kk + 4) * 0x1p-24 * mag[i] + 8 * 0x1p-24 * fabs(ref[i]) + 1e-6;
                        if (!(fabs(y[i] - ref[i]) <= tol))
                            fail_msg("conv case %zu, kind %d (planned %d), %d threads, "
                                     "epilogue %d: Y[%lld] = %.9g, reference %.9g",
                                     ci, kind, (int)cv.kind, nt, variant_i, (long long)i,
                                     (double)y[i], ref[i]);
                    }
                    free(mem), free(scratch);
                }
        }
        free(x), free(w), free(bias), free(z), free(y), free(ref), free(mag);
    }
    assert_true(threaded > 0 && cut > 0);
    assert_true(onn_cvec_supported(e->isa) == (cvec_runs > 0));
}

/* Empty products write nothing; sizes are refused when negative. */
static void empty(void **state)
{
    const onn_sgemm_engine *e = variant(state);
    size_t bytes;
    assert_false(onn_sgemm_pack_a_size(e, -1, 3, &bytes));
    assert_false(onn_sgemm_tile_scratch_size(e, 3, -1, &bytes));
    assert_true(onn_sgemm_pack_a_size(e, 0, 5, &bytes));
    assert_int_equal(bytes, 0);
    float c = 7.0f;
    const onn_sgemm_args p = {
        0, 1, 5, NULL, {NULL, 0, NULL, NULL, NULL}, &c, 1, NULL, 0, {NULL, 0, 0, 0}, NULL, NULL, 0};
    onn_sgemm_parallel(e, &p, 2, NULL);
    const onn_sgemm_args q = {
        1, 0, 5, NULL, {NULL, 0, NULL, NULL, NULL}, &c, 1, NULL, 0, {NULL, 0, 0, 0}, NULL, NULL, 0};
    onn_sgemm_parallel(e, &q, 2, NULL);
    assert_true(c == 7.0f);
}

#define ONE(fn, isa)                                                                               \
    {                                                                                              \
#fn "/" #isa, fn, NULL, NULL, (void *)(intptr_t)ONN_ISA_##isa                              \
    }
#define PER_ISA(fn) ONE(fn, SCALAR), ONE(fn, AVX2), ONE(fn, AVX512)

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_ISA(sizes),       PER_ISA(blocks),     PER_ISA(epilogues), PER_ISA(activation_range),
        PER_ISA(im2col),      PER_ISA(pieces),     PER_ISA(threads),   PER_ISA(threads_im2col),
        PER_ISA(direct_rows), PER_ISA(conv_whole), PER_ISA(empty),     PER_ISA(packed_b),
    };
    for (int i = 0; i < ONN_ISA_COUNT; i++)
        printf("variant %-7s %s\n", onn_isa_name((onn_isa)i),
               onn_isa_supported((onn_isa)i) ? "runs here" : "not supported here: skipped");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
