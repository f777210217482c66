/*
 * Data-movement kernels: Transpose, Concat, Split, Slice, Gather, Cast,
 * Expand and ConstantOfShape, as one-node models run through the public
 * API. Expected values are literals or come from naive index loops written
 * here, independent of the kernels' view simplifications.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "builder.h"
#include "harness.h"

/* ---- helpers ---------------------------------------------------------------- */

static int64_t numel(int rank, const int64_t *d)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= d[i];
    return n;
}

/* Row-major offset of a multi-index. */
static int64_t offset_of(int rank, const int64_t *dims, const int64_t *idx)
{
    int64_t off = 0;
    for (int i = 0; i < rank; i++)
        off = off * dims[i] + idx[i];
    return off;
}

/* Multi-index of a row-major offset. */
static void index_of(int rank, const int64_t *dims, int64_t off, int64_t *idx)
{
    for (int i = rank - 1; i >= 0; i--) {
        idx[i] = off % dims[i];
        off /= dims[i];
    }
}

/* ---- Transpose ---------------------------------------------------------- */

static onnorm_status transpose(th_run *r, onnorm_dtype dt, int rank, const int64_t *dims,
                               const void *x, const int64_t *perm, int n_perm)
{
    tb_model *b = tb_new(13);
    tb_input(b, "X", dt, rank, dims);
    tb_node *nd =
        tb_node_add(b, "Transpose", "t", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    if (perm) tb_attr_ints(nd, "perm", n_perm, perm);
    tb_output(b, "Y", dt);
    return th_run_x(r, b, 0, dt, rank, dims, x);
}

/* Checks Y[i] == X[i permuted] element by element, for any element size. */
static void check_transpose(onnorm_dtype dt, int rank, const int64_t *dims, const int64_t *perm)
{
    th_run r;
    const size_t esz = onnorm_dtype_size(dt);
    const int64_t n = numel(rank, dims);
    uint8_t *x = malloc((size_t)(n > 0 ? n : 1) * esz);
    assert_non_null(x);
    for (size_t i = 0; i < (size_t)n * esz; i++)
        x[i] = (uint8_t)(i * 7 + 3);
    int64_t yd[8], p[8];
    for (int k = 0; k < rank; k++)
        p[k] = perm ? perm[k] : rank - 1 - k;
    for (int k = 0; k < rank; k++)
        yd[k] = dims[p[k]];
    TH_OK(&r, transpose(&r, dt, rank, dims, x, perm, rank));
    const uint8_t *y = th_output(&r, "Y", dt, rank, yd);
    for (int64_t o = 0; o < n; o++) {
        int64_t oi[8], ii[8];
        index_of(rank, yd, o, oi);
        for (int k = 0; k < rank; k++)
            ii[p[k]] = oi[k];
        assert_memory_equal(y + o * (int64_t)esz, x + offset_of(rank, dims, ii) * (int64_t)esz,
                            esz);
    }
    th_free(&r);
    free(x);
}

static bool next_perm(int64_t *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] > p[i + 1])
        i--;
    if (i < 0) return false;
    int j = n - 1;
    while (p[j] < p[i])
        j--;
    int64_t t = p[i];
    p[i] = p[j], p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--)
        t = p[a], p[a] = p[b], p[b] = t;
    return true;
}

static void transpose_every_rank4_perm(void **state)
{
    (void)state;
    const int64_t dims[4] = {2, 3, 1, 4};
    int64_t p[4] = {0, 1, 2, 3};
    do
        check_transpose(ONNORM_FLOAT, 4, dims, p);
    while (next_perm(p, 4));
}

/* 4-byte elements whose view ends in a swap of two axes take 8 x 8 tiles:
 * whole tiles, rows and columns past the last one, outer batches, both
 * directions of NCHW <-> NHWC, int32 like float32. */
static void transpose_tiled(void **state)
{
    (void)state;
    check_transpose(ONNORM_FLOAT, 4, (int64_t[]){1, 96, 9, 11}, (int64_t[]){0, 2, 3, 1});
    check_transpose(ONNORM_FLOAT, 4, (int64_t[]){2, 9, 11, 24}, (int64_t[]){0, 3, 1, 2});
    check_transpose(ONNORM_FLOAT, 3, (int64_t[]){3, 37, 29}, (int64_t[]){0, 2, 1});
    check_transpose(ONNORM_FLOAT, 2, (int64_t[]){40, 17}, NULL);
    check_transpose(ONNORM_FLOAT, 2, (int64_t[]){8, 8}, NULL);
    check_transpose(ONNORM_FLOAT, 2, (int64_t[]){7, 9}, NULL);
    check_transpose(ONNORM_FLOAT, 2, (int64_t[]){300, 260}, NULL); /* many tiles: threads */
    check_transpose(ONNORM_INT32, 2, (int64_t[]){33, 65}, NULL);
    check_transpose(ONNORM_FLOAT, 4, (int64_t[]){2, 4, 16, 12}, (int64_t[]){0, 2, 3, 1});
}

