/*
 * Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout
 * (ops/core/shape_ops.c), built as one-node models and run through the public
 * API, plus a Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain whose
 * Reshape target is computed from the runtime input's shape while planning.
 * Expected values are literals or come from the input directly (these ops
 * never reorder elements).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "builder.h"
#include "harness.h"

/* ---- helpers ---------------------------------------------------------------- */

static void iota_f(float *v, int n)
{
    for (int i = 0; i < n; i++)
        v[i] = (float)i * 0.5f - 3.0f;
}

/* One node op(X [, extra inputs]) -> Y at `opset`; returns the node. */
static tb_node *one_node(tb_model *b, const char *op, int n_in, const char *const *ins, int n_out,
                         const char *const *outs)
{
    return tb_node_add(b, op, "n", n_in, ins, n_out, outs);
}

/* ---- Reshape ----------------------------------------------------------- */

/* Reshape X with a constant shape; returns the run status. */
static onnorm_status reshape(th_run *r, int opset, int allowzero, int xrank, const int64_t *xdims,
                             const float *x, int n, const int64_t *shape)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "X", ONNORM_FLOAT, xrank, xdims);
    tb_init(b, "shape", ONNORM_INT64, 1, (int64_t[]){n}, shape);
    tb_node *nd =
        one_node(b, "Reshape", 2, (const char *[]){"X", "shape"}, 1, (const char *[]){"Y"});
    if (allowzero >= 0) tb_attr_int(nd, "allowzero", allowzero);
    tb_output(b, "Y", ONNORM_FLOAT);
    return th_run_x(r, b, 0, ONNORM_FLOAT, xrank, xdims, x);
}

static void reshape_zero_copies_and_minus_one_infers(void **state)
{
    (void)state;
    th_run r;
    float x[24];
    iota_f(x, 24);
    const int64_t xd[3] = {2, 3, 4};
    TH_OK(&r, reshape(&r, 13, -1, 3, xd, x, 2, (int64_t[]){0, -1}));
    const float *y = th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){2, 12});
    assert_memory_equal(y, x, sizeof x);
    th_free(&r);
    /* -1 in front, 0 copying dim 1. */
    TH_OK(&r, reshape(&r, 14, 0, 3, xd, x, 3, (int64_t[]){-1, 0, 2}));
    y = th_output(&r, "Y", ONNORM_FLOAT, 3, (int64_t[]){4, 3, 2});
    assert_memory_equal(y, x, sizeof x);
    th_free(&r);
    /* An empty shape makes a scalar. */
    TH_OK(&r, reshape(&r, 14, 0, 3, (int64_t[]){1, 1, 1}, x, 0, NULL));
    y = th_output(&r, "Y", ONNORM_FLOAT, 0, NULL);
    assert_true(y[0] == x[0]);
    th_free(&r);
}

static void reshape_allowzero_keeps_zero(void **state)
{
    (void)state;
    th_run r;
    float x[1] = {0};
    /* [0,3] -> [3,0]: with allowzero the 0 is a real size ... */
    TH_OK(&r, reshape(&r, 14, 1, 2, (int64_t[]){0, 3}, x, 2, (int64_t[]){3, 0}));
    th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){3, 0});
    th_free(&r);
    /* ... without it, 0 copies the input's dim 1 (3): 0 elements vs 9. */
    assert_int_equal(reshape(&r, 14, 0, 2, (int64_t[]){0, 3}, x, 2, (int64_t[]){3, 0}),
                     ONNORM_ERR_SHAPE);
    th_free(&r);
    /* allowzero with both 0 and -1 is invalid. */
    float x6[6] = {0};
    assert_int_equal(reshape(&r, 14, 1, 2, (int64_t[]){2, 3}, x6, 2, (int64_t[]){0, -1}),
                     ONNORM_ERR_INVALID);
    th_free(&r);
}

