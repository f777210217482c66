/* Float64 reference implementations of the normalization ops, written
 * straight from the ONNX spec (naive two-pass loops), for the unit tests.
 *
 * Nothing here includes or calls library code: every function works on
 * plain double arrays with an explicit shape (rank, dims), computes the
 * mean first and then the population variance as the mean of (x - mean)^2,
 * and applies epsilon inside the square root, exactly as the spec writes
 * the formulas. The file also holds the deterministic data generator the
 * tests share.
 */
#ifndef ONNORM_TEST_REFNORM_H
#define ONNORM_TEST_REFNORM_H

#include <stdint.h>

/* ---- deterministic data ------------------------------------------------- */
typedef struct rn_rng {
    uint64_t state;
    int has_spare;
    double spare;
} rn_rng;

void rn_seed(rn_rng *r, uint64_t seed);
uint64_t rn_next(rn_rng *r);                        /* splitmix64 */
double rn_uniform(rn_rng *r, double lo, double hi); /* in [lo, hi) */
double rn_normal(rn_rng *r);                        /* N(0, 1), Box-Muller */

/* d[i] = mean + std * N(0,1). With as_float the values are rounded to
 * float32, so the reference sees exactly what a float32 kernel reads. */
void rn_fill_normal(rn_rng *r, double *d, int64_t n, double mean, double std, int as_float);
void rn_fill_uniform(rn_rng *r, double *d, int64_t n, double lo, double hi, int as_float);

/* prod(dims[from:to]); 1 for an empty range. */
int64_t rn_prod(const int64_t *dims, int from, int to);

/* ---- reference operators ------------------------------------------------ */

/* BatchNormalization, inference:
 *   y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c].
 * X (rank >= 1) is viewed as [N, C, S]: N = dims[0]; with spatial != 0,
 * C = dims[1] (1 for a 1-D X) and S = prod(dims[2:]); with spatial == 0 the
 * parameters are per activation, C = prod(dims[1:]) and S = 1. */
void ref_bn_infer(const double *x, int rank, const int64_t *dims, int spatial, const double *scale,
                  const double *bias, const double *mean, const double *var, double eps, double *y);

/* BatchNormalization, training (spatial): batch mean and population
 * variance of each channel over every axis but 1; y is normalized with the
 * batch statistics, and
 *   running_mean = input_mean * momentum + batch_mean * (1 - momentum)
 *   running_var  = input_var  * momentum + batch_var  * (1 - momentum).
 * Any of the last four outputs may be NULL. */
void ref_bn_train(const double *x, int rank, const int64_t *dims, const double *scale,
                  const double *bias, const double *input_mean, const double *input_var, double eps,
                  double momentum, double *y, double *running_mean, double *running_var,
                  double *batch_mean, double *batch_var);

/* InstanceNormalization: per (n, c), statistics over the axes 2..rank-1,
 * y = scale[c] * (x - mean) / sqrt(var + eps) + bias[c]. rank >= 2. */
void ref_instancenorm(const double *x, int rank, const int64_t *dims, const double *scale,
                      const double *bias, double eps, double *y);

/* LayerNormalization (opset 17): X viewed as [rows, M] with
 * M = prod(dims[axis:]) (axis may be negative). scale and bias (bias may be
 * NULL = zeros) hold M values in row-major order of the normalized shape
 * (use ref_broadcast to expand smaller ones). mean and inv_std (either may be
 * NULL) receive `rows` values; inv_std = 1 / sqrt(var + eps). */
void ref_layernorm(const double *x, int rank, const int64_t *dims, int axis, const double *scale,
                   const double *bias, double eps, double *y, double *mean, double *inv_std);

/* GroupNormalization: the C = dims[1] channels form `groups` groups of C/G
 * consecutive channels; per (n, g), statistics over the group's channels and
 * all spatial positions. opset 18: scale/bias have `groups` elements (one
 * per group); opset 21: C elements (one per channel). */
void ref_groupnorm(const double *x, int rank, const int64_t *dims, int64_t groups, int opset,
                   const double *scale, const double *bias, double eps, double *y);

/* Unidirectional (numpy) broadcast of src, shaped sdims (srank <= drank),
 * to dst shaped ddims. */
void ref_broadcast(const double *src, int srank, const int64_t *sdims, double *dst, int drank,
                   const int64_t *ddims);

#endif
