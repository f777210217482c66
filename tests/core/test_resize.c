/*
 * Resize / Upsample (ops/core/resize.c) and GridSample, RoiAlign,
 * NonMaxSuppression (ops/core/vision.c) as one-node models: the forms the
 * official folders leave out (Upsample-7's attribute, Resize-10, integer
 * rounding, the parallel bilinear path on many planes) and the errors.
 * Expected values are literals worked out by hand from the spec's formulas,
 * or a naive per-element bilinear loop written here.
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

/* Runs one node (ydt output "Y") and asserts success; returns Y. */
static onnorm_tensor run_ok(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                            onnorm_dtype ydt, tb_node **node_out, int threads)
{
    tb_node *nd;
    tb_model *b = th_node_model(r, opset, op, n, in, ydt, &nd);
    if (node_out) *node_out = nd;
    th_ok(r, th_go(r, b, threads), op);
    return th_out(r, "Y");
}

static void expect_vals(const onnorm_tensor *y, int rank, const int64_t *dims, const double *want)
{
    assert_int_equal(y->rank, rank);
    int64_t n = 1;
    for (int k = 0; k < rank; k++) {
        assert_int_equal(y->dims[k], dims[k]);
        n *= dims[k];
    }
    for (int64_t i = 0; i < n; i++) {
        const double got = th_value(y->dtype, y->data, i);
        if (fabs(got - want[i]) > 1e-6 * (1 + fabs(want[i])))
            fail_msg("element %lld is %g, want %g", (long long)i, got, want[i]);
    }
}

/* Upsample-7 reads its scales from the attribute; Upsample-9 linear maps
 * asymmetrically (x / scale) and clamps at the edge. */
static void upsample_forms(void **state)
{
    (void)state;
    const float x[4] = {1, 2, 3, 4};
    th_run r;
    tb_model *b = th_new(&r, 7);
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 2, (const int64_t[]){2, 2}, x));
    const char *ins[1] = {"X"}, *outs[1] = {"Y"};
    tb_node *nd = tb_node_add(b, "Upsample", "n", 1, ins, 1, outs);
    tb_attr_floats(nd, "scales", 2, (const float[]){2, 2});
    tb_output(b, "Y", ONNORM_FLOAT);
    th_ok(&r, th_go(&r, b, 1), "Upsample-7");
    onnorm_tensor y = th_out(&r, "Y");
    const double w7[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    expect_vals(&y, 2, (const int64_t[]){4, 4}, w7);
    th_free(&r);

    const float x2[2] = {1, 2};
    th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 2, (const int64_t[]){1, 2}, x2),
                       th_const("s", ONNORM_FLOAT, 1, (const int64_t[]){2}, (const float[]){1, 2})};
    y = run_ok(&r, 9, "Upsample", 2, in, ONNORM_FLOAT, &nd, 1);
    expect_vals(&y, 2, (const int64_t[]){1, 4}, (const double[]){1, 1, 2, 2});
    th_free(&r);
    b = th_node_model(&r, 9, "Upsample", 2, in, ONNORM_FLOAT, &nd);
    tb_attr_string(nd, "mode", "linear");
    th_ok(&r, th_go(&r, b, 1), "Upsample-9 linear");
    y = th_out(&r, "Y");
    expect_vals(&y, 2, (const int64_t[]){1, 4}, (const double[]){1, 1.5, 2, 2});
    th_free(&r);
}

/* Resize-10: nearest by floor(x / scale); linear on integers rounds half
 * away from zero and saturates. */
