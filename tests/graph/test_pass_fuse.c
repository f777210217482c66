/*
 * The "fuse-conv" pass: a Conv absorbs a following residual Add and an
 * activation into one FusedConv (com.microsoft). Each positive case checks
 * the node counts after onnorm_model_optimize and compares the optimized
 * model's output with the original's run unoptimized (which runs the
 * activation and Add as their own kernels); each near-miss checks that the
 * Conv stays a Conv and, where there is one, the reason in the report.
 * The same for fuse-norm (a norm absorbs its activation) and fold-pad (a
 * zero Pad becomes the padding of the Conv or AveragePool after it).
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

/* X [1, 3, 9, 9] -> Conv 3x3 pad 1 (4 channels, bias) -> "c" [1, 4, 9, 9]. */
static const int64_t xd[4] = {1, 3, 9, 9}, yd[4] = {1, 4, 9, 9};
#define YN (4 * 81)

typedef enum tail_kind {
    T_RELU,
    T_CLIP6,      /* Clip(0, 0.4) with constant bound inputs */
    T_CLIP_ATTR,  /* Clip-6 with min/max attributes */
    T_CLIP_INPUT, /* Clip with a bound fed at run: stays */
    T_LEAKY,
    T_HARD_SIGMOID,
    T_HARD_SWISH,
    T_SIGMOID,
    T_TANH,
    T_SILU,        /* Sigmoid + Mul */
    T_HSWISH_GATE, /* HardSigmoid(1/6, 1/2) + Mul: HardSwish below opset 14 */
    T_HSIG_GATE,   /* HardSigmoid(0.2, 0.5) + Mul: not HardSwish, stays */
    T_ADD,         /* + Z */
    T_ADD_RELU,    /* + Z, then Relu */
    T_ADD_BCAST,   /* + a [4, 1, 1] bias: not a residual, stays */
    T_RELU_TWICE,  /* the Conv output also feeds a second Relu: stays */
    T_CONV_OUTPUT, /* the Conv output is a graph output: stays */
} tail_kind;

