/*
 * A model that uses an element type outside an op version's type list fails
 * at load time, naming the node, the version and the type; the same type at
 * a version that allows it loads and runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "builder.h"
#include "harness.h"

static const int64_t dims[3] = {1, 2, 4};

/* InstanceNormalization on a bfloat16 input at the given opset. */
static tb_model *bf16_instancenorm(int64_t opset)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "x", ONNORM_BFLOAT16, 3, dims);
    const uint16_t one[2] = {0x3F80, 0x3F80}, zero[2] = {0, 0}; /* bfloat16 1.0 and 0.0 */
    tb_init(b, "s", ONNORM_BFLOAT16, 1, (int64_t[]){2}, one);
    tb_init(b, "b", ONNORM_BFLOAT16, 1, (int64_t[]){2}, zero);
    tb_node_add(b, "InstanceNormalization", "inorm", 3, (const char *[]){"x", "s", "b"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_BFLOAT16);
    return b;
}

static void type_outside_the_version_fails_at_load(void **state)
{
    (void)state;
    th_run r;
    th_expect_status(&r, th_run_model(&r, bf16_instancenorm(6), 0, 0, NULL), ONNORM_ERR_UNSUPPORTED,
                     "inorm");
    assert_int_equal(r.stage, TH_LOAD);
    assert_null(r.m);
    assert_non_null(strstr(r.e.message, "InstanceNormalization-6"));
    assert_non_null(strstr(r.e.message, "bfloat16"));
}

static void type_inside_the_version_runs(void **state)
{
    (void)state;
    /* bfloat16 -1, 0, 1, 2 in channel 0 and 5, 5, 5, 5 in channel 1 */
    const uint16_t x[8] = {0xBF80, 0x0000, 0x3F80, 0x4000, 0x40A0, 0x40A0, 0x40A0, 0x40A0};
    th_run r;
    TH_OK(&r, th_run_model(&r, bf16_instancenorm(22), 0, 1,
                           (th_tensor[]){th_in("x", ONNORM_BFLOAT16, 3, dims, x)}));
    const uint16_t *yv = th_output(&r, "y", ONNORM_BFLOAT16, 3, dims);
    /* Channel 0: mean 0.5, var 1.25: (x - 0.5) / sqrt(1.25 + 1e-5) rounds in
     * bfloat16 to -1.3438 (0xBFAC), -0.4473 (0xBEE5), 0.4473 (0x3EE5),
     * 1.3438 (0x3FAC); channel 1 is constant, so exactly the bias 0. */
    const uint16_t want[8] = {0xBFAC, 0xBEE5, 0x3EE5, 0x3FAC, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++)
        assert_int_equal(yv[i], want[i]);
    th_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_outside_the_version_fails_at_load),
        cmocka_unit_test(type_inside_the_version_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
