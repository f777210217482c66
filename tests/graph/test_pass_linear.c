/*
 * fuse-linear (graph/pass_fuse.c) and the ai.onnorm Linear kernel it writes
 * (ops/core/gemm.c).
 *
 * The kernel against a float64 reference written here: Y = act(A W + b) for
 * every activation it takes (FusedConv's eight and both Gelu forms), with
 * and without a bias, constant weights (the packed engine, rows from 1 to
 * 130, k past a cache block) and weights fed at run (OpenBLAS), on 1 and 3
 * threads; and its shape errors.
 *
 * The pass: MatMul -> Add(bias) -> activation chains become one Linear
 * whose outputs equal the unfused graph's; near-misses (a bias that is not
 * one value per column, the product read twice, run-time weights) stay as
 * they are, with the reason in the report where there is one; the pass can
 * be switched off.
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

#include "builder.h"
#include "harness.h"

/* ---- the kernel ----------------------------------------------------------------------- */

typedef enum act {
    A_NONE,
    A_RELU,
    A_CLIP,
    A_LEAKY,
    A_HSIG,
    A_HSWISH,
    A_SIGMOID,
    A_SILU,
    A_TANH,
    A_GELU,
    A_GELU_TANH,
    A_COUNT
} act;

static const char *const act_names[A_COUNT] = {NULL,          "Relu",      "Clip",    "LeakyRelu",
                                               "HardSigmoid", "HardSwish", "Sigmoid", "SiLU",
                                               "Tanh",        "Gelu",      "Gelu"};

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* The activation in double, with the parameters linear_model gives it. */
static double act_ref(act a, double x)
{
    switch (a) {
    case A_RELU: return x < 0 ? 0 : x;
    case A_CLIP: return x < -0.5 ? -0.5 : x > 0.75 ? 0.75 : x;
    case A_LEAKY: return x >= 0 ? x : 0.1 * x;
    case A_HSIG: return clamp01(0.2 * x + 0.5);
    case A_HSWISH: return x * clamp01(x / 6 + 0.5);
    case A_SIGMOID: return 1 / (1 + exp(-x));
    case A_SILU: return x / (1 + exp(-x));
    case A_TANH: return tanh(x);
    case A_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case A_GELU_TANH:
        return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    default: return x;
    }
}

/* Linear(A [rows, k] (as a_rank dims), W [k, n], bias [n]?) with act. */
static void run_linear(int a_rank, const int64_t *ad, int64_t k, int64_t n, bool bias, act a,
                       bool const_w, int threads)
{
    int64_t rows = 1;
    for (int i = 0; i < a_rank - 1; i++)
        rows *= ad[i];
    float *x = th_randf(31, rows * k), *w = th_randf(32, k * n), *b = th_randf(33, n);
    for (int64_t i = 0; i < rows * k; i++)
        x[i] *= 2.0f; /* reach the activations' bends */
    double *ref = th_dalloc(rows * n);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n; j++) {
            double s = bias ? b[j] : 0.0;
            for (int64_t p = 0; p < k; p++)
                s += (double)x[r * k + p] * w[p * n + j];
            ref[r * n + j] = act_ref(a, s);
        }
    th_run run;
    const int64_t wd[2] = {k, n};
    const th_tensor in[3] = {th_in("A", ONNORM_FLOAT, a_rank, ad, x),
                             const_w ? th_const("W", ONNORM_FLOAT, 2, wd, w)
                                     : th_in("W", ONNORM_FLOAT, 2, wd, w),
                             th_const("bias", ONNORM_FLOAT, 1, &n, b)};
    tb_node *nd;
    tb_model *m = th_node_model(&run, 17, "Linear", bias ? 3 : 2, in, ONNORM_FLOAT, &nd);
    tb_node_domain(nd, "ai.onnorm");
    tb_opset(m, "ai.onnorm", 1);
    if (act_names[a]) tb_attr_string(nd, "activation", act_names[a]);
    if (a == A_GELU_TANH) tb_attr_string(nd, "approximate", "tanh");
    if (a == A_CLIP) tb_attr_floats(nd, "activation_params", 2, (const float[]){-0.5f, 0.75f});
    if (a == A_LEAKY) tb_attr_floats(nd, "activation_params", 1, (const float[]){0.1f});
    th_ok(&run, th_go(&run, m, threads), "Linear");
    int64_t yd[8];
    memcpy(yd, ad, (size_t)a_rank * sizeof *yd);
    yd[a_rank - 1] = n;
    th_expect_output(&run, "Linear", "Y", ONNORM_FLOAT, a_rank, yd, ref, 2e-5);
    th_free(&run);
    free(x), free(w), free(b), free(ref);
}

static void kernel_activations(void **state)
{
    (void)state;
    for (int a = 0; a < A_COUNT; a++)
        for (int cw = 0; cw < 2; cw++) {
            run_linear(3, (int64_t[]){2, 13, 40}, 40, 37, true, (act)a, cw, 1);
            run_linear(2, (int64_t[]){7, 24}, 24, 16, a % 2 == 0, (act)a, cw, 3);
        }
}

