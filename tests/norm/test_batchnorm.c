/* BatchNormalization through the public API against the float64 reference
 * (refnorm.c): opsets 6, 7, 9, 14, 15; inference and training; ranks 1-5;
 * float32 and float64; spatial = 0; and the errors a bad node must give. */
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

/* ---- one BatchNormalization node ---------------------------------------- */

typedef struct bn_case {
    int opset;
    onnorm_dtype dt;
    int rank;
    int64_t dims[6];
    int n_out; /* outputs listed on the node: 1, 3 or 5 */
    /* attributes; each is written only when its set_ flag is on */
    int set_is_test, is_test;
    int set_spatial, spatial;
    int set_training_mode, training_mode;
    int set_eps;
    float eps;
    int set_momentum;
    float momentum;
    int param_rank; /* 0: parameters shaped [C] */
    int64_t param_dims[6];
    uint64_t seed;
} bn_case;

static const char *const bn_outputs[5] = {"Y", "running_mean", "running_var", "saved_mean",
                                          "saved_var"};

static int bn_is_training(const bn_case *c)
{
    if (c->opset < 7) return !(c->set_is_test && c->is_test);
    if (c->opset < 14) return c->n_out > 1;
    return c->set_training_mode && c->training_mode;
}

/* Parameter and data set of a case (X and the four parameters, in the
 * element type of the case). */
typedef struct bn_data {
    int64_t numel, C;
    int prank;
    int64_t pdims[6];
    double *x, *scale, *bias, *mean, *var;
    void *xb, *sb, *bb, *mb, *vb;
} bn_data;

static void bn_data_make(const bn_case *c, bn_data *d)
{
    const int f64 = c->dt == ONNORM_DOUBLE;
    const int spatial = c->set_spatial ? c->spatial : 1;
    d->numel = rn_prod(c->dims, 0, c->rank);
    d->C = c->rank == 1 ? 1 : spatial ? c->dims[1] : rn_prod(c->dims, 1, c->rank);
    d->prank = c->param_rank ? c->param_rank : 1;
    if (c->param_rank)
        memcpy(d->pdims, c->param_dims, sizeof d->pdims);
    else
        d->pdims[0] = d->C;
    assert_int_equal(rn_prod(d->pdims, 0, d->prank), d->C);
    rn_rng r;
    rn_seed(&r, c->seed ? c->seed : 12345);
    d->x = th_dalloc(d->numel);
    d->scale = th_dalloc(d->C), d->bias = th_dalloc(d->C);
    d->mean = th_dalloc(d->C), d->var = th_dalloc(d->C);
    rn_fill_normal(&r, d->x, d->numel, 0.5, 2.0, !f64);
    rn_fill_uniform(&r, d->scale, d->C, -1.5, 1.5, !f64);
    rn_fill_uniform(&r, d->bias, d->C, -1.0, 1.0, !f64);
    rn_fill_uniform(&r, d->mean, d->C, -1.0, 1.0, !f64);
    rn_fill_uniform(&r, d->var, d->C, 0.25, 2.0, !f64);
    d->xb = th_pack(c->dt, d->x, d->numel);
    d->sb = th_pack(c->dt, d->scale, d->C);
    d->bb = th_pack(c->dt, d->bias, d->C);
    d->mb = th_pack(c->dt, d->mean, d->C);
    d->vb = th_pack(c->dt, d->var, d->C);
}

static void bn_data_free(bn_data *d)
{
    free(d->x), free(d->scale), free(d->bias), free(d->mean), free(d->var);
    free(d->xb), free(d->sb), free(d->bb), free(d->mb), free(d->vb);
}

