#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "builder.h"
#include "harness.h"

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
    const int64_t dims[4] = {1, 2, 1, 3};
    float x[6] = {-1, 0, 1, 2, 3, 4};
    th_run r;
    TH_OK(&r, th_run_model(&r, b, 0, 1, (th_tensor[]){th_in("x", ONNORM_FLOAT, 4, dims, x)}));
    const float *y = th_output(&r, "y", ONNORM_FLOAT, 4, dims);
    /* Expected values from ONNX's test_instancenorm_example. */
    const float want[6] = {-1.22474f, 0, 1.22474f, -0.8371f, 1, 2.8371f};
    for (int i = 0; i < 6; i++)
        assert_float_equal(y[i], want[i], 1e-4);
    th_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(builds_and_runs_instancenorm)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
