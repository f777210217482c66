/*
 * The convolution engine (ops/core/sgemm.h's onn_sgemm_conv_*) against
 * OpenBLAS (onn_sgemm of ops/core/blas.h) on the convolutions of ResNet-18
 * and -50, ResNeXt-50, GoogLeNet, DenseNet-121 and MobileNetV2 at batch 1.
 * Not a test; built on request:
 *   cmake --build build --target sgemm_bench && build/tests/sgemm_bench [REPS] [FILTER]
 *
 * First the machine's peak: a 1024 x 1024 x 1024 product by OpenBLAS and
 * by the engine (B packed per call), at 1 and 2 threads. Then per layer,
 * GFLOP/s (2 M N K / time, the median of REPS samples of at least 30 ms
 * each, configurations interleaved so that drift in the machine's load
 * hits all alike; M x N x K per group, times groups) of
 *   blas    im2col into a buffer (unless 1x1 stride 1) and OpenBLAS per
 *           group, as Conv's fallback does;
 *   packed  the engine, B packed per call (ONN_SGEMM_CONV_PACKED);
 *   direct  the engine, B read in place (ONN_SGEMM_CONV_DIRECT), where it
 *           applies;
 *   cvec    the engine's channel-vector source (ONN_SGEMM_CONV_CVEC),
 *           where this variant has it;
 * and which the plan picks (ONN_SGEMM_CONV_AUTO: P, D or C), at 1
 * and 2 threads. ONNORM_ISA picks the engine's variant.
 *
 * On a machine shared with other work, SGEMM_BENCH_CLOCK=cpu times by the
 * process's CPU time instead of the wall clock: one thread's figures then
 * leave out the time other processes held the core (two threads' do not
 * mean much that way, their idle spinning counting as work), and
 * SGEMM_BENCH_THREADS=1 leaves out the two-thread runs; SGEMM_BENCH_STAT=min
 * reports the fastest sample instead of the median.
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
    /* out channels, in channels, input plane, window, stride, pad, groups */
    int64_t m, c, h, w, kh, kw, stride, pad, group;
} shape;

