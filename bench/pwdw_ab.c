/*
 * A 1x1 expansion and the depthwise convolution after it, separate (the
 * pointwise kernel over the whole plane, then the depthwise plane kernel
 * per channel, as Conv runs them) against fused (conv_pwdw.c's
 * ExpandDepthwise), timed alternately in one process; also the largest
 * difference between their outputs. Both stages apply a Clip(0, 6). Not a
 * test; built on request:
 *   cmake --build build --target pwdw_ab
 *   build/tests/pwdw_ab C E SIZE K STRIDE THREADS
 * C input channels of SIZE x SIZE, E expanded channels, a K x K depthwise
 * window padded K / 2. Prints the medians of 21 rounds (each at least
 * 20 ms of runs) and the median of the per-round ratios.
 */
#define _POSIX_C_SOURCE 200809L
#include "ops/core/dwconv.h"
#include "ops/core/threadpool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/ab_util.h"

#define ROUNDS 21
#define CHUNK 192 /* positions per pointwise task */

typedef struct layer {
    int64_t c, e, h, w, oh, ow, taps;
    const float *x, *w1, *w2, *packed;
    float *t, *y;
    onn_epilogue ep1, ep2;
    onn_dwconv_plan dw;
    onn_pwdw_plan fused;
    int64_t bands, blocks;
    char *scratch;
    size_t per_thread;
} layer;

static void expand_task(void *arg, int64_t i, int worker)
{
    (void)worker;
    const layer *l = arg;
    const int64_t plane = l->h * l->w, p0 = i * CHUNK;
    const onn_pw_args a = {.x = l->x,
                           .w = l->w1,
                           .y = l->t,
                           .ep = &l->ep1,
                           .m = l->e,
                           .k = l->c,
                           .plane = plane,
                           .xs = plane};
    onn_pw_range(&a, p0, p0 + CHUNK < plane ? p0 + CHUNK : plane);
}

static void depthwise_task(void *arg, int64_t ch, int worker)
{
    const layer *l = arg;
    onn_dwconv_plane(&l->dw, l->t + ch * l->h * l->w, l->w2 + ch * l->taps,
                     l->y + ch * l->oh * l->ow, NULL, &l->ep2, ch,
                     (float *)(l->scratch + (size_t)worker * l->per_thread));
}

