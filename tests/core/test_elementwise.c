/* The elementwise ops added for issue 11 (ops/core/binary.c, unary.c)
 * through the public API: Mod's two remainders and its errors, BitShift,
 * comparisons and logic with broadcasting and NaN, Round's ties to even,
 * IsInf's flags, IsNaN, Not, Celu, ThresholdedRelu, and float16/bfloat16
 * arithmetic. Expected values are NumPy's (np.mod, np.fmod, np.round,
 * np.left_shift, float16 arithmetic as bit patterns), pasted, or the
 * spec's formulas evaluated here in double. */
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

/* A binary op on A [n] and B [nb] (nb 1: broadcast), with an int attribute
 * (name NULL: none) and a string attribute (sname NULL: none). */
static tb_model *bin_model(th_run *r, int64_t opset, const char *op, onnorm_dtype dt, int64_t n,
                           const void *a, int64_t nb, const void *b, onnorm_dtype ydt,
                           const char *iname, int64_t ival, const char *sname, const char *sval)
{
    tb_node *nd;
    tb_model *m =
        th_node_model(r, opset, op, 2,
                      (th_tensor[]){th_in("A", dt, 1, &n, a), th_in("B", dt, 1, &nb, b)}, ydt, &nd);
    if (iname) tb_attr_int(nd, iname, ival);
    if (sname) tb_attr_string(nd, sname, sval);
    return m;
}

/* A unary op on X [n]. */
static tb_model *un_model(th_run *r, int64_t opset, const char *op, onnorm_dtype dt, int64_t n,
                          const void *x, onnorm_dtype ydt, tb_node **nd)
{
    return th_node_model(r, opset, op, 1, (th_tensor[]){th_in("X", dt, 1, &n, x)}, ydt, nd);
}

/* ---- Mod ---------------------------------------------------------------------- */

static void mod_integer_signs(void **state)
{
    (void)state;
    const int32_t a[] = {-7, 7, -7, 7, 0, INT32_MIN, 13};
    const int32_t b[] = {3, -3, -3, 3, 5, -1, 4};
    const int32_t py[] = {2, -2, -1, 1, 0, 0, 1}; /* np.mod */
    const int32_t c[] = {-1, 1, -1, 1, 0, 0, 1};  /* np.fmod */
    const int64_t n = 7;
    for (int fm = 0; fm < 2; fm++) {
        th_run r;
        th_ok(&r,
              th_go(&r,
                    bin_model(&r, 13, "Mod", ONNORM_INT32, n, a, n, b, ONNORM_INT32, "fmod", fm,
                              NULL, NULL),
                    1),
              "Mod");
        assert_memory_equal(th_output(&r, "Y", ONNORM_INT32, 1, &n), fm ? c : py, sizeof py);
        th_free(&r);
    }
    /* Unsigned, and int8 with a broadcast divisor. */
    const uint64_t ua[] = {7, 0, UINT64_MAX}, ub[] = {3, 9, 10}, uy[] = {1, 0, 5};
    th_run r;
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 10, "Mod", ONNORM_UINT64, 3, ua, 3, ub, ONNORM_UINT64, NULL, 0, NULL,
                          NULL),
                1),
          "Mod uint64");
    assert_memory_equal(th_output(&r, "Y", ONNORM_UINT64, 1, (int64_t[]){3}), uy, sizeof uy);
    th_free(&r);
    const int8_t sa[] = {-128, 127, -1, 5}, sb[] = {-3}, sy[] = {-2, -2, -1, -1};
    th_ok(
        &r,
        th_go(&r,
              bin_model(&r, 10, "Mod", ONNORM_INT8, 4, sa, 1, sb, ONNORM_INT8, NULL, 0, NULL, NULL),
              1),
        "Mod int8");
    assert_memory_equal(th_output(&r, "Y", ONNORM_INT8, 1, (int64_t[]){4}), sy, sizeof sy);
    th_free(&r);
}