/* The model of a case: X a graph input, the parameters initializers. */
static tb_model *bn_model(const bn_case *c, const bn_data *d, onnorm_dtype scale_dt,
                          const void *scale_data, int scale_rank, const int64_t *scale_dims)
{
    tb_model *b = tb_new(c->opset);
    tb_input(b, "X", c->dt, c->rank, c->dims);
    tb_init(b, "scale", scale_dt, scale_rank, scale_dims, scale_data);
    tb_init(b, "B", c->dt, d->prank, d->pdims, d->bb);
    tb_init(b, "mean", c->dt, d->prank, d->pdims, d->mb);
    tb_init(b, "var", c->dt, d->prank, d->pdims, d->vb);
    tb_node *n =
        tb_node_add(b, "BatchNormalization", "bn", 5,
                    (const char *[]){"X", "scale", "B", "mean", "var"}, c->n_out, bn_outputs);
    if (c->set_is_test) tb_attr_int(n, "is_test", c->is_test);
    if (c->set_spatial) tb_attr_int(n, "spatial", c->spatial);
    if (c->set_training_mode) tb_attr_int(n, "training_mode", c->training_mode);
    if (c->set_eps) tb_attr_float(n, "epsilon", c->eps);
    if (c->set_momentum) tb_attr_float(n, "momentum", c->momentum);
    for (int i = 0; i < c->n_out; i++)
        tb_output(b, bn_outputs[i], c->dt);
    return b;
}

static void run_bn_case(const bn_case *c)
{
    char label[160];
    snprintf(label, sizeof label, "BatchNormalization-%d %s rank %d, %d output(s)%s", c->opset,
             onnorm_dtype_name(c->dt), c->rank, c->n_out, bn_is_training(c) ? ", training" : "");
    bn_data d;
    bn_data_make(c, &d);
    tb_model *b = bn_model(c, &d, c->dt, d.sb, d.prank, d.pdims);
    th_run rc;
    th_ok(&rc, th_run_x(&rc, b, 0, c->dt, c->rank, c->dims, d.xb), label);

    const double eps = c->set_eps ? (double)c->eps : (double)1e-5f;
    const double momentum = c->set_momentum ? (double)c->momentum : (double)0.9f;
    const int spatial = c->set_spatial ? c->spatial : 1;
    double *y = th_dalloc(d.numel);
    double *rm = th_dalloc(d.C), *rv = th_dalloc(d.C), *bm = th_dalloc(d.C), *bv = th_dalloc(d.C);
    const int training = bn_is_training(c);
    if (training)
        ref_bn_train(d.x, c->rank, c->dims, d.scale, d.bias, d.mean, d.var, eps, momentum, y, rm,
                     rv, bm, bv);
    else
        ref_bn_infer(d.x, c->rank, c->dims, spatial, d.scale, d.bias, d.mean, d.var, eps, y);

    th_expect_output(&rc, label, "Y", c->dt, c->rank, c->dims, y, 0);
    if (training && c->n_out >= 3) {
        th_expect_output(&rc, label, "running_mean", c->dt, d.prank, d.pdims, rm, 0);
        th_expect_output(&rc, label, "running_var", c->dt, d.prank, d.pdims, rv, 0);
    }
    if (training && c->n_out == 5) {
        th_expect_output(&rc, label, "saved_mean", c->dt, d.prank, d.pdims, bm, 0);
        th_expect_output(&rc, label, "saved_var", c->dt, d.prank, d.pdims, bv, 0);
    }
    th_free(&rc);
    free(y), free(rm), free(rv), free(bm), free(bv);
    bn_data_free(&d);
}

/* Shapes used for ranks 2..5 (index rank - 2). */
static const int64_t shapes[4][5] = {{5, 4}, {3, 4, 7}, {2, 3, 5, 4}, {2, 3, 2, 3, 4}};

static bn_case shaped(int opset, int rank)
{
    bn_case c = {.opset = opset, .dt = ONNORM_FLOAT, .rank = rank, .n_out = 1};
    memcpy(c.dims, shapes[rank - 2], (size_t)rank * sizeof c.dims[0]);
    c.seed = (uint64_t)(opset * 100 + rank);
    return c;
}

/* ---- tests ---------------------------------------------------------------- */

static void bn_inference_every_opset_and_rank(void **state)
{
    (void)state;
    static const int opsets[] = {6, 7, 9, 14, 15};
    for (size_t k = 0; k < sizeof opsets / sizeof opsets[0]; k++)
        for (int rank = 2; rank <= 5; rank++) {
            bn_case c = shaped(opsets[k], rank);
            if (c.opset == 6) c.set_is_test = 1, c.is_test = 1;
            run_bn_case(&c);
        }
}

