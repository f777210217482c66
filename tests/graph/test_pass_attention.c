/*
 * fuse-attention (graph/pass_attention.c) and the ai.onnorm
 * ScaledDotProductAttention kernel it writes (ops/core/attention.c).
 *
 * The kernel against a float64 reference written here: softmax(scale(Q K)
 * + mask or Where(cond)) V over ranks 2 to 4, row counts across several
 * row blocks, column counts off the 16-wide tiles, masks broadcast along
 * every axis, causal conditions both ways round, Mul and Div scales, on 1
 * and 3 threads; and its errors.
 *
 * The pass: the chains exporters write (nn.MultiheadAttention's bare
 * MatMul -> Softmax -> MatMul, GPT's Div -> Where, Swin's Add of a
 * constant bias, a Mul and a run-time mask) become one node whose outputs
 * equal the unfused graph's; near-misses (Softmax over another axis, the
 * probabilities kept, a scale of many values, a mask that grows the
 * scores) stay, with the reason in the report; the pass can be switched
 * off.
 */
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

/* ---- the kernel ----------------------------------------------------------------------- */

typedef enum mask_kind { M_NONE, M_ADD, M_KEEP_TRUE, M_FILL_TRUE } mask_kind;

typedef struct att_case {
    int rank;
    int64_t batch[2]; /* the leading dims (rank - 2 of them) */
    int64_t m, n, dk, dv;
    float scale;
    bool divides;
    mask_kind mask;
    int mask_rank;
    int64_t mask_dims[4]; /* broadcasting to [batch.., m, n] */
    int64_t diag;         /* the cond keeps (or fills) column j of row i where j <= i + diag */
} att_case;

/* The element of a broadcast operand of dims md (rank mr) at index idx of
 * the scores (rank r, dims sd). */
static int64_t bcast_index(const int64_t *md, int mr, const int64_t *sd, int r, const int64_t *idx)
{
    int64_t off = 0;
    for (int d = 0; d < mr; d++) {
        const int sdim = r - mr + d;
        off = off * md[d] + (md[d] == 1 ? 0 : idx[sdim]);
        (void)sd;
    }
    return off;
}

