/*
 * ai.onnorm ScaledDotProductAttention-1: attention's chain of nodes as one
 * kernel (written by fuse-attention, graph/pass_attention.c):
 *
 *   S = scale(Q K)                      Q [.., M, dk], K [.., dk, N]
 *   S = S + mask                        mask (input 3) broadcasting to S
 *     or S = Where(cond, S, fill)       cond (input 4, bool) broadcasting
 *     or S = Where(cond, fill, S)       to S; fill_where says which
 *   Y = Softmax(S, last axis) V         V [.., N, dv], Y [.., M, dv]
 *
 * K is the first MatMul's right operand as the graph has it (the keys
 * already transposed). Q, K and V have the same rank (at least 2) and the
 * same leading (batch) dims; the mask and cond broadcast to S's shape the
 * way Add and Where would (unidirectionally: S keeps its shape).
 * Attributes:
 *   scale          float, default 1: S = Q K * scale ...
 *   scale_divides  int, default 0: ... or Q K / scale (a Div's exact result)
 *   fill           float: Where's constant branch
 *   fill_where     int: 1 fills where cond is true, 0 where it is false
 *
 * Each task is a block of rows of one batch: its rows of S (at most
 * ATT_ROWS of them, chosen so that the block stays within about 32 KiB)
 * are formed, scaled, masked and normalized while they are in cache, then
 * multiplied by V; S is never written out. Every row of S is whole (all N
 * columns) before its softmax, so the result is the unfused chain's, not a
 * running-maximum approximation; the products accumulate in float in the
 * order k = 0, 1, .. like the packed engine. The row loops are the Softmax
 * kernel's (softmax.h).
 *
 * A causal mask skips the future: when cond is a constant the same for
 * every batch and the fill is -inf, prepare finds for each row block the
 * last column any of its rows keeps; the columns past it have probability
 * exactly 0 in all of the block's rows, so neither product visits them
 * (GPT's 128 x 128 mask: a third of the products' work). The result is
 * the same but for a V holding inf or NaN in rows that only skipped
 * columns weigh (the unfused product would give 0 * inf = NaN there).
 *
 * The small products run an AVX2 + FMA 6 x 16
 * microkernel reading both operands in place (no packing: the blocks are
 * small and read a few times each), or a portable loop.
 */
#include "ops/core/blas.h"
#include "ops/core/broadcast.h"
#include "ops/core/softmax.h"
#include "ops/core/threadpool.h"
#include "ops/isa.h"

#include <math.h>

#define ATT_MAX_ROWS 48
#define ATT_BLOCK_FLOATS 8192

/* A broadcast operand of S (mask or cond): element steps per axis of S (0
 * where it repeats); the last two are the row and column steps. */
typedef struct att_bcast {
    int64_t step[ONNORM_MAX_RANK];
} att_bcast;

/* C[rows, n] = A[rows, k] B[k, n], row-major with leading dimensions. */
typedef void (*att_gemm)(int rows, int64_t n, int64_t k, const float *a, int64_t lda,
                         const float *b, int64_t ldb, float *c, int64_t ldc);

typedef struct att_cfg {
    int rank; /* of Q, K, V, S and Y */
    int64_t batch_dims[ONNORM_MAX_RANK], batch, m, n, dk, dv;
    float scale, fill;
    bool divides, fill_where;
    int mask_input; /* 3 (additive), 4 (cond) or -1 */
    att_bcast mb;
    int rows; /* per task */
    /* A constant causal-style cond with fill -inf (prepare): per row block,
     * the columns past which every score of the block's rows is -inf, so
     * that their probabilities are exactly 0 and are skipped; NULL else. */
    const int64_t *block_cols;
    att_gemm gemm;
    onn_softmax_row row;
    void (*prep)(float *si, int64_t n, float scale, bool divides, const float *mk,
                 const uint8_t *cd, int64_t cs, float fill, bool fw);
} att_cfg;

/* ---- the small products -------------------------------------------------------------- */

static void gemm_portable(int rows, int64_t n, int64_t k, const float *a, int64_t lda,
                          const float *b, int64_t ldb, float *c, int64_t ldc)
{
    for (int i = 0; i < rows; i++) {
        float *ci = c + i * ldc;
        for (int64_t j = 0; j < n; j++)
            ci[j] = 0.0f;
        for (int64_t p = 0; p < k; p++) {
            const float aip = a[i * lda + p];
            const float *bp = b + p * ldb;
            ONN_SIMD
            for (int64_t j = 0; j < n; j++)
                ci[j] += aip * bp[j];
        }
    }
}

