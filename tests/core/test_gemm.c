/* Gemm and MatMul through the public API against naive triple loops written
 * here (double accumulation): every transA/transB combination, alpha and
 * beta, C of shape [N], [1,N], [M,1], [M,N], [1], scalar or absent, the
 * opset rules for C; MatMul with 1-D operands, batches and broadcast batch
 * axes, empty operands; 1 and several threads; and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"
#include "refnorm.h"

#define TOL 1e-5

/* ---- Gemm ------------------------------------------------------------------ */

typedef struct gemm_case {
    int opset;
    int64_t m, k, n;
    int ta, tb;
    float alpha, beta; /* 0: attribute absent (default 1) */
    int c_rank;        /* -1: no C */
    int64_t c_dims[2];
    int c_input;   /* C bound at run time */
    int broadcast; /* opsets 1 and 6: write broadcast = 1 */
    int threads;
} gemm_case;

static void run_gemm_case(const gemm_case *g)
{
    const int64_t ad[2] = {g->ta ? g->k : g->m, g->ta ? g->m : g->k};
    const int64_t bd[2] = {g->tb ? g->n : g->k, g->tb ? g->k : g->n};
    const int64_t cn = g->c_rank >= 0 ? rn_prod(g->c_dims, 0, g->c_rank) : 0;
    float *a = th_randf(11, g->m * g->k), *b = th_randf(12, g->k * g->n), *c = th_randf(13, cn);
    const double alpha = g->alpha ? g->alpha : 1.0, beta = g->beta ? g->beta : 1.0;
    double *ref = th_dalloc(g->m * g->n);
    for (int64_t i = 0; i < g->m; i++)
        for (int64_t j = 0; j < g->n; j++) {
            double acc = 0;
            for (int64_t p = 0; p < g->k; p++)
                acc += (double)a[g->ta ? p * g->m + i : i * g->k + p] *
                       b[g->tb ? j * g->k + p : p * g->n + j];
            double cv = 0;
            if (g->c_rank >= 0) {
                /* unidirectional broadcast: size-1 (or missing) axes repeat */
                int64_t ci = g->c_rank == 2 && g->c_dims[0] != 1 ? i : 0;
                int64_t cj = g->c_rank >= 1 && g->c_dims[g->c_rank - 1] != 1 ? j : 0;
                int64_t cols = g->c_rank >= 1 ? g->c_dims[g->c_rank - 1] : 1;
                cv = c[ci * cols + cj];
            }
            ref[i * g->n + j] = alpha * acc + beta * cv;
        }
    th_run r;
    th_tensor in[3] = {th_in("A", ONNORM_FLOAT, 2, ad, a), th_const("B", ONNORM_FLOAT, 2, bd, b),
                       th_const("C", ONNORM_FLOAT, g->c_rank, g->c_dims, c)};
    in[2].constant = !g->c_input;
    tb_node *nd;
    tb_model *mb =
        th_node_model(&r, g->opset, "Gemm", g->c_rank >= 0 ? 3 : 2, in, ONNORM_FLOAT, &nd);
    if (g->ta) tb_attr_int(nd, "transA", 1);
    if (g->tb) tb_attr_int(nd, "transB", 1);
    if (g->alpha) tb_attr_float(nd, "alpha", g->alpha);
    if (g->beta) tb_attr_float(nd, "beta", g->beta);
    if (g->broadcast) tb_attr_int(nd, "broadcast", 1);
    th_ok(&r, th_go(&r, mb, g->threads), "Gemm");
    th_expect_output(&r, "Gemm", "Y", ONNORM_FLOAT, 2, (int64_t[]){g->m, g->n}, ref, TOL);
    th_free(&r);
    free(a), free(b), free(c), free(ref);
}

/* Gemm on a fed float32 A and constant B and C (c_rank < 0: no C). */
static tb_model *gemm_error_model(th_run *r, int opset, int ar, const int64_t *ad, int br,
                                  const int64_t *bd, int c_rank, const int64_t *cd)
{
    static float data[256];
    const th_tensor in[3] = {th_in("A", ONNORM_FLOAT, ar, ad, data),
                             th_const("B", ONNORM_FLOAT, br, bd, data),
                             th_const("C", ONNORM_FLOAT, c_rank < 0 ? 0 : c_rank, cd, data)};
    return th_node_model(r, opset, "Gemm", c_rank < 0 ? 2 : 3, in, ONNORM_FLOAT, NULL);
}

