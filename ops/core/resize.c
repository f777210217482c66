/*
 * Resize (10, 11, 13, 18, 19) and Upsample (7, 9).
 *
 *   Upsample-7   scales attribute (floats); modes nearest, linear
 *   Upsample-9   the same with a `scales` input
 *   Resize-10    X, scales; modes nearest, linear
 *   Resize-11    X, roi, scales, sizes; cubic, coordinate_transformation_mode
 *                (half_pixel, pytorch_half_pixel, align_corners, asymmetric,
 *                tf_half_pixel_for_nn, tf_crop_and_resize), nearest_mode,
 *                cubic_coeff_a, exclude_outside, extrapolation_value
 *   Resize-13    tf_half_pixel_for_nn removed; bfloat16
 *   Resize-18    antialias, axes, keep_aspect_ratio_policy
 *   Resize-19    half_pixel_symmetric
 * Types (every version alike, bfloat16 included before 13): nearest moves
 * element bytes, so any numeric type or bool; linear and cubic compute
 * float32 in float32 (the 2-D paths) and everything else in double,
 * converted back with round-to-nearest-even for float16/bfloat16 and
 * round-half-away-from-zero plus saturation for integers (bool refused).
 *
 * The semantics follow ONNX's reference implementation (the backend test
 * generator): per axis, an output index x maps to x_original, the taps
 * around it are taken from the edge-padded input and weighted; the N-D
 * result is the tensor product of the per-axis weights. Decisions where
 * the spec is silent or the reference and the text disagree:
 *   - Output sizes from scales are floor(in * scale) on every axis, roi
 *     ignored (as the reference and ONNX Runtime do), with the product
 *     rounded to float32 before the floor, as ONNX Runtime computes it:
 *     PyTorch's opset-9/10 exports turn size=(7, 4) into scales such as
 *     7/5 = 1.39999998f, and 5 * 1.39999998f must give 7 back, not the 6
 *     that the exact product would. keep_aspect_ratio_policy not_larger /
 *     not_smaller rounds half up (floor(in * scale + 0.5)), as the
 *     reference does.
 *   - align_corners and tf_crop_and_resize divide by (length_resized - 1)
 *     where length_resized = in * scale in double (not rounded), as the
 *     reference and the official test downsample_scales_linear_align_corners
 *     do; when sizes were given (stretch), it is the size itself.
 *     pytorch_half_pixel maps to 0 when the integer output length is 1.
 *   - Taps that fall outside the input read the nearest edge element
 *     (the reference's edge padding); exclude_outside zeroes their weights
 *     and renormalizes. antialias (linear and cubic, downsampling only)
 *     stretches the kernel by 1/scale and normalizes the weights to sum 1.
 *     nearest ignores antialias and exclude_outside.
 *   - tf_crop_and_resize: an output element whose coordinate on any axis
 *     falls outside [0, in - 1] is extrapolation_value (the reference's
 *     recursive evaluation gives exactly that).
 *   - Upsample's spec asks for scales >= 1, but PyTorch exports
 *     downsampling interpolations as Upsample-9 with scales below 1, so
 *     any positive scale is accepted.
 *   - Resize-10 and Upsample map coordinates asymmetrically
 *     (x / scale) and pick the nearest element by floor, the numpy
 *     "repeat" semantics of their spec examples. They divide in float32,
 *     as ONNX Runtime does, because PyTorch's exports at these opsets
 *     carry scales like 4/6 = 0.6666667f whose exact quotient 2 / scale
 *     = 2.9999999 would floor to 2 where PyTorch picks 3.
 *   - antialiasing kernels wider than 65536 taps (scales below about
 *     1/32768) are refused.
 *   - roi, scales and sizes fix the output shape (and the tables), so they
 *     must be known while planning. An output of more than 2^31 elements,
 *     or any non-positive / non-finite scale, is refused.
 *
 * Prepare builds one table per axis (input index and weight per tap per
 * output index). Run takes one of four paths: nearest (byte gathers, any
 * rank); for float32 tensors resized only on their last two axes (NCHW
 * images, the segmentation-model hot case) a direct bilinear path and a
 * separable one for wider kernels (cubic, antialias: rows first, then
 * columns, per plane); and a generic path in double for everything else.
 * All parallelize over output rows or planes.
 */
#include "ops/half.h"
#include "ops/core/elem.h"
#include "ops/core/threadpool.h"
#include "ops/kernel.h"

#include <math.h>
#include <string.h>

#define RS_MAX_ELEMS ((int64_t)1 << 31)
#define RS_TYPES                                                                                   \
    (ONN_T_ALL_FLOATS | ONN_T(ONNORM_INT8) | ONN_T(ONNORM_INT16) | ONN_T(ONNORM_INT32) |           \
     ONN_T(ONNORM_INT64) | ONN_T(ONNORM_UINT8) | ONN_T(ONNORM_UINT16) | ONN_T(ONNORM_UINT32) |     \
     ONN_T(ONNORM_UINT64) | ONN_T(ONNORM_BOOL))

typedef enum rs_mode { RS_NEAREST, RS_LINEAR, RS_CUBIC } rs_mode;
typedef enum rs_ctm {
    CT_HALF_PIXEL,
    CT_PYTORCH_HALF_PIXEL,
    CT_ALIGN_CORNERS,
    CT_ASYMMETRIC,
    CT_TF_CROP_AND_RESIZE,
    CT_TF_HALF_PIXEL_FOR_NN,
    CT_HALF_PIXEL_SYMMETRIC
} rs_ctm;
typedef enum rs_nearest { NM_PREFER_FLOOR, NM_PREFER_CEIL, NM_FLOOR, NM_CEIL } rs_nearest;
typedef enum rs_path { PATH_NEAREST, PATH_BILINEAR_F32, PATH_SEP2D_F32, PATH_GENERIC } rs_path;

