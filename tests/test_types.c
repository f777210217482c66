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

/* InstanceNormalization on a bfloat16 input at the given opset. */
static onnorm_status load_bf16_instancenorm(int64_t opset, onnorm_model **m, onnorm_error *e)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "x", ONNORM_BFLOAT16, 3, (int64_t[]){1, 2, 4});
    const uint16_t one[2] = {0x3F80, 0x3F80}, zero[2] = {0, 0}; /* bfloat16 1.0 and 0.0 */
    tb_init(b, "s", ONNORM_BFLOAT16, 1, (int64_t[]){2}, one);
    tb_init(b, "b", ONNORM_BFLOAT16, 1, (int64_t[]){2}, zero);
    tb_node_add(b, "InstanceNormalization", "inorm", 3, (const char *[]){"x", "s", "b"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_BFLOAT16);
    onnorm_status st = tb_load(b, m, e);
    tb_free(b);
    return st;
}

static void type_outside_the_version_fails_at_load(void **state)
{
    (void)state;
    onnorm_model *m = NULL;
    onnorm_error e;
    assert_int_equal(load_bf16_instancenorm(6, &m, &e), ONNORM_ERR_UNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(e.message, "inorm"));
    assert_non_null(strstr(e.message, "InstanceNormalization-6"));
    assert_non_null(strstr(e.message, "bfloat16"));
}

static void type_inside_the_version_runs(void **state)
{
    (void)state;
    onnorm_model *m = NULL;
    onnorm_error e;
    assert_int_equal(load_bf16_instancenorm(22, &m, &e), ONNORM_OK);
    onnorm_session *s;
    assert_int_equal(onnorm_session_create(m, NULL, &s, &e), ONNORM_OK);
    /* bfloat16 -1, 0, 1, 2 in channel 0 and 5, 5, 5, 5 in channel 1 */
    const uint16_t x[8] = {0xBF80, 0x0000, 0x3F80, 0x4000, 0x40A0, 0x40A0, 0x40A0, 0x40A0};
    assert_int_equal(
        onnorm_session_bind_input(s, "x", ONNORM_BFLOAT16, (int64_t[]){1, 2, 4}, 3, x, &e),
        ONNORM_OK);
    assert_int_equal(onnorm_session_run(s, &e), ONNORM_OK);
    onnorm_tensor y;
    assert_int_equal(onnorm_session_output(s, "y", &y, &e), ONNORM_OK);
    assert_int_equal(y.dtype, ONNORM_BFLOAT16);
    const uint16_t *yv = y.data;
    /* Channel 0: mean 0.5, var 1.25: (x - 0.5) / sqrt(1.25 + 1e-5) rounds in
     * bfloat16 to -1.3438 (0xBFAC), -0.4473 (0xBEE5), 0.4473 (0x3EE5),
     * 1.3438 (0x3FAC); channel 1 is constant, so exactly the bias 0. */
    const uint16_t want[8] = {0xBFAC, 0xBEE5, 0x3EE5, 0x3FAC, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++)
        assert_int_equal(yv[i], want[i]);
    onnorm_session_free(s);
    onnorm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_outside_the_version_fails_at_load),
        cmocka_unit_test(type_inside_the_version_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
