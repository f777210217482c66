/*
 * Linear quantization and integer arithmetic (reference kernels):
 *
 *   QuantizeLinear         10: x float32/int32, scalar float32 y_scale,
 *                              optional uint8/int8 y_zero_point;
 *                          13: `axis`, per-axis 1-D scale and zero point;
 *                          19: x and y_scale also float16/bfloat16 (from
 *                              here y_scale must have x's type, int32 too);
 *                          21: `block_size` (blocked scales), `output_dtype`,
 *                              int16/uint16 outputs.
 *   DequantizeLinear       10: x int8/uint8/int32, scalar float32 x_scale,
 *                              optional zero point of x's type;
 *                          13: `axis`, per-axis; 19: x_scale float16/bfloat16
 *                              (y has x_scale's type); 21: `block_size`,
 *                              int16/uint16 inputs.
 *   DynamicQuantizeLinear  11: float32 -> uint8, y_scale, y_zero_point.
 *   MatMulInteger          10: int8/uint8 A and B -> int32.
 *   ConvInteger            10: int8/uint8 x and w -> int32.
 *   QLinearMatMul          10, 21: int8/uint8 in, y of y_zero_point's type.
 *   QLinearConv            10: int8/uint8 in, y of y_zero_point's type.
 *
 * float8 (opset 19+), int4 and uint4 (opset 21) are refused with an
 * "unsupported type" error; the `saturate` attribute only concerns float8
 * and is therefore ignored.
 *
 * Quantization computes x / scale in float32 for float inputs (float16 and
 * bfloat16 widened first, so the quotient is not rounded to 16 bits before
 * rint) and in float64 for int32 inputs, rounds half to
 * even (rint in the default rounding mode), adds the zero point and
 * saturates to the output type. A NaN quantizes to the zero point (the
 * spec is silent); a zero scale is not refused: it sends x != 0 to a bound
 * of the output type and 0 (0 / 0 = NaN) to the zero point. Dequantization computes (x -
 * zero_point) exactly in integers, then float32(x - zp) * scale in float32, rounded once to the
 * scale's type.
 *
 * Scale layouts: a one-element scale (rank 0, or rank 1 of one element) is
 * per tensor and `axis` is then ignored; a 1-D scale of x.dims[axis] values
 * is per axis; with block_size > 0 the scale has x's rank and dims, except
 * ceil(x.dims[axis] / block_size) along axis. A zero point must have the
 * scale's shape.
 *
 * DynamicQuantizeLinear ignores NaN when it looks for the range (a NaN
 * element quantizes to the zero point). When the input is all zeros the
 * range is empty and y_scale would be 0: the kernel reports y_scale = 1,
 * y_zero_point = 0 (as ONNX Runtime does), which dequantizes exactly.
 *
 * MatMulInteger and QLinearMatMul follow numpy's matmul (1-D operands are
 * promoted, batch dims broadcast). A's zero point (and QLinearMatMul's
 * a_scale) is one value, or one per row: an [M] vector or a tensor of A's
 * rank shaped [batch..., M, 1]; B's is one value, or one per column: [N] or
 * [batch..., 1, N]. y_scale and y_zero_point hold one value. ConvInteger's
 * and QLinearConv's x zero point (and x_scale) is one value; w's zero point
 * and w_scale are one value or one per output channel [M]. Padding behaves
 * as if filled with x's zero point (it adds nothing to the sum).
 *
 * Products accumulate in int64, so no sum overflows; MatMulInteger and
 * ConvInteger then store the low 32 bits (what an int32 accumulator gives).
 * QLinear* requantize: the float32 multiplier a_scale * b_scale / y_scale
 * (x_scale * w_scale / y_scale) times the int64 sum (plus QLinearConv's
 * int32 bias B) in float64, rounded half to even, plus y_zero_point,
 * saturated.
 */
#include "ops/core/elem.h"
#include "ops/core/spatial.h"
#include "ops/core/threadpool.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define T_Q8 (ONN_T(ONNORM_INT8) | ONN_T(ONNORM_UINT8))

static const char *tname(onnorm_dtype t)
{
    const char *s = onnorm_dtype_name(t);
    return s ? s : "?";
}

static int64_t numel(const onnorm_tensor *t)
{
    return onnorm_tensor_numel(t);
}

static onnorm_status need_type(onn_kctx *ctx, const onnorm_tensor *t, const char *what,
                               uint32_t mask)
{
    if (!(ONN_T(t->dtype) & mask)) {
        char buf[160];
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "%s has unsupported type %s (supported: %s)",
                         what, tname(t->dtype), onn_types_str(mask, buf, sizeof buf));
    }
    return ONNORM_OK;
}

static onnorm_status need_input(onn_kctx *ctx, int i, const char *what)
{
    if (!onn_has_input(ctx, i))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    return ONNORM_OK;
}

/* A one-value parameter (rank 0, or rank 1 of one element). */
static onnorm_status need_one(onn_kctx *ctx, const onnorm_tensor *t, const char *what)
{
    if (t->rank > 1 || numel(t) != 1) {
        char s[128];
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "%s must hold one value, got shape %s", what,
                         onn_shape_str(t->dims, t->rank, s, sizeof s));
    }
    return ONNORM_OK;
}

static double rnd_sat(double v, int64_t zp, int64_t lo, int64_t hi)
{
    if (isnan(v)) return (double)zp;
    double r = rint(v) + (double)zp;
    return r < (double)lo ? (double)lo : r > (double)hi ? (double)hi : r;
}

