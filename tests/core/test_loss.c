/* NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (ops/core/loss.c),
 * Hardmax and CumSum (ops/core/scan_ops.c) through the public API: values
 * worked out by hand from the spec's formulas, larger cases against naive
 * double loops written here (the spec's definitions, position by
 * position), the all-ignored mean (NaN, as ONNX's reference), thread-count
 * independence, the half types, and the errors. */
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
#include "ops/half.h"

/* ---- helpers ---------------------------------------------------------------- */

static void fill(double *d, int64_t n, unsigned seed, double lo, double hi)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        d[i] = (double)(float)(lo + (double)(s >> 11) / 9007199254740992.0 * (hi - lo));
    }
}

/* A loss node: op at opset reading x (dtype dt), target (int64 or int32),
 * optional weight; attributes reduction (NULL: absent) and ignore_index
 * (when has_ii); outputs "Y" and, when log_prob, "LP". */
typedef struct loss_case {
    int64_t opset;
    const char *op;
    onnorm_dtype dt, tdt;
    int rank;
    int64_t dims[ONNORM_MAX_RANK];
    const void *x, *t, *w;
    const char *reduction;
    bool has_ii, log_prob;
    int64_t ii;
    int threads;
} loss_case;

static onnorm_status loss_go(th_run *r, const loss_case *c)
{
    tb_model *b = th_new(r, c->opset);
    th_add(r, b, th_in("X", c->dt, c->rank, c->dims, c->x));
    int64_t tdims[ONNORM_MAX_RANK];
    tdims[0] = c->dims[0];
    for (int i = 2; i < c->rank; i++)
        tdims[i - 1] = c->dims[i];
    th_add(r, b, th_in("T", c->tdt, c->rank - 1, tdims, c->t));
    if (c->w) th_add(r, b, th_const("W", c->dt, 1, (int64_t[]){c->dims[1]}, c->w));
    tb_node *n = tb_node_add(b, c->op, "n", c->w ? 3 : 2, (const char *[]){"X", "T", "W"},
                             c->log_prob ? 2 : 1, (const char *[]){"Y", "LP"});
    if (c->reduction) tb_attr_string(n, "reduction", c->reduction);
    if (c->has_ii) tb_attr_int(n, "ignore_index", c->ii);
    tb_output(b, "Y", c->dt);
    if (c->log_prob) tb_output(b, "LP", c->dt);
    return th_go(r, b, c->threads);
}

static loss_case nll_case(const char *reduction, const void *x, const void *t, const void *w)
{
    loss_case c = {13,
                   "NegativeLogLikelihoodLoss",
                   ONNORM_FLOAT,
                   ONNORM_INT64,
                   2,
                   {2, 3},
                   x,
                   t,
                   w,
                   reduction,
                   false,
                   false,
                   0,
                   1};
    return c;
}

/* The spec, position by position: y (N * D values for "none", else 1) and
 * the log-softmax lp (SCE) of x [N, C, D]. */
static void ref_loss(bool sce, const double *x, const int64_t *t, const double *w, int64_t N,
                     int64_t C, int64_t D, bool has_ii, int64_t ii, const char *reduction,
                     double *y, double *lp)
{
    double s = 0, ws = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t d = 0; d < D; d++) {
            const double *xc = x + n * C * D + d;
            double lse = 0;
            if (sce) {
                double mx = -INFINITY, sum = 0;
                for (int64_t c = 0; c < C; c++)
                    mx = fmax(mx, xc[c * D]);
                for (int64_t c = 0; c < C; c++)
                    sum += exp(xc[c * D] - mx);
                lse = mx + log(sum);
                for (int64_t c = 0; c < C; c++)
                    lp[n * C * D + c * D + d] = xc[c * D] - lse;
            }
            const int64_t tv = t[n * D + d];
            double l = 0, wt = 0;
            if (!has_ii || tv != ii) {
                wt = w ? w[tv] : 1;
                l = -wt * (xc[tv * D] - lse);
            }
            if (!strcmp(reduction, "none")) y[n * D + d] = l;
            s += l, ws += wt;
        }
    if (!strcmp(reduction, "sum")) y[0] = s;
    if (!strcmp(reduction, "mean")) y[0] = s / ws;
}

