/*
 * Quantization ops (ops/core/quant.c) as one-node models run through the
 * public API. Expected values are literals worked out by hand from the
 * spec's formulas (y = saturate(round_half_even(x / scale) + zero_point),
 * y = (x - zero_point) * scale), or come from naive loops written here:
 * a matrix product over promoted int64 values, and a convolution that
 * walks every output position and kernel tap with explicit bounds checks.
 */
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

/* Node attributes: up to 4 ints, 4 int lists and auto_pad. */
typedef struct q_attrs {
    const char *iname[4];
    int64_t ival[4];
    const char *lname[4];
    int ln[4];
    int64_t lval[4][8];
    const char *auto_pad;
} q_attrs;

static tb_model *node_model(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                            onnorm_dtype ydt, const q_attrs *a)
{
    tb_node *nd;
    tb_model *b = th_node_model(r, opset, op, n, in, ydt, &nd);
    for (int i = 0; a && i < 4; i++) {
        if (a->iname[i]) tb_attr_int(nd, a->iname[i], a->ival[i]);
        if (a->lname[i]) tb_attr_ints(nd, a->lname[i], a->ln[i], a->lval[i]);
    }
    if (a && a->auto_pad) tb_attr_string(nd, "auto_pad", a->auto_pad);
    return b;
}

static void expect_y(int64_t opset, const char *op, int n, const th_tensor *in, const q_attrs *a,
                     onnorm_dtype ydt, int rank, const int64_t *dims, const double *want,
                     int threads)
{
    th_run r;
    th_ok(&r, th_go(&r, node_model(&r, opset, op, n, in, ydt, a), threads), op);
    int64_t numel = 1;
    for (int i = 0; i < rank; i++)
        numel *= dims[i];
    const void *y = th_output(&r, "Y", ydt, rank, dims);
    for (int64_t i = 0; i < numel; i++)
        if (th_value(ydt, y, i) != want[i])
            fail_msg("%s-%lld: element %lld is %g, want %g", op, (long long)opset, (long long)i,
                     th_value(ydt, y, i), want[i]);
    th_free(&r);
}

static void expect_fail(int64_t opset, const char *op, int n, const th_tensor *in, const q_attrs *a,
                        onnorm_dtype ydt, onnorm_status want, const char *needle)
{
    th_run r;
    th_go_fails(&r, node_model(&r, opset, op, n, in, ydt, a), 1, want, needle);
}

#define T(name, dt, rank, dims, ...) ((th_tensor){name, dt, rank, dims, __VA_ARGS__, false})
#define C(name, dt, rank, dims, ...) ((th_tensor){name, dt, rank, dims, __VA_ARGS__, true})

/* ---- QuantizeLinear ----------------------------------------------------------- */

static void quantize_rounds_half_to_even_and_saturates(void **state)
{
    (void)state;
    /* x / 2 = 0.5, 1.5, 2.5, -0.5, -1.5, 300, -300 -> 0, 2, 2, -0, -2, 300, -300; + 3 */
    const float x[8] = {1, 3, 5, -1, -3, 600, -600, NAN};
    const th_tensor in[3] = {T("x", ONNORM_FLOAT, 1, {8}, x),
                             C("s", ONNORM_FLOAT, 0, {0}, (const float[]){2}),
                             C("z", ONNORM_UINT8, 0, {0}, (const uint8_t[]){3})};
    const double want[8] = {3, 5, 5, 3, 1, 255, 0, 3}; /* NaN gives the zero point */
    for (int v = 0; v < 4; v++)
        expect_y((const int64_t[]){10, 13, 19, 21}[v], "QuantizeLinear", 3, in, NULL, ONNORM_UINT8,
                 1, (const int64_t[]){8}, want, 1);
    /* int8, and no zero point (uint8 output, zero point 0) */
    const th_tensor i8[3] = {in[0], in[1], C("z", ONNORM_INT8, 0, {0}, (const int8_t[]){-1})};
    expect_y(13, "QuantizeLinear", 3, i8, NULL, ONNORM_INT8, 1, (const int64_t[]){8},
             (const double[]){-1, 1, 1, -1, -3, 127, -128, -1}, 1);
    expect_y(13, "QuantizeLinear", 2, in, NULL, ONNORM_UINT8, 1, (const int64_t[]){8},
             (const double[]){0, 2, 2, 0, 0, 255, 0, 0}, 1);
}

