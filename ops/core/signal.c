/*
 * Signal processing (reference kernels, all computed in float64):
 *
 *   HannWindow, HammingWindow, BlackmanWindow  17: scalar int32/int64 size,
 *        `periodic` (default 1), `output_datatype` (default float32; any
 *        float or integer type).
 *   DFT   17: `axis` attribute (default 1), optional dft_length input;
 *         20: axis as an optional third input (default -2);
 *         `inverse`, `onesided`; real ([..., 1]) or complex ([..., 2])
 *         input of float32/float64/float16/bfloat16.
 *   STFT  17: signal [batch, length, 1|2], frame_step, optional window and
 *         frame_length, `onesided` (default 1).
 *   MelWeightMatrix  17: num_mel_bins, dft_length, sample_rate (int32/int64
 *         scalars), lower/upper_edge_hertz (float scalars),
 *         `output_datatype` (default float32).
 *
 * Windows: w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size
 * when periodic, size - 1 when symmetric (Hann 0.5, 0.5, 0; Hamming 25/46,
 * 21/46, 0; Blackman 0.42, 0.5, 0.08). A symmetric window of size 1 would
 * divide by zero; it is [1] (numpy.hanning(1) gives the same). Integer
 * output types truncate toward zero.
 *
 * DFT is a radix-2 FFT when n is a power of 2 and otherwise the plain
 * O(n^2) sum with a table of twiddle factors, per line along the axis: X[k] = sum_t x[t] e^(-+2 pi
 * i k t / n), divided by n when inverse (numpy's ifft). dft_length n truncates or zero-pads the
 * signal. onesided keeps bins 0 .. n/2 and is refused for complex input (the spec says it is not
 * possible there). Axis may be negative (counted from the back) and must name a signal axis: not
 * the last (real/imaginary) one; opset 17 also allows 0 and negative values as opset 20 states.
 *
 * STFT frames the signal with frame_length (from the input, or else the
 * window's length; both given must agree), takes floor((length -
 * frame_length) / frame_step) + 1 frames, multiplies each by the window
 * (none: all ones) and takes its DFT of length frame_length.
 *
 * MelWeightMatrix follows ONNX's reference implementation (and the test
 * generator whose numbers the official test holds): num_mel_bins + 2 mel points
 * evenly spaced by (high_mel - low_mel) / (num_mel_bins + 2), mel = 2595
 * log10(1 + hz / 700) computed in float32, bin = floor((dft_length + 1) *
 * hz / sample_rate), then triangles rising from point i to i+1 and falling
 * to i+2. A bin outside [0, dft_length / 2] is refused with an error (the
 * reference would index out of range).
 *
 * Sizes that come from input values are bounded: window sizes and the mel
 * matrix to 2^28 elements, dft_length and frame_length to 2^24, DFT and
 * STFT outputs to 2^30 elements.
 */
#include "ops/core/elem.h"
#include "ops/core/threadpool.h"

#include <math.h>
#include <string.h>

#define ONN_SIGNAL_MAX ((int64_t)1 << 28)
#define ONN_DFT_MAX ((int64_t)1 << 24)
/* DFT and STFT outputs (their size depends on dft_length, frame_step). */
#define ONN_SIGNAL_OUT_MAX ((int64_t)1 << 30)
#define ONN_PI 3.14159265358979323846

#define T_SIG (ONN_T_HALF_FLOATS | ONN_T(ONNORM_BFLOAT16))
#define T_IDX (ONN_T(ONNORM_INT32) | ONN_T(ONNORM_INT64))

static const char *tname(onnorm_dtype t)
{
    const char *s = onnorm_dtype_name(t);
    return s ? s : "?";
}

