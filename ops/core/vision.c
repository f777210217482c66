/*
 * Detection and sampling ops: NonMaxSuppression (10, 11), RoiAlign (10, 16,
 * 22) and GridSample (16, 20, 22).
 *
 * NonMaxSuppression: boxes [B, N, 4] and scores [B, C, N] (float32);
 * optional max_output_boxes_per_class (int64, default 0: nothing is
 * selected), iou_threshold (float, default 0) and score_threshold (float,
 * default: no threshold). Per batch and class, the boxes whose score is
 * above score_threshold (strictly) are taken by descending score, equal
 * scores by ascending box index, and a box is dropped when its IoU with an
 * already selected box is above iou_threshold (strictly). Corners may come
 * in either order (flipped); a box of zero, negative or NaN area never
 * suppresses nor is suppressed; a NaN score is never selected. The
 * output is [selected, 3] int64 rows (batch, class, box), batch-major,
 * then class, then selection order. Its length depends on the values, so
 * infer computes the selection too (onn_input_values: models whose boxes
 * are runtime data run eagerly).
 *
 * RoiAlign: X [N, C, H, W], rois [R, 4] (x1, y1, x2, y2), batch_indices [R]
 * (int64); output [R, C, output_height, output_width]. Each bin averages
 * (mode avg) or takes the maximum (mode max) of a sampling_ratio^2 grid of
 * bilinear samples (sampling_ratio 0: ceil(roi size / bins) per axis).
 * Opset 10 maps coordinates as output_half_pixel (no shift, ROI at least
 * one pixel); 16 adds coordinate_transformation_mode, default half_pixel
 * (shift by -0.5, no minimum size). As ONNX Runtime and the reference do,
 * a sample more than one pixel outside the map counts as 0, samples clamp
 * to the edge otherwise, and max mode takes, for each sample, the largest
 * of its four weighted corner terms. A batch index outside [0, N) fails.
 * A sampling grid is at most 1024 x 1024 per bin: a larger sampling_ratio
 * is refused, an adaptive grid is capped (NaN ROIs sample nothing: 0).
 *
 * GridSample: X [N, C, H, W], grid [N, Ho, Wo, 2] holding (x, y) in
 * [-1, 1]; output [N, C, Ho, Wo]. Modes bilinear / nearest / bicubic
 * (opset 20 names: linear / nearest / cubic), padding zeros / border /
 * reflection, align_corners. The semantics are PyTorch's
 * (torch.nn.functional.grid_sample, which produced the official tests):
 * bilinear and nearest first pad the sampling coordinate (border clamps
 * it, reflection mirrors it about the border and clamps), then read 0 for
 * neighbours outside the map; nearest rounds half to even; bicubic (A =
 * -0.75) pads each of its 16 tap indices instead. Opset 20's N-D form
 * (X [N, C, D1..Dr], grid [N, O1..Or, r] listing the last axis first)
 * generalizes the same rules axis by axis: 2^r corners for linear, 4^r
 * padded taps for cubic (PyTorch's 3-D grid_sample agrees for linear and
 * nearest; it has no 3-D bicubic).
 *
 * Versions 22 of RoiAlign and GridSample only add bfloat16.
 *
 * Types: RoiAlign and GridSample take float32, float64 and float16, from
 * opset 22 bfloat16 (computed in double); NonMaxSuppression float32.
 */
#include "ops/core/threadpool.h"
#include "ops/half.h"
#include "ops/kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VI_FLOATS ONN_T_HALF_FLOATS

static double ld(const void *p, onnorm_dtype t, int64_t i)
{
    switch (t) {
    case ONNORM_FLOAT: return ((const float *)p)[i];
    case ONNORM_DOUBLE: return ((const double *)p)[i];
    case ONNORM_BFLOAT16: return onn_bf16_to_f32(((const uint16_t *)p)[i]);
    default: return onn_f16_to_f32(((const uint16_t *)p)[i]);
    }
}

