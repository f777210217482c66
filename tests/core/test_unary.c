/* Elementwise unary ops and activations (ops/core/unary.c) through the public
 * API, against formulas evaluated here in double precision from the ONNX
 * spec text: Sqrt, Reciprocal, Neg, Abs, Relu, LeakyRelu, Sigmoid, Tanh,
 * Erf, Exp, Log, HardSigmoid, HardSwish, Gelu (both approximations) and
 * Clip in its attribute (opset 6) and input (opset 11+) forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

/* ---- helpers ---------------------------------------------------------------- */

/* th_node_model with an optional callback that adds the node's attributes. */
static tb_model *model(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                       onnorm_dtype ydt, void (*attrs)(tb_node *, const void *),
                       const void *attr_arg)
{
    tb_node *nd;
    tb_model *b = th_node_model(r, opset, op, n, in, ydt, &nd);
    if (attrs) attrs(nd, attr_arg);
    return b;
}

/* ---- float ops against double formulas -------------------------------------- */

typedef double (*ref_fn)(double x, double alpha, double beta);

/* clang-format off */
static double r_sqrt(double x, double a, double b) { (void)a, (void)b; return sqrt(x); }
static double r_recip(double x, double a, double b) { (void)a, (void)b; return 1 / x; }
static double r_neg(double x, double a, double b) { (void)a, (void)b; return -x; }
static double r_abs(double x, double a, double b) { (void)a, (void)b; return fabs(x); }
static double r_relu(double x, double a, double b) { (void)a, (void)b; return x > 0 ? x : 0; }
static double r_leaky(double x, double a, double b) { (void)b; return x >= 0 ? x : a * x; }
static double r_sigmoid(double x, double a, double b) { (void)a, (void)b; return 1 / (1 + exp(-x)); }
static double r_tanh(double x, double a, double b) { (void)a, (void)b; return tanh(x); }
static double r_erf(double x, double a, double b) { (void)a, (void)b; return erf(x); }
static double r_exp(double x, double a, double b) { (void)a, (void)b; return exp(x); }
static double r_log(double x, double a, double b) { (void)a, (void)b; return log(x); }
static double r_hsig(double x, double a, double b) { return fmax(0, fmin(1, a * x + b)); }
static double r_hswish(double x, double a, double b)
{
    (void)a, (void)b;
    return x * fmax(0, fmin(1, x / 6 + 0.5));
}
static double r_gelu(double x, double a, double b) { (void)a, (void)b; return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double r_gelu_tanh(double x, double a, double b)
{
    (void)a, (void)b;
    return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
}
/* clang-format on */

typedef struct float_case {
    const char *op;
    int opset;
    ref_fn ref;
    double alpha, beta; /* values the reference uses */
    bool set_alpha;     /* write alpha/beta as attributes (else defaults apply) */
    const char *approximate;
    double lo, hi; /* input range */
} float_case;

static void case_attrs(tb_node *n, const void *arg)
{
    const float_case *c = arg;
    if (c->set_alpha) {
        tb_attr_float(n, "alpha", (float)c->alpha);
        if (!strcmp(c->op, "HardSigmoid")) tb_attr_float(n, "beta", (float)c->beta);
    }
    if (c->approximate) tb_attr_string(n, "approximate", c->approximate);
}

/* Runs c over n points spread across [lo, hi] in float32 and float64. */
static void check_case(const float_case *c, int64_t n, int threads)
{
    float *xf = malloc((size_t)n * sizeof *xf);
    double *xd = malloc((size_t)n * sizeof *xd);
    assert_true(xf && xd);
    for (int64_t i = 0; i < n; i++) {
        xf[i] = (float)(c->lo + (c->hi - c->lo) * (double)i / (double)(n > 1 ? n - 1 : 1));
        xd[i] = xf[i];
    }
    /* Attributes are float32 in ONNX: the kernel sees alpha rounded. */
    double *want = th_dalloc(n);
    for (int64_t i = 0; i < n; i++)
        want[i] = c->ref(xd[i], (float)c->alpha, (float)c->beta);
    for (int pass = 0; pass < 2; pass++) {
        onnorm_dtype dt = pass ? ONNORM_DOUBLE : ONNORM_FLOAT;
        th_tensor in = {"X", dt, 2, {1, n}, pass ? (const void *)xd : (const void *)xf, false};
        th_run r;
        th_ok(&r, th_go(&r, model(&r, c->opset, c->op, 1, &in, dt, case_attrs, c), threads), c->op);
        th_expect_output(&r, c->op, "Y", dt, 2, (int64_t[]){1, n}, want, pass ? 1e-14 : 2e-6);
        th_free(&r);
    }
    free(want);
    free(xf);
    free(xd);
}

static void float_activations(void **state)
{
    (void)state;
    const float_case cases[] = {
        {"Sqrt", 13, r_sqrt, 0, 0, false, NULL, 0, 100},
        {"Reciprocal", 13, r_recip, 0, 0, false, NULL, 0.01, 50},
        {"Neg", 13, r_neg, 0, 0, false, NULL, -5, 5},
        {"Abs", 13, r_abs, 0, 0, false, NULL, -5, 5},
        {"Relu", 14, r_relu, 0, 0, false, NULL, -5, 5},
        {"Relu", 6, r_relu, 0, 0, false, NULL, -5, 5},
        {"LeakyRelu", 16, r_leaky, 0.01, 0, false, NULL, -5, 5},
        {"LeakyRelu", 6, r_leaky, 0.3, 0, true, NULL, -5, 5},
        {"Sigmoid", 13, r_sigmoid, 0, 0, false, NULL, -90, 90},
        {"Tanh", 13, r_tanh, 0, 0, false, NULL, -20, 20},
        {"Erf", 13, r_erf, 0, 0, false, NULL, -4, 4},
        {"Exp", 13, r_exp, 0, 0, false, NULL, -20, 20},
        {"Log", 13, r_log, 0, 0, false, NULL, 1e-3, 1e3},
        {"HardSigmoid", 6, r_hsig, 0.2, 0.5, false, NULL, -5, 5},
        {"HardSigmoid", 6, r_hsig, 0.5, 0.6, true, NULL, -5, 5},
        {"HardSwish", 14, r_hswish, 0, 0, false, NULL, -5, 5},
        {"Gelu", 20, r_gelu, 0, 0, false, NULL, -6, 6},
        {"Gelu", 20, r_gelu, 0, 0, false, "none", -6, 6},
        {"Gelu", 20, r_gelu_tanh, 0, 0, false, "tanh", -6, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i], 1001, 1);
    /* Parallel chunks over a large tensor. */
    check_case(&cases[8], 100003, 4);
    check_case(&cases[18], 70001, 3);
}

/* Runs the node on one thread, asserting success; returns Y. */
static const void *run_y(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                         onnorm_dtype ydt, void (*attrs)(tb_node *, const void *),
                         const void *attr_arg)
{
    th_ok(r, th_go(r, model(r, opset, op, n, in, ydt, attrs, attr_arg), 1), op);
    return th_output(r, "Y", ydt, in[0].rank, in[0].dims);
}

static void gelu_tanh_differs_from_exact(void **state)
{
    (void)state;
    const float x[3] = {-1.5f, 0.5f, 2.0f};
    th_tensor in = {"X", ONNORM_FLOAT, 1, {3}, x, false};
    float_case tanh_case = {"Gelu", 20, r_gelu_tanh, 0, 0, false, "tanh", 0, 0};
    th_run r, e;
    const float *yt = run_y(&r, 20, "Gelu", 1, &in, ONNORM_FLOAT, case_attrs, &tanh_case);
    const float *ye = run_y(&e, 20, "Gelu", 1, &in, ONNORM_FLOAT, NULL, NULL);
    for (int i = 0; i < 3; i++) {
        assert_float_equal(yt[i], r_gelu_tanh(x[i], 0, 0), 1e-6);
        assert_true(fabsf(yt[i] - ye[i]) > 1e-5f); /* the two really differ */
    }
    th_free(&r);
    th_free(&e);
}

static void nan_passes_through(void **state)
{
    (void)state;
    static const char *ops[] = {"Relu", "HardSigmoid", "Sigmoid", "LeakyRelu", "Abs", "Sqrt"};
    const float x[2] = {NAN, 1};
    th_tensor in = {"X", ONNORM_FLOAT, 1, {2}, x, false};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        th_run r;
        const float *y = run_y(&r, 14, ops[i], 1, &in, ONNORM_FLOAT, NULL, NULL);
        assert_true(isnan(y[0]));
        th_free(&r);
    }
}

