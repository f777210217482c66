/*
 * GatherElements, ScatterElements, Scatter, GatherND and ScatterND beyond
 * the official folders: the opset-18 min/max reductions, negative indices,
 * batch_dims, indices smaller than data, and the errors (indices out of
 * range, Scatter past opset 10, min/max before opset 18). Expected values
 * were computed with NumPy loops written from the spec's formulas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

static tb_model *model(th_run *r, int opset, const char *op, int n, const th_tensor *in,
                       onnorm_dtype ydt, const char *red, int64_t axis, bool has_axis)
{
    tb_node *nd;
    tb_model *b = th_node_model(r, opset, op, n, in, ydt, &nd);
    if (red) tb_attr_string(nd, "reduction", red);
    if (has_axis) tb_attr_int(nd, "axis", axis);
    return b;
}

static const float se_data[12] = {0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f, 4, 4.5f, 5, 5.5f};
static const int64_t se_idx[9] = {1, -1, 1, 0, 0, 3, 2, 2, -4};
static const float se_upd[9] = {9, -3, 1, 0.25f, 7, -1, 5, 4, 2};

static void scatter_elements_min_max(void **state)
{
    (void)state;
    static const double want_max[12] = {0.0, 9.0, 1.0, 1.5, 7.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5};
    static const double want_min[12] = {0.0, 0.5,  1.0, -3.0, 0.25, 2.5,
                                        3.0, -1.0, 2.0, 4.5,  4.0,  5.5};
    const th_tensor in[3] = {
        th_in("D", ONNORM_FLOAT, 2, (int64_t[]){3, 4}, se_data),
        th_in("I", ONNORM_INT64, 2, (int64_t[]){3, 3}, se_idx),
        th_in("U", ONNORM_FLOAT, 2, (int64_t[]){3, 3}, se_upd),
    };
    th_run r;
    TH_OK(&r, th_go(&r, model(&r, 18, "ScatterElements", 3, in, ONNORM_FLOAT, "max", 1, true), 1));
    th_expect_output(&r, "max", "Y", ONNORM_FLOAT, 2, (int64_t[]){3, 4}, want_max, 0);
    th_free(&r);
    TH_OK(&r, th_go(&r, model(&r, 18, "ScatterElements", 3, in, ONNORM_FLOAT, "min", -1, true), 1));
    th_expect_output(&r, "min", "Y", ONNORM_FLOAT, 2, (int64_t[]){3, 4}, want_min, 0);
    th_free(&r);
    /* min needs opset 18 */
    th_go_fails(&r, model(&r, 16, "ScatterElements", 3, in, ONNORM_FLOAT, "min", 1, true), 1,
                ONNORM_ERR_INVALID, "opset 18");
}

static void scatter_elements_errors(void **state)
{
    (void)state;
    const int64_t bad[9] = {1, -1, 1, 0, 4, 3, 2, 2, -4}; /* 4 is past an axis of 4 */
    th_tensor in[3] = {
        th_in("D", ONNORM_FLOAT, 2, (int64_t[]){3, 4}, se_data),
        th_in("I", ONNORM_INT64, 2, (int64_t[]){3, 3}, bad),
        th_in("U", ONNORM_FLOAT, 2, (int64_t[]){3, 3}, se_upd),
    };
    th_run r;
    th_go_fails(&r, model(&r, 13, "ScatterElements", 3, in, ONNORM_FLOAT, NULL, 1, true), 1,
                ONNORM_ERR_INVALID, "index 4 (at position 4");
    th_go_fails(&r, model(&r, 13, "GatherElements", 2, in, ONNORM_FLOAT, NULL, 1, true), 1,
                ONNORM_ERR_INVALID, "out of range");
    /* Scatter is the opset 9-10 name only */
    in[1] = th_in("I", ONNORM_INT64, 2, (int64_t[]){3, 3}, se_idx);
    th_go_fails(&r, model(&r, 11, "Scatter", 3, in, ONNORM_FLOAT, NULL, 1, true), 1,
                ONNORM_ERR_UNSUPPORTED, "deprecated");
    TH_OK(&r, th_go(&r, model(&r, 10, "Scatter", 3, in, ONNORM_FLOAT, NULL, 1, true), 1));
    th_free(&r);
    /* updates must have the indices' shape; a reduction on bool is refused */
    in[2] = th_in("U", ONNORM_FLOAT, 2, (int64_t[]){3, 2}, se_upd);
    th_go_fails(&r, model(&r, 13, "ScatterElements", 3, in, ONNORM_FLOAT, NULL, 1, true), 1,
                ONNORM_ERR_SHAPE, "'updates' has shape");
    const uint8_t bd[12] = {0}, bu[9] = {1};
    const th_tensor bin[3] = {
        th_in("D", ONNORM_BOOL, 2, (int64_t[]){3, 4}, bd),
        th_in("I", ONNORM_INT64, 2, (int64_t[]){3, 3}, se_idx),
        th_in("U", ONNORM_BOOL, 2, (int64_t[]){3, 3}, bu),
    };
    th_go_fails(&r, model(&r, 16, "ScatterElements", 3, bin, ONNORM_BOOL, "add", 1, true), 1,
                ONNORM_ERR_DTYPE, "not defined for type");
}