static void reshape_rejects_bad_shapes(void **state)
{
    (void)state;
    th_run r;
    float x[24] = {0};
    const int64_t xd[3] = {2, 3, 4};
    assert_int_equal(reshape(&r, 14, 0, 3, xd, x, 2, (int64_t[]){-1, -1}), ONNORM_ERR_INVALID);
    assert_non_null(strstr(r.e.message, "-1"));
    th_free(&r);
    assert_int_equal(reshape(&r, 14, 0, 3, xd, x, 2, (int64_t[]){5, 5}), ONNORM_ERR_SHAPE);
    th_free(&r);
    assert_int_equal(reshape(&r, 14, 0, 3, xd, x, 2, (int64_t[]){5, -1}), ONNORM_ERR_SHAPE);
    th_free(&r);
    assert_int_equal(reshape(&r, 14, 0, 3, xd, x, 2, (int64_t[]){-2, 12}), ONNORM_ERR_INVALID);
    th_free(&r);
}

static void reshape_opset1_shape_attribute(void **state)
{
    (void)state;
    th_run r;
    float x[6];
    iota_f(x, 6);
    tb_model *b = tb_new(1);
    tb_input(b, "X", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    tb_node *nd = one_node(b, "Reshape", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_attr_ints(nd, "shape", 2, (int64_t[]){3, -1});
    tb_output(b, "Y", ONNORM_FLOAT);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x));
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){3, 2}), x, sizeof x);
    th_free(&r);
}

/* ---- the planning-time chain -------------------------------------------- */

/* Y = Reshape(X, Concat(Unsqueeze(Gather(Shape(X), 0), [0]), [-1])): X
 * flattened per batch row. The shape input depends only on X's shape. */
static tb_model *chain_model(void)
{
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 3, (int64_t[]){-1, -1, -1});
    int64_t zero = 0, minus1 = -1, ax0 = 0;
    tb_init(b, "i0", ONNORM_INT64, 0, NULL, &zero);
    tb_init(b, "m1", ONNORM_INT64, 1, (int64_t[]){1}, &minus1);
    tb_init(b, "ax", ONNORM_INT64, 1, (int64_t[]){1}, &ax0);
    tb_node_add(b, "Shape", "shape", 1, (const char *[]){"X"}, 1, (const char *[]){"s"});
    tb_node_add(b, "Gather", "gather", 2, (const char *[]){"s", "i0"}, 1, (const char *[]){"n"});
    tb_node_add(b, "Unsqueeze", "unsq", 2, (const char *[]){"n", "ax"}, 1, (const char *[]){"n1"});
    tb_node *c = tb_node_add(b, "Concat", "cat", 2, (const char *[]){"n1", "m1"}, 1,
                             (const char *[]){"tgt"});
    tb_attr_int(c, "axis", 0);
    tb_node_add(b, "Reshape", "reshape", 2, (const char *[]){"X", "tgt"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    tb_output(b, "tgt", ONNORM_INT64);
    return b;
}

static void shape_chain_resolves_at_planning_and_replans(void **state)
{
    (void)state;
    th_run r;
    float x[24];
    iota_f(x, 24);
    TH_OK(&r, th_run_x(&r, chain_model(), 0, ONNORM_FLOAT, 3, (int64_t[]){2, 3, 4}, x));
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){2, 12}), x, sizeof x);
    const int64_t *tgt = th_output(&r, "tgt", ONNORM_INT64, 1, (int64_t[]){2});
    assert_int_equal(tgt[0], 2);
    assert_int_equal(tgt[1], -1);
    /* The folded chain is kept with the plan rather than recomputed per run. */
    size_t arena, statics;
    assert_int_equal(onnorm_session_memory(r.s, &arena, &statics, NULL), ONNORM_OK);
    assert_true(statics > 0);
    /* Same session, another shape: the plan (and the chain) is redone. */
    TH_OK(&r, th_rerun(&r, 1, (th_tensor[]){th_in("X", ONNORM_FLOAT, 3, (int64_t[]){3, 2, 2}, x)}));
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){3, 4}), x,
                        12 * sizeof(float));
    tgt = th_output(&r, "tgt", ONNORM_INT64, 1, (int64_t[]){2});
    assert_int_equal(tgt[0], 3);
    /* And back, with new data only. */
    float x2[24];
    for (int i = 0; i < 24; i++)
        x2[i] = (float)(100 + i);
    TH_OK(&r,
          th_rerun(&r, 1, (th_tensor[]){th_in("X", ONNORM_FLOAT, 3, (int64_t[]){4, 6, 1}, x2)}));
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){4, 6}), x2, sizeof x2);
    th_free(&r);
}