static void st(void *p, onnorm_dtype t, int64_t i, double v)
{
    switch (t) {
    case ONNORM_FLOAT: ((float *)p)[i] = (float)v; break;
    case ONNORM_DOUBLE: ((double *)p)[i] = v; break;
    case ONNORM_BFLOAT16: ((uint16_t *)p)[i] = onn_f32_to_bf16((float)v); break;
    default: ((uint16_t *)p)[i] = onn_f32_to_f16((float)v); break;
    }
}

/* ==== NonMaxSuppression ======================================================= */

typedef struct nms_cfg {
    bool center;
} nms_cfg;

typedef struct nms_cand {
    float score;
    int64_t index;
} nms_cand;

static int cand_cmp(const void *a, const void *b)
{
    const nms_cand *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static onnorm_status nms_config(onn_kctx *ctx)
{
    nms_cfg *c = ctx->state;
    int64_t cpb;
    onnorm_status s = onn_kattr_int(ctx, "center_point_box", 0, &cpb);
    if (s) return s;
    if (cpb != 0 && cpb != 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "center_point_box must be 0 or 1, not %lld",
                         (long long)cpb);
    c->center = cpb;
    return ONNORM_OK;
}

/* The box as (ymin, xmin, ymax, xmax). */
static void nms_corners(const float *b, bool center, float *o)
{
    if (center) {
        o[0] = b[1] - b[3] / 2, o[1] = b[0] - b[2] / 2;
        o[2] = b[1] + b[3] / 2, o[3] = b[0] + b[2] / 2;
    } else {
        o[0] = fminf(b[0], b[2]), o[1] = fminf(b[1], b[3]);
        o[2] = fmaxf(b[0], b[2]), o[3] = fmaxf(b[1], b[3]);
    }
}

/* A box as corners and area, computed once per candidate. */
typedef struct nms_box {
    float y0, x0, y1, x1, area;
} nms_box;

static nms_box nms_box_of(const float *b, bool center)
{
    float o[4];
    nms_corners(b, center, o);
    const nms_box r = {o[0], o[1], o[2], o[3], (o[2] - o[0]) * (o[3] - o[1])};
    return r;
}

/* IoU(a, b) > thr. Boxes whose area is not positive (or NaN) never overlap.
 * Plain comparisons instead of fminf/fmaxf (library calls that cannot be
 * inlined): the corners are ordered and finite here or the area test fails. */
static bool nms_suppresses(const nms_box *a, const nms_box *b, float thr)
{
    if (!(a->area > 0) || !(b->area > 0)) return false;
    const float h = (a->y1 < b->y1 ? a->y1 : b->y1) - (a->y0 > b->y0 ? a->y0 : b->y0);
    const float w = (a->x1 < b->x1 ? a->x1 : b->x1) - (a->x0 > b->x0 ? a->x0 : b->x0);
    if (h <= 0 || w <= 0) return false;
    const float inter = h * w;
    return inter / (a->area + b->area - inter) > thr;
}

/* The scalar parameters (each a rank-0 or one-element tensor). */
static onnorm_status nms_params(onn_kctx *ctx, int64_t *max_out, float *iou, bool *has_score,
                                float *score)
{
    *max_out = 0, *iou = 0, *has_score = false, *score = 0;
    for (int i = 2; i < 5; i++) {
        if (!onn_has_input(ctx, i)) continue;
        static const char *const names[] = {"", "", "max_output_boxes_per_class", "iou_threshold",
                                            "score_threshold"};
        const onnorm_tensor *t = ctx->in[i];
        const onnorm_dtype want = i == 2 ? ONNORM_INT64 : ONNORM_FLOAT;
        if (t->dtype != want)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s, expected %s", names[i],
                             onnorm_dtype_name(t->dtype), onnorm_dtype_name(want));
        if (onnorm_tensor_numel(t) == 0 && i == 2) continue;
        if (onnorm_tensor_numel(t) != 1)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input '%s' must hold one value", names[i]);
        const void *v = onn_input_values(ctx, i, names[i]);
        if (!v) return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
        if (i == 2) *max_out = *(const int64_t *)v;
        if (i == 3) *iou = *(const float *)v;
        if (i == 4) *has_score = true, *score = *(const float *)v;
    }
    if (*max_out < 0) *max_out = 0;
    return ONNORM_OK;
}