/* One axis's lookup: for each output index, `taps` input indices and
 * weights; `outside` marks tf_crop_and_resize extrapolation. */
typedef struct rs_table {
    int taps;
    int64_t *idx;           /* out * taps input indices, clamped to [0, in) */
    double *w;              /* out * taps weights (NULL for nearest) */
    unsigned char *outside; /* out flags, or NULL when none is outside */
} rs_table;

typedef struct rs_cfg {
    bool upsample;
    bool legacy; /* Upsample or Resize-10: asymmetric, floor, float32 coordinates */
    rs_mode mode;
    rs_ctm ctm;
    rs_nearest nearest;
    float cubic_a, extrapolation;
    bool exclude_outside, antialias;
    int rank;
    int64_t in_dims[ONNORM_MAX_RANK], out_dims[ONNORM_MAX_RANK];
    double scale[ONNORM_MAX_RANK], out_len[ONNORM_MAX_RANK]; /* out_len: in * scale, unrounded */
    double roi_lo[ONNORM_MAX_RANK], roi_hi[ONNORM_MAX_RANK];
    /* prepare */
    rs_path path;
    rs_table tab[ONNORM_MAX_RANK];
    int64_t in_stride[ONNORM_MAX_RANK];
    int64_t numel, rows; /* output elements; output rows (all axes but the last) */
    size_t esz;
    int64_t combos;        /* generic: outer tap combinations per row */
    int32_t *bx0, *bx1;    /* bilinear: last-axis taps */
    float *bwx, *bwy;      /* bilinear: weight of the second tap */
    int32_t *sx, *sy;      /* separable: the last two axes' tap indices */
    float *swx, *swy;      /* separable: their weights */
    int32_t *by0, *by1;    /* bilinear: second-last-axis taps */
    unsigned char fill[8]; /* extrapolation value in X's type (nearest) */
} rs_cfg;

static const char *const mode_names[] = {"nearest", "linear", "cubic"};
static const char *const ctm_names[] = {
    "half_pixel",         "pytorch_half_pixel",   "align_corners",       "asymmetric",
    "tf_crop_and_resize", "tf_half_pixel_for_nn", "half_pixel_symmetric"};
static const char *const nearest_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                            "ceil"};
static const char *const policy_names[] = {"stretch", "not_larger", "not_smaller"};

/* ---- element access (generic path) ------------------------------------------ */

/* v rounded half away from zero and clamped to [lo, hi]. */
static double round_sat(double v, double lo, double hi)
{
    if (isnan(v)) return 0;
    v = round(v);
    return v < lo ? lo : v > hi ? hi : v;
}

static void store_el(void *p, onnorm_dtype t, int64_t i, double v)
{
    switch (t) {
    case ONNORM_FLOAT: ((float *)p)[i] = (float)v; break;
    case ONNORM_DOUBLE: ((double *)p)[i] = v; break;
    case ONNORM_FLOAT16: ((uint16_t *)p)[i] = onn_f32_to_f16((float)v); break;
    case ONNORM_BFLOAT16: ((uint16_t *)p)[i] = onn_f32_to_bf16((float)v); break;
    case ONNORM_INT8: ((int8_t *)p)[i] = (int8_t)round_sat(v, INT8_MIN, INT8_MAX); break;
    case ONNORM_INT16: ((int16_t *)p)[i] = (int16_t)round_sat(v, INT16_MIN, INT16_MAX); break;
    case ONNORM_INT32: ((int32_t *)p)[i] = (int32_t)round_sat(v, INT32_MIN, INT32_MAX); break;
    case ONNORM_INT64:
        ((int64_t *)p)[i] = (int64_t)round_sat(v, -9223372036854775808.0, 9223372036854774784.0);
        break;
    case ONNORM_UINT8: ((uint8_t *)p)[i] = (uint8_t)round_sat(v, 0, UINT8_MAX); break;
    case ONNORM_UINT16: ((uint16_t *)p)[i] = (uint16_t)round_sat(v, 0, UINT16_MAX); break;
    case ONNORM_UINT32: ((uint32_t *)p)[i] = (uint32_t)round_sat(v, 0, UINT32_MAX); break;
    case ONNORM_UINT64:
        ((uint64_t *)p)[i] = (uint64_t)round_sat(v, 0, 18446744073709549568.0);
        break;
    case ONNORM_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

static bool interp_type(onnorm_dtype t)
{
    return t != ONNORM_BOOL && onnorm_dtype_size(t) > 0;
}

/* ---- config: attributes and the scales / sizes / roi ------------------------ */

static onnorm_status read_attrs(onn_kctx *ctx, rs_cfg *c)
{
    const int v = onn_kversion(ctx);
    int mode = RS_NEAREST, ctm = CT_ASYMMETRIC, nm = NM_FLOOR;
    int64_t excl = 0, aa = 0;
    onnorm_status st;
    c->upsample = ctx->kernel->data != NULL;
    c->legacy = c->upsample || v < 11;
    /* Upsample and Resize-10 know nearest and linear only */
    const int n_modes = c->legacy ? 2 : 3;
    if ((st = onn_kattr_enum(ctx, "mode", mode_names, n_modes, RS_NEAREST, &mode))) return st;
    c->cubic_a = -0.75f;
    if (!c->upsample && v >= 11) {
        const int n_ctm = v >= 19 ? 7 : v >= 13 ? 5 : 6;
        if (v >= 19 && onn_kattr_has(ctx, "coordinate_transformation_mode")) {
            /* tf_half_pixel_for_nn is gone but half_pixel_symmetric is the 7th name */
            const onn_attr *a = onn_attr_find(ctx->node, "coordinate_transformation_mode");
            if (a->type == ONN_ATTR_STRING && !strcmp(a->s, "tf_half_pixel_for_nn"))
                return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                                 "coordinate_transformation_mode tf_half_pixel_for_nn was "
                                 "removed in opset 13");
        }
        if ((st = onn_kattr_enum(ctx, "coordinate_transformation_mode", ctm_names, n_ctm,
                                 CT_HALF_PIXEL, &ctm)) ||
            (st = onn_kattr_enum(ctx, "nearest_mode", nearest_names, 4, NM_PREFER_FLOOR, &nm)) ||
            (st = onn_kattr_float(ctx, "cubic_coeff_a", -0.75f, &c->cubic_a)) ||
            (st = onn_kattr_int(ctx, "exclude_outside", 0, &excl)) ||
            (st = onn_kattr_float(ctx, "extrapolation_value", 0.0f, &c->extrapolation)))
            return st;
        if (v >= 18 && (st = onn_kattr_int(ctx, "antialias", 0, &aa))) return st;
        if (excl != 0 && excl != 1)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "exclude_outside must be 0 or 1, not %lld",
                             (long long)excl);
        if (aa != 0 && aa != 1)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "antialias must be 0 or 1, not %lld",
                             (long long)aa);
    }
    c->mode = (rs_mode)mode;
    c->ctm = (rs_ctm)ctm;
    c->nearest = (rs_nearest)nm;
    c->exclude_outside = excl;
    c->antialias = aa;
    return ONNORM_OK;
}

