/*
 * One convolution layer through several of the engine's sources, timed
 * alternately in one process: on a machine whose speed drifts by tens of
 * percent from one minute to the next, the ratio of interleaved samples is
 * what holds still. Not a test; built on request:
 *   cmake --build build --target conv_ab
 *   build/tests/conv_ab M C H W K STRIDE PAD GROUP THREADS SOURCE...
 * M output channels, C input channels, an H x W image, a K x K window with
 * that stride and pad on both axes; SOURCE is packed, direct, cvec or auto
 * (the plan's choice), or pw (conv_pw.c's pointwise kernel, 1x1 stride 1
 * without padding, group 1 only) Prints, per source, GFLOP/s of the median of 21
 * rounds (each at least 20 ms of runs) and the median of its per-round
 * ratio to the first source.
 */
#define _POSIX_C_SOURCE 200809L
#include "ops/core/dwconv.h"
#include "ops/core/epilogue.h"
#include "ops/core/sgemm.h"
#include "ops/core/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/ab_util.h"

#define ROUNDS 21
#define MAX_SOURCES 8

static bool source_of(const char *name, onn_sgemm_conv_kind *kind)
{
    static const struct {
        const char *name;
        onn_sgemm_conv_kind kind;
    } names[] = {{"auto", ONN_SGEMM_CONV_AUTO},
                 {"packed", ONN_SGEMM_CONV_PACKED},
                 {"direct", ONN_SGEMM_CONV_DIRECT},
                 {"cvec", ONN_SGEMM_CONV_CVEC}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i].name)) return *kind = names[i].kind, true;
    return false;
}

/* The pointwise kernel's tasks, as conv.c runs them for one image. */
typedef struct pw_job {
    onn_pw_args a;
    onn_pw_split s;
} pw_job;

static void pw_task(void *arg, int64_t t, int worker)
{
    (void)worker;
    const pw_job *j = arg;
    const onn_pw_piece q = onn_pw_task(&j->s, t);
    onn_pw_block(&j->a, q.m0, q.m1, q.p0, q.p1);
}

