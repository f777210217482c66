/*
 * The packed product (ops/core/sgemm.h) against OpenBLAS (onn_sgemm of
 * ops/core/blas.h) on the convolution products of ResNet-18/50 and
 * MobileNetV2 at batch 1, M x N x K = output channels x output positions x
 * Cin * kh * kw. Not a test; built on request:
 *   cmake --build build --target sgemm_bench && build/tests/sgemm_bench [REPS] [FILTER]
 *
 * For every shape, GFLOP/s (2 M N K / time, the median of REPS samples of
 * at least 30 ms each, configurations interleaved so that drift in the
 * machine's load hits all alike) of:
 *   gemm  the product of A and an explicit B: OpenBLAS (its own threads)
 *         against the engine (A packed beforehand, as prepare does; threads
 *         over tiles with onn_sgemm_parallel);
 *   conv  for kernels larger than 1x1 or strided ones, what a convolution
 *         costs: im2col into a buffer (OpenMP over rows, as conv.c) plus
 *         OpenBLAS, against the engine reading the image (im2col source).
 * at 1 and 2 threads. ONNORM_ISA picks the engine's variant.
 *
 * On a machine shared with other work, SGEMM_BENCH_CLOCK=cpu times by the
 * process's CPU time instead of the wall clock: one thread's figures then
 * leave out the time other processes held the core (two threads' do not
 * mean much that way, their idle spinning counting as work), and
 * SGEMM_BENCH_THREADS=1 leaves out the two-thread runs.
 */
#define _POSIX_C_SOURCE 200809L
#include "ops/core/blas.h"
#include "ops/core/sgemm.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct shape {
    const char *net;
    int64_t m, c, h, w, kh, kw, stride, pad; /* out channels, in channels, input plane, window */
} shape;

/* 1x1 stride-1 shapes are plain products (B = X); the others go through im2col. */
static const shape shapes[] = {
    {"R18 conv1 7x7/2", 64, 3, 224, 224, 7, 7, 2, 3},
    {"R18 l1 3x3", 64, 64, 56, 56, 3, 3, 1, 1},
    {"R18 l2 3x3/2", 128, 64, 56, 56, 3, 3, 2, 1},
    {"R18 l2 3x3", 128, 128, 28, 28, 3, 3, 1, 1},
    {"R18 l3 3x3", 256, 256, 14, 14, 3, 3, 1, 1},
    {"R18 l4 3x3", 512, 512, 7, 7, 3, 3, 1, 1},
    {"R18 l4 1x1/2", 512, 256, 14, 14, 1, 1, 2, 0},
    {"R50 l1 1x1", 64, 64, 56, 56, 1, 1, 1, 0},
    {"R50 l1 1x1 up", 256, 64, 56, 56, 1, 1, 1, 0},
    {"R50 l1 1x1 down", 64, 256, 56, 56, 1, 1, 1, 0},
    {"R50 l2 1x1", 128, 512, 28, 28, 1, 1, 1, 0},
    {"R50 l2 1x1 up", 512, 128, 28, 28, 1, 1, 1, 0},
    {"R50 l3 1x1", 256, 1024, 14, 14, 1, 1, 1, 0},
    {"R50 l4 1x1 in", 512, 1024, 14, 14, 1, 1, 1, 0},
    {"R50 l4 1x1", 512, 2048, 7, 7, 1, 1, 1, 0},
    {"R50 l4 1x1 up", 2048, 512, 7, 7, 1, 1, 1, 0},
    {"MV2 stem 3x3/2", 32, 3, 224, 224, 3, 3, 2, 1},
    {"MV2 expand 112", 96, 16, 112, 112, 1, 1, 1, 0},
    {"MV2 project 56", 24, 144, 56, 56, 1, 1, 1, 0},
    {"MV2 expand 56", 144, 24, 56, 56, 1, 1, 1, 0},
    {"MV2 expand 14", 384, 64, 14, 14, 1, 1, 1, 0},
    {"MV2 project 7", 320, 960, 7, 7, 1, 1, 1, 0},
    {"MV2 last 1x1", 1280, 320, 7, 7, 1, 1, 1, 0},
};

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *randf(size_t n)
{
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64 + 64);
    if (!p) abort();
    uint64_t s = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (float)((double)(s >> 11) * 0x1p-52 - 1.0);
    }
    return p;
}

/* One configuration of one shape. */
typedef struct job {
    int kind; /* 0 gemm OpenBLAS, 1 gemm engine, 2 conv OpenBLAS + im2col, 3 conv engine */
    int threads;
} job;

typedef struct ctx {
    const shape *s;
    onn_geom g;
    int64_t m, n, k;
    float *a, *ap, *x, *col, *c, *scratch, *xp;
    int64_t *off, wp, hp;
    const onn_sgemm_engine *e;
} ctx;