/* ---- Shape, Size -------------------------------------------------------- */

/* Shape of a [2,3,4,5] input at `opset`, with optional start / end. */
static void expect_shape_slice(int opset, const int64_t *start, const int64_t *end, int n,
                               const int64_t *want)
{
    th_run r;
    static float x[120];
    const int64_t xd[4] = {2, 3, 4, 5};
    tb_model *b = tb_new(opset);
    tb_input(b, "X", ONNORM_FLOAT, 4, xd);
    tb_node *nd = one_node(b, "Shape", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    if (start) tb_attr_int(nd, "start", *start);
    if (end) tb_attr_int(nd, "end", *end);
    tb_output(b, "Y", ONNORM_INT64);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_FLOAT, 4, xd, x));
    const int64_t *y = th_output(&r, "Y", ONNORM_INT64, 1, (int64_t[]){n});
    for (int i = 0; i < n; i++)
        assert_int_equal(y[i], want[i]);
    th_free(&r);
}

static void shape_with_start_and_end(void **state)
{
    (void)state;
    expect_shape_slice(13, NULL, NULL, 4, (int64_t[]){2, 3, 4, 5});
    expect_shape_slice(15, NULL, NULL, 4, (int64_t[]){2, 3, 4, 5});
    expect_shape_slice(15, (int64_t[]){1}, (int64_t[]){-1}, 2, (int64_t[]){3, 4});
    expect_shape_slice(15, (int64_t[]){-1}, NULL, 1, (int64_t[]){5});
    expect_shape_slice(15, (int64_t[]){-10}, (int64_t[]){10}, 4,
                       (int64_t[]){2, 3, 4, 5});                     /* clamped */
    expect_shape_slice(15, (int64_t[]){3}, (int64_t[]){1}, 0, NULL); /* empty */
}

static void size_counts_elements(void **state)
{
    (void)state;
    th_run r;
    int32_t x[24] = {0};
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_INT32, 3, (int64_t[]){2, 3, 4});
    one_node(b, "Size", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_INT64);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_INT32, 3, (int64_t[]){2, 3, 4}, x));
    assert_int_equal(*(const int64_t *)th_output(&r, "Y", ONNORM_INT64, 0, NULL), 24);
    th_free(&r);
}

/* ---- Flatten ------------------------------------------------------------ */

static onnorm_status flatten(th_run *r, const int64_t *axis, const float *x)
{
    tb_model *b = tb_new(13);
    const int64_t xd[3] = {2, 3, 4};
    tb_input(b, "X", ONNORM_FLOAT, 3, xd);
    tb_node *nd = one_node(b, "Flatten", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    if (axis) tb_attr_int(nd, "axis", *axis);
    tb_output(b, "Y", ONNORM_FLOAT);
    return th_run_x(r, b, 0, ONNORM_FLOAT, 3, xd, x);
}

static void flatten_axes(void **state)
{
    (void)state;
    th_run r;
    float x[24];
    iota_f(x, 24);
    static const struct {
        int64_t axis;
        bool given;
        int64_t d0, d1;
    } cases[] = {
        {0, false, 2, 12}, {0, true, 1, 24}, {1, true, 2, 12},  {2, true, 6, 4},
        {3, true, 24, 1},  {-1, true, 6, 4}, {-3, true, 1, 24},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TH_OK(&r, flatten(&r, cases[i].given ? &cases[i].axis : NULL, x));
        assert_memory_equal(
            th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){cases[i].d0, cases[i].d1}), x,
            sizeof x);
        th_free(&r);
    }
    assert_int_equal(flatten(&r, (int64_t[]){4}, x), ONNORM_ERR_INVALID);
    th_free(&r);
}

/* ---- Squeeze, Unsqueeze ------------------------------------------------- */

/* op on X of shape xd, axes as an attribute (opset < 13), an input
 * (opset >= 13), or absent (n < 0). */
