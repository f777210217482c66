/*
 * Gemm (opsets 1, 7, 11) and MatMul (opset 1 on), float32, on sgemm.
 *
 * Gemm: Y[M,N] = alpha * A' * B' + beta * C, A' = A^T if transA, B' = B^T if
 * transB. By opset:
 *   1, 6:  C is required and must be [M, N] unless broadcast = 1, which lets
 *          it broadcast like later opsets (6 only changed types);
 *   7, 9:  C is required and broadcasts unidirectionally to [M, N];
 *   11, 13: C is optional (9 and 13 only added types).
 * Y starts as beta * C (broadcast) and the product accumulates onto it.
 *
 * MatMul follows numpy.matmul: a 1-D A is a row [1, K] and a 1-D B a column
 * [K, 1], and the added axis is dropped from the result; leading (batch)
 * axes broadcast. When B has no batch (or only 1s), A's batches stack into
 * one tall [batch * M, K] product; otherwise each batch is one sgemm.
 *
 * Both read and check their attributes and shapes in their config step, into
 * the state infer and run read; run only multiplies.
 *
 * Constant weights. When B is an initializer (data at prepare), it is packed
 * once into the panels of the packed product (sgemm.h, onn_sgemm_pack_b)
 * and every run packs only A, the activations, then multiplies on the
 * engine: no per-run packing or transposition of the weights, which
 * OpenBLAS redoes on every call (its copy routines took 8% of a BERT-style
 * encoder's time at one thread). For MatMul that takes a B without batches
 * (or batches of 1), A's batches stacked; for Gemm alpha = 1 and a C that
 * is absent, holds one value per column of Y, or is [M, N], with beta = 1
 * (C enters the epilogue as a residual; a row step of 0 repeats a bias
 * row); and at least a microtile of rows (6 for AVX2). Alone, a 128 x 384
 * by 384 x 1536 product runs at OpenBLAS's rate either way (78 GFLOP/s at
 * best, one thread, Zen 3). Other cases call OpenBLAS.
 */
#include "ops/core/blas.h"
#include "ops/core/sgemm.h"
#include "ops/core/threadpool.h"
#include "ops/core/vmath.h"
#include "ops/isa.h"

#include <string.h>

/* ---- constant weights on the packed engine ------------------------------------------ */

typedef struct packed_b {
    const onn_sgemm_engine *e; /* NULL: not packed */
    const float *bp;           /* onn_sgemm_pack_b of B */
} packed_b;

/* Packs B (k x n; trans: stored n x k) at prepare and asks for the scratch
 * of an m-row product. False (nothing done) where a size overflows or the
 * build has no engine. */
static onnorm_status pack_b_prepare(onn_kctx *ctx, packed_b *pk, int64_t m, int64_t n, int64_t k,
                                    const float *b, int64_t ldb, bool trans)
{
    const onn_sgemm_engine *e = onn_sgemm_engine_get(onn_isa_active());
    size_t b_bytes, work;
    pk->e = NULL;
    /* Fewer rows than a microtile (a classifier at batch 1) leave most of
     * each tile empty: OpenBLAS's matrix-vector product serves them. */
    if (!e || m < e->mr || n <= 0 || k <= 0 || !onn_sgemm_pack_b_size(e, k, n, &b_bytes) ||
        !onn_sgemm_scratch_size(e, m, n, k, ctx->num_threads, &work))
        return ONNORM_OK;
    float *bp = onn_kalloc(ctx, b_bytes);
    if (!bp) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    onn_sgemm_pack_b(e, k, n, b, ldb, trans, bp);
    onn_kscratch_need(ctx, work);
    pk->e = e, pk->bp = bp;
    return ONNORM_OK;
}

/* y[m, n] = a[m, k] * B + res (ldr: res's row step, 0 repeats one row;
 * res may be NULL), B packed by pack_b_prepare, A read in place. */