static void transpose_default_and_types(void **state)
{
    (void)state;
    check_transpose(ONNORM_FLOAT, 3, (int64_t[]){2, 3, 4}, NULL);
    check_transpose(ONNORM_INT64, 2, (int64_t[]){5, 7}, NULL);
    check_transpose(ONNORM_UINT8, 3, (int64_t[]){3, 5, 2}, (int64_t[]){1, 2, 0});
    check_transpose(ONNORM_FLOAT16, 4, (int64_t[]){2, 3, 4, 5}, (int64_t[]){0, 2, 3, 1});
    check_transpose(ONNORM_BOOL, 2, (int64_t[]){1, 9}, (int64_t[]){1, 0});
    check_transpose(ONNORM_DOUBLE, 5, (int64_t[]){2, 1, 3, 2, 2}, (int64_t[]){4, 0, 3, 1, 2});
    /* A literal 2x3 case, independent of the index helpers above. */
    th_run r;
    const int32_t x[6] = {1, 2, 3, 4, 5, 6}, want[6] = {1, 4, 2, 5, 3, 6};
    TH_OK(&r, transpose(&r, ONNORM_INT32, 2, (int64_t[]){2, 3}, x, NULL, 0));
    assert_memory_equal(th_output(&r, "Y", ONNORM_INT32, 2, (int64_t[]){3, 2}), want, sizeof want);
    th_free(&r);
}

static void transpose_rejects_bad_perm(void **state)
{
    (void)state;
    th_run r;
    float x[6] = {0};
    assert_int_equal(transpose(&r, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x, (int64_t[]){0, 0}, 2),
                     ONNORM_ERR_INVALID);
    th_free(&r);
    assert_int_equal(transpose(&r, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x, (int64_t[]){1, 2}, 2),
                     ONNORM_ERR_INVALID);
    th_free(&r);
    assert_int_equal(transpose(&r, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x, (int64_t[]){0}, 1),
                     ONNORM_ERR_INVALID);
    th_free(&r);
}

/* ---- Concat ------------------------------------------------------------- */

static void concat_axes(void **state)
{
    (void)state;
    th_run r;
    const int32_t a[6] = {1, 2, 3, 4, 5, 6}, c[2] = {70, 80};
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_INT32, 2, (int64_t[]){2, 3});
    tb_init(b, "C", ONNORM_INT32, 2, (int64_t[]){2, 1}, c);
    tb_node *nd =
        tb_node_add(b, "Concat", "c", 3, (const char *[]){"X", "C", "X"}, 1, (const char *[]){"Y"});
    tb_attr_int(nd, "axis", -1);
    tb_output(b, "Y", ONNORM_INT32);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_INT32, 2, (int64_t[]){2, 3}, a));
    const int32_t want[14] = {1, 2, 3, 70, 1, 2, 3, 4, 5, 6, 80, 4, 5, 6};
    assert_memory_equal(th_output(&r, "Y", ONNORM_INT32, 2, (int64_t[]){2, 7}), want, sizeof want);
    th_free(&r);

    /* Axis 0 (given as -2), with an empty input in the middle. */
    b = tb_new(11);
    tb_input(b, "X", ONNORM_INT32, 2, (int64_t[]){2, 3});
    tb_init(b, "E", ONNORM_INT32, 2, (int64_t[]){0, 3}, NULL);
    nd =
        tb_node_add(b, "Concat", "c", 3, (const char *[]){"X", "E", "X"}, 1, (const char *[]){"Y"});
    tb_attr_int(nd, "axis", -2);
    tb_output(b, "Y", ONNORM_INT32);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_INT32, 2, (int64_t[]){2, 3}, a));
    const int32_t *y = th_output(&r, "Y", ONNORM_INT32, 2, (int64_t[]){4, 3});
    assert_memory_equal(y, a, sizeof a);
    assert_memory_equal(y + 6, a, sizeof a);
    th_free(&r);
}

static void concat_rejects_mismatch(void **state)
{
    (void)state;
    th_run r;
    const float a[6] = {0}, c[4] = {0};
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    tb_init(b, "C", ONNORM_FLOAT, 2, (int64_t[]){1, 4}, c);
    tb_node *nd =
        tb_node_add(b, "Concat", "c", 2, (const char *[]){"X", "C"}, 1, (const char *[]){"Y"});
    tb_attr_int(nd, "axis", 0);
    tb_output(b, "Y", ONNORM_FLOAT);
    assert_int_equal(th_run_x(&r, b, 0, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, a), ONNORM_ERR_SHAPE);
    th_free(&r);
}

/* ---- Split -------------------------------------------------------------- */

typedef struct split_case {
    int opset;
    int64_t axis;
    int n_out;
    int n_split; /* -1: no split list */
    int64_t split[4];
    bool split_as_input;
    int64_t num_outputs; /* 0: absent */
} split_case;