/* An int8 (sgn) or uint8 element. */
static inline int32_t q8(const void *p, bool sgn, int64_t i)
{
    return sgn ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* ---- Quantize / Dequantize ------------------------------------------------ */

typedef enum { QL_TENSOR, QL_AXIS, QL_BLOCK } ql_mode;

/* Where element i of x finds its scale and zero point. */
typedef struct qlayout {
    ql_mode mode;
    int64_t axis_len, inner, block, sblocks;
} qlayout;

static inline int64_t q_index(const qlayout *l, int64_t i)
{
    if (l->mode == QL_TENSOR) return 0;
    const int64_t a = (i / l->inner) % l->axis_len;
    if (l->mode == QL_AXIS) return a;
    const int64_t outer = i / (l->inner * l->axis_len), in = i % l->inner;
    return (outer * l->sblocks + a / l->block) * l->inner + in;
}

static bool same_shape(const onnorm_tensor *a, const onnorm_tensor *b)
{
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

/* Reads axis (opset >= 13) and block_size (opset >= 21) and matches the
 * scale (input 1) and zero point (input 2, optional) against x. */
static onnorm_status q_layout(onn_kctx *ctx, const char *sname, const char *zname, qlayout *l)
{
    const onnorm_tensor *x = ctx->in[0], *s = ctx->in[1], *z = onn_opt_input(ctx, 2);
    const int ver = onn_kversion(ctx);
    int64_t axis = 1, block = 0;
    char xs[128], ss[128], zs[128];
    onnorm_status st;
    if (ver >= 13 && (st = onn_kattr_int(ctx, "axis", 1, &axis))) return st;
    if (ver >= 21 && (st = onn_kattr_int(ctx, "block_size", 0, &block))) return st;
    if (block < 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "block_size %lld must be >= 0", (long long)block);
    memset(l, 0, sizeof *l);
    if (z &&
        !(same_shape(s, z) || (numel(s) == 1 && numel(z) == 1 && s->rank <= 1 && z->rank <= 1)))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "%s %s must have the shape of %s %s", zname,
                         onn_shape_str(z->dims, z->rank, zs, sizeof zs), sname,
                         onn_shape_str(s->dims, s->rank, ss, sizeof ss));
    if (block == 0 && s->rank <= 1 && numel(s) == 1) {
        l->mode = QL_TENSOR;
        return ONNORM_OK;
    }
    if (ver < 13) return need_one(ctx, s, sname);
    if (axis < -x->rank || axis >= x->rank)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for x of rank %d",
                         (long long)axis, x->rank);
    if (axis < 0) axis += x->rank;
    l->axis_len = x->dims[axis];
    l->inner = 1;
    for (int i = (int)axis + 1; i < x->rank; i++)
        l->inner *= x->dims[i];
    if (block == 0) {
        if (s->rank != 1 || s->dims[0] != x->dims[axis])
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "%s %s must hold one value or one per element of x %s along axis "
                             "%lld",
                             sname, onn_shape_str(s->dims, s->rank, ss, sizeof ss),
                             onn_shape_str(x->dims, x->rank, xs, sizeof xs), (long long)axis);
        l->mode = QL_AXIS;
        return ONNORM_OK;
    }
    bool ok = s->rank == x->rank;
    for (int i = 0; ok && i < x->rank; i++)
        ok = s->dims[i] == (i == axis ? (x->dims[i] + block - 1) / block : x->dims[i]);
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "%s %s does not fit blocks of %lld along axis %lld of x %s", sname,
                         onn_shape_str(s->dims, s->rank, ss, sizeof ss), (long long)block,
                         (long long)axis, onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    l->mode = QL_BLOCK;
    l->block = block;
    l->sblocks = s->dims[axis];
    return ONNORM_OK;
}

typedef struct q_cfg {
    qlayout l;
    onnorm_dtype ydt;
    int64_t lo, hi;
} q_cfg;

static uint32_t q_scale_types(int ver)
{
    uint32_t m = ONN_T(ONNORM_FLOAT);
    if (ver >= 19) m |= ONN_T(ONNORM_FLOAT16) | ONN_T(ONNORM_BFLOAT16);
    return m;
}

static uint32_t q_int_types(int ver)
{
    uint32_t m = T_Q8;
    if (ver >= 21) m |= ONN_T(ONNORM_INT16) | ONN_T(ONNORM_UINT16);
    return m;
}

static onnorm_status quant_config(onn_kctx *ctx)
{
    q_cfg *c = ctx->state;
    const int ver = onn_kversion(ctx);
    onnorm_status st;
    uint32_t xt = ONN_T(ONNORM_FLOAT) | ONN_T(ONNORM_INT32);
    if (ver >= 19) xt |= ONN_T(ONNORM_FLOAT16) | ONN_T(ONNORM_BFLOAT16);
    /* From opset 19 y_scale shares x's type constraint T1 (so may be int32). */
    if ((st = need_input(ctx, 0, "x")) || (st = need_input(ctx, 1, "y_scale")) ||
        (st = need_type(ctx, ctx->in[0], "x", xt)) ||
        (st = need_type(ctx, ctx->in[1], "y_scale", ver >= 19 ? xt : ONN_T(ONNORM_FLOAT))))
        return st;
    if (ver >= 19 && ctx->in[1]->dtype != ctx->in[0]->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "y_scale has type %s, x has %s (they must agree)",
                         tname(ctx->in[1]->dtype), tname(ctx->in[0]->dtype));
    const onnorm_tensor *z = onn_opt_input(ctx, 2);
    int64_t odt = 0;
    if (ver >= 21 && (st = onn_kattr_int(ctx, "output_dtype", 0, &odt))) return st;
    if (z && odt && odt != z->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE,
                         "output_dtype %lld disagrees with y_zero_point's type %s", (long long)odt,
                         tname(z->dtype));
    c->ydt = z ? z->dtype : odt ? (onnorm_dtype)odt : ONNORM_UINT8;
    if (!(ONN_T(c->ydt) & q_int_types(ver)) || !onn_quant_range(c->ydt, &c->lo, &c->hi)) {
        char buf[160];
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "output type %s (code %d) is unsupported (supported: %s)", tname(c->ydt),
                         (int)c->ydt, onn_types_str(q_int_types(ver), buf, sizeof buf));
    }
    return q_layout(ctx, "y_scale", "y_zero_point", &c->l);
}