static void run_case(const att_case *c, int threads)
{
    const int r = c->rank, nb = r - 2;
    int64_t batch = 1, sd[4], qd[4], kd[4], vd[4], yd[4];
    for (int d = 0; d < nb; d++) {
        batch *= c->batch[d];
        sd[d] = qd[d] = kd[d] = vd[d] = yd[d] = c->batch[d];
    }
    sd[nb] = qd[nb] = yd[nb] = c->m, sd[nb + 1] = c->n;
    qd[nb + 1] = c->dk, kd[nb] = c->dk, kd[nb + 1] = c->n, vd[nb] = c->n;
    vd[nb + 1] = yd[nb + 1] = c->dv;
    float *q = th_randf(41, batch * c->m * c->dk), *k = th_randf(42, batch * c->dk * c->n),
          *v = th_randf(43, batch * c->n * c->dv);
    for (int64_t i = 0; i < batch * c->m * c->dk; i++)
        q[i] *= 3.0f; /* peaked probabilities as well as flat ones */
    int64_t mnum = 1;
    for (int d = 0; d < c->mask_rank; d++)
        mnum *= c->mask_dims[d];
    float *mk = th_randf(44, mnum);
    uint8_t *cond = calloc((size_t)mnum + 1, 1);
    /* Causal along the last two axes where the cond has them, else a pattern. */
    for (int64_t i = 0; c->mask >= M_KEEP_TRUE && i < mnum; i++) {
        const int64_t cols = c->mask_dims[c->mask_rank - 1];
        const int64_t row = c->mask_rank >= 2 ? (i / cols) % c->mask_dims[c->mask_rank - 2] : 0;
        const int64_t col = i % cols;
        cond[i] = c->mask == M_KEEP_TRUE ? col <= row + c->diag : col > row + c->diag;
    }
    double *ref = th_dalloc(batch * c->m * c->dv), *s = th_dalloc(c->n);
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < c->m; i++) {
            double mx = -INFINITY, sum = 0;
            int64_t idx[4];
            for (int64_t j = 0; j < c->n; j++) {
                double acc = 0;
                for (int64_t p = 0; p < c->dk; p++)
                    acc += (double)q[(b * c->m + i) * c->dk + p] * k[(b * c->dk + p) * c->n + j];
                acc = c->divides ? acc / c->scale : acc * c->scale;
                for (int64_t rem = b, d = nb - 1; d >= 0; d--)
                    idx[d] = rem % c->batch[d], rem /= c->batch[d];
                idx[nb] = i, idx[nb + 1] = j;
                const int64_t mi =
                    c->mask == M_NONE ? 0 : bcast_index(c->mask_dims, c->mask_rank, sd, r, idx);
                if (c->mask == M_ADD) acc += mk[mi];
                if (c->mask == M_KEEP_TRUE && !cond[mi]) acc = -INFINITY;
                if (c->mask == M_FILL_TRUE && cond[mi]) acc = -1e9;
                s[j] = acc;
                mx = acc > mx ? acc : mx;
            }
            for (int64_t j = 0; j < c->n; j++)
                sum += s[j] = exp(s[j] - mx);
            for (int64_t e = 0; e < c->dv; e++) {
                double o = 0;
                for (int64_t j = 0; j < c->n; j++)
                    o += s[j] / sum * v[(b * c->n + j) * c->dv + e];
                ref[(b * c->m + i) * c->dv + e] = o;
            }
        }
    th_run run;
    th_tensor in[5] = {th_in("Q", ONNORM_FLOAT, r, qd, q), th_in("K", ONNORM_FLOAT, r, kd, k),
                       th_in("V", ONNORM_FLOAT, r, vd, v), th_in("", ONNORM_FLOAT, 0, NULL, NULL),
                       th_in("", ONNORM_BOOL, 0, NULL, NULL)};
    if (c->mask == M_ADD) in[3] = th_in("mask", ONNORM_FLOAT, c->mask_rank, c->mask_dims, mk);
    if (c->mask >= M_KEEP_TRUE)
        in[4] = th_const("cond", ONNORM_BOOL, c->mask_rank, c->mask_dims, cond);
    tb_node *nd;
    tb_model *m = th_node_model(&run, 17, "ScaledDotProductAttention",
                                c->mask >= M_KEEP_TRUE ? 5
                                : c->mask              ? 4
                                                       : 3,
                                in, ONNORM_FLOAT, &nd);
    tb_node_domain(nd, "ai.onnorm");
    tb_opset(m, "ai.onnorm", 1);
    tb_attr_float(nd, "scale", c->scale);
    if (c->divides) tb_attr_int(nd, "scale_divides", 1);
    if (c->mask == M_KEEP_TRUE) {
        tb_attr_float(nd, "fill", -INFINITY);
        tb_attr_int(nd, "fill_where", 0);
    } else if (c->mask == M_FILL_TRUE) {
        tb_attr_float(nd, "fill", -1e9f);
    }
    th_ok(&run, th_go(&run, m, threads), "ScaledDotProductAttention");
    th_expect_output(&run, "ScaledDotProductAttention", "Y", ONNORM_FLOAT, r, yd, ref, 1e-5);
    th_free(&run);
    free(q), free(k), free(v), free(mk), free(cond), free(ref), free(s);
}

