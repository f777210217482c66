/* Numerical robustness of the float32 kernels, against the float64
 * reference (refnorm.c):
 *   - inputs x = offset + N(0, sigma) with offset = 1e4 * sigma, where a
 *     naive E[x^2] - E[x]^2 in float32 would cancel catastrophically, for
 *     BatchNormalization (training), InstanceNormalization,
 *     LayerNormalization and GroupNormalization;
 *   - constant slices, whose output must be exactly the bias;
 *   - a tensor large enough for the OpenMP parallel path, with 2 threads,
 *     compared to the reference and to a 1-thread session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"
#include "refnorm.h"

/* ---- one float32 node, described by a table -------------------------------- */

typedef struct param {
    const char *name; /* "" for an omitted optional input */
    int rank;
    int64_t dims[6];
    const double *data;
} param;

typedef struct attr {
    const char *name;
    int is_float;
    double v;
} attr;

typedef struct node_spec {
    int opset;
    const char *op;
    int rank;
    int64_t dims[6]; /* of X */
    int n_params;
    param params[4]; /* the inputs after X, stored as float32 initializers */
    int n_attrs;
    attr attrs[4];
    int n_out;
    const char *outs[5];
} node_spec;

static tb_model *spec_model(const node_spec *ns)
{
    tb_model *b = tb_new(ns->opset);
    tb_input(b, "X", ONNORM_FLOAT, ns->rank, ns->dims);
    const char *ins[5] = {"X"};
    for (int i = 0; i < ns->n_params; i++) {
        const param *p = &ns->params[i];
        ins[i + 1] = p->name;
        if (!p->name[0]) continue;
        int64_t n = rn_prod(p->dims, 0, p->rank);
        void *buf = th_pack(ONNORM_FLOAT, p->data, n);
        tb_init(b, p->name, ONNORM_FLOAT, p->rank, p->dims, buf); /* copies */
        free(buf);
    }
    tb_node *n = tb_node_add(b, ns->op, "node", ns->n_params + 1, ins, ns->n_out, ns->outs);
    for (int i = 0; i < ns->n_attrs; i++) {
        if (ns->attrs[i].is_float)
            tb_attr_float(n, ns->attrs[i].name, (float)ns->attrs[i].v);
        else
            tb_attr_int(n, ns->attrs[i].name, (int64_t)ns->attrs[i].v);
    }
    for (int i = 0; i < ns->n_out; i++)
        tb_output(b, ns->outs[i], ONNORM_FLOAT);
    return b;
}

/* Runs the node on x (float32 copy of xd) with `threads` threads. */
static void run_spec(th_run *rc, const node_spec *ns, const float *x, int threads)
{
    th_ok(rc, th_run_x(rc, spec_model(ns), threads, ONNORM_FLOAT, ns->rank, ns->dims, x), ns->op);
}

static double *normal_data(int64_t n, double mean, double std, uint64_t seed)
{
    rn_rng r;
    rn_seed(&r, seed);
    double *d = th_dalloc(n);
    rn_fill_normal(&r, d, n, mean, std, 1);
    return d;
}

static double *uniform_data(int64_t n, double lo, double hi, uint64_t seed)
{
    rn_rng r;
    rn_seed(&r, seed);
    double *d = th_dalloc(n);
    rn_fill_uniform(&r, d, n, lo, hi, 1);
    return d;
}

/* ---- per-op checks, shared by the offset, constant and parallel tests ----- */

/* When `constant` is not NULL, elements i with constant[i] != 0 must equal
 * exact[i] bit for bit. When y_out is not NULL it receives a copy of Y. */
typedef struct check_opts {
    int threads;
    const unsigned char *constant;
    const double *exact;
    float *y_out;
} check_opts;

static void check_y(const char *label, th_run *rc, int rank, const int64_t *dims, const double *ref,
                    const check_opts *o)
{
    const int64_t n = rn_prod(dims, 0, rank);
    const float *y = th_output(rc, "Y", ONNORM_FLOAT, rank, dims);
    th_expect_close(label, "Y", y, ONNORM_FLOAT, ref, n, 0);
    if (o && o->constant)
        for (int64_t i = 0; i < n; i++)
            if (o->constant[i] && (double)y[i] != o->exact[i])
                fail_msg("%s: constant slice: Y[%lld] = %.9g, expected exactly the bias %.9g",
                         label, (long long)i, (double)y[i], o->exact[i]);
    if (o && o->y_out) memcpy(o->y_out, y, (size_t)n * sizeof *y);
}

/* BatchNormalization-15 training (Y, running_mean, running_var), or
 * inference when `training` is 0. */