static void mod_float_and_errors(void **state)
{
    (void)state;
    const float a[] = {-5.5f, 5.5f, 7.25f, -0.0f}, b[] = {2, -2, 2.5f, 3};
    const double y[] = {-1.5, 1.5, 2.25, -0.0}; /* np.fmod */
    th_run r;
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 13, "Mod", ONNORM_FLOAT, 4, a, 4, b, ONNORM_FLOAT, "fmod", 1, NULL,
                          NULL),
                1),
          "Mod float");
    th_expect_output(&r, "fmod", "Y", ONNORM_FLOAT, 1, (int64_t[]){4}, y, 0);
    const float *got = th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){4});
    assert_true(signbit(got[3]));
    th_free(&r);
    /* Floats need fmod=1. */
    th_go_fails(
        &r, bin_model(&r, 13, "Mod", ONNORM_FLOAT, 4, a, 4, b, ONNORM_FLOAT, NULL, 0, NULL, NULL),
        1, ONNORM_ERR_INVALID, "fmod=1");
    /* fmod must be 0 or 1. */
    const int32_t ia[] = {5, 6}, ib[] = {2, 0};
    th_go_fails(
        &r,
        bin_model(&r, 13, "Mod", ONNORM_INT32, 2, ia, 2, ia, ONNORM_INT32, "fmod", 2, NULL, NULL),
        1, ONNORM_ERR_INVALID, "fmod");
    /* An integer zero divisor is an error, for both remainders. */
    for (int fm = 0; fm < 2; fm++)
        th_go_fails(&r,
                    bin_model(&r, 13, "Mod", ONNORM_INT32, 2, ia, 2, ib, ONNORM_INT32, "fmod", fm,
                              NULL, NULL),
                    1, ONNORM_ERR_INVALID, "zero");
    /* Mixed types. */
    tb_model *m =
        th_node_model(&r, 13, "Mod", 2,
                      (th_tensor[]){th_in("A", ONNORM_INT32, 1, (int64_t[]){2}, ia),
                                    th_in("B", ONNORM_INT64, 1, (int64_t[]){1}, (int64_t[]){3})},
                      ONNORM_INT32, NULL);
    th_go_fails(&r, m, 1, ONNORM_ERR_DTYPE, NULL);
}

/* ---- BitShift ----------------------------------------------------------------- */

static void bitshift(void **state)
{
    (void)state;
    th_run r;
    const uint16_t a[] = {1, 255, 3, 65535}, b[] = {7, 1, 15, 15};
    const uint16_t left[] = {128, 510, 32768, 32768}; /* np.left_shift */
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 11, "BitShift", ONNORM_UINT16, 4, a, 4, b, ONNORM_UINT16, NULL, 0,
                          "direction", "LEFT"),
                1),
          "BitShift");
    assert_memory_equal(th_output(&r, "Y", ONNORM_UINT16, 1, (int64_t[]){4}), left, sizeof left);
    th_free(&r);
    /* Shifts by the width or more give 0; a broadcast amount. */
    const uint8_t x[] = {255, 128, 1}, s8[] = {8}, s1[] = {1}, zero[] = {0, 0, 0},
                  right1[] = {127, 64, 0};
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 11, "BitShift", ONNORM_UINT8, 3, x, 1, s8, ONNORM_UINT8, NULL, 0,
                          "direction", "LEFT"),
                1),
          "BitShift");
    assert_memory_equal(th_output(&r, "Y", ONNORM_UINT8, 1, (int64_t[]){3}), zero, 3);
    th_free(&r);
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 11, "BitShift", ONNORM_UINT8, 3, x, 1, s1, ONNORM_UINT8, NULL, 0,
                          "direction", "RIGHT"),
                1),
          "BitShift");
    assert_memory_equal(th_output(&r, "Y", ONNORM_UINT8, 1, (int64_t[]){3}), right1, 3);
    th_free(&r);
    /* Errors: signed types, no direction, a bad direction. */
    const int32_t ia[] = {1, 2};
    th_go_fails(&r,
                bin_model(&r, 11, "BitShift", ONNORM_INT32, 2, ia, 2, ia, ONNORM_INT32, NULL, 0,
                          "direction", "LEFT"),
                1, ONNORM_ERR_DTYPE, "uint8");
    th_go_fails(
        &r,
        bin_model(&r, 11, "BitShift", ONNORM_UINT8, 3, x, 1, s1, ONNORM_UINT8, NULL, 0, NULL, NULL),
        1, TH_ANY_ERROR, "direction");
    th_go_fails(&r,
                bin_model(&r, 11, "BitShift", ONNORM_UINT8, 3, x, 1, s1, ONNORM_UINT8, NULL, 0,
                          "direction", "UP"),
                1, ONNORM_ERR_UNSUPPORTED, "direction");
}