/* The axes (Resize-18 `axes` attribute, or all) into axes[0..*n). */
static onnorm_status read_axes(onn_kctx *ctx, int rank, int *axes, int *n)
{
    int64_t raw[ONNORM_MAX_RANK];
    bool seen[ONNORM_MAX_RANK] = {false};
    int got = -1;
    if (!ctx->kernel->data && onn_kversion(ctx) >= 18) {
        onnorm_status st = onn_kattr_ints_upto(ctx, "axes", ONNORM_MAX_RANK, raw, &got);
        if (st) return st;
    }
    if (got < 0) {
        for (int k = 0; k < rank; k++)
            axes[k] = k;
        *n = rank;
        return ONNORM_OK;
    }
    for (int k = 0; k < got; k++) {
        if (!onn_normalize_axis(raw[k], rank, &axes[k]))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is out of range for rank %d",
                             (long long)raw[k], rank);
        if (seen[axes[k]])
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "axis %lld is listed twice",
                             (long long)raw[k]);
        seen[axes[k]] = true;
    }
    *n = got;
    return ONNORM_OK;
}

/* Input i is given and holds at least one element. */
static bool nonempty(const onn_kctx *ctx, int i)
{
    return onn_has_input(ctx, i) && onnorm_tensor_numel(ctx->in[i]) > 0;
}

/* Float values of input i (float16, float32 or float64), exactly `n` of them. */
static onnorm_status read_floats(onn_kctx *ctx, int i, const char *what, int n, double *out)
{
    const onnorm_tensor *t = ctx->in[i];
    if (t->dtype != ONNORM_FLOAT && t->dtype != ONNORM_DOUBLE && t->dtype != ONNORM_FLOAT16)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s; expected a float type",
                         what, onnorm_dtype_name(t->dtype));
    if (t->rank != 1 || t->dims[0] != n)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input '%s' must be 1-D with %d values", what, n);
    const void *v = onn_input_values(ctx, i, what);
    if (!v) return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    for (int k = 0; k < n; k++)
        out[k] = onn_elem_load(t->dtype, v, k);
    return ONNORM_OK;
}

static onnorm_status check_scale(onn_kctx *ctx, rs_cfg *c, int axis, double s)
{
    if (!(s > 0) || !isfinite(s))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "scale %g of axis %d must be positive", s, axis);
    /* the product rounded to float32 first, as ONNX Runtime computes it */
    const double prod = (double)c->in_dims[axis] * s;
    const double o = prod > (double)RS_MAX_ELEMS ? prod : floor((double)(float)prod);
    if (o > (double)RS_MAX_ELEMS)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "scale %g makes axis %d %.0f long (limit %lld)", s,
                         axis, o, (long long)RS_MAX_ELEMS);
    c->scale[axis] = s;
    c->out_len[axis] = (double)c->in_dims[axis] * s;
    c->out_dims[axis] = (int64_t)o;
    return ONNORM_OK;
}

/* Sizes: stretch each listed axis, or keep the aspect ratio (Resize-18). */
static onnorm_status apply_sizes(onn_kctx *ctx, rs_cfg *c, const int *axes, int n,
                                 const int64_t *sizes)
{
    int policy = 0;
    onnorm_status st;
    if (onn_kversion(ctx) >= 18 &&
        (st = onn_kattr_enum(ctx, "keep_aspect_ratio_policy", policy_names, 3, 0, &policy)))
        return st;
    for (int k = 0; k < n; k++)
        if (sizes[k] < 0 || sizes[k] > RS_MAX_ELEMS)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "size %lld of axis %d is out of range [0, %lld]", (long long)sizes[k],
                             axes[k], (long long)RS_MAX_ELEMS);
        else if (c->in_dims[axes[k]] == 0 && sizes[k] != 0)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "axis %d is empty and cannot be resized to %lld", axes[k],
                             (long long)sizes[k]);
    if (policy == 0) {
        for (int k = 0; k < n; k++) {
            const int a = axes[k];
            c->out_dims[a] = sizes[k];
            c->out_len[a] = (double)sizes[k];
            c->scale[a] = c->in_dims[a] ? (double)sizes[k] / (double)c->in_dims[a] : 1.0;
        }
        return ONNORM_OK;
    }
    double s = policy == 1 ? INFINITY : 0;
    for (int k = 0; k < n; k++) {
        if (!c->in_dims[axes[k]]) continue;
        const double r = (double)sizes[k] / (double)c->in_dims[axes[k]];
        s = policy == 1 ? fmin(s, r) : fmax(s, r);
    }
    if (!isfinite(s) || s <= 0) s = 1;
    for (int k = 0; k < n; k++) {
        const int a = axes[k];
        const double o = floor((double)c->in_dims[a] * s + 0.5);
        if (o > (double)RS_MAX_ELEMS)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "axis %d would be %.0f long (limit %lld)", a, o,
                             (long long)RS_MAX_ELEMS);
        c->scale[a] = s;
        c->out_len[a] = (double)c->in_dims[a] * s;
        c->out_dims[a] = (int64_t)o;
    }
    return ONNORM_OK;
}

