/* Elu, Selu, Softplus, Softsign, Shrink and Sign (ops/unary.c) through
 * the public API, against the spec's formulas evaluated here in double
 * precision exactly as written (alpha * (exp(x) - 1), ln(exp(x) + 1), ...),
 * and literal values for Sign, Shrink and the edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"

/* ---- harness ---------------------------------------------------------------- */

typedef struct run_ctx {
    onnorm_model *m;
    onnorm_session *s;
    onnorm_error e;
    onnorm_tensor y;
} run_ctx;

/* Float attributes of the node; names NULL = not set. */
typedef struct fattrs {
    const char *a_name, *b_name;
    float a, b;
} fattrs;

/* Runs the one-node model `op` on X (fed) and leaves Y in r->y. */
static onnorm_status run_op(run_ctx *r, int64_t opset, const char *op, const fattrs *at,
                            onnorm_dtype dt, int64_t n, const void *x, int threads)
{
    memset(r, 0, sizeof *r);
    tb_model *b = tb_new(opset);
    const int64_t dims[1] = {n};
    tb_input(b, "X", dt, 1, dims);
    tb_node *nd = tb_node_add(b, op, "n", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    if (at && at->a_name) tb_attr_float(nd, at->a_name, at->a);
    if (at && at->b_name) tb_attr_float(nd, at->b_name, at->b);
    tb_output(b, "Y", dt);
    onnorm_status st = tb_load(b, &r->m, &r->e);
    tb_free(b);
    if (st) return st;
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads;
    if ((st = onnorm_session_create(r->m, &o, &r->s, &r->e)) ||
        (st = onnorm_session_bind_input(r->s, "X", dt, dims, 1, x, &r->e)) ||
        (st = onnorm_session_run(r->s, &r->e)))
        return st;
    return onnorm_session_output(r->s, "Y", &r->y, &r->e);
}

static void done(run_ctx *r)
{
    onnorm_session_free(r->s);
    onnorm_model_free(r->m);
}

static void expect_status(onnorm_status st, onnorm_status want, const run_ctx *r, const char *what)
{
    if (st != want)
        fail_msg("%s: expected status %d, got %d (%s)", what, (int)want, (int)st, r->e.message);
}

/* ---- formulas, as the spec writes them -------------------------------------- */

typedef double (*ref_fn)(double x, double a, double b);

static double r_elu(double x, double a, double b)
{
    return (void)b, x < 0 ? a * (exp(x) - 1) : x;
}
static double r_selu(double x, double a, double g)
{
    return x <= 0 ? g * (a * exp(x) - a) : g * x;
}
static double r_softplus(double x, double a, double b)
{
    return (void)a, (void)b, log(exp(x) + 1);
}
static double r_softsign(double x, double a, double b)
{
    return (void)a, (void)b, x / (1 + fabs(x));
}
static double r_shrink(double x, double l, double b)
{
    return x < -l ? x + b : x > l ? x - b : 0;
}

typedef struct fcase {
    const char *op;
    int opset;
    ref_fn ref;
    fattrs attrs;  /* what the node gets */
    double a, b;   /* what the reference uses (the spec's defaults if unset) */
    double lo, hi; /* input range */
} fcase;

#define SELU_A 1.67326319217681884765625
#define SELU_G 1.05070102214813232421875

static const fcase cases[] = {
    {"Elu", 6, r_elu, {NULL, NULL, 0, 0}, 1.0, 0, -10, 10},
    {"Elu", 6, r_elu, {"alpha", NULL, 2.0f, 0}, 2.0, 0, -10, 10},
    {"Elu", 22, r_elu, {"alpha", NULL, 0.3f, 0}, (float)0.3, 0, -1e-3, 1e-3},
    {"Selu", 6, r_selu, {NULL, NULL, 0, 0}, SELU_A, SELU_G, -10, 10},
    {"Selu", 6, r_selu, {"alpha", "gamma", 2.0f, 3.0f}, 2.0, 3.0, -10, 10},
    {"Softplus", 1, r_softplus, {NULL, NULL, 0, 0}, 0, 0, -30, 30},
    {"Softplus", 22, r_softplus, {NULL, NULL, 0, 0}, 0, 0, -1, 1},
    {"Softsign", 1, r_softsign, {NULL, NULL, 0, 0}, 0, 0, -100, 100},
    {"Shrink", 9, r_shrink, {NULL, NULL, 0, 0}, 0.5, 0, -3, 3},
    {"Shrink", 9, r_shrink, {"lambd", "bias", 1.5f, 1.5f}, 1.5, 1.5, -5, 5},
    {"Shrink", 9, r_shrink, {"bias", NULL, 0.25f, 0}, 0.5, 0.25, -5, 5},
};

/* Runs c over n points across [lo, hi] in float32 and float64. */
static void check_case(const fcase *c, int64_t n, int threads)
{
    float *xf = malloc((size_t)n * sizeof *xf);
    double *xd = malloc((size_t)n * sizeof *xd);
    assert_true(xf && xd);
    for (int64_t i = 0; i < n; i++) {
        xf[i] = (float)(c->lo + (c->hi - c->lo) * (double)i / (double)(n - 1));
        xd[i] = xf[i];
    }
    fattrs at = c->attrs;
    for (int pass = 0; pass < 2; pass++) {
        const onnorm_dtype dt = pass ? ONNORM_DOUBLE : ONNORM_FLOAT;
        run_ctx r;
        onnorm_status st = run_op(&r, c->opset, c->op, &at, dt, n,
                                  pass ? (const void *)xd : (const void *)xf, threads);
        if (st) fail_msg("%s: %s", c->op, r.e.message);
        assert_int_equal(r.y.dtype, dt);
        const double tol = pass ? 1e-13 : 3e-6;
        for (int64_t i = 0; i < n; i++) {
            const double want = c->ref(xd[i], c->a, c->b);
            const double got = pass ? ((const double *)r.y.data)[i] : ((const float *)r.y.data)[i];
            if (fabs(got - want) > tol * (1 + fabs(want)))
                fail_msg("%s %s x=%.9g: got %.17g, want %.17g", c->op, pass ? "f64" : "f32", xd[i],
                         got, want);
        }
        done(&r);
    }
    free(xf);
    free(xd);
}

static void formulas(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i], 1001, 1);
    /* Parallel chunks. */
    check_case(&cases[3], 100003, 4);
    check_case(&cases[5], 70001, 3);
}

