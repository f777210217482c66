/*
 * Ops that move elements between positions:
 *
 *   DepthToSpace     1, 11, 13   11: mode DCR (default) / CRD; any storable type
 *   SpaceToDepth     1, 13       any storable type
 *   ReverseSequence  10          any storable type, int64 sequence_lens
 *   GlobalMaxPool    1, 22       float32/64, float16 (22: bfloat16); N-D
 *   MaxUnpool        9, 11, 22   float32/64, float16 (22: bfloat16); N-D,
 *                                int64 indices, optional output_shape input
 *
 * Storable types are every fixed-size ONNX type; strings and complex numbers
 * are refused, and bfloat16 before version 13 (so ReverseSequence-10 never
 * takes it), as the spec's type lists say. All but GlobalMaxPool copy
 * element bytes.
 *
 * Decisions where the spec is silent:
 *   - DepthToSpace and SpaceToDepth take 4-D [N, C, H, W] input only (as the
 *     spec's shapes say).
 *   - ReverseSequence accepts lengths in [0, T] (T the time axis' size); 0
 *     and 1 leave a batch entry unchanged. Other lengths fail the run.
 *   - GlobalMaxPool: a NaN in a plane makes its maximum NaN (numpy's max,
 *     which ONNX's reference uses). Rank >= 3 is required.
 *   - MaxUnpool: indices are flat positions in [N, C, inferred spatial dims],
 *     where each inferred dim is (in - 1) * stride + kernel - pad_begin -
 *     pad_end (the spec's formula, MaxPool's input size); an index outside
 *     that count fails the run. output_shape, when given, must match N and
 *     C and be no smaller than the inferred spatial dims: the inferred block
 *     sits at the start of each axis and the rest is zero (as ONNX's
 *     reference does and the official test expects). A duplicated index
 *     keeps the last value in row-major order of X. output_shape must be
 *     known while planning, and the output is refused past 4 GiB.
 */
#include "ops/core/threadpool.h"
#include "ops/half.h"
#include "ops/kernel.h"

#include <math.h>
#include <string.h>

static void copy_elem(char *dst, const char *src, size_t esz)
{
    switch (esz) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, esz); break;
    }
}

/* ---- DepthToSpace, SpaceToDepth ---------------------------------------------- */

typedef struct d2s_cfg {
    int64_t b;
    bool crd, to_depth;
} d2s_cfg;

static const bool k_d2s = false, k_s2d = true;

static onnorm_status d2s_config(onn_kctx *ctx)
{
    d2s_cfg *c = ctx->state;
    c->to_depth = *(const bool *)ctx->kernel->data;
    onnorm_status st = onn_check_storable(ctx, 0, "input");
    if (st) return st;
    if ((st = onn_kattr_require(ctx, "blocksize")) ||
        (st = onn_kattr_int(ctx, "blocksize", 1, &c->b)))
        return st;
    if (!c->to_depth && onn_kversion(ctx) >= 11) {
        static const char *const modes[] = {"DCR", "CRD"};
        int m;
        if ((st = onn_kattr_enum(ctx, "mode", modes, 2, 0, &m))) return st;
        c->crd = m == 1;
    }
    const onnorm_tensor *x = ctx->in[0];
    if (x->rank != 4)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input must be 4-D [N, C, H, W], got rank %d",
                         x->rank);
    const int64_t b = c->b;
    if (b < 1 || b > (int64_t)1 << 20)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "blocksize %lld is invalid", (long long)b);
    if (c->to_depth) {
        if (x->dims[2] % b || x->dims[3] % b)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "H (%lld) and W (%lld) must be multiples of blocksize %lld",
                             (long long)x->dims[2], (long long)x->dims[3], (long long)b);
        if (x->dims[1] > INT64_MAX / (b * b))
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "output channel count overflows");
    } else {
        if (x->dims[1] % (b * b))
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "C (%lld) must be a multiple of blocksize^2 (%lld)",
                             (long long)x->dims[1], (long long)(b * b));
        if (x->dims[2] > INT64_MAX / b || x->dims[3] > INT64_MAX / b)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "output spatial size overflows");
    }
    return ONNORM_OK;
}

static onnorm_status d2s_infer(onn_kctx *ctx)
{
    const d2s_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    const int64_t b = c->b;
    int64_t d[4] = {x->dims[0], 0, 0, 0};
    if (c->to_depth)
        d[1] = x->dims[1] * b * b, d[2] = x->dims[2] / b, d[3] = x->dims[3] / b;
    else
        d[1] = x->dims[1] / (b * b), d[2] = x->dims[2] * b, d[3] = x->dims[3] * b;
    onn_set_output(ctx, 0, x->dtype, 4, d);
    return ONNORM_OK;
}

