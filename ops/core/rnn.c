/*
 * The recurrent layers RNN, GRU and LSTM: opsets 1 (GRU also 3, which adds
 * linear_before_reset), 7, 14 (adds `layout`) and 22 (adds bfloat16), in
 * float32, float64, float16 and bfloat16. The half types run in float32:
 * their inputs are widened into scratch and the outputs rounded back.
 *
 *   RNN   Ht = f(Xt W^T + Ht-1 R^T + Wb + Rb)                  f = Tanh
 *   GRU   z, r = f(...), h = g(...), Ht = (1 - z) h + z Ht-1    f = Sigmoid, g = Tanh
 *         (linear_before_reset: h = g(Xt Wh^T + r (.) (Ht-1 Rh^T + Rbh) + Wbh))
 *   LSTM  i, f, o = f(... + P (.) C), c = g(...), Ct = f Ct-1 + i c,
 *         Ht = o h(Ct); input_forget couples the forget gate: f = 1 - i
 *                                                         f = Sigmoid, g = h = Tanh
 *
 * Every direction (forward, reverse, bidirectional), the activations list
 * with activation_alpha / activation_beta, clip, the optional inputs (B,
 * sequence_lens, initial_h, initial_c, P) and outputs (Y, Y_h, Y_c), and
 * both layouts (0: [seq, batch, ...]; 1: [batch, seq, ...]).
 *
 * How it runs: per direction, the input projection X W^T of all time steps
 * is one matrix product (onn_sgemm for float32, a plain loop for float64)
 * into scratch, with the summed biases added; then each step adds one
 * product Ht-1 R^T (GRU: two, since r gates the last one) and computes the
 * gates row by row. The weights are read where they are: the products
 * take them transposed. float32 Sigmoid and Tanh use the vectorized
 * exponential of the fused activations (epilogue.h), as convolutions do;
 * the rest, and float64, use libm.
 *
 * Where the spec is silent:
 *   - activations: names are matched case-insensitively; a bidirectional
 *     node that lists one direction's functions uses them for both (as
 *     onnxruntime does). activation_alpha and activation_beta are consumed
 *     in order by the functions that take that parameter; a function
 *     beyond a list's end gets its default: LeakyRelu alpha 0.01,
 *     ThresholdedRelu alpha 1, HardSigmoid 0.2 / 0.5, Elu alpha 1,
 *     ScaledTanh 1 / 1, Affine 1 / 0.
 *   - clip (must be > 0) bounds every activation's input, LSTM's h(Ct)
 *     included (as onnxruntime's LSTM does).
 *   - sequence_lens: values outside [0, seq_length] are an error at run.
 *     int64 is accepted as well as the spec's int32. At a step past a batch
 *     entry's length, Y is 0 and its state is left as it was, so Y_h / Y_c
 *     hold the state after its last valid step (for reverse, after step 0).
 *     An entry of length 0 gets Y_h = Y_c = 0 (as onnxruntime does).
 *   - hidden_size may be omitted; it is then read from R's shape. When
 *     given, it must match W and R.
 *   - layout is read only from opset 14 on (earlier versions ignore it).
 *   - Opset 1's output_sequence is not read: Y is computed when the node
 *     lists it, whatever that attribute says (as at opset 7, which dropped
 *     it). GRU-1's nodes have no linear_before_reset, so it is 0 there.
 */
#include "ops/core/blas.h"
#include "ops/core/epilogue.h"
#include "ops/half.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <tgmath.h>

enum { RNN_SIMPLE, RNN_GRU, RNN_LSTM };
enum {
    ACT_SIGMOID,
    ACT_TANH,
    ACT_RELU,
    ACT_HARDSIGMOID,
    ACT_LEAKYRELU,
    ACT_THRESHOLDEDRELU,
    ACT_SCALEDTANH,
    ACT_AFFINE,
    ACT_ELU,
    ACT_SOFTSIGN,
    ACT_SOFTPLUS,
    ACT_COUNT
};

static const char *const act_names[ACT_COUNT] = {
    "Sigmoid",    "Tanh",   "Relu", "HardSigmoid", "LeakyRelu", "ThresholdedRelu",
    "ScaledTanh", "Affine", "Elu",  "Softsign",    "Softplus"};
