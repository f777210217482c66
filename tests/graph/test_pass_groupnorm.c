/*
 * The "groupnorm" pass: GroupNorm as PyTorch exports it below opset 18,
 *   Reshape(X, [0, G, -1]) -> InstanceNormalization(ones, zeros)
 *   -> Reshape(., Shape(X)) -> Mul(gamma) -> Add(beta),
 * becomes one GroupNormalization node. Each positive case checks the node
 * counts after onnorm_model_optimize and compares the optimized model's
 * outputs with the original's run unoptimized; each negative case checks
 * that the graph is unchanged and the report says why.
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

enum { N = 2 };

typedef enum gamma_kind {
    GAMMA_UNSQUEEZE,   /* Unsqueeze([C], axes) as PyTorch emits (folded at load) */
    GAMMA_C11,         /* [C, 1, ...] */
    GAMMA_1C11,        /* [1, C, 1, ...] */
    GAMMA_GROUP_CONST, /* [C, 1, ...], equal within each group */
    GAMMA_PER_POSITION /* [C, D...]: not per channel */
} gamma_kind;

typedef struct spec {
    int64_t opset; /* 0: 17 */
    int rank;      /* X's rank: 3 or 4 */
    int64_t C, G;
    bool affine;          /* Mul + Add follow */
    bool shape_const;     /* second Reshape's target is a constant, not Shape(X) */
    const int64_t *split; /* first Reshape's target; NULL: [0, G, -1] */
    int split_len;
    float in_scale; /* InstanceNormalization's scale (1 in the pattern) */
    gamma_kind gamma;
    bool gamma_first;    /* Mul(gamma, .) and Add(beta, .) */
    bool in_out_exposed; /* InstanceNormalization's output is a graph output too */
    bool in_out_twice;   /* ... or is also read by a Sigmoid */
    bool extra_gn18;     /* a GroupNormalization-18 node elsewhere pins opset 18 */
} spec;

static void x_dims(const spec *s, int64_t *d)
{
    d[0] = N, d[1] = s->C, d[2] = s->rank == 4 ? 3 : 7, d[3] = 5;
}

static int64_t numel(const int64_t *d, int rank)
{
    int64_t p = 1;
    for (int k = 0; k < rank; k++)
        p *= d[k];
    return p;
}

/* Dim 1 of the first Reshape's result: the InstanceNormalization's channel count. */
static int64_t split_channels(const spec *s, const int64_t *split, int len)
{
    int64_t d[4], known = 1;
    x_dims(s, d);
    for (int k = 0; k < len; k++)
        if (split[k] != -1) known *= split[k] == 0 ? d[k] : split[k];
    return split[1] == -1 ? numel(d, s->rank) / known : split[1];
}

static void per_channel_init(tb_model *b, const spec *s, const char *name, float base, float step)
{
    int64_t d[4], dims[4];
    x_dims(s, d);
    float v[256];
    int rank = s->rank - 1;
    for (int k = 0; k < 4; k++)
        dims[k] = 1;
    switch (s->gamma) {
    case GAMMA_UNSQUEEZE: {
        char raw[64], axes_name[64];
        snprintf(raw, sizeof raw, "%s_raw", name);
        snprintf(axes_name, sizeof axes_name, "%s_axes", name);
        for (int64_t c = 0; c < s->C; c++)
            v[c] = base + step * (float)c;
        tb_init(b, raw, ONNORM_FLOAT, 1, (int64_t[]){s->C}, v);
        const int64_t axes[2] = {1, 2};
        tb_init(b, axes_name, ONNORM_INT64, 1, (int64_t[]){rank - 1}, axes);
        tb_node_add(b, "Unsqueeze", NULL, 2, (const char *[]){raw, axes_name}, 1,
                    (const char *[]){name});
        return;
    }
    case GAMMA_C11:
    case GAMMA_GROUP_CONST: dims[0] = s->C; break;
    case GAMMA_1C11: rank = s->rank, dims[1] = s->C; break;
    case GAMMA_PER_POSITION:
        dims[0] = s->C;
        for (int k = 1; k < rank; k++)
            dims[k] = d[k + 1];
        break;
    }
    int64_t n = numel(dims, rank), cpg = s->C / s->G;
    for (int64_t i = 0; i < n; i++)
        v[i] =
            s->gamma == GAMMA_GROUP_CONST ? base + step * (float)(i / cpg) : base + step * (float)i;
    tb_init(b, name, ONNORM_FLOAT, rank, dims, v);
}