static void packed_run(onn_kctx *ctx, const packed_b *pk, int64_t m, int64_t n, int64_t k,
                       const float *a, float *y, const float *res, int64_t ldr)
{
    onn_sgemm_args p = {.m = m,
                        .n = n,
                        .k = k,
                        .a_rows = a,
                        .lda = k,
                        .b = {.packed = pk->bp},
                        .c = y,
                        .ldc = n,
                        .res = res,
                        .ldr = ldr};
    onn_sgemm_parallel(pk->e, &p, ctx->num_threads, ctx->scratch);
}

/* ---- Gemm ---------------------------------------------------------------- */

typedef struct gemm_cfg {
    int64_t m, n, k;
    int64_t lda, ldb; /* A's and B's stored row lengths */
    int64_t trans_a, trans_b, broadcast;
    float alpha, beta;
    bool has_c;
    int64_t c_row_step, c_col_step; /* C's element steps along Y's rows and columns */
    packed_b pk;
} gemm_cfg;

/* C must broadcast unidirectionally to [M, N]; before opset 7 only with
 * broadcast = 1, else it must be exactly [M, N]. */
static onnorm_status check_c(onn_kctx *ctx, gemm_cfg *cfg)
{
    const onnorm_tensor *c = ctx->in[2];
    char cs[128];
    onnorm_status st;
    cfg->broadcast = 1;
    if ((st = onn_check_f32(ctx, 2, "C"))) return st;
    if (onn_kversion(ctx) < 7 && (st = onn_kattr_int(ctx, "broadcast", 0, &cfg->broadcast)))
        return st;
    bool ok = c->rank <= 2;
    if (cfg->broadcast == 0)
        ok = c->rank == 2 && c->dims[0] == cfg->m && c->dims[1] == cfg->n;
    else if (ok && c->rank >= 1)
        ok = (c->dims[c->rank - 1] == 1 || c->dims[c->rank - 1] == cfg->n) &&
             (c->rank < 2 || c->dims[0] == 1 || c->dims[0] == cfg->m);
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "C %s does not %s [%lld,%lld]",
                         onn_shape_str(c->dims, c->rank, cs, sizeof cs),
                         cfg->broadcast ? "broadcast to" : "match (broadcast = 0)",
                         (long long)cfg->m, (long long)cfg->n);
    /* A step of 0 repeats C along an axis it broadcasts over. */
    cfg->c_col_step = c->rank >= 1 && c->dims[c->rank - 1] != 1 ? 1 : 0;
    cfg->c_row_step = c->rank == 2 && c->dims[0] != 1 ? c->dims[1] : 0;
    return ONNORM_OK;
}

static onnorm_status gemm_config(onn_kctx *ctx)
{
    gemm_cfg *cfg = ctx->state;
    onnorm_status st;
    if ((st = onn_check_f32(ctx, 0, "A")) || (st = onn_check_f32(ctx, 1, "B")) ||
        (st = onn_kattr_int(ctx, "transA", 0, &cfg->trans_a)) ||
        (st = onn_kattr_int(ctx, "transB", 0, &cfg->trans_b)) ||
        (st = onn_kattr_float(ctx, "alpha", 1.0f, &cfg->alpha)) ||
        (st = onn_kattr_float(ctx, "beta", 1.0f, &cfg->beta)))
        return st;
    const onnorm_tensor *a = ctx->in[0], *b = ctx->in[1];
    char as[128], bs[128];
    if (a->rank != 2 || b->rank != 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "A %s and B %s must be 2-D",
                         onn_shape_str(a->dims, a->rank, as, sizeof as),
                         onn_shape_str(b->dims, b->rank, bs, sizeof bs));
    cfg->m = a->dims[cfg->trans_a ? 1 : 0], cfg->k = a->dims[cfg->trans_a ? 0 : 1];
    cfg->n = b->dims[cfg->trans_b ? 0 : 1];
    cfg->lda = a->dims[1], cfg->ldb = b->dims[1];
    if (b->dims[cfg->trans_b ? 1 : 0] != cfg->k)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "inner dimensions differ: A %s (transA %lld), B %s (transB %lld)",
                         onn_shape_str(a->dims, a->rank, as, sizeof as), (long long)cfg->trans_a,
                         onn_shape_str(b->dims, b->rank, bs, sizeof bs), (long long)cfg->trans_b);
    if (!onn_blas_fits(cfg->m) || !onn_blas_fits(cfg->n) || !onn_blas_fits(cfg->k))
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "the product exceeds the BLAS size range");
    onn_kflops(ctx, 2.0 * (double)cfg->m * (double)cfg->n * (double)cfg->k);
    cfg->has_c = onn_has_input(ctx, 2);
    if (!cfg->has_c && onn_kversion(ctx) < 11)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "input 'C' is required before opset 11");
    return cfg->has_c ? check_c(ctx, cfg) : ONNORM_OK;
}

