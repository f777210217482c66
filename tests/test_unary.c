/* Elementwise unary ops and activations (ops/unary.c) through the public
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
#include "oprun.h"

/* ---- harness ---------------------------------------------------------------- */

/* or_model with an optional callback that adds the node's attributes. */
static tb_model *model(int64_t opset, const char *op, int n, const or_arg *in, onnorm_dtype ydt,
                       void (*attrs)(tb_node *, const void *), const void *attr_arg)
{
    tb_node *nd;
    tb_model *b = or_model(opset, op, n, in, ydt, &nd);
    if (attrs) attrs(nd, attr_arg);
    return b;
}

static void expect_status(onnorm_status st, onnorm_status want, const or_run *r, const char *what)
{
    if (st != want)
        fail_msg("%s: expected status %d, got %d (%s)", what, (int)want, (int)st, r->e.message);
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
    for (int pass = 0; pass < 2; pass++) {
        onnorm_dtype dt = pass ? ONNORM_DOUBLE : ONNORM_FLOAT;
        or_arg in = {"X", dt, 2, {1, n}, pass ? (const void *)xd : (const void *)xf, false};
        or_run r;
        onnorm_status st =
            or_exec(&r, model(c->opset, c->op, 1, &in, dt, case_attrs, c), 1, &in, threads);
        if (st) fail_msg("%s: %s", c->op, r.e.message);
        assert_int_equal(r.y.dtype, dt);
        assert_int_equal(r.y.rank, 2);
        assert_int_equal(r.y.dims[1], n);
        const double tol = pass ? 1e-14 : 2e-6;
        for (int64_t i = 0; i < n; i++) {
            /* Attributes are float32 in ONNX: the kernel sees alpha rounded. */
            double want = c->ref(xd[i], (float)c->alpha, (float)c->beta);
            double got = pass ? ((const double *)r.y.data)[i] : ((const float *)r.y.data)[i];
            if (isnan(want) ? !isnan(got) : fabs(got - want) > tol * (1 + fabs(want)))
                fail_msg("%s %s x=%.9g: got %.17g, want %.17g", c->op, pass ? "f64" : "f32", xd[i],
                         got, want);
        }
        or_done(&r);
    }
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

static void gelu_tanh_differs_from_exact(void **state)
{
    (void)state;
    const float x[3] = {-1.5f, 0.5f, 2.0f};
    or_arg in = {"X", ONNORM_FLOAT, 1, {3}, x, false};
    float_case tanh_case = {"Gelu", 20, r_gelu_tanh, 0, 0, false, "tanh", 0, 0};
    or_run r, e;
    assert_int_equal(
        or_exec(&r, model(20, "Gelu", 1, &in, ONNORM_FLOAT, case_attrs, &tanh_case), 1, &in, 1),
        ONNORM_OK);
    assert_int_equal(or_exec(&e, model(20, "Gelu", 1, &in, ONNORM_FLOAT, NULL, NULL), 1, &in, 1),
                     ONNORM_OK);
    for (int i = 0; i < 3; i++) {
        float t = ((const float *)r.y.data)[i], g = ((const float *)e.y.data)[i];
        assert_float_equal(t, r_gelu_tanh(x[i], 0, 0), 1e-6);
        assert_true(fabsf(t - g) > 1e-5f); /* the two really differ */
    }
    or_done(&r);
    or_done(&e);
}

static void nan_passes_through(void **state)
{
    (void)state;
    static const char *ops[] = {"Relu", "HardSigmoid", "Sigmoid", "LeakyRelu", "Abs", "Sqrt"};
    const float x[2] = {NAN, 1};
    or_arg in = {"X", ONNORM_FLOAT, 1, {2}, x, false};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        or_run r;
        assert_int_equal(
            or_exec(&r, model(14, ops[i], 1, &in, ONNORM_FLOAT, NULL, NULL), 1, &in, 1), ONNORM_OK);
        assert_true(isnan(((const float *)r.y.data)[0]));
        or_done(&r);
    }
}