static void gemm_transposes(void **state)
{
    (void)state;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            run_gemm_case(&(gemm_case){.opset = 13,
                                       .m = 5,
                                       .k = 7,
                                       .n = 4,
                                       .ta = ta,
                                       .tb = tb,
                                       .alpha = 0.5f,
                                       .beta = 2.0f,
                                       .c_rank = 2,
                                       .c_dims = {5, 4}});
            run_gemm_case(&(gemm_case){
                .opset = 11, .m = 3, .k = 6, .n = 8, .ta = ta, .tb = tb, .c_rank = -1});
            /* One row (a classifier at batch 1) runs as a matrix-vector
             * product, with and without C and alpha. */
            run_gemm_case(&(gemm_case){.opset = 13,
                                       .m = 1,
                                       .k = 37,
                                       .n = 19,
                                       .ta = ta,
                                       .tb = tb,
                                       .alpha = 0.75f,
                                       .beta = 0.5f,
                                       .c_rank = 1,
                                       .c_dims = {19}});
            run_gemm_case(&(gemm_case){
                .opset = 11, .m = 1, .k = 5, .n = 3, .ta = ta, .tb = tb, .c_rank = -1});
        }
}

static void gemm_c_broadcast(void **state)
{
    (void)state;
    const struct {
        int rank;
        int64_t dims[2];
    } shapes[] = {{1, {4}}, {2, {1, 4}}, {2, {5, 1}}, {2, {5, 4}}, {0, {0}}, {1, {1}}, {2, {1, 1}}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int opset = 7; opset <= 13; opset += 6) {
            gemm_case g = {.opset = opset,
                           .m = 5,
                           .k = 3,
                           .n = 4,
                           .alpha = -1.5f,
                           .beta = 0.25f,
                           .c_rank = shapes[i].rank,
                           .c_dims = {shapes[i].dims[0], shapes[i].dims[1]}};
            run_gemm_case(&g);
            g.c_input = 1; /* C known only at run time */
            g.ta = 1;
            run_gemm_case(&g);
        }
    /* C absent from opset 11 on */
    for (int opset = 11; opset <= 21; opset += 2)
        run_gemm_case(
            &(gemm_case){.opset = opset, .m = 2, .k = 3, .n = 4, .alpha = 3.0f, .c_rank = -1});
}

static void gemm_legacy_opsets(void **state)
{
    (void)state;
    /* opset 6: C must be [M, N] unless broadcast = 1 */
    run_gemm_case(&(gemm_case){.opset = 6, .m = 3, .k = 2, .n = 4, .c_rank = 2, .c_dims = {3, 4}});
    run_gemm_case(&(gemm_case){.opset = 6,
                               .m = 3,
                               .k = 2,
                               .n = 4,
                               .c_rank = 1,
                               .c_dims = {4},
                               .broadcast = 1,
                               .beta = 0.5f});
    run_gemm_case(&(gemm_case){.opset = 1,
                               .m = 3,
                               .k = 2,
                               .n = 4,
                               .c_rank = 2,
                               .c_dims = {3, 1},
                               .broadcast = 1,
                               .tb = 1});
    th_run r;
    tb_model *b =
        gemm_error_model(&r, 6, 2, (int64_t[]){3, 2}, 2, (int64_t[]){2, 4}, 1, (int64_t[]){4});
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "does not match (broadcast = 0) [3,4]");
}

/* The packed path (constant B, alpha 1, C absent or per column with beta
 * 1, or [M, N]): both B layouts, C of [N], [1, N], [M, N], sizes past the
 * engine's blocks, 1 and 3 threads. */
static void gemm_constant_b(void **state)
{
    (void)state;
    const struct {
        int rank;
        int64_t dims[2];
    } cs[] = {{-1, {0}}, {1, {70}}, {2, {1, 70}}, {2, {130, 70}}};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        for (int tb = 0; tb < 2; tb++)
            for (int t = 1; t <= 3; t += 2)
                run_gemm_case(&(gemm_case){.opset = 13,
                                           .m = 130,
                                           .k = 300,
                                           .n = 70,
                                           .tb = tb,
                                           .c_rank = cs[i].rank,
                                           .c_dims = {cs[i].dims[0], cs[i].dims[1]},
                                           .threads = t});
}