static onnorm_status gemm_infer(onn_kctx *ctx)
{
    const gemm_cfg *cfg = ctx->state;
    onn_set_output(ctx, 0, ONNORM_FLOAT, 2, (int64_t[]){cfg->m, cfg->n});
    return ONNORM_OK;
}

typedef struct fill_job {
    const gemm_cfg *cfg;
    const float *cd;
    float *y;
} fill_job;

static void fill_rows(void *arg, int64_t i0, int64_t i1, int worker)
{
    (void)worker;
    const fill_job *f = arg;
    const gemm_cfg *cfg = f->cfg;
    const int64_t col_step = cfg->c_col_step, row_step = cfg->c_row_step, n = cfg->n;
    for (int64_t i = i0; i < i1; i++)
        for (int64_t j = 0; j < n; j++)
            f->y[i * n + j] = cfg->beta * f->cd[i * row_step + j * col_step];
}

/* y = beta * C broadcast to [M, N]. */
static void fill_c(onn_kctx *ctx, const gemm_cfg *cfg, const float *cd, float *y)
{
    fill_job f = {cfg, cd, y};
    onn_parallel_range(onn_threads_for(ctx, cfg->m * cfg->n, cfg->m), cfg->m, fill_rows, &f);
}

/* B constant, alpha 1, C absent or entering as a residual (beta 1, one
 * value per column): the packed engine. */
static onnorm_status gemm_prepare(onn_kctx *ctx)
{
    gemm_cfg *cfg = ctx->state;
    cfg->pk.e = NULL;
    if (!ctx->in[1]->data || cfg->trans_a || cfg->alpha != 1.0f ||
        (cfg->has_c && (cfg->beta != 1.0f || cfg->c_col_step != 1)))
        return ONNORM_OK;
    return pack_b_prepare(ctx, &cfg->pk, cfg->m, cfg->n, cfg->k, ctx->in[1]->data, cfg->ldb,
                          cfg->trans_b != 0);
}

static onnorm_status gemm_run(onn_kctx *ctx)
{
    const gemm_cfg *cfg = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* Y omitted: nothing is asked for */
    float *y = ctx->out[0]->data;
    if (cfg->pk.e) {
        packed_run(ctx, &cfg->pk, cfg->m, cfg->n, cfg->k, ctx->in[0]->data, y,
                   cfg->has_c ? ctx->in[2]->data : NULL, cfg->c_row_step);
        return ONNORM_OK;
    }
    if (cfg->has_c) fill_c(ctx, cfg, ctx->in[2]->data, y);
    onn_sgemm(ctx->num_threads, cfg->trans_a != 0, cfg->trans_b != 0, cfg->m, cfg->n, cfg->k,
              cfg->alpha, ctx->in[0]->data, cfg->lda, ctx->in[1]->data, cfg->ldb,
              cfg->has_c ? 1.0f : 0.0f, y, cfg->n);
    return ONNORM_OK;
}

/* ---- MatMul -------------------------------------------------------------- */

/* Products of a batch below this many multiply-adds run one per thread. */
#define ONN_BATCH_SERIAL_MACS (8.0 * 1024 * 1024)