static void check_bn(const char *label, int rank, const int64_t *dims, const double *x,
                     int training, uint64_t seed, const check_opts *o)
{
    const int64_t C = dims[1], n = rn_prod(dims, 0, rank);
    double *scale = uniform_data(C, -2, 2, seed), *bias = uniform_data(C, -1, 1, seed + 1);
    double *mean = uniform_data(C, -1, 1, seed + 2), *var = uniform_data(C, 0.5, 2, seed + 3);
    const float momentum = 0.3f;
    node_spec ns = {.opset = 15,
                    .op = "BatchNormalization",
                    .rank = rank,
                    .n_params = 4,
                    .params = {{"scale", 1, {C}, scale},
                               {"B", 1, {C}, bias},
                               {"mean", 1, {C}, mean},
                               {"var", 1, {C}, var}},
                    .n_attrs = 2,
                    .attrs = {{"training_mode", 0, training}, {"momentum", 1, momentum}},
                    .n_out = training ? 3 : 1,
                    .outs = {"Y", "running_mean", "running_var"}};
    memcpy(ns.dims, dims, (size_t)rank * sizeof *dims);
    float *xf = th_pack(ONNORM_FLOAT, x, n);
    th_run rc;
    run_spec(&rc, &ns, xf, o ? o->threads : 0);
    double *y = th_dalloc(n), *rm = th_dalloc(C), *rv = th_dalloc(C), *bm = th_dalloc(C),
           *bv = th_dalloc(C);
    if (training)
        ref_bn_train(x, rank, dims, scale, bias, mean, var, (double)1e-5f, (double)momentum, y, rm,
                     rv, bm, bv);
    else
        ref_bn_infer(x, rank, dims, 1, scale, bias, mean, var, (double)1e-5f, y);
    double *exact = NULL;
    check_opts oo = o ? *o : (check_opts){0};
    if (oo.constant) { /* the bias of each element's channel */
        exact = th_dalloc(n);
        const int64_t S = rn_prod(dims, 2, rank);
        for (int64_t i = 0; i < n; i++)
            exact[i] = bias[(i / S) % C];
        oo.exact = exact;
    }
    check_y(label, &rc, rank, dims, y, &oo);
    if (training) {
        th_expect_output(&rc, label, "running_mean", ONNORM_FLOAT, 1, &C, rm, 0);
        th_expect_output(&rc, label, "running_var", ONNORM_FLOAT, 1, &C, rv, 0);
    }
    th_free(&rc);
    free(scale), free(bias), free(mean), free(var), free(xf), free(exact);
    free(y), free(rm), free(rv), free(bm), free(bv);
}

static void check_in(const char *label, int rank, const int64_t *dims, const double *x,
                     uint64_t seed, const check_opts *o)
{
    const int64_t C = dims[1], n = rn_prod(dims, 0, rank);
    double *scale = uniform_data(C, -2, 2, seed), *bias = uniform_data(C, -1, 1, seed + 1);
    node_spec ns = {.opset = 22,
                    .op = "InstanceNormalization",
                    .rank = rank,
                    .n_params = 2,
                    .params = {{"scale", 1, {C}, scale}, {"B", 1, {C}, bias}},
                    .n_out = 1,
                    .outs = {"Y"}};
    memcpy(ns.dims, dims, (size_t)rank * sizeof *dims);
    float *xf = th_pack(ONNORM_FLOAT, x, n);
    th_run rc;
    run_spec(&rc, &ns, xf, o ? o->threads : 0);
    double *y = th_dalloc(n);
    ref_instancenorm(x, rank, dims, scale, bias, (double)1e-5f, y);
    double *exact = NULL;
    check_opts oo = o ? *o : (check_opts){0};
    if (oo.constant) {
        exact = th_dalloc(n);
        const int64_t S = rn_prod(dims, 2, rank);
        for (int64_t i = 0; i < n; i++)
            exact[i] = bias[(i / S) % C];
        oo.exact = exact;
    }
    check_y(label, &rc, rank, dims, y, &oo);
    th_free(&rc);
    free(scale), free(bias), free(xf), free(y), free(exact);
}

