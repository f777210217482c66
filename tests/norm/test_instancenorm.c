/* InstanceNormalization through the public API against the float64
 * reference (refnorm.c): opsets 6 and 22, ranks 2-5, float32 and float64,
 * epsilon, and the rank-2 case whose output is exactly B. */
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

/* ---- one InstanceNormalization node ------------------------------------- */

typedef struct in_case {
    int opset;
    onnorm_dtype dt;
    int rank;
    int64_t dims[6];
    int set_eps;
    float eps;
    uint64_t seed;
} in_case;

typedef struct in_data {
    int64_t numel, C;
    double *x, *scale, *bias;
    void *xb, *sb, *bb;
} in_data;

static void in_data_make(const in_case *c, in_data *d)
{
    const int f64 = c->dt == ONNORM_DOUBLE;
    d->numel = rn_prod(c->dims, 0, c->rank);
    d->C = c->dims[1];
    rn_rng r;
    rn_seed(&r, c->seed ? c->seed : 4242);
    d->x = th_dalloc(d->numel), d->scale = th_dalloc(d->C), d->bias = th_dalloc(d->C);
    rn_fill_normal(&r, d->x, d->numel, -0.75, 1.5, !f64);
    rn_fill_uniform(&r, d->scale, d->C, -2.0, 2.0, !f64);
    rn_fill_uniform(&r, d->bias, d->C, -1.0, 1.0, !f64);
    d->xb = th_pack(c->dt, d->x, d->numel);
    d->sb = th_pack(c->dt, d->scale, d->C);
    d->bb = th_pack(c->dt, d->bias, d->C);
}

static void in_data_free(in_data *d)
{
    free(d->x), free(d->scale), free(d->bias), free(d->xb), free(d->sb), free(d->bb);
}

static tb_model *in_model(const in_case *c, const void *scale, int64_t scale_len, const void *bias)
{
    tb_model *b = tb_new(c->opset);
    tb_input(b, "X", c->dt, c->rank, c->dims);
    tb_init(b, "scale", c->dt, 1, (int64_t[]){scale_len}, scale);
    tb_init(b, "B", c->dt, 1, (int64_t[]){c->dims[1]}, bias);
    tb_node *n = tb_node_add(b, "InstanceNormalization", "in", 3,
                             (const char *[]){"X", "scale", "B"}, 1, (const char *[]){"Y"});
    if (c->set_eps) tb_attr_float(n, "epsilon", c->eps);
    tb_output(b, "Y", c->dt);
    return b;
}

/* Runs the case; returns the output copied to double (caller frees) when
 * want_y, after checking it against the reference. */
static double *run_in_case(const in_case *c, int want_y)
{
    char label[128];
    snprintf(label, sizeof label, "InstanceNormalization-%d %s rank %d", c->opset,
             onnorm_dtype_name(c->dt), c->rank);
    in_data d;
    in_data_make(c, &d);
    th_run rc;
    th_ok(&rc, th_run_x(&rc, in_model(c, d.sb, d.C, d.bb), 0, c->dt, c->rank, c->dims, d.xb),
          label);
    const double eps = c->set_eps ? (double)c->eps : (double)1e-5f;
    double *y = th_dalloc(d.numel);
    ref_instancenorm(d.x, c->rank, c->dims, d.scale, d.bias, eps, y);
    const void *got = th_output(&rc, "Y", c->dt, c->rank, c->dims);
    th_expect_close(label, "Y", got, c->dt, y, d.numel, 0);
    double *copy = NULL;
    if (want_y) {
        copy = th_dalloc(d.numel);
        for (int64_t i = 0; i < d.numel; i++)
            copy[i] = th_value(c->dt, got, i);
    }
    th_free(&rc);
    free(y);
    in_data_free(&d);
    return copy;
}

static const int64_t shapes[4][5] = {{4, 5}, {2, 3, 11}, {2, 4, 5, 3}, {2, 3, 2, 4, 3}};

