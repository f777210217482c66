/*
 * The passes fold-affine-into-norm (graph/pass_affine_norm.c) and
 * fold-norm-into-next-conv (graph/pass_norm_conv.c).
 *
 * Each case builds a model, optimizes it with onnorm_model_optimize(),
 * checks the node count and the pass's counts and notes in the report, and
 * runs the original (level 0) and the optimized model on the same random
 * inputs: outputs must agree to atol 1e-5 + rtol 1e-5. The original is run
 * again afterwards and must give the same bytes (no borrowed weight was
 * written). Negative cases check that the near-miss is noted with its
 * reason and the node count is unchanged. tests/graph/test_affine_folds.py
 * checks the folded models against NumPy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

#define TOL 1e-5
#define MAX_IO 4

static uint32_t rng_state = 4242u;

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

/* BatchNormalization p(x) -> y with random parameters over c channels. */
static tb_node *bn(tb_model *b, const char *p, int64_t c, const char *x, const char *y)
{
    char n[4][64];
    const int64_t d[1] = {c};
    snprintf(n[0], 64, "%s.s", p), init_rnd(b, n[0], 1, d, 0.5f, 1.5f);
    snprintf(n[1], 64, "%s.b", p), init_rnd(b, n[1], 1, d, -1.0f, 1.0f);
    snprintf(n[2], 64, "%s.m", p), init_rnd(b, n[2], 1, d, -0.5f, 0.5f);
    snprintf(n[3], 64, "%s.v", p), init_rnd(b, n[3], 1, d, 0.3f, 2.0f);
    tb_node *nd = tb_node_add(b, "BatchNormalization", p, 5,
                              (const char *[]){x, n[0], n[1], n[2], n[3]}, 1, (const char *[]){y});
    tb_attr_float(nd, "epsilon", 1e-3f);
    return nd;
}

/* Binary op `op` (y = a op b). */
static tb_node *bin(tb_model *b, const char *op, const char *name, const char *a, const char *c,
                    const char *y)
{
    return tb_node_add(b, op, name, 2, (const char *[]){a, c}, 1, (const char *[]){y});
}

/* ---- running and checking ----------------------------------------------- */

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
        in->data[i] = malloc((size_t)n * sizeof(float));
        assert_non_null(in->data[i]);
        for (int64_t k = 0; k < n; k++)
            in->data[i][k] = rnd(-2.0f, 2.0f);
        in->t[i] =
            th_in(onnorm_model_input_name(m, i), ONNORM_FLOAT, info.rank, info.dims, in->data[i]);
    }
}

static void run(th_run *r, const onnorm_model *m, const inputs *in)
{
    const onnorm_session_options o = th_options(0, 0);
    th_ok(r, th_run_loaded(r, m, &o, in->n, in->t), "run");
}

/* "pass <name> N rewritten, K left alone" */
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
    const char *pass;
    int before, after;
    int folds, left;
    const char *note; /* a substring the report must hold, or NULL */
    const char *op;   /* an op the optimized model must not have, or NULL */
} expect;

static int count_op(const onnorm_model *m, const char *op)
{
    int k = 0;
    for (int i = 0; i < onnorm_model_node_count(m); i++) {
        const char *name, *type, *dom;
        int kv;
        onnorm_model_node(m, i, &name, &type, &dom, &kv);
        k += !strcmp(type, op);
    }
    return k;
}

