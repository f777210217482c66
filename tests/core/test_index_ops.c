/*
 * ArgMax/ArgMin and TopK (ops/core/argtopk.c), Trilu, EyeLike, OneHot and
 * Range (ops/core/generate.c), NonZero, Compress and Unique
 * (ops/core/select.c): the rules the official folders do not reach (ties,
 * NaN, select_last_index, negative indices, exact integer counts, k beyond
 * the matrix, value-derived sizes and their limits, fed value inputs that
 * force eager planning). Expected values are worked out by hand from the
 * spec's definitions (the NumPy expressions in ONNX's test generators) and
 * written as literals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "builder.h"
#include "harness.h"

#define D1(n) ((int64_t[]){n})
#define D2(a, b) ((int64_t[]){a, b})

/* A node `op` reading in[0..n) and writing outs[0..n_out) of types odt. */
static tb_node *node(th_run *r, tb_model *b, const char *op, int n, const th_tensor *in, int n_out,
                     const char *const *outs, const onnorm_dtype *odt)
{
    const char *names[8];
    for (int i = 0; i < n; i++) {
        th_add(r, b, in[i]);
        names[i] = in[i].name;
    }
    tb_node *nd = tb_node_add(b, op, "n", n, names, n_out, outs);
    for (int i = 0; i < n_out; i++)
        tb_output(b, outs[i], odt[i]);
    return nd;
}

static void expect_i64(th_run *r, const char *name, int rank, const int64_t *dims,
                       const int64_t *want, int64_t n)
{
    const int64_t *got = th_output(r, name, ONNORM_INT64, rank, dims);
    for (int64_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

/* ---- ArgMax / ArgMin ----------------------------------------------------------- */

static void arg_run(const char *op, int opset, onnorm_dtype dt, const void *x, int64_t axis,
                    int keepdims, int last, int orank, const int64_t *odims, const int64_t *want,
                    int64_t n)
{
    th_run r;
    tb_model *b = th_new(&r, opset);
    th_tensor in = th_in("X", dt, 2, D2(2, 3), x);
    tb_node *nd = node(&r, b, op, 1, &in, 1, (const char *[]){"Y"}, (onnorm_dtype[]){ONNORM_INT64});
    tb_attr_int(nd, "axis", axis);
    tb_attr_int(nd, "keepdims", keepdims);
    if (last >= 0) tb_attr_int(nd, "select_last_index", last);
    th_ok(&r, th_go(&r, b, 0), op);
    expect_i64(&r, "Y", orank, odims, want, n);
    th_free(&r);
}

static void argmax_argmin_ties_and_last_index(void **state)
{
    (void)state;
    const int32_t xi[6] = {2, 5, 5, 7, 7, 1};
    arg_run("ArgMax", 13, ONNORM_INT32, xi, 1, 0, 0, 1, D1(2), (int64_t[]){1, 0}, 2);
    arg_run("ArgMax", 13, ONNORM_INT32, xi, -1, 0, 1, 1, D1(2), (int64_t[]){2, 1}, 2);
    const uint8_t xu[6] = {2, 5, 5, 7, 1, 5};
    arg_run("ArgMin", 12, ONNORM_UINT8, xu, -2, 1, 0, 2, D2(1, 3), (int64_t[]){0, 1, 0}, 3);
    arg_run("ArgMin", 12, ONNORM_UINT8, xu, -2, 1, 1, 2, D2(1, 3), (int64_t[]){0, 1, 1}, 3);
    /* opset 1 has no select_last_index: first index */
    arg_run("ArgMin", 1, ONNORM_UINT8, xu, 0, 0, -1, 1, D1(3), (int64_t[]){0, 1, 0}, 3);
}

static void argmax_argmin_nan_wins(void **state)
{
    (void)state;
    const double x[6] = {1, NAN, 5, NAN, -2, 3};
    /* rows [1, NaN, 5] and [NaN, -2, 3]: NaN's position, first or last */
    arg_run("ArgMax", 13, ONNORM_DOUBLE, x, 1, 0, 0, 1, D1(2), (int64_t[]){1, 0}, 2);
    arg_run("ArgMin", 13, ONNORM_DOUBLE, x, 1, 0, 0, 1, D1(2), (int64_t[]){1, 0}, 2);
    const double y[6] = {NAN, 1, NAN, 0, 0, 0};
    arg_run("ArgMax", 13, ONNORM_DOUBLE, y, 1, 0, 1, 1, D1(2), (int64_t[]){2, 2}, 2);
}

/* ---- TopK ----------------------------------------------------------------------- */

static void topk_run(th_run *r, int opset, const float *x, int64_t n, int64_t k, int largest,
                     onnorm_status want)
{
    tb_model *b = th_new(r, opset);
    th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 1, D1(n), x),
                       th_const("K", ONNORM_INT64, 1, D1(1), &k)};
    tb_node *nd = node(r, b, "TopK", 2, in, 2, (const char *[]){"V", "I"},
                       (onnorm_dtype[]){ONNORM_FLOAT, ONNORM_INT64});
    if (largest >= 0) tb_attr_int(nd, "largest", largest);
    if (want == ONNORM_OK)
        th_ok(r, th_go(r, b, 0), "TopK");
    else
        th_go_fails(r, b, 0, want, "outside");
}