/* ---- comparisons and logic ---------------------------------------------------- */

static void comparisons(void **state)
{
    (void)state;
    const float a[] = {1, 2, 3, NAN, -INFINITY, 2}, b[] = {2};
    static const struct {
        const char *op;
        int opset;
        uint8_t y[6];
    } cases[] = {
        {"Greater", 13, {0, 0, 1, 0, 0, 0}},        {"Less", 9, {1, 0, 0, 0, 1, 0}},
        {"GreaterOrEqual", 12, {0, 1, 1, 0, 0, 1}}, {"LessOrEqual", 16, {1, 1, 0, 0, 1, 1}},
        {"Equal", 13, {0, 1, 0, 0, 0, 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        th_run r;
        th_ok(&r,
              th_go(&r,
                    bin_model(&r, cases[i].opset, cases[i].op, ONNORM_FLOAT, 6, a, 1, b,
                              ONNORM_BOOL, NULL, 0, NULL, NULL),
                    1),
              cases[i].op);
        assert_memory_equal(th_output(&r, "Y", ONNORM_BOOL, 1, (int64_t[]){6}), cases[i].y, 6);
        th_free(&r);
    }
    /* Integers compare exactly, beyond float precision. */
    const int64_t ia[] = {INT64_MAX, INT64_MIN}, ib[] = {INT64_MAX - 1, INT64_MIN + 1};
    const uint8_t gt[] = {1, 0};
    th_run r;
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 13, "Greater", ONNORM_INT64, 2, ia, 2, ib, ONNORM_BOOL, NULL, 0, NULL,
                          NULL),
                1),
          "Greater int64");
    assert_memory_equal(th_output(&r, "Y", ONNORM_BOOL, 1, (int64_t[]){2}), gt, 2);
    th_free(&r);
}

/* Opset 1's legacy broadcasting: B [3] matches A [2, 3, 1]'s axis 1 with
 * broadcast=1 and axis=1; without broadcast the shapes must be equal. */
static void legacy_broadcast(void **state)
{
    (void)state;
    const float a[] = {1, 5, 3, 4, 2, 6}, b[] = {2, 4, 3};
    const uint8_t gt[] = {0, 1, 0, 1, 0, 1}; /* a[i][j] > b[j] */
    th_run r;
    tb_node *nd;
    tb_model *m = th_node_model(&r, 1, "Greater", 2,
                                (th_tensor[]){th_in("A", ONNORM_FLOAT, 3, (int64_t[]){2, 3, 1}, a),
                                              th_in("B", ONNORM_FLOAT, 1, (int64_t[]){3}, b)},
                                ONNORM_BOOL, &nd);
    tb_attr_int(nd, "broadcast", 1);
    tb_attr_int(nd, "axis", 1);
    th_ok(&r, th_go(&r, m, 1), "Greater-1");
    assert_memory_equal(th_output(&r, "Y", ONNORM_BOOL, 3, (int64_t[]){2, 3, 1}), gt, 6);
    th_free(&r);
    /* Without broadcast=1, opset 1 needs equal shapes. */
    m = th_node_model(&r, 1, "Less", 2,
                      (th_tensor[]){th_in("A", ONNORM_FLOAT, 3, (int64_t[]){2, 3, 1}, a),
                                    th_in("B", ONNORM_FLOAT, 1, (int64_t[]){3}, b)},
                      ONNORM_BOOL, NULL);
    th_go_fails(&r, m, 1, ONNORM_ERR_SHAPE, NULL);
    /* Opset 7 broadcasts numpy-style: [2, 3, 1] against [2, 1] does not fit. */
    m = th_node_model(&r, 7, "Less", 2,
                      (th_tensor[]){th_in("A", ONNORM_FLOAT, 3, (int64_t[]){2, 3, 1}, a),
                                    th_in("B", ONNORM_FLOAT, 2, (int64_t[]){2, 1}, b)},
                      ONNORM_BOOL, NULL);
    th_go_fails(&r, m, 1, ONNORM_ERR_SHAPE, NULL);
}