static tb_model *build(tail_kind t)
{
    tb_model *b = tb_new(t == T_CLIP_ATTR ? 6 : 14); /* HardSwish arrived in 14 */
    float w[4 * 3 * 9], bias[4];
    for (int i = 0; i < 4 * 27; i++)
        w[i] = (float)((i * 37) % 17 - 8) * 0.05f;
    for (int i = 0; i < 4; i++)
        bias[i] = 0.1f * (float)(i - 2);
    tb_input(b, "X", ONNORM_FLOAT, 4, xd);
    tb_init(b, "w", ONNORM_FLOAT, 4, (int64_t[]){4, 3, 3, 3}, w);
    tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){4}, bias);
    tb_node *c = tb_node_add(b, "Conv", "conv", 3, (const char *[]){"X", "w", "b"}, 1,
                             (const char *[]){"c"});
    tb_attr_ints(c, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    const char *act = NULL;
    switch (t) {
    case T_RELU:
    case T_RELU_TWICE:
    case T_CONV_OUTPUT: act = "Relu"; break;
    case T_LEAKY: act = "LeakyRelu"; break;
    case T_HARD_SIGMOID: act = "HardSigmoid"; break;
    case T_HARD_SWISH: act = "HardSwish"; break;
    case T_SIGMOID: act = "Sigmoid"; break;
    case T_TANH: act = "Tanh"; break;
    default: break;
    }
    if (act) {
        tb_node *a = tb_node_add(b, act, "act", 1, (const char *[]){"c"}, 1, (const char *[]){"Y"});
        if (t == T_LEAKY) tb_attr_float(a, "alpha", 0.3f);
        if (t == T_HARD_SIGMOID) tb_attr_float(a, "alpha", 0.25f), tb_attr_float(a, "beta", 0.4f);
    }
    if (t == T_CLIP6 || t == T_CLIP_INPUT) {
        const float lo = 0.0f, hi = 0.4f; /* Clip-13 takes its bounds as inputs */
        tb_init(b, "lo", ONNORM_FLOAT, 0, NULL, &lo);
        if (t == T_CLIP6)
            tb_init(b, "hi", ONNORM_FLOAT, 0, NULL, &hi);
        else
            tb_input(b, "hi", ONNORM_FLOAT, 0, NULL);
        tb_node_add(b, "Clip", "act", 3, (const char *[]){"c", "lo", "hi"}, 1,
                    (const char *[]){"Y"});
    }
    if (t == T_CLIP_ATTR) {
        tb_node *a =
            tb_node_add(b, "Clip", "act", 1, (const char *[]){"c"}, 1, (const char *[]){"Y"});
        tb_attr_float(a, "min", -0.2f), tb_attr_float(a, "max", 0.3f);
    }
    if (t == T_SILU) {
        tb_node_add(b, "Sigmoid", "sig", 1, (const char *[]){"c"}, 1, (const char *[]){"s"});
        tb_node_add(b, "Mul", "mul", 2, (const char *[]){"c", "s"}, 1, (const char *[]){"Y"});
    }
    if (t == T_HSWISH_GATE || t == T_HSIG_GATE) {
        tb_node *h =
            tb_node_add(b, "HardSigmoid", "hs", 1, (const char *[]){"c"}, 1, (const char *[]){"s"});
        tb_attr_float(h, "alpha", t == T_HSWISH_GATE ? 1.0f / 6.0f : 0.2f);
        tb_attr_float(h, "beta", 0.5f);
        tb_node_add(b, "Mul", "mul", 2, (const char *[]){"s", "c"}, 1, (const char *[]){"Y"});
    }
    if (t == T_ADD || t == T_ADD_RELU || t == T_ADD_BCAST) {
        if (t == T_ADD_BCAST)
            tb_init(b, "z", ONNORM_FLOAT, 3, (int64_t[]){4, 1, 1}, bias);
        else
            tb_input(b, "z", ONNORM_FLOAT, 4, yd);
        const char *sum = t == T_ADD_RELU ? "s" : "Y";
        tb_node_add(b, "Add", "add", 2, (const char *[]){"z", "c"}, 1, (const char *[]){sum});
        if (t == T_ADD_RELU)
            tb_node_add(b, "Relu", "act", 1, (const char *[]){"s"}, 1, (const char *[]){"Y"});
    }
    if (t == T_RELU_TWICE) {
        tb_node_add(b, "Relu", "act2", 1, (const char *[]){"c"}, 1, (const char *[]){"Y2"});
        tb_output(b, "Y2", ONNORM_FLOAT);
    }
    if (t == T_CONV_OUTPUT) tb_output(b, "c", ONNORM_FLOAT);
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

/* Runs m at the given optimization level on fixed X, Z and hi. */
static void run(th_run *r, const onnorm_model *m, int level)
{
    static float x[3 * 81], z[YN];
    static const float hi = 0.5f;
    for (int i = 0; i < 3 * 81; i++)
        x[i] = sinf(0.37f * (float)i) * 2.0f;
    for (int i = 0; i < YN; i++)
        z[i] = cosf(0.11f * (float)i);
    const th_tensor in[3] = {th_in("X", ONNORM_FLOAT, 4, xd, x), th_in("z", ONNORM_FLOAT, 4, yd, z),
                             th_in("hi", ONNORM_FLOAT, 0, NULL, &hi)};
    onnorm_session_options o = th_options(1, level);
    int n = 0;
    th_tensor feeds[3];
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < onnorm_model_input_count(m); i++)
            if (!strcmp(onnorm_model_input_name(m, i), in[k].name)) feeds[n++] = in[k];
    TH_OK(r, th_run_loaded(r, m, &o, n, feeds));
}