static void resize10_and_integers(void **state)
{
    (void)state;
    th_run r;
    const float x[4] = {1, 2, 3, 4};
    th_tensor in[2] = {
        th_in("X", ONNORM_FLOAT, 2, (const int64_t[]){1, 4}, x),
        th_const("s", ONNORM_FLOAT, 1, (const int64_t[]){2}, (const float[]){1, 0.5f})};
    onnorm_tensor y = run_ok(&r, 10, "Resize", 2, in, ONNORM_FLOAT, NULL, 1);
    expect_vals(&y, 2, (const int64_t[]){1, 2}, (const double[]){1, 3});
    th_free(&r);

    /* 5 * 1.4f is 6.99999988 exactly, 7 in float32: seven elements */
    const float x5[5] = {1, 2, 3, 4, 5};
    th_tensor in5[2] = {
        th_in("X", ONNORM_FLOAT, 2, (const int64_t[]){1, 5}, x5),
        th_const("s", ONNORM_FLOAT, 1, (const int64_t[]){2}, (const float[]){1, 1.4f})};
    y = run_ok(&r, 10, "Resize", 2, in5, ONNORM_FLOAT, NULL, 1);
    expect_vals(&y, 2, (const int64_t[]){1, 7}, (const double[]){1, 1, 2, 3, 3, 4, 5});
    th_free(&r);

    const uint8_t u[2] = {0, 255};
    th_tensor iu[2] = {th_in("X", ONNORM_UINT8, 2, (const int64_t[]){1, 2}, u),
                       th_const("s", ONNORM_FLOAT, 1, (const int64_t[]){2}, (const float[]){1, 2})};
    tb_node *nd;
    tb_model *b = th_node_model(&r, 10, "Resize", 2, iu, ONNORM_UINT8, &nd);
    tb_attr_string(nd, "mode", "linear");
    th_ok(&r, th_go(&r, b, 1), "Resize-10 uint8");
    y = th_out(&r, "Y");
    expect_vals(&y, 2, (const int64_t[]){1, 4}, (const double[]){0, 128, 255, 255});
    th_free(&r);

    const int8_t s8[2] = {-101, 100};
    iu[0] = th_in("X", ONNORM_INT8, 2, (const int64_t[]){1, 2}, s8);
    b = th_node_model(&r, 10, "Resize", 2, iu, ONNORM_INT8, &nd);
    tb_attr_string(nd, "mode", "linear");
    th_ok(&r, th_go(&r, b, 1), "Resize-10 int8");
    y = th_out(&r, "Y");
    expect_vals(&y, 2, (const int64_t[]){1, 4}, (const double[]){-101, -1, 100, 100});
    th_free(&r);
}

/* The parallel float32 bilinear path (and the double generic path) against
 * the half_pixel formula evaluated naively, on 6 planes, 2 threads. */
static double naive_bilinear(const float *x, int64_t H, int64_t W, int64_t p, double sy, double sx,
                             int64_t oy, int64_t ox)
{
    double fy = (oy + 0.5) / sy - 0.5, fx = (ox + 0.5) / sx - 0.5;
    if (fy < 0) fy = 0;
    if (fx < 0) fx = 0;
    int64_t y0 = (int64_t)floor(fy), x0 = (int64_t)floor(fx);
    if (y0 > H - 1) y0 = H - 1;
    if (x0 > W - 1) x0 = W - 1;
    const int64_t y1 = y0 + 1 < H ? y0 + 1 : H - 1, x1 = x0 + 1 < W ? x0 + 1 : W - 1;
    const double ly = fy - y0, lx = fx - x0;
    const float *q = x + p * H * W;
    return (1 - ly) * ((1 - lx) * q[y0 * W + x0] + lx * q[y0 * W + x1]) +
           ly * ((1 - lx) * q[y1 * W + x0] + lx * q[y1 * W + x1]);
}