static void kernel_values(void **state)
{
    (void)state;
    const att_case cases[] = {
        /* nn.MultiheadAttention's: [B*H, L, d], no scale or mask */
        {3, {6}, 20, 20, 16, 16, 1.0f, false, M_NONE, 0, {0}, 0},
        /* GPT's: Div, causal Where keeping the true side */
        {4, {2, 3}, 33, 33, 8, 8, 2.8284271f, true, M_KEEP_TRUE, 2, {33, 33}, 0},
        /* strictly causal: row 0 keeps nothing and is NaN, as Softmax makes it */
        {4, {1, 2}, 20, 20, 8, 4, 1.0f, false, M_KEEP_TRUE, 2, {20, 20}, -1},
        /* the first 60 rows keep nothing: a whole row block is NaN; the
         * others skip the columns past their last kept one */
        {3, {2}, 100, 90, 6, 5, 0.5f, false, M_KEEP_TRUE, 3, {1, 100, 90}, -60},
        /* the fill where cond is true, cond per batch */
        {4, {2, 2}, 17, 17, 5, 7, 0.5f, false, M_FILL_TRUE, 4, {2, 1, 17, 17}, 0},
        /* Swin's: a bias per head, rows over several blocks, odd widths */
        {4, {1, 3}, 70, 49, 32, 32, 0.17677669f, false, M_ADD, 4, {1, 3, 70, 49}, 0},
        /* a mask per column only, many columns: few rows per block */
        {3, {2}, 61, 200, 12, 20, 1.0f, true, M_ADD, 1, {200}, 0},
        /* one value for everything, and a column for each row */
        {3, {3}, 9, 23, 4, 3, 0.25f, false, M_ADD, 1, {1}, 0},
        {3, {3}, 9, 23, 4, 3, 1.0f, false, M_ADD, 3, {3, 9, 1}, 0},
        /* rank 2 */
        {2, {0}, 7, 19, 6, 17, 0.3f, false, M_NONE, 0, {0}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int t = 1; t <= 3; t += 2)
            run_case(&cases[i], t);
}

static void kernel_errors(void **state)
{
    (void)state;
    static float data[4096];
    static uint8_t cond[64];
    struct {
        int64_t kd[3], vd[3], md[3];
        int mask_rank;
        bool both;
        onnorm_status st;
        const char *needle;
    } cases[] = {
        {{3, 4, 5}, {2, 5, 6}, {0}, 0, false, ONNORM_ERR_SHAPE, "with the same leading dims"},
        {{2, 3, 5}, {2, 5, 6}, {0}, 0, false, ONNORM_ERR_SHAPE, "with the same leading dims"},
        {{2, 4, 5}, {2, 5, 6}, {2, 4, 5}, 3, false, ONNORM_ERR_SHAPE, "does not broadcast"},
        {{2, 4, 5}, {2, 5, 6}, {1, 3, 5}, 3, true, ONNORM_ERR_INVALID, "cannot both be given"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        th_run r;
        const int64_t qd[3] = {2, 3, 4};
        th_tensor in[5] = {
            th_in("Q", ONNORM_FLOAT, 3, qd, data), th_in("K", ONNORM_FLOAT, 3, cases[i].kd, data),
            th_in("V", ONNORM_FLOAT, 3, cases[i].vd, data), th_in("", ONNORM_FLOAT, 0, NULL, NULL),
            th_in("", ONNORM_BOOL, 0, NULL, NULL)};
        int n = 3;
        if (cases[i].mask_rank) {
            in[3] = th_in("mask", ONNORM_FLOAT, cases[i].mask_rank, cases[i].md, data), n = 4;
            if (cases[i].both)
                in[4] = th_in("cond", ONNORM_BOOL, cases[i].mask_rank, cases[i].md, cond), n = 5;
        }
        tb_node *nd;
        tb_model *m = th_node_model(&r, 17, "ScaledDotProductAttention", n, in, ONNORM_FLOAT, &nd);
        tb_node_domain(nd, "ai.onnorm");
        tb_opset(m, "ai.onnorm", 1);
        th_go_fails(&r, m, 1, cases[i].st, cases[i].needle);
    }
}

/* ---- the pass ------------------------------------------------------------------------- */

typedef enum chain {
    C_BARE,       /* MatMul -> Softmax -> MatMul */
    C_DIV_WHERE,  /* MatMul -> Div -> Where(causal, -inf, s) -> Softmax -> MatMul */
    C_ADD_BIAS,   /* MatMul -> Add(constant bias [1, H, M, N], s) -> Softmax(axis 3) -> MatMul */
    C_MUL_MASK,   /* MatMul -> Mul(c, s) -> Add(s, mask input [B, 1, 1, N]) -> Softmax -> MatMul */
    C_WHERE_KEEP, /* ... -> Where(cond, s, -1e4) ... */
    C_AXIS,       /* Softmax over axis 2: stays */
    C_KEPT,       /* the probabilities are a graph output: stay */
    C_WIDE_SCALE, /* Mul by [N] values: stays */
    C_GROWS,      /* Add of a mask [2, H, M, N] to scores [1, H, M, N]: stays */
} chain;

enum { B = 2, H = 3, M = 9, N = 11, DK = 8, DV = 5 };

static tb_model *chain_model(chain c)
{
    tb_model *b = tb_new(17);
    const int64_t bb = c == C_GROWS ? 1 : B;
    tb_input(b, "Q", ONNORM_FLOAT, 4, (int64_t[]){bb, H, M, DK});
    tb_input(b, "K", ONNORM_FLOAT, 4, (int64_t[]){bb, H, DK, N});
    tb_input(b, "V", ONNORM_FLOAT, 4, (int64_t[]){bb, H, N, DV});
    static float bias[2 * H * M * N], wide[N], scale = 0.35f, ninf = -INFINITY, fill = -1e4f;
    static uint8_t causal[M * N];
    for (int i = 0; i < 2 * H * M * N; i++)
        bias[i] = sinf(0.3f * (float)i);
    for (int i = 0; i < N; i++)
        wide[i] = 0.1f * (float)(i + 1);
    for (int i = 0; i < M * N; i++)
        causal[i] = i % N > i / N; /* true above the diagonal */
    tb_init(b, "scale", ONNORM_FLOAT, 0, NULL, &scale);
    tb_init(b, "ninf", ONNORM_FLOAT, 0, NULL, &ninf);
    tb_init(b, "fill", ONNORM_FLOAT, 0, NULL, &fill);
    tb_init(b, "causal", ONNORM_BOOL, 2, (int64_t[]){M, N}, causal);
    tb_init(b, "bias", ONNORM_FLOAT, 4, (int64_t[]){c == C_GROWS ? 2 : 1, H, M, N}, bias);
    tb_init(b, "wide", ONNORM_FLOAT, 1, (int64_t[]){N}, wide);
    tb_node_add(b, "MatMul", "qk", 2, (const char *[]){"Q", "K"}, 1, (const char *[]){"s0"});
    const char *s = "s0";
    if (c == C_DIV_WHERE) {
        tb_node_add(b, "Div", "div", 2, (const char *[]){"s0", "scale"}, 1, (const char *[]){"s1"});
        tb_node_add(b, "Where", "where", 3, (const char *[]){"causal", "ninf", "s1"}, 1,
                    (const char *[]){"s2"});
        s = "s2";
    } else if (c == C_ADD_BIAS || c == C_GROWS) {
        tb_node_add(b, "Add", "add", 2, (const char *[]){"bias", "s0"}, 1, (const char *[]){"s2"});
        s = "s2";
    } else if (c == C_MUL_MASK) {
        tb_input(b, "mask", ONNORM_FLOAT, 4, (int64_t[]){B, 1, 1, N});
        tb_node_add(b, "Mul", "mul", 2, (const char *[]){"scale", "s0"}, 1, (const char *[]){"s1"});
        tb_node_add(b, "Add", "add", 2, (const char *[]){"s1", "mask"}, 1, (const char *[]){"s2"});
        s = "s2";
    } else if (c == C_WHERE_KEEP) {
        tb_node_add(b, "Where", "where", 3, (const char *[]){"causal", "s0", "fill"}, 1,
                    (const char *[]){"s2"});
        s = "s2";
    } else if (c == C_WIDE_SCALE) {
        tb_node_add(b, "Mul", "mul", 2, (const char *[]){"s0", "wide"}, 1, (const char *[]){"s2"});
        s = "s2";
    }
    tb_node *sm =
        tb_node_add(b, "Softmax", "softmax", 1, (const char *[]){s}, 1, (const char *[]){"p"});
    if (c == C_ADD_BIAS) tb_attr_int(sm, "axis", 3);
    if (c == C_AXIS) tb_attr_int(sm, "axis", 2);
    tb_node_add(b, "MatMul", "pv", 2, (const char *[]){"p", "V"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    if (c == C_KEPT) tb_output(b, "p", ONNORM_FLOAT);
    return b;
}

static void run_chain(th_run *r, const onnorm_model *m, chain c)
{
    const int64_t bb = c == C_GROWS ? 1 : B;
    float *q = th_randf(51, bb * H * M * DK), *k = th_randf(52, bb * H * DK * N),
          *v = th_randf(53, bb * H * N * DV), *mask = th_randf(54, B * N);
    const th_tensor in[4] = {th_in("Q", ONNORM_FLOAT, 4, (int64_t[]){bb, H, M, DK}, q),
                             th_in("K", ONNORM_FLOAT, 4, (int64_t[]){bb, H, DK, N}, k),
                             th_in("V", ONNORM_FLOAT, 4, (int64_t[]){bb, H, N, DV}, v),
                             th_in("mask", ONNORM_FLOAT, 4, (int64_t[]){B, 1, 1, N}, mask)};
    onnorm_session_options o = th_options(2, 0);
    TH_OK(r, th_run_loaded(r, m, &o, onnorm_model_input_count(m), in));
    free(q), free(k), free(v), free(mask);
}

static void check_chain(chain c, int fused, int nodes, const char *note)
{
    onnorm_model *m = th_load(chain_model(c));
    char label[32];
    snprintf(label, sizeof label, "chain %d", (int)c);
    onnorm_model *opt = th_expect_fusion(m, "ScaledDotProductAttention", fused, nodes, note, label);
    th_run want, have;
    run_chain(&want, m, c);
    run_chain(&have, opt, c);
    th_expect_same_outputs(&want, &have, 1e-6, 1e-5, 0);
    th_free(&want), th_free(&have);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void chains_fuse(void **state)
{
    (void)state;
    for (chain c = C_BARE; c <= C_WHERE_KEEP; c++)
        check_chain(c, 1, 1, "fuse-attention  1 rewritten");
}

static void near_misses_stay(void **state)
{
    (void)state;
    check_chain(C_AXIS, 0, 3, "does not normalize the last axis");
    check_chain(C_KEPT, 0, 3, "is read elsewhere or is a graph output");
    check_chain(C_WIDE_SCALE, 0, 4, "not a float32 constant of one element");
    check_chain(C_GROWS, 0, 4, "does not broadcast to the scores' shape");
}

/* A product with constant weights is a layer, not attention: no note. */
static void layers_are_not_attention(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    static float w[DK * N], w2[N * DV];
    for (int i = 0; i < DK * N; i++)
        w[i] = cosf((float)i);
    for (int i = 0; i < N * DV; i++)
        w2[i] = sinf((float)i);
    tb_input(b, "Q", ONNORM_FLOAT, 2, (int64_t[]){M, DK});
    tb_init(b, "W", ONNORM_FLOAT, 2, (int64_t[]){DK, N}, w);
    tb_init(b, "W2", ONNORM_FLOAT, 2, (int64_t[]){N, DV}, w2);
    tb_node_add(b, "MatMul", "mm", 2, (const char *[]){"Q", "W"}, 1, (const char *[]){"s"});
    tb_node_add(b, "Softmax", "sm", 1, (const char *[]){"s"}, 1, (const char *[]){"p"});
    tb_node_add(b, "MatMul", "mm2", 2, (const char *[]){"p", "W2"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    onnorm_model *m = th_load(b);
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    assert_int_equal(th_count_op(opt, "ScaledDotProductAttention", NULL), 0);
    if (!strstr(report, "fuse-attention  0 rewritten, 0 left alone"))
        fail_msg("a layer was noted as attention:\n%s", report);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void the_pass_can_be_switched_off(void **state)
{
    (void)state;
    th_expect_pass_off(th_load(chain_model(C_DIV_WHERE)), "fuse-attention",
                       "ScaledDotProductAttention", "Softmax", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_values),
        cmocka_unit_test(kernel_errors),
        cmocka_unit_test(chains_fuse),
        cmocka_unit_test(near_misses_stay),
        cmocka_unit_test(layers_are_not_attention),
        cmocka_unit_test(the_pass_can_be_switched_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
