/* fuse-skip-norm (graph/pass_skipnorm.c): a residual Add before a
 * LayerNormalization, RMSNormalization or SimplifiedLayerNormalization
 * becomes one com.microsoft.SkipLayerNormalization or
 * SkipSimplifiedLayerNormalization; the fused graph's norm output matches
 * a float64 evaluation of the formula written here (on the Add's float32
 * sum, which the fused kernel rounds as the Add does), its residual sum is the
 * float32 sum bit for bit, and every output equals the unfused graph's
 * within rounding. Near-misses (another axis, a broadcast that is not a
 * suffix, rank 4) stay with their reason; the pass can be switched off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

#define B 2
#define S 5
#define H 64

typedef enum kind {
    LN_SUM_SHARED, /* LayerNormalization; the sum feeds the next residual Add too */
    LN_SKIP_2D,    /* skip of shape [S, H] */
    LN_STATS_OUT,  /* Mean and InvStdDev are graph outputs */
    RMS,           /* RMSNormalization-23 */
    SIMPLIFIED,    /* SimplifiedLayerNormalization (ai.onnx, ORT's contrib) */
    LN_AXIS_1,     /* normalizes [S, H]: stays */
    LN_BROADCAST,  /* skip [B, 1, H]: stays */
    LN_RANK4,      /* [1, B, S, H]: stays */
} kind;

static const float eps = 1e-5f;

static bool rms(kind t)
{
    return t == RMS || t == SIMPLIFIED;
}

static void dims_of(kind t, bool skip, int *rank, int64_t *d)
{
    if (t == LN_RANK4) {
        *rank = 4, d[0] = 1, d[1] = B, d[2] = S, d[3] = H;
    } else if (skip && t == LN_SKIP_2D) {
        *rank = 2, d[0] = S, d[1] = H;
    } else {
        *rank = 3, d[0] = B, d[1] = skip && t == LN_BROADCAST ? 1 : S, d[2] = H;
    }
}

static tb_model *build(kind t)
{
    tb_model *b = tb_new(t == RMS ? 23 : 17);
    int64_t xd[4], sd[4];
    int xr, sr;
    dims_of(t, false, &xr, xd);
    dims_of(t, true, &sr, sd);
    tb_input(b, "A", ONNORM_FLOAT, xr, xd);
    tb_input(b, "Skip", ONNORM_FLOAT, sr, sd);
    float g[H * S], be[H * S];
    for (int i = 0; i < H * S; i++)
        g[i] = 0.5f + 0.01f * (float)(i % 97), be[i] = 0.1f * cosf((float)i);
    const int64_t nd[2] = {S, H};
    const bool wide = t == LN_AXIS_1;
    tb_init(b, "gamma", ONNORM_FLOAT, wide ? 2 : 1, wide ? nd : nd + 1, g);
    tb_init(b, "beta", ONNORM_FLOAT, wide ? 2 : 1, wide ? nd : nd + 1, be);
    tb_node_add(b, "Add", "residual", 2, (const char *[]){"A", "Skip"}, 1, (const char *[]){"sum"});
    const char *op = t == RMS          ? "RMSNormalization"
                     : t == SIMPLIFIED ? "SimplifiedLayerNormalization"
                                       : "LayerNormalization";
    const bool stats = t == LN_STATS_OUT;
    tb_node *n =
        tb_node_add(b, op, "norm", rms(t) ? 2 : 3, (const char *[]){"sum", "gamma", "beta"},
                    stats ? 3 : 1, (const char *[]){"Y", "mean", "istd"});
    tb_attr_int(n, "axis", wide ? -2 : -1);
    tb_attr_float(n, "epsilon", eps);
    tb_output(b, "Y", ONNORM_FLOAT);
    if (stats) tb_output(b, "mean", ONNORM_FLOAT), tb_output(b, "istd", ONNORM_FLOAT);
    if (t == LN_SUM_SHARED) {
        /* the residual stream goes on: next = sum + Y, and sum is an output */
        tb_node_add(b, "Add", "next", 2, (const char *[]){"sum", "Y"}, 1, (const char *[]){"next"});
        tb_output(b, "next", ONNORM_FLOAT);
        tb_output(b, "sum", ONNORM_FLOAT);
    }
    return b;
}

static float a_in[B * S * H], skip_in[B * S * H];

static void fill(void)
{
    for (int i = 0; i < B * S * H; i++) {
        /* a large offset on some rows: the float64 sum keeps the statistics exact */
        a_in[i] = sinf(0.37f * (float)i) * 3.0f + (i / H % 3 == 0 ? 1000.0f : 0.0f);
        skip_in[i] = cosf(0.11f * (float)i) * 2.0f;
    }
}

static void run(th_run *r, const onnorm_model *m, kind t)
{
    int64_t xd[4], sd[4];
    int xr, sr;
    dims_of(t, false, &xr, xd);
    dims_of(t, true, &sr, sd);
    const th_tensor in[2] = {th_in("A", ONNORM_FLOAT, xr, xd, a_in),
                             th_in("Skip", ONNORM_FLOAT, sr, sd, skip_in)};
    onnorm_session_options o = th_options(2, 0);
    TH_OK(r, th_run_loaded(r, m, &o, 2, in));
}

