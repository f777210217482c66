/*
 * The operator-level API (include/onnorm_ops.h).
 *
 * Every op the API accepts is run, in every element type its kernel takes,
 * on seeded data, and checked
 *   - against an independent float64 reference: tests/refnorm.h where it
 *     has the op, else the spec's formula written out below (naive loops,
 *     population variance, mean first);
 *   - bitwise against the same node run by a session (a one-node model
 *     from tests/builder.h: the activations graph inputs, the parameters
 *     initializers, the same attributes, opset and thread count), which is
 *     what "the same numerics as inside a session" promises.
 * Then the API's errors (unknown op, opset, attribute names, kinds and
 * values, arities, shapes, types, missing data, overlapping buffers), the
 * shape-reporting flow, bind, and that runs after setup allocate nothing
 * observable (a run reads new activation values, not setup's).
 *
 * Half types are converted here with the compiler's _Float16 and a
 * round-to-nearest-even bfloat16 rounding, not with the library's helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"
#include "onnorm_ops.h"
#include "refnorm.h"

/* ---- element types -------------------------------------------------------- */

static uint16_t to_bf16(double v)
{
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static double from_bf16(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static size_t esize(onnorm_dtype t)
{
    switch (t) {
    case ONNORM_FLOAT16:
    case ONNORM_BFLOAT16: return 2;
    case ONNORM_FLOAT:
    case ONNORM_INT32: return 4;
    default: return 8;
    }
}

/* float16 by the compiler where it has _Float16 (gcc); else (clang 14 on
 * x86) by hand: through float, round to nearest even. */
#ifdef __FLT16_MAX__
static uint16_t f16_from(double v)
{
    _Float16 h = (_Float16)v;
    uint16_t b;
    memcpy(&b, &h, 2);
    return b;
}
static double f16_to(uint16_t b)
{
    _Float16 h;
    memcpy(&h, &b, 2);
    return (double)h;
}
#else
static uint16_t f16_from(double v)
{
    float f = (float)v;
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    x &= 0x7FFFFFFF;
    if (x > 0x7F800000) return sign | 0x7E00;  /* NaN */
    if (x >= 0x477FF000) return sign | 0x7C00; /* rounds past 65504: inf */
    if (x < 0x38800000) {                      /* below 2^-14: subnormal or 0 */
        memcpy(&f, &x, 4);
        return (uint16_t)(sign | (uint16_t)lrintf(f * 16777216.0f));
    }
    x -= 0x38000000; /* exponent bias 127 -> 15 */
    return (uint16_t)(sign | ((x + 0x0FFF + ((x >> 13) & 1)) >> 13));
}
static double f16_to(uint16_t b)
{
    const int e = (b >> 10) & 0x1F, m = b & 0x3FF;
    const double s = (b >> 15) ? -1.0 : 1.0;
    if (e == 0) return s * ldexp(m, -24);
    if (e == 31) return m ? NAN : s * INFINITY;
    return s * ldexp(m + 1024, e - 25);
}
#endif

static void store(onnorm_dtype t, void *p, int64_t i, double v)
{
    switch (t) {
    case ONNORM_FLOAT: ((float *)p)[i] = (float)v; break;
    case ONNORM_DOUBLE: ((double *)p)[i] = v; break;
    case ONNORM_FLOAT16: ((uint16_t *)p)[i] = f16_from(v); break;
    case ONNORM_BFLOAT16: ((uint16_t *)p)[i] = to_bf16(v); break;
    case ONNORM_INT32: ((int32_t *)p)[i] = (int32_t)lround(v); break;
    case ONNORM_INT64: ((int64_t *)p)[i] = (int64_t)llround(v); break;
    default: fail_msg("store: type %d", (int)t);
    }
}

static double load(onnorm_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case ONNORM_FLOAT: return ((const float *)p)[i];
    case ONNORM_DOUBLE: return ((const double *)p)[i];
    case ONNORM_FLOAT16: return f16_to(((const uint16_t *)p)[i]);
    case ONNORM_BFLOAT16: return from_bf16(((const uint16_t *)p)[i]);
    case ONNORM_INT32: return ((const int32_t *)p)[i];
    case ONNORM_INT64: return (double)((const int64_t *)p)[i];
    default: fail_msg("load: type %d", (int)t);
    }
    return 0;
}

/* Relative tolerance of an output of type t against the float64 reference. */
static double tol_of(onnorm_dtype t)
{
    switch (t) {
    case ONNORM_DOUBLE: return 1e-12;
    case ONNORM_FLOAT16: return 2e-3;
    case ONNORM_BFLOAT16: return 1.2e-2;
    case ONNORM_FLOAT: return 3e-6;
    default: return 0;
    }
}

/* ---- the cases -------------------------------------------------------------- */

enum { F32 = 1, F64 = 2, F16 = 4, BF16 = 8, I32 = 16, I64 = 32 };
static const onnorm_dtype type_of_bit[] = {ONNORM_FLOAT,    ONNORM_DOUBLE, ONNORM_FLOAT16,
                                           ONNORM_BFLOAT16, ONNORM_INT32,  ONNORM_INT64};
#define HALF_FLOATS (F32 | F64 | F16)
#define ALL_FLOATS (F32 | F64 | F16 | BF16)

/* How an input's values are drawn. */
enum { D_NORMAL = 0, D_POSITIVE, D_OMIT };

typedef struct in_spec {
    int rank;
    int64_t dims[5];
    int dist;
} in_spec;

typedef struct tcase tcase;
/* Computes the n_out outputs in float64 from the inputs as the kernel reads
 * them (already rounded to the element type). */
typedef void (*ref_fn)(const tcase *c, double *const *in, double **out);

struct tcase {
    const char *name, *domain, *op;
    int opset;
    unsigned types;
    int n_attrs;
    onnorm_attr attrs[4];
    int n_in;
    in_spec in[5];
    int n_out;
    ref_fn ref;
    float eps;   /* the epsilon attribute (the kernels widen the float to double) */
    int64_t aux; /* op-specific: axis, groups, p, size... */
};

static int64_t numel_of(const in_spec *s)
{
    return rn_prod(s->dims, 0, s->rank);
}

/* ---- references --------------------------------------------------------------- */

static void ref_bn(const tcase *c, double *const *in, double **out)
{
    ref_bn_infer(in[0], c->in[0].rank, c->in[0].dims, 1, in[1], in[2], in[3], in[4], c->eps,
                 out[0]);
}

static void ref_bn_training(const tcase *c, double *const *in, double **out)
{
    ref_bn_train(in[0], c->in[0].rank, c->in[0].dims, in[1], in[2], in[3], in[4], c->eps,
                 (double)0.9f, out[0], out[1], out[2], NULL, NULL);
}

/* BatchNormalization-9 with every output requested: training, with the
 * batch mean and variance as outputs 3 and 4. */
static void ref_bn9_training(const tcase *c, double *const *in, double **out)
{
    ref_bn_train(in[0], c->in[0].rank, c->in[0].dims, in[1], in[2], in[3], in[4], c->eps,
                 (double)0.9f, out[0], out[1], out[2], out[3], out[4]);
}

static void ref_in(const tcase *c, double *const *in, double **out)
{
    ref_instancenorm(in[0], c->in[0].rank, c->in[0].dims, in[1], in[2], c->eps, out[0]);
}

/* LayerNormalization with Scale / B of the normalized shape. */
static void ref_ln(const tcase *c, double *const *in, double **out)
{
    ref_layernorm(in[0], c->in[0].rank, c->in[0].dims, (int)c->aux, in[1],
                  c->n_in > 2 ? in[2] : NULL, c->eps, out[0], c->n_out > 1 ? out[1] : NULL,
                  c->n_out > 2 ? out[2] : NULL);
}

/* ChannelLayerNormalization: at every (image, position), over the channels. */
static void ref_cln(const tcase *c, double *const *in, double **out)
{
    const in_spec *x = &c->in[0];
    const int64_t n = x->dims[0], ch = x->dims[1], plane = rn_prod(x->dims, 2, x->rank);
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = 0; p < plane; p++) {
            double mean = 0.0, var = 0.0;
            for (int64_t k = 0; k < ch; k++)
                mean += in[0][(i * ch + k) * plane + p];
            mean /= (double)ch;
            for (int64_t k = 0; k < ch; k++) {
                const double d = in[0][(i * ch + k) * plane + p] - mean;
                var += d * d;
            }
            const double inv = 1.0 / sqrt(var / (double)ch + c->eps);
            for (int64_t k = 0; k < ch; k++) {
                const int64_t at = (i * ch + k) * plane + p;
                out[0][at] = (in[0][at] - mean) * inv * in[1][k] + in[2][k];
            }
        }
}