static tb_model *build(const spec *s)
{
    tb_model *b = tb_new(s->opset ? s->opset : 17);
    int64_t d[4];
    x_dims(s, d);
    tb_input(b, "X", ONNORM_FLOAT, s->rank, d);

    const int64_t dflt_split[3] = {0, s->G, -1};
    const int64_t *split = s->split ? s->split : dflt_split;
    int split_len = s->split ? s->split_len : 3;
    tb_init(b, "split", ONNORM_INT64, 1, (int64_t[]){split_len}, split);
    tb_node_add(b, "Reshape", "r1", 2, (const char *[]){"X", "split"}, 1, (const char *[]){"R1"});

    int64_t ch = split_channels(s, split, split_len);
    float ones[512], zeros[512];
    for (int k = 0; k < 512; k++)
        ones[k] = s->in_scale, zeros[k] = 0;
    tb_init(b, "in_scale", ONNORM_FLOAT, 1, (int64_t[]){ch}, ones);
    tb_init(b, "in_bias", ONNORM_FLOAT, 1, (int64_t[]){ch}, zeros);
    tb_node *in =
        tb_node_add(b, "InstanceNormalization", "in", 3,
                    (const char *[]){"R1", "in_scale", "in_bias"}, 1, (const char *[]){"I"});
    tb_attr_float(in, "epsilon", 1e-3f); /* not the default: it must be carried over */

    if (s->shape_const) {
        tb_init(b, "restore", ONNORM_INT64, 1, (int64_t[]){s->rank}, d);
    } else {
        tb_node_add(b, "Shape", "shape", 1, (const char *[]){"X"}, 1, (const char *[]){"restore"});
    }
    const char *r2_out = s->affine ? "R2" : "Y";
    tb_node_add(b, "Reshape", "r2", 2, (const char *[]){"I", "restore"}, 1,
                (const char *[]){r2_out});
    if (s->affine) {
        per_channel_init(b, s, "gamma", 0.5f, 0.1f);
        per_channel_init(b, s, "beta", -0.3f, 0.2f);
        tb_node_add(b, "Mul", "mul", 2,
                    s->gamma_first ? (const char *[]){"gamma", "R2"}
                                   : (const char *[]){"R2", "gamma"},
                    1, (const char *[]){"M"});
        tb_node_add(b, "Add", "add", 2,
                    s->gamma_first ? (const char *[]){"beta", "M"} : (const char *[]){"M", "beta"},
                    1, (const char *[]){"Y"});
    }
    tb_output(b, "Y", ONNORM_FLOAT);
    if (s->in_out_exposed) tb_output(b, "I", ONNORM_FLOAT);
    if (s->in_out_twice) {
        tb_node_add(b, "Sigmoid", "sig", 1, (const char *[]){"I"}, 1, (const char *[]){"Z"});
        tb_output(b, "Z", ONNORM_FLOAT);
    }
    if (s->extra_gn18) {
        tb_input(b, "X2", ONNORM_FLOAT, 3, (int64_t[]){N, s->C, 4});
        tb_init(b, "gn_scale", ONNORM_FLOAT, 1, (int64_t[]){s->G}, ones);
        tb_init(b, "gn_bias", ONNORM_FLOAT, 1, (int64_t[]){s->G}, zeros);
        tb_node *gn =
            tb_node_add(b, "GroupNormalization", "gn18", 3,
                        (const char *[]){"X2", "gn_scale", "gn_bias"}, 1, (const char *[]){"Y2"});
        tb_attr_int(gn, "num_groups", s->G);
        tb_output(b, "Y2", ONNORM_FLOAT);
    }
    return b;
}

/* Deterministic input whose groups have different means and spreads. */
static void fill(float *x, int64_t n, unsigned seed)
{
    uint32_t r = seed * 2654435761u + 1;
    for (int64_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = (float)((r >> 8) % 2001) / 1000.0f - 1.0f + (float)(i % 5) * 0.7f;
    }
}

/* Runs m without further optimization on fixed inputs. */
static void run(th_run *r, const onnorm_model *m, const spec *s)
{
    int64_t d[4];
    const int64_t d2[3] = {N, s->C, 4};
    x_dims(s, d);
    float x[512], x2[512];
    fill(x, numel(d, s->rank), 1);
    fill(x2, numel(d2, 3), 2);
    const th_tensor in[2] = {th_in("X", ONNORM_FLOAT, s->rank, d, x),
                             th_in("X2", ONNORM_FLOAT, 3, d2, x2)};
    const onnorm_session_options o = th_options(0, 0);
    th_ok(r, th_run_loaded(r, m, &o, s->extra_gn18 ? 2 : 1, in), "run");
}