/* Inference mode spelled out explicitly: spatial=1 at 7, training_mode=0 at 14/15. */
static void bn_inference_explicit_attributes(void **state)
{
    (void)state;
    bn_case c = shaped(7, 4);
    c.set_spatial = 1, c.spatial = 1;
    run_bn_case(&c);
    for (int opset = 14; opset <= 15; opset++) {
        c = shaped(opset, 3);
        c.set_training_mode = 1, c.training_mode = 0;
        run_bn_case(&c);
    }
}

static void bn_epsilon_variants(void **state)
{
    (void)state;
    static const float eps[] = {0.0f, 1e-9f, 1e-3f, 0.5f, 2.0f};
    static const int opsets[] = {6, 9, 15};
    for (size_t o = 0; o < 3; o++)
        for (size_t k = 0; k < sizeof eps / sizeof eps[0]; k++) {
            bn_case c = shaped(opsets[o], 4);
            if (c.opset == 6) c.set_is_test = 1, c.is_test = 1;
            c.set_eps = 1, c.eps = eps[k];
            run_bn_case(&c);
            /* and in training mode, where the variance is the batch's */
            if (c.opset == 15) {
                c.set_training_mode = 1, c.training_mode = 1, c.n_out = 3;
                run_bn_case(&c);
            }
        }
}

/* From opset 9 a 1-D X of N elements is allowed and means C = 1. */
static void bn_one_dimensional_input(void **state)
{
    (void)state;
    static const int opsets[] = {9, 14, 15};
    for (size_t k = 0; k < 3; k++) {
        bn_case c = {
            .opset = opsets[k], .dt = ONNORM_FLOAT, .rank = 1, .dims = {7}, .n_out = 1, .seed = 91};
        run_bn_case(&c);
    }
    bn_case t = {.opset = 15,
                 .dt = ONNORM_FLOAT,
                 .rank = 1,
                 .dims = {9},
                 .n_out = 3,
                 .set_training_mode = 1,
                 .training_mode = 1,
                 .seed = 92};
    run_bn_case(&t);
    bn_case t9 = {.opset = 9, .dt = ONNORM_FLOAT, .rank = 1, .dims = {6}, .n_out = 5, .seed = 93};
    run_bn_case(&t9);
}

static void bn_training_mode_with_running_stats(void **state)
{
    (void)state;
    static const float momenta[] = {0.9f, 0.3f};
    for (int opset = 14; opset <= 15; opset++)
        for (int rank = 2; rank <= 5; rank++)
            for (int k = 0; k < 2; k++) {
                bn_case c = shaped(opset, rank);
                c.set_training_mode = 1, c.training_mode = 1, c.n_out = 3;
                c.set_momentum = 1, c.momentum = momenta[k];
                c.seed += (uint64_t)k * 7;
                run_bn_case(&c);
            }
    /* momentum left at its default (0.9) */
    bn_case c = shaped(15, 4);
    c.set_training_mode = 1, c.training_mode = 1, c.n_out = 3;
    run_bn_case(&c);
}

/* training_mode=1 with only Y requested still normalizes with batch stats. */
static void bn_training_mode_y_only(void **state)
{
    (void)state;
    for (int opset = 14; opset <= 15; opset++) {
        bn_case c = shaped(opset, 4);
        c.set_training_mode = 1, c.training_mode = 1;
        run_bn_case(&c);
    }
}

/* Opsets 7 - 13: training is implied by requesting more than Y; outputs 4
 * and 5 (saved_mean, saved_var) are the batch mean and population variance. */
static void bn_training_implied_by_outputs(void **state)
{
    (void)state;
    for (int rank = 2; rank <= 5; rank++) {
        bn_case c = shaped(9, rank);
        c.n_out = 5;
        c.set_momentum = 1, c.momentum = 0.3f;
        run_bn_case(&c);
        c.n_out = 3;
        c.momentum = 0.9f;
        run_bn_case(&c);
    }
    bn_case c7 = shaped(7, 4);
    c7.n_out = 5;
    run_bn_case(&c7);
}