static const shape shapes[] = {
    {"R18 conv1 7x7/2", 64, 3, 224, 224, 7, 7, 2, 3, 1},
    {"R18 l1 3x3", 64, 64, 56, 56, 3, 3, 1, 1, 1},
    {"R18 l2 3x3/2", 128, 64, 56, 56, 3, 3, 2, 1, 1},
    {"R18 l2 3x3", 128, 128, 28, 28, 3, 3, 1, 1, 1},
    {"R18 l3 3x3", 256, 256, 14, 14, 3, 3, 1, 1, 1},
    {"R18 l4 3x3", 512, 512, 7, 7, 3, 3, 1, 1, 1},
    {"R18 l2 1x1/2", 128, 64, 56, 56, 1, 1, 2, 0, 1},
    {"R18 l4 1x1/2", 512, 256, 14, 14, 1, 1, 2, 0, 1},
    {"R50 l1 1x1", 64, 64, 56, 56, 1, 1, 1, 0, 1},
    {"R50 l1 1x1 up", 256, 64, 56, 56, 1, 1, 1, 0, 1},
    {"R50 l1 1x1 down", 64, 256, 56, 56, 1, 1, 1, 0, 1},
    {"R50 l2 1x1", 128, 512, 28, 28, 1, 1, 1, 0, 1},
    {"R50 l2 1x1 up", 512, 128, 28, 28, 1, 1, 1, 0, 1},
    /* Transformer projections as 1x1 convolutions over 128 tokens (8 x 16)
     * and 1024 (32 x 32): a BERT-style encoder of width 384. */
    {"BERT qkv 384>1152 t128", 1152, 384, 8, 16, 1, 1, 1, 0, 1},
    {"BERT ffn1 384>1536 t128", 1536, 384, 8, 16, 1, 1, 1, 0, 1},
    {"BERT ffn2 1536>384 t128", 384, 1536, 8, 16, 1, 1, 1, 0, 1},
    {"BERT out 384>384 t128", 384, 384, 8, 16, 1, 1, 1, 0, 1},
    {"BERT ffn1 384>1536 t1024", 1536, 384, 32, 32, 1, 1, 1, 0, 1},
    {"R50 l3 1x1", 256, 1024, 14, 14, 1, 1, 1, 0, 1},
    {"R50 l3 1x1 up", 1024, 256, 14, 14, 1, 1, 1, 0, 1},
    {"R50 l4 1x1", 512, 2048, 7, 7, 1, 1, 1, 0, 1},
    {"R50 l4 1x1 up", 2048, 512, 7, 7, 1, 1, 1, 0, 1},
    {"R50 l2 3x3/2", 128, 128, 56, 56, 3, 3, 2, 1, 1},
    {"R50 l2 down 1x1/2", 512, 256, 56, 56, 1, 1, 2, 0, 1},
    {"R50 l4 down 1x1/2", 2048, 1024, 14, 14, 1, 1, 2, 0, 1},
    {"X50 l1 3x3 g32", 128, 128, 56, 56, 3, 3, 1, 1, 32},
    {"X50 l2 3x3 g32", 256, 256, 28, 28, 3, 3, 1, 1, 32},
    {"X50 l3 3x3 g32", 512, 512, 14, 14, 3, 3, 1, 1, 32},
    {"X50 l4 3x3 g32", 1024, 1024, 7, 7, 3, 3, 1, 1, 32},
    {"GN 3a 1x1", 64, 192, 28, 28, 1, 1, 1, 0, 1},
    {"GN 3a 3x3", 128, 96, 28, 28, 3, 3, 1, 1, 1},
    {"GN 3a 3x3 small", 32, 16, 28, 28, 3, 3, 1, 1, 1},
    {"GN 4a 3x3", 208, 96, 14, 14, 3, 3, 1, 1, 1},
    {"GN conv2 3x3", 192, 64, 56, 56, 3, 3, 1, 1, 1},
    {"D121 b1 1x1", 128, 160, 56, 56, 1, 1, 1, 0, 1},
    {"D121 b1 3x3", 32, 128, 56, 56, 3, 3, 1, 1, 1},
    {"D121 b2 3x3", 32, 128, 28, 28, 3, 3, 1, 1, 1},
    {"D121 b3 1x1", 128, 640, 14, 14, 1, 1, 1, 0, 1},
    {"D121 b3 3x3", 32, 128, 14, 14, 3, 3, 1, 1, 1},
    {"RG b1 3x3/2 g6", 48, 48, 112, 112, 3, 3, 2, 1, 6},
    {"RG b2 3x3 g13", 104, 104, 28, 28, 3, 3, 1, 1, 13},
    {"RG b3 3x3 g26", 208, 208, 14, 14, 3, 3, 1, 1, 26},
    {"RG b4 3x3 g55", 440, 440, 7, 7, 3, 3, 1, 1, 55},
    {"MV2 stem 3x3/2", 32, 3, 224, 224, 3, 3, 2, 1, 1},
    {"MV2 expand 112", 96, 16, 112, 112, 1, 1, 1, 0, 1},
    {"MV2 expand 56", 144, 24, 56, 56, 1, 1, 1, 0, 1},
    {"MV2 project 56", 24, 144, 56, 56, 1, 1, 1, 0, 1},
    {"MV2 last 1x1", 1280, 320, 7, 7, 1, 1, 1, 0, 1},
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

static void *alloc64(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!p) abort();
    return p;
}

static float *randf(size_t n)
{
    float *p = alloc64(n * sizeof(float));
    uint64_t s = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (float)((double)(s >> 11) * 0x1p-52 - 1.0);
    }
    return p;
}

/* One configuration of one layer. */
enum { JOB_BLAS, JOB_PACKED, JOB_DIRECT, JOB_CVEC, JOB_KINDS };
typedef struct job {
    int kind, threads;
    onn_sgemm_conv cv; /* the engine's plan */
    void *mem, *scratch;
} job;

typedef struct layer {
    const shape *s;
    onn_geom g;
    int64_t m, n, k; /* per group */
    float *w, *x, *col, *y;
} layer;

/* conv.c's im2col for a 2-D window, one group: row r = (channel, kh, kw). */
static void im2col(const layer *t, const float *x, int threads)
{
    const onn_geom *g = &t->g;
    const int64_t rows = t->k, OH = g->grid[0], OW = g->grid[1], H = g->sampled[0],
                  W = g->sampled[1];
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t ch = r / g->kernel_size, kk = r % g->kernel_size;
        const int64_t kh = kk / g->kernel[1], kw = kk % g->kernel[1];
        const float *xc = x + ch * H * W;
        float *dst = t->col + r * OH * OW;
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                const int64_t ih = oh * g->stride[0] - g->pad_lo[0] + kh;
                const int64_t iw = ow * g->stride[1] - g->pad_lo[1] + kw;
                dst[oh * OW + ow] = ih >= 0 && ih < H && iw >= 0 && iw < W ? xc[ih * W + iw] : 0.0f;
            }
    }
}

