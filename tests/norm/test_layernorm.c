/* LayerNormalization-17 through the public API against the float64
 * reference (refnorm.c): ranks 1-5, every axis (negative ones too), with and
 * without B, with and without Mean / InvStdDev, stash_type, broadcast
 * Scale / B, float64, and the errors a bad node must give. */
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

/* ---- one LayerNormalization node ------------------------------------------ */

enum { WANT_MEAN = 1, WANT_INV = 2 };
enum { BIAS_NONE = 0, BIAS_GIVEN = 1, BIAS_EMPTY_NAME = 2 };

typedef struct ln_case {
    onnorm_dtype dt;
    int rank;
    int64_t dims[6];
    int set_axis;
    int64_t axis; /* default -1 */
    int bias;     /* BIAS_* */
    int want;     /* WANT_* bits: which of Mean / InvStdDev the node lists */
    int set_stash;
    int64_t stash;
    int set_eps;
    float eps;
    int srank; /* 0: Scale has the normalized shape X.shape[axis:] */
    int64_t sdims[6];
    int brank; /* 0: B has the normalized shape */
    int64_t bdims[6];
    double stats_tol; /* tolerance for Mean / InvStdDev; 0: by their element type */
    uint64_t seed;
} ln_case;

static int ln_axis(const ln_case *c)
{
    int64_t a = c->set_axis ? c->axis : -1;
    return (int)(a < 0 ? a + c->rank : a);
}

typedef struct ln_data {
    int axis, nrank;
    int64_t numel, rows, M, slen, blen;
    int64_t sdims[6], bdims[6];
    int srank, brank;
    double *x, *scale, *bias;       /* scale / bias as given to the node */
    double *scale_full, *bias_full; /* broadcast to the normalized shape */
    void *xb, *sb, *bb;
} ln_data;

/* True when shape s broadcasts unidirectionally to shape t. */
static int fits(int srank, const int64_t *s, int trank, const int64_t *t)
{
    if (srank > trank) return 0;
    for (int i = 1; i <= srank; i++)
        if (s[srank - i] != 1 && s[srank - i] != t[trank - i]) return 0;
    return 1;
}

static void ln_data_make(const ln_case *c, ln_data *d)
{
    const int f64 = c->dt == ONNORM_DOUBLE;
    d->axis = ln_axis(c);
    d->nrank = c->rank - d->axis;
    const int64_t *nd = c->dims + d->axis; /* normalized shape */
    d->numel = rn_prod(c->dims, 0, c->rank);
    d->rows = rn_prod(c->dims, 0, d->axis);
    d->M = rn_prod(c->dims, d->axis, c->rank);
    d->srank = c->srank ? c->srank : d->nrank;
    memcpy(d->sdims, c->srank ? c->sdims : nd, (size_t)d->srank * sizeof(int64_t));
    d->brank = c->brank ? c->brank : d->nrank;
    memcpy(d->bdims, c->brank ? c->bdims : nd, (size_t)d->brank * sizeof(int64_t));
    d->slen = rn_prod(d->sdims, 0, d->srank);
    d->blen = rn_prod(d->bdims, 0, d->brank);
    rn_rng r;
    rn_seed(&r, c->seed ? c->seed : 1717);
    d->x = th_dalloc(d->numel), d->scale = th_dalloc(d->slen), d->bias = th_dalloc(d->blen);
    rn_fill_normal(&r, d->x, d->numel, 1.25, 3.0, !f64);
    rn_fill_uniform(&r, d->scale, d->slen, -2.0, 2.0, !f64);
    rn_fill_uniform(&r, d->bias, d->blen, -1.0, 1.0, !f64);
    d->scale_full = th_dalloc(d->M), d->bias_full = th_dalloc(d->M);
    /* (error cases use shapes that do not broadcast: no reference then) */
    if (fits(d->srank, d->sdims, d->nrank, nd))
        ref_broadcast(d->scale, d->srank, d->sdims, d->scale_full, d->nrank, nd);
    if (fits(d->brank, d->bdims, d->nrank, nd))
        ref_broadcast(d->bias, d->brank, d->bdims, d->bias_full, d->nrank, nd);
    d->xb = th_pack(c->dt, d->x, d->numel);
    d->sb = th_pack(c->dt, d->scale, d->slen);
    d->bb = th_pack(c->dt, d->bias, d->blen);
}

