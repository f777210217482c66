/*
 * Einsum, Det (linalg.c) and DepthToSpace, SpaceToDepth, ReverseSequence,
 * GlobalMaxPool, MaxUnpool (layout_ops.c) beyond the official folders.
 * Einsum and Det expectations were computed with numpy.einsum and
 * numpy.linalg.det; DepthToSpace's come from the spec's reshape-transpose
 * formula written out as index loops here; MaxUnpool's were worked out by
 * hand from the spec's output-size formula.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

/* ---- Einsum ------------------------------------------------------------------ */

static tb_model *einsum(th_run *r, const char *eq, int n, const th_tensor *in, onnorm_dtype dt)
{
    tb_node *nd;
    tb_model *b = th_node_model(r, 12, "Einsum", n, in, dt, &nd);
    tb_attr_string(nd, "equation", eq);
    return b;
}

static void check_einsum(const char *eq, int n, const th_tensor *in, onnorm_dtype dt, int rank,
                         const int64_t *dims, const double *want)
{
    th_run r;
    th_ok(&r, th_go(&r, einsum(&r, eq, n, in, dt), 2), eq);
    th_expect_output(&r, eq, "Y", dt, rank, dims, want, 0);
    th_free(&r);
}

static void einsum_traces_and_implicit(void **state)
{
    (void)state;
    double a[9], p[6], q[12];
    for (int i = 0; i < 9; i++)
        a[i] = i * 0.5 - 1;
    for (int i = 0; i < 6; i++)
        p[i] = i;
    for (int i = 0; i < 12; i++)
        q[i] = i - 4;
    const th_tensor ta = th_in("A", ONNORM_DOUBLE, 2, (int64_t[]){3, 3}, a);
    check_einsum("ii", 1, &ta, ONNORM_DOUBLE, 0, NULL, (double[]){3.0});
    check_einsum("ii->i", 1, &ta, ONNORM_DOUBLE, 1, (int64_t[]){3}, (double[]){-1, 1, 3});
    const th_tensor pq[2] = {th_in("P", ONNORM_DOUBLE, 2, (int64_t[]){2, 3}, p),
                             th_in("Q", ONNORM_DOUBLE, 2, (int64_t[]){3, 4}, q)};
    check_einsum("ij, jk", 2, pq, ONNORM_DOUBLE, 2, (int64_t[]){2, 4},
                 (double[]){8, 11, 14, 17, 8, 20, 32, 44});
    /* implicit output in ASCII order: upper case first */
    check_einsum("bA", 1, pq, ONNORM_DOUBLE, 2, (int64_t[]){3, 2}, (double[]){0, 3, 1, 4, 2, 5});
    /* a label of size 1 broadcasts */
    const double ones[2] = {1, 1};
    const th_tensor bq[2] = {th_in("P", ONNORM_DOUBLE, 2, (int64_t[]){2, 1}, ones),
                             th_in("Q", ONNORM_DOUBLE, 2, (int64_t[]){3, 4}, q)};
    check_einsum("ij,jk->ik", 2, bq, ONNORM_DOUBLE, 2, (int64_t[]){2, 4},
                 (double[]){0, 3, 6, 9, 0, 3, 6, 9});
}

static void einsum_ellipsis_three_inputs_ints(void **state)
{
    (void)state;
    float x[12], y[18];
    for (int i = 0; i < 12; i++)
        x[i] = (float)(i % 5 - 2);
    for (int i = 0; i < 18; i++)
        y[i] = (float)(i % 7 - 3);
    const th_tensor xy[2] = {th_in("X", ONNORM_FLOAT, 4, (int64_t[]){2, 1, 2, 3}, x),
                             th_in("Y0", ONNORM_FLOAT, 3, (int64_t[]){3, 3, 2}, y)};
    check_einsum("...ij,...jk->...ik", 2, xy, ONNORM_FLOAT, 4, (int64_t[]){2, 3, 2, 2},
                 (double[]){7, 4, -7, -6, -4, 7, -1, -7, -1, -4, -2, -1,
                            4, 4, -5, -6, -3, 4, 10, -5, -3, -3, 11, 10});
    float b[6], c[12], d[8];
    for (int i = 0; i < 6; i++)
        b[i] = i * 0.25f;
    for (int i = 0; i < 12; i++)
        c[i] = (float)(i % 4);
    for (int i = 0; i < 8; i++)
        d[i] = (float)(i - 3);
    const th_tensor bcd[3] = {th_in("B", ONNORM_FLOAT, 2, (int64_t[]){2, 3}, b),
                              th_in("C", ONNORM_FLOAT, 2, (int64_t[]){3, 4}, c),
                              th_in("D", ONNORM_FLOAT, 2, (int64_t[]){4, 2}, d)};
    check_einsum("ij,jk,kl->il", 3, bcd, ONNORM_FLOAT, 2, (int64_t[]){2, 2},
                 (double[]){7.5, 12, 30, 48});
    int32_t i1[6], i2[6];
    for (int i = 0; i < 6; i++)
        i1[i] = i - 2, i2[i] = i * 3 - 7;
    const th_tensor ii[2] = {th_in("I1", ONNORM_INT32, 2, (int64_t[]){2, 3}, i1),
                             th_in("I2", ONNORM_INT32, 2, (int64_t[]){2, 3}, i2)};
    check_einsum("ij,ij->i", 2, ii, ONNORM_INT32, 1, (int64_t[]){2}, (double[]){18, 36});
}