static void quantize_int32_input(void **state)
{
    (void)state;
    /* 7 / 2 = 3.5 -> 4, -7 / 2 = -3.5 -> -4, 5 / 2 = 2.5 -> 2 */
    const th_tensor in[3] = {T("x", ONNORM_INT32, 1, {3}, (const int32_t[]){7, -7, 5}),
                             C("s", ONNORM_FLOAT, 0, {0}, (const float[]){2}),
                             C("z", ONNORM_INT8, 0, {0}, (const int8_t[]){0})};
    expect_y(10, "QuantizeLinear", 3, in, NULL, ONNORM_INT8, 1, (const int64_t[]){3},
             (const double[]){4, -4, 2}, 1);
}

static void quantize_per_axis_and_blocks(void **state)
{
    (void)state;
    const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    /* x [2, 4], axis -1: scales per column 1, 2, 4, 8 -> 1, 1, 0.75->1, 0.5->0;
     * 5, 3, 1.75->2, 1; zero points 0, 1, 2, 3 */
    const th_tensor ax[3] = {T("x", ONNORM_FLOAT, 2, {2, 4}, x),
                             C("s", ONNORM_FLOAT, 1, {4}, (const float[]){1, 2, 4, 8}),
                             C("z", ONNORM_INT8, 1, {4}, (const int8_t[]){0, 1, 2, 3})};
    q_attrs a = {.iname = {"axis"}, .ival = {-1}};
    expect_y(13, "QuantizeLinear", 3, ax, &a, ONNORM_INT8, 2, (const int64_t[]){2, 4},
             (const double[]){1, 2, 3, 3, 5, 4, 4, 4}, 1);
    /* axis 0: one scale per row */
    const th_tensor rows[2] = {T("x", ONNORM_FLOAT, 2, {2, 4}, x),
                               C("s", ONNORM_FLOAT, 1, {2}, (const float[]){2, 4})};
    q_attrs a0 = {.iname = {"axis"}, .ival = {0}};
    expect_y(13, "QuantizeLinear", 2, rows, &a0, ONNORM_UINT8, 2, (const int64_t[]){2, 4},
             (const double[]){0, 1, 2, 2, 1, 2, 2, 2}, 1);
    /* blocks of 3 along axis 1 of x [2, 4]: scale [2, 2] (ceil(4 / 3) = 2) */
    const th_tensor blk[3] = {T("x", ONNORM_FLOAT, 2, {2, 4}, x),
                              C("s", ONNORM_FLOAT, 2, {2, 2}, (const float[]){1, 2, 4, 8}),
                              C("z", ONNORM_INT8, 2, {2, 2}, (const int8_t[]){0, -1, 10, 20})};
    q_attrs ab = {.iname = {"axis", "block_size"}, .ival = {1, 3}};
    /* row 0: 1/1, 2/1, 3/1 (+0); 4/2 (-1) = 1. row 1: 5/4 -> 1, 6/4 -> 2, 7/4 -> 2 (+10);
     * 8/8 (+20) = 21 */
    expect_y(21, "QuantizeLinear", 3, blk, &ab, ONNORM_INT8, 2, (const int64_t[]){2, 4},
             (const double[]){1, 2, 3, 1, 11, 12, 12, 21}, 1);
    /* blocked dequantization inverts it on the exact points */
    const th_tensor dq[3] = {
        T("x", ONNORM_INT8, 2, {2, 4}, (const int8_t[]){1, 2, 3, 1, 11, 12, 12, 21}),
        C("s", ONNORM_FLOAT, 2, {2, 2}, (const float[]){1, 2, 4, 8}),
        C("z", ONNORM_INT8, 2, {2, 2}, (const int8_t[]){0, -1, 10, 20})};
    expect_y(21, "DequantizeLinear", 3, dq, &ab, ONNORM_FLOAT, 2, (const int64_t[]){2, 4},
             (const double[]){1, 2, 3, 4, 4, 8, 8, 8}, 1);
}