static void kernel_shapes(void **state)
{
    (void)state;
    for (int t = 1; t <= 3; t += 2) {
        run_linear(2, (int64_t[]){130, 300}, 300, 70, true, A_GELU, true, t); /* k over a block */
        run_linear(2, (int64_t[]){1, 50}, 50, 20, true, A_RELU, true, t); /* one row: OpenBLAS */
        run_linear(1, (int64_t[]){50}, 50, 20, true, A_NONE, true, t);    /* 1-D A */
        run_linear(4, (int64_t[]){2, 3, 4, 9}, 9, 3, false, A_SILU, true, t);
        run_linear(2, (int64_t[]){0, 9}, 9, 5, true, A_RELU, true, t); /* no rows */
    }
}

static void kernel_errors(void **state)
{
    (void)state;
    static float data[64];
    struct {
        int64_t wd[2], bd[2];
        int b_rank;
        const char *needle;
    } cases[] = {
        {{5, 4}, {4, 0}, 1, "B must be 2-D [K, N]"},   /* K 5 against A's 6 */
        {{6, 4}, {3, 0}, 1, "must hold N = 4 values"}, /* bias of 3 */
        {{6, 4}, {2, 4}, 2, "must hold N = 4 values"}, /* bias per row too */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        th_run r;
        const th_tensor in[3] = {
            th_in("A", ONNORM_FLOAT, 2, (int64_t[]){2, 6}, data),
            th_const("W", ONNORM_FLOAT, 2, cases[i].wd, data),
            th_const("bias", ONNORM_FLOAT, cases[i].b_rank, cases[i].bd, data)};
        tb_node *nd;
        tb_model *m = th_node_model(&r, 17, "Linear", 3, in, ONNORM_FLOAT, &nd);
        tb_node_domain(nd, "ai.onnorm");
        tb_opset(m, "ai.onnorm", 1);
        th_go_fails(&r, m, 1, ONNORM_ERR_SHAPE, cases[i].needle);
    }
}

/* ---- the pass ------------------------------------------------------------------------- */

typedef enum chain {
    C_BIAS_GELU,      /* MatMul -> Add(bias [N]) -> Gelu (ai.onnx Gelu-20) */
    C_BIAS_GELU_TANH, /* ... Gelu approximate=tanh */
    C_BIAS_RELU,      /* MatMul -> Add(bias [1, N]) -> Relu */
    C_BIAS_ONLY,      /* MatMul -> Add(bias [1, 1, N]) */
    C_RELU_ONLY,      /* MatMul -> Relu */
    C_BIAS_CLIP,      /* MatMul -> Add -> Clip(0, 6) with constant bounds */
    C_ROW_BIAS,       /* Add of a [5, N] constant: not a column bias, stays */
    C_SHARED,         /* the product is also a graph output: stays */
    C_RUNTIME_W,      /* W is a graph input: stays */
} chain;

#define XD                                                                                         \
    {                                                                                              \
        2, 5, 8                                                                                    \
    }
#define NN 12

static tb_model *chain_model(chain c)
{
    tb_model *b = tb_new(20);
    const int64_t xd[3] = XD, wd[2] = {8, NN};
    static float w[8 * NN], bias[5 * NN], lo = 0.0f, hi = 6.0f;
    for (int i = 0; i < 8 * NN; i++)
        w[i] = sinf(0.7f * (float)i) * 0.5f;
    for (int i = 0; i < 5 * NN; i++)
        bias[i] = cosf(0.3f * (float)i);
    tb_input(b, "X", ONNORM_FLOAT, 3, xd);
    if (c == C_RUNTIME_W)
        tb_input(b, "W", ONNORM_FLOAT, 2, wd);
    else
        tb_init(b, "W", ONNORM_FLOAT, 2, wd, w);
    const int64_t bd1[1] = {NN}, bd2[2] = {1, NN}, bd3[3] = {1, 1, NN}, bdr[2] = {5, NN};
    if (c == C_BIAS_RELU)
        tb_init(b, "bias", ONNORM_FLOAT, 2, bd2, bias);
    else if (c == C_BIAS_ONLY)
        tb_init(b, "bias", ONNORM_FLOAT, 3, bd3, bias);
    else if (c == C_ROW_BIAS)
        tb_init(b, "bias", ONNORM_FLOAT, 2, bdr, bias);
    else
        tb_init(b, "bias", ONNORM_FLOAT, 1, bd1, bias);
    tb_init(b, "lo", ONNORM_FLOAT, 0, NULL, &lo);
    tb_init(b, "hi", ONNORM_FLOAT, 0, NULL, &hi);
    tb_node_add(b, "MatMul", "mm", 2, (const char *[]){"X", "W"}, 1, (const char *[]){"p"});
    const char *last = "p";
    if (c != C_RELU_ONLY) {
        tb_node_add(b, "Add", "add", 2, (const char *[]){"p", "bias"}, 1, (const char *[]){"s"});
        last = "s";
    }
    if (c == C_BIAS_GELU || c == C_BIAS_GELU_TANH) {
        tb_node *g =
            tb_node_add(b, "Gelu", "gelu", 1, (const char *[]){last}, 1, (const char *[]){"Y"});
        if (c == C_BIAS_GELU_TANH) tb_attr_string(g, "approximate", "tanh");
        last = "Y";
    } else if (c == C_BIAS_RELU || c == C_RELU_ONLY || c == C_SHARED || c == C_RUNTIME_W ||
               c == C_ROW_BIAS) {
        tb_node_add(b, "Relu", "relu", 1, (const char *[]){last}, 1, (const char *[]){"Y"});
        last = "Y";
    } else if (c == C_BIAS_CLIP) {
        tb_node_add(b, "Clip", "clip", 3, (const char *[]){last, "lo", "hi"}, 1,
                    (const char *[]){"Y"});
        last = "Y";
    }
    tb_output(b, last, ONNORM_FLOAT);
    if (c == C_SHARED) tb_output(b, "p", ONNORM_FLOAT);
    return b;
}