static void logic(void **state)
{
    (void)state;
    /* A [2, 2] against B [2] (broadcast along rows). */
    const uint8_t a[] = {0, 0, 1, 1}, b[] = {0, 1};
    static const struct {
        const char *op;
        uint8_t y[4];
    } cases[] = {{"And", {0, 0, 0, 1}}, {"Or", {0, 1, 1, 1}}, {"Xor", {0, 1, 1, 0}}};
    for (size_t i = 0; i < 3; i++) {
        th_run r;
        tb_model *m = th_node_model(&r, 7, cases[i].op, 2,
                                    (th_tensor[]){th_in("A", ONNORM_BOOL, 2, (int64_t[]){2, 2}, a),
                                                  th_in("B", ONNORM_BOOL, 1, (int64_t[]){2}, b)},
                                    ONNORM_BOOL, NULL);
        th_ok(&r, th_go(&r, m, 1), cases[i].op);
        assert_memory_equal(th_output(&r, "Y", ONNORM_BOOL, 2, (int64_t[]){2, 2}), cases[i].y, 4);
        th_free(&r);
    }
    th_run r;
    const uint8_t not_y[] = {1, 1, 0, 0};
    th_ok(&r, th_go(&r, un_model(&r, 1, "Not", ONNORM_BOOL, 4, a, ONNORM_BOOL, NULL), 1), "Not");
    assert_memory_equal(th_output(&r, "Y", ONNORM_BOOL, 1, (int64_t[]){4}), not_y, 4);
    th_free(&r);
    /* Logic ops take bool only. */
    const float f[] = {1, 0};
    th_go_fails(&r,
                bin_model(&r, 7, "And", ONNORM_FLOAT, 2, f, 2, f, ONNORM_BOOL, NULL, 0, NULL, NULL),
                1, ONNORM_ERR_DTYPE, "bool");
    th_go_fails(&r, un_model(&r, 1, "Not", ONNORM_FLOAT, 2, f, ONNORM_FLOAT, NULL), 1,
                ONNORM_ERR_DTYPE, "bool");
}

/* ---- unary ---------------------------------------------------------------------- */

static void round_half_even(void **state)
{
    (void)state;
    const double x[] = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 1e20, INFINITY, NAN, -0.4};
    const double y[] = {0, 2, 2, -0.0, -2, -2, 2, 1e20, INFINITY, NAN, -0.0}; /* np.round */
    const int64_t n = 11;
    for (int k = 0; k < 2; k++) {
        const onnorm_dtype dt = k ? ONNORM_DOUBLE : ONNORM_FLOAT;
        void *xv = th_pack(dt, x, n);
        th_run r;
        th_ok(&r, th_go(&r, un_model(&r, 11, "Round", dt, n, xv, dt, NULL), 1), "Round");
        th_expect_output(&r, "Round", "Y", dt, 1, &n, y, 0);
        const void *got = th_output(&r, "Y", dt, 1, &n);
        for (int i = 0; i < n; i++)
            if (y[i] == 0) assert_int_equal(signbit(th_value(dt, got, i)), signbit(y[i]));
        th_free(&r);
        free(xv);
    }
}