int main(int argc, char **argv)
{
    if (argc < 11 || argc - 10 > MAX_SOURCES) {
        fprintf(stderr, "usage: conv_ab M C H W K STRIDE PAD GROUP THREADS SOURCE... (packed, "
                        "direct, cvec, auto; at most 8)\n");
        return 2;
    }
    const int64_t m = atoll(argv[1]), c = atoll(argv[2]), h = atoll(argv[3]), w = atoll(argv[4]);
    const int64_t k = atoll(argv[5]), st = atoll(argv[6]), pad = atoll(argv[7]);
    const int64_t group = atoll(argv[8]);
    const int threads = atoi(argv[9]), n_src = argc - 10;
    if (m < 1 || c < 1 || h < 1 || w < 1 || k < 1 || st < 1 || pad < 0 || group < 1 || c % group ||
        m % group || threads < 1 || h + 2 * pad < k || w + 2 * pad < k) {
        fprintf(stderr, "conv_ab: invalid layer\n");
        return 2;
    }
    onn_geom g;
    memset(&g, 0, sizeof g);
    g.nsp = 2;
    g.sampled[0] = h, g.sampled[1] = w;
    for (int i = 0; i < 2; i++) {
        g.kernel[i] = k, g.stride[i] = st, g.dilation[i] = 1;
        g.pad_lo[i] = g.pad_hi[i] = pad;
    }
    g.grid[0] = (h + 2 * pad - k) / st + 1, g.grid[1] = (w + 2 * pad - k) / st + 1;
    g.sampled_size = h * w, g.grid_size = g.grid[0] * g.grid[1], g.kernel_size = k * k;
    g.line_len = g.grid[1], g.n_lines = g.grid[0];
    const onn_sgemm_engine *e = onn_sgemm_engine_get(onn_isa_active());
    if (!e) {
        fprintf(stderr, "conv_ab: no engine for this CPU\n");
        return 1;
    }
    const int64_t wk = m * (c / group) * k * k;
    float *x = ab_alloc64((size_t)(c * h * w) * sizeof(float));
    float *wt = ab_alloc64((size_t)wk * sizeof(float));
    float *y = ab_alloc64((size_t)(m * g.grid_size) * sizeof(float));
    for (int64_t i = 0; i < c * h * w; i++)
        x[i] = (float)(i * 7919 % 1000) / 1000.0f - 0.5f;
    for (int64_t i = 0; i < wk; i++)
        wt[i] = (float)(i * 104729 % 1000) / 1000.0f - 0.5f;
    onn_sgemm_conv cv[MAX_SOURCES];
    void *mem[MAX_SOURCES], *scratch[MAX_SOURCES];
    onn_epilogue ep;
    memset(&ep, 0, sizeof ep);
    pw_job pw = {.a = {.x = x,
                       .w = wt,
                       .y = y,
                       .ep = &ep,
                       .m = m,
                       .k = c,
                       .plane = g.grid_size,
                       .xs = g.grid_size}};
    onn_pw_split_init(&pw.s, 1, m, g.grid_size, threads);
    bool is_pw[MAX_SOURCES];
    for (int v = 0; v < n_src; v++) {
        mem[v] = scratch[v] = NULL;
        is_pw[v] = !strcmp(argv[10 + v], "pw");
        if (is_pw[v]) {
            if (k != 1 || st != 1 || pad || group != 1 || !onn_pw_supported(onn_isa_active())) {
                fprintf(stderr, "conv_ab: pw takes 1x1 stride-1 group-1 layers on AVX2\n");
                return 2;
            }
            continue;
        }
        onn_sgemm_conv_kind kind;
        if (!source_of(argv[10 + v], &kind)) {
            fprintf(stderr, "conv_ab: unknown source '%s'\n", argv[10 + v]);
            return 2;
        }
        if (!onn_sgemm_conv_plan(&cv[v], e, &g, 1, c, m, group, threads, kind)) {
            fprintf(stderr, "conv_ab: the plan failed\n");
            return 1;
        }
        mem[v] = ab_alloc64(cv[v].const_bytes);
        scratch[v] = ab_alloc64(cv[v].scratch_bytes);
        onn_sgemm_conv_init(&cv[v], wt, mem[v]);
    }
    static double t[MAX_SOURCES][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int v = 0; v < n_src; v++) {
            int runs = 0;
            const double t0 = ab_now();
            double t1;
            do {
                if (is_pw[v])
                    onn_parallel_for(threads, pw.s.tasks, pw_task, &pw);
                else
                    onn_sgemm_conv_run(&cv[v], x, y, NULL, &ep, scratch[v]);
                runs++;
                t1 = ab_now();
            } while (t1 - t0 < 0.02);
            t[v][r] = (t1 - t0) / runs;
        }
    const double flops = 2.0 * (double)m * (double)g.grid_size * (double)(c / group * k * k);
    printf("%lldx%lldx%lldx%lld k%lld s%lld p%lld g%lld, %d thread%s:", (long long)m, (long long)c,
           (long long)h, (long long)w, (long long)k, (long long)st, (long long)pad,
           (long long)group, threads, threads > 1 ? "s" : "");
    for (int v = 0; v < n_src; v++) {
        double ratio[ROUNDS], sorted[ROUNDS];
        for (int r = 0; r < ROUNDS; r++)
            ratio[r] = t[0][r] / t[v][r], sorted[r] = t[v][r];
        qsort(ratio, ROUNDS, sizeof *ratio, ab_cmp_double);
        qsort(sorted, ROUNDS, sizeof *sorted, ab_cmp_double);
        printf("  %s %.1f GFLOP/s (x%.2f)", argv[10 + v], flops / sorted[ROUNDS / 2] / 1e9,
               ratio[ROUNDS / 2]);
        free(mem[v]), free(scratch[v]);
    }
    printf("\n");
    free(x), free(wt), free(y);
    return 0;
}