/* Splits a [2,7] float X filled with 0..13. */
static onnorm_status split(th_run *r, const split_case *c, const float *x)
{
    static const char *outs[4] = {"Y0", "Y1", "Y2", "Y3"};
    tb_model *b = tb_new(c->opset);
    tb_input(b, "X", ONNORM_FLOAT, 2, (int64_t[]){2, 7});
    if (c->split_as_input) tb_init(b, "S", ONNORM_INT64, 1, (int64_t[]){c->n_split}, c->split);
    tb_node *nd = tb_node_add(b, "Split", "s", c->split_as_input ? 2 : 1,
                              (const char *[]){"X", "S"}, c->n_out, outs);
    tb_attr_int(nd, "axis", c->axis);
    if (c->n_split >= 0 && !c->split_as_input) tb_attr_ints(nd, "split", c->n_split, c->split);
    if (c->num_outputs) tb_attr_int(nd, "num_outputs", c->num_outputs);
    for (int k = 0; k < c->n_out; k++)
        tb_output(b, outs[k], ONNORM_FLOAT);
    return th_run_x(r, b, 0, ONNORM_FLOAT, 2, (int64_t[]){2, 7}, x);
}

/* Output k of a split along axis 1 with the given sizes. */
static void expect_split(const split_case *c, const int64_t *sizes)
{
    th_run r;
    float x[14];
    for (int i = 0; i < 14; i++)
        x[i] = (float)i;
    static const char *outs[4] = {"Y0", "Y1", "Y2", "Y3"};
    TH_OK(&r, split(&r, c, x));
    int64_t start = 0;
    for (int k = 0; k < c->n_out; k++) {
        const float *y = th_output(&r, outs[k], ONNORM_FLOAT, 2, (int64_t[]){2, sizes[k]});
        for (int64_t i = 0; i < 2; i++)
            for (int64_t j = 0; j < sizes[k]; j++)
                assert_true(y[i * sizes[k] + j] == x[i * 7 + start + j]);
        start += sizes[k];
    }
    th_free(&r);
}

static void split_across_opsets(void **state)
{
    (void)state;
    /* 11: split attribute; 13: split input; 18: num_outputs, last smaller. */
    expect_split(&(split_case){11, 1, 3, 3, {1, 4, 2}, false, 0}, (int64_t[]){1, 4, 2});
    expect_split(&(split_case){11, -1, 2, 2, {7, 0}, false, 0}, (int64_t[]){7, 0});
    expect_split(&(split_case){13, 1, 2, 2, {3, 4}, true, 0}, (int64_t[]){3, 4});
    expect_split(&(split_case){13, -1, 1, -1, {0}, false, 0}, (int64_t[]){7});
    expect_split(&(split_case){18, 1, 3, -1, {0}, false, 3}, (int64_t[]){3, 3, 1});
    expect_split(&(split_case){18, 1, 4, -1, {0}, false, 4}, (int64_t[]){2, 2, 2, 1});
    expect_split(&(split_case){18, 1, 2, 2, {5, 2}, true, 0}, (int64_t[]){5, 2});
    /* Equal split along axis 0. */
    th_run r;
    float x[14];
    for (int i = 0; i < 14; i++)
        x[i] = (float)i;
    TH_OK(&r, split(&r, &(split_case){13, 0, 2, -1, {0}, false, 0}, x));
    assert_memory_equal(th_output(&r, "Y0", ONNORM_FLOAT, 2, (int64_t[]){1, 7}), x,
                        7 * sizeof(float));
    assert_memory_equal(th_output(&r, "Y1", ONNORM_FLOAT, 2, (int64_t[]){1, 7}), x + 7,
                        7 * sizeof(float));
    th_free(&r);
}

static void split_rejects_bad_sizes(void **state)
{
    (void)state;
    th_run r;
    float x[14] = {0};
    /* 7 does not split into 2 equal parts. */
    assert_int_equal(split(&r, &(split_case){13, 1, 2, -1, {0}, false, 0}, x), ONNORM_ERR_SHAPE);
    th_free(&r);
    assert_int_equal(split(&r, &(split_case){13, 1, 2, 2, {3, 3}, true, 0}, x), ONNORM_ERR_SHAPE);
    th_free(&r);
    assert_int_equal(split(&r, &(split_case){11, 1, 2, 3, {3, 3, 1}, false, 0}, x),
                     ONNORM_ERR_INVALID);
    th_free(&r);
    assert_int_equal(split(&r, &(split_case){18, 1, 2, -1, {0}, false, 3}, x), ONNORM_ERR_INVALID);
    th_free(&r);
    assert_int_equal(split(&r, &(split_case){18, 1, 2, 2, {3, 4}, true, 2}, x), ONNORM_ERR_INVALID);
    th_free(&r);
}

/* ---- Slice -------------------------------------------------------------- */

/* Slice of X (float) with constant int64 parameters; n_axes / n_steps < 0
 * omit those inputs. */