static void integer_ops(void **state)
{
    (void)state;
    const int64_t x[4] = {-5, 0, 7, INT64_MIN};
    th_tensor in = {"X", ONNORM_INT64, 1, {4}, x, false};
    const int64_t neg[4] = {5, 0, -7, INT64_MIN}, abs_[4] = {5, 0, 7, INT64_MIN},
                  relu[4] = {0, 0, 7, 0};
    const char *ops[3] = {"Neg", "Abs", "Relu"};
    const int64_t *want[3] = {neg, abs_, relu};
    for (int o = 0; o < 3; o++) {
        th_run r;
        const int64_t *y = run_y(&r, 14, ops[o], 1, &in, ONNORM_INT64, NULL, NULL);
        for (int i = 0; i < 4; i++)
            assert_int_equal(y[i], want[o][i]);
        th_free(&r);
    }
    const int32_t x32[3] = {-3, 4, INT32_MIN};
    th_tensor in32 = {"X", ONNORM_INT32, 1, {3}, x32, false};
    th_run r;
    const int32_t *y32 = run_y(&r, 13, "Neg", 1, &in32, ONNORM_INT32, NULL, NULL);
    const int32_t w32[3] = {3, -4, INT32_MIN};
    for (int i = 0; i < 3; i++)
        assert_int_equal(y32[i], w32[i]);
    th_free(&r);
    const uint8_t u[3] = {0, 200, 255};
    th_tensor inu = {"X", ONNORM_UINT8, 1, {3}, u, false};
    assert_memory_equal(run_y(&r, 13, "Abs", 1, &inu, ONNORM_UINT8, NULL, NULL), u, 3);
    th_free(&r);
}