static onnorm_status read_resize_inputs(onn_kctx *ctx, rs_cfg *c)
{
    const int v = onn_kversion(ctx);
    int axes[ONNORM_MAX_RANK], n = 0;
    double vals[2 * ONNORM_MAX_RANK];
    onnorm_status st = read_axes(ctx, c->rank, axes, &n);
    if (st) return st;
    if (c->upsample && v < 9) { /* Upsample-7: the scales attribute */
        const onn_attr *a = onn_attr_find(ctx->node, "scales");
        if (!a || a->type != ONN_ATTR_FLOATS)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "the required attribute scales is missing");
        if ((int)a->n != c->rank)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "scales has %zu values for rank %d", a->n,
                             c->rank);
        for (int k = 0; k < c->rank; k++)
            if ((st = check_scale(ctx, c, k, a->floats[k]))) return st;
        return ONNORM_OK;
    }
    const int i_scales = (c->upsample || v < 11) ? 1 : 2, i_sizes = 3;
    const bool has_scales = nonempty(ctx, i_scales);
    const bool has_sizes = i_scales == 2 && nonempty(ctx, i_sizes);
    if (has_scales == has_sizes)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         has_scales ? "scales and sizes are both given; give one"
                                    : "neither scales nor sizes is given");
    if (has_scales) {
        if (ctx->in[i_scales]->dtype != ONNORM_FLOAT)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'scales' has type %s, expected float",
                             onnorm_dtype_name(ctx->in[i_scales]->dtype));
        if ((st = read_floats(ctx, i_scales, "scales", n, vals))) return st;
        for (int k = 0; k < n; k++)
            if ((st = check_scale(ctx, c, axes[k], vals[k]))) return st;
    } else {
        int64_t sizes[ONNORM_MAX_RANK];
        int got;
        if (ctx->in[i_sizes]->rank != 1 || ctx->in[i_sizes]->dims[0] != n)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'sizes' must be 1-D with %d values", n);
        if ((st = onn_input_ints(ctx, i_sizes, "sizes", ONN_INTS_INT64, ONNORM_MAX_RANK, sizes,
                                 &got)) ||
            (st = apply_sizes(ctx, c, axes, n, sizes)))
            return st;
    }
    if (c->ctm == CT_TF_CROP_AND_RESIZE) {
        if (!nonempty(ctx, 1))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "tf_crop_and_resize needs the input 'roi'");
        if ((st = read_floats(ctx, 1, "roi", 2 * n, vals))) return st;
        for (int k = 0; k < n; k++)
            c->roi_lo[axes[k]] = vals[k], c->roi_hi[axes[k]] = vals[n + k];
    }
    return ONNORM_OK;
}

static onnorm_status rs_config(onn_kctx *ctx)
{
    rs_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    onnorm_status st = read_attrs(ctx, c);
    if (st) return st;
    c->rank = x->rank;
    if (c->rank < 1) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input 'X' must have rank >= 1");
    for (int k = 0; k < c->rank; k++) {
        c->in_dims[k] = c->out_dims[k] = x->dims[k];
        c->scale[k] = 1, c->out_len[k] = (double)x->dims[k];
        c->roi_lo[k] = 0, c->roi_hi[k] = 1;
    }
    if ((st = read_resize_inputs(ctx, c))) return st;
    if (onn_dims_numel(c->out_dims, 0, c->rank) > RS_MAX_ELEMS)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the output would hold more than %lld elements",
                         (long long)RS_MAX_ELEMS);
    return ONNORM_OK;
}

static onnorm_status rs_infer(onn_kctx *ctx)
{
    const rs_cfg *c = ctx->state;
    const onnorm_dtype t = ctx->in[0]->dtype;
    if (onnorm_dtype_size(t) == 0 || !(RS_TYPES & ONN_T(t)))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input 'X' has unsupported type %s",
                         onnorm_dtype_name(t));
    if (c->mode != RS_NEAREST && !interp_type(t))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "%s mode cannot interpolate type %s",
                         mode_names[c->mode], onnorm_dtype_name(t));
    onn_set_output(ctx, 0, t, c->rank, c->out_dims);
    return ONNORM_OK;
}

/* ---- prepare: the per-axis tables --------------------------------------------- */

/* x_original of output index j on axis a. */
static double map_coord(const rs_cfg *c, int a, int64_t j)
{
    const double in = (double)c->in_dims[a], s = c->scale[a], len = c->out_len[a];
    const double x = (double)j;
    if (c->legacy) return (double)((float)j / (float)s);
    if (c->ctm == CT_ASYMMETRIC) return x / s;
    switch (c->ctm) {
    case CT_HALF_PIXEL: return (x + 0.5) / s - 0.5;
    case CT_HALF_PIXEL_SYMMETRIC: {
        const double adj = (double)c->out_dims[a] / len, center = in / 2;
        return center * (1 - adj) + (x + 0.5) / s - 0.5;
    }
    case CT_PYTORCH_HALF_PIXEL: return c->out_dims[a] > 1 ? (x + 0.5) / s - 0.5 : 0;
    case CT_ALIGN_CORNERS: return len == 1 ? 0 : x * (in - 1) / (len - 1);
    case CT_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / s;
    case CT_TF_CROP_AND_RESIZE: {
        const double lo = c->roi_lo[a], hi = c->roi_hi[a];
        const double o = len == 1 ? (hi - lo) * (in - 1) / 2 : x * (hi - lo) * (in - 1) / (len - 1);
        return o + lo * (in - 1);
    }
    default: return x / s;
    }
}