static onnorm_status slice(th_run *r, int rank, const int64_t *dims, const float *x, int n,
                           const int64_t *starts, const int64_t *ends, int n_axes,
                           const int64_t *axes, int n_steps, const int64_t *steps)
{
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, rank, dims);
    tb_init(b, "st", ONNORM_INT64, 1, (int64_t[]){n}, starts);
    tb_init(b, "en", ONNORM_INT64, 1, (int64_t[]){n}, ends);
    int n_in = 3;
    if (n_axes >= 0) tb_init(b, "ax", ONNORM_INT64, 1, (int64_t[]){n_axes}, axes), n_in = 4;
    if (n_steps >= 0) tb_init(b, "sp", ONNORM_INT64, 1, (int64_t[]){n_steps}, steps), n_in = 5;
    const char *ins[5] = {"X", "st", "en", n_axes >= 0 ? "ax" : "", "sp"};
    tb_node_add(b, "Slice", "s", n_in, ins, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    return th_run_x(r, b, 0, ONNORM_FLOAT, rank, dims, x);
}

static void expect_slice_1d(int64_t start, int64_t end, int64_t step, int n_want, const float *want)
{
    th_run r;
    float x[10];
    for (int i = 0; i < 10; i++)
        x[i] = (float)i;
    TH_OK(&r, slice(&r, 1, (int64_t[]){10}, x, 1, &start, &end, -1, NULL, 1, &step));
    const float *y = th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){n_want});
    for (int i = 0; i < n_want; i++)
        assert_true(y[i] == want[i]);
    th_free(&r);
}

static void slice_steps_and_clamping(void **state)
{
    (void)state;
    expect_slice_1d(2, 7, 1, 5, (float[]){2, 3, 4, 5, 6});
    expect_slice_1d(-1, INT64_MIN, -1, 10, (float[]){9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
    expect_slice_1d(8, 1, -3, 3, (float[]){8, 5, 2});
    expect_slice_1d(100, -100, -4, 3, (float[]){9, 5, 1});   /* both clamped */
    expect_slice_1d(-100, 100, 3, 4, (float[]){0, 3, 6, 9}); /* both clamped */
    expect_slice_1d(1, INT64_MAX, 1, 9, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
    expect_slice_1d(5, 5, 1, 0, NULL);
    expect_slice_1d(3, 6, -1, 0, NULL);
    expect_slice_1d(20, 30, 1, 0, NULL);
    expect_slice_1d(9, -20, INT64_MIN, 1, (float[]){9});
}

static void slice_2d_axes(void **state)
{
    (void)state;
    th_run r;
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i; /* [3,4] */
    /* Rows 2..0 backwards, columns 1 and 3. */
    TH_OK(&r, slice(&r, 2, (int64_t[]){3, 4}, x, 2, (int64_t[]){-1, 1}, (int64_t[]){INT64_MIN, 4},
                    2, (int64_t[]){0, -1}, 2, (int64_t[]){-1, 2}));
    const float want[6] = {9, 11, 5, 7, 1, 3};
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){3, 2}), want, sizeof want);
    th_free(&r);
    /* Default axes and steps: rows 1.., columns 0..2. */
    TH_OK(&r, slice(&r, 2, (int64_t[]){3, 4}, x, 2, (int64_t[]){1, 0}, (int64_t[]){1000, -1}, -1,
                    NULL, -1, NULL));
    const float want2[6] = {4, 5, 6, 8, 9, 10};
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){2, 3}), want2,
                        sizeof want2);
    th_free(&r);
    /* Errors: a zero step, a repeated axis. */
    assert_int_equal(slice(&r, 2, (int64_t[]){3, 4}, x, 1, (int64_t[]){0}, (int64_t[]){2}, 1,
                           (int64_t[]){1}, 1, (int64_t[]){0}),
                     ONNORM_ERR_INVALID);
    th_free(&r);
    assert_int_equal(slice(&r, 2, (int64_t[]){3, 4}, x, 2, (int64_t[]){0, 0}, (int64_t[]){2, 2}, 2,
                           (int64_t[]){1, -1}, -1, NULL),
                     ONNORM_ERR_INVALID);
    th_free(&r);
}

static void slice_opset1_attributes(void **state)
{
    (void)state;
    th_run r;
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}; /* [2,4] */
    tb_model *b = tb_new(9);
    tb_input(b, "X", ONNORM_FLOAT, 2, (int64_t[]){2, 4});
    tb_node *nd = tb_node_add(b, "Slice", "s", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_attr_ints(nd, "starts", 2, (int64_t[]){0, 1});
    tb_attr_ints(nd, "ends", 2, (int64_t[]){-1, 1000});
    tb_output(b, "Y", ONNORM_FLOAT);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_FLOAT, 2, (int64_t[]){2, 4}, x));
    const float want[3] = {2, 3, 4};
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){1, 3}), want, sizeof want);
    th_free(&r);
}

/* ---- Gather ------------------------------------------------------------- */

static onnorm_status gather(th_run *r, int64_t axis, onnorm_dtype idt, int irank,
                            const int64_t *idims, const void *idx, const float *x)
{
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 3, (int64_t[]){2, 3, 4});
    tb_init(b, "I", idt, irank, idims, idx);
    tb_node *nd =
        tb_node_add(b, "Gather", "g", 2, (const char *[]){"X", "I"}, 1, (const char *[]){"Y"});
    tb_attr_int(nd, "axis", axis);
    tb_output(b, "Y", ONNORM_FLOAT);
    return th_run_x(r, b, 0, ONNORM_FLOAT, 3, (int64_t[]){2, 3, 4}, x);
}

