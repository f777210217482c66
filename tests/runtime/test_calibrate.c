/*
 * The C API of issue 14: onnorm_model_capture, onnorm_model_calibrate and
 * onnorm_model_standardize, on small models built in memory and data
 * written as .npy files. Expected statistics are computed here from the
 * data with the formulas (population moments in double; for a BN fed by a
 * recalibrated BN, mean = B and var = scale^2 * var / (var + eps)).
 */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "runtime/runtime.h" /* to read the written constants */

static char tmp_root[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp_root, sizeof tmp_root, "/tmp/onnorm_calib_XXXXXX");
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

/* A float32 [n, 2, 3] array as a version 1 .npy file. */
static void write_npy(const char *name, int n, const float *v)
{
    char path[512], dict[128];
    snprintf(path, sizeof path, "%s/%s", tmp_root, name);
    snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 2, 3), }",
             n);
    size_t hlen = strlen(dict) + 1;
    while ((10 + hlen) % 64)
        hlen++;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)hlen, 0};
    fwrite(pre, 1, 10, f);
    fputs(dict, f);
    for (size_t i = strlen(dict); i + 1 < hlen; i++)
        fputc(' ', f);
    fputc('\n', f);
    fwrite(v, sizeof(float), (size_t)n * 6, f);
    fclose(f);
}

/* 5 samples of [2, 3] in two files (2 and 3 samples). */
static float data[30];

static void write_data(void)
{
    for (int i = 0; i < 30; i++)
        data[i] = (float)(sin(1.7 * i + 0.3) * (1 + (i % 6) / 2.0) + ((i / 3) % 2 ? 2.0 : -1.0));
    write_npy("d0.npy", 2, data);
    write_npy("d1.npy", 3, data + 12);
}

/* Population mean and variance of channel c over the 5 samples. */
static void channel_moments(int c, double *mean, double *var)
{
    double s = 0, q = 0;
    for (int n = 0; n < 5; n++)
        for (int i = 0; i < 3; i++)
            s += data[(n * 2 + c) * 3 + i];
    *mean = s / 15;
    for (int n = 0; n < 5; n++)
        for (int i = 0; i < 3; i++) {
            double d = data[(n * 2 + c) * 3 + i] - *mean;
            q += d * d;
        }
    *var = q / 15;
}

static const float s1[2] = {1.5f, 0.5f}, B1[2] = {0.25f, -2};

/* x[?, 2, 3] -> bn1 -> Mul by 2 (t) -> bn2 -> y; stored statistics wrong. */
static onnorm_model *bn_chain(void)
{
    tb_model *b = tb_new(15);
    tb_input(b, "x", ONNORM_FLOAT, 3, (int64_t[]){-1, 2, 3});
    const float ones[2] = {1, 1}, zeros[2] = {0, 0}, m0[2] = {3, -3}, v0[2] = {9, 0.01f};
    const float two = 2;
    const int64_t c2[1] = {2};
    tb_init(b, "s1", ONNORM_FLOAT, 1, c2, s1);
    tb_init(b, "B1", ONNORM_FLOAT, 1, c2, B1);
    tb_init(b, "m1", ONNORM_FLOAT, 1, c2, m0);
    tb_init(b, "v1", ONNORM_FLOAT, 1, c2, v0);
    tb_init(b, "s2", ONNORM_FLOAT, 1, c2, ones);
    tb_init(b, "B2", ONNORM_FLOAT, 1, c2, zeros);
    tb_init(b, "m2", ONNORM_FLOAT, 1, c2, m0);
    tb_init(b, "v2", ONNORM_FLOAT, 1, c2, v0);
    tb_init(b, "two", ONNORM_FLOAT, 0, NULL, &two);
    tb_node_add(b, "BatchNormalization", "bn1", 5, (const char *[]){"x", "s1", "B1", "m1", "v1"}, 1,
                (const char *[]){"a"});
    tb_node_add(b, "Mul", "mul", 2, (const char *[]){"a", "two"}, 1, (const char *[]){"t"});
    tb_node *n =
        tb_node_add(b, "BatchNormalization", "bn2", 5,
                    (const char *[]){"t", "s2", "B2", "m2", "v2"}, 1, (const char *[]){"y"});
    tb_attr_float(n, "epsilon", 1e-3f);
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = NULL;
    onnorm_error e;
    if (tb_load(b, &m, &e)) fail_msg("load: %s", e.message);
    tb_free(b);
    return m;
}

static const float *constant(const onnorm_model *m, const char *name)
{
    int v = onn_graph_find_value(m->g, name);
    assert_true(v >= 0);
    assert_non_null(m->g->values[v].init);
    assert_int_equal(m->g->values[v].init->dtype, ONNORM_FLOAT);
    return m->g->values[v].init->data;
}

static onnorm_dataset *open_data(const onnorm_model *m)
{
    onnorm_dataset *d = NULL;
    onnorm_error e;
    const char *paths[] = {tmp_root};
    if (onnorm_dataset_open(m, paths, 1, &d, &e)) fail_msg("%s", e.message);
    assert_int_equal(onnorm_dataset_count(d), 2);
    return d;
}

