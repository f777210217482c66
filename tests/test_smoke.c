#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "builder.h"

static void builds_and_runs_instancenorm(void **state)
{
    (void)state;
    tb_model *b = tb_new(6);
    tb_input(b, "x", ONNORM_FLOAT, 4, (int64_t[]){1, 2, 1, 3});
    float s[2] = {1, 1.5f}, bias[2] = {0, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){2}, s);
    tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){2}, bias);
    tb_node_add(b, "InstanceNormalization", "in", 3, (const char *[]){"x", "s", "b"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m;
    onnorm_error e;
    assert_int_equal(tb_load(b, &m, &e), ONNORM_OK);
    onnorm_session *ses;
    assert_int_equal(onnorm_session_create(m, NULL, &ses, &e), ONNORM_OK);
    float x[6] = {-1, 0, 1, 2, 3, 4};
    assert_int_equal(
        onnorm_session_bind_input(ses, "x", ONNORM_FLOAT, (int64_t[]){1, 2, 1, 3}, 4, x, &e),
        ONNORM_OK);
    assert_int_equal(onnorm_session_run(ses, &e), ONNORM_OK);
    onnorm_tensor y;
    assert_int_equal(onnorm_session_output(ses, "y", &y, &e), ONNORM_OK);
    /* Expected values from ONNX's test_instancenorm_example. */
    const float want[6] = {-1.22474f, 0, 1.22474f, -0.8371f, 1, 2.8371f};
    for (int i = 0; i < 6; i++)
        assert_float_equal(((float *)y.data)[i], want[i], 1e-4);
    onnorm_session_free(ses);
    onnorm_model_free(m);
    tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(builds_and_runs_instancenorm)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
