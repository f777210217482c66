/*
 * The normalization statistics engine (runtime/normstats.c) below the CLI:
 * exact merging across runs at a large offset, NumPy's quantile rule, float16
 * inputs, the drift summary and its flag, and the API's errors. The JSON
 * against NumPy on real activations is tests/runtime/test_stats.py.
 */
#include "builder.h"
#include "runtime/normstats.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* X [N, 2, 3] -> BatchNormalization(mean, var) -> Y. */
static onnorm_model *bn_model(onnorm_dtype dt, const float *mean, const float *var)
{
    tb_model *b = tb_new(15);
    tb_input(b, "X", dt, 3, (int64_t[]){-1, 2, 3});
    const float one[2] = {1, 1}, zero[2] = {0, 0};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){2}, one);
    tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){2}, zero);
    tb_init(b, "m", ONNORM_FLOAT, 1, (int64_t[]){2}, mean);
    tb_init(b, "v", ONNORM_FLOAT, 1, (int64_t[]){2}, var);
    tb_node_add(b, "BatchNormalization", "bn", 5, (const char *[]){"X", "s", "b", "m", "v"}, 1,
                (const char *[]){"Y"});
    tb_output(b, "Y", dt);
    onnorm_model *m = NULL;
    onnorm_error e;
    onnorm_status st = tb_load(b, &m, &e);
    tb_free(b);
    if (st) fail_msg("load: %s", e.message);
    return m;
}

static void feed(onnorm_stats *st, onnorm_dtype dt, int64_t n, const void *x)
{
    onnorm_error e;
    if (onnorm_session_bind_input(onnorm_stats_session(st), "X", dt, (int64_t[]){n, 2, 3}, 3, x,
                                  &e) ||
        onnorm_stats_accumulate(st, &e))
        fail_msg("%s", e.message);
}

/* Values 1e8 + d (exact in double) in three runs of 1, 2 and 3 samples: the
 * merged mean and variance equal those of the d alone, shifted. */
static void test_merge_exact_at_offset(void **state)
{
    (void)state;
    const float mean[2] = {0, 0}, var[2] = {1, 1};
    onnorm_model *m = bn_model(ONNORM_DOUBLE, mean, var);
    onnorm_stats *st;
    onnorm_error e;
    assert_int_equal(onnorm_stats_create(m, 1, &st, &e), ONNORM_OK);
    double x[6][2][3], d[2][18];
    int cnt[2] = {0, 0};
    for (int s = 0; s < 6; s++)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 3; i++) {
                const double dv = (double)((s * 7 + c * 5 + i * 3) % 11) - 5.0 + 0.25 * c;
                x[s][c][i] = 1e8 + dv;
                d[c][cnt[c]++] = dv;
            }
    feed(st, ONNORM_DOUBLE, 1, x[0]);
    feed(st, ONNORM_DOUBLE, 2, x[1]);
    feed(st, ONNORM_DOUBLE, 3, x[3]);
    const onn_ns_node *nd = &st->nodes[0];
    assert_int_equal(nd->samples, 6);
    for (int c = 0; c < 2; c++) {
        double mu = 0, v = 0;
        for (int k = 0; k < 18; k++)
            mu += d[c][k];
        mu /= 18;
        for (int k = 0; k < 18; k++)
            v += (d[c][k] - mu) * (d[c][k] - mu);
        v /= 18;
        assert_true(fabs(onn_ns_unit_mean(&nd->in, c) - (1e8 + mu)) < 1e-7);
        const double sd = onn_ns_unit_std(&nd->in, c);
        assert_true(fabs(sd * sd - v) < 1e-9 * v);
    }
    /* The output side is recorded too: every element of every run. */
    assert_int_equal(nd->out.elements, 36);
    assert_int_equal(nd->out.units, 2);
    onnorm_stats_free(st);
    onnorm_model_free(m);
}

/* NumPy's default (linear) quantiles; NaN entries left out. */
static void test_five(void **state)
{
    (void)state;
    double v[] = {4, 1, NAN, 3, 2};
    onn_five f = onn_ns_five(v, 5);
    assert_int_equal(f.n, 4);
    assert_true(f.min == 1 && f.max == 4);
    assert_true(fabs(f.q1 - 1.75) < 1e-15 && fabs(f.median - 2.5) < 1e-15 &&
                fabs(f.q3 - 3.25) < 1e-15);
    double one[] = {7};
    f = onn_ns_five(one, 1);
    assert_true(f.min == 7 && f.q1 == 7 && f.median == 7 && f.q3 == 7 && f.max == 7);
    double none[] = {NAN};
    f = onn_ns_five(none, 1);
    assert_int_equal(f.n, 0);
    assert_true(isnan(f.median));
}

