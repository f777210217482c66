/*
 * A one-node float32 test harness (Conv, Gemm, MatMul tests): inputs are
 * initializers or bound at run, the output is "Y", and results are checked
 * against a float64 reference within |got - ref| <= tol * (1 + |ref|).
 */
#ifndef ONNORM_TEST_F32RUN_H
#define ONNORM_TEST_F32RUN_H

#include "builder.h"

typedef struct fr_harness {
    tb_model *b;
    int n_feeds;
    const char *names[4];
    int ranks[4];
    int64_t dims[4][8];
    const void *data[4];
    onnorm_model *m;
    onnorm_session *s;
    onnorm_error e;
} fr_harness;

void fr_init(fr_harness *h, int opset);
/* A float32 input: an initializer when `constant`, else bound at run. */
void fr_input(fr_harness *h, const char *name, int rank, const int64_t *dims, const float *data,
              int constant);
/* Loads, creates a session with `threads`, binds and runs; frees the builder. */
onnorm_status fr_run(fr_harness *h, int threads);
void fr_free(fr_harness *h);
/* Asserts output Y's shape and that it matches ref within tol. */
void fr_expect(fr_harness *h, int rank, const int64_t *dims, const double *ref, double tol);
/* Runs, expects status `code` with `needle` in the message, frees. */
void fr_expect_fail(fr_harness *h, int threads, onnorm_status code, const char *needle);

#endif