/* LayerNormalization-17 with Mean and InvStdDev; with_bias = 0 omits B. */
static void check_ln(const char *label, int rank, const int64_t *dims, int axis, int with_bias,
                     const double *x, uint64_t seed, const check_opts *o)
{
    const int a = axis < 0 ? axis + rank : axis;
    const int64_t n = rn_prod(dims, 0, rank), rows = rn_prod(dims, 0, a), M = n / rows;
    double *scale = uniform_data(M, -2, 2, seed), *bias = uniform_data(M, -1, 1, seed + 1);
    node_spec ns = {.opset = 17,
                    .op = "LayerNormalization",
                    .rank = rank,
                    .n_params = with_bias ? 2 : 1,
                    .n_attrs = 1,
                    .attrs = {{"axis", 0, axis}},
                    .n_out = 3,
                    .outs = {"Y", "Mean", "InvStdDev"}};
    memcpy(ns.dims, dims, (size_t)rank * sizeof *dims);
    ns.params[0] = (param){"Scale", rank - a, {0}, scale};
    ns.params[1] = (param){"B", rank - a, {0}, bias};
    memcpy(ns.params[0].dims, dims + a, (size_t)(rank - a) * sizeof *dims);
    memcpy(ns.params[1].dims, dims + a, (size_t)(rank - a) * sizeof *dims);
    float *xf = th_pack(ONNORM_FLOAT, x, n);
    th_run rc;
    run_spec(&rc, &ns, xf, o ? o->threads : 0);
    double *y = th_dalloc(n), *mean = th_dalloc(rows), *inv = th_dalloc(rows);
    ref_layernorm(x, rank, dims, axis, scale, with_bias ? bias : NULL, (double)1e-5f, y, mean, inv);
    double *exact = NULL;
    check_opts oo = o ? *o : (check_opts){0};
    if (oo.constant) {
        exact = th_dalloc(n);
        for (int64_t i = 0; i < n; i++)
            exact[i] = with_bias ? bias[i % M] : 0.0;
        oo.exact = exact;
    }
    check_y(label, &rc, rank, dims, y, &oo);
    int64_t sd[6];
    for (int i = 0; i < rank; i++)
        sd[i] = i < a ? dims[i] : 1;
    th_expect_output(&rc, label, "Mean", ONNORM_FLOAT, rank, sd, mean, 0);
    th_expect_output(&rc, label, "InvStdDev", ONNORM_FLOAT, rank, sd, inv, 0);
    th_free(&rc);
    free(scale), free(bias), free(xf), free(y), free(mean), free(inv), free(exact);
}

static void check_gn(const char *label, int opset, int rank, const int64_t *dims, int64_t groups,
                     const double *x, uint64_t seed, const check_opts *o)
{
    const int64_t C = dims[1], n = rn_prod(dims, 0, rank);
    const int64_t plen = opset >= 21 ? C : groups;
    double *scale = uniform_data(plen, -2, 2, seed), *bias = uniform_data(plen, -1, 1, seed + 1);
    node_spec ns = {.opset = opset,
                    .op = "GroupNormalization",
                    .rank = rank,
                    .n_params = 2,
                    .params = {{"scale", 1, {plen}, scale}, {"bias", 1, {plen}, bias}},
                    .n_attrs = 1,
                    .attrs = {{"num_groups", 0, (double)groups}},
                    .n_out = 1,
                    .outs = {"Y"}};
    memcpy(ns.dims, dims, (size_t)rank * sizeof *dims);
    float *xf = th_pack(ONNORM_FLOAT, x, n);
    th_run rc;
    run_spec(&rc, &ns, xf, o ? o->threads : 0);
    double *y = th_dalloc(n);
    ref_groupnorm(x, rank, dims, groups, opset, scale, bias, (double)1e-5f, y);
    double *exact = NULL;
    check_opts oo = o ? *o : (check_opts){0};
    if (oo.constant) {
        exact = th_dalloc(n);
        const int64_t S = rn_prod(dims, 2, rank), per = C / groups;
        for (int64_t i = 0; i < n; i++) {
            int64_t c = (i / S) % C;
            exact[i] = bias[opset >= 21 ? c : c / per];
        }
        oo.exact = exact;
    }
    check_y(label, &rc, rank, dims, y, &oo);
    th_free(&rc);
    free(scale), free(bias), free(xf), free(y), free(exact);
}

/* ---- large common offset --------------------------------------------------- */

/* (offset, sigma) pairs with offset / sigma = 1e4. */
static const double offsets[][2] = {{1e4, 1.0}, {-1e4, 1.0}, {3e5, 30.0}, {25.0, 2.5e-3}};
#define N_OFFSETS (sizeof offsets / sizeof offsets[0])

