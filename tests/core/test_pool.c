/* MaxPool, AveragePool and GlobalAveragePool through the public API against
 * naive window loops written here: pads, strides, ceil_mode (including the
 * dropped last window), dilations, count_include_pad, every auto_pad, 1-D to
 * 3-D, the Indices output in both storage orders, float32/float64 and (from
 * MaxPool-12) int8/uint8, 1 and several threads; and the errors. */
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

#define TOL 1e-6
#define MAXSP 3

/* ---- helpers ------------------------------------------------------------------ */

/* A model of one pool node named "pool" on X (fed) writing Y and, with
 * `indices`, I; the node goes to *nd. */
static tb_model *pool_model(th_run *r, int opset, const char *op, onnorm_dtype dt, int rank,
                            const int64_t *dims, const void *x, int indices, tb_node **nd)
{
    tb_model *b = th_new(r, opset);
    th_add(r, b, th_in("X", dt, rank, dims, x));
    tb_output(b, "Y", dt);
    if (indices) tb_output(b, "I", ONNORM_INT64);
    *nd = tb_node_add(b, op, "pool", 1, (const char *[]){"X"}, indices ? 2 : 1,
                      (const char *[]){"Y", "I"});
    return b;
}

/* n values of type dt: uniform in [-2, 2) for floats (exact in float32),
 * full range for the integer types. */
static void *rand_data(onnorm_dtype dt, uint64_t seed, int64_t n)
{
    rn_rng r;
    rn_seed(&r, seed);
    void *p = malloc((size_t)(n ? n : 1) * 8);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++) {
        double v = rn_uniform(&r, -2.0, 2.0);
        switch (dt) {
        case ONNORM_FLOAT: ((float *)p)[i] = (float)v; break;
        case ONNORM_DOUBLE: ((double *)p)[i] = v; break;
        case ONNORM_INT8: ((int8_t *)p)[i] = (int8_t)(rn_next(&r) % 256 - 128); break;
        case ONNORM_UINT8: ((uint8_t *)p)[i] = (uint8_t)(rn_next(&r) % 256); break;
        default: fail_msg("unexpected dtype");
        }
    }
    return p;
}

/* ---- reference ------------------------------------------------------------- */

typedef struct pool_case {
    int opset, nsp;
    const char *op; /* "MaxPool" or "AveragePool" */
    onnorm_dtype dt;
    int64_t n, c;
    int64_t in[MAXSP], k[MAXSP], s[MAXSP], d[MAXSP];
    int64_t pads[2 * MAXSP];
    const char *auto_pad;
    int ceil_mode, count_include_pad, indices, storage_order;
    int threads;
    int64_t want[MAXSP]; /* expected output extents when stated (else derived) */
} pool_case;

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* Output extents and effective pads (the spec's formulas; ceil_mode drops a
 * last window that would start in the end padding). */