static void capture_values(void **state)
{
    (void)state;
    onnorm_model *m = bn_chain();
    onnorm_dataset *d = open_data(m);
    onnorm_error e;
    onnorm_model *cap = NULL;
    const char *names[] = {"t", "x", "t"};
    assert_int_equal(onnorm_model_capture(m, names, 3, 0, &cap, &e), ONNORM_OK);
    assert_int_equal(onnorm_model_output_count(cap), 2); /* t once, and x */
    assert_string_equal(onnorm_model_output_name(cap, 0), "t");
    assert_int_equal(onnorm_model_node_count(cap), 2); /* bn2 is not needed */
    onnorm_session_options so;
    onnorm_session_options_init(&so);
    so.optimization_level = 0;
    onnorm_session *s = NULL;
    assert_int_equal(onnorm_session_create(cap, &so, &s, &e), ONNORM_OK);
    assert_int_equal(onnorm_dataset_bind(d, 0, s, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_run(s, &e), ONNORM_OK);
    onnorm_tensor t;
    assert_int_equal(onnorm_session_output(s, "t", &t, &e), ONNORM_OK);
    assert_int_equal(t.rank, 3);
    assert_int_equal(t.dims[0], 2);
    /* t = 2 * ((x - m) / sqrt(v + 1e-5) * s1 + B1) with the stored m, v */
    const float m0[2] = {3, -3}, v0[2] = {9, 0.01f};
    for (int i = 0; i < 12; i++) {
        int c = (i / 3) % 2;
        double want = 2 * ((data[i] - m0[c]) / sqrt(v0[c] + (double)1e-5f) * s1[c] + B1[c]);
        assert_true(fabs(((float *)t.data)[i] - want) <= 1e-5 * (1 + fabs(want)));
    }
    onnorm_session_free(s);
    onnorm_model_free(cap);
    /* keep_outputs: y first, then t; a missing name is an error */
    const char *one[] = {"a"};
    assert_int_equal(onnorm_model_capture(m, one, 1, 1, &cap, &e), ONNORM_OK);
    assert_int_equal(onnorm_model_output_count(cap), 2);
    assert_string_equal(onnorm_model_output_name(cap, 0), "y");
    assert_string_equal(onnorm_model_output_name(cap, 1), "a");
    assert_int_equal(onnorm_model_node_count(cap), 3);
    onnorm_model_free(cap);
    /* with the default optimization the captured value survives too */
    assert_int_equal(onnorm_model_capture(m, names, 1, 1, &cap, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_create(cap, NULL, &s, &e), ONNORM_OK);
    assert_int_equal(onnorm_dataset_bind(d, 1, s, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_run(s, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_output(s, "t", &t, &e), ONNORM_OK);
    assert_int_equal(t.dims[0], 3);
    onnorm_session_free(s);
    onnorm_model_free(cap);
    const char *bad[] = {"nope"};
    assert_int_equal(onnorm_model_capture(m, bad, 1, 0, &cap, &e), ONNORM_ERR_NOT_FOUND);
    assert_null(cap);
    assert_non_null(strstr(e.message, "'nope'"));
    onnorm_dataset_free(d);
    onnorm_model_free(m);
}

static void calibrate_chain(void **state)
{
    (void)state;
    onnorm_model *m = bn_chain();
    onnorm_dataset *d = open_data(m);
    onnorm_error e;
    onnorm_model *cal = NULL;
    onnorm_bn_calibration layers[4];
    int n = 0;
    char notes[256];
    if (onnorm_model_calibrate(m, d, NULL, &cal, layers, 4, &n, notes, sizeof notes, &e))
        fail_msg("%s", e.message);
    assert_int_equal(n, 2);
    assert_string_equal(layers[0].node, "bn1");
    assert_string_equal(layers[1].node, "bn2");
    assert_int_equal(layers[0].wave, 0);
    assert_int_equal(layers[1].wave, 1);
    assert_int_equal(layers[0].count, 15);
    assert_int_equal(layers[0].channels, 2);
    assert_string_equal(notes, "");
    const float *m1 = constant(cal, "m1"), *v1 = constant(cal, "v1");
    const float *m2 = constant(cal, "m2"), *v2 = constant(cal, "v2");
    const double eps1 = (double)1e-5f;
    for (int c = 0; c < 2; c++) {
        double mean, var;
        channel_moments(c, &mean, &var);
        assert_true(fabs(m1[c] - mean) <= 1e-6 * (1 + fabs(mean)));
        assert_true(fabs(v1[c] - var) <= 1e-6 * var);
        /* bn2 sees 2 * bn1(x) under the new statistics */
        const double want_m = 2 * B1[c];
        const double want_v = 4.0 * s1[c] * s1[c] * var / (var + eps1);
        assert_true(fabs(m2[c] - want_m) <= 1e-5 * (1 + fabs(want_m)));
        assert_true(fabs(v2[c] - want_v) <= 1e-5 * want_v);
    }
    double mean0, var0, mean1, var1;
    channel_moments(0, &mean0, &var0);
    channel_moments(1, &mean1, &var1);
    const double sh0 = fabs((float)mean0 - 3) / sqrt(9 + eps1);
    const double sh1 = fabs((float)mean1 + 3) / sqrt((double)0.01f + eps1);
    assert_true(fabs(layers[0].mean_shift_max - fmax(sh0, sh1)) <= 1e-6 * fmax(sh0, sh1));
    assert_true(fabs(layers[0].mean_shift_mean - (sh0 + sh1) / 2) <= 1e-6 * (sh0 + sh1));
    /* the stored model is untouched */
    assert_true(constant(m, "m1")[0] == 3 && constant(m, "v1")[1] == 0.01f);
    onnorm_model_free(cal);

    /* unbiased variance, blend 0.5, only bn1 */
    onnorm_calibrate_options o;
    onnorm_calibrate_options_init(&o);
    assert_true(o.blend == 1 && o.unbiased == 0 && o.nodes == NULL);
    o.unbiased = 1;
    o.blend = 0.5;
    o.nodes = "bn1";
    assert_int_equal(onnorm_model_calibrate(m, d, &o, &cal, layers, 4, &n, NULL, 0, &e), ONNORM_OK);
    assert_int_equal(n, 1);
    for (int c = 0; c < 2; c++) {
        double mean, var;
        channel_moments(c, &mean, &var);
        const double want_m = 0.5 * mean + 0.5 * (c ? -3 : 3);
        const double want_v = 0.5 * var * 15 / 14 + 0.5 * (c ? (double)0.01f : 9);
        assert_true(fabs(constant(cal, "m1")[c] - want_m) <= 1e-6 * (1 + fabs(want_m)));
        assert_true(fabs(constant(cal, "v1")[c] - want_v) <= 1e-6 * want_v);
        assert_true(constant(cal, "m2")[c] == (c ? -3 : 3)); /* not listed: unchanged */
    }
    onnorm_model_free(cal);

    /* errors */
    o.nodes = "bn1,mul";
    assert_int_equal(onnorm_model_calibrate(m, d, &o, &cal, layers, 4, &n, NULL, 0, &e),
                     ONNORM_ERR_NOT_FOUND);
    assert_non_null(strstr(e.message, "'mul'"));
    assert_null(cal);
    o.nodes = NULL;
    o.blend = 1.5;
    assert_int_equal(onnorm_model_calibrate(m, d, &o, &cal, layers, 4, &n, NULL, 0, &e),
                     ONNORM_ERR_INVALID);
    assert_int_equal(onnorm_model_calibrate(m, NULL, NULL, &cal, layers, 4, &n, NULL, 0, &e),
                     ONNORM_ERR_INVALID);
    onnorm_dataset_free(d);
    onnorm_model_free(m);
}

static void standardize_api(void **state)
{
    (void)state;
    onnorm_model *m = bn_chain();
    onnorm_dataset *d = open_data(m);
    onnorm_error e;
    onnorm_model *out = NULL;
    onnorm_standardize_options o;
    onnorm_standardize_options_init(&o);
    o.per_channel = 1;
    double center[4], divisor[4];
    int64_t nc = 0, count = 0;
    assert_int_equal(onnorm_model_standardize(m, d, &o, &out, center, divisor, 4, &nc, &count, &e),
                     ONNORM_OK);
    assert_int_equal(nc, 2);
    assert_int_equal(count, 15);
    for (int c = 0; c < 2; c++) {
        double mean, var;
        channel_moments(c, &mean, &var);
        assert_true(fabs(center[c] - mean) <= 1e-12 * (1 + fabs(mean)));
        assert_true(fabs(divisor[c] - sqrt(var)) <= 1e-12 * sqrt(var));
    }
    assert_int_equal(onnorm_model_node_count(out), onnorm_model_node_count(m) + 2);
    onnorm_model_free(out);
    o.mode = ONNORM_STANDARDIZE_MINMAX;
    o.per_channel = 0;
    assert_int_equal(onnorm_model_standardize(m, d, &o, &out, center, divisor, 4, &nc, NULL, &e),
                     ONNORM_OK);
    float lo = data[0], hi = data[0];
    for (int i = 0; i < 30; i++)
        lo = data[i] < lo ? data[i] : lo, hi = data[i] > hi ? data[i] : hi;
    assert_int_equal(nc, 1);
    assert_true(center[0] == lo && divisor[0] == (double)hi - (double)lo);
    onnorm_model_free(out);
    o.input = "nope";
    assert_int_equal(onnorm_model_standardize(m, d, &o, &out, center, divisor, 4, &nc, NULL, &e),
                     ONNORM_ERR_NOT_FOUND);
    onnorm_dataset_free(d);
    onnorm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capture_values),
        cmocka_unit_test(calibrate_chain),
        cmocka_unit_test(standardize_api),
    };
    setup(NULL);
    write_data();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    teardown(NULL);
    return rc;
}
