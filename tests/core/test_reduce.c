/* Reductions (ops/core/reduce.c) and Softmax / LogSoftmax (ops/core/softmax.c)
 * through the public API, against naive double loops written here:
 * axes as attribute (ReduceSum < 13, others < 18) and as input, keepdims,
 * negative axes, noop_with_empty_axes, and Softmax's opset-13 change from
 * "flatten to 2-D at axis" to "along one axis". Hand-worked cases: a stable
 * LogSumExp, exact 64-bit integer sums and products, empty reductions,
 * float16/bfloat16, unsigned and bool Max/Min. */
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

typedef struct node_cfg {
    int64_t opset;
    const char *op;
    onnorm_dtype dt;
    int rank;
    int64_t dims[ONNORM_MAX_RANK];
    const void *x;
    /* axes: attribute when axes_attr, else input 1 (a constant unless axes_fed) */
    int n_axes; /* -1: no axes at all */
    int64_t axes[ONNORM_MAX_RANK];
    bool axes_attr, axes_fed;
    int keepdims; /* -1: attribute absent */
    int noop;     /* -1: attribute absent */
    int64_t axis; /* Softmax; INT64_MIN: attribute absent */
    int threads;
} node_cfg;

static node_cfg cfg_for(int64_t opset, const char *op, onnorm_dtype dt, int rank,
                        const int64_t *dims, const void *x)
{
    node_cfg c;
    memset(&c, 0, sizeof c);
    c.opset = opset, c.op = op, c.dt = dt, c.rank = rank, c.x = x;
    for (int i = 0; i < rank; i++)
        c.dims[i] = dims[i];
    c.n_axes = -1, c.keepdims = -1, c.noop = -1, c.axis = INT64_MIN, c.threads = 1;
    return c;
}

/* The one-node model of c on r: X fed; axes an attribute, a constant or fed. */
static tb_model *model(th_run *r, const node_cfg *c)
{
    tb_model *b = th_new(r, c->opset);
    th_add(r, b, th_in("X", c->dt, c->rank, c->dims, c->x));
    bool axes_in = c->n_axes >= 0 && !c->axes_attr;
    if (axes_in) {
        th_tensor axes = th_in("axes", ONNORM_INT64, 1, (int64_t[]){c->n_axes}, c->axes);
        axes.constant = !c->axes_fed;
        th_add(r, b, axes);
    }
    tb_node *n = tb_node_add(b, c->op, "n", axes_in ? 2 : 1, (const char *[]){"X", "axes"}, 1,
                             (const char *[]){"Y"});
    if (c->n_axes >= 0 && c->axes_attr) tb_attr_ints(n, "axes", c->n_axes, c->axes);
    if (c->keepdims >= 0) tb_attr_int(n, "keepdims", c->keepdims);
    if (c->noop >= 0) tb_attr_int(n, "noop_with_empty_axes", c->noop);
    if (c->axis != INT64_MIN) tb_attr_int(n, "axis", c->axis);
    tb_output(b, "Y", c->dt);
    return b;
}

/* Runs c, asserting success. */
static void run(th_run *r, const node_cfg *c)
{
    th_ok(r, th_go(r, model(r, c), c->threads), c->op);
}

static void expect_fail(const node_cfg *c, onnorm_status code)
{
    th_run r;
    th_go_fails(&r, model(&r, c), c->threads, code, NULL);
}

static int64_t numel(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

static void fill(double *d, float *f, int64_t n, unsigned seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        float v = (float)((double)(s >> 11) / 9007199254740992.0 * 8.0 - 4.0);
        f[i] = v;
        d[i] = v;
    }
}

/* ---- naive reduction ----------------------------------------------------------- */

