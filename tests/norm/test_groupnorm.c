/* GroupNormalization through the public API against the float64 reference
 * (refnorm.c): opset 18 (scale/bias per group) and 21 (per channel), ranks
 * 2-5, one group, one group per channel, one element per group, float64,
 * epsilon, and the errors a bad node must give. */
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

/* ---- one GroupNormalization node ------------------------------------------ */

typedef struct gn_case {
    int opset; /* 18 or 21 */
    onnorm_dtype dt;
    int rank;
    int64_t dims[6];
    int omit_groups; /* leave num_groups off the node */
    int64_t groups;
    int set_eps;
    float eps;
    int set_stash;
    int64_t stash;
    int64_t param_len; /* 0: what the opset wants (G at 18, C at 21) */
    uint64_t seed;
} gn_case;

typedef struct gn_data {
    int64_t numel, plen;
    double *x, *scale, *bias;
    void *xb, *sb, *bb;
} gn_data;

static int64_t gn_param_len(const gn_case *c)
{
    if (c->param_len) return c->param_len;
    return c->opset >= 21 ? c->dims[1] : c->groups;
}

static void gn_data_make(const gn_case *c, gn_data *d)
{
    const int f64 = c->dt == ONNORM_DOUBLE;
    d->numel = rn_prod(c->dims, 0, c->rank);
    d->plen = gn_param_len(c);
    rn_rng r;
    rn_seed(&r, c->seed ? c->seed : 1818);
    d->x = th_dalloc(d->numel), d->scale = th_dalloc(d->plen), d->bias = th_dalloc(d->plen);
    rn_fill_normal(&r, d->x, d->numel, 2.0, 0.75, !f64);
    rn_fill_uniform(&r, d->scale, d->plen, -2.0, 2.0, !f64);
    rn_fill_uniform(&r, d->bias, d->plen, -1.0, 1.0, !f64);
    d->xb = th_pack(c->dt, d->x, d->numel);
    d->sb = th_pack(c->dt, d->scale, d->plen);
    d->bb = th_pack(c->dt, d->bias, d->plen);
}

static void gn_data_free(gn_data *d)
{
    free(d->x), free(d->scale), free(d->bias), free(d->xb), free(d->sb), free(d->bb);
}

static tb_model *gn_model(const gn_case *c, const gn_data *d)
{
    tb_model *b = tb_new(c->opset);
    tb_input(b, "X", c->dt, c->rank, c->dims);
    tb_init(b, "scale", c->dt, 1, (int64_t[]){d->plen}, d->sb);
    tb_init(b, "bias", c->dt, 1, (int64_t[]){d->plen}, d->bb);
    tb_node *n = tb_node_add(b, "GroupNormalization", "gn", 3,
                             (const char *[]){"X", "scale", "bias"}, 1, (const char *[]){"Y"});
    if (!c->omit_groups) tb_attr_int(n, "num_groups", c->groups);
    if (c->set_eps) tb_attr_float(n, "epsilon", c->eps);
    if (c->set_stash) tb_attr_int(n, "stash_type", c->stash);
    tb_output(b, "Y", c->dt);
    return b;
}

/* Runs the case and checks Y against the reference; with exact_bias, also
 * that every element equals its bias exactly (one element per group). */