static void einsum_rejects_bad_equations(void **state)
{
    (void)state;
    double a[12] = {0};
    const th_tensor t = th_in("A", ONNORM_DOUBLE, 3, (int64_t[]){2, 2, 3}, a);
    th_run r;
    th_go_fails(&r, einsum(&r, "...ij->ij", 1, &t, ONNORM_DOUBLE), 1, ONNORM_ERR_INVALID,
                "names no '...'");
    th_go_fails(&r, einsum(&r, "ijk->iz", 1, &t, ONNORM_DOUBLE), 1, ONNORM_ERR_INVALID,
                "'z' appears in no input");
    th_go_fails(&r, einsum(&r, "ijk->ii", 1, &t, ONNORM_DOUBLE), 1, ONNORM_ERR_INVALID,
                "is repeated");
    th_go_fails(&r, einsum(&r, "ij->ij", 1, &t, ONNORM_DOUBLE), 1, ONNORM_ERR_SHAPE,
                "names 2 axes");
    th_go_fails(&r, einsum(&r, "ijj", 1, &t, ONNORM_DOUBLE), 1, ONNORM_ERR_SHAPE,
                "different sizes");
    th_go_fails(&r, einsum(&r, "ij1", 1, &t, ONNORM_DOUBLE), 1, ONNORM_ERR_INVALID,
                "unexpected character '1'");
    th_go_fails(&r, einsum(&r, "ijk,ijk", 1, &t, ONNORM_DOUBLE), 1, ONNORM_ERR_INVALID,
                "does not have 1 terms");
}

/* ---- Det --------------------------------------------------------------------- */

static void det_pivoting_and_singular(void **state)
{
    (void)state;
    const float m[8] = {0, 1, 1, 0, 2, 4, 1, 2};
    th_run r;
    const th_tensor in = th_in("X", ONNORM_FLOAT, 3, (int64_t[]){2, 2, 2}, m);
    TH_OK(&r, th_go(&r, th_node_model(&r, 11, "Det", 1, &in, ONNORM_FLOAT, NULL), 1));
    th_expect_output(&r, "det", "Y", ONNORM_FLOAT, 1, (int64_t[]){2}, (double[]){-1, 0}, 0);
    th_free(&r);
    const double m3[9] = {1e-3, 2, 3, 4, 5, 6.5, 7, 8, 10};
    const th_tensor in3 = th_in("X", ONNORM_DOUBLE, 2, (int64_t[]){3, 3}, m3);
    TH_OK(&r, th_go(&r, th_node_model(&r, 11, "Det", 1, &in3, ONNORM_DOUBLE, NULL), 1));
    th_expect_output(&r, "det3", "Y", ONNORM_DOUBLE, 0, NULL, (double[]){1.9980000000000098},
                     1e-12);
    th_free(&r);
    const th_tensor bad = th_in("X", ONNORM_FLOAT, 2, (int64_t[]){2, 4}, m);
    th_go_fails(&r, th_node_model(&r, 11, "Det", 1, &bad, ONNORM_FLOAT, NULL), 1, ONNORM_ERR_SHAPE,
                "[..., M, M]");
}

/* ---- DepthToSpace / SpaceToDepth -------------------------------------------- */