/* The optimized model gives the original's outputs. */
static void compare_outputs(const onnorm_model *a, const onnorm_model *b, const spec *s)
{
    th_run ra, rb;
    run(&ra, a, s);
    run(&rb, b, s);
    th_expect_same_outputs(&ra, &rb, 1e-6, 1e-5, 0);
    th_free(&ra);
    th_free(&rb);
}

/* Loads the model of s, optimizes it and checks the outputs agree. The
 * caller frees both models. */
static void optimize(const spec *s, onnorm_model **orig, onnorm_model **opt, char *report,
                     size_t len)
{
    *orig = th_load(build(s));
    *opt = th_optimize(*orig, report, len);
    compare_outputs(*orig, *opt, s);
}

/* The chain became one GroupNormalization node of kernel version `version`
 * and nothing of the chain is left. */
static void expect_fused(const spec *s, int version)
{
    onnorm_model *orig, *opt;
    char report[4096];
    optimize(s, &orig, &opt, report, sizeof report);
    int kv = 0;
    if (th_count_op(opt, "GroupNormalization", &kv) != 1 + (s->extra_gn18 ? 1 : 0))
        fail_msg("expected the chain fused; report:\n%s", report);
    if (!s->extra_gn18) assert_int_equal(kv, version);
    assert_int_equal(th_count_op(opt, "InstanceNormalization", NULL), 0);
    assert_int_equal(th_count_op(opt, "Reshape", NULL), 0);
    assert_int_equal(th_count_op(opt, "Shape", NULL), 0);
    assert_int_equal(th_count_op(opt, "Mul", NULL), 0);
    assert_int_equal(th_count_op(opt, "Add", NULL), 0);
    assert_non_null(strstr(report, "pass groupnorm       1 rewritten"));
    /* The opset the new node needs was imported. */
    const char *dom;
    int64_t ver = 0;
    onnorm_model_opset(opt, 0, &dom, &ver);
    assert_true(ver >= version);
    onnorm_model_free(opt);
    onnorm_model_free(orig);
}

/* The graph is left as it was and the report carries `reason`. */
static void expect_unchanged(const spec *s, const char *reason)
{
    onnorm_model *orig, *opt;
    char report[4096];
    optimize(s, &orig, &opt, report, sizeof report);
    assert_int_equal(onnorm_model_node_count(opt), onnorm_model_node_count(orig));
    assert_int_equal(th_count_op(opt, "GroupNormalization", NULL),
                     th_count_op(orig, "GroupNormalization", NULL));
    assert_int_equal(th_count_op(opt, "InstanceNormalization", NULL), 1);
    if (!strstr(report, "pass groupnorm       0 rewritten, 1 left alone") ||
        !strstr(report, reason))
        fail_msg("expected a note containing '%s'; report:\n%s", reason, report);
    onnorm_model_free(opt);
    onnorm_model_free(orig);
}

/* ---- positive cases ----------------------------------------------------- */

static void rank4_pytorch_export(void **state)
{
    (void)state;
    spec s = {.rank = 4, .C = 6, .G = 3, .affine = true, .in_scale = 1, .gamma = GAMMA_UNSQUEEZE};
    expect_fused(&s, 21);
}

static void rank3_constant_restore_shape(void **state)
{
    (void)state;
    spec s = {.rank = 3,
              .C = 4,
              .G = 2,
              .affine = true,
              .shape_const = true,
              .in_scale = 1,
              .gamma = GAMMA_C11};
    expect_fused(&s, 21);
}

static void rank3_pytorch_export(void **state)
{
    (void)state;
    spec s = {.rank = 3, .C = 8, .G = 4, .affine = true, .in_scale = 1, .gamma = GAMMA_UNSQUEEZE};
    expect_fused(&s, 21);
}

static void groups_equal_channels(void **state)
{
    (void)state;
    spec s = {.rank = 4, .C = 4, .G = 4, .affine = true, .in_scale = 1, .gamma = GAMMA_1C11};
    expect_fused(&s, 21);
}

static void one_group(void **state)
{
    (void)state;
    spec s = {.rank = 4,
              .C = 5,
              .G = 1,
              .affine = true,
              .shape_const = true,
              .in_scale = 1,
              .gamma = GAMMA_C11};
    expect_fused(&s, 21);
}

static void without_affine(void **state)
{
    (void)state;
    spec s = {.rank = 4, .C = 6, .G = 2, .in_scale = 1};
    expect_fused(&s, 21);
    s.shape_const = true, s.rank = 3;
    expect_fused(&s, 21);
}