static void run_gn_case(const gn_case *c, int exact_bias)
{
    char label[160];
    snprintf(label, sizeof label, "GroupNormalization-%d %s rank %d groups %lld", c->opset,
             onnorm_dtype_name(c->dt), c->rank, (long long)c->groups);
    gn_data d;
    gn_data_make(c, &d);
    th_run rc;
    th_ok(&rc, th_run_x(&rc, gn_model(c, &d), 0, c->dt, c->rank, c->dims, d.xb), label);
    const double eps = c->set_eps ? (double)c->eps : (double)1e-5f;
    double *y = th_dalloc(d.numel);
    ref_groupnorm(d.x, c->rank, c->dims, c->groups, c->opset, d.scale, d.bias, eps, y);
    const void *got = th_output(&rc, "Y", c->dt, c->rank, c->dims);
    th_expect_close(label, "Y", got, c->dt, y, d.numel, 0);
    if (exact_bias) {
        const int64_t C = c->dims[1], S = rn_prod(c->dims, 2, c->rank), per = C / c->groups;
        for (int64_t i = 0; i < d.numel; i++) {
            int64_t ch = (i / S) % C;
            double want = d.bias[c->opset >= 21 ? ch : ch / per];
            if (th_value(c->dt, got, i) != want)
                fail_msg("%s: Y[%lld] = %.17g, expected exactly the bias %.17g", label,
                         (long long)i, th_value(c->dt, got, i), want);
        }
    }
    th_free(&rc);
    free(y);
    gn_data_free(&d);
}

/* Runs a case that must fail with `want` (TH_ANY_ERROR: any failure) and
 * a message; returns the stage where it stopped. */
static th_stage gn_failure(const gn_case *c, onnorm_status want)
{
    gn_data d;
    gn_data_make(c, &d);
    th_run rc;
    th_expect_status(&rc, th_run_x(&rc, gn_model(c, &d), 0, c->dt, c->rank, c->dims, d.xb), want,
                     NULL);
    th_free(&rc);
    gn_data_free(&d);
    return rc.stage;
}

/* Shapes for ranks 2..5 with 6 or 4 channels. */
static const int64_t shapes[4][5] = {{3, 6}, {2, 6, 5}, {2, 6, 3, 4}, {2, 4, 2, 3, 2}};

static gn_case shaped(int opset, int rank, int64_t groups, onnorm_dtype dt)
{
    gn_case c = {.opset = opset, .dt = dt, .rank = rank, .groups = groups};
    memcpy(c.dims, shapes[rank - 2], (size_t)rank * sizeof c.dims[0]);
    c.seed = (uint64_t)(opset * 1000 + rank * 10 + groups) * 5u + (dt == ONNORM_DOUBLE);
    return c;
}

/* ---- tests ---------------------------------------------------------------- */

static void gn_every_rank_both_opsets(void **state)
{
    (void)state;
    for (int opset = 18; opset <= 21; opset += 3)
        for (int rank = 2; rank <= 5; rank++) {
            gn_case c = shaped(opset, rank, 2, ONNORM_FLOAT);
            run_gn_case(&c, 0);
            if (shapes[rank - 2][1] % 3 == 0) {
                c.groups = 3;
                run_gn_case(&c, 0);
            }
        }
}

static void gn_one_group(void **state)
{
    (void)state;
    for (int opset = 18; opset <= 21; opset += 3)
        for (int rank = 2; rank <= 5; rank++) {
            gn_case c = shaped(opset, rank, 1, ONNORM_FLOAT);
            run_gn_case(&c, 0);
        }
}

static void gn_groups_equal_channels(void **state)
{
    (void)state;
    for (int opset = 18; opset <= 21; opset += 3)
        for (int rank = 3; rank <= 5; rank++) {
            gn_case c = shaped(opset, rank, shapes[rank - 2][1], ONNORM_FLOAT);
            run_gn_case(&c, 0);
        }
}

/* One element per group: x - mean = 0, so Y is exactly the bias. */
static void gn_one_element_per_group(void **state)
{
    (void)state;
    static const onnorm_dtype dts[] = {ONNORM_FLOAT, ONNORM_DOUBLE};
    for (int opset = 18; opset <= 21; opset += 3)
        for (int k = 0; k < 2; k++) {
            gn_case c2 = shaped(opset, 2, 6, dts[k]);
            run_gn_case(&c2, 1);
            gn_case c4 = {.opset = opset,
                          .dt = dts[k],
                          .rank = 4,
                          .dims = {2, 5, 1, 1},
                          .groups = 5,
                          .seed = 44};
            run_gn_case(&c4, 1);
            gn_case c5 = {.opset = opset,
                          .dt = dts[k],
                          .rank = 5,
                          .dims = {3, 4, 1, 1, 1},
                          .groups = 4,
                          .seed = 45};
            run_gn_case(&c5, 1);
        }
}