/* ---- NegativeLogLikelihoodLoss ------------------------------------------------ */

/* x [2, 3], targets {2, 0}, weights {1, 2, 3}:
 *   none:  -(3 * -3), -(1 * -0.5)        = 9, 0.5
 *   sum:   9.5;  mean: 9.5 / (3 + 1)     = 2.375
 *   ignore_index 2, mean: 0.5 / 1 = 0.5; without weights: 0.5 / 1 = 0.5
 *   no weights, mean: (3 + 0.5) / 2 = 1.75 */
static void nll_hand_values(void **state)
{
    (void)state;
    const float x[6] = {-1, -2, -3, -0.5f, -1.5f, -2.5f};
    const double xd[6] = {-1, -2, -3, -0.5, -1.5, -2.5};
    const int64_t t[2] = {2, 0};
    const int32_t t32[2] = {2, 0};
    const float w[3] = {1, 2, 3};
    const double wd[3] = {1, 2, 3};
    th_run r;

    loss_case c = nll_case("none", x, t, w);
    TH_OK(&r, loss_go(&r, &c));
    th_expect_output(&r, "none", "Y", ONNORM_FLOAT, 1, (int64_t[]){2}, (double[]){9, 0.5}, 0);
    th_free(&r);

    c = nll_case("sum", x, t, w);
    TH_OK(&r, loss_go(&r, &c));
    th_expect_output(&r, "sum", "Y", ONNORM_FLOAT, 0, NULL, (double[]){9.5}, 0);
    th_free(&r);

    c = nll_case(NULL, x, t32, w); /* mean by default, int32 targets */
    c.tdt = ONNORM_INT32;
    TH_OK(&r, loss_go(&r, &c));
    th_expect_output(&r, "mean", "Y", ONNORM_FLOAT, 0, NULL, (double[]){2.375}, 0);
    th_free(&r);

    c = nll_case("mean", xd, t, wd);
    c.dt = ONNORM_DOUBLE, c.opset = 12;
    c.has_ii = true, c.ii = 2;
    TH_OK(&r, loss_go(&r, &c));
    th_expect_output(&r, "mean ii f64", "Y", ONNORM_DOUBLE, 0, NULL, (double[]){0.5}, 0);
    th_free(&r);

    c = nll_case("mean", x, t, NULL);
    c.has_ii = true, c.ii = 2;
    TH_OK(&r, loss_go(&r, &c));
    th_expect_output(&r, "mean ii", "Y", ONNORM_FLOAT, 0, NULL, (double[]){0.5}, 0);
    th_free(&r);

    c = nll_case("mean", x, t, NULL);
    TH_OK(&r, loss_go(&r, &c));
    th_expect_output(&r, "mean", "Y", ONNORM_FLOAT, 0, NULL, (double[]){1.75}, 0);
    th_free(&r);

    /* ignore_index outside [0, C) is fine, whether or not it occurs. */
    const int64_t tneg[2] = {-7, 1};
    c = nll_case("none", x, tneg, NULL);
    c.has_ii = true, c.ii = -7;
    TH_OK(&r, loss_go(&r, &c));
    th_expect_output(&r, "ii -7", "Y", ONNORM_FLOAT, 1, (int64_t[]){2}, (double[]){0, 1.5}, 0);
    th_free(&r);
}

/* Every target ignored: "mean" is 0 / 0 = NaN (ONNX's reference and the
 * function body), "sum" 0, "none" zeros. */
