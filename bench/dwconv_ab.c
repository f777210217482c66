/*
 * One depthwise layer through the plane kernels (dwconv.h's
 * onn_dwconv_plane, channel by channel) and the channels-last kernel
 * (onn_dwcl_block, 8 channels at a time), timed alternately in one process,
 * 1 thread; also the largest difference between their outputs. Not a test;
 * built on request:
 *   cmake --build build --target dwconv_ab
 *   build/tests/dwconv_ab C SIZE K STRIDE
 * C channels of SIZE x SIZE, a K x K window padded K / 2. Prints the median
 * of 21 rounds (each at least 10 ms of runs) per kernel and the median of
 * the per-round ratios.
 */
#define _POSIX_C_SOURCE 200809L
#include "ops/core/dwconv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/ab_util.h"

#define ROUNDS 21

/* Every channel of x into y: the plane kernels, or the channels-last one
 * for whole blocks of 8 and the plane kernels for the rest. */
static void run(bool cl, const onn_dwconv_plan *dp, const onn_dwcl_plan *cp, int64_t c, int64_t in,
                int64_t out, int64_t taps, const float *x, const float *w, float *y,
                const onn_epilogue *ep, float *scratch)
{
    int64_t ch = 0;
    if (cl)
        for (; ch + 8 <= c; ch += 8)
            onn_dwcl_block(cp, x + ch * in, in, w + ch * taps, y + ch * out, NULL, ep, ch, scratch);
    for (; ch < c; ch++)
        onn_dwconv_plane(dp, x + ch * in, w + ch * taps, y + ch * out, NULL, ep, ch, scratch);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: dwconv_ab C SIZE K STRIDE\n");
        return 2;
    }
    const int64_t c = atoll(argv[1]), h = atoll(argv[2]), k = atoll(argv[3]);
    const int64_t st = atoll(argv[4]), pad = k / 2;
    if (c < 1 || h < 1 || k < 1 || st < 1 || h + 2 * pad < k) {
        fprintf(stderr, "dwconv_ab: invalid layer\n");
        return 2;
    }
    const int64_t oh = (h + 2 * pad - k) / st + 1;
    const onn_dwconv_shape s = {h, h, oh, oh, k, k, st, st, 1, 1, pad, pad};
    onn_dwconv_plan dp;
    onn_dwcl_plan cp;
    if (!onn_dwconv_plan_init(&dp, &s, onn_isa_active()) ||
        !onn_dwcl_plan_init(&cp, &s, onn_isa_active())) {
        fprintf(stderr, "dwconv_ab: no channels-last kernel for this CPU or shape\n");
        return 1;
    }
    const int64_t in = h * h, out = oh * oh, taps = k * k;
    float *x = ab_alloc64((size_t)(c * in) * sizeof(float));
    float *w = ab_alloc64((size_t)(c * taps) * sizeof(float));
    float *y0 = ab_alloc64((size_t)(c * out) * sizeof(float));
    float *y1 = ab_alloc64((size_t)(c * out) * sizeof(float));
    float *bias = ab_alloc64((size_t)c * sizeof(float));
    float *scratch =
        ab_alloc64(dp.scratch_bytes > cp.scratch_bytes ? dp.scratch_bytes : cp.scratch_bytes);
    for (int64_t i = 0; i < c * in; i++)
        x[i] = (float)(i * 7919 % 1000) / 1000.0f - 0.5f;
    for (int64_t i = 0; i < c * taps; i++)
        w[i] = (float)(i * 104729 % 1000) / 1000.0f - 0.5f;
    for (int64_t i = 0; i < c; i++)
        bias[i] = 0.1f * (float)i;
    onn_epilogue ep;
    memset(&ep, 0, sizeof ep);
    ep.bias = bias;
    static double t[2][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int v = 0; v < 2; v++) {
            int runs = 0;
            const double t0 = ab_now();
            double t1;
            do {
                run(v == 1, &dp, &cp, c, in, out, taps, x, w, v ? y1 : y0, &ep, scratch);
                runs++;
                t1 = ab_now();
            } while (t1 - t0 < 0.01);
            t[v][r] = (t1 - t0) / runs;
        }
    double diff = 0.0;
    for (int64_t i = 0; i < c * out; i++)
        diff = fmax(diff, fabs((double)y0[i] - (double)y1[i]));
    double ratio[ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        ratio[r] = t[0][r] / t[1][r];
    qsort(ratio, ROUNDS, sizeof *ratio, ab_cmp_double);
    qsort(t[0], ROUNDS, sizeof(double), ab_cmp_double);
    qsort(t[1], ROUNDS, sizeof(double), ab_cmp_double);
    const double flops = 2.0 * (double)(c * out * taps);
    printf("%lldx%lldx%lld k%lld s%lld: plane %.3f ms (%.1f GFLOP/s), channels-last %.3f ms "
           "(%.1f GFLOP/s), x%.2f, max difference %.2g\n",
           (long long)c, (long long)h, (long long)h, (long long)k, (long long)st,
           t[0][ROUNDS / 2] * 1e3, flops / t[0][ROUNDS / 2] / 1e9, t[1][ROUNDS / 2] * 1e3,
           flops / t[1][ROUNDS / 2] / 1e9, ratio[ROUNDS / 2], diff);
    free(x), free(w), free(y0), free(y1), free(bias), free(scratch);
    return 0;
}