/* Runs the selection; writes its first cap rows to out (when not NULL) and
 * counts them all.
 * cand: N entries, sel: N entries of scratch (the selected boxes of the
 * current class). */
static onnorm_status nms_select(onn_kctx *ctx, int64_t *out, int64_t cap, int64_t *count,
                                nms_cand *cand, nms_box *sel)
{
    const nms_cfg *c = ctx->state;
    const onnorm_tensor *bt = ctx->in[0], *stt = ctx->in[1];
    int64_t max_out;
    float iou, sthr;
    bool has_score;
    onnorm_status s = nms_params(ctx, &max_out, &iou, &has_score, &sthr);
    if (s) return s;
    const float *boxes = bt->data, *scores = stt->data;
    const int64_t B = bt->dims[0], N = bt->dims[1], C = stt->dims[1];
    int64_t n_out = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < C; k++) {
            const float *sc = scores + (b * C + k) * N;
            int64_t nc = 0, ns = 0;
            for (int64_t i = 0; i < N; i++)
                if (!isnan(sc[i]) && (!has_score || sc[i] > sthr))
                    cand[nc].score = sc[i], cand[nc++].index = i;
            qsort(cand, (size_t)nc, sizeof *cand, cand_cmp);
            for (int64_t q = 0; q < nc && ns < max_out; q++) {
                const nms_box a = nms_box_of(boxes + (b * N + cand[q].index) * 4, c->center);
                bool keep = true;
                for (int64_t p = 0; p < ns && keep; p++)
                    keep = !nms_suppresses(&a, &sel[p], iou);
                if (!keep) continue;
                sel[ns++] = a;
                if (out && n_out < cap) {
                    out[3 * n_out] = b, out[3 * n_out + 1] = k, out[3 * n_out + 2] = cand[q].index;
                }
                n_out++;
            }
        }
    *count = n_out;
    return ONNORM_OK;
}

static onnorm_status nms_check(onn_kctx *ctx)
{
    const onnorm_tensor *b = ctx->in[0], *s = ctx->in[1];
    if (!b || !s) return onn_kfail(ctx, ONNORM_ERR_INVALID, "boxes and scores are required");
    if (b->dtype != ONNORM_FLOAT || s->dtype != ONNORM_FLOAT)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "boxes and scores must be float32, not %s and %s",
                         onnorm_dtype_name(b->dtype), onnorm_dtype_name(s->dtype));
    if (b->rank != 3 || b->dims[2] != 4)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "boxes must be [batches, boxes, 4]");
    if (s->rank != 3 || s->dims[0] != b->dims[0] || s->dims[2] != b->dims[1])
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "scores must be [%lld, classes, %lld] to match the boxes",
                         (long long)b->dims[0], (long long)b->dims[1]);
    return ONNORM_OK;
}

static onnorm_status nms_infer(onn_kctx *ctx)
{
    onnorm_status s = nms_check(ctx);
    if (s) return s;
    if (!onn_input_values(ctx, 0, "boxes") || !onn_input_values(ctx, 1, "scores"))
        return ctx->err ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    const int64_t n = ctx->in[0]->dims[1];
    size_t nb;
    if ((s = onn_kbytes(ctx, (size_t)n, sizeof(nms_cand) + sizeof(nms_box), 1, &nb))) return s;
    void *buf = malloc(nb + 1);
    if (!buf) return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory for %lld boxes", (long long)n);
    int64_t count = 0;
    s = nms_select(ctx, NULL, 0, &count, buf, (nms_box *)((nms_cand *)buf + n));
    free(buf);
    if (s) return s;
    const int64_t dims[2] = {count, 3};
    onn_set_output(ctx, 0, ONNORM_INT64, 2, dims);
    return ONNORM_OK;
}

static onnorm_status nms_prepare(onn_kctx *ctx)
{
    size_t nb;
    onnorm_status s =
        onn_kbytes(ctx, (size_t)ctx->in[0]->dims[1], sizeof(nms_cand) + sizeof(nms_box), 1, &nb);
    if (!s) onn_kscratch_need(ctx, nb);
    return s;
}

