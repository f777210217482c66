/* Float64 reference implementations (see refnorm.h). Deliberately naive:
 * explicit index arithmetic, a first pass for the mean and a second pass
 * for the population variance, and the spec's formulas written out per
 * element. Speed does not matter here; being obviously right does. */
#include "refnorm.h"

#include <math.h>
#include <stddef.h>

/* ---- deterministic data ------------------------------------------------- */

void rn_seed(rn_rng *r, uint64_t seed)
{
    r->state = seed;
    r->has_spare = 0;
    r->spare = 0.0;
}

uint64_t rn_next(rn_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double rn_uniform(rn_rng *r, double lo, double hi)
{
    double u = (double)(rn_next(r) >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
    return lo + (hi - lo) * u;
}

double rn_normal(rn_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1, u2;
    do
        u1 = rn_uniform(r, 0.0, 1.0);
    while (u1 <= 0.0);
    u2 = rn_uniform(r, 0.0, 1.0);
    const double two_pi = 6.283185307179586476925286766559;
    double rad = sqrt(-2.0 * log(u1));
    r->spare = rad * sin(two_pi * u2);
    r->has_spare = 1;
    return rad * cos(two_pi * u2);
}

void rn_fill_normal(rn_rng *r, double *d, int64_t n, double mean, double std, int as_float)
{
    for (int64_t i = 0; i < n; i++) {
        double v = mean + std * rn_normal(r);
        d[i] = as_float ? (double)(float)v : v;
    }
}

void rn_fill_uniform(rn_rng *r, double *d, int64_t n, double lo, double hi, int as_float)
{
    for (int64_t i = 0; i < n; i++) {
        double v = rn_uniform(r, lo, hi);
        d[i] = as_float ? (double)(float)v : v;
    }
}

int64_t rn_prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* ---- helpers ------------------------------------------------------------ */

/* Mean and population variance (two passes) of the elements
 * x[base + k * stride] for k in [0, count). */
static void two_pass(const double *x, int64_t base, int64_t count, int64_t stride, double *mean,
                     double *var)
{
    double sum = 0.0;
    for (int64_t k = 0; k < count; k++)
        sum += x[base + k * stride];
    double mu = sum / (double)count;
    double sq = 0.0;
    for (int64_t k = 0; k < count; k++) {
        double d = x[base + k * stride] - mu;
        sq += d * d;
    }
    *mean = mu;
    *var = sq / (double)count;
}

/* ---- BatchNormalization -------------------------------------------------- */

static void bn_view(int rank, const int64_t *dims, int spatial, int64_t *n, int64_t *c, int64_t *s)
{
    *n = dims[0];
    if (rank == 1) {
        *c = 1;
        *s = 1;
    } else if (!spatial) {
        *c = rn_prod(dims, 1, rank);
        *s = 1;
    } else {
        *c = dims[1];
        *s = rn_prod(dims, 2, rank);
    }
}

void ref_bn_infer(const double *x, int rank, const int64_t *dims, int spatial, const double *scale,
                  const double *bias, const double *mean, const double *var, double eps, double *y)
{
    int64_t N, C, S;
    bn_view(rank, dims, spatial, &N, &C, &S);
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t s = 0; s < S; s++) {
                int64_t i = (n * C + c) * S + s;
                y[i] = (x[i] - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c];
            }
}

void ref_bn_train(const double *x, int rank, const int64_t *dims, const double *scale,
                  const double *bias, const double *input_mean, const double *input_var, double eps,
                  double momentum, double *y, double *running_mean, double *running_var,
                  double *batch_mean, double *batch_var)
{
    int64_t N, C, S;
    bn_view(rank, dims, 1, &N, &C, &S);
    const double count = (double)(N * S);
    for (int64_t c = 0; c < C; c++) {
        double sum = 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++)
                sum += x[(n * C + c) * S + s];
        double mu = sum / count;
        double sq = 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++) {
                double d = x[(n * C + c) * S + s] - mu;
                sq += d * d;
            }
        double var = sq / count;
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++) {
                int64_t i = (n * C + c) * S + s;
                y[i] = (x[i] - mu) / sqrt(var + eps) * scale[c] + bias[c];
            }
        if (running_mean) running_mean[c] = input_mean[c] * momentum + mu * (1.0 - momentum);
        if (running_var) running_var[c] = input_var[c] * momentum + var * (1.0 - momentum);
        if (batch_mean) batch_mean[c] = mu;
        if (batch_var) batch_var[c] = var;
    }
}