static in_case shaped(int opset, int rank, onnorm_dtype dt)
{
    in_case c = {.opset = opset, .dt = dt, .rank = rank};
    memcpy(c.dims, shapes[rank - 2], (size_t)rank * sizeof c.dims[0]);
    c.seed = (uint64_t)(opset * 10 + rank) * 31u + (dt == ONNORM_DOUBLE);
    return c;
}

/* ---- tests ---------------------------------------------------------------- */

static void in_ranks_3_to_5_every_opset(void **state)
{
    (void)state;
    static const int opsets[] = {1, 6, 22};
    for (int k = 0; k < 3; k++)
        for (int rank = 3; rank <= 5; rank++) {
            in_case c = shaped(opsets[k], rank, ONNORM_FLOAT);
            run_in_case(&c, 0);
        }
}

/* Rank 2: every (n, c) slice is one element, so x - mean = 0 and Y = B exactly. */
static void in_rank2_output_is_bias(void **state)
{
    (void)state;
    static const onnorm_dtype dts[] = {ONNORM_FLOAT, ONNORM_DOUBLE};
    for (int opset = 6; opset <= 22; opset += 16)
        for (int k = 0; k < 2; k++) {
            in_case c = shaped(opset, 2, dts[k]);
            in_data d;
            in_data_make(&c, &d);
            double *y = run_in_case(&c, 1);
            for (int64_t i = 0; i < d.numel; i++)
                assert_true(y[i] == d.bias[i % d.C]);
            free(y);
            in_data_free(&d);
        }
}

static void in_float64(void **state)
{
    (void)state;
    for (int opset = 6; opset <= 22; opset += 16)
        for (int rank = 2; rank <= 5; rank++) {
            in_case c = shaped(opset, rank, ONNORM_DOUBLE);
            run_in_case(&c, 0);
        }
}

static void in_epsilon_variants(void **state)
{
    (void)state;
    static const float eps[] = {0.0f, 1e-8f, 1e-3f, 0.1f, 1.0f, 10.0f};
    for (int opset = 6; opset <= 22; opset += 16)
        for (size_t k = 0; k < sizeof eps / sizeof eps[0]; k++) {
            in_case c = shaped(opset, 4, ONNORM_FLOAT);
            c.set_eps = 1, c.eps = eps[k];
            run_in_case(&c, 0);
            c.dt = ONNORM_DOUBLE;
            run_in_case(&c, 0);
        }
}

/* Slices of one element per channel, but with spatial axes of size 1. */
static void in_unit_spatial_axes(void **state)
{
    (void)state;
    in_case c = {.opset = 22, .dt = ONNORM_FLOAT, .rank = 4, .dims = {3, 5, 1, 1}, .seed = 5};
    in_data d;
    in_data_make(&c, &d);
    double *y = run_in_case(&c, 1);
    for (int64_t i = 0; i < d.numel; i++)
        assert_true(y[i] == d.bias[i % d.C]);
    free(y);
    in_data_free(&d);
}

static void in_error_scale_wrong_length(void **state)
{
    (void)state;
    for (int opset = 6; opset <= 22; opset += 16) {
        in_case c = shaped(opset, 4, ONNORM_FLOAT); /* C = 4 */
        in_data d;
        in_data_make(&c, &d);
        float s[5] = {1, 2, 3, 4, 5};
        th_run rc;
        th_expect_status(&rc,
                         th_run_x(&rc, in_model(&c, s, 5, d.bb), 0, c.dt, c.rank, c.dims, d.xb),
                         ONNORM_ERR_SHAPE, NULL);
        assert_int_equal(rc.stage, TH_RUN);
        th_free(&rc);
        in_data_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_ranks_3_to_5_every_opset),
        cmocka_unit_test(in_rank2_output_is_bias),
        cmocka_unit_test(in_float64),
        cmocka_unit_test(in_epsilon_variants),
        cmocka_unit_test(in_unit_spatial_axes),
        cmocka_unit_test(in_error_scale_wrong_length),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    th_report_worst();
    return rc;
}