/* Reduces x (double) over `red` like op; writes the output shape too. */
static double *naive_reduce(const char *op, const double *x, int rank, const int64_t *dims,
                            const bool *red, bool keepdims, int *yrank, int64_t *ydims)
{
    int r = 0;
    for (int d = 0; d < rank; d++)
        if (!red[d] || keepdims) ydims[r++] = red[d] ? 1 : dims[d];
    *yrank = r;
    const int64_t ny = numel(r, ydims), nx = numel(rank, dims);
    double *y = malloc((size_t)(ny ? ny : 1) * sizeof *y);
    int64_t *cnt = calloc((size_t)(ny ? ny : 1), sizeof *cnt);
    assert_true(y && cnt);
    bool is_max = !strcmp(op, "ReduceMax"), is_min = !strcmp(op, "ReduceMin");
    const bool is_prod = !strcmp(op, "ReduceProd");
    for (int64_t i = 0; i < ny; i++)
        y[i] = is_max ? -INFINITY : is_min ? INFINITY : is_prod ? 1 : 0;
    for (int64_t i = 0; i < nx; i++) {
        int64_t idx[ONNORM_MAX_RANK], rem = i, o = 0;
        for (int d = rank - 1; d >= 0; d--)
            idx[d] = rem % dims[d], rem /= dims[d];
        for (int d = 0; d < rank; d++) {
            if (red[d] && !keepdims) continue;
            o = o * (red[d] ? 1 : dims[d]) + (red[d] ? 0 : idx[d]);
        }
        double v = x[i];
        if (is_max)
            y[o] = fmax(y[o], v);
        else if (is_min)
            y[o] = fmin(y[o], v);
        else if (!strcmp(op, "ReduceSumSquare") || !strcmp(op, "ReduceL2"))
            y[o] += v * v;
        else if (is_prod)
            y[o] *= v;
        else if (!strcmp(op, "ReduceL1"))
            y[o] += fabs(v);
        else if (!strcmp(op, "ReduceLogSumExp"))
            y[o] += exp(v); /* naive: the inputs are small */
        else
            y[o] += v;
        cnt[o]++;
    }
    if (!strcmp(op, "ReduceMean"))
        for (int64_t i = 0; i < ny; i++)
            y[i] /= (double)cnt[i];
    for (int64_t i = 0; i < ny; i++) {
        if (!strcmp(op, "ReduceL2")) y[i] = sqrt(y[i]);
        if (!strcmp(op, "ReduceLogSum") || !strcmp(op, "ReduceLogSumExp")) y[i] = log(y[i]);
    }
    free(cnt);
    return y;
}

/* Runs c and compares with the naive reduction over `red`. */
static void check_reduce(const node_cfg *c, const double *xd, const bool *red, bool keepdims)
{
    int yrank;
    int64_t ydims[ONNORM_MAX_RANK];
    double *want = naive_reduce(c->op, xd, c->rank, c->dims, red, keepdims, &yrank, ydims);
    th_run r;
    run(&r, c);
    th_expect_output(&r, c->op, "Y", c->dt, yrank, ydims, want,
                     c->dt == ONNORM_FLOAT ? 2e-6 : 1e-12);
    th_free(&r);
    free(want);
}

/* ---- reduction tests -------------------------------------------------------------- */

typedef struct axes_case {
    int n;
    int64_t axes[4];
} axes_case;

static const axes_case axes_cases[] = {
    {1, {1}}, {2, {0, 2}}, {1, {-1}}, {2, {3, -3}}, {3, {1, 2, 3}}, {1, {0}}, {4, {0, 1, 2, 3}},
};

/* Every op, both axes forms (attribute at `attr_opset`, input at
 * `input_opset`), every axes case, keepdims 0 and 1. */
static void check_both_forms(const char *op, int64_t attr_opset, int64_t input_opset)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    double xd[120];
    float xf[120];
    fill(xd, xf, 120, 7);
    for (size_t k = 0; k < sizeof axes_cases / sizeof axes_cases[0]; k++)
        for (int keep = 0; keep < 2; keep++)
            for (int form = 0; form < 2; form++) {
                node_cfg c =
                    cfg_for(form ? input_opset : attr_opset, op, ONNORM_FLOAT, 4, dims, xf);
                c.n_axes = axes_cases[k].n;
                memcpy(c.axes, axes_cases[k].axes, sizeof axes_cases[k].axes);
                c.axes_attr = form == 0;
                c.keepdims = keep;
                bool red[4] = {false, false, false, false};
                for (int i = 0; i < c.n_axes; i++)
                    red[(c.axes[i] + 4) % 4] = true;
                check_reduce(&c, xd, red, keep);
            }
}

static void reduce_sum_axes_attribute_and_input(void **state)
{
    (void)state;
    check_both_forms("ReduceSum", 11, 13);
    check_both_forms("ReduceSum", 1, 21);
}

