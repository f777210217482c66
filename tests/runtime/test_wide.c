/*
 * Nodes with hundreds of inputs or outputs run through every caller of the
 * node evaluator: load-time folding (all inputs constant), the passes'
 * shape inference (a session at the default optimization level), and
 * session runs (inputs fed). Nothing may cap a node's argument count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define WIDE 300
#define LEN 3

/* Input k holds LEN values: k + 0.25 * j for j < LEN, minus 100 for odd k,
 * so Max is not simply the last input. */
static float value(int k, int j)
{
    return (float)(k + 0.25 * j - (k % 2 ? 100 : 0));
}

typedef struct wide {
    char names[WIDE][16];
    const char *ptr[WIDE];
    float data[WIDE][LEN];
    th_tensor in[WIDE];
} wide;

/* A model of one `op` node over WIDE inputs "in0".."in299" of shape [LEN],
 * initializers when `constant`, else graph inputs described in w->in. */
static tb_model *wide_model(wide *w, const char *op, int constant, int64_t axis)
{
    const int64_t dims[1] = {LEN};
    tb_model *b = tb_new(13);
    for (int k = 0; k < WIDE; k++) {
        snprintf(w->names[k], sizeof w->names[k], "in%d", k);
        w->ptr[k] = w->names[k];
        for (int j = 0; j < LEN; j++)
            w->data[k][j] = value(k, j);
        w->in[k] = th_in(w->names[k], ONNORM_FLOAT, 1, dims, w->data[k]);
        if (constant)
            tb_init(b, w->names[k], ONNORM_FLOAT, 1, dims, w->data[k]);
        else
            tb_input(b, w->names[k], ONNORM_FLOAT, 1, dims);
    }
    tb_node *n = tb_node_add(b, op, "wide", WIDE, w->ptr, 1, (const char *[]){"Y"});
    if (axis >= 0) tb_attr_int(n, "axis", axis);
    tb_output(b, "Y", ONNORM_FLOAT);
    return b;
}

/* Runs the model (fed inputs unless constant) with optimization `opt` and
 * returns the number of nodes left in the loaded model. */
static int run_wide(th_run *r, wide *w, tb_model *b, int constant, int opt)
{
    onnorm_model *m = th_load(b);
    int nodes = onnorm_model_node_count(m);
    onnorm_session_options o = th_options(2, opt);
    onnorm_status st = th_run_loaded(r, m, &o, constant ? 0 : WIDE, w->in);
    r->borrowed = false; /* th_free frees the model */
    th_ok(r, st, "wide model");
    return nodes;
}

static void sum_and_max_of_300(void **state)
{
    (void)state;
    static wide w;
    const int64_t dims[1] = {LEN};
    double sum[LEN] = {0}, max[LEN];
    for (int j = 0; j < LEN; j++) {
        max[j] = value(0, j);
        for (int k = 0; k < WIDE; k++) {
            sum[j] += value(k, j);
            if (value(k, j) > max[j]) max[j] = value(k, j);
        }
    }
    for (int constant = 0; constant < 2; constant++)
        for (int opt = 0; opt < 2; opt++) {
            th_run r;
            /* Folded at load when every input is a constant. */
            int nodes = run_wide(&r, &w, wide_model(&w, "Sum", constant, -1), constant, opt);
            assert_int_equal(nodes, constant ? 0 : 1);
            th_expect_output(&r, "Sum", "Y", ONNORM_FLOAT, 1, dims, sum, 1e-6);
            th_free(&r);
            run_wide(&r, &w, wide_model(&w, "Max", constant, -1), constant, opt);
            th_expect_output(&r, "Max", "Y", ONNORM_FLOAT, 1, dims, max, 0);
            th_free(&r);
        }
}

static void concat_of_300_and_split_into_300(void **state)
{
    (void)state;
    static wide w;
    const int64_t cdims[1] = {WIDE * LEN}, one[1] = {LEN};
    static double cat[WIDE * LEN];
    for (int k = 0; k < WIDE; k++)
        for (int j = 0; j < LEN; j++)
            cat[k * LEN + j] = value(k, j);
    for (int constant = 0; constant < 2; constant++)
        for (int opt = 0; opt < 2; opt++) {
            th_run r;
            int nodes = run_wide(&r, &w, wide_model(&w, "Concat", constant, 0), constant, opt);
            assert_int_equal(nodes, constant ? 0 : 1);
            th_expect_output(&r, "Concat", "Y", ONNORM_FLOAT, 1, cdims, cat, 0);
            th_free(&r);
        }
    /* Split of one [900] input into 300 outputs of [3], the last one read. */
    static char names[WIDE][16];
    const char *outs[WIDE];
    for (int k = 0; k < WIDE; k++) {
        snprintf(names[k], sizeof names[k], "out%d", k);
        outs[k] = names[k];
    }
    static float x[WIDE * LEN];
    for (int i = 0; i < WIDE * LEN; i++)
        x[i] = (float)cat[i];
    for (int opt = 0; opt < 2; opt++) {
        tb_model *b = tb_new(13);
        tb_input(b, "X", ONNORM_FLOAT, 1, cdims);
        tb_node *n = tb_node_add(b, "Split", "split", 1, (const char *[]){"X"}, WIDE, outs);
        tb_attr_int(n, "axis", 0);
        for (int k = 0; k < WIDE; k++)
            tb_output(b, names[k], ONNORM_FLOAT);
        th_run r;
        onnorm_model *m = th_load(b);
        onnorm_session_options o = th_options(1, opt);
        th_tensor in = th_in("X", ONNORM_FLOAT, 1, cdims, x);
        th_ok(&r, th_run_loaded(&r, m, &o, 1, &in), "Split into 300");
        r.borrowed = false;
        for (int k = 0; k < WIDE; k += 37)
            th_expect_output(&r, "Split", names[k], ONNORM_FLOAT, 1, one, cat + k * LEN, 0);
        th_expect_output(&r, "Split", names[WIDE - 1], ONNORM_FLOAT, 1, one, cat + (WIDE - 1) * LEN,
                         0);
        th_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sum_and_max_of_300),
        cmocka_unit_test(concat_of_300_and_split_into_300),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