/* A scalar int32/int64 input known while planning. */
static onnorm_status scalar_int(onn_kctx *ctx, int i, const char *what, int64_t *out)
{
    const void *v = onn_input_values(ctx, i, what);
    if (!v) return ONNORM_ERR_UNSUPPORTED; /* reported */
    const onnorm_tensor *t = ctx->in[i];
    if (!(ONN_T(t->dtype) & T_IDX) || onnorm_tensor_numel(t) != 1 || t->rank > 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "%s must be one int32 or int64 value, got %s of rank %d", what,
                         tname(t->dtype), t->rank);
    *out = onn_elem_load_int(t->dtype, v, 0);
    return ONNORM_OK;
}

static onnorm_status check_size(onn_kctx *ctx, const char *what, int64_t v, int64_t lo, int64_t hi)
{
    if (v < lo || v > hi)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s = %lld is out of range [%lld, %lld]", what,
                         (long long)v, (long long)lo, (long long)hi);
    return ONNORM_OK;
}

/* The element count of dims[0..rank) within ONN_SIGNAL_OUT_MAX. */
static onnorm_status check_out(onn_kctx *ctx, const int64_t *dims, int rank)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] && n > ONN_SIGNAL_OUT_MAX / dims[i])
            n = ONN_SIGNAL_OUT_MAX + 1;
        else
            n *= dims[i];
    }
    if (n > ONN_SIGNAL_OUT_MAX) {
        char s[128];
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "the output %s exceeds %lld elements",
                         onn_shape_str(dims, rank, s, sizeof s), (long long)ONN_SIGNAL_OUT_MAX);
    }
    return ONNORM_OK;
}

static onnorm_status out_dtype(onn_kctx *ctx, onnorm_dtype *dt)
{
    int64_t v;
    onnorm_status st = onn_kattr_int(ctx, "output_datatype", ONNORM_FLOAT, &v);
    if (st) return st;
    if (v < 0 || v > 31 || !(ONN_T((int)v) & ONN_T_ELEM)) {
        char buf[200];
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "output_datatype %lld is unsupported (supported: %s)", (long long)v,
                         onn_types_str(ONN_T_ELEM, buf, sizeof buf));
    }
    *dt = (onnorm_dtype)v;
    return ONNORM_OK;
}

/* ---- windows ------------------------------------------------------------------ */

typedef struct win_coef {
    double a0, a1, a2;
} win_coef;

static const win_coef HANN = {0.5, 0.5, 0.0};
static const win_coef HAMMING = {25.0 / 46.0, 21.0 / 46.0, 0.0};
static const win_coef BLACKMAN = {0.42, 0.5, 0.08};

typedef struct win_cfg {
    onnorm_dtype dt;
    int64_t periodic;
} win_cfg;

static onnorm_status win_config(onn_kctx *ctx)
{
    win_cfg *c = ctx->state;
    onnorm_status st = onn_kattr_int(ctx, "periodic", 1, &c->periodic);
    if (st) return st;
    if (c->periodic != 0 && c->periodic != 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "periodic must be 0 or 1, got %lld",
                         (long long)c->periodic);
    return out_dtype(ctx, &c->dt);
}

static onnorm_status win_infer(onn_kctx *ctx)
{
    const win_cfg *c = ctx->state;
    int64_t size;
    onnorm_status st;
    if ((st = scalar_int(ctx, 0, "size", &size)) ||
        (st = check_size(ctx, "size", size, 0, ONN_SIGNAL_MAX)))
        return st;
    onn_set_output(ctx, 0, c->dt, 1, &size);
    return ONNORM_OK;
}

static onnorm_status win_run(onn_kctx *ctx)
{
    const win_cfg *c = ctx->state;
    const win_coef *w = ctx->kernel->data;
    onnorm_tensor *y = ctx->out[0];
    const int64_t size = y->dims[0];
    const double N = (double)(c->periodic ? size : size - 1);
    for (int64_t n = 0; n < size; n++) {
        double v = 1.0;
        if (N > 0) {
            const double t = 2.0 * ONN_PI * (double)n / N;
            v = w->a0 - w->a1 * cos(t) + w->a2 * cos(2.0 * t);
        }
        onn_elem_store(c->dt, y->data, n, v);
    }
    return ONNORM_OK;
}