static void pool_geometry(const pool_case *pc, int64_t *od, int64_t *plo, int64_t *phi)
{
    for (int i = 0; i < pc->nsp; i++) {
        int64_t s = pc->s[i] ? pc->s[i] : 1, d = pc->d[i] ? pc->d[i] : 1;
        int64_t eff = (pc->k[i] - 1) * d + 1, in = pc->in[i];
        plo[i] = pc->pads[i], phi[i] = pc->pads[i + pc->nsp];
        if (pc->auto_pad && !strncmp(pc->auto_pad, "SAME", 4)) {
            od[i] = ceil_div(in, s);
            int64_t total = (od[i] - 1) * s + eff - in;
            if (total < 0) total = 0;
            plo[i] = !strcmp(pc->auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
            phi[i] = total - plo[i];
        } else {
            if (pc->auto_pad) plo[i] = phi[i] = 0;
            int64_t span = in + plo[i] + phi[i] - eff;
            od[i] = (pc->ceil_mode ? ceil_div(span, s) : span / s) + 1;
            if (pc->ceil_mode && (od[i] - 1) * s >= in + plo[i]) od[i]--;
        }
        if (pc->want[0]) assert_int_equal(od[i], pc->want[i]);
    }
}

static void unravel(int64_t i, int n, const int64_t *dims, int64_t *c)
{
    for (int a = n - 1; a >= 0; a--) {
        c[a] = i % dims[a];
        i /= dims[a];
    }
}

/* Fills y (and idx) for every output position of every plane. */
static void ref_pool(const pool_case *pc, const void *x, const int64_t *od, const int64_t *plo,
                     const int64_t *phi, double *y, double *idx)
{
    const int nsp = pc->nsp, is_max = !strcmp(pc->op, "MaxPool");
    const int64_t isz = rn_prod(pc->in, 0, nsp), osz = rn_prod(od, 0, nsp),
                  ksz = rn_prod(pc->k, 0, nsp);
    for (int64_t p = 0; p < pc->n * pc->c; p++)
        for (int64_t o = 0; o < osz; o++) {
            int64_t oc[MAXSP], kc[MAXSP], best_at = -1, count = 0;
            double best = -INFINITY, sum = 0;
            unravel(o, nsp, od, oc);
            for (int64_t kk = 0; kk < ksz; kk++) {
                unravel(kk, nsp, pc->k, kc);
                int inside = 1, in_pad = 1;
                int64_t rm = 0, cm = 0, scale = 1;
                for (int i = 0; i < nsp; i++) {
                    int64_t d = pc->d[i] ? pc->d[i] : 1, s = pc->s[i] ? pc->s[i] : 1;
                    int64_t q = oc[i] * s - plo[i] + kc[i] * d;
                    if (q < 0 || q >= pc->in[i]) inside = 0;
                    if (q < -plo[i] || q >= pc->in[i] + phi[i]) in_pad = 0;
                    rm = rm * pc->in[i] + q;
                    cm += q * scale;
                    scale *= pc->in[i];
                }
                count += pc->count_include_pad ? in_pad : inside;
                if (!inside) continue;
                double v = th_value(pc->dt, x, p * isz + rm);
                sum += v;
                if (v > best || best_at < 0) {
                    best = v;
                    best_at = p * isz + (pc->storage_order ? cm : rm);
                }
            }
            y[p * osz + o] = is_max ? best : sum / (double)count;
            if (idx) idx[p * osz + o] = (double)best_at;
        }
}

static void run_pool_case(const pool_case *pc)
{
    const int nsp = pc->nsp;
    int64_t xd[2 + MAXSP] = {pc->n, pc->c}, yd[2 + MAXSP] = {pc->n, pc->c}, plo[MAXSP], phi[MAXSP];
    memcpy(xd + 2, pc->in, (size_t)nsp * sizeof *xd);
    pool_geometry(pc, yd + 2, plo, phi);
    void *x = rand_data(pc->dt, 31, rn_prod(xd, 0, nsp + 2));
    const int64_t ny = rn_prod(yd, 0, nsp + 2);
    double *ref = calloc((size_t)(ny ? ny : 1), sizeof *ref),
           *iref = calloc((size_t)(ny ? ny : 1), sizeof *iref);
    assert_true(ref && iref);
    ref_pool(pc, x, yd + 2, plo, phi, ref, iref);

    th_run r;
    tb_node *nd;
    tb_model *b = pool_model(&r, pc->opset, pc->op, pc->dt, nsp + 2, xd, x, pc->indices, &nd);
    tb_attr_ints(nd, "kernel_shape", nsp, pc->k);
    if (pc->s[0]) tb_attr_ints(nd, "strides", nsp, pc->s);
    if (pc->d[0]) tb_attr_ints(nd, "dilations", nsp, pc->d);
    if (pc->auto_pad)
        tb_attr_string(nd, "auto_pad", pc->auto_pad);
    else
        tb_attr_ints(nd, "pads", 2 * nsp, pc->pads);
    if (pc->ceil_mode) tb_attr_int(nd, "ceil_mode", 1);
    if (pc->count_include_pad) tb_attr_int(nd, "count_include_pad", 1);
    if (pc->storage_order) tb_attr_int(nd, "storage_order", 1);
    th_ok(&r, th_go(&r, b, pc->threads), pc->op);
    th_expect_output(&r, pc->op, "Y", pc->dt, nsp + 2, yd, ref, TOL);
    if (pc->indices) th_expect_output(&r, pc->op, "I", ONNORM_INT64, nsp + 2, yd, iref, TOL);
    th_free(&r);
    free(x), free(ref), free(iref);
}

/* ---- MaxPool --------------------------------------------------------------- */

static void maxpool_basic(void **state)
{
    (void)state;
    const int opsets[] = {6, 8, 10, 11, 12, 21};
    for (int i = 0; i < 6; i++)
        run_pool_case(&(pool_case){.opset = opsets[i],
                                   .nsp = 2,
                                   .op = "MaxPool",
                                   .dt = ONNORM_FLOAT,
                                   .n = 2,
                                   .c = 3,
                                   .in = {7, 6},
                                   .k = {3, 2}});
    /* asymmetric pads and strides */
    run_pool_case(&(pool_case){.opset = 12,
                               .nsp = 2,
                               .op = "MaxPool",
                               .dt = ONNORM_FLOAT,
                               .n = 1,
                               .c = 2,
                               .in = {8, 9},
                               .k = {3, 3},
                               .s = {2, 3},
                               .pads = {1, 0, 2, 2}});
    /* float64 */
    run_pool_case(&(pool_case){.opset = 12,
                               .nsp = 2,
                               .op = "MaxPool",
                               .dt = ONNORM_DOUBLE,
                               .n = 1,
                               .c = 2,
                               .in = {5, 5},
                               .k = {2, 2},
                               .s = {2, 2},
                               .pads = {1, 1, 1, 1}});
}

static void maxpool_ceil_dilations(void **state)
{
    (void)state;
    /* extent 5, window 2, stride 2, pads 1+1: ceil gives 4 windows, but the
     * last would start in the end padding and is dropped -> 3 */
    run_pool_case(&(pool_case){.opset = 10,
                               .nsp = 2,
                               .op = "MaxPool",
                               .dt = ONNORM_FLOAT,
                               .n = 1,
                               .c = 2,
                               .in = {5, 6},
                               .k = {2, 3},
                               .s = {2, 2},
                               .pads = {1, 0, 1, 0},
                               .ceil_mode = 1,
                               .want = {3, 3}});
    /* floor keeps 3 and 2 there */
    run_pool_case(&(pool_case){.opset = 10,
                               .nsp = 2,
                               .op = "MaxPool",
                               .dt = ONNORM_FLOAT,
                               .n = 1,
                               .c = 2,
                               .in = {5, 6},
                               .k = {2, 3},
                               .s = {2, 2},
                               .pads = {1, 0, 1, 0},
                               .want = {3, 2}});
    /* dilations with pads and ceil_mode */
    run_pool_case(&(pool_case){.opset = 12,
                               .nsp = 2,
                               .op = "MaxPool",
                               .dt = ONNORM_FLOAT,
                               .n = 2,
                               .c = 2,
                               .in = {9, 10},
                               .k = {2, 3},
                               .s = {2, 3},
                               .d = {3, 2},
                               .pads = {1, 2, 0, 1},
                               .ceil_mode = 1});
}

static void maxpool_auto_pad_ranks(void **state)
{
    (void)state;
    const char *modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int i = 0; i < 3; i++)
        run_pool_case(&(pool_case){.opset = 12,
                                   .nsp = 2,
                                   .op = "MaxPool",
                                   .dt = ONNORM_FLOAT,
                                   .n = 1,
                                   .c = 2,
                                   .in = {7, 8},
                                   .k = {4, 3},
                                   .s = {2, 3},
                                   .auto_pad = modes[i]});
    run_pool_case(&(pool_case){.opset = 12,
                               .nsp = 1,
                               .op = "MaxPool",
                               .dt = ONNORM_FLOAT,
                               .n = 2,
                               .c = 3,
                               .in = {11},
                               .k = {3},
                               .s = {2},
                               .pads = {1, 1}});
    run_pool_case(&(pool_case){.opset = 12,
                               .nsp = 3,
                               .op = "MaxPool",
                               .dt = ONNORM_FLOAT,
                               .n = 1,
                               .c = 2,
                               .in = {5, 6, 4},
                               .k = {2, 3, 2},
                               .s = {2, 1, 2},
                               .pads = {0, 1, 1, 1, 1, 0}});
    /* several threads */
    for (int t = 1; t <= 3; t += 2)
        run_pool_case(&(pool_case){.opset = 12,
                                   .nsp = 2,
                                   .op = "MaxPool",
                                   .dt = ONNORM_FLOAT,
                                   .n = 2,
                                   .c = 16,
                                   .in = {40, 37},
                                   .k = {3, 3},
                                   .s = {2, 2},
                                   .pads = {1, 1, 1, 1},
                                   .threads = t});
}