/* Defaults, and whether the function reads alpha / beta. */
static const float act_alpha[ACT_COUNT] = {0, 0, 0, 0.2f, 0.01f, 1.0f, 1.0f, 1.0f, 1.0f, 0, 0};
static const float act_beta[ACT_COUNT] = {0, 0, 0, 0.5f, 0, 0, 1.0f, 0.0f, 0, 0, 0};
static const bool act_uses_alpha[ACT_COUNT] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0};
static const bool act_uses_beta[ACT_COUNT] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0};

typedef struct rnn_act {
    int kind;
    float alpha, beta;
} rnn_act;

typedef struct rnn_cfg {
    int kind, gates, n_act; /* gates: 1, 3, 4; n_act: functions per direction */
    int64_t seq, batch, input, hidden;
    int ndir;
    bool reverse;
    int64_t layout;
    float clip; /* 0: none */
    int64_t lbr, input_forget;
    rnn_act act[2][3];
    onnorm_dtype dtype;
} rnn_cfg;

/* The tensors' data for one run, in the computing type (float16 nodes
 * run on float32 copies). */
typedef struct rnn_io {
    const void *x, *w, *r, *b, *h0, *c0, *p; /* NULL when omitted */
    const onnorm_tensor *lens;
    void *y, *yh, *yc; /* NULL when not requested */
} rnn_io;

static const int rnn_kinds[3] = {RNN_SIMPLE, RNN_GRU, RNN_LSTM};

static bool name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

static onnorm_status read_activations(onn_kctx *ctx, rnn_cfg *cfg)
{
    static const int defaults[3][3] = {
        {ACT_TANH}, {ACT_SIGMOID, ACT_TANH}, {ACT_SIGMOID, ACT_TANH, ACT_TANH}};
    const int na = cfg->n_act;
    int kinds[6];
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < na; i++)
            kinds[d * na + i] = defaults[cfg->kind][i];
    const onn_attr *a = onn_attr_find(ctx->node, "activations");
    if (a) {
        if (a->type != ONN_ATTR_STRINGS)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "attribute 'activations' must be a list of strings");
        if (a->n != (size_t)na && a->n != (size_t)(na * cfg->ndir))
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "attribute 'activations' has %zu names; expected %d", a->n,
                             na * cfg->ndir);
        for (size_t i = 0; i < a->n; i++) {
            int k = -1;
            for (int j = 0; j < ACT_COUNT && k < 0; j++)
                if (name_eq(a->strings[i], act_names[j])) k = j;
            if (k < 0)
                return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "unknown activation '%s'",
                                 a->strings[i]);
            kinds[i] = k;
        }
        if (a->n == (size_t)na)
            for (int i = 0; i < na; i++)
                kinds[na + i] = kinds[i];
    }
    const onn_attr *al = onn_attr_find(ctx->node, "activation_alpha");
    const onn_attr *be = onn_attr_find(ctx->node, "activation_beta");
    if ((al && al->type != ONN_ATTR_FLOATS) || (be && be->type != ONN_ATTR_FLOATS))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "attributes 'activation_alpha' and 'activation_beta' must be float lists");
    size_t ia = 0, ib = 0;
    for (int d = 0; d < cfg->ndir; d++)
        for (int i = 0; i < na; i++) {
            const int k = kinds[d * na + i];
            rnn_act *ac = &cfg->act[d][i];
            ac->kind = k, ac->alpha = act_alpha[k], ac->beta = act_beta[k];
            if (act_uses_alpha[k] && al && ia < al->n) ac->alpha = al->floats[ia++];
            if (act_uses_beta[k] && be && ib < be->n) ac->beta = be->floats[ib++];
        }
    return ONNORM_OK;
}

/* Input i, when present, must be of X's type with the given shape. */
static onnorm_status check_shape(onn_kctx *ctx, int i, const char *what, int rank,
                                 const int64_t *dims)
{
    const onnorm_tensor *t = onn_opt_input(ctx, i);
    if (!t) return ONNORM_OK;
    const rnn_cfg *cfg = ctx->state;
    char have[128], want[128];
    if (i != 4 && t->dtype != cfg->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "%s must have X's element type", what);
    if (i == 4 && t->dtype != ONNORM_INT32 && t->dtype != ONNORM_INT64)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "sequence_lens must be int32");
    bool ok = t->rank == rank;
    for (int k = 0; ok && k < rank; k++)
        ok = t->dims[k] == dims[k];
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "%s is %s; expected %s", what,
                         onn_shape_str(t->dims, t->rank, have, sizeof have),
                         onn_shape_str(dims, rank, want, sizeof want));
    return ONNORM_OK;
}