static onnorm_status axes_op(th_run *r, const char *op, int opset, int xrank, const int64_t *xd,
                             const float *x, int n, const int64_t *axes)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "X", ONNORM_FLOAT, xrank, xd);
    bool as_input = opset >= 13 && n >= 0;
    if (as_input) tb_init(b, "axes", ONNORM_INT64, 1, (int64_t[]){n}, axes);
    tb_node *nd =
        one_node(b, op, as_input ? 2 : 1, (const char *[]){"X", "axes"}, 1, (const char *[]){"Y"});
    if (!as_input && n >= 0) tb_attr_ints(nd, "axes", n, axes);
    tb_output(b, "Y", ONNORM_FLOAT);
    return th_run_x(r, b, 0, ONNORM_FLOAT, xrank, xd, x);
}

static void expect_axes_op(const char *op, int opset, int xrank, const int64_t *xd, int n,
                           const int64_t *axes, int yrank, const int64_t *yd)
{
    th_run r;
    float x[64];
    iota_f(x, 64);
    TH_OK(&r, axes_op(&r, op, opset, xrank, xd, x, n, axes));
    int64_t numel = 1;
    for (int i = 0; i < xrank; i++)
        numel *= xd[i];
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, yrank, yd), x,
                        (size_t)numel * sizeof(float));
    th_free(&r);
}

static void squeeze_attribute_and_input(void **state)
{
    (void)state;
    const int64_t xd[4] = {1, 3, 1, 2};
    /* Opset 11: attribute, negative axes; absent axes squeeze every 1. */
    expect_axes_op("Squeeze", 11, 4, xd, 2, (int64_t[]){0, -2}, 2, (int64_t[]){3, 2});
    expect_axes_op("Squeeze", 11, 4, xd, 1, (int64_t[]){2}, 3, (int64_t[]){1, 3, 2});
    expect_axes_op("Squeeze", 11, 4, xd, -1, NULL, 2, (int64_t[]){3, 2});
    /* Opset 13: an input. */
    expect_axes_op("Squeeze", 13, 4, xd, 1, (int64_t[]){0}, 3, (int64_t[]){3, 1, 2});
    expect_axes_op("Squeeze", 13, 4, xd, 2, (int64_t[]){-4, 2}, 2, (int64_t[]){3, 2});
    expect_axes_op("Squeeze", 13, 4, xd, -1, NULL, 2, (int64_t[]){3, 2});
    th_run r;
    float x[6] = {0};
    assert_int_equal(axes_op(&r, "Squeeze", 13, 4, xd, x, 1, (int64_t[]){1}), ONNORM_ERR_SHAPE);
    th_free(&r);
    assert_int_equal(axes_op(&r, "Squeeze", 11, 4, xd, x, 1, (int64_t[]){4}), ONNORM_ERR_INVALID);
    th_free(&r);
}

static void unsqueeze_attribute_and_input(void **state)
{
    (void)state;
    const int64_t xd[2] = {3, 2};
    expect_axes_op("Unsqueeze", 11, 2, xd, 2, (int64_t[]){0, 3}, 4, (int64_t[]){1, 3, 2, 1});
    expect_axes_op("Unsqueeze", 11, 2, xd, 1, (int64_t[]){-1}, 3, (int64_t[]){3, 2, 1});
    expect_axes_op("Unsqueeze", 13, 2, xd, 1, (int64_t[]){1}, 3, (int64_t[]){3, 1, 2});
    expect_axes_op("Unsqueeze", 13, 2, xd, 3, (int64_t[]){4, 0, 2}, 5, (int64_t[]){1, 3, 1, 2, 1});
    expect_axes_op("Unsqueeze", 13, 0, NULL, 1, (int64_t[]){0}, 1, (int64_t[]){1});
    th_run r;
    float x[6] = {0};
    assert_int_equal(axes_op(&r, "Unsqueeze", 13, 2, xd, x, 2, (int64_t[]){1, 1}),
                     ONNORM_ERR_INVALID);
    th_free(&r);
    assert_int_equal(axes_op(&r, "Unsqueeze", 11, 2, xd, x, 1, (int64_t[]){3}), ONNORM_ERR_INVALID);
    th_free(&r);
    assert_int_equal(axes_op(&r, "Unsqueeze", 13, 2, xd, x, -1, NULL), ONNORM_ERR_INVALID);
    th_free(&r);
}