/* ---- Clip ------------------------------------------------------------------------ */

typedef struct clip_attrs {
    bool has_min, has_max;
    float min, max;
} clip_attrs;

static void set_clip_attrs(tb_node *n, const void *arg)
{
    const clip_attrs *c = arg;
    if (c->has_min) tb_attr_float(n, "min", c->min);
    if (c->has_max) tb_attr_float(n, "max", c->max);
}

static const float clip_x[7] = {-10, -1.5f, -0.5f, 0, 0.5f, 1.5f, 10};

static double clip_ref(double x, double lo, double hi)
{
    return fmin(fmax(x, lo), hi);
}

/* Runs Clip on clip_x and checks Y against clip_ref(x, lo, hi). */
static void check_clip(int64_t opset, int n, const th_tensor *in, const clip_attrs *attrs,
                       double lo, double hi)
{
    th_run r;
    const float *y =
        run_y(&r, opset, "Clip", n, in, ONNORM_FLOAT, attrs ? set_clip_attrs : NULL, attrs);
    for (int i = 0; i < 7; i++)
        assert_true(y[i] == (float)clip_ref(clip_x[i], lo, hi));
    th_free(&r);
}

static void clip_attribute_form(void **state)
{
    (void)state;
    th_tensor in = {"X", ONNORM_FLOAT, 1, {7}, clip_x, false};
    const clip_attrs both = {true, true, -1, 1}, only_min = {true, false, -1, 0},
                     none = {false, false, 0, 0};
    for (int opset = 6; opset <= 10; opset += 4)
        check_clip(opset, 1, &in, &both, -1, 1);
    check_clip(6, 1, &in, &only_min, -1, INFINITY);
    check_clip(6, 1, &in, &none, -INFINITY, INFINITY);
    /* Clip-6 has no bound inputs. */
    const float lo[1] = {0};
    th_tensor two[2] = {in, {"lo", ONNORM_FLOAT, 0, {0}, lo, true}};
    th_run r;
    th_go_fails(&r, model(&r, 6, "Clip", 2, two, ONNORM_FLOAT, NULL, NULL), 1, TH_ANY_ERROR, NULL);
}

static void clip_input_form(void **state)
{
    (void)state;
    const float lo[1] = {-1}, hi[1] = {0.75f};
    th_tensor x = {"X", ONNORM_FLOAT, 1, {7}, clip_x, false};
    th_tensor tlo = {"lo", ONNORM_FLOAT, 0, {0}, lo, false},
              thi = {"hi", ONNORM_FLOAT, 0, {0}, hi, true};
    th_tensor omitted = {"", ONNORM_FLOAT, 0, {0}, NULL, false};
    th_tensor both[3] = {x, tlo, thi};
    for (int opset = 11; opset <= 13; opset++)
        check_clip(opset, 3, both, NULL, -1, 0.75);
    check_clip(13, 2, (th_tensor[]){x, tlo}, NULL, -1, INFINITY);
    check_clip(13, 3, (th_tensor[]){x, omitted, thi}, NULL, -INFINITY, 0.75);
    check_clip(12, 1, &x, NULL, -INFINITY, INFINITY);
    /* min > max: everything becomes max (spec). */
    th_tensor crossed[3] = {
        x, {"lo", ONNORM_FLOAT, 0, {0}, hi, false}, {"hi", ONNORM_FLOAT, 1, {1}, lo, false}};
    th_run r;
    const float *y = run_y(&r, 13, "Clip", 3, crossed, ONNORM_FLOAT, NULL, NULL);
    for (int i = 0; i < 7; i++)
        assert_true(y[i] == -1.0f);
    th_free(&r);
}