static onnorm_status nms_run(onn_kctx *ctx)
{
    if (!ctx->out[0]) return ONNORM_OK;
    const int64_t n = ctx->in[0]->dims[1];
    const int64_t cap = ctx->out[0]->rank == 2 ? ctx->out[0]->dims[0] : 0;
    int64_t count = 0;
    onnorm_status s = nms_select(ctx, ctx->out[0]->data, cap, &count, ctx->scratch,
                                 (nms_box *)((nms_cand *)ctx->scratch + n));
    if (s) return s;
    if (ctx->out[0]->rank != 2 || cap != count)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "the selection has %lld boxes, the planned output %lld", (long long)count,
                         (long long)cap);
    return ONNORM_OK;
}

/* ==== RoiAlign ================================================================ */

typedef struct roi_cfg {
    bool max_mode, half_pixel;
    int64_t oh, ow, sampling;
    float spatial_scale;
} roi_cfg;

/* The most samples per bin and axis: sampling_ratio above it is refused,
 * an adaptive grid (huge or non-finite ROIs) is capped at it. */
#define ROI_MAX_GRID 1024

static const char *const roi_modes[] = {"avg", "max"};
static const char *const roi_ctms[] = {"half_pixel", "output_half_pixel"};

static onnorm_status roi_config(onn_kctx *ctx)
{
    roi_cfg *c = ctx->state;
    int mode = 0, ctm = 1;
    onnorm_status s;
    if ((s = onn_kattr_enum(ctx, "mode", roi_modes, 2, 0, &mode)) ||
        (s = onn_kattr_int(ctx, "output_height", 1, &c->oh)) ||
        (s = onn_kattr_int(ctx, "output_width", 1, &c->ow)) ||
        (s = onn_kattr_int(ctx, "sampling_ratio", 0, &c->sampling)) ||
        (s = onn_kattr_float(ctx, "spatial_scale", 1.0f, &c->spatial_scale)))
        return s;
    if (onn_kversion(ctx) >= 16 &&
        (s = onn_kattr_enum(ctx, "coordinate_transformation_mode", roi_ctms, 2, 0, &ctm)))
        return s;
    if (c->oh < 1 || c->ow < 1 || c->oh > (1 << 20) || c->ow > (1 << 20))
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "output_height and output_width must be in [1, 2^20], not %lld, %lld",
                         (long long)c->oh, (long long)c->ow);
    if (c->sampling < 0 || c->sampling > ROI_MAX_GRID)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "sampling_ratio must be in [0, %d], not %lld",
                         ROI_MAX_GRID, (long long)c->sampling);
    c->max_mode = mode == 1;
    c->half_pixel = ctm == 0;
    return ONNORM_OK;
}

static onnorm_status roi_infer(onn_kctx *ctx)
{
    const roi_cfg *c = ctx->state;
    onnorm_status s = onn_check_float_input(ctx, 0, "X");
    if (s) return s;
    const onnorm_tensor *x = ctx->in[0], *r = ctx->in[1], *bi = ctx->in[2];
    if (x->rank != 4) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X must be 4-D [N, C, H, W]");
    if (r->dtype != x->dtype)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "rois has type %s, X %s",
                         onnorm_dtype_name(r->dtype), onnorm_dtype_name(x->dtype));
    if (r->rank != 2 || r->dims[1] != 4)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "rois must be [num_rois, 4]");
    if (bi->dtype != ONNORM_INT64 || bi->rank != 1 || bi->dims[0] != r->dims[0])
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "batch_indices must be int64 [%lld]",
                         (long long)r->dims[0]);
    const int64_t dims[4] = {r->dims[0], x->dims[1], c->oh, c->ow};
    if (onn_dims_numel(dims, 0, 4) < 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the output's element count overflows");
    onn_set_output(ctx, 0, x->dtype, 4, dims);
    return ONNORM_OK;
}

/* One bilinear sample of plane p (H x W) at (y, x), ORT's rules; *terms
 * gets the four weighted corner values. Returns false outside the map. */