static void ref_gn(const tcase *c, double *const *in, double **out)
{
    ref_groupnorm(in[0], c->in[0].rank, c->in[0].dims, c->aux,
                  c->opset >= 21 || c->domain[0] ? 21 : 18, in[1], in[2], c->eps, out[0]);
}

/* y = x / sqrt(mean(x^2) + eps) * scale over rows of prod(dims[axis:]). */
static void ref_rms(const tcase *c, double *const *in, double **out)
{
    const in_spec *x = &c->in[0];
    int axis = (int)(c->aux < 0 ? c->aux + x->rank : c->aux);
    int64_t m = rn_prod(x->dims, axis, x->rank), rows = rn_prod(x->dims, 0, axis);
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = in[0] + r * m;
        double ss = 0;
        for (int64_t j = 0; j < m; j++)
            ss += xr[j] * xr[j];
        double inv = 1.0 / sqrt(ss / (double)m + c->eps);
        for (int64_t j = 0; j < m; j++)
            out[0][r * m + j] = xr[j] * inv * in[1][j];
        if (c->n_out > 1) out[1][r] = inv;
    }
}

/* MVN over axes [0, 2, 3] of a 4-D X, as its function body:
 * (x - E[x]) / (sqrt(E[(x - E[x])^2]) + 1e-9). */
static void ref_mvn(const tcase *c, double *const *in, double **out)
{
    const int64_t *d = c->in[0].dims;
    const int64_t N = d[0], C = d[1], S = d[2] * d[3];
    for (int64_t ch = 0; ch < C; ch++) {
        double mean = 0, var = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++)
                mean += in[0][(n * C + ch) * S + s];
        mean /= (double)(N * S);
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++) {
                double v = in[0][(n * C + ch) * S + s] - mean;
                var += v * v;
            }
        double den = sqrt(var / (double)(N * S)) + 1e-9;
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++) {
                int64_t i = (n * C + ch) * S + s;
                out[0][i] = (in[0][i] - mean) / den;
            }
    }
}

/* LpNormalization along axis 1 of a 3-D X, p = aux. */
static void ref_lp(const tcase *c, double *const *in, double **out)
{
    const int64_t *d = c->in[0].dims;
    for (int64_t a = 0; a < d[0]; a++)
        for (int64_t k = 0; k < d[2]; k++) {
            double norm = 0;
            for (int64_t j = 0; j < d[1]; j++) {
                double v = in[0][(a * d[1] + j) * d[2] + k];
                norm += c->aux == 1 ? fabs(v) : v * v;
            }
            if (c->aux == 2) norm = sqrt(norm);
            for (int64_t j = 0; j < d[1]; j++) {
                int64_t i = (a * d[1] + j) * d[2] + k;
                out[0][i] = norm == 0 ? 0 : in[0][i] / norm;
            }
        }
}

/* LRN with size aux, alpha 2e-4, beta 0.75, bias 1.5 (the attributes the
 * case gives). */
static void ref_lrn(const tcase *c, double *const *in, double **out)
{
    const int64_t *d = c->in[0].dims;
    const int64_t N = d[0], C = d[1], S = rn_prod(d, 2, c->in[0].rank), size = c->aux;
    const double alpha = 2e-4f, beta = 0.75f, bias = 1.5f;
    for (int64_t n = 0; n < N; n++)
        for (int64_t ch = 0; ch < C; ch++)
            for (int64_t s = 0; s < S; s++) {
                int64_t lo = ch - (size - 1) / 2, hi = ch + size / 2;
                double sq = 0;
                for (int64_t k = lo < 0 ? 0 : lo; k <= (hi > C - 1 ? C - 1 : hi); k++) {
                    double v = in[0][(n * C + k) * S + s];
                    sq += v * v;
                }
                int64_t i = (n * C + ch) * S + s;
                out[0][i] = in[0][i] / pow(bias + alpha / (double)size * sq, beta);
            }
}

/* SkipLayerNormalization (aux 0) and SkipSimplified (aux 1): per row of H,
 * s = input + skip + bias; outputs y, mean, inv_std, s. */
static void ref_skip(const tcase *c, double *const *in, double **out)
{
    const in_spec *x = &c->in[0];
    const bool simple = c->aux == 1;
    const int64_t h = x->dims[x->rank - 1], rows = numel_of(x) / h;
    const double *gamma = in[2], *beta = simple ? NULL : in[3], *bias = in[simple ? 3 : 4];
    double *s = malloc((size_t)h * sizeof *s);
    for (int64_t r = 0; r < rows; r++) {
        double mean = 0, var = 0;
        for (int64_t j = 0; j < h; j++) {
            s[j] = in[0][r * h + j] + in[1][r * h + j] + bias[j];
            mean += s[j];
        }
        mean /= (double)h;
        for (int64_t j = 0; j < h; j++)
            var += simple ? s[j] * s[j] : (s[j] - mean) * (s[j] - mean);
        double inv = 1.0 / sqrt(var / (double)h + c->eps);
        for (int64_t j = 0; j < h; j++) {
            double y = simple ? s[j] * inv * gamma[j] : (s[j] - mean) * inv * gamma[j] + beta[j];
            out[0][r * h + j] = y;
            if (c->n_out > 3) out[3][r * h + j] = s[j];
        }
        if (c->n_out > 1) out[1][r] = mean;
        if (c->n_out > 2) out[2][r] = inv;
    }
    free(s);
}

/* The ai.onnorm forms: the norm, then Relu. */
static void ref_relu_after(const tcase *c, ref_fn norm, double *const *in, double **out)
{
    norm(c, in, out);
    int64_t n = numel_of(&c->in[0]);
    for (int64_t i = 0; i < n; i++)
        out[0][i] = out[0][i] > 0 ? out[0][i] : 0;
}
static void ref_bn_relu(const tcase *c, double *const *in, double **out)
{
    ref_relu_after(c, ref_bn, in, out);
}
static void ref_in_relu(const tcase *c, double *const *in, double **out)
{
    ref_relu_after(c, ref_in, in, out);
}
static void ref_gn_relu(const tcase *c, double *const *in, double **out)
{
    ref_relu_after(c, ref_gn, in, out);
}