static onnorm_status rnn_config(onn_kctx *ctx)
{
    rnn_cfg *cfg = ctx->state;
    onnorm_status st;
    static const char *const dirs[] = {"forward", "reverse", "bidirectional"};
    int dir;
    int64_t hattr;
    cfg->kind = *(const int *)ctx->kernel->data;
    cfg->gates = cfg->kind == RNN_SIMPLE ? 1 : cfg->kind == RNN_GRU ? 3 : 4;
    cfg->n_act = cfg->kind == RNN_SIMPLE ? 1 : cfg->kind == RNN_GRU ? 2 : 3;
    if ((st = onn_check_float_input(ctx, 0, "X"))) return st;
    cfg->dtype = ctx->in[0]->dtype;
    if ((st = onn_kattr_enum(ctx, "direction", dirs, 3, 0, &dir)) ||
        (st = onn_kattr_int(ctx, "hidden_size", -1, &hattr)) ||
        (st = onn_kattr_float(ctx, "clip", 0.0f, &cfg->clip)))
        return st;
    if (onn_kversion(ctx) >= 14 && (st = onn_kattr_int(ctx, "layout", 0, &cfg->layout))) return st;
    if (cfg->kind == RNN_GRU && (st = onn_kattr_int(ctx, "linear_before_reset", 0, &cfg->lbr)))
        return st;
    if (cfg->kind == RNN_LSTM && (st = onn_kattr_int(ctx, "input_forget", 0, &cfg->input_forget)))
        return st;
    if (cfg->layout != 0 && cfg->layout != 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "layout = %lld; must be 0 or 1",
                         (long long)cfg->layout);
    if (onn_kattr_has(ctx, "clip") && !(cfg->clip > 0))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "clip = %g; must be > 0", (double)cfg->clip);
    cfg->ndir = dir == 2 ? 2 : 1;
    cfg->reverse = dir == 1;

    const onnorm_tensor *x = ctx->in[0], *w = ctx->in[1], *r = ctx->in[2];
    char s1[128], s2[128];
    if (x->rank != 3)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X %s must be 3-D",
                         onn_shape_str(x->dims, x->rank, s1, sizeof s1));
    cfg->seq = x->dims[cfg->layout ? 1 : 0];
    cfg->batch = x->dims[cfg->layout ? 0 : 1];
    cfg->input = x->dims[2];
    if (r->rank != 3 || w->rank != 3)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "W %s and R %s must be 3-D",
                         onn_shape_str(w->dims, w->rank, s1, sizeof s1),
                         onn_shape_str(r->dims, r->rank, s2, sizeof s2));
    cfg->hidden = hattr >= 0 ? hattr : r->dims[2];
    if (onn_kattr_has(ctx, "hidden_size") && hattr <= 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "hidden_size = %lld; must be > 0",
                         (long long)hattr);
    const int64_t H = cfg->hidden, G = cfg->gates, nd = cfg->ndir, B = cfg->batch;
    if (H > INT32_MAX / 8)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "hidden_size %lld is too large",
                         (long long)H);
    if ((st = check_shape(ctx, 1, "W", 3, (int64_t[]){nd, G * H, cfg->input})) ||
        (st = check_shape(ctx, 2, "R", 3, (int64_t[]){nd, G * H, H})) ||
        (st = check_shape(ctx, 3, "B", 2, (int64_t[]){nd, 2 * G * H})) ||
        (st = check_shape(ctx, 4, "sequence_lens", 1, (int64_t[]){B})))
        return st;
    const int64_t *sd = cfg->layout ? (int64_t[]){B, nd, H} : (int64_t[]){nd, B, H};
    if ((st = check_shape(ctx, 5, "initial_h", 3, sd))) return st;
    if (cfg->kind == RNN_LSTM && ((st = check_shape(ctx, 6, "initial_c", 3, sd)) ||
                                  (st = check_shape(ctx, 7, "P", 2, (int64_t[]){nd, 3 * H}))))
        return st;
    if (cfg->seq > 0 && B > INT32_MAX / cfg->seq)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "seq_length x batch exceeds the BLAS size range");
    if (!onn_blas_fits(cfg->seq * B) || !onn_blas_fits(cfg->seq * G * H) ||
        !onn_blas_fits(cfg->input) || !onn_blas_fits(B))
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "the sizes exceed the BLAS size range");
    if ((st = read_activations(ctx, cfg))) return st;
    onn_kflops(ctx, 2.0 * (double)nd * (double)cfg->seq * (double)B * (double)G * (double)H *
                        (double)(cfg->input + H));
    return ONNORM_OK;
}