static void check(tb_model *b, const expect *x)
{
    onnorm_model *m = th_load(b);
    assert_int_equal(onnorm_model_node_count(m), x->before);
    inputs in;
    th_run ref, again, got;
    inputs_make(m, &in);
    run(&ref, m, &in);
    char report[16384];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    if (getenv("ONNORM_TEST_VERBOSE")) printf("%s", report);
    int folds, left;
    pass_counts(report, x->pass, &folds, &left);
    if (folds != x->folds || left != x->left)
        fail_msg("%s: %d rewritten, %d left alone; want %d, %d\n%s", x->pass, folds, left, x->folds,
                 x->left, report);
    if (x->note && !strstr(report, x->note))
        fail_msg("the report lacks \"%s\":\n%s", x->note, report);
    if (onnorm_model_node_count(opt) != x->after)
        fail_msg("%d nodes after optimizing, want %d\n%s", onnorm_model_node_count(opt), x->after,
                 report);
    if (x->op && count_op(opt, x->op)) fail_msg("%s is left:\n%s", x->op, report);
    run(&got, opt, &in);
    th_expect_same_outputs(&ref, &got, TOL, TOL, 0);
    run(&again, m, &in);
    th_expect_same_outputs(&ref, &again, 0, 0, TH_BITWISE);
    th_free(&ref), th_free(&again), th_free(&got);
    for (int i = 0; i < in.n; i++)
        free(in.data[i]);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

#define AN "fold-affine-into-norm"
#define NC "fold-norm-into-next-conv"

static const int64_t X4[4] = {2, 4, 5, 5};
static const int64_t C1C11[4] = {1, 4, 1, 1};
static const int64_t C11[3] = {4, 1, 1};
static const int64_t VEC4[1] = {4};
static const int64_t SCALAR[1] = {1};

/* ---- fold-affine-into-norm: positive --------------------------------------- */

/* Caffe2's DenseNet: BatchNormalization -> Mul -> Add with no Conv before. */
static void bn_mul_add(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    init_rnd(b, "s", 4, C1C11, -2.0f, 2.0f);
    init_rnd(b, "t", 4, C1C11, -1.0f, 1.0f);
    bin(b, "Mul", "mul", "y", "s", "z");
    bin(b, "Add", "add", "t", "z", "Y"); /* the constant first */
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){AN, 3, 1, 2, 0, NULL, "Mul"});
}

static void bn_sub_div_rsub(void **state)
{
    (void)state;
    tb_model *b = tb_new(14);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    init_rnd(b, "t", 3, C11, -1.0f, 1.0f);
    init_rnd(b, "d", 1, SCALAR, 1.5f, 2.5f);
    init_rnd(b, "k", 0, NULL, -1.0f, 1.0f);
    bin(b, "Sub", "sub", "y", "t", "a");
    bin(b, "Div", "div", "a", "d", "c");
    bin(b, "Sub", "rsub", "k", "c", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){AN, 4, 1, 3, 0, NULL, "Sub"});
}

static void instancenorm_mul_add(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    const int64_t xd[3] = {2, 4, 7}, cd[2] = {4, 1};
    tb_input(b, "X", ONNORM_FLOAT, 3, xd);
    init_rnd(b, "g", 1, VEC4, 0.5f, 1.5f);
    init_rnd(b, "be", 1, VEC4, -1.0f, 1.0f);
    tb_node_add(b, "InstanceNormalization", "in", 3, (const char *[]){"X", "g", "be"}, 1,
                (const char *[]){"y"});
    init_rnd(b, "s", 2, cd, -2.0f, 2.0f);
    init_rnd(b, "t", 0, NULL, -1.0f, 1.0f);
    bin(b, "Mul", "mul", "s", "y", "z");
    bin(b, "Add", "add", "z", "t", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){AN, 3, 1, 2, 0, NULL, "Add"});
}

static tb_model *groupnorm_model(int64_t opset, int64_t groups, const float *s, int64_t ns)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    const int64_t pd[1] = {opset >= 21 ? 4 : groups};
    init_rnd(b, "g", 1, pd, 0.5f, 1.5f);
    init_rnd(b, "be", 1, pd, -1.0f, 1.0f);
    tb_node *n = tb_node_add(b, "GroupNormalization", "gn", 3, (const char *[]){"X", "g", "be"}, 1,
                             (const char *[]){"y"});
    tb_attr_int(n, "num_groups", groups);
    const int64_t sd[4] = {1, ns, 1, 1};
    tb_init(b, "s", ONNORM_FLOAT, 4, sd, s);
    init_rnd(b, "t", 1, SCALAR, -1.0f, 1.0f);
    bin(b, "Mul", "mul", "y", "s", "z");
    bin(b, "Add", "add", "z", "t", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

static void groupnorm21_per_channel(void **state)
{
    (void)state;
    const float s[4] = {0.5f, -1.5f, 2.0f, 0.25f};
    check(groupnorm_model(21, 2, s, 4), &(expect){AN, 3, 1, 2, 0, NULL, "Mul"});
}

static void groupnorm18_per_group(void **state)
{
    (void)state;
    const float s[4] = {0.5f, 0.5f, -2.0f, -2.0f}; /* constant within each of 2 groups */
    check(groupnorm_model(18, 2, s, 4), &(expect){AN, 3, 1, 2, 0, NULL, "Mul"});
}

static void layernorm_last_axis(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    const int64_t xd[3] = {2, 3, 6}, d[1] = {6}, t3[3] = {1, 1, 6};
    tb_input(b, "X", ONNORM_FLOAT, 3, xd);
    init_rnd(b, "g", 1, d, 0.5f, 1.5f);
    init_rnd(b, "be", 1, d, -1.0f, 1.0f);
    tb_node_add(b, "LayerNormalization", "ln", 3, (const char *[]){"X", "g", "be"}, 1,
                (const char *[]){"y"});
    init_rnd(b, "s", 1, d, -2.0f, 2.0f);
    init_rnd(b, "t", 3, t3, -1.0f, 1.0f);
    bin(b, "Mul", "mul", "y", "s", "z");
    bin(b, "Add", "add", "z", "t", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){AN, 3, 1, 2, 0, NULL, "Add"});
}