static void quantize_opset21_output_dtype(void **state)
{
    (void)state;
    const th_tensor in[2] = {T("x", ONNORM_FLOAT, 1, {3}, (const float[]){40000, -40000, 1.5f}),
                             C("s", ONNORM_FLOAT, 0, {0}, (const float[]){1})};
    q_attrs a = {.iname = {"output_dtype"}, .ival = {ONNORM_INT16}};
    expect_y(21, "QuantizeLinear", 2, in, &a, ONNORM_INT16, 1, (const int64_t[]){3},
             (const double[]){32767, -32768, 2}, 1);
    q_attrs f8 = {.iname = {"output_dtype"}, .ival = {17}}; /* float8e4m3fn */
    expect_fail(21, "QuantizeLinear", 2, in, &f8, ONNORM_UINT8, ONNORM_ERR_UNSUPPORTED,
                "unsupported");
    /* int16 is not an output type before opset 21 */
    const th_tensor z16[3] = {in[0], in[1], C("z", ONNORM_INT16, 0, {0}, (const int16_t[]){0})};
    expect_fail(19, "QuantizeLinear", 3, z16, NULL, ONNORM_INT16, ONNORM_ERR_UNSUPPORTED,
                "unsupported");
}

static void quantize_errors(void **state)
{
    (void)state;
    const float x[6] = {0};
    const th_tensor bad_z[3] = {T("x", ONNORM_FLOAT, 2, {2, 3}, x),
                                C("s", ONNORM_FLOAT, 1, {3}, (const float[]){1, 1, 1}),
                                C("z", ONNORM_UINT8, 1, {2}, (const uint8_t[]){0, 0})};
    expect_fail(13, "QuantizeLinear", 3, bad_z, NULL, ONNORM_UINT8, ONNORM_ERR_SHAPE, "shape");
    const th_tensor bad_s[2] = {T("x", ONNORM_FLOAT, 2, {2, 3}, x),
                                C("s", ONNORM_FLOAT, 1, {2}, (const float[]){1, 1})};
    /* axis 1 has 3 elements, not 2 */
    expect_fail(13, "QuantizeLinear", 2, bad_s, NULL, ONNORM_UINT8, ONNORM_ERR_SHAPE, "axis");
    q_attrs a = {.iname = {"axis"}, .ival = {2}};
    expect_fail(13, "QuantizeLinear", 2, bad_s, &a, ONNORM_UINT8, ONNORM_ERR_INVALID, "axis");
    /* opset 10 has no per-axis scales */
    expect_fail(10, "QuantizeLinear", 2, bad_s, NULL, ONNORM_UINT8, ONNORM_ERR_SHAPE, "one value");
    /* a block size that does not fit the scale */
    const th_tensor blk[2] = {T("x", ONNORM_FLOAT, 2, {2, 3}, x),
                              C("s", ONNORM_FLOAT, 2, {2, 3}, x)};
    q_attrs ab = {.iname = {"axis", "block_size"}, .ival = {1, 2}};
    expect_fail(21, "QuantizeLinear", 2, blk, &ab, ONNORM_UINT8, ONNORM_ERR_SHAPE, "blocks");
    /* a zero point of another type than x */
    const th_tensor dz[3] = {T("x", ONNORM_INT8, 1, {2}, (const int8_t[]){1, 2}),
                             C("s", ONNORM_FLOAT, 0, {0}, (const float[]){1}),
                             C("z", ONNORM_UINT8, 0, {0}, (const uint8_t[]){0})};
    expect_fail(13, "DequantizeLinear", 3, dz, NULL, ONNORM_FLOAT, ONNORM_ERR_DTYPE, "type");
    /* from opset 19 y_scale must have x's type */
    const uint16_t half = 0x3800; /* 0.5 */
    const th_tensor mix[2] = {T("x", ONNORM_FLOAT, 1, {2}, (const float[]){1, 2}),
                              C("s", ONNORM_FLOAT16, 0, {0}, &half)};
    expect_fail(19, "QuantizeLinear", 2, mix, NULL, ONNORM_UINT8, ONNORM_ERR_DTYPE, "type");
}