static void topk_ties_take_lower_index(void **state)
{
    (void)state;
    th_run r;
    const float x[5] = {3, 1, 3, 2, 3};
    topk_run(&r, 11, x, 5, 2, 1, ONNORM_OK);
    th_expect_output(&r, "topk", "V", ONNORM_FLOAT, 1, D1(2), (double[]){3, 3}, 0);
    expect_i64(&r, "I", 1, D1(2), (int64_t[]){0, 2}, 2);
    th_free(&r);
    topk_run(&r, 11, x, 5, 3, 0, ONNORM_OK);
    th_expect_output(&r, "topk", "V", ONNORM_FLOAT, 1, D1(3), (double[]){1, 2, 3}, 0);
    expect_i64(&r, "I", 1, D1(3), (int64_t[]){1, 3, 0}, 3);
    th_free(&r);
    const float y[4] = {1, NAN, 3, -1}; /* NaN ranks above every number */
    topk_run(&r, 10, y, 4, 2, -1, ONNORM_OK);
    th_expect_output(&r, "topk", "V", ONNORM_FLOAT, 1, D1(2), (double[]){NAN, 3}, 0);
    expect_i64(&r, "I", 1, D1(2), (int64_t[]){1, 2}, 2);
    th_free(&r);
    topk_run(&r, 11, x, 5, 0, 1, ONNORM_OK); /* k = 0: empty outputs */
    th_output(&r, "V", ONNORM_FLOAT, 1, D1(0));
    th_free(&r);
    topk_run(&r, 11, x, 5, 6, 1, ONNORM_ERR_INVALID);
    topk_run(&r, 11, x, 5, -1, 1, ONNORM_ERR_INVALID);
}

/* K fed at run: the session cannot plan TopK's output shape ahead and runs
 * eagerly; a second run with another K gives another shape. */
static void topk_fed_k_replans(void **state)
{
    (void)state;
    th_run r;
    const float x[6] = {4, 9, 1, 9, 0, 7};
    int64_t k = 2;
    tb_model *b = th_new(&r, 11);
    th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 2, D2(2, 3), x),
                       th_in("K", ONNORM_INT64, 1, D1(1), &k)};
    tb_node *nd = node(&r, b, "TopK", 2, in, 2, (const char *[]){"V", "I"},
                       (onnorm_dtype[]){ONNORM_FLOAT, ONNORM_INT64});
    tb_attr_int(nd, "axis", 0);
    tb_attr_int(nd, "largest", 0);
    th_ok(&r, th_go(&r, b, 0), "TopK fed k");
    /* columns [4, 9], [9, 0], [1, 7]; smallest first, both rows */
    th_expect_output(&r, "topk", "V", ONNORM_FLOAT, 2, D2(2, 3), (double[]){4, 0, 1, 9, 9, 7}, 0);
    expect_i64(&r, "I", 2, D2(2, 3), (int64_t[]){0, 1, 0, 1, 0, 1}, 6);
    const int64_t k1 = 1;
    th_tensor again[2] = {in[0], th_in("K", ONNORM_INT64, 1, D1(1), &k1)};
    th_ok(&r, th_rerun(&r, 2, again), "TopK rerun");
    th_expect_output(&r, "topk", "V", ONNORM_FLOAT, 2, D2(1, 3), (double[]){4, 0, 1}, 0);
    th_free(&r);
}