/* axis 1 of [2,3,4], no bias; the constants broadcast across the
 * normalized shape [3,4] in two different ways. */
static void layernorm_two_axes(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    const int64_t xd[3] = {2, 3, 4}, gd[1] = {4}, sd[2] = {3, 1}, td[2] = {1, 4};
    tb_input(b, "X", ONNORM_FLOAT, 3, xd);
    init_rnd(b, "g", 1, gd, 0.5f, 1.5f);
    tb_node *n = tb_node_add(b, "LayerNormalization", "ln", 2, (const char *[]){"X", "g"}, 1,
                             (const char *[]){"y"});
    tb_attr_int(n, "axis", 1);
    init_rnd(b, "s", 2, sd, -2.0f, 2.0f);
    init_rnd(b, "t", 2, td, -1.0f, 1.0f);
    bin(b, "Div", "div", "y", "s", "z");
    bin(b, "Sub", "rsub", "t", "z", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){AN, 3, 1, 2, 0, NULL, "Div"});
}

/* ---- fold-affine-into-norm: near-misses ------------------------------------- */

static tb_model *bn_mul(const char *s_name, int rank, const int64_t *sd, bool s_input)
{
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    if (s_input)
        tb_input(b, s_name, ONNORM_FLOAT, rank, sd);
    else
        init_rnd(b, s_name, rank, sd, -2.0f, 2.0f);
    bin(b, "Mul", "mul", "y", s_name, "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

static void miss_non_constant(void **state)
{
    (void)state;
    check(bn_mul("s", 4, C1C11, true),
          &(expect){AN, 2, 2, 0, 1, "'mul' (Mul): the other operand ('s') is a graph input", NULL});
}

static void miss_broadcast_shape(void **state)
{
    (void)state;
    const int64_t sd[4] = {1, 1, 5, 5};
    check(bn_mul("s", 4, sd, false),
          &(expect){AN, 2, 2, 0, 1, "shape [1,1,5,5], does not broadcast along the 4 channels",
                    NULL});
}

static void miss_graph_output(void **state)
{
    (void)state;
    tb_model *b = bn_mul("s", 4, C1C11, false);
    tb_output(b, "y", ONNORM_FLOAT);
    check(b, &(expect){AN, 2, 2, 0, 1, "is a graph output, so it must stay", NULL});
}

static void miss_two_consumers(void **state)
{
    (void)state;
    tb_model *b = bn_mul("s", 4, C1C11, false);
    tb_node_add(b, "Relu", "relu", 1, (const char *[]){"y"}, 1, (const char *[]){"R"});
    tb_output(b, "R", ONNORM_FLOAT);
    check(b, &(expect){AN, 3, 3, 0, 1, "also read by 1 other node(s)", NULL});
}

static void miss_training_mode(void **state)
{
    (void)state;
    tb_model *b = tb_new(15);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    tb_node *n = bn(b, "bn", 4, "X", "y");
    tb_attr_int(n, "training_mode", 1);
    init_rnd(b, "s", 4, C1C11, -2.0f, 2.0f);
    bin(b, "Mul", "mul", "y", "s", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){AN, 2, 2, 0, 1, "is in training mode", NULL});
}

static void miss_groupnorm18_within_group(void **state)
{
    (void)state;
    const float s[4] = {0.5f, 0.75f, -2.0f, -2.0f};
    check(groupnorm_model(18, 2, s, 4),
          &(expect){AN, 3, 3, 0, 1, "the constant differs within group 0", NULL});
}

static void miss_divisor(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    init_rnd(b, "s", 4, C1C11, 1.0f, 2.0f);
    bin(b, "Div", "div", "s", "y", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){AN, 2, 2, 0, 1, "divides a constant by the normalized value", NULL});
}

