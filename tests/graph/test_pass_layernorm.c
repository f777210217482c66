/*
 * The layernorm and rmsnorm passes (graph/pass_layernorm.c). Decomposed
 * normalizations are built as exporters write them,
 *   ReduceMean -> Sub -> Pow(2) -> ReduceMean -> Add(eps) -> Sqrt -> Div
 *   [-> Mul(gamma)] [-> Add(beta)]          (and the RMS chain without Sub),
 * at opsets 13, 14 (axes attribute) and 18 (axes input). Each positive case
 * checks that one fused node replaced the chain and that the optimized model
 * gives the original's outputs (the original runs with optimization level
 * 0); each negative case checks that the graph is unchanged and that the
 * report says why.
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

typedef struct spec {
    int64_t opset;
    int rank;
    int64_t dims[4];
    int n_axes;
    int64_t axes[3];
    int n_axes_var; /* 0: the variance uses the mean's axes */
    int64_t axes_var[3];
    float exponent; /* 0: 2 */
    bool rms;       /* the RMS chain (no mean subtraction, no bias) */
    bool mul_square, cast, reciprocal, gamma, beta;
    int gamma_rank;       /* 0: the normalized shape; else gamma's trailing dims */
    bool gamma_per_row;   /* gamma of shape [X.shape[-2], 1]: scales rows, not features */
    bool reshape_input;   /* normalize Reshape(x, Shape(x)), as attention exports do */
    bool rank_unknown;    /* x declared without a shape */
    bool mean_output;     /* the mean (or the squares, for RMS) is a graph output too */
    bool eps_overridable; /* eps is a graph input with an initializer */
    bool prelu;           /* an unrelated PRelu, whose kernel changes at opsets 9 and 16 */
    bool reduce_outside;  /* an unrelated ReduceMean, whose kernel changes at opset 18 */
} spec;

/* ---- building ------------------------------------------------------------- */

/* ReduceMean over `axes`: attribute before opset 18, constant input from 18. */
static void add_mean(tb_model *b, const spec *s, const char *in, const char *out, int n,
                     const int64_t *axes)
{
    char axes_name[64];
    snprintf(axes_name, sizeof axes_name, "%s_axes", out);
    tb_node *nd;
    if (s->opset >= 18) {
        tb_init(b, axes_name, ONNORM_INT64, 1, (int64_t[]){n}, axes);
        nd = tb_node_add(b, "ReduceMean", out, 2, (const char *[]){in, axes_name}, 1,
                         (const char *[]){out});
    } else {
        nd = tb_node_add(b, "ReduceMean", out, 1, (const char *[]){in}, 1, (const char *[]){out});
        tb_attr_ints(nd, "axes", n, axes);
    }
    tb_attr_int(nd, "keepdims", 1);
}

/* gamma/beta: the trailing `rank` dims of X (the normalized shape by default). */
static void add_param(tb_model *b, const spec *s, const char *name, float base, float step)
{
    int rank = s->gamma_rank ? s->gamma_rank : s->n_axes;
    const int64_t *dims = s->dims + s->rank - rank;
    const int64_t per_row[2] = {s->dims[s->rank - 2], 1};
    if (s->gamma_per_row) rank = 2, dims = per_row;
    int64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= dims[k];
    float *v = malloc((size_t)n * sizeof *v);
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = base + step * (float)i;
    tb_init(b, name, ONNORM_FLOAT, rank, dims, v);
    free(v);
}

/* [Cast] -> Pow(., exponent) | Mul(a, a) -> [Cast]: returns the squares' name. */
static const char *add_square(tb_model *b, const spec *s, const char *base)
{
    const char *a = base;
    if (s->cast) {
        tb_attr_int(tb_node_add(b, "Cast", "cast_in", 1, (const char *[]){base}, 1,
                                (const char *[]){"sq_in"}),
                    "to", ONNORM_FLOAT);
        a = "sq_in";
    }
    if (s->mul_square) {
        tb_node_add(b, "Mul", "square", 2, (const char *[]){a, a}, 1, (const char *[]){"sq0"});
    } else {
        const float e = s->exponent != 0 ? s->exponent : 2.0f;
        tb_init(b, "exponent", ONNORM_FLOAT, 0, NULL, &e);
        tb_node_add(b, "Pow", "square", 2, (const char *[]){a, "exponent"}, 1,
                    (const char *[]){"sq0"});
    }
    if (!s->cast) return "sq0";
    tb_attr_int(
        tb_node_add(b, "Cast", "cast_out", 1, (const char *[]){"sq0"}, 1, (const char *[]){"sq"}),
        "to", ONNORM_FLOAT);
    return "sq";
}