static onnorm_status quant_infer(onn_kctx *ctx)
{
    const q_cfg *c = ctx->state;
    onn_set_output(ctx, 0, c->ydt, ctx->in[0]->rank, ctx->in[0]->dims);
    return ONNORM_OK;
}

typedef struct quant_job {
    const q_cfg *c;
    const onnorm_tensor *x, *s, *z;
    void *y;
} quant_job;

/* The common case (float32 x and scale, int8 or uint8 y) without the
 * per-element type dispatch, for the elements [i0, i1). */
static void quant_q8_elems(void *arg, int64_t i0, int64_t i1, int worker)
{
    (void)worker;
    const quant_job *j = arg;
    const q_cfg *c = j->c;
    const onnorm_tensor *z = j->z;
    const float *xf = j->x->data, *sf = j->s->data;
    const bool sgn = c->ydt == ONNORM_INT8;
    void *y = j->y;
    for (int64_t i = i0; i < i1; i++) {
        const int64_t k = q_index(&c->l, i);
        const double q =
            rnd_sat((double)(xf[i] / sf[k]), z ? q8(z->data, sgn, k) : 0, c->lo, c->hi);
        if (sgn)
            ((int8_t *)y)[i] = (int8_t)q;
        else
            ((uint8_t *)y)[i] = (uint8_t)q;
    }
}

static void quant_elems(void *arg, int64_t i0, int64_t i1, int worker)
{
    (void)worker;
    const quant_job *j = arg;
    const q_cfg *c = j->c;
    const onnorm_tensor *x = j->x, *s = j->s, *z = j->z;
    const bool xint = x->dtype == ONNORM_INT32;
    for (int64_t i = i0; i < i1; i++) {
        const int64_t k = q_index(&c->l, i);
        const double sc = onn_elem_load(s->dtype, s->data, k);
        const int64_t zp = z ? onn_elem_load_int(z->dtype, z->data, k) : 0;
        const double xv = onn_elem_load(x->dtype, x->data, i);
        const double v = xint ? xv / sc : (double)((float)xv / (float)sc);
        onn_elem_store(c->ydt, j->y, i, rnd_sat(v, zp, c->lo, c->hi));
    }
}

static onnorm_status quant_run(onn_kctx *ctx)
{
    const q_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *s = ctx->in[1], *z = onn_opt_input(ctx, 2);
    const int64_t n = numel(x);
    const int nt = onn_threads_for(ctx, n, n / 4096 + 1);
    quant_job j = {c, x, s, z, ctx->out[0]->data};
    if (x->dtype == ONNORM_FLOAT && s->dtype == ONNORM_FLOAT &&
        (c->ydt == ONNORM_UINT8 || c->ydt == ONNORM_INT8))
        onn_parallel_range(nt, n, quant_q8_elems, &j);
    else
        onn_parallel_range(nt, n, quant_elems, &j);
    return ONNORM_OK;
}

typedef struct dq_cfg {
    qlayout l;
} dq_cfg;

static onnorm_status dequant_config(onn_kctx *ctx)
{
    dq_cfg *c = ctx->state;
    const int ver = onn_kversion(ctx);
    onnorm_status st;
    if ((st = need_input(ctx, 0, "x")) || (st = need_input(ctx, 1, "x_scale")) ||
        (st = need_type(ctx, ctx->in[0], "x", q_int_types(ver) | ONN_T(ONNORM_INT32))) ||
        (st = need_type(ctx, ctx->in[1], "x_scale", q_scale_types(ver))))
        return st;
    const onnorm_tensor *z = onn_opt_input(ctx, 2);
    if (z && z->dtype != ctx->in[0]->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "x_zero_point has type %s, x has %s",
                         tname(z->dtype), tname(ctx->in[0]->dtype));
    return q_layout(ctx, "x_scale", "x_zero_point", &c->l);
}

static onnorm_status dequant_infer(onn_kctx *ctx)
{
    onn_set_output(ctx, 0, ctx->in[1]->dtype, ctx->in[0]->rank, ctx->in[0]->dims);
    return ONNORM_OK;
}

typedef struct dequant_job {
    const dq_cfg *c;
    const onnorm_tensor *x, *s, *z;
    onnorm_tensor *y;
} dequant_job;

/* The common case (int8 or uint8 x, float32 scale) without the per-element
 * type dispatch, for the elements [i0, i1). */
static void dequant_q8_elems(void *arg, int64_t i0, int64_t i1, int worker)
{
    (void)worker;
    const dequant_job *j = arg;
    const onnorm_tensor *x = j->x, *z = j->z;
    const bool sgn = x->dtype == ONNORM_INT8;
    const float *sf = j->s->data;
    float *yf = j->y->data;
    for (int64_t i = i0; i < i1; i++) {
        const int64_t k = q_index(&j->c->l, i);
        yf[i] = (float)(q8(x->data, sgn, i) - (z ? q8(z->data, sgn, k) : 0)) * sf[k];
    }
}

static void dequant_elems(void *arg, int64_t i0, int64_t i1, int worker)
{
    (void)worker;
    const dequant_job *j = arg;
    const onnorm_tensor *x = j->x, *s = j->s, *z = j->z;
    onnorm_tensor *y = j->y;
    for (int64_t i = i0; i < i1; i++) {
        const int64_t k = q_index(&j->c->l, i);
        const float sc = (float)onn_elem_load(s->dtype, s->data, k);
        const int64_t zp = z ? onn_elem_load_int(z->dtype, z->data, k) : 0;
        const float d = (float)(onn_elem_load_int(x->dtype, x->data, i) - zp);
        onn_elem_store(y->dtype, y->data, i, (double)(d * sc));
    }
}