#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>

ONN_TARGET_AVX2_BEGIN
#include "ops/core/avx2_lanes.h"

/* The first w lanes, w clamped to 0..8. */
static inline __m256i att_mask(int w)
{
    return onn_avx2_mask8(w < 0 ? 0 : w > 8 ? 8 : w);
}

/* One tile: mr (1..6) rows by w (1..16) columns; `full` when w == 16. */
static inline __attribute__((always_inline)) void att_tile(const int mr, const bool full, int w,
                                                           int64_t k, const float *a, int64_t lda,
                                                           const float *b, int64_t ldb, float *c,
                                                           int64_t ldc)
{
    __m256 acc[6][2];
    const __m256i m0 = att_mask(w), m1 = att_mask(w - 8);
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t p = 0; p < k; p++) {
        const float *bp = b + p * ldb;
        const __m256 b0 = full ? _mm256_loadu_ps(bp) : _mm256_maskload_ps(bp, m0);
        const __m256 b1 = full ? _mm256_loadu_ps(bp + 8) : _mm256_maskload_ps(bp + 8, m1);
#pragma GCC unroll 6
        for (int r = 0; r < mr; r++) {
            const __m256 ar = _mm256_broadcast_ss(a + r * lda + p);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        if (full) {
            _mm256_storeu_ps(cr, acc[r][0]);
            _mm256_storeu_ps(cr + 8, acc[r][1]);
        } else {
            _mm256_maskstore_ps(cr, m0, acc[r][0]);
            _mm256_maskstore_ps(cr + 8, m1, acc[r][1]);
        }
    }
}

#define ATT_TILE(R)                                                                                \
    static void att_tile_##R(bool full, int w, int64_t k, const float *a, int64_t lda,             \
                             const float *b, int64_t ldb, float *c, int64_t ldc)                   \
    {                                                                                              \
        if (full)                                                                                  \
            att_tile(R, true, 16, k, a, lda, b, ldb, c, ldc);                                      \
        else                                                                                       \
            att_tile(R, false, w, k, a, lda, b, ldb, c, ldc);                                      \
    }
ATT_TILE(1)
ATT_TILE(2)
ATT_TILE(3)
ATT_TILE(4)
ATT_TILE(5)
ATT_TILE(6)

typedef void (*att_tile_fn)(bool full, int w, int64_t k, const float *a, int64_t lda,
                            const float *b, int64_t ldb, float *c, int64_t ldc);
static const att_tile_fn att_tiles[6] = {att_tile_1, att_tile_2, att_tile_3,
                                         att_tile_4, att_tile_5, att_tile_6};

/* Column panels of 16 outside, rows of 6 inside: a B panel (k x 16) stays
 * in L1 while the rows pass over it. */
static void gemm_avx2(int rows, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                      int64_t ldb, float *c, int64_t ldc)
{
    for (int64_t j = 0; j < n; j += 16) {
        const int w = n - j < 16 ? (int)(n - j) : 16;
        for (int i = 0; i < rows; i += 6) {
            const int mr = rows - i < 6 ? rows - i : 6;
            att_tiles[mr - 1](w == 16, w, k, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc);
        }
    }
}
ONN_TARGET_END
#endif

/* Scale and mask one row of scores in one pass: si[j] = scale(si[j]),
 * then + mk[j * cs] or the Where's choice by cd[j * cs] (only one of mk
 * and cd is given). Rounded as the unfused nodes round: the scaled value,
 * then the sum. Compiled once per instruction set (ATT_PREP). */