static void run_job(const layer *t, const job *j)
{
    if (j->kind != JOB_BLAS) {
        const onn_epilogue ep = {NULL, ONN_ACT_NONE, 0, 0};
        onn_sgemm_conv_run(&j->cv, t->x, t->y, NULL, &ep, j->scratch);
        return;
    }
    const shape *s = t->s;
    const bool direct = s->kh == 1 && s->kw == 1 && s->stride == 1;
    for (int64_t gi = 0; gi < s->group; gi++) {
        const float *xg = t->x + gi * (s->c / s->group) * t->g.sampled_size;
        if (!direct) im2col(t, xg, j->threads);
        onn_sgemm(j->threads, false, false, t->m, t->n, t->k, 1.0f, t->w + gi * t->m * t->k, t->k,
                  direct ? xg : t->col, t->n, 0.0f, t->y + gi * t->m * t->n, t->n);
    }
}

/* Samples of each job, interleaved; the median GFLOP/s of each into gf. */
static void measure(const layer *t, job *jobs, int nj, int reps, double flops, double *gf)
{
    int inner[16];
    for (int j = 0; j < nj; j++) { /* about 30 ms per sample */
        run_job(t, &jobs[j]);
        const double t0 = now_s();
        int n = 0;
        while (now_s() - t0 < 0.01)
            run_job(t, &jobs[j]), n++;
        inner[j] = (int)ceil(n * 3.0);
    }
    double *samples = malloc(sizeof(double) * (size_t)(reps * nj));
    for (int r = 0; r < reps; r++)
        for (int j = 0; j < nj; j++) {
            const double t0 = now_s();
            for (int i = 0; i < inner[j]; i++)
                run_job(t, &jobs[j]);
            samples[j * reps + r] = (now_s() - t0) / inner[j];
        }
    for (int j = 0; j < nj; j++) {
        qsort(samples + j * reps, (size_t)reps, sizeof(double), cmp);
        /* SGEMM_BENCH_STAT=min: the fastest sample, the least disturbed
         * on a machine shared with other work */
        const char *stat = getenv("SGEMM_BENCH_STAT");
        const int at = stat && strcmp(stat, "min") == 0 ? 0 : reps / 2;
        gf[j] = flops / samples[j * reps + at] * 1e-9;
    }
    free(samples);
}