typedef struct matmul_cfg {
    int64_t m, k, n;
    int nb; /* batch axes of the output */
    int64_t batch[ONNORM_MAX_RANK], a_step[ONNORM_MAX_RANK], b_step[ONNORM_MAX_RANK];
    int64_t n_batch;
    bool b_unbatched; /* B has one matrix */
    bool stacked;     /* ... and A's batches stack into one product's rows */
    packed_b pk;
} matmul_cfg;

/* Batch axes of t (rank >= 3: all but the last two), right-aligned to nb
 * axes, with element steps between consecutive matrices (0 when broadcast). */
static void batch_steps(const onnorm_tensor *t, int nb, int64_t matrix, int64_t *dims,
                        int64_t *step)
{
    const int tb = t->rank > 2 ? t->rank - 2 : 0;
    int64_t s = matrix;
    for (int i = nb - 1; i >= 0; i--) {
        int ti = i - (nb - tb);
        dims[i] = ti >= 0 ? t->dims[ti] : 1;
        step[i] = dims[i] == 1 ? 0 : s;
        s *= dims[i];
    }
}

static onnorm_status matmul_batches(onn_kctx *ctx, matmul_cfg *cfg)
{
    const onnorm_tensor *a = ctx->in[0], *b = ctx->in[1];
    int64_t ad[ONNORM_MAX_RANK], bd[ONNORM_MAX_RANK];
    int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
    cfg->nb = ra > rb ? ra : rb;
    batch_steps(a, cfg->nb, cfg->m * cfg->k, ad, cfg->a_step);
    batch_steps(b, cfg->nb, cfg->k * cfg->n, bd, cfg->b_step);
    cfg->n_batch = 1;
    cfg->b_unbatched = true;
    for (int i = 0; i < cfg->nb; i++) {
        char as[128], bs[128];
        if (ad[i] != bd[i] && ad[i] != 1 && bd[i] != 1)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "batch axes of A %s and B %s do not broadcast",
                             onn_shape_str(a->dims, a->rank, as, sizeof as),
                             onn_shape_str(b->dims, b->rank, bs, sizeof bs));
        cfg->batch[i] = ad[i] == 1 ? bd[i] : ad[i];
        cfg->n_batch *= cfg->batch[i]; /* the output's element count bounds it */
        if (bd[i] != 1) cfg->b_unbatched = false;
    }
    return ONNORM_OK;
}

static onnorm_status matmul_config(onn_kctx *ctx)
{
    matmul_cfg *cfg = ctx->state;
    onnorm_status st;
    if ((st = onn_check_f32(ctx, 0, "A")) || (st = onn_check_f32(ctx, 1, "B"))) return st;
    const onnorm_tensor *a = ctx->in[0], *b = ctx->in[1];
    char as[128], bs[128];
    if (a->rank < 1 || b->rank < 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "A and B must have rank >= 1");
    cfg->m = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
    cfg->k = a->dims[a->rank - 1];
    cfg->n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
    if (b->dims[b->rank >= 2 ? b->rank - 2 : 0] != cfg->k)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "inner dimensions of A %s and B %s differ",
                         onn_shape_str(a->dims, a->rank, as, sizeof as),
                         onn_shape_str(b->dims, b->rank, bs, sizeof bs));
    if (!onn_blas_fits(cfg->m) || !onn_blas_fits(cfg->n) || !onn_blas_fits(cfg->k))
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "the product exceeds the BLAS size range");
    if ((st = matmul_batches(ctx, cfg))) return st;
    /* Config runs before the output's size is checked: the guard keeps the
     * product from overflowing where that size would be refused. */
    cfg->stacked = cfg->b_unbatched && (cfg->m == 0 || cfg->n_batch <= INT64_MAX / cfg->m) &&
                   onn_blas_fits(cfg->n_batch * cfg->m);
    onn_kflops(ctx, 2.0 * (double)cfg->n_batch * (double)cfg->m * (double)cfg->n * (double)cfg->k);
    return ONNORM_OK;
}