static void check(tail_kind t, int fused, int left_nodes, const char *note)
{
    onnorm_model *m = th_load(build(t));
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    if (th_count_op(opt, "FusedConv", NULL) != fused || onnorm_model_node_count(opt) != left_nodes)
        fail_msg("case %d: %d FusedConv in %d nodes, want %d in %d\n%s", (int)t,
                 th_count_op(opt, "FusedConv", NULL), onnorm_model_node_count(opt), fused,
                 left_nodes, report);
    if (note && !strstr(report, note))
        fail_msg("case %d: the report lacks '%s':\n%s", t, note, report);
    th_run ref, got;
    run(&ref, m, 0);
    run(&got, opt, 0); /* the optimized model, not optimized again */
    th_expect_same_outputs(&ref, &got, 1e-6, 1e-5, 0);
    th_free(&ref), th_free(&got);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void activations_fuse(void **state)
{
    (void)state;
    const tail_kind kinds[] = {T_RELU,       T_CLIP6,   T_CLIP_ATTR, T_LEAKY, T_HARD_SIGMOID,
                               T_HARD_SWISH, T_SIGMOID, T_TANH,      T_SILU,  T_HSWISH_GATE};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        check(kinds[k], 1, 1, NULL);
}

static void residual_add_fuses_with_its_activation(void **state)
{
    (void)state;
    check(T_ADD, 1, 1, NULL);
    check(T_ADD_RELU, 1, 1, NULL);
}

static void near_misses_stay(void **state)
{
    (void)state;
    check(T_CLIP_INPUT, 0, 2, "Clip's bounds are not constant");
    /* A per-channel constant Add is fold-affine's: it becomes the Conv's bias. */
    check(T_ADD_BCAST, 0, 1, NULL);
    check(T_RELU_TWICE, 0, 3, NULL);
    check(T_CONV_OUTPUT, 0, 2, NULL);
    check(T_HSIG_GATE, 0, 3, NULL);
}

/* A depthwise Conv (group = channels) fuses the same way; its plane
 * kernels apply the bias, the residual and the activation before the
 * store. X [1, 4, 9, 9], 3x3 pad 1. */
static void depthwise_fuses(void **state)
{
    (void)state;
    const char *acts[] = {"HardSwish", "Tanh", "Relu"};
    static float x[YN], z[YN], w[36], bias[4];
    for (int i = 0; i < YN; i++)
        x[i] = sinf(0.21f * (float)i) * 3.0f, z[i] = cosf(0.13f * (float)i);
    for (int i = 0; i < 36; i++)
        w[i] = (float)((i * 11) % 9 - 4) * 0.1f;
    for (int i = 0; i < 4; i++)
        bias[i] = 0.2f * (float)(i - 1);
    for (int a = 0; a < 3; a++) {
        const bool residual = a == 2;
        tb_model *b = tb_new(14);
        tb_input(b, "X", ONNORM_FLOAT, 4, yd);
        tb_input(b, "z", ONNORM_FLOAT, 4, yd);
        tb_init(b, "w", ONNORM_FLOAT, 4, (int64_t[]){4, 1, 3, 3}, w);
        tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){4}, bias);
        tb_node *c = tb_node_add(b, "Conv", "dw", 3, (const char *[]){"X", "w", "b"}, 1,
                                 (const char *[]){"c"});
        tb_attr_ints(c, "pads", 4, (const int64_t[]){1, 1, 1, 1});
        tb_attr_int(c, "group", 4);
        if (residual)
            tb_node_add(b, "Add", "add", 2, (const char *[]){"c", "z"}, 1, (const char *[]){"s"});
        else
            tb_node_add(b, "Identity", "keep_z", 1, (const char *[]){"z"}, 1,
                        (const char *[]){"zz"});
        tb_node_add(b, acts[a], "act", 1, (const char *[]){residual ? "s" : "c"}, 1,
                    (const char *[]){"Y"});
        tb_output(b, "Y", ONNORM_FLOAT);
        if (!residual) tb_output(b, "zz", ONNORM_FLOAT);
        onnorm_model *m = th_load(b);
        onnorm_model *opt = th_optimize(m, NULL, 0);
        assert_int_equal(th_count_op(opt, "FusedConv", NULL), 1);
        const th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 4, yd, x),
                                 th_in("z", ONNORM_FLOAT, 4, yd, z)};
        onnorm_session_options o = th_options(1, 0);
        th_run ref, got;
        TH_OK(&ref, th_run_loaded(&ref, m, &o, 2, in));
        TH_OK(&got, th_run_loaded(&got, opt, &o, 2, in));
        th_expect_same_output(&ref, &got, "Y", 1e-6, 1e-5, 0);
        th_free(&ref), th_free(&got);
        onnorm_model_free(opt);
        onnorm_model_free(m);
    }
}

/* ---- fuse-norm ------------------------------------------------------------------- */

typedef enum norm_kind { N_BN, N_BN_TRAIN, N_IN, N_GN21, N_GN18 } norm_kind;