static void gemm_threads(void **state)
{
    (void)state;
    /* an empty inner dimension leaves beta * C */
    run_gemm_case(&(gemm_case){
        .opset = 13, .m = 3, .k = 0, .n = 4, .beta = 2.0f, .c_rank = 1, .c_dims = {4}});
    run_gemm_case(&(gemm_case){.opset = 13, .m = 3, .k = 0, .n = 4, .c_rank = -1});
    for (int t = 1; t <= 3; t += 2)
        run_gemm_case(&(gemm_case){.opset = 13,
                                   .m = 190,
                                   .k = 130,
                                   .n = 210,
                                   .ta = t > 1,
                                   .alpha = 0.75f,
                                   .beta = -1.0f,
                                   .c_rank = 1,
                                   .c_dims = {210},
                                   .threads = t});
}

static void gemm_errors(void **state)
{
    (void)state;
    th_run r;
    /* inner dimensions */
    tb_model *b = gemm_error_model(&r, 13, 2, (int64_t[]){3, 4}, 2, (int64_t[]){5, 2}, -1, NULL);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "inner dimensions differ");
    /* C that does not broadcast */
    b = gemm_error_model(&r, 13, 2, (int64_t[]){3, 4}, 2, (int64_t[]){4, 2}, 2, (int64_t[]){2, 2});
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "C [2,2] does not broadcast to [3,2]");
    b = gemm_error_model(&r, 13, 2, (int64_t[]){3, 4}, 2, (int64_t[]){4, 2}, 3,
                         (int64_t[]){1, 3, 2});
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "does not broadcast");
    /* 3-D A */
    b = gemm_error_model(&r, 13, 3, (int64_t[]){1, 3, 4}, 2, (int64_t[]){4, 2}, -1, NULL);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "must be 2-D");
    /* C is required before opset 11: refused at load */
    b = gemm_error_model(&r, 9, 2, (int64_t[]){3, 4}, 2, (int64_t[]){4, 2}, -1, NULL);
    assert_int_equal(th_go_fails(&r, b, 1, TH_ANY_ERROR, "Gemm-7 takes 3 to 3 inputs, got 2"),
                     TH_LOAD);
    /* int32 operands */
    static int32_t ia[12], ib[8];
    const th_tensor ints[2] = {th_const("A", ONNORM_INT32, 2, (int64_t[]){3, 4}, ia),
                               th_const("B", ONNORM_INT32, 2, (int64_t[]){4, 2}, ib)};
    b = th_node_model(&r, 13, "Gemm", 2, ints, ONNORM_FLOAT, NULL);
    th_go_fails(&r, b, 1, ONNORM_ERR_DTYPE, "input 'A' has type int32; supported: float32");
}

/* ---- MatMul ---------------------------------------------------------------- */

/* numpy.matmul in double: shapes ar/ad and br/bd; writes the result shape. */
static double *ref_matmul(const float *a, int ar, const int64_t *ad, const float *b, int br,
                          const int64_t *bd, int *yr, int64_t *yd)
{
    const int64_t M = ar >= 2 ? ad[ar - 2] : 1, K = ad[ar - 1], N = br >= 2 ? bd[br - 1] : 1;
    const int abat = ar > 2 ? ar - 2 : 0, bbat = br > 2 ? br - 2 : 0;
    const int nb = abat > bbat ? abat : bbat;
    int64_t batch[8], adim[8], bdim[8];
    for (int i = 0; i < nb; i++) {
        int ai = i - (nb - abat), bi = i - (nb - bbat);
        adim[i] = ai >= 0 ? ad[ai] : 1;
        bdim[i] = bi >= 0 ? bd[bi] : 1;
        batch[i] = adim[i] == 1 ? bdim[i] : adim[i];
    }
    *yr = 0;
    for (int i = 0; i < nb; i++)
        yd[(*yr)++] = batch[i];
    if (ar >= 2) yd[(*yr)++] = M;
    if (br >= 2) yd[(*yr)++] = N;
    const int64_t nbatch = rn_prod(batch, 0, nb);
    double *y = th_dalloc(nbatch * M * N);
    for (int64_t t = 0; t < nbatch; t++) {
        int64_t rem = t, ao = 0, bo = 0, as = 1, bs = 1;
        for (int i = nb - 1; i >= 0; i--) {
            int64_t idx = rem % batch[i];
            rem /= batch[i];
            ao += (adim[i] == 1 ? 0 : idx) * as;
            bo += (bdim[i] == 1 ? 0 : idx) * bs;
            as *= adim[i];
            bs *= bdim[i];
        }
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double acc = 0;
                for (int64_t p = 0; p < K; p++)
                    acc += (double)a[ao * M * K + i * K + p] * b[bo * K * N + p * N + j];
                y[(t * M + i) * N + j] = acc;
            }
    }
    return y;
}