static void maxpool_indices(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        run_pool_case(&(pool_case){.opset = 12,
                                   .nsp = 2,
                                   .op = "MaxPool",
                                   .dt = ONNORM_FLOAT,
                                   .n = 2,
                                   .c = 2,
                                   .in = {5, 7},
                                   .k = {3, 2},
                                   .s = {2, 2},
                                   .pads = {1, 1, 1, 0},
                                   .indices = 1,
                                   .storage_order = order});
        run_pool_case(&(pool_case){.opset = 8,
                                   .nsp = 3,
                                   .op = "MaxPool",
                                   .dt = ONNORM_FLOAT,
                                   .n = 1,
                                   .c = 2,
                                   .in = {3, 4, 5},
                                   .k = {2, 2, 2},
                                   .indices = 1,
                                   .storage_order = order});
    }
}

static void maxpool_small_ints(void **state)
{
    (void)state;
    run_pool_case(&(pool_case){.opset = 12,
                               .nsp = 2,
                               .op = "MaxPool",
                               .dt = ONNORM_UINT8,
                               .n = 1,
                               .c = 3,
                               .in = {6, 6},
                               .k = {3, 3},
                               .s = {2, 2},
                               .pads = {1, 1, 1, 1},
                               .indices = 1});
    run_pool_case(&(pool_case){.opset = 13,
                               .nsp = 2,
                               .op = "MaxPool",
                               .dt = ONNORM_INT8,
                               .n = 1,
                               .c = 3,
                               .in = {6, 5},
                               .k = {2, 2},
                               .pads = {1, 0, 0, 1}});
}