static void clip_integers(void **state)
{
    (void)state;
    const int64_t x[5] = {INT64_MIN, -3, 0, 3, INT64_MAX}, lo[1] = {-2}, hi[1] = {INT64_MAX - 1};
    th_tensor in[3] = {{"X", ONNORM_INT64, 1, {5}, x, false},
                       {"lo", ONNORM_INT64, 0, {0}, lo, true},
                       {"hi", ONNORM_INT64, 0, {0}, hi, true}};
    th_run r;
    const int64_t *y = run_y(&r, 13, "Clip", 3, in, ONNORM_INT64, NULL, NULL);
    const int64_t want[5] = {-2, -2, 0, 3, INT64_MAX - 1}; /* exact: not rounded through double */
    for (int i = 0; i < 5; i++)
        assert_int_equal(y[i], want[i]);
    th_free(&r);
    const int8_t x8[4] = {-128, -5, 5, 127}, hi8[1] = {6};
    th_tensor in8[3] = {{"X", ONNORM_INT8, 1, {4}, x8, false},
                        {"", ONNORM_INT8, 0, {0}, NULL, false},
                        {"hi", ONNORM_INT8, 0, {0}, hi8, false}};
    const int8_t w8[4] = {-128, -5, 5, 6};
    assert_memory_equal(run_y(&r, 13, "Clip", 3, in8, ONNORM_INT8, NULL, NULL), w8, 4);
    th_free(&r);
}

/* Builds the node and expects its run to fail with `code`. */
static void node_fails(int64_t opset, const char *op, int n, const th_tensor *in, onnorm_dtype ydt,
                       const void *attr_arg, onnorm_status code)
{
    th_run r;
    th_go_fails(&r, model(&r, opset, op, n, in, ydt, attr_arg ? case_attrs : NULL, attr_arg), 1,
                code, NULL);
}

static void errors(void **state)
{
    (void)state;
    const int64_t xi[2] = {1, 2};
    const float xf[2] = {1, 2}, b2[2] = {0, 1};
    const double d1[1] = {0};
    th_tensor ints = {"X", ONNORM_INT64, 1, {2}, xi, false};
    static const char *float_only[] = {"Sqrt", "Exp", "Sigmoid", "LeakyRelu", "HardSwish"};
    for (size_t i = 0; i < sizeof float_only / sizeof float_only[0]; i++)
        node_fails(14, float_only[i], 1, &ints, ONNORM_INT64, NULL, ONNORM_ERR_DTYPE);
    /* Clip-6's float bounds do not apply to integers. */
    node_fails(6, "Clip", 1, &ints, ONNORM_INT64, NULL, ONNORM_ERR_DTYPE);
    th_tensor x = {"X", ONNORM_FLOAT, 1, {2}, xf, false};
    th_tensor vec_bound[2] = {x, {"lo", ONNORM_FLOAT, 1, {2}, b2, true}};
    node_fails(13, "Clip", 2, vec_bound, ONNORM_FLOAT, NULL, ONNORM_ERR_SHAPE);
    th_tensor typed_bound[2] = {x, {"lo", ONNORM_DOUBLE, 0, {0}, d1, true}};
    node_fails(13, "Clip", 2, typed_bound, ONNORM_FLOAT, NULL, ONNORM_ERR_DTYPE);
    float_case bad = {"Gelu", 20, r_gelu, 0, 0, false, "erf", 0, 0};
    node_fails(20, "Gelu", 1, &x, ONNORM_FLOAT, &bad, ONNORM_ERR_UNSUPPORTED);
    /* Gelu does not exist before opset 20; HardSwish before 14. */
    node_fails(19, "Gelu", 1, &x, ONNORM_FLOAT, NULL, ONNORM_ERR_UNSUPPORTED);
    node_fails(13, "HardSwish", 1, &x, ONNORM_FLOAT, NULL, ONNORM_ERR_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_activations),   cmocka_unit_test(gelu_tanh_differs_from_exact),
        cmocka_unit_test(nan_passes_through),  cmocka_unit_test(integer_ops),
        cmocka_unit_test(clip_attribute_form), cmocka_unit_test(clip_input_form),
        cmocka_unit_test(clip_integers),       cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