/* Scaler with offset {0.5, -1, 2} and scale {2, 0.25, -1} on [N, 3]. */
static void ref_scaler(const tcase *c, double *const *in, double **out)
{
    static const double off[3] = {0.5, -1, 2}, sc[3] = {2, 0.25, -1};
    int64_t n = numel_of(&c->in[0]);
    for (int64_t i = 0; i < n; i++)
        out[0][i] = (in[0][i] - off[i % 3]) * sc[i % 3];
}

/* Normalizer "L2" per row of [N, C]. */
static void ref_normalizer(const tcase *c, double *const *in, double **out)
{
    const int64_t N = c->in[0].dims[0], C = c->in[0].dims[1];
    for (int64_t r = 0; r < N; r++) {
        double ss = 0;
        for (int64_t j = 0; j < C; j++)
            ss += in[0][r * C + j] * in[0][r * C + j];
        for (int64_t j = 0; j < C; j++)
            out[0][r * C + j] = ss == 0 ? 0 : in[0][r * C + j] / sqrt(ss);
    }
}

static const float scaler_off[3] = {0.5f, -1, 2}, scaler_scale[3] = {2, 0.25f, -1};
static const int64_t mvn_axes[3] = {0, 2, 3};

#define X4                                                                                         \
    {                                                                                              \
        4, {2, 6, 3, 5}, D_NORMAL                                                                  \
    }
#define V(n)                                                                                       \
    {                                                                                              \
        1, {n}, D_NORMAL                                                                           \
    }
#define VPOS(n)                                                                                    \
    {                                                                                              \
        1, {n}, D_POSITIVE                                                                         \
    }
/* Attributes as constant initializers (the header's helpers are functions). */
#define AI(n, v)                                                                                   \
    {                                                                                              \
        .name = (n), .type = ONNORM_ATTR_INT, .i = (v)                                             \
    }
#define AF(n, v)                                                                                   \
    {                                                                                              \
        .name = (n), .type = ONNORM_ATTR_FLOAT, .f = (v)                                           \
    }
#define AS(n, v)                                                                                   \
    {                                                                                              \
        .name = (n), .type = ONNORM_ATTR_STRING, .s = (v)                                          \
    }
#define AINTS(nm, v, k)                                                                            \
    {                                                                                              \
        .name = (nm), .type = ONNORM_ATTR_INTS, .ints = (v), .n = (k)                              \
    }
#define AFLOATS(nm, v, k)                                                                          \
    {                                                                                              \
        .name = (nm), .type = ONNORM_ATTR_FLOATS, .floats = (v), .n = (k)                          \
    }
#define EPS(e) AF("epsilon", e)

/* Fields: name, domain, op, opset, types; attributes; inputs; outputs
 * requested; reference, its epsilon, its op-specific number. */
// clang-format off
static const tcase cases[] = {
    {"bn15", "", "BatchNormalization", 15, ALL_FLOATS, 1, {EPS(1e-3f)},
     5, {X4, V(6), V(6), V(6), VPOS(6)}, 1, ref_bn, 1e-3f, 0},
    {"bn9", "", "BatchNormalization", 9, HALF_FLOATS, 0, {{0}},
     5, {X4, V(6), V(6), V(6), VPOS(6)}, 1, ref_bn, 1e-5f, 0},
    {"bn15_training", "", "BatchNormalization", 15, ALL_FLOATS, 2, {EPS(1e-4f), AI("training_mode", 1)},
     5, {X4, V(6), V(6), V(6), VPOS(6)}, 3, ref_bn_training, 1e-4f, 0},
    {"bn9_training", "", "BatchNormalization", 9, HALF_FLOATS, 0, {{0}},
     5, {X4, V(6), V(6), V(6), VPOS(6)}, 5, ref_bn9_training, 1e-5f, 0},
    {"instancenorm22", "", "InstanceNormalization", 22, ALL_FLOATS, 1, {EPS(1e-4f)},
     3, {X4, V(6), V(6)}, 1, ref_in, 1e-4f, 0},
    {"instancenorm6", "", "InstanceNormalization", 6, HALF_FLOATS, 0, {{0}},
     3, {X4, V(6), V(6)}, 1, ref_in, 1e-5f, 0},
    {"layernorm17", "", "LayerNormalization", 17, ALL_FLOATS, 2, {AI("axis", -2), EPS(1e-4f)},
     3, {{3, {4, 5, 24}, D_NORMAL}, {2, {5, 24}, D_NORMAL}, {2, {5, 24}, D_NORMAL}}, 3, ref_ln, 1e-4f, -2},
    {"layernorm17_nobias", "", "LayerNormalization", 17, ALL_FLOATS, 0, {{0}},
     2, {{2, {7, 33}, D_NORMAL}, V(33)}, 1, ref_ln, 1e-5f, -1},
    {"ms_layernorm", "com.microsoft", "LayerNormalization", 1, ALL_FLOATS, 1, {EPS(1e-5f)},
     3, {{3, {2, 3, 16}, D_NORMAL}, V(16), V(16)}, 1, ref_ln, 1e-5f, -1},
    {"rmsnorm23", "", "RMSNormalization", 23, ALL_FLOATS, 1, {EPS(1e-6f)},
     2, {{3, {2, 5, 40}, D_NORMAL}, V(40)}, 1, ref_rms, 1e-6f, -1},
    {"simplified_ln", "", "SimplifiedLayerNormalization", 1, ALL_FLOATS, 1, {EPS(1e-5f)},
     2, {{2, {6, 32}, D_NORMAL}, V(32)}, 2, ref_rms, 1e-5f, -1},
    {"ms_simplified_ln", "com.microsoft", "SimplifiedLayerNormalization", 1, ALL_FLOATS, 0, {{0}},
     2, {{2, {6, 32}, D_NORMAL}, V(32)}, 1, ref_rms, 1e-5f, -1},
    {"groupnorm21", "", "GroupNormalization", 21, ALL_FLOATS, 2, {AI("num_groups", 3), EPS(1e-5f)},
     3, {X4, V(6), V(6)}, 1, ref_gn, 1e-5f, 3},
    {"groupnorm18", "", "GroupNormalization", 18, ALL_FLOATS, 1, {AI("num_groups", 2)},
     3, {X4, V(2), V(2)}, 1, ref_gn, 1e-5f, 2},
    {"mvn13", "", "MeanVarianceNormalization", 13, ALL_FLOATS, 1, {AINTS("axes", mvn_axes, 3)},
     1, {X4}, 1, ref_mvn, 0, 0},
    {"mvn9", "", "MeanVarianceNormalization", 9, HALF_FLOATS, 0, {{0}},
     1, {X4}, 1, ref_mvn, 0, 0},
    {"lpnorm22_l2", "", "LpNormalization", 22, ALL_FLOATS, 1, {AI("axis", 1)},
     1, {{3, {3, 7, 4}, D_NORMAL}}, 1, ref_lp, 0, 2},
    {"lpnorm1_l1", "", "LpNormalization", 1, HALF_FLOATS, 2, {AI("axis", 1), AI("p", 1)},
     1, {{3, {3, 7, 4}, D_NORMAL}}, 1, ref_lp, 0, 1},
    {"lrn13", "", "LRN", 13, ALL_FLOATS, 4,
     {AI("size", 4), AF("alpha", 2e-4f), AF("beta", 0.75f), AF("bias", 1.5f)},
     1, {X4}, 1, ref_lrn, 0, 4},
    {"skip_ln", "com.microsoft", "SkipLayerNormalization", 1, ALL_FLOATS, 1, {EPS(1e-5f)},
     5, {{3, {2, 3, 16}, D_NORMAL}, {3, {2, 3, 16}, D_NORMAL}, V(16), V(16), V(16)}, 4, ref_skip, 1e-5f, 0},
    {"skip_simplified_ln", "com.microsoft", "SkipSimplifiedLayerNormalization", 1, ALL_FLOATS, 1, {EPS(1e-6f)},
     4, {{2, {5, 24}, D_NORMAL}, {2, {5, 24}, D_NORMAL}, V(24), V(24)}, 1, ref_skip, 1e-6f, 1},
    {"onnorm_bn_relu", "ai.onnorm", "BatchNormalization", 1, F32, 1, {AS("activation", "Relu")},
     5, {X4, V(6), V(6), V(6), VPOS(6)}, 1, ref_bn_relu, 1e-5f, 0},
    {"onnorm_in_relu", "ai.onnorm", "InstanceNormalization", 1, F32, 1, {AS("activation", "Relu")},
     3, {X4, V(6), V(6)}, 1, ref_in_relu, 1e-5f, 0},
    {"onnorm_gn_relu", "ai.onnorm", "GroupNormalization", 1, F32, 2,
     {AI("num_groups", 3), AS("activation", "Relu")},
     3, {X4, V(6), V(6)}, 1, ref_gn_relu, 1e-5f, 3},
    {"onnorm_channel_ln", "ai.onnorm", "ChannelLayerNormalization", 1, F32, 1, {EPS(1e-4f)},
     3, {X4, V(6), V(6)}, 1, ref_cln, 1e-4f, 0},
    {"ml_scaler", "ai.onnx.ml", "Scaler", 1, F32 | F64 | I32 | I64, 2,
     {AFLOATS("offset", scaler_off, 3), AFLOATS("scale", scaler_scale, 3)},
     1, {{2, {4, 3}, D_NORMAL}}, 1, ref_scaler, 0, 0},
    {"ml_normalizer", "ai.onnx.ml", "Normalizer", 1, F32 | F64 | I32 | I64, 1, {AS("norm", "L2")},
     1, {{2, {4, 5}, D_NORMAL}}, 1, ref_normalizer, 0, 0},
};
// clang-format on
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- running a case ------------------------------------------------------------ */