/* ---- DFT core ------------------------------------------------------------------ */

/* Twiddle table: tw[2j], tw[2j+1] = cos, sin of 2 pi j / n. */
static void twiddles(double *tw, int64_t n)
{
    for (int64_t j = 0; j < n; j++) {
        const double a = 2.0 * ONN_PI * (double)j / (double)n;
        tw[2 * j] = cos(a);
        tw[2 * j + 1] = sin(a);
    }
}

/* Radix-2 decimation in time for n a power of 2: out (2n doubles) receives
 * all n bins of in[0..len) zero-padded to n. */
static void fft_pow2(const double *in, int64_t len, int64_t n, const double *tw, bool inverse,
                     double *out)
{
    int bits = 0;
    while (((int64_t)1 << bits) < n)
        bits++;
    for (int64_t t = 0; t < n; t++) {
        int64_t r = 0;
        for (int b = 0; b < bits; b++)
            r |= ((t >> b) & 1) << (bits - 1 - b);
        out[2 * r] = t < len ? in[2 * t] : 0.0;
        out[2 * r + 1] = t < len ? in[2 * t + 1] : 0.0;
    }
    for (int64_t m = 2; m <= n; m <<= 1) {
        const int64_t half = m / 2, step = n / m;
        for (int64_t start = 0; start < n; start += m)
            for (int64_t j = 0; j < half; j++) {
                const double wr = tw[2 * j * step];
                const double wi = inverse ? tw[2 * j * step + 1] : -tw[2 * j * step + 1];
                double *u = out + 2 * (start + j), *v = out + 2 * (start + j + half);
                const double vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;
                v[0] = u[0] - vr, v[1] = u[1] - vi;
                u[0] += vr, u[1] += vi;
            }
    }
}

/* out[k] (k < nout, interleaved re/im; out holds 2n doubles) =
 * sum_{t < len} in[t] e^(-+2 pi i k t / n), scaled by `scale`. A power-of-2
 * n goes through the FFT, others through the direct sum. */
static void dft_line(const double *in, int64_t len, int64_t n, int64_t nout, const double *tw,
                     bool inverse, double scale, double *out)
{
    if (n >= 2 && (n & (n - 1)) == 0) {
        fft_pow2(in, len, n, tw, inverse, out);
        for (int64_t k = 0; k < 2 * nout; k++)
            out[k] *= scale;
        return;
    }
    for (int64_t k = 0; k < nout; k++) {
        double re = 0.0, im = 0.0;
        int64_t j = 0;
        for (int64_t t = 0; t < len; t++) {
            const double cr = tw[2 * j], s = inverse ? tw[2 * j + 1] : -tw[2 * j + 1];
            re += in[2 * t] * cr - in[2 * t + 1] * s;
            im += in[2 * t] * s + in[2 * t + 1] * cr;
            j += k;
            if (j >= n) j %= n;
        }
        out[2 * k] = re * scale;
        out[2 * k + 1] = im * scale;
    }
}

/* ---- DFT ------------------------------------------------------------------------ */

typedef struct dft_cfg {
    int axis;
    int64_t n, nout;
    bool inverse, onesided;
} dft_cfg;