static void gather_axes_and_negative_indices(void **state)
{
    (void)state;
    th_run r;
    const int64_t xd[3] = {2, 3, 4};
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i;
    /* axis 1, int64 indices [2,2] with negatives: output [2, 2,2, 4]. */
    const int64_t idx[4] = {0, -1, 2, -3};
    TH_OK(&r, gather(&r, 1, ONNORM_INT64, 2, (int64_t[]){2, 2}, idx, x));
    const float *y = th_output(&r, "Y", ONNORM_FLOAT, 4, (int64_t[]){2, 2, 2, 4});
    for (int a = 0; a < 2; a++)
        for (int j = 0; j < 4; j++)
            for (int c = 0; c < 4; c++) {
                int64_t k = idx[j] < 0 ? idx[j] + 3 : idx[j];
                assert_true(y[(a * 4 + j) * 4 + c] == x[offset_of(3, xd, (int64_t[]){a, k, c})]);
            }
    th_free(&r);
    /* axis -1 with an int32 scalar index: output [2,3]. */
    const int32_t i32 = -2;
    TH_OK(&r, gather(&r, -1, ONNORM_INT32, 0, NULL, &i32, x));
    y = th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    for (int i = 0; i < 6; i++)
        assert_true(y[i] == x[i * 4 + 2]);
    th_free(&r);
    /* axis 0, int32 1-D indices. */
    const int32_t i0[3] = {1, 0, 1};
    TH_OK(&r, gather(&r, 0, ONNORM_INT32, 1, (int64_t[]){3}, i0, x));
    y = th_output(&r, "Y", ONNORM_FLOAT, 3, (int64_t[]){3, 3, 4});
    assert_memory_equal(y, x + 12, 12 * sizeof(float));
    assert_memory_equal(y + 12, x, 12 * sizeof(float));
    assert_memory_equal(y + 24, x + 12, 12 * sizeof(float));
    th_free(&r);
}

static void gather_out_of_range_fails_at_run(void **state)
{
    (void)state;
    th_run r;
    float x[24] = {0};
    const int64_t bad_hi[2] = {0, 3}, bad_lo[1] = {-4};
    assert_int_equal(gather(&r, 1, ONNORM_INT64, 1, (int64_t[]){2}, bad_hi, x), ONNORM_ERR_INVALID);
    assert_non_null(strstr(r.e.message, "out of range"));
    th_free(&r);
    assert_int_equal(gather(&r, 1, ONNORM_INT64, 1, (int64_t[]){1}, bad_lo, x), ONNORM_ERR_INVALID);
    th_free(&r);
    /* Indices fed at run time: the model plans, the run fails. */
    tb_model *b = tb_new(13);
    tb_init(b, "D", ONNORM_FLOAT, 1, (int64_t[]){3}, (float[]){1, 2, 3});
    tb_input(b, "X", ONNORM_INT64, 1, (int64_t[]){1});
    tb_node_add(b, "Gather", "g", 2, (const char *[]){"D", "X"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    int64_t i = 2;
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_INT64, 1, (int64_t[]){1}, &i));
    assert_true(*(const float *)th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){1}) == 3.0f);
    i = 3;
    assert_int_equal(th_rerun(&r, 0, NULL), ONNORM_ERR_INVALID);
    th_free(&r);
}

/* ---- Cast --------------------------------------------------------------- */

static onnorm_status cast(th_run *r, int opset, onnorm_dtype from, onnorm_dtype to, int64_t n,
                          const void *x)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "X", from, 1, (int64_t[]){n});
    tb_node *nd = tb_node_add(b, "Cast", "c", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_attr_int(nd, "to", to);
    tb_output(b, "Y", to);
    return th_run_x(r, b, 0, from, 1, (int64_t[]){n}, x);
}

static void cast_float_int64_both_ways(void **state)
{
    (void)state;
    th_run r;
    const float f[7] = {-2.7f, -0.5f, 0.5f, 2.9f, 1000.0f, -0.0f, 16777216.0f};
    const int64_t want_i[7] = {-2, 0, 0, 2, 1000, 0, 16777216};
    TH_OK(&r, cast(&r, 13, ONNORM_FLOAT, ONNORM_INT64, 7, f));
    assert_memory_equal(th_output(&r, "Y", ONNORM_INT64, 1, (int64_t[]){7}), want_i, sizeof want_i);
    th_free(&r);
    /* int64 -> float rounds to nearest: 2^24 + 1 is not a float. */
    const int64_t i[5] = {1, -3, (int64_t)1 << 40, ((int64_t)1 << 24) + 1, INT64_MIN};
    const float want_f[5] = {1.0f, -3.0f, 1099511627776.0f, 16777216.0f, -9223372036854775808.0f};
    TH_OK(&r, cast(&r, 13, ONNORM_INT64, ONNORM_FLOAT, 5, i));
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){5}), want_f, sizeof want_f);
    th_free(&r);
}