static bool roi_sample(const void *p, onnorm_dtype t, int64_t base, int64_t H, int64_t W, double y,
                       double x, double *terms)
{
    if (!(y >= -1.0 && y <= (double)H && x >= -1.0 && x <= (double)W)) return false; /* or NaN */
    if (y <= 0) y = 0;
    if (x <= 0) x = 0;
    int64_t y0 = (int64_t)y, x0 = (int64_t)x, y1, x1;
    if (y0 >= H - 1)
        y1 = y0 = H - 1, y = (double)y0;
    else
        y1 = y0 + 1;
    if (x0 >= W - 1)
        x1 = x0 = W - 1, x = (double)x0;
    else
        x1 = x0 + 1;
    const double ly = y - (double)y0, lx = x - (double)x0, hy = 1 - ly, hx = 1 - lx;
    terms[0] = hy * hx * ld(p, t, base + y0 * W + x0);
    terms[1] = hy * lx * ld(p, t, base + y0 * W + x1);
    terms[2] = ly * hx * ld(p, t, base + y1 * W + x0);
    terms[3] = ly * lx * ld(p, t, base + y1 * W + x1);
    return true;
}

/* The adaptive grid: ceil(bin size) samples, in [0, ROI_MAX_GRID]. */
static int64_t roi_grid(double bin)
{
    if (!(bin > 0)) return 0; /* empty, negative or NaN */
    return bin >= ROI_MAX_GRID ? ROI_MAX_GRID : (int64_t)ceil(bin);
}

typedef struct roi_job {
    const roi_cfg *c;
    const onnorm_tensor *x, *r;
    const int64_t *bi;
    void *y;
    double off;
} roi_job;

/* Output plane rc = (ROI, channel). */
static void roi_plane(void *arg, int64_t rc, int worker)
{
    (void)worker;
    const roi_job *j = arg;
    const roi_cfg *c = j->c;
    const onnorm_tensor *x = j->x, *r = j->r;
    const int64_t *bi = j->bi;
    const int64_t C = x->dims[1], H = x->dims[2], W = x->dims[3];
    const onnorm_dtype t = x->dtype;
    const double off = j->off;
    const int64_t n = rc / C, ch = rc % C;
    const double sx = ld(r->data, t, 4 * n) * c->spatial_scale - off;
    const double sy = ld(r->data, t, 4 * n + 1) * c->spatial_scale - off;
    const double ex = ld(r->data, t, 4 * n + 2) * c->spatial_scale - off;
    const double ey = ld(r->data, t, 4 * n + 3) * c->spatial_scale - off;
    double rw = ex - sx, rh = ey - sy;
    if (!c->half_pixel) rw = fmax(rw, 1.0), rh = fmax(rh, 1.0);
    const double bh = rh / (double)c->oh, bw = rw / (double)c->ow;
    const int64_t gh = c->sampling > 0 ? c->sampling : roi_grid(rh / (double)c->oh);
    const int64_t gw = c->sampling > 0 ? c->sampling : roi_grid(rw / (double)c->ow);
    const double count = gh * gw > 0 ? (double)(gh * gw) : 1.0;
    const int64_t base = (bi[n] * C + ch) * H * W;
    for (int64_t ph = 0; ph < c->oh; ph++)
        for (int64_t pw = 0; pw < c->ow; pw++) {
            double acc = 0;
            bool first = true;
            for (int64_t iy = 0; iy < gh; iy++) {
                const double yy = sy + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
                for (int64_t ix = 0; ix < gw; ix++) {
                    const double xx = sx + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw;
                    double tm[4] = {0, 0, 0, 0};
                    roi_sample(x->data, t, base, H, W, yy, xx, tm);
                    if (c->max_mode) {
                        const double v = fmax(fmax(tm[0], tm[1]), fmax(tm[2], tm[3]));
                        acc = first ? v : fmax(acc, v);
                        first = false;
                    } else {
                        acc += tm[0] + tm[1] + tm[2] + tm[3];
                    }
                }
            }
            if (!c->max_mode) acc /= count;
            st(j->y, t, ((rc * c->oh) + ph) * c->ow + pw, acc);
        }
}