static onnorm_status dft_config(onn_kctx *ctx)
{
    dft_cfg *c = ctx->state;
    const int ver = onn_kversion(ctx);
    int64_t inv = 0, one = 0, axis = ver >= 20 ? -2 : 1;
    onnorm_status st;
    if ((st = onn_kattr_int(ctx, "inverse", 0, &inv)) ||
        (st = onn_kattr_int(ctx, "onesided", 0, &one)) ||
        (ver < 20 && (st = onn_kattr_int(ctx, "axis", 1, &axis))))
        return st;
    if ((inv != 0 && inv != 1) || (one != 0 && one != 1))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "inverse and onesided must be 0 or 1");
    c->inverse = inv, c->onesided = one;
    const onnorm_tensor *x = ctx->in[0];
    char xs[128];
    if (!(ONN_T(x->dtype) & T_SIG)) return onn_check_float_input(ctx, 0, "input");
    if (x->rank < 2 || (x->dims[x->rank - 1] != 1 && x->dims[x->rank - 1] != 2))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "input %s must end in a dimension of 1 (real) or 2 (complex)",
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    if (ver >= 20 && onn_has_input(ctx, 2) && (st = scalar_int(ctx, 2, "axis", &axis))) return st;
    const int r = x->rank;
    if (axis < -r || axis > r - 2 || axis == -1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "axis %lld must name a signal axis of input %s ([%d, -2] or [0, %d])",
                         (long long)axis, onn_shape_str(x->dims, x->rank, xs, sizeof xs), -r,
                         r - 2);
    c->axis = (int)(axis < 0 ? axis + r : axis);
    c->n = x->dims[c->axis];
    if (onn_has_input(ctx, 1) && (st = scalar_int(ctx, 1, "dft_length", &c->n))) return st;
    if ((st = check_size(ctx, "dft_length", c->n, 1, ONN_DFT_MAX))) return st;
    if (c->onesided && x->dims[r - 1] == 2)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "onesided output needs a real input");
    c->nout = c->onesided ? c->n / 2 + 1 : c->n;
    int64_t d[ONNORM_MAX_RANK];
    memcpy(d, x->dims, sizeof d);
    d[c->axis] = c->nout;
    d[r - 1] = 2;
    return check_out(ctx, d, r);
}

static onnorm_status dft_infer(onn_kctx *ctx)
{
    const dft_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    int64_t d[ONNORM_MAX_RANK];
    memcpy(d, x->dims, sizeof d);
    d[c->axis] = c->nout;
    d[x->rank - 1] = 2;
    onn_set_output(ctx, 0, x->dtype, x->rank, d);
    return ONNORM_OK;
}

static onnorm_status dft_prepare(onn_kctx *ctx)
{
    const dft_cfg *c = ctx->state;
    size_t bytes;
    /* twiddles + per thread an input line and an output line */
    onnorm_status st =
        onn_kbytes(ctx, (size_t)c->n, (size_t)(2 + 4 * ctx->num_threads), sizeof(double), &bytes);
    if (!st) onn_kscratch_need(ctx, bytes);
    return st;
}

typedef struct dft_job {
    const dft_cfg *c;
    const onnorm_tensor *x;
    onnorm_tensor *y;
    double *tw; /* twiddles, then per worker an input and an output line */
    int64_t len, inner;
    double scale;
} dft_job;

/* The transforms of the lines [l0, l1) (of outer * inner). */
static void dft_lines(void *arg, int64_t l0, int64_t l1, int worker)
{
    const dft_job *j = arg;
    const dft_cfg *c = j->c;
    const onnorm_tensor *x = j->x;
    onnorm_tensor *y = j->y;
    const int64_t comp = x->dims[x->rank - 1], L = x->dims[c->axis], n = c->n, nout = c->nout;
    const int64_t len = j->len, inner = j->inner;
    double *in = j->tw + 2 * n + (int64_t)worker * 4 * n, *out = in + 2 * n;
    for (int64_t l = l0; l < l1; l++) {
        const int64_t o = l / inner, i = l % inner;
        for (int64_t t = 0; t < len; t++) {
            const int64_t xi = ((o * L + t) * inner + i) * comp;
            in[2 * t] = onn_elem_load(x->dtype, x->data, xi);
            in[2 * t + 1] = comp == 2 ? onn_elem_load(x->dtype, x->data, xi + 1) : 0.0;
        }
        dft_line(in, len, n, nout, j->tw, c->inverse, j->scale, out);
        for (int64_t k = 0; k < nout; k++) {
            const int64_t yi = ((o * nout + k) * inner + i) * 2;
            onn_elem_store(y->dtype, y->data, yi, out[2 * k]);
            onn_elem_store(y->dtype, y->data, yi + 1, out[2 * k + 1]);
        }
    }
}

