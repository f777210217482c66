/* Elu, Selu, Softplus, Softsign, Shrink and Sign (ops/core/unary.c) through
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
#include "harness.h"

/* ---- helpers ---------------------------------------------------------------- */

/* Float attributes of the node; names NULL = not set. */
typedef struct fattrs {
    const char *a_name, *b_name;
    float a, b;
} fattrs;

/* The one-node model `op` on X [n] (fed) writing Y. */
static tb_model *op_model(th_run *r, int64_t opset, const char *op, const fattrs *at,
                          onnorm_dtype dt, int64_t n, const void *x)
{
    tb_node *nd;
    tb_model *b = th_node_model(r, opset, op, 1, (th_tensor[]){th_in("X", dt, 1, &n, x)}, dt, &nd);
    if (at && at->a_name) tb_attr_float(nd, at->a_name, at->a);
    if (at && at->b_name) tb_attr_float(nd, at->b_name, at->b);
    return b;
}

/* Runs it with `threads` threads, asserting success; returns Y. */
static const void *run_op(th_run *r, int64_t opset, const char *op, const fattrs *at,
                          onnorm_dtype dt, int64_t n, const void *x, int threads)
{
    th_ok(r, th_go(r, op_model(r, opset, op, at, dt, n, x), threads), op);
    return th_output(r, "Y", dt, 1, &n);
}

/* Expects the run to fail with `code`. */
static void op_fails(int64_t opset, const char *op, onnorm_dtype dt, int64_t n, const void *x,
                     onnorm_status code)
{
    th_run r;
    th_go_fails(&r, op_model(&r, opset, op, NULL, dt, n, x), 1, code, NULL);
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
    double *want = th_dalloc(n);
    for (int64_t i = 0; i < n; i++)
        want[i] = c->ref(xd[i], c->a, c->b);
    for (int pass = 0; pass < 2; pass++) {
        const onnorm_dtype dt = pass ? ONNORM_DOUBLE : ONNORM_FLOAT;
        th_run r;
        const void *y = run_op(&r, c->opset, c->op, &c->attrs, dt, n,
                               pass ? (const void *)xd : (const void *)xf, threads);
        th_expect_close(c->op, pass ? "Y (float64)" : "Y (float32)", y, dt, want, n,
                        pass ? 1e-13 : 3e-6);
        th_free(&r);
    }
    free(xf);
    free(xd);
    free(want);
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
    th_run r;
    const void *out = run_op(&r, 9, "Shrink", &soft, ONNORM_FLOAT, 7, x, 1);
    assert_memory_equal(out, ((const float[]){-0.5f, 0, 0, 0, 0, 0, 0.5f}), 28);
    th_free(&r);
    out = run_op(&r, 9, "Shrink", &hard, ONNORM_FLOAT, 7, x, 1);
    assert_memory_equal(out, ((const float[]){-2, 0, 0, 0, 0, 0, 2}), 28);
    th_free(&r);
    /* NaN is neither below -lambd nor above lambd: 0, per the formula. */
    const float xn[2] = {NAN, -INFINITY};
    out = run_op(&r, 9, "Shrink", NULL, ONNORM_FLOAT, 2, xn, 1);
    assert_true(((const float *)out)[0] == 0.0f);
    assert_true(isinf(((const float *)out)[1]));
    th_free(&r);
}

static void softplus_extremes(void **state)
{
    (void)state;
    /* ln(1 + e^x) overflows e^x for large x; the result is still ~x. */
    const float x[4] = {100, 1000, -100, -1000};
    th_run r;
    const float *y = run_op(&r, 1, "Softplus", NULL, ONNORM_FLOAT, 4, x, 1);
    assert_float_equal(y[0], 100.0f, 1e-5);
    assert_float_equal(y[1], 1000.0f, 1e-4);
    assert_true(y[2] >= 0 && y[2] < 1e-40f);
    assert_true(y[3] == 0.0f);
    th_free(&r);
    const double xd[2] = {800, -800};
    const double *yd = run_op(&r, 1, "Softplus", NULL, ONNORM_DOUBLE, 2, xd, 1);
    assert_true(yd[0] == 800.0);
    assert_true(yd[1] == 0.0);
    th_free(&r);
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
        th_run r;
        const float *y = run_op(&r, 13, ops[i], NULL, ONNORM_FLOAT, 3, x, 1);
        if (!isnan(y[0])) fail_msg("%s(NaN) = %g", ops[i], y[0]);
        if (isnan(pinf[i]) ? !isnan(y[1]) : y[1] != pinf[i]) fail_msg("%s(inf) = %g", ops[i], y[1]);
        if (isnan(ninf[i]) ? !isnan(y[2]) : !(fabsf(y[2] - ninf[i]) <= 1e-6f))
            fail_msg("%s(-inf) = %g", ops[i], y[2]);
        th_free(&r);
    }
}