static void offset_batchnorm_training(void **state)
{
    (void)state;
    const int64_t dims[] = {4, 3, 6, 5};
    for (size_t k = 0; k < N_OFFSETS; k++) {
        double *x = normal_data(rn_prod(dims, 0, 4), offsets[k][0], offsets[k][1], 100 + k);
        check_bn("BN training, offset", 4, dims, x, 1, 10 + k, NULL);
        free(x);
    }
    /* rank 2: statistics over the batch axis only */
    const int64_t d2[] = {64, 5};
    double *x = normal_data(320, 1e4, 1.0, 150);
    check_bn("BN training rank 2, offset", 2, d2, x, 1, 15, NULL);
    free(x);
}

static void offset_instancenorm(void **state)
{
    (void)state;
    const int64_t dims[] = {2, 3, 8, 8};
    for (size_t k = 0; k < N_OFFSETS; k++) {
        double *x = normal_data(rn_prod(dims, 0, 4), offsets[k][0], offsets[k][1], 200 + k);
        check_in("IN, offset", 4, dims, x, 20 + k, NULL);
        free(x);
    }
}

static void offset_layernorm(void **state)
{
    (void)state;
    const int64_t dims[] = {4, 6, 32};
    for (size_t k = 0; k < N_OFFSETS; k++) {
        double *x = normal_data(rn_prod(dims, 0, 3), offsets[k][0], offsets[k][1], 300 + k);
        check_ln("LN axis -1, offset", 3, dims, -1, 1, x, 30 + k, NULL);
        check_ln("LN axis 1, offset", 3, dims, 1, 1, x, 31 + k, NULL);
        check_ln("LN axis 0, offset, no B", 3, dims, 0, 0, x, 32 + k, NULL);
        free(x);
    }
}

static void offset_groupnorm(void **state)
{
    (void)state;
    const int64_t dims[] = {2, 6, 5, 4};
    for (size_t k = 0; k < N_OFFSETS; k++) {
        double *x = normal_data(rn_prod(dims, 0, 4), offsets[k][0], offsets[k][1], 400 + k);
        check_gn("GN-18, offset", 18, 4, dims, 3, x, 40 + k, NULL);
        check_gn("GN-21, offset", 21, 4, dims, 2, x, 41 + k, NULL);
        check_gn("GN-21 one group, offset", 21, 4, dims, 1, x, 42 + k, NULL);
        free(x);
    }
}

/* ---- constant slices --------------------------------------------------------- */

/* Fills the `len` elements at x + off with v and marks them in mask. */
static void make_constant(double *x, unsigned char *mask, int64_t off, int64_t len, double v)
{
    for (int64_t i = 0; i < len; i++)
        x[off + i] = v, mask[off + i] = 1;
}

static void constant_slices_instancenorm(void **state)
{
    (void)state;
    const int64_t dims[] = {2, 3, 4, 5}, S = 20, n = 120;
    double *x = normal_data(n, 0.5, 2.0, 500);
    unsigned char *mask = calloc((size_t)n, 1);
    make_constant(x, mask, 1 * S, S, 3.25);  /* (n=0, c=1) */
    make_constant(x, mask, 5 * S, S, 1e4);   /* (n=1, c=2) */
    make_constant(x, mask, 3 * S, S, -0.1f); /* (n=1, c=0), not a short binary fraction */
    check_opts o = {.constant = mask};
    check_in("IN constant planes", 4, dims, x, 50, &o);
    free(x), free(mask);
}

static void constant_slices_layernorm(void **state)
{
    (void)state;
    const int64_t dims[] = {5, 12}, n = 60;
    double *x = normal_data(n, 0.5, 2.0, 600);
    unsigned char *mask = calloc((size_t)n, 1);
    make_constant(x, mask, 12, 12, 3.25);
    make_constant(x, mask, 36, 12, 1e4);
    make_constant(x, mask, 48, 12, (float)1.0e-3);
    check_opts o = {.constant = mask};
    check_ln("LN constant rows", 2, dims, -1, 1, x, 60, &o);
    check_ln("LN constant rows, no B", 2, dims, -1, 0, x, 61, &o);
    /* rank 3, axis 1: a row is a whole [3, 4] block */
    const int64_t d3[] = {3, 3, 4};
    double *x3 = normal_data(36, -1.0, 1.0, 601);
    unsigned char *m3 = calloc(36, 1);
    make_constant(x3, m3, 12, 12, 1e4);
    o.constant = m3;
    check_ln("LN rank 3 axis 1, constant block", 3, d3, 1, 1, x3, 62, &o);
    free(x), free(mask), free(x3), free(m3);
}