static void nll_all_ignored(void **state)
{
    (void)state;
    const float x[6] = {-1, -2, -3, -0.5f, -1.5f, -2.5f};
    const int64_t t[2] = {1, 1};
    const float w[3] = {1, 2, 3};
    const char *reds[3] = {"mean", "sum", "none"};
    for (int k = 0; k < 3; k++)
        for (int weighted = 0; weighted < 2; weighted++) {
            th_run r;
            loss_case c = nll_case(reds[k], x, t, weighted ? w : NULL);
            c.has_ii = true, c.ii = 1;
            TH_OK(&r, loss_go(&r, &c));
            if (k == 2)
                th_expect_output(&r, "none", "Y", ONNORM_FLOAT, 1, (int64_t[]){2}, (double[]){0, 0},
                                 0);
            else
                th_expect_output(&r, reds[k], "Y", ONNORM_FLOAT, 0, NULL,
                                 (double[]){k == 0 ? NAN : 0}, 0);
            th_free(&r);
        }
}

/* ---- SoftmaxCrossEntropyLoss and NLL on larger inputs ------------------------- */

/* [3, 5, 10, 13] (D = 130 spans several blocks), weights, ignore_index
 * 2 present among the targets; every reduction, log_prob, 1 and 2 threads
 * (the sums must not depend on the thread count: same bytes). */
static void sce_nll_against_naive(void **state)
{
    (void)state;
    enum { N = 3, C = 5, D = 130 };
    static double xd[N * C * D], ref[N * C * D], lp[N * C * D], wd[C], tdv[N * D];
    static float xf[N * C * D];
    static int64_t t[N * D];
    fill(xd, N * C * D, 3, -4, 4);
    fill(wd, C, 4, 0.5, 2);
    fill(tdv, N * D, 5, 0, C);
    float wf[C];
    for (int i = 0; i < N * C * D; i++)
        xf[i] = (float)xd[i];
    for (int i = 0; i < C; i++)
        wf[i] = (float)wd[i];
    for (int i = 0; i < N * D; i++)
        t[i] = (int64_t)tdv[i] % C;
    const char *reds[3] = {"none", "sum", "mean"};
    for (int sce = 0; sce < 2; sce++)
        for (int k = 0; k < 3; k++)
            for (int weighted = 0; weighted < 2; weighted++) {
                loss_case c = {13,
                               sce ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss",
                               ONNORM_FLOAT,
                               ONNORM_INT64,
                               4,
                               {N, C, 10, 13},
                               xf,
                               t,
                               weighted ? wf : NULL,
                               reds[k],
                               true,
                               sce,
                               2,
                               1};
                ref_loss(sce, xd, t, weighted ? wd : NULL, N, C, D, true, 2, reds[k], ref, lp);
                th_run r1, r2;
                TH_OK(&r1, loss_go(&r1, &c));
                const bool none = k == 0;
                th_expect_output(&r1, reds[k], "Y", ONNORM_FLOAT, none ? 3 : 0,
                                 (int64_t[]){N, 10, 13}, ref, 0);
                if (sce)
                    th_expect_output(&r1, "log_prob", "LP", ONNORM_FLOAT, 4,
                                     (int64_t[]){N, C, 10, 13}, lp, 0);
                c.threads = 2;
                TH_OK(&r2, loss_go(&r2, &c));
                th_expect_same_output(&r1, &r2, "Y", 0, 0, TH_BITWISE);
                th_free(&r1);
                th_free(&r2);
            }
}

/* Scores far apart: log-softmax subtracts the maximum, so nothing
 * overflows: log_prob = {0, -1000, -2000}, loss at target 0 is 0 and at
 * target 2 is 2000. */