static onnorm_status dequant_run(onn_kctx *ctx)
{
    const dq_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *s = ctx->in[1], *z = onn_opt_input(ctx, 2);
    const int64_t n = numel(x);
    const int nt = onn_threads_for(ctx, n, n / 4096 + 1);
    dequant_job j = {c, x, s, z, ctx->out[0]};
    if ((x->dtype == ONNORM_INT8 || x->dtype == ONNORM_UINT8) && s->dtype == ONNORM_FLOAT)
        onn_parallel_range(nt, n, dequant_q8_elems, &j);
    else
        onn_parallel_range(nt, n, dequant_elems, &j);
    return ONNORM_OK;
}

/* ---- DynamicQuantizeLinear ------------------------------------------------ */

static onnorm_status dyn_infer(onn_kctx *ctx)
{
    onnorm_status st = need_type(ctx, ctx->in[0], "x", ONN_T(ONNORM_FLOAT));
    if (st) return st;
    onn_set_output(ctx, 0, ONNORM_UINT8, ctx->in[0]->rank, ctx->in[0]->dims);
    onn_set_output(ctx, 1, ONNORM_FLOAT, 0, NULL);
    onn_set_output(ctx, 2, ONNORM_UINT8, 0, NULL);
    return ONNORM_OK;
}

static onnorm_status dyn_run(onn_kctx *ctx)
{
    const onnorm_tensor *x = ctx->in[0];
    const float *xf = x->data;
    const int64_t n = numel(x);
    float lo = 0.0f, hi = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        if (xf[i] < lo) lo = xf[i];
        if (xf[i] > hi) hi = xf[i];
    }
    const float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
    const float izp = 0.0f - lo / scale;
    const int64_t zp = (int64_t)rnd_sat(izp < 0.0f ? 0.0 : izp > 255.0f ? 255.0 : izp, 0, 0, 255);
    uint8_t *y = onn_opt_output(ctx, 0) ? ctx->out[0]->data : NULL;
    for (int64_t i = 0; y && i < n; i++)
        y[i] = (uint8_t)rnd_sat((double)(xf[i] / scale), zp, 0, 255);
    if (onn_opt_output(ctx, 1)) *(float *)ctx->out[1]->data = scale;
    if (onn_opt_output(ctx, 2)) *(uint8_t *)ctx->out[2]->data = (uint8_t)zp;
    return ONNORM_OK;
}

/* ---- MatMulInteger / QLinearMatMul ---------------------------------------- */

/* How a per-row (A) or per-column (B) parameter is laid out. */
typedef enum { PP_ONE, PP_VEC, PP_BATCH } pp_mode;

typedef struct mm_cfg {
    int64_t M, K, N, batch;
    int nb;                         /* batch dims of the output */
    int64_t bdims[ONNORM_MAX_RANK]; /* output batch dims */
    int64_t astr[ONNORM_MAX_RANK];  /* A's matrix stride per output batch dim (0: broadcast) */
    int64_t bstr[ONNORM_MAX_RANK];
    int out_rank;
    int64_t out_dims[ONNORM_MAX_RANK];
    bool qlinear;
    /* parameters: a zero point, b zero point; QLinear: a/b scales */
    pp_mode azp, bzp, asc, bsc;
    onnorm_dtype ydt;
    int64_t lo, hi;
} mm_cfg;

/* Input indices of the parameters. */
typedef struct mm_io {
    int a, b, azp, bzp, asc, bsc, ysc, yzp;
} mm_io;

static const mm_io MM_INT = {0, 1, 2, 3, -1, -1, -1, -1};
static const mm_io MM_QL = {0, 3, 2, 5, 1, 4, 6, 7};

static const mm_io *mm_io_of(const onn_kctx *ctx)
{
    return ctx->kernel->data ? &MM_QL : &MM_INT;
}

/* A per-row (rows_axis = -2) or per-column (-1) parameter of input m. */
static onnorm_status mm_param(onn_kctx *ctx, int pi, const char *what, const onnorm_tensor *m,
                              int64_t len, bool row, pp_mode *mode)
{
    const onnorm_tensor *p = ctx->in[pi];
    char ps[128], ms[128];
    if (p->rank <= 1 && numel(p) == 1) {
        *mode = PP_ONE;
        return ONNORM_OK;
    }
    if (p->rank == 1 && p->dims[0] == len) {
        *mode = PP_VEC;
        return ONNORM_OK;
    }
    bool ok = m->rank >= 2 && p->rank == m->rank;
    for (int i = 0; ok && i < m->rank - 2; i++)
        ok = p->dims[i] == m->dims[i];
    if (ok)
        ok = row ? (p->dims[m->rank - 2] == len && p->dims[m->rank - 1] == 1)
                 : (p->dims[m->rank - 2] == 1 && p->dims[m->rank - 1] == len);
    if (!ok)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "%s %s must hold one value or one per %s of %s (%lld)", what,
                         onn_shape_str(p->dims, p->rank, ps, sizeof ps), row ? "row" : "column",
                         onn_shape_str(m->dims, m->rank, ms, sizeof ms), (long long)len);
    *mode = PP_BATCH;
    return ONNORM_OK;
}