static void integer_ops(void **state)
{
    (void)state;
    const int64_t x[4] = {-5, 0, 7, INT64_MIN};
    or_arg in = {"X", ONNORM_INT64, 1, {4}, x, false};
    const int64_t neg[4] = {5, 0, -7, INT64_MIN}, abs_[4] = {5, 0, 7, INT64_MIN},
                  relu[4] = {0, 0, 7, 0};
    const char *ops[3] = {"Neg", "Abs", "Relu"};
    const int64_t *want[3] = {neg, abs_, relu};
    for (int o = 0; o < 3; o++) {
        or_run r;
        assert_int_equal(
            or_exec(&r, model(14, ops[o], 1, &in, ONNORM_INT64, NULL, NULL), 1, &in, 1), ONNORM_OK);
        for (int i = 0; i < 4; i++)
            assert_int_equal(((const int64_t *)r.y.data)[i], want[o][i]);
        or_done(&r);
    }
    const int32_t x32[3] = {-3, 4, INT32_MIN};
    or_arg in32 = {"X", ONNORM_INT32, 1, {3}, x32, false};
    or_run r;
    assert_int_equal(or_exec(&r, model(13, "Neg", 1, &in32, ONNORM_INT32, NULL, NULL), 1, &in32, 1),
                     ONNORM_OK);
    const int32_t w32[3] = {3, -4, INT32_MIN};
    for (int i = 0; i < 3; i++)
        assert_int_equal(((const int32_t *)r.y.data)[i], w32[i]);
    or_done(&r);
    const uint8_t u[3] = {0, 200, 255};
    or_arg inu = {"X", ONNORM_UINT8, 1, {3}, u, false};
    assert_int_equal(or_exec(&r, model(13, "Abs", 1, &inu, ONNORM_UINT8, NULL, NULL), 1, &inu, 1),
                     ONNORM_OK);
    assert_memory_equal(r.y.data, u, 3);
    or_done(&r);
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

static void check_clip_output(const or_run *r, double lo, double hi)
{
    for (int i = 0; i < 7; i++)
        assert_true(((const float *)r->y.data)[i] == (float)clip_ref(clip_x[i], lo, hi));
}

static void clip_attribute_form(void **state)
{
    (void)state;
    or_arg in = {"X", ONNORM_FLOAT, 1, {7}, clip_x, false};
    const clip_attrs both = {true, true, -1, 1}, only_min = {true, false, -1, 0},
                     none = {false, false, 0, 0};
    or_run r;
    for (int opset = 6; opset <= 10; opset += 4) {
        assert_int_equal(or_exec(&r,
                                 model(opset, "Clip", 1, &in, ONNORM_FLOAT, set_clip_attrs, &both),
                                 1, &in, 1),
                         ONNORM_OK);
        check_clip_output(&r, -1, 1);
        or_done(&r);
    }
    assert_int_equal(
        or_exec(&r, model(6, "Clip", 1, &in, ONNORM_FLOAT, set_clip_attrs, &only_min), 1, &in, 1),
        ONNORM_OK);
    check_clip_output(&r, -1, INFINITY);
    or_done(&r);
    assert_int_equal(
        or_exec(&r, model(6, "Clip", 1, &in, ONNORM_FLOAT, set_clip_attrs, &none), 1, &in, 1),
        ONNORM_OK);
    check_clip_output(&r, -INFINITY, INFINITY);
    or_done(&r);
    /* Clip-6 has no bound inputs. */
    const float lo[1] = {0};
    or_arg two[2] = {in, {"lo", ONNORM_FLOAT, 0, {0}, lo, true}};
    onnorm_status st = or_exec(&r, model(6, "Clip", 2, two, ONNORM_FLOAT, NULL, NULL), 2, two, 1);
    assert_int_not_equal(st, ONNORM_OK);
    or_done(&r);
}

static void clip_input_form(void **state)
{
    (void)state;
    const float lo[1] = {-1}, hi[1] = {0.75f};
    or_arg x = {"X", ONNORM_FLOAT, 1, {7}, clip_x, false};
    or_arg tlo = {"lo", ONNORM_FLOAT, 0, {0}, lo, false},
           thi = {"hi", ONNORM_FLOAT, 0, {0}, hi, true};
    or_arg omitted = {"", ONNORM_FLOAT, 0, {0}, NULL, false};
    or_run r;
    or_arg both[3] = {x, tlo, thi};
    for (int opset = 11; opset <= 13; opset++) {
        assert_int_equal(
            or_exec(&r, model(opset, "Clip", 3, both, ONNORM_FLOAT, NULL, NULL), 3, both, 1),
            ONNORM_OK);
        check_clip_output(&r, -1, 0.75);
        or_done(&r);
    }
    or_arg only_min[2] = {x, tlo};
    assert_int_equal(
        or_exec(&r, model(13, "Clip", 2, only_min, ONNORM_FLOAT, NULL, NULL), 2, only_min, 1),
        ONNORM_OK);
    check_clip_output(&r, -1, INFINITY);
    or_done(&r);
    or_arg only_max[3] = {x, omitted, thi};
    assert_int_equal(
        or_exec(&r, model(13, "Clip", 3, only_max, ONNORM_FLOAT, NULL, NULL), 3, only_max, 1),
        ONNORM_OK);
    check_clip_output(&r, -INFINITY, 0.75);
    or_done(&r);
    assert_int_equal(or_exec(&r, model(12, "Clip", 1, &x, ONNORM_FLOAT, NULL, NULL), 1, &x, 1),
                     ONNORM_OK);
    check_clip_output(&r, -INFINITY, INFINITY);
    or_done(&r);
    /* min > max: everything becomes max (spec). */
    or_arg crossed[3] = {
        x, {"lo", ONNORM_FLOAT, 0, {0}, hi, false}, {"hi", ONNORM_FLOAT, 1, {1}, lo, false}};
    assert_int_equal(
        or_exec(&r, model(13, "Clip", 3, crossed, ONNORM_FLOAT, NULL, NULL), 3, crossed, 1),
        ONNORM_OK);
    for (int i = 0; i < 7; i++)
        assert_true(((const float *)r.y.data)[i] == -1.0f);
    or_done(&r);
}

static void clip_integers(void **state)
{
    (void)state;
    const int64_t x[5] = {INT64_MIN, -3, 0, 3, INT64_MAX}, lo[1] = {-2}, hi[1] = {INT64_MAX - 1};
    or_arg in[3] = {{"X", ONNORM_INT64, 1, {5}, x, false},
                    {"lo", ONNORM_INT64, 0, {0}, lo, true},
                    {"hi", ONNORM_INT64, 0, {0}, hi, true}};
    or_run r;
    assert_int_equal(or_exec(&r, model(13, "Clip", 3, in, ONNORM_INT64, NULL, NULL), 3, in, 1),
                     ONNORM_OK);
    const int64_t want[5] = {-2, -2, 0, 3, INT64_MAX - 1}; /* exact: not rounded through double */
    for (int i = 0; i < 5; i++)
        assert_int_equal(((const int64_t *)r.y.data)[i], want[i]);
    or_done(&r);
    const int8_t x8[4] = {-128, -5, 5, 127}, hi8[1] = {6};
    or_arg in8[3] = {{"X", ONNORM_INT8, 1, {4}, x8, false},
                     {"", ONNORM_INT8, 0, {0}, NULL, false},
                     {"hi", ONNORM_INT8, 0, {0}, hi8, false}};
    assert_int_equal(or_exec(&r, model(13, "Clip", 3, in8, ONNORM_INT8, NULL, NULL), 3, in8, 1),
                     ONNORM_OK);
    const int8_t w8[4] = {-128, -5, 5, 6};
    assert_memory_equal(r.y.data, w8, 4);
    or_done(&r);
}

static void errors(void **state)
{
    (void)state;
    const int64_t xi[2] = {1, 2};
    const float xf[2] = {1, 2}, b2[2] = {0, 1};
    const double d1[1] = {0};
    or_arg ints = {"X", ONNORM_INT64, 1, {2}, xi, false};
    or_run r;
    static const char *float_only[] = {"Sqrt", "Exp", "Sigmoid", "LeakyRelu", "HardSwish"};
    for (size_t i = 0; i < sizeof float_only / sizeof float_only[0]; i++) {
        onnorm_status st =
            or_exec(&r, model(14, float_only[i], 1, &ints, ONNORM_INT64, NULL, NULL), 1, &ints, 1);
        expect_status(st, ONNORM_ERR_DTYPE, &r, float_only[i]);
        or_done(&r);
    }
    /* Clip-6's float bounds do not apply to integers. */
    onnorm_status st =
        or_exec(&r, model(6, "Clip", 1, &ints, ONNORM_INT64, NULL, NULL), 1, &ints, 1);
    expect_status(st, ONNORM_ERR_DTYPE, &r, "Clip-6 int64");
    or_done(&r);
    or_arg x = {"X", ONNORM_FLOAT, 1, {2}, xf, false};
    or_arg vec_bound[2] = {x, {"lo", ONNORM_FLOAT, 1, {2}, b2, true}};
    st = or_exec(&r, model(13, "Clip", 2, vec_bound, ONNORM_FLOAT, NULL, NULL), 2, vec_bound, 1);
    expect_status(st, ONNORM_ERR_SHAPE, &r, "Clip vector bound");
    or_done(&r);
    or_arg typed_bound[2] = {x, {"lo", ONNORM_DOUBLE, 0, {0}, d1, true}};
    st =
        or_exec(&r, model(13, "Clip", 2, typed_bound, ONNORM_FLOAT, NULL, NULL), 2, typed_bound, 1);
    expect_status(st, ONNORM_ERR_DTYPE, &r, "Clip bound type");
    or_done(&r);
    float_case bad = {"Gelu", 20, r_gelu, 0, 0, false, "erf", 0, 0};
    st = or_exec(&r, model(20, "Gelu", 1, &x, ONNORM_FLOAT, case_attrs, &bad), 1, &x, 1);
    expect_status(st, ONNORM_ERR_UNSUPPORTED, &r, "Gelu approximate=erf");
    or_done(&r);
    /* Gelu does not exist before opset 20; HardSwish before 14. */
    st = or_exec(&r, model(19, "Gelu", 1, &x, ONNORM_FLOAT, NULL, NULL), 1, &x, 1);
    expect_status(st, ONNORM_ERR_UNSUPPORTED, &r, "Gelu-19");
    or_done(&r);
    st = or_exec(&r, model(13, "HardSwish", 1, &x, ONNORM_FLOAT, NULL, NULL), 1, &x, 1);
    expect_status(st, ONNORM_ERR_UNSUPPORTED, &r, "HardSwish-13");
    or_done(&r);
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