/* float16 x and scale (opset 19), and a float16 dequantized output. */
static void quantize_float16(void **state)
{
    (void)state;
    /* 1.5 / 0.5 = 3, -2 / 0.5 = -4, 0.25 / 0.5 = 0.5 -> 0 */
    const uint16_t x[3] = {0x3E00, 0xC000, 0x3400}, half = 0x3800;
    const th_tensor q[3] = {T("x", ONNORM_FLOAT16, 1, {3}, x),
                            C("s", ONNORM_FLOAT16, 0, {0}, &half),
                            C("z", ONNORM_INT8, 0, {0}, (const int8_t[]){0})};
    expect_y(19, "QuantizeLinear", 3, q, NULL, ONNORM_INT8, 1, (const int64_t[]){3},
             (const double[]){3, -4, 0}, 1);
    const th_tensor dq[2] = {T("x", ONNORM_INT8, 1, {3}, (const int8_t[]){3, -4, 0}),
                             C("s", ONNORM_FLOAT16, 0, {0}, &half)};
    th_run r;
    th_ok(&r, th_go(&r, node_model(&r, 19, "DequantizeLinear", 2, dq, ONNORM_FLOAT16, NULL), 1),
          "DequantizeLinear");
    const uint16_t *y = th_output(&r, "Y", ONNORM_FLOAT16, 1, (const int64_t[]){3});
    assert_int_equal(y[0], 0x3E00); /* 1.5 */
    assert_int_equal(y[1], 0xC000); /* -2 */
    assert_int_equal(y[2], 0x0000); /* 0 */
    th_free(&r);
}

/* ---- DequantizeLinear ---------------------------------------------------------- */

static void dequantize_types_and_axis(void **state)
{
    (void)state;
    /* int32, no zero point: x * 0.5 */
    const th_tensor i32[2] = {
        T("x", ONNORM_INT32, 1, {3}, (const int32_t[]){-2147483647 - 1, 3, 2147483647}),
        C("s", ONNORM_FLOAT, 0, {0}, (const float[]){0.5f})};
    expect_y(10, "DequantizeLinear", 2, i32, NULL, ONNORM_FLOAT, 1, (const int64_t[]){3},
             (const double[]){-1073741824.0, 1.5, 1073741824.0}, 1);
    /* int8 per axis 0 of [2, 2]: (x - z[r]) * s[r] */
    const th_tensor ax[3] = {T("x", ONNORM_INT8, 2, {2, 2}, (const int8_t[]){-128, 127, 0, 5}),
                             C("s", ONNORM_FLOAT, 1, {2}, (const float[]){0.25f, 2}),
                             C("z", ONNORM_INT8, 1, {2}, (const int8_t[]){127, -3})};
    q_attrs a = {.iname = {"axis"}, .ival = {0}};
    expect_y(13, "DequantizeLinear", 3, ax, &a, ONNORM_FLOAT, 2, (const int64_t[]){2, 2},
             (const double[]){-63.75, 0, 6, 16}, 1);
    /* uint16 at opset 21 */
    const th_tensor u16[3] = {T("x", ONNORM_UINT16, 1, {2}, (const uint16_t[]){65535, 0}),
                              C("s", ONNORM_FLOAT, 0, {0}, (const float[]){1}),
                              C("z", ONNORM_UINT16, 0, {0}, (const uint16_t[]){32768})};
    expect_y(21, "DequantizeLinear", 3, u16, NULL, ONNORM_FLOAT, 1, (const int64_t[]){2},
             (const double[]){32767, -32768}, 1);
}

/* ---- DynamicQuantizeLinear ------------------------------------------------------ */