static void sce_large_scores(void **state)
{
    (void)state;
    const double x[6] = {1000, 0, -1000, 1000, 0, -1000};
    const int64_t t[2] = {0, 2};
    loss_case c = {12,
                   "SoftmaxCrossEntropyLoss",
                   ONNORM_DOUBLE,
                   ONNORM_INT64,
                   2,
                   {2, 3},
                   x,
                   t,
                   NULL,
                   "none",
                   false,
                   true,
                   0,
                   1};
    th_run r;
    TH_OK(&r, loss_go(&r, &c));
    th_expect_output(&r, "loss", "Y", ONNORM_DOUBLE, 1, (int64_t[]){2}, (double[]){0, 2000}, 0);
    th_expect_output(&r, "log_prob", "LP", ONNORM_DOUBLE, 2, (int64_t[]){2, 3},
                     (double[]){0, -1000, -2000, 0, -1000, -2000}, 0);
    th_free(&r);
}

/* float16 NLL-13 and bfloat16 SCE-13 (and NLL-22): values exact in the
 * half types. NLL: x {-1, -2, -3, -0.5, -1.5, -2.5}, targets {2, 0},
 * weights {1, 2, 4}: sum 4 * 3 + 0.5 = 12.5. SCE of equal scores [2, 4]:
 * log_prob = -ln 4 everywhere, mean loss ln 4. */
static void loss_half_types(void **state)
{
    (void)state;
    const float xv[6] = {-1, -2, -3, -0.5f, -1.5f, -2.5f}, wv[3] = {1, 2, 4};
    uint16_t xh[6], wh[3], xb[6], wb[3];
    for (int i = 0; i < 6; i++)
        xh[i] = onn_f32_to_f16(xv[i]), xb[i] = onn_f32_to_bf16(xv[i]);
    for (int i = 0; i < 3; i++)
        wh[i] = onn_f32_to_f16(wv[i]), wb[i] = onn_f32_to_bf16(wv[i]);
    const int64_t t[2] = {2, 0};
    th_run r;
    loss_case c = nll_case("sum", xh, t, wh);
    c.dt = ONNORM_FLOAT16;
    TH_OK(&r, loss_go(&r, &c));
    const uint16_t *y = th_output(&r, "Y", ONNORM_FLOAT16, 0, NULL);
    assert_true(onn_f16_to_f32(y[0]) == 12.5f);
    th_free(&r);

    c = nll_case("sum", xb, t, wb);
    c.dt = ONNORM_BFLOAT16, c.opset = 22;
    TH_OK(&r, loss_go(&r, &c));
    y = th_output(&r, "Y", ONNORM_BFLOAT16, 0, NULL);
    assert_true(onn_bf16_to_f32(y[0]) == 12.5f);
    th_free(&r);

    uint16_t xs[8];
    for (int i = 0; i < 8; i++)
        xs[i] = onn_f32_to_bf16(0.75f);
    const int64_t ts[2] = {3, 1};
    c = (loss_case){13,
                    "SoftmaxCrossEntropyLoss",
                    ONNORM_BFLOAT16,
                    ONNORM_INT64,
                    2,
                    {2, 4},
                    xs,
                    ts,
                    NULL,
                    NULL,
                    false,
                    true,
                    0,
                    1};
    TH_OK(&r, loss_go(&r, &c));
    y = th_output(&r, "Y", ONNORM_BFLOAT16, 0, NULL);
    assert_true(y[0] == onn_f32_to_bf16((float)log(4.0)));
    const uint16_t *lp = th_output(&r, "LP", ONNORM_BFLOAT16, 2, (int64_t[]){2, 4});
    for (int i = 0; i < 8; i++)
        assert_true(lp[i] == onn_f32_to_bf16((float)-log(4.0)));
    th_free(&r);
}