static void isinf_isnan(void **state)
{
    (void)state;
    const float x[] = {INFINITY, -INFINITY, 1, NAN, 0};
    static const struct {
        int pos, neg;
        uint8_t y[5];
    } cases[] = {{1, 1, {1, 1, 0, 0, 0}}, {1, 0, {1, 0, 0, 0, 0}}, {0, 1, {0, 1, 0, 0, 0}}};
    for (size_t i = 0; i < 3; i++) {
        th_run r;
        tb_node *nd;
        tb_model *m = un_model(&r, 20, "IsInf", ONNORM_FLOAT, 5, x, ONNORM_BOOL, &nd);
        tb_attr_int(nd, "detect_positive", cases[i].pos);
        tb_attr_int(nd, "detect_negative", cases[i].neg);
        th_ok(&r, th_go(&r, m, 1), "IsInf");
        assert_memory_equal(th_output(&r, "Y", ONNORM_BOOL, 1, (int64_t[]){5}), cases[i].y, 5);
        th_free(&r);
    }
    /* IsNaN on float16: 0x7e00 NaN, 0x7c00 inf, 0x3c00 one, 0xfe00 -NaN. */
    const uint16_t h[] = {0x7e00, 0x7c00, 0x3c00, 0xfe00};
    const uint8_t nan_y[] = {1, 0, 0, 1};
    th_run r;
    th_ok(&r, th_go(&r, un_model(&r, 13, "IsNaN", ONNORM_FLOAT16, 4, h, ONNORM_BOOL, NULL), 1),
          "IsNaN");
    assert_memory_equal(th_output(&r, "Y", ONNORM_BOOL, 1, (int64_t[]){4}), nan_y, 4);
    th_free(&r);
    tb_node *nd;
    tb_model *m = un_model(&r, 10, "IsInf", ONNORM_FLOAT, 5, x, ONNORM_BOOL, &nd);
    tb_attr_int(nd, "detect_positive", 2);
    th_go_fails(&r, m, 1, ONNORM_ERR_INVALID, "detect_positive");
}

static double r_celu(double x, double a)
{
    return fmax(0, x) + fmin(0, a * (exp(x / a) - 1));
}

static void celu_thresholded_relu(void **state)
{
    (void)state;
    const double xs[] = {-3, -1, -0.25, 0, 0.5, 1, 2.5};
    const int64_t n = 7;
    const double alphas[] = {1.0, 2.0, 0.5};
    double y[7];
    for (int k = 0; k < 2; k++) {
        const onnorm_dtype dt = k ? ONNORM_DOUBLE : ONNORM_FLOAT;
        void *x = th_pack(dt, xs, n);
        for (int ai = 0; ai < 3; ai++) {
            th_run r;
            tb_node *nd;
            tb_model *m = un_model(&r, 12, "Celu", dt, n, x, dt, &nd);
            tb_attr_float(nd, "alpha", (float)alphas[ai]);
            for (int i = 0; i < n; i++)
                y[i] = r_celu(xs[i], alphas[ai]);
            th_ok(&r, th_go(&r, m, 1), "Celu");
            th_expect_output(&r, "Celu", "Y", dt, 1, &n, y, 0);
            th_free(&r);
            m = un_model(&r, 10, "ThresholdedRelu", dt, n, x, dt, &nd);
            tb_attr_float(nd, "alpha", (float)alphas[ai]);
            for (int i = 0; i < n; i++)
                y[i] = xs[i] > alphas[ai] ? xs[i] : 0;
            th_ok(&r, th_go(&r, m, 1), "ThresholdedRelu");
            th_expect_output(&r, "ThresholdedRelu", "Y", dt, 1, &n, y, 0);
            th_free(&r);
        }
        free(x);
    }
}

/* ---- float16 and bfloat16 ------------------------------------------------------- */