static void bn_float64(void **state)
{
    (void)state;
    static const int opsets[] = {6, 7, 9, 14, 15};
    for (size_t k = 0; k < 5; k++)
        for (int rank = 2; rank <= 5; rank++) {
            bn_case c = shaped(opsets[k], rank);
            c.dt = ONNORM_DOUBLE;
            if (c.opset == 6) c.set_is_test = 1, c.is_test = 1;
            run_bn_case(&c);
            if (c.opset >= 14) {
                c.set_training_mode = 1, c.training_mode = 1, c.n_out = 3;
                c.set_momentum = 1, c.momentum = 0.3f;
                run_bn_case(&c);
            } else if (c.opset >= 7) {
                c.n_out = 5;
                run_bn_case(&c);
            }
        }
}

/* spatial = 0 (opsets <= 7): one parameter per activation, shaped
 * (C, D1, ..., Dn) and broadcast over N only. */
static void bn_spatial_zero_per_activation(void **state)
{
    (void)state;
    for (int opset = 6; opset <= 7; opset++) {
        bn_case c3 = {.opset = opset,
                      .dt = ONNORM_FLOAT,
                      .rank = 3,
                      .dims = {4, 3, 5},
                      .n_out = 1,
                      .set_spatial = 1,
                      .spatial = 0,
                      .param_rank = 2,
                      .param_dims = {3, 5},
                      .seed = 71};
        bn_case c4 = {.opset = opset,
                      .dt = ONNORM_FLOAT,
                      .rank = 4,
                      .dims = {3, 2, 3, 4},
                      .n_out = 1,
                      .set_spatial = 1,
                      .spatial = 0,
                      .param_rank = 3,
                      .param_dims = {2, 3, 4},
                      .seed = 72};
        bn_case c2 = {.opset = opset,
                      .dt = ONNORM_FLOAT,
                      .rank = 2,
                      .dims = {6, 5},
                      .n_out = 1,
                      .set_spatial = 1,
                      .spatial = 0,
                      .seed = 73};
        /* flattened (C*D1*...) parameters are the same per-activation layout */
        bn_case cf = {.opset = opset,
                      .dt = ONNORM_FLOAT,
                      .rank = 4,
                      .dims = {3, 2, 3, 4},
                      .n_out = 1,
                      .set_spatial = 1,
                      .spatial = 0,
                      .seed = 74};
        bn_case *all[] = {&c3, &c4, &c2, &cf};
        for (int k = 0; k < 4; k++) {
            if (opset == 6) all[k]->set_is_test = 1, all[k]->is_test = 1;
            run_bn_case(all[k]);
            all[k]->dt = ONNORM_DOUBLE;
            run_bn_case(all[k]);
        }
    }
}

/* Runs a case whose model must fail with `want` (TH_ANY_ERROR: any
 * failure) and a message; returns the stage where it stopped. */
static th_stage bn_failure(const bn_case *c, onnorm_dtype scale_dt, int64_t scale_len,
                           onnorm_status want)
{
    bn_data d;
    bn_data_make(c, &d);
    double *s = th_dalloc(scale_len);
    for (int64_t i = 0; i < scale_len; i++)
        s[i] = 1.0 + 0.25 * (double)i;
    void *sb = th_pack(scale_dt, s, scale_len);
    tb_model *b = bn_model(c, &d, scale_dt, sb, 1, (int64_t[]){scale_len});
    th_run rc;
    th_expect_status(&rc, th_run_x(&rc, b, 0, c->dt, c->rank, c->dims, d.xb), want, NULL);
    th_free(&rc);
    free(s), free(sb);
    bn_data_free(&d);
    return rc.stage;
}

