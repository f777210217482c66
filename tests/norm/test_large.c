/*
 * The paths only large tensors take: outputs above 32 MiB are written with
 * streaming stores (with next-slice prefetch), and a chain of norm nodes
 * runs in place, each node overwriting its input. A chain of three
 * LayerNormalization nodes and of three BatchNormalization nodes on a
 * 40 MiB input is checked against the float64 reference applied three
 * times, and the arena must hold a single tensor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "builder.h"
#include "harness.h"
#include "refnorm.h"

#define ROWS 4096
#define COLS 2560 /* 4096 x 2560 floats = 40 MiB, above the 32 MiB streaming size */
#define CHAIN 3

static const int64_t dims[2] = {ROWS, COLS};

/* Runs the built chain on x and checks Y against ref and the arena size. */
static void run_chain(tb_model *b, const double *xd, const double *ref)
{
    const int64_t n = (int64_t)ROWS * COLS;
    float *x = th_pack(ONNORM_FLOAT, xd, n);
    th_run r;
    th_ok(&r, th_run_x(&r, b, 2, ONNORM_FLOAT, 2, dims, x), "chain");
    const void *y = th_output(&r, "Y", ONNORM_FLOAT, 2, dims);
    /* Three nodes each round to float32 and amplify what the previous one
     * rounded (by up to 1/std of its input), so the chain gets 1e-5. */
    th_expect_close("chain", "Y", y, ONNORM_FLOAT, ref, n, 1e-5);
    size_t arena = 0, live = 0;
    assert_int_equal(onnorm_session_memory(r.s, &arena, NULL, &live), ONNORM_OK);
    /* Node 1 writes a fresh buffer (its input is the caller's); nodes 2 and
     * 3 run in place in it, so one tensor is all the arena holds. */
    assert_true(arena >= (size_t)n * sizeof(float));
    assert_true(arena < 2 * (size_t)n * sizeof(float));
    th_free(&r);
    free(x);
}

static void layernorm_chain_streams_in_place(void **state)
{
    (void)state;
    const int64_t n = (int64_t)ROWS * COLS;
    rn_rng rng;
    rn_seed(&rng, 7);
    double *x = th_dalloc(n), *a = th_dalloc(n), *bb = th_dalloc(n);
    double scale[CHAIN][COLS], bias[CHAIN][COLS];
    rn_fill_normal(&rng, x, n, 3.0, 2.0, 1);
    tb_model *b = tb_new(17);
    tb_input(b, "X", ONNORM_FLOAT, 2, dims);
    const char *ins[CHAIN] = {"X", "t0", "t1"}, *outs[CHAIN] = {"t0", "t1", "Y"};
    for (int k = 0; k < CHAIN; k++) {
        rn_fill_uniform(&rng, scale[k], COLS, 0.5, 1.5, 1);
        rn_fill_normal(&rng, bias[k], COLS, 0.0, 1.0, 1);
        float s32[COLS], b32[COLS];
        for (int i = 0; i < COLS; i++)
            s32[i] = (float)scale[k][i], b32[i] = (float)bias[k][i];
        char sn[8], bn[8];
        snprintf(sn, sizeof sn, "s%d", k);
        snprintf(bn, sizeof bn, "b%d", k);
        tb_init(b, sn, ONNORM_FLOAT, 1, (int64_t[]){COLS}, s32);
        tb_init(b, bn, ONNORM_FLOAT, 1, (int64_t[]){COLS}, b32);
        tb_node_add(b, "LayerNormalization", outs[k], 3, (const char *[]){ins[k], sn, bn}, 1,
                    (const char *[]){outs[k]});
    }
    tb_output(b, "Y", ONNORM_FLOAT);
    /* The reference, node by node, rounding to float in between as onnorm does. */
    const double *src = x;
    double *bufs[2] = {a, bb};
    for (int k = 0; k < CHAIN; k++) {
        ref_layernorm(src, 2, dims, -1, scale[k], bias[k], 1e-5, bufs[k & 1], NULL, NULL);
        for (int64_t i = 0; i < n; i++)
            bufs[k & 1][i] = (float)bufs[k & 1][i];
        src = bufs[k & 1];
    }
    run_chain(b, x, src);
    free(x), free(a), free(bb);
}

static void batchnorm_chain_in_place(void **state)
{
    (void)state;
    /* [ROWS, COLS] as N = ROWS, C = COLS: per-channel parameters. */
    const int64_t n = (int64_t)ROWS * COLS;
    rn_rng rng;
    rn_seed(&rng, 11);
    double *x = th_dalloc(n), *a = th_dalloc(n), *bb = th_dalloc(n);
    static double p[CHAIN][4][COLS];
    rn_fill_normal(&rng, x, n, 0.0, 1.0, 1);
    tb_model *b = tb_new(15);
    tb_input(b, "X", ONNORM_FLOAT, 2, dims);
    const char *ins[CHAIN] = {"X", "t0", "t1"}, *outs[CHAIN] = {"t0", "t1", "Y"};
    static const char *pname[4] = {"scale", "bias", "mean", "var"};
    for (int k = 0; k < CHAIN; k++) {
        char names[4][16];
        for (int j = 0; j < 4; j++) {
            if (j == 3)
                rn_fill_uniform(&rng, p[k][j], COLS, 0.5, 2.0, 1);
            else
                rn_fill_normal(&rng, p[k][j], COLS, j == 0 ? 1.0 : 0.0, 0.5, 1);
            float v[COLS];
            for (int i = 0; i < COLS; i++)
                v[i] = (float)p[k][j][i];
            snprintf(names[j], sizeof names[j], "%s%d", pname[j], k);
            tb_init(b, names[j], ONNORM_FLOAT, 1, (int64_t[]){COLS}, v);
        }
        tb_node_add(b, "BatchNormalization", outs[k], 5,
                    (const char *[]){ins[k], names[0], names[1], names[2], names[3]}, 1,
                    (const char *[]){outs[k]});
    }
    tb_output(b, "Y", ONNORM_FLOAT);
    const double *src = x;
    double *bufs[2] = {a, bb};
    for (int k = 0; k < CHAIN; k++) {
        ref_bn_infer(src, 2, dims, 1, p[k][0], p[k][1], p[k][2], p[k][3], 1e-5, bufs[k & 1]);
        for (int64_t i = 0; i < n; i++)
            bufs[k & 1][i] = (float)bufs[k & 1][i];
        src = bufs[k & 1];
    }
    run_chain(b, x, src);
    free(x), free(a), free(bb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layernorm_chain_streams_in_place),
        cmocka_unit_test(batchnorm_chain_in_place),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    th_report_worst();
    return rc;
}