/* The chain from the centred value `num` and its squares to output "y". */
static void add_tail(tb_model *b, const spec *s, const char *num, const char *sq)
{
    const float eps = 1e-5f;
    tb_init(b, "eps", ONNORM_FLOAT, 0, NULL, &eps);
    if (s->eps_overridable) tb_input(b, "eps", ONNORM_FLOAT, 0, NULL);
    if (s->n_axes_var)
        add_mean(b, s, sq, "var", s->n_axes_var, s->axes_var);
    else
        add_mean(b, s, sq, "var", s->n_axes, s->axes);
    tb_node_add(b, "Add", "add_eps", 2, (const char *[]){"var", "eps"}, 1, (const char *[]){"ve"});
    tb_node_add(b, "Sqrt", "sqrt", 1, (const char *[]){"ve"}, 1, (const char *[]){"sd"});
    const bool more = s->gamma || s->beta;
    const char *n_out = more ? "n" : "y";
    if (s->reciprocal) {
        tb_node_add(b, "Reciprocal", "recip", 1, (const char *[]){"sd"}, 1, (const char *[]){"rs"});
        tb_node_add(b, "Mul", "normalize", 2, (const char *[]){num, "rs"}, 1,
                    (const char *[]){n_out});
    } else {
        tb_node_add(b, "Div", "normalize", 2, (const char *[]){num, "sd"}, 1,
                    (const char *[]){n_out});
    }
    if (s->gamma) {
        add_param(b, s, "gamma", 0.5f, 0.125f);
        tb_node_add(b, "Mul", "scale", 2, (const char *[]){"n", "gamma"}, 1,
                    (const char *[]){s->beta ? "ng" : "y"});
    }
    if (s->beta) {
        add_param(b, s, "beta", -0.25f, 0.0625f);
        tb_node_add(b, "Add", "bias", 2, (const char *[]){"beta", s->gamma ? "ng" : "n"}, 1,
                    (const char *[]){"y"});
    }
}

/* Unrelated nodes whose kernels change with the opset. */
static void add_blockers(tb_model *b, const spec *s)
{
    if (s->prelu) {
        const float slope = 0.25f;
        tb_init(b, "slope", ONNORM_FLOAT, 0, NULL, &slope);
        tb_node_add(b, "PRelu", "prelu", 2, (const char *[]){"x", "slope"}, 1,
                    (const char *[]){"p"});
        tb_output(b, "p", ONNORM_FLOAT);
    }
    if (s->reduce_outside) {
        add_mean(b, s, "x", "m_outside", 1, (const int64_t[]){-1});
        tb_output(b, "m_outside", ONNORM_FLOAT);
    }
}

static tb_model *build(const spec *s)
{
    tb_model *b = tb_new(s->opset);
    tb_input(b, "x", ONNORM_FLOAT, s->rank_unknown ? -1 : s->rank, s->dims);
    const char *x = "x";
    if (s->reshape_input) {
        tb_node_add(b, "Shape", "shape", 1, (const char *[]){"x"}, 1, (const char *[]){"xs"});
        tb_node_add(b, "Reshape", "reshape", 2, (const char *[]){"x", "xs"}, 1,
                    (const char *[]){"xr"});
        x = "xr";
    }
    if (s->rms) {
        add_tail(b, s, x, add_square(b, s, x));
        if (s->mean_output) tb_output(b, "sq0", ONNORM_FLOAT);
    } else {
        add_mean(b, s, x, "mu", s->n_axes, s->axes);
        tb_node_add(b, "Sub", "center", 2, (const char *[]){x, "mu"}, 1, (const char *[]){"d"});
        add_tail(b, s, "d", add_square(b, s, "d"));
        if (s->mean_output) tb_output(b, "mu", ONNORM_FLOAT);
    }
    tb_output(b, "y", ONNORM_FLOAT);
    add_blockers(b, s);
    return b;
}

