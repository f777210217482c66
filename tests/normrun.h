/*
 * The harness shared by the kernel tests: build a model with
 * builder.h, run it with one input "X", read outputs with their dtype and
 * shape asserted, and compare against the float64 reference (refnorm.c)
 * within |got - ref| <= tol * (1 + |ref|).
 */
#ifndef ONNORM_TEST_NORMRUN_H
#define ONNORM_TEST_NORMRUN_H

#include "builder.h"

/* The brief's bounds were 1e-5 (float32) and 1e-12 (float64); the kernels
 * stay below 2e-7 and 3e-15, so both are tightened with a 10x margin. */
#define NR_TOL32 2e-6
#define NR_TOL64 1e-13

typedef struct nr_run {
    onnorm_model *m;
    onnorm_session *s;
    onnorm_error e;
    int stage; /* where it stopped: 0 load, 1 create, 2 bind, 3 run, 4 done */
} nr_run;

/* Loads b (and frees it), creates a session with `threads` threads
 * (0 = default), binds x as input "X" (unless x is NULL: a model without
 * inputs) and runs. Returns the first failure. */
onnorm_status nr_run_model(nr_run *r, tb_model *b, int threads, onnorm_dtype dt, int rank,
                           const int64_t *dims, const void *x);
void nr_run_free(nr_run *r);
/* Output `name` after a run; asserts its dtype and shape. */
const void *nr_output(nr_run *r, const char *name, onnorm_dtype dt, int rank, const int64_t *dims);
/* tol_override 0: NR_TOL32 / NR_TOL64 by the element type of got. */
void nr_expect_close_tol(const char *label, const char *what, const void *got, onnorm_dtype dt,
                         const double *ref, int64_t n, double tol_override);
void nr_expect_close(const char *label, const char *what, const void *got, onnorm_dtype dt,
                     const double *ref, int64_t n);
/* Prints the largest errors the default-tolerance comparisons saw, when
 * ONNORM_TEST_VERBOSE is set. */
void nr_report_worst(void);
/* A float32 or float64 copy of d (malloc'ed). */
void *nr_pack(onnorm_dtype dt, const double *d, int64_t n);
double *nr_dalloc(int64_t n);

#endif