/* conv.c's im2col for a 2-D window: row r = (channel, kh, kw). */
static void im2col(const ctx *t, int threads)
{
    const onn_geom *g = &t->g;
    const int64_t rows = t->k, OH = g->grid[0], OW = g->grid[1], H = g->sampled[0],
                  W = g->sampled[1];
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t ch = r / g->kernel_size, kk = r % g->kernel_size;
        const int64_t kh = kk / g->kernel[1], kw = kk % g->kernel[1];
        const float *x = t->x + ch * H * W;
        float *dst = t->col + r * OH * OW;
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                const int64_t ih = oh * g->stride[0] - g->pad_lo[0] + kh;
                const int64_t iw = ow * g->stride[1] - g->pad_lo[1] + kw;
                dst[oh * OW + ow] = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[ih * W + iw] : 0.0f;
            }
    }
}

static void run_job(const ctx *t, job j)
{
    const bool direct = t->s->kh == 1 && t->s->kw == 1 && t->s->stride == 1;
    const float *bmat = direct ? t->x : t->col;
    switch (j.kind) {
    case 0:
    case 2:
        if (j.kind == 2) im2col(t, j.threads);
        onn_sgemm(j.threads, false, false, t->m, t->n, t->k, 1.0f, t->a, t->k, bmat, t->n, 0.0f,
                  t->c, t->n);
        break;
    case 4: {
        const shape *sh = t->s;
        const float *data = t->x;
        onn_sgemm_rows rows = {t->off, t->g.grid[1], t->wp, false};
        if (!(sh->kh == 1 && sh->kw == 1 && sh->pad == 0)) {
            const int64_t H = sh->h, W = sh->w, plane = t->hp * t->wp;
            for (int64_t c = 0; c < sh->c; c++) {
                float *d = t->xp + c * plane;
                memset(d, 0, (size_t)(sh->pad * t->wp) * sizeof *d);
                for (int64_t h = 0; h < H; h++) {
                    float *dr = d + (h + sh->pad) * t->wp;
                    memset(dr, 0, (size_t)sh->pad * sizeof *dr);
                    memcpy(dr + sh->pad, t->x + (c * H + h) * W, (size_t)W * sizeof *dr);
                    memset(dr + sh->pad + W, 0, (size_t)(t->wp - W - sh->pad) * sizeof *dr);
                }
                memset(d + (H + sh->pad) * t->wp, 0,
                       (size_t)((t->hp - H - sh->pad) * t->wp) * sizeof *d);
            }
            data = t->xp;
            rows.overread = true;
        } else {
            rows.line = t->n, rows.pitch = t->n;
        }
        const onn_sgemm_args p = {t->m, t->n, t->k, t->ap, {data, 0, NULL, &rows},
                                  t->c, t->n, NULL, 0,     {NULL, 0, 0, 0}};
        onn_sgemm_parallel(t->e, &p, j.threads, t->scratch);
        break;
    }
    default: {
        const onn_sgemm_src src = j.kind == 1
                                      ? (onn_sgemm_src){bmat, t->n, NULL, NULL}
                                      : (onn_sgemm_src){t->x, t->g.sampled_size, &t->g, NULL};
        const onn_sgemm_args p = {t->m, t->n, t->k, t->ap, src,
                                  t->c, t->n, NULL, 0,     {NULL, 0, 0, 0}};
        onn_sgemm_parallel(t->e, &p, j.threads, t->scratch);
    }
    }
}