static void reduce_mean_axes_attribute_and_input(void **state)
{
    (void)state;
    check_both_forms("ReduceMean", 13, 18);
    check_both_forms("ReduceMean", 1, 20);
}

static void reduce_max_min_sumsquare(void **state)
{
    (void)state;
    check_both_forms("ReduceMax", 13, 18);
    check_both_forms("ReduceMin", 12, 20);
    check_both_forms("ReduceSumSquare", 13, 18);
}

/* The five reductions added later, every version: attribute forms at 1, 11
 * and 13, input form at 18, against the naive loops above. ReduceLogSum
 * gets positive data (the log of a negative sum is NaN). */
static void reduce_prod_l1_l2_logsum_logsumexp(void **state)
{
    (void)state;
    const char *ops[4] = {"ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp"};
    const int64_t attr_opsets[3] = {1, 11, 13};
    for (int o = 0; o < 4; o++)
        for (int v = 0; v < 3; v++)
            check_both_forms(ops[o], attr_opsets[v], 18);
    /* LogSum needs positive sums. */
    const int64_t dims[3] = {2, 3, 4};
    double xd[24];
    float xf[24];
    for (int i = 0; i < 24; i++)
        xd[i] = xf[i] = 0.25f * (float)(i + 1);
    node_cfg c = cfg_for(13, "ReduceLogSum", ONNORM_FLOAT, 3, dims, xf);
    c.n_axes = 2, c.axes[0] = 0, c.axes[1] = -1, c.axes_attr = true;
    check_reduce(&c, xd, (const bool[]){true, false, true}, true);
    c = cfg_for(18, "ReduceLogSum", ONNORM_FLOAT, 3, dims, xf);
    c.n_axes = 1, c.axes[0] = 1, c.keepdims = 0;
    check_reduce(&c, xd, (const bool[]){false, true, false}, false);
    c.n_axes = -1;
    check_reduce(&c, xd, (const bool[]){true, true, true}, false);
}

/* LogSumExp subtracts the maximum: exp(1000) overflows a double, but
 * log(3 e^1000) = 1000 + log 3 and log(e^-1000 + e^-1000) = -1000 + log 2;
 * -inf entries add nothing, all -inf gives -inf, +inf gives +inf. */
static void reduce_logsumexp_is_stable(void **state)
{
    (void)state;
    const int64_t dims[2] = {4, 3};
    const float x[12] = {1000,      1000,      1000,      -1000, -1000,    -INFINITY,
                         -INFINITY, -INFINITY, -INFINITY, 5,     INFINITY, 1};
    for (int axis_last = 0; axis_last < 2; axis_last++) {
        th_run r;
        node_cfg c = cfg_for(13, "ReduceLogSumExp", ONNORM_FLOAT, 2, dims, x);
        c.n_axes = 1, c.axes[0] = 1, c.axes_attr = true, c.keepdims = 0;
        if (!axis_last) { /* the same through the kept-innermost path: transpose */
            static const float xt[12] = {1000, -1000,     -INFINITY, 5,
                                         1000, -1000,     -INFINITY, INFINITY,
                                         1000, -INFINITY, -INFINITY, 1};
            c.dims[0] = 3, c.dims[1] = 4, c.x = xt, c.axes[0] = 0;
        }
        run(&r, &c);
        const float *y = th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){4});
        assert_float_equal(y[0], 1001.0986122886681, 1e-3);
        assert_float_equal(y[1], -999.30685281944005, 1e-3);
        assert_true(isinf(y[2]) && y[2] < 0);
        assert_true(isinf(y[3]) && y[3] > 0);
        th_free(&r);
    }
}

/* Integers: Sum and Prod are exact in 64 bits (2^53 + 1 is not a double);
 * Mean truncates toward zero (numpy's mean, then astype); int32 Max. */