/* const_b: B is an initializer (packed once at prepare when it has no batches). */
static void run_matmul_b(int opset, int ar, const int64_t *ad, int br, const int64_t *bd,
                         int threads, bool const_b)
{
    float *a = th_randf(21, rn_prod(ad, 0, ar)), *b = th_randf(22, rn_prod(bd, 0, br));
    int yr;
    int64_t yd[8];
    double *ref = ref_matmul(a, ar, ad, b, br, bd, &yr, yd);
    th_run r;
    const th_tensor in[2] = {th_in("A", ONNORM_FLOAT, ar, ad, a),
                             const_b ? th_const("B", ONNORM_FLOAT, br, bd, b)
                                     : th_in("B", ONNORM_FLOAT, br, bd, b)};
    th_ok(&r, th_go(&r, th_node_model(&r, opset, "MatMul", 2, in, ONNORM_FLOAT, NULL), threads),
          "MatMul");
    th_expect_output(&r, "MatMul", "Y", ONNORM_FLOAT, yr, yd, ref, TOL);
    th_free(&r);
    free(a), free(b), free(ref);
}

static void run_matmul(int opset, int ar, const int64_t *ad, int br, const int64_t *bd, int threads)
{
    run_matmul_b(opset, ar, ad, br, bd, threads, false);
}

/* Constant weights (ops/core/gemm.c packs them once): 1-D to 4-D A over a
 * 2-D or batch-1 B, sizes around the engine's tiles and blocks (k over 256,
 * n with a half panel or a wider rest), 1 and 3 threads; a B with batches
 * stays on the per-batch path. */
static void matmul_constant_b(void **state)
{
    (void)state;
    for (int t = 1; t <= 3; t += 2) {
        run_matmul_b(13, 2, (int64_t[]){128, 384}, 2, (int64_t[]){384, 72}, t, true);
        run_matmul_b(13, 3, (int64_t[]){2, 37, 300}, 2, (int64_t[]){300, 41}, t, true);
        run_matmul_b(13, 4, (int64_t[]){2, 3, 5, 7}, 3, (int64_t[]){1, 7, 9}, t, true);
        run_matmul_b(13, 1, (int64_t[]){40}, 2, (int64_t[]){40, 24}, t, true);
        run_matmul_b(13, 2, (int64_t[]){7, 520}, 2, (int64_t[]){520, 3}, t, true);
        run_matmul_b(13, 3, (int64_t[]){3, 4, 5}, 3, (int64_t[]){3, 5, 2}, t, true);
        run_matmul_b(13, 2, (int64_t[]){0, 5}, 2, (int64_t[]){5, 4}, t, true);
    }
}

static void matmul_vectors(void **state)
{
    (void)state;
    run_matmul(13, 2, (int64_t[]){3, 4}, 2, (int64_t[]){4, 5}, 1);
    run_matmul(13, 1, (int64_t[]){4}, 2, (int64_t[]){4, 5}, 1);   /* -> [5] */
    run_matmul(13, 2, (int64_t[]){3, 4}, 1, (int64_t[]){4}, 1);   /* -> [3] */
    run_matmul(13, 1, (int64_t[]){6}, 1, (int64_t[]){6}, 1);      /* -> [] */
    run_matmul(9, 1, (int64_t[]){4}, 3, (int64_t[]){2, 4, 3}, 1); /* -> [2,3] */
    run_matmul(1, 3, (int64_t[]){2, 3, 4}, 1, (int64_t[]){4}, 1); /* -> [2,3] */
    for (int opset = 7; opset <= 21; opset += 7)
        run_matmul(opset, 2, (int64_t[]){2, 2}, 2, (int64_t[]){2, 2}, 1);
}