typedef struct prepared_case {
    onnorm_dtype dt;
    int64_t n[5];
    void *data[5]; /* in the element type */
    double *ref_in[5];
    onnorm_tensor t[5];
} prepared_case;

static void make_inputs(const tcase *c, onnorm_dtype dt, uint64_t seed, prepared_case *p)
{
    rn_rng rng;
    rn_seed(&rng, seed);
    p->dt = dt;
    const bool integer = dt == ONNORM_INT32 || dt == ONNORM_INT64;
    for (int i = 0; i < c->n_in; i++) {
        const in_spec *s = &c->in[i];
        p->n[i] = numel_of(s);
        p->data[i] = malloc((size_t)p->n[i] * esize(dt) + 1);
        p->ref_in[i] = malloc((size_t)p->n[i] * sizeof(double) + 1);
        for (int64_t k = 0; k < p->n[i]; k++) {
            double v =
                s->dist == D_POSITIVE ? rn_uniform(&rng, 0.25, 2.0) : rn_normal(&rng) * 1.5 + 0.3;
            if (integer) v = round(v * 4);
            store(dt, p->data[i], k, v);
            p->ref_in[i][k] = load(dt, p->data[i], k);
        }
        p->t[i] = (onnorm_tensor){dt, s->rank, {0}, p->data[i], NULL};
        memcpy(p->t[i].dims, s->dims, (size_t)s->rank * sizeof(int64_t));
    }
}

static void free_inputs(const tcase *c, prepared_case *p)
{
    for (int i = 0; i < c->n_in; i++) {
        free(p->data[i]);
        free(p->ref_in[i]);
    }
}

/* The API's run of case c on p's inputs: y[k] (malloc'ed data) receive the
 * outputs with the types and shapes setup reported. */
static void api_run(const tcase *c, prepared_case *p, int threads, onnorm_tensor *y,
                    onnorm_op **opp)
{
    onnorm_error e;
    onnorm_op *op;
    if (onnorm_op_create(c->domain, c->op, c->opset, c->attrs, c->n_attrs, &op, &e))
        fail_msg("%s: create: %s", c->name, e.message);
    const onnorm_tensor *in[5];
    onnorm_tensor *out[5];
    for (int i = 0; i < c->n_in; i++)
        in[i] = c->in[i].dist == D_OMIT ? NULL : &p->t[i];
    for (int k = 0; k < c->n_out; k++) {
        memset(&y[k], 0, sizeof y[k]);
        out[k] = &y[k];
    }
    /* First setup without output data: it reports the shapes. */
    if (onnorm_op_setup(op, c->n_in, in, c->n_out, out, threads, &e))
        fail_msg("%s/%s: setup: %s", c->name, onnorm_dtype_name(p->dt), e.message);
    void *bufs[5];
    for (int k = 0; k < c->n_out; k++) {
        assert_int_not_equal(y[k].dtype, ONNORM_UNDEFINED);
        bufs[k] = y[k].data = malloc((size_t)onnorm_tensor_numel(&y[k]) * esize(y[k].dtype) + 1);
    }
    if (onnorm_op_bind(op, 0, NULL, c->n_out, bufs, &e))
        fail_msg("%s: bind: %s", c->name, e.message);
    if (onnorm_op_run(op, &e))
        fail_msg("%s/%s: run: %s", c->name, onnorm_dtype_name(p->dt), e.message);
    assert_int_equal(onnorm_op_threads(op), threads);
    *opp = op;
}