static void reduce_integers(void **state)
{
    (void)state;
    const int64_t dims[2] = {2, 2};
    const int64_t x64[4] = {9007199254740993LL, 2, -3, -4};
    th_run r;
    node_cfg c = cfg_for(13, "ReduceSum", ONNORM_INT64, 2, dims, x64);
    c.n_axes = 1, c.axes[0] = 1, c.keepdims = 0;
    run(&r, &c);
    const int64_t *y = th_output(&r, "Y", ONNORM_INT64, 1, (int64_t[]){2});
    assert_true(y[0] == 9007199254740995LL && y[1] == -7);
    th_free(&r);
    c = cfg_for(18, "ReduceProd", ONNORM_INT64, 2, dims, x64);
    c.n_axes = 1, c.axes[0] = -1, c.keepdims = 0;
    run(&r, &c);
    y = th_output(&r, "Y", ONNORM_INT64, 1, (int64_t[]){2});
    assert_true(y[0] == 18014398509481986LL && y[1] == 12);
    th_free(&r);
    const int32_t x32[4] = {-3, 2, 7, 8}; /* means over axis 0: 2, 5 */
    c = cfg_for(13, "ReduceMean", ONNORM_INT32, 2, dims, x32);
    c.n_axes = 1, c.axes[0] = 1, c.axes_attr = true;
    run(&r, &c);
    const int32_t *m = th_output(&r, "Y", ONNORM_INT32, 2, (int64_t[]){2, 1});
    assert_true(m[0] == 0 && m[1] == 7); /* -0.5 -> 0, 7.5 -> 7 */
    th_free(&r);
    c = cfg_for(18, "ReduceMax", ONNORM_INT32, 2, dims, x32);
    c.n_axes = 1, c.axes[0] = 0, c.keepdims = 0;
    run(&r, &c);
    m = th_output(&r, "Y", ONNORM_INT32, 1, (int64_t[]){2});
    assert_true(m[0] == 7 && m[1] == 8);
    th_free(&r);
}

/* Max and Min compare unsigned values as unsigned (2^63 + 1 > 1) and,
 * from opset 20, take bool (any true / all true). */
static void reduce_unsigned_and_bool(void **state)
{
    (void)state;
    const int64_t dims[2] = {2, 2};
    const uint64_t u[4] = {9223372036854775809ULL, 1, 5, 7};
    th_run r;
    node_cfg c = cfg_for(18, "ReduceMax", ONNORM_UINT64, 2, dims, u);
    c.n_axes = 1, c.axes[0] = 1, c.keepdims = 0;
    run(&r, &c);
    const uint64_t *y = th_output(&r, "Y", ONNORM_UINT64, 1, (int64_t[]){2});
    assert_true(y[0] == 9223372036854775809ULL && y[1] == 7);
    th_free(&r);
    const uint8_t b[4] = {1, 0, 0, 0};
    const char *ops[2] = {"ReduceMax", "ReduceMin"};
    const uint8_t want[2][2] = {{1, 0}, {0, 0}};
    for (int o = 0; o < 2; o++) {
        c = cfg_for(20, ops[o], ONNORM_BOOL, 2, dims, b);
        c.n_axes = 1, c.axes[0] = 1, c.keepdims = 0;
        run(&r, &c);
        const uint8_t *yb = th_output(&r, "Y", ONNORM_BOOL, 1, (int64_t[]){2});
        assert_true(yb[0] == want[o][0] && yb[1] == want[o][1]);
        th_free(&r);
    }
}

/* A reduced dim of size 0 (opset 18's empty-set cases): the identity. */
static void reduce_empty_set(void **state)
{
    (void)state;
    const int64_t dims[3] = {2, 0, 4};
    const char *ops[8] = {"ReduceSum",    "ReduceProd", "ReduceMax",       "ReduceMin",
                          "ReduceLogSum", "ReduceL2",   "ReduceLogSumExp", "ReduceSumSquare"};
    const double want[8] = {0, 1, -INFINITY, INFINITY, -INFINITY, 0, -INFINITY, 0};
    for (int o = 0; o < 8; o++) {
        th_run r;
        const float none[1] = {0};
        node_cfg c = cfg_for(18, ops[o], ONNORM_FLOAT, 3, dims, none);
        c.n_axes = 1, c.axes[0] = 1;
        run(&r, &c);
        const float *y = th_output(&r, "Y", ONNORM_FLOAT, 3, (int64_t[]){2, 1, 4});
        for (int i = 0; i < 8; i++)
            assert_true(y[i] == (float)want[o]);
        th_free(&r);
    }
}

/* float16 and bfloat16 (13 on) accumulate in double: 1 + 2^-11 * 8 sums to
 * 1.00390625 in float16 where a float16 running sum would stay at 1. */