static onnorm_status rnn_infer(onn_kctx *ctx)
{
    const rnn_cfg *cfg = ctx->state;
    const int64_t S = cfg->seq, B = cfg->batch, H = cfg->hidden, nd = cfg->ndir;
    if (cfg->layout) {
        onn_set_output(ctx, 0, cfg->dtype, 4, (int64_t[]){B, S, nd, H});
        onn_set_output(ctx, 1, cfg->dtype, 3, (int64_t[]){B, nd, H});
        onn_set_output(ctx, 2, cfg->dtype, 3, (int64_t[]){B, nd, H});
    } else {
        onn_set_output(ctx, 0, cfg->dtype, 4, (int64_t[]){S, nd, B, H});
        onn_set_output(ctx, 1, cfg->dtype, 3, (int64_t[]){nd, B, H});
        onn_set_output(ctx, 2, cfg->dtype, 3, (int64_t[]){nd, B, H});
    }
    return ONNORM_OK;
}

/* The run's working memory in elements of the computing type: the
 * projection [seq * batch, G*H], a [batch, G*H] temporary, the states h
 * and c [batch, H] each, the summed bias [G*H] and GRU's Rbh [H]; then
 * sequence_lens as int32 [batch]. */
static onnorm_status work_bytes(onn_kctx *ctx, size_t esz, size_t *out)
{
    const rnn_cfg *cfg = ctx->state;
    const size_t GH = (size_t)cfg->gates * (size_t)cfg->hidden;
    size_t proj, rest;
    onnorm_status st;
    if ((st = onn_kbytes(ctx, (size_t)cfg->seq, (size_t)cfg->batch, GH, &proj)) ||
        (st = onn_kbytes(ctx, (size_t)cfg->batch + 1, GH + 2 * (size_t)cfg->hidden, 1, &rest)))
        return st;
    if (proj > SIZE_MAX / esz / 2 - rest - (size_t)cfg->batch - 16)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "scratch size overflows");
    *out = (proj + rest) * esz + (size_t)cfg->batch * sizeof(int32_t);
    *out = (*out + 63) & ~(size_t)63;
    return ONNORM_OK;
}

/* float16, bfloat16: the float32 copies of the inputs (0, 1, 2, 3, 5, 6, 7) and of
 * the outputs follow the working memory, each 64-byte aligned. */
static const int f16_inputs[7] = {0, 1, 2, 3, 5, 6, 7};

static int64_t out_numel(const rnn_cfg *cfg, int k)
{
    const int64_t state = cfg->ndir * cfg->batch * cfg->hidden;
    return k == 0 ? cfg->seq * state : state;
}

static onnorm_status rnn_prepare(onn_kctx *ctx)
{
    const rnn_cfg *cfg = ctx->state;
    size_t total;
    onnorm_status st;
    if ((st = work_bytes(ctx, cfg->dtype == ONNORM_DOUBLE ? 8 : 4, &total))) return st;
    if (cfg->dtype == ONNORM_FLOAT16 || cfg->dtype == ONNORM_BFLOAT16) {
        for (int k = 0; k < 10; k++) {
            const onnorm_tensor *t = k < 7 ? onn_opt_input(ctx, f16_inputs[k]) : NULL;
            const int64_t n = k < 7 ? (t ? onnorm_tensor_numel(t) : 0) : out_numel(cfg, k - 7);
            size_t b;
            if ((st = onn_kbytes(ctx, (size_t)n, sizeof(float), 1, &b))) return st;
            if (b > SIZE_MAX / 2 - total)
                return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "scratch size overflows");
            total += (b + 63) & ~(size_t)63;
        }
    }
    onn_kscratch_need(ctx, total);
    return ONNORM_OK;
}

#define T float
#define SFX f32
#define RNN_F32 1
#include "ops/core/rnn_loops.h"

#define T double
#define SFX f64
#define RNN_F32 0
#include "ops/core/rnn_loops.h"

/* float16 and bfloat16 nodes: float32 copies in, the float32 run, the
 * half type out. */