/* ---- Range --------------------------------------------------------------------- */

static onnorm_status range_run(th_run *r, onnorm_dtype dt, const void *s, const void *l,
                               const void *d, bool fed)
{
    tb_model *b = th_new(r, 11);
    th_tensor in[3] = {th_in("s", dt, 0, NULL, s), th_in("l", dt, 0, NULL, l),
                       th_in("d", dt, 0, NULL, d)};
    for (int i = 0; i < 3; i++)
        in[i].constant = !fed;
    node(r, b, "Range", 3, in, 1, (const char *[]){"Y"}, (onnorm_dtype[]){dt});
    return th_go(r, b, 0);
}

static void range_counts_and_limits(void **state)
{
    (void)state;
    th_run r;
    const float fs = 0, fl = 1, fd = 0.25f;
    TH_OK(&r, range_run(&r, ONNORM_FLOAT, &fs, &fl, &fd, true)); /* fed: eager planning */
    th_expect_output(&r, "range", "Y", ONNORM_FLOAT, 1, D1(4), (double[]){0, 0.25, 0.5, 0.75}, 0);
    th_free(&r);
    /* ceil((2^64 - 1) / (2^63 - 1)) = 3, with no int64 overflow on the way */
    const int64_t s = INT64_MIN, l = INT64_MAX, d = INT64_MAX;
    TH_OK(&r, range_run(&r, ONNORM_INT64, &s, &l, &d, false));
    expect_i64(&r, "Y", 1, D1(3), (int64_t[]){INT64_MIN, -1, INT64_MAX - 1}, 3);
    th_free(&r);
    const int32_t a = 10, z = 10, m = -3; /* limit == start: empty */
    TH_OK(&r, range_run(&r, ONNORM_INT32, &a, &z, &m, true));
    th_output(&r, "Y", ONNORM_INT32, 1, D1(0));
    th_free(&r);
    const int32_t up = 20; /* wrong direction: empty */
    TH_OK(&r, range_run(&r, ONNORM_INT32, &a, &up, &m, true));
    th_output(&r, "Y", ONNORM_INT32, 1, D1(0));
    th_free(&r);
}

static void range_refuses_absurd_counts(void **state)
{
    (void)state;
    th_run r;
    const int64_t big = (int64_t)1 << 40, one = 1, zero = 0;
    th_expect_status(&r, range_run(&r, ONNORM_INT64, &zero, &big, &one, true), TH_ANY_ERROR,
                     "limit for sizes computed from input values");
    th_free(&r);
    th_expect_status(&r, range_run(&r, ONNORM_INT64, &zero, &big, &zero, false), TH_ANY_ERROR,
                     "delta is 0");
    th_free(&r);
    const double ds = 0, dl = INFINITY, dd = 1;
    th_expect_status(&r, range_run(&r, ONNORM_DOUBLE, &ds, &dl, &dd, true), TH_ANY_ERROR,
                     "not a finite");
    th_free(&r);
}

/* ---- OneHot ------------------------------------------------------------------------ */

static onnorm_status onehot_run(th_run *r, int opset, const int64_t *idx, float depth, int64_t axis)
{
    tb_model *b = th_new(r, opset);
    const int32_t vals[2] = {0, 5};
    th_tensor in[3] = {th_in("I", ONNORM_INT64, 1, D1(3), idx),
                       th_in("D", ONNORM_FLOAT, 0, NULL, &depth),
                       th_const("V", ONNORM_INT32, 1, D1(2), vals)};
    tb_node *nd =
        node(r, b, "OneHot", 3, in, 1, (const char *[]){"Y"}, (onnorm_dtype[]){ONNORM_INT32});
    tb_attr_int(nd, "axis", axis);
    return th_go(r, b, 0);
}