/* ---- Identity, Dropout -------------------------------------------------- */

static void identity_copies_any_type(void **state)
{
    (void)state;
    th_run r;
    int64_t x[5] = {INT64_MIN, -1, 0, 7, INT64_MAX};
    tb_model *b = tb_new(16);
    tb_input(b, "X", ONNORM_INT64, 1, (int64_t[]){5});
    one_node(b, "Identity", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_INT64);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_INT64, 1, (int64_t[]){5}, x));
    assert_memory_equal(th_output(&r, "Y", ONNORM_INT64, 1, (int64_t[]){5}), x, sizeof x);
    th_free(&r);
}

/* Dropout at `opset` with a mask output; training_mode (opset 12+) is a
 * constant when tm is given, and ratio a constant 0.25. */
static onnorm_status dropout(th_run *r, int opset, const bool *tm, onnorm_dtype mask_dt,
                             const float *x)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "X", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    float ratio = 0.25f;
    uint8_t t = tm && *tm;
    int n_in = 1;
    if (opset >= 12) {
        tb_init(b, "ratio", ONNORM_FLOAT, 0, NULL, &ratio);
        n_in = 2;
        if (tm) {
            tb_init(b, "tm", ONNORM_BOOL, 0, NULL, &t);
            n_in = 3;
        }
    }
    tb_node *nd = one_node(b, "Dropout", n_in, (const char *[]){"X", "ratio", "tm"}, 2,
                           (const char *[]){"Y", "M"});
    if (opset < 7) tb_attr_int(nd, "is_test", 1);
    tb_output(b, "Y", ONNORM_FLOAT);
    tb_output(b, "M", mask_dt);
    return th_run_x(r, b, 0, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x);
}

static void dropout_is_identity_in_inference(void **state)
{
    (void)state;
    th_run r;
    float x[6];
    iota_f(x, 6);
    const int64_t d[2] = {2, 3};
    static const int opsets[] = {6, 7, 10, 12, 13};
    for (size_t k = 0; k < sizeof opsets / sizeof opsets[0]; k++) {
        int op = opsets[k];
        onnorm_dtype mdt = op >= 10 ? ONNORM_BOOL : ONNORM_FLOAT;
        bool f = false;
        TH_OK(&r, dropout(&r, op, op >= 12 ? &f : NULL, mdt, x));
        assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 2, d), x, sizeof x);
        const void *m = th_output(&r, "M", mdt, 2, d);
        for (int i = 0; i < 6; i++) {
            if (mdt == ONNORM_BOOL)
                assert_int_equal(((const uint8_t *)m)[i], 1);
            else
                assert_true(((const float *)m)[i] == 1.0f);
        }
        th_free(&r);
    }
}

static void dropout_training_is_unsupported(void **state)
{
    (void)state;
    th_run r;
    float x[6] = {0};
    bool t = true;
    assert_int_equal(dropout(&r, 13, &t, ONNORM_BOOL, x), ONNORM_ERR_UNSUPPORTED);
    assert_non_null(strstr(r.e.message, "training"));
    th_free(&r);
    /* Opset 6 without is_test means training mode. */
    tb_model *b = tb_new(6);
    tb_input(b, "X", ONNORM_FLOAT, 1, (int64_t[]){6});
    one_node(b, "Dropout", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    assert_int_equal(th_run_x(&r, b, 0, ONNORM_FLOAT, 1, (int64_t[]){6}, x),
                     ONNORM_ERR_UNSUPPORTED);
    th_free(&r);
}

/* training_mode fed at run time: checked when its value arrives. */
static void dropout_runtime_training_mode(void **state)
{
    (void)state;
    th_run r;
    float x[3] = {1, 2, 3};
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 1, (int64_t[]){3});
    tb_input(b, "T", ONNORM_BOOL, 0, NULL);
    one_node(b, "Dropout", 3, (const char *[]){"X", "", "T"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    uint8_t t = 0;
    const th_tensor in[2] = {th_in("T", ONNORM_BOOL, 0, NULL, &t),
                             th_in("X", ONNORM_FLOAT, 1, (int64_t[]){3}, x)};
    TH_OK(&r, th_run_model(&r, b, 0, 2, in));
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){3}), x, sizeof x);
    t = 1;
    assert_int_equal(th_rerun(&r, 0, NULL), ONNORM_ERR_UNSUPPORTED);
    th_free(&r);
}