static void gn_float64(void **state)
{
    (void)state;
    for (int opset = 18; opset <= 21; opset += 3)
        for (int rank = 2; rank <= 5; rank++)
            for (int64_t g = 1; g <= 2; g++) {
                gn_case c = shaped(opset, rank, g, ONNORM_DOUBLE);
                run_gn_case(&c, 0);
            }
}

static void gn_epsilon_variants(void **state)
{
    (void)state;
    static const float eps[] = {0.0f, 1e-9f, 1e-3f, 0.25f, 3.0f};
    for (int opset = 18; opset <= 21; opset += 3)
        for (size_t k = 0; k < sizeof eps / sizeof eps[0]; k++) {
            gn_case c = shaped(opset, 4, 3, ONNORM_FLOAT);
            c.set_eps = 1, c.eps = eps[k];
            run_gn_case(&c, 0);
            c.dt = ONNORM_DOUBLE;
            run_gn_case(&c, 0);
        }
}

/* Opset 21's stash_type: 1 and 11 are accepted and give the same values. */
static void gn_stash_type_opset21(void **state)
{
    (void)state;
    static const int64_t stash[] = {1, 11};
    for (int k = 0; k < 2; k++) {
        gn_case c = shaped(21, 4, 2, ONNORM_FLOAT);
        c.set_stash = 1, c.stash = stash[k];
        run_gn_case(&c, 0);
    }
}

static void gn_error_groups_not_dividing_channels(void **state)
{
    (void)state;
    static const int64_t bad[] = {4, 5, 7, 12, 0, -2};
    for (int opset = 18; opset <= 21; opset += 3)
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            gn_case c = shaped(opset, 4, bad[k], ONNORM_FLOAT); /* C = 6 */
            c.param_len = 6;
            gn_failure(&c, TH_ANY_ERROR);
        }
}

static void gn_error_missing_num_groups(void **state)
{
    (void)state;
    for (int opset = 18; opset <= 21; opset += 3) {
        gn_case c = shaped(opset, 4, 6, ONNORM_FLOAT);
        c.omit_groups = 1;
        gn_failure(&c, TH_ANY_ERROR);
    }
}

/* Opset 18 wants G scale/bias values, opset 21 wants C. */
static void gn_error_scale_length_for_opset(void **state)
{
    (void)state;
    gn_case c18 = shaped(18, 4, 2, ONNORM_FLOAT); /* C = 6, G = 2 */
    c18.param_len = 6;
    assert_int_equal(gn_failure(&c18, ONNORM_ERR_SHAPE), TH_RUN);
    gn_case c21 = shaped(21, 4, 2, ONNORM_FLOAT);
    c21.param_len = 2;
    assert_int_equal(gn_failure(&c21, ONNORM_ERR_SHAPE), TH_RUN);
    c21.param_len = 5;
    gn_failure(&c21, ONNORM_ERR_SHAPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gn_every_rank_both_opsets),
        cmocka_unit_test(gn_one_group),
        cmocka_unit_test(gn_groups_equal_channels),
        cmocka_unit_test(gn_one_element_per_group),
        cmocka_unit_test(gn_float64),
        cmocka_unit_test(gn_epsilon_variants),
        cmocka_unit_test(gn_stash_type_opset21),
        cmocka_unit_test(gn_error_groups_not_dividing_channels),
        cmocka_unit_test(gn_error_missing_num_groups),
        cmocka_unit_test(gn_error_scale_length_for_opset),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    th_report_worst();
    return rc;
}
