/*
 * Pad (ops/core/pad.c), Tile and PRelu (ops/core/tile_prelu.c) as one-node
 * models run through the public API. Expected values are literals worked
 * out by hand from the spec's examples, or come from naive per-element
 * loops written here (a padded coordinate is mirrored / clamped / wrapped
 * one step at a time, a tiled one is taken modulo the input dims).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"
#include "refnorm.h"

/* ---- helpers ---------------------------------------------------------------- */

/* Pad's attributes; NULL / 0 fields are left out. */
typedef struct pad_attrs {
    const char *mode;
    int n_pads;
    const int64_t *pads;
    bool has_value;
    float value;
} pad_attrs;

/* The one-node model `op` over inputs `in`, with Pad's attributes. */
static tb_model *node_model(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                            const pad_attrs *a)
{
    tb_node *nd;
    tb_model *b = th_node_model(r, opset, op, n, in, in[0].dt, &nd);
    if (a && a->mode) tb_attr_string(nd, "mode", a->mode);
    if (a && a->pads) tb_attr_ints(nd, "pads", a->n_pads, a->pads);
    if (a && a->has_value) tb_attr_float(nd, "value", a->value);
    return b;
}

/* Runs it with `threads` threads, asserting success; returns Y. */
static onnorm_tensor run_node(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                              const pad_attrs *a, int threads)
{
    th_ok(r, th_go(r, node_model(r, opset, op, n, in, a), threads), op);
    return th_out(r, "Y");
}

/* Runs and checks a float32 result against `want` of shape (rank, dims). */
static void expect_f32(int64_t opset, const char *op, int n, const th_tensor *in,
                       const pad_attrs *a, int rank, const int64_t *dims, const float *want)
{
    th_run r;
    run_node(&r, opset, op, n, in, a, 1);
    const float *y = th_output(&r, "Y", ONNORM_FLOAT, rank, dims);
    const int64_t numel = rn_prod(dims, 0, rank);
    for (int64_t i = 0; i < numel; i++)
        if (!(y[i] == want[i] || (isnan(y[i]) && isnan(want[i]))))
            fail_msg("%s-%lld: element %lld is %g, want %g", op, (long long)opset, (long long)i,
                     y[i], want[i]);
    th_free(&r);
}

/* Expects the run to fail with `want`. */
static void expect_fail(int64_t opset, const char *op, int n, const th_tensor *in,
                        const pad_attrs *a, onnorm_status want)
{
    th_run r;
    th_go_fails(&r, node_model(&r, opset, op, n, in, a), 1, want, NULL);
}

#define PADS(name, n, ...)                                                                         \
    {                                                                                              \
        name, ONNORM_INT64, 1, {n}, (const int64_t[]){__VA_ARGS__}, true                           \
    }

/* ---- Pad: literals ------------------------------------------------------------ */

static void pad_attribute_form(void **state)
{
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6};
    th_tensor in = {"X", ONNORM_FLOAT, 2, {2, 3}, x, false};
    /* One row before axis 0, two columns after axis 1. */
    pad_attrs a = {NULL, 4, (const int64_t[]){1, 0, 0, 2}, true, 9.5f};
    const float want[15] = {9.5, 9.5, 9.5, 9.5, 9.5, 1, 2, 3, 9.5, 9.5, 4, 5, 6, 9.5, 9.5};
    expect_f32(2, "Pad", 1, &in, &a, 2, (const int64_t[]){3, 5}, want);
    /* No value: zeros. opset 10 still uses the attribute form. */
    pad_attrs z = {"constant", 4, (const int64_t[]){0, 1, 0, 0}, false, 0};
    const float wz[8] = {0, 1, 2, 3, 0, 4, 5, 6};
    expect_f32(10, "Pad", 1, &in, &z, 2, (const int64_t[]){2, 4}, wz);
    /* float64 through the same attribute. */
    const double xd[2] = {1.5, -2};
    th_tensor ind = {"X", ONNORM_DOUBLE, 1, {2}, xd, false};
    pad_attrs one = {NULL, 2, (const int64_t[]){1, 1}, true, -0.25f};
    th_run r;
    onnorm_tensor out = run_node(&r, 2, "Pad", 1, &ind, &one, 1);
    const double wd[4] = {-0.25, 1.5, -2, -0.25};
    assert_int_equal(out.dims[0], 4);
    assert_memory_equal(out.data, wd, sizeof wd);
    th_free(&r);
}