/* X [1, 4, 9, 9] -> norm -> activation (a Sigmoid + Mul pair for "SiLU"). */
static tb_model *norm_model(norm_kind k, const char *act)
{
    static const float sc[4] = {0.5f, 1.5f, -1.0f, 2.0f}, bi[4] = {0.1f, -0.2f, 0.3f, 0.0f},
                       mean[4] = {0.2f, -0.1f, 0.0f, 0.5f}, var[4] = {1.0f, 0.5f, 2.0f, 0.25f};
    tb_model *b = tb_new(k == N_GN18 ? 18 : k == N_GN21 ? 21 : 15);
    tb_input(b, "X", ONNORM_FLOAT, 4, yd);
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){4}, sc);
    tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){4}, bi);
    if (k == N_BN || k == N_BN_TRAIN) {
        tb_init(b, "m", ONNORM_FLOAT, 1, (int64_t[]){4}, mean);
        tb_init(b, "v", ONNORM_FLOAT, 1, (int64_t[]){4}, var);
        tb_node *n =
            tb_node_add(b, "BatchNormalization", "norm", 5,
                        (const char *[]){"X", "s", "b", "m", "v"}, 1, (const char *[]){"n"});
        if (k == N_BN_TRAIN) tb_attr_int(n, "training_mode", 1);
    } else if (k == N_IN) {
        tb_node_add(b, "InstanceNormalization", "norm", 3, (const char *[]){"X", "s", "b"}, 1,
                    (const char *[]){"n"});
    } else {
        const float g2[2] = {0.5f, 1.5f}, b2[2] = {0.1f, -0.2f};
        if (k == N_GN18) {
            tb_init(b, "s2", ONNORM_FLOAT, 1, (int64_t[]){2}, g2);
            tb_init(b, "b2", ONNORM_FLOAT, 1, (int64_t[]){2}, b2);
        }
        tb_node *n =
            tb_node_add(b, "GroupNormalization", "norm", 3,
                        (const char *[]){"X", k == N_GN18 ? "s2" : "s", k == N_GN18 ? "b2" : "b"},
                        1, (const char *[]){"n"});
        tb_attr_int(n, "num_groups", 2);
    }
    if (!strcmp(act, "SiLU")) {
        tb_node_add(b, "Sigmoid", "sig", 1, (const char *[]){"n"}, 1, (const char *[]){"g"});
        tb_node_add(b, "Mul", "mul", 2, (const char *[]){"g", "n"}, 1, (const char *[]){"Y"});
    } else {
        tb_node *a = tb_node_add(b, act, "act", 1, (const char *[]){"n"}, 1, (const char *[]){"Y"});
        if (!strcmp(act, "LeakyRelu")) tb_attr_float(a, "alpha", 0.2f);
    }
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