static void cast_float16_bool_and_narrow_ints(void **state)
{
    (void)state;
    th_run r;
    /* float -> float16 bits: 1, -2, 65504 (max), 1/3, ties to even, a
     * subnormal, overflow to inf, the smallest subnormal's half. */
    const float f[8] = {1.0f,           -2.0f,          65504.0f, 0.33333334f,
                        1.00048828125f, 5.9604645e-08f, 70000.0f, 2.98023224e-08f};
    const uint16_t want_h[8] = {0x3C00, 0xC000, 0x7BFF, 0x3555, 0x3C00, 0x0001, 0x7C00, 0x0000};
    TH_OK(&r, cast(&r, 13, ONNORM_FLOAT, ONNORM_FLOAT16, 8, f));
    assert_memory_equal(th_output(&r, "Y", ONNORM_FLOAT16, 1, (int64_t[]){8}), want_h,
                        sizeof want_h);
    th_free(&r);
    /* float16 -> double is exact. */
    const uint16_t h[4] = {0x3555, 0x0001, 0xFC00, 0x7BFF};
    TH_OK(&r, cast(&r, 13, ONNORM_FLOAT16, ONNORM_DOUBLE, 4, h));
    const double *d = th_output(&r, "Y", ONNORM_DOUBLE, 1, (int64_t[]){4});
    assert_true(d[0] == 0.333251953125);
    assert_true(d[1] == 5.9604644775390625e-08);
    assert_true(d[2] == -INFINITY);
    assert_true(d[3] == 65504.0);
    th_free(&r);
    /* double -> bool: nonzero (NaN too) is true. */
    const double v[4] = {0.0, -0.0, 0.25, NAN};
    const uint8_t want_b[4] = {0, 0, 1, 1};
    TH_OK(&r, cast(&r, 13, ONNORM_DOUBLE, ONNORM_BOOL, 4, v));
    assert_memory_equal(th_output(&r, "Y", ONNORM_BOOL, 1, (int64_t[]){4}), want_b, sizeof want_b);
    th_free(&r);
    /* bool -> int32 and int32 -> uint8 (in range). */
    const uint8_t bits[3] = {1, 0, 1};
    const int32_t want_i[3] = {1, 0, 1};
    TH_OK(&r, cast(&r, 6, ONNORM_BOOL, ONNORM_INT32, 3, bits));
    assert_memory_equal(th_output(&r, "Y", ONNORM_INT32, 1, (int64_t[]){3}), want_i, sizeof want_i);
    th_free(&r);
    const int32_t small[3] = {0, 17, 255};
    const uint8_t want_u[3] = {0, 17, 255};
    TH_OK(&r, cast(&r, 9, ONNORM_INT32, ONNORM_UINT8, 3, small));
    assert_memory_equal(th_output(&r, "Y", ONNORM_UINT8, 1, (int64_t[]){3}), want_u, sizeof want_u);
    th_free(&r);
}

static void cast_opset1_string_and_errors(void **state)
{
    (void)state;
    th_run r;
    const double x[2] = {1.5, -2.5};
    tb_model *b = tb_new(1);
    tb_input(b, "X", ONNORM_DOUBLE, 1, (int64_t[]){2});
    tb_node *nd = tb_node_add(b, "Cast", "c", 1, (const char *[]){"X"}, 1, (const char *[]){"Y"});
    tb_attr_string(nd, "to", "INT32");
    tb_output(b, "Y", ONNORM_INT32);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_DOUBLE, 1, (int64_t[]){2}, x));
    const int32_t want[2] = {1, -2};
    assert_memory_equal(th_output(&r, "Y", ONNORM_INT32, 1, (int64_t[]){2}), want, sizeof want);
    th_free(&r);
    assert_int_equal(cast(&r, 13, ONNORM_DOUBLE, ONNORM_STRING, 2, x), ONNORM_ERR_UNSUPPORTED);
    th_free(&r);
}

/* ---- Expand, ConstantOfShape -------------------------------------------- */

static onnorm_status expand(th_run *r, int rank, const int64_t *dims, const int64_t *x, int n,
                            const int64_t *shape)
{
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_INT64, rank, dims);
    tb_init(b, "S", ONNORM_INT64, 1, (int64_t[]){n}, shape);
    tb_node_add(b, "Expand", "e", 2, (const char *[]){"X", "S"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_INT64);
    return th_run_x(r, b, 0, ONNORM_INT64, rank, dims, x);
}

/* Y[idx] == X[idx with broadcast dims pinned to 0], right-aligned. */
static void check_expand(int rank, const int64_t *dims, int n, const int64_t *shape, int yrank,
                         const int64_t *yd)
{
    th_run r;
    int64_t x[64];
    for (int i = 0; i < 64; i++)
        x[i] = 1000 + i;
    TH_OK(&r, expand(&r, rank, dims, x, n, shape));
    const int64_t *y = th_output(&r, "Y", ONNORM_INT64, yrank, yd);
    for (int64_t o = 0; o < numel(yrank, yd); o++) {
        int64_t oi[8], xi[8];
        index_of(yrank, yd, o, oi);
        for (int k = 0; k < rank; k++) {
            int64_t ok = oi[k + yrank - rank];
            xi[k] = dims[k] == 1 ? 0 : ok;
        }
        assert_int_equal(y[o], x[offset_of(rank, dims, xi)]);
    }
    th_free(&r);
}