static void ln_data_free(ln_data *d)
{
    free(d->x), free(d->scale), free(d->bias), free(d->scale_full), free(d->bias_full);
    free(d->xb), free(d->sb), free(d->bb);
}

static onnorm_dtype stash_dtype(const ln_case *c)
{
    return c->set_stash && c->stash == 11 ? ONNORM_DOUBLE : ONNORM_FLOAT;
}

static tb_model *ln_model(const ln_case *c, const ln_data *d)
{
    tb_model *b = tb_new(17);
    tb_input(b, "X", c->dt, c->rank, c->dims);
    tb_init(b, "Scale", c->dt, d->srank, d->sdims, d->sb);
    if (c->bias == BIAS_GIVEN) tb_init(b, "B", c->dt, d->brank, d->bdims, d->bb);
    const char *outs[3] = {"Y", c->want & WANT_MEAN ? "Mean" : "", "InvStdDev"};
    int n_out = c->want & WANT_INV ? 3 : c->want & WANT_MEAN ? 2 : 1;
    int n_in = c->bias == BIAS_NONE ? 2 : 3;
    tb_node *n =
        tb_node_add(b, "LayerNormalization", "ln", n_in,
                    (const char *[]){"X", "Scale", c->bias == BIAS_GIVEN ? "B" : ""}, n_out, outs);
    if (c->set_axis) tb_attr_int(n, "axis", c->axis);
    if (c->set_eps) tb_attr_float(n, "epsilon", c->eps);
    if (c->set_stash) tb_attr_int(n, "stash_type", c->stash);
    tb_output(b, "Y", c->dt);
    if (c->want & WANT_MEAN) tb_output(b, "Mean", stash_dtype(c));
    if (c->want & WANT_INV) tb_output(b, "InvStdDev", stash_dtype(c));
    return b;
}

/* Runs the case, compares every listed output with the reference and
 * checks the statistics' shape X.shape[:axis] + [1] * (rank - axis). */
static void run_ln_case(const ln_case *c)
{
    char label[160];
    snprintf(label, sizeof label, "LayerNormalization %s rank %d axis %lld%s",
             onnorm_dtype_name(c->dt), c->rank, (long long)(c->set_axis ? c->axis : -1),
             c->bias ? "" : " (no B)");
    ln_data d;
    ln_data_make(c, &d);
    th_run rc;
    th_ok(&rc, th_run_x(&rc, ln_model(c, &d), 0, c->dt, c->rank, c->dims, d.xb), label);
    const double eps = c->set_eps ? (double)c->eps : (double)1e-5f;
    double *y = th_dalloc(d.numel), *mean = th_dalloc(d.rows), *inv = th_dalloc(d.rows);
    ref_layernorm(d.x, c->rank, c->dims, c->set_axis ? (int)c->axis : -1, d.scale_full,
                  c->bias == BIAS_GIVEN ? d.bias_full : NULL, eps, y, mean, inv);
    th_expect_output(&rc, label, "Y", c->dt, c->rank, c->dims, y, 0);
    int64_t sdims[6];
    for (int i = 0; i < c->rank; i++)
        sdims[i] = i < d.axis ? c->dims[i] : 1;
    if (c->want & WANT_MEAN)
        th_expect_output(&rc, label, "Mean", stash_dtype(c), c->rank, sdims, mean, c->stats_tol);
    if (c->want & WANT_INV)
        th_expect_output(&rc, label, "InvStdDev", stash_dtype(c), c->rank, sdims, inv,
                         c->stats_tol);
    th_free(&rc);
    free(y), free(mean), free(inv);
    ln_data_free(&d);
}

/* Runs a case that must fail with `want` (TH_ANY_ERROR: any failure) and
 * a message; returns the stage where it stopped. */
static th_stage ln_failure(const ln_case *c, onnorm_status want)
{
    ln_case ok = *c;
    if (ok.set_axis && (ok.axis >= ok.rank || ok.axis < -ok.rank)) ok.axis = -1; /* for the data */
    ln_data d;
    ln_data_make(&ok, &d);
    th_run rc;
    th_expect_status(&rc, th_run_x(&rc, ln_model(c, &d), 0, c->dt, c->rank, c->dims, d.xb), want,
                     NULL);
    th_free(&rc);
    ln_data_free(&d);
    return rc.stage;
}