static onnorm_status matmul_infer(onn_kctx *ctx)
{
    const matmul_cfg *cfg = ctx->state;
    int64_t dims[ONNORM_MAX_RANK + 2];
    int r = cfg->nb;
    memcpy(dims, cfg->batch, (size_t)r * sizeof *dims);
    if (ctx->in[0]->rank >= 2) dims[r++] = cfg->m;
    if (ctx->in[1]->rank >= 2) dims[r++] = cfg->n;
    onn_set_output(ctx, 0, ONNORM_FLOAT, r, dims);
    return ONNORM_OK;
}

/* A constant B without batches: packed once, A's batches stacked. */
static onnorm_status matmul_prepare(onn_kctx *ctx)
{
    matmul_cfg *cfg = ctx->state;
    cfg->pk.e = NULL;
    if (!ctx->in[1]->data || !cfg->stacked) return ONNORM_OK;
    return pack_b_prepare(ctx, &cfg->pk, cfg->n_batch * cfg->m, cfg->n, cfg->k, ctx->in[1]->data,
                          cfg->n, false);
}

typedef struct batch_job {
    const matmul_cfg *cfg;
    const float *a, *b;
    float *y;
    int threads; /* for each product */
} batch_job;

static void batch_products(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const batch_job *j = arg;
    const matmul_cfg *cfg = j->cfg;
    for (int64_t t = t0; t < t1; t++) {
        int64_t rem = t, ao = 0, bo = 0;
        for (int i = cfg->nb - 1; i >= 0; i--) {
            int64_t idx = rem % cfg->batch[i];
            rem /= cfg->batch[i];
            ao += idx * cfg->a_step[i];
            bo += idx * cfg->b_step[i];
        }
        onn_sgemm(j->threads, false, false, cfg->m, cfg->n, cfg->k, 1.0f, j->a + ao, cfg->k,
                  j->b + bo, cfg->n, 0.0f, j->y + t * cfg->m * cfg->n, cfg->n);
    }
}

static onnorm_status matmul_run(onn_kctx *ctx)
{
    const matmul_cfg *cfg = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* Y omitted: nothing is asked for */
    const float *a = ctx->in[0]->data, *b = ctx->in[1]->data;
    float *y = ctx->out[0]->data;
    const int nt = ctx->num_threads;
    if (cfg->pk.e) {
        packed_run(ctx, &cfg->pk, cfg->n_batch * cfg->m, cfg->n, cfg->k, a, y, NULL, 0);
        return ONNORM_OK;
    }
    if (cfg->stacked) {
        onn_sgemm(nt, false, false, cfg->n_batch * cfg->m, cfg->n, cfg->k, 1.0f, a, cfg->k, b,
                  cfg->n, 0.0f, y, cfg->n);
        return ONNORM_OK;
    }
    /* Many small products (attention's heads: 128 x 64 x 128 each) go one
     * per thread in one parallel region: threading each inside OpenBLAS
     * woke the team once per head for a product too small to share. */
    const bool per_thread =
        nt > 1 && cfg->n_batch >= nt &&
        (double)cfg->m * (double)cfg->n * (double)cfg->k < ONN_BATCH_SERIAL_MACS;
    batch_job j = {cfg, a, b, y, per_thread ? 1 : nt};
    if (per_thread)
        onn_parallel_range(nt, cfg->n_batch, batch_products, &j);
    else
        batch_products(&j, 0, cfg->n_batch, 0);
    return ONNORM_OK;
}

#define GEMM_KERNEL(ver, in_lo)                                                                    \
    {                                                                                              \
        ONN_KERNEL("", "Gemm", ver, in_lo, 3, 1, 1, gemm_infer, gemm_prepare, gemm_run),           \
            .config = gemm_config, .state_size = sizeof(gemm_cfg)                                  \
    }