static void depth_to_space_crd_round_trip(void **state)
{
    (void)state;
    enum { N = 2, C = 8, H = 2, W = 3, B = 2, CO = C / (B * B) };
    int64_t x[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++)
        x[i] = i;
    /* CRD: reshape [N, CO, B, B, H, W], transpose (0, 1, 4, 2, 5, 3). */
    double want_crd[N * C * H * W], want_dcr[N * C * H * W];
    int o = 0;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < CO; c++)
            for (int h = 0; h < H; h++)
                for (int b1 = 0; b1 < B; b1++)
                    for (int w = 0; w < W; w++)
                        for (int b2 = 0; b2 < B; b2++, o++) {
                            want_crd[o] =
                                (double)x[((n * C + (c * B + b1) * B + b2) * H + h) * W + w];
                            /* DCR: reshape [N, B, B, CO, H, W], transpose (0, 3, 4, 1, 5, 2). */
                            want_dcr[o] =
                                (double)x[((n * C + (b1 * B + b2) * CO + c) * H + h) * W + w];
                        }
    const int64_t yd[4] = {N, CO, H * B, W * B};
    th_run r;
    tb_node *nd;
    const th_tensor in = th_in("X", ONNORM_INT64, 4, (int64_t[]){N, C, H, W}, x);
    tb_model *b = th_node_model(&r, 13, "DepthToSpace", 1, &in, ONNORM_INT64, &nd);
    tb_attr_int(nd, "blocksize", B);
    tb_attr_string(nd, "mode", "CRD");
    TH_OK(&r, th_go(&r, b, 2));
    th_expect_output(&r, "crd", "Y", ONNORM_INT64, 4, yd, want_crd, 0);
    th_free(&r);
    /* opset 1 has no mode: DCR, which SpaceToDepth inverts */
    b = th_node_model(&r, 1, "DepthToSpace", 1, &in, ONNORM_INT64, &nd);
    tb_attr_int(nd, "blocksize", B);
    TH_OK(&r, th_go(&r, b, 2));
    th_expect_output(&r, "dcr", "Y", ONNORM_INT64, 4, yd, want_dcr, 0);
    th_free(&r);
    int64_t sp[N * C * H * W];
    double back[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++)
        sp[i] = (int64_t)want_dcr[i], back[i] = (double)x[i];
    const th_tensor s_in = th_in("X", ONNORM_INT64, 4, yd, sp);
    b = th_node_model(&r, 13, "SpaceToDepth", 1, &s_in, ONNORM_INT64, &nd);
    tb_attr_int(nd, "blocksize", B);
    TH_OK(&r, th_go(&r, b, 2));
    th_expect_output(&r, "s2d", "Y", ONNORM_INT64, 4, (int64_t[]){N, C, H, W}, back, 0);
    th_free(&r);
    b = th_node_model(&r, 13, "DepthToSpace", 1, &in, ONNORM_INT64, &nd);
    tb_attr_int(nd, "blocksize", 3);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "multiple of blocksize^2");
}

/* ---- ReverseSequence, GlobalMaxPool, MaxUnpool ---------------------------------- */

static void reverse_sequence_bad_length(void **state)
{
    (void)state;
    const float x[6] = {0};
    const int64_t len[2] = {2, 4}; /* time axis has 3 steps */
    const th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 2, (int64_t[]){3, 2}, x),
                             th_in("L", ONNORM_INT64, 1, (int64_t[]){2}, len)};
    th_run r;
    th_go_fails(&r, th_node_model(&r, 10, "ReverseSequence", 2, in, ONNORM_FLOAT, NULL), 1,
                ONNORM_ERR_INVALID, "sequence_lens[1] = 4 is outside [0, 3]");
}

static void global_max_pool_3d_nan(void **state)
{
    (void)state;
    double x[2 * 2 * 2 * 3];
    for (int i = 0; i < 24; i++)
        x[i] = (double)((i * 7) % 11) - 5;
    x[14] = NAN; /* plane 2 */
    const th_tensor in = th_in("X", ONNORM_DOUBLE, 5, (int64_t[]){1, 4, 1, 2, 3}, x);
    th_run r;
    TH_OK(&r, th_go(&r, th_node_model(&r, 1, "GlobalMaxPool", 1, &in, ONNORM_DOUBLE, NULL), 1));
    /* planes: (i*7)%11-5 for i in 0..5, 6..11, 12..17 (NaN), 18..23 */
    th_expect_output(&r, "gmp", "Y", ONNORM_DOUBLE, 5, (int64_t[]){1, 4, 1, 1, 1},
                     (double[]){5, 4, NAN, 3}, 0);
    th_free(&r);
}