/* The same node through a session: bitwise the same outputs. */
static void session_matches(const tcase *c, prepared_case *p, int threads, const onnorm_op *op,
                            const onnorm_tensor *y)
{
    static const char *names[] = {"i0", "i1", "i2", "i3", "i4"};
    static const char *onames[] = {"o0", "o1", "o2", "o3", "o4"};
    const bool onnx = c->domain[0] == '\0';
    tb_model *b = tb_new(onnx ? c->opset : 17);
    if (!onnx) tb_opset(b, c->domain, c->opset);
    th_tensor feeds[5];
    int n_feeds = 0;
    const char *ins[5];
    for (int i = 0; i < c->n_in; i++) {
        ins[i] = c->in[i].dist == D_OMIT ? "" : names[i];
        if (c->in[i].dist == D_OMIT) continue;
        if (onnorm_op_is_parameter(op, i)) {
            tb_init(b, names[i], p->dt, c->in[i].rank, c->in[i].dims, p->data[i]);
        } else {
            tb_input(b, names[i], p->dt, c->in[i].rank, c->in[i].dims);
            feeds[n_feeds++] = th_in(names[i], p->dt, c->in[i].rank, c->in[i].dims, p->data[i]);
        }
    }
    tb_node *n = tb_node_add(b, c->op, "n", c->n_in, ins, c->n_out, onames);
    if (!onnx) tb_node_domain(n, c->domain);
    for (int a = 0; a < c->n_attrs; a++) {
        const onnorm_attr *at = &c->attrs[a];
        switch (at->type) {
        case ONNORM_ATTR_INT: tb_attr_int(n, at->name, at->i); break;
        case ONNORM_ATTR_FLOAT: tb_attr_float(n, at->name, at->f); break;
        case ONNORM_ATTR_STRING: tb_attr_string(n, at->name, at->s); break;
        case ONNORM_ATTR_INTS: tb_attr_ints(n, at->name, at->n, at->ints); break;
        case ONNORM_ATTR_FLOATS: tb_attr_floats(n, at->name, at->n, at->floats); break;
        }
    }
    for (int k = 0; k < c->n_out; k++)
        tb_output(b, onames[k], y[k].dtype);
    th_run r;
    th_ok(&r, th_run_model(&r, b, threads, n_feeds, feeds), c->name);
    for (int k = 0; k < c->n_out; k++) {
        onnorm_tensor t = th_out(&r, onames[k]);
        assert_int_equal(t.dtype, y[k].dtype);
        assert_int_equal(t.rank, y[k].rank);
        for (int d = 0; d < t.rank; d++)
            assert_int_equal(t.dims[d], y[k].dims[d]);
        size_t bytes = (size_t)onnorm_tensor_numel(&t) * esize(t.dtype);
        if (memcmp(t.data, y[k].data, bytes) != 0)
            fail_msg("%s/%s: output %d differs from the session's", c->name,
                     onnorm_dtype_name(p->dt), k);
    }
    th_free(&r);
}

static void check_reference(const tcase *c, const prepared_case *p, const onnorm_tensor *y)
{
    double *want[5] = {NULL};
    for (int k = 0; k < c->n_out; k++)
        want[k] = calloc((size_t)onnorm_tensor_numel(&y[k]) + 1, sizeof(double));
    c->ref(c, p->ref_in, want);
    for (int k = 0; k < c->n_out; k++) {
        /* The coarser of the output's type and the inputs' (half inputs give
         * half-precision intermediate results). */
        double tol = tol_of(y[k].dtype), tin = tol_of(p->dt);
        if (p->dt != ONNORM_INT32 && p->dt != ONNORM_INT64 && tin > tol) tol = tin;
        const int64_t n = onnorm_tensor_numel(&y[k]);
        for (int64_t i = 0; i < n; i++) {
            double g = load(y[k].dtype, y[k].data, i), w = want[k][i];
            if (!(fabs(g - w) <= tol * (1 + fabs(w))))
                fail_msg("%s/%s: output %d element %lld is %.9g, the reference says %.9g", c->name,
                         onnorm_dtype_name(p->dt), k, (long long)i, g, w);
        }
        free(want[k]);
    }
}

/* The element types (as case bits) the registry lists for the kernel of
 * (domain, op, version). */
static unsigned kernel_types(const char *domain, const char *op, int version)
{
    static const char *const names[] = {"float32",  "float64", "float16",
                                        "bfloat16", "int32",   "int64"};
    for (int i = 0; i < onnorm_kernel_count(); i++) {
        const char *d, *o;
        int v;
        char types[256];
        onnorm_kernel_info(i, &d, &o, &v, types, sizeof types);
        if (strcmp(d, domain[0] ? domain : "ai.onnx") != 0 || strcmp(o, op) != 0 || v != version)
            continue;
        unsigned bits = 0;
        for (char *t = strtok(types, ", "); t; t = strtok(NULL, ", ")) {
            int k = 0;
            while (k < 6 && strcmp(t, names[k]) != 0)
                k++;
            if (k == 6) fail_msg("%s: the kernel takes %s, which the test does not know", op, t);
            bits |= 1u << k;
        }
        return bits;
    }
    fail_msg("no kernel %s.%s-%d", domain, op, version);
    return 0;
}

/* Every case in every type: reference and session. */
static void every_op_and_type(void **state)
{
    (void)state;
    int runs = 0;
    for (int ci = 0; ci < N_CASES; ci++) {
        const tcase *c = &cases[ci];
        for (int b = 0; b < 6; b++) {
            if (!(c->types & (1u << b))) continue;
            prepared_case p;
            make_inputs(c, type_of_bit[b], 1000 + (uint64_t)ci * 16 + (uint64_t)b, &p);
            onnorm_tensor y[5];
            onnorm_op *op;
            api_run(c, &p, 2, y, &op);
            /* The case covers every type the chosen kernel takes. */
            const unsigned want = kernel_types(c->domain, c->op, onnorm_op_version(op));
            if (want & ~c->types)
                fail_msg("%s: the kernel takes types (mask %#x) the case lacks (mask %#x)", c->name,
                         want, c->types);
            check_reference(c, &p, y);
            session_matches(c, &p, 2, op, y);
            onnorm_op_free(op);
            for (int k = 0; k < c->n_out; k++)
                free(y[k].data);
            free_inputs(c, &p);
            runs++;
        }
    }
    assert_true(runs > 60);
}

/* Every op the API lists has a case above. */
static void every_listed_op_is_tested(void **state)
{
    (void)state;
    const char *dom, *op;
    assert_int_equal(onnorm_op_at(onnorm_op_count(), &dom, &op), 0);
    for (int i = 0; onnorm_op_at(i, &dom, &op); i++) {
        bool found = false;
        for (int ci = 0; ci < N_CASES && !found; ci++)
            found = strcmp(cases[ci].domain, dom) == 0 && strcmp(cases[ci].op, op) == 0;
        if (!found) fail_msg("no test case for %s.%s", dom, op);
    }
}

/* Every normalization kernel of the registry (an op named *Normalization,
 * LRN, or ai.onnx.ml's Scaler) is one the API creates, at its own
 * since_version: a norm added to ops/norm without an entry in the API's
 * table fails here. */
static void every_norm_kernel_is_accepted(void **state)
{
    (void)state;
    int norms = 0;
    for (int i = 0; i < onnorm_kernel_count(); i++) {
        const char *dom, *op;
        int ver;
        char types[256];
        onnorm_kernel_info(i, &dom, &op, &ver, types, sizeof types);
        if (!strstr(op, "Normalization") && strcmp(op, "LRN") != 0 && strcmp(op, "Scaler") != 0)
            continue;
        onnorm_op *o;
        onnorm_error e;
        if (onnorm_op_create(dom, op, ver, NULL, 0, &o, &e))
            fail_msg("%s.%s-%d: %s", dom, op, ver, e.message);
        assert_int_equal(onnorm_op_version(o), ver);
        onnorm_op_free(o);
        norms++;
    }
    assert_true(norms >= 25);
}

/* ---- behaviour ------------------------------------------------------------------- */

#define ROWS 3
#define COLS 8

typedef struct ln_fixture {
    float x[ROWS * COLS], g[COLS], b[COLS], y[ROWS * COLS];
    onnorm_tensor tx, tg, tb, ty;
} ln_fixture;

