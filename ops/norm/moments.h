/*
 * The numeric core shared by every normalization kernel: slice statistics
 * and the affine step that applies them.
 *
 * Statistics use shifted sums: every element is reduced as d = x - shift,
 * where shift is the slice's first element, and sum(d), sum(d*d) are kept
 * in double (or, for float32 data whose statistics only feed float32
 * results, in float within blocks of 1024 and in double across blocks; see
 * moments.c). Shifting removes a large common offset before it can cancel
 * catastrophically (inputs whose mean is 1e4 times their spread stay
 * exact), and one pass reads the slice once. A constant slice gives
 * exactly mean = x and var = 0.
 *
 * Kernels are written once against these typed-by-tag primitives; only the
 * inner loops are stamped out per element type and per instruction set.
 * The loops come in one table per instruction set (onn_moments), compiled
 * from one template (moments_loops.h): a kernel's prepare picks the table
 * for the CPU once, and the tests run every table the CPU can execute.
 */
#ifndef ONN_MOMENTS_H
#define ONN_MOMENTS_H

#include "onnorm.h"
#include "ops/isa.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct onn_acc {
    double shift; /* first element seen */
    double s1;    /* sum(x - shift) */
    double s2;    /* sum((x - shift)^2) */
    int64_t n;
} onn_acc;

static inline void onn_acc_init(onn_acc *a)
{
    a->shift = 0.0;
    a->s1 = a->s2 = 0.0;
    a->n = 0;
}

/* Population mean and variance of everything added (0, 0 when empty). */
static inline void onn_acc_result(const onn_acc *a, double *mean, double *var)
{
    if (a->n == 0) {
        *mean = 0.0;
        *var = 0.0;
        return;
    }
    double m = a->s1 / (double)a->n;
    double v = a->s2 / (double)a->n - m * m;
    *mean = a->shift + m;
    *var = v > 0.0 ? v : 0.0;
}

/* The statistics and affine loops of one instruction set. */
typedef struct onn_moments {
    onn_isa isa;
    /* Adds n contiguous elements starting at element `off` of x. With `fast`
     * and float32 data, sums in float within blocks (statistics that only
     * feed float32 or narrower results); else in double. */
    void (*acc_add)(onnorm_dtype t, const void *x, int64_t off, int64_t n, onn_acc *a, bool fast);
    /* Sum of squares (RMS needs the raw second moment), and sum of absolute
     * values (L1 norms), of n contiguous elements from `off`; `fast` as for
     * acc_add. */
    double (*sum_squares)(onnorm_dtype t, const void *x, int64_t off, int64_t n, bool fast);
    double (*sum_abs)(onnorm_dtype t, const void *x, int64_t off, int64_t n);
    /* y[i] = (x[i] - mean) * scale + bias for i in [off, off + n). With
     * stream > 0, float32 output uses streaming stores where the variant has
     * them, and the input `stream` elements ahead (the next slice) is
     * prefetched. */
    void (*affine)(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n, double mean,
                   double scale, double bias, int64_t stream);
    /* y[i] = (x[i] - mean) * inv * gamma[i] + beta[i] for i in [0, n), where x
     * and y point at row `off` and gamma/beta (beta may be NULL) hold n
     * elements. */
    void (*affine_vec)(onnorm_dtype t, const void *x, void *y, int64_t off, int64_t n, double mean,
                       double inv, const void *gamma, const void *beta, int64_t stream);
} onn_moments;

/* The table of one variant, or NULL when not supported here. */
const onn_moments *onn_moments_get(onn_isa isa);

/* Outputs larger than this are written with non-temporal (streaming) stores:
 * they will not stay in cache anyway, and streaming saves the read that a
 * normal store of an uncached line costs. Smaller outputs stay in cache for
 * the next node. */
#define ONN_STREAM_MIN_BYTES ((size_t)32 << 20)

static inline bool onn_stream_output(const onnorm_tensor *y)
{
    int64_t n = onnorm_tensor_numel(y);
    return n > 0 && (size_t)n * onnorm_dtype_size(y->dtype) > ONN_STREAM_MIN_BYTES;
}

/* Reads / writes element i of a float or double buffer as double. */
double onn_load(onnorm_dtype t, const void *p, int64_t i);
void onn_store(onnorm_dtype t, void *p, int64_t i, double v);

#endif