static onnorm_status mm_config(onn_kctx *ctx)
{
    mm_cfg *c = ctx->state;
    const mm_io *io = mm_io_of(ctx);
    const int ver = onn_kversion(ctx);
    c->qlinear = ctx->kernel->data != NULL;
    onnorm_status st;
    static const char *const qnames[] = {"a",       "a_scale",      "a_zero_point", "b",
                                         "b_scale", "b_zero_point", "y_scale",      "y_zero_point"};
    if (c->qlinear)
        for (int i = 0; i < 8; i++)
            if ((st = need_input(ctx, i, qnames[i]))) return st;
    if ((st = need_input(ctx, io->a, "A")) || (st = need_input(ctx, io->b, "B"))) return st;
    const onnorm_tensor *a = ctx->in[io->a], *b = ctx->in[io->b];
    if ((st = need_type(ctx, a, "A", T_Q8)) || (st = need_type(ctx, b, "B", T_Q8))) return st;
    if (a->rank < 1 || b->rank < 1)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "A and B must have rank >= 1");
    c->M = a->rank == 1 ? 1 : a->dims[a->rank - 2];
    c->K = a->dims[a->rank - 1];
    const int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    c->N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    char as[128], bs[128];
    if (kb != c->K)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "A %s and B %s do not fit a matrix product",
                         onn_shape_str(a->dims, a->rank, as, sizeof as),
                         onn_shape_str(b->dims, b->rank, bs, sizeof bs));
    const int an = a->rank > 2 ? a->rank - 2 : 0, bn = b->rank > 2 ? b->rank - 2 : 0;
    c->nb = an > bn ? an : bn;
    int64_t as_ = 1, bs_ = 1;
    c->batch = 1;
    for (int i = c->nb - 1; i >= 0; i--) {
        const int ai = i - (c->nb - an), bi = i - (c->nb - bn);
        const int64_t ad = ai >= 0 ? a->dims[ai] : 1, bd = bi >= 0 ? b->dims[bi] : 1;
        if (ad != bd && ad != 1 && bd != 1)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "batch dims of A %s and B %s do not broadcast",
                             onn_shape_str(a->dims, a->rank, as, sizeof as),
                             onn_shape_str(b->dims, b->rank, bs, sizeof bs));
        c->bdims[i] = ad == 1 ? bd : ad;
        c->astr[i] = ad == 1 ? 0 : as_;
        c->bstr[i] = bd == 1 ? 0 : bs_;
        as_ *= ad, bs_ *= bd;
        c->batch *= c->bdims[i];
    }
    c->out_rank = 0;
    for (int i = 0; i < c->nb; i++)
        c->out_dims[c->out_rank++] = c->bdims[i];
    if (a->rank > 1) c->out_dims[c->out_rank++] = c->M;
    if (b->rank > 1) c->out_dims[c->out_rank++] = c->N;
    c->azp = c->bzp = c->asc = c->bsc = PP_ONE;
    if (onn_has_input(ctx, io->azp)) {
        if (ctx->in[io->azp]->dtype != a->dtype)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "a_zero_point has type %s, A has %s",
                             tname(ctx->in[io->azp]->dtype), tname(a->dtype));
        if ((st = mm_param(ctx, io->azp, "a_zero_point", a, c->M, true, &c->azp))) return st;
    }
    if (onn_has_input(ctx, io->bzp)) {
        if (ctx->in[io->bzp]->dtype != b->dtype)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "b_zero_point has type %s, B has %s",
                             tname(ctx->in[io->bzp]->dtype), tname(b->dtype));
        if ((st = mm_param(ctx, io->bzp, "b_zero_point", b, c->N, false, &c->bzp))) return st;
    }
    if (!c->qlinear) {
        c->ydt = ONNORM_INT32;
        return ONNORM_OK;
    }
    const uint32_t sc = q_scale_types(ver >= 21 ? 19 : 10);
    if ((st = need_type(ctx, ctx->in[io->asc], "a_scale", sc)) ||
        (st = need_type(ctx, ctx->in[io->bsc], "b_scale", sc)) ||
        (st = need_type(ctx, ctx->in[io->ysc], "y_scale", sc)) ||
        (st = mm_param(ctx, io->asc, "a_scale", a, c->M, true, &c->asc)) ||
        (st = mm_param(ctx, io->bsc, "b_scale", b, c->N, false, &c->bsc)) ||
        (st = need_one(ctx, ctx->in[io->ysc], "y_scale")) ||
        (st = need_one(ctx, ctx->in[io->yzp], "y_zero_point")) ||
        (st = need_type(ctx, ctx->in[io->yzp], "y_zero_point", T_Q8)))
        return st;
    c->ydt = ctx->in[io->yzp]->dtype;
    onn_quant_range(c->ydt, &c->lo, &c->hi);
    return ONNORM_OK;
}

static onnorm_status mm_infer(onn_kctx *ctx)
{
    const mm_cfg *c = ctx->state;
    onn_set_output(ctx, 0, c->ydt, c->out_rank, c->out_dims);
    return ONNORM_OK;
}

static onnorm_status mm_prepare(onn_kctx *ctx)
{
    const mm_cfg *c = ctx->state;
    size_t bytes;
    onnorm_status st =
        onn_kbytes(ctx, (size_t)ctx->num_threads, (size_t)c->N, sizeof(int64_t), &bytes);
    if (st) return st;
    onn_kscratch_need(ctx, bytes);
    onn_kflops(ctx, 2.0 * (double)c->batch * (double)c->M * (double)c->N * (double)c->K);
    return ONNORM_OK;
}

/* Element r (row or column) of a parameter for matrix `mat` of its input. */
static inline int64_t pp_index(pp_mode m, int64_t mat, int64_t len, int64_t r)
{
    return m == PP_ONE ? 0 : m == PP_VEC ? r : mat * len + r;
}

typedef struct mm_job {
    const onn_kctx *ctx;
    const mm_cfg *c;
    const mm_io *io;
    int64_t *scratch; /* N accumulators per worker */
    float yscale;
    int64_t yzp;
} mm_job;