static const int64_t shapes[5][5] = {{10}, {6, 7}, {3, 4, 5}, {2, 3, 4, 5}, {2, 3, 2, 3, 4}};

static ln_case shaped(int rank, int64_t axis, onnorm_dtype dt)
{
    ln_case c = {.dt = dt,
                 .rank = rank,
                 .set_axis = 1,
                 .axis = axis,
                 .bias = BIAS_GIVEN,
                 .want = WANT_MEAN | WANT_INV};
    memcpy(c.dims, shapes[rank - 1], (size_t)rank * sizeof c.dims[0]);
    c.seed = (uint64_t)(rank * 100 + axis + 50) * 3u + (dt == ONNORM_DOUBLE);
    return c;
}

/* ---- tests ---------------------------------------------------------------- */

static void ln_every_rank_and_axis(void **state)
{
    (void)state;
    for (int rank = 1; rank <= 5; rank++)
        for (int64_t axis = -rank; axis < rank; axis++) {
            ln_case c = shaped(rank, axis, ONNORM_FLOAT);
            run_ln_case(&c);
        }
}

static void ln_default_axis(void **state)
{
    (void)state;
    for (int rank = 2; rank <= 5; rank++) {
        ln_case c = shaped(rank, 0, ONNORM_FLOAT);
        c.set_axis = 0; /* -1 */
        run_ln_case(&c);
    }
}

static void ln_float64(void **state)
{
    (void)state;
    for (int rank = 1; rank <= 5; rank++)
        for (int64_t axis = -rank; axis < rank; axis++) {
            ln_case c = shaped(rank, axis, ONNORM_DOUBLE);
            c.set_stash = 1, c.stash = 11;
            run_ln_case(&c);
        }
    /* float64 X with the default stash_type 1: Mean and InvStdDev are
     * float32 outputs (summed in double all the same, as float64 data is) */
    ln_case c = shaped(4, 2, ONNORM_DOUBLE);
    run_ln_case(&c);
}

/* B is optional: left off the input list, or listed with an empty name. */
static void ln_without_bias(void **state)
{
    (void)state;
    for (int rank = 2; rank <= 5; rank++)
        for (int64_t axis = -1; axis >= -rank; axis -= 2) {
            ln_case c = shaped(rank, axis, ONNORM_FLOAT);
            c.bias = BIAS_NONE;
            run_ln_case(&c);
            c.bias = BIAS_EMPTY_NAME;
            run_ln_case(&c);
            c.dt = ONNORM_DOUBLE;
            run_ln_case(&c);
        }
}

/* Mean and InvStdDev are optional outputs, together or one at a time. */
static void ln_optional_outputs(void **state)
{
    (void)state;
    for (int rank = 2; rank <= 5; rank++)
        for (int want = 0; want <= 3; want++) {
            ln_case c = shaped(rank, 1, ONNORM_FLOAT);
            c.want = want;
            run_ln_case(&c);
        }
}

/* stash_type = 11 makes Mean and InvStdDev float64 even for float32 X
 * (element type and shape checked here; their precision below). */
static void ln_stash_type(void **state)
{
    (void)state;
    for (int rank = 2; rank <= 4; rank++) {
        ln_case c = shaped(rank, -1, ONNORM_FLOAT);
        c.set_stash = 1, c.stash = 11;
        c.stats_tol = TH_TOL32;
        run_ln_case(&c);
        c.want = WANT_INV;
        run_ln_case(&c);
        c.stash = 1, c.want = WANT_MEAN | WANT_INV;
        run_ln_case(&c);
    }
}

/* stash_type = 11 also fixes the precision of stage one (the statistics):
 * for float32 X the float64 Mean and InvStdDev must be the float64 mean and
 * 1/sqrt(var + eps) of the float32 inputs, to float64 accuracy, not merely
 * to float32 accuracy. */
static void ln_stash_type_double_statistics_precision(void **state)
{
    (void)state;
    for (int rank = 2; rank <= 4; rank++)
        for (int64_t axis = 0; axis < rank; axis++) {
            ln_case c = shaped(rank, axis, ONNORM_FLOAT);
            c.set_stash = 1, c.stash = 11;
            c.stats_tol = TH_TOL64;
            run_ln_case(&c);
        }
}