static onnorm_status roi_run(onn_kctx *ctx)
{
    const roi_cfg *c = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0], *r = ctx->in[1];
    const int64_t *bi = ctx->in[2]->data;
    const int64_t R = r->dims[0], N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    const onnorm_dtype t = x->dtype;
    for (int64_t i = 0; i < R; i++)
        if (bi[i] < 0 || bi[i] >= N)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "batch_indices[%lld] = %lld is outside [0, %lld)", (long long)i,
                             (long long)bi[i], (long long)N);
    if (H == 0 || W == 0) {
        for (int64_t i = 0; i < onnorm_tensor_numel(ctx->out[0]); i++)
            st(ctx->out[0]->data, t, i, 0);
        return ONNORM_OK;
    }
    const int nt = onn_threads_for(ctx, R * C * c->oh * c->ow * 16, R * C);
    roi_job j = {c, x, r, bi, ctx->out[0]->data, c->half_pixel ? 0.5 : 0.0};
    onn_parallel_for(nt, R * C, roi_plane, &j);
    return ONNORM_OK;
}

/* ==== GridSample ============================================================== */

typedef enum gs_mode { GS_LINEAR, GS_NEAREST, GS_CUBIC } gs_mode;
typedef enum gs_pad { GS_ZEROS, GS_BORDER, GS_REFLECTION } gs_pad;

typedef struct gs_cfg {
    gs_mode mode;
    gs_pad pad;
    bool align;
} gs_cfg;

static const char *const gs_modes16[] = {"bilinear", "nearest", "bicubic"};
static const char *const gs_modes20[] = {"linear", "nearest", "cubic"};
static const char *const gs_pads[] = {"zeros", "border", "reflection"};

static onnorm_status gs_config(onn_kctx *ctx)
{
    gs_cfg *c = ctx->state;
    int mode, pad;
    int64_t align;
    onnorm_status s;
    const char *const *names = onn_kversion(ctx) >= 20 ? gs_modes20 : gs_modes16;
    if ((s = onn_kattr_enum(ctx, "mode", names, 3, GS_LINEAR, &mode)) ||
        (s = onn_kattr_enum(ctx, "padding_mode", gs_pads, 3, GS_ZEROS, &pad)) ||
        (s = onn_kattr_int(ctx, "align_corners", 0, &align)))
        return s;
    if (align != 0 && align != 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "align_corners must be 0 or 1, not %lld",
                         (long long)align);
    c->mode = (gs_mode)mode, c->pad = (gs_pad)pad, c->align = align;
    return ONNORM_OK;
}

static onnorm_status gs_infer(onn_kctx *ctx)
{
    onnorm_status s = onn_check_float_input(ctx, 0, "X");
    if (s) return s;
    const onnorm_tensor *x = ctx->in[0], *g = ctx->in[1];
    const int r = x->rank - 2; /* spatial axes */
    if (x->rank != 4 && (onn_kversion(ctx) < 20 || x->rank < 3))
        return onn_kfail(ctx, onn_kversion(ctx) < 20 ? ONNORM_ERR_SHAPE : ONNORM_ERR_UNSUPPORTED,
                         "X has rank %d; GridSample-%d takes %s", x->rank, onn_kversion(ctx),
                         onn_kversion(ctx) < 20 ? "4-D [N, C, H, W] inputs"
                                                : "[N, C, D1, ..., Dr] inputs with r >= 1");
    if (!(ctx->kernel->types & ONN_T(g->dtype)))
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "grid has type %s; expected a float type",
                         onnorm_dtype_name(g->dtype));
    if (g->rank != x->rank || g->dims[0] != x->dims[0] || g->dims[x->rank - 1] != r)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "grid must be [%lld, <%d output dims>, %d]",
                         (long long)x->dims[0], r, r);
    int64_t dims[ONNORM_MAX_RANK] = {x->dims[0], x->dims[1]};
    for (int k = 0; k < r; k++)
        dims[2 + k] = g->dims[1 + k];
    if (onn_dims_numel(dims, 0, x->rank) < 0)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "the output's element count overflows");
    onn_set_output(ctx, 0, x->dtype, x->rank, dims);
    return ONNORM_OK;
}

static double gs_unnormalize(double v, int64_t size, bool align)
{
    return align ? (v + 1) / 2 * (double)(size - 1) : ((v + 1) * (double)size - 1) / 2;
}

