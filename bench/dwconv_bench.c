/*
 * Depthwise convolution: the 3x3 layers of MobileNetV2 and the 5x5 ones of
 * EfficientNet-B0, single thread, in
 * GB/s (one read of X plus one write of Y over the time) and as a multiple
 * of the copy floor (a loop that reads X once and writes Y once, timed on
 * the same buffers).
 *
 *   conv       a one-node Conv model (group = C, bias) through the public
 *              API, 1 thread: whatever path the library takes, so the same
 *              file measures an older library (the loop before dwconv.h).
 *   <variant>  the plane kernels of ops/core/dwconv.h called directly, for
 *              every instruction-set variant this CPU runs (when the tree
 *              has dwconv.h).
 *
 * Each line gives the median run and the fastest. Not a test, and not
 * built by default:
 *   cmake --build build --target dwconv_bench && build/tests/dwconv_bench [ITERS [LAYER]]
 * where LAYER, when given, keeps only the layers whose name (as printed,
 * e.g. "960x7x7 k3 s1") contains it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder.h"
#include "onnorm.h"

#if __has_include("ops/core/dwconv.h")
#include "ops/core/dwconv.h"
#define HAVE_DWCONV 1
#endif

typedef struct layer {
    int64_t c, h, w, k, s;
} layer;

/* MobileNetV2's depthwise layers (3x3), then EfficientNet-B0's 5x5 ones;
 * pads k / 2. */
static const layer layers[] = {
    {32, 112, 112, 3, 1}, {96, 112, 112, 3, 2}, {144, 56, 56, 3, 1}, {144, 56, 56, 3, 2},
    {192, 28, 28, 3, 1},  {384, 14, 14, 3, 1},  {576, 14, 14, 3, 2}, {960, 7, 7, 3, 1},
    {144, 56, 56, 5, 2},  {240, 28, 28, 5, 1},  {672, 14, 14, 5, 1}, {672, 14, 14, 5, 2},
    {1152, 7, 7, 5, 1},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median and the fastest seconds of `iters` calls of fn(arg) after one
 * warm-up call (on a shared machine the fastest shows what the code can
 * do, the median what it did). */
typedef struct timing {
    double median, best;
} timing;

static timing time_it(void (*fn)(void *), void *arg, int iters)
{
    double *t = malloc((size_t)iters * sizeof *t);
    fn(arg);
    for (int i = 0; i < iters; i++) {
        double t0 = now_s();
        fn(arg);
        t[i] = now_s() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_d);
    const timing r = {t[iters / 2], t[0]};
    free(t);
    return r;
}

typedef struct job {
    const layer *l;
    int64_t oh, ow, nx, ny;
    float *x, *w, *b, *y;
    onnorm_session *s;
#ifdef HAVE_DWCONV
    onn_dwconv_plan plan;
    float *scratch;
#endif
} job;

/* The copy floor: every element of X read once and every element of Y
 * written once, Y's elements as the sums of X's ny-long blocks, summed in
 * a row of L1 (loops that vectorize). */
static void run_floor(void *arg)
{
    job *j = arg;
    enum { B = 512 };
    float acc[B];
    const int64_t r = j->nx / j->ny;
    for (int64_t i0 = 0; i0 < j->ny; i0 += B) {
        const int64_t n = j->ny - i0 < B ? j->ny - i0 : B;
        const float *x = j->x + i0;
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            acc[i] = x[i];
        for (int64_t k = 1; k < r; k++)
#pragma omp simd
            for (int64_t i = 0; i < n; i++)
                acc[i] += x[k * j->ny + i];
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            j->y[i0 + i] = acc[i];
    }
}

static void run_conv(void *arg)
{
    job *j = arg;
    onnorm_error e;
    if (onnorm_session_run(j->s, &e)) {
        fprintf(stderr, "run: %s\n", e.message);
        exit(1);
    }
}

#ifdef HAVE_DWCONV
static void run_planes(void *arg)
{
    job *j = arg;
    const onn_epilogue ep = {j->b, ONN_ACT_NONE, 0.0f, 0.0f};
    const int64_t psz = j->l->h * j->l->w, osz = j->oh * j->ow;
    for (int64_t c = 0; c < j->l->c; c++)
        onn_dwconv_plane(&j->plan, j->x + c * psz, j->w + c * j->l->k * j->l->k, j->y + c * osz,
                         NULL, &ep, c, j->scratch);
}
#endif

static onnorm_session *conv_session(job *j)
{
    const layer *l = j->l;
    tb_model *b = tb_new(13);
    tb_input(b, "X", ONNORM_FLOAT, 4, (int64_t[]){1, l->c, l->h, l->w});
    tb_init(b, "W", ONNORM_FLOAT, 4, (int64_t[]){l->c, 1, l->k, l->k}, j->w);
    tb_init(b, "B", ONNORM_FLOAT, 1, (int64_t[]){l->c}, j->b);
    tb_node *n =
        tb_node_add(b, "Conv", "dw", 3, (const char *[]){"X", "W", "B"}, 1, (const char *[]){"Y"});
    tb_attr_int(n, "group", l->c);
    const int64_t p = l->k / 2;
    tb_attr_ints(n, "pads", 4, (int64_t[]){p, p, p, p});
    tb_attr_ints(n, "strides", 2, (int64_t[]){l->s, l->s});
    tb_output(b, "Y", ONNORM_FLOAT);
    onnorm_model *m;
    onnorm_session *s;
    onnorm_error e;
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = 1;
    if (tb_load(b, &m, &e) || onnorm_session_create(m, &o, &s, &e) ||
        onnorm_session_bind_input(s, "X", ONNORM_FLOAT, (int64_t[]){1, l->c, l->h, l->w}, 4, j->x,
                                  &e)) {
        fprintf(stderr, "conv model: %s\n", e.message);
        exit(1);
    }
    tb_free(b);
    /* The session reads the model while it lives; both are freed at exit. */
    return s;
}

static float *randf(int64_t n, unsigned seed)
{
    float *p = aligned_alloc(64, ((size_t)n * sizeof *p + 63) / 64 * 64);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / (float)(1 << 24) * 2.0f - 1.0f;
    }
    return p;
}