/* Scale and B broadcast unidirectionally to X.shape[axis:]. */
static void ln_scale_bias_broadcast(void **state)
{
    (void)state;
    static const struct {
        int rank;
        int64_t dims[4];
        int64_t axis;
        int srank;
        int64_t sdims[3];
        int brank;
        int64_t bdims[3];
    } cases[] = {
        {3, {2, 3, 4}, 1, 1, {4}, 0, {0}},       /* [4] -> [3,4] */
        {3, {2, 3, 4}, 1, 1, {1}, 1, {1}},       /* [1] -> [3,4] */
        {3, {2, 3, 4}, 1, 2, {3, 1}, 1, {4}},    /* [3,1] -> [3,4] */
        {3, {2, 3, 4}, 1, 2, {1, 4}, 2, {3, 1}}, /* [1,4] -> [3,4] */
        {3, {2, 3, 4}, 0, 1, {4}, 2, {1, 4}},    /* [4] -> [2,3,4] */
        {3, {2, 3, 4}, -1, 1, {1}, 1, {1}},      /* [1] -> [4] */
        {4, {2, 3, 4, 5}, 1, 1, {5}, 2, {4, 5}}, /* [5] -> [3,4,5] */
        {4, {2, 3, 4, 5}, 1, 3, {3, 1, 5}, 2, {4, 1}},
        {4, {2, 3, 4, 5}, 2, 2, {1, 5}, 1, {1}},
        {4, {2, 3, 4, 5}, -3, 1, {1}, 3, {1, 1, 5}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ln_case c = {.dt = ONNORM_FLOAT,
                     .rank = cases[k].rank,
                     .set_axis = 1,
                     .axis = cases[k].axis,
                     .bias = BIAS_GIVEN,
                     .want = WANT_MEAN | WANT_INV,
                     .srank = cases[k].srank,
                     .brank = cases[k].brank,
                     .seed = 900 + k};
        memcpy(c.dims, cases[k].dims, sizeof cases[k].dims);
        memcpy(c.sdims, cases[k].sdims, sizeof cases[k].sdims);
        memcpy(c.bdims, cases[k].bdims, sizeof cases[k].bdims);
        run_ln_case(&c);
        c.dt = ONNORM_DOUBLE;
        run_ln_case(&c);
        c.dt = ONNORM_FLOAT, c.bias = BIAS_NONE;
        run_ln_case(&c);
    }
}

static void ln_epsilon_variants(void **state)
{
    (void)state;
    static const float eps[] = {0.0f, 1e-12f, 1e-3f, 0.5f, 4.0f};
    for (size_t k = 0; k < sizeof eps / sizeof eps[0]; k++) {
        ln_case c = shaped(3, -1, ONNORM_FLOAT);
        c.set_eps = 1, c.eps = eps[k];
        run_ln_case(&c);
        c.dt = ONNORM_DOUBLE;
        run_ln_case(&c);
    }
}

static void ln_error_axis_out_of_range(void **state)
{
    (void)state;
    for (int rank = 1; rank <= 5; rank++) {
        ln_case c = shaped(rank, rank, ONNORM_FLOAT);
        ln_failure(&c, TH_ANY_ERROR);
        c.axis = -rank - 1;
        ln_failure(&c, TH_ANY_ERROR);
        c.axis = 100;
        ln_failure(&c, TH_ANY_ERROR);
    }
}

static void ln_error_stash_type_unsupported(void **state)
{
    (void)state;
    /* 1, 10, 11 and 16 are float types; anything else is refused. */
    static const int64_t bad[] = {0, 7, 2, 13};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ln_case c = shaped(3, -1, ONNORM_FLOAT);
        c.set_stash = 1, c.stash = bad[k];
        c.want = 0; /* Y only: no output carries the stash type */
        ln_failure(&c, ONNORM_ERR_UNSUPPORTED);
    }
}

