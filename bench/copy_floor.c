/*
 * The copy floor for a memory-bound operator: the time to read N bytes once
 * and write N bytes once. Three ways are timed with T OpenMP threads, and
 * the fastest median is the floor: memcpy of per-thread chunks, a
 * read-once write-once float loop into a second buffer (y = x * a + b,
 * which the compiler vectorizes), and the same loop in place (x = x * a + b),
 * which is what a kernel running in place competes with. Prints one JSON
 * line.
 *   copy_floor BYTES THREADS [ITERS]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under strict C11 (clang, glibc) */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: copy_floor BYTES THREADS [ITERS]\n");
        return 2;
    }
    size_t bytes = strtoull(argv[1], NULL, 10);
    int threads = atoi(argv[2]), iters = argc > 3 ? atoi(argv[3]) : 30;
    if (threads < 1) threads = 1;
    if (iters < 1) iters = 1;
    size_t n = bytes / sizeof(float);
    float *x = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    float *y = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    double *t = malloc((size_t)iters * sizeof *t);
    if (!x || !y || !t) return 1;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(i % 1000), y[i] = 0; /* first touch per thread */
    for (int r = 0; r < iters + 1; r++) {
        double t0 = now_ms();
#pragma omp parallel num_threads(threads)
        {
            int id = omp_get_thread_num(), nt = omp_get_num_threads();
            size_t lo = n * (size_t)id / (size_t)nt, hi = n * (size_t)(id + 1) / (size_t)nt;
            memcpy(y + lo, x + lo, (hi - lo) * sizeof(float));
        }
        if (r) t[r - 1] = now_ms() - t0; /* the first pass warms up */
    }
    double t_memcpy = median(t, iters);
    const float a = 1.0009765625f, b = 0.5f;
    for (int r = 0; r < iters + 1; r++) {
        double t0 = now_ms();
#pragma omp parallel for simd num_threads(threads) schedule(static)
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] * a + b;
        if (r) t[r - 1] = now_ms() - t0;
    }
    double t_loop = median(t, iters);
    const float a2 = 0.9990234375f, b2 = -0.5f; /* keeps x bounded across passes */
    for (int r = 0; r < iters + 1; r++) {
        double t0 = now_ms();
#pragma omp parallel for simd num_threads(threads) schedule(static)
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] * ((r & 1) ? a2 : a) + ((r & 1) ? b2 : b);
        if (r) t[r - 1] = now_ms() - t0;
    }
    double t_inplace = median(t, iters);
    double floor_ms = t_memcpy < t_loop ? t_memcpy : t_loop;
    if (t_inplace < floor_ms) floor_ms = t_inplace;
    printf("{\"bytes\": %zu, \"threads\": %d, \"memcpy_ms\": %.6f, \"loop_ms\": %.6f, "
           "\"inplace_ms\": %.6f, \"floor_ms\": %.6f, \"check\": %g}\n",
           bytes, threads, t_memcpy, t_loop, t_inplace, floor_ms,
           (double)y[n / 2] + (double)x[n / 3]);
    free(x);
    free(y);
    free(t);
    return 0;
}
