/*
 * Constant folding at load: a Transpose of an initializer (as exporters emit
 * in front of MatMul) is computed once and the original weight is dropped;
 * an initializer that is also a graph input (IR 3) stays overridable. The
 * size policy for values computed ahead of a run: a small file cannot make
 * folding, pass inference or planning allocate its large outputs; such a
 * node stays in the graph, runs with every run, and the reason is reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

/* y = X @ Transpose(W), W = [[1, 2], [3, 4], [5, 6]] (3x2), X is 1x2. */
static tb_model *transpose_matmul(bool weight_is_input)
{
    tb_model *b = tb_new(13);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){1, 2});
    const float w[6] = {1, 2, 3, 4, 5, 6};
    tb_init(b, "w", ONNORM_FLOAT, 2, (int64_t[]){3, 2}, w);
    if (weight_is_input) tb_input(b, "w", ONNORM_FLOAT, 2, (int64_t[]){3, 2});
    tb_node_add(b, "Transpose", "t", 1, (const char *[]){"w"}, 1, (const char *[]){"wt"});
    tb_node_add(b, "MatMul", "mm", 2, (const char *[]){"x", "wt"}, 1, (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    return b;
}

/* Runs m on x = [1, 10] (and W = w_override unless NULL); y must be want. */
static void run_and_check(const onnorm_model *m, const float *w_override, const float want[3])
{
    const float x[2] = {1, 10};
    const th_tensor in[2] = {th_in("x", ONNORM_FLOAT, 2, (int64_t[]){1, 2}, x),
                             th_in("w", ONNORM_FLOAT, 2, (int64_t[]){3, 2}, w_override)};
    th_run r;
    TH_OK(&r, th_run_loaded(&r, m, NULL, w_override ? 2 : 1, in));
    const float *y = th_output(&r, "y", ONNORM_FLOAT, 2, (int64_t[]){1, 3});
    for (int i = 0; i < 3; i++)
        assert_float_equal(y[i], want[i], 1e-6);
    th_free(&r);
}

static void transpose_of_weight_is_folded(void **state)
{
    (void)state;
    tb_model *b = transpose_matmul(false);
    onnorm_model *m;
    onnorm_error e;
    assert_int_equal(tb_load(b, &m, &e), ONNORM_OK);
    assert_int_equal(onnorm_model_node_count(m), 1);                   /* only MatMul is left */
    assert_int_equal(onnorm_model_weight_bytes(m), 6 * sizeof(float)); /* stored once */
    run_and_check(m, NULL, (const float[]){21, 43, 65});
    onnorm_model_free(m);

    /* With folding off, both nodes stay and give the same result. */
    size_t len;
    uint8_t *buf = tb_serialize(b, &len);
    assert_int_equal(onnorm_model_load_buffer(buf, len, "nofold", ONNORM_LOAD_NO_FOLDING, &m, &e),
                     ONNORM_OK);
    assert_int_equal(onnorm_model_node_count(m), 2);
    run_and_check(m, NULL, (const float[]){21, 43, 65});
    onnorm_model_free(m);
    free(buf);
    tb_free(b);
}

static void overridable_initializer_is_not_folded(void **state)
{
    (void)state;
    tb_model *b = transpose_matmul(true);
    onnorm_model *m;
    onnorm_error e;
    assert_int_equal(tb_load(b, &m, &e), ONNORM_OK);
    assert_int_equal(onnorm_model_node_count(m), 2);
    run_and_check(m, NULL, (const float[]){21, 43, 65});
    const float w2[6] = {0, 1, 1, 0, 1, 1}; /* the caller's weight wins */
    run_and_check(m, w2, (const float[]){10, 1, 11});
    onnorm_model_free(m);
    tb_free(b);
}

/* ConstantOfShape of a constant shape [768, 1024] (16 bytes) makes 3 MiB:
 * over 1 MiB and over its inputs, so load-time folding leaves it and says
 * why; the session computes it with every run. A Transpose of a 3 MiB
 * weight (output no larger than its input) is still folded. */
static void large_outputs_are_not_folded(void **state)
{
    (void)state;
    const int64_t shape[2] = {768, 1024}, sdims[1] = {2};
    tb_model *b = tb_new(13);
    tb_init(b, "shape", ONNORM_INT64, 1, sdims, shape);
    tb_node_add(b, "ConstantOfShape", "big", 1, (const char *[]){"shape"}, 1,
                (const char *[]){"y"});
    float *w = calloc(768 * 1024, sizeof *w);
    assert_non_null(w);
    w[5] = 7.0f;
    tb_init(b, "w", ONNORM_FLOAT, 2, shape, w);
    tb_node_add(b, "Transpose", "t", 1, (const char *[]){"w"}, 1, (const char *[]){"wt"});
    tb_output(b, "y", ONNORM_FLOAT);
    tb_output(b, "wt", ONNORM_FLOAT);
    onnorm_model *m = th_load(b);
    free(w);
    assert_int_equal(onnorm_model_node_count(m), 1); /* the Transpose was folded */
    const char *notes = onnorm_model_notes(m);
    if (!strstr(notes, "'big' (ConstantOfShape): not folded") || !strstr(notes, "1 MiB"))
        fail_msg("notes: '%s'", notes);
    th_run r;
    TH_OK(&r, th_run_loaded(&r, m, NULL, 0, NULL));
    const float *y = th_output(&r, "y", ONNORM_FLOAT, 2, shape);
    const float *wt = th_output(&r, "wt", ONNORM_FLOAT, 2, (int64_t[]){1024, 768});
    assert_true(y[0] == 0.0f && y[768 * 1024 - 1] == 0.0f);
    assert_true(wt[5 * 768] == 7.0f && wt[0] == 0.0f);
    th_free(&r);
    onnorm_model_free(m);
}

/* The same policy in the passes' shape inference: a ConstantOfShape whose
 * shape comes from Shape(X) is not computed ahead there either, and the
 * optimizer's report says so. */
static void pass_inference_reports_what_it_left(void **state)
{
    (void)state;
    const int64_t xdims[2] = {768, 1024};
    tb_model *b = tb_new(13);
    tb_input(b, "x", ONNORM_FLOAT, 2, xdims);
    tb_node_add(b, "Shape", "s", 1, (const char *[]){"x"}, 1, (const char *[]){"shape"});
    tb_node_add(b, "ConstantOfShape", "big", 1, (const char *[]){"shape"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = th_load(b);
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    if (!strstr(report, "shape inference:") ||
        !strstr(report, "'big' (ConstantOfShape): not computed ahead"))
        fail_msg("report: '%s'", report);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transpose_of_weight_is_folded),
        cmocka_unit_test(overridable_initializer_is_not_folded),
        cmocka_unit_test(large_outputs_are_not_folded),
        cmocka_unit_test(pass_inference_reports_what_it_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
