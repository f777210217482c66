/*
 * What bench/conv_ab.c and bench/dwconv_ab.c share: a monotonic clock,
 * 64-byte aligned buffers (exit on failure: they are tools, not library
 * code) and a comparator for qsort of doubles. Define _POSIX_C_SOURCE
 * 200809L before including.
 */
#ifndef ONN_BENCH_AB_UTIL_H
#define ONN_BENCH_AB_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double ab_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline void *ab_alloc64(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64)) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static inline int ab_cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