static void loss_errors(void **state)
{
    (void)state;
    const float x[6] = {-1, -2, -3, -0.5f, -1.5f, -2.5f};
    const float w[3] = {1, 2, 3};
    const int64_t t[2] = {2, 0}, bad[2] = {3, 0}, neg[2] = {0, -1};
    th_run r;
    loss_case c = nll_case("mean", x, bad, NULL);
    th_expect_status(&r, loss_go(&r, &c), ONNORM_ERR_INVALID, "out of range");
    th_free(&r);
    c = nll_case("mean", x, neg, w);
    c.has_ii = true, c.ii = 5; /* -1 is neither a class nor ignore_index */
    th_expect_status(&r, loss_go(&r, &c), ONNORM_ERR_INVALID, "target -1");
    th_free(&r);
    c = nll_case("mean", x, t, NULL);
    c.reduction = "average";
    th_expect_status(&r, loss_go(&r, &c), TH_ANY_ERROR, "reduction");
    th_free(&r);
    /* Weights of the wrong length. */
    c = nll_case("mean", x, t, NULL);
    tb_model *b = th_new(&r, 13);
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x));
    th_add(&r, b, th_in("T", ONNORM_INT64, 1, (int64_t[]){2}, t));
    th_add(&r, b, th_const("W", ONNORM_FLOAT, 1, (int64_t[]){2}, w));
    tb_node_add(b, "NegativeLogLikelihoodLoss", "n", 3, (const char *[]){"X", "T", "W"}, 1,
                (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "weight");
    /* Targets whose shape is not X's without C. */
    b = th_new(&r, 13);
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x));
    th_add(&r, b, th_in("T", ONNORM_INT64, 1, (int64_t[]){3}, (int64_t[]){0, 1, 2}));
    tb_node_add(b, "SoftmaxCrossEntropyLoss", "n", 2, (const char *[]){"X", "T"}, 1,
                (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "labels");
    /* float targets, and a rank-1 input. */
    b = th_new(&r, 13);
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x));
    th_add(&r, b, th_in("T", ONNORM_FLOAT, 1, (int64_t[]){2}, w));
    tb_node_add(b, "NegativeLogLikelihoodLoss", "n", 2, (const char *[]){"X", "T"}, 1,
                (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    th_go_fails(&r, b, 1, ONNORM_ERR_DTYPE, "target");
    b = th_new(&r, 13);
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 1, (int64_t[]){3}, x));
    th_add(&r, b, th_in("T", ONNORM_INT64, 1, (int64_t[]){1}, t));
    tb_node_add(b, "NegativeLogLikelihoodLoss", "n", 2, (const char *[]){"X", "T"}, 1,
                (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "[N, C, ...]");
    /* bfloat16 is not in NLL-13's types (22 adds it). */
    uint16_t xb[6] = {0};
    c = nll_case("sum", xb, t, NULL);
    c.dt = ONNORM_BFLOAT16;
    th_expect_status(&r, loss_go(&r, &c), TH_ANY_ERROR, "bfloat16");
    th_free(&r);
}

/* ---- Hardmax ---------------------------------------------------------------- */

static onnorm_status hardmax_go(th_run *r, int64_t opset, onnorm_dtype dt, int rank,
                                const int64_t *dims, const void *x, int64_t axis)
{
    tb_node *n;
    th_tensor in = th_in("X", dt, rank, dims, x);
    tb_model *b = th_node_model(r, opset, "Hardmax", 1, &in, dt, &n);
    if (axis != INT64_MIN) tb_attr_int(n, "axis", axis);
    return th_go(r, b, 1);
}

/* x [2, 2, 3]. Opset 11 (axis 1): each [2 x 3] block of 6 is one row; opset
 * 13 (axis 1): the max of each of the 3 columns of a block; ties pick the
 * first; a NaN beats every number (numpy's argmax). */
