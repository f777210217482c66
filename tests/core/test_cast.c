/* CastLike (ops/core/cast.c) through the public API: the output takes the
 * second input's element type (its values unused) with Cast's conversions;
 * float32 -> bfloat16 rounds to nearest, ties to even; strings are refused
 * with a clear message, by Cast and CastLike alike. Expected values are
 * worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

/* CastLike(X, like) with X fed and `like` a one-element initializer. */
static onnorm_status castlike(th_run *r, int opset, onnorm_dtype from, onnorm_dtype to, int64_t n,
                              const void *x)
{
    static const uint64_t zero = 0; /* 8 bytes: any one-element type */
    tb_model *b = th_new(r, opset);
    th_add(r, b, th_in("X", from, 1, (int64_t[]){n}, x));
    th_add(r, b, th_const("like", to, 1, (int64_t[]){1}, &zero));
    tb_node_add(b, "CastLike", "c", 2, (const char *[]){"X", "like"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", to);
    return th_go(r, b, 1);
}

static void castlike_float_to_int_and_double(void **state)
{
    (void)state;
    th_run r;
    const float f[4] = {-2.7f, 0.5f, 2.9f, 1000.25f};
    TH_OK(&r, castlike(&r, 15, ONNORM_FLOAT, ONNORM_INT32, 4, f));
    const int32_t *y = th_output(&r, "Y", ONNORM_INT32, 1, (int64_t[]){4});
    assert_true(y[0] == -2 && y[1] == 0 && y[2] == 2 && y[3] == 1000); /* toward zero */
    th_free(&r);
    TH_OK(&r, castlike(&r, 19, ONNORM_FLOAT, ONNORM_DOUBLE, 4, f));
    const double *d = th_output(&r, "Y", ONNORM_DOUBLE, 1, (int64_t[]){4});
    for (int i = 0; i < 4; i++)
        assert_true(d[i] == (double)f[i]); /* widening is exact */
    th_free(&r);
}

/* bfloat16 keeps 7 fraction bits: around 1 its step is 2^-7.
 *   1 + 2^-8            halfway between 1 and 1 + 2^-7: even -> 1       0x3F80
 *   1 + 3 * 2^-8        halfway between 1 + 2^-7 and 1 + 2^-6: -> 1 + 2^-6 0x3F82
 *   1 + 2^-8 + 2^-20    above halfway -> 1 + 2^-7                     0x3F81
 *   -2                  exact                                          0xC000 */
static void castlike_float_to_bfloat16_rounds_to_even(void **state)
{
    (void)state;
    th_run r;
    const float f[4] = {1.00390625f, 1.01171875f, 1.00390720367431640625f, -2.0f};
    TH_OK(&r, castlike(&r, 21, ONNORM_FLOAT, ONNORM_BFLOAT16, 4, f));
    const uint16_t *y = th_output(&r, "Y", ONNORM_BFLOAT16, 1, (int64_t[]){4});
    assert_int_equal(y[0], 0x3F80);
    assert_int_equal(y[1], 0x3F82);
    assert_int_equal(y[2], 0x3F81);
    assert_int_equal(y[3], 0xC000);
    th_free(&r);
    /* and back: bfloat16 0x3F82 is 1.015625 */
    const uint16_t b = 0x3F82;
    TH_OK(&r, castlike(&r, 15, ONNORM_BFLOAT16, ONNORM_FLOAT, 1, &b));
    const float *g = th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){1});
    assert_true(g[0] == 1.015625f);
    th_free(&r);
}

/* A string target (Cast's to = 8) names the reason. */
static void cast_to_string_is_refused_clearly(void **state)
{
    (void)state;
    th_run r;
    tb_model *b = th_new(&r, 13);
    const float f[2] = {1, 2};
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 1, (int64_t[]){2}, f));
    tb_node *nd = tb_node_add(b, "Cast", "c", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_attr_int(nd, "to", 8);
    tb_output(b, "Y", ONNORM_FLOAT);
    th_go_fails(&r, b, 1, ONNORM_ERR_UNSUPPORTED, "string tensors are not supported");
}

/* CastLike needs its second input. */
static void castlike_without_target_fails(void **state)
{
    (void)state;
    th_run r;
    const float f[2] = {1, 2};
    const th_tensor in = th_in("X", ONNORM_FLOAT, 1, (int64_t[]){2}, f);
    th_go_fails(&r, th_node_model(&r, 15, "CastLike", 1, &in, ONNORM_FLOAT, NULL), 1, TH_ANY_ERROR,
                NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(castlike_float_to_int_and_double),
        cmocka_unit_test(castlike_float_to_bfloat16_rounds_to_even),
        cmocka_unit_test(cast_to_string_is_refused_clearly),
        cmocka_unit_test(castlike_without_target_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