/* ---- running ---------------------------------------------------------------- */

static int64_t input_numel(const spec *s)
{
    int64_t n = 1;
    for (int k = 0; k < s->rank; k++)
        n *= s->dims[k];
    return n;
}

/* Runs m without further optimization on a fixed input. */
static void run(th_run *r, const onnorm_model *m, const spec *s)
{
    int64_t len = input_numel(s);
    float *x = malloc((size_t)len * sizeof *x);
    assert_non_null(x);
    for (int64_t i = 0; i < len; i++)
        x[i] = 2.0f * sinf(0.37f * (float)i) + 0.25f * (float)(i % 7) - 0.5f;
    const onnorm_session_options o = th_options(0, 0);
    th_ok(r,
          th_run_loaded(r, m, &o, 1, (th_tensor[]){th_in("x", ONNORM_FLOAT, s->rank, s->dims, x)}),
          "run");
    free(x);
}

/* Output `name` of the optimized model is the original's (NaN where the
 * original gives NaN: the cube's mean may be negative). */
static void compare(const onnorm_model *a, const onnorm_model *b, const spec *s, const char *name)
{
    th_run ra, rb;
    run(&ra, a, s);
    run(&rb, b, s);
    th_expect_same_output(&ra, &rb, name, 1e-6, 1e-5, TH_NAN_EQUAL);
    th_free(&ra);
    th_free(&rb);
}

static int64_t ai_onnx_opset(const onnorm_model *m)
{
    for (int i = 0; i < onnorm_model_opset_count(m); i++) {
        const char *dom;
        int64_t v;
        onnorm_model_opset(m, i, &dom, &v);
        if (!dom[0] || !strcmp(dom, "ai.onnx")) return v;
    }
    return -1;
}

/* Loads s, optimizes it; the caller frees both models. */
static void optimize(const spec *s, onnorm_model **orig, onnorm_model **opt, char *report,
                     size_t len)
{
    *orig = th_load(build(s));
    *opt = th_optimize(*orig, report, len);
}

/* The chain became one fused node (plus what the spec adds outside it). */
static void expect_fused(const spec *s)
{
    onnorm_model *orig, *opt;
    char report[4096];
    optimize(s, &orig, &opt, report, sizeof report);
    const char *fused = s->rms ? "RMSNormalization" : "LayerNormalization";
    const int outside = s->prelu + s->reduce_outside + 2 * s->reshape_input;
    if (onnorm_model_node_count(opt) != 1 + outside || th_count_op(opt, fused, NULL) != 1)
        fail_msg("expected one %s, got %d nodes; report:\n%s", fused, onnorm_model_node_count(opt),
                 report);
    assert_int_equal(th_count_op(opt, "ReduceMean", NULL), s->reduce_outside);
    assert_true(ai_onnx_opset(opt) >= (s->rms ? 23 : 17));
    compare(orig, opt, s, "y");
    onnorm_model_free(opt);
    onnorm_model_free(orig);
}

/* Nothing changed and the report names the reason. */
static void expect_left_alone(const spec *s, const char *reason)
{
    onnorm_model *orig, *opt;
    char report[4096];
    optimize(s, &orig, &opt, report, sizeof report);
    assert_int_equal(onnorm_model_node_count(opt), onnorm_model_node_count(orig));
    assert_int_equal(th_count_op(opt, "LayerNormalization", NULL), 0);
    assert_int_equal(th_count_op(opt, "RMSNormalization", NULL), 0);
    assert_int_equal(ai_onnx_opset(opt), s->opset);
    if (!strstr(report, reason)) fail_msg("report lacks \"%s\":\n%s", reason, report);
    compare(orig, opt, s, "y");
    onnorm_model_free(opt);
    onnorm_model_free(orig);
}

/* ---- specs ------------------------------------------------------------------ */

/* X [4, 16], normalized over the last axis, full affine. */
static spec base_2d(int64_t opset)
{
    spec s = {.opset = opset,
              .rank = 2,
              .dims = {4, 16},
              .n_axes = 1,
              .axes = {-1},
              .gamma = true,
              .beta = true};
    return s;
}