static void bn_error_scale_wrong_length(void **state)
{
    (void)state;
    static const int opsets[] = {7, 9, 14, 15};
    for (size_t k = 0; k < 4; k++) {
        bn_case c = shaped(opsets[k], 4); /* C = 3 */
        /* loads fine, fails at run */
        assert_int_equal(bn_failure(&c, ONNORM_FLOAT, 4, ONNORM_ERR_SHAPE), TH_RUN);
        assert_int_equal(bn_failure(&c, ONNORM_FLOAT, 2, ONNORM_ERR_SHAPE), TH_RUN);
        c.set_training_mode = c.opset >= 14, c.training_mode = 1, c.n_out = 3;
        bn_failure(&c, ONNORM_FLOAT, 4, ONNORM_ERR_SHAPE);
    }
}

/* scale must have X's element type (T at opsets <= 14). */
static void bn_error_scale_dtype(void **state)
{
    (void)state;
    static const int opsets[] = {7, 9, 14};
    for (size_t k = 0; k < 3; k++) {
        bn_case c = shaped(opsets[k], 4);
        assert_int_equal(bn_failure(&c, ONNORM_DOUBLE, 3, ONNORM_ERR_DTYPE), TH_RUN);
    }
}

/* Opset 14/15: training_mode = 0 allows only Y. */
static void bn_error_inference_with_running_outputs(void **state)
{
    (void)state;
    for (int opset = 14; opset <= 15; opset++) {
        bn_case c = shaped(opset, 4);
        c.n_out = 3;
        c.set_training_mode = 1, c.training_mode = 0;
        bn_failure(&c, ONNORM_FLOAT, 3, TH_ANY_ERROR);
        c.set_training_mode = 0; /* absent = 0 as well */
        bn_failure(&c, ONNORM_FLOAT, 3, TH_ANY_ERROR);
    }
}

/* A session reruns with new data bound to X: results follow the new data. */
static void bn_rerun_with_new_input(void **state)
{
    (void)state;
    bn_case c = shaped(15, 4);
    c.set_training_mode = 1, c.training_mode = 1, c.n_out = 3;
    bn_data d;
    bn_data_make(&c, &d);
    tb_model *b = bn_model(&c, &d, c.dt, d.sb, d.prank, d.pdims);
    th_run rc;
    th_ok(&rc, th_run_x(&rc, b, 0, c.dt, c.rank, c.dims, d.xb), "first run");
    rn_rng r;
    rn_seed(&r, 777);
    rn_fill_normal(&r, d.x, d.numel, -3.0, 0.5, 1);
    float *x2 = th_pack(ONNORM_FLOAT, d.x, d.numel);
    th_ok(&rc, th_rerun(&rc, 1, (th_tensor[]){th_in("X", c.dt, c.rank, c.dims, x2)}), "rerun");
    double *y = th_dalloc(d.numel), *rm = th_dalloc(d.C), *rv = th_dalloc(d.C);
    ref_bn_train(d.x, c.rank, c.dims, d.scale, d.bias, d.mean, d.var, (double)1e-5f, (double)0.9f,
                 y, rm, rv, NULL, NULL);
    th_expect_output(&rc, "rerun", "Y", c.dt, c.rank, c.dims, y, 0);
    th_expect_output(&rc, "rerun", "running_mean", c.dt, 1, d.pdims, rm, 0);
    th_expect_output(&rc, "rerun", "running_var", c.dt, 1, d.pdims, rv, 0);
    th_free(&rc);
    free(y), free(rm), free(rv), free(x2);
    bn_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bn_inference_every_opset_and_rank),
        cmocka_unit_test(bn_inference_explicit_attributes),
        cmocka_unit_test(bn_epsilon_variants),
        cmocka_unit_test(bn_one_dimensional_input),
        cmocka_unit_test(bn_training_mode_with_running_stats),
        cmocka_unit_test(bn_training_mode_y_only),
        cmocka_unit_test(bn_training_implied_by_outputs),
        cmocka_unit_test(bn_float64),
        cmocka_unit_test(bn_spatial_zero_per_activation),
        cmocka_unit_test(bn_error_scale_wrong_length),
        cmocka_unit_test(bn_error_scale_dtype),
        cmocka_unit_test(bn_error_inference_with_running_outputs),
        cmocka_unit_test(bn_rerun_with_new_input),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    th_report_worst();
    return rc;
}