static void expand_broadcasts_both_ways(void **state)
{
    (void)state;
    check_expand(2, (int64_t[]){3, 1}, 3, (int64_t[]){2, 1, 4}, 3,
                 (int64_t[]){2, 3, 4}); /* input grows */
    check_expand(2, (int64_t[]){1, 4}, 2, (int64_t[]){3, 1}, 2,
                 (int64_t[]){3, 4}); /* shape's 1 kept */
    check_expand(3, (int64_t[]){2, 1, 3}, 1, (int64_t[]){1}, 3,
                 (int64_t[]){2, 1, 3}); /* shorter shape */
    check_expand(1, (int64_t[]){1}, 2, (int64_t[]){2, 5}, 2, (int64_t[]){2, 5});
    check_expand(0, NULL, 2, (int64_t[]){2, 2}, 2, (int64_t[]){2, 2});
    /* Literal: [[1],[2]] to [2,3]. */
    th_run r;
    const int64_t x[2] = {1, 2}, want[6] = {1, 1, 1, 2, 2, 2};
    TH_OK(&r, expand(&r, 2, (int64_t[]){2, 1}, x, 2, (int64_t[]){2, 3}));
    assert_memory_equal(th_output(&r, "Y", ONNORM_INT64, 2, (int64_t[]){2, 3}), want, sizeof want);
    th_free(&r);
    assert_int_equal(expand(&r, 2, (int64_t[]){2, 3}, x, 1, (int64_t[]){4}), ONNORM_ERR_SHAPE);
    th_free(&r);
}

static void constant_of_shape_values(void **state)
{
    (void)state;
    th_run r;
    /* value = int64 7, shape [2,3] from a constant. */
    tb_model *b = tb_new(9);
    tb_init(b, "S", ONNORM_INT64, 1, (int64_t[]){2}, (int64_t[]){2, 3});
    tb_node *nd =
        tb_node_add(b, "ConstantOfShape", "c", 1, (const char *[]){"S"}, 1, (const char *[]){"Y"});
    int64_t seven = 7;
    tb_attr_tensor(nd, "value", ONNORM_INT64, 1, (int64_t[]){1}, &seven);
    tb_output(b, "Y", ONNORM_INT64);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_INT64, 0, NULL, NULL));
    const int64_t *y = th_output(&r, "Y", ONNORM_INT64, 2, (int64_t[]){2, 3});
    for (int i = 0; i < 6; i++)
        assert_int_equal(y[i], 7);
    th_free(&r);
    /* No value: float32 zeros; the shape comes from an input's Shape. */
    b = tb_new(13);
    tb_input(b, "X", ONNORM_DOUBLE, 2, (int64_t[]){4, 5});
    tb_node_add(b, "Shape", "s", 1, (const char *[]){"X"}, 1, (const char *[]){"S"});
    tb_node_add(b, "ConstantOfShape", "c", 1, (const char *[]){"S"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    double x[20] = {0};
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_DOUBLE, 2, (int64_t[]){4, 5}, x));
    const float *z = th_output(&r, "Y", ONNORM_FLOAT, 2, (int64_t[]){4, 5});
    for (int i = 0; i < 20; i++)
        assert_true(z[i] == 0.0f);
    th_free(&r);
    /* An empty shape gives a scalar. */
    b = tb_new(9);
    tb_init(b, "S", ONNORM_INT64, 1, (int64_t[]){0}, NULL);
    nd = tb_node_add(b, "ConstantOfShape", "c", 1, (const char *[]){"S"}, 1, (const char *[]){"Y"});
    tb_attr_tensor(nd, "value", ONNORM_DOUBLE, 1, (int64_t[]){1}, (double[]){2.5});
    tb_output(b, "Y", ONNORM_DOUBLE);
    TH_OK(&r, th_run_x(&r, b, 0, ONNORM_DOUBLE, 0, NULL, NULL));
    assert_true(*(const double *)th_output(&r, "Y", ONNORM_DOUBLE, 0, NULL) == 2.5);
    th_free(&r);
}

/* ---- threaded paths ------------------------------------------------------ */

/* Tensors above the parallel threshold, with 4 threads: Cast(Slice(Transpose(X))),
 * Gather, Concat, Split and Expand on X [64,48,32], checked by naive loops. */