static void miss_layernorm_outer_axis(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    const int64_t xd[3] = {2, 3, 6}, d[1] = {6}, sd[3] = {2, 1, 1};
    tb_input(b, "X", ONNORM_FLOAT, 3, xd);
    init_rnd(b, "g", 1, d, 0.5f, 1.5f);
    tb_node_add(b, "LayerNormalization", "ln", 2, (const char *[]){"X", "g"}, 1,
                (const char *[]){"y"});
    init_rnd(b, "s", 3, sd, -2.0f, 2.0f);
    bin(b, "Mul", "mul", "y", "s", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){AN, 2, 2, 0, 1, "reaches beyond the 1 normalized axes", NULL});
}

/* ---- fold-norm-into-next-conv: positive ----------------------------------- */

/* X [2,C,7,7] -> Conv (W [M, C/g, k, k]) "conv" -> Y, reading `in`. */
static tb_node *conv(tb_model *b, const char *in, int64_t m, int64_t group, int64_t k, bool bias)
{
    const int64_t wd[4] = {m, 4 / group, k, k}, bd[1] = {m};
    init_rnd(b, "W", 4, wd, -1.0f, 1.0f);
    if (bias) init_rnd(b, "B", 1, bd, -1.0f, 1.0f);
    tb_node *n = tb_node_add(b, "Conv", "conv", bias ? 3 : 2, (const char *[]){in, "W", "B"}, 1,
                             (const char *[]){"Y"});
    tb_attr_int(n, "group", group);
    tb_output(b, "Y", ONNORM_FLOAT);
    return n;
}

static void bn_conv(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    tb_node *n = conv(b, "y", 6, 1, 3, true);
    const int64_t strides[2] = {2, 1};
    tb_attr_ints(n, "strides", 2, strides);
    check(b, &(expect){NC, 2, 1, 1, 0, NULL, "BatchNormalization"});
}

/* What `onnorm standardize` emits: (X - mean) / std, into a grouped Conv
 * without bias. */
static void standardize_grouped_conv(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    init_rnd(b, "mean", 4, C1C11, -1.0f, 1.0f);
    init_rnd(b, "std", 4, C1C11, 0.5f, 2.0f);
    bin(b, "Sub", "sub", "X", "mean", "a");
    bin(b, "Div", "div", "a", "std", "y");
    tb_node *n = conv(b, "y", 6, 2, 3, false);
    tb_attr_string(n, "auto_pad", "VALID");
    check(b, &(expect){NC, 3, 1, 1, 0, NULL, "Sub"});
}

static void depthwise_bn_conv(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    conv(b, "y", 8, 4, 2, true);
    check(b, &(expect){NC, 2, 1, 1, 0, NULL, "BatchNormalization"});
}

/* A pure scale keeps padded zeros zero: exact with padding too. */
static void scale_into_padded_conv(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    init_rnd(b, "s", 3, C11, -2.0f, 2.0f);
    bin(b, "Mul", "mul", "X", "s", "y");
    tb_node *n = conv(b, "y", 5, 1, 3, true);
    const int64_t pads[4] = {1, 1, 1, 1};
    tb_attr_ints(n, "pads", 4, pads);
    check(b, &(expect){NC, 2, 1, 1, 0, NULL, "Mul"});
}