/* The spec's three examples: data 3x2, pads [0, 2, 0, 0]. */
static void pad_spec_examples(void **state)
{
    (void)state;
    const float x[6] = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f};
    th_tensor in[3] = {{"X", ONNORM_FLOAT, 2, {3, 2}, x, false},
                       PADS("pads", 4, 0, 2, 0, 0),
                       {"v", ONNORM_FLOAT, 0, {0}, (const float[]){0.0f}, true}};
    const int64_t dims[2] = {3, 4};
    const float wc[12] = {0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f};
    const float wr[12] = {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f};
    const float we[12] = {1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f};
    pad_attrs constant = {"constant", 0, NULL, false, 0}, reflect = {"reflect", 0, NULL, false, 0},
              edge = {"edge", 0, NULL, false, 0};
    for (int opset = 11; opset <= 19; opset++) {
        expect_f32(opset, "Pad", 3, in, &constant, 2, dims, wc);
        expect_f32(opset, "Pad", 2, in, &reflect, 2, dims, wr);
        expect_f32(opset, "Pad", 2, in, &edge, 2, dims, we);
        expect_f32(opset, "Pad", 2, in, NULL, 2, dims, wc); /* default mode, default value */
    }
}

static void pad_modes_1d(void **state)
{
    (void)state;
    const float x[4] = {1, 2, 3, 4};
    th_tensor in[3] = {{"X", ONNORM_FLOAT, 1, {4}, x, false},
                       PADS("pads", 2, 2, 3),
                       {"v", ONNORM_FLOAT, 1, {1}, (const float[]){7}, false}};
    const int64_t dims[1] = {9};
    pad_attrs c = {"constant", 0, NULL, false, 0}, r = {"reflect", 0, NULL, false, 0},
              e = {"edge", 0, NULL, false, 0}, w = {"wrap", 0, NULL, false, 0};
    expect_f32(13, "Pad", 3, in, &c, 1, dims, (const float[]){7, 7, 1, 2, 3, 4, 7, 7, 7});
    expect_f32(13, "Pad", 2, in, &r, 1, dims, (const float[]){3, 2, 1, 2, 3, 4, 3, 2, 1});
    expect_f32(13, "Pad", 2, in, &e, 1, dims, (const float[]){1, 1, 1, 2, 3, 4, 4, 4, 4});
    expect_f32(19, "Pad", 2, in, &w, 1, dims, (const float[]){3, 4, 1, 2, 3, 4, 1, 2, 3});
    /* wrap may exceed the axis: the output is periodic. */
    th_tensor big[2] = {in[0], PADS("pads", 2, 5, 6)};
    expect_f32(19, "Pad", 2, big, &w, 1, (const int64_t[]){15},
               (const float[]){4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2});
    /* reflect up to the axis length on both sides mirrors twice, as
     * numpy.pad does (values from numpy). */
    th_tensor most[2] = {in[0], PADS("pads", 2, 4, 4)};
    expect_f32(13, "Pad", 2, most, &r, 1, (const int64_t[]){12},
               (const float[]){3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2});
    /* An axis of one element reflects onto itself. */
    th_tensor single[2] = {{"X", ONNORM_FLOAT, 1, {1}, (const float[]){5}, false},
                           PADS("pads", 2, 1, 1)};
    expect_f32(13, "Pad", 2, single, &r, 1, (const int64_t[]){3}, (const float[]){5, 5, 5});
}

/* Negative pads crop first; the modes then read the kept part. */
static void pad_negative_crops(void **state)
{
    (void)state;
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i; /* 3x4: rows 0..3, 4..7, 8..11 */
    /* Axis 0 loses its first row; axis 1 gains one column before and loses
     * two at the end. */
    th_tensor in[2] = {{"X", ONNORM_FLOAT, 2, {3, 4}, x, false}, PADS("pads", 4, -1, 1, 0, -2)};
    const int64_t dims[2] = {2, 3};
    pad_attrs c = {"constant", 0, NULL, false, 0}, e = {"edge", 0, NULL, false, 0},
              r = {"reflect", 0, NULL, false, 0}, w = {"wrap", 0, NULL, false, 0};
    expect_f32(13, "Pad", 2, in, &c, 2, dims, (const float[]){0, 4, 5, 0, 8, 9});
    expect_f32(13, "Pad", 2, in, &e, 2, dims, (const float[]){4, 4, 5, 8, 8, 9});
    expect_f32(13, "Pad", 2, in, &r, 2, dims, (const float[]){5, 4, 5, 9, 8, 9});
    expect_f32(19, "Pad", 2, in, &w, 2, dims, (const float[]){5, 4, 5, 9, 8, 9});
    /* Attribute form, cropping only. */
    pad_attrs a = {NULL, 4, (const int64_t[]){0, -1, -2, -1}, false, 0};
    expect_f32(2, "Pad", 1, in, &a, 2, (const int64_t[]){1, 2}, (const float[]){1, 2});
    /* Cropping an axis to nothing is fine in constant mode. */
    th_tensor all[2] = {in[0], PADS("pads", 4, 0, -4, 0, 0)};
    th_run rc;
    onnorm_tensor out = run_node(&rc, 13, "Pad", 2, all, &c, 1);
    assert_int_equal(out.dims[0], 3);
    assert_int_equal(out.dims[1], 0);
    th_free(&rc);
    /* ... and so is padding it again with the constant. */
    th_tensor refill[2] = {in[0], PADS("pads", 4, 0, -4, 0, 2)};
    expect_f32(13, "Pad", 2, refill, &c, 2, (const int64_t[]){3, 2},
               (const float[]){0, 0, 0, 0, 0, 0});
}