static double cubic_kernel(double u, double A)
{
    u = fabs(u);
    if (u <= 1) return ((A + 2) * u - (A + 3)) * u * u + 1;
    if (u < 2) return ((A * u - 5 * A) * u + 8 * A) * u - 4 * A;
    return 0;
}

static int64_t clamp_idx(int64_t i, int64_t n)
{
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* The taps of output index j: indices into idx, weights into w. */
static void axis_taps(const rs_cfg *c, int a, int taps, int start, double x, int64_t *idx,
                      double *w)
{
    const int64_t in = c->in_dims[a];
    /* keep x where its floor is an int64; far-out coordinates clamp anyway */
    if (!(x > -2.0 * (double)in - 8)) x = -2.0 * (double)in - 8;
    if (!(x < 3.0 * (double)in + 8)) x = 3.0 * (double)in + 8;
    double base = floor(x);
    if (base == x) base -= 1; /* ratio in (0, 1]: prefer the left neighbour */
    const double ratio = x - base;
    const int64_t b = (int64_t)base;
    if (c->mode == RS_NEAREST) {
        bool up;
        switch (c->nearest) {
        case NM_PREFER_FLOOR: up = ratio > 0.5; break;
        case NM_PREFER_CEIL: up = ratio >= 0.5; break;
        case NM_FLOOR: up = false; break;
        default: up = true; break;
        }
        if (ratio == 1) up = true;
        idx[0] = clamp_idx(b + up, in);
        return;
    }
    const double s = c->antialias && c->scale[a] < 1 ? c->scale[a] : 1.0;
    double sum = 0;
    for (int t = 0; t < taps; t++) {
        const int64_t i = b + start + t;
        const double u = ((double)(start + t) - ratio) * s;
        double wt = c->mode == RS_LINEAR ? fmax(0.0, 1 - fabs(u)) : cubic_kernel(u, c->cubic_a);
        if (c->exclude_outside && (i < 0 || i >= in)) wt = 0;
        idx[t] = clamp_idx(i, in);
        w[t] = wt;
        sum += wt;
    }
    if ((c->antialias && s < 1) || c->exclude_outside)
        for (int t = 0; t < taps; t++)
            w[t] = sum != 0 ? w[t] / sum : 0;
}

/* Widest antialiasing kernel accepted (taps per output element per axis). */
#define RS_MAX_TAPS 65536

/* The first tap's offset and the tap count of axis a (0 when too wide). */
static int tap_window(const rs_cfg *c, int a, int *start)
{
    const double s = c->antialias && c->scale[a] < 1 ? c->scale[a] : 1.0;
    if (c->mode == RS_NEAREST) {
        *start = 0;
        return 1;
    }
    const double support = c->mode == RS_LINEAR ? 1 : 2;
    const double first = floor(-support / s) + 1;
    if (2 - 2 * first > RS_MAX_TAPS) return 0;
    *start = (int)first;
    return 2 - 2 * *start;
}

/* Builds axis a's table; an identity axis gets one tap of weight 1. */
static onnorm_status build_table(onn_kctx *ctx, rs_cfg *c, int a)
{
    rs_table *t = &c->tab[a];
    const int64_t out = c->out_dims[a], in = c->in_dims[a];
    int start;
    const int taps = tap_window(c, a, &start);
    if (taps == 0)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "antialiasing scale %g of axis %d needs more than %d taps per element",
                         c->scale[a], a, RS_MAX_TAPS);
    size_t nb;
    onnorm_status st =
        onn_kbytes(ctx, (size_t)out, (size_t)taps, sizeof(int64_t) + sizeof(double), &nb);
    if (st) return st;
    int64_t *idx = onn_kalloc(ctx, (size_t)out * taps * sizeof *idx + 1);
    double *w = onn_kalloc(ctx, (size_t)out * taps * sizeof *w + 1);
    unsigned char *outside = onn_kalloc(ctx, (size_t)out + 1);
    if (!idx || !w || !outside) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    bool any_out = false, identity = out == in;
    for (int64_t j = 0; j < out; j++) {
        const double x = map_coord(c, a, j);
        outside[j] =
            c->ctm == CT_TF_CROP_AND_RESIZE && !c->upsample && (x < 0 || x > (double)in - 1);
        any_out |= outside[j];
        axis_taps(c, a, taps, start, x, idx + j * taps, w + j * taps);
        /* identity: the taps at j weigh 1 in all, every other tap 0 */
        double at_j = 0, elsewhere = 0;
        for (int k = 0; k < taps; k++) {
            if (c->mode == RS_NEAREST) w[j * taps + k] = 1;
            if (idx[j * taps + k] == j)
                at_j += w[j * taps + k];
            else
                elsewhere += fabs(w[j * taps + k]);
        }
        identity &= at_j == 1.0 && elsewhere == 0;
    }
    t->outside = any_out ? outside : NULL;
    if (identity && !any_out && taps > 1) { /* compress to one tap */
        for (int64_t j = 0; j < out; j++)
            idx[j] = j, w[j] = 1;
        t->taps = 1;
    } else {
        t->taps = taps;
    }
    t->idx = idx;
    t->w = w;
    return ONNORM_OK;
}

/* The extrapolation value as one element of type t. */
static void set_fill(rs_cfg *c, onnorm_dtype t)
{
    memset(c->fill, 0, sizeof c->fill);
    store_el(c->fill, t, 0, c->extrapolation);
}