/* The spec's formula, in float32 as the spec's expansion computes it. */
static void dyn_reference(const float *x, int n, float *scale, uint8_t *zp, uint8_t *y)
{
    float lo = 0, hi = 0;
    for (int i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    *scale = (hi - lo) / 255.0f;
    float z = 0.0f - lo / *scale;
    z = z < 0 ? 0 : z > 255 ? 255 : z;
    *zp = (uint8_t)nearbyintf(z);
    for (int i = 0; i < n; i++) {
        float q = nearbyintf(x[i] / *scale) + *zp;
        y[i] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
    }
}

static void run_dyn(const float *x, int n, float *scale, uint8_t *zp, uint8_t *y)
{
    th_run r;
    tb_model *b = th_new(&r, 11);
    th_add(&r, b, T("X", ONNORM_FLOAT, 1, {n}, x));
    tb_node_add(b, "DynamicQuantizeLinear", "n", 1, (const char *[]){"X"}, 3,
                (const char *[]){"Y", "S", "Z"});
    tb_output(b, "Y", ONNORM_UINT8);
    tb_output(b, "S", ONNORM_FLOAT);
    tb_output(b, "Z", ONNORM_UINT8);
    th_ok(&r, th_go(&r, b, 1), "DynamicQuantizeLinear");
    memcpy(y, th_output(&r, "Y", ONNORM_UINT8, 1, (const int64_t[]){n}), (size_t)n);
    *scale = *(const float *)th_output(&r, "S", ONNORM_FLOAT, 0, NULL);
    *zp = *(const uint8_t *)th_output(&r, "Z", ONNORM_UINT8, 0, NULL);
    th_free(&r);
}

static void dynamic_quantize(void **state)
{
    (void)state;
    enum { N = 64 };
    float x[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)((i * 37) % 101) * 0.173f - 6.1f;
    float s, ws;
    uint8_t z, wz, y[N], wy[N];
    run_dyn(x, N, &s, &z, y);
    dyn_reference(x, N, &ws, &wz, wy);
    assert_true(s == ws);
    assert_int_equal(z, wz);
    assert_memory_equal(y, wy, N);
    /* all zeros: scale 1, zero point 0, y 0 (the spec's scale would be 0) */
    const float zeros[4] = {0};
    run_dyn(zeros, 4, &s, &z, y);
    assert_true(s == 1.0f);
    assert_int_equal(z, 0);
    assert_memory_equal(y, (const uint8_t[4]){0}, 4);
}

/* ---- MatMulInteger / QLinearMatMul ----------------------------------------------- */

static void matmul_integer_broadcast_and_zero_points(void **state)
{
    (void)state;
    /* A int8 [2, 2, 3] with per-row zero points [2]; B uint8 [3, 4] per column [4]. */
    int8_t a[12];
    uint8_t b[12];
    for (int i = 0; i < 12; i++) {
        a[i] = (int8_t)(i * 23 % 256 - 128);
        b[i] = (uint8_t)(i * 41 % 256);
    }
    const int8_t az[2] = {-5, 7};
    const uint8_t bz[4] = {0, 128, 255, 3};
    double want[16];
    for (int bt = 0; bt < 2; bt++)
        for (int m = 0; m < 2; m++)
            for (int n = 0; n < 4; n++) {
                int64_t acc = 0;
                for (int k = 0; k < 3; k++)
                    acc += (int64_t)(a[(bt * 2 + m) * 3 + k] - az[m]) * (b[k * 4 + n] - bz[n]);
                want[(bt * 2 + m) * 4 + n] = (double)acc;
            }
    const th_tensor in[4] = {T("A", ONNORM_INT8, 3, {2, 2, 3}, a),
                             T("B", ONNORM_UINT8, 2, {3, 4}, b), C("az", ONNORM_INT8, 1, {2}, az),
                             C("bz", ONNORM_UINT8, 1, {4}, bz)};
    expect_y(10, "MatMulInteger", 4, in, NULL, ONNORM_INT32, 3, (const int64_t[]){2, 2, 4}, want,
             2);
    /* 1-D A: [3] x [3, 4] -> [4], no zero points */
    double w1[4];
    for (int n = 0; n < 4; n++) {
        w1[n] = 0;
        for (int k = 0; k < 3; k++)
            w1[n] += (double)a[k] * b[k * 4 + n];
    }
    const th_tensor v[2] = {T("A", ONNORM_INT8, 1, {3}, a), T("B", ONNORM_UINT8, 2, {3, 4}, b)};
    expect_y(10, "MatMulInteger", 2, v, NULL, ONNORM_INT32, 1, (const int64_t[]){4}, w1, 1);
    /* batched zero points: A [2, 2, 3] with [2, 2, 1], B [2, 3, 2] with [2, 1, 2] */
    const int8_t azb[4] = {1, -2, 3, -4};
    const uint8_t bzb[4] = {10, 20, 30, 40};
    double wb[8];
    for (int bt = 0; bt < 2; bt++)
        for (int m = 0; m < 2; m++)
            for (int n = 0; n < 2; n++) {
                int64_t acc = 0;
                for (int k = 0; k < 3; k++)
                    acc += (int64_t)(a[(bt * 2 + m) * 3 + k] - azb[bt * 2 + m]) *
                           (b[(bt * 3 + k) * 2 + n] - bzb[bt * 2 + n]);
                wb[(bt * 2 + m) * 2 + n] = (double)acc;
            }
    const th_tensor bz3[4] = {
        T("A", ONNORM_INT8, 3, {2, 2, 3}, a), T("B", ONNORM_UINT8, 3, {2, 3, 2}, b),
        C("az", ONNORM_INT8, 3, {2, 2, 1}, azb), C("bz", ONNORM_UINT8, 3, {2, 1, 2}, bzb)};
    expect_y(10, "MatMulInteger", 4, bz3, NULL, ONNORM_INT32, 3, (const int64_t[]){2, 2, 2}, wb, 1);
    const th_tensor bad[2] = {T("A", ONNORM_INT8, 2, {2, 3}, a),
                              T("B", ONNORM_UINT8, 2, {4, 3}, b)};
    expect_fail(10, "MatMulInteger", 2, bad, NULL, ONNORM_INT32, ONNORM_ERR_SHAPE, "product");
}

static void qlinear_matmul_rounds_half_to_even(void **state)
{
    (void)state;
    /* A [1, 1] x B [1, 4]: sums 5, 7, -5, 150; multipliers 1/2 (1 in column 3): 2.5 -> 2, 3.5 -> 4,
     * -2.5 -> -2, 150; + 1, saturated to int8 */
    const th_tensor in[8] = {T("a", ONNORM_UINT8, 2, {1, 1}, (const uint8_t[]){11}),
                             C("as", ONNORM_FLOAT, 0, {0}, (const float[]){1}),
                             C("az", ONNORM_UINT8, 0, {0}, (const uint8_t[]){10}),
                             T("b", ONNORM_INT8, 2, {1, 4}, (const int8_t[]){5, 7, -5, 127}),
                             C("bs", ONNORM_FLOAT, 1, {4}, (const float[]){1, 1, 1, 2}),
                             C("bz", ONNORM_INT8, 1, {4}, (const int8_t[]){0, 0, 0, -23}),
                             C("ys", ONNORM_FLOAT, 0, {0}, (const float[]){2}),
                             C("yz", ONNORM_INT8, 0, {0}, (const int8_t[]){1})};
    expect_y(10, "QLinearMatMul", 8, in, NULL, ONNORM_INT8, 2, (const int64_t[]){1, 4},
             (const double[]){3, 5, -1, 127}, 1);
    expect_y(21, "QLinearMatMul", 8, in, NULL, ONNORM_INT8, 2, (const int64_t[]){1, 4},
             (const double[]){3, 5, -1, 127}, 1);
}

/* ---- ConvInteger / QLinearConv --------------------------------------------------- */

typedef struct conv_case {
    int64_t n, c, m, group, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
} conv_case;

/* Naive 2-D convolution of (x - xz) and (w - wz[m]) with explicit padding. */
static void conv_reference(const conv_case *k, const uint8_t *x, int xz, const int8_t *w,
                           const int8_t *wz, int64_t oh, int64_t ow, int64_t *acc)
{
    const int64_t cg = k->c / k->group, mg = k->m / k->group;
    for (int64_t n = 0; n < k->n; n++)
        for (int64_t m = 0; m < k->m; m++)
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    int64_t s = 0;
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t u = 0; u < k->kh; u++)
                            for (int64_t v = 0; v < k->kw; v++) {
                                int64_t y = i * k->sh - k->pt + u * k->dh;
                                int64_t z = j * k->sw - k->pl + v * k->dw;
                                if (y < 0 || y >= k->h || z < 0 || z >= k->w) continue;
                                int64_t ci = (m / mg) * cg + c;
                                s += (int64_t)(x[((n * k->c + ci) * k->h + y) * k->w + z] - xz) *
                                     (w[((m * cg + c) * k->kh + u) * k->kw + v] - wz[m]);
                            }
                    acc[((n * k->m + m) * oh + i) * ow + j] = s;
                }
}