/* Indices smaller than data on the other axes, int32 indices, uint8 data. */
static void gather_elements_partial(void **state)
{
    (void)state;
    uint8_t d[24];
    for (int i = 0; i < 24; i++)
        d[i] = (uint8_t)(i * 3);
    const int32_t idx[6] = {2, 0, -1, 1, -3, 0};
    static const double want[6] = {48, 6, 60, 24, 6, 12};
    const th_tensor in[2] = {
        th_in("D", ONNORM_UINT8, 3, (int64_t[]){3, 4, 2}, d),
        th_in("I", ONNORM_INT32, 3, (int64_t[]){2, 3, 1}, idx),
    };
    th_run r;
    TH_OK(&r, th_go(&r, model(&r, 13, "GatherElements", 2, in, ONNORM_UINT8, NULL, 0, true), 1));
    th_expect_output(&r, "ge", "Y", ONNORM_UINT8, 3, (int64_t[]){2, 3, 1}, want, 0);
    th_free(&r);
}

static void scatter_nd_min_max(void **state)
{
    (void)state;
    int32_t d[24];
    for (int i = 0; i < 24; i++)
        d[i] = i;
    const int64_t idx[3] = {1, -1, 1};
    const int32_t u[18] = {5, -2, 30, 9, 0, 0, 100, -100, 1, 1, 22, 23, 4, 4, 4, 100, -7, 11};
    static const double want_max[24] = {0,  1,  2,  3,  4,  5,  6,   7,  30, 100, 10, 11,
                                        12, 13, 14, 15, 16, 17, 100, 19, 20, 21,  22, 23};
    static const double want_min[24] = {0,  1,  2,  3,  4,  5,  4,  -2,   4, 9, -7, 0,
                                        12, 13, 14, 15, 16, 17, 18, -100, 1, 1, 22, 23};
    th_tensor in[3] = {
        th_in("D", ONNORM_INT32, 3, (int64_t[]){4, 3, 2}, d),
        th_in("I", ONNORM_INT64, 2, (int64_t[]){3, 1}, idx),
        th_in("U", ONNORM_INT32, 3, (int64_t[]){3, 3, 2}, u),
    };
    th_run r;
    TH_OK(&r, th_go(&r, model(&r, 18, "ScatterND", 3, in, ONNORM_INT32, "max", 0, false), 1));
    th_expect_output(&r, "max", "Y", ONNORM_INT32, 3, (int64_t[]){4, 3, 2}, want_max, 0);
    th_free(&r);
    TH_OK(&r, th_go(&r, model(&r, 18, "ScatterND", 3, in, ONNORM_INT32, "min", 0, false), 1));
    th_expect_output(&r, "min", "Y", ONNORM_INT32, 3, (int64_t[]){4, 3, 2}, want_min, 0);
    th_free(&r);
    const int64_t bad[3] = {1, -5, 1};
    in[1] = th_in("I", ONNORM_INT64, 2, (int64_t[]){3, 1}, bad);
    th_go_fails(&r, model(&r, 18, "ScatterND", 3, in, ONNORM_INT32, "max", 0, false), 1,
                ONNORM_ERR_INVALID, "index -5");
    in[1] = th_in("I", ONNORM_INT64, 2, (int64_t[]){3, 1}, idx);
    in[2] = th_in("U", ONNORM_INT32, 2, (int64_t[]){3, 3}, u);
    th_go_fails(&r, model(&r, 18, "ScatterND", 3, in, ONNORM_INT32, NULL, 0, false), 1,
                ONNORM_ERR_SHAPE, "expected [3,3,2]");
}

static void gather_nd_batch_dims(void **state)
{
    (void)state;
    float d[24];
    for (int i = 0; i < 24; i++)
        d[i] = (float)i;
    const int64_t idx[8] = {2, -1, 0, 1, -3, 0, 1, 3};
    static const double want[4] = {11, 1, 12, 19};
    const th_tensor in[2] = {
        th_in("D", ONNORM_FLOAT, 3, (int64_t[]){2, 3, 4}, d),
        th_in("I", ONNORM_INT64, 3, (int64_t[]){2, 2, 2}, idx),
    };
    th_run r;
    tb_node *nd;
    tb_model *b = th_node_model(&r, 13, "GatherND", 2, in, ONNORM_FLOAT, &nd);
    tb_attr_int(nd, "batch_dims", 1);
    TH_OK(&r, th_go(&r, b, 1));
    th_expect_output(&r, "gnd", "Y", ONNORM_FLOAT, 2, (int64_t[]){2, 2}, want, 0);
    th_free(&r);
    /* the last dim of indices may not reach past data's rank */
    b = th_node_model(&r, 13, "GatherND", 2, in, ONNORM_FLOAT, &nd);
    tb_attr_int(nd, "batch_dims", 2);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "last dim of 'indices'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scatter_elements_min_max), cmocka_unit_test(scatter_elements_errors),
        cmocka_unit_test(gather_elements_partial),  cmocka_unit_test(scatter_nd_min_max),
        cmocka_unit_test(gather_nd_batch_dims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