/* The spec's soft and hard shrink examples (lambd 1.5). */
static void shrink_literals_and_nan(void **state)
{
    (void)state;
    const float x[7] = {-2, -1.5f, -1, 0, 1, 1.5f, 2};
    fattrs soft = {"lambd", "bias", 1.5f, 1.5f}, hard = {"lambd", NULL, 1.5f, 0};
    run_ctx r;
    assert_int_equal(run_op(&r, 9, "Shrink", &soft, ONNORM_FLOAT, 7, x, 1), ONNORM_OK);
    assert_memory_equal(r.y.data, ((const float[]){-0.5f, 0, 0, 0, 0, 0, 0.5f}), 28);
    done(&r);
    assert_int_equal(run_op(&r, 9, "Shrink", &hard, ONNORM_FLOAT, 7, x, 1), ONNORM_OK);
    assert_memory_equal(r.y.data, ((const float[]){-2, 0, 0, 0, 0, 0, 2}), 28);
    done(&r);
    /* NaN is neither below -lambd nor above lambd: 0, per the formula. */
    const float xn[2] = {NAN, -INFINITY};
    assert_int_equal(run_op(&r, 9, "Shrink", NULL, ONNORM_FLOAT, 2, xn, 1), ONNORM_OK);
    assert_true(((const float *)r.y.data)[0] == 0.0f);
    assert_true(isinf(((const float *)r.y.data)[1]));
    done(&r);
}