/* training_mode=true with ratio 0 keeps everything and scales by 1/(1-0):
 * the identity, with an all-true mask (PyTorch's exports of attention
 * dropout with TrainingMode.PRESERVE). A ratio fed at run time is checked
 * when it arrives. */
static void dropout_training_ratio_zero(void **state)
{
    (void)state;
    th_run r;
    float x[3] = {1, -2, 3};
    float zero = 0.0f;
    uint8_t t = 1;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 1, (int64_t[]){3});
    tb_init(b, "ratio", ONNORM_FLOAT, 0, NULL, &zero);
    tb_init(b, "T", ONNORM_BOOL, 0, NULL, &t);
    one_node(b, "Dropout", 3, (const char *[]){"X", "ratio", "T"}, 2, (const char *[]){"Y", "M"});
    tb_output(b, "Y", ONNORM_FLOAT);
    tb_output(b, "M", ONNORM_BOOL);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_FLOAT, 1, (int64_t[]){3}, x));
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){3}), x, sizeof x);
    const uint8_t ones[3] = {1, 1, 1};
    assert_memory_equal(th_output(&r, "M", ONNORM_BOOL, 1, (int64_t[]){3}), ones, sizeof ones);
    th_free(&r);

    b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 1, (int64_t[]){3});
    tb_input(b, "R", ONNORM_FLOAT, 0, NULL);
    tb_init(b, "T", ONNORM_BOOL, 0, NULL, &t);
    one_node(b, "Dropout", 3, (const char *[]){"X", "R", "T"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    float ratio = 0.0f;
    const th_tensor in[2] = {th_in("R", ONNORM_FLOAT, 0, NULL, &ratio),
                             th_in("X", ONNORM_FLOAT, 1, (int64_t[]){3}, x)};
    TH_OK(&r, th_run_model(&r, b, 0, 2, in));
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){3}), x, sizeof x);
    ratio = 0.5f;
    assert_int_equal(th_rerun(&r, 0, NULL), ONNORM_ERR_UNSUPPORTED);
    th_free(&r);
}

/* Output 0 omitted (""): the loader may reject the node (output 0 is
 * required); if it accepts it, only the mask is produced, without a crash. */
static void dropout_mask_only(void **state)
{
    (void)state;
    th_run r;
    float x[4] = {1, 2, 3, 4};
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 1, (int64_t[]){4});
    one_node(b, "Dropout", 1, (const char *[]){"X"}, 2, (const char *[]){"", "M"});
    tb_output(b, "M", ONNORM_BOOL);
    onnorm_status st = th_run_x(&r, b, 0, ONNORM_FLOAT, 1, (int64_t[]){4}, x);
    if (st == ONNORM_OK) {
        const uint8_t want[4] = {1, 1, 1, 1};
        assert_memory_equal(th_output(&r, "M", ONNORM_BOOL, 1, (int64_t[]){4}), want, sizeof want);
    } else {
        assert_int_equal(st, ONNORM_ERR_INVALID);
    }
    th_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reshape_zero_copies_and_minus_one_infers),
        cmocka_unit_test(reshape_allowzero_keeps_zero),
        cmocka_unit_test(reshape_rejects_bad_shapes),
        cmocka_unit_test(reshape_opset1_shape_attribute),
        cmocka_unit_test(shape_chain_resolves_at_planning_and_replans),
        cmocka_unit_test(shape_with_start_and_end),
        cmocka_unit_test(size_counts_elements),
        cmocka_unit_test(flatten_axes),
        cmocka_unit_test(squeeze_attribute_and_input),
        cmocka_unit_test(unsqueeze_attribute_and_input),
        cmocka_unit_test(identity_copies_any_type),
        cmocka_unit_test(dropout_is_identity_in_inference),
        cmocka_unit_test(dropout_training_is_unsupported),
        cmocka_unit_test(dropout_runtime_training_mode),
        cmocka_unit_test(dropout_training_ratio_zero),
        cmocka_unit_test(dropout_mask_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