/* The arguments of d2s_run's row loop. */
typedef struct d2s_job {
    int64_t b, C, H, W, h, w, DC;
    size_t esz;
    char *spd, *dpd;
    bool to_depth, crd;
} d2s_job;

static void d2s_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const d2s_job *jb = arg;
    const int64_t b = jb->b, C = jb->C, H = jb->H, W = jb->W, h = jb->h, w = jb->w, DC = jb->DC;
    const size_t esz = jb->esz;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t oh = r % H, ch = (r / H) % C, n = r / (H * C);
        const int64_t i = oh % b, hh = oh / b;
        char *srow = jb->spd + (size_t)(r * W) * esz;
        for (int64_t ow = 0; ow < W; ow++) {
            const int64_t j = ow % b, ww = ow / b;
            const int64_t dc = jb->crd ? ch * b * b + i * b + j : (i * b + j) * C + ch;
            char *d = jb->dpd + (size_t)(((n * DC + dc) * h + hh) * w + ww) * esz;
            if (jb->to_depth)
                copy_elem(d, srow + (size_t)ow * esz, esz);
            else
                copy_elem(srow + (size_t)ow * esz, d, esz);
        }
    }
}

/* Walks the DepthToSpace-side tensor (small C, large H, W) one row at a
 * time; the other side is addressed by channel (depth index). */
static onnorm_status d2s_run(onn_kctx *ctx)
{
    const d2s_cfg *c = ctx->state;
    onnorm_tensor *y = ctx->out[0];
    if (!y) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0];
    const onnorm_tensor *sp = c->to_depth ? x : y, *dp = c->to_depth ? y : x;
    const int64_t N = sp->dims[0], C = sp->dims[1], H = sp->dims[2], W = sp->dims[3];
    d2s_job jb = {.b = c->b,
                  .C = C,
                  .H = H,
                  .W = W,
                  .h = dp->dims[2],
                  .w = dp->dims[3],
                  .DC = dp->dims[1],
                  .esz = onnorm_dtype_size(x->dtype),
                  .spd = sp->data, /* one of them is written */
                  .dpd = dp->data,
                  .to_depth = c->to_depth,
                  .crd = c->crd};
    const int64_t rows = N * C * H;
    const int nt = onn_threads_for(ctx, rows * W, rows);
    onn_parallel_range(nt, rows, d2s_rows, &jb);
    return ONNORM_OK;
}

/* ---- ReverseSequence ------------------------------------------------------- */

typedef struct rs_cfg {
    int batch_axis, time_axis;
} rs_cfg;

static onnorm_status rs_config(onn_kctx *ctx)
{
    rs_cfg *c = ctx->state;
    onnorm_status st = onn_check_storable(ctx, 0, "input");
    if (st) return st;
    int64_t ba, ta;
    if ((st = onn_kattr_int(ctx, "batch_axis", 1, &ba)) ||
        (st = onn_kattr_int(ctx, "time_axis", 0, &ta)))
        return st;
    if (!((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "batch_axis (%lld) and time_axis (%lld) must be 0 and 1 in some order",
                         (long long)ba, (long long)ta);
    c->batch_axis = (int)ba, c->time_axis = (int)ta;
    const onnorm_tensor *x = ctx->in[0], *len = onn_opt_input(ctx, 1);
    if (x->rank < 2)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input must have rank >= 2, got %d", x->rank);
    if (!len)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'sequence_lens' is missing");
    if (len->dtype != ONNORM_INT64)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "'sequence_lens' has type %s, expected int64",
                         onnorm_dtype_name(len->dtype));
    if (len->rank != 1 || len->dims[0] != x->dims[ba])
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "'sequence_lens' must be 1-D with %lld entries (the batch size)",
                         (long long)x->dims[ba]);
    return ONNORM_OK;
}

static onnorm_status rs_infer(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    onn_set_output(ctx, 0, x->dtype, x->rank, x->dims);
    return ONNORM_OK;
}

/* The arguments of rs_run's loop over the [d0, d1] blocks. */
typedef struct rs_job {
    const char *src;
    char *dst;
    const int64_t *len;
    int64_t d1;
    size_t block;
    bool time0;
} rs_job;