static onnorm_status prepare_bilinear(onn_kctx *ctx, rs_cfg *c)
{
    const int ax = c->rank - 1, ay = c->rank - 2;
    const int64_t ow = c->out_dims[ax], oh = c->out_dims[ay];
    c->bx0 = onn_kalloc(ctx, (size_t)ow * sizeof(int32_t) + 1);
    c->bx1 = onn_kalloc(ctx, (size_t)ow * sizeof(int32_t) + 1);
    c->bwx = onn_kalloc(ctx, (size_t)ow * sizeof(float) + 1);
    c->by0 = onn_kalloc(ctx, (size_t)oh * sizeof(int32_t) + 1);
    c->by1 = onn_kalloc(ctx, (size_t)oh * sizeof(int32_t) + 1);
    c->bwy = onn_kalloc(ctx, (size_t)oh * sizeof(float) + 1);
    if (!c->bx0 || !c->bx1 || !c->bwx || !c->by0 || !c->by1 || !c->bwy)
        return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    const rs_table *tx = &c->tab[ax], *ty = &c->tab[ay];
    for (int64_t j = 0; j < ow; j++) {
        const int n = tx->taps;
        c->bx0[j] = (int32_t)tx->idx[j * n];
        c->bx1[j] = (int32_t)tx->idx[j * n + n - 1];
        c->bwx[j] = n == 2 ? (float)tx->w[j * n + 1] : 0.0f;
    }
    for (int64_t j = 0; j < oh; j++) {
        const int n = ty->taps;
        c->by0[j] = (int32_t)ty->idx[j * n];
        c->by1[j] = (int32_t)ty->idx[j * n + n - 1];
        c->bwy[j] = n == 2 ? (float)ty->w[j * n + 1] : 0.0f;
    }
    return ONNORM_OK;
}

/* The separable float32 path: the last two axes' tables as int32 / float. */
static onnorm_status prepare_sep2d(onn_kctx *ctx, rs_cfg *c)
{
    const rs_table *tx = &c->tab[c->rank - 1], *ty = &c->tab[c->rank - 2];
    const int64_t nx = c->out_dims[c->rank - 1] * tx->taps,
                  ny = c->out_dims[c->rank - 2] * ty->taps;
    c->sx = onn_kalloc(ctx, (size_t)nx * sizeof(int32_t) + 1);
    c->swx = onn_kalloc(ctx, (size_t)nx * sizeof(float) + 1);
    c->sy = onn_kalloc(ctx, (size_t)ny * sizeof(int32_t) + 1);
    c->swy = onn_kalloc(ctx, (size_t)ny * sizeof(float) + 1);
    if (!c->sx || !c->swx || !c->sy || !c->swy) return ctx->err ? ctx->err->code : ONNORM_ERR_NOMEM;
    for (int64_t i = 0; i < nx; i++)
        c->sx[i] = (int32_t)tx->idx[i], c->swx[i] = (float)tx->w[i];
    for (int64_t i = 0; i < ny; i++)
        c->sy[i] = (int32_t)ty->idx[i], c->swy[i] = (float)ty->w[i];
    /* per thread: the plane's rows resized along the last axis */
    size_t nb;
    onnorm_status st =
        onn_kbytes(ctx, (size_t)c->in_dims[c->rank - 2],
                   (size_t)c->out_dims[c->rank - 1] * sizeof(float), (size_t)ctx->num_threads, &nb);
    if (!st) onn_kscratch_need(ctx, nb);
    return st;
}

static onnorm_status rs_prepare(onn_kctx *ctx)
{
    rs_cfg *c = ctx->state;
    const onnorm_dtype t = ctx->in[0]->dtype;
    onnorm_status st;
    c->esz = onnorm_dtype_size(t);
    c->numel = onn_dims_numel(c->out_dims, 0, c->rank);
    c->rows = c->out_dims[c->rank - 1] ? c->numel / c->out_dims[c->rank - 1] : 0;
    int64_t s = 1;
    for (int k = c->rank - 1; k >= 0; k--) {
        c->in_stride[k] = s;
        s *= c->in_dims[k];
    }
    set_fill(c, t);
    if (c->numel == 0) return ONNORM_OK;
    for (int k = 0; k < c->rank; k++)
        if (c->in_dims[k] == 0) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "axis %d of X is empty", k);
    for (int k = 0; k < c->rank; k++)
        if ((st = build_table(ctx, c, k))) return st;
    if (c->mode == RS_NEAREST) {
        c->path = PATH_NEAREST;
        return ONNORM_OK;
    }
    bool bilinear = t == ONNORM_FLOAT && c->rank >= 2 && c->mode == RS_LINEAR &&
                    c->in_dims[c->rank - 1] <= INT32_MAX && c->in_dims[c->rank - 2] <= INT32_MAX;
    for (int k = 0; k < c->rank && bilinear; k++)
        bilinear =
            !c->tab[k].outside && (k >= c->rank - 2 ? c->tab[k].taps <= 2 : c->tab[k].taps == 1);
    if (bilinear) {
        c->path = PATH_BILINEAR_F32;
        return prepare_bilinear(ctx, c);
    }
    bool sep = t == ONNORM_FLOAT && c->rank >= 2 && c->in_dims[c->rank - 1] <= INT32_MAX &&
               c->in_dims[c->rank - 2] <= INT32_MAX;
    for (int k = 0; k < c->rank && sep; k++)
        sep = !c->tab[k].outside && (k >= c->rank - 2 || c->tab[k].taps == 1);
    if (sep) {
        c->path = PATH_SEP2D_F32;
        return prepare_sep2d(ctx, c);
    }
    c->path = PATH_GENERIC;
    /* per thread: the outer axes' tap combinations (offset and weight) */
    double combos = 1;
    for (int k = 0; k < c->rank - 1; k++)
        combos *= c->tab[k].taps;
    if (combos > 1 << 20)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "%.0f taps per output element is too many",
                         combos);
    c->combos = (int64_t)combos;
    size_t nb;
    if ((st = onn_kbytes(ctx, (size_t)c->combos, sizeof(int64_t) + sizeof(double),
                         (size_t)ctx->num_threads, &nb)))
        return st;
    onn_kscratch_need(ctx, nb);
    return ONNORM_OK;
}