static void ln_init(ln_fixture *f, uint64_t seed)
{
    float *r = th_randf(seed, ROWS * COLS + 2 * COLS);
    memcpy(f->x, r, sizeof f->x);
    memcpy(f->g, r + ROWS * COLS, sizeof f->g);
    memcpy(f->b, r + ROWS * COLS + COLS, sizeof f->b);
    free(r);
    f->tx = (onnorm_tensor){ONNORM_FLOAT, 2, {ROWS, COLS}, f->x, NULL};
    f->tg = (onnorm_tensor){ONNORM_FLOAT, 1, {COLS}, f->g, NULL};
    f->tb = (onnorm_tensor){ONNORM_FLOAT, 1, {COLS}, f->b, NULL};
    f->ty = (onnorm_tensor){ONNORM_FLOAT, 2, {ROWS, COLS}, f->y, NULL};
}

static void ln_expect(const ln_fixture *f, const float *y)
{
    double x[ROWS * COLS], g[COLS], b[COLS], want[ROWS * COLS];
    for (int i = 0; i < ROWS * COLS; i++)
        x[i] = f->x[i];
    for (int i = 0; i < COLS; i++)
        g[i] = f->g[i], b[i] = f->b[i];
    ref_layernorm(x, 2, (const int64_t[]){ROWS, COLS}, -1, g, b, 1e-5, want, NULL, NULL);
    th_expect_close("LayerNormalization", "Y", y, ONNORM_FLOAT, want, ROWS * COLS, 0);
}

static onnorm_op *ln_create(void)
{
    onnorm_op *op;
    onnorm_error e;
    if (onnorm_op_create("", "LayerNormalization", 17, NULL, 0, &op, &e)) fail_msg("%s", e.message);
    return op;
}

static onnorm_status ln_setup(onnorm_op *op, ln_fixture *f, onnorm_error *e)
{
    return onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&f->tx, &f->tg, &f->tb}, 1,
                           (onnorm_tensor *[]){&f->ty}, 1, e);
}