/* ---- Linear (ai.onnorm) ---------------------------------------------------------------------
 *
 * Y = act(A * B + bias): MatMul with a 2-D B, then the bias (one value per
 * column of Y, as Add broadcasts a [N] or [1, .., 1, N] constant) and an
 * activation, all in the product's epilogue. fuse-linear (graph/
 * pass_linear.c) writes it for MatMul -> Add(bias) -> activation chains
 * with constant weights. Attributes: `activation` as FusedConv's (Relu,
 * Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, SiLU, Tanh, with
 * `activation_params`) or "Gelu" with Gelu's `approximate` ("none" or
 * "tanh"), absent for none. A is as MatMul's (1-D: one row, the axis
 * dropped; batches stack into rows).
 *
 * With B constant (and a microtile of rows) the packed engine computes it,
 * the bias entering as a residual row repeated with a step of 0, the
 * activation on each tile as it is finished (Gelu through vmath_loops.c's
 * loop on the tile's rows). Otherwise OpenBLAS multiplies and one pass
 * adds the bias and applies the activation.
 */

typedef struct linear_cfg {
    int64_t rows, n, k; /* A as rows x k */
    int out_rank;
    int64_t out_dims[ONNORM_MAX_RANK];
    bool has_bias;
    onn_epilogue ep;     /* act and its parameters (ep.bias unused) */
    onn_sgemm_post post; /* Gelu's loop, or NULL */
    packed_b pk;
} linear_cfg;

static onnorm_status linear_activation(onn_kctx *ctx, linear_cfg *cfg)
{
    static const char *const approximations[] = {"none", "tanh"};
    const onn_attr *a = onn_attr_find(ctx->node, "activation");
    cfg->post = NULL;
    if (a && a->type == ONN_ATTR_STRING && a->s && !strcmp(a->s, "Gelu")) {
        int tanh_form;
        onnorm_status st = onn_kattr_enum(ctx, "approximate", approximations, 2, 0, &tanh_form);
        if (st) return st;
        cfg->ep = (onn_epilogue){NULL, ONN_ACT_NONE, 0.0f, 0.0f};
        cfg->post =
            onn_vm_loop_for(tanh_form ? ONN_VM_GELU_TANH : ONN_VM_GELU, (int)onn_isa_active());
        return ONNORM_OK;
    }
    return onn_epilogue_config(ctx, &cfg->ep);
}

static onnorm_status linear_config(onn_kctx *ctx)
{
    linear_cfg *cfg = ctx->state;
    onnorm_status st;
    if ((st = onn_check_f32(ctx, 0, "A")) || (st = onn_check_f32(ctx, 1, "B"))) return st;
    const onnorm_tensor *a = ctx->in[0], *b = ctx->in[1];
    char as[128], bs[128];
    if (a->rank < 1 || b->rank != 2 || a->dims[a->rank - 1] != b->dims[0])
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "A %s and B %s: B must be 2-D [K, N], K A's last",
                         onn_shape_str(a->dims, a->rank, as, sizeof as),
                         onn_shape_str(b->dims, b->rank, bs, sizeof bs));
    cfg->k = b->dims[0], cfg->n = b->dims[1];
    cfg->rows = onn_dims_numel(a->dims, 0, a->rank - 1);
    if (!onn_blas_fits(cfg->rows) || !onn_blas_fits(cfg->n) || !onn_blas_fits(cfg->k))
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "the product exceeds the BLAS size range");
    cfg->out_rank = a->rank;
    memcpy(cfg->out_dims, a->dims, (size_t)a->rank * sizeof *a->dims);
    cfg->out_dims[a->rank - 1] = cfg->n;
    cfg->has_bias = onn_has_input(ctx, 2);
    if (cfg->has_bias) {
        const onnorm_tensor *c = ctx->in[2];
        if ((st = onn_check_f32(ctx, 2, "bias"))) return st;
        bool ok = c->rank >= 1 && c->rank <= cfg->out_rank && c->dims[c->rank - 1] == cfg->n &&
                  onn_dims_numel(c->dims, 0, c->rank) == cfg->n;
        if (!ok)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "bias %s must hold N = %lld values along Y's last axis",
                             onn_shape_str(c->dims, c->rank, as, sizeof as), (long long)cfg->n);
    }
    onn_kflops(ctx, 2.0 * (double)cfg->rows * (double)cfg->n * (double)cfg->k);
    return linear_activation(ctx, cfg);
}