/* A Scale that does not broadcast to the normalized shape. */
static void ln_error_scale_shape(void **state)
{
    (void)state;
    ln_case c = {.dt = ONNORM_FLOAT,
                 .rank = 3,
                 .dims = {2, 3, 4},
                 .set_axis = 1,
                 .axis = 1,
                 .bias = BIAS_NONE,
                 .srank = 1,
                 .sdims = {3}};
    assert_int_equal(ln_failure(&c, ONNORM_ERR_SHAPE), TH_RUN);
    c.sdims[0] = 5;
    ln_failure(&c, ONNORM_ERR_SHAPE);
    c.bias = BIAS_GIVEN, c.sdims[0] = 4, c.brank = 1, c.bdims[0] = 2;
    ln_failure(&c, ONNORM_ERR_SHAPE);
}

/* One session, X declared with a symbolic batch dim, rerun with new shapes
 * (each change re-plans the session) and new data: every run matches the
 * reference for its own input. */
static void ln_rerun_with_changing_shapes(void **state)
{
    (void)state;
    const int64_t M = 12;
    double scale[12], bias[12];
    rn_rng r;
    rn_seed(&r, 4040);
    rn_fill_uniform(&r, scale, M, -2, 2, 1);
    rn_fill_uniform(&r, bias, M, -1, 1, 1);
    float *sf = th_pack(ONNORM_FLOAT, scale, M), *bf = th_pack(ONNORM_FLOAT, bias, M);
    tb_model *b = tb_new(17);
    tb_input(b, "X", ONNORM_FLOAT, 3, (int64_t[]){-1, 3, 4});
    tb_init(b, "Scale", ONNORM_FLOAT, 2, (int64_t[]){3, 4}, sf);
    tb_init(b, "B", ONNORM_FLOAT, 2, (int64_t[]){3, 4}, bf);
    tb_node *n = tb_node_add(b, "LayerNormalization", "ln", 3, (const char *[]){"X", "Scale", "B"},
                             3, (const char *[]){"Y", "Mean", "InvStdDev"});
    tb_attr_int(n, "axis", 1);
    tb_output(b, "Y", ONNORM_FLOAT);
    tb_output(b, "Mean", ONNORM_FLOAT);
    tb_output(b, "InvStdDev", ONNORM_FLOAT);
    th_run rc;
    th_ok(&rc, th_open(&rc, b, 0), "open");
    static const int64_t batches[] = {2, 5, 1, 5, 7, 3};
    for (size_t k = 0; k < sizeof batches / sizeof batches[0]; k++) {
        const int64_t dims[3] = {batches[k], 3, 4}, numel = batches[k] * M;
        double *x = th_dalloc(numel), *y = th_dalloc(numel);
        double *mean = th_dalloc(batches[k]), *inv = th_dalloc(batches[k]);
        rn_fill_normal(&r, x, numel, (double)k - 2.0, 1.0 + (double)k, 1);
        float *xf = th_pack(ONNORM_FLOAT, x, numel);
        th_ok(&rc, th_rerun(&rc, 1, (th_tensor[]){th_in("X", ONNORM_FLOAT, 3, dims, xf)}), "rerun");
        ref_layernorm(x, 3, dims, 1, scale, bias, (double)1e-5f, y, mean, inv);
        const int64_t sd[3] = {batches[k], 1, 1};
        th_expect_output(&rc, "rerun", "Y", ONNORM_FLOAT, 3, dims, y, 0);
        th_expect_output(&rc, "rerun", "Mean", ONNORM_FLOAT, 3, sd, mean, 0);
        th_expect_output(&rc, "rerun", "InvStdDev", ONNORM_FLOAT, 3, sd, inv, 0);
        free(x), free(y), free(mean), free(inv), free(xf);
    }
    th_free(&rc);
    free(sf), free(bf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ln_every_rank_and_axis),
        cmocka_unit_test(ln_default_axis),
        cmocka_unit_test(ln_float64),
        cmocka_unit_test(ln_without_bias),
        cmocka_unit_test(ln_optional_outputs),
        cmocka_unit_test(ln_stash_type),
        cmocka_unit_test(ln_stash_type_double_statistics_precision),
        cmocka_unit_test(ln_scale_bias_broadcast),
        cmocka_unit_test(ln_epsilon_variants),
        cmocka_unit_test(ln_error_axis_out_of_range),
        cmocka_unit_test(ln_error_stash_type_unsupported),
        cmocka_unit_test(ln_error_scale_shape),
        cmocka_unit_test(ln_rerun_with_changing_shapes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    th_report_worst();
    return rc;
}