static void reduce_half_types(void **state)
{
    (void)state;
    const int64_t dims[1] = {9};
    const uint16_t h[9] = {0x3C00, 0x1000, 0x1000, 0x1000, 0x1000,
                           0x1000, 0x1000, 0x1000, 0x1000}; /* 1, then 2^-11 eight times */
    th_run r;
    node_cfg c = cfg_for(13, "ReduceSum", ONNORM_FLOAT16, 1, dims, h);
    c.keepdims = 0;
    run(&r, &c);
    const uint16_t *y = th_output(&r, "Y", ONNORM_FLOAT16, 0, NULL);
    assert_int_equal(y[0], 0x3C04); /* 1 + 2^-8 */
    th_free(&r);
    const uint16_t b[3] = {0x3F80, 0x4000, 0x4040}; /* bfloat16 1, 2, 3 */
    c = cfg_for(13, "ReduceL2", ONNORM_BFLOAT16, 1, (int64_t[]){3}, b);
    c.keepdims = 0;
    run(&r, &c);
    y = th_output(&r, "Y", ONNORM_BFLOAT16, 0, NULL);
    assert_int_equal(y[0], 0x406F); /* sqrt(14) = 3.7417 -> 3.734375 */
    th_free(&r);
}

static void reduce_default_axes_and_noop(void **state)
{
    (void)state;
    const int64_t dims[3] = {2, 3, 4};
    double xd[24];
    float xf[24];
    fill(xd, xf, 24, 3);
    const bool all[3] = {true, true, true}, none[3] = {false, false, false};
    /* No axes: every dim, with or without keepdims, both forms. */
    node_cfg c = cfg_for(11, "ReduceSum", ONNORM_FLOAT, 3, dims, xf);
    check_reduce(&c, xd, all, true);
    c.keepdims = 0;
    check_reduce(&c, xd, all, false); /* rank-0 result */
    c = cfg_for(18, "ReduceMean", ONNORM_FLOAT, 3, dims, xf);
    check_reduce(&c, xd, all, true);
    /* An empty axes input also means every dim... */
    c = cfg_for(13, "ReduceSum", ONNORM_FLOAT, 3, dims, xf);
    c.n_axes = 0;
    check_reduce(&c, xd, all, true);
    c.noop = 0;
    check_reduce(&c, xd, all, true);
    /* ...unless noop_with_empty_axes: then the op is an identity. */
    c.noop = 1;
    c.keepdims = 0;
    check_reduce(&c, xd, none, false);
    c.n_axes = -1; /* axes omitted altogether */
    check_reduce(&c, xd, none, false);
    c = cfg_for(18, "ReduceMax", ONNORM_FLOAT, 3, dims, xf);
    c.noop = 1;
    check_reduce(&c, xd, none, true);
    /* noop does not matter when axes are given */
    c.n_axes = 1, c.axes[0] = -2;
    check_reduce(&c, xd, (const bool[]){false, true, false}, true);
}

static void reduce_large_threads_and_double(void **state)
{
    (void)state;
    /* Innermost kept with more than one column block, and innermost reduced. */
    const int64_t dims[3] = {3, 97, 300};
    const int64_t n = 3 * 97 * 300;
    double *xd = malloc((size_t)n * sizeof *xd);
    float *xf = malloc((size_t)n * sizeof *xf);
    assert_true(xd && xf);
    fill(xd, xf, n, 11);
    const axes_case cases[] = {{1, {1}}, {1, {2}}, {2, {0, 2}}, {1, {0}}, {2, {0, 1}}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int dbl = 0; dbl < 2; dbl++) {
            node_cfg c = cfg_for(13, "ReduceMean", dbl ? ONNORM_DOUBLE : ONNORM_FLOAT, 3, dims,
                                 dbl ? (const void *)xd : (const void *)xf);
            c.n_axes = cases[k].n;
            memcpy(c.axes, cases[k].axes, sizeof cases[k].axes);
            c.axes_attr = true;
            c.keepdims = (int)(k & 1);
            c.threads = 4;
            bool red[3] = {false, false, false};
            for (int i = 0; i < c.n_axes; i++)
                red[c.axes[i]] = true;
            check_reduce(&c, xd, red, c.keepdims);
        }
    free(xd);
    free(xf);
}