static onnorm_status dft_run(onn_kctx *ctx)
{
    const dft_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    onnorm_tensor *y = ctx->out[0];
    const int r = x->rank;
    const int64_t L = x->dims[c->axis], n = c->n, nout = c->nout;
    const int64_t len = L < n ? L : n;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < c->axis; i++)
        outer *= x->dims[i];
    for (int i = c->axis + 1; i < r - 1; i++)
        inner *= x->dims[i];
    double *tw = ctx->scratch;
    twiddles(tw, n);
    const int64_t lines = outer * inner;
    const double scale = c->inverse ? 1.0 / (double)n : 1.0;
    const int nt = onn_threads_for(ctx, lines * n * nout, lines);
    dft_job j = {c, x, y, tw, len, inner, scale};
    onn_parallel_range(nt, lines, dft_lines, &j);
    return ONNORM_OK;
}

/* ---- STFT ----------------------------------------------------------------------- */

typedef struct stft_cfg {
    int64_t step, flen, frames, bins;
} stft_cfg;

static onnorm_status stft_config(onn_kctx *ctx)
{
    stft_cfg *c = ctx->state;
    int64_t one = 1;
    onnorm_status st = onn_kattr_int(ctx, "onesided", 1, &one);
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0], *w = onn_opt_input(ctx, 2);
    char xs[128];
    if (!(ONN_T(x->dtype) & T_SIG)) return onn_check_float_input(ctx, 0, "signal");
    if (x->rank != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "signal %s must be [batch, length, 1 (real) or 2 (complex)]",
                         onn_shape_str(x->dims, x->rank, xs, sizeof xs));
    if (one != 0 && one != 1) return onn_kfail(ctx, ONNORM_ERR_INVALID, "onesided must be 0 or 1");
    if (one && x->dims[2] == 2)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "onesided output needs a real signal");
    if ((st = scalar_int(ctx, 1, "frame_step", &c->step)) ||
        (st = check_size(ctx, "frame_step", c->step, 1, INT32_MAX)))
        return st;
    c->flen = -1;
    if (w) {
        if (w->rank != 1 || w->dtype != x->dtype)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "window must be a vector of signal's type");
        c->flen = w->dims[0];
    }
    if (onn_has_input(ctx, 3)) {
        int64_t fl;
        if ((st = scalar_int(ctx, 3, "frame_length", &fl))) return st;
        if (w && fl != c->flen)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "frame_length %lld disagrees with the window's length %lld",
                             (long long)fl, (long long)c->flen);
        c->flen = fl;
    }
    if (c->flen < 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "STFT needs a window or a frame_length");
    if ((st = check_size(ctx, "frame_length", c->flen, 1,
                         x->dims[1] < ONN_DFT_MAX ? x->dims[1] : ONN_DFT_MAX)))
        return st;
    c->frames = (x->dims[1] - c->flen) / c->step + 1;
    c->bins = one ? c->flen / 2 + 1 : c->flen;
    const int64_t d[4] = {x->dims[0], c->frames, c->bins, 2};
    return check_out(ctx, d, 4);
}

static onnorm_status stft_infer(onn_kctx *ctx)
{
    const stft_cfg *c = ctx->state;
    const int64_t d[4] = {ctx->in[0]->dims[0], c->frames, c->bins, 2};
    onn_set_output(ctx, 0, ctx->in[0]->dtype, 4, d);
    return ONNORM_OK;
}

static onnorm_status stft_prepare(onn_kctx *ctx)
{
    const stft_cfg *c = ctx->state;
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)c->flen, (size_t)(2 + 4 * ctx->num_threads),
                                  sizeof(double), &bytes);
    if (!st) onn_kscratch_need(ctx, bytes);
    return st;
}

typedef struct stft_job {
    const stft_cfg *c;
    const onnorm_tensor *x, *w;
    onnorm_tensor *y;
    double *tw; /* twiddles, then per worker an input and an output line */
} stft_job;