static tb_model *gemm_model(int64_t trans_b, bool with_c, int64_t trans_a)
{
    tb_model *b = tb_new(13);
    const int64_t xd[2] = {3, 4}, wd[2] = {trans_b ? 5 : 4, trans_b ? 4 : 5}, cd[2] = {3, 5};
    tb_input(b, "X", ONNORM_FLOAT, 2, trans_a ? (const int64_t[]){4, 3} : xd);
    if (trans_a) {
        init_rnd(b, "s", 2, (const int64_t[]){4, 1}, -2.0f, 2.0f);
        init_rnd(b, "t", 1, SCALAR, -1.0f, 1.0f);
        bin(b, "Mul", "mul", "X", "s", "a");
        bin(b, "Add", "add", "a", "t", "y");
    } else {
        bn(b, "bn", 4, "X", "a");
        init_rnd(b, "t", 2, (const int64_t[]){1, 4}, -1.0f, 1.0f);
        bin(b, "Add", "add", "a", "t", "y");
    }
    init_rnd(b, "W", 2, wd, -1.0f, 1.0f);
    if (with_c) init_rnd(b, "C", 2, cd, -1.0f, 1.0f);
    tb_node *n = tb_node_add(b, "Gemm", "gemm", with_c ? 3 : 2, (const char *[]){"y", "W", "C"}, 1,
                             (const char *[]){"Y"});
    tb_attr_int(n, "transB", trans_b);
    tb_attr_int(n, "transA", trans_a);
    tb_attr_float(n, "alpha", 0.75f);
    tb_attr_float(n, "beta", 1.5f);
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

static void bn_add_gemm_trans_b(void **state)
{
    (void)state;
    check(gemm_model(1, true, 0), &(expect){NC, 3, 1, 1, 0, NULL, "BatchNormalization"});
}

static void bn_add_gemm_no_c(void **state)
{
    (void)state;
    check(gemm_model(0, false, 0), &(expect){NC, 3, 1, 1, 0, NULL, "Add"});
}

static void affine_matmul(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    const int64_t xd[3] = {2, 3, 4}, wd[2] = {4, 5}, sd[2] = {1, 4};
    tb_input(b, "X", ONNORM_FLOAT, 3, xd);
    init_rnd(b, "s", 2, sd, -2.0f, 2.0f);
    init_rnd(b, "t", 1, VEC4, -1.0f, 1.0f);
    init_rnd(b, "W", 2, wd, -1.0f, 1.0f);
    bin(b, "Mul", "mul", "X", "s", "a");
    bin(b, "Sub", "sub", "a", "t", "y");
    bin(b, "MatMul", "mm", "y", "W", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    /* MatMul and the Add of the folded shift remain, and fuse-linear makes
     * them one Linear */
    check(b, &(expect){NC, 3, 1, 1, 0, NULL, "Mul"});
}

/* The Mul's output is read twice: only the Add after it folds. */
static void partial_chain(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    init_rnd(b, "s", 4, C1C11, -2.0f, 2.0f);
    init_rnd(b, "t", 4, C1C11, -1.0f, 1.0f);
    bin(b, "Mul", "mul", "X", "s", "a");
    bin(b, "Add", "add", "a", "t", "y");
    tb_node_add(b, "Relu", "relu", 1, (const char *[]){"a"}, 1, (const char *[]){"R"});
    tb_output(b, "R", ONNORM_FLOAT);
    conv(b, "y", 3, 1, 1, true);
    check(b, &(expect){NC, 4, 3, 1, 0, NULL, "Add"});
}

/* Conv + Relu becomes FusedConv (fuse-conv) before this pass runs; the BN
 * still folds into it. */
static void bn_fused_conv(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    const int64_t wd[4] = {6, 4, 3, 3};
    init_rnd(b, "W", 4, wd, -1.0f, 1.0f);
    tb_node_add(b, "Conv", "conv", 2, (const char *[]){"y", "W"}, 1, (const char *[]){"c"});
    tb_node_add(b, "Relu", "relu", 1, (const char *[]){"c"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){NC, 3, 1, 1, 0, NULL, "BatchNormalization"});
}

/* GELU's decomposition ends in a Mul by 0.5, here before a MatMul: fuse-gelu
 * must see it whole (the fold runs after it), and then nothing is left to
 * fold. */
static void gelu_before_matmul(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    const int64_t xd[2] = {3, 4}, wd[2] = {4, 5};
    tb_input(b, "X", ONNORM_FLOAT, 2, xd);
    const float r2 = 1.41421356f, one = 1.0f, half = 0.5f;
    tb_init(b, "r2", ONNORM_FLOAT, 0, NULL, &r2);
    tb_init(b, "one", ONNORM_FLOAT, 0, NULL, &one);
    tb_init(b, "half", ONNORM_FLOAT, 0, NULL, &half);
    init_rnd(b, "W", 2, wd, -1.0f, 1.0f);
    bin(b, "Div", "div", "X", "r2", "a");
    tb_node_add(b, "Erf", "erf", 1, (const char *[]){"a"}, 1, (const char *[]){"e"});
    bin(b, "Add", "add", "e", "one", "p");
    bin(b, "Mul", "mul", "X", "p", "q");
    bin(b, "Mul", "mulhalf", "q", "half", "y");
    bin(b, "MatMul", "mm", "y", "W", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){NC, 6, 2, 0, 0, NULL, "Erf"});
}

/* ---- fold-norm-into-next-conv: near-misses ---------------------------------- */

static void miss_padding(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    tb_node *n = conv(b, "y", 6, 1, 3, true);
    const int64_t pads[4] = {0, 1, 0, 1};
    tb_attr_ints(n, "pads", 4, pads);
    check(b, &(expect){NC, 2, 2, 0, 1, "'bn' (BatchNormalization): padding: Conv 'conv'", NULL});
}

static void miss_auto_pad(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    init_rnd(b, "t", 4, C1C11, -1.0f, 1.0f);
    bin(b, "Add", "add", "X", "t", "y");
    tb_node *n = conv(b, "y", 6, 1, 3, true);
    tb_attr_string(n, "auto_pad", "SAME_UPPER");
    check(b, &(expect){NC, 2, 2, 0, 1, "padding: Conv 'conv'", NULL});
}

static void miss_weight_input(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    const int64_t wd[4] = {6, 4, 1, 1};
    tb_input(b, "W", ONNORM_FLOAT, 4, wd);
    tb_node_add(b, "Conv", "conv", 2, (const char *[]){"y", "W"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){NC, 2, 2, 0, 1, "the weight ('W') is a graph input", NULL});
}

static void miss_bn_graph_output(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "y");
    conv(b, "y", 6, 1, 3, true);
    tb_output(b, "y", ONNORM_FLOAT);
    check(b, &(expect){NC, 2, 2, 0, 1, "is a graph output, so it must stay", NULL});
}