#define ATT_PREP(sfx)                                                                              \
    static void prep_##sfx(float *si, int64_t n, float scale, bool divides, const float *mk,       \
                           const uint8_t *cd, int64_t cs, float fill, bool fw)                     \
    {                                                                                              \
        if (divides) {                                                                             \
            ONN_SIMD                                                                               \
            for (int64_t j = 0; j < n; j++)                                                        \
                si[j] /= scale;                                                                    \
        } else if (scale != 1.0f) {                                                                \
            ONN_SIMD                                                                               \
            for (int64_t j = 0; j < n; j++)                                                        \
                si[j] *= scale;                                                                    \
        }                                                                                          \
        if (mk && cs) {                                                                            \
            ONN_SIMD                                                                               \
            for (int64_t j = 0; j < n; j++)                                                        \
                si[j] += mk[j];                                                                    \
        } else if (mk) {                                                                           \
            const float add = mk[0];                                                               \
            ONN_SIMD                                                                               \
            for (int64_t j = 0; j < n; j++)                                                        \
                si[j] += add;                                                                      \
        } else if (cd && cs) {                                                                     \
            const uint8_t want = fw ? 1 : 0;                                                       \
            ONN_SIMD                                                                               \
            for (int64_t j = 0; j < n; j++)                                                        \
                si[j] = (cd[j] != 0) == want ? fill : si[j];                                       \
        } else if (cd && (cd[0] != 0) == fw) {                                                     \
            for (int64_t j = 0; j < n; j++)                                                        \
                si[j] = fill;                                                                      \
        }                                                                                          \
    }
ATT_PREP(portable)
#ifdef ONN_HAVE_X86_VARIANTS
ONN_TARGET_AVX2_BEGIN
ATT_PREP(avx2)
ONN_TARGET_END
#endif

/* ---- the kernel ---------------------------------------------------------------------- */

static onnorm_status check_operand(onn_kctx *ctx, int i, const char *what, int rank)
{
    onnorm_status st = onn_check_f32(ctx, i, what);
    if (st) return st;
    if (ctx->in[i]->rank != rank)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "%s has rank %d, Q has %d", what, ctx->in[i]->rank,
                         rank);
    return ONNORM_OK;
}

/* The mask or cond: broadcasts to S's dims (rank r), steps per axis. */
static onnorm_status att_broadcast(onn_kctx *ctx, int i, const int64_t *sdims, int r, att_bcast *b)
{
    const onnorm_tensor *t = ctx->in[i];
    char ts[128], ss[128];
    if (!onn_dims_broadcast_to(t->dims, t->rank, sdims, r))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "%s %s does not broadcast to the scores %s",
                         i == 3 ? "mask" : "cond", onn_shape_str(t->dims, t->rank, ts, sizeof ts),
                         onn_shape_str(sdims, r, ss, sizeof ss));
    int64_t s = 1;
    for (int d = r - 1; d >= 0; d--) {
        const int td = d - (r - t->rank);
        const int64_t dim = td >= 0 ? t->dims[td] : 1;
        b->step[d] = dim == 1 ? 0 : s;
        s *= dim;
    }
    return ONNORM_OK;
}

static onnorm_status att_config(onn_kctx *ctx)
{
    att_cfg *cfg = ctx->state;
    onnorm_status st;
    if ((st = onn_check_f32(ctx, 0, "Q"))) return st;
    const onnorm_tensor *q = ctx->in[0], *k = ctx->in[1], *v = ctx->in[2];
    const int r = q->rank;
    if (r < 2) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "Q must have rank >= 2");
    if ((st = check_operand(ctx, 1, "K", r)) || (st = check_operand(ctx, 2, "V", r))) return st;
    char qs[128], ks[128], vs[128];
    cfg->rank = r;
    cfg->m = q->dims[r - 2], cfg->dk = q->dims[r - 1];
    cfg->n = k->dims[r - 1], cfg->dv = v->dims[r - 1];
    bool ok = k->dims[r - 2] == cfg->dk && v->dims[r - 2] == cfg->n;
    cfg->batch = 1;
    for (int d = 0; d < r - 2; d++) {
        ok = ok && k->dims[d] == q->dims[d] && v->dims[d] == q->dims[d];
        cfg->batch_dims[d] = q->dims[d];
        cfg->batch *= q->dims[d];
    }
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "Q %s, K %s and V %s must be [.., M, dk], [.., dk, N] and [.., N, dv] "
                         "with the same leading dims",
                         onn_shape_str(q->dims, r, qs, sizeof qs),
                         onn_shape_str(k->dims, r, ks, sizeof ks),
                         onn_shape_str(v->dims, r, vs, sizeof vs));
    if ((st = onn_kattr_float(ctx, "scale", 1.0f, &cfg->scale))) return st;
    int64_t div, fw;
    if ((st = onn_kattr_int(ctx, "scale_divides", 0, &div)) ||
        (st = onn_kattr_float(ctx, "fill", 0.0f, &cfg->fill)) ||
        (st = onn_kattr_int(ctx, "fill_where", 1, &fw)))
        return st;
    cfg->divides = div != 0, cfg->fill_where = fw != 0;
    const bool has_mask = onn_has_input(ctx, 3), has_cond = onn_has_input(ctx, 4);
    if (has_mask && has_cond)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "mask and cond cannot both be given");
    cfg->mask_input = has_mask ? 3 : has_cond ? 4 : -1;
    if (cfg->mask_input >= 0) {
        int64_t sdims[ONNORM_MAX_RANK];
        memcpy(sdims, q->dims, (size_t)(r - 1) * sizeof *sdims);
        sdims[r - 1] = cfg->n;
        if (has_mask && (st = onn_check_f32(ctx, 3, "mask"))) return st;
        if (has_cond && ctx->in[4]->dtype != ONNORM_BOOL)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "cond must be bool");
        if ((st = att_broadcast(ctx, cfg->mask_input, sdims, r, &cfg->mb))) return st;
    }
    int64_t rows = cfg->n > 0 ? ATT_BLOCK_FLOATS / cfg->n : ATT_MAX_ROWS;
    rows = rows > ATT_MAX_ROWS ? ATT_MAX_ROWS : rows < 6 ? 6 : rows / 6 * 6;
    cfg->rows = (int)rows;
    cfg->gemm = gemm_portable;
    cfg->prep = prep_portable;
    cfg->row = onn_softmax_row_for(ONN_ISA_SCALAR);