/* The peak: a large square product, OpenBLAS and the engine (packing B). */
static void peak(const onn_sgemm_engine *e, int reps, int max_threads)
{
    const int64_t n = 1024;
    float *a = randf((size_t)(n * n)), *b = randf((size_t)(n * n)), *c = randf((size_t)(n * n));
    size_t bytes;
    onn_sgemm_pack_a_size(e, n, n, &bytes);
    float *ap = alloc64(bytes);
    onn_sgemm_pack_a(e, n, n, a, n, ap);
    onn_sgemm_scratch_size(e, n, n, n, max_threads, &bytes);
    float *scratch = alloc64(bytes);
    const onn_sgemm_args p = {
        .m = n, .n = n, .k = n, .a = ap, .b = {.data = b, .ld = n}, .c = c, .ldc = n};
    printf("peak, %lldx%lldx%lld:", (long long)n, (long long)n, (long long)n);
    for (int th = 1; th <= max_threads; th++) {
        double best[2] = {0, 0};
        for (int r = 0; r < reps; r++)
            for (int which = 0; which < 2; which++) {
                const double t0 = now_s();
                if (which == 0)
                    onn_sgemm(th, false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
                else
                    onn_sgemm_parallel(e, &p, th, scratch);
                const double gf = 2.0 * (double)n * n * n / (now_s() - t0) * 1e-9;
                if (gf > best[which]) best[which] = gf;
            }
        printf("  %d thread%s: OpenBLAS %.1f, engine %.1f GFLOP/s (best of %d)", th,
               th > 1 ? "s" : "", best[0], best[1], reps);
    }
    printf("\n");
    free(a), free(b), free(c), free(ap), free(scratch);
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
    if (!filter || strcmp(filter, "peak") == 0) peak(e, reps, max_threads);
    printf("%-18s %-19s", "layer", "M x N x K (x groups)");
    for (int th = 1; th <= max_threads; th++)
        printf(" | %d thread%s: blas packed  direct   cvec plan", th, th > 1 ? "s" : " ");
    printf("\n");
    /* FILTER: the layer of that name, else every layer whose name has it. */
    bool exact = false;
    for (size_t si = 0; filter && si < sizeof shapes / sizeof *shapes; si++)
        exact = exact || strcmp(shapes[si].net, filter) == 0;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        const shape *s = &shapes[si];
        if (filter && (exact ? strcmp(s->net, filter) != 0 : !strstr(s->net, filter))) continue;
        layer t = {.s = s};
        onn_geom *g = &t.g;
        g->nsp = 2;
        g->sampled[0] = s->h, g->sampled[1] = s->w, g->kernel[0] = s->kh, g->kernel[1] = s->kw;
        for (int i = 0; i < 2; i++) {
            g->stride[i] = s->stride, g->dilation[i] = 1, g->pad_lo[i] = g->pad_hi[i] = s->pad;
            g->grid[i] = (g->sampled[i] + 2 * s->pad - g->kernel[i]) / s->stride + 1;
        }
        onn_geom_finish(g);
        const int64_t cg = s->c / s->group;
        t.m = s->m / s->group, t.n = g->grid_size, t.k = cg * g->kernel_size;
        t.w = randf((size_t)(s->m * t.k));
        t.x = randf((size_t)(s->c * g->sampled_size));
        t.col = randf((size_t)(t.k * t.n));
        t.y = randf((size_t)(s->m * t.n));

        job jobs[2 * JOB_KINDS];
        int nj = 0;
        char plan[3] = "";
        for (int th = 1; th <= max_threads; th++) {
            onn_sgemm_conv auto_cv;
            onn_sgemm_conv_plan(&auto_cv, e, g, 1, s->c, s->m, s->group, th, ONN_SGEMM_CONV_AUTO);
            plan[th - 1] = auto_cv.kind == ONN_SGEMM_CONV_DIRECT ? 'D'
                           : auto_cv.kind == ONN_SGEMM_CONV_CVEC ? 'C'
                                                                 : 'P';
            for (int kind = 0; kind < JOB_KINDS; kind++) {
                job *j = &jobs[nj];
                memset(j, 0, sizeof *j);
                j->kind = kind, j->threads = th;
                if (kind != JOB_BLAS) {
                    const onn_sgemm_conv_kind want = kind == JOB_DIRECT ? ONN_SGEMM_CONV_DIRECT
                                                     : kind == JOB_CVEC ? ONN_SGEMM_CONV_CVEC
                                                                        : ONN_SGEMM_CONV_PACKED;
                    onn_sgemm_conv_plan(&j->cv, e, g, 1, s->c, s->m, s->group, th, want);
                    if (kind != JOB_PACKED && j->cv.kind != want) continue;
                    j->mem = alloc64(j->cv.const_bytes);
                    j->scratch = alloc64(j->cv.scratch_bytes);
                    onn_sgemm_conv_init(&j->cv, t.w, j->mem);
                }
                nj++;
            }
        }
        double gf[2 * JOB_KINDS];
        measure(&t, jobs, nj, reps, 2.0 * (double)s->m * (double)t.n * (double)t.k, gf);
        char dims[40];
        snprintf(dims, sizeof dims, "%lldx%lldx%lld", (long long)t.m, (long long)t.n,
                 (long long)t.k);
        if (s->group > 1)
            snprintf(dims + strlen(dims), sizeof dims - strlen(dims), " x%lld",
                     (long long)s->group);
        printf("%-18s %-19s", s->net, dims);
        for (int th = 1, j = 0; th <= max_threads; th++) {
            double v[JOB_KINDS] = {0, 0, 0, 0};
            for (; j < nj && jobs[j].threads == th; j++)
                v[jobs[j].kind] = gf[j];
            printf(" |          %6.1f %6.1f ", v[0], v[1]);
            for (int q = JOB_DIRECT; q <= JOB_CVEC; q++)
                if (v[q] > 0)
                    printf(" %6.1f", v[q]);
                else
                    printf(" %6s", "-");
            printf("    %c", plan[th - 1]);
        }
        printf("\n");
        fflush(stdout);
        for (int j = 0; j < nj; j++)
            free(jobs[j].mem), free(jobs[j].scratch);
        free(t.w), free(t.x), free(t.col), free(t.y);
    }
    return 0;
}