/* PyTorch's reflect_coordinates: v mirrored into [lo2 / 2, hi2 / 2]. */
static double gs_reflect(double v, double lo2, double hi2)
{
    if (lo2 == hi2) return 0;
    const double lo = lo2 / 2, span = (hi2 - lo2) / 2;
    v = fabs(v - lo);
    const double extra = fmod(v, span);
    const int64_t flips = (int64_t)floor(v / span);
    return flips % 2 == 0 ? extra + lo : span - extra + lo;
}

/* The coordinate after padding (border / reflection); zeros leaves it. */
static double gs_pad_coord(const gs_cfg *c, double v, int64_t size)
{
    if (c->pad == GS_ZEROS) return v;
    if (c->pad == GS_REFLECTION) {
        v = c->align ? gs_reflect(v, 0, 2.0 * (double)(size - 1))
                     : gs_reflect(v, -1, 2.0 * (double)size - 1);
    }
    return fmin(fmax(v, 0), (double)(size - 1));
}

/* Cubic weight (A = -0.75) of tap k in 0..3 (at floor - 1 + k) for fraction u. */
static double gs_cubic_w(double u, int k)
{
    const double A = -0.75;
    const double d = fabs(u - (double)(k - 1));
    if (d <= 1) return ((A + 2) * d - (A + 3)) * d * d + 1;
    if (d < 2) return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
    return 0;
}

/* The spatial map being sampled: r axes of sizes size[] (row-major). */
typedef struct gs_map {
    const void *data;
    onnorm_dtype t;
    int64_t base;
    int r;
    const int64_t *size, *stride;
} gs_map;

/* Element at integer index idx[0..r), 0 outside the map. */
static double gs_at(const gs_map *m, const int64_t *idx)
{
    int64_t off = m->base;
    for (int a = 0; a < m->r; a++) {
        if (idx[a] < 0 || idx[a] >= m->size[a]) return 0.0;
        off += idx[a] * m->stride[a];
    }
    return ld(m->data, m->t, off);
}

/* One output element: the map sampled at normalized coordinates g[0..r)
 * (g[a] for spatial axis a). */
static double gs_sample(const gs_cfg *c, const gs_map *m, const double *g)
{
    const int r = m->r;
    double x[ONNORM_MAX_RANK], f[ONNORM_MAX_RANK], frac[ONNORM_MAX_RANK];
    int64_t idx[ONNORM_MAX_RANK];
    for (int a = 0; a < r; a++) {
        const double sz = (double)m->size[a];
        x[a] = gs_unnormalize(g[a], m->size[a], c->align);
        if (!isfinite(x[a])) return 0;
        /* far-out coordinates read only padding; keep them where floor is exact */
        x[a] = fmin(fmax(x[a], -4.0 * sz - 8), 5.0 * sz + 8);
        if (c->mode != GS_CUBIC) x[a] = gs_pad_coord(c, x[a], m->size[a]);
        f[a] = floor(x[a]);
        frac[a] = x[a] - f[a];
    }
    if (c->mode == GS_NEAREST) {
        for (int a = 0; a < r; a++)
            idx[a] = (int64_t)nearbyint(x[a]);
        return gs_at(m, idx);
    }
    /* linear: 2^r corners; cubic: 4^r taps, each index padded on its own */
    const int n = c->mode == GS_CUBIC ? 4 : 2;
    int tap[ONNORM_MAX_RANK] = {0};
    double acc = 0;
    for (;;) {
        double w = 1;
        for (int a = 0; a < r; a++) {
            if (n == 2) {
                w *= tap[a] ? frac[a] : 1 - frac[a];
                idx[a] = (int64_t)f[a] + tap[a];
            } else {
                w *= gs_cubic_w(frac[a], tap[a]);
                double xi = f[a] - 1 + tap[a];
                if (c->pad != GS_ZEROS) xi = gs_pad_coord(c, xi, m->size[a]);
                idx[a] = (int64_t)xi;
            }
        }
        if (w != 0) acc += w * gs_at(m, idx);
        int a = r - 1; /* next tap combination, last axis fastest */
        while (a >= 0 && ++tap[a] == n)
            tap[a--] = 0;
        if (a < 0) break;
    }
    return acc;
}