/* Output rows [r0, r1) (of batch * M), accumulated exactly in int64. */
static void mm_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    const mm_job *j = arg;
    const onn_kctx *ctx = j->ctx;
    const mm_cfg *c = j->c;
    const mm_io *io = j->io;
    const onnorm_tensor *a = ctx->in[io->a], *b = ctx->in[io->b];
    const onnorm_tensor *azp = onn_opt_input(ctx, io->azp), *bzp = onn_opt_input(ctx, io->bzp);
    const bool as = a->dtype == ONNORM_INT8, bsg = b->dtype == ONNORM_INT8;
    const int64_t M = c->M, K = c->K, N = c->N;
    const void *A = a->data, *B = b->data;
    onnorm_tensor *y = ctx->out[0];
    int64_t *acc = j->scratch + (int64_t)worker * N;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t bi = r / M, m = r % M;
        int64_t am = 0, bm = 0, rem = bi;
        for (int d = c->nb - 1; d >= 0; d--) {
            const int64_t cd = rem % c->bdims[d];
            rem /= c->bdims[d];
            am += cd * c->astr[d], bm += cd * c->bstr[d];
        }
        const int64_t za = azp ? q8(azp->data, as, pp_index(c->azp, am, M, m)) : 0;
        const int64_t arow = (am * M + m) * K, bbase = bm * K * N;
        for (int64_t n = 0; n < N; n++)
            acc[n] = 0;
        for (int64_t k = 0; k < K; k++) {
            const int64_t av = q8(A, as, arow + k) - za;
            if (!av) continue;
            const int64_t brow = bbase + k * N;
            if (!bzp || c->bzp == PP_ONE) {
                const int64_t zb = bzp ? q8(bzp->data, bsg, 0) : 0;
                for (int64_t n = 0; n < N; n++)
                    acc[n] += av * (q8(B, bsg, brow + n) - zb);
            } else {
                for (int64_t n = 0; n < N; n++)
                    acc[n] += av * (q8(B, bsg, brow + n) -
                                    q8(bzp->data, bsg, pp_index(c->bzp, bm, N, n)));
            }
        }
        if (!c->qlinear) {
            int32_t *yo = (int32_t *)y->data + r * N;
            for (int64_t n = 0; n < N; n++)
                yo[n] = (int32_t)(uint32_t)(uint64_t)acc[n];
        } else {
            const onnorm_tensor *asc = ctx->in[io->asc], *bsc = ctx->in[io->bsc];
            const float sa =
                (float)onn_elem_load(asc->dtype, asc->data, pp_index(c->asc, am, M, m));
            for (int64_t n = 0; n < N; n++) {
                const float sb =
                    (float)onn_elem_load(bsc->dtype, bsc->data, pp_index(c->bsc, bm, N, n));
                const float mult = sa * sb / j->yscale;
                onn_elem_store(c->ydt, y->data, r * N + n,
                               rnd_sat((double)acc[n] * (double)mult, j->yzp, c->lo, c->hi));
            }
        }
    }
}

static onnorm_status mm_run(onn_kctx *ctx)
{
    const mm_cfg *c = ctx->state;
    const mm_io *io = mm_io_of(ctx);
    const int64_t rows = c->batch * c->M;
    const int nt = onn_threads_for(ctx, rows * c->N * (c->K + 1), rows);
    mm_job j = {ctx, c, io, ctx->scratch, 0.0f, 0};
    if (c->qlinear) {
        j.yscale = (float)onn_elem_load(ctx->in[io->ysc]->dtype, ctx->in[io->ysc]->data, 0);
        j.yzp = onn_elem_load_int(ctx->in[io->yzp]->dtype, ctx->in[io->yzp]->data, 0);
    }
    onn_parallel_range(nt, rows, mm_rows, &j);
    return ONNORM_OK;
}

/* ---- ConvInteger / QLinearConv -------------------------------------------- */

typedef struct cv_cfg {
    onn_geom g;
    int64_t n, c, m, group, cg, mg;
    bool qlinear, wzp_per_m, wsc_per_m;
    onnorm_dtype ydt;
    int64_t lo, hi;
    int64_t *koff; /* prepare: kernel_size x nsp offsets kpos * dilation */
} cv_cfg;

typedef struct cv_io {
    int x, w, xzp, wzp, xsc, wsc, ysc, yzp, bias;
} cv_io;

static const cv_io CV_INT = {0, 1, 2, 3, -1, -1, -1, -1, -1};
static const cv_io CV_QL = {0, 3, 2, 5, 1, 4, 6, 7, 8};

static const cv_io *cv_io_of(const onn_kctx *ctx)
{
    return ctx->kernel->data ? &CV_QL : &CV_INT;
}

/* One value, or one per output channel. */
static onnorm_status per_m(onn_kctx *ctx, int i, const char *what, int64_t m, bool *per)
{
    const onnorm_tensor *t = ctx->in[i];
    char s[128];
    *per = false;
    if (t->rank <= 1 && numel(t) == 1) return ONNORM_OK;
    if (t->rank == 1 && t->dims[0] == m) {
        *per = true;
        return ONNORM_OK;
    }
    return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                     "%s %s must hold one value or one per output channel (%lld)", what,
                     onn_shape_str(t->dims, t->rank, s, sizeof s), (long long)m);
}