static onnorm_status linear_infer(onn_kctx *ctx)
{
    const linear_cfg *cfg = ctx->state;
    onn_set_output(ctx, 0, ONNORM_FLOAT, cfg->out_rank, cfg->out_dims);
    return ONNORM_OK;
}

static onnorm_status linear_prepare(onn_kctx *ctx)
{
    linear_cfg *cfg = ctx->state;
    cfg->pk.e = NULL;
    if (!ctx->in[1]->data) return ONNORM_OK;
    return pack_b_prepare(ctx, &cfg->pk, cfg->rows, cfg->n, cfg->k, ctx->in[1]->data, cfg->n,
                          false);
}

/* Rows [r0, r1) of Y: + bias, then the activation, in place. */
static void linear_rows(const linear_cfg *cfg, const float *bias, float *y, int64_t r0, int64_t r1)
{
    for (int64_t r = r0; r < r1; r++) {
        float *yr = y + r * cfg->n;
        if (bias)
            for (int64_t j = 0; j < cfg->n; j++)
                yr[j] += bias[j];
        onn_act_row(cfg->ep.act, cfg->ep.alpha, cfg->ep.beta, yr, cfg->n);
        if (cfg->post) cfg->post(yr, yr, cfg->n, NULL);
    }
}

typedef struct linear_job {
    const linear_cfg *cfg;
    const float *bias;
    float *y;
} linear_job;

static void linear_part(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const linear_job *j = arg;
    linear_rows(j->cfg, j->bias, j->y, r0, r1);
}

static onnorm_status linear_run(onn_kctx *ctx)
{
    const linear_cfg *cfg = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK;
    const float *a = ctx->in[0]->data, *bias = cfg->has_bias ? ctx->in[2]->data : NULL;
    float *y = ctx->out[0]->data;
    if (cfg->pk.e) {
        onn_sgemm_args p = {.m = cfg->rows,
                            .n = cfg->n,
                            .k = cfg->k,
                            .a_rows = a,
                            .lda = cfg->k,
                            .b = {.packed = cfg->pk.bp},
                            .c = y,
                            .ldc = cfg->n,
                            .res = bias,
                            .ldr = 0,
                            .ep = cfg->ep,
                            .post = cfg->post};
        onn_sgemm_parallel(cfg->pk.e, &p, ctx->num_threads, ctx->scratch);
        return ONNORM_OK;
    }
    onn_sgemm(ctx->num_threads, false, false, cfg->rows, cfg->n, cfg->k, 1.0f, a, cfg->k,
              ctx->in[1]->data, cfg->n, 0.0f, y, cfg->n);
    linear_job j = {cfg, bias, y};
    onn_parallel_range(onn_threads_for(ctx, cfg->rows * cfg->n, cfg->rows), cfg->rows, linear_part,
                       &j);
    return ONNORM_OK;
}

ONN_KERNEL_TABLE(gemm, GEMM_KERNEL(1, 3), GEMM_KERNEL(7, 3), GEMM_KERNEL(11, 2),
                 {ONN_KERNEL("", "MatMul", 1, 2, 2, 1, 1, matmul_infer, matmul_prepare, matmul_run),
                  .config = matmul_config, .state_size = sizeof(matmul_cfg)},
                 {ONN_KERNEL("ai.onnorm", "Linear", 1, 2, 3, 1, 1, linear_infer, linear_prepare,
                             linear_run),
                  .config = linear_config, .state_size = sizeof(linear_cfg)});
