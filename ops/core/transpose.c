/*
 * Transpose (opset 1; 13 and 21 only add types): output axis j is input
 * axis perm[j]; perm defaults to the reversed axes.
 *
 * The copy works on element bytes, so every type is handled alike. Config
 * reads perm; prepare simplifies the view once for the input's shape:
 * size-1 axes are dropped and output axes that are also adjacent, in order,
 * in the input are merged.
 * A typical NCHW <-> NHWC permutation then becomes a 3-D copy and an
 * identity permutation a plain memcpy. Run walks the output in rows of its
 * innermost axis, rows spread across threads.
 *
 * 4-byte elements whose view ends in a swap of two axes (the output's
 * last axis strided in the input, the one before it contiguous there:
 * NCHW <-> NHWC, a matrix transpose, attention's K^T) go through 8 x 8
 * tiles instead: 8 input rows of 8 contiguous floats are read, transposed
 * in registers (AVX2) or a small loop, and written as 8 output rows, so
 * both sides move whole cache lines. ConvNeXt-tiny's permutes of
 * [1, 96, 56, 56] there and back took 0.16 ms instead of 0.60 (one
 * thread, Zen 3, AVX2).
 */
#include "ops/core/threadpool.h"
#include "ops/isa.h"
#include "ops/kernel.h"

#include <string.h>
#ifdef ONN_HAVE_X86_VARIANTS
#include <immintrin.h>
#endif

/* perm and the simplified copy view (see the file comment). */
typedef struct tp_cfg {
    int perm[ONNORM_MAX_RANK];
    int rank;
    int64_t dims[ONNORM_MAX_RANK];   /* output-ordered */
    int64_t stride[ONNORM_MAX_RANK]; /* input stride of each output axis, in elements */
    int64_t rows, inner;             /* rows of the innermost axis (0 when empty), their length */
    size_t esz;
    bool tiled; /* 4-byte elements, the view ends in a swap of its last two axes */
    bool avx2;  /* tiles through AVX2 */
} tp_cfg;

/* ---- 8 x 8 tiles -------------------------------------------------------------------------- */

/* dst[i * ld_d + j] = src[j * ld_s + i] for i < 8, j < 8 (4-byte elements). */
static void tile8_portable(const uint32_t *src, int64_t ld_s, uint32_t *dst, int64_t ld_d)
{
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            dst[i * ld_d + j] = src[j * ld_s + i];
}