/* X [2, 3, 8]. */
static spec base_3d(int64_t opset, int n_axes)
{
    spec s = {.opset = opset,
              .rank = 3,
              .dims = {2, 3, 8},
              .n_axes = n_axes,
              .gamma = true,
              .beta = true};
    if (n_axes == 1)
        s.axes[0] = -1;
    else
        s.axes[0] = -2, s.axes[1] = -1;
    return s;
}

static spec base_rms(int64_t opset)
{
    spec s = {.opset = opset,
              .rank = 3,
              .dims = {2, 3, 16},
              .n_axes = 1,
              .axes = {-1},
              .rms = true,
              .gamma = true};
    return s;
}

/* ---- LayerNormalization: positive ---------------------------------------------- */

static void ln_affine_each_opset(void **state)
{
    (void)state;
    const int64_t opsets[] = {13, 14, 17, 18};
    for (size_t i = 0; i < sizeof opsets / sizeof opsets[0]; i++) {
        spec s = base_2d(opsets[i]);
        expect_fused(&s);
    }
}

static void ln_without_affine(void **state)
{
    (void)state;
    const int64_t opsets[] = {13, 14, 18};
    for (size_t i = 0; i < sizeof opsets / sizeof opsets[0]; i++) {
        spec s = base_2d(opsets[i]);
        s.gamma = s.beta = false;
        expect_fused(&s);
        s.gamma = true; /* scale only */
        expect_fused(&s);
        s.gamma = false, s.beta = true; /* bias only: Scale becomes ones */
        expect_fused(&s);
    }
}

static void ln_reciprocal_variant(void **state)
{
    (void)state;
    const int64_t opsets[] = {13, 14, 18};
    for (size_t i = 0; i < sizeof opsets / sizeof opsets[0]; i++) {
        spec s = base_2d(opsets[i]);
        s.reciprocal = true;
        expect_fused(&s);
    }
}

static void ln_mul_square_and_casts(void **state)
{
    (void)state;
    const int64_t opsets[] = {13, 14, 18};
    for (size_t i = 0; i < sizeof opsets / sizeof opsets[0]; i++) {
        spec s = base_2d(opsets[i]);
        s.cast = true;
        expect_fused(&s);
        s.mul_square = true;
        expect_fused(&s);
        s.cast = false;
        expect_fused(&s);
    }
}

static void ln_3d_one_and_two_axes(void **state)
{
    (void)state;
    const int64_t opsets[] = {13, 14, 18};
    for (size_t i = 0; i < sizeof opsets / sizeof opsets[0]; i++) {
        spec s = base_3d(opsets[i], 1);
        expect_fused(&s);
        s = base_3d(opsets[i], 2);
        expect_fused(&s);
        s.axes[0] = 1, s.axes[1] = 2; /* positive axes name the same dims */
        expect_fused(&s);
    }
}

/* gamma/beta of shape [8] over the normalized shape [3, 8], and of shape
 * [1, 3, 8], become new constants of exactly the normalized shape. */
static void ln_broadcast_affine(void **state)
{
    (void)state;
    spec s = base_3d(14, 2);
    s.gamma_rank = 1;
    expect_fused(&s);
    s.gamma_rank = 3;
    s.dims[0] = 1; /* gamma [1, 3, 8] broadcasts without growing X [1, 3, 8] */
    expect_fused(&s);
}

/* X's shape is only known by evaluating Shape (the static shape inference
 * stops at the Reshape), and Shape-1 -> Shape-15 must not block the raise. */
static void ln_input_through_shape_reshape(void **state)
{
    (void)state;
    spec s = base_3d(14, 1);
    s.reshape_input = true;
    expect_fused(&s);
    s = base_rms(14);
    s.reshape_input = true;
    expect_fused(&s);
}

/* ---- LayerNormalization: left alone --------------------------------------------- */

static void ln_exponent_three(void **state)
{
    (void)state;
    spec s = base_2d(14);
    s.exponent = 3.0f;
    expect_left_alone(&s, "the exponent is 3, not 2");
}