static void check_norm(norm_kind k, const char *act, bool fused, const char *note)
{
    onnorm_model *m = th_load(norm_model(k, act));
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    const int want_nodes = fused ? 1 : !strcmp(act, "SiLU") ? 3 : 2;
    if (onnorm_model_node_count(opt) != want_nodes)
        fail_msg("norm %d + %s: %d nodes, want %d\n%s", (int)k, act, onnorm_model_node_count(opt),
                 want_nodes, report);
    if (note && !strstr(report, note)) fail_msg("the report lacks '%s':\n%s", note, report);
    static float x[YN];
    for (int i = 0; i < YN; i++)
        x[i] = sinf(0.29f * (float)i) * 2.0f + 0.3f;
    x[17] = NAN; /* a NaN stays NaN through the fused activation, as through the operator */
    const th_tensor in = th_in("X", ONNORM_FLOAT, 4, yd, x);
    onnorm_session_options o = th_options(1, 0);
    th_run ref, got;
    TH_OK(&ref, th_run_loaded(&ref, m, &o, 1, &in));
    TH_OK(&got, th_run_loaded(&got, opt, &o, 1, &in));
    th_expect_same_output(&ref, &got, "Y", 1e-6, 1e-5, TH_NAN_EQUAL);
    th_free(&ref), th_free(&got);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void norms_fuse_their_activation(void **state)
{
    (void)state;
    check_norm(N_BN, "Relu", true, NULL);
    check_norm(N_BN, "LeakyRelu", true, NULL);
    check_norm(N_IN, "Relu", true, NULL);
    check_norm(N_IN, "HardSwish", true, NULL);
    check_norm(N_GN21, "SiLU", true, NULL);
    check_norm(N_GN21, "Tanh", true, NULL);
    check_norm(N_BN_TRAIN, "Relu", false, "not an inference BatchNormalization");
    check_norm(N_GN18, "Relu", false, "per-group scale has no fused form");
}

/* ---- fold-pad ---------------------------------------------------------------------- */

typedef enum pad_kind { P_AVG, P_CONV, P_OLD_ATTR, P_REFLECT, P_CHANNEL, P_VALUE } pad_kind;

/* X [1, 4, 9, 9] -> Pad -> AveragePool 3x3 or Conv 3x3 (pads 1 of its own). */
static tb_model *pad_model(pad_kind k)
{
    tb_model *b = tb_new(k == P_OLD_ATTR ? 7 : 13);
    tb_input(b, "X", ONNORM_FLOAT, 4, yd);
    const int64_t pads[8] = {0, k == P_CHANNEL ? 1 : 0, 1, 2, 0, 0, 2, 1};
    tb_node *p;
    if (k == P_OLD_ATTR) {
        p = tb_node_add(b, "Pad", "pad", 1, (const char *[]){"X"}, 1, (const char *[]){"p"});
        tb_attr_ints(p, "pads", 8, pads);
    } else {
        const float value = k == P_VALUE ? 1.0f : 0.0f;
        tb_init(b, "pads", ONNORM_INT64, 1, (int64_t[]){8}, pads);
        tb_init(b, "value", ONNORM_FLOAT, 0, NULL, &value);
        p = tb_node_add(b, "Pad", "pad", 3, (const char *[]){"X", "pads", "value"}, 1,
                        (const char *[]){"p"});
    }
    if (k == P_REFLECT) tb_attr_string(p, "mode", "reflect");
    if (k == P_CONV) {
        float w[4 * 4 * 9];
        for (int i = 0; i < 144; i++)
            w[i] = (float)(i % 7 - 3) * 0.1f;
        tb_init(b, "w", ONNORM_FLOAT, 4, (int64_t[]){4, 4, 3, 3}, w);
        tb_node *c =
            tb_node_add(b, "Conv", "conv", 2, (const char *[]){"p", "w"}, 1, (const char *[]){"Y"});
        tb_attr_ints(c, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    } else {
        tb_node *a = tb_node_add(b, "AveragePool", "avg", 1, (const char *[]){"p"}, 1,
                                 (const char *[]){"Y"});
        tb_attr_ints(a, "kernel_shape", 2, (const int64_t[]){3, 3});
    }
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

static void check_pad(pad_kind k, bool folded, const char *note)
{
    onnorm_model *m = th_load(pad_model(k));
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    if (th_count_op(opt, "Pad", NULL) != (folded ? 0 : 1))
        fail_msg("pad case %d: %d Pad left\n%s", (int)k, th_count_op(opt, "Pad", NULL), report);
    if (note && !strstr(report, note)) fail_msg("the report lacks '%s':\n%s", note, report);
    static float x[YN];
    for (int i = 0; i < YN; i++)
        x[i] = cosf(0.23f * (float)i) * 2.0f;
    const th_tensor in = th_in("X", ONNORM_FLOAT, 4, yd, x);
    onnorm_session_options o = th_options(1, 0);
    th_run ref, got;
    TH_OK(&ref, th_run_loaded(&ref, m, &o, 1, &in));
    TH_OK(&got, th_run_loaded(&got, opt, &o, 1, &in));
    th_expect_same_output(&ref, &got, "Y", 1e-6, 1e-5, 0);
    th_free(&ref), th_free(&got);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void zero_pads_fold_into_the_next_node(void **state)
{
    (void)state;
    check_pad(P_AVG, true, NULL);
    check_pad(P_CONV, true, NULL);
    check_pad(P_OLD_ATTR, true, NULL);
    check_pad(P_REFLECT, false, "not constant-mode");
    check_pad(P_CHANNEL, false, "pads the batch or channel axis");
    check_pad(P_VALUE, false, "value is not a constant 0");
}

/* Disabling the pass leaves every Conv. */
static void the_pass_can_be_switched_off(void **state)
{
    (void)state;
    th_expect_pass_off(th_load(build(T_ADD_RELU)), "fuse-conv", "FusedConv", "Conv", 1);
}

/* ---- fuse-expand-dw --------------------------------------------------------------- */

typedef enum xdw_kind {
    X_CLIP_RELU, /* 1x1 -> Clip(0, 6) -> depthwise 3x3 s2 pad 1 -> Relu */
    X_SILU_5X5,  /* 1x1 (no bias) -> Sigmoid*Mul -> depthwise 5x5 s2 pad 2, no bias, no act */
    X_ODD,       /* batch 2, strides (2, 3), dilations 2, asymmetric pads, no activations */
    X_STRIDE1,   /* depthwise at stride 1: stays */
    X_TWO_USERS, /* the expansion's output also read by a Relu: stays */
    X_SMALL,     /* the expanded tensor under 2^17 floats: stays */
    X_RESIDUAL,  /* the depthwise output plus Z: stays */
} xdw_kind;

/* X [n, 5, h, h] -> 1x1 Conv to 21 channels -> act -> depthwise Conv -> act. */
static tb_model *xdw_model(xdw_kind k, int64_t *xdims, int64_t *zdims)
{
    const int64_t n = k == X_ODD ? 2 : 1, h = k == X_SMALL ? 40 : 80, e = 21;
    const int64_t kk = k == X_SILU_5X5 ? 5 : 3, taps = kk * kk;
    static float w1[21 * 5], b1[21], w2[21 * 25], b2[21];
    for (int i = 0; i < 21 * 5; i++)
        w1[i] = (float)((i * 29) % 23 - 11) * 0.04f;
    for (int i = 0; i < 21 * 25; i++)
        w2[i] = (float)((i * 13) % 19 - 9) * 0.05f;
    for (int i = 0; i < 21; i++)
        b1[i] = 0.07f * (float)(i - 10), b2[i] = 0.03f * (float)(5 - i);
    const int64_t xd4[4] = {n, 5, h, h};
    memcpy(xdims, xd4, sizeof xd4);
    tb_model *b = tb_new(14);
    tb_input(b, "X", ONNORM_FLOAT, 4, xdims);
    tb_init(b, "w1", ONNORM_FLOAT, 4, (int64_t[]){e, 5, 1, 1}, w1);
    tb_init(b, "b1", ONNORM_FLOAT, 1, (int64_t[]){e}, b1);
    tb_init(b, "w2", ONNORM_FLOAT, 4, (int64_t[]){e, 1, kk, kk}, w2);
    tb_init(b, "b2", ONNORM_FLOAT, 1, (int64_t[]){e}, b2);
    (void)taps;
    const bool bias = k != X_SILU_5X5;
    tb_node_add(b, "Conv", "expand", bias ? 3 : 2, (const char *[]){"X", "w1", "b1"}, 1,
                (const char *[]){"t"});
    const char *tin = "t";
    if (k == X_CLIP_RELU || k == X_STRIDE1 || k == X_TWO_USERS || k == X_SMALL || k == X_RESIDUAL) {
        const float lo = 0.0f, hi = 6.0f;
        tb_init(b, "lo", ONNORM_FLOAT, 0, NULL, &lo);
        tb_init(b, "hi", ONNORM_FLOAT, 0, NULL, &hi);
        tb_node_add(b, "Clip", "clip", 3, (const char *[]){"t", "lo", "hi"}, 1,
                    (const char *[]){"ta"});
        tin = "ta";
    } else if (k == X_SILU_5X5) {
        tb_node_add(b, "Sigmoid", "sig", 1, (const char *[]){"t"}, 1, (const char *[]){"ts"});
        tb_node_add(b, "Mul", "mul", 2, (const char *[]){"t", "ts"}, 1, (const char *[]){"ta"});
        tin = "ta";
    }
    tb_node *dw = tb_node_add(b, "Conv", "dw", bias ? 3 : 2, (const char *[]){tin, "w2", "b2"}, 1,
                              (const char *[]){k == X_CLIP_RELU || k == X_RESIDUAL ? "d" : "Y"});
    tb_attr_int(dw, "group", e);
    if (k == X_ODD) {
        tb_attr_ints(dw, "strides", 2, (const int64_t[]){2, 3});
        tb_attr_ints(dw, "dilations", 2, (const int64_t[]){2, 2});
        tb_attr_ints(dw, "pads", 4, (const int64_t[]){0, 3, 2, 1});
    } else {
        if (k != X_STRIDE1) tb_attr_ints(dw, "strides", 2, (const int64_t[]){2, 2});
        tb_attr_ints(dw, "pads", 4, (const int64_t[]){kk / 2, kk / 2, kk / 2, kk / 2});
    }
    const int64_t oh = k == X_STRIDE1 ? h : (h + 2 * (kk / 2) - kk) / 2 + 1;
    const int64_t zd4[4] = {n, e, oh, oh};
    memcpy(zdims, zd4, sizeof zd4);
    if (k == X_CLIP_RELU)
        tb_node_add(b, "Relu", "relu", 1, (const char *[]){"d"}, 1, (const char *[]){"Y"});
    if (k == X_RESIDUAL) {
        tb_input(b, "Z", ONNORM_FLOAT, 4, zdims);
        tb_node_add(b, "Add", "add", 2, (const char *[]){"d", "Z"}, 1, (const char *[]){"Y"});
    }
    if (k == X_TWO_USERS) {
        tb_node_add(b, "Relu", "relu2", 1, (const char *[]){tin}, 1, (const char *[]){"Y2"});
        tb_output(b, "Y2", ONNORM_FLOAT);
    }
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

/* Fused or not as `fused` says (the reason in the report if given); the
 * optimized model at 1 and 3 threads against the original unoptimized
 * (the separate Conv kernels and activations). */
static void check_xdw(xdw_kind k, bool fused, const char *note)
{
    int64_t xdims[4], zdims[4];
    onnorm_model *m = th_load(xdw_model(k, xdims, zdims));
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    if (th_count_op(opt, "ExpandDepthwise", NULL) != (fused ? 1 : 0))
        fail_msg("case %d: %d ExpandDepthwise, want %d\n%s", (int)k,
                 th_count_op(opt, "ExpandDepthwise", NULL), fused ? 1 : 0, report);
    if (note && !strstr(report, note))
        fail_msg("case %d: the report lacks '%s':\n%s", (int)k, note, report);
    const int64_t nx = xdims[0] * xdims[1] * xdims[2] * xdims[3];
    const int64_t nz = zdims[0] * zdims[1] * zdims[2] * zdims[3];
    float *x = malloc((size_t)nx * sizeof *x), *z = malloc((size_t)nz * sizeof *z);
    assert_non_null(x), assert_non_null(z);
    for (int64_t i = 0; i < nx; i++)
        x[i] = sinf(0.017f * (float)i) * 2.5f + 0.3f * cosf(0.31f * (float)i);
    for (int64_t i = 0; i < nz; i++)
        z[i] = cosf(0.05f * (float)i);
    const th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 4, xdims, x),
                             th_in("Z", ONNORM_FLOAT, 4, zdims, z)};
    const int n_in = k == X_RESIDUAL ? 2 : 1;
    onnorm_session_options o0 = th_options(1, 0);
    th_run ref;
    TH_OK(&ref, th_run_loaded(&ref, m, &o0, n_in, in));
    for (int threads = 1; threads <= 3; threads += 2) {
        onnorm_session_options o = th_options(threads, 0);
        th_run got;
        TH_OK(&got, th_run_loaded(&got, opt, &o, n_in, in));
        th_expect_same_output(&ref, &got, "Y", 1e-5, 1e-5, 0);
        th_free(&got);
    }
    th_free(&ref);
    free(x), free(z);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void expansion_and_depthwise_fuse(void **state)
{
    (void)state;
    check_xdw(X_CLIP_RELU, true, NULL);
    check_xdw(X_SILU_5X5, true, NULL);
    check_xdw(X_ODD, true, NULL);
}

static void expansion_near_misses_stay(void **state)
{
    (void)state;
    check_xdw(X_STRIDE1, false, "the depthwise stride is 1");
    check_xdw(X_TWO_USERS, false, "also read elsewhere");
    check_xdw(X_SMALL, false, "stays in cache");
    check_xdw(X_RESIDUAL, false, "adds a residual");
}

static void expand_dw_can_be_switched_off(void **state)
{
    (void)state;
    int64_t xdims[4], zdims[4];
    th_expect_pass_off(th_load(xdw_model(X_CLIP_RELU, xdims, zdims)), "fuse-expand-dw",
                       "ExpandDepthwise", "FusedConv", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(activations_fuse),
        cmocka_unit_test(residual_add_fuses_with_its_activation),
        cmocka_unit_test(near_misses_stay),
        cmocka_unit_test(depthwise_fuses),
        cmocka_unit_test(norms_fuse_their_activation),
        cmocka_unit_test(zero_pads_fold_into_the_next_node),
        cmocka_unit_test(the_pass_can_be_switched_off),
        cmocka_unit_test(expansion_and_depthwise_fuse),
        cmocka_unit_test(expansion_near_misses_stay),
        cmocka_unit_test(expand_dw_can_be_switched_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
