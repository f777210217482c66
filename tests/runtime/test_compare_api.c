/*
 * onnorm_compare (runtime/compare.c) through the C API: the rows of a small
 * model against errors computed here from the float32 and double
 * arithmetic of the same formulas, the reference option, and bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

#define N 64

static float x[N], s[N];

static void fill(void)
{
    uint32_t r = 99u;
    for (int i = 0; i < N; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = -3.0f + 6.0f * (float)(r >> 8) / (float)(1u << 24);
        r = r * 1664525u + 1013904223u;
        s[i] = 0.1f + 3.0f * (float)(r >> 8) / (float)(1u << 24);
    }
}

/* X [N] -> Mul(s) "mul" -> Exp "exp" -> Y; s scaled by `k` in the model. */
static onnorm_model *model(float k)
{
    float sk[N];
    for (int i = 0; i < N; i++)
        sk[i] = s[i] * k;
    tb_model *b = tb_new(13);
    const int64_t d[1] = {N};
    tb_input(b, "X", ONNORM_FLOAT, 1, d);
    tb_init(b, "s", ONNORM_FLOAT, 1, d, sk);
    tb_node_add(b, "Mul", "mul", 2, (const char *[]){"X", "s"}, 1, (const char *[]){"m"});
    tb_node_add(b, "Exp", "exp", 1, (const char *[]){"m"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    return th_load(b);
}

static onnorm_tensor input(void)
{
    onnorm_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = ONNORM_FLOAT, t.rank = 1, t.dims[0] = N, t.data = x, t.name = "X";
    return t;
}

/* max |a - b| and max |a - b| / max(|b|, 1e-3 max|b|), as documented. */
static void errs(const float *a, const double *b, double *abs_err, double *rel_err)
{
    double big = 0.0;
    for (int i = 0; i < N; i++)
        big = fmax(big, fabs(b[i]));
    *abs_err = *rel_err = 0.0;
    for (int i = 0; i < N; i++) {
        double d = fabs((double)a[i] - b[i]);
        *abs_err = fmax(*abs_err, d);
        *rel_err = fmax(*rel_err, d / fmax(fabs(b[i]), 1e-3 * big));
    }
}

static void rows_match_formulas(void **state)
{
    (void)state;
    fill();
    onnorm_model *m = model(1.0f);
    onnorm_tensor in = input();
    onnorm_compare_report *r = NULL;
    onnorm_error e;
    assert_int_equal(onnorm_compare(m, NULL, 1, &in, &r, &e), ONNORM_OK);
    assert_int_equal(r->n, 2);
    assert_int_equal(r->fallbacks, 0);
    /* Mul: float32 product against the exact product of the same floats. */
    float m32[N];
    double m64[N], a, rel;
    for (int i = 0; i < N; i++)
        m32[i] = x[i] * s[i], m64[i] = (double)x[i] * (double)s[i];
    errs(m32, m64, &a, &rel);
    assert_string_equal(r->rows[0].op_type, "Mul");
    assert_string_equal(r->rows[0].output, "m");
    assert_int_equal(r->rows[0].compared, 1);
    assert_true(a > 0.0);
    assert_true(fabs(r->rows[0].max_abs - a) <= 1e-15);
    assert_true(fabs(r->rows[0].max_rel - rel) <= 1e-12 * rel);
    assert_true(r->rows[0].input_rel == 0.0);
    /* Exp reads the Mul's error: its input_rel is the Mul's max_rel. */
    assert_true(r->rows[1].input_rel == r->rows[0].max_rel);
    assert_true(r->rows[1].max_rel > 0.0);
    assert_true(r->rows[1].max_rel < 1e-5);
    assert_false(r->rows[0].flagged || r->rows[1].flagged);
    onnorm_compare_report_free(r);

    /* Against a reference whose s differs by 1%: the Mul grows the error. */
    onnorm_model *ref = model(1.01f);
    onnorm_compare_options o;
    onnorm_compare_options_init(&o);
    assert_true(o.flag_ratio == 100.0 && o.flag_min_rel == 1e-4);
    o.reference = ref;
    assert_int_equal(onnorm_compare(m, &o, 1, &in, &r, &e), ONNORM_OK);
    assert_true(r->rows[0].flagged);
    assert_false(r->rows[1].flagged);
    /* |x s - 1.01 x s| / |1.01 x s| = 0.01/1.01 where |x s| is not tiny */
    assert_true(fabs(r->rows[0].max_rel - 0.01 / 1.01) < 1e-4);
    onnorm_compare_report_free(r);
    onnorm_model_free(ref);
    onnorm_model_free(m);
}

static void bad_arguments(void **state)
{
    (void)state;
    fill();
    onnorm_model *m = model(1.0f);
    onnorm_tensor in = input();
    onnorm_compare_report *r = NULL;
    onnorm_error e;
    assert_int_equal(onnorm_compare(NULL, NULL, 1, &in, &r, &e), ONNORM_ERR_INVALID);
    assert_int_equal(onnorm_compare(m, NULL, 1, &in, NULL, &e), ONNORM_ERR_INVALID);
    assert_int_equal(onnorm_compare(m, NULL, -1, &in, &r, &e), ONNORM_ERR_INVALID);
    assert_int_equal(onnorm_compare(m, NULL, 1, NULL, &r, &e), ONNORM_ERR_INVALID);
    in.name = "Q";
    assert_int_not_equal(onnorm_compare(m, NULL, 1, &in, &r, &e), ONNORM_OK);
    assert_non_null(strstr(e.message, "Q"));
    assert_null(r);
    in.name = NULL;
    assert_int_equal(onnorm_compare(m, NULL, 1, &in, &r, &e), ONNORM_ERR_INVALID);
    onnorm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_match_formulas),
        cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