static void bilinear_many_planes(void **state)
{
    (void)state;
    enum { N = 2, C = 3, H = 5, W = 7, OH = 12, OW = 10 };
    const float sy = 2.5f, sx = 1.5f;
    float x[N * C * H * W];
    double xd[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++)
        x[i] = (float)((i * 37 % 101) - 50) / 7.0f, xd[i] = x[i];
    double want[N * C * OH * OW];
    for (int p = 0; p < N * C; p++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                want[(p * OH + oy) * OW + ox] = naive_bilinear(x, H, W, p, sy, sx, oy, ox);
    const int64_t dims[4] = {N, C, H, W}, odims[4] = {N, C, OH, OW};
    for (int dt = 0; dt < 2; dt++) {
        th_run r;
        tb_node *nd;
        th_tensor in[3] = {
            th_in("X", dt ? ONNORM_DOUBLE : ONNORM_FLOAT, 4, dims,
                  dt ? (const void *)xd : (const void *)x),
            {"", ONNORM_FLOAT, 0, {0}, NULL, false},
            th_const("s", ONNORM_FLOAT, 1, (const int64_t[]){4}, (const float[]){1, 1, sy, sx})};
        tb_model *b =
            th_node_model(&r, 13, "Resize", 3, in, dt ? ONNORM_DOUBLE : ONNORM_FLOAT, &nd);
        tb_attr_string(nd, "mode", "linear");
        th_ok(&r, th_go(&r, b, 2), "Resize bilinear");
        onnorm_tensor y = th_out(&r, "Y");
        expect_vals(&y, 4, odims, want);
        th_free(&r);
    }
}

static void expect_fail(int64_t opset, const char *op, int n, const th_tensor *in, onnorm_dtype ydt,
                        const char *attr, const char *val, onnorm_status want, const char *needle)
{
    th_run r;
    tb_node *nd;
    tb_model *b = th_node_model(&r, opset, op, n, in, ydt, &nd);
    if (attr) tb_attr_string(nd, attr, val);
    th_go_fails(&r, b, 1, want, needle);
}

static void resize_errors(void **state)
{
    (void)state;
    const float x[4] = {1, 2, 3, 4};
    const int64_t d2[2] = {2, 2}, one2[1] = {2};
    const th_tensor X = th_in("X", ONNORM_FLOAT, 2, d2, x),
                    none = {"", ONNORM_FLOAT, 0, {0}, NULL, false};
    const th_tensor scales = th_const("s", ONNORM_FLOAT, 1, one2, (const float[]){2, 2});
    const th_tensor sizes = th_const("z", ONNORM_INT64, 1, one2, (const int64_t[]){3, 3});
    th_tensor both[4] = {X, none, scales, sizes};
    expect_fail(13, "Resize", 4, both, ONNORM_FLOAT, NULL, NULL, ONNORM_ERR_INVALID, "both");
    th_tensor neither[2] = {X, none};
    expect_fail(13, "Resize", 1, neither, ONNORM_FLOAT, NULL, NULL, ONNORM_ERR_INVALID, "neither");
    th_tensor neg[3] = {X, none, th_const("s", ONNORM_FLOAT, 1, one2, (const float[]){1, -2})};
    expect_fail(13, "Resize", 3, neg, ONNORM_FLOAT, NULL, NULL, ONNORM_ERR_INVALID, "positive");
    th_tensor huge[4] = {
        X, none, none,
        th_const("z", ONNORM_INT64, 1, one2, (const int64_t[]){(int64_t)1 << 40, 2})};
    expect_fail(13, "Resize", 4, huge, ONNORM_FLOAT, NULL, NULL, ONNORM_ERR_SHAPE, "1099511627776");
    th_tensor big2[4] = {X, none, none,
                         th_const("z", ONNORM_INT64, 1, one2,
                                  (const int64_t[]){(int64_t)1 << 20, (int64_t)1 << 20})};
    expect_fail(13, "Resize", 4, big2, ONNORM_FLOAT, NULL, NULL, ONNORM_ERR_SHAPE, "elements");
    th_tensor wrong_len[3] = {
        X, none, th_const("s", ONNORM_FLOAT, 1, (const int64_t[]){3}, (const float[]){1, 1, 1})};
    expect_fail(13, "Resize", 3, wrong_len, ONNORM_FLOAT, NULL, NULL, ONNORM_ERR_SHAPE, "scales");
    th_tensor ok[3] = {X, none, scales};
    expect_fail(13, "Resize", 3, ok, ONNORM_FLOAT, "mode", "area", ONNORM_ERR_UNSUPPORTED, "mode");
    expect_fail(13, "Resize", 3, ok, ONNORM_FLOAT, "coordinate_transformation_mode",
                "tf_half_pixel_for_nn", ONNORM_ERR_UNSUPPORTED, NULL);
    expect_fail(13, "Resize", 3, ok, ONNORM_FLOAT, "coordinate_transformation_mode",
                "half_pixel_symmetric", ONNORM_ERR_UNSUPPORTED, NULL);
    th_tensor ok19[3] = {X, none, scales};
    expect_fail(19, "Resize", 3, ok19, ONNORM_FLOAT, "coordinate_transformation_mode",
                "tf_half_pixel_for_nn", ONNORM_ERR_UNSUPPORTED, "removed");
    th_tensor r10[2] = {X, scales};
    expect_fail(10, "Resize", 2, r10, ONNORM_FLOAT, "mode", "cubic", ONNORM_ERR_UNSUPPORTED, NULL);
    th_tensor up[2] = {X, th_const("s", ONNORM_FLOAT, 1, one2, (const float[]){1, 0.0f})};
    expect_fail(9, "Upsample", 2, up, ONNORM_FLOAT, NULL, NULL, ONNORM_ERR_INVALID, "positive");
    const uint8_t bx[4] = {1, 0, 0, 1};
    th_tensor bl[3] = {th_in("X", ONNORM_BOOL, 2, d2, bx), none, scales};
    expect_fail(13, "Resize", 3, bl, ONNORM_BOOL, "mode", "linear", ONNORM_ERR_DTYPE, "bool");
    th_tensor roi_missing[4] = {X, none, none, sizes};
    expect_fail(13, "Resize", 4, roi_missing, ONNORM_FLOAT, "coordinate_transformation_mode",
                "tf_crop_and_resize", ONNORM_ERR_INVALID, "roi");
}

/* ---- vision ops ------------------------------------------------------------- */

static void nms_cases(void **state)
{
    (void)state;
    const float boxes[8] = {0, 0, 1, 1, 0, 0.1f, 1, 1.1f};
    const float scores[2] = {0.9f, 0.8f};
    th_tensor in[5] = {th_in("b", ONNORM_FLOAT, 3, (const int64_t[]){1, 2, 4}, boxes),
                       th_in("s", ONNORM_FLOAT, 3, (const int64_t[]){1, 1, 2}, scores),
                       th_const("m", ONNORM_INT64, 1, (const int64_t[]){1}, (const int64_t[]){5}),
                       th_const("i", ONNORM_FLOAT, 1, (const int64_t[]){1}, (const float[]){0.5f}),
                       th_const("t", ONNORM_FLOAT, 1, (const int64_t[]){1}, (const float[]){0})};
    th_run r;
    /* no max_output_boxes_per_class: nothing is selected */
    onnorm_tensor y = run_ok(&r, 11, "NonMaxSuppression", 2, in, ONNORM_INT64, NULL, 1);
    assert_int_equal(y.rank, 2);
    assert_int_equal(y.dims[0], 0);
    assert_int_equal(y.dims[1], 3);
    th_free(&r);
    /* IoU 0.818 > 0.5: the second box goes; with threshold 0.9 it stays */
    y = run_ok(&r, 11, "NonMaxSuppression", 5, in, ONNORM_INT64, NULL, 1);
    expect_vals(&y, 2, (const int64_t[]){1, 3}, (const double[]){0, 0, 0});
    th_free(&r);
    in[3] = th_const("i", ONNORM_FLOAT, 1, (const int64_t[]){1}, (const float[]){0.9f});
    y = run_ok(&r, 10, "NonMaxSuppression", 5, in, ONNORM_INT64, NULL, 1);
    expect_vals(&y, 2, (const int64_t[]){2, 3}, (const double[]){0, 0, 0, 0, 0, 1});
    th_free(&r);
    /* scores that do not match the boxes */
    in[1] = th_in("s", ONNORM_FLOAT, 3, (const int64_t[]){1, 1, 3}, (const float[]){1, 2, 3});
    th_go_fails(&r, th_node_model(&r, 11, "NonMaxSuppression", 5, in, ONNORM_INT64, NULL), 1,
                ONNORM_ERR_SHAPE, "scores");
}

static void roialign_cases(void **state)
{
    (void)state;
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = 2.5f;
    th_tensor in[3] = {th_in("X", ONNORM_FLOAT, 4, (const int64_t[]){1, 1, 4, 4}, x),
                       th_in("rois", ONNORM_FLOAT, 2, (const int64_t[]){2, 4},
                             (const float[]){0, 0, 3, 3, 1, 0.5f, 2.5f, 3}),
                       th_in("bi", ONNORM_INT64, 1, (const int64_t[]){2}, (const int64_t[]){0, 0})};
    th_run r;
    tb_node *nd;
    /* a constant map averages to the constant everywhere inside it */
    tb_model *b = th_node_model(&r, 16, "RoiAlign", 3, in, ONNORM_FLOAT, &nd);
    tb_attr_int(nd, "output_height", 2);
    tb_attr_int(nd, "output_width", 3);
    th_ok(&r, th_go(&r, b, 2), "RoiAlign");
    onnorm_tensor y = th_out(&r, "Y");
    double want[12];
    for (int i = 0; i < 12; i++)
        want[i] = 2.5;
    expect_vals(&y, 4, (const int64_t[]){2, 1, 2, 3}, want);
    th_free(&r);
    b = th_node_model(&r, 16, "RoiAlign", 3, in, ONNORM_FLOAT, &nd);
    tb_attr_int(nd, "sampling_ratio", 5000);
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "sampling_ratio");
    in[2] = th_in("bi", ONNORM_INT64, 1, (const int64_t[]){2}, (const int64_t[]){0, 3});
    th_go_fails(&r, th_node_model(&r, 16, "RoiAlign", 3, in, ONNORM_FLOAT, NULL), 1,
                ONNORM_ERR_INVALID, "batch_indices[1] = 3");
}

