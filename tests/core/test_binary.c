/* Broadcasting binary and variadic ops (ops/core/binary.c) through the public
 * API: Add, Sub, Mul, Div, Pow, Equal, Where, Sum, Mean, Max, Min.
 * Expected values come from naive loops over the result's multi-index,
 * written here independently of ops/core/broadcast.c. */
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

/* ---- helpers ---------------------------------------------------------------- */

/* Runs op and asserts success and the output's type and shape; returns Y. */
static const void *run_ok(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                          onnorm_dtype ydt, int rank, const int64_t *dims, int threads)
{
    th_ok(r, th_go(r, th_node_model(r, opset, op, n, in, ydt, NULL), threads), op);
    return th_output(r, "Y", ydt, rank, dims);
}

/* Runs op and asserts it fails with `code`. */
static void run_fails(int64_t opset, const char *op, int n, const th_tensor *in, onnorm_dtype ydt,
                      onnorm_status code)
{
    th_run r;
    th_go_fails(&r, th_node_model(&r, opset, op, n, in, ydt, NULL), 1, code, NULL);
}

/* ---- naive broadcasting ----------------------------------------------------- */

static int64_t numel(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

/* Flat index into an operand of shape (rank, dims) for result element `flat`
 * of shape (R, out): unravel, drop leading dims, clamp stretched dims to 0. */
static int64_t src_index(int64_t flat, int R, const int64_t *out, int rank, const int64_t *dims)
{
    int64_t idx[ONNORM_MAX_RANK];
    for (int d = R - 1; d >= 0; d--) {
        idx[d] = flat % out[d];
        flat /= out[d];
    }
    int64_t off = 0;
    for (int d = 0; d < rank; d++)
        off = off * dims[d] + (dims[d] == 1 ? 0 : idx[R - rank + d]);
    return off;
}

static void fill_f32(float *v, int64_t n, int seed, bool nonzero)
{
    for (int64_t i = 0; i < n; i++) {
        v[i] = (float)(((i * 7 + seed * 3) % 13) - 6) * 0.25f + 0.125f * (float)seed;
        if (nonzero && v[i] == 0) v[i] = 0.5f;
    }
}

static float apply_f32(const char *op, float a, float b)
{
    if (!strcmp(op, "Add")) return a + b;
    if (!strcmp(op, "Sub")) return a - b;
    if (!strcmp(op, "Mul")) return a * b;
    return a / b;
}

/* op(A, B) for float A of shape (ra, da) and B of (rb, db), against the
 * naive result of shape (ry, dy). Operands are constants when `fold`. */
static void check_f32(const char *op, int ra, const int64_t *da, int rb, const int64_t *db, int ry,
                      const int64_t *dy, bool fold, int threads)
{
    const int64_t na = numel(ra, da), nb = numel(rb, db), ny = numel(ry, dy);
    float *a = malloc((size_t)(na ? na : 1) * sizeof *a),
          *b = malloc((size_t)(nb ? nb : 1) * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    fill_f32(a, na, 1, false);
    fill_f32(b, nb, 2, true);
    th_tensor in[2] = {{"A", ONNORM_FLOAT, ra, {0}, a, fold},
                       {"B", ONNORM_FLOAT, rb, {0}, b, fold}};
    for (int i = 0; i < ra; i++)
        in[0].dims[i] = da[i];
    for (int i = 0; i < rb; i++)
        in[1].dims[i] = db[i];
    th_run r;
    const float *y = run_ok(&r, 14, op, 2, in, ONNORM_FLOAT, ry, dy, threads);
    for (int64_t i = 0; i < ny; i++) {
        float want =
            apply_f32(op, a[src_index(i, ry, dy, ra, da)], b[src_index(i, ry, dy, rb, db)]);
        if (y[i] != want)
            fail_msg("%s element %lld: got %g, want %g", op, (long long)i, y[i], want);
    }
    th_free(&r);
    free(a);
    free(b);
}

/* ---- tests -------------------------------------------------------------------- */

static void broadcast_shapes(void **state)
{
    (void)state;
    static const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    const int64_t A[3] = {2, 3, 4};
    struct {
        int rank;
        int64_t dims[3];
    } bs[] = {
        {1, {4}}, {2, {3, 1}}, {1, {1}}, {3, {2, 1, 4}}, {0, {0}}, {3, {2, 3, 4}}, {3, {1, 1, 1}},
    };
    for (size_t o = 0; o < 4; o++)
        for (size_t k = 0; k < sizeof bs / sizeof bs[0]; k++)
            for (int fold = 0; fold < 2; fold++) {
                /* Both orders: the repeated operand on either side. */
                check_f32(ops[o], 3, A, bs[k].rank, bs[k].dims, 3, A, fold, 1);
                check_f32(ops[o], bs[k].rank, bs[k].dims, 3, A, 3, A, fold, 1);
            }
}

static void broadcast_multidirectional(void **state)
{
    (void)state;
    /* [2,1,4] with [3,1] -> [2,3,4]; [3,1] with [1,5] -> [3,5]; rank 0 both. */
    check_f32("Add", 3, (int64_t[]){2, 1, 4}, 2, (int64_t[]){3, 1}, 3, (int64_t[]){2, 3, 4}, false,
              1);
    check_f32("Sub", 2, (int64_t[]){3, 1}, 2, (int64_t[]){1, 5}, 2, (int64_t[]){3, 5}, false, 1);
    check_f32("Mul", 0, NULL, 0, NULL, 0, NULL, false, 1);
    check_f32("Div", 0, NULL, 0, NULL, 0, NULL, true, 1);
    /* Zero-size dims broadcast with 1. */
    check_f32("Add", 2, (int64_t[]){0, 3}, 2, (int64_t[]){1, 3}, 2, (int64_t[]){0, 3}, false, 1);
}

static void broadcast_per_channel_threads(void **state)
{
    (void)state;
    /* Large enough to split over threads mid-row; [C,1,1] against NCHW. */
    const int64_t x[4] = {2, 8, 48, 50}, c[3] = {8, 1, 1}, row[1] = {50}, col[4] = {2, 1, 48, 1};
    check_f32("Add", 4, x, 3, c, 4, x, false, 4);
    check_f32("Mul", 3, c, 4, x, 4, x, false, 3);
    check_f32("Sub", 4, x, 1, row, 4, x, false, 4);
    check_f32("Div", 4, x, 4, col, 4, x, false, 4);
    check_f32("Add", 4, x, 4, x, 4, x, false, 4);
}

static void float64_arith(void **state)
{
    (void)state;
    const double a[3] = {1.5, -2.25, 1e300}, b[1] = {3.0};
    th_tensor in[2] = {{"A", ONNORM_DOUBLE, 1, {3}, a, false},
                       {"B", ONNORM_DOUBLE, 0, {0}, b, false}};
    static const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    for (int o = 0; o < 4; o++) {
        th_run r;
        const double *y = run_ok(&r, 13, ops[o], 2, in, ONNORM_DOUBLE, 1, (int64_t[]){3}, 1);
        for (int i = 0; i < 3; i++) {
            double want = o == 0 ? a[i] + 3 : o == 1 ? a[i] - 3 : o == 2 ? a[i] * 3 : a[i] / 3;
            assert_true(y[i] == want);
        }
        th_free(&r);
    }
}

static void int64_arith(void **state)
{
    (void)state;
    const int64_t a[6] = {7, -7, 7, -7, INT64_MIN, INT64_MAX};
    const int64_t b[6] = {2, 2, -2, 0, -1, 1};
    th_tensor in[2] = {{"A", ONNORM_INT64, 1, {6}, a, false},
                       {"B", ONNORM_INT64, 1, {6}, b, false}};
    /* Div truncates toward zero (C, numpy's trunc-cast reference, onnxruntime);
     * x / 0 = 0 and INT64_MIN / -1 wraps, by onnorm's definition. */
    const int64_t add[6] = {9, -5, 5, -7, INT64_MAX, INT64_MIN};
    const int64_t sub[6] = {5, -9, 9, -7, INT64_MIN + 1, INT64_MAX - 1};
    const int64_t mul[6] = {14, -14, -14, 0, INT64_MIN, INT64_MAX};
    const int64_t div[6] = {3, -3, -3, 0, INT64_MIN, INT64_MAX};
    const int64_t *want[4] = {add, sub, mul, div};
    static const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    for (int o = 0; o < 4; o++) {
        th_run r;
        const void *yv = run_ok(&r, 14, ops[o], 2, in, ONNORM_INT64, 1, (int64_t[]){6}, 1);
        for (int i = 0; i < 6; i++)
            if (((const int64_t *)yv)[i] != want[o][i])
                fail_msg("%s[%d]: got %lld, want %lld", ops[o], i,
                         (long long)((const int64_t *)yv)[i], (long long)want[o][i]);
        th_free(&r);
    }
}

static void int32_and_shape_arithmetic_folds(void **state)
{
    (void)state;
    /* Shape arithmetic on constants: folded at load, so no run-time buffer. */
    const int64_t shape[4] = {1, 3, 224, 224}, two[1] = {2};
    th_tensor in[2] = {{"S", ONNORM_INT64, 1, {4}, shape, true},
                       {"K", ONNORM_INT64, 0, {0}, two, true}};
    th_run r;
    const void *yv = run_ok(&r, 13, "Div", 2, in, ONNORM_INT64, 1, (int64_t[]){4}, 1);
    const int64_t want[4] = {0, 1, 112, 112};
    for (int i = 0; i < 4; i++)
        assert_int_equal(((const int64_t *)yv)[i], want[i]);
    size_t arena, stat;
    assert_int_equal(onnorm_session_memory(r.s, &arena, &stat, NULL), ONNORM_OK);
    (void)stat;
    assert_int_equal(arena, 0);
    th_free(&r);

    const int32_t a[4] = {-9, 9, INT32_MAX, 100}, b[2] = {4, -4};
    th_tensor i32[2] = {{"A", ONNORM_INT32, 2, {2, 2}, a, false},
                        {"B", ONNORM_INT32, 1, {2}, b, false}};
    yv = run_ok(&r, 14, "Div", 2, i32, ONNORM_INT32, 2, (int64_t[]){2, 2}, 1);
    const int32_t wdiv[4] = {-2, -2, INT32_MAX / 4, -25};
    for (int i = 0; i < 4; i++)
        assert_int_equal(((const int32_t *)yv)[i], wdiv[i]);
    th_free(&r);
    yv = run_ok(&r, 14, "Mul", 2, i32, ONNORM_INT32, 2, (int64_t[]){2, 2}, 1);
    const int32_t wmul[4] = {-36, -36, (int32_t)((uint32_t)INT32_MAX * 4u), -400};
    for (int i = 0; i < 4; i++)
        assert_int_equal(((const int32_t *)yv)[i], wmul[i]);
    th_free(&r);
}

static void equal_outputs_bool(void **state)
{
    (void)state;
    const float a[6] = {1, 2, 3, 4, NAN, 6}, b[3] = {1, 5, 6};
    th_tensor in[2] = {{"A", ONNORM_FLOAT, 2, {2, 3}, a, false},
                       {"B", ONNORM_FLOAT, 1, {3}, b, false}};
    th_run r;
    const void *yv = run_ok(&r, 13, "Equal", 2, in, ONNORM_BOOL, 2, (int64_t[]){2, 3}, 1);
    const uint8_t want[6] = {1, 0, 0, 0, 0, 1};
    assert_memory_equal(yv, want, 6);
    th_free(&r);

    const int64_t c[3] = {3, -1, 3}, d[1] = {3};
    th_tensor in64[2] = {{"A", ONNORM_INT64, 1, {3}, c, false},
                         {"B", ONNORM_INT64, 0, {0}, d, true}};
    yv = run_ok(&r, 11, "Equal", 2, in64, ONNORM_BOOL, 1, (int64_t[]){3}, 1);
    const uint8_t w64[3] = {1, 0, 1};
    assert_memory_equal(yv, w64, 3);
    th_free(&r);

    const uint8_t p[4] = {0, 1, 1, 0}, q[2] = {0, 1};
    th_tensor inb[2] = {{"A", ONNORM_BOOL, 2, {2, 2}, p, false},
                        {"B", ONNORM_BOOL, 1, {2}, q, false}};
    yv = run_ok(&r, 11, "Equal", 2, inb, ONNORM_BOOL, 2, (int64_t[]){2, 2}, 1);
    const uint8_t wb[4] = {1, 1, 0, 0};
    assert_memory_equal(yv, wb, 4);
    th_free(&r);
}

static void where_broadcasts_three_ways(void **state)
{
    (void)state;
    const uint8_t c[2] = {1, 0};
    const int64_t x[3] = {10, 20, 30}, y[1] = {-1};
    th_tensor in[3] = {{"C", ONNORM_BOOL, 2, {2, 1}, c, false},
                       {"X", ONNORM_INT64, 2, {1, 3}, x, false},
                       {"Yv", ONNORM_INT64, 0, {0}, y, false}};
    th_run r;
    const void *yv = run_ok(&r, 16, "Where", 3, in, ONNORM_INT64, 2, (int64_t[]){2, 3}, 1);
    const int64_t want[6] = {10, 20, 30, -1, -1, -1};
    for (int i = 0; i < 6; i++)
        assert_int_equal(((const int64_t *)yv)[i], want[i]);
    th_free(&r);

    /* float, same shapes, large enough for threads */
    enum { N = 70000 };
    uint8_t *cc = malloc(N);
    float *xf = malloc(N * sizeof *xf), *yf = malloc(N * sizeof *yf);
    assert_true(cc && xf && yf);
    for (int i = 0; i < N; i++)
        cc[i] = (uint8_t)(i % 3 == 0), xf[i] = (float)i, yf[i] = -(float)i;
    th_tensor inf[3] = {{"C", ONNORM_BOOL, 1, {N}, cc, false},
                        {"X", ONNORM_FLOAT, 1, {N}, xf, false},
                        {"Yv", ONNORM_FLOAT, 1, {N}, yf, false}};
    yv = run_ok(&r, 9, "Where", 3, inf, ONNORM_FLOAT, 1, (int64_t[]){N}, 4);
    for (int i = 0; i < N; i++)
        assert_true(((const float *)yv)[i] == (i % 3 == 0 ? xf[i] : yf[i]));
    th_free(&r);
    free(cc), free(xf), free(yf);
}

static void variadic_sum_mean_max_min(void **state)
{
    (void)state;
    const float a[6] = {1, -2, 3, 4, 5, -6}, b[3] = {0.5f, 10, -1}, c[1] = {2};
    th_tensor in[3] = {{"A", ONNORM_FLOAT, 2, {2, 3}, a, false},
                       {"B", ONNORM_FLOAT, 1, {3}, b, false},
                       {"C", ONNORM_FLOAT, 0, {0}, c, false}};
    static const char *ops[] = {"Sum", "Mean", "Max", "Min"};
    for (int o = 0; o < 4; o++) {
        th_run r;
        const void *yv = run_ok(&r, 13, ops[o], 3, in, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, 1);
        for (int i = 0; i < 6; i++) {
            float x = a[i], y = b[i % 3], z = c[0], want;
            if (o == 0)
                want = x + y + z;
            else if (o == 1)
                want = (x + y + z) / 3;
            else if (o == 2)
                want = fmaxf(fmaxf(x, y), z);
            else
                want = fminf(fminf(x, y), z);
            assert_float_equal(((const float *)yv)[i], want, 1e-6);
        }
        th_free(&r);
    }
    /* One input: a copy. */
    th_run r;
    const void *yv = run_ok(&r, 8, "Max", 1, in, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, 1);
    assert_memory_equal(yv, a, sizeof a);
    th_free(&r);
    /* Opset 6 predates broadcasting. */
    run_fails(6, "Sum", 3, in, ONNORM_FLOAT, ONNORM_ERR_SHAPE);
    yv = run_ok(&r, 6, "Sum", 2, (th_tensor[]){in[0], {"D", ONNORM_FLOAT, 2, {2, 3}, a, false}},
                ONNORM_FLOAT, 2, (int64_t[]){2, 3}, 1);
    for (int i = 0; i < 6; i++)
        assert_true(((const float *)yv)[i] == 2 * a[i]);
    th_free(&r);
}

static void max_min_ints_and_nan(void **state)
{
    (void)state;
    const int64_t a[3] = {INT64_MIN, 5, -3}, b[3] = {0, INT64_MAX, -4};
    th_tensor in[2] = {{"A", ONNORM_INT64, 1, {3}, a, false},
                       {"B", ONNORM_INT64, 1, {3}, b, false}};
    th_run r;
    const void *yv = run_ok(&r, 13, "Max", 2, in, ONNORM_INT64, 1, (int64_t[]){3}, 1);
    const int64_t wmax[3] = {0, INT64_MAX, -3};
    for (int i = 0; i < 3; i++)
        assert_int_equal(((const int64_t *)yv)[i], wmax[i]);
    th_free(&r);
    yv = run_ok(&r, 13, "Min", 2, in, ONNORM_INT64, 1, (int64_t[]){3}, 1);
    const int64_t wmin[3] = {INT64_MIN, 5, -4};
    for (int i = 0; i < 3; i++)
        assert_int_equal(((const int64_t *)yv)[i], wmin[i]);
    th_free(&r);
    /* NaN wins on either side, like numpy.maximum. */
    const float f[2] = {NAN, 1}, g[2] = {1, NAN};
    th_tensor inf[2] = {{"A", ONNORM_FLOAT, 1, {2}, f, false},
                        {"B", ONNORM_FLOAT, 1, {2}, g, false}};
    yv = run_ok(&r, 13, "Max", 2, inf, ONNORM_FLOAT, 1, (int64_t[]){2}, 1);
    assert_true(isnan(((const float *)yv)[0]) && isnan(((const float *)yv)[1]));
    th_free(&r);
}

static void pow_paths(void **state)
{
    (void)state;
    const float x[5] = {-3, -0.0f, 0.25f, 2, 9};
    const float two[1] = {2}, half[1] = {0.5f}, ex[5] = {2, 3, 0.5f, -1, 1.5f};
    th_tensor in[2] = {{"X", ONNORM_FLOAT, 1, {5}, x, false},
                       {"E", ONNORM_FLOAT, 0, {0}, two, true}};
    th_run r;
    const void *yv = run_ok(&r, 15, "Pow", 2, in, ONNORM_FLOAT, 1, (int64_t[]){5}, 1);
    for (int i = 0; i < 5; i++)
        assert_true(((const float *)yv)[i] == x[i] * x[i]);
    th_free(&r);
    in[1].data = half;
    in[1].rank = 2, in[1].dims[0] = 1, in[1].dims[1] = 1; /* [1,1] operand -> [1,5] */
    yv = run_ok(&r, 15, "Pow", 2, in, ONNORM_FLOAT, 2, (int64_t[]){1, 5}, 1);
    for (int i = 0; i < 5; i++) {
        float want = powf(x[i], 0.5f), got = ((const float *)yv)[i];
        assert_true((isnan(want) && isnan(got)) || (want == got && signbit(want) == signbit(got)));
    }
    th_free(&r);
    th_tensor vv[2] = {{"X", ONNORM_FLOAT, 1, {5}, x, false},
                       {"E", ONNORM_FLOAT, 1, {5}, ex, false}};
    yv = run_ok(&r, 7, "Pow", 2, vv, ONNORM_FLOAT, 1, (int64_t[]){5}, 1);
    for (int i = 0; i < 5; i++) {
        float want = powf(x[i], ex[i]), got = ((const float *)yv)[i];
        assert_true((isnan(want) && isnan(got)) || fabsf(want - got) <= 1e-6f * fabsf(want));
    }
    th_free(&r);
    /* float base, int64 exponent (opset 12+), broadcast */
    const int64_t ie[2] = {2, -1};
    const float xb[4] = {1, 2, 3, 4};
    th_tensor mixed[2] = {{"X", ONNORM_FLOAT, 2, {2, 2}, xb, false},
                          {"E", ONNORM_INT64, 1, {2}, ie, false}};
    yv = run_ok(&r, 12, "Pow", 2, mixed, ONNORM_FLOAT, 2, (int64_t[]){2, 2}, 1);
    const float wmixed[4] = {1, 0.5f, 9, 0.25f};
    for (int i = 0; i < 4; i++)
        assert_float_equal(((const float *)yv)[i], wmixed[i], 1e-7);
    th_free(&r);
    run_fails(11, "Pow", 2, mixed, ONNORM_FLOAT, ONNORM_ERR_DTYPE);
    /* int64 ^ int64 is exact beyond 2^53 */
    const int64_t ib[3] = {3, -2, 7}, iex[3] = {39, 5, 0};
    th_tensor ints[2] = {{"X", ONNORM_INT64, 1, {3}, ib, false},
                         {"E", ONNORM_INT64, 1, {3}, iex, false}};
    yv = run_ok(&r, 15, "Pow", 2, ints, ONNORM_INT64, 1, (int64_t[]){3}, 1);
    const int64_t wints[3] = {4052555153018976267LL, -32, 1};
    for (int i = 0; i < 3; i++)
        assert_int_equal(((const int64_t *)yv)[i], wints[i]);
    th_free(&r);
}

static void errors(void **state)
{
    (void)state;
    const float a[6] = {0}, b[4] = {0};
    const int64_t i[4] = {0};
    th_tensor bad_shape[2] = {{"A", ONNORM_FLOAT, 2, {2, 3}, a, false},
                              {"B", ONNORM_FLOAT, 1, {4}, b, false}};
    run_fails(14, "Add", 2, bad_shape, ONNORM_FLOAT, ONNORM_ERR_SHAPE);
    run_fails(13, "Equal", 2, bad_shape, ONNORM_BOOL, ONNORM_ERR_SHAPE);
    run_fails(13, "Max", 2, bad_shape, ONNORM_FLOAT, ONNORM_ERR_SHAPE);
    th_tensor bad_shape2[2] = {{"A", ONNORM_FLOAT, 2, {3, 2}, a, false},
                               {"B", ONNORM_FLOAT, 2, {2, 2}, b, false}};
    run_fails(14, "Mul", 2, bad_shape2, ONNORM_FLOAT, ONNORM_ERR_SHAPE);
    th_tensor bad_type[2] = {{"A", ONNORM_FLOAT, 1, {4}, b, false},
                             {"B", ONNORM_INT64, 1, {4}, i, false}};
    run_fails(14, "Add", 2, bad_type, ONNORM_FLOAT, ONNORM_ERR_DTYPE);
    run_fails(13, "Equal", 2, bad_type, ONNORM_BOOL, ONNORM_ERR_DTYPE);
    run_fails(13, "Min", 2, bad_type, ONNORM_FLOAT, ONNORM_ERR_DTYPE);
    th_tensor ints[2] = {{"A", ONNORM_INT64, 1, {4}, i, false},
                         {"B", ONNORM_INT64, 1, {4}, i, false}};
    run_fails(13, "Sum", 2, ints, ONNORM_INT64, ONNORM_ERR_DTYPE); /* Sum is float-only */
    /* Where: condition must be bool, X and Y one type, shapes compatible. */
    th_tensor w1[3] = {{"C", ONNORM_FLOAT, 1, {4}, b, false},
                       {"X", ONNORM_FLOAT, 1, {4}, b, false},
                       {"Yv", ONNORM_FLOAT, 1, {4}, b, false}};
    run_fails(16, "Where", 3, w1, ONNORM_FLOAT, ONNORM_ERR_DTYPE);
    const uint8_t c[4] = {0};
    th_tensor w2[3] = {{"C", ONNORM_BOOL, 1, {4}, c, false},
                       {"X", ONNORM_FLOAT, 1, {4}, b, false},
                       {"Yv", ONNORM_INT64, 1, {4}, i, false}};
    run_fails(16, "Where", 3, w2, ONNORM_FLOAT, ONNORM_ERR_DTYPE);
    th_tensor w3[3] = {{"C", ONNORM_BOOL, 1, {4}, c, false},
                       {"X", ONNORM_FLOAT, 2, {2, 3}, a, false},
                       {"Yv", ONNORM_FLOAT, 1, {4}, b, false}};
    run_fails(16, "Where", 3, w3, ONNORM_FLOAT, ONNORM_ERR_SHAPE);
    /* Legacy (opset < 7) broadcasting needs broadcast=1 for unequal shapes. */
    th_tensor suffix[2] = {{"A", ONNORM_FLOAT, 2, {2, 3}, a, false},
                           {"B", ONNORM_FLOAT, 1, {3}, b, false}};
    run_fails(6, "Add", 2, suffix, ONNORM_FLOAT, ONNORM_ERR_SHAPE);
    run_fails(6, "Sub", 2, bad_shape, ONNORM_FLOAT, ONNORM_ERR_SHAPE);
    th_tensor scalar[2] = {{"A", ONNORM_FLOAT, 2, {2, 3}, a, false},
                           {"B", ONNORM_FLOAT, 0, {0}, b, false}};
    run_fails(6, "Mul", 2, scalar, ONNORM_FLOAT, ONNORM_ERR_SHAPE);
}

/* Runs a legacy (opset 6) op with broadcast / axis attributes (axis < -9:
 * absent) and checks it against the naive numpy-style result of A and the
 * given numpy-equivalent B shape. */
static void check_legacy(const char *op, int64_t bcast, int64_t axis, int rb, const int64_t *db,
                         int rn, const int64_t *dn)
{
    const int64_t da[4] = {2, 3, 4, 5};
    float a[120], b[120];
    fill_f32(a, 120, 1, false);
    fill_f32(b, numel(rb, db), 2, true);
    th_tensor in[2] = {{"A", ONNORM_FLOAT, 4, {2, 3, 4, 5}, a, false},
                       {"B", ONNORM_FLOAT, rb, {0}, b, false}};
    for (int i = 0; i < rb; i++)
        in[1].dims[i] = db[i];
    tb_node *n;
    th_run r;
    tb_model *mb = th_node_model(&r, 6, op, 2, in, ONNORM_FLOAT, &n);
    if (bcast >= 0) tb_attr_int(n, "broadcast", bcast);
    if (axis >= -9) tb_attr_int(n, "axis", axis);
    th_ok(&r, th_go(&r, mb, 1), op);
    const void *yv = th_output(&r, "Y", ONNORM_FLOAT, 4, da);
    for (int64_t i = 0; i < 120; i++) {
        float want = apply_f32(op, a[i], b[src_index(i, 4, da, rn, dn)]);
        assert_true(((const float *)yv)[i] == want);
    }
    th_free(&r);
}

static void legacy_broadcast(void **state)
{
    (void)state;
    const int64_t full[4] = {2, 3, 4, 5};
    check_legacy("Add", -1, -99, 4, full, 4, full);             /* equal shapes, no attribute */
    check_legacy("Sub", 1, -99, 0, NULL, 0, NULL);              /* scalar */
    check_legacy("Mul", 1, -99, 2, (int64_t[]){1, 1}, 0, NULL); /* one element */
    check_legacy("Div", 1, -99, 1, (int64_t[]){5}, 1, (int64_t[]){5});
    check_legacy("Add", 1, -99, 2, (int64_t[]){4, 5}, 2, (int64_t[]){4, 5});
    /* axis aligns B's first dim: (3,4) at axis 1 is numpy's (3,4,1) */
    check_legacy("Mul", 1, 1, 2, (int64_t[]){3, 4}, 3, (int64_t[]){3, 4, 1});
    check_legacy("Sub", 1, 0, 1, (int64_t[]){2}, 4, (int64_t[]){2, 1, 1, 1});
    check_legacy("Div", 1, -3, 1, (int64_t[]){3}, 3, (int64_t[]){3, 1, 1});
    /* a 1 inside the aligned run stretches too (PyTorch exports rely on it) */
    check_legacy("Add", 1, 0, 2, (int64_t[]){2, 1}, 4, (int64_t[]){2, 1, 1, 1});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(broadcast_shapes),
        cmocka_unit_test(broadcast_multidirectional),
        cmocka_unit_test(broadcast_per_channel_threads),
        cmocka_unit_test(float64_arith),
        cmocka_unit_test(int64_arith),
        cmocka_unit_test(int32_and_shape_arithmetic_folds),
        cmocka_unit_test(equal_outputs_bool),
        cmocka_unit_test(where_broadcasts_three_ways),
        cmocka_unit_test(variadic_sum_mean_max_min),
        cmocka_unit_test(max_min_ints_and_nan),
        cmocka_unit_test(pow_paths),
        cmocka_unit_test(legacy_broadcast),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