static onnorm_status cv_config(onn_kctx *ctx)
{
    cv_cfg *c = ctx->state;
    const cv_io *io = cv_io_of(ctx);
    c->qlinear = ctx->kernel->data != NULL;
    onnorm_status st;
    static const char *const qnames[] = {"x",       "x_scale",      "x_zero_point", "w",
                                         "w_scale", "w_zero_point", "y_scale",      "y_zero_point"};
    if (c->qlinear)
        for (int i = 0; i < 8; i++)
            if ((st = need_input(ctx, i, qnames[i]))) return st;
    if ((st = need_input(ctx, io->x, "x")) || (st = need_input(ctx, io->w, "w"))) return st;
    const onnorm_tensor *x = ctx->in[io->x], *w = ctx->in[io->w];
    char xs[128], ws[128];
    if ((st = need_type(ctx, x, "x", T_Q8)) || (st = need_type(ctx, w, "w", T_Q8))) return st;
    if (x->rank < 3 || w->rank != x->rank)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "x %s must have rank >= 3 (N, C, spatial...) and w %s the same rank",
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs),
                         onn_shape_str(w->dims, w->rank, ws, sizeof ws));
    if ((st = onn_kattr_int(ctx, "group", 1, &c->group))) return st;
    c->n = x->dims[0], c->c = x->dims[1], c->m = w->dims[0];
    if (c->group < 1 || c->c % c->group || c->m % c->group)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "group %lld must be >= 1 and divide both the %lld input and the %lld "
                         "output channels",
                         (long long)c->group, (long long)c->c, (long long)c->m);
    c->cg = c->c / c->group, c->mg = c->m / c->group;
    if (w->dims[1] != c->cg)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "w %s must have %lld input channels per group (x %s, group %lld)",
                         onn_shape_str(w->dims, w->rank, ws, sizeof ws), (long long)c->cg,
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs), (long long)c->group);
    onn_win_attrs a;
    if ((st = onn_win_read(ctx, x->rank - 2, w->dims + 2, true, &a)) ||
        (st = onn_geom_forward(ctx, &a, x->dims + 2, false, &c->g)))
        return st;
    if (onn_has_input(ctx, io->xzp)) {
        if ((st = need_one(ctx, ctx->in[io->xzp], "x_zero_point"))) return st;
        if (ctx->in[io->xzp]->dtype != x->dtype)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "x_zero_point has type %s, x has %s",
                             tname(ctx->in[io->xzp]->dtype), tname(x->dtype));
    }
    if (onn_has_input(ctx, io->wzp)) {
        if ((st = per_m(ctx, io->wzp, "w_zero_point", c->m, &c->wzp_per_m))) return st;
        if (ctx->in[io->wzp]->dtype != w->dtype)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "w_zero_point has type %s, w has %s",
                             tname(ctx->in[io->wzp]->dtype), tname(w->dtype));
    }
    if (!c->qlinear) {
        c->ydt = ONNORM_INT32;
        return ONNORM_OK;
    }
    const uint32_t sc = ONN_T(ONNORM_FLOAT);
    if ((st = need_type(ctx, ctx->in[io->xsc], "x_scale", sc)) ||
        (st = need_type(ctx, ctx->in[io->wsc], "w_scale", sc)) ||
        (st = need_type(ctx, ctx->in[io->ysc], "y_scale", sc)) ||
        (st = need_one(ctx, ctx->in[io->xsc], "x_scale")) ||
        (st = per_m(ctx, io->wsc, "w_scale", c->m, &c->wsc_per_m)) ||
        (st = need_one(ctx, ctx->in[io->ysc], "y_scale")) ||
        (st = need_one(ctx, ctx->in[io->yzp], "y_zero_point")) ||
        (st = need_type(ctx, ctx->in[io->yzp], "y_zero_point", T_Q8)))
        return st;
    if (onn_has_input(ctx, io->bias) &&
        (st = onn_check_param(ctx, io->bias, "B", c->m, ONNORM_INT32)))
        return st;
    c->ydt = ctx->in[io->yzp]->dtype;
    onn_quant_range(c->ydt, &c->lo, &c->hi);
    return ONNORM_OK;
}

static onnorm_status cv_infer(onn_kctx *ctx)
{
    const cv_cfg *c = ctx->state;
    onn_set_window_output(ctx, 0, c->ydt, c->n, c->m, c->g.nsp, c->g.grid);
    return ONNORM_OK;
}

static onnorm_status cv_prepare(onn_kctx *ctx)
{
    cv_cfg *c = ctx->state;
    const onn_geom *g = &c->g;
    size_t bytes;
    onnorm_status st =
        onn_kbytes(ctx, (size_t)g->kernel_size, (size_t)g->nsp, sizeof(int64_t), &bytes);
    if (st) return st;
    if (!(c->koff = onn_kalloc(ctx, bytes ? bytes : 1))) return ONNORM_ERR_NOMEM;
    for (int64_t k = 0; k < g->kernel_size; k++) {
        int64_t kpos[ONN_MAX_SPATIAL];
        onn_geom_kpos(g, k, kpos);
        for (int i = 0; i < g->nsp; i++)
            c->koff[k * g->nsp + i] = kpos[i] * g->dilation[i];
    }
    onn_kflops(ctx, 2.0 * (double)c->n * (double)c->m * (double)g->grid_size * (double)c->cg *
                        (double)g->kernel_size);
    return ONNORM_OK;
}

typedef struct cv_job {
    const cv_cfg *c;
    const onnorm_tensor *x, *w, *wzp, *wsc, *bias;
    onnorm_tensor *y;
    int64_t zx, yzp;
    float xsc, ysc;
} cv_job;