static void onehot_negative_and_out_of_range(void **state)
{
    (void)state;
    th_run r;
    const int64_t idx[3] = {-1, 3, 1};
    TH_OK(&r, onehot_run(&r, 11, idx, 3.7f, -1)); /* depth truncates to 3 */
    th_expect_output(&r, "onehot", "Y", ONNORM_INT32, 2, D2(3, 3),
                     (double[]){0, 0, 5, 0, 0, 0, 0, 5, 0}, 0);
    th_free(&r);
    TH_OK(&r, onehot_run(&r, 11, idx, 3, 0)); /* depth first: the transpose */
    th_expect_output(&r, "onehot", "Y", ONNORM_INT32, 2, D2(3, 3),
                     (double[]){0, 0, 0, 0, 0, 5, 5, 0, 0}, 0);
    th_free(&r);
    TH_OK(&r, onehot_run(&r, 9, idx, 3, -1)); /* opset 9: negative is out of range */
    th_expect_output(&r, "onehot", "Y", ONNORM_INT32, 2, D2(3, 3),
                     (double[]){0, 0, 0, 0, 0, 0, 0, 5, 0}, 0);
    th_free(&r);
    th_expect_status(&r, onehot_run(&r, 11, idx, 1e12f, -1), TH_ANY_ERROR, "OneHot output");
    th_free(&r);
    th_expect_status(&r, onehot_run(&r, 11, idx, 0, -1), TH_ANY_ERROR, "positive");
    th_free(&r);
}

/* ---- Trilu, EyeLike ------------------------------------------------------------------ */

static void trilu_run(th_run *r, int upper, int64_t k, const int32_t *x)
{
    tb_model *b = th_new(r, 14);
    th_tensor in[2] = {th_in("X", ONNORM_INT32, 3, (int64_t[]){2, 2, 3}, x),
                       th_in("k", ONNORM_INT64, 0, NULL, &k)};
    tb_node *nd =
        node(r, b, "Trilu", 2, in, 1, (const char *[]){"Y"}, (onnorm_dtype[]){ONNORM_INT32});
    tb_attr_int(nd, "upper", upper);
    th_ok(r, th_go(r, b, 0), "Trilu");
}