#ifdef ONN_HAVE_X86_VARIANTS
ONN_TARGET_AVX2_BEGIN
static void tile8_avx2(const uint32_t *src, int64_t ld_s, uint32_t *dst, int64_t ld_d)
{
    const float *s = (const float *)src;
    float *d = (float *)dst;
    __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ld_s);
    __m256 r2 = _mm256_loadu_ps(s + 2 * ld_s), r3 = _mm256_loadu_ps(s + 3 * ld_s);
    __m256 r4 = _mm256_loadu_ps(s + 4 * ld_s), r5 = _mm256_loadu_ps(s + 5 * ld_s);
    __m256 r6 = _mm256_loadu_ps(s + 6 * ld_s), r7 = _mm256_loadu_ps(s + 7 * ld_s);
    /* Pairs of rows interleaved, then pairs of pairs, then the halves. */
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(d + ld_d, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(d + 2 * ld_d, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(d + 3 * ld_d, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(d + 4 * ld_d, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(d + 5 * ld_d, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(d + 6 * ld_d, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(d + 7 * ld_d, _mm256_permute2f128_ps(u3, u7, 0x31));
}
ONN_TARGET_END
#endif

/* Output rows [i0, i0 + 8) (or fewer at the end) of one outer slice: the
 * output is [di, dj], element (i, j) read at src[i + j * s]. */
static void tile_rows(const tp_cfg *v, const uint32_t *src, uint32_t *dst, int64_t i0)
{
    const int r = v->rank;
    const int64_t di = v->dims[r - 2], dj = v->dims[r - 1], s = v->stride[r - 1];
    const int64_t ni = di - i0 < 8 ? di - i0 : 8;
    int64_t j = 0;
    if (ni == 8)
        for (; j + 8 <= dj; j += 8) {
#ifdef ONN_HAVE_X86_VARIANTS
            if (v->avx2) {
                tile8_avx2(src + i0 + j * s, s, dst + i0 * dj + j, dj);
                continue;
            }
#endif
            tile8_portable(src + i0 + j * s, s, dst + i0 * dj + j, dj);
        }
    for (int64_t i = i0; i < i0 + ni; i++) /* the columns past the last whole tile */
        for (int64_t jj = j; jj < dj; jj++)
            dst[i * dj + jj] = src[i + jj * s];
}

/* The arguments of the copy loops (run_tiled's and transpose_run's). */
typedef struct tp_job {
    const tp_cfg *v;
    const void *src;
    void *dst;
    int64_t blocks; /* run_tiled: blocks of 8 rows per outer slice */
} tp_job;

static void tiled_tasks(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const tp_job *j = arg;
    const tp_cfg *v = j->v;
    const int r = v->rank;
    const int64_t di = v->dims[r - 2], dj = v->dims[r - 1], blocks = j->blocks;
    for (int64_t t = t0; t < t1; t++) {
        const int64_t o = t / blocks, i0 = (t % blocks) * 8;
        int64_t rem = o, off = 0;
        for (int k = r - 3; k >= 0; k--) {
            off += rem % v->dims[k] * v->stride[k];
            rem /= v->dims[k];
        }
        tile_rows(v, (const uint32_t *)j->src + off, (uint32_t *)j->dst + o * di * dj, i0);
    }
}

static void run_tiled(onn_kctx *ctx, const tp_cfg *v, const uint32_t *src, uint32_t *dst)
{
    const int r = v->rank;
    const int64_t di = v->dims[r - 2], dj = v->dims[r - 1];
    const int64_t outer = onn_dims_numel(v->dims, 0, r - 2), blocks = (di + 7) / 8;
    const int64_t tasks = outer * blocks;
    const int nt = onn_threads_for(ctx, outer * di * dj, tasks);
    tp_job j = {v, src, dst, blocks};
    onn_parallel_range(nt, tasks, tiled_tasks, &j);
}

/* Reads and validates perm; fills the default when absent. */
static onnorm_status read_perm(onn_kctx *ctx, int *perm)
{
    const int r = ctx->in[0]->rank;
    int64_t p[ONNORM_MAX_RANK];
    bool present, seen[ONNORM_MAX_RANK] = {false};
    onnorm_status st = onn_kattr_ints(ctx, "perm", r, p, &present);
    if (st) return st;
    /* onn_kattr_ints reads an empty list as absent; it permutes no axes, so
     * it is only valid for a scalar. */
    if (!present && r > 0 && onn_kattr_has(ctx, "perm"))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "perm has 0 entries, the input has rank %d", r);
    for (int k = 0; !present && k < r; k++)
        perm[k] = r - 1 - k;
    for (int k = 0; present && k < r; k++) {
        if (p[k] < 0 || p[k] >= r || seen[p[k]])
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "perm is not a permutation of 0..%d (entry %d is %lld)", r - 1, k,
                             (long long)p[k]);
        seen[p[k]] = true;
        perm[k] = (int)p[k];
    }
    return ONNORM_OK;
}

/* The view for x's shape and v->perm, fixed for the plan. */
static void make_view(const onnorm_tensor *x, tp_cfg *v)
{
    const int *perm = v->perm;
    int64_t in_stride[ONNORM_MAX_RANK];
    int64_t s = 1;
    for (int k = x->rank - 1; k >= 0; k--) {
        in_stride[k] = s;
        s *= x->dims[k];
    }
    v->rank = 0;
    for (int j = 0; j < x->rank; j++) {
        int64_t d = x->dims[perm[j]], st = in_stride[perm[j]];
        if (d == 1) continue;
        int last = v->rank - 1;
        if (last >= 0 && v->stride[last] == st * d) { /* contiguous with the previous axis */
            v->dims[last] *= d;
            v->stride[last] = st;
            continue;
        }
        v->dims[v->rank] = d;
        v->stride[v->rank++] = st;
    }
    if (v->rank == 0) { /* a single element */
        v->dims[0] = 1;
        v->stride[0] = 1;
        v->rank = 1;
    }
    v->inner = v->dims[v->rank - 1];
    /* An empty tensor has nothing to copy (and its strides mean nothing). */
    v->rows = onnorm_tensor_numel(x) == 0 ? 0 : onn_dims_numel(v->dims, 0, v->rank - 1);
    v->esz = onnorm_dtype_size(x->dtype);
    const int r = v->rank;
    v->tiled =
        v->esz == 4 && r >= 2 && v->rows > 0 && v->stride[r - 2] == 1 && v->stride[r - 1] != 1;
    const onn_isa isa = onn_isa_active();
    v->avx2 = isa == ONN_ISA_AVX2 || isa == ONN_ISA_AVX512;
}

static onnorm_status transpose_config(onn_kctx *ctx)
{
    tp_cfg *v = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'data' is missing");
    if (onnorm_dtype_size(x->dtype) == 0)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'data' has unsupported type %s",
                         onnorm_dtype_name(x->dtype));
    return read_perm(ctx, v->perm);
}

static onnorm_status transpose_infer(onn_kctx *ctx)
{
    const tp_cfg *v = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t dims[ONNORM_MAX_RANK];
    for (int k = 0; k < x->rank; k++)
        dims[k] = x->dims[v->perm[k]];
    onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    return ONNORM_OK;
}

/* The view needs x's element count to fit, which planning has checked by now. */
static onnorm_status transpose_prepare(onn_kctx *ctx)
{
    make_view(ctx->in[0], ctx->state);
    return ONNORM_OK;
}

static void copy_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const tp_job *j = arg;
    const tp_cfg *v = j->v;
    const size_t esz = v->esz;
    const int r = v->rank;
    const int64_t inner = v->inner;
    const char *src = j->src;
    char *dst = j->dst;
    for (int64_t row = r0; row < r1; row++) {
        int64_t rem = row, off = 0;
        for (int k = r - 2; k >= 0; k--) {
            off += rem % v->dims[k] * v->stride[k];
            rem /= v->dims[k];
        }
        char *d = dst + (size_t)(row * inner) * esz;
        if (v->stride[r - 1] == 1)
            memcpy(d, src + (size_t)off * esz, (size_t)inner * esz);
        else
            onn_copy_strided(d, src + (size_t)off * esz, inner, v->stride[r - 1], esz);
    }
}

static onnorm_status transpose_run(onn_kctx *ctx)
{
    const tp_cfg *v = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK; /* output omitted ("") */
    const int64_t rows = v->rows;
    const char *src = ctx->in[0]->data;
    char *dst = ctx->out[0]->data;
    if (v->tiled) {
        run_tiled(ctx, v, (const uint32_t *)src, (uint32_t *)dst);
        return ONNORM_OK;
    }
    const int nt = onn_threads_for(ctx, rows * v->inner, rows);
    tp_job j = {v, src, dst, 0};
    onn_parallel_range(nt, rows, copy_rows, &j);
    return ONNORM_OK;
}

ONN_KERNEL_TABLE(transpose, {ONN_KERNEL("", "Transpose", 1, 1, 1, 1, 1, transpose_infer,
                                        transpose_prepare, transpose_run),
                             .config = transpose_config, .state_size = sizeof(tp_cfg)});