static void maxpool_errors(void **state)
{
    (void)state;
    static float x[4096];
    static int8_t xi[64];
    const int64_t x4[4] = {1, 2, 6, 6};
    th_run r;
    tb_node *nd;
    tb_model *b = pool_model(&r, 12, "MaxPool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "'kernel_shape' is required");
    b = pool_model(&r, 12, "MaxPool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 3, (int64_t[]){2, 2, 2});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "'kernel_shape' has 3 values, expected 2");
    b = pool_model(&r, 12, "MaxPool", ONNORM_FLOAT, 2, (int64_t[]){2, 6}, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 1, (int64_t[]){2});
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "rank >= 3");
    b = pool_model(&r, 12, "MaxPool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 0});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "kernel_shape[1] = 0");
    b = pool_model(&r, 12, "MaxPool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    tb_attr_ints(nd, "strides", 1, (int64_t[]){2});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "'strides' has 1 values, expected 2");
    b = pool_model(&r, 12, "MaxPool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    tb_attr_int(nd, "storage_order", 2);
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "storage_order must be 0 or 1");
    b = pool_model(&r, 12, "MaxPool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){7, 2});
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "exceeds the padded input");
    /* attributes the opset does not define yet */
    b = pool_model(&r, 8, "MaxPool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    tb_attr_ints(nd, "dilations", 2, (int64_t[]){2, 2});
    th_go_fails(&r, b, 1, ONNORM_ERR_UNSUPPORTED,
                "'dilations' is not defined for MaxPool at opset 8");
    b = pool_model(&r, 9, "MaxPool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    tb_attr_int(nd, "ceil_mode", 1);
    th_go_fails(&r, b, 1, ONNORM_ERR_UNSUPPORTED,
                "'ceil_mode' is not defined for MaxPool at opset 9");
    /* Indices without Y: the loader refuses an empty required output */
    b = th_new(&r, 12);
    th_add(&r, b, th_in("X", ONNORM_FLOAT, 4, x4, x));
    tb_output(b, "I", ONNORM_INT64);
    nd = tb_node_add(b, "MaxPool", "pool", 1, (const char *[]){"X"}, 2, (const char *[]){"", "I"});
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "a required one is empty");
    /* int8 only from MaxPool-12 on */
    b = pool_model(&r, 11, "MaxPool", ONNORM_INT8, 4, x4, xi, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    th_go_fails(&r, b, 1, ONNORM_ERR_DTYPE, "input 'X' has type int8; supported: float32, float64");
}

/* ---- AveragePool --------------------------------------------------------------- */

static void avgpool_pads(void **state)
{
    (void)state;
    const int opsets[] = {7, 10, 11, 19, 21};
    for (int i = 0; i < 5; i++)
        for (int inc = 0; inc < 2; inc++)
            run_pool_case(&(pool_case){.opset = opsets[i],
                                       .nsp = 2,
                                       .op = "AveragePool",
                                       .dt = ONNORM_FLOAT,
                                       .n = 2,
                                       .c = 2,
                                       .in = {7, 6},
                                       .k = {3, 3},
                                       .s = {2, 1},
                                       .pads = {1, 2, 2, 0},
                                       .count_include_pad = inc});
    /* opset 6 resolves to AveragePool-1: no count_include_pad */
    run_pool_case(&(pool_case){.opset = 6,
                               .nsp = 2,
                               .op = "AveragePool",
                               .dt = ONNORM_FLOAT,
                               .n = 1,
                               .c = 2,
                               .in = {5, 5},
                               .k = {2, 2},
                               .pads = {1, 1, 1, 1}});
    run_pool_case(&(pool_case){.opset = 11,
                               .nsp = 2,
                               .op = "AveragePool",
                               .dt = ONNORM_DOUBLE,
                               .n = 1,
                               .c = 2,
                               .in = {5, 5},
                               .k = {2, 3},
                               .pads = {1, 1, 0, 1},
                               .count_include_pad = 1});
}

static void avgpool_ceil(void **state)
{
    (void)state;
    /* extent 6, window 3, stride 2, pads 1+1, ceil: 4 windows; the last
     * covers input 5, end pad 6 and position 7 beyond the padding, so it
     * divides by 2 with count_include_pad and by 1 without */
    for (int inc = 0; inc < 2; inc++)
        run_pool_case(&(pool_case){.opset = 10,
                                   .nsp = 2,
                                   .op = "AveragePool",
                                   .dt = ONNORM_FLOAT,
                                   .n = 1,
                                   .c = 2,
                                   .in = {6, 6},
                                   .k = {3, 3},
                                   .s = {2, 2},
                                   .pads = {1, 1, 1, 1},
                                   .ceil_mode = 1,
                                   .count_include_pad = inc,
                                   .want = {4, 4}});
    /* the dropped-window rule */
    run_pool_case(&(pool_case){.opset = 11,
                               .nsp = 1,
                               .op = "AveragePool",
                               .dt = ONNORM_FLOAT,
                               .n = 1,
                               .c = 1,
                               .in = {5},
                               .k = {2},
                               .s = {2},
                               .pads = {1, 1},
                               .ceil_mode = 1,
                               .count_include_pad = 1,
                               .want = {3}});
}

static void avgpool_auto_pad_dilations(void **state)
{
    (void)state;
    const char *modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int i = 0; i < 3; i++)
        for (int inc = 0; inc < 2; inc++)
            run_pool_case(&(pool_case){.opset = 11,
                                       .nsp = 2,
                                       .op = "AveragePool",
                                       .dt = ONNORM_FLOAT,
                                       .n = 1,
                                       .c = 2,
                                       .in = {7, 8},
                                       .k = {4, 3},
                                       .s = {2, 3},
                                       .auto_pad = modes[i],
                                       .count_include_pad = inc});
    /* dilations from AveragePool-19 on */
    run_pool_case(&(pool_case){.opset = 19,
                               .nsp = 2,
                               .op = "AveragePool",
                               .dt = ONNORM_FLOAT,
                               .n = 1,
                               .c = 2,
                               .in = {9, 8},
                               .k = {2, 3},
                               .s = {2, 1},
                               .d = {3, 2},
                               .pads = {1, 0, 2, 1},
                               .ceil_mode = 1,
                               .count_include_pad = 1});
    run_pool_case(&(pool_case){.opset = 19,
                               .nsp = 1,
                               .op = "AveragePool",
                               .dt = ONNORM_FLOAT,
                               .n = 2,
                               .c = 2,
                               .in = {12},
                               .k = {3},
                               .s = {2},
                               .d = {2},
                               .pads = {2, 1}});
    run_pool_case(&(pool_case){.opset = 11,
                               .nsp = 3,
                               .op = "AveragePool",
                               .dt = ONNORM_FLOAT,
                               .n = 1,
                               .c = 2,
                               .in = {4, 5, 6},
                               .k = {2, 2, 3},
                               .s = {1, 2, 2},
                               .pads = {1, 0, 1, 0, 1, 1},
                               .count_include_pad = 1});
    for (int t = 1; t <= 3; t += 2)
        run_pool_case(&(pool_case){.opset = 11,
                                   .nsp = 2,
                                   .op = "AveragePool",
                                   .dt = ONNORM_FLOAT,
                                   .n = 2,
                                   .c = 16,
                                   .in = {40, 37},
                                   .k = {3, 3},
                                   .s = {2, 2},
                                   .pads = {1, 1, 1, 1},
                                   .threads = t});
}

static void avgpool_errors(void **state)
{
    (void)state;
    static float x[4096];
    const int64_t x4[4] = {1, 2, 6, 6};
    th_run r;
    tb_node *nd;
    tb_model *b = pool_model(&r, 11, "AveragePool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    tb_attr_ints(nd, "dilations", 2, (int64_t[]){2, 1});
    th_go_fails(&r, b, 1, ONNORM_ERR_UNSUPPORTED,
                "'dilations' is not defined for AveragePool at opset 11");
    b = pool_model(&r, 6, "AveragePool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    tb_attr_int(nd, "count_include_pad", 1);
    th_go_fails(&r, b, 1, ONNORM_ERR_UNSUPPORTED, "'count_include_pad' is not defined");
    b = pool_model(&r, 11, "AveragePool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 1, (int64_t[]){2});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "'kernel_shape' has 1 values, expected 2");
    b = pool_model(&r, 11, "AveragePool", ONNORM_FLOAT, 4, x4, x, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    tb_attr_string(nd, "auto_pad", "VALID");
    tb_attr_ints(nd, "pads", 4, (int64_t[]){0, 1, 0, 0});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "cannot be combined with auto_pad");
    static uint8_t xu[72];
    b = pool_model(&r, 19, "AveragePool", ONNORM_UINT8, 4, x4, xu, 0, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){2, 2});
    th_go_fails(&r, b, 1, ONNORM_ERR_DTYPE, "input 'X' has type uint8");
}

/* ---- GlobalAveragePool --------------------------------------------------------- */

static void run_gap(onnorm_dtype dt, int rank, const int64_t *xd, int threads)
{
    void *x = rand_data(dt, 41, rn_prod(xd, 0, rank));
    const int64_t planes = xd[0] * xd[1], size = rn_prod(xd, 2, rank);
    double *ref = calloc((size_t)(planes ? planes : 1), sizeof *ref);
    assert_non_null(ref);
    for (int64_t p = 0; p < planes; p++) {
        for (int64_t i = 0; i < size; i++)
            ref[p] += th_value(dt, x, p * size + i);
        ref[p] /= (double)size;
    }
    int64_t yd[8] = {xd[0], xd[1], 1, 1, 1, 1, 1, 1};
    th_run r;
    tb_node *nd;
    th_ok(&r, th_go(&r, pool_model(&r, 13, "GlobalAveragePool", dt, rank, xd, x, 0, &nd), threads),
          "GlobalAveragePool");
    th_expect_output(&r, "GlobalAveragePool", "Y", dt, rank, yd, ref, TOL);
    th_free(&r);
    free(x), free(ref);
}

static void global_average_pool(void **state)
{
    (void)state;
    run_gap(ONNORM_FLOAT, 3, (int64_t[]){2, 3, 17}, 1);
    run_gap(ONNORM_FLOAT, 4, (int64_t[]){2, 3, 5, 7}, 1);
    run_gap(ONNORM_FLOAT, 5, (int64_t[]){1, 2, 3, 4, 5}, 1);
    run_gap(ONNORM_DOUBLE, 4, (int64_t[]){1, 4, 6, 6}, 1);
    run_gap(ONNORM_FLOAT, 4, (int64_t[]){2, 32, 56, 56}, 3);
    static float x[8];
    th_run r;
    tb_node *nd;
    tb_model *b =
        pool_model(&r, 13, "GlobalAveragePool", ONNORM_FLOAT, 2, (int64_t[]){2, 4}, x, 0, &nd);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "rank >= 3");
    static int8_t xi[8];
    b = pool_model(&r, 13, "GlobalAveragePool", ONNORM_INT8, 3, (int64_t[]){1, 2, 4}, xi, 0, &nd);
    th_go_fails(&r, b, 1, ONNORM_ERR_DTYPE, "has type int8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maxpool_basic),
        cmocka_unit_test(maxpool_ceil_dilations),
        cmocka_unit_test(maxpool_auto_pad_ranks),
        cmocka_unit_test(maxpool_indices),
        cmocka_unit_test(maxpool_small_ints),
        cmocka_unit_test(maxpool_errors),
        cmocka_unit_test(avgpool_pads),
        cmocka_unit_test(avgpool_ceil),
        cmocka_unit_test(avgpool_auto_pad_dilations),
        cmocka_unit_test(avgpool_errors),
        cmocka_unit_test(global_average_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