static void sign_all_types(void **state)
{
    (void)state;
    th_run r;
    const float xf[6] = {-3.5f, -0.0f, 0.0f, 1e-30f, 7, -INFINITY};
    const float *yf = run_op(&r, 13, "Sign", NULL, ONNORM_FLOAT, 6, xf, 1);
    const float wf[6] = {-1, 0, 0, 1, 1, -1};
    for (int i = 0; i < 6; i++)
        assert_true(yf[i] == wf[i]);
    assert_true(signbit(yf[1])); /* -0 stays -0 */
    th_free(&r);
    const double xd[3] = {-1e-300, 0, 5e300};
    const void *out = run_op(&r, 9, "Sign", NULL, ONNORM_DOUBLE, 3, xd, 1);
    assert_memory_equal(out, ((const double[]){-1, 0, 1}), 24);
    th_free(&r);
    const int8_t x8[4] = {INT8_MIN, -1, 0, INT8_MAX};
    out = run_op(&r, 13, "Sign", NULL, ONNORM_INT8, 4, x8, 1);
    assert_memory_equal(out, ((const int8_t[]){-1, -1, 0, 1}), 4);
    th_free(&r);
    const int64_t x64[3] = {INT64_MIN, 0, 42};
    out = run_op(&r, 13, "Sign", NULL, ONNORM_INT64, 3, x64, 1);
    assert_memory_equal(out, ((const int64_t[]){-1, 0, 1}), 24);
    th_free(&r);
    const int32_t x32[3] = {-7, 0, INT32_MAX};
    out = run_op(&r, 13, "Sign", NULL, ONNORM_INT32, 3, x32, 1);
    assert_memory_equal(out, ((const int32_t[]){-1, 0, 1}), 12);
    th_free(&r);
    const uint8_t xu[3] = {0, 1, 255};
    out = run_op(&r, 13, "Sign", NULL, ONNORM_UINT8, 3, xu, 1);
    assert_memory_equal(out, ((const uint8_t[]){0, 1, 1}), 3);
    th_free(&r);
    const uint64_t xu64[2] = {UINT64_MAX, 0};
    out = run_op(&r, 13, "Sign", NULL, ONNORM_UINT64, 2, xu64, 1);
    assert_memory_equal(out, ((const uint64_t[]){1, 0}), 16);
    th_free(&r);
    /* Parallel, int16. */
    const int64_t n = 200000;
    int16_t *x16 = malloc((size_t)n * sizeof *x16);
    assert_non_null(x16);
    for (int64_t i = 0; i < n; i++)
        x16[i] = (int16_t)(i % 3 - 1);
    out = run_op(&r, 13, "Sign", NULL, ONNORM_INT16, n, x16, 4);
    assert_memory_equal(out, x16, (size_t)n * sizeof *x16);
    th_free(&r);
    free(x16);
}

static void errors(void **state)
{
    (void)state;
    const int32_t xi[2] = {1, -1};
    const float xf[2] = {1, -1};
    static const char *float_only[] = {"Elu", "Selu", "Softplus", "Softsign", "Shrink"};
    for (size_t i = 0; i < sizeof float_only / sizeof float_only[0]; i++)
        op_fails(13, float_only[i], ONNORM_INT32, 2, xi, ONNORM_ERR_DTYPE);
    /* Sign before opset 9, Shrink before 9, Elu and Selu before 6 (their
     * opset-1 forms are not supported): no kernel. */
    op_fails(8, "Sign", ONNORM_FLOAT, 2, xf, ONNORM_ERR_UNSUPPORTED);
    op_fails(8, "Shrink", ONNORM_FLOAT, 2, xf, ONNORM_ERR_UNSUPPORTED);
    op_fails(5, "Elu", ONNORM_FLOAT, 2, xf, ONNORM_ERR_UNSUPPORTED);
    /* An attribute of the wrong kind. */
    th_run r;
    tb_node *nd;
    tb_model *b = th_node_model(&r, 13, "Elu", 1,
                                (th_tensor[]){th_in("X", ONNORM_FLOAT, 1, (int64_t[]){2}, xf)},
                                ONNORM_FLOAT, &nd);
    tb_attr_int(nd, "alpha", 2);
    th_go_fails(&r, b, 0, ONNORM_ERR_INVALID, "alpha");
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