/* Opset 18's axes input: pads covers the listed axes only. */
static void pad_axes_input(void **state)
{
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const th_tensor xin = {"X", ONNORM_FLOAT, 2, {2, 3}, x, false};
    pad_attrs e = {"edge", 0, NULL, false, 0};
    th_tensor last[4] = {xin,
                         PADS("pads", 2, 1, 1),
                         {"", ONNORM_FLOAT, 0, {0}, NULL, false},
                         {"axes", ONNORM_INT64, 1, {1}, (const int64_t[]){-1}, true}};
    expect_f32(18, "Pad", 4, last, &e, 2, (const int64_t[]){2, 5},
               (const float[]){1, 1, 2, 3, 3, 4, 4, 5, 6, 6});
    /* Axes listed out of order, int32 axes. */
    th_tensor swapped[4] = {xin,
                            PADS("pads", 4, 0, 1, 1, 0),
                            {"v", ONNORM_FLOAT, 0, {0}, (const float[]){-1}, true},
                            {"axes", ONNORM_INT32, 1, {2}, (const int32_t[]){1, 0}, true}};
    pad_attrs c = {"constant", 0, NULL, false, 0};
    /* axis 1: begin 0, end 1; axis 0: begin 1, end 0. */
    expect_f32(18, "Pad", 4, swapped, &c, 2, (const int64_t[]){3, 4},
               (const float[]){-1, -1, -1, -1, 1, 2, 3, -1, 4, 5, 6, -1});
    /* Empty axes: nothing padded. */
    th_tensor none[4] = {xin,
                         {"pads", ONNORM_INT64, 1, {0}, NULL, true},
                         {"", ONNORM_FLOAT, 0, {0}, NULL, false},
                         {"axes", ONNORM_INT64, 1, {0}, NULL, true}};
    expect_f32(19, "Pad", 4, none, &c, 2, (const int64_t[]){2, 3}, x);
}

static void pad_other_types(void **state)
{
    (void)state;
    const int32_t xi[4] = {-1, 2, -3, 4};
    th_tensor in[2] = {{"X", ONNORM_INT32, 2, {2, 2}, xi, false}, PADS("pads", 4, 1, 0, 0, 1)};
    pad_attrs e = {"edge", 0, NULL, false, 0};
    th_run r;
    onnorm_tensor out = run_node(&r, 13, "Pad", 2, in, &e, 1);
    const int32_t want[9] = {-1, 2, 2, -1, 2, 2, -3, 4, 4};
    assert_int_equal(out.dims[0], 3);
    assert_int_equal(out.dims[1], 3);
    assert_memory_equal(out.data, want, sizeof want);
    th_free(&r);
    /* int64 with a constant_value exact beyond double precision. */
    const int64_t x64[2] = {INT64_MIN, INT64_MAX}, v64[1] = {INT64_MAX - 1};
    th_tensor in64[3] = {{"X", ONNORM_INT64, 1, {2}, x64, false},
                         PADS("pads", 2, 1, 1),
                         {"v", ONNORM_INT64, 0, {0}, v64, true}};
    out = run_node(&r, 11, "Pad", 3, in64, NULL, 1);
    const int64_t w64[4] = {INT64_MAX - 1, INT64_MIN, INT64_MAX, INT64_MAX - 1};
    assert_memory_equal(out.data, w64, sizeof w64);
    th_free(&r);
    /* bool, reflect. */
    const uint8_t xb[3] = {1, 0, 0};
    th_tensor inb[2] = {{"X", ONNORM_BOOL, 1, {3}, xb, false}, PADS("pads", 2, 2, 0)};
    pad_attrs rf = {"reflect", 0, NULL, false, 0};
    out = run_node(&r, 13, "Pad", 2, inb, &rf, 1);
    const uint8_t wb[5] = {0, 0, 1, 0, 0};
    assert_memory_equal(out.data, wb, sizeof wb);
    th_free(&r);
}