static void fused_task(void *arg, int64_t t, int worker)
{
    const layer *l = arg;
    const int64_t band = t / l->blocks, e0 = t % l->blocks * 8;
    const int64_t oy0 = band * l->fused.band;
    const int64_t oy1 = oy0 + l->fused.band < l->oh ? oy0 + l->fused.band : l->oh;
    onn_pwdw_run(&l->fused, l->x, l->packed, &l->ep1, &l->ep2, l->y, oy0, oy1, e0,
                 (float *)(l->scratch + (size_t)worker * l->per_thread),
                 onn_pwdw_fast(onn_isa_active()));
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: pwdw_ab C E SIZE K STRIDE THREADS\n");
        return 2;
    }
    layer l;
    memset(&l, 0, sizeof l);
    l.c = atoll(argv[1]), l.e = atoll(argv[2]), l.h = l.w = atoll(argv[3]);
    const int64_t k = atoll(argv[4]), st = atoll(argv[5]);
    const int threads = atoi(argv[6]);
    if (l.c < 1 || l.e < 1 || l.h < 1 || k < 1 || st < 1 || threads < 1 || l.h + k / 2 * 2 < k) {
        fprintf(stderr, "pwdw_ab: invalid layer\n");
        return 2;
    }
    l.oh = l.ow = (l.h + k / 2 * 2 - k) / st + 1;
    l.taps = k * k;
    const onn_dwconv_shape s = {.h = l.h,
                                .w = l.w,
                                .oh = l.oh,
                                .ow = l.ow,
                                .kh = k,
                                .kw = k,
                                .sh = st,
                                .sw = st,
                                .dh = 1,
                                .dw = 1,
                                .pad_top = k / 2,
                                .pad_left = k / 2};
    if (!onn_pw_supported(onn_isa_active()) || !onn_dwconv_plan_init(&l.dw, &s, onn_isa_active()) ||
        !onn_pwdw_plan_init(&l.fused, l.c, l.e, &s)) {
        fprintf(stderr, "pwdw_ab: needs AVX2 and a plannable layer\n");
        return 1;
    }
    const int64_t plane = l.h * l.w, oplane = l.oh * l.ow;
    float *x = ab_alloc64((size_t)(l.c * plane) * sizeof(float));
    float *w1 = ab_alloc64((size_t)(l.e * l.c) * sizeof(float));
    float *w2 = ab_alloc64((size_t)(l.e * l.taps) * sizeof(float));
    float *b1 = ab_alloc64((size_t)l.e * sizeof(float)),
          *b2 = ab_alloc64((size_t)l.e * sizeof(float));
    float *packed = ab_alloc64(l.fused.packed_floats * sizeof(float));
    float *y_sep = ab_alloc64((size_t)(l.e * oplane) * sizeof(float));
    float *y_fused = ab_alloc64((size_t)(l.e * oplane) * sizeof(float));
    l.t = ab_alloc64((size_t)(l.e * plane) * sizeof(float));
    for (int64_t i = 0; i < l.c * plane; i++)
        x[i] = sinf(0.1f * (float)i);
    for (int64_t i = 0; i < l.e * l.c; i++)
        w1[i] = 0.2f * cosf(0.3f * (float)i);
    for (int64_t i = 0; i < l.e * l.taps; i++)
        w2[i] = 0.3f * sinf(0.7f * (float)i);
    for (int64_t i = 0; i < l.e; i++)
        b1[i] = b2[i] = 0.01f * (float)i;
    onn_pwdw_pack(&l.fused, w1, w2, packed);
    l.x = x, l.w1 = w1, l.w2 = w2, l.packed = packed;
    l.ep1 = (onn_epilogue){b1, ONN_ACT_CLIP, 0.0f, 6.0f};
    l.ep2 = (onn_epilogue){b2, ONN_ACT_CLIP, 0.0f, 6.0f};
    l.bands = (l.oh + l.fused.band - 1) / l.fused.band, l.blocks = l.fused.epad / 8;
    l.per_thread =
        l.fused.scratch_bytes > l.dw.scratch_bytes ? l.fused.scratch_bytes : l.dw.scratch_bytes;
    l.per_thread = (l.per_thread + 63) / 64 * 64;
    l.scratch = ab_alloc64(l.per_thread * (size_t)threads);
    static double t[2][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int v = 0; v < 2; v++) {
            int runs = 0;
            const double t0 = ab_now();
            double t1;
            do {
                if (v == 0) {
                    l.y = y_sep;
                    onn_parallel_for(threads, (plane + CHUNK - 1) / CHUNK, expand_task, &l);
                    onn_parallel_for(threads, l.e, depthwise_task, &l);
                } else {
                    l.y = y_fused;
                    onn_parallel_for(threads, l.bands * l.blocks, fused_task, &l);
                }
                runs++;
                t1 = ab_now();
            } while (t1 - t0 < 0.02);
            t[v][r] = (t1 - t0) / runs;
        }
    double ratio[ROUNDS], sep[ROUNDS], fused[ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        ratio[r] = t[0][r] / t[1][r], sep[r] = t[0][r], fused[r] = t[1][r];
    qsort(ratio, ROUNDS, sizeof *ratio, ab_cmp_double);
    qsort(sep, ROUNDS, sizeof *sep, ab_cmp_double);
    qsort(fused, ROUNDS, sizeof *fused, ab_cmp_double);
    double diff = 0.0;
    for (int64_t i = 0; i < l.e * oplane; i++)
        diff = fmax(diff, fabs((double)y_sep[i] - (double)y_fused[i]));
    printf("%lld -> %lld at %lldx%lld, %lldx%lld stride %lld, %d thread%s: separate %.1f us, "
           "fused %.1f us (band %lld), x%.2f, max difference %.2g\n",
           (long long)l.c, (long long)l.e, (long long)l.h, (long long)l.w, (long long)k,
           (long long)k, (long long)st, threads, threads > 1 ? "s" : "", sep[ROUNDS / 2] * 1e6,
           fused[ROUNDS / 2] * 1e6, (long long)l.fused.band, ratio[ROUNDS / 2], diff);
    free(x), free(w1), free(w2), free(b1), free(b2), free(packed), free(y_sep), free(y_fused);
    free(l.t), free(l.scratch);
    return 0;
}