/* Asserts success, with the local error's message on failure. */
#define OK(expr)                                                                                   \
    do {                                                                                           \
        onnorm_status st_ = (expr);                                                                \
        if (st_) fail_msg("%s: %s: %s", #expr, onnorm_status_str(st_), e.message);                 \
    } while (0)

static void expect_err(onnorm_status st, const onnorm_error *e, onnorm_status code,
                       const char *needle)
{
    if (code == TH_ANY_ERROR ? st == ONNORM_OK : st != code)
        fail_msg("expected %s, got %s: %s", onnorm_status_str(code), onnorm_status_str(st),
                 e->message);
    if (needle && !strstr(e->message, needle))
        fail_msg("message '%s' lacks '%s'", e->message, needle);
}

static void create_errors(void **state)
{
    (void)state;
    onnorm_op *op = (onnorm_op *)1;
    onnorm_error e;
    expect_err(onnorm_op_create("", "Foo", 17, NULL, 0, &op, &e), &e, ONNORM_ERR_UNSUPPORTED,
               "unknown op");
    assert_null(op);
    expect_err(onnorm_op_create("", "Relu", 14, NULL, 0, &op, &e), &e, ONNORM_ERR_UNSUPPORTED,
               "not a normalization op");
    expect_err(onnorm_op_create("", "LayerNormalization", 16, NULL, 0, &op, &e), &e,
               ONNORM_ERR_UNSUPPORTED, "first version is opset 17");
    expect_err(onnorm_op_create("", "LayerNormalization", 0, NULL, 0, &op, &e), &e,
               ONNORM_ERR_UNSUPPORTED, "opset");
    expect_err(onnorm_op_create("", "LayerNormalization", 1000, NULL, 0, &op, &e), &e,
               ONNORM_ERR_UNSUPPORTED, "newer");
    expect_err(onnorm_op_create("com.nobody", "LayerNormalization", 1, NULL, 0, &op, &e), &e,
               ONNORM_ERR_UNSUPPORTED, "com.nobody");
    expect_err(onnorm_op_create("", NULL, 17, NULL, 0, &op, &e), &e, ONNORM_ERR_INVALID, NULL);
    expect_err(onnorm_op_create("", "LayerNormalization", 17, NULL, 2, &op, &e), &e,
               ONNORM_ERR_INVALID, NULL);
    /* Attributes: unknown (the message lists the op's), wrong kind, not in
     * this version, twice, malformed. */
    onnorm_attr typo = onnorm_attr_float("epsilom", 1e-5f);
    expect_err(onnorm_op_create("", "LayerNormalization", 17, &typo, 1, &op, &e), &e,
               ONNORM_ERR_INVALID, "'epsilom'");
    assert_non_null(strstr(e.message, "epsilon"));
    onnorm_attr kind = onnorm_attr_int("epsilon", 1);
    expect_err(onnorm_op_create("", "LayerNormalization", 17, &kind, 1, &op, &e), &e,
               ONNORM_ERR_INVALID, "must be a float");
    onnorm_attr spatial = onnorm_attr_int("spatial", 1);
    expect_err(onnorm_op_create("", "BatchNormalization", 15, &spatial, 1, &op, &e), &e,
               ONNORM_ERR_INVALID, "'spatial'");
    OK(onnorm_op_create("", "BatchNormalization", 7, &spatial, 1, &op, &e));
    assert_int_equal(onnorm_op_version(op), 7);
    onnorm_op_free(op);
    onnorm_attr twice[] = {onnorm_attr_float("epsilon", 1e-5f),
                           onnorm_attr_float("epsilon", 1e-3f)};
    expect_err(onnorm_op_create("", "LayerNormalization", 17, twice, 2, &op, &e), &e,
               ONNORM_ERR_INVALID, "twice");
    onnorm_attr nameless = onnorm_attr_float(NULL, 1e-5f);
    expect_err(onnorm_op_create("", "LayerNormalization", 17, &nameless, 1, &op, &e), &e,
               ONNORM_ERR_INVALID, "no name");
    onnorm_attr null_ints = onnorm_attr_ints("axes", NULL, 3);
    expect_err(onnorm_op_create("", "MeanVarianceNormalization", 13, &null_ints, 1, &op, &e), &e,
               ONNORM_ERR_INVALID, "axes");
    onnorm_attr null_str = onnorm_attr_string("norm", NULL);
    expect_err(onnorm_op_create("ai.onnx.ml", "Normalizer", 1, &null_str, 1, &op, &e), &e,
               ONNORM_ERR_INVALID, "NULL");
    /* "ai.onnx" is the default domain's other name; the kernel version is
     * the newest at or below the opset. */
    OK(onnorm_op_create("ai.onnx", "BatchNormalization", 13, NULL, 0, &op, &e));
    assert_int_equal(onnorm_op_version(op), 9);
    onnorm_op_free(op);
    onnorm_op_free(NULL);
}

static void setup_errors(void **state)
{
    (void)state;
    ln_fixture f;
    ln_init(&f, 7);
    onnorm_error e;
    onnorm_op *op = ln_create();
    /* Run before any setup. */
    expect_err(onnorm_op_run(op, &e), &e, ONNORM_ERR_INVALID, "setup");
    /* Arity. */
    expect_err(onnorm_op_setup(op, 1, (const onnorm_tensor *[]){&f.tx}, 1,
                               (onnorm_tensor *[]){&f.ty}, 1, &e),
               &e, ONNORM_ERR_INVALID, "inputs");
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&f.tx, &f.tg, &f.tb}, 4,
                               (onnorm_tensor *[]){&f.ty, NULL, NULL, NULL}, 1, &e),
               &e, ONNORM_ERR_INVALID, "outputs");
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){NULL, &f.tg, &f.tb}, 1,
                               (onnorm_tensor *[]){&f.ty}, 1, &e),
               &e, ONNORM_ERR_INVALID, "required");
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&f.tx, &f.tg, &f.tb}, 1,
                               (onnorm_tensor *[]){&f.ty}, -1, &e),
               &e, ONNORM_ERR_INVALID, "num_threads");
    /* Scale of the wrong length. */
    onnorm_tensor g5 = f.tg;
    g5.dims[0] = 5;
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&f.tx, &g5, &f.tb}, 1,
                               (onnorm_tensor *[]){&f.ty}, 1, &e),
               &e, ONNORM_ERR_SHAPE, NULL);
    /* Scale of another type than X. */
    double gd[COLS] = {0};
    onnorm_tensor g64 = {ONNORM_DOUBLE, 1, {COLS}, gd, NULL};
    onnorm_status st = onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&f.tx, &g64, &f.tb}, 1,
                                       (onnorm_tensor *[]){&f.ty}, 1, &e);
    assert_true(st == ONNORM_ERR_DTYPE || st == ONNORM_ERR_SHAPE);
    /* An element type the op does not take, a bad rank, a negative dim. */
    int32_t xi[ROWS * COLS] = {0};
    onnorm_tensor x32 = {ONNORM_INT32, 2, {ROWS, COLS}, xi, NULL};
    assert_int_not_equal(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&x32, &f.tg, &f.tb}, 1,
                                         (onnorm_tensor *[]){&f.ty}, 1, &e),
                         ONNORM_OK);
    assert_non_null(strstr(e.message, "int32"));
    onnorm_tensor bad = f.tx;
    bad.rank = 9;
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&bad, &f.tg, &f.tb}, 1,
                               (onnorm_tensor *[]){&f.ty}, 1, &e),
               &e, ONNORM_ERR_SHAPE, "rank");
    bad = f.tx;
    bad.dims[0] = -2;
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&bad, &f.tg, &f.tb}, 1,
                               (onnorm_tensor *[]){&f.ty}, 1, &e),
               &e, ONNORM_ERR_SHAPE, "negative");
    bad = f.tx;
    bad.dtype = (onnorm_dtype)99;
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&bad, &f.tg, &f.tb}, 1,
                               (onnorm_tensor *[]){&f.ty}, 1, &e),
               &e, ONNORM_ERR_DTYPE, NULL);
    /* A parameter without data. */
    onnorm_tensor nog = f.tg;
    nog.data = NULL;
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&f.tx, &nog, &f.tb}, 1,
                               (onnorm_tensor *[]){&f.ty}, 1, &e),
               &e, ONNORM_ERR_INVALID, "parameter");
    /* The caller's output shape or type disagrees. */
    onnorm_tensor ywrong = f.ty;
    ywrong.dims[1] = COLS + 1;
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&f.tx, &f.tg, &f.tb}, 1,
                               (onnorm_tensor *[]){&ywrong}, 1, &e),
               &e, ONNORM_ERR_SHAPE, "[3,8]");
    ywrong = f.ty;
    ywrong.dtype = ONNORM_DOUBLE;
    expect_err(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&f.tx, &f.tg, &f.tb}, 1,
                               (onnorm_tensor *[]){&ywrong}, 1, &e),
               &e, ONNORM_ERR_DTYPE, "float32");
    /* A failed setup leaves the op unable to run until a setup succeeds. */
    expect_err(onnorm_op_run(op, &e), &e, ONNORM_ERR_INVALID, "setup");
    OK(ln_setup(op, &f, &e));
    OK(onnorm_op_run(op, &e));
    ln_expect(&f, f.y);
    onnorm_op_free(op);

    /* Attribute values are checked against the shapes at setup. */
    float x[2 * 6 * 4] = {0}, s[6] = {0}, y[2 * 6 * 4];
    onnorm_tensor tx = {ONNORM_FLOAT, 3, {2, 6, 4}, x, NULL}, ts = {ONNORM_FLOAT, 1, {6}, s, NULL},
                  ty = {0};
    ty.data = y;
    onnorm_attr groups = onnorm_attr_int("num_groups", 4);
    OK(onnorm_op_create("", "GroupNormalization", 21, &groups, 1, &op, &e));
    assert_int_not_equal(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&tx, &ts, &ts}, 1,
                                         (onnorm_tensor *[]){&ty}, 1, &e),
                         ONNORM_OK);
    assert_non_null(strstr(e.message, "GroupNormalization"));
    onnorm_op_free(op);
    OK(onnorm_op_create("", "LRN", 13, NULL, 0, &op, &e)); /* size is required */
    ty = (onnorm_tensor){0};
    expect_err(
        onnorm_op_setup(op, 1, (const onnorm_tensor *[]){&tx}, 1, (onnorm_tensor *[]){&ty}, 1, &e),
        &e, TH_ANY_ERROR, "size");
    onnorm_op_free(op);
    onnorm_attr l3 = onnorm_attr_string("norm", "L3");
    OK(onnorm_op_create("ai.onnx.ml", "Normalizer", 1, &l3, 1, &op, &e));
    onnorm_tensor t2 = {ONNORM_FLOAT, 2, {2, 3}, x, NULL};
    ty = (onnorm_tensor){0};
    assert_int_not_equal(
        onnorm_op_setup(op, 1, (const onnorm_tensor *[]){&t2}, 1, (onnorm_tensor *[]){&ty}, 1, &e),
        ONNORM_OK);
    assert_non_null(strstr(e.message, "L3"));
    onnorm_op_free(op);
    /* NULL op. */
    expect_err(onnorm_op_setup(NULL, 0, NULL, 0, NULL, 1, &e), &e, ONNORM_ERR_INVALID, NULL);
    expect_err(onnorm_op_run(NULL, &e), &e, ONNORM_ERR_INVALID, NULL);
}

/* Setup reports shapes when the caller leaves dtype undefined; run needs
 * data; bind supplies it and swaps activations; parameters cannot be
 * rebound; a run reads the activation's current values. */