static void matmul_batches(void **state)
{
    (void)state;
    run_matmul(13, 3, (int64_t[]){3, 4, 5}, 2, (int64_t[]){5, 2}, 1);          /* stacked rows */
    run_matmul(13, 4, (int64_t[]){2, 3, 4, 5}, 4, (int64_t[]){1, 1, 5, 2}, 1); /* stacked too */
    run_matmul(13, 3, (int64_t[]){3, 4, 5}, 3, (int64_t[]){3, 5, 2}, 1);
    run_matmul(13, 4, (int64_t[]){2, 1, 3, 4}, 3, (int64_t[]){3, 4, 5}, 1); /* -> [2,3,3,5] */
    run_matmul(13, 3, (int64_t[]){1, 4, 5}, 4, (int64_t[]){2, 3, 5, 2}, 1); /* -> [2,3,4,2] */
    run_matmul(13, 2, (int64_t[]){4, 5}, 3, (int64_t[]){3, 5, 2}, 1);       /* -> [3,4,2] */
    run_matmul(13, 5, (int64_t[]){2, 1, 2, 3, 4}, 4, (int64_t[]){3, 1, 4, 2}, 1);
    /* empty operands: no rows, and an empty inner dimension (all zeros) */
    run_matmul(13, 2, (int64_t[]){0, 3}, 2, (int64_t[]){3, 4}, 1);
    run_matmul(13, 2, (int64_t[]){2, 0}, 2, (int64_t[]){0, 3}, 1);
    run_matmul(13, 3, (int64_t[]){0, 2, 3}, 3, (int64_t[]){1, 3, 4}, 1);
    /* threads */
    for (int t = 1; t <= 3; t += 2) {
        run_matmul(13, 3, (int64_t[]){4, 60, 70}, 3, (int64_t[]){4, 70, 50}, t);
        run_matmul(13, 3, (int64_t[]){4, 60, 70}, 2, (int64_t[]){70, 90}, t);
    }
}

/* MatMul of fed float32 A and B; fails with `code` and `needle`. */
static void matmul_fails(int ar, const int64_t *ad, int br, const int64_t *bd, onnorm_status code,
                         const char *needle)
{
    static float data[256];
    th_run r;
    const th_tensor in[2] = {th_in("A", ONNORM_FLOAT, ar, ad, data),
                             th_in("B", ONNORM_FLOAT, br, bd, data)};
    th_go_fails(&r, th_node_model(&r, 13, "MatMul", 2, in, ONNORM_FLOAT, NULL), 1, code, needle);
}

static void matmul_errors(void **state)
{
    (void)state;
    matmul_fails(2, (int64_t[]){3, 4}, 2, (int64_t[]){3, 4}, ONNORM_ERR_SHAPE,
                 "inner dimensions of A [3,4] and B [3,4] differ");
    matmul_fails(3, (int64_t[]){2, 3, 4}, 3, (int64_t[]){3, 4, 5}, ONNORM_ERR_SHAPE,
                 "do not broadcast");
    matmul_fails(1, (int64_t[]){3}, 1, (int64_t[]){4}, ONNORM_ERR_SHAPE, "inner dimensions");
    static double da[4];
    th_run r;
    const th_tensor f64[2] = {th_const("A", ONNORM_DOUBLE, 2, (int64_t[]){2, 2}, da),
                              th_const("B", ONNORM_DOUBLE, 2, (int64_t[]){2, 2}, da)};
    th_go_fails(&r, th_node_model(&r, 13, "MatMul", 2, f64, ONNORM_FLOAT, NULL), 1,
                ONNORM_ERR_DTYPE, "input 'A' has type float64; supported: float32");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gemm_transposes),    cmocka_unit_test(gemm_c_broadcast),
        cmocka_unit_test(gemm_legacy_opsets), cmocka_unit_test(gemm_threads),
        cmocka_unit_test(gemm_constant_b),    cmocka_unit_test(gemm_errors),
        cmocka_unit_test(matmul_vectors),     cmocka_unit_test(matmul_batches),
        cmocka_unit_test(matmul_constant_b),  cmocka_unit_test(matmul_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
