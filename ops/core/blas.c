/* The BLAS wrapper (see blas.h). */
#include "ops/core/blas.h"
#include "ops/core/threadpool.h"

#include <cblas.h>
#include <limits.h>
#include <omp.h>

onnorm_status onn_check_f32(onn_kctx *ctx, int i, const char *what)
{
    const onnorm_tensor *t = i < ctx->n_in ? ctx->in[i] : NULL;
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "required input '%s' is missing", what);
    if (t->dtype != ONNORM_FLOAT)
        return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input '%s' has type %s; supported: float32", what,
                         onnorm_dtype_name(t->dtype));
    return ONNORM_OK;
}

bool onn_blas_fits(int64_t v)
{
    return v >= 0 && v <= INT_MAX;
}

/* C = beta * C for an empty inner dimension, where BLAS is not asked. */
static void scale_rows(int64_t m, int64_t n, float beta, float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

/* Columns [j0, j1) of C's one row, one thread's sgemv: the threads split B
 * (read once, at memory speed) instead of waking BLAS's own team. */
typedef struct gemv_job {
    bool trans_b;
    int k;
    float alpha;
    const float *a;
    int inc_a;
    const float *b;
    int ldb;
    float beta;
    float *c;
} gemv_job;

static void gemv_columns(void *arg, int64_t j0, int64_t j1, int worker)
{
    (void)worker;
    const gemv_job *j = arg;
    /* BLAS alone on whichever thread runs this part (the caller has set
     * it, and restores its own setting after the loop). */
    omp_set_num_threads(1);
    const int w = (int)(j1 - j0);
    if (j->trans_b)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, w, j->k, j->alpha, j->b + j0 * j->ldb, j->ldb,
                    j->a, j->inc_a, j->beta, j->c + j0, 1);
    else
        cblas_sgemv(CblasRowMajor, CblasTrans, j->k, w, j->alpha, j->b + j0, j->ldb, j->a, j->inc_a,
                    j->beta, j->c + j0, 1);
}

/* m * n * k below which a product runs on one thread (about 50 us of work). */
#define ONN_SGEMM_SERIAL_FLOPS (1 << 21)

bool onn_sgemm(int threads, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
               float alpha, const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
               float *c, int64_t ldc)
{
    if (!onn_blas_fits(m) || !onn_blas_fits(n) || !onn_blas_fits(k) || !onn_blas_fits(lda) ||
        !onn_blas_fits(ldb) || !onn_blas_fits(ldc))
        return false;
    if (m == 0 || n == 0) return true;
    if (k == 0) {
        scale_rows(m, n, beta, c, ldc);
        return true;
    }
    /* BLAS insists on leading dimensions >= 1 even where nothing is read. */
    const int ia = (int)(lda ? lda : 1), ib = (int)(ldb ? ldb : 1), ic = (int)(ldc ? ldc : 1);
    /* A product this small finishes before a second thread would have
     * started: on the little convolutions of exported networks, two threads
     * made whole models slower than one. */
    if ((double)m * (double)n * (double)k < ONN_SGEMM_SERIAL_FLOPS) threads = 1;
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads > 0 ? threads : 1);
    if (m == 1) {
        /* One row of C (a classifier's fully connected layer at batch 1): a
         * matrix-vector product, which reads B once at memory speed where
         * sgemm's packing of B cost twice that. C's row is op(B)^T a. */
        gemv_job j = {trans_b, (int)k, alpha, a, trans_a ? ia : 1, b, ib, beta, c};
        omp_set_num_threads(1);
        onn_parallel_range(threads > 1 ? threads : 1, n, gemv_columns, &j);
        omp_set_num_threads(saved);
        return true;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a, ia, b, ib,
                beta, c, ic);
    omp_set_num_threads(saved);
    return true;
}