typedef struct gs_job {
    const gs_cfg *c;
    const onnorm_tensor *x, *g;
    void *out;
    const int64_t *stride;
    int64_t in_plane, out_plane;
} gs_job;

/* The output planes [p0, p1) (of N * C). */
static void gs_planes(void *arg, int64_t p0, int64_t p1, int worker)
{
    (void)worker;
    const gs_job *j = arg;
    const onnorm_tensor *x = j->x, *g = j->g;
    const int r = x->rank - 2;
    const int64_t C = x->dims[1], in_plane = j->in_plane, out_plane = j->out_plane;
    const onnorm_dtype t = x->dtype, gt = g->dtype;
    for (int64_t nc = p0; nc < p1; nc++) {
        const int64_t n = nc / C;
        const gs_map m = {x->data, t, nc * in_plane, r, x->dims + 2, j->stride};
        for (int64_t i = 0; i < out_plane; i++) {
            const int64_t gi = (n * out_plane + i) * r;
            double gc[ONNORM_MAX_RANK];
            for (int a = 0; a < r; a++) /* the grid lists x (last axis) first */
                gc[r - 1 - a] = ld(g->data, gt, gi + a);
            st(j->out, t, nc * out_plane + i, in_plane > 0 ? gs_sample(j->c, &m, gc) : 0.0);
        }
    }
}

static onnorm_status gs_run(onn_kctx *ctx)
{
    const gs_cfg *c = ctx->state;
    if (!ctx->out[0]) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0], *g = ctx->in[1];
    const int r = x->rank - 2;
    const int64_t N = x->dims[0], C = x->dims[1];
    const int64_t in_plane = onn_dims_numel(x->dims, 2, x->rank);
    const int64_t out_plane = onn_dims_numel(g->dims, 1, g->rank - 1);
    int64_t stride[ONNORM_MAX_RANK], sa = 1;
    for (int a = r - 1; a >= 0; a--) {
        stride[a] = sa;
        sa *= x->dims[2 + a];
    }
    const int nt = onn_threads_for(ctx, N * C * out_plane * 8, N * C);
    gs_job j = {c, x, g, ctx->out[0]->data, stride, in_plane, out_plane};
    onn_parallel_range(nt, N * C, gs_planes, &j);
    return ONNORM_OK;
}

/* ==== table ==================================================================== */

#define NMS_KERNEL(ver)                                                                            \
    {                                                                                              \
        ONN_KERNEL("", "NonMaxSuppression", ver, 2, 5, 1, 1, nms_infer, nms_prepare, nms_run),     \
            .config = nms_config, .state_size = sizeof(nms_cfg), .types = ONN_T(ONNORM_FLOAT)      \
    }
#define ROI_KERNEL(ver, types_, widens_)                                                           \
    {                                                                                              \
        ONN_KERNEL("", "RoiAlign", ver, 3, 3, 1, 1, roi_infer, NULL, roi_run),                     \
            .config = roi_config, .state_size = sizeof(roi_cfg), .types = (types_),                \
            .widens = (widens_)                                                                    \
    }
#define GS_KERNEL(ver, types_, widens_)                                                            \
    {                                                                                              \
        ONN_KERNEL("", "GridSample", ver, 2, 2, 1, 1, gs_infer, NULL, gs_run),                     \
            .config = gs_config, .state_size = sizeof(gs_cfg), .types = (types_),                  \
            .widens = (widens_)                                                                    \
    }

/* Opset 22 adds bfloat16 to RoiAlign and GridSample. */
ONN_KERNEL_TABLE(vision, NMS_KERNEL(10), NMS_KERNEL(11), ROI_KERNEL(10, VI_FLOATS, false),
                 ROI_KERNEL(16, VI_FLOATS, false), ROI_KERNEL(22, ONN_T_ALL_FLOATS, true),
                 GS_KERNEL(16, VI_FLOATS, false), GS_KERNEL(20, VI_FLOATS, false),
                 GS_KERNEL(22, ONN_T_ALL_FLOATS, true));