static void softplus_extremes(void **state)
{
    (void)state;
    /* ln(1 + e^x) overflows e^x for large x; the result is still ~x. */
    const float x[4] = {100, 1000, -100, -1000};
    run_ctx r;
    assert_int_equal(run_op(&r, 1, "Softplus", NULL, ONNORM_FLOAT, 4, x, 1), ONNORM_OK);
    const float *y = r.y.data;
    assert_float_equal(y[0], 100.0f, 1e-5);
    assert_float_equal(y[1], 1000.0f, 1e-4);
    assert_true(y[2] >= 0 && y[2] < 1e-40f);
    assert_true(y[3] == 0.0f);
    done(&r);
    const double xd[2] = {800, -800};
    assert_int_equal(run_op(&r, 1, "Softplus", NULL, ONNORM_DOUBLE, 2, xd, 1), ONNORM_OK);
    assert_true(((const double *)r.y.data)[0] == 800.0);
    assert_true(((const double *)r.y.data)[1] == 0.0);
    done(&r);
}

static void nan_and_infinities(void **state)
{
    (void)state;
    static const char *ops[] = {"Elu", "Selu", "Softplus", "Softsign", "Sign"};
    const float x[3] = {NAN, INFINITY, -INFINITY};
    /* Elu, Selu, Softplus, Softsign, Sign of +inf and -inf. Softsign's
     * formula x / (1 + |x|) is inf / inf there: NaN, as in the reference. */
    const float pinf[5] = {INFINITY, INFINITY, INFINITY, NAN, 1};
    const float ninf[5] = {-1, (float)(-SELU_G * SELU_A), 0, NAN, -1};
    for (int i = 0; i < 5; i++) {
        run_ctx r;
        assert_int_equal(run_op(&r, 13, ops[i], NULL, ONNORM_FLOAT, 3, x, 1), ONNORM_OK);
        const float *y = r.y.data;
        if (!isnan(y[0])) fail_msg("%s(NaN) = %g", ops[i], y[0]);
        if (isnan(pinf[i]) ? !isnan(y[1]) : y[1] != pinf[i]) fail_msg("%s(inf) = %g", ops[i], y[1]);
        if (isnan(ninf[i]) ? !isnan(y[2]) : !(fabsf(y[2] - ninf[i]) <= 1e-6f))
            fail_msg("%s(-inf) = %g", ops[i], y[2]);
        done(&r);
    }
}

static void sign_all_types(void **state)
{
    (void)state;
    run_ctx r;
    const float xf[6] = {-3.5f, -0.0f, 0.0f, 1e-30f, 7, -INFINITY};
    assert_int_equal(run_op(&r, 13, "Sign", NULL, ONNORM_FLOAT, 6, xf, 1), ONNORM_OK);
    const float *yf = r.y.data;
    const float wf[6] = {-1, 0, 0, 1, 1, -1};
    for (int i = 0; i < 6; i++)
        assert_true(yf[i] == wf[i]);
    assert_true(signbit(yf[1])); /* -0 stays -0 */
    done(&r);
    const double xd[3] = {-1e-300, 0, 5e300};
    assert_int_equal(run_op(&r, 9, "Sign", NULL, ONNORM_DOUBLE, 3, xd, 1), ONNORM_OK);
    assert_memory_equal(r.y.data, ((const double[]){-1, 0, 1}), 24);
    done(&r);
    const int8_t x8[4] = {INT8_MIN, -1, 0, INT8_MAX};
    assert_int_equal(run_op(&r, 13, "Sign", NULL, ONNORM_INT8, 4, x8, 1), ONNORM_OK);
    assert_memory_equal(r.y.data, ((const int8_t[]){-1, -1, 0, 1}), 4);
    done(&r);
    const int64_t x64[3] = {INT64_MIN, 0, 42};
    assert_int_equal(run_op(&r, 13, "Sign", NULL, ONNORM_INT64, 3, x64, 1), ONNORM_OK);
    assert_memory_equal(r.y.data, ((const int64_t[]){-1, 0, 1}), 24);
    done(&r);
    const int32_t x32[3] = {-7, 0, INT32_MAX};
    assert_int_equal(run_op(&r, 13, "Sign", NULL, ONNORM_INT32, 3, x32, 1), ONNORM_OK);
    assert_memory_equal(r.y.data, ((const int32_t[]){-1, 0, 1}), 12);
    done(&r);
    const uint8_t xu[3] = {0, 1, 255};
    assert_int_equal(run_op(&r, 13, "Sign", NULL, ONNORM_UINT8, 3, xu, 1), ONNORM_OK);
    assert_memory_equal(r.y.data, ((const uint8_t[]){0, 1, 1}), 3);
    done(&r);
    const uint64_t xu64[2] = {UINT64_MAX, 0};
    assert_int_equal(run_op(&r, 13, "Sign", NULL, ONNORM_UINT64, 2, xu64, 1), ONNORM_OK);
    assert_memory_equal(r.y.data, ((const uint64_t[]){1, 0}), 16);
    done(&r);
    /* Parallel, int16. */
    const int64_t n = 200000;
    int16_t *x16 = malloc((size_t)n * sizeof *x16);
    assert_non_null(x16);
    for (int64_t i = 0; i < n; i++)
        x16[i] = (int16_t)(i % 3 - 1);
    assert_int_equal(run_op(&r, 13, "Sign", NULL, ONNORM_INT16, n, x16, 4), ONNORM_OK);
    assert_memory_equal(r.y.data, x16, (size_t)n * sizeof *x16);
    done(&r);
    free(x16);
}