static void reduce_axes_fed_at_run_time(void **state)
{
    (void)state;
    /* Axes fed by the caller decide the output shape; each run follows them. */
    const int64_t dims[2] = {2, 3};
    const float xf[6] = {1, 2, 3, 4, 5, 6};
    node_cfg c = cfg_for(13, "ReduceSum", ONNORM_FLOAT, 2, dims, xf);
    c.n_axes = 1, c.axes[0] = 1, c.axes_fed = true, c.keepdims = 0;
    th_run r;
    run(&r, &c);
    const float *y = th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){2});
    assert_true(y[0] == 6 && y[1] == 15);
    const int64_t axis0[1] = {-2};
    TH_OK(&r,
          th_rerun(&r, 1, (th_tensor[]){th_in("axes", ONNORM_INT64, 1, (int64_t[]){1}, axis0)}));
    y = th_output(&r, "Y", ONNORM_FLOAT, 1, (int64_t[]){3});
    for (int i = 0; i < 3; i++)
        assert_true(y[i] == xf[i] + xf[i + 3]);
    th_free(&r);
}

static void reduce_errors(void **state)
{
    (void)state;
    const int64_t dims[2] = {2, 3};
    const float xf[6] = {0};
    node_cfg c = cfg_for(13, "ReduceSum", ONNORM_FLOAT, 2, dims, xf);
    c.n_axes = 1, c.axes[0] = 2;
    expect_fail(&c, ONNORM_ERR_INVALID); /* out of range */
    c.axes[0] = -3;
    expect_fail(&c, ONNORM_ERR_INVALID);
    c.n_axes = 2, c.axes[0] = 1, c.axes[1] = -1;
    expect_fail(&c, ONNORM_ERR_INVALID); /* listed twice */
    c.n_axes = 1, c.axes[0] = 0, c.axes_attr = true;
    expect_fail(&c, ONNORM_ERR_INVALID); /* ReduceSum-13 takes no axes attribute */
    node_cfg m = cfg_for(17, "ReduceMean", ONNORM_FLOAT, 2, dims, xf);
    m.n_axes = 1, m.axes[0] = 0, m.axes_attr = false;
    expect_fail(&m, ONNORM_ERR_INVALID); /* ReduceMean-13 has no axes input */
    const int8_t xi[6] = {0};            /* int8: Max and Min only; refused at load */
    node_cfg i = cfg_for(13, "ReduceSum", ONNORM_INT8, 2, dims, xi);
    expect_fail(&i, ONNORM_ERR_UNSUPPORTED);
    i = cfg_for(11, "ReduceMax", ONNORM_INT8, 2, dims, xi); /* from 12 */
    expect_fail(&i, ONNORM_ERR_UNSUPPORTED);
    const uint16_t xh[6] = {0};
    node_cfg h = cfg_for(11, "ReduceProd", ONNORM_BFLOAT16, 2, dims, xh); /* from 13 */
    expect_fail(&h, ONNORM_ERR_UNSUPPORTED);
}

/* ---- softmax ---------------------------------------------------------------------- */

/* Normalizes x viewed as [outer, n, inner] along n, in double. */
static void naive_softmax(const double *x, double *y, int64_t outer, int64_t n, int64_t inner,
                          bool log_)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < inner; k++) {
            double mx = -INFINITY, s = 0;
            for (int64_t i = 0; i < n; i++)
                mx = fmax(mx, x[(o * n + i) * inner + k]);
            for (int64_t i = 0; i < n; i++)
                s += exp(x[(o * n + i) * inner + k] - mx);
            for (int64_t i = 0; i < n; i++) {
                double v = x[(o * n + i) * inner + k] - mx;
                y[(o * n + i) * inner + k] = log_ ? v - log(s) : exp(v) / s;
            }
        }
}

/* Runs op and compares it with naive_softmax over [outer, n, inner]. */
static void check_softmax(const node_cfg *c, const double *xd, int64_t outer, int64_t n,
                          int64_t inner)
{
    const int64_t total = outer * n * inner;
    double *want = malloc((size_t)total * sizeof *want);
    assert_non_null(want);
    naive_softmax(xd, want, outer, n, inner, !strcmp(c->op, "LogSoftmax"));
    th_run r;
    run(&r, c);
    th_expect_output(&r, c->op, "Y", c->dt, c->rank, c->dims, want,
                     c->dt == ONNORM_FLOAT ? 2e-6 : 1e-13);
    th_free(&r);
    free(want);
}

