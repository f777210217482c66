/*
 * The fold-batchnorm and fold-affine passes (graph/pass_batchnorm.c).
 *
 * Every case builds a model, optimizes it with onnorm_model_optimize(),
 * checks the node counts and the pass report, and then runs the original
 * model (optimization level 0) and the optimized one on the same random
 * inputs: the outputs must agree to rtol 1e-5 (atol 1e-5). The original is
 * run again after the optimization and must give bit-identical results, so
 * a pass that wrote into a borrowed weight would be caught.
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

#define RTOL 1e-5
#define ATOL 1e-5
#define MAX_IO 8

/* ---- deterministic data --------------------------------------------------- */

static uint32_t rng_state = 12345u;

static float rnd(float lo, float hi)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(rng_state >> 8) / (float)(1u << 24);
}

static int64_t numel(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

/* A float32 initializer of uniform values in [lo, hi]. */
static void init_rnd(tb_model *b, const char *name, int rank, const int64_t *dims, float lo,
                     float hi)
{
    int64_t n = numel(rank, dims);
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = rnd(lo, hi);
    tb_init(b, name, ONNORM_FLOAT, rank, dims, v);
    free(v);
}

/* The four BatchNormalization parameters "<p>.scale", ".bias", ".mean", ".var". */
static void bn_params(tb_model *b, const char *p, int64_t c)
{
    char name[64];
    const int64_t dims[1] = {c};
    snprintf(name, sizeof name, "%s.scale", p), init_rnd(b, name, 1, dims, 0.5f, 1.5f);
    snprintf(name, sizeof name, "%s.bias", p), init_rnd(b, name, 1, dims, -1.0f, 1.0f);
    snprintf(name, sizeof name, "%s.mean", p), init_rnd(b, name, 1, dims, -0.5f, 0.5f);
    snprintf(name, sizeof name, "%s.var", p), init_rnd(b, name, 1, dims, 0.3f, 2.0f);
}

/* BatchNormalization p(x) -> y with parameters named after p. */
static tb_node *bn_node(tb_model *b, const char *p, const char *x, const char *y)
{
    char n[4][64];
    snprintf(n[0], 64, "%s.scale", p), snprintf(n[1], 64, "%s.bias", p);
    snprintf(n[2], 64, "%s.mean", p), snprintf(n[3], 64, "%s.var", p);
    tb_node *nd = tb_node_add(b, "BatchNormalization", p, 5,
                              (const char *[]){x, n[0], n[1], n[2], n[3]}, 1, (const char *[]){y});
    tb_attr_float(nd, "epsilon", 1e-3f);
    return nd;
}

/* ---- running and comparing ----------------------------------------------- */

/* Random data for every input the model needs, fixed by a seed. */
typedef struct inputs {
    int n;
    th_tensor t[MAX_IO];
    float *data[MAX_IO];
} inputs;

static void inputs_make(const onnorm_model *m, inputs *in)
{
    in->n = onnorm_model_input_count(m);
    assert_true(in->n <= MAX_IO);
    for (int i = 0; i < in->n; i++) {
        onnorm_tensor info;
        assert_int_equal(onnorm_model_input_info(m, i, &info), ONNORM_OK);
        assert_int_equal(info.dtype, ONNORM_FLOAT);
        int64_t n = numel(info.rank, info.dims);
        assert_true(n > 0);
        in->data[i] = malloc((size_t)n * sizeof(float));
        assert_non_null(in->data[i]);
        for (int64_t k = 0; k < n; k++)
            in->data[i][k] = rnd(-1.0f, 1.0f);
        in->t[i] =
            th_in(onnorm_model_input_name(m, i), ONNORM_FLOAT, info.rank, info.dims, in->data[i]);
    }
}

static void inputs_free(inputs *in)
{
    for (int i = 0; i < in->n; i++)
        free(in->data[i]);
}

/* Runs m without graph rewrites; every output is float32. */
static void run(th_run *r, const onnorm_model *m, const inputs *in)
{
    const onnorm_session_options o = th_options(0, 0);
    th_ok(r, th_run_loaded(r, m, &o, in->n, in->t), "run");
    for (int i = 0; i < onnorm_model_output_count(m); i++)
        assert_int_equal(th_out(r, onnorm_model_output_name(m, i)).dtype, ONNORM_FLOAT);
}

/* "pass <name>  N rewritten, K left alone" of the first such line. */
static void pass_counts(const char *report, const char *pass, int *rewritten, int *left)
{
    char key[64];
    snprintf(key, sizeof key, "pass %s ", pass);
    const char *p = strstr(report, key);
    if (!p) fail_msg("no line for pass %s in:\n%s", pass, report);
    p += strlen(key);
    if (sscanf(p, " %d rewritten, %d left alone", rewritten, left) != 2)
        fail_msg("cannot read the counts of pass %s in:\n%s", pass, report);
}

typedef struct expect {
    int before, after;       /* node counts */
    int bn_folds, bn_left;   /* fold-batchnorm counts */
    int aff_folds, aff_left; /* fold-affine counts */
    const char *note;        /* a substring the report must hold, or NULL */
} expect;

/* Loads b (and frees it), optimizes, checks x and compares the runs. */
static void check(tb_model *b, const expect *x)
{
    onnorm_model *m = th_load(b);
    assert_int_equal(onnorm_model_node_count(m), x->before);
    inputs in;
    th_run ref, again, got;
    inputs_make(m, &in);
    run(&ref, m, &in);
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    if (getenv("ONNORM_TEST_VERBOSE")) printf("%s", report);
    int folds, left;
    pass_counts(report, "fold-batchnorm", &folds, &left);
    if (folds != x->bn_folds || left != x->bn_left)
        fail_msg("fold-batchnorm: %d rewritten, %d left alone; want %d, %d\n%s", folds, left,
                 x->bn_folds, x->bn_left, report);
    pass_counts(report, "fold-affine", &folds, &left);
    if (folds != x->aff_folds || left != x->aff_left)
        fail_msg("fold-affine: %d rewritten, %d left alone; want %d, %d\n%s", folds, left,
                 x->aff_folds, x->aff_left, report);
    if (x->note && !strstr(report, x->note))
        fail_msg("the report lacks \"%s\":\n%s", x->note, report);
    assert_int_equal(onnorm_model_node_count(opt), x->after);
    run(&got, opt, &in);
    th_expect_same_outputs(&ref, &got, ATOL, RTOL, 0);
    run(&again, m, &in); /* the original's weights are untouched */
    th_expect_same_outputs(&ref, &again, 0, 0, TH_BITWISE);
    th_free(&ref), th_free(&again), th_free(&got);
    inputs_free(&in);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

/* ---- model builders ------------------------------------------------------ */

typedef struct conv_spec {
    int64_t opset;
    int nsp;         /* spatial axes: 1, 2 or 3 */
    int64_t n, c, m; /* batch, input and output channels */
    int64_t group;
    int64_t size, k; /* spatial extent and kernel size on every axis */
    bool bias;
    bool transposed; /* ConvTranspose: W is [C, M/group, k...] */
} conv_spec;

/* X -> Conv/ConvTranspose "conv" -> "c" (W "w", bias "b"). */
static tb_model *conv_model(const conv_spec *s, bool w_is_input)
{
    tb_model *b = tb_new(s->opset);
    int64_t xd[5] = {s->n, s->c}, wd[5], pads[6], strides[3];
    wd[0] = s->transposed ? s->c : s->m;
    wd[1] = s->transposed ? s->m / s->group : s->c / s->group;
    for (int i = 0; i < s->nsp; i++) {
        xd[2 + i] = s->size, wd[2 + i] = s->k;
        pads[i] = pads[s->nsp + i] = s->k / 2;
        strides[i] = s->transposed ? 2 : 1;
    }
    tb_input(b, "X", ONNORM_FLOAT, 2 + s->nsp, xd);
    if (w_is_input)
        tb_input(b, "w", ONNORM_FLOAT, 2 + s->nsp, wd);
    else
        init_rnd(b, "w", 2 + s->nsp, wd, -1.0f, 1.0f);
    if (s->bias) init_rnd(b, "b", 1, (int64_t[]){s->m}, -1.0f, 1.0f);
    tb_node *n = tb_node_add(b, s->transposed ? "ConvTranspose" : "Conv", "conv", s->bias ? 3 : 2,
                             (const char *[]){"X", "w", "b"}, 1, (const char *[]){"c"});
    tb_attr_int(n, "group", s->group);
    tb_attr_ints(n, "pads", 2 * s->nsp, pads);
    tb_attr_ints(n, "strides", s->nsp, strides);
    return b;
}

/* conv_model + BatchNormalization "bn" -> "Y" (a graph output). */
static tb_model *conv_bn_model(const conv_spec *s)
{
    tb_model *b = conv_model(s, false);
    bn_params(b, "bn", s->m);
    bn_node(b, "bn", "c", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

static const expect ONE_BN_FOLD = {2, 1, 1, 0, 0, 0, NULL};

/* ---- Conv + BatchNormalization ---------------------------------------------- */

static void conv_bn_2d_with_bias(void **state)
{
    (void)state;
    conv_spec s = {13, 2, 2, 4, 6, 1, 7, 3, true, false};
    check(conv_bn_model(&s), &ONE_BN_FOLD);
}

static void conv_bn_2d_without_bias(void **state)
{
    (void)state;
    conv_spec s = {13, 2, 1, 3, 5, 1, 6, 3, false, false};
    check(conv_bn_model(&s), &ONE_BN_FOLD);
}

static void conv_bn_groups(void **state)
{
    (void)state;
    conv_spec s = {13, 2, 1, 4, 6, 2, 5, 3, true, false};
    check(conv_bn_model(&s), &ONE_BN_FOLD);
}

static void conv_bn_depthwise(void **state)
{
    (void)state;
    conv_spec s = {13, 2, 2, 5, 5, 5, 6, 3, false, false};
    check(conv_bn_model(&s), &ONE_BN_FOLD);
}

static void conv_bn_1d(void **state)
{
    (void)state;
    conv_spec s = {15, 1, 2, 3, 5, 1, 10, 3, true, false};
    check(conv_bn_model(&s), &ONE_BN_FOLD);
}

static void conv_bn_3d(void **state)
{
    (void)state;
    conv_spec s = {9, 3, 1, 2, 4, 1, 5, 3, true, false};
    check(conv_bn_model(&s), &ONE_BN_FOLD);
}

/* Opset 6: is_test = 1 is inference and folds; is_test = 0 is training. */
static void conv_bn_opset6_is_test(void **state)
{
    (void)state;
    for (int is_test = 1; is_test >= 0; is_test--) {
        conv_spec s = {6, 2, 2, 3, 4, 1, 5, 3, true, false};
        tb_model *b = conv_model(&s, false);
        bn_params(b, "bn", s.m);
        tb_attr_int(bn_node(b, "bn", "c", "Y"), "is_test", is_test);
        tb_output(b, "Y", ONNORM_FLOAT);
        const expect folds = ONE_BN_FOLD, stays = {2, 2, 0, 1, 0, 0, "is_test is 0"};
        check(b, is_test ? &folds : &stays);
    }
}

/* Conv -> BN -> BN: the second folds into what the first made. */
static void conv_bn_bn_chain(void **state)
{
    (void)state;
    conv_spec s = {14, 2, 1, 3, 4, 1, 5, 3, true, false};
    tb_model *b = conv_model(&s, false);
    bn_params(b, "bn1", s.m), bn_params(b, "bn2", s.m);
    bn_node(b, "bn1", "c", "y1");
    bn_node(b, "bn2", "y1", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){3, 1, 2, 0, 0, 0, NULL});
}

/* ---- ConvTranspose + BatchNormalization --------------------------------------- */

static void convtranspose_bn_groups(void **state)
{
    (void)state;
    for (int bias = 0; bias < 2; bias++) {
        conv_spec s = {13, 2, 2, 4, 6, 2, 4, 3, bias != 0, true};
        check(conv_bn_model(&s), &ONE_BN_FOLD);
    }
    conv_spec s3 = {11, 3, 1, 6, 9, 3, 3, 3, true, true};
    check(conv_bn_model(&s3), &ONE_BN_FOLD);
}

/* ---- Gemm / MatMul + Add + BatchNormalization (BatchNorm1d) ------------------- */

/* A [5, 7] -> Gemm (B 7x6 or 6x7, C of c_rank dims or none) -> BN -> Y. */
static tb_model *gemm_bn_model(int64_t opset, int trans_b, int c_rank, float alpha, float beta)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "A", ONNORM_FLOAT, 2, (int64_t[]){5, 7});
    init_rnd(b, "B", 2, trans_b ? (int64_t[]){6, 7} : (int64_t[]){7, 6}, -1.0f, 1.0f);
    const int64_t cd[2] = {c_rank == 2 ? 5 : 6, 6};
    if (c_rank >= 1) init_rnd(b, "C", c_rank, c_rank == 2 ? cd : cd + 1, -1.0f, 1.0f);
    tb_node *n = tb_node_add(b, "Gemm", "fc", c_rank >= 1 ? 3 : 2, (const char *[]){"A", "B", "C"},
                             1, (const char *[]){"g"});
    tb_attr_int(n, "transB", trans_b);
    tb_attr_float(n, "alpha", alpha);
    tb_attr_float(n, "beta", beta);
    bn_params(b, "bn", 6);
    tb_node *bn = bn_node(b, "bn", "g", "Y");
    if (opset >= 14) tb_attr_int(bn, "training_mode", 0);
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

static void gemm_bn_trans_b0(void **state)
{
    (void)state;
    check(gemm_bn_model(14, 0, 1, 0.5f, 2.0f), &ONE_BN_FOLD);
}

static void gemm_bn_trans_b1(void **state)
{
    (void)state;
    check(gemm_bn_model(17, 1, 1, 1.5f, 0.25f), &ONE_BN_FOLD);
}

/* No C: one is created. A per-row C [5, 6] keeps its rows. */
static void gemm_bn_bias_forms(void **state)
{
    (void)state;
    check(gemm_bn_model(13, 1, 0, 2.0f, 3.0f), &ONE_BN_FOLD);
    check(gemm_bn_model(9, 0, 2, 1.0f, 0.5f), &ONE_BN_FOLD);
}

/* A [5, 7] -> MatMul (W [7, 6]) -> Add (bias, either side) -> BN -> Y. */
static void matmul_add_bn(void **state)
{
    (void)state;
    for (int bias_first = 0; bias_first < 2; bias_first++) {
        tb_model *b = tb_new(14);
        tb_input(b, "A", ONNORM_FLOAT, 2, (int64_t[]){5, 7});
        init_rnd(b, "W", 2, (int64_t[]){7, 6}, -1.0f, 1.0f);
        init_rnd(b, "bias", bias_first ? 2 : 1, bias_first ? (int64_t[]){1, 6} : (int64_t[]){6},
                 -1.0f, 1.0f);
        tb_node_add(b, "MatMul", "mm", 2, (const char *[]){"A", "W"}, 1, (const char *[]){"p"});
        tb_node_add(b, "Add", "add", 2,
                    bias_first ? (const char *[]){"bias", "p"} : (const char *[]){"p", "bias"}, 1,
                    (const char *[]){"q"});
        bn_params(b, "bn", 6);
        bn_node(b, "bn", "q", "Y");
        tb_output(b, "Y", ONNORM_FLOAT);
        /* BatchNormalization folds into W and the bias; fuse-linear then
         * makes MatMul + Add one Linear */
        check(b, &(expect){3, 1, 1, 0, 0, 0, NULL});
    }
}

/* ---- fold-affine ------------------------------------------------------------ */

/* Conv -> Mul [C,1,1] -> Add [1,C,1,1]: both fold into the Conv. */
static void conv_mul_add(void **state)
{
    (void)state;
    for (int bias = 0; bias < 2; bias++) {
        conv_spec s = {13, 2, 2, 3, 4, 1, 5, 3, bias != 0, false};
        tb_model *b = conv_model(&s, false);
        init_rnd(b, "s", 3, (int64_t[]){4, 1, 1}, -2.0f, 2.0f);
        init_rnd(b, "t", 4, (int64_t[]){1, 4, 1, 1}, -1.0f, 1.0f);
        tb_node_add(b, "Mul", "mul", 2, (const char *[]){"c", "s"}, 1, (const char *[]){"m"});
        tb_node_add(b, "Add", "add", 2, (const char *[]){"t", "m"}, 1, (const char *[]){"Y"});
        tb_output(b, "Y", ONNORM_FLOAT);
        check(b, &(expect){3, 1, 0, 0, 2, 0, NULL});
    }
}

/* 1-D Conv times a scalar, ConvTranspose plus [C,1,1] (grouped). */
static void affine_scalar_and_transposed(void **state)
{
    (void)state;
    conv_spec s = {13, 1, 2, 3, 4, 1, 8, 3, false, false};
    tb_model *b = conv_model(&s, false);
    tb_init(b, "s", ONNORM_FLOAT, 0, NULL, (const float[]){-1.75f});
    init_rnd(b, "t", 2, (int64_t[]){4, 1}, -1.0f, 1.0f);
    tb_node_add(b, "Mul", "mul", 2, (const char *[]){"s", "c"}, 1, (const char *[]){"m"});
    tb_node_add(b, "Add", "add", 2, (const char *[]){"m", "t"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){3, 1, 0, 0, 2, 0, NULL});

    conv_spec st = {13, 2, 1, 4, 6, 2, 3, 3, true, true};
    b = conv_model(&st, false);
    init_rnd(b, "t", 3, (int64_t[]){6, 1, 1}, -1.0f, 1.0f);
    tb_node_add(b, "Add", "add", 2, (const char *[]){"c", "t"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){2, 1, 0, 0, 1, 0, NULL});
}

/* A Mul that varies along the width is not per-channel: left alone. */
static void affine_not_per_channel(void **state)
{
    (void)state;
    conv_spec s = {13, 2, 1, 3, 4, 1, 5, 3, true, false};
    tb_model *b = conv_model(&s, false);
    init_rnd(b, "s", 4, (int64_t[]){1, 1, 1, 5}, -2.0f, 2.0f);
    tb_node_add(b, "Mul", "mul", 2, (const char *[]){"c", "s"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){2, 2, 0, 0, 0, 1, "is not per-channel"});
}

/* ---- near-misses ------------------------------------------------------------ */

/* The Conv output also feeds a Relu (a second graph output). */
static void neg_conv_output_read_twice(void **state)
{
    (void)state;
    conv_spec s = {13, 2, 1, 3, 4, 1, 5, 3, true, false};
    tb_model *b = conv_bn_model(&s);
    tb_node_add(b, "Relu", "relu", 1, (const char *[]){"c"}, 1, (const char *[]){"R"});
    tb_output(b, "R", ONNORM_FLOAT);
    check(b, &(expect){3, 3, 0, 1, 0, 0, "also read by 1 other node"});
}

static void neg_conv_output_is_graph_output(void **state)
{
    (void)state;
    conv_spec s = {13, 2, 1, 3, 4, 1, 5, 3, true, false};
    tb_model *b = conv_bn_model(&s);
    tb_output(b, "c", ONNORM_FLOAT);
    check(b, &(expect){2, 2, 0, 1, 0, 0, "is a graph output, so it must stay"});
}

static void neg_weight_is_graph_input(void **state)
{
    (void)state;
    conv_spec s = {13, 2, 1, 3, 4, 1, 5, 3, true, false};
    tb_model *b = conv_model(&s, true);
    bn_params(b, "bn", s.m);
    bn_node(b, "bn", "c", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){2, 2, 0, 1, 0, 0, "('w') is a graph input, not a constant"});
}

static void neg_bn_training_mode(void **state)
{
    (void)state;
    conv_spec s = {15, 2, 2, 3, 4, 1, 5, 3, true, false};
    tb_model *b = conv_model(&s, false);
    bn_params(b, "bn", s.m);
    tb_attr_int(bn_node(b, "bn", "c", "Y"), "training_mode", 1);
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){2, 2, 0, 1, 0, 0, "training_mode is not 0"});
}