static void max_unpool_pads_and_output_shape(void **state)
{
    (void)state;
    const float x[4] = {1, 2, 3, 4};
    int64_t idx[4] = {0, 2, 6, 8};
    th_tensor in[3] = {th_in("X", ONNORM_FLOAT, 4, (int64_t[]){1, 1, 2, 2}, x),
                       th_in("I", ONNORM_INT64, 4, (int64_t[]){1, 1, 2, 2}, idx),
                       th_const("S", ONNORM_INT64, 1, (int64_t[]){4}, (int64_t[]){1, 1, 4, 5})};
    th_run r;
    tb_node *nd;
    /* (2 - 1) * 2 + 3 - 1 - 1 = 3 */
    tb_model *b = th_node_model(&r, 11, "MaxUnpool", 2, in, ONNORM_FLOAT, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){3, 3});
    tb_attr_ints(nd, "strides", 2, (int64_t[]){2, 2});
    tb_attr_ints(nd, "pads", 4, (int64_t[]){1, 1, 1, 1});
    TH_OK(&r, th_go(&r, b, 1));
    th_expect_output(&r, "mu", "Y", ONNORM_FLOAT, 4, (int64_t[]){1, 1, 3, 3},
                     (double[]){1, 0, 2, 0, 0, 0, 3, 0, 4}, 0);
    th_free(&r);
    b = th_node_model(&r, 11, "MaxUnpool", 3, in, ONNORM_FLOAT, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){3, 3});
    tb_attr_ints(nd, "strides", 2, (int64_t[]){2, 2});
    tb_attr_ints(nd, "pads", 4, (int64_t[]){1, 1, 1, 1});
    TH_OK(&r, th_go(&r, b, 1));
    th_expect_output(&r, "mu_shape", "Y", ONNORM_FLOAT, 4, (int64_t[]){1, 1, 4, 5},
                     (double[]){1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0, 0, 0}, 0);
    th_free(&r);
    idx[3] = 9; /* past the 3 x 3 the attributes give */
    b = th_node_model(&r, 11, "MaxUnpool", 2, in, ONNORM_FLOAT, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){3, 3});
    tb_attr_ints(nd, "strides", 2, (int64_t[]){2, 2});
    tb_attr_ints(nd, "pads", 4, (int64_t[]){1, 1, 1, 1});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "index 9 (at position 3 of 'I') is outside [0, 9)");
    in[2] = th_const("S", ONNORM_INT64, 1, (int64_t[]){4}, (int64_t[]){1, 1, 2, 5});
    b = th_node_model(&r, 11, "MaxUnpool", 3, in, ONNORM_FLOAT, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){3, 3});
    tb_attr_ints(nd, "strides", 2, (int64_t[]){2, 2});
    tb_attr_ints(nd, "pads", 4, (int64_t[]){1, 1, 1, 1});
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "must be at least 3");
    /* a size taken from values is bounded */
    in[2] = th_const("S", ONNORM_INT64, 1, (int64_t[]){4}, (int64_t[]){1, 1, 1 << 20, 1 << 20});
    b = th_node_model(&r, 11, "MaxUnpool", 3, in, ONNORM_FLOAT, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){3, 3});
    tb_attr_ints(nd, "strides", 2, (int64_t[]){2, 2});
    tb_attr_ints(nd, "pads", 4, (int64_t[]){1, 1, 1, 1});
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "(4398046511104 bytes) is past the");
    in[2] = th_const("S", ONNORM_INT64, 1, (int64_t[]){4},
                     (int64_t[]){1, 1, INT64_MAX / 2, INT64_MAX / 2});
    b = th_node_model(&r, 11, "MaxUnpool", 3, in, ONNORM_FLOAT, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){3, 3});
    tb_attr_ints(nd, "strides", 2, (int64_t[]){2, 2});
    tb_attr_ints(nd, "pads", 4, (int64_t[]){1, 1, 1, 1});
    th_go_fails(&r, b, 1, TH_ANY_ERROR, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(einsum_traces_and_implicit),
        cmocka_unit_test(einsum_ellipsis_three_inputs_ints),
        cmocka_unit_test(einsum_rejects_bad_equations),
        cmocka_unit_test(det_pivoting_and_singular),
        cmocka_unit_test(depth_to_space_crd_round_trip),
        cmocka_unit_test(reverse_sequence_bad_length),
        cmocka_unit_test(global_max_pool_3d_nan),
        cmocka_unit_test(max_unpool_pads_and_output_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