static void trilu_batches_and_far_k(void **state)
{
    (void)state;
    th_run r;
    const int32_t x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const int64_t dims[3] = {2, 2, 3};
    trilu_run(&r, 0, -1, x);
    th_expect_output(&r, "tril", "Y", ONNORM_INT32, 3, dims,
                     (double[]){0, 0, 0, 4, 0, 0, 0, 0, 0, 10, 0, 0}, 0);
    th_free(&r);
    trilu_run(&r, 1, 1, x);
    th_expect_output(&r, "triu", "Y", ONNORM_INT32, 3, dims,
                     (double[]){0, 2, 3, 0, 0, 6, 0, 8, 9, 0, 0, 12}, 0);
    th_free(&r);
    trilu_run(&r, 1, INT64_MAX, x);
    th_expect_output(&r, "triu far", "Y", ONNORM_INT32, 3, dims,
                     (double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0);
    th_free(&r);
    trilu_run(&r, 1, INT64_MIN, x);
    th_expect_output(&r, "triu all", "Y", ONNORM_INT32, 3, dims,
                     (double[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0);
    th_free(&r);
}

static void eyelike_k_and_dtype(void **state)
{
    (void)state;
    th_run r;
    const float x[6] = {0};
    tb_model *b = th_new(&r, 9);
    th_tensor in = th_in("X", ONNORM_FLOAT, 2, D2(3, 2), x);
    tb_node *nd =
        node(&r, b, "EyeLike", 1, &in, 1, (const char *[]){"Y"}, (onnorm_dtype[]){ONNORM_INT32});
    tb_attr_int(nd, "k", -1);
    tb_attr_int(nd, "dtype", ONNORM_INT32);
    th_ok(&r, th_go(&r, b, 0), "EyeLike");
    th_expect_output(&r, "eyelike", "Y", ONNORM_INT32, 2, D2(3, 2), (double[]){0, 0, 1, 0, 0, 1},
                     0);
    th_free(&r);
}

/* ---- NonZero, Compress, Unique ----------------------------------------------------------- */

static void nonzero_nan_and_negative_zero(void **state)
{
    (void)state;
    th_run r;
    const float x[4] = {0.0f, -0.0f, NAN, 2.0f};
    tb_model *b = th_new(&r, 13);
    th_tensor in = th_in("X", ONNORM_FLOAT, 2, D2(2, 2), x);
    node(&r, b, "NonZero", 1, &in, 1, (const char *[]){"Y"}, (onnorm_dtype[]){ONNORM_INT64});
    th_ok(&r, th_go(&r, b, 0), "NonZero");
    expect_i64(&r, "Y", 2, D2(2, 2), (int64_t[]){1, 1, 0, 1}, 4);
    th_free(&r);
}

static onnorm_status compress_run(th_run *r, const uint8_t *cond, int64_t n)
{
    const float x[6] = {1, 2, 3, 4, 5, 6};
    tb_model *b = th_new(r, 11);
    th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 2, D2(2, 3), x),
                       th_in("C", ONNORM_BOOL, 1, D1(n), cond)};
    tb_node *nd =
        node(r, b, "Compress", 2, in, 1, (const char *[]){"Y"}, (onnorm_dtype[]){ONNORM_FLOAT});
    tb_attr_int(nd, "axis", -1);
    return th_go(r, b, 0);
}

static void compress_short_and_long_conditions(void **state)
{
    (void)state;
    th_run r;
    TH_OK(&r, compress_run(&r, (uint8_t[]){0, 1}, 2)); /* shorter: the rest is dropped */
    th_expect_output(&r, "compress", "Y", ONNORM_FLOAT, 2, D2(2, 1), (double[]){2, 5}, 0);
    th_free(&r);
    TH_OK(&r, compress_run(&r, (uint8_t[]){1, 0, 1, 0, 0}, 5)); /* false past the end is fine */
    th_expect_output(&r, "compress", "Y", ONNORM_FLOAT, 2, D2(2, 2), (double[]){1, 3, 4, 6}, 0);
    th_free(&r);
    th_expect_status(&r, compress_run(&r, (uint8_t[]){1, 0, 0, 1}, 4), TH_ANY_ERROR,
                     "condition[3] is true");
    th_free(&r);
}

static void unique_run(th_run *r, int sorted, const double *x, int64_t n)
{
    tb_model *b = th_new(r, 11);
    th_tensor in = th_in("X", ONNORM_DOUBLE, 1, D1(n), x);
    tb_node *nd = node(r, b, "Unique", 1, &in, 4, (const char *[]){"Y", "I", "V", "C"},
                       (onnorm_dtype[]){ONNORM_DOUBLE, ONNORM_INT64, ONNORM_INT64, ONNORM_INT64});
    tb_attr_int(nd, "sorted", sorted);
    th_ok(r, th_go(r, b, 0), "Unique");
}

static void unique_nan_zero_and_order(void **state)
{
    (void)state;
    th_run r;
    const double x[7] = {2, NAN, 0.0, -0.0, NAN, 2, 1};
    unique_run(&r, 1, x, 7);
    th_expect_output(&r, "unique", "Y", ONNORM_DOUBLE, 1, D1(4), (double[]){0, 1, 2, NAN}, 0);
    expect_i64(&r, "I", 1, D1(4), (int64_t[]){2, 6, 0, 1}, 4);
    expect_i64(&r, "V", 1, D1(7), (int64_t[]){2, 3, 0, 0, 3, 2, 1}, 7);
    expect_i64(&r, "C", 1, D1(4), (int64_t[]){2, 1, 2, 2}, 4);
    th_free(&r);
    unique_run(&r, 0, x, 7);
    th_expect_output(&r, "unique", "Y", ONNORM_DOUBLE, 1, D1(4), (double[]){2, NAN, 0, 1}, 0);
    expect_i64(&r, "I", 1, D1(4), (int64_t[]){0, 1, 2, 6}, 4);
    expect_i64(&r, "V", 1, D1(7), (int64_t[]){0, 1, 2, 2, 1, 0, 3}, 7);
    expect_i64(&r, "C", 1, D1(4), (int64_t[]){2, 2, 2, 1}, 4);
    th_free(&r);
    unique_run(&r, 1, x, 0); /* empty */
    th_output(&r, "Y", ONNORM_DOUBLE, 1, D1(0));
    th_free(&r);
}

static void half_types_and_bad_inputs(void **state)
{
    (void)state;
    th_run r;
    /* float16 rows [1, 2, -inf] and [0.5, -2, 2]: ArgMax 1 and 2 */
    const uint16_t h[6] = {0x3C00, 0x4000, 0xFC00, 0x3800, 0xC000, 0x4000};
    arg_run("ArgMax", 13, ONNORM_FLOAT16, h, 1, 0, 0, 1, D1(2), (int64_t[]){1, 2}, 2);
    /* bfloat16 TopK: [1, 3, -1, 3] largest 2 -> 3 (index 1), 3 (index 3) */
    const uint16_t bf[4] = {0x3F80, 0x4040, 0xBF80, 0x4040};
    const int64_t k = 2;
    tb_model *b = th_new(&r, 11);
    th_tensor in[2] = {th_in("X", ONNORM_BFLOAT16, 1, D1(4), bf),
                       th_const("K", ONNORM_INT64, 1, D1(1), &k)};
    node(&r, b, "TopK", 2, in, 2, (const char *[]){"V", "I"},
         (onnorm_dtype[]){ONNORM_BFLOAT16, ONNORM_INT64});
    th_ok(&r, th_go(&r, b, 0), "TopK bfloat16");
    const uint16_t *v = th_output(&r, "V", ONNORM_BFLOAT16, 1, D1(2));
    assert_int_equal(v[0], 0x4040);
    assert_int_equal(v[1], 0x4040);
    expect_i64(&r, "I", 1, D1(2), (int64_t[]){1, 3}, 2);
    th_free(&r);

    /* ArgMax over an empty axis has no answer */
    const float none[1] = {0};
    b = th_new(&r, 13);
    th_tensor e = th_in("X", ONNORM_FLOAT, 2, D2(2, 0), none);
    tb_node *nd =
        node(&r, b, "ArgMax", 1, &e, 1, (const char *[]){"Y"}, (onnorm_dtype[]){ONNORM_INT64});
    tb_attr_int(nd, "axis", 1);
    th_go_fails(&r, b, 0, TH_ANY_ERROR, "length 0");

    /* Trilu's k must be int64 */
    const int32_t x[4] = {1, 2, 3, 4}, k32 = 0;
    b = th_new(&r, 14);
    th_tensor t[2] = {th_in("X", ONNORM_INT32, 2, D2(2, 2), x),
                      th_const("k", ONNORM_INT32, 0, NULL, &k32)};
    node(&r, b, "Trilu", 2, t, 1, (const char *[]){"Y"}, (onnorm_dtype[]){ONNORM_INT32});
    th_go_fails(&r, b, 0, TH_ANY_ERROR, "'k'");

    /* OneHot's depth may not be NaN */
    th_expect_status(&r, onehot_run(&r, 11, (int64_t[]){0, 1, 2}, NAN, -1), TH_ANY_ERROR,
                     "positive");
    th_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(argmax_argmin_ties_and_last_index),
        cmocka_unit_test(argmax_argmin_nan_wins),
        cmocka_unit_test(topk_ties_take_lower_index),
        cmocka_unit_test(topk_fed_k_replans),
        cmocka_unit_test(range_counts_and_limits),
        cmocka_unit_test(range_refuses_absurd_counts),
        cmocka_unit_test(onehot_negative_and_out_of_range),
        cmocka_unit_test(trilu_batches_and_far_k),
        cmocka_unit_test(eyelike_k_and_dtype),
        cmocka_unit_test(nonzero_nan_and_negative_zero),
        cmocka_unit_test(compress_short_and_long_conditions),
        cmocka_unit_test(unique_nan_zero_and_order),
        cmocka_unit_test(half_types_and_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