static void report(const char *what, const job *j, timing t, timing floor_t)
{
    const double bytes = (double)(j->nx + j->ny) * sizeof(float);
    printf("  %-8s %8.3f ms %6.2f GB/s %6.2fx floor | fastest %8.3f ms %6.2f GB/s %6.2fx\n", what,
           t.median * 1e3, bytes / t.median * 1e-9, t.median / floor_t.median, t.best * 1e3,
           bytes / t.best * 1e-9, t.best / floor_t.best);
}

int main(int argc, char **argv)
{
    const int iters = argc > 1 ? atoi(argv[1]) : 31;
    if (iters < 1) return 2;
    for (size_t li = 0; li < sizeof layers / sizeof layers[0]; li++) {
        job j = {.l = &layers[li]};
        const layer *l = j.l;
        char name[64];
        snprintf(name, sizeof name, "%lldx%lldx%lld k%lld s%lld", (long long)l->c, (long long)l->h,
                 (long long)l->w, (long long)l->k, (long long)l->s);
        if (argc > 2 && !strstr(name, argv[2])) continue;
        j.oh = (l->h - 1) / l->s + 1, j.ow = (l->w - 1) / l->s + 1;
        j.nx = l->c * l->h * l->w, j.ny = l->c * j.oh * j.ow;
        j.x = randf(j.nx, 1), j.w = randf(l->c * l->k * l->k, 2), j.b = randf(l->c, 3);
        j.y = randf(j.ny, 4);
        printf("%s (X %.1f MB, Y %.1f MB)\n", name, (double)j.nx * 4e-6, (double)j.ny * 4e-6);
        const timing floor_t = time_it(run_floor, &j, iters);
        report("floor", &j, floor_t, floor_t);
        j.s = conv_session(&j);
        report("conv", &j, time_it(run_conv, &j, iters), floor_t);
#ifdef HAVE_DWCONV
        const onn_dwconv_shape sh = {.h = l->h,
                                     .w = l->w,
                                     .oh = j.oh,
                                     .ow = j.ow,
                                     .kh = l->k,
                                     .kw = l->k,
                                     .sh = l->s,
                                     .sw = l->s,
                                     .dh = 1,
                                     .dw = 1,
                                     .pad_top = l->k / 2,
                                     .pad_left = l->k / 2};
        for (int v = 0; v < ONN_ISA_COUNT; v++) {
            if (!onn_dwconv_plan_init(&j.plan, &sh, (onn_isa)v)) continue;
            j.scratch = aligned_alloc(64, j.plan.scratch_bytes + 64);
            report(onn_isa_name((onn_isa)v), &j, time_it(run_planes, &j, iters), floor_t);
            free(j.scratch);
        }
#endif
        onnorm_session_free(j.s);
        free(j.x), free(j.w), free(j.b), free(j.y);
    }
    return 0;
}