static void half_arithmetic(void **state)
{
    (void)state;
    /* np.float16 [1.5, -2, nan, 65504, 0.1] and [0.25, -3, 1, 65504, 0.2]. */
    const uint16_t a[] = {0x3e00, 0xc000, 0x7e00, 0x7bff, 0x2e66};
    const uint16_t b[] = {0x3400, 0xc200, 0x3c00, 0x7bff, 0x3266};
    const uint16_t add[] = {0x3f00, 0xc500, 0x7e00, 0x7c00, 0x34cc}; /* a + b */
    const uint16_t max[] = {0x3e00, 0xc000, 0x7e00, 0x7bff, 0x3266}; /* np.maximum */
    th_run r;
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 14, "Add", ONNORM_FLOAT16, 5, a, 5, b, ONNORM_FLOAT16, NULL, 0, NULL,
                          NULL),
                1),
          "Add float16");
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT16, 1, (int64_t[]){5}), add, sizeof add);
    th_free(&r);
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 13, "Max", ONNORM_FLOAT16, 5, a, 5, b, ONNORM_FLOAT16, NULL, 0, NULL,
                          NULL),
                1),
          "Max float16");
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT16, 1, (int64_t[]){5}), max, sizeof max);
    th_free(&r);
    /* np.sin of float16 [-1, -0.5, 0, 0.5, 1, 2]. */
    const uint16_t sx[] = {0xbc00, 0xb800, 0x0000, 0x3800, 0x3c00, 0x4000};
    const uint16_t sy[] = {0xbabb, 0xb7ac, 0x0000, 0x37ac, 0x3abb, 0x3b46};
    th_ok(&r, th_go(&r, un_model(&r, 7, "Sin", ONNORM_FLOAT16, 6, sx, ONNORM_FLOAT16, NULL), 1),
          "Sin float16");
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT16, 1, (int64_t[]){6}), sy, sizeof sy);
    th_free(&r);
    /* bfloat16: 1.5 * -3 = -4.5 (0x3fc0 * 0xc040 = 0xc090); Mean of 1 and 2
     * is 1.5. */
    const uint16_t ba[] = {0x3fc0, 0x3f80}, bb[] = {0xc040, 0x4000};
    const uint16_t mul[] = {0xc090, 0x4000};
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 13, "Mul", ONNORM_BFLOAT16, 2, ba, 2, bb, ONNORM_BFLOAT16, NULL, 0,
                          NULL, NULL),
                1),
          "Mul bfloat16");
    assert_memory_equal(th_output(&r, "Y", ONNORM_BFLOAT16, 1, (int64_t[]){2}), mul, sizeof mul);
    th_free(&r);
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 13, "Mean", ONNORM_BFLOAT16, 2, ba, 2, bb, ONNORM_BFLOAT16, NULL, 0,
                          NULL, NULL),
                1),
          "Mean bfloat16");
    /* (1.5 + -3) / 2 = -0.75 (0xbf40); (1 + 2) / 2 = 1.5 (0x3fc0). */
    const uint16_t mean_want[] = {0xbf40, 0x3fc0};
    assert_memory_equal(th_output(&r, "Y", ONNORM_BFLOAT16, 1, (int64_t[]){2}), mean_want,
                        sizeof mean_want);
    th_free(&r);
}

static void half_pow_and_clip(void **state)
{
    (void)state;
    /* np.power(float16 [2, 1.5, -2, 3], float16 [3, 2, 0.5, -1]). */
    const uint16_t a[] = {0x4000, 0x3e00, 0xc000, 0x4200}, b[] = {0x4200, 0x4000, 0x3800, 0xbc00};
    const uint16_t want[] = {0x4800, 0x4080, 0x7e00, 0x3555};
    th_run r;
    th_ok(&r,
          th_go(&r,
                bin_model(&r, 15, "Pow", ONNORM_FLOAT16, 4, a, 4, b, ONNORM_FLOAT16, NULL, 0, NULL,
                          NULL),
                1),
          "Pow float16");
    const uint16_t *got = th_output(&r, "Y", ONNORM_FLOAT16, 1, (int64_t[]){4});
    for (int i = 0; i < 4; i++)
        if (i == 2) /* NaN; its sign is the C library's choice */
            assert_true((got[i] & 0x7c00) == 0x7c00 && (got[i] & 0x3ff));
        else
            assert_int_equal(got[i], want[i]);
    th_free(&r);
    /* np.clip(float16 [-2, 0.5, 3, nan, 0.7], -1, 0.6): NaN passes. */
    const uint16_t x[] = {0xc000, 0x3800, 0x4200, 0x7e00, 0x399a};
    const uint16_t lo[] = {0xbc00}, hi[] = {0x38cd};
    const uint16_t clipped[] = {0xbc00, 0x3800, 0x38cd, 0x7e00, 0x38cd};
    const int64_t n = 5, one = 1;
    tb_model *m = th_node_model(&r, 13, "Clip", 3,
                                (th_tensor[]){th_in("X", ONNORM_FLOAT16, 1, &n, x),
                                              th_in("lo", ONNORM_FLOAT16, 0, &one, lo),
                                              th_in("hi", ONNORM_FLOAT16, 0, &one, hi)},
                                ONNORM_FLOAT16, NULL);
    th_ok(&r, th_go(&r, m, 1), "Clip-13 float16");
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT16, 1, &n), clipped, sizeof clipped);
    th_free(&r);
    /* Clip-6's float attributes, rounded to float16 (0.6 -> 0x38cd). */
    tb_node *nd;
    m = un_model(&r, 6, "Clip", ONNORM_FLOAT16, n, x, ONNORM_FLOAT16, &nd);
    tb_attr_float(nd, "min", -1.0f);
    tb_attr_float(nd, "max", 0.6f);
    th_ok(&r, th_go(&r, m, 1), "Clip-6 float16");
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT16, 1, &n), clipped, sizeof clipped);
    th_free(&r);
}