static void conv_integer_geometry(void **state)
{
    (void)state;
    const conv_case k = {2, 4, 6, 2, 7, 6, 3, 2, 2, 1, 2, 1, 1, 0, 2, 1};
    const int64_t cg = k.c / k.group;
    const int64_t oh = (k.h + k.pt + k.pb - ((k.kh - 1) * k.dh + 1)) / k.sh + 1;
    const int64_t ow = (k.w + k.pl + k.pr - ((k.kw - 1) * k.dw + 1)) / k.sw + 1;
    uint8_t x[2 * 4 * 7 * 6];
    int8_t w[6 * 2 * 3 * 2], wz[6] = {1, -2, 0, 5, -7, 3};
    for (size_t i = 0; i < sizeof x; i++)
        x[i] = (uint8_t)(i * 29 % 256);
    for (size_t i = 0; i < sizeof w; i++)
        w[i] = (int8_t)(i * 53 % 256 - 128);
    int64_t acc[2 * 6 * 4 * 7];
    conv_reference(&k, x, 9, w, wz, oh, ow, acc);
    double want[2 * 6 * 4 * 7];
    for (int64_t i = 0; i < k.n * k.m * oh * ow; i++)
        want[i] = (double)acc[i];
    const th_tensor in[4] = {T("x", ONNORM_UINT8, 4, {k.n, k.c, k.h, k.w}, x),
                             C("w", ONNORM_INT8, 4, {k.m, cg, k.kh, k.kw}, w),
                             C("xz", ONNORM_UINT8, 0, {0}, (const uint8_t[]){9}),
                             C("wz", ONNORM_INT8, 1, {6}, wz)};
    q_attrs a = {.iname = {"group"},
                 .ival = {k.group},
                 .lname = {"strides", "dilations", "pads"},
                 .ln = {2, 2, 4},
                 .lval = {{k.sh, k.sw}, {k.dh, k.dw}, {k.pt, k.pl, k.pb, k.pr}}};
    expect_y(10, "ConvInteger", 4, in, &a, ONNORM_INT32, 4, (const int64_t[]){k.n, k.m, oh, ow},
             want, 2);

    /* SAME_UPPER, stride 2 on [7, 6] with a 3x2 kernel: out ceil(7/2) x ceil(6/2) = 4x3;
     * padding (4-1)*2+3-7 = 2 along h (1 before, 1 after), (3-1)*2+2-6 = 0 along w */
    const conv_case s = {2, 4, 6, 2, 7, 6, 3, 2, 2, 2, 1, 1, 1, 0, 1, 1};
    conv_reference(&s, x, 9, w, wz, 4, 3, acc);
    for (int64_t i = 0; i < 2 * 6 * 4 * 3; i++)
        want[i] = (double)acc[i];
    q_attrs as = {.iname = {"group"},
                  .ival = {2},
                  .lname = {"strides"},
                  .ln = {2},
                  .lval = {{2, 2}},
                  .auto_pad = "SAME_UPPER"};
    expect_y(10, "ConvInteger", 4, in, &as, ONNORM_INT32, 4, (const int64_t[]){2, 6, 4, 3}, want,
             1);

    /* QLinearConv of the same data: bias, per-channel w_scale, uint8 y */
    const float wsc[6] = {0.5f, 0.25f, 1, 2, 0.125f, 1};
    const int32_t bias[6] = {100, -100, 7, 0, 1000, -3};
    conv_reference(&k, x, 9, w, wz, oh, ow, acc);
    for (int64_t i = 0; i < k.n * k.m * oh * ow; i++) {
        const int64_t m = (i / (oh * ow)) % k.m;
        const float mult = 0.5f * wsc[m] / 8.0f;
        double q = nearbyint((double)(acc[i] + bias[m]) * (double)mult) + 128;
        want[i] = q < 0 ? 0 : q > 255 ? 255 : q;
    }
    const th_tensor ql[9] = {in[0],
                             C("xs", ONNORM_FLOAT, 0, {0}, (const float[]){0.5f}),
                             in[2],
                             in[1],
                             C("ws", ONNORM_FLOAT, 1, {6}, wsc),
                             in[3],
                             C("ys", ONNORM_FLOAT, 0, {0}, (const float[]){8}),
                             C("yz", ONNORM_UINT8, 0, {0}, (const uint8_t[]){128}),
                             C("B", ONNORM_INT32, 1, {6}, bias)};
    expect_y(10, "QLinearConv", 9, ql, &a, ONNORM_UINT8, 4, (const int64_t[]){k.n, k.m, oh, ow},
             want, 2);

    /* channels that do not divide by the group */
    q_attrs g3 = {.iname = {"group"}, .ival = {3}};
    expect_fail(10, "ConvInteger", 4, in, &g3, ONNORM_INT32, ONNORM_ERR_INVALID, "group");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantize_rounds_half_to_even_and_saturates),
        cmocka_unit_test(quantize_int32_input),
        cmocka_unit_test(quantize_per_axis_and_blocks),
        cmocka_unit_test(quantize_opset21_output_dtype),
        cmocka_unit_test(quantize_errors),
        cmocka_unit_test(quantize_float16),
        cmocka_unit_test(dequantize_types_and_axis),
        cmocka_unit_test(dynamic_quantize),
        cmocka_unit_test(matmul_integer_broadcast_and_zero_points),
        cmocka_unit_test(qlinear_matmul_rounds_half_to_even),
        cmocka_unit_test(conv_integer_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