/* ---- run ------------------------------------------------------------------------ */

/* Splits output row r into its outer-axis output indices, last-but-one first. */
static void row_coords(const rs_cfg *c, int64_t r, int64_t *o)
{
    for (int k = c->rank - 2; k >= 0; k--) {
        o[k] = r % c->out_dims[k];
        r /= c->out_dims[k];
    }
}

/* The arguments of the run_* loops over output rows (planes for run_sep2d). */
typedef struct rs_job {
    const rs_cfg *c;
    const void *src;
    void *dst;
    onnorm_dtype t; /* run_generic: the element type */
    void *scratch;  /* run_sep2d and run_generic: per thread */
} rs_job;

static void nearest_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    (void)worker;
    const rs_job *jb = arg;
    const rs_cfg *c = jb->c;
    const int last = c->rank - 1;
    const int64_t ow = c->out_dims[last];
    const size_t esz = c->esz;
    const rs_table *tl = &c->tab[last];
    const char *src = jb->src;
    char *dst = jb->dst;
    for (int64_t r = r0; r < r1; r++) {
        int64_t o[ONNORM_MAX_RANK], off = 0;
        bool out = false;
        row_coords(c, r, o);
        for (int k = 0; k < last; k++) {
            off += c->tab[k].idx[o[k]] * c->in_stride[k];
            out |= c->tab[k].outside && c->tab[k].outside[o[k]];
        }
        char *d = dst + (size_t)(r * ow) * esz;
        if (out) {
            onn_fill(d, ow, c->fill, esz);
            continue;
        }
        const char *s = src + (size_t)off * esz;
        switch (esz) {
        case 4:
            for (int64_t j = 0; j < ow; j++)
                memcpy(d + 4 * j, s + 4 * tl->idx[j], 4);
            break;
        case 8:
            for (int64_t j = 0; j < ow; j++)
                memcpy(d + 8 * j, s + 8 * tl->idx[j], 8);
            break;
        default:
            for (int64_t j = 0; j < ow; j++)
                memcpy(d + esz * j, s + esz * tl->idx[j], esz);
            break;
        }
        if (tl->outside)
            for (int64_t j = 0; j < ow; j++)
                if (tl->outside[j]) memcpy(d + esz * j, c->fill, esz);
    }
}

static void run_nearest(const rs_cfg *c, const char *src, char *dst, int nt)
{
    rs_job jb = {.c = c, .src = src, .dst = dst};
    onn_parallel_range(nt, c->rows, nearest_rows, &jb);
}

static void bilinear_rows(void *arg, int64_t begin, int64_t end, int worker)
{
    (void)worker;
    const rs_job *jb = arg;
    const rs_cfg *c = jb->c;
    const int ax = c->rank - 1, ay = c->rank - 2;
    const int64_t ow = c->out_dims[ax], oh = c->out_dims[ay];
    const int64_t plane_in = c->in_dims[ax] * c->in_dims[ay], w_in = c->in_dims[ax];
    const int32_t *x0 = c->bx0, *x1 = c->bx1, *y0 = c->by0, *y1 = c->by1;
    const float *wx = c->bwx, *wy = c->bwy;
    const float *src = jb->src;
    float *dst = jb->dst;
    for (int64_t r = begin; r < end; r++) {
        const int64_t p = r / oh, y = r % oh;
        const float *r0 = src + p * plane_in + (int64_t)y0[y] * w_in;
        const float *r1 = src + p * plane_in + (int64_t)y1[y] * w_in;
        const float b = wy[y], a = 1.0f - b;
        float *d = dst + r * ow;
        for (int64_t j = 0; j < ow; j++) {
            const float fb = wx[j], fa = 1.0f - fb;
            const float top = fa * r0[x0[j]] + fb * r0[x1[j]];
            const float bot = fa * r1[x0[j]] + fb * r1[x1[j]];
            d[j] = a * top + b * bot;
        }
    }
}

static void run_bilinear(const rs_cfg *c, const float *src, float *dst, int nt)
{
    rs_job jb = {.c = c, .src = src, .dst = dst};
    onn_parallel_range(nt, c->rows, bilinear_rows, &jb);
}

static void sep2d_plane(void *arg, int64_t p, int worker)
{
    const rs_job *jb = arg;
    const rs_cfg *c = jb->c;
    const int ax = c->rank - 1, ay = c->rank - 2;
    const int64_t ow = c->out_dims[ax], oh = c->out_dims[ay];
    const int64_t w_in = c->in_dims[ax], h_in = c->in_dims[ay];
    const int tx = c->tab[ax].taps, ty = c->tab[ay].taps;
    float *tmp = (float *)jb->scratch + (size_t)worker * (size_t)(h_in * ow);
    const float *in = (const float *)jb->src + p * h_in * w_in;
    float *dst = jb->dst;
    for (int64_t h = 0; h < h_in; h++) {
        const float *row = in + h * w_in;
        float *t = tmp + h * ow;
        for (int64_t j = 0; j < ow; j++) {
            const int32_t *ix = c->sx + j * tx;
            const float *wx = c->swx + j * tx;
            float acc = 0;
            for (int q = 0; q < tx; q++)
                acc += wx[q] * row[ix[q]];
            t[j] = acc;
        }
    }
    for (int64_t y = 0; y < oh; y++) {
        float *d = dst + (p * oh + y) * ow;
        const int32_t *iy = c->sy + y * ty;
        const float *wy = c->swy + y * ty;
        const float *t0 = tmp + (int64_t)iy[0] * ow;
        for (int64_t j = 0; j < ow; j++)
            d[j] = wy[0] * t0[j];
        for (int q = 1; q < ty; q++) {
            const float *tq = tmp + (int64_t)iy[q] * ow;
            const float wq = wy[q];
            for (int64_t j = 0; j < ow; j++)
                d[j] += wq * tq[j];
        }
    }
}