int main(int argc, char **argv)
{
    const int reps = argc > 1 ? atoi(argv[1]) : 9;
    const char *filter = argc > 2 ? argv[2] : NULL;
    const onn_sgemm_engine *e = onn_sgemm_engine_get(onn_isa_active());
    const char *clk = getenv("SGEMM_BENCH_CLOCK");
    if (clk && strcmp(clk, "cpu") == 0) clock_id = CLOCK_PROCESS_CPUTIME_ID;
    const char *mt = getenv("SGEMM_BENCH_THREADS");
    const int max_threads = mt && atoi(mt) == 1 ? 1 : 2;
    printf("engine %s (%d x %d tiles), median of %d samples, GFLOP/s by %s time\n",
           onn_isa_name(e->isa), e->mr, e->nr, reps,
           clock_id == CLOCK_MONOTONIC ? "wall-clock" : "CPU");
    printf("%-17s %-15s | %-23s | %-23s | %-23s | %-23s\n", "", "", "gemm, 1 thread",
           "gemm, 2 threads", "conv, 1 thread", "conv, 2 threads");
    printf("%-17s %-15s | %7s %7s %7s | %7s %7s %7s | %7s %7s %7s | %7s %7s %7s\n", "layer",
           "M x N x K", "OpenBLAS", "engine", "ratio", "OpenBLAS", "engine", "ratio", "+im2col",
           "engine", "ratio", "+im2col", "engine", "ratio");
    /* FILTER: the layer of that name, else every layer whose name has it. */
    bool exact = false;
    for (size_t si = 0; filter && si < sizeof shapes / sizeof *shapes; si++)
        exact = exact || strcmp(shapes[si].net, filter) == 0;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        const shape *s = &shapes[si];
        if (filter && (exact ? strcmp(s->net, filter) != 0 : !strstr(s->net, filter))) continue;
        ctx t = {.s = s, .e = e};
        onn_geom *g = &t.g;
        g->nsp = 2;
        g->sampled[0] = s->h, g->sampled[1] = s->w, g->kernel[0] = s->kh, g->kernel[1] = s->kw;
        for (int i = 0; i < 2; i++) {
            g->stride[i] = s->stride, g->dilation[i] = 1, g->pad_lo[i] = g->pad_hi[i] = s->pad;
            g->grid[i] = (g->sampled[i] + 2 * s->pad - g->kernel[i]) / s->stride + 1;
        }
        onn_geom_finish(g);
        t.m = s->m, t.n = g->grid_size, t.k = s->c * g->kernel_size;
        const bool direct = s->kh == 1 && s->kw == 1 && s->stride == 1;
        t.a = randf((size_t)(t.m * t.k));
        t.x = randf((size_t)(s->c * g->sampled_size));
        t.col = direct ? NULL : randf((size_t)(t.k * t.n));
        t.c = randf((size_t)(t.m * t.n));
        size_t bytes;
        onn_sgemm_pack_a_size(e, t.m, t.k, &bytes);
        t.ap = aligned_alloc(64, bytes + 64);
        onn_sgemm_pack_a(e, t.m, t.k, t.a, t.k, t.ap);
        onn_sgemm_scratch_size(e, t.m, t.n, t.k, 2, &bytes);
        t.scratch = aligned_alloc(64, bytes + 64);
        if (!direct) im2col(&t, 1);
        const bool can_direct = s->stride == 1;
        if (can_direct) {
            t.wp = s->w + 2 * s->pad, t.hp = s->h + 2 * s->pad;
            t.xp = randf((size_t)(s->c * t.hp * t.wp + 64));
            t.off = malloc(sizeof(int64_t) * (size_t)t.k);
            for (int64_t r = 0; r < t.k; r++) {
                const int64_t ch = r / g->kernel_size, kk = r % g->kernel_size;
                t.off[r] = direct ? r * g->sampled_size
                                  : ch * t.hp * t.wp + (kk / s->kw) * t.wp + kk % s->kw;
            }
        }

        job jobs[10];
        int nj = 0;
        for (int th = 1; th <= max_threads; th++) {
            for (int kind = 0; kind < (direct ? 2 : 4); kind++)
                jobs[nj++] = (job){kind, th};
            if (can_direct) jobs[nj++] = (job){4, th};
        }
        /* Calibrate: repetitions per sample for about 30 ms. */
        int inner[10];
        for (int j = 0; j < nj; j++) {
            run_job(&t, jobs[j]);
            double t0 = now_s();
            int n = 0;
            while (now_s() - t0 < 0.01)
                run_job(&t, jobs[j]), n++;
            inner[j] = (int)ceil(n * 3.0);
        }
        double *samples = malloc(sizeof(double) * (size_t)(reps * nj));
        for (int r = 0; r < reps; r++)
            for (int j = 0; j < nj; j++) {
                const double t0 = now_s();
                for (int i = 0; i < inner[j]; i++)
                    run_job(&t, jobs[j]);
                samples[j * reps + r] = (now_s() - t0) / inner[j];
            }
        double gf[10] = {0}, gd[3] = {0};
        for (int j = 0; j < nj; j++) {
            qsort(samples + j * reps, (size_t)reps, sizeof(double), cmp);
            const double v =
                2.0 * (double)t.m * (double)t.n * (double)t.k / samples[j * reps + reps / 2] * 1e-9;
            if (jobs[j].kind == 4)
                gd[jobs[j].threads] = v;
            else
                gf[jobs[j].threads * 4 - 4 + jobs[j].kind] = v;
        }
        char dims[32];
        snprintf(dims, sizeof dims, "%lldx%lldx%lld", (long long)t.m, (long long)t.n,
                 (long long)t.k);
        printf("%-17s %-15s | %7.1f %7.1f %7.2f | %7.1f %7.1f %7.2f", s->net, dims, gf[0], gf[1],
               gf[1] / gf[0], gf[4], gf[5], gf[5] / gf[4]);
        if (!direct)
            printf(" | %7.1f %7.1f %7.2f | %7.1f %7.1f %7.2f", gf[2], gf[3], gf[3] / gf[2], gf[6],
                   gf[7], gf[7] / gf[6]);
        if (can_direct) printf(" | direct %7.1f %7.1f", gd[1], gd[2]);
        printf("\n");
        fflush(stdout);
        free(samples);
        free(t.a), free(t.ap), free(t.x), free(t.col), free(t.c), free(t.scratch);
        free(t.xp), free(t.off);
    }
    return 0;
}