static void gridsample_cases(void **state)
{
    (void)state;
    /* align_corners: grid points at the pixel centres give the input back */
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const float g[12] = {-1, -1, 0, -1, 1, -1, -1, 1, 0, 1, 1, 1};
    th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 4, (const int64_t[]){1, 1, 2, 3}, x),
                       th_in("G", ONNORM_FLOAT, 4, (const int64_t[]){1, 2, 3, 2}, g)};
    const char *modes20[3] = {"linear", "nearest", "cubic"};
    for (int m = 0; m < 3; m++) {
        th_run r;
        tb_node *nd;
        tb_model *b = th_node_model(&r, 20, "GridSample", 2, in, ONNORM_FLOAT, &nd);
        tb_attr_int(nd, "align_corners", 1);
        tb_attr_string(nd, "mode", modes20[m]);
        th_ok(&r, th_go(&r, b, 1), "GridSample-20");
        onnorm_tensor y = th_out(&r, "Y");
        expect_vals(&y, 4, (const int64_t[]){1, 1, 2, 3}, (const double[]){1, 2, 3, 4, 5, 6});
        th_free(&r);
    }
    /* GridSample-22 takes bfloat16 (1..6 are exact in it) */
    const uint16_t xb[6] = {0x3F80, 0x4000, 0x4040, 0x4080, 0x40A0, 0x40C0};
    th_tensor inb[2] = {th_in("X", ONNORM_BFLOAT16, 4, (const int64_t[]){1, 1, 2, 3}, xb), in[1]};
    {
        th_run r;
        tb_node *nd;
        tb_model *b = th_node_model(&r, 22, "GridSample", 2, inb, ONNORM_BFLOAT16, &nd);
        tb_attr_int(nd, "align_corners", 1);
        th_ok(&r, th_go(&r, b, 1), "GridSample-22 bfloat16");
        onnorm_tensor y = th_out(&r, "Y");
        assert_int_equal(y.dtype, ONNORM_BFLOAT16);
        assert_memory_equal(y.data, xb, sizeof xb);
        th_free(&r);
    }
    /* ... but not before opset 22 */
    expect_fail(20, "GridSample", 2, inb, ONNORM_BFLOAT16, NULL, NULL, ONNORM_ERR_UNSUPPORTED,
                "bfloat16");
    /* opset 16 does not know the opset-20 names, nor 5-D inputs */
    expect_fail(16, "GridSample", 2, in, ONNORM_FLOAT, "mode", "linear", ONNORM_ERR_UNSUPPORTED,
                NULL);
    const float x5[2] = {1, 2};
    const float g5[3] = {0, 0, 0};
    th_tensor in5[2] = {th_in("X", ONNORM_FLOAT, 5, (const int64_t[]){1, 1, 1, 1, 2}, x5),
                        th_in("G", ONNORM_FLOAT, 5, (const int64_t[]){1, 1, 1, 1, 3}, g5)};
    expect_fail(16, "GridSample", 2, in5, ONNORM_FLOAT, NULL, NULL, ONNORM_ERR_SHAPE, "rank 5");
    /* GridSample-20 samples 3-D: the centre of a 1x1x2 map averages it */
    {
        th_run r;
        onnorm_tensor y = run_ok(&r, 20, "GridSample", 2, in5, ONNORM_FLOAT, NULL, 1);
        expect_vals(&y, 5, (const int64_t[]){1, 1, 1, 1, 1}, (const double[]){1.5});
        th_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(upsample_forms),
        cmocka_unit_test(resize10_and_integers),
        cmocka_unit_test(bilinear_many_planes),
        cmocka_unit_test(resize_errors),
        cmocka_unit_test(nms_cases),
        cmocka_unit_test(roialign_cases),
        cmocka_unit_test(gridsample_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