static void rs_blocks(void *arg, int64_t t0, int64_t t1, int worker)
{
    (void)worker;
    const rs_job *j = arg;
    const int64_t d1 = j->d1;
    const size_t block = j->block;
    const bool time0 = j->time0;
    for (int64_t t = t0; t < t1; t++) {
        const int64_t i0 = t / d1, i1 = t % d1;
        const int64_t bi = time0 ? i1 : i0, ti = time0 ? i0 : i1, L = j->len[bi];
        const int64_t si = ti < L ? L - 1 - ti : ti;
        const int64_t s = time0 ? si * d1 + i1 : i0 * d1 + si;
        memcpy(j->dst + (size_t)t * block, j->src + (size_t)s * block, block);
    }
}

static onnorm_status rs_run(onn_kctx *ctx)
{
    const rs_cfg *c = ctx->state;
    onnorm_tensor *y = ctx->out[0];
    if (!y) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0];
    const int64_t *len = ctx->in[1]->data;
    const int64_t d0 = x->dims[0], d1 = x->dims[1], T = x->dims[c->time_axis];
    const int64_t B = x->dims[c->batch_axis];
    for (int64_t bi = 0; bi < B; bi++)
        if (len[bi] < 0 || len[bi] > T)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)bi,
                             (long long)len[bi], (long long)T);
    const size_t block = (size_t)onn_dims_numel(x->dims, 2, x->rank) * onnorm_dtype_size(x->dtype);
    const int64_t tasks = d0 * d1;
    const int nt = onn_threads_for(ctx, tasks * (int64_t)block, tasks);
    rs_job j = {x->data, y->data, len, d1, block, c->time_axis == 0};
    onn_parallel_range(nt, tasks, rs_blocks, &j);
    return ONNORM_OK;
}

/* ---- GlobalMaxPool --------------------------------------------------------- */

static onnorm_status gmp_infer(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st) return st;
    if (x->rank < 3)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input must be [N, C, D1, ...], got rank %d",
                         x->rank);
    int64_t d[ONNORM_MAX_RANK];
    d[0] = x->dims[0], d[1] = x->dims[1];
    for (int k = 2; k < x->rank; k++) {
        if (x->dims[k] == 0)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "spatial dim %d is 0: the max is undefined", k);
        d[k] = 1;
    }
    onn_set_output(ctx, 0, x->dtype, x->rank, d);
    return ONNORM_OK;
}

static double load_f(const void *p, onnorm_dtype t, int64_t i)
{
    switch (t) {
    case ONNORM_FLOAT: return ((const float *)p)[i];
    case ONNORM_DOUBLE: return ((const double *)p)[i];
    case ONNORM_FLOAT16: return onn_f16_to_f32(((const uint16_t *)p)[i]);
    default: return onn_bf16_to_f32(((const uint16_t *)p)[i]);
    }
}

static void store_f(void *p, onnorm_dtype t, int64_t i, double v)
{
    switch (t) {
    case ONNORM_FLOAT: ((float *)p)[i] = (float)v; break;
    case ONNORM_DOUBLE: ((double *)p)[i] = v; break;
    case ONNORM_FLOAT16: ((uint16_t *)p)[i] = onn_f32_to_f16((float)v); break;
    default: ((uint16_t *)p)[i] = onn_f32_to_bf16((float)v); break;
    }
}

/* Max of one plane; NaN wins. float32 gets its own loop (the common case). */
static double plane_max(const void *x, onnorm_dtype t, int64_t off, int64_t n)
{
    if (t == ONNORM_FLOAT) {
        const float *p = (const float *)x + off;
        float m = p[0];
        for (int64_t i = 1; i < n; i++) {
            const float v = p[i];
            m = (v > m || v != v) ? v : m;
            if (m != m) break;
        }
        return m;
    }
    double m = load_f(x, t, off);
    for (int64_t i = 1; i < n && m == m; i++) {
        const double v = load_f(x, t, off + i);
        if (v > m || v != v) m = v;
    }
    return m;
}

/* The arguments of gmp_run's plane loop. */
typedef struct gmp_job {
    const onnorm_tensor *x;
    onnorm_tensor *y;
    int64_t n; /* elements per plane */
} gmp_job;

static void gmp_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const gmp_job *j = arg;
    for (int64_t p = p0; p < p1; p++)
        store_f(j->y->data, j->x->dtype, p, plane_max(j->x->data, j->x->dtype, p * j->n, j->n));
}