/* The frames [l0, l1) (of batch * frames). */
static void stft_lines(void *arg, int64_t l0, int64_t l1, int worker)
{
    const stft_job *j = arg;
    const stft_cfg *c = j->c;
    const onnorm_tensor *x = j->x, *w = j->w;
    onnorm_tensor *y = j->y;
    const int64_t n = c->flen, comp = x->dims[2], len = x->dims[1];
    double *in = j->tw + 2 * n + (int64_t)worker * 4 * n, *out = in + 2 * n;
    for (int64_t l = l0; l < l1; l++) {
        const int64_t b = l / c->frames, f = l % c->frames;
        for (int64_t t = 0; t < n; t++) {
            const int64_t xi = (b * len + f * c->step + t) * comp;
            const double wv = w ? onn_elem_load(w->dtype, w->data, t) : 1.0;
            in[2 * t] = onn_elem_load(x->dtype, x->data, xi) * wv;
            in[2 * t + 1] = comp == 2 ? onn_elem_load(x->dtype, x->data, xi + 1) * wv : 0.0;
        }
        dft_line(in, n, n, c->bins, j->tw, false, 1.0, out);
        for (int64_t k = 0; k < 2 * c->bins; k++)
            onn_elem_store(y->dtype, y->data, l * 2 * c->bins + k, out[k]);
    }
}

static onnorm_status stft_run(onn_kctx *ctx)
{
    const stft_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0], *w = onn_opt_input(ctx, 2);
    onnorm_tensor *y = ctx->out[0];
    const int64_t n = c->flen, lines = x->dims[0] * c->frames;
    double *tw = ctx->scratch;
    twiddles(tw, n);
    const int nt = onn_threads_for(ctx, lines * n * c->bins, lines);
    stft_job j = {c, x, w, y, tw};
    onn_parallel_range(nt, lines, stft_lines, &j);
    return ONNORM_OK;
}

/* ---- MelWeightMatrix ---------------------------------------------------------- */

typedef struct mel_cfg {
    onnorm_dtype dt;
    int64_t mels, dft_len, rate;
} mel_cfg;

/* The sizes come from input values, read here so prepare sees them too. */
static onnorm_status mel_config(onn_kctx *ctx)
{
    mel_cfg *c = ctx->state;
    onnorm_status st;
    if ((st = out_dtype(ctx, &c->dt)) || (st = scalar_int(ctx, 0, "num_mel_bins", &c->mels)) ||
        (st = scalar_int(ctx, 1, "dft_length", &c->dft_len)) ||
        (st = scalar_int(ctx, 2, "sample_rate", &c->rate)) ||
        (st = check_size(ctx, "num_mel_bins", c->mels, 1, ONN_DFT_MAX)) ||
        (st = check_size(ctx, "dft_length", c->dft_len, 1, ONN_DFT_MAX)) ||
        (st = check_size(ctx, "sample_rate", c->rate, 1, INT32_MAX)))
        return st;
    for (int i = 3; i < 5; i++) {
        const onnorm_tensor *t = ctx->in[i];
        if (!(ONN_T(t->dtype) & T_SIG) || onnorm_tensor_numel(t) != 1 || t->rank > 1)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s must be one float value",
                             i == 3 ? "lower_edge_hertz" : "upper_edge_hertz");
    }
    if ((c->dft_len / 2 + 1) * c->mels > ONN_SIGNAL_MAX)
        return onn_kfail(
            ctx, ONNORM_ERR_INVALID, "the mel weight matrix [%lld, %lld] exceeds %lld elements",
            (long long)(c->dft_len / 2 + 1), (long long)c->mels, (long long)ONN_SIGNAL_MAX);
    return ONNORM_OK;
}

static onnorm_status mel_infer(onn_kctx *ctx)
{
    const mel_cfg *c = ctx->state;
    const int64_t d[2] = {c->dft_len / 2 + 1, c->mels};
    onn_set_output(ctx, 0, c->dt, 2, d);
    return ONNORM_OK;
}