#ifdef ONN_HAVE_X86_VARIANTS
    const onn_isa isa = onn_isa_active();
    if (isa == ONN_ISA_AVX2 || isa == ONN_ISA_AVX512) {
        cfg->gemm = gemm_avx2;
        cfg->prep = prep_avx2;
        cfg->row = onn_softmax_row_for(isa);
    }
#endif
    onn_kflops(ctx, 2.0 * (double)cfg->batch * (double)cfg->m * (double)cfg->n *
                        ((double)cfg->dk + (double)cfg->dv));
    return ONNORM_OK;
}

static onnorm_status att_infer(onn_kctx *ctx)
{
    const att_cfg *cfg = ctx->state;
    int64_t dims[ONNORM_MAX_RANK];
    memcpy(dims, ctx->in[0]->dims, (size_t)cfg->rank * sizeof *dims);
    dims[cfg->rank - 1] = cfg->dv;
    onn_set_output(ctx, 0, ONNORM_FLOAT, cfg->rank, dims);
    return ONNORM_OK;
}

/* For a constant cond shared by every batch and a fill of -inf: per row
 * block, one past the last column any of its rows keeps (n where a whole
 * block keeps nothing: its rows stay NaN as the unfused Softmax makes
 * them). Columns past that are -inf in every row of the block. */
static onnorm_status skip_plan(onn_kctx *ctx, att_cfg *cfg)
{
    const onnorm_tensor *c = onn_has_input(ctx, 4) ? ctx->in[4] : NULL;
    cfg->block_cols = NULL;
    if (!c || !c->data || cfg->fill != -INFINITY) return ONNORM_OK;
    for (int d = 0; d < cfg->rank - 2; d++)
        if (cfg->mb.step[d]) return ONNORM_OK;
    const int64_t blocks = (cfg->m + cfg->rows - 1) / cfg->rows;
    int64_t *bc = onn_kalloc(ctx, (size_t)blocks * sizeof *bc);
    if (!bc) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    const uint8_t *cd = c->data;
    const int64_t rs = cfg->mb.step[cfg->rank - 2], cs = cfg->mb.step[cfg->rank - 1];
    for (int64_t blk = 0; blk < blocks; blk++) {
        int64_t lim = 0;
        for (int64_t i = blk * cfg->rows; i < cfg->m && i < (blk + 1) * cfg->rows; i++)
            for (int64_t j = cfg->n - 1; j >= lim; j--)
                if ((cd[i * rs + j * cs] != 0) != cfg->fill_where) { /* kept */
                    lim = j + 1;
                    break;
                }
        bc[blk] = lim ? lim : cfg->n;
    }
    cfg->block_cols = bc;
    return ONNORM_OK;
}

static onnorm_status att_prepare(onn_kctx *ctx)
{
    att_cfg *cfg = ctx->state;
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)ctx->num_threads, (size_t)cfg->rows,
                                  (size_t)cfg->n * sizeof(float), &bytes);
    if (st) return st;
    onn_kscratch_need(ctx, bytes);
    return skip_plan(ctx, cfg);
}