static onnorm_status gmp_run(onn_kctx *ctx)
{
    onnorm_tensor *y = ctx->out[0];
    if (!y) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0];
    const int64_t planes = x->dims[0] * x->dims[1], n = onn_dims_numel(x->dims, 2, x->rank);
    const int nt = onn_threads_for(ctx, planes * n, planes);
    gmp_job j = {x, y, n};
    onn_parallel_range(nt, planes, gmp_planes, &j);
    return ONNORM_OK;
}

/* ---- MaxUnpool ------------------------------------------------------------- */

typedef struct mu_cfg {
    int rank;
    int64_t inferred[ONNORM_MAX_RANK], out[ONNORM_MAX_RANK];
} mu_cfg;

/* Refusal bound for an output sized by output_shape's values: 4 GiB. */
#define MU_MAX_BYTES ((size_t)1 << 32)

static onnorm_status mu_config(onn_kctx *ctx)
{
    mu_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *idx = onn_opt_input(ctx, 1);
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st) return st;
    if (!idx) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input 'I' is missing");
    if (idx->dtype != ONNORM_INT64)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'I' has type %s, expected int64",
                         onnorm_dtype_name(idx->dtype));
    const int r = x->rank, ns = r - 2;
    if (r < 3) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X must be [N, C, D1, ...], got rank %d", r);
    bool same = idx->rank == r;
    for (int k = 0; same && k < r; k++)
        same = idx->dims[k] == x->dims[k];
    if (!same) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "'I' must have the shape of 'X'");
    int64_t ks[ONNORM_MAX_RANK], st_[ONNORM_MAX_RANK], pads[2 * ONNORM_MAX_RANK];
    bool has;
    if ((st = onn_kattr_require(ctx, "kernel_shape")) ||
        (st = onn_kattr_ints(ctx, "kernel_shape", ns, ks, &has)))
        return st;
    if ((st = onn_kattr_ints(ctx, "strides", ns, st_, &has))) return st;
    for (int k = 0; !has && k < ns; k++)
        st_[k] = 1;
    if ((st = onn_kattr_ints(ctx, "pads", 2 * ns, pads, &has))) return st;
    for (int k = 0; !has && k < 2 * ns; k++)
        pads[k] = 0;
    c->rank = r;
    c->inferred[0] = x->dims[0], c->inferred[1] = x->dims[1];
    for (int k = 0; k < ns; k++) {
        if (ks[k] < 1 || st_[k] < 1 || pads[k] < 0 || pads[ns + k] < 0 || ks[k] > INT32_MAX ||
            st_[k] > INT32_MAX || pads[k] > INT32_MAX || pads[ns + k] > INT32_MAX)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "kernel_shape and strides must be >= 1 and pads >= 0 (axis %d)", k);
        const int64_t in = x->dims[k + 2];
        if (in > INT32_MAX)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "spatial dim %lld is too large", (long long)in);
        const int64_t d = in == 0 ? 0 : (in - 1) * st_[k] + ks[k] - pads[k] - pads[ns + k];
        if (d < 0)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the inferred output dim %d is negative (%lld)",
                             k + 2, (long long)d);
        c->inferred[k + 2] = d;
    }
    memcpy(c->out, c->inferred, sizeof c->out);
    if (onn_has_input(ctx, 2)) {
        int64_t os[ONNORM_MAX_RANK];
        int n;
        if ((st = onn_input_ints(ctx, 2, "output_shape", ONN_INTS_INT64, ONNORM_MAX_RANK, os, &n)))
            return st;
        if (n != r)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "output_shape has %d values, X has rank %d", n,
                             r);
        for (int k = 0; k < r; k++) {
            if (k < 2 ? os[k] != c->inferred[k] : os[k] < c->inferred[k])
                return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                                 "output_shape[%d] = %lld: %s %lld (the size the attributes give)",
                                 k, (long long)os[k], k < 2 ? "must equal" : "must be at least",
                                 (long long)c->inferred[k]);
            c->out[k] = os[k];
        }
    }
    /* The output size comes from output_shape's values: overflow-checked,
     * and refused past MU_MAX_BYTES. */
    size_t bytes = onnorm_dtype_size(x->dtype);
    for (int k = 0; k < r; k++)
        if ((st = onn_kbytes(ctx, bytes, (size_t)c->out[k], 1, &bytes))) return st;
    if (bytes > MU_MAX_BYTES) {
        char sh[128];
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "output shape %s (%zu bytes) is past the %zu-byte limit for sizes "
                         "taken from input values",
                         onn_shape_str(c->out, r, sh, sizeof sh), bytes, (size_t)MU_MAX_BYTES);
    }
    return ONNORM_OK;
}