/* pads fed by the caller: the session plans with the data in hand. */
static void pad_fed_pads(void **state)
{
    (void)state;
    const float x[3] = {1, 2, 3};
    th_tensor in[3] = {{"X", ONNORM_FLOAT, 1, {3}, x, false},
                       {"pads", ONNORM_INT64, 1, {2}, (const int64_t[]){0, 2}, false},
                       {"v", ONNORM_FLOAT, 0, {0}, (const float[]){5}, false}};
    expect_f32(13, "Pad", 3, in, NULL, 1, (const int64_t[]){5}, (const float[]){1, 2, 3, 5, 5});
}

/* ---- Pad: a naive reference over a large tensor ------------------------------ */

typedef enum ref_mode { R_CONSTANT, R_REFLECT, R_EDGE, R_WRAP } ref_mode;

/* Input index of output index o on an axis of length dim padded by signed
 * (b, e): the kept range is [lo, hi) of the original axis, output o sits
 * at original position o - b, and positions outside are brought back one
 * mirror / clamp / period at a time. -1 means the constant. (Needs more
 * than one kept element for reflect.) */
static int64_t ref_index(int64_t o, int64_t dim, int64_t b, int64_t e, ref_mode m)
{
    const int64_t lo = b < 0 ? -b : 0, hi = dim - (e < 0 ? -e : 0);
    int64_t i = o - b;
    while (i < lo || i >= hi) {
        if (m == R_CONSTANT) return -1;
        if (m == R_EDGE) i = i < lo ? lo : hi - 1;
        if (m == R_REFLECT) i = i < lo ? 2 * lo - i : 2 * (hi - 1) - i;
        if (m == R_WRAP) i += i < lo ? hi - lo : lo - hi;
    }
    return i;
}