static void run_chain(th_run *r, const onnorm_model *m)
{
    static float x[2 * 5 * 8];
    for (int i = 0; i < 80; i++)
        x[i] = sinf(0.37f * (float)i) * 3.0f;
    static float w[8 * NN];
    for (int i = 0; i < 8 * NN; i++)
        w[i] = sinf(0.7f * (float)i) * 0.5f;
    const int64_t xd[3] = XD, wd[2] = {8, NN};
    const th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 3, xd, x),
                             th_in("W", ONNORM_FLOAT, 2, wd, w)};
    onnorm_session_options o = th_options(2, 0);
    TH_OK(r, th_run_loaded(r, m, &o, onnorm_model_input_count(m), in));
}

static void check_chain(chain c, int linears, int nodes, const char *note)
{
    onnorm_model *m = th_load(chain_model(c));
    char label[32];
    snprintf(label, sizeof label, "chain %d", (int)c);
    onnorm_model *opt = th_expect_fusion(m, "Linear", linears, nodes, note, label);
    th_run want, have;
    run_chain(&want, m);
    run_chain(&have, opt);
    th_expect_same_outputs(&want, &have, 1e-6, 1e-5, 0);
    th_free(&want), th_free(&have);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void chains_fuse(void **state)
{
    (void)state;
    for (chain c = C_BIAS_GELU; c <= C_BIAS_CLIP; c++)
        check_chain(c, 1, 1, "fuse-linear     1 rewritten");
}

static void near_misses_stay(void **state)
{
    (void)state;
    /* The Relu alone still fuses after the row-shaped Add; the Add stays. */
    check_chain(C_ROW_BIAS, 0, 3, "not a float32 constant of N values along the last axis");
    check_chain(C_SHARED, 0, 3, NULL);
    check_chain(C_RUNTIME_W, 0, 3, NULL);
}

/* A 1-D A gives a 1-D product; Add of a [1, N] bias makes it [1, N], a
 * shape Linear would not produce: the Add stays. */
static void bias_that_grows_the_rank_stays(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    static float w[8 * NN], bias[NN];
    for (int i = 0; i < 8 * NN; i++)
        w[i] = sinf(0.7f * (float)i) * 0.5f;
    for (int i = 0; i < NN; i++)
        bias[i] = cosf(0.3f * (float)i);
    tb_input(b, "X", ONNORM_FLOAT, 1, (int64_t[]){8});
    tb_init(b, "W", ONNORM_FLOAT, 2, (int64_t[]){8, NN}, w);
    tb_init(b, "bias", ONNORM_FLOAT, 2, (int64_t[]){1, NN}, bias);
    tb_node_add(b, "MatMul", "mm", 2, (const char *[]){"X", "W"}, 1, (const char *[]){"p"});
    tb_node_add(b, "Add", "add", 2, (const char *[]){"p", "bias"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    onnorm_model *m = th_load(b);
    char report[4096];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    if (th_count_op(opt, "Linear", NULL) != 0 || onnorm_model_node_count(opt) != 2 ||
        !strstr(report, "not a float32 constant of N values along the last axis"))
        fail_msg("the [1, N] bias of a 1-D product fused:\n%s", report);
    float x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (float)i - 3.5f;
    th_run want, have;
    const th_tensor in = th_in("X", ONNORM_FLOAT, 1, (int64_t[]){8}, x);
    onnorm_session_options o = th_options(1, 0);
    TH_OK(&want, th_run_loaded(&want, m, &o, 1, &in));
    TH_OK(&have, th_run_loaded(&have, opt, &o, 1, &in));
    th_expect_same_outputs(&want, &have, 0, 0, TH_BITWISE);
    th_free(&want), th_free(&have);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void the_pass_can_be_switched_off(void **state)
{
    (void)state;
    th_expect_pass_off(th_load(chain_model(C_BIAS_GELU)), "fuse-linear", "Linear", "MatMul", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_activations),
        cmocka_unit_test(kernel_shapes),
        cmocka_unit_test(kernel_errors),
        cmocka_unit_test(chains_fuse),
        cmocka_unit_test(near_misses_stay),
        cmocka_unit_test(the_pass_can_be_switched_off),
        cmocka_unit_test(bias_that_grows_the_rank_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