/* ---- InstanceNormalization ---------------------------------------------- */

void ref_instancenorm(const double *x, int rank, const int64_t *dims, const double *scale,
                      const double *bias, double eps, double *y)
{
    const int64_t N = dims[0], C = dims[1], S = rn_prod(dims, 2, rank);
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            const int64_t base = (n * C + c) * S;
            double mu, var;
            two_pass(x, base, S, 1, &mu, &var);
            for (int64_t s = 0; s < S; s++)
                y[base + s] = scale[c] * (x[base + s] - mu) / sqrt(var + eps) + bias[c];
        }
}

/* ---- LayerNormalization -------------------------------------------------- */

void ref_layernorm(const double *x, int rank, const int64_t *dims, int axis, const double *scale,
                   const double *bias, double eps, double *y, double *mean, double *inv_std)
{
    if (axis < 0) axis += rank;
    const int64_t rows = rn_prod(dims, 0, axis), M = rn_prod(dims, axis, rank);
    for (int64_t r = 0; r < rows; r++) {
        double mu, var;
        two_pass(x, r * M, M, 1, &mu, &var);
        const double inv = 1.0 / sqrt(var + eps);
        for (int64_t j = 0; j < M; j++) {
            double v = (x[r * M + j] - mu) * inv * scale[j];
            if (bias) v += bias[j];
            y[r * M + j] = v;
        }
        if (mean) mean[r] = mu;
        if (inv_std) inv_std[r] = inv;
    }
}

/* ---- GroupNormalization -------------------------------------------------- */

void ref_groupnorm(const double *x, int rank, const int64_t *dims, int64_t groups, int opset,
                   const double *scale, const double *bias, double eps, double *y)
{
    const int64_t N = dims[0], C = dims[1], S = rn_prod(dims, 2, rank);
    const int64_t per = C / groups; /* channels per group */
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < groups; g++) {
            /* The group's channels are consecutive, so its elements are too. */
            const int64_t base = (n * C + g * per) * S;
            double mu, var;
            two_pass(x, base, per * S, 1, &mu, &var);
            for (int64_t k = 0; k < per; k++) {
                const int64_t c = g * per + k;
                const int64_t p = opset >= 21 ? c : g;
                for (int64_t s = 0; s < S; s++) {
                    const int64_t i = (n * C + c) * S + s;
                    y[i] = scale[p] * (x[i] - mu) / sqrt(var + eps) + bias[p];
                }
            }
        }
}

/* ---- broadcasting ------------------------------------------------------- */

void ref_broadcast(const double *src, int srank, const int64_t *sdims, double *dst, int drank,
                   const int64_t *ddims)
{
    const int64_t total = rn_prod(ddims, 0, drank);
    int64_t coord[16];
    for (int64_t i = 0; i < total; i++) {
        /* Unravel i into dst coordinates. */
        int64_t rem = i;
        for (int k = drank - 1; k >= 0; k--) {
            coord[k] = rem % ddims[k];
            rem /= ddims[k];
        }
        /* Align src to the trailing dst axes; size-1 axes repeat. */
        int64_t j = 0;
        for (int k = 0; k < srank; k++) {
            int64_t dk = coord[drank - srank + k];
            j = j * sdims[k] + (sdims[k] == 1 ? 0 : dk);
        }
        dst[i] = src[j];
    }
}