static void errors(void **state)
{
    (void)state;
    run_ctx r;
    const int32_t xi[2] = {1, -1};
    const float xf[2] = {1, -1};
    static const char *float_only[] = {"Elu", "Selu", "Softplus", "Softsign", "Shrink"};
    for (size_t i = 0; i < sizeof float_only / sizeof float_only[0]; i++) {
        expect_status(run_op(&r, 13, float_only[i], NULL, ONNORM_INT32, 2, xi, 1), ONNORM_ERR_DTYPE,
                      &r, float_only[i]);
        done(&r);
    }
    /* Sign before opset 9, Shrink before 9, Elu and Selu before 6 (their
     * opset-1 forms are not supported): no kernel. */
    expect_status(run_op(&r, 8, "Sign", NULL, ONNORM_FLOAT, 2, xf, 1), ONNORM_ERR_UNSUPPORTED, &r,
                  "Sign-8");
    done(&r);
    expect_status(run_op(&r, 8, "Shrink", NULL, ONNORM_FLOAT, 2, xf, 1), ONNORM_ERR_UNSUPPORTED, &r,
                  "Shrink-8");
    done(&r);
    expect_status(run_op(&r, 5, "Elu", NULL, ONNORM_FLOAT, 2, xf, 1), ONNORM_ERR_UNSUPPORTED, &r,
                  "Elu-5");
    done(&r);
    /* An attribute of the wrong kind. */
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 1, (const int64_t[]){2});
    tb_node *nd = tb_node_add(b, "Elu", "n", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_attr_int(nd, "alpha", 2);
    tb_output(b, "Y", ONNORM_FLOAT);
    memset(&r, 0, sizeof r);
    onnorm_status st = tb_load(b, &r.m, &r.e);
    tb_free(b);
    if (!st) st = onnorm_session_create(r.m, NULL, &r.s, &r.e);
    if (!st)
        st = onnorm_session_bind_input(r.s, "X", ONNORM_FLOAT, (const int64_t[]){2}, 1, xf, &r.e);
    if (!st) st = onnorm_session_run(r.s, &r.e);
    expect_status(st, ONNORM_ERR_INVALID, &r, "int alpha");
    assert_non_null(strstr(r.e.message, "alpha"));
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formulas),          cmocka_unit_test(shrink_literals_and_nan),
        cmocka_unit_test(softplus_extremes), cmocka_unit_test(nan_and_infinities),
        cmocka_unit_test(sign_all_types),    cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
