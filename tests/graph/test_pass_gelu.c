/* fuse-gelu (graph/pass_gelu.c): the Erf and Tanh forms PyTorch exports, in
 * their variants, become one Gelu (ai.onnorm below opset 20, ai.onnx from
 * 20) computing the same values as the unfused graph; a shared
 * intermediate and a wrong constant are near-misses with their reason; the
 * pass can be switched off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

static const int64_t xd[2] = {4, 64};
#define XN (4 * 64)

typedef enum kind {
    ERF_HALF_X,    /* (x * 0.5) * (1 + erf(x / sqrt2)) */
    ERF_HALF_LAST, /* (x * (erf(x * 1/sqrt2) + 1)) * 0.5 */
    ERF_HALF_SUM,  /* (0.5 * (1 + erf)) * x */
    TANH_POW,      /* 0.5 * (x * (1 + tanh(b * (x + k * Pow(x, 3))))) */
    TANH_CUBE,     /* x^3 as x * (x * x) */
    TANH_CHAIN,    /* ((x * k) * x) * x, as a GPT written out exports */
    ERF_SHARED,    /* the Erf output is also a graph output: stays */
    ERF_WRONG,     /* Div by 1.5: stays */
    TANH_WRONG,    /* 0.05 instead of 0.044715: stays */
    TANH_SQUARE,   /* (x * k) * x, x^2 instead of x^3: stays */
} kind;

static void k(tb_model *b, const char *name, float v)
{
    tb_init(b, name, ONNORM_FLOAT, 0, NULL, &v);
}

static void op2(tb_model *b, const char *op, const char *a, const char *c, const char *y)
{
    tb_node_add(b, op, y, 2, (const char *[]){a, c}, 1, (const char *[]){y});
}

static tb_model *build(kind t, int opset)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "X", ONNORM_FLOAT, 2, xd);
    k(b, "half", 0.5f), k(b, "one", 1.0f), k(b, "sqrt2", t == ERF_WRONG ? 1.5f : 1.4142135f);
    k(b, "rsqrt2", 0.70710677f), k(b, "beta", 0.7978845608f);
    k(b, "kappa", t == TANH_WRONG ? 0.05f : 0.044715f), k(b, "three", 3.0f);
    if (t == TANH_POW || t == TANH_CUBE || t == TANH_WRONG || t == TANH_CHAIN || t == TANH_SQUARE) {
        if (t == TANH_CHAIN || t == TANH_SQUARE) {
            op2(b, "Mul", "X", "kappa", "xk");
            op2(b, "Mul", "xk", "X", t == TANH_SQUARE ? "kc" : "xxk");
            if (t == TANH_CHAIN) op2(b, "Mul", "xxk", "X", "kc");
        } else {
            if (t == TANH_CUBE) {
                op2(b, "Mul", "X", "X", "sq");
                op2(b, "Mul", "X", "sq", "cube");
            } else {
                op2(b, "Pow", "X", "three", "cube");
            }
            op2(b, "Mul", "kappa", "cube", "kc");
        }
        op2(b, "Add", "X", "kc", "s");
        op2(b, "Mul", "beta", "s", "in");
        tb_node_add(b, "Tanh", "tanh", 1, (const char *[]){"in"}, 1, (const char *[]){"f"});
        op2(b, "Add", "one", "f", "a");
        op2(b, "Mul", "X", "a", "p");
        op2(b, "Mul", "half", "p", "Y");
    } else {
        if (t == ERF_HALF_LAST)
            op2(b, "Mul", "X", "rsqrt2", "d");
        else
            op2(b, "Div", "X", "sqrt2", "d");
        tb_node_add(b, "Erf", "erf", 1, (const char *[]){"d"}, 1, (const char *[]){"f"});
        if (t == ERF_HALF_LAST)
            op2(b, "Add", "f", "one", "a");
        else
            op2(b, "Add", "one", "f", "a");
        if (t == ERF_HALF_LAST) {
            op2(b, "Mul", "X", "a", "p");
            op2(b, "Mul", "p", "half", "Y");
        } else if (t == ERF_HALF_SUM) {
            op2(b, "Mul", "half", "a", "p");
            op2(b, "Mul", "p", "X", "Y");
        } else {
            op2(b, "Mul", "X", "half", "h");
            op2(b, "Mul", "h", "a", "Y");
        }
    }
    tb_output(b, "Y", ONNORM_FLOAT);
    if (t == ERF_SHARED) tb_output(b, "f", ONNORM_FLOAT);
    return b;
}

static void run(th_run *r, const onnorm_model *m)
{
    static float x[XN];
    for (int i = 0; i < XN; i++)
        x[i] = sinf(0.37f * (float)i) * 6.0f;
    const th_tensor in = th_in("X", ONNORM_FLOAT, 2, xd, x);
    onnorm_session_options o = th_options(1, 0);
    TH_OK(r, th_run_loaded(r, m, &o, 1, &in));
}

static void check(kind t, int opset, int fused, const char *note)
{
    onnorm_model *m = th_load(build(t, opset));
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    const int nodes = onnorm_model_node_count(opt);
    if (th_count_op(opt, "Gelu", NULL) != fused || (fused && nodes != 1))
        fail_msg("case %d: %d Gelu in %d nodes, want %d\n%s", (int)t,
                 th_count_op(opt, "Gelu", NULL), nodes, fused, report);
    if (note && !strstr(report, note))
        fail_msg("case %d: the report lacks '%s':\n%s", (int)t, note, report);
    th_run ref, got;
    run(&ref, m);
    run(&got, opt);
    th_expect_same_outputs(&ref, &got, 1e-6, 1e-5, 0);
    th_free(&ref), th_free(&got);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void both_forms_fuse(void **state)
{
    (void)state;
    for (kind t = ERF_HALF_X; t <= TANH_CHAIN; t++) {
        check(t, 17, 1, "fuse-gelu       1 rewritten");
        check(t, 20, 1, NULL); /* ai.onnx Gelu-20 */
    }
    check(TANH_POW, 13, 1, NULL);
}

static void near_misses_stay(void **state)
{
    (void)state;
    check(ERF_SHARED, 17, 0, "another consumer");
    check(ERF_WRONG, 17, 0, "not x / sqrt(2)");
    check(TANH_WRONG, 17, 0, "not 0.044715");
    check(TANH_SQUARE, 17, 0, NULL);
}

static void the_pass_can_be_switched_off(void **state)
{
    (void)state;
    th_expect_pass_off(th_load(build(ERF_HALF_X, 17)), "fuse-gelu", "Gelu", "Erf", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_forms_fuse),
        cmocka_unit_test(near_misses_stay),
        cmocka_unit_test(the_pass_can_be_switched_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