static void softmax_old_and_new_semantics(void **state)
{
    (void)state;
    const int64_t dims[3] = {2, 3, 4};
    double xd[24];
    float xf[24];
    fill(xd, xf, 24, 5);
    static const char *ops[] = {"Softmax", "LogSoftmax"};
    for (int o = 0; o < 2; o++) {
        /* Defaults: opset 11 flattens [2, 3*4] at axis 1; opset 13 uses axis -1. */
        node_cfg old = cfg_for(11, ops[o], ONNORM_FLOAT, 3, dims, xf);
        check_softmax(&old, xd, 2, 12, 1);
        node_cfg now = cfg_for(13, ops[o], ONNORM_FLOAT, 3, dims, xf);
        check_softmax(&now, xd, 6, 4, 1);
        /* The same input really gives different results. */
        th_run a, b;
        run(&a, &old);
        run(&b, &now);
        const float *ya = th_output(&a, "Y", ONNORM_FLOAT, 3, dims);
        const float *yb = th_output(&b, "Y", ONNORM_FLOAT, 3, dims);
        double diff = 0;
        for (int i = 0; i < 24; i++)
            diff = fmax(diff, fabs((double)ya[i] - yb[i]));
        assert_true(diff > 1e-2);
        th_free(&a);
        th_free(&b);
        /* Same explicit axis 1: coerced [2, 12] versus along axis 1 only. */
        old.axis = 1, now.axis = 1;
        check_softmax(&old, xd, 2, 12, 1);
        check_softmax(&now, xd, 2, 3, 4);
        old.opset = 1, old.axis = -1; /* [6, 4] */
        check_softmax(&old, xd, 6, 4, 1);
        old.axis = 0; /* one row of everything */
        check_softmax(&old, xd, 1, 24, 1);
        now.axis = 0, now.dt = ONNORM_DOUBLE, now.x = xd;
        check_softmax(&now, xd, 1, 2, 12);
    }
}

static void softmax_large_inputs_and_threads(void **state)
{
    (void)state;
    /* Large values stay finite thanks to the max shift. */
    const float big[4] = {1000, 1001, 1002, -1000};
    double bigd[4] = {1000, 1001, 1002, -1000};
    node_cfg c = cfg_for(13, "Softmax", ONNORM_FLOAT, 1, (int64_t[]){4}, big);
    check_softmax(&c, bigd, 1, 4, 1);
    c.op = "LogSoftmax";
    check_softmax(&c, bigd, 1, 4, 1);
    /* Strided rows in several column blocks, split over threads. */
    const int64_t dims[3] = {8, 50, 150}, n = 8 * 50 * 150;
    double *xd = malloc((size_t)n * sizeof *xd);
    float *xf = malloc((size_t)n * sizeof *xf);
    assert_true(xd && xf);
    fill(xd, xf, n, 9);
    c = cfg_for(13, "Softmax", ONNORM_FLOAT, 3, dims, xf);
    c.axis = 1, c.threads = 4;
    check_softmax(&c, xd, 8, 50, 150);
    c.axis = -1;
    check_softmax(&c, xd, 400, 150, 1);
    c.op = "LogSoftmax", c.axis = 0;
    check_softmax(&c, xd, 1, 8, 7500);
    free(xd);
    free(xf);
}

/* NaN and infinities as libm's exp gives them, through the vectorized
 * float32 exp: a NaN in a row makes the row NaN, a row of -inf is NaN
 * (-inf - -inf), and -inf beside finite values gives exactly 0 (-inf for
 * LogSoftmax); the contiguous rows and the strided ones (axis 0) alike. */
