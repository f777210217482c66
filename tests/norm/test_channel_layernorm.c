/*
 * ChannelLayerNormalization (ai.onnorm, ops/norm/channel_layernorm.c)
 * against a float64 reference, and the fold-channel-layernorm pass
 * (graph/pass_channel_norm.c) that writes it for Transpose ->
 * LayerNormalization -> Transpose.
 */
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

/* The node on X [dims] (values x), Scale and B (when bias) of C, at
 * `threads`, against float64: mean and variance over the channels at
 * every position. */
static void check_node(int rank, const int64_t *dims, float offset, bool bias, int threads)
{
    int64_t numel = 1, plane = 1;
    for (int d = 0; d < rank; d++)
        numel *= dims[d];
    for (int d = 2; d < rank; d++)
        plane *= dims[d];
    const int64_t n = dims[0], c = dims[1];
    float *x = malloc((size_t)numel * sizeof *x), *sc = malloc((size_t)c * sizeof *sc);
    float *b = malloc((size_t)c * sizeof *b);
    assert_non_null(x), assert_non_null(sc), assert_non_null(b);
    for (int64_t i = 0; i < numel; i++)
        x[i] = offset + sinf(0.37f * (float)i) * 1.5f + cosf(0.011f * (float)i);
    for (int64_t i = 0; i < c; i++)
        sc[i] = 0.5f + 0.1f * (float)(i % 7), b[i] = 0.05f * (float)(i % 5) - 0.1f;
    th_run r;
    tb_node *nd;
    const th_tensor in[3] = {th_in("X", ONNORM_FLOAT, rank, dims, x),
                             th_const("Scale", ONNORM_FLOAT, 1, &c, sc),
                             th_const("B", ONNORM_FLOAT, 1, &c, b)};
    tb_model *m =
        th_node_model(&r, 17, "ChannelLayerNormalization", bias ? 3 : 2, in, ONNORM_FLOAT, &nd);
    tb_node_domain(nd, "ai.onnorm");
    tb_opset(m, "ai.onnorm", 1);
    tb_attr_float(nd, "epsilon", 1e-3f);
    TH_OK(&r, th_go(&r, m, threads));
    const float *y = th_output(&r, "Y", ONNORM_FLOAT, rank, dims);
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = 0; p < plane; p++) {
            double mean = 0.0, var = 0.0;
            for (int64_t ch = 0; ch < c; ch++)
                mean += x[(i * c + ch) * plane + p];
            mean /= (double)c;
            for (int64_t ch = 0; ch < c; ch++) {
                const double d = x[(i * c + ch) * plane + p] - mean;
                var += d * d;
            }
            const double rstd = 1.0 / sqrt(var / (double)c + 1e-3);
            for (int64_t ch = 0; ch < c; ch++) {
                const int64_t at = (i * c + ch) * plane + p;
                const double want = (x[at] - mean) * rstd * sc[ch] + (bias ? b[ch] : 0.0);
                if (!(fabs(y[at] - want) <= 2e-5 * (1.0 + fabs(want))))
                    fail_msg("rank %d, C %lld, offset %g, position %lld, channel %lld: %.9g, "
                             "want %.9g",
                             rank, (long long)c, (double)offset, (long long)p, (long long)ch, y[at],
                             want);
            }
        }
    th_free(&r);
    free(x), free(sc), free(b);
}

/* Every tail of the 16-position steps, ranks 3 to 5, one channel to many,
 * a batch, no bias, 1 and 3 threads; and a common offset 1e4 times the
 * spread, which the shifted sums cancel before adding. */
static void matches_float64(void **state)
{
    (void)state;
    check_node(4, (int64_t[]){1, 96, 7, 9}, 0.0f, true, 1);
    check_node(4, (int64_t[]){2, 5, 17, 3}, 0.0f, false, 3);
    check_node(3, (int64_t[]){3, 1, 33}, 0.0f, true, 1);
    check_node(5, (int64_t[]){1, 12, 2, 3, 5}, 0.0f, true, 3);
    check_node(4, (int64_t[]){1, 768, 1, 1}, 0.0f, true, 1);
    check_node(4, (int64_t[]){1, 40, 30, 30}, 0.0f, true, 3);
    check_node(4, (int64_t[]){1, 24, 4, 4}, 1e4f, true, 1);
}

static void errors(void **state)
{
    (void)state;
    static float data[64];
    const int64_t xd[4] = {1, 4, 2, 2}, c3 = 3;
    th_run r;
    tb_node *nd;
    const th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 4, xd, data),
                             th_const("Scale", ONNORM_FLOAT, 1, &c3, data)};
    tb_model *m = th_node_model(&r, 17, "ChannelLayerNormalization", 2, in, ONNORM_FLOAT, &nd);
    tb_node_domain(nd, "ai.onnorm");
    tb_opset(m, "ai.onnorm", 1);
    th_go_fails(&r, m, 1, ONNORM_ERR_SHAPE, "Scale");
    const int64_t x1[1] = {4}, c4 = 4;
    const th_tensor in1[2] = {th_in("X", ONNORM_FLOAT, 1, x1, data),
                              th_const("Scale", ONNORM_FLOAT, 1, &c4, data)};
    m = th_node_model(&r, 17, "ChannelLayerNormalization", 2, in1, ONNORM_FLOAT, &nd);
    tb_node_domain(nd, "ai.onnorm");
    tb_opset(m, "ai.onnorm", 1);
    th_go_fails(&r, m, 1, ONNORM_ERR_SHAPE, "channel axis");
}

/* ---- the pass ---------------------------------------------------------------- */