static onnorm_status mu_infer(onn_kctx *ctx)
{
    const mu_cfg *c = ctx->state;
    onn_set_output(ctx, 0, ctx->in[0]->dtype, c->rank, c->out);
    return ONNORM_OK;
}

static onnorm_status mu_run(onn_kctx *ctx)
{
    const mu_cfg *c = ctx->state;
    onnorm_tensor *y = ctx->out[0];
    if (!y) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0];
    const int64_t *idx = ctx->in[1]->data;
    const int64_t n = onnorm_tensor_numel(x), limit = onn_dims_numel(c->inferred, 0, c->rank);
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= limit)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "index %lld (at position %lld of 'I') is outside [0, %lld)",
                             (long long)idx[i], (long long)i, (long long)limit);
    const size_t esz = onnorm_dtype_size(x->dtype);
    memset(y->data, 0, (size_t)onnorm_tensor_numel(y) * esz); /* 0.0 in every float type */
    bool same = true;
    for (int k = 0; k < c->rank; k++)
        same &= c->out[k] == c->inferred[k];
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t off = idx[i];
        if (!same) { /* the inferred block's position, in the larger output */
            int64_t rem = off, o = 0, s = 1;
            for (int k = c->rank - 1; k >= 0; k--) {
                o += (rem % c->inferred[k]) * s;
                rem /= c->inferred[k];
                s *= c->out[k];
            }
            off = o;
        }
        copy_elem(dst + (size_t)off * esz, src + (size_t)i * esz, esz);
    }
    return ONNORM_OK;
}

#define POOL_TYPES ONN_T_HALF_FLOATS
#define POOL_TYPES_22 ONN_T_ALL_FLOATS

ONN_KERNEL_TABLE(
    layout_ops,
    {ONN_KERNEL("", "DepthToSpace", 1, 1, 1, 1, 1, d2s_infer, NULL, d2s_run), .config = d2s_config,
     .state_size = sizeof(d2s_cfg), .data = &k_d2s},
    {ONN_KERNEL("", "DepthToSpace", 11, 1, 1, 1, 1, d2s_infer, NULL, d2s_run), .config = d2s_config,
     .state_size = sizeof(d2s_cfg), .data = &k_d2s, .widens = true},
    {ONN_KERNEL("", "DepthToSpace", 13, 1, 1, 1, 1, d2s_infer, NULL, d2s_run), .config = d2s_config,
     .state_size = sizeof(d2s_cfg), .data = &k_d2s, .widens = true},
    {ONN_KERNEL("", "SpaceToDepth", 1, 1, 1, 1, 1, d2s_infer, NULL, d2s_run), .config = d2s_config,
     .state_size = sizeof(d2s_cfg), .data = &k_s2d},
    {ONN_KERNEL("", "SpaceToDepth", 13, 1, 1, 1, 1, d2s_infer, NULL, d2s_run), .config = d2s_config,
     .state_size = sizeof(d2s_cfg), .data = &k_s2d, .widens = true},
    {ONN_KERNEL("", "ReverseSequence", 10, 2, 2, 1, 1, rs_infer, NULL, rs_run), .config = rs_config,
     .state_size = sizeof(rs_cfg)},
    {ONN_KERNEL("", "GlobalMaxPool", 1, 1, 1, 1, 1, gmp_infer, NULL, gmp_run), .types = POOL_TYPES},
    {ONN_KERNEL("", "GlobalMaxPool", 22, 1, 1, 1, 1, gmp_infer, NULL, gmp_run),
     .types = POOL_TYPES_22, .widens = true},
    {ONN_KERNEL("", "MaxUnpool", 9, 2, 3, 1, 1, mu_infer, NULL, mu_run), .config = mu_config,
     .state_size = sizeof(mu_cfg), .types = POOL_TYPES},
    {ONN_KERNEL("", "MaxUnpool", 11, 2, 3, 1, 1, mu_infer, NULL, mu_run), .config = mu_config,
     .state_size = sizeof(mu_cfg), .types = POOL_TYPES, .widens = true},
    {ONN_KERNEL("", "MaxUnpool", 22, 2, 3, 1, 1, mu_infer, NULL, mu_run), .config = mu_config,
     .state_size = sizeof(mu_cfg), .types = POOL_TYPES_22, .widens = true});