static onnorm_status rnn_run_half(onn_kctx *ctx, rnn_io *io)
{
    const rnn_cfg *cfg = ctx->state;
    const bool bf = cfg->dtype == ONNORM_BFLOAT16;
    size_t work;
    onnorm_status st;
    if ((st = work_bytes(ctx, 4, &work))) return st;
    char *p = (char *)ctx->scratch + work;
    const void **slots[7] = {&io->x, &io->w, &io->r, &io->b, &io->h0, &io->c0, &io->p};
    for (int k = 0; k < 7; k++) {
        const onnorm_tensor *t = onn_opt_input(ctx, f16_inputs[k]);
        if (!t || !*slots[k]) continue;
        const int64_t n = onnorm_tensor_numel(t);
        const uint16_t *src = t->data;
        float *dst = (float *)p;
        for (int64_t i = 0; i < n; i++)
            dst[i] = bf ? onn_bf16_to_f32(src[i]) : onn_f16_to_f32(src[i]);
        *slots[k] = dst;
        p += ((size_t)n * sizeof(float) + 63) & ~(size_t)63;
    }
    void **outs[3] = {&io->y, &io->yh, &io->yc};
    void *dst16[3];
    for (int k = 0; k < 3; k++) {
        dst16[k] = *outs[k];
        if (*outs[k]) *outs[k] = p;
        p += ((size_t)out_numel(cfg, k) * sizeof(float) + 63) & ~(size_t)63;
    }
    if ((st = rnn_run_f32(ctx, io, ctx->scratch))) return st;
    for (int k = 0; k < 3; k++) {
        if (!dst16[k]) continue;
        const float *src = *outs[k];
        uint16_t *dst = dst16[k];
        for (int64_t i = 0, n = out_numel(cfg, k); i < n; i++)
            dst[i] = bf ? onn_f32_to_bf16(src[i]) : onn_f32_to_f16(src[i]);
    }
    return ONNORM_OK;
}

static onnorm_status rnn_run(onn_kctx *ctx)
{
    const rnn_cfg *cfg = ctx->state;
    const bool lstm = cfg->kind == RNN_LSTM;
    const onnorm_tensor *t;
    onnorm_tensor *o;
    rnn_io io = {.x = ctx->in[0]->data, .w = ctx->in[1]->data, .r = ctx->in[2]->data};
    io.b = (t = onn_opt_input(ctx, 3)) ? t->data : NULL;
    io.lens = onn_opt_input(ctx, 4);
    io.h0 = (t = onn_opt_input(ctx, 5)) ? t->data : NULL;
    io.c0 = lstm && (t = onn_opt_input(ctx, 6)) ? t->data : NULL;
    io.p = lstm && (t = onn_opt_input(ctx, 7)) ? t->data : NULL;
    io.y = (o = onn_opt_output(ctx, 0)) ? o->data : NULL;
    io.yh = (o = onn_opt_output(ctx, 1)) ? o->data : NULL;
    io.yc = lstm && (o = onn_opt_output(ctx, 2)) ? o->data : NULL;
    switch (cfg->dtype) {
    case ONNORM_DOUBLE: return rnn_run_f64(ctx, &io, ctx->scratch);
    case ONNORM_FLOAT16:
    case ONNORM_BFLOAT16: return rnn_run_half(ctx, &io);
    default: return rnn_run_f32(ctx, &io, ctx->scratch);
    }
}

#define RNN_KERNEL(op, ver, max_in, max_out, k, types_)                                            \
    {                                                                                              \
        ONN_KERNEL("", op, ver, 3, max_in, 0, max_out, rnn_infer, rnn_prepare, rnn_run),           \
            .config = rnn_config, .state_size = sizeof(rnn_cfg), .data = &rnn_kinds[k],            \
            .types = types_, .widens = (ver) >= 14                                                 \
    }
#define RNN_VERSIONS(op, max_in, max_out, k)                                                       \
    RNN_KERNEL(op, 1, max_in, max_out, k, ONN_T_HALF_FLOATS),                                      \
        RNN_KERNEL(op, 7, max_in, max_out, k, ONN_T_HALF_FLOATS),                                  \
        RNN_KERNEL(op, 14, max_in, max_out, k, ONN_T_HALF_FLOATS),                                 \
        RNN_KERNEL(op, 22, max_in, max_out, k, ONN_T_ALL_FLOATS)

ONN_KERNEL_TABLE(rnn, RNN_VERSIONS("RNN", 6, 2, 0), RNN_VERSIONS("GRU", 6, 2, 1),
                 RNN_KERNEL("GRU", 3, 6, 2, 1, ONN_T_HALF_FLOATS), RNN_VERSIONS("LSTM", 8, 3, 2));