/* float16 input; stored statistics that miss channel 1 by 2 stds. */
static void test_float16_and_drift(void **state)
{
    (void)state;
    /* Channel 0 takes 1, 2, 3 (mean 2, var 2/3); channel 1: 4, 4, 6 (mean 14/3,
     * var 8/9). float16 holds these exactly. */
    const float mean[2] = {2, 14.0f / 3 - 2}, var[2] = {2.0f / 3, 2};
    onnorm_model *m = bn_model(ONNORM_FLOAT16, mean, var);
    onnorm_stats *st;
    onnorm_error e;
    assert_int_equal(onnorm_stats_create(m, 1, &st, &e), ONNORM_OK);
    const uint16_t h1 = 0x3C00, h2 = 0x4000, h3 = 0x4200, h4 = 0x4400, h6 = 0x4600;
    const uint16_t x[2][6] = {{h1, h2, h3, h4, h4, h6}, {h1, h2, h3, h4, h4, h6}};
    feed(st, ONNORM_FLOAT16, 2, x);
    onnorm_stats_summary s;
    assert_int_equal(onnorm_stats_node(st, 0, &s, &e), ONNORM_OK);
    assert_string_equal(s.name, "bn");
    assert_string_equal(s.unit, "channel");
    assert_int_equal(s.units, 2);
    assert_int_equal(s.samples, 2);
    assert_true(s.has_drift);
    const double eps = 1e-5f;
    const double shift1 = fabs(14.0 / 3 - (double)mean[1]) / sqrt((double)var[1] + eps);
    const double shift0 = fabs(2.0 - (double)mean[0]) / sqrt((double)var[0] + eps);
    assert_true(fabs(s.max_shift - shift1) < 1e-6);
    assert_true(fabs(s.mean_shift - (shift0 + shift1) / 2) < 1e-6);
    const double r0 = (2.0 / 3 + eps) / ((double)var[0] + eps), r1 = (8.0 / 9 + eps) / (2 + eps);
    assert_true(fabs(s.min_ratio - fmin(r0, r1)) < 1e-6 && fabs(s.max_ratio - fmax(r0, r1)) < 1e-6);
    assert_true(s.flags & ONNORM_STATS_DRIFT); /* shift 1.9 > 0.5 */
    assert_false(s.flags & (ONNORM_STATS_NONFINITE | ONNORM_STATS_DEAD));
    onnorm_stats_free(st);
    onnorm_model_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    onnorm_error e;
    onnorm_stats *st = (onnorm_stats *)&e;
    assert_int_equal(onnorm_stats_create(NULL, 0, &st, &e), ONNORM_ERR_INVALID);
    assert_null(onnorm_stats_session(NULL));
    assert_int_equal(onnorm_stats_accumulate(NULL, &e), ONNORM_ERR_INVALID);
    assert_int_equal(onnorm_stats_node_count(NULL), 0);
    onnorm_stats_free(NULL);

    /* A model without a norm. */
    tb_model *b = tb_new(17);
    tb_input(b, "X", ONNORM_FLOAT, 1, (int64_t[]){2});
    tb_node_add(b, "Relu", "r", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    onnorm_model *m;
    assert_int_equal(tb_load(b, &m, &e), ONNORM_OK);
    tb_free(b);
    assert_int_equal(onnorm_stats_create(m, 1, &st, &e), ONNORM_ERR_NOT_FOUND);
    assert_null(st);
    assert_non_null(strstr(e.message, "no normalization node"));
    onnorm_model_free(m);

    /* Dead channels; nodes past the end; a bad format or stream. */
    const float mean[2] = {0, 0}, var[2] = {1, 1};
    m = bn_model(ONNORM_FLOAT, mean, var);
    assert_int_equal(onnorm_stats_create(m, 1, &st, &e), ONNORM_OK);
    assert_int_equal(onnorm_stats_node_count(st), 1);
    const float x[12] = {0};
    feed(st, ONNORM_FLOAT, 2, x);
    onnorm_stats_summary s;
    assert_int_equal(onnorm_stats_node(st, 0, &s, &e), ONNORM_OK);
    /* every element 0: both channels dead */
    assert_int_equal(s.dead, 2);
    assert_true(s.flags & ONNORM_STATS_DEAD);
    assert_int_equal(onnorm_stats_node(st, 1, &s, &e), ONNORM_ERR_NOT_FOUND);
    assert_int_equal(onnorm_stats_node(st, -1, &s, &e), ONNORM_ERR_NOT_FOUND);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(onnorm_stats_write(st, (onnorm_stats_format)9, f, &e), ONNORM_ERR_INVALID);
    assert_int_equal(onnorm_stats_write(st, ONNORM_STATS_JSON, NULL, &e), ONNORM_ERR_INVALID);
    assert_int_equal(onnorm_stats_write(st, ONNORM_STATS_HTML, f, &e), ONNORM_OK);
    fclose(f);
    onnorm_stats_free(st);
    onnorm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_exact_at_offset),
        cmocka_unit_test(test_five),
        cmocka_unit_test(test_float16_and_drift),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