/* Output planes [p0, p1) (of N * M), accumulated exactly in int64. */
static void cv_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const cv_job *j = arg;
    const cv_cfg *c = j->c;
    const onn_geom *g = &c->g;
    const onnorm_tensor *x = j->x, *w = j->w, *wzp = j->wzp, *wsc = j->wsc, *bias = j->bias;
    const bool xs = x->dtype == ONNORM_INT8, wsg = w->dtype == ONNORM_INT8;
    const int nsp = g->nsp;
    const int64_t ks = g->kernel_size, S = g->sampled_size, zx = j->zx, yzp = j->yzp;
    const float xsc = j->xsc, ysc = j->ysc;
    onnorm_tensor *y = j->y;
    for (int64_t p = p0; p < p1; p++) {
        const int64_t n = p / c->m, m = p % c->m, grp = m / c->mg;
        const int64_t zw = wzp ? q8(wzp->data, wsg, c->wzp_per_m ? m : 0) : 0;
        const int64_t xbase = (n * c->c + grp * c->cg) * S, wbase = m * c->cg * ks;
        int64_t oc[ONN_MAX_SPATIAL] = {0};
        for (int64_t o = 0; o < g->grid_size; o++) {
            int64_t acc = 0;
            for (int64_t k = 0; k < ks; k++) {
                int64_t lin = 0;
                bool in = true;
                for (int i = 0; i < nsp && in; i++) {
                    const int64_t q = oc[i] * g->stride[i] - g->pad_lo[i] + c->koff[k * nsp + i];
                    in = q >= 0 && q < g->sampled[i];
                    lin = lin * g->sampled[i] + q;
                }
                if (!in) continue;
                for (int64_t ci = 0; ci < c->cg; ci++)
                    acc += (int64_t)(q8(x->data, xs, xbase + ci * S + lin) - zx) *
                           (q8(w->data, wsg, wbase + ci * ks + k) - zw);
            }
            const int64_t yi = p * g->grid_size + o;
            if (!c->qlinear) {
                ((int32_t *)y->data)[yi] = (int32_t)(uint32_t)(uint64_t)acc;
            } else {
                if (bias) acc += ((const int32_t *)bias->data)[m];
                const float mult = xsc * ((const float *)wsc->data)[c->wsc_per_m ? m : 0] / ysc;
                onn_elem_store(c->ydt, y->data, yi,
                               rnd_sat((double)acc * (double)mult, yzp, c->lo, c->hi));
            }
            for (int i = nsp - 1; i >= 0; i--) {
                if (++oc[i] < g->grid[i]) break;
                oc[i] = 0;
            }
        }
    }
}

static onnorm_status cv_run(onn_kctx *ctx)
{
    const cv_cfg *c = ctx->state;
    const cv_io *io = cv_io_of(ctx);
    const onn_geom *g = &c->g;
    const onnorm_tensor *x = ctx->in[io->x], *xzp = onn_opt_input(ctx, io->xzp);
    const int64_t planes = c->n * c->m, ks = g->kernel_size;
    cv_job j = {.c = c, .x = x, .w = ctx->in[io->w], .y = ctx->out[0], .ysc = 1.0f};
    j.wzp = onn_opt_input(ctx, io->wzp);
    j.zx = xzp ? q8(xzp->data, x->dtype == ONNORM_INT8, 0) : 0;
    if (c->qlinear) {
        j.xsc = *(const float *)ctx->in[io->xsc]->data;
        j.ysc = *(const float *)ctx->in[io->ysc]->data;
        j.yzp = onn_elem_load_int(ctx->in[io->yzp]->dtype, ctx->in[io->yzp]->data, 0);
        j.wsc = ctx->in[io->wsc];
        j.bias = onn_opt_input(ctx, io->bias);
    }
    const int nt = onn_threads_for(ctx, planes * g->grid_size * ks * c->cg, planes);
    onn_parallel_range(nt, planes, cv_planes, &j);
    return ONNORM_OK;
}

/* ---- table ------------------------------------------------------------------ */

static const int QLINEAR = 1;

#define Q_X(v)                                                                                     \
    (ONN_T(ONNORM_FLOAT) | ONN_T(ONNORM_INT32) |                                                   \
     ((v) >= 19 ? ONN_T(ONNORM_FLOAT16) | ONN_T(ONNORM_BFLOAT16) : 0))
#define DQ_X(v)                                                                                    \
    (T_Q8 | ONN_T(ONNORM_INT32) | ((v) >= 21 ? ONN_T(ONNORM_INT16) | ONN_T(ONNORM_UINT16) : 0))

#define QUANT(v, w)                                                                                \
    {ONN_KERNEL("", "QuantizeLinear", v, 2, 3, 1, 1, quant_infer, NULL, quant_run),                \
     .config = quant_config, .state_size = sizeof(q_cfg), .types = Q_X(v), .widens = w},           \
    {                                                                                              \
        ONN_KERNEL("", "DequantizeLinear", v, 2, 3, 1, 1, dequant_infer, NULL, dequant_run),       \
            .config = dequant_config, .state_size = sizeof(dq_cfg), .types = DQ_X(v), .widens = w  \
    }

ONN_KERNEL_TABLE(quant, QUANT(10, false), QUANT(13, true), QUANT(19, true), QUANT(21, true),
                 {ONN_KERNEL("", "DynamicQuantizeLinear", 11, 1, 1, 1, 3, dyn_infer, NULL, dyn_run),
                  .types = ONN_T(ONNORM_FLOAT)},
                 {ONN_KERNEL("", "MatMulInteger", 10, 2, 4, 1, 1, mm_infer, mm_prepare, mm_run),
                  .config = mm_config, .state_size = sizeof(mm_cfg), .types = T_Q8},
                 {ONN_KERNEL("", "QLinearMatMul", 10, 8, 8, 1, 1, mm_infer, mm_prepare, mm_run),
                  .config = mm_config, .state_size = sizeof(mm_cfg), .types = T_Q8,
                  .data = &QLINEAR},
                 {ONN_KERNEL("", "QLinearMatMul", 21, 8, 8, 1, 1, mm_infer, mm_prepare, mm_run),
                  .config = mm_config, .state_size = sizeof(mm_cfg), .types = T_Q8,
                  .data = &QLINEAR, .widens = true},
                 {ONN_KERNEL("", "ConvInteger", 10, 2, 4, 1, 1, cv_infer, cv_prepare, cv_run),
                  .config = cv_config, .state_size = sizeof(cv_cfg), .types = T_Q8},
                 {ONN_KERNEL("", "QLinearConv", 10, 8, 9, 1, 1, cv_infer, cv_prepare, cv_run),
                  .config = cv_config, .state_size = sizeof(cv_cfg), .types = T_Q8,
                  .data = &QLINEAR});