typedef enum chain_kind {
    C_PLAIN,       /* the chain, axis -1 */
    C_AXIS3,       /* axis 3 (= r - 1), no bias */
    C_MEAN_USED,   /* the Mean output is a graph output: stays */
    C_SHARED,      /* the channels-last tensor also feeds a Relu: stays */
    C_WRONG_PERM,  /* the second Transpose is not the inverse: stays, no note */
    C_AXIS_MIDDLE, /* axis 2: over more than the channels: stays */
} chain_kind;

static tb_model *chain(chain_kind k)
{
    static const int64_t xd[4] = {2, 6, 5, 7};
    static float sc[6] = {0.5f, 1.5f, -1.0f, 2.0f, 0.7f, 1.1f},
                 bi[6] = {0.1f, -0.2f, 0, 0.3f, 0, 1};
    tb_model *b = tb_new(17);
    tb_input(b, "X", ONNORM_FLOAT, 4, xd);
    const int64_t c = 6, hwc[3] = {5, 7, 6};
    const bool middle = k == C_AXIS_MIDDLE;
    tb_init(b, "s", ONNORM_FLOAT, 1, &c, sc);
    if (middle) { /* axis 2 normalizes [7, 6]: Scale of that shape */
        static float s42[42];
        for (int i = 0; i < 42; i++)
            s42[i] = 1.0f + 0.01f * (float)i;
        tb_init(b, "s2", ONNORM_FLOAT, 2, hwc + 1, s42);
    }
    tb_init(b, "b", ONNORM_FLOAT, 1, &c, bi);
    tb_node *t1 =
        tb_node_add(b, "Transpose", "t1", 1, (const char *[]){"X"}, 1, (const char *[]){"xl"});
    tb_attr_ints(t1, "perm", 4, (const int64_t[]){0, 2, 3, 1});
    const bool bias = k != C_AXIS3 && !middle;
    tb_node *ln = tb_node_add(b, "LayerNormalization", "ln", bias ? 3 : 2,
                              (const char *[]){"xl", middle ? "s2" : "s", "b"},
                              k == C_MEAN_USED ? 2 : 1, (const char *[]){"yl", "mean"});
    tb_attr_int(ln, "axis", k == C_AXIS3 ? 3 : middle ? 2 : -1);
    tb_attr_float(ln, "epsilon", 1e-6f);
    tb_node *t2 =
        tb_node_add(b, "Transpose", "t2", 1, (const char *[]){"yl"}, 1, (const char *[]){"Y"});
    tb_attr_ints(t2, "perm", 4,
                 k == C_WRONG_PERM ? (const int64_t[]){0, 3, 2, 1} : (const int64_t[]){0, 3, 1, 2});
    if (k == C_MEAN_USED) tb_output(b, "mean", ONNORM_FLOAT);
    if (k == C_SHARED) {
        tb_node_add(b, "Relu", "relu", 1, (const char *[]){"xl"}, 1, (const char *[]){"R"});
        tb_output(b, "R", ONNORM_FLOAT);
    }
    tb_output(b, "Y", ONNORM_FLOAT);
    (void)xd;
    return b;
}

static void check_chain(chain_kind k, bool folded, const char *note)
{
    onnorm_model *m = th_load(chain(k));
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    if (th_count_op(opt, "ChannelLayerNormalization", NULL) != (folded ? 1 : 0) ||
        th_count_op(opt, "Transpose", NULL) != (folded ? 0 : 2))
        fail_msg("case %d: %d ChannelLayerNormalization, %d Transpose\n%s", (int)k,
                 th_count_op(opt, "ChannelLayerNormalization", NULL),
                 th_count_op(opt, "Transpose", NULL), report);
    if (note && !strstr(report, note))
        fail_msg("case %d: the report lacks '%s':\n%s", (int)k, note, report);
    static float x[2 * 6 * 35];
    for (int i = 0; i < 2 * 6 * 35; i++)
        x[i] = 3.0f + sinf(0.41f * (float)i) * 2.0f;
    const th_tensor in = th_in("X", ONNORM_FLOAT, 4, (int64_t[]){2, 6, 5, 7}, x);
    for (int threads = 1; threads <= 3; threads += 2) {
        onnorm_session_options o0 = th_options(1, 0), o = th_options(threads, 0);
        th_run ref, got;
        TH_OK(&ref, th_run_loaded(&ref, m, &o0, 1, &in));
        TH_OK(&got, th_run_loaded(&got, opt, &o, 1, &in));
        th_expect_same_output(&ref, &got, "Y", 1e-5, 1e-5, 0);
        th_free(&ref), th_free(&got);
    }
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void chains_fold(void **state)
{
    (void)state;
    check_chain(C_PLAIN, true, NULL);
    check_chain(C_AXIS3, true, NULL);
}

static void near_misses_stay(void **state)
{
    (void)state;
    check_chain(C_MEAN_USED, false, "Mean or InvStdDev output is used");
    check_chain(C_SHARED, false, "also read elsewhere");
    check_chain(C_WRONG_PERM, false, NULL);
    check_chain(C_AXIS_MIDDLE, false, "more than the channel axis");
}

static void can_be_switched_off(void **state)
{
    (void)state;
    th_expect_pass_off(th_load(chain(C_PLAIN)), "fold-channel-layernorm",
                       "ChannelLayerNormalization", "Transpose", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_float64),     cmocka_unit_test(errors),
        cmocka_unit_test(chains_fold),         cmocka_unit_test(near_misses_stay),
        cmocka_unit_test(can_be_switched_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