static void trig_formulas(void **state)
{
    (void)state;
    static const struct {
        const char *op;
        int opset;
        double (*f)(double);
        double lo, hi;
    } ops[] = {
        {"Sin", 7, sin, -4, 4},    {"Cos", 7, cos, -4, 4},         {"Tan", 7, tan, -1.5, 1.5},
        {"Asin", 7, asin, -1, 1},  {"Acos", 7, acos, -1, 1},       {"Atan", 7, atan, -9, 9},
        {"Sinh", 9, sinh, -3, 3},  {"Cosh", 9, cosh, -3, 3},       {"Asinh", 9, asinh, -9, 9},
        {"Acosh", 9, acosh, 1, 9}, {"Atanh", 9, atanh, -0.9, 0.9}, {"Floor", 13, floor, -3, 3},
        {"Ceil", 13, ceil, -3, 3},
    };
    enum { N = 33 };
    double x[N], y[N];
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        for (int i = 0; i < N; i++) {
            x[i] = ops[k].lo + (ops[k].hi - ops[k].lo) * i / (N - 1);
            y[i] = ops[k].f(x[i]);
        }
        for (int t = 0; t < 2; t++) {
            const onnorm_dtype dt = t ? ONNORM_DOUBLE : ONNORM_FLOAT;
            void *xv = th_pack(dt, x, N);
            /* The float32 reference is the function of the float32 input. */
            double *ref = th_dalloc(N);
            for (int i = 0; i < N; i++)
                ref[i] = t ? y[i] : ops[k].f((double)((const float *)xv)[i]);
            th_run r;
            th_ok(&r, th_go(&r, un_model(&r, ops[k].opset, ops[k].op, dt, N, xv, dt, NULL), 2),
                  ops[k].op);
            th_expect_output(&r, ops[k].op, "Y", dt, 1, (int64_t[]){N}, ref, 0);
            th_free(&r);
            free(ref);
            free(xv);
        }
    }
    /* Out of the domain: NaN, as the C library (and NumPy) give. */
    const float bad[] = {2.0f};
    th_run r;
    th_ok(&r, th_go(&r, un_model(&r, 7, "Asin", ONNORM_FLOAT, 1, bad, ONNORM_FLOAT, NULL), 1),
          "Asin");
    assert_true(isnan(*(const float *)th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){1})));
    th_free(&r);
    /* Integers are refused. */
    const int32_t ix[] = {1};
    th_go_fails(&r, un_model(&r, 7, "Sin", ONNORM_INT32, 1, ix, ONNORM_INT32, NULL), 1,
                ONNORM_ERR_DTYPE, "float");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mod_integer_signs),
        cmocka_unit_test(mod_float_and_errors),
        cmocka_unit_test(bitshift),
        cmocka_unit_test(comparisons),
        cmocka_unit_test(logic),
        cmocka_unit_test(round_half_even),
        cmocka_unit_test(isinf_isnan),
        cmocka_unit_test(celu_thresholded_relu),
        cmocka_unit_test(half_arithmetic),
        cmocka_unit_test(trig_formulas),
        cmocka_unit_test(half_pow_and_clip),
        cmocka_unit_test(legacy_broadcast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