static void shapes_bind_and_reruns(void **state)
{
    (void)state;
    ln_fixture f;
    ln_init(&f, 11);
    onnorm_error e;
    onnorm_op *op = ln_create();
    onnorm_tensor x = f.tx, y = {0}, mean = {0};
    x.data = NULL; /* an activation may be bound later */
    OK(onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&x, &f.tg, &f.tb}, 2,
                       (onnorm_tensor *[]){&y, &mean}, 3, &e));
    assert_int_equal(y.dtype, ONNORM_FLOAT);
    assert_int_equal(y.rank, 2);
    assert_int_equal(y.dims[0], ROWS);
    assert_int_equal(y.dims[1], COLS);
    assert_int_equal(mean.dtype, ONNORM_FLOAT); /* stash_type 1 */
    assert_int_equal(mean.rank, 2);
    assert_int_equal(mean.dims[0], ROWS);
    assert_int_equal(mean.dims[1], 1);
    assert_int_equal(onnorm_op_threads(op), 3);
    assert_false(onnorm_op_is_parameter(op, 0));
    assert_true(onnorm_op_is_parameter(op, 1));
    assert_true(onnorm_op_is_parameter(op, 2));
    expect_err(onnorm_op_run(op, &e), &e, ONNORM_ERR_INVALID, "input 0 has no data");
    OK(onnorm_op_bind(op, 1, (const void *[]){f.x}, 0, NULL, &e));
    expect_err(onnorm_op_run(op, &e), &e, ONNORM_ERR_INVALID, "output 0 has no data");
    float m[ROWS];
    OK(onnorm_op_bind(op, 0, NULL, 2, (void *[]){f.y, m}, &e));
    OK(onnorm_op_run(op, &e));
    ln_expect(&f, f.y);
    for (int r = 0; r < ROWS; r++) {
        double s = 0;
        for (int c = 0; c < COLS; c++)
            s += f.x[r * COLS + c];
        assert_true(fabs(m[r] - s / COLS) < 1e-6);
    }
    /* New activation values in the same buffer, then another buffer. */
    for (int i = 0; i < ROWS * COLS; i++)
        f.x[i] = f.x[i] * 3.0f - 1.0f;
    OK(onnorm_op_run(op, &e));
    ln_expect(&f, f.y);
    ln_fixture f2 = f;
    for (int i = 0; i < ROWS * COLS; i++)
        f2.x[i] = (float)(i % 5) - 2.0f;
    OK(onnorm_op_bind(op, 1, (const void *[]){f2.x}, 1, (void *[]){f2.y}, &e));
    OK(onnorm_op_run(op, &e));
    ln_expect(&f2, f2.y);
    /* Parameters are read at setup and cannot be rebound. */
    expect_err(onnorm_op_bind(op, 2, (const void *[]){NULL, f2.g}, 0, NULL, &e), &e,
               ONNORM_ERR_INVALID, "parameter");
    expect_err(onnorm_op_bind(op, 4, (const void *[]){NULL, NULL, NULL, NULL}, 0, NULL, &e), &e,
               ONNORM_ERR_INVALID, NULL);
    expect_err(onnorm_op_bind(op, 0, NULL, 3, (void *[]){NULL, NULL, m}, &e), &e,
               ONNORM_ERR_INVALID, NULL);
    onnorm_op_free(op);
}

/* BatchNormalization folds its constant parameters at setup: a run after
 * the caller changed them still uses setup's values (as documented), and
 * a new setup takes the new ones. */
static void batchnorm_parameters_are_read_at_setup(void **state)
{
    (void)state;
    float x[2 * 3 * 4], y[2 * 3 * 4], g[3] = {1, 2, 3}, b[3] = {0, 1, -1}, m[3] = {0.5f, 0, -0.5f},
                                      v[3] = {1, 2, 0.5f};
    for (int i = 0; i < 24; i++)
        x[i] = (float)(i % 7) - 3.0f;
    onnorm_tensor tx = {ONNORM_FLOAT, 3, {2, 3, 4}, x, NULL}, ty = {0},
                  tg = {ONNORM_FLOAT, 1, {3}, g, NULL}, tb = {ONNORM_FLOAT, 1, {3}, b, NULL},
                  tm = {ONNORM_FLOAT, 1, {3}, m, NULL}, tv = {ONNORM_FLOAT, 1, {3}, v, NULL};
    ty.data = y;
    onnorm_op *op;
    onnorm_error e;
    OK(onnorm_op_create("", "BatchNormalization", 15, NULL, 0, &op, &e));
    const onnorm_tensor *in[5] = {&tx, &tg, &tb, &tm, &tv};
    OK(onnorm_op_setup(op, 5, in, 1, (onnorm_tensor *[]){&ty}, 1, &e));
    double xd[24], gd[3], bd[3], md[3], vd[3], want[24];
    for (int i = 0; i < 24; i++)
        xd[i] = x[i];
    for (int c = 0; c < 3; c++)
        gd[c] = g[c], bd[c] = b[c], md[c] = m[c], vd[c] = v[c];
    ref_bn_infer(xd, 3, tx.dims, 1, gd, bd, md, vd, 1e-5, want);
    OK(onnorm_op_run(op, &e));
    th_expect_close("BatchNormalization", "Y", y, ONNORM_FLOAT, want, 24, 0);
    g[0] = 100; /* not seen until the next setup */
    OK(onnorm_op_run(op, &e));
    th_expect_close("BatchNormalization", "Y", y, ONNORM_FLOAT, want, 24, 0);
    OK(onnorm_op_setup(op, 5, in, 1, (onnorm_tensor *[]){&ty}, 1, &e));
    OK(onnorm_op_run(op, &e));
    gd[0] = 100;
    ref_bn_infer(xd, 3, tx.dims, 1, gd, bd, md, vd, 1e-5, want);
    th_expect_close("BatchNormalization", "Y", y, ONNORM_FLOAT, want, 24, 0);
    onnorm_op_free(op);
}

/* Output 0 may be input 0's buffer where the op allows in-place runs;
 * other overlaps are refused. */
static void overlapping_buffers(void **state)
{
    (void)state;
    ln_fixture f;
    ln_init(&f, 23);
    const ln_fixture orig = f;
    onnorm_error e;
    onnorm_op *op = ln_create();
    OK(ln_setup(op, &f, &e));
    assert_true(onnorm_op_inplace(op));
    OK(onnorm_op_bind(op, 0, NULL, 1, (void *[]){f.x}, &e));
    OK(onnorm_op_run(op, &e));
    ln_expect(&orig, f.x);
    OK(onnorm_op_bind(op, 0, NULL, 1, (void *[]){f.x + 1}, &e));
    expect_err(onnorm_op_run(op, &e), &e, ONNORM_ERR_INVALID, "overlaps input 0");
    OK(onnorm_op_bind(op, 0, NULL, 1, (void *[]){f.g}, &e));
    expect_err(onnorm_op_run(op, &e), &e, ONNORM_ERR_INVALID, "overlaps input 1");
    onnorm_op_free(op);
}

/* Results do not depend on the thread count. */
static void threads_give_the_same_bits(void **state)
{
    (void)state;
    const tcase *c = NULL;
    for (int i = 0; i < N_CASES; i++)
        if (strcmp(cases[i].name, "groupnorm21") == 0) c = &cases[i];
    assert_non_null(c);
    prepared_case p;
    make_inputs(c, ONNORM_FLOAT, 5, &p);
    onnorm_tensor y1[5], y4[5];
    onnorm_op *op1, *op4;
    api_run(c, &p, 1, y1, &op1);
    api_run(c, &p, 4, y4, &op4);
    assert_memory_equal(y1[0].data, y4[0].data, (size_t)onnorm_tensor_numel(&y1[0]) * 4);
    onnorm_op_free(op1);
    onnorm_op_free(op4);
    free(y1[0].data);
    free(y4[0].data);
    free_inputs(c, &p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_op_and_type),
        cmocka_unit_test(every_listed_op_is_tested),
        cmocka_unit_test(every_norm_kernel_is_accepted),
        cmocka_unit_test(create_errors),
        cmocka_unit_test(setup_errors),
        cmocka_unit_test(shapes_bind_and_reruns),
        cmocka_unit_test(batchnorm_parameters_are_read_at_setup),
        cmocka_unit_test(overlapping_buffers),
        cmocka_unit_test(threads_give_the_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