static void pad_large_all_modes(void **state)
{
    (void)state;
    const int64_t dims[3] = {6, 48, 200}, b[3] = {4, -3, 7}, e[3] = {-2, 4, 5};
    const int64_t n = dims[0] * dims[1] * dims[2];
    float *x = malloc((size_t)n * sizeof *x);
    assert_non_null(x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((i * 7919) % 1000) - 500.0f;
    static const char *modes[] = {"constant", "reflect", "edge", "wrap"};
    int64_t od[3];
    for (int k = 0; k < 3; k++)
        od[k] = dims[k] + b[k] + e[k];
    for (int m = 0; m < 4; m++) {
        th_tensor in[3] = {{"X", ONNORM_FLOAT, 3, {6, 48, 200}, x, false},
                           PADS("pads", 6, b[0], b[1], b[2], e[0], e[1], e[2]),
                           {"v", ONNORM_FLOAT, 0, {0}, (const float[]){0.5f}, true}};
        pad_attrs a = {modes[m], 0, NULL, false, 0};
        th_run r;
        onnorm_tensor out = run_node(&r, 19, "Pad", m == 0 ? 3 : 2, in, &a, 4);
        for (int k = 0; k < 3; k++)
            assert_int_equal(out.dims[k], od[k]);
        const float *y = out.data;
        for (int64_t i0 = 0; i0 < od[0]; i0++)
            for (int64_t i1 = 0; i1 < od[1]; i1++)
                for (int64_t i2 = 0; i2 < od[2]; i2++) {
                    int64_t s0 = ref_index(i0, dims[0], b[0], e[0], (ref_mode)m),
                            s1 = ref_index(i1, dims[1], b[1], e[1], (ref_mode)m),
                            s2 = ref_index(i2, dims[2], b[2], e[2], (ref_mode)m);
                    float want =
                        s0 < 0 || s1 < 0 || s2 < 0 ? 0.5f : x[(s0 * dims[1] + s1) * dims[2] + s2];
                    float got = y[(i0 * od[1] + i1) * od[2] + i2];
                    if (got != want)
                        fail_msg("%s at [%lld,%lld,%lld]: got %g, want %g", modes[m], (long long)i0,
                                 (long long)i1, (long long)i2, got, want);
                }
        th_free(&r);
    }
    free(x);
}

/* ---- Pad: errors ------------------------------------------------------------- */

static void pad_errors(void **state)
{
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const th_tensor xin = {"X", ONNORM_FLOAT, 2, {2, 3}, x, false};
    pad_attrs c = {"constant", 0, NULL, false, 0}, r = {"reflect", 0, NULL, false, 0},
              e = {"edge", 0, NULL, false, 0}, w = {"wrap", 0, NULL, false, 0};

    th_tensor short_pads[2] = {xin, PADS("pads", 3, 1, 1, 1)};
    expect_fail(13, "Pad", 2, short_pads, &c, ONNORM_ERR_INVALID); /* pads of length 3 */
    pad_attrs attr_short = {NULL, 2, (const int64_t[]){1, 1}, false, 0};
    /* a pads attribute of length 2, and none at all */
    expect_fail(2, "Pad", 1, &xin, &attr_short, ONNORM_ERR_INVALID);
    expect_fail(2, "Pad", 1, &xin, &c, ONNORM_ERR_INVALID);

    /* reflect pads may not exceed the axis: axis 1 has 3 elements. */
    th_tensor reflect4[2] = {xin, PADS("pads", 4, 0, 4, 0, 0)};
    expect_fail(13, "Pad", 2, reflect4, &r, ONNORM_ERR_SHAPE); /* reflect pad 4 on a dim of 3 */
    th_tensor reflect3[2] = {xin, PADS("pads", 4, 0, 0, 0, 3)};
    th_run ok;
    onnorm_tensor out = run_node(&ok, 13, "Pad", 2, reflect3, &r, 1);
    const float w3[12] = {1, 2, 3, 2, 1, 2, 4, 5, 6, 5, 4, 5}; /* numpy.pad */
    assert_memory_equal(out.data, w3, sizeof w3);
    th_free(&ok);
    /* ... counted after cropping: axis 1 keeps 2 elements. */
    th_tensor cropped[2] = {xin, PADS("pads", 4, 0, -1, 0, 3)};
    expect_fail(13, "Pad", 2, cropped, &r, ONNORM_ERR_SHAPE); /* reflect pad 3 on 2 kept */

    th_tensor gone[2] = {xin, PADS("pads", 4, 0, -3, 0, 1)};
    expect_fail(13, "Pad", 2, gone, &e, ONNORM_ERR_SHAPE); /* edge pad of an emptied axis */
    expect_fail(19, "Pad", 2, gone, &w, ONNORM_ERR_SHAPE); /* wrap pad of an emptied axis */
    th_tensor over[2] = {xin, PADS("pads", 4, -2, 0, -1, 0)};
    expect_fail(13, "Pad", 2, over, &c, ONNORM_ERR_SHAPE); /* cropping more than the axis */
    th_tensor huge[2] = {xin, PADS("pads", 4, INT64_MAX, 0, 1, 0)};
    expect_fail(13, "Pad", 2, huge, &c, ONNORM_ERR_SHAPE); /* overflowing pads */
    th_tensor minpad[2] = {xin, PADS("pads", 4, INT64_MIN, 0, 0, 0)};
    expect_fail(13, "Pad", 2, minpad, &c, ONNORM_ERR_INVALID); /* INT64_MIN pad */

    th_tensor ok_pads[2] = {xin, PADS("pads", 4, 0, 1, 0, 1)};
    expect_fail(18, "Pad", 2, ok_pads, &w, ONNORM_ERR_UNSUPPORTED); /* wrap before opset 19 */
    pad_attrs sym = {"symmetric", 0, NULL, false, 0};
    expect_fail(19, "Pad", 2, ok_pads, &sym, ONNORM_ERR_UNSUPPORTED); /* unknown mode */

    th_tensor i32_pads[2] = {xin,
                             {"pads", ONNORM_INT32, 1, {4}, (const int32_t[]){0, 1, 0, 1}, true}};
    expect_fail(13, "Pad", 2, i32_pads, &c, ONNORM_ERR_DTYPE); /* int32 pads */
    th_tensor bad_value[3] = {
        xin, ok_pads[1], {"v", ONNORM_DOUBLE, 0, {0}, (const double[]){1}, true}};
    expect_fail(13, "Pad", 3, bad_value, &c, ONNORM_ERR_DTYPE); /* float64 value for float32 data */
    th_tensor two_values[3] = {
        xin, ok_pads[1], {"v", ONNORM_FLOAT, 1, {2}, (const float[]){1, 2}, true}};
    expect_fail(13, "Pad", 3, two_values, &c, ONNORM_ERR_SHAPE); /* two constant values */

    th_tensor dup_axes[4] = {xin,
                             ok_pads[1],
                             {"", ONNORM_FLOAT, 0, {0}, NULL, false},
                             {"axes", ONNORM_INT64, 1, {2}, (const int64_t[]){1, -1}, true}};
    expect_fail(18, "Pad", 4, dup_axes, &c, ONNORM_ERR_INVALID); /* axis listed twice */
    th_tensor far_axis[4] = {xin,
                             PADS("pads", 2, 1, 1),
                             {"", ONNORM_FLOAT, 0, {0}, NULL, false},
                             {"axes", ONNORM_INT64, 1, {1}, (const int64_t[]){2}, true}};
    expect_fail(18, "Pad", 4, far_axis, &c, ONNORM_ERR_INVALID); /* axis out of range */
    th_tensor axes_len[4] = {xin,
                             ok_pads[1],
                             {"", ONNORM_FLOAT, 0, {0}, NULL, false},
                             {"axes", ONNORM_INT64, 1, {1}, (const int64_t[]){0}, true}};
    expect_fail(18, "Pad", 4, axes_len, &c, ONNORM_ERR_INVALID); /* pads longer than 2 * axes */

    const int32_t xi[2] = {1, 2};
    th_tensor ints = {"X", ONNORM_INT32, 1, {2}, xi, false};
    pad_attrs attr1 = {NULL, 2, (const int64_t[]){1, 1}, false, 0};
    expect_fail(2, "Pad", 1, &ints, &attr1, ONNORM_ERR_DTYPE); /* int32 data at opset 2 */
}

/* ---- Tile ------------------------------------------------------------------------ */

static void tile_literals(void **state)
{
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6};
    th_tensor in[2] = {{"X", ONNORM_FLOAT, 2, {2, 3}, x, false},
                       {"reps", ONNORM_INT64, 1, {2}, (const int64_t[]){2, 2}, true}};
    expect_f32(
        13, "Tile", 2, in, NULL, 2, (const int64_t[]){4, 6},
        (const float[]){1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
    /* The spec's example: tile([[1, 2], [3, 4]], [1, 2]). */
    th_tensor spec[2] = {{"X", ONNORM_FLOAT, 2, {2, 2}, (const float[]){1, 2, 3, 4}, false},
                         {"reps", ONNORM_INT64, 1, {2}, (const int64_t[]){1, 2}, false}};
    expect_f32(6, "Tile", 2, spec, NULL, 2, (const int64_t[]){2, 4},
               (const float[]){1, 2, 1, 2, 3, 4, 3, 4});
    /* Zero repeats give an empty axis; repeats of 1 copy. */
    th_tensor zero[2] = {in[0], {"reps", ONNORM_INT64, 1, {2}, (const int64_t[]){0, 3}, true}};
    th_run r;
    onnorm_tensor out = run_node(&r, 13, "Tile", 2, zero, NULL, 1);
    assert_int_equal(out.dims[0], 0);
    assert_int_equal(out.dims[1], 9);
    th_free(&r);
    th_tensor ones[2] = {in[0], {"reps", ONNORM_INT64, 1, {2}, (const int64_t[]){1, 1}, true}};
    expect_f32(13, "Tile", 2, ones, NULL, 2, (const int64_t[]){2, 3}, x);
    /* Other element types: uint8 and int64. */
    const uint8_t xb[2] = {7, 9};
    th_tensor u8[2] = {{"X", ONNORM_UINT8, 1, {2}, xb, false},
                       {"reps", ONNORM_INT64, 1, {1}, (const int64_t[]){3}, true}};
    out = run_node(&r, 13, "Tile", 2, u8, NULL, 1);
    assert_memory_equal(out.data, ((const uint8_t[]){7, 9, 7, 9, 7, 9}), 6);
    th_free(&r);
    const int64_t xl[2] = {INT64_MIN, 5};
    th_tensor i64[2] = {{"X", ONNORM_INT64, 2, {2, 1}, xl, false},
                        {"reps", ONNORM_INT64, 1, {2}, (const int64_t[]){1, 2}, true}};
    out = run_node(&r, 13, "Tile", 2, i64, NULL, 1);
    assert_memory_equal(out.data, ((const int64_t[]){INT64_MIN, INT64_MIN, 5, 5}), 32);
    th_free(&r);
}

static void tile_large_naive(void **state)
{
    (void)state;
    const int64_t d[3] = {3, 5, 7}, rep[3] = {4, 3, 200};
    float x[105];
    for (int i = 0; i < 105; i++)
        x[i] = (float)i * 0.5f - 20;
    th_tensor in[2] = {{"X", ONNORM_FLOAT, 3, {3, 5, 7}, x, false},
                       {"reps", ONNORM_INT64, 1, {3}, rep, true}};
    th_run r;
    onnorm_tensor out = run_node(&r, 13, "Tile", 2, in, NULL, 4);
    const int64_t o1 = d[1] * rep[1], o2 = d[2] * rep[2];
    assert_int_equal(out.dims[0], 12);
    assert_int_equal(out.dims[1], o1);
    assert_int_equal(out.dims[2], o2);
    const float *y = out.data;
    for (int64_t i = 0; i < 12; i++)
        for (int64_t j = 0; j < o1; j++)
            for (int64_t k = 0; k < o2; k++) {
                float want = x[(i % 3 * 5 + j % 5) * 7 + k % 7];
                if (y[(i * o1 + j) * o2 + k] != want)
                    fail_msg("tile at [%lld,%lld,%lld]", (long long)i, (long long)j, (long long)k);
            }
    th_free(&r);
}

static void tile_errors(void **state)
{
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const th_tensor xin = {"X", ONNORM_FLOAT, 2, {2, 3}, x, false};
    th_tensor neg[2] = {xin, {"reps", ONNORM_INT64, 1, {2}, (const int64_t[]){2, -1}, true}};
    expect_fail(13, "Tile", 2, neg, NULL, ONNORM_ERR_INVALID); /* negative repeats */
    th_tensor shortr[2] = {xin, {"reps", ONNORM_INT64, 1, {1}, (const int64_t[]){2}, true}};
    expect_fail(13, "Tile", 2, shortr, NULL, ONNORM_ERR_SHAPE); /* one repeat for rank 2 */
    th_tensor i32[2] = {xin, {"reps", ONNORM_INT32, 1, {2}, (const int32_t[]){2, 2}, true}};
    expect_fail(13, "Tile", 2, i32, NULL, ONNORM_ERR_DTYPE); /* int32 repeats */
    th_tensor huge[2] = {xin,
                         {"reps", ONNORM_INT64, 1, {2}, (const int64_t[]){INT64_MAX / 2, 3}, true}};
    expect_fail(13, "Tile", 2, huge, NULL, ONNORM_ERR_SHAPE); /* overflowing repeats */
    /* Tile-1 (tiles / axis inputs) is a different op: not supported. */
    th_tensor v1[2] = {xin, {"reps", ONNORM_INT64, 1, {2}, (const int64_t[]){2, 2}, true}};
    expect_fail(5, "Tile", 2, v1, NULL, ONNORM_ERR_UNSUPPORTED);
}

/* ---- PRelu ------------------------------------------------------------------------ */

/* y for X [n0, n1, n2] and a slope read as s(i0, i1, i2) by `at`. */
typedef int64_t (*slope_at)(int64_t i0, int64_t i1, int64_t i2);

static void check_prelu(int64_t opset, const int64_t *xd, const float *x, const th_tensor *slope,
                        slope_at at, int threads)
{
    th_tensor in[2] = {{"X", ONNORM_FLOAT, 3, {xd[0], xd[1], xd[2]}, x, false}, *slope};
    th_run r;
    onnorm_tensor out = run_node(&r, opset, "PRelu", 2, in, NULL, threads);
    const float *y = out.data, *s = slope->data;
    for (int64_t i0 = 0; i0 < xd[0]; i0++)
        for (int64_t i1 = 0; i1 < xd[1]; i1++)
            for (int64_t i2 = 0; i2 < xd[2]; i2++) {
                int64_t o = (i0 * xd[1] + i1) * xd[2] + i2;
                float want = x[o] < 0 ? s[at(i0, i1, i2)] * x[o] : x[o];
                if (y[o] != want)
                    fail_msg("PRelu-%lld at %lld: got %g, want %g", (long long)opset, (long long)o,
                             y[o], want);
            }
    th_free(&r);
}

static int64_t at_one(int64_t a, int64_t b, int64_t c)
{
    return (void)a, (void)b, (void)c, 0;
}
static int64_t at_last(int64_t a, int64_t b, int64_t c)
{
    return (void)a, (void)b, c;
}
static int64_t at_mid(int64_t a, int64_t b, int64_t c)
{
    return (void)a, (void)c, b;
}
static int64_t at_full(int64_t a, int64_t b, int64_t c)
{
    return (a * 3 + b) * 4 + c;
}

static void prelu_broadcasts(void **state)
{
    (void)state;
    const int64_t xd[3] = {2, 3, 4};
    float x[24], s[24];
    for (int i = 0; i < 24; i++) {
        x[i] = (float)(i % 7) - 3.5f;
        s[i] = 0.1f * (float)(i + 1);
    }
    const th_tensor one = {"s", ONNORM_FLOAT, 1, {1}, s, true},
                    last = {"s", ONNORM_FLOAT, 1, {4}, s, true},
                    mid = {"s", ONNORM_FLOAT, 2, {3, 1}, s, true},
                    full = {"s", ONNORM_FLOAT, 3, {2, 3, 4}, s, false};
    static const int64_t opsets[] = {7, 9, 16};
    for (size_t k = 0; k < sizeof opsets / sizeof opsets[0]; k++) {
        check_prelu(opsets[k], xd, x, &one, at_one, 1);
        check_prelu(opsets[k], xd, x, &last, at_last, 1);
        check_prelu(opsets[k], xd, x, &mid, at_mid, 1);
        check_prelu(opsets[k], xd, x, &full, at_full, 1);
    }
    /* Opset 6: a [C] slope is per channel (axis 1), where numpy rules would
     * not even apply ([3] against a last dim of 4). */
    const th_tensor chan = {"s", ONNORM_FLOAT, 1, {3}, s, true};
    check_prelu(6, xd, x, &one, at_one, 1);
    check_prelu(6, xd, x, &chan, at_mid, 1);
    check_prelu(6, xd, x, &mid, at_mid, 1);
    /* X [2, 3, 3], slope [3]: channel at opset 6, last axis from 7. */
    const int64_t sq[3] = {2, 3, 3};
    check_prelu(6, sq, x, &chan, at_mid, 1);
    check_prelu(7, sq, x, &chan, at_last, 1);
}

static void prelu_types_and_nan(void **state)
{
    (void)state;
    const double xd[4] = {-2, 0, 3, NAN}, sd[1] = {0.25};
    th_tensor in[2] = {{"X", ONNORM_DOUBLE, 1, {4}, xd, false},
                       {"s", ONNORM_DOUBLE, 1, {1}, sd, true}};
    th_run r;
    onnorm_tensor out = run_node(&r, 16, "PRelu", 2, in, NULL, 1);
    const double *y = out.data;
    assert_true(y[0] == -0.5 && y[1] == 0 && y[2] == 3 && isnan(y[3]));
    th_free(&r);
    const int32_t xi[3] = {-4, 5, INT32_MIN}, si[3] = {3, 3, 2};
    th_tensor ini[2] = {{"X", ONNORM_INT32, 1, {3}, xi, false},
                        {"s", ONNORM_INT32, 1, {3}, si, true}};
    out = run_node(&r, 9, "PRelu", 2, ini, NULL, 1);
    assert_memory_equal(out.data, ((const int32_t[]){-12, 5, 0}), 12); /* INT32_MIN * 2 wraps */
    th_free(&r);
    expect_fail(7, "PRelu", 2, ini, NULL, ONNORM_ERR_DTYPE); /* int32 before opset 9 */
}

static void prelu_large_parallel(void **state)
{
    (void)state;
    const int64_t xd[3] = {8, 16, 512}, n = 8 * 16 * 512;
    float *x = malloc((size_t)n * sizeof *x), s[16];
    assert_non_null(x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((i * 37) % 101) - 50.0f;
    for (int i = 0; i < 16; i++)
        s[i] = -0.5f + 0.0625f * (float)i;
    const th_tensor mid = {"s", ONNORM_FLOAT, 2, {16, 1}, s, true};
    check_prelu(16, xd, x, &mid, at_mid, 4);
    const th_tensor chan = {"s", ONNORM_FLOAT, 1, {16}, s, true};
    check_prelu(6, xd, x, &chan, at_mid, 3);
    free(x);
}

static void prelu_errors(void **state)
{
    (void)state;
    const float x[6] = {1, -2, 3, -4, 5, -6};
    const th_tensor xin = {"X", ONNORM_FLOAT, 2, {2, 3}, x, false};
    th_tensor wrong[2] = {xin, {"s", ONNORM_FLOAT, 1, {2}, (const float[]){1, 2}, true}};
    expect_fail(16, "PRelu", 2, wrong, NULL, ONNORM_ERR_SHAPE); /* slope [2] for X [2,3] */
    th_tensor bigger[2] = {xin, {"s", ONNORM_FLOAT, 3, {1, 2, 3}, x, true}};
    expect_fail(16, "PRelu", 2, bigger, NULL, ONNORM_ERR_SHAPE); /* slope of higher rank */
    /* Unidirectional: the slope may not stretch X. */
    th_tensor stretch[2] = {{"X", ONNORM_FLOAT, 2, {1, 3}, x, false},
                            {"s", ONNORM_FLOAT, 2, {2, 3}, x, true}};
    expect_fail(16, "PRelu", 2, stretch, NULL, ONNORM_ERR_SHAPE); /* slope larger than X */
    th_tensor dt[2] = {xin, {"s", ONNORM_DOUBLE, 1, {1}, (const double[]){1}, true}};
    expect_fail(16, "PRelu", 2, dt, NULL, ONNORM_ERR_DTYPE); /* float64 slope for float32 X */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pad_attribute_form),   cmocka_unit_test(pad_spec_examples),
        cmocka_unit_test(pad_modes_1d),         cmocka_unit_test(pad_negative_crops),
        cmocka_unit_test(pad_axes_input),       cmocka_unit_test(pad_other_types),
        cmocka_unit_test(pad_fed_pads),         cmocka_unit_test(pad_large_all_modes),
        cmocka_unit_test(pad_errors),           cmocka_unit_test(tile_literals),
        cmocka_unit_test(tile_large_naive),     cmocka_unit_test(tile_errors),
        cmocka_unit_test(prelu_broadcasts),     cmocka_unit_test(prelu_types_and_nan),
        cmocka_unit_test(prelu_large_parallel), cmocka_unit_test(prelu_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