/* The mean fed by the caller; then the same with an overridable
 * initializer (declared as an input too, as IR 3 models do). */
static void neg_bn_mean_is_graph_input(void **state)
{
    (void)state;
    for (int with_init = 0; with_init < 2; with_init++) {
        conv_spec s = {13, 2, 1, 3, 4, 1, 5, 3, true, false};
        tb_model *b = conv_model(&s, false);
        init_rnd(b, "bn.scale", 1, (int64_t[]){4}, 0.5f, 1.5f);
        init_rnd(b, "bn.bias", 1, (int64_t[]){4}, -1.0f, 1.0f);
        if (with_init) init_rnd(b, "bn.mean", 1, (int64_t[]){4}, -0.5f, 0.5f);
        tb_input(b, "bn.mean", ONNORM_FLOAT, 1, (int64_t[]){4});
        init_rnd(b, "bn.var", 1, (int64_t[]){4}, 0.3f, 2.0f);
        bn_node(b, "bn", "c", "Y");
        tb_output(b, "Y", ONNORM_FLOAT);
        check(b, &(expect){2, 2, 0, 1, 0, 0,
                           with_init ? "('bn.mean') is a graph input with an initializer"
                                     : "('bn.mean') is a graph input, not a constant"});
    }
}

/* Opset 15 lets scale and B be float64 next to a float32 X. */
static void neg_bn_float64_params(void **state)
{
    (void)state;
    conv_spec s = {15, 2, 1, 3, 4, 1, 5, 3, true, false};
    tb_model *b = conv_model(&s, false);
    const double scale[4] = {1, 0.5, 2, 1.5}, bias[4] = {0.1, -0.2, 0.3, 0};
    tb_init(b, "bn.scale", ONNORM_DOUBLE, 1, (int64_t[]){4}, scale);
    tb_init(b, "bn.bias", ONNORM_DOUBLE, 1, (int64_t[]){4}, bias);
    init_rnd(b, "bn.mean", 1, (int64_t[]){4}, -0.5f, 0.5f);
    init_rnd(b, "bn.var", 1, (int64_t[]){4}, 0.3f, 2.0f);
    bn_node(b, "bn", "c", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){2, 2, 0, 1, 0, 0, "is float64, which folding does not support"});
}