static void large_tensors_with_threads(void **state)
{
    (void)state;
    enum { A = 64, B = 48, C = 32, N = A * B * C };
    static float x[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)i;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 3, (int64_t[]){A, B, C});
    tb_node *t =
        tb_node_add(b, "Transpose", "t", 1, (const char *[]){"X"}, 1, (const char *[]){"T"});
    tb_attr_ints(t, "perm", 3, (int64_t[]){2, 0, 1});
    tb_init(b, "st", ONNORM_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
    tb_init(b, "en", ONNORM_INT64, 1, (int64_t[]){1}, (int64_t[]){INT64_MAX});
    tb_init(b, "ax", ONNORM_INT64, 1, (int64_t[]){1}, (int64_t[]){2});
    tb_init(b, "sp", ONNORM_INT64, 1, (int64_t[]){1}, (int64_t[]){2});
    tb_node_add(b, "Slice", "s", 5, (const char *[]){"T", "st", "en", "ax", "sp"}, 1,
                (const char *[]){"S"});
    tb_node *c = tb_node_add(b, "Cast", "c", 1, (const char *[]){"S"}, 1, (const char *[]){"Y1"});
    tb_attr_int(c, "to", ONNORM_DOUBLE);
    int64_t idx[40];
    for (int i = 0; i < 40; i++)
        idx[i] = (i * 7) % B - (i % 2 ? B : 0);
    tb_init(b, "I", ONNORM_INT64, 1, (int64_t[]){40}, idx);
    tb_node *g =
        tb_node_add(b, "Gather", "g", 2, (const char *[]){"X", "I"}, 1, (const char *[]){"Y2"});
    tb_attr_int(g, "axis", 1);
    tb_node *k =
        tb_node_add(b, "Concat", "k", 2, (const char *[]){"X", "X"}, 1, (const char *[]){"Y3"});
    tb_attr_int(k, "axis", 1);
    tb_node *sp =
        tb_node_add(b, "Split", "p", 1, (const char *[]){"Y3"}, 2, (const char *[]){"P0", "P1"});
    tb_attr_int(sp, "axis", 1);
    tb_init(b, "E", ONNORM_INT64, 1, (int64_t[]){4}, (int64_t[]){2, 1, 1, 1});
    tb_node_add(b, "Expand", "e", 2, (const char *[]){"X", "E"}, 1, (const char *[]){"Y4"});
    const char *outs[] = {"Y1", "Y2", "P0", "P1", "Y4"};
    onnorm_dtype odt[] = {ONNORM_DOUBLE, ONNORM_FLOAT, ONNORM_FLOAT, ONNORM_FLOAT, ONNORM_FLOAT};
    for (int i = 0; i < 5; i++)
        tb_output(b, outs[i], odt[i]);
    th_run r;
    TH_OK(&r, th_run_x(&r, b, 4, ONNORM_FLOAT, 3, (int64_t[]){A, B, C}, x));
    /* Y1[c][a][j] = X[a][1 + 2j][c] */
    const double *y1 = th_output(&r, "Y1", ONNORM_DOUBLE, 3, (int64_t[]){C, A, B / 2});
    for (int cc = 0; cc < C; cc++)
        for (int a = 0; a < A; a++)
            for (int j = 0; j < B / 2; j++)
                assert_true(y1[(cc * A + a) * (B / 2) + j] ==
                            (double)x[(a * B + 1 + 2 * j) * C + cc]);
    const float *y2 = th_output(&r, "Y2", ONNORM_FLOAT, 3, (int64_t[]){A, 40, C});
    for (int a = 0; a < A; a++)
        for (int j = 0; j < 40; j++) {
            int64_t v = idx[j] < 0 ? idx[j] + B : idx[j];
            assert_memory_equal(y2 + (a * 40 + j) * C, x + (a * B + v) * C, C * sizeof(float));
        }
    /* Concat then Split in halves gives X back twice. */
    assert_memory_equal(th_output(&r, "P0", ONNORM_FLOAT, 3, (int64_t[]){A, B, C}), x, sizeof x);
    assert_memory_equal(th_output(&r, "P1", ONNORM_FLOAT, 3, (int64_t[]){A, B, C}), x, sizeof x);
    const float *y4 = th_output(&r, "Y4", ONNORM_FLOAT, 4, (int64_t[]){2, A, B, C});
    assert_memory_equal(y4, x, sizeof x);
    assert_memory_equal(y4 + N, x, sizeof x);
    th_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transpose_every_rank4_perm),
        cmocka_unit_test(transpose_default_and_types),
        cmocka_unit_test(transpose_tiled),
        cmocka_unit_test(transpose_rejects_bad_perm),
        cmocka_unit_test(concat_axes),
        cmocka_unit_test(concat_rejects_mismatch),
        cmocka_unit_test(split_across_opsets),
        cmocka_unit_test(split_rejects_bad_sizes),
        cmocka_unit_test(slice_steps_and_clamping),
        cmocka_unit_test(slice_2d_axes),
        cmocka_unit_test(slice_opset1_attributes),
        cmocka_unit_test(gather_axes_and_negative_indices),
        cmocka_unit_test(gather_out_of_range_fails_at_run),
        cmocka_unit_test(cast_float_int64_both_ways),
        cmocka_unit_test(cast_float16_bool_and_narrow_ints),
        cmocka_unit_test(cast_opset1_string_and_errors),
        cmocka_unit_test(expand_broadcasts_both_ways),
        cmocka_unit_test(constant_of_shape_values),
        cmocka_unit_test(large_tensors_with_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