static void explicit_batch_and_swapped_operands(void **state)
{
    (void)state;
    const int64_t split[3] = {N, 2, -1};
    spec s = {.rank = 4,
              .C = 4,
              .G = 2,
              .affine = true,
              .split = split,
              .split_len = 3,
              .in_scale = 1,
              .gamma = GAMMA_C11,
              .gamma_first = true};
    expect_fused(&s, 21);
}

static void model_already_at_opset21(void **state)
{
    (void)state;
    spec s = {.opset = 21,
              .rank = 4,
              .C = 6,
              .G = 3,
              .affine = true,
              .in_scale = 1,
              .gamma = GAMMA_UNSQUEEZE};
    expect_fused(&s, 21);
}

/* A GroupNormalization-18 node already in the graph would change meaning
 * at opset 21, so a group-constant gamma/beta uses the per-group form. */
static void opset18_fallback(void **state)
{
    (void)state;
    spec s = {.opset = 18,
              .rank = 4,
              .C = 6,
              .G = 3,
              .affine = true,
              .in_scale = 1,
              .gamma = GAMMA_GROUP_CONST,
              .extra_gn18 = true};
    expect_fused(&s, 18);
    onnorm_model *orig, *opt;
    char report[4096];
    optimize(&s, &orig, &opt, report, sizeof report);
    for (int i = 0; i < onnorm_model_node_count(opt); i++) {
        const char *t;
        int kv;
        onnorm_model_node(opt, i, NULL, &t, NULL, &kv);
        if (strcmp(t, "GroupNormalization") == 0) assert_int_equal(kv, 18);
    }
    onnorm_model_free(opt);
    onnorm_model_free(orig);
}

/* ---- negative cases ----------------------------------------------------- */

static void instnorm_scale_not_ones(void **state)
{
    (void)state;
    spec s = {.rank = 4, .C = 6, .G = 3, .affine = true, .in_scale = 2, .gamma = GAMMA_C11};
    expect_unchanged(&s, "scale is not all ones");
}

static void first_reshape_does_not_split_channels(void **state)
{
    (void)state;
    const int64_t flat[2] = {0, -1};
    spec s = {.rank = 4,
              .C = 4,
              .G = 2,
              .affine = true,
              .split = flat,
              .split_len = 2,
              .in_scale = 1,
              .gamma = GAMMA_C11};
    expect_unchanged(&s, "does not split the channels");
    const int64_t twelve[3] = {0, 12, -1}; /* 12 "groups" of 4 channels */
    s.split = twelve, s.split_len = 3;
    expect_unchanged(&s, "do not divide the 4 channels");
}

static void gamma_not_per_channel(void **state)
{
    (void)state;
    spec s = {
        .rank = 4, .C = 4, .G = 2, .affine = true, .in_scale = 1, .gamma = GAMMA_PER_POSITION};
    expect_unchanged(&s, "not per channel");
}

static void intermediate_read_twice(void **state)
{
    (void)state;
    spec s = {.rank = 4,
              .C = 4,
              .G = 2,
              .affine = true,
              .in_scale = 1,
              .gamma = GAMMA_C11,
              .in_out_twice = true};
    expect_unchanged(&s, "has other readers");
}

static void graph_output_in_the_middle(void **state)
{
    (void)state;
    spec s = {.rank = 4,
              .C = 4,
              .G = 2,
              .affine = true,
              .in_scale = 1,
              .gamma = GAMMA_C11,
              .in_out_exposed = true};
    expect_unchanged(&s, "is a graph output");
}

/* Opset 21 is blocked and gamma varies within a group: no form fits. */
static void no_form_available(void **state)
{
    (void)state;
    spec s = {.opset = 18,
              .rank = 4,
              .C = 6,
              .G = 3,
              .affine = true,
              .in_scale = 1,
              .gamma = GAMMA_C11,
              .extra_gn18 = true};
    expect_unchanged(&s, "vary within a group");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rank4_pytorch_export),
        cmocka_unit_test(rank3_constant_restore_shape),
        cmocka_unit_test(rank3_pytorch_export),
        cmocka_unit_test(groups_equal_channels),
        cmocka_unit_test(one_group),
        cmocka_unit_test(without_affine),
        cmocka_unit_test(explicit_batch_and_swapped_operands),
        cmocka_unit_test(model_already_at_opset21),
        cmocka_unit_test(opset18_fallback),
        cmocka_unit_test(instnorm_scale_not_ones),
        cmocka_unit_test(first_reshape_does_not_split_channels),
        cmocka_unit_test(gamma_not_per_channel),
        cmocka_unit_test(intermediate_read_twice),
        cmocka_unit_test(graph_output_in_the_middle),
        cmocka_unit_test(no_form_available),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