static void softmax_nan_and_infinities(void **state)
{
    (void)state;
    const float ni = -INFINITY;
    const float x[12] = {1, NAN, 2, 3, ni, ni, ni, ni, ni, 0, 1, ni};
    for (int lg = 0; lg < 2; lg++)
        for (int strided = 0; strided < 2; strided++) {
            /* strided: the transposed [4, 3] input, normalized along axis 0 */
            float xt[12];
            for (int i = 0; i < 12; i++)
                xt[i] = strided ? x[(i % 3) * 4 + i / 3] : x[i];
            const int64_t dims[2] = {strided ? 4 : 3, strided ? 3 : 4};
            th_run r;
            const th_tensor in = th_in("X", ONNORM_FLOAT, 2, dims, xt);
            tb_node *n;
            tb_model *b =
                th_node_model(&r, 13, lg ? "LogSoftmax" : "Softmax", 1, &in, ONNORM_FLOAT, &n);
            tb_attr_int(n, "axis", strided ? 0 : 1);
            TH_OK(&r, th_go(&r, b, 1));
            const float *yt = th_output(&r, "Y", ONNORM_FLOAT, 2, dims);
            float y[12];
            for (int i = 0; i < 12; i++)
                y[i] = strided ? yt[(i % 4) * 3 + i / 4] : yt[i];
            for (int i = 0; i < 8; i++)
                if (!isnan(y[i]))
                    fail_msg("log %d strided %d: y[%d] = %g, want NaN", lg, strided, i,
                             (double)y[i]);
            const double l = log(1.0 + exp(1.0));
            const double want[4] = {lg ? -INFINITY : 0.0, lg ? -l : exp(-l),
                                    lg ? 1.0 - l : exp(1.0 - l), lg ? -INFINITY : 0.0};
            for (int i = 0; i < 4; i++) {
                const double got = y[8 + i];
                const bool ok = isinf(want[i]) ? got == want[i]
                                : want[i] == 0.0
                                    ? got == 0.0
                                    : fabs(got - want[i]) <= 2e-7 * (1.0 + fabs(want[i]));
                if (!ok)
                    fail_msg("log %d strided %d: y[%d] = %.9g, want %.9g", lg, strided, 8 + i, got,
                             want[i]);
            }
            th_free(&r);
        }
}

static void softmax_errors(void **state)
{
    (void)state;
    const float xf[6] = {0};
    const int64_t xi[6] = {0}, dims[2] = {2, 3};
    node_cfg c = cfg_for(13, "Softmax", ONNORM_FLOAT, 2, dims, xf);
    c.axis = 2;
    expect_fail(&c, ONNORM_ERR_INVALID);
    c.axis = -3;
    expect_fail(&c, ONNORM_ERR_INVALID);
    c.opset = 11, c.axis = 3;
    expect_fail(&c, ONNORM_ERR_INVALID);
    node_cfg i = cfg_for(13, "LogSoftmax", ONNORM_INT64, 2, dims, xi);
    expect_fail(&i, ONNORM_ERR_DTYPE);
}

/* Softmax computes float32 and float64; a half-precision input is refused
 * with a type error when the session is created or run, never read as a
 * wider type. (The reductions take them: reduce_half_types.) */
static void half_inputs_are_refused(void **state)
{
    (void)state;
    const int64_t dims[2] = {2, 3};
    const uint16_t x[6] = {0x3C00, 0x4000, 0x4200, 0x3C00, 0x4000, 0x4200};
    const onnorm_dtype half[2] = {ONNORM_FLOAT16, ONNORM_BFLOAT16};
    const char *ops[1] = {"Softmax"};
    for (int t = 0; t < 2; t++)
        for (int o = 0; o < 1; o++) {
            th_run r;
            const th_tensor in = th_in("X", half[t], 2, dims, x);
            th_go_fails(&r, th_node_model(&r, 13, ops[o], 1, &in, half[t], NULL), 1,
                        ONNORM_ERR_DTYPE, "float32, float64");
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reduce_sum_axes_attribute_and_input),
        cmocka_unit_test(reduce_mean_axes_attribute_and_input),
        cmocka_unit_test(reduce_max_min_sumsquare),
        cmocka_unit_test(reduce_prod_l1_l2_logsum_logsumexp),
        cmocka_unit_test(reduce_logsumexp_is_stable),
        cmocka_unit_test(reduce_integers),
        cmocka_unit_test(reduce_unsigned_and_bool),
        cmocka_unit_test(reduce_empty_set),
        cmocka_unit_test(reduce_half_types),
        cmocka_unit_test(reduce_default_axes_and_noop),
        cmocka_unit_test(reduce_large_threads_and_double),
        cmocka_unit_test(reduce_axes_fed_at_run_time),
        cmocka_unit_test(reduce_errors),
        cmocka_unit_test(softmax_old_and_new_semantics),
        cmocka_unit_test(softmax_large_inputs_and_threads),
        cmocka_unit_test(softmax_nan_and_infinities),
        cmocka_unit_test(softmax_errors),
        cmocka_unit_test(half_inputs_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