/* One plane at a time: every input row resized along the last axis into
 * the thread's scratch, then output rows mixed from those. Planes are
 * claimed one by one. */
static void run_sep2d(const rs_cfg *c, const float *src, float *dst, void *scratch, int nt)
{
    const int64_t planes = c->rows / c->out_dims[c->rank - 2];
    rs_job jb = {.c = c, .src = src, .dst = dst, .scratch = scratch};
    onn_parallel_for(nt, planes, sep2d_plane, &jb);
}

/* Sum of wj[q] * src[base + ij[q]] over the tn taps of one output element. */
static inline double taps_dot(const void *src, onnorm_dtype t, int64_t base, const int64_t *ij,
                              const double *wj, int tn)
{
    double s = 0;
    if (t == ONNORM_FLOAT) {
        const float *f = (const float *)src + base;
        for (int q = 0; q < tn; q++)
            s += wj[q] * f[ij[q]];
    } else if (t == ONNORM_DOUBLE) {
        const double *f = (const double *)src + base;
        for (int q = 0; q < tn; q++)
            s += wj[q] * f[ij[q]];
    } else {
        for (int q = 0; q < tn; q++)
            s += wj[q] * onn_elem_load(t, src, base + ij[q]);
    }
    return s;
}

static void generic_rows(void *arg, int64_t r0, int64_t r1, int worker)
{
    const rs_job *jb = arg;
    const rs_cfg *c = jb->c;
    const void *src = jb->src;
    const onnorm_dtype t = jb->t;
    const int last = c->rank - 1;
    const int64_t ow = c->out_dims[last];
    const rs_table *tl = &c->tab[last];
    const int tn = tl->taps;
    const double fill = c->extrapolation;
    int64_t *coff = (int64_t *)((char *)jb->scratch + (size_t)worker * (size_t)c->combos *
                                                          (sizeof(int64_t) + sizeof(double)));
    double *cw = (double *)(coff + c->combos);
    for (int64_t r = r0; r < r1; r++) {
        int64_t o[ONNORM_MAX_RANK];
        bool out = false;
        row_coords(c, r, o);
        /* the outer axes' tap combinations, built axis by axis */
        int64_t n = 1;
        coff[0] = 0, cw[0] = 1;
        for (int k = 0; k < last; k++) {
            const rs_table *tk = &c->tab[k];
            out |= tk->outside && tk->outside[o[k]];
            const int64_t *ik = tk->idx + o[k] * tk->taps;
            const double *wk = tk->w + o[k] * tk->taps;
            for (int64_t m = n - 1; m >= 0; m--)
                for (int q = tk->taps - 1; q >= 0; q--) {
                    coff[m * tk->taps + q] = coff[m] + ik[q] * c->in_stride[k];
                    cw[m * tk->taps + q] = cw[m] * wk[q];
                }
            n *= tk->taps;
        }
        for (int64_t j = 0; j < ow; j++) {
            double acc = 0;
            if (out || (tl->outside && tl->outside[j])) {
                acc = fill;
            } else {
                const int64_t *ij = tl->idx + j * tn;
                const double *wj = tl->w + j * tn;
                for (int64_t m = 0; m < n; m++)
                    if (cw[m] != 0) acc += cw[m] * taps_dot(src, t, coff[m], ij, wj, tn);
            }
            store_el(jb->dst, t, r * ow + j, acc);
        }
    }
}

static void run_generic(const rs_cfg *c, const void *src, void *dst, onnorm_dtype t, void *scratch,
                        int nt)
{
    rs_job jb = {.c = c, .src = src, .dst = dst, .t = t, .scratch = scratch};
    onn_parallel_range(nt, c->rows, generic_rows, &jb);
}

static onnorm_status rs_run(onn_kctx *ctx)
{
    const rs_cfg *c = ctx->state;
    if (!ctx->out[0] || c->numel == 0) return ONNORM_OK;
    const int nt = onn_threads_for(ctx, c->numel * (c->mode == RS_NEAREST ? 1 : 4), c->rows);
    switch (c->path) {
    case PATH_NEAREST: run_nearest(c, ctx->in[0]->data, ctx->out[0]->data, nt); break;
    case PATH_BILINEAR_F32: run_bilinear(c, ctx->in[0]->data, ctx->out[0]->data, nt); break;
    case PATH_SEP2D_F32:
        run_sep2d(c, ctx->in[0]->data, ctx->out[0]->data, ctx->scratch,
                  nt < ctx->num_threads ? nt : ctx->num_threads);
        break;
    default:
        run_generic(c, ctx->in[0]->data, ctx->out[0]->data, ctx->in[0]->dtype, ctx->scratch,
                    nt < ctx->num_threads ? nt : ctx->num_threads);
        break;
    }
    return ONNORM_OK;
}

static const int upsample_tag = 1;

#define RS_KERNEL(op, ver, in_lo, in_hi, tag)                                                      \
    {                                                                                              \
        ONN_KERNEL("", op, ver, in_lo, in_hi, 1, 1, rs_infer, rs_prepare, rs_run),                 \
            .config = rs_config, .state_size = sizeof(rs_cfg), .data = (tag), .types = RS_TYPES    \
    }

ONN_KERNEL_TABLE(resize, RS_KERNEL("Upsample", 7, 1, 1, &upsample_tag),
                 RS_KERNEL("Upsample", 9, 2, 2, &upsample_tag), RS_KERNEL("Resize", 10, 2, 2, NULL),
                 RS_KERNEL("Resize", 11, 1, 4, NULL), RS_KERNEL("Resize", 13, 1, 4, NULL),
                 RS_KERNEL("Resize", 18, 1, 4, NULL), RS_KERNEL("Resize", 19, 1, 4, NULL));