static void ln_axes_not_trailing(void **state)
{
    (void)state;
    spec s = base_3d(14, 1);
    s.axes[0] = 1;
    s.gamma = s.beta = false;
    expect_left_alone(&s, "are not the trailing ones");
    s.opset = 18;
    expect_left_alone(&s, "are not the trailing ones");
}

static void ln_axes_differ(void **state)
{
    (void)state;
    spec s = base_3d(14, 1);
    s.gamma = s.beta = false;
    s.n_axes_var = 2, s.axes_var[0] = -2, s.axes_var[1] = -1;
    expect_left_alone(&s, "the mean reduces axes [2] but the variance axes [1,2]");
}

static void ln_mean_also_output(void **state)
{
    (void)state;
    spec s = base_2d(14);
    s.mean_output = true;
    expect_left_alone(&s, "the mean 'mu' has other readers or is a graph output");
}

static void ln_eps_not_constant(void **state)
{
    (void)state;
    spec s = base_2d(14);
    s.eps_overridable = true;
    expect_left_alone(&s, "epsilon 'eps' is not a constant float scalar");
}

static void ln_rank_unknown(void **state)
{
    (void)state;
    spec s = base_2d(14);
    s.rank_unknown = true;
    expect_left_alone(&s, "the rank of 'x' is unknown");
}

static void ln_gamma_scales_rows(void **state)
{
    (void)state;
    spec s = base_3d(14, 1);
    s.gamma_per_row = true, s.beta = false;
    expect_left_alone(&s, "scale 'gamma' of shape [3,1] does not broadcast to the normalized "
                          "shape [8]");
}

static void ln_opset_raise_blocked(void **state)
{
    (void)state;
    /* Opset 8: between 8 and 17 PRelu (9: integer types, 16) and Pow (12: mixed
     * types) got versions that onnorm does not treat as pure widenings. */
    spec s = base_2d(8);
    s.prelu = true;
    expect_left_alone(&s, "needs opset 17 and raising the opset from 8 to 17 would change");
    s.opset = 17; /* nothing to raise: fused, the PRelu stays */
    expect_fused(&s);
}

/* ---- RMSNormalization -------------------------------------------------------------- */

static void rms_fused(void **state)
{
    (void)state;
    const int64_t opsets[] = {14, 18, 23};
    for (size_t i = 0; i < sizeof opsets / sizeof opsets[0]; i++) {
        spec s = base_rms(opsets[i]);
        expect_fused(&s);
        s.reciprocal = true, s.mul_square = true;
        expect_fused(&s);
        s.cast = true, s.gamma = false;
        expect_fused(&s);
    }
}

static void rms_opset_raise_blocked(void **state)
{
    (void)state;
    spec s = base_rms(14);
    s.reduce_outside = true; /* its own ReduceMean goes away; this one would change */
    expect_left_alone(&s, "needs opset 23 and raising the opset from 14 to 23 would change "
                          "ReduceMean");
    s.opset = 18; /* ReduceMean-18 stays ReduceMean-18 up to 23 */
    expect_fused(&s);
}

static void rms_squares_also_output(void **state)
{
    (void)state;
    spec s = base_rms(23);
    s.mean_output = true;
    expect_left_alone(&s, "have readers besides the ReduceMean");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ln_affine_each_opset),
        cmocka_unit_test(ln_without_affine),
        cmocka_unit_test(ln_reciprocal_variant),
        cmocka_unit_test(ln_mul_square_and_casts),
        cmocka_unit_test(ln_3d_one_and_two_axes),
        cmocka_unit_test(ln_broadcast_affine),
        cmocka_unit_test(ln_input_through_shape_reshape),
        cmocka_unit_test(ln_exponent_three),
        cmocka_unit_test(ln_axes_not_trailing),
        cmocka_unit_test(ln_axes_differ),
        cmocka_unit_test(ln_mean_also_output),
        cmocka_unit_test(ln_eps_not_constant),
        cmocka_unit_test(ln_rank_unknown),
        cmocka_unit_test(ln_gamma_scales_rows),
        cmocka_unit_test(ln_opset_raise_blocked),
        cmocka_unit_test(rms_fused),
        cmocka_unit_test(rms_opset_raise_blocked),
        cmocka_unit_test(rms_squares_also_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