static void hardmax_axis_semantics(void **state)
{
    (void)state;
    const float x[12] = {1, 5, 2, 4, 5, 0, /* block 0 */ 7, 7, 7, 7, 7, 7};
    const int64_t dims[3] = {2, 2, 3};
    th_run r;
    TH_OK(&r, hardmax_go(&r, 11, ONNORM_FLOAT, 3, dims, x, INT64_MIN));
    th_expect_output(&r, "v11", "Y", ONNORM_FLOAT, 3, dims,
                     (double[]){0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, 0);
    th_free(&r);
    TH_OK(&r, hardmax_go(&r, 1, ONNORM_FLOAT, 3, dims, x, -2)); /* = axis 1 */
    th_expect_output(&r, "v1", "Y", ONNORM_FLOAT, 3, dims,
                     (double[]){0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, 0);
    th_free(&r);
    TH_OK(&r, hardmax_go(&r, 13, ONNORM_FLOAT, 3, dims, x, 1));
    th_expect_output(&r, "v13 axis 1", "Y", ONNORM_FLOAT, 3, dims,
                     (double[]){0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0}, 0);
    th_free(&r);
    TH_OK(&r, hardmax_go(&r, 13, ONNORM_FLOAT, 3, dims, x, INT64_MIN)); /* axis -1 */
    th_expect_output(&r, "v13 default", "Y", ONNORM_FLOAT, 3, dims,
                     (double[]){0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0}, 0);
    th_free(&r);
    const double xn[4] = {1, NAN, 3, NAN};
    TH_OK(&r, hardmax_go(&r, 13, ONNORM_DOUBLE, 1, (int64_t[]){4}, xn, 0));
    th_expect_output(&r, "nan", "Y", ONNORM_DOUBLE, 1, (int64_t[]){4}, (double[]){0, 1, 0, 0}, 0);
    th_free(&r);
    uint16_t xh[3] = {onn_f32_to_f16(-1), onn_f32_to_f16(-0.5f), onn_f32_to_f16(-2)};
    TH_OK(&r, hardmax_go(&r, 13, ONNORM_FLOAT16, 1, (int64_t[]){3}, xh, -1));
    const uint16_t *y = th_output(&r, "Y", ONNORM_FLOAT16, 1, (int64_t[]){3});
    assert_true(y[0] == 0 && y[1] == 0x3C00 && y[2] == 0);
    th_free(&r);
}

/* [3, 5, 150] along axis 1 against a naive argmax: 150 inner columns span
 * three blocks. */
static void hardmax_large(void **state)
{
    (void)state;
    enum { O = 3, N = 5, I = 150 };
    static double xd[O * N * I], ref[O * N * I];
    static float xf[O * N * I];
    fill(xd, O * N * I, 9, -3, 3);
    for (int i = 0; i < O * N * I; i++)
        xf[i] = (float)xd[i];
    for (int o = 0; o < O; o++)
        for (int k = 0; k < I; k++) {
            int best = 0;
            for (int i = 1; i < N; i++)
                if (xd[(o * N + i) * I + k] > xd[(o * N + best) * I + k]) best = i;
            for (int i = 0; i < N; i++)
                ref[(o * N + i) * I + k] = i == best;
        }
    const int64_t dims[3] = {O, N, I};
    th_run r;
    TH_OK(&r, hardmax_go(&r, 13, ONNORM_FLOAT, 3, dims, xf, 1));
    th_expect_output(&r, "large", "Y", ONNORM_FLOAT, 3, dims, ref, 0);
    th_free(&r);
}

static void hardmax_errors(void **state)
{
    (void)state;
    const float x[6] = {0};
    th_run r;
    th_expect_status(&r, hardmax_go(&r, 13, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x, 2), TH_ANY_ERROR,
                     "axis 2");
    th_free(&r);
    th_expect_status(&r, hardmax_go(&r, 11, ONNORM_FLOAT, 2, (int64_t[]){2, 3}, x, -3),
                     TH_ANY_ERROR, "axis -3");
    th_free(&r);
    const int32_t xi[6] = {0};
    th_expect_status(&r, hardmax_go(&r, 13, ONNORM_INT32, 2, (int64_t[]){2, 3}, xi, 1),
                     TH_ANY_ERROR, "int32");
    th_free(&r);
}

/* ---- CumSum ----------------------------------------------------------------- */

static onnorm_status cumsum_go(th_run *r, int64_t opset, onnorm_dtype dt, int rank,
                               const int64_t *dims, const void *x, th_tensor axis, int excl,
                               int rev, int threads)
{
    tb_node *n;
    th_tensor in[2] = {th_in("X", dt, rank, dims, x), axis};
    tb_model *b = th_node_model(r, opset, "CumSum", 2, in, dt, &n);
    if (excl >= 0) tb_attr_int(n, "exclusive", excl);
    if (rev >= 0) tb_attr_int(n, "reverse", rev);
    return th_go(r, b, threads);
}

static th_tensor axis64(int64_t *a)
{
    return th_const("A", ONNORM_INT64, 0, NULL, a);
}

/* {1, 2, 3, 4, 5} in the four modes (the spec's example), int32 axis fed
 * as a rank-1 tensor of one value. */
static void cumsum_modes(void **state)
{
    (void)state;
    const double x[5] = {1, 2, 3, 4, 5};
    const double want[4][5] = {
        {1, 3, 6, 10, 15}, {0, 1, 3, 6, 10}, {15, 14, 12, 9, 5}, {14, 12, 9, 5, 0}};
    int32_t a = 0;
    for (int m = 0; m < 4; m++) {
        th_run r;
        TH_OK(&r, cumsum_go(&r, 11, ONNORM_DOUBLE, 1, (int64_t[]){5}, x,
                            th_in("A", ONNORM_INT32, 1, (int64_t[]){1}, &a), m & 1, m >> 1, 1));
        th_expect_output(&r, "modes", "Y", ONNORM_DOUBLE, 1, (int64_t[]){5}, want[m], 0);
        th_free(&r);
    }
}

/* [4, 3, 100] along each axis (negative too), every mode, against naive
 * sums in double; 2 threads. */
static void cumsum_large(void **state)
{
    (void)state;
    enum { A = 4, B = 3, K = 100, NE = A * B * K };
    static double xd[NE], ref[NE];
    static float xf[NE];
    fill(xd, NE, 11, -2, 2);
    for (int i = 0; i < NE; i++)
        xf[i] = (float)xd[i];
    const int64_t dims[3] = {A, B, K};
    for (int ax = -3; ax < 3; ax++)
        for (int m = 0; m < 4; m++) {
            const int a = (ax + 3) % 3;
            const int64_t n = dims[a], inner = a == 2 ? 1 : a == 1 ? K : B * K;
            const bool excl = m & 1, rev = m >> 1;
            for (int64_t i = 0; i < NE; i++) {
                const int64_t pos = (i / inner) % n, start = i - pos * inner;
                double s = 0;
                for (int64_t j = 0; j < n; j++) {
                    const bool in = rev ? (excl ? j > pos : j >= pos) : (excl ? j < pos : j <= pos);
                    if (in) s += xd[start + j * inner];
                }
                ref[i] = s;
            }
            int64_t av = ax;
            th_run r;
            TH_OK(&r, cumsum_go(&r, 14, ONNORM_FLOAT, 3, dims, xf, axis64(&av), excl, rev, 2));
            th_expect_output(&r, "large", "Y", ONNORM_FLOAT, 3, dims, ref, 0);
            th_free(&r);
        }
}

/* Integers wrap: int32 {INT32_MAX, 1, 1} -> {MAX, MIN, MIN + 1}; uint64
 * {UINT64_MAX, 2} -> {MAX, 1}; float16 at opset 14. */
static void cumsum_types(void **state)
{
    (void)state;
    th_run r;
    int64_t a = 0;
    const int32_t xi[3] = {INT32_MAX, 1, 1};
    TH_OK(&r, cumsum_go(&r, 11, ONNORM_INT32, 1, (int64_t[]){3}, xi, axis64(&a), -1, -1, 1));
    const int32_t *yi = th_output(&r, "Y", ONNORM_INT32, 1, (int64_t[]){3});
    assert_true(yi[0] == INT32_MAX && yi[1] == INT32_MIN && yi[2] == INT32_MIN + 1);
    th_free(&r);
    const uint64_t xu[2] = {UINT64_MAX, 2};
    TH_OK(&r, cumsum_go(&r, 11, ONNORM_UINT64, 1, (int64_t[]){2}, xu, axis64(&a), 0, 0, 1));
    const uint64_t *yu = th_output(&r, "Y", ONNORM_UINT64, 1, (int64_t[]){2});
    assert_true(yu[0] == UINT64_MAX && yu[1] == 1);
    th_free(&r);
    const int64_t xl[4] = {-5, 3, -2, 10};
    TH_OK(&r, cumsum_go(&r, 11, ONNORM_INT64, 1, (int64_t[]){4}, xl, axis64(&a), 1, 1, 1));
    th_expect_output(&r, "int64", "Y", ONNORM_INT64, 1, (int64_t[]){4}, (double[]){11, 8, 10, 0},
                     0);
    th_free(&r);
    uint16_t xh[3] = {onn_f32_to_f16(0.5f), onn_f32_to_f16(1.25f), onn_f32_to_f16(-3)};
    TH_OK(&r, cumsum_go(&r, 14, ONNORM_FLOAT16, 1, (int64_t[]){3}, xh, axis64(&a), 0, 0, 1));
    const uint16_t *yh = th_output(&r, "Y", ONNORM_FLOAT16, 1, (int64_t[]){3});
    assert_true(onn_f16_to_f32(yh[0]) == 0.5f && onn_f16_to_f32(yh[1]) == 1.75f &&
                onn_f16_to_f32(yh[2]) == -1.25f);
    th_free(&r);
}

static void cumsum_errors(void **state)
{
    (void)state;
    const float x[6] = {0};
    const int64_t dims[2] = {2, 3};
    th_run r;
    int64_t a = 2;
    th_expect_status(&r, cumsum_go(&r, 11, ONNORM_FLOAT, 2, dims, x, axis64(&a), 0, 0, 1),
                     TH_ANY_ERROR, "axis 2");
    th_free(&r);
    a = -3;
    th_expect_status(&r, cumsum_go(&r, 11, ONNORM_FLOAT, 2, dims, x, axis64(&a), 0, 0, 1),
                     TH_ANY_ERROR, "axis -3");
    th_free(&r);
    a = 0;
    th_expect_status(&r, cumsum_go(&r, 11, ONNORM_FLOAT, 2, dims, x, axis64(&a), 2, 0, 1),
                     TH_ANY_ERROR, "exclusive");
    th_free(&r);
    const int64_t two[2] = {0, 1};
    th_expect_status(&r,
                     cumsum_go(&r, 11, ONNORM_FLOAT, 2, dims, x,
                               th_const("A", ONNORM_INT64, 1, (int64_t[]){2}, two), 0, 0, 1),
                     TH_ANY_ERROR, "axis");
    th_free(&r);
    const float af = 0;
    th_expect_status(&r,
                     cumsum_go(&r, 11, ONNORM_FLOAT, 2, dims, x,
                               th_const("A", ONNORM_FLOAT, 0, NULL, &af), 0, 0, 1),
                     TH_ANY_ERROR, "axis");
    th_free(&r);
    uint16_t xh[6] = {0}; /* float16 arrives with opset 14 */
    th_expect_status(&r, cumsum_go(&r, 11, ONNORM_FLOAT16, 2, dims, xh, axis64(&a), 0, 0, 1),
                     TH_ANY_ERROR, "float16");
    th_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nll_hand_values),        cmocka_unit_test(nll_all_ignored),
        cmocka_unit_test(sce_nll_against_naive),  cmocka_unit_test(sce_large_scores),
        cmocka_unit_test(loss_half_types),        cmocka_unit_test(loss_errors),
        cmocka_unit_test(hardmax_axis_semantics), cmocka_unit_test(hardmax_large),
        cmocka_unit_test(hardmax_errors),         cmocka_unit_test(cumsum_modes),
        cmocka_unit_test(cumsum_large),           cmocka_unit_test(cumsum_types),
        cmocka_unit_test(cumsum_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