static onnorm_status mel_prepare(onn_kctx *ctx)
{
    const mel_cfg *c = ctx->state;
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)c->mels + 2, sizeof(int64_t), 1, &bytes);
    if (!st) onn_kscratch_need(ctx, bytes);
    return st;
}

static onnorm_status mel_run(onn_kctx *ctx)
{
    const mel_cfg *c = ctx->state;
    const onnorm_tensor *y = ctx->out[0], *tl = ctx->in[3], *th = ctx->in[4];
    const int64_t bins = y->dims[0], mels = y->dims[1], dft_len = c->dft_len, rate = c->rate;
    const float lo = (float)onn_elem_load(tl->dtype, tl->data, 0);
    const float hi = (float)onn_elem_load(th->dtype, th->data, 0);
    const float lo_mel = 2595.0f * log10f(1.0f + lo / 700.0f);
    const float hi_mel = 2595.0f * log10f(1.0f + hi / 700.0f);
    const float step = (hi_mel - lo_mel) / (float)(mels + 2);
    int64_t *fb = ctx->scratch;
    for (int64_t i = 0; i < mels + 2; i++) {
        const double mel = (double)i * (double)step + (double)lo_mel;
        const double hz = 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
        const double b = floor((double)(dft_len + 1) * hz / (double)rate);
        /* The last point only bounds the last triangle (exclusive). */
        const int64_t top = i == mels + 1 ? bins : bins - 1;
        if (!(b >= 0 && b <= (double)top))
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "mel point %lld falls on frequency bin %g, outside [0, %lld]",
                             (long long)i, b, (long long)top);
        fb[i] = (int64_t)b;
    }
    const size_t esz = onnorm_dtype_size(y->dtype);
    memset(y->data, 0, (size_t)(bins * mels) * esz);
    for (int64_t i = 0; i < mels; i++) {
        const int64_t l = fb[i], m = fb[i + 1], h = fb[i + 2];
        if (m == l)
            onn_elem_store(y->dtype, y->data, m * mels + i, 1.0);
        else
            for (int64_t j = l; j <= m; j++)
                onn_elem_store(y->dtype, y->data, j * mels + i, (double)(j - l) / (double)(m - l));
        if (h > m)
            for (int64_t j = m; j < h; j++)
                onn_elem_store(y->dtype, y->data, j * mels + i, (double)(h - j) / (double)(h - m));
    }
    return ONNORM_OK;
}

/* ---- table ---------------------------------------------------------------------- */

#define WINDOW(name, coef)                                                                         \
    {                                                                                              \
        ONN_KERNEL("", name, 17, 1, 1, 1, 1, win_infer, NULL, win_run),                            \
            .config = win_config, .state_size = sizeof(win_cfg), .types = T_IDX, .data = &(coef)   \
    }

ONN_KERNEL_TABLE(signal, WINDOW("HannWindow", HANN), WINDOW("HammingWindow", HAMMING),
                 WINDOW("BlackmanWindow", BLACKMAN),
                 {ONN_KERNEL("", "DFT", 17, 1, 2, 1, 1, dft_infer, dft_prepare, dft_run),
                  .config = dft_config, .state_size = sizeof(dft_cfg), .types = T_SIG},
                 {ONN_KERNEL("", "DFT", 20, 1, 3, 1, 1, dft_infer, dft_prepare, dft_run),
                  .config = dft_config, .state_size = sizeof(dft_cfg), .types = T_SIG},
                 {ONN_KERNEL("", "STFT", 17, 2, 4, 1, 1, stft_infer, stft_prepare, stft_run),
                  .config = stft_config, .state_size = sizeof(stft_cfg), .types = T_SIG},
                 {ONN_KERNEL("", "MelWeightMatrix", 17, 5, 5, 1, 1, mel_infer, mel_prepare,
                             mel_run),
                  .config = mel_config, .state_size = sizeof(mel_cfg), .types = T_IDX});