static void miss_spatial_constant(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    const int64_t sd[4] = {1, 1, 5, 5};
    init_rnd(b, "t", 4, sd, -1.0f, 1.0f);
    bin(b, "Sub", "sub", "X", "t", "y");
    conv(b, "y", 6, 1, 3, true);
    check(b, &(expect){NC, 2, 2, 0, 1, "shape [1,1,5,5], does not broadcast along", NULL});
}

static void miss_trans_a(void **state)
{
    (void)state;
    check(gemm_model(0, true, 1), &(expect){NC, 3, 3, 0, 1, "has transA 1", NULL});
}

static void miss_bn_matmul_3d(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    const int64_t xd[3] = {2, 4, 3}, wd[2] = {3, 5};
    tb_input(b, "X", ONNORM_FLOAT, 3, xd);
    bn(b, "bn", 4, "X", "y");
    init_rnd(b, "W", 2, wd, -1.0f, 1.0f);
    bin(b, "MatMul", "mm", "y", "W", "Y");
    tb_output(b, "Y", ONNORM_FLOAT);
    check(b, &(expect){NC, 2, 2, 0, 1, "not BatchNormalization's axis 1", NULL});
}

/* Something in between: no candidate, no note (fuse-norm later fuses the
 * Relu into the BatchNormalization, which then stays before the Conv). */
static void relu_between(void **state)
{
    (void)state;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, X4);
    bn(b, "bn", 4, "X", "a");
    tb_node_add(b, "Relu", "relu", 1, (const char *[]){"a"}, 1, (const char *[]){"y"});
    conv(b, "y", 6, 1, 3, true);
    check(b, &(expect){NC, 3, 2, 0, 0, NULL, NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bn_mul_add),
        cmocka_unit_test(bn_sub_div_rsub),
        cmocka_unit_test(instancenorm_mul_add),
        cmocka_unit_test(groupnorm21_per_channel),
        cmocka_unit_test(groupnorm18_per_group),
        cmocka_unit_test(layernorm_last_axis),
        cmocka_unit_test(layernorm_two_axes),
        cmocka_unit_test(miss_non_constant),
        cmocka_unit_test(miss_broadcast_shape),
        cmocka_unit_test(miss_graph_output),
        cmocka_unit_test(miss_two_consumers),
        cmocka_unit_test(miss_training_mode),
        cmocka_unit_test(miss_groupnorm18_within_group),
        cmocka_unit_test(miss_divisor),
        cmocka_unit_test(miss_layernorm_outer_axis),
        cmocka_unit_test(bn_conv),
        cmocka_unit_test(standardize_grouped_conv),
        cmocka_unit_test(depthwise_bn_conv),
        cmocka_unit_test(scale_into_padded_conv),
        cmocka_unit_test(bn_add_gemm_trans_b),
        cmocka_unit_test(bn_add_gemm_no_c),
        cmocka_unit_test(affine_matmul),
        cmocka_unit_test(partial_chain),
        cmocka_unit_test(bn_fused_conv),
        cmocka_unit_test(gelu_before_matmul),
        cmocka_unit_test(miss_padding),
        cmocka_unit_test(miss_auto_pad),
        cmocka_unit_test(miss_weight_input),
        cmocka_unit_test(miss_bn_graph_output),
        cmocka_unit_test(miss_spatial_constant),
        cmocka_unit_test(miss_trans_a),
        cmocka_unit_test(miss_bn_matmul_3d),
        cmocka_unit_test(relu_between),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