static void constant_slices_groupnorm(void **state)
{
    (void)state;
    const int64_t dims[] = {2, 6, 3, 3}, S = 9, n = 108;
    for (int opset = 18; opset <= 21; opset += 3) {
        double *x = normal_data(n, 0.5, 2.0, 700 + (uint64_t)opset);
        unsigned char *mask = calloc((size_t)n, 1);
        /* groups of 2 channels: group (n=0, g=1) = channels 2, 3 */
        make_constant(x, mask, 2 * S, 2 * S, 3.25);
        make_constant(x, mask, (6 + 0) * S, 2 * S, 1e4); /* (n=1, g=0) */
        check_opts o = {.constant = mask};
        check_gn(opset == 18 ? "GN-18 constant groups" : "GN-21 constant groups", opset, 4, dims, 3,
                 x, 70, &o);
        free(x), free(mask);
    }
}

static void constant_channels_batchnorm_training(void **state)
{
    (void)state;
    const int64_t dims[] = {3, 4, 2, 5}, S = 10, C = 4, n = 120;
    double *x = normal_data(n, 0.5, 2.0, 800);
    unsigned char *mask = calloc((size_t)n, 1);
    for (int64_t b = 0; b < 3; b++) {
        make_constant(x, mask, (b * C + 1) * S, S, 3.25); /* channel 1 over the whole batch */
        make_constant(x, mask, (b * C + 3) * S, S, 1e4);  /* channel 3 */
    }
    check_opts o = {.constant = mask};
    check_bn("BN training constant channels", 4, dims, x, 1, 80, &o);
    free(x), free(mask);
}

/* ---- OpenMP path --------------------------------------------------------------- */

/* X[8, 64, 32, 32] = 1e4 + N(0, 1): each op with 2 threads against the
 * reference, and bit-identical to the same op with 1 thread. */
static void parallel_large_tensor(void **state)
{
    (void)state;
    const int64_t dims[] = {8, 64, 32, 32};
    const int64_t n = rn_prod(dims, 0, 4);
    double *x = normal_data(n, 1e4, 1.0, 900);
    double *xg = normal_data(n, 0.5, 2.0, 901);
    float *y2 = malloc((size_t)n * sizeof *y2), *y1 = malloc((size_t)n * sizeof *y1);
    assert_non_null(y2);
    assert_non_null(y1);
    check_opts o2 = {.threads = 2, .y_out = y2}, o1 = {.threads = 1, .y_out = y1};
#define BOTH(call2, call1, what)                                                                   \
    do {                                                                                           \
        call2;                                                                                     \
        call1;                                                                                     \
        if (memcmp(y1, y2, (size_t)n * sizeof *y1) != 0)                                           \
            fail_msg("%s: 1 and 2 threads give different results", what);                          \
    } while (0)
    BOTH(check_bn("BN training, 2 threads", 4, dims, x, 1, 90, &o2),
         check_bn("BN training, 1 thread", 4, dims, x, 1, 90, &o1), "BN training");
    BOTH(check_bn("BN inference, 2 threads", 4, dims, xg, 0, 91, &o2),
         check_bn("BN inference, 1 thread", 4, dims, xg, 0, 91, &o1), "BN inference");
    BOTH(check_in("IN, 2 threads", 4, dims, x, 92, &o2),
         check_in("IN, 1 thread", 4, dims, x, 92, &o1), "IN");
    BOTH(check_ln("LN axis 1, 2 threads", 4, dims, 1, 1, x, 93, &o2),
         check_ln("LN axis 1, 1 thread", 4, dims, 1, 1, x, 93, &o1), "LN axis 1");
    BOTH(check_ln("LN axis -1, 2 threads", 4, dims, -1, 1, x, 94, &o2),
         check_ln("LN axis -1, 1 thread", 4, dims, -1, 1, x, 94, &o1), "LN axis -1");
    BOTH(check_gn("GN-18, 2 threads", 18, 4, dims, 8, x, 95, &o2),
         check_gn("GN-18, 1 thread", 18, 4, dims, 8, x, 95, &o1), "GN-18");
    BOTH(check_gn("GN-21, 2 threads", 21, 4, dims, 16, x, 96, &o2),
         check_gn("GN-21, 1 thread", 21, 4, dims, 16, x, 96, &o1), "GN-21");
#undef BOTH
    free(x), free(xg), free(y1), free(y2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offset_batchnorm_training),
        cmocka_unit_test(offset_instancenorm),
        cmocka_unit_test(offset_layernorm),
        cmocka_unit_test(offset_groupnorm),
        cmocka_unit_test(constant_slices_instancenorm),
        cmocka_unit_test(constant_slices_layernorm),
        cmocka_unit_test(constant_slices_groupnorm),
        cmocka_unit_test(constant_channels_batchnorm_training),
        cmocka_unit_test(parallel_large_tensor),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    th_report_worst();
    return rc;
}