/* The norm of each row of the float32 sum a + skip (skip repeated over
 * leading rows), in double, as the ONNX formulas state it. */
static void reference(kind t, double *y)
{
    int64_t sd[4];
    int sr;
    dims_of(t, true, &sr, sd);
    int64_t ns = 1;
    for (int i = 0; i < sr; i++)
        ns *= sd[i];
    for (int row = 0; row < B * S; row++) {
        double s[H], mean = 0, var = 0;
        for (int j = 0; j < H; j++) {
            const int64_t at = (int64_t)row * H + j;
            s[j] = (double)(a_in[at] + skip_in[at % ns]); /* the Add's float32 sum */
            mean += s[j] / H;
        }
        for (int j = 0; j < H; j++)
            var += (rms(t) ? s[j] * s[j] : (s[j] - mean) * (s[j] - mean)) / H;
        for (int j = 0; j < H; j++) {
            const double g = 0.5 + 0.01 * (double)(j % 97), be = 0.1 * cos((double)j);
            y[row * H + j] =
                rms(t) ? s[j] / sqrt(var + eps) * g : (s[j] - mean) / sqrt(var + eps) * g + be;
        }
    }
}

static void check(kind t, int fused, const char *note)
{
    fill();
    onnorm_model *m = th_load(build(t));
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    const char *fop = rms(t) ? "SkipSimplifiedLayerNormalization" : "SkipLayerNormalization";
    const int got_fused = th_count_op(opt, fop, NULL);
    /* the fused graph keeps one Add: the next block's, in LN_SUM_SHARED */
    const int adds = th_count_op(opt, "Add", NULL);
    if (got_fused != fused || (fused && adds != (t == LN_SUM_SHARED)))
        fail_msg("case %d: %d %s and %d Add, want %d fused\n%s", (int)t, got_fused, fop, adds,
                 fused, report);
    if (note && !strstr(report, note))
        fail_msg("case %d: the report lacks '%s':\n%s", (int)t, note, report);
    th_run ref, got;
    run(&ref, m, t);
    run(&got, opt, t);
    th_expect_same_outputs(&ref, &got, 1e-5, 1e-5, 0);
    if (fused) {
        double *y = th_dalloc(B * S * H);
        reference(t, y);
        const int64_t yd[3] = {B, S, H};
        th_expect_output(&got, "fused", "Y", ONNORM_FLOAT, 3, yd, y, 2e-6);
        free(y);
    }
    if (t == LN_SUM_SHARED) { /* the sum output: the float32 sum, exactly */
        const int64_t sd[3] = {B, S, H};
        const float *sum = th_output(&got, "sum", ONNORM_FLOAT, 3, sd);
        for (int i = 0; i < B * S * H; i++)
            if (sum[i] != a_in[i] + skip_in[i])
                fail_msg("sum[%d] = %.9g, want %.9g", i, (double)sum[i],
                         (double)(a_in[i] + skip_in[i]));
    }
    th_free(&ref), th_free(&got);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void residual_norms_fuse(void **state)
{
    (void)state;
    check(LN_SUM_SHARED, 1, "fuse-skip-norm  1 rewritten");
    check(LN_SKIP_2D, 1, NULL);
    check(LN_STATS_OUT, 1, NULL);
    check(RMS, 1, NULL);
    check(SIMPLIFIED, 1, NULL);
}

static void near_misses_stay(void **state)
{
    (void)state;
    check(LN_AXIS_1, 0, "not the last axis only");
    check(LN_BROADCAST, 0, "not the sum's shape and a suffix of it");
    check(LN_RANK4, 0, "not 2 or 3");
}

static void the_pass_can_be_switched_off(void **state)
{
    (void)state;
    th_expect_pass_off(th_load(build(LN_SKIP_2D)), "fuse-skip-norm", "SkipLayerNormalization",
                       "LayerNormalization", 1);
}

/* The fused kernel refuses a skip that does not repeat over leading rows
 * (it would be read at the wrong offsets), with a clear error. */
static void kernel_refuses_a_non_suffix_skip(void **state)
{
    (void)state;
    th_run r;
    const int64_t xd[3] = {B, S, H}, sd[3] = {B, 1, H}, hd[1] = {H};
    static float g[H];
    fill();
    const th_tensor in[3] = {th_in("input", ONNORM_FLOAT, 3, xd, a_in),
                             th_in("skip", ONNORM_FLOAT, 3, sd, skip_in),
                             th_const("gamma", ONNORM_FLOAT, 1, hd, g)};
    tb_node *n;
    tb_model *b = th_node_model(&r, 17, "SkipLayerNormalization", 3, in, ONNORM_FLOAT, &n);
    tb_node_domain(n, "com.microsoft");
    tb_opset(b, "com.microsoft", 1);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "shape of its last dims");
    th_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(residual_norms_fuse),
        cmocka_unit_test(near_misses_stay),
        cmocka_unit_test(the_pass_can_be_switched_off),
        cmocka_unit_test(kernel_refuses_a_non_suffix_skip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