/* Scale and mask the first `cols` columns of rows [r0, r0 + rows) of batch
 * b's scores s (ld n). */
static void att_mask_rows(const att_cfg *cfg, const onn_kctx *ctx, int64_t b, int64_t r0, int rows,
                          int64_t cols, float *s)
{
    const int64_t n = cfg->n;
    if (cfg->mask_input < 0 && !cfg->divides && cfg->scale == 1.0f) return;
    /* The batch's offset into the mask, from its index along each axis. */
    const int r = cfg->rank;
    int64_t off = 0, rem = b;
    for (int d = r - 3; d >= 0; d--) {
        off += (rem % cfg->batch_dims[d]) * cfg->mb.step[d];
        rem /= cfg->batch_dims[d];
    }
    const int64_t rs = cfg->mb.step[r - 2], cs = cfg->mb.step[r - 1];
    for (int i = 0; i < rows; i++) {
        const int64_t o = off + (r0 + i) * rs;
        const float *mk = cfg->mask_input == 3 ? (const float *)ctx->in[3]->data + o : NULL;
        const uint8_t *cd = cfg->mask_input == 4 ? (const uint8_t *)ctx->in[4]->data + o : NULL;
        cfg->prep(s + i * n, cols, cfg->scale, cfg->divides, mk, cd, cs, cfg->fill,
                  cfg->fill_where);
    }
}

/* The arguments of att_run's task loop. */
typedef struct att_job {
    const att_cfg *cfg;
    const onn_kctx *ctx;
    const float *q, *k, *v;
    float *y;
    int64_t blocks; /* row blocks per batch */
} att_job;

static void att_tasks(void *arg, int64_t t0, int64_t t1, int worker)
{
    const att_job *j = arg;
    const att_cfg *cfg = j->cfg;
    const int64_t m = cfg->m, n = cfg->n, dk = cfg->dk, dv = cfg->dv, blocks = j->blocks;
    float *s = (float *)j->ctx->scratch + (size_t)worker * (size_t)cfg->rows * n;
    for (int64_t t = t0; t < t1; t++) {
        const int64_t b = t / blocks, r0 = (t % blocks) * cfg->rows;
        const int rows = m - r0 < cfg->rows ? (int)(m - r0) : cfg->rows;
        /* Columns past `cols` weigh exactly 0 (a causal mask's future) */
        const int64_t cols = cfg->block_cols ? cfg->block_cols[t % blocks] : n;
        cfg->gemm(rows, cols, dk, j->q + (b * m + r0) * dk, dk, j->k + b * dk * n, n, s, n);
        att_mask_rows(cfg, j->ctx, b, r0, rows, cols, s);
        for (int i = 0; i < rows; i++)
            cfg->row(s + i * n, s + i * n, cols, false);
        cfg->gemm(rows, dv, cols, s, n, j->v + b * n * dv, dv, j->y + (b * m + r0) * dv, dv);
    }
}

static onnorm_status att_run(onn_kctx *ctx)
{
    const att_cfg *cfg = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK;
    const float *q = ctx->in[0]->data, *k = ctx->in[1]->data, *v = ctx->in[2]->data;
    float *y = ctx->out[0]->data;
    const int64_t m = cfg->m, n = cfg->n, dk = cfg->dk, dv = cfg->dv;
    if (cfg->batch == 0 || m == 0 || dv == 0) return ONNORM_OK;
    if (n == 0) { /* softmax of an empty row: nothing to weight V by */
        memset(y, 0, (size_t)(cfg->batch * m * dv) * sizeof *y);
        return ONNORM_OK;
    }
    const int64_t blocks = (m + cfg->rows - 1) / cfg->rows, tasks = cfg->batch * blocks;
    const double macs = (double)cfg->batch * (double)m * (double)n * (double)(dk + dv);
    const int nt = onn_threads_for(ctx, macs > 1e15 ? (int64_t)1e15 : (int64_t)macs, tasks);
    att_job j = {cfg, ctx, q, k, v, y, blocks};
    onn_parallel_range(nt, tasks, att_tasks, &j);
    return ONNORM_OK;
}

ONN_KERNEL_TABLE(attention, {ONN_KERNEL("ai.onnorm", "ScaledDotProductAttention", 1, 3, 5, 1, 1,
                                        att_infer, att_prepare, att_run),
                             .config = att_config, .state_size = sizeof(att_cfg)});