/* One weight, two Conv + BN pairs with different statistics: each Conv gets
 * its own folded copy, and the shared original is left as it was. */
static void shared_weight_two_bns(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, (int64_t[]){1, 3, 6, 6});
    init_rnd(b, "w", 4, (int64_t[]){4, 3, 3, 3}, -1.0f, 1.0f);
    init_rnd(b, "b", 1, (int64_t[]){4}, -1.0f, 1.0f);
    const char *y[2] = {"Y1", "Y2"}, *c[2] = {"c1", "c2"}, *bn[2] = {"bn1", "bn2"};
    for (int i = 0; i < 2; i++) {
        tb_node_add(b, "Conv", i ? "conv2" : "conv1", 3, (const char *[]){"X", "w", "b"}, 1,
                    (const char *[]){c[i]});
        bn_params(b, bn[i], 4);
        bn_node(b, bn[i], c[i], y[i]);
        tb_output(b, y[i], ONNORM_FLOAT);
    }
    check(b, &(expect){4, 2, 2, 0, 0, 0, NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_bn_2d_with_bias),
        cmocka_unit_test(conv_bn_2d_without_bias),
        cmocka_unit_test(conv_bn_groups),
        cmocka_unit_test(conv_bn_depthwise),
        cmocka_unit_test(conv_bn_1d),
        cmocka_unit_test(conv_bn_3d),
        cmocka_unit_test(conv_bn_opset6_is_test),
        cmocka_unit_test(conv_bn_bn_chain),
        cmocka_unit_test(convtranspose_bn_groups),
        cmocka_unit_test(gemm_bn_trans_b0),
        cmocka_unit_test(gemm_bn_trans_b1),
        cmocka_unit_test(gemm_bn_bias_forms),
        cmocka_unit_test(matmul_add_bn),
        cmocka_unit_test(conv_mul_add),
        cmocka_unit_test(affine_scalar_and_transposed),
        cmocka_unit_test(affine_not_per_channel),
        cmocka_unit_test(neg_conv_output_read_twice),
        cmocka_unit_test(neg_conv_output_is_graph_output),
        cmocka_unit_test(neg_weight_is_graph_input),
        cmocka_unit_test(neg_bn_training_mode),
        cmocka_unit_test(neg_bn_mean_is_graph_input),
        cmocka_unit_test(neg_bn_float64_params),
        cmocka_unit_test(shared_weight_two_bns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
